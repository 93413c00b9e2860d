/* Unit tests for fa_nn: the PRNG, masked softmax, the network's analytic
 * gradient against central finite differences, Adam, clipping,
 * determinism and the weight file format. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_nn.h"
#include "tap.h"
#include "fa_banned.h"

/* A scalar function of the outputs with known derivative:
 * L = sum_a c_a z_a^2 / 2 + cv v^3 / 3 */
static const double cz[3] = {0.7, -1.3, 0.4};
static const double cv = 0.9;

static double loss_of(struct fa_nn *nn, const double *x)
{
    double z[3], v;
    fa_nn_forward(nn, x, z, &v);
    return 0.5 * (cz[0] * z[0] * z[0] + cz[1] * z[1] * z[1] + cz[2] * z[2] * z[2]) +
           cv * v * v * v / 3;
}

static double gradcheck(int in, int nh, const int *w, enum fa_nn_act act, int trunks, uint64_t seed)
{
    struct fa_nn *nn = fa_nn_new_trunks(in, nh, w, act, trunks, seed);
    struct fa_rng r;
    fa_rng_seed(&r, seed + 1);
    double *x = malloc((size_t)in * sizeof *x);
    for (int i = 0; i < in; i++)
        x[i] = fa_rng_normal(&r);
    size_t np = fa_nn_nparams(nn);
    double *p = fa_nn_params(nn);
    /* bigger head weights so the policy head's gradient is not tiny */
    for (size_t i = 0; i < np; i++)
        p[i] += 0.3 * fa_rng_normal(&r);
    fa_nn_zero_grad(nn);
    double z[3], v;
    fa_nn_forward(nn, x, z, &v);
    double dz[3] = {cz[0] * z[0], cz[1] * z[1], cz[2] * z[2]};
    fa_nn_backward(nn, dz, cv * v * v);
    double *g = malloc(np * sizeof *g);
    memcpy(g, fa_nn_grads(nn), np * sizeof *g);
    double worst = 0;
    const double h = 1e-5;
    for (size_t i = 0; i < np; i++) {
        double keep = p[i];
        p[i] = keep + h;
        double lp = loss_of(nn, x);
        p[i] = keep - h;
        double lm = loss_of(nn, x);
        p[i] = keep;
        double num = (lp - lm) / (2 * h);
        double err = fabs(num - g[i]) / fmax(1e-6, fabs(num) + fabs(g[i]));
        if (act == FA_NN_RELU && fabs(num - g[i]) < 1e-7)
            err = 0; /* a kink crossed: both tiny */
        if (err > worst)
            worst = err;
    }
    free(g);
    free(x);
    fa_nn_free(nn);
    return worst;
}

int main(void)
{
    struct fa_rng a, b;
    fa_rng_seed(&a, 42);
    fa_rng_seed(&b, 42);
    int same = 1;
    for (int i = 0; i < 1000; i++)
        same &= fa_rng_next(&a) == fa_rng_next(&b);
    ok(same, "same seed, same stream");
    fa_rng_seed(&b, 43);
    ok(fa_rng_next(&a) != fa_rng_next(&b), "other seed, other stream");
    double m = 0;
    for (int i = 0; i < 100000; i++)
        m += fa_rng_uniform(&a);
    is_num(m / 100000, 0.5, 0.01, "uniform mean near 0.5");
    double s1 = 0, s2 = 0;
    for (int i = 0; i < 100000; i++) {
        double z = fa_rng_normal(&a);
        s1 += z;
        s2 += z * z;
    }
    is_num(s1 / 100000, 0, 0.02, "normal mean near 0");
    is_num(s2 / 100000, 1, 0.03, "normal variance near 1");
    int hist[5] = {0};
    for (int i = 0; i < 50000; i++)
        hist[fa_rng_below(&a, 5)]++;
    ok(hist[0] > 9000 && hist[4] > 9000 && hist[2] > 9000, "below(5) covers its range");

    /* masked softmax */
    double z[3] = {1.0, 2.0, 3.0}, p[3], lp[3];
    ok(fa_nn_softmax(z, 7, p, lp) == 0, "softmax all legal");
    is_num(p[0] + p[1] + p[2], 1, 1e-12, "probabilities sum to 1");
    ok(fa_nn_softmax(z, 3, p, lp) == 0 && p[2] == 0 && isinf(lp[2]) && lp[2] < 0,
       "masked action has probability 0, log -inf");
    is_num(p[0] + p[1], 1, 1e-12, "legal probabilities sum to 1");
    is_num(p[1] / p[0], exp(1.0), 1e-12, "ratio of legal probabilities kept");
    ok(fa_nn_softmax(z, 0, p, lp) < 0, "no legal action refused");
    double zbig[3] = {1000, -1000, 999};
    ok(fa_nn_softmax(zbig, 5, p, lp) == 0 && isfinite(lp[0]) && p[1] == 0, "large logits stable");
    /* sampling never picks a masked action even with the largest logit */
    double zm[3] = {-5, 0, 50};
    fa_nn_softmax(zm, 3, p, lp);
    int bad = 0;
    for (int i = 0; i < 20000; i++)
        bad += fa_nn_sample(p, 3, &a) == 2;
    ok(bad == 0, "sampling never returns a masked action (%d)", bad);
    ok(fa_nn_argmax(p, 3) == 1, "argmax over legal actions only");

    /* gradient checks over random shapes */
    int w1[] = {8, 6}, w2[] = {5}, w3[] = {7, 7, 4};
    double e;
    e = gradcheck(5, 2, w1, FA_NN_TANH, 1, 1);
    ok(e < 1e-6, "gradcheck tanh 5-8-6 (max rel err %.2g)", e);
    e = gradcheck(4, 1, w2, FA_NN_RELU, 1, 2);
    ok(e < 1e-6, "gradcheck relu 4-5 (max rel err %.2g)", e);
    e = gradcheck(6, 3, w3, FA_NN_TANH, 1, 3);
    ok(e < 1e-6, "gradcheck tanh 6-7-7-4 (max rel err %.2g)", e);
    e = gradcheck(3, 0, NULL, FA_NN_TANH, 1, 4);
    ok(e < 1e-6, "gradcheck linear heads (max rel err %.2g)", e);
    e = gradcheck(9, 2, w1, FA_NN_RELU, 1, 5);
    ok(e < 1e-6, "gradcheck relu 9-8-6 (max rel err %.2g)", e);
    e = gradcheck(5, 2, w1, FA_NN_TANH, 2, 6);
    ok(e < 1e-6, "gradcheck two trunks tanh 5-8-6 (max rel err %.2g)", e);
    e = gradcheck(6, 3, w3, FA_NN_RELU, 2, 7);
    ok(e < 1e-6, "gradcheck two trunks relu 6-7-7-4 (max rel err %.2g)", e);

    /* two trunks: the value loss reaches only the value trunk and head,
     * the policy loss only the policy trunk and head */
    {
        struct fa_nn *t2 = fa_nn_new_trunks(5, 2, w1, FA_NN_TANH, 2, 11);
        size_t trunk = (size_t)(8 * 5 + 8 + 6 * 8 + 6), heads = 3 * 6 + 3 + 6 + 1;
        ok(t2 && fa_nn_trunks(t2) == 2 && fa_nn_nparams(t2) == 2 * trunk + heads,
           "two trunks: parameter count");
        double xt[5] = {0.3, -1, 0.2, 0.7, -0.4}, zt[3], vt, dzt[3] = {0.5, -0.2, 0.1},
               dz0t[3] = {0, 0, 0};
        const double *gt = t2 ? fa_nn_grads(t2) : NULL;
        int leak = 0, reach = 0;
        for (int k = 0; t2 && k < 2; k++) {
            fa_nn_zero_grad(t2);
            fa_nn_forward(t2, xt, zt, &vt);
            fa_nn_backward(t2, k ? dz0t : dzt, k ? 1.0 : 0.0);
            /* k 0: policy loss; value trunk [trunk, 2 trunk) and value
             * head (the last 7) untouched. k 1: the value loss */
            for (size_t i = 0; i < 2 * trunk + heads; i++) {
                bool pol = i < trunk || (i >= 2 * trunk && i < 2 * trunk + 21);
                if (pol != (k == 0) && gt[i] != 0)
                    leak++;
                if (pol == (k == 0) && gt[i] != 0)
                    reach++;
            }
        }
        ok(t2 && leak == 0 && reach > 0, "two trunks: each loss stays in its own trunk (%d)", leak);
        /* gradients of passes add up: two passes give exactly the sum of
         * each alone (the first layers' are added later, in pass order) */
        if (t2) {
            size_t n2 = fa_nn_nparams(t2);
            double xu[5] = {-0.5, 0.25, 1.5, -2, 0.125}, *g1 = malloc(n2 * sizeof *g1),
                   *g2 = malloc(n2 * sizeof *g2);
            const double *xs2[2] = {xt, xu};
            double zk[3], vk;
            for (int k = 0; k < 2; k++) {
                fa_nn_zero_grad(t2);
                fa_nn_forward(t2, xs2[k], zk, &vk);
                fa_nn_backward(t2, dzt, 0.7);
                memcpy(k ? g2 : g1, fa_nn_grads(t2), n2 * sizeof *g1);
            }
            fa_nn_zero_grad(t2);
            for (int k = 0; k < 2; k++) {
                fa_nn_forward(t2, xs2[k], zk, &vk);
                fa_nn_backward(t2, dzt, 0.7);
            }
            const double *g12 = fa_nn_grads(t2);
            int diff = 0;
            for (size_t i = 0; i < n2; i++)
                diff += g12[i] != g1[i] + g2[i];
            ok(diff == 0, "two passes: the sum of their gradients, bit for bit (%d differ)", diff);
            free(g1);
            free(g2);
        }
        double zp[3];
        if (t2)
            fa_nn_forward(t2, xt, zp, NULL);
        ok(t2 && !memcmp(zp, zt, sizeof zp), "logits alone: the same logits");
        struct fa_nn *t1 = fa_nn_new(5, 0, NULL, FA_NN_TANH, 11);
        ok(t1 && fa_nn_trunks(t1) == 1, "no hidden layer: one trunk");
        fa_nn_free(t1);
        ok(fa_nn_new_trunks(5, 2, w1, FA_NN_TANH, 3, 1) == NULL, "three trunks refused");
        /* weight file: FANN0003, the trunks and the clamp read back */
        double mu2[5] = {0}, isd2[5] = {1, 1, 1, 1, 1};
        FILE *tf = tmpfile();
        char magic[9] = {0};
        ok(t2 && fa_nn_set_input_norm(t2, mu2, isd2) == 0 && tf &&
               fa_nn_write(t2, tf, "tmp") == 0 && (rewind(tf), fread(magic, 1, 8, tf)) == 8 &&
               !strcmp(magic, "FANN0003"),
           "two trunks written as FANN0003");
        rewind(tf);
        struct fa_nn *t3 = tf ? fa_nn_read(tf, "tmp") : NULL;
        double z3t[3], v3t, z2t[3], v2t;
        if (t3 && t2) {
            fa_nn_forward(t3, xt, z3t, &v3t);
            fa_nn_forward(t2, xt, z2t, &v2t);
        }
        ok(t3 && fa_nn_trunks(t3) == 2 && fa_nn_input_clip(t3) == FA_NN_NORM_CLIP &&
               !memcmp(z3t, z2t, sizeof z3t) && v3t == v2t,
           "two trunks read back: same outputs");
        if (tf)
            fclose(tf);
        /* a shared trunk with the old clamp keeps the old format */
        struct fa_nn *old = fa_nn_new(5, 2, w1, FA_NN_TANH, 12);
        tf = tmpfile();
        memset(magic, 0, sizeof magic);
        if (old && fa_nn_set_input_norm(old, mu2, isd2) == 0)
            fa_nn_set_input_clip(old, FA_NN_NORM_CLIP_V2);
        ok(old && tf && fa_nn_write(old, tf, "tmp") == 0 &&
               (rewind(tf), fread(magic, 1, 8, tf)) == 8 && !strcmp(magic, "FANN0002"),
           "shared trunk, clamp 10: FANN0002");
        rewind(tf);
        struct fa_nn *old2 = tf ? fa_nn_read(tf, "tmp") : NULL;
        ok(old2 && fa_nn_trunks(old2) == 1 && fa_nn_input_clip(old2) == FA_NN_NORM_CLIP_V2,
           "FANN0002 read with its clamp, one trunk");
        if (tf)
            fclose(tf);
        fa_nn_free(old);
        fa_nn_free(old2);
        fa_nn_free(t3);
        fa_nn_free(t2);
    }

    /* bad shapes */
    int wbad[] = {0};
    ok(fa_nn_new(3, 1, wbad, FA_NN_TANH, 1) == NULL, "width 0 refused");
    ok(fa_nn_new(0, 0, NULL, FA_NN_TANH, 1) == NULL, "input 0 refused");
    ok(fa_nn_new(3, FA_NN_MAXLAYERS + 1, w3, FA_NN_TANH, 1) == NULL, "too many layers refused");

    /* determinism and init */
    struct fa_nn *n1 = fa_nn_new(6, 2, w1, FA_NN_TANH, 7);
    struct fa_nn *n2 = fa_nn_new(6, 2, w1, FA_NN_TANH, 7);
    struct fa_nn *n3 = fa_nn_new(6, 2, w1, FA_NN_TANH, 8);
    size_t np = fa_nn_nparams(n1);
    ok(np == (size_t)(8 * 6 + 8 + 6 * 8 + 6 + 3 * 6 + 3 + 6 + 1), "parameter count (%zu)", np);
    ok(!memcmp(fa_nn_params(n1), fa_nn_params(n2), np * sizeof(double)), "same seed, same weights");
    ok(memcmp(fa_nn_params(n1), fa_nn_params(n3), np * sizeof(double)),
       "other seed, other weights");
    double x[6] = {0.1, -0.2, 0.3, 0.5, -1, 2}, zz[3], v;
    fa_nn_forward(n1, x, zz, &v);
    ok(fabs(zz[0]) < 0.1 && fabs(zz[1]) < 0.1 && fabs(zz[2]) < 0.1,
       "initial policy near uniform (small logits)");

    /* clipping */
    fa_nn_zero_grad(n1);
    double *g = fa_nn_grads(n1);
    for (size_t i = 0; i < np; i++)
        g[i] = 1;
    double norm = fa_nn_clip_grad(n1, 0.5);
    is_num(norm, sqrt((double)np), 1e-9, "clip returns the norm before");
    double ss = 0;
    for (size_t i = 0; i < np; i++)
        ss += g[i] * g[i];
    is_num(sqrt(ss), 0.5, 1e-5, "clipped to 0.5");
    fa_nn_zero_grad(n1);
    g[0] = 0.1;
    fa_nn_clip_grad(n1, 0.5);
    is_num(g[0], 0.1, 0, "small gradient untouched");

    /* Adam minimises a quadratic of the value: v(x) -> 3 */
    struct fa_nn *q = fa_nn_new(6, 2, w1, FA_NN_TANH, 9);
    double zq[3], vq = 0, dz0[3] = {0, 0, 0};
    for (int it = 0; it < 500; it++) {
        fa_nn_zero_grad(q);
        fa_nn_forward(q, x, zq, &vq);
        fa_nn_backward(q, dz0, vq - 3);
        fa_nn_adam_step(q, 0.01);
    }
    fa_nn_forward(q, x, zq, &vq);
    is_num(vq, 3, 1e-3, "Adam fits a value target");

    /* weight file round trip and refusals */
    FILE *f = tmpfile();
    ok(f && fa_nn_write(q, f, "tmp") == 0, "write weights");
    rewind(f);
    struct fa_nn *r2 = fa_nn_read(f, "tmp");
    ok(r2 && fa_nn_nparams(r2) == fa_nn_nparams(q) &&
           !memcmp(fa_nn_params(r2), fa_nn_params(q), fa_nn_nparams(q) * sizeof(double)),
       "read back the same weights");
    ok(r2 && fa_nn_width(r2, 1) == 6 && fa_nn_activation(r2) == FA_NN_TANH, "shape read back");
    long len = ftell(f);
    fclose(f);
    f = tmpfile();
    fa_nn_write(q, f, "tmp");
    fflush(f);
    ok(ftruncate(fileno(f), len - 3) == 0, "truncate a copy");
    rewind(f);
    ok(fa_nn_read(f, "tmp") == NULL, "truncated file refused");
    fclose(f);
    f = tmpfile();
    fputs("NOTAWEIGHTFILE", f);
    rewind(f);
    ok(fa_nn_read(f, "tmp") == NULL, "bad magic refused");
    fclose(f);
    /* input standardisation: applied in the forward pass, cloned, stored */
    double mu[6] = {1, 0, 0, 0, 0, 0}, isd[6] = {2, 1, 1, 1, 1, 1000};
    double xs[6], zs[3], vs, zn[3], vn;
    for (int i = 0; i < 6; i++)
        xs[i] = x[i];
    xs[0] = mu[0] + x[0] / 2;
    xs[5] = 1; /* (1 - 0) x 1000: clamped to FA_NN_NORM_CLIP */
    double xc[6];
    memcpy(xc, x, sizeof xc);
    xc[5] = FA_NN_NORM_CLIP;
    struct fa_nn *sn1 = fa_nn_clone(q);
    ok(sn1 && !fa_nn_has_input_norm(sn1) && fa_nn_set_input_norm(sn1, mu, isd) == 0 &&
           fa_nn_has_input_norm(sn1),
       "input standardisation set");
    fa_nn_forward(sn1, xs, zs, &vs);
    fa_nn_forward(q, xc, zn, &vn);
    ok(fabs(zs[0] - zn[0]) + fabs(zs[1] - zn[1]) + fabs(zs[2] - zn[2]) + fabs(vs - vn) < 1e-12,
       "standardised and clamped input, same outputs");
    f = tmpfile();
    ok(f && fa_nn_write(sn1, f, "tmp") == 0, "write weights with standardisation");
    rewind(f);
    struct fa_nn *sn2 = fa_nn_read(f, "tmp");
    double z2[3], v2;
    if (sn2)
        fa_nn_forward(sn2, xs, z2, &v2);
    ok(sn2 && fa_nn_has_input_norm(sn2) && !memcmp(zs, z2, sizeof zs) && vs == v2,
       "standardisation read back");
    len = ftell(f);
    fclose(f);
    f = tmpfile();
    fa_nn_write(sn1, f, "tmp");
    fflush(f);
    ok(ftruncate(fileno(f), len - 8) == 0 && (rewind(f), fa_nn_read(f, "tmp") == NULL),
       "truncated standardisation refused");
    fclose(f);
    struct fa_nn *sn3 = fa_nn_clone(sn1);
    double z3[3], v3;
    if (sn3)
        fa_nn_forward(sn3, xs, z3, &v3);
    ok(sn3 && !memcmp(zs, z3, sizeof zs) && vs == v3, "clone keeps the standardisation");
    fa_nn_free(sn1);
    fa_nn_free(sn2);
    fa_nn_free(sn3);
    struct fa_nn *c = fa_nn_clone(q);
    ok(c && !memcmp(fa_nn_params(c), fa_nn_params(q), np * sizeof(double)), "clone copies");
    ok(fa_nn_act_parse("relu") == FA_NN_RELU && fa_nn_act_parse("x") < 0, "activation names");

    fa_nn_free(c);
    fa_nn_free(r2);
    fa_nn_free(q);
    fa_nn_free(n1);
    fa_nn_free(n2);
    fa_nn_free(n3);
    return tap_done();
}
