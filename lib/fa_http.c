/* fa_http.c: GET/POST over libcurl with timeouts, retries (exponential
 * backoff, full jitter, Retry-After) and a body cap; see fa_http.h.
 *
 * One easy handle per call: the callers (providers, model clients) make a
 * handful of requests per run, so connection reuse is not worth the
 * shared state. Messages come from our own classification plus curl's
 * error buffer, which names hosts and system errors but never request
 * header values.
 *
 * libcurl is loaded on the first request (dlopen), not linked: it brings
 * some thirty shared libraries (TLS, Kerberos, LDAP, ...) whose loading
 * cost every program 15-30 ms at start, and most runs of most programs
 * (the offline analyst, a replay from the cache) never speak HTTP. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fa_err.h"
#include "fa_http.h"
#include "fa_banned.h"

#ifndef FA_VERSION
#define FA_VERSION "0"
#endif

#define DEF_TIMEOUT_MS 30000L
#define DEF_CONNECT_MS 10000L
#define DEF_RETRIES    3
#define DEF_BASE_MS    500L
#define DEF_MAX_MS     30000L
#define DEF_MAX_BODY   ((size_t)64 << 20)

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;
static char load_err[200];

/* The libcurl functions this file calls, from the library loaded at the
 * first request; the names below resolve to them. */
static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    time_t (*getdate)(const char *, const time_t *);
} cu;
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init    cu.global_init
#define curl_easy_init      cu.easy_init
#define curl_easy_setopt    cu.easy_setopt
#define curl_easy_perform   cu.easy_perform
#define curl_easy_getinfo   cu.easy_getinfo
#define curl_easy_cleanup   cu.easy_cleanup
#define curl_easy_strerror  cu.easy_strerror
#define curl_slist_append   cu.slist_append
#define curl_slist_free_all cu.slist_free_all
#define curl_getdate        cu.getdate

/* dlsym returns void *; POSIX guarantees it converts to a function pointer. */
#define LOAD(lib, field, name) (*(void **)&cu.field = dlsym(lib, name)) != NULL

static void global_init(void)
{
    const char *e;
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

    if (!lib)
        lib = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib ||
        !(LOAD(lib, global_init, "curl_global_init") && LOAD(lib, easy_init, "curl_easy_init") &&
          LOAD(lib, easy_setopt, "curl_easy_setopt") &&
          LOAD(lib, easy_perform, "curl_easy_perform") &&
          LOAD(lib, easy_getinfo, "curl_easy_getinfo") &&
          LOAD(lib, easy_cleanup, "curl_easy_cleanup") &&
          LOAD(lib, easy_strerror, "curl_easy_strerror") &&
          LOAD(lib, slist_append, "curl_slist_append") &&
          LOAD(lib, slist_free_all, "curl_slist_free_all") && LOAD(lib, getdate, "curl_getdate"))) {
        e = dlerror();
        snprintf(load_err, sizeof load_err, "%s", e ? e : "libcurl.so.4 not found");
        global_rc = CURLE_FAILED_INIT;
        return;
    }
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Jitter needs no cryptographic quality, only independence between
 * processes that retry at the same moment: splitmix64 per thread, seeded
 * from the clock, the pid and the state's address. */
static _Thread_local uint64_t jitter_state;

static uint64_t jitter_next(void)
{
    uint64_t z;

    if (jitter_state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        jitter_state = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                       ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)&jitter_state;
    }
    z = (jitter_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

struct xfer {
    struct fa_http_resp *resp;
    size_t cap;   /* allocated bytes of resp->body */
    size_t limit; /* max_body */
    int toobig;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    struct fa_http_resp *r = x->resp;
    size_t len = size * n;

    if (len > x->limit - r->len) {
        x->toobig = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (r->len + len + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 16384;
        char *nb;
        while (cap < r->len + len + 1)
            cap *= 2;
        nb = realloc(r->body, cap);
        if (!nb)
            return 0;
        r->body = nb;
        x->cap = cap;
    }
    memcpy(r->body + r->len, p, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

/* Trims a header line's value: skips leading blanks, cuts CR/LF/blanks. */
static char *header_value(const char *p, size_t n)
{
    char *v;

    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' '))
        n--;
    v = malloc(n + 1);
    if (v) {
        memcpy(v, p, n);
        v[n] = '\0';
    }
    return v;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    struct fa_http_resp *r = x->resp;
    size_t len = size * n;
    static const char ra[] = "retry-after:", ct[] = "content-type:";

    /* A new status line (redirects, 100-continue) starts a new header set. */
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        free(r->content_type);
        r->content_type = NULL;
        r->retry_after_s = -1;
    } else if (len > sizeof ra - 1 && strncasecmp(p, ra, sizeof ra - 1) == 0) {
        char *v = header_value(p + sizeof ra - 1, len - (sizeof ra - 1));
        char *end;
        long s;
        if (v) {
            errno = 0;
            s = strtol(v, &end, 10);
            if (end != v && *end == '\0' && errno == 0 && s >= 0) {
                r->retry_after_s = s; /* delta-seconds */
            } else {
                /* an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"): the wait
                 * until then, 0 when it has passed */
                time_t t = curl_getdate(v, NULL);
                if (t != (time_t)-1)
                    r->retry_after_s = t > time(NULL) ? (long)(t - time(NULL)) : 0;
            }
            free(v);
        }
    } else if (len > sizeof ct - 1 && strncasecmp(p, ct, sizeof ct - 1) == 0) {
        free(r->content_type);
        r->content_type = header_value(p + sizeof ct - 1, len - (sizeof ct - 1));
    }
    return len;
}

void fa_http_resp_free(struct fa_http_resp *resp)
{
    if (!resp)
        return;
    free(resp->body);
    free(resp->content_type);
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
}

const char *fa_http_strerror(enum fa_http_error e)
{
    switch (e) {
    case FA_HTTP_OK:
        return "ok";
    case FA_HTTP_ENETWORK:
        return "network";
    case FA_HTTP_ETIMEOUT:
        return "timeout";
    case FA_HTTP_ESTATUS:
        return "http status";
    case FA_HTTP_ETOOBIG:
        return "body too large";
    case FA_HTTP_EUSAGE:
        return "usage";
    }
    return "unknown";
}

char *fa_http_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s), i, j = 0;
    char *o = malloc(3 * n + 1);

    if (!o)
        return NULL;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            o[j++] = (char)c;
        } else {
            o[j++] = '%';
            o[j++] = hex[c >> 4];
            o[j++] = hex[c & 15];
        }
    }
    o[j] = '\0';
    return o;
}

/* One attempt. Returns the error class; fills resp; msg gets a short
 * reason for the message. */
static enum fa_http_error attempt(CURL *h, struct fa_http_resp *resp, size_t max_body, char *msg,
                                  size_t msgsz)
{
    struct xfer x = {resp, 0, max_body, 0};
    char ebuf[CURL_ERROR_SIZE] = "";
    CURLcode rc;

    free(resp->body);
    free(resp->content_type);
    resp->body = NULL;
    resp->content_type = NULL;
    resp->len = 0;
    resp->status = 0;
    resp->retry_after_s = -1;
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    if (!resp->body) { /* always a valid string for callers */
        resp->body = calloc(1, 1);
        if (!resp->body) {
            snprintf(msg, msgsz, "out of memory");
            return FA_HTTP_EUSAGE;
        }
    }
    if (x.toobig || rc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(msg, msgsz, "body larger than %zu bytes", max_body);
        return FA_HTTP_ETOOBIG;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(msg, msgsz, "timed out (%s)", ebuf[0] ? ebuf : curl_easy_strerror(rc));
        return FA_HTTP_ETIMEOUT;
    }
    if (rc == CURLE_WRITE_ERROR) {
        snprintf(msg, msgsz, "out of memory");
        return FA_HTTP_EUSAGE;
    }
    if (rc != CURLE_OK) {
        snprintf(msg, msgsz, "%s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
        return FA_HTTP_ENETWORK;
    }
    if (resp->status < 200 || resp->status > 299) {
        snprintf(msg, msgsz, "HTTP status %ld", resp->status);
        return FA_HTTP_ESTATUS;
    }
    return FA_HTTP_OK;
}

static int retryable(enum fa_http_error e, long status)
{
    if (e == FA_HTTP_ENETWORK || e == FA_HTTP_ETIMEOUT)
        return 1;
    if (e == FA_HTTP_ESTATUS)
        return status == 429 || (status >= 500 && status <= 599);
    return 0;
}

static int request(const char *method, const char *url, const char *body, size_t len,
                   const struct fa_http_opts *o, struct fa_http_resp *resp)
{
    static const struct fa_http_opts defaults;
    struct curl_slist *hl = NULL;
    const char *label;
    long timeout, connect, base, maxd;
    int retries, k, have_ct = 0;
    size_t max_body;
    enum fa_http_error e = FA_HTTP_EUSAGE;
    char msg[CURL_ERROR_SIZE + 64] = "";
    CURL *h = NULL;

    if (!o)
        o = &defaults;
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    label = o->url_label ? o->url_label : url ? url : "(null)";
    if (!url) {
        fa_err_set("%s '%s': no URL", method, label);
        resp->error = FA_HTTP_EUSAGE;
        return -1;
    }
    timeout = o->timeout_ms > 0 ? o->timeout_ms : DEF_TIMEOUT_MS;
    connect = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEF_CONNECT_MS;
    retries = o->retries > 0 ? o->retries : o->retries < 0 ? 0 : DEF_RETRIES;
    base = o->base_delay_ms > 0 ? o->base_delay_ms : DEF_BASE_MS;
    maxd = o->max_delay_ms > 0 ? o->max_delay_ms : DEF_MAX_MS;
    max_body = o->max_body > 0 ? o->max_body : DEF_MAX_BODY;

    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK || !(h = curl_easy_init())) {
        if (load_err[0])
            fa_err_set("%s '%s': cannot load libcurl (install libcurl4): %s", method, label,
                       load_err);
        else
            fa_err_set("%s '%s': cannot initialise libcurl", method, label);
        resp->error = FA_HTTP_EUSAGE;
        return -1;
    }
    for (const char *const *hp = o->headers; hp && *hp; hp++) {
        struct curl_slist *nl = curl_slist_append(hl, *hp);
        if (!nl) {
            snprintf(msg, sizeof msg, "out of memory");
            goto fail;
        }
        hl = nl;
        if (strncasecmp(*hp, "content-type:", 13) == 0)
            have_ct = 1;
    }
    if (body && !have_ct) {
        struct curl_slist *nl = curl_slist_append(hl, "Content-Type: application/json");
        if (!nl) {
            snprintf(msg, sizeof msg, "out of memory");
            goto fail;
        }
        hl = nl;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    /* Refuses a declared Content-Length over the cap before reading it. */
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_body);
    curl_easy_setopt(h, CURLOPT_USERAGENT, o->user_agent ? o->user_agent : "fa/" FA_VERSION);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }

    for (k = 0;; k++) {
        long wait, cap;

        resp->attempts = k + 1;
        e = attempt(h, resp, max_body, msg, sizeof msg);
        if (e == FA_HTTP_OK)
            break;
        if (k >= retries || !retryable(e, resp->status))
            break;
        /* Full jitter: uniform in [0, min(max, base * 2^k)]. */
        cap = base;
        for (int i = 0; i < k && cap < maxd; i++)
            cap *= 2;
        if (cap > maxd)
            cap = maxd;
        wait = (long)(jitter_next() % (uint64_t)(cap + 1));
        if (e == FA_HTTP_ESTATUS && resp->retry_after_s >= 0)
            wait = resp->retry_after_s > maxd / 1000 ? maxd : resp->retry_after_s * 1000;
        fa_info("%s '%s': %s; retry %d of %d in %ld ms", method, label, msg, k + 1, retries, wait);
        sleep_ms(wait);
    }

fail:
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    resp->error = e;
    if (e == FA_HTTP_OK)
        return 0;
    if (!resp->body)
        resp->body = calloc(1, 1);
    if (resp->attempts > 1)
        fa_err_set("%s '%s': %s (after %d attempts)", method, label, msg, resp->attempts);
    else
        fa_err_set("%s '%s': %s", method, label, msg);
    return -1;
}

int fa_http_get(const char *url, const struct fa_http_opts *opts, struct fa_http_resp *resp)
{
    return request("GET", url, NULL, 0, opts, resp);
}

int fa_http_post(const char *url, const char *body, size_t len, const struct fa_http_opts *opts,
                 struct fa_http_resp *resp)
{
    if (!body) {
        body = "";
        len = 0;
    }
    return request("POST", url, body, len, opts, resp);
}
