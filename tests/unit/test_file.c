/* test_file.c: atomic writes and the rule for their targets: a new or
 * regular file is replaced whole; a directory, a FIFO, a device or a
 * symbolic link is refused and left as it was; no temporary file is left. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "fa_err.h"
#include "fa_file.h"
#include "fa_banned.h"

static char dir[64];

static char *at(const char *name)
{
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static char *slurp(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    size_t n;
    if (!f)
        return NULL;
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Whether dir holds a leftover ".*" temporary file. */
static int leftovers(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void refused(const char *name, const char *what, mode_t type)
{
    struct stat st;
    ok(fa_file_check_target(at(name)) < 0, "%s: check refuses", name);
    ok(strstr(fa_err_get(), what) != NULL && strstr(fa_err_get(), name) != NULL,
       "%s: message names it and says what it is (%s)", name, fa_err_get());
    ok(fa_file_write_atomic(at(name), "x", 1, 0644) < 0, "%s: write refused", name);
    ok(lstat(at(name), &st) == 0 && (st.st_mode & S_IFMT) == type, "%s: left as it was", name);
}

int main(void)
{
    struct stat st;

    snprintf(dir, sizeof dir, "%s/fa-file.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    fa_err_init("test_file");

    ok(fa_file_check_target(at("new")) == 0, "an absent target is fine");
    ok(fa_file_write_atomic(at("new"), "hello\n", 6, 0600) == 0, "write a new file");
    is_str(slurp(at("new")), "hello\n", "its content");
    ok(stat(at("new"), &st) == 0 && (st.st_mode & 0777) == 0600, "its mode");
    ok(fa_file_write_atomic(at("new"), "bye\n", 4, 0644) == 0, "replace a regular file");
    is_str(slurp(at("new")), "bye\n", "the new content");
    ok(fa_file_write_atomic(at("empty"), "", 0, 0644) == 0 && stat(at("empty"), &st) == 0 &&
           st.st_size == 0,
       "an empty file");

    mkdir(at("adir"), 0755);
    refused("adir", "a directory", S_IFDIR);
    mkfifo(at("fifo"), 0644);
    refused("fifo", "a FIFO", S_IFIFO);
    if (symlink("new", at("link")) == 0)
        refused("link", "a symbolic link", S_IFLNK);
    is_str(slurp(at("new")), "bye\n", "the link's target is untouched");
    ok(fa_file_check_target("/dev/null") < 0 && strstr(fa_err_get(), "a device"),
       "a device is refused");
    ok(fa_file_write_atomic(at("nodir/x"), "x", 1, 0644) < 0 &&
           strstr(fa_err_get(), "nodir/x") != NULL,
       "a missing directory: an error naming the path");
    is_num(leftovers(), 0, 0, "no temporary file left behind");

    /* streamed: the file appears whole at the commit, never before; an
     * abandoned one leaves nothing */
    {
        struct fa_file_atomic af;
        ok(fa_file_open_atomic(&af, at("big"), 0644) == 0, "streamed: open");
        for (int i = 0; i < 20000; i++)
            fprintf(af.f, "line %d\n", i);
        ok(access(at("big"), F_OK) != 0 && leftovers() == 1, "not there before the commit");
        ok(fa_file_close_atomic(&af, true) == 0, "commit");
        struct stat bs = {0};
        int there = stat(at("big"), &bs) == 0;
        ok(there && bs.st_size == 208890 && leftovers() == 0,
           "there whole after it (%lld bytes), no temporary file", (long long)bs.st_size);
        ok(fa_file_open_atomic(&af, at("big"), 0644) == 0, "again");
        fputs("half", af.f);
        fa_file_close_atomic(&af, false);
        there = stat(at("big"), &bs) == 0;
        ok(there && bs.st_size == 208890 && leftovers() == 0,
           "abandoned: the old file stays, nothing left");
        ok(fa_file_open_atomic(&af, at("adir"), 0644) < 0 && af.f == NULL, "a directory: refused");
        unlink(at("big"));
    }

    /* standard output into a file (a program's -o FILE) */
    {
        fflush(stdout);
        int keep = dup(1), to = fa_file_stdout_to(at("out"));
        printf("{\"kind\":\"x\"}\n");
        int early = access(at("out"), F_OK), done = fa_file_stdout_commit(true);
        fflush(stdout);
        dup2(keep, 1);
        close(keep);
        ok(to == 0 && done == 0, "stdout to a file, committed");
        ok(early != 0, "the file appears at the commit only");
        is_str(slurp(at("out")), "{\"kind\":\"x\"}\n", "what was printed");
        is_num(leftovers(), 0, 0, "no temporary file");
        unlink(at("out"));
    }

    /* small files read once while they stay the same */
    {
        const char *b1, *b2;
        size_t n1, n2;
        ok(fa_file_write_atomic(at("memo"), "one", 3, 0644) == 0, "memo: a file");
        ok(fa_file_read_memo(at("memo"), 100, &b1, &n1) == 0 && n1 == 3 && strcmp(b1, "one") == 0,
           "read");
        ok(fa_file_read_memo(at("memo"), 100, &b2, &n2) == 0 && b2 == b1,
           "again: the same copy, not read again");
        ok(fa_file_write_atomic(at("memo"), "second", 6, 0644) == 0, "replaced");
        ok(fa_file_read_memo(at("memo"), 100, &b2, &n2) == 0 && n2 == 6 &&
               strcmp(b2, "second") == 0,
           "a changed file is read again");
        ok(fa_file_read_memo(at("memo"), 3, &b2, &n2) < 0 && strstr(fa_err_get(), "memo"),
           "the cap still holds: %s", fa_err_get());
        unlink(at("memo"));
        ok(fa_file_read_memo(at("memo"), 100, &b2, &n2) < 0 && strstr(fa_err_get(), "memo"),
           "a file gone: an error naming it");
    }

    unlink(at("new"));
    unlink(at("empty"));
    unlink(at("link"));
    unlink(at("fifo"));
    rmdir(at("adir"));
    rmdir(dir);
    return tap_done();
}
