/* fa_safetensors.c: the .safetensors reader behind fa_llama (see
 * fa_safetensors.h). The whole header is validated once, at open, so
 * that a lookup afterwards cannot fail other than by absence. */
#include "fa_safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "fa_err.h"
#include "fa_banned.h"

#define MAX_HEADER ((uint64_t)100 << 20) /* a sane bound on the JSON header */

struct fa_st {
    char *path;
    void *map;  /* whole file (fa_st_open), or NULL */
    size_t len; /* mapping length */
    struct fa_st_tensor *t;
    size_t n;
    char **meta; /* key, value pairs */
    size_t nmeta;
};

size_t fa_st_dtype_size(int dtype)
{
    switch (dtype) {
    case FA_ST_F32:
        return 4;
    case FA_ST_BF16:
    case FA_ST_F16:
        return 2;
    }
    return 0;
}

const char *fa_st_dtype_name(int dtype)
{
    switch (dtype) {
    case FA_ST_F32:
        return "F32";
    case FA_ST_BF16:
        return "BF16";
    case FA_ST_F16:
        return "F16";
    }
    return "?";
}

static int dtype_parse(const char *s)
{
    if (strcmp(s, "F32") == 0)
        return FA_ST_F32;
    if (strcmp(s, "BF16") == 0)
        return FA_ST_BF16;
    if (strcmp(s, "F16") == 0)
        return FA_ST_F16;
    return -1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct fa_st_tensor *)a)->name, ((const struct fa_st_tensor *)b)->name);
}

static int by_offset(const void *a, const void *b)
{
    const struct fa_st_tensor *x = *(const struct fa_st_tensor *const *)a;
    const struct fa_st_tensor *y = *(const struct fa_st_tensor *const *)b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

/* A JSON integer in 0..max into *out; false otherwise. */
static bool get_u64(struct json_object *v, uint64_t max, uint64_t *out)
{
    if (!v || !json_object_is_type(v, json_type_int))
        return false;
    errno = 0;
    int64_t x = json_object_get_int64(v);
    if (x < 0 || (uint64_t)x > max || errno)
        return false;
    /* json-c saturates out-of-range values: treat INT64_MAX as suspect only
     * when max allows it, which the callers never do */
    *out = (uint64_t)x;
    return true;
}

static int parse_entry(struct fa_st *f, const char *name, const char *key, struct json_object *v,
                       size_t datalen, struct fa_st_tensor *t)
{
    struct json_object *dt, *shape, *offs;
    if (!json_object_is_type(v, json_type_object)) {
        fa_err_set("'%s': tensor '%s': entry is not an object", name, key);
        return -1;
    }
    if (!json_object_object_get_ex(v, "dtype", &dt) || !json_object_is_type(dt, json_type_string)) {
        fa_err_set("'%s': tensor '%s': no dtype", name, key);
        return -1;
    }
    t->dtype = dtype_parse(json_object_get_string(dt));
    if (t->dtype < 0) {
        fa_err_set("'%s': tensor '%s': unsupported dtype '%s' (F32, BF16, F16)", name, key,
                   json_object_get_string(dt));
        return -1;
    }
    if (!json_object_object_get_ex(v, "shape", &shape) ||
        !json_object_is_type(shape, json_type_array)) {
        fa_err_set("'%s': tensor '%s': no shape", name, key);
        return -1;
    }
    size_t nd = json_object_array_length(shape);
    if (nd > FA_ST_MAX_DIMS) {
        fa_err_set("'%s': tensor '%s': %zu dimensions (at most %d)", name, key, nd, FA_ST_MAX_DIMS);
        return -1;
    }
    t->ndim = (int)nd;
    uint64_t nelem = 1;
    for (size_t i = 0; i < nd; i++) {
        uint64_t d;
        if (!get_u64(json_object_array_get_idx(shape, i), (uint64_t)1 << 40, &d)) {
            fa_err_set("'%s': tensor '%s': bad shape", name, key);
            return -1;
        }
        t->shape[i] = (int64_t)d;
        if (d && nelem > ((uint64_t)1 << 62) / d) {
            fa_err_set("'%s': tensor '%s': shape too large", name, key);
            return -1;
        }
        nelem *= d;
    }
    if (!json_object_object_get_ex(v, "data_offsets", &offs) ||
        !json_object_is_type(offs, json_type_array) || json_object_array_length(offs) != 2) {
        fa_err_set("'%s': tensor '%s': no data_offsets [begin, end]", name, key);
        return -1;
    }
    uint64_t b, e;
    if (!get_u64(json_object_array_get_idx(offs, 0), (uint64_t)1 << 62, &b) ||
        !get_u64(json_object_array_get_idx(offs, 1), (uint64_t)1 << 62, &e) || e < b) {
        fa_err_set("'%s': tensor '%s': bad data_offsets", name, key);
        return -1;
    }
    size_t es = fa_st_dtype_size(t->dtype);
    if (nelem > ((uint64_t)1 << 62) / es || e - b != nelem * es) {
        fa_err_set("'%s': tensor '%s': data_offsets span %llu bytes, shape x dtype needs %llu",
                   name, key, (unsigned long long)(e - b), (unsigned long long)(nelem * es));
        return -1;
    }
    if (e > datalen) {
        fa_err_set("'%s': tensor '%s': data ends at byte %llu of %zu (truncated file?)", name, key,
                   (unsigned long long)e, datalen);
        return -1;
    }
    t->name = strdup(key);
    if (!t->name) {
        fa_err_set("out of memory");
        return -1;
    }
    t->nelem = (size_t)nelem;
    t->nbytes = (size_t)(e - b);
    t->offset = (size_t)b;
    (void)f;
    return 0;
}

void fa_st_close(struct fa_st *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        free((void *)(uintptr_t)f->t[i].name);
    free(f->t);
    for (size_t i = 0; i < 2 * f->nmeta; i++)
        free(f->meta[i]);
    free(f->meta);
    if (f->map)
        munmap(f->map, f->len);
    free(f->path);
    free(f);
}

struct fa_st *fa_st_parse_header(const void *buf, size_t len, const char *name)
{
    const unsigned char *p = buf;
    if (!name)
        name = "<buffer>";
    if (len < 8) {
        fa_err_set("'%s': %zu bytes, too short for a safetensors header", name, len);
        return NULL;
    }
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | p[i];
    if (hl > len - 8 || hl > MAX_HEADER || hl < 2) {
        fa_err_set("'%s': header length %llu does not fit in the file (%zu bytes; truncated?)",
                   name, (unsigned long long)hl, len);
        return NULL;
    }
    struct fa_st *f = calloc(1, sizeof *f);
    if (!f) {
        fa_err_set("out of memory");
        return NULL;
    }
    const char *hdr = (const char *)p + 8;
    size_t datalen = len - 8 - (size_t)hl;
    const unsigned char *data = p + 8 + hl;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *root = NULL;
    if (!tok) {
        fa_err_set("out of memory");
        goto fail;
    }
    if (memchr(hdr, '\0', (size_t)hl)) {
        fa_err_set("'%s': header contains a NUL byte", name);
        goto fail;
    }
    root = json_tokener_parse_ex(tok, hdr, (int)hl);
    if (!root || json_tokener_get_error(tok) != json_tokener_success) {
        fa_err_set("'%s': header is not valid JSON", name);
        goto fail;
    }
    for (size_t i = json_tokener_get_parse_end(tok); i < hl; i++)
        if (hdr[i] != ' ' && hdr[i] != '\t' && hdr[i] != '\n' && hdr[i] != '\r') {
            fa_err_set("'%s': trailing bytes after the JSON header", name);
            goto fail;
        }
    if (!json_object_is_type(root, json_type_object)) {
        fa_err_set("'%s': header is not a JSON object", name);
        goto fail;
    }
    size_t cap = (size_t)json_object_object_length(root);
    f->t = calloc(cap ? cap : 1, sizeof *f->t);
    if (!f->t) {
        fa_err_set("out of memory");
        goto fail;
    }
    json_object_object_foreach(root, key, val)
    {
        if (strcmp(key, "__metadata__") == 0) {
            if (!json_object_is_type(val, json_type_object)) {
                fa_err_set("'%s': __metadata__ is not an object", name);
                goto fail;
            }
            size_t mn = (size_t)json_object_object_length(val);
            f->meta = calloc(2 * mn + 1, sizeof *f->meta);
            if (!f->meta) {
                fa_err_set("out of memory");
                goto fail;
            }
            json_object_object_foreach(val, mk, mv)
            {
                if (!json_object_is_type(mv, json_type_string)) {
                    fa_err_set("'%s': __metadata__ '%s' is not a string", name, mk);
                    goto fail;
                }
                f->meta[2 * f->nmeta] = strdup(mk);
                f->meta[2 * f->nmeta + 1] = strdup(json_object_get_string(mv));
                f->nmeta++;
                if (!f->meta[2 * f->nmeta - 2] || !f->meta[2 * f->nmeta - 1]) {
                    fa_err_set("out of memory");
                    goto fail;
                }
            }
            continue;
        }
        if (parse_entry(f, name, key, val, datalen, &f->t[f->n]) < 0)
            goto fail;
        f->t[f->n].data = data + f->t[f->n].offset;
        f->n++;
    }
    json_object_put(root);
    root = NULL;
    json_tokener_free(tok);
    tok = NULL;
    if (f->n > 1) {
        struct fa_st_tensor **o = malloc(f->n * sizeof *o);
        if (!o) {
            fa_err_set("out of memory");
            goto fail;
        }
        for (size_t i = 0; i < f->n; i++)
            o[i] = &f->t[i];
        qsort(o, f->n, sizeof *o, by_offset);
        for (size_t i = 1; i < f->n; i++)
            if (o[i]->nbytes && o[i - 1]->offset + o[i - 1]->nbytes > o[i]->offset) {
                fa_err_set("'%s': tensor '%s' overlaps tensor '%s'", name, o[i]->name,
                           o[i - 1]->name);
                free(o);
                goto fail;
            }
        free(o);
        qsort(f->t, f->n, sizeof *f->t, by_name);
    }
    return f;
fail:
    if (root)
        json_object_put(root);
    if (tok)
        json_tokener_free(tok);
    fa_st_close(f);
    return NULL;
}

struct fa_st *fa_st_open(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fa_err_sys("cannot open '%s'", path);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        fa_err_sys("cannot stat '%s'", path);
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 8) {
        fa_err_set("'%s': not a safetensors file (%lld bytes)", path, (long long)st.st_size);
        close(fd);
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        fa_err_sys("cannot map '%s'", path);
        return NULL;
    }
    struct fa_st *f = fa_st_parse_header(map, len, path);
    if (!f) {
        munmap(map, len);
        return NULL;
    }
    f->map = map;
    f->len = len;
    f->path = strdup(path);
    if (!f->path) {
        fa_err_set("out of memory");
        fa_st_close(f);
        return NULL;
    }
    return f;
}

const char *fa_st_path(const struct fa_st *f)
{
    return f->path ? f->path : "<buffer>";
}

const struct fa_st_tensor *fa_st_find(const struct fa_st *f, const char *name)
{
    struct fa_st_tensor key = {.name = name};
    return f->n ? bsearch(&key, f->t, f->n, sizeof *f->t, by_name) : NULL;
}

size_t fa_st_count(const struct fa_st *f)
{
    return f->n;
}

const struct fa_st_tensor *fa_st_at(const struct fa_st *f, size_t i)
{
    return i < f->n ? &f->t[i] : NULL;
}

const char *fa_st_metadata(const struct fa_st *f, const char *key)
{
    for (size_t i = 0; i < f->nmeta; i++)
        if (strcmp(f->meta[2 * i], key) == 0)
            return f->meta[2 * i + 1];
    return NULL;
}
