/* fuzz_safetensors.c: libFuzzer harness for the safetensors header parser.
 * Any input must be either rejected with a message or accepted with every
 * tensor's bytes inside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fa_safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fa_st *f = fa_st_parse_header(data, size, "fuzz");
    if (!f)
        return 0;
    for (size_t i = 0; i < fa_st_count(f); i++) {
        const struct fa_st_tensor *t = fa_st_at(f, i);
        const uint8_t *p = t->data;
        if (p < data || p + t->nbytes > data + size || fa_st_find(f, t->name) != t)
            abort();
        volatile uint8_t sink = 0;
        if (t->nbytes)
            sink ^= p[0] ^ p[t->nbytes - 1];
        (void)sink;
    }
    fa_st_close(f);
    return 0;
}
