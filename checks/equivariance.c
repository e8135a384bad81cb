/* e3nn's equivariance_error / assert_equivariant, with per-output and per-irrep-block
 * errors and the worst rotation and translation of each case. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "e3check/o3.h"

void e3c_format_equivariance_case(char *buf, size_t cap, int parity_k, int translate, double max_error, int argmax)
{
    snprintf(buf, cap, "(parity_k=%d, did_translate=%s) -> max error=%.3e in argument %d", parity_k,
             translate ? "True" : "False", max_error, argmax);
}

/* e3nn's x @ D(R)^T for an Irreps, applied block by block (D is block diagonal): each
 * entry (mul, l) as (..., mul, 2l+1) @ D_l^T, times p for an improper R. */
static e3c_status transform_irreps(const e3c_irreps *ir, const e3c_tensor *x64, const double R[9], e3c_tensor **out)
{
    double det =
        R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) + R[2] * (R[3] * R[7] - R[4] * R[6]);
    double proper[9];
    for (int i = 0; i < 9; i++)
        proper[i] = det < 0 ? -R[i] : R[i];
    e3c_values *parts = NULL;
    e3c_status st = e3c_values_new(&parts);
    int64_t start = 0;
    for (size_t e = 0; !st && e < ir->len; e++) {
        const e3c_mulir *m = &ir->items[e];
        int64_t d = e3c_irrep_dim(m->ir), w = m->mul * d, shape[2] = {m->mul, d};
        if (w == 0)
            continue;
        double *D = malloc((size_t)(d * d) * sizeof *D);
        e3c_tensor *slice = NULL, *blocks = NULL, *rot = NULL, *flat = NULL;
        st = D ? e3c_wigner_D_matrix(D, m->ir.l, proper) : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        if (!st && det < 0 && m->ir.p == -1)
            for (int64_t i = 0; i < d * d; i++)
                D[i] = -D[i];
        if (!st)
            st = e3c_tensor_narrow(&slice, x64, -1, start, w);
        if (!st)
            st = e3c_tensor_unflatten_last(&blocks, slice, shape, 2);
        if (!st)
            st = check_times_transposed(blocks, D, d, &rot);
        if (!st)
            st = e3c_tensor_flatten(&flat, rot, -2, -1);
        if (!st)
            st = e3c_values_push(parts, flat);
        free(D);
        e3c_tensor_free(slice), e3c_tensor_free(blocks), e3c_tensor_free(rot), e3c_tensor_free(flat);
        start += w;
    }
    if (!st)
        st = e3c_values_count(parts) ? e3c_tensor_cat(out, parts, -1) : e3c_tensor_ref(out, x64);
    e3c_values_free(parts);
    return st;
}

/* x (any float dtype) transformed as e3nn's _transform, in float64: irreps by D(R)^T on
 * the right, points by R^T then + t, none cloned. *out is float64. */
static e3c_status transform_one(const e3c_arg_spec *spec, const e3c_tensor *x, const double R[9], const double t[3],
                                e3c_tensor **out)
{
    e3c_tensor *x64 = NULL, *y = NULL;
    e3c_status st = e3c_tensor_to(&x64, x, E3C_FLOAT64);
    if (st || spec->kind == E3C_ARG_NONE) {
        *out = x64;
        return st;
    }
    int64_t dim = spec_width(spec);
    if (e3c_tensor_size(x64, -1) != dim) {
        e3c_tensor_free(x64);
        return e3c_error_set(E3C_ERR_VALUE, "has width %lld but its declared %s has dimension %lld",
                             (long long)e3c_tensor_size(x, -1),
                             spec->kind == E3C_ARG_IRREPS ? "irreps" : "cartesian_points", (long long)dim);
    }
    if (spec->kind == E3C_ARG_IRREPS)
        st = transform_irreps(&spec->irreps, x64, R, &y);
    else
        st = check_times_transposed(x64, R, 3, &y);
    if (!st && spec->kind == E3C_ARG_CARTESIAN_POINTS && t) {
        e3c_tensor *tt = NULL, *moved = NULL;
        int64_t three = 3;
        st = e3c_tensor_from_data(&tt, t, E3C_FLOAT64, &three, 1);
        if (!st)
            st = e3c_tensor_binary(&moved, y, tt, E3C_OP_ADD);
        e3c_tensor_free(tt);
        e3c_tensor_free(y);
        y = moved;
    }
    e3c_tensor_free(x64);
    if (st) {
        e3c_tensor_free(y);
        return st;
    }
    *out = y;
    return E3C_OK;
}

/* Transform a list; inputs are cast back to their own dtype, outputs stay float64. */
static e3c_status transform_all(const e3c_arg_spec *specs, size_t n, const e3c_values *xs, const double R[9],
                                const double t[3], int cast_back, const char *what, e3c_values **out)
{
    e3c_status st = e3c_values_new(out);
    for (size_t i = 0; !st && i < n; i++) {
        const e3c_tensor *x = e3c_values_get(xs, i);
        e3c_tensor *y = NULL, *c = NULL;
        e3c_dtype d;
        st = transform_one(&specs[i], x, R, t, &y);
        if (st) {
            st = e3c_error_prefix("%s %zu", what, i);
            break;
        }
        st = e3c_tensor_dtype(&d, x);
        if (!st)
            st = cast_back && d != E3C_FLOAT64 ? e3c_tensor_to(&c, y, d) : e3c_tensor_ref(&c, y);
        if (!st)
            st = e3c_values_push(*out, c);
        e3c_tensor_free(y);
        e3c_tensor_free(c);
    }
    if (st) {
        e3c_values_free(*out);
        *out = NULL;
    }
    return st;
}

typedef struct case_stats {
    int parity_k, translate;
    double *max_out;  /* per output */
    double **max_blk; /* per output, per irreps entry */
    double worst;     /* over outputs */
    double worst_R[9], worst_t[3];
} case_stats;

/* Max |a - b| overall and per irreps entry of spec (a, b float64 of equal shape). */
static e3c_status output_errors(const e3c_arg_spec *spec, const e3c_tensor *a, const e3c_tensor *b, double *total,
                                double *blocks)
{
    e3c_tensor *diff = NULL;
    e3c_status st = e3c_tensor_binary(&diff, a, b, E3C_OP_SUB);
    if (!st)
        st = e3c_tensor_max_abs(total, diff);
    if (!st && spec->kind == E3C_ARG_IRREPS) {
        int64_t start = 0;
        for (size_t k = 0; !st && k < spec->irreps.len; k++) {
            int64_t w = spec->irreps.items[k].mul * e3c_irrep_dim(spec->irreps.items[k].ir);
            e3c_tensor *part = NULL;
            st = e3c_tensor_narrow(&part, diff, -1, start, w);
            if (!st)
                st = e3c_tensor_max_abs(&blocks[k], part);
            e3c_tensor_free(part);
            start += w;
        }
    }
    e3c_tensor_free(diff);
    return st;
}

/* One rotation of one case: update its statistics. */
static e3c_status one_trial(const e3c_subject *s, const e3c_values *args, const double R[9], const double t[3],
                            case_stats *cs)
{
    e3c_values *xin = NULL, *y1 = NULL, *y2 = NULL, *y2t = NULL;
    e3c_status st = transform_all(s->irreps_in, s->n_in, args, R, t, 1, "input", &xin);
    if (!st && (st = subject_call(s, xin, &y1)))
        st = e3c_error_prefix("the module raised on rotated inputs");
    if (!st && (st = subject_call(s, args, &y2)))
        st = e3c_error_prefix("the module raised");
    if (!st && (e3c_values_count(y1) != s->n_out || e3c_values_count(y2) != s->n_out))
        st = e3c_error_set(E3C_ERR_VALUE, "the module returned %zu outputs but %zu irreps_out are declared",
                           e3c_values_count(y2), s->n_out);
    if (!st)
        st = transform_all(s->irreps_out, s->n_out, y2, R, t, 0, "output", &y2t);
    for (size_t i = 0; !st && i < s->n_out; i++) {
        e3c_tensor *a = NULL;
        double total = 0.0;
        st = e3c_tensor_to(&a, e3c_values_get(y1, i), E3C_FLOAT64);
        char sa[96] = "", sb[96] = "";
        if (!st) { /* the same shape, not only as many values: the difference would broadcast */
            format_shape(a, sa, sizeof sa);
            format_shape(e3c_values_get(y2t, i), sb, sizeof sb);
        }
        if (!st && strcmp(sa, sb))
            st = e3c_error_set(E3C_ERR_VALUE, "output %zu changed shape under rotation: %s instead of %s", i, sa, sb);
        double blocks[256] = {0};
        if (!st)
            st = output_errors(&s->irreps_out[i], a, e3c_values_get(y2t, i), &total, blocks);
        e3c_tensor_free(a);
        if (st)
            break;
        /* NaN is the worst error and stays, per output and per block alike */
        cs->max_out[i] = worse_error(cs->max_out[i], total);
        size_t nb = s->irreps_out[i].kind == E3C_ARG_IRREPS ? s->irreps_out[i].irreps.len : 0;
        for (size_t k = 0; k < nb && k < 256; k++)
            cs->max_blk[i][k] = worse_error(cs->max_blk[i][k], blocks[k]);
        if (!isnan(cs->worst) && !(total <= cs->worst)) {
            cs->worst = isnan(total) ? NAN : total;
            memcpy(cs->worst_R, R, sizeof cs->worst_R);
            memcpy(cs->worst_t, t, sizeof cs->worst_t);
        }
    }
    e3c_values_free(xin), e3c_values_free(y1), e3c_values_free(y2), e3c_values_free(y2t);
    return st;
}

static cJSON *case_json(const e3c_subject *s, const case_stats *cs, double tol)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "parity_k", cs->parity_k);
    cJSON_AddBoolToObject(c, "did_translate", cs->translate);
    json_add_error(c, "max_error", cs->worst == -INFINITY ? 0.0 : cs->worst); /* -inf: no output */
    cJSON_AddNumberToObject(c, "tolerance", tol);
    cJSON_AddBoolToObject(c, "passed", cs->worst <= tol);
    cJSON *outs = cJSON_AddArrayToObject(c, "outputs");
    for (size_t i = 0; i < s->n_out; i++) {
        cJSON *o = cJSON_CreateObject();
        json_add_error(o, "max_error", cs->max_out[i]);
        if (s->irreps_out[i].kind == E3C_ARG_IRREPS) {
            cJSON *blocks = cJSON_AddArrayToObject(o, "blocks");
            for (size_t k = 0; k < s->irreps_out[i].irreps.len && k < 256; k++) {
                cJSON *b = cJSON_CreateObject();
                char ir[16], text[48];
                e3c_irrep_format(ir, sizeof ir, s->irreps_out[i].irreps.items[k].ir);
                snprintf(text, sizeof text, "%lldx%s", (long long)s->irreps_out[i].irreps.items[k].mul, ir);
                cJSON_AddStringToObject(b, "irreps", text);
                json_add_error(b, "max_error", cs->max_blk[i][k]);
                cJSON_AddItemToArray(blocks, b);
            }
        }
        cJSON_AddItemToArray(outs, o);
    }
    cJSON *R = cJSON_AddArrayToObject(c, "worst_rotation");
    for (int i = 0; i < 3; i++) {
        cJSON *row = cJSON_CreateArray();
        for (int j = 0; j < 3; j++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber(cs->worst_R[3 * i + j]));
        cJSON_AddItemToArray(R, row);
    }
    cJSON *t = cJSON_AddArrayToObject(c, "worst_translation");
    for (int j = 0; j < 3; j++)
        cJSON_AddItemToArray(t, cJSON_CreateNumber(cs->worst_t[j]));
    return c;
}

/* The index of the largest error, the first NaN if any. */
static int argmax_of(const double *v, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n && !isnan(v[best]); i++)
        if (isnan(v[i]) || v[i] > v[best])
            best = i;
    return (int)best;
}

/* The cases, their draws and their errors; the verdict. */
static e3c_status run_cases(const e3c_subject *s, const e3c_equivariance_options *opt, e3c_generator *g,
                            const e3c_values *args, double tol, e3c_check_result *out)
{
    int has_points = 0;
    for (size_t i = 0; i < s->n_in; i++)
        has_points |= s->irreps_in[i].kind == E3C_ARG_CARTESIAN_POINTS;
    int n_par = opt->do_parity ? 2 : 1, n_tr = opt->do_translation && has_points ? 2 : 1, n_cases = n_par * n_tr;
    case_stats cases[4];
    memset(cases, 0, sizeof cases);
    e3c_status st = E3C_OK;
    for (int c = 0; c < n_cases; c++) {
        cases[c].parity_k = c / n_tr;
        cases[c].translate = c % n_tr;
        cases[c].worst = -INFINITY;
        cases[c].max_out = malloc((s->n_out ? s->n_out : 1) * sizeof(double));
        cases[c].max_blk = calloc(s->n_out ? s->n_out : 1, sizeof(double *));
        if (!cases[c].max_out || !cases[c].max_blk)
            st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < s->n_out; i++) {
            cases[c].max_out[i] = -INFINITY;
            cases[c].max_blk[i] = calloc(256, sizeof(double));
            if (!cases[c].max_blk[i])
                st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        }
    }
    for (int trial = 0; !st && trial < opt->ntrials; trial++)
        for (int c = 0; !st && c < n_cases; c++) {
            double R[9], t[3];
            st = check_draw_case(g, 0, cases[c].parity_k, cases[c].translate, R, t);
            if (!st)
                st = one_trial(s, args, R, t, &cases[c]);
        }
    if (st) {
        result_set(out, E3C_ERRORED, "%s: %s", subject_name(s), e3c_error_last());
    } else {
        char formatted[4096] = "", problems[4096] = "", line[160];
        cJSON *arr = cJSON_AddArrayToObject(out->details, "cases");
        double worst = -INFINITY;
        int n_bad = 0;
        for (int c = 0; c < n_cases; c++) {
            double m = s->n_out ? cases[c].max_out[argmax_of(cases[c].max_out, s->n_out)] : 0.0;
            e3c_format_equivariance_case(line, sizeof line, cases[c].parity_k, cases[c].translate, m,
                                         s->n_out ? argmax_of(cases[c].max_out, s->n_out) : 0);
            snprintf(formatted + strlen(formatted), sizeof formatted - strlen(formatted), "%s%s", c ? "\n" : "", line);
            if (!(m <= tol)) {
                snprintf(problems + strlen(problems), sizeof problems - strlen(problems), "%s%s", n_bad ? "; " : "",
                         line);
                n_bad++;
            }
            worst = worse_error(worst, m);
            cJSON_AddItemToArray(arr, case_json(s, &cases[c], tol));
        }
        cJSON_AddStringToObject(out->details, "formatted", formatted);
        json_add_error(out->details, "max_error", s->n_out ? worst : 0.0);
        if (n_bad)
            result_set(out, E3C_FAILED, "Largest componentwise equivariance error was too large for: %s", problems);
        else
            result_set(out, E3C_PASSED, "equivariant: max error %.3e <= %.1e over %d case%s x %d trial%s",
                       s->n_out ? worst : 0.0, tol, n_cases, n_cases > 1 ? "s" : "", opt->ntrials,
                       opt->ntrials > 1 ? "s" : "");
    }
    for (int c = 0; c < n_cases; c++) {
        for (size_t i = 0; cases[c].max_blk && i < s->n_out; i++)
            free(cases[c].max_blk[i]);
        free(cases[c].max_blk);
        free(cases[c].max_out);
    }
    return E3C_OK;
}

e3c_status e3c_check_equivariance(e3c_check_result *out, const e3c_subject *s, const e3c_equivariance_options *opt)
{
    static const e3c_equivariance_options defaults = E3C_EQUIVARIANCE_OPTIONS_INIT;
    if (!opt)
        opt = &defaults;
    double start;
    e3c_status begun = check_begin("e3c_check_equivariance", s, out, opt->seed, &start);
    if (begun)
        return begun;
    double tol = opt->tolerance > 0 ? opt->tolerance : (s->dtype == E3C_FLOAT64 ? 1e-9 : 1e-3);
    cJSON_AddNumberToObject(out->details, "tolerance", tol);
    cJSON_AddNumberToObject(out->details, "ntrials", opt->ntrials);
    uint64_t rng = opt->seed;
    int64_t batch = opt->batch > 0 ? opt->batch : e3c_rng_int(&rng, 1, 4);
    cJSON_AddNumberToObject(out->details, "batch", (double)batch);
    e3c_generator *g = NULL;
    e3c_values *args = NULL;
    e3c_status st = e3c_generator_new(&g, opt->seed);
    if (!st && opt->inputs) {
        st = e3c_values_new(&args);
        for (size_t i = 0; !st && i < e3c_values_count(opt->inputs); i++)
            st = e3c_values_push(args, e3c_values_get(opt->inputs, i));
        if (!st && e3c_values_count(args) != s->n_in)
            st = e3c_error_set(E3C_ERR_VALUE, "irreps_in and args_in don't match in length (%zu and %zu)", s->n_in,
                               e3c_values_count(args));
    } else if (!st)
        st = subject_random_inputs(s, g, batch, &args);
    if (st)
        result_set(out, E3C_ERRORED, "%s: %s", subject_name(s), e3c_error_last());
    else if (opt->ntrials < 1)
        result_set(out, E3C_SKIPPED, "ntrials is %d: nothing to check", opt->ntrials);
    else
        run_cases(s, opt, g, args, tol, out);
    e3c_values_free(args);
    e3c_generator_free(g);
    out->duration_s = now_s() - start;
    return E3C_OK;
}
