/* fa_strategy.c: FinAgent's rule strategies on a window of bars, and
 * their parameters file (contract in fa_strategy.h). */
#include <stdbool.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_err.h"
#include "fa_record.h"
#include "fa_indicator.h"
#include "fa_strategy.h"
#include "fa_banned.h"

#define RSI_SPAN  14.0
#define MACD_SLOW 14.0
#define MACD_SIG  9.0
#define STAT_LEN  14 /* bars of %K, Bollinger and z-score */

static const char *const names[FA_STRATEGY_COUNT] = {"buy_hold", "macd", "kdj_rsi", "stoch_bb",
                                                     "zmr"};

void fa_strategy_params_default(struct fa_strategy_params *p)
{
    p->macd_fast = 12;
    p->kdj_ilong = 9;
    p->kdj_isig = 3;
    p->kdj_ob = 70;
    p->kdj_os = 30;
    p->sbb_k = 2;
    p->sbb_ob = 80;
    p->sbb_os = 20;
    p->zmr_thr = 1;
}

const char *fa_strategy_name(enum fa_strategy_kind k)
{
    return k < FA_STRATEGY_COUNT ? names[k] : "?";
}

int fa_strategy_parse(const char *s, enum fa_strategy_kind *k)
{
    for (int i = 0; i < FA_STRATEGY_COUNT; i++)
        if (strcmp(s, names[i]) == 0) {
            *k = (enum fa_strategy_kind)i;
            return 0;
        }
    fa_err_set("unknown strategy '%s' (want buy_hold, macd, kdj_rsi, stoch_bb or zmr)", s);
    return -1;
}

int fa_strategy_parse_list(const char *s, unsigned *mask)
{
    unsigned m = 0;
    const char *p = s;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char word[32];
        if (len == 0 || len >= sizeof(word)) {
            fa_err_set("invalid strategy list '%s'", s);
            return -1;
        }
        memcpy(word, p, len);
        word[len] = 0;
        if (strcmp(word, "all") == 0) {
            m |= (1u << FA_STRATEGY_COUNT) - 1;
        } else {
            enum fa_strategy_kind k;
            if (fa_strategy_parse(word, &k) < 0)
                return -1;
            m |= 1u << k;
        }
        if (!e)
            break;
        p = e + 1;
    }
    *mask = m;
    return 0;
}

static const char *act(enum fa_market_action a)
{
    return fa_market_action_name(a);
}

static enum fa_market_action sig_macd(const struct fa_strategy_params *p,
                                      const struct fa_strategy_bars *b, double *buf, char *e,
                                      size_t cap)
{
    size_t n = b->n;
    double *macd = buf, *sig = buf + n;
    fa_ind_macd(b->close, n, p->macd_fast, MACD_SLOW, MACD_SIG, macd, sig);
    double m1 = macd[n - 1], s1 = sig[n - 1], m0 = macd[n - 2], s0 = sig[n - 2];
    enum fa_market_action a = FA_MARKET_HOLD;
    const char *why = "no crossing";
    if (m0 < s0 && m1 > s1) {
        a = FA_MARKET_BUY;
        why = "MACD crossed above its signal line";
    } else if (m0 > s0 && m1 < s1) {
        a = FA_MARKET_SELL;
        why = "MACD crossed below its signal line";
    }
    if (e)
        snprintf(e, cap,
                 "MACD(%g,%g,%g) over %zu bars: MACD %.4f vs signal %.4f today, %.4f vs %.4f "
                 "yesterday: %s -> %s",
                 p->macd_fast, MACD_SLOW, MACD_SIG, n, m1, s1, m0, s0, why, act(a));
    return a;
}

static enum fa_market_action sig_kdj(const struct fa_strategy_params *p,
                                     const struct fa_strategy_bars *b, double *buf, char *e,
                                     size_t cap)
{
    size_t n = b->n;
    double *k = buf, *d = buf + n, *j = buf + 2 * n, *rsi = buf + 3 * n;
    fa_ind_kdj(b->high, b->low, b->close, n, (size_t)p->kdj_ilong, (size_t)p->kdj_isig, k, d, j);
    fa_ind_rsi(b->close, n, RSI_SPAN, rsi);
    double j1 = j[n - 1], d1 = d[n - 1], j0 = j[n - 2], d0 = d[n - 2], r = rsi[n - 1];
    enum fa_market_action a = FA_MARKET_HOLD;
    char why[96];
    bool up = j0 < d0 && j1 > d1, down = j0 > d0 && j1 < d1;
    if (up && r < p->kdj_os) {
        a = FA_MARKET_BUY;
        snprintf(why, sizeof(why), "J crossed above D with RSI below %g", p->kdj_os);
    } else if (down && r > p->kdj_ob) {
        a = FA_MARKET_SELL;
        snprintf(why, sizeof(why), "J crossed below D with RSI above %g", p->kdj_ob);
    } else if (up) {
        snprintf(why, sizeof(why), "J crossed above D but RSI is not below %g", p->kdj_os);
    } else if (down) {
        snprintf(why, sizeof(why), "J crossed below D but RSI is not above %g", p->kdj_ob);
    } else {
        snprintf(why, sizeof(why), "no J/D crossing");
    }
    if (e)
        snprintf(e, cap,
                 "KDJ(%g,%g) over %zu bars: K %.2f, D %.2f, J %.2f today, J %.2f vs D %.2f "
                 "yesterday; RSI(14) %.2f (overbought %g, oversold %g): %s -> %s",
                 p->kdj_ilong, p->kdj_isig, n, k[n - 1], d1, j1, j0, d0, r, p->kdj_ob, p->kdj_os,
                 why, act(a));
    return a;
}

static enum fa_market_action sig_sbb(const struct fa_strategy_params *p,
                                     const struct fa_strategy_bars *b, char *e, size_t cap)
{
    size_t n = b->n;
    double pk = fa_ind_stoch_k(b->high, b->low, b->close, n, STAT_LEN);
    double mu, sd, c = b->close[n - 1];
    fa_ind_mean_sd(b->close, n, STAT_LEN, &mu, &sd);
    double lo = mu - p->sbb_k * sd, hi = mu + p->sbb_k * sd;
    enum fa_market_action a = FA_MARKET_HOLD;
    const char *why = "neither oversold below the lower band nor overbought above the upper";
    if (pk < p->sbb_os && c < lo) {
        a = FA_MARKET_BUY;
        why = "%K oversold and close below the lower band";
    } else if (pk > p->sbb_ob && c > hi) {
        a = FA_MARKET_SELL;
        why = "%K overbought and close above the upper band";
    }
    if (e)
        snprintf(e, cap,
                 "Stochastic %%K(14) %.2f (overbought %g, oversold %g); close %.2f vs Bollinger "
                 "bands %.2f..%.2f (mean %.2f, %g sd of %.2f): %s -> %s",
                 pk, p->sbb_ob, p->sbb_os, c, lo, hi, mu, p->sbb_k, sd, why, act(a));
    return a;
}

static enum fa_market_action sig_zmr(const struct fa_strategy_params *p,
                                     const struct fa_strategy_bars *b, char *e, size_t cap)
{
    size_t n = b->n;
    double mu, sd, c = b->close[n - 1];
    fa_ind_mean_sd(b->close, n, STAT_LEN, &mu, &sd);
    double z = fa_ind_zscore(b->close, n, STAT_LEN);
    enum fa_market_action a = FA_MARKET_HOLD;
    const char *why = "within the threshold";
    if (z < -p->zmr_thr) {
        a = FA_MARKET_BUY;
        why = "far below the mean, expect a rebound";
    } else if (z > p->zmr_thr) {
        a = FA_MARKET_SELL;
        why = "far above the mean, expect a pullback";
    }
    if (e)
        snprintf(e, cap,
                 "z-score of close %.2f against the last 14 closes (mean %.2f, sd %.2f) is %.3f "
                 "(threshold %g): %s -> %s",
                 c, mu, sd, z, p->zmr_thr, why, act(a));
    return a;
}

enum fa_market_action fa_strategy_signal(enum fa_strategy_kind k,
                                         const struct fa_strategy_params *p,
                                         const struct fa_strategy_bars *b, char *expl, size_t cap)
{
    if (expl && cap)
        expl[0] = 0;
    if (k == FA_STRATEGY_BUY_HOLD) {
        if (expl && b->n)
            snprintf(expl, cap, "buy and hold: stay fully invested (close %.2f) -> BUY",
                     b->close[b->n - 1]);
        return FA_MARKET_BUY;
    }
    if (b->n < 2) {
        if (expl)
            snprintf(expl, cap, "%s: %zu bar(s), too few to compute -> HOLD", names[k], b->n);
        return FA_MARKET_HOLD;
    }
    switch (k) {
    case FA_STRATEGY_MACD:
    case FA_STRATEGY_KDJ_RSI: {
        double *buf = malloc(4 * b->n * sizeof(*buf));
        if (!buf) {
            if (expl)
                snprintf(expl, cap, "%s: out of memory -> HOLD", names[k]);
            return FA_MARKET_HOLD;
        }
        enum fa_market_action a =
            k == FA_STRATEGY_MACD ? sig_macd(p, b, buf, expl, cap) : sig_kdj(p, b, buf, expl, cap);
        free(buf);
        return a;
    }
    case FA_STRATEGY_STOCH_BB:
        return sig_sbb(p, b, expl, cap);
    case FA_STRATEGY_ZMR:
        return sig_zmr(p, b, expl, cap);
    default:
        return FA_MARKET_HOLD;
    }
}

static void put(struct json_object *o, const char *k, double v)
{
    json_object_object_add(o, k, fa_json_num(v));
}

struct json_object *fa_strategy_params_json(enum fa_strategy_kind k,
                                            const struct fa_strategy_params *p)
{
    struct json_object *o = json_object_new_object();
    switch (k) {
    case FA_STRATEGY_MACD:
        put(o, "s", p->macd_fast);
        break;
    case FA_STRATEGY_KDJ_RSI:
        put(o, "ilong", p->kdj_ilong);
        put(o, "isig", p->kdj_isig);
        put(o, "ob", p->kdj_ob);
        put(o, "os", p->kdj_os);
        break;
    case FA_STRATEGY_STOCH_BB:
        put(o, "k", p->sbb_k);
        put(o, "ob", p->sbb_ob);
        put(o, "os", p->sbb_os);
        break;
    case FA_STRATEGY_ZMR:
        put(o, "thr", p->zmr_thr);
        break;
    default:
        break;
    }
    return o;
}

struct pfield {
    enum fa_strategy_kind kind;
    const char *key;
    size_t off;
    double lo, hi;
    bool integer;
};

#define OFF(f) offsetof(struct fa_strategy_params, f)
static const struct pfield pfields[] = {
    {FA_STRATEGY_MACD, "s", OFF(macd_fast), 1, 1000, false},
    {FA_STRATEGY_KDJ_RSI, "ilong", OFF(kdj_ilong), 1, 1000, true},
    {FA_STRATEGY_KDJ_RSI, "isig", OFF(kdj_isig), 1, 1000, true},
    {FA_STRATEGY_KDJ_RSI, "ob", OFF(kdj_ob), 0, 100, false},
    {FA_STRATEGY_KDJ_RSI, "os", OFF(kdj_os), 0, 100, false},
    {FA_STRATEGY_STOCH_BB, "k", OFF(sbb_k), 0, 100, false},
    {FA_STRATEGY_STOCH_BB, "ob", OFF(sbb_ob), 0, 100, false},
    {FA_STRATEGY_STOCH_BB, "os", OFF(sbb_os), 0, 100, false},
    {FA_STRATEGY_ZMR, "thr", OFF(zmr_thr), 0, 100, false},
};

int fa_strategy_params_from_json(enum fa_strategy_kind k, struct json_object *o,
                                 struct fa_strategy_params *p)
{
    if (!json_object_is_type(o, json_type_object)) {
        fa_err_set("%s: parameters are not an object", fa_strategy_name(k));
        return -1;
    }
    json_object_object_foreach(o, key, val)
    {
        const struct pfield *f = NULL;
        for (size_t i = 0; i < sizeof(pfields) / sizeof(pfields[0]); i++)
            if (pfields[i].kind == k && strcmp(pfields[i].key, key) == 0)
                f = &pfields[i];
        if (!f) {
            fa_err_set("%s: unknown parameter '%s'", fa_strategy_name(k), key);
            return -1;
        }
        enum json_type t = json_object_get_type(val);
        double v = json_object_get_double(val);
        if ((t != json_type_int && t != json_type_double) || !isfinite(v) || v < f->lo ||
            v > f->hi || (f->integer && v != floor(v))) {
            fa_err_set("%s: invalid %s '%s' (want %s %g..%g)", fa_strategy_name(k), key,
                       json_object_to_json_string(val), f->integer ? "an integer" : "a number",
                       f->lo, f->hi);
            return -1;
        }
        *(double *)(void *)((char *)p + f->off) = v;
    }
    return 0;
}

static int overlay(struct json_object *entry, const char *sym, struct fa_strategy_params *p)
{
    if (!json_object_is_type(entry, json_type_object)) {
        fa_err_set("params for '%s' are not an object", sym);
        return -1;
    }
    json_object_object_foreach(entry, key, val)
    {
        enum fa_strategy_kind k;
        if (fa_strategy_parse(key, &k) < 0 || fa_strategy_params_from_json(k, val, p) < 0) {
            char msg[512];
            snprintf(msg, sizeof(msg), "%s", fa_err_get());
            fa_err_set("params for '%s': %s", sym, msg);
            return -1;
        }
    }
    return 0;
}

int fa_strategy_file_lookup(struct json_object *file, const char *symbol,
                            struct fa_strategy_params *p)
{
    struct json_object *e;
    fa_strategy_params_default(p);
    if (!file)
        return 0;
    if (json_object_object_get_ex(file, "*", &e) && overlay(e, "*", p) < 0)
        return -1;
    if (symbol && json_object_object_get_ex(file, symbol, &e) && overlay(e, symbol, p) < 0)
        return -1;
    return 0;
}

struct json_object *fa_strategy_file_load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fa_err_sys("cannot open '%s'", path);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (64u << 20)) {
                fa_err_set("%s: file too large", path);
                goto fail;
            }
            char *nb = realloc(buf, cap);
            if (!nb) {
                fa_err_set("out of memory");
                goto fail;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fa_err_sys("cannot read '%s'", path);
        goto fail;
    }
    fclose(f);
    f = NULL;
    buf[len] = 0;
    enum json_tokener_error jerr;
    struct json_object *o = json_tokener_parse_verbose(buf, &jerr);
    free(buf);
    buf = NULL;
    if (!o) {
        fa_err_set("%s: not valid JSON: %s", path, json_tokener_error_desc(jerr));
        return NULL;
    }
    if (!json_object_is_type(o, json_type_object)) {
        fa_err_set("%s: not a JSON object keyed by symbol", path);
        json_object_put(o);
        return NULL;
    }
    json_object_object_foreach(o, sym, entry)
    {
        struct fa_strategy_params p;
        fa_strategy_params_default(&p);
        if (overlay(entry, sym, &p) < 0) {
            char msg[600];
            snprintf(msg, sizeof(msg), "%s", fa_err_get());
            fa_err_set("%s: %s", path, msg);
            json_object_put(o);
            return NULL;
        }
    }
    return o;
fail:
    free(buf);
    if (f)
        fclose(f);
    return NULL;
}
