/* test_synth.c: the synthetic market: spec parsing, determinism, windows
 * that do not change the data, consistent bars, news on the calendar, and
 * the noise knob leaving prices alone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_date.h"
#include "fa_err.h"
#include "fa_record.h"
#include "fa_synth.h"
#include "tap.h"
#include "fa_banned.h"

static int day(const char *s)
{
    int d = 0;
    if (fa_date_parse(s, &d) != 0)
        abort();
    return d;
}

static int same_bars(const struct fa_provider_data *a, size_t ia, const struct fa_provider_data *b,
                     size_t ib, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a->bars[ia + i], &b->bars[ib + i], sizeof a->bars[0]) != 0)
            return 0;
    return 1;
}

/* Whether a and b hold the same bars, news and guidance. */
static int same_data(const struct fa_provider_data *a, const struct fa_provider_data *b)
{
    if (a->nbars != b->nbars || a->nnews != b->nnews || a->nguidance != b->nguidance ||
        !same_bars(a, 0, b, 0, a->nbars))
        return 0;
    for (size_t i = 0; i < a->nnews; i++)
        if (strcmp(json_object_to_json_string(a->news[i].fields),
                   json_object_to_json_string(b->news[i].fields)) != 0)
            return 0;
    for (size_t i = 0; i < a->nguidance; i++)
        if (strcmp(json_object_to_json_string(a->guidance[i].fields),
                   json_object_to_json_string(b->guidance[i].fields)) != 0)
            return 0;
    return 1;
}

int main(void)
{
    struct fa_synth_opts o = {0}, o2;
    struct fa_provider_data a = {0}, b = {0}, c = {0};
    int from = day("2023-01-03"), to = day("2023-12-29"), bad = 0, nontrading = 0;
    size_t i;

    fa_err_init("test_synth");
    ok(fa_synth_parse("", &o) == 0 && o.seed == 1 && o.noise == 0, "default spec");
    ok(fa_synth_parse(":42", &o) == 0 && o.seed == 42, "seed");
    ok(fa_synth_parse(":42:noise=1", &o) == 0 && o.seed == 42 && o.noise == 1, "seed and noise");
    ok(fa_synth_parse("::noise=0.5", &o) == 0 && o.seed == 1 && o.noise == 0.5,
       "empty seed means default");
    ok(fa_synth_parse(":x", &o) == -1, "non-numeric seed refused");
    ok(fa_synth_parse(":1:noise=2", &o) == -1, "noise above 1 refused");
    ok(fa_synth_parse(":1:colour=red", &o) == -1, "unknown option refused");
    ok(strstr(fa_err_get(), "synth[:SEED]") != NULL, "message says the form: %s", fa_err_get());
    ok(fa_synth_parse("42", &o) == -1, "missing colon refused");

    o.seed = 7;
    o.noise = 0;
    o.cal = FA_CAL_NYSE;
    ok(fa_synth_generate(&o, "AAPL", from, to, &a) == 0, "generate 2023");
    is_num((double)a.nbars, fa_date_count_trading(from, to, FA_CAL_NYSE), 0,
           "one bar per NYSE trading day");
    ok(fa_synth_generate(&o, "AAPL", from, to, &b) == 0 && a.nbars == b.nbars &&
           same_bars(&a, 0, &b, 0, a.nbars),
       "same seed, same bars");
    for (i = 0; i < a.nnews && i < b.nnews; i++) {
        const char *x = json_object_to_json_string(a.news[i].fields);
        const char *y = json_object_to_json_string(b.news[i].fields);
        if (strcmp(x, y) != 0)
            break;
    }
    ok(a.nnews == b.nnews && i == a.nnews && a.nnews > 2 * a.nbars, "same seed, same news (%zu)",
       a.nnews);
    ok(a.nguidance > 5 && a.nguidance < 60, "guidance now and then (%zu)", a.nguidance);
    fa_provider_data_free(&b);

    /* A later window start does not change the data. */
    ok(fa_synth_generate(&o, "AAPL", day("2023-07-03"), to, &b) == 0, "generate from July");
    for (i = 0; i < a.nbars && a.bars[i].day < day("2023-07-03"); i++)
        ;
    ok(b.nbars == a.nbars - i && same_bars(&a, i, &b, 0, b.nbars), "window does not move data");
    fa_provider_data_free(&b);

    /* A process that asks again from a later day resumes where the last
     * call began to keep (as fa-days' fetch does each day): the same bars,
     * news and guidance as a series made from the origin. Another symbol
     * in between makes the next call start from the origin again. */
    {
        struct fa_provider_data x = {0}, y = {0};
        int same = 1, ran = 0;
        for (int d = day("2023-03-01"); d <= day("2023-03-31"); d += 3) {
            struct fa_provider_data m = {0};
            if (fa_synth_generate(&o, "AAPL", d - 30, d, &x) != 0 ||
                fa_synth_generate(&o, "MSFT", d - 30, d, &m) != 0 ||
                fa_synth_generate(&o, "AAPL", d - 30, d, &y) != 0)
                same = 0;
            same = same && same_data(&x, &y) && x.nbars > 15;
            fa_provider_data_free(&x);
            fa_provider_data_free(&y);
            fa_provider_data_free(&m);
            ran++;
        }
        ok(same && ran == 11, "resumed day after day: the series from the origin (%d days)", ran);
    }

    /* Bars are consistent and on the calendar; news on any day. */
    for (i = 0; i < a.nbars; i++) {
        const struct fa_provider_bar *x = &a.bars[i];
        double lo = x->open < x->close ? x->open : x->close;
        double hi = x->open > x->close ? x->open : x->close;
        if (!(x->low <= lo && hi <= x->high && x->low > 0 && x->volume > 0) ||
            !fa_date_is_trading(x->day, FA_CAL_NYSE) || x->adj_close != x->close ||
            fabs(x->close * 100 - floor(x->close * 100 + 0.5)) > 1e-6)
            bad++;
    }
    is_num(bad, 0, 0, "low <= open,close <= high; cents; trading days");
    for (i = 0; i < a.nnews; i++)
        nontrading += !fa_date_is_trading(a.news[i].day, FA_CAL_NYSE);
    ok(nontrading > 10, "some news on weekends and holidays (%d)", nontrading);

    /* Different seed or symbol: different data. */
    o2 = o;
    o2.seed = 8;
    ok(fa_synth_generate(&o2, "AAPL", from, to, &b) == 0 && !same_bars(&a, 0, &b, 0, a.nbars),
       "different seed, different bars");
    fa_provider_data_free(&b);
    ok(fa_synth_generate(&o, "MSFT", from, to, &b) == 0 && !same_bars(&a, 0, &b, 0, a.nbars),
       "different symbol, different bars");
    fa_provider_data_free(&b);

    /* noise=1 keeps the prices, changes the news. */
    o2 = o;
    o2.noise = 1;
    ok(fa_synth_generate(&o2, "AAPL", from, to, &b) == 0 && same_bars(&a, 0, &b, 0, a.nbars),
       "noise leaves prices alone");
    for (i = 0; i < a.nnews && i < b.nnews; i++)
        if (strcmp(fa_record_str(a.news[i].fields, "title"),
                   fa_record_str(b.news[i].fields, "title")) != 0)
            break;
    ok(i < a.nnews, "noise changes the news");
    fa_provider_data_free(&b);

    /* Crypto: every day. */
    o.cal = FA_CAL_CRYPTO;
    ok(fa_synth_generate(&o, "ETHUSD", day("2024-01-01"), day("2024-01-31"), &c) == 0 &&
           c.nbars == 31,
       "crypto calendar: 31 bars in January");
    fa_provider_data_free(&c);

    ok(fa_synth_generate(&o, "AAPL", day("1999-01-01"), day("1999-12-31"), &c) == -1,
       "before the origin refused");
    ok(strstr(fa_err_get(), FA_SYNTH_ORIGIN) != NULL, "%s", fa_err_get());
    fa_provider_data_free(&c);
    fa_provider_data_free(&a);
    return tap_done();
}
