/* fa_http.h: a small HTTP client on libcurl for data providers and model
 * endpoints: GET and POST (JSON body) with extra headers, timeouts,
 * retries with exponential backoff and full jitter on 429/5xx/timeouts/
 * connection errors (honouring Retry-After), and a cap on the body size.
 *
 * Messages never contain header values: API keys travel in headers. URLs
 * do appear in messages, so callers must not put secrets in URLs they
 * pass (or must pass a redacted form in fa_http_opts.url_label). */
#ifndef FA_HTTP_H
#define FA_HTTP_H

#include <stddef.h>

/* How a request failed (fa_http_resp.error). */
enum fa_http_error {
    FA_HTTP_OK = 0,       /* a reply with a 2xx status */
    FA_HTTP_ENETWORK = 1, /* DNS, connection refused/reset, truncated reply */
    FA_HTTP_ETIMEOUT = 2, /* connect or total timeout */
    FA_HTTP_ESTATUS = 3,  /* a reply with a non-2xx status (see status) */
    FA_HTTP_ETOOBIG = 4,  /* body larger than max_body */
    FA_HTTP_EUSAGE = 5,   /* bad arguments, out of memory, curl init */
};

/* Per-call options. Zero-initialise, then set what you need; a zero field
 * means its default (in brackets). */
struct fa_http_opts {
    const char *const *headers; /* NULL-terminated "Name: value" list */
    long timeout_ms;            /* whole transfer, per attempt [30000] */
    long connect_timeout_ms;    /* [10000] */
    int retries;                /* further attempts after the first [3];
                                   negative means none */
    long base_delay_ms;         /* backoff base: attempt k waits uniform
                                   [0, min(max, base*2^k)] [500] */
    long max_delay_ms;          /* cap on any wait, Retry-After too [30000] */
    size_t max_body;            /* cap on the body in bytes [64 MiB] */
    const char *url_label;      /* the URL as shown in messages [url] */
    const char *user_agent;     /* [fa/VERSION] */
};

/* A reply. Owned by the caller; release with fa_http_resp_free. */
struct fa_http_resp {
    enum fa_http_error error; /* FA_HTTP_OK or why the last attempt failed */
    long status;              /* HTTP status of the last reply, 0 if none */
    char *body;               /* NUL-terminated (may hold NULs inside) */
    size_t len;               /* body length in bytes */
    char *content_type;       /* Content-Type value, or NULL */
    long retry_after_s;       /* Retry-After in seconds (delta-seconds, or the wait
                                 until its HTTP date), -1 if absent */
    int attempts;             /* attempts made, >= 1 */
};

/* GET url. On success (2xx) returns 0 with *resp filled. On failure
 * returns -1, sets fa_err ("GET 'URL': why", never header values) and
 * still fills *resp (error class, status and body of the last reply, if
 * any) so that callers can inspect a 4xx body. Retries 429, 5xx,
 * timeouts and network errors; never retries other 4xx or ETOOBIG. */
int fa_http_get(const char *url, const struct fa_http_opts *opts, struct fa_http_resp *resp)
    __attribute__((warn_unused_result));

/* POST url with body (len bytes; Content-Type: application/json unless
 * a Content-Type header is given in opts->headers). Same contract as
 * fa_http_get. */
int fa_http_post(const char *url, const char *body, size_t len, const struct fa_http_opts *opts,
                 struct fa_http_resp *resp) __attribute__((warn_unused_result));

/* Frees what resp holds and zeroes it; safe on a zeroed or freed resp. */
void fa_http_resp_free(struct fa_http_resp *resp);

/* A short name of an error class ("network", "timeout", "http status",
 * "body too large", "usage"). */
const char *fa_http_strerror(enum fa_http_error e);

/* The percent-encoding of s (RFC 3986 unreserved kept); malloc'd, or
 * NULL on out of memory. */
char *fa_http_escape(const char *s);

#endif
