/* fa_ndjson.h: streaming NDJSON in and out, one record in memory at a time.
 *
 * The reader takes a line at a time up to a cap (default 16 MiB), parses
 * it with one reused json-c tokener and keeps "file:line" for messages.
 * The writer prints compact JSON, one object a line, flushing after each
 * record when the stream is not a regular file (so a pipeline downstream
 * sees records as they are made). */
#ifndef FA_NDJSON_H
#define FA_NDJSON_H

#include <stdio.h>
#include <json-c/json.h>

#define FA_NDJSON_MAXLINE (16u << 20)

struct fa_ndjson_reader;

/* Opens path for reading ("-" or NULL: stdin, named "<stdin>"). maxline 0
 * means FA_NDJSON_MAXLINE. Returns NULL with fa_err set. */
struct fa_ndjson_reader *fa_ndjson_open(const char *path, size_t maxline);
/* Opens a list of inputs read one after the other as one stream: paths[0]
 * now, each next one when the one before is at its end (a path "-" is
 * stdin). n == 0 reads stdin. fa_ndjson_where names the current file and
 * its own line number. The paths must outlive the reader (argv does).
 * Returns NULL with fa_err set when the first cannot be opened; a later
 * one that cannot be opened makes fa_ndjson_next return FA_NDJSON_IOERR
 * with fa_err "cannot open 'PATH': ...". */
struct fa_ndjson_reader *fa_ndjson_open_list(char *const *paths, int n, size_t maxline);
/* Wraps an open stream (not closed by fa_ndjson_close). */
struct fa_ndjson_reader *fa_ndjson_from_file(FILE *f, const char *name, size_t maxline);

enum {
    FA_NDJSON_EOF = 0,    /* no more input */
    FA_NDJSON_RECORD = 1, /* *out holds a record; caller owns it */
    FA_NDJSON_BAD = -1,   /* this line is not a usable record; fa_err says
                             why and where; reading may go on */
    FA_NDJSON_IOERR = -2, /* read error; fa_err says so; stop */
};

/* Reads the next non-blank line as a JSON object. Returns one of the codes
 * above. A BAD line's message starts with "file:line: ". Streams are
 * UTF-8: a line holding a NUL byte (a line of NULs too: it is not blank)
 * or a byte sequence that is not UTF-8 is BAD ("NUL byte at column N",
 * "invalid UTF-8 at column N"), the one rule for every program. */
int fa_ndjson_next(struct fa_ndjson_reader *r, struct json_object **out)
    __attribute__((warn_unused_result));
/* The offset of the first byte of s[0..n) that does not start a valid
 * UTF-8 sequence (overlong forms, surrogates and values past U+10FFFF are
 * invalid), or n when all of it is valid. */
size_t fa_ndjson_utf8_check(const char *s, size_t n);

/* "file:line" of the line last returned (static per reader). */
const char *fa_ndjson_where(struct fa_ndjson_reader *r);
/* The 1-based number of the line last returned. */
unsigned long fa_ndjson_line(struct fa_ndjson_reader *r);
void fa_ndjson_close(struct fa_ndjson_reader *r);

/* Writes o compact with a newline; flushes when f is not a regular file.
 * Returns 0, or -1 with errno set (EPIPE when the reader went away). */
int fa_ndjson_write(FILE *f, struct json_object *o) __attribute__((warn_unused_result));

/* Writes o to stdout and drops the caller's reference. A closed pipe ends
 * the program quietly with status 0; any other write error is fatal
 * (status 1) with a message. */
void fa_emit(struct json_object *o);

/* Flushes and closes stdout at the end of main; returns 0, or prints
 * "write error 'stdout': ..." and returns 1 (EPIPE counts as success). */
int fa_stdout_close(void);

#endif
