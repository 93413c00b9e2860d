/* fa_synth.c: the synthetic market of fa_synth.h.
 *
 * Model, per trading day t (all draws from per-symbol xoshiro256** streams):
 *   regime  bull / bear / sideways, a Markov chain that stays with
 *           probability 0.985 and otherwise moves to one of the others;
 *   event   e_t in {-1, 0, +1} with probabilities 0.3, 0.4, 0.3;
 *   return  r_t = drift(regime) + vol(regime) * z
 *                 + EVENT_DRIFT * (e_{t-1} + ... + e_{t-HORIZON})
 *                 - a small pull back towards the starting price;
 * so an event on day t moves the next HORIZON days' returns. The news of
 * day t (and of the non-trading days just before it) speaks about e_t:
 * each item's tone agrees with e_t with probability
 * 0.5 + 0.3 * (1 - noise) on event days, and is drawn at random on quiet
 * days. Guidance (about one day in twelve) speaks about the regime.
 *
 * Determinism: only integer arithmetic, + - * / and floor reach the
 * records; FP contraction is off so no compiler fuses a multiply-add. */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_err.h"
#include "fa_record.h"
#include "fa_synth.h"
#include "fa_banned.h"

/* GCC keeps contraction off under -std=c11; clang needs telling. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define EVENT_DRIFT 0.005
#define STAY        0.985

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

/* Uniform in [0, 1) with 53 random bits: exact on every machine. */
static double uni(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n). */
static unsigned pick(struct rng *r, unsigned n)
{
    return (unsigned)(uni(r) * n);
}

/* Approximately standard normal: the sum of 12 uniforms less 6 (Irwin-
 * Hall); no transcendental functions, so no libm differences. */
static double normal(struct rng *r)
{
    double s = 0;
    for (int i = 0; i < 12; i++)
        s += uni(r);
    return s - 6.0;
}

static double cents(double x)
{
    double c = floor(x * 100.0 + 0.5) / 100.0;
    return c < 0.01 ? 0.01 : c;
}

static uint64_t fnv(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

int fa_synth_parse(const char *spec, struct fa_synth_opts *o)
{
    char buf[256], *p, *tok;
    int field = 0;

    o->seed = 1;
    o->noise = 0;
    if (!spec || !*spec)
        return 0;
    if (*spec != ':' || strlen(spec) >= sizeof buf) {
        fa_err_set("bad synth source 'synth%.60s' (want synth[:SEED][:noise=X])", spec);
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", spec + 1);
    p = buf;
    /* strtok_r would skip the empty seed of "synth::noise=1". */
    while ((tok = strsep(&p, ":")) != NULL) {
        char *end;
        if (field++ == 0) {
            unsigned long long v;
            if (!*tok)
                continue;
            if (*tok < '0' || *tok > '9')
                goto bad;
            v = strtoull(tok, &end, 10);
            if (*end)
                goto bad;
            o->seed = v;
        } else if (strncmp(tok, "noise=", 6) == 0) {
            double v = strtod(tok + 6, &end);
            if (end == tok + 6 || *end || !(v >= 0 && v <= 1))
                goto bad;
            o->noise = v;
        } else {
            goto bad;
        }
    }
    return 0;
bad:
    fa_err_set("bad synth source 'synth%.60s' (want synth[:SEED][:noise=X], X in 0..1)", spec);
    return -1;
}

/* --- words ---------------------------------------------------------------- */

static const char *const things[] = {"cloud services", "chips",        "devices",  "software",
                                     "subscriptions",  "data centers", "payments", "advertising"};
static const char *const sources[] = {"Synth Wire", "Market Desk", "Daily Ledger", "Finance Feed",
                                      "The Tape"};
static const char *const head_pos[] = {
    "{S} beats estimates as revenue jumps {N}%",
    "{S} shares rally after an upbeat outlook",
    "Analysts upgrade {S}, citing strong demand for its {X}",
    "{S} wins a major contract for its {X}",
    "{S} raises full-year guidance on record {X} sales",
    "Investors cheer {S} plan to buy back {N} billion dollars of stock",
    "{S} reports a surge in {X} orders",
    "{S} profit climbs {N}% as margins widen",
};
static const char *const head_neg[] = {
    "{S} misses estimates as revenue falls {N}%",
    "{S} shares slide after a weak outlook",
    "Analysts downgrade {S} on slowing demand for its {X}",
    "{S} faces a lawsuit over its {X}",
    "{S} cuts full-year guidance amid a slump in {X}",
    "Regulators open a probe into {S}",
    "{S} recalls {X} after safety complaints",
    "{S} warns of a loss; profit down {N}%",
};
static const char *const head_neu[] = {
    "{S} schedules its annual shareholder meeting", "{S} names a new head of its {X} unit",
    "{S} to present at an industry conference",     "{S} shares little changed in quiet trading",
    "{S} files routine quarterly paperwork",
};
static const char *const text_pos[] = {
    "{S} said demand for its {X} was stronger than expected.",
    "Management pointed to improving margins and a solid order book.",
    "Several brokers raised their price targets after the news.",
    "The company expects growth to continue in the coming quarters.",
    "Traders described the reaction as broadly positive.",
};
static const char *const text_neg[] = {
    "{S} said demand for its {X} was weaker than expected.",
    "Management flagged rising costs and a thinner order book.",
    "Several brokers cut their price targets after the news.",
    "The company expects conditions to stay difficult in the coming quarters.",
    "Traders described the reaction as clearly negative.",
};
static const char *const text_neu[] = {
    "The company did not change its financial outlook.",
    "Analysts said the news was unlikely to affect earnings.",
    "No further details were given.",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Expands {S} (symbol), {X} (a thing) and {N} (a number) into out. */
static void expand(char *out, size_t size, const char *t, const char *sym, const char *x, int n)
{
    size_t o = 0;

    for (; *t && o + 1 < size; t++) {
        const char *rep = NULL;
        char num[16];
        if (t[0] == '{' && t[1] && t[2] == '}') {
            if (t[1] == 'S')
                rep = sym;
            else if (t[1] == 'X')
                rep = x;
            else if (t[1] == 'N') {
                snprintf(num, sizeof num, "%d", n);
                rep = num;
            }
        }
        if (rep) {
            size_t k = strlen(rep);
            if (k > size - 1 - o)
                k = size - 1 - o;
            memcpy(out + o, rep, k);
            o += k;
            t += 2;
        } else {
            out[o++] = *t;
        }
    }
    out[o] = '\0';
}

/* Draws each item takes from its stream: a day before the window asked
 * for advances the stream by as many draws without building the record
 * (formatting thousands of unwanted items was most of a fetch's time),
 * so the bytes of the days kept do not change. Keep in step with
 * news_item and guidance_item. */
#define NEWS_DRAWS     8
#define GUIDANCE_DRAWS 3

static void skip(struct rng *r, int n)
{
    while (n-- > 0)
        (void)rng_next(r);
}

static struct json_object *news_item(struct rng *r, const char *sym, int day, int k, int tone)
{
    const char *const *heads = tone > 0 ? head_pos : tone < 0 ? head_neg : head_neu;
    size_t nheads = tone > 0 ? N_OF(head_pos) : tone < 0 ? N_OF(head_neg) : N_OF(head_neu);
    const char *const *texts = tone > 0 ? text_pos : tone < 0 ? text_neg : text_neu;
    size_t ntexts = tone > 0 ? N_OF(text_pos) : tone < 0 ? N_OF(text_neg) : N_OF(text_neu);
    const char *x = things[pick(r, N_OF(things))];
    int num = 2 + (int)pick(r, 14);
    unsigned h = pick(r, (unsigned)nheads), t1 = pick(r, (unsigned)ntexts),
             t2 = pick(r, (unsigned)ntexts);
    unsigned hour = 6 + pick(r, 15), minute = pick(r, 60);
    const char *src = sources[pick(r, N_OF(sources))];
    char title[256], s1[256], s2[256], text[600], date[11], buf[300];
    struct json_object *f = json_object_new_object();

    if (t2 == t1)
        t2 = (t1 + 1) % (unsigned)ntexts;
    expand(title, sizeof title, heads[h], sym, x, num);
    expand(s1, sizeof s1, texts[t1], sym, x, num);
    expand(s2, sizeof s2, texts[t2], sym, x, num);
    snprintf(text, sizeof text, "%s %s", s1, s2);
    fa_date_format(day, date);
    fa_record_set_str(f, "title", title);
    fa_record_set_str(f, "text", text);
    fa_record_set_str(f, "source", src);
    snprintf(buf, sizeof buf, "https://news.synth.example/%s/%s/%d", sym, date, k);
    fa_record_set_str(f, "url", buf);
    snprintf(buf, sizeof buf, "%s %02u:%02u:00", date, hour, minute);
    fa_record_set_str(f, "time", buf);
    return f;
}

static struct json_object *guidance_item(struct rng *r, const char *sym, int day, int tone)
{
    static const char *const rating[] = {"Underperform", "Neutral", "Outperform"};
    static const char *const why_pos[] = {
        "Our analysts expect the uptrend in {S} to continue; momentum and earnings revisions "
        "both point higher.",
        "We see {S} well placed to gain share in {X}; we would add on weakness.",
    };
    static const char *const why_neg[] = {
        "Our analysts expect {S} to keep losing ground; momentum is weak and estimates are "
        "falling.",
        "We see growing pressure on {S} in {X}; we would reduce exposure into strength.",
    };
    static const char *const why_neu[] = {
        "Our analysts see {S} range-bound for now; we would wait for a clearer trend.",
        "Risks and opportunities for {S} look balanced; we keep our view unchanged.",
    };
    const char *const *w = tone > 0 ? why_pos : tone < 0 ? why_neg : why_neu;
    const char *x = things[pick(r, N_OF(things))];
    double mag = 0.3 + 0.6 * uni(r);
    unsigned k = pick(r, 2);
    char title[200], text[400], date[11];
    struct json_object *f = json_object_new_object();

    snprintf(title, sizeof title, "Analyst note: %s rated %s", sym, rating[tone + 1]);
    expand(text, sizeof text, w[k], sym, x, 0);
    fa_record_set_str(f, "title", title);
    fa_record_set_str(f, "text", text);
    fa_record_set_num(f, "sentiment", tone == 0 ? 0 : floor(tone * mag * 100.0 + 0.5) / 100.0);
    fa_record_set_str(f, "source", "Synth Research");
    fa_date_format(day, date);
    snprintf(title, sizeof title, "%s 07:00:00", date);
    fa_record_set_str(f, "time", title);
    return f;
}

/* --- the series ------------------------------------------------------------ */

enum { BULL, BEAR, SIDE };

/* The generator's whole state at the start of a day. A process that asks
 * for the same series again from a later day (fa-days: each day's fetch)
 * resumes from where the last call began to keep records, instead of from
 * FA_SYNTH_ORIGIN: the same draws in the same order, so the same series. */
struct synth_state {
    struct rng pr, er, nr, gr;
    int day, regime, events[FA_SYNTH_HORIZON], pend_e;
    bool pending;
    double p;
};
static struct {
    bool valid;
    char symbol[64];
    struct fa_synth_opts o;
    struct synth_state st;
} memo;
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

static bool memo_same(const struct fa_synth_opts *o, const char *symbol)
{
    return memo.valid && memo.o.seed == o->seed && memo.o.noise == o->noise &&
           memo.o.cal == o->cal && strcmp(memo.symbol, symbol) == 0;
}

int fa_synth_generate(const struct fa_synth_opts *o, const char *symbol, int keep_from, int to,
                      struct fa_provider_data *d)
{
    static const double drift[3] = {0.0008, -0.0010, 0.0};
    static const double vol[3] = {0.011, 0.020, 0.008};
    const bool crypto = o->cal == FA_CAL_CRYPTO;
    const double vscale = crypto ? 2.5 : 1.0;
    const double agree = 0.5 + 0.3 * (1.0 - o->noise);
    const double gagree = 0.5 + 0.3 * (1.0 - o->noise);
    uint64_t h = fnv(symbol) ^ o->seed * 0x9e3779b97f4a7c15ULL;
    struct synth_state g = {.regime = SIDE};
    int origin;
    double p0, base_vol;

    if (fa_date_parse(FA_SYNTH_ORIGIN, &origin) != 0)
        return -1;
    if (to < origin) {
        fa_err_set("synth: the synthetic market starts on %s", FA_SYNTH_ORIGIN);
        return -1;
    }
    rng_seed(&g.pr, h ^ 0x1111);
    rng_seed(&g.er, h ^ 0x2222);
    rng_seed(&g.nr, h ^ 0x3333);
    rng_seed(&g.gr, h ^ 0x4444);
    p0 = crypto ? 300.0 + (double)(fnv(symbol) % 2700) : 20.0 + (double)(fnv(symbol) % 280);
    base_vol = 1e6 * (double)(1 + fnv(symbol) % 50);
    g.p = p0;
    g.day = origin;
    pthread_mutex_lock(&memo_lock);
    if (memo_same(o, symbol) && memo.st.day <= keep_from && memo.st.day <= to)
        g = memo.st;
    pthread_mutex_unlock(&memo_lock);

    for (int day = g.day; day <= to; day++) {
        bool trading = fa_date_is_trading(day, o->cal);
        int e, nitems;

        if (day == keep_from && strlen(symbol) < sizeof memo.symbol) {
            pthread_mutex_lock(&memo_lock);
            memo.valid = true;
            snprintf(memo.symbol, sizeof memo.symbol, "%s", symbol);
            memo.o = *o;
            memo.st = g;
            memo.st.day = day;
            pthread_mutex_unlock(&memo_lock);
        }

        /* The event of the next trading day: today's if trading. */
        if (!g.pending) {
            double u = uni(&g.er);
            g.pend_e = u < 0.3 ? -1 : u < 0.6 ? 1 : 0;
            g.pending = true;
        }
        e = g.pend_e;

        if (trading) {
            double u = uni(&g.pr), r, z, sd, open, close, hi, lo, ev = 0;
            struct fa_provider_bar b = {.day = day, .has_volume = true};

            if (u >= STAY)
                g.regime = (g.regime + 1 + (u < STAY + (1 - STAY) / 2 ? 0 : 1)) % 3;
            for (int k = 0; k < FA_SYNTH_HORIZON; k++)
                ev += g.events[k];
            z = normal(&g.pr);
            sd = vol[g.regime] * vscale;
            /* + sd^2/2 cancels the drag of compounding; the last term pulls
             * the price back towards p0, harder the further it strays. */
            r = drift[g.regime] * vscale + 0.5 * sd * sd + sd * z + EVENT_DRIFT * vscale * ev +
                0.001 * (p0 / g.p - g.p / p0);
            r = r < -0.3 ? -0.3 : r > 0.3 ? 0.3 : r;
            open = g.p * (1.0 + 0.25 * vol[g.regime] * vscale * normal(&g.pr));
            close = g.p * (1.0 + r);
            hi = (open > close ? open : close) *
                 (1.0 + 0.5 * vol[g.regime] * vscale * fabs(normal(&g.pr)));
            lo = (open < close ? open : close) *
                 (1.0 - 0.5 * vol[g.regime] * vscale * fabs(normal(&g.pr)));
            b.open = cents(open);
            b.close = cents(close);
            b.high = cents(hi);
            b.low = cents(lo);
            b.adj_close = b.close;
            b.volume = floor(base_vol * (0.5 + uni(&g.pr) + 25.0 * fabs(r)));
            g.p = close;
            /* Shift: events[0] is yesterday's. */
            for (int k = FA_SYNTH_HORIZON - 1; k > 0; k--)
                g.events[k] = g.events[k - 1];
            g.events[0] = e;
            g.pending = false;
            if (day >= keep_from && fa_provider_add_bar(d, &b) != 0)
                return -1;
        }

        /* News: 2-4 items on trading days, 0-1 on others. */
        nitems = trading ? 2 + (int)pick(&g.nr, 3) : (int)pick(&g.nr, 2);
        for (int k = 0; k < nitems; k++) {
            double u = uni(&g.nr), v = uni(&g.nr);
            int tone;
            if (u < 0.15)
                tone = 0;
            else if (e != 0)
                tone = v < agree ? e : -e;
            else
                tone = v < 0.5 ? 1 : -1;
            if (day < keep_from) {
                skip(&g.nr, NEWS_DRAWS); /* the same draws, no record built */
            } else {
                struct json_object *f = news_item(&g.nr, symbol, day, k, tone);
                if (fa_provider_add_item(d, "news", day, f) != 0)
                    return -1;
            }
        }

        /* Guidance: now and then, about the regime. */
        if (trading && uni(&g.gr) < 1.0 / 12) {
            int tone = g.regime == BULL ? 1 : g.regime == BEAR ? -1 : 0;
            struct json_object *f;
            if (uni(&g.gr) >= gagree)
                tone = tone == 0 ? (uni(&g.gr) < 0.5 ? 1 : -1) : -tone;
            if (day < keep_from) {
                skip(&g.gr, GUIDANCE_DRAWS);
                continue;
            }
            f = guidance_item(&g.gr, symbol, day, tone);
            if (fa_provider_add_item(d, "guidance", day, f) != 0)
                return -1;
        }
    }
    return fa_provider_sort(d, "synth");
}
