// Internal to framework/torch/: the handle structs and the one exception guard.
// Nothing here is visible to C code.
#pragma once

#include <torch/script.h>

#include <deque>
#include <mutex>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "e3check/torch.h"

struct e3c_tensor {
    at::Tensor t;
};

struct e3c_values {
    std::deque<e3c_tensor> items; // a deque: entries never move, so borrowed pointers stay valid
    bool is_tuple = false;
};

struct e3c_generator {
    at::Generator g;
};

struct e3c_jit_module {
    torch::jit::Module m;
    std::vector<std::pair<std::string, std::string>> extra_files;
};

namespace e3c_shim {

// Run `body` (returning e3c_status) and turn every C++ exception into a status and a
// last-error message prefixed with `context`. This is the only place exceptions stop.
template <class Body> e3c_status guard(const char *context, Body &&body) noexcept
{
    try {
        return body();
    } catch (const torch::jit::ErrorReport &e) {
        return e3c_error_set(E3C_ERR_SCRIPT, "%s: %s", context, e.what());
    } catch (const c10::Error &e) {
        return e3c_error_set(E3C_ERR_TORCH, "%s: %s", context, e.what_without_backtrace());
    } catch (const std::bad_alloc &) {
        return e3c_error_set(E3C_ERR_NOMEM, "%s: out of memory", context);
    } catch (const std::exception &e) {
        return e3c_error_set(E3C_ERR_TORCH, "%s: %s", context, e.what());
    } catch (...) {
        return e3c_error_set(E3C_ERR_INTERNAL, "%s: unknown C++ exception", context);
    }
}

at::ScalarType scalar_type(e3c_dtype dtype);
bool from_scalar_type(at::ScalarType st, e3c_dtype *out);
std::vector<int64_t> shape_vector(const int64_t *shape, int ndim);
e3c_status check_shape(const int64_t *shape, int ndim);
e3c_status give_tensor(e3c_tensor **out, at::Tensor t);
char *dup_string(const std::string &s);
e3c_status give_strings(e3c_strings *out, const std::vector<std::string> &v);
// Collect this thread's trace warnings into `into` (nullptr: stop collecting), record one,
// and record one when C reads tensor data while a trace is being recorded (trace_notes.cpp).
void collect_trace_notes(std::vector<std::string> *into);
void trace_note(const std::string &msg);
void note_data_read(const char *what);

} // namespace e3c_shim
