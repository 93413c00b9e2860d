/* fuzz_output.c: model answers, JSON (fenced or not, with chatter) and
 * FinAgent's XML form, parsed for the fields the stages declare:
 * fa-decide's (a string with choices), fa-intel --latest's (a map), and a
 * set with an optional field. */
#include <json-c/json.h>

#include "fa_output.h"
#include "harness.h"

static const char *const actions[] = {"BUY", "SELL", "HOLD", NULL};
static const struct fa_output_field decide[] = {
    {"analysis", FA_OUTPUT_STRING, NULL, false},
    {"reasoning", FA_OUTPUT_STRING, NULL, false},
    {"action", FA_OUTPUT_STRING, actions, false},
};
static const struct fa_output_field latest[] = {
    {"analysis", FA_OUTPUT_STRING, NULL, false},
    {"summary", FA_OUTPUT_STRING, NULL, false},
    {"queries", FA_OUTPUT_MAP, NULL, false},
};
static const struct fa_output_field optional[] = {
    {"reasoning", FA_OUTPUT_STRING, NULL, true},
    {"short", FA_OUTPUT_MAP, NULL, true},
};

static void parse(const char *text, const struct fa_output_field *f, size_t n)
{
    struct json_object *out = NULL;

    if (fa_output_parse(text, f, n, &out) == 0)
        (void)json_object_to_json_string(out);
    json_object_put(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_str(data, size);

    fz_init();
    parse(text, decide, 3);
    parse(text, latest, 3);
    parse(text, optional, 2);
    parse(text, NULL, 0);
    free(text);
    return 0;
}
