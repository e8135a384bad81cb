/* Running a subject (a module or a TorchScript module) and making its random inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check_internal.h"

e3c_status subject_call(const e3c_subject *s, const e3c_values *in, e3c_values **out)
{
    return s->module ? e3c_module_forward(out, s->module, in) : e3c_jit_run(out, s->script, NULL, in);
}

int64_t spec_width(const e3c_arg_spec *spec)
{
    if (spec->kind == E3C_ARG_IRREPS)
        return e3c_irreps_dim(&spec->irreps);
    return spec->kind == E3C_ARG_CARTESIAN_POINTS ? 3 : -1;
}

const char *subject_name(const e3c_subject *s)
{
    if (s->path)
        return s->path;
    return s->module ? e3c_module_class_of(s->module)->name : "module";
}

e3c_status subject_random_inputs(const e3c_subject *s, e3c_generator *g, int64_t batch, e3c_values **out)
{
    return e3c_arg_specs_randn(out, s->irreps_in, s->n_in, g, batch, s->dtype, SUBJECT_MAX_INPUT);
}

e3c_status tensor_first_nonfinite(const e3c_tensor *t, int *found, int64_t *index, double *value)
{
    int64_t n = e3c_tensor_numel(t);
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    *found = 0;
    if (!v)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory reading %lld output values", (long long)n);
    e3c_status st = e3c_tensor_to_doubles(v, (size_t)n, t);
    for (int64_t i = 0; !st && i < n && !*found; i++)
        if (!isfinite(v[i])) {
            *found = 1;
            *index = i;
            *value = v[i];
        }
    free(v);
    return st;
}

void format_list(const int64_t *v, int n, char *buf, size_t cap)
{
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < n && len < cap; d++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", d ? ", " : "", (long long)v[d]);
    if (len < cap)
        snprintf(buf + len, cap - len, "]");
}

void format_index(const e3c_tensor *t, int64_t flat, char *buf, size_t cap)
{
    int64_t shape[E3C_MAX_DIMS], idx[E3C_MAX_DIMS];
    int nd = 0;
    if (e3c_tensor_shape(shape, E3C_MAX_DIMS, &nd, t))
        nd = 0;
    for (int d = nd - 1; d >= 0; d--) {
        idx[d] = shape[d] ? flat % shape[d] : 0;
        flat = shape[d] ? flat / shape[d] : 0;
    }
    format_list(idx, nd, buf, cap);
}

void format_shape(const e3c_tensor *t, char *buf, size_t cap)
{
    int64_t shape[E3C_MAX_DIMS];
    int nd = 0;
    if (e3c_tensor_shape(shape, E3C_MAX_DIMS, &nd, t))
        nd = 0;
    format_list(shape, nd, buf, cap);
}
