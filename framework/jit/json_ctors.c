/* Reading e3nn-style constructor arguments from JSON. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_ctors.h"

const cJSON *ctor_arg(const cJSON *args, const cJSON *kwargs, int index, const char *name)
{
    const cJSON *a = index >= 0 && args ? cJSON_GetArrayItem(args, index) : NULL;
    return a ? a : (kwargs ? cJSON_GetObjectItemCaseSensitive(kwargs, name) : NULL);
}

e3c_status ctor_doubles(const cJSON *v, const char *name, double **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!v || cJSON_IsNull(v))
        return E3C_OK;
    if (!cJSON_IsArray(v))
        return e3c_error_set(E3C_ERR_VALUE, "argument \"%s\" must be a list of numbers", name);
    size_t k = (size_t)cJSON_GetArraySize(v);
    double *d = malloc((k ? k : 1) * sizeof *d);
    if (!d)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    size_t i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, v)
    {
        if (!cJSON_IsNumber(x)) {
            free(d);
            return e3c_error_set(E3C_ERR_VALUE, "argument \"%s\" must be a list of numbers", name);
        }
        d[i++] = x->valuedouble;
    }
    *out = d;
    *n = k;
    return E3C_OK;
}

e3c_status ctor_tristate(const cJSON *v, const char *name, int *out)
{
    if (!v || cJSON_IsNull(v)) {
        *out = -1;
        return E3C_OK;
    }
    if (!cJSON_IsBool(v))
        return e3c_error_set(E3C_ERR_VALUE, "argument \"%s\" must be true, false or null", name);
    *out = cJSON_IsTrue(v);
    return E3C_OK;
}

static e3c_status optional_string(const cJSON *kwargs, const char *name, const char **out)
{
    const cJSON *v = kwargs ? cJSON_GetObjectItemCaseSensitive(kwargs, name) : NULL;
    if (!v || cJSON_IsNull(v))
        return E3C_OK;
    if (!cJSON_IsString(v))
        return e3c_error_set(E3C_ERR_VALUE, "argument \"%s\" must be a string", name);
    *out = v->valuestring;
    return E3C_OK;
}

e3c_status ctor_tp_options(const cJSON *kwargs, e3c_tp_options *o, double **vars)
{
    vars[0] = vars[1] = vars[2] = NULL;
    const cJSON *k = kwargs;
    e3c_status st = optional_string(k, "irrep_normalization", &o->irrep_normalization);
    if (!st)
        st = optional_string(k, "normalization", &o->irrep_normalization); /* e3nn's deprecated alias */
    if (!st)
        st = optional_string(k, "path_normalization", &o->path_normalization);
    if (!st)
        st = ctor_doubles(ctor_arg(NULL, k, -1, "in1_var"), "in1_var", &vars[0], &o->n_in1_var);
    if (!st)
        st = ctor_doubles(ctor_arg(NULL, k, -1, "in2_var"), "in2_var", &vars[1], &o->n_in2_var);
    if (!st)
        st = ctor_doubles(ctor_arg(NULL, k, -1, "out_var"), "out_var", &vars[2], &o->n_out_var);
    if (!st)
        st = ctor_tristate(ctor_arg(NULL, k, -1, "internal_weights"), "internal_weights", &o->internal_weights);
    if (!st)
        st = ctor_tristate(ctor_arg(NULL, k, -1, "shared_weights"), "shared_weights", &o->shared_weights);
    int right = 0;
    if (!st)
        st = ctor_tristate(ctor_arg(NULL, k, -1, "compile_right"), "compile_right", &right);
    if (!st && right == 1)
        st = e3c_error_set(E3C_ERR_VALUE, "compile_right (the `right` method) is not supported by e3check");
    o->in1_var = vars[0], o->in2_var = vars[1], o->out_var = vars[2];
    return st;
}

e3c_status ctor_string_list(const cJSON *v, const char *name, const char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!v || cJSON_IsNull(v))
        return E3C_OK;
    if (cJSON_IsString(v)) { /* one irrep string, e.g. "0e" */
        *out = malloc(sizeof **out);
        if (!*out)
            return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        (*out)[0] = v->valuestring;
        *n = 1;
        return E3C_OK;
    }
    if (!cJSON_IsArray(v))
        return e3c_error_set(E3C_ERR_VALUE, "%s (=%s) must be an iterable of e3nn.o3.Irrep", name, "a non-list");
    size_t k = (size_t)cJSON_GetArraySize(v);
    *out = malloc((k ? k : 1) * sizeof **out);
    if (!*out)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    const cJSON *x;
    cJSON_ArrayForEach(x, v)
    {
        if (!cJSON_IsString(x)) {
            free(*out);
            *out = NULL;
            return e3c_error_set(E3C_ERR_VALUE, "%s must be an iterable of e3nn.o3.Irrep", name);
        }
        (*out)[(*n)++] = x->valuestring;
    }
    return E3C_OK;
}
