/* fa_err.h: messages, exit codes and the last-error text shared by fa.
 *
 * Library functions never print and never exit (the fa_die* helpers
 * aside): they return -1 and leave a message in fa_err_get(). Programs
 * print it prefixed with their name, as "fa-x: what 'subject': why". */
#ifndef FA_ERR_H
#define FA_ERR_H

#include <setjmp.h>
#include <stdarg.h>

enum {
    FA_EXIT_OK = 0,    /* success */
    FA_EXIT_FAIL = 1,  /* runtime failure: bad data, I/O, a failed call */
    FA_EXIT_USAGE = 2, /* usage or configuration error, missing dependency */
};

/* The program's name for messages ("fa-fetch"); set once by fa_err_init. */
extern const char *fa_progname;
/* -q lowers, -v raises: 0 quiet, 1 normal (default), 2+ verbose. */
extern int fa_verbosity;

/* Sets fa_progname from argv[0] (basename) and ignores SIGPIPE so that a
 * closed pipe shows up as EPIPE on write, handled by fa_ndjson_emit. */
void fa_err_init(const char *argv0);

/* Sets the calling thread's last error message (printf format). */
void fa_err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like fa_err_set, with ": strerror(errno)" appended (errno read first). */
void fa_err_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The last error message of this thread; never NULL. */
const char *fa_err_get(void);

/* A host that runs a program's main inside its own process (fa-days)
 * points this at a jump buffer for the length of the call: fa_exit, and so
 * fa_die and the usage errors, then jump there with status + 1 instead of
 * ending the process, and fa_stdout_close flushes stdout without closing
 * it. NULL (the default) in a program run on its own. */
extern jmp_buf *fa_exit_jmp;
/* Ends the program with status: exit(status), or the jump above. */
void fa_exit(int status) __attribute__((noreturn));

/* "prog: message\n" on stderr (unless quiet). */
void fa_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only when fa_verbosity >= 2. */
void fa_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "prog: message" and exits with status. Always prints. */
void fa_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* Prints "prog: " + fa_err_get() and exits with status. */
void fa_die_err(int status) __attribute__((noreturn));

#endif
