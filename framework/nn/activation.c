/* normalize2mom, nn.Activation (mode "trace") and the activation functions by name
 * (MODULES_SPEC.md 11). */
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e3check/nn.h"
#include "nn_internal.h"

static const struct act_def {
    const char *name;
    e3c_unary_op op; /* E3C_OP_CLONE: identity */
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

static double cst_cache[N_ACTS];
static int parity_cache[N_ACTS];
static int cache_done[N_ACTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int act_index(const char *name)
{
    for (int i = 0; name && i < N_ACTS; i++)
        if (!strcmp(acts[i].name, name))
            return i;
    return -1;
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
        st = e3c_tensor_to_doubles(sum, &total, 1);
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
        st = e3c_tensor_to_doubles(y, v, 512);
    double even = 0, odd = 0;
    for (int i = 0; !st && i < 256; i++) {
        even = fmax(even, fabs(cst * v[i] - cst * v[256 + i]));
        odd = fmax(odd, fabs(cst * v[i] + cst * v[256 + i]));
    }
    *parity = even < 1e-5 ? 1 : odd < 1e-5 ? -1 : 0;
    e3c_tensor_free(x), e3c_tensor_free(y);
    return st;
}

e3c_status e3c_normalize2mom(const char *name, double *cst, int *parity)
{
    int a = act_index(name);
    if (a < 0)
        return e3c_error_set(E3C_ERR_VALUE, "unknown activation \"%s\" (silu, tanh, sigmoid, abs, relu, gelu, softplus, sin, "
                                            "identity)", name ? name : "(null)");
    pthread_mutex_lock(&cache_lock);
    e3c_status st = E3C_OK;
    if (!cache_done[a]) {
        st = monte_carlo(a, &cst_cache[a]);
        if (!st)
            st = probe_parity(a, cst_cache[a], &parity_cache[a]);
        cache_done[a] = !st;
        malloc_trim(0); /* return the 1e6-sample temporaries to the system: forked checks inherit the heap */
    }
    if (!st) {
        if (cst)
            *cst = cst_cache[a];
        if (parity)
            *parity = parity_cache[a];
    }
    pthread_mutex_unlock(&cache_lock);
    return st;
}

int act_lookup(const char *name) { return act_index(name); }

int e3c_activation_known(const char *name) { return act_index(name) >= 0; }

/* ------------------------------------------------------------------ Activation ---- */

typedef struct act_state {
    e3c_irreps in, out;
    int *act;      /* per entry: index or -1 */
    double *cst;   /* per entry */
    int *identity; /* |cst - 1| < 1e-4: applied without the factor */
} act_state;

static void act_free(void *p)
{
    act_state *s = p;
    if (!s)
        return;
    e3c_irreps_free(&s->in), e3c_irreps_free(&s->out);
    free(s->act), free(s->cst), free(s->identity);
    free(s);
}

static e3c_status activation_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    const act_state *s = e3c_module_state(self);
    if (e3c_values_count(in) != 1)
        return e3c_error_set(E3C_ERR_VALUE, "Activation takes one input, got %zu", e3c_values_count(in));
    const e3c_tensor *x = e3c_values_get(in, 0);
    if (e3c_tensor_size(x, -1) != e3c_irreps_dim(&s->in))
        return e3c_error_set(E3C_ERR_VALUE, "Activation: input has width %lld, expected %lld",
                             (long long)e3c_tensor_size(x, -1), (long long)e3c_irreps_dim(&s->in));
    e3c_values *parts = NULL;
    e3c_tensor *y = NULL;
    e3c_status st = e3c_values_new(&parts);
    int64_t off = 0;
    for (size_t i = 0; !st && i < s->in.len; i++) {
        int64_t w = s->in.items[i].mul * e3c_irrep_dim(s->in.items[i].ir);
        e3c_tensor *slice = NULL, *f = NULL, *g = NULL;
        st = e3c_tensor_narrow(&slice, x, -1, off, w);
        if (!st && s->act[i] >= 0) {
            st = act_apply(s->act[i], slice, &f);
            if (!st)
                st = s->identity[i] ? e3c_tensor_ref(&g, f) : e3c_tensor_scalar(&g, f, E3C_OP_MUL, s->cst[i]);
        } else if (!st)
            st = e3c_tensor_ref(&g, slice);
        if (!st && w > 0)
            st = e3c_values_push(parts, g);
        e3c_tensor_free(slice), e3c_tensor_free(f), e3c_tensor_free(g);
        off += w;
    }
    if (!st)
        st = e3c_values_count(parts) ? e3c_tensor_cat(&y, parts, -1) : e3c_tensor_unary(&y, x, E3C_OP_CLONE);
    if (!st)
        st = e3c_values_new(out);
    if (!st)
        st = e3c_values_push(*out, y);
    e3c_values_free(parts), e3c_tensor_free(y);
    return st;
}

static const e3c_module_class activation_class = {.name = "Activation", .mode = "trace", .forward = activation_forward,
                                                  .free_state = act_free};

e3c_status e3c_activation_new(e3c_module **out, const char *irreps_in, const char *const *act_names, size_t n_acts)
{
    if (!out || !irreps_in || (n_acts && !act_names))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_activation_new: NULL argument");
    *out = NULL;
    act_state *s = calloc(1, sizeof *s);
    if (!s)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    e3c_status st = e3c_irreps_parse(&s->in, irreps_in);
    if (!st && n_acts != s->in.len)
        st = e3c_error_set(E3C_ERR_VALUE, "Irreps in and number of activation functions does not match: (%zu, (%s, %zu functions))",
                           n_acts, irreps_in, n_acts);
    size_t n = s->in.len ? s->in.len : 1;
    if (!st && (!(s->act = calloc(n, sizeof *s->act)) || !(s->cst = calloc(n, sizeof *s->cst)) ||
                !(s->identity = calloc(n, sizeof *s->identity))))
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    e3c_mulir *entries = st ? NULL : malloc(n * sizeof *entries);
    for (size_t i = 0; !st && i < s->in.len; i++) {
        e3c_mulir e = s->in.items[i];
        s->act[i] = -1;
        if (act_names[i]) {
            int parity;
            st = e3c_normalize2mom(act_names[i], &s->cst[i], &parity);
            if (st)
                break;
            s->act[i] = act_lookup(act_names[i]);
            s->identity[i] = fabs(s->cst[i] - 1.0) < 1e-4;
            if (e.ir.l != 0) {
                st = e3c_error_set(E3C_ERR_VALUE, "Activation: cannot apply an activation function to a non-scalar input.");
                break;
            }
            if (e.ir.p == -1 && parity == 0) {
                st = e3c_error_set(E3C_ERR_VALUE, "Activation: the parity is violated! The input scalar is odd but the "
                                                  "activation is neither even nor odd.");
                break;
            }
            if (e.ir.p == -1)
                e.ir.p = parity;
        }
        entries[i] = e;
    }
    if (!st)
        st = entries ? e3c_irreps_from_entries(&s->out, entries, s->in.len) : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    free(entries);
    if (st) {
        act_free(s);
        return st;
    }
    char *out_text = NULL;
    e3c_module *m = NULL;
    st = e3c_irreps_format(&s->out, &out_text);
    if (!st)
        st = e3c_module_new(&m, &activation_class, s);
    else
        act_free(s);
    const char *ins[1] = {irreps_in}, *outs[1] = {out_text};
    if (!st)
        st = e3c_module_set_irreps_in(m, ins, 1);
    if (!st)
        st = e3c_module_set_irreps_out(m, outs, 1);
    free(out_text);
    return nn_finish(out, m, st);
}
