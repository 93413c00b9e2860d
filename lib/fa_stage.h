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
