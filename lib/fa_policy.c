/* fa_policy.c: FLAG-Trader's environment (through fa_market), its state
 * (text prompt or price features), the PPO training loop and checkpoints.
 * See fa_policy.h and fa-policy(1) for the definitions. */
#include "fa_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "fa_date.h"
#include "fa_embedder.h"
#include "fa_day.h"
#include "fa_err.h"
#include "fa_file.h"
#include "fa_llama.h"
#include "fa_tokenizer.h"
#include "fa_prompt.h"
#include "fa_record.h"
#include "fa_banned.h"

/* Same bits with every compiler: GCC keeps floating-point contraction off
 * under -std=c11; clang needs telling (no fused multiply-adds). */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

static const char *const action_names[3] = {"SELL", "HOLD", "BUY"};

const char *fa_policy_action_name(int a)
{
    return a >= 0 && a < 3 ? action_names[a] : "NONE";
}

enum fa_market_action fa_policy_market_action(int a)
{
    switch (a) {
    case FA_POLICY_SELL:
        return FA_MARKET_SELL;
    case FA_POLICY_BUY:
        return FA_MARKET_BUY;
    case FA_POLICY_HOLD:
        return FA_MARKET_HOLD;
    default:
        return FA_MARKET_NONE;
    }
}

/* ---- data ---- */

void fa_policy_data_init(struct fa_policy_data *d, const char *symbol)
{
    memset(d, 0, sizeof *d);
    d->symbol = symbol ? strdup(symbol) : NULL;
    d->hash_state = malloc(sizeof(crypto_generichash_state));
    if (d->hash_state)
        crypto_generichash_init(d->hash_state, NULL, 0, 32);
}

static void data_hash(struct fa_policy_data *d, struct json_object *rec)
{
    char *c = fa_json_canonical(rec, NULL);
    if (c && d->hash_state) {
        crypto_generichash_update(d->hash_state, (const unsigned char *)c, strlen(c));
        crypto_generichash_update(d->hash_state, (const unsigned char *)"\n", 1);
    }
    free(c);
}

int fa_policy_data_add(struct fa_policy_data *d, struct json_object *rec)
{
    const char *kind = fa_record_kind(rec), *sym = fa_record_symbol(rec);
    const char *date = fa_record_date(rec);
    if (!kind || !sym || !date)
        return 1;
    bool price = !strcmp(kind, "price");
    if (!price && strcmp(kind, "news") && strcmp(kind, "intel"))
        return 1;
    if (!d->symbol) {
        if (!price)
            return 1;
        d->symbol = strdup(sym);
    }
    if (strcmp(sym, d->symbol))
        return 1;
    int day;
    if (fa_date_parse(date, &day) < 0) {
        fa_err_set("bad date '%s'", date);
        return -1;
    }
    if (price) {
        struct fa_market_bar b = {.day = day};
        if (fa_record_num(rec, "close", &b.close) < 0 || b.close <= 0) {
            fa_err_set("price record without a positive close");
            return -1;
        }
        if (fa_record_num(rec, "adj_close", &b.adj_close) < 0 || b.adj_close <= 0)
            b.adj_close = b.close;
        if (fa_record_num(rec, "open", &b.open) < 0 || b.open <= 0)
            b.open = b.close;
        if (fa_record_num(rec, "high", &b.high) < 0)
            b.high = 0;
        if (fa_record_num(rec, "low", &b.low) < 0)
            b.low = 0;
        if (d->n && day <= d->days[d->n - 1].bar.day) {
            /* fa_day_order's rule: the same bar again is skipped quietly */
            const struct fa_market_bar *o = NULL;
            char subject[96];
            for (int k = d->n - 1; k >= 0 && !o; k--)
                if (d->days[k].bar.day == day)
                    o = &d->days[k].bar;
            snprintf(subject, sizeof subject, "price %s", sym);
            return fa_day_order(subject, d->days[d->n - 1].bar.day, day, o != NULL,
                                o && o->close == b.close && o->open == b.open &&
                                    o->adj_close == b.adj_close) < 0
                       ? -1
                       : 1;
        }
        if (d->n == d->cap) {
            int cap = d->cap ? 2 * d->cap : 256;
            struct fa_policy_day *nd = realloc(d->days, (size_t)cap * sizeof *nd);
            if (!nd) {
                fa_err_set("out of memory");
                return -1;
            }
            d->days = nd;
            d->cap = cap;
        }
        struct fa_policy_day *pd = &d->days[d->n++];
        memset(pd, 0, sizeof *pd);
        fa_date_format(day, pd->date);
        pd->bar = b;
        pd->close_only = !json_object_object_get_ex(rec, "open", NULL);
        data_hash(d, rec);
        return 0;
    }
    if (!d->n || strcmp(d->days[d->n - 1].date, date))
        return 1; /* news or intel of a day without a price (yet) */
    struct fa_policy_day *pd = &d->days[d->n - 1];
    if (!strcmp(kind, "news")) {
        const char *t = fa_record_str(rec, "title");
        if (!t || !*t)
            t = fa_record_str(rec, "text");
        if (!t || pd->nnews >= FA_POLICY_MAXNEWS)
            return 1;
        pd->news[pd->nnews++] = strdup(t);
    } else {
        const char *s = fa_record_str(rec, "summary");
        if (!s)
            return 1;
        free(pd->intel);
        pd->intel = strdup(s);
    }
    data_hash(d, rec);
    return 0;
}

void fa_policy_data_finish(struct fa_policy_data *d)
{
    unsigned char h[32];
    memset(h, 0, sizeof h);
    if (d->hash_state)
        crypto_generichash_final(d->hash_state, h, sizeof h);
    for (int i = 0; i < 32; i++)
        snprintf(d->hash + 2 * i, 3, "%02x", h[i]);
    free(d->hash_state);
    d->hash_state = NULL;
}

void fa_policy_data_free(struct fa_policy_data *d)
{
    for (int i = 0; i < d->n; i++) {
        for (int k = 0; k < d->days[i].nnews; k++)
            free(d->days[i].news[k]);
        free(d->days[i].intel);
    }
    free(d->days);
    free(d->symbol);
    free(d->hash_state);
    memset(d, 0, sizeof *d);
}

/* ---- environment ---- */

void fa_policy_env_conf_default(struct fa_policy_env_conf *c)
{
    c->reward = FA_POLICY_REWARD_SHARPE;
    c->fill = FA_POLICY_FILL_NEXT_CLOSE;
    c->cash = 10000;
    c->commission_bps = 0;
    c->slippage_bps = 0;
}

struct fa_policy_env {
    const struct fa_policy_data *d;
    struct fa_policy_env_conf c;
    struct fa_market_params mp;
    struct fa_market *m;
    int start, t;     /* first and last observed day */
    int acted;        /* an action was taken on day t */
    int last_action;  /* its index */
    double peek_prev; /* V of day t before its fill (see observe) */
    long k;           /* P&L values seen in the episode */
    double sum, sumsq, sharpe;
    double dsr_a, dsr_b; /* the DSR's moving first and second moments */
    /* next-close fills: the action of day t-1 and its reward, known at
     * day t+1's close, enter the history then */
    int pend_hist, pend_t, pend_a;
    double pend_r;
    struct fa_policy_obs o; /* history lives here */
    long illegal;
};

struct fa_policy_env *fa_policy_env_new(const struct fa_policy_data *data,
                                        const struct fa_policy_env_conf *c)
{
    struct fa_policy_env *e = calloc(1, sizeof *e);
    if (!e) {
        fa_err_set("out of memory");
        return NULL;
    }
    e->d = data;
    e->c = *c;
    if (c->fill == FA_POLICY_FILL_CLOSE) {
        fa_market_params_default(&e->mp, FA_MARKET_FINAGENT);
        e->mp.fee = c->commission_bps / 1e4;
    } else {
        fa_market_params_default(&e->mp, FA_MARKET_REALISTIC);
        e->mp.fill = FA_MARKET_FILL_NEXT_CLOSE;
        e->mp.commission_bps = c->commission_bps;
        e->mp.slippage_bps = c->slippage_bps;
    }
    e->mp.cash = c->cash;
    struct fa_market *m = fa_market_new(&e->mp);
    if (!m) {
        free(e);
        return NULL;
    }
    fa_market_free(m);
    return e;
}

void fa_policy_env_free(struct fa_policy_env *e)
{
    if (!e)
        return;
    fa_market_free(e->m);
    free(e);
}

int fa_policy_env_reset(struct fa_policy_env *e, int start)
{
    fa_market_free(e->m);
    e->m = fa_market_new(&e->mp);
    if (!e->m)
        return -1;
    e->start = start;
    e->t = start - 1;
    e->acted = 0;
    e->last_action = FA_POLICY_HOLD;
    e->peek_prev = e->c.cash;
    e->k = 0;
    e->sum = e->sumsq = e->sharpe = 0;
    /* The DSR's moments start at mean 0 and the second moment of a fully
     * invested account's P&L: the cash times the sample sd of the asset's
     * last 20 daily returns up to the start day (1% with fewer than 2). */
    double m = 0, v = 0, sd = 0.01;
    int n = 0;
    for (int i = start; i >= 1 && n < 20; i--, n++)
        m += e->d->days[i].bar.adj_close / e->d->days[i - 1].bar.adj_close - 1;
    if (n >= 2) {
        m /= n;
        for (int i = start, k = 0; k < n; i--, k++) {
            double r = e->d->days[i].bar.adj_close / e->d->days[i - 1].bar.adj_close - 1;
            v += (r - m) * (r - m);
        }
        if (v > 0)
            sd = sqrt(v / (n - 1));
    }
    e->dsr_a = 0;
    e->dsr_b = (e->c.cash * sd) * (e->c.cash * sd);
    e->pend_hist = 0;
    memset(&e->o, 0, sizeof e->o);
    return 0;
}

/* Per-side cost factor of a buy and a sell under the account's costs. */
static double buy_cost(const struct fa_policy_env *e)
{
    if (e->c.fill == FA_POLICY_FILL_CLOSE)
        return 1 + e->mp.fee;
    return (1 + e->c.slippage_bps / 1e4) * (1 + e->c.commission_bps / 1e4);
}

static double sell_cost(const struct fa_policy_env *e)
{
    if (e->c.fill == FA_POLICY_FILL_CLOSE)
        return 1 - e->mp.fee;
    return (1 - e->c.slippage_bps / 1e4) * (1 - e->c.commission_bps / 1e4);
}

/* The reward of a day's P&L pnl on an account worth base before it. */
static double env_reward(struct fa_policy_env *e, double pnl, double base)
{
    double r = 0;
    if (e->c.reward == FA_POLICY_REWARD_RETURN) {
        r = base > 0 ? pnl / base : 0;
    } else if (e->c.reward == FA_POLICY_REWARD_SHARPE) {
        /* Moody and Saffell's differential Sharpe ratio: the first-
         * order change of an exponentially weighted Sharpe ratio per
         * unit of eta, so O(1) every day of the episode:
         *   D = (B dA - A dB / 2) / (B - A^2)^(3/2)
         * with dA = pnl - A, dB = pnl^2 - B before the update; then
         * A += eta dA, B += eta dB. Clamped to [-10, 10]. */
        double a = e->dsr_a, bm = e->dsr_b;
        double da = pnl - a, db = pnl * pnl - bm, den = bm - a * a;
        if (den > 1e-12 * e->c.cash * e->c.cash) {
            r = (bm * da - 0.5 * a * db) / (den * sqrt(den));
            r = r > 10 ? 10 : r < -10 ? -10 : r;
        }
        e->dsr_a = a + FA_POLICY_DSR_ETA * da;
        e->dsr_b = bm + FA_POLICY_DSR_ETA * db;
    } else {
        /* running Sharpe of the episode's daily P&L so far: mean over
         * sample sd; 0 with fewer than 2 values or a zero sd */
        e->k++;
        e->sum += pnl;
        e->sumsq += pnl * pnl;
        double s = 0;
        if (e->k >= 2) {
            double mean = e->sum / (double)e->k;
            double var = (e->sumsq - (double)e->k * mean * mean) / (double)(e->k - 1);
            double sd = var > 0 ? sqrt(var) : 0;
            if (sd > 1e-9 * e->c.cash)
                s = mean / sd;
        }
        r = s - e->sharpe;
        e->sharpe = s;
    }
    return r;
}

/* Appends (the date of day index d, action a, reward r, value v) to the
 * history, dropping the oldest entry when it is full. */
static void hist_add(struct fa_policy_env *e, int d, int a, double r, double v)
{
    struct fa_policy_obs *o = &e->o;
    if (o->nhist == FA_POLICY_HIST) {
        memmove(o->hist_reward, o->hist_reward + 1, (FA_POLICY_HIST - 1) * sizeof(double));
        memmove(o->hist_value, o->hist_value + 1, (FA_POLICY_HIST - 1) * sizeof(double));
        memmove(o->hist_action, o->hist_action + 1, (FA_POLICY_HIST - 1) * sizeof(int));
        memmove(o->hist_date[0], o->hist_date[1], (FA_POLICY_HIST - 1) * 11);
        o->nhist--;
    }
    o->hist_reward[o->nhist] = r;
    o->hist_value[o->nhist] = v;
    o->hist_action[o->nhist] = a;
    memcpy(o->hist_date[o->nhist], e->d->days[d].date, 11);
    o->nhist++;
}

int fa_policy_env_observe(struct fa_policy_env *e, int t, double *reward, struct fa_policy_obs *obs)
{
    if (t != e->t + 1 || t < 0 || t >= e->d->n) {
        fa_err_set("observe day %d out of order", t);
        return -1;
    }
    if (e->t >= e->start && !e->acted) {
        fa_err_set("observe day %d before acting on day %d", t, e->t);
        return -1;
    }
    const struct fa_policy_day *day = &e->d->days[t];
    double px = day->bar.adj_close;
    struct fa_market_state st;
    fa_market_state(e->m, &st);
    /* The account at day t's close, before any fill on day t. */
    double peek = st.cash + st.position * px;
    /* The account as the decision sees it: a pending order (next-close)
     * is taken as filled at today's close. */
    double cash = st.cash, pos = st.position;
    bool next = e->c.fill == FA_POLICY_FILL_NEXT_CLOSE;
    if (next && t > e->start) {
        if (e->last_action == FA_POLICY_BUY && pos == 0) {
            double sh = floor(cash / (px * buy_cost(e)));
            if (sh >= 1) {
                cash -= sh * px * buy_cost(e);
                pos = sh;
            }
        } else if (e->last_action == FA_POLICY_SELL && pos > 0) {
            cash += pos * px * sell_cost(e);
            pos = 0;
        }
    }
    /* The reward of the previous action (day t-1's) is the P&L of the
     * position it sets, over the day it is first held: with fills at the
     * close, from day t-1's close to day t's; with next-close fills, from
     * its fill at day t's close (its costs included) to day t+1's close,
     * a day the state of day t does not show (the reward is the
     * environment's, never the state's: it enters the history, which
     * the states show, only from day t+1 on). 0 when that day is past
     * the data. */
    double r = 0;
    if (t > e->start) {
        if (!next) {
            r = env_reward(e, peek - e->peek_prev, e->peek_prev);
            hist_add(e, t - 1, e->last_action, r, peek);
        } else {
            if (e->pend_hist)
                hist_add(e, e->pend_t, e->pend_a, e->pend_r, peek);
            e->pend_hist = 0;
            if (t + 1 < e->d->n) {
                double later = cash + pos * e->d->days[t + 1].bar.adj_close;
                r = env_reward(e, later - peek, peek);
                e->pend_hist = 1;
                e->pend_t = t - 1;
                e->pend_a = e->last_action;
                e->pend_r = r;
            }
        }
    }
    e->peek_prev = peek;
    e->t = t;
    e->acted = 0;
    if (reward)
        *reward = r;
    struct fa_policy_obs *o = &e->o;
    o->data = e->d;
    o->t = t;
    o->cash = cash;
    o->position = pos;
    o->price = px;
    o->value = cash + pos * px;
    o->mask = 1u << FA_POLICY_HOLD;
    if (pos > 0)
        o->mask |= 1u << FA_POLICY_SELL;
    else if (cash >= px * buy_cost(e))
        o->mask |= 1u << FA_POLICY_BUY;
    if (obs)
        *obs = *o;
    return 0;
}

int fa_policy_env_act(struct fa_policy_env *e, int a)
{
    if (e->t < e->start || e->acted) {
        fa_err_set("act without a new observation");
        return -1;
    }
    if (a < 0 || a > 2 || !(e->o.mask & (1u << a))) {
        e->illegal++;
        fa_err_set("illegal action %s on %s", fa_policy_action_name(a), e->d->days[e->t].date);
        return -1;
    }
    if (fa_market_step(e->m, &e->d->days[e->t].bar, fa_policy_market_action(a), NULL) < 0)
        return -1;
    e->acted = 1;
    e->last_action = a;
    return 0;
}

long fa_policy_env_illegal(const struct fa_policy_env *e)
{
    return e->illegal;
}

/* ---- numeric backbone ---- */

static double clampd(double x, double lim)
{
    return x > lim ? lim : x < -lim ? -lim : x;
}

static double close_at(const struct fa_policy_data *d, int t)
{
    return d->days[t < 0 ? 0 : t].bar.adj_close;
}

static int numeric_features(const struct fa_policy_obs *o, double *out)
{
    const struct fa_policy_data *d = o->data;
    int t = o->t;
    double p = close_at(d, t);
    static const int hz[5] = {1, 2, 5, 10, 20};
    for (int i = 0; i < 5; i++)
        out[i] = clampd(10 * log(p / close_at(d, t - hz[i])), 5);
    /* z-score of the close over the last 20 days (sample sd) */
    int n = t + 1 < 20 ? t + 1 : 20;
    double m = 0, v = 0;
    for (int i = 0; i < n; i++)
        m += close_at(d, t - i);
    m /= n;
    for (int i = 0; i < n; i++)
        v += (close_at(d, t - i) - m) * (close_at(d, t - i) - m);
    double sd = n > 1 ? sqrt(v / (n - 1)) : 0;
    out[5] = sd > 0 ? clampd((p - m) / sd / 2, 3) : 0;
    /* RSI over the last 14 moves (simple averages), mapped to [-1, 1] */
    double up = 0, dn = 0;
    for (int i = 0; i < 14 && t - i >= 1; i++) {
        double ch = close_at(d, t - i) - close_at(d, t - i - 1);
        if (ch > 0)
            up += ch;
        else
            dn -= ch;
    }
    out[6] = up + dn > 0 ? (up / (up + dn)) * 2 - 1 : 0;
    out[7] = o->position > 0 ? 1 : 0;
    return 0;
}

static const char *numeric_model(const struct fa_policy_backbone *b)
{
    (void)b;
    return "price-features-v1";
}

static size_t numeric_dim(const struct fa_policy_backbone *b)
{
    (void)b;
    return FA_POLICY_NUMERIC_DIM;
}

static int numeric_encode(struct fa_policy_backbone *b, const struct fa_policy_obs *o, double *out)
{
    b->encodes++;
    return numeric_features(o, out);
}

static void numeric_free(struct fa_policy_backbone *b)
{
    (void)b;
}

static const struct fa_policy_backbone_ops numeric_ops = {
    "numeric", numeric_model, numeric_dim, numeric_encode, numeric_free,
};

struct fa_policy_backbone *fa_policy_backbone_numeric(void)
{
    struct fa_policy_backbone *b = calloc(1, sizeof *b);
    if (!b) {
        fa_err_set("out of memory");
        return NULL;
    }
    b->ops = &numeric_ops;
    return b;
}

/* ---- state text ---- */

static void add_strf(struct json_object *arr, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_strf(struct json_object *arr, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_object_array_add(arr, json_object_new_string(buf));
}

static void set_strf(struct json_object *o, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_strf(struct json_object *o, const char *key, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_object_object_add(o, key, json_object_new_string(buf));
}

static struct json_object *state_vars(const struct fa_policy_obs *o)
{
    const struct fa_policy_data *d = o->data;
    const struct fa_policy_day *day = &d->days[o->t];
    struct json_object *v = json_object_new_object();
    json_object_object_add(v, "symbol", json_object_new_string(d->symbol ? d->symbol : ""));
    json_object_object_add(v, "date", json_object_new_string(day->date));
    char legal[32] = "";
    for (int a = 2; a >= 0; a--)
        if (o->mask & (1u << a)) {
            size_t l = strlen(legal);
            snprintf(legal + l, sizeof legal - l, "%s%s", l ? ", " : "", action_names[a]);
        }
    json_object_object_add(v, "legal_actions", json_object_new_string(legal));
    struct json_object *prices = json_object_new_array();
    for (int i = o->t - 4 < 0 ? 0 : o->t - 4; i <= o->t; i++) {
        const struct fa_market_bar *b = &d->days[i].bar;
        if (d->days[i].close_only)
            add_strf(prices, "%s close %.2f", d->days[i].date, b->close);
        else
            add_strf(prices, "%s open %.2f close %.2f", d->days[i].date, b->open, b->close);
    }
    json_object_object_add(v, "prices", prices);
    double f[FA_POLICY_NUMERIC_DIM];
    numeric_features(o, f);
    struct json_object *ind = json_object_new_object();
    set_strf(ind, "ret1", "%.2f%%", 10 * f[0]);
    set_strf(ind, "ret5", "%.2f%%", 10 * f[2]);
    set_strf(ind, "ret20", "%.2f%%", 10 * f[4]);
    set_strf(ind, "zscore20", "%.2f", 2 * f[5]);
    set_strf(ind, "rsi14", "%.1f", 50 * (f[6] + 1));
    json_object_object_add(v, "indicators", ind);
    struct json_object *news = json_object_new_array();
    for (int k = 0; k < day->nnews; k++)
        json_object_array_add(news, json_object_new_string(day->news[k]));
    if (!day->nnews)
        json_object_array_add(news, json_object_new_string("(no news)"));
    json_object_object_add(v, "news", news);
    struct json_object *prev = json_object_new_array();
    const struct fa_policy_day *yd = o->t > 0 ? &d->days[o->t - 1] : NULL;
    for (int k = 0; yd && k < yd->nnews; k++)
        json_object_array_add(prev, json_object_new_string(yd->news[k]));
    if (!yd || !yd->nnews)
        json_object_array_add(prev, json_object_new_string("(no news)"));
    json_object_object_add(v, "news_yesterday", prev);
    json_object_object_add(v, "intel", json_object_new_string(day->intel ? day->intel : "(none)"));
    struct json_object *hist = json_object_new_array();
    for (int k = 0; k < o->nhist; k++)
        add_strf(hist, "%s %s reward %.4f value %.2f", o->hist_date[k],
                 action_names[o->hist_action[k]], o->hist_reward[k], o->hist_value[k]);
    if (!o->nhist)
        json_object_array_add(hist, json_object_new_string("(none yet)"));
    json_object_object_add(v, "history", hist);
    struct json_object *acct = json_object_new_object();
    set_strf(acct, "cash", "%.2f", o->cash);
    set_strf(acct, "position", "%.0f", o->position);
    set_strf(acct, "value", "%.2f", o->value);
    json_object_object_add(v, "account", acct);
    return v;
}

char *fa_policy_state_text(const char *tmpl, const struct fa_policy_obs *obs)
{
    struct json_object *v = state_vars(obs);
    char *s = fa_prompt_render(tmpl ? tmpl : "policy-state", v);
    json_object_put(v);
    return s;
}

/* ---- text backbone ---- */

/* The frozen encoder's outputs, cached: an open-addressing table from
 * the BLAKE2b-128 of a text (a paragraph, or the whole prompt) to its
 * vector. Most paragraphs recur (the task, a day's news, prices), so
 * only the ones that change (history, account) are embedded again. */
struct text_bb {
    struct fa_embedder *emb;
    char *tmpl_text, *tmpl_name;
    enum fa_policy_pool pool;
    size_t edim, nsec, dim; /* dim = nsec * edim */
    size_t cap, used;
    unsigned char (*keys)[16];
    float *vecs;
    char *model;
};

#define TEXT_CACHE_MAX (1u << 18)

static int cache_grow(struct text_bb *t)
{
    size_t cap = t->cap ? 2 * t->cap : 1024;
    unsigned char(*keys)[16] = calloc(cap, 16);
    float *vecs = malloc(cap * t->edim * sizeof(float));
    if (!keys || !vecs) {
        free(keys);
        free(vecs);
        return -1;
    }
    static const unsigned char zero[16];
    for (size_t i = 0; i < t->cap; i++) {
        if (!memcmp(t->keys[i], zero, 16))
            continue;
        uint64_t h;
        memcpy(&h, t->keys[i], 8);
        size_t j = h & (cap - 1);
        while (memcmp(keys[j], zero, 16))
            j = (j + 1) & (cap - 1);
        memcpy(keys[j], t->keys[i], 16);
        memcpy(vecs + j * t->edim, t->vecs + i * t->edim, t->edim * sizeof(float));
    }
    free(t->keys);
    free(t->vecs);
    t->keys = keys;
    t->vecs = vecs;
    t->cap = cap;
    return 0;
}

#define FA_POLICY_MAXSEC 64

/* Cuts s in place into its paragraphs (runs of lines separated by one or
 * more blank lines; whitespace-only lines count as blank), at most max
 * (extra paragraphs stay joined to the last). Returns their number. */
static size_t split_sections(char *s, const char **out, size_t max)
{
    size_t n = 0;
    char *p = s;
    while (*p) {
        while (*p == '\n' || *p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        out[n++] = p;
        char *q = p;
        for (;;) {
            char *nl = strchr(q, '\n');
            if (!nl) {
                p = q + strlen(q);
                break;
            }
            char *r = nl + 1;
            while (*r == ' ' || *r == '\t')
                r++;
            if ((*r == '\n' || !*r) && n < max) {
                *nl = 0;
                p = r;
                break;
            }
            q = nl + 1;
        }
    }
    return n;
}

static const char *text_model(const struct fa_policy_backbone *b)
{
    const struct text_bb *t = b->self;
    return t->model;
}

static size_t text_dim(const struct fa_policy_backbone *b)
{
    const struct text_bb *t = b->self;
    return t->dim;
}

/* The cache slot of text: its vector (edim floats) and whether it was
 * there already. NULL with fa_err set on OOM. The pointer is valid until
 * the next call. */
static float *cache_slot(struct text_bb *t, const char *text, bool *hit)
{
    unsigned char key[16];
    crypto_generichash(key, 16, (const unsigned char *)text, strlen(text), NULL, 0);
    key[0] |= 1;                     /* never all zero: zero marks an empty slot */
    if (t->used >= TEXT_CACHE_MAX) { /* bound the memory: start afresh */
        memset(t->keys, 0, t->cap * 16);
        t->used = 0;
    }
    if (2 * (t->used + 1) > t->cap && cache_grow(t) < 0) {
        fa_err_set("out of memory for the state cache");
        return NULL;
    }
    uint64_t h;
    memcpy(&h, key, 8);
    size_t j = h & (t->cap - 1);
    static const unsigned char zero[16];
    while (memcmp(t->keys[j], zero, 16) && memcmp(t->keys[j], key, 16))
        j = (j + 1) & (t->cap - 1);
    *hit = !memcmp(t->keys[j], key, 16);
    if (!*hit) {
        memcpy(t->keys[j], key, 16);
        t->used++;
    }
    return t->vecs + j * t->edim;
}

static int text_encode(struct fa_policy_backbone *b, const struct fa_policy_obs *o, double *out)
{
    struct text_bb *t = b->self;
    struct json_object *v = state_vars(o);
    char *s = fa_prompt_render_text(t->tmpl_text, t->tmpl_name, v);
    json_object_put(v);
    if (!s)
        return -1;
    b->encodes++;
    const char *texts[FA_POLICY_MAXSEC];
    size_t n = 1;
    texts[0] = s;
    if (t->pool == FA_POLICY_POOL_SECTIONS)
        n = split_sections(s, texts, t->nsec);
    for (size_t i = 0; i < t->dim; i++)
        out[i] = 0;
    for (size_t k = 0; k < n; k++) {
        bool hit;
        float *vec = cache_slot(t, texts[k], &hit);
        if (!vec) {
            free(s);
            return -1;
        }
        if (hit) {
            b->cache_hits++;
        } else if (fa_embedder_embed(t->emb, "policy", texts + k, 1, vec, NULL) < 0) {
            memset(vec, 0, t->edim * sizeof(float));
            free(s);
            return -1;
        }
        for (size_t i = 0; i < t->edim; i++)
            out[k * t->edim + i] = vec[i];
    }
    free(s);
    return 0;
}

static void text_free(struct fa_policy_backbone *b)
{
    struct text_bb *t = b->self;
    if (!t)
        return;
    fa_embedder_close(t->emb);
    free(t->tmpl_text);
    free(t->tmpl_name);
    free(t->keys);
    free(t->vecs);
    free(t->model);
    free(t);
}

static const struct fa_policy_backbone_ops text_ops = {
    "text", text_model, text_dim, text_encode, text_free,
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fa_err_sys("cannot open '%s'", path);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 8192;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                fa_err_set("out of memory reading '%s'", path);
                return NULL;
            }
            buf = nb;
        }
        size_t k = fread(buf + len, 1, 4096, f);
        len += k;
        if (k < 4096)
            break;
    }
    if (ferror(f)) {
        fa_err_sys("read error '%s'", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[len] = 0;
    return buf;
}

/* A one-day example state for counting the template's paragraphs. */
static char *example_state(const char *text, const char *name)
{
    struct fa_policy_day day;
    memset(&day, 0, sizeof day);
    memcpy(day.date, "2000-01-03", 11);
    day.bar.open = day.bar.close = day.bar.adj_close = 1;
    struct fa_policy_data d = {.symbol = (char *)(uintptr_t) "X", .days = &day, .n = 1};
    struct fa_policy_obs o;
    memset(&o, 0, sizeof o);
    o.data = &d;
    o.mask = 7;
    o.cash = o.value = o.price = 1;
    struct json_object *v = state_vars(&o);
    char *s = fa_prompt_render_text(text, name, v);
    json_object_put(v);
    return s;
}

struct fa_policy_backbone *fa_policy_backbone_text(const char *tmpl, struct fa_embedder *e,
                                                   enum fa_policy_pool pool)
{
    struct fa_policy_backbone *b = calloc(1, sizeof *b);
    struct text_bb *t = calloc(1, sizeof *t);
    if (!b || !t) {
        free(b);
        free(t);
        fa_embedder_close(e);
        fa_err_set("out of memory");
        return NULL;
    }
    b->ops = &text_ops;
    b->self = t;
    t->emb = e;
    char *path = fa_prompt_path(tmpl ? tmpl : "policy-state");
    if (!path)
        goto fail;
    t->tmpl_text = slurp(path);
    const char *base = strrchr(path, '/');
    t->tmpl_name = strdup(base ? base + 1 : path);
    free(path);
    if (!t->tmpl_text)
        goto fail;
    t->edim = fa_embedder_dim(e);
    if (!t->edim)
        goto fail;
    t->pool = pool;
    t->nsec = 1;
    if (pool == FA_POLICY_POOL_SECTIONS) {
        char *ex = example_state(t->tmpl_text, t->tmpl_name);
        if (!ex)
            goto fail;
        const char *secs[FA_POLICY_MAXSEC];
        t->nsec = split_sections(ex, secs, FA_POLICY_MAXSEC);
        free(ex);
        if (!t->nsec)
            t->nsec = 1;
    }
    t->dim = t->nsec * t->edim;
    char model[256];
    if (pool == FA_POLICY_POOL_SECTIONS)
        snprintf(model, sizeof model, "%s/sections-%zu", fa_embedder_model(e), t->nsec);
    else
        snprintf(model, sizeof model, "%s", fa_embedder_model(e));
    t->model = strdup(model);
    return b;
fail:
    fa_policy_backbone_free(b);
    return NULL;
}

struct fa_policy_backbone *fa_policy_backbone_open(const char *name, const char *tmpl,
                                                   size_t embed_dim, enum fa_policy_pool pool)
{
    if (!strcmp(name, "numeric"))
        return fa_policy_backbone_numeric();
    if (!strcmp(name, "text")) {
        struct fa_embedder *e =
            embed_dim ? fa_embedder_open_local(embed_dim) : fa_embedder_open(NULL);
        if (!e)
            return NULL;
        return fa_policy_backbone_text(tmpl, e, pool);
    }
    fa_err_set("unknown backbone '%s' (want text or numeric)", name);
    return NULL;
}

void fa_policy_backbone_free(struct fa_policy_backbone *b)
{
    if (!b)
        return;
    b->ops->free(b);
    free(b);
}

/* ---- the language-model policy ---- */

struct fa_policy_llm {
    struct fa_llama *m;
    struct fa_tok *tok;
    struct fa_llama_train *t;
    char *tmpl;
    int H;
    size_t nl, nh, np;     /* the model's trained parameters, the heads', all */
    float *heads, *gheads; /* Wp (3 x H), bp (3), wv (H), bv */
    float *init;           /* the initial parameters: the reference policy */
    float *swap;
    double *am, *av; /* Adam moments of all np */
    long at;
    float *last, *dlast;
    struct fa_llama_act *act;
    int32_t **ids; /* per rollout sample: the prompt's tokens */
    int *nids, cap;
    long last_tokens;
};

void fa_policy_llm_free(struct fa_policy_llm *l)
{
    if (!l)
        return;
    fa_llama_act_free(l->act);
    fa_llama_train_free(l->t);
    fa_llama_free(l->m);
    fa_tok_free(l->tok);
    for (int i = 0; i < l->cap; i++)
        free(l->ids[i]);
    free(l->ids);
    free(l->nids);
    free(l->tmpl);
    free(l->heads);
    free(l->gheads);
    free(l->init);
    free(l->swap);
    free(l->am);
    free(l->av);
    free(l->last);
    free(l->dlast);
    free(l);
}

struct fa_policy_llm *fa_policy_llm_open(const char *dir, int train_layers, int lora, uint64_t seed,
                                         const char *tmpl)
{
    struct fa_policy_llm *l = calloc(1, sizeof *l);
    if (!l) {
        fa_err_set("out of memory");
        return NULL;
    }
    l->tmpl = strdup(tmpl ? tmpl : "policy-state");
    l->m = fa_llama_open(dir);
    if (!l->m)
        goto fail;
    l->tok = fa_tok_open(dir);
    if (!l->tok)
        goto fail;
    const struct fa_llama_config *cf = fa_llama_config(l->m);
    if (train_layers < 1 || train_layers > cf->n_layers) {
        fa_err_set("'%s': --train-layers %d, the model has %d layers", dir, train_layers,
                   cf->n_layers);
        goto fail;
    }
    l->t = fa_llama_train_new(l->m, train_layers, lora, seed);
    if (!l->t)
        goto fail;
    int H = l->H = cf->hidden;
    l->nl = fa_llama_train_nparams(l->t);
    l->nh = (size_t)FA_NN_ACTIONS * (size_t)H + FA_NN_ACTIONS + (size_t)H + 1;
    l->np = l->nl + l->nh;
    l->heads = calloc(l->nh, sizeof(float));
    l->gheads = calloc(l->nh, sizeof(float));
    l->init = malloc(l->np * sizeof(float));
    l->swap = malloc(l->np * sizeof(float));
    l->am = calloc(l->np, sizeof(double));
    l->av = calloc(l->np, sizeof(double));
    l->last = malloc((size_t)H * sizeof(float));
    l->dlast = malloc((size_t)H * sizeof(float));
    if (!l->tmpl || !l->heads || !l->gheads || !l->init || !l->swap || !l->am || !l->av ||
        !l->last || !l->dlast) {
        fa_err_set("out of memory for the policy of '%s'", dir);
        goto fail;
    }
    struct fa_rng r;
    fa_rng_seed(&r, seed ^ 0x6865616473ULL);
    double sd = 1 / sqrt((double)H);
    for (int i = 0; i < FA_NN_ACTIONS * H; i++)
        l->heads[i] = (float)(0.01 * sd * fa_rng_normal(&r));
    float *wv = l->heads + FA_NN_ACTIONS * H + FA_NN_ACTIONS;
    for (int i = 0; i < H; i++)
        wv[i] = (float)(sd * fa_rng_normal(&r));
    fa_policy_llm_get(l, l->init);
    return l;
fail:
    fa_policy_llm_free(l);
    return NULL;
}

const char *fa_policy_llm_config_hash(const struct fa_policy_llm *l)
{
    return fa_llama_config_hash(l->m);
}

int fa_policy_llm_hidden(const struct fa_policy_llm *l)
{
    return l->H;
}

size_t fa_policy_llm_nparams(const struct fa_policy_llm *l)
{
    return l->np;
}

void fa_policy_llm_get(const struct fa_policy_llm *l, float *out)
{
    memcpy(out, fa_llama_train_params(l->t), l->nl * sizeof(float));
    memcpy(out + l->nl, l->heads, l->nh * sizeof(float));
}

void fa_policy_llm_set(struct fa_policy_llm *l, const float *in)
{
    memcpy(fa_llama_train_params(l->t), in, l->nl * sizeof(float));
    memcpy(l->heads, in + l->nl, l->nh * sizeof(float));
}

long fa_policy_llm_last_tokens(const struct fa_policy_llm *l)
{
    return l->last_tokens;
}

/* The prompt's tokens for obs: malloc'd *ids, *n. */
static int llm_tokens(struct fa_policy_llm *l, const struct fa_policy_obs *obs, int32_t **ids,
                      size_t *n)
{
    char *text = fa_policy_state_text(l->tmpl, obs);
    if (!text)
        return -1;
    int rc = fa_tok_chat(l->tok, NULL, text, true, ids, n);
    free(text);
    return rc;
}

/* The heads over l->last. */
static void llm_heads(const struct fa_policy_llm *l, double *z, double *v)
{
    int H = l->H;
    const float *W = l->heads, *b = W + FA_NN_ACTIONS * H, *wv = b + FA_NN_ACTIONS;
    for (int a = 0; a < FA_NN_ACTIONS; a++) {
        double s = b[a];
        for (int j = 0; j < H; j++)
            s += (double)W[a * H + j] * l->last[j];
        z[a] = s;
    }
    double s = wv[H];
    for (int j = 0; j < H; j++)
        s += (double)wv[j] * l->last[j];
    *v = s;
}

/* Forward of a token sequence; keeps the activations when keep. */
static int llm_forward_ids(struct fa_policy_llm *l, const int32_t *ids, int n, double *z, double *v,
                           bool keep)
{
    const float *h;
    fa_llama_act_free(l->act);
    l->act = NULL;
    if (fa_llama_frozen(l->t, ids, n, &h) < 0 ||
        fa_llama_top_forward(l->t, h, n, l->last, keep ? &l->act : NULL) < 0)
        return -1;
    llm_heads(l, z, v);
    return 0;
}

int fa_policy_llm_eval(struct fa_policy_llm *l, const struct fa_policy_obs *obs, double *z,
                       double *v)
{
    int32_t *ids = NULL;
    size_t n = 0;
    if (llm_tokens(l, obs, &ids, &n) < 0)
        return -1;
    l->last_tokens = (long)n;
    int rc = llm_forward_ids(l, ids, (int)n, z, v, false);
    free(ids);
    return rc;
}

/* fa_ppo_model over the rollout's stored prompts */
static int llm_m_forward(void *self, const struct fa_ppo_sample *s, double *z, double *v)
{
    struct fa_policy_llm *l = self;
    return llm_forward_ids(l, l->ids[s->idx], l->nids[s->idx], z, v, true);
}

static int llm_m_backward(void *self, const double *dz, double dv)
{
    struct fa_policy_llm *l = self;
    int H = l->H;
    float *W = l->heads, *b = W + FA_NN_ACTIONS * H, *wv = b + FA_NN_ACTIONS;
    float *gW = l->gheads, *gb = gW + FA_NN_ACTIONS * H, *gwv = gb + FA_NN_ACTIONS;
    for (int j = 0; j < H; j++) {
        double d = dv * wv[j];
        for (int a = 0; a < FA_NN_ACTIONS; a++) {
            d += dz[a] * W[a * H + j];
            gW[a * H + j] += (float)(dz[a] * l->last[j]);
        }
        gwv[j] += (float)(dv * l->last[j]);
        l->dlast[j] = (float)d;
    }
    for (int a = 0; a < FA_NN_ACTIONS; a++)
        gb[a] += (float)dz[a];
    gwv[H] += (float)dv;
    return fa_llama_top_backward(l->t, l->act, l->dlast);
}

static double llm_m_clip(void *self, double max_norm)
{
    struct fa_policy_llm *l = self;
    float *g = fa_llama_train_grads(l->t);
    double ss = 0;
    for (size_t i = 0; i < l->nl; i++)
        ss += (double)g[i] * g[i];
    for (size_t i = 0; i < l->nh; i++)
        ss += (double)l->gheads[i] * l->gheads[i];
    double norm = sqrt(ss);
    if (max_norm > 0 && norm > max_norm) {
        float k = (float)(max_norm / (norm + 1e-6));
        for (size_t i = 0; i < l->nl; i++)
            g[i] *= k;
        for (size_t i = 0; i < l->nh; i++)
            l->gheads[i] *= k;
    }
    return norm;
}

static void adam_span(float *p, const float *g, double *m, double *v, size_t n, double lr,
                      double c1, double c2)
{
    const double b1 = 0.9, b2 = 0.999, eps = 1e-5;
    for (size_t i = 0; i < n; i++) {
        double gi = g[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        p[i] -= (float)(lr * (m[i] / c1) / (sqrt(v[i] / c2) + eps));
    }
}

static void llm_m_adam(void *self, double lr)
{
    struct fa_policy_llm *l = self;
    l->at++;
    double c1 = 1.0 - pow(0.9, (double)l->at), c2 = 1.0 - pow(0.999, (double)l->at);
    adam_span(fa_llama_train_params(l->t), fa_llama_train_grads(l->t), l->am, l->av, l->nl, lr, c1,
              c2);
    adam_span(l->heads, l->gheads, l->am + l->nl, l->av + l->nl, l->nh, lr, c1, c2);
}

static void llm_m_zero(void *self)
{
    struct fa_policy_llm *l = self;
    fa_llama_train_zero_grad(l->t);
    memset(l->gheads, 0, l->nh * sizeof(float));
}

/* Room for n rollout prompts. */
static int llm_reserve(struct fa_policy_llm *l, int n)
{
    if (n <= l->cap)
        return 0;
    int32_t **ids = realloc(l->ids, (size_t)n * sizeof *ids);
    if (!ids)
        return -1;
    l->ids = ids;
    int *nids = realloc(l->nids, (size_t)n * sizeof *nids);
    if (!nids)
        return -1;
    l->nids = nids;
    for (int i = l->cap; i < n; i++) {
        l->ids[i] = NULL;
        l->nids[i] = 0;
    }
    l->cap = n;
    return 0;
}

/* Rollout step i: tokens of obs stored in slot i; logits and value; the
 * reference (initial) policy's logits into zr when zr is not NULL. */
static int llm_rollout(struct fa_policy_llm *l, int i, const struct fa_policy_obs *obs, double *z,
                       double *v, double *zr)
{
    size_t n;
    free(l->ids[i]);
    l->ids[i] = NULL;
    if (llm_tokens(l, obs, &l->ids[i], &n) < 0)
        return -1;
    l->nids[i] = (int)n;
    l->last_tokens = (long)n;
    if (llm_forward_ids(l, l->ids[i], (int)n, z, v, false) < 0)
        return -1;
    if (zr) {
        double vr;
        fa_policy_llm_get(l, l->swap);
        fa_policy_llm_set(l, l->init);
        int rc = llm_forward_ids(l, l->ids[i], (int)n, zr, &vr, false);
        fa_policy_llm_set(l, l->swap);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- training ---- */

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct fa_policy_trainer {
    const struct fa_policy_data *data;
    struct fa_policy_backbone *b;
    struct fa_policy_train_conf c;
    size_t dim;
    struct fa_nn *nn, *ref;
    struct fa_policy_llm *llm; /* instead of nn, ref and the backbone */
    struct fa_policy_env *env;
    int R, maxlen, last;
    double *X, *xlast, *rew, *val, *adv, *ret, *boot;
    double *mu, *isd; /* the text backbone's input standardisation */
    struct fa_ppo_sample *buf;
    unsigned char *done;
    struct fa_rng rng_env, rng_mb; /* episodes and actions; minibatch order */
    long update, updates, steps, episodes;
    /* the episode under way: its first day, length, actions so far */
    int need_reset, ep_start, ep_len, ep_t, t;
    double ep_ret;
    unsigned char *ep_actions; /* maxlen */
    struct fa_policy_obs obs;
};

void fa_policy_trainer_free(struct fa_policy_trainer *tr)
{
    if (!tr)
        return;
    fa_nn_free(tr->nn);
    fa_nn_free(tr->ref);
    fa_policy_env_free(tr->env);
    free(tr->X);
    free(tr->xlast);
    free(tr->buf);
    free(tr->rew);
    free(tr->val);
    free(tr->adv);
    free(tr->ret);
    free(tr->boot);
    free(tr->mu);
    free(tr->isd);
    free(tr->done);
    free(tr->ep_actions);
    free(tr);
}

/* The text backbone's input standardisation. A state's vector is K
 * unit-norm paragraph embeddings: components of about 1/sqrt(dim), some
 * paragraphs the same in every state (the task, the answer format) and
 * some nearly so (the legal actions), so that to a network initialised
 * for inputs of unit variance the informative paragraphs are nearly
 * invisible and the constant ones are hundreds of duplicated biases.
 * Each input is therefore centred and scaled by its mean and standard
 * deviation over the states of one pass through the training days with
 * uniformly random legal actions (seeded from seed, so a resumed run
 * computes the same), the variance floored at 1e-4: a constant input
 * becomes 0. The figures go into both networks (and the checkpoint). */
static int input_norm(struct fa_policy_trainer *tr, uint64_t seed)
{
    size_t n = tr->dim;
    double *x = malloc(n * sizeof *x);
    tr->mu = calloc(n, sizeof *tr->mu);
    tr->isd = calloc(n, sizeof *tr->isd);
    if (!x || !tr->mu || !tr->isd) {
        free(x);
        fa_err_set("out of memory");
        return -1;
    }
    struct fa_rng rg;
    fa_rng_seed(&rg, seed ^ 0x6e6f726dULL);
    struct fa_policy_obs ob;
    long k = 0;
    int rc = fa_policy_env_reset(tr->env, 0);
    for (int t = 0; rc == 0 && t < tr->data->n - 1; t++) {
        if (fa_policy_env_observe(tr->env, t, NULL, &ob) < 0 ||
            tr->b->ops->encode(tr->b, &ob, x) < 0) {
            rc = -1;
            break;
        }
        k++;
        for (size_t i = 0; i < n; i++) { /* Welford */
            double d = x[i] - tr->mu[i];
            tr->mu[i] += d / (double)k;
            tr->isd[i] += d * (x[i] - tr->mu[i]);
        }
        int legal[FA_NN_ACTIONS], nl = 0;
        for (int a = 0; a < FA_NN_ACTIONS; a++)
            if (ob.mask & (1u << a))
                legal[nl++] = a;
        rc = fa_policy_env_act(tr->env, legal[fa_rng_below(&rg, (uint64_t)nl)]);
    }
    free(x);
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        tr->isd[i] = 1.0 / sqrt((k ? tr->isd[i] / (double)k : 0) + 1e-4);
    return fa_nn_set_input_norm(tr->nn, tr->mu, tr->isd);
}

struct fa_policy_trainer *fa_policy_trainer_new(const struct fa_policy_data *data,
                                                struct fa_policy_backbone *b,
                                                const struct fa_policy_train_conf *c)
{
    const struct fa_ppo_conf *pc = &c->ppo;
    int need = c->env.fill == FA_POLICY_FILL_NEXT_CLOSE ? 3 : 2;
    if (data->n < need) {
        fa_err_set("training needs at least %d trading days, got %d", need, data->n);
        return NULL;
    }
    if (pc->rollout < 1 || pc->max_episode < 1) {
        fa_err_set("rollout and episode length must be positive");
        return NULL;
    }
    struct fa_policy_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) {
        fa_err_set("out of memory");
        return NULL;
    }
    tr->data = data;
    tr->b = b;
    tr->c = *c;
    tr->llm = c->llm;
    tr->dim = tr->llm ? 1 : b->ops->dim(b);
    size_t dim = tr->dim;
    if (tr->llm) {
        if (llm_reserve(tr->llm, pc->rollout) < 0)
            goto fail;
    } else {
        tr->nn = fa_nn_new_trunks((int)dim, c->nhidden, c->widths, c->act, c->trunks == 2 ? 2 : 1,
                                  c->seed);
        if (!tr->nn)
            goto fail;
        tr->ref = fa_nn_clone(tr->nn);
    }
    tr->env = fa_policy_env_new(data, &c->env);
    if (tr->nn && tr->ref && tr->env && !strcmp(b->ops->name, "text") &&
        (input_norm(tr, c->seed) < 0 || fa_nn_set_input_norm(tr->ref, tr->mu, tr->isd) < 0))
        goto fail;
    int R = tr->R = pc->rollout;
    /* the last day an episode observes: its reward needs the next one
     * with next-close fills (see fa_policy_env_observe) */
    tr->last = data->n - 1 - (c->env.fill == FA_POLICY_FILL_NEXT_CLOSE);
    tr->maxlen = pc->max_episode < tr->last ? pc->max_episode : tr->last;
    tr->X = malloc((size_t)R * dim * sizeof *tr->X);
    tr->xlast = malloc(dim * sizeof *tr->xlast);
    tr->buf = calloc((size_t)R, sizeof *tr->buf);
    tr->rew = malloc((size_t)R * sizeof *tr->rew);
    tr->val = malloc((size_t)R * sizeof *tr->val);
    tr->adv = malloc((size_t)R * sizeof *tr->adv);
    tr->ret = malloc((size_t)R * sizeof *tr->ret);
    tr->boot = calloc((size_t)R, sizeof *tr->boot);
    tr->done = malloc((size_t)R);
    tr->ep_actions = malloc((size_t)tr->maxlen);
    if ((!tr->ref && !tr->llm) || !tr->env || !tr->X || !tr->xlast || !tr->buf || !tr->rew ||
        !tr->val || !tr->adv || !tr->ret || !tr->boot || !tr->done || !tr->ep_actions) {
        if ((tr->ref || tr->llm) && tr->env)
            fa_err_set("out of memory");
        goto fail;
    }
    fa_rng_seed(&tr->rng_env, c->seed ^ 0x656e76ULL);
    fa_rng_seed(&tr->rng_mb, c->seed ^ 0x6d62ULL);
    tr->updates = pc->timesteps / R;
    if (tr->updates < 1)
        tr->updates = 1;
    tr->need_reset = 1;
    return tr;
fail:
    fa_policy_trainer_free(tr);
    return NULL;
}

const struct fa_nn *fa_policy_trainer_net(const struct fa_policy_trainer *tr)
{
    return tr->nn;
}

long fa_policy_trainer_update(const struct fa_policy_trainer *tr)
{
    return tr->update;
}

long fa_policy_trainer_updates(const struct fa_policy_trainer *tr)
{
    return tr->updates;
}

/* Starts the episode of day start; its observation goes to tr->obs. */
static int episode_start(struct fa_policy_trainer *tr, int start)
{
    if (fa_policy_env_reset(tr->env, start) < 0 ||
        fa_policy_env_observe(tr->env, start, NULL, &tr->obs) < 0)
        return -1;
    tr->t = tr->ep_start = start;
    tr->ep_len = tr->maxlen;
    tr->ep_t = 0;
    tr->ep_ret = 0;
    tr->need_reset = 0;
    return 0;
}

/* One rollout of R steps and the PPO update on it. */
static int train_update(struct fa_policy_trainer *tr, struct fa_policy_progress *pr)
{
    const struct fa_ppo_conf *pc = &tr->c.ppo;
    struct fa_policy_backbone *b = tr->b;
    int R = tr->R;
    size_t dim = tr->dim;
    long u = tr->update + 1;
    double t0 = mono_seconds();
    double ret_sum = 0;
    long ret_n = 0;
    for (int i = 0; i < R; i++) {
        if (tr->need_reset) {
            int span = tr->last - tr->maxlen; /* last start index */
            int s = span > 0 ? (int)fa_rng_below(&tr->rng_env, (uint64_t)span + 1) : 0;
            if (episode_start(tr, s) < 0)
                return -1;
        }
        double *x = tr->X + (size_t)i * dim;
        double z[3], v, p[3], lp[3], zr[3], prr[3];
        bool kl = pc->kl_coef > 0;
        if (tr->llm) {
            if (llm_rollout(tr->llm, i, &tr->obs, z, &v, kl ? zr : NULL) < 0)
                return -1;
            b->encodes++;
        } else {
            if (b->ops->encode(b, &tr->obs, x) < 0)
                return -1;
            fa_nn_forward(tr->nn, x, z, &v);
            fa_nn_forward(tr->ref, x, zr, NULL);
        }
        if (fa_nn_softmax(z, tr->obs.mask, p, lp) < 0)
            return -1;
        int a = fa_nn_sample(p, tr->obs.mask, &tr->rng_env);
        struct fa_ppo_sample *sm = &tr->buf[i];
        if (tr->llm && !kl)
            memcpy(sm->ref_logp, lp, sizeof lp);
        else
            fa_nn_softmax(zr, tr->obs.mask, prr, sm->ref_logp);
        sm->idx = i;
        sm->x = tr->llm ? NULL : x;
        sm->mask = tr->obs.mask;
        sm->action = a;
        sm->old_logp = lp[a];
        tr->val[i] = v;
        if (fa_policy_env_act(tr->env, a) < 0)
            return -1;
        tr->ep_actions[tr->ep_t] = (unsigned char)a;
        tr->t++;
        double r;
        if (fa_policy_env_observe(tr->env, tr->t, &r, &tr->obs) < 0)
            return -1;
        tr->rew[i] = r;
        tr->ep_ret += r;
        tr->ep_t++;
        tr->steps++;
        tr->done[i] = tr->ep_t >= tr->ep_len;
        tr->boot[i] = 0;
        if (tr->done[i]) {
            /* the episode is cut, not over: the market goes on, so its
             * return bootstraps from the value of the state it reached */
            double zb[3];
            if (tr->llm) {
                if (fa_policy_llm_eval(tr->llm, &tr->obs, zb, &tr->boot[i]) < 0)
                    return -1;
            } else {
                if (b->ops->encode(b, &tr->obs, tr->xlast) < 0)
                    return -1;
                fa_nn_forward(tr->nn, tr->xlast, zb, &tr->boot[i]);
            }
        }
        if (tr->done[i]) {
            tr->episodes++;
            ret_sum += tr->ep_ret;
            ret_n++;
            tr->need_reset = 1;
        }
    }
    double last_val = 0;
    if (!tr->done[R - 1]) {
        double z[3];
        if (tr->llm) {
            if (fa_policy_llm_eval(tr->llm, &tr->obs, z, &last_val) < 0)
                return -1;
        } else {
            if (b->ops->encode(b, &tr->obs, tr->xlast) < 0)
                return -1;
            fa_nn_forward(tr->nn, tr->xlast, z, &last_val);
        }
    }
    fa_ppo_gae_boot(R, tr->rew, tr->val, tr->done, tr->boot, last_val, pc->gamma, pc->lambda,
                    tr->adv, tr->ret);
    if (pc->norm_adv)
        fa_ppo_normalise(R, tr->adv);
    for (int i = 0; i < R; i++) {
        tr->buf[i].adv = tr->adv[i];
        tr->buf[i].ret = tr->ret[i];
    }
    memset(pr, 0, sizeof *pr);
    pr->lr = fa_ppo_lr(pc, u, tr->updates);
    double t1 = mono_seconds();
    if (tr->llm) {
        struct fa_ppo_model md = {tr->llm,    llm_m_forward, llm_m_backward,
                                  llm_m_clip, llm_m_adam,    llm_m_zero};
        if (fa_ppo_update_model(&md, pc, tr->buf, R, pr->lr, &tr->rng_mb, &pr->st) < 0)
            return -1;
    } else {
        fa_ppo_update(tr->nn, pc, tr->buf, R, pr->lr, &tr->rng_mb, &pr->st);
    }
    pr->rollout_seconds = t1 - t0;
    pr->update_seconds = mono_seconds() - t1;
    if (pr->st.n > 0) {
        double k = (double)pr->st.n;
        pr->st.loss /= k;
        pr->st.pg_loss /= k;
        pr->st.v_loss /= k;
        pr->st.entropy /= k;
        pr->st.kl_ref /= k;
        pr->st.approx_kl /= k;
        pr->st.clipfrac /= k;
    }
    tr->update = u;
    pr->update = u;
    pr->updates = tr->updates;
    pr->steps = tr->steps;
    pr->episodes = tr->episodes;
    pr->ep_return = ret_n ? ret_sum / (double)ret_n : NAN;
    pr->illegal = fa_policy_env_illegal(tr->env);
    return 0;
}

int fa_policy_trainer_run(struct fa_policy_trainer *tr, long max)
{
    long n = 0;
    while (tr->update < tr->updates) {
        if (max > 0 && n >= max)
            return 0;
        struct fa_policy_progress pr;
        if (train_update(tr, &pr) < 0)
            return -1;
        n++;
        if (tr->c.progress && tr->c.progress(&pr, tr->c.arg))
            return tr->update < tr->updates ? 0 : 1;
    }
    return 1;
}

/* ---- the optimiser state (state.bin) ----
 * "FAPST001", then little-endian u64s: update, updates, steps, episodes,
 * rng_env[4], rng_mb[4], adam steps, nparams; nparams doubles of each
 * Adam moment; need_reset, ep_start, ep_len, ep_t; the double ep_ret; the
 * episode's ep_t actions, one byte each. */

static const char state_magic[8] = {'F', 'A', 'P', 'S', 'T', '0', '0', '1'};

static void put64(FILE *f, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    fwrite(b, 1, 8, f);
}

static void putd(FILE *f, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put64(f, u);
}

/* The Adam state of the run: nparams, moments, steps (written through
 * *at, or through fa_nn_adam_set_steps when at is NULL). */
static void adam_of(struct fa_policy_trainer *tr, size_t *np, double **m, double **v, long **at,
                    long *t)
{
    if (tr->llm) {
        *np = tr->llm->np;
        *m = tr->llm->am;
        *v = tr->llm->av;
        *at = &tr->llm->at;
        *t = tr->llm->at;
    } else {
        *np = fa_nn_nparams(tr->nn);
        *m = fa_nn_adam_m(tr->nn);
        *v = fa_nn_adam_v(tr->nn);
        *at = NULL;
        *t = fa_nn_adam_steps(tr->nn);
    }
}

int fa_policy_trainer_state(struct fa_policy_trainer *tr, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = open_memstream(out, len);
    if (!f) {
        fa_err_sys("open_memstream");
        return -1;
    }
    fwrite(state_magic, 1, 8, f);
    put64(f, (uint64_t)tr->update);
    put64(f, (uint64_t)tr->updates);
    put64(f, (uint64_t)tr->steps);
    put64(f, (uint64_t)tr->episodes);
    for (int i = 0; i < 4; i++)
        put64(f, tr->rng_env.s[i]);
    for (int i = 0; i < 4; i++)
        put64(f, tr->rng_mb.s[i]);
    size_t np;
    double *m, *v;
    long *at, t;
    adam_of(tr, &np, &m, &v, &at, &t);
    put64(f, (uint64_t)t);
    put64(f, (uint64_t)np);
    for (size_t i = 0; i < np; i++)
        putd(f, m[i]);
    for (size_t i = 0; i < np; i++)
        putd(f, v[i]);
    put64(f, (uint64_t)tr->need_reset);
    put64(f, (uint64_t)tr->ep_start);
    put64(f, (uint64_t)tr->ep_len);
    put64(f, (uint64_t)tr->ep_t);
    putd(f, tr->ep_ret);
    if (tr->ep_t)
        fwrite(tr->ep_actions, 1, (size_t)tr->ep_t, f);
    if (ferror(f) || fclose(f) != 0) {
        free(*out);
        *out = NULL;
        fa_err_set("out of memory writing the optimiser state");
        return -1;
    }
    return 0;
}

struct reader {
    const unsigned char *p;
    size_t len, off;
    int bad;
};

static uint64_t get64(struct reader *r)
{
    if (r->off + 8 > r->len) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += 8;
    return v;
}

static double getd(struct reader *r)
{
    uint64_t u = get64(r);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

int fa_policy_trainer_restore(struct fa_policy_trainer *tr, const struct fa_nn *net,
                              const void *state, size_t len)
{
    size_t np;
    double *m, *v;
    long *at, t0;
    adam_of(tr, &np, &m, &v, &at, &t0);
    if (!tr->llm &&
        (!net || fa_nn_nparams(net) != np || fa_nn_in_dim(net) != fa_nn_in_dim(tr->nn))) {
        fa_err_set("the checkpoint's network does not have this run's shape");
        return -1;
    }
    struct reader r = {state, len, 0, 0};
    if (len < 8 || memcmp(state, state_magic, 8)) {
        fa_err_set("state.bin: not an fa-policy optimiser state");
        return -1;
    }
    r.off = 8;
    long update = (long)get64(&r), updates = (long)get64(&r);
    long steps = (long)get64(&r), episodes = (long)get64(&r);
    struct fa_rng re, rm;
    for (int i = 0; i < 4; i++)
        re.s[i] = get64(&r);
    for (int i = 0; i < 4; i++)
        rm.s[i] = get64(&r);
    long adam_t = (long)get64(&r);
    if (r.bad || get64(&r) != (uint64_t)np) {
        fa_err_set("state.bin: does not match the network");
        return -1;
    }
    if (updates != tr->updates || update > updates) {
        fa_err_set("state.bin: a run of %ld updates, this one has %ld", updates, tr->updates);
        return -1;
    }
    for (size_t i = 0; i < np; i++)
        m[i] = getd(&r);
    for (size_t i = 0; i < np; i++)
        v[i] = getd(&r);
    int need_reset = (int)get64(&r), ep_start = (int)get64(&r);
    int ep_len = (int)get64(&r), ep_t = (int)get64(&r);
    double ep_ret = getd(&r);
    if (r.bad || ep_t < 0 || ep_t > tr->maxlen || ep_len != tr->maxlen ||
        r.off + (size_t)ep_t != len ||
        (!need_reset && (ep_start < 0 || ep_start + ep_t >= tr->data->n))) {
        fa_err_set("state.bin: truncated or inconsistent");
        return -1;
    }
    if (tr->llm) {
        *at = adam_t;
    } else {
        memcpy(fa_nn_params(tr->nn), fa_nn_params((struct fa_nn *)(uintptr_t)net),
               np * sizeof(double));
        fa_nn_adam_set_steps(tr->nn, adam_t);
        /* a run begun before the clamp changed keeps its own */
        fa_nn_set_input_clip(tr->nn, fa_nn_input_clip(net));
        fa_nn_set_input_clip(tr->ref, fa_nn_input_clip(net));
    }
    tr->update = update;
    tr->steps = steps;
    tr->episodes = episodes;
    tr->rng_env = re;
    tr->rng_mb = rm;
    tr->need_reset = need_reset;
    if (!need_reset) {
        /* replay the episode's actions: the same account, history, reward
         * state and observation as when the run stopped */
        if (episode_start(tr, ep_start) < 0)
            return -1;
        for (int k = 0; k < ep_t; k++) {
            int a = r.p[r.off + (size_t)k];
            if (fa_policy_env_act(tr->env, a) < 0)
                return -1;
            tr->ep_actions[k] = (unsigned char)a;
            tr->t++;
            if (fa_policy_env_observe(tr->env, tr->t, NULL, &tr->obs) < 0)
                return -1;
        }
        tr->ep_t = ep_t;
        tr->ep_ret = ep_ret;
    }
    return 0;
}

struct fa_nn *fa_policy_train(const struct fa_policy_data *data, struct fa_policy_backbone *b,
                              const struct fa_policy_train_conf *c)
{
    struct fa_policy_trainer *tr = fa_policy_trainer_new(data, b, c);
    if (!tr)
        return NULL;
    if (fa_policy_trainer_run(tr, 0) < 0) {
        fa_policy_trainer_free(tr);
        return NULL;
    }
    struct fa_nn *nn = tr->nn;
    tr->nn = NULL;
    fa_policy_trainer_free(tr);
    return nn;
}

/* ---- checkpoints ---- */

static int write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
    char dst[4096];
    if ((size_t)snprintf(dst, sizeof dst, "%s/%s", dir, name) >= sizeof dst) {
        fa_err_set("path too long '%s'", dir);
        return -1;
    }
    return fa_file_write_atomic(dst, data, len, 0644);
}

static void hex_hash(const void *p, size_t n, char hex[65])
{
    unsigned char h[32];
    crypto_generichash(h, 32, p, n, NULL, 0);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
}

int fa_policy_ckpt_write(const char *dir, const struct fa_nn *net, const void *state, size_t slen,
                         struct json_object *manifest)
{
    char *wbuf = NULL;
    size_t wlen = 0;
    FILE *f = open_memstream(&wbuf, &wlen);
    if (!f) {
        fa_err_sys("open_memstream");
        return -1;
    }
    int rc = fa_nn_write(net, f, "weights.bin");
    if (fclose(f) != 0 || rc < 0) {
        free(wbuf);
        if (rc == 0)
            fa_err_set("write error 'weights.bin'");
        return -1;
    }
    rc = fa_policy_ckpt_write_raw(dir, wbuf, wlen, state, slen, manifest);
    free(wbuf);
    return rc;
}

int fa_policy_ckpt_write_raw(const char *dir, const void *wbuf, size_t wlen, const void *state,
                             size_t slen, struct json_object *manifest)
{
    int rc;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fa_err_sys("cannot create '%s'", dir);
        return -1;
    }
    char hex[FA_ID_HEX * 2];
    unsigned char h[32];
    crypto_generichash(h, 32, (const unsigned char *)wbuf, wlen, NULL, 0);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    json_object_object_add(manifest, "weights_blake2b", json_object_new_string(hex));
    rc = write_atomic(dir, "weights.bin", wbuf, wlen);
    if (rc < 0)
        return -1;
    if (state) {
        char shex[65];
        hex_hash(state, slen, shex);
        json_object_object_add(manifest, "state_blake2b", json_object_new_string(shex));
        if (write_atomic(dir, "state.bin", state, slen) < 0)
            return -1;
    }
    const char *js =
        json_object_to_json_string_ext(manifest, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t jl = strlen(js);
    char *jsn = malloc(jl + 2);
    if (!jsn) {
        fa_err_set("out of memory");
        return -1;
    }
    memcpy(jsn, js, jl);
    jsn[jl] = '\n';
    rc = write_atomic(dir, "manifest.json", jsn, jl + 1);
    free(jsn);
    return rc;
}

struct fa_nn *fa_policy_ckpt_read(const char *dir, struct json_object **manifest)
{
    char *wbuf;
    size_t wlen;
    char path[4096];
    if (fa_policy_ckpt_read_raw(dir, manifest, &wbuf, &wlen) < 0)
        return NULL;
    snprintf(path, sizeof path, "%s/weights.bin", dir);
    FILE *mf = fmemopen(wbuf, wlen ? wlen : 1, "rb");
    struct fa_nn *nn = mf ? fa_nn_read(mf, path) : NULL;
    if (mf)
        fclose(mf);
    free(wbuf);
    if (!nn) {
        json_object_put(*manifest);
        *manifest = NULL;
    }
    return nn;
}

int fa_policy_ckpt_read_raw(const char *dir, struct json_object **manifest, char **wout,
                            size_t *wlenp)
{
    char path[4096];
    *manifest = NULL;
    if ((size_t)snprintf(path, sizeof path, "%s/manifest.json", dir) >= sizeof path) {
        fa_err_set("path too long '%s'", dir);
        return -1;
    }
    char *ms = slurp(path);
    if (!ms)
        return -1;
    struct json_object *m = json_tokener_parse(ms);
    free(ms);
    if (!m || !json_object_is_type(m, json_type_object)) {
        json_object_put(m);
        fa_err_set("'%s': not a JSON object", path);
        return -1;
    }
    const char *want = fa_record_str(m, "weights_blake2b");
    snprintf(path, sizeof path, "%s/weights.bin", dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fa_err_sys("cannot open '%s'", path);
        json_object_put(m);
        return -1;
    }
    char *wbuf = NULL;
    size_t wlen = 0, cap = 0;
    for (;;) {
        if (wlen + 65536 > cap) {
            cap = cap ? 2 * cap : 65536;
            char *nb = realloc(wbuf, cap);
            if (!nb) {
                free(wbuf);
                fclose(f);
                json_object_put(m);
                fa_err_set("out of memory");
                return -1;
            }
            wbuf = nb;
        }
        size_t k = fread(wbuf + wlen, 1, 65536, f);
        wlen += k;
        if (k < 65536)
            break;
    }
    fclose(f);
    unsigned char h[32];
    char hex[65];
    crypto_generichash(h, 32, (const unsigned char *)wbuf, wlen, NULL, 0);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    if (!want || strcmp(want, hex)) {
        free(wbuf);
        json_object_put(m);
        fa_err_set("'%s': weights do not match the manifest's hash", path);
        return -1;
    }
    *manifest = m;
    *wout = wbuf;
    *wlenp = wlen;
    return 0;
}

int fa_policy_ckpt_read_state(const char *dir, struct json_object *manifest, char **out,
                              size_t *len)
{
    char path[4096];
    *out = NULL;
    *len = 0;
    const char *want = fa_record_str(manifest, "state_blake2b");
    if ((size_t)snprintf(path, sizeof path, "%s/state.bin", dir) >= sizeof path) {
        fa_err_set("path too long '%s'", dir);
        return -1;
    }
    if (!want) {
        fa_err_set("'%s/manifest.json' has no optimiser state to resume from", dir);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        fa_err_sys("cannot open '%s'", path);
        return -1;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 > cap) {
            cap = cap ? 2 * cap : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                fa_err_set("out of memory");
                return -1;
            }
            buf = nb;
        }
        size_t k = fread(buf + n, 1, 65536, f);
        n += k;
        if (k < 65536)
            break;
    }
    int err = ferror(f);
    fclose(f);
    char hex[65];
    hex_hash(buf, n, hex);
    if (err || strcmp(want, hex)) {
        free(buf);
        fa_err_set("'%s': %s", path, err ? "read error" : "does not match the manifest's hash");
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}
