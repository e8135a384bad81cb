/* o3.Norm: per irrep copy, the (squared) norm. */
#include <stdio.h>
#include <stdlib.h>

#include "e3check/nn.h"
#include "nn_internal.h"

typedef struct norm_state {
    e3c_irreps irreps; /* simplified */
    int squared;
} norm_state;

static void free_norm(void *p)
{
    norm_state *s = p;
    e3c_irreps_free(&s->irreps);
    free(s);
}

/* s_u = sum_i x[u, i]^2 for every copy u of every entry, concatenated. */
static e3c_status norm_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    const norm_state *s = e3c_module_state(self);
    if (e3c_values_count(in) != 1)
        return e3c_error_set(E3C_ERR_VALUE, "Norm takes one input, got %zu", e3c_values_count(in));
    const e3c_tensor *x = e3c_values_get(in, 0);
    e3c_values *parts = NULL;
    e3c_tensor *cat = NULL, *res = NULL;
    e3c_status st = e3c_tensor_check_last_dim(x, e3c_irreps_dim(&s->irreps), "x"); /* recorded in the trace too */
    if (!st)
        st = e3c_values_new(&parts);
    int64_t start = 0;
    for (size_t i = 0; !st && i < s->irreps.len; i++) {
        const e3c_mulir *m = &s->irreps.items[i];
        int64_t d = e3c_irrep_dim(m->ir), shape[2] = {m->mul, d};
        e3c_tensor *slice = NULL, *blocks = NULL, *sq = NULL, *sum = NULL;
        st = e3c_tensor_narrow(&slice, x, -1, start, m->mul * d);
        if (!st)
            st = e3c_tensor_unflatten_last(&blocks, slice, shape, 2);
        if (!st)
            st = e3c_tensor_unary(&sq, blocks, E3C_OP_SQUARE);
        if (!st)
            st = e3c_tensor_sum(&sum, sq, -1, 0);
        if (!st)
            st = e3c_values_push(parts, sum);
        start += m->mul * d;
        e3c_tensor_free(slice), e3c_tensor_free(blocks), e3c_tensor_free(sq), e3c_tensor_free(sum);
    }
    if (!st)
        st = s->irreps.len ? e3c_tensor_cat(&cat, parts, -1) : e3c_tensor_narrow(&cat, x, -1, 0, 0);
    if (!st && !s->squared) {
        e3c_tensor *r = NULL;
        st = e3c_tensor_unary(&r, cat, E3C_OP_RELU);
        if (!st)
            st = e3c_tensor_unary(&res, r, E3C_OP_SQRT);
        e3c_tensor_free(r);
    } else if (!st) {
        st = e3c_tensor_ref(&res, cat);
    }
    if (!st)
        st = e3c_values_new(out);
    if (!st)
        st = e3c_values_push(*out, res);
    e3c_values_free(parts);
    e3c_tensor_free(cat);
    e3c_tensor_free(res);
    return st;
}

const e3c_module_class e3c_norm_class = {
    .name = "Norm", .mode = "trace", .forward = norm_forward, .free_state = free_norm};

e3c_status e3c_norm_new(e3c_module **out, const char *irreps_in, int squared)
{
    if (!out || !irreps_in)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_norm_new: NULL argument");
    *out = NULL;
    norm_state *s = calloc(1, sizeof *s);
    if (!s)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for Norm");
    e3c_irreps parsed;
    e3c_status st = e3c_irreps_parse(&parsed, irreps_in);
    if (!st) {
        st = e3c_irreps_simplify(&s->irreps, &parsed);
        e3c_irreps_free(&parsed);
    }
    s->squared = squared;
    if (st) {
        free(s);
        return e3c_error_prefix("Norm");
    }
    char *in_text = NULL, out_text[64];
    int64_t n_out = e3c_irreps_num_irreps(&s->irreps);
    st = e3c_irreps_format(&in_text, &s->irreps);
    snprintf(out_text, sizeof out_text, "%lldx0e", (long long)n_out);
    e3c_module *m = NULL;
    if (!st)
        st = e3c_module_new(&m, &e3c_norm_class, s);
    else
        free_norm(s);
    const char *ins[1] = {in_text}, *outs[1] = {n_out ? out_text : ""};
    if (!st)
        st = e3c_module_set_irreps_in(m, ins, 1);
    if (!st)
        st = e3c_module_set_irreps_out(m, outs, 1);
    free(in_text);
    return nn_finish(out, m, st);
}
