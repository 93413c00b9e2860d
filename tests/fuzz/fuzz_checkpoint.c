/* fuzz_checkpoint.c: fa-policy's weight files (weights.bin of a
 * checkpoint, "FANN0001"): read, and when accepted, one forward pass, a
 * softmax and a write back that must give the same bytes. */
#include "fa_nn.h"
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fz_stream(data, size);
    struct fa_nn *nn;

    fz_init();
    if (!f)
        return 0;
    nn = fa_nn_read(f, "<fuzz>");
    fclose(f);
    if (nn) {
        int in = fa_nn_in_dim(nn);
        double *x = calloc((size_t)in + 1, sizeof *x), logits[8], p[8], logp[8], value;
        char *back = NULL;
        size_t blen = 0;
        FILE *w = open_memstream(&back, &blen);

        if (x) {
            fa_nn_forward(nn, x, logits, &value);
            (void)fa_nn_softmax(logits, 7u, p, logp);
        }
        if (w && fa_nn_write(nn, w, "<back>") == 0 && fflush(w) == 0 &&
            (blen != size || memcmp(back, data, size) != 0))
            abort(); /* an accepted file must round-trip */
        if (w)
            fclose(w);
        free(back);
        free(x);
        fa_nn_free(nn);
    }
    return 0;
}
