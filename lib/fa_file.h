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

/* The complete days of a run: the DATEs of RUN/days/DATE.ndjson (exactly
 * that shape of name), sorted, as a malloc'd array of malloc'd strings in
 * *days (free with fa_file_free_list) and their count in *n. A run
 * without days/ has none. Returns 0, or -1 with fa_err set. */
int fa_file_days(const char *run, char ***days, size_t *n) __attribute__((warn_unused_result));
void fa_file_free_list(char **v, size_t n);

#endif
