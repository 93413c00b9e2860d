/* Unit tests for fa_ndjson: line reading, positions, bad lines, caps. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_err.h"
#include "fa_ndjson.h"
#include "tap.h"
#include "fa_banned.h"

int main(void)
{
    char path[] = "/tmp/fa-ndjson-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    struct fa_ndjson_reader *r;
    struct json_object *o;
    int rc;

    fputs("{\"kind\":\"a\"}\n\n  \r\n{\"kind\":\"b\"}\r\n{broken\n[1,2]\n{\"kind\":\"c\"} x\n", f);
    fputs("{\"kind\":\"long\",\"pad\":\"", f);
    for (rc = 0; rc < 300; rc++)
        fputc('x', f);
    fputs("\"}\n{\"kind\":\"last\"}", f);
    fclose(f);

    r = fa_ndjson_open(path, 200);
    ok(r != NULL, "open");
    ok(fa_ndjson_next(r, &o) == FA_NDJSON_RECORD &&
           strcmp(json_object_get_string(json_object_object_get(o, "kind")), "a") == 0,
       "first record");
    json_object_put(o);
    ok(fa_ndjson_next(r, &o) == FA_NDJSON_RECORD && fa_ndjson_line(r) == 4,
       "blank lines skipped, CRLF ok, line 4");
    json_object_put(o);
    ok(fa_ndjson_next(r, &o) == FA_NDJSON_BAD, "broken JSON is BAD");
    ok(strstr(fa_err_get(), ":5: invalid JSON") != NULL, "message names line 5: %s", fa_err_get());
    ok(fa_ndjson_next(r, &o) == FA_NDJSON_BAD && strstr(fa_err_get(), "must be a JSON object"),
       "an array is not a record");
    ok(fa_ndjson_next(r, &o) == FA_NDJSON_BAD && strstr(fa_err_get(), "trailing"),
       "trailing garbage refused");
    ok(fa_ndjson_next(r, &o) == FA_NDJSON_BAD && strstr(fa_err_get(), "longer than 200"),
       "over-long line refused: %s", fa_err_get());
    rc = fa_ndjson_next(r, &o);
    ok(rc == FA_NDJSON_RECORD && fa_ndjson_line(r) == 9,
       "reading goes on after bad lines; last line without newline");
    json_object_put(o);
    ok(fa_ndjson_next(r, &o) == FA_NDJSON_EOF, "EOF");
    fa_ndjson_close(r);
    unlink(path);

    f = fopen("/dev/full", "w");
    if (f) {
        o = json_tokener_parse("{\"kind\":\"x\"}");
        rc = fa_ndjson_write(f, o);
        if (rc == 0)
            rc = fflush(f) == EOF ? -1 : 0;
        ok(rc < 0, "writing to /dev/full fails");
        json_object_put(o);
        fclose(f);
    }
    return tap_done();
}
