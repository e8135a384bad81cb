/* Helpers for module constructors that read e3nn-style JSON arguments (framework-internal). */
#ifndef E3CHECK_JSON_CTORS_H
#define E3CHECK_JSON_CTORS_H

#include "e3check/nn.h"
#include "e3check/registry.h"

/* The argument at `index` of args, else kwargs[name], else NULL. */
const cJSON *ctor_arg(const cJSON *args, const cJSON *kwargs, int index, const char *name);

/* A list of numbers (NULL/absent: *out = NULL, *n = 0). Caller frees *out. */
e3c_status ctor_doubles(const cJSON *v, const char *name, double **out, size_t *n);

/* An optional bool argument as -1 (absent or null), 0 or 1. */
e3c_status ctor_tristate(const cJSON *v, const char *name, int *out);

/* e3nn's TensorProduct keyword arguments shared by every product. `vars` receives the
 * allocated variance arrays (free all three after use). */
e3c_status ctor_tp_options(const cJSON *kwargs, e3c_tp_options *o, double **vars);

/* A list of irreps strings (filter_ir_out); NULL/absent: none. Caller frees *out (the
 * strings are borrowed from v). */
e3c_status ctor_string_list(const cJSON *v, const char *name, const char ***out, size_t *n);

#endif
