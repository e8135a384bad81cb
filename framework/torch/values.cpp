// TorchScript values (dicts, bools, numbers, optional entries), schemas, and calling a
// method with arguments matched to its schema, optionally with autograd enabled.
#include "shim.hpp"

#include "e3check/values.h"

#include <caffe2/serialize/versions.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

using namespace e3c_shim;

struct e3c_value {
    c10::IValue v;
};

namespace {

e3c_status give_value(e3c_value **out, c10::IValue v)
{
    *out = new e3c_value{std::move(v)};
    return E3C_OK;
}

std::string type_text(const c10::TypePtr &t) { return t->annotation_str(); }

// Detach every tensor of a result (a graph kept alive by autograd outputs is not wanted).
c10::IValue detached(const c10::IValue &v)
{
    if (v.isTensor())
        return v.toTensor().detach();
    if (v.isGenericDict()) {
        c10::impl::GenericDict d = v.toGenericDict();
        c10::impl::GenericDict copy(d.keyType(), d.valueType());
        for (const auto &kv : d)
            copy.insert(kv.key(), detached(kv.value()));
        return copy;
    }
    if (v.isTuple()) {
        std::vector<c10::IValue> elems;
        for (const auto &e : v.toTupleRef().elements())
            elems.push_back(detached(e));
        return c10::ivalue::Tuple::create(std::move(elems));
    }
    if (v.isList()) {
        c10::impl::GenericList l = v.toList();
        c10::impl::GenericList copy(l.elementType());
        for (const c10::IValue &e : l)
            copy.push_back(detached(e));
        return copy;
    }
    return v;
}

const c10::FunctionSchema *find_schema(const e3c_jit_module *m, const char *name)
{
    auto found = m->m.find_method(name);
    if (!found)
        return nullptr;
    return &found->function().getSchema();
}

std::string value_type_name(const c10::IValue &v) { return v.type()->annotation_str(); }

// Does the value fit the argument's type? Tensors fit Optional[Tensor]; None fits Optional.
bool fits(const c10::IValue &v, const c10::TypePtr &want) { return v.type()->isSubtypeOf(*want); }

// Build the full argument stack (self first) from `args`, checking before running. With
// detach_inputs the model gets new tensor objects on the same storage, so a model that
// calls requires_grad_() on an input (forces by autograd) leaves the caller's tensors alone.
e3c_status bind_args(std::vector<c10::IValue> *stack, const torch::jit::Module &mod, const c10::FunctionSchema &schema,
                     const char *method, const e3c_call_arg *args, size_t n, bool detach_inputs)
{
    const auto &formal = schema.arguments();
    size_t n_formal = formal.size() - 1; // argument 0 is self
    std::vector<c10::optional<c10::IValue>> given(n_formal);
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (!args[i].value)
            return e3c_error_set(E3C_ERR_INVALID, "%s: argument %zu has no value", method, i);
        size_t slot = n_formal;
        if (!args[i].name) {
            if (pos != i)
                return e3c_error_set(E3C_ERR_VALUE, "%s: a positional argument follows a named one", method);
            if (pos >= n_formal)
                return e3c_error_set(E3C_ERR_VALUE, "%s takes %zu argument%s but %zu were given", method, n_formal,
                                     n_formal == 1 ? "" : "s", n);
            slot = pos++;
        } else {
            for (size_t k = 0; k < n_formal; k++)
                if (formal[k + 1].name() == args[i].name)
                    slot = k;
            if (slot == n_formal)
                return e3c_error_set(E3C_ERR_VALUE, "%s has no argument named '%s'", method, args[i].name);
            if (given[slot])
                return e3c_error_set(E3C_ERR_VALUE, "%s: argument '%s' given twice", method, args[i].name);
        }
        c10::IValue v = args[i].value->v;
        if (v.isInt() && formal[slot + 1].type()->kind() == c10::TypeKind::FloatType)
            v = c10::IValue((double)v.toInt()); /* as Python passes 2 for a float argument */
        if (!fits(v, formal[slot + 1].type()))
            return e3c_error_set(E3C_ERR_VALUE, "%s: argument '%s' must be %s, not %s", method,
                                 formal[slot + 1].name().c_str(), type_text(formal[slot + 1].type()).c_str(),
                                 value_type_name(v).c_str());
        given[slot] = v;
    }
    stack->clear();
    stack->push_back(mod._ivalue());
    for (size_t k = 0; k < n_formal; k++) {
        const c10::Argument &a = formal[k + 1];
        if (given[k])
            stack->push_back(detach_inputs ? detached(*given[k]) : *given[k]);
        else if (a.default_value())
            stack->push_back(*a.default_value());
        else
            return e3c_error_set(E3C_ERR_VALUE, "%s: missing argument '%s' (%s)", method, a.name().c_str(),
                                 type_text(a.type()).c_str());
    }
    return E3C_OK;
}

} // namespace

extern "C" {

e3c_status e3c_value_none(e3c_value **out)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_value_none: NULL argument");
    return guard("value", [&] { return give_value(out, c10::IValue()); });
}

e3c_status e3c_value_bool(e3c_value **out, int b)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_value_bool: NULL argument");
    return guard("value", [&] { return give_value(out, c10::IValue(b != 0)); });
}

e3c_status e3c_value_int(e3c_value **out, int64_t v)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_value_int: NULL argument");
    return guard("value", [&] { return give_value(out, c10::IValue(v)); });
}

e3c_status e3c_value_float(e3c_value **out, double v)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_value_float: NULL argument");
    return guard("value", [&] { return give_value(out, c10::IValue(v)); });
}

e3c_status e3c_value_tensor(e3c_value **out, const e3c_tensor *t)
{
    if (!out || !t)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_value_tensor: NULL argument");
    return guard("value", [&] { return give_value(out, c10::IValue(t->t)); });
}

e3c_status e3c_value_dict_new(e3c_value **out)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_value_dict_new: NULL argument");
    return guard("value", [&] { return give_value(out, c10::IValue(c10::Dict<std::string, at::Tensor>())); });
}

e3c_status e3c_value_dict_set(e3c_value *dict, const char *key, const e3c_tensor *t)
{
    if (!dict || !key || !t)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_value_dict_set: NULL argument");
    if (!dict->v.isGenericDict())
        return e3c_error_set(E3C_ERR_VALUE, "cannot set key '%s': the value is not a dict", key);
    return guard("value_dict_set", [&] {
        dict->v.toGenericDict().insert_or_assign(std::string(key), t->t);
        return E3C_OK;
    });
}

void e3c_value_free(e3c_value *v) { delete v; }

e3c_value_kind e3c_value_kind_of(const e3c_value *v)
{
    if (!v || v->v.isNone())
        return E3C_VALUE_NONE;
    if (v->v.isBool())
        return E3C_VALUE_BOOL;
    if (v->v.isInt())
        return E3C_VALUE_INT;
    if (v->v.isDouble())
        return E3C_VALUE_FLOAT;
    if (v->v.isString())
        return E3C_VALUE_STRING;
    if (v->v.isTensor())
        return E3C_VALUE_TENSOR;
    if (v->v.isGenericDict())
        return E3C_VALUE_DICT;
    if (v->v.isList() || v->v.isTuple())
        return E3C_VALUE_LIST;
    return E3C_VALUE_OTHER;
}

e3c_status e3c_value_type_name(char **out, const e3c_value *v)
{
    if (!v || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_value_type_name: NULL argument");
    return guard("value_type_name", [&] {
        *out = dup_string(value_type_name(v->v));
        return E3C_OK;
    });
}

e3c_status e3c_value_get_tensor(e3c_tensor **out, const e3c_value *v)
{
    if (!out || !v)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_value_get_tensor: NULL argument");
    *out = nullptr;
    if (!v->v.isTensor())
        return e3c_error_set(E3C_ERR_VALUE, "the value is %s, not a tensor", v->v.tagKind().c_str());
    return guard("value_get_tensor", [&] { return give_tensor(out, v->v.toTensor()); });
}

e3c_status e3c_value_get_number(double *out, const e3c_value *v)
{
    if (!out || !v)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_value_get_number: NULL argument");
    if (v->v.isBool())
        *out = v->v.toBool() ? 1.0 : 0.0;
    else if (v->v.isInt())
        *out = (double)v->v.toInt();
    else if (v->v.isDouble())
        *out = v->v.toDouble();
    else
        return e3c_error_set(E3C_ERR_VALUE, "the value is %s, not a number", v->v.tagKind().c_str());
    return E3C_OK;
}

e3c_status e3c_value_dict_keys(e3c_strings *out, const e3c_value *dict)
{
    if (!dict || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_value_dict_keys: NULL argument");
    if (!dict->v.isGenericDict())
        return e3c_error_set(E3C_ERR_VALUE, "the value is %s, not a dict", dict->v.tagKind().c_str());
    return guard("value_dict_keys", [&] {
        std::vector<std::string> keys;
        for (const auto &kv : dict->v.toGenericDict()) {
            if (!kv.key().isString())
                return e3c_error_set(E3C_ERR_VALUE, "the dict has a key of type %s, not str",
                                     kv.key().tagKind().c_str());
            keys.push_back(kv.key().toStringRef());
        }
        return give_strings(out, keys);
    });
}

e3c_status e3c_value_dict_get(e3c_tensor **out, const e3c_value *dict, const char *key)
{
    if (!out || !dict || !key)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_value_dict_get: NULL argument");
    *out = nullptr;
    if (!dict->v.isGenericDict())
        return e3c_error_set(E3C_ERR_VALUE, "the value is %s, not a dict", dict->v.tagKind().c_str());
    return guard("value_dict_get", [&] {
        c10::impl::GenericDict d = dict->v.toGenericDict();
        auto it = d.find(std::string(key));
        if (it == d.end())
            return e3c_error_set(E3C_ERR_NOT_FOUND, "no key '%s'", key);
        if (it->value().isNone())
            return E3C_OK;
        if (!it->value().isTensor())
            return e3c_error_set(E3C_ERR_VALUE, "entry '%s' is %s, not a tensor", key, it->value().tagKind().c_str());
        return give_tensor(out, it->value().toTensor());
    });
}

size_t e3c_value_length(const e3c_value *v)
{
    if (!v)
        return 0;
    if (v->v.isTuple())
        return v->v.toTupleRef().elements().size();
    if (v->v.isList())
        return v->v.toListRef().size();
    return 0;
}

e3c_status e3c_value_item(e3c_value **out, const e3c_value *v, size_t i)
{
    if (!out || !v)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_value_item: NULL argument");
    *out = nullptr;
    if (i >= e3c_value_length(v))
        return e3c_error_set(E3C_ERR_VALUE, "no element %zu in a value of %zu", i, e3c_value_length(v));
    return guard("value_item", [&] {
        return give_value(out, v->v.isTuple() ? v->v.toTupleRef().elements()[i] : v->v.toListRef()[i]);
    });
}

e3c_status e3c_jit_schema(e3c_schema *out, const e3c_jit_module *m, const char *method)
{
    if (!out || !m)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_schema: NULL argument");
    *out = e3c_schema{0, nullptr, nullptr};
    const char *name = method ? method : "forward";
    return guard("jit_schema", [&] {
        const c10::FunctionSchema *schema = find_schema(m, name);
        if (!schema)
            return e3c_error_set(E3C_ERR_NOT_FOUND, "the module has no method '%s'", name);
        const auto &args = schema->arguments();
        size_t n = args.size() > 0 ? args.size() - 1 : 0;
        out->args = static_cast<e3c_schema_arg *>(std::calloc(n ? n : 1, sizeof(e3c_schema_arg)));
        if (!out->args)
            return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        out->n_args = n;
        for (size_t i = 0; i < n; i++) {
            const c10::Argument &a = args[i + 1];
            out->args[i].name = dup_string(a.name());
            out->args[i].type = dup_string(type_text(a.type()));
            if (a.default_value()) {
                std::ostringstream os;
                os << *a.default_value();
                out->args[i].default_value = dup_string(os.str());
            }
        }
        const auto &rets = schema->returns();
        std::string r;
        if (rets.size() == 1) {
            r = type_text(rets[0].type());
        } else {
            r = "(";
            for (size_t i = 0; i < rets.size(); i++)
                r += (i ? ", " : "") + type_text(rets[i].type());
            r += ")";
        }
        out->returns = dup_string(r);
        return E3C_OK;
    });
}

void e3c_schema_free(e3c_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_args; i++) {
        std::free(s->args[i].name);
        std::free(s->args[i].type);
        std::free(s->args[i].default_value);
    }
    std::free(s->args);
    std::free(s->returns);
    *s = e3c_schema{0, nullptr, nullptr};
}

e3c_status e3c_jit_invoke(e3c_value **out, e3c_jit_module *m, const char *method, const e3c_call_arg *args,
                          size_t n_args, int flags)
{
    if (!out || !m || (!args && n_args))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_invoke: NULL argument");
    *out = nullptr;
    const char *name = method ? method : "forward";
    return guard(name, [&] {
        auto found = m->m.find_method(name);
        if (!found)
            return e3c_error_set(E3C_ERR_NOT_FOUND, "the module has no method '%s'", name);
        std::vector<c10::IValue> stack;
        e3c_status st =
            bind_args(&stack, m->m, found->function().getSchema(), name, args, n_args, (flags & E3C_CALL_GRAD) != 0);
        if (st)
            return st;
        c10::IValue result;
        if (flags & E3C_CALL_GRAD) {
            torch::AutoGradMode grad(true);
            found->function().run(stack);
            result = detached(stack.front());
        } else {
            torch::NoGradGuard no_grad;
            found->function().run(stack);
            result = stack.front();
        }
        return give_value(out, std::move(result));
    });
}

e3c_status e3c_jit_set_extra_file(e3c_jit_module *m, const char *name, const char *content, size_t len)
{
    if (!m || !name || (!content && len))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_set_extra_file: NULL argument");
    return guard("jit_set_extra_file", [&] {
        std::string data(content ? content : "", len);
        for (auto &kv : m->extra_files)
            if (kv.first == name) {
                kv.second = data;
                return E3C_OK;
            }
        m->extra_files.emplace_back(name, data);
        return E3C_OK;
    });
}

e3c_status e3c_jit_set_fusion_strategy(const char *spec)
{
    if (!spec)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_set_fusion_strategy: NULL argument");
    torch::jit::FusionStrategy strategy;
    std::string text(spec);
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t end = text.find(';', pos);
        std::string part = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        size_t comma = part.find(',');
        std::string kind = part.substr(0, comma);
        char *stop = nullptr;
        long depth = comma == std::string::npos ? -1 : std::strtol(part.c_str() + comma + 1, &stop, 10);
        if ((kind != "STATIC" && kind != "DYNAMIC") || depth < 0 || (stop && *stop && *stop != ' ' && *stop != '\n'))
            return e3c_error_set(E3C_ERR_VALUE,
                                 "fusion strategy '%s' is not TYPE,DEPTH[;TYPE,DEPTH...] with TYPE "
                                 "STATIC or DYNAMIC",
                                 spec);
        strategy.emplace_back(
            kind == "STATIC" ? torch::jit::FusionBehavior::STATIC : torch::jit::FusionBehavior::DYNAMIC, (size_t)depth);
        if (end == std::string::npos)
            break;
        pos = end + 1;
    }
    return guard("jit_set_fusion_strategy", [&] {
        torch::jit::setFusionStrategy(strategy);
        return E3C_OK;
    });
}

e3c_status e3c_jit_archive_info(int64_t *format, char **producer, int64_t *max_format, const char *path)
{
    if (!path || !format || !producer || !max_format)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_jit_archive_info: NULL argument");
    *format = 0;
    *producer = nullptr;
    *max_format = (int64_t)caffe2::serialize::kMaxSupportedFileFormatVersion;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return e3c_error_set(E3C_ERR_IO, "cannot open '%s': %s", path, std::strerror(errno));
    if (!S_ISREG(sb.st_mode)) // opening a FIFO would wait for a writer forever
        return e3c_error_set(E3C_ERR_IO, "cannot read '%s': it is not a regular file", path);
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return e3c_error_set(E3C_ERR_IO, "cannot open '%s': %s", path, std::strerror(errno));
    return guard("jit_archive_info", [&] {
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::string torch_version;
        auto u16 = [&](size_t p) { return (size_t)(unsigned char)bytes[p] | (size_t)(unsigned char)bytes[p + 1] << 8; };
        auto u32 = [&](size_t p) { return u16(p) | u16(p + 2) << 16; };
        auto ends_with = [](const std::string &s, const std::string &tail) {
            return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
        };
        // The central directory gives each record's size and local header; TorchScript
        // archives store these records uncompressed.
        for (size_t p = bytes.find("PK\x01\x02"); p != std::string::npos && p + 46 <= bytes.size();
             p = bytes.find("PK\x01\x02", p + 4)) {
            size_t method = u16(p + 10), size = u32(p + 20), name_len = u16(p + 28), local = u32(p + 42);
            if (method != 0 || p + 46 + name_len > bytes.size() || local + 30 > bytes.size())
                continue;
            std::string name = bytes.substr(p + 46, name_len);
            size_t data = local + 30 + u16(local + 26) + u16(local + 28);
            if (data + size > bytes.size())
                continue;
            std::string content = bytes.substr(data, size);
            if (ends_with(name, "/version") && !ends_with(name, "/.data/version"))
                *format = std::atoll(content.c_str());
            else if (ends_with(name, "/extra/torch_version"))
                torch_version = content;
        }
        *producer = dup_string(torch_version);
        return E3C_OK;
    });
}

} // extern "C"
