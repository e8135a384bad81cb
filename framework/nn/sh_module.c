/* o3.SphericalHarmonics as a module (mode "script"): e3nn's values (MODULES_SPEC.md 9),
 * computed by the solid-harmonics recurrence of framework/o3/spherical_harmonics.c,
 * written once as a straight-line program that the eager forward interprets and the
 * TorchScript source spells out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/strbuf.h"
#include "e3check/nn.h"
#include "nn_internal.h"
#include "e3check/o3.h"

/* One step: t[dst] = ca * t[a] * t[b] (MUL), ca * t[a] + cb * t[b] (LIN), ca * t[a] (SCALE). */
typedef enum { OP_MUL, OP_LIN, OP_SCALE } op_kind;
typedef struct op {
    op_kind kind;
    int dst, a, b;
    double ca, cb;
} op;

typedef struct sh_state {
    int *ls;
    size_t nls;
    int normalize;
    e3c_normalization normalization;
    op *ops;
    size_t n_ops, cap_ops;
    int n_temps;
    int *outputs; /* temp index per output column */
    size_t n_outputs;
    double out_scale; /* applied to the stacked columns (a normalization common to all l) */
    int dense_degree; /* > 0: computed as the dense form of that degree (below), else the program */
} sh_state;

static void sh_free(void *p)
{
    sh_state *s = p;
    if (!s)
        return;
    free(s->ls), free(s->ops), free(s->outputs);
    free(s);
}

/* Append a step and return its temp, or return an existing temp where the step is exact
 * identity or was already taken: a product with the ones (temp 0) is a scaling, a scaling
 * by 1 is the operand itself (x * 1 == x in IEEE arithmetic), and products and plain sums
 * commute exactly, so one temp serves both orders. The program stays short. */
static int emit(sh_state *s, op_kind k, int a, int b, double ca, double cb)
{
    if (k == OP_MUL && (a == 0 || b == 0)) {
        k = OP_SCALE;
        a = a == 0 ? b : a;
    }
    if (k == OP_SCALE && ca == 1.0)
        return a;
    if (k == OP_SCALE)
        b = 0, cb = 0;
    if (((k == OP_MUL) || (k == OP_LIN && ca == cb)) && a > b) {
        int t = a;
        a = b, b = t;
    }
    for (size_t i = 0; i < s->n_ops; i++) {
        const op *o = &s->ops[i];
        if (o->kind == k && o->a == a && o->b == b && o->ca == ca && o->cb == cb)
            return o->dst;
    }
    if (s->n_ops == s->cap_ops) {
        size_t cap = s->cap_ops ? 2 * s->cap_ops : 256;
        op *g = realloc(s->ops, cap * sizeof *g);
        if (!g)
            return -1;
        s->ops = g, s->cap_ops = cap;
    }
    s->ops[s->n_ops++] = (op){k, s->n_temps, a, b, ca, cb};
    return s->n_temps++;
}

/* temps 0..3: ones, x, y, z. Build the program for degrees up to lmax and the outputs. */
static e3c_status build_program(sh_state *s)
{
    int lmax = 0;
    for (size_t i = 0; i < s->nls; i++)
        lmax = s->ls[i] > lmax ? s->ls[i] : lmax;
    s->n_temps = 4;
    const int ONE = 0, X = 1, Y = 2, Z = 3;
    const int XW = Z, YW = X, ZW = Y; /* standard axes: y is the polar axis */
    int r2 = -1;
    if (lmax >= 2) {
        int xx = emit(s, OP_MUL, X, X, 1, 0), yy = emit(s, OP_MUL, Y, Y, 1, 0), zz = emit(s, OP_MUL, Z, Z, 1, 0);
        int t = emit(s, OP_LIN, xx, yy, 1, 1);
        r2 = emit(s, OP_LIN, t, zz, 1, 1);
    }
    int *Y_at = malloc((size_t)(lmax + 1) * (lmax + 1) * sizeof *Y_at); /* temp of Y_{l, m} at l*l + l + m */
    int *C = malloc((size_t)(lmax + 1) * sizeof *C), *S = malloc((size_t)(lmax + 1) * sizeof *S);
    if (!Y_at || !C || !S) {
        free(Y_at), free(C), free(S);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    }
    C[0] = ONE, S[0] = -1;
    for (int m = 1; m <= lmax; m++) { /* (xw + i yw)^m */
        if (m == 1) {
            C[1] = XW, S[1] = YW;
            continue;
        }
        int a = emit(s, OP_MUL, C[m - 1], XW, 1, 0), b = emit(s, OP_MUL, S[m - 1], YW, 1, 0);
        C[m] = emit(s, OP_LIN, a, b, 1, -1);
        int c = emit(s, OP_MUL, S[m - 1], XW, 1, 0), d = emit(s, OP_MUL, C[m - 1], YW, 1, 0);
        S[m] = emit(s, OP_LIN, c, d, 1, 1);
    }
    for (int m = 0; m <= lmax; m++) {
        double dfact = 1.0, ratio = 1.0;
        for (int k = 1; k <= m; k++)
            dfact *= 2.0 * k - 1;
        for (int k = 2; k <= 2 * m; k++)
            ratio /= k;
        int q_prev = -1, q = emit(s, OP_SCALE, ONE, 0, dfact, 0);
        for (int l = m; l <= lmax; l++) {
            if (l > m) {
                int a = emit(s, OP_MUL, ZW, q, (2.0 * l - 1) / (l - m), 0);
                int next =
                    q_prev < 0 ? a : emit(s, OP_LIN, a, emit(s, OP_MUL, r2, q_prev, (l + m - 1.0) / (l - m), 0), 1, -1);
                q_prev = q;
                q = next;
                ratio *= (double)(l - m) / (l + m);
            }
            double norm = sqrt((2 * l + 1) * ratio);
            if (m == 0)
                Y_at[l * l + l] = emit(s, OP_SCALE, q, 0, norm, 0);
            else {
                Y_at[l * l + l + m] = emit(s, OP_MUL, q, C[m], sqrt(2.0) * norm, 0);
                Y_at[l * l + l - m] = emit(s, OP_MUL, q, S[m], sqrt(2.0) * norm, 0);
            }
        }
    }
    size_t width = 0;
    for (size_t i = 0; i < s->nls; i++)
        width += 2 * (size_t)s->ls[i] + 1;
    s->outputs = malloc((width ? width : 1) * sizeof *s->outputs);
    s->out_scale = s->normalization == E3C_NORM_INTEGRAL ? 1.0 / sqrt(4 * 3.14159265358979323846) : 1.0;
    size_t k = 0;
    for (size_t i = 0; s->outputs && i < s->nls; i++) {
        int l = s->ls[i];
        double scale = s->normalization == E3C_NORM_NORM ? 1.0 / sqrt(2.0 * l + 1) : 1.0;
        for (int j = 0; j < 2 * l + 1; j++)
            s->outputs[k++] = emit(s, OP_SCALE, Y_at[l * l + j], 0, scale, 0);
    }
    s->n_outputs = k;
    free(Y_at), free(C), free(S);
    return s->outputs && s->ops ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
}

/* ------------------------------------------------------------------ the dense form ---- */

/* For small degrees the harmonics are one matrix product: with v = (1, x, y, z), the
 * tensor power p = v (x) v (x) ... (lmax factors, 4^lmax columns) holds every monomial of
 * degree <= lmax, and Y = p @ B with B the program's polynomials written in those
 * monomials (one column each; the other copies of a monomial get zeros). A few operations
 * instead of the program's dozens, and as few lines of TorchScript. */
enum { SH_DENSE_MAX_DEGREE = 4 };

/* Polynomials in x, y, z of degree <= n, coefficients indexed by exponents (a, b, c). */
static size_t mono(int n, int a, int b, int c) { return ((size_t)a * (n + 1) + (size_t)b) * (n + 1) + (size_t)c; }

/* Evaluate the program on polynomials: *polys (caller frees) the coefficients of every
 * temp. Every step has degree <= lmax, so a product passing degree n is an internal error. */
static e3c_status program_polynomials(const sh_state *s, int n, double **polys)
{
    size_t size = (size_t)(n + 1) * (n + 1) * (n + 1);
    double *P = calloc((size_t)s->n_temps * size, sizeof *P);
    *polys = P;
    if (!P)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    P[mono(n, 0, 0, 0)] = 1.0, P[size + mono(n, 1, 0, 0)] = 1.0, P[2 * size + mono(n, 0, 1, 0)] = 1.0,
                    P[3 * size + mono(n, 0, 0, 1)] = 1.0;
    for (size_t k = 0; k < s->n_ops; k++) {
        const op *o = &s->ops[k];
        double *d = P + (size_t)o->dst * size, *A = P + (size_t)o->a * size, *B = P + (size_t)o->b * size;
        for (int a = 0; a <= n; a++)
            for (int b = 0; a + b <= n; b++)
                for (int c = 0; a + b + c <= n; c++) {
                    double u = A[mono(n, a, b, c)];
                    if (o->kind == OP_SCALE)
                        d[mono(n, a, b, c)] = o->ca * u;
                    else if (o->kind == OP_LIN)
                        d[mono(n, a, b, c)] = o->ca * u + o->cb * B[mono(n, a, b, c)];
                    else if (u != 0.0)
                        for (int e = 0; e <= n; e++)
                            for (int f = 0; e + f <= n; f++)
                                for (int g = 0; e + f + g <= n; g++) {
                                    double w = B[mono(n, e, f, g)];
                                    if (w == 0.0)
                                        continue;
                                    if (a + e + b + f + c + g > n)
                                        return e3c_error_set(E3C_ERR_INTERNAL,
                                                             "SphericalHarmonics: a step passes degree %d", n);
                                    d[mono(n, a + e, b + f, c + g)] += o->ca * u * w;
                                }
                }
    }
    return E3C_OK;
}

/* Register dense_basis, B (4^n, width): the row of monomial x^a y^b z^c is that of the
 * factor sequence x..x y..y z..z 1..1. */
static e3c_status register_dense_basis(e3c_module *m, const sh_state *s, int n)
{
    double *polys = NULL;
    size_t rows = (size_t)1 << (2 * n), size = (size_t)(n + 1) * (n + 1) * (n + 1);
    double *B = calloc(rows * (s->n_outputs ? s->n_outputs : 1), sizeof *B);
    e3c_status st = B ? program_polynomials(s, n, &polys) : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (st) {
        free(B), free(polys);
        return st;
    }
    for (int a = 0; a <= n; a++)
        for (int b = 0; a + b <= n; b++)
            for (int c = 0; a + b + c <= n; c++) {
                size_t row = 0;
                for (int j = 0; j < n; j++)
                    row = row * 4 + (j < a ? 1 : j < a + b ? 2 : j < a + b + c ? 3 : 0);
                for (size_t k = 0; k < s->n_outputs; k++)
                    B[row * s->n_outputs + k] = s->out_scale * polys[(size_t)s->outputs[k] * size + mono(n, a, b, c)];
            }
    int64_t shape[2] = {(int64_t)rows, (int64_t)s->n_outputs};
    st = nn_add_constant(m, "dense_basis", B, shape, 2, e3c_default_dtype());
    free(polys), free(B);
    return st;
}

/* The degree of the dense form for this program, or 0 to keep the program. */
static int dense_degree(const sh_state *s)
{
    int lmax = 0;
    for (size_t i = 0; i < s->nls; i++)
        lmax = s->ls[i] > lmax ? s->ls[i] : lmax;
    if (lmax < 1 || lmax > SH_DENSE_MAX_DEGREE || !s->n_outputs)
        return 0;
    return ((int64_t)1 << (2 * lmax)) * (int64_t)s->n_outputs <= nn_dense_limit() ? lmax : 0;
}

/* Y = p @ B for x (..., 3), already normalized when asked. */
static e3c_status dense_forward(e3c_module *self, const sh_state *s, const e3c_tensor *x, e3c_tensor **y)
{
    e3c_tensor *first = NULL, *ones = NULL, *v = NULL, *p = NULL, *B = NULL, *vv = NULL;
    e3c_values *parts = NULL;
    e3c_status st = e3c_tensor_narrow(&first, x, -1, 0, 1);
    if (!st)
        st = e3c_tensor_unary(&ones, first, E3C_OP_ONES_LIKE);
    if (!st)
        st = e3c_values_new(&parts);
    if (!st)
        st = e3c_values_push(parts, ones);
    if (!st)
        st = e3c_values_push(parts, x);
    if (!st)
        st = e3c_tensor_cat(&v, parts, -1);
    if (!st)
        st = e3c_tensor_ref(&p, v);
    if (!st)
        st = e3c_tensor_unsqueeze(&vv, v, -2);
    for (int k = 1; !st && k < s->dense_degree; k++) {
        e3c_tensor *pp = NULL, *prod = NULL, *next = NULL;
        st = e3c_tensor_unsqueeze(&pp, p, -1);
        if (!st)
            st = e3c_tensor_binary(&prod, pp, vv, E3C_OP_MUL);
        if (!st)
            st = e3c_tensor_flatten(&next, prod, -2, -1);
        e3c_tensor_free(pp), e3c_tensor_free(prod);
        if (!st) {
            e3c_tensor_free(p);
            p = next;
        }
    }
    if (!st)
        st = e3c_module_tensor(&B, self, "dense_basis");
    if (!st)
        st = e3c_tensor_matmul(y, p, B);
    e3c_tensor_free(first), e3c_tensor_free(ones), e3c_tensor_free(v), e3c_tensor_free(p), e3c_tensor_free(B),
        e3c_tensor_free(vv);
    e3c_values_free(parts);
    return st;
}

/* ------------------------------------------------------------------ the program ---- */

static e3c_status sh_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    const sh_state *s = e3c_module_state(self);
    if (e3c_values_count(in) != 1)
        return e3c_error_set(E3C_ERR_VALUE, "SphericalHarmonics takes one input, got %zu", e3c_values_count(in));
    const e3c_tensor *x = e3c_values_get(in, 0);
    if (nn_check_width(x, 3, "Incorrect last dimension for x"))
        return E3C_ERR_VALUE;
    e3c_tensor *v = NULL;
    e3c_status st = s->normalize ? e3c_tensor_unary(&v, x, E3C_OP_F_NORMALIZE) : e3c_tensor_ref(&v, x);
    if (s->dense_degree) {
        e3c_tensor *y = NULL;
        if (!st)
            st = dense_forward(self, s, v, &y);
        e3c_tensor_free(v);
        return st ? st : e3c_values_take_one(out, y);
    }
    e3c_tensor **t = calloc((size_t)s->n_temps, sizeof *t);
    if (!t) {
        e3c_tensor_free(v);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; !st && i < 3; i++)
        st = e3c_tensor_select(&t[1 + i], v, -1, i);
    if (!st)
        st = e3c_tensor_unary(&t[0], t[1], E3C_OP_ONES_LIKE);
    for (size_t k = 0; !st && k < s->n_ops; k++) {
        const op *o = &s->ops[k];
        e3c_tensor *a = NULL, *b = NULL;
        if (o->kind == OP_MUL) {
            st = e3c_tensor_binary(&a, t[o->a], t[o->b], E3C_OP_MUL);
            if (!st)
                st = o->ca == 1.0 ? e3c_tensor_ref(&t[o->dst], a) : e3c_tensor_scalar(&t[o->dst], a, E3C_OP_MUL, o->ca);
        } else if (o->kind == OP_LIN && o->ca == 1.0 && fabs(o->cb) == 1.0) { /* exactly ta*1 + tb*(+-1) */
            st = e3c_tensor_binary(&t[o->dst], t[o->a], t[o->b], o->cb > 0 ? E3C_OP_ADD : E3C_OP_SUB);
        } else if (o->kind == OP_LIN) {
            st = e3c_tensor_scalar(&a, t[o->a], E3C_OP_MUL, o->ca);
            if (!st)
                st = e3c_tensor_scalar(&b, t[o->b], E3C_OP_MUL, o->cb);
            if (!st)
                st = e3c_tensor_binary(&t[o->dst], a, b, E3C_OP_ADD);
        } else {
            st = e3c_tensor_scalar(&t[o->dst], t[o->a], E3C_OP_MUL, o->ca);
        }
        e3c_tensor_free(a), e3c_tensor_free(b);
    }
    e3c_values *cols = NULL;
    e3c_tensor *y = NULL;
    if (!st)
        st = e3c_values_new(&cols);
    for (size_t k = 0; !st && k < s->n_outputs; k++)
        st = e3c_values_push(cols, t[s->outputs[k]]);
    if (!st)
        st = s->n_outputs ? e3c_tensor_stack(&y, cols, -1) : e3c_tensor_zeros_last(&y, x, 0);
    if (!st && s->n_outputs && s->out_scale != 1.0) {
        e3c_tensor *scaled = NULL;
        st = e3c_tensor_scalar(&scaled, y, E3C_OP_MUL, s->out_scale);
        e3c_tensor_free(y);
        y = scaled;
    }
    if (!st)
        st = e3c_values_new(out);
    if (!st)
        st = e3c_values_push(*out, y);
    for (int i = 0; i < s->n_temps; i++)
        e3c_tensor_free(t[i]);
    free(t);
    e3c_values_free(cols), e3c_tensor_free(y), e3c_tensor_free(v);
    return st;
}

static e3c_status sh_source(const sh_state *s, strbuf *b)
{
    sb_printf(b, "def forward(self, x):\n");
    nn_emit_width_check(b, "x", 3, "Incorrect last dimension for x");
    if (s->normalize)
        sb_printf(b, "    x = x / x.norm(2, -1, True).clamp_min(1e-12)\n");
    if (s->dense_degree) {
        sb_printf(b, "    v = torch.cat([torch.ones_like(x.narrow(-1, 0, 1)), x], -1)\n    p = v\n");
        for (int k = 1; k < s->dense_degree; k++)
            sb_printf(b, "    p = (p.unsqueeze(-1) * v.unsqueeze(-2)).flatten(-2, -1)\n");
        sb_printf(b, "    return torch.matmul(p, self.dense_basis)\n");
        return sb_text(b) ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory generating TorchScript");
    }
    sb_printf(
        b,
        "    t1 = x.select(-1, 0)\n    t2 = x.select(-1, 1)\n    t3 = x.select(-1, 2)\n    t0 = torch.ones_like(t1)\n");
    for (size_t k = 0; k < s->n_ops; k++) {
        const op *o = &s->ops[k];
        if (o->kind == OP_MUL && o->ca == 1.0)
            sb_printf(b, "    t%d = t%d * t%d\n", o->dst, o->a, o->b);
        else if (o->kind == OP_MUL)
            sb_printf(b, "    t%d = t%d * t%d * %.17g\n", o->dst, o->a, o->b, o->ca);
        else if (o->kind == OP_LIN && o->ca == 1.0 && fabs(o->cb) == 1.0)
            sb_printf(b, "    t%d = t%d %c t%d\n", o->dst, o->a, o->cb > 0 ? '+' : '-', o->b);
        else if (o->kind == OP_LIN)
            sb_printf(b, "    t%d = t%d * %.17g + t%d * %.17g\n", o->dst, o->a, o->ca, o->b, o->cb);
        else
            sb_printf(b, "    t%d = t%d * %.17g\n", o->dst, o->a, o->ca);
    }
    if (!s->n_outputs)
        sb_printf(b, "    return x.new_zeros(x.shape[:-1] + [0])\n");
    else {
        sb_printf(b, "    return torch.stack([");
        for (size_t k = 0; k < s->n_outputs; k++)
            sb_printf(b, "%st%d", k ? ", " : "", s->outputs[k]);
        sb_printf(b, "], -1)");
        if (s->out_scale != 1.0)
            sb_printf(b, " * %.17g", s->out_scale);
        sb_printf(b, "\n");
    }
    return sb_text(b) ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory generating TorchScript");
}

static const e3c_module_class sh_class = {
    .name = "SphericalHarmonics", .mode = "script", .forward = sh_forward, .free_state = sh_free};

e3c_status e3c_spherical_harmonics_module_new(e3c_module **out, const int *ls, size_t nls, int p_in, int normalize,
                                              e3c_normalization normalization)
{
    if (!out || (nls && !ls) || (p_in != 1 && p_in != -1))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_spherical_harmonics_module_new: bad argument");
    *out = NULL;
    for (size_t i = 0; i < nls; i++)
        if (ls[i] < 0 || ls[i] > E3C_SH_LMAX)
            return e3c_error_set(E3C_ERR_VALUE, "spherical harmonics of l = %d: l must be in 0..%d", ls[i],
                                 E3C_SH_LMAX);
    if (normalization != E3C_NORM_COMPONENT && normalization != E3C_NORM_NORM && normalization != E3C_NORM_INTEGRAL)
        return e3c_error_set(E3C_ERR_VALUE, "normalization must be integral, component or norm");
    sh_state *s = calloc(1, sizeof *s);
    if (!s || !(s->ls = malloc((nls ? nls : 1) * sizeof *s->ls))) {
        free(s);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    }
    memcpy(s->ls, ls, nls * sizeof *ls);
    s->nls = nls, s->normalize = normalize != 0, s->normalization = normalization;
    e3c_status st = build_program(s);
    e3c_module *m = NULL;
    if (st) {
        sh_free(s);
        return st;
    }
    s->dense_degree = dense_degree(s);
    st = e3c_module_new(&m, &sh_class, s);
    if (!st && s->dense_degree)
        st = register_dense_basis(m, s, s->dense_degree);
    e3c_mulir *entries = malloc((nls ? nls : 1) * sizeof *entries);
    e3c_irreps ir = {0, NULL}, simple = {0, NULL};
    char *text = NULL;
    for (size_t i = 0; entries && i < nls; i++)
        entries[i] = (e3c_mulir){1, {ls[i], (p_in == -1 && ls[i] % 2) ? -1 : 1}};
    if (!st)
        st = entries ? e3c_irreps_from_entries(&ir, entries, nls) : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (!st)
        st = e3c_irreps_simplify(&simple, &ir);
    if (!st)
        st = e3c_irreps_format(&text, &simple);
    const char *ins[1] = {p_in == -1 ? "1x1o" : "1x1e"}, *outs[1] = {text};
    if (!st)
        st = e3c_module_set_irreps_in(m, ins, 1);
    if (!st)
        st = e3c_module_set_irreps_out(m, outs, 1);
    strbuf src = {0};
    if (!st)
        st = sh_source(s, &src);
    if (!st)
        st = nn_set_source(m, &src);
    sb_free(&src);
    free(entries), free(text);
    e3c_irreps_free(&ir), e3c_irreps_free(&simple);
    return nn_finish(out, m, st);
}
