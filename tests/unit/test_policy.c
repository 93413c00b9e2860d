/* Unit tests for fa_policy: the day data, the environment (masks,
 * pending orders, both rewards against hand-worked values, refusal of
 * illegal actions), the numeric features, the state prompt and its
 * paragraphs, the text backbone's cache, and checkpoints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_embedder.h"
#include "fa_err.h"
#include "fa_policy.h"
#include "fa_record.h"
#include "tap.h"
#include "fa_banned.h"

static const double closes[] = {100, 110, 99, 99, 120, 60, 66};
#define NDAYS ((int)(sizeof closes / sizeof closes[0]))

static void add_price(struct fa_policy_data *d, int i, double close)
{
    char date[11];
    snprintf(date, sizeof date, "2024-01-%02d", i + 1);
    struct json_object *r = fa_record_new("price", "X", date);
    fa_record_set_num(r, "open", close);
    fa_record_set_num(r, "close", close);
    fa_record_set_num(r, "adj_close", close);
    fa_policy_data_add(d, r);
    json_object_put(r);
    r = fa_record_new("news", "X", date);
    fa_record_set_str(r, "title", i % 2 ? "X beats estimates" : "X misses estimates");
    fa_policy_data_add(d, r);
    json_object_put(r);
}

int main(void)
{
    struct fa_policy_data d;
    fa_policy_data_init(&d, NULL);
    for (int i = 0; i < NDAYS; i++)
        add_price(&d, i, closes[i]);
    ok(d.n == NDAYS && !strcmp(d.symbol, "X"), "days read, symbol from the first price");
    ok(d.days[1].nnews == 1 && !strcmp(d.days[1].news[0], "X beats estimates"), "news kept");
    struct json_object *r = fa_record_new("price", "X", "2024-01-03");
    fa_record_set_num(r, "close", 5);
    ok(fa_policy_data_add(&d, r) < 0, "a price not after the last day is refused");
    json_object_put(r);
    r = fa_record_new("price", "Y", "2024-02-01");
    fa_record_set_num(r, "close", 5);
    ok(fa_policy_data_add(&d, r) == 1, "another symbol is ignored");
    json_object_put(r);
    r = fa_record_new("price", "X", "2024-02-01");
    ok(fa_policy_data_add(&d, r) < 0, "a price without close is refused");
    json_object_put(r);
    fa_policy_data_finish(&d);
    ok(strlen(d.hash) == 64, "data hash");

    /* fill at the day's close, return reward: hand-worked */
    struct fa_policy_env_conf ec;
    fa_policy_env_conf_default(&ec);
    ec.fill = FA_POLICY_FILL_CLOSE;
    ec.reward = FA_POLICY_REWARD_RETURN;
    ec.cash = 1000;
    struct fa_policy_env *e = fa_policy_env_new(&d, &ec);
    struct fa_policy_obs o;
    double rew;
    ok(e && fa_policy_env_reset(e, 0) == 0, "env reset");
    ok(fa_policy_env_observe(e, 0, &rew, &o) == 0 && rew == 0, "first observation, reward 0");
    ok(o.mask == ((1u << FA_POLICY_BUY) | (1u << FA_POLICY_HOLD)), "flat: BUY and HOLD legal");
    ok(fa_policy_env_act(e, FA_POLICY_SELL) < 0 && fa_policy_env_illegal(e) == 1,
       "SELL while flat refused and counted");
    ok(fa_policy_env_act(e, FA_POLICY_BUY) == 0, "BUY at 100: 10 shares");
    fa_policy_env_observe(e, 1, &rew, &o);
    is_num(rew, 0.1, 1e-12, "return reward: 100 -> 110 long = +10%");
    ok(o.position == 10 && o.mask == ((1u << FA_POLICY_SELL) | (1u << FA_POLICY_HOLD)),
       "long: SELL and HOLD legal");
    is_num(o.value, 1100, 1e-9, "value marked at the close");
    ok(fa_policy_env_observe(e, 2, &rew, &o) < 0, "observe twice without acting refused");
    fa_policy_env_act(e, FA_POLICY_SELL); /* at 110 */
    fa_policy_env_observe(e, 2, &rew, &o);
    is_num(rew, 0, 1e-12, "flat through 110 -> 99: reward 0");
    ok(o.nhist == 2 && o.hist_action[0] == FA_POLICY_BUY && o.hist_action[1] == FA_POLICY_SELL,
       "history of actions");
    is_num(o.hist_reward[0], 0.1, 1e-12, "history of rewards");
    fa_policy_env_free(e);

    /* next-close fills: the order of day t fills at t+1's close; the
     * decision sees the pending order as filled */
    ec.fill = FA_POLICY_FILL_NEXT_CLOSE;
    e = fa_policy_env_new(&d, &ec);
    fa_policy_env_reset(e, 0);
    fa_policy_env_observe(e, 0, &rew, &o);
    fa_policy_env_act(e, FA_POLICY_BUY); /* fills at 110 on day 1 */
    fa_policy_env_observe(e, 1, &rew, &o);
    /* the reward of an action is the P&L of the position it sets over
     * the day it is first held: day 0's BUY fills at day 1's close and is
     * held to day 2's (99), a price day 1's state does not show */
    is_num(rew, 9.0 * (99 - 110) / 1000, 1e-12, "next-close: BUY's reward: 9 shares 110 -> 99");
    ok(o.position == 9 && (o.mask & (1u << FA_POLICY_SELL)) && !(o.mask & (1u << FA_POLICY_BUY)),
       "next-close: pending BUY seen as filled (9 shares at 110), SELL legal");
    ok(o.nhist == 0, "next-close: the BUY's reward is not in day 1's history (known on day 2)");
    fa_policy_env_act(e, FA_POLICY_HOLD);
    fa_policy_env_observe(e, 2, &rew, &o);
    is_num(rew, 0, 1e-12, "next-close: HOLD's reward: 9 shares 99 -> 99");
    ok(o.nhist == 1 && o.hist_action[0] == FA_POLICY_BUY && !strcmp(o.hist_date[0], "2024-01-01"),
       "next-close: day 2's history: day 0's BUY");
    is_num(o.hist_reward[0], 9.0 * (99 - 110) / 1000, 1e-12, "next-close: with its own reward");
    is_num(o.hist_value[0], 10 + 9 * 99, 1e-9, "next-close: and the value once it is known");
    fa_policy_env_act(e, FA_POLICY_SELL); /* fills at 99 on day 3 */
    fa_policy_env_observe(e, 3, &rew, &o);
    is_num(rew, 0, 1e-12, "next-close: SELL's reward: flat through 99 -> 120");
    for (int t = 4; t < NDAYS; t++) {
        fa_policy_env_act(e, t == 4 ? FA_POLICY_BUY : FA_POLICY_HOLD);
        fa_policy_env_observe(e, t, &rew, &o);
    }
    is_num(rew, 0, 0, "next-close: no reward on the last day (its next price is unknown)");
    fa_policy_env_free(e);

    /* Sharpe reward: running Sharpe of the daily P&L over the episode */
    ec.fill = FA_POLICY_FILL_CLOSE;
    ec.reward = FA_POLICY_REWARD_SHARPE_CHANGE;
    e = fa_policy_env_new(&d, &ec);
    fa_policy_env_reset(e, 0);
    double pnl[8], sum = 0, got = 0;
    int k = 0;
    fa_policy_env_observe(e, 0, &rew, &o);
    fa_policy_env_act(e, FA_POLICY_BUY); /* 10 shares at 100, cash 0 */
    for (int t = 1; t < NDAYS; t++) {
        fa_policy_env_observe(e, t, &rew, &o);
        got += rew;
        pnl[k++] = 10 * (closes[t] - closes[t - 1]);
        if (t == 1)
            is_num(rew, 0, 0, "sharpe: 0 after one day (fewer than 2 values)");
        if (t < NDAYS - 1)
            fa_policy_env_act(e, FA_POLICY_HOLD);
    }
    double m = 0, v = 0;
    for (int i = 0; i < k; i++)
        m += pnl[i];
    m /= k;
    for (int i = 0; i < k; i++)
        v += (pnl[i] - m) * (pnl[i] - m);
    sum = m / sqrt(v / (k - 1));
    is_num(got, sum, 1e-12, "sharpe: rewards sum to the final running Sharpe (sample sd)");
    ok(fa_policy_env_illegal(e) == 0, "no illegal action counted");
    fa_policy_env_free(e);

    /* numeric features */
    struct fa_policy_backbone *nb = fa_policy_backbone_numeric();
    double f[FA_POLICY_NUMERIC_DIM];
    e = fa_policy_env_new(&d, &ec);
    fa_policy_env_reset(e, 4);
    fa_policy_env_observe(e, 4, &rew, &o);
    ok(nb->ops->encode(nb, &o, f) == 0, "numeric encode");
    is_num(f[0], 10 * log(120.0 / 99), 1e-12, "1-day log return x10");
    is_num(f[2], 10 * log(120.0 / 100), 1e-12, "5-day return from the first day when short");
    is_num(f[7], 0, 0, "position flag flat");
    ok(nb->ops->dim(nb) == FA_POLICY_NUMERIC_DIM && !strcmp(nb->ops->name, "numeric"),
       "numeric dim");
    fa_policy_backbone_free(nb);

    /* the state prompt: four parts, only the day's news */
    char *s = fa_policy_state_text("policy-state", &o);
    ok(s && strstr(s, "Legal actions today: BUY, HOLD") && strstr(s, "Account: cash 1000.00"),
       "state prompt: legal actions and account");
    ok(s && strstr(s, "2024-01-05 open 120.00 close 120.00") && !strstr(s, "2024-01-06"),
       "state prompt: prices up to the day, none after");
    free(s);

    /* text backbone: paragraphs, cache, determinism */
    struct fa_policy_backbone *tb = fa_policy_backbone_text(
        "policy-state", fa_embedder_open_local(16), FA_POLICY_POOL_SECTIONS);
    ok(tb != NULL, "text backbone opens");
    if (tb) {
        size_t dim = tb->ops->dim(tb);
        ok(dim == 160, "10 paragraphs x 16 (%zu)", dim);
        ok(strcmp(tb->ops->model(tb), "fa-hash-16/sections-10") == 0, "model name");
        double *x1 = malloc(dim * sizeof *x1), *x2 = malloc(dim * sizeof *x2);
        ok(tb->ops->encode(tb, &o, x1) == 0, "text encode");
        long hits = tb->cache_hits;
        ok(tb->ops->encode(tb, &o, x2) == 0 && tb->cache_hits == hits + 10,
           "same state again: every paragraph from the cache");
        ok(!memcmp(x1, x2, dim * sizeof *x1), "cached vectors equal");
        double n0 = 0;
        for (size_t i = 0; i < 16; i++)
            n0 += x1[i] * x1[i];
        is_num(n0, 1, 1e-6, "each paragraph's vector has unit norm");
        free(x1);
        free(x2);
    }
    fa_policy_backbone_free(tb);
    struct fa_policy_backbone *wb =
        fa_policy_backbone_text("policy-state", fa_embedder_open_local(16), FA_POLICY_POOL_WHOLE);
    ok(wb && wb->ops->dim(wb) == 16 && !strcmp(wb->ops->model(wb), "fa-hash-16"), "whole pooling");
    fa_policy_backbone_free(wb);
    ok(fa_policy_backbone_open("lstm", NULL, 0, FA_POLICY_POOL_SECTIONS) == NULL,
       "unknown backbone refused");
    fa_policy_env_free(e);

    /* checkpoints */
    char dir[] = "/tmp/fa-test-policy-XXXXXX";
    ok(mkdtemp(dir) != NULL, "scratch directory");
    int w[1] = {4};
    struct fa_nn *nn = fa_nn_new(3, 1, w, FA_NN_TANH, 1);
    struct json_object *man = json_object_new_object();
    json_object_object_add(man, "backbone", json_object_new_string("numeric"));
    char ck[64];
    snprintf(ck, sizeof ck, "%s/ck", dir);
    ok(fa_policy_ckpt_write(ck, nn, "state", 5, man) == 0, "checkpoint written");
    struct json_object *m2;
    struct fa_nn *nn2 = fa_policy_ckpt_read(ck, &m2);
    ok(nn2 && !memcmp(fa_nn_params(nn), fa_nn_params(nn2), fa_nn_nparams(nn) * sizeof(double)),
       "checkpoint read back");
    ok(nn2 && !strcmp(fa_record_str(m2, "backbone"), "numeric"), "manifest read back");
    char wpath[96];
    snprintf(wpath, sizeof wpath, "%s/weights.bin", ck);
    FILE *fw = fopen(wpath, "r+b");
    fseek(fw, 40, SEEK_SET);
    fputc('Z', fw);
    fclose(fw);
    struct json_object *m3;
    ok(fa_policy_ckpt_read(ck, &m3) == NULL && strstr(fa_err_get(), "hash"),
       "tampered weights refused");
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ok(system(cmd) == 0, "cleanup");
    json_object_put(man);
    json_object_put(m2);
    fa_nn_free(nn);
    fa_nn_free(nn2);
    fa_policy_data_free(&d);
    return tap_done();
}
