/* test_stage.c: price history, moves, sampling and preferences of fa_stage. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_date.h"
#include "fa_err.h"
#include "fa_record.h"
#include "fa_stage.h"
#include "tap.h"
#include "fa_banned.h"

static struct json_object *price(const char *date, double c)
{
    struct json_object *r = fa_record_new("price", "X", date);
    fa_record_set_num(r, "open", c);
    fa_record_set_num(r, "high", c + 1);
    fa_record_set_num(r, "low", c - 1);
    fa_record_set_num(r, "close", c);
    return r;
}

int main(void)
{
    struct fa_stage_hist *h = fa_stage_hist_new();
    const struct fa_chart_bar *b;
    struct json_object *r, *data = json_object_new_object(), *set = json_object_new_object();
    char date[11], *t;
    int d0 = fa_date_from_ymd(2023, 6, 1);
    size_t n, idx[3], idx2[6];
    const char *keys[] = {"a", "b", "c", "d", "e", "f"};

    fa_err_init("test_stage");
    for (int i = 20; i >= 0; i--) { /* out of order on purpose */
        r = price(fa_date_format(d0 + i, date), 100 + i);
        ok(fa_stage_hist_add(h, r) == 0, "add %s", date);
        json_object_put(r);
    }
    n = fa_stage_hist_bars(h, "X", &b);
    ok(n == 21 && b[0].day == d0 && b[20].day == d0 + 20, "sorted, 21 bars");
    ok(b[3].adj_close == b[3].close, "adj_close defaults to close");
    r = price(fa_date_format(d0 + 3, date), 50);
    ok(fa_stage_hist_add(h, r) == 0 && fa_stage_hist_bars(h, "X", &b) == 21 && b[3].close == 50,
       "same day replaces");
    json_object_put(r);
    r = fa_record_new("price", "X", "2023-06-01");
    ok(fa_stage_hist_add(h, r) == -1 && strstr(fa_err_get(), "open"), "missing field refused");
    json_object_put(r);
    ok(fa_stage_hist_bars(h, "Y", &b) == 0 && b == NULL, "unknown symbol: none");
    n = fa_stage_hist_bars(h, "X", &b);
    ok(fa_stage_hist_at(b, n, d0 - 1) == -1, "before the first bar");
    ok(fa_stage_hist_at(b, n, d0 + 5) == 5, "at a bar");
    ok(fa_stage_hist_at(b, n, d0 + 100) == 20, "after the last");
    is_num(fa_stage_move(b, n, 20, 1), 120.0 / 119 - 1, 1e-12, "1-day move");
    is_num(fa_stage_move(b, n, 10, -7), 117.0 / 110 - 1, 1e-12, "7 days ahead");
    ok(isnan(fa_stage_move(b, n, 5, 7)), "not enough history: NAN");
    t = fa_stage_moves_text(b, n, 20, false, data);
    ok(strstr(t, "over the last 14 trading days") && strstr(t, "+"), "moves text");
    free(t);
    ok(json_object_object_get_ex(data, "d14", NULL), "moves data");
    t = fa_stage_moves_text(b, n, 15, true, data);
    ok(strstr(t, "over the next 14 trading days: not enough price history") != NULL,
       "ahead beyond the bars: said");
    free(t);
    json_object_put(data);
    fa_stage_hist_free(h);

    fa_stage_sample(keys, 6, 3, 42, idx);
    fa_stage_sample(keys, 6, 3, 42, idx2);
    ok(memcmp(idx, idx2, sizeof idx) == 0, "sample is deterministic");
    ok(idx[0] < idx[1] && idx[1] < idx[2], "in input order");
    fa_stage_sample(keys, 6, 6, 1, idx2);
    ok(1, "k == n works");

    t = fa_stage_preference("/nonexistent/pref.txt");
    ok(t == NULL && strstr(fa_err_get(), "pref.txt"), "missing preference file");
    ok(fa_stage_preference("reckless") == NULL && strstr(fa_err_get(), "aggressive"),
       "unknown preference lists the known ones");

    r = json_tokener_parse("{\"kind\":\"hit\",\"memory\":{\"kind\":\"news\",\"id\":\"m1\"}}");
    is_str(fa_stage_hit_kind(r), "news", "hit kind from memory");
    ok(!fa_stage_hit_seen(set, r) && fa_stage_hit_seen(set, r), "second sight is seen");
    json_object_put(r);
    json_object_put(set);
    r = json_tokener_parse(
        "{\"reasoning\":{\"long_term\":\"L\",\"x\":\"X\",\"short_term\":\"S\"}}");
    t = fa_stage_fieldtext(r, "reasoning");
    is_str(t, "short_term: S\nlong_term: L\nx: X", "map text in horizon order");
    free(t);
    json_object_put(r);
    {
        char a[11] = "2023-06-01";
        r = json_tokener_parse("{\"date\":\"2023-06-01\",\"asof\":\"2023-06-05\"}");
        fa_stage_later(a, r);
        is_str(a, "2023-06-05", "later asof");
        fa_stage_later_date(a, "2023-06-02");
        is_str(a, "2023-06-05", "earlier date: no change");
        json_object_put(r);
    }
    return tap_done();
}
