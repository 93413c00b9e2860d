/* fa_prompt.h: prompt templates: plain text files with {{field}}
 * placeholders filled from a JSON object of variables.
 *
 *   {{name}}       the variable name
 *   {{a.b.c}}      a dotted path into nested objects (a digit segment
 *                  indexes an array: {{news.0.title}})
 *   {{> part}}     the text of template "part", rendered with the same
 *                  variables (nested up to 16 deep)
 *   {{! note }}    a comment, removed
 * Whitespace inside the braces is ignored. A variable's value renders as:
 * a string as is; a number in its shortest form; true/false; null as the
 * empty string; an array of strings and numbers one element per line; any
 * other array or object as compact JSON. A missing variable is an error
 * naming the template and line: "decide.txt:12: missing variable
 * 'account.cash'". "{{" with no closing "}}" is an error too.
 *
 * Lookup of a template name (a name without '/' and without an extension
 * gets ".txt"): $FA_PROMPTS/name; then ../prompts/name next to the running
 * executable's directory (/proc/self/exe, so a built tree works
 * uninstalled), then ../../../prompts/name (build/san/bin/ of a tree); then
 * FA_DATADIR/prompts/name (the install location the Makefile defines). A
 * name holding '/' is a path and is used as is. */
#ifndef FA_PROMPT_H
#define FA_PROMPT_H

#include <json-c/json.h>

/* Renders template name with vars (an object; may be NULL when the
 * template has no variables). Returns the malloc'd text, or NULL with
 * fa_err set (not found: "prompt 'x.txt': not found in ...", missing
 * variable, unclosed tag, include loop). */
char *fa_prompt_render(const char *name, struct json_object *vars);

/* Renders text (a template held in memory; origin names it in messages,
 * and includes are looked up as for files). Same contract. */
char *fa_prompt_render_text(const char *text, const char *origin, struct json_object *vars);

/* The path of the file a name resolves to (malloc'd), or NULL with fa_err
 * listing where it looked. Also used for prices.tsv. */
char *fa_prompt_path(const char *name);

#endif
