/* fa_market.h: the one execution model of fa: a simulated single-asset
 * account stepped one trading day at a time, and its metrics.
 *
 * fa-metrics (LLM decisions and rule signals), fa-tools (each tool's past
 * performance) and fa-policy (the RL environment) all trade through this
 * module, so a BUY means the same thing everywhere. Two conventions:
 *
 * FA_MARKET_FINAGENT (FinAgent's own environment, to compare with the
 *   paper): the action decided on day t fills on day t at that day's
 *   adj_close P. BUY spends all cash on floor(cash / P / (1+fee)) shares
 *   (also when already invested, if the leftover cash buys one), paying
 *   shares*P*fee; SELL sells the whole position at P(1-fee); long only.
 *   Then V = cash + position*P and r = V/V_prev - 1 (V_prev starts as the
 *   initial cash). The return series starts as [0], one return is appended
 *   per step. The episode covers trading days D_0..D_K and the caller steps
 *   only D_0..D_{K-1}: no action and no valuation on D_K.
 *
 * FA_MARKET_REALISTIC (the default): the action decided on day t is an
 *   order that fills at day t+1's open (FA_MARKET_FILL_NEXT_OPEN) or, for
 *   fa-policy's "next day's price", at day t+1's close
 *   (FA_MARKET_FILL_NEXT_CLOSE). Prices are adjusted (a bar's open is
 *   scaled by adj_close/close) so splits and dividends do not show up as
 *   gains or losses; the account is marked at adj_close. Buys fill at
 *   px*(1+slippage), sells at px*(1-slippage); commission is
 *   commission_bps of the traded notional, per side. Whole shares.
 *   Long only: BUY = all cash into shares (when it buys at least one),
 *   SELL = close the long. With allow_short the actions are targets:
 *   BUY = fully long (covers a short first), SELL = fully short (closes a
 *   long first, then shorts floor(equity / fill / (1+commission)) shares;
 *   the proceeds stay in cash). A day's return is V_t/V_{t-1} - 1 with V
 *   marked at the close; the first stepped day's return is relative to
 *   the initial cash. An order still pending after the last step is
 *   never filled.
 *
 * In both conventions HOLD and NONE do nothing; NONE ("no usable
 * decision": the model gave none or it could not be parsed, or there is
 * no decision for the day) is counted apart from HOLD. An asked action
 * that is not possible (SELL with nothing to sell, BUY that cannot buy one
 * share) is done as HOLD: state.asked keeps what was asked, state.done
 * says what the account actually did.
 *
 * Thread safety: an account is used by one thread at a time; distinct
 * accounts are independent. No global state. */
#ifndef FA_MARKET_H
#define FA_MARKET_H

#include <stdbool.h>
#include <stddef.h>

enum fa_market_convention {
    FA_MARKET_REALISTIC = 0,
    FA_MARKET_FINAGENT = 1,
};

/* When a realistic order fills (ignored by the finagent convention, which
 * always fills on the decision day's adj_close). */
enum fa_market_fill {
    FA_MARKET_FILL_NEXT_OPEN = 0,  /* default: next trading day's open */
    FA_MARKET_FILL_NEXT_CLOSE = 1, /* next trading day's (adjusted) close */
};

/* Order of these values is part of the contract (fa-policy indexes
 * logits with them): NONE 0, HOLD 1, BUY 2, SELL 3. */
enum fa_market_action {
    FA_MARKET_NONE = 0,
    FA_MARKET_HOLD = 1,
    FA_MARKET_BUY = 2,
    FA_MARKET_SELL = 3,
};

struct fa_market_params {
    enum fa_market_convention convention;
    enum fa_market_fill fill; /* realistic only */
    double cash;              /* initial cash, finite and >= 0 */
    double fee;               /* finagent: fraction per side, 0 <= fee < 1 */
    double commission_bps;    /* realistic: per side, 0 <= x < 10000 */
    double slippage_bps;      /* realistic: per side, 0 <= x < 10000 */
    bool allow_short;         /* realistic only */
};

/* One trading day. day is a fa_date day number; days must strictly
 * increase from step to step. open/high/low/close are unadjusted,
 * adj_close is the split- and dividend-adjusted close (give close when
 * there is none). Prices must be finite and > 0 (high/low are not used
 * by the account and may be 0). A close-only bar (no open in the data)
 * gives open = close: its realistic next-open fill is at the close. */
struct fa_market_bar {
    int day;
    double open, high, low, close, adj_close;
};

/* The account after one step (one account record of fa-metrics). */
struct fa_market_state {
    int day;                     /* the bar's day */
    enum fa_market_action asked; /* the action decided on this day */
    enum fa_market_action done;  /* what the account executed this day:
                                    finagent: asked, or HOLD when it was
                                    not possible; realistic: the fill of
                                    the order decided on the previous
                                    stepped day (NONE when there was no
                                    order, HOLD when it filled nothing) */
    double fill_price;           /* price of that fill; 0 when no fill */
    double shares_traded;        /* shares bought (>0) or sold (<0) */
    double fees;                 /* fee/commission paid this day; the
                                    slippage cost is in fill_price */
    double cash;                 /* after this day's fill */
    double position;             /* shares held; < 0 when short */
    double price;                /* mark price (adj_close) */
    double value;                /* cash + position * price */
    double ret;                  /* value / previous value - 1 */
};

/* Fills p with a convention's defaults: cash 10000; finagent fee 0.001;
 * realistic commission 1 bp, slippage 5 bps, next-open fills, long only. */
void fa_market_params_default(struct fa_market_params *p, enum fa_market_convention c);

/* A new account. Returns NULL with fa_err set when a parameter is out of
 * range (naming it). Caller frees with fa_market_free. */
struct fa_market *fa_market_new(const struct fa_market_params *p)
    __attribute__((warn_unused_result));
void fa_market_free(struct fa_market *m);

/* Steps one trading day: bar is day t's prices, action the decision made
 * on day t (after seeing that bar). Fills as the convention says, marks
 * the account, appends the day's return and, when st is not NULL, stores
 * the account state. Returns 0, or -1 with fa_err set when the bar is
 * invalid (non-positive or non-finite price) or not after the previous
 * one, or the action is not one of the enum; the account is then
 * unchanged. */
int fa_market_step(struct fa_market *m, const struct fa_market_bar *bar,
                   enum fa_market_action action, struct fa_market_state *st)
    __attribute__((warn_unused_result));

/* Whether action is possible now if it filled at price px (> 0; fa-policy
 * passes the latest close, the realistic fill price is not known yet):
 * NONE and HOLD always; BUY when cash buys at least one share at px with
 * costs, or (with allow_short) a short is open; SELL when a long is open,
 * or (with allow_short) the account is not already short. For realistic
 * accounts the state is the one after the last step (an order pending for
 * the next open is not yet reflected). */
bool fa_market_legal(const struct fa_market *m, enum fa_market_action action, double px);

/* The state after the last step (zeroed with cash/value = initial cash
 * before the first step). Never fails. */
void fa_market_state(const struct fa_market *m, struct fa_market_state *st);

/* The return series the metrics use: finagent starts with the leading 0
 * (so it holds steps+1 values); realistic holds one per step after the
 * first (nothing can fill on the first day, whose value is the initial
 * cash). *n gets its length; the pointer is valid until the next step or
 * free (NULL when empty). */
const double *fa_market_returns(const struct fa_market *m, size_t *n);

/* Every figure as a fraction (0.13 for 13%); NAN when undefined (e.g. a
 * ratio over zero volatility). Which ones are filled depends on the
 * convention: */
struct fa_market_metrics {
    enum fa_market_convention convention;
    size_t days; /* stepped days */
    size_t n;    /* returns used (finagent: steps+1) */
    double start_value, end_value;
    double total_return; /* end_value / start_value - 1 (both) */
    /* finagent, over the N returns r: ARR = (prod(1+r) - 1) / N * 252;
     * SR = mean/std*sqrt(N) (population std); MDD on cumprod(1+r);
     * VOL = std; CR = mean*252/MDD; SOR = mean*252/std(negative r). */
    double arr, sr, cr, sor, mdd, vol;
    /* realistic (mdd is shared): CAGR = (end/start)^(252/N) - 1; Sharpe =
     * mean/sd*sqrt(252) with the sample sd; Sortino = mean*252 /
     * (sqrt(mean(min(r,0)^2)) * sqrt(252)); Calmar = CAGR/MDD; annual_vol
     * = sd*sqrt(252). (vol stays the daily population std in both.) */
    double cagr, sharpe, sortino, calmar, annual_vol;
    /* both: fills that traded shares; round trips closed with a profit
     * after costs / round trips closed; fraction of stepped days ending
     * with a non-zero position; traded notional / mean account value;
     * fees paid; days asked NONE, HOLD, BUY, SELL; asked actions that
     * could not be done. */
    size_t trades, round_trips, wins;
    double win_rate, exposure, turnover, fees;
    size_t none_days, hold_days, buy_days, sell_days, refused;
};

/* Computes the metrics of everything stepped so far. Never fails. */
void fa_market_metrics(const struct fa_market *m, struct fa_market_metrics *out);

/* The finagent figures of a return series alone (ARR, SR, CR, SOR, MDD,
 * VOL, total_return = prod(1+r)-1, n). Other fields are left as zero/NAN. */
void fa_market_metrics_finagent(const double *r, size_t n, struct fa_market_metrics *out);

/* Maximum drawdown of the curve 1, cumprod(1+r) as a positive fraction
 * (0 when the curve never falls). */
double fa_market_mdd(const double *r, size_t n);

/* "BUY", "SELL", "HOLD", "NONE" <-> enum. fa_market_action_parse accepts
 * exactly those four upper-case words; returns 0 or -1 with fa_err set. */
const char *fa_market_action_name(enum fa_market_action a);
int fa_market_action_parse(const char *s, enum fa_market_action *a)
    __attribute__((warn_unused_result));

/* "finagent" | "realistic" <-> enum; 0 or -1 with fa_err set. */
const char *fa_market_convention_name(enum fa_market_convention c);
int fa_market_convention_parse(const char *s, enum fa_market_convention *c)
    __attribute__((warn_unused_result));

#endif
