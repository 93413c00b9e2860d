/* fa_market.c: the simulated account behind fa-metrics, fa-tools' past
 * performance and fa-policy's environment (contract in fa_market.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fa_date.h"
#include "fa_err.h"
#include "fa_market.h"
#include "fa_banned.h"

struct fa_market {
    struct fa_market_params p;
    bool started;
    int last_day;
    double cash, pos;
    double prev_value;
    enum fa_market_action pending; /* realistic: order for the next bar */
    double *ret;
    size_t nret, cap;
    struct fa_market_state st;
    size_t steps;
    /* round trips: what opening the current position cost (long) or
     * brought in (short), fees included */
    double basis;
    size_t trades, round_trips, wins, refused;
    size_t asked[4];
    double fees, notional, value_sum;
    size_t exposed;
};

void fa_market_params_default(struct fa_market_params *p, enum fa_market_convention c)
{
    memset(p, 0, sizeof(*p));
    p->convention = c;
    p->fill = FA_MARKET_FILL_NEXT_OPEN;
    p->cash = 10000;
    p->fee = c == FA_MARKET_FINAGENT ? 0.001 : 0;
    p->commission_bps = c == FA_MARKET_REALISTIC ? 1 : 0;
    p->slippage_bps = c == FA_MARKET_REALISTIC ? 5 : 0;
    p->allow_short = false;
}

static int push_ret(struct fa_market *m, double r)
{
    if (m->nret == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        double *n = realloc(m->ret, cap * sizeof(*n));
        if (!n) {
            fa_err_set("out of memory");
            return -1;
        }
        m->ret = n;
        m->cap = cap;
    }
    m->ret[m->nret++] = r;
    return 0;
}

struct fa_market *fa_market_new(const struct fa_market_params *p)
{
    if (p->convention != FA_MARKET_REALISTIC && p->convention != FA_MARKET_FINAGENT) {
        fa_err_set("invalid convention %d", (int)p->convention);
        return NULL;
    }
    if (p->fill != FA_MARKET_FILL_NEXT_OPEN && p->fill != FA_MARKET_FILL_NEXT_CLOSE) {
        fa_err_set("invalid fill %d", (int)p->fill);
        return NULL;
    }
    if (!isfinite(p->cash) || p->cash < 0) {
        fa_err_set("invalid cash '%g' (want a finite amount >= 0)", p->cash);
        return NULL;
    }
    if (!isfinite(p->fee) || p->fee < 0 || p->fee >= 1) {
        fa_err_set("invalid fee '%g' (want 0 <= fee < 1)", p->fee);
        return NULL;
    }
    if (!isfinite(p->commission_bps) || p->commission_bps < 0 || p->commission_bps >= 10000) {
        fa_err_set("invalid commission '%g' bps (want 0 <= bps < 10000)", p->commission_bps);
        return NULL;
    }
    if (!isfinite(p->slippage_bps) || p->slippage_bps < 0 || p->slippage_bps >= 10000) {
        fa_err_set("invalid slippage '%g' bps (want 0 <= bps < 10000)", p->slippage_bps);
        return NULL;
    }
    struct fa_market *m = calloc(1, sizeof(*m));
    if (!m) {
        fa_err_set("out of memory");
        return NULL;
    }
    m->p = *p;
    if (m->p.convention == FA_MARKET_FINAGENT)
        m->p.allow_short = false;
    m->cash = p->cash;
    m->prev_value = p->cash;
    m->pending = FA_MARKET_NONE;
    m->st.cash = p->cash;
    m->st.value = p->cash;
    if (m->p.convention == FA_MARKET_FINAGENT && push_ret(m, 0) < 0) {
        free(m);
        return NULL;
    }
    return m;
}

void fa_market_free(struct fa_market *m)
{
    if (!m)
        return;
    free(m->ret);
    free(m);
}

/* Fee rate per side on notional. */
static double fee_rate(const struct fa_market *m)
{
    return m->p.convention == FA_MARKET_FINAGENT ? m->p.fee : m->p.commission_bps / 1e4;
}

static double slip(const struct fa_market *m)
{
    return m->p.convention == FA_MARKET_FINAGENT ? 0 : m->p.slippage_bps / 1e4;
}

/* Whole shares that cash buys at px with fee rate c. FinAgent's own
 * expression (cash / P / (1+fee)) is kept as written so results match to
 * the last bit. */
static double shares_for(double cash, double px, double c)
{
    if (cash <= 0)
        return 0;
    return floor(cash / px / (1 + c));
}

static void close_trip(struct fa_market *m, double result)
{
    m->round_trips++;
    if (result > 0)
        m->wins++;
}

/* Buys (covering a short first when there is one). Returns the shares
 * traded (0: nothing possible). */
static double exec_buy(struct fa_market *m, double base, double *fill, double *fees)
{
    double c = fee_rate(m), px = base * (1 + slip(m)), traded = 0;
    if (m->pos < 0) {
        double n = -m->pos, cost = n * px, fee = cost * c;
        m->cash -= cost + fee;
        close_trip(m, m->basis - (cost + fee));
        m->pos = 0;
        m->basis = 0;
        m->notional += cost;
        *fees += fee;
        traded += n;
    }
    double n = shares_for(m->cash, px, c);
    if (n >= 1) {
        double cost = n * px, fee = cost * c;
        m->cash -= cost + fee;
        m->pos += n;
        m->basis += cost + fee;
        m->notional += cost;
        *fees += fee;
        traded += n;
    }
    if (traded > 0)
        *fill = px;
    return traded;
}

/* Sells the long (then opens a short when allowed). Returns the shares
 * traded as a positive number (0: nothing possible). */
static double exec_sell(struct fa_market *m, double base, double *fill, double *fees)
{
    double c = fee_rate(m), px = base * (1 - slip(m)), traded = 0;
    if (m->pos > 0) {
        double n = m->pos, gross = n * px, fee = gross * c;
        m->cash += gross - fee;
        close_trip(m, gross - fee - m->basis);
        m->pos = 0;
        m->basis = 0;
        m->notional += gross;
        *fees += fee;
        traded += n;
    }
    if (m->p.allow_short && m->pos == 0) {
        double n = shares_for(m->cash, px, c);
        if (n >= 1) {
            double gross = n * px, fee = gross * c;
            m->cash += gross - fee;
            m->pos = -n;
            m->basis = gross - fee;
            m->notional += gross;
            *fees += fee;
            traded += n;
        }
    }
    if (traded > 0)
        *fill = px;
    return traded;
}

/* Executes action at base price; fills st's done/fill/shares/fees. */
static void execute(struct fa_market *m, enum fa_market_action a, double base,
                    struct fa_market_state *st)
{
    st->done = a;
    if (a == FA_MARKET_BUY) {
        double n = exec_buy(m, base, &st->fill_price, &st->fees);
        st->shares_traded = n;
    } else if (a == FA_MARKET_SELL) {
        double n = exec_sell(m, base, &st->fill_price, &st->fees);
        st->shares_traded = -n;
    }
    if ((a == FA_MARKET_BUY || a == FA_MARKET_SELL) && st->shares_traded == 0) {
        st->done = FA_MARKET_HOLD;
        m->refused++;
    }
    if (st->shares_traded != 0)
        m->trades++;
}

static bool price_ok(double v)
{
    return isfinite(v) && v > 0;
}

int fa_market_step(struct fa_market *m, const struct fa_market_bar *bar,
                   enum fa_market_action action, struct fa_market_state *out)
{
    char d1[11], d2[11];
    if (action < FA_MARKET_NONE || action > FA_MARKET_SELL) {
        fa_err_set("invalid action %d", (int)action);
        return -1;
    }
    if (!price_ok(bar->adj_close) || !price_ok(bar->close) ||
        (m->p.convention == FA_MARKET_REALISTIC && !price_ok(bar->open))) {
        fa_err_set("bad price on %s (want finite prices > 0)", fa_date_format(bar->day, d1));
        return -1;
    }
    if (m->started && bar->day <= m->last_day) {
        fa_err_set("price for %s out of order (after %s)", fa_date_format(bar->day, d1),
                   fa_date_format(m->last_day, d2));
        return -1;
    }
    /* make room first so that a failure leaves the account unchanged */
    if (m->nret == m->cap) {
        if (push_ret(m, 0) < 0)
            return -1;
        m->nret--;
    }

    struct fa_market_state st;
    memset(&st, 0, sizeof(st));
    st.day = bar->day;
    st.asked = action;
    if (m->p.convention == FA_MARKET_FINAGENT) {
        execute(m, action, bar->adj_close, &st);
    } else {
        double f = bar->adj_close / bar->close;
        double base = m->p.fill == FA_MARKET_FILL_NEXT_OPEN ? bar->open * f : bar->adj_close;
        execute(m, m->pending, base, &st);
        m->pending = action;
    }
    m->fees += st.fees;
    m->asked[action]++;

    st.cash = m->cash;
    st.position = m->pos;
    st.price = bar->adj_close;
    st.value = m->cash + m->pos * bar->adj_close;
    st.ret = m->prev_value != 0 ? st.value / m->prev_value - 1 : 0;
    if (m->p.convention == FA_MARKET_FINAGENT || m->started)
        m->ret[m->nret++] = st.ret;
    m->prev_value = st.value;
    m->value_sum += st.value;
    if (m->pos != 0)
        m->exposed++;
    m->steps++;
    m->started = true;
    m->last_day = bar->day;
    m->st = st;
    if (out)
        *out = st;
    return 0;
}

bool fa_market_legal(const struct fa_market *m, enum fa_market_action action, double px)
{
    switch (action) {
    case FA_MARKET_NONE:
    case FA_MARKET_HOLD:
        return true;
    case FA_MARKET_BUY:
        if (m->p.allow_short && m->pos < 0)
            return true;
        if (!price_ok(px))
            return false;
        return shares_for(m->cash, px * (1 + slip(m)), fee_rate(m)) >= 1;
    case FA_MARKET_SELL:
        return m->pos > 0 || (m->p.allow_short && m->pos == 0);
    }
    return false;
}

void fa_market_state(const struct fa_market *m, struct fa_market_state *st)
{
    *st = m->st;
}

const double *fa_market_returns(const struct fa_market *m, size_t *n)
{
    *n = m->nret;
    return m->nret ? m->ret : NULL;
}

double fa_market_mdd(const double *r, size_t n)
{
    double v = 1, peak = 1, mdd = 0;
    for (size_t i = 0; i < n; i++) {
        v *= 1 + r[i];
        if (v > peak)
            peak = v;
        double dd = (peak - v) / peak;
        if (dd > mdd)
            mdd = dd;
    }
    return mdd;
}

static double mean_of(const double *r, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += r[i];
    return n ? s / (double)n : NAN;
}

/* Standard deviation with ddof 0 (population) or 1 (sample). */
static double sd_of(const double *r, size_t n, int ddof)
{
    if (n <= (size_t)ddof)
        return NAN;
    double mu = mean_of(r, n), s = 0;
    for (size_t i = 0; i < n; i++)
        s += (r[i] - mu) * (r[i] - mu);
    return sqrt(s / (double)(n - (size_t)ddof));
}

static double ratio(double a, double b)
{
    if (!isfinite(a) || !isfinite(b) || b == 0)
        return NAN;
    return a / b;
}

static void metrics_clear(struct fa_market_metrics *o)
{
    memset(o, 0, sizeof(*o));
    o->total_return = o->arr = o->sr = o->cr = o->sor = o->mdd = o->vol = NAN;
    o->cagr = o->sharpe = o->sortino = o->calmar = o->annual_vol = NAN;
    o->win_rate = o->exposure = o->turnover = NAN;
    o->start_value = o->end_value = NAN;
}

static void finagent_figures(const double *r, size_t n, struct fa_market_metrics *o)
{
    o->n = n;
    if (n == 0)
        return;
    double prod = 1;
    for (size_t i = 0; i < n; i++)
        prod *= 1 + r[i];
    double mu = mean_of(r, n), sd = sd_of(r, n, 0);
    o->total_return = prod - 1;
    o->arr = (prod - 1) / (double)n * 252;
    o->sr = ratio(mu, sd) * sqrt((double)n);
    o->mdd = fa_market_mdd(r, n);
    o->vol = sd;
    o->cr = ratio(mu * 252, o->mdd);
    /* std of the negative returns alone */
    size_t nneg = 0;
    double *neg = malloc((n ? n : 1) * sizeof(*neg));
    if (neg) {
        for (size_t i = 0; i < n; i++)
            if (r[i] < 0)
                neg[nneg++] = r[i];
        o->sor = nneg ? ratio(mu * 252, sd_of(neg, nneg, 0)) : NAN;
        free(neg);
    }
}

void fa_market_metrics_finagent(const double *r, size_t n, struct fa_market_metrics *out)
{
    metrics_clear(out);
    out->convention = FA_MARKET_FINAGENT;
    finagent_figures(r, n, out);
}

void fa_market_metrics(const struct fa_market *m, struct fa_market_metrics *o)
{
    metrics_clear(o);
    o->convention = m->p.convention;
    o->days = m->steps;
    o->start_value = m->p.cash;
    o->end_value = m->steps ? m->st.value : m->p.cash;
    o->total_return = ratio(o->end_value, o->start_value) - 1;
    const double *r = m->ret;
    size_t n = m->nret;
    if (m->p.convention == FA_MARKET_FINAGENT) {
        finagent_figures(r, n, o);
    } else {
        o->n = n;
        o->mdd = fa_market_mdd(r, n);
        double mu = mean_of(r, n), sd = sd_of(r, n, 1);
        if (n > 0)
            o->cagr = pow(o->end_value / o->start_value, 252.0 / (double)n) - 1;
        o->vol = sd_of(r, n, 0);
        o->annual_vol = sd * sqrt(252);
        o->sharpe = ratio(mu, sd) * sqrt(252);
        double dd = 0;
        for (size_t i = 0; i < n; i++)
            if (r[i] < 0)
                dd += r[i] * r[i];
        dd = n ? sqrt(dd / (double)n) : NAN;
        o->sortino = ratio(mu * 252, dd * sqrt(252));
        o->calmar = ratio(o->cagr, o->mdd);
    }
    o->trades = m->trades;
    o->round_trips = m->round_trips;
    o->wins = m->wins;
    o->win_rate = m->round_trips ? (double)m->wins / (double)m->round_trips : NAN;
    o->exposure = m->steps ? (double)m->exposed / (double)m->steps : NAN;
    o->turnover = m->steps ? ratio(m->notional, m->value_sum / (double)m->steps) : NAN;
    o->fees = m->fees;
    o->none_days = m->asked[FA_MARKET_NONE];
    o->hold_days = m->asked[FA_MARKET_HOLD];
    o->buy_days = m->asked[FA_MARKET_BUY];
    o->sell_days = m->asked[FA_MARKET_SELL];
    o->refused = m->refused;
}

static const char *const action_names[] = {"NONE", "HOLD", "BUY", "SELL"};

const char *fa_market_action_name(enum fa_market_action a)
{
    if (a < FA_MARKET_NONE || a > FA_MARKET_SELL)
        return "?";
    return action_names[a];
}

int fa_market_action_parse(const char *s, enum fa_market_action *a)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, action_names[i]) == 0) {
            *a = (enum fa_market_action)i;
            return 0;
        }
    fa_err_set("unknown action '%s' (want BUY, SELL, HOLD or NONE)", s ? s : "(null)");
    return -1;
}

const char *fa_market_convention_name(enum fa_market_convention c)
{
    return c == FA_MARKET_FINAGENT ? "finagent" : "realistic";
}

int fa_market_convention_parse(const char *s, enum fa_market_convention *c)
{
    if (s && strcmp(s, "finagent") == 0) {
        *c = FA_MARKET_FINAGENT;
        return 0;
    }
    if (s && strcmp(s, "realistic") == 0) {
        *c = FA_MARKET_REALISTIC;
        return 0;
    }
    fa_err_set("unknown convention '%s' (want finagent or realistic)", s ? s : "(null)");
    return -1;
}
