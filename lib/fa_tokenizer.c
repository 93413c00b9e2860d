/* fa_tokenizer.c: byte-level BPE from a Hugging Face tokenizer.json.
 *
 * Encoding follows the tokenizers library step by step: added tokens are
 * cut out of the text first (leftmost-longest, the non-normalized ones
 * before the normalized ones); each remaining segment goes through the
 * pre-tokenizers (Digits, then ByteLevel: optional prefix space and the
 * GPT-2 split regex, here a hand-written matcher over Unicode class
 * tables); each piece is mapped to its bytes' tokens and merged by rank,
 * lowest rank first and leftmost first among equals, as the library's
 * priority queue does. Decoding maps each token's characters back through
 * the GPT-2 byte-to-unicode table. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fa_err.h"
#include "fa_str.h"
#include "fa_tokenizer.h"
#include "fa_tokenizer_tables.h"
#include "fa_banned.h"

#define MAX_ID     (1 << 22) /* ids above this are refused (Gemma's 262k fits) */
#define MAX_FILE   (1 << 30) /* tokenizer.json size cap */
#define SCAN_MAX   96        /* pieces up to this many bytes merge by scanning */
#define NO_RANK    UINT32_MAX
#define CHAT_START "<|im_start|>"
#define CHAT_END   "<|im_end|>"

struct added {
    char *s;
    size_t len;
    int32_t id;
    bool normalized;
};

struct merge {
    uint64_t key; /* (left id << 32 | right id) + 1; 0: empty slot */
    uint32_t rank;
    int32_t id;
};

struct fa_tok {
    char *name;
    /* The model's vocabulary: spelling by id, and a hash of spellings. */
    char **spell;
    uint32_t *spell_len;
    int32_t *vslot; /* id + 1, 0 empty */
    size_t vcap;
    size_t nid; /* highest id + 1 over the model and added tokens */
    size_t nmodel;
    /* The bytes each id decodes to: dec[doff[id] .. doff[id + 1]). */
    char *dec;
    size_t *doff;
    uint8_t *known;
    int32_t byte_id[256];
    struct merge *merges;
    size_t mcap;
    struct added *add;
    size_t nadd;
    uint8_t first[2][256]; /* first bytes of added tokens, per pass */
    bool digits, digits_each, prefix_space, use_regex, ignore_merges;
    /* Chat: tokenizer_config.json's template, if any. */
    char *cfg_name;
    char *chat_template;
};

/* ---- GPT-2's byte <-> unicode table ---- */

static uint32_t byte_cp[256];
static int16_t cp_byte[324]; /* code points 0..323 back to bytes, -1 none */

static void bytes_init(void)
{
    int n = 0;

    for (int i = 0; i < 324; i++)
        cp_byte[i] = -1;
    for (int b = 0; b < 256; b++) {
        bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        uint32_t cp = printable ? (uint32_t)b : (uint32_t)(256 + n++);
        cp_byte[cp] = (int16_t)b;
        byte_cp[b] = cp;
    }
}

/* ---- UTF-8 and character classes ---- */

enum { C_OTHER = 0, C_WS = FA_TOK_WS, C_L = FA_TOK_L, C_N = FA_TOK_N };

/* Length of the well-formed UTF-8 character at s[0..n) and its code point,
 * or 0 when s[0] does not start one (then it stands for itself). */
static size_t utf8_char(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint8_t c = s[0];
    size_t len;
    uint32_t v, min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, v = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, v = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static int cp_class(uint32_t cp)
{
    size_t lo = 0, hi = sizeof fa_tok_ranges / sizeof fa_tok_ranges[0];

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < fa_tok_ranges[mid].lo)
            hi = mid;
        else if (cp > fa_tok_ranges[mid].hi)
            lo = mid + 1;
        else
            return fa_tok_ranges[mid].cls;
    }
    return C_OTHER;
}

static uint8_t ascii_class[128];

static void tables_init(void)
{
    bytes_init();
    for (int c = 0; c < 128; c++)
        ascii_class[c] = (uint8_t)cp_class((uint32_t)c);
}

/* The character at s[i] (i < n): its length (at least 1) and class. An
 * invalid byte is a one-byte character of class other, as a lone surrogate
 * escape would be. */
static size_t char_at(const uint8_t *s, size_t i, size_t n, int *cls)
{
    uint32_t cp;
    size_t len;

    if (s[i] < 0x80) {
        *cls = ascii_class[s[i]];
        return 1;
    }
    len = utf8_char(s + i, n - i, &cp);
    if (!len) {
        *cls = C_OTHER;
        return 1;
    }
    *cls = cp_class(cp);
    return len;
}

/* The end of the run of class cls starting at i. */
static size_t run_end(const uint8_t *s, size_t i, size_t n, int cls)
{
    int c;

    while (i < n) {
        size_t len = char_at(s, i, n, &c);
        if (c != cls)
            break;
        i += len;
    }
    return i;
}

/* ---- hashes ---- */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static int32_t vocab_get(const struct fa_tok *t, const char *s, size_t n)
{
    size_t mask = t->vcap - 1;

    for (size_t i = hash_bytes(s, n) & mask;; i = (i + 1) & mask) {
        int32_t v = t->vslot[i];
        if (!v)
            return -1;
        if (t->spell_len[v - 1] == n && memcmp(t->spell[v - 1], s, n) == 0)
            return v - 1;
    }
}

static void vocab_put(struct fa_tok *t, int32_t id)
{
    size_t mask = t->vcap - 1;
    size_t i = hash_bytes(t->spell[id], t->spell_len[id]) & mask;

    while (t->vslot[i])
        i = (i + 1) & mask;
    t->vslot[i] = id + 1;
}

static const struct merge *merge_get(const struct fa_tok *t, int32_t a, int32_t b)
{
    uint64_t key = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1;
    size_t mask = t->mcap - 1;

    for (size_t i = hash_u64(key) & mask;; i = (i + 1) & mask) {
        if (t->merges[i].key == key)
            return &t->merges[i];
        if (!t->merges[i].key)
            return NULL;
    }
}

/* A later duplicate of a pair replaces the earlier rank, as in the
 * tokenizers library (its map is built by inserting in file order). */
static void merge_put(struct fa_tok *t, int32_t a, int32_t b, uint32_t rank, int32_t id)
{
    uint64_t key = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1;
    size_t mask = t->mcap - 1;
    size_t i = hash_u64(key) & mask;

    while (t->merges[i].key && t->merges[i].key != key)
        i = (i + 1) & mask;
    t->merges[i].key = key;
    t->merges[i].rank = rank;
    t->merges[i].id = id;
}

static size_t pow2_above(size_t n)
{
    size_t c = 16;

    while (c < 2 * n)
        c *= 2;
    return c;
}

/* ---- loading ---- */

void fa_tok_free(struct fa_tok *t)
{
    if (!t)
        return;
    if (t->spell)
        for (size_t i = 0; i < t->nid; i++)
            free(t->spell[i]);
    free(t->spell);
    free(t->spell_len);
    free(t->vslot);
    free(t->dec);
    free(t->doff);
    free(t->known);
    free(t->merges);
    for (size_t i = 0; i < t->nadd; i++)
        free(t->add[i].s);
    free(t->add);
    free(t->name);
    free(t->cfg_name);
    free(t->chat_template);
    free(t);
}

static const char *type_of(json_object *o)
{
    json_object *ty;

    if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "type", &ty) ||
        !json_object_is_type(ty, json_type_string))
        return NULL;
    return json_object_get_string(ty);
}

/* Member m of o when present and not null. */
static json_object *member(json_object *o, const char *m)
{
    json_object *v;

    if (!json_object_object_get_ex(o, m, &v) || json_object_is_type(v, json_type_null))
        return NULL;
    return v;
}

/* A boolean member that must be absent, null or equal to want. */
static int want_bool(const struct fa_tok *t, json_object *o, const char *where, const char *m,
                     bool want)
{
    json_object *v = member(o, m);

    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_boolean)) {
        fa_err_set("%s: %s.%s: not a boolean", t->name, where, m);
        return -1;
    }
    if (json_object_get_boolean(v) != want) {
        fa_err_set("%s: %s.%s = %s is not supported", t->name, where, m, want ? "false" : "true");
        return -1;
    }
    return 0;
}

static int get_bool(const struct fa_tok *t, json_object *o, const char *where, const char *m,
                    bool def, bool *out)
{
    json_object *v = member(o, m);

    *out = def;
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_boolean)) {
        fa_err_set("%s: %s.%s: not a boolean", t->name, where, m);
        return -1;
    }
    *out = json_object_get_boolean(v);
    return 0;
}

static int parse_bytelevel(struct fa_tok *t, json_object *o, const char *where)
{
    if (get_bool(t, o, where, "add_prefix_space", true, &t->prefix_space) < 0 ||
        get_bool(t, o, where, "use_regex", true, &t->use_regex) < 0)
        return -1;
    return 0;
}

static int parse_pretok(struct fa_tok *t, json_object *root)
{
    json_object *p = member(root, "pre_tokenizer"), *list;
    const char *ty;
    size_t n;
    bool seen_bl = false;

    if (!p) {
        fa_err_set("%s: pre_tokenizer: missing (byte-level BPE needs ByteLevel)", t->name);
        return -1;
    }
    ty = type_of(p);
    if (ty && strcmp(ty, "ByteLevel") == 0)
        return parse_bytelevel(t, p, "pre_tokenizer");
    if (!ty || strcmp(ty, "Sequence") != 0) {
        fa_err_set("%s: pre_tokenizer: type '%s' is not supported (want ByteLevel or "
                   "Sequence[Digits, ByteLevel])",
                   t->name, ty ? ty : "?");
        return -1;
    }
    list = member(p, "pretokenizers");
    if (!list || !json_object_is_type(list, json_type_array)) {
        fa_err_set("%s: pre_tokenizer.pretokenizers: not an array", t->name);
        return -1;
    }
    n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(list, i);
        char where[64];
        const char *et = type_of(e);

        snprintf(where, sizeof where, "pre_tokenizer.pretokenizers[%zu]", i);
        if (et && strcmp(et, "Digits") == 0 && i == 0 && n == 2) {
            t->digits = true;
            if (get_bool(t, e, where, "individual_digits", false, &t->digits_each) < 0)
                return -1;
        } else if (et && strcmp(et, "ByteLevel") == 0 && i == n - 1) {
            seen_bl = true;
            if (parse_bytelevel(t, e, where) < 0)
                return -1;
        } else {
            fa_err_set("%s: %s: type '%s' is not supported here (want Sequence[Digits, "
                       "ByteLevel] or a plain ByteLevel)",
                       t->name, where, et ? et : "?");
            return -1;
        }
    }
    if (!seen_bl) {
        fa_err_set("%s: pre_tokenizer: no ByteLevel step", t->name);
        return -1;
    }
    return 0;
}

static int parse_vocab(struct fa_tok *t, json_object *vocab, size_t maxid)
{
    t->nmodel = (size_t)json_object_object_length(vocab);
    t->nid = maxid; /* so that fa_tok_free frees what is filled in */
    t->spell = fa_str_nn(calloc(maxid ? maxid : 1, sizeof *t->spell));
    t->spell_len = fa_str_nn(calloc(maxid ? maxid : 1, sizeof *t->spell_len));
    t->vcap = pow2_above(t->nmodel);
    t->vslot = fa_str_nn(calloc(t->vcap, sizeof *t->vslot));
    json_object_object_foreach(vocab, key, val)
    {
        int32_t id = json_object_get_int(val);
        size_t klen = strlen(key);

        if (t->spell[id]) {
            fa_err_set("%s: model.vocab: id %d is used by '%s' and '%s'", t->name, id, t->spell[id],
                       key);
            return -1;
        }
        t->spell[id] = fa_str_nn(malloc(klen + 1));
        memcpy(t->spell[id], key, klen + 1);
        t->spell_len[id] = (uint32_t)klen;
        vocab_put(t, id);
    }
    return 0;
}

/* The ids of a merge's two halves from "a b" or ["a", "b"]. */
static int merge_pair(struct fa_tok *t, json_object *m, size_t i, int32_t *a, int32_t *b,
                      int32_t *ab)
{
    const char *sa, *sb;
    size_t la, lb;
    char buf[512];

    if (json_object_is_type(m, json_type_string)) {
        const char *s = json_object_get_string(m), *sp = strchr(s, ' ');
        size_t n = (size_t)json_object_get_string_len(m);
        if (!sp || strchr(sp + 1, ' ') || strlen(s) != n) {
            fa_err_set("%s: model.merges[%zu]: '%s' is not two tokens separated by one space",
                       t->name, i, s);
            return -1;
        }
        sa = s, la = (size_t)(sp - s), sb = sp + 1, lb = n - la - 1;
    } else if (json_object_is_type(m, json_type_array) && json_object_array_length(m) == 2 &&
               json_object_is_type(json_object_array_get_idx(m, 0), json_type_string) &&
               json_object_is_type(json_object_array_get_idx(m, 1), json_type_string)) {
        json_object *x = json_object_array_get_idx(m, 0), *y = json_object_array_get_idx(m, 1);
        sa = json_object_get_string(x), la = (size_t)json_object_get_string_len(x);
        sb = json_object_get_string(y), lb = (size_t)json_object_get_string_len(y);
    } else {
        fa_err_set("%s: model.merges[%zu]: not a string \"a b\" or a pair [a, b]", t->name, i);
        return -1;
    }
    *a = vocab_get(t, sa, la);
    *b = vocab_get(t, sb, lb);
    if (*a < 0 || *b < 0) {
        fa_err_set("%s: model.merges[%zu]: unknown token '%.*s'", t->name, i,
                   (int)(*a < 0 ? la : lb), *a < 0 ? sa : sb);
        return -1;
    }
    if (la + lb >= sizeof buf) {
        fa_err_set("%s: model.merges[%zu]: merged token too long", t->name, i);
        return -1;
    }
    memcpy(buf, sa, la);
    memcpy(buf + la, sb, lb);
    *ab = vocab_get(t, buf, la + lb);
    if (*ab < 0) {
        fa_err_set("%s: model.merges[%zu]: merged token '%.*s' is not in the vocabulary", t->name,
                   i, (int)(la + lb), buf);
        return -1;
    }
    return 0;
}

static int parse_model(struct fa_tok *t, json_object *root, size_t *maxid)
{
    json_object *model = member(root, "model"), *vocab, *merges, *v;
    const char *ty;
    size_t nm;

    if (!model || !json_object_is_type(model, json_type_object)) {
        fa_err_set("%s: model: missing or not an object", t->name);
        return -1;
    }
    ty = type_of(model);
    if (ty && strcmp(ty, "BPE") != 0) {
        fa_err_set("%s: model.type: '%s' is not supported (only BPE)", t->name, ty);
        return -1;
    }
    if ((v = member(model, "dropout")) && json_object_get_double(v) != 0.0) {
        fa_err_set("%s: model.dropout: BPE dropout is not supported", t->name);
        return -1;
    }
    if (member(model, "continuing_subword_prefix") || member(model, "end_of_word_suffix")) {
        fa_err_set("%s: model: continuing_subword_prefix / end_of_word_suffix are not supported",
                   t->name);
        return -1;
    }
    if (want_bool(t, model, "model", "byte_fallback", false) < 0 ||
        get_bool(t, model, "model", "ignore_merges", false, &t->ignore_merges) < 0)
        return -1;
    vocab = member(model, "vocab");
    if (!vocab || !json_object_is_type(vocab, json_type_object)) {
        fa_err_set("%s: model.vocab: missing or not an object", t->name);
        return -1;
    }
    {
        json_object_object_foreach(vocab, key, val)
        {
            int64_t id;
            if (!json_object_is_type(val, json_type_int) || (id = json_object_get_int64(val)) < 0 ||
                id >= MAX_ID) {
                fa_err_set("%s: model.vocab: '%s': id is not an integer in 0..%d", t->name, key,
                           MAX_ID - 1);
                return -1;
            }
            if ((size_t)id + 1 > *maxid)
                *maxid = (size_t)id + 1;
        }
    }
    if (parse_vocab(t, vocab, *maxid) < 0)
        return -1;
    merges = member(model, "merges");
    if (merges && !json_object_is_type(merges, json_type_array)) {
        fa_err_set("%s: model.merges: not an array", t->name);
        return -1;
    }
    nm = merges ? json_object_array_length(merges) : 0;
    t->mcap = pow2_above(nm);
    t->merges = fa_str_nn(calloc(t->mcap, sizeof *t->merges));
    for (size_t i = 0; i < nm; i++) {
        int32_t a, b, ab;
        if (merge_pair(t, json_object_array_get_idx(merges, i), i, &a, &b, &ab) < 0)
            return -1;
        merge_put(t, a, b, (uint32_t)i, ab);
    }
    return 0;
}

/* Added tokens get their ids as the tokenizers library gives them when it
 * loads a file (the "id" members only have to be integers): the id of the
 * same content when it is already an added token (its flags are then
 * replaced) or in the model's vocabulary; otherwise the next free id, from
 * the vocabulary's size or past the highest added id. A file the library
 * wrote always agrees with its own ids. Empty contents are skipped. */
static int parse_added(struct fa_tok *t, json_object *root, size_t *maxid)
{
    json_object *list = member(root, "added_tokens");
    size_t n;

    if (!list)
        return 0;
    if (!json_object_is_type(list, json_type_array)) {
        fa_err_set("%s: added_tokens: not an array", t->name);
        return -1;
    }
    n = json_object_array_length(list);
    t->add = fa_str_nn(calloc(n ? n : 1, sizeof *t->add));
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(list, i), *id, *content;
        char where[48];
        const char *cs;
        struct added *a = NULL;
        int64_t v, maxadd = -1;
        size_t len, nmodel = t->nmodel;
        bool norm;

        snprintf(where, sizeof where, "added_tokens[%zu]", i);
        if (!json_object_is_type(e, json_type_object) || !json_object_object_get_ex(e, "id", &id) ||
            !json_object_is_type(id, json_type_int) || json_object_get_int64(id) < 0 ||
            !json_object_object_get_ex(e, "content", &content) ||
            !json_object_is_type(content, json_type_string)) {
            fa_err_set("%s: %s: needs an integer id and a string content", t->name, where);
            return -1;
        }
        if (want_bool(t, e, where, "single_word", false) < 0 ||
            want_bool(t, e, where, "lstrip", false) < 0 ||
            want_bool(t, e, where, "rstrip", false) < 0 ||
            get_bool(t, e, where, "normalized", true, &norm) < 0)
            return -1;
        cs = json_object_get_string(content);
        len = (size_t)json_object_get_string_len(content);
        if (len == 0)
            continue;
        for (size_t k = 0; k < t->nadd; k++) {
            if (t->add[k].len == len && memcmp(t->add[k].s, cs, len) == 0)
                a = &t->add[k];
            if (t->add[k].id > maxadd)
                maxadd = t->add[k].id;
        }
        if (a) {
            a->normalized = norm;
            continue;
        }
        if ((v = vocab_get(t, cs, len)) < 0)
            v = maxadd < 0                                   ? (int64_t)nmodel
                : (maxadd >= (int64_t)nmodel || nmodel == 0) ? maxadd + 1
                                                             : (int64_t)nmodel;
        if (v >= MAX_ID) {
            fa_err_set("%s: %s: id %lld out of range", t->name, where, (long long)v);
            return -1;
        }
        a = &t->add[t->nadd++];
        a->id = (int32_t)v;
        a->normalized = norm;
        a->len = len;
        a->s = fa_str_nn(malloc(len + 1));
        memcpy(a->s, cs, len + 1);
        if ((size_t)v + 1 > *maxid)
            *maxid = (size_t)v + 1;
    }
    for (size_t k = 0; k < t->nadd; k++)
        t->first[t->add[k].normalized][(uint8_t)t->add[k].s[0]] = 1;
    return 0;
}

/* The bytes a token's spelling stands for: its characters through the
 * byte-level table, or the spelling itself when one is not in it. */
static size_t spell_bytes(const char *s, size_t n, char *out)
{
    size_t i = 0, k = 0;

    while (i < n) {
        uint32_t cp;
        size_t len = utf8_char((const uint8_t *)s + i, n - i, &cp);
        if (!len || cp >= 324 || cp_byte[cp] < 0) {
            memcpy(out, s, n);
            return n;
        }
        out[k++] = (char)cp_byte[cp];
        i += len;
    }
    return k;
}

static void build_decode(struct fa_tok *t)
{
    size_t total = 0, off = 0;
    int32_t *addidx;

    t->doff = fa_str_nn(calloc(t->nid + 1, sizeof *t->doff));
    t->known = fa_str_nn(calloc(t->nid ? t->nid : 1, 1));
    for (size_t i = 0; i < t->nid; i++)
        total += t->spell[i] ? t->spell_len[i] : 0;
    for (size_t i = 0; i < t->nadd; i++)
        total += t->add[i].len;
    t->dec = fa_str_nn(malloc(total + 1));
    /* Added tokens take precedence over the model's spelling of an id. */
    addidx = fa_str_nn(calloc(t->nid ? t->nid : 1, sizeof *addidx));
    for (size_t k = 0; k < t->nadd; k++)
        addidx[t->add[k].id] = (int32_t)k + 1;
    for (size_t id = 0; id < t->nid; id++) {
        const char *s = NULL;
        size_t n = 0;
        if (addidx[id])
            s = t->add[addidx[id] - 1].s, n = t->add[addidx[id] - 1].len;
        else if (t->spell[id])
            s = t->spell[id], n = t->spell_len[id];
        t->doff[id] = off;
        if (s) {
            t->known[id] = 1;
            off += spell_bytes(s, n, t->dec + off);
        }
    }
    t->doff[t->nid] = off;
    free(addidx);
}

static void build_bytes(struct fa_tok *t)
{
    for (int b = 0; b < 256; b++) {
        char u[2];
        uint32_t cp = byte_cp[b];
        size_t n = 1;
        if (cp < 0x80) {
            u[0] = (char)cp;
        } else {
            u[0] = (char)(0xC0 | cp >> 6);
            u[1] = (char)(0x80 | (cp & 0x3F));
            n = 2;
        }
        t->byte_id[b] = vocab_get(t, u, n);
    }
}

struct fa_tok *fa_tok_parse(const char *json, size_t len, const char *name)
{
    struct fa_tok *t;
    json_tokener *tok;
    json_object *root = NULL, *v;
    enum json_tokener_error jerr;
    size_t maxid = 0, end;
    const char *ty;

    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, tables_init);
    t = fa_str_nn(calloc(1, sizeof *t));
    t->name = fa_str_nn(strdup(name ? name : "tokenizer.json"));
    if (len > INT32_MAX) {
        fa_err_set("%s: file too large", t->name);
        goto fail;
    }
    tok = fa_str_nn(json_tokener_new_ex(64));
    root = json_tokener_parse_ex(tok, json, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success) {
        fa_err_set("%s: not valid JSON: %s", t->name,
                   jerr == json_tokener_continue ? "unexpected end of input"
                                                 : json_tokener_error_desc(jerr));
        goto fail;
    }
    while (end < len && strchr(" \t\r\n", json[end]) && json[end])
        end++;
    if (end < len) {
        fa_err_set("%s: not valid JSON: trailing data at byte %zu", t->name, end);
        goto fail;
    }
    if (!json_object_is_type(root, json_type_object)) {
        fa_err_set("%s: not a JSON object", t->name);
        goto fail;
    }
    if (member(root, "truncation") || member(root, "padding")) {
        fa_err_set("%s: %s: not supported (only null: fa does not cut or pad encodings)", t->name,
                   member(root, "truncation") ? "truncation" : "padding");
        goto fail;
    }
    if (member(root, "normalizer")) {
        ty = type_of(member(root, "normalizer"));
        fa_err_set("%s: normalizer: '%s' is not supported (only null)", t->name, ty ? ty : "?");
        goto fail;
    }
    if ((v = member(root, "post_processor")) && (!(ty = type_of(v)) || strcmp(ty, "ByteLevel"))) {
        fa_err_set("%s: post_processor: '%s' is not supported (only null or ByteLevel)", t->name,
                   ty ? ty : "?");
        goto fail;
    }
    if ((v = member(root, "decoder")) && (!(ty = type_of(v)) || strcmp(ty, "ByteLevel"))) {
        fa_err_set("%s: decoder: '%s' is not supported (only ByteLevel)", t->name, ty ? ty : "?");
        goto fail;
    }
    if (parse_pretok(t, root) < 0 || parse_model(t, root, &maxid) < 0)
        goto fail;
    {
        size_t mmax = maxid;
        if (parse_added(t, root, &maxid) < 0)
            goto fail;
        /* The spelling arrays cover model ids; grow them to added ids. */
        if (maxid > mmax) {
            t->spell = fa_str_nn(realloc(t->spell, maxid * sizeof *t->spell));
            t->spell_len = fa_str_nn(realloc(t->spell_len, maxid * sizeof *t->spell_len));
            memset(t->spell + mmax, 0, (maxid - mmax) * sizeof *t->spell);
            memset(t->spell_len + mmax, 0, (maxid - mmax) * sizeof *t->spell_len);
        }
    }
    t->nid = maxid;
    build_bytes(t);
    build_decode(t);
    json_object_put(root);
    return t;
fail:
    json_object_put(root);
    fa_tok_free(t);
    return NULL;
}

/* ---- encoding ---- */

struct enc {
    const struct fa_tok *t;
    int32_t *ids;
    size_t n, cap;
    uint8_t *buf; /* a piece with its prefix space */
    size_t bufcap;
    int32_t *sym, *nw, *prev, *next;
    uint32_t *rk;
    uint64_t *heap;
    size_t scap;
};

static void emit(struct enc *e, int32_t id)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 64;
        e->ids = fa_str_nn(realloc(e->ids, e->cap * sizeof *e->ids));
    }
    e->ids[e->n++] = id;
}

static void scratch(struct enc *e, size_t m)
{
    if (m <= e->scap)
        return;
    e->scap = m < 64 ? 64 : 2 * m;
    e->sym = fa_str_nn(realloc(e->sym, e->scap * sizeof *e->sym));
    e->nw = fa_str_nn(realloc(e->nw, e->scap * sizeof *e->nw));
    e->prev = fa_str_nn(realloc(e->prev, e->scap * sizeof *e->prev));
    e->next = fa_str_nn(realloc(e->next, e->scap * sizeof *e->next));
    e->rk = fa_str_nn(realloc(e->rk, e->scap * sizeof *e->rk));
    e->heap = fa_str_nn(realloc(e->heap, 2 * e->scap * sizeof *e->heap));
}

static void pair_rank(const struct fa_tok *t, int32_t a, int32_t b, uint32_t *rk, int32_t *nw)
{
    const struct merge *m = merge_get(t, a, b);

    *rk = m ? m->rank : NO_RANK;
    *nw = m ? m->id : -1;
}

static void heap_push(uint64_t *h, size_t *n, uint64_t v)
{
    size_t i = (*n)++;

    while (i > 0 && h[(i - 1) / 2] > v) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
}

static uint64_t heap_pop(uint64_t *h, size_t *n)
{
    uint64_t top = h[0], last = h[--*n];
    size_t i = 0;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1] < h[c])
            c++;
        if (h[c] >= last)
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n)
        h[i] = last;
    return top;
}

/* Long pieces: the tokenizers library's own scheme, a priority queue of
 * (rank, position) with stale entries skipped, O(m log m). */
static void bpe_heap(struct enc *e, size_t m)
{
    const struct fa_tok *t = e->t;
    int32_t *sym = e->sym, *prev = e->prev, *next = e->next;
    size_t nh = 0;
    uint32_t r;
    int32_t nw;

    for (size_t k = 0; k < m; k++) {
        prev[k] = (int32_t)k - 1;
        next[k] = k + 1 < m ? (int32_t)k + 1 : -1;
        if (k + 1 < m) {
            pair_rank(t, sym[k], sym[k + 1], &r, &nw);
            if (r != NO_RANK)
                heap_push(e->heap, &nh, (uint64_t)r << 32 | k);
        }
    }
    while (nh) {
        uint64_t top = heap_pop(e->heap, &nh);
        uint32_t pos = (uint32_t)top, rank = (uint32_t)(top >> 32);
        int32_t nx;
        if (sym[pos] < 0 || (nx = next[pos]) < 0)
            continue;
        pair_rank(t, sym[pos], sym[nx], &r, &nw);
        if (r != rank)
            continue;
        sym[pos] = nw;
        sym[nx] = -1;
        next[pos] = next[nx];
        if (next[nx] >= 0)
            prev[next[nx]] = (int32_t)pos;
        if (prev[pos] >= 0) {
            pair_rank(t, sym[prev[pos]], sym[pos], &r, &nw);
            if (r != NO_RANK)
                heap_push(e->heap, &nh, (uint64_t)r << 32 | (uint32_t)prev[pos]);
        }
        if (next[pos] >= 0) {
            pair_rank(t, sym[pos], sym[next[pos]], &r, &nw);
            if (r != NO_RANK)
                heap_push(e->heap, &nh, (uint64_t)r << 32 | pos);
        }
    }
    for (int32_t k = 0; k >= 0; k = next[k])
        emit(e, sym[k]);
}

/* Short pieces: find the lowest rank (leftmost among equals), merge, and
 * update the two neighbouring pairs; the same order as the queue. */
static void bpe_scan(struct enc *e, size_t m)
{
    const struct fa_tok *t = e->t;
    int32_t *sym = e->sym, *nw = e->nw;
    uint32_t *rk = e->rk;

    for (size_t k = 0; k + 1 < m; k++)
        pair_rank(t, sym[k], sym[k + 1], &rk[k], &nw[k]);
    while (m > 1) {
        uint32_t best = NO_RANK;
        size_t bi = 0;
        for (size_t k = 0; k + 1 < m; k++)
            if (rk[k] < best)
                best = rk[k], bi = k;
        if (best == NO_RANK)
            break;
        sym[bi] = nw[bi];
        memmove(sym + bi + 1, sym + bi + 2, (m - bi - 2) * sizeof *sym);
        if (bi + 2 < m) {
            memmove(rk + bi + 1, rk + bi + 2, (m - bi - 2) * sizeof *rk);
            memmove(nw + bi + 1, nw + bi + 2, (m - bi - 2) * sizeof *nw);
        }
        m--;
        if (bi > 0)
            pair_rank(t, sym[bi - 1], sym[bi], &rk[bi - 1], &nw[bi - 1]);
        if (bi + 1 < m)
            pair_rank(t, sym[bi], sym[bi + 1], &rk[bi], &nw[bi]);
    }
    for (size_t k = 0; k < m; k++)
        emit(e, sym[k]);
}

/* One pre-token's bytes w[0..m) to ids. */
static int bpe(struct enc *e, const uint8_t *w, size_t m)
{
    const struct fa_tok *t = e->t;

    if (m > INT32_MAX / 4) {
        fa_err_set("%s: a pre-token of %zu bytes is too long", t->name, m);
        return -1;
    }
    scratch(e, 2 * m + 1);
    for (size_t k = 0; k < m; k++) {
        e->sym[k] = t->byte_id[w[k]];
        if (e->sym[k] < 0) {
            fa_err_set("%s: no token for byte 0x%02x in the vocabulary", t->name, w[k]);
            return -1;
        }
    }
    if (m == 1) {
        emit(e, e->sym[0]);
        return 0;
    }
    if (t->ignore_merges) {
        /* The whole word when the vocabulary has it: its byte-level spelling
         * (at most two UTF-8 bytes per byte) in the spare scratch. */
        char *sp = (char *)(e->sym + m);
        size_t k = 0;
        int32_t id;
        for (size_t i = 0; i < m; i++) {
            uint32_t cp = byte_cp[w[i]];
            if (cp < 0x80) {
                sp[k++] = (char)cp;
            } else {
                sp[k++] = (char)(0xC0 | cp >> 6);
                sp[k++] = (char)(0x80 | (cp & 0x3F));
            }
        }
        if ((id = vocab_get(t, sp, k)) >= 0) {
            emit(e, id);
            return 0;
        }
    }
    if (m <= SCAN_MAX)
        bpe_scan(e, m);
    else
        bpe_heap(e, m);
    return 0;
}

/* The end of the GPT-2 pattern's match at s[i] (i < n):
 * 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * Every character matches some branch, so matches tile the piece. */
static size_t gpt2_next(const uint8_t *s, size_t i, size_t n)
{
    int c0, c1, c;
    size_t j, last;

    char_at(s, i, n, &c0);
    if (s[i] == '\'' && i + 1 < n) {
        uint8_t a = s[i + 1], b = i + 2 < n ? s[i + 2] : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd')
            return i + 2;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            return i + 3;
    }
    if (c0 != C_WS)
        return run_end(s, i, n, c0);
    if (s[i] == ' ' && i + 1 < n) {
        char_at(s, i + 1, n, &c1);
        if (c1 != C_WS)
            return run_end(s, i + 1, n, c1);
    }
    /* White space: all of it up to the end, or all but the last character
     * when something follows (that one goes with the next word), or a lone
     * character. */
    j = last = i;
    while (j < n) {
        size_t len = char_at(s, j, n, &c);
        if (c != C_WS)
            break;
        last = j;
        j += len;
    }
    return j == n || last == i ? j : last;
}

static int byte_level(struct enc *e, const uint8_t *s, size_t n)
{
    const struct fa_tok *t = e->t;

    if (!n)
        return 0;
    if (t->prefix_space && s[0] != ' ') {
        if (n + 1 > e->bufcap) {
            e->bufcap = 2 * n + 64;
            e->buf = fa_str_nn(realloc(e->buf, e->bufcap));
        }
        e->buf[0] = ' ';
        memcpy(e->buf + 1, s, n);
        s = e->buf;
        n++;
    }
    if (!t->use_regex)
        return bpe(e, s, n);
    for (size_t i = 0; i < n;) {
        size_t j = gpt2_next(s, i, n);
        if (bpe(e, s + i, j - i) < 0)
            return -1;
        i = j;
    }
    return 0;
}

/* The Digits pre-tokenizer: numeric characters (\p{N}, Rust's
 * char::is_numeric) isolated one by one or as runs. */
static int pretok(struct enc *e, const uint8_t *s, size_t n)
{
    size_t i = 0, start = 0;
    int c;

    if (!e->t->digits)
        return byte_level(e, s, n);
    while (i < n) {
        size_t len = char_at(s, i, n, &c), j;
        if (c != C_N) {
            i += len;
            continue;
        }
        if (byte_level(e, s + start, i - start) < 0)
            return -1;
        j = e->t->digits_each ? i + len : run_end(s, i, n, C_N);
        if (byte_level(e, s + i, j - i) < 0)
            return -1;
        i = start = j;
    }
    return byte_level(e, s + start, n - start);
}

/* Cuts added tokens out of s[0..n): pass 0 the non-normalized ones, pass 1
 * the normalized ones in what is left, then the pre-tokenizers. */
static int segment(struct enc *e, const uint8_t *s, size_t n, int pass)
{
    const struct fa_tok *t = e->t;
    size_t start = 0;

    if (pass == 2)
        return pretok(e, s, n);
    for (size_t i = 0; i < n;) {
        const struct added *best = NULL;
        if (t->first[pass][s[i]])
            for (size_t k = 0; k < t->nadd; k++) {
                const struct added *a = &t->add[k];
                if (a->normalized == (pass == 1) && a->len <= n - i &&
                    (!best || a->len > best->len) && memcmp(s + i, a->s, a->len) == 0)
                    best = a;
            }
        if (!best) {
            i++;
            continue;
        }
        if (segment(e, s + start, i - start, pass + 1) < 0)
            return -1;
        emit(e, best->id);
        i = start = i + best->len;
    }
    return segment(e, s + start, n - start, pass + 1);
}

static void enc_done(struct enc *e)
{
    free(e->buf);
    free(e->sym);
    free(e->nw);
    free(e->prev);
    free(e->next);
    free(e->rk);
    free(e->heap);
}

int fa_tok_encode(const struct fa_tok *t, const char *text, size_t len, int32_t **ids, size_t *n)
{
    struct enc e = {.t = t};
    int rc;

    *ids = NULL;
    *n = 0;
    if (!text && len) {
        fa_err_set("%s: encode: NULL text", t->name);
        return -1;
    }
    rc = len ? segment(&e, (const uint8_t *)text, len, 0) : 0;
    enc_done(&e);
    if (rc < 0) {
        free(e.ids);
        return -1;
    }
    *ids = e.ids ? e.ids : fa_str_nn(malloc(sizeof **ids));
    *n = e.n;
    return 0;
}

char *fa_tok_decode(const struct fa_tok *t, const int32_t *ids, size_t n)
{
    size_t total = 0, off = 0;
    char *out;

    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || (size_t)ids[i] >= t->nid || !t->known[ids[i]]) {
            fa_err_set("%s: decode: unknown token id %d at position %zu", t->name, ids[i], i);
            return NULL;
        }
        total += t->doff[ids[i] + 1] - t->doff[ids[i]];
    }
    out = fa_str_nn(malloc(total + 1));
    for (size_t i = 0; i < n; i++) {
        size_t a = t->doff[ids[i]], b = t->doff[ids[i] + 1];
        memcpy(out + off, t->dec + a, b - a);
        off += b - a;
    }
    out[off] = 0;
    return out;
}

size_t fa_tok_vocab(const struct fa_tok *t)
{
    return t->nid;
}

int32_t fa_tok_id(const struct fa_tok *t, const char *token)
{
    size_t n = strlen(token);

    for (size_t k = 0; k < t->nadd; k++)
        if (t->add[k].len == n && memcmp(t->add[k].s, token, n) == 0)
            return t->add[k].id;
    return vocab_get(t, token, n);
}

/* ---- files ---- */

static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf;
    size_t got = 0;

    if (fd < 0) {
        fa_err_sys("cannot open '%s'", path);
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE) {
        if (S_ISDIR(st.st_mode))
            errno = EISDIR;
        else if (st.st_size > MAX_FILE)
            errno = EFBIG;
        fa_err_sys("cannot read '%s'", path);
        close(fd);
        return NULL;
    }
    buf = fa_str_nn(malloc((size_t)st.st_size + 1));
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            fa_err_sys("read error '%s'", path);
            free(buf);
            close(fd);
            return NULL;
        }
        got += (size_t)r;
    }
    close(fd);
    buf[got] = 0;
    *len = got;
    return buf;
}

/* tokenizer_config.json: only chat_template is used (a string, or a list of
 * {name, template} of which "default" is taken). */
static int read_config(struct fa_tok *t, const char *path)
{
    size_t len;
    char *buf;
    json_object *root, *ct;
    json_tokener *tok;
    enum json_tokener_error jerr;

    if (access(path, F_OK) != 0)
        return 0;
    t->cfg_name = fa_str_nn(strdup(path));
    if (!(buf = slurp(path, &len)))
        return -1;
    tok = fa_str_nn(json_tokener_new_ex(64));
    root = json_tokener_parse_ex(tok, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
    jerr = json_tokener_get_error(tok);
    json_tokener_free(tok);
    free(buf);
    if (!root || jerr != json_tokener_success || !json_object_is_type(root, json_type_object)) {
        fa_err_set("%s: not a valid JSON object", path);
        json_object_put(root);
        return -1;
    }
    ct = member(root, "chat_template");
    if (ct && json_object_is_type(ct, json_type_array)) {
        json_object *pick = NULL;
        for (size_t i = 0; i < json_object_array_length(ct); i++) {
            json_object *e = json_object_array_get_idx(ct, i), *nm, *tp;
            if (json_object_object_get_ex(e, "name", &nm) &&
                json_object_object_get_ex(e, "template", &tp) &&
                strcmp(json_object_get_string(nm), "default") == 0)
                pick = tp;
        }
        ct = pick;
    }
    if (ct && !json_object_is_type(ct, json_type_string)) {
        fa_err_set("%s: chat_template: not a string", path);
        json_object_put(root);
        return -1;
    }
    if (ct)
        t->chat_template = fa_str_nn(strdup(json_object_get_string(ct)));
    json_object_put(root);
    return 0;
}

struct fa_tok *fa_tok_open(const char *path)
{
    struct stat st;
    struct fa_str file = {0}, cfg = {0};
    struct fa_tok *t = NULL;
    char *buf = NULL;
    size_t len;

    if (!path || !*path) {
        fa_err_set("tokenizer: no path given");
        return NULL;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fa_str_add(&file, path);
        fa_str_add(&file, "/tokenizer.json");
        fa_str_add(&cfg, path);
        fa_str_add(&cfg, "/tokenizer_config.json");
    } else {
        const char *slash = strrchr(path, '/');
        fa_str_add(&file, path);
        if (slash)
            fa_str_addn(&cfg, path, (size_t)(slash - path) + 1);
        fa_str_add(&cfg, "tokenizer_config.json");
    }
    if ((buf = slurp(file.s, &len)) && (t = fa_tok_parse(buf, len, file.s)) &&
        read_config(t, cfg.s) < 0) {
        fa_tok_free(t);
        t = NULL;
    }
    free(buf);
    free(file.s);
    free(cfg.s);
    return t;
}

/* ---- chat ---- */

/* The system message a template puts first when the caller gives none
 * (SmolLM2's: "{% if loop.first and messages[0]['role'] != 'system' %}{{
 * '<|im_start|>system\n...<|im_end|>\n' }}"): the literal text, or NULL. */
static char *default_system(const struct fa_tok *t, size_t *n)
{
    const char *tp = t->chat_template, *a, *b, *head = CHAT_START "system\n";

    if (!tp || (!strstr(tp, "!= 'system'") && !strstr(tp, "!= \"system\"")))
        return NULL;
    if (!(a = strstr(tp, head)))
        return NULL;
    a += strlen(head);
    if (!(b = strstr(a, CHAT_END)))
        return NULL;
    for (const char *p = a; p < b; p++)
        if (strchr("'\"{}+", *p))
            return NULL;
    *n = (size_t)(b - a);
    return (char *)(uintptr_t)a;
}

static int chat_turn(struct enc *e, int32_t start, int32_t end, const char *role, const char *text,
                     size_t tlen)
{
    struct fa_str b = {0};
    int rc;

    emit(e, start);
    fa_str_add(&b, role);
    fa_str_add(&b, "\n");
    if (text)
        fa_str_addn(&b, text, tlen);
    rc = segment(e, (const uint8_t *)b.s, b.len, 0);
    free(b.s);
    if (rc < 0 || end < 0)
        return rc;
    emit(e, end);
    return segment(e, (const uint8_t *)"\n", 1, 0);
}

int fa_tok_chat(const struct fa_tok *t, const char *system, const char *user, bool gen,
                int32_t **ids, size_t *n)
{
    struct enc e = {.t = t};
    int32_t start = fa_tok_id(t, CHAT_START), end = fa_tok_id(t, CHAT_END);
    const char *sys = system;
    size_t slen = system ? strlen(system) : 0;
    int rc;

    *ids = NULL;
    *n = 0;
    if (start < 0 || end < 0) {
        fa_err_set("%s: no chat role markers: %s and %s are not tokens of this tokenizer", t->name,
                   CHAT_START, CHAT_END);
        return -1;
    }
    if (t->chat_template && !strstr(t->chat_template, CHAT_START)) {
        fa_err_set("%s: chat_template: not a ChatML template (no %s); not supported",
                   t->cfg_name ? t->cfg_name : t->name, CHAT_START);
        return -1;
    }
    if (!sys)
        sys = default_system(t, &slen);
    rc = sys ? chat_turn(&e, start, end, "system", sys, slen) : 0;
    if (rc == 0)
        rc = chat_turn(&e, start, end, "user", user, user ? strlen(user) : 0);
    if (rc == 0 && gen)
        rc = chat_turn(&e, start, -1, "assistant", NULL, 0);
    enc_done(&e);
    if (rc < 0) {
        free(e.ids);
        return -1;
    }
    *ids = e.ids;
    *n = e.n;
    return 0;
}
