/* Unit tests for fa_market: the finagent convention on a hand-computed
 * five-day example, the realistic convention on hand-checked fills
 * (next open, commission, slippage, adjusted prices, shorting), legality
 * of actions, and errors. */
#include <math.h>
#include <string.h>

#include "fa_market.h"
#include "tap.h"
#include "fa_banned.h"

#define TOL 1e-9

static struct fa_market_bar bar(int day, double open, double close, double adj)
{
    struct fa_market_bar b = {day, open, fmax(open, close), fmin(open, close), close, adj};
    return b;
}

static void finagent_example(void)
{
    /* cash 1000, fee 0.001; adj_close 100, 110, 99, 105, 120 on D0..D4;
     * actions BUY, HOLD, SELL, BUY on D0..D3; D4 = D_K is not stepped.
     * D0 P=100 BUY: floor(1000/100/1.001) = floor(9.99) = 9 shares, cost
     *    900 + fee 0.9 -> cash 99.1; V = 99.1 + 900 = 999.1
     * D1 P=110 HOLD: V = 99.1 + 990 = 1089.1
     * D2 P=99 SELL: 9*99*0.999 = 890.109 -> cash 989.209 = V
     * D3 P=105 BUY: floor(989.209/105/1.001) = floor(9.41) = 9, cost 945
     *    + fee 0.945 -> cash 43.264; V = 43.264 + 945 = 988.264
     * returns [0, 999.1/1000-1, 1089.1/999.1-1, 989.209/1089.1-1,
     *          988.264/989.209-1], N = 5 */
    struct fa_market_params p;
    fa_market_params_default(&p, FA_MARKET_FINAGENT);
    p.cash = 1000;
    struct fa_market *m = fa_market_new(&p);
    double px[] = {100, 110, 99, 105};
    enum fa_market_action act[] = {FA_MARKET_BUY, FA_MARKET_HOLD, FA_MARKET_SELL, FA_MARKET_BUY};
    double want_v[] = {999.1, 1089.1, 989.209, 988.264};
    double want_cash[] = {99.1, 99.1, 989.209, 43.264};
    double want_pos[] = {9, 9, 0, 9};
    struct fa_market_state st;
    for (int i = 0; i < 4; i++) {
        struct fa_market_bar b = bar(19000 + i, px[i] + 1, px[i] + 2, px[i]);
        ok(fa_market_step(m, &b, act[i], &st) == 0, "finagent step %d", i);
        is_num(st.value, want_v[i], 1e-9, "finagent value");
        is_num(st.cash, want_cash[i], 1e-9, "finagent cash");
        is_num(st.position, want_pos[i], 0, "finagent position");
        is_num(st.fill_price, i == 1 ? 0 : px[i], 0, "finagent fills at adj_close");
    }
    is_num(st.fees, 0.945, 1e-12, "fee of the last buy is 945 * 0.001");

    double v[] = {1000, 999.1, 1089.1, 989.209, 988.264};
    double r[5] = {0};
    for (int i = 1; i < 5; i++)
        r[i] = v[i] / v[i - 1] - 1;
    size_t n;
    const double *got = fa_market_returns(m, &n);
    is_num((double)n, 5, 0, "returns start with [0]: N = steps + 1");
    for (int i = 0; i < 5; i++)
        is_num(got[i], r[i], 1e-12, "return");

    /* the metrics, each by its formula on these returns */
    double mean = 0, var = 0;
    for (int i = 0; i < 5; i++)
        mean += r[i] / 5;
    for (int i = 0; i < 5; i++)
        var += (r[i] - mean) * (r[i] - mean) / 5; /* population */
    double sd = sqrt(var);
    /* negative returns: r1, r3, r4 (r2 > 0) */
    double nm = (r[1] + r[3] + r[4]) / 3;
    double nv =
        ((r[1] - nm) * (r[1] - nm) + (r[3] - nm) * (r[3] - nm) + (r[4] - nm) * (r[4] - nm)) / 3;
    /* curve 1, 0.9991, 1.0891, 0.989209, 0.988264: peak 1.0891, trough
     * 0.988264 -> MDD (1.0891-0.988264)/1.0891 */
    double mdd = (1.0891 - 0.988264) / 1.0891;
    struct fa_market_metrics mm;
    fa_market_metrics(m, &mm);
    is_num(mm.arr, (0.988264 - 1) / 5 * 252, 1e-9, "ARR = (prod-1)/N*252 = -0.5915");
    is_num(mm.sr, mean / sd * sqrt(5), 1e-9, "SR = mean/std*sqrt(N)");
    is_num(mm.vol, sd, 1e-12, "VOL = population std");
    is_num(mm.mdd, mdd, 1e-9, "MDD = 9.259%");
    is_num(mm.cr, mean * 252 / mdd, 1e-9, "CR = mean*252/MDD");
    is_num(mm.sor, mean * 252 / sqrt(nv), 1e-9, "SOR = mean*252/std(negative)");
    is_num(mm.total_return, -0.011736, 1e-9, "total return");
    is_num((double)mm.trades, 3, 0, "three fills");
    is_num((double)mm.round_trips, 1, 0, "one round trip");
    is_num(mm.win_rate, 0, 0, "890.109 back for 900.9 spent: a loss");
    fa_market_free(m);

    /* the same figures from the return series alone */
    fa_market_metrics_finagent(r, 5, &mm);
    is_num(mm.arr, (0.988264 - 1) / 5 * 252, 1e-9, "metrics_finagent ARR");
    is_num(mm.sor, mean * 252 / sqrt(nv), 1e-9, "metrics_finagent SOR");
}

static void finagent_rules(void)
{
    struct fa_market_params p;
    fa_market_params_default(&p, FA_MARKET_FINAGENT);
    p.cash = 250;
    struct fa_market *m = fa_market_new(&p);
    struct fa_market_state st;
    struct fa_market_bar b = bar(100, 100, 100, 100);
    ok(!fa_market_legal(m, FA_MARKET_SELL, 100), "SELL is illegal with no position");
    ok(fa_market_legal(m, FA_MARKET_BUY, 100), "BUY is legal when cash buys a share");
    ok(!fa_market_legal(m, FA_MARKET_BUY, 300), "BUY is illegal when cash cannot buy one");
    ok(fa_market_step(m, &b, FA_MARKET_SELL, &st) == 0, "an illegal SELL steps");
    is_str(fa_market_action_name(st.done), "HOLD", "an illegal SELL is done as HOLD");
    is_str(fa_market_action_name(st.asked), "SELL", "asked keeps SELL");
    /* 250/100/1.001 = 2.4975 -> 2 shares, 50 - 0.2 = 49.8 left */
    b = bar(101, 100, 100, 100);
    ok(fa_market_step(m, &b, FA_MARKET_BUY, &st) == 0 && st.position == 2, "BUY 2 shares");
    /* at 40 the leftover 49.8 buys one more: 49.8/40/1.001 = 1.24 */
    b = bar(102, 40, 40, 40);
    ok(fa_market_step(m, &b, FA_MARKET_BUY, &st) == 0, "BUY again");
    is_num(st.position, 3, 0, "BUY when invested spends the leftover cash");
    is_num(st.cash, 49.8 - 40 - 0.04, 1e-9, "leftover after the second buy");
    ok(!fa_market_legal(m, FA_MARKET_BUY, 40), "BUY illegal with 9.76 cash at 40");
    ok(fa_market_legal(m, FA_MARKET_SELL, 40), "SELL legal with a position");
    b = bar(102, 40, 40, 40);
    ok(fa_market_step(m, &b, FA_MARKET_HOLD, &st) < 0, "a repeated day is refused");
    b = bar(103, 40, 40, -1);
    ok(fa_market_step(m, &b, FA_MARKET_HOLD, &st) < 0, "a negative price is refused");
    b = bar(103, 40, 40, 40);
    ok(fa_market_step(m, &b, (enum fa_market_action)7, &st) < 0, "an unknown action is refused");
    fa_market_state(m, &st);
    is_num(st.day, 102, 0, "the account is unchanged after errors");
    fa_market_free(m);

    p.cash = -1;
    ok(fa_market_new(&p) == NULL, "negative cash is refused");
    p.cash = 10;
    p.fee = 1;
    ok(fa_market_new(&p) == NULL, "fee 1 is refused");
}

static void realistic_fills(void)
{
    /* cash 1000, commission 10 bps, slippage 20 bps, long only.
     * D0 (close 100) asks BUY: nothing fills on D0, V = 1000.
     * D1 open 102: buy at 102*1.002 = 102.204; floor(1000/102.204/1.001)
     *    = floor(9.77) = 9; cost 919.836 + commission 0.919836 -> cash
     *    79.244164; close 104 -> V = 79.244164 + 936 = 1015.244164.
     * D2 (close 103) asks SELL; D2's fill is D1's HOLD: nothing.
     *    V = 79.244164 + 927 = 1006.244164.
     * D3 open 101: sell at 101*0.998 = 100.798; 9 shares = 907.182 less
     *    0.907182 -> cash 985.518982 = V. The round trip lost money. */
    struct fa_market_params p;
    fa_market_params_default(&p, FA_MARKET_REALISTIC);
    p.cash = 1000;
    p.commission_bps = 10;
    p.slippage_bps = 20;
    struct fa_market *m = fa_market_new(&p);
    struct fa_market_state st;
    struct fa_market_bar b0 = bar(200, 99, 100, 100), b1 = bar(201, 102, 104, 104),
                         b2 = bar(202, 106, 103, 103), b3 = bar(203, 101, 100, 100);
    ok(fa_market_step(m, &b0, FA_MARKET_BUY, &st) == 0, "realistic D0");
    is_num(st.value, 1000, 0, "nothing fills on the decision day");
    is_str(fa_market_action_name(st.done), "NONE", "no order to fill on the first day");
    ok(fa_market_step(m, &b1, FA_MARKET_HOLD, &st) == 0, "realistic D1");
    is_str(fa_market_action_name(st.done), "BUY", "D0's BUY fills on D1");
    is_num(st.fill_price, 102.204, 1e-9, "at the open plus slippage");
    is_num(st.position, 9, 0, "9 whole shares");
    is_num(st.fees, 0.919836, 1e-9, "commission 10 bps of 919.836");
    is_num(st.value, 1015.244164, 1e-9, "marked at the close");
    ok(fa_market_step(m, &b2, FA_MARKET_SELL, &st) == 0, "realistic D2");
    is_num(st.value, 1006.244164, 1e-9, "D2 value");
    ok(fa_market_step(m, &b3, FA_MARKET_NONE, &st) == 0, "realistic D3");
    is_num(st.fill_price, 100.798, 1e-9, "sell at the open less slippage");
    is_num(st.cash, 985.518982, 1e-9, "cash after the sale");
    is_num(st.position, 0, 0, "flat");
    struct fa_market_metrics mm;
    fa_market_metrics(m, &mm);
    is_num((double)mm.n, 3, 0, "realistic returns start after the first day");
    is_num(mm.total_return, -0.014481018, 1e-12, "total return");
    is_num(mm.cagr, pow(0.985518982, 252.0 / 3) - 1, 1e-12, "CAGR over 3 periods");
    is_num(mm.win_rate, 0, 0, "a losing round trip");
    is_num(mm.exposure, 0.5, 0, "invested at 2 closes of 4");
    is_num((double)mm.none_days, 1, 0, "one day without a decision");
    is_num((double)mm.hold_days, 1, 0, "one HOLD, counted apart");
    is_num(mm.fees, 0.919836 + 0.907182, 1e-9, "fees add up");
    /* the returns: 1015.244164/1000-1, 1006.244164/1015.244164-1,
     * 985.518982/1006.244164-1; Sharpe by the sample sd */
    double r[3] = {0.015244164, 1006.244164 / 1015.244164 - 1, 985.518982 / 1006.244164 - 1};
    double mu = (r[0] + r[1] + r[2]) / 3, s2 = 0, dd = 0;
    for (int i = 0; i < 3; i++) {
        s2 += (r[i] - mu) * (r[i] - mu) / 2;
        dd += r[i] < 0 ? r[i] * r[i] / 3 : 0;
    }
    is_num(mm.sharpe, mu / sqrt(s2) * sqrt(252), 1e-9, "Sharpe with sqrt(252)");
    is_num(mm.annual_vol, sqrt(s2) * sqrt(252), 1e-12, "annualised volatility");
    is_num(mm.sortino, mu * 252 / (sqrt(dd) * sqrt(252)), 1e-9, "Sortino");
    fa_market_free(m);

    /* adjusted prices: close 200 adjusted to 100 halves the open too */
    fa_market_params_default(&p, FA_MARKET_REALISTIC);
    p.commission_bps = p.slippage_bps = 0;
    p.cash = 1000;
    m = fa_market_new(&p);
    b0 = bar(300, 200, 200, 100);
    b1 = bar(301, 210, 200, 100);
    ok(fa_market_step(m, &b0, FA_MARKET_BUY, &st) == 0 && fa_market_step(m, &b1, 0, &st) == 0,
       "adjusted steps");
    is_num(st.fill_price, 105, 1e-12, "the open is adjusted by adj_close/close");
    is_num(st.position, 9, 0, "1000/105 -> 9 shares");
    fa_market_free(m);

    /* next-close fills (fa-policy's "next day's price") */
    p.fill = FA_MARKET_FILL_NEXT_CLOSE;
    m = fa_market_new(&p);
    b0 = bar(300, 100, 100, 100);
    b1 = bar(301, 90, 125, 125);
    ok(fa_market_step(m, &b0, FA_MARKET_BUY, &st) == 0 && fa_market_step(m, &b1, 0, &st) == 0,
       "next-close steps");
    is_num(st.fill_price, 125, 0, "filled at the next close");
    is_num(st.position, 8, 0, "1000/125 = 8 shares");
    fa_market_free(m);
}

static void realistic_short(void)
{
    /* cash 1000, no costs, short allowed.
     * D0 asks SELL -> D1 open 100: short floor(1000/100) = 10, cash 2000;
     *    close 90: V = 2000 - 900 = 1100.
     * D1 asks BUY -> D2 open 80: cover 10 at 80 (cash 1200), then buy
     *    floor(1200/80) = 15 -> cash 0; close 80: V = 1200.
     * The short won 200: one winning round trip. */
    struct fa_market_params p;
    fa_market_params_default(&p, FA_MARKET_REALISTIC);
    p.cash = 1000;
    p.commission_bps = p.slippage_bps = 0;
    p.allow_short = true;
    struct fa_market *m = fa_market_new(&p);
    struct fa_market_state st;
    struct fa_market_bar b0 = bar(400, 100, 100, 100), b1 = bar(401, 100, 90, 90),
                         b2 = bar(402, 80, 80, 80);
    ok(fa_market_legal(m, FA_MARKET_SELL, 100), "SELL legal when flat with shorting");
    ok(fa_market_step(m, &b0, FA_MARKET_SELL, &st) == 0, "short D0");
    ok(fa_market_step(m, &b1, FA_MARKET_BUY, &st) == 0, "short D1");
    is_num(st.position, -10, 0, "short 10 shares");
    is_num(st.cash, 2000, 1e-9, "proceeds in cash");
    is_num(st.value, 1100, 1e-9, "short gains as the price falls");
    ok(!fa_market_legal(m, FA_MARKET_SELL, 90), "SELL illegal when already short");
    ok(fa_market_legal(m, FA_MARKET_BUY, 1e9), "BUY legal to cover a short");
    ok(fa_market_step(m, &b2, FA_MARKET_HOLD, &st) == 0, "short D2");
    is_num(st.position, 15, 0, "covered and long 15");
    is_num(st.shares_traded, 25, 0, "25 shares bought");
    is_num(st.value, 1200, 1e-9, "value 1200");
    struct fa_market_metrics mm;
    fa_market_metrics(m, &mm);
    is_num(mm.win_rate, 1, 0, "the short was a win");
    is_num((double)mm.trades, 2, 0, "two fills");
    fa_market_free(m);
}

static void names(void)
{
    enum fa_market_action a;
    enum fa_market_convention c;
    ok(fa_market_action_parse("SELL", &a) == 0 && a == FA_MARKET_SELL, "parse SELL");
    ok(fa_market_action_parse("buy", &a) < 0, "lower case is not an action");
    ok(fa_market_action_parse("NONE", &a) == 0 && a == FA_MARKET_NONE, "parse NONE");
    ok(fa_market_convention_parse("finagent", &c) == 0 && c == FA_MARKET_FINAGENT, "finagent");
    ok(fa_market_convention_parse("paper", &c) < 0, "unknown convention");
    double flat[] = {0.1, -0.5, 0.2};
    /* 1.1, 0.55, 0.66: peak 1.1, trough 0.55 -> 0.5 */
    is_num(fa_market_mdd(flat, 3), 0.5, 1e-12, "mdd of 1.1, 0.55, 0.66 is 50%");
}

int main(void)
{
    finagent_example();
    finagent_rules();
    realistic_fills();
    realistic_short();
    names();
    return tap_done();
}
