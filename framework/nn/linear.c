/* o3.Linear: irrep-wise linear maps with e3nn's coefficients, flat weight order and
 * biases on 0e outputs (MODULES_SPEC.md 8). Mode "script" with generated source. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/strbuf.h"
#include "e3check/nn.h"
#include "nn_internal.h"

typedef struct lin_ins {
    int i_in, i_out;
    double coeff;
    int64_t offset, size; /* weight block, (mul_in, mul_out) row-major */
} lin_ins;

typedef struct lin_state {
    e3c_irreps in, out;
    lin_ins *ins;
    size_t n_ins;
    int *bias; /* per output entry */
    int64_t *bias_offset;
    int64_t weight_numel, bias_numel;
    int internal, shared;
    int dense; /* one matrix: see the dense form below */
} lin_state;

static void lin_free(void *p)
{
    lin_state *s = p;
    if (!s)
        return;
    e3c_irreps_free(&s->in);
    e3c_irreps_free(&s->out);
    free(s->ins), free(s->bias), free(s->bias_offset);
    free(s);
}

/* ------------------------------------------------------------------ the dense form ---- */

/* A small Linear with shared weights is one matrix: out = x @ M + bias @ Bb, with
 * M (din, dout) = weight @ B. B has a row per weight, e3nn's coefficient where its copy
 * of the input meets its copy of the output; Bb puts each bias on its 0e output. */
static int lin_dense_eligible(const lin_state *s)
{
    int64_t din = e3c_irreps_dim(&s->in), dout = e3c_irreps_dim(&s->out), size, biases;
    if (!s->shared || s->weight_numel == 0 || din <= 0 || dout <= 0 || din > NN_DENSE_FORM_MAX ||
        dout > NN_DENSE_FORM_MAX || din * dout > NN_DENSE_FORM_MAX)
        return 0;
    return !__builtin_mul_overflow(s->weight_numel, din * dout, &size) &&
           !__builtin_mul_overflow(s->bias_numel, dout, &biases) && size + biases <= nn_dense_limit();
}

/* Register dense_basis (weight_numel, din * dout) and, with biases, dense_bias_basis
 * (bias_numel, dout). */
static e3c_status lin_register_dense(e3c_module *m, const lin_state *s, e3c_dtype dtype)
{
    int64_t din = e3c_irreps_dim(&s->in), dout = e3c_irreps_dim(&s->out);
    double *B = calloc((size_t)(s->weight_numel * din * dout), sizeof *B);
    double *Bb = calloc((size_t)(s->bias_numel ? s->bias_numel * dout : 1), sizeof *Bb);
    e3c_status st = B && Bb ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (size_t k = 0; !st && k < s->n_ins; k++) {
        const lin_ins *t = &s->ins[k];
        int64_t mi = s->in.items[t->i_in].mul, mo = s->out.items[t->i_out].mul,
                d = e3c_irrep_dim(s->in.items[t->i_in].ir);
        int64_t a0 = e3c_irreps_offset(&s->in, (size_t)t->i_in), k0 = e3c_irreps_offset(&s->out, (size_t)t->i_out);
        for (int64_t u = 0; u < mi; u++)
            for (int64_t w = 0; w < mo; w++)
                for (int64_t i = 0; i < d; i++)
                    B[(t->offset + u * mo + w) * din * dout + (a0 + u * d + i) * dout + k0 + w * d + i] = t->coeff;
    }
    for (size_t o = 0; !st && o < s->out.len; o++)
        for (int64_t w = 0; s->bias[o] && w < s->out.items[o].mul; w++)
            Bb[(s->bias_offset[o] + w) * dout + e3c_irreps_offset(&s->out, o) + w] = 1.0;
    int64_t shape[2] = {s->weight_numel, din * dout}, bshape[2] = {s->bias_numel, dout};
    if (!st)
        st = nn_add_constant(m, "dense_basis", B, shape, 2, dtype);
    if (!st && s->bias_numel)
        st = nn_add_constant(m, "dense_bias_basis", Bb, bshape, 2, dtype);
    free(B), free(Bb);
    return st;
}

/* y (..., dout) = x (..., din) @ (weight @ B).view(din, dout) + bias @ Bb. */
static e3c_status lin_dense_forward(e3c_module *self, const lin_state *s, const e3c_tensor *x, const e3c_tensor *w,
                                    const e3c_tensor *b, e3c_tensor **y)
{
    int64_t shape[2] = {e3c_irreps_dim(&s->in), e3c_irreps_dim(&s->out)};
    e3c_tensor *B = NULL, *flat = NULL, *M = NULL, *xm = NULL, *Bb = NULL, *bias = NULL;
    e3c_status st = e3c_module_tensor(&B, self, "dense_basis");
    if (!st)
        st = e3c_tensor_matmul(&flat, w, B);
    if (!st)
        st = e3c_tensor_reshape(&M, flat, shape, 2);
    if (!st)
        st = e3c_tensor_matmul(s->bias_numel ? &xm : y, x, M);
    if (!st && s->bias_numel) {
        st = e3c_module_tensor(&Bb, self, "dense_bias_basis");
        if (!st)
            st = e3c_tensor_matmul(&bias, b, Bb);
        if (!st)
            st = e3c_tensor_binary(y, xm, bias, E3C_OP_ADD);
    }
    e3c_tensor_free(B), e3c_tensor_free(flat), e3c_tensor_free(M), e3c_tensor_free(xm), e3c_tensor_free(Bb),
        e3c_tensor_free(bias);
    return st;
}

/* ------------------------------------------------------------------ forward ---- */

static e3c_status lin_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    const lin_state *s = e3c_module_state(self);
    int external = !s->internal && (s->weight_numel > 0 || s->bias_numel > 0);
    size_t want = 1 + (external ? 1 + (s->bias_numel > 0) : 0);
    if (e3c_values_count(in) != want)
        return e3c_error_set(E3C_ERR_VALUE, "Linear takes %zu inputs, got %zu", want, e3c_values_count(in));
    const e3c_tensor *x = e3c_values_get(in, 0);
    if (nn_check_width(x, e3c_irreps_dim(&s->in), "Incorrect last dimension for x"))
        return E3C_ERR_VALUE;
    e3c_tensor *w = NULL, *b = NULL;
    e3c_status st = E3C_OK;
    if (external) {
        st = e3c_tensor_ref(&w, e3c_values_get(in, 1));
        if (!st && s->bias_numel > 0)
            st = e3c_tensor_ref(&b, e3c_values_get(in, 2));
    } else {
        if (s->weight_numel > 0)
            st = e3c_module_tensor(&w, self, "weight");
        if (!st && s->bias_numel > 0)
            st = e3c_module_tensor(&b, self, "bias");
    }
    if (!st && s->dense) {
        e3c_tensor *y = NULL;
        st = lin_dense_forward(self, s, x, w, b, &y);
        e3c_tensor_free(w), e3c_tensor_free(b);
        return st ? st : e3c_values_take_one(out, y);
    }
    e3c_tensor *xf = NULL; /* shared weights: x flattened to (Z, dim), as the channel mix wants */
    int64_t batch[E3C_MAX_DIMS];
    int nb = 0;
    if (!st && s->shared) {
        st = e3c_tensor_shape(batch, E3C_MAX_DIMS, &nb, x);
        if (!st)
            st = nn_flatten_to(&xf, x, batch, nb - 1, e3c_irreps_dim(&s->in));
        nb--;
    } else if (!st)
        st = e3c_tensor_ref(&xf, x);
    x = xf;
    e3c_values *parts = NULL;
    if (!st)
        st = e3c_values_new(&parts);
    for (size_t o = 0; !st && o < s->out.len; o++) {
        const e3c_mulir *mo = &s->out.items[o];
        int64_t d = e3c_irrep_dim(mo->ir);
        if (mo->mul == 0)
            continue;
        e3c_tensor *acc = NULL;
        for (size_t k = 0; !st && k < s->n_ins; k++) {
            const lin_ins *t = &s->ins[k];
            if (t->i_out != (int)o)
                continue;
            int64_t mi = s->in.items[t->i_in].mul, shape_x[2] = {mi, d}, shape_w[2] = {mi, mo->mul};
            e3c_tensor *xs = NULL, *X = NULL, *ws = NULL, *W = NULL, *T = NULL, *cT = NULL, *sum = NULL;
            st = e3c_tensor_narrow(&xs, x, -1, e3c_irreps_offset(&s->in, (size_t)t->i_in), mi * d);
            if (!st)
                st = e3c_tensor_unflatten_last(&X, xs, shape_x, 2);
            if (!st)
                st = e3c_tensor_narrow(&ws, w, -1, t->offset, t->size);
            if (!st)
                st = e3c_tensor_unflatten_last(&W, ws, shape_w, 2);
            const e3c_tensor *ops[2] = {X, W};
            if (!st && s->shared)
                st = e3c_tensor_channel_mix(&T, X, W);
            else if (!st)
                st = e3c_tensor_einsum(&T, "...ui,...uw->...wi", ops, 2);
            if (!st)
                st = e3c_tensor_scalar(&cT, T, E3C_OP_MUL, t->coeff);
            if (!st && acc)
                st = e3c_tensor_binary(&sum, acc, cT, E3C_OP_ADD);
            if (!st) {
                e3c_tensor_free(acc);
                acc = sum ? sum : cT;
                if (sum)
                    e3c_tensor_free(cT);
                cT = NULL;
            }
            e3c_tensor_free(xs), e3c_tensor_free(X), e3c_tensor_free(ws), e3c_tensor_free(W), e3c_tensor_free(T),
                e3c_tensor_free(cT);
        }
        if (!st && s->bias[o]) { /* out[w, 0] += b[offset + w], after the weights */
            e3c_tensor *bs = NULL, *B = NULL, *sum = NULL, *z = NULL;
            int64_t shape_b[2] = {mo->mul, 1};
            st = e3c_tensor_narrow(&bs, b, -1, s->bias_offset[o], mo->mul);
            if (!st)
                st = e3c_tensor_unflatten_last(&B, bs, shape_b, 2);
            if (!st && !acc) { /* a bias-only entry: zeros plus the bias (e3nn 0.5.6 crashes here) */
                e3c_tensor *zl = NULL;
                st = e3c_tensor_zeros_last(&zl, x, mo->mul);
                if (!st)
                    st = e3c_tensor_unflatten_last(&z, zl, shape_b, 2);
                e3c_tensor_free(zl);
                acc = z;
            }
            if (!st)
                st = e3c_tensor_binary(&sum, acc, B, E3C_OP_ADD);
            if (!st) {
                e3c_tensor_free(acc);
                acc = sum;
            }
            e3c_tensor_free(bs), e3c_tensor_free(B);
        }
        if (!st)
            st = nn_append_block(parts, acc, x, mo->mul * d);
        else
            e3c_tensor_free(acc);
    }
    if (!st && s->shared)
        st = nn_cat_blocks_batch(out, parts, x, batch, nb, e3c_irreps_dim(&s->out));
    else if (!st)
        st = nn_cat_blocks(out, parts, x);
    e3c_tensor_free(w), e3c_tensor_free(b), e3c_tensor_free(xf);
    e3c_values_free(parts);
    return st;
}

static e3c_status lin_source(const lin_state *s, strbuf *sb)
{
    int external = !s->internal && (s->weight_numel > 0 || s->bias_numel > 0);
    if (s->shared && s->n_ins && !s->dense)
        sb_printf(sb, "%s", nn_mix_source);
    sb_printf(sb, "def forward(self, x%s%s):\n", external ? ", weight" : "", external && s->bias_numel ? ", bias" : "");
    nn_emit_width_check(sb, "x", e3c_irreps_dim(&s->in), "Incorrect last dimension for x");
    if (!external && s->weight_numel)
        sb_printf(sb, "    weight = self.weight\n");
    if (!external && s->bias_numel)
        sb_printf(sb, "    bias = self.bias\n");
    if (s->dense) { /* matmul broadcasts the batch dimensions */
        int64_t din = e3c_irreps_dim(&s->in), dout = e3c_irreps_dim(&s->out);
        sb_printf(sb, "    return torch.matmul(x, torch.matmul(weight, self.dense_basis).view(%lld, %lld))%s\n",
                  (long long)din, (long long)dout, s->bias_numel ? " + torch.matmul(bias, self.dense_bias_basis)" : "");
        return sb_text(sb) ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory generating TorchScript");
    }
    if (s->shared)
        sb_printf(sb, "    batch = x.shape[:-1]\n    x = x.reshape(-1, %lld)\n", (long long)e3c_irreps_dim(&s->in));
    sb_printf(sb, "    parts: List[Tensor] = []\n");
    for (size_t o = 0; o < s->out.len; o++) {
        const e3c_mulir *mo = &s->out.items[o];
        int64_t d = e3c_irrep_dim(mo->ir);
        if (mo->mul == 0)
            continue;
        int any = 0;
        for (size_t k = 0; k < s->n_ins; k++) {
            const lin_ins *t = &s->ins[k];
            if (t->i_out != (int)o)
                continue;
            int64_t mi = s->in.items[t->i_in].mul;
            sb_printf(sb,
                      "    t = %s(x.narrow(-1, %lld, %lld).unflatten(-1, [%lld, %lld]), "
                      "weight.narrow(-1, %lld, %lld).unflatten(-1, [%lld, %lld])%s)\n",
                      s->shared ? "self._mix" : "torch.einsum(\"...ui,...uw->...wi\", [",
                      (long long)e3c_irreps_offset(&s->in, (size_t)t->i_in), (long long)(mi * d), (long long)mi,
                      (long long)d, (long long)t->offset, (long long)t->size, (long long)mi, (long long)mo->mul,
                      s->shared ? "" : "]");
            sb_printf(sb, "    acc = %s%.17g * t\n", any ? "acc + " : "", t->coeff);
            any = 1;
        }
        if (s->bias[o]) {
            if (!any)
                sb_printf(sb, "    acc = x.new_zeros(x.shape[:-1] + [%lld, 1])\n", (long long)mo->mul);
            sb_printf(sb, "    acc = acc + bias.narrow(-1, %lld, %lld).unsqueeze(-1)\n", (long long)s->bias_offset[o],
                      (long long)mo->mul);
            any = 1;
        }
        if (any)
            sb_printf(sb, "    parts.append(acc.flatten(-2, -1))\n");
        else
            sb_printf(sb, "    parts.append(x.new_zeros(x.shape[:-1] + [%lld]))\n", (long long)(mo->mul * d));
    }
    nn_emit_return(sb, "x", &s->out, s->shared);
    return sb_text(sb) ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory generating TorchScript");
}

static const e3c_module_class linear_class = {
    .name = "Linear", .mode = "script", .forward = lin_forward, .free_state = lin_free};

/* Instructions (default: every equal pair), biases, coefficients, layout. */
static e3c_status lin_resolve(lin_state *s, const e3c_linear_options *o)
{
    int path = o->path_normalization && !strcmp(o->path_normalization, "path");
    if (o->path_normalization && !path && strcmp(o->path_normalization, "element"))
        return e3c_error_set(E3C_ERR_VALUE, "path_normalization must be element or path, got \"%s\"",
                             o->path_normalization);
    size_t cap = o->instructions ? o->n_instructions : s->in.len * s->out.len;
    s->ins = calloc(cap ? cap : 1, sizeof *s->ins);
    s->bias = calloc(s->out.len ? s->out.len : 1, sizeof *s->bias);
    s->bias_offset = calloc(s->out.len ? s->out.len : 1, sizeof *s->bias_offset);
    if (!s->ins || !s->bias || !s->bias_offset)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (o->instructions) {
        for (size_t k = 0; k < o->n_instructions; k++) {
            int a = o->instructions[2 * k], b = o->instructions[2 * k + 1];
            if (a < 0 || (size_t)a >= s->in.len)
                return e3c_error_set(E3C_ERR_VALUE, "%d is not a valid index for irreps_in", a);
            if (b < 0 || (size_t)b >= s->out.len)
                return e3c_error_set(E3C_ERR_VALUE, "%d is not a valid index for irreps_out", b);
            if (e3c_irrep_compare(s->in.items[a].ir, s->out.items[b].ir))
                return e3c_error_set(E3C_ERR_VALUE, "%d and %d do not have the same irrep", a, b);
            s->ins[s->n_ins++] = (lin_ins){a, b, 0, 0, 0};
        }
    } else {
        for (size_t a = 0; a < s->in.len; a++)
            for (size_t b = 0; b < s->out.len; b++)
                if (!e3c_irrep_compare(s->in.items[a].ir, s->out.items[b].ir))
                    s->ins[s->n_ins++] = (lin_ins){(int)a, (int)b, 0, 0, 0};
    }
    for (size_t k = 0; k < s->n_ins; k++) {
        lin_ins *t = &s->ins[k];
        double x = 0;
        int count = 0;
        for (size_t j = 0; j < s->n_ins; j++)
            if (s->ins[j].i_out == t->i_out) {
                x += (double)s->in.items[s->ins[j].i_in].mul;
                count++;
            }
        if (path)
            x = (double)s->in.items[t->i_in].mul * count;
        if (x == 0)
            x = 1;
        t->coeff = 1.0 / sqrt(x);
        t->offset = s->weight_numel;
        if (__builtin_mul_overflow(s->in.items[t->i_in].mul, s->out.items[t->i_out].mul, &t->size) ||
            t->size > NN_MAX_ELEMENTS || s->weight_numel + t->size > NN_MAX_ELEMENTS)
            return e3c_error_set(E3C_ERR_VALUE,
                                 "Linear path (%d, %d) is too large: more than %lld weights "
                                 "(multiplicities %lld and %lld)",
                                 t->i_in, t->i_out, (long long)NN_MAX_ELEMENTS, (long long)s->in.items[t->i_in].mul,
                                 (long long)s->out.items[t->i_out].mul);
        s->weight_numel += t->size;
    }
    if (o->biases_list && o->n_biases != s->out.len)
        return e3c_error_set(E3C_ERR_VALUE, "biases needs one flag per output entry (%zu), got %zu", s->out.len,
                             o->n_biases);
    for (size_t b = 0; b < s->out.len; b++) {
        int scalar = s->out.items[b].ir.l == 0 && s->out.items[b].ir.p == 1;
        int want = o->biases_list ? o->biases_list[b] : o->biases;
        if (o->biases_list && want && !scalar)
            return e3c_error_set(E3C_ERR_VALUE, "a bias is only allowed on 0e outputs (entry %zu)", b);
        s->bias[b] = want && scalar;
        if (s->bias[b]) {
            s->bias_offset[b] = s->bias_numel;
            s->bias_numel += s->out.items[b].mul;
        }
    }
    s->shared = o->shared_weights < 0 ? 1 : o->shared_weights;
    s->internal = o->internal_weights < 0 ? s->shared : o->internal_weights;
    if (s->internal && !s->shared)
        return e3c_error_set(E3C_ERR_VALUE,
                             "internal weights must be shared (internal_weights=True, shared_weights=False)");
    return E3C_OK;
}

/* e3nn's output_mask: an output entry is used when a weight path (no zero multiplicity)
 * or a bias reaches it. */
static e3c_status lin_output_mask(e3c_module *m, const lin_state *s, e3c_dtype dtype)
{
    int *used = calloc(s->out.len + 1, sizeof *used);
    if (!used)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < s->n_ins; k++)
        used[s->ins[k].i_out] |= s->ins[k].size != 0;
    for (size_t o = 0; o < s->out.len; o++)
        used[o] |= s->bias[o] && s->out.items[o].mul > 0;
    e3c_status st = nn_add_output_mask(m, &s->out, used, dtype);
    free(used);
    return st;
}

e3c_status e3c_linear_new(e3c_module **out, const char *irreps_in, const char *irreps_out,
                          const e3c_linear_options *opt)
{
    static const e3c_linear_options defaults = E3C_LINEAR_OPTIONS_INIT;
    if (!out || !irreps_in || !irreps_out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_linear_new: NULL argument");
    *out = NULL;
    if (!opt)
        opt = &defaults;
    lin_state *s = calloc(1, sizeof *s);
    if (!s)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    e3c_module *m = NULL;
    strbuf src = {0};
    e3c_status st = e3c_irreps_parse(&s->in, irreps_in);
    if (!st)
        st = e3c_irreps_parse(&s->out, irreps_out);
    if (!st)
        st = lin_resolve(s, opt);
    if (st) {
        lin_free(s);
        return st;
    }
    s->dense = lin_dense_eligible(s);
    st = e3c_module_new(&m, &linear_class, s);
    if (!st && s->dense)
        st = lin_register_dense(m, s, e3c_default_dtype());
    if (!st && s->internal && s->weight_numel) {
        e3c_tensor *w = NULL;
        st = e3c_randn(&w, e3c_default_generator(), e3c_default_dtype(), &s->weight_numel, 1);
        if (!st)
            st = e3c_module_add_tensor(m, "weight", w, 1);
        e3c_tensor_free(w);
    } else if (!st) {
        st = nn_add_empty_buffer(m, "weight", e3c_default_dtype()); /* as e3nn's state dict has it */
    }
    if (!st && s->internal && s->bias_numel) {
        e3c_tensor *b = NULL;
        st = e3c_tensor_zeros(&b, e3c_default_dtype(), &s->bias_numel, 1);
        if (!st)
            st = e3c_module_add_tensor(m, "bias", b, 1);
        e3c_tensor_free(b);
    } else if (!st) {
        st = nn_add_empty_buffer(m, "bias", e3c_default_dtype());
    }
    if (!st)
        st = lin_output_mask(m, s, e3c_default_dtype());
    const char *ins[1] = {irreps_in}, *outs[1] = {irreps_out};
    if (!st)
        st = e3c_module_set_irreps_in(m, ins, 1);
    if (!st)
        st = e3c_module_set_irreps_out(m, outs, 1);
    if (!st)
        st = lin_source(s, &src);
    if (!st)
        st = nn_set_source(m, &src);
    sb_free(&src);
    return nn_finish(out, m, st);
}
