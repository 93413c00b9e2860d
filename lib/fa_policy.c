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
    /* The account at day t's close, before any fill on day t: what the
     * position held since the previous close earned. */
    double peek = st.cash + st.position * px;
    double r = 0;
    if (t > e->start) {
        double pnl = peek - e->peek_prev;
        if (e->c.reward == FA_POLICY_REWARD_RETURN) {
            r = e->peek_prev > 0 ? pnl / e->peek_prev : 0;
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
        /* history: the previous day's action, its reward, value */
        struct fa_policy_obs *o = &e->o;
        if (o->nhist == FA_POLICY_HIST) {
            memmove(o->hist_reward, o->hist_reward + 1, (FA_POLICY_HIST - 1) * sizeof(double));
            memmove(o->hist_value, o->hist_value + 1, (FA_POLICY_HIST - 1) * sizeof(double));
            memmove(o->hist_action, o->hist_action + 1, (FA_POLICY_HIST - 1) * sizeof(int));
            memmove(o->hist_date[0], o->hist_date[1], (FA_POLICY_HIST - 1) * 11);
            o->nhist--;
        }
        o->hist_reward[o->nhist] = r;
        o->hist_value[o->nhist] = peek;
        o->hist_action[o->nhist] = e->last_action;
        memcpy(o->hist_date[o->nhist], e->d->days[t - 1].date, 11);
        o->nhist++;
    }
    e->peek_prev = peek;
    e->t = t;
    e->acted = 0;
    if (reward)
        *reward = r;
    /* The account as the decision sees it: a pending order (next-close)
     * is taken as filled at today's close. */
    double cash = st.cash, pos = st.position;
    if (e->c.fill == FA_POLICY_FILL_NEXT_CLOSE && t > e->start) {
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

/* ---- training ---- */

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct fa_nn *fa_policy_train(const struct fa_policy_data *data, struct fa_policy_backbone *b,
                              const struct fa_policy_train_conf *c)
{
    const struct fa_ppo_conf *pc = &c->ppo;
    if (data->n < 2) {
        fa_err_set("training needs at least 2 trading days, got %d", data->n);
        return NULL;
    }
    if (pc->rollout < 1 || pc->max_episode < 1) {
        fa_err_set("rollout and episode length must be positive");
        return NULL;
    }
    size_t dim = b->ops->dim(b);
    struct fa_nn *nn = fa_nn_new((int)dim, c->nhidden, c->widths, c->act, c->seed);
    if (!nn)
        return NULL;
    struct fa_nn *ref = fa_nn_clone(nn);
    struct fa_policy_env *env = fa_policy_env_new(data, &c->env);
    int R = pc->rollout;
    double *X = malloc((size_t)R * dim * sizeof *X);
    double *xlast = malloc(dim * sizeof *xlast);
    struct fa_ppo_sample *buf = calloc((size_t)R, sizeof *buf);
    double *rew = malloc((size_t)R * sizeof *rew), *val = malloc((size_t)R * sizeof *val);
    double *adv = malloc((size_t)R * sizeof *adv), *ret = malloc((size_t)R * sizeof *ret);
    unsigned char *done = malloc((size_t)R);
    if (!ref || !env || !X || !xlast || !buf || !rew || !val || !adv || !ret || !done) {
        if (ref && env)
            fa_err_set("out of memory");
        goto fail;
    }
    /* two PRNG streams: episodes and actions; minibatch order */
    struct fa_rng rng_env, rng_mb;
    fa_rng_seed(&rng_env, c->seed ^ 0x656e76ULL);
    fa_rng_seed(&rng_mb, c->seed ^ 0x6d62ULL);
    int maxlen = pc->max_episode < data->n - 1 ? pc->max_episode : data->n - 1;
    long updates = pc->timesteps / R;
    if (updates < 1)
        updates = 1;
    long steps = 0, episodes = 0;
    int need_reset = 1, ep_len = 0, ep_t = 0, t = 0;
    double ep_ret = 0;
    struct fa_policy_obs obs;
    for (long u = 1; u <= updates; u++) {
        double t0 = mono_seconds();
        double ret_sum = 0;
        long ret_n = 0;
        for (int i = 0; i < R; i++) {
            if (need_reset) {
                int span = data->n - 1 - maxlen; /* last start index */
                int s = span > 0 ? (int)fa_rng_below(&rng_env, (uint64_t)span + 1) : 0;
                if (fa_policy_env_reset(env, s) < 0 || fa_policy_env_observe(env, s, NULL, &obs))
                    goto fail;
                t = s;
                ep_len = maxlen;
                ep_t = 0;
                ep_ret = 0;
                need_reset = 0;
            }
            double *x = X + (size_t)i * dim;
            if (b->ops->encode(b, &obs, x) < 0)
                goto fail;
            double z[3], v, p[3], lp[3], zr[3], vr, pr[3];
            fa_nn_forward(nn, x, z, &v);
            if (fa_nn_softmax(z, obs.mask, p, lp) < 0)
                goto fail;
            int a = fa_nn_sample(p, obs.mask, &rng_env);
            fa_nn_forward(ref, x, zr, &vr);
            struct fa_ppo_sample *sm = &buf[i];
            fa_nn_softmax(zr, obs.mask, pr, sm->ref_logp);
            sm->x = x;
            sm->mask = obs.mask;
            sm->action = a;
            sm->old_logp = lp[a];
            val[i] = v;
            if (fa_policy_env_act(env, a) < 0)
                goto fail;
            t++;
            double r;
            if (fa_policy_env_observe(env, t, &r, &obs) < 0)
                goto fail;
            rew[i] = r;
            ep_ret += r;
            ep_t++;
            steps++;
            done[i] = ep_t >= ep_len;
            if (done[i]) {
                episodes++;
                ret_sum += ep_ret;
                ret_n++;
                need_reset = 1;
            }
        }
        double last_val = 0;
        if (!done[R - 1]) {
            double z[3];
            if (b->ops->encode(b, &obs, xlast) < 0)
                goto fail;
            fa_nn_forward(nn, xlast, z, &last_val);
        }
        fa_ppo_gae(R, rew, val, done, last_val, pc->gamma, pc->lambda, adv, ret);
        if (pc->norm_adv)
            fa_ppo_normalise(R, adv);
        for (int i = 0; i < R; i++) {
            buf[i].adv = adv[i];
            buf[i].ret = ret[i];
        }
        struct fa_policy_progress pr;
        memset(&pr, 0, sizeof pr);
        pr.lr = fa_ppo_lr(pc, u, updates);
        double t1 = mono_seconds();
        fa_ppo_update(nn, pc, buf, R, pr.lr, &rng_mb, &pr.st);
        pr.rollout_seconds = t1 - t0;
        pr.update_seconds = mono_seconds() - t1;
        if (pr.st.n > 0) {
            double k = (double)pr.st.n;
            pr.st.loss /= k;
            pr.st.pg_loss /= k;
            pr.st.v_loss /= k;
            pr.st.entropy /= k;
            pr.st.kl_ref /= k;
            pr.st.approx_kl /= k;
            pr.st.clipfrac /= k;
        }
        pr.update = u;
        pr.updates = updates;
        pr.steps = steps;
        pr.episodes = episodes;
        pr.ep_return = ret_n ? ret_sum / (double)ret_n : NAN;
        pr.illegal = fa_policy_env_illegal(env);
        if (c->progress && c->progress(&pr, c->arg))
            break;
    }
    fa_nn_free(ref);
    fa_policy_env_free(env);
    free(X);
    free(xlast);
    free(buf);
    free(rew);
    free(val);
    free(adv);
    free(ret);
    free(done);
    return nn;
fail:
    fa_nn_free(nn);
    fa_nn_free(ref);
    fa_policy_env_free(env);
    free(X);
    free(xlast);
    free(buf);
    free(rew);
    free(val);
    free(adv);
    free(ret);
    free(done);
    return NULL;
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

int fa_policy_ckpt_write(const char *dir, const struct fa_nn *net, struct json_object *manifest)
{
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fa_err_sys("cannot create '%s'", dir);
        return -1;
    }
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
    char hex[FA_ID_HEX * 2];
    unsigned char h[32];
    crypto_generichash(h, 32, (const unsigned char *)wbuf, wlen, NULL, 0);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    json_object_object_add(manifest, "weights_blake2b", json_object_new_string(hex));
    rc = write_atomic(dir, "weights.bin", wbuf, wlen);
    free(wbuf);
    if (rc < 0)
        return -1;
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
    char path[4096];
    *manifest = NULL;
    if ((size_t)snprintf(path, sizeof path, "%s/manifest.json", dir) >= sizeof path) {
        fa_err_set("path too long '%s'", dir);
        return NULL;
    }
    char *ms = slurp(path);
    if (!ms)
        return NULL;
    struct json_object *m = json_tokener_parse(ms);
    free(ms);
    if (!m || !json_object_is_type(m, json_type_object)) {
        json_object_put(m);
        fa_err_set("'%s': not a JSON object", path);
        return NULL;
    }
    const char *want = fa_record_str(m, "weights_blake2b");
    snprintf(path, sizeof path, "%s/weights.bin", dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fa_err_sys("cannot open '%s'", path);
        json_object_put(m);
        return NULL;
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
                return NULL;
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
        return NULL;
    }
    FILE *mf = fmemopen(wbuf, wlen ? wlen : 1, "rb");
    struct fa_nn *nn = mf ? fa_nn_read(mf, path) : NULL;
    if (mf)
        fclose(mf);
    free(wbuf);
    if (!nn) {
        json_object_put(m);
        return NULL;
    }
    *manifest = m;
    return nn;
}
