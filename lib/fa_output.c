/* fa_output.c: structured outputs: finds a JSON object or FinAgent's XML
 * <output> in a model's answer and checks it against the declared fields. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fa_output.h"
#include "fa_err.h"
#include "fa_str.h"
#include "fa_banned.h"

const struct fa_output_field *fa_output_find(const struct fa_output_field *fields, size_t n,
                                             const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

/* --- JSON ------------------------------------------------------------ */

/* The value of key in obj, matched exactly, else case-insensitively. */
static struct json_object *get_key(struct json_object *obj, const char *key)
{
    struct json_object *v;

    if (json_object_object_get_ex(obj, key, &v))
        return v;
    json_object_object_foreach(obj, k, val)
    {
        if (strcasecmp(k, key) == 0)
            return val;
    }
    return NULL;
}

static int count_declared(struct json_object *obj, const struct fa_output_field *f, size_t n)
{
    int c = 0;

    for (size_t i = 0; i < n; i++)
        if (get_key(obj, f[i].name))
            c++;
    return c;
}

/* An object holding the declared fields: obj itself, or its only
 * object-valued member (answers like {"output": {...}}). */
static struct json_object *unwrap(struct json_object *obj, const struct fa_output_field *f,
                                  size_t n)
{
    if (count_declared(obj, f, n) > 0 || json_object_object_length(obj) != 1)
        return obj;
    json_object_object_foreach(obj, k, val)
    {
        (void)k;
        if (json_object_is_type(val, json_type_object) && count_declared(val, f, n) > 0)
            return val;
    }
    return obj;
}

/* The best JSON object in text: the first that holds a declared field,
 * else the first object at all. NULL if none parses. */
static struct json_object *find_json(const char *text, const struct fa_output_field *f, size_t n)
{
    struct json_tokener *tok = fa_str_nn(json_tokener_new());
    struct json_object *first = NULL, *best = NULL;
    const char *p = text;

    while ((p = strchr(p, '{')) != NULL) {
        struct json_object *o;

        json_tokener_reset(tok);
        o = json_tokener_parse_ex(tok, p, (int)strlen(p));
        if (o && json_object_is_type(o, json_type_object)) {
            struct json_object *u = unwrap(o, f, n);
            if (count_declared(u, f, n) > 0) {
                best = json_object_get(u);
                json_object_put(o);
                break;
            }
            if (!first)
                first = json_object_get(o);
            json_object_put(o);
            /* skip past this object: its inner braces are not answers */
            p += json_tokener_get_parse_end(tok);
            continue;
        }
        json_object_put(o);
        p++;
    }
    json_tokener_free(tok);
    if (best) {
        json_object_put(first);
        return best;
    }
    return first;
}

/* --- XML ------------------------------------------------------------- */

/* Appends s[0..n) to b with the five XML entities and CDATA decoded. */
static void xml_text(struct fa_str *b, const char *s, size_t n)
{
    static const struct {
        const char *ent, *ch;
    } ents[] = {{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}, {"&quot;", "\""}, {"&apos;", "'"}};
    size_t i = 0;

    while (i < n) {
        if (s[i] == '<' && n - i >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0) {
            const char *end = memmem(s + i + 9, n - i - 9, "]]>", 3);
            size_t stop = end ? (size_t)(end - s) : n;
            fa_str_addn(b, s + i + 9, stop - i - 9);
            i = end ? stop + 3 : n;
            continue;
        }
        if (s[i] == '&') {
            size_t k;
            for (k = 0; k < sizeof ents / sizeof ents[0]; k++) {
                size_t el = strlen(ents[k].ent);
                if (n - i >= el && memcmp(s + i, ents[k].ent, el) == 0) {
                    fa_str_add(b, ents[k].ch);
                    i += el;
                    break;
                }
            }
            if (k < sizeof ents / sizeof ents[0])
                continue;
        }
        fa_str_addn(b, s + i, 1);
        i++;
    }
}

/* Parses an opening tag "<tag name='x'>" at *p (p within [.., end)).
 * Returns 1 and fills tag ("string"/"map") and name, moving *p past '>';
 * 0 when *p is not such a tag. A tag with an empty name is not one: no
 * field can be called "", and the element is ignored like any other
 * stray markup (the answer then misses its fields: an output error). */
static int open_tag(const char **pp, const char *end, char tag[8], struct fa_str *name)
{
    const char *p = *pp, *q;
    size_t tl;
    char quote;

    if (p >= end || *p != '<')
        return 0;
    p++;
    if ((size_t)(end - p) >= 6 && strncasecmp(p, "string", 6) == 0)
        tl = 6;
    else if ((size_t)(end - p) >= 3 && strncasecmp(p, "map", 3) == 0)
        tl = 3;
    else
        return 0;
    memcpy(tag, p, tl);
    tag[tl] = 0;
    for (size_t i = 0; i < tl; i++)
        tag[i] = (char)tolower((unsigned char)tag[i]);
    p += tl;
    if (p >= end || !isspace((unsigned char)*p))
        return 0;
    while (p < end && isspace((unsigned char)*p))
        p++;
    if ((size_t)(end - p) < 5 || strncasecmp(p, "name", 4) != 0)
        return 0;
    p += 4;
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (p >= end || *p != '=')
        return 0;
    p++;
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (p >= end || (*p != '"' && *p != '\''))
        return 0;
    quote = *p++;
    q = memchr(p, quote, (size_t)(end - p));
    if (!q)
        return 0;
    name->len = 0;
    xml_text(name, p, (size_t)(q - p));
    if (name->len == 0 || !name->s)
        return 0;
    p = q + 1;
    while (p < end && *p != '>')
        p++;
    if (p >= end)
        return 0;
    if (p[-1] == '/') { /* <string name="x"/>: empty */
        *pp = p + 1;
        tag[0] = (char)toupper((unsigned char)tag[0]); /* marks self-closed */
        return 1;
    }
    *pp = p + 1;
    return 1;
}

/* Case-insensitive search for needle in [p, end). */
static const char *find_ci(const char *p, const char *end, const char *needle)
{
    size_t nl = strlen(needle);

    for (; p + nl <= end; p++)
        if (strncasecmp(p, needle, nl) == 0)
            return p;
    return NULL;
}

/* Parses the <string>/<map> elements in [p, end) into obj. depth 0 is the
 * output level (maps allowed), 1 inside a map, where a <map> tag is read
 * as a string (so an answer of nested maps cannot recurse without
 * bound). Returns the number of elements found. */
static int xml_elems(const char *p, const char *end, struct json_object *obj, int depth)
{
    struct fa_str name = {0}, val = {0};
    int found = 0;

    while (p < end) {
        char tag[8];
        const char *lt = memchr(p, '<', (size_t)(end - p));
        const char *body, *close;

        if (!lt)
            break;
        p = lt;
        if (!open_tag(&p, end, tag, &name)) {
            p = lt + 1;
            continue;
        }
        found++;
        if (isupper((unsigned char)tag[0])) { /* self-closed */
            tag[0] = (char)tolower((unsigned char)tag[0]);
            if (strcmp(tag, "map") == 0 && depth == 0)
                json_object_object_add(obj, name.s, fa_str_nn(json_object_new_object()));
            else
                json_object_object_add(obj, name.s, fa_str_nn(json_object_new_string("")));
            continue;
        }
        body = p;
        if (strcmp(tag, "string") == 0 || depth > 0) {
            const char *etag = tag[0] == 's' ? "</string>" : "</map>";
            close = find_ci(body, end, etag);
            if (!close)
                close = end;
            val.len = 0;
            xml_text(&val, body, (size_t)(close - body));
            json_object_object_add(obj, name.s,
                                   fa_str_nn(json_object_new_string(val.s ? val.s : "")));
            p = close < end ? close + strlen(etag) : end;
        } else {
            struct json_object *m = fa_str_nn(json_object_new_object());
            close = find_ci(body, end, "</map>");
            if (!close)
                close = end;
            xml_elems(body, close, m, depth + 1);
            json_object_object_add(obj, name.s, m);
            p = close < end ? close + 6 : end;
        }
    }
    free(name.s);
    free(val.s);
    return found;
}

/* The fields of the XML form in text, or NULL when there are none. */
static struct json_object *find_xml(const char *text)
{
    const char *end = text + strlen(text);
    const char *start = find_ci(text, end, "<output"), *stop;
    struct json_object *obj = fa_str_nn(json_object_new_object());

    if (start) {
        start = memchr(start, '>', (size_t)(end - start));
        start = start ? start + 1 : end;
        stop = find_ci(start, end, "</output>");
        if (!stop)
            stop = end;
    } else {
        start = text;
        stop = end;
    }
    if (xml_elems(start, stop, obj, 0) == 0) {
        json_object_put(obj);
        return NULL;
    }
    return obj;
}

/* --- validation ------------------------------------------------------ */

static char *trim_dup(const char *s)
{
    size_t n;

    while (isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return fa_str_nn(strndup(s, n));
}

/* The text of a scalar JSON value (string, number, boolean), or NULL. */
static char *scalar_text(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_string:
        return trim_dup(json_object_get_string(v));
    case json_type_int:
    case json_type_double:
    case json_type_boolean:
        return trim_dup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    default:
        return NULL;
    }
}

static const char *type_name(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_object:
        return "an object";
    case json_type_array:
        return "an array";
    default:
        return "a scalar";
    }
}

/* Matches s against choices, ignoring case, surrounding whitespace, quotes,
 * backticks, '*' and a trailing period. Returns the choice or NULL. */
static const char *match_choice(const char *s, const char *const *choices)
{
    size_t a = 0, b = strlen(s);

    while (a < b && strchr(" \t\r\n\"'`*", s[a]))
        a++;
    while (b > a && strchr(" \t\r\n\"'`*.", s[b - 1]))
        b--;
    for (size_t i = 0; choices[i]; i++)
        if (strlen(choices[i]) == b - a && strncasecmp(s + a, choices[i], b - a) == 0)
            return choices[i];
    return NULL;
}

static void choices_text(struct fa_str *b, const char *const *choices)
{
    for (size_t i = 0; choices[i]; i++) {
        if (i)
            fa_str_add(b, ", ");
        fa_str_add(b, choices[i]);
    }
}

/* Checks one field's value; adds it to out or a problem to prob. */
static void check_field(const struct fa_output_field *f, struct json_object *v,
                        struct json_object *out, struct fa_str *prob)
{
    char buf[512];

    if (!v || json_object_is_type(v, json_type_null)) {
        if (f->optional)
            return;
        snprintf(buf, sizeof buf, "field '%s' is missing", f->name);
        goto bad;
    }
    if (f->type == FA_OUTPUT_STRING) {
        char *s = scalar_text(v);
        if (!s) {
            snprintf(buf, sizeof buf, "field '%s' should be a string, not %s", f->name,
                     type_name(v));
            goto bad;
        }
        if (f->choices) {
            const char *c = match_choice(s, f->choices);
            if (!c) {
                struct fa_str m = {0};
                snprintf(buf, sizeof buf, "field '%s' is '%.80s': want one of ", f->name, s);
                free(s);
                fa_str_add(&m, buf);
                choices_text(&m, f->choices);
                if (prob->len)
                    fa_str_add(prob, "; ");
                fa_str_add(prob, m.s);
                free(m.s);
                return;
            }
            free(s);
            s = fa_str_nn(strdup(c));
        }
        json_object_object_add(out, f->name, fa_str_nn(json_object_new_string(s)));
        free(s);
        return;
    }
    if (!json_object_is_type(v, json_type_object)) {
        snprintf(buf, sizeof buf, "field '%s' should be a map of strings, not %s", f->name,
                 json_object_is_type(v, json_type_string) ? "a string" : type_name(v));
        goto bad;
    }
    {
        struct json_object *m = fa_str_nn(json_object_new_object());
        json_object_object_foreach(v, k, val)
        {
            char *s = scalar_text(val);
            if (!s) {
                snprintf(buf, sizeof buf, "field '%s': entry '%.80s' should be a string, not %s",
                         f->name, k, type_name(val));
                json_object_put(m);
                goto bad;
            }
            json_object_object_add(m, k, fa_str_nn(json_object_new_string(s)));
            free(s);
        }
        json_object_object_add(out, f->name, m);
    }
    return;
bad:
    if (prob->len)
        fa_str_add(prob, "; ");
    fa_str_add(prob, buf);
}

int fa_output_parse(const char *text, const struct fa_output_field *fields, size_t n,
                    struct json_object **out)
{
    struct json_object *found = NULL, *res;
    struct fa_str prob = {0};

    *out = NULL;
    if (!text) {
        fa_err_set("empty answer");
        return -1;
    }
    if (n == 0) { /* free text: nothing to check */
        *out = fa_str_nn(json_object_new_object());
        return 0;
    }
    found = find_json(text, fields, n);
    if (!found || count_declared(found, fields, n) == 0) {
        struct json_object *x = find_xml(text);
        if (x) {
            json_object_put(found);
            found = x;
        }
    }
    if (!found) {
        fa_err_set("no JSON object or <output> element found in the answer");
        return -1;
    }
    res = fa_str_nn(json_object_new_object());
    for (size_t i = 0; i < n; i++)
        check_field(&fields[i], get_key(found, fields[i].name), res, &prob);
    json_object_put(found);
    if (prob.len) {
        fa_err_set("%s", prob.s);
        free(prob.s);
        json_object_put(res);
        return -1;
    }
    *out = res;
    return 0;
}

char *fa_output_describe(const struct fa_output_field *fields, size_t n)
{
    struct fa_str b = {0};

    for (size_t i = 0; i < n; i++) {
        fa_str_add(&b, "- ");
        fa_str_add(&b, fields[i].name);
        if (fields[i].type == FA_OUTPUT_MAP)
            fa_str_add(&b, ": a map (object) of strings");
        else if (fields[i].choices) {
            fa_str_add(&b, ": one of ");
            choices_text(&b, fields[i].choices);
        } else
            fa_str_add(&b, ": a string");
        if (fields[i].optional)
            fa_str_add(&b, " (optional)");
        fa_str_add(&b, "\n");
    }
    return fa_str_take(&b);
}

struct json_object *fa_output_schema(const struct fa_output_field *fields, size_t n)
{
    struct json_object *s = fa_str_nn(json_object_new_object());
    struct json_object *props = fa_str_nn(json_object_new_object());
    struct json_object *req = fa_str_nn(json_object_new_array());

    json_object_object_add(s, "type", fa_str_nn(json_object_new_string("object")));
    for (size_t i = 0; i < n; i++) {
        struct json_object *p = fa_str_nn(json_object_new_object());
        if (fields[i].type == FA_OUTPUT_MAP) {
            struct json_object *ap = fa_str_nn(json_object_new_object());
            json_object_object_add(p, "type", fa_str_nn(json_object_new_string("object")));
            json_object_object_add(ap, "type", fa_str_nn(json_object_new_string("string")));
            json_object_object_add(p, "additionalProperties", ap);
        } else {
            json_object_object_add(p, "type", fa_str_nn(json_object_new_string("string")));
            if (fields[i].choices) {
                struct json_object *e = fa_str_nn(json_object_new_array());
                for (size_t k = 0; fields[i].choices[k]; k++)
                    json_object_array_add(e,
                                          fa_str_nn(json_object_new_string(fields[i].choices[k])));
                json_object_object_add(p, "enum", e);
            }
        }
        json_object_object_add(props, fields[i].name, p);
        json_object_array_add(req, fa_str_nn(json_object_new_string(fields[i].name)));
    }
    json_object_object_add(s, "properties", props);
    json_object_object_add(s, "required", req);
    json_object_object_add(s, "additionalProperties", json_object_new_boolean(0));
    return s;
}
