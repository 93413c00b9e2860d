/* tok-bench.c: fa_tokenizer's speed. Loads DIR's tokenizer.json, then
 * encodes every line of TEXT (one document per line) REPS times and
 * decodes the ids, and times one chat prompt of about 300 tokens.
 *
 *   tok-bench DIR TEXT [REPS]
 *
 * Prints "bench: <name> <value> <unit>" lines. Times are the thread's CPU
 * time (the machine is shared; wall time there mostly measures the other
 * tenants), with the load's wall time too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fa_err.h"
#include "fa_tokenizer.h"
#include "fa_banned.h"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    struct fa_tok *t;
    FILE *f;
    char *text = NULL, **lines = NULL, *prompt;
    size_t len = 0, cap = 0, nl = 0, bytes = 0, ntok = 0;
    int reps = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;
    double t0, w0, tload, wload, tenc = 1e30, tdec = 1e30, lat[501];
    char buf[1 << 16];
    size_t got;

    fa_err_init(argv[0]);
    if (argc < 3) {
        fprintf(stderr, "usage: tok-bench DIR TEXT [REPS]\n");
        return 2;
    }
    t0 = now();
    w0 = wall();
    if (!(t = fa_tok_open(argv[1])))
        fa_die_err(1);
    tload = now() - t0;
    wload = wall() - w0;
    if (!(f = fopen(argv[2], "rb")))
        fa_die(1, "cannot open '%s'", argv[2]);
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = 2 * (len + got + 1);
            text = realloc(text, cap);
        }
        memcpy(text + len, buf, got);
        len += got;
    }
    fclose(f);
    text[len] = 0;
    for (char *p = text, *e; *p; p = e + 1) {
        if (!(e = strchr(p, '\n')))
            e = p + strlen(p);
        lines = realloc(lines, (nl + 1) * sizeof *lines);
        lines[nl++] = p;
        bytes += (size_t)(e - p);
        if (!*e)
            break;
        *e = 0;
    }
    for (int r = 0; r < reps; r++) {
        double te = 0, td = 0;
        ntok = 0;
        for (size_t i = 0; i < nl; i++) {
            int32_t *ids;
            size_t n;
            char *s;
            double a = now(), b;
            if (fa_tok_encode(t, lines[i], strlen(lines[i]), &ids, &n) < 0)
                fa_die_err(1);
            b = now();
            s = fa_tok_decode(t, ids, n);
            td += now() - b;
            te += b - a;
            if (!s || strcmp(s, lines[i]) != 0)
                fa_die(1, "line %zu does not round-trip", i + 1);
            ntok += n;
            free(s);
            free(ids);
        }
        tenc = te < tenc ? te : tenc;
        tdec = td < tdec ? td : tdec;
    }
    /* A chat prompt of about 300 tokens: the first lines' text. */
    prompt = strndup(lines[0], 1200);
    for (int i = 0; i < 501; i++) {
        int32_t *ids;
        size_t n;
        double a = now();
        if (fa_tok_chat(t, "You are a trading agent.", prompt, true, &ids, &n) < 0)
            fa_die_err(1);
        lat[i] = now() - a;
        if (i == 0)
            printf("bench: tokenizer-chat-prompt-tokens %zu tokens\n", n);
        free(ids);
    }
    qsort(lat, 501, sizeof *lat, cmp_d);
    printf("bench: tokenizer-vocab %zu tokens\n", fa_tok_vocab(t));
    printf("bench: tokenizer-load %.1f ms (CPU; %.1f ms wall)\n", tload * 1e3, wload * 1e3);
    printf("bench: tokenizer-chat-prompt-encode %.1f us (median of 501)\n", lat[250] * 1e6);
    printf("bench: tokenizer-encode %.1f MB/s (%zu bytes, %zu lines, %zu tokens, best of %d)\n",
           (double)bytes / tenc / 1e6, bytes, nl, ntok, reps);
    printf("bench: tokenizer-encode-tokens %.2f Mtokens/s\n", (double)ntok / tenc / 1e6);
    printf("bench: tokenizer-decode %.1f MB/s\n", (double)bytes / tdec / 1e6);
    free(prompt);
    free(lines);
    free(text);
    fa_tok_free(t);
    return 0;
}
