/* fa_stage.c: price history, move texts, prompt rendering and the model call
 * shared by the FinAgent stage programs. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fa_cli.h"
#include "fa_date.h"
#include "fa_err.h"
#include "fa_gnuplot.h"
#include "fa_ndjson.h"
#include "fa_output.h"
#include "fa_prompt.h"
#include "fa_record.h"
#include "fa_stage.h"
#include "fa_banned.h"

char *fa_stage_printf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    return s;
}

/* ---- price history -------------------------------------------------- */

struct hist_sym {
    char symbol[64];
    struct fa_chart_bar *bars;
    size_t n, cap;
};

struct fa_stage_hist {
    struct hist_sym *syms;
    size_t n;
};

struct fa_stage_hist *fa_stage_hist_new(void)
{
    struct fa_stage_hist *h = calloc(1, sizeof *h);

    if (!h)
        fa_die(FA_EXIT_FAIL, "out of memory");
    return h;
}

void fa_stage_hist_free(struct fa_stage_hist *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        free(h->syms[i].bars);
    free(h->syms);
    free(h);
}

static long hist_find(const struct fa_stage_hist *h, const char *symbol)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->syms[i].symbol, symbol) == 0)
            return (long)i;
    return -1;
}

static struct hist_sym *hist_sym(struct fa_stage_hist *h, const char *symbol)
{
    long i = hist_find(h, symbol);

    if (i >= 0)
        return &h->syms[i];
    h->syms = realloc(h->syms, (h->n + 1) * sizeof *h->syms);
    if (!h->syms)
        fa_die(FA_EXIT_FAIL, "out of memory");
    memset(&h->syms[h->n], 0, sizeof h->syms[h->n]);
    snprintf(h->syms[h->n].symbol, sizeof h->syms[h->n].symbol, "%s", symbol);
    return &h->syms[h->n++];
}

int fa_stage_hist_add(struct fa_stage_hist *h, struct json_object *price)
{
    const char *sym = fa_record_symbol(price), *date = fa_record_date(price);
    static const char *const need[] = {"open", "high", "low", "close"};
    double v[4], adj;
    struct fa_chart_bar b;
    struct hist_sym *s;
    size_t i;

    if (!sym || !date || fa_date_parse(date, &b.day) < 0) {
        fa_err_set("price record without a symbol or a valid date");
        return -1;
    }
    /* close-only bar (no open, high or low at all): the history keeps the
     * close in all four and marks the bar, so that the Kline chart draws
     * a line of closes, not made-up candles (fa_chart.h). */
    if (!json_object_object_get_ex(price, "open", NULL) &&
        !json_object_object_get_ex(price, "high", NULL) &&
        !json_object_object_get_ex(price, "low", NULL))
        i = 3;
    else
        i = 0;
    for (size_t first = i; i < 4; i++)
        if (fa_record_num(price, need[i], &v[i]) < 0 || !(v[i] > 0)) {
            /* (a record with no price at all is named for all four) */
            fa_err_set("price record %s %s: field '%s' missing or not a positive number%s", sym,
                       date, need[i], first == 3 ? " (and no open, high or low either)" : "");
            return -1;
        }
    if (fa_record_num(price, "adj_close", &adj) < 0 || !(adj > 0))
        adj = v[3];
    if (!json_object_object_get_ex(price, "open", NULL))
        v[0] = v[1] = v[2] = v[3];
    b.open = v[0];
    b.high = v[1];
    b.low = v[2];
    b.close = v[3];
    b.adj_close = adj;
    b.close_only = !json_object_object_get_ex(price, "open", NULL);
    s = hist_sym(h, sym);
    /* Usually an append; a day already held is replaced; an older day is
     * inserted in place. */
    for (i = s->n; i > 0 && s->bars[i - 1].day > b.day; i--)
        ;
    if (i > 0 && s->bars[i - 1].day == b.day) {
        s->bars[i - 1] = b;
        return 0;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->bars = realloc(s->bars, s->cap * sizeof *s->bars);
        if (!s->bars)
            fa_die(FA_EXIT_FAIL, "out of memory");
    }
    memmove(&s->bars[i + 1], &s->bars[i], (s->n - i) * sizeof *s->bars);
    s->bars[i] = b;
    s->n++;
    return 0;
}

long fa_stage_hist_load_each(struct fa_stage_hist *h, const char *path,
                             void (*other)(struct json_object *rec, const char *where, void *arg),
                             void *arg)
{
    struct fa_ndjson_reader *r = fa_ndjson_open(path, 0);
    struct json_object *rec;
    long added = 0;
    int st;

    if (!r)
        return -1;
    while ((st = fa_ndjson_next(r, &rec)) != FA_NDJSON_EOF) {
        const char *k;
        if (st == FA_NDJSON_IOERR || st == FA_NDJSON_BAD) {
            fa_ndjson_close(r);
            return -1;
        }
        k = fa_record_kind(rec);
        if (h && k && strcmp(k, "price") == 0) {
            if (fa_stage_hist_add(h, rec) < 0) {
                char msg[1024];
                snprintf(msg, sizeof msg, "%s: %s", fa_ndjson_where(r), fa_err_get());
                fa_err_set("%s", msg);
                json_object_put(rec);
                fa_ndjson_close(r);
                return -1;
            }
            added++;
        } else if (other) {
            other(rec, fa_ndjson_where(r), arg);
        }
        json_object_put(rec);
    }
    fa_ndjson_close(r);
    return added;
}

long fa_stage_hist_load(struct fa_stage_hist *h, const char *path)
{
    return fa_stage_hist_load_each(h, path, NULL, NULL);
}

size_t fa_stage_hist_bars(const struct fa_stage_hist *h, const char *symbol,
                          const struct fa_chart_bar **bars)
{
    long i = hist_find(h, symbol);

    *bars = i >= 0 ? h->syms[i].bars : NULL;
    return i >= 0 ? h->syms[i].n : 0;
}

long fa_stage_hist_at(const struct fa_chart_bar *bars, size_t n, int day)
{
    long lo = 0, hi = (long)n - 1, best = -1;

    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (bars[mid].day <= day) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return best;
}

double fa_stage_move(const struct fa_chart_bar *bars, size_t n, long i, long k)
{
    long j = i - k;

    if (i < 0 || j < 0 || (size_t)i >= n || (size_t)j >= n || k == 0)
        return NAN;
    if (k > 0)
        return bars[i].adj_close / bars[j].adj_close - 1;
    return bars[j].adj_close / bars[i].adj_close - 1;
}

char *fa_stage_moves_text(const struct fa_chart_bar *bars, size_t n, long i, bool ahead,
                          struct json_object *data)
{
    static const long ks[] = {1, 7, 14};
    static const char *const keys[] = {"d1", "d7", "d14"};
    char *s = NULL, date[11];
    size_t sl = 0;
    FILE *f = open_memstream(&s, &sl);

    if (!f)
        fa_die(FA_EXIT_FAIL, "out of memory");
    for (int q = 0; q < 3; q++) {
        long k = ahead ? -ks[q] : ks[q];
        double m = fa_stage_move(bars, n, i, k);
        long j = i - k;
        if (data)
            json_object_object_add(data, keys[q], isfinite(m) ? fa_json_num(m) : NULL);
        if (!isfinite(m)) {
            fprintf(f, "- %s %ld trading day%s: not enough price history\n",
                    ahead ? "over the next" : "over the last", ks[q], ks[q] > 1 ? "s" : "");
            continue;
        }
        fprintf(f, "- %s %ld trading day%s (%s %s): %+.2f%% (adjusted close %.2f to %.2f)\n",
                ahead ? "over the next" : "over the last", ks[q], ks[q] > 1 ? "s" : "",
                ahead ? "to" : "since", fa_date_format(bars[j].day, date), 100 * m,
                ahead ? bars[i].adj_close : bars[j].adj_close,
                ahead ? bars[j].adj_close : bars[i].adj_close);
    }
    if (fclose(f) != 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    if (sl && s[sl - 1] == '\n')
        s[sl - 1] = 0;
    return s;
}

/* ---- prompts and calls --------------------------------------------- */

static void tidy(char *s)
{
    char *r = s, *w = s;
    int nl = 0;

    while (*r == '\n' || *r == ' ' || *r == '\t' || *r == '\r')
        r++;
    for (; *r; r++) {
        if (*r == '\n') {
            /* drop trailing blanks of the line just written */
            while (w > s && (w[-1] == ' ' || w[-1] == '\t'))
                w--;
            if (++nl > 2)
                continue;
        } else if (*r != ' ' && *r != '\t') {
            nl = 0;
        } else if (nl > 0) {
            /* blanks at the start of a line: keep (indentation), but a
             * line of blanks only is dropped above */
        }
        *w++ = *r;
    }
    while (w > s && (w[-1] == '\n' || w[-1] == ' ' || w[-1] == '\t'))
        w--;
    *w = 0;
}

char *fa_stage_render(const char *name, struct json_object *vars)
{
    char *s = fa_prompt_render(name, vars);

    if (s)
        tidy(s);
    return s;
}

bool fa_stage_fatal(enum fa_llm_error e)
{
    return e == FA_LLM_EBUDGET || e == FA_LLM_EAUTH || e == FA_LLM_EREPLAY;
}

void fa_stage_chart_check(const struct fa_day *d, int rc)
{
    if (rc == FA_GNUPLOT_MISSING)
        fa_die(FA_EXIT_USAGE, "%s (or use --no-charts)", fa_err_get());
    if (rc < 0)
        fa_die(FA_EXIT_FAIL, "%s %s: %s", d->symbol, d->date, fa_err_get());
}

char *fa_stage_chart_path(const struct fa_day *d, const char *dir, const char *name)
{
    return fa_stage_printf("%s/%s-%s-%s.png", dir, d->symbol, d->date, name);
}

char *fa_stage_chart_drawn(const struct fa_day *d, int rc, const char *dir, const char *name,
                           const unsigned char *png, size_t len)
{
    char *path;

    fa_stage_chart_check(d, rc);
    if (!dir)
        return NULL;
    path = fa_stage_chart_path(d, dir, name);
    if (fa_gnuplot_save(path, png, len) < 0)
        fa_die(FA_EXIT_FAIL, "%s", fa_err_get());
    return path;
}

int fa_stage_save_text(const char *path, const char *text)
{
    return fa_gnuplot_save(path, text, strlen(text));
}

int fa_stage_chat(struct fa_llm *llm, const struct fa_stage_call *call, struct json_object *vars,
                  struct fa_llm_result *res)
{
    struct fa_llm_chat req;
    char *fmt = fa_output_describe(call->fields, call->nfields), *sys = NULL, *user = NULL;
    int rc = -1;

    memset(res, 0, sizeof *res);
    json_object_object_add(vars, "answer_format", json_object_new_string(fmt));
    free(fmt);
    sys = fa_stage_render("system", vars);
    user = sys ? fa_stage_render(call->stage, vars) : NULL;
    if (!sys || !user) {
        res->llm = json_object_new_array();
        res->error = FA_LLM_ECONFIG;
        res->reason = strdup(fa_err_get());
        goto out;
    }
    if (call->save_dir) {
        char *path = fa_stage_printf("%s/%s-%s-%s.txt", call->save_dir, call->symbol, call->date,
                                     call->stage);
        char *both = fa_stage_printf("%s\n\n----\n\n%s\n", sys, user);
        int st = fa_stage_save_text(path, both);
        free(path);
        free(both);
        if (st < 0) {
            res->llm = json_object_new_array();
            res->error = FA_LLM_ECONFIG;
            res->reason = strdup(fa_err_get());
            goto out;
        }
    }
    fa_llm_chat_init(&req);
    req.stage = call->stage;
    req.vars = vars;
    req.symbol = call->symbol;
    req.date = call->date;
    req.asof = call->asof;
    req.system = sys;
    req.user = user;
    req.images = call->images;
    req.nimages = call->nimages;
    req.temperature = call->temperature;
    req.seed = call->seed;
    req.fields = call->fields;
    req.nfields = call->nfields;
    rc = fa_llm_chat(llm, &req, res);
    if (!res->llm)
        res->llm = json_object_new_array();
out:
    free(sys);
    free(user);
    return rc;
}

/* ---- records -------------------------------------------------------- */

struct json_object *fa_stage_record(const char *kind, const char *symbol, const char *date,
                                    const char *asof)
{
    struct json_object *r = fa_record_new(kind, symbol, date);

    fa_record_set_str(r, "asof", asof ? asof : date);
    return r;
}

void fa_stage_merge(struct json_object *rec, struct json_object *fields)
{
    if (!fields || !json_object_is_type(fields, json_type_object))
        return;
    json_object_object_foreach(fields, k, v)
    {
        json_object_object_add(rec, k, json_object_get(v));
    }
}

void fa_stage_later_date(char asof[11], const char *a)
{
    if (a && strlen(a) == 10 && strcmp(a, asof) > 0)
        memcpy(asof, a, 11);
}

void fa_stage_later(char asof[11], struct json_object *rec)
{
    fa_stage_later_date(asof, rec ? fa_record_asof(rec) : NULL);
}

const char *fa_stage_str(struct json_object *rec, const char *key, const char *def)
{
    const char *s = rec ? fa_record_str(rec, key) : NULL;

    return s ? s : def;
}

struct json_object *fa_stage_hit_record(struct json_object *hit)
{
    struct json_object *r;

    /* fa-retrieve puts the stored record in "memory" */
    if (hit && json_object_object_get_ex(hit, "memory", &r) &&
        json_object_is_type(r, json_type_object))
        return r;
    if (hit && json_object_object_get_ex(hit, "record", &r) &&
        json_object_is_type(r, json_type_object))
        return r;
    return NULL;
}

const char *fa_stage_hit_kind(struct json_object *hit)
{
    struct json_object *r = fa_stage_hit_record(hit);
    const char *k = r ? fa_record_kind(r) : NULL;

    return k ? k : "";
}

bool fa_stage_hit_seen(struct json_object *set, struct json_object *hit)
{
    struct json_object *r = fa_stage_hit_record(hit);
    const char *id = r ? fa_record_str(r, "id") : NULL;
    char *canon = NULL;
    bool seen;

    if (!r)
        return false;
    if (!id)
        id = canon = fa_json_canonical(r, NULL);
    seen = json_object_object_get_ex(set, id, NULL);
    if (!seen)
        json_object_object_add(set, id, NULL);
    free(canon);
    return seen;
}

char *fa_stage_fieldtext(struct json_object *rec, const char *key)
{
    static const char *const first[] = {"short_term", "medium_term", "long_term"};
    struct json_object *v;
    char *s = NULL;
    size_t sl = 0;
    FILE *f;

    if (!rec || !json_object_object_get_ex(rec, key, &v) || !v)
        return strdup("");
    if (json_object_is_type(v, json_type_string))
        return strdup(json_object_get_string(v));
    if (!json_object_is_type(v, json_type_object))
        return strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    if (!(f = open_memstream(&s, &sl)))
        fa_die(FA_EXIT_FAIL, "out of memory");
    for (int i = 0; i < 3; i++) {
        struct json_object *x;
        if (json_object_object_get_ex(v, first[i], &x) && x)
            fprintf(f, "%s: %s\n", first[i], json_object_get_string(x));
    }
    json_object_object_foreach(v, k, x)
    {
        if (strcmp(k, first[0]) && strcmp(k, first[1]) && strcmp(k, first[2]) && x)
            fprintf(f, "%s: %s\n", k, json_object_get_string(x));
    }
    if (fclose(f) != 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    if (sl && s[sl - 1] == '\n')
        s[sl - 1] = 0;
    return s;
}

char *fa_stage_preference(const char *name)
{
    char *path, *text = NULL, *which;
    FILE *f;
    size_t cap = 0, n = 0;

    if (strchr(name, '/')) {
        path = strdup(name);
    } else {
        which = fa_stage_printf("preference-%s", name);
        path = fa_prompt_path(which);
        free(which);
        if (!path) {
            fa_err_set("unknown preference '%s' (want aggressive, moderate, conservative or "
                       "a file)",
                       name);
            return NULL;
        }
    }
    if (!(f = fopen(path, "r"))) {
        fa_err_sys("cannot open preference '%s'", path);
        free(path);
        return NULL;
    }
    n = getdelim(&text, &cap, 0, f);
    fclose(f);
    free(path);
    if ((ssize_t)n < 0) {
        free(text);
        return strdup("");
    }
    tidy(text);
    return text;
}

struct keyed {
    unsigned char h[16];
    size_t i;
};

static int keyed_cmp(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = memcmp(x->h, y->h, sizeof x->h);

    return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int idx_cmp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return (x > y) - (x < y);
}

void fa_stage_sample(const char *const *keys, size_t n, size_t k, long seed, size_t *idx)
{
    struct keyed *kk = calloc(n ? n : 1, sizeof *kk);
    char sb[32];

    if (!kk)
        fa_die(FA_EXIT_FAIL, "out of memory");
    snprintf(sb, sizeof sb, "%ld:", seed);
    for (size_t i = 0; i < n; i++) {
        crypto_generichash_state st;
        const char *key = keys[i] ? keys[i] : "";
        crypto_generichash_init(&st, NULL, 0, sizeof kk[i].h);
        crypto_generichash_update(&st, (const unsigned char *)sb, strlen(sb));
        crypto_generichash_update(&st, (const unsigned char *)key, strlen(key));
        crypto_generichash_final(&st, kk[i].h, sizeof kk[i].h);
        kk[i].i = i;
    }
    qsort(kk, n, sizeof *kk, keyed_cmp);
    if (k > n)
        k = n;
    for (size_t i = 0; i < k; i++)
        idx[i] = kk[i].i;
    qsort(idx, k, sizeof *idx, idx_cmp);
    free(kk);
}

/* ---- the programs' common options ---------------------------------- */

int fa_stage_option(struct fa_stage_opts *o, int opt, const char *arg)
{
    switch (opt) {
    case FA_STAGE_O_FROM:
    case FA_STAGE_O_HEND: {
        const char *flag = opt == FA_STAGE_O_FROM ? "--from" : "--hindsight-end";
        if (fa_date_parse(arg, opt == FA_STAGE_O_FROM ? &o->from : &o->hindsight_end) < 0) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s: %s", flag, fa_err_get());
            fa_err_set("%s", msg);
            return -1;
        }
        return 1;
    }
    case FA_STAGE_O_HISTORY:
        o->history = arg;
        return 1;
    case FA_STAGE_O_MODEL:
        o->llm.model = arg;
        if (o->vision)
            o->llm.vision_model = arg;
        return 1;
    case FA_STAGE_O_OFFLINE:
        o->llm.mode = "offline";
        return 1;
    case FA_STAGE_O_SAVE:
        o->save_prompts = arg;
        return 1;
    case FA_STAGE_O_SEED:
        o->seed_set = true;
        return fa_cli_long("--seed", arg, 0, 2147483647L, &o->seed) < 0 ? -1 : 1;
    case FA_STAGE_O_STRICT:
        fa_strict = true;
        return 1;
    case FA_STAGE_O_TEMP:
        return fa_cli_double("--temperature", arg, 0, 2, &o->temperature) < 0 ? -1 : 1;
    case FA_STAGE_O_ASSET:
        if (fa_asset_parse(arg, &o->asset) < 0) {
            char msg[1024];
            snprintf(msg, sizeof msg, "--asset-type: %s", fa_err_get());
            fa_err_set("%s", msg);
            return -1;
        }
        return 1;
    default:
        return fa_cli_core(opt);
    }
}

int fa_stage_env(struct fa_stage_opts *o)
{
    const char *e = getenv("FA_ASSET_TYPE");

    if (o->asset != FA_ASSET_AUTO || !e || !*e)
        return 0;
    if (fa_asset_parse(e, &o->asset) < 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "FA_ASSET_TYPE: %s", fa_err_get());
        fa_err_set("%s", msg);
        return -1;
    }
    return 0;
}

enum fa_asset fa_stage_asset(const struct fa_stage_opts *o, const char *symbol)
{
    return fa_asset_resolve(o->asset, symbol);
}

struct fa_stage_hist *fa_stage_hist_open(const struct fa_stage_opts *o)
{
    struct fa_stage_hist *h = fa_stage_hist_new();

    if (o->history && fa_stage_hist_load(h, o->history) < 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "history '%s': %s", o->history, fa_err_get());
        fa_err_set("%s", msg);
        fa_stage_hist_free(h);
        return NULL;
    }
    return h;
}

/* ---- the firewall on a day's records --------------------------------- */

bool fa_stage_admit(const struct fa_day *d, struct json_object *rec, const char *where, int limit)
{
    if (fa_day_admit(rec, d->day, limit, where))
        return true;
    fa_bad_record(d->symbol, d->date, where, "%s", fa_err_get());
    return false;
}

bool fa_stage_admit_at(const struct fa_day *d, size_t i, int limit)
{
    return fa_stage_admit(d, d->recs[i], d->where[i], limit);
}

struct json_object *fa_stage_last_of(const struct fa_day *d, const char *kind, int limit)
{
    struct json_object *r = NULL;
    size_t i = 0;
    long k;

    while ((k = fa_day_find(d, kind, &i)) >= 0)
        if (fa_stage_admit_at(d, (size_t)k, limit))
            r = d->recs[k];
    return r;
}

/* ---- the day loop ---------------------------------------------------- */

/* One file of fa_stage_run. */
static int run_file(const char *path, const struct fa_stage_opts *o, struct fa_stage_hist *hist,
                    void (*fn)(struct fa_day *d, struct json_object *price, bool act, void *arg),
                    void *arg)
{
    struct fa_day_reader *r = fa_day_open(path);
    struct fa_day d = {0};
    int st;

    if (!r)
        return -1;
    while ((st = fa_day_next(r, &d)) == 1) {
        struct json_object *price = NULL;
        size_t i;
        long k;
        for (i = 0; i < d.n; i++)
            fa_emit(json_object_get(d.recs[i]));
        if (d.day >= 0 && fa_day_reader_backwards(r)) {
            fa_bad_record(d.symbol, d.date, d.where[0], "day %s %s is out of order", d.symbol,
                          d.date);
            fa_day_clear(&d);
            continue;
        }
        i = 0;
        while (d.day >= 0 && (k = fa_day_find(&d, "price", &i)) >= 0)
            if (fa_stage_admit_at(&d, (size_t)k, o->hindsight_end)) {
                if (fa_stage_hist_add(hist, d.recs[k]) < 0)
                    fa_bad_record(d.symbol, d.date, d.where[k], "%s", fa_err_get());
                else
                    price = d.recs[k];
            }
        fn(&d, price, price && (o->from < 0 || d.day >= o->from), arg);
        fa_day_clear(&d);
    }
    fa_day_free(&d);
    fa_day_close(r);
    return st < 0 ? -1 : 0;
}

int fa_stage_run(char *const *paths, int n, const struct fa_stage_opts *o,
                 struct fa_stage_hist *hist,
                 void (*fn)(struct fa_day *d, struct json_object *price, bool act, void *arg),
                 void *arg)
{
    if (n == 0)
        return run_file(NULL, o, hist, fn, arg);
    for (int i = 0; i < n; i++)
        if (run_file(paths[i], o, hist, fn, arg) < 0)
            return -1;
    return 0;
}

/* ---- the call ------------------------------------------------------- */

long fa_stage_seed(const struct fa_stage_opts *o)
{
    const char *e = getenv("FA_SEED");
    long v;

    if (!o->seed_set && e && *e && fa_cli_long("FA_SEED", e, 0, 2147483647L, &v) == 0)
        return v;
    return o->seed;
}

struct fa_stage_call fa_stage_call_of(const struct fa_stage_opts *o, const struct fa_day *d,
                                      const char *stage, const char *asof)
{
    struct fa_stage_call c = {
        .stage = stage,
        .symbol = d->symbol,
        .date = d->date,
        .asof = asof,
        .temperature = o->temperature,
        .seed = fa_stage_seed(o),
        .save_dir = o->save_prompts,
    };
    return c;
}

void fa_stage_emit_llm(struct json_object *arr)
{
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
        fa_emit(json_object_get(json_object_array_get_idx(arr, i)));
}

int fa_stage_answered(const struct fa_day *d, int rc, const struct fa_llm_result *res)
{
    const char *why = res->reason ? res->reason : "unknown";

    fa_stage_emit_llm(res->llm);
    if (rc == 0)
        return 0;
    if (fa_stage_fatal(res->error))
        fa_die(FA_EXIT_FAIL, "%s %s: model call failed (%s): %s", d->symbol, d->date,
               fa_llm_strerror(res->error), why);
    fa_bad_record(d->symbol, d->date, NULL, "model call failed (%s): %s",
                  fa_llm_strerror(res->error), why);
    return 1;
}

const char *fa_stage_source(const struct fa_llm *llm)
{
    return fa_llm_offline(llm) ? "offline" : "model";
}

void fa_stage_emit(struct json_object *rec, const char *source)
{
    fa_record_set_str(rec, "source", source);
    fa_record_set_id(rec);
    fa_emit(rec);
}
