/*
 * fsutil: the file-system chores the tsdb's block, checkpoint and db
 * modules share: removing a directory tree (blocks, half-written temp
 * directories) and fsyncing a directory so a rename in it is durable.
 */
#ifndef TSDB_FSUTIL_H
#define TSDB_FSUTIL_H

/* Remove path and, if it is a directory, everything below it (symlinks
 * are removed, not followed).  Best effort: errors are ignored, as the
 * callers only tidy up. */
void tsdb_fs_rm_rf(const char *path);
/* fsync the directory itself.  Returns 0 or -1 (errno set). */
int tsdb_fs_sync_dir(const char *dir);

#endif
