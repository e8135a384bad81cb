/* A small point-cloud block for the translation checks (mode "script"): for points
 * pos (..., N, 3) with features feat (..., N, d), out_i = sum_j TP(feat_j, Y(pos_j - pos_i))
 * over all j, with Y the spherical harmonics up to lmax (normalized) and TP a fully
 * connected tensor product. Relative vectors make it translation invariant; it is
 * rotation- and parity-equivariant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e3check/nn.h"
#include "nn_internal.h"

static e3c_status first(e3c_values *v, e3c_tensor **out)
{
    e3c_status st = e3c_tensor_ref(out, e3c_values_get(v, 0));
    e3c_values_free(v);
    return st;
}

static e3c_status call1(e3c_module *self, const char *child, const e3c_tensor *a, const e3c_tensor *b, e3c_tensor **out)
{
    e3c_values *in = NULL, *res = NULL;
    e3c_status st = e3c_values_new(&in);
    if (!st)
        st = e3c_values_push(in, a);
    if (!st && b)
        st = e3c_values_push(in, b);
    if (!st)
        st = e3c_module_call_child(&res, self, child, in);
    e3c_values_free(in);
    return st ? (e3c_values_free(res), st) : first(res, out);
}

static e3c_status point_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    if (e3c_values_count(in) != 2)
        return e3c_error_set(E3C_ERR_VALUE, "PointConvolution takes (pos, feat), got %zu inputs", e3c_values_count(in));
    const e3c_tensor *pos = e3c_values_get(in, 0), *feat = e3c_values_get(in, 1);
    size_t n_in = 0;
    const e3c_arg_spec *spec = e3c_module_irreps_in(self, &n_in);
    if (nn_check_width(pos, 3, "Incorrect last dimension for pos") ||
        (spec && n_in == 2 &&
         nn_check_width(feat, e3c_irreps_dim(&spec[1].irreps), "Incorrect last dimension for feat")))
        return E3C_ERR_VALUE;
    if (e3c_tensor_ndim(pos) < 2 || e3c_tensor_ndim(feat) != e3c_tensor_ndim(pos) ||
        e3c_tensor_size(feat, -2) != e3c_tensor_size(pos, -2))
        return e3c_error_set(E3C_ERR_VALUE, "PointConvolution needs pos (..., N, 3) and feat (..., N, d)");
    e3c_tensor *a = NULL, *b = NULL, *rel = NULL, *sh = NULL, *f = NULL, *fj = NULL, *y = NULL, *sum = NULL;
    e3c_status st = e3c_tensor_unsqueeze(&a, pos, -3);
    if (!st)
        st = e3c_tensor_unsqueeze(&b, pos, -2);
    if (!st)
        st = e3c_tensor_binary(&rel, a, b, E3C_OP_SUB); /* rel[i, j] = pos[j] - pos[i] */
    if (!st)
        st = call1(self, "sh", rel, NULL, &sh);
    int64_t shape[E3C_MAX_DIMS];
    int nd = 0;
    if (!st)
        st = e3c_tensor_shape(shape, E3C_MAX_DIMS, &nd, rel);
    if (!st)
        st = e3c_tensor_unsqueeze(&f, feat, -3);
    if (!st) {
        shape[nd - 1] = e3c_tensor_size(feat, -1);
        st = e3c_tensor_expand(&fj, f, shape, nd);
    }
    if (!st)
        st = call1(self, "tp", fj, sh, &y);
    if (!st)
        st = e3c_tensor_sum(&sum, y, -2, 0);
    if (!st)
        st = e3c_values_new(out);
    if (!st)
        st = e3c_values_push(*out, sum);
    e3c_tensor_free(a), e3c_tensor_free(b), e3c_tensor_free(rel), e3c_tensor_free(sh), e3c_tensor_free(f),
        e3c_tensor_free(fj), e3c_tensor_free(y), e3c_tensor_free(sum);
    return st;
}

static const e3c_module_class point_class = {.name = "PointConvolution", .mode = "script", .forward = point_forward};

/* The forward's TorchScript: both inputs' widths checked, then as point_forward. */
static e3c_status point_source(e3c_module *m, int64_t feat_dim)
{
    strbuf b = {0};
    sb_printf(&b, "def forward(self, pos, feat):\n");
    nn_emit_width_check(&b, "pos", 3, "Incorrect last dimension for pos");
    nn_emit_width_check(&b, "feat", feat_dim, "Incorrect last dimension for feat");
    sb_printf(&b, "    rel = pos.unsqueeze(-3) - pos.unsqueeze(-2)\n"
                  "    sh = self.sh.forward(rel)\n"
                  "    fj = feat.unsqueeze(-3).expand(rel.shape[:-1] + [feat.shape[-1]])\n"
                  "    return self.tp.forward(fj, sh).sum(-2)\n");
    e3c_status st = nn_set_source(m, &b);
    sb_free(&b);
    return st;
}

e3c_status e3c_point_convolution_new(e3c_module **out, const char *irreps_feat, const char *irreps_out, int lmax)
{
    if (!out || !irreps_feat || !irreps_out || lmax < 0 || lmax > E3C_SH_LMAX_FOR_BLOCKS)
        return e3c_error_set(E3C_ERR_INVALID, "PointConvolution needs irreps and 0 <= lmax <= %d",
                             E3C_SH_LMAX_FOR_BLOCKS);
    *out = NULL;
    int ls[E3C_SH_LMAX_FOR_BLOCKS + 1];
    for (int l = 0; l <= lmax; l++)
        ls[l] = l;
    e3c_module *m = NULL, *sh = NULL, *tp = NULL;
    char sh_text[256] = "";
    for (int l = 0; l <= lmax; l++)
        snprintf(sh_text + strlen(sh_text), sizeof sh_text - strlen(sh_text), "%s1x%d%c", l ? "+" : "", l,
                 l % 2 ? 'o' : 'e');
    e3c_status st = e3c_spherical_harmonics_module_new(&sh, ls, (size_t)lmax + 1, -1, 1, E3C_NORM_COMPONENT);
    if (!st)
        st = e3c_fully_connected_tp_new(&tp, irreps_feat, sh_text, irreps_out, NULL);
    if (!st)
        st = e3c_module_new(&m, &point_class, NULL);
    if (!st) {
        st = e3c_module_add_child(m, "sh", sh);
        sh = NULL;
    }
    if (!st) {
        st = e3c_module_add_child(m, "tp", tp);
        tp = NULL;
    }
    const char *ins[2] = {"cartesian_points", irreps_feat}, *outs[1] = {irreps_out};
    if (!st)
        st = e3c_module_set_irreps_in(m, ins, 2);
    if (!st)
        st = e3c_module_set_irreps_out(m, outs, 1);
    if (!st)
        st = point_source(m, e3c_irreps_dim(&e3c_module_irreps_in(m, &(size_t){0})[1].irreps));
    e3c_module_free(sh), e3c_module_free(tp);
    return nn_finish(out, m, st);
}
