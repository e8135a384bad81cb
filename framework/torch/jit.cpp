// TorchScript modules: load (with classified errors), save, run, introspect.
#include "shim.hpp"
#include "e3check/file.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/import.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

using namespace e3c_shim;

namespace {

const char kZipMagic[4] = {'P', 'K', '\x03', '\x04'};

// The first bytes of a candidate archive: empty, or not a zip file, is refused by name.
e3c_status check_head(const char *name, const char *head, size_t n)
{
    if (n == 0)
        return e3c_error_set(E3C_ERR_FORMAT, "'%s' is not a TorchScript archive: it is empty", name);
    if (n < sizeof kZipMagic || std::memcmp(head, kZipMagic, sizeof kZipMagic) != 0)
        return e3c_error_set(E3C_ERR_FORMAT, "'%s' is not a TorchScript archive: it is not a zip file", name);
    return E3C_OK;
}

// Reject what is not even a candidate archive, with the reason: missing, unreadable,
// a directory, empty, or not a zip file.
e3c_status precheck_file(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return e3c_error_set(E3C_ERR_IO, "cannot open '%s': %s", path, std::strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return e3c_error_set(E3C_ERR_IO, "cannot load '%s': it is a directory", path);
    if (!S_ISREG(sb.st_mode)) // a FIFO would block the reads below (and libtorch's) forever
        return e3c_error_set(E3C_ERR_IO, "cannot load '%s': it is not a regular file", path);
    FILE *f = std::fopen(path, "rb");
    if (!f)
        return e3c_error_set(E3C_ERR_IO, "cannot open '%s': %s", path, std::strerror(errno));
    char head[4] = {0, 0, 0, 0};
    size_t n = std::fread(head, 1, sizeof head, f);
    std::fclose(f);
    return check_head(path, head, n);
}

// Open the zip container (make_reader), tell truncated archives and non-module pickles
// apart, and collect the extra files.
template <class MakeReader>
e3c_status read_container(const char *name, MakeReader make_reader,
                          std::vector<std::pair<std::string, std::string>> *extra)
{
    std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
    try {
        reader = make_reader();
    } catch (const c10::Error &e) {
        return e3c_error_set(E3C_ERR_FORMAT, "'%s' is a truncated or corrupt archive: %s", name,
                             e.what_without_backtrace());
    }
    if (!reader->hasRecord("constants.pkl") || !reader->hasRecord("data.pkl"))
        return e3c_error_set(E3C_ERR_FORMAT,
                             "'%s' is a zip archive but not a TorchScript module (no constants.pkl; "
                             "a tensor or state dict saved with torch.save?)",
                             name);
    static const std::string prefix = "extra/";
    for (const std::string &record : reader->getAllRecords()) {
        if (record.compare(0, prefix.size(), prefix) != 0)
            continue;
        at::DataPtr data;
        size_t size;
        std::tie(data, size) = reader->getRecord(record);
        extra->emplace_back(record.substr(prefix.size()), std::string(static_cast<const char *>(data.get()), size));
    }
    return E3C_OK;
}

// The module itself (load), once the container is known good; errors name the archive.
template <class Load>
e3c_status load_module(const char *name, Load load, e3c_jit_module **out, std::unique_ptr<e3c_jit_module> mod)
{
    try {
        mod->m = load();
    } catch (const c10::Error &e) {
        return e3c_error_set(E3C_ERR_FORMAT, "'%s' could not be loaded as a TorchScript module: %s", name,
                             e.what_without_backtrace());
    } catch (const std::exception &e) {
        return e3c_error_set(E3C_ERR_FORMAT, "'%s' could not be loaded as a TorchScript module: %s", name, e.what());
    }
    mod->m.eval();
    *out = mod.release();
    return E3C_OK;
}

std::string strip_torch_prefix(std::string name)
{
    static const std::string prefix = "__torch__.";
    if (name.compare(0, prefix.size(), prefix) == 0)
        name.erase(0, prefix.size());
    return name;
}

std::string type_name_of(const torch::jit::Module &m)
{
    auto name = m.type()->name();
    return name ? strip_torch_prefix(name->qualifiedName()) : std::string("<anonymous>");
}

std::string signature_of(const torch::jit::Method &method)
{
    const c10::FunctionSchema &schema = method.function().getSchema();
    std::ostringstream os;
    os << method.name() << "(";
    const auto &args = schema.arguments();
    for (size_t i = 1; i < args.size(); i++) // argument 0 is self
        os << (i > 1 ? ", " : "") << args[i].type()->annotation_str() << " " << args[i].name();
    os << ") -> ";
    const auto &rets = schema.returns();
    if (rets.size() == 1) {
        os << rets[0].type()->annotation_str();
    } else {
        os << "(";
        for (size_t i = 0; i < rets.size(); i++)
            os << (i ? ", " : "") << rets[i].type()->annotation_str();
        os << ")";
    }
    return os.str();
}

e3c_status collect_outputs(e3c_values *out, const c10::IValue &result, const char *method)
{
    if (result.isTensor()) {
        out->items.push_back(e3c_tensor{result.toTensor()});
        return E3C_OK;
    }
    std::vector<c10::IValue> elems;
    if (result.isTuple()) {
        const auto &t = result.toTupleRef().elements();
        elems.assign(t.begin(), t.end());
        out->is_tuple = true;
    } else if (result.isList()) {
        auto l = result.toListRef();
        elems.assign(l.begin(), l.end());
        out->is_tuple = true;
    } else {
        return e3c_error_set(E3C_ERR_TORCH, "%s returned %s, not a tensor or a tuple of tensors", method,
                             result.tagKind().c_str());
    }
    for (size_t i = 0; i < elems.size(); i++) {
        if (!elems[i].isTensor())
            return e3c_error_set(E3C_ERR_TORCH, "%s returned a %s at position %zu, not a tensor", method,
                                 elems[i].tagKind().c_str(), i);
        out->items.push_back(e3c_tensor{elems[i].toTensor()});
    }
    return E3C_OK;
}

} // namespace

extern "C" {

e3c_status e3c_jit_load(e3c_jit_module **out, const char *path)
{
    if (!out || !path)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_load: NULL argument");
    *out = nullptr;
    e3c_status st = precheck_file(path);
    if (st)
        return st;
    return guard("jit_load", [&] {
        auto mod = std::make_unique<e3c_jit_module>();
        auto reader = [&] { return std::make_unique<caffe2::serialize::PyTorchStreamReader>(std::string(path)); };
        e3c_status s = read_container(path, reader, &mod->extra_files);
        auto load = [&] { return torch::jit::load(std::string(path), c10::Device(c10::kCPU)); };
        return s ? s : load_module(path, load, out, std::move(mod));
    });
}

e3c_status e3c_jit_load_buffer(e3c_jit_module **out, const void *data, size_t size, const char *name)
{
    if (!out || (!data && size) || !name)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_load_buffer: NULL argument");
    *out = nullptr;
    e3c_status st = check_head(name, static_cast<const char *>(data), size);
    if (st)
        return st;
    return guard("jit_load", [&] {
        auto mod = std::make_unique<e3c_jit_module>();
        std::istringstream in(std::string(static_cast<const char *>(data), size));
        auto reader = [&] { return std::make_unique<caffe2::serialize::PyTorchStreamReader>(&in); };
        e3c_status s = read_container(name, reader, &mod->extra_files);
        auto load = [&] {
            in.clear();
            in.seekg(0);
            return torch::jit::load(in, c10::Device(c10::kCPU));
        };
        return s ? s : load_module(name, load, out, std::move(mod));
    });
}

e3c_status e3c_jit_save(const e3c_jit_module *m, const char *path)
{
    if (!m || !path)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_save: NULL argument");
    void *data = nullptr;
    size_t size = 0;
    if (e3c_jit_save_buffer(&data, &size, m))
        return e3c_error_prefix("cannot save '%s'", path);
    /* the same rules as every report: atomic for files, in place for devices */
    e3c_status st = e3c_file_write_atomic(path, data, size);
    std::free(data);
    return st;
}

e3c_status e3c_jit_save_buffer(void **data, size_t *size, const e3c_jit_module *m)
{
    if (!m || !data || !size)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_save_buffer: NULL argument");
    *data = nullptr;
    *size = 0;
    return guard("jit_save", [&] {
        std::ostringstream os;
        torch::jit::ExtraFilesMap extra(m->extra_files.begin(), m->extra_files.end());
        m->m.save(os, extra);
        const std::string bytes = os.str();
        void *copy = std::malloc(bytes.size() ? bytes.size() : 1);
        if (!copy)
            return e3c_error_set(E3C_ERR_NOMEM, "jit_save: out of memory for %zu bytes", bytes.size());
        std::memcpy(copy, bytes.data(), bytes.size());
        *data = copy;
        *size = bytes.size();
        return E3C_OK;
    });
}

void e3c_jit_free(e3c_jit_module *m) { delete m; }

e3c_status e3c_jit_run(e3c_values **out, e3c_jit_module *m, const char *method, const e3c_values *args)
{
    if (!out || !m)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_run: NULL argument");
    *out = nullptr;
    const char *name = method ? method : "forward";
    return guard(name, [&] {
        auto found = m->m.find_method(name);
        if (!found)
            return e3c_error_set(E3C_ERR_NOT_FOUND, "module %s has no method '%s'", type_name_of(m->m).c_str(), name);
        std::vector<c10::IValue> stack;
        if (args)
            for (const auto &a : args->items)
                stack.emplace_back(a.t);
        torch::NoGradGuard no_grad;
        c10::IValue result = (*found)(std::move(stack));
        auto vals = std::make_unique<e3c_values>();
        e3c_status s = collect_outputs(vals.get(), result, name);
        if (s)
            return s;
        *out = vals.release();
        return E3C_OK;
    });
}

e3c_status e3c_jit_type_name(char **out, const e3c_jit_module *m)
{
    if (!m || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_type_name: NULL argument");
    return guard("jit_type_name", [&] {
        *out = dup_string(type_name_of(m->m));
        return E3C_OK;
    });
}

e3c_status e3c_jit_methods(e3c_strings *out, const e3c_jit_module *m)
{
    if (!m || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_methods: NULL argument");
    return guard("jit_methods", [&] {
        std::vector<std::string> v;
        for (const auto &method : m->m.get_methods())
            v.push_back(signature_of(method));
        return give_strings(out, v);
    });
}

e3c_status e3c_jit_submodules(e3c_strings *out, const e3c_jit_module *m)
{
    if (!m || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_submodules: NULL argument");
    return guard("jit_submodules", [&] {
        std::vector<std::string> v;
        for (const auto &sub : m->m.named_modules())
            if (!sub.name.empty())
                v.push_back(sub.name + ": " + type_name_of(sub.value));
        return give_strings(out, v);
    });
}

e3c_status e3c_jit_attributes(e3c_strings *out, const e3c_jit_module *m)
{
    if (!m || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_attributes: NULL argument");
    return guard("jit_attributes", [&] {
        std::vector<std::string> v;
        const auto &type = m->m.type();
        for (size_t i = 0; i < type->numAttributes(); i++)
            if (!type->getAttribute(i)->cast<c10::ClassType>() ||
                !type->getAttribute(i)->cast<c10::ClassType>()->is_module())
                v.push_back(type->getAttributeName(i));
        return give_strings(out, v);
    });
}

e3c_status e3c_jit_parameters(e3c_strings *out, const e3c_jit_module *m)
{
    if (!m || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_parameters: NULL argument");
    return guard("jit_parameters", [&] {
        std::vector<std::string> v;
        for (const auto &p : m->m.named_parameters(true))
            v.push_back(p.name);
        return give_strings(out, v);
    });
}

e3c_status e3c_jit_attribute_string(char **out, const e3c_jit_module *m, const char *name)
{
    if (!m || !name || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_attribute_string: NULL argument");
    *out = nullptr;
    return guard("jit_attribute", [&] {
        if (!m->m.hasattr(name))
            return e3c_error_set(E3C_ERR_NOT_FOUND, "module %s has no attribute '%s'", type_name_of(m->m).c_str(),
                                 name);
        c10::IValue v = m->m.attr(name);
        std::string text;
        if (v.isString()) {
            text = v.toStringRef();
        } else if (v.isTensor()) {
            e3c_tensor tmp{v.toTensor()};
            char buf[256];
            e3c_tensor_describe(buf, sizeof buf, &tmp);
            text = std::string("Tensor ") + buf;
        } else {
            std::ostringstream os;
            os << v;
            text = os.str();
        }
        *out = dup_string(text);
        return E3C_OK;
    });
}

e3c_status e3c_jit_attribute_tensor(e3c_tensor **out, const e3c_jit_module *m, const char *name)
{
    if (!m || !name || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_attribute_tensor: NULL argument");
    *out = nullptr;
    return guard("jit_attribute_tensor", [&] {
        if (!m->m.hasattr(name))
            return e3c_error_set(E3C_ERR_NOT_FOUND, "module %s has no attribute '%s'", type_name_of(m->m).c_str(),
                                 name);
        c10::IValue v = m->m.attr(name);
        if (!v.isTensor())
            return e3c_error_set(E3C_ERR_VALUE, "attribute '%s' is a %s, not a tensor", name, v.tagKind().c_str());
        return give_tensor(out, v.toTensor());
    });
}

e3c_status e3c_jit_extra_files(e3c_strings *out, const e3c_jit_module *m)
{
    if (!m || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_extra_files: NULL argument");
    return guard("jit_extra_files", [&] {
        std::vector<std::string> v;
        for (const auto &kv : m->extra_files)
            v.push_back(kv.first);
        return give_strings(out, v);
    });
}

e3c_status e3c_jit_extra_file(char **out, size_t *len, const e3c_jit_module *m, const char *name)
{
    if (!m || !name || !out || !len)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_extra_file: NULL argument");
    *out = nullptr;
    return guard("jit_extra_file", [&] {
        for (const auto &kv : m->extra_files)
            if (kv.first == name) {
                *out = dup_string(kv.second);
                *len = kv.second.size();
                return E3C_OK;
            }
        return e3c_error_set(E3C_ERR_NOT_FOUND, "archive has no extra file '%s'", name);
    });
}

} // extern "C"
