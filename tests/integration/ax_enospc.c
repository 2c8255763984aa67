/*
 * ax-enospc.so: an LD_PRELOAD shim for the disk-full tests.  While the file
 * named by $AX_ENOSPC_TRIGGER exists, write(2) to any file whose path
 * contains "/wal/" fails with ENOSPC, as on a full disk.  Everything else
 * passes through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static ssize_t (*real_write)(int, const void *, size_t);

static int disk_full(int fd)
{
	const char *trig = getenv("AX_ENOSPC_TRIGGER");
	char link[64], path[4096];
	struct stat st;
	ssize_t n;

	if (trig == NULL || stat(trig, &st) != 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return strstr(path, "/wal/") != NULL;
}

ssize_t write(int fd, const void *buf, size_t count)
{
	if (real_write == NULL)
		real_write = (ssize_t(*)(int, const void *, size_t))dlsym(
		    RTLD_NEXT, "write");
	if (fd > 2 && count > 0 && disk_full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real_write(fd, buf, count);
}
