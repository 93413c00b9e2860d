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

    /* a list of inputs: read one after the other, each with its own
     * positions; an empty file and a missing one in the list */
    {
        char p1[] = "/tmp/fa-ndjson-l1-XXXXXX", p2[] = "/tmp/fa-ndjson-l2-XXXXXX";
        char p3[] = "/tmp/fa-ndjson-l3-XXXXXX", where[600];
        char missing[] = "/tmp/fa-ndjson-no-such-file";
        char *list[4] = {p1, p2, p3, missing};
        int fd1 = mkstemp(p1), fd2 = mkstemp(p2), fd3 = mkstemp(p3);
        FILE *f1 = fdopen(fd1, "w"), *f3 = fdopen(fd3, "w");

        close(fd2);                          /* empty */
        fputs("{\"n\":1}\n\n{\"n\":2}", f1); /* no newline at the end */
        fclose(f1);
        fputs("{\"n\":3}\n{bad\n{\"n\":4}\n", f3);
        fclose(f3);

        r = fa_ndjson_open_list(list, 3, 0);
        ok(r != NULL, "open a list of three");
        ok(fa_ndjson_next(r, &o) == FA_NDJSON_RECORD &&
               json_object_get_int(json_object_object_get(o, "n")) == 1,
           "list: first record of the first file");
        json_object_put(o);
        ok(fa_ndjson_next(r, &o) == FA_NDJSON_RECORD && fa_ndjson_line(r) == 3,
           "list: second record, line 3 of the first file");
        snprintf(where, sizeof where, "%s:3", p1);
        is_str(fa_ndjson_where(r), where, "list: where names the first file");
        json_object_put(o);
        ok(fa_ndjson_next(r, &o) == FA_NDJSON_RECORD &&
               json_object_get_int(json_object_object_get(o, "n")) == 3,
           "list: the empty second file is passed over; the third's first record");
        snprintf(where, sizeof where, "%s:1", p3);
        is_str(fa_ndjson_where(r), where, "list: where names the third file, line 1");
        json_object_put(o);
        ok(fa_ndjson_next(r, &o) == FA_NDJSON_BAD, "list: a bad line in the third file");
        snprintf(where, sizeof where, "%s:2: invalid JSON", p3);
        ok(strstr(fa_err_get(), where) != NULL, "list: its message names %s", where);
        ok(fa_ndjson_next(r, &o) == FA_NDJSON_RECORD &&
               json_object_get_int(json_object_object_get(o, "n")) == 4,
           "list: reading goes on after the bad line");
        json_object_put(o);
        ok(fa_ndjson_next(r, &o) == FA_NDJSON_EOF, "list: EOF after the last file");
        ok(fa_ndjson_next(r, &o) == FA_NDJSON_EOF, "list: EOF again");
        fa_ndjson_close(r);

        r = fa_ndjson_open_list(list + 2, 2, 0);
        ok(r != NULL, "open a list whose second file is missing");
        ok(fa_ndjson_next(r, &o) == FA_NDJSON_RECORD, "list: first file read");
        json_object_put(o);
        ok(fa_ndjson_next(r, &o) == FA_NDJSON_BAD, "list: its bad line");
        ok(fa_ndjson_next(r, &o) == FA_NDJSON_RECORD, "list: its last record");
        json_object_put(o);
        ok(fa_ndjson_next(r, &o) == FA_NDJSON_IOERR, "list: a missing next file is IOERR");
        ok(strstr(fa_err_get(), "cannot open '/tmp/fa-ndjson-no-such-file'") != NULL,
           "list: the message names it: %s", fa_err_get());
        fa_ndjson_close(r);

        ok(fa_ndjson_open_list(list + 3, 1, 0) == NULL &&
               strstr(fa_err_get(), "cannot open") != NULL,
           "list: a missing first file fails the open");
        r = fa_ndjson_open_list(NULL, 0, 0);
        ok(r != NULL, "an empty list reads stdin");
        snprintf(where, sizeof where, "%s", fa_ndjson_where(r));
        is_str(where, "<stdin>:0", "an empty list's reader is named <stdin>");
        fa_ndjson_close(r);
        unlink(p1);
        unlink(p2);
        unlink(p3);
    }

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
    {
        /* UTF-8: the first bad byte's offset, or the length */
        static const struct {
            const char *s;
            size_t want;
        } u[] = {
            {"plain ascii", 11},
            {"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x9a\x80", 14},
            {"a\xff"
             "b",
             1},
            {"\xc0\xaf", 0},         /* overlong '/' */
            {"x\xe0\x80\xaf", 1},    /* overlong, three bytes */
            {"\xed\xa0\x80", 0},     /* a surrogate */
            {"\xf4\x90\x80\x80", 0}, /* past U+10FFFF */
            {"ok\xc3", 2},           /* cut short */
            {"\x80", 0},             /* a continuation first */
        };
        for (size_t k = 0; k < sizeof u / sizeof u[0]; k++)
            ok(fa_ndjson_utf8_check(u[k].s, strlen(u[k].s)) == u[k].want, "utf8 case %zu", k);
    }
    return tap_done();
}
