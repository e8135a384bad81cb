/* The activation functions by name and e3nn's normalize2mom procedure (MODULES_SPEC.md 11).
 * Kept apart from the Activation module because the build runs it too: gen_act_constants
 * computes every known function's constant once, and the library looks them up. */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e3check/nn.h"
#include "nn_internal.h"

static const struct act_def {
    const char *name;
    e3c_unary_op op;    /* E3C_OP_CLONE: identity */
    const char *script; /* TorchScript of the function applied to `%s` */
} acts[] = {{"silu", E3C_OP_SILU, "torch.silu(%s)"},
            {"tanh", E3C_OP_TANH, "torch.tanh(%s)"},
            {"sigmoid", E3C_OP_SIGMOID, "torch.sigmoid(%s)"},
            {"abs", E3C_OP_ABS, "torch.abs(%s)"},
            {"relu", E3C_OP_RELU, "torch.relu(%s)"},
            {"gelu", E3C_OP_GELU, "torch.gelu(%s)"},
            {"softplus", E3C_OP_SOFTPLUS, "torch.softplus(%s)"},
            {"sin", E3C_OP_SIN, "torch.sin(%s)"},
            {"identity", E3C_OP_CLONE, "%s"}};
enum { N_ACTS = sizeof acts / sizeof *acts };

static int act_index(const char *name)
{
    for (int i = 0; name && i < N_ACTS; i++)
        if (!strcmp(acts[i].name, name))
            return i;
    return -1;
}

e3c_status unknown_activation(const char *name)
{
    return e3c_error_set(E3C_ERR_VALUE,
                         "unknown activation \"%s\" (silu, tanh, sigmoid, abs, relu, gelu, softplus, sin, "
                         "identity)",
                         name ? name : "(null)");
}

/* f applied elementwise (identity: a new reference). */
e3c_status act_apply(int a, const e3c_tensor *x, e3c_tensor **out)
{
    return acts[a].op == E3C_OP_CLONE ? e3c_tensor_ref(out, x) : e3c_tensor_unary(out, x, acts[a].op);
}

const char *act_script(int a) { return acts[a].script; }

/* e3nn's Monte-Carlo constant: z = randn(1e6, seed 0, float64), cst = mean(f(z)^2)^(-1/2). */
static e3c_status monte_carlo(int a, double *cst)
{
    e3c_generator *g = NULL;
    e3c_tensor *z = NULL, *f = NULL, *f2 = NULL, *sum = NULL;
    int64_t n = 1000000;
    double total = 0;
    e3c_status st = e3c_generator_new(&g, 0);
    if (!st)
        st = e3c_randn(&z, g, E3C_FLOAT64, &n, 1);
    if (!st)
        st = act_apply(a, z, &f);
    if (!st)
        st = e3c_tensor_unary(&f2, f, E3C_OP_SQUARE);
    if (!st)
        st = e3c_tensor_sum_all(&sum, f2);
    if (!st)
        st = e3c_tensor_to_doubles(&total, 1, sum);
    if (!st)
        *cst = 1.0 / sqrt(total / (double)n); /* ATen computes pow(x, -0.5) as rsqrt */
    e3c_generator_free(g), e3c_tensor_free(z), e3c_tensor_free(f), e3c_tensor_free(f2), e3c_tensor_free(sum);
    return st;
}

/* Parity of the normalised function on linspace(0, 10, 256): 1 even, -1 odd, 0 none. */
static e3c_status probe_parity(int a, double cst, int *parity)
{
    double t[512];
    for (int i = 0; i < 256; i++) {
        t[i] = 10.0 * i / 255.0;
        t[256 + i] = -t[i];
    }
    int64_t n = 512;
    e3c_tensor *x = NULL, *y = NULL;
    double v[512];
    e3c_status st = e3c_tensor_from_data(&x, t, E3C_FLOAT64, &n, 1);
    if (!st)
        st = act_apply(a, x, &y);
    if (!st)
        st = e3c_tensor_to_doubles(v, 512, y);
    double even = 0, odd = 0;
    for (int i = 0; !st && i < 256; i++) {
        even = fmax(even, fabs(cst * v[i] - cst * v[256 + i]));
        odd = fmax(odd, fabs(cst * v[i] + cst * v[256 + i]));
    }
    *parity = even < 1e-5 ? 1 : odd < 1e-5 ? -1 : 0;
    e3c_tensor_free(x), e3c_tensor_free(y);
    return st;
}

e3c_status e3c_normalize2mom_monte_carlo(double *cst, int *parity, const char *name)
{
    int a = act_index(name);
    double c = 0;
    int p = 0;
    if (a < 0)
        return unknown_activation(name);
    e3c_status st = monte_carlo(a, &c);
    if (!st)
        st = probe_parity(a, c, &p);
    malloc_trim(0); /* return the 1e6-sample temporaries to the system */
    if (!st && cst)
        *cst = c;
    if (!st && parity)
        *parity = p;
    return st;
}

const char *act_name(int a) { return a >= 0 && a < N_ACTS ? acts[a].name : NULL; }

int act_lookup(const char *name) { return act_index(name); }

int e3c_activation_known(const char *name) { return act_index(name) >= 0; }
