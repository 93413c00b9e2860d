/* fa-days: FinAgent's trading days in one process. The same chain of
 * stages as pipelines/fa-day, in the same order, with the same arguments,
 * the same work files and the same day file, byte for byte; what differs is
 * the cost. fa-day pays a bash, a fork and an exec of a dynamically linked
 * program for every stage and selection of every day, which on a small
 * virtual machine is most of a replayed day's time. fa-days carries the
 * stock stages linked in (each cmd/fa-*.c's main, renamed at build time)
 * and calls each in its own process, as a function: its statics put back
 * to their initial values first (cmd/fa-days.ld gathers them), its input
 * and output files on fds 0 and 1, its exit (fa_exit) caught. A fork
 * costs about a millisecond here, an exec two or three more; a call
 * nothing. The stages that fa-day runs in the background (the stores, the
 * journal's accounts) are called in line too, unless their embedding calls
 * may wait on the network: then they start as this program again
 * (posix_spawn), to overlap the next stages. The selections between stages
 * are done in memory.
 *
 * A stage whose program is found in FA_EXEC_PATH is that program, run with
 * exec: swapping one stage for your own works as it does with fa-day.
 *
 * fa-run calls it once for all its days (--run): it then also appends each
 * day to the signed journal and prints fa-run's progress lines. */
#include "fa_cache.h"
#include "fa_cli.h"
#include "fa_embedder.h"
#include "fa_err.h"
#include "fa_file.h"
#include "fa_gnuplot.h"
#include "fa_ndjson.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio_ext.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The stock stages, linked in (Makefile: cmd/fa-NAME.c built with
 * -Dmain=fa_main_NAME). */
int fa_main_fetch(int argc, char **argv);
int fa_main_intel(int argc, char **argv);
int fa_main_retrieve(int argc, char **argv);
int fa_main_embed(int argc, char **argv);
int fa_main_reflect_low(int argc, char **argv);
int fa_main_reflect_high(int argc, char **argv);
int fa_main_tools(int argc, char **argv);
int fa_main_decide(int argc, char **argv);
int fa_main_metrics(int argc, char **argv);
int fa_main_journal(int argc, char **argv);

static const struct {
    const char *prog;
    int (*main)(int, char **);
} stock[] = {
    {"fa-fetch", fa_main_fetch},
    {"fa-intel", fa_main_intel},
    {"fa-retrieve", fa_main_retrieve},
    {"fa-embed", fa_main_embed},
    {"fa-reflect-low", fa_main_reflect_low},
    {"fa-reflect-high", fa_main_reflect_high},
    {"fa-tools", fa_main_tools},
    {"fa-decide", fa_main_decide},
    {"fa-metrics", fa_main_metrics},
    {"fa-journal", fa_main_journal},
};
#define NSTOCK (sizeof stock / sizeof stock[0])

extern int fa_verbosity;

/* The stages' writable statics (cmd/fa-days.ld), and their initial values. */
extern char fa_stage_data_start[], fa_stage_data_end[];
static char *stage_data0;

/* The region's size (addresses as numbers: the two symbols are not one C
 * object). */
static size_t stage_data_size(void)
{
    uintptr_t a = (uintptr_t)fa_stage_data_start, b = (uintptr_t)fa_stage_data_end;
    return b > a ? (size_t)(b - a) : 0;
}

/* Copies the stages' statics byte by byte. Under AddressSanitizer the
 * region holds the redzones between globals, which a checked copy would
 * refuse: this one is not instrumented. */
__attribute__((no_sanitize_address)) static void stage_data_copy(volatile char *to,
                                                                 const volatile char *from)
{
    size_t n = stage_data_size();
    for (size_t i = 0; i < n; i++)
        to[i] = from[i];
}

/* The stage's statics as the program starts with them, and getopt and the
 * core flags afresh, as if it had been exec'd. */
static void stage_fresh(void)
{
    if (stage_data0)
        stage_data_copy(fa_stage_data_start, stage_data0);
    optind = 0;
    opterr = 1;
    fa_verbosity = 1;
    fa_strict = false;
}

static void usage(void)
{
    fputs("Usage: fa-days --out RUN --symbol SYM --source SRC [options] DATE...\n"
          "\n"
          "Runs FinAgent trading days in order, in one process: for each DATE the\n"
          "chain of pipelines/fa-day, with the same files (RUN/days/DATE.ndjson).\n"
          "\n"
          "fa-day's options: --out, --symbol, --source, --since, --run-start,\n"
          "--prices, --hindsight-end, --preference, --without, --convention,\n"
          "--lookback, --top-intel, --top-reflect, --asset-type, --params,\n"
          "--no-charts, -q, -v (see fa-day --help). And:\n"
          "      --warmup FROM:TO  days in FROM..TO are the warm-up pass (--since FROM,\n"
          "                        --hindsight-end TO); the others the test pass\n"
          "      --test-from DATE  the test pass's first day (its --since)\n"
          "      --run             fa-run's day loop: append each day to RUN's signed\n"
          "                        journal (fa-journal append)\n"
          "      --progress        with --run: fa-run's progress line after each day\n"
          "                        (with -v, its timing line too)\n"
          "  -h, --help            this help\n"
          "  -V, --version         version\n"
          "\n"
          "Exit status: 0 every day is complete, 1 a stage (or the journal) failed\n"
          "on a day (its work files are kept in RUN/work/DATE; the days before it\n"
          "are complete), 2 usage. A DATE that is not a trading day is skipped\n"
          "with a message (fa-day's exit 3).\n",
          stdout);
}

/* ---- options ------------------------------------------------------------ */

static const char *o_out, *o_symbol, *o_source, *o_since, *o_start, *o_prices, *o_hend;
static const char *o_pref = "aggressive", *o_conv = "realistic", *o_params, *o_asset;
static const char *o_w0, *o_w1, *o_t0;
static char o_lookback[16] = "30", o_topi[16] = "3", o_topr[16] = "5";
static bool o_charts = true, o_run, o_progress;
static int o_verbose = 1;
static bool without[4]; /* intel, low, high, tools */
static const char *const wnames[] = {"intel", "low", "high", "tools"};
static char *exec_path; /* FA_EXEC_PATH, for swapped stages */
static char *self_dir;  /* where this program is: its stock stages are linked in */
static char *self_exe;  /* this program, exec'd as a stock stage in the background */

static bool is_date(const char *s)
{
    if (!s || strlen(s) != 10)
        return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool is_count(const char *s, bool pos)
{
    if (!s || !*s || strlen(s) > 9)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return !pos || atol(s) >= 1;
}

/* p made absolute against the working directory (as realpath -m would,
 * without resolving links: the path need not exist yet). */
static const char *absolute(const char *p)
{
    char *r, cwd[4096];
    if (p[0] == '/' || !getcwd(cwd, sizeof cwd))
        return p;
    if ((r = realpath(p, NULL)))
        return r;
    if (asprintf(&r, "%s/%s", cwd, p) < 0)
        fa_die(1, "out of memory");
    return r;
}

/* ---- buffers and lines -------------------------------------------------- */

struct sb {
    char *s;
    size_t n, cap;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < b->n + n + 1)
            c *= 2;
        char *t = realloc(b->s, c);
        if (!t)
            fa_die(1, "out of memory");
        b->s = t;
        b->cap = c;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void sb_line(struct sb *b, const char *s, size_t n)
{
    sb_add(b, s, n);
    sb_add(b, "\n", 1);
}

/* A file's lines (without their newlines), as bash's mapfile -t reads
 * them; the buffer is the file, cut at each newline. */
struct lines {
    char *buf;
    char **v;
    size_t *len;
    size_t n;
};

static void lines_free(struct lines *l)
{
    free(l->buf);
    free(l->v);
    free(l->len);
    memset(l, 0, sizeof *l);
}

static int lines_split(struct lines *l, char *buf, size_t n)
{
    size_t cap = 64;
    l->buf = buf;
    l->n = 0;
    l->v = malloc(cap * sizeof *l->v);
    l->len = malloc(cap * sizeof *l->len);
    if (!l->v || !l->len)
        fa_die(1, "out of memory");
    for (size_t i = 0; i < n;) {
        char *nl = memchr(buf + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - buf) : n;
        if (l->n == cap) {
            cap *= 2;
            l->v = realloc(l->v, cap * sizeof *l->v);
            l->len = realloc(l->len, cap * sizeof *l->len);
            if (!l->v || !l->len)
                fa_die(1, "out of memory");
        }
        buf[e] = 0;
        l->v[l->n] = buf + i;
        l->len[l->n++] = e - i;
        i = e + 1;
    }
    return 0;
}

/* Reads path's lines; -1 with fa_err when it cannot. */
static int lines_read(struct lines *l, const char *path)
{
    char *buf;
    size_t n;
    memset(l, 0, sizeof *l);
    if (fa_file_read(path, (size_t)1 << 32, &buf, &n) < 0)
        return -1;
    return lines_split(l, buf, n);
}

/* Writes len bytes to path (created or truncated; not atomic: a work file). */
static int put_file(const char *path, const char *s, size_t len, int flags)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
    if (fd < 0) {
        fa_err_sys("cannot write '%s'", path);
        return -1;
    }
    while (len > 0) {
        ssize_t w = write(fd, s, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            fa_err_sys("cannot write '%s'", path);
            close(fd);
            return -1;
        }
        s += w;
        len -= (size_t)w;
    }
    if (close(fd) < 0) {
        fa_err_sys("cannot write '%s'", path);
        return -1;
    }
    return 0;
}

static bool starts(const char *s, size_t n, const char *p, size_t pn)
{
    return n >= pn && memcmp(s, p, pn) == 0;
}

/* ---- the day ------------------------------------------------------------ */

static char w[4096];   /* RUN/work/DATE, relative to RUN (we run inside RUN) */
static char cur[4200]; /* the current stream's file */
static const char *date, *since, *start, *hend;
static int nstep;
static struct sb timing;
static long long t_day;

static long long now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* NAME's milliseconds since t0, plus extra microseconds, into the day's
 * timing record (rounded: the mean over days stays true). */
static long long lap_plus(const char *name, long long t0, long long extra_us)
{
    long long ms = (now_us() - t0 + extra_us + 500) / 1000;
    char b[128];
    int k = snprintf(b, sizeof b, "%s\"%s\":%lld", timing.n ? "," : "", name, ms);
    sb_add(&timing, b, (size_t)k);
    return ms;
}

static long long lap(const char *name, long long t0)
{
    return lap_plus(name, t0, 0);
}

/* The work fa-day does in the background and fa-days may do in line (the
 * journal and price history; the stores): its time, given to wait-prepare
 * and wait-stores, so the record has fa-day's keys. */
static long long prep_us, stores_us;

/* The prefix every record of KIND of the symbol on some date starts with
 * (up to the date's first digit). */
static size_t prefix(char *p, size_t n, const char *kind)
{
    int k = snprintf(p, n, "{\"kind\":\"%s\",\"symbol\":\"%s\",\"date\":\"", kind, o_symbol);
    return k > 0 && (size_t)k < n ? (size_t)k : 0;
}

enum when { ANY, BEFORE, THROUGH, ON };

/* pick: KIND records of the symbol from l (see fa-day's pick), appended to o. */
static void pick(struct sb *o, const char *kind, enum when d, const struct lines *l, bool nonempty)
{
    char p[512];
    size_t pn = prefix(p, sizeof p, kind);
    for (size_t i = 0; i < l->n; i++) {
        const char *s = l->v[i];
        if (!pn || !starts(s, l->len[i], p, pn))
            continue;
        char x[11] = {0};
        size_t xl = l->len[i] - pn < 10 ? l->len[i] - pn : 10;
        memcpy(x, s + pn, xl);
        if (nonempty && strstr(s, "\"query\":\"\""))
            continue;
        int c = strcmp(x, date);
        if ((d == BEFORE && c >= 0) || (d == THROUGH && c > 0) || (d == ON && c != 0))
            continue;
        sb_line(o, s, l->len[i]);
    }
}

/* drop: l without KIND records (but those of keep, when given), onto o. */
static void drop(struct sb *o, const char *kind, const char *keep, const struct lines *l)
{
    char p[128], k[64];
    int pn = snprintf(p, sizeof p, "{\"kind\":\"%s\",", kind);
    if (keep)
        snprintf(k, sizeof k, "\"date\":\"%s\"", keep);
    for (size_t i = 0; i < l->n; i++) {
        if (starts(l->v[i], l->len[i], p, (size_t)pn) && (!keep || !strstr(l->v[i], k)))
            continue;
        sb_line(o, l->v[i], l->len[i]);
    }
}

static void emit(struct sb *o, const struct lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        sb_line(o, l->v[i], l->len[i]);
}

static bool has_record(const char *kind)
{
    struct lines l;
    char p[512];
    size_t pn = prefix(p, sizeof p, kind);
    bool has = false;
    if (lines_read(&l, cur) < 0)
        return false;
    for (size_t i = 0; i < l.n && !has; i++)
        has = pn && starts(l.v[i], l.len[i], p, pn) && strncmp(l.v[i] + pn, date, 10) == 0;
    lines_free(&l);
    return has;
}

/* Where a stage's program is: a swapped one in FA_EXEC_PATH (malloc'd
 * path in *path), else the stock one linked in (its index). -1: neither. */
static int stage_find(const char *prog, char **path)
{
    *path = NULL;
    if (exec_path) {
        char *dirs = strdup(exec_path), *save = NULL;
        for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
            char *p, *rd = realpath(d, NULL);
            bool self = rd && self_dir && strcmp(rd, self_dir) == 0;
            free(rd);
            if (self) /* the stock programs themselves: linked in */
                continue;
            if (asprintf(&p, "%s/%s", d, prog) < 0)
                break;
            if (access(p, X_OK) == 0) {
                *path = p;
                free(dirs);
                return 0;
            }
            free(p);
        }
        free(dirs);
    }
    for (size_t i = 0; i < NSTOCK; i++)
        if (strcmp(stock[i].prog, prog) == 0)
            return (int)i;
    return -1;
}

/* argv for exec and main, which take char **: the strings are not written
 * to. Returns argc. */
static int to_argv(const char *const *cargv, char *argv[64])
{
    int argc = 0;
    for (; cargv[argc] && argc < 63; argc++) {
        union {
            const char *c;
            char *m;
        } u = {.c = cargv[argc]};
        argv[argc] = u.m;
    }
    argv[argc] = NULL;
    return argc;
}

/* Starts argv[0] on in, writing out, in a child: the program at path (one
 * of FA_EXEC_PATH), or with path NULL a stock stage, which is this program
 * again exec'd under the stage's name (main dispatches on it). Returns the
 * pid, or -1 with fa_err. posix_spawn, not fork: the child shares our
 * memory until its exec, so our heap is not made copy-on-write (on a
 * virtual machine every later write to it would fault, with a TLB
 * shootdown each). */
static pid_t spawn(const char *path, const char *const *cargv, const char *in, const char *out)
{
    char *argv[64];
    int e;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t def;
    pid_t pid;

    to_argv(cargv, argv);
    if (!path && !self_exe) {
        fa_err_set("cannot run '%s': where fa-days is, is unknown", argv[0]);
        return -1;
    }
    fflush(NULL);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_init(&at);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF);
    e = posix_spawn(&pid, path ? path : self_exe, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (e != 0) {
        fa_err_set("cannot run '%s' on '%s' into '%s': %s", path ? path : argv[0], in, out,
                   strerror(e));
        return -1;
    }
    return pid;
}

static int wait_for(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* fa-days' own stdin and stdout while a stage has fds 0 and 1. */
static int saved_in = -1, saved_out = -1;

/* Runs stock stage idx here, as a call, on in, writing out; its exit
 * status. */
static int call_stage(int idx, int argc, char **argv, const char *in, const char *out)
{
    int fi = open(in, O_RDONLY | O_CLOEXEC),
        fo = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const char *progname = fa_progname;
    int verbosity = fa_verbosity;
    bool strict = fa_strict;
    jmp_buf jb;
    volatile int rc;

    if (fi < 0 || fo < 0) {
        fa_err_sys("%s: cannot open its input or output", argv[0]);
        if (fi >= 0)
            close(fi);
        if (fo >= 0)
            close(fo);
        return -1;
    }
    fflush(NULL);
    if (saved_in < 0 && ((saved_in = fcntl(0, F_DUPFD_CLOEXEC, 3)) < 0 ||
                         (saved_out = fcntl(1, F_DUPFD_CLOEXEC, 3)) < 0))
        fa_die(FA_EXIT_FAIL, "cannot keep stdin and stdout: %s", strerror(errno));
    if (dup2(fi, 0) < 0 || dup2(fo, 1) < 0)
        fa_die(FA_EXIT_FAIL, "cannot redirect a stage's stdin or stdout: %s", strerror(errno));
    close(fi);
    close(fo);
    /* (what the stage before left in stdin's buffer and flags) */
    __fpurge(stdin);
    clearerr(stdin);
    clearerr(stdout);
    stage_fresh();
    int j = setjmp(jb);
    if (j == 0) {
        fa_exit_jmp = &jb;
        rc = stock[idx].main(argc, argv);
    } else {
        rc = j - 1;
    }
    fa_exit_jmp = NULL;
    if (fflush(stdout) == EOF && rc == 0) {
        fprintf(stderr, "%s: write error 'stdout': %s\n", fa_progname, strerror(errno));
        rc = FA_EXIT_FAIL;
    }
    fflush(stderr);
    if (dup2(saved_in, 0) < 0 || dup2(saved_out, 1) < 0)
        fa_die(FA_EXIT_FAIL, "cannot restore stdin and stdout: %s", strerror(errno));
    fa_progname = progname;
    fa_verbosity = verbosity;
    fa_strict = strict;
    return rc;
}

/* Runs argv[0] (an fa program) on in, writing out, to its end: a stock
 * stage as a call, one of FA_EXEC_PATH with fork and exec. Its exit
 * status, or -1 with fa_err. */
static int run_prog(const char *const *cargv, const char *in, const char *out)
{
    char *path, *argv[64];
    int idx = stage_find(cargv[0], &path), argc;

    if (idx < 0 && !path) {
        fa_err_set("no program '%s'", cargv[0]);
        return -1;
    }
    if (path) {
        pid_t pid = spawn(path, cargv, in, out);
        free(path);
        return pid < 0 ? -1 : wait_for(pid);
    }
    argc = to_argv(cargv, argv);
    return call_stage(idx, argc, argv, in, out);
}

/* A stage fa-day runs in the background: a child, or one already run here
 * (done, with its status). */
struct job {
    pid_t pid; /* the child; 0 none */
    bool done; /* finished: rc is its status */
    int rc;
};

/* Whether a stock stage that fa-day runs in the background runs here, in
 * line, instead: fa-metrics always (it only computes), fa-embed when no
 * call of it can wait on the network (the local embedder, or FA_CACHE=
 * replay). A call costs less than the exec'd child's start-up alone. */
static bool bg_inline;

/* Starts argv (in, out) as job j: here (when here and a stock stage) or in
 * a child. false with fa_err when it could not start. */
static bool job_start(struct job *j, const char *const *argv, const char *in, const char *out,
                      bool here)
{
    char *path;
    int idx = stage_find(argv[0], &path);

    *j = (struct job){0};
    if (idx < 0 && !path) {
        fa_err_set("no program '%s'", argv[0]);
        return false;
    }
    if (here && !path) {
        char *av[64];
        int argc = to_argv(argv, av);
        j->rc = call_stage(idx, argc, av, in, out);
        j->done = true;
        return true;
    }
    j->pid = spawn(path, argv, in, out);
    free(path);
    return j->pid > 0;
}

static bool job_live(const struct job *j)
{
    return j->done || j->pid > 0;
}

/* j's exit status, once it has ended (-1: it could not run). */
static int job_wait(struct job *j)
{
    if (!j->done) {
        j->rc = j->pid > 0 ? wait_for(j->pid) : -1;
        j->pid = 0;
        j->done = true;
    }
    return j->rc;
}

/* The kill hook of fa-day (FA_DAY_KILL=DATE:STAGE): whether it asks for a
 * crash right after STAGE of this day. */
static bool kill_wanted(const char *name)
{
    const char *k = getenv("FA_DAY_KILL");
    size_t dl = strlen(date);
    return k && strncmp(k, date, dl) == 0 && k[dl] == ':' && strcmp(k + dl + 1, name) == 0;
}

/* The crash itself: SIGKILL of fa-days and of its parent, as fa-day does. */
static void kill_hook(const char *name)
{
    if (kill_wanted(name)) {
        fflush(NULL);
        kill(getppid(), SIGKILL);
        kill(getpid(), SIGKILL);
    }
}

static bool day_failed;

/* A step's output file: work/DATE/NN-NAME.ndjson. */
static void step_file(char *f, size_t n, const char *name)
{
    nstep++;
    snprintf(f, n, "%s/%02d-%s.ndjson", w, nstep, name);
}

static void step_done(const char *name, const char *f, long long t0, int rc)
{
    long long ms = lap(name, t0);
    if (o_verbose == 2) {
        struct lines l;
        size_t nl = 0;
        if (lines_read(&l, f) == 0)
            nl = l.n;
        lines_free(&l);
        fprintf(stderr, "fa-days: %s %-14s %4zu records %4lld ms\n", date, name, nl, ms);
    }
    if (rc != 0) {
        fprintf(stderr, "fa-days: stage '%s' failed on %s (work files kept in %s/%s)\n", name, date,
                o_out, w);
        day_failed = true;
        return;
    }
    snprintf(cur, sizeof cur, "%s", f);
    kill_hook(name);
}

/* step NAME ARGV: a program on the current stream into the next work file. */
static bool step_prog(const char *name, const char *const *argv)
{
    char f[4200];
    long long t0 = now_us();
    step_file(f, sizeof f, name);
    int rc = run_prog(argv, cur, f);
    if (rc < 0)
        fa_warn("%s", fa_err_get());
    step_done(name, f, t0, rc);
    return !day_failed;
}

/* step NAME with a stream made here: o becomes the next work file. */
static bool step_text(const char *name, struct sb *o, long long t0)
{
    char f[4200];
    step_file(f, sizeof f, name);
    int rc = put_file(f, o->s ? o->s : "", o->n, O_TRUNC);
    if (rc < 0)
        fa_warn("%s", fa_err_get());
    step_done(name, f, t0, rc ? 1 : 0);
    return !day_failed;
}

static void wpath(char *p, size_t n, const char *name)
{
    snprintf(p, n, "%s/%s", w, name);
}

/* ---- what the pass has done: own-day price and decision records ---------- */

struct past {
    char date[11];
    char *recs; /* own-day price and decision lines, in file order */
    size_t len;
};
static struct past *past;
static size_t npast, cappast;

static void past_add(const char *d, const struct lines *l)
{
    char pp[512], pd[512];
    size_t ppn = prefix(pp, sizeof pp, "price"), pdn = prefix(pd, sizeof pd, "decision");
    struct sb o = {0};
    for (size_t i = 0; i < l->n; i++) {
        const char *s = l->v[i];
        size_t n = l->len[i];
        if ((starts(s, n, pp, ppn) && strncmp(s + ppn, d, 10) == 0 && s[ppn + 10] == '"') ||
            (starts(s, n, pd, pdn) && strncmp(s + pdn, d, 10) == 0 && s[pdn + 10] == '"'))
            sb_line(&o, s, n);
    }
    if (npast == cappast) {
        cappast = cappast ? 2 * cappast : 256;
        past = realloc(past, cappast * sizeof *past);
        if (!past)
            fa_die(1, "out of memory");
    }
    /* days complete in date order here; one that came from elsewhere
     * (loaded at the start) is kept sorted too */
    size_t at = npast;
    while (at > 0 && strcmp(past[at - 1].date, d) > 0)
        at--;
    memmove(past + at + 1, past + at, (npast - at) * sizeof *past);
    snprintf(past[at].date, sizeof past[at].date, "%s", d);
    past[at].recs = o.s;
    past[at].len = o.n;
    npast++;
}

static void day_summary(const char *d, const struct lines *l, char *action, size_t an, char *value,
                        size_t vn);

/* Loads the day files already in RUN/days; with costs, their model calls
 * and cost go into the run's so far (fa-run's cost_of). */
static int past_load(bool costs)
{
    char **days, path[64], a[64], v[64];
    size_t n;
    struct lines l;

    if (fa_file_days(".", &days, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "days/%s.ndjson", days[i]);
        if (lines_read(&l, path) < 0) {
            fa_file_free_list(days, n);
            return -1;
        }
        past_add(days[i], &l);
        if (costs)
            day_summary(days[i], &l, a, sizeof a, v, sizeof v);
        lines_free(&l);
    }
    fa_file_free_list(days, n);
    return 0;
}

/* ---- the run's prices (--prices): read once ------------------------------ */

static struct lines prices;
static bool prices_loaded;

/* The price history [start, to] into file. */
static int history(const char *to, const char *file)
{
    struct sb o = {0};
    int rc;
    if (o_prices) {
        char p[512];
        size_t pn = prefix(p, sizeof p, "price");
        if (!prices_loaded) {
            if (lines_read(&prices, o_prices) < 0) {
                fa_warn("cannot read prices '%s'", o_prices);
                return -1;
            }
            prices_loaded = true;
        }
        for (size_t i = 0; i < prices.n; i++) {
            const char *s = prices.v[i];
            char x[11] = {0};
            if (!starts(s, prices.len[i], p, pn))
                continue;
            memcpy(x, s + pn, prices.len[i] - pn < 10 ? prices.len[i] - pn : 10);
            if (strcmp(x, start) < 0 || strcmp(x, to) > 0)
                continue;
            sb_line(&o, s, prices.len[i]);
        }
    } else {
        char tmp[4200];
        struct lines l;
        const char *argv[] = {"fa-fetch", "-q",  "--source", o_source, "--symbol", o_symbol,
                              "--from",   start, "--to",     to,       NULL};
        wpath(tmp, sizeof tmp, "fetched.ndjson");
        if (run_prog(argv, "/dev/null", tmp) != 0 || lines_read(&l, tmp) < 0) {
            fa_warn("cannot fetch the price history through %s", to);
            return -1;
        }
        pick(&o, "price", ANY, &l, false);
        lines_free(&l);
        unlink(tmp);
    }
    rc = put_file(file, o.s ? o.s : "", o.n, O_TRUNC);
    free(o.s);
    if (rc < 0)
        fa_warn("%s", fa_err_get());
    return rc;
}

/* ---- prepare: the journal and the price history (fa-day's prepare) ------- */

static struct job prep;
static bool hindsight;

static int prepare(void)
{
    char jf[4200], mi[4200], aa[4200];
    struct sb j = {0}, m = {0};
    struct lines l;
    int rc = 0;

    /* pass_records price "decision>journal": the pass's own-day records of
     * the days in [since, date) */
    for (size_t i = 0; i < npast; i++) {
        if (strcmp(past[i].date, since) < 0 || strcmp(past[i].date, date) >= 0)
            continue;
        sb_add(&m, past[i].recs ? past[i].recs : "", past[i].len);
        char pd[512];
        size_t pdn = prefix(pd, sizeof pd, "decision");
        for (const char *s = past[i].recs; s && *s;) {
            const char *e = strchr(s, '\n');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            if (starts(s, n, pd, pdn))
                sb_line(&j, s, n);
            s += n + (e ? 1 : 0);
        }
    }
    if (lines_read(&l, cur) < 0)
        return -1;
    pick(&m, "price", ON, &l, false);
    lines_free(&l);
    wpath(jf, sizeof jf, "journal.ndjson");
    wpath(mi, sizeof mi, "metrics-in.ndjson");
    wpath(aa, sizeof aa, "accounts-all.ndjson");
    if (put_file(jf, j.s ? j.s : "", j.n, O_TRUNC) < 0 ||
        put_file(mi, m.s ? m.s : "", m.n, O_TRUNC) < 0) {
        fa_warn("%s", fa_err_get());
        rc = -1;
    }
    free(j.s);
    free(m.s);
    if (rc == 0) {
        const char *argv[] = {"fa-metrics", "-q", "--convention", o_conv, NULL};
        if (!job_start(&prep, argv, mi, aa, true)) {
            fa_warn("%s", fa_err_get());
            rc = -1;
        }
    }
    if (rc == 0) {
        char hf[4200];
        if (hindsight) {
            char hs[4200];
            wpath(hs, sizeof hs, "hindsight.ndjson");
            wpath(hf, sizeof hf, "history.ndjson");
            if (history(hend, hs) < 0 || lines_read(&l, hs) < 0) {
                rc = -1;
            } else {
                struct sb o = {0};
                pick(&o, "price", THROUGH, &l, false);
                lines_free(&l);
                if (put_file(hf, o.s ? o.s : "", o.n, O_TRUNC) < 0)
                    rc = -1;
                free(o.s);
            }
        } else {
            wpath(hf, sizeof hf, "history.ndjson");
            rc = history(date, hf);
        }
    }
    return rc;
}

/* ready: the journal's accounts, once fa-metrics is done. */
static bool ready(void)
{
    long long t0 = now_us();
    char aa[4200], ac[4200], jf[4200];
    struct lines l;
    struct sb o = {0};
    bool ok = job_live(&prep) && job_wait(&prep) == 0;

    prep = (struct job){0};
    wpath(aa, sizeof aa, "accounts-all.ndjson");
    wpath(ac, sizeof ac, "accounts.ndjson");
    wpath(jf, sizeof jf, "journal.ndjson");
    if (ok && lines_read(&l, aa) == 0) {
        pick(&o, "account", THROUGH, &l, false);
        lines_free(&l);
        ok = put_file(ac, o.s ? o.s : "", o.n, O_TRUNC) == 0 &&
             put_file(jf, o.s ? o.s : "", o.n, O_APPEND) == 0;
    } else {
        ok = false;
    }
    free(o.s);
    lap_plus("wait-prepare", t0, prep_us);
    if (!ok) {
        fprintf(stderr, "fa-days: cannot prepare the journal and price history of %s\n", date);
        day_failed = true;
    }
    return ok;
}

/* ---- retrieval and the stores ----------------------------------------- */

static const char *qv(void)
{
    return o_verbose == 0 ? "-q" : o_verbose == 2 ? "-v" : NULL;
}

/* argv builder */
struct av {
    const char *v[64];
    int n;
};
static void av_add(struct av *a, const char *s)
{
    if (s && a->n < 63)
        a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

/* retrieve KIND STORE FIELD TOP, as a step (fa-day's retrieve). */
static bool step_retrieve(const char *name, const char *kind, const char *st, const char *field,
                          const char *top)
{
    long long t0 = now_us();
    char q[4200], h[4200], store[64];
    struct lines l, hl;
    struct sb o = {0};
    struct av a = {0};
    int rc;

    if (lines_read(&l, cur) < 0)
        return false;
    pick(&o, kind, ON, &l, false);
    snprintf(q, sizeof q, "%s/query-%s.ndjson", w, st);
    snprintf(h, sizeof h, "%s/hits-%s.ndjson", w, st);
    snprintf(store, sizeof store, "memory/%s", st);
    rc = put_file(q, o.s ? o.s : "", o.n, O_TRUNC);
    free(o.s);
    o = (struct sb){0};
    av_add(&a, "fa-retrieve");
    av_add(&a, qv());
    av_add(&a, "--store");
    av_add(&a, store);
    av_add(&a, "--query-field");
    av_add(&a, field);
    av_add(&a, "--top");
    av_add(&a, top);
    if (rc == 0)
        rc = run_prog(a.v, q, h);
    if (rc == 0 && lines_read(&hl, h) == 0) {
        emit(&o, &l);
        drop(&o, kind, NULL, &hl);
        lines_free(&hl);
    } else if (rc == 0) {
        rc = 1;
    }
    lines_free(&l);
    if (rc != 0) {
        char f[4200];
        step_file(f, sizeof f, name);
        put_file(f, o.s ? o.s : "", o.n, O_TRUNC);
        free(o.s);
        step_done(name, f, t0, rc < 0 ? 1 : rc);
        return false;
    }
    bool ok = step_text(name, &o, t0);
    free(o.s);
    return ok;
}

static struct job bg[3];
static const char *bgname[3], *bgkind[3];
static char bgout[3][4200];
static int nbg;

/* bgstore NAME KIND STORE EMBED-FLAGS...: the day's KIND records into the
 * store, in the background. */
static bool bgstore(const char *name, const char *kind, const char *st, const char *f1,
                    const char *f2)
{
    char in[4200], store[64];
    struct lines l;
    struct sb o = {0};
    struct av a = {0};
    int rc;
    long long t0 = now_us();

    if (lines_read(&l, cur) < 0)
        return false;
    pick(&o, kind, ON, &l, true);
    lines_free(&l);
    snprintf(in, sizeof in, "%s/store-%s.ndjson", w, st);
    snprintf(bgout[nbg], sizeof bgout[nbg], "%s/embed-%s.ndjson", w, st);
    snprintf(store, sizeof store, "memory/%s", st);
    rc = put_file(in, o.s ? o.s : "", o.n, O_TRUNC);
    free(o.s);
    if (rc < 0) {
        fa_warn("%s", fa_err_get());
        day_failed = true;
        return false;
    }
    av_add(&a, "fa-embed");
    av_add(&a, qv());
    av_add(&a, "--store");
    av_add(&a, store);
    av_add(&a, "--kind");
    av_add(&a, kind);
    av_add(&a, f1);
    av_add(&a, f2);
    if (!job_start(&bg[nbg], a.v, in, bgout[nbg], bg_inline)) {
        fa_warn("%s", fa_err_get());
        day_failed = true;
        return false;
    }
    bgname[nbg] = name;
    bgkind[nbg] = kind;
    nbg++;
    stores_us += now_us() - t0;
    if (kill_wanted(name)) { /* (the store is written first, as fa-day waits for it) */
        job_wait(&bg[nbg - 1]);
        kill_hook(name);
    }
    return true;
}

/* Removes the files of directory dir last changed before t (all of them
 * when t is NULL), then dir itself when that leaves it empty. */
static void rm_dir(const char *dir, const struct timespec *t)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct stat st;
    char p[4400];
    if (!d)
        return;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            if (!t || (lstat(p, &st) == 0 &&
                       (st.st_mtim.tv_sec < t->tv_sec ||
                        (st.st_mtim.tv_sec == t->tv_sec && st.st_mtim.tv_nsec < t->tv_nsec))))
                unlink(p);
        }
    closedir(d);
    rmdir(dir);
}

static void rm_work(void)
{
    rm_dir(w, NULL);
}

/* A completed day's work directory is kept under this name and becomes
 * the next day's, its files opened again with O_TRUNC: making and removing
 * two dozen files a day is most of a replayed day's file system time, the
 * more so on an ext4 without a journal, which scans its recently deleted
 * inodes at every file it creates. */
#define REUSE "work/.fa-days"
/* the charts written down and not drawn yet (fa_gnuplot_later_persist) */
#define PENDING "charts/.pending"
static bool reuse_ok;
/* when the day started, on the clock file times are taken from */
static struct timespec day0;

static int fsync_path(const char *p)
{
    int fd = open(p, O_RDONLY | O_CLOEXEC), rc;
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* One day, as fa-day runs it. 0 complete, 1 failed, 2 refused target, 3
 * not a trading day. */
static int run_day1(void);
static int run_day(void)
{
    int rc = run_day1();
    if (rc == 1 || rc == 2) {
        /* the work files kept for a look are this day's alone */
        rm_dir(w, &day0);
        mkdir(w, 0755);
    }
    if (rc != 0)
        reuse_ok = false;
    return rc;
}

static int run_day1(void)
{
    char final[64], f[4200];
    struct av a;
    struct stat st;

    snprintf(final, sizeof final, "days/%s.ndjson", date);
    if (stat(final, &st) == 0 && S_ISREG(st.st_mode))
        return 0;
    snprintf(w, sizeof w, "work/%s", date);
    rm_work();
    mkdir("days", 0755);
    mkdir("memory", 0755);
    mkdir("charts", 0755);
    mkdir("work", 0755);
    clock_gettime(CLOCK_REALTIME_COARSE, &day0);
    if (reuse_ok && rename(REUSE, w) < 0)
        reuse_ok = false;
    if (!reuse_ok && mkdir(w, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "fa-days: cannot create run directory '%s'\n", o_out);
        return 1;
    }
    nstep = 0;
    snprintf(cur, sizeof cur, "/dev/null");
    timing.n = 0;
    if (timing.s)
        timing.s[0] = 0;
    prep_us = stores_us = 0;
    t_day = now_us();
    day_failed = false;
    nbg = 0;
    prep = (struct job){0};
    hindsight = hend && strcmp(hend, date) > 0;

    /* 1. fetch */
    a = (struct av){0};
    av_add(&a, "fa-fetch");
    av_add(&a, qv());
    av_add(&a, "--source");
    av_add(&a, o_source);
    av_add(&a, "--symbol");
    av_add(&a, o_symbol);
    av_add(&a, "--from");
    av_add(&a, date);
    av_add(&a, "--to");
    av_add(&a, date);
    av_add(&a, "--lookback");
    av_add(&a, o_lookback);
    if (!step_prog("fetch", a.v))
        return 1;
    if (!has_record("price")) {
        rm_work();
        fprintf(stderr, "fa-days: %s is not a trading day of %s for %s\n", date, o_source,
                o_symbol);
        return 3;
    }
    long long t_prep = now_us();
    int prc = prepare();
    prep_us = now_us() - t_prep;
    if (prc < 0) {
        if (job_live(&prep))
            job_wait(&prep);
        fprintf(stderr, "fa-days: cannot prepare the journal and price history of %s\n", date);
        return 1;
    }

    char hist[4200], hsf[4200], jf[4200], acf[4200];
    wpath(hist, sizeof hist, "history.ndjson");
    wpath(hsf, sizeof hsf, "hindsight.ndjson");
    wpath(jf, sizeof jf, "journal.ndjson");
    wpath(acf, sizeof acf, "accounts.ndjson");
    const char *chart1 = o_charts ? "--charts" : "--no-charts",
               *chart2 = o_charts ? "charts" : NULL;
    bool hs = false;

    /* 2-5. market intelligence */
    if (!without[0]) {
        a = (struct av){0};
        av_add(&a, "fa-intel");
        av_add(&a, qv());
        av_add(&a, "--from");
        av_add(&a, date);
        av_add(&a, "--latest");
        if (!step_prog("intel", a.v) ||
            !step_retrieve("retrieve-intel", "intel", "intel", "queries", o_topi) ||
            !bgstore("store-news", "news", "intel", "--text", "{title}\\n{text}") || !ready())
            goto failed;
        a = (struct av){0};
        av_add(&a, "fa-intel");
        av_add(&a, qv());
        av_add(&a, "--from");
        av_add(&a, date);
        av_add(&a, "--past");
        av_add(&a, "--history");
        av_add(&a, hist);
        if (!step_prog("intel-past", a.v))
            goto failed;
    }
    if (job_live(&prep) && !ready())
        goto failed;

    /* 6-7. low-level reflection */
    if (!without[1]) {
        a = (struct av){0};
        av_add(&a, "fa-reflect-low");
        av_add(&a, qv());
        av_add(&a, "--from");
        av_add(&a, date);
        av_add(&a, chart1);
        av_add(&a, chart2);
        if (hindsight) {
            av_add(&a, "--hindsight");
            av_add(&a, "--hindsight-end");
            av_add(&a, hend);
            av_add(&a, "--history");
            av_add(&a, hsf);
            hs = true;
        }
        if (!step_prog("reflect-low", a.v) ||
            !step_retrieve("retrieve-low", "reflect_low", "low", "query", o_topr) ||
            !bgstore("store-low", "reflect_low", "low", "--field", "query"))
            goto failed;
    }

    /* 8-9. high-level reflection */
    if (!without[2]) {
        a = (struct av){0};
        av_add(&a, "fa-reflect-high");
        av_add(&a, qv());
        av_add(&a, "--from");
        av_add(&a, date);
        if (hs) {
            av_add(&a, "--hindsight-end");
            av_add(&a, hend);
        }
        av_add(&a, chart1);
        av_add(&a, chart2);
        av_add(&a, "--journal");
        av_add(&a, jf);
        av_add(&a, "--history");
        av_add(&a, hist);
        if (!step_prog("reflect-high", a.v) ||
            !step_retrieve("retrieve-high", "reflect_high", "high", "query", o_topr) ||
            !bgstore("store-high", "reflect_high", "high", "--field", "query"))
            goto failed;
    }

    /* 10. the rule strategies */
    if (!without[3]) {
        a = (struct av){0};
        av_add(&a, "fa-tools");
        av_add(&a, qv());
        av_add(&a, "--window");
        av_add(&a, "15");
        if (o_params) {
            av_add(&a, "--params");
            av_add(&a, o_params);
        }
        if (!step_prog("tools", a.v))
            goto failed;
        long long t0 = now_us();
        struct lines l;
        struct sb o = {0};
        if (lines_read(&l, cur) < 0)
            goto failed;
        drop(&o, "signal", date, &l);
        lines_free(&l);
        bool ok = step_text("own-signals", &o, t0);
        free(o.s);
        if (!ok)
            goto failed;
    }

    /* 11. the decision, then the day's account */
    a = (struct av){0};
    av_add(&a, "fa-decide");
    av_add(&a, qv());
    av_add(&a, "--from");
    av_add(&a, date);
    if (hs) {
        av_add(&a, "--hindsight-end");
        av_add(&a, hend);
    }
    av_add(&a, "--preference");
    av_add(&a, o_pref);
    for (int i = 0; i < 4; i++)
        if (without[i]) {
            av_add(&a, "--without");
            av_add(&a, wnames[i]);
        }
    av_add(&a, "--journal");
    av_add(&a, acf);
    av_add(&a, "--history");
    av_add(&a, hist);
    if (!step_prog("decide", a.v))
        goto failed;
    if (!has_record("decision")) {
        fprintf(stderr, "fa-days: no decision for %s (work files kept in %s/%s)\n", date, o_out, w);
        goto failed;
    }
    {
        long long t0 = now_us();
        char mi[4200], mo[4200];
        struct lines l;
        struct sb o = {0};
        wpath(mi, sizeof mi, "metrics-in.ndjson");
        wpath(mo, sizeof mo, "metrics-out.ndjson");
        if (lines_read(&l, cur) < 0)
            goto failed;
        pick(&o, "decision", ON, &l, false);
        int rc = put_file(mi, o.s ? o.s : "", o.n, O_APPEND);
        free(o.s);
        const char *argv[] = {"fa-metrics", "-q", "--convention", o_conv, NULL};
        if (rc < 0 || run_prog(argv, mi, mo) != 0) {
            lines_free(&l);
            fprintf(stderr,
                    "fa-days: cannot compute the account of %s (work files kept in %s/%s)\n", date,
                    o_out, w);
            goto failed;
        }
        lap("metrics", t0);
        t0 = now_us();
        struct lines ml;
        o = (struct sb){0};
        emit(&o, &l);
        lines_free(&l);
        if (lines_read(&ml, mo) < 0)
            goto failed;
        pick(&o, "account", ON, &ml, false);
        lines_free(&ml);
        bool ok = step_text("account", &o, t0);
        free(o.s);
        if (!ok)
            goto failed;
    }

    /* the stores, then the day's file */
    {
        long long t0 = now_us();
        for (int i = 0; i < nbg; i++) {
            int rc = job_wait(&bg[i]);
            if (rc != 0) {
                fprintf(stderr, "fa-days: stage '%s' failed on %s (work files kept in %s/%s)\n",
                        bgname[i], date, o_out, w);
                for (int j = i + 1; j < nbg; j++)
                    job_wait(&bg[j]);
                nbg = 0;
                return 1;
            }
        }
        lap_plus("wait-stores", t0, stores_us);
        t0 = now_us();
        struct lines l;
        struct sb o = {0};
        if (lines_read(&l, cur) < 0)
            goto failed;
        emit(&o, &l);
        lines_free(&l);
        for (int i = 0; i < nbg; i++) {
            if (lines_read(&l, bgout[i]) < 0)
                goto failed;
            drop(&o, bgkind[i], NULL, &l);
            lines_free(&l);
        }
        nbg = 0;
        bool ok = step_text("stored", &o, t0);
        free(o.s);
        if (!ok)
            return 1;
    }
    /* the day's charts that the drawer's thread has not drawn yet (when
     * no model looked at them): written down before the day file that
     * names them, so that a crash loses none (fa_gnuplot_later_recover
     * draws them when fa-days starts again); the thread goes on drawing
     * them while the next day runs */
    {
        long long t0 = now_us();
        int crc = fa_gnuplot_later_persist(PENDING);
        lap("pending-charts", t0);
        if (crc < 0) {
            fprintf(stderr, "fa-days: %s\n", fa_err_get());
            return 1;
        }
    }
    long long t_save = now_us();
    if (fsync_path(cur) < 0) {
        fprintf(stderr, "fa-days: cannot sync '%s/%s'\n", o_out, cur);
        return 1;
    }
    if (fa_file_check_target(final) < 0) {
        fprintf(stderr, "fa-days: %s\n", fa_err_get());
        return 2;
    }
    snprintf(f, sizeof f, "%s", cur);
    if (rename(f, final) < 0) {
        fprintf(stderr, "fa-days: cannot rename '%s' to '%s': %s\n", f, final, strerror(errno));
        return 1;
    }
    fsync_path("days");
    reuse_ok = rename(w, REUSE) == 0;
    if (!reuse_ok)
        rm_work();
    lap("save", t_save);
    lap("total", t_day);
    {
        char tl[8192];
        char sym[256];
        size_t k = 0;
        for (const char *s = o_symbol; *s && k < sizeof sym - 1; s++)
            if (*s != '"' && *s != '\\')
                sym[k++] = *s;
        sym[k] = 0;
        int n = snprintf(tl, sizeof tl,
                         "{\"kind\":\"timing\",\"symbol\":\"%s\",\"date\":\"%s\",\"ms\":{%s}}\n",
                         sym, date, timing.s ? timing.s : "");
        if (n > 0 && (size_t)n < sizeof tl)
            put_file("timing.ndjson", tl, (size_t)n, O_APPEND);
    }
    return 0;

failed:
    fa_gnuplot_later_wait();
    if (job_live(&prep))
        job_wait(&prep);
    prep = (struct job){0};
    for (int i = 0; i < nbg; i++)
        if (job_live(&bg[i]))
            job_wait(&bg[i]);
    nbg = 0;
    return 1;
}

/* ---- fa-run's loop: the journal and the progress line -------------------- */

/* A number as jq prints it: the shortest decimal that reads back the
 * same, in plain notation (jq writes 10000, not 1e+04). */
static void jq_num(char *b, size_t n, double x)
{
    char e[64];
    int p, ex;

    if (x == 0 || !isfinite(x)) {
        snprintf(b, n, "0");
        return;
    }
    for (p = 1; p < 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, x);
        if (strtod(e, NULL) == x)
            break;
    }
    ex = atoi(strchr(e, 'e') + 1);
    if (ex < -5 || ex >= 17) {
        snprintf(b, n, "%s", e);
        return;
    }
    snprintf(b, n, "%.*f", p - 1 - ex > 0 ? p - 1 - ex : 0, x);
}

static long n_calls;
static double usd;

/* The day file's llm records into the cost so far; its last decision's
 * action and last account's value (of the day). */
static void day_summary(const char *d, const struct lines *l, char *action, size_t an, char *value,
                        size_t vn)
{
    snprintf(action, an, "?");
    value[0] = 0;
    for (size_t i = 0; i < l->n; i++) {
        const char *s = l->v[i];
        bool llm = starts(s, l->len[i], "{\"kind\":\"llm\"", 13);
        bool dec = starts(s, l->len[i], "{\"kind\":\"decision\"", 18);
        bool acc = starts(s, l->len[i], "{\"kind\":\"account\"", 17);
        if (!llm && !dec && !acc)
            continue;
        struct json_object *r = json_tokener_parse(s), *x;
        if (!r)
            continue;
        if (llm) {
            n_calls++;
            if ((json_object_object_get_ex(r, "cost_usd", &x) && x) ||
                (json_object_object_get_ex(r, "cost", &x) && x))
                usd += json_object_get_double(x);
        } else if (json_object_object_get_ex(r, "date", &x) &&
                   strcmp(json_object_get_string(x), d) == 0) {
            if (dec) {
                snprintf(action, an, "?");
                if (json_object_object_get_ex(r, "action", &x) && x)
                    snprintf(action, an, "%s", json_object_get_string(x));
            } else {
                value[0] = 0;
                if (json_object_object_get_ex(r, "value", &x) && x) {
                    double v = round(json_object_get_double(x) * 100) / 100;
                    jq_num(value, vn, v);
                }
            }
        }
        json_object_put(r);
    }
}

static void pace(char *b, size_t n, double dt, long ran, long left)
{
    if (dt <= 0)
        dt = 1e-6;
    double r = (double)ran / dt, s = (double)left / r;
    char t[64];
    if (s >= 3600)
        snprintf(t, sizeof t, "%dh%02dm", (int)(s / 3600), (int)(fmod(s, 3600) / 60));
    else if (s >= 60)
        snprintf(t, sizeof t, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(t, sizeof t, "%ds", (int)s);
    snprintf(b, n, "%.2f days/s, %s left", r, t);
}

int main(int argc, char **argv)
{
    enum {
        O_SINCE = 256,
        O_START,
        O_PRICES,
        O_HEND,
        O_PREF,
        O_WITHOUT,
        O_CONV,
        O_LOOK,
        O_TOPI,
        O_TOPR,
        O_ASSET,
        O_PARAMS,
        O_NOCHARTS,
        O_WARMUP,
        O_TESTFROM,
        O_RUN,
        O_PROGRESS,
        O_STRICT,
        O_SOURCE
    };
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"symbol", required_argument, NULL, 's'},
        {"source", required_argument, NULL, O_SOURCE},
        {"since", required_argument, NULL, O_SINCE},
        {"run-start", required_argument, NULL, O_START},
        {"prices", required_argument, NULL, O_PRICES},
        {"hindsight-end", required_argument, NULL, O_HEND},
        {"preference", required_argument, NULL, O_PREF},
        {"without", required_argument, NULL, O_WITHOUT},
        {"convention", required_argument, NULL, O_CONV},
        {"lookback", required_argument, NULL, O_LOOK},
        {"top-intel", required_argument, NULL, O_TOPI},
        {"top-reflect", required_argument, NULL, O_TOPR},
        {"asset-type", required_argument, NULL, O_ASSET},
        {"params", required_argument, NULL, O_PARAMS},
        {"no-charts", no_argument, NULL, O_NOCHARTS},
        {"warmup", required_argument, NULL, O_WARMUP},
        {"test-from", required_argument, NULL, O_TESTFROM},
        {"run", no_argument, NULL, O_RUN},
        {"progress", no_argument, NULL, O_PROGRESS},
        {"strict", no_argument, NULL, O_STRICT},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    char *wcopy;

    /* Called under a stock stage's name (spawn, above): that stage. */
    {
        const char *base = strrchr(argv[0], '/');
        base = base ? base + 1 : argv[0];
        for (size_t k = 0; k < NSTOCK; k++)
            if (strcmp(base, stock[k].prog) == 0)
                return stock[k].main(argc, argv);
    }
    fa_err_init(argv[0]);
    /* fa-days' own statics must lie outside the region it puts back (a
     * build whose paths fooled the link's pattern would reset them) */
    if ((uintptr_t)&o_charts >= (uintptr_t)fa_stage_data_start &&
        (uintptr_t)&o_charts < (uintptr_t)fa_stage_data_end)
        fa_die(1, "built wrongly: its own statics are among the stages' (cmd/fa-days.ld)");
    if (stage_data_size() == 0) /* the stages have statics: none found */
        fa_die(1, "built wrongly: no stage statics gathered (cmd/fa-days.ld)");
    /* the stages' statics as they are before any stage has run */
    if (!(stage_data0 = malloc(stage_data_size() + 1)))
        fa_die(FA_EXIT_FAIL, "out of memory");
    stage_data_copy(stage_data0, fa_stage_data_start);
    while ((c = getopt_long(argc, argv, "o:s:qvhV", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o_out = optarg;
            break;
        case 's':
            o_symbol = optarg;
            break;
        case O_SOURCE:
            o_source = optarg;
            break;
        case O_SINCE:
            o_since = optarg;
            break;
        case O_START:
            o_start = optarg;
            break;
        case O_PRICES:
            o_prices = optarg;
            break;
        case O_HEND:
            o_hend = optarg;
            break;
        case O_PREF:
            o_pref = optarg;
            break;
        case O_WITHOUT:
            wcopy = strdup(optarg);
            for (char *save = NULL, *t = strtok_r(wcopy, ",", &save); t;
                 t = strtok_r(NULL, ",", &save)) {
                int k = -1;
                for (int i = 0; i < 4; i++)
                    if (strcmp(t, wnames[i]) == 0)
                        k = i;
                if (k < 0)
                    fa_cli_usage_error("--without: unknown stage '%s' (intel, low, high, tools)",
                                       t);
                without[k] = true;
            }
            free(wcopy);
            break;
        case O_CONV:
            o_conv = optarg;
            break;
        case O_LOOK:
            snprintf(o_lookback, sizeof o_lookback, "%s", optarg);
            if (!is_count(optarg, false))
                fa_cli_usage_error("--lookback: want a count, got '%s'", optarg);
            break;
        case O_TOPI:
            snprintf(o_topi, sizeof o_topi, "%s", optarg);
            if (!is_count(optarg, true))
                fa_cli_usage_error("--top-intel: want a count of at least 1, got '%s'", optarg);
            break;
        case O_TOPR:
            snprintf(o_topr, sizeof o_topr, "%s", optarg);
            if (!is_count(optarg, true))
                fa_cli_usage_error("--top-reflect: want a count of at least 1, got '%s'", optarg);
            break;
        case O_ASSET:
            o_asset = optarg;
            break;
        case O_PARAMS:
            o_params = optarg;
            break;
        case O_NOCHARTS:
            o_charts = false;
            break;
        case O_WARMUP: {
            char *cpy = strdup(optarg), *colon = strchr(cpy, ':');
            if (!colon)
                fa_cli_usage_error("--warmup: want FROM:TO, got '%s'", optarg);
            *colon = 0;
            o_w0 = cpy;
            o_w1 = colon + 1;
            if (!is_date(o_w0) || !is_date(o_w1))
                fa_cli_usage_error("--warmup: want FROM:TO, got '%s'", optarg);
            break;
        }
        case O_TESTFROM:
            o_t0 = optarg;
            break;
        case O_RUN:
            o_run = true;
            break;
        case O_PROGRESS:
            o_progress = true;
            break;
        case O_STRICT:
            break;
        case 'q':
            o_verbose = 0;
            break;
        case 'v':
            o_verbose = 2;
            break;
        case 'h':
            usage();
            return 0;
        case 'V':
            puts("fa-days 0.1.0");
            return 0;
        default:
            fa_cli_try_help();
        }
    }
    if (!o_out)
        fa_cli_usage_error("--out RUN is required");
    if (!o_symbol || !*o_symbol)
        fa_cli_usage_error("--symbol is required");
    if (!o_source || !*o_source)
        fa_cli_usage_error("--source is required");
    if (optind >= argc)
        fa_cli_usage_error("no DATE to run");
    for (int i = optind; i < argc; i++)
        if (!is_date(argv[i]))
            fa_cli_usage_error("want YYYY-MM-DD, got '%s'", argv[i]);
    if ((o_since && !is_date(o_since)) || (o_start && !is_date(o_start)) ||
        (o_hend && !is_date(o_hend)) || (o_t0 && !is_date(o_t0)))
        fa_cli_usage_error("--since, --run-start, --hindsight-end, --test-from: want YYYY-MM-DD");
    if (strcmp(o_conv, "realistic") && strcmp(o_conv, "finagent"))
        fa_cli_usage_error("--convention: want realistic or finagent, got '%s'", o_conv);
    if (o_asset && strcmp(o_asset, "stock") && strcmp(o_asset, "crypto"))
        fa_cli_usage_error("--asset-type: want stock or crypto, got '%s'", o_asset);
    if (o_asset)
        setenv("FA_ASSET_TYPE", o_asset, 1);
    {
        const char *e = getenv("FA_EXEC_PATH");
        if (e && *e)
            exec_path = strdup(e);
        char *me = realpath("/proc/self/exe", NULL), *sl = me ? strrchr(me, '/') : NULL;
        self_exe = me ? strdup(me) : NULL;
        enum fa_cache_mode cm = FA_CACHE_RW;
        bg_inline = fa_embedder_is_local(NULL) ||
                    (fa_cache_mode_parse(fa_cli_conf(NULL, "FA_CACHE", "rw"), &cm) == 0 &&
                     cm == FA_CACHE_REPLAY);
        if (sl) {
            *sl = 0;
            self_dir = me;
        }
    }

    /* Paths given relative to where we were called: absolute, for inside RUN. */
    char *abs_out = realpath(o_out, NULL);
    if (!abs_out) {
        if (fa_file_mkdirs(o_out, 0755) < 0)
            fa_die(1, "cannot create run directory '%s': %s", o_out, fa_err_get());
        abs_out = realpath(o_out, NULL);
    }
    if (!abs_out)
        fa_die(1, "cannot create run directory '%s'", o_out);
    if (!strncmp(o_source, "csv:", 4) || !strncmp(o_source, "ndjson:", 7)) {
        const char *colon = strchr(o_source, ':');
        char *s;
        if (asprintf(&s, "%.*s:%s", (int)(colon - o_source), o_source, absolute(colon + 1)) < 0)
            fa_die(1, "out of memory");
        o_source = s;
    }
    if (o_params)
        o_params = absolute(o_params);
    if (o_prices)
        o_prices = absolute(o_prices);
    o_out = abs_out;
    if (chdir(o_out) < 0)
        fa_die(1, "cannot enter '%s'", o_out);
    signal(SIGPIPE, SIG_IGN);
    /* charts no model looks at are drawn by a thread of their own while
     * the day goes on (fa_gnuplot_write_later) */
    if (o_charts && fa_gnuplot_later_start() < 0)
        fa_die(1, "%s", fa_err_get());
    /* a run that ended before it drew its charts: draw them first */
    if (fa_gnuplot_later_recover(PENDING) < 0)
        fa_die(1, "%s", fa_err_get());
    if (past_load(o_run) < 0)
        fa_die(1, "cannot read the days of '%s'", o_out);

    long total = argc - optind, ran = 0, ndone = 0, i = 0;
    long long t_start = now_us();
    if (o_run) {
        for (int k = optind; k < argc; k++) {
            char p[64];
            snprintf(p, sizeof p, "days/%s.ndjson", argv[k]);
            if (access(p, F_OK) == 0)
                ndone++;
        }
    }
    for (int k = optind; k < argc; k++) {
        char p[64];
        const char *phase = "test";
        i++;
        date = argv[k];
        snprintf(p, sizeof p, "days/%s.ndjson", date);
        if (access(p, F_OK) == 0)
            continue;
        since = o_since;
        hend = o_hend;
        start = o_start;
        if (o_w0 && strcmp(date, o_w1) <= 0) {
            phase = "warmup";
            since = o_w0;
            hend = o_w1;
        } else if (o_t0) {
            since = o_t0;
            hend = o_hend;
        }
        if (!since)
            since = date;
        if (!start)
            start = since;
        if (strcmp(since, date) > 0)
            fa_cli_usage_error("--since %s is after --date %s", since, date);
        int rc = run_day();
        if (rc == 3)
            continue;
        if (rc != 0) {
            rm_dir(REUSE, NULL);
            fa_gnuplot_later_stop(); /* (the days saved before: their charts) */
            return rc;
        }
        /* the day's file, read once: the pass's past and the progress line */
        struct lines l;
        if (lines_read(&l, p) < 0)
            fa_die(1, "cannot read the day just written: %s", fa_err_get());
        past_add(date, &l);
        ran++;
        if (!o_run) {
            lines_free(&l);
            continue;
        }
        const char *jargv[] = {"fa-journal", "-q", "append", ".", NULL};
        if (run_prog(jargv, "/dev/null", "/dev/null") != 0) {
            fprintf(stderr, "fa-run: cannot journal day %s; rerun the same command to resume\n",
                    date);
            lines_free(&l);
            rm_dir(REUSE, NULL);
            fa_gnuplot_later_stop();
            return 1;
        }
        char action[64], value[64], u[64], pc[128];
        day_summary(date, &l, action, sizeof action, value, sizeof value);
        lines_free(&l);
        if (o_progress) {
            jq_num(u, sizeof u, round(usd * 10000) / 10000);
            pace(pc, sizeof pc, (double)(now_us() - t_start) / 1e6, ran, total - ndone - ran);
            fprintf(stderr, "fa-run: %s %s %ld/%ld %s%s%s cost $%s (%ld calls), %s\n", date, phase,
                    i, total, action, value[0] ? " value " : "", value, u, n_calls, pc);
        }
        if (o_progress && o_verbose == 2) {
            /* the day's timing record: "stage ms, ..." */
            struct sb t = {0};
            for (const char *s = timing.s; s && *s; s++) {
                if (*s == '"')
                    continue;
                if (*s == ':')
                    sb_add(&t, " ", 1);
                else if (*s == ',')
                    sb_add(&t, ", ", 2);
                else
                    sb_add(&t, s, 1);
            }
            fprintf(stderr, "fa-run: %s timing (ms): %s\n", date, t.s ? t.s : "");
            free(t.s);
        }
    }
    rm_dir(REUSE, NULL);
    if (fa_gnuplot_later_stop() < 0) {
        fprintf(stderr, "fa-days: %s (the same command draws it again)\n", fa_err_get());
        return 1;
    }
    rmdir(PENDING); /* (empty once every chart is drawn) */
    return 0;
}
