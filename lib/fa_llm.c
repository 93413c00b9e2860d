/* fa_llm.c: the OpenAI-compatible client (chat with PNG image parts,
 * embeddings) over fa_http, with the cache, the ledger, structured-output
 * parsing with one repair, and the offline analyst when no endpoint. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sodium.h>

#include "fa_llm.h"
#include "fa_cache.h"
#include "fa_cli.h"
#include "fa_err.h"
#include "fa_file.h"
#include "fa_str.h"
#include "fa_http.h"
#include "fa_ledger.h"
#include "fa_offline.h"
#include "fa_prompt.h"
#include "fa_record.h"
#include "fa_secret.h"
#include "fa_banned.h"

#define OFFLINE_MODEL "offline-analyst"
#define EMBED_BATCH   64

enum fmt { FMT_NONE, FMT_JSON_OBJECT, FMT_JSON_SCHEMA };

struct fa_llm {
    bool offline, no_vision;
    char *base;  /* base URL ending in /v1 (or the user's path) */
    char *label; /* the base URL without credentials or query, for records */
    char *model, *vision_model, *embed_model;
    enum fmt format;
    long timeout_ms;
    int retries;
    struct fa_secret *key;
    struct fa_cache *cache;
    struct fa_ledger *ledger;
};

static char *xstrdup(const char *s)
{
    return s ? fa_str_nn(strdup(s)) : NULL;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Base URL: trailing slashes dropped, "/v1" added when the URL has no
 * path. The label drops user:password@ and any query. */
static int set_url(struct fa_llm *c, const char *url)
{
    const char *scheme = strstr(url, "://"), *host, *slash, *at;
    size_t n = strlen(url);
    char *lab;

    if (!scheme || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        fa_err_set("invalid FA_LLM_URL '%s' (want http://host[:port][/path] or https://...)", url);
        return -1;
    }
    while (n > 0 && url[n - 1] == '/')
        n--;
    host = scheme + 3;
    slash = memchr(host, '/', (size_t)(url + n - host));
    if (!slash) {
        if (asprintf(&c->base, "%.*s/v1", (int)n, url) < 0)
            abort();
    } else if (asprintf(&c->base, "%.*s", (int)n, url) < 0)
        abort();
    /* label */
    lab = xstrdup(c->base);
    at = strchr(lab + (host - url), '@');
    slash = strchr(lab + (host - url), '/');
    if (at && (!slash || at < slash))
        memmove(lab + (host - url), at + 1, strlen(at + 1) + 1);
    if ((at = strchr(lab, '?')))
        lab[at - lab] = 0;
    c->label = lab;
    return 0;
}

static const char *opt(const struct fa_llm_opts *o, size_t off)
{
    return o ? *(const char *const *)((const char *)o + off) : NULL;
}

#define CONF(field, env, def) fa_cli_conf(opt(opts, offsetof(struct fa_llm_opts, field)), env, def)

struct fa_llm *fa_llm_open(const struct fa_llm_opts *opts)
{
    struct fa_llm *c = fa_str_nn(calloc(1, sizeof *c));
    const char *url = CONF(url, "FA_LLM_URL", NULL);
    const char *mode = CONF(mode, "FA_LLM", NULL);
    const char *nv = CONF(no_vision, "FA_NO_VISION", "0");
    const char *fmt = CONF(format, "FA_LLM_FORMAT", "none");
    const char *to = CONF(timeout, "FA_LLM_TIMEOUT", "120");
    const char *re = CONF(retries, "FA_LLM_RETRIES", "3");
    const char *cm = CONF(cache, "FA_CACHE", "rw");
    const char *cd = CONF(cache_dir, "FA_CACHE_DIR", NULL);
    const char *bu = CONF(budget_usd, "FA_BUDGET_USD", NULL);
    const char *lg = CONF(ledger, "FA_LEDGER", NULL);
    const char *pr = CONF(prices, "FA_PRICES", NULL);
    char *cache_dir = NULL, *prices = NULL, *ledger = NULL;
    enum fa_cache_mode cmode;
    double secs, budget = -1;
    long retries;

    if (mode && strcmp(mode, "offline") != 0 && strcmp(mode, "remote") != 0) {
        fa_err_set("invalid FA_LLM '%s' (want offline or remote)", mode);
        goto fail;
    }
    c->offline = !url || (mode && strcmp(mode, "offline") == 0);
    if (!url && mode && strcmp(mode, "remote") == 0) {
        fa_err_set("FA_LLM=remote needs FA_LLM_URL");
        goto fail;
    }
    if (strcmp(nv, "0") != 0 && strcmp(nv, "1") != 0) {
        fa_err_set("invalid FA_NO_VISION '%s' (want 0 or 1)", nv);
        goto fail;
    }
    c->no_vision = strcmp(nv, "1") == 0;
    if (strcmp(fmt, "none") == 0)
        c->format = FMT_NONE;
    else if (strcmp(fmt, "json_object") == 0)
        c->format = FMT_JSON_OBJECT;
    else if (strcmp(fmt, "json_schema") == 0)
        c->format = FMT_JSON_SCHEMA;
    else {
        fa_err_set("invalid FA_LLM_FORMAT '%s' (want none, json_object or json_schema)", fmt);
        goto fail;
    }
    if (fa_cli_double("FA_LLM_TIMEOUT", to, 0.05, 86400, &secs) < 0 ||
        fa_cli_long("FA_LLM_RETRIES", re, 0, 20, &retries) < 0)
        goto fail;
    c->timeout_ms = (long)(secs * 1000);
    c->retries = retries == 0 ? -1 : (int)retries;
    if (fa_cache_mode_parse(cm, &cmode) < 0)
        goto fail;
    if (bu && fa_cli_double("FA_BUDGET_USD", bu, 0, 1e9, &budget) < 0)
        goto fail;
    c->model = xstrdup(c->offline ? OFFLINE_MODEL : CONF(model, "FA_MODEL", "gpt-4o-mini"));
    if (!c->offline) {
        const char *vm = CONF(vision_model, "FA_VISION_MODEL", NULL);
        const char *em = CONF(embed_model, "FA_EMBED_MODEL", NULL);
        c->vision_model = xstrdup(vm);
        c->embed_model = xstrdup(em);
        if (set_url(c, url) < 0)
            goto fail;
        if (fa_secret_load(CONF(key_file, "FA_API_KEY_FILE", NULL), &c->key) < 0)
            goto fail;
    }
    cache_dir = cd ? xstrdup(cd) : fa_cache_default_dir();
    if (!(c->cache = fa_cache_open(cache_dir, cmode)))
        goto fail;
    if (pr)
        prices = xstrdup(pr);
    else if (!(prices = fa_prompt_path("prices.tsv")))
        fa_info("no price table (%s); every model costs 0", fa_err_get());
    if (lg)
        ledger = xstrdup(lg);
    else if (budget >= 0) {
        if (asprintf(&ledger, "%s/ledger.tsv", cache_dir) < 0)
            abort();
        if (fa_file_mkdirs(cache_dir, 0777) < 0)
            goto fail;
    }
    if (!(c->ledger = fa_ledger_open(prices, ledger, budget)))
        goto fail;
    free(cache_dir);
    free(prices);
    free(ledger);
    return c;
fail:
    free(cache_dir);
    free(prices);
    free(ledger);
    fa_llm_close(c);
    return NULL;
}

void fa_llm_close(struct fa_llm *c)
{
    if (!c)
        return;
    fa_secret_free(c->key);
    fa_cache_close(c->cache);
    fa_ledger_close(c->ledger);
    free(c->base);
    free(c->label);
    free(c->model);
    free(c->vision_model);
    free(c->embed_model);
    free(c);
}

bool fa_llm_offline(const struct fa_llm *c)
{
    return c->offline;
}

const char *fa_llm_model(const struct fa_llm *c)
{
    return c->model;
}

const char *fa_llm_embed_model(const struct fa_llm *c)
{
    return c->offline ? NULL : c->embed_model;
}

bool fa_llm_vision(const struct fa_llm *c)
{
    return !c->offline && !c->no_vision;
}

void fa_llm_chat_init(struct fa_llm_chat *req)
{
    memset(req, 0, sizeof *req);
    req->temperature = -1;
    req->seed = -1;
}

const char *fa_llm_strerror(enum fa_llm_error e)
{
    static const char *const names[] = {"ok",          "configuration", "auth",    "quota",
                                        "bad request", "server",        "network", "budget",
                                        "replay",      "cache",         "output"};
    return (unsigned)e < sizeof names / sizeof names[0] ? names[e] : "unknown";
}

void fa_llm_result_free(struct fa_llm_result *res)
{
    if (!res)
        return;
    json_object_put(res->fields);
    json_object_put(res->llm);
    free(res->text);
    free(res->reason);
    memset(res, 0, sizeof *res);
}

/* --- one HTTP call through cache and ledger -------------------------- */

/* What one call tells its llm record. */
struct call_info {
    const char *stage, *call, *model, *symbol, *date, *asof, *vision;
    long prompt_tokens, completion_tokens, latency_ms;
    int images, texts;
    double cost;
    bool price_known, cache_hit;
    char hash[FA_CACHE_KEY_HEX];
    const char *error; /* NULL if it worked */
};

static struct json_object *llm_record(const struct fa_llm *c, const struct call_info *ci)
{
    struct json_object *r = fa_record_new("llm", ci->symbol, ci->date);
    const char *asof = ci->asof ? ci->asof : ci->date;

    if (asof)
        fa_record_set_str(r, "asof", asof);
    fa_record_set_str(r, "stage", ci->stage ? ci->stage : "-");
    fa_record_set_str(r, "call", ci->call);
    fa_record_set_str(r, "model", ci->model);
    fa_record_set_str(r, "endpoint", c->offline ? "offline" : c->label);
    fa_record_set_int(r, "prompt_tokens", ci->prompt_tokens);
    fa_record_set_int(r, "completion_tokens", ci->completion_tokens);
    fa_record_set_num(r, "cost_usd", ci->cost);
    fa_record_set_str(r, "price", c->offline ? "free" : ci->price_known ? "known" : "unknown");
    fa_record_set_int(r, "latency_ms", ci->latency_ms);
    fa_record_set_bool(r, "cache_hit", ci->cache_hit);
    fa_record_set_str(r, "request_hash", ci->hash);
    if (ci->vision) {
        fa_record_set_str(r, "vision", ci->vision);
        fa_record_set_int(r, "images", ci->images);
    }
    if (ci->texts)
        fa_record_set_int(r, "texts", ci->texts);
    fa_record_set_bool(r, "ok", ci->error == NULL);
    if (ci->error)
        fa_record_set_str(r, "error", ci->error);
    fa_record_set_id(r);
    return r;
}

/* The server's own error message from a reply body, trimmed, or "". */
static void server_message(const char *body, char *out, size_t cap)
{
    struct json_object *j = body ? json_tokener_parse(body) : NULL, *e, *m;
    const char *s = NULL;

    out[0] = 0;
    if (j && json_object_object_get_ex(j, "error", &e)) {
        if (json_object_is_type(e, json_type_string))
            s = json_object_get_string(e);
        else if (json_object_object_get_ex(e, "message", &m))
            s = json_object_get_string(m);
    }
    if (!s && body && !j)
        s = body;
    if (s) {
        size_t n = 0;
        for (; s[n] && n + 1 < cap && n < 300; n++)
            out[n] = (s[n] == '\n' || s[n] == '\r' || s[n] == '\t') ? ' ' : s[n];
        out[n] = 0;
    }
    json_object_put(j);
}

/* Maps a failed fa_http reply to an error class and a message a user can
 * act on (fa_err holds fa_http's message on entry). */
static enum fa_llm_error classify(struct fa_llm *c, const struct fa_http_resp *resp,
                                  const char *what)
{
    char sm[320], *msg;
    enum fa_llm_error e;
    const char *hint = "";

    server_message(resp->body, sm, sizeof sm);
    switch (resp->error) {
    case FA_HTTP_ESTATUS:
        if (resp->status == 401 || resp->status == 403) {
            e = FA_LLM_EAUTH;
            hint = c->key ? "; check the key in FA_API_KEY, OPENAI_API_KEY or FA_API_KEY_FILE"
                          : "; no API key is set (FA_API_KEY, OPENAI_API_KEY or "
                            "FA_API_KEY_FILE)";
        } else if (resp->status == 429) {
            e = FA_LLM_EQUOTA;
            hint = "; rate limited or out of quota: wait, lower the load, or check billing";
        } else if (resp->status >= 500) {
            e = FA_LLM_ESERVER;
        } else {
            e = FA_LLM_EBADREQ;
            if (c->format != FMT_NONE && resp->status == 400)
                hint = "; if the server does not support response_format, set "
                       "FA_LLM_FORMAT=none";
            else if (resp->status == 404)
                hint = "; check FA_LLM_URL and the model name";
        }
        if (asprintf(&msg, "%s: model endpoint '%s' answered HTTP %ld%s%s (after %d attempt%s)%s",
                     what, c->label, resp->status, sm[0] ? ": " : "", sm, resp->attempts,
                     resp->attempts == 1 ? "" : "s", hint) < 0)
            abort();
        break;
    case FA_HTTP_ENETWORK:
    case FA_HTTP_ETIMEOUT:
        e = FA_LLM_ENETWORK;
        if (asprintf(&msg, "%s: %s; is the server at '%s' up?", what, fa_err_get(), c->label) < 0)
            abort();
        break;
    case FA_HTTP_ETOOBIG:
        e = FA_LLM_ESERVER;
        if (asprintf(&msg, "%s: %s", what, fa_err_get()) < 0)
            abort();
        break;
    default:
        e = FA_LLM_ECONFIG;
        if (asprintf(&msg, "%s: %s", what, fa_err_get()) < 0)
            abort();
        break;
    }
    fa_secret_redact(c->key, msg, strlen(msg));
    fa_err_set("%s", msg);
    free(msg);
    return e;
}

static void read_usage(struct json_object *reply, struct call_info *ci)
{
    struct json_object *u, *v;

    if (!json_object_object_get_ex(reply, "usage", &u))
        return;
    if (json_object_object_get_ex(u, "prompt_tokens", &v))
        ci->prompt_tokens = json_object_get_int64(v);
    if (json_object_object_get_ex(u, "completion_tokens", &v))
        ci->completion_tokens = json_object_get_int64(v);
}

/* POSTs body to path (relative to the base URL) through the cache and the
 * ledger. est_usd is the most the call may cost. On success stores the
 * reply JSON in *reply and returns FA_LLM_OK; ci gets hash, latency and
 * cache_hit. Otherwise returns the error class with fa_err set. */
static enum fa_llm_error post(struct fa_llm *c, const char *kind, const char *path,
                              struct json_object *body, double est_usd, bool cached,
                              struct call_info *ci, struct json_object **reply)
{
    struct json_object *entry = NULL, *resp_json;
    struct fa_http_resp resp = {0};
    struct fa_http_opts ho = {0};
    const char *headers[4] = {NULL};
    char *auth, *url, stage_h[96];
    size_t nh = 0, k = 0;
    const char *text;
    uint64_t ticket;
    long t0;
    int rc;

    *reply = NULL;
    fa_cache_key(kind, body, ci->hash);
    rc = cached ? fa_cache_get(c->cache, ci->hash, &entry) : 0;
    if (rc < 0)
        return fa_cache_mode(c->cache) == FA_CACHE_REPLAY ? FA_LLM_EREPLAY : FA_LLM_ECACHE;
    if (rc > 0) {
        json_object_object_get_ex(entry, "response", &resp_json);
        *reply = json_object_get(resp_json);
        json_object_put(entry);
        ci->cache_hit = true;
        ci->latency_ms = 0;
        read_usage(*reply, ci);
        fa_ledger_cost(c->ledger, ci->model, 0, 0, &ci->price_known);
        ci->cost = 0; /* nothing spent */
        return FA_LLM_OK;
    }
    if (fa_ledger_reserve(c->ledger, est_usd, &ticket) < 0)
        return strncmp(fa_err_get(), "budget:", 7) == 0 ? FA_LLM_EBUDGET : FA_LLM_ECACHE;
    auth = fa_secret_header(c->key);
    if (c->key && !auth) {
        fa_err_set("API key: cannot allocate locked memory");
        return FA_LLM_ECONFIG;
    }
    if (auth)
        headers[nh++] = auth;
    headers[nh++] = "Accept: application/json";
    /* the stage, for server logs and the test fake (letters, digits, -_) */
    k = (size_t)snprintf(stage_h, sizeof stage_h, "X-Fa-Stage: ");
    for (const char *p = ci->stage ? ci->stage : "-"; *p && k < sizeof stage_h - 1; p++)
        stage_h[k++] = ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                        (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')
                           ? *p
                           : '_';
    stage_h[k] = 0;
    headers[nh++] = stage_h;
    ho.headers = headers;
    ho.timeout_ms = c->timeout_ms;
    ho.retries = c->retries;
    ho.max_body = 64u << 20;
    if (asprintf(&url, "%s%s", c->base, path) < 0)
        abort();
    text = json_object_to_json_string_ext(body,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    t0 = now_ms();
    rc = fa_http_post(url, text, strlen(text), &ho, &resp);
    ci->latency_ms = now_ms() - t0;
    fa_secret_wipe_free(auth);
    free(url);
    if (rc < 0) {
        enum fa_llm_error e = classify(c, &resp, kind);
        char *m = xstrdup(fa_err_get());
        if (fa_ledger_settle(c->ledger, ticket, 0, ci->stage, ci->model, 0, 0, ci->hash) < 0)
            fa_warn("%s", fa_err_get());
        fa_err_set("%s", m);
        free(m);
        fa_http_resp_free(&resp);
        return e;
    }
    resp_json = json_tokener_parse(resp.body);
    if (!resp_json || !json_object_is_type(resp_json, json_type_object)) {
        json_object_put(resp_json);
        fa_http_resp_free(&resp);
        fa_err_set("%s: model endpoint '%s' sent a reply that is not JSON", kind, c->label);
        if (fa_ledger_settle(c->ledger, ticket, 0, ci->stage, ci->model, 0, 0, ci->hash) < 0)
            fa_warn("%s", fa_err_get());
        return FA_LLM_ESERVER;
    }
    fa_http_resp_free(&resp);
    read_usage(resp_json, ci);
    ci->cost = fa_ledger_cost(c->ledger, ci->model, ci->prompt_tokens, ci->completion_tokens,
                              &ci->price_known);
    if (fa_ledger_settle(c->ledger, ticket, ci->cost, ci->stage, ci->model, ci->prompt_tokens,
                         ci->completion_tokens, ci->hash) < 0)
        fa_warn("%s", fa_err_get());
    if (cached && fa_cache_put(c->cache, ci->hash, kind, body, resp_json, ci->latency_ms) < 0)
        fa_warn("%s (the answer is not cached)", fa_err_get());
    *reply = resp_json;
    return FA_LLM_OK;
}

/* --- chat ------------------------------------------------------------ */

/* The text of choices[0].message.content (a string, or parts with text). */
static int answer_text(struct json_object *reply, char **text)
{
    struct json_object *ch, *m, *ct;

    *text = NULL;
    if (!json_object_object_get_ex(reply, "choices", &ch) ||
        !json_object_is_type(ch, json_type_array) || json_object_array_length(ch) == 0 ||
        !json_object_object_get_ex(json_object_array_get_idx(ch, 0), "message", &m)) {
        fa_err_set("the reply has no choices[0].message: not an OpenAI-compatible chat "
                   "completion");
        return -1;
    }
    if (!json_object_object_get_ex(m, "content", &ct) || !ct) {
        *text = xstrdup("");
        return 0;
    }
    if (json_object_is_type(ct, json_type_string)) {
        *text = xstrdup(json_object_get_string(ct));
        return 0;
    }
    if (json_object_is_type(ct, json_type_array)) {
        size_t len = 0;
        char *s = xstrdup("");
        for (size_t i = 0; i < json_object_array_length(ct); i++) {
            struct json_object *t;
            if (json_object_object_get_ex(json_object_array_get_idx(ct, i), "text", &t)) {
                const char *ts = json_object_get_string(t);
                size_t tl = strlen(ts);
                s = fa_str_nn(realloc(s, len + tl + 1));
                memcpy(s + len, ts, tl + 1);
                len += tl;
            }
        }
        *text = s;
        return 0;
    }
    fa_err_set("the reply's message content is neither text nor parts");
    return -1;
}

static struct json_object *jstr(const char *s)
{
    return fa_str_nn(json_object_new_string(s));
}

static struct json_object *message(const char *role, struct json_object *content)
{
    struct json_object *m = fa_str_nn(json_object_new_object());

    json_object_object_add(m, "role", jstr(role));
    json_object_object_add(m, "content", content);
    return m;
}

/* The messages of req; *est_chars gets the length of its text. */
static struct json_object *build_messages(const struct fa_llm *c, const struct fa_llm_chat *req,
                                          bool images, size_t *est_chars)
{
    struct json_object *msgs = fa_str_nn(json_object_new_array());
    char *user;

    *est_chars = 0;
    if (req->system) {
        json_object_array_add(msgs, message("system", jstr(req->system)));
        *est_chars += strlen(req->system);
    }
    if (images) {
        struct json_object *parts = fa_str_nn(json_object_new_array()), *p, *iu;
        p = fa_str_nn(json_object_new_object());
        json_object_object_add(p, "type", jstr("text"));
        json_object_object_add(p, "text", jstr(req->user));
        json_object_array_add(parts, p);
        for (size_t i = 0; i < req->nimages; i++) {
            size_t b64len =
                sodium_base64_encoded_len(req->images[i].len, sodium_base64_VARIANT_ORIGINAL);
            char *url = fa_str_nn(malloc(22 + b64len));
            memcpy(url, "data:image/png;base64,", 22);
            sodium_bin2base64(url + 22, b64len, req->images[i].png, req->images[i].len,
                              sodium_base64_VARIANT_ORIGINAL);
            p = fa_str_nn(json_object_new_object());
            iu = fa_str_nn(json_object_new_object());
            json_object_object_add(iu, "url", jstr(url));
            free(url);
            json_object_object_add(p, "type", jstr("image_url"));
            json_object_object_add(p, "image_url", iu);
            json_object_array_add(parts, p);
            *est_chars += 3000; /* an image is roughly 1000 tokens */
        }
        json_object_array_add(msgs, message("user", parts));
        *est_chars += strlen(req->user);
        return msgs;
    }
    user = xstrdup(req->user);
    for (size_t i = 0; i < req->nimages; i++) {
        char *u;
        if (asprintf(&u,
                     "%s\n\nChart %zu (described in words; this model is not shown images):\n%s",
                     user, i + 1, req->images[i].description) < 0)
            abort();
        free(user);
        user = u;
    }
    (void)c;
    *est_chars += strlen(user);
    json_object_array_add(msgs, message("user", jstr(user)));
    free(user);
    return msgs;
}

static struct json_object *build_body(const struct fa_llm *c, const struct fa_llm_chat *req,
                                      const char *model, struct json_object *msgs)
{
    struct json_object *b = fa_str_nn(json_object_new_object());

    json_object_object_add(b, "model", jstr(model));
    json_object_object_add(b, "messages", msgs);
    if (req->temperature >= 0)
        json_object_object_add(b, "temperature", fa_json_num(req->temperature));
    if (req->seed >= 0)
        json_object_object_add(b, "seed", fa_str_nn(json_object_new_int64(req->seed)));
    if (req->max_tokens > 0)
        json_object_object_add(b, "max_tokens", fa_str_nn(json_object_new_int(req->max_tokens)));
    if (c->format == FMT_JSON_OBJECT) {
        struct json_object *rf = fa_str_nn(json_object_new_object());
        json_object_object_add(rf, "type", jstr("json_object"));
        json_object_object_add(b, "response_format", rf);
    } else if (c->format == FMT_JSON_SCHEMA && req->nfields) {
        struct json_object *rf = fa_str_nn(json_object_new_object()),
                           *js = fa_str_nn(json_object_new_object());
        char name[64];
        size_t k = 0;
        for (const char *s = req->stage ? req->stage : "output"; *s && k < sizeof name - 1; s++)
            name[k++] = (char)((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                                       (*s >= '0' && *s <= '9') || *s == '-'
                                   ? *s
                                   : '_');
        name[k] = 0;
        json_object_object_add(js, "name", jstr(name));
        json_object_object_add(js, "strict", json_object_new_boolean(1));
        json_object_object_add(js, "schema", fa_output_schema(req->fields, req->nfields));
        json_object_object_add(rf, "type", jstr("json_schema"));
        json_object_object_add(rf, "json_schema", js);
        json_object_object_add(b, "response_format", rf);
    }
    return b;
}

static void fail(struct fa_llm_result *res, enum fa_llm_error e)
{
    res->error = e;
    free(res->reason);
    res->reason = xstrdup(fa_err_get());
}

/* The offline analyst's answer for req. */
static int chat_offline(struct fa_llm *c, const struct fa_llm_chat *req, struct fa_llm_result *res)
{
    struct call_info ci = {0};
    struct json_object *k = fa_str_nn(json_object_new_object());
    char *canon, *text = NULL;
    unsigned char h[32];
    int rc;

    ci.stage = req->stage;
    ci.call = "chat";
    ci.model = c->model;
    ci.symbol = req->symbol;
    ci.date = req->date;
    ci.asof = req->asof;
    ci.images = (int)req->nimages;
    ci.vision = req->nimages ? "text" : "none";
    json_object_object_add(k, "stage", jstr(req->stage));
    json_object_object_add(k, "vars", json_object_get(req->vars));
    canon = fa_json_canonical(k, NULL);
    crypto_generichash(h, sizeof h, (const unsigned char *)canon, strlen(canon), NULL, 0);
    sodium_bin2hex(ci.hash, sizeof ci.hash, h, sizeof h);
    free(canon);
    json_object_put(k);

    rc = fa_offline_answer(req->stage, req->vars, &text);
    if (rc < 0) {
        char *m;
        if (asprintf(&m, "offline analyst, stage '%s': %s", req->stage, fa_err_get()) < 0)
            abort();
        fa_err_set("%s", m);
        free(m);
        ci.error = fa_err_get();
        json_object_array_add(res->llm, llm_record(c, &ci));
        fail(res, FA_LLM_ECONFIG);
        return -1;
    }
    res->text = text;
    if (fa_output_parse(text, req->fields, req->nfields, &res->fields) < 0) {
        char *m;
        if (asprintf(&m, "offline analyst, stage '%s': unusable answer: %s", req->stage,
                     fa_err_get()) < 0)
            abort();
        fa_err_set("%s", m);
        free(m);
        ci.error = fa_err_get();
        json_object_array_add(res->llm, llm_record(c, &ci));
        fail(res, FA_LLM_EOUTPUT);
        return -1;
    }
    json_object_array_add(res->llm, llm_record(c, &ci));
    return 0;
}

int fa_llm_chat(struct fa_llm *c, const struct fa_llm_chat *req, struct fa_llm_result *res)
{
    struct json_object *msgs, *body = NULL, *reply = NULL;
    struct call_info ci = {0};
    bool images, known;
    const char *model;
    size_t est_chars;
    double est_usd;
    char *problem = NULL;
    enum fa_llm_error e;

    memset(res, 0, sizeof *res);
    res->llm = fa_str_nn(json_object_new_array());
    if (!req->stage || !*req->stage) {
        fa_err_set("chat request without a stage");
        fail(res, FA_LLM_ECONFIG);
        return -1;
    }
    for (size_t i = 0; i < req->nimages; i++)
        if (!req->images[i].description || !req->images[i].png) {
            fa_err_set("stage '%s': image %zu has no %s", req->stage, i + 1,
                       req->images[i].png ? "text description" : "bytes");
            fail(res, FA_LLM_ECONFIG);
            return -1;
        }
    if (c->offline)
        return chat_offline(c, req, res);
    if (!req->user) {
        fa_err_set("stage '%s': chat request without a user message", req->stage);
        fail(res, FA_LLM_ECONFIG);
        return -1;
    }
    images = req->nimages > 0 && !c->no_vision;
    model = images && c->vision_model ? c->vision_model : c->model;
    msgs = build_messages(c, req, images, &est_chars);

    for (int attempt = 0; attempt < 2; attempt++) {
        memset(&ci, 0, sizeof ci);
        ci.stage = req->stage;
        ci.call = attempt ? "repair" : "chat";
        ci.model = model;
        ci.symbol = req->symbol;
        ci.date = req->date;
        ci.asof = req->asof;
        ci.images = (int)req->nimages;
        ci.vision = req->nimages == 0 ? "none" : images ? "image" : "text";
        if (attempt) {
            char *desc = fa_output_describe(req->fields, req->nfields), *fix;
            json_object_array_add(msgs, message("assistant", jstr(res->text)));
            if (asprintf(&fix,
                         "Your answer could not be used: %s.\n"
                         "Answer again with one JSON object holding exactly these fields "
                         "and nothing else:\n%s",
                         problem, desc) < 0)
                abort();
            json_object_array_add(msgs, message("user", jstr(fix)));
            est_chars += strlen(fix) + strlen(res->text);
            free(fix);
            free(desc);
            free(res->text);
            res->text = NULL;
        }
        body = build_body(c, req, model, json_object_get(msgs));
        est_usd = fa_ledger_cost(c->ledger, model, (long)(est_chars / 3 + 16),
                                 req->max_tokens > 0 ? req->max_tokens : 4096, &known);
        e = post(c, "chat", "/chat/completions", body, est_usd, true, &ci, &reply);
        json_object_put(body);
        if (e == FA_LLM_OK && answer_text(reply, &res->text) < 0) {
            if (!ci.cache_hit)
                e = FA_LLM_ESERVER;
            else /* a cached reply that is no answer: an unusable answer */
                res->text = xstrdup("");
        }
        json_object_put(reply);
        reply = NULL;
        if (e != FA_LLM_OK) {
            ci.error = fa_err_get();
            json_object_array_add(res->llm, llm_record(c, &ci));
            fail(res, e);
            break;
        }
        if (fa_output_parse(res->text, req->fields, req->nfields, &res->fields) == 0) {
            json_object_array_add(res->llm, llm_record(c, &ci));
            break;
        }
        if (attempt == 0) {
            problem = xstrdup(fa_err_get());
            ci.error = problem;
            json_object_array_add(res->llm, llm_record(c, &ci));
            continue;
        }
        {
            char *m;
            if (asprintf(&m, "stage '%s': model '%s' gave no usable answer after one repair: %s",
                         req->stage, model, fa_err_get()) < 0)
                abort();
            fa_err_set("%s", m);
            free(m);
        }
        ci.error = fa_err_get();
        json_object_array_add(res->llm, llm_record(c, &ci));
        fail(res, FA_LLM_EOUTPUT);
    }
    json_object_put(msgs);
    free(problem);
    if (res->error != FA_LLM_OK) {
        fa_err_set("%s", res->reason);
        return -1;
    }
    return 0;
}

/* --- embeddings ------------------------------------------------------ */

static struct json_object *embed_req(const char *model, const char *text)
{
    struct json_object *r = fa_str_nn(json_object_new_object());

    json_object_object_add(r, "model", jstr(model));
    json_object_object_add(r, "input", jstr(text));
    return r;
}

/* Reads an embedding array into out (dim floats); sets *dim on first use.
 */
static int read_vec(struct json_object *emb, float **rows, size_t i, size_t n, size_t *dim)
{
    size_t d;

    if (!emb || !json_object_is_type(emb, json_type_array) ||
        (d = json_object_array_length(emb)) == 0) {
        fa_err_set("embedding reply without a vector");
        return -1;
    }
    if (!*dim) {
        *dim = d;
        *rows = fa_str_nn(calloc(n * d, sizeof **rows));
    } else if (d != *dim) {
        fa_err_set("embedding reply with rows of %zu and %zu numbers", *dim, d);
        return -1;
    }
    for (size_t k = 0; k < d; k++)
        (*rows)[i * d + k] = (float)json_object_get_double(json_object_array_get_idx(emb, k));
    return 0;
}

int fa_llm_embed(struct fa_llm *c, const char *stage, const char *const *texts, size_t n,
                 float **rows, size_t *dim, struct json_object *records)
{
    const char *model = fa_llm_embed_model(c);
    char(*keys)[FA_CACHE_KEY_HEX];
    size_t *miss, nmiss = 0, nhit = 0;
    struct json_object **hits;
    int rc = -1;

    *rows = NULL;
    *dim = 0;
    if (!model) {
        fa_err_set("no embedding model: set FA_EMBED_MODEL and FA_LLM_URL");
        return -1;
    }
    keys = fa_str_nn(calloc(n ? n : 1, sizeof *keys));
    miss = fa_str_nn(calloc(n ? n : 1, sizeof *miss));
    hits = fa_str_nn(calloc(n ? n : 1, sizeof *hits));
    for (size_t i = 0; i < n; i++) {
        struct json_object *r = embed_req(model, texts[i] ? texts[i] : "");
        int g;
        fa_cache_key("embeddings", r, keys[i]);
        json_object_put(r);
        g = fa_cache_get(c->cache, keys[i], &hits[i]);
        if (g < 0)
            goto out;
        if (g == 0)
            miss[nmiss++] = i;
        else
            nhit++;
    }
    for (size_t i = 0; i < n; i++) {
        struct json_object *resp, *emb = NULL;
        if (!hits[i])
            continue;
        if (json_object_object_get_ex(hits[i], "response", &resp))
            json_object_object_get_ex(resp, "embedding", &emb);
        if (read_vec(emb, rows, i, n, dim) < 0)
            goto out;
    }
    if (nhit && records) {
        struct call_info ci = {0};
        char *all = fa_str_nn(calloc(nhit, FA_CACHE_KEY_HEX));
        size_t k = 0;
        unsigned char h[32];
        for (size_t i = 0; i < n; i++)
            if (hits[i])
                memcpy(all + (k++) * (FA_CACHE_KEY_HEX - 1), keys[i], FA_CACHE_KEY_HEX - 1);
        crypto_generichash(h, sizeof h, (unsigned char *)all, k * (FA_CACHE_KEY_HEX - 1), NULL, 0);
        sodium_bin2hex(ci.hash, sizeof ci.hash, h, sizeof h);
        free(all);
        ci.stage = stage;
        ci.call = "embeddings";
        ci.model = model;
        ci.cache_hit = true;
        ci.texts = (int)nhit;
        fa_ledger_cost(c->ledger, model, 0, 0, &ci.price_known);
        json_object_array_add(records, llm_record(c, &ci));
    }
    for (size_t b = 0; b < nmiss; b += EMBED_BATCH) {
        size_t m = nmiss - b < EMBED_BATCH ? nmiss - b : EMBED_BATCH, chars = 0;
        struct json_object *body = fa_str_nn(json_object_new_object()), *in, *reply = NULL, *data;
        struct call_info ci = {0};
        enum fa_llm_error e;
        bool known;

        in = fa_str_nn(json_object_new_array());
        for (size_t k = 0; k < m; k++) {
            const char *t = texts[miss[b + k]] ? texts[miss[b + k]] : "";
            json_object_array_add(in, jstr(t));
            chars += strlen(t);
        }
        json_object_object_add(body, "model", jstr(model));
        json_object_object_add(body, "input", in);
        json_object_object_add(body, "encoding_format", jstr("float"));
        ci.stage = stage;
        ci.call = "embeddings";
        ci.model = model;
        ci.texts = (int)m;
        /* the batch itself is never looked up: each text is cached alone */
        e = post(c, "embeddings", "/embeddings", body,
                 fa_ledger_cost(c->ledger, model, (long)(chars / 3 + 16), 0, &known), false, &ci,
                 &reply);
        if (e == FA_LLM_OK) {
            size_t nd;
            if (!json_object_object_get_ex(reply, "data", &data) ||
                !json_object_is_type(data, json_type_array) ||
                (nd = json_object_array_length(data)) != m) {
                fa_err_set("embedding reply from '%s' without %zu rows in data", c->label, m);
                e = FA_LLM_ESERVER;
            } else {
                for (size_t k = 0; k < m && e == FA_LLM_OK; k++) {
                    struct json_object *d = json_object_array_get_idx(data, k), *ix, *emb = NULL;
                    size_t pos = k;
                    if (json_object_object_get_ex(d, "index", &ix)) {
                        int64_t v = json_object_get_int64(ix);
                        if (v < 0 || (size_t)v >= m) {
                            fa_err_set("embedding reply with index %lld out of range",
                                       (long long)v);
                            e = FA_LLM_ESERVER;
                            break;
                        }
                        pos = (size_t)v;
                    }
                    json_object_object_get_ex(d, "embedding", &emb);
                    if (read_vec(emb, rows, miss[b + pos], n, dim) < 0) {
                        e = FA_LLM_ESERVER;
                        break;
                    }
                    {
                        struct json_object *rq =
                            embed_req(model, texts[miss[b + pos]] ? texts[miss[b + pos]] : "");
                        struct json_object *rs = fa_str_nn(json_object_new_object());
                        json_object_object_add(rs, "embedding", json_object_get(emb));
                        if (fa_cache_put(c->cache, keys[miss[b + pos]], "embeddings", rq, rs,
                                         ci.latency_ms) < 0)
                            fa_warn("%s (the embedding is not cached)", fa_err_get());
                        json_object_put(rq);
                        json_object_put(rs);
                    }
                }
            }
        }
        json_object_put(reply);
        json_object_put(body);
        if (e != FA_LLM_OK)
            ci.error = fa_err_get();
        if (records)
            json_object_array_add(records, llm_record(c, &ci));
        if (e != FA_LLM_OK)
            goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        json_object_put(hits[i]);
    free(hits);
    free(keys);
    free(miss);
    if (rc < 0) {
        free(*rows);
        *rows = NULL;
        *dim = 0;
    }
    return rc;
}
