/* Small pieces shared by the module library. */
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

static int64_t dense_limit = E3C_NN_DENSE_LIMIT;

int64_t e3c_nn_set_dense_limit(int64_t limit)
{
    int64_t old = dense_limit;
    dense_limit = limit < 0 ? 0 : limit;
    return old;
}

int64_t nn_dense_limit(void) { return dense_limit; }

e3c_status nn_add_constant(e3c_module *m, const char *name, const double *data, const int64_t *shape, int ndim,
                           e3c_dtype dtype)
{
    e3c_tensor *t64 = NULL, *t = NULL;
    e3c_status st = e3c_tensor_from_data(&t64, data, E3C_FLOAT64, shape, ndim);
    if (!st)
        st = e3c_tensor_to(&t, t64, dtype);
    if (!st)
        st = e3c_module_add_constant(m, name, t);
    e3c_tensor_free(t64), e3c_tensor_free(t);
    return st;
}

e3c_status e3c_values_take_one(e3c_values **out, e3c_tensor *t)
{
    e3c_status st = e3c_values_new(out);
    if (!st)
        st = e3c_values_push(*out, t);
    e3c_tensor_free(t);
    if (st) {
        e3c_values_free(*out);
        *out = NULL;
    }
    return st;
}

e3c_status nn_append_block(e3c_values *parts, e3c_tensor *acc, const e3c_tensor *like, int64_t width)
{
    e3c_tensor *block = NULL;
    e3c_status st = acc ? e3c_tensor_flatten(&block, acc, -2, -1) : e3c_tensor_zeros_last(&block, like, width);
    if (!st)
        st = e3c_values_push(parts, block);
    e3c_tensor_free(acc);
    e3c_tensor_free(block);
    return st;
}

e3c_status nn_cat_blocks(e3c_values **out, const e3c_values *parts, const e3c_tensor *like)
{
    e3c_tensor *result = NULL;
    e3c_status st =
        e3c_values_count(parts) ? e3c_tensor_cat(&result, parts, -1) : e3c_tensor_zeros_last(&result, like, 0);
    return st ? st : e3c_values_take_one(out, result);
}

const char *const nn_mix_source =
    "def _mix(self, t: Tensor, w: Tensor) -> Tensor:\n"
    "    if t.is_floating_point() and t.element_size() == 4 and t.shape[0] > 0:\n"
    "        return torch.conv2d(t.unsqueeze(-1), w.t().unsqueeze(-1).unsqueeze(-1)).squeeze(-1)\n"
    "    return torch.einsum(\"zck,cw->zwk\", [t, w])\n\n";

e3c_status nn_flatten_to(e3c_tensor **flat, const e3c_tensor *x, const int64_t *batch, int nb, int64_t width)
{
    int64_t shape[E3C_MAX_DIMS + 1], rows[2] = {-1, width};
    e3c_tensor *wide = NULL;
    *flat = NULL;
    if (nb < 0 || nb >= E3C_MAX_DIMS)
        return e3c_error_set(E3C_ERR_VALUE, "more than %d batch dimensions", E3C_MAX_DIMS - 1);
    memcpy(shape, batch, (size_t)nb * sizeof *shape);
    shape[nb] = width;
    e3c_status st = e3c_tensor_expand(&wide, x, shape, nb + 1);
    if (!st)
        st = e3c_tensor_reshape(flat, wide, rows, 2);
    e3c_tensor_free(wide);
    return st;
}

e3c_status nn_cat_blocks_batch(e3c_values **out, const e3c_values *parts, const e3c_tensor *like, const int64_t *batch,
                               int nb, int64_t width)
{
    int64_t shape[E3C_MAX_DIMS + 1];
    e3c_values *flat = NULL;
    e3c_tensor *result = NULL;
    memcpy(shape, batch, (size_t)nb * sizeof *shape);
    shape[nb] = width;
    e3c_status st = nn_cat_blocks(&flat, parts, like);
    if (!st)
        st = e3c_tensor_reshape(&result, e3c_values_get(flat, 0), shape, nb + 1);
    e3c_values_free(flat);
    return st ? st : e3c_values_take_one(out, result);
}

void nn_emit_return(strbuf *b, const char *x, const e3c_irreps *out, int batched)
{
    int any_block = 0;
    for (size_t o = 0; o < out->len; o++)
        any_block |= out->items[o].mul > 0;
    if (any_block)
        sb_printf(b, "    out = torch.cat(parts, -1)\n");
    else
        sb_printf(b, "    out = %s.new_zeros(%s.shape[:-1] + [0])\n", x, x);
    if (batched)
        sb_printf(b, "    return out.reshape(batch + [%lld])\n", (long long)e3c_irreps_dim(out));
    else
        sb_printf(b, "    return out\n");
}

e3c_status nn_set_source(e3c_module *m, const strbuf *b)
{
    return sb_text(b) ? e3c_module_set_script_source(m, sb_text(b))
                      : e3c_error_set(E3C_ERR_NOMEM, "out of memory generating TorchScript");
}

e3c_status nn_finish(e3c_module **out, e3c_module *m, e3c_status st)
{
    if (st) {
        e3c_module_free(m);
        return st;
    }
    *out = m;
    return E3C_OK;
}

e3c_status nn_add_empty_buffer(e3c_module *m, const char *name, e3c_dtype dtype)
{
    int64_t zero = 0;
    e3c_tensor *t = NULL;
    e3c_status st = e3c_tensor_zeros(&t, dtype, &zero, 1);
    if (!st)
        st = e3c_module_add_tensor(m, name, t, 0);
    e3c_tensor_free(t);
    return st;
}

e3c_status nn_add_output_mask(e3c_module *m, const e3c_irreps *out, const int *entry_used, e3c_dtype dtype)
{
    int64_t dim = e3c_irreps_dim(out), col = 0;
    double *mask = calloc((size_t)(dim ? dim : 1), sizeof *mask);
    if (!mask)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (size_t o = 0; o < out->len; o++)
        for (int64_t k = 0; k < out->items[o].mul * e3c_irrep_dim(out->items[o].ir); k++)
            mask[col++] = entry_used[o] ? 1.0 : 0.0;
    e3c_tensor *t64 = NULL, *t = NULL;
    e3c_status st = e3c_tensor_from_data(&t64, mask, E3C_FLOAT64, &dim, 1);
    if (!st)
        st = e3c_tensor_to(&t, t64, dtype);
    if (!st)
        st = e3c_module_add_tensor(m, "output_mask", t, 0);
    e3c_tensor_free(t64), e3c_tensor_free(t);
    free(mask);
    return st;
}

void nn_emit_width_check(strbuf *b, const char *var, int64_t dim, const char *message)
{
    sb_printf(
        b,
        "    if %s.size(-1) != %lld:\n        torch._assert(False, \"%s: got {}, expected %lld\".format(%s.size(-1)))\n",
        var, (long long)dim, message, (long long)dim, var);
}

e3c_status nn_check_width(const e3c_tensor *x, int64_t dim, const char *message)
{
    int64_t got = e3c_tensor_ndim(x) ? e3c_tensor_size(x, -1) : -1;
    if (got == dim)
        return E3C_OK;
    return e3c_error_set(E3C_ERR_VALUE, "%s: got %lld, expected %lld", message, (long long)got, (long long)dim);
}
