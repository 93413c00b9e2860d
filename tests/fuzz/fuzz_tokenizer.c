/* fuzz_tokenizer.c: libFuzzer harness for fa_tokenizer. The input is a
 * tokenizer.json; when it parses, a few fixed strings (ASCII, UTF-8,
 * invalid bytes, long runs, ChatML markers) are encoded and decoded and a
 * chat prompt is built. The input is also encoded as text by a built-in
 * byte-level tokenizer (all 256 bytes, a few merges, ChatML markers), and
 * must decode to itself byte for byte. Seeds: tests/fuzz/corpus/tokenizer/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_tokenizer.h"
#include "fa_banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const texts[] = {
    "The company's revenue rose 12.5% in 2024!",
    "  a\n\n\tb  <|im_start|>user\nhi<|im_end|>\n",
    "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xd9\xa3 \xc2\xbd",
    "\xff\xc3 a\x80 \xed\xa0\x80 \xf0\x9f\x98",
    ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
    "'s 'll I'm x'd                                                              y",
};

/* The built-in tokenizer: GPT-2's byte-to-unicode table spelt out. */
static struct fa_tok *builtin(void)
{
    static struct fa_tok *t;
    static const char *const merges[] = {
        "\u0120 t",      "h e", "\u0120 a",      "i n",
        "\u0120t he",    "e r", "\u0120 \u0120", "\u0120\u0120 \u0120\u0120",
        "\u010a \u010a", "r e"};
    char *json;
    size_t cap = 1 << 16, len = 0;
    int n = 0;

    if (t)
        return t;
    json = malloc(cap);
    len += (size_t)snprintf(json + len, cap - len,
                            "{\"added_tokens\": [{\"id\": 0, \"content\": \"<|im_start|>\", "
                            "\"normalized\": false}, {\"id\": 1, \"content\": \"<|im_end|>\", "
                            "\"normalized\": false}], \"pre_tokenizer\": {\"type\": \"Sequence\", "
                            "\"pretokenizers\": [{\"type\": \"Digits\", \"individual_digits\": "
                            "true}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false}]}, "
                            "\"model\": {\"type\": \"BPE\", \"vocab\": {\"<|im_start|>\": 0, "
                            "\"<|im_end|>\": 1");
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        int cp = printable ? b : 256 + n++;
        len += (size_t)snprintf(json + len, cap - len, ", \"\\u%04x\": %d", cp, 2 + b);
    }
    len += (size_t)snprintf(json + len, cap - len,
                            ", \"\\u0120t\": 258, \"he\": 259, \"\\u0120a\": 260, \"in\": 261, "
                            "\"\\u0120the\": 262, \"er\": 263, \"\\u0120\\u0120\": 264, "
                            "\"\\u0120\\u0120\\u0120\\u0120\": 265, \"\\u010a\\u010a\": 266, "
                            "\"re\": 267}, \"merges\": [");
    for (size_t i = 0; i < sizeof merges / sizeof merges[0]; i++)
        len += (size_t)snprintf(json + len, cap - len, "%s\"%s\"", i ? ", " : "", merges[i]);
    len += (size_t)snprintf(json + len, cap - len, "]}}");
    t = fa_tok_parse(json, len, "builtin.json");
    free(json);
    if (!t)
        abort();
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fa_tok *t;
    int32_t *ids;
    size_t n;
    char *s;

    if (fa_tok_encode(builtin(), (const char *)data, size, &ids, &n) < 0)
        abort();
    s = fa_tok_decode(builtin(), ids, n);
    if (!s || memcmp(s, data, size) != 0 || s[size] != 0)
        abort();
    free(s);
    free(ids);
    t = fa_tok_parse((const char *)data, size, "fuzz.json");
    if (!t)
        return 0;
    (void)fa_tok_vocab(t);
    (void)fa_tok_id(t, "<|im_end|>");
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t len = strlen(texts[i]);
        if (fa_tok_encode(t, texts[i], len, &ids, &n) == 0) {
            s = fa_tok_decode(t, ids, n);
            /* Ids from encode always decode; the bytes come back unless the
             * file asks for a prefix space or spells tokens oddly. */
            if (!s)
                abort();
            free(s);
        }
        free(ids);
    }
    if (fa_tok_chat(t, NULL, "hello", true, &ids, &n) == 0) {
        s = fa_tok_decode(t, ids, n);
        if (!s)
            abort();
        free(s);
    }
    free(ids);
    fa_tok_free(t);
    return 0;
}
