/*
 * cli/up: `axon up`, the supervisor of the local stack, and `axon demo`
 * (see up.h).
 */
#include "cli/up.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/client.h"

#define MAX_PROCS (CLI_MAX_URLS + 6)
#define MAX_ARGS 8
#define READY_S 30
#define STOP_S 20
#define BACKOFF_MAX_S 30
#define STABLE_S 60

/*
 * The stop order: the alerting path first (ruler, then alert router), so
 * that a fleet going away (targets down, services deregistering and
 * taking their dependency edges with them) pages nobody; then the demo,
 * the scrapers, the tsdb and the discoverer they all report to.
 */
enum {
	RANK_RULER,
	RANK_ALERT_ROUTER,
	RANK_DEMO,
	RANK_SCRAPER,
	RANK_TSDB,
	RANK_DISCOVERER,
	STOP_RANKS = RANK_DISCOVERER
};

typedef struct proc {
	char name[40];      /* "axon-scraper-2" */
	char log[PATH_MAX]; /* data/logs/<short>.log */
	char url[256];      /* readiness: <url>/-/ready */
	char *argv[MAX_ARGS + 1];
	int keep_stdout; /* the demo prints pages */
	int stop_rank;   /* stopped in increasing rank */
	pid_t pid;       /* 0: not running */
	double started, next_start, backoff;
	unsigned restarts;
} proc_t;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int usage(const char *text)
{
	fprintf(stderr, "usage: axon %s\n", text);
	return 2;
}

/* "http://host:port/..." -> "host:port"; -1 unless plain http. */
static int listen_of(const char *url, char *out, size_t cap)
{
	const char *p;
	size_t n;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	p = url + 7;
	n = strcspn(p, "/");
	if (n == 0 || n >= cap || memchr(p, ':', n) == NULL)
		return -1;
	memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

static void proc_free(proc_t *p)
{
	int i;

	for (i = 0; p->argv[i]; i++)
		free(p->argv[i]);
	memset(p->argv, 0, sizeof(p->argv));
}

/* What axon up runs, in start order.  The scraper runs once per scraper
 * URL, as replica i with --sender-id=scraper-<i>. */
typedef struct unit {
	cli_daemon_t d;
	const char *bin;    /* in the axon binary's directory */
	const char *config; /* in --config.dir */
	const char *flag;   /* one more flag, or NULL */
	int stop_rank;
} unit_t;

static const unit_t g_units[] = {
    {CLI_DISCOVERER, "axon-discoverer", "discoverer.yml",
        "--storage.path=data/discoverer", RANK_DISCOVERER},
    {CLI_TSDB, "axon-tsdb", "tsdb.yml", "--storage.tsdb.path=data/tsdb",
        RANK_TSDB},
    {CLI_ALERT_ROUTER, "axon-alert-router", "alert-router.yml",
        "--storage.path=data/alert-router", RANK_ALERT_ROUTER},
    {CLI_SCRAPER, "axon-scraper", "scraper.yml", NULL, RANK_SCRAPER},
    {CLI_RULER, "axon-ruler", "ruler.yml", NULL, RANK_RULER},
    {CLI_DEMO, "axon-demo", "demo.yml", NULL, RANK_DEMO},
};
#define N_UNITS (sizeof(g_units) / sizeof(g_units[0]))

/* Fill p to run unit u listening at url (replica > 0: the replica-th of
 * several).  0; 2 for a URL that is not http://host:port; 1 out of
 * memory (both said on stderr). */
static int proc_set(proc_t *p, const unit_t *u, const char *url, size_t replica,
    const char *bindir, const char *cdir)
{
	const char *shortname = u->bin + strlen("axon-");
	char hp[256], a[2 * PATH_MAX];
	int n = 0, ok;

	memset(p, 0, sizeof(*p));
	if (listen_of(url, hp, sizeof(hp)) != 0) {
		fprintf(stderr, "axon up: %s: want http://host:port for %s\n",
		    url, u->bin);
		return 2;
	}
	if (replica) {
		snprintf(p->name, sizeof(p->name), "%s-%zu", u->bin, replica);
		snprintf(p->log, sizeof(p->log), "data/logs/%s-%zu.log",
		    shortname, replica);
	} else {
		snprintf(p->name, sizeof(p->name), "%s", u->bin);
		snprintf(p->log, sizeof(p->log), "data/logs/%s.log", shortname);
	}
	snprintf(p->url, sizeof(p->url), "%s", url);
	p->backoff = 1;
	p->stop_rank = u->stop_rank;
	p->keep_stdout = u->d == CLI_DEMO;
#define ARG(...)                                                               \
	(snprintf(a, sizeof(a), __VA_ARGS__),                                  \
	    (p->argv[n++] = strdup(a)) != NULL)
	ok = ARG("%s/%s", bindir, u->bin) &&
	    ARG("--config.file=%s/%s", cdir, u->config) &&
	    ARG("--web.listen-address=%s", hp) &&
	    (u->flag == NULL || ARG("%s", u->flag)) &&
	    (replica == 0 || ARG("--sender-id=scraper-%zu", replica));
#undef ARG
	if (!ok) {
		fprintf(stderr, "axon up: out of memory\n");
		return 1;
	}
	return 0;
}

static int spawn(proc_t *p)
{
	pid_t parent = getpid(), pid;
	int fd;

	if ((fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	         0644)) < 0) {
		fprintf(stderr, "axon up: %s: %s\n", p->log, strerror(errno));
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		fprintf(stderr, "axon up: fork: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		setpgid(0, 0); /* Ctrl-C is for axon up, which stops us */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (!p->keep_stdout)
			dup2(fd, 1);
		dup2(fd, 2);
		execv(p->argv[0], p->argv);
		fprintf(stderr, "axon up: exec %s: %s\n", p->argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(fd);
	p->pid = pid;
	p->started = now_s();
	return 0;
}

static void describe_exit(int st, char *buf, size_t n)
{
	if (WIFEXITED(st))
		snprintf(buf, n, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, n, "status %d", st);
}

static void tail_log(const proc_t *p)
{
	char line[1024], ring[12][1024];
	size_t n = 0, i;
	FILE *f = fopen(p->log, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f))
		snprintf(ring[n++ % 12], sizeof(ring[0]), "%s", line);
	fclose(f);
	fprintf(stderr, "--- last lines of %s:\n", p->log);
	for (i = n > 12 ? n - 12 : 0; i < n; i++)
		fputs(ring[i % 12], stderr);
}

static size_t discard(char *d, size_t sz, size_t n, void *arg)
{
	(void)d;
	(void)arg;
	return sz * n;
}

static int ready(const proc_t *p)
{
	CURL *c = curl_easy_init();
	char url[300];
	long st = 0;

	if (c == NULL)
		return 0;
	snprintf(url, sizeof(url), "%s/-/ready", p->url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(c);
	return st == 200;
}

/* Wait for p's /-/ready; -1 when it exits or READY_S pass. */
static int wait_ready(proc_t *p)
{
	double until = now_s() + READY_S;
	char why[64];
	int st;

	while (!g_stop && now_s() < until) {
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			describe_exit(st, why, sizeof(why));
			fprintf(stderr,
			    "axon up: %s exited while starting (%s)\n", p->name,
			    why);
			p->pid = 0;
			tail_log(p);
			return -1;
		}
		if (ready(p))
			return 0;
		nap(100);
	}
	if (!g_stop) {
		fprintf(stderr, "axon up: %s not ready after %d s at %s\n",
		    p->name, READY_S, p->url);
		tail_log(p);
	}
	return -1;
}

/* SIGTERM, then SIGKILL after STOP_S; reaps p. */
static void stop_proc(proc_t *p)
{
	double until;
	int st;

	if (p->pid <= 0)
		return;
	kill(p->pid, SIGTERM);
	until = now_s() + STOP_S;
	while (now_s() < until) {
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->pid = 0;
			printf("axon up: stopped %s\n", p->name);
			return;
		}
		nap(50);
	}
	fprintf(stderr, "axon up: %s did not stop in %d s; killing it\n",
	    p->name, STOP_S);
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &st, 0);
	p->pid = 0;
}

/* Restart what exited, with backoff; returns when g_stop is set. */
static void supervise(proc_t *ps, size_t n)
{
	while (!g_stop) {
		double now = now_s();
		size_t i;
		int st;
		pid_t pid;

		while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
			for (i = 0; i < n; i++) {
				char why[64];

				if (ps[i].pid != pid)
					continue;
				ps[i].pid = 0;
				if (now - ps[i].started >= STABLE_S)
					ps[i].backoff = 1;
				ps[i].next_start = now + ps[i].backoff;
				describe_exit(st, why, sizeof(why));
				fprintf(stderr,
				    "axon up: %s exited (%s); restarting in "
				    "%.0f s (log: %s)\n",
				    ps[i].name, why, ps[i].backoff, ps[i].log);
				ps[i].backoff =
				    ps[i].backoff * 2 > BACKOFF_MAX_S
				    ? BACKOFF_MAX_S
				    : ps[i].backoff * 2;
			}
		for (i = 0; i < n && !g_stop; i++)
			if (ps[i].pid == 0 && now >= ps[i].next_start) {
				if (spawn(&ps[i]) == 0) {
					ps[i].restarts++;
					fprintf(stderr,
					    "axon up: restarted %s (pid %d, "
					    "restart %u)\n",
					    ps[i].name, (int)ps[i].pid,
					    ps[i].restarts);
				} else {
					ps[i].next_start = now + ps[i].backoff;
				}
			}
		nap(200);
	}
}

/* Is something already listening on host:port (another stack)? */
static int port_taken(const char *hostport)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints, *res = NULL;
	int fd, taken = 0;

	if (colon == NULL || (size_t)(colon - hostport) >= sizeof(host))
		return 0;
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return 0;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0)
		taken = 1;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return taken;
}

static int file_exists(const char *dir, const char *name)
{
	char p[PATH_MAX + 64];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

int cli_up(int argc, char **argv)
{
	static proc_t ps[MAX_PROCS];
	cli_t c;
	ax_err_t err = {0};
	const char *cdir = "deploy/config";
	char exe[PATH_MAX], bindir[PATH_MAX];
	size_t n = 0, i, k;
	int demo = 1, rv = 0, a;
	ssize_t len;
	struct sigaction sa;

	if (cli_init(&c, &argc, argv, &err) != 0)
		return cli_fail("up", &err);
	for (a = 1; a < argc; a++) {
		if (strncmp(argv[a], "--config.dir=", 13) == 0)
			cdir = argv[a] + 13;
		else if (strcmp(argv[a], "--no-demo") == 0)
			demo = 0;
		else {
			cli_fini(&c);
			return usage("up [--config.dir=DIR] [--no-demo] "
			             "[--tsdb.url=URL ...]");
		}
	}
	for (k = 0; k < N_UNITS; k++)
		if ((demo || g_units[k].d != CLI_DEMO) &&
		    !file_exists(cdir, g_units[k].config)) {
			fprintf(stderr,
			    "axon up: %s/%s not found: run from the Axon "
			    "checkout or pass --config.dir\n",
			    cdir, g_units[k].config);
			cli_fini(&c);
			return 1;
		}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0) {
		fprintf(stderr, "axon up: cannot find my own binary\n");
		cli_fini(&c);
		return 1;
	}
	exe[len] = 0;
	snprintf(bindir, sizeof(bindir), "%s", exe);
	*strrchr(bindir, '/') = 0;
	if (mkdir("data", 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "axon up: data: %s\n", strerror(errno));
		cli_fini(&c);
		return 1;
	}
	mkdir("data/logs", 0755);

	for (k = 0; k < N_UNITS && rv == 0; k++) {
		const unit_t *u = &g_units[k];
		int scraper = u->d == CLI_SCRAPER;

		if (u->d == CLI_DEMO && !demo)
			continue;
		for (i = 0; i < (scraper ? c.n_urls[u->d] : 1) && rv == 0; i++)
			rv = proc_set(&ps[n++], u, c.urls[u->d][i],
			    scraper ? i + 1 : 0, bindir, cdir);
	}
	if (rv != 0)
		goto out;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	for (i = 0; i < n; i++) {
		char lhp[256];

		if (listen_of(ps[i].url, lhp, sizeof(lhp)) == 0 &&
		    port_taken(lhp)) {
			fprintf(stderr,
			    "axon up: %s is already in use (for %s): is a "
			    "stack already running?  Stop it, or give other "
			    "URLs (--tsdb.url=..., docs/demo.md)\n",
			    lhp, ps[i].name);
			rv = 1;
			goto out;
		}
	}
	printf("axon up: starting the local stack from %s (data and logs "
	       "under ./data)\n",
	    cdir);
	for (i = 0; i < n && !g_stop; i++) {
		if (spawn(&ps[i]) != 0 || wait_ready(&ps[i]) != 0) {
			rv = 1;
			break;
		}
		printf("  %-20s %-26s pid %-7d log %s\n", ps[i].name, ps[i].url,
		    (int)ps[i].pid, ps[i].log);
		fflush(stdout);
	}
	if (rv == 0 && !g_stop) {
		/* relative to here when below (build/bin/axon under make
		 * run), so the lines can be pasted */
		char cwd[PATH_MAX];
		const char *me = exe;
		size_t cl;

		if (getcwd(cwd, sizeof(cwd)) && (cl = strlen(cwd)) > 0 &&
		    strncmp(exe, cwd, cl) == 0 && exe[cl] == '/')
			me = exe + cl + 1;

		printf("\nThe stack is up.  Try:\n"
		       "  %s status\n"
		       "  %s targets\n"
		       "  %s query 'sum by (service) "
		       "(rate(http_requests_total[1m]))'\n",
		    me, me, me);
		if (demo)
			printf("  %s demo break auth      (one page names "
			       "the root cause, printed here and in "
			       "data/pages.jsonl)\n"
			       "  %s alerts\n"
			       "  %s demo heal auth\n",
			    me, me, me);
		printf("Ctrl-C stops the stack.\n\n");
		fflush(stdout);
		supervise(ps, n);
	}
	if (g_stop)
		printf("\naxon up: stopping\n");
	{
		int rank;

		for (rank = 0; rank <= STOP_RANKS; rank++)
			for (i = 0; i < n; i++)
				if (ps[i].stop_rank == rank)
					stop_proc(&ps[i]);
	}
	if (g_stop && rv == 0)
		printf("axon up: stopped\n");
out:
	for (i = 0; i < n; i++)
		proc_free(&ps[i]);
	cli_fini(&c);
	return rv;
}

/* ---- axon demo ---- */

static void join_names(const cJSON *arr, ax_buf_t *b)
{
	const cJSON *el;

	cJSON_ArrayForEach(el, arr)
	{
		if (b->len)
			ax_buf_puts(b, ", ");
		ax_buf_puts(b, cJSON_IsString(el) ? el->valuestring : "?");
	}
}

/* The services that depend on name, directly or not, into b. */
static void dependents(
    const cJSON *svcs, const char *name, ax_buf_t *b, size_t *count)
{
	size_t n = (size_t)cJSON_GetArraySize(svcs), i, head = 0, tail = 0;
	const char **queue = calloc(n + 1, sizeof(char *));
	const cJSON *el;

	*count = 0;
	if (queue == NULL)
		return;
	queue[tail++] = name;
	while (head < tail) {
		const char *cur = queue[head++];
		const cJSON *s = NULL, *d;

		cJSON_ArrayForEach(el,
		    svcs) if (strcmp(cli_jstr(el, "name"), cur) == 0) s = el;
		cJSON_ArrayForEach(
		    d, cJSON_GetObjectItemCaseSensitive(s, "dependents"))
		{
			const char *dn =
			    cJSON_IsString(d) ? d->valuestring : "";

			for (i = 0; i < tail; i++)
				if (strcmp(queue[i], dn) == 0)
					break;
			if (i == tail && tail < n + 1 && *dn) {
				queue[tail++] = dn;
				if (b->len)
					ax_buf_puts(b, ", ");
				ax_buf_puts(b, dn);
				(*count)++;
			}
		}
	}
	free(queue);
}

int cli_demo(int argc, char **argv)
{
	cli_t c;
	ax_err_t err = {0};
	cJSON *ans = NULL;
	long st;
	int rv = 0;

	if (cli_init(&c, &argc, argv, &err) != 0)
		return cli_fail("demo", &err);
	if (argc == 2 && strcmp(argv[1], "ls") == 0) {
		cli_table_t t;
		const cJSON *el;

		if (cli_call(&c, CLI_DEMO, 0, "GET", "/api/v1/services", NULL,
		        NULL, &ans, &st, &err) != 0) {
			cli_fini(&c);
			return cli_fail("demo", &err);
		}
		if (c.json) {
			cli_print_json(
			    cJSON_GetObjectItemCaseSensitive(ans, "data"));
		} else {
			cli_table_init(&t, 5);
			cli_table_row(&t,
			    (const char *[]){"SERVICE", "PORT", "STATE",
			        "ERRORS", "DEPENDS ON"});
			cJSON_ArrayForEach(
			    el, cJSON_GetObjectItemCaseSensitive(ans, "data"))
			{
				char port[16], errs[32];
				ax_buf_t deps = AX_BUF_INIT;
				const cJSON *p =
				    cJSON_GetObjectItemCaseSensitive(
				        el, "port");
				const cJSON *e =
				    cJSON_GetObjectItemCaseSensitive(
				        el, "errorRatio");

				snprintf(port, sizeof(port), "%d",
				    cJSON_IsNumber(p) ? p->valueint : 0);
				snprintf(errs, sizeof(errs), "%.2f%%",
				    cJSON_IsNumber(e) ? e->valuedouble * 100
				                      : 0);
				join_names(cJSON_GetObjectItemCaseSensitive(
				               el, "dependsOn"),
				    &deps);
				ax_buf_putc(&deps, 0);
				cli_table_row(&t,
				    (const char *[]){cli_jstr(el, "name"), port,
				        cli_jstr(el, "state"), errs,
				        deps.p ? deps.p : ""});
				ax_buf_fini(&deps);
			}
			cli_table_print(&t, stdout);
			cli_table_fini(&t);
		}
	} else if (argc == 3 &&
	    (strcmp(argv[1], "break") == 0 || strcmp(argv[1], "heal") == 0)) {
		ax_buf_t path = AX_BUF_INIT, deps = AX_BUF_INIT;
		cJSON *list = NULL;
		size_t nd = 0;

		ax_buf_puts(&path, "/api/v1/services/");
		cli_urlencode(&path, argv[2]);
		ax_buf_printf(&path, "/%s", argv[1]);
		ax_buf_putc(&path, 0);
		if (!ax_buf_ok(&path))
			rv = ax_err_set(&err, AX_ENOMEM, "out of memory");
		else
			rv = cli_call(&c, CLI_DEMO, 0, "POST", path.p, "",
			    "application/x-www-form-urlencoded", &ans, &st,
			    &err);
		ax_buf_fini(&path);
		if (rv != 0) {
			cli_fini(&c);
			return cli_fail("demo", &err);
		}
		if (c.json) {
			cli_print_json(
			    cJSON_GetObjectItemCaseSensitive(ans, "data"));
		} else if (strcmp(argv[1], "break") == 0) {
			if (cli_call(&c, CLI_DEMO, 0, "GET", "/api/v1/services",
			        NULL, NULL, &list, &st, &err) == 0)
				dependents(cJSON_GetObjectItemCaseSensitive(
				               list, "data"),
				    argv[2], &deps, &nd);
			ax_buf_putc(&deps, 0);
			printf("%s is down.", argv[2]);
			if (nd)
				printf("  %zu services depend on it: %s.", nd,
				    deps.p);
			printf("\nExpect one page naming %s as the root cause "
			       "(axon alerts shows the rest inhibited).\n",
			    argv[2]);
			cJSON_Delete(list);
			ax_buf_fini(&deps);
		} else {
			printf("%s is back up.\n", argv[2]);
		}
	} else {
		cli_fini(&c);
		return usage("demo ls | demo break SERVICE | demo heal SERVICE "
		             "[-o json] [--demo.url=URL]");
	}
	cJSON_Delete(ans);
	cli_fini(&c);
	return rv;
}
