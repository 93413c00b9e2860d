/* test_gnuplot.c: fa_gnuplot renders deterministic images and fails clearly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fa_err.h"
#include "fa_gnuplot.h"
#include "tap.h"
#include "fa_banned.h"

static const char *script = "$d << EOD\n1 2\n2 3\n3 1\nEOD\n"
                            "plot $d using 1:2 with lines title 'x'\n";

int main(void)
{
    unsigned char *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    char dir[] = "/tmp/fa-test-gp.XXXXXX", path[256];
    struct stat st;
    int rc;

    fa_err_init("test_gnuplot");
    ok(fa_gnuplot_format_of("x.svg") == FA_GNUPLOT_SVG, "svg by name");
    ok(fa_gnuplot_format_of("x.png") == FA_GNUPLOT_PNG, "png by name");

    setenv("FA_GNUPLOT", "/nonexistent/gnuplot", 1);
    rc = fa_gnuplot_render(script, FA_GNUPLOT_PNG, 200, 100, &a, &la);
    ok(rc == FA_GNUPLOT_MISSING, "missing gnuplot is FA_GNUPLOT_MISSING");
    ok(strstr(fa_err_get(), "gnuplot") != NULL, "message names gnuplot: %s", fa_err_get());
    unsetenv("FA_GNUPLOT");
    setenv("PATH", "/nonexistent", 1);
    ok(fa_gnuplot_path() == NULL, "not on PATH: NULL");
    ok(strstr(fa_err_get(), "install") != NULL, "says how to install");
    setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);

    if (!fa_gnuplot_path()) {
        printf("ok %d - # SKIP gnuplot not installed\n", ++tap_n);
        return tap_done();
    }
    ok(fa_gnuplot_render(script, FA_GNUPLOT_PNG, 300, 200, &a, &la) == 0, "renders png");
    ok(fa_gnuplot_render(script, FA_GNUPLOT_PNG, 300, 200, &b, &lb) == 0, "renders again");
    ok(la > 8 && memcmp(a, "\x89PNG\r\n\x1a\n", 8) == 0, "png magic");
    ok(la == lb && memcmp(a, b, la) == 0, "same script, same bytes");
    free(b);
    b = NULL;
    ok(fa_gnuplot_render("plot $nope using 1:2\n", FA_GNUPLOT_PNG, 300, 200, &b, &lb) == -1,
       "bad script fails");
    ok(strstr(fa_err_get(), "gnuplot failed") != NULL, "message: %s", fa_err_get());
    ok(b == NULL, "no image on failure");
    ok(fa_gnuplot_render(script, FA_GNUPLOT_PNG, 3, 2, &b, &lb) == -1, "tiny size refused");

    ok(mkdtemp(dir) != NULL, "scratch dir");
    snprintf(path, sizeof path, "%s/c.svg", dir);
    ok(fa_gnuplot_write(script, FA_GNUPLOT_SVG, 300, 200, path) == 0, "writes svg");
    ok(stat(path, &st) == 0 && st.st_size > 100, "svg file written");
    unlink(path);
    snprintf(path, sizeof path, "%s/c.png", dir);
    ok(fa_gnuplot_save(path, a, la) == 0, "save");
    ok(stat(path, &st) == 0 && (size_t)st.st_size == la, "saved size");
    unlink(path);
    snprintf(path, sizeof path, "%s/none/c.png", dir);
    ok(fa_gnuplot_save(path, a, la) == -1, "save into missing dir fails");
    ok(strstr(fa_err_get(), "none") != NULL, "message names path");
    rmdir(dir);
    free(a);
    return tap_done();
}
