/* Running a subject (a module or a TorchScript module) and making its random inputs. */
#include "check_internal.h"

e3c_status subject_call(const e3c_subject *s, const e3c_values *in, e3c_values **out)
{
    return s->module ? e3c_module_forward(s->module, in, out) : e3c_jit_run(out, s->script, NULL, in);
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
    e3c_status st = e3c_values_new(out);
    for (size_t i = 0; !st && i < s->n_in; i++) {
        const e3c_arg_spec *spec = &s->irreps_in[i];
        e3c_tensor *x = NULL;
        if (spec->kind == E3C_ARG_IRREPS) {
            int64_t size[2] = {batch, -1};
            double numbers = (double)batch * (double)e3c_irreps_dim(&spec->irreps);
            if (numbers > SUBJECT_MAX_INPUT)
                st = e3c_error_set(E3C_ERR_VALUE,
                                   "random input %zu would hold %lld x %lld = %.4g numbers, more than the %lld an input "
                                   "may hold",
                                   i, (long long)batch, (long long)e3c_irreps_dim(&spec->irreps), numbers,
                                   (long long)SUBJECT_MAX_INPUT);
            else
                st = e3c_irreps_randn(&x, &spec->irreps, g, size, 2, E3C_NORM_COMPONENT, s->dtype);
        } else if (spec->kind == E3C_ARG_CARTESIAN_POINTS) {
            int64_t size[2] = {batch, 3};
            st = e3c_randn(&x, g, s->dtype, size, 2);
        } else {
            st = e3c_error_set(E3C_ERR_VALUE,
                               "random inputs cannot be generated for input %zu declared none; declare its irreps", i);
        }
        if (!st)
            st = e3c_values_push(*out, x);
        e3c_tensor_free(x);
    }
    if (st) {
        e3c_values_free(*out);
        *out = NULL;
    }
    return st;
}
