/* fa_offline.c: the offline analyst: deterministic answers to the five
 * FinAgent calls, computed from the structured "data" each stage puts in
 * its template variables.
 *
 * What it computes:
 * - intel-latest: each news item's sentiment with fa_lexicon, its horizon
 *   from time words (earnings, this week: short; regulation, years: long;
 *   else medium), an overall sentiment, and keyword queries per horizon
 *   (the most frequent content words, never the ticker);
 * - intel-past: each retrieved item's sentiment and what the price did
 *   after it, and whether past news of today's tone was followed by rises;
 * - reflect-low: the 1, 7 and 14 day moves set against the news tone and
 *   the chart's bands;
 * - reflect-high: each past decision judged by the price move since;
 * - decide: a weighted score of news tone (0.7), the rule strategies'
 *   consensus (0.1), guidance (0.1) and the one-week trend (0.1), over
 *   the parts present (ablations drop theirs), against thresholds set by
 *   the trader preference; BUY needs cash, SELL a position.
 * Every text says it comes from the offline analyst. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_err.h"
#include "fa_lexicon.h"
#include "fa_offline.h"
#include "fa_record.h"
#include "fa_banned.h"

#define TAG "[offline analyst, rule-based, not a language model]"

/* ---- small helpers -------------------------------------------------- */

struct sb {
    char *s;
    size_t n;
    FILE *f;
};

static void sb_open(struct sb *b)
{
    b->s = NULL;
    b->n = 0;
    if (!(b->f = open_memstream(&b->s, &b->n)))
        fa_die(FA_EXIT_FAIL, "out of memory");
}

static char *sb_close(struct sb *b)
{
    if (fclose(b->f) != 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    while (b->n && (b->s[b->n - 1] == '\n' || b->s[b->n - 1] == ' '))
        b->s[--b->n] = 0;
    return b->s;
}

static struct json_object *get(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;

    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, k, &v))
        return NULL;
    return v;
}

static const char *gets_(struct json_object *o, const char *k, const char *def)
{
    struct json_object *v = get(o, k);

    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

static double getn(struct json_object *o, const char *k)
{
    struct json_object *v = get(o, k);

    if (!v || !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return NAN;
    return json_object_get_double(v);
}

static size_t alen(struct json_object *a)
{
    return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static const char *label_of(double s)
{
    return s >= 0.2 ? "positive" : s <= -0.2 ? "negative" : "neutral";
}

static void pct(char *buf, size_t cap, double m)
{
    if (isfinite(m))
        snprintf(buf, cap, "%+.2f%%", 100 * m);
    else
        snprintf(buf, cap, "unknown");
}

/* Sentiment of a text that may state "overall sentiment: X" (a summary
 * written by any model), else the lexicon's score. */
static double text_sentiment(const char *t)
{
    static const char *const key = "overall sentiment";
    const char *p;
    struct fa_lexicon_score sc;

    if (!t || !*t)
        return 0;
    for (p = t; *p; p++) {
        if (strncasecmp(p, key, strlen(key)) == 0) {
            const char *q = p + strlen(key);
            while (*q == ':' || *q == ' ' || *q == '*' || *q == '"')
                q++;
            if (strncasecmp(q, "positive", 8) == 0 || strncasecmp(q, "bullish", 7) == 0)
                return 0.5;
            if (strncasecmp(q, "negative", 8) == 0 || strncasecmp(q, "bearish", 7) == 0)
                return -0.5;
            if (strncasecmp(q, "neutral", 7) == 0 || strncasecmp(q, "mixed", 5) == 0)
                return 0;
        }
    }
    fa_lexicon_score(t, &sc);
    return sc.score;
}

static double item_score(struct json_object *item, struct fa_lexicon_score *out)
{
    const char *title = gets_(item, "title", ""), *text = gets_(item, "text", "");
    char *both = NULL;
    struct fa_lexicon_score sc;

    if (asprintf(&both, "%s. %s", title, text) < 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    fa_lexicon_score(both, &sc);
    free(both);
    if (out)
        *out = sc;
    return sc.score;
}

/* ---- horizons and keywords ------------------------------------------ */

static const char *const short_words[] = {
    "today",     "tomorrow", "week",     "weekly", "daily",  "session",   "earnings", "quarter",
    "quarterly", "intraday", "shares",   "opened", "closed", "jumped",    "slid",     "rallied",
    "tumbled",   "dividend", "guidance", "beat",   "missed", "premarket", NULL};
static const char *const long_words[] = {
    "years",      "decade",    "long-term",   "strategy",   "strategic",  "regulation",
    "regulatory", "antitrust", "lawsuit",     "patent",     "research",   "infrastructure",
    "climate",    "expansion", "acquisition", "merger",     "generation", "roadmap",
    "2030",       "future",    "transition",  "investment", NULL};

static bool in_list(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return true;
    return false;
}

static const char *const stopwords[] = {
    "about",    "above",       "after",  "again", "against",  "also",    "amid",    "analyst",
    "analysts", "been",        "before", "being", "between",  "both",    "company", "could",
    "does",     "down",        "during", "each",  "from",     "further", "have",    "having",
    "here",     "into",        "its",    "just",  "last",     "more",    "most",    "much",
    "next",     "only",        "other",  "over",  "said",     "same",    "says",    "shares",
    "should",   "since",       "some",   "stock", "stocks",   "such",    "than",    "that",
    "their",    "them",        "then",   "there", "these",    "they",    "this",    "those",
    "through",  "under",       "until",  "very",  "were",     "what",    "when",    "where",
    "which",    "while",       "will",   "with",  "would",    "year",    "your",    "inc",
    "corp",     "corporation", "ltd",    "news",  "reported", "report",  "reports", "according",
    "today",    NULL};

struct kw {
    char w[32];
    int count, first;
};

static void lower_word(const char *s, size_t n, char *out, size_t cap)
{
    size_t j = 0;

    for (size_t i = 0; i < n && j + 1 < cap; i++)
        out[j++] = (char)tolower((unsigned char)s[i]);
    out[j] = 0;
}

/* Counts the content words of text into kws (at most cap entries). */
static void count_words(const char *text, const char *ticker, struct kw *kws, size_t *nk,
                        size_t cap, int *pos)
{
    const char *p = text;
    char w[32], tick[32];

    lower_word(ticker ? ticker : "", ticker ? strlen(ticker) : 0, tick, sizeof tick);
    while (p && *p) {
        size_t n = 0;
        while (*p && !isalpha((unsigned char)*p))
            p++;
        while (isalnum((unsigned char)p[n]) || p[n] == '-')
            n++;
        if (n == 0)
            break;
        if (n >= 4 && n < sizeof w) {
            lower_word(p, n, w, sizeof w);
            if (!in_list(w, stopwords) && strcmp(w, tick) != 0 &&
                fa_lexicon_word(w) != FA_LEXICON_UNCERTAIN) {
                size_t k;
                for (k = 0; k < *nk; k++)
                    if (strcmp(kws[k].w, w) == 0)
                        break;
                if (k < *nk) {
                    kws[k].count++;
                } else if (*nk < cap) {
                    snprintf(kws[*nk].w, sizeof kws[*nk].w, "%s", w);
                    kws[*nk].count = 1;
                    kws[*nk].first = (*pos)++;
                    (*nk)++;
                }
            }
        }
        p += n;
    }
}

static int kw_cmp(const void *a, const void *b)
{
    const struct kw *x = a, *y = b;

    if (x->count != y->count)
        return y->count - x->count;
    return x->first - y->first;
}

static int horizon_of(struct json_object *item)
{
    const char *parts[2] = {gets_(item, "title", ""), gets_(item, "text", "")};
    int s = 0, l = 0;

    for (int q = 0; q < 2; q++) {
        const char *p = parts[q];
        char w[32];
        while (*p) {
            size_t n = 0;
            while (*p && !isalnum((unsigned char)*p))
                p++;
            while (isalnum((unsigned char)p[n]) || p[n] == '-')
                n++;
            if (n == 0)
                break;
            if (n < sizeof w) {
                lower_word(p, n, w, sizeof w);
                s += in_list(w, short_words);
                l += in_list(w, long_words);
            }
            p += n;
        }
    }
    return s > l ? 0 : l > s ? 2 : 1;
}

static const char *const horizon_names[] = {"short_term", "medium_term", "long_term"};

/* Keywords (6..10) of the items of horizon h (all items when none). */
static char *keywords(struct json_object *news, const int *hz, int h, const char *ticker)
{
    struct kw kws[256];
    size_t nk = 0, n = alen(news);
    int pos = 0, used = 0;
    struct sb b;
    static const char *const pad[] = {"market",   "outlook",   "price", "impact",
                                      "investor", "sentiment", NULL};

    for (int pass = 0; pass < 2 && nk < 6; pass++)
        for (size_t i = 0; i < n; i++) {
            struct json_object *it = json_object_array_get_idx(news, i);
            if (pass == 0 && hz[i] != h)
                continue;
            count_words(gets_(it, "title", ""), ticker, kws, &nk, 256, &pos);
            count_words(gets_(it, "text", ""), ticker, kws, &nk, 256, &pos);
        }
    qsort(kws, nk, sizeof *kws, kw_cmp);
    sb_open(&b);
    for (size_t i = 0; i < nk && used < 10; i++, used++)
        fprintf(b.f, "%s%s", used ? " " : "", kws[i].w);
    for (int i = 0; pad[i] && used < 6; i++, used++)
        fprintf(b.f, "%s%s", used ? " " : "", pad[i]);
    return sb_close(&b);
}

/* ---- the five answers ----------------------------------------------- */

static struct json_object *intel_latest(struct json_object *data)
{
    struct json_object *news = get(data, "news"), *out = json_object_new_object(), *q;
    const char *sym = gets_(data, "symbol", "");
    size_t n = alen(news);
    int *hz = calloc(n ? n : 1, sizeof *hz), np = 0, nn = 0, nu = 0;
    double sum = 0;
    struct sb a, s;

    if (!hz)
        fa_die(FA_EXIT_FAIL, "out of memory");
    sb_open(&a);
    for (size_t i = 0; i < n; i++) {
        struct json_object *it = json_object_array_get_idx(news, i);
        struct fa_lexicon_score sc;
        double v = item_score(it, &sc);
        hz[i] = horizon_of(it);
        sum += v;
        np += v >= 0.2;
        nn += v <= -0.2;
        nu += v > -0.2 && v < 0.2;
        fprintf(a.f,
                "[%zu] %s %s: lexicon score %+.2f (%.1f positive, %.1f negative, %d uncertain "
                "words) for \"%s\"\n",
                i + 1, horizon_names[hz[i]], label_of(v), v, sc.positive, sc.negative, sc.uncertain,
                gets_(it, "title", "(untitled)"));
    }
    json_object_object_add(out, "analysis", json_object_new_string(sb_close(&a)));
    free(a.s);
    sb_open(&s);
    {
        double mean = n ? sum / (double)n : 0;
        fprintf(s.f,
                "%s %zu news item%s scored with a finance word list: %d positive, %d negative, "
                "%d neutral; mean score %+.2f. ",
                TAG, n, n == 1 ? "" : "s", np, nn, nu, mean);
        fprintf(s.f, "Overall sentiment: %s", label_of(mean * 1.5));
    }
    json_object_object_add(out, "summary", json_object_new_string(sb_close(&s)));
    free(s.s);
    q = json_object_new_object();
    for (int h = 0; h < 3; h++) {
        char *k = keywords(news, hz, h, sym);
        json_object_object_add(q, horizon_names[h], json_object_new_string(k));
        free(k);
    }
    json_object_object_add(out, "queries", q);
    free(hz);
    return out;
}

static struct json_object *intel_past(struct json_object *data)
{
    struct json_object *hits = get(data, "hits"), *out = json_object_new_object();
    size_t n = alen(hits);
    double today = text_sentiment(gets_(data, "latest_summary", ""));
    double same_sum = 0;
    int same_n = 0, up = 0;
    struct sb a, s;
    char m7[32];

    sb_open(&a);
    for (size_t i = 0; i < n; i++) {
        struct json_object *h = json_object_array_get_idx(hits, i);
        double v = item_score(h, NULL), after = getn(h, "after7");
        pct(m7, sizeof m7, after);
        fprintf(a.f,
                "[%zu] %s (%s): %s news (score %+.2f), \"%s\"; price over the next 7 trading "
                "days: %s\n",
                i + 1, gets_(h, "date", "?"), gets_(h, "type", "?"), label_of(v), v,
                gets_(h, "title", "(untitled)"), m7);
        if (isfinite(after) && ((v >= 0.2) == (today >= 0.2)) && ((v <= -0.2) == (today <= -0.2))) {
            same_sum += after;
            same_n++;
            up += after > 0;
        }
    }
    json_object_object_add(out, "analysis", json_object_new_string(sb_close(&a)));
    free(a.s);
    sb_open(&s);
    fprintf(s.f, "%s %zu similar past item%s. ", TAG, n, n == 1 ? "" : "s");
    if (same_n) {
        pct(m7, sizeof m7, same_sum / same_n);
        fprintf(s.f,
                "%d of them had today's tone (%s); the price rose within 7 trading days after "
                "%d of those, by %s on average, so the past %s today's news.",
                same_n, label_of(today), up, m7,
                up * 2 > same_n   ? "supports a rise after"
                : up * 2 < same_n ? "warns of a fall after"
                                  : "is split on");
    } else {
        fprintf(s.f,
                "None of them both shares today's tone (%s) and has a known price move "
                "after it, so the past says little about today.",
                label_of(today));
    }
    json_object_object_add(out, "summary", json_object_new_string(sb_close(&s)));
    free(s.s);
    return out;
}

static const char *trend_word(double m, double big)
{
    if (!isfinite(m))
        return "unknown";
    return m > big ? "rising" : m < -big ? "falling" : "flat";
}

static struct json_object *reflect_low(struct json_object *data)
{
    struct json_object *out = json_object_new_object(), *r = json_object_new_object();
    struct json_object *mv = get(data, "moves"), *fut = get(data, "future");
    double d1 = getn(mv, "d1"), d7 = getn(mv, "d7"), d14 = getn(mv, "d14");
    double news = text_sentiment(gets_(data, "latest_summary", ""));
    double past = text_sentiment(gets_(data, "past_summary", ""));
    const char *band = gets_(data, "band", "");
    char p1[32], p7[32], p14[32], *t;

    pct(p1, sizeof p1, d1);
    pct(p7, sizeof p7, d7);
    pct(p14, sizeof p14, d14);
    if (asprintf(&t,
                 "%s The price moved %s over the last trading day while today's news reads %s; "
                 "%s",
                 TAG, p1, label_of(news),
                 isfinite(d1) && ((d1 > 0 && news >= 0.2) || (d1 < 0 && news <= -0.2))
                     ? "the move agrees with the news."
                 : isfinite(d1) && fabs(news) >= 0.2 ? "the move goes against the news."
                                                     : "the news gives no clear direction.") < 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    json_object_object_add(r, "short_term", json_object_new_string(t));
    free(t);
    if (asprintf(&t, "%s Over 7 trading days the price is %s (%s); %s%s.", TAG,
                 trend_word(d7, 0.01), p7,
                 *gets_(data, "past_summary", "") ? "similar past news reads "
                                                  : "no similar past news was retrieved",
                 *gets_(data, "past_summary", "") ? label_of(past) : "") < 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    json_object_object_add(r, "medium_term", json_object_new_string(t));
    free(t);
    if (asprintf(&t, "%s Over 14 trading days the price is %s (%s)%s%s.", TAG,
                 trend_word(d14, 0.02), p14, *band ? "; on the chart today's close is " : "",
                 band) < 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    json_object_object_add(r, "long_term", json_object_new_string(t));
    free(t);
    if (fut) {
        char f1[32], f7[32], f14[32];
        pct(f1, sizeof f1, getn(fut, "d1"));
        pct(f7, sizeof f7, getn(fut, "d7"));
        pct(f14, sizeof f14, getn(fut, "d14"));
        if (asprintf(&t,
                     "%s In hindsight the price then moved %s, %s and %s over the next 1, 7 "
                     "and 14 trading days, so today's %s news %s.",
                     TAG, f1, f7, f14, label_of(news),
                     !isfinite(getn(fut, "d7")) ? "cannot be judged yet"
                     : (getn(fut, "d7") > 0) == (news > 0) && fabs(news) >= 0.2 ? "was a good guide"
                     : fabs(news) < 0.2 ? "gave no direction"
                                        : "was a poor guide") < 0)
            fa_die(FA_EXIT_FAIL, "out of memory");
        json_object_object_add(r, "hindsight", json_object_new_string(t));
        free(t);
    }
    json_object_object_add(out, "reasoning", r);
    if (asprintf(&t, "%s news with a %s one-week price trend and a %s two-week trend",
                 label_of(news), trend_word(d7, 0.01), trend_word(d14, 0.02)) < 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    t[0] = (char)toupper((unsigned char)t[0]);
    json_object_object_add(out, "query", json_object_new_string(t));
    free(t);
    return out;
}

static struct json_object *reflect_high(struct json_object *data)
{
    struct json_object *decs = get(data, "decisions"), *out = json_object_new_object();
    size_t n = alen(decs);
    int right = 0, wrong = 0, holds = 0;
    struct sb r, im, s;
    char m[32];
    char *t;

    sb_open(&r);
    sb_open(&im);
    fprintf(r.f, "%s\n", TAG);
    for (size_t i = 0; i < n; i++) {
        struct json_object *d = json_object_array_get_idx(decs, i);
        const char *act = gets_(d, "action", "NONE"), *date = gets_(d, "date", "?");
        double after = getn(d, "after");
        bool ok;
        pct(m, sizeof m, after);
        if (strcmp(act, "BUY") && strcmp(act, "SELL")) {
            holds++;
            fprintf(r.f, "- %s %s: price then moved %s.\n", date, act, m);
            continue;
        }
        if (!isfinite(after)) {
            fprintf(r.f, "- %s %s: no later price to judge it by.\n", date, act);
            continue;
        }
        ok = strcmp(act, "BUY") == 0 ? after > 0 : after < 0;
        right += ok;
        wrong += !ok;
        fprintf(r.f, "- %s %s: %s, the price moved %s since.\n", date, act, ok ? "right" : "wrong",
                m);
        if (!ok)
            fprintf(im.f, "On %s the %s was followed by a move of %s; %s. ", date, act, m,
                    strcmp(act, "BUY") == 0 ? "wait for news and trend to agree before buying"
                                            : "do not sell on one weak day when the trend holds");
    }
    if (!wrong)
        fprintf(im.f, "No directional decision went against the price; keep the current rule.");
    t = sb_close(&r);
    json_object_object_add(out, "reasoning", json_object_new_string(t));
    free(t);
    t = sb_close(&im);
    json_object_object_add(out, "improvement",
                           json_object_new_string(*t ? t : "Nothing to change."));
    free(t);
    sb_open(&s);
    fprintf(s.f, "%s Of %d directional decisions, %d were right and %d wrong; %d were holds. %s",
            TAG, right + wrong, right, wrong, holds,
            right >= wrong ? "The decision rule is working; keep following the news tone."
                           : "The decision rule is losing; demand stronger evidence.");
    t = sb_close(&s);
    json_object_object_add(out, "summary", json_object_new_string(t));
    free(t);
    if (asprintf(&t, "Review of recent trades with %d right and %d wrong directional decisions",
                 right, wrong) < 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    json_object_object_add(out, "query", json_object_new_string(t));
    free(t);
    return out;
}

static double sentiment_value(struct json_object *g)
{
    struct json_object *v = get(g, "sentiment");

    if (v && (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return json_object_get_double(v);
    if (v && json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        if (strncasecmp(s, "pos", 3) == 0 || strncasecmp(s, "bull", 4) == 0)
            return 0.5;
        if (strncasecmp(s, "neg", 3) == 0 || strncasecmp(s, "bear", 4) == 0)
            return -0.5;
        return 0;
    }
    return item_score(g, NULL);
}

static struct json_object *decide(struct json_object *data)
{
    struct json_object *out = json_object_new_object(), *a;
    struct json_object *news = get(data, "news"), *sig = get(data, "signals"),
                       *guid = get(data, "guidance"), *mv = get(data, "moves"),
                       *acct = get(data, "account");
    const char *pref = gets_(data, "preference", "aggressive");
    double parts[4] = {NAN, NAN, NAN, NAN}, w[4] = {0.7, 0.1, 0.1, 0.1}, score = 0, wsum = 0;
    double buy_thr = 0.04, sell_thr = -0.04;
    double cash = getn(acct, "cash"), pos = getn(acct, "position"), px = getn(acct, "price");
    const char *action;
    char why[256];
    struct sb an, re;

    if (strcmp(pref, "moderate") == 0) {
        buy_thr = 0.1;
        sell_thr = -0.1;
    } else if (strcmp(pref, "conservative") == 0) {
        buy_thr = 0.18;
        sell_thr = -0.06;
    }
    sb_open(&an);
    fprintf(an.f, "%s ", TAG);
    if (get(data, "intel")) {
        size_t n = alen(news);
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += item_score(json_object_array_get_idx(news, i), NULL);
        parts[0] = n ? s / (double)n : text_sentiment(gets_(data, "latest_summary", ""));
        parts[0] = fmax(-1, fmin(1, 1.5 * parts[0]));
        fprintf(an.f, "News tone %+.2f from %zu item%s. ", parts[0], n, n == 1 ? "" : "s");
    }
    if (alen(sig)) {
        int b = 0, sl = 0, k = 0;
        for (size_t i = 0; i < alen(sig); i++) {
            struct json_object *x = json_object_array_get_idx(sig, i);
            const char *act = gets_(x, "action", "HOLD");
            if (strcmp(gets_(x, "tool", ""), "buy_hold") == 0)
                continue;
            k++;
            b += strcmp(act, "BUY") == 0;
            sl += strcmp(act, "SELL") == 0;
        }
        if (k) {
            parts[1] = (double)(b - sl) / k;
            fprintf(an.f, "Rule strategies: %d BUY, %d SELL of %d (consensus %+.2f). ", b, sl, k,
                    parts[1]);
        }
    }
    if (alen(guid)) {
        double s = 0;
        for (size_t i = 0; i < alen(guid); i++)
            s += sentiment_value(json_object_array_get_idx(guid, i));
        parts[2] = fmax(-1, fmin(1, s / (double)alen(guid)));
        fprintf(an.f, "Expert guidance tone %+.2f. ", parts[2]);
    }
    if (mv && isfinite(getn(mv, "d7"))) {
        parts[3] = tanh(20 * getn(mv, "d7"));
        fprintf(an.f, "One-week trend %+.2f%% (score %+.2f). ", 100 * getn(mv, "d7"), parts[3]);
    }
    for (int i = 0; i < 4; i++)
        if (isfinite(parts[i])) {
            score += w[i] * parts[i];
            wsum += w[i];
        }
    if (wsum > 0)
        score /= wsum;
    fprintf(an.f, "Weighted score %+.3f; the %s trader buys above %+.2f and sells below %+.2f.",
            score, pref, buy_thr, sell_thr);
    if (wsum == 0) {
        action = "HOLD";
        snprintf(why, sizeof why, "there is no evidence at all today");
    } else if (score > buy_thr) {
        if (isfinite(cash) && isfinite(px) && px > 0 && cash < px) {
            action = "HOLD";
            snprintf(why, sizeof why, "the evidence is positive but the cash is already invested");
        } else {
            action = "BUY";
            snprintf(why, sizeof why, "the evidence is positive (score %+.3f)", score);
        }
    } else if (score < sell_thr) {
        if (isfinite(pos) && pos <= 0) {
            action = "HOLD";
            snprintf(why, sizeof why, "the evidence is negative but there is no position to sell");
        } else {
            action = "SELL";
            snprintf(why, sizeof why, "the evidence is negative (score %+.3f)", score);
        }
    } else {
        action = "HOLD";
        snprintf(why, sizeof why, "the evidence is too weak either way (score %+.3f)", score);
    }
    a = json_object_new_string(sb_close(&an));
    free(an.s);
    json_object_object_add(out, "analysis", a);
    sb_open(&re);
    fprintf(re.f, "%s %s because %s.", TAG, action, why);
    json_object_object_add(out, "reasoning", json_object_new_string(sb_close(&re)));
    free(re.s);
    json_object_object_add(out, "action", json_object_new_string(action));
    return out;
}

int fa_offline_answer(const char *stage, struct json_object *vars, char **text)
{
    struct json_object *data = get(vars, "data"), *out;

    *text = NULL;
    if (!stage || !data || !json_object_is_type(data, json_type_object)) {
        fa_err_set("offline analyst: stage '%s' gave no \"data\" object in its variables",
                   stage ? stage : "(none)");
        return -1;
    }
    if (strcmp(stage, FA_STAGE_INTEL_LATEST) == 0)
        out = intel_latest(data);
    else if (strcmp(stage, FA_STAGE_INTEL_PAST) == 0)
        out = intel_past(data);
    else if (strcmp(stage, FA_STAGE_REFLECT_LOW) == 0)
        out = reflect_low(data);
    else if (strcmp(stage, FA_STAGE_REFLECT_HIGH) == 0)
        out = reflect_high(data);
    else if (strcmp(stage, FA_STAGE_DECIDE) == 0)
        out = decide(data);
    else {
        fa_err_set("offline analyst: unknown stage '%s'", stage);
        return -1;
    }
    *text = strdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
    json_object_put(out);
    if (!*text) {
        fa_err_set("out of memory");
        return -1;
    }
    return 0;
}
