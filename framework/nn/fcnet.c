/* nn.FullyConnectedNet (mode "script", MODULES_SPEC.md 13): layers layer0, layer1, ...
 * each with weight (h_in, h_out) and e3nn's variance scaling. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../core/strbuf.h"
#include "e3check/nn.h"
#include "nn_internal.h"

enum { FCNET_MAX_LAYERS = 1024 }; /* each layer is a module of its own */

typedef struct layer_state {
    int act;                         /* activation index, or -1 */
    double cst, in_scale, out_scale; /* act(x @ (W / in_scale)) * cst * out_scale, or x @ (W / in_scale) */
} layer_state;

static e3c_status layer_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    const layer_state *s = e3c_module_state(self);
    if (e3c_values_count(in) != 1)
        return e3c_error_set(E3C_ERR_VALUE, "a FullyConnectedNet layer takes one input");
    e3c_tensor *w = NULL, *ws = NULL, *y = NULL, *f = NULL, *g = NULL, *h = NULL;
    e3c_status st = e3c_module_tensor(&w, self, "weight");
    if (!st)
        st = e3c_tensor_scalar(&ws, w, E3C_OP_DIV, s->in_scale);
    if (!st)
        st = e3c_tensor_matmul(&y, e3c_values_get(in, 0), ws);
    if (!st && s->act >= 0) {
        st = act_apply(s->act, y, &f);
        if (!st)
            st = e3c_tensor_scalar(&g, f, E3C_OP_MUL, s->cst);
        if (!st)
            st = e3c_tensor_scalar(&h, g, E3C_OP_MUL, s->out_scale);
    } else if (!st)
        st = e3c_tensor_ref(&h, y);
    if (!st)
        st = e3c_values_new(out);
    if (!st)
        st = e3c_values_push(*out, h);
    e3c_tensor_free(w), e3c_tensor_free(ws), e3c_tensor_free(y), e3c_tensor_free(f), e3c_tensor_free(g),
        e3c_tensor_free(h);
    return st;
}

static const e3c_module_class layer_class = {
    .name = "_Layer", .mode = "script", .forward = layer_forward, .free_state = free};

static e3c_status fcnet_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    size_t n_in = 0;
    const e3c_arg_spec *spec = e3c_module_irreps_in(self, &n_in);
    if (e3c_values_count(in) != 1)
        return e3c_error_set(E3C_ERR_VALUE, "FullyConnectedNet takes one input, got %zu", e3c_values_count(in));
    if (spec && nn_check_width(e3c_values_get(in, 0), e3c_irreps_dim(&spec->irreps), "Incorrect last dimension for x"))
        return E3C_ERR_VALUE;
    e3c_values *cur = NULL;
    e3c_status st = e3c_values_new(&cur);
    for (size_t i = 0; !st && i < e3c_values_count(in); i++)
        st = e3c_values_push(cur, e3c_values_get(in, i));
    for (size_t i = 0; !st && i < e3c_module_child_count(self); i++) {
        e3c_values *next = NULL;
        st = e3c_module_forward(&next, e3c_module_child_at(self, i), cur);
        e3c_values_free(cur);
        cur = next;
    }
    if (st) {
        e3c_values_free(cur);
        return st;
    }
    *out = cur;
    return E3C_OK;
}

static const e3c_module_class fcnet_class = {.name = "FullyConnectedNet", .mode = "script", .forward = fcnet_forward};

e3c_status e3c_fully_connected_net_new(e3c_module **out, const int *hs, size_t n_hs, const char *act,
                                       double variance_in, double variance_out, int out_act)
{
    if (!out || !hs || n_hs < 2)
        return e3c_error_set(E3C_ERR_INVALID, "FullyConnectedNet needs at least two sizes");
    *out = NULL;
    if (n_hs > FCNET_MAX_LAYERS + 1)
        return e3c_error_set(E3C_ERR_VALUE, "FullyConnectedNet with %zu layers: at most %d", n_hs - 1,
                             FCNET_MAX_LAYERS);
    for (size_t i = 0; i < n_hs; i++)
        if (hs[i] < 1)
            return e3c_error_set(E3C_ERR_VALUE, "FullyConnectedNet sizes must be positive, got %d", hs[i]);
    int64_t total = 0; /* the whole network within the cap of one module, not each layer */
    for (size_t i = 0; i + 1 < n_hs; i++) {
        if ((int64_t)hs[i] * hs[i + 1] > NN_MAX_ELEMENTS)
            return e3c_error_set(E3C_ERR_VALUE, "FullyConnectedNet layer %zu (%d x %d) has more than %lld weights", i,
                                 hs[i], hs[i + 1], (long long)NN_MAX_ELEMENTS);
        total += (int64_t)hs[i] * hs[i + 1];
        if (total > NN_MAX_ELEMENTS)
            return e3c_error_set(E3C_ERR_VALUE,
                                 "FullyConnectedNet layers 0 to %zu have %lld weights in all, more than the %lld a "
                                 "network may hold",
                                 i, (long long)total, (long long)NN_MAX_ELEMENTS);
    }
    double cst = 1.0;
    int a = -1;
    e3c_status st = act ? e3c_normalize2mom(&cst, NULL, act) : E3C_OK;
    if (act && !st)
        a = act_lookup(act);
    e3c_module *m = NULL;
    strbuf top = {0};
    if (!st)
        st = e3c_module_new(&m, &fcnet_class, NULL);
    sb_printf(&top, "def forward(self, x):\n");
    nn_emit_width_check(&top, "x", hs[0], "Incorrect last dimension for x");
    double var_in = variance_in;
    for (size_t i = 0; !st && i + 1 < n_hs; i++) {
        int last = i + 2 == n_hs;
        double var_out = last ? variance_out : 1.0;
        int has_act = a >= 0 && (!last || out_act);
        layer_state *ls = calloc(1, sizeof *ls);
        if (!ls) {
            st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
            break;
        }
        *ls = has_act ? (layer_state){a, cst, sqrt(hs[i] * var_in), sqrt(var_out)}
                      : (layer_state){-1, 1.0, sqrt(hs[i] * var_in / var_out), 1.0};
        e3c_module *layer = NULL;
        st = e3c_module_new(&layer, &layer_class, ls);
        e3c_tensor *w = NULL;
        int64_t shape[2] = {hs[i], hs[i + 1]};
        if (!st)
            st = e3c_randn(&w, e3c_default_generator(), e3c_default_dtype(), shape, 2);
        if (!st)
            st = e3c_module_add_tensor(layer, "weight", w, 1);
        e3c_tensor_free(w);
        strbuf src = {0};
        char call[128];
        if (has_act) {
            sb_printf(&src, "def forward(self, x):\n    y = x @ (self.weight / %.17g)\n    return ", ls->in_scale);
            snprintf(call, sizeof call, act_script(a), "y");
            sb_printf(&src, "%s * %.17g * %.17g\n", call, ls->cst, ls->out_scale);
        } else {
            sb_printf(&src, "def forward(self, x):\n    return x @ (self.weight / %.17g)\n", ls->in_scale);
        }
        if (!st)
            st = nn_set_source(layer, &src);
        sb_free(&src);
        char name[32];
        snprintf(name, sizeof name, "layer%zu", i);
        if (!st)
            st = e3c_module_add_child(m, name, layer);
        else
            e3c_module_free(layer);
        sb_printf(&top, "    x = self.%s.forward(x)\n", name);
        var_in = var_out;
    }
    sb_printf(&top, "    return x\n");
    char in_text[32], out_text[32];
    snprintf(in_text, sizeof in_text, "%dx0e", hs[0]);
    snprintf(out_text, sizeof out_text, "%dx0e", hs[n_hs - 1]);
    const char *ins[1] = {in_text}, *outs[1] = {out_text};
    if (!st)
        st = e3c_module_set_irreps_in(m, ins, 1);
    if (!st)
        st = e3c_module_set_irreps_out(m, outs, 1);
    if (!st)
        st = nn_set_source(m, &top);
    sb_free(&top);
    return nn_finish(out, m, st);
}
