/* fa-report: one self-contained HTML page for a run, RUN/report/index.html:
 * the configuration, the metrics of the agent beside buy and hold and the
 * rule strategies (test and warm-up), the equity and drawdown chart
 * (inline SVG from gnuplot), the model-call ledger, the journal's state,
 * and a table of days whose rows open to the day's decision, reasoning,
 * intelligence, retrieved memories, reflections, rule signals, charts
 * (PNG data URIs) and any NONE reason or error. No script, no network.
 * Everything that came from a model or a data provider is escaped.
 * Memory: one day's records at a time; the page goes to its file as it is
 * built (the days' part through a temporary file of its own). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "fa_cli.h"
#include "fa_err.h"
#include "fa_file.h"
#include "fa_gnuplot.h"
#include "fa_html.h"
#include "fa_ndjson.h"
#include "fa_str.h"
#include "fa_banned.h"

#define MAX_IMAGE ((size_t)16 << 20)
#define MAX_TEXT  600 /* bytes of a memory shown in the memories table */

static void usage(void)
{
    printf("Usage: fa-report [options] RUN\n"
           "\n"
           "Writes RUN/report/index.html: one self-contained page of the run made by fa-run\n"
           "(configuration, metrics, equity and drawdown, model calls, and every day's\n"
           "decision with its evidence). fa-run calls it at its end.\n"
           "\n"
           "  -o, --output FILE  write the page to FILE instead\n"
           "      --no-images    leave the days' Kline and trading charts out (a smaller page)\n"
           "  -q, --quiet        no messages but errors\n"
           "  -v, --verbose      say where the page went\n"
           "  -h, --help         this help\n"
           "  -V, --version      version\n"
           "\n"
           "Exit status: 0 written, 1 a file could not be read or written, 2 usage (RUN is not\n"
           "a run directory).\n");
}

static const char *run;
static bool opt_images = true;
static FILE *pg; /* the page being built */
static char warm_to[11];

/* ---- small JSON helpers ---- */

static struct json_object *jget(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;

    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, k, &v))
        return NULL;
    return v;
}

static const char *jstr(struct json_object *o, const char *k)
{
    struct json_object *v = jget(o, k);

    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool jnum(struct json_object *o, const char *k, double *d)
{
    struct json_object *v = jget(o, k);

    if (!v || !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return false;
    *d = json_object_get_double(v);
    return isfinite(*d);
}

static const char *jtext(struct json_object *v)
{
    return json_object_to_json_string_ext(v,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Escaped text of s; "" for NULL. */
static void T(const char *s)
{
    fa_html_text(pg, s);
}

/* A value as text: a string as it is, an object as "key: value" lines,
 * anything else as compact JSON. */
static void put_value(struct json_object *v)
{
    if (!v)
        return;
    if (json_object_is_type(v, json_type_string)) {
        T(json_object_get_string(v));
    } else if (json_object_is_type(v, json_type_object)) {
        bool first = true;
        json_object_object_foreach(v, key, val)
        {
            if (!first)
                fputc('\n', pg);
            first = false;
            fputs("<b>", pg);
            T(key);
            fputs(":</b> ", pg);
            if (json_object_is_type(val, json_type_string))
                T(json_object_get_string(val));
            else
                T(jtext(val));
        }
    } else {
        T(jtext(v));
    }
}

/* <div class="txt"> with a label, when the member is there. */
static void put_field(struct json_object *o, const char *key, const char *label)
{
    struct json_object *v = jget(o, key);

    if (!v || json_object_is_type(v, json_type_null) ||
        (json_object_is_type(v, json_type_string) && !*json_object_get_string(v)))
        return;
    fprintf(pg, "<div class=\"f\"><span class=\"lab\">%s</span><div class=\"txt\">", label);
    put_value(v);
    fputs("</div></div>\n", pg);
}

/* A whitelisted action name (for a CSS class), else "X". */
static const char *action_class(const char *a)
{
    static const char *const ok[] = {"BUY", "SELL", "HOLD", "NONE"};

    for (size_t i = 0; a && i < 4; i++)
        if (strcmp(a, ok[i]) == 0)
            return ok[i];
    return "X";
}

static const char *follow_name(const char *f)
{
    static const char *const map[][2] = {
        {"decision", "FinAgent (the agent)"},
        {"buy_hold", "Buy and hold"},
        {"macd", "MACD"},
        {"kdj_rsi", "KDJ and RSI"},
        {"stoch_bb", "Stochastic and Bollinger"},
        {"zmr", "Z-score mean reversion"},
    };

    for (size_t i = 0; f && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(f, map[i][0]) == 0)
            return map[i][1];
    return f ? f : "?";
}

/* Reads every record of an NDJSON file (missing: none). Returns an array
 * (NULL-terminated) or NULL on error with fa_err set; *n the count. */
static struct json_object **read_all(const char *path, size_t *n, bool *missing)
{
    struct fa_ndjson_reader *r;
    struct json_object **v = NULL, *o;
    size_t nv = 0, cap = 0;
    int rc;

    *n = 0;
    *missing = false;
    r = fa_ndjson_open(path, 0);
    if (!r) {
        if (errno == ENOENT) {
            *missing = true;
            return fa_str_nn(calloc(1, sizeof *v));
        }
        return NULL;
    }
    while ((rc = fa_ndjson_next(r, &o)) != FA_NDJSON_EOF) {
        if (rc == FA_NDJSON_IOERR) {
            fa_ndjson_close(r);
            for (size_t i = 0; i < nv; i++)
                json_object_put(v[i]);
            free(v);
            return NULL;
        }
        if (rc == FA_NDJSON_BAD) {
            fa_warn("%s (skipped)", fa_err_get());
            continue;
        }
        if (nv + 1 >= cap) {
            cap = cap ? 2 * cap : 64;
            v = fa_str_nn(realloc(v, cap * sizeof *v));
        }
        v[nv++] = o;
    }
    fa_ndjson_close(r);
    if (!v)
        v = fa_str_nn(calloc(1, sizeof *v));
    v[nv] = NULL;
    *n = nv;
    return v;
}

static void free_all(struct json_object **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        json_object_put(v[i]);
    free(v);
}

/* ---- the page's parts ---- */

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'DejaVu Sans',sans-serif;color:#1d232b;"
    "max-width:1180px;margin:0 auto;padding:1em 1.5em;background:#fbfbfa}"
    "h1{font-size:1.6em;margin:.2em 0}h2{border-bottom:2px solid #d6dbe1;padding-bottom:.15em;"
    "margin-top:1.6em}h4{margin:.9em 0 .3em;color:#3b4b5e}"
    "nav a{margin-right:1em}a{color:#1f5fa8}"
    "table{border-collapse:collapse;margin:.4em 0}th,td{padding:3px 9px;"
    "border-bottom:1px solid #e2e5e9;vertical-align:top}th{text-align:left;background:#eef1f4}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "tr.agent td{font-weight:600;background:#f3f7ee}"
    ".kv td:first-child{color:#55606d;white-space:nowrap}"
    ".txt{white-space:pre-wrap;overflow-wrap:anywhere}"
    ".f{margin:.25em 0}.lab{font-size:.85em;color:#55606d;text-transform:uppercase;"
    "letter-spacing:.04em}"
    ".days .row,.days summary{display:grid;grid-template-columns:7.5em 5.5em 8em 6em 7.5em "
    "6.5em 4em 1fr;gap:0 .6em;padding:3px 6px;font-variant-numeric:tabular-nums}"
    ".days .row{font-weight:600;background:#eef1f4}"
    ".days summary{cursor:pointer;border-bottom:1px solid #e8eaed}"
    ".days summary:hover{background:#f0f4fa}.days details[open]>summary{background:#e4ecf7}"
    ".days summary span.n{text-align:right}"
    ".dbody{padding:.3em 1.2em 1em;border-left:3px solid #9bb6d8;margin:0 0 .6em .4em;"
    "background:#fff}"
    ".BUY{color:#16702f;font-weight:600}.SELL{color:#b3261e;font-weight:600}"
    ".NONE,.X,.bad{color:#b3261e;font-weight:700}.HOLD{color:#55606d}"
    ".note{color:#55606d;font-size:.9em}"
    "img{max-width:100%;height:auto;border:1px solid #e2e5e9;margin:.3em .6em .3em 0}"
    ".charts img{max-width:48%}svg{max-width:100%;height:auto}"
    ".hits td:nth-child(5){white-space:nowrap}code{font-size:.92em}";

static void section_config(struct json_object *cfg)
{
    fputs("<section id=\"config\"><h2>Configuration</h2>\n<table class=\"kv\">\n", pg);
    json_object_object_foreach(cfg, key, val)
    {
        fputs("<tr><td>", pg);
        T(key);
        fputs("</td><td class=\"txt\">", pg);
        if (json_object_is_type(val, json_type_string))
            T(json_object_get_string(val));
        else
            T(jtext(val));
        fputs("</td></tr>\n", pg);
    }
    fputs("</table></section>\n", pg);
}

enum colfmt { PCT, F3, INT, MONEY };
static const struct {
    const char *key, *label;
    enum colfmt fmt;
} cols[] = {
    {"total_return", "Total return", PCT},
    {"cagr", "Annual return", PCT},
    {"sharpe", "Sharpe", F3},
    {"sortino", "Sortino", F3},
    {"calmar", "Calmar", F3},
    {"mdd", "Max drawdown", PCT},
    {"annual_vol", "Volatility", PCT},
    {"trades", "Trades", INT},
    {"win_rate", "Win rate", PCT},
    {"end_value", "End value", MONEY},
};

static void metrics_table(const char *id, struct json_object **rows, size_t n)
{
    fprintf(pg, "<table class=\"metrics\" id=\"%s\">\n<tr><th>Strategy</th>", id);
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
        fprintf(pg, "<th class=\"n\">%s</th>", cols[c].label);
    fputs("</tr>\n", pg);
    for (size_t i = 0; i < n; i++) {
        const char *f = jstr(rows[i], "follow"), *sym = jstr(rows[i], "symbol");
        if (!jstr(rows[i], "kind") || strcmp(jstr(rows[i], "kind"), "metrics") != 0)
            continue;
        fprintf(pg, "<tr data-follow=\"");
        T(f);
        fprintf(pg, "\" data-symbol=\"");
        T(sym);
        fprintf(pg, "\"%s><td>", f && strcmp(f, "decision") == 0 ? " class=\"agent\"" : "");
        T(follow_name(f));
        fputs("</td>", pg);
        for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
            struct json_object *v = jget(rows[i], cols[c].key);
            double d;
            fprintf(pg, "<td class=\"n\" data-k=\"%s\" data-v=\"", cols[c].key);
            T(v ? jtext(v) : "null");
            fputs("\">", pg);
            if (!jnum(rows[i], cols[c].key, &d))
                fputs("&ndash;", pg);
            else if (cols[c].fmt == PCT)
                fprintf(pg, "%.2f%%", d * 100);
            else if (cols[c].fmt == F3)
                fprintf(pg, "%.3f", d);
            else if (cols[c].fmt == INT)
                fprintf(pg, "%.0f", d);
            else
                fprintf(pg, "%.2f", d);
            fputs("</td>", pg);
        }
        fputs("</tr>\n", pg);
    }
    fputs("</table>\n", pg);
}

static int section_metrics(struct json_object *cfg)
{
    char p[PATH_MAX];
    size_t n;
    bool missing;
    struct json_object **rows, *t = jget(cfg, "test"), *w = jget(cfg, "warmup");

    fputs("<section id=\"metrics\"><h2>Metrics</h2>\n", pg);
    fputs("<p class=\"note\">The agent beside buy and hold and the rule strategies, on the same "
          "days with the same account rules.</p>\n",
          pg);
    snprintf(p, sizeof p, "%s/metrics.ndjson", run);
    if (!(rows = read_all(p, &n, &missing)))
        return -1;
    fputs("<h3>Test ", pg);
    T(jstr(t, "from"));
    fputs(" to ", pg);
    T(jstr(t, "to") ? jstr(t, "to") : "today");
    fputs("</h3>\n", pg);
    if (n)
        metrics_table("metrics-test", rows, n);
    else
        fputs("<p>No test metrics yet (the run has not reached its end).</p>\n", pg);
    free_all(rows, n);
    if (w) {
        snprintf(p, sizeof p, "%s/report/warmup.metrics.ndjson", run);
        if (!(rows = read_all(p, &n, &missing)))
            return -1;
        fputs("<h3>Warm-up ", pg);
        T(jstr(w, "from"));
        fputs(" to ", pg);
        T(jstr(w, "to"));
        fputs(" (paper trading while the memories fill)</h3>\n", pg);
        if (n)
            metrics_table("metrics-warmup", rows, n);
        else
            fputs("<p>No warm-up metrics yet.</p>\n", pg);
        free_all(rows, n);
    }
    fputs("</section>\n", pg);
    return 0;
}

/* The equity and drawdown chart of the test period, from the account
 * records fa-run left in RUN/report/test.*.ndjson. */
static int section_equity(void)
{
    static const char *const names[] = {"agent", "buy_hold", "macd", "kdj_rsi", "stoch_bb", "zmr"};
    char p[PATH_MAX], *script = NULL;
    size_t slen = 0, ncurves = 0, maxdays = 0;
    FILE *s = open_memstream(&script, &slen);
    int rc = 0;

    if (!s)
        fa_die(FA_EXIT_FAIL, "out of memory");
    fputs("<section id=\"equity\"><h2>Equity and drawdown</h2>\n", pg);
    fputs("set xdata time\nset timefmt '%Y-%m-%d'\nset format x '%Y-%m-%d'\n"
          "set xtics rotate by -30\nset rmargin 8\nset grid\nset key below horizontal\n",
          s);
    char labels[6][64];
    for (size_t k = 0; k < 6; k++) {
        struct json_object **r;
        size_t n, m = 0;
        bool missing;
        double start = 0, peak = 0;
        snprintf(p, sizeof p, "%s/report/test.%s.ndjson", run, names[k]);
        if (!(r = read_all(p, &n, &missing)))
            return -1;
        for (size_t i = 0; i < n; i++) {
            const char *kind = jstr(r[i], "kind"), *d = jstr(r[i], "date");
            double v;
            if (!kind || strcmp(kind, "account") != 0 || !d || strlen(d) != 10 ||
                !jnum(r[i], "value", &v))
                continue;
            if (m == 0) {
                fprintf(s, "$d%zu << EOD\n", ncurves);
                start = v;
                const char *f = jstr(r[i], "follow");
                snprintf(labels[ncurves], sizeof labels[0], "%s", follow_name(f ? f : names[k]));
                for (char *c = labels[ncurves]; *c; c++)
                    if (*c == '"' || *c == '\\' || (unsigned char)*c < 32)
                        *c = '_';
            }
            if (v > peak)
                peak = v;
            fprintf(s, "%.10s %.10g %.10g\n", d, start > 0 ? v / start : 0,
                    peak > 0 ? (v / peak - 1) * 100 : 0);
            m++;
        }
        if (m) {
            if (m > maxdays)
                maxdays = m;
            fputs("EOD\n", s);
            ncurves++;
        }
        free_all(r, n);
    }
    if (maxdays > 0 && maxdays < 16) /* else half-day ticks repeat each date */
        fputs("set xtics 86400\n", s);
    fputs("set multiplot layout 2,1\nset title 'Equity (value / first value)'\nplot ", s);
    for (size_t i = 0; i < ncurves; i++)
        fprintf(s, "%s$d%zu using 1:2 with lines lw %d title \"%s\"", i ? ", " : "", i, i ? 1 : 3,
                labels[i]);
    fputs("\nset title 'Drawdown (%)'\nplot ", s);
    for (size_t i = 0; i < ncurves; i++)
        fprintf(s, "%s$d%zu using 1:3 with lines lw %d title \"%s\"", i ? ", " : "", i, i ? 1 : 3,
                labels[i]);
    fputs("\nunset multiplot\n", s);
    if (fclose(s) != 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    if (ncurves == 0) {
        fputs("<p>No test days with accounts yet.</p>\n", pg);
    } else {
        unsigned char *img = NULL;
        size_t len = 0, n = 0;
        rc = fa_gnuplot_render(script, FA_GNUPLOT_SVG, 1000, 720, &img, &len);
        const char *svg = rc == 0 ? fa_html_svg_inline((char *)img, len, &n) : NULL;
        if (svg) {
            fputs("<figure>", pg);
            fwrite(svg, 1, n, pg);
            fputs("</figure>\n", pg);
        } else {
            char *png = NULL;
            size_t plen = 0;
            snprintf(p, sizeof p, "%s/equity.png", run);
            fa_warn("no SVG chart (%s)", rc == 0 ? "gnuplot gave no SVG" : fa_err_get());
            if (fa_file_read(p, MAX_IMAGE, &png, &plen) == 0) {
                fputs("<figure><img alt=\"equity and drawdown\" src=\"", pg);
                fa_html_data_uri(pg, "image/png", png, plen);
                fputs("\"></figure>\n", pg);
                free(png);
            } else {
                fputs("<p>No chart: gnuplot is missing or failed.</p>\n", pg);
            }
        }
        free(img);
        rc = 0;
    }
    free(script);
    fputs("</section>\n", pg);
    return rc;
}

/* ---- the ledger, gathered while the days are read ---- */

struct lrow {
    char pass[8];
    char *stage;
    long calls, pt, ct, hits, errors;
    double usd;
};
static struct lrow *ledger;
static size_t nledger;

static void ledger_add(const char *pass, struct json_object *r)
{
    const char *stage = jstr(r, "stage");
    struct json_object *ok = jget(r, "ok"), *hit = jget(r, "cache_hit");
    struct lrow *l = NULL;
    double d;

    if (!stage)
        stage = "?";
    for (size_t i = 0; i < nledger; i++)
        if (strcmp(ledger[i].pass, pass) == 0 && strcmp(ledger[i].stage, stage) == 0)
            l = &ledger[i];
    if (!l) {
        ledger = fa_str_nn(realloc(ledger, (nledger + 1) * sizeof *ledger));
        l = &ledger[nledger++];
        memset(l, 0, sizeof *l);
        snprintf(l->pass, sizeof l->pass, "%s", pass);
        l->stage = fa_str_nn(strdup(stage));
    }
    l->calls++;
    if (jnum(r, "prompt_tokens", &d))
        l->pt += (long)d;
    if (jnum(r, "completion_tokens", &d))
        l->ct += (long)d;
    if (jnum(r, "cost_usd", &d))
        l->usd += d;
    if (hit && json_object_get_boolean(hit))
        l->hits++;
    if (ok && !json_object_get_boolean(ok))
        l->errors++;
}

static int cmp_lrow(const void *a, const void *b)
{
    const struct lrow *x = a, *y = b;
    int c = strcmp(y->pass, x->pass); /* warmup before test */

    return c ? c : strcmp(x->stage, y->stage);
}

static void ledger_row(const char *label, const struct lrow *l, bool total)
{
    fprintf(pg, "<tr%s><td>", total ? " class=\"agent\"" : "");
    T(label);
    fprintf(pg,
            "</td><td class=\"n\">%ld</td><td class=\"n\">%ld</td><td class=\"n\">%ld</td>"
            "<td class=\"n\">%.4f</td><td class=\"n\">%ld</td><td class=\"n\">%ld</td></tr>\n",
            l->calls, l->pt, l->ct, l->usd, l->hits, l->errors);
}

static void section_ledger(void)
{
    struct lrow tot = {0};

    fputs("<section id=\"ledger\"><h2>Model calls</h2>\n", pg);
    if (nledger == 0) {
        fputs("<p>No model calls.</p></section>\n", pg);
        return;
    }
    qsort(ledger, nledger, sizeof *ledger, cmp_lrow);
    fputs("<table id=\"ledger-table\"><tr><th>Pass and stage</th><th class=\"n\">Calls</th>"
          "<th class=\"n\">Prompt tokens</th><th class=\"n\">Completion tokens</th>"
          "<th class=\"n\">USD</th><th class=\"n\">Cache hits</th><th class=\"n\">Errors</th>"
          "</tr>\n",
          pg);
    for (size_t i = 0; i < nledger; i++) {
        char label[256];
        snprintf(label, sizeof label, "%s %s", ledger[i].pass, ledger[i].stage);
        ledger_row(label, &ledger[i], false);
        tot.calls += ledger[i].calls;
        tot.pt += ledger[i].pt;
        tot.ct += ledger[i].ct;
        tot.usd += ledger[i].usd;
        tot.hits += ledger[i].hits;
        tot.errors += ledger[i].errors;
    }
    ledger_row("total", &tot, true);
    fputs("</table></section>\n", pg);
}

static void section_journal(void)
{
    char p[PATH_MAX], *buf = NULL, *pub = NULL;
    size_t len = 0, plen = 0, lines = 0;

    snprintf(p, sizeof p, "%s/journal.ndjson", run);
    if (fa_file_read(p, (size_t)1 << 30, &buf, &len) < 0)
        return;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    free(buf);
    snprintf(p, sizeof p, "%s/journal.pub", run);
    if (fa_file_read(p, 4096, &pub, &plen) == 0)
        while (plen > 0 && (pub[plen - 1] == '\n' || pub[plen - 1] == ' '))
            pub[--plen] = 0;
    fprintf(pg,
            "<section id=\"journal\"><h2>Journal</h2>\n<p>%zu signed entries in "
            "<code>journal.ndjson</code>, one per day as it completed, chained by hash; "
            "public key <code>",
            lines);
    T(pub ? pub : "(missing)");
    fputs("</code>. Check them with <code>fa-journal verify RUN</code>.</p></section>\n", pg);
    free(pub);
}

/* ---- days ---- */

static void put_image(const char *rel, const char *alt)
{
    char p[PATH_MAX], *png = NULL;
    size_t len = 0;

    /* only the run's own charts directory, never a path elsewhere */
    if (!rel || strncmp(rel, "charts/", 7) != 0 || strstr(rel, "..") || !opt_images)
        return;
    snprintf(p, sizeof p, "%s/%s", run, rel);
    if (fa_file_read(p, MAX_IMAGE, &png, &len) < 0) {
        fputs("<p class=\"note\">chart missing: ", pg);
        T(rel);
        fputs("</p>", pg);
        return;
    }
    fprintf(pg, "<img loading=\"lazy\" alt=\"%s\" src=\"", alt);
    fa_html_data_uri(pg, "image/png", png, len);
    fputs("\">", pg);
    free(png);
}

/* A UTF-8-safe prefix of at most max bytes. */
static void put_short(const char *s, size_t max)
{
    size_t n;

    if (!s)
        return;
    n = strlen(s);
    if (n <= max) {
        T(s);
        return;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    fa_html_textn(pg, s, max);
    fputs("&hellip;", pg);
}

static void put_memory(struct json_object *m)
{
    const char *k = jstr(m, "kind");
    const char *t = jstr(m, "title");

    if (t) {
        fputs("<b>", pg);
        T(t);
        fputs("</b> ", pg);
        put_short(jstr(m, "text"), MAX_TEXT);
        return;
    }
    if (jstr(m, "summary")) {
        put_short(jstr(m, "summary"), MAX_TEXT);
        return;
    }
    if (jstr(m, "query")) {
        put_short(jstr(m, "query"), MAX_TEXT);
        return;
    }
    put_short(jtext(m), MAX_TEXT);
    (void)k;
}

struct day {
    const char *date;
    struct json_object *decision, *account, *intel, *past, *low, *high;
    struct json_object **hits, **signals, **news, **errors;
    size_t nhits, nsignals, nnews, nerrors;
    long calls;
};

static void push(struct json_object ***v, size_t *n, struct json_object *o)
{
    *v = fa_str_nn(realloc(*v, (*n + 1) * sizeof **v));
    (*v)[(*n)++] = o;
}

static void day_body(struct day *d)
{
    struct json_object *dec = d->decision;
    const char *act = jstr(dec, "action");

    fputs("<div class=\"dbody\">\n<h4>Decision</h4>\n", pg);
    if (!dec) {
        fputs("<p class=\"bad\">No decision record.</p>\n", pg);
    } else {
        fprintf(pg, "<p><span class=\"%s\">", action_class(act));
        T(act ? act : "?");
        fputs("</span>", pg);
        if (jstr(dec, "done") && act && strcmp(jstr(dec, "done"), act) != 0) {
            fputs(" (done: ", pg);
            T(jstr(dec, "done"));
            fputs(")", pg);
        }
        fputs(" &middot; preference ", pg);
        T(jstr(dec, "preference"));
        fputs(" &middot; by ", pg);
        T(jstr(dec, "source"));
        fputs("</p>\n", pg);
        put_field(dec, "reason", "Why no decision");
        put_field(dec, "note", "Note");
        put_field(dec, "reasoning", "Reasoning");
        put_field(dec, "analysis", "Analysis");
        put_field(dec, "account", "Account it saw");
    }
    if (d->account) {
        fputs("<h4>Account after the day</h4><p class=\"txt\">", pg);
        double v;
        if (jnum(d->account, "cash", &v))
            fprintf(pg, "cash %.2f &middot; ", v);
        if (jnum(d->account, "position", &v))
            fprintf(pg, "position %.0f &middot; ", v);
        if (jnum(d->account, "value", &v))
            fprintf(pg, "value %.2f &middot; ", v);
        if (jnum(d->account, "cum_return", &v))
            fprintf(pg, "cumulative return %.2f%%", v * 100);
        fputs("</p>\n", pg);
    }
    if (d->intel || d->nnews) {
        fputs("<h4>Market intelligence</h4>\n", pg);
        put_field(d->intel, "summary", "Summary");
        put_field(d->intel, "analysis", "Analysis");
        if (d->nnews) {
            fprintf(pg, "<div class=\"f\"><span class=\"lab\">News (%zu)</span><ul>", d->nnews);
            for (size_t i = 0; i < d->nnews; i++) {
                fputs("<li>", pg);
                T(jstr(d->news[i], "title"));
                if (jstr(d->news[i], "source")) {
                    fputs(" <span class=\"note\">(", pg);
                    T(jstr(d->news[i], "source"));
                    fputs(")</span>", pg);
                }
                fputs("</li>", pg);
            }
            fputs("</ul></div>\n", pg);
        }
    }
    if (d->past) {
        fputs("<h4>Past intelligence</h4>\n", pg);
        put_field(d->past, "summary", "Summary");
        put_field(d->past, "analysis", "Analysis");
    }
    if (d->nhits) {
        fputs("<h4>Retrieved memories</h4>\n<table class=\"hits\"><tr><th>Store</th><th>Type</th>"
              "<th class=\"n\">Rank</th><th class=\"n\">Score</th><th>Of</th><th>Memory</th>"
              "</tr>\n",
              pg);
        for (size_t i = 0; i < d->nhits; i++) {
            struct json_object *h = d->hits[i];
            double v;
            fputs("<tr><td>", pg);
            T(jstr(h, "store"));
            fputs("</td><td>", pg);
            T(jstr(h, "type"));
            fputs("</td><td class=\"n\">", pg);
            if (jnum(h, "rank", &v))
                fprintf(pg, "%.0f", v);
            fputs("</td><td class=\"n\">", pg);
            if (jnum(h, "score", &v))
                fprintf(pg, "%.3f", v);
            fputs("</td><td>", pg);
            T(jstr(h, "asof"));
            fputs("</td><td class=\"txt\">", pg);
            put_memory(jget(h, "memory"));
            fputs("</td></tr>\n", pg);
        }
        fputs("</table>\n", pg);
    }
    if (d->low) {
        fputs("<h4>Low-level reflection</h4>\n", pg);
        put_field(d->low, "reasoning", "Reasoning");
        put_field(d->low, "query", "Query");
    }
    if (d->high) {
        fputs("<h4>High-level reflection</h4>\n", pg);
        put_field(d->high, "summary", "Summary");
        put_field(d->high, "reasoning", "Reasoning");
        put_field(d->high, "improvement", "Improvement");
    }
    if (d->nsignals) {
        fputs("<h4>Rule signals</h4>\n<table class=\"signals\"><tr><th>Strategy</th>"
              "<th>Signal</th><th>Why</th></tr>\n",
              pg);
        for (size_t i = 0; i < d->nsignals; i++) {
            const char *a = jstr(d->signals[i], "action");
            fputs("<tr><td>", pg);
            T(follow_name(jstr(d->signals[i], "tool")));
            fprintf(pg, "</td><td class=\"%s\">", action_class(a));
            T(a);
            fputs("</td><td>", pg);
            T(jstr(d->signals[i], "explanation"));
            fputs("</td></tr>\n", pg);
        }
        fputs("</table>\n", pg);
    }
    if (opt_images && (jstr(d->low, "chart") || jstr(d->high, "chart"))) {
        fputs("<h4>Charts</h4>\n<div class=\"charts\">", pg);
        put_image(jstr(d->low, "chart"), "Kline chart");
        put_image(jstr(d->high, "chart"), "trading chart");
        fputs("</div>\n", pg);
    }
    if (d->nerrors) {
        fputs("<h4 class=\"bad\">Errors</h4>\n<ul>", pg);
        for (size_t i = 0; i < d->nerrors; i++) {
            struct json_object *e = d->errors[i];
            fputs("<li class=\"txt\">", pg);
            T(jstr(e, "stage"));
            fputs(": ", pg);
            T(jstr(e, "message") ? jstr(e, "message") : jstr(e, "error"));
            fputs("</li>", pg);
        }
        fputs("</ul>\n", pg);
    }
    fputs("</div>\n", pg);
}

static int one_day(const char *date)
{
    char p[PATH_MAX];
    size_t n;
    bool missing;
    struct json_object **r;
    struct day d;
    const char *pass = warm_to[0] && strcmp(date, warm_to) <= 0 ? "warmup" : "test";
    double v;

    snprintf(p, sizeof p, "%s/days/%s.ndjson", run, date);
    if (!(r = read_all(p, &n, &missing)))
        return -1;
    memset(&d, 0, sizeof d);
    d.date = date;
    for (size_t i = 0; i < n; i++) {
        const char *k = jstr(r[i], "kind"), *rd = jstr(r[i], "date");
        if (!k)
            continue;
        if (strcmp(k, "llm") == 0) {
            /* every call the day made counts, own day or not */
            ledger_add(pass, r[i]);
            d.calls++;
            if (jget(r[i], "ok") && !json_object_get_boolean(jget(r[i], "ok")))
                push(&d.errors, &d.nerrors, r[i]);
            continue;
        }
        if (!rd || strcmp(rd, date) != 0)
            continue;
        if (strcmp(k, "decision") == 0)
            d.decision = r[i];
        else if (strcmp(k, "account") == 0)
            d.account = r[i];
        else if (strcmp(k, "intel") == 0)
            d.intel = r[i];
        else if (strcmp(k, "intel_past") == 0)
            d.past = r[i];
        else if (strcmp(k, "reflect_low") == 0)
            d.low = r[i];
        else if (strcmp(k, "reflect_high") == 0)
            d.high = r[i];
        else if (strcmp(k, "hit") == 0)
            push(&d.hits, &d.nhits, r[i]);
        else if (strcmp(k, "signal") == 0)
            push(&d.signals, &d.nsignals, r[i]);
        else if (strcmp(k, "news") == 0)
            push(&d.news, &d.nnews, r[i]);
        else if (strcmp(k, "error") == 0)
            push(&d.errors, &d.nerrors, r[i]);
    }
    const char *act = jstr(d.decision, "action"), *done = jstr(d.decision, "done");
    bool bad = !d.decision || (act && strcmp(act, "NONE") == 0) || d.nerrors;
    fprintf(pg, "<details id=\"d-%s\" data-date=\"%s\"%s><summary><span>%s</span><span>%s</span>",
            date, date, bad ? " class=\"flag\"" : "", date, pass);
    fprintf(pg, "<span class=\"%s\">", action_class(act));
    T(act ? act : "none");
    if (done && act && strcmp(done, act) != 0) {
        fputs("&rarr;", pg);
        T(done);
    }
    fputs("</span><span class=\"n\">", pg);
    if (jnum(d.decision, "price", &v))
        fprintf(pg, "%.2f", v);
    fputs("</span><span class=\"n\">", pg);
    if (jnum(d.account, "value", &v))
        fprintf(pg, "%.2f", v);
    fputs("</span><span class=\"n\">", pg);
    if (jnum(d.account, "cum_return", &v))
        fprintf(pg, "%+.2f%%", v * 100);
    fprintf(pg, "</span><span class=\"n\">%ld</span><span class=\"bad\">", d.calls);
    if (!d.decision)
        fputs("no decision", pg);
    else if (act && strcmp(act, "NONE") == 0)
        fputs("NONE", pg);
    if (d.nerrors)
        fprintf(pg, " %zu error%s", d.nerrors, d.nerrors == 1 ? "" : "s");
    fputs("</span></summary>\n", pg);
    day_body(&d);
    fputs("</details>\n", pg);
    free(d.hits);
    free(d.signals);
    free(d.news);
    free(d.errors);
    free_all(r, n);
    return 0;
}

static int section_days(char **days, size_t n)
{
    fprintf(pg,
            "<section id=\"days\"><h2>Days</h2>\n<p class=\"note\">%zu trading days; open a "
            "day for its decision and the evidence behind it.</p>\n<div class=\"days\">\n"
            "<div class=\"row\"><span>Date</span><span>Pass</span><span>Decision</span>"
            "<span>Close</span><span>Value</span><span>Return</span><span>Calls</span>"
            "<span>Problems</span></div>\n",
            n);
    for (size_t i = 0; i < n; i++)
        if (one_day(days[i]) < 0)
            return -1;
    fputs("</div></section>\n", pg);
    return 0;
}

static int build(struct json_object *cfg, char **days, size_t ndays)
{
    struct json_object *t = jget(cfg, "test"), *w = jget(cfg, "warmup");
    const char *sym = jstr(cfg, "symbol");

    if (jstr(w, "to"))
        snprintf(warm_to, sizeof warm_to, "%s", jstr(w, "to"));
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "img-src data:; style-src 'unsafe-inline'\">\n<title>fa run: ",
          pg);
    T(sym);
    fprintf(pg, "</title>\n<style>%s</style></head><body>\n<header><h1>FinAgent run: ", css);
    T(sym);
    fputs("</h1>\n<p>Test ", pg);
    T(jstr(t, "from"));
    fputs(" to ", pg);
    T(jstr(t, "to") ? jstr(t, "to") : "today");
    if (w) {
        fputs(", warm-up ", pg);
        T(jstr(w, "from"));
        fputs(" to ", pg);
        T(jstr(w, "to"));
    }
    fprintf(pg, "; %zu days done. Made by fa-report " FA_VERSION " from <code>", ndays);
    T(run);
    fputs("</code>.</p>\n<nav><a href=\"#config\">Configuration</a><a href=\"#metrics\">"
          "Metrics</a><a href=\"#equity\">Equity</a><a href=\"#ledger\">Model calls</a>"
          "<a href=\"#days\">Days</a></nav></header>\n",
          pg);
    section_config(cfg);
    if (section_metrics(cfg) < 0 || section_equity() < 0)
        return -1;
    /* the days first into a file of their own (megabytes of images): they
     * fill the ledger, which comes before them */
    FILE *main_pg = pg;
    if (!(pg = tmpfile())) {
        fa_err_sys("cannot make a temporary file");
        pg = main_pg;
        return -1;
    }
    int rc = section_days(days, ndays);
    FILE *dpg = pg;
    pg = main_pg;
    if (rc == 0 && (fflush(dpg) == EOF || ferror(dpg) || fseek(dpg, 0, SEEK_SET) < 0)) {
        fa_err_sys("cannot write a temporary file");
        rc = -1;
    }
    if (rc == 0) {
        char b[65536];
        size_t n;
        section_ledger();
        section_journal();
        while ((n = fread(b, 1, sizeof b, dpg)) > 0)
            fwrite(b, 1, n, pg);
        if (ferror(dpg)) {
            fa_err_sys("cannot read a temporary file");
            rc = -1;
        }
        fputs("</body></html>\n", pg);
    }
    fclose(dpg);
    return rc;
}

int main(int argc, char **argv)
{
    enum { OPT_NO_IMAGES = 256, OPT_STRICT };
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},          {"no-images", no_argument, NULL, OPT_NO_IMAGES},
        {"output", required_argument, NULL, 'o'},  {"quiet", no_argument, NULL, 'q'},
        {"strict", no_argument, NULL, OPT_STRICT}, {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
    };
    const char *o_out = NULL;
    char out[PATH_MAX], p[PATH_MAX], **days = NULL;
    size_t ndays = 0;
    struct json_object *cfg;
    int c, status = FA_EXIT_OK;

    fa_err_init(argv[0]);
    while ((c = getopt_long(argc, argv, "ho:qvV", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage();
            return FA_EXIT_OK;
        case OPT_NO_IMAGES:
            opt_images = false;
            break;
        case 'o':
            o_out = optarg;
            break;
        case OPT_STRICT:
            fa_strict = true;
            break;
        default:
            switch (fa_cli_core(c)) {
            case 1:
                break;
            case 2:
                return FA_EXIT_OK;
            default:
                fa_cli_try_help();
            }
        }
    }
    if (optind + 1 != argc)
        fa_cli_usage_error("want one RUN directory");
    run = argv[optind];
    snprintf(p, sizeof p, "%s/config.json", run);
    cfg = json_object_from_file(p);
    if (!cfg || !json_object_is_type(cfg, json_type_object))
        fa_die(FA_EXIT_USAGE, "'%s' is not a run directory (no readable config.json)", run);
    if (o_out) {
        snprintf(out, sizeof out, "%s", o_out);
    } else {
        snprintf(out, sizeof out, "%s/report", run);
        if (mkdir(out, 0755) < 0 && errno != EEXIST)
            fa_die(FA_EXIT_FAIL, "cannot create '%s': %s", out, strerror(errno));
        snprintf(out, sizeof out, "%s/report/index.html", run);
    }
    if (fa_file_days(run, &days, &ndays) < 0)
        fa_die_err(FA_EXIT_FAIL);
    /* the page goes straight to its temporary file, renamed when whole */
    struct fa_file_atomic af;
    if (fa_file_open_atomic(&af, out, 0644) < 0)
        fa_die(FA_EXIT_FAIL, "%s", fa_err_get());
    pg = af.f;
    int rc = build(cfg, days, ndays);
    long plen = rc < 0 ? -1 : ftell(pg);
    if (rc < 0) {
        fa_cli_error("%s", fa_err_get());
        fa_file_close_atomic(&af, false);
        status = FA_EXIT_FAIL;
    } else if (fa_file_close_atomic(&af, true) < 0) {
        fa_cli_error("%s", fa_err_get());
        status = FA_EXIT_FAIL;
    } else {
        fa_info("wrote %s (%ld bytes, %zu days)", out, plen, ndays);
    }
    pg = NULL;
    fa_file_free_list(days, ndays);
    for (size_t i = 0; i < nledger; i++)
        free(ledger[i].stage);
    free(ledger);
    json_object_put(cfg);
    if (fa_stdout_close() != 0)
        status = FA_EXIT_FAIL;
    return status;
}
