/* fa_cli.c: shared command-line behaviour of the fa programs. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "fa_cli.h"
#include "fa_err.h"
#include "fa_file.h"
#include "fa_ndjson.h"
#include "fa_record.h"
#include "fa_banned.h"

bool fa_strict;

int fa_cli_long(const char *name, const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        fa_err_set("invalid %s '%s' (want %ld..%ld)", name, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int fa_cli_double(const char *name, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || v < lo || v > hi) {
        fa_err_set("invalid %s '%s' (want %g..%g)", name, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

const char *fa_cli_conf(const char *flag, const char *env, const char *def)
{
    const char *e;

    if (flag)
        return flag;
    if (env && (e = getenv(env)) && *e)
        return e;
    return def;
}

void fa_cli_version(void)
{
    printf("%s (fa) %s\n", fa_progname, FA_VERSION);
}

void fa_cli_output(const char *path)
{
    if (fa_file_check_target(path) < 0)
        fa_die(FA_EXIT_USAGE, "--output: %s", fa_err_get());
    if (fa_file_stdout_to(path) < 0)
        fa_die(FA_EXIT_FAIL, "--output: %s", fa_err_get());
}

int fa_cli_output_end(int status)
{
    if (fa_file_stdout_commit(status == FA_EXIT_OK) < 0 && status == FA_EXIT_OK) {
        fa_warn("%s", fa_err_get());
        return FA_EXIT_FAIL;
    }
    return status;
}

void fa_cli_try_help(void)
{
    fprintf(stderr, "Try '%s --help'.\n", fa_progname);
    fa_exit(FA_EXIT_USAGE);
}

static void verror(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", fa_progname);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void fa_cli_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    verror(fmt, ap);
    va_end(ap);
}

void fa_cli_usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    verror(fmt, ap);
    va_end(ap);
    fa_cli_try_help();
}

int fa_cli_core(int opt)
{
    switch (opt) {
    case 'q':
        fa_verbosity = 0;
        return 1;
    case 'v':
        fa_verbosity++;
        return 1;
    case 'V':
        fa_cli_version();
        return 2;
    default:
        return 0;
    }
}

void fa_bad_record(const char *symbol, const char *date, const char *where, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (fa_strict)
        fa_die(FA_EXIT_FAIL, "%s%s%s", where ? where : "", where ? ": " : "", msg);
    fa_warn("%s%s%s", where ? where : "", where ? ": " : "", msg);
    fa_emit(fa_record_error(fa_progname, symbol, date, where, msg));
}

int fa_cli_next(struct fa_ndjson_reader *r, struct json_object **out)
{
    int rc;

    while ((rc = fa_ndjson_next(r, out)) == FA_NDJSON_BAD) {
        /* the error record carries where; the message then need not */
        const char *where = fa_ndjson_where(r), *msg = fa_err_get();
        size_t wl = strlen(where);
        if (strncmp(msg, where, wl) == 0 && msg[wl] == ':' && msg[wl + 1] == ' ')
            msg += wl + 2;
        fa_bad_record(NULL, NULL, where, "%s", msg);
    }
    return rc;
}
