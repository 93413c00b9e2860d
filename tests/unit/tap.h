/* tap.h: a tiny TAP producer for fa's unit tests (header-only).
 *
 *   ok(cond, "name %d", i);  is_str(got, want, "name");  is_num(got, want, tol, "name");
 *   return tap_done();       prints the plan and exits 1 if anything failed. */
#ifndef FA_TAP_H
#define FA_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3))) static inline int ok(int cond, const char *fmt, ...)
{
    va_list ap;

    tap_n++;
    printf("%sok %d - ", cond ? "" : "not ", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    if (!cond)
        tap_failed++;
    fflush(stdout);
    return cond;
}

static inline int is_str(const char *got, const char *want, const char *name)
{
    int c = got && want ? strcmp(got, want) == 0 : got == want;
    if (!ok(c, "%s", name))
        printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)", want ? want : "(null)");
    return c;
}

static inline int is_num(double got, double want, double tol, const char *name)
{
    int c = fabs(got - want) <= tol || (isnan(got) && isnan(want));
    if (!ok(c, "%s", name))
        printf("#   got:  %.17g\n#   want: %.17g (tol %g)\n", got, want, tol);
    return c;
}

static inline int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
