/* fa_cli.h: what every fa program's main() shares: strict number parsing,
 * configuration precedence (flag, then FA_* environment, then default),
 * the core flags' behaviour, and the bad-record policy (--strict). */
#ifndef FA_CLI_H
#define FA_CLI_H

#include <stdbool.h>

/* Set by --strict: a record that cannot be processed is fatal (exit 1)
 * instead of becoming an error record in the stream. */
extern bool fa_strict;

/* Parse a whole string as a number in [lo, hi]. Return 0, or -1 with
 * fa_err set to "invalid NAME 'S' (want LO..HI)". */
int fa_cli_long(const char *name, const char *s, long lo, long hi, long *out)
    __attribute__((warn_unused_result));
int fa_cli_double(const char *name, const char *s, double lo, double hi, double *out)
    __attribute__((warn_unused_result));

/* The first of: flag (if non-NULL), getenv(env) (if set and non-empty),
 * def. */
const char *fa_cli_conf(const char *flag, const char *env, const char *def);

/* "fa-x (fa) VERSION" to stdout. */
void fa_cli_version(void);
/* "Try 'fa-x --help'." to stderr, exit 2. Call after getopt's message. */
void fa_cli_try_help(void) __attribute__((noreturn));
/* "prog: message" on stderr, also under -q (an error, not chatter). */
void fa_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The core flags of a getopt switch other than -h: 'q' sets fa_verbosity
 * to 0, 'v' raises it (both return 1); 'V' prints the version
 * (fa_cli_version) and returns 2: the caller exits 0. Anything else
 * returns 0. */
int fa_cli_core(int opt);
/* -o FILE: the program's standard output into FILE, atomically
 * (fa_file_stdout_to). A FILE that exists and is not a regular file ends
 * the program with status 2, any other failure with 1. */
void fa_cli_output(const char *path);
/* At the program's end, before fa_stdout_close: the output renamed into
 * place when status is 0, else removed. Returns status, or 1 when it is 0
 * and that failed (with a message). */
int fa_cli_output_end(int status);

/* Prints "prog: message" then the Try line, exit 2. */
void fa_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A record that cannot be processed: with --strict, prints
 * "prog: WHERE: message" and exits 1; otherwise prints it as a warning and
 * emits an error record (stage = program name) to stdout. where may be NULL. */
void fa_bad_record(const char *symbol, const char *date, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The next record of a program's input (fa_ndjson_next), with the
 * bad-record policy applied: a line that is not a record goes to
 * fa_bad_record (no symbol, date or where: its message names file:line)
 * and reading goes on. Returns FA_NDJSON_RECORD (*out set, the caller's),
 * FA_NDJSON_EOF, or FA_NDJSON_IOERR with fa_err set. */
struct fa_ndjson_reader;
struct json_object;
int fa_cli_next(struct fa_ndjson_reader *r, struct json_object **out)
    __attribute__((warn_unused_result));

#endif
