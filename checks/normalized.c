/* The normalized check: e3nn's assert_normalized (e3nn.util.test) in C. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "e3check/state.h"

/* A copy of the subject whose weights may be redrawn, and those weights. */
typedef struct norm_subject {
    e3c_subject s;
    e3c_module *module;
    e3c_jit_module *script;
    e3c_strings names;   /* every parameter's state-dict name */
    e3c_values *params;  /* the same, as tensors of the copy */
    e3c_values *weights; /* the ones to redraw */
    cJSON *chosen;       /* their names */
} norm_subject;

static void norm_subject_free(norm_subject *c)
{
    e3c_module_free(c->module);
    e3c_jit_free(c->script);
    e3c_strings_free(&c->names);
    e3c_values_free(c->params);
    e3c_values_free(c->weights);
    cJSON_Delete(c->chosen);
}

/* Copy the subject and pick the weights to redraw: all parameters, or those named. */
static e3c_status copy_subject(norm_subject *c, const e3c_subject *s, const e3c_normalized_options *opt)
{
    memset(c, 0, sizeof *c);
    c->s = *s;
    e3c_status st = s->module ? e3c_module_clone(&c->module, s->module) : e3c_jit_clone(&c->script, s->script);
    c->s.module = c->module;
    c->s.script = c->script;
    if (!st)
        st = c->module ? e3c_module_named_tensors(&c->names, &c->params, c->module, E3C_STATE_PARAMETERS)
                       : e3c_jit_named_tensors(&c->names, &c->params, c->script, E3C_STATE_PARAMETERS);
    if (!st)
        st = e3c_values_new(&c->weights);
    if (!st && !(c->chosen = cJSON_CreateArray()))
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < c->names.count; i++) {
        int wanted = !opt->weights;
        for (size_t k = 0; !wanted && k < opt->n_weights; k++)
            wanted = !strcmp(opt->weights[k], c->names.items[i]);
        if (wanted)
            st = e3c_values_push(c->weights, e3c_values_get(c->params, i));
        if (wanted && !st)
            cJSON_AddItemToArray(c->chosen, cJSON_CreateString(c->names.items[i]));
    }
    for (size_t k = 0; !st && opt->weights && k < opt->n_weights; k++) {
        int found = 0;
        for (size_t i = 0; i < c->names.count; i++)
            found |= !strcmp(opt->weights[k], c->names.items[i]);
        if (!found)
            st = e3c_error_set(E3C_ERR_NOT_FOUND, "%s has no parameter \"%s\" (%zu parameters%s%s)", subject_name(s),
                               opt->weights[k], c->names.count, c->names.count ? ", the first " : "",
                               c->names.count ? c->names.items[0] : "");
    }
    return st;
}

/* Divide each irrep's columns of x by sqrt(2l+1) (e3nn's "norm" inputs). */
static e3c_status norm_inputs(e3c_tensor **x, const e3c_irreps *irreps, e3c_dtype dtype)
{
    int64_t dim = e3c_irreps_dim(irreps), col = 0;
    double *div = malloc((size_t)(dim ? dim : 1) * sizeof *div);
    if (!div)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < irreps->len; i++)
        for (int64_t k = 0; k < irreps->items[i].mul * e3c_irrep_dim(irreps->items[i].ir); k++)
            div[col++] = sqrt((double)e3c_irrep_dim(irreps->items[i].ir));
    e3c_tensor *d64 = NULL, *d = NULL, *y = NULL;
    e3c_status st = e3c_tensor_from_data(&d64, div, E3C_FLOAT64, &dim, 1);
    if (!st)
        st = e3c_tensor_to(&d, d64, dtype);
    if (!st)
        st = e3c_tensor_binary(&y, *x, d, E3C_OP_DIV);
    if (!st) {
        e3c_tensor_free(*x);
        *x = y;
    }
    e3c_tensor_free(d64), e3c_tensor_free(d), free(div);
    return st;
}

/* The running means of the squared outputs, one array per declared output. */
typedef struct moments {
    size_t n_out;
    int64_t *dims;
    double **mean;
    double n_samples;
} moments;

static void moments_free(moments *m)
{
    for (size_t o = 0; o < m->n_out; o++)
        free(m->mean[o]);
    free(m->mean), free(m->dims);
}

/* One draw: new weights, new inputs, the forward, and the running means updated as e3nn
 * does (E += (sum x^2 - n E) / (n + n_seen)). */
static e3c_status one_draw(norm_subject *c, const e3c_normalized_options *opt, int norm, e3c_generator *g, moments *mo)
{
    e3c_values *in = NULL, *got = NULL;
    e3c_status st = E3C_OK;
    for (size_t i = 0; !st && i < e3c_values_count(c->weights); i++)
        st = e3c_tensor_normal_((e3c_tensor *)e3c_values_get(c->weights, i), g);
    if (!st)
        st = subject_random_inputs(&c->s, g, opt->n_input, &in);
    for (size_t i = 0; !st && norm && i < c->s.n_in; i++) {
        if (c->s.irreps_in[i].kind != E3C_ARG_IRREPS)
            continue;
        e3c_tensor *x = NULL;
        st = e3c_tensor_ref(&x, e3c_values_get(in, i));
        if (!st)
            st = norm_inputs(&x, &c->s.irreps_in[i].irreps, c->s.dtype);
        /* rebuild the list with the divided input in place i */
        e3c_values *next = NULL;
        if (!st)
            st = e3c_values_new(&next);
        for (size_t k = 0; !st && k < e3c_values_count(in); k++)
            st = e3c_values_push(next, k == i ? x : e3c_values_get(in, k));
        e3c_tensor_free(x);
        e3c_values_free(in);
        in = next;
    }
    if (!st && (st = subject_call(&c->s, in, &got)))
        e3c_error_prefix("%s raised", subject_name(&c->s));
    if (!st && e3c_values_count(got) != mo->n_out)
        st = e3c_error_set(E3C_ERR_VALUE, "%s returned %zu outputs, %zu declared", subject_name(&c->s),
                           e3c_values_count(got), mo->n_out);
    for (size_t o = 0; !st && o < mo->n_out; o++) {
        const e3c_tensor *y = e3c_values_get(got, o);
        if (!mo->mean[o])
            continue; /* not an irreps output */
        if (e3c_tensor_ndim(y) != 2 || e3c_tensor_size(y, 0) != opt->n_input || e3c_tensor_size(y, 1) != mo->dims[o]) {
            char buf[128];
            e3c_tensor_describe(buf, sizeof buf, y);
            st = e3c_error_set(E3C_ERR_VALUE, "output %zu is %s, expected [%d, %lld]", o, buf, opt->n_input,
                               (long long)mo->dims[o]);
            break;
        }
        e3c_tensor *sq = NULL, *sum = NULL;
        double *s = malloc((size_t)(mo->dims[o] ? mo->dims[o] : 1) * sizeof *s);
        st = s ? e3c_tensor_unary(&sq, y, E3C_OP_SQUARE) : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        if (!st)
            st = e3c_tensor_sum(&sum, sq, 0, 0);
        if (!st)
            st = e3c_tensor_to_doubles(s, (size_t)mo->dims[o], sum);
        for (int64_t k = 0; !st && k < mo->dims[o]; k++)
            mo->mean[o][k] += (s[k] - opt->n_input * mo->mean[o][k]) / (opt->n_input + mo->n_samples);
        e3c_tensor_free(sq), e3c_tensor_free(sum), free(s);
    }
    mo->n_samples += opt->n_input;
    e3c_values_free(in), e3c_values_free(got);
    return st;
}

/* Judge the means: per output irrep its worst component, e3nn's message for the first
 * irrep out of tolerance. Returns 1 when every component is within atol. */
static int judge(const e3c_subject *s, const moments *mo, int norm, double atol, e3c_check_result *out)
{
    cJSON *list = cJSON_AddArrayToObject(out->details, "irreps");
    int ok = 1;
    double worst_all = 0;
    for (size_t o = 0; o < mo->n_out; o++) {
        if (!mo->mean[o])
            continue;
        const e3c_irreps *ir = &s->irreps_out[o].irreps;
        int64_t col = 0;
        for (size_t i = 0; i < ir->len; i++) {
            int64_t d = e3c_irrep_dim(ir->items[i].ir), width = ir->items[i].mul * d, at = -1;
            double target = norm ? 1.0 / sqrt((double)d) : 1.0, worst = 0;
            for (int64_t k = 0; k < width; k++) {
                double e = fabs(mo->mean[o][col + k] - target);
                if (at < 0 || e > worst || isnan(e))
                    worst = e, at = k;
                if (isnan(e))
                    break;
            }
            char name[64], irs[32];
            e3c_irrep_format(irs, sizeof irs, ir->items[i].ir);
            snprintf(name, sizeof name, "%lldx%s", (long long)ir->items[i].mul, irs);
            if (width) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddNumberToObject(e, "output", (double)o);
                cJSON_AddNumberToObject(e, "index", (double)i);
                cJSON_AddStringToObject(e, "irrep", name);
                cJSON_AddNumberToObject(e, "target", target);
                cJSON_AddNumberToObject(e, "worst_component", (double)(col + at));
                cJSON_AddNumberToObject(e, "mean_square", mo->mean[o][col + at]);
                if (isnan(worst)) /* JSON has no NaN */
                    cJSON_AddNullToObject(e, "max_error");
                else
                    cJSON_AddNumberToObject(e, "max_error", worst);
                cJSON_AddItemToArray(list, e);
                if (ok && !(worst <= atol)) {
                    ok = 0;
                    result_set(out, E3C_FAILED,
                               "< x_i^2 > !~= %f for output irrep #%zu, %s.Max componentwise error: %f", target, i,
                               name, worst);
                }
                worst_all = isnan(worst) || worst > worst_all ? worst : worst_all;
            }
            col += width;
        }
    }
    if (ok)
        result_set(out, E3C_PASSED, "every output component's mean square is within %g of its target (worst error %f)",
                   atol, worst_all);
    return ok;
}

static e3c_status moments_init(moments *mo, const e3c_subject *s)
{
    memset(mo, 0, sizeof *mo);
    mo->n_out = s->n_out;
    mo->dims = calloc(s->n_out + 1, sizeof *mo->dims);
    mo->mean = calloc(s->n_out + 1, sizeof *mo->mean);
    if (!mo->dims || !mo->mean)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (size_t o = 0; o < s->n_out; o++) {
        if (s->irreps_out[o].kind != E3C_ARG_IRREPS)
            continue; /* e3nn skips cartesian_points and None outputs */
        mo->dims[o] = e3c_irreps_dim(&s->irreps_out[o].irreps);
        if (!(mo->mean[o] = calloc((size_t)mo->dims[o] + 1, sizeof **mo->mean)))
            return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    }
    return E3C_OK;
}

/* e3nn checks nothing when every input, or every output, has no irreps. */
static int nothing_to_check(const e3c_subject *s)
{
    int in_any = 0, out_any = 0;
    for (size_t i = 0; i < s->n_in; i++)
        in_any |= s->irreps_in[i].kind != E3C_ARG_IRREPS || e3c_irreps_num_irreps(&s->irreps_in[i].irreps) > 0;
    for (size_t i = 0; i < s->n_out; i++)
        out_any |= s->irreps_out[i].kind != E3C_ARG_IRREPS || e3c_irreps_num_irreps(&s->irreps_out[i].irreps) > 0;
    return !in_any || !out_any;
}

static void add_options(cJSON *d, const e3c_normalized_options *opt, int n_weight, norm_subject *c)
{
    cJSON_AddStringToObject(d, "normalization", opt->normalization ? opt->normalization : "component");
    cJSON_AddNumberToObject(d, "n_input", opt->n_input);
    cJSON_AddNumberToObject(d, "n_weight", n_weight);
    cJSON_AddNumberToObject(d, "atol", opt->atol);
    if (c->chosen) {
        cJSON_AddItemToObject(d, "weights", c->chosen);
        c->chosen = NULL;
    }
}

e3c_status e3c_check_normalized(e3c_check_result *out, const e3c_subject *s, const e3c_normalized_options *opt)
{
    e3c_normalized_options defaults = E3C_NORMALIZED_OPTIONS_INIT;
    opt = opt ? opt : &defaults;
    double start;
    e3c_status st = check_begin("normalized", s, out, opt->seed, &start);
    if (st)
        return st;
    const char *nz = opt->normalization ? opt->normalization : "component";
    int norm = !strcmp(nz, "norm");
    norm_subject c;
    memset(&c, 0, sizeof c);
    moments mo;
    memset(&mo, 0, sizeof mo);
    e3c_generator *g = NULL;
    int n_weight = opt->n_weight;
    if (!norm && strcmp(nz, "component")) {
        result_set(out, E3C_ERRORED, "invalid normalization `%s`", nz);
    } else if (opt->n_input < 1 || n_weight < 0 || !(opt->atol >= 0)) {
        result_set(out, E3C_ERRORED, "n_input must be >= 1, n_weight >= 0 and atol >= 0 (got %d, %d, %g)", opt->n_input,
                   n_weight, opt->atol);
    } else if (nothing_to_check(s)) {
        result_set(out, E3C_SKIPPED, "every input or every output has no irreps: nothing to check");
    } else if ((st = copy_subject(&c, s, opt)) || (st = moments_init(&mo, s)) ||
               (st = opt->generator ? E3C_OK : e3c_generator_new(&g, opt->seed))) {
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    } else if (!e3c_values_count(c.weights) && n_weight > 1) {
        result_set(out, E3C_ERRORED, "Without weights to re-init, n_weight must be 1 or None (got %d)", n_weight);
    } else {
        n_weight = !e3c_values_count(c.weights) ? 1 : n_weight ? n_weight : 20;
        for (int k = 0; !st && k < n_weight; k++)
            st = one_draw(&c, opt, norm, opt->generator ? opt->generator : g, &mo);
        if (st)
            result_set(out, E3C_ERRORED, "%s", e3c_error_last());
        else
            judge(s, &mo, norm, opt->atol, out);
    }
    add_options(out->details, opt, n_weight, &c);
    moments_free(&mo);
    norm_subject_free(&c);
    e3c_generator_free(g);
    out->duration_s = now_s() - start;
    return E3C_OK;
}
