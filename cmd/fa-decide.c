/* fa-decide: FinAgent's trading decision as a stream filter.
 *
 * For each trading day (a group with a price record): the day's intel
 * (latest and past), low- and high-level reflections (latest and the
 * retrieved ones, from hit records), the rule strategies' signals and the
 * expert guidance, the trader preference and the account go to the
 * model, which writes analysis, reasoning and action (BUY, SELL or HOLD);
 * appends a `decision` record. A part whose records are absent, or left
 * out with --without, is dropped from the prompt (the ablations). An
 * action the account cannot do is recorded as asked ("action") and as
 * done ("done"); a model that gives no usable action yields action NONE
 * with the reason. Memory: one day plus the price history and the last
 * account of each symbol. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_cli.h"
#include "fa_date.h"
#include "fa_day.h"
#include "fa_err.h"
#include "fa_llm.h"
#include "fa_ndjson.h"
#include "fa_offline.h"
#include "fa_record.h"
#include "fa_stage.h"
#include "fa_banned.h"

enum { W_INTEL = 1, W_LOW = 2, W_HIGH = 4, W_TOOLS = 8 };

static struct fa_stage_opts so = FA_STAGE_OPTS_INIT;
static double opt_cash = 10000, opt_position = 0;
static unsigned opt_without;
static const char *opt_pref_name = "aggressive";
static char *pref_text;
static struct fa_llm *llm;
static struct fa_stage_hist *hist;

static const char *const actions[] = {"BUY", "SELL", "HOLD", NULL};
static const struct fa_output_field fields[] = {
    {"analysis", FA_OUTPUT_STRING, NULL, false},
    {"reasoning", FA_OUTPUT_STRING, NULL, false},
    {"action", FA_OUTPUT_STRING, actions, false},
};

static void usage(void)
{
    printf("Usage: %s [OPTION]... [FILE]...\n"
           "Append FinAgent's trading decision (decision) for each trading day.\n"
           "\n"
           "      --asset-type T        stock or crypto (default FA_ASSET_TYPE, else by the\n"
           "                            symbol: crypto when it ends in USD)\n"
           "      --cash X              starting cash when no account record is seen "
           "(default 10000)\n"
           "      --from DATE           act only on days from DATE (earlier days pass through)\n"
           "      --hindsight-end DATE  warm-up: accept inputs made with hindsight up to DATE\n"
           "      --history FILE        price records (for the one-week trend)\n"
           "      --journal FILE        earlier account records (the last one from before the "
           "day's decision is used)\n"
           "      --model NAME          chat model (default FA_MODEL)\n"
           "      --offline             use the offline analyst even with FA_LLM_URL set\n"
           "      --position N          starting position in shares (default 0)\n"
           "      --preference P        aggressive (default), moderate, conservative, or a file\n"
           "      --save-prompts DIR    write each rendered prompt to DIR\n"
           "      --seed N              model seed (default 42)\n"
           "      --temperature T       sampling temperature (default: the server's)\n"
           "      --without PART        leave out intel, low, high or tools (repeatable, or a "
           "comma list)\n"
           "      --strict              a bad or refused record is fatal (exit 1)\n"
           "  -q, --quiet               no warnings\n"
           "  -v, --verbose             more messages\n"
           "  -h, --help                this help\n"
           "  -V, --version             version\n"
           "\n"
           "Environment: FA_PREFERENCE (default --preference). See fa-decide(1).\n",
           fa_progname);
}

/* The account of each symbol before the next decision: set from the
 * latest account record seen (stream or journal), and otherwise carried
 * forward by fa-decide's own paper trading (all cash in on BUY, all out
 * on SELL, at the adjusted close, no fees) so a stream without account
 * records still knows its position.
 *
 * An account record of the decision day itself is the account at that
 * day's close before the day's decision when its asked action is absent
 * or NONE (fa-metrics' record of a day with a price and no decision yet:
 * under the realistic convention, yesterday's order filled at today's
 * open and marked at today's close). One that carries an action (BUY,
 * SELL, HOLD) already knows the day's decision: refused, as is anything
 * later. upto/decided say how far the held state reaches, to check that. */
struct paper {
    char symbol[64];
    double cash, pos;
    int day;       /* day of the account record it came from, or -1 */
    char date[11]; /* that record's date */
    int upto;      /* latest day the state holds information of, or -1 */
    bool decided;  /* the state includes the decision of day upto */
    char what[64]; /* what set upto, for the firewall's message */
    char upto_date[11];
};
static struct paper *papers;
static size_t npapers;

static struct paper *paper_get(const char *symbol)
{
    for (size_t i = 0; i < npapers; i++)
        if (strcmp(papers[i].symbol, symbol) == 0)
            return &papers[i];
    papers = realloc(papers, (npapers + 1) * sizeof *papers);
    if (!papers)
        fa_die(FA_EXIT_FAIL, "out of memory");
    memset(&papers[npapers], 0, sizeof *papers);
    snprintf(papers[npapers].symbol, sizeof papers[npapers].symbol, "%s", symbol);
    papers[npapers].cash = opt_cash;
    papers[npapers].pos = opt_position;
    papers[npapers].day = -1;
    papers[npapers].upto = -1;
    return &papers[npapers++];
}

/* Whether rec, an account record, carries the decision of its own day
 * (an asked action other than NONE). */
static bool account_decided(struct json_object *rec)
{
    const char *a = fa_record_str(rec, "action");

    return a && strcmp(a, "NONE") != 0;
}

/* Whether rec is an account record of day that holds nothing of that
 * day's decision (its asked action absent or NONE). */
static bool account_before_decision(struct json_object *rec, int day)
{
    const char *k = fa_record_kind(rec), *dt = fa_record_date(rec);
    int dd;

    return k && strcmp(k, "account") == 0 && dt && fa_date_parse(dt, &dd) == 0 && dd == day &&
           !account_decided(rec);
}

/* Takes an account record's cash and position (when it is not older
 * than what is held). */
static void account_keep(struct json_object *rec, const char *where)
{
    const char *s = fa_record_symbol(rec), *dt = fa_record_date(rec), *k = fa_record_kind(rec);
    struct paper *p;
    double cash, pos;
    int day;

    if (!k || strcmp(k, "account") || !s || !dt || fa_date_parse(dt, &day) < 0)
        return;
    if (fa_record_num(rec, "cash", &cash) < 0 || fa_record_num(rec, "position", &pos) < 0) {
        fa_warn("%s: account record without cash and position: ignored", where ? where : "?");
        return;
    }
    p = paper_get(s);
    if (day < p->day)
        return;
    p->cash = cash;
    p->pos = pos;
    p->day = day;
    snprintf(p->date, sizeof p->date, "%s", dt);
    p->upto = day;
    p->decided = account_decided(rec);
    memcpy(p->upto_date, p->date, sizeof p->upto_date);
    snprintf(p->what, sizeof p->what, "account record (action %s)",
             p->decided ? fa_record_str(rec, "action") : "NONE");
}

/* Replays a past decision on the paper account (at the price it was
 * made at), unless an account record of that day or later is held. */
static void decision_replay(struct json_object *rec)
{
    const char *s = fa_record_symbol(rec), *dt = fa_record_date(rec), *k = fa_record_kind(rec);
    const char *done = fa_record_str(rec, "done");
    struct paper *p;
    double px;
    int day;

    if (!k || strcmp(k, "decision") || !s || !dt || fa_date_parse(dt, &day) < 0 || !done ||
        fa_record_num(rec, "price", &px) < 0 || !(px > 0))
        return;
    p = paper_get(s);
    /* an account record of that day or later holds it already (one of
     * that day from before its decision does not) */
    if (day < p->day || (day == p->day && p->decided))
        return;
    if (day >= p->upto) {
        p->upto = day;
        p->decided = true;
        snprintf(p->upto_date, sizeof p->upto_date, "%s", dt);
        snprintf(p->what, sizeof p->what, "journal's decision record");
    }
    if (strcmp(done, "BUY") == 0) {
        double sh = floor(p->cash / px);
        p->cash -= sh * px;
        p->pos += sh;
    } else if (strcmp(done, "SELL") == 0 && p->pos > 0) {
        p->cash += p->pos * px;
        p->pos = 0;
    }
}

/* Takes an earlier account or decision record (fa_stage_hist_load_each). */
static void journal_keep(struct json_object *rec, const char *where, void *arg)
{
    (void)arg;
    account_keep(rec, where);
    decision_replay(rec);
}

/* Lines "- ..." of the chosen text field of each admitted hit of kind. */
static char *hits_text(const struct fa_day *d, const char *kind, const char *field, char asof[11])
{
    char *s = NULL;
    size_t sl = 0, i = 0;
    long k;
    FILE *f = open_memstream(&s, &sl);
    struct json_object *seen = json_object_new_object();

    if (!f)
        fa_die(FA_EXIT_FAIL, "out of memory");
    while ((k = fa_day_find(d, "hit", &i)) >= 0) {
        struct json_object *r = fa_stage_hit_record(d->recs[k]);
        char *t;
        if (strcmp(fa_stage_hit_kind(d->recs[k]), kind) ||
            !fa_stage_admit_at(d, (size_t)k, so.hindsight_end) ||
            !fa_stage_admit(d, r, d->where[k], so.hindsight_end) ||
            fa_stage_hit_seen(seen, d->recs[k]))
            continue;
        fa_stage_later(asof, d->recs[k]);
        t = fa_stage_fieldtext(r, field);
        fprintf(f, "- from %s: %s\n", fa_stage_str(r, "date", "?"), t);
        free(t);
    }
    json_object_put(seen);
    if (fclose(f) != 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    if (sl && s[sl - 1] == '\n')
        s[sl - 1] = 0;
    return s;
}

static void put_str(struct json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

/* Renders section part into vars[key] (empty when !on). */
static void section(struct json_object *vars, const char *key, const char *part, bool on)
{
    char *s = on ? fa_stage_render(part, vars) : strdup("");

    if (!s)
        fa_die(FA_EXIT_USAGE, "%s", fa_err_get());
    put_str(vars, key, s);
    free(s);
}

static void decide(struct fa_day *d, struct json_object *price)
{
    struct json_object *intel = NULL, *past = NULL, *low = NULL, *high = NULL;
    struct paper *acct;
    struct json_object *vars = json_object_new_object(), *data = json_object_new_object();
    struct json_object *jsig = json_object_new_array(), *jguid = json_object_new_array();
    struct json_object *jnews = json_object_new_array(), *sections = json_object_new_array();
    struct json_object *out, *jacct;
    const struct fa_chart_bar *bars;
    size_t nbars = fa_stage_hist_bars(hist, d->symbol, &bars), i;
    long ti = fa_stage_hist_at(bars, nbars, d->day), k;
    char asof[11], *lowpast = NULL, *highpast = NULL, *t;
    char *sig_s = NULL, *guid_s = NULL, *acct_s;
    size_t sig_l = 0, guid_l = 0;
    double cash = opt_cash, pos = opt_position, px = 0, init = opt_cash, value;
    bool on_intel, on_low, on_high, on_tools, hl_ran = false;
    size_t nsig = 0;
    FILE *fs, *fg;

    snprintf(asof, sizeof asof, "%s", d->date);
    if (fa_record_num(price, "adj_close", &px) < 0 && fa_record_num(price, "close", &px) < 0)
        px = 0;
    /* intel */
    if (!(opt_without & W_INTEL)) {
        intel = fa_stage_last_of(d, "intel", so.hindsight_end);
        past = fa_stage_last_of(d, "intel_past", so.hindsight_end);
        fa_stage_later(asof, intel);
        fa_stage_later(asof, past);
        i = 0;
        if (intel)
            while ((k = fa_day_find(d, "news", &i)) >= 0)
                if (fa_stage_admit_at(d, (size_t)k, so.hindsight_end)) {
                    struct json_object *o = json_object_new_object();
                    put_str(o, "title", fa_stage_str(d->recs[k], "title", ""));
                    put_str(o, "text", fa_stage_str(d->recs[k], "text", ""));
                    json_object_array_add(jnews, o);
                }
    }
    on_intel = intel || past;
    /* reflections */
    if (!(opt_without & W_LOW)) {
        low = fa_stage_last_of(d, "reflect_low", so.hindsight_end);
        fa_stage_later(asof, low);
        lowpast = hits_text(d, "reflect_low", "reasoning", asof);
    }
    on_low = low || (lowpast && *lowpast);
    if (!(opt_without & W_HIGH)) {
        high = fa_stage_last_of(d, "reflect_high", so.hindsight_end);
        fa_stage_later(asof, high);
        highpast = hits_text(d, "reflect_high", "summary", asof);
    }
    on_high = high || (highpast && *highpast);
    /* tools */
    if (!(fs = open_memstream(&sig_s, &sig_l)) || !(fg = open_memstream(&guid_s, &guid_l)))
        fa_die(FA_EXIT_FAIL, "out of memory");
    if (!(opt_without & W_TOOLS)) {
        i = 0;
        while ((k = fa_day_find(d, "signal", &i)) >= 0) {
            struct json_object *s = d->recs[k], *o;
            double pr;
            if (!fa_stage_admit_at(d, (size_t)k, so.hindsight_end))
                continue;
            fa_stage_later(asof, s);
            fprintf(fs, "- %s: %s. %s", fa_stage_str(s, "tool", "?"),
                    fa_stage_str(s, "action", "HOLD"), fa_stage_str(s, "explanation", ""));
            if (fa_record_num(s, "past_return", &pr) == 0)
                fprintf(fs, " Its return following its own signals so far: %+.2f%%.", 100 * pr);
            fputc('\n', fs);
            o = json_object_new_object();
            put_str(o, "tool", fa_stage_str(s, "tool", ""));
            put_str(o, "action", fa_stage_str(s, "action", "HOLD"));
            json_object_array_add(jsig, o);
            nsig++;
            hl_ran = hl_ran || strcmp(fa_stage_str(s, "tool", ""), "kdj_rsi") == 0 ||
                     strcmp(fa_stage_str(s, "tool", ""), "stoch_bb") == 0;
        }
        /* close-only bars: the strategies that read highs and lows gave
         * no signal (fa-tools); the model is told why they are missing */
        if (nsig > 0 && !hl_ran && price && !json_object_object_get_ex(price, "open", NULL))
            fputs("- kdj_rsi and stoch_bb: cannot run: they need high and low prices, and the "
                  "data has closing prices only.\n",
                  fs);
        i = 0;
        while ((k = fa_day_find(d, "guidance", &i)) >= 0) {
            struct json_object *g = d->recs[k], *o, *sv;
            if (!fa_stage_admit_at(d, (size_t)k, so.hindsight_end))
                continue;
            fa_stage_later(asof, g);
            fprintf(fg, "- %s: %s\n", fa_stage_str(g, "title", "(untitled)"),
                    fa_stage_str(g, "text", ""));
            o = json_object_new_object();
            put_str(o, "title", fa_stage_str(g, "title", ""));
            put_str(o, "text", fa_stage_str(g, "text", ""));
            if (json_object_object_get_ex(g, "sentiment", &sv))
                json_object_object_add(o, "sentiment", json_object_get(sv));
            json_object_array_add(jguid, o);
        }
    }
    if (fclose(fs) != 0 || fclose(fg) != 0)
        fa_die(FA_EXIT_FAIL, "out of memory");
    on_tools = sig_l > 0 || guid_l > 0;
    /* the account before today's trade */
    acct = paper_get(d->symbol);
    if (acct->upto > d->day || (acct->upto == d->day && acct->decided)) {
        /* an account from later, or one that knows today's decision,
         * cannot inform today's trade */
        if (acct->upto > d->day)
            fa_bad_record(d->symbol, d->date, NULL,
                          "firewall: %s of %s is after %s; using the starting account", acct->what,
                          acct->upto_date, d->date);
        else
            fa_bad_record(d->symbol, d->date, NULL,
                          "firewall: %s of %s already holds that day's decision; using the "
                          "starting account",
                          acct->what, acct->upto_date);
        acct->cash = opt_cash;
        acct->pos = opt_position;
        acct->day = -1;
        acct->upto = -1;
        acct->decided = false;
    }
    cash = acct->cash;
    pos = acct->pos;
    value = cash + pos * px;
    acct_s = fa_stage_printf("cash %.2f; position %.6g shares; price today %.2f; value %.2f; "
                             "return so far %+.2f%% (from %.2f)%s",
                             cash, pos, px, value, init > 0 ? 100 * (value / init - 1) : 0.0, init,
                             acct->day >= 0 ? "" : " (as traded by this agent so far)");

    put_str(vars, "symbol", d->symbol);
    put_str(vars, "date", d->date);
    put_str(vars, "asset_type", fa_asset_noun(fa_stage_asset(&so, d->symbol)));
    put_str(vars, "preference_text", pref_text);
    put_str(vars, "account_text", acct_s);
    put_str(vars, "latest_summary", fa_stage_str(intel, "summary", "(not available)"));
    put_str(vars, "past_summary", fa_stage_str(past, "summary", "(not available)"));
    t = fa_stage_fieldtext(low, "reasoning");
    put_str(vars, "low_text", *t ? t : "(not available)");
    free(t);
    put_str(vars, "low_past_text", lowpast && *lowpast ? lowpast : "(none retrieved)");
    if (high) {
        t = fa_stage_printf("%s\nImprovement: %s\nLessons: %s", fa_stage_str(high, "reasoning", ""),
                            fa_stage_str(high, "improvement", ""),
                            fa_stage_str(high, "summary", ""));
        put_str(vars, "high_text", t);
        free(t);
    } else {
        put_str(vars, "high_text", "(not available)");
    }
    put_str(vars, "high_past_text", highpast && *highpast ? highpast : "(none retrieved)");
    put_str(vars, "signals_text", sig_l ? sig_s : "(none)");
    put_str(vars, "guidance_text", guid_l ? guid_s : "(none)");
    section(vars, "section_intel", "decide-part-intel", on_intel);
    section(vars, "section_low", "decide-part-low", on_low);
    section(vars, "section_high", "decide-part-high", on_high);
    section(vars, "section_tools", "decide-part-tools", on_tools);
    if (on_intel)
        json_object_array_add(sections, json_object_new_string("intel"));
    if (on_low)
        json_object_array_add(sections, json_object_new_string("low"));
    if (on_high)
        json_object_array_add(sections, json_object_new_string("high"));
    if (on_tools)
        json_object_array_add(sections, json_object_new_string("tools"));

    /* the same facts for the offline analyst */
    put_str(data, "preference", strchr(opt_pref_name, '/') ? "custom" : opt_pref_name);
    if (on_intel) {
        json_object_object_add(data, "intel", json_object_new_boolean(1));
        json_object_object_add(data, "news", json_object_get(jnews));
        put_str(data, "latest_summary", fa_stage_str(intel, "summary", ""));
    }
    if (on_low && ti >= 0) {
        struct json_object *mv = json_object_new_object();
        t = fa_stage_moves_text(bars, (size_t)ti + 1, ti, false, mv);
        free(t);
        json_object_object_add(data, "moves", mv);
    }
    if (on_tools) {
        json_object_object_add(data, "signals", json_object_get(jsig));
        json_object_object_add(data, "guidance", json_object_get(jguid));
    }
    jacct = json_object_new_object();
    json_object_object_add(jacct, "cash", fa_json_num(cash));
    json_object_object_add(jacct, "position", fa_json_num(pos));
    json_object_object_add(jacct, "price", fa_json_num(px));
    json_object_object_add(data, "account", jacct);
    json_object_object_add(vars, "data", data);

    out = fa_stage_record("decision", d->symbol, d->date, asof);
    {
        struct fa_stage_call call = fa_stage_call_of(&so, d, FA_STAGE_DECIDE, asof);
        struct fa_llm_result res;
        int rc;
        call.fields = fields;
        call.nfields = 3;
        rc = fa_stage_chat(llm, &call, vars, &res);
        fa_stage_emit_llm(res.llm);
        if (rc == 0) {
            const char *a = fa_stage_str(res.fields, "action", "NONE"), *done = a;
            fa_stage_merge(out, res.fields);
            if (strcmp(a, "BUY") == 0 && !(px > 0 && cash >= px)) {
                done = "HOLD";
                fa_record_set_str(out, "note", "BUY is not possible: not enough cash for a share");
            } else if (strcmp(a, "SELL") == 0 && !(pos > 0)) {
                done = "HOLD";
                fa_record_set_str(out, "note", "SELL is not possible: no position to sell");
            }
            fa_record_set_str(out, "done", done);
            /* paper trading until the next account record says otherwise */
            if (strcmp(done, "BUY") == 0) {
                double sh = floor(cash / px);
                acct->cash = cash - sh * px;
                acct->pos = pos + sh;
            } else if (strcmp(done, "SELL") == 0) {
                acct->cash = cash + pos * px;
                acct->pos = 0;
            }
            fa_record_set_str(out, "source", fa_stage_source(llm));
        } else {
            if (fa_stage_fatal(res.error))
                fa_die(FA_EXIT_FAIL, "%s %s: model call failed (%s): %s", d->symbol, d->date,
                       fa_llm_strerror(res.error), res.reason ? res.reason : "unknown");
            fa_warn("%s %s: no usable decision (%s): %s", d->symbol, d->date,
                    fa_llm_strerror(res.error), res.reason ? res.reason : "unknown");
            fa_record_set_str(out, "analysis", "");
            fa_record_set_str(out, "reasoning", "");
            fa_record_set_str(out, "action", "NONE");
            fa_record_set_str(out, "done", "NONE");
            t = fa_stage_printf("%s: %s", fa_llm_strerror(res.error),
                                res.reason ? res.reason : "unknown");
            fa_record_set_str(out, "reason", t);
            free(t);
            fa_record_set_str(out, "source", fa_stage_source(llm));
        }
        fa_llm_result_free(&res);
    }
    fa_record_set_num(out, "price", px);
    {
        struct json_object *snap = json_object_new_object();
        json_object_object_add(snap, "cash", fa_json_num(cash));
        json_object_object_add(snap, "position", fa_json_num(pos));
        json_object_object_add(snap, "value", fa_json_num(value));
        json_object_object_add(snap, "from",
                               json_object_new_string(acct->day >= 0 ? acct->date : "paper"));
        json_object_object_add(out, "account", snap);
    }
    put_str(out, "preference", opt_pref_name);
    json_object_object_add(out, "sections", sections);
    sections = NULL;
    fa_record_set_id(out);
    fa_emit(out);
    json_object_put(sections);
    json_object_put(vars);
    json_object_put(jsig);
    json_object_put(jguid);
    json_object_put(jnews);
    free(lowpast);
    free(highpast);
    free(sig_s);
    free(guid_s);
    free(acct_s);
}

static void on_day(struct fa_day *d, struct json_object *price, bool act, void *arg)
{
    size_t i;

    (void)arg;
    if (act) {
        /* the day's own account from before its decision counts */
        for (i = 0; i < d->n; i++)
            if (account_before_decision(d->recs[i], d->day) &&
                fa_stage_admit_at(d, i, so.hindsight_end))
                account_keep(d->recs[i], d->where[i]);
        decide(d, price);
    }
    for (i = 0; i < d->n; i++)
        if (!(act && account_before_decision(d->recs[i], d->day)))
            account_keep(d->recs[i], d->where[i]);
}

static void parse_without(const char *s)
{
    char buf[256], *save = NULL, *tok;

    if (strlen(s) >= sizeof buf)
        fa_cli_usage_error("--without: list too long");
    memcpy(buf, s, strlen(s) + 1);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "intel") == 0)
            opt_without |= W_INTEL;
        else if (strcmp(tok, "low") == 0)
            opt_without |= W_LOW;
        else if (strcmp(tok, "high") == 0)
            opt_without |= W_HIGH;
        else if (strcmp(tok, "tools") == 0)
            opt_without |= W_TOOLS;
        else
            fa_cli_usage_error("--without: unknown part '%s' (want intel, low, high, tools)", tok);
    }
}

int main(int argc, char **argv)
{
    enum { O_CASH = 256, O_JOURNAL, O_POSITION, O_PREF, O_WITHOUT };
    static const struct option opts[] = {
        {"asset-type", required_argument, NULL, FA_STAGE_O_ASSET},
        {"cash", required_argument, NULL, O_CASH},
        {"from", required_argument, NULL, FA_STAGE_O_FROM},
        {"help", no_argument, NULL, 'h'},
        {"hindsight-end", required_argument, NULL, FA_STAGE_O_HEND},
        {"history", required_argument, NULL, FA_STAGE_O_HISTORY},
        {"journal", required_argument, NULL, O_JOURNAL},
        {"model", required_argument, NULL, FA_STAGE_O_MODEL},
        {"offline", no_argument, NULL, FA_STAGE_O_OFFLINE},
        {"position", required_argument, NULL, O_POSITION},
        {"preference", required_argument, NULL, O_PREF},
        {"quiet", no_argument, NULL, 'q'},
        {"save-prompts", required_argument, NULL, FA_STAGE_O_SAVE},
        {"seed", required_argument, NULL, FA_STAGE_O_SEED},
        {"strict", no_argument, NULL, FA_STAGE_O_STRICT},
        {"temperature", required_argument, NULL, FA_STAGE_O_TEMP},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {"without", required_argument, NULL, O_WITHOUT},
        {NULL, 0, NULL, 0},
    };
    const char *jpath = NULL, *pref = NULL;
    int c, st, rc = FA_EXIT_OK;

    fa_err_init(argv[0]);
    while ((c = getopt_long(argc, argv, "hqvV", opts, NULL)) != -1) {
        switch (c) {
        case O_CASH:
            if (fa_cli_double("--cash", optarg, 0, 1e15, &opt_cash) < 0)
                fa_cli_usage_error("%s", fa_err_get());
            break;
        case O_JOURNAL:
            jpath = optarg;
            break;
        case O_POSITION:
            if (fa_cli_double("--position", optarg, -1e15, 1e15, &opt_position) < 0)
                fa_cli_usage_error("%s", fa_err_get());
            break;
        case O_PREF:
            pref = optarg;
            break;
        case O_WITHOUT:
            parse_without(optarg);
            break;
        case 'h':
            usage();
            return FA_EXIT_OK;
        default:
            if ((st = fa_stage_option(&so, c, optarg)) < 0)
                fa_cli_usage_error("%s", fa_err_get());
            if (st == 0)
                fa_cli_try_help();
            if (st == 2)
                return FA_EXIT_OK;
        }
    }
    opt_pref_name = fa_cli_conf(pref, "FA_PREFERENCE", "aggressive");
    if (!(pref_text = fa_stage_preference(opt_pref_name)))
        fa_cli_usage_error("--preference: %s", fa_err_get());
    if (fa_stage_env(&so) < 0)
        fa_cli_usage_error("%s", fa_err_get());
    if (!(hist = fa_stage_hist_open(&so)))
        fa_die(FA_EXIT_FAIL, "%s", fa_err_get());
    if (jpath && fa_stage_hist_load_each(NULL, jpath, journal_keep, NULL) < 0)
        fa_die(FA_EXIT_FAIL, "journal '%s': %s", jpath, fa_err_get());
    if (!(llm = fa_llm_open(&so.llm)))
        fa_die(FA_EXIT_USAGE, "%s", fa_err_get());
    if (fa_stage_run(argv + optind, argc - optind, &so, hist, on_day, NULL) < 0) {
        fa_warn("%s", fa_err_get());
        rc = FA_EXIT_FAIL;
    }
    fa_llm_close(llm);
    fa_stage_hist_free(hist);
    free(papers);
    free(pref_text);
    if (fa_stdout_close() != 0)
        rc = FA_EXIT_FAIL;
    return rc;
}
