/* fuzz_params.c: fa-tools' params files (prompts/params-finagent.json,
 * --params, what --tune writes): load and check, look up a named symbol,
 * an unnamed one and "*", and run every strategy with the parameters found
 * on a fixed 15-bar window (so accepted values must be usable). */
#include <json-c/json.h>

#include "fa_strategy.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const symbols[] = {"AAPL", "MSFT", "*", ""};
    static const double high[15] = {11, 12,   12.5, 12, 13, 14,   13.5, 13,
                                    12, 12.5, 13,   14, 15, 14.5, 15.5};
    static const double low[15] = {9, 10, 11, 10.5, 11, 12, 12, 11, 10.5, 11, 12, 12.5, 13, 13, 14};
    static const double close[15] = {10, 11, 12,   11,   12.5, 13, 12.5, 12,
                                     11, 12, 12.5, 13.5, 14,   14, 15};
    struct fa_strategy_bars b = {high, low, close, 15};
    struct json_object *file;
    char path[512], expl[256];

    if (!(file = fa_strategy_file_load(fz_file(path, "params.json", data, size))))
        return 0;
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        struct fa_strategy_params p;
        if (fa_strategy_file_lookup(file, symbols[i], &p) != 0)
            continue;
        for (int k = 0; k < FA_STRATEGY_COUNT; k++) {
            struct json_object *pj;
            for (size_t n = 0; n <= 15; n += 5) {
                b.n = n;
                (void)fa_strategy_signal((enum fa_strategy_kind)k, &p, &b, expl, sizeof expl);
            }
            pj = fa_strategy_params_json((enum fa_strategy_kind)k, &p);
            (void)json_object_to_json_string(pj);
            json_object_put(pj);
        }
    }
    json_object_put(file);
    return 0;
}
