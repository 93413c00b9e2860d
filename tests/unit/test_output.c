/* test_output.c: structured outputs: JSON (bare, fenced, with chatter,
 * wrapped), FinAgent's XML form (fenced or not), validation, choices. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "fa_err.h"
#include "fa_output.h"
#include "fa_banned.h"

static const char *const actions[] = {"BUY", "SELL", "HOLD", NULL};
static const struct fa_output_field fields[] = {
    {"analysis", FA_OUTPUT_STRING, NULL, false},
    {"action", FA_OUTPUT_STRING, actions, false},
    {"query", FA_OUTPUT_MAP, NULL, false},
    {"note", FA_OUTPUT_STRING, NULL, true},
};
#define NF (sizeof fields / sizeof fields[0])

static const char *str(struct json_object *o, const char *k)
{
    struct json_object *v;

    return o && json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static const char *mapstr(struct json_object *o, const char *m, const char *k)
{
    struct json_object *v;

    return o && json_object_object_get_ex(o, m, &v) ? str(v, k) : NULL;
}

static void good(const char *name, const char *text, const char *action, const char *analysis)
{
    struct json_object *out = NULL;
    int rc = fa_output_parse(text, fields, NF, &out);

    ok(rc == 0, "%s: parses", name);
    if (rc)
        printf("#   %s\n", fa_err_get());
    is_str(str(out, "action"), action, "action normalised");
    is_str(str(out, "analysis"), analysis, "analysis text");
    is_str(mapstr(out, "query", "short"), "near term", "map entry");
    json_object_put(out);
}

static void bad(const char *name, const char *text, const char *want)
{
    struct json_object *out = NULL;
    int rc = fa_output_parse(text, fields, NF, &out);

    ok(rc == -1 && out == NULL, "%s: rejected", name);
    ok(strstr(fa_err_get(), want) != NULL, "%s: problem says '%s'", name, want);
    if (!strstr(fa_err_get(), want))
        printf("#   got: %s\n", fa_err_get());
}

int main(void)
{
    struct json_object *out;
    char *d;

    fa_err_init("test_output");
    good("bare json",
         "{\"analysis\": \" up \", \"action\": \"buy\", \"query\": {\"short\": \"near term\"}}",
         "BUY", "up");
    good("fenced json with chatter",
         "Sure! Here is my answer:\n```json\n{\"analysis\": \"a {brace} inside\", "
         "\"action\": \"**Sell**\", \"query\": {\"short\": \"near term\", \"n\": 3}}\n```\nThanks.",
         "SELL", "a {brace} inside");
    good("wrapped object",
         "{\"output\": {\"Analysis\": \"x\", \"ACTION\": \"hold.\", \"query\": {\"short\": "
         "\"near term\"}}}",
         "HOLD", "x");
    good("json after a stray brace",
         "{not json} then {\"analysis\":\"y\",\"action\":\"Hold\","
         "\"query\":{\"short\":\"near term\"}}",
         "HOLD", "y");
    good("xml",
         "<output>\n<string name=\"analysis\">rates &amp; &lt;risk&gt;</string>\n"
         "<string name=\"action\">buy</string>\n<map name=\"query\">\n"
         "  <string name='short'>near term</string>\n</map>\n</output>",
         "BUY", "rates & <risk>");
    good("fenced xml without output element",
         "```xml\n<string name=\"analysis\"><![CDATA[a <b> c]]></string>"
         "<string name=\"action\"> SELL </string><map name=\"query\"><string "
         "name=\"short\">near term</string></map>\n```",
         "SELL", "a <b> c");

    bad("missing field", "{\"analysis\":\"x\",\"query\":{}}", "field 'action' is missing");
    bad("bad choice", "{\"analysis\":\"x\",\"action\":\"BUY!\",\"query\":{}}",
        "field 'action' is 'BUY!': want one of BUY, SELL, HOLD");
    bad("map as string", "{\"analysis\":\"x\",\"action\":\"BUY\",\"query\":\"q\"}",
        "field 'query' should be a map of strings, not a string");
    bad("string as object", "{\"analysis\":{},\"action\":\"BUY\",\"query\":{}}",
        "field 'analysis' should be a string, not an object");
    bad("prose", "I think the stock will go up, so hold.", "no JSON object or <output>");
    bad("truncated json", "{\"analysis\":\"x\",\"action\":\"BU", "no JSON object or <output>");
    bad("xml missing field", "<output><string name=\"analysis\">x</string></output>",
        "field 'action' is missing");
    bad("null answer", NULL, "empty answer");
    /* empty element names (once a NULL key handed to json-c: a crash) */
    bad("xml empty string name", "<output><string name=\"\">x</string></output>",
        "no JSON object or <output>");
    bad("xml empty map name", "<output><map name=''><string name='a'>x</string></map></output>",
        "field 'analysis' is missing");
    bad("xml empty self-closed name", "<output><string name=\"\"/></output>",
        "no JSON object or <output>");
    bad("xml empty name among fields",
        "<output><string name=\"analysis\">a</string><string name=\"\">x</string>"
        "<string name=\"action\">buy</string><map name=\"\"/></output>",
        "field 'query' is missing");
    {
        /* maps nested without bound are read flat, not recursively */
        size_t n = 200000;
        char *deep = malloc(n * 14 + 1), *q = deep;
        for (size_t i = 0; i < n; i++, q += 14)
            memcpy(q, "<map name='a'>", 14);
        *q = 0;
        ok(fa_output_parse(deep, fields, NF, &out) < 0 && !out, "deeply nested maps: an error");
        free(deep);
    }

    /* optional field kept when present; a null action is missing, never HOLD */
    ok(fa_output_parse("{\"analysis\":\"a\",\"action\":\"hold\",\"query\":{},\"note\":\"n\"}",
                       fields, NF, &out) == 0,
       "optional present");
    is_str(str(out, "note"), "n", "optional value");
    json_object_put(out);
    bad("null action", "{\"analysis\":\"a\",\"action\":null,\"query\":{}}",
        "field 'action' is missing");

    d = fa_output_describe(fields, NF);
    ok(strstr(d, "- action: one of BUY, SELL, HOLD\n") != NULL, "describe: choices");
    ok(strstr(d, "- query: a map (object) of strings\n") != NULL, "describe: map");
    free(d);
    out = fa_output_schema(fields, NF);
    ok(strstr(json_object_to_json_string(out), "\"enum\":[\"BUY\",\"SELL\",\"HOLD\"]") != NULL ||
           strstr(json_object_to_json_string(out), "\"enum\": [ \"BUY\", \"SELL\", \"HOLD\" ]") !=
               NULL,
       "schema: enum");
    json_object_put(out);
    ok(fa_output_find(fields, NF, "query") == &fields[2], "find");
    ok(fa_output_parse("just prose", NULL, 0, &out) == 0 && json_object_object_length(out) == 0,
       "no fields: any text will do");
    json_object_put(out);
    return tap_done();
}
