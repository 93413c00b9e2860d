/* fa_file.c: atomic whole-file writes and the rule for their targets
 * (fa_file.h); used by every temporary-file-and-rename in fa. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fa_file.h"
#include "fa_err.h"
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

int fa_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    const char *base = strrchr(path, '/');
    char *dir, *tmp;
    const char *p = data;
    mode_t um;
    int fd, dfd;

    if (fa_file_check_target(path) < 0)
        return -1;
    base = base ? base + 1 : path;
    dir = dir_of(path);
    if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0)
        abort();
    if ((fd = mkstemp(tmp)) < 0) {
        fa_err_sys("cannot create a temporary file for '%s'", path);
        free(dir);
        free(tmp);
        return -1;
    }
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            fa_err_sys("cannot write '%s'", path);
            goto fail;
        }
        p += w;
        len -= (size_t)w;
    }
    um = umask(0);
    umask(um);
    if (fchmod(fd, mode & ~um) < 0 || fsync(fd) < 0) {
        fa_err_sys("cannot write '%s'", path);
        goto fail;
    }
    if (close(fd) < 0) {
        fd = -1;
        fa_err_sys("cannot write '%s'", path);
        goto fail;
    }
    fd = -1;
    /* again: something may have appeared there while we wrote */
    if (fa_file_check_target(path) < 0)
        goto fail;
    if (rename(tmp, path) < 0) {
        fa_err_sys("cannot rename to '%s'", path);
        goto fail;
    }
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(dfd); /* make the rename durable; a failure here loses nothing */
        close(dfd);
    }
    free(dir);
    free(tmp);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(dir);
    free(tmp);
    return -1;
}
