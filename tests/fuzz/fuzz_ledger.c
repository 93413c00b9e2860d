/* fuzz_ledger.c: the price table (prompts/prices.tsv, FA_PRICES) and a
 * run's ledger file (FA_LEDGER). The input is the table, then after a
 * separator line (harness.h) the ledger; the harness prices a few model
 * names, sums the ledger and makes one reservation and settlement. */
#include <stdbool.h>

#include "fa_ledger.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const models[] = {"gpt-4o", "gpt-4o-mini-2024-07-18", "local", "", "*"};
    const uint8_t *part;
    size_t plen;
    char prices[512], ledger[512];
    struct fa_ledger *l;
    uint64_t ticket;
    double usd;
    bool known;

    fz_split(&data, &size, &part, &plen);
    fz_file(prices, "prices.tsv", part, plen);
    fz_file(ledger, "ledger.tsv", data, size);
    if (!(l = fa_ledger_open(prices, ledger, 100.0)))
        return 0;
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        (void)fa_ledger_cost(l, models[i], 1000, 200, &known);
    if (fa_ledger_spent(l, &usd) != 0)
        usd = 0;
    if (fa_ledger_reserve(l, 0.01, &ticket) == 0)
        if (fa_ledger_settle(l, ticket, 0.005, "fuzz", "gpt-4o", 1000, 200, NULL) != 0)
            usd = -1;
    fa_ledger_close(l);
    return 0;
}
