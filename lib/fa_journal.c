/* fa_journal.c: the signed, hash-chained decision journal of a run.
 *
 * An entry is one line: a JSON object whose members are, in this order,
 * kind ("journal"), symbol, date, seq, time, stream, stream_sha256,
 * decision, prev, key, and last sig. The signature covers the line's
 * bytes without its sig member (the line up to ,"sig": and a closing
 * brace), so checking it needs no JSON re-serialisation; prev is the
 * SHA-256 of the whole previous line (without its newline), 64 zeros for
 * the first. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "fa_err.h"
#include "fa_file.h"
#include "fa_journal.h"
#include "fa_str.h"
#include "fa_banned.h"

#define SHA_HEX     (2 * crypto_hash_sha256_BYTES + 1)
#define SIG_HEX     (2 * crypto_sign_BYTES + 1)
#define MAX_JOURNAL ((size_t)1 << 30)
#define MAX_STREAM  ((size_t)1 << 30)
#define SIG_MARK    ",\"sig\":\""

static const char zero_hash[SHA_HEX] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static int init(void)
{
    if (sodium_init() < 0) {
        fa_err_set("cannot initialise libsodium");
        return -1;
    }
    return 0;
}

static void sha_hex(const void *data, size_t len, char out[SHA_HEX])
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(out, SHA_HEX, h, sizeof h);
}

void fa_journal_pk_hex(const unsigned char pk[FA_JOURNAL_PK_BYTES], char out[65])
{
    sodium_bin2hex(out, 65, pk, FA_JOURNAL_PK_BYTES);
}

static int hex_to_bin(const char *hex, size_t hexlen, unsigned char *bin, size_t binlen)
{
    size_t got = 0;

    if (hexlen != 2 * binlen)
        return -1;
    if (sodium_hex2bin(bin, binlen, hex, hexlen, NULL, &got, NULL) != 0 || got != binlen)
        return -1;
    return 0;
}

int fa_journal_key_path(char *buf, size_t n)
{
    const char *p = getenv("FA_JOURNAL_KEY"), *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
    int w;

    if (p && *p)
        w = snprintf(buf, n, "%s", p);
    else if (x && *x == '/')
        w = snprintf(buf, n, "%s/fa/journal.key", x);
    else if (h && *h)
        w = snprintf(buf, n, "%s/.config/fa/journal.key", h);
    else {
        fa_err_set("no place for the journal key: set HOME, XDG_CONFIG_HOME or FA_JOURNAL_KEY");
        return -1;
    }
    if (w < 0 || (size_t)w >= n) {
        fa_err_set("journal key path too long");
        return -1;
    }
    return 0;
}

/* mkdir -p of path's parent directories, mode 0700. */
static int make_parents(const char *path)
{
    char d[PATH_MAX];
    size_t i, n = strlen(path);

    if (n >= sizeof d) {
        fa_err_set("path too long '%s'", path);
        return -1;
    }
    memcpy(d, path, n + 1);
    for (i = 1; i < n; i++) {
        if (d[i] != '/')
            continue;
        d[i] = 0;
        if (mkdir(d, 0700) < 0 && errno != EEXIST) {
            fa_err_sys("cannot create '%s'", d);
            return -1;
        }
        d[i] = '/';
    }
    return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes data to path atomically with the given mode. With excl, path
 * must not exist yet: two processes making it at once both see the one
 * file that won (link, not rename); the loser gets EEXIST. */
static int save(const char *path, const void *data, size_t len, mode_t mode, int excl)
{
    char tmp[PATH_MAX];
    int fd;

    if (snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path) >= (int)sizeof tmp) {
        fa_err_set("path too long '%s'", path);
        return -1;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        fa_err_sys("cannot create '%s'", tmp);
        return -1;
    }
    if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        fa_err_sys("cannot write '%s'", tmp);
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) < 0) {
        fa_err_sys("cannot write '%s'", path);
        unlink(tmp);
        return -1;
    }
    if (excl) {
        int rc = link(tmp, path), e = errno;
        unlink(tmp);
        if (rc < 0) {
            fa_err_sys("cannot write '%s'", path);
            errno = e;
            return -1;
        }
        return 0;
    }
    if (rename(tmp, path) < 0) {
        fa_err_sys("cannot write '%s'", path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

int fa_journal_key_load(const char *path, int create, struct fa_journal_key *k, int *created)
{
    unsigned char seed[crypto_sign_SEEDBYTES];
    char *buf = NULL;
    size_t len = 0;
    struct stat st;

    *created = 0;
    if (init() < 0)
        return -1;
    if (fa_file_read(path, 4096, &buf, &len) < 0) {
        char hex[2 * crypto_sign_SEEDBYTES + 2];
        if (errno != ENOENT || !create)
            return -1;
        randombytes_buf(seed, sizeof seed);
        sodium_bin2hex(hex, sizeof hex - 1, seed, sizeof seed);
        len = strlen(hex);
        hex[len++] = '\n';
        int rc = make_parents(path) < 0 ? -1 : save(path, hex, len, 0600, 1);
        sodium_memzero(hex, sizeof hex);
        if (rc < 0 && errno == EEXIST) /* another process made it first: use that one */
            return fa_journal_key_load(path, 0, k, created);
        if (rc < 0) {
            sodium_memzero(seed, sizeof seed);
            return -1;
        }
        *created = 1;
    } else {
        if (stat(path, &st) == 0 && (st.st_mode & 077)) {
            sodium_memzero(buf, len);
            free(buf);
            fa_err_set("journal key '%s' is readable by others (mode %03o): chmod 600 it", path,
                       (unsigned)(st.st_mode & 0777));
            return -1;
        }
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
            len--;
        int bad = hex_to_bin(buf, len, seed, sizeof seed);
        sodium_memzero(buf, len);
        free(buf);
        if (bad) {
            fa_err_set("journal key '%s': want one line of %d hex digits", path,
                       2 * crypto_sign_SEEDBYTES);
            return -1;
        }
    }
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    sodium_memzero(seed, sizeof seed);
    return 0;
}

void fa_journal_key_wipe(struct fa_journal_key *k)
{
    sodium_memzero(k, sizeof *k);
}

/* Whether s is YYYY-MM-DD in shape (digits and dashes, nothing else):
 * a day's name, never a path. */
static int is_date(const char *s)
{
    static const char pat[] = "####-##-##";

    if (!s || strlen(s) != 10)
        return 0;
    for (size_t i = 0; i < 10; i++)
        if (pat[i] == '#' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
            return 0;
    return 1;
}

/* One parsed journal line. */
struct line {
    const char *s;
    size_t len;
    char date[11];
};

/* Splits buf into lines (the last one may lack its newline: *torn). */
static struct line *split_lines(char *buf, size_t len, size_t *n, int *torn)
{
    struct line *v = NULL;
    size_t nv = 0, cap = 0, i = 0;

    *torn = 0;
    while (i < len) {
        char *nl = memchr(buf + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - buf) : len;
        if (nv == cap) {
            cap = cap ? 2 * cap : 64;
            v = fa_str_nn(realloc(v, cap * sizeof *v));
        }
        v[nv].s = buf + i;
        v[nv].len = end - i;
        v[nv].date[0] = 0;
        nv++;
        if (!nl)
            *torn = 1;
        i = end + 1;
    }
    *n = nv;
    return v;
}

/* The date member of an entry line (parsed), into out; "" when none. */
static void line_date(const struct line *l, char out[11])
{
    struct json_tokener *t = json_tokener_new();
    struct json_object *o = json_tokener_parse_ex(t, l->s, (int)l->len), *d;

    out[0] = 0;
    if (o && json_object_object_get_ex(o, "date", &d) && json_object_is_type(d, json_type_string) &&
        is_date(json_object_get_string(d)))
        memcpy(out, json_object_get_string(d), 11);
    json_object_put(o);
    json_tokener_free(t);
}

/* The day's own decision record and symbol from its stream (fa's
 * records open with kind, symbol and date, so a prefix picks them). */
static struct json_object *day_decision(const char *buf, size_t len, const char *date,
                                        char **symbol)
{
    static const char pre[] = "{\"kind\":\"decision\",";
    struct json_object *dec = NULL;
    size_t i = 0;

    *symbol = NULL;
    while (i < len) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - buf) : len;
        if (end - i > sizeof pre && memcmp(buf + i, pre, sizeof pre - 1) == 0) {
            struct json_tokener *t = json_tokener_new();
            struct json_object *o = json_tokener_parse_ex(t, buf + i, (int)(end - i)), *d, *s;
            json_tokener_free(t);
            if (o && json_object_object_get_ex(o, "date", &d) &&
                strcmp(json_object_get_string(d), date) == 0) {
                if (json_object_object_get_ex(o, "symbol", &s)) {
                    free(*symbol);
                    *symbol = fa_str_nn(strdup(json_object_get_string(s)));
                }
                json_object_put(dec);
                dec = json_object_get(o);
            }
            json_object_put(o);
        }
        i = end + 1;
    }
    return dec;
}

/* Builds, signs and writes one entry for date; updates prev. */
static int append_one(int fd, const char *run, const char *date, unsigned long seq,
                      char prev[SHA_HEX], const struct fa_journal_key *k)
{
    char path[PATH_MAX], rel[32], hash[SHA_HEX], pkhex[65], tbuf[32], sighex[SIG_HEX];
    unsigned char sig[crypto_sign_BYTES];
    char *buf = NULL, *symbol = NULL;
    size_t len = 0;
    struct json_object *e, *dec;
    struct timespec ts;
    struct tm tm;
    struct fa_str line = {0};
    int rc = -1;

    snprintf(rel, sizeof rel, "days/%s.ndjson", date);
    snprintf(path, sizeof path, "%s/%s", run, rel);
    if (fa_file_read(path, MAX_STREAM, &buf, &len) < 0)
        return -1;
    sha_hex(buf, len, hash);
    dec = day_decision(buf, len, date, &symbol);
    free(buf);
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fa_journal_pk_hex(k->pk, pkhex);

    e = fa_str_nn(json_object_new_object());
    json_object_object_add(e, "kind", json_object_new_string("journal"));
    json_object_object_add(e, "symbol", symbol ? json_object_new_string(symbol) : NULL);
    json_object_object_add(e, "date", json_object_new_string(date));
    json_object_object_add(e, "seq", json_object_new_int64((int64_t)seq));
    json_object_object_add(e, "time", json_object_new_string(tbuf));
    json_object_object_add(e, "stream", json_object_new_string(rel));
    json_object_object_add(e, "stream_sha256", json_object_new_string(hash));
    json_object_object_add(e, "decision", dec);
    json_object_object_add(e, "prev", json_object_new_string(prev));
    json_object_object_add(e, "key", json_object_new_string(pkhex));
    free(symbol);

    const char *body =
        json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t blen = strlen(body);
    crypto_sign_detached(sig, NULL, (const unsigned char *)body, blen, k->sk);
    sodium_bin2hex(sighex, sizeof sighex, sig, sizeof sig);
    fa_str_addn(&line, body, blen - 1); /* without the closing brace */
    fa_str_add(&line, SIG_MARK);
    fa_str_add(&line, sighex);
    fa_str_add(&line, "\"}");
    sha_hex(line.s, line.len, prev);
    fa_str_add(&line, "\n");
    if (write_all(fd, line.s, line.len) < 0 || fsync(fd) < 0) {
        fa_err_sys("cannot append to '%s/journal.ndjson'", run);
        goto out;
    }
    rc = 0;
out:
    json_object_put(e);
    free(line.s);
    return rc;
}

/* RUN/journal.pub: written on first use; must match k afterwards. */
static int check_pub(const char *run, const struct fa_journal_key *k)
{
    char path[PATH_MAX], hex[66], *buf = NULL;
    size_t len = 0;

    snprintf(path, sizeof path, "%s/journal.pub", run);
    fa_journal_pk_hex(k->pk, hex);
    if (fa_file_read(path, 4096, &buf, &len) < 0) {
        if (errno != ENOENT)
            return -1;
        hex[64] = '\n';
        hex[65] = 0;
        return save(path, hex, 65, 0644, 0);
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        len--;
    if (len != 64 || memcmp(buf, hex, 64) != 0) {
        fa_err_set("'%s' holds another key than this one (%.16s...): a run's journal is signed "
                   "by one key; set FA_JOURNAL_KEY to that key's file",
                   path, hex);
        free(buf);
        return -1;
    }
    free(buf);
    return 0;
}

int fa_journal_append(const char *run, const char *date, const struct fa_journal_key *k,
                      size_t *appended, size_t *recovered)
{
    char path[PATH_MAX], prev[SHA_HEX];
    char *buf = NULL, **days = NULL;
    size_t len = 0, nl = 0, nd = 0, i, j;
    struct line *lines = NULL;
    int fd, torn = 0, rc = -1;
    struct stat st;

    *appended = 0;
    *recovered = 0;
    if (init() < 0)
        return -1;
    snprintf(path, sizeof path, "%s/journal.ndjson", run);
    fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        fa_err_sys("cannot open '%s'", path);
        return -1;
    }
    if (flock(fd, LOCK_EX) < 0) {
        fa_err_sys("cannot lock '%s'", path);
        close(fd);
        return -1;
    }
    if (check_pub(run, k) < 0)
        goto out;
    if (fstat(fd, &st) < 0 || fa_file_read(path, MAX_JOURNAL, &buf, &len) < 0)
        goto out;
    lines = split_lines(buf, len, &nl, &torn);
    if (torn) {
        /* an append cut short (a crash mid-write): its day gets a new entry */
        size_t keep = (size_t)(lines[nl - 1].s - buf);
        if (ftruncate(fd, (off_t)keep) < 0 || fsync(fd) < 0) {
            fa_err_sys("cannot cut the torn last line of '%s'", path);
            goto out;
        }
        nl--;
        *recovered = 1;
    }
    for (i = 0; i < nl; i++)
        line_date(&lines[i], lines[i].date);
    if (nl)
        sha_hex(lines[nl - 1].s, lines[nl - 1].len, prev);
    else
        memcpy(prev, zero_hash, SHA_HEX);

    if (date) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/days/%s.ndjson", run, date);
        if (!is_date(date)) {
            fa_err_set("bad day '%s' (want YYYY-MM-DD)", date);
            goto out;
        }
        if (access(p, R_OK) < 0) {
            fa_err_sys("day %s is not complete ('%s')", date, p);
            goto out;
        }
        days = fa_str_nn(malloc(sizeof *days));
        days[0] = fa_str_nn(strdup(date));
        nd = 1;
    } else if (fa_file_days(run, &days, &nd) < 0) {
        goto out;
    }
    for (i = 0; i < nd; i++) {
        for (j = 0; j < nl; j++)
            if (strcmp(lines[j].date, days[i]) == 0)
                break;
        if (j < nl)
            continue; /* journaled already: resume and replay add nothing */
        if (append_one(fd, run, days[i], nl + *appended + 1, prev, k) < 0)
            goto out;
        (*appended)++;
    }
    if (*appended && st.st_size == 0) {
        /* a new journal: make its directory entry durable too */
        int dfd = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    rc = 0;
out:
    fa_file_free_list(days, nd);
    free(lines);
    free(buf);
    close(fd);
    return rc;
}

static void reportf(fa_journal_report_fn report, void *ctx, unsigned long line, long *problems,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void reportf(fa_journal_report_fn report, void *ctx, unsigned long line, long *problems,
                    const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    (*problems)++;
    if (report)
        report(ctx, line, msg);
}

static const char *get_str(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Checks one entry's signature: the line up to ,"sig":"HEX"} with a
 * closing brace, by pk. Returns 0 when good, 1 when the line has no
 * well-formed sig, 2 when the signature does not verify. */
static int check_sig(const struct line *l, const unsigned char *pk)
{
    unsigned char sig[crypto_sign_BYTES];
    const char *m = NULL, *p;
    size_t hexlen = 2 * crypto_sign_BYTES, blen;
    int ok;

    for (p = l->s; (p = memmem(p, l->len - (size_t)(p - l->s), SIG_MARK, sizeof SIG_MARK - 1)); p++)
        m = p;
    if (!m)
        return 1;
    p = m + sizeof SIG_MARK - 1;
    if ((size_t)(l->s + l->len - p) != hexlen + 2 || memcmp(p + hexlen, "\"}", 2) != 0 ||
        hex_to_bin(p, hexlen, sig, sizeof sig) < 0)
        return 1;
    blen = (size_t)(m - l->s);
    char *body = fa_str_nn(malloc(blen + 2));
    memcpy(body, l->s, blen);
    body[blen] = '}';
    body[blen + 1] = 0;
    ok = crypto_sign_verify_detached(sig, (unsigned char *)body, blen + 1, pk) == 0;
    free(body);
    return ok ? 0 : 2;
}

long fa_journal_verify(const char *run, const unsigned char *pin, fa_journal_report_fn report,
                       void *ctx, size_t *entries)
{
    char path[PATH_MAX], prev[SHA_HEX], pkhex[65];
    unsigned char pk[FA_JOURNAL_PK_BYTES];
    char *buf = NULL, *pub = NULL, **days = NULL;
    size_t len = 0, nl = 0, nd = 0, publen = 0, i, j;
    struct line *lines = NULL;
    int torn = 0, have_pk = 0;
    long problems = 0;
    int64_t seq = 1;

    *entries = 0;
    if (init() < 0)
        return -1;
    snprintf(path, sizeof path, "%s/journal.ndjson", run);
    if (fa_file_read(path, MAX_JOURNAL, &buf, &len) < 0)
        return -1;
    if (pin) {
        memcpy(pk, pin, sizeof pk);
        have_pk = 1;
    } else {
        char pp[PATH_MAX];
        snprintf(pp, sizeof pp, "%s/journal.pub", run);
        if (fa_file_read(pp, 4096, &pub, &publen) < 0) {
            reportf(report, ctx, 0, &problems, "no public key: %s", fa_err_get());
        } else {
            while (publen > 0 && (pub[publen - 1] == '\n' || pub[publen - 1] == ' '))
                publen--;
            if (hex_to_bin(pub, publen, pk, sizeof pk) < 0)
                reportf(report, ctx, 0, &problems, "'%s' is not a public key (64 hex digits)", pp);
            else
                have_pk = 1;
        }
        free(pub);
    }
    if (have_pk)
        fa_journal_pk_hex(pk, pkhex);
    lines = split_lines(buf, len, &nl, &torn);
    memcpy(prev, zero_hash, SHA_HEX);
    for (i = 0; i < nl; i++) {
        struct line *l = &lines[i];
        unsigned long ln = (unsigned long)i + 1;
        struct json_object *o = NULL, *v = NULL;
        struct json_tokener *t;
        const char *s, *stream, *hash;
        char h[SHA_HEX];

        if (torn && i == nl - 1) {
            reportf(report, ctx, ln, &problems,
                    "torn last line (an append cut short; the next append cuts it off)");
            break;
        }
        t = json_tokener_new();
        o = json_tokener_parse_ex(t, l->s, (int)l->len);
        if (!o || t->char_offset != (int)l->len || !json_object_is_type(o, json_type_object)) {
            reportf(report, ctx, ln, &problems, "not a journal entry (not one JSON object)");
            json_object_put(o);
            json_tokener_free(t);
            sha_hex(l->s, l->len, prev);
            continue;
        }
        json_tokener_free(t);
        (*entries)++;
        s = get_str(o, "kind");
        if (!s || strcmp(s, "journal") != 0)
            reportf(report, ctx, ln, &problems, "not a journal entry (kind is not \"journal\")");
        if (!json_object_object_get_ex(o, "seq", &v) || json_object_get_int64(v) != seq) {
            reportf(report, ctx, ln, &problems,
                    "entry out of place: seq %s where %lld was due (an entry before it was "
                    "deleted, or entries were reordered)",
                    v ? json_object_get_string(v) : "missing", (long long)seq);
            if (v)
                seq = json_object_get_int64(v); /* report a gap once, not on every line after */
        }
        seq++;
        s = get_str(o, "prev");
        if (!s || strcmp(s, prev) != 0)
            reportf(report, ctx, ln, &problems,
                    "chain broken: prev is not the hash of %s (an entry was edited, deleted "
                    "or moved)",
                    i ? "the line before" : "nothing (this is the first line)");
        s = get_str(o, "key");
        if (have_pk && (!s || strcmp(s, pkhex) != 0))
            reportf(report, ctx, ln, &problems, "signed by another key (%.16s..., not %.16s...)",
                    s ? s : "none", pkhex);
        else if (have_pk) {
            int bad = check_sig(l, pk);
            if (bad == 1)
                reportf(report, ctx, ln, &problems, "no well-formed signature (sig)");
            else if (bad == 2)
                reportf(report, ctx, ln, &problems,
                        "signature does not verify (the entry was edited after signing)");
        }
        s = get_str(o, "date");
        stream = get_str(o, "stream");
        hash = get_str(o, "stream_sha256");
        if (is_date(s))
            memcpy(l->date, s, 11);
        for (j = 0; l->date[0] && j < i; j++) {
            if (strcmp(lines[j].date, l->date) == 0) {
                reportf(report, ctx, ln, &problems, "day %s journaled twice (first on line %zu)",
                        l->date, j + 1);
                break;
            }
        }
        {
            char want[32];
            snprintf(want, sizeof want, "days/%s.ndjson", s ? s : "?");
            if (!is_date(s) || !stream || strcmp(stream, want) != 0 || !hash) {
                reportf(report, ctx, ln, &problems, "no day stream named for the entry's date");
            } else {
                char sp[PATH_MAX], *sb = NULL;
                size_t sl = 0;
                snprintf(sp, sizeof sp, "%s/%s", run, stream);
                if (fa_file_read(sp, MAX_STREAM, &sb, &sl) < 0) {
                    reportf(report, ctx, ln, &problems, "%s is missing (%s)", stream, fa_err_get());
                } else {
                    sha_hex(sb, sl, h);
                    free(sb);
                    if (strcmp(h, hash) != 0)
                        reportf(report, ctx, ln, &problems,
                                "%s no longer hashes as recorded (changed after its decision)",
                                stream);
                }
            }
        }
        json_object_put(o);
        sha_hex(l->s, l->len, prev);
    }
    if (fa_file_days(run, &days, &nd) == 0) {
        for (i = 0; i < nd; i++) {
            for (j = 0; j < nl; j++)
                if (strcmp(lines[j].date, days[i]) == 0)
                    break;
            if (j == nl)
                reportf(report, ctx, 0, &problems,
                        "days/%s.ndjson has no journal entry (deleted, or not appended yet)",
                        days[i]);
        }
    } else {
        reportf(report, ctx, 0, &problems, "%s", fa_err_get());
    }
    fa_file_free_list(days, nd);
    free(lines);
    free(buf);
    return problems;
}
