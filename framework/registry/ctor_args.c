/* Reading e3nn-style constructor arguments from JSON: binding them by name, the readers
 * e3check/json.h does not cover, and the public e3c_args_check / e3c_arg_* helpers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json_internal.h"
#include "ctor_args.h"

/* The noun a constructor's errors call a key: e3nn's constructors take arguments. */
#define ARG "argument"

/* ------------------------------------------------------------ checking and binding ---- */

/* e3c_registry_arguments calls a constructor in probe mode: its e3c_args_check records
 * the arguments it accepts and stops it there. */
static _Thread_local int probing, probed, probed_max;
static _Thread_local const char *const *probed_known;

void ctor_probe_begin(void) { probing = 1, probed = 0, probed_known = NULL; }

int ctor_probe_end(int *max_args, const char *const **known)
{
    probing = 0;
    *max_args = probed_max;
    *known = probed_known;
    return probed;
}

/* "a, b, c" of a NULL-terminated list, into buf. */
static const char *join_names(char *buf, size_t cap, const char *const *names)
{
    size_t len = 0;
    buf[0] = '\0';
    for (const char *const *n = names; n && *n && len < cap; n++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", *n);
    return buf[0] ? buf : "none";
}

/* The position of `name` in a NULL-terminated list, -1 when absent. */
static int name_index(const char *const *names, const char *name)
{
    for (int i = 0; names && names[i]; i++)
        if (!strcmp(names[i], name))
            return i;
    return -1;
}

e3c_status e3c_args_check(const char *type, const cJSON *args, int max_args, const cJSON *kwargs,
                          const char *const *known)
{
    if (probing) {
        probed = 1, probed_max = max_args, probed_known = known;
        return e3c_error_set(E3C_ERR_VALUE, "%s: arguments probed", type);
    }
    if (args && cJSON_GetArraySize(args) > max_args)
        return e3c_error_set(E3C_ERR_VALUE, "%s takes at most %d positional arguments, got %d", type, max_args,
                             cJSON_GetArraySize(args));
    int n_args = args ? cJSON_GetArraySize(args) : 0;
    for (const cJSON *k = kwargs ? kwargs->child : NULL; k; k = k->next) {
        int at = name_index(known, k->string);
        char names[512];
        if (at < 0)
            return e3c_error_set(E3C_ERR_VALUE, "%s got an unexpected keyword argument \"%s\" (its arguments: %s)",
                                 type, k->string, join_names(names, sizeof names, known));
        if (at < n_args || cJSON_GetObjectItemCaseSensitive(kwargs, k->string) != k)
            return e3c_error_set(E3C_ERR_VALUE, "%s got multiple values for argument \"%s\"", type, k->string);
    }
    return E3C_OK;
}

/* Add `value` to `obj` under `key` unless a value is there already (e3c_args_check refused
 * a keyword that repeats a positional argument or another keyword). */
static e3c_status bind_one(cJSON *obj, const char *key, const cJSON *value)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        return E3C_OK;
    return cJSON_AddItemReferenceToObject(obj, key, (cJSON *)value)
               ? E3C_OK
               : e3c_error_set(E3C_ERR_NOMEM, "out of memory reading argument \"%s\"", key);
}

e3c_status ctor_bind(cJSON **out, const char *type, const cJSON *args, int max_args, const cJSON *kwargs,
                     const char *const *known)
{
    *out = NULL;
    e3c_status st = e3c_args_check(type, args, max_args, kwargs, known);
    if (st)
        return st;
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory reading the arguments of %s", type);
    int i = 0;
    for (const cJSON *v = args ? args->child : NULL; !st && v; v = v->next, i++)
        st = known && known[i] ? bind_one(obj, known[i], v)
                               : e3c_error_set(E3C_ERR_INTERNAL, "%s: positional argument %d has no name", type, i);
    for (const cJSON *k = kwargs ? kwargs->child : NULL; !st && k; k = k->next)
        st = bind_one(obj, k->string, k);
    if (st)
        cJSON_Delete(obj);
    else
        *out = obj;
    return st;
}

/* --------------------------------------------------------------------- readers ---- */

const cJSON *ctor_given(const cJSON *a, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

e3c_status ctor_string(const char **out, const cJSON *a, const char *key) { return json_string_as(out, a, key, ARG); }

e3c_status ctor_string_or(const char **out, const cJSON *a, const char *key, const char *fallback)
{
    return json_string_or_as(out, a, key, fallback, ARG);
}

e3c_status ctor_string_or_none(const char **out, const cJSON *a, const char *key, const char *fallback)
{
    *out = fallback;
    return ctor_given(a, key) ? ctor_string(out, a, key) : E3C_OK;
}

e3c_status ctor_bool_or(int *out, const cJSON *a, const char *key, int fallback)
{
    return json_bool_or_as(out, a, key, fallback, ARG);
}

e3c_status ctor_number_or(double *out, const cJSON *a, const char *key, double fallback)
{
    *out = fallback;
    return cJSON_GetObjectItemCaseSensitive(a, key) ? json_number_as(out, a, key, ARG) : E3C_OK;
}

e3c_status ctor_int_or(int *out, const cJSON *a, const char *key, int fallback)
{
    return json_int_or_as(out, a, key, fallback, ARG);
}

int ctor_is_int(const cJSON *x)
{
    return cJSON_IsNumber(x) && x->valuedouble == floor(x->valuedouble) && fabs(x->valuedouble) <= 2147483647.0;
}

e3c_status ctor_doubles(double **out, size_t *n, const cJSON *a, const char *key)
{
    const cJSON *v = ctor_given(a, key);
    *out = NULL;
    *n = 0;
    if (!v)
        return E3C_OK;
    if (!cJSON_IsArray(v))
        return e3c_error_set(E3C_ERR_VALUE, "argument \"%s\" must be a list of numbers", key);
    size_t k = (size_t)cJSON_GetArraySize(v);
    double *d = malloc((k ? k : 1) * sizeof *d);
    if (!d)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    size_t i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, v) {
        if (!cJSON_IsNumber(x)) {
            free(d);
            return e3c_error_set(E3C_ERR_VALUE, "argument \"%s\" must be a list of numbers", key);
        }
        d[i++] = x->valuedouble;
    }
    *out = d;
    *n = k;
    return E3C_OK;
}

e3c_status ctor_tristate(int *out, const cJSON *a, const char *key)
{
    const cJSON *v = ctor_given(a, key);
    if (!v) {
        *out = -1;
        return E3C_OK;
    }
    if (!cJSON_IsBool(v))
        return e3c_error_set(E3C_ERR_VALUE, "argument \"%s\" must be true, false or null", key);
    *out = cJSON_IsTrue(v);
    return E3C_OK;
}

e3c_status ctor_tp_options(e3c_tp_options *o, double **vars, const cJSON *a)
{
    vars[0] = vars[1] = vars[2] = NULL;
    e3c_status st = ctor_string_or_none(&o->irrep_normalization, a, "irrep_normalization", NULL);
    if (!st) /* e3nn's deprecated alias, replacing irrep_normalization when given */
        st = ctor_string_or_none(&o->irrep_normalization, a, "normalization", o->irrep_normalization);
    if (!st)
        st = ctor_string_or_none(&o->path_normalization, a, "path_normalization", NULL);
    if (!st)
        st = ctor_doubles(&vars[0], &o->n_in1_var, a, "in1_var");
    if (!st)
        st = ctor_doubles(&vars[1], &o->n_in2_var, a, "in2_var");
    if (!st)
        st = ctor_doubles(&vars[2], &o->n_out_var, a, "out_var");
    if (!st)
        st = ctor_tristate(&o->internal_weights, a, "internal_weights");
    if (!st)
        st = ctor_tristate(&o->shared_weights, a, "shared_weights");
    int left_right = 1, right = 0, code_choice;
    if (!st) /* e3nn's default is True; False (or None) leaves forward uncompiled, always failing */
        st = ctor_bool_or(&left_right, a, "compile_left_right", 1);
    if (!st && !left_right)
        st = e3c_error_set(E3C_ERR_VALUE,
                           "compile_left_right=False (a TensorProduct whose forward is not compiled) is not "
                           "supported by e3check");
    if (!st)
        st = ctor_tristate(&right, a, "compile_right");
    if (!st && right == 1)
        st = e3c_error_set(E3C_ERR_VALUE, "compile_right (the `right` method) is not supported by e3check");
    /* e3nn's kernel choices: they change the result only by rounding (MODULES_SPEC.md 2.5) */
    if (!st)
        st = ctor_tristate(&code_choice, a, "_specialized_code");
    if (!st)
        st = ctor_tristate(&code_choice, a, "_optimize_einsums");
    o->in1_var = vars[0], o->in2_var = vars[1], o->out_var = vars[2];
    return st;
}

e3c_status ctor_string_list(const char ***out, size_t *n, const cJSON *a, const char *key)
{
    const cJSON *v = ctor_given(a, key);
    *out = NULL;
    *n = 0;
    if (!v)
        return E3C_OK;
    if (cJSON_IsString(v)) /* Python iterates a string: "0e" would be the irreps "0" and "e" */
        return e3c_error_set(E3C_ERR_VALUE,
                             "argument \"%s\" must be a list of irreps, not the string \"%s\" (e3nn would read "
                             "each of its characters as an irrep)",
                             key, v->valuestring);
    if (!cJSON_IsArray(v))
        return e3c_error_set(E3C_ERR_VALUE, "%s (=%s) must be an iterable of e3nn.o3.Irrep", key, "a non-list");
    size_t k = (size_t)cJSON_GetArraySize(v);
    *out = malloc((k ? k : 1) * sizeof **out);
    if (!*out)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    const cJSON *x;
    cJSON_ArrayForEach(x, v) {
        if (!cJSON_IsString(x)) {
            free(*out);
            *out = NULL;
            *n = 0;
            return e3c_error_set(E3C_ERR_VALUE, "%s must be an iterable of e3nn.o3.Irrep", key);
        }
        (*out)[(*n)++] = x->valuestring;
    }
    return E3C_OK;
}

/* ------------------------------------------------------------ public helpers ---- */

/* Argument `index` of args, else kwargs[name], bound under `name` alone into *out. */
static e3c_status bind_single(cJSON **out, const cJSON *args, const cJSON *kwargs, int index, const char *name)
{
    const cJSON *v = index >= 0 && args ? cJSON_GetArrayItem(args, index) : NULL;
    if (!v && kwargs)
        v = cJSON_GetObjectItemCaseSensitive(kwargs, name);
    *out = cJSON_CreateObject();
    if (!*out)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory reading argument \"%s\"", name);
    e3c_status st = v ? bind_one(*out, name, v) : E3C_OK;
    if (st) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return st;
}

e3c_status e3c_arg_string(const char **out, const cJSON *args, const cJSON *kwargs, int index, const char *name,
                          const char *fallback)
{
    cJSON *a;
    e3c_status st = bind_single(&a, args, kwargs, index, name);
    if (!st)
        st = fallback ? ctor_string_or(out, a, name, fallback) : ctor_string(out, a, name);
    cJSON_Delete(a);
    return st;
}

e3c_status e3c_arg_bool(int *out, const cJSON *args, const cJSON *kwargs, int index, const char *name, int fallback)
{
    cJSON *a;
    e3c_status st = bind_single(&a, args, kwargs, index, name);
    if (!st)
        st = ctor_bool_or(out, a, name, fallback);
    cJSON_Delete(a);
    return st;
}
