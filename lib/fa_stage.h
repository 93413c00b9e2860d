/* fa_stage.h: what the four FinAgent stage programs share: price history,
 * price-move text, prompt rendering, the model call and record helpers.
 *
 * A stage (fa-intel, fa-reflect-low, fa-reflect-high, fa-decide) reads
 * the stream a day at a time (fa_day.h), collects the records it uses
 * (each through the firewall), builds the template variables of its
 * prompt, calls the model through fa_llm (a real endpoint, the fake
 * server or the offline analyst: same code) and appends its record.
 *
 * Template variables (vars): the strings the prompt shows, plus "data",
 * the same facts in structured form for the offline analyst
 * (fa_offline.h). The strings are built here in C; the wording around
 * them lives in prompts/ (fa_prompt.h). */
#ifndef FA_STAGE_H
#define FA_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "fa_asset.h"
#include "fa_chart.h"
#include "fa_day.h"
#include "fa_llm.h"

/* ---- price history -------------------------------------------------- */

/* Bars per symbol, sorted by day; O(bars seen) memory (a few hundred per
 * symbol for a year). Filled from price records (the stream's, and a
 * --history file's). */
struct fa_stage_hist;

struct fa_stage_hist *fa_stage_hist_new(void);
void fa_stage_hist_free(struct fa_stage_hist *h);
/* Adds the bar of a price record (open/high/low/close required and > 0;
 * adj_close defaults to close). A bar for a day already held replaces it.
 * Returns 0, or -1 with fa_err set naming the bad field. */
int fa_stage_hist_add(struct fa_stage_hist *h, struct json_object *price)
    __attribute__((warn_unused_result));
/* Adds every price record of an NDJSON file (other kinds are skipped).
 * Returns the number of bars added, or -1 with fa_err set ("file:line:
 * ..."). */
long fa_stage_hist_load(struct fa_stage_hist *h, const char *path)
    __attribute__((warn_unused_result));
/* The same, handing every other record (not a price record) with its
 * "file:line" to other (when not NULL; it keeps a reference if it wants
 * the record). With h NULL, every record goes to other. A line that is
 * not a record is an error (-1), as is a read error. */
long fa_stage_hist_load_each(struct fa_stage_hist *h, const char *path,
                             void (*other)(struct json_object *rec, const char *where, void *arg),
                             void *arg) __attribute__((warn_unused_result));
/* The bars of symbol (oldest first) in *bars; returns their count (0 and
 * *bars NULL when none). Valid until the next add. */
size_t fa_stage_hist_bars(const struct fa_stage_hist *h, const char *symbol,
                          const struct fa_chart_bar **bars);
/* Index of the last bar with bar.day <= day, or -1. */
long fa_stage_hist_at(const struct fa_chart_bar *bars, size_t n, int day);

/* adj_close[i] / adj_close[i - k] - 1 over bars (k > 0 looks back, k < 0
 * looks forward), or NAN when out of range. */
double fa_stage_move(const struct fa_chart_bar *bars, size_t n, long i, long k);

/* Text of the moves over the last (ahead = false) or next (ahead = true)
 * 1, 7 and 14 trading days from bars[i], one line each, e.g. "- over the
 * last 7 trading days (since 2023-05-23): +2.31% (adjusted close 171.20 to
 * 175.16)"; a horizon without enough bars says so. Also stores the three
 * moves (fractions, JSON null when unknown) as "d1", "d7", "d14" in data
 * when data is not NULL. malloc'd. */
char *fa_stage_moves_text(const struct fa_chart_bar *bars, size_t n, long i, bool ahead,
                          struct json_object *data);

/* ---- the programs' common options ------------------------------------ */

/* getopt_long values of the options every stage program has (each
 * program lists them in its own sorted table, next to its own options,
 * which start at 256). */
enum {
    FA_STAGE_O_FROM = 0x1000, /* --from DATE */
    FA_STAGE_O_HEND,          /* --hindsight-end DATE */
    FA_STAGE_O_HISTORY,       /* --history FILE */
    FA_STAGE_O_MODEL,         /* --model NAME */
    FA_STAGE_O_OFFLINE,       /* --offline */
    FA_STAGE_O_SAVE,          /* --save-prompts DIR */
    FA_STAGE_O_SEED,          /* --seed N */
    FA_STAGE_O_STRICT,        /* --strict */
    FA_STAGE_O_TEMP,          /* --temperature T */
    FA_STAGE_O_ASSET,         /* --asset-type stock|crypto */
};

/* Their values. Start from FA_STAGE_OPTS_INIT; set vision when --model
 * names the vision model too (the charting stages). */
struct fa_stage_opts {
    int from, hindsight_end; /* day numbers, or -1 */
    long seed;               /* 0..2^31-1 [42; FA_SEED: see fa_stage_seed] */
    bool seed_set;           /* --seed was given */
    double temperature;      /* 0..2, or -1: the server's */
    const char *save_prompts, *history;
    bool vision;
    struct fa_llm_opts llm; /* model, mode ("offline") */
    enum fa_asset asset;    /* --asset-type, FA_ASSET_TYPE, or FA_ASSET_AUTO */
};
#define FA_STAGE_OPTS_INIT                                                                         \
    {                                                                                              \
        .from = -1, .hindsight_end = -1, .seed = 42, .temperature = -1, .asset = FA_ASSET_AUTO     \
    }

/* The seed a stage uses: --seed when given, else FA_SEED when set to a
 * number in 0..2^31-1 (fa-sweep's --seeds run a configuration under
 * several), else 42. */
long fa_stage_seed(const struct fa_stage_opts *o);

/* Handles opt (a getopt_long value) with its argument arg when it is one
 * of FA_STAGE_O_* or a core flag other than -h ('q', 'v', 'V'). Returns
 * 1 when taken (--strict sets fa_strict, -q/-v fa_verbosity); 2 for -V,
 * after printing the version (fa_cli_version): the caller exits 0; 0 when
 * opt is none of them (a bad flag: fa_cli_try_help); or -1 with fa_err
 * set to the usage message (e.g. "--from: ..."; the caller passes it to
 * fa_cli_usage_error). */
int fa_stage_option(struct fa_stage_opts *o, int opt, const char *arg)
    __attribute__((warn_unused_result));

/* After the options: takes FA_ASSET_TYPE when --asset-type was not given.
 * Returns 0, or -1 with fa_err set ("FA_ASSET_TYPE: ..."; a usage error). */
int fa_stage_env(struct fa_stage_opts *o) __attribute__((warn_unused_result));

/* The asset type of symbol under o (fa_asset_resolve). */
enum fa_asset fa_stage_asset(const struct fa_stage_opts *o, const char *symbol);

/* A new price history holding o->history's price records when set.
 * Returns NULL with fa_err set ("history 'FILE': ..."). */
struct fa_stage_hist *fa_stage_hist_open(const struct fa_stage_opts *o);

/* ---- the firewall on a day's records ---------------------------------- */

/* Whether a stage working on d may use rec (fa_day_admit with the
 * hindsight limit limit); a refused record is reported with fa_bad_record
 * (an error record in the stream, fatal under --strict). */
bool fa_stage_admit(const struct fa_day *d, struct json_object *rec, const char *where, int limit);
/* The same for d's record i. */
bool fa_stage_admit_at(const struct fa_day *d, size_t i, int limit);
/* The last admitted record of kind in d (fa_day_find), or NULL. */
struct json_object *fa_stage_last_of(const struct fa_day *d, const char *kind, int limit);

/* ---- the day loop ------------------------------------------------------ */

/* Reads paths[0..n) (n == 0: stdin) a day at a time (fa_day.h), each
 * file with its own reader, and hands each group of the stream to fn in
 * order (undated ones too: d->day < 0), after its records were emitted
 * unchanged and its admitted price records added to hist. price is the
 * last of those that was added (NULL: none, not a trading day); act is
 * true when price is set and the day is not before o->from. A day out of
 * order is reported with fa_bad_record and not handed over. Returns 0,
 * or -1 with fa_err set when a file cannot be opened or read (the files
 * after it are not read). */
int fa_stage_run(char *const *paths, int n, const struct fa_stage_opts *o,
                 struct fa_stage_hist *hist,
                 void (*fn)(struct fa_day *d, struct json_object *price, bool act, void *arg),
                 void *arg) __attribute__((warn_unused_result));

/* ---- prompts and calls --------------------------------------------- */

/* Renders template name with vars, tidied: leading and trailing blank
 * space removed, runs of blank lines (left by empty sections) cut to one.
 * Returns malloc'd text, or NULL with fa_err set. */
char *fa_stage_render(const char *name, struct json_object *vars);

/* What a stage's model call needs besides the variables. */
struct fa_stage_call {
    const char *stage; /* template and offline task name */
    const char *symbol, *date, *asof;
    const struct fa_output_field *fields;
    size_t nfields;
    const struct fa_llm_image *images; /* 0 or more charts */
    size_t nimages;
    double temperature;   /* < 0: server default */
    long seed;            /* < 0: none */
    const char *save_dir; /* when set: the rendered prompt is written to
                             DIR/SYMBOL-DATE-STAGE.txt (atomically) */
};

/* Sets vars' "answer_format" from the fields, renders "system" and the
 * stage template, and calls the model. Returns 0 with res->fields set, or
 * -1 with res->error/res->reason (the model layer's contract,
 * fa_llm.h); a prompt that cannot be rendered is -1 with res->error =
 * FA_LLM_ECONFIG. res->llm is always an array (possibly empty). */
int fa_stage_chat(struct fa_llm *llm, const struct fa_stage_call *call, struct json_object *vars,
                  struct fa_llm_result *res) __attribute__((warn_unused_result));

/* A call for day d of stage with o's temperature, seed and prompt
 * directory; the caller sets fields (and images). */
struct fa_stage_call fa_stage_call_of(const struct fa_stage_opts *o, const struct fa_day *d,
                                      const char *stage, const char *asof);

/* Writes the llm records of a call (res->llm) to stdout (fa_emit). */
void fa_stage_emit_llm(struct json_object *llm_records);

/* After fa_stage_chat (which returned rc): emits the call's llm records
 * and reports a failure. Returns 0 when the call succeeded, 1 when it
 * failed and was reported with fa_bad_record ("model call failed (WHAT):
 * WHY"). A failure that must stop the program (fa_stage_fatal) ends it
 * with fa_die (status 1, "SYMBOL DATE: model call failed (WHAT): WHY"). */
int fa_stage_answered(const struct fa_day *d, int rc, const struct fa_llm_result *res)
    __attribute__((warn_unused_result));

/* "offline" or "model": the source field of a record the client wrote. */
const char *fa_stage_source(const struct fa_llm *llm);
/* Sets rec's source, then its id (fa_record_set_id), and emits it. */
void fa_stage_emit(struct json_object *rec, const char *source);

/* Whether a failed call must stop the program (budget, auth, replay:
 * every later call would fail the same way). */
bool fa_stage_fatal(enum fa_llm_error e);

/* ---- records -------------------------------------------------------- */

/* A new stage record {kind, symbol, date, asof}; the caller adds fields,
 * then calls fa_record_set_id. */
struct json_object *fa_stage_record(const char *kind, const char *symbol, const char *date,
                                    const char *asof);
/* Copies every field of fields (an object) into rec. */
void fa_stage_merge(struct json_object *rec, struct json_object *fields);

/* Raises asof (a "YYYY-MM-DD" buffer) to rec's asof (else its date) when
 * that is later; rec may be NULL. */
void fa_stage_later(char asof[11], struct json_object *rec);
/* The same with a date string (NULL or invalid: no change). */
void fa_stage_later_date(char asof[11], const char *date);

/* A string field of rec, or def when absent or not a string. */
const char *fa_stage_str(struct json_object *rec, const char *key, const char *def);

/* The record a hit carries (its "memory" field, as fa-retrieve writes
 * it, else "record"), or NULL. */
struct json_object *fa_stage_hit_record(struct json_object *hit);
/* The kind of the record a hit carries ("" when unknown). */
const char *fa_stage_hit_kind(struct json_object *hit);

/* Whether the memory a hit carries was seen already (by its id, else its
 * canonical text), remembering it in set (a JSON object used as a set).
 * Several retrievals may return the same memory; stages show it once. */
bool fa_stage_hit_seen(struct json_object *set, struct json_object *hit);

/* A map field (object of strings) as lines "key: value", in the order
 * of keys (short_term, medium_term, long_term first, then the rest). For
 * a string field, the string. malloc'd; "" when absent. */
char *fa_stage_fieldtext(struct json_object *rec, const char *key);

/* A chart's outcome rc: returns when it was drawn (or queued); dies with
 * a clear message otherwise (exit 2 when gnuplot is missing). */
void fa_stage_chart_check(const struct fa_day *d, int rc);
/* Where the day's chart NAME goes in dir: DIR/SYMBOL-DATE-NAME.png
 * (malloc'd). */
char *fa_stage_chart_path(const struct fa_day *d, const char *dir, const char *name);
/* After a chart of day d was drawn (rc from fa_chart_kline or
 * fa_chart_trading): a failure ends the program (fa_die: status 2 with
 * "... (or use --no-charts)" when gnuplot is missing, else 1 with
 * "SYMBOL DATE: ..."). With dir set (--charts), saves the PNG as
 * DIR/SYMBOL-DATE-NAME.png and returns that path (malloc'd; a failed
 * save ends the program with status 1); NULL without dir. */
char *fa_stage_chart_drawn(const struct fa_day *d, int rc, const char *dir, const char *name,
                           const unsigned char *png, size_t len);

/* Writes text to path atomically. Returns 0 or -1 with fa_err set. */
int fa_stage_save_text(const char *path, const char *text) __attribute__((warn_unused_result));

/* Loads the trader preference: "aggressive", "moderate", "conservative"
 * (prompts/preference-NAME.txt) or a path to a text file. Returns
 * malloc'd text or NULL with fa_err set. */
char *fa_stage_preference(const char *name);

/* Deterministic choice of k of n items: fills idx[0..k) with the indices
 * whose keys (ids) hash lowest with seed, in increasing index order. */
void fa_stage_sample(const char *const *keys, size_t n, size_t k, long seed, size_t *idx);

/* A malloc'd printf. Aborts on OOM. */
char *fa_stage_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
