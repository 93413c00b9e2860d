/* fa-embed: embeds selected records and appends them to a memory store
 * (fa-store(5)), passing every record through unchanged. The text of a
 * record is a template over its fields (--text) or one field (--field).
 * Records are embedded in batches and each batch is committed to the
 * store in one step; a record whose id is already stored is skipped.
 * A batch never spans two (symbol, date) groups of the stream: it is
 * embedded before a record of another group passes, so the `llm` records
 * of its call carry exactly its records' symbol and date (and their
 * latest asof) and keep the stream's day order. Memory: one batch of
 * records. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_cli.h"
#include "fa_date.h"
#include "fa_embedder.h"
#include "fa_err.h"
#include "fa_ndjson.h"
#include "fa_record.h"
#include "fa_store.h"
#include "fa_banned.h"

#define KINDS_MAX 16

static const char *kinds[KINDS_MAX];
static size_t nkinds;
static char *kinds_buf;

struct item {
    struct json_object *rec; /* our reference */
    char *text;
    char *where;
};

static struct item *batch;
static size_t nbatch, batch_max = 64;
static struct fa_store *store;
static struct fa_embedder *emb;
static size_t n_stored, n_known;

static void usage(void)
{
    printf("Usage: %s --store DIR (--text TEMPLATE | --field NAME) [OPTION]... [FILE]...\n"
           "Embed selected records and append them to a memory store; pass the stream on.\n"
           "\n"
           "  -s, --store DIR       the store (created when missing)\n"
           "  -t, --text TEMPLATE   the text to embed: {field} takes a record field;\n"
           "                        \\n \\t \\\\ escapes, {{ and }} for braces\n"
           "  -f, --field NAME      the text is the record's field NAME\n"
           "  -k, --kind LIST       embed only these kinds (comma-separated; default:\n"
           "                        every record that has the fields)\n"
           "  -b, --batch N         records per embedding call and commit (default 64)\n"
           "      --dtype TYPE      rows of a new store: f32, f16 or int8 (default f32;\n"
           "                        an existing store must be of this type)\n"
           "      --strict          a bad record is fatal (exit 1)\n"
           "  -q, --quiet           no warnings\n"
           "  -v, --verbose         more messages\n"
           "  -h, --help            this help\n"
           "  -V, --version         version\n"
           "\n"
           "Environment: FA_EMBED_STORE (default --store), FA_EMBED_DTYPE (default\n"
           "--dtype), FA_EMBED_DIM, FA_EMBED_MODEL, FA_LLM_URL, FA_LLM (see fa-models(7)).\n"
           "See fa-embed(1), fa-store(5).\n",
           fa_progname);
}

static bool kind_selected(const char *kind)
{
    if (nkinds == 0)
        return true;
    for (size_t i = 0; i < nkinds; i++)
        if (kind && strcmp(kind, kinds[i]) == 0)
            return true;
    return false;
}

/* Checks a template: balanced braces, non-empty field names, known
 * escapes. Returns 0 or -1 with fa_err set. */
static int template_check(const char *t)
{
    for (const char *p = t; *p; p++) {
        if (*p == '\\') {
            if (!strchr("nt\\", p[1]) || !p[1]) {
                fa_err_set("template: unknown escape '\\%c'", p[1] ? p[1] : ' ');
                return -1;
            }
            p++;
        } else if (*p == '{' && p[1] == '{') {
            p++;
        } else if (*p == '}' && p[1] == '}') {
            p++;
        } else if (*p == '{') {
            const char *e = strchr(p, '}');
            if (!e || e == p + 1 || memchr(p + 1, '{', (size_t)(e - p - 1))) {
                fa_err_set("template: bad field reference at '%.20s'", p);
                return -1;
            }
            p = e;
        } else if (*p == '}') {
            fa_err_set("template: unmatched '}'");
            return -1;
        }
    }
    return 0;
}

/* Expands a checked template over r. Returns a malloc'd string, or NULL
 * with *missing set to the first field that is absent or not a string or
 * number (a malloc'd name). */
static char *template_expand(const char *t, struct json_object *r, char **missing)
{
    size_t cap = 256, n = 0;
    char *out = malloc(cap);
    if (!out)
        fa_die(FA_EXIT_FAIL, "out of memory");
    *missing = NULL;
    for (const char *p = t; *p; p++) {
        const char *piece = p;
        size_t len = 1;
        char c;
        if (*p == '\\') {
            c = p[1] == 'n' ? '\n' : p[1] == 't' ? '\t' : '\\';
            piece = &c;
            p++;
        } else if ((*p == '{' && p[1] == '{') || (*p == '}' && p[1] == '}')) {
            p++;
        } else if (*p == '{') {
            const char *e = strchr(p, '}');
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(e - p - 1), p + 1);
            struct json_object *v;
            if (!json_object_object_get_ex(r, name, &v) ||
                !(json_object_is_type(v, json_type_string) ||
                  json_object_is_type(v, json_type_int) ||
                  json_object_is_type(v, json_type_double))) {
                *missing = strdup(name);
                free(out);
                return NULL;
            }
            piece = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                             : json_object_to_json_string(v);
            len = json_object_is_type(v, json_type_string) ? (size_t)json_object_get_string_len(v)
                                                           : strlen(piece);
            p = e;
        }
        if (n + len + 1 > cap) {
            while (n + len + 1 > cap)
                cap *= 2;
            char *nb = realloc(out, cap);
            if (!nb)
                fa_die(FA_EXIT_FAIL, "out of memory");
            out = nb;
        }
        memcpy(out + n, piece, len);
        n += len;
    }
    out[n] = 0;
    return out;
}

static void batch_free(void)
{
    for (size_t i = 0; i < nbatch; i++) {
        json_object_put(batch[i].rec);
        free(batch[i].text);
        free(batch[i].where);
    }
    nbatch = 0;
}

/* Embeds the batch, queues it in the store and commits. */
static void flush(void)
{
    if (nbatch == 0)
        return;
    size_t dim = fa_store_dim(store);
    const char **texts = malloc(nbatch * sizeof *texts);
    float *vecs = malloc(nbatch * dim * sizeof *vecs);
    struct json_object *llm = json_object_new_array();
    if (!texts || !vecs || !llm)
        fa_die(FA_EXIT_FAIL, "out of memory");
    for (size_t i = 0; i < nbatch; i++)
        texts[i] = batch[i].text;
    int rc = fa_embedder_embed(emb, "embed", texts, nbatch, vecs, llm);
    /* the call was made for the whole batch, one (symbol, date): its
     * records' symbol and date, and their latest asof */
    struct json_object *last = batch[nbatch - 1].rec;
    const char *asof = NULL;
    for (size_t i = 0; i < nbatch; i++) {
        const char *a = fa_record_asof(batch[i].rec);
        if (a && (!asof || strcmp(a, asof) > 0))
            asof = a;
    }
    for (size_t i = 0; i < json_object_array_length(llm); i++)
        fa_emit(fa_record_attribute(json_object_get(json_object_array_get_idx(llm, i)),
                                    fa_record_symbol(last), fa_record_date(last), asof));
    if (rc < 0) {
        char *msg = strdup(fa_err_get());
        for (size_t i = 0; i < nbatch; i++)
            fa_bad_record(fa_record_symbol(batch[i].rec), fa_record_date(batch[i].rec),
                          batch[i].where, "cannot embed: %s", msg ? msg : "error");
        free(msg);
    } else {
        for (size_t i = 0; i < nbatch; i++) {
            int a = fa_store_add(store, batch[i].rec, vecs + i * dim);
            if (a < 0)
                fa_bad_record(fa_record_symbol(batch[i].rec), fa_record_date(batch[i].rec),
                              batch[i].where, "%s", fa_err_get());
            else if (a == 0)
                n_known++;
        }
        long c = fa_store_commit(store);
        if (c < 0)
            fa_die_err(FA_EXIT_FAIL);
        n_stored += (size_t)c;
    }
    json_object_put(llm);
    free(texts);
    free(vecs);
    batch_free();
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void handle(struct json_object *r, const char *where, const char *tmpl)
{
    const char *kind = fa_record_kind(r);
    /* a batch is one (symbol, date) group: embed it before another passes */
    if (nbatch && !(same_str(fa_record_symbol(r), fa_record_symbol(batch[0].rec)) &&
                    same_str(fa_record_date(r), fa_record_date(batch[0].rec))))
        flush();
    bool ours = kind && (!strcmp(kind, "error") || !strcmp(kind, "llm") || !strcmp(kind, "hit"));
    if (!kind_selected(kind) || (ours && nkinds == 0)) {
        fa_emit(r);
        return;
    }
    char *missing;
    char *text = template_expand(tmpl, r, &missing);
    const char *sym = fa_record_symbol(r), *date = fa_record_date(r), *asof = fa_record_asof(r);
    int day;
    json_object_get(r);
    fa_emit(r); /* the record goes on first, whatever happens to it here */
    if (!text) {
        if (nkinds)
            fa_bad_record(sym, date, where, "no string or number field '%s' to embed", missing);
        free(missing);
    } else if (!asof || fa_date_parse(asof, &day) < 0) {
        fa_bad_record(sym, date, where, "a memory needs a valid asof or date");
        free(text);
    } else {
        /* a record without id is stored under its content id: known
         * records are not embedded again */
        static const char *const skip[] = {"id", NULL};
        const char *id = fa_record_str(r, "id");
        char cid[FA_ID_HEX];
        if (!id) {
            char *canon = fa_json_canonical(r, skip);
            if (!canon)
                fa_die(FA_EXIT_FAIL, "out of memory");
            fa_hash_hex(canon, strlen(canon), cid);
            free(canon);
            id = cid;
        }
        if (fa_store_has_id(store, id)) {
            n_known++;
            free(text);
        } else {
            batch[nbatch].rec = json_object_get(r);
            batch[nbatch].text = text;
            batch[nbatch].where = strdup(where);
            if (++nbatch == batch_max)
                flush();
        }
    }
    json_object_put(r);
}

int main(int argc, char **argv)
{
    enum { OPT_DTYPE = 256, OPT_STRICT };
    static const struct option opts[] = {
        {"batch", required_argument, NULL, 'b'}, {"dtype", required_argument, NULL, OPT_DTYPE},
        {"field", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
        {"kind", required_argument, NULL, 'k'},  {"quiet", no_argument, NULL, 'q'},
        {"store", required_argument, NULL, 's'}, {"strict", no_argument, NULL, OPT_STRICT},
        {"text", required_argument, NULL, 't'},  {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},     {NULL, 0, NULL, 0},
    };
    const char *o_store = NULL, *o_text = NULL, *o_field = NULL, *o_kind = NULL, *o_dtype = NULL;
    int elem = 0;
    char *tmpl = NULL;
    long nb = 64;
    int c, status = FA_EXIT_OK;

    fa_err_init(argv[0]);
    while ((c = getopt_long(argc, argv, "b:f:hk:qs:t:vV", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (fa_cli_long("batch", optarg, 1, 4096, &nb) < 0)
                fa_cli_usage_error("%s", fa_err_get());
            break;
        case OPT_DTYPE:
            o_dtype = optarg;
            break;
        case 'f':
            o_field = optarg;
            break;
        case 'h':
            usage();
            return FA_EXIT_OK;
        case 'k':
            o_kind = optarg;
            break;
        case 'q':
            fa_verbosity = 0;
            break;
        case 's':
            o_store = optarg;
            break;
        case OPT_STRICT:
            fa_strict = true;
            break;
        case 't':
            o_text = optarg;
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
    o_store = fa_cli_conf(o_store, "FA_EMBED_STORE", NULL);
    if (!o_store || !*o_store)
        fa_cli_usage_error("--store DIR is required");
    o_dtype = fa_cli_conf(o_dtype, "FA_EMBED_DTYPE", NULL);
    if (o_dtype && *o_dtype && (elem = fa_store_elem_parse(o_dtype)) < 0)
        fa_cli_usage_error("--dtype: %s", fa_err_get());
    if (!!o_text == !!o_field)
        fa_cli_usage_error("give one of --text TEMPLATE and --field NAME");
    if (o_field) {
        if (!*o_field || strpbrk(o_field, "{}"))
            fa_cli_usage_error("bad --field '%s'", o_field);
        size_t n = strlen(o_field) + 3;
        tmpl = malloc(n);
        if (!tmpl)
            fa_die(FA_EXIT_FAIL, "out of memory");
        snprintf(tmpl, n, "{%s}", o_field);
    } else {
        if (template_check(o_text) < 0)
            fa_cli_usage_error("bad --text: %s", fa_err_get());
        tmpl = strdup(o_text);
    }
    if (o_kind) {
        kinds_buf = strdup(o_kind);
        char *save = NULL;
        for (char *k = strtok_r(kinds_buf, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
            if (nkinds == KINDS_MAX)
                fa_cli_usage_error("--kind: more than %d kinds", KINDS_MAX);
            kinds[nkinds++] = k;
        }
        if (nkinds == 0)
            fa_cli_usage_error("--kind: empty list");
    }
    batch_max = (size_t)nb;

    emb = fa_embedder_open(NULL);
    if (!emb)
        fa_die(FA_EXIT_USAGE, "%s", fa_err_get());
    size_t dim = fa_embedder_dim(emb);
    if (!dim)
        fa_die(FA_EXIT_FAIL, "%s", fa_err_get());
    store = fa_store_open_elem(o_store, FA_STORE_WRITE, fa_embedder_model(emb), dim, elem);
    if (!store) {
        /* another model, dimension or element type is a configuration error */
        fa_die(strstr(fa_err_get(), "holds") ? FA_EXIT_USAGE : FA_EXIT_FAIL, "%s", fa_err_get());
    }
    batch = calloc(batch_max, sizeof *batch);
    if (!batch)
        fa_die(FA_EXIT_FAIL, "out of memory");

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
        handle(r, fa_ndjson_where(rd), tmpl);
    }
    fa_ndjson_close(rd);
    flush();
    fa_info("stored %zu new records in '%s' (%zu already there), %zu in all", n_stored, o_store,
            n_known, fa_store_count(store));
    if (fa_store_close(store) < 0) {
        fa_warn("%s", fa_err_get());
        status = FA_EXIT_FAIL;
    }
    fa_embedder_close(emb);
    free(batch);
    free(tmpl);
    free(kinds_buf);
    if (fa_stdout_close() != 0 && status == FA_EXIT_OK)
        status = FA_EXIT_FAIL;
    return status;
}
