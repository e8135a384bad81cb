/* The tensor products e3nn derives from TensorProduct (MODULES_SPEC.md 3-6). */
#include <stdlib.h>
#include <string.h>

#include "e3check/nn.h"
#include "tp_internal.h"

static const e3c_module_class fctp_class = {
    .name = "FullyConnectedTensorProduct", .mode = "script", .forward = tp_forward, .free_state = tp_state_free};
static const e3c_module_class etp_class = {
    .name = "ElementwiseTensorProduct", .mode = "script", .forward = tp_forward, .free_state = tp_state_free};
static const e3c_module_class ftp_class = {
    .name = "FullTensorProduct", .mode = "script", .forward = tp_forward, .free_state = tp_state_free};
static const e3c_module_class tsq_class = {
    .name = "TensorSquare", .mode = "script", .forward = tp_forward, .free_state = tp_state_free};

/* ir_out in ir1 * ir2 (parity product and triangle rule). */
static int reachable(e3c_irrep a, e3c_irrep b, e3c_irrep o)
{
    return a.p * b.p == o.p && abs(a.l - b.l) <= o.l && o.l <= a.l + b.l;
}

/* A growing list of instructions and output entries. */
typedef struct builder {
    e3c_tp_instruction *ins;
    size_t n_ins, cap_ins;
    e3c_mulir *out;
    size_t n_out, cap_out;
    int oom;
} builder;

static void add_ins(builder *b, int i1, int i2, int io, e3c_tp_mode mode, int w, double pw)
{
    if (b->n_ins == b->cap_ins) {
        size_t cap = b->cap_ins ? 2 * b->cap_ins : 16;
        e3c_tp_instruction *g = realloc(b->ins, cap * sizeof *g);
        if (!g) {
            b->oom = 1;
            return;
        }
        b->ins = g, b->cap_ins = cap;
    }
    b->ins[b->n_ins++] = (e3c_tp_instruction){i1, i2, io, mode, w, pw};
}

static int add_out(builder *b, int64_t mul, e3c_irrep ir)
{
    if (b->n_out == b->cap_out) {
        size_t cap = b->cap_out ? 2 * b->cap_out : 16;
        e3c_mulir *g = realloc(b->out, cap * sizeof *g);
        if (!g) {
            b->oom = 1;
            return 0;
        }
        b->out = g, b->cap_out = cap;
    }
    b->out[b->n_out] = (e3c_mulir){mul, ir};
    return (int)b->n_out++;
}

static void builder_free(builder *b)
{
    free(b->ins);
    free(b->out);
}

/* Parse filter_ir_out into irreps (NULL: no filter; an empty list: a filter keeping none). */
static e3c_status parse_filter(const char *const *filter, size_t n, e3c_irrep **out)
{
    *out = NULL;
    if (!filter) /* None: every output; an empty list keeps none, as in e3nn */
        return E3C_OK;
    *out = malloc((n ? n : 1) * sizeof **out);
    if (!*out)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (e3c_irrep_parse(&(*out)[i], filter[i])) {
            free(*out);
            *out = NULL;
            return e3c_error_set(E3C_ERR_VALUE, "filter_ir_out (=%s) must be an iterable of e3nn.o3.Irrep", filter[i]);
        }
    return E3C_OK;
}

static int allowed(const e3c_irrep *filter, size_t n, e3c_irrep ir)
{
    if (!filter)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (!e3c_irrep_compare(filter[i], ir))
            return 1;
    return 0;
}

/* Replace the output Irreps of `s` with the builder's, sorted when asked, remapping the
 * instructions' outputs by the sort permutation. */
static e3c_status set_output(tp_state *s, builder *b, int sort)
{
    e3c_irreps raw;
    e3c_status st =
        b->oom ? e3c_error_set(E3C_ERR_NOMEM, "out of memory") : e3c_irreps_from_entries(&raw, b->out, b->n_out);
    if (st)
        return st;
    if (!sort) {
        s->out = raw;
        return E3C_OK;
    }
    size_t *p = NULL;
    st = e3c_irreps_sort(&s->out, &p, NULL, &raw);
    for (size_t k = 0; !st && k < b->n_ins; k++)
        b->ins[k].i_out = (int)p[b->ins[k].i_out];
    free(p);
    e3c_irreps_free(&raw);
    return st;
}

static e3c_status simplified(e3c_irreps *ir)
{
    e3c_irreps s;
    e3c_status st = e3c_irreps_simplify(&s, ir);
    if (!st) {
        e3c_irreps_free(ir);
        *ir = s;
    }
    return st;
}

e3c_status e3c_fully_connected_tp_new(e3c_module **out, const char *irreps_in1, const char *irreps_in2,
                                      const char *irreps_out, const e3c_tp_options *opt)
{
    if (!out || !irreps_in1 || !irreps_in2 || !irreps_out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_fully_connected_tp_new: NULL argument");
    *out = NULL;
    tp_state *s = NULL;
    e3c_status st = tp_state_new(&s, irreps_in1, irreps_in2, irreps_out);
    if (st)
        return st;
    builder b = {0};
    for (size_t i1 = 0; i1 < s->in1.len; i1++)
        for (size_t i2 = 0; i2 < s->in2.len; i2++)
            for (size_t io = 0; io < s->out.len; io++)
                if (reachable(s->in1.items[i1].ir, s->in2.items[i2].ir, s->out.items[io].ir))
                    add_ins(&b, (int)i1, (int)i2, (int)io, E3C_TP_UVW, 1, 1.0);
    st = b.oom ? e3c_error_set(E3C_ERR_NOMEM, "out of memory") : tp_build(out, &fctp_class, s, b.ins, b.n_ins, opt);
    builder_free(&b);
    return st;
}

/* Split entries so that both lists have equal multiplicities position by position. */
static e3c_status split_pairwise(e3c_irreps *a, e3c_irreps *b)
{
    if (e3c_irreps_num_irreps(a) != e3c_irreps_num_irreps(b))
        return e3c_error_set(E3C_ERR_VALUE,
                             "ElementwiseTensorProduct needs inputs with the same number of irreps (%lld and %lld)",
                             (long long)e3c_irreps_num_irreps(a), (long long)e3c_irreps_num_irreps(b));
    size_t cap = a->len + b->len + 1;
    e3c_mulir *x = calloc(cap, sizeof *x), *y = calloc(cap, sizeof *y);
    if (!x || !y) {
        free(x), free(y);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    }
    size_t nx = a->len, ny = b->len;
    memcpy(x, a->items, nx * sizeof *x);
    memcpy(y, b->items, ny * sizeof *y);
    for (size_t i = 0; i < nx && i < ny; i++) {
        if (x[i].mul < y[i].mul) {
            memmove(&y[i + 2], &y[i + 1], (ny - i - 1) * sizeof *y);
            y[i + 1] = (e3c_mulir){y[i].mul - x[i].mul, y[i].ir};
            y[i].mul = x[i].mul;
            ny++;
        } else if (y[i].mul < x[i].mul) {
            memmove(&x[i + 2], &x[i + 1], (nx - i - 1) * sizeof *x);
            x[i + 1] = (e3c_mulir){x[i].mul - y[i].mul, x[i].ir};
            x[i].mul = y[i].mul;
            nx++;
        }
    }
    e3c_irreps_free(a), e3c_irreps_free(b);
    e3c_status st = e3c_irreps_from_entries(a, x, nx);
    if (!st)
        st = e3c_irreps_from_entries(b, y, ny);
    free(x), free(y);
    return st;
}

/* The common start of the pairwise products: both inputs parsed and simplified, the
 * filter parsed. */
static e3c_status prepare_pairwise(tp_state **s, e3c_irrep **keep, const char *in1, const char *in2,
                                   const char *const *filter, size_t n_filter)
{
    *keep = NULL;
    e3c_status st = tp_state_new(s, in1, in2, NULL);
    if (!st)
        st = parse_filter(filter, n_filter, keep);
    if (!st)
        st = simplified(&(*s)->in1);
    if (!st)
        st = simplified(&(*s)->in2);
    return st;
}

/* The common end of the pairwise products: set the built output (sorted when asked),
 * build the module with TensorProduct's options, free the temporaries. */
static e3c_status finish_pairwise(e3c_module **out, const e3c_module_class *cls, tp_state *s, builder *b, int sort,
                                  e3c_irrep *keep, e3c_status st, const e3c_tp_options *o)
{
    if (!st)
        st = set_output(s, b, sort);
    if (!st) {
        st = tp_build(out, cls, s, b->ins, b->n_ins, o);
        s = NULL;
    }
    tp_state_free(s);
    builder_free(b);
    free(keep);
    return st;
}

e3c_status e3c_elementwise_tp_new(e3c_module **out, const char *irreps_in1, const char *irreps_in2,
                                  const char *const *filter, size_t n_filter, const char *irrep_normalization)
{
    e3c_tp_options o = E3C_TP_OPTIONS_INIT;
    o.irrep_normalization = irrep_normalization;
    return nn_elementwise_tp_new(out, irreps_in1, irreps_in2, filter, n_filter, &o);
}

e3c_status nn_elementwise_tp_new(e3c_module **out, const char *irreps_in1, const char *irreps_in2,
                                 const char *const *filter, size_t n_filter, const e3c_tp_options *o)
{
    if (!out || !irreps_in1 || !irreps_in2 || !o)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_elementwise_tp_new: NULL argument");
    *out = NULL;
    tp_state *s = NULL;
    e3c_irrep *keep = NULL;
    builder b = {0};
    e3c_status st = prepare_pairwise(&s, &keep, irreps_in1, irreps_in2, filter, n_filter);
    if (!st)
        st = split_pairwise(&s->in1, &s->in2);
    for (size_t i = 0; !st && i < s->in1.len; i++) {
        e3c_irrep a = s->in1.items[i].ir, c = s->in2.items[i].ir;
        for (int l = abs(a.l - c.l); l <= a.l + c.l; l++) {
            e3c_irrep ir = {l, a.p * c.p};
            if (!allowed(keep, n_filter, ir))
                continue;
            int io = add_out(&b, s->in1.items[i].mul, ir);
            add_ins(&b, (int)i, (int)i, io, E3C_TP_UUU, 0, 1.0);
        }
    }
    return finish_pairwise(out, &etp_class, s, &b, 0, keep, st, o);
}

e3c_status e3c_full_tp_new(e3c_module **out, const char *irreps_in1, const char *irreps_in2, const char *const *filter,
                           size_t n_filter, const char *irrep_normalization)
{
    e3c_tp_options o = E3C_TP_OPTIONS_INIT;
    o.irrep_normalization = irrep_normalization;
    return nn_full_tp_new(out, irreps_in1, irreps_in2, filter, n_filter, &o);
}

e3c_status nn_full_tp_new(e3c_module **out, const char *irreps_in1, const char *irreps_in2, const char *const *filter,
                          size_t n_filter, const e3c_tp_options *o)
{
    if (!out || !irreps_in1 || !irreps_in2 || !o)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_full_tp_new: NULL argument");
    *out = NULL;
    tp_state *s = NULL;
    e3c_irrep *keep = NULL;
    builder b = {0};
    e3c_status st = prepare_pairwise(&s, &keep, irreps_in1, irreps_in2, filter, n_filter);
    for (size_t i1 = 0; !st && i1 < s->in1.len; i1++)
        for (size_t i2 = 0; i2 < s->in2.len; i2++) {
            e3c_irrep a = s->in1.items[i1].ir, c = s->in2.items[i2].ir;
            for (int l = abs(a.l - c.l); l <= a.l + c.l; l++) {
                e3c_irrep ir = {l, a.p * c.p};
                if (!allowed(keep, n_filter, ir))
                    continue;
                int io = add_out(&b, s->in1.items[i1].mul * s->in2.items[i2].mul, ir);
                add_ins(&b, (int)i1, (int)i2, io, E3C_TP_UVUV, 0, 1.0);
            }
        }
    return finish_pairwise(out, &ftp_class, s, &b, 1, keep, st, o);
}

/* TensorSquare's base and diagonal alphas (MODULES_SPEC.md 6). */
static double base_alpha(int norm, int l1, int l2, int lo)
{
    return norm == 0 ? 2.0 * lo + 1 : norm == 1 ? (2.0 * l1 + 1) * (2.0 * l2 + 1) : 1.0;
}

static double diag_alpha(int norm, int l1, int lo)
{
    double d1 = 2.0 * l1 + 1;
    if (norm == 0)
        return lo == 0 ? 1.0 / (d1 + 2) : (2.0 * lo + 1) / 2;
    if (norm == 1)
        return lo == 0 ? d1 : d1 * (d1 + 2) / 2;
    return 1.0;
}

e3c_status e3c_tensor_square_new(e3c_module **out, const char *irreps_in, const char *irreps_out,
                                 const char *const *filter, size_t n_filter, const char *irrep_normalization)
{
    e3c_tp_options o = E3C_TP_OPTIONS_INIT;
    return nn_tensor_square_new(out, irreps_in, irreps_out, filter, n_filter, irrep_normalization, &o);
}

e3c_status nn_tensor_square_new(e3c_module **out, const char *irreps_in, const char *irreps_out,
                                const char *const *filter, size_t n_filter, const char *irrep_normalization,
                                const e3c_tp_options *tp_options)
{
    if (!out || !irreps_in || !tp_options)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_square_new: NULL argument");
    *out = NULL;
    if (irreps_out && filter)
        return e3c_error_set(E3C_ERR_VALUE, "Both `irreps_out` and `filter_ir_out` are not None, this is ambiguous.");
    int norm = !irrep_normalization || !strcmp(irrep_normalization, "component") ? 0
               : !strcmp(irrep_normalization, "norm")                            ? 1
               : !strcmp(irrep_normalization, "none")                            ? 2
                                                                                 : -1;
    if (norm < 0)
        return e3c_error_set(E3C_ERR_VALUE, "irrep_normalization must be component, norm or none, got \"%s\"",
                             irrep_normalization);
    tp_state *s = NULL;
    e3c_irrep *keep = NULL;
    builder b = {0};
    e3c_status st = tp_state_new(&s, irreps_in, irreps_in, irreps_out);
    if (!st)
        st = parse_filter(filter, n_filter, &keep);
    if (!st)
        st = simplified(&s->in1);
    if (!st)
        st = simplified(&s->in2);
    if (!st && irreps_out)
        st = simplified(&s->out);
    if (!st)
        s->square = 1;
    for (size_t i1 = 0; !st && i1 < s->in1.len; i1++)
        for (size_t i2 = i1; i2 < s->in1.len; i2++) {
            e3c_mulir a = s->in1.items[i1], c = s->in1.items[i2];
            if (irreps_out) { /* fully connected */
                for (size_t io = 0; io < s->out.len; io++) {
                    e3c_irrep ir = s->out.items[io].ir;
                    if (!reachable(a.ir, c.ir, ir))
                        continue;
                    if (i1 < i2)
                        add_ins(&b, (int)i1, (int)i2, (int)io, E3C_TP_UVW, 1, base_alpha(norm, a.ir.l, c.ir.l, ir.l));
                    else {
                        if (a.mul > 1)
                            add_ins(&b, (int)i1, (int)i2, (int)io, E3C_TP_U_LT_VW, 1,
                                    base_alpha(norm, a.ir.l, c.ir.l, ir.l));
                        if (ir.l % 2 == 0)
                            add_ins(&b, (int)i1, (int)i2, (int)io, E3C_TP_UUW, 1, diag_alpha(norm, a.ir.l, ir.l));
                    }
                }
                continue;
            }
            for (int l = abs(a.ir.l - c.ir.l); l <= a.ir.l + c.ir.l; l++) {
                e3c_irrep ir = {l, a.ir.p * c.ir.p};
                if (!allowed(keep, n_filter, ir))
                    continue;
                if (i1 < i2) {
                    int io = add_out(&b, a.mul * c.mul, ir);
                    add_ins(&b, (int)i1, (int)i2, io, E3C_TP_UVUV, 0, base_alpha(norm, a.ir.l, c.ir.l, l));
                } else {
                    if (a.mul > 1) {
                        int io = add_out(&b, a.mul * (a.mul - 1) / 2, ir);
                        add_ins(&b, (int)i1, (int)i2, io, E3C_TP_UVU_LT_V, 0, base_alpha(norm, a.ir.l, c.ir.l, l));
                    }
                    if (l % 2 == 0) {
                        int io = add_out(&b, a.mul, ir);
                        add_ins(&b, (int)i1, (int)i2, io, E3C_TP_UUU, 0, diag_alpha(norm, a.ir.l, l));
                    }
                }
            }
        }
    if (!st && !irreps_out)
        st = set_output(s, &b, 1);
    e3c_tp_options o = *tp_options; /* e3nn passes irrep_normalization="none" unless its alias replaces it */
    if (!o.irrep_normalization)
        o.irrep_normalization = "none";
    if (!st) {
        st = tp_build(out, &tsq_class, s, b.ins, b.n_ins, &o);
        s = NULL;
    }
    tp_state_free(s);
    builder_free(&b);
    free(keep);
    return st;
}
