/* fa_file.h: whole small files in memory (a run's journal, a day stream,
 * a chart), read with a size cap. */
#ifndef FA_FILE_H
#define FA_FILE_H

#include <stddef.h>

/* Reads the whole file at path (at most max bytes) into a malloc'd
 * buffer with a NUL after the last byte; stores it in *buf and the size
 * in *len (the caller frees *buf). Returns 0, or -1 with fa_err set
 * naming path (missing, unreadable, or larger than max); errno is kept
 * from the failing call (ENOENT for a missing file). */
int fa_file_read(const char *path, size_t max, char **buf, size_t *len)
    __attribute__((warn_unused_result));

#endif
