/*
 * tmpl: `axon template render`, Alertmanager's notification templates
 * offline, as amtool's `template render` (same flags, same output).
 *
 *   axon template render --template.glob=GLOB... --template.text=TEXT
 *       [--template.data=FILE]
 *
 * The data file is Alertmanager's template.Data as JSON (a webhook body);
 * without one, a built-in example is used.
 */
#include "cli/tmpl.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert-router/tmpl.h"

/* The example data when no file is given: two alerts, one group label. */
static const char example_data[] =
    "{\"receiver\":\"receiver\",\"status\":\"firing\",\"alerts\":["
    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"Example\","
    "\"instance\":\"foo.bar:1234\",\"severity\":\"critical\"},"
    "\"annotations\":{\"summary\":\"An example alert\"},"
    "\"startsAt\":\"2026-01-01T00:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
    "\"generatorURL\":\"https://generatorurl.com\",\"fingerprint\":"
    "\"fingerprint1\"},{\"status\":\"resolved\",\"labels\":{\"alertname\":"
    "\"Example\",\"instance\":\"foo.bar:5678\",\"severity\":\"critical\"},"
    "\"annotations\":{},\"startsAt\":\"2026-01-01T00:00:00Z\","
    "\"endsAt\":\"2026-01-01T00:05:00Z\",\"generatorURL\":"
    "\"https://generatorurl.com\",\"fingerprint\":\"fingerprint2\"}],"
    "\"groupLabels\":{\"alertname\":\"Example\"},\"commonLabels\":"
    "{\"alertname\":\"Example\",\"severity\":\"critical\"},"
    "\"commonAnnotations\":{},\"externalURL\":\"https://example.com\"}";

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			char *nb = realloc(buf, cap = n + 65536 + 1);

			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, 65536, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int render(int argc, char **argv)
{
	const char *text = NULL, *data_file = NULL;
	const char **globs = calloc((size_t)argc + 1, sizeof(char *));
	size_t nglobs = 0;
	ax_tmpl_t *t = NULL;
	ax_arena_t *a = NULL;
	ax_tval_t *data = NULL;
	ax_buf_t out = AX_BUF_INIT;
	ax_err_t err = {0};
	cJSON *j = NULL;
	char *raw = NULL;
	int i, rv = 1;

	if (globs == NULL)
		return 1;
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (strncmp(s, "--template.glob=", 16) == 0)
			globs[nglobs++] = s + 16;
		else if (strcmp(s, "--template.glob") == 0 && i + 1 < argc)
			globs[nglobs++] = argv[++i];
		else if (strncmp(s, "--template.text=", 16) == 0)
			text = s + 16;
		else if (strcmp(s, "--template.text") == 0 && i + 1 < argc)
			text = argv[++i];
		else if (strncmp(s, "--template.data=", 16) == 0)
			data_file = s + 16;
		else if (strcmp(s, "--template.data") == 0 && i + 1 < argc)
			data_file = argv[++i];
		else if (strcmp(s, "--template.type=text") == 0)
			;
		else {
			fprintf(stderr,
			    "usage: axon template render "
			    "--template.glob=GLOB... "
			    "--template.text=TEXT [--template.data=FILE]\n");
			free(globs);
			return 2;
		}
	}
	if (text == NULL || nglobs == 0) {
		fprintf(stderr,
		    "axon: error: required flag --%s not provided\n",
		    nglobs == 0 ? "template.glob" : "template.text");
		free(globs);
		return 2;
	}
	if (data_file && (raw = slurp(data_file)) == NULL) {
		fprintf(stderr, "axon: error: cannot read %s\n", data_file);
		goto out;
	}
	j = cJSON_Parse(raw ? raw : example_data);
	if (j == NULL) {
		fprintf(stderr, "axon: error: %s: not JSON\n", data_file);
		goto out;
	}
	if ((a = ax_arena_new()) == NULL ||
	    ar_tmpl_load(globs, nglobs, NULL, &t, &err) != 0 ||
	    ar_tmpl_data_json(a, j, &data, &err) != 0 ||
	    ar_tmpl_render(t, text, data, a, &out, &err) != 0) {
		fprintf(stderr, "axon: error: %s\n",
		    err.code ? err.msg : "out of memory");
		goto out;
	}
	fwrite(out.p ? out.p : "", 1, out.len, stdout);
	rv = 0;
out:
	ax_buf_fini(&out);
	ax_tmpl_free(t);
	ax_arena_free(a);
	cJSON_Delete(j);
	free(raw);
	free(globs);
	return rv;
}

int cli_template(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "render") == 0)
		return render(argc - 1, argv + 1);
	fprintf(stderr,
	    "usage: axon template render --template.glob=GLOB... "
	    "--template.text=TEXT [--template.data=FILE]\n");
	return 2;
}
