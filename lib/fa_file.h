/* fa_file.h: whole files written atomically (temporary file in the same
 * directory, fsync, rename, fsync of the directory), and the one rule for
 * what such a write may replace.
 *
 * The rule: a target that does not exist, or is a regular file, is
 * written; anything else that exists there (a directory, a device such as
 * /dev/full, a FIFO, a socket, or a symbolic link, even to a regular
 * file) is refused and left alone: a rename would put a file in its place
 * (or replace the link itself, never write through it).
 *
 * Also: whole small files read with a size cap (a run's journal, a day
 * stream, a chart), and the complete days of a run. */
#ifndef FA_FILE_H
#define FA_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Returns 0 when path is absent or a regular file (not a symbolic link),
 * else -1 with fa_err "'path' is a directory|a device|...: not replaced"
 * (or the lstat error). Tools call it on their output paths before doing
 * any work and exit 2 (a configuration error) when it fails. */
int fa_file_check_target(const char *path) __attribute__((warn_unused_result));

/* Writes data[0..len) to path atomically with permissions mode (before the
 * umask), after fa_file_check_target. The temporary file is
 * ".NAME.XXXXXX" beside path and never outlives a failure. Returns 0, or
 * -1 with fa_err naming path and what failed. */
int fa_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
    __attribute__((warn_unused_result));

/* The same, streamed: fa_file_open_atomic checks path and opens f on
 * the temporary file beside it (0, or -1 with fa_err); write to a->f;
 * fa_file_close_atomic then flushes, syncs and closes it and renames it
 * over path (commit), or removes it (!commit, or when anything failed: 0,
 * or -1 with fa_err naming path). For a file too big to build in memory
 * first, such as fa-report's page. */
struct fa_file_atomic {
    FILE *f;
    char *tmp, *path;
    mode_t mode;
};
int fa_file_open_atomic(struct fa_file_atomic *a, const char *path, mode_t mode)
    __attribute__((warn_unused_result));
int fa_file_close_atomic(struct fa_file_atomic *a, bool commit);

/* A program's standard output into path, atomically (its -o FILE):
 * fa_file_stdout_to checks path and points stdout (fd 1) at a temporary
 * file beside it (0, or -1 with fa_err); after the last write and before
 * fa_stdout_close, fa_file_stdout_commit(ok) syncs it and renames it over
 * path (ok), or removes it (0, or -1 with fa_err). A program that exits
 * without a commit leaves no temporary file. */
int fa_file_stdout_to(const char *path) __attribute__((warn_unused_result));
int fa_file_stdout_commit(bool ok);

/* mkdir -p: dir and its missing parents, each with mode (before the
 * umask). Returns 0, or -1 with fa_err "cannot create directory 'D'"
 * naming the one that failed. */
int fa_file_mkdirs(const char *dir, mode_t mode) __attribute__((warn_unused_result));

/* Reads the whole file at path (at most max bytes) into a malloc'd
 * buffer with a NUL after the last byte; stores it in *buf and the size
 * in *len (the caller frees *buf). Returns 0, or -1 with fa_err set
 * naming path (missing, unreadable, or larger than max); errno is kept
 * from the failing call (ENOENT for a missing file). */
int fa_file_read(const char *path, size_t max, char **buf, size_t *len)
    __attribute__((warn_unused_result));

/* A small file's content as fa_file_read gives it, read once per process
 * while it stays the same file (device, inode, size and modification
 * time: one stat per call): the prompts and the price table, which every
 * stage fa-days runs in its one process reads again. *buf is the cache's
 * (NUL-terminated; not to be freed or changed) and stays valid until the
 * same path is read again after a change. Returns 0, or -1 with fa_err. */
int fa_file_read_memo(const char *path, size_t max, const char **buf, size_t *len)
    __attribute__((warn_unused_result));

/* The complete days of a run: the DATEs of RUN/days/DATE.ndjson (exactly
 * that shape of name), sorted, as a malloc'd array of malloc'd strings in
 * *days (free with fa_file_free_list) and their count in *n. A run
 * without days/ has none. Returns 0, or -1 with fa_err set. */
int fa_file_days(const char *run, char ***days, size_t *n) __attribute__((warn_unused_result));
void fa_file_free_list(char **v, size_t n);

#endif
