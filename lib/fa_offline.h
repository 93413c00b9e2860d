/* fa_offline.h: the offline analyst, fa's embedded stand-in for a language model.
 *
 * With no endpoint configured (FA_LLM_URL unset, or FA_LLM=offline) the
 * model layer (fa_llm) answers a stage's chat request by calling
 * fa_offline_answer with the request's stage name and its template
 * variables, then parses the text with the same structured-output parser
 * as a real model's answer. The analyst is deterministic (same vars, same
 * text) and computes its fields: lexicon sentiment of each news item,
 * price movements over 1, 7 and 14 days, the rule strategies' signals, and
 * a decision rule weighted by the trader preference. Its texts say that
 * they come from the offline analyst, not from a language model. */
#ifndef FA_OFFLINE_H
#define FA_OFFLINE_H

#include <json-c/json.h>

/* The stage names the analyst answers (also the prompt template names). */
#define FA_STAGE_INTEL_LATEST "intel-latest"
#define FA_STAGE_INTEL_PAST   "intel-past"
#define FA_STAGE_REFLECT_LOW  "reflect-low"
#define FA_STAGE_REFLECT_HIGH "reflect-high"
#define FA_STAGE_DECIDE       "decide"

/* Answers one chat request of stage (one of the names above) from vars,
 * the JSON object of the prompt's template variables (borrowed, not
 * modified). Besides the strings the template shows, vars carries a
 * "data" object with the same facts in structured form (news items,
 * price moves, signals, account, preference); see fa_stage.h. On success
 * stores a malloc'd JSON object text holding the stage's output fields
 * in *text (caller frees) and returns 0. Returns -1 with fa_err set for
 * an unknown stage or vars it cannot use (no *text then). */
int fa_offline_answer(const char *stage, struct json_object *vars, char **text)
    __attribute__((warn_unused_result));

#endif
