/* fa_err.c: the message and last-error helpers every fa program uses. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_err.h"
#include "fa_banned.h"

const char *fa_progname = "fa";
int fa_verbosity = 1;
jmp_buf *fa_exit_jmp;

static _Thread_local char last_error[1024];

void fa_err_init(const char *argv0)
{
    const char *slash;

    if (argv0 && *argv0) {
        slash = strrchr(argv0, '/');
        fa_progname = slash ? slash + 1 : argv0;
    }
    signal(SIGPIPE, SIG_IGN);
}

void fa_err_set(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

void fa_err_sys(const char *fmt, ...)
{
    int e = errno;
    size_t n;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    n = strlen(last_error);
    snprintf(last_error + n, sizeof last_error - n, ": %s", strerror(e));
}

const char *fa_err_get(void)
{
    return last_error[0] ? last_error : "unknown error";
}

static void vsay(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", fa_progname);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void fa_warn(const char *fmt, ...)
{
    va_list ap;

    if (fa_verbosity < 1)
        return;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
}

void fa_info(const char *fmt, ...)
{
    va_list ap;

    if (fa_verbosity < 2)
        return;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
}

void fa_exit(int status)
{
    if (fa_exit_jmp)
        longjmp(*fa_exit_jmp, status + 1);
    exit(status);
}

void fa_die(int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    fa_exit(status);
}

void fa_die_err(int status)
{
    fprintf(stderr, "%s: %s\n", fa_progname, fa_err_get());
    fa_exit(status);
}
