/* Unit tests for fa_strategy: each rule on crafted series where the
 * crossing (or the threshold) is known, the explanation line, parameters
 * as JSON and the params file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "fa_err.h"
#include "fa_indicator.h"
#include "fa_strategy.h"
#include "tap.h"
#include "fa_banned.h"

static double H[64], L[64];

static struct fa_strategy_bars bars(const double *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        H[i] = c[i] + 0.5;
        L[i] = c[i] - 0.5;
    }
    struct fa_strategy_bars b = {H, L, c, n};
    return b;
}

static const char *act(enum fa_market_action a)
{
    return fa_market_action_name(a);
}

static void macd(void)
{
    struct fa_strategy_params p;
    fa_strategy_params_default(&p);
    p.macd_fast = 6;
    char e[512];
    double m[16], s[16];
    /* nine falling closes then a jump: the fast line was below its signal
     * and jumps above it on the last bar */
    double down[] = {20, 19, 18, 17, 16, 15, 14, 13, 12, 20};
    struct fa_strategy_bars b = bars(down, 10);
    fa_ind_macd(down, 10, 6, 14, 9, m, s);
    ok(m[8] < s[8] && m[9] > s[9], "the crafted series crosses up on the last bar");
    is_str(act(fa_strategy_signal(FA_STRATEGY_MACD, &p, &b, e, sizeof(e))), "BUY",
           "macd BUY on an upward crossing");
    ok(strstr(e, "crossed above") && strstr(e, "MACD(6,14,9)") && strstr(e, "-> BUY"),
       "the explanation names the crossing and values");
    ok(!strchr(e, '\n'), "the explanation is one line");
    double up[] = {12, 13, 14, 15, 16, 17, 18, 19, 20, 12};
    b = bars(up, 10);
    is_str(act(fa_strategy_signal(FA_STRATEGY_MACD, &p, &b, e, sizeof(e))), "SELL",
           "macd SELL on a downward crossing");
    double trend[] = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
    b = bars(trend, 10);
    fa_ind_macd(trend, 10, 6, 14, 9, m, s);
    ok(m[8] > s[8] && m[9] > s[9], "a steady rise stays above the signal");
    is_str(act(fa_strategy_signal(FA_STRATEGY_MACD, &p, &b, e, sizeof(e))), "HOLD",
           "macd HOLD without a crossing");
    b = bars(trend, 1);
    is_str(act(fa_strategy_signal(FA_STRATEGY_MACD, &p, &b, e, sizeof(e))), "HOLD",
           "one bar is too few");
    ok(strstr(e, "too few") != NULL, "and says so");
}

static void kdj(void)
{
    /* decline with a dip then a rebound: J 22.92 < D 34.27 yesterday, J
     * 40.77 > D 34.46 today (KDJ 5,3); RSI(14) 45.20 */
    double c[] = {20, 19.5, 19.8, 19, 18.2, 18.5, 17.6, 17.8, 18.3, 16.5, 15, 18};
    struct fa_strategy_bars b = bars(c, 12);
    struct fa_strategy_params p;
    fa_strategy_params_default(&p);
    p.kdj_ilong = 5;
    p.kdj_isig = 3;
    p.kdj_os = 50;
    p.kdj_ob = 50;
    char e[512];
    double k[16], d[16], j[16], r[16];
    fa_ind_kdj(H, L, c, 12, 5, 3, k, d, j);
    fa_ind_rsi(c, 12, 14, r);
    ok(j[10] < d[10] && j[11] > d[11], "J crosses above D on the last bar");
    is_num(r[11], 45.1984932453213, 1e-9, "RSI(14) is 45.20");
    is_str(act(fa_strategy_signal(FA_STRATEGY_KDJ_RSI, &p, &b, e, sizeof(e))), "BUY",
           "kdj_rsi BUY: J crosses above D with RSI below 50");
    p.kdj_os = 40;
    is_str(act(fa_strategy_signal(FA_STRATEGY_KDJ_RSI, &p, &b, e, sizeof(e))), "HOLD",
           "kdj_rsi HOLD when RSI is not below the oversold level");
    ok(strstr(e, "not below 40") != NULL, "the explanation says why");
    /* the mirror image: J crosses below D, RSI 54.80 */
    double c2[12];
    for (int i = 0; i < 12; i++)
        c2[i] = 40 - c[i];
    b = bars(c2, 12);
    is_str(act(fa_strategy_signal(FA_STRATEGY_KDJ_RSI, &p, &b, e, sizeof(e))), "SELL",
           "kdj_rsi SELL: J crosses below D with RSI above 50");
    p.kdj_ob = 60;
    is_str(act(fa_strategy_signal(FA_STRATEGY_KDJ_RSI, &p, &b, e, sizeof(e))), "HOLD",
           "kdj_rsi HOLD when RSI is not above the overbought level");
}

static void stoch_zmr(void)
{
    /* thirteen closes at 10 then 8: mean 138/14 = 9.857, sample sd
     * sqrt((13*(1/7)^2 + (13/7)^2)/13) = 0.5345; z = (8-9.857)/0.5345 =
     * -3.47; %K = 100*(8-7.5)/(10.5-7.5) = 16.7 */
    double c[14];
    for (int i = 0; i < 13; i++)
        c[i] = 10;
    c[13] = 8;
    struct fa_strategy_bars b = bars(c, 14);
    struct fa_strategy_params p;
    fa_strategy_params_default(&p);
    char e[512];
    is_str(act(fa_strategy_signal(FA_STRATEGY_ZMR, &p, &b, e, sizeof(e))), "BUY",
           "zmr BUY far below the mean");
    ok(strstr(e, "-3.474") != NULL, "the explanation shows z = -3.474");
    p.zmr_thr = 3.5;
    is_str(act(fa_strategy_signal(FA_STRATEGY_ZMR, &p, &b, e, sizeof(e))), "HOLD",
           "zmr HOLD within a 3.5 threshold");
    is_str(act(fa_strategy_signal(FA_STRATEGY_STOCH_BB, &p, &b, e, sizeof(e))), "BUY",
           "stoch_bb BUY: %K 16.7 < 20 and 8 < 9.857 - 2*0.5345");
    p.sbb_os = 15;
    is_str(act(fa_strategy_signal(FA_STRATEGY_STOCH_BB, &p, &b, e, sizeof(e))), "HOLD",
           "stoch_bb HOLD when %K is not below 15");
    c[13] = 12;
    fa_strategy_params_default(&p);
    b = bars(c, 14);
    is_str(act(fa_strategy_signal(FA_STRATEGY_ZMR, &p, &b, e, sizeof(e))), "SELL",
           "zmr SELL far above the mean");
    is_str(act(fa_strategy_signal(FA_STRATEGY_STOCH_BB, &p, &b, e, sizeof(e))), "SELL",
           "stoch_bb SELL: %K 83.3 > 80 and above the upper band");
    is_str(act(fa_strategy_signal(FA_STRATEGY_BUY_HOLD, &p, &b, e, sizeof(e))), "BUY",
           "buy_hold always says BUY");
}

static void params(void)
{
    unsigned mask;
    enum fa_strategy_kind k;
    ok(fa_strategy_parse_list("macd,zmr", &mask) == 0 &&
           mask == ((1u << FA_STRATEGY_MACD) | (1u << FA_STRATEGY_ZMR)),
       "a comma list");
    ok(fa_strategy_parse_list("all", &mask) == 0 && mask == 31, "all");
    ok(fa_strategy_parse_list("macd,,zmr", &mask) < 0, "an empty name is refused");
    ok(fa_strategy_parse_list("macd,rsi", &mask) < 0, "an unknown name is refused");
    ok(fa_strategy_parse("stoch_bb", &k) == 0 && k == FA_STRATEGY_STOCH_BB, "parse one");

    struct fa_strategy_params p;
    fa_strategy_params_default(&p);
    struct json_object *o = json_tokener_parse("{\"ilong\":7,\"isig\":3,\"ob\":72,\"os\":45}");
    ok(fa_strategy_params_from_json(FA_STRATEGY_KDJ_RSI, o, &p) == 0, "kdj params parse");
    json_object_put(o);
    o = fa_strategy_params_json(FA_STRATEGY_KDJ_RSI, &p);
    is_str(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
           "{\"ilong\":7,\"isig\":3,\"ob\":72,\"os\":45}", "and print back");
    json_object_put(o);
    o = json_tokener_parse("{\"ilong\":7.5}");
    ok(fa_strategy_params_from_json(FA_STRATEGY_KDJ_RSI, o, &p) < 0, "ilong must be whole");
    json_object_put(o);
    o = json_tokener_parse("{\"thr\":\"1\"}");
    ok(fa_strategy_params_from_json(FA_STRATEGY_ZMR, o, &p) < 0, "a string is not a number");
    json_object_put(o);
    o = json_tokener_parse("{\"span\":3}");
    ok(fa_strategy_params_from_json(FA_STRATEGY_MACD, o, &p) < 0, "an unknown key is refused");
    ok(strstr(fa_err_get(), "span") != NULL, "and named");
    json_object_put(o);

    char path[] = "/tmp/fa-test-params.XXXXXX";
    int fd = mkstemp(path);
    const char *text = "{\"*\":{\"zmr\":{\"thr\":2}},\"AAPL\":{\"macd\":{\"s\":6},"
                       "\"zmr\":{\"thr\":0.949816047538945}}}";
    ok(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write a params file");
    close(fd);
    struct json_object *f = fa_strategy_file_load(path);
    ok(f != NULL, "load it");
    ok(fa_strategy_file_lookup(f, "AAPL", &p) == 0, "look up AAPL");
    is_num(p.macd_fast, 6, 0, "AAPL macd s = 6");
    is_num(p.zmr_thr, 0.949816047538945, 0, "AAPL's own zmr threshold, exact");
    ok(fa_strategy_file_lookup(f, "MSFT", &p) == 0, "look up MSFT");
    is_num(p.zmr_thr, 2, 0, "\"*\" applies to other symbols");
    is_num(p.macd_fast, 12, 0, "defaults elsewhere");
    json_object_put(f);
    fd = open(path, O_WRONLY | O_TRUNC);
    text = "{\"AAPL\":{\"macd\":{\"s\":0}}}";
    ok(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write a bad file");
    close(fd);
    ok(fa_strategy_file_load(path) == NULL, "a bad value is refused on load");
    ok(strstr(fa_err_get(), "AAPL") && strstr(fa_err_get(), "macd"), "naming symbol, strategy");
    unlink(path);
    ok(fa_strategy_file_load(path) == NULL, "a missing file is refused");
}

int main(void)
{
    macd();
    kdj();
    stoch_zmr();
    params();
    return tap_done();
}
