/* test_day.c: fa_day groups a stream by (symbol, date) and the firewall admits by asof. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_date.h"
#include "fa_day.h"
#include "fa_err.h"
#include "fa_record.h"
#include "tap.h"
#include "fa_banned.h"

static const char *stream =
    "{\"kind\":\"metrics\",\"x\":1}\n"
    "{\"kind\":\"price\",\"symbol\":\"A\",\"date\":\"2023-06-01\",\"close\":1}\n"
    "{\"kind\":\"news\",\"symbol\":\"A\",\"date\":\"2023-06-01\",\"title\":\"t\"}\n"
    "not json\n"
    "{\"kind\":\"summary\"}\n"
    "{\"kind\":\"price\",\"symbol\":\"A\",\"date\":\"2023-06-02\",\"close\":2}\n"
    "{\"kind\":\"price\",\"symbol\":\"B\",\"date\":\"2023-06-02\",\"close\":3}\n"
    "{\"kind\":\"price\",\"symbol\":\"A\",\"date\":\"2023-05-31\",\"close\":4}\n";

int main(void)
{
    char path[] = "/tmp/fa-test-day.XXXXXX";
    int fd = mkstemp(path), day, lim;
    struct fa_day_reader *r;
    struct fa_day d = {0};
    struct json_object *rec;
    size_t i = 0;

    fa_err_init("test_day");
    fa_verbosity = 0;
    ok(fd >= 0 && write(fd, stream, strlen(stream)) == (ssize_t)strlen(stream), "fixture");
    close(fd);
    ok((r = fa_day_open(path)) != NULL, "open");
    ok(fa_day_next(r, &d) == 1 && d.day == -1 && d.n == 1, "leading undated record: own group");
    fa_day_clear(&d);
    ok(fa_day_next(r, &d) == 1, "second group");
    is_str(d.date, "2023-06-01", "its date");
    is_str(d.symbol, "A", "its symbol");
    ok(d.n == 4, "price, news, the bad line as an error, the undated record (%zu)", d.n);
    is_str(fa_record_kind(d.recs[2]), "error", "bad line kept in place as an error record");
    ok(strstr(d.where[2], ":4") != NULL, "with its line (%s)", d.where[2]);
    ok(fa_day_find(&d, "news", &i) == 1, "find news");
    ok(fa_day_find(&d, "news", &i) == -1, "only one");
    ok(!fa_day_reader_backwards(r), "in order");
    fa_day_clear(&d);
    ok(fa_day_next(r, &d) == 1 && d.n == 1 && strcmp(d.symbol, "A") == 0, "A 06-02");
    fa_day_clear(&d);
    ok(fa_day_next(r, &d) == 1 && d.n == 1 && strcmp(d.symbol, "B") == 0, "B 06-02: new group");
    fa_day_clear(&d);
    ok(fa_day_next(r, &d) == 1 && fa_day_reader_backwards(r), "A 05-31 goes back in time");
    fa_day_clear(&d);
    ok(fa_day_next(r, &d) == 0, "end");
    fa_day_free(&d);
    fa_day_close(r);
    unlink(path);

    /* the firewall */
    ok(fa_date_parse("2023-06-01", &day) == 0, "day");
    rec = json_tokener_parse("{\"kind\":\"intel\",\"id\":\"abc\",\"date\":\"2023-06-01\","
                             "\"asof\":\"2023-06-02\"}");
    ok(!fa_day_admit(rec, day, -1, "x.ndjson:7"), "asof after the day: refused");
    ok(strstr(fa_err_get(), "intel") && strstr(fa_err_get(), "abc") &&
           strstr(fa_err_get(), "2023-06-02") && strstr(fa_err_get(), "x.ndjson:7"),
       "message names kind, id, asof, where: %s", fa_err_get());
    ok(fa_date_parse("2023-06-10", &lim) == 0, "limit");
    ok(fa_day_admit(rec, day, lim, NULL), "within the hindsight limit: admitted");
    ok(!fa_day_admit(rec, day, day - 5, NULL), "a limit before the day does not narrow it");
    json_object_put(rec);
    rec = json_tokener_parse("{\"kind\":\"news\",\"date\":\"2023-06-01\"}");
    ok(fa_day_admit(rec, day, -1, NULL), "no asof: its date");
    json_object_put(rec);
    rec = json_tokener_parse("{\"kind\":\"news\",\"date\":\"2023-06-02\"}");
    ok(!fa_day_admit(rec, day, -1, NULL), "a later date without asof: refused");
    json_object_put(rec);
    is_str(fa_day_later("2023-01-02", "2023-01-03"), "2023-01-03", "later");
    ok(fa_day_later(NULL, "") == NULL, "later of nothing");

    /* a symbol too long for a group's key is a bad record, not a new group
     * per record (nor two symbols merged by their first 63 bytes) */
    {
        char lp[] = "/tmp/fa-test-day-long.XXXXXX", sym[80], line[256];
        int lfd = mkstemp(lp);
        size_t groups = 0, errors = 0, prices = 0, agroups = 0;
        memset(sym, 'S', 70);
        sym[70] = 0;
        for (int k = 0; k < 3 && lfd >= 0; k++) {
            int n = snprintf(line, sizeof line,
                             "{\"kind\":\"price\",\"symbol\":\"%s\",\"date\":\"2023-06-01\","
                             "\"close\":1}\n{\"kind\":\"price\",\"symbol\":\"A\",\"date\":"
                             "\"2023-06-0%d\",\"close\":1}\n",
                             sym, k + 1);
            ok(write(lfd, line, (size_t)n) == n, "long-symbol fixture %d", k);
        }
        close(lfd);
        ok((r = fa_day_open(lp)) != NULL, "open the long-symbol stream");
        while (r && fa_day_next(r, &d) == 1) {
            groups++;
            agroups += strcmp(d.symbol, "A") == 0;
            for (size_t k = 0; k < d.n; k++) {
                const char *kind = fa_record_kind(d.recs[k]);
                errors += strcmp(kind, "error") == 0;
                prices += strcmp(kind, "price") == 0;
            }
            fa_day_clear(&d);
        }
        ok(agroups == 3 && groups == 4 && errors == 3 && prices == 3,
           "three days of A, each long-symbol record an error in place (%zu groups, %zu of A, %zu "
           "errors, %zu prices)",
           groups, agroups, errors, prices);
        fa_day_free(&d);
        fa_day_close(r);
        unlink(lp);
    }
    return tap_done();
}
