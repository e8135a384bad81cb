/* Reading e3nn-style constructor arguments from JSON (framework-internal). A constructor
 * binds its positional and keyword arguments by name (ctor_bind), then reads them with the
 * readers below: the typed readers of e3check/json.h naming the key an argument (not a
 * field), and those for the shapes they do not cover (null meaning "not given", lists of
 * any length). Null is "not given" only where e3nn's default is None. */
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

/* A required string; *out borrowed from a's values. */
e3c_status ctor_string(const char **out, const cJSON *a, const char *key);

/* A string; absent: fallback (null is refused: e3nn's default is not None). */
e3c_status ctor_string_or(const char **out, const cJSON *a, const char *key, const char *fallback);

/* A string whose e3nn default is None; absent or null: fallback. */
e3c_status ctor_string_or_none(const char **out, const cJSON *a, const char *key, const char *fallback);

/* A boolean as 0/1; absent: fallback (null is refused). */
e3c_status ctor_bool_or(int *out, const cJSON *a, const char *key, int fallback);

/* A number; absent: fallback (null is refused). */
e3c_status ctor_number_or(double *out, const cJSON *a, const char *key, double fallback);

/* An integer; absent: fallback (null is refused). */
e3c_status ctor_int_or(int *out, const cJSON *a, const char *key, int fallback);

/* 1 when x is a JSON number with an integral value in int range (an index, a degree, a
 * size: Python refuses 1.5 where it wants an int), else 0. */
int ctor_is_int(const cJSON *x);

/* A list of numbers; absent or null: *out = NULL, *n = 0. Caller frees *out. */
e3c_status ctor_doubles(double **out, size_t *n, const cJSON *a, const char *key);

/* An optional bool as -1 (absent or null), 0 or 1. */
e3c_status ctor_tristate(int *out, const cJSON *a, const char *key);

/* A list of irreps strings (filter_ir_out, irreps_outs; not one string, which Python would
 * iterate character by character); absent or null: *out = NULL. An empty list is a
 * non-NULL *out with *n = 0. Caller frees *out (the strings are borrowed from a's values). */
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
