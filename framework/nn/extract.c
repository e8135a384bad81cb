/* nn.Extract / nn.ExtractIr (mode "script", MODULES_SPEC.md 10) and nn.Gate
 * (mode "script", MODULES_SPEC.md 12). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/strbuf.h"
#include "e3check/nn.h"
#include "nn_internal.h"

/* ------------------------------------------------------------------ slices ---- */

/* One output: the input columns [start, start+width) of each of its pieces, in order. */
typedef struct piece_list {
    int64_t *start, *width;
    size_t n;
} piece_list;

typedef struct extract_state {
    int64_t dim_in;
    piece_list *outs;
    size_t n_outs;
    int squeeze;
} extract_state;

static void extract_free(void *p)
{
    extract_state *s = p;
    if (!s)
        return;
    for (size_t k = 0; k < s->n_outs; k++)
        free(s->outs[k].start), free(s->outs[k].width);
    free(s->outs);
    free(s);
}

/* The pieces of x: one piece is the slice itself, several are concatenated (a copy),
 * none give zero width. */
static e3c_status gather(const e3c_tensor *x, const piece_list *p, e3c_tensor **out)
{
    e3c_values *parts = NULL;
    e3c_status st = e3c_values_new(&parts);
    for (size_t i = 0; !st && i < p->n; i++) {
        e3c_tensor *slice = NULL;
        st = e3c_tensor_narrow(&slice, x, -1, p->start[i], p->width[i]);
        if (!st)
            st = e3c_values_push(parts, slice);
        e3c_tensor_free(slice);
    }
    if (!st && p->n == 1) /* one piece: the slice itself, no copy */
        st = e3c_tensor_ref(out, e3c_values_get(parts, 0));
    else if (!st)
        st = p->n ? e3c_tensor_cat(out, parts, -1) : e3c_tensor_zeros_last(out, x, 0);
    e3c_values_free(parts);
    return st;
}

static void gather_source(strbuf *b, const char *var, const piece_list *p)
{
    if (!p->n) {
        sb_printf(b, "x.new_zeros(%s.shape[:-1] + [0])", var);
        return;
    }
    sb_printf(b, "%s", p->n > 1 ? "torch.cat([" : "");
    for (size_t i = 0; i < p->n; i++)
        sb_printf(b, "%s%s.narrow(-1, %lld, %lld)", i ? ", " : "", var, (long long)p->start[i], (long long)p->width[i]);
    sb_printf(b, "%s", p->n > 1 ? "], -1)" : "");
}

static e3c_status extract_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    const extract_state *s = e3c_module_state(self);
    if (e3c_values_count(in) != 1)
        return e3c_error_set(E3C_ERR_VALUE, "Extract takes one input, got %zu", e3c_values_count(in));
    const e3c_tensor *x = e3c_values_get(in, 0);
    if (nn_check_width(x, s->dim_in, "invalid input shape"))
        return E3C_ERR_VALUE;
    e3c_status st = e3c_values_new(out);
    for (size_t k = 0; !st && k < s->n_outs; k++) {
        e3c_tensor *y = NULL;
        st = gather(x, &s->outs[k], &y);
        if (!st)
            st = e3c_values_push(*out, y);
        e3c_tensor_free(y);
    }
    return st;
}

static const e3c_module_class extract_class = {
    .name = "Extract", .mode = "script", .forward = extract_forward, .free_state = extract_free};
static const e3c_module_class extract_ir_class = {
    .name = "ExtractIr", .mode = "script", .forward = extract_forward, .free_state = extract_free};

e3c_status e3c_extract_new(e3c_module **out, const char *irreps_in, const char *const *irreps_outs, size_t n_outs,
                           const int *const *instructions, const size_t *n_instructions, int squeeze_out)
{
    if (!out || !irreps_in || (n_outs && (!irreps_outs || !instructions || !n_instructions)))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_extract_new: NULL argument");
    *out = NULL;
    extract_state *s = calloc(1, sizeof *s);
    e3c_irreps in = {0, NULL};
    e3c_status st = s ? e3c_irreps_parse(&in, irreps_in) : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (!st && !(s->outs = calloc(n_outs ? n_outs : 1, sizeof *s->outs)))
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (!st) {
        s->n_outs = n_outs;
        s->dim_in = e3c_irreps_dim(&in);
        s->squeeze = squeeze_out;
    }
    for (size_t k = 0; !st && k < n_outs; k++) {
        e3c_irreps o;
        st = e3c_irreps_parse(&o, irreps_outs[k]);
        if (!st && o.len != n_instructions[k])
            st = e3c_error_set(E3C_ERR_VALUE, "output %zu: %zu irreps entries but %zu instruction indices", k, o.len,
                               n_instructions[k]);
        piece_list *p = &s->outs[k];
        size_t cnt = n_instructions[k] ? n_instructions[k] : 1;
        if (!st && (!(p->start = calloc(cnt, sizeof *p->start)) || !(p->width = calloc(cnt, sizeof *p->width))))
            st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < n_instructions[k]; i++) {
            int idx = instructions[k][i];
            if (idx < 0 || (size_t)idx >= in.len) {
                st = e3c_error_set(E3C_ERR_VALUE, "output %zu: %d is not a valid index for irreps_in", k, idx);
                break;
            }
            int64_t start = 0;
            for (int j = 0; j < idx; j++)
                start += in.items[j].mul * e3c_irrep_dim(in.items[j].ir);
            int64_t w = in.items[idx].mul * e3c_irrep_dim(in.items[idx].ir);
            if (w != o.items[i].mul * e3c_irrep_dim(o.items[i].ir))
                st = e3c_error_set(E3C_ERR_VALUE, "output %zu entry %zu has width %lld but input entry %d has %lld", k,
                                   i, (long long)(o.items[i].mul * e3c_irrep_dim(o.items[i].ir)), idx, (long long)w);
            p->start[p->n] = start, p->width[p->n] = w, p->n++;
        }
        e3c_irreps_free(&o);
    }
    e3c_irreps_free(&in);
    if (st) {
        extract_free(s);
        return st;
    }
    e3c_module *m = NULL;
    strbuf b = {0};
    st = e3c_module_new(&m, squeeze_out ? &extract_ir_class : &extract_class, s);
    const char *ins[1] = {irreps_in};
    if (!st)
        st = e3c_module_set_irreps_in(m, ins, 1);
    if (!st)
        st = e3c_module_set_irreps_out(m, irreps_outs, n_outs);
    sb_printf(&b, "def forward(self, x):\n");
    nn_emit_width_check(&b, "x", s->dim_in, "invalid input shape");
    sb_printf(&b, "    return ");
    if (squeeze_out && n_outs == 1)
        gather_source(&b, "x", &s->outs[0]);
    else {
        sb_printf(&b, "(");
        for (size_t k = 0; k < n_outs; k++) {
            gather_source(&b, "x", &s->outs[k]);
            sb_printf(&b, n_outs == 1 ? "," : k + 1 < n_outs ? ", " : "");
        }
        sb_printf(&b, ")");
    }
    sb_printf(&b, "\n");
    if (!st)
        st = nn_set_source(m, &b);
    sb_free(&b);
    return nn_finish(out, m, st);
}

e3c_status e3c_extract_ir_new(e3c_module **out, const char *irreps_in, const char *ir_text)
{
    if (!out || !irreps_in || !ir_text)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_extract_ir_new: NULL argument");
    e3c_irreps in;
    e3c_irrep ir;
    e3c_status st = e3c_irreps_parse(&in, irreps_in);
    if (st)
        return st;
    st = e3c_irrep_parse(&ir, ir_text);
    int *idx = calloc(in.len ? in.len : 1, sizeof *idx);
    e3c_mulir *entries = calloc(in.len ? in.len : 1, sizeof *entries);
    size_t n = 0;
    for (size_t i = 0; !st && idx && entries && i < in.len; i++)
        if (!e3c_irrep_compare(in.items[i].ir, ir)) {
            entries[n] = in.items[i];
            idx[n++] = (int)i;
        }
    e3c_irreps o = {0, NULL};
    char *text = NULL;
    if (!st)
        st = idx && entries ? e3c_irreps_from_entries(&o, entries, n) : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (!st)
        st = e3c_irreps_format(&text, &o);
    const char *outs[1] = {text};
    const int *ins[1] = {idx};
    if (!st)
        st = e3c_extract_new(out, irreps_in, outs, 1, ins, &n, 1);
    free(idx), free(entries), free(text);
    e3c_irreps_free(&in), e3c_irreps_free(&o);
    return st;
}

/* ------------------------------------------------------------------ Gate ---- */

typedef struct gate_state {
    int64_t dim_in;
    piece_list s, g, v; /* where scalars, gates and gated sit in the sorted input */
} gate_state;

static void gate_free(void *p)
{
    gate_state *s = p;
    if (!s)
        return;
    piece_list *l[3] = {&s->s, &s->g, &s->v};
    for (int i = 0; i < 3; i++)
        free(l[i]->start), free(l[i]->width);
    free(s);
}

static e3c_status gate_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    const gate_state *s = e3c_module_state(self);
    if (e3c_values_count(in) != 1)
        return e3c_error_set(E3C_ERR_VALUE, "Gate takes one input, got %zu", e3c_values_count(in));
    const e3c_tensor *x = e3c_values_get(in, 0);
    if (nn_check_width(x, s->dim_in, "invalid input shape"))
        return E3C_ERR_VALUE;
    e3c_tensor *sc = NULL, *ga = NULL, *gv = NULL;
    e3c_values *args = NULL, *r1 = NULL, *r2 = NULL, *r3 = NULL, *parts = NULL;
    e3c_status st = gather(x, &s->s, &sc);
    if (!st)
        st = gather(x, &s->g, &ga);
    if (!st)
        st = gather(x, &s->v, &gv);
    if (!st)
        st = e3c_values_new(&args);
    if (!st)
        st = e3c_values_push(args, sc);
    if (!st)
        st = e3c_module_call_child(&r1, self, "act_scalars", args);
    int gated = !st && e3c_tensor_size(ga, -1) > 0;
    if (gated) {
        e3c_values *a2 = NULL, *a3 = NULL;
        st = e3c_values_new(&a2);
        if (!st)
            st = e3c_values_push(a2, ga);
        if (!st)
            st = e3c_module_call_child(&r2, self, "act_gates", a2);
        if (!st)
            st = e3c_values_new(&a3);
        if (!st)
            st = e3c_values_push(a3, gv);
        if (!st)
            st = e3c_values_push(a3, e3c_values_get(r2, 0));
        if (!st)
            st = e3c_module_call_child(&r3, self, "mul", a3);
        e3c_values_free(a2), e3c_values_free(a3);
    }
    e3c_tensor *y = NULL;
    if (!st)
        st = e3c_values_new(&parts);
    if (!st)
        st = e3c_values_push(parts, e3c_values_get(r1, 0));
    if (!st && gated)
        st = e3c_values_push(parts, e3c_values_get(r3, 0));
    if (!st)
        st = e3c_tensor_cat(&y, parts, -1);
    if (!st)
        st = e3c_values_new(out);
    if (!st)
        st = e3c_values_push(*out, y);
    e3c_tensor_free(sc), e3c_tensor_free(ga), e3c_tensor_free(gv), e3c_tensor_free(y);
    e3c_values_free(args), e3c_values_free(r1), e3c_values_free(r2), e3c_values_free(r3), e3c_values_free(parts);
    return st;
}

static const e3c_module_class gate_class = {
    .name = "Gate", .mode = "script", .forward = gate_forward, .free_state = gate_free};

/* Positions of the entries [first, first+count) of the unsorted concatenation in the
 * sorted layout `sorted`, via the sort permutation p. */
static e3c_status place(piece_list *pl, const e3c_irreps *sorted, const size_t *p, size_t first, size_t count)
{
    pl->start = calloc(count ? count : 1, sizeof *pl->start);
    pl->width = calloc(count ? count : 1, sizeof *pl->width);
    if (!pl->start || !pl->width)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        size_t k = p[first + i];
        int64_t start = 0;
        for (size_t j = 0; j < k; j++)
            start += sorted->items[j].mul * e3c_irrep_dim(sorted->items[j].ir);
        pl->start[pl->n] = start;
        pl->width[pl->n++] = sorted->items[k].mul * e3c_irrep_dim(sorted->items[k].ir);
    }
    return E3C_OK;
}

static e3c_status simplified_text(const char *text, e3c_irreps *out)
{
    e3c_irreps raw;
    e3c_status st = e3c_irreps_parse(&raw, text);
    if (!st)
        st = e3c_irreps_simplify(out, &raw);
    e3c_irreps_free(&raw);
    return st;
}

e3c_status e3c_gate_new(e3c_module **out, const char *irreps_scalars, const char *const *act_scalars, size_t n_scalars,
                        const char *irreps_gates, const char *const *act_gates, size_t n_gates,
                        const char *irreps_gated)
{
    if (!out || !irreps_scalars || !irreps_gates || !irreps_gated)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_gate_new: NULL argument");
    *out = NULL;
    e3c_irreps S = {0, NULL}, G = {0, NULL}, V = {0, NULL}, SG = {0, NULL}, SGV = {0, NULL}, sorted = {0, NULL},
               in_simple = {0, NULL};
    size_t *p = NULL;
    int lmax;
    e3c_status st = simplified_text(irreps_scalars, &S);
    if (!st)
        st = simplified_text(irreps_gates, &G);
    if (!st)
        st = simplified_text(irreps_gated, &V);
    if (!st && S.len && !e3c_irreps_lmax(&lmax, &S) && lmax > 0)
        st = e3c_error_set(E3C_ERR_VALUE, "Scalars must be scalars, instead got irreps_scalars = %s", irreps_scalars);
    if (!st && G.len && !e3c_irreps_lmax(&lmax, &G) && lmax > 0)
        st = e3c_error_set(E3C_ERR_VALUE, "Gate scalars must be scalars, instead got irreps_gates = %s", irreps_gates);
    if (!st && e3c_irreps_num_irreps(&G) != e3c_irreps_num_irreps(&V))
        st = e3c_error_set(
            E3C_ERR_VALUE,
            "There are %lld irreps in irreps_gated, but a different number (%lld) of gate scalars in irreps_gates",
            (long long)e3c_irreps_num_irreps(&V), (long long)e3c_irreps_num_irreps(&G));
    if (!st)
        st = e3c_irreps_concat(&SG, &S, &G);
    if (!st)
        st = e3c_irreps_concat(&SGV, &SG, &V);
    if (!st)
        st = e3c_irreps_sort(&sorted, &p, NULL, &SGV);
    if (!st)
        st = e3c_irreps_simplify(&in_simple, &sorted);
    gate_state *gs = st ? NULL : calloc(1, sizeof *gs);
    if (!st && !gs)
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (!st)
        st = place(&gs->s, &sorted, p, 0, S.len);
    if (!st)
        st = place(&gs->g, &sorted, p, S.len, G.len);
    if (!st)
        st = place(&gs->v, &sorted, p, S.len + G.len, V.len);
    if (!st)
        gs->dim_in = e3c_irreps_dim(&sorted);
    e3c_module *m = NULL, *as = NULL, *ag = NULL, *mul = NULL;
    char *ag_out = NULL, *in_text = NULL, *out_text = NULL, *v_text = NULL;
    if (!st)
        st = e3c_activation_new(&as, irreps_scalars, act_scalars, n_scalars);
    if (!st)
        st = e3c_activation_new(&ag, irreps_gates, act_gates, n_gates);
    size_t n;
    if (!st)
        st = e3c_irreps_format(&ag_out, &e3c_module_irreps_out(ag, &n)[0].irreps);
    if (!st)
        st = e3c_irreps_format(&v_text, &V);
    if (!st)
        st = e3c_elementwise_tp_new(&mul, v_text, ag_out, NULL, 0, NULL);
    if (!st) {
        st = e3c_module_new(&m, &gate_class, gs);
        gs = NULL;
    }
    if (!st) {
        st = e3c_module_add_child(m, "act_scalars", as);
        as = NULL;
    }
    if (!st) {
        st = e3c_module_add_child(m, "act_gates", ag);
        ag = NULL;
    }
    if (!st) {
        st = e3c_module_add_child(m, "mul", mul);
        mul = NULL;
    }
    if (!st) { /* irreps_out = act_scalars.irreps_out + mul.irreps_out */
        e3c_irreps o = {0, NULL};
        st = e3c_irreps_concat(&o, &e3c_module_irreps_out(e3c_module_child(m, "act_scalars"), &n)[0].irreps,
                               &e3c_module_irreps_out(e3c_module_child(m, "mul"), &n)[0].irreps);
        if (!st)
            st = e3c_irreps_format(&out_text, &o);
        e3c_irreps_free(&o);
    }
    if (!st)
        st = e3c_irreps_format(&in_text, &in_simple);
    const char *ins[1] = {in_text}, *outs[1] = {out_text};
    if (!st)
        st = e3c_module_set_irreps_in(m, ins, 1);
    if (!st)
        st = e3c_module_set_irreps_out(m, outs, 1);
    strbuf b = {0};
    if (!st) {
        const gate_state *g = e3c_module_state(m);
        sb_printf(&b, "def forward(self, x):\n");
        nn_emit_width_check(&b, "x", g->dim_in, "invalid input shape");
        sb_printf(&b, "    s = ");
        gather_source(&b, "x", &g->s);
        sb_printf(&b, "\n    s = self.act_scalars.forward(s)\n");
        if (g->g.n) {
            sb_printf(&b, "    g = ");
            gather_source(&b, "x", &g->g);
            sb_printf(&b, "\n    v = ");
            gather_source(&b, "x", &g->v);
            sb_printf(&b,
                      "\n    g = self.act_gates.forward(g)\n    return torch.cat([s, self.mul.forward(v, g)], -1)\n");
        } else {
            sb_printf(&b, "    return s\n");
        }
        st = nn_set_source(m, &b);
    }
    sb_free(&b);
    gate_free(gs);
    e3c_module_free(as), e3c_module_free(ag), e3c_module_free(mul);
    free(p), free(ag_out), free(in_text), free(out_text), free(v_text);
    e3c_irreps_free(&S), e3c_irreps_free(&G), e3c_irreps_free(&V), e3c_irreps_free(&SG), e3c_irreps_free(&SGV),
        e3c_irreps_free(&sorted), e3c_irreps_free(&in_simple);
    return nn_finish(out, m, st);
}
