/* test_offline.c: the offline analyst answers every stage with parseable,
 * deterministic fields computed from its data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_err.h"
#include "fa_offline.h"
#include "fa_output.h"
#include "tap.h"
#include "fa_banned.h"

static const char *const actions[] = {"BUY", "SELL", "HOLD", NULL};

static struct json_object *answer(const char *stage, const char *vars_json,
                                  const struct fa_output_field *f, size_t nf)
{
    struct json_object *vars = json_tokener_parse(vars_json), *out = NULL;
    char *text = NULL, *again = NULL;

    ok(vars != NULL, "%s: vars parse", stage);
    ok(fa_offline_answer(stage, vars, &text) == 0, "%s: answers", stage);
    ok(fa_offline_answer(stage, vars, &again) == 0 && text && again && strcmp(text, again) == 0,
       "%s: deterministic", stage);
    ok(text && fa_output_parse(text, f, nf, &out) == 0, "%s: parses (%s)", stage, fa_err_get());
    ok(text && strstr(text, "offline analyst") != NULL, "%s: says it is the offline analyst",
       stage);
    free(text);
    free(again);
    json_object_put(vars);
    return out;
}

static const char *get(struct json_object *o, const char *k)
{
    struct json_object *v;
    return o && json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

int main(void)
{
    static const struct fa_output_field latest[] = {{"analysis", FA_OUTPUT_STRING, NULL, false},
                                                    {"summary", FA_OUTPUT_STRING, NULL, false},
                                                    {"queries", FA_OUTPUT_MAP, NULL, false}};
    static const struct fa_output_field past[] = {{"analysis", FA_OUTPUT_STRING, NULL, false},
                                                  {"summary", FA_OUTPUT_STRING, NULL, false}};
    static const struct fa_output_field low[] = {{"reasoning", FA_OUTPUT_MAP, NULL, false},
                                                 {"query", FA_OUTPUT_STRING, NULL, false}};
    static const struct fa_output_field high[] = {{"reasoning", FA_OUTPUT_STRING, NULL, false},
                                                  {"improvement", FA_OUTPUT_STRING, NULL, false},
                                                  {"summary", FA_OUTPUT_STRING, NULL, false},
                                                  {"query", FA_OUTPUT_STRING, NULL, false}};
    static const struct fa_output_field dec[] = {{"analysis", FA_OUTPUT_STRING, NULL, false},
                                                 {"reasoning", FA_OUTPUT_STRING, NULL, false},
                                                 {"action", FA_OUTPUT_STRING, actions, false}};
    struct json_object *o, *q;
    char *text = NULL;

    fa_err_init("test_offline");
    o = answer("intel-latest",
               "{\"data\":{\"symbol\":\"ACME\",\"news\":["
               "{\"title\":\"ACME beats estimates as revenue surges\",\"text\":\"Strong "
               "quarter.\"},"
               "{\"title\":\"ACME faces lawsuit and weak demand\",\"text\":\"Shares plunge.\"}]}}",
               latest, 3);
    ok(get(o, "analysis") && strstr(get(o, "analysis"), "[1]") && strstr(get(o, "analysis"), "[2]"),
       "one analysis line per item");
    ok(get(o, "summary") && strstr(get(o, "summary"), "Overall sentiment:"), "overall sentiment");
    ok(json_object_object_get_ex(o, "queries", &q) &&
           json_object_object_get_ex(q, "short_term", NULL) &&
           json_object_object_get_ex(q, "medium_term", NULL) &&
           json_object_object_get_ex(q, "long_term", NULL),
       "three horizon queries");
    ok(!strstr(get(q, "medium_term"), "acme") && !strstr(get(q, "short_term"), "acme"),
       "queries leave the ticker out");
    json_object_put(o);

    o = answer("intel-past",
               "{\"data\":{\"latest_summary\":\"Overall sentiment: positive\",\"hits\":["
               "{\"date\":\"2023-01-02\",\"type\":\"short_term\",\"title\":\"Record profit "
               "beats estimates\",\"after7\":0.05}]}}",
               past, 2);
    ok(get(o, "summary") && strstr(get(o, "summary"), "rose"), "past rise reported: %s",
       get(o, "summary"));
    json_object_put(o);

    o = answer("reflect-low",
               "{\"data\":{\"moves\":{\"d1\":0.01,\"d7\":0.05,\"d14\":-0.03},"
               "\"future\":{\"d1\":0.01,\"d7\":0.02,\"d14\":null},"
               "\"latest_summary\":\"Overall sentiment: positive\",\"band\":\"inside the bands\"}}",
               low, 2);
    ok(json_object_object_get_ex(o, "reasoning", &q) &&
           json_object_object_get_ex(q, "hindsight", NULL),
       "hindsight judged when given");
    ok(get(q, "medium_term") && strstr(get(q, "medium_term"), "rising"), "7-day rise named");
    json_object_put(o);

    o = answer("reflect-high",
               "{\"data\":{\"decisions\":[{\"date\":\"2023-01-02\",\"action\":\"BUY\","
               "\"after\":-0.04},{\"date\":\"2023-01-03\",\"action\":\"SELL\",\"after\":-0.02},"
               "{\"date\":\"2023-01-04\",\"action\":\"HOLD\",\"after\":0.01}]}}",
               high, 4);
    ok(strstr(get(o, "summary"), "1 were right and 1 wrong") != NULL, "judged: %s",
       get(o, "summary"));
    ok(strstr(get(o, "improvement"), "2023-01-02") != NULL, "improvement names the wrong date");
    json_object_put(o);

    o = answer("decide",
               "{\"data\":{\"preference\":\"aggressive\",\"intel\":true,\"news\":["
               "{\"title\":\"Record profit, strong growth, upgrade\",\"text\":\"Beats "
               "estimates.\"}],\"account\":{\"cash\":10000,\"position\":0,\"price\":100}}}",
               dec, 3);
    is_str(get(o, "action"), "BUY", "good news, cash: BUY");
    json_object_put(o);
    o = answer("decide",
               "{\"data\":{\"preference\":\"aggressive\",\"intel\":true,\"news\":["
               "{\"title\":\"Lawsuit, losses and a downgrade\",\"text\":\"Shares plunge on weak "
               "demand.\"}],\"account\":{\"cash\":0,\"position\":0,\"price\":100}}}",
               dec, 3);
    is_str(get(o, "action"), "HOLD", "bad news, nothing to sell: HOLD");
    json_object_put(o);
    o = answer("decide",
               "{\"data\":{\"preference\":\"conservative\",\"intel\":true,\"news\":["
               "{\"title\":\"Lawsuit, losses and a downgrade\",\"text\":\"Shares plunge on weak "
               "demand.\"}],\"account\":{\"cash\":0,\"position\":10,\"price\":100}}}",
               dec, 3);
    is_str(get(o, "action"), "SELL", "bad news, a position: SELL");
    json_object_put(o);
    o = answer("decide", "{\"data\":{\"account\":{\"cash\":100,\"position\":0,\"price\":1}}}", dec,
               3);
    is_str(get(o, "action"), "HOLD", "no evidence at all: HOLD");
    json_object_put(o);

    o = json_tokener_parse("{\"data\":{}}");
    ok(fa_offline_answer("nope", o, &text) == -1 && !text, "unknown stage refused");
    json_object_put(o);
    ok(fa_offline_answer("decide", NULL, &text) == -1 && strstr(fa_err_get(), "data"),
       "no data refused");
    return tap_done();
}
