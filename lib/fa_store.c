/* fa_store.c: the append-only memory store (see fa_store.h, fa-store(5)).
 *
 * Writers queue records in memory and commit them in one step under an
 * exclusive flock: rows, NDJSON lines and index entries are written past
 * the committed end and fsync'd, then the header's count moves. A crash
 * at any point leaves the old count, so the new bytes are a torn tail
 * that the next writer cuts off. A compact store appends its compact rows
 * and scales in the same step, under the same rules. */
#include "fa_store.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fa_date.h"
#include "fa_err.h"
#include "fa_record.h"
#include "fa_simd.h"
#include "fa_banned.h"

#define OFF_COUNT 24
#define OFF_MODEL 32

struct pend {
    unsigned char id[16];
    int32_t day;
    char *line; /* compact JSON with a newline */
    size_t len;
    float *vec;
    void *crow;  /* compact row (compact stores) */
    float scale; /* its scale */
    bool dropped;
};

struct fa_store {
    char *dir;
    int mode;
    char model[FA_STORE_MODEL_MAX + 1];
    size_t dim, count;
    int elem;    /* FA_STORE_ELEM_* */
    size_t cesz; /* bytes per compact element: 0 (float32 store), 2, 1 */
    int vfd, nfd, ifd;
    int cfd, sfd; /* compact rows and scales (compact stores), else -1 */
    /* READ: mappings of the snapshot */
    void *vmap, *imap, *cmap, *smap;
    size_t vmap_len, imap_len, cmap_len, smap_len;
    int32_t *days;
    /* id set: open addressing; value 0 empty, 1 committed, 2 pending */
    unsigned char (*keys)[16];
    unsigned char *used;
    size_t cap, nkeys;
    bool ids_loaded;
    struct pend *pend;
    size_t npend, pend_cap;
    char *compact_problem; /* READ: why the compact copy is not used */
};

/* ---- little helpers --------------------------------------------------- */

static const char *const elem_names[] = {NULL, "f32", "f16", "int8"};
static const char *const compact_files[] = {NULL, NULL, "vectors.f16", "vectors.i8"};

const char *fa_store_elem_name(int elem)
{
    return elem >= FA_STORE_ELEM_F32 && elem <= FA_STORE_ELEM_I8 ? elem_names[elem] : "?";
}

int fa_store_elem_parse(const char *name)
{
    for (int e = FA_STORE_ELEM_F32; e <= FA_STORE_ELEM_I8; e++)
        if (strcmp(name, elem_names[e]) == 0)
            return e;
    fa_err_set("unknown element type '%s' (f32, f16 or int8)", name);
    return -1;
}

static size_t elem_size(int elem)
{
    return elem == FA_STORE_ELEM_F16 ? 2 : elem == FA_STORE_ELEM_I8 ? 1 : 0;
}

static int simd_elem(int elem)
{
    return elem == FA_STORE_ELEM_F16 ? FA_SIMD_F16 : FA_SIMD_I8;
}

static char *path_in(const struct fa_store *s, const char *name)
{
    size_t n = strlen(s->dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", s->dir, name);
    return p;
}

static void put_u32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *b)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static uint64_t get_u64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static int pread_all(int fd, void *buf, size_t n, off_t off)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t r = pread(fd, p, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            return -1;
        }
        p += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

static int pwrite_all(int fd, const void *buf, size_t n, off_t off)
{
    const unsigned char *p = buf;
    while (n) {
        ssize_t r = pwrite(fd, p, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        p += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 16 binary bytes of an id: 32 lowercase hex digits decode as they are;
 * any other string is hashed (BLAKE2b-128 of its bytes). */
static void id_bytes(const char *id, unsigned char out[16])
{
    char hex[FA_ID_HEX];
    bool plain = strlen(id) == 32;
    for (int i = 0; plain && i < 32; i++)
        plain = hexval((unsigned char)id[i]) >= 0;
    if (!plain) {
        fa_hash_hex(id, strlen(id), hex);
        id = hex;
    }
    for (int i = 0; i < 16; i++)
        out[i] = (unsigned char)(hexval((unsigned char)id[2 * i]) << 4 |
                                 hexval((unsigned char)id[2 * i + 1]));
}

/* ---- id set ------------------------------------------------------------ */

static size_t id_hash(const unsigned char k[16])
{
    uint64_t h;
    memcpy(&h, k, 8);
    return (size_t)(h ^ (h >> 29));
}

/* Returns the slot holding k, or the empty slot where it would go. */
static size_t id_slot(const struct fa_store *s, const unsigned char k[16])
{
    size_t i = id_hash(k) & (s->cap - 1);
    while (s->used[i] && memcmp(s->keys[i], k, 16) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int id_grow(struct fa_store *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    unsigned char(*okeys)[16] = s->keys;
    unsigned char *oused = s->used;
    size_t ocap = s->cap;
    s->keys = malloc(ncap * sizeof *s->keys);
    s->used = calloc(ncap, 1);
    if (!s->keys || !s->used) {
        free(s->keys);
        free(s->used);
        s->keys = okeys;
        s->used = oused;
        fa_err_set("store '%s': out of memory", s->dir);
        return -1;
    }
    s->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (oused[i]) {
            size_t j = id_slot(s, okeys[i]);
            memcpy(s->keys[j], okeys[i], 16);
            s->used[j] = oused[i];
        }
    free(okeys);
    free(oused);
    return 0;
}

/* Adds k with state v (1 committed, 2 pending); returns the previous
 * state (0 when new), or -1 on error. */
static int id_put(struct fa_store *s, const unsigned char k[16], unsigned char v)
{
    if ((s->nkeys + 1) * 2 > s->cap && id_grow(s) < 0)
        return -1;
    size_t i = id_slot(s, k);
    int old = s->used[i];
    if (!old) {
        memcpy(s->keys[i], k, 16);
        s->nkeys++;
    }
    if (!old || v == 1)
        s->used[i] = v;
    return old;
}

/* ---- header and recovery ---------------------------------------------- */

static int read_header(struct fa_store *s, uint64_t *count)
{
    unsigned char h[FA_STORE_HEADER];
    if (pread_all(s->vfd, h, sizeof h, 0) < 0) {
        if (errno == EIO)
            fa_err_set("store '%s': vectors.f32: truncated header", s->dir);
        else
            fa_err_sys("store '%s': cannot read vectors.f32", s->dir);
        return -1;
    }
    if (memcmp(h, FA_STORE_MAGIC, 8) != 0) {
        fa_err_set("store '%s': vectors.f32 is not an fa store (bad magic)", s->dir);
        return -1;
    }
    uint32_t ver = get_u32(h + 8), hsz = get_u32(h + 12), dim = get_u32(h + 16),
             elem = get_u32(h + 20);
    if (ver != FA_STORE_VERSION || hsz != FA_STORE_HEADER) {
        fa_err_set("store '%s': unsupported version %u (header %u bytes)", s->dir, ver, hsz);
        return -1;
    }
    if (elem < FA_STORE_ELEM_F32 || elem > FA_STORE_ELEM_I8 || dim == 0) {
        fa_err_set("store '%s': unsupported element type %u or dimension %u", s->dir, elem, dim);
        return -1;
    }
    if (memchr(h + OFF_MODEL, 0, FA_STORE_MODEL_MAX + 1) == NULL) {
        fa_err_set("store '%s': bad model name in header", s->dir);
        return -1;
    }
    s->dim = dim;
    s->elem = (int)elem;
    s->cesz = elem_size((int)elem);
    memcpy(s->model, h + OFF_MODEL, FA_STORE_MODEL_MAX + 1);
    *count = get_u64(h + OFF_COUNT);
    return 0;
}

static int read_entry(const struct fa_store *s, size_t r, uint64_t *off, uint32_t *len,
                      int32_t *day, unsigned char id[16])
{
    unsigned char e[FA_STORE_IDX_ENTRY];
    if (s->imap && (r + 1) * FA_STORE_IDX_ENTRY <= s->imap_len)
        memcpy(e, (const unsigned char *)s->imap + r * FA_STORE_IDX_ENTRY, sizeof e);
    else if (pread_all(s->ifd, e, sizeof e, (off_t)(r * FA_STORE_IDX_ENTRY)) < 0) {
        fa_err_sys("store '%s': cannot read rows.idx", s->dir);
        return -1;
    }
    if (off)
        *off = get_u64(e);
    if (len)
        *len = get_u32(e + 8);
    if (day)
        *day = (int32_t)get_u32(e + 12);
    if (id)
        memcpy(id, e + 16, 16);
    return 0;
}

/* The committed count the files really hold: the header's, cut back to
 * the last row whole in all the files. With fix (writer, lock held),
 * bytes past it are cut off and the header corrected, with a warning.
 * Returns 0 and sets *count, or -1. */
static int settle(struct fa_store *s, bool fix, size_t *count)
{
    uint64_t hc;
    struct stat vs, ns, is, cs = {0}, ss = {0};
    if (read_header(s, &hc) < 0)
        return -1;
    if (fstat(s->vfd, &vs) < 0 || fstat(s->nfd, &ns) < 0 || fstat(s->ifd, &is) < 0 ||
        (s->cfd >= 0 && (fstat(s->cfd, &cs) < 0 || fstat(s->sfd, &ss) < 0))) {
        fa_err_sys("store '%s': cannot stat", s->dir);
        return -1;
    }
    size_t rowb = s->dim * sizeof(float);
    uint64_t c = hc;
    uint64_t vrows =
        vs.st_size > FA_STORE_HEADER ? (uint64_t)(vs.st_size - FA_STORE_HEADER) / rowb : 0;
    uint64_t irows = (uint64_t)is.st_size / FA_STORE_IDX_ENTRY;
    if (vrows < c)
        c = vrows;
    if (irows < c)
        c = irows;
    if (s->cfd >= 0) {
        uint64_t crows = (uint64_t)cs.st_size / (s->dim * s->cesz),
                 srows = (uint64_t)ss.st_size / sizeof(float);
        if (crows < c)
            c = crows;
        if (srows < c)
            c = srows;
    }
    uint64_t nend = 0;
    while (c > 0) {
        uint64_t off;
        uint32_t len;
        char last;
        if (read_entry(s, (size_t)(c - 1), &off, &len, NULL, NULL) < 0)
            return -1;
        if (len > 0 && off + len <= (uint64_t)ns.st_size &&
            pread_all(s->nfd, &last, 1, (off_t)(off + len - 1)) == 0 && last == '\n') {
            nend = off + len;
            break;
        }
        c--;
    }
    if (c < hc)
        fa_warn("store '%s': header says %llu rows but only %llu are whole; %s", s->dir,
                (unsigned long long)hc, (unsigned long long)c,
                fix ? "cut back to them" : "reading those");
    if (fix) {
        uint64_t vwant = FA_STORE_HEADER + c * rowb, iwant = c * FA_STORE_IDX_ENTRY;
        uint64_t cwant = c * s->dim * s->cesz, swant = c * sizeof(float);
        uint64_t cextra = s->cfd >= 0 ? (uint64_t)cs.st_size - cwant : 0,
                 sextra = s->cfd >= 0 ? (uint64_t)ss.st_size - swant : 0;
        bool torn = (uint64_t)vs.st_size > vwant || (uint64_t)ns.st_size > nend ||
                    (uint64_t)is.st_size > iwant || cextra > 0 || sextra > 0;
        if (torn) {
            if (c == hc)
                fa_warn("store '%s': cut a torn tail after row %llu (%llu bytes of rows, %llu "
                        "of records, %llu of index, %llu of compact rows, %llu of scales)",
                        s->dir, (unsigned long long)c,
                        (unsigned long long)((uint64_t)vs.st_size - vwant),
                        (unsigned long long)((uint64_t)ns.st_size - nend),
                        (unsigned long long)((uint64_t)is.st_size - iwant),
                        (unsigned long long)cextra, (unsigned long long)sextra);
            if (ftruncate(s->vfd, (off_t)vwant) < 0 || ftruncate(s->nfd, (off_t)nend) < 0 ||
                ftruncate(s->ifd, (off_t)iwant) < 0 ||
                (s->cfd >= 0 &&
                 (ftruncate(s->cfd, (off_t)cwant) < 0 || ftruncate(s->sfd, (off_t)swant) < 0))) {
                fa_err_sys("store '%s': cannot cut the torn tail", s->dir);
                return -1;
            }
        }
        if (c != hc) {
            unsigned char b[8];
            put_u64(b, c);
            if (pwrite_all(s->vfd, b, 8, OFF_COUNT) < 0) {
                fa_err_sys("store '%s': cannot write the header", s->dir);
                return -1;
            }
        }
        if ((torn || c != hc) &&
            (fsync(s->nfd) < 0 || fsync(s->ifd) < 0 ||
             (s->cfd >= 0 && (fsync(s->cfd) < 0 || fsync(s->sfd) < 0)) || fsync(s->vfd) < 0)) {
            fa_err_sys("store '%s': fsync", s->dir);
            return -1;
        }
    }
    *count = (size_t)c;
    return 0;
}

/* Loads the ids of rows from..to-1 into the set as committed; a pending
 * record with the same id is dropped. */
static int load_ids(struct fa_store *s, size_t from, size_t to)
{
    /* the entries in one read when the index is not mapped (a writer's
     * open): a read per row was most of what opening a store cost */
    unsigned char *all = NULL;
    if (!s->imap && to > from) {
        all = malloc((to - from) * FA_STORE_IDX_ENTRY);
        if (all && pread_all(s->ifd, all, (to - from) * FA_STORE_IDX_ENTRY,
                             (off_t)(from * FA_STORE_IDX_ENTRY)) < 0) {
            free(all);
            all = NULL;
        }
    }
    for (size_t r = from; r < to; r++) {
        unsigned char id[16];
        if (all)
            memcpy(id, all + (r - from) * FA_STORE_IDX_ENTRY + 16, 16);
        else if (read_entry(s, r, NULL, NULL, NULL, id) < 0)
            return -1;
        int old = id_put(s, id, 1);
        if (old < 0) {
            free(all);
            return -1;
        }
        if (old == 2)
            for (size_t p = 0; p < s->npend; p++)
                if (!s->pend[p].dropped && memcmp(s->pend[p].id, id, 16) == 0)
                    s->pend[p].dropped = true;
    }
    free(all);
    return 0;
}

static int lock(struct fa_store *s, int op)
{
    while (flock(s->vfd, op) < 0) {
        if (errno == EINTR)
            continue;
        fa_err_sys("store '%s': cannot lock vectors.f32", s->dir);
        return -1;
    }
    return 0;
}

/* ---- open and close --------------------------------------------------- */

static int open_in(struct fa_store *s, const char *name, int flags)
{
    char *p = path_in(s, name);
    if (!p) {
        fa_err_set("store '%s': out of memory", s->dir);
        return -1;
    }
    int fd = open(p, flags | O_CLOEXEC | O_NONBLOCK, 0644);
    struct stat st;
    if (fd < 0)
        fa_err_sys("store '%s': cannot open %s", s->dir, name);
    else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        /* a store's files are regular files (a symbolic link to one is
         * followed); never append to a device or a FIFO */
        fa_err_set("store '%s': %s is not a regular file", s->dir, name);
        close(fd);
        fd = -1;
    }
    free(p);
    return fd;
}

/* Makes dir (and its parents) and an empty store in it with model and
 * dim, unless another process got there first. The header appears
 * atomically (link). */
static int create(struct fa_store *s, const char *model, size_t dim, int elem)
{
    /* mkdir -p: the parents too */
    char *p = s->dir;
    for (;;) {
        char *slash = strchr(p + 1, '/');
        if (slash)
            *slash = 0;
        int rc = mkdir(s->dir, 0755);
        int e = errno;
        if (slash)
            *slash = '/';
        if (rc < 0 && e != EEXIST) {
            errno = e;
            fa_err_sys("store '%s': cannot create", s->dir);
            return -1;
        }
        if (!slash)
            break;
        p = slash;
    }
    int fd;
    if ((fd = open_in(s, "records.ndjson", O_WRONLY | O_CREAT)) < 0)
        return -1;
    close(fd);
    if ((fd = open_in(s, "rows.idx", O_WRONLY | O_CREAT)) < 0)
        return -1;
    close(fd);
    if (compact_files[elem]) {
        if ((fd = open_in(s, compact_files[elem], O_WRONLY | O_CREAT)) < 0)
            return -1;
        close(fd);
        if ((fd = open_in(s, "scales.f32", O_WRONLY | O_CREAT)) < 0)
            return -1;
        close(fd);
    }
    char tmpname[64];
    snprintf(tmpname, sizeof tmpname, ".vectors.f32.%ld", (long)getpid());
    char *tmp = path_in(s, tmpname), *fin = path_in(s, "vectors.f32");
    int rc = -1;
    if (!tmp || !fin) {
        fa_err_set("store '%s': out of memory", s->dir);
        goto out;
    }
    unsigned char h[FA_STORE_HEADER] = {0};
    memcpy(h, FA_STORE_MAGIC, 8);
    put_u32(h + 8, FA_STORE_VERSION);
    put_u32(h + 12, FA_STORE_HEADER);
    put_u32(h + 16, (uint32_t)dim);
    put_u32(h + 20, (uint32_t)elem);
    memcpy(h + OFF_MODEL, model, strlen(model));
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || pwrite_all(fd, h, sizeof h, 0) < 0 || fsync(fd) < 0) {
        fa_err_sys("store '%s': cannot write %s", s->dir, tmpname);
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (link(tmp, fin) < 0 && errno != EEXIST) {
        fa_err_sys("store '%s': cannot create vectors.f32", s->dir);
        unlink(tmp);
        goto out;
    }
    unlink(tmp);
    int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    free(tmp);
    free(fin);
    return rc;
}

/* ---- the compact copy, validated (READ) -------------------------------- */

/* Stops using the compact copy (searches scan the float32 rows, which
 * give the same hits) and keeps why, for fa_store_compact_problem. */
static void compact_off(struct fa_store *s, const char *why)
{
    if (!s->compact_problem && asprintf(&s->compact_problem, "%s", why) < 0)
        abort();
    if (s->cmap)
        munmap(s->cmap, s->cmap_len);
    if (s->smap)
        munmap(s->smap, s->smap_len);
    s->cmap = s->smap = NULL;
    if (s->cfd >= 0)
        close(s->cfd);
    if (s->sfd >= 0)
        close(s->sfd);
    s->cfd = s->sfd = -1;
}

/* Checks the mapped scales: finite, >= 0, within what a float32 row can
 * hold (int8: 127 x scale; float16: the largest half, 65504), 0 only for
 * a compact row of zeros, and equal to the float32 row's (a few rows spot
 * checked: reading them all would undo the compact scan's saving). A bad
 * scale breaks the error bound that makes compact hits exact, so the copy
 * is dropped. */
static void compact_check(struct fa_store *s)
{
    const float *sc = s->smap, *rows = (const float *)((const char *)s->vmap + FA_STORE_HEADER);
    double top = s->elem == FA_STORE_ELEM_I8 ? FLT_MAX / 127.0 : 65504.0;
    char why[300];

    for (size_t r = 0; r < s->count; r++) {
        const char *bad = NULL;
        if (!isfinite(sc[r]))
            bad = "not a number";
        else if (sc[r] < 0)
            bad = "negative";
        else if (sc[r] > top)
            bad = "larger than any row allows";
        else if (sc[r] == 0) {
            const unsigned char *c = (const unsigned char *)s->cmap + r * s->dim * s->cesz;
            for (size_t i = 0; i < s->dim * s->cesz && !bad; i++)
                if (c[i] != 0 && !(s->elem == FA_STORE_ELEM_F16 && i % 2 == 1 && c[i] == 0x80))
                    bad = "0 for a row that is not zero";
        }
        /* spot checks: the first, the last and 14 rows between */
        if (!bad && (r == 0 || r + 1 == s->count || r % (s->count / 16 + 1) == 0)) {
            double m = 0;
            for (size_t i = 0; i < s->dim; i++)
                m = fmax(m, fabs(rows[r * s->dim + i]));
            double want = s->elem == FA_STORE_ELEM_I8 ? m / 127.0 : m;
            if (fabs(sc[r] - want) > 1e-3 * want + 1e-30)
                bad = "not the float32 row's";
        }
        if (bad) {
            snprintf(why, sizeof why, "scales.f32: row %zu's scale %g is %s", r, (double)sc[r],
                     bad);
            compact_off(s, why);
            return;
        }
    }
}

const char *fa_store_compact_problem(const struct fa_store *s)
{
    return s->compact_problem;
}

static int map_snapshot(struct fa_store *s)
{
    size_t rowb = s->dim * sizeof(float);
    if (s->count == 0)
        return 0;
    s->vmap_len = FA_STORE_HEADER + s->count * rowb;
    s->vmap = mmap(NULL, s->vmap_len, PROT_READ, MAP_SHARED, s->vfd, 0);
    if (s->vmap == MAP_FAILED) {
        s->vmap = NULL;
        fa_err_sys("store '%s': cannot map vectors.f32", s->dir);
        return -1;
    }
    s->imap_len = s->count * FA_STORE_IDX_ENTRY;
    s->imap = mmap(NULL, s->imap_len, PROT_READ, MAP_SHARED, s->ifd, 0);
    if (s->imap == MAP_FAILED) {
        s->imap = NULL;
        fa_err_sys("store '%s': cannot map rows.idx", s->dir);
        return -1;
    }
    if (s->cfd >= 0) {
        s->cmap_len = s->count * s->dim * s->cesz;
        s->cmap = mmap(NULL, s->cmap_len, PROT_READ, MAP_SHARED, s->cfd, 0);
        s->smap_len = s->count * sizeof(float);
        s->smap = s->cmap == MAP_FAILED ? MAP_FAILED
                                        : mmap(NULL, s->smap_len, PROT_READ, MAP_SHARED, s->sfd, 0);
        if (s->cmap == MAP_FAILED || s->smap == MAP_FAILED) {
            fa_err_sys("store '%s': cannot map %s", s->dir,
                       s->cmap == MAP_FAILED ? compact_files[s->elem] : "scales.f32");
            if (s->cmap == MAP_FAILED)
                s->cmap = NULL;
            s->smap = NULL;
            return -1;
        }
        /* the float32 rows are read only for the candidates: no read-ahead */
        madvise(s->vmap, s->vmap_len, MADV_RANDOM);
    }
    s->days = malloc(s->count * sizeof *s->days);
    if (!s->days) {
        fa_err_set("store '%s': out of memory", s->dir);
        return -1;
    }
    const unsigned char *e = s->imap;
    for (size_t r = 0; r < s->count; r++)
        s->days[r] = (int32_t)get_u32(e + r * FA_STORE_IDX_ENTRY + 12);
    return 0;
}

struct fa_store *fa_store_open(const char *dir, int mode, const char *model, size_t dim)
{
    return fa_store_open_elem(dir, mode, model, dim, 0);
}

struct fa_store *fa_store_open_elem(const char *dir, int mode, const char *model, size_t dim,
                                    int elem)
{
    struct fa_store *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir))) {
        free(s);
        fa_err_set("store '%s': out of memory", dir);
        return NULL;
    }
    s->mode = mode;
    s->vfd = s->nfd = s->ifd = s->cfd = s->sfd = -1;
    if (elem && (elem < FA_STORE_ELEM_F32 || elem > FA_STORE_ELEM_I8)) {
        fa_err_set("store '%s': unknown element type %d", dir, elem);
        goto fail;
    }
    if (model && strlen(model) > FA_STORE_MODEL_MAX) {
        fa_err_set("store '%s': model name longer than %d bytes", dir, FA_STORE_MODEL_MAX);
        goto fail;
    }
    if (dim > UINT32_MAX) {
        fa_err_set("store '%s': dimension %zu too large", dir, dim);
        goto fail;
    }
    int flags = mode == FA_STORE_WRITE ? O_RDWR : O_RDONLY;
    char *vp = path_in(s, "vectors.f32");
    if (!vp) {
        fa_err_set("store '%s': out of memory", dir);
        goto fail;
    }
    s->vfd = open(vp, flags | O_CLOEXEC);
    if (s->vfd < 0 && errno == ENOENT && mode == FA_STORE_WRITE) {
        if (!model || !*model || !dim) {
            fa_err_set("store '%s': a new store needs a model name and a dimension", dir);
            free(vp);
            goto fail;
        }
        if (create(s, model, dim, elem ? elem : FA_STORE_ELEM_F32) < 0) {
            free(vp);
            goto fail;
        }
        s->vfd = open(vp, flags | O_CLOEXEC);
    }
    free(vp);
    if (s->vfd < 0) {
        int e = errno;
        if (e == ENOENT)
            fa_err_set("store '%s': no such store", dir);
        else
            fa_err_sys("store '%s': cannot open vectors.f32", dir);
        errno = e;
        goto fail;
    }
    if ((s->nfd = open_in(s, "records.ndjson", flags)) < 0 ||
        (s->ifd = open_in(s, "rows.idx", flags)) < 0)
        goto fail;
    uint64_t hc;
    if (read_header(s, &hc) < 0)
        goto fail;
    if ((model && *model && strcmp(model, s->model) != 0) || (dim && dim != s->dim)) {
        fa_err_set("store '%s': holds %zu-dimensional vectors of model '%s', not %zu of '%s'", dir,
                   s->dim, s->model, dim ? dim : s->dim, model && *model ? model : s->model);
        goto fail;
    }
    if (elem && elem != s->elem) {
        fa_err_set("store '%s': holds %s rows, not %s", dir, fa_store_elem_name(s->elem),
                   fa_store_elem_name(elem));
        goto fail;
    }
    if (compact_files[s->elem] && ((s->cfd = open_in(s, compact_files[s->elem], flags)) < 0 ||
                                   (s->sfd = open_in(s, "scales.f32", flags)) < 0)) {
        char why[300];
        if (mode == FA_STORE_WRITE)
            goto fail;
        if (errno == ENOENT)
            snprintf(why, sizeof why, "%s is missing",
                     s->cfd < 0 ? compact_files[s->elem] : "scales.f32");
        else
            snprintf(why, sizeof why, "%s", fa_err_get());
        compact_off(s, why); /* READ: the float32 rows will do */
    }
    if (mode == FA_STORE_WRITE) {
        if (lock(s, LOCK_EX) < 0)
            goto fail;
        int rc = settle(s, true, &s->count);
        if (rc == 0)
            rc = load_ids(s, 0, s->count);
        if (rc == 0)
            s->ids_loaded = true;
        flock(s->vfd, LOCK_UN);
        if (rc < 0)
            goto fail;
    } else {
        if (settle(s, false, &s->count) < 0 || map_snapshot(s) < 0)
            goto fail;
        if (s->cmap)
            compact_check(s);
    }
    return s;
fail : {
    int e = errno;
    fa_store_close(s);
    errno = e;
    return NULL;
}
}

static void free_pending(struct fa_store *s)
{
    for (size_t i = 0; i < s->npend; i++) {
        free(s->pend[i].line);
        free(s->pend[i].vec);
        free(s->pend[i].crow);
    }
    s->npend = 0;
}

int fa_store_close(struct fa_store *s)
{
    int rc = 0;
    if (!s)
        return 0;
    if (s->mode == FA_STORE_WRITE && s->npend && s->vfd >= 0 && fa_store_commit(s) < 0)
        rc = -1;
    free_pending(s);
    free(s->pend);
    if (s->vmap)
        munmap(s->vmap, s->vmap_len);
    if (s->imap)
        munmap(s->imap, s->imap_len);
    if (s->cmap)
        munmap(s->cmap, s->cmap_len);
    if (s->smap)
        munmap(s->smap, s->smap_len);
    if (s->cfd >= 0)
        close(s->cfd);
    if (s->sfd >= 0)
        close(s->sfd);
    free(s->compact_problem);
    if (s->vfd >= 0)
        close(s->vfd);
    if (s->nfd >= 0)
        close(s->nfd);
    if (s->ifd >= 0)
        close(s->ifd);
    free(s->days);
    free(s->keys);
    free(s->used);
    free(s->dir);
    free(s);
    return rc;
}

/* ---- accessors -------------------------------------------------------- */

const char *fa_store_dir(const struct fa_store *s)
{
    return s->dir;
}

const char *fa_store_model(const struct fa_store *s)
{
    return s->model;
}

size_t fa_store_dim(const struct fa_store *s)
{
    return s->dim;
}

size_t fa_store_count(const struct fa_store *s)
{
    return s->count;
}

size_t fa_store_pending(const struct fa_store *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->npend; i++)
        n += !s->pend[i].dropped;
    return n;
}

const float *fa_store_rows(const struct fa_store *s)
{
    return s->vmap ? (const float *)((const char *)s->vmap + FA_STORE_HEADER) : NULL;
}

int fa_store_vectors_fd(const struct fa_store *s)
{
    return s->vfd;
}

int fa_store_elem(const struct fa_store *s)
{
    return s->elem;
}

const void *fa_store_compact(const struct fa_store *s)
{
    return s->cmap;
}

const float *fa_store_scales(const struct fa_store *s)
{
    return s->smap;
}

const int32_t *fa_store_days(const struct fa_store *s)
{
    return s->days;
}

struct json_object *fa_store_record(struct fa_store *s, size_t r)
{
    uint64_t off;
    uint32_t len;
    if (r >= s->count) {
        fa_err_set("store '%s': no row %zu", s->dir, r);
        return NULL;
    }
    if (read_entry(s, r, &off, &len, NULL, NULL) < 0)
        return NULL;
    /* rows.idx may be damaged: say what it claims, against the file */
    struct stat st;
    if (fstat(s->nfd, &st) < 0) {
        fa_err_sys("store '%s': cannot read records.ndjson", s->dir);
        return NULL;
    }
    if (off > (uint64_t)st.st_size || len > (uint64_t)st.st_size - off) {
        fa_err_set("store '%s': row %zu: rows.idx points at bytes %llu..%llu of records.ndjson, "
                   "past its end (%lld bytes)",
                   s->dir, r, (unsigned long long)off, (unsigned long long)off + len,
                   (long long)st.st_size);
        return NULL;
    }
    char *buf = malloc((size_t)len + 1);
    if (!buf) {
        fa_err_set("store '%s': out of memory", s->dir);
        return NULL;
    }
    if (pread_all(s->nfd, buf, len, (off_t)off) < 0) {
        fa_err_sys("store '%s': row %zu: cannot read records.ndjson", s->dir, r);
        free(buf);
        return NULL;
    }
    buf[len] = 0;
    struct json_object *o = json_tokener_parse(buf);
    free(buf);
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        fa_err_set("store '%s': row %zu: rows.idx points at bytes %llu..%llu of records.ndjson, "
                   "which are not a JSON object",
                   s->dir, r, (unsigned long long)off, (unsigned long long)off + len);
        return NULL;
    }
    return o;
}

static int ensure_ids(struct fa_store *s)
{
    if (s->ids_loaded)
        return 0;
    if (load_ids(s, 0, s->count) < 0)
        return -1;
    s->ids_loaded = true;
    return 0;
}

bool fa_store_has_id(const struct fa_store *s, const char *id)
{
    unsigned char k[16];
    if (ensure_ids((struct fa_store *)(uintptr_t)s) < 0 || !s->cap)
        return false;
    id_bytes(id, k);
    return s->used[id_slot(s, k)] != 0;
}

/* ---- appending -------------------------------------------------------- */

int fa_store_add(struct fa_store *s, struct json_object *rec, const float *vec)
{
    if (s->mode != FA_STORE_WRITE) {
        fa_err_set("store '%s': opened for reading", s->dir);
        return -1;
    }
    for (size_t i = 0; i < s->dim; i++)
        if (!isfinite(vec[i])) {
            fa_err_set("store '%s': vector has a non-finite value", s->dir);
            return -1;
        }
    void *crow = NULL;
    float scale = 0;
    if (s->cesz) {
        if (!(crow = malloc(s->dim * s->cesz))) {
            fa_err_set("store '%s': out of memory", s->dir);
            return -1;
        }
        if (fa_simd_compact_build(simd_elem(s->elem), vec, 1, s->dim, crow, &scale) < 0) {
            char why[256];
            snprintf(why, sizeof why, "%s", fa_err_get());
            fa_err_set("store '%s': vector %s", s->dir, why);
            free(crow);
            return -1;
        }
    }
    struct json_object *copy = NULL;
    const char *id = fa_record_str(rec, "id");
    if (!id) {
        if (json_object_deep_copy(rec, &copy, NULL) != 0) {
            fa_err_set("store '%s': out of memory", s->dir);
            free(crow);
            return -1;
        }
        id = fa_record_set_id(copy);
    }
    unsigned char k[16];
    id_bytes(id, k);
    if (s->cap && s->used[id_slot(s, k)]) {
        json_object_put(copy);
        free(crow);
        return 0;
    }
    int32_t day = FA_STORE_NO_DAY;
    const char *asof = fa_record_asof(rec);
    int d;
    if (asof && fa_date_parse(asof, &d) == 0)
        day = d;
    const char *js = json_object_to_json_string_ext(
        copy ? copy : rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t len = strlen(js);
    if (s->npend == s->pend_cap) {
        size_t nc = s->pend_cap ? s->pend_cap * 2 : 64;
        struct pend *np = realloc(s->pend, nc * sizeof *np);
        if (!np)
            goto nomem;
        s->pend = np;
        s->pend_cap = nc;
    }
    struct pend *p = &s->pend[s->npend];
    memset(p, 0, sizeof *p);
    p->line = malloc(len + 1);
    p->vec = malloc(s->dim * sizeof(float));
    if (!p->line || !p->vec) {
        free(p->line);
        free(p->vec);
        goto nomem;
    }
    memcpy(p->line, js, len);
    p->line[len] = '\n';
    p->len = len + 1;
    memcpy(p->vec, vec, s->dim * sizeof(float));
    memcpy(p->id, k, 16);
    p->day = day;
    p->crow = crow;
    p->scale = scale;
    crow = NULL;
    json_object_put(copy);
    if (id_put(s, k, 2) < 0) {
        free(p->line);
        free(p->vec);
        free(p->crow);
        return -1;
    }
    s->npend++;
    return 1;
nomem:
    json_object_put(copy);
    free(crow);
    fa_err_set("store '%s': out of memory", s->dir);
    return -1;
}

long fa_store_commit(struct fa_store *s)
{
    if (s->mode != FA_STORE_WRITE) {
        fa_err_set("store '%s': opened for reading", s->dir);
        return -1;
    }
    if (s->npend == 0)
        return 0;
    if (lock(s, LOCK_EX) < 0)
        return -1;
    long rc = -1;
    size_t c, rowb = s->dim * sizeof(float);
    unsigned char *ibuf = NULL, *cbuf = NULL;
    char *nbuf = NULL;
    float *vbuf = NULL, *sbuf = NULL;
    size_t rowc = s->dim * s->cesz;
    if (settle(s, true, &c) < 0)
        goto out;
    if (c < s->count) { /* cut back from outside: our id set is stale */
        fa_warn("store '%s': shrank from %zu to %zu rows while open", s->dir, s->count, c);
        s->count = c;
    }
    if (c > s->count && load_ids(s, s->count, c) < 0)
        goto out;
    s->count = c;
    uint64_t nend = 0;
    if (c > 0) {
        uint64_t off;
        uint32_t len;
        if (read_entry(s, c - 1, &off, &len, NULL, NULL) < 0)
            goto out;
        nend = off + len;
    }
    size_t m = 0, nbytes = 0;
    for (size_t i = 0; i < s->npend; i++)
        if (!s->pend[i].dropped) {
            m++;
            nbytes += s->pend[i].len;
        }
    if (m == 0) {
        rc = 0;
        goto out;
    }
    ibuf = calloc(m, FA_STORE_IDX_ENTRY);
    nbuf = malloc(nbytes);
    vbuf = malloc(m * rowb);
    if (s->cesz) {
        cbuf = malloc(m * rowc);
        sbuf = malloc(m * sizeof *sbuf);
    }
    if (!ibuf || !nbuf || !vbuf || (s->cesz && (!cbuf || !sbuf))) {
        fa_err_set("store '%s': out of memory", s->dir);
        goto out;
    }
    size_t j = 0, at = 0;
    for (size_t i = 0; i < s->npend; i++) {
        struct pend *p = &s->pend[i];
        if (p->dropped)
            continue;
        unsigned char *e = ibuf + j * FA_STORE_IDX_ENTRY;
        put_u64(e, nend + at);
        put_u32(e + 8, (uint32_t)p->len);
        put_u32(e + 12, (uint32_t)p->day);
        memcpy(e + 16, p->id, 16);
        memcpy(nbuf + at, p->line, p->len);
        memcpy((char *)vbuf + j * rowb, p->vec, rowb);
        if (s->cesz) {
            memcpy(cbuf + j * rowc, p->crow, rowc);
            sbuf[j] = p->scale;
        }
        at += p->len;
        j++;
    }
    if (pwrite_all(s->vfd, vbuf, m * rowb, (off_t)(FA_STORE_HEADER + c * rowb)) < 0 ||
        pwrite_all(s->nfd, nbuf, nbytes, (off_t)nend) < 0 ||
        pwrite_all(s->ifd, ibuf, m * FA_STORE_IDX_ENTRY, (off_t)(c * FA_STORE_IDX_ENTRY)) < 0 ||
        (s->cesz && (pwrite_all(s->cfd, cbuf, m * rowc, (off_t)(c * rowc)) < 0 ||
                     pwrite_all(s->sfd, sbuf, m * sizeof *sbuf, (off_t)(c * sizeof *sbuf)) < 0))) {
        fa_err_sys("store '%s': cannot append", s->dir);
        goto out;
    }
    if (fdatasync(s->vfd) < 0 || fdatasync(s->nfd) < 0 || fdatasync(s->ifd) < 0 ||
        (s->cesz && (fdatasync(s->cfd) < 0 || fdatasync(s->sfd) < 0))) {
        fa_err_sys("store '%s': fsync", s->dir);
        goto out;
    }
    unsigned char b[8];
    put_u64(b, c + m);
    if (pwrite_all(s->vfd, b, 8, OFF_COUNT) < 0 || fdatasync(s->vfd) < 0) {
        fa_err_sys("store '%s': cannot write the header", s->dir);
        goto out;
    }
    s->count = c + m;
    for (size_t i = 0; i < s->npend; i++)
        if (!s->pend[i].dropped)
            id_put(s, s->pend[i].id, 1);
    free_pending(s);
    rc = (long)m;
out:
    flock(s->vfd, LOCK_UN);
    free(ibuf);
    free(nbuf);
    free(vbuf);
    free(cbuf);
    free(sbuf);
    return rc;
}
