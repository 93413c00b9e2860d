/* fuzz_store.c: a memory store's files (fa-store(5)) as fa-retrieve and
 * fa-embed open them. The input holds, between separator lines
 * (harness.h): vectors.f32 (header and rows), rows.idx, records.ndjson,
 * scales.f32, then the compact copy (written as vectors.f16 and
 * vectors.i8); a part left out is a missing file. The store is opened for
 * reading and searched as fa-retrieve does (top 3 of a query, day filter,
 * the compact copy first), its hits' records read; then opened for
 * writing (recovery of a torn tail), one record added and committed. */
#include <json-c/json.h>

#include "fa_record.h"
#include "fa_simd.h"
#include "fa_store.h"
#include "harness.h"

#define DIM_MAX 4096

static void search(struct fa_store *s)
{
    size_t dim = fa_store_dim(s), nh = 0;
    int32_t before = 19800; /* 2024-03-18 */
    struct fa_simd_hit hits[3];
    struct fa_simd_stats st;
    float *q;
    int elem = fa_store_elem(s);
    struct fa_simd_compact cp = {
        .elem = elem == FA_STORE_ELEM_F16 ? FA_SIMD_F16 : FA_SIMD_I8,
        .data = fa_store_compact(s),
        .scale = fa_store_scales(s),
    };
    struct fa_simd_search sr = {
        .rows = fa_store_rows(s),
        .n = fa_store_count(s),
        .dim = dim,
        .day = fa_store_days(s),
        .before = &before,
        .threads = 1,
        .compact = cp.data ? &cp : NULL,
    };

    if (dim == 0 || dim > DIM_MAX || !(q = malloc(dim * sizeof *q)))
        return;
    for (size_t i = 0; i < dim; i++)
        q[i] = (float)((i % 7) + 1) / 7.0f;
    if (fa_simd_topk(&sr, q, 1, 3, hits, &nh, &st) == 0)
        for (size_t h = 0; h < nh; h++)
            json_object_put(fa_store_record(s, (size_t)hits[h].row));
    free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const files[] = {"vectors.f32", "rows.idx", "records.ndjson", "scales.f32",
                                        "vectors.f16"};
    const char *dir = fz_init();
    struct fa_store *s;
    char path[512];

    for (int i = 0; i < 5; i++) {
        const uint8_t *part;
        size_t plen;
        if (size == 0 && i > 0) {
            snprintf(path, sizeof path, "%s/%s", dir, files[i]);
            unlink(path);
            if (i == 4) {
                snprintf(path, sizeof path, "%s/vectors.i8", dir);
                unlink(path);
            }
            continue;
        }
        fz_split(&data, &size, &part, &plen);
        fz_file(path, files[i], part, plen);
        if (i == 4)
            fz_file(path, "vectors.i8", part, plen);
    }
    if ((s = fa_store_open(dir, FA_STORE_READ, NULL, 0))) {
        size_t n = fa_store_count(s);
        (void)fa_store_model(s);
        for (size_t r = 0; r < n && r < 8; r++)
            json_object_put(fa_store_record(s, r));
        (void)fa_store_has_id(s, "00000000000000000000000000000000");
        search(s);
        fa_store_close(s);
    }
    if ((s = fa_store_open(dir, FA_STORE_WRITE, NULL, 0))) {
        size_t dim = fa_store_dim(s);
        float *v = dim <= DIM_MAX ? calloc(dim, sizeof *v) : NULL;
        if (v) {
            struct json_object *rec = fa_record_new("news", "AAPL", "2024-01-02");
            v[0] = 1;
            fa_record_set_str(rec, "title", "fuzz");
            (void)fa_record_set_id(rec);
            if (fa_store_add(s, rec, v) == 1)
                if (fa_store_commit(s) < 0)
                    v[0] = 0;
            json_object_put(rec);
            free(v);
        }
        (void)fa_store_close(s);
    }
    return 0;
}
