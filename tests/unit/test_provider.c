/* test_provider.c: the source-independent half of fa_provider: dates of
 * timestamps, sorting, bar checks, the day-by-day emission (look-back,
 * --to, weekend news carried forward, items past the last bar), records,
 * and the CSV and NDJSON loaders' errors with file:line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_date.h"
#include "fa_err.h"
#include "fa_provider.h"
#include "fa_record.h"
#include "tap.h"
#include "fa_banned.h"

static char got[64][160];
static int ngot;

static int collect(struct json_object *r, void *ud)
{
    const char *t = fa_record_str(r, "time");
    (void)ud;
    if (ngot < 64)
        snprintf(got[ngot++], sizeof got[0], "%s %s%s%s", fa_record_kind(r), fa_record_date(r),
                 t ? " " : "", t ? t : "");
    json_object_put(r);
    return 0;
}

static int day(const char *s)
{
    int d = 0;
    if (fa_date_parse(s, &d) != 0)
        abort();
    return d;
}

static void bar(struct fa_provider_data *d, const char *date, double c)
{
    struct fa_provider_bar b = {day(date), c, c + 1, c - 1, c, c, 100, true, false};
    if (fa_provider_add_bar(d, &b) != 0)
        abort();
}

static void item(struct fa_provider_data *d, const char *kind, const char *time)
{
    struct json_object *f = json_object_new_object();
    int dd;
    fa_record_set_str(f, "title", "t");
    fa_record_set_str(f, "time", time);
    if (fa_provider_time_day(time, &dd) != 0 || fa_provider_add_item(d, kind, dd, f) != 0)
        abort();
}

static char tmpdir[] = "/tmp/fa-test-provider.XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static int load_csv(const char *text)
{
    struct fa_provider_data d = {0};
    int rc = fa_provider_csv_prices(write_file("p.csv", text), &d);
    fa_provider_data_free(&d);
    return rc;
}

int main(void)
{
    struct fa_provider_data d = {0};
    struct fa_provider_window w = {0};
    struct json_object *r;
    int dd;

    fa_err_init("test_provider");
    if (!mkdtemp(tmpdir))
        return 1;

    ok(fa_provider_time_day("2023-06-02 14:30:00", &dd) == 0 && dd == day("2023-06-02"),
       "date with time");
    ok(fa_provider_time_day("2023-06-02T14:30:00Z", &dd) == 0 && dd == day("2023-06-02"),
       "ISO timestamp");
    ok(fa_provider_time_day("20230602T143000", &dd) == 0 && dd == day("2023-06-02"),
       "Alpha Vantage timestamp");
    ok(fa_provider_time_day("2023-06-02", &dd) == 0, "plain date");
    ok(fa_provider_time_day("2023-13-02", &dd) == -1, "bad month refused");
    ok(fa_provider_time_day("06/02/2023", &dd) == -1, "US date refused");
    ok(fa_provider_time_day(NULL, &dd) == -1, "missing date refused");

    /* Newest-first input is sorted; items by day then time. */
    bar(&d, "2024-01-10", 14);
    bar(&d, "2024-01-09", 13);
    bar(&d, "2024-01-08", 12);
    bar(&d, "2024-01-05", 11);
    bar(&d, "2024-01-04", 10);
    item(&d, "news", "2024-01-11 09:00:00"); /* after the last bar */
    item(&d, "news", "2024-01-07 10:00:00"); /* Sunday */
    item(&d, "news", "2024-01-06 18:00:00"); /* Saturday */
    item(&d, "news", "2024-01-05 16:00:00");
    item(&d, "news", "2024-01-05 08:00:00");
    item(&d, "news", "2024-01-03 08:00:00"); /* before the window */
    item(&d, "guidance", "2024-01-08 07:00:00");
    ok(fa_provider_sort(&d, "test") == 0, "sort");
    ok(d.bars[0].day == day("2024-01-04") && d.bars[4].day == day("2024-01-10"), "bars ascending");
    is_str(fa_record_str(d.news[1].fields, "time"), "2024-01-05 08:00:00", "items by time");

    w.from = day("2024-01-05");
    w.to = day("2024-01-08");
    w.lookback = 1;
    w.cal = FA_CAL_NYSE;
    ngot = 0;
    ok(fa_provider_emit(&d, "X", &w, collect, NULL) == 0, "emit");
    is_num(ngot, 8, 0, "8 records");
    is_str(got[0], "price 2024-01-04", "look-back bar first");
    is_str(got[1], "price 2024-01-05", "then the first day's price");
    is_str(got[2], "news 2024-01-05 2024-01-05 08:00:00", "its news in time order");
    is_str(got[3], "news 2024-01-05 2024-01-05 16:00:00", "second news");
    is_str(got[4], "price 2024-01-08", "Monday's price");
    is_str(got[5], "news 2024-01-08 2024-01-06 18:00:00", "Saturday news on Monday, time kept");
    is_str(got[6], "news 2024-01-08 2024-01-07 10:00:00", "Sunday news on Monday");
    is_str(got[7], "guidance 2024-01-08 2024-01-08 07:00:00", "guidance after news");

    /* Weekend news just before --from belongs to the first day. */
    w.from = day("2024-01-08");
    w.lookback = 0;
    ngot = 0;
    ok(fa_provider_emit(&d, "X", &w, collect, NULL) == 0 && ngot == 4, "from Monday: 4 records");
    is_str(got[1], "news 2024-01-08 2024-01-06 18:00:00", "weekend before --from kept");

    /* Items past the last bar go to the next trading day, within --to. */
    w.to = day("2024-01-12");
    ngot = 0;
    ok(fa_provider_emit(&d, "X", &w, collect, NULL) == 0, "emit to Friday");
    is_str(got[ngot - 1], "news 2024-01-11 2024-01-11 09:00:00", "news past the last bar kept");
    w.to = day("2024-01-10");
    ngot = 0;
    ok(fa_provider_emit(&d, "X", &w, collect, NULL) == 0, "emit to Wednesday");
    is_str(got[ngot - 1], "price 2024-01-10", "nothing after --to");

    /* Lookback larger than the data. */
    w.from = day("2024-01-05");
    w.to = day("2024-01-05");
    w.lookback = 10;
    ngot = 0;
    ok(fa_provider_emit(&d, "X", &w, collect, NULL) == 0 && ngot == 4,
       "look-back beyond the data start");

    /* Record layout. */
    r = fa_provider_price_record("X", &d.bars[0]);
    {
        static const char want[] =
            "{\"kind\":\"price\",\"symbol\":\"X\",\"date\":\"2024-01-04\",\"asof\":\"2024-01-04\","
            "\"open\":10,\"high\":11,\"low\":9,\"close\":10,\"adj_close\":10,\"volume\":100,"
            "\"id\":\"";
        const char *s = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN);
        ok(strncmp(s, want, sizeof want - 1) == 0, "price record layout, id last: %s", s);
    }
    json_object_put(r);
    r = fa_provider_price_record("X", &d.bars[0]);
    {
        const char *id = fa_record_str(r, "id");
        char *canon;
        char want[FA_ID_HEX];
        static const char *const skip[] = {"id", NULL};
        canon = fa_json_canonical(r, skip);
        fa_hash_hex(canon, strlen(canon), want);
        ok(id && strcmp(id, want) == 0, "id is the hash of the content");
        free(canon);
    }
    json_object_put(r);

    /* Duplicate days. */
    bar(&d, "2024-01-08", 99);
    ok(fa_provider_sort(&d, "src") == -1 && strstr(fa_err_get(), "two bars dated 2024-01-08"),
       "duplicate day refused: %s", fa_err_get());
    fa_provider_data_free(&d);

    {
        struct fa_provider_bar b = {day("2024-01-04"), 1, 1, 0, 1, 1, 0, true, false};
        ok(fa_provider_check_bar(&b, "f:3") == -1 &&
               strstr(fa_err_get(), "f:3: non-positive price: low 0"),
           "zero low refused: %s", fa_err_get());
    }

    /* CSV loader. */
    ok(load_csv("\xEF\xBB\xBF"
                "Date,Open,High,Low,Close,Adj Close,Volume\r\n"
                "2024-01-04,1,2,0.5,1.5,1.4,100\r\n"
                "\"2024-01-05\",1,2,0.5,1.5,1.4,100\r\n") == 0,
       "Yahoo CSV with BOM, CRLF and quotes");
    ok(load_csv("date,open,high,low,close\n2024-01-05,1,2,1,1\n2024-01-04,1,2,1,1\n") == -1,
       "date out of order refused");
    ok(strstr(fa_err_get(), "p.csv:3: date out of order") != NULL, "%s", fa_err_get());
    ok(load_csv("date,open,high,low,close\n2024-01-05,1,2,1,1\n2024-01-05,1,2,1,1\n") == -1,
       "repeated date refused");
    ok(load_csv("date,open,high,low,close\n2024-01-04,1,2,1,-1\n") == -1 &&
           strstr(fa_err_get(), "p.csv:2: non-positive price: close -1"),
       "negative close: %s", fa_err_get());
    ok(load_csv("date,open,high,low,close\n2024-01-04,1,2,1,abc\n") == -1 &&
           strstr(fa_err_get(), "p.csv:2: bad close 'abc'"),
       "bad number: %s", fa_err_get());
    ok(load_csv("date,open,high,low,close\n2024-01-04,1,2\n") == -1 &&
           strstr(fa_err_get(), "p.csv:2: malformed row"),
       "short row: %s", fa_err_get());
    ok(load_csv("date,open,high,low,close\n2024-01-04,1,\"2,1,1\n") == -1 &&
           strstr(fa_err_get(), "p.csv:2: unterminated"),
       "unterminated quote: %s", fa_err_get());
    ok(load_csv("when,o,h,l,c\n") == -1 && strstr(fa_err_get(), "p.csv:1: unknown column layout"),
       "unknown layout: %s", fa_err_get());
    ok(load_csv("") == -1 && strstr(fa_err_get(), "empty"), "empty file: %s", fa_err_get());
    ok(load_csv("date,open,high,low,close\n2024-01-32,1,2,1,1\n") == -1 &&
           strstr(fa_err_get(), "p.csv:2: bad date"),
       "bad date: %s", fa_err_get());

    /* NDJSON source: ids must match. */
    {
        struct fa_provider_data e = {0};
        const char *p =
            write_file("r.ndjson", "{\"kind\":\"price\",\"symbol\":\"X\",\"date\":\"2024-01-04\","
                                   "\"open\":1,\"high\":2,\"low\":1,\"close\":1,\"id\":\"00\"}\n");
        ok(fa_provider_ndjson(p, "X", &e) == -1 && strstr(fa_err_get(), "r.ndjson:1: id '00'"),
           "wrong id refused: %s", fa_err_get());
        fa_provider_data_free(&e);
        p = write_file("r.ndjson",
                       "{\"kind\":\"signal\",\"symbol\":\"X\",\"date\":\"2024-01-04\"}\n");
        ok(fa_provider_ndjson(p, "X", &e) == -1 && strstr(fa_err_get(), "not a source record"),
           "other kinds refused: %s", fa_err_get());
        fa_provider_data_free(&e);
        p = write_file(
            "r.ndjson",
            "{\"kind\":\"price\",\"symbol\":\"Y\",\"date\":\"2024-01-04\",\"open\":-1}\n"
            "{\"kind\":\"news\",\"symbol\":\"X\",\"date\":\"2024-01-04\",\"title\":\"a\"}\n"
            "{\"kind\":\"price\",\"symbol\":\"X\",\"date\":\"2024-01-04\","
            "\"open\":1,\"high\":2,\"low\":1,\"close\":1}\n");
        ok(fa_provider_ndjson(p, "X", &e) == 0 && e.nbars == 1 && e.nnews == 1,
           "other symbols skipped, news and price kept");
        fa_provider_data_free(&e);
        unlink(p);
    }
    unlink(write_file("p.csv", ""));
    rmdir(tmpdir);
    return tap_done();
}
