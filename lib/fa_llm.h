/* fa_llm.h: the one model client of fa: chat (text and PNG images) and
 * embeddings against any OpenAI-compatible endpoint (OpenAI, vLLM,
 * llama.cpp's server, Ollama, LM Studio), or the offline analyst when no
 * endpoint is configured, with the same code path for the caller.
 *
 * Every call goes through the content-addressed cache (fa_cache.h), is
 * priced and checked against the budget (fa_ledger.h), and yields an
 * `llm` record for the stage to emit. Answers are parsed into the stage's
 * declared fields (fa_output.h); a malformed answer gets exactly one
 * repair request quoting the problem; if that fails too the call returns
 * FA_LLM_EOUTPUT and the stage decides (error record, or decision NONE).
 *
 * Configuration (a flag in struct fa_llm_opts wins over the environment,
 * which wins over the default):
 *   FA_LLM_URL        base URL, e.g. https://api.openai.com/v1 or
 *                     http://127.0.0.1:8080 ("/v1" is added when the
 *                     URL has no path); unset: offline
 *   FA_LLM            "offline" forces the offline analyst even with a URL
 *   FA_MODEL          chat model [gpt-4o-mini]
 *   FA_VISION_MODEL   model for requests with images [FA_MODEL]
 *   FA_NO_VISION      1: never send images; the caller's text description
 *                     of each chart goes into the prompt instead
 *   FA_EMBED_MODEL    embedding model; unset: the local hashing embedder
 *   FA_API_KEY, OPENAI_API_KEY, FA_API_KEY_FILE (mode 0600 only): the key,
 *                     sent only as "Authorization: Bearer" (see fa_secret.h)
 *   FA_LLM_FORMAT     none | json_object | json_schema [none]: what
 *                     response_format to ask for (servers differ)
 *   FA_LLM_TIMEOUT    seconds per attempt [120]
 *   FA_LLM_RETRIES    further attempts on 429/5xx/timeouts [3]
 *   FA_CACHE          rw | ro | off | replay [rw]     (fa_cache.h)
 *   FA_CACHE_DIR      [$XDG_CACHE_HOME/fa or ~/.cache/fa]
 *   FA_BUDGET_USD     hard spending limit for the run [none]
 *   FA_LEDGER         the run's ledger file [FA_CACHE_DIR/ledger.tsv]
 *   FA_PRICES         price table [prices.tsv found like a prompt]
 *
 * Thread-safety: one struct fa_llm per thread. */
#ifndef FA_LLM_H
#define FA_LLM_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "fa_output.h"

struct fa_llm;

/* Flag values overriding the environment. Zero-initialise; a NULL field
 * means "from the environment, else the default". All are text so that
 * a tool can pass optarg as is; fa_llm_open validates them. */
struct fa_llm_opts {
    const char *url;          /* FA_LLM_URL */
    const char *mode;         /* FA_LLM: "offline" or "remote" */
    const char *model;        /* FA_MODEL */
    const char *vision_model; /* FA_VISION_MODEL */
    const char *no_vision;    /* FA_NO_VISION: "1"/"0" */
    const char *embed_model;  /* FA_EMBED_MODEL */
    const char *key_file;     /* FA_API_KEY_FILE */
    const char *format;       /* FA_LLM_FORMAT */
    const char *timeout;      /* FA_LLM_TIMEOUT, seconds */
    const char *retries;      /* FA_LLM_RETRIES */
    const char *cache;        /* FA_CACHE */
    const char *cache_dir;    /* FA_CACHE_DIR */
    const char *budget_usd;   /* FA_BUDGET_USD */
    const char *ledger;       /* FA_LEDGER */
    const char *prices;       /* FA_PRICES */
};

/* Opens a client. opts may be NULL (environment only). Reads the key
 * (when remote) into locked memory. Returns NULL with fa_err set on a
 * configuration error (bad value, key file not 0600, unreadable price
 * table): tools exit 2 then. */
struct fa_llm *fa_llm_open(const struct fa_llm_opts *opts);
/* Wipes the key and frees everything; NULL is fine. */
void fa_llm_close(struct fa_llm *c);

/* True when the client answers chat with the offline analyst. */
bool fa_llm_offline(const struct fa_llm *c);
/* The chat model name ("offline-analyst" when offline). */
const char *fa_llm_model(const struct fa_llm *c);
/* The embedding model name, or NULL when none (local embedder). */
const char *fa_llm_embed_model(const struct fa_llm *c);
/* True when requests with images are sent as images (false: offline, or
 * FA_NO_VISION=1, so charts go as their text descriptions). */
bool fa_llm_vision(const struct fa_llm *c);

/* One PNG image of a chat request. */
struct fa_llm_image {
    const void *png; /* PNG bytes (borrowed) */
    size_t len;
    const char *description; /* the chart in words; required: used instead
                                of the image when the model has no vision */
};

/* One chat request. Initialise with fa_llm_chat_init, then fill. All
 * pointers are borrowed for the duration of the call. */
struct fa_llm_chat {
    const char *stage;         /* e.g. "decide"; names the offline
                                  analyst's task and the llm record */
    struct json_object *vars;  /* the template variables (an object);
                                  the offline analyst reads them */
    const char *symbol, *date; /* for the llm record (may be NULL) */
    const char *asof;          /* for the llm record [date] */
    const char *system;        /* system message, or NULL */
    const char *user;          /* user message (required unless offline) */
    const struct fa_llm_image *images;
    size_t nimages;
    double temperature;                   /* < 0: the server's default [-1] */
    long seed;                            /* < 0: none [-1] */
    int max_tokens;                       /* <= 0: the server's default [0] */
    const struct fa_output_field *fields; /* the expected output fields */
    size_t nfields;
};

/* Sets every field of req to its default (temperature -1, seed -1, rest
 * zero/NULL). */
void fa_llm_chat_init(struct fa_llm_chat *req);

/* Why a call failed (fa_llm_result.error). */
enum fa_llm_error {
    FA_LLM_OK = 0,
    FA_LLM_ECONFIG,  /* bad request from the caller, missing description */
    FA_LLM_EAUTH,    /* 401/403: key missing, wrong or not allowed */
    FA_LLM_EQUOTA,   /* 429 after the retries: rate limit or quota */
    FA_LLM_EBADREQ,  /* other 4xx: unknown model, bad parameters */
    FA_LLM_ESERVER,  /* 5xx after the retries, or a reply that is not the
                        API's JSON */
    FA_LLM_ENETWORK, /* connection, timeout, truncated reply */
    FA_LLM_EBUDGET,  /* FA_BUDGET_USD would be exceeded: call not made */
    FA_LLM_EREPLAY,  /* FA_CACHE=replay and the answer is not cached */
    FA_LLM_ECACHE,   /* cache or ledger I/O failed */
    FA_LLM_EOUTPUT,  /* the answer (and its one repair) did not give the
                        declared fields */
};

/* What a chat call produced. Zero-initialise; release with
 * fa_llm_result_free. */
struct fa_llm_result {
    struct json_object *fields; /* object of the parsed fields, or NULL */
    char *text;                 /* raw text of the last answer, or NULL */
    struct json_object *llm;    /* array of complete `llm` records (kind,
                                   symbol, date, asof, ..., id set), one per
                                   request made or answered from the cache
                                   (two when a repair was needed); never
                                   NULL after fa_llm_chat; emit them all */
    enum fa_llm_error error;    /* FA_LLM_OK or why it failed */
    char *reason;               /* the failure in one line (what fa_err
                                   says), NULL on success */
};

/* Sends req (or asks the offline analyst), parses the answer for
 * req->fields, repairs once if needed. Returns 0 with res->fields set, or
 * -1 with fa_err set, res->error/res->reason saying why and res->llm
 * holding records of the calls that were made. On FA_LLM_EOUTPUT res->text
 * has the last answer. The API key never appears in fa_err, the records or
 * the cache. Stages: EOUTPUT -> error record (a decision stage: decision
 * NONE with the reason); EBUDGET, EAUTH, EREPLAY -> stop the run (exit 1);
 * others -> error record and go on (or stop, the stage's choice). */
int fa_llm_chat(struct fa_llm *c, const struct fa_llm_chat *req, struct fa_llm_result *res)
    __attribute__((warn_unused_result));
void fa_llm_result_free(struct fa_llm_result *res);

/* A short name of an error class ("auth", "quota", ...). */
const char *fa_llm_strerror(enum fa_llm_error e);

/* Embeds n texts with FA_EMBED_MODEL through /embeddings, in batches,
 * each text cached on its own. On success stores n rows of *dim floats
 * (malloc'd, row-major, as the server returned them) in *rows and returns
 * 0. Appends one `llm` record per request made or cache batch answered to
 * records (a JSON array) when records is not NULL; stage names them.
 * Returns -1 with fa_err set (no embedding model configured, offline,
 * errors as for chat, rows of different lengths). Most callers want
 * fa_embedder.h instead, which also covers the local embedder. */
int fa_llm_embed(struct fa_llm *c, const char *stage, const char *const *texts, size_t n,
                 float **rows, size_t *dim, struct json_object *records)
    __attribute__((warn_unused_result));

#endif
