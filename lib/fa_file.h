/* fa_file.h: whole files written atomically (temporary file in the same
 * directory, fsync, rename, fsync of the directory), and the one rule for
 * what such a write may replace.
 *
 * The rule: a target that does not exist, or is a regular file, is
 * written; anything else that exists there (a directory, a device such as
 * /dev/full, a FIFO, a socket, or a symbolic link, even to a regular
 * file) is refused and left alone: a rename would put a file in its place
 * (or replace the link itself, never write through it). */
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

#endif
