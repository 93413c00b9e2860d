/* test_ledger.c: prices (exact, prefix, unknown), bad price lines, the
 * budget across processes (reservations under a lock), torn tails. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "fa_err.h"
#include "fa_ledger.h"
#include "fa_banned.h"

static char dir[] = "/tmp/fa-test-ledger.XXXXXX";

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    fputs(text, f);
    fclose(f);
}

int main(void)
{
    char prices[256], bad[256], path[256];
    struct fa_ledger *l;
    double spent;
    uint64_t t;
    bool known;
    pid_t kids[4];
    int made = 0;

    fa_err_init("test_ledger");
    if (!mkdtemp(dir))
        return 1;
    snprintf(prices, sizeof prices, "%s/prices.tsv", dir);
    snprintf(bad, sizeof bad, "%s/bad.tsv", dir);
    snprintf(path, sizeof path, "%s/ledger.tsv", dir);
    put(prices, "# comment\nm-exact 2 4\nm-* 1 1 # any m-\nm-long-* 3 3\n\n");
    put(bad, "ok 1 2\nbroken 1\n");

    ok(fa_ledger_open(bad, NULL, -1) == NULL, "bad price table refused");
    ok(strstr(fa_err_get(), "bad.tsv:2: want 'model") != NULL, "message names file:line");

    l = fa_ledger_open(prices, NULL, -1);
    is_num(fa_ledger_cost(l, "m-exact", 1000000, 500000, &known), 4, 1e-12, "exact price");
    ok(known, "exact known");
    is_num(fa_ledger_cost(l, "m-long-x", 1000000, 0, &known), 3, 1e-12, "longest prefix wins");
    is_num(fa_ledger_cost(l, "m-other", 500000, 500000, &known), 1, 1e-12, "prefix price");
    is_num(fa_ledger_cost(l, "llama3:8b", 1000000, 1000000, &known), 0, 0, "unknown costs 0");
    ok(!known, "unknown model says so");
    ok(fa_ledger_reserve(l, 1e9, &t) == 0 && t == 0, "no file: no budget, ticket 0");
    fa_ledger_close(l);

    /* four processes share a budget of $1, each trying calls of up to $0.3
     * that really cost $0.1: never more than the budget is spent */
    fflush(stdout);
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            struct fa_ledger *cl = fa_ledger_open(prices, path, 1.0);
            int n = 0;
            for (int i = 0; i < 20; i++) {
                uint64_t tk;
                if (fa_ledger_reserve(cl, 0.3, &tk) < 0)
                    break;
                if (fa_ledger_settle(cl, tk, 0.1, "test", "m-exact", 1, 1, "h") < 0)
                    _exit(100);
                n++;
            }
            fa_ledger_close(cl);
            _exit(n);
        }
    }
    for (int k = 0; k < 4; k++) {
        int st;
        waitpid(kids[k], &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) < 100)
            made += WEXITSTATUS(st);
    }
    l = fa_ledger_open(prices, path, 1.0);
    ok(fa_ledger_spent(l, &spent) == 0, "spent readable");
    is_num(spent, made * 0.1, 1e-9, "spent is the sum of real costs");
    ok(made == 8, "exactly 8 calls fit ($0.7 spent + $0.3 <= $1), got %d", made);
    ok(fa_ledger_reserve(l, 0.3, &t) == -1, "the next call is refused");
    ok(strstr(fa_err_get(), "budget: this call (up to $0.3000) would exceed FA_BUDGET_USD=1") !=
           NULL,
       "budget message");
    ok(fa_ledger_reserve(l, 0.2, &t) == 0 && t != 0, "a cheaper call still fits");
    /* an unsettled reservation counts as spent (a crashed call) */
    ok(fa_ledger_spent(l, &spent) == 0 && spent > 0.99 && spent < 1.01, "reservation counts");
    ok(fa_ledger_settle(l, t, 0.05, "test", "m-exact", 1, 1, "h") == 0, "settled");
    fa_ledger_close(l);

    /* a torn tail is cut off */
    {
        int fd = open(path, O_WRONLY | O_APPEND);
        if (write(fd, "C\t00ff\t5", 8) != 8)
            ok(0, "append torn");
        close(fd);
    }
    l = fa_ledger_open(prices, path, 1.0);
    ok(fa_ledger_spent(l, &spent) == 0, "torn ledger readable");
    is_num(spent, made * 0.1 + 0.05, 1e-9, "torn line ignored");
    ok(fa_ledger_reserve(l, 0.01, &t) == 0, "append after a torn tail");
    fa_ledger_close(l);
    {
        FILE *f = fopen(path, "r");
        char line[256];
        int bad_lines = 0;
        while (fgets(line, sizeof line, f))
            if (line[0] != 'R' && line[0] != 'C')
                bad_lines++;
        fclose(f);
        ok(bad_lines == 0, "every line whole");
    }
    unlink(prices);
    unlink(bad);
    unlink(path);
    rmdir(dir);
    return tap_done();
}
