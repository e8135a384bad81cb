// The warnings collected while a trace is recorded (module.cpp's e3c_jit_trace), and the
// note that C read a tensor's data meanwhile (tensor.cpp, ops.cpp): their own file, so
// that the tensor code does not call back into the module code.
#include "shim.hpp"

#include <torch/csrc/jit/frontend/tracer.h>

namespace e3c_shim {

namespace {
thread_local std::vector<std::string> *collected = nullptr;
}

void collect_trace_notes(std::vector<std::string> *into) { collected = into; }

void trace_note(const std::string &msg)
{
    if (collected)
        collected->push_back(msg);
}

void note_data_read(const char *what)
{
    if (torch::jit::tracer::isTracing())
        trace_note(std::string("a tensor was read into C by ") + what +
                   " while tracing: its value is a constant of the trace and will not follow other inputs");
}

} // namespace e3c_shim
