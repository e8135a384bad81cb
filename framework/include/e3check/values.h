/* e3check — TorchScript values beyond tensors, and calling any method signature.
 *
 * A deployed interatomic potential takes a Dict[str, Tensor], bools and numbers and returns
 * a Dict[str, Tensor] or Dict[str, Optional[Tensor]]. This header lets C build such
 * arguments, call a method with them matched to its schema (named arguments, defaults),
 * optionally with autograd enabled, and read the results. Same rules as torch.h: opaque
 * handles, out-parameters first, status returns, NULL-safe frees, no C++ exception crosses.
 */
#ifndef E3CHECK_VALUES_H
#define E3CHECK_VALUES_H

#include "e3check/export.h"

#include <stddef.h>
#include <stdint.h>

#include "e3check/torch.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One TorchScript value: None, bool, int, float, string, tensor, dict or list/tuple. */
typedef struct e3c_value e3c_value;

/** What a value holds. */
typedef enum e3c_value_kind {
    E3C_VALUE_NONE = 0,
    E3C_VALUE_BOOL,
    E3C_VALUE_INT,
    E3C_VALUE_FLOAT,
    E3C_VALUE_STRING,
    E3C_VALUE_TENSOR,
    E3C_VALUE_DICT, /**< a dict with string keys */
    E3C_VALUE_LIST, /**< a list or a tuple */
    E3C_VALUE_OTHER
} e3c_value_kind;

/** A new None. Caller owns *out. */
E3C_API e3c_status e3c_value_none(e3c_value **out);
/** A new bool (0 false, else true). Caller owns *out. */
E3C_API e3c_status e3c_value_bool(e3c_value **out, int b);
/** A new int. Caller owns *out. */
E3C_API e3c_status e3c_value_int(e3c_value **out, int64_t v);
/** A new float. Caller owns *out. */
E3C_API e3c_status e3c_value_float(e3c_value **out, double v);
/** A new value holding a reference to tensor `t` (borrowed). Caller owns *out. */
E3C_API e3c_status e3c_value_tensor(e3c_value **out, const e3c_tensor *t);
/** A new empty Dict[str, Tensor]. Caller owns *out. */
E3C_API e3c_status e3c_value_dict_new(e3c_value **out);
/** Set `dict[key] = t` (a reference; replaces an existing entry). E3C_ERR_VALUE when
 *  `dict` is not a dict. */
E3C_API e3c_status e3c_value_dict_set(e3c_value *dict, const char *key, const e3c_tensor *t);
/** Free a value. NULL-safe. */
E3C_API void e3c_value_free(e3c_value *v);

/** The kind of `v` (E3C_VALUE_NONE for NULL). */
E3C_API e3c_value_kind e3c_value_kind_of(const e3c_value *v);
/** TorchScript's name of the value's type, e.g. "Dict(str, Tensor)". Caller owns *out (free()). */
E3C_API e3c_status e3c_value_type_name(char **out, const e3c_value *v);
/** A new reference to the tensor a tensor value holds. E3C_ERR_VALUE otherwise. */
E3C_API e3c_status e3c_value_get_tensor(e3c_tensor **out, const e3c_value *v);
/** The number a bool, int or float value holds, as a double. E3C_ERR_VALUE otherwise. */
E3C_API e3c_status e3c_value_get_number(double *out, const e3c_value *v);

/** The keys of a dict value in its order. Caller owns *out. */
E3C_API e3c_status e3c_value_dict_keys(e3c_strings *out, const e3c_value *dict);
/** Entry `key` of a dict: *out is a new tensor reference, or NULL when the entry is None
 *  (Dict[str, Optional[Tensor]]). E3C_ERR_NOT_FOUND when the key is absent. */
E3C_API e3c_status e3c_value_dict_get(e3c_tensor **out, const e3c_value *dict, const char *key);

/** Number of elements of a list or tuple (0 for other kinds). */
E3C_API size_t e3c_value_length(const e3c_value *v);
/** A new value: element i of a list or tuple. E3C_ERR_VALUE when out of range. */
E3C_API e3c_status e3c_value_item(e3c_value **out, const e3c_value *v, size_t i);

/* ------------------------------------------------------------- schemas and calls -- */

/** One argument of a method's schema (self excluded). */
typedef struct e3c_schema_arg {
    char *name;
    char *type;          /**< TorchScript annotation, e.g. "Dict[str, Tensor]", "bool" */
    char *default_value; /**< printed default, or NULL when the argument has none */
} e3c_schema_arg;

/** A method's schema. Free with e3c_schema_free(). */
typedef struct e3c_schema {
    size_t n_args;
    e3c_schema_arg *args;
    char *returns; /**< the return annotation, e.g. "Dict[str, Tensor]" */
} e3c_schema;

/** The schema of `method` ("forward" when NULL). E3C_ERR_NOT_FOUND without such method. */
E3C_API e3c_status e3c_jit_schema(e3c_schema *out, const e3c_jit_module *m, const char *method);
/** Free the schema's strings and reset it. NULL-safe. */
E3C_API void e3c_schema_free(e3c_schema *s);

/** One argument of a call: positional when `name` is NULL (positional ones come first),
 *  else by name. `value` is borrowed. */
typedef struct e3c_call_arg {
    const char *name;
    const e3c_value *value;
} e3c_call_arg;

/** Run with autograd enabled (models computing forces by autograd inside need it); the
 *  outputs are detached. Without it the call runs under libtorch's NoGradGuard. */
#define E3C_CALL_GRAD 1

/** Call `method` ("forward" when NULL) of `m` with `args` matched to its schema: positional
 *  ones in order, named ones by name, missing ones from their defaults. An unknown name, a
 *  missing argument without default, too many arguments or a value whose type does not
 *  match (an int is accepted for a float, as in Python) is found BEFORE running:
 *  E3C_ERR_VALUE naming the argument, the expected and the given type. Errors raised by the model are E3C_ERR_TORCH. *out is the result (any kind;
 *  None entries of a dict are kept). Caller owns *out. */
E3C_API e3c_status e3c_jit_invoke(e3c_value **out, e3c_jit_module *m, const char *method, const e3c_call_arg *args,
                                  size_t n_args, int flags);

/** Attach extra file `name` with `len` bytes of `content` to `m` (saved with it, as
 *  torch.jit.save's _extra_files; replaces one of the same name). */
E3C_API e3c_status e3c_jit_set_extra_file(e3c_jit_module *m, const char *name, const char *content, size_t len);

/** Set the TorchScript executor's fusion strategy for the process from a spec such as
 *  "DYNAMIC,3" or "STATIC,2;DYNAMIC,10" (NequIP's _jit_fusion_strategy metadata; a bailout
 *  depth d is "STATIC,d"). E3C_ERR_VALUE naming the spec when it cannot be read. It matters
 *  only when graph optimizations are on (e3check --jit-optimize). */
E3C_API e3c_status e3c_jit_set_fusion_strategy(const char *spec);

/** What a TorchScript archive says about who wrote it, read from its zip entries without
 *  loading it (so it works on files this libtorch refuses): *format gets the archive's
 *  file-format version (its `version` record; 0 when absent), *producer the PyTorch version
 *  recorded in the archive (NequIP's `torch_version` extra file; "" when none; caller frees)
 *  and *max_format the highest format this libtorch reads. E3C_ERR_IO when the file cannot
 *  be read. */
E3C_API e3c_status e3c_jit_archive_info(int64_t *format, char **producer, int64_t *max_format, const char *path);

#ifdef __cplusplus
}
#endif
#endif
