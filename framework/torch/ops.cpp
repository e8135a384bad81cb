// Tensor operations used by module forwards (recorded by the tracer when tracing).
#include "shim.hpp"

using namespace e3c_shim;

namespace {

template <class Op> e3c_status unary_like(const char *what, e3c_tensor **out, const e3c_tensor *t, Op op)
{
    if (!out || !t)
        return e3c_error_set(E3C_ERR_INVALID, "%s: NULL argument", what);
    *out = nullptr;
    return guard(what, [&] { return give_tensor(out, op(t->t)); });
}

} // namespace

extern "C" {

e3c_status e3c_tensor_unary(e3c_tensor **out, const e3c_tensor *t, e3c_unary_op op)
{
    return unary_like("tensor_unary", out, t, [op](const at::Tensor &x) -> at::Tensor {
        switch (op) {
        case E3C_OP_SQRT: return x.sqrt();
        case E3C_OP_RELU: return x.relu();
        case E3C_OP_SQUARE: return x.square();
        case E3C_OP_ABS: return x.abs();
        case E3C_OP_NEG: return x.neg();
        case E3C_OP_EXP: return x.exp();
        case E3C_OP_SIGMOID: return x.sigmoid();
        case E3C_OP_SILU: return at::silu(x);
        case E3C_OP_TANH: return x.tanh();
        case E3C_OP_CLONE: return x.clone();
        case E3C_OP_GELU: return at::gelu(x);
        case E3C_OP_SOFTPLUS: return at::softplus(x);
        case E3C_OP_SIN: return x.sin();
        case E3C_OP_ONES_LIKE: return at::ones_like(x);
        case E3C_OP_F_NORMALIZE: return x / x.norm(2, -1, true).clamp_min(1e-12);
        }
        throw std::invalid_argument("unknown unary operation");
    });
}

e3c_status e3c_tensor_binary(e3c_tensor **out, const e3c_tensor *a, const e3c_tensor *b, e3c_binary_op op)
{
    if (!out || !a || !b)
        return e3c_error_set(E3C_ERR_INVALID, "tensor_binary: NULL argument");
    *out = nullptr;
    return guard("tensor_binary", [&] {
        switch (op) {
        case E3C_OP_ADD: return give_tensor(out, a->t + b->t);
        case E3C_OP_SUB: return give_tensor(out, a->t - b->t);
        case E3C_OP_MUL: return give_tensor(out, a->t * b->t);
        case E3C_OP_DIV: return give_tensor(out, a->t / b->t);
        }
        return e3c_error_set(E3C_ERR_INVALID, "tensor_binary: unknown operation %d", (int)op);
    });
}

e3c_status e3c_tensor_scalar(e3c_tensor **out, const e3c_tensor *t, e3c_binary_op op, double s)
{
    if (!out || !t)
        return e3c_error_set(E3C_ERR_INVALID, "tensor_scalar: NULL argument");
    *out = nullptr;
    return guard("tensor_scalar", [&] {
        switch (op) {
        case E3C_OP_ADD: return give_tensor(out, t->t + s);
        case E3C_OP_SUB: return give_tensor(out, t->t - s);
        case E3C_OP_MUL: return give_tensor(out, t->t * s);
        case E3C_OP_DIV: return give_tensor(out, t->t / s);
        }
        return e3c_error_set(E3C_ERR_INVALID, "tensor_scalar: unknown operation %d", (int)op);
    });
}

e3c_status e3c_tensor_sum(e3c_tensor **out, const e3c_tensor *t, int dim, int keepdim)
{
    return unary_like("tensor_sum", out, t, [&](const at::Tensor &x) { return x.sum(dim, keepdim != 0); });
}

e3c_status e3c_tensor_sum_all(e3c_tensor **out, const e3c_tensor *t)
{
    return unary_like("tensor_sum_all", out, t, [](const at::Tensor &x) { return x.sum(); });
}

e3c_status e3c_tensor_narrow(e3c_tensor **out, const e3c_tensor *t, int dim, int64_t start, int64_t length)
{
    return unary_like("tensor_narrow", out, t, [&](const at::Tensor &x) { return x.narrow(dim, start, length); });
}

e3c_status e3c_tensor_select(e3c_tensor **out, const e3c_tensor *t, int dim, int64_t index)
{
    return unary_like("tensor_select", out, t, [&](const at::Tensor &x) { return x.select(dim, index); });
}

e3c_status e3c_tensor_index_select(e3c_tensor **out, const e3c_tensor *t, int dim, const e3c_tensor *index)
{
    if (!index)
        return e3c_error_set(E3C_ERR_INVALID, "tensor_index_select: NULL index");
    return unary_like("tensor_index_select", out, t,
                      [&](const at::Tensor &x) { return x.index_select(dim, index->t); });
}

e3c_status e3c_tensor_unflatten_last(e3c_tensor **out, const e3c_tensor *t, const int64_t *sizes, int n)
{
    if (n < 1 || n > E3C_MAX_DIMS || !sizes)
        return e3c_error_set(E3C_ERR_INVALID, "tensor_unflatten_last: bad sizes");
    return unary_like("tensor_unflatten_last", out, t,
                      [&](const at::Tensor &x) { return x.unflatten(-1, shape_vector(sizes, n)); });
}

e3c_status e3c_tensor_flatten_last2(e3c_tensor **out, const e3c_tensor *t)
{
    return unary_like("tensor_flatten_last2", out, t, [](const at::Tensor &x) { return x.flatten(-2, -1); });
}

e3c_status e3c_tensor_unsqueeze(e3c_tensor **out, const e3c_tensor *t, int dim)
{
    return unary_like("tensor_unsqueeze", out, t, [&](const at::Tensor &x) { return x.unsqueeze(dim); });
}

e3c_status e3c_tensor_expand(e3c_tensor **out, const e3c_tensor *t, const int64_t *shape, int ndim)
{
    if (ndim < 0 || ndim > E3C_MAX_DIMS || (ndim && !shape))
        return e3c_error_set(E3C_ERR_INVALID, "tensor_expand: bad shape");
    return unary_like("tensor_expand", out, t,
                      [&](const at::Tensor &x) { return x.expand(shape_vector(shape, ndim)); });
}

e3c_status e3c_tensor_flatten(e3c_tensor **out, const e3c_tensor *t, int start, int end)
{
    return unary_like("tensor_flatten", out, t, [&](const at::Tensor &x) { return x.flatten(start, end); });
}

e3c_status e3c_tensor_zeros_last(e3c_tensor **out, const e3c_tensor *like, int64_t width)
{
    return unary_like("tensor_zeros_last", out, like, [&](const at::Tensor &x) {
        std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
        if (shape.empty())
            throw std::invalid_argument("zeros_last: a 0-d tensor has no last dimension");
        shape.back() = width;
        return x.new_zeros(shape);
    });
}

e3c_status e3c_tensor_einsum(e3c_tensor **out, const char *equation, const e3c_tensor *const *operands, size_t n)
{
    if (!out || !equation || (n && !operands))
        return e3c_error_set(E3C_ERR_INVALID, "tensor_einsum: NULL argument");
    *out = nullptr;
    return guard("tensor_einsum", [&] {
        std::vector<at::Tensor> ts;
        for (size_t i = 0; i < n; i++) {
            if (!operands[i])
                return e3c_error_set(E3C_ERR_INVALID, "tensor_einsum: operand %zu is NULL", i);
            ts.push_back(operands[i]->t);
        }
        return give_tensor(out, at::einsum(equation, ts));
    });
}

e3c_status e3c_tensor_addcmul_(e3c_tensor *acc, const e3c_tensor *a, const e3c_tensor *b)
{
    if (!acc || !a || !b)
        return e3c_error_set(E3C_ERR_INVALID, "tensor_addcmul_: NULL argument");
    return guard("tensor_addcmul_", [&] {
        acc->t.addcmul_(a->t, b->t);
        return E3C_OK;
    });
}

e3c_status e3c_tensor_channel_mix(e3c_tensor **out, const e3c_tensor *t, const e3c_tensor *w)
{
    if (!out || !t || !w)
        return e3c_error_set(E3C_ERR_INVALID, "tensor_channel_mix: NULL argument");
    *out = nullptr;
    return guard("tensor_channel_mix", [&] {
        const at::Tensor &x = t->t, &m = w->t;
        if (x.dim() != 3 || m.dim() != 2 || x.size(1) != m.size(0))
            return e3c_error_set(E3C_ERR_VALUE, "tensor_channel_mix: shapes (Z, C, K) and (C, W) expected");
        if (x.scalar_type() == at::kFloat && x.size(0) > 0)
            return give_tensor(out, at::conv2d(x.unsqueeze(-1), m.t().unsqueeze(-1).unsqueeze(-1)).squeeze(-1));
        return give_tensor(out, at::einsum("zck,cw->zwk", {x, m}));
    });
}

e3c_status e3c_tensor_broadcast_batch(int64_t *shape, int cap, int *ndim, const e3c_tensor *a, const e3c_tensor *b)
{
    if (!a || !b || !shape || !ndim)
        return e3c_error_set(E3C_ERR_INVALID, "tensor_broadcast_batch: NULL argument");
    if (a->t.dim() < 1 || b->t.dim() < 1)
        return e3c_error_set(E3C_ERR_VALUE, "tensor_broadcast_batch: a 0-d tensor has no last dimension");
    return guard("tensor_broadcast_batch", [&] {
        at::IntArrayRef sa = a->t.sizes(), sb = b->t.sizes();
        std::vector<int64_t> r = at::infer_size(sa.slice(0, sa.size() - 1), sb.slice(0, sb.size() - 1));
        if ((int)r.size() > cap)
            return e3c_error_set(E3C_ERR_VALUE, "tensor_broadcast_batch: more than %d batch dimensions", cap);
        std::copy(r.begin(), r.end(), shape);
        *ndim = (int)r.size();
        return E3C_OK;
    });
}

e3c_status e3c_tensor_stack(e3c_tensor **out, const e3c_values *parts, int dim)
{
    if (!out || !parts || parts->items.empty())
        return e3c_error_set(E3C_ERR_INVALID, "tensor_stack: need at least one tensor");
    *out = nullptr;
    return guard("tensor_stack", [&] {
        std::vector<at::Tensor> v;
        for (const auto &p : parts->items)
            v.push_back(p.t);
        return give_tensor(out, at::stack(v, dim));
    });
}

e3c_status e3c_tensor_any_greater(int *out, const e3c_tensor *t, double threshold)
{
    if (!out || !t)
        return e3c_error_set(E3C_ERR_INVALID, "tensor_any_greater: NULL argument");
    note_data_read("e3c_tensor_any_greater");
    return guard("tensor_any_greater", [&] {
        *out = (t->t > threshold).any().item<bool>() ? 1 : 0;
        return E3C_OK;
    });
}

} // extern "C"
