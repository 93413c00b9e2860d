/* fa_gnuplot.c: run gnuplot as a child process and capture its image.
 *
 * The script goes to gnuplot's stdin through a pipe; its stdout and
 * stderr go to unlinked temporary files, so the child can never block on
 * us and we never block on it (apart from a timeout that kills a script
 * that waits forever, such as "pause -1").
 *
 * A chart session (FA_GNUPLOT_SESSION, see fa_gnuplot.h) saves the start
 * of a gnuplot per chart, most of a chart's cost: the script goes to a
 * gnuplot that is already running, after "reset", which gives the same
 * bytes as a fresh process for fa's charts: "reset" puts every setting
 * back but keeps user variables, functions, datablocks and line types,
 * and fa's scripts define no variable, function or line type and redefine
 * the datablocks they plot ("reset session", which also clears those,
 * costs a quarter of a small chart's time). Anything unexpected on that
 * path (no session, a script error that ends the session's gnuplot, a
 * timeout) falls back to a process of our own, which then also gives
 * gnuplot's own error message. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fa_cache.h"
#include "fa_err.h"
#include "fa_file.h"
#include "fa_gnuplot.h"
#include "fa_str.h"
#include "fa_banned.h"

#define GP_TIMEOUT_MS 60000

static char gp_path[PATH_MAX];

static int is_exec(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* The last answer and what it was found from (FA_GNUPLOT and PATH): a
 * process that draws many charts (fa-days) searches once. */
static char *gp_from_name, *gp_from_path;

static bool same_env(const char *saved, const char *now)
{
    return saved && now && strcmp(saved, now) == 0;
}

static const char *find_gnuplot(void);

static pthread_mutex_t gp_lock = PTHREAD_MUTEX_INITIALIZER;

const char *fa_gnuplot_path(void)
{
    const char *name = getenv("FA_GNUPLOT"), *path = getenv("PATH"), *r;

    pthread_mutex_lock(&gp_lock);
    if (gp_path[0] && same_env(gp_from_name, name ? name : "") &&
        same_env(gp_from_path, path ? path : "")) {
        pthread_mutex_unlock(&gp_lock);
        return gp_path;
    }
    free(gp_from_name);
    free(gp_from_path);
    gp_from_name = gp_from_path = NULL;
    r = find_gnuplot();
    if (r) {
        gp_from_name = fa_str_nn(strdup(name ? name : ""));
        gp_from_path = fa_str_nn(strdup(path ? path : ""));
    } else {
        gp_path[0] = 0;
    }
    pthread_mutex_unlock(&gp_lock);
    return r;
}

static const char *find_gnuplot(void)
{
    const char *name = getenv("FA_GNUPLOT"), *path, *p, *colon;
    size_t n;

    if (!name || !*name)
        name = "gnuplot";
    if (strchr(name, '/')) {
        if (is_exec(name) && strlen(name) < sizeof gp_path) {
            memcpy(gp_path, name, strlen(name) + 1);
            return gp_path;
        }
        fa_err_set("gnuplot '%s' (FA_GNUPLOT) is not an executable file", name);
        return NULL;
    }
    path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (p = path; p; p = colon ? colon + 1 : NULL) {
        colon = strchr(p, ':');
        n = colon ? (size_t)(colon - p) : strlen(p);
        if (n == 0)
            continue;
        if (snprintf(gp_path, sizeof gp_path, "%.*s/%s", (int)n, p, name) >= (int)sizeof gp_path)
            continue;
        if (is_exec(gp_path))
            return gp_path;
    }
    fa_err_set("gnuplot '%s' not found on PATH (install it, e.g. 'apt-get install gnuplot-nox', "
               "or set FA_GNUPLOT)",
               name);
    return NULL;
}

enum fa_gnuplot_format fa_gnuplot_format_of(const char *path)
{
    size_t n = path ? strlen(path) : 0;

    if (n >= 4 && strcmp(path + n - 4, ".svg") == 0)
        return FA_GNUPLOT_SVG;
    return FA_GNUPLOT_PNG;
}

/* An unlinked temporary file in TMPDIR, open for reading and writing. */
static int tmp_fd(void)
{
    const char *dir = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    int fd;

    if (!dir || !*dir)
        dir = "/tmp";
    if (snprintf(tmpl, sizeof tmpl, "%s/fa-gnuplot.XXXXXX", dir) >= (int)sizeof tmpl) {
        fa_err_set("temporary directory name too long '%s'", dir);
        return -1;
    }
    fd = mkstemp(tmpl);
    if (fd < 0) {
        fa_err_sys("cannot create temporary file '%s'", tmpl);
        return -1;
    }
    unlink(tmpl);
    return fd;
}

/* Reads the whole of fd from offset 0 into a malloc'd buffer (NUL-terminated). */
static int slurp_fd(int fd, unsigned char **out, size_t *len)
{
    struct stat st;
    unsigned char *buf;
    size_t got = 0;
    ssize_t r;

    if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        fa_err_sys("cannot read gnuplot output");
        return -1;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        fa_err_set("out of memory reading gnuplot output");
        return -1;
    }
    while (got < (size_t)st.st_size) {
        r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            fa_err_sys("cannot read gnuplot output");
            return -1;
        }
        got += (size_t)r;
    }
    buf[got] = 0;
    *out = buf;
    *len = got;
    return 0;
}

/* gnuplot's complaint, folded to one line for a message. */
static void gp_errmsg(const char *err, char *msg, size_t cap)
{
    size_t j = 0;
    const char *s = err;

    while (*s == '\n' || *s == ' ')
        s++;
    for (; *s && j + 1 < cap; s++) {
        if (*s == '\n') {
            while (s[1] == '\n' || s[1] == ' ')
                s++;
            if (!s[1])
                break;
            if (j + 2 >= cap)
                break;
            msg[j++] = ';';
            msg[j++] = ' ';
        } else if ((unsigned char)*s >= ' ') {
            msg[j++] = *s;
        }
    }
    msg[j] = 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    ssize_t w;

    while (n) {
        w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Runs gnuplot on the full text (terminal line included). Returns 0 with
 * the image, -1 with fa_err, FA_GNUPLOT_MISSING. *gperr receives the
 * stderr text (caller frees) when not NULL. */
static int gp_run(const char *exe, const char *full, unsigned char **out, size_t *len, char **gperr)
{
    int pfd[2] = {-1, -1}, ofd = -1, efd = -1, status = 0, rc = -1, waited = 0;
    pid_t pid;
    unsigned char *ebuf = NULL;
    size_t elen = 0;
    struct timespec ts = {0, 2 * 1000 * 1000}; /* a chart takes tens of ms: poll finely */

    *gperr = NULL;
    if ((ofd = tmp_fd()) < 0 || (efd = tmp_fd()) < 0)
        goto out;
    if (pipe(pfd) < 0) {
        fa_err_sys("cannot create pipe for gnuplot");
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        fa_err_sys("cannot start gnuplot");
        goto out;
    }
    if (pid == 0) {
        dup2(pfd[0], 0);
        dup2(ofd, 1);
        dup2(efd, 2);
        close(pfd[0]);
        close(pfd[1]);
        close(ofd);
        close(efd);
        setenv("LC_ALL", "C.UTF-8", 1);
        /* gnuplot needs no secret: do not hand it the API keys. */
        unsetenv("FA_API_KEY");
        unsetenv("OPENAI_API_KEY");
        unsetenv("FMP_API_KEY");
        unsetenv("ALPHAVANTAGE_API_KEY");
        execl(exe, exe, "-d", (char *)NULL);
        _exit(127);
    }
    close(pfd[0]);
    pfd[0] = -1;
    /* gnuplot may stop reading early (a syntax error ends it): EPIPE is
     * then expected and its stderr says why. */
    (void)write_all(pfd[1], full, strlen(full));
    close(pfd[1]);
    pfd[1] = -1;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            fa_err_sys("cannot wait for gnuplot");
            goto out;
        }
        if (waited >= GP_TIMEOUT_MS) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fa_err_set("gnuplot did not finish within %d s", GP_TIMEOUT_MS / 1000);
            goto out;
        }
        nanosleep(&ts, NULL);
        waited += 2;
    }
    if (slurp_fd(efd, &ebuf, &elen) < 0)
        goto out;
    *gperr = (char *)ebuf;
    ebuf = NULL;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        fa_err_set("cannot run gnuplot '%s'", exe);
        rc = FA_GNUPLOT_MISSING;
        goto out;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char msg[400];
        gp_errmsg(*gperr, msg, sizeof msg);
        fa_err_set("gnuplot failed: %s", *msg ? msg : "no message");
        goto out;
    }
    if (slurp_fd(ofd, out, len) < 0)
        goto out;
    if (*len == 0) {
        free(*out);
        *out = NULL;
        fa_err_set("gnuplot produced no image");
        goto out;
    }
    rc = 0;
out:
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    if (ofd >= 0)
        close(ofd);
    if (efd >= 0)
        close(efd);
    return rc;
}

/* The session's gnuplot process id (DIR/pid), or 0. */
static pid_t session_pid(const char *dir)
{
    char path[PATH_MAX], buf[32];
    long v;
    ssize_t n;
    int fd;

    if (snprintf(path, sizeof path, "%s/pid", dir) >= (int)sizeof path ||
        (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    v = strtol(buf, NULL, 10);
    return v > 1 && v < INT_MAX ? (pid_t)v : 0;
}

/* Renders full (terminal line included, no "set output") through the
 * session in dir. Returns 0 with the image, or -1 (no message: the
 * caller falls back to a process of its own). */
static int session_run(const char *dir, const char *full, unsigned char **out, size_t *len)
{
    char lock[PATH_MAX], in[PATH_MAX], reply[PATH_MAX], img[PATH_MAX], buf[16];
    int lfd = -1, ifd = -1, rfd = -1, ofd = -1, rc = -1, waited = 0;
    char *tail = NULL;
    size_t tlen = 0, got = 0;
    pid_t pid = session_pid(dir), me = getpid();
    FILE *f;

    if (pid == 0 || dir[0] != '/' || strpbrk(dir, "'\n") ||
        snprintf(lock, sizeof lock, "%s/lock", dir) >= (int)sizeof lock ||
        snprintf(in, sizeof in, "%s/in", dir) >= (int)sizeof in ||
        snprintf(reply, sizeof reply, "%s/reply.%ld", dir, (long)me) >= (int)sizeof reply ||
        snprintf(img, sizeof img, "%s/image.%ld", dir, (long)me) >= (int)sizeof img)
        return -1;
    /* One chart at a time: the stages of a day take turns anyway, the
     * lock keeps two runs that share a session apart. */
    if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || flock(lfd, LOCK_EX) < 0)
        goto out;
    if (kill(pid, 0) < 0)
        goto out;
    unlink(reply);
    unlink(img);
    if (mkfifo(reply, 0600) < 0)
        goto out;
    /* Nobody reading (the session ended): ENXIO, and a process of our own. */
    if ((ifd = open(in, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0 || fcntl(ifd, F_SETFL, 0) < 0 ||
        (rfd = open(reply, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
        goto out;
    if (!(f = open_memstream(&tail, &tlen)))
        goto out;
    fprintf(f, "set output '%s'\n", img);
    if (fclose(f) != 0)
        goto out;
    {
        /* A write to a session that just ended must not kill us. */
        sigset_t pipe_set, old;
        int werr;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        werr = write_all(ifd, "reset\n", 6) < 0;
        /* the terminal line first, then the output, then the script */
        {
            const char *nl = strchr(full, '\n');
            size_t k = nl ? (size_t)(nl - full) + 1 : strlen(full);
            werr = werr || write_all(ifd, full, k) < 0 || write_all(ifd, tail, tlen) < 0 ||
                   write_all(ifd, full + k, strlen(full + k)) < 0;
        }
        free(tail);
        tail = NULL;
        if (!(f = open_memstream(&tail, &tlen)))
            werr = 1;
        else {
            fprintf(f, "\nunset output\nset print '%s'\nprint 'fa-done'\nunset print\n", reply);
            werr = fclose(f) != 0 || werr || write_all(ifd, tail, tlen) < 0;
        }
        if (werr) {
            struct timespec zero = {0, 0};
            sigtimedwait(&pipe_set, NULL, &zero); /* a pending SIGPIPE: drop it */
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (werr)
            goto out;
    }
    /* Wait for "fa-done"; a session that dies meanwhile (an error in the
     * script ends a gnuplot reading a pipe) is noticed within 20 ms. */
    while (got < 8) {
        struct pollfd p = {.fd = rfd, .events = POLLIN};
        int pr = poll(&p, 1, 20);
        ssize_t r;
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            goto out;
        if (pr == 0 || !(p.revents & POLLIN)) {
            waited += 20;
            if (kill(pid, 0) < 0 || waited >= GP_TIMEOUT_MS)
                goto out;
            if (p.revents & POLLHUP) /* its writer came and went */
                goto out;
            continue;
        }
        r = read(rfd, buf + got, sizeof buf - 1 - got);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            goto out;
        got += (size_t)r;
    }
    buf[got] = 0;
    if (strncmp(buf, "fa-done\n", 8) != 0)
        goto out;
    if ((ofd = open(img, O_RDONLY | O_CLOEXEC)) < 0 || slurp_fd(ofd, out, len) < 0)
        goto out;
    if (*len == 0) {
        free(*out);
        *out = NULL;
        goto out;
    }
    rc = 0;
out:
    free(tail);
    if (ofd >= 0)
        close(ofd);
    if (rfd >= 0)
        close(rfd);
    if (ifd >= 0)
        close(ifd);
    if (lfd >= 0) {
        unlink(reply);
        unlink(img);
        close(lfd); /* drops the lock */
    }
    return rc;
}

static char *gp_script(const char *term, const char *script)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);

    if (!f)
        return NULL;
    fprintf(f, "%s\nset encoding utf8\n%s\n", term, script);
    if (fclose(f) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* The rendered-chart cache (see fa_gnuplot.h): the file of the chart
 * that full (the whole script, terminal line included) draws with the
 * gnuplot at exe, in *path (malloc'd); -1 when there is none
 * (FA_CHART_CACHE is not 1, FA_CACHE is off, or no cache directory). */
static int chart_cache_path(const char *exe, const char *full, char **path)
{
    const char *mode = getenv("FA_CACHE"), *d = getenv("FA_CACHE_DIR"),
               *on = getenv("FA_CHART_CACHE");
    crypto_generichash_state h;
    unsigned char k[32];
    char hex[65], id[160], *dir;
    struct stat st;
    int n;

    *path = NULL;
    if (!on || strcmp(on, "1") != 0 || (mode && strcmp(mode, "off") == 0) || stat(exe, &st) < 0)
        return -1;
    /* the same script, drawn by the same gnuplot binary: the same bytes */
    n = snprintf(id, sizeof id, "fa-chart-1\n%lld %lld.%09ld\n", (long long)st.st_size,
                 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    crypto_generichash_init(&h, NULL, 0, sizeof k);
    crypto_generichash_update(&h, (const unsigned char *)id, (size_t)n);
    crypto_generichash_update(&h, (const unsigned char *)exe, strlen(exe) + 1);
    crypto_generichash_update(&h, (const unsigned char *)full, strlen(full));
    crypto_generichash_final(&h, k, sizeof k);
    sodium_bin2hex(hex, sizeof hex, k, sizeof k);
    dir = d && *d ? strdup(d) : fa_cache_default_dir();
    if (!dir)
        return -1;
    n = asprintf(path, "%s/charts/%.2s/%s", dir, hex, hex + 2);
    free(dir);
    if (n < 0) {
        *path = NULL;
        return -1;
    }
    return 0;
}

/* A cached chart: 1 with the bytes, 0 when there is none (or it is not
 * an image: then it is drawn again and replaced). */
static int chart_cache_get(const char *path, unsigned char **out, size_t *len)
{
    char *buf;
    size_t n;

    if (fa_file_read(path, 64u << 20, &buf, &n) < 0)
        return 0;
    if ((n > 8 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0) ||
        (n > 5 && (memcmp(buf, "<?xml", 5) == 0 || memcmp(buf, "<svg", 4) == 0))) {
        *out = (unsigned char *)buf;
        *len = n;
        return 1;
    }
    free(buf);
    return 0;
}

/* Keeps a drawn chart (atomically; a cache that cannot be written is no
 * error: the chart was drawn). */
static void chart_cache_put(const char *path, const unsigned char *img, size_t len)
{
    const char *mode = getenv("FA_CACHE");
    char *dir, *sl;

    if (mode && (strcmp(mode, "ro") == 0 || strcmp(mode, "replay") == 0))
        return;
    if (!(dir = strdup(path)))
        return;
    if ((sl = strrchr(dir, '/')))
        *sl = 0;
    /* DIR/charts/ab/ and its parents */
    bool made = !sl || fa_file_mkdirs(dir, 0755) == 0;
    free(dir);
    if (!made)
        return;
    if (fa_file_write_atomic(path, img, len, 0644) < 0) {
        /* the chart stands: the cache only saves drawing it again */
    }
}

int fa_gnuplot_render(const char *script, enum fa_gnuplot_format fmt, int width, int height,
                      unsigned char **out, size_t *len)
{
    const char *exe = fa_gnuplot_path();
    char term[200], *full, *gperr = NULL;
    int rc;

    *out = NULL;
    *len = 0;
    if (!exe)
        return FA_GNUPLOT_MISSING;
    if (width < 16 || height < 16 || width > 10000 || height > 10000) {
        fa_err_set("invalid chart size %dx%d", width, height);
        return -1;
    }
    if (fmt == FA_GNUPLOT_SVG)
        snprintf(
            term, sizeof term,
            "set terminal svg size %d,%d font 'DejaVu Sans,10' noenhanced background '#ffffff'",
            width, height);
    else
        snprintf(term, sizeof term,
                 "set terminal pngcairo size %d,%d font 'DejaVu Sans,9' noenhanced "
                 "background '#ffffff'",
                 width, height);
    if (!(full = gp_script(term, script))) {
        fa_err_set("out of memory building gnuplot script");
        return -1;
    }
    {
        char *cpath = NULL;
        const char *sess = getenv("FA_GNUPLOT_SESSION");
        if (chart_cache_path(exe, full, &cpath) == 0 && chart_cache_get(cpath, out, len)) {
            free(cpath);
            free(full);
            return 0;
        }
        if (sess && *sess && session_run(sess, full, out, len) == 0)
            rc = 0;
        else
            rc = gp_run(exe, full, out, len, &gperr);
        if (rc == 0 && cpath)
            chart_cache_put(cpath, *out, *len);
        free(cpath);
        if (rc == 0) {
            free(full);
            free(gperr);
            return 0;
        }
    }
    free(full);
    /* A gnuplot built without cairo: libgd's png terminal, same
     * determinism, plainer text. */
    if (rc == -1 && fmt == FA_GNUPLOT_PNG && gperr && strstr(gperr, "terminal")) {
        free(gperr);
        gperr = NULL;
        snprintf(term, sizeof term, "set terminal png size %d,%d noenhanced", width, height);
        if (!(full = gp_script(term, script))) {
            fa_err_set("out of memory building gnuplot script");
            return -1;
        }
        rc = gp_run(exe, full, out, len, &gperr);
        free(full);
    }
    free(gperr);
    return rc;
}

int fa_gnuplot_save(const char *path, const void *data, size_t len)
{
    return fa_file_write_atomic(path, data, len, 0644);
}

int fa_gnuplot_write(const char *script, enum fa_gnuplot_format fmt, int width, int height,
                     const char *path)
{
    unsigned char *img;
    size_t len;
    int rc = fa_gnuplot_render(script, fmt, width, height, &img, &len);

    if (rc != 0)
        return rc;
    rc = fa_gnuplot_save(path, img, len);
    free(img);
    return rc;
}

/* ---- charts drawn later, by a thread of their own --------------------- */

struct later {
    struct later *next;
    char *script, *path;
    enum fa_gnuplot_format fmt;
    int width, height;
    unsigned long seq; /* its place in the queue, from 1 */
    char *pending;     /* its file under the pending directory, once written down */
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work, idle;
    struct later *head, **tail, *cur; /* cur: the one being drawn */
    bool on, stop;
    unsigned long seq, done; /* the last job queued, the last one finished */
    char err[1024];          /* the first failure since the last wait */
    pthread_t th;
} dr = {.mu = PTHREAD_MUTEX_INITIALIZER,
        .work = PTHREAD_COND_INITIALIZER,
        .idle = PTHREAD_COND_INITIALIZER};

static void *drawer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&dr.mu);
    for (;;) {
        while (!dr.head && !dr.stop)
            pthread_cond_wait(&dr.work, &dr.mu);
        if (!dr.head)
            break;
        struct later *j = dr.head;
        if (!(dr.head = j->next))
            dr.tail = &dr.head;
        dr.cur = j;
        pthread_mutex_unlock(&dr.mu);
        int rc = fa_gnuplot_write(j->script, j->fmt, j->width, j->height, j->path);
        pthread_mutex_lock(&dr.mu);
        if (rc != 0 && !dr.err[0])
            snprintf(dr.err, sizeof dr.err, "chart '%s': %s", j->path, fa_err_get());
        /* drawn: its note is done with (a failed one's stays, for the next
         * fa_gnuplot_later_recover) */
        if (rc == 0 && j->pending)
            unlink(j->pending);
        dr.done = j->seq;
        dr.cur = NULL;
        if (!dr.head)
            pthread_cond_broadcast(&dr.idle);
        free(j->script);
        free(j->path);
        free(j->pending);
        free(j);
    }
    pthread_mutex_unlock(&dr.mu);
    return NULL;
}

int fa_gnuplot_later_start(void)
{
    int e;

    if (dr.on)
        return 0;
    dr.head = NULL;
    dr.tail = &dr.head;
    dr.stop = false;
    dr.err[0] = 0;
    if ((e = pthread_create(&dr.th, NULL, drawer, NULL)) != 0) {
        fa_err_set("cannot start the chart thread: %s", strerror(e));
        return -1;
    }
    dr.on = true;
    return 0;
}

int fa_gnuplot_later_wait(void)
{
    int rc = 0;

    if (!dr.on)
        return 0;
    pthread_mutex_lock(&dr.mu);
    while (dr.head || dr.cur)
        pthread_cond_wait(&dr.idle, &dr.mu);
    if (dr.err[0]) {
        fa_err_set("%s", dr.err);
        dr.err[0] = 0;
        rc = -1;
    }
    pthread_mutex_unlock(&dr.mu);
    return rc;
}

int fa_gnuplot_later_stop(void)
{
    int rc;

    if (!dr.on)
        return 0;
    rc = fa_gnuplot_later_wait();
    pthread_mutex_lock(&dr.mu);
    dr.stop = true;
    pthread_cond_signal(&dr.work);
    pthread_mutex_unlock(&dr.mu);
    pthread_join(dr.th, NULL);
    dr.on = false;
    return rc;
}

int fa_gnuplot_write_later(const char *script, enum fa_gnuplot_format fmt, int width, int height,
                           const char *path)
{
    struct later *j;

    if (!dr.on)
        return fa_gnuplot_write(script, fmt, width, height, path);
    if (!fa_gnuplot_path())
        return FA_GNUPLOT_MISSING;
    if (fa_file_check_target(path) < 0)
        return -1;
    j = fa_str_nn(calloc(1, sizeof *j));
    j->script = fa_str_nn(strdup(script));
    j->path = fa_str_nn(strdup(path));
    j->fmt = fmt;
    j->width = width;
    j->height = height;
    pthread_mutex_lock(&dr.mu);
    j->seq = ++dr.seq;
    *dr.tail = j;
    dr.tail = &j->next;
    pthread_cond_signal(&dr.work);
    pthread_mutex_unlock(&dr.mu);
    return 0;
}

/* ---- charts not drawn yet, written down ------------------------------- */

/* A note: the first line "# fa-chart FORMAT WIDTH HEIGHT PATH" (a gnuplot
 * comment), then the chart's script. */
#define NOTE_TAG "# fa-chart "

struct note {
    unsigned long seq;
    char *file, *text;
};

/* Adds job j's note to v (n of them), unless it has one; dr.mu held. */
static void note_job(struct later *j, const char *dir, struct note **v, size_t *n)
{
    const char *base = strrchr(j->path, '/');
    struct note *x;

    if (j->pending)
        return;
    *v = fa_str_nn(realloc(*v, (*n + 1) * sizeof **v));
    x = &(*v)[(*n)++];
    x->seq = j->seq;
    if (asprintf(&x->file, "%s/%s.gp", dir, base ? base + 1 : j->path) < 0 ||
        asprintf(&x->text, NOTE_TAG "%s %d %d %s\n%s", j->fmt == FA_GNUPLOT_SVG ? "svg" : "png",
                 j->width, j->height, j->path, j->script) < 0)
        abort();
    j->pending = fa_str_nn(strdup(x->file));
}

int fa_gnuplot_later_persist(const char *dir)
{
    struct note *v = NULL;
    size_t n = 0;
    int rc = 0;

    if (!dr.on)
        return 0;
    pthread_mutex_lock(&dr.mu);
    if (dr.cur)
        note_job(dr.cur, dir, &v, &n);
    for (struct later *j = dr.head; j; j = j->next)
        note_job(j, dir, &v, &n);
    pthread_mutex_unlock(&dr.mu);
    if (n && fa_file_mkdirs(dir, 0755) < 0)
        rc = -1;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (fa_file_write_atomic(v[i].file, v[i].text, strlen(v[i].text), 0644) < 0)
            rc = -1;
    /* one drawn meanwhile: its note was written after the drawer looked */
    pthread_mutex_lock(&dr.mu);
    for (size_t i = 0; i < n; i++)
        if (v[i].seq <= dr.done && !dr.err[0]) /* (after a failure, keep every note) */
            unlink(v[i].file);
    pthread_mutex_unlock(&dr.mu);
    for (size_t i = 0; i < n; i++) {
        free(v[i].file);
        free(v[i].text);
    }
    free(v);
    return rc;
}

int fa_gnuplot_later_recover(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int drawn = 0, rc = 0;

    if (!d)
        return errno == ENOENT ? 0 : (fa_err_sys("cannot read '%s'", dir), -1);
    while ((e = readdir(d)) && rc == 0) {
        size_t l = strlen(e->d_name);
        char *file, *text = NULL, fmt[8], path[PATH_MAX];
        size_t len;
        int w, h, off = 0;
        if (l < 4 || strcmp(e->d_name + l - 3, ".gp") != 0 || e->d_name[0] == '.')
            continue;
        if (asprintf(&file, "%s/%s", dir, e->d_name) < 0)
            abort();
        if (fa_file_read(file, (size_t)64 << 20, &text, &len) < 0 ||
            sscanf(text, NOTE_TAG "%7s %d %d %4095s%n", fmt, &w, &h, path, &off) != 4 ||
            text[off] != '\n') {
            if (text)
                fa_err_set("'%s': not a chart note", file);
            rc = -1;
        } else {
            int r = fa_gnuplot_write(text + off + 1,
                                     strcmp(fmt, "svg") == 0 ? FA_GNUPLOT_SVG : FA_GNUPLOT_PNG, w,
                                     h, path);
            if (r != 0) {
                char why[900];
                snprintf(why, sizeof why, "%s", fa_err_get());
                fa_err_set("chart '%s' (from '%s'): %s", path, file, why);
                rc = -1;
            } else {
                unlink(file);
                drawn++;
            }
        }
        free(text);
        free(file);
    }
    closedir(d);
    rmdir(dir); /* (when empty) */
    return rc < 0 ? -1 : drawn;
}
