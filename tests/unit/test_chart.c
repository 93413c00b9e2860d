/* test_chart.c: the Kline and trading charts: bands, determinism, text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_chart.h"
#include "fa_date.h"
#include "fa_err.h"
#include "fa_gnuplot.h"
#include "tap.h"
#include "fa_banned.h"

#define NB 24

int main(int argc, char **argv)
{
    struct fa_chart_bar bars[NB];
    struct fa_chart_trade days[NB];
    double ma, up, lo;
    unsigned char *a = NULL, *b = NULL;
    size_t la, lb;
    char *t;
    int d0 = fa_date_from_ymd(2023, 6, 1);

    fa_err_init("test_chart");
    for (int i = 0; i < NB; i++) {
        double c = 100 + 5 * sin(i / 3.0) + i * 0.3;
        bars[i] = (struct fa_chart_bar){
            fa_date_add_trading(d0, i, FA_CAL_NYSE), c - 0.8, c + 1.5, c - 1.7, c, c * 0.99, false};
        days[i].bar = bars[i];
        days[i].action = i == 3 ? 'B' : i == 12 ? 'S' : 0;
        days[i].cumret = (c - 100) / 100;
    }
    /* Bollinger(5,2) by hand on closes 1..5: mean 3, sample sd sqrt(2.5). */
    {
        struct fa_chart_bar h[5];
        for (int i = 0; i < 5; i++)
            h[i].close = i + 1;
        fa_chart_bollinger(h, 4, 5, 2.0, &ma, &up, &lo);
        is_num(ma, 3, 1e-12, "MA5 of 1..5");
        is_num(up, 3 + 2 * sqrt(2.5), 1e-12, "upper band");
        is_num(lo, 3 - 2 * sqrt(2.5), 1e-12, "lower band");
        fa_chart_bollinger(h, 0, 5, 2.0, &ma, &up, &lo);
        ok(ma == 1 && up == 1 && lo == 1, "one bar: no width");
        fa_chart_bollinger(h, 1, 5, 2.0, &ma, &up, &lo);
        is_num(ma, 1.5, 1e-12, "two bars: mean of two");
    }
    t = fa_chart_kline_text(bars, NB, NB - 15, NB - 1);
    ok(strstr(t, "<- today") != NULL, "text marks today");
    ok(strstr(t, "2023-06-01") == NULL, "text shows only the last 15 bars");
    ok(strstr(t, "Today's close") != NULL, "text says where the close is");
    free(t);
    t = fa_chart_trading_text(days, NB);
    ok(strstr(t, "BUY at adjusted close") && strstr(t, "SELL at adjusted close"), "trades in text");
    free(t);
    t = fa_chart_trading_text(days, 0);
    ok(strstr(t, "No trading history") != NULL, "empty history said");
    free(t);
    ok(fa_chart_kline(bars, NB, NB, NB, "x", &a, &la) == -1, "no bars refused");

    /* close-only bars: the close alone, and the text says there is no
     * open, high or low (nothing is made up) */
    struct fa_chart_bar co[NB];
    for (int i = 0; i < NB; i++) {
        co[i] = bars[i];
        co[i].open = co[i].high = co[i].low = co[i].close;
        co[i].close_only = true;
    }
    ok(!fa_chart_close_only(bars, NB, 0) && fa_chart_close_only(co, NB, 0),
       "close-only bars are told apart");
    t = fa_chart_kline_text(co, NB, NB - 15, NB - 1);
    ok(strstr(t, "closing prices only") && strstr(t, "no candlesticks") &&
           !strstr(t, "open      high"),
       "close-only text: no OHLC columns, says why");
    ok(strstr(t, "<- today") && strstr(t, "Today's close"), "close-only text: today and bands");
    free(t);

    if (!fa_gnuplot_path()) {
        printf("ok %d - # SKIP gnuplot not installed\n", ++tap_n);
        return tap_done();
    }
    ok(fa_chart_kline(bars, NB, NB - 15, NB - 1, "TEST Kline", &a, &la) == 0, "kline renders");
    ok(fa_chart_kline(bars, NB, NB - 15, NB - 1, "TEST Kline", &b, &lb) == 0, "kline again");
    ok(la == lb && memcmp(a, b, la) == 0, "kline: same bars, same bytes");
    ok(la > 24 && memcmp(a + 12, "IHDR", 4) == 0 && a[16] == 0 && a[17] == 0 &&
           (a[18] << 8 | a[19]) == FA_CHART_KLINE_W,
       "kline is 600 wide");
    if (argc > 1)
        ok(fa_gnuplot_save(argv[1], a, la) == 0, "saved");
    free(b);
    bars[NB - 1].close += 1;
    ok(fa_chart_kline(bars, NB, NB - 15, NB - 1, "TEST Kline", &b, &lb) == 0, "changed bar");
    ok(la != lb || memcmp(a, b, la) != 0, "a changed bar changes the image");
    free(a);
    free(b);
    ok(fa_chart_kline(co, NB, NB - 15, NB - 1, "TEST close-only", &a, &la) == 0,
       "close-only chart renders");
    ok(fa_chart_kline(bars, NB, NB - 15, NB - 1, "TEST close-only", &b, &lb) == 0 &&
           (la != lb || memcmp(a, b, la) != 0),
       "close-only chart is not the candlestick chart");
    if (argc > 3)
        ok(fa_gnuplot_save(argv[3], a, la) == 0, "saved");
    free(a);
    free(b);
    ok(fa_chart_trading(days, NB, "TEST trading", &a, &la) == 0, "trading renders");
    ok(fa_chart_trading(days, NB, "TEST trading", &b, &lb) == 0, "trading again");
    ok(la == lb && memcmp(a, b, la) == 0, "trading: same days, same bytes");
    ok((a[22] << 8 | a[23]) == FA_CHART_TRADING_H, "trading is 800 high");
    if (argc > 2)
        ok(fa_gnuplot_save(argv[2], a, la) == 0, "saved");
    free(a);
    free(b);
    return tap_done();
}
