/* fa_ledger.h: the cost of model calls: an editable price table and a
 * run's ledger file that enforces FA_BUDGET_USD across processes.
 *
 * Price table (prompts/prices.tsv, or FA_PRICES): lines "model<TAB>USD per
 * million input tokens<TAB>USD per million output tokens"; '#' starts a
 * comment; a model ending in '*' matches any name with that prefix (the
 * longest match wins). A model not in the table (a local model) costs 0
 * and the llm record says "price": "unknown".
 *
 * Ledger file (FA_LEDGER, default FA_CACHE_DIR/ledger.tsv): appended under
 * an exclusive flock, one line per event, each written with one write(2):
 *   R<TAB>ticket<TAB>estimate_usd                    before a call
 *   C<TAB>ticket<TAB>cost_usd<TAB>stage<TAB>model<TAB>prompt_tokens<TAB>
 *     completion_tokens<TAB>request_hash             after it
 * The money spent is the sum of C costs plus the estimates of R tickets
 * never closed (a crashed call counts as spent). A torn last line (no
 * newline) is ignored and cut off. A pipeline sets FA_LEDGER per run so the
 * budget covers exactly that run. */
#ifndef FA_LEDGER_H
#define FA_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

struct fa_ledger;

/* Opens a ledger: prices from prices_path (NULL: none, everything costs
 * 0), the ledger file at path (NULL: no file, nothing recorded, no
 * budget), budget_usd < 0 for no limit. Returns NULL with fa_err set (bad
 * price table line "prices.tsv:3: ..."). */
struct fa_ledger *fa_ledger_open(const char *prices_path, const char *path, double budget_usd);
void fa_ledger_close(struct fa_ledger *l);

/* The cost of a call. Sets *known (may be NULL) to whether the model has
 * a price. */
double fa_ledger_cost(const struct fa_ledger *l, const char *model, long prompt_tokens,
                      long completion_tokens, bool *known);

/* Before a call: if the money spent plus estimate_usd would exceed the
 * budget, returns -1 with fa_err "budget: ..." and the call must not be
 * made; otherwise records a reservation and returns 0 with *ticket. With
 * no ledger file returns 0 and ticket 0. */
int fa_ledger_reserve(struct fa_ledger *l, double estimate_usd, uint64_t *ticket)
    __attribute__((warn_unused_result));

/* After a call (also a failed one: cost 0 then): closes the ticket with
 * the real cost. Returns 0, or -1 with fa_err set. */
int fa_ledger_settle(struct fa_ledger *l, uint64_t ticket, double cost_usd, const char *stage,
                     const char *model, long prompt_tokens, long completion_tokens,
                     const char *hash) __attribute__((warn_unused_result));

/* The money spent so far according to the file (0 without one). Returns
 * 0, or -1 with fa_err set. */
int fa_ledger_spent(struct fa_ledger *l, double *usd) __attribute__((warn_unused_result));

/* The budget (< 0: none). */
double fa_ledger_budget(const struct fa_ledger *l);

#endif
