/* fa_file.c: atomic whole-file writes and the rule for their targets,
 * used by every temporary-file-and-rename in fa; whole small files read
 * with a cap; the days of a run (fa_file.h). */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fa_file.h"
#include "fa_err.h"
#include "fa_str.h"
#include "fa_banned.h"

int fa_file_check_target(const char *path)
{
    struct stat st;
    const char *what;

    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        fa_err_sys("'%s'", path);
        return -1;
    }
    if (S_ISREG(st.st_mode))
        return 0;
    if (S_ISDIR(st.st_mode))
        what = "a directory";
    else if (S_ISLNK(st.st_mode))
        what = "a symbolic link (give the file it points to)";
    else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
        what = "a device";
    else if (S_ISFIFO(st.st_mode))
        what = "a FIFO";
    else if (S_ISSOCK(st.st_mode))
        what = "a socket";
    else
        what = "not a regular file";
    fa_err_set("'%s' is %s: not replaced", path, what);
    return -1;
}

/* The directory part of path ("." when there is none). malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *d;

    if (!slash)
        d = strdup(".");
    else if (slash == path)
        d = strdup("/");
    else
        d = strndup(path, (size_t)(slash - path));
    if (!d)
        abort();
    return d;
}

/* The umask, read once: reading it means setting it, which must not race
 * with another thread creating a file (fa-days draws charts in one). */
static pthread_once_t umask_once = PTHREAD_ONCE_INIT;
static mode_t umask_value;

static void umask_read(void)
{
    umask_value = umask(0);
    umask(umask_value);
}

static mode_t process_umask(void)
{
    pthread_once(&umask_once, umask_read);
    return umask_value;
}

int fa_file_open_atomic(struct fa_file_atomic *a, const char *path, mode_t mode)
{
    const char *base = strrchr(path, '/');
    char *dir;
    int fd;

    *a = (struct fa_file_atomic){0};
    if (fa_file_check_target(path) < 0)
        return -1;
    base = base ? base + 1 : path;
    dir = dir_of(path);
    if (asprintf(&a->tmp, "%s/.%s.XXXXXX", dir, base) < 0)
        abort();
    free(dir);
    if ((fd = mkstemp(a->tmp)) < 0) {
        fa_err_sys("cannot create a temporary file for '%s'", path);
        free(a->tmp);
        a->tmp = NULL;
        return -1;
    }
    if (!(a->f = fdopen(fd, "w"))) {
        fa_err_sys("cannot write '%s'", path);
        close(fd);
        unlink(a->tmp);
        free(a->tmp);
        a->tmp = NULL;
        return -1;
    }
    a->path = fa_str_nn(strdup(path));
    a->mode = mode;
    return 0;
}

int fa_file_close_atomic(struct fa_file_atomic *a, bool commit)
{
    mode_t um;
    int fd, dfd, rc = -1;
    char *dir;

    if (!a->f)
        return -1;
    fd = fileno(a->f);
    if (!commit)
        goto out;
    um = process_umask();
    if (fflush(a->f) == EOF || ferror(a->f) || fchmod(fd, a->mode & ~um) < 0 || fsync(fd) < 0) {
        fa_err_sys("cannot write '%s'", a->path);
        goto out;
    }
    if (fclose(a->f) == EOF) {
        a->f = NULL;
        fa_err_sys("cannot write '%s'", a->path);
        goto out;
    }
    a->f = NULL;
    /* again: something may have appeared there while we wrote */
    if (fa_file_check_target(a->path) < 0)
        goto out;
    if (rename(a->tmp, a->path) < 0) {
        fa_err_sys("cannot rename to '%s'", a->path);
        goto out;
    }
    dir = dir_of(a->path);
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(dfd); /* make the rename durable; a failure here loses nothing */
        close(dfd);
    }
    free(dir);
    rc = 0;
out:
    if (a->f)
        fclose(a->f);
    if (rc < 0)
        unlink(a->tmp);
    free(a->tmp);
    free(a->path);
    *a = (struct fa_file_atomic){0};
    return rc;
}

/* ---- standard output into a file, atomically ---- */

static struct fa_file_atomic out_af;

/* (a program that dies before its commit leaves no temporary file) */
static void stdout_drop(void)
{
    if (out_af.f)
        fa_file_close_atomic(&out_af, false);
}

int fa_file_stdout_to(const char *path)
{
    static bool hooked;

    if (fa_file_open_atomic(&out_af, path, 0644) < 0)
        return -1;
    if (fflush(stdout) == EOF || dup2(fileno(out_af.f), STDOUT_FILENO) < 0) {
        fa_err_sys("cannot write '%s'", path);
        fa_file_close_atomic(&out_af, false);
        return -1;
    }
    if (!hooked)
        atexit(stdout_drop);
    hooked = true;
    return 0;
}

int fa_file_stdout_commit(bool ok)
{
    if (!out_af.f)
        return 0;
    if (ok && (fflush(stdout) == EOF || ferror(stdout))) {
        fa_err_sys("cannot write '%s'", out_af.path);
        fa_file_close_atomic(&out_af, false);
        return -1;
    }
    return fa_file_close_atomic(&out_af, ok);
}

int fa_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    struct fa_file_atomic a;

    if (fa_file_open_atomic(&a, path, mode) < 0)
        return -1;
    if (len && fwrite(data, 1, len, a.f) != len) {
        fa_err_sys("cannot write '%s'", path);
        fa_file_close_atomic(&a, false);
        return -1;
    }
    return fa_file_close_atomic(&a, true);
}

int fa_file_read(const char *path, size_t max, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0, cap = 0;
    char *b = NULL;

    if (!f) {
        int e = errno;
        fa_err_sys("cannot open '%s'", path);
        errno = e;
        return -1;
    }
    for (;;) {
        if (cap - n < 65536 + 1) {
            cap = cap ? cap * 2 : 65536 * 2;
            b = fa_str_nn(realloc(b, cap));
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (n > max) {
            fa_err_set("'%s' is larger than %zu bytes", path, max);
            free(b);
            fclose(f);
            errno = EFBIG;
            return -1;
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        fa_err_sys("cannot read '%s'", path);
        free(b);
        fclose(f);
        errno = e;
        return -1;
    }
    fclose(f);
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}

static int is_day_name(const char *n)
{
    static const char pat[] = "####-##-##.ndjson";
    size_t i;

    if (strlen(n) != sizeof pat - 1)
        return 0;
    for (i = 0; i < sizeof pat - 1; i++) {
        if (pat[i] == '#' ? (n[i] < '0' || n[i] > '9') : n[i] != pat[i])
            return 0;
    }
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int fa_file_days(const char *run, char ***days, size_t *n)
{
    char p[PATH_MAX];
    DIR *d;
    struct dirent *e;
    char **v = NULL;
    size_t nv = 0, cap = 0;

    *days = NULL;
    *n = 0;
    if (snprintf(p, sizeof p, "%s/days", run) >= (int)sizeof p) {
        fa_err_set("path too long '%s'", run);
        return -1;
    }
    d = opendir(p);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        fa_err_sys("cannot read '%s'", p);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (!is_day_name(e->d_name))
            continue;
        if (nv == cap) {
            cap = cap ? 2 * cap : 64;
            v = fa_str_nn(realloc(v, cap * sizeof *v));
        }
        v[nv++] = fa_str_nn(strndup(e->d_name, 10));
    }
    closedir(d);
    if (nv)
        qsort(v, nv, sizeof *v, cmp_str);
    *days = v;
    *n = nv;
    return 0;
}

void fa_file_free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int fa_file_mkdirs(const char *dir, mode_t mode)
{
    char *p = strdup(dir);

    if (!p) {
        fa_err_set("out of memory");
        return -1;
    }
    for (char *s = p + 1;; s++) {
        bool end = *s == 0;
        if (!end && *s != '/')
            continue;
        *s = 0;
        if (mkdir(p, mode) < 0 && errno != EEXIST) {
            fa_err_sys("cannot create directory '%s'", p);
            free(p);
            return -1;
        }
        if (end)
            break;
        *s = '/';
    }
    free(p);
    return 0;
}

/* ---- small files read once per process -------------------------------- */

struct memo {
    struct memo *next;
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    char *data;
    size_t len;
};
static struct memo *memos;
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

static bool memo_is(const struct memo *m, const struct stat *st)
{
    return m->dev == st->st_dev && m->ino == st->st_ino && m->size == st->st_size &&
           m->mtime.tv_sec == st->st_mtim.tv_sec && m->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

int fa_file_read_memo(const char *path, size_t max, const char **buf, size_t *len)
{
    struct stat st;
    struct memo *m;
    char *data;
    size_t n;
    int rc = -1;

    /* (stat before any read: a file changed meanwhile is read again next
     * time, never kept with an identity that is not its own) */
    if (stat(path, &st) < 0) {
        fa_err_sys("cannot open '%s'", path);
        return -1;
    }
    pthread_mutex_lock(&memo_lock);
    for (m = memos; m; m = m->next)
        if (strcmp(m->path, path) == 0)
            break;
    if (m && memo_is(m, &st)) {
        if (m->len > max) {
            fa_err_set("'%s' is larger than %zu bytes", path, max);
            errno = EFBIG;
            goto out;
        }
        *buf = m->data;
        *len = m->len;
        rc = 0;
        goto out;
    }
    if (fa_file_read(path, max, &data, &n) < 0)
        goto out;
    if (!m) {
        m = fa_str_nn(calloc(1, sizeof *m));
        m->path = fa_str_nn(strdup(path));
        m->next = memos;
        memos = m;
    }
    free(m->data);
    m->dev = st.st_dev;
    m->ino = st.st_ino;
    m->size = st.st_size;
    m->mtime = st.st_mtim;
    m->data = data;
    m->len = n;
    *buf = data;
    *len = n;
    rc = 0;
out:
    pthread_mutex_unlock(&memo_lock);
    return rc;
}
