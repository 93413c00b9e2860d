/* test_secret.c: where the key comes from (env order, key file modes),
 * the Authorization header, redaction. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "fa_err.h"
#include "fa_secret.h"
#include "fa_banned.h"

static char dir[] = "/tmp/fa-test-secret.XXXXXX";

static void put(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (write(fd, text, strlen(text)) < 0)
        perror("write");
    close(fd);
    chmod(path, mode);
}

int main(void)
{
    char kf[256], link[256], *h;
    struct fa_secret *s;
    char text[] = "error: key sk-abc123 rejected; sk-abc123 again; sk-abc12";

    fa_err_init("test_secret");
    if (!mkdtemp(dir))
        return 1;
    snprintf(kf, sizeof kf, "%s/key", dir);
    snprintf(link, sizeof link, "%s/link", dir);
    unsetenv("FA_API_KEY");
    unsetenv("OPENAI_API_KEY");
    unsetenv("FA_API_KEY_FILE");

    ok(fa_secret_load(NULL, &s) == 0 && s == NULL, "no key configured: NULL, no error");
    ok(fa_secret_header(NULL) == NULL, "no header without a key");

    setenv("OPENAI_API_KEY", "sk-openai", 1);
    ok(fa_secret_load(NULL, &s) == 0 && s, "OPENAI_API_KEY read");
    h = fa_secret_header(s);
    is_str(h, "Authorization: Bearer sk-openai", "header");
    fa_secret_wipe_free(h);
    fa_secret_free(s);
    setenv("FA_API_KEY", "  sk-abc123\n", 1);
    ok(fa_secret_load(NULL, &s) == 0 && s, "FA_API_KEY wins");
    h = fa_secret_header(s);
    is_str(h, "Authorization: Bearer sk-abc123", "trimmed key in the header");
    fa_secret_wipe_free(h);
    fa_secret_redact(s, text, strlen(text));
    is_str(text, "error: key ********* rejected; ********* again; sk-abc12", "redacted");
    fa_secret_free(s);
    unsetenv("FA_API_KEY");
    unsetenv("OPENAI_API_KEY");

    put(kf, "sk-from-file\n", 0600);
    setenv("FA_API_KEY_FILE", kf, 1);
    ok(fa_secret_load(NULL, &s) == 0 && s, "key file 0600 read");
    h = fa_secret_header(s);
    is_str(h, "Authorization: Bearer sk-from-file", "key from the file");
    fa_secret_wipe_free(h);
    fa_secret_free(s);
    chmod(kf, 0400);
    ok(fa_secret_load(NULL, &s) == 0 && s, "key file 0400 read");
    fa_secret_free(s);
    chmod(kf, 0640);
    ok(fa_secret_load(NULL, &s) == -1 && s == NULL, "key file 0640 refused");
    ok(strstr(fa_err_get(), "mode 0640 lets others read it; run chmod 600") != NULL,
       "message says how to fix it");
    ok(strstr(fa_err_get(), "sk-from-file") == NULL, "message without the key");
    chmod(kf, 0604);
    ok(fa_secret_load(NULL, &s) == -1, "key file 0604 refused");
    chmod(kf, 0600);
    if (symlink(kf, link) == 0) {
        ok(fa_secret_load(link, &s) == -1, "a symlink is refused (flag over env)");
    } else {
        ok(1, "# SKIP no symlinks");
    }
    put(kf, "\n  \n", 0600);
    ok(fa_secret_load(NULL, &s) == -1 && strstr(fa_err_get(), "empty"), "empty key refused");
    put(kf, "a\nb\n", 0600);
    ok(fa_secret_load(NULL, &s) == -1 && strstr(fa_err_get(), "line break"), "two lines refused");
    unlink(kf);
    ok(fa_secret_load(NULL, &s) == -1 && strstr(fa_err_get(), "API key file"),
       "missing file refused");
    unsetenv("FA_API_KEY_FILE");
    unlink(link);
    rmdir(dir);
    return tap_done();
}
