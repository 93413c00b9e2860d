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

#include <stddef.h>
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

/* The complete days of a run: the DATEs of RUN/days/DATE.ndjson (exactly
 * that shape of name), sorted, as a malloc'd array of malloc'd strings in
 * *days (free with fa_file_free_list) and their count in *n. A run
 * without days/ has none. Returns 0, or -1 with fa_err set. */
int fa_file_days(const char *run, char ***days, size_t *n) __attribute__((warn_unused_result));
void fa_file_free_list(char **v, size_t n);

#endif
