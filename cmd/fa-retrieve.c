/* fa-retrieve: FinAgent's diversified retrieval as a stream filter. For
 * each record carrying query texts, embeds each query with a tag naming
 * its retrieval type appended (skipping queries of five words or fewer),
 * searches each memory store for the exact top k among memories whose
 * asof is strictly before the record's day, merges the types without
 * duplicates and appends one `hit` record per memory found. Every record
 * passes through first. The stores are opened once, as snapshots; a
 * missing store is an empty memory. A store with a compact copy (float16
 * or int8) is scanned in it and its best candidates re-scored from the
 * float32 rows: the same hits as a float32 scan. The `llm` records of the
 * query embeddings carry the query record's symbol, date and asof.
 * Memory: one record, plus the mapped stores. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_cli.h"
#include "fa_date.h"
#include "fa_embedder.h"
#include "fa_err.h"
#include "fa_ndjson.h"
#include "fa_record.h"
#include "fa_simd.h"
#include "fa_store.h"
#include "fa_banned.h"

#define STORES_MAX  8
#define QUERIES_MAX 16
#define TOP_MAX     1000
#define MIN_WORDS   6

struct mem {
    const char *dir;
    struct fa_store *s; /* NULL: missing or empty */
};

static struct mem mems[STORES_MAX];
static size_t nmems;
static struct fa_embedder *emb;
static const char *qfield = "queries";
static size_t topk = 5;
static int before_flag = -1; /* day, or -1: the record's date */
static bool have_before;
static int kthreads, kpath;
static bool scan_f32; /* --kernel f32: ignore compact copies */

static void usage(void)
{
    printf("Usage: %s --store DIR [OPTION]... [FILE]...\n"
           "Append the stored memories most similar to each record's queries.\n"
           "\n"
           "  -s, --store DIR         a memory store (repeat for several; a missing\n"
           "                          store has no memories)\n"
           "  -Q, --query-field NAME  the field with the queries: a string, or an object\n"
           "                          of retrieval type -> query (default queries)\n"
           "  -k, --top N             memories per query and store (default 5)\n"
           "      --before DATE       only memories with asof before DATE (default: the\n"
           "                          record's date)\n"
           "      --threads N         search threads (default 0: automatic)\n"
           "      --kernel LIST       auto, scalar or avx2, and f32 (scan the float32 rows\n"
           "                          even when the store has a compact copy) or compact\n"
           "                          (the default), comma-separated (default auto)\n"
           "      --strict            a bad record is fatal (exit 1)\n"
           "  -q, --quiet             no warnings\n"
           "  -v, --verbose           more messages\n"
           "  -h, --help              this help\n"
           "  -V, --version           version\n"
           "\n"
           "Environment: FA_RETRIEVE_TOP (default --top), FA_THREADS, FA_RETRIEVE_KERNEL\n"
           "(default --kernel), FA_SIMD, FA_EMBED_DIM, FA_EMBED_MODEL, FA_LLM_URL, FA_LLM.\n"
           "See fa-retrieve(1), fa-store(5).\n",
           fa_progname);
}

static size_t count_words(const char *s)
{
    size_t n = 0;
    bool in = false;
    for (; *s; s++) {
        bool sp = *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v';
        if (!sp && !in)
            n++;
        in = !sp;
    }
    return n;
}

/* The text embedded for a query of this type: FinAgent appends a tag
 * naming the horizon ("short_term" -> "... short-term impact"). A plain
 * string query (type = the field name) gets no tag. */
static char *tagged(const char *q, const char *type, bool plain)
{
    size_t n = strlen(q) + strlen(type) + 16;
    char *t = malloc(n);
    if (!t)
        fa_die(FA_EXIT_FAIL, "out of memory");
    if (plain) {
        snprintf(t, n, "%s", q);
        return t;
    }
    int at = snprintf(t, n, "%s ", q);
    for (const char *p = type; *p; p++)
        t[at++] = *p == '_' ? '-' : *p;
    snprintf(t + at, n - (size_t)at, " impact");
    return t;
}

/* The score as the shortest decimal that reads back as the same float
 * (0.50581145, not 0.5058114528656006). */
static double float_short(float f)
{
    char buf[32];
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, (double)f);
        if (strtof(buf, NULL) == f)
            return strtod(buf, NULL);
    }
    return f;
}

/* Parses --kernel: a comma-separated list of a path (auto, scalar, avx2)
 * and a scan (f32, compact). Exits 2 on a bad list. */
static void kernel_parse(const char *list)
{
    char *buf = strdup(list), *save = NULL;
    if (!buf)
        fa_die(FA_EXIT_FAIL, "out of memory");
    kpath = FA_SIMD_AUTO;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "f32"))
            scan_f32 = true;
        else if (!strcmp(t, "compact"))
            scan_f32 = false;
        else if ((kpath = fa_simd_path_parse(t)) < 0 || fa_simd_resolve(kpath) < 0)
            fa_cli_usage_error("--kernel: %s", fa_err_get());
    }
    free(buf);
}

/* The firewall's second check: the memory's own asof (else date), read
 * from the record itself, is before day. rows.idx holds a copy of that
 * day for the scan; when the two disagree the index row is damaged, and
 * a memory it let through on or after day is refused (an error record
 * naming the store and the row). Returns whether the hit may be used. */
static bool memo_before(struct fa_store *s, size_t row, struct json_object *memo, int day,
                        const char *dir, const char *sym, const char *date, const char *where)
{
    const char *ms = fa_record_asof(memo);
    const int32_t *days = fa_store_days(s);
    int mday;
    char b1[11], b2[11];

    if (!ms)
        ms = fa_record_date(memo);
    if (!ms || fa_date_parse(ms, &mday) < 0) {
        fa_bad_record(sym, date, where,
                      "firewall: store '%s' row %zu: the record has no valid asof or date; hit "
                      "skipped",
                      dir, row);
        return false;
    }
    if (mday < day) {
        if (days && days[row] != mday)
            fa_warn("store '%s' row %zu: rows.idx says %s but the record's asof is %s (the "
                    "index is damaged)",
                    dir, row,
                    days[row] == FA_STORE_NO_DAY ? "no day" : fa_date_format(days[row], b1), ms);
        return true;
    }
    fa_bad_record(sym, date, where,
                  "firewall: store '%s' row %zu: the record's asof %s is not before %s, but "
                  "rows.idx says %s (the index is damaged); hit skipped",
                  dir, row, ms, fa_date_format(day, b2),
                  days && days[row] != FA_STORE_NO_DAY ? fa_date_format(days[row], b1) : "no day");
    return false;
}

/* Streamed search. A one-shot process that scans a large store through
 * its mapping pays a page fault per few pages of the file (each page
 * mapped once and thrown away at exit): on the machines measured that was
 * 2 to 4 times the cost of the scan itself, more on a guest whose page
 * tables are the hypervisor's business. Reading the rows with pread costs
 * one copy from the page cache instead. Each scan thread reads its own
 * chunks, about 1 MB each, into a buffer of its own and scans the chunk
 * at once, while it is still in the core's cache: the copy's writes and
 * the scan's reads never reach memory, so the store crosses the memory bus
 * once. The chunks' top k are merged exactly (score, then lower row), so
 * the hits are those of the mapped scan whichever thread took which chunk.
 * FA_RETRIEVE_IO=map keeps the mapping (for comparison); small stores
 * always use it. */
#define STREAM_MIN   ((size_t)64 << 20) /* bytes of rows: below, the mapping */
#define STREAM_BYTES ((size_t)1 << 20)  /* a chunk: about this many bytes of rows */

static bool use_stream(size_t n, size_t dim)
{
    const char *io = getenv("FA_RETRIEVE_IO");
    if (io && strcmp(io, "map") == 0)
        return false;
    if (io && strcmp(io, "read") == 0)
        return n > 0;
    return n * dim * sizeof(float) >= STREAM_MIN;
}

/* a before b: higher score, then lower row (the kernel's order) */
static bool hit_before(const struct fa_simd_hit *a, const struct fa_simd_hit *b)
{
    return a->score > b->score || (a->score == b->score && a->row < b->row);
}

/* Merges the m sorted lists of part (pn[j] hits each, rows offset by r0)
 * into those of hits (nh[j] each), keeping k; tmp holds k hits. */
static void merge_hits(struct fa_simd_hit *hits, size_t *nh, struct fa_simd_hit *part,
                       const size_t *pn, int64_t r0, size_t m, size_t k, struct fa_simd_hit *tmp)
{
    for (size_t j = 0; j < m; j++) {
        struct fa_simd_hit *a = hits + j * k, *b = part + j * k;
        size_t ia = 0, ib = 0, o = 0;
        for (size_t h = 0; h < pn[j]; h++)
            b[h].row += r0;
        while (o < k && (ia < nh[j] || ib < pn[j]))
            tmp[o++] =
                ib >= pn[j] || (ia < nh[j] && hit_before(&a[ia], &b[ib])) ? a[ia++] : b[ib++];
        memcpy(a, tmp, o * sizeof *tmp);
        nh[j] = o;
    }
}

struct stream {
    const struct fa_simd_search *sr;
    const float *q;
    int fd;
    size_t m, k, n, rowb, crows, nchunks;
    size_t next; /* the next chunk to take */
    int err;     /* the first failure: errno of a read, -1 a short file, -2 the kernel */
    char kerr[256];
    pthread_mutex_t mu;
};

struct worker {
    struct stream *st;
    float *buf;
    struct fa_simd_hit *hits, *part, *tmp;
    size_t nh[QUERIES_MAX];
    struct fa_simd_stats stats;
};

static void *stream_worker(void *arg)
{
    struct worker *w = arg;
    struct stream *st = w->st;
    size_t pn[QUERIES_MAX];

    for (;;) {
        pthread_mutex_lock(&st->mu);
        size_t c = st->next++;
        bool stop = st->err != 0 || c >= st->nchunks;
        pthread_mutex_unlock(&st->mu);
        if (stop)
            return NULL;
        size_t r0 = c * st->crows, nr = st->n - r0 < st->crows ? st->n - r0 : st->crows;
        size_t want = nr * st->rowb, got = 0;
        int err = 0;
        while (got < want) {
            ssize_t r = pread(st->fd, (char *)w->buf + got, want - got,
                              (off_t)(FA_STORE_HEADER + r0 * st->rowb + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                err = r < 0 ? errno : -1;
                break;
            }
            got += (size_t)r;
        }
        struct fa_simd_search cs = *st->sr;
        cs.rows = w->buf;
        cs.n = nr;
        cs.day = st->sr->day ? st->sr->day + r0 : NULL;
        cs.threads = 1;
        if (!err && fa_simd_topk(&cs, st->q, st->m, st->k, w->part, pn, &w->stats) < 0)
            err = -2;
        if (err) {
            pthread_mutex_lock(&st->mu);
            if (!st->err) {
                st->err = err;
                if (err == -2)
                    snprintf(st->kerr, sizeof st->kerr, "%s", fa_err_get());
            }
            pthread_mutex_unlock(&st->mu);
            return NULL;
        }
        merge_hits(w->hits, w->nh, w->part, pn, (int64_t)r0, st->m, st->k, w->tmp);
    }
}

/* Like fa_simd_topk on the float32 rows of sr (sr->rows unused), read
 * from fd. Returns 0, or -1 with fa_err set. */
static int stream_topk(const struct fa_simd_search *sr, int fd, const float *q, size_t m, size_t k,
                       struct fa_simd_hit *hits, size_t *nh, struct fa_simd_stats *stats)
{
    struct stream st = {
        .sr = sr, .q = q, .fd = fd, .m = m, .k = k, .n = sr->n, .rowb = sr->dim * sizeof(float)};
    size_t crows = STREAM_BYTES / st.rowb / 48 * 48;
    const char *cv = getenv("FA_RETRIEVE_CHUNK"); /* test knob: rows per chunk */
    if (cv && *cv) {
        unsigned long v = strtoul(cv, NULL, 10);
        if (v > 0 && v <= ((unsigned long)1 << 20))
            crows = (v + 47) / 48 * 48;
    }
    if (crows < 48)
        crows = 48;
    int nt = sr->threads;
    if (nt <= 0) {
        long np = sysconf(_SC_NPROCESSORS_ONLN);
        nt = np > 0 ? (int)np : 1;
    }
    st.crows = crows;
    st.nchunks = (st.n + crows - 1) / crows;
    if ((size_t)nt > st.nchunks)
        nt = (int)st.nchunks;
    if (nt > 64)
        nt = 64;
    struct worker w[64] = {{0}};
    pthread_t tid[64];
    int started = 0, rc = -1, e = 0;
    struct fa_simd_hit *tmp = malloc(k * sizeof *tmp);

    pthread_mutex_init(&st.mu, NULL);
    for (size_t j = 0; j < m; j++)
        nh[j] = 0;
    for (int t = 0; t < nt; t++) {
        w[t].st = &st;
        w[t].buf = aligned_alloc(4096, (crows * st.rowb + 4095) / 4096 * 4096);
        w[t].hits = malloc(m * k * sizeof *w[t].hits);
        w[t].part = malloc(m * k * sizeof *w[t].part);
        w[t].tmp = malloc(k * sizeof *w[t].tmp);
        if (!w[t].buf || !w[t].hits || !w[t].part || !w[t].tmp) {
            fa_err_set("out of memory");
            goto out;
        }
    }
    if (!tmp) {
        fa_err_set("out of memory");
        goto out;
    }
    /* this thread is worker 0 */
    for (int t = 1; t < nt; t++) {
        if ((e = pthread_create(&tid[t], NULL, stream_worker, &w[t])) != 0)
            break;
        started = t;
    }
    if (e == 0)
        stream_worker(&w[0]);
    else {
        pthread_mutex_lock(&st.mu);
        st.err = -3; /* the started ones stop at their next chunk */
        pthread_mutex_unlock(&st.mu);
    }
    for (int t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
    if (e != 0) {
        errno = e;
        fa_err_sys("cannot start a scan thread");
        goto out;
    }
    if (st.err > 0) {
        errno = st.err;
        fa_err_sys("cannot read vectors.f32");
        goto out;
    }
    if (st.err == -1) {
        fa_err_set("vectors.f32 is shorter than its rows");
        goto out;
    }
    if (st.err == -2) {
        fa_err_set("%s", st.kerr);
        goto out;
    }
    /* the workers' lists, merged in the kernel's order */
    for (int t = 0; t < nt; t++)
        merge_hits(hits, nh, w[t].hits, w[t].nh, 0, m, k, tmp);
    if (stats) {
        *stats = w[0].stats;
        for (int t = 0; t < nt; t++)
            if (w[t].stats.threads > 0) { /* one that scanned: its path */
                *stats = w[t].stats;
                break;
            }
        stats->threads = nt;
    }
    rc = 0;
out:
    for (int t = 0; t < nt; t++) {
        free(w[t].buf);
        free(w[t].hits);
        free(w[t].part);
        free(w[t].tmp);
    }
    free(tmp);
    pthread_mutex_destroy(&st.mu);
    return rc;
}

static void emit_hits(struct json_object *r, const char *where)
{
    struct json_object *qv;
    const char *sym = fa_record_symbol(r), *date = fa_record_date(r), *rid = fa_record_str(r, "id");
    const char *kind = fa_record_kind(r);
    if (!json_object_object_get_ex(r, qfield, &qv))
        return;
    /* hits carry their query text; errors and llm records are not asking */
    if (kind && (!strcmp(kind, "hit") || !strcmp(kind, "error") || !strcmp(kind, "llm")))
        return;
    /* The day the memories must predate. */
    int day;
    if (have_before)
        day = before_flag;
    else if (!date || fa_date_parse(date, &day) < 0) {
        fa_bad_record(sym, date, where, "no date to retrieve before (give --before)");
        return;
    }
    const char *types[QUERIES_MAX], *texts[QUERIES_MAX];
    char *embed[QUERIES_MAX];
    size_t nq = 0;
    bool plain = json_object_is_type(qv, json_type_string);
    if (plain) {
        types[0] = qfield;
        texts[0] = json_object_get_string(qv);
        nq = 1;
    } else if (json_object_is_type(qv, json_type_object)) {
        json_object_object_foreach(qv, key, val)
        {
            if (!json_object_is_type(val, json_type_string)) {
                fa_bad_record(sym, date, where, "query '%s.%s' is not a string", qfield, key);
                return;
            }
            if (nq == QUERIES_MAX) {
                fa_bad_record(sym, date, where, "more than %d queries in '%s'", QUERIES_MAX,
                              qfield);
                return;
            }
            types[nq] = key;
            texts[nq] = json_object_get_string(val);
            nq++;
        }
    } else {
        fa_bad_record(sym, date, where, "field '%s' is neither a string nor an object", qfield);
        return;
    }
    /* Skip short queries; embed the rest with their tags. */
    size_t m = 0;
    const char *mtypes[QUERIES_MAX], *mtexts[QUERIES_MAX];
    for (size_t i = 0; i < nq; i++) {
        if (count_words(texts[i]) < MIN_WORDS) {
            fa_info("%s: %s query '%s' has five words or fewer; skipped", where, types[i],
                    texts[i]);
            continue;
        }
        mtypes[m] = types[i];
        mtexts[m] = texts[i];
        embed[m] = tagged(texts[i], types[i], plain);
        m++;
    }
    bool any = false;
    for (size_t i = 0; i < nmems; i++)
        any = any || mems[i].s;
    if (m == 0 || !any) {
        for (size_t i = 0; i < m; i++)
            free(embed[i]);
        return;
    }
    size_t dim = fa_embedder_dim(emb);
    float *qvec = malloc(m * dim * sizeof *qvec);
    struct fa_simd_hit *hits = malloc(m * topk * sizeof *hits);
    struct json_object *llm = json_object_new_array();
    if (!qvec || !hits || !llm)
        fa_die(FA_EXIT_FAIL, "out of memory");
    int rc = fa_embedder_embed(emb, "retrieve", (const char *const *)embed, m, qvec, llm);
    for (size_t i = 0; i < json_object_array_length(llm); i++)
        fa_emit(fa_record_attribute(json_object_get(json_object_array_get_idx(llm, i)), sym, date,
                                    fa_record_asof(r)));
    if (rc < 0) {
        fa_bad_record(sym, date, where, "cannot embed the queries: %s", fa_err_get());
        goto out;
    }
    int32_t before[QUERIES_MAX];
    for (size_t i = 0; i < m; i++)
        before[i] = day;
    for (size_t si = 0; si < nmems; si++) {
        struct fa_store *s = mems[si].s;
        if (!s)
            continue;
        struct fa_simd_search sr = {
            .rows = fa_store_rows(s),
            .n = fa_store_count(s),
            .dim = dim,
            .day = fa_store_days(s),
            .before = before,
            .threads = kthreads,
            .path = kpath,
        };
        int elem = fa_store_elem(s);
        struct fa_simd_compact cp = {
            .elem = elem == FA_STORE_ELEM_F16 ? FA_SIMD_F16 : FA_SIMD_I8,
            .data = fa_store_compact(s),
            .scale = fa_store_scales(s),
        };
        if (cp.data && !scan_f32)
            sr.compact = &cp;
        size_t nh[QUERIES_MAX];
        struct fa_simd_stats st;
        int sfd = fa_store_vectors_fd(s);
        if (!sr.compact && sfd >= 0 && use_stream(sr.n, dim)) {
            if (stream_topk(&sr, sfd, qvec, m, topk, hits, nh, &st) < 0)
                fa_die(FA_EXIT_FAIL, "search '%s': %s", mems[si].dir, fa_err_get());
        } else if (fa_simd_topk(&sr, qvec, m, topk, hits, nh, &st) < 0)
            fa_die(FA_EXIT_FAIL, "search '%s': %s", mems[si].dir, fa_err_get());
        fa_info("%s: searched '%s': %zu rows, %s scan (%s), %zu re-scored in f32, %zu second "
                "passes",
                where, mems[si].dir, sr.n,
                fa_store_elem_name(sr.compact ? elem : FA_STORE_ELEM_F32),
                fa_simd_path_name(st.path), st.rescored, st.second_pass);
        /* merge the types in order; a memory found by an earlier type is
         * not repeated */
        for (size_t j = 0; j < m; j++)
            for (size_t h = 0; h < nh[j]; h++) {
                int64_t row = hits[j * topk + h].row;
                bool dup = false;
                for (size_t pj = 0; pj <= j && !dup; pj++)
                    for (size_t ph = 0; ph < (pj < j ? nh[pj] : h) && !dup; ph++)
                        dup = hits[pj * topk + ph].row == row;
                if (dup)
                    continue;
                struct json_object *memo = fa_store_record(s, (size_t)row);
                if (!memo) { /* a broken store: this hit is lost, not the stream */
                    fa_bad_record(sym, date, where, "%s; hit skipped", fa_err_get());
                    continue;
                }
                const char *masof = fa_record_asof(memo);
                if (!memo_before(s, (size_t)row, memo, day, mems[si].dir, sym, date, where)) {
                    json_object_put(memo);
                    continue;
                }
                struct json_object *hit = fa_record_new("hit", sym, date);
                if (masof)
                    fa_record_set_str(hit, "asof", masof);
                fa_record_set_str(hit, "store", mems[si].dir);
                fa_record_set_str(hit, "type", mtypes[j]);
                fa_record_set_int(hit, "rank", (int64_t)h + 1);
                fa_record_set_num(hit, "score", float_short(hits[j * topk + h].score));
                fa_record_set_str(hit, "query", mtexts[j]);
                if (rid)
                    fa_record_set_str(hit, "query_id", rid);
                json_object_object_add(hit, "memory", memo);
                fa_record_set_id(hit);
                fa_emit(hit);
            }
    }
out:
    for (size_t i = 0; i < m; i++)
        free(embed[i]);
    free(qvec);
    free(hits);
    json_object_put(llm);
}

int main(int argc, char **argv)
{
    enum { OPT_BEFORE = 256, OPT_KERNEL, OPT_STRICT, OPT_THREADS };
    static const struct option opts[] = {
        {"before", required_argument, NULL, OPT_BEFORE},
        {"help", no_argument, NULL, 'h'},
        {"kernel", required_argument, NULL, OPT_KERNEL},
        {"query-field", required_argument, NULL, 'Q'},
        {"quiet", no_argument, NULL, 'q'},
        {"store", required_argument, NULL, 's'},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"top", required_argument, NULL, 'k'},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *o_top = NULL, *o_threads = NULL, *o_kernel = NULL;
    int c, status = FA_EXIT_OK;
    long v;

    fa_err_init(argv[0]);
    while ((c = getopt_long(argc, argv, "hk:qQ:s:vV", opts, NULL)) != -1) {
        switch (c) {
        case OPT_BEFORE:
            if (fa_date_parse(optarg, &before_flag) < 0)
                fa_cli_usage_error("invalid --before: %s", fa_err_get());
            have_before = true;
            break;
        case 'h':
            usage();
            return FA_EXIT_OK;
        case OPT_KERNEL:
            o_kernel = optarg;
            break;
        case 'k':
            o_top = optarg;
            break;
        case 'Q':
            if (!*optarg)
                fa_cli_usage_error("empty --query-field");
            qfield = optarg;
            break;
        case 'q':
            fa_verbosity = 0;
            break;
        case 's':
            if (nmems == STORES_MAX)
                fa_cli_usage_error("more than %d stores", STORES_MAX);
            mems[nmems++].dir = optarg;
            break;
        case OPT_STRICT:
            fa_strict = true;
            break;
        case OPT_THREADS:
            o_threads = optarg;
            break;
        case 'v':
            fa_verbosity++;
            break;
        case 'V':
            fa_cli_version();
            return FA_EXIT_OK;
        default:
            fa_cli_try_help();
        }
    }
    if (nmems == 0)
        fa_cli_usage_error("--store DIR is required");
    if (fa_cli_long("top", fa_cli_conf(o_top, "FA_RETRIEVE_TOP", "5"), 1, TOP_MAX, &v) < 0)
        fa_cli_usage_error("%s", fa_err_get());
    topk = (size_t)v;
    if (fa_cli_long("threads", fa_cli_conf(o_threads, "FA_THREADS", "0"), 0, 64, &v) < 0)
        fa_cli_usage_error("%s", fa_err_get());
    kthreads = (int)v;
    kernel_parse(fa_cli_conf(o_kernel, "FA_RETRIEVE_KERNEL", "auto"));

    emb = fa_embedder_open(NULL);
    if (!emb)
        fa_die(FA_EXIT_USAGE, "%s", fa_err_get());
    size_t dim = fa_embedder_dim(emb);
    if (!dim)
        fa_die(FA_EXIT_FAIL, "%s", fa_err_get());
    for (size_t i = 0; i < nmems; i++) {
        mems[i].s = fa_store_open(mems[i].dir, FA_STORE_READ, fa_embedder_model(emb), dim);
        if (!mems[i].s) {
            if (errno == ENOENT) {
                fa_info("store '%s' does not exist yet: no memories", mems[i].dir);
                continue;
            }
            fa_die(strstr(fa_err_get(), "holds") ? FA_EXIT_USAGE : FA_EXIT_FAIL, "%s",
                   fa_err_get());
        }
        if (fa_store_compact_problem(mems[i].s))
            fa_warn("store '%s': compact copy not used (%s): searching the float32 rows",
                    mems[i].dir, fa_store_compact_problem(mems[i].s));
        if (fa_store_count(mems[i].s) == 0) {
            fa_store_close(mems[i].s);
            mems[i].s = NULL;
        }
    }

    struct fa_ndjson_reader *rd = fa_ndjson_open_list(argv + optind, argc - optind, 0);
    if (!rd) {
        fa_warn("%s", fa_err_get());
        status = FA_EXIT_FAIL;
    }
    while (rd) {
        struct json_object *r;
        int rc = fa_cli_next(rd, &r);
        if (rc == FA_NDJSON_EOF)
            break;
        if (rc == FA_NDJSON_IOERR) {
            fa_warn("%s", fa_err_get());
            status = FA_EXIT_FAIL;
            break;
        }
        json_object_get(r);
        fa_emit(r);
        emit_hits(r, fa_ndjson_where(rd));
        json_object_put(r);
    }
    fa_ndjson_close(rd);
    for (size_t i = 0; i < nmems; i++)
        fa_store_close(mems[i].s);
    fa_embedder_close(emb);
    if (fa_stdout_close() != 0 && status == FA_EXIT_OK)
        status = FA_EXIT_FAIL;
    return status;
}
