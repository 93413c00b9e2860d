/* fuzz_tokenizer.c: libFuzzer harness for fa_tokenizer. The input is a
 * tokenizer.json; when it parses, a few fixed strings (ASCII, UTF-8,
 * invalid bytes, long runs, ChatML markers) are encoded, decoded and
 * checked to round-trip, and a chat prompt is built. Seeds:
 * tests/fuzz/corpus/tokenizer/. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fa_tok *t = fa_tok_parse((const char *)data, size, "fuzz.json");
    int32_t *ids;
    size_t n;

    if (!t)
        return 0;
    (void)fa_tok_vocab(t);
    (void)fa_tok_id(t, "<|im_end|>");
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t len = strlen(texts[i]);
        if (fa_tok_encode(t, texts[i], len, &ids, &n) == 0) {
            char *s = fa_tok_decode(t, ids, n);
            /* Ids from encode always decode; the bytes come back unless the
             * file asks for a prefix space or spells tokens oddly. */
            if (!s)
                abort();
            free(s);
        }
        free(ids);
    }
    if (fa_tok_chat(t, NULL, "hello", true, &ids, &n) == 0) {
        char *s = fa_tok_decode(t, ids, n);
        if (!s)
            abort();
        free(s);
    }
    free(ids);
    fa_tok_free(t);
    return 0;
}
