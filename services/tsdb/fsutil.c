/*
 * fsutil: directory removal and directory fsync (see fsutil.h).
 */
#include "tsdb/fsutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void tsdb_fs_rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char p[4200];

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			tsdb_fs_rm_rf(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(path);
}

int tsdb_fs_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rv;

	if (fd < 0)
		return -1;
	rv = fsync(fd);
	close(fd);
	return rv;
}
