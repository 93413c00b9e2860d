/* test_tokenizer.c: fa_tokenizer against tests/lib/bpe_ref.py (an
 * independent textbook encoder) id for id, on tokenizers written by
 * tests/lib/make_tiny_tokenizer.py and variants of them (plain ByteLevel
 * with a prefix space, grouped digits, ignore_merges, [a, b] merges):
 * a few hundred strings of ASCII, UTF-8, digits, white space, contractions,
 * special tokens and invalid bytes; decode(encode(s)) == s; the chat
 * template's ids; and errors that name the file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tap.h"
#include "fa_err.h"
#include "fa_tokenizer.h"
#include "fa_banned.h"

#define PY "/usr/bin/python3"

struct text {
    char *s;
    size_t n;
};

static struct text texts[1024];
static size_t ntexts;

static void add(const char *s, size_t n)
{
    texts[ntexts].s = malloc(n + 1);
    memcpy(texts[ntexts].s, s, n);
    texts[ntexts].s[n] = 0;
    texts[ntexts++].n = n;
}
#define ADD(lit) add(lit, sizeof lit - 1)

static const char *const fixed[] = {
    "",
    "a",
    " ",
    "  ",
    "\n",
    "\t",
    "Hello world",
    "The company's revenue rose 12.5% in 2024!",
    "I'm sure you'll see they've said we're fine; it'd be OK, can't you?",
    "'s 't 're 've 'm 'll 'd 'S 'RE ''s '' ' x'",
    "don't DON'T rock'n'roll",
    "a  b",
    "a   b",
    "a \n b",
    "   leading spaces",
    "trailing spaces   ",
    "\n\n\nnewlines\n\n",
    "windows\r\nline\r\nends\r\n",
    "\t\ttabs\tand\t spaces \t",
    "x\xc2\xa0y",          /* NBSP: white space */
    "\xe3\x80\x80wide",    /* ideographic space */
    "line\xe2\x80\xa8sep", /* U+2028 */
    "\x1c\x1d\x1e\x1f are not white space",
    "1234567890",
    "3.14159 2.71828",
    "1,000,000.00",
    "x1y2z3",
    " 42",
    "  42  ",
    "\xd9\xa3\xd9\xa4\xd9\xa5",       /* Arabic-Indic digits */
    "\xc2\xbd \xc2\xb2 \xe2\x85\xab", /* one half, superscript two, Roman twelve */
    "caf\xc3\xa9 na\xc3\xafve Z\xc3\xbcrich",
    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83"
    "\x88",
    "\xe4\xb8\xad\xe6\x96\x87 \xed\x95\x9c\xea\xb5\xad\xec\x96\xb4",
    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80",
    "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7",
    "emoji \xf0\x9f\x98\x80\xf0\x9f\x9a\x80 \xf0\x9f\x92\xb9!",
    "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7",
    "e\xcc\x81t\xc3\xa9", /* combining acute */
    "<|im_start|>user\nhi<|im_end|>\n",
    "a<|endoftext|>b",
    "<|im_start|><|im_end|>",
    "<|im_start",
    "<|im_end|>|>",
    " <|endoftext|> ",
    "<<|im_end|>",
    "$AAPL +3.2% (vs. -1.1%) -- P/E 24x; EPS: $1.48",
    "https://example.com/path?q=1&r=2#frag",
    "C:\\Users\\fa\\file.txt",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
    "    def f(x):\n        return x  # comment\n",
};

static const char *const frags[] = {
    "the",
    " market",
    " rose",
    "Shares",
    " fell",
    "'s",
    "'ll",
    "'t",
    " ",
    "  ",
    "   ",
    "\n",
    "\n\n",
    "\t",
    "\r\n",
    "0",
    "7",
    "42",
    "2024",
    "3.5",
    "%",
    "$",
    ".",
    ",",
    "!?",
    "...",
    "--",
    "(",
    ")",
    "caf\xc3\xa9",
    "\xe6\x97\xa5\xe6\x9c\xac",
    "\xf0\x9f\x98\x80",
    "\xc2\xa0",
    "\xe3\x80\x80",
    "<|im_start|>",
    "<|im_end|>",
    "<|endoftext|>",
    "\xff",
    "\x80",
    "\xc3",
    "\xe2\x82",
    "\xed\xa0\x80",
    "\xf4\x90\x80\x80",
    "\xc0\xaf",
    "\xf0\x9f\x98",
    "\x00",
    "\xd9\xa3",
    "\xc2\xbd",
    "'",
    "''",
    "I",
    "x",
    " y",
    "Z\xc3\xbc",
    "\xcc\x81",
    "\x1f",
};

static void build_texts(void)
{
    uint64_t x = 88172645463325252ULL;
    char buf[400];

    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        add(fixed[i], strlen(fixed[i]));
    /* Invalid UTF-8 and NUL: byte strings. */
    ADD("\xff");
    ADD("\xc3");
    ADD("a\x80"
        "b");
    ADD("\xe2\x82"
        "A");
    ADD("\xed\xa0\x80");
    ADD("\xf4\x90\x80\x80");
    ADD("\xc0\xaf overlong");
    ADD("\xf0\x9f\x98 truncated emoji");
    ADD("nul\0inside");
    ADD("\xfe\xfe\xfe  \xfe");
    /* Long pieces: these take the priority-queue path. */
    memset(buf, 'a', 300);
    add(buf, 300);
    memset(buf, ' ', 200);
    buf[200] = 'x';
    add(buf, 201);
    for (int i = 0; i < 150; i++)
        buf[i] = (char)('0' + i % 10);
    add(buf, 150);
    memset(buf, '-', 250);
    add(buf, 250);
    for (int i = 0; i < 120; i++)
        memcpy(buf + 2 * i, "an", 2);
    add(buf, 240);
    for (int i = 0; i < 100; i++)
        memcpy(buf + 3 * i, "\xe2\x82\xac", 3);
    add(buf, 300);
    memset(buf, '\n', 130);
    add(buf, 130);
    /* Random mixtures of fragments (xorshift64, fixed seed). */
    while (ntexts < 420) {
        size_t n = 0, k;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        k = 1 + x % 12;
        for (size_t j = 0; j < k; j++) {
            const char *f;
            size_t fl;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            f = frags[x % (sizeof frags / sizeof frags[0])];
            fl = f[0] ? strlen(f) : 1; /* "\x00" is one NUL byte */
            memcpy(buf + n, f, fl);
            n += fl;
        }
        add(buf, n);
    }
}

static const char *root(void)
{
    const char *r = getenv("FA_ROOT");
    return r ? r : ".";
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

static int have_hf; /* node and the npm package "tokenizers" are there */

/* Runs a reference on the texts and returns its lines: bpe_ref.py, or with
 * hf the Hugging Face library itself through tests/lib/hf_ref.js. */
static char **reference(const char *tokjson, const char *dir, size_t n, int hf)
{
    char in[512], out[512], cmd[2048], line[65536];
    char **res = calloc(n, sizeof *res);
    FILE *f;
    size_t i = 0;

    snprintf(in, sizeof in, "%s/in.hex", dir);
    snprintf(out, sizeof out, "%s/out.txt", dir);
    f = fopen(in, "w");
    for (size_t t = 0; t < n; t++) {
        for (size_t b = 0; b < texts[t].n; b++)
            fprintf(f, "%02x", (unsigned char)texts[t].s[b]);
        fputc('\n', f);
    }
    fclose(f);
    if (hf)
        snprintf(cmd, sizeof cmd, "node '%s/tests/lib/hf_ref.js' '%s' < '%s' > '%s'", root(),
                 tokjson, in, out);
    else
        snprintf(cmd, sizeof cmd, PY " '%s/tests/lib/bpe_ref.py' '%s' < '%s' > '%s'", root(),
                 tokjson, in, out);
    if (run(cmd) < 0) {
        free(res);
        return NULL;
    }
    f = fopen(out, "r");
    while (i < n && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        res[i++] = strdup(line);
    }
    fclose(f);
    return res;
}

static char *ids_str(const int32_t *ids, size_t n)
{
    size_t cap = 16 + 12 * n, len = 0;
    char *s = malloc(cap);

    s[0] = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%d", i ? " " : "", ids[i]);
    return s;
}

/* Compares fa with the reference on every text; round-trips each. */
static void compare(const char *label, const char *dir)
{
    char path[1024];
    struct fa_tok *t;
    char **ref;
    size_t bad = 0, badrt = 0;

    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    t = fa_tok_open(dir);
    if (!ok(t != NULL, "%s: opens", label)) {
        printf("#   %s\n", fa_err_get());
        return;
    }
    ref = reference(path, dir, ntexts, 0);
    if (!ok(ref != NULL, "%s: the Python reference runs", label))
        goto out;
    for (size_t i = 0; i < ntexts; i++) {
        int32_t *ids;
        size_t n;
        char *got, *dec;
        if (fa_tok_encode(t, texts[i].s, texts[i].n, &ids, &n) < 0) {
            printf("#   text %zu: %s\n", i, fa_err_get());
            bad++;
            continue;
        }
        got = ids_str(ids, n);
        if (!ref[i] || strcmp(got, ref[i]) != 0) {
            if (bad++ < 5)
                printf("#   text %zu (%zu bytes): fa  '%s'\n#   %*s ref '%s'\n", i, texts[i].n, got,
                       (int)(9 + i / 10), "", ref[i] ? ref[i] : "(none)");
        }
        dec = fa_tok_decode(t, ids, n);
        if (!dec || memcmp(dec, texts[i].s, texts[i].n) != 0 || dec[texts[i].n] != 0)
            badrt++;
        free(dec);
        free(got);
        free(ids);
    }
    ok(bad == 0, "%s: %zu texts id for id as the reference (%zu differ)", label, ntexts, bad);
    if (have_hf) {
        char **hf = reference(path, dir, ntexts, 1);
        size_t same = 0, diff = 0;
        for (size_t i = 0; hf && i < ntexts; i++) {
            int32_t *ids;
            size_t n;
            char *got;
            if (!hf[i] || strcmp(hf[i], "SKIP") == 0 ||
                fa_tok_encode(t, texts[i].s, texts[i].n, &ids, &n) < 0)
                continue;
            got = ids_str(ids, n);
            if (strcmp(got, hf[i]) == 0)
                same++;
            else if (diff++ < 3)
                printf("#   text %zu: fa '%s'\n#   hf '%s'\n", i, got, hf[i]);
            free(got);
            free(ids);
        }
        ok(hf && diff == 0 && same > 0,
           "%s: the tokenizers library agrees on all %zu valid UTF-8 texts (%zu differ)", label,
           same + diff, diff);
        for (size_t i = 0; hf && i < ntexts; i++)
            free(hf[i]);
        free(hf);
    }
    if (strstr(label, "prefix"))
        ok(1, "%s: round trip not expected with add_prefix_space", label);
    else
        ok(badrt == 0, "%s: decode(encode(s)) == s for all (%zu differ)", label, badrt);
    for (size_t i = 0; i < ntexts; i++)
        free(ref[i]);
    free(ref);
out:
    fa_tok_free(t);
}

/* Rewrites dir/tokenizer.json into outdir with one change. */
static void variant(const char *dir, const char *outdir, const char *what)
{
    char path[1024], cmd[1200];
    json_object *root, *model, *pre;

    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    root = json_object_from_file(path);
    json_object_object_get_ex(root, "model", &model);
    if (strcmp(what, "prefix") == 0) {
        pre = json_object_new_object();
        json_object_object_add(pre, "type", json_object_new_string("ByteLevel"));
        json_object_object_add(pre, "add_prefix_space", json_object_new_boolean(1));
        json_object_object_add(pre, "trim_offsets", json_object_new_boolean(1));
        json_object_object_add(pre, "use_regex", json_object_new_boolean(1));
        json_object_object_add(root, "pre_tokenizer", pre);
    } else if (strcmp(what, "digits") == 0) {
        json_object *seq, *d;
        json_object_object_get_ex(root, "pre_tokenizer", &pre);
        json_object_object_get_ex(pre, "pretokenizers", &seq);
        d = json_object_array_get_idx(seq, 0);
        json_object_object_add(d, "individual_digits", json_object_new_boolean(0));
    } else if (strcmp(what, "ignore") == 0) {
        json_object_object_add(model, "ignore_merges", json_object_new_boolean(1));
    } else if (strcmp(what, "added") == 0) {
        /* Overlapping added tokens, normalized ones (matched after the
         * others, in what is left) and one across a digit boundary. */
        static const struct {
            const char *s;
            int normalized;
        } extra[] = {{" market", 1}, {"<|im", 0}, {"rose 1", 1}, {"|><", 1}, {"'s", 0}};
        json_object *list;
        json_object_object_get_ex(root, "added_tokens", &list);
        for (int i = 0; i < 5; i++) {
            json_object *a = json_object_new_object();
            json_object_object_add(a, "id", json_object_new_int(600 + i));
            json_object_object_add(a, "content", json_object_new_string(extra[i].s));
            json_object_object_add(a, "single_word", json_object_new_boolean(0));
            json_object_object_add(a, "lstrip", json_object_new_boolean(0));
            json_object_object_add(a, "rstrip", json_object_new_boolean(0));
            json_object_object_add(a, "normalized", json_object_new_boolean(extra[i].normalized));
            json_object_object_add(a, "special", json_object_new_boolean(i % 2));
            json_object_array_add(list, a);
        }
    }
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", outdir);
    run(cmd);
    snprintf(path, sizeof path, "%s/tokenizer.json", outdir);
    json_object_to_file_ext(path, root, JSON_C_TO_STRING_PLAIN);
    json_object_put(root);
}

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    fputs(s, f);
    fclose(f);
}

static int err_has(const char *a, const char *b)
{
    const char *e = fa_err_get();
    int c = strstr(e, a) && (!b || strstr(e, b));
    if (!c)
        printf("#   error: %s\n", e);
    return c;
}

static void test_errors(const char *dir)
{
    char path[1200], sub[1024];
    struct fa_tok *t;
    static const struct {
        const char *json, *want;
    } bad[] = {
        {"{", "not valid JSON"},
        {"[1, 2]", "not a JSON object"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {}}} x", "trailing data"},
        {"{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"WordPiece\", "
         "\"vocab\": {}}}",
         "model.type: 'WordPiece' is not supported"},
        {"{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", "
         "\"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, \"merges\": [\"a c\"]}}",
         "model.merges[0]: unknown token 'c'"},
        {"{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", "
         "\"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [[\"a\", \"b\"]]}}",
         "merged token 'ab' is not in the vocabulary"},
        {"{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", "
         "\"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a  b\"]}}",
         "not two tokens"},
        {"{\"normalizer\": {\"type\": \"NFC\"}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}, "
         "\"model\": {\"type\": \"BPE\", \"vocab\": {}}}",
         "normalizer: 'NFC' is not supported"},
        {"{\"post_processor\": {\"type\": \"TemplateProcessing\"}, \"pre_tokenizer\": {\"type\": "
         "\"ByteLevel\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {}}}",
         "post_processor: 'TemplateProcessing'"},
        {"{\"pre_tokenizer\": {\"type\": \"Metaspace\"}, \"model\": {\"type\": \"BPE\", "
         "\"vocab\": {}}}",
         "pre_tokenizer: type 'Metaspace' is not supported"},
        {"{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", "
         "\"vocab\": {\"a\": 0}}, \"added_tokens\": [{\"id\": 1, \"content\": \"<m>\", "
         "\"lstrip\": true}]}",
         "added_tokens[0].lstrip = true is not supported"},
        {"{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", "
         "\"vocab\": {\"a\": 0, \"b\": 0}}}",
         "id 0 is used by"},
        {"{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", "
         "\"vocab\": {\"a\": 99999999}}}",
         "id is not an integer in"},
        {"{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", "
         "\"vocab\": {}, \"byte_fallback\": true}}",
         "byte_fallback = true is not supported"},
        {"{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", "
         "\"vocab\": {}, \"dropout\": 0.1}}",
         "dropout"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}", "pre_tokenizer: missing"},
        {"{\"truncation\": {\"max_length\": 512}, \"model\": {\"type\": \"BPE\"}}",
         "truncation: not supported"},
        {"{\"decoder\": {\"type\": \"WordPiece\"}, \"model\": {\"type\": \"BPE\"}}",
         "decoder: 'WordPiece' is not supported"},
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = fa_tok_parse(bad[i].json, strlen(bad[i].json), "mem.json");
        ok(!t && err_has("mem.json", bad[i].want), "refused: %s", bad[i].want);
        fa_tok_free(t);
    }
    /* Through files: the path is in the message. */
    snprintf(sub, sizeof sub, "%s/bad", dir);
    snprintf(path, sizeof path, "mkdir -p '%s'", sub);
    run(path);
    snprintf(path, sizeof path, "%s/tokenizer.json", sub);
    write_file(path, "{\"model\": ");
    t = fa_tok_open(sub);
    ok(!t && err_has(path, "not valid JSON"), "malformed file: names it");
    write_file(path, bad[3].json);
    t = fa_tok_open(path);
    ok(!t && err_has(path, "WordPiece"), "unsupported model type: names the file");
    write_file(path, bad[4].json);
    t = fa_tok_open(sub);
    ok(!t && err_has(path, "unknown token 'c'"), "unknown merge token: names the file");
    snprintf(path, sizeof path, "%s/missing", dir);
    t = fa_tok_open(path);
    ok(!t && err_has(path, "No such file"), "missing file: names it");
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    snprintf(sub, sizeof sub, "%s/empty", dir);
    snprintf(path, sizeof path, "mkdir -p '%s'", sub);
    run(path);
    t = fa_tok_open(sub);
    ok(!t && err_has(sub, "tokenizer.json"), "directory without tokenizer.json");

    /* A byte with no token, an unknown id, no chat markers. */
    {
        const char *j = "{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": "
                        "false}, \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, "
                        "\"ab\": 2}, \"merges\": [\"a b\"]}}";
        int32_t *ids, bogus[] = {0, 7};
        size_t n;
        char *s;
        t = fa_tok_parse(j, strlen(j), "small.json");
        ok(t && fa_tok_encode(t, "abab", 4, &ids, &n) == 0 && n == 2 && ids[0] == 2 && ids[1] == 2,
           "a three-token BPE encodes");
        free(ids);
        ok(fa_tok_encode(t, "abc", 3, &ids, &n) < 0 && err_has("small.json", "byte 0x63"),
           "a byte without a token is an error");
        ok(!(s = fa_tok_decode(t, bogus, 2)) && err_has("small.json", "unknown token id 7"),
           "decode of an unknown id is an error");
        ok(fa_tok_chat(t, "s", "u", true, &ids, &n) < 0 && err_has("small.json", "<|im_start|>"),
           "chat without role markers is an error");
        ok(fa_tok_vocab(t) == 3 && fa_tok_id(t, "ab") == 2 && fa_tok_id(t, "c") == -1,
           "vocab size and ids");
        fa_tok_free(t);
    }
}

static void test_chat(const char *dir)
{
    struct fa_tok *t = fa_tok_open(dir);
    int32_t *ids, *ref;
    size_t n, nr;
    char path[1024];
    static const char *const want[3] = {
        "<|im_start|>system\nYou are a trader.<|im_end|>\n<|im_start|>user\nBuy or sell "
        "AAPL at 187.5?<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
        "Face<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n",
    };

    if (!ok(t != NULL, "chat: opens")) {
        printf("#   %s\n", fa_err_get());
        return;
    }
    ok(fa_tok_vocab(t) == 300 && fa_tok_id(t, "<|endoftext|>") == 0 &&
           fa_tok_id(t, "<|im_start|>") == 1 && fa_tok_id(t, "<|im_end|>") == 2 &&
           fa_tok_id(t, "\xc4\xa0t") >= 259 && fa_tok_id(t, "absent token") == -1,
       "vocab 300; specials 0..2; 'Ġt' is a merge");
    for (int k = 0; k < 3; k++) {
        const char *sys = k == 0 ? "You are a trader." : k == 1 ? NULL : "S";
        const char *user = k == 0 ? "Buy or sell AAPL at 187.5?" : k == 1 ? "hi" : "U";
        int rc = fa_tok_chat(t, sys, user, k < 2, &ids, &n);
        fa_tok_encode(t, want[k], strlen(want[k]), &ref, &nr);
        ok(rc == 0 && n == nr && memcmp(ids, ref, n * sizeof *ids) == 0 && ids[0] == 1,
           "chat %d: the ids of the ChatML text%s", k,
           k == 1 ? " (template's default system)" : "");
        free(ids);
        free(ref);
    }
    fa_tok_free(t);
    /* A template that is not ChatML: refused when asked for a chat. */
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    write_file(path, "{\"chat_template\": \"{{ bos_token }}{% for m in messages %}[INST] "
                     "{{ m['content'] }} [/INST]{% endfor %}\"}");
    t = fa_tok_open(dir);
    ok(t && fa_tok_chat(t, "s", "u", true, &ids, &n) < 0 &&
           err_has("tokenizer_config.json", "not a ChatML template"),
       "chat: a non-ChatML template is refused, naming the config");
    fa_tok_free(t);
    write_file(path, "{\"chat_template\": ");
    t = fa_tok_open(dir);
    ok(!t && err_has("tokenizer_config.json", "not a valid JSON"),
       "a malformed tokenizer_config.json is named");
    fa_tok_free(t);
    unlink(path);
}

int main(void)
{
    char dir[] = "/tmp/fa-test-tok.XXXXXX", cmd[2048], d300[600], d600[600], dv[600];
    int have_py;

    fa_err_init("test_tokenizer");
    build_texts();
    if (!mkdtemp(dir))
        return 1;
    snprintf(d300, sizeof d300, "%s/t300", dir);
    snprintf(d600, sizeof d600, "%s/t600", dir);
    snprintf(cmd, sizeof cmd,
             PY " '%s/tests/lib/make_tiny_tokenizer.py' '%s' && " PY
                " '%s/tests/lib/make_tiny_tokenizer.py' '%s' --vocab 600 --pair-merges",
             root(), d300, root(), d600);
    if (!ok(run(cmd) == 0, "make_tiny_tokenizer.py writes two tokenizers"))
        return tap_done();
    have_py = system(PY " -c 'import regex' 2>/dev/null") == 0;
    /* The Hugging Face library is no dependency: used when someone has it
     * (npm install tokenizers; NODE_PATH naming its node_modules). */
    have_hf = system("node -e \"require('tokenizers')\" >/dev/null 2>&1") == 0;
    if (!have_hf)
        ok(1, "# SKIP no node module 'tokenizers': not compared with the library itself");
    if (have_py) {
        compare("vocab 300", d300);
        compare("vocab 600, [a, b] merges", d600);
        snprintf(dv, sizeof dv, "%s/prefix", dir);
        variant(d600, dv, "prefix");
        compare("plain ByteLevel, add_prefix_space", dv);
        snprintf(dv, sizeof dv, "%s/digits", dir);
        variant(d600, dv, "digits");
        compare("grouped digits", dv);
        snprintf(dv, sizeof dv, "%s/added", dir);
        variant(d600, dv, "added");
        compare("more added tokens, normalized and overlapping", dv);
        snprintf(dv, sizeof dv, "%s/ignore", dir);
        variant(d300, dv, "ignore");
        compare("ignore_merges", dv);
    } else {
        ok(1, "# SKIP python3-regex missing (make deps installs it): no reference comparison");
    }
    test_chat(d300);
    test_errors(dir);
    for (size_t i = 0; i < ntexts; i++)
        free(texts[i].s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (getenv("FA_TEST_KEEP"))
        printf("# kept %s\n", dir);
    else
        run(cmd);
    return tap_done();
}
