/* test_journal: fa_journal's key file (made 0600, loaded back, refused
 * when others may read it), appends that sign and chain, idempotence,
 * and verify's reports: a good journal, an edited entry, an edited day. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fa_err.h"
#include "fa_journal.h"
#include "tap.h"
#include "fa_banned.h"

static char dir[64];
static unsigned long last_line;
static int nreports;

static void on_problem(void *ctx, unsigned long line, const char *msg)
{
    (void)ctx;
    (void)msg;
    last_line = line;
    nreports++;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    fputs(text, f);
    fclose(f);
}

static long verify(const char *run, size_t *entries)
{
    nreports = 0;
    last_line = 0;
    long p = fa_journal_verify(run, NULL, on_problem, NULL, entries);
    return p;
}

int main(void)
{
    char key[128], run[128], p[256], cmd[512];
    struct fa_journal_key k, k2;
    size_t appended, recovered, entries;
    int created;
    struct stat st;

    snprintf(dir, sizeof dir, "/tmp/fa-test-journal.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(key, sizeof key, "%s/cfg/fa/journal.key", dir);
    ok(fa_journal_key_load(key, 0, &k, &created) < 0, "no key and no create: an error");
    ok(fa_journal_key_load(key, 1, &k, &created) == 0 && created == 1, "a new key is made");
    ok(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
    ok(fa_journal_key_load(key, 1, &k2, &created) == 0 && created == 0 &&
           memcmp(k.pk, k2.pk, sizeof k.pk) == 0 && memcmp(k.sk, k2.sk, sizeof k.sk) == 0,
       "loaded back the same");
    chmod(key, 0644);
    ok(fa_journal_key_load(key, 1, &k2, &created) < 0 && strstr(fa_err_get(), "chmod 600"),
       "a key others may read is refused");
    chmod(key, 0600);

    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(p, sizeof p, "%s/days", run);
    mkdir(run, 0755);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/days/2023-03-06.ndjson", run);
    write_file(p, "{\"kind\":\"price\",\"symbol\":\"S\",\"date\":\"2023-03-06\"}\n"
                  "{\"kind\":\"decision\",\"symbol\":\"S\",\"date\":\"2023-03-06\",\"action\":"
                  "\"BUY\"}\n");
    snprintf(p, sizeof p, "%s/days/2023-03-07.ndjson", run);
    write_file(p, "{\"kind\":\"decision\",\"symbol\":\"S\",\"date\":\"2023-03-07\",\"action\":"
                  "\"HOLD\"}\n");
    snprintf(p, sizeof p, "%s/days/notaday.ndjson", run);
    write_file(p, "{}\n");
    ok(fa_journal_append(run, NULL, &k, &appended, &recovered) == 0 && appended == 2,
       "two days appended");
    ok(fa_journal_append(run, NULL, &k, &appended, &recovered) == 0 && appended == 0,
       "and never again");
    ok(fa_journal_append(run, "2023-03-08", &k, &appended, &recovered) < 0,
       "a day that is not complete is refused");
    ok(verify(run, &entries) == 0 && entries == 2 && nreports == 0, "verify: good, 2 entries");

    memset(&k2, 0, sizeof k2);
    snprintf(p, sizeof p, "%s/other.key", dir);
    ok(fa_journal_key_load(p, 1, &k2, &created) == 0, "another key");
    ok(fa_journal_append(run, NULL, &k2, &appended, &recovered) < 0 &&
           strstr(fa_err_get(), "another key"),
       "appending with it is refused");

    snprintf(cmd, sizeof cmd, "sed -i '2s/HOLD/SELL/' %s/journal.ndjson", run);
    ok(system(cmd) == 0, "edit entry 2");
    ok(verify(run, &entries) >= 1 && last_line == 2, "verify reports line 2");
    snprintf(cmd, sizeof cmd, "sed -i '2s/SELL/HOLD/' %s/journal.ndjson", run);
    ok(system(cmd) == 0 && verify(run, &entries) == 0, "undone: good again");
    snprintf(cmd, sizeof cmd, "echo >> %s/days/2023-03-06.ndjson", run);
    ok(system(cmd) == 0 && verify(run, &entries) == 1 && last_line == 1,
       "an edited day stream: reported at its entry");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    fa_journal_key_wipe(&k);
    fa_journal_key_wipe(&k2);
    return tap_done();
}
