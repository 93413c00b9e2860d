/* test_http.c: fa_http against the loopback fake tests/fakes/providers.py
 * (started here): success, POST body and headers, retries on 500 and 429
 * with Retry-After, timeouts on a stalled reply, a truncated body, the
 * body cap, no retry on 404, and no header value in any message. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fa_err.h"
#include "fa_http.h"
#include "tap.h"
#include "fa_banned.h"

static pid_t fake_pid;
static char dir[] = "/tmp/fa-test-http.XXXXXX";
static char base[64];

static int start_fake(void)
{
    const char *root = getenv("FA_ROOT");
    char script[4096], pf[256];
    FILE *f;
    int port = 0;

    snprintf(script, sizeof script, "%s/tests/fakes/providers.py", root ? root : ".");
    if (!mkdtemp(dir))
        return -1;
    snprintf(pf, sizeof pf, "%s/port", dir);
    fake_pid = fork();
    if (fake_pid < 0)
        return -1;
    if (fake_pid == 0) {
        freopen("/dev/null", "w", stderr);
        execlp("python3", "python3", script, "--port-file", pf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && port == 0; i++) {
        if ((f = fopen(pf, "r"))) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (!port)
            usleep(50000);
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    return port ? 0 : -1;
}

static void stop_fake(void)
{
    char pf[256];

    if (fake_pid > 0) {
        kill(fake_pid, SIGTERM);
        waitpid(fake_pid, NULL, 0);
    }
    snprintf(pf, sizeof pf, "%s/port", dir);
    unlink(pf);
    rmdir(dir);
}

static const char *url(const char *path)
{
    static char u[512];
    snprintf(u, sizeof u, "%s%s", base, path);
    return u;
}

int main(void)
{
    static const char *const hdrs[] = {"X-Api-Key: secret123", "Accept: application/json", NULL};
    struct fa_http_opts o = {0};
    struct fa_http_resp r;
    char *e;

    fa_err_init("test_http");
    fa_verbosity = 0;
    if (start_fake() != 0) {
        printf("1..0 # SKIP cannot start tests/fakes/providers.py (python3?)\n");
        stop_fake();
        return 0;
    }
    o.headers = hdrs;
    o.base_delay_ms = 1;
    o.max_delay_ms = 20;
    o.retries = 2;

    /* GET with headers. */
    ok(fa_http_get(url("/echo?x=1"), &o, &r) == 0, "GET /echo succeeds");
    is_num(r.status, 200, 0, "status 200");
    ok(r.error == FA_HTTP_OK && r.attempts == 1, "one attempt, no error");
    ok(r.body && strstr(r.body, "\"x-api-key\": \"secret123\""), "extra header sent");
    is_str(r.content_type, "application/json", "content type returned");
    ok(r.retry_after_s == -1, "no Retry-After");
    ok(r.len == strlen(r.body), "len matches body");
    fa_http_resp_free(&r);

    /* POST JSON. */
    ok(fa_http_post(url("/echo"), "{\"a\":1}", 7, &o, &r) == 0, "POST /echo succeeds");
    ok(strstr(r.body, "\"method\": \"POST\"") != NULL, "method POST");
    ok(strstr(r.body, "\"body\": \"{\\\"a\\\":1}\"") != NULL, "body sent");
    ok(strstr(r.body, "\"content-type\": \"application/json\"") != NULL,
       "JSON content type by default");
    fa_http_resp_free(&r);

    /* 500 once, then success. */
    ok(fa_http_get(url("/fault=500:1/echo"), &o, &r) == 0, "500 then success");
    is_num(r.attempts, 2, 0, "two attempts");
    fa_http_resp_free(&r);

    /* 429 with Retry-After (capped by max_delay), then success. */
    ok(fa_http_get(url("/fault=429:1:ra=5/echo"), &o, &r) == 0, "429 then success");
    is_num(r.attempts, 2, 0, "two attempts after 429");
    fa_http_resp_free(&r);

    /* 429 every time: status, Retry-After and message kept. */
    ok(fa_http_get(url("/fault=429:all:ra=7/echo"), &o, &r) == -1, "429 forever fails");
    ok(r.error == FA_HTTP_ESTATUS && r.status == 429, "classified http status 429");
    is_num(r.retry_after_s, 7, 0, "Retry-After parsed");
    is_num(r.attempts, 3, 0, "1 + 2 retries");
    e = strdup(fa_err_get());
    ok(strstr(e, "429") && strstr(e, "after 3 attempts"), "message names status: %s", e);
    ok(!strstr(e, "secret123"), "no header value in message");
    free(e);
    fa_http_resp_free(&r);

    /* Retry-After as an HTTP date, 30 s ahead: the wait until then */
    ok(fa_http_get(url("/fault=429:all:ra=date30/echo"), &o, &r) == -1, "429 with a date");
    ok(r.retry_after_s >= 27 && r.retry_after_s <= 31, "Retry-After date honoured: %ld s",
       r.retry_after_s);
    fa_http_resp_free(&r);
    ok(fa_http_get(url("/fault=429:all:ra=date-60/echo"), &o, &r) == -1, "429 with a past date");
    is_num(r.retry_after_s, 0, 0, "a past date: no wait");
    fa_http_resp_free(&r);

    /* 404: not retried, body kept. */
    ok(fa_http_get(url("/nothing"), &o, &r) == -1, "404 fails");
    ok(r.status == 404 && r.attempts == 1, "404 not retried");
    ok(strstr(r.body, "no route") != NULL, "error body kept");
    fa_http_resp_free(&r);

    /* Stalled reply: timeout, retried. */
    o.timeout_ms = 300;
    o.retries = 1;
    ok(fa_http_get(url("/fault=stall/echo"), &o, &r) == -1, "stall fails");
    ok(r.error == FA_HTTP_ETIMEOUT, "classified timeout (%s)", fa_http_strerror(r.error));
    is_num(r.attempts, 2, 0, "timeout retried");
    ok(strstr(fa_err_get(), "timed out") && !strstr(fa_err_get(), "secret123"),
       "timeout message: %s", fa_err_get());
    fa_http_resp_free(&r);
    o.timeout_ms = 5000;

    /* Truncated body: network error; truncated once then whole. */
    ok(fa_http_get(url("/fault=truncate:all/echo"), &o, &r) == -1, "truncated body fails");
    ok(r.error == FA_HTTP_ENETWORK, "classified network (%s)", fa_http_strerror(r.error));
    fa_http_resp_free(&r);
    ok(fa_http_get(url("/fault=truncate:1/echo"), &o, &r) == 0 && r.attempts == 2,
       "truncated once, then success");
    fa_http_resp_free(&r);

    /* Body cap. */
    o.max_body = 1000;
    ok(fa_http_get(url("/bytes?n=1000"), &o, &r) == 0 && r.len == 1000, "body at the cap ok");
    fa_http_resp_free(&r);
    ok(fa_http_get(url("/bytes?n=100000"), &o, &r) == -1, "body over the cap fails");
    ok(r.error == FA_HTTP_ETOOBIG && r.attempts == 1, "classified too big, not retried");
    ok(strstr(fa_err_get(), "larger than 1000") != NULL, "cap message: %s", fa_err_get());
    fa_http_resp_free(&r);
    o.max_body = 0;

    /* Label hides the real URL (secrets in query strings). */
    o.url_label = "http://fake/redacted";
    ok(fa_http_get(url("/nothing?apikey=topsecret"), &o, &r) == -1, "404 with label");
    ok(strstr(fa_err_get(), "redacted") && !strstr(fa_err_get(), "topsecret"),
       "label used in message: %s", fa_err_get());
    fa_http_resp_free(&r);
    o.url_label = NULL;

    /* Connection refused. */
    o.retries = -1;
    ok(fa_http_get("http://127.0.0.1:1/", &o, &r) == -1 && r.error == FA_HTTP_ENETWORK,
       "connection refused is a network error");
    ok(r.attempts == 1, "retries < 0 means one attempt");
    fa_http_resp_free(&r);
    fa_http_resp_free(&r); /* twice is safe */

    e = fa_http_escape("a b&c=d/é~");
    is_str(e, "a%20b%26c%3Dd%2F%C3%A9~", "escape");
    free(e);

    stop_fake();
    return tap_done();
}
