// Tensors: creation from C arrays, queries, copies and the few operations e3check needs.
#include "shim.hpp"

#include <ATen/Parallel.h>
#include <torch/serialize.h>
#include <torch/version.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

using e3c_shim::guard;

namespace {
// Every c10::Error symbolizes a C++ backtrace when it is constructed, which costs
// milliseconds; e3check's messages never show it (guard keeps what_without_backtrace), so
// a process using e3check does not pay for it. Matters where errors are expected: the
// strict-shape step calls compiled modules with wrong shapes on purpose.
const bool no_error_backtraces = [] {
    c10::SetStackTraceFetcher([] { return std::string(); });
    return true;
}();
} // namespace

namespace e3c_shim {

at::ScalarType scalar_type(e3c_dtype dtype)
{
    switch (dtype) {
    case E3C_FLOAT32: return at::kFloat;
    case E3C_FLOAT64: return at::kDouble;
    case E3C_INT64: return at::kLong;
    case E3C_BOOL: return at::kBool;
    }
    return at::kDouble;
}

bool from_scalar_type(at::ScalarType st, e3c_dtype *out)
{
    switch (st) {
    case at::kFloat: *out = E3C_FLOAT32; return true;
    case at::kDouble: *out = E3C_FLOAT64; return true;
    case at::kLong: *out = E3C_INT64; return true;
    case at::kBool: *out = E3C_BOOL; return true;
    default: return false;
    }
}

std::vector<int64_t> shape_vector(const int64_t *shape, int ndim) { return std::vector<int64_t>(shape, shape + ndim); }

e3c_status check_shape(const int64_t *shape, int ndim)
{
    if (ndim < 0 || ndim > E3C_MAX_DIMS)
        return e3c_error_set(E3C_ERR_INVALID, "tensor rank %d is outside 0..%d", ndim, E3C_MAX_DIMS);
    if (ndim > 0 && !shape)
        return e3c_error_set(E3C_ERR_INVALID, "shape is NULL for a rank-%d tensor", ndim);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0)
            return e3c_error_set(E3C_ERR_INVALID, "negative size %lld in dimension %d", (long long)shape[i], i);
    return E3C_OK;
}

e3c_status give_tensor(e3c_tensor **out, at::Tensor t)
{
    *out = new e3c_tensor{std::move(t)};
    return E3C_OK;
}

char *dup_string(const std::string &s)
{
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (!p)
        throw std::bad_alloc();
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

e3c_status give_strings(e3c_strings *out, const std::vector<std::string> &v)
{
    out->count = 0;
    out->items = static_cast<char **>(std::calloc(v.size() ? v.size() : 1, sizeof(char *)));
    if (!out->items)
        throw std::bad_alloc();
    try {
        for (const auto &s : v)
            out->items[out->count++] = dup_string(s);
    } catch (...) {
        e3c_strings_free(out);
        throw;
    }
    return E3C_OK;
}

} // namespace e3c_shim

using namespace e3c_shim;

extern "C" {

void e3c_strings_free(e3c_strings *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++)
        std::free(s->items[i]);
    std::free(s->items);
    s->items = nullptr;
    s->count = 0;
}

const char *e3c_dtype_name(e3c_dtype dtype)
{
    switch (dtype) {
    case E3C_FLOAT32: return "float32";
    case E3C_FLOAT64: return "float64";
    case E3C_INT64: return "int64";
    case E3C_BOOL: return "bool";
    }
    return "unknown";
}

e3c_status e3c_dtype_parse(e3c_dtype *out, const char *name)
{
    static const struct {
        const char *name;
        e3c_dtype dtype;
    } names[] = {{"float32", E3C_FLOAT32}, {"float", E3C_FLOAT32}, {"float64", E3C_FLOAT64}, {"double", E3C_FLOAT64},
                 {"int64", E3C_INT64},     {"long", E3C_INT64},    {"bool", E3C_BOOL}};
    if (!out || !name)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_dtype_parse: NULL argument");
    for (const auto &n : names)
        if (std::strcmp(n.name, name) == 0) {
            *out = n.dtype;
            return E3C_OK;
        }
    return e3c_error_set(E3C_ERR_VALUE, "unknown dtype \"%s\" (expected float32 or float64)", name);
}

size_t e3c_dtype_size(e3c_dtype dtype)
{
    switch (dtype) {
    case E3C_FLOAT32: return 4;
    case E3C_FLOAT64: return 8;
    case E3C_INT64: return 8;
    case E3C_BOOL: return 1;
    }
    return 0;
}

const char *e3c_torch_version(void) { return TORCH_VERSION; }

static e3c_dtype default_dtype = E3C_FLOAT32;

e3c_dtype e3c_default_dtype(void) { return default_dtype; }

e3c_status e3c_set_default_dtype(e3c_dtype dtype)
{
    if (dtype != E3C_FLOAT32 && dtype != E3C_FLOAT64)
        return e3c_error_set(E3C_ERR_INVALID, "the default dtype must be float32 or float64");
    default_dtype = dtype;
    return E3C_OK;
}

e3c_status e3c_torch_set_num_threads(int n)
{
    if (n < 1)
        return e3c_error_set(E3C_ERR_INVALID, "thread count must be >= 1, got %d", n);
    return guard("set_num_threads", [&] {
        at::set_num_threads(n);
        return E3C_OK;
    });
}

e3c_status e3c_tensor_from_data(e3c_tensor **out, const void *data, e3c_dtype dtype, const int64_t *shape, int ndim)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_from_data: out is NULL");
    *out = nullptr;
    e3c_status st = check_shape(shape, ndim);
    if (st)
        return st;
    return guard("tensor_from_data", [&] {
        at::Tensor t = at::empty(shape_vector(shape, ndim), at::TensorOptions(scalar_type(dtype)));
        size_t nbytes = static_cast<size_t>(t.numel()) * e3c_dtype_size(dtype);
        if (nbytes && !data)
            return e3c_error_set(E3C_ERR_INVALID, "tensor_from_data: data is NULL");
        if (nbytes)
            std::memcpy(t.data_ptr(), data, nbytes);
        return give_tensor(out, std::move(t));
    });
}

e3c_status e3c_tensor_zeros(e3c_tensor **out, e3c_dtype dtype, const int64_t *shape, int ndim)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_zeros: out is NULL");
    *out = nullptr;
    e3c_status st = check_shape(shape, ndim);
    if (st)
        return st;
    return guard("tensor_zeros", [&] {
        return give_tensor(out, at::zeros(shape_vector(shape, ndim), at::TensorOptions(scalar_type(dtype))));
    });
}

e3c_status e3c_tensor_ref(e3c_tensor **out, const e3c_tensor *t)
{
    if (!out || !t)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_ref: NULL argument");
    return guard("tensor_ref", [&] { return give_tensor(out, t->t); });
}

void e3c_tensor_free(e3c_tensor *t) { delete t; }

int e3c_tensor_ndim(const e3c_tensor *t) { return t ? static_cast<int>(t->t.dim()) : 0; }

e3c_status e3c_tensor_shape(int64_t *shape, int cap, int *ndim, const e3c_tensor *t)
{
    if (!t || !ndim || (cap > 0 && !shape))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_shape: NULL argument");
    int n = static_cast<int>(t->t.dim());
    if (n > cap)
        return e3c_error_set(E3C_ERR_INVALID, "tensor has %d dimensions, room for %d", n, cap);
    for (int i = 0; i < n; i++)
        shape[i] = t->t.size(i);
    *ndim = n;
    return E3C_OK;
}

int64_t e3c_tensor_size(const e3c_tensor *t, int dim)
{
    if (!t)
        return -1;
    int n = static_cast<int>(t->t.dim());
    if (dim < 0)
        dim += n;
    if (dim < 0 || dim >= n)
        return -1;
    return t->t.size(dim);
}

int64_t e3c_tensor_numel(const e3c_tensor *t) { return t ? t->t.numel() : 0; }

e3c_status e3c_tensor_dtype(e3c_dtype *out, const e3c_tensor *t)
{
    if (!t || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_dtype: NULL argument");
    if (!from_scalar_type(t->t.scalar_type(), out))
        return e3c_error_set(E3C_ERR_VALUE, "unsupported tensor dtype %s", c10::toString(t->t.scalar_type()));
    return E3C_OK;
}

e3c_status e3c_tensor_copy_to(void *dst, size_t nbytes, const e3c_tensor *t)
{
    if (!t || (nbytes && !dst))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_copy_to: NULL argument");
    note_data_read("e3c_tensor_copy_to");
    return guard("tensor_copy_to", [&] {
        size_t need = static_cast<size_t>(t->t.numel()) * t->t.element_size();
        if (need != nbytes)
            return e3c_error_set(E3C_ERR_INVALID, "tensor_copy_to: tensor holds %zu bytes, buffer %zu", need, nbytes);
        if (need)
            std::memcpy(dst, t->t.contiguous().data_ptr(), need);
        return E3C_OK;
    });
}

e3c_status e3c_tensor_to_doubles(double *dst, size_t cap, const e3c_tensor *t)
{
    if (!t || (cap && !dst))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_to_doubles: NULL argument");
    note_data_read("e3c_tensor_to_doubles");
    return guard("tensor_to_doubles", [&] {
        at::Tensor d = t->t.to(at::kDouble).contiguous();
        size_t n = static_cast<size_t>(d.numel());
        if (n > cap)
            return e3c_error_set(E3C_ERR_INVALID, "tensor_to_doubles: %zu values, room for %zu", n, cap);
        if (n)
            std::memcpy(dst, d.data_ptr<double>(), n * sizeof(double));
        return E3C_OK;
    });
}

e3c_status e3c_tensor_data(void **out, e3c_tensor *t)
{
    if (!t || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_data: NULL argument");
    if (!t->t.is_contiguous())
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_data: tensor is not contiguous");
    note_data_read("e3c_tensor_data");
    *out = t->t.data_ptr();
    return E3C_OK;
}

e3c_status e3c_tensor_to(e3c_tensor **out, const e3c_tensor *t, e3c_dtype dtype)
{
    if (!out || !t)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_to: NULL argument");
    *out = nullptr;
    return guard("tensor_to", [&] { return give_tensor(out, t->t.to(scalar_type(dtype), false, true).contiguous()); });
}

e3c_status e3c_tensor_assign(e3c_tensor *t, const double *values, size_t n)
{
    if (!t || (n && !values))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_assign: NULL argument");
    if ((int64_t)n != t->t.numel())
        return e3c_error_set(E3C_ERR_VALUE, "expected %lld values, got %zu", (long long)t->t.numel(), n);
    return guard("tensor_assign", [&] {
        torch::NoGradGuard no_grad;
        at::Tensor src = at::from_blob(const_cast<double *>(values), t->t.sizes(), at::kDouble);
        t->t.copy_(src);
        return E3C_OK;
    });
}

e3c_status e3c_tensor_narrow_last(e3c_tensor **out, const e3c_tensor *t, int64_t keep)
{
    if (!out || !t)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_narrow_last: NULL argument");
    *out = nullptr;
    if (t->t.dim() == 0)
        return e3c_error_set(E3C_ERR_INVALID, "narrow_last: a 0-d tensor has no last dimension");
    int64_t width = t->t.size(-1);
    if (keep < 0 || keep > width)
        return e3c_error_set(E3C_ERR_INVALID, "narrow_last: cannot keep %lld of %lld columns", (long long)keep,
                             (long long)width);
    return guard("tensor_narrow_last", [&] { return give_tensor(out, t->t.narrow(-1, 0, keep)); });
}

e3c_status e3c_tensor_max_abs_diff(double *out, const e3c_tensor *a, const e3c_tensor *b)
{
    if (!out || !a || !b)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_max_abs_diff: NULL argument");
    note_data_read("e3c_tensor_max_abs_diff");
    return guard("tensor_max_abs_diff", [&] {
        if (a->t.sizes() != b->t.sizes())
            return e3c_error_set(E3C_ERR_INVALID, "max_abs_diff: shapes %s and %s differ",
                                 c10::str(a->t.sizes()).c_str(), c10::str(b->t.sizes()).c_str());
        if (a->t.numel() == 0) {
            *out = 0.0;
            return E3C_OK;
        }
        // equal values (infinities too) and NaN against NaN differ by 0, as in torch's
        // trace check (equal_nan); a NaN against anything else is a NaN difference
        at::Tensor a64 = a->t.to(at::kDouble), b64 = b->t.to(at::kDouble);
        at::Tensor same = a64.eq(b64).logical_or_(a64.isnan().logical_and_(b64.isnan()));
        *out = (a64 - b64).abs().masked_fill_(same, 0.0).max().item<double>();
        return E3C_OK;
    });
}

e3c_status e3c_tensor_max_abs(double *out, const e3c_tensor *t)
{
    if (!out || !t)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_max_abs: NULL argument");
    note_data_read("e3c_tensor_max_abs");
    return guard("tensor_max_abs", [&] {
        *out = t->t.numel() ? t->t.to(at::kDouble).abs().max().item<double>() : 0.0;
        return E3C_OK;
    });
}

int e3c_tensor_equal(const e3c_tensor *a, const e3c_tensor *b)
{
    if (!a || !b)
        return 0;
    try {
        return a->t.scalar_type() == b->t.scalar_type() && a->t.sizes() == b->t.sizes() && at::equal(a->t, b->t);
    } catch (...) {
        return 0;
    }
}

e3c_status e3c_tensor_matmul(e3c_tensor **out, const e3c_tensor *a, const e3c_tensor *b)
{
    if (!out || !a || !b)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_matmul: NULL argument");
    *out = nullptr;
    return guard("tensor_matmul", [&] { return give_tensor(out, at::matmul(a->t, b->t)); });
}

e3c_status e3c_tensor_reshape(e3c_tensor **out, const e3c_tensor *t, const int64_t *shape, int ndim)
{
    if (!out || !t)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_reshape: NULL argument");
    *out = nullptr;
    if (ndim < 0 || ndim > E3C_MAX_DIMS || (ndim && !shape))
        return e3c_error_set(E3C_ERR_INVALID, "reshape: bad target rank %d", ndim);
    return guard("tensor_reshape", [&] { return give_tensor(out, t->t.reshape(shape_vector(shape, ndim))); });
}

e3c_status e3c_tensor_cat(e3c_tensor **out, const e3c_values *parts, int dim)
{
    if (!out || !parts)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_cat: NULL argument");
    *out = nullptr;
    if (parts->items.empty())
        return e3c_error_set(E3C_ERR_INVALID, "cat: no tensors to concatenate");
    return guard("tensor_cat", [&] {
        std::vector<at::Tensor> v;
        for (const auto &p : parts->items)
            v.push_back(p.t);
        return give_tensor(out, at::cat(v, dim));
    });
}

e3c_status e3c_tensor_normalize(e3c_tensor **out, const e3c_tensor *t, int dim)
{
    if (!out || !t)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_normalize: NULL argument");
    *out = nullptr;
    return guard("tensor_normalize", [&] {
        at::Tensor r = t->t.clone();
        r.div_(r.norm(2, dim, true));
        return give_tensor(out, std::move(r));
    });
}

void e3c_tensor_describe(char *buf, size_t cap, const e3c_tensor *t)
{
    if (!buf || cap == 0)
        return;
    if (!t) {
        std::snprintf(buf, cap, "(null)");
        return;
    }
    e3c_dtype d;
    const char *name = from_scalar_type(t->t.scalar_type(), &d) ? e3c_dtype_name(d) : c10::toString(t->t.scalar_type());
    std::string dims;
    for (int64_t i = 0; i < t->t.dim(); i++)
        dims += (i ? ", " : "") + std::to_string(t->t.size(i));
    std::snprintf(buf, cap, "%s[%s]", name, dims.c_str());
}

e3c_status e3c_tensor_save(const e3c_tensor *t, const char *path)
{
    if (!t || !path)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_save: NULL argument");
    return guard("tensor_save", [&] {
        std::vector<char> bytes = torch::pickle_save(c10::IValue(t->t));
        std::ofstream f(path, std::ios::binary);
        f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        f.close();
        if (!f)
            return e3c_error_set(E3C_ERR_IO, "cannot write '%s': %s", path, std::strerror(errno));
        return E3C_OK;
    });
}

/* ---- value lists ---- */

e3c_status e3c_values_new(e3c_values **out)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_values_new: out is NULL");
    return guard("values_new", [&] {
        *out = new e3c_values();
        return E3C_OK;
    });
}

void e3c_values_free(e3c_values *v) { delete v; }

e3c_status e3c_values_push(e3c_values *v, const e3c_tensor *t)
{
    if (!v || !t)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_values_push: NULL argument");
    return guard("values_push", [&] {
        v->items.push_back(e3c_tensor{t->t});
        return E3C_OK;
    });
}

size_t e3c_values_count(const e3c_values *v) { return v ? v->items.size() : 0; }

const e3c_tensor *e3c_values_get(const e3c_values *v, size_t i)
{
    return v && i < v->items.size() ? &v->items[i] : nullptr;
}

int e3c_values_is_tuple(const e3c_values *v) { return v && v->is_tuple; }

} // extern "C"
