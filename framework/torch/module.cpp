// Building TorchScript modules from C: fresh types, parameters, submodules, scripting
// from source, tracing C callbacks, and calls of compiled children inside a trace.
#include "shim.hpp"

#include <torch/csrc/jit/frontend/schema_matching.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/jit/passes/canonicalize.h>
#include <torch/csrc/jit/passes/shape_analysis.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <memory>
#include <sstream>

using namespace e3c_shim;
namespace tracer = torch::jit::tracer;

namespace {

// A failure of the C callback, carried through the tracer as an exception; its message
// is already in the thread's last-error slot.
struct callback_failed {
    e3c_status status;
};

void tracer_warn(const std::string &msg) { trace_note(msg); }

struct collecting_handler : c10::WarningHandler {
    void process(const c10::SourceLocation &, const std::string &msg, const bool) override { trace_note(msg); }
};

e3c_values *values_of(const torch::jit::Stack &stack)
{
    auto v = std::make_unique<e3c_values>();
    for (const auto &iv : stack) {
        if (!iv.isTensor())
            throw std::runtime_error(std::string("trace input is a ") + iv.tagKind() + ", not a tensor");
        v->items.push_back(e3c_tensor{iv.toTensor()});
    }
    return v.release();
}

std::string canonical_text(const std::shared_ptr<torch::jit::Graph> &g)
{
    // As torch's own trace check: compare graphs without their shape annotations, so
    // that inputs of other batch sizes give the same text when the code is the same.
    auto canon = torch::jit::Canonicalize(g->copy(), /*keep_unique_names=*/false);
    torch::jit::EraseShapeInformation(canon);
    std::ostringstream os;
    canon->print(os, /*print_source_locations=*/false);
    return os.str();
}

} // namespace

extern "C" {

e3c_status e3c_jit_new(e3c_jit_module **out, const char *class_name)
{
    if (!out || !class_name)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_new: NULL argument");
    *out = nullptr;
    return guard("jit_new", [&] {
        auto mod = std::make_unique<e3c_jit_module>();
        mod->m = torch::jit::Module(c10::QualifiedName(std::string("__torch__.") + class_name),
                                    std::make_shared<torch::jit::CompilationUnit>(), /*shouldMangle=*/true);
        *out = mod.release();
        return E3C_OK;
    });
}

e3c_status e3c_jit_clone(e3c_jit_module **out, const e3c_jit_module *m)
{
    if (!out || !m)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_clone: NULL argument");
    *out = nullptr;
    return guard("jit_clone", [&] {
        auto mod = std::make_unique<e3c_jit_module>();
        mod->m = m->m.clone();
        mod->extra_files = m->extra_files;
        *out = mod.release();
        return E3C_OK;
    });
}

e3c_status e3c_jit_add_tensor(e3c_jit_module *m, const char *name, const e3c_tensor *t, int is_parameter)
{
    if (!m || !name || !t)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_add_tensor: NULL argument");
    return guard("jit_add_tensor", [&] {
        if (is_parameter)
            m->m.register_parameter(name, t->t, /*is_buffer=*/false);
        else
            m->m.register_buffer(name, t->t);
        return E3C_OK;
    });
}

e3c_status e3c_jit_add_submodule(e3c_jit_module *m, const char *name, const e3c_jit_module *child)
{
    if (!m || !name || !child)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_add_submodule: NULL argument");
    return guard("jit_add_submodule", [&] {
        m->m.register_module(name, child->m);
        return E3C_OK;
    });
}

e3c_status e3c_jit_submodule(e3c_jit_module **out, const e3c_jit_module *m, const char *name)
{
    if (!out || !m || !name)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_submodule: NULL argument");
    *out = nullptr;
    return guard("jit_submodule", [&] {
        if (!m->m.hasattr(name) || !m->m.attr(name).isObject())
            return e3c_error_set(E3C_ERR_NOT_FOUND, "module has no submodule '%s'", name);
        *out = new e3c_jit_module{torch::jit::Module(m->m.attr(name).toObject()), {}};
        return E3C_OK;
    });
}

e3c_status e3c_jit_floating_dtype(e3c_dtype *out, int *found, const e3c_jit_module *m)
{
    if (!m || !out || !found)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_floating_dtype: NULL argument");
    *found = 0;
    return guard("jit_floating_dtype", [&] {
        for (const auto &p : m->m.parameters(/*recurse=*/true))
            if (p.is_floating_point() && from_scalar_type(p.scalar_type(), out)) {
                *found = 1;
                return E3C_OK;
            }
        for (const auto &b : m->m.buffers(/*recurse=*/true))
            if (b.is_floating_point() && from_scalar_type(b.scalar_type(), out)) {
                *found = 1;
                return E3C_OK;
            }
        return E3C_OK;
    });
}

e3c_status e3c_jit_to_dtype(e3c_jit_module *m, e3c_dtype dtype)
{
    if (!m)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_to_dtype: NULL argument");
    return guard("jit_to_dtype", [&] {
        m->m.to(scalar_type(dtype));
        return E3C_OK;
    });
}

int e3c_jit_has_method(const e3c_jit_module *m, const char *name)
{
    if (!m || !name)
        return 0;
    try {
        return m->m.find_method(name).has_value();
    } catch (...) {
        return 0;
    }
}

e3c_status e3c_jit_define(e3c_jit_module *m, const char *source)
{
    if (!m || !source)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_define: NULL argument");
    return guard("TorchScript compilation", [&] {
        m->m.define(source);
        return E3C_OK;
    });
}

int e3c_tracing(void) { return tracer::isTracing(); }

void e3c_jit_set_optimize(int on) { torch::jit::setGraphExecutorOptimize(on != 0); }

e3c_status e3c_jit_warm_up(void)
{
    return guard("jit_warm_up", [&] {
        torch::jit::Module m(c10::QualifiedName("__torch__.E3checkWarmUp"),
                             std::make_shared<torch::jit::CompilationUnit>(), true);
        m.register_buffer("c", at::ones({3, 3, 3}, at::kDouble));
        m.define("def forward(self, x):\n"
                 "    torch._assert(x.shape[-1] == 3, \"width\")\n"
                 "    a = x.narrow(-1, 0, 3).unflatten(-1, [1, 3])\n"
                 "    t = torch.einsum(\"...ui,...uj,ijk->...uk\", [a, a, self.c])\n"
                 "    parts: List[Tensor] = [t.flatten(-2, -1), x.new_zeros(x.shape[:-1] + [1])]\n"
                 "    return torch.cat(parts, -1) * 0.5 + torch.silu(x).sum(-1, True)\n");
        at::Tensor x = at::randn({2, 3}, at::kDouble);
        torch::NoGradGuard no_grad;
        m.forward({x});
        std::ostringstream os;
        m.save(os);
        std::istringstream is(os.str());
        torch::jit::Module back = torch::jit::load(is);
        back.forward({x});
        auto traced = tracer::trace(
            {x}, [](torch::jit::Stack in) { return torch::jit::Stack{in[0].toTensor().square().sum(-1)}; },
            [](const at::Tensor &) { return std::string(); }, false, false, nullptr);
        (void)traced;
        return E3C_OK;
    });
}

e3c_status e3c_jit_trace(char **graph, e3c_strings *warnings, e3c_jit_module *m, e3c_trace_fn fn, void *ctx,
                         const e3c_values *inputs, int install)
{
    if (!m || !fn || !inputs)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_trace: NULL argument");
    if (graph)
        *graph = nullptr;
    if (tracer::isTracing())
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_trace: a trace is already being recorded");
    std::vector<std::string> collected;
    e3c_status st = guard("trace", [&] {
        if (install && m->m.find_method("forward"))
            return e3c_error_set(E3C_ERR_INVALID, "module already has a forward method");
        torch::jit::Stack stack;
        for (const auto &t : inputs->items)
            stack.emplace_back(t.t);
        collecting_handler handler;
        c10::Warning::WarningHandlerGuard guard_warn(&handler);
        collect_trace_notes(&collected);
        tracer::setWarn(tracer_warn);
        struct restore {
            ~restore() { collect_trace_notes(nullptr); }
        } restore_on_exit;
        torch::NoGradGuard no_grad;
        auto traced_fn = [&](torch::jit::Stack in) -> torch::jit::Stack {
            std::unique_ptr<e3c_values> args(values_of(in));
            e3c_values *outs = nullptr;
            e3c_status s = fn(ctx, args.get(), &outs);
            std::unique_ptr<e3c_values> owned(outs);
            if (s)
                throw callback_failed{s};
            torch::jit::Stack result;
            if (owned->items.size() == 1) {
                result.emplace_back(owned->items[0].t);
            } else {
                std::vector<c10::IValue> elems;
                for (const auto &t : owned->items)
                    elems.emplace_back(t.t);
                result.emplace_back(c10::ivalue::Tuple::create(std::move(elems)));
            }
            return result;
        };
        std::shared_ptr<tracer::TracingState> state;
        try {
            state = tracer::trace(
                        std::move(stack), traced_fn, [](const at::Tensor &) { return std::string(); },
                        /*strict=*/false, /*force_outplace=*/false, &m->m)
                        .first;
        } catch (const callback_failed &f) {
            return f.status;
        }
        if (graph)
            *graph = dup_string(canonical_text(state->graph));
        if (install) {
            auto cu = m->m._ivalue()->compilation_unit();
            auto fn_ptr = cu->create_function(c10::QualifiedName(*m->m.type()->name(), "forward"), state->graph);
            m->m.type()->addMethod(fn_ptr);
        }
        return E3C_OK;
    });
    if (warnings && !st)
        guard("trace warnings", [&] { return give_strings(warnings, collected); });
    if (st && graph && *graph) {
        std::free(*graph);
        *graph = nullptr;
    }
    return st;
}

e3c_status e3c_jit_call(e3c_values **out, e3c_jit_module *m, const char *method, const e3c_values *args)
{
    if (!out || !m)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_call: NULL argument");
    if (!tracer::isTracing())
        return e3c_jit_run(out, m, method, args);
    *out = nullptr;
    const char *name = method ? method : "forward";
    return guard(name, [&] {
        auto found = m->m.find_method(name);
        if (!found)
            return e3c_error_set(E3C_ERR_NOT_FOUND, "submodule has no method '%s'", name);
        std::shared_ptr<tracer::TracingState> state = tracer::getTracingState(); // a copy: pausing resets the original
        auto &g = *state->graph;
        // The call node: self (the traced child object) and the traced arguments.
        std::vector<torch::jit::Value *> node_inputs{tracer::getValueTrace(m->m._ivalue())};
        std::vector<c10::IValue> stack;
        if (args)
            for (const auto &a : args->items) {
                node_inputs.push_back(tracer::getValueTrace(a.t));
                stack.emplace_back(a.t);
            }
        const auto &schema = found->function().getSchema();
        std::vector<c10::TypePtr> return_types;
        for (const auto &r : schema.returns())
            return_types.push_back(r.type());
        torch::jit::MatchedSchema matched{node_inputs, return_types, {}, name};
        torch::jit::Value *call = g.insertMethodCall(name, matched);
        // Run the child for real with the tracer paused, then bind its outputs to the call.
        c10::IValue result;
        {
            tracer::setTracingState(nullptr);
            struct resume {
                std::shared_ptr<tracer::TracingState> s;
                ~resume() { tracer::setTracingState(std::move(s)); }
            } resume_tracing{state};
            torch::NoGradGuard no_grad;
            result = (*found)(std::move(stack));
        }
        auto vals = std::make_unique<e3c_values>();
        if (result.isTensor()) {
            tracer::setValueTrace(result, call);
            vals->items.push_back(e3c_tensor{result.toTensor()});
        } else if (result.isTuple()) {
            auto *unpack = g.insertNode(g.createTupleUnpack(call));
            const auto &elems = result.toTupleRef().elements();
            for (size_t i = 0; i < elems.size(); i++) {
                if (!elems[i].isTensor())
                    return e3c_error_set(E3C_ERR_TORCH, "%s returned a non-tensor at position %zu", name, i);
                tracer::setValueTrace(elems[i], unpack->outputs()[i]);
                vals->items.push_back(e3c_tensor{elems[i].toTensor()});
            }
            vals->is_tuple = true;
        } else {
            return e3c_error_set(E3C_ERR_TORCH, "%s returned %s, not a tensor or a tuple of tensors", name,
                                 result.tagKind().c_str());
        }
        *out = vals.release();
        return E3C_OK;
    });
}

e3c_status e3c_jit_graph(char **out, const e3c_jit_module *m, const char *method)
{
    if (!m || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_graph: NULL argument");
    *out = nullptr;
    const char *name = method ? method : "forward";
    return guard("jit_graph", [&] {
        auto found = m->m.find_method(name);
        if (!found)
            return e3c_error_set(E3C_ERR_NOT_FOUND, "module has no method '%s'", name);
        std::ostringstream os;
        found->graph()->print(os, false);
        *out = dup_string(os.str());
        return E3C_OK;
    });
}

} // extern "C"

extern "C" e3c_status e3c_tensor_check_last_dim(const e3c_tensor *t, int64_t dim, const char *what)
{
    if (!t || !what)
        return e3c_error_set(E3C_ERR_INVALID, "tensor_check_last_dim: NULL argument");
    int64_t got = t->t.dim() ? t->t.size(-1) : -1;
    if (got != dim)
        return e3c_error_set(E3C_ERR_VALUE, "Incorrect last dimension for %s: got %lld, expected %lld", what,
                             (long long)got, (long long)dim);
    if (!tracer::isTracing())
        return E3C_OK;
    return guard("tensor_check_last_dim", [&] {
        // if x.size(-1) != dim: raise "Incorrect last dimension for <what>: got {}, expected <dim>"
        auto &g = *tracer::getTracingState()->graph;
        torch::jit::Value *size = g.insert(c10::aten::size, {tracer::getValueTrace(t->t), int64_t{-1}});
        torch::jit::Value *ok = g.insert(c10::aten::eq, {size, dim});
        torch::jit::Node *branch = g.insertNode(g.create(c10::prim::If, {ok}, 0));
        branch->addBlock();
        torch::jit::Block *bad = branch->addBlock();
        torch::jit::WithInsertPoint inside(bad);
        std::string text =
            std::string("Incorrect last dimension for ") + what + ": got {}, expected " + std::to_string(dim);
        torch::jit::Value *message = g.insert(c10::aten::format, {text, size});
        g.insert(c10::prim::RaiseException, {message});
        return E3C_OK;
    });
}
