// Seeded CPU generators whose draws match Python's torch.manual_seed + rand/randn.
#include "shim.hpp"

#include <ATen/CPUGeneratorImpl.h>

using namespace e3c_shim;

namespace {

using draw_fn = at::Tensor (*)(at::IntArrayRef, c10::optional<at::Generator>, at::TensorOptions);

e3c_status draw(const char *what, draw_fn fn, e3c_tensor **out, e3c_generator *g, e3c_dtype dtype, const int64_t *shape,
                int ndim)
{
    if (!out || !g)
        return e3c_error_set(E3C_ERR_INVALID, "%s: NULL argument", what);
    *out = nullptr;
    if (dtype != E3C_FLOAT32 && dtype != E3C_FLOAT64)
        return e3c_error_set(E3C_ERR_INVALID, "%s: dtype must be float32 or float64, got %s", what,
                             e3c_dtype_name(dtype));
    e3c_status st = check_shape(shape, ndim);
    if (st)
        return st;
    return guard(what, [&] {
        return give_tensor(out, fn(shape_vector(shape, ndim), g->g, at::TensorOptions(scalar_type(dtype))));
    });
}

at::Tensor call_rand(at::IntArrayRef s, c10::optional<at::Generator> g, at::TensorOptions o)
{
    return at::rand(s, g, o);
}

at::Tensor call_randn(at::IntArrayRef s, c10::optional<at::Generator> g, at::TensorOptions o)
{
    return at::randn(s, g, o);
}

} // namespace

extern "C" {

e3c_status e3c_generator_new(e3c_generator **out, uint64_t seed)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_generator_new: out is NULL");
    *out = nullptr;
    return guard("generator_new", [&] {
        *out = new e3c_generator{at::make_generator<at::CPUGeneratorImpl>(seed)};
        return E3C_OK;
    });
}

void e3c_generator_free(e3c_generator *g)
{
    if (g != e3c_default_generator())
        delete g;
}

e3c_status e3c_manual_seed(uint64_t seed)
{
    return guard("manual_seed", [&] {
        at::Generator g = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(g.mutex());
        g.set_current_seed(seed);
        return E3C_OK;
    });
}

e3c_generator *e3c_default_generator(void)
{
    static e3c_generator *global = new e3c_generator{at::detail::getDefaultCPUGenerator()};
    return global;
}

e3c_status e3c_rand(e3c_tensor **out, e3c_generator *g, e3c_dtype dtype, const int64_t *shape, int ndim)
{
    return draw("rand", call_rand, out, g, dtype, shape, ndim);
}

e3c_status e3c_randn(e3c_tensor **out, e3c_generator *g, e3c_dtype dtype, const int64_t *shape, int ndim)
{
    return draw("randn", call_randn, out, g, dtype, shape, ndim);
}

} // extern "C"
