/* fa-journal: a run's signed, hash-chained decision journal. "append"
 * adds an entry for every complete day of RUN not yet in RUN/journal.ndjson
 * (fa-run calls it after each day); "verify" checks the chain, every
 * signature and every day stream against it; "pubkey" prints this
 * machine's public key. The journal itself is lib/fa_journal.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fa_cli.h"
#include "fa_err.h"
#include "fa_file.h"
#include "fa_journal.h"
#include "fa_ndjson.h"
#include "fa_banned.h"

static void usage(void)
{
    printf("Usage: fa-journal append [--date DATE] RUN\n"
           "       fa-journal verify [--pubkey KEY] RUN\n"
           "       fa-journal pubkey\n"
           "\n"
           "A run's decision journal, RUN/journal.ndjson: one signed entry per complete day\n"
           "(its decision, the SHA-256 of its stream, the time, the previous entry's hash).\n"
           "\n"
           "  append           journal every complete day of RUN that is not yet (or only DATE)\n"
           "  verify           check the chain, every signature and every day stream; each\n"
           "                   problem is printed with its journal line; exit 1 on any\n"
           "  pubkey           print this machine's public key (making the key if needed)\n"
           "\n"
           "      --date DATE  append: only this day\n"
           "      --pubkey KEY verify: the key the journal must be signed by (64 hex digits,\n"
           "                   or a file holding them) [RUN/journal.pub]\n"
           "  -q, --quiet      no messages but errors\n"
           "  -v, --verbose    more messages\n"
           "  -h, --help       this help\n"
           "  -V, --version    version\n"
           "\n"
           "The signing key: FA_JOURNAL_KEY, else $XDG_CONFIG_HOME/fa/journal.key, else\n"
           "~/.config/fa/journal.key (mode 0600, made on first use).\n"
           "Exit status: 0 done (verify: the journal is good), 1 a failure or (verify) any\n"
           "problem, 2 usage.\n");
}

static const char *run_dir;

static void on_problem(void *ctx, unsigned long line, const char *msg)
{
    (void)ctx;
    if (line)
        fa_cli_error("%s/journal.ndjson:%lu: %s", run_dir, line, msg);
    else
        fa_cli_error("%s: %s", run_dir, msg);
}

static int load_key(struct fa_journal_key *k)
{
    char path[4096];
    int created = 0;

    if (fa_journal_key_path(path, sizeof path) < 0 || fa_journal_key_load(path, 1, k, &created) < 0)
        return -1;
    if (created)
        fa_warn("made a new journal key '%s' (keep it; its public half goes into each run)", path);
    return 0;
}

/* --pubkey: 64 hex digits, or a file holding them. */
static int parse_pin(const char *arg, unsigned char pk[FA_JOURNAL_PK_BYTES])
{
    char *buf = NULL;
    const char *s = arg;
    size_t len = strlen(arg), got = 0;
    int rc = -1;

    if (len != 2 * FA_JOURNAL_PK_BYTES) {
        if (fa_file_read(arg, 4096, &buf, &len) < 0)
            return -1;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
            len--;
        s = buf;
    }
    if (len == 2 * FA_JOURNAL_PK_BYTES &&
        sodium_hex2bin(pk, FA_JOURNAL_PK_BYTES, s, len, NULL, &got, NULL) == 0 &&
        got == FA_JOURNAL_PK_BYTES)
        rc = 0;
    else
        fa_err_set("--pubkey: want 64 hex digits or a file holding them, got '%s'", arg);
    free(buf);
    return rc;
}

int main(int argc, char **argv)
{
    enum { OPT_DATE = 256, OPT_PUBKEY, OPT_STRICT };
    static const struct option opts[] = {
        {"date", required_argument, NULL, OPT_DATE},
        {"help", no_argument, NULL, 'h'},
        {"pubkey", required_argument, NULL, OPT_PUBKEY},
        {"quiet", no_argument, NULL, 'q'},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *o_date = NULL, *o_pubkey = NULL, *cmd;
    struct fa_journal_key key;
    int c, status = FA_EXIT_OK;

    fa_err_init(argv[0]);
    while ((c = getopt_long(argc, argv, "hqvV", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DATE:
            o_date = optarg;
            break;
        case 'h':
            usage();
            return FA_EXIT_OK;
        case OPT_PUBKEY:
            o_pubkey = optarg;
            break;
        case OPT_STRICT:
            fa_strict = true;
            break;
        default:
            switch (fa_cli_core(c)) {
            case 1:
                break;
            case 2:
                return FA_EXIT_OK;
            default:
                fa_cli_try_help();
            }
        }
    }
    if (optind >= argc)
        fa_cli_usage_error("want a command: append, verify or pubkey");
    cmd = argv[optind++];
    if (strcmp(cmd, "pubkey") == 0) {
        char hex[65];
        if (optind != argc)
            fa_cli_usage_error("pubkey takes no RUN");
        if (load_key(&key) < 0)
            fa_die_err(FA_EXIT_FAIL);
        fa_journal_pk_hex(key.pk, hex);
        fa_journal_key_wipe(&key);
        printf("%s\n", hex);
        return fa_stdout_close() ? FA_EXIT_FAIL : FA_EXIT_OK;
    }
    if (strcmp(cmd, "append") != 0 && strcmp(cmd, "verify") != 0)
        fa_cli_usage_error("unknown command '%s' (want append, verify or pubkey)", cmd);
    if (optind + 1 != argc)
        fa_cli_usage_error("%s wants one RUN", cmd);
    run_dir = argv[optind];
    if (o_date && (strcmp(cmd, "append") != 0 || strlen(o_date) != 10))
        fa_cli_usage_error("--date: want YYYY-MM-DD with append, got '%s'", o_date);
    if (o_pubkey && strcmp(cmd, "verify") != 0)
        fa_cli_usage_error("--pubkey goes with verify");

    if (strcmp(cmd, "append") == 0) {
        size_t appended = 0, recovered = 0;
        if (load_key(&key) < 0)
            fa_die_err(FA_EXIT_FAIL);
        int rc = fa_journal_append(run_dir, o_date, &key, &appended, &recovered);
        fa_journal_key_wipe(&key);
        if (recovered)
            fa_warn("%s/journal.ndjson: cut off a torn last line (an append cut short)", run_dir);
        if (rc < 0)
            fa_die_err(FA_EXIT_FAIL);
        fa_info("%s/journal.ndjson: %zu entries appended", run_dir, appended);
    } else {
        unsigned char pin[FA_JOURNAL_PK_BYTES];
        size_t entries = 0;
        if (o_pubkey && parse_pin(o_pubkey, pin) < 0)
            fa_cli_usage_error("%s", fa_err_get());
        long problems =
            fa_journal_verify(run_dir, o_pubkey ? pin : NULL, on_problem, NULL, &entries);
        if (problems < 0)
            fa_die_err(FA_EXIT_FAIL);
        if (problems > 0) {
            fa_cli_error("%s/journal.ndjson: %ld problem%s in %zu entries", run_dir, problems,
                         problems == 1 ? "" : "s", entries);
            status = FA_EXIT_FAIL;
        } else if (fa_verbosity > 0) {
            printf("%s/journal.ndjson: %zu entries good: chain, signatures, day streams\n", run_dir,
                   entries);
        }
    }
    if (fa_stdout_close() != 0)
        status = FA_EXIT_FAIL;
    return status;
}
