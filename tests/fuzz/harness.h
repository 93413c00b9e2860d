/* harness.h: what fa's fuzz harnesses share. Each tests/fuzz/fuzz_NAME.c
 * defines LLVMFuzzerTestOneInput and nothing else global (everything here
 * is static), so it links with libFuzzer's main (make fuzz) or with
 * driver.c (make check runs every corpus and regression input once).
 *
 * Parsers that read only files get the input written to a scratch
 * directory made once per process (in /dev/shm when there is one: fuzzing
 * writes a file per run) and removed at exit. */
#ifndef FA_FUZZ_HARNESS_H
#define FA_FUZZ_HARNESS_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fa_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_scratch[256];

static inline void fz_cleanup(void)
{
    DIR *d;
    struct dirent *e;
    char p[512];

    if (!fz_scratch[0] || !(d = opendir(fz_scratch)))
        return;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(p, sizeof p, "%s/%s", fz_scratch, e->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(fz_scratch);
}

/* Quiet messages (fa_warn) and make the scratch directory; once. */
static inline const char *fz_init(void)
{
    const char *t = getenv("TMPDIR");

    if (fz_scratch[0])
        return fz_scratch;
    fa_verbosity = 0;
    if (access("/dev/shm", W_OK) == 0)
        t = "/dev/shm";
    else if (!t || !*t)
        t = "/tmp";
    snprintf(fz_scratch, sizeof fz_scratch, "%s/fa-fuzz.XXXXXX", t);
    if (!mkdtemp(fz_scratch)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(fz_cleanup);
    return fz_scratch;
}

/* Writes n bytes to the scratch file name; returns path, which it fills
 * with the file's path. */
static inline const char *fz_file(char path[512], const char *name, const void *data, size_t n)
{
    int fd;

    snprintf(path, 512, "%s/%s", fz_init(), name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (n && write(fd, data, n) != (ssize_t)n) || close(fd) != 0) {
        perror("fuzz: write scratch file");
        abort();
    }
    return path;
}

/* A NUL-terminated copy of the input (parsers of C strings). */
static inline char *fz_str(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A read-only stream over the input (fmemopen refuses zero bytes:
 * /dev/null then). NULL on failure. */
static inline FILE *fz_stream(const uint8_t *data, size_t size)
{
    if (size == 0)
        return fopen("/dev/null", "rb");
    return fmemopen((void *)(uintptr_t)data, size, "rb");
}

/* Splits the input at the next separator line "\n--fa-fuzz--\n" (how the
 * harnesses that need several files take them): part and plen get the bytes
 * before it; data/size move past it. Without one, the rest is the part. */
static inline void fz_split(const uint8_t **data, size_t *size, const uint8_t **part, size_t *plen)
{
    static const char sep[] = "\n--fa-fuzz--\n";
    const size_t k = sizeof sep - 1;
    const uint8_t *p = *size >= k ? memmem(*data, *size, sep, k) : NULL;

    *part = *data;
    if (!p) {
        *plen = *size;
        *data += *size;
        *size = 0;
        return;
    }
    *plen = (size_t)(p - *data);
    *size -= *plen + k;
    *data = p + k;
}

#ifdef FA_PROVIDER_H
static inline int fz_emit_one(struct json_object *rec, void *ud)
{
    (void)ud;
    (void)json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN);
    json_object_put(rec);
    return 0;
}

static inline void fz_span(int day, int *lo, int *hi, int *any)
{
    if (!*any || day < *lo)
        *lo = day;
    if (!*any || day > *hi)
        *hi = day;
    *any = 1;
}

/* Sorts what a provider loader gathered and prints every record (to
 * nowhere) as fa-fetch would, the first half of the bars as look-back,
 * then frees it. */
static inline void fz_provider_emit(struct fa_provider_data *d, const char *symbol)
{
    struct fa_provider_window w = {.lookback = 3, .cal = FA_CAL_NYSE};
    int lo = 0, hi = 0, any = 0;

    for (size_t i = 0; i < d->nbars; i++)
        fz_span(d->bars[i].day, &lo, &hi, &any);
    for (size_t i = 0; i < d->nnews; i++)
        fz_span(d->news[i].day, &lo, &hi, &any);
    for (size_t i = 0; i < d->nguidance; i++)
        fz_span(d->guidance[i].day, &lo, &hi, &any);
    if (any && fa_provider_sort(d, "<fuzz>") == 0) {
        w.from = d->nbars ? d->bars[d->nbars / 2].day : lo;
        w.to = hi < INT_MAX - 8 ? hi + 7 : hi;
        (void)fa_provider_emit(d, symbol, &w, fz_emit_one, NULL);
    }
    fa_provider_data_free(d);
}
#endif

#endif
