/* fa_secret.c: the API key in sodium_malloc'd (guarded, mlock'd) memory,
 * from the environment or a 0600 key file; wiped when done. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "fa_secret.h"
#include "fa_err.h"
#include "fa_banned.h"

#define MAX_KEY 4096

struct fa_secret {
    char *key; /* sodium_malloc'd, NUL-terminated */
    size_t len;
};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copies the trimmed src[0..n) into a new secret. */
static int make_secret(const char *src, size_t n, const char *what, struct fa_secret **out)
{
    struct fa_secret *s;

    while (n && is_space(src[0]))
        src++, n--;
    while (n && is_space(src[n - 1]))
        n--;
    if (!n) {
        fa_err_set("API key from %s is empty", what);
        return -1;
    }
    if (memchr(src, '\n', n) || memchr(src, '\r', n)) {
        fa_err_set("API key from %s holds a line break", what);
        return -1;
    }
    s = calloc(1, sizeof *s);
    if (!s || !(s->key = sodium_malloc(n + 1))) {
        free(s);
        fa_err_set("API key: cannot allocate locked memory");
        return -1;
    }
    memcpy(s->key, src, n);
    s->key[n] = 0;
    s->len = n;
    sodium_mprotect_readonly(s->key);
    *out = s;
    return 0;
}

static int from_file(const char *path, struct fa_secret **out)
{
    struct stat st;
    char *buf;
    ssize_t n;
    size_t got = 0;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        fa_err_sys("API key file '%s'", path);
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        fa_err_sys("API key file '%s'", path);
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        fa_err_set("API key file '%s': not a regular file", path);
        close(fd);
        return -1;
    }
    if ((st.st_mode & 077) != 0) {
        fa_err_set("API key file '%s': mode %04o lets others read it; run chmod 600 '%s'", path,
                   (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        fa_err_set("API key file '%s': not owned by you", path);
        close(fd);
        return -1;
    }
    if (st.st_size > MAX_KEY) {
        fa_err_set("API key file '%s': larger than %d bytes", path, MAX_KEY);
        close(fd);
        return -1;
    }
    buf = sodium_malloc(MAX_KEY + 1);
    if (!buf) {
        fa_err_set("API key: cannot allocate locked memory");
        close(fd);
        return -1;
    }
    while (got < MAX_KEY && (n = read(fd, buf + got, MAX_KEY - got)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fa_err_sys("API key file '%s'", path);
            sodium_free(buf);
            close(fd);
            return -1;
        }
        got += (size_t)n;
    }
    close(fd);
    rc = make_secret(buf, got, "the key file", out);
    sodium_free(buf); /* wipes */
    return rc;
}

int fa_secret_load(const char *key_file, struct fa_secret **out)
{
    static const char *const envs[] = {"FA_API_KEY", "OPENAI_API_KEY"};

    *out = NULL;
    if (sodium_init() < 0) {
        fa_err_set("libsodium initialisation failed");
        return -1;
    }
    for (size_t i = 0; i < 2; i++) {
        const char *v = getenv(envs[i]);
        if (v && *v)
            return make_secret(v, strlen(v), envs[i], out);
    }
    if (!key_file || !*key_file)
        key_file = getenv("FA_API_KEY_FILE");
    if (key_file && *key_file)
        return from_file(key_file, out);
    return 0;
}

char *fa_secret_header(const struct fa_secret *s)
{
    static const char prefix[] = "Authorization: Bearer ";
    char *h;

    if (!s)
        return NULL;
    h = sodium_malloc(sizeof prefix + s->len);
    if (!h)
        return NULL;
    memcpy(h, prefix, sizeof prefix - 1);
    memcpy(h + sizeof prefix - 1, s->key, s->len + 1);
    return h;
}

void fa_secret_wipe_free(char *p)
{
    if (p)
        sodium_free(p); /* zeroes before freeing */
}

void fa_secret_redact(const struct fa_secret *s, char *text, size_t len)
{
    char *p = text;

    if (!s || !text || s->len == 0)
        return;
    while (len >= s->len) {
        char *hit = memmem(p, len, s->key, s->len);
        if (!hit)
            break;
        memset(hit, '*', s->len);
        len -= (size_t)(hit - p) + s->len;
        p = hit + s->len;
    }
}

void fa_secret_free(struct fa_secret *s)
{
    if (!s)
        return;
    if (s->key)
        sodium_free(s->key);
    free(s);
}
