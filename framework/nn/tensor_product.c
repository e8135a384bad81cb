/* o3.TensorProduct and the products built on it (FullyConnected, Elementwise, Full,
 * TensorSquare), computing what e3nn 0.5.6 computes (shared/reference/MODULES_SPEC.md 2-6).
 *
 * Construction resolves the instructions into a plan: per instruction its slices, Wigner 3j
 * buffer, weight block and coefficient c = sqrt(alpha). The eager C forward walks the plan
 * (per output block: the fused shared-weight uvw instructions through one channel mix, the
 * others with einsum); the same walk emits the instance's TorchScript source (mode
 * "script"), so the two forms compute the same contractions in the same order. A small
 * product with shared weights skips the walk: it is one bilinear form (the dense form
 * below), in the eager forward and in the source alike. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/strbuf.h"
#include "e3check/nn.h"
#include "e3check/o3.h"
#include "nn_internal.h"
#include "tp_internal.h"

static const char *const mode_names[] = {"uvw", "uvu", "uvv", "uuw", "uuu", "uvuv", "uvu<v", "u<vw"};

e3c_status e3c_tp_mode_parse(e3c_tp_mode *out, const char *name)
{
    for (int i = 0; name && i < 8; i++)
        if (!strcmp(name, mode_names[i])) {
            *out = (e3c_tp_mode)i;
            return E3C_OK;
        }
    return e3c_error_set(E3C_ERR_VALUE, "unknown connection mode \"%s\" (uvw, uvu, uvv, uuw, uuu, uvuv, uvu<v, u<vw)",
                         name ? name : "(null)");
}

void tp_state_free(void *p)
{
    tp_state *s = p;
    if (!s)
        return;
    e3c_irreps_free(&s->in1);
    e3c_irreps_free(&s->in2);
    e3c_irreps_free(&s->out);
    free(s->ins);
    free(s);
}

/* Path shape and element count of e3nn's table (2.2); checks the multiplicities. */
static e3c_status path_shape(tp_ins *t, int64_t m1, int64_t m2, int64_t mo, size_t k)
{
    int64_t pairs = m1 > ((int64_t)1 << 20) ? -1 : m1 * (m2 - 1) / 2; /* -1: too large, refused below */
    const char *need = NULL;
    switch (t->mode) {
    case E3C_TP_UVW:
        t->nshape = 3, t->shape[0] = m1, t->shape[1] = m2, t->shape[2] = mo, t->elements = m1 * m2;
        if (!t->has_weight)
            need = "mode uvw needs a weight";
        break;
    case E3C_TP_UVU:
        t->nshape = 2, t->shape[0] = m1, t->shape[1] = m2, t->elements = m2;
        if (mo != m1)
            need = "mode uvu needs mul_out == mul_in1";
        break;
    case E3C_TP_UVV:
        t->nshape = 2, t->shape[0] = m1, t->shape[1] = m2, t->elements = m1;
        if (mo != m2)
            need = "mode uvv needs mul_out == mul_in2";
        break;
    case E3C_TP_UUW:
        t->nshape = 2, t->shape[0] = m1, t->shape[1] = mo, t->elements = m1;
        if (m1 != m2)
            need = "mode uuw needs mul_in1 == mul_in2";
        else if (!t->has_weight && mo != 1)
            need = "mode uuw without weight needs mul_out == 1";
        break;
    case E3C_TP_UUU:
        t->nshape = 1, t->shape[0] = m1, t->elements = 1;
        if (m1 != m2 || m1 != mo)
            need = "mode uuu needs mul_in1 == mul_in2 == mul_out";
        break;
    case E3C_TP_UVUV:
        t->nshape = 2, t->shape[0] = m1, t->shape[1] = m2, t->elements = 1;
        if (mo != m1 * m2)
            need = "mode uvuv needs mul_out == mul_in1 * mul_in2";
        break;
    case E3C_TP_UVU_LT_V:
        t->nshape = 1, t->shape[0] = pairs, t->elements = 1;
        if (m1 != m2 || mo != m1 * (m1 - 1) / 2)
            need = "mode uvu<v needs mul_in1 == mul_in2 and mul_out == mul(mul-1)/2";
        break;
    case E3C_TP_U_LT_VW:
        t->nshape = 2, t->shape[0] = pairs, t->shape[1] = mo, t->elements = pairs;
        if (m1 != m2)
            need = "mode u<vw needs mul_in1 == mul_in2";
        else if (!t->has_weight)
            need = "mode u<vw needs a weight";
        break;
    }
    if (need)
        return e3c_error_set(E3C_ERR_VALUE, "instruction %zu (%d, %d, %d, %s): %s (got %lld, %lld, %lld)", k, t->i1,
                             t->i2, t->io, mode_names[t->mode], need, (long long)m1, (long long)m2, (long long)mo);
    int64_t size = 1; /* weights or pairs of the path: at most NN_MAX_ELEMENTS */
    for (int d = 0; d < t->nshape; d++)
        if (t->shape[d] < 0 || __builtin_mul_overflow(size, t->shape[d], &size) || size > NN_MAX_ELEMENTS)
            return e3c_error_set(E3C_ERR_VALUE,
                                 "instruction %zu (%d, %d, %d, %s): the path is too large (multiplicities "
                                 "%lld, %lld, %lld)",
                                 k, t->i1, t->i2, t->io, mode_names[t->mode], (long long)m1, (long long)m2,
                                 (long long)mo);
    return E3C_OK;
}

static double var_at(const double *v, size_t n, int i) { return v && (size_t)i < n ? v[i] : 1.0; }

/* e3nn's coefficient c = sqrt(alpha) (2.3). */
static void coefficients(tp_state *s, const e3c_tp_options *o, int irrep_norm, int path_norm)
{
    for (size_t k = 0; k < s->n_ins; k++) {
        tp_ins *t = &s->ins[k];
        int l1 = s->in1.items[t->i1].ir.l, l2 = s->in2.items[t->i2].ir.l, lo = s->out.items[t->io].ir.l;
        double alpha = irrep_norm == 0 ? 2.0 * lo + 1 : irrep_norm == 1 ? (2.0 * l1 + 1) * (2.0 * l2 + 1) : 1.0;
        double x = 1.0;
        if (path_norm == 0) {
            x = 0.0;
            for (size_t j = 0; j < s->n_ins; j++)
                if (s->ins[j].io == t->io)
                    x += var_at(o->in1_var, o->n_in1_var, s->ins[j].i1) *
                         var_at(o->in2_var, o->n_in2_var, s->ins[j].i2) * (double)s->ins[j].elements;
        } else if (path_norm == 1) {
            int count = 0;
            for (size_t j = 0; j < s->n_ins; j++)
                count += s->ins[j].io == t->io;
            x = var_at(o->in1_var, o->n_in1_var, t->i1) * var_at(o->in2_var, o->n_in2_var, t->i2) *
                (double)t->elements * count;
        }
        if (x > 0)
            alpha /= x;
        alpha *= var_at(o->out_var, o->n_out_var, t->io) * t->path_weight;
        t->coeff = sqrt(alpha);
    }
}

static int parse_norm(const char *name, const char *const *names, int fallback)
{
    if (!name)
        return fallback;
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, names[i]))
            return i;
    return -1;
}

/* ------------------------------------------------------------------ the dense form ---- */

/* Every term of a product is x1[a] x2[b] W[a, b, k]: for shared weights W is linear in
 * them, W = weight @ B + B0, with B (one row per weight) and B0 (the paths without weight)
 * made once here from the 3j symbols and coefficients. For a small product that one form
 * replaces the walk over the paths: three operations in the forward and a TorchScript
 * source of a few lines, so compiling, saving and loading it cost little. */

static int64_t form_size(const tp_state *s)
{
    return e3c_irreps_dim(&s->in1) * e3c_irreps_dim(&s->in2) * e3c_irreps_dim(&s->out);
}

/* The dense form is used for shared (or no) weights when it and its basis are small. */
static int dense_eligible(const tp_state *s)
{
    int64_t d1 = e3c_irreps_dim(&s->in1), d2 = e3c_irreps_dim(&s->in2), d3 = e3c_irreps_dim(&s->out), rows;
    if (!s->shared_weights || d1 <= 0 || d2 <= 0 || d3 <= 0 || d1 > NN_DENSE_FORM_MAX || d2 > NN_DENSE_FORM_MAX ||
        d3 > NN_DENSE_FORM_MAX)
        return 0;
    int64_t form = d1 * d2 * d3, size;
    return form <= NN_DENSE_FORM_MAX && !__builtin_add_overflow(s->weight_numel, 1, &rows) &&
           !__builtin_mul_overflow(rows, form, &size) && size <= nn_dense_limit();
}

/* Whether the form has a constant part: some path without weight, or no weights at all. */
static int dense_has_constant(const tp_state *s)
{
    int any = s->weight_numel == 0;
    for (size_t k = 0; k < s->n_ins; k++)
        any |= !s->ins[k].dropped && !s->ins[k].has_weight;
    return any;
}

typedef struct dense_fill {
    const tp_state *s;
    const tp_ins *t;
    const double *C;  /* the path's 3j symbol (2l1+1, 2l2+1, 2lo+1) */
    double *basis;    /* (weight_numel, form) */
    double *constant; /* (form) */
} dense_fill;

/* Add the term of copies u (x1), v (x2) and wo (output) of the path, weighted by its
 * weight element `w` (-1: none) to the basis. */
static void dense_add(const dense_fill *f, int64_t u, int64_t v, int64_t wo, int64_t w)
{
    const tp_state *s = f->s;
    const tp_ins *t = f->t;
    int64_t n1 = e3c_irrep_dim(s->in1.items[t->i1].ir), n2 = e3c_irrep_dim(s->in2.items[t->i2].ir);
    int64_t n3 = e3c_irrep_dim(s->out.items[t->io].ir);
    int64_t a0 = e3c_irreps_offset(&s->in1, (size_t)t->i1) + u * n1,
            b0 = e3c_irreps_offset(&s->in2, (size_t)t->i2) + v * n2;
    int64_t k0 = e3c_irreps_offset(&s->out, (size_t)t->io) + wo * n3;
    int64_t d2 = e3c_irreps_dim(&s->in2), d3 = e3c_irreps_dim(&s->out);
    double *row = w < 0 ? f->constant : f->basis + (t->weight_offset + w) * form_size(s);
    for (int64_t i = 0; i < n1; i++)
        for (int64_t j = 0; j < n2; j++)
            for (int64_t k = 0; k < n3; k++) {
                double c = f->C[(i * n2 + j) * n3 + k];
                if (c != 0.0)
                    row[((a0 + i) * d2 + b0 + j) * d3 + k0 + k] += t->coeff * c;
            }
}

/* The terms of instruction t by connection mode (MODULES_SPEC.md 2.2): which copies meet
 * and which weight element multiplies them, in the weight's layout. */
static void dense_path(const dense_fill *f)
{
    const tp_ins *t = f->t;
    int64_t m1 = f->s->in1.items[t->i1].mul, m2 = f->s->in2.items[t->i2].mul, mo = f->s->out.items[t->io].mul;
    int hw = t->has_weight;
    int64_t p = 0;
    switch (t->mode) {
    case E3C_TP_UVW:
        for (int64_t u = 0; u < m1; u++)
            for (int64_t v = 0; v < m2; v++)
                for (int64_t w = 0; w < mo; w++)
                    dense_add(f, u, v, w, (u * m2 + v) * mo + w);
        break;
    case E3C_TP_UVU:
    case E3C_TP_UVV:
    case E3C_TP_UVUV:
        for (int64_t u = 0; u < m1; u++)
            for (int64_t v = 0; v < m2; v++)
                dense_add(f, u, v,
                          t->mode == E3C_TP_UVU   ? u
                          : t->mode == E3C_TP_UVV ? v
                                                  : u * m2 + v,
                          hw ? u * m2 + v : -1);
        break;
    case E3C_TP_UUW:
        for (int64_t u = 0; u < m1; u++)
            for (int64_t w = 0; w < mo; w++)
                dense_add(f, u, u, w, hw ? u * mo + w : -1);
        break;
    case E3C_TP_UUU:
        for (int64_t u = 0; u < m1; u++)
            dense_add(f, u, u, u, hw ? u : -1);
        break;
    case E3C_TP_UVU_LT_V:
    case E3C_TP_U_LT_VW:
        for (int64_t u = 0; u < m1; u++)
            for (int64_t v = u + 1; v < m2; v++, p++)
                for (int64_t w = 0; w < (t->mode == E3C_TP_U_LT_VW ? mo : 1); w++)
                    dense_add(f, u, v, t->mode == E3C_TP_U_LT_VW ? w : p,
                              t->mode == E3C_TP_U_LT_VW ? p * mo + w
                              : hw                      ? p
                                                        : -1);
        break;
    }
}

/* Register dense_basis (weight_numel, form), when there are weights, and dense_constant
 * (form), when some path has none or there are no weights. */
static e3c_status register_dense(e3c_module *m, tp_state *s, e3c_dtype dtype)
{
    int64_t form = form_size(s), rows = s->weight_numel;
    dense_fill f = {s, NULL, NULL, calloc((size_t)(rows ? rows * form : 1), sizeof(double)),
                    calloc((size_t)form, sizeof(double))};
    e3c_status st = f.basis && f.constant ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (size_t k = 0; !st && k < s->n_ins; k++) {
        const tp_ins *t = &s->ins[k];
        if (t->dropped)
            continue;
        int l1 = s->in1.items[t->i1].ir.l, l2 = s->in2.items[t->i2].ir.l, lo = s->out.items[t->io].ir.l;
        double *C = malloc((size_t)((2 * l1 + 1) * (2 * l2 + 1) * (2 * lo + 1)) * sizeof *C);
        st = C ? e3c_wigner_3j(C, l1, l2, lo) : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        f.t = t, f.C = C;
        if (!st)
            dense_path(&f);
        free(C);
    }
    const char *names[2] = {"dense_basis", "dense_constant"};
    const double *data[2] = {f.basis, f.constant};
    int64_t shapes[2][2] = {{rows, form}, {form, 0}};
    int use[2] = {rows > 0, s->dense_constant};
    for (int i = 0; !st && i < 2; i++)
        if (use[i])
            st = nn_add_constant(m, names[i], data[i], shapes[i], i == 0 ? 2 : 1, dtype);
    free(f.basis), free(f.constant);
    return st;
}

/* W (d1*d2, d3) = weight @ dense_basis + dense_constant. */
static e3c_status dense_matrix(e3c_module *self, const tp_state *s, const e3c_tensor *weight, e3c_tensor **W)
{
    e3c_tensor *basis = NULL, *constant = NULL, *lin = NULL, *sum = NULL;
    int64_t shape[2] = {e3c_irreps_dim(&s->in1) * e3c_irreps_dim(&s->in2), e3c_irreps_dim(&s->out)};
    e3c_status st = E3C_OK;
    if (s->weight_numel > 0) {
        st = e3c_module_tensor(&basis, self, "dense_basis");
        if (!st)
            st = e3c_tensor_matmul(&lin, weight, basis);
    }
    if (!st && s->dense_constant) {
        st = e3c_module_tensor(&constant, self, "dense_constant");
        if (!st)
            st = lin ? e3c_tensor_binary(&sum, lin, constant, E3C_OP_ADD) : e3c_tensor_ref(&sum, constant);
    } else if (!st)
        st = e3c_tensor_ref(&sum, lin);
    if (!st)
        st = e3c_tensor_reshape(W, sum, shape, 2);
    e3c_tensor_free(basis), e3c_tensor_free(constant), e3c_tensor_free(lin), e3c_tensor_free(sum);
    return st;
}

/* out (..., d3) = (x1 (x) x2) @ W, the inputs' batch dimensions broadcast. */
static e3c_status dense_forward(e3c_module *self, const tp_state *s, const e3c_tensor *x1, const e3c_tensor *x2,
                                const e3c_tensor *weight, e3c_tensor **out)
{
    e3c_tensor *W = NULL, *a = NULL, *b = NULL, *outer = NULL, *flat = NULL;
    e3c_status st = dense_matrix(self, s, weight, &W);
    if (!st)
        st = e3c_tensor_unsqueeze(&a, x1, -1);
    if (!st)
        st = e3c_tensor_unsqueeze(&b, x2, -2);
    if (!st)
        st = e3c_tensor_binary(&outer, a, b, E3C_OP_MUL);
    if (!st)
        st = e3c_tensor_flatten(&flat, outer, -2, -1);
    if (!st)
        st = e3c_tensor_matmul(out, flat, W);
    e3c_tensor_free(W), e3c_tensor_free(a), e3c_tensor_free(b), e3c_tensor_free(outer), e3c_tensor_free(flat);
    return st;
}

/* The dense form's source after the prologue: the same operations as dense_forward. */
static void emit_dense(const tp_state *s, strbuf *b)
{
    int64_t d12 = e3c_irreps_dim(&s->in1) * e3c_irreps_dim(&s->in2), d3 = e3c_irreps_dim(&s->out);
    if (s->weight_numel > 0)
        sb_printf(b, "    w = torch.matmul(weight, self.dense_basis)%s\n",
                  s->dense_constant ? " + self.dense_constant" : "");
    else
        sb_printf(b, "    w = self.dense_constant\n");
    sb_printf(b, "    return torch.matmul((x1.unsqueeze(-1) * x2.unsqueeze(-2)).flatten(-2, -1), w.view(%lld, %lld))\n",
              (long long)d12, (long long)d3);
}

/* ------------------------------------------------------------------ the plan walk ---- */

/* The contraction is done in two steps, an order that keeps intermediates small for the
 * common shapes: first the second input with the 3j symbol, yc[..., v, i, k] =
 * sum_j y[..., v, j] C[i, j, k] (first_equation), then the first input, yc and the weight
 * (equations[mode][has_weight], weight operand last). */
static const char *const equations[8][2] = {{NULL, "...ui,...vik,uvw->...wk"},
                                            {"...ui,...vik->...uk", "...ui,...vik,uv->...uk"},
                                            {"...ui,...vik->...vk", "...ui,...vik,uv->...vk"},
                                            {"...ui,...uik->...k", "...ui,...uik,uw->...wk"},
                                            {"...ui,...uik->...uk", "...ui,...uik,u->...uk"},
                                            {"...ui,...vik->...uvk", "...ui,...vik,uv->...uvk"},
                                            {"...ui,...uik->...uk", "...ui,...uik,u->...uk"},
                                            {NULL, "...ui,...uik,uw->...wk"}};

static const char *first_equation = "...vj,ijk->...vik";

/* For uvw with per-batch weights (the shared ones are fused) the weight can be contracted
 * with the first input before the 3j contraction ("...ui,...uvw->...vwi", then
 * "...vwi,...vik->...wk"): that costs mul1*mul_out*(2l1+1) per sample instead of
 * mul1*mul_out*(2lo+1), so it is chosen when l1 < lo. */
static int weight_first(const tp_state *s, const tp_ins *t)
{
    return t->mode == E3C_TP_UVW && t->has_weight && !s->shared_weights &&
           s->in1.items[t->i1].ir.l < s->out.items[t->io].ir.l;
}

/* Shared-weight uvw instructions, the products' common case, are fused per output block:
 * their 3j contractions fill one channel tensor tc[z, (path, u, v), k] and one channel mix
 * with the stacked path weights gives their part of the block. In float32 the mix is a
 * 1x1 convolution, which oneDNN computes several times faster than the reference BLAS
 * behind einsum and matmul (bench_modules). Inputs are then flattened to (Z, dim). */
static int fused(const tp_state *s, const tp_ins *t)
{
    return t->mode == E3C_TP_UVW && t->has_weight && s->shared_weights && !t->dropped;
}

static int64_t fused_channel_count(const tp_state *s, int o)
{
    int64_t n = 0;
    for (size_t k = 0; k < s->n_ins; k++)
        if (s->ins[k].io == o && fused(s, &s->ins[k]))
            n += s->ins[k].shape[0] * s->ins[k].shape[1];
    return n;
}

/* The equation with the weight operand made per-batch ("uvw" -> "...uvw"). */
static void equation_for(const tp_ins *t, int per_batch, char *buf, size_t cap)
{
    const char *eq = equations[t->mode][t->has_weight];
    if (!t->has_weight || !per_batch) {
        snprintf(buf, cap, "%s", eq);
        return;
    }
    const char *arrow = strstr(eq, "->");
    const char *last = arrow;
    while (last > eq && last[-1] != ',')
        last--;
    snprintf(buf, cap, "%.*s...%s", (int)(last - eq), eq, last);
}

static void w3j_name(const tp_state *s, const tp_ins *t, char *buf, size_t cap)
{
    snprintf(buf, cap, "w3j_%d_%d_%d", s->in1.items[t->i1].ir.l, s->in2.items[t->i2].ir.l, s->out.items[t->io].ir.l);
}

/* The helper methods an instance's source starts with, those it uses: _operands (operands
 * and second_with_3j), _fill (fused_channels) and _mix (e3c_tensor_channel_mix). Each path
 * of forward is then a call or two, which keeps the source, and so TorchScript's compile
 * and load times, small. */
static const char *const operands_source =
    "def _operands(self, x1: Tensor, x2: Tensor, w3j: Tensor, o1: int, m1: int, d1: int, o2: int, m2: int, d2: int,\n"
    "              c: float) -> Tuple[Tensor, Tensor]:\n"
    "    a = x1.narrow(-1, o1, m1 * d1).unflatten(-1, [m1, d1])\n"
    "    b = x2.narrow(-1, o2, m2 * d2).unflatten(-1, [m2, d2])\n"
    "    return a, torch.einsum(\"...vj,ijk->...vik\", [b, w3j]) * c\n\n";
static const char *const fused_source =
    "def _fill(self, tc: Tensor, c0: int, x1: Tensor, x2: Tensor, w3j: Tensor, o1: int, m1: int, d1: int, o2: int,\n"
    "          m2: int, d2: int, c: float):\n"
    "    a, yc = self._operands(x1, x2, w3j, o1, m1, d1, o2, m2, d2, c)\n"
    "    tv = tc.narrow(1, c0, m1 * m2).unflatten(1, [m1, m2])\n"
    "    for i in range(d1):\n"
    "        tv.addcmul_(a.select(2, i).unsqueeze(-1).unsqueeze(-1), yc.select(2, i).unsqueeze(1))\n\n";

/* The arguments of _operands for instruction t: x1, x2, its 3j buffer, the offsets,
 * multiplicities and dimensions of its inputs, its coefficient (a float literal). */
static void emit_operand_args(const tp_state *s, const tp_ins *t, strbuf *b)
{
    const e3c_mulir *a = &s->in1.items[t->i1], *c = &s->in2.items[t->i2];
    char w3j[48], coeff[40];
    w3j_name(s, t, w3j, sizeof w3j);
    snprintf(coeff, sizeof coeff, "%.17g", t->coeff);
    if (!strpbrk(coeff, ".en")) /* "1" would be an int for TorchScript */
        strcat(coeff, ".0");
    sb_printf(b, "x1, x2, self.%s, %lld, %lld, %lld, %lld, %lld, %lld, %s", w3j,
              (long long)e3c_irreps_offset(&s->in1, (size_t)t->i1), (long long)a->mul, (long long)e3c_irrep_dim(a->ir),
              (long long)e3c_irreps_offset(&s->in2, (size_t)t->i2), (long long)c->mul, (long long)e3c_irrep_dim(c->ir),
              coeff);
}

/* The lines binding a and yc for instruction t (operands). */
static void emit_operands(const tp_state *s, const tp_ins *t, strbuf *b)
{
    int64_t mul = s->in1.items[t->i1].mul;
    sb_printf(b, "    a, yc = self._operands(");
    emit_operand_args(s, t, b);
    sb_printf(b, ")\n");
    if (t->mode == E3C_TP_UVU_LT_V || t->mode == E3C_TP_U_LT_VW)
        sb_printf(b, "    a = a.index_select(-2, self.pairs_%lld_u)\n    yc = yc.index_select(-3, self.pairs_%lld_v)\n",
                  (long long)mul, (long long)mul);
}

/* fused_block: the channel tensor, each fused instruction's channels, the mix. */
static void emit_fused_block(const tp_state *s, int o, strbuf *b)
{
    sb_printf(b, "    tc = x1.new_zeros([x1.shape[0], %lld, %lld])\n", (long long)fused_channel_count(s, o),
              (long long)e3c_irrep_dim(s->out.items[o].ir));
    int64_t c0 = 0;
    for (size_t k = 0; k < s->n_ins; k++) {
        const tp_ins *t = &s->ins[k];
        if (t->io != o || !fused(s, t))
            continue;
        sb_printf(b, "    self._fill(tc, %lld, ", (long long)c0);
        emit_operand_args(s, t, b);
        sb_printf(b, ")\n");
        c0 += t->shape[0] * t->shape[1];
    }
    sb_printf(b, "    acc = self._mix(tc, torch.cat([");
    int first = 1;
    for (size_t k = 0; k < s->n_ins; k++) {
        const tp_ins *t = &s->ins[k];
        if (t->io == o && fused(s, t)) {
            sb_printf(b, "%sweight.narrow(-1, %lld, %lld).view(%lld, %lld)", first ? "" : ", ",
                      (long long)t->weight_offset, (long long)t->weight_size, (long long)(t->shape[0] * t->shape[1]),
                      (long long)t->shape[2]);
            first = 0;
        }
    }
    sb_printf(b, "], 0))\n");
}

/* contribution: instruction t's term, added to acc. */
static void emit_contribution(const tp_state *s, const tp_ins *t, int any, strbuf *b)
{
    int per_batch = !s->shared_weights;
    char eq[96];
    equation_for(t, per_batch, eq, sizeof eq);
    emit_operands(s, t, b);
    if (t->has_weight) {
        sb_printf(b, "    w = weight.narrow(-1, %lld, %lld).unflatten(-1, [", (long long)t->weight_offset,
                  (long long)t->weight_size);
        for (int d = 0; d < t->nshape; d++)
            sb_printf(b, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
        sb_printf(b, "])\n");
    }
    if (weight_first(s, t))
        sb_printf(b, "    aw = torch.einsum(\"...ui,...uvw->...vwi\", [a, w])\n"
                     "    t = torch.einsum(\"...vwi,...vik->...wk\", [aw, yc])\n");
    else if (t->has_weight)
        sb_printf(b, "    t = torch.einsum(\"%s\", [a, yc, w])\n", eq);
    else
        sb_printf(b, "    t = torch.einsum(\"%s\", [a, yc])\n", eq);
    if (t->mode == E3C_TP_UUW && !t->has_weight)
        sb_printf(b, "    t = t.unsqueeze(-2)\n");
    if (t->mode == E3C_TP_UVUV)
        sb_printf(b, "    t = t.flatten(-3, -2)\n");
    sb_printf(b, "    acc = %st\n", any ? "acc + " : "");
}

/* The forward's opening: the input checks, the weight, the batch flattening (not for the
 * dense form, whose operations broadcast the batch dimensions themselves). */
static void emit_prologue(const tp_state *s, strbuf *b)
{
    int64_t d1 = e3c_irreps_dim(&s->in1), d2 = e3c_irreps_dim(&s->in2);
    int external = s->weight_numel > 0 && !s->internal_weights;
    if (s->square)
        sb_printf(b, "def forward(self, x%s):\n    x1 = x\n    x2 = x\n", external ? ", weight" : "");
    else
        sb_printf(b, "def forward(self, x1, x2%s):\n", external ? ", weight" : "");
    nn_emit_width_check(b, "x1", d1, "Incorrect last dimension for x");
    if (!s->square)
        nn_emit_width_check(b, "x2", d2, "Incorrect last dimension for y");
    if (external && !s->shared_weights)
        sb_printf(
            b,
            "    torch._assert(weight.shape[-1] == %lld, \"Invalid weight shape\")\n"
            "    torch._assert(weight.dim() > 1, \"When shared weights is false, weights must have batch dimension\")\n",
            (long long)s->weight_numel);
    else if (external)
        sb_printf(b, "    torch._assert(weight.dim() == 1 and weight.shape[0] == %lld, \"Invalid weight shape\")\n",
                  (long long)s->weight_numel);
    if (s->weight_numel > 0 && s->internal_weights)
        sb_printf(b, "    weight = self.weight\n");
    if (s->shared_weights && !s->dense)
        sb_printf(b,
                  "    batch = torch.broadcast_tensors(x1.narrow(-1, 0, %d), x2.narrow(-1, 0, %d))[0].shape[:-1]\n"
                  "    x1 = x1.expand(batch + [%lld]).reshape(-1, %lld)\n"
                  "    x2 = x2.expand(batch + [%lld]).reshape(-1, %lld)\n",
                  d1 > 0, d2 > 0, (long long)d1, (long long)d1, (long long)d2, (long long)d2);
}

/* Emit the TorchScript source of forward (and of _mix): the same walk as tp_forward. */
static e3c_status emit_source(const tp_state *s, strbuf *b)
{
    if (s->dense) {
        emit_prologue(s, b);
        emit_dense(s, b);
        return sb_text(b) ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory generating TorchScript");
    }
    int any_path = 0, any_fused = 0;
    for (size_t k = 0; k < s->n_ins; k++) {
        any_path |= !s->ins[k].dropped && s->out.items[s->ins[k].io].mul > 0;
        any_fused |= fused(s, &s->ins[k]);
    }
    sb_printf(b, "%s%s%s", any_path ? operands_source : "", any_fused ? fused_source : "",
              any_fused ? nn_mix_source : "");
    emit_prologue(s, b);
    sb_printf(b, "    parts: List[Tensor] = []\n");
    for (size_t o = 0; o < s->out.len; o++) {
        const e3c_mulir *mo = &s->out.items[o];
        if (mo->mul == 0)
            continue;
        int any = fused_channel_count(s, (int)o) > 0;
        if (any)
            emit_fused_block(s, (int)o, b);
        for (size_t k = 0; k < s->n_ins; k++) {
            const tp_ins *t = &s->ins[k];
            if (t->io != (int)o || t->dropped || fused(s, t))
                continue;
            emit_contribution(s, t, any, b);
            any = 1;
        }
        if (any)
            sb_printf(b, "    parts.append(acc.flatten(-2, -1))\n");
        else
            sb_printf(b, "    parts.append(x1.new_zeros(x1.shape[:-1] + [%lld]))\n",
                      (long long)(mo->mul * e3c_irrep_dim(mo->ir)));
    }
    nn_emit_return(b, "x1", &s->out, s->shared_weights);
    return sb_text(b) ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory generating TorchScript");
}

/* yc = einsum(first_equation, b, C) * c: (…, mul2, 2l1+1, 2lo+1). */
static e3c_status second_with_3j(e3c_module *self, const tp_state *s, const tp_ins *t, const e3c_tensor *B,
                                 e3c_tensor **YC)
{
    char name[64];
    e3c_tensor *C = NULL, *YC0 = NULL;
    w3j_name(s, t, name, sizeof name);
    e3c_status st = e3c_module_tensor(&C, self, name);
    const e3c_tensor *ops[2] = {B, C};
    if (!st)
        st = e3c_tensor_einsum(&YC0, first_equation, ops, 2);
    if (!st) /* the coefficient goes on the small intermediate, not on the output block */
        st = e3c_tensor_scalar(YC, YC0, E3C_OP_MUL, t->coeff);
    e3c_tensor_free(C), e3c_tensor_free(YC0);
    return st;
}

/* The pair selection of the uvu<v and u<vw modes: a over u, yc over v. */
static e3c_status select_pairs(e3c_module *self, int64_t mul, e3c_tensor **A, e3c_tensor **YC)
{
    e3c_tensor *pu = NULL, *pv = NULL, *A2 = NULL, *YC2 = NULL;
    char name[64];
    snprintf(name, sizeof name, "pairs_%lld_u", (long long)mul);
    e3c_status st = e3c_module_tensor(&pu, self, name);
    snprintf(name, sizeof name, "pairs_%lld_v", (long long)mul);
    if (!st)
        st = e3c_module_tensor(&pv, self, name);
    if (!st)
        st = e3c_tensor_index_select(&A2, *A, -2, pu);
    if (!st)
        st = e3c_tensor_index_select(&YC2, *YC, -3, pv);
    e3c_tensor_free(pu), e3c_tensor_free(pv);
    if (!st) {
        e3c_tensor_free(*A), e3c_tensor_free(*YC);
        *A = A2, *YC = YC2;
    }
    return st;
}

/* The first operand a (…, mul1, 2l1+1) and yc (second_with_3j), pairs selected: the
 * _operands method of the source and the lines after it. */
static e3c_status operands(e3c_module *self, const tp_state *s, const tp_ins *t, const e3c_tensor *x1,
                           const e3c_tensor *x2, e3c_tensor **A, e3c_tensor **YC)
{
    const e3c_mulir *a = &s->in1.items[t->i1], *c = &s->in2.items[t->i2];
    int64_t sa[2] = {a->mul, e3c_irrep_dim(a->ir)}, sc[2] = {c->mul, e3c_irrep_dim(c->ir)};
    e3c_tensor *tmp = NULL, *B = NULL;
    *A = *YC = NULL;
    e3c_status st = e3c_tensor_narrow(&tmp, x1, -1, e3c_irreps_offset(&s->in1, (size_t)t->i1), sa[0] * sa[1]);
    if (!st)
        st = e3c_tensor_unflatten_last(A, tmp, sa, 2);
    e3c_tensor_free(tmp), tmp = NULL;
    if (!st)
        st = e3c_tensor_narrow(&tmp, x2, -1, e3c_irreps_offset(&s->in2, (size_t)t->i2), sc[0] * sc[1]);
    if (!st)
        st = e3c_tensor_unflatten_last(&B, tmp, sc, 2);
    e3c_tensor_free(tmp);
    if (!st)
        st = second_with_3j(self, s, t, B, YC);
    e3c_tensor_free(B);
    if (!st && (t->mode == E3C_TP_UVU_LT_V || t->mode == E3C_TP_U_LT_VW))
        st = select_pairs(self, a->mul, A, YC);
    if (st) {
        e3c_tensor_free(*A), e3c_tensor_free(*YC);
        *A = *YC = NULL;
    }
    return st;
}

/* One instruction's contribution (…, mul_out, 2lo+1), including the coefficient c. */
static e3c_status contribution(e3c_module *self, const tp_state *s, const tp_ins *t, const e3c_tensor *x1,
                               const e3c_tensor *x2, const e3c_tensor *weight, e3c_tensor **out)
{
    e3c_tensor *A = NULL, *tmp = NULL, *W = NULL, *T = NULL, *T2 = NULL, *YC = NULL;
    char eq[96];
    e3c_status st = operands(self, s, t, x1, x2, &A, &YC);
    if (!st && t->has_weight) {
        st = e3c_tensor_narrow(&tmp, weight, -1, t->weight_offset, t->weight_size);
        if (!st)
            st = e3c_tensor_unflatten_last(&W, tmp, t->shape, t->nshape);
        e3c_tensor_free(tmp);
    }
    equation_for(t, !s->shared_weights, eq, sizeof eq);
    if (!st && weight_first(s, t)) {
        e3c_tensor *AW = NULL;
        const e3c_tensor *aw_ops[2] = {A, W}, *t_ops[2] = {NULL, YC};
        st = e3c_tensor_einsum(&AW, "...ui,...uvw->...vwi", aw_ops, 2);
        t_ops[0] = AW;
        if (!st)
            st = e3c_tensor_einsum(&T, "...vwi,...vik->...wk", t_ops, 2);
        e3c_tensor_free(AW);
    } else if (!st) {
        const e3c_tensor *ops[3] = {A, YC, W};
        st = e3c_tensor_einsum(&T, eq, ops, t->has_weight ? 3 : 2);
    }
    e3c_tensor_free(YC);
    if (!st && t->mode == E3C_TP_UUW && !t->has_weight) {
        int64_t one[2] = {1, e3c_tensor_size(T, -1)};
        st = e3c_tensor_unflatten_last(&T2, T, one, 2);
    } else if (!st && t->mode == E3C_TP_UVUV)
        st = e3c_tensor_flatten(&T2, T, -3, -2);
    else if (!st)
        st = e3c_tensor_ref(&T2, T);
    if (!st)
        st = e3c_tensor_ref(out, T2);
    e3c_tensor_free(A), e3c_tensor_free(W), e3c_tensor_free(T), e3c_tensor_free(T2);
    return st;
}

/* Adds one fused instruction's 3j contraction into its channels of tc (Z, C, 2lo+1):
 * tc[z, c0 + (u, v), k] += sum_i a[z, u, i] yc[z, v, i, k]. */
static e3c_status fused_channels(e3c_module *self, const tp_state *s, const tp_ins *t, const e3c_tensor *x1,
                                 const e3c_tensor *x2, e3c_tensor *tc, int64_t c0)
{
    int64_t u = t->shape[0], v = t->shape[1], n_i = e3c_irrep_dim(s->in1.items[t->i1].ir);
    int64_t k = e3c_tensor_size(tc, -1), view[4] = {e3c_tensor_size(tc, 0), u, v, k};
    e3c_tensor *A = NULL, *YC = NULL, *slab = NULL, *TV = NULL;
    e3c_status st = operands(self, s, t, x1, x2, &A, &YC);
    if (!st)
        st = e3c_tensor_narrow(&slab, tc, 1, c0, u * v);
    if (!st)
        st = e3c_tensor_reshape(&TV, slab, view, 4);
    for (int64_t i = 0; !st && i < n_i; i++) {
        e3c_tensor *ai = NULL, *ai1 = NULL, *ai2 = NULL, *yi = NULL, *yi1 = NULL;
        st = e3c_tensor_select(&ai, A, 2, i);
        if (!st)
            st = e3c_tensor_unsqueeze(&ai1, ai, -1);
        if (!st)
            st = e3c_tensor_unsqueeze(&ai2, ai1, -1);
        if (!st)
            st = e3c_tensor_select(&yi, YC, 2, i);
        if (!st)
            st = e3c_tensor_unsqueeze(&yi1, yi, 1);
        if (!st)
            st = e3c_tensor_addcmul_(TV, ai2, yi1);
        e3c_tensor_free(ai), e3c_tensor_free(ai1), e3c_tensor_free(ai2), e3c_tensor_free(yi), e3c_tensor_free(yi1);
    }
    e3c_tensor_free(A), e3c_tensor_free(YC), e3c_tensor_free(slab), e3c_tensor_free(TV);
    return st;
}

/* The fused instructions' part of output block o (Z, mul_out, 2lo+1), or NULL when o has none. */
static e3c_status fused_block(e3c_module *self, const tp_state *s, int o, const e3c_tensor *x1, const e3c_tensor *x2,
                              const e3c_tensor *weight, e3c_tensor **out)
{
    int64_t channels = fused_channel_count(s, o);
    *out = NULL;
    if (channels == 0)
        return E3C_OK;
    const e3c_mulir *mo = &s->out.items[o];
    int64_t shape[3] = {e3c_tensor_size(x1, 0), channels, e3c_irrep_dim(mo->ir)};
    e3c_dtype dtype = E3C_FLOAT32;
    e3c_tensor *tc = NULL, *W = NULL;
    e3c_values *ws = NULL;
    e3c_status st = e3c_tensor_dtype(&dtype, x1);
    if (!st)
        st = e3c_tensor_zeros(&tc, dtype, shape, 3);
    if (!st)
        st = e3c_values_new(&ws);
    int64_t c0 = 0;
    for (size_t k = 0; !st && k < s->n_ins; k++) {
        const tp_ins *t = &s->ins[k];
        if (t->io != o || !fused(s, t))
            continue;
        e3c_tensor *slice = NULL, *block = NULL;
        int64_t wshape[2] = {t->shape[0] * t->shape[1], t->shape[2]};
        st = fused_channels(self, s, t, x1, x2, tc, c0);
        if (!st)
            st = e3c_tensor_narrow(&slice, weight, -1, t->weight_offset, t->weight_size);
        if (!st)
            st = e3c_tensor_reshape(&block, slice, wshape, 2);
        if (!st)
            st = e3c_values_push(ws, block);
        e3c_tensor_free(slice), e3c_tensor_free(block);
        c0 += wshape[0];
    }
    if (!st)
        st = e3c_tensor_cat(&W, ws, 0);
    if (!st)
        st = e3c_tensor_channel_mix(out, tc, W);
    e3c_tensor_free(tc), e3c_tensor_free(W);
    e3c_values_free(ws);
    return st;
}

static e3c_status check_weight(const tp_state *s, const e3c_tensor *w)
{
    if (!w)
        return e3c_error_set(E3C_ERR_VALUE,
                             "Weights must be provided when the TensorProduct does not have `internal_weights`");
    if (e3c_tensor_size(w, -1) != s->weight_numel)
        return e3c_error_set(E3C_ERR_VALUE, "Invalid weight shape: last dimension %lld, expected %lld",
                             (long long)e3c_tensor_size(w, -1), (long long)s->weight_numel);
    if (!s->shared_weights && e3c_tensor_ndim(w) < 2)
        return e3c_error_set(E3C_ERR_VALUE, "When shared weights is false, weights must have batch dimension");
    if (s->shared_weights && e3c_tensor_ndim(w) != 1)
        return e3c_error_set(E3C_ERR_VALUE, "Invalid weight shape: shared weights must be one-dimensional");
    return E3C_OK;
}

/* x1 and x2 broadcast over their batch dimensions and flattened to (Z, dim); the batch
 * shape is written to batch[E3C_MAX_DIMS]. */
static e3c_status flatten_batch(const tp_state *s, const e3c_tensor *x1, const e3c_tensor *x2, e3c_tensor **f1,
                                e3c_tensor **f2, int64_t *batch, int *nb)
{
    *f1 = *f2 = NULL;
    e3c_status st = e3c_tensor_broadcast_batch(batch, E3C_MAX_DIMS - 1, nb, x1, x2);
    if (!st)
        st = nn_flatten_to(f1, x1, batch, *nb, e3c_irreps_dim(&s->in1));
    if (!st)
        st = nn_flatten_to(f2, x2, batch, *nb, e3c_irreps_dim(&s->in2));
    return st;
}

/* Output block o (…, mul_out, 2lo+1): the fused part, then the other instructions in order. */
static e3c_status output_block(e3c_module *self, const tp_state *s, int o, const e3c_tensor *x1, const e3c_tensor *x2,
                               const e3c_tensor *weight, e3c_tensor **out)
{
    e3c_tensor *acc = NULL;
    e3c_status st = fused_block(self, s, o, x1, x2, weight, &acc);
    for (size_t k = 0; !st && k < s->n_ins; k++) {
        const tp_ins *t = &s->ins[k];
        if (t->io != o || t->dropped || fused(s, t))
            continue;
        e3c_tensor *term = NULL, *sum = NULL;
        st = contribution(self, s, t, x1, x2, weight, &term);
        if (!st && acc) {
            st = e3c_tensor_binary(&sum, acc, term, E3C_OP_ADD);
            e3c_tensor_free(term);
            e3c_tensor_free(acc);
            acc = sum;
        } else if (!st)
            acc = term;
    }
    if (st)
        e3c_tensor_free(acc), acc = NULL;
    *out = acc;
    return st;
}

static e3c_status check_inputs(const tp_state *s, const e3c_module *self, const e3c_values *in)
{
    size_t n_data = s->square ? 1 : 2, n = e3c_values_count(in);
    int external = s->weight_numel > 0 && !s->internal_weights;
    if (n != n_data + (size_t)external)
        return e3c_error_set(E3C_ERR_VALUE, "%s takes %zu inputs, got %zu", e3c_module_class_of(self)->name,
                             n_data + (size_t)external, n);
    const e3c_tensor *x1 = e3c_values_get(in, 0), *x2 = e3c_values_get(in, s->square ? 0 : 1);
    if (nn_check_width(x1, e3c_irreps_dim(&s->in1), "Incorrect last dimension for x") ||
        nn_check_width(x2, e3c_irreps_dim(&s->in2), "Incorrect last dimension for y"))
        return E3C_ERR_VALUE;
    return external ? check_weight(s, e3c_values_get(in, n_data)) : E3C_OK;
}

e3c_status tp_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    const tp_state *s = e3c_module_state(self);
    e3c_status st = check_inputs(s, self, in);
    if (st)
        return st;
    const e3c_tensor *x1 = e3c_values_get(in, 0), *x2 = e3c_values_get(in, s->square ? 0 : 1);
    e3c_tensor *weight = NULL, *f1 = NULL, *f2 = NULL;
    int64_t batch[E3C_MAX_DIMS + 1];
    int nb = 0;
    if (s->weight_numel > 0 && !s->internal_weights)
        st = e3c_tensor_ref(&weight, e3c_values_get(in, s->square ? 1 : 2));
    else if (s->weight_numel > 0)
        st = e3c_module_tensor(&weight, self, "weight");
    if (!st && s->dense) {
        e3c_tensor *y = NULL;
        st = dense_forward(self, s, x1, x2, weight, &y);
        e3c_tensor_free(weight);
        return st ? st : e3c_values_take_one(out, y);
    }
    if (!st && s->shared_weights)
        st = flatten_batch(s, x1, x2, &f1, &f2, batch, &nb);
    else if (!st) {
        st = e3c_tensor_ref(&f1, x1);
        if (!st)
            st = e3c_tensor_ref(&f2, x2);
    }
    e3c_values *parts = NULL;
    if (!st)
        st = e3c_values_new(&parts);
    for (size_t o = 0; !st && o < s->out.len; o++) {
        const e3c_mulir *mo = &s->out.items[o];
        e3c_tensor *acc = NULL;
        if (mo->mul == 0)
            continue;
        st = output_block(self, s, (int)o, f1, f2, weight, &acc);
        if (!st)
            st = nn_append_block(parts, acc, f1, mo->mul * e3c_irrep_dim(mo->ir));
    }
    if (!st && s->shared_weights)
        st = nn_cat_blocks_batch(out, parts, f1, batch, nb, e3c_irreps_dim(&s->out));
    else if (!st)
        st = nn_cat_blocks(out, parts, f1);
    e3c_tensor_free(weight), e3c_tensor_free(f1), e3c_tensor_free(f2);
    e3c_values_free(parts);
    return st;
}

/* ------------------------------------------------------------------ building ---- */

/* e3nn's output_mask: an output entry is used when an instruction reaches it with a
 * nonzero coefficient and no zero in its path shape. */
static e3c_status tp_output_mask(e3c_module *m, const tp_state *s, e3c_dtype dtype)
{
    int *used = calloc(s->out.len + 1, sizeof *used);
    if (!used)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < s->n_ins; k++)
        used[s->ins[k].io] |= s->ins[k].coeff != 0 && s->ins[k].weight_size != 0;
    e3c_status st = nn_add_output_mask(m, &s->out, used, dtype);
    free(used);
    return st;
}

/* Register the Wigner 3j constants, pair indices, weight (a parameter, else e3nn's empty
 * buffer) and output_mask. */
static e3c_status register_tensors(e3c_module *m, tp_state *s, e3c_dtype dtype)
{
    e3c_status st = s->dense ? register_dense(m, s, dtype) : E3C_OK;
    for (size_t k = 0; !st && !s->dense && k < s->n_ins; k++) {
        tp_ins *t = &s->ins[k];
        int l1 = s->in1.items[t->i1].ir.l, l2 = s->in2.items[t->i2].ir.l, lo = s->out.items[t->io].ir.l;
        char name[64];
        w3j_name(s, t, name, sizeof name);
        e3c_tensor *existing = NULL;
        if (e3c_module_tensor(&existing, m, name) == E3C_OK) {
            e3c_tensor_free(existing);
        } else {
            int64_t shape[3] = {2 * l1 + 1, 2 * l2 + 1, 2 * lo + 1};
            double *P = malloc((size_t)(shape[0] * shape[1] * shape[2]) * sizeof *P);
            e3c_tensor *c64 = NULL, *c = NULL;
            st = P ? e3c_wigner_3j(P, l1, l2, lo) : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
            if (!st)
                st = e3c_tensor_from_data(&c64, P, E3C_FLOAT64, shape, 3);
            if (!st)
                st = e3c_tensor_to(&c, c64, dtype);
            if (!st)
                st = e3c_module_add_constant(m, name, c);
            free(P);
            e3c_tensor_free(c64), e3c_tensor_free(c);
        }
        if (!st && (t->mode == E3C_TP_UVU_LT_V || t->mode == E3C_TP_U_LT_VW)) {
            int64_t mul = s->in1.items[t->i1].mul, q = 0, npairs = mul * (mul - 1) / 2;
            char nu[64], nv[64];
            snprintf(nu, sizeof nu, "pairs_%lld_u", (long long)mul);
            snprintf(nv, sizeof nv, "pairs_%lld_v", (long long)mul);
            if (e3c_module_tensor(&existing, m, nu) == E3C_OK) {
                e3c_tensor_free(existing);
                continue;
            }
            int64_t *u = malloc((size_t)(npairs ? npairs : 1) * sizeof *u),
                    *v = malloc((size_t)(npairs ? npairs : 1) * sizeof *v);
            for (int64_t i = 0; u && v && i < mul; i++)
                for (int64_t j = i + 1; j < mul; j++, q++)
                    u[q] = i, v[q] = j;
            e3c_tensor *tu = NULL, *tv = NULL;
            st = u && v ? e3c_tensor_from_data(&tu, u, E3C_INT64, &npairs, 1)
                        : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
            if (!st)
                st = e3c_tensor_from_data(&tv, v, E3C_INT64, &npairs, 1);
            if (!st)
                st = e3c_module_add_constant(m, nu, tu);
            if (!st)
                st = e3c_module_add_constant(m, nv, tv);
            free(u), free(v);
            e3c_tensor_free(tu), e3c_tensor_free(tv);
        }
    }
    if (!st && s->internal_weights && s->weight_numel > 0) {
        e3c_tensor *w = NULL;
        st = e3c_randn(&w, e3c_default_generator(), dtype, &s->weight_numel, 1);
        if (!st)
            st = e3c_module_add_tensor(m, "weight", w, 1);
        e3c_tensor_free(w);
    } else if (!st) {
        st = nn_add_empty_buffer(m, "weight", dtype); /* e3nn's state dict has it */
    }
    return st ? st : tp_output_mask(m, s, dtype);
}

static e3c_status declare_irreps(e3c_module *m, const tp_state *s)
{
    char *a = NULL, *b = NULL, *c = NULL;
    e3c_status st = e3c_irreps_format(&a, &s->in1);
    if (!st)
        st = e3c_irreps_format(&b, &s->in2);
    if (!st)
        st = e3c_irreps_format(&c, &s->out);
    const char *ins[3] = {a, b, NULL}, *outs[1] = {c};
    if (!st)
        st = e3c_module_set_irreps_in(m, ins, s->square ? 1 : 2);
    if (!st)
        st = e3c_module_set_irreps_out(m, outs, 1);
    free(a), free(b), free(c);
    return st;
}

/* Validate and resolve instructions into `s`; e3nn's checks (2.1, 2.2). */
static e3c_status resolve(tp_state *s, const e3c_tp_instruction *ins, size_t n, const e3c_tp_options *o)
{
    static const char *const irrep_names[3] = {"component", "norm", "none"};
    static const char *const path_names[3] = {"element", "path", "none"};
    int irrep_norm = parse_norm(o->irrep_normalization, irrep_names, 0);
    int path_norm = parse_norm(o->path_normalization, path_names, 0);
    if (irrep_norm < 0)
        return e3c_error_set(E3C_ERR_VALUE, "irrep_normalization must be component, norm or none, got \"%s\"",
                             o->irrep_normalization);
    if (path_norm < 0)
        return e3c_error_set(E3C_ERR_VALUE, "path_normalization must be element, path or none, got \"%s\"",
                             o->path_normalization);
    if (o->in1_var && o->n_in1_var != s->in1.len)
        return e3c_error_set(E3C_ERR_VALUE, "Len of ir1_var must be equal to len(irreps_in1)");
    if (o->in2_var && o->n_in2_var != s->in2.len)
        return e3c_error_set(E3C_ERR_VALUE, "Len of ir2_var must be equal to len(irreps_in2)");
    if (o->out_var && o->n_out_var != s->out.len)
        return e3c_error_set(E3C_ERR_VALUE, "Len of out_var must be equal to len(irreps_out)");
    s->ins = calloc(n ? n : 1, sizeof *s->ins);
    if (!s->ins)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for instructions");
    s->n_ins = n;
    int any_weight = 0;
    for (size_t k = 0; k < n; k++) {
        tp_ins *t = &s->ins[k];
        t->i1 = ins[k].i_in1, t->i2 = ins[k].i_in2, t->io = ins[k].i_out;
        t->mode = ins[k].mode, t->has_weight = ins[k].has_weight != 0, t->path_weight = ins[k].path_weight;
        if (t->i1 < 0 || (size_t)t->i1 >= s->in1.len || t->i2 < 0 || (size_t)t->i2 >= s->in2.len || t->io < 0 ||
            (size_t)t->io >= s->out.len)
            return e3c_error_set(E3C_ERR_VALUE, "instruction %zu (%d, %d, %d): an index is out of range", k, t->i1,
                                 t->i2, t->io);
        if ((unsigned)t->mode > 7)
            return e3c_error_set(E3C_ERR_VALUE, "instruction %zu: unknown connection mode", k);
        e3c_irrep a = s->in1.items[t->i1].ir, b = s->in2.items[t->i2].ir, c = s->out.items[t->io].ir;
        if (a.p * b.p != c.p)
            return e3c_error_set(E3C_ERR_VALUE, "instruction %zu (%d, %d, %d): parity %+d x %+d cannot give %+d", k,
                                 t->i1, t->i2, t->io, a.p, b.p, c.p);
        if (abs(a.l - b.l) > c.l || c.l > a.l + b.l)
            return e3c_error_set(E3C_ERR_VALUE, "instruction %zu (%d, %d, %d): l = %d and %d cannot give %d", k, t->i1,
                                 t->i2, t->io, a.l, b.l, c.l);
        if (c.l > 30 || a.l > 30 || b.l > 30)
            return e3c_error_set(E3C_ERR_VALUE, "instruction %zu: l above 30 is not supported", k);
        e3c_status st = path_shape(t, s->in1.items[t->i1].mul, s->in2.items[t->i2].mul, s->out.items[t->io].mul, k);
        if (st)
            return st;
        if (!(t->path_weight >= 0))
            return e3c_error_set(E3C_ERR_VALUE, "instruction %zu: path_weight must be >= 0", k);
        t->weight_size = 1;
        for (int d = 0; d < t->nshape; d++)
            t->weight_size *= t->shape[d];
        t->dropped = t->weight_size == 0 || s->in1.items[t->i1].mul == 0 || s->in2.items[t->i2].mul == 0 ||
                     s->out.items[t->io].mul == 0;
        if (t->has_weight) {
            t->weight_offset = s->weight_numel;
            s->weight_numel += t->weight_size;
            any_weight = 1;
        }
        if (s->weight_numel > NN_MAX_ELEMENTS)
            return e3c_error_set(E3C_ERR_VALUE, "the product has more than %lld weights (instruction %zu reaches %lld)",
                                 (long long)NN_MAX_ELEMENTS, k, (long long)s->weight_numel);
    }
    s->shared_weights = o->shared_weights < 0 ? 1 : o->shared_weights;
    if (o->internal_weights < 0)
        s->internal_weights = s->shared_weights && any_weight;
    else
        s->internal_weights = o->internal_weights;
    if (s->internal_weights && !s->shared_weights)
        return e3c_error_set(E3C_ERR_VALUE,
                             "internal weights must be shared (internal_weights=True, shared_weights=False)");
    coefficients(s, o, irrep_norm, path_norm);
    return E3C_OK;
}

e3c_status tp_build(e3c_module **out, const e3c_module_class *cls, tp_state *s, const e3c_tp_instruction *ins, size_t n,
                    const e3c_tp_options *opt)
{
    static const e3c_tp_options defaults = E3C_TP_OPTIONS_INIT;
    e3c_module *m = NULL;
    strbuf src = {0};
    e3c_status st = resolve(s, ins, n, opt ? opt : &defaults);
    if (st) {
        tp_state_free(s);
        return st;
    }
    s->dense = dense_eligible(s);
    s->dense_constant = s->dense && dense_has_constant(s);
    st = e3c_module_new(&m, cls, s); /* takes s, also on failure */
    if (!st)
        st = register_tensors(m, s, e3c_default_dtype());
    if (!st)
        st = declare_irreps(m, s);
    if (!st)
        st = emit_source(s, &src);
    if (!st)
        st = nn_set_source(m, &src);
    sb_free(&src);
    return nn_finish(out, m, st);
}

e3c_status tp_state_new(tp_state **out, const char *in1, const char *in2, const char *out_irreps)
{
    tp_state *s = calloc(1, sizeof *s);
    if (!s)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    e3c_status st = e3c_irreps_parse(&s->in1, in1);
    if (!st)
        st = e3c_irreps_parse(&s->in2, in2);
    if (!st && out_irreps)
        st = e3c_irreps_parse(&s->out, out_irreps);
    if (st) {
        tp_state_free(s);
        return st;
    }
    *out = s;
    return E3C_OK;
}

const e3c_module_class e3c_tensor_product_class = {
    .name = "TensorProduct", .mode = "script", .forward = tp_forward, .free_state = tp_state_free};

e3c_status e3c_tensor_product_new(e3c_module **out, const char *irreps_in1, const char *irreps_in2,
                                  const char *irreps_out, const e3c_tp_instruction *ins, size_t n_ins,
                                  const e3c_tp_options *opt)
{
    if (!out || !irreps_in1 || !irreps_in2 || !irreps_out || (n_ins && !ins))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_product_new: NULL argument");
    *out = NULL;
    tp_state *s = NULL;
    e3c_status st = tp_state_new(&s, irreps_in1, irreps_in2, irreps_out);
    return st ? st : tp_build(out, &e3c_tensor_product_class, s, ins, n_ins, opt);
}
