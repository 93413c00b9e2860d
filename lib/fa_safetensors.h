/* fa_safetensors.h: read-only access to a .safetensors file (the format
 * Hugging Face checkpoints use): an 8-byte little-endian header length, a
 * JSON header naming each tensor's dtype, shape and byte range, then the
 * raw little-endian data.
 *
 * The file is mmap'd; tensors are returned as pointers into the mapping
 * (valid until fa_st_close). Everything is checked at open: the header
 * length lies within the file, the header is a JSON object, every entry
 * has a known dtype (F32, BF16, F16), a shape of non-negative integers and
 * data_offsets [begin, end] inside the data area whose size equals the
 * shape's element count times the dtype's size, and no two tensors
 * overlap. Errors name the file and, when there is one, the tensor. */
#ifndef FA_SAFETENSORS_H
#define FA_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define FA_ST_MAX_DIMS 8

enum fa_st_dtype {
    FA_ST_F32 = 0,
    FA_ST_BF16 = 1,
    FA_ST_F16 = 2,
};

/* One tensor of an open file. */
struct fa_st_tensor {
    const char *name; /* NUL-terminated, owned by the file */
    int dtype;        /* enum fa_st_dtype */
    int ndim;         /* 0..FA_ST_MAX_DIMS */
    int64_t shape[FA_ST_MAX_DIMS];
    size_t nelem;     /* product of shape (1 for a scalar) */
    size_t nbytes;    /* nelem x dtype size */
    size_t offset;    /* from the start of the data area */
    const void *data; /* into the mapping (NULL from fa_st_parse_header) */
};

struct fa_st;

/* Bytes per element of dtype (4, 2, 2), 0 for an unknown one. */
size_t fa_st_dtype_size(int dtype);
/* "F32", "BF16", "F16" (or "?"). */
const char *fa_st_dtype_name(int dtype);

/* Opens and validates path. Returns NULL with fa_err set ("'PATH': ...",
 * naming the tensor when one entry is bad). */
struct fa_st *fa_st_open(const char *path);
void fa_st_close(struct fa_st *f);
const char *fa_st_path(const struct fa_st *f);

/* The tensor called name, or NULL when absent (fa_err not set). */
const struct fa_st_tensor *fa_st_find(const struct fa_st *f, const char *name);
/* Number of tensors and the i-th (sorted by name). */
size_t fa_st_count(const struct fa_st *f);
const struct fa_st_tensor *fa_st_at(const struct fa_st *f, size_t i);
/* The __metadata__ value for key (a string), or NULL. */
const char *fa_st_metadata(const struct fa_st *f, const char *key);

/* Validates a whole file image held in memory: buf[0..len) is the 8-byte
 * length, the header and the data. name is used in messages. Returns the
 * parsed file (tensors point into buf, which must outlive it; free with
 * fa_st_close), or NULL with fa_err set. Used by fa_st_open and the fuzz
 * harness. */
struct fa_st *fa_st_parse_header(const void *buf, size_t len, const char *name);

#endif
