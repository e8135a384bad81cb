/* The golden check: a subject on a fixture's fixed inputs against the outputs recorded for
 * them; and the fixed inputs themselves (nested lists of numbers as tensors), which the
 * equivariance check also rotates. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"

/* A nested list of numbers as a tensor of `dtype`. */
static e3c_status tensor_of_json(const cJSON *v, e3c_dtype dtype, e3c_tensor **out)
{
    int64_t shape[E3C_MAX_DIMS];
    int nd = 0;
    for (const cJSON *c = v; cJSON_IsArray(c); c = c->child) {
        if (nd == E3C_MAX_DIMS)
            return e3c_error_set(E3C_ERR_VALUE, "an input has more than %d dimensions", E3C_MAX_DIMS);
        shape[nd++] = cJSON_GetArraySize(c);
        if (!c->child)
            break;
    }
    size_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= (size_t)shape[i];
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (!d)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    size_t k = 0;
    e3c_status st = E3C_OK;
    /* walk the leaves in order, checking the nesting is rectangular */
    const cJSON *stack[E3C_MAX_DIMS + 1];
    int depth = 0;
    stack[0] = v;
    const cJSON *cur = nd ? v->child : v;
    if (!nd) {
        if (!cJSON_IsNumber(v))
            st = e3c_error_set(E3C_ERR_VALUE, "inputs must be numbers or nested lists of numbers");
        else
            d[k++] = v->valuedouble;
    }
    while (!st && nd && depth >= 0) {
        if (!cur) {
            if (--depth < 0)
                break;
            cur = stack[depth + 1]->next;
            continue;
        }
        if (depth + 1 < nd) {
            if (!cJSON_IsArray(cur) || cJSON_GetArraySize(cur) != shape[depth + 1]) {
                st = e3c_error_set(E3C_ERR_VALUE, "inputs must be rectangular nested lists of numbers");
                break;
            }
            stack[++depth] = cur;
            cur = cur->child;
            continue;
        }
        if (!cJSON_IsNumber(cur) || k >= n) {
            st = e3c_error_set(E3C_ERR_VALUE, "inputs must be rectangular nested lists of numbers");
            break;
        }
        d[k++] = cur->valuedouble;
        cur = cur->next;
    }
    if (!st && k != n)
        st = e3c_error_set(E3C_ERR_VALUE, "inputs must be rectangular nested lists of numbers");
    e3c_tensor *t64 = NULL;
    if (!st)
        st = e3c_tensor_from_data(&t64, d, E3C_FLOAT64, shape, nd);
    if (!st)
        st = e3c_tensor_to(out, t64, dtype);
    e3c_tensor_free(t64);
    free(d);
    return st;
}

/* The fixture's "inputs" as tensors of `dtype` (NULL when absent). */

e3c_status check_fixed_inputs(e3c_values **out, const cJSON *inputs, e3c_dtype dtype)
{
    *out = NULL;
    if (!inputs)
        return E3C_OK;
    if (!cJSON_IsArray(inputs))
        return e3c_error_set(E3C_ERR_VALUE, "field \"inputs\" must be a list of nested lists");
    e3c_status st = e3c_values_new(out);
    for (const cJSON *x = inputs->child; !st && x; x = x->next) {
        e3c_tensor *t = NULL;
        st = tensor_of_json(x, dtype, &t);
        if (!st)
            st = e3c_values_push(*out, t);
        e3c_tensor_free(t);
    }
    if (st) {
        e3c_values_free(*out);
        *out = NULL;
    }
    return st;
}

/* Compare output `o` with its expected value: *err the worst error relative to
 * max(1, |expected|), `at` where it is (output, index, both values); `why` set when the
 * shapes differ or a value is not finite where a finite one is expected. */
static e3c_status golden_output(const cJSON *want, const e3c_tensor *got, size_t o, double *err, char *why, size_t cap,
                                char *at, size_t at_cap)
{
    e3c_tensor *expected = NULL;
    double *g = NULL, *e = NULL;
    *err = 0;
    why[0] = '\0';
    e3c_status st = want ? tensor_of_json(want, E3C_FLOAT64, &expected)
                         : e3c_error_set(E3C_ERR_VALUE, "no expected value for output %zu", o);
    int64_t shape_got[E3C_MAX_DIMS], shape_exp[E3C_MAX_DIMS];
    int nd_got = 0, nd_exp = 0;
    if (!st)
        st = e3c_tensor_shape(shape_got, E3C_MAX_DIMS, &nd_got, got);
    if (!st)
        st = e3c_tensor_shape(shape_exp, E3C_MAX_DIMS, &nd_exp, expected);
    if (!st && (nd_got != nd_exp || memcmp(shape_got, shape_exp, (size_t)nd_got * sizeof *shape_got))) {
        char a[96], b[96];
        format_shape(got, a, sizeof a), format_shape(expected, b, sizeof b);
        snprintf(why, cap, "output %zu has shape %s, expected %s", o, a, b);
        *err = NAN;
        e3c_tensor_free(expected);
        return E3C_OK;
    }
    size_t n = st ? 0 : (size_t)e3c_tensor_numel(expected);
    if (!st && (!(g = malloc((n ? n : 1) * sizeof *g)) || !(e = malloc((n ? n : 1) * sizeof *e))))
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory comparing output %zu (%zu values)", o, n);
    if (!st)
        st = e3c_tensor_to_doubles(g, n, got);
    if (!st)
        st = e3c_tensor_to_doubles(e, n, expected);
    double scale = 1, worst = 0;
    size_t worst_i = 0;
    for (size_t i = 0; !st && i < n; i++)
        if (isfinite(e[i]) && fabs(e[i]) > scale)
            scale = fabs(e[i]);
    for (size_t i = 0; !st && i < n; i++) {
        if (isfinite(g[i]) && isfinite(e[i])) {
            if (fabs(g[i] - e[i]) > worst)
                worst_i = i;
            worst = worse_error(worst, fabs(g[i] - e[i]));
        } else if (!(g[i] == e[i]) && !why[0]) { /* equal infinities match; NaN matches nothing */
            char index[128], value[32];
            format_index(got, (int64_t)i, index, sizeof index);
            snprintf(value, sizeof value, isnan(g[i]) ? "nan" : "%.6g", g[i]); /* never "-nan" */
            snprintf(why, cap, "output %zu at index %s is %s where %.6g is expected", o, index, value, e[i]);
            worst = NAN;
        }
    }
    *err = worse_error(worst / scale, why[0] ? NAN : 0);
    if (!st && n) {
        char index[128];
        format_index(got, (int64_t)worst_i, index, sizeof index);
        snprintf(at, at_cap,
                 "output %zu at index %s is %.17g where %.17g is expected (relative error %.3e: the "
                 "difference divided by max(1, largest |expected|) = %.6g)",
                 o, index, g[worst_i], e[worst_i], *err, scale);
    }
    free(g), free(e);
    e3c_tensor_free(expected);
    return st;
}

void check_golden(const e3c_subject *s, const cJSON *inputs, const cJSON *want, double atol, e3c_check_result *out)
{
    if (!(atol > 0))
        atol = s->dtype == E3C_FLOAT64 ? 1e-12 : 1e-6;
    if (!cJSON_IsArray(inputs) || !want) {
        result_set(out, E3C_ERRORED, "the golden check needs \"inputs\" and checks.golden.output");
        return;
    }
    e3c_values *in = NULL, *got = NULL;
    e3c_status st = check_fixed_inputs(&in, inputs, s->dtype);
    if (!st && (st = subject_call(s, in, &got)))
        e3c_error_prefix("the module raised");
    if (st) {
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
        e3c_values_free(in), e3c_values_free(got);
        return;
    }
    /* one output: `want` is its nested list; several: a list of them */
    int many = e3c_values_count(got) > 1;
    double worst = 0;
    char why[512] = "", at[512] = "", worst_at[512] = "";
    for (size_t o = 0; !st && !why[0] && o < e3c_values_count(got); o++) {
        double err = 0;
        st = golden_output(many ? cJSON_GetArrayItem(want, (int)o) : want, e3c_values_get(got, o), o, &err, why,
                           sizeof why, at, sizeof at);
        if (o == 0 || err > worst)
            snprintf(worst_at, sizeof worst_at, "%s", at);
        worst = worse_error(worst, err);
    }
    json_add_error(out->details, "max_error", worst);
    cJSON_AddNumberToObject(out->details, "atol", atol);
    if (st)
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    else if (why[0])
        result_set(out, E3C_FAILED, "%s", why);
    else if (!(worst <= atol))
        result_set(out, E3C_FAILED, "differs from the golden values: %s > atol %.1e", worst_at, atol);
    else
        result_set(out, E3C_PASSED, "matches the golden values: max error %.3e <= %.1e", worst, atol);
    e3c_values_free(in), e3c_values_free(got);
}
