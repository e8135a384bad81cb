// State dicts: parameters and buffers by dotted name in torch's order, plain tensor
// attributes, and the in-place draws and copies that re-initialise or load them.
#include "shim.hpp"

#include "e3check/state.h"

using namespace e3c_shim;

namespace {

// Append m's own tensors of the asked kinds (parameters first, then buffers, each in
// slot order, as nn.Module.state_dict), then recurse into its submodules.
void collect(const torch::jit::Module &m, const std::string &prefix, int which, std::vector<std::string> &names,
             e3c_values *out)
{
    const auto &type = m.type();
    for (int kind = 1; kind <= 2; kind++) {
        if (!(which & kind))
            continue;
        for (size_t i = 0; i < type->numAttributes(); i++) {
            bool is_tensor = type->getAttribute(i)->isSubtypeOf(*c10::TensorType::get());
            bool wanted = kind == 1 ? type->is_parameter(i) : type->is_buffer(i);
            if (!is_tensor || !wanted)
                continue;
            c10::IValue v = m._ivalue()->getSlot(i);
            if (!v.isTensor())
                continue; // None
            names.push_back(prefix + type->getAttributeName(i));
            out->items.push_back(e3c_tensor{v.toTensor()});
        }
    }
    for (const auto &child : m.named_children())
        collect(child.value, prefix + child.name + ".", which, names, out);
}

// True for slot i of a plain tensor attribute: neither parameter nor buffer.
bool is_constant(const c10::ClassTypePtr &type, size_t i)
{
    return type->getAttribute(i)->isSubtypeOf(*c10::TensorType::get()) && !type->is_parameter(i) && !type->is_buffer(i);
}

// Convert the floating plain tensor attributes of m and its submodules to `st`.
void constants_to(const torch::jit::Module &m, at::ScalarType st)
{
    const auto &type = m.type();
    for (size_t i = 0; i < type->numAttributes(); i++) {
        c10::IValue v = m._ivalue()->getSlot(i);
        if (is_constant(type, i) && v.isTensor() && v.toTensor().is_floating_point())
            m._ivalue()->setSlot(i, v.toTensor().to(st));
    }
    for (const auto &child : m.children())
        constants_to(child, st);
}

// The dtype of the first floating plain tensor attribute, depth first.
bool first_constant_dtype(const torch::jit::Module &m, e3c_dtype *out)
{
    const auto &type = m.type();
    for (size_t i = 0; i < type->numAttributes(); i++) {
        c10::IValue v = m._ivalue()->getSlot(i);
        if (is_constant(type, i) && v.isTensor() && v.toTensor().is_floating_point() &&
            from_scalar_type(v.toTensor().scalar_type(), out))
            return true;
    }
    for (const auto &child : m.children())
        if (first_constant_dtype(child, out))
            return true;
    return false;
}

} // namespace

extern "C" {

e3c_status e3c_jit_constants_to_dtype(e3c_jit_module *m, e3c_dtype dtype)
{
    if (!m || (dtype != E3C_FLOAT32 && dtype != E3C_FLOAT64))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_constants_to_dtype: NULL module or not a floating dtype");
    return guard("constants_to_dtype", [&] {
        constants_to(m->m, scalar_type(dtype));
        return E3C_OK;
    });
}

e3c_status e3c_jit_constant_dtype(e3c_dtype *out, int *found, const e3c_jit_module *m)
{
    if (!m || !out || !found)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_constant_dtype: NULL argument");
    return guard("constant_dtype", [&] {
        *found = first_constant_dtype(m->m, out) ? 1 : 0;
        return E3C_OK;
    });
}

e3c_status e3c_jit_named_tensors(e3c_strings *names, e3c_values **tensors, const e3c_jit_module *m,
                                 e3c_state_kind which)
{
    if (!names || !tensors || !m || which < 1 || which > 3)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_named_tensors: NULL or bad argument");
    *tensors = nullptr;
    *names = e3c_strings{0, nullptr};
    return guard("named_tensors", [&] {
        std::vector<std::string> v;
        auto *list = new e3c_values();
        try {
            collect(m->m, "", static_cast<int>(which), v, list);
            e3c_status st = give_strings(names, v);
            if (st) {
                delete list;
                return st;
            }
        } catch (...) {
            delete list;
            throw;
        }
        *tensors = list;
        return E3C_OK;
    });
}

e3c_status e3c_jit_add_constant(e3c_jit_module *m, const char *name, const e3c_tensor *t)
{
    if (!m || !name || !t)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_add_constant: NULL argument");
    return guard("add_constant", [&] {
        m->m.register_attribute(name, c10::TensorType::get(), t->t, false, false);
        return E3C_OK;
    });
}

e3c_status e3c_tensor_normal_(e3c_tensor *t, e3c_generator *g)
{
    if (!t || !g)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_normal_: NULL argument");
    return guard("normal_", [&] {
        at::NoGradGuard no_grad;
        t->t.normal_(0.0, 1.0, g->g);
        return E3C_OK;
    });
}

e3c_status e3c_tensor_copy_(e3c_tensor *dst, const e3c_tensor *src)
{
    if (!dst || !src)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_tensor_copy_: NULL argument");
    if (dst->t.sizes() != src->t.sizes()) {
        char a[128], b[128];
        e3c_tensor_describe(a, sizeof a, dst);
        e3c_tensor_describe(b, sizeof b, src);
        return e3c_error_set(E3C_ERR_VALUE, "shape mismatch: the module holds %s, the value is %s", a, b);
    }
    return guard("copy_", [&] {
        at::NoGradGuard no_grad;
        dst->t.copy_(src->t);
        return E3C_OK;
    });
}

} // extern "C"
