/* fa_output.h: structured outputs: the named fields a stage asks a model for,
 * parsed from whatever the model wrote.
 *
 * A stage declares its fields (strings, and maps of strings). The parser
 * accepts a JSON object, fenced (```json ... ```) or not, with chatter
 * around it, and FinAgent's XML form, fenced or not:
 *
 *   <output>
 *     <string name="action">BUY</string>
 *     <map name="analysis"><string name="short">...</string></map>
 *   </output>
 *
 * Values are checked against the declaration; a string field with choices
 * (e.g. action: BUY, SELL, HOLD) is matched case-insensitively and
 * normalised to the choice's spelling. A parse failure is never turned
 * into a default value: the caller gets an error naming the problem, to
 * quote in one repair request (fa_llm does that) and then, if that fails
 * too, to report (an error record, or a decision with action NONE). */
#ifndef FA_OUTPUT_H
#define FA_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

enum fa_output_type {
    FA_OUTPUT_STRING = 0, /* a JSON string (numbers and booleans are turned
                             into their text) */
    FA_OUTPUT_MAP = 1,    /* an object of string values */
};

/* One expected field. */
struct fa_output_field {
    const char *name;
    enum fa_output_type type;
    const char *const *choices; /* STRING only: NULL-terminated allowed
                                   values, or NULL for any text */
    bool optional;              /* absent is fine (left out of the result) */
};

/* Parses text (a model's answer) for the n fields (n == 0: any text will do
 * and the result is an empty object). On success stores a new
 * JSON object holding exactly the declared fields that were found (strings,
 * or objects of strings; choices normalised; surrounding whitespace
 * trimmed) in *out (caller owns it) and returns 0. Extra fields in the
 * answer are ignored. Returns -1 with fa_err set to a one-line problem a
 * model can act on ("field 'action' is missing", "field 'action' is
 * 'BUY!': want one of BUY, SELL, HOLD", "no JSON object or <output>
 * element found") and *out NULL. */
int fa_output_parse(const char *text, const struct fa_output_field *fields, size_t n,
                    struct json_object **out) __attribute__((warn_unused_result));

/* A plain-text description of the expected answer (one line per field,
 * with its type and choices), for prompts and the repair request.
 * malloc'd; never NULL (aborts on OOM). */
char *fa_output_describe(const struct fa_output_field *fields, size_t n);

/* A JSON Schema (draft 2020-12 subset accepted by OpenAI's structured
 * outputs) for the fields: an object, all required, no extra properties,
 * enums for choices. Caller owns the reference. */
struct json_object *fa_output_schema(const struct fa_output_field *fields, size_t n);

/* Finds the field named name in fields, or NULL. */
const struct fa_output_field *fa_output_find(const struct fa_output_field *fields, size_t n,
                                             const char *name);

#endif
