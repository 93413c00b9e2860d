/* fuzz_prompt.c: prompt templates ({{path}}, {{> part}}, {{! note }}).
 * An input that opens with a JSON object uses it as the variables and the
 * rest as the template; otherwise the whole input is the template, with
 * variables shaped like a stage's (nested objects, arrays, numbers, null).
 * Includes resolve in a scratch FA_PROMPTS holding a part and a loop. */
#include <json-c/json.h>

#include "fa_prompt.h"
#include "harness.h"

static const char vars_json[] = "{\"symbol\":\"AAPL\",\"date\":\"2024-01-02\",\"asset\":\"stock\","
                                "\"price\":{\"close\":187.5,\"chg\":-0.25,\"volume\":1e7},"
                                "\"news\":[{\"title\":\"t0\",\"text\":\"x\"},{\"title\":\"t1\"}],"
                                "\"lines\":[\"a\",\"b\",3],\"none\":null,\"yes\":true,\"empty\":{},"
                                "\"account\":{\"cash\":10000,\"position\":0}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct json_object *defaults;
    struct json_object *vars = NULL;
    char *text = fz_str(data, size), *out, path[512];
    const char *tmpl = text;

    if (!defaults) {
        static const char part[] = "part {{symbol}} {{price.close}}\n";
        static const char loop[] = "loop {{> loop}}";
        fz_file(path, "part.txt", part, sizeof part - 1);
        fz_file(path, "loop.txt", loop, sizeof loop - 1);
        setenv("FA_PROMPTS", fz_init(), 1);
        defaults = json_tokener_parse(vars_json);
    }
    if (size > 0 && text[0] == '{') {
        struct json_tokener *tok = json_tokener_new();
        if (tok) {
            vars = json_tokener_parse_ex(tok, text, (int)(size > INT_MAX ? INT_MAX : size));
            if (vars && json_tokener_get_error(tok) == json_tokener_success)
                tmpl = text + tok->char_offset;
            else {
                json_object_put(vars);
                vars = NULL;
            }
            json_tokener_free(tok);
        }
    }
    out = fa_prompt_render_text(tmpl, "fuzz.txt", vars ? vars : defaults);
    free(out);
    json_object_put(vars);
    free(text);
    return 0;
}
