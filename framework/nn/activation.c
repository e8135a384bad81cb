/* nn.Activation (mode "trace") and normalize2mom's constants (MODULES_SPEC.md 11). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_constants.h" /* generated at build time by gen_act_constants */
#include "e3check/nn.h"
#include "nn_internal.h"

e3c_status e3c_normalize2mom(double *cst, int *parity, const char *name)
{
    int a = act_lookup(name);
    if (a < 0)
        return unknown_activation(name);
    /* the generator wrote one entry per activation, in act_functions.c's order */
    if ((size_t)a >= sizeof act_constants / sizeof *act_constants || strcmp(act_constants[a].name, name))
        return e3c_error_set(E3C_ERR_INTERNAL, "normalize2mom: the build's table does not match \"%s\"", name);
    if (cst)
        *cst = act_constants[a].cst;
    if (parity)
        *parity = act_constants[a].parity;
    return E3C_OK;
}

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
    e3c_values *parts = NULL;
    e3c_tensor *y = NULL;
    e3c_status st = e3c_tensor_check_last_dim(x, e3c_irreps_dim(&s->in), "x"); /* recorded in the trace too */
    if (!st)
        st = e3c_values_new(&parts);
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
    if (!st && e3c_values_count(parts) == 1) /* e3nn returns the one part itself */
        st = e3c_tensor_ref(&y, e3c_values_get(parts, 0));
    else if (!st)
        st = e3c_values_count(parts) ? e3c_tensor_cat(&y, parts, -1) : e3c_tensor_unary(&y, x, E3C_OP_CLONE);
    if (!st)
        st = e3c_values_new(out);
    if (!st)
        st = e3c_values_push(*out, y);
    e3c_values_free(parts), e3c_tensor_free(y);
    return st;
}

static const e3c_module_class activation_class = {
    .name = "Activation", .mode = "trace", .forward = activation_forward, .free_state = act_free};

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
        st = e3c_error_set(E3C_ERR_VALUE,
                           "Irreps in and number of activation functions does not match: (%zu, (%s, %zu functions))",
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
            st = e3c_normalize2mom(&s->cst[i], &parity, act_names[i]);
            if (st)
                break;
            s->act[i] = act_lookup(act_names[i]);
            s->identity[i] = fabs(s->cst[i] - 1.0) < 1e-4;
            if (e.ir.l != 0) {
                st = e3c_error_set(E3C_ERR_VALUE,
                                   "Activation: cannot apply an activation function to a non-scalar input.");
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
        st = entries ? e3c_irreps_from_entries(&s->out, entries, s->in.len)
                     : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    free(entries);
    if (st) {
        act_free(s);
        return st;
    }
    char *out_text = NULL;
    e3c_module *m = NULL;
    st = e3c_irreps_format(&out_text, &s->out);
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
