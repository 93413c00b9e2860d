/* fa_record.c: record construction, typed access, canonical JSON and ids. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "fa_record.h"
#include "fa_date.h"
#include "fa_err.h"
#include "fa_str.h"
#include "fa_banned.h"

struct json_object *fa_record_new(const char *kind, const char *symbol, const char *date)
{
    struct json_object *r = fa_str_nn(json_object_new_object());

    fa_record_set_str(r, "kind", kind);
    if (symbol)
        fa_record_set_str(r, "symbol", symbol);
    if (date)
        fa_record_set_str(r, "date", date);
    return r;
}

/* Shortest "%.Ng" that reads back as exactly v. */
static void num_text(double v, char buf[32])
{
    int prec;

    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(buf, 32, "%.0f", v);
        if (strcmp(buf, "-0") == 0)
            buf[0] = '0', buf[1] = 0;
        return;
    }
    for (prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
}

struct json_object *fa_json_num(double v)
{
    char buf[32];

    if (!isfinite(v))
        return NULL;
    num_text(v, buf);
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        return fa_str_nn(json_object_new_int64((int64_t)v));
    return fa_str_nn(json_object_new_double_s(v, buf));
}

void fa_record_set_str(struct json_object *r, const char *key, const char *v)
{
    json_object_object_add(r, key, v ? fa_str_nn(json_object_new_string(v)) : NULL);
}

void fa_record_set_num(struct json_object *r, const char *key, double v)
{
    json_object_object_add(r, key, fa_json_num(v));
}

void fa_record_set_int(struct json_object *r, const char *key, int64_t v)
{
    json_object_object_add(r, key, fa_str_nn(json_object_new_int64(v)));
}

void fa_record_set_bool(struct json_object *r, const char *key, bool v)
{
    json_object_object_add(r, key, fa_str_nn(json_object_new_boolean(v)));
}

const char *fa_record_str(struct json_object *r, const char *key)
{
    struct json_object *v;

    if (!r || !json_object_object_get_ex(r, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

int fa_record_num(struct json_object *r, const char *key, double *out)
{
    struct json_object *v;
    double d;

    if (!r || !json_object_object_get_ex(r, key, &v))
        return -1;
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
        return -1;
    d = json_object_get_double(v);
    if (!isfinite(d))
        return -1;
    *out = d;
    return 0;
}

const char *fa_record_kind(struct json_object *r)
{
    return fa_record_str(r, "kind");
}

const char *fa_record_symbol(struct json_object *r)
{
    return fa_record_str(r, "symbol");
}

const char *fa_record_date(struct json_object *r)
{
    return fa_record_str(r, "date");
}

const char *fa_record_asof(struct json_object *r)
{
    const char *a = fa_record_str(r, "asof");
    return a ? a : fa_record_date(r);
}

/* A growable string for the canonical writer. */
struct buf {
    char *p;
    size_t n, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 256;
        b->p = fa_str_nn(realloc(b->p, b->cap));
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void puts_json(struct buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, plain = 0; /* the unescaped run s[plain..i) goes out in one piece */
    char esc[8];

    put(b, "\"", 1);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c != '"' && c != '\\' && c >= 0x20)
            continue;
        put(b, s + plain, i - plain);
        plain = i + 1;
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            put(b, esc, 2);
        } else {
            const char *named = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
            if (named) {
                put(b, named, 2);
            } else {
                esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0';
                esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
                put(b, esc, 6);
            }
        }
    }
    put(b, s + plain, len - plain);
    put(b, "\"", 1);
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool skipped(const char *key, const char *const *skip)
{
    for (; skip && *skip; skip++)
        if (strcmp(*skip, key) == 0)
            return true;
    return false;
}

static void canon(struct buf *b, struct json_object *v, const char *const *skip)
{
    char num[32];
    size_t i, n;

    switch (json_object_get_type(v)) {
    case json_type_null:
        put(b, "null", 4);
        break;
    case json_type_boolean:
        json_object_get_boolean(v) ? put(b, "true", 4) : put(b, "false", 5);
        break;
    case json_type_int:
        n = (size_t)snprintf(num, sizeof num, "%lld", (long long)json_object_get_int64(v));
        put(b, num, n);
        break;
    case json_type_double:
        num_text(json_object_get_double(v), num);
        put(b, num, strlen(num));
        break;
    case json_type_string:
        puts_json(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        break;
    case json_type_array:
        put(b, "[", 1);
        n = json_object_array_length(v);
        for (i = 0; i < n; i++) {
            if (i)
                put(b, ",", 1);
            canon(b, json_object_array_get_idx(v, i), NULL);
        }
        put(b, "]", 1);
        break;
    case json_type_object: {
        const char **keys;
        size_t k = 0;
        n = (size_t)json_object_object_length(v);
        keys = fa_str_nn(malloc((n ? n : 1) * sizeof *keys));
        json_object_object_foreach(v, key, val)
        {
            (void)val;
            if (!skipped(key, skip))
                keys[k++] = key;
        }
        qsort(keys, k, sizeof *keys, cmp_keys);
        put(b, "{", 1);
        for (i = 0; i < k; i++) {
            if (i)
                put(b, ",", 1);
            puts_json(b, keys[i], strlen(keys[i]));
            put(b, ":", 1);
            canon(b, json_object_object_get(v, keys[i]), NULL);
        }
        put(b, "}", 1);
        free(keys);
        break;
    }
    }
}

char *fa_json_canonical(struct json_object *v, const char *const *skip)
{
    struct buf b = {0};

    put(&b, "", 0);
    canon(&b, v, skip);
    return b.p;
}

void fa_hash_hex(const void *data, size_t len, char out[FA_ID_HEX])
{
    unsigned char h[16];

    crypto_generichash(h, sizeof h, data, len, NULL, 0);
    sodium_bin2hex(out, FA_ID_HEX, h, sizeof h);
}

const char *fa_record_set_id(struct json_object *r)
{
    static const char *const skip[] = {"id", NULL};
    char id[FA_ID_HEX];
    char *c = fa_json_canonical(r, skip);

    fa_hash_hex(c, strlen(c), id);
    free(c);
    fa_record_set_str(r, "id", id);
    return fa_record_str(r, "id");
}

struct json_object *fa_record_attribute(struct json_object *r, const char *symbol, const char *date,
                                        const char *asof)
{
    static const char *const own[] = {"kind", "symbol", "date", "asof", "id", NULL};
    struct json_object *n = fa_record_new(fa_record_kind(r), symbol, date);

    if (asof)
        fa_record_set_str(n, "asof", asof);
    json_object_object_foreach(r, key, val)
    {
        if (!skipped(key, own))
            json_object_object_add(n, key, json_object_get(val));
    }
    fa_record_set_id(n);
    json_object_put(r);
    return n;
}

struct json_object *fa_record_error(const char *stage, const char *symbol, const char *date,
                                    const char *where, const char *message)
{
    struct json_object *r = fa_record_new("error", symbol, date);

    if (date)
        fa_record_set_str(r, "asof", date);
    fa_record_set_str(r, "stage", stage);
    if (where)
        fa_record_set_str(r, "where", where);
    fa_record_set_str(r, "message", message);
    fa_record_set_id(r);
    return r;
}

int fa_record_validate(struct json_object *r)
{
    static const char *const fields[] = {"symbol", "date", "asof", "id"};
    struct json_object *v;
    const char *s;
    int day;
    size_t i;

    if (!json_object_is_type(r, json_type_object)) {
        fa_err_set("record is not a JSON object");
        return -1;
    }
    if (!fa_record_kind(r)) {
        fa_err_set("record has no string 'kind'");
        return -1;
    }
    for (i = 0; i < sizeof fields / sizeof *fields; i++) {
        if (!json_object_object_get_ex(r, fields[i], &v))
            continue;
        if (!json_object_is_type(v, json_type_string)) {
            fa_err_set("field '%s' is not a string", fields[i]);
            return -1;
        }
        s = json_object_get_string(v);
        if ((i == 1 || i == 2) && fa_date_parse(s, &day) < 0) {
            fa_err_set("field '%s': invalid date '%.32s'", fields[i], s);
            return -1;
        }
    }
    return 0;
}
