/* test_store.c: the memory store: append, reopen, dedup by id, model and
 * dimension checks, crash recovery at many truncation points (torn tails
 * and stores cut from outside), compact (f16, int8) stores and their
 * recovery, and two processes appending at once. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fa_date.h"
#include "fa_err.h"
#include "fa_record.h"
#include "fa_simd.h"
#include "fa_store.h"
#include "tap.h"
#include "fa_banned.h"

#define DIM 5

static char base[256];

/* The vector of record number n: easy to check after a reopen. */
static void vec_of(long n, float v[DIM])
{
    for (int i = 0; i < DIM; i++)
        v[i] = (float)n + (float)i * 0.25f;
}

static struct json_object *rec_of(long n)
{
    char date[16], text[64];
    snprintf(date, sizeof date, "2024-01-%02ld", 1 + n % 28);
    struct json_object *r = fa_record_new("news", "AAPL", date);
    /* lines of varying length */
    snprintf(text, sizeof text, "item %ld %.*s", n, (int)(n % 23), "xxxxxxxxxxxxxxxxxxxxxxxxx");
    fa_record_set_str(r, "text", text);
    fa_record_set_int(r, "n", n);
    fa_record_set_id(r);
    return r;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void spit(const char *path, const char *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
}

/* Every row r < count holds record n = r (vector and record). */
static bool rows_intact(const char *dir, size_t want_count)
{
    struct fa_store *s = fa_store_open(dir, FA_STORE_READ, "m", DIM);
    if (!s) {
        printf("# %s\n", fa_err_get());
        return false;
    }
    bool good = fa_store_count(s) == want_count;
    if (!good)
        printf("# count %zu, want %zu\n", fa_store_count(s), want_count);
    const float *rows = fa_store_rows(s);
    for (size_t r = 0; good && r < want_count; r++) {
        float v[DIM];
        vec_of((long)r, v);
        struct json_object *o = fa_store_record(s, r);
        double n = -1;
        good = o && fa_record_num(o, "n", &n) == 0 && n == (double)r &&
               memcmp(rows + r * DIM, v, sizeof v) == 0;
        if (!good)
            printf("# row %zu differs\n", r);
        json_object_put(o);
    }
    fa_store_close(s);
    return good;
}

int main(void)
{
    char dir[300], path[400];
    fa_err_init("test_store");
    fa_verbosity = 0; /* recovery warnings are expected here */
    snprintf(base, sizeof base, "%s/fa-store-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(base))
        return 1;

    /* A missing store */
    snprintf(dir, sizeof dir, "%s/none", base);
    errno = 0;
    ok(fa_store_open(dir, FA_STORE_READ, NULL, 0) == NULL && errno == ENOENT,
       "reading a missing store: NULL, ENOENT");
    ok(fa_store_open(dir, FA_STORE_WRITE, NULL, 0) == NULL, "a new store needs model and dim");

    /* Append, dedup, reopen */
    snprintf(dir, sizeof dir, "%s/s1", base);
    struct fa_store *s = fa_store_open(dir, FA_STORE_WRITE, "m", DIM);
    ok(s != NULL, "create a store");
    int added = 0, dups = 0;
    for (long n = 0; n < 30; n++) {
        float v[DIM];
        vec_of(n, v);
        struct json_object *r = rec_of(n);
        added += fa_store_add(s, r, v) == 1;
        dups += fa_store_add(s, r, v) == 0; /* the same id again, pending */
        json_object_put(r);
        if (n == 9)
            ok(fa_store_commit(s) == 10, "commit 10 rows");
    }
    ok(added == 30 && dups == 30, "30 added, 30 duplicates ignored while pending");
    ok(fa_store_commit(s) == 20 && fa_store_count(s) == 30, "commit 20 more");
    {
        float v[DIM];
        vec_of(3, v);
        struct json_object *r = rec_of(3);
        ok(fa_store_add(s, r, v) == 0, "a committed id is not stored twice");
        v[2] = NAN;
        json_object_put(r);
        r = rec_of(99);
        ok(fa_store_add(s, r, v) < 0 && strstr(fa_err_get(), "non-finite"),
           "a non-finite vector is refused");
        json_object_put(r);
    }
    ok(fa_store_close(s) == 0, "close");
    ok(rows_intact(dir, 30), "reopen: 30 rows, vectors and records in order");
    s = fa_store_open(dir, FA_STORE_READ, NULL, 0);
    ok(s && fa_store_dim(s) == DIM && strcmp(fa_store_model(s), "m") == 0,
       "model and dimension read back");
    {
        struct json_object *r = rec_of(7);
        int day = 0;
        ok(fa_store_has_id(s, fa_record_str(r, "id")) && !fa_store_has_id(s, "00ff"),
           "has_id knows stored ids");
        ok(fa_date_parse("2024-01-08", &day) == 0 && fa_store_days(s)[7] == day,
           "per-row asof day");
        json_object_put(r);
    }
    fa_store_close(s);
    ok(fa_store_open(dir, FA_STORE_READ, "other", DIM) == NULL && strstr(fa_err_get(), "model 'm'"),
       "another model is refused");
    ok(fa_store_open(dir, FA_STORE_WRITE, "m", DIM + 1) == NULL, "another dimension is refused");
    /* A record without id gets its content id in the stored copy. */
    s = fa_store_open(dir, FA_STORE_WRITE, "m", DIM);
    {
        struct json_object *r = fa_record_new("query", "X", "2024-02-01");
        float v[DIM] = {1, 2, 3, 4, 5};
        ok(fa_store_add(s, r, v) == 1 && fa_store_add(s, r, v) == 0 &&
               fa_record_str(r, "id") == NULL,
           "no id: content id used, the caller's record unchanged");
        ok(fa_store_commit(s) == 1, "committed");
        json_object_put(r);
    }
    fa_store_close(s);

    /* Crash recovery. A store of 40 committed rows is the reference. */
    snprintf(dir, sizeof dir, "%s/s2", base);
    s = fa_store_open(dir, FA_STORE_WRITE, "m", DIM);
    for (long n = 0; n < 40; n++) {
        float v[DIM];
        vec_of(n, v);
        struct json_object *r = rec_of(n);
        if (fa_store_add(s, r, v) != 1)
            return 1;
        json_object_put(r);
    }
    if (fa_store_commit(s) != 40)
        return 1;
    fa_store_close(s);
    const char *files[3] = {"vectors.f32", "records.ndjson", "rows.idx"};
    char *full[3];
    size_t flen[3];
    for (int f = 0; f < 3; f++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[f]);
        full[f] = slurp(path, &flen[f]);
    }
    /* line ends of the records, to know how many whole lines a cut keeps */
    size_t ends[40], ne = 0;
    for (size_t i = 0; i < flen[1] && ne < 40; i++)
        if (full[1][i] == '\n')
            ends[ne++] = i + 1;
    /* (a) torn tails: header says 25, the files hold more, cut anywhere */
    int torn_ok = 0, torn_n = 0;
    unsigned seed = 12345;
    for (int t = 0; t < 60; t++) {
        size_t cut[3];
        char *v = malloc(flen[0]);
        memcpy(v, full[0], flen[0]);
        v[24] = 25; /* count, little-endian */
        seed = seed * 1103515245u + 12345u;
        size_t committed[3] = {FA_STORE_HEADER + 25 * DIM * 4, ends[24], 25 * FA_STORE_IDX_ENTRY};
        for (int f = 0; f < 3; f++) {
            seed = seed * 1103515245u + 12345u;
            cut[f] = committed[f] + (seed >> 8) % (flen[f] - committed[f] + 1);
        }
        snprintf(path, sizeof path, "%s/%s", dir, files[0]);
        spit(path, v, cut[0]);
        for (int f = 1; f < 3; f++) {
            snprintf(path, sizeof path, "%s/%s", dir, files[f]);
            spit(path, full[f], cut[f]);
        }
        free(v);
        s = fa_store_open(dir, FA_STORE_WRITE, "m", DIM);
        bool good = s && fa_store_count(s) == 25;
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, files[1]);
        good = good && stat(path, &st) == 0 && (size_t)st.st_size == ends[24];
        /* appending after recovery works */
        float vv[DIM];
        vec_of(25, vv);
        struct json_object *r = rec_of(25);
        good = good && fa_store_add(s, r, vv) == 1 && fa_store_commit(s) == 1;
        json_object_put(r);
        fa_store_close(s);
        good = good && rows_intact(dir, 26);
        torn_ok += good;
        torn_n++;
    }
    ok(torn_ok == torn_n, "torn tails cut at %d random points: committed rows kept, append works",
       torn_n);
    /* (b) every file cut at many points inside the committed data */
    int cut_ok = 0, cut_n = 0;
    for (int f = 0; f < 3; f++) {
        for (size_t at = 0; at <= flen[f]; at += 1 + (at * 7 + 3) % 29) {
            if (f == 0 && at < FA_STORE_HEADER)
                continue; /* a cut header is an error, tested below */
            size_t want = 40;
            if (f == 0)
                want = (at - FA_STORE_HEADER) / (DIM * 4);
            else if (f == 2)
                want = at / FA_STORE_IDX_ENTRY;
            else {
                want = 0;
                while (want < 40 && ends[want] <= at)
                    want++;
            }
            for (int g = 0; g < 3; g++) {
                snprintf(path, sizeof path, "%s/%s", dir, files[g]);
                spit(path, full[g], g == f ? at : flen[g]);
            }
            bool good = rows_intact(dir, want); /* reader: no repair */
            s = fa_store_open(dir, FA_STORE_WRITE, "m", DIM);
            good = good && s && fa_store_count(s) == want;
            fa_store_close(s);
            good = good && rows_intact(dir, want);
            cut_ok += good;
            cut_n++;
        }
    }
    ok(cut_ok == cut_n && cut_n > 100,
       "stores cut at %d points: every whole row before the cut kept", cut_n);
    /* A reader leaves a tail alone: it may be a commit in progress. */
    for (int g = 0; g < 3; g++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[g]);
        spit(path, full[g], flen[g]);
        FILE *fa = fopen(path, "ab");
        fputs("tail in progress", fa);
        fclose(fa);
    }
    {
        struct stat before, after;
        snprintf(path, sizeof path, "%s/%s", dir, files[1]);
        stat(path, &before);
        bool good = rows_intact(dir, 40);
        stat(path, &after);
        s = fa_store_open(dir, FA_STORE_READ, NULL, 0);
        struct json_object *o = s ? fa_store_record(s, 40) : NULL;
        ok(good && before.st_size == after.st_size && s && !o,
           "a reader sees the 40 committed rows, leaves the tail, has no row 40");
        fa_store_close(s);
    }
    snprintf(path, sizeof path, "%s/%s", dir, files[0]);
    spit(path, full[0], 100);
    ok(fa_store_open(dir, FA_STORE_READ, NULL, 0) == NULL && strstr(fa_err_get(), "truncated"),
       "a cut header is an error");
    spit(path, "not a store at all, just some text......", 40);
    ok(fa_store_open(dir, FA_STORE_READ, NULL, 0) == NULL, "a foreign file is an error");
    for (int f = 0; f < 3; f++)
        free(full[f]);

    /* Compact stores: the copy the kernel scans, checked, and recovered
     * with the rest. */
    {
        ok(fa_store_elem_parse("int8") == FA_STORE_ELEM_I8 &&
               fa_store_elem_parse("f16") == FA_STORE_ELEM_F16 &&
               fa_store_elem_parse("f32") == FA_STORE_ELEM_F32 && fa_store_elem_parse("i4") < 0 &&
               strcmp(fa_store_elem_name(FA_STORE_ELEM_I8), "int8") == 0,
           "element type names");
        for (int e = FA_STORE_ELEM_F16; e <= FA_STORE_ELEM_I8; e++) {
            const char *cf = e == FA_STORE_ELEM_F16 ? "vectors.f16" : "vectors.i8";
            size_t esz = e == FA_STORE_ELEM_F16 ? 2 : 1;
            snprintf(dir, sizeof dir, "%s/c%d", base, e);
            s = fa_store_open_elem(dir, FA_STORE_WRITE, "m", DIM, e);
            ok(s && fa_store_elem(s) == e, "%s store created", fa_store_elem_name(e));
            for (long n = 0; n < 40; n++) {
                float v[DIM];
                vec_of(n, v);
                struct json_object *r = rec_of(n);
                if (fa_store_add(s, r, v) != 1)
                    return 1;
                json_object_put(r);
                if (n == 19 && fa_store_commit(s) != 20)
                    return 1;
            }
            if (e == FA_STORE_ELEM_F16) {
                float v[DIM] = {1, 2, 1e5f, 0, 0};
                struct json_object *r = rec_of(1000);
                ok(fa_store_add(s, r, v) < 0 && strstr(fa_err_get(), "float16"),
                   "f16: a value beyond float16's range is refused");
                json_object_put(r);
            }
            ok(fa_store_close(s) == 0 && rows_intact(dir, 40), "%s: 40 rows",
               fa_store_elem_name(e));
            /* the compact copy is what fa_simd_compact_build makes */
            s = fa_store_open_elem(dir, FA_STORE_READ, NULL, 0, e);
            bool good = s && fa_store_count(s) == 40 && fa_store_compact(s) && fa_store_scales(s);
            unsigned char want[40 * DIM * 2];
            float wscale[40];
            good = good && fa_simd_compact_build(e == FA_STORE_ELEM_F16 ? FA_SIMD_F16 : FA_SIMD_I8,
                                                 fa_store_rows(s), 40, DIM, want, wscale) == 0;
            good = good && memcmp(want, fa_store_compact(s), 40 * DIM * esz) == 0 &&
                   memcmp(wscale, fa_store_scales(s), sizeof wscale) == 0;
            ok(good, "%s: compact rows and scales as the kernel builds them",
               fa_store_elem_name(e));
            fa_store_close(s);
            int other = e == FA_STORE_ELEM_F16 ? FA_STORE_ELEM_I8 : FA_STORE_ELEM_F16;
            ok(fa_store_open_elem(dir, FA_STORE_WRITE, "m", DIM, other) == NULL &&
                   strstr(fa_err_get(), "holds") && strstr(fa_err_get(), fa_store_elem_name(e)),
               "%s: another element type is refused", fa_store_elem_name(e));
            s = fa_store_open(dir, FA_STORE_READ, "m", DIM);
            ok(s && fa_store_elem(s) == e, "%s: opened without a type", fa_store_elem_name(e));
            fa_store_close(s);
            /* cuts of the compact files, and torn tails in them */
            const char *cfiles[2] = {cf, "scales.f32"};
            size_t per[2] = {DIM * esz, 4};
            char *cfull[2];
            size_t clen[2];
            for (int f = 0; f < 2; f++) {
                snprintf(path, sizeof path, "%s/%s", dir, cfiles[f]);
                cfull[f] = slurp(path, &clen[f]);
            }
            int cok = 0, cn = 0;
            for (int f = 0; f < 2; f++)
                for (size_t at = 0; at < clen[f]; at += 1 + (at * 5 + 1) % 13) {
                    size_t want_n = at / per[f];
                    snprintf(path, sizeof path, "%s/%s", dir, cfiles[f]);
                    spit(path, cfull[f], at);
                    bool g = rows_intact(dir, want_n);
                    s = fa_store_open(dir, FA_STORE_WRITE, "m", DIM);
                    g = g && s && fa_store_count(s) == want_n;
                    fa_store_close(s);
                    struct stat st;
                    for (int h = 0; h < 2; h++) {
                        snprintf(path, sizeof path, "%s/%s", dir, cfiles[h]);
                        g = g && stat(path, &st) == 0 && (size_t)st.st_size == want_n * per[h];
                    }
                    /* store the lost rows again */
                    s = fa_store_open(dir, FA_STORE_WRITE, "m", DIM);
                    for (long n = (long)want_n; g && n < 40; n++) {
                        float v[DIM];
                        vec_of(n, v);
                        struct json_object *r = rec_of(n);
                        g = fa_store_add(s, r, v) == 1;
                        json_object_put(r);
                    }
                    g = g && fa_store_close(s) == 0 && rows_intact(dir, 40);
                    for (int h = 0; h < 2; h++) {
                        size_t len;
                        snprintf(path, sizeof path, "%s/%s", dir, cfiles[h]);
                        char *b = slurp(path, &len);
                        g = g && b && len == clen[h] && memcmp(b, cfull[h], len) == 0;
                        free(b);
                    }
                    cok += g;
                    cn++;
                }
            ok(cok == cn && cn > 20,
               "%s: compact files cut at %d points: cut back with the rest, restored by "
               "appending",
               fa_store_elem_name(e), cn);
            /* torn tails: the count says 30, the compact files hold more */
            int tok = 0, tn = 0;
            for (int t = 0; t < 20; t++) {
                snprintf(path, sizeof path, "%s/vectors.f32", dir);
                size_t vl;
                char *v = slurp(path, &vl);
                v[24] = 30;
                spit(path, v, vl);
                free(v);
                for (int f = 0; f < 2; f++) {
                    seed = seed * 1103515245u + 12345u;
                    size_t at = 30 * per[f] + (seed >> 8) % (clen[f] - 30 * per[f] + 1);
                    snprintf(path, sizeof path, "%s/%s", dir, cfiles[f]);
                    spit(path, cfull[f], at);
                }
                s = fa_store_open(dir, FA_STORE_WRITE, "m", DIM);
                bool g = s && fa_store_count(s) == 30;
                for (long n = 30; g && n < 40; n++) {
                    float vv[DIM];
                    vec_of(n, vv);
                    struct json_object *r = rec_of(n);
                    g = fa_store_add(s, r, vv) == 1;
                    json_object_put(r);
                }
                g = g && fa_store_close(s) == 0 && rows_intact(dir, 40);
                for (int h = 0; h < 2; h++) {
                    size_t len;
                    snprintf(path, sizeof path, "%s/%s", dir, cfiles[h]);
                    char *b = slurp(path, &len);
                    g = g && b && len == clen[h] && memcmp(b, cfull[h], len) == 0;
                    free(b);
                }
                tok += g;
                tn++;
            }
            ok(tok == tn, "%s: torn compact tails at %d random points cut, appends whole",
               fa_store_elem_name(e), tn);
            for (int f = 0; f < 2; f++)
                free(cfull[f]);
        }
    }

    /* Two processes appending at once, with overlapping ids. */
    snprintf(dir, sizeof dir, "%s/s3", base);
    s = fa_store_open(dir, FA_STORE_WRITE, "m", DIM);
    fa_store_close(s);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            struct fa_store *w = fa_store_open(dir, FA_STORE_WRITE, "m", DIM);
            if (!w)
                _exit(1);
            /* child 0: 0..299, child 1: 200..499 */
            for (long n = k * 200; n < k * 200 + 300; n++) {
                float v[DIM];
                vec_of(n, v);
                struct json_object *r = rec_of(n);
                if (fa_store_add(w, r, v) < 0)
                    _exit(1);
                json_object_put(r);
                if (n % 7 == 0 && fa_store_commit(w) < 0)
                    _exit(1);
            }
            _exit(fa_store_close(w) == 0 ? 0 : 1);
        }
    }
    int st0, st1;
    waitpid(kids[0], &st0, 0);
    waitpid(kids[1], &st1, 0);
    ok(WIFEXITED(st0) && WEXITSTATUS(st0) == 0 && WIFEXITED(st1) && WEXITSTATUS(st1) == 0,
       "two appenders finish");
    s = fa_store_open(dir, FA_STORE_READ, "m", DIM);
    bool good = s && fa_store_count(s) == 500;
    char seen[500] = {0};
    for (size_t r = 0; good && r < 500; r++) {
        struct json_object *o = fa_store_record(s, r);
        double n = -1;
        float v[DIM];
        good = o && fa_record_num(o, "n", &n) == 0 && n >= 0 && n < 500 && !seen[(int)n];
        if (good) {
            seen[(int)n] = 1;
            vec_of((long)n, v);
            good = memcmp(fa_store_rows(s) + r * DIM, v, sizeof v) == 0;
        }
        json_object_put(o);
    }
    ok(good, "500 distinct records, each once, each row with its own vector");
    fa_store_close(s);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0)
        return 1;
    return tap_done();
}
