/* Reading e3nn-style constructor arguments from JSON (framework-internal). A constructor
 * binds its positional and keyword arguments by name (ctor_bind), then reads them with the
 * e3c_json_* field readers of e3check/json.h, or with the readers below for the shapes
 * those do not cover (null meaning "not given", lists of any length). */
#ifndef E3CHECK_CTOR_ARGS_H
#define E3CHECK_CTOR_ARGS_H

#include "e3check/json.h"
#include "e3check/nn.h"
#include "e3check/registry.h"

/* Check one constructor call's arguments (e3c_args_check), then bind them by name into *out:
 * args[i] under known[i] (the first max_args names are the positional ones), then each
 * keyword not given positionally. *out references the values of args and kwargs (caller
 * frees it with cJSON_Delete before them); NULL on failure. */
e3c_status ctor_bind(cJSON **out, const char *type, const cJSON *args, int max_args, const cJSON *kwargs,
                     const char *const *known);

/* The bound argument `key` when it is given and not null, else NULL. */
const cJSON *ctor_given(const cJSON *a, const char *key);

/* A number; absent or null: fallback. */
e3c_status ctor_number_or(double *out, const cJSON *a, const char *key, double fallback);

/* A list of numbers; absent or null: *out = NULL, *n = 0. Caller frees *out. */
e3c_status ctor_doubles(double **out, size_t *n, const cJSON *a, const char *key);

/* An optional bool as -1 (absent or null), 0 or 1. */
e3c_status ctor_tristate(int *out, const cJSON *a, const char *key);

/* A list of irreps strings, or one (filter_ir_out); absent or null: none. Caller frees *out
 * (the strings are borrowed from a's values). */
e3c_status ctor_string_list(const char ***out, size_t *n, const cJSON *a, const char *key);

/* e3nn's TensorProduct keyword arguments shared by every product. `vars` receives the
 * allocated variance arrays (free all three after use). */
e3c_status ctor_tp_options(e3c_tp_options *o, double **vars, const cJSON *a);

/* e3c_registry_arguments' probe: between begin and end, e3c_args_check records the
 * arguments a constructor declares and stops it. ctor_probe_end: 1 when one was recorded
 * (its positional count and names, borrowed from the constructor's static list), else 0. */
void ctor_probe_begin(void);
int ctor_probe_end(int *max_args, const char *const **known);

#endif
