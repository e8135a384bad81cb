/* e3check — the module registry: type names to constructors taking JSON arguments, so
 * that fixtures and the command line can build any registered module. */
#ifndef E3CHECK_REGISTRY_H
#define E3CHECK_REGISTRY_H

#include "e3check/export.h"

#include <cjson/cJSON.h>

#include "e3check/module.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A constructor: build *out from e3nn-style positional `args` (a JSON array, may be NULL)
 *  and keyword `kwargs` (a JSON object, may be NULL). Unknown or mistyped arguments are
 *  E3C_ERR_VALUE errors naming the argument. */
typedef e3c_status (*e3c_module_ctor)(e3c_module **out, const cJSON *args, const cJSON *kwargs);

/** Register `type_name` (copied). A name already registered is E3C_ERR_INVALID. Not
 *  thread-safe: register from main() or a plugin's init before building modules. */
E3C_API e3c_status e3c_registry_add(const char *type_name, e3c_module_ctor ctor);

/** Build a module from {"type": NAME, "args": [...], "kwargs": {...}}. Errors name the
 *  type. Caller owns *out. */
E3C_API e3c_status e3c_registry_build(e3c_module **out, const cJSON *spec);

/** The registered type names, sorted. Caller owns *out. */
E3C_API e3c_status e3c_registry_names(e3c_strings *out);

/** The version of the API a plugin is compiled against: it changes whenever a plugin built
 *  for the previous one would misbehave (2 since e3check 0.2, which put out-parameters
 *  first). A plugin declares it with E3C_PLUGIN_DECLARE_API_VERSION. */
#define E3C_API_VERSION 2

/** The symbol a plugin exports to declare the E3C_API_VERSION it was compiled against
 *  (defined by E3C_PLUGIN_DECLARE_API_VERSION, never by e3check itself). */
E3C_API extern const int e3check_plugin_api_version;

/** Write `E3C_PLUGIN_DECLARE_API_VERSION;` once at file scope in a plugin's source: it
 *  defines e3check_plugin_api_version as the E3C_API_VERSION of these headers. */
#define E3C_PLUGIN_DECLARE_API_VERSION E3C_API const int e3check_plugin_api_version = E3C_API_VERSION

/** Load a shared library of module types: dlopen it, check that it declares this
 *  E3C_API_VERSION (E3C_ERR_FORMAT naming the file, its version and the one expected, or
 *  saying it declares none; its init is then not run) and call its
 *  `e3c_status e3check_plugin_init(void)`, which registers types with e3c_registry_add.
 *  The library is first loaded and initialised in a forked child (so its init runs twice):
 *  an init that crashes, aborts, exits the process, hangs for 60 s or fails without a
 *  message is an error naming the plugin and what happened, and this process goes on. */
E3C_API e3c_status e3c_registry_load_plugin(const char *path);

/* Helpers for constructors: argument `index` of args, else kwargs[name], else absent.
 * Their errors name it `argument "name"` (missing, or not of the type asked). */

/** The argument as a string; *out = fallback when absent. */
E3C_API e3c_status e3c_arg_string(const char **out, const cJSON *args, const cJSON *kwargs, int index, const char *name,
                                  const char *fallback);

/** The argument as a boolean; *out = fallback when absent. */
E3C_API e3c_status e3c_arg_bool(int *out, const cJSON *args, const cJSON *kwargs, int index, const char *name,
                                int fallback);

/** The arguments a type's constructor accepts, as its e3c_args_check declares them: their
 *  names in positional order (*out, caller owns) and how many may be positional.
 *  E3C_ERR_NOT_FOUND for an unknown type or one whose constructor does not call
 *  e3c_args_check. */
E3C_API e3c_status e3c_registry_arguments(e3c_strings *out, int *n_positional, const char *type);

/** E3C_ERR_VALUE when `args` has more than `max_args` entries, or `kwargs` a key not in
 *  the NULL-terminated `known` list, one naming an argument given by position, or one
 *  twice (Python's "got multiple values for argument"). */
E3C_API e3c_status e3c_args_check(const char *type, const cJSON *args, int max_args, const cJSON *kwargs,
                                  const char *const *known);

#ifdef __cplusplus
}
#endif
#endif
