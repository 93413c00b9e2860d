/* fa_ledger.c: model prices and the run's spending ledger (flock'd appends)
 * that makes FA_BUDGET_USD a hard limit across processes. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "fa_ledger.h"
#include "fa_err.h"
#include "fa_file.h"
#include "fa_banned.h"

struct price {
    char *model; /* without a trailing '*' */
    int prefix;  /* pattern ended in '*' */
    double in, out;
};

struct fa_ledger {
    struct price *prices;
    size_t nprices;
    char *path;
    double budget;
};

static int parse_num(const char *s, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    return !(end == s || *end || errno || !isfinite(*out) || *out < 0);
}

static int load_prices(struct fa_ledger *l, const char *path)
{
    const char *text;
    size_t tlen;
    FILE *f;
    char *line = NULL;
    size_t cap = 0;
    unsigned long ln = 0;
    ssize_t n;

    /* (read once per process: every model client of fa-days opens it) */
    if (fa_file_read_memo(path, (size_t)1 << 20, &text, &tlen) < 0) {
        fa_err_sys("price table '%s'", path);
        return -1;
    }
    if (tlen == 0) /* (fmemopen wants a buffer) */
        return 0;
    if (!(f = fmemopen((void *)(uintptr_t)text, tlen, "r"))) {
        fa_err_sys("price table '%s'", path);
        return -1;
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        char *hash, *save = NULL, *m, *a, *b, *extra;
        struct price *p;

        ln++;
        if ((hash = strchr(line, '#')))
            *hash = 0;
        m = strtok_r(line, " \t\r\n", &save);
        if (!m)
            continue;
        a = strtok_r(NULL, " \t\r\n", &save);
        b = strtok_r(NULL, " \t\r\n", &save);
        extra = strtok_r(NULL, " \t\r\n", &save);
        p = realloc(l->prices, (l->nprices + 1) * sizeof *p);
        if (!p)
            abort();
        l->prices = p;
        p = &l->prices[l->nprices];
        if (!a || !b || extra || !parse_num(a, &p->in) || !parse_num(b, &p->out)) {
            fa_err_set("%s:%lu: want 'model<TAB>USD per 1M input tokens<TAB>USD per 1M "
                       "output tokens'",
                       path, ln);
            free(line);
            fclose(f);
            return -1;
        }
        p->prefix = m[strlen(m) - 1] == '*';
        if (p->prefix)
            m[strlen(m) - 1] = 0;
        if (!(p->model = strdup(m)))
            abort();
        l->nprices++;
    }
    free(line);
    if (ferror(f)) {
        fa_err_sys("read '%s'", path);
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

struct fa_ledger *fa_ledger_open(const char *prices_path, const char *path, double budget_usd)
{
    struct fa_ledger *l = calloc(1, sizeof *l);

    if (!l)
        abort();
    l->budget = budget_usd;
    if (prices_path && load_prices(l, prices_path) < 0) {
        fa_ledger_close(l);
        return NULL;
    }
    if (path && !(l->path = strdup(path)))
        abort();
    return l;
}

void fa_ledger_close(struct fa_ledger *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nprices; i++)
        free(l->prices[i].model);
    free(l->prices);
    free(l->path);
    free(l);
}

double fa_ledger_budget(const struct fa_ledger *l)
{
    return l->budget;
}

double fa_ledger_cost(const struct fa_ledger *l, const char *model, long prompt_tokens,
                      long completion_tokens, bool *known)
{
    const struct price *best = NULL;
    size_t bestlen = 0;

    for (size_t i = 0; model && i < l->nprices; i++) {
        const struct price *p = &l->prices[i];
        size_t ml = strlen(p->model);
        if (!p->prefix && strcmp(p->model, model) == 0) {
            best = p;
            break;
        }
        if (p->prefix && strncmp(p->model, model, ml) == 0 && (!best || ml > bestlen))
            best = p, bestlen = ml;
    }
    if (known)
        *known = best != NULL;
    if (!best)
        return 0;
    return ((double)prompt_tokens * best->in + (double)completion_tokens * best->out) / 1e6;
}

/* Opens the ledger file locked; cuts a torn tail. Returns the fd or -1. */
static int lock_open(const struct fa_ledger *l)
{
    int fd = open(l->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    struct stat st;

    if (fd < 0) {
        fa_err_sys("ledger '%s'", l->path);
        return -1;
    }
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            fa_err_sys("ledger '%s': lock", l->path);
            close(fd);
            return -1;
        }
    }
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        char c;
        if (pread(fd, &c, 1, st.st_size - 1) == 1 && c != '\n') {
            /* torn tail: cut back to the last newline */
            off_t pos = st.st_size - 1;
            while (pos > 0 && pread(fd, &c, 1, pos - 1) == 1 && c != '\n')
                pos--;
            if (ftruncate(fd, pos) < 0) {
                fa_err_sys("ledger '%s': truncate", l->path);
                close(fd);
                return -1;
            }
        }
    }
    return fd;
}

/* Sum of the ledger (fd locked). Also the largest ticket seen. */
static int sum_file(const struct fa_ledger *l, int fd, double *spent)
{
    FILE *f;
    char *line = NULL;
    size_t cap = 0;
    int dfd = dup(fd);
    struct res {
        char ticket[40];
        double est;
        int closed;
    } *rs = NULL;
    size_t nrs = 0;
    double closed_sum = 0;

    *spent = 0;
    if (dfd < 0 || !(f = fdopen(dfd, "r"))) {
        fa_err_sys("ledger '%s'", l->path);
        if (dfd >= 0)
            close(dfd);
        return -1;
    }
    rewind(f);
    while (getline(&line, &cap, f) >= 0) {
        char *save = NULL, *t = strtok_r(line, "\t\n", &save);
        char *id = strtok_r(NULL, "\t\n", &save), *v = strtok_r(NULL, "\t\n", &save);
        double x;

        if (!t || !id || !v || !parse_num(v, &x) || strlen(id) >= 40)
            continue;
        if (strcmp(t, "R") == 0) {
            struct res *nr = realloc(rs, (nrs + 1) * sizeof *rs);
            if (!nr)
                abort();
            rs = nr;
            memcpy(rs[nrs].ticket, id, strlen(id) + 1);
            rs[nrs].est = x;
            rs[nrs].closed = 0;
            nrs++;
        } else if (strcmp(t, "C") == 0) {
            closed_sum += x;
            for (size_t i = nrs; i-- > 0;)
                if (strcmp(rs[i].ticket, id) == 0) {
                    rs[i].closed = 1;
                    break;
                }
        }
    }
    free(line);
    fclose(f);
    *spent = closed_sum;
    for (size_t i = 0; i < nrs; i++)
        if (!rs[i].closed)
            *spent += rs[i].est;
    free(rs);
    return 0;
}

static int append(const struct fa_ledger *l, int fd, const char *text)
{
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);

    if (w != (ssize_t)n) {
        fa_err_sys("ledger '%s': write", l->path);
        return -1;
    }
    if (fsync(fd) < 0) {
        fa_err_sys("ledger '%s': fsync", l->path);
        return -1;
    }
    return 0;
}

int fa_ledger_spent(struct fa_ledger *l, double *usd)
{
    int fd, rc;

    *usd = 0;
    if (!l->path)
        return 0;
    if ((fd = lock_open(l)) < 0)
        return -1;
    rc = sum_file(l, fd, usd);
    close(fd);
    return rc;
}

int fa_ledger_reserve(struct fa_ledger *l, double estimate_usd, uint64_t *ticket)
{
    double spent;
    char buf[128];
    int fd;

    *ticket = 0;
    if (!l->path)
        return 0;
    if ((fd = lock_open(l)) < 0)
        return -1;
    if (sum_file(l, fd, &spent) < 0) {
        close(fd);
        return -1;
    }
    if (l->budget >= 0 && spent + estimate_usd > l->budget) {
        fa_err_set("budget: this call (up to $%.4f) would exceed FA_BUDGET_USD=%g ($%.4f spent "
                   "in ledger '%s'); not made",
                   estimate_usd, l->budget, spent, l->path);
        close(fd);
        return -1;
    }
    do
        randombytes_buf(ticket, sizeof *ticket);
    while (*ticket == 0);
    snprintf(buf, sizeof buf, "R\t%016llx\t%.9g\n", (unsigned long long)*ticket, estimate_usd);
    if (append(l, fd, buf) < 0) {
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int fa_ledger_settle(struct fa_ledger *l, uint64_t ticket, double cost_usd, const char *stage,
                     const char *model, long prompt_tokens, long completion_tokens,
                     const char *hash)
{
    char *buf;
    int fd, rc;

    if (!l->path || ticket == 0)
        return 0;
    if ((fd = lock_open(l)) < 0)
        return -1;
    if (asprintf(&buf, "C\t%016llx\t%.9g\t%s\t%s\t%ld\t%ld\t%s\n", (unsigned long long)ticket,
                 cost_usd, stage ? stage : "-", model ? model : "-", prompt_tokens,
                 completion_tokens, hash ? hash : "-") < 0)
        abort();
    rc = append(l, fd, buf);
    free(buf);
    close(fd);
    return rc;
}
