/* fa-policy: FLAG-Trader's RL policy. `train` reads one symbol's days
 * (price, news, intel records: on stdin, or from fa-fetch run as a child
 * with --source) and trains the policy/value network with PPO, writing a
 * checkpoint directory; `act` passes a day stream through and appends one
 * decision record per trading day, scored by fa-metrics like any agent.
 * Memory: the symbol's days (O(days)) and, for the text backbone, the
 * cache of state embeddings. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fa_cli.h"
#include "fa_date.h"
#include "fa_err.h"
#include "fa_ndjson.h"
#include "fa_nn.h"
#include "fa_policy.h"
#include "fa_ppo.h"
#include "fa_record.h"
#include "fa_banned.h"

static void usage(void)
{
    printf("Usage: fa-policy train [--source SRC] [--symbol SYM] [--from D] [--to D] --out CKPT\n"
           "                       [OPTION]... [< DAYS.ndjson]\n"
           "       fa-policy act --ckpt CKPT [--symbol SYM] [--from D] [--to D] [OPTION]...\n"
           "Train FLAG-Trader's PPO policy on a day stream, or act with a trained one\n"
           "(appends one decision record per trading day).\n"
           "\n"
           "Data:\n"
           "      --source SRC      train: run fa-fetch --source SRC (else read stdin)\n"
           "      --symbol SYM      the symbol (default: the first price record's)\n"
           "      --from DATE       first day used (train) or decided (act)\n"
           "      --to DATE         last day used or decided\n"
           "Model:\n"
           "      --backbone NAME   text (state prompt through the frozen embedder,\n"
           "                        default), numeric (price features) or llm:DIR\n"
           "      --embed-dim N     text: local hashing embedder of N dimensions\n"
           "                        (default: FA_EMBED_DIM / FA_EMBED_MODEL)\n"
           "      --template NAME   state prompt template (default policy-state)\n"
           "      --pool HOW        text: sections (embed each paragraph, default) or whole\n"
           "      --backbone llm:DIR  FLAG-Trader's: the state prompt through the llama\n"
           "                        model in DIR (config.json, model.safetensors,\n"
           "                        tokenizer.json), its top layers trained\n"
           "      --train-layers N  llm: top layers trained (2)\n"
           "      --lora RANK       llm: LoRA adapters of RANK on them instead (0: full)\n"
           "      --hidden W[,W..]  widths of the policy's and the value's trunks\n"
           "                        (default 128,128; 0: linear heads)\n"
           "      --activation F    tanh (default) or relu\n"
           "      --preset flag     FLAG-Trader's Table 3 and environment exactly (then\n"
           "                        the flags that follow override it)\n"
           "PPO (defaults: FLAG-Trader's Table 3):\n"
           "      --timesteps N     environment steps in all (13860)\n"
           "      --rollout N       steps per rollout and update (40)\n"
           "      --max-episode N   steps per episode at most (65)\n"
           "      --lr X            Adam learning rate (5e-4), --no-anneal keeps it fixed\n"
           "      --gamma X         discount (0.95)\n"
           "      --lambda X        GAE lambda (0.98)\n"
           "      --clip X          surrogate clip (0.2)\n"
           "      --epochs N        update epochs (1)\n"
           "      --minibatch N     minibatch size (32)\n"
           "      --grad-accum N    minibatches per optimiser step (8)\n"
           "      --ent-coef X      entropy bonus (0.05)\n"
           "      --vf-coef X       value loss (0.5)\n"
           "      --kl-coef X       KL penalty to the initial policy (0.05)\n"
           "      --max-grad-norm X gradient norm clip, 0 none (0.5)\n"
           "      --no-norm-adv     do not normalise advantages\n"
           "      --seed N          seed of weights, episodes, actions, minibatches (1)\n"
           "Environment:\n"
           "      --reward R        sharpe (differential Sharpe ratio of the P&L, default),\n"
           "                        sharpe-change (of the running Sharpe) or return\n"
           "      --fill WHEN       next-close (default) or close\n"
           "      --cash X          initial cash (10000)\n"
           "      --commission BPS  per side (0)\n"
           "      --slippage BPS    per side, next-close only (0)\n"
           "Output:\n"
           "      --out CKPT        train: checkpoint directory to write\n"
           "      --ckpt CKPT       act: checkpoint directory to read\n"
           "      --log FILE        train: one NDJSON record per update\n"
           "      --stop-after N    train: stop after N updates (the checkpoint can resume)\n"
           "      --resume CKPT     train: continue CKPT's run (--out defaults to CKPT)\n"
           "      --sample          act: sample the action (default: most probable)\n"
           "      --print-state     act: add the state prompt to each decision\n"
           "  -q, --quiet           no progress lines\n"
           "  -v, --verbose         more messages\n"
           "      --strict          a bad record is fatal (exit 1)\n"
           "  -h, --help            this help\n"
           "  -V, --version         version\n"
           "See fa-policy(1).\n");
}

enum {
    OPT_ACTIVATION = 256,
    OPT_BACKBONE,
    OPT_CASH,
    OPT_CKPT,
    OPT_CLIP,
    OPT_COMMISSION,
    OPT_EMBED_DIM,
    OPT_ENT,
    OPT_EPOCHS,
    OPT_FILL,
    OPT_FROM,
    OPT_GAMMA,
    OPT_ACCUM,
    OPT_HIDDEN,
    OPT_KL,
    OPT_LORA,
    OPT_LAMBDA,
    OPT_LOG,
    OPT_LR,
    OPT_MAXEP,
    OPT_MAXGRAD,
    OPT_MINIBATCH,
    OPT_NO_ANNEAL,
    OPT_NO_NORM,
    OPT_OUT,
    OPT_POOL,
    OPT_PRESET,
    OPT_PRINT_STATE,
    OPT_RESUME,
    OPT_REWARD,
    OPT_ROLLOUT,
    OPT_SAMPLE,
    OPT_SEED,
    OPT_SLIPPAGE,
    OPT_SOURCE,
    OPT_STOP_AFTER,
    OPT_STRICT,
    OPT_SYMBOL,
    OPT_TEMPLATE,
    OPT_TIMESTEPS,
    OPT_TRAIN_LAYERS,
    OPT_TO,
    OPT_VF,
};

static const struct option opts[] = {
    {"activation", required_argument, NULL, OPT_ACTIVATION},
    {"backbone", required_argument, NULL, OPT_BACKBONE},
    {"cash", required_argument, NULL, OPT_CASH},
    {"ckpt", required_argument, NULL, OPT_CKPT},
    {"clip", required_argument, NULL, OPT_CLIP},
    {"commission", required_argument, NULL, OPT_COMMISSION},
    {"embed-dim", required_argument, NULL, OPT_EMBED_DIM},
    {"ent-coef", required_argument, NULL, OPT_ENT},
    {"epochs", required_argument, NULL, OPT_EPOCHS},
    {"fill", required_argument, NULL, OPT_FILL},
    {"from", required_argument, NULL, OPT_FROM},
    {"gamma", required_argument, NULL, OPT_GAMMA},
    {"grad-accum", required_argument, NULL, OPT_ACCUM},
    {"help", no_argument, NULL, 'h'},
    {"hidden", required_argument, NULL, OPT_HIDDEN},
    {"kl-coef", required_argument, NULL, OPT_KL},
    {"lora", required_argument, NULL, OPT_LORA},
    {"lambda", required_argument, NULL, OPT_LAMBDA},
    {"log", required_argument, NULL, OPT_LOG},
    {"lr", required_argument, NULL, OPT_LR},
    {"max-episode", required_argument, NULL, OPT_MAXEP},
    {"max-grad-norm", required_argument, NULL, OPT_MAXGRAD},
    {"minibatch", required_argument, NULL, OPT_MINIBATCH},
    {"no-anneal", no_argument, NULL, OPT_NO_ANNEAL},
    {"no-norm-adv", no_argument, NULL, OPT_NO_NORM},
    {"out", required_argument, NULL, OPT_OUT},
    {"pool", required_argument, NULL, OPT_POOL},
    {"preset", required_argument, NULL, OPT_PRESET},
    {"print-state", no_argument, NULL, OPT_PRINT_STATE},
    {"quiet", no_argument, NULL, 'q'},
    {"resume", required_argument, NULL, OPT_RESUME},
    {"reward", required_argument, NULL, OPT_REWARD},
    {"rollout", required_argument, NULL, OPT_ROLLOUT},
    {"sample", no_argument, NULL, OPT_SAMPLE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"slippage", required_argument, NULL, OPT_SLIPPAGE},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"stop-after", required_argument, NULL, OPT_STOP_AFTER},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"symbol", required_argument, NULL, OPT_SYMBOL},
    {"template", required_argument, NULL, OPT_TEMPLATE},
    {"timesteps", required_argument, NULL, OPT_TIMESTEPS},
    {"to", required_argument, NULL, OPT_TO},
    {"train-layers", required_argument, NULL, OPT_TRAIN_LAYERS},
    {"verbose", no_argument, NULL, 'v'},
    {"version", no_argument, NULL, 'V'},
    {"vf-coef", required_argument, NULL, OPT_VF},
    {NULL, 0, NULL, 0},
};

/* Options, as given (NULL: not given). */
static const char *o_backbone, *o_ckpt, *o_embed_dim, *o_from, *o_to, *o_log, *o_out, *o_source,
    *o_symbol, *o_template, *o_seed;
static const char *o_resume;
static int o_train_layers = 2, o_lora; /* llm backbone */
static long stop_after;                /* updates in this run, 0: to the end */
static bool o_sample, o_print_state;
static bool hp_given; /* a flag that sets the model or training was given */
static enum fa_policy_pool o_pool = FA_POLICY_POOL_SECTIONS;
static int from_day = INT32_MIN, to_day = INT32_MAX;
static struct fa_policy_train_conf tconf;
static bool train_only; /* a flag that only train takes was given */
static FILE *log_file;
static const char *log_symbol;

/* FLAG-Trader's Table 3 and environment exactly (fa-policy(1), PRESETS). */
static void preset_flag(struct fa_policy_train_conf *c)
{
    struct fa_ppo_conf *p = &c->ppo;
    p->timesteps = 13860;
    p->rollout = 40;
    p->max_episode = 65;
    p->lr = 5e-4;
    p->anneal = true;
    p->gamma = 0.95;
    p->lambda = 0.98;
    p->clip = 0.2;
    p->epochs = 1;
    p->minibatch = 32;
    p->grad_accum = 8;
    p->ent_coef = 0.05;
    p->vf_coef = 0.5;
    p->kl_coef = 0.05;
    p->max_grad = 0.5;
    p->norm_adv = true;
    c->env.reward = FA_POLICY_REWARD_SHARPE;
    c->env.fill = FA_POLICY_FILL_NEXT_CLOSE;
    c->env.cash = 10000;
    c->env.commission_bps = 0;
    c->env.slippage_bps = 0;
}

static void need_num(int rc)
{
    if (rc < 0)
        fa_cli_usage_error("%s", fa_err_get());
}

static void parse_hidden(const char *s)
{
    tconf.nhidden = 0;
    if (!strcmp(s, "0"))
        return;
    const char *p = s;
    while (*p) {
        char buf[32];
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof buf)
            fa_cli_usage_error("invalid --hidden '%s' (want widths like 128,128)", s);
        memcpy(buf, p, n);
        buf[n] = 0;
        long w;
        if (tconf.nhidden == FA_NN_MAXLAYERS)
            fa_cli_usage_error("invalid --hidden '%s' (at most %d layers)", s, FA_NN_MAXLAYERS);
        need_num(fa_cli_long("hidden", buf, 1, FA_NN_MAXWIDTH, &w));
        tconf.widths[tconf.nhidden++] = (int)w;
        p += n;
        if (*p == ',' && *++p == 0)
            fa_cli_usage_error("invalid --hidden '%s' (want widths like 128,128)", s);
    }
}

static void parse_opt(int c, const char *arg)
{
    long l;
    double d;
    struct fa_ppo_conf *pc = &tconf.ppo;
    /* the flags that set the model or the training (not with --resume) */
    static const int hp_opts[] = {
        OPT_ACTIVATION, OPT_BACKBONE,  OPT_CASH,     OPT_CLIP,      OPT_COMMISSION,   OPT_EMBED_DIM,
        OPT_ENT,        OPT_EPOCHS,    OPT_FILL,     OPT_GAMMA,     OPT_ACCUM,        OPT_HIDDEN,
        OPT_KL,         OPT_LAMBDA,    OPT_LORA,     OPT_LR,        OPT_MAXEP,        OPT_MAXGRAD,
        OPT_MINIBATCH,  OPT_NO_ANNEAL, OPT_NO_NORM,  OPT_POOL,      OPT_PRESET,       OPT_REWARD,
        OPT_ROLLOUT,    OPT_SEED,      OPT_SLIPPAGE, OPT_TIMESTEPS, OPT_TRAIN_LAYERS, OPT_VF,
    };
    for (size_t i = 0; i < sizeof hp_opts / sizeof hp_opts[0]; i++)
        if (c == hp_opts[i])
            hp_given = true;
    switch (c) {
    case OPT_ACTIVATION: {
        int a = fa_nn_act_parse(arg);
        if (a < 0)
            fa_cli_usage_error("invalid --activation '%s' (want tanh or relu)", arg);
        tconf.act = (enum fa_nn_act)a;
        train_only = true;
        break;
    }
    case OPT_BACKBONE:
        if (strcmp(arg, "text") && strcmp(arg, "numeric") && (strncmp(arg, "llm:", 4) || !arg[4]))
            fa_cli_usage_error("invalid --backbone '%s' (want text, numeric or llm:DIR)", arg);
        o_backbone = arg;
        break;
    case OPT_LORA:
        need_num(fa_cli_long("lora", arg, 0, 4096, &l));
        o_lora = (int)l;
        train_only = true;
        break;
    case OPT_TRAIN_LAYERS:
        need_num(fa_cli_long("train-layers", arg, 1, 1000, &l));
        o_train_layers = (int)l;
        train_only = true;
        break;
    case OPT_CASH:
        need_num(fa_cli_double("cash", arg, 1, 1e15, &tconf.env.cash));
        train_only = true;
        break;
    case OPT_CKPT:
        o_ckpt = arg;
        break;
    case OPT_CLIP:
        need_num(fa_cli_double("clip", arg, 0, 10, &pc->clip));
        train_only = true;
        break;
    case OPT_COMMISSION:
        need_num(fa_cli_double("commission", arg, 0, 5000, &tconf.env.commission_bps));
        train_only = true;
        break;
    case OPT_EMBED_DIM:
        need_num(fa_cli_long("embed-dim", arg, 8, 65536, &l));
        o_embed_dim = arg;
        break;
    case OPT_ENT:
        need_num(fa_cli_double("ent-coef", arg, 0, 100, &pc->ent_coef));
        train_only = true;
        break;
    case OPT_EPOCHS:
        need_num(fa_cli_long("epochs", arg, 1, 1000, &l));
        pc->epochs = (int)l;
        train_only = true;
        break;
    case OPT_FILL:
        if (!strcmp(arg, "next-close"))
            tconf.env.fill = FA_POLICY_FILL_NEXT_CLOSE;
        else if (!strcmp(arg, "close"))
            tconf.env.fill = FA_POLICY_FILL_CLOSE;
        else
            fa_cli_usage_error("invalid --fill '%s' (want next-close or close)", arg);
        train_only = true;
        break;
    case OPT_FROM:
        if (fa_date_parse(arg, &from_day) < 0)
            fa_cli_usage_error("invalid --from '%s' (want YYYY-MM-DD)", arg);
        o_from = arg;
        break;
    case OPT_GAMMA:
        need_num(fa_cli_double("gamma", arg, 0, 1, &pc->gamma));
        train_only = true;
        break;
    case OPT_ACCUM:
        need_num(fa_cli_long("grad-accum", arg, 1, 100000, &l));
        pc->grad_accum = (int)l;
        train_only = true;
        break;
    case OPT_HIDDEN:
        parse_hidden(arg);
        train_only = true;
        break;
    case OPT_KL:
        need_num(fa_cli_double("kl-coef", arg, 0, 100, &pc->kl_coef));
        train_only = true;
        break;
    case OPT_LAMBDA:
        need_num(fa_cli_double("lambda", arg, 0, 1, &pc->lambda));
        train_only = true;
        break;
    case OPT_LOG:
        o_log = arg;
        train_only = true;
        break;
    case OPT_LR:
        need_num(fa_cli_double("lr", arg, 0, 10, &d));
        pc->lr = d;
        train_only = true;
        break;
    case OPT_MAXEP:
        need_num(fa_cli_long("max-episode", arg, 1, 1000000, &l));
        pc->max_episode = (int)l;
        train_only = true;
        break;
    case OPT_MAXGRAD:
        need_num(fa_cli_double("max-grad-norm", arg, 0, 1e9, &pc->max_grad));
        train_only = true;
        break;
    case OPT_MINIBATCH:
        need_num(fa_cli_long("minibatch", arg, 1, 1000000, &l));
        pc->minibatch = (int)l;
        train_only = true;
        break;
    case OPT_NO_ANNEAL:
        pc->anneal = false;
        train_only = true;
        break;
    case OPT_NO_NORM:
        pc->norm_adv = false;
        train_only = true;
        break;
    case OPT_OUT:
        o_out = arg;
        train_only = true;
        break;
    case OPT_POOL:
        if (!strcmp(arg, "sections"))
            o_pool = FA_POLICY_POOL_SECTIONS;
        else if (!strcmp(arg, "whole"))
            o_pool = FA_POLICY_POOL_WHOLE;
        else
            fa_cli_usage_error("invalid --pool '%s' (want sections or whole)", arg);
        train_only = true;
        break;
    case OPT_PRESET:
        /* applied before the other flags (see main) */
        train_only = true;
        break;
    case OPT_PRINT_STATE:
        o_print_state = true;
        break;
    case OPT_REWARD:
        if (!strcmp(arg, "sharpe"))
            tconf.env.reward = FA_POLICY_REWARD_SHARPE;
        else if (!strcmp(arg, "return"))
            tconf.env.reward = FA_POLICY_REWARD_RETURN;
        else if (!strcmp(arg, "sharpe-change"))
            tconf.env.reward = FA_POLICY_REWARD_SHARPE_CHANGE;
        else
            fa_cli_usage_error("invalid --reward '%s' (want sharpe, sharpe-change or return)", arg);
        train_only = true;
        break;
    case OPT_ROLLOUT:
        need_num(fa_cli_long("rollout", arg, 1, 1000000, &l));
        pc->rollout = (int)l;
        train_only = true;
        break;
    case OPT_RESUME:
        o_resume = arg;
        train_only = true;
        break;
    case OPT_STOP_AFTER:
        need_num(fa_cli_long("stop-after", arg, 1, 1000000000L, &stop_after));
        train_only = true;
        break;
    case OPT_SAMPLE:
        o_sample = true;
        break;
    case OPT_SEED:
        need_num(fa_cli_long("seed", arg, 0, INT64_MAX, &l));
        tconf.seed = (uint64_t)l;
        o_seed = arg;
        break;
    case OPT_SLIPPAGE:
        need_num(fa_cli_double("slippage", arg, 0, 5000, &tconf.env.slippage_bps));
        train_only = true;
        break;
    case OPT_SOURCE:
        o_source = arg;
        train_only = true;
        break;
    case OPT_STRICT:
        fa_strict = true;
        break;
    case OPT_SYMBOL:
        o_symbol = arg;
        break;
    case OPT_TEMPLATE:
        o_template = arg;
        break;
    case OPT_TIMESTEPS:
        need_num(fa_cli_long("timesteps", arg, 1, 1000000000L, &l));
        pc->timesteps = l;
        train_only = true;
        break;
    case OPT_TO:
        if (fa_date_parse(arg, &to_day) < 0)
            fa_cli_usage_error("invalid --to '%s' (want YYYY-MM-DD)", arg);
        o_to = arg;
        break;
    case OPT_VF:
        need_num(fa_cli_double("vf-coef", arg, 0, 100, &pc->vf_coef));
        train_only = true;
        break;
    case 'h':
        usage();
        exit(FA_EXIT_OK);
    case 'q':
        fa_verbosity = 0;
        break;
    case 'v':
        fa_verbosity++;
        break;
    case 'V':
        fa_cli_version();
        exit(FA_EXIT_OK);
    default:
        fa_cli_try_help();
    }
}

/* ---- the input: stdin or a fa-fetch child ---- */

static pid_t child = -1;

static FILE *spawn_fetch(void)
{
    char self[4096], fetch[4200];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    const char *prog = "fa-fetch";
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            snprintf(fetch, sizeof fetch, "%s/fa-fetch", self);
            if (access(fetch, X_OK) == 0)
                prog = fetch;
        }
    }
    const char *argv[12];
    int k = 0;
    argv[k++] = "fa-fetch";
    argv[k++] = "--source";
    argv[k++] = o_source;
    if (o_symbol) {
        argv[k++] = "--symbol";
        argv[k++] = o_symbol;
    }
    if (o_from) {
        argv[k++] = "--from";
        argv[k++] = o_from;
    }
    if (o_to) {
        argv[k++] = "--to";
        argv[k++] = o_to;
    }
    argv[k] = NULL;
    int fd[2];
    if (pipe(fd) < 0)
        fa_die(FA_EXIT_FAIL, "pipe: %s", strerror(errno));
    child = fork();
    if (child < 0)
        fa_die(FA_EXIT_FAIL, "fork: %s", strerror(errno));
    if (child == 0) {
        close(fd[0]);
        if (dup2(fd[1], 1) < 0)
            _exit(127);
        close(fd[1]);
        /* fa-fetch needs the data providers' keys, never the model's. */
        unsetenv("FA_API_KEY");
        unsetenv("OPENAI_API_KEY");
        execvp(prog, (char *const *)(uintptr_t)argv);
        fprintf(stderr, "fa-policy: cannot run '%s': %s\n", prog, strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    if (!f)
        fa_die(FA_EXIT_FAIL, "fdopen: %s", strerror(errno));
    return f;
}

static int reap_child(void)
{
    if (child <= 0)
        return 0;
    int st;
    while (waitpid(child, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    child = -1;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    fa_err_set("fa-fetch failed (%s %d)", WIFEXITED(st) ? "exit" : "signal",
               WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    return -1;
}

/* ---- train ---- */

static int progress(const struct fa_policy_progress *p, void *arg)
{
    (void)arg;
    const struct fa_ppo_stats *s = &p->st;
    if (fa_verbosity > 0) {
        /* no episode ended in this rollout: no return to show */
        char ret[32] = "-";
        if (!isnan(p->ep_return))
            snprintf(ret, sizeof ret, "%.4f", p->ep_return);
        fprintf(stderr,
                "%s: update %ld/%ld steps %ld episodes %ld return %s pg %.4f value %.4f "
                "entropy %.4f kl %.5f clip %.3f lr %.3g\n",
                fa_progname, p->update, p->updates, p->steps, p->episodes, ret, s->pg_loss,
                s->v_loss, s->entropy, s->kl_ref, s->clipfrac, p->lr);
    }
    if (log_file) {
        struct json_object *r = fa_record_new("ppo_update", log_symbol, NULL);
        fa_record_set_int(r, "update", p->update);
        fa_record_set_int(r, "updates", p->updates);
        fa_record_set_int(r, "steps", p->steps);
        fa_record_set_int(r, "episodes", p->episodes);
        fa_record_set_num(r, "episode_return", p->ep_return);
        fa_record_set_num(r, "loss", s->loss);
        fa_record_set_num(r, "policy_loss", s->pg_loss);
        fa_record_set_num(r, "value_loss", s->v_loss);
        fa_record_set_num(r, "entropy", s->entropy);
        fa_record_set_num(r, "kl_ref", s->kl_ref);
        fa_record_set_num(r, "approx_kl", s->approx_kl);
        fa_record_set_num(r, "clip_fraction", s->clipfrac);
        fa_record_set_num(r, "grad_norm", s->grad_norm);
        fa_record_set_num(r, "lr", p->lr);
        fa_record_set_int(r, "illegal", p->illegal);
        fa_record_set_num(r, "rollout_seconds", p->rollout_seconds);
        fa_record_set_num(r, "update_seconds", p->update_seconds);
        int rc = fa_ndjson_write(log_file, r);
        json_object_put(r);
        if (rc < 0) {
            fa_err_sys("write error '%s'", o_log);
            return -1;
        }
    }
    return 0;
}

static int in_range(const char *date)
{
    int d;
    if (!date || fa_date_parse(date, &d) < 0)
        return 1; /* left to the data reader to judge */
    return d >= from_day && d <= to_day;
}

static void env_from_manifest(struct json_object *e, struct fa_policy_env_conf *ec)
{
    const char *s = fa_record_str(e, "reward");
    ec->reward = s && !strcmp(s, "return")          ? FA_POLICY_REWARD_RETURN
                 : s && !strcmp(s, "sharpe-change") ? FA_POLICY_REWARD_SHARPE_CHANGE
                                                    : FA_POLICY_REWARD_SHARPE;
    s = fa_record_str(e, "fill");
    ec->fill = s && !strcmp(s, "close") ? FA_POLICY_FILL_CLOSE : FA_POLICY_FILL_NEXT_CLOSE;
    fa_record_num(e, "cash", &ec->cash);
    fa_record_num(e, "commission_bps", &ec->commission_bps);
    fa_record_num(e, "slippage_bps", &ec->slippage_bps);
}

static const char *reward_name(enum fa_policy_reward r)
{
    return r == FA_POLICY_REWARD_RETURN          ? "return"
           : r == FA_POLICY_REWARD_SHARPE_CHANGE ? "sharpe-change"
                                                 : "sharpe";
}

static void add_num(struct json_object *o, const char *k, double v)
{
    json_object_object_add(o, k, fa_json_num(v));
}

static struct json_object *manifest_of(const struct fa_policy_data *d,
                                       struct fa_policy_backbone *bb, const struct fa_nn *nn)
{
    const struct fa_ppo_conf *pc = &tconf.ppo;
    struct json_object *m = json_object_new_object();
    json_object_object_add(m, "format", json_object_new_string("fa-policy-checkpoint-1"));
    json_object_object_add(m, "program", json_object_new_string("fa-policy " FA_VERSION));
    json_object_object_add(m, "symbol", json_object_new_string(d->symbol));
    json_object_object_add(m, "from", json_object_new_string(d->days[0].date));
    json_object_object_add(m, "to", json_object_new_string(d->days[d->n - 1].date));
    json_object_object_add(m, "days", json_object_new_int(d->n));
    json_object_object_add(m, "data_blake2b", json_object_new_string(d->hash));
    if (tconf.llm) {
        json_object_object_add(m, "backbone", json_object_new_string("llm"));
        char *abs = realpath(o_backbone + 4, NULL);
        json_object_object_add(m, "llm_dir", json_object_new_string(abs ? abs : o_backbone + 4));
        free(abs);
        json_object_object_add(m, "base_config_blake2b",
                               json_object_new_string(fa_policy_llm_config_hash(tconf.llm)));
        json_object_object_add(m, "train_layers", json_object_new_int(o_train_layers));
        json_object_object_add(m, "lora", json_object_new_int(o_lora));
        json_object_object_add(m, "hidden_size",
                               json_object_new_int(fa_policy_llm_hidden(tconf.llm)));
        json_object_object_add(m, "template",
                               json_object_new_string(o_template ? o_template : "policy-state"));
        json_object_object_add(m, "heads",
                               json_object_new_string("policy 3 (SELL HOLD BUY), value 1"));
        json_object_object_add(m, "parameters",
                               json_object_new_int64((int64_t)fa_policy_llm_nparams(tconf.llm)));
    } else {
        json_object_object_add(m, "backbone", json_object_new_string(bb->ops->name));
        json_object_object_add(m, "embed_model", json_object_new_string(bb->ops->model(bb)));
        json_object_object_add(m, "input_dim", json_object_new_int64((int64_t)bb->ops->dim(bb)));
        json_object_object_add(
            m, "pool",
            json_object_new_string(o_pool == FA_POLICY_POOL_WHOLE ? "whole" : "sections"));
        json_object_object_add(m, "template",
                               json_object_new_string(o_template ? o_template : "policy-state"));
        struct json_object *h = json_object_new_array();
        for (int l = 0; l < fa_nn_nhidden(nn); l++)
            json_object_array_add(h, json_object_new_int(fa_nn_width(nn, l)));
        json_object_object_add(m, "hidden", h);
        json_object_object_add(m, "value_trunk",
                               json_object_new_string(fa_nn_trunks(nn) == 2 ? "own" : "shared"));
        json_object_object_add(m, "activation",
                               json_object_new_string(fa_nn_act_name(fa_nn_activation(nn))));
        json_object_object_add(m, "heads",
                               json_object_new_string("policy 3 (SELL HOLD BUY), value 1"));
        json_object_object_add(m, "parameters", json_object_new_int64((int64_t)fa_nn_nparams(nn)));
    }
    json_object_object_add(m, "seed", json_object_new_int64((int64_t)tconf.seed));
    struct json_object *p = json_object_new_object();
    json_object_object_add(p, "timesteps", json_object_new_int64(pc->timesteps));
    json_object_object_add(p, "rollout", json_object_new_int(pc->rollout));
    json_object_object_add(p, "max_episode", json_object_new_int(pc->max_episode));
    add_num(p, "lr", pc->lr);
    json_object_object_add(p, "anneal", json_object_new_boolean(pc->anneal));
    add_num(p, "gamma", pc->gamma);
    add_num(p, "lambda", pc->lambda);
    add_num(p, "clip", pc->clip);
    json_object_object_add(p, "epochs", json_object_new_int(pc->epochs));
    json_object_object_add(p, "minibatch", json_object_new_int(pc->minibatch));
    json_object_object_add(p, "grad_accum", json_object_new_int(pc->grad_accum));
    add_num(p, "ent_coef", pc->ent_coef);
    add_num(p, "vf_coef", pc->vf_coef);
    add_num(p, "kl_coef", pc->kl_coef);
    add_num(p, "max_grad_norm", pc->max_grad);
    json_object_object_add(p, "norm_adv", json_object_new_boolean(pc->norm_adv));
    add_num(p, "adam_beta1", 0.9);
    add_num(p, "adam_beta2", 0.999);
    add_num(p, "adam_eps", 1e-5);
    json_object_object_add(m, "ppo", p);
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "reward", json_object_new_string(reward_name(tconf.env.reward)));
    json_object_object_add(
        e, "fill",
        json_object_new_string(tconf.env.fill == FA_POLICY_FILL_CLOSE ? "close" : "next-close"));
    add_num(e, "cash", tconf.env.cash);
    add_num(e, "commission_bps", tconf.env.commission_bps);
    add_num(e, "slippage_bps", tconf.env.slippage_bps);
    json_object_object_add(m, "env", e);
    return m;
}

static int read_days(FILE *in, const char *name, struct fa_policy_data *d, bool pass)
{
    struct fa_ndjson_reader *rd = fa_ndjson_from_file(in, name, 0);
    if (!rd)
        return -1;
    struct json_object *rec;
    int rc, status = 0;
    while ((rc = fa_cli_next(rd, &rec)) != FA_NDJSON_EOF) {
        if (rc == FA_NDJSON_IOERR) {
            status = -1;
            break;
        }
        if (in_range(fa_record_date(rec)) && fa_policy_data_add(d, rec) < 0)
            fa_bad_record(fa_record_symbol(rec), fa_record_date(rec), fa_ndjson_where(rd), "%s",
                          fa_err_get());
        if (pass)
            fa_emit(rec);
        else
            json_object_put(rec);
    }
    fa_ndjson_close(rd);
    return status;
}

/* The training configuration of a checkpoint's manifest into tconf (for
 * --resume): the same fields manifest_of writes. */
static void conf_from_manifest(struct json_object *m)
{
    struct json_object *p, *e, *h;
    double x;
    if (fa_record_num(m, "seed", &x) == 0)
        tconf.seed = (uint64_t)x;
    if (json_object_object_get_ex(m, "hidden", &h) && json_object_is_type(h, json_type_array)) {
        size_t n = json_object_array_length(h);
        tconf.nhidden = n > FA_NN_MAXLAYERS ? FA_NN_MAXLAYERS : (int)n;
        for (int i = 0; i < tconf.nhidden; i++)
            tconf.widths[i] = json_object_get_int(json_object_array_get_idx(h, (size_t)i));
    }
    /* checkpoints from before the value trunk was split say nothing */
    const char *vt = fa_record_str(m, "value_trunk");
    tconf.trunks = vt && !strcmp(vt, "own") ? 2 : 1;
    if (fa_record_num(m, "train_layers", &x) == 0)
        o_train_layers = (int)x;
    if (fa_record_num(m, "lora", &x) == 0)
        o_lora = (int)x;
    const char *a = fa_record_str(m, "activation");
    if (a && fa_nn_act_parse(a) >= 0)
        tconf.act = (enum fa_nn_act)fa_nn_act_parse(a);
    if (json_object_object_get_ex(m, "ppo", &p)) {
        struct fa_ppo_conf *pc = &tconf.ppo;
        struct json_object *b;
        if (fa_record_num(p, "timesteps", &x) == 0)
            pc->timesteps = (long)x;
        if (fa_record_num(p, "rollout", &x) == 0)
            pc->rollout = (int)x;
        if (fa_record_num(p, "max_episode", &x) == 0)
            pc->max_episode = (int)x;
        fa_record_num(p, "lr", &pc->lr);
        if (json_object_object_get_ex(p, "anneal", &b))
            pc->anneal = json_object_get_boolean(b);
        fa_record_num(p, "gamma", &pc->gamma);
        fa_record_num(p, "lambda", &pc->lambda);
        fa_record_num(p, "clip", &pc->clip);
        if (fa_record_num(p, "epochs", &x) == 0)
            pc->epochs = (int)x;
        if (fa_record_num(p, "minibatch", &x) == 0)
            pc->minibatch = (int)x;
        if (fa_record_num(p, "grad_accum", &x) == 0)
            pc->grad_accum = (int)x;
        fa_record_num(p, "ent_coef", &pc->ent_coef);
        fa_record_num(p, "vf_coef", &pc->vf_coef);
        fa_record_num(p, "kl_coef", &pc->kl_coef);
        fa_record_num(p, "max_grad_norm", &pc->max_grad);
        if (json_object_object_get_ex(p, "norm_adv", &b))
            pc->norm_adv = json_object_get_boolean(b);
    }
    if (json_object_object_get_ex(m, "env", &e))
        env_from_manifest(e, &tconf.env);
}

/* The backbone a checkpoint was trained with (flags may not change it). */
static struct fa_policy_backbone *backbone_of(struct json_object *m, const char **tmpl)
{
    const char *mb = fa_record_str(m, "backbone");
    *tmpl = o_template ? o_template : fa_record_str(m, "template");
    /* the checkpoint's local embedder unless flags or environment name one */
    size_t edim = o_embed_dim ? (size_t)strtoul(o_embed_dim, NULL, 10) : 0;
    const char *em = fa_record_str(m, "embed_model");
    const char *env_dim = getenv("FA_EMBED_DIM"), *env_model = getenv("FA_EMBED_MODEL");
    if (!edim && (!env_dim || !*env_dim) && (!env_model || !*env_model) && em &&
        !strncmp(em, "fa-hash-", 8))
        edim = (size_t)strtoul(em + 8, NULL, 10);
    const char *pool = fa_record_str(m, "pool");
    return fa_policy_backbone_open(o_backbone ? o_backbone
                                   : mb       ? mb
                                              : "?",
                                   *tmpl, edim,
                                   pool && !strcmp(pool, "whole") ? FA_POLICY_POOL_WHOLE
                                                                  : FA_POLICY_POOL_SECTIONS);
}

static const char *mstr(struct json_object *m, const char *k)
{
    const char *s = fa_record_str(m, k);
    return s ? s : "?";
}

/* The llm policy's weights as bytes: "FALLMW01", u64 LE count, floats LE. */
static char *llm_weights(const struct fa_policy_llm *l, size_t *len)
{
    size_t np = fa_policy_llm_nparams(l);
    float *p = malloc(np * sizeof *p);
    char *b = malloc(16 + 4 * np);
    if (!p || !b) {
        free(p);
        free(b);
        return NULL;
    }
    fa_policy_llm_get(l, p);
    memcpy(b, "FALLMW01", 8);
    for (int i = 0; i < 8; i++)
        b[8 + i] = (char)((uint64_t)np >> (8 * i));
    for (size_t i = 0; i < np; i++) {
        uint32_t u;
        memcpy(&u, &p[i], 4);
        for (int k = 0; k < 4; k++)
            b[16 + 4 * i + (size_t)k] = (char)(u >> (8 * k));
    }
    free(p);
    *len = 16 + 4 * np;
    return b;
}

static int llm_load_weights(struct fa_policy_llm *l, const char *b, size_t len)
{
    size_t np = fa_policy_llm_nparams(l);
    uint64_t n = 0;
    if (len >= 16)
        for (int i = 0; i < 8; i++)
            n |= (uint64_t)(unsigned char)b[8 + i] << (8 * i);
    if (len < 16 || memcmp(b, "FALLMW01", 8) || n != np || len != 16 + 4 * np) {
        fa_err_set("weights.bin: not the weights of this model's policy (%zu parameters)", np);
        return -1;
    }
    float *p = malloc(np * sizeof *p);
    if (!p) {
        fa_err_set("out of memory");
        return -1;
    }
    for (size_t i = 0; i < np; i++) {
        uint32_t u = 0;
        for (int k = 0; k < 4; k++)
            u |= (uint32_t)(unsigned char)b[16 + 4 * i + (size_t)k] << (8 * k);
        memcpy(&p[i], &u, 4);
    }
    fa_policy_llm_set(l, p);
    free(p);
    return 0;
}

/* Opens the llm policy of --backbone llm:DIR; exit 2 on failure. */
static struct fa_policy_llm *llm_open_or_die(void)
{
    struct fa_policy_llm *l =
        fa_policy_llm_open(o_backbone + 4, o_train_layers, o_lora, tconf.seed, o_template);
    if (!l)
        fa_die(FA_EXIT_USAGE, "%s", fa_err_get());
    return l;
}

static char llm_arg[4200];

static int cmd_train(void)
{
    int status = FA_EXIT_OK;
    struct fa_policy_data d;
    struct fa_policy_backbone *bb = NULL;
    struct fa_policy_trainer *tr = NULL;
    struct fa_nn *nn0 = NULL;
    struct json_object *m = NULL, *m0 = NULL;
    char *state = NULL;
    size_t slen = 0;
    fa_policy_data_init(&d, o_symbol);
    if (!o_out && !o_resume)
        fa_cli_usage_error("train needs --out CKPT");
    if (o_ckpt || o_sample || o_print_state)
        fa_cli_usage_error("--ckpt, --sample and --print-state go with act");
    if (o_resume && hp_given)
        fa_cli_usage_error("--resume continues a run with its checkpoint's settings: "
                           "drop the training flags");
    const char *outdir = o_out ? o_out : o_resume;
    char *wraw = NULL;
    size_t wlen = 0;
    if (o_resume) {
        bool llm = false;
        if (fa_policy_ckpt_read_raw(o_resume, &m0, &wraw, &wlen) == 0) {
            const char *mb = fa_record_str(m0, "backbone");
            llm = mb && !strcmp(mb, "llm");
            if (!llm) {
                json_object_put(m0);
                nn0 = fa_policy_ckpt_read(o_resume, &m0);
            }
        }
        if (!m0 || (!llm && !nn0) || fa_policy_ckpt_read_state(o_resume, m0, &state, &slen) < 0) {
            fa_cli_error("checkpoint '%s': %s", o_resume, fa_err_get());
            status = FA_EXIT_USAGE;
            free(wraw);
            goto out;
        }
        conf_from_manifest(m0);
        if (llm) {
            snprintf(llm_arg, sizeof llm_arg, "llm:%s", mstr(m0, "llm_dir"));
            o_backbone = llm_arg;
            o_template = o_template ? o_template : fa_record_str(m0, "template");
            tconf.llm = llm_open_or_die();
            if (llm_load_weights(tconf.llm, wraw, wlen) < 0) {
                fa_cli_error("checkpoint '%s': %s", o_resume, fa_err_get());
                status = FA_EXIT_USAGE;
                free(wraw);
                goto out;
            }
        }
        free(wraw);
        o_template = o_template ? o_template : fa_record_str(m0, "template");
        const char *pool = fa_record_str(m0, "pool");
        o_pool = pool && !strcmp(pool, "whole") ? FA_POLICY_POOL_WHOLE : FA_POLICY_POOL_SECTIONS;
        const char *tmpl;
        bb = tconf.llm ? fa_policy_backbone_numeric() : backbone_of(m0, &tmpl);
    } else if (o_backbone && !strncmp(o_backbone, "llm:", 4)) {
        tconf.llm = llm_open_or_die();
        bb = fa_policy_backbone_numeric(); /* unused: counts the encodings */
    } else {
        bb = fa_policy_backbone_open(o_backbone ? o_backbone : "text", o_template,
                                     o_embed_dim ? (size_t)strtoul(o_embed_dim, NULL, 10) : 0,
                                     o_pool);
    }
    if (!bb) {
        fa_cli_error("%s", fa_err_get());
        status = FA_EXIT_USAGE;
        goto out;
    }
    if (o_log) {
        log_file = fopen(o_log, o_resume ? "a" : "w");
        if (!log_file)
            fa_die(FA_EXIT_FAIL, "cannot open '%s': %s", o_log, strerror(errno));
    }
    FILE *in = o_source ? spawn_fetch() : stdin;
    int rc = read_days(in, o_source ? "fa-fetch" : "<stdin>", &d, false);
    if (o_source)
        fclose(in);
    if (rc < 0 || reap_child() < 0) {
        fa_cli_error("%s", fa_err_get());
        status = FA_EXIT_FAIL;
        goto out;
    }
    fa_policy_data_finish(&d);
    if (d.n < 2) {
        fa_cli_error("training needs at least 2 trading days of %s, got %d",
                     d.symbol ? d.symbol : "any symbol", d.n);
        status = FA_EXIT_FAIL;
        goto out;
    }
    if (m0) {
        const char *h = fa_record_str(m0, "data_blake2b");
        if (!h || strcmp(h, d.hash)) {
            fa_cli_error("checkpoint '%s' was trained on other data (data_blake2b %.16s, "
                         "these days %.16s)",
                         o_resume, h ? h : "?", d.hash);
            status = FA_EXIT_USAGE;
            goto out;
        }
    }
    log_symbol = d.symbol;
    tconf.progress = progress;
    if (tconf.llm)
        fa_info("training on %d days of %s (%s..%s), backbone %s (%d layers trained, lora %d, "
                "%zu parameters)",
                d.n, d.symbol, d.days[0].date, d.days[d.n - 1].date, o_backbone, o_train_layers,
                o_lora, fa_policy_llm_nparams(tconf.llm));
    else
        fa_info("training on %d days of %s (%s..%s), backbone %s (%s, %zu dims)", d.n, d.symbol,
                d.days[0].date, d.days[d.n - 1].date, bb->ops->name, bb->ops->model(bb),
                bb->ops->dim(bb));
    tr = fa_policy_trainer_new(&d, bb, &tconf);
    if (tr && m0 && fa_policy_trainer_restore(tr, nn0, state, slen) < 0) {
        fa_cli_error("checkpoint '%s': %s", o_resume, fa_err_get());
        status = FA_EXIT_USAGE;
        goto out;
    }
    if (tr && m0)
        fa_info("resuming at update %ld of %ld", fa_policy_trainer_update(tr),
                fa_policy_trainer_updates(tr));
    rc = tr ? fa_policy_trainer_run(tr, stop_after) : -1;
    if (rc < 0) {
        fa_cli_error("training failed: %s", fa_err_get());
        status = FA_EXIT_FAIL;
        goto out;
    }
    free(state);
    state = NULL;
    const struct fa_nn *nn = fa_policy_trainer_net(tr);
    m = manifest_of(&d, bb, nn);
    json_object_object_add(m, "updates_done", json_object_new_int64(fa_policy_trainer_update(tr)));
    json_object_object_add(m, "complete", json_object_new_boolean(rc == 1));
    int wrc = fa_policy_trainer_state(tr, &state, &slen);
    if (wrc == 0 && tconf.llm) {
        char *wb = llm_weights(tconf.llm, &wlen);
        wrc = wb ? fa_policy_ckpt_write_raw(outdir, wb, wlen, state, slen, m) : -1;
        if (!wb)
            fa_err_set("out of memory");
        free(wb);
    } else if (wrc == 0) {
        wrc = fa_policy_ckpt_write(outdir, nn, state, slen, m);
    }
    if (wrc < 0) {
        fa_cli_error("%s", fa_err_get());
        status = FA_EXIT_FAIL;
        goto out;
    }
    if (rc == 0)
        fa_info("stopped after update %ld of %ld; continue with --resume %s",
                fa_policy_trainer_update(tr), fa_policy_trainer_updates(tr), outdir);
    fa_info("wrote checkpoint '%s' (%zu parameters, %ld state encodings, %ld cached)", outdir,
            tconf.llm ? fa_policy_llm_nparams(tconf.llm) : fa_nn_nparams(nn), bb->encodes,
            bb->cache_hits);
out:
    if (log_file && fclose(log_file) != 0 && status == FA_EXIT_OK) {
        fa_cli_error("write error '%s': %s", o_log, strerror(errno));
        status = FA_EXIT_FAIL;
    }
    free(state);
    json_object_put(m);
    json_object_put(m0);
    fa_nn_free(nn0);
    fa_policy_trainer_free(tr);
    fa_policy_llm_free(tconf.llm);
    fa_policy_backbone_free(bb);
    fa_policy_data_free(&d);
    return status;
}

/* ---- act ---- */

struct actor {
    struct fa_policy_data d;
    struct fa_policy_env *env;
    struct fa_policy_backbone *bb;
    struct fa_nn *nn;
    struct fa_policy_llm *llm; /* instead of bb and nn */
    const char *tmpl;
    char ckpt_id[17];
    struct fa_rng rng;
    int decided; /* days decided (index of the next day to decide from) */
    int started; /* env reset done */
    double *x;
};

/* Decides every complete day not yet decided (all but the last day of
 * the data, or all of them at the end). */
static int decide_days(struct actor *A, bool all)
{
    int upto = all ? A->d.n : A->d.n - 1;
    for (; A->decided < upto; A->decided++) {
        int t = A->decided;
        struct fa_policy_day *day = &A->d.days[t];
        if (day->bar.day < from_day || day->bar.day > to_day)
            continue;
        struct fa_policy_obs obs;
        if (!A->started) {
            if (fa_policy_env_reset(A->env, t) < 0)
                return -1;
            A->started = 1;
        }
        if (fa_policy_env_observe(A->env, t, NULL, &obs) < 0)
            return -1;
        double z[3], v, p[3], lp[3];
        if (A->llm) {
            if (fa_policy_llm_eval(A->llm, &obs, z, &v) < 0)
                return -1;
        } else {
            if (A->bb->ops->encode(A->bb, &obs, A->x) < 0)
                return -1;
            fa_nn_forward(A->nn, A->x, z, &v);
        }
        if (fa_nn_softmax(z, obs.mask, p, lp) < 0)
            return -1;
        int a = o_sample ? fa_nn_sample(p, obs.mask, &A->rng) : fa_nn_argmax(p, obs.mask);
        if (fa_policy_env_act(A->env, a) < 0)
            return -1;
        struct json_object *r = fa_record_new("decision", A->d.symbol, day->date);
        fa_record_set_str(r, "asof", day->date);
        fa_record_set_str(r, "action", fa_policy_action_name(a));
        struct json_object *pr = json_object_new_object();
        struct json_object *legal = json_object_new_array();
        for (int k = 2; k >= 0; k--) {
            json_object_object_add(pr, fa_policy_action_name(k), fa_json_num(p[k]));
            if (obs.mask & (1u << k))
                json_object_array_add(legal, json_object_new_string(fa_policy_action_name(k)));
        }
        json_object_object_add(r, "probabilities", pr);
        json_object_object_add(r, "legal", legal);
        fa_record_set_num(r, "value_estimate", v);
        fa_record_set_str(r, "agent", "fa-policy");
        fa_record_set_str(r, "policy", A->ckpt_id);
        if (o_print_state) {
            char *s = fa_policy_state_text(A->tmpl, &obs);
            if (!s)
                return -1;
            fa_record_set_str(r, "state", s);
            free(s);
        }
        fa_record_set_id(r);
        fa_emit(r);
    }
    return 0;
}

static int cmd_act(void)
{
    int status = FA_EXIT_OK;
    struct actor A;
    memset(&A, 0, sizeof A);
    struct json_object *m = NULL;
    if (!o_ckpt)
        fa_cli_usage_error("act needs --ckpt CKPT");
    if (train_only)
        fa_cli_usage_error("training flags go with train, not act (the checkpoint has them)");
    fa_policy_data_init(&A.d, o_symbol);
    char *wraw = NULL;
    size_t wlen = 0;
    if (fa_policy_ckpt_read_raw(o_ckpt, &m, &wraw, &wlen) < 0) {
        fa_cli_error("checkpoint '%s': %s", o_ckpt, fa_err_get());
        status = FA_EXIT_USAGE;
        goto out;
    }
    const char *mb = mstr(m, "backbone");
    A.tmpl = o_template ? o_template : fa_record_str(m, "template");
    size_t dim = 1;
    if (!strcmp(mb, "llm")) {
        /* the checkpoint's base model, or the directory --backbone names:
         * it must be the same model (config hash) */
        if (o_backbone && strncmp(o_backbone, "llm:", 4))
            fa_cli_usage_error("checkpoint '%s' was trained with backbone llm, not %s", o_ckpt,
                               o_backbone);
        if (!o_backbone) {
            snprintf(llm_arg, sizeof llm_arg, "llm:%s", mstr(m, "llm_dir"));
            o_backbone = llm_arg;
        }
        double x;
        uint64_t act_seed = tconf.seed;
        if (fa_record_num(m, "train_layers", &x) == 0)
            o_train_layers = (int)x;
        if (fa_record_num(m, "lora", &x) == 0)
            o_lora = (int)x;
        if (fa_record_num(m, "seed", &x) == 0)
            tconf.seed = (uint64_t)x; /* the LoRA A and heads draw, overwritten */
        o_template = A.tmpl;
        A.llm = llm_open_or_die();
        const char *want = mstr(m, "base_config_blake2b");
        if (strcmp(want, fa_policy_llm_config_hash(A.llm))) {
            fa_cli_error("checkpoint '%s' was trained on another base model (config %.16s), not "
                         "'%s' (config %.16s)",
                         o_ckpt, want, o_backbone + 4, fa_policy_llm_config_hash(A.llm));
            free(wraw);
            status = FA_EXIT_USAGE;
            goto out;
        }
        if (llm_load_weights(A.llm, wraw, wlen) < 0) {
            fa_cli_error("checkpoint '%s': %s", o_ckpt, fa_err_get());
            free(wraw);
            status = FA_EXIT_USAGE;
            goto out;
        }
        free(wraw);
        tconf.seed = act_seed; /* act --sample's draws */
        goto env;
    }
    free(wraw);
    json_object_put(m);
    m = NULL;
    A.nn = fa_policy_ckpt_read(o_ckpt, &m);
    if (!A.nn) {
        fa_cli_error("checkpoint '%s': %s", o_ckpt, fa_err_get());
        status = FA_EXIT_USAGE;
        goto out;
    }
    mb = mstr(m, "backbone");
    A.tmpl = o_template ? o_template : fa_record_str(m, "template");
    /* the checkpoint's local embedder unless flags or environment name one */
    size_t edim = o_embed_dim ? (size_t)strtoul(o_embed_dim, NULL, 10) : 0;
    const char *em = mstr(m, "embed_model");
    const char *env_dim = getenv("FA_EMBED_DIM"), *env_model = getenv("FA_EMBED_MODEL");
    if (!edim && (!env_dim || !*env_dim) && (!env_model || !*env_model) &&
        !strncmp(em, "fa-hash-", 8))
        edim = (size_t)strtoul(em + 8, NULL, 10);
    const char *pool = fa_record_str(m, "pool");
    A.bb = fa_policy_backbone_open(o_backbone ? o_backbone : mb, A.tmpl, edim,
                                   pool && !strcmp(pool, "whole") ? FA_POLICY_POOL_WHOLE
                                                                  : FA_POLICY_POOL_SECTIONS);
    if (!A.bb) {
        fa_cli_error("%s", fa_err_get());
        status = FA_EXIT_USAGE;
        goto out;
    }
    double mdim = 0;
    fa_record_num(m, "input_dim", &mdim);
    dim = A.bb->ops->dim(A.bb);
    if (strcmp(mb, A.bb->ops->name) || strcmp(mstr(m, "embed_model"), A.bb->ops->model(A.bb)) ||
        (double)dim != mdim || (size_t)fa_nn_in_dim(A.nn) != dim) {
        fa_cli_error("checkpoint '%s' was trained with backbone %s (%s, %g dims), not %s (%s, %zu "
                     "dims)",
                     o_ckpt, mb, mstr(m, "embed_model"), mdim, A.bb->ops->name,
                     A.bb->ops->model(A.bb), dim);
        status = FA_EXIT_USAGE;
        goto out;
    }
env:;
    struct fa_policy_env_conf ec;
    fa_policy_env_conf_default(&ec);
    struct json_object *e;
    if (json_object_object_get_ex(m, "env", &e))
        env_from_manifest(e, &ec);
    A.env = fa_policy_env_new(&A.d, &ec);
    A.x = malloc(dim * sizeof *A.x);
    if (!A.env || !A.x) {
        fa_cli_error("%s", fa_err_get());
        status = FA_EXIT_FAIL;
        goto out;
    }
    snprintf(A.ckpt_id, sizeof A.ckpt_id, "%.16s", mstr(m, "weights_blake2b"));
    fa_rng_seed(&A.rng, tconf.seed);
    struct fa_ndjson_reader *rd = fa_ndjson_open("-", 0);
    if (!rd)
        fa_die_err(FA_EXIT_FAIL);
    struct json_object *rec;
    int rc;
    while ((rc = fa_cli_next(rd, &rec)) != FA_NDJSON_EOF) {
        if (rc == FA_NDJSON_IOERR) {
            fa_cli_error("%s", fa_err_get());
            status = FA_EXIT_FAIL;
            break;
        }
        const char *kind = fa_record_kind(rec);
        bool is_price = kind && !strcmp(kind, "price");
        if (is_price) {
            /* a new day of the symbol closes the previous one: decide it
             * before passing the new price on */
            const char *sym = fa_record_symbol(rec);
            if (sym && (!A.d.symbol || !strcmp(sym, A.d.symbol)) && A.d.n > A.decided &&
                decide_days(&A, true) < 0) {
                fa_cli_error("%s", fa_err_get());
                status = FA_EXIT_FAIL;
                json_object_put(rec);
                break;
            }
        }
        if (fa_policy_data_add(&A.d, rec) < 0) {
            fa_bad_record(fa_record_symbol(rec), fa_record_date(rec), fa_ndjson_where(rd), "%s",
                          fa_err_get());
        }
        fa_emit(rec);
    }
    fa_ndjson_close(rd);
    if (status == FA_EXIT_OK && decide_days(&A, true) < 0) {
        fa_cli_error("%s", fa_err_get());
        status = FA_EXIT_FAIL;
    }
    if (status == FA_EXIT_OK && fa_policy_env_illegal(A.env) > 0) {
        fa_cli_error("%ld illegal actions", fa_policy_env_illegal(A.env));
        status = FA_EXIT_FAIL;
    }
out:
    json_object_put(m);
    free(A.x);
    fa_policy_env_free(A.env);
    fa_policy_backbone_free(A.bb);
    fa_nn_free(A.nn);
    fa_policy_llm_free(A.llm);
    fa_policy_data_free(&A.d);
    return status;
}

int main(int argc, char **argv)
{
    int c, status;
    fa_err_init(argv[0]);
    /* --preset first, so that later flags override it */
    const char *preset = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--preset") && i + 1 < argc)
            preset = argv[++i];
        else if (!strncmp(argv[i], "--preset=", 9))
            preset = argv[i] + 9;
    }
    if (preset && strcmp(preset, "flag") && strcmp(preset, "default"))
        fa_cli_usage_error("invalid --preset '%s' (want flag or default)", preset);
    fa_ppo_conf_default(&tconf.ppo);
    fa_policy_env_conf_default(&tconf.env);
    if (preset && !strcmp(preset, "flag"))
        preset_flag(&tconf);
    tconf.seed = 1;
    tconf.nhidden = 2;
    tconf.widths[0] = tconf.widths[1] = 128;
    tconf.act = FA_NN_TANH;
    tconf.trunks = 2;
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (!sub || sub[0] == '-') {
        /* only the core flags make sense without a subcommand */
        while ((c = getopt_long(argc, argv, "hqvV", opts, NULL)) != -1)
            if (c == 'h' || c == 'V' || c == '?')
                parse_opt(c, optarg);
        fa_cli_usage_error("want a command: train or act");
    }
    if (strcmp(sub, "train") && strcmp(sub, "act"))
        fa_cli_usage_error("unknown command '%s' (want train or act)", sub);
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "hqvV", opts, NULL)) != -1)
        parse_opt(c, optarg);
    if (optind < argc)
        fa_cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (!o_seed) {
        const char *s = getenv("FA_SEED");
        long l;
        if (s && *s) {
            if (fa_cli_long("FA_SEED", s, 0, INT64_MAX, &l) < 0)
                fa_cli_usage_error("%s", fa_err_get());
            tconf.seed = (uint64_t)l;
        }
    }
    if (tconf.ppo.clip <= 0)
        fa_cli_usage_error("invalid --clip (want > 0)");
    if (!strcmp(sub, "train"))
        status = cmd_train();
    else
        status = cmd_act();
    if (fa_stdout_close() != 0 && status == FA_EXIT_OK)
        status = FA_EXIT_FAIL;
    return status;
}
