/* test_stage.c: price history, moves, sampling and preferences of fa_stage. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_cli.h"
#include "fa_date.h"
#include "fa_day.h"
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

/* stdout (fa_emit: passed records, error records) goes to a file while
 * the code under test runs, so the TAP stream stays clean. */
static int saved_stdout = -1;

static void capture(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    fflush(stdout);
    saved_stdout = dup(1);
    dup2(fd, 1);
    close(fd);
}

static char *captured(const char *path)
{
    FILE *f;
    char *s = NULL;
    size_t n = 0;
    ssize_t len;

    fflush(stdout);
    dup2(saved_stdout, 1);
    close(saved_stdout);
    f = fopen(path, "r");
    len = f ? getdelim(&s, &n, 0, f) : -1;
    if (f)
        fclose(f);
    if (len < 0) {
        free(s);
        return strdup("");
    }
    return s;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    fputs(text, f);
    fclose(f);
}

/* What fa_stage_run handed over, for the day-loop test. */
struct seen_days {
    char log[1024];
    size_t len;
};

static void on_day(struct fa_day *d, struct json_object *price, bool act, void *arg)
{
    struct seen_days *s = arg;
    int n = snprintf(s->log + s->len, sizeof s->log - s->len, "[%s %s n=%zu price=%d act=%d]",
                     d->day < 0 ? "-" : d->symbol, d->day < 0 ? "-" : d->date, d->n, price != NULL,
                     act);

    if (n > 0 && (size_t)n < sizeof s->log - s->len)
        s->len += (size_t)n;
}

static void count_other(struct json_object *rec, const char *where, void *arg)
{
    (void)rec;
    if (where && strstr(where, ":"))
        ++*(int *)arg;
}

static void test_common(void)
{
    struct fa_stage_opts o = FA_STAGE_OPTS_INIT;
    struct fa_stage_hist *h;
    const struct fa_chart_bar *b;
    char dir[] = "/tmp/fa-stage-XXXXXX", in[512], in2[512], outp[512], hp[512], *out;
    struct seen_days seen = {{0}, 0};
    int d5 = fa_date_from_ymd(2023, 6, 5), v = fa_verbosity, others = 0;

    ok(o.from == -1 && o.hindsight_end == -1 && o.seed == 42 && o.temperature == -1 &&
           !o.save_prompts && !o.history && !o.llm.model,
       "FA_STAGE_OPTS_INIT: the defaults");
    ok(fa_stage_option(&o, FA_STAGE_O_FROM, "2023-06-05") == 1 && o.from == d5, "--from");
    ok(fa_stage_option(&o, FA_STAGE_O_FROM, "2023-13-05") == -1 &&
           strncmp(fa_err_get(), "--from: ", 8) == 0,
       "--from: a bad date is a usage message: %s", fa_err_get());
    ok(fa_stage_option(&o, FA_STAGE_O_HEND, "2023-06-09") == 1 && o.hindsight_end == d5 + 4,
       "--hindsight-end");
    ok(fa_stage_option(&o, FA_STAGE_O_HEND, "x") == -1 &&
           strncmp(fa_err_get(), "--hindsight-end: ", 17) == 0,
       "--hindsight-end: a bad date");
    ok(fa_stage_option(&o, FA_STAGE_O_SEED, "7") == 1 && o.seed == 7, "--seed");
    ok(fa_stage_option(&o, FA_STAGE_O_SEED, "-1") == -1 && strstr(fa_err_get(), "--seed"),
       "--seed: out of range: %s", fa_err_get());
    ok(fa_stage_option(&o, FA_STAGE_O_TEMP, "0.5") == 1 && o.temperature == 0.5, "--temperature");
    ok(fa_stage_option(&o, FA_STAGE_O_TEMP, "3") == -1 && strstr(fa_err_get(), "--temperature"),
       "--temperature: out of range");
    ok(fa_stage_option(&o, FA_STAGE_O_MODEL, "m1") == 1 && strcmp(o.llm.model, "m1") == 0 &&
           !o.llm.vision_model,
       "--model: the chat model only");
    o.vision = true;
    ok(fa_stage_option(&o, FA_STAGE_O_MODEL, "m2") == 1 && strcmp(o.llm.model, "m2") == 0 &&
           o.llm.vision_model && strcmp(o.llm.vision_model, "m2") == 0,
       "--model with vision: the vision model too");
    ok(fa_stage_option(&o, FA_STAGE_O_OFFLINE, NULL) == 1 && strcmp(o.llm.mode, "offline") == 0,
       "--offline");
    ok(fa_stage_option(&o, FA_STAGE_O_SAVE, "dir") == 1 && strcmp(o.save_prompts, "dir") == 0,
       "--save-prompts");
    ok(fa_stage_option(&o, FA_STAGE_O_STRICT, NULL) == 1 && fa_strict, "--strict");
    fa_strict = false;
    ok(fa_stage_option(&o, 'v', NULL) == 1 && fa_verbosity == v + 1, "-v");
    ok(fa_stage_option(&o, 'q', NULL) == 1 && fa_verbosity == 0, "-q");
    fa_verbosity = v;
    ok(fa_stage_option(&o, '?', NULL) == 0 && fa_stage_option(&o, 256, "x") == 0,
       "anything else is not taken");

    if (!mkdtemp(dir)) {
        ok(0, "mkdtemp");
        return;
    }
    snprintf(hp, sizeof hp, "%s/history.ndjson", dir);
    snprintf(in, sizeof in, "%s/in.ndjson", dir);
    snprintf(in2, sizeof in2, "%s/in2.ndjson", dir);
    snprintf(outp, sizeof outp, "%s/out.ndjson", dir);
    write_file(hp, "{\"kind\":\"price\",\"symbol\":\"X\",\"date\":\"2023-06-01\",\"open\":1,"
                   "\"high\":2,\"low\":1,\"close\":2}\n"
                   "{\"kind\":\"news\",\"symbol\":\"X\",\"date\":\"2023-06-01\"}\n"
                   "{\"kind\":\"decision\",\"symbol\":\"X\",\"date\":\"2023-06-01\"}\n");

    /* --history */
    o.history = hp;
    h = fa_stage_hist_open(&o);
    ok(h && fa_stage_hist_bars(h, "X", &b) == 1, "fa_stage_hist_open loads --history");
    ok(fa_stage_hist_load_each(h, hp, count_other, &others) == 1 && others == 2,
       "hist_load_each: prices to the history, the other two records to the callback");
    others = 0;
    ok(fa_stage_hist_load_each(NULL, hp, count_other, &others) == 0 && others == 3,
       "hist_load_each without a history: every record to the callback");
    fa_stage_hist_free(h);
    o.history = "/nonexistent/history.ndjson";
    ok(fa_stage_hist_open(&o) == NULL &&
           strncmp(fa_err_get(), "history '/nonexistent/history.ndjson': ", 39) == 0,
       "a missing --history: %s", fa_err_get());
    o.history = NULL;
    ok((h = fa_stage_hist_open(&o)) != NULL && fa_stage_hist_bars(h, "X", &b) == 0,
       "no --history: an empty history");

    /* the firewall on a day's records */
    {
        struct fa_day d = {0};
        struct json_object *early, *late, *got;
        snprintf(d.symbol, sizeof d.symbol, "X");
        snprintf(d.date, sizeof d.date, "2023-06-05");
        d.day = d5;
        early = json_tokener_parse("{\"kind\":\"intel\",\"symbol\":\"X\",\"date\":"
                                   "\"2023-06-05\",\"asof\":\"2023-06-05\",\"id\":\"a\"}");
        late = json_tokener_parse("{\"kind\":\"intel\",\"symbol\":\"X\",\"date\":"
                                  "\"2023-06-05\",\"asof\":\"2023-06-07\",\"id\":\"b\"}");
        fa_day_add(&d, early, "in:1");
        fa_day_add(&d, late, "in:2");
        capture(outp);
        got = fa_stage_last_of(&d, "intel", -1);
        out = captured(outp);
        ok(got == early, "last_of: the record from after the day is refused");
        ok(strstr(out, "\"kind\":\"error\"") && strstr(out, "firewall") && strstr(out, "in:2"),
           "last_of: the refusal is an error record naming in:2");
        free(out);
        ok(fa_stage_last_of(&d, "intel", d5 + 2) == late,
           "last_of: within the hindsight limit the later one is admitted");
        ok(fa_stage_admit(&d, late, "x:1", d5 + 2) && fa_stage_admit_at(&d, 0, -1),
           "admit, admit_at");
        ok(fa_stage_last_of(&d, "news", -1) == NULL, "last_of: none of the kind");
        fa_day_clear(&d);
        fa_day_free(&d);
    }

    /* the day loop */
    write_file(in, "{\"kind\":\"note\"}\n"
                   "{\"kind\":\"price\",\"symbol\":\"X\",\"date\":\"2023-06-02\",\"open\":1,"
                   "\"high\":2,\"low\":1,\"close\":2}\n"
                   "{\"kind\":\"news\",\"symbol\":\"X\",\"date\":\"2023-06-02\"}\n"
                   "{\"kind\":\"news\",\"symbol\":\"X\",\"date\":\"2023-06-03\"}\n"
                   "{\"kind\":\"price\",\"symbol\":\"X\",\"date\":\"2023-06-05\",\"open\":1,"
                   "\"high\":2,\"low\":1,\"close\":2}\n"
                   "{\"kind\":\"price\",\"symbol\":\"X\",\"date\":\"2023-06-06\",\"open\":0,"
                   "\"high\":2,\"low\":1,\"close\":2}\n"
                   "{\"kind\":\"news\",\"symbol\":\"X\",\"date\":\"2023-06-04\"}\n");
    write_file(in2, "{\"kind\":\"price\",\"symbol\":\"X\",\"date\":\"2023-06-07\",\"open\":1,"
                    "\"high\":2,\"low\":1,\"close\":2}\n");
    o.from = d5;
    o.hindsight_end = -1;
    {
        char *paths[3] = {in, in2, "/nonexistent/in.ndjson"};
        int rc;
        capture(outp);
        rc = fa_stage_run(paths, 2, &o, h, on_day, &seen);
        out = captured(outp);
        ok(rc == 0, "fa_stage_run: two files");
        is_str(seen.log,
               "[- - n=1 price=0 act=0][X 2023-06-02 n=2 price=1 act=0]"
               "[X 2023-06-03 n=1 price=0 act=0][X 2023-06-05 n=1 price=1 act=1]"
               "[X 2023-06-06 n=1 price=0 act=0][X 2023-06-07 n=1 price=1 act=1]",
               "fa_stage_run: each group in order; price and act as documented");
        ok(strstr(out, "2023-06-04 is out of order") != NULL,
           "fa_stage_run: a day out of order is an error record, not handed over");
        ok(strstr(out, "\"kind\":\"note\"") && strstr(out, "2023-06-07"),
           "fa_stage_run: every record passes through");
        ok(fa_stage_hist_bars(h, "X", &b) == 3, "fa_stage_run: the good prices are in the history");
        free(out);
        capture(outp);
        rc = fa_stage_run(paths + 1, 2, &o, h, on_day, &seen);
        free(captured(outp));
        ok(rc == -1 && strstr(fa_err_get(), "/nonexistent/in.ndjson"),
           "fa_stage_run: a missing file is an error: %s", fa_err_get());
    }
    fa_stage_hist_free(h);
    unlink(hp);
    unlink(in);
    unlink(in2);
    unlink(outp);
    rmdir(dir);
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
    ok(fa_stage_hist_add(h, r) == -1 && strstr(fa_err_get(), "'close'"),
       "missing field refused (no close: not even a close-only bar)");
    fa_record_set_num(r, "open", 10);
    fa_record_set_num(r, "close", 10);
    ok(fa_stage_hist_add(h, r) == -1 && strstr(fa_err_get(), "'high'"),
       "an open without high and low refused");
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
    test_common();
    return tap_done();
}
