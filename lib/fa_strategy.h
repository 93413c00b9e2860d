/* fa_strategy.h: FinAgent's rule strategies (buy_hold, macd, kdj_rsi,
 * stoch_bb, zmr): their parameters, today's signal on a window of bars
 * with a one-line explanation, and the parameters file.
 *
 * A strategy looks only at the bars it is given (oldest first, the last
 * one is today) and recomputes every recursion from the first of them, as
 * FinAgent's tools do on their 15-bar window. Prices are unadjusted (C, H,
 * L). Crossings are strict: "macd crosses above sig" means macd < sig on
 * the previous bar and macd > sig today. */
#ifndef FA_STRATEGY_H
#define FA_STRATEGY_H

#include <stddef.h>
#include <json-c/json.h>

#include "fa_market.h"

enum fa_strategy_kind {
    FA_STRATEGY_BUY_HOLD = 0,
    FA_STRATEGY_MACD,
    FA_STRATEGY_KDJ_RSI,
    FA_STRATEGY_STOCH_BB,
    FA_STRATEGY_ZMR,
    FA_STRATEGY_COUNT,
};

/* Every strategy's parameters for one symbol. */
struct fa_strategy_params {
    double macd_fast;      /* s: EMA span of the fast line (slow 14, signal 9) */
    double kdj_ilong;      /* RSV lookback, bars (integer >= 1) */
    double kdj_isig;       /* K and D smoothing, bars (integer >= 1) */
    double kdj_ob, kdj_os; /* RSI overbought / oversold levels */
    double sbb_k;          /* Bollinger width in sample sds */
    double sbb_ob, sbb_os; /* %K overbought / oversold levels */
    double zmr_thr;        /* z-score threshold */
};

/* The bars a strategy sees: n values each, oldest first. */
struct fa_strategy_bars {
    const double *high, *low, *close;
    size_t n;
};

/* Built-in parameters (used for a symbol the params file does not name):
 * macd s 12; kdj_rsi 9,3,70,30; stoch_bb 2,80,20; zmr 1. */
void fa_strategy_params_default(struct fa_strategy_params *p);

/* "buy_hold" ... <-> kind. parse returns 0 or -1 with fa_err set. */
const char *fa_strategy_name(enum fa_strategy_kind k);
int fa_strategy_parse(const char *s, enum fa_strategy_kind *k) __attribute__((warn_unused_result));

/* Parses a comma list of strategy names ("all" = every one) into a
 * selection mask (bit k set for kind k). Returns 0 or -1 with fa_err set. */
int fa_strategy_parse_list(const char *s, unsigned *mask) __attribute__((warn_unused_result));

/* Today's action of strategy k on bars b with parameters p: BUY, SELL or
 * HOLD (buy_hold always says BUY: stay fully invested; a BUY when already
 * invested only spends leftover cash). When expl is not NULL writes one
 * readable line with the indicator values into expl (truncated to cap).
 * Fewer bars than a crossing needs (2) gives HOLD and says so. */
enum fa_market_action fa_strategy_signal(enum fa_strategy_kind k,
                                         const struct fa_strategy_params *p,
                                         const struct fa_strategy_bars *b, char *expl, size_t cap);

/* The parameters of strategy k as a new JSON object (caller owns it):
 * macd {"s"}, kdj_rsi {"ilong","isig","ob","os"}, stoch_bb {"k","ob","os"},
 * zmr {"thr"}, buy_hold {}. */
struct json_object *fa_strategy_params_json(enum fa_strategy_kind k,
                                            const struct fa_strategy_params *p);

/* Sets strategy k's fields of p from a JSON object of the shape above;
 * absent keys keep their value. Returns 0, or -1 with fa_err set (a key
 * that is unknown, not a number, or out of range). */
int fa_strategy_params_from_json(enum fa_strategy_kind k, struct json_object *o,
                                 struct fa_strategy_params *p) __attribute__((warn_unused_result));

/* A params file: a JSON object keyed by symbol ("*" = any other symbol),
 * each an object keyed by strategy name holding that strategy's object:
 *   {"AAPL": {"macd": {"s": 6}, "zmr": {"thr": 0.95}, ...}, "*": {...}}
 * fa_strategy_file_lookup fills p with the built-in defaults overlaid
 * with "*" then with the symbol's entry. file may be NULL (defaults).
 * Returns 0, or -1 with fa_err set naming the symbol and strategy. */
int fa_strategy_file_lookup(struct json_object *file, const char *symbol,
                            struct fa_strategy_params *p) __attribute__((warn_unused_result));

/* Reads and checks a params file (every entry parses). Returns a new
 * object (caller puts it), or NULL with fa_err set ("path: why"). */
struct json_object *fa_strategy_file_load(const char *path);

#endif
