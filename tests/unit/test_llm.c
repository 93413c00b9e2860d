/* test_llm.c: the model client against the loopback fake (tests/fakes/
 * openai.py): answers and usage, cache hits, replay with the server gone,
 * retries, timeouts, repair, the NONE path, XML answers, vision and its
 * text fallback, json_schema, budget stop (also from another process),
 * auth errors, key file modes, the key never leaking, embeddings, and the
 * offline analyst through the same parser. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "fa_embedder.h"
#include "fa_err.h"
#include "fa_http.h"
#include "fa_llm.h"
#include "fa_banned.h"

static char tmp[] = "/tmp/fa-test-llm.XXXXXX";
static char key[64];
static int port;

/* --- the fake -------------------------------------------------------- */

static pid_t fake_start(const char *const *args)
{
    const char *root = getenv("FA_ROOT");
    char script[1024], pf[512];
    const char *argv[32];
    size_t n = 0;
    pid_t pid;

    snprintf(script, sizeof script, "%s/tests/fakes/openai.py", root ? root : ".");
    snprintf(pf, sizeof pf, "%s/port.%d", tmp, (int)time(NULL) ^ rand());
    argv[n++] = "python3";
    argv[n++] = script;
    argv[n++] = "--port-file";
    argv[n++] = pf;
    for (size_t i = 0; args && args[i] && n < 30; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        execvp("python3", (char *const *)(void *)argv);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(pf, "r");
        if (f) {
            int ok_ = fscanf(f, "%d", &port) == 1;
            fclose(f);
            if (ok_)
                return pid;
        }
        usleep(25000);
    }
    return -1;
}

static void fake_stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

static struct json_object *fake_get(const char *what)
{
    char url[128];
    struct fa_http_resp r;
    struct json_object *o = NULL;

    snprintf(url, sizeof url, "http://127.0.0.1:%d/%s", port, what);
    if (fa_http_get(url, NULL, &r) == 0)
        o = json_tokener_parse(r.body);
    fa_http_resp_free(&r);
    return o;
}

static long fake_count(const char *endpoint)
{
    struct json_object *s = fake_get("_stats"), *v;
    long n = -1;

    if (s && json_object_object_get_ex(s, endpoint, &v))
        n = (long)json_object_get_int64(v);
    json_object_put(s);
    return n;
}

/* The body of the last request the fake received, as text. */
static char *fake_last_body(void)
{
    struct json_object *log = fake_get("_requests"), *b;
    char *s = NULL;
    size_t n = log ? json_object_array_length(log) : 0;

    if (n && json_object_object_get_ex(json_object_array_get_idx(log, n - 1), "body", &b))
        s = strdup(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(log);
    return s;
}

/* --- helpers --------------------------------------------------------- */

static const char *const actions[] = {"BUY", "SELL", "HOLD", NULL};
static const struct fa_output_field fields[] = {
    {"analysis", FA_OUTPUT_STRING, NULL, false},
    {"action", FA_OUTPUT_STRING, actions, false},
};

static void setenv_url(void)
{
    char url[64];

    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    setenv("FA_LLM_URL", url, 1);
}

static const char *field(struct fa_llm_result *r, const char *k)
{
    struct json_object *v;

    return r->fields && json_object_object_get_ex(r->fields, k, &v) ? json_object_get_string(v)
                                                                    : NULL;
}

static struct json_object *rec(struct fa_llm_result *r, size_t i)
{
    return r->llm && i < json_object_array_length(r->llm) ? json_object_array_get_idx(r->llm, i)
                                                          : NULL;
}

static const char *rstr(struct json_object *o, const char *k)
{
    struct json_object *v;

    return o && json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static double rnum(struct json_object *o, const char *k)
{
    struct json_object *v;

    return o && json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : NAN;
}

static int chat(struct fa_llm *c, const char *user, struct fa_llm_result *res)
{
    struct fa_llm_chat req;

    fa_llm_chat_init(&req);
    req.stage = "decide";
    req.symbol = "AAPL";
    req.date = "2024-01-02";
    req.system = "You are a trader.";
    req.user = user;
    req.temperature = 0;
    req.seed = 42;
    req.max_tokens = 200;
    req.fields = fields;
    req.nfields = 2;
    return fa_llm_chat(c, &req, res);
}

/* Whether the key occurs in any file under dir (recursively). */
static int key_in_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;

    if (!d)
        return 0;
    while (!found && (e = readdir(d))) {
        char path[2048];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode))
            found = key_in_tree(path);
        else if (S_ISREG(st.st_mode)) {
            FILE *f = fopen(path, "rb");
            char *buf = malloc((size_t)st.st_size + 1);
            size_t n = f ? fread(buf, 1, (size_t)st.st_size, f) : 0;
            buf[n] = 0;
            if (memmem(buf, n, key, strlen(key)))
                found = 1;
            free(buf);
            if (f)
                fclose(f);
        }
    }
    closedir(d);
    return found;
}

/* --- the tests ------------------------------------------------------- */

static void test_basic(const char *replies)
{
    const char *args[] = {"--replies", replies, NULL};
    pid_t pid = fake_start(args);
    struct fa_llm_result r, r2;
    struct fa_llm *c;
    char *body;

    ok(pid > 0, "fake started");
    setenv_url();
    c = fa_llm_open(NULL);
    ok(c != NULL, "client opens");
    if (!c) {
        printf("#   %s\n", fa_err_get());
        fake_stop(pid);
        return;
    }
    ok(!fa_llm_offline(c) && strcmp(fa_llm_model(c), "fake-model") == 0, "remote, FA_MODEL");

    ok(chat(c, "Decide for AAPL: bullish news", &r) == 0, "chat answers");
    is_str(field(&r, "action"), "BUY", "action from the canned reply");
    is_str(field(&r, "analysis"), "up", "analysis");
    ok(json_object_array_length(r.llm) == 1, "one llm record");
    is_str(rstr(rec(&r, 0), "kind"), "llm", "kind llm");
    is_str(rstr(rec(&r, 0), "symbol"), "AAPL", "symbol");
    is_str(rstr(rec(&r, 0), "asof"), "2024-01-02", "asof defaults to date");
    is_str(rstr(rec(&r, 0), "stage"), "decide", "stage");
    is_str(rstr(rec(&r, 0), "model"), "fake-model", "model");
    is_str(rstr(rec(&r, 0), "cache_hit"), "false", "first call is a miss");
    is_str(rstr(rec(&r, 0), "vision"), "none", "no images");
    ok(rstr(rec(&r, 0), "id") != NULL, "record has an id");
    {
        /* the fake counts ceil(chars/4); our price table: 1000 and 2000 USD/M */
        double pt = rnum(rec(&r, 0), "prompt_tokens"), ct = rnum(rec(&r, 0), "completion_tokens");
        is_num(ct, ceil(strlen(r.text) / 4.0), 0, "completion tokens from usage");
        is_num(
            pt,
            ceil((strlen("You are a trader.") + 1 + strlen("Decide for AAPL: bullish news")) / 4.0),
            0, "prompt tokens from usage");
        is_num(rnum(rec(&r, 0), "cost_usd"), (pt * 1000 + ct * 2000) / 1e6, 1e-12,
               "cost from the price table");
        is_str(rstr(rec(&r, 0), "price"), "known", "price known");
    }
    body = fake_last_body();
    ok(body && strstr(body, "\"seed\":42") && strstr(body, "\"temperature\":0") &&
           strstr(body, "\"max_tokens\":200") && !strstr(body, "response_format"),
       "request carries seed, temperature, max_tokens; no response_format by default");
    free(body);
    {
        struct json_object *log = fake_get("_requests"), *h, *st;
        ok(log && json_object_object_get_ex(json_object_array_get_idx(log, 0), "stage", &st) &&
               strcmp(json_object_get_string(st), "decide") == 0,
           "X-Fa-Stage header names the stage");
        json_object_object_get_ex(json_object_array_get_idx(log, 0), "headers", &h);
        {
            char want[96];
            snprintf(want, sizeof want, "Bearer %s", key);
            is_str(rstr(h, "Authorization"), want, "key sent as Authorization: Bearer");
        }
        json_object_put(log);
    }

    /* cache hit: the server sees no second request */
    ok(chat(c, "Decide for AAPL: bullish news", &r2) == 0, "same request again");
    is_str(field(&r2, "action"), "BUY", "same answer");
    is_str(rstr(rec(&r2, 0), "cache_hit"), "true", "cache hit");
    is_num(rnum(rec(&r2, 0), "cost_usd"), 0, 0, "a hit costs nothing");
    is_str(rstr(rec(&r2, 0), "request_hash"), rstr(rec(&r, 0), "request_hash"), "same hash");
    ok(fake_count("chat") == 1, "server saw one chat request");
    fa_llm_result_free(&r2);

    /* a rule by stage and a default */
    ok(chat(c, "Decide for AAPL: bearish news", &r2) == 0, "other prompt");
    is_str(field(&r2, "action"), "SELL", "rule matched by substring");
    fa_llm_result_free(&r2);
    fa_llm_result_free(&r);

    /* replay with the server stopped */
    fake_stop(pid);
    setenv("FA_CACHE", "replay", 1);
    fa_llm_close(c);
    c = fa_llm_open(NULL);
    ok(chat(c, "Decide for AAPL: bullish news", &r) == 0, "replay: cached answer, server gone");
    is_str(field(&r, "action"), "BUY", "replayed answer");
    fa_llm_result_free(&r);
    ok(chat(c, "Decide for AAPL: never asked", &r) == -1 && r.error == FA_LLM_EREPLAY,
       "replay: a miss is an error");
    ok(strstr(r.reason, "replay: no cached answer") != NULL, "replay message");
    fa_llm_result_free(&r);
    fa_llm_close(c);
    setenv("FA_CACHE", "off", 1);
    setenv("FA_LLM_RETRIES", "0", 1);
    c = fa_llm_open(NULL);
    ok(chat(c, "Decide for AAPL: bullish news", &r) == -1 && r.error == FA_LLM_ENETWORK,
       "cache off, server gone: network error");
    ok(strstr(r.reason, "is the server at") != NULL, "network message says what to check");
    fa_llm_result_free(&r);
    fa_llm_close(c);
    unsetenv("FA_CACHE");
    unsetenv("FA_LLM_RETRIES");
}

static void test_faults(void)
{
    struct fa_llm_result r;
    struct fa_llm *c;
    char spec[64];

    setenv_url();
    setenv("FA_CACHE", "off", 1);
    c = fa_llm_open(NULL);

#define FAULT(s)                                                                                   \
    do {                                                                                           \
        char u[96];                                                                                \
        struct fa_http_resp hr;                                                                    \
        snprintf(spec, sizeof spec, "{\"spec\":\"%s\"}", s);                                       \
        snprintf(u, sizeof u, "http://127.0.0.1:%d/_fault", port);                                 \
        if (fa_http_post(u, spec, strlen(spec), NULL, &hr) < 0)                                    \
            printf("# fault: %s\n", fa_err_get());                                                 \
        fa_http_resp_free(&hr);                                                                    \
    } while (0)

    FAULT("429:1");
    ok(chat(c, "Decide for AAPL: bullish news", &r) == 0, "429 then success: retried");
    ok(fake_count("chat") == 2, "two requests made");
    fa_llm_result_free(&r);

    FAULT("500:2");
    ok(chat(c, "Decide for AAPL: bullish news", &r) == 0, "500 twice then success");
    ok(fake_count("chat") == 5, "three more requests");
    fa_llm_result_free(&r);

    FAULT("truncate:1");
    ok(chat(c, "Decide for AAPL: bullish news", &r) == 0, "truncated body then success");
    fa_llm_result_free(&r);

    fa_llm_close(c);
    setenv("FA_LLM_RETRIES", "1", 1);
    c = fa_llm_open(NULL);
    FAULT("500:2");
    ok(chat(c, "Decide for AAPL: bullish news", &r) == -1 && r.error == FA_LLM_ESERVER,
       "500 every time: server error");
    ok(strstr(r.reason, "HTTP 500") && strstr(r.reason, "after 2 attempts"),
       "message: status and attempts");
    is_str(rstr(rec(&r, 0), "ok"), "false", "llm record of the failed call");
    fa_llm_result_free(&r);
    fa_llm_close(c);

    setenv("FA_LLM_TIMEOUT", "0.5", 1);
    setenv("FA_LLM_RETRIES", "0", 1);
    c = fa_llm_open(NULL);
    FAULT("stall:1");
    ok(chat(c, "Decide for AAPL: bullish news", &r) == -1 && r.error == FA_LLM_ENETWORK,
       "stalled reply: timeout, network class");
    ok(strstr(r.reason, "timed out") != NULL, "timeout message");
    fa_llm_result_free(&r);
    unsetenv("FA_LLM_TIMEOUT");
    unsetenv("FA_LLM_RETRIES");
    fa_llm_close(c);
    c = fa_llm_open(NULL);

    FAULT("notjson:1");
    ok(chat(c, "Decide for AAPL: bullish news", &r) == -1 && r.error == FA_LLM_ESERVER,
       "a 200 that is not JSON: server error");
    fa_llm_result_free(&r);

    /* repair: a reply missing a field gets one repair request quoting it */
    FAULT("missing:1@chat");
    ok(chat(c, "Decide for AAPL: bullish news", &r) == 0, "missing field repaired");
    is_str(field(&r, "action"), "BUY", "repaired answer");
    ok(json_object_array_length(r.llm) == 2, "two llm records");
    is_str(rstr(rec(&r, 0), "ok"), "false", "first record: not usable");
    is_str(rstr(rec(&r, 0), "error"), "field 'analysis' is missing", "first record: why");
    is_str(rstr(rec(&r, 1), "call"), "repair", "second record: repair");
    {
        char *b = fake_last_body();
        ok(b && strstr(b, "Your answer could not be used: field 'analysis' is missing") &&
               strstr(b, "\"role\":\"assistant\""),
           "repair request quotes the problem and the answer");
        free(b);
    }
    fa_llm_result_free(&r);

    /* XML instead of JSON: parsed, no repair */
    FAULT("xml:1");
    ok(chat(c, "Decide for AAPL: bullish news", &r) == 0, "XML answer accepted");
    ok(r.text && strstr(r.text, "<output>") != NULL, "the answer was XML");
    is_str(field(&r, "action"), "BUY", "action from XML");
    ok(json_object_array_length(r.llm) == 1, "no repair needed");
    fa_llm_result_free(&r);

    /* the NONE path: prose twice -> EOUTPUT with the reason, never HOLD */
    FAULT("prose:2");
    ok(chat(c, "Decide for AAPL: bullish news", &r) == -1 && r.error == FA_LLM_EOUTPUT,
       "no usable answer after one repair: EOUTPUT");
    ok(r.fields == NULL, "no fields (so no silent HOLD)");
    ok(r.reason && strstr(r.reason, "after one repair") &&
           strstr(r.reason, "no JSON object or <output>"),
       "reason says why");
    is_str(r.text, "I am not sure what to do here.", "last answer kept");
    ok(json_object_array_length(r.llm) == 2, "both calls recorded");
    fa_llm_result_free(&r);
    fa_llm_close(c);

    /* json_schema: the request carries the schema */
    setenv("FA_LLM_FORMAT", "json_schema", 1);
    c = fa_llm_open(NULL);
    ok(chat(c, "Decide for AAPL: bullish news", &r) == 0, "json_schema request");
    {
        char *b = fake_last_body();
        ok(b && strstr(b, "\"type\":\"json_schema\"") && strstr(b, "\"name\":\"decide\"") &&
               strstr(b, "\"enum\":[\"BUY\",\"SELL\",\"HOLD\"]"),
           "response_format json_schema with enum");
        free(b);
    }
    fa_llm_result_free(&r);
    fa_llm_close(c);
    setenv("FA_LLM_FORMAT", "xml", 1);
    c = fa_llm_open(NULL);
    ok(c == NULL && strstr(fa_err_get(), "invalid FA_LLM_FORMAT 'xml'"), "bad FA_LLM_FORMAT");
    unsetenv("FA_LLM_FORMAT");
    unsetenv("FA_CACHE");
#undef FAULT
}

static void test_vision(void)
{
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 1, 2, 3};
    struct fa_llm_image img = {png, sizeof png, "Five rising candles; close at the high."};
    struct fa_llm_chat req;
    struct fa_llm_result r;
    struct fa_llm *c;
    char *b;

    setenv("FA_VISION_MODEL", "fake-vision", 1);
    c = fa_llm_open(NULL);
    fa_llm_chat_init(&req);
    req.stage = "reflect-low";
    req.user = "Bullish chart: reflect";
    req.images = &img;
    req.nimages = 1;
    req.fields = fields;
    req.nfields = 2;
    ok(fa_llm_vision(c), "vision on");
    ok(fa_llm_chat(c, &req, &r) == 0, "chat with an image");
    is_str(rstr(rec(&r, 0), "vision"), "image", "record: image sent");
    is_str(rstr(rec(&r, 0), "model"), "fake-vision", "vision model used");
    b = fake_last_body();
    ok(b && strstr(b, "\"type\":\"image_url\"") &&
           strstr(b, "data:image/png;base64,iVBORw0KGgoBAgM="),
       "image as a base64 PNG data URL part");
    free(b);
    fa_llm_result_free(&r);
    fa_llm_close(c);

    setenv("FA_NO_VISION", "1", 1);
    c = fa_llm_open(NULL);
    ok(!fa_llm_vision(c), "FA_NO_VISION=1: no vision");
    ok(fa_llm_chat(c, &req, &r) == 0, "chat with the chart described");
    is_str(rstr(rec(&r, 0), "vision"), "text", "record: described in text");
    is_str(rstr(rec(&r, 0), "model"), "fake-model", "text model used");
    b = fake_last_body();
    ok(b && !strstr(b, "image_url") && strstr(b, "Five rising candles; close at the high."),
       "no image part; the description is in the prompt");
    free(b);
    fa_llm_result_free(&r);
    img.description = NULL;
    ok(fa_llm_chat(c, &req, &r) == -1 && r.error == FA_LLM_ECONFIG,
       "an image without a description is refused");
    fa_llm_result_free(&r);
    fa_llm_close(c);
    unsetenv("FA_NO_VISION");
    unsetenv("FA_VISION_MODEL");
}

static void test_budget(void)
{
    char ledger[600], user[64];
    struct fa_llm_result r;
    struct fa_llm *c;
    double spent = 0;
    long before = fake_count("chat");
    int made = 0, st;
    pid_t child;

    snprintf(ledger, sizeof ledger, "%s/ledger.tsv", tmp);
    setenv("FA_LEDGER", ledger, 1);
    setenv("FA_BUDGET_USD", "0.5", 1);
    c = fa_llm_open(NULL);
    for (int i = 0; i < 50; i++) {
        snprintf(user, sizeof user, "Decide for AAPL: bullish news %d", i);
        if (chat(c, user, &r) < 0)
            break;
        spent += rnum(rec(&r, 0), "cost_usd");
        made++;
        fa_llm_result_free(&r);
    }
    ok(made > 0 && made < 50, "some calls made, then stopped (%d)", made);
    ok(r.error == FA_LLM_EBUDGET, "stopped by the budget");
    ok(r.reason && strstr(r.reason, "FA_BUDGET_USD=0.5") && strstr(r.reason, "not made"),
       "budget message");
    ok(spent <= 0.5, "spent %.4f within the budget", spent);
    ok(fake_count("chat") - before == made, "the refused call was not made");
    fa_llm_result_free(&r);
    fa_llm_close(c);

    /* another process of the same run is refused too */
    fflush(stdout);
    child = fork();
    if (child == 0) {
        struct fa_llm *c2 = fa_llm_open(NULL);
        struct fa_llm_result r2;
        int rc =
            chat(c2, "Decide for AAPL: another process", &r2) < 0 && r2.error == FA_LLM_EBUDGET;
        fa_llm_result_free(&r2);
        fa_llm_close(c2);
        _exit(rc ? 0 : 1);
    }
    waitpid(child, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "another process is refused");
    ok(fake_count("chat") - before == made, "and made no request");
    unsetenv("FA_LEDGER");
    unsetenv("FA_BUDGET_USD");
}

static void test_auth(const char *replies)
{
    const char *args[] = {"--replies", replies, "--require-key", "the-right-key", NULL};
    pid_t pid = fake_start(args);
    char kf[600];
    struct fa_llm_result r;
    struct fa_llm *c;
    int fd;

    setenv_url();
    setenv("FA_CACHE", "off", 1);
    c = fa_llm_open(NULL);
    ok(chat(c, "Decide for AAPL: bullish news", &r) == -1 && r.error == FA_LLM_EAUTH,
       "wrong key: auth error");
    ok(strstr(r.reason, "HTTP 401") && strstr(r.reason, "FA_API_KEY"),
       "auth message names the variables");
    ok(!strstr(r.reason, key) && !strstr(fa_err_get(), key), "the key is not in the message");
    ok(!strstr(json_object_to_json_string(r.llm), key), "nor in the llm record");
    fa_llm_result_free(&r);
    fa_llm_close(c);

    /* key file: 0644 refused, 0600 used */
    snprintf(kf, sizeof kf, "%s/key", tmp);
    fd = open(kf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (write(fd, "the-right-key\n", 14) != 14)
        ok(0, "write key file");
    close(fd);
    chmod(kf, 0644);
    unsetenv("FA_API_KEY");
    setenv("FA_API_KEY_FILE", kf, 1);
    c = fa_llm_open(NULL);
    ok(c == NULL && strstr(fa_err_get(), "chmod 600"), "key file mode 0644 refused");
    ok(!strstr(fa_err_get(), "the-right-key"), "message without the key");
    chmod(kf, 0600);
    c = fa_llm_open(NULL);
    ok(c != NULL, "key file mode 0600 accepted");
    ok(c && chat(c, "Decide for AAPL: bullish news", &r) == 0, "key from the file works");
    fa_llm_result_free(&r);
    fa_llm_close(c);
    unlink(kf);
    c = fa_llm_open(NULL);
    ok(c == NULL && strstr(fa_err_get(), "API key file"), "missing key file refused");
    unsetenv("FA_API_KEY_FILE");
    setenv("FA_API_KEY", key, 1);
    unsetenv("FA_CACHE");
    fake_stop(pid);
}

static void test_embed(void)
{
    const char *texts[70];
    char buf[70][32];
    struct json_object *recs = json_object_new_array();
    struct fa_embedder *e;
    float *out;
    double n0 = 0;

    setenv("FA_EMBED_MODEL", "fake-embed", 1);
    for (int i = 0; i < 70; i++) {
        snprintf(buf[i], sizeof buf[i], "news item %d", i);
        texts[i] = buf[i];
    }
    e = fa_embedder_open(NULL);
    ok(e && strcmp(fa_embedder_model(e), "fake-embed") == 0, "remote embedder");
    ok(e && fa_embedder_dim(e) == 8, "dimension probed: 8");
    out = calloc(70 * 8, sizeof *out);
    ok(fa_embedder_embed(e, "embed", texts, 70, out, recs) == 0, "70 texts embedded");
    for (int k = 0; k < 8; k++)
        n0 += (double)out[k] * out[k];
    is_num(n0, 1, 1e-5, "rows normalised");
    ok(fake_count("embeddings") == 3, "probe + two batches of at most 64");
    ok(json_object_array_length(recs) == 2, "one llm record per batch");
    is_str(rstr(json_object_array_get_idx(recs, 0), "call"), "embeddings", "record call");
    ok(fa_embedder_embed(e, "embed", texts, 70, out, recs) == 0, "again");
    ok(fake_count("embeddings") == 3, "all from the cache");
    is_str(rstr(json_object_array_get_idx(recs, 2), "cache_hit"), "true", "record: cache hit");
    free(out);
    json_object_put(recs);
    fa_embedder_close(e);
    unsetenv("FA_EMBED_MODEL");
}

static void test_offline(void)
{
    struct fa_llm_result r;
    struct fa_llm_chat req;
    struct fa_llm *c;
    static const struct fa_output_field dfields[] = {
        {"analysis", FA_OUTPUT_STRING, NULL, false},
        {"reasoning", FA_OUTPUT_STRING, NULL, false},
        {"action", FA_OUTPUT_STRING, actions, false},
    };
    struct json_object *vars = json_tokener_parse("{\"data\":{}}");

    unsetenv("FA_LLM_URL");
    c = fa_llm_open(NULL);
    ok(c && fa_llm_offline(c), "no FA_LLM_URL: offline");
    is_str(fa_llm_model(c), "offline-analyst", "offline model name");
    fa_llm_chat_init(&req);
    req.stage = "decide";
    req.vars = vars;
    req.symbol = "AAPL";
    req.date = "2024-01-02";
    req.fields = dfields;
    req.nfields = 3;
    ok(fa_llm_chat(c, &req, &r) == 0, "offline analyst answers decide");
    ok(field(&r, "action") != NULL, "action parsed from the analyst's text");
    ok(field(&r, "reasoning") && strstr(field(&r, "reasoning"), "offline"),
       "the analyst says it is offline");
    is_str(rstr(rec(&r, 0), "endpoint"), "offline", "record: endpoint offline");
    is_num(rnum(rec(&r, 0), "cost_usd"), 0, 0, "record: cost 0");
    fa_llm_result_free(&r);
    req.stage = "no-such-stage";
    ok(fa_llm_chat(c, &req, &r) == -1 && r.error == FA_LLM_ECONFIG, "unknown stage fails");
    ok(strstr(r.reason, "no-such-stage") != NULL, "message names the stage");
    fa_llm_result_free(&r);
    fa_llm_close(c);

    setenv("FA_LLM_URL", "http://127.0.0.1:9", 1);
    setenv("FA_LLM", "offline", 1);
    c = fa_llm_open(NULL);
    ok(c && fa_llm_offline(c), "FA_LLM=offline wins over a URL");
    fa_llm_close(c);
    setenv("FA_LLM", "sometimes", 1);
    ok(fa_llm_open(NULL) == NULL && strstr(fa_err_get(), "invalid FA_LLM"), "bad FA_LLM");
    unsetenv("FA_LLM");
    setenv("FA_LLM_URL", "ftp://x", 1);
    ok(fa_llm_open(NULL) == NULL && strstr(fa_err_get(), "invalid FA_LLM_URL"), "bad URL");
    unsetenv("FA_LLM_URL");
    json_object_put(vars);
}

int main(void)
{
    char path[600], cache[600], replies[600], errlog[600];
    unsigned char rnd[8];
    FILE *f;
    int saved;

    fa_err_init("test_llm");
    srand((unsigned)getpid());
    if (!mkdtemp(tmp))
        return 1;
    {
        FILE *u = fopen("/dev/urandom", "rb");
        if (!u || fread(rnd, 1, 8, u) != 8)
            return 1;
        fclose(u);
    }
    snprintf(key, sizeof key, "sk-test-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    setenv("FA_API_KEY", key, 1);
    unsetenv("OPENAI_API_KEY");
    unsetenv("FA_API_KEY_FILE");
    setenv("FA_MODEL", "fake-model", 1);
    snprintf(cache, sizeof cache, "%s/cache", tmp);
    setenv("FA_CACHE_DIR", cache, 1);
    snprintf(path, sizeof path, "%s/prices.tsv", tmp);
    f = fopen(path, "w");
    fputs("# test prices\nfake-model\t1000\t2000\nfake-vis*\t1\t1\n", f);
    fclose(f);
    setenv("FA_PRICES", path, 1);
    snprintf(replies, sizeof replies, "%s/replies.json", tmp);
    f = fopen(replies, "w");
    fputs("[{\"contains\": \"bearish\", \"reply\": {\"analysis\": \"down\", \"action\": "
          "\"sell\"}},\n"
          " {\"contains\": \"bullish\", \"reply\": \"```json\\n{\\\"analysis\\\": \\\"up\\\", "
          "\\\"action\\\": \\\"Buy\\\"}\\n```\"},\n"
          " {\"contains\": \"Bullish chart\", \"reply\": {\"analysis\": \"chart\", \"action\": "
          "\"HOLD\"}}]\n",
          f);
    fclose(f);

    /* everything the library says goes to a file we scan for the key */
    snprintf(errlog, sizeof errlog, "%s/stderr.log", tmp);
    fflush(stderr);
    saved = dup(2);
    {
        int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        close(fd);
    }
    fa_verbosity = 2; /* retries and infos too */

    test_basic(replies);
    {
        const char *args[] = {
            "--replies", replies, "--retry-after", "0", "--stall", "3", "--embed-dim", "8", NULL};
        pid_t pid = fake_start(args);
        setenv_url();
        test_faults();
        test_vision();
        test_budget();
        test_embed();
        fake_stop(pid);
    }
    test_auth(replies);
    test_offline();

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    {
        struct stat st;
        ok(stat(errlog, &st) == 0 && st.st_size > 0, "stderr captured (%ld bytes)",
           (long)st.st_size);
    }
    /* the key: in no file the run wrote (cache, ledger, stderr) */
    ok(!key_in_tree(tmp), "the key appears in no file under the run's directory");
    {
        char cmd[1300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
            ok(0, "cleanup");
    }
    return tap_done();
}
