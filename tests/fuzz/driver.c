/* driver.c: runs a fuzz harness without libFuzzer, so make check replays
 * every seed and regression input with the ordinary compilers (plain and
 * under ASan/UBSan). Linked with one tests/fuzz/fuzz_NAME.c it becomes
 * test_fuzz_NAME, a TAP program:
 *
 *   test_fuzz_NAME [FILE|DIR]...
 *
 * feeds each FILE, and each regular file in each DIR, once to
 * LLVMFuzzerTestOneInput. Without arguments it runs tests/fuzz/corpus/NAME
 * and tests/fuzz/regress/NAME under $FA_ROOT (else the current directory);
 * the corpus must exist, a missing regress directory counts as empty. One "ok" per argument; a
 * crash is the sanitizer's report and a non-zero exit, which tests/run counts as a failure. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness, as with libFuzzer. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int tests, failed;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, k;

    if (!f)
        return -1;
    do {
        if (cap - len < 65536) {
            uint8_t *nb = realloc(buf, cap = cap * 2 + 65536);
            if (!nb) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        k = fread(buf + len, 1, cap - len, f);
        len += k;
    } while (k > 0);
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    /* an exact-size copy, so ASan sees any read past the input's end */
    uint8_t *in = malloc(len ? len : 1);
    if (!in) {
        free(buf);
        return -1;
    }
    if (len)
        memcpy(in, buf, len);
    free(buf);
    fprintf(stderr, "# %s\n", path);
    LLVMFuzzerTestOneInput(in, len);
    free(in);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs path (a file or a directory of files); returns the inputs run, or
 * -1 after printing why. */
static long run_path(const char *path, int missing_ok)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    long runs = 0;

    if (stat(path, &st) != 0) {
        if (missing_ok && errno == ENOENT)
            return 0;
        fprintf(stderr, "# cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path) == 0 ? 1 : -1;
    if (!(d = opendir(path))) {
        fprintf(stderr, "# cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        char *p;
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **nn = realloc(names, (cap = cap * 2 + 64) * sizeof *names);
            if (!nn)
                abort();
            names = nn;
        }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        if (!(p = malloc(len)))
            abort();
        snprintf(p, len, "%s/%s", path, e->d_name);
        names[n++] = p;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(names[i]) != 0) {
                fprintf(stderr, "# cannot read '%s'\n", names[i]);
                runs = -1;
            } else if (runs >= 0)
                runs++;
        }
        free(names[i]);
    }
    free(names);
    return runs;
}

static void check(const char *label, const char *path, int missing_ok)
{
    long runs = run_path(path, missing_ok);

    tests++;
    if (runs < 0)
        failed++;
    printf("%sok %d - %s: %ld inputs\n", runs < 0 ? "not " : "", tests, label, runs < 0 ? 0 : runs);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/'), *name, *root = getenv("FA_ROOT");
    char path[4096];

    base = base ? base + 1 : argv[0];
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    name = strncmp(base, "test_fuzz_", 10) == 0 ? base + 10 : base;
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            check(argv[i], argv[i], 0);
    } else {
        static const char *const kinds[] = {"corpus", "regress"};
        for (int k = 0; k < 2; k++) {
            char label[512];
            snprintf(path, sizeof path, "%s/tests/fuzz/%s/%s", root && *root ? root : ".", kinds[k],
                     name);
            snprintf(label, sizeof label, "fuzz %s/%s", kinds[k], name);
            check(label, path, k == 1); /* every harness has seeds */
        }
    }
    printf("1..%d\n", tests);
    return failed ? 1 : 0;
}
