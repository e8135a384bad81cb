/* The checks of structured models (interatomic potentials): equivariance, auto_jitable and
 * the physical checks, on the model as structured_model.c runs it, outputs compared by key. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "e3check/fixture.h"
#include "e3check/o3.h"
#include "e3check/structured.h"
#include "structured_internal.h"

/* ------------------------------------------------------------------ equivariance -- */

typedef struct case_result {
    int parity_k, translate;
    double worst;
    double *per_output; /* -1: absent in every trial */
} case_result;

/* One trial of one case: the errors per output. */
static e3c_status trial(e3c_jit_module *m, const e3c_structured *s, const e3c_structure *st, e3c_tensor *const *base,
                        const e3c_value *y0, const double R[9], const double t[3], case_result *cr)
{
    e3c_value *y1 = NULL;
    e3c_status status = structured_run_on(m, s, st, base, R, t, SIZE_MAX, 0, &y1);
    if (status)
        return e3c_error_prefix("the model raised on transformed inputs");
    for (size_t k = 0; !status && k < s->n_outputs; k++) {
        const e3c_output_spec *o = &s->outputs[k];
        e3c_tensor *a = NULL, *b = NULL, *bt = NULL, *a64 = NULL;
        int absent_a = 0, absent_b = 0;
        status = structured_output(y1, o, &a, &absent_a);
        if (!status)
            status = structured_output(y0, o, &b, &absent_b);
        if (!status && absent_a != absent_b)
            status = e3c_error_set(E3C_ERR_VALUE, "output '%s' is absent in one call and present in the other", o->key);
        if (!status && !absent_a) {
            double err = 0;
            status = structured_transform_output(o, b, R, &bt);
            if (!status)
                status = e3c_tensor_to(&a64, a, E3C_FLOAT64);
            if (!status && e3c_tensor_numel(a64) != e3c_tensor_numel(bt))
                status = e3c_error_set(E3C_ERR_VALUE, "output '%s' changed shape under the transformation", o->key);
            if (!status)
                status = structured_max_diff(&err, a64, bt);
            if (!status) {
                if (err > cr->per_output[k])
                    cr->per_output[k] = err;
                if (err > cr->worst)
                    cr->worst = err;
            }
        }
        e3c_tensor_free(a), e3c_tensor_free(b), e3c_tensor_free(bt), e3c_tensor_free(a64);
    }
    e3c_value_free(y1);
    return status;
}

static int worst_output(const e3c_structured *s, const case_result *cr)
{
    int best = 0;
    for (size_t k = 1; k < s->n_outputs; k++)
        if (cr->per_output[k] > cr->per_output[best])
            best = (int)k;
    return best;
}

static void report_cases(const e3c_structured *s, case_result *cases, int n_cases, double tol,
                         const e3c_equivariance_options *opt, e3c_check_result *out)
{
    char problems[900] = "";
    int n_bad = 0;
    double worst = 0;
    int worst_case = 0;
    cJSON *arr = cJSON_AddArrayToObject(out->details, "cases");
    for (int c = 0; c < n_cases; c++) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "parity_k", cases[c].parity_k);
        cJSON_AddBoolToObject(j, "did_translate", cases[c].translate);
        cJSON_AddNumberToObject(j, "max_error", cases[c].worst);
        cJSON_AddBoolToObject(j, "passed", cases[c].worst <= tol);
        cJSON *outs = cJSON_AddObjectToObject(j, "outputs");
        char others[256] = "";
        for (size_t k = 0; k < s->n_outputs; k++) {
            if (cases[c].per_output[k] < 0)
                cJSON_AddStringToObject(outs, s->outputs[k].key, "absent");
            else
                cJSON_AddNumberToObject(outs, s->outputs[k].key, cases[c].per_output[k]);
            if (cases[c].per_output[k] > tol && (int)k != worst_output(s, &cases[c]))
                snprintf(others + strlen(others), sizeof others - strlen(others), "%s'%s'", others[0] ? ", " : "",
                         s->outputs[k].key);
        }
        if (!(cases[c].worst <= tol)) { /* the case's worst output, and the others over the tolerance */
            snprintf(problems + strlen(problems), sizeof problems - strlen(problems),
                     "%s(parity_k=%d, did_translate=%s) -> max error=%.3e in output '%s'%s%s%s", n_bad ? "; " : "",
                     cases[c].parity_k, cases[c].translate ? "True" : "False", cases[c].worst,
                     s->outputs[worst_output(s, &cases[c])].key, others[0] ? " (also " : "", others,
                     others[0] ? ")" : "");
            n_bad++;
        }
        cJSON_AddItemToArray(arr, j);
        if (cases[c].worst > worst)
            worst = cases[c].worst, worst_case = c;
    }
    cJSON_AddNumberToObject(out->details, "max_error", worst);
    if (n_bad)
        result_set(out, E3C_FAILED, "Largest componentwise equivariance error was too large for: %s", problems);
    else
        result_set(out, E3C_PASSED,
                   "equivariant: max error %.3e <= %.1e over %d case%s x %d trial%s (worst output '%s')", worst, tol,
                   n_cases, n_cases > 1 ? "s" : "", opt->ntrials, opt->ntrials > 1 ? "s" : "",
                   s->n_outputs ? s->outputs[worst_output(s, &cases[worst_case])].key : "-");
}

static void run_equivariance(e3c_jit_module *m, const e3c_structured *s, const char *name,
                             const e3c_equivariance_options *opt, double tol, e3c_check_result *out)
{
    e3c_structure *st = NULL;
    e3c_generator *g = NULL;
    e3c_tensor **base = NULL;
    e3c_value *y0 = NULL;
    int has_points = 0;
    for (size_t i = 0; i < s->n_inputs; i++)
        has_points |= s->inputs[i].role == E3C_ROLE_POSITIONS;
    int n_par = opt->do_parity ? 2 : 1, n_tr = opt->do_translation && has_points ? 2 : 1, n_cases = n_par * n_tr;
    case_result cases[4];
    memset(cases, 0, sizeof cases);
    e3c_status status = make_structure(s, opt->seed, &st);
    if (!status)
        status = e3c_generator_new(&g, opt->seed);
    if (!status)
        status = structured_base_inputs(s, st, g, &base);
    if (!status && (status = structured_run_on(m, s, st, base, NULL, NULL, SIZE_MAX, 0, &y0)))
        e3c_error_prefix("the model raised");
    if (st)
        structure_details(s, st, out->details);
    for (int c = 0; !status && c < n_cases; c++) {
        cases[c].parity_k = c / n_tr;
        cases[c].translate = c % n_tr;
        cases[c].per_output = malloc((s->n_outputs ? s->n_outputs : 1) * sizeof(double));
        if (!cases[c].per_output)
            status = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        for (size_t k = 0; !status && k < s->n_outputs; k++)
            cases[c].per_output[k] = -1.0;
    }
    for (int tr = 0; !status && tr < opt->ntrials; tr++)
        for (int c = 0; !status && c < n_cases; c++) {
            double R[9], t[3];
            status = check_draw_case(g, 1, cases[c].parity_k, cases[c].translate, R, t);
            if (!status)
                status = trial(m, s, st, base, y0, R, t, &cases[c]);
        }
    int compared = 0; /* some declared output was present and compared */
    for (int c = 0; !status && c < n_cases; c++)
        for (size_t k = 0; k < s->n_outputs; k++)
            compared |= cases[c].per_output[k] >= 0;
    if (status)
        result_set(out, E3C_ERRORED, "%s: %s", name, e3c_error_last());
    else if (opt->ntrials < 1)
        result_set(out, E3C_SKIPPED, "ntrials is %d: nothing to check", opt->ntrials);
    else if (!compared)
        result_set(out, E3C_ERRORED, "%s: every declared output came back None or empty: nothing was compared", name);
    else
        report_cases(s, cases, n_cases, tol, opt, out);
    for (int c = 0; c < n_cases; c++)
        free(cases[c].per_output);
    e3c_value_free(y0);
    structured_free_inputs(base, s->n_inputs);
    e3c_generator_free(g);
    e3c_structure_free(st);
}

e3c_status e3c_check_structured_equivariance(e3c_check_result *out, e3c_jit_module *m, const e3c_structured *s,
                                             const char *name, const e3c_equivariance_options *opt)
{
    static const e3c_equivariance_options defaults = E3C_EQUIVARIANCE_OPTIONS_INIT;
    if (!opt)
        opt = &defaults;
    double start = 0;
    e3c_status begun = structured_begin("e3c_check_structured_equivariance", m, s, opt->seed, out, &start);
    if (begun)
        return begun;
    double tol = opt->tolerance > 0 ? opt->tolerance : (s->model_dtype == E3C_FLOAT64 ? 1e-9 : 1e-3);
    cJSON_AddNumberToObject(out->details, "tolerance", tol);
    cJSON_AddNumberToObject(out->details, "ntrials", opt->ntrials);
    run_equivariance(m, s, name ? name : "model", opt, tol, out);
    out->duration_s = now_s() - start;
    return E3C_OK;
}

/* ------------------------------------------------------------------ auto_jitable -- */

/* Every declared output of y (or why not). */
static e3c_status declared_outputs(const e3c_structured *s, const e3c_value *y)
{
    for (size_t k = 0; k < s->n_outputs; k++) {
        e3c_tensor *t = NULL;
        int absent = 0;
        e3c_status st = structured_output(y, &s->outputs[k], &t, &absent);
        e3c_tensor_free(t);
        if (st)
            return st;
    }
    return E3C_OK;
}

/* The first NaN or infinity among the declared outputs: 1 with `why` naming the output and
 * the index, 0 when all are finite, -1 when they cannot be read (the error set). */
static int nonfinite_declared(const e3c_structured *s, const e3c_value *y, char *why, size_t cap)
{
    for (size_t k = 0; k < s->n_outputs; k++) {
        e3c_tensor *t = NULL;
        int absent = 0, found = 0;
        int64_t at = 0;
        double v = 0;
        if (structured_output(y, &s->outputs[k], &t, &absent) || (t && tensor_first_nonfinite(t, &found, &at, &v))) {
            e3c_tensor_free(t);
            return -1;
        }
        if (found) {
            char index[128];
            format_index(t, at, index, sizeof index);
            snprintf(why, cap, "output '%s' holds %s at index %s on the structure", s->outputs[k].key,
                     isnan(v) ? "NaN"
                     : v > 0  ? "inf"
                              : "-inf",
                     index);
        }
        e3c_tensor_free(t);
        if (found)
            return 1;
    }
    return 0;
}

/* Each strict input cut by 1, 2, 3 columns: every call must raise. 1 when all were
 * rejected; 0 with `why` naming the input and the width it accepted. */
static int strict_shapes(e3c_jit_module *m, const e3c_structured *s, const e3c_structure *st, e3c_tensor *const *base,
                         int *n_checked, char *why, size_t cap)
{
    *n_checked = 0;
    for (size_t i = 0; i < s->n_inputs; i++) {
        if (!base[i] || !s->inputs[i].strict || e3c_tensor_ndim(base[i]) < 1)
            continue;
        (*n_checked)++;
        int64_t width = e3c_tensor_size(base[i], -1);
        for (int cut = 1; cut <= 3; cut++) {
            int64_t keep = width - cut < 0 ? 0 : width - cut;
            e3c_value *y = NULL;
            int accepted = structured_run_on(m, s, st, base, NULL, NULL, i, keep, &y) == E3C_OK;
            e3c_value_free(y);
            if (accepted) {
                char name[256];
                structured_input_name(&s->inputs[i], name, sizeof name);
                snprintf(why, cap, "input %s accepted a width of %lld instead of %lld", name, (long long)keep,
                         (long long)width);
                return 0;
            }
            if (keep == 0)
                break;
        }
    }
    return 1;
}

/* Save to memory, reload, rerun: the declared outputs must be identical. */
static int roundtrip(e3c_jit_module *m, const e3c_structured *s, const e3c_structure *st, e3c_tensor *const *base,
                     const e3c_value *before, char *why, size_t cap)
{
    void *archive = NULL;
    size_t size = 0;
    e3c_jit_module *again = NULL;
    e3c_value *after = NULL;
    int ok = 1;
    if (e3c_jit_save_buffer(&archive, &size, m) || e3c_jit_load_buffer(&again, archive, size, "the saved model")) {
        snprintf(why, cap, "save/reload failed: %s", e3c_error_last());
        ok = 0;
    } else if (structured_run_on(again, s, st, base, NULL, NULL, SIZE_MAX, 0, &after)) {
        snprintf(why, cap, "the reloaded model raised: %s", e3c_error_last());
        ok = 0;
    }
    for (size_t k = 0; ok && k < s->n_outputs; k++) {
        e3c_tensor *a = NULL, *b = NULL;
        int absent_a = 0, absent_b = 0;
        if (structured_output(before, &s->outputs[k], &a, &absent_a) ||
            structured_output(after, &s->outputs[k], &b, &absent_b) || absent_a != absent_b ||
            (!absent_a && !e3c_tensor_equal(a, b))) {
            snprintf(why, cap, "the reloaded model gives a different '%s'", s->outputs[k].key);
            ok = 0;
        }
        e3c_tensor_free(a), e3c_tensor_free(b);
    }
    free(archive);
    e3c_value_free(after);
    e3c_jit_free(again);
    return ok;
}

static void run_auto_jitable(e3c_jit_module *m, const e3c_structured *s, const char *name,
                             const e3c_auto_jitable_options *opt, e3c_check_result *out)
{
    check_steps_start();
    cJSON *steps = cJSON_AddArrayToObject(out->details, "steps");
    e3c_structure *st = NULL;
    e3c_generator *g = NULL;
    e3c_tensor **base = NULL;
    e3c_value *y = NULL;
    char why[1024] = "";
    int n_strict = 0;
    e3c_status status = make_structure(s, opt->seed, &st);
    if (!status)
        status = e3c_generator_new(&g, opt->seed);
    if (!status)
        status = structured_base_inputs(s, st, g, &base);
    if (status) {
        result_set(out, E3C_ERRORED, "cannot make inputs: %s", e3c_error_last());
        goto done;
    }
    structure_details(s, st, out->details);
    if (structured_run_on(m, s, st, base, NULL, NULL, SIZE_MAX, 0, &y) || declared_outputs(s, y)) {
        result_set(out, E3C_ERRORED, "%s on a structure of %lld atoms%s: %s", name, (long long)st->n_atoms,
                   st->periodic[0] ? " with a cell" : "", e3c_error_last());
        check_add_step(steps, "run", "error", out->message);
        goto done;
    }
    check_add_step(steps, "run", "ok", NULL);
    int bad = nonfinite_declared(s, y, why, sizeof why);
    if (bad) { /* no later step is blamed for it */
        result_set(out, bad < 0 ? E3C_ERRORED : E3C_FAILED, "%s", bad < 0 ? e3c_error_last() : why);
        check_add_step(steps, "finite", bad < 0 ? "error" : "failed", out->message);
        goto done;
    }
    if (!opt->strict_shapes) {
        check_add_step(steps, "strict_shapes", "skipped", "disabled");
    } else if (!strict_shapes(m, s, st, base, &n_strict, why, sizeof why)) {
        result_set(out, E3C_FAILED, "Traced function didn't error on bad input shape: %s", why);
        check_add_step(steps, "strict_shapes", "failed", why);
        goto done;
    } else {
        check_add_step(steps, "strict_shapes", "ok", "every strict input rejected 1, 2 and 3 missing columns");
    }
    if (opt->roundtrip) {
        if (!roundtrip(m, s, st, base, y, why, sizeof why)) {
            result_set(out, E3C_FAILED, "save/reload round trip: %s", why);
            check_add_step(steps, "roundtrip", "failed", why);
            goto done;
        }
        check_add_step(steps, "roundtrip", "ok", "identical outputs after save and load");
    }
    result_set(out, E3C_PASSED, "auto-jitable: runs%s%s", opt->strict_shapes && n_strict ? ", rejects bad widths" : "",
               opt->roundtrip ? ", round-trips" : "");
done:
    e3c_value_free(y);
    structured_free_inputs(base, s ? s->n_inputs : 0);
    e3c_generator_free(g);
    e3c_structure_free(st);
}

e3c_status e3c_check_structured_auto_jitable(e3c_check_result *out, e3c_jit_module *m, const e3c_structured *s,
                                             const char *name, const e3c_auto_jitable_options *opt)
{
    static const e3c_auto_jitable_options defaults = E3C_AUTO_JITABLE_OPTIONS_INIT;
    if (!opt)
        opt = &defaults;
    double start = 0;
    e3c_status begun = structured_begin("e3c_check_structured_auto_jitable", m, s, opt->seed, out, &start);
    if (begun)
        return begun;
    run_auto_jitable(m, s, name ? name : "model", opt, out);
    out->duration_s = now_s() - start;
    return E3C_OK;
}

/* ------------------------------------------------------------------ physical checks -- */

/* The largest difference between output `o` of y1 and of y0 (rows of y0 reordered by
 * `order` [n] when given): *err -1 when absent in both, INFINITY when either is not finite. */
static e3c_status output_diff(const e3c_output_spec *o, const e3c_value *y1, const e3c_value *y0, const int64_t *order,
                              int64_t n, double *err)
{
    e3c_tensor *a = NULL, *b = NULL, *idx = NULL, *bp = NULL, *a64 = NULL, *b64 = NULL;
    int absent_a = 0, absent_b = 0;
    *err = -1;
    e3c_status st = structured_output(y1, o, &a, &absent_a);
    if (!st)
        st = structured_output(y0, o, &b, &absent_b);
    if (!st && absent_a != absent_b)
        st = e3c_error_set(E3C_ERR_VALUE, "output '%s' is absent in one call and present in the other", o->key);
    if (!st && !absent_a && order && (e3c_tensor_ndim(b) < 1 || e3c_tensor_size(b, 0) != n))
        st = e3c_error_set(E3C_ERR_VALUE, "output '%s' is per %s but its first dimension is not the %lld %s", o->key,
                           o->per == E3C_PER_EDGE ? "edge" : "atom", (long long)n,
                           o->per == E3C_PER_EDGE ? "edges" : "atoms");
    if (!st && !absent_a && order)
        st = e3c_tensor_from_data(&idx, order, E3C_INT64, &n, 1);
    if (!st && !absent_a)
        st = order ? e3c_tensor_index_select(&bp, b, 0, idx) : e3c_tensor_ref(&bp, b);
    if (!st && !absent_a)
        st = e3c_tensor_to(&a64, a, E3C_FLOAT64);
    if (!st && !absent_a)
        st = e3c_tensor_to(&b64, bp, E3C_FLOAT64);
    if (!st && !absent_a && e3c_tensor_numel(a64) != e3c_tensor_numel(b64))
        st = e3c_error_set(E3C_ERR_VALUE, "output '%s' changed shape", o->key);
    if (!st && !absent_a) {
        st = structured_max_diff(err, a64, b64);
    }
    e3c_tensor_free(a), e3c_tensor_free(b), e3c_tensor_free(idx), e3c_tensor_free(bp);
    e3c_tensor_free(a64), e3c_tensor_free(b64);
    return st;
}

/* A seeded generator of plain numbers (splitmix64). */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Shuffle a[lo..hi-1]. */
static void shuffle(int64_t *a, int64_t lo, int64_t hi, uint64_t *state)
{
    for (int64_t i = hi - 1; i > lo; i--) {
        int64_t j = lo + (int64_t)(next_random(state) % (uint64_t)(i - lo + 1));
        int64_t t = a[i];
        a[i] = a[j], a[j] = t;
    }
}

/* A random permutation of the atoms within each structure (not the identity when some
 * structure has two atoms) and of the edges: new atom i is old atom perm[i], new edge k
 * is old edge order[k]. *out is the permuted copy of st; edge_index remapped. */
static e3c_status permute_structure(const e3c_structure *st, uint64_t seed, int64_t *perm, int64_t *order,
                                    e3c_structure **out)
{
    uint64_t state = seed ^ 0x5045524dull;
    int64_t N = st->n_atoms, E = st->n_edges, *inv = malloc((size_t)(N ? N : 1) * sizeof *inv);
    if (!inv)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < N; i++)
        perm[i] = i;
    for (int64_t k = 0; k < E; k++)
        order[k] = k;
    int identity = 1;
    for (int64_t b = 0; b < st->n_structures; b++)
        shuffle(perm, st->ptr[b], st->ptr[b + 1], &state);
    for (int64_t i = 0; i < N; i++)
        identity &= perm[i] == i;
    for (int64_t b = 0; identity && b < st->n_structures; b++)
        if (st->ptr[b + 1] - st->ptr[b] >= 2) { /* swap two atoms */
            perm[st->ptr[b]] = st->ptr[b] + 1, perm[st->ptr[b] + 1] = st->ptr[b];
            identity = 0;
        }
    shuffle(order, 0, E, &state);
    for (int64_t i = 0; i < N; i++)
        inv[perm[i]] = i;
    e3c_structure *ps = NULL;
    e3c_status status = e3c_structure_copy(&ps, st);
    for (int64_t i = 0; !status && i < N; i++) {
        memcpy(&ps->positions[3 * i], &st->positions[3 * perm[i]], 3 * sizeof(double));
        ps->species[i] = st->species[perm[i]];
    }
    for (int64_t k = 0; !status && k < E; k++) {
        int64_t e = order[k];
        ps->edge_index[k] = inv[st->edge_index[e]];
        ps->edge_index[E + k] = inv[st->edge_index[E + e]];
        memcpy(&ps->unit_shifts[3 * k], &st->unit_shifts[3 * e], 3 * sizeof(int64_t));
        memcpy(&ps->shifts[3 * k], &st->shifts[3 * e], 3 * sizeof(double));
    }
    free(inv);
    if (status || identity) {
        e3c_structure_free(ps);
        return status ? status : e3c_error_set(E3C_ERR_VALUE, "permutation needs a structure of at least 2 atoms");
    }
    *out = ps;
    return E3C_OK;
}

/* Run on the permuted structure, the per-atom features permuted like the atoms. */
static e3c_status run_permuted(phys *p, const e3c_structure *st, const e3c_structure *ps, const int64_t *perm,
                               e3c_value **out)
{
    e3c_generator *g = NULL;
    e3c_tensor **base = NULL, **pbase = NULL, *idx = NULL;
    int64_t n = st->n_atoms;
    e3c_status status = e3c_generator_new(&g, p->seed);
    if (!status)
        status = structured_base_inputs(p->s, st, g, &base);
    if (!status)
        status = structured_base_inputs(p->s, ps, g, &pbase);
    if (!status)
        status = e3c_tensor_from_data(&idx, perm, E3C_INT64, &n, 1);
    for (size_t i = 0; !status && i < p->s->n_inputs; i++)
        if (p->s->inputs[i].role == E3C_ROLE_FEATURES && base[i]) {
            e3c_tensor_free(pbase[i]), pbase[i] = NULL;
            status = e3c_tensor_index_select(&pbase[i], base[i], 0, idx);
        }
    if (!status) {
        p->calls++;
        status = structured_run_on(p->m, p->s, ps, pbase, NULL, NULL, SIZE_MAX, 0, out);
    }
    e3c_tensor_free(idx);
    structured_free_inputs(base, base ? p->s->n_inputs : 0);
    structured_free_inputs(pbase, pbase ? p->s->n_inputs : 0);
    e3c_generator_free(g);
    return status;
}

/* Compare every declared output of y1 with y0 (per-atom rows reordered by perm, per-edge
 * by order, when given); details per output; *worst and the output's index. */
static e3c_status compare_outputs(const e3c_structured *s, const e3c_value *y1, const e3c_value *y0,
                                  const e3c_structure *st, const int64_t *perm, const int64_t *order, cJSON *details,
                                  double *worst, size_t *worst_k, int *compared)
{
    cJSON *outs = cJSON_AddObjectToObject(details, "outputs");
    *worst = 0, *worst_k = 0, *compared = 0;
    for (size_t k = 0; k < s->n_outputs; k++) {
        const e3c_output_spec *o = &s->outputs[k];
        const int64_t *ord = !perm ? NULL : o->per == E3C_PER_ATOM ? perm : o->per == E3C_PER_EDGE ? order : NULL;
        double err = 0;
        e3c_status status = output_diff(o, y1, y0, ord, o->per == E3C_PER_EDGE ? st->n_edges : st->n_atoms, &err);
        if (status)
            return status;
        if (err < 0) {
            cJSON_AddStringToObject(outs, o->key, "absent");
            continue;
        }
        cJSON_AddNumberToObject(outs, o->key, err);
        if (!*compared || err > *worst)
            *worst = err, *worst_k = k;
        *compared = 1;
    }
    return E3C_OK;
}

/* The verdict of an invariance-type check from the compared outputs. */
static void invariance_verdict(const e3c_structured *s, e3c_check_result *out, const char *what, double worst,
                               size_t worst_k, int compared, double tol)
{
    cJSON_AddNumberToObject(out->details, "max_error", worst);
    if (!compared)
        result_set(out, E3C_ERRORED, "every declared output came back None or empty: nothing was compared");
    else if (!(worst <= tol))
        result_set(out, E3C_FAILED, "%s: max error=%.3e > %.1e in output '%s'%s", what, worst, tol,
                   s->outputs[worst_k].key, isinf(worst) ? " (it holds a NaN or an infinity)" : "");
    else
        result_set(out, E3C_PASSED, "%s: max error %.3e <= %.1e (worst output '%s')", what, worst, tol,
                   s->outputs[worst_k].key);
}

static void run_permutation(phys *p, uint64_t seed, double tol, e3c_check_result *out)
{
    e3c_structure *st = NULL, *ps = NULL;
    e3c_value *y0 = NULL, *y1 = NULL;
    int64_t *perm = NULL, *order = NULL;
    double worst = 0;
    size_t worst_k = 0;
    int compared = 0;
    e3c_status status = make_structure(p->s, seed, &st);
    if (!status) {
        structure_details(p->s, st, out->details);
        perm = malloc((size_t)st->n_atoms * sizeof *perm);
        order = malloc((size_t)(st->n_edges ? st->n_edges : 1) * sizeof *order);
        status = perm && order ? permute_structure(st, seed, perm, order, &ps)
                               : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    }
    if (!status && (status = phys_run(p, st, NULL, NULL, &y0)))
        e3c_error_prefix("the model raised");
    if (!status && (status = run_permuted(p, st, ps, perm, &y1)))
        e3c_error_prefix("the model raised on the permuted structure");
    if (!status)
        status = compare_outputs(p->s, y1, y0, st, perm, order, out->details, &worst, &worst_k, &compared);
    if (status)
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    else
        invariance_verdict(p->s, out, "atoms and edges permuted", worst, worst_k, compared, tol);
    e3c_value_free(y0), e3c_value_free(y1);
    free(perm), free(order);
    e3c_structure_free(st), e3c_structure_free(ps);
}

static void run_translation(phys *p, uint64_t seed, double tol, e3c_check_result *out)
{
    e3c_structure *st = NULL;
    e3c_value *y0 = NULL, *y1 = NULL;
    e3c_generator *g = NULL;
    e3c_tensor *tt = NULL;
    double R[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, t[3] = {0, 0, 0}, worst = 0;
    size_t worst_k = 0;
    int compared = 0;
    int64_t shape[2] = {1, 3};
    e3c_status status = make_structure(p->s, seed, &st);
    if (!status)
        structure_details(p->s, st, out->details);
    if (!status)
        status = e3c_generator_new(&g, seed ^ 0x5452414eull);
    if (!status)
        status = e3c_randn(&tt, g, E3C_FLOAT64, shape, 2);
    if (!status)
        status = e3c_tensor_to_doubles(t, 3, tt);
    for (int j = 0; j < 3; j++)
        t[j] *= 10.0;
    if (!status && (status = phys_run(p, st, NULL, NULL, &y0)))
        e3c_error_prefix("the model raised");
    if (!status && (status = phys_run(p, st, R, t, &y1)))
        e3c_error_prefix("the model raised on the translated structure");
    if (!status)
        status = compare_outputs(p->s, y1, y0, st, NULL, NULL, out->details, &worst, &worst_k, &compared);
    cJSON *jt = cJSON_AddArrayToObject(out->details, "shift");
    for (int j = 0; j < 3; j++)
        cJSON_AddItemToArray(jt, cJSON_CreateNumber(t[j]));
    if (status)
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    else
        invariance_verdict(p->s, out, "positions translated, cell fixed", worst, worst_k, compared, tol);
    e3c_tensor_free(tt);
    e3c_generator_free(g);
    e3c_value_free(y0), e3c_value_free(y1);
    e3c_structure_free(st);
}

/* The cartesian2 per-structure output whose key contains `word` ("stress", "virial"), or -1. */
static int strain_output(const e3c_structured *s, const char *word)
{
    for (size_t k = 0; k < s->n_outputs; k++)
        if (s->outputs[k].kind == E3C_OUTPUT_CARTESIAN2 && strstr(s->outputs[k].key, word))
            return (int)k;
    return -1;
}

/* The total energy (summed over the batch) on st displaced: positions[3 atom + comp] += d
 * when atom >= 0, else the symmetric strain of component (comp / 3, comp % 3) by d. */
static e3c_status energy_at(phys *p, const e3c_structure *st, int eo, int64_t atom, int comp, double d, double *E)
{
    e3c_structure *moved = NULL;
    e3c_value *y = NULL;
    double *vals = NULL, R[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    int64_t n = 0;
    e3c_status status = e3c_structure_copy(&moved, st);
    if (!status && atom >= 0)
        moved->positions[3 * atom + comp] += d;
    if (!status && atom < 0) {
        int a = comp / 3, b = comp % 3;
        R[3 * a + b] += a == b ? d : d / 2;
        R[3 * b + a] += a == b ? 0 : d / 2;
    }
    if (!status)
        status = phys_run(p, moved, atom < 0 ? R : NULL, atom < 0 ? (double[3]){0, 0, 0} : NULL, &y);
    if (!status)
        status = output_numbers(p->s, y, eo, &vals, &n);
    if (!status && !vals)
        status = e3c_error_set(E3C_ERR_VALUE, "the energy output '%s' came back None or empty", p->s->outputs[eo].key);
    *E = 0;
    for (int64_t i = 0; !status && i < n; i++)
        *E += vals[i];
    free(vals);
    e3c_value_free(y);
    e3c_structure_free(moved);
    return status;
}

/* dE/dd by central differences at steps h and h/2 and their Richardson extrapolation;
 * *trunc the difference between the two (an estimate of what the differences miss). */
static e3c_status derivative(phys *p, const e3c_structure *st, int eo, int64_t atom, int comp, double h, double *dE,
                             double *trunc)
{
    double e[4];
    const double steps[4] = {h, -h, h / 2, -h / 2};
    for (int i = 0; i < 4; i++) {
        e3c_status status = energy_at(p, st, eo, atom, comp, steps[i], &e[i]);
        if (status)
            return status;
    }
    double d1 = (e[0] - e[1]) / (2 * h), d2 = (e[2] - e[3]) / h;
    *dE = (4 * d2 - d1) / 3;
    *trunc = fabs(*dE - d2);
    return E3C_OK;
}

/* Settings of the conservative check by model dtype. */
typedef struct fd_settings {
    double step, atol, rtol;
    int components;
} fd_settings;

typedef struct fd_worst {
    double excess; /* error - tolerance, the largest */
    char text[256];
    int failed;
} fd_worst;

/* Record one compared component in details and in the worst. */
static void fd_record(cJSON *arr, fd_worst *w, const char *what, double model, double fd, double tol)
{
    double err = fabs(model - fd);
    if (isnan(err))
        err = INFINITY;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "component", what);
    cJSON_AddNumberToObject(j, "model", model);
    cJSON_AddNumberToObject(j, "finite_difference", fd);
    cJSON_AddNumberToObject(j, "error", err);
    cJSON_AddNumberToObject(j, "tolerance", tol);
    cJSON_AddItemToArray(arr, j);
    if (!(err <= tol))
        w->failed = 1;
    if (w->text[0] == '\0' || !(err - tol <= w->excess)) {
        w->excess = err - tol;
        snprintf(w->text, sizeof w->text, "%s = %.6e, finite difference %.6e (error %.3e, tolerance %.3e)", what, model,
                 fd, err, tol);
    }
}

static double max_abs(const double *v, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++)
        m = fabs(v[i]) > m ? fabs(v[i]) : m;
    return m;
}

/* A NaN or infinity among an output's n values fails the check, whichever components the
 * differences compare: recorded as its worst component. */
static void record_nonfinite(fd_worst *w, const char *key, const double *v, int64_t n, int64_t width)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(v[i])) {
            w->failed = 1;
            w->excess = INFINITY;
            snprintf(w->text, sizeof w->text, "%s[%lld][%lld] = %g: not finite", key, (long long)(i / width),
                     (long long)(i % width), v[i]);
            return;
        }
}

/* Forces against -dE/dpos on a few random atoms and components. */
static e3c_status check_forces(phys *p, const e3c_structure *st, const e3c_value *y0, int eo, int fo,
                               const fd_settings *fs, uint64_t seed, cJSON *arr, fd_worst *w)
{
    double *F = NULL;
    int64_t n = 0;
    e3c_status status = output_numbers(p->s, y0, fo, &F, &n);
    if (!status && (!F || n != 3 * st->n_atoms))
        status = e3c_error_set(E3C_ERR_VALUE, "the forces output '%s' is %s, not [%lld, 3]", p->s->outputs[fo].key,
                               F ? "of another size" : "None or empty", (long long)st->n_atoms);
    double tol = status ? 0 : fs->atol + fs->rtol * max_abs(F, n);
    if (!status)
        record_nonfinite(w, p->s->outputs[fo].key, F, n, 3);
    uint64_t state = seed ^ 0x434f4e53ull;
    for (int i = 0; !status && i < fs->components; i++) {
        int64_t atom = (int64_t)(next_random(&state) % (uint64_t)st->n_atoms);
        int comp = (int)(next_random(&state) % 3);
        double dE = 0, trunc = 0;
        status = derivative(p, st, eo, atom, comp, fs->step, &dE, &trunc);
        char what[64];
        snprintf(what, sizeof what, "%s[%lld][%d]", p->s->outputs[fo].key, (long long)atom, comp);
        if (!status)
            fd_record(arr, w, what, F[3 * atom + comp], -dE, tol + trunc);
    }
    free(F);
    return status;
}

static double det3(const double *c)
{
    return c[0] * (c[4] * c[8] - c[5] * c[7]) - c[1] * (c[3] * c[8] - c[5] * c[6]) + c[2] * (c[3] * c[7] - c[4] * c[6]);
}

/* Stress (dE/de / V) and virial (-dE/de) under a symmetric strain e: one diagonal and one
 * off-diagonal component, for one periodic structure. */
static e3c_status check_strain(phys *p, const e3c_structure *st, const e3c_value *y0, int eo, const fd_settings *fs,
                               uint64_t seed, cJSON *arr, fd_worst *w)
{
    int keys[2] = {strain_output(p->s, "stress"), strain_output(p->s, "virial")};
    double *vals[2] = {NULL, NULL}, volume = fabs(det3(st->cells));
    int64_t n[2] = {0, 0};
    e3c_status status = E3C_OK;
    for (int q = 0; !status && q < 2; q++)
        if (keys[q] >= 0)
            status = output_numbers(p->s, y0, keys[q], &vals[q], &n[q]);
    for (int q = 0; !status && q < 2; q++)
        if (vals[q] && n[q] != 9)
            status = e3c_error_set(E3C_ERR_VALUE, "output '%s' has %lld numbers, not 9 for one structure",
                                   p->s->outputs[keys[q]].key, (long long)n[q]);
    for (int q = 0; !status && q < 2; q++)
        if (vals[q])
            record_nonfinite(w, p->s->outputs[keys[q]].key, vals[q], 9, 3);
    uint64_t state = seed ^ 0x53545241ull;
    int diag = (int)(next_random(&state) % 3), off = (int)(next_random(&state) % 3);
    int comps[2] = {4 * diag, off == 0 ? 1 : off == 1 ? 2 : 5}; /* (d,d) and (0,1), (0,2) or (1,2) */
    for (int c = 0; !status && (vals[0] || vals[1]) && c < 2; c++) {
        double dE = 0, trunc = 0;
        status = derivative(p, st, eo, -1, comps[c], fs->step, &dE, &trunc);
        for (int q = 0; !status && q < 2; q++) {
            if (!vals[q])
                continue;
            double fd = q == 0 ? dE / volume : -dE, scale = q == 0 ? 1.0 / volume : 1.0;
            char what[64];
            snprintf(what, sizeof what, "%s[%d][%d]", p->s->outputs[keys[q]].key, comps[c] / 3, comps[c] % 3);
            fd_record(arr, w, what, vals[q][comps[c]], fd,
                      fs->atol * scale + fs->rtol * max_abs(vals[q], 9) + trunc * scale);
        }
    }
    free(vals[0]), free(vals[1]);
    return status;
}

static void run_conservative(phys *p, uint64_t seed, const fd_settings *fs, e3c_check_result *out)
{
    e3c_structure *st = NULL;
    e3c_value *y0 = NULL;
    fd_worst w = {0, "", 0};
    int eo = energy_output(p->s), fo = forces_output(p->s);
    cJSON *arr = cJSON_AddArrayToObject(out->details, "compared");
    if (eo < 0 || fo < 0) {
        result_set(out, E3C_SKIPPED, "no %s declared (a per-structure 0e output and a per-atom 1o output)",
                   eo < 0 ? "energy" : "forces");
        return;
    }
    e3c_status status = make_structure(p->s, seed, &st);
    if (!status)
        structure_details(p->s, st, out->details);
    if (!status && (status = phys_run(p, st, NULL, NULL, &y0)))
        e3c_error_prefix("the model raised");
    if (!status)
        status = check_forces(p, st, y0, eo, fo, fs, seed, arr, &w);
    int strain = !status && st->n_structures == 1 && st->periodic[0];
    if (strain)
        status = check_strain(p, st, y0, eo, fs, seed, arr, &w);
    cJSON_AddBoolToObject(out->details, "strain_checked", strain);
    if (status)
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    else if (w.failed)
        result_set(out, E3C_FAILED, "not conservative: worst %s", w.text);
    else
        result_set(out, E3C_PASSED, "forces%s match the energy's finite differences: worst %s",
                   strain ? " and stress/virial" : "", w.text);
    e3c_value_free(y0);
    e3c_structure_free(st);
}

/* The largest |a - b| over n numbers (INFINITY for NaN). */
static double max_diff(const double *a, const double *b, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        m = isnan(d) ? INFINITY : d > m ? d : m;
    }
    return m;
}

/* Two different structures (seeds seed and seed + 1) in one call against each alone:
 * per-atom, per-edge and per-structure outputs concatenated in order. */
static void run_batching(phys *p, uint64_t seed, double tol, e3c_check_result *out)
{
    e3c_structured one = *p->s;
    one.n_structures = 1;
    phys q = *p;
    q.s = &one;
    e3c_structure *parts[2] = {NULL, NULL}, *both = NULL;
    e3c_value *alone[2] = {NULL, NULL}, *yb = NULL;
    double worst = 0;
    int worst_k = -1;
    cJSON *outs = cJSON_AddObjectToObject(out->details, "outputs");
    e3c_status status = make_structure(&one, seed, &parts[0]);
    if (!status)
        status = make_structure(&one, seed + 1000, &parts[1]);
    if (!status)
        status = e3c_structure_batch(&both, (const e3c_structure *const *)parts, 2);
    if (!status)
        structure_details(p->s, both, out->details);
    for (int b = 0; !status && b < 2; b++)
        if ((status = phys_run(&q, parts[b], NULL, NULL, &alone[b])))
            e3c_error_prefix("the model raised on structure %d alone", b);
    if (!status && (status = phys_run(&q, both, NULL, NULL, &yb)))
        e3c_error_prefix("the model raised on the two structures batched");
    for (size_t k = 0; !status && k < p->s->n_outputs; k++) {
        double *v[3] = {NULL, NULL, NULL}, *joined = NULL;
        int64_t n[3] = {0, 0, 0};
        for (int b = 0; !status && b < 2; b++)
            status = output_numbers(p->s, alone[b], (int)k, &v[b], &n[b]);
        if (!status)
            status = output_numbers(p->s, yb, (int)k, &v[2], &n[2]);
        int absent = !v[0] + !v[1] + !v[2];
        if (!status && absent && absent != 3)
            status = e3c_error_set(E3C_ERR_VALUE, "output '%s' is absent in some calls and present in others",
                                   p->s->outputs[k].key);
        else if (!status && !absent && n[0] + n[1] != n[2])
            status = e3c_error_set(E3C_ERR_VALUE, "output '%s' has %lld numbers batched, %lld + %lld alone",
                                   p->s->outputs[k].key, (long long)n[2], (long long)n[0], (long long)n[1]);
        if (!status && absent)
            cJSON_AddStringToObject(outs, p->s->outputs[k].key, "absent");
        if (!status && !absent && (joined = malloc((size_t)(n[2] ? n[2] : 1) * sizeof *joined))) {
            memcpy(joined, v[0], (size_t)n[0] * sizeof *joined);
            memcpy(joined + n[0], v[1], (size_t)n[1] * sizeof *joined);
            double err = max_diff(joined, v[2], n[2]);
            cJSON_AddNumberToObject(outs, p->s->outputs[k].key, err);
            if (worst_k < 0 || err > worst)
                worst = err, worst_k = (int)k;
        } else if (!status && !absent) {
            status = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        }
        free(v[0]), free(v[1]), free(v[2]), free(joined);
    }
    p->calls += q.calls;
    if (status)
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    else
        invariance_verdict(p->s, out, "two structures batched against each alone", worst,
                           worst_k < 0 ? 0 : (size_t)worst_k, worst_k >= 0, tol);
    for (int b = 0; b < 2; b++)
        e3c_value_free(alone[b]), e3c_structure_free(parts[b]);
    e3c_value_free(yb);
    e3c_structure_free(both);
}

/* The first per-atom scalar output (per-atom energies), or -1. */
static int atomic_energy_output(const e3c_structured *s)
{
    for (size_t k = 0; k < s->n_outputs; k++)
        if (s->outputs[k].per == E3C_PER_ATOM && s->outputs[k].kind == E3C_OUTPUT_IRREPS &&
            e3c_irreps_dim(&s->outputs[k].irreps) == 1)
            return (int)k;
    return -1;
}

/* Per-atom energies summed per structure against the energy. */
static void run_additivity(phys *p, uint64_t seed, double tol, e3c_check_result *out)
{
    int eo = energy_output(p->s), ao = atomic_energy_output(p->s);
    if (eo < 0 || ao < 0) {
        result_set(out, E3C_SKIPPED, "no %s declared",
                   eo < 0 ? "energy (a per-structure 0e output)" : "per-atom energies (a per-atom 0e output)");
        return;
    }
    e3c_structure *st = NULL;
    e3c_value *y = NULL;
    double *E = NULL, *e = NULL, *sum = NULL;
    int64_t nE = 0, ne = 0;
    e3c_status status = make_structure(p->s, seed, &st);
    if (!status)
        structure_details(p->s, st, out->details);
    if (!status && (status = phys_run(p, st, NULL, NULL, &y)))
        e3c_error_prefix("the model raised");
    if (!status)
        status = output_numbers(p->s, y, eo, &E, &nE);
    if (!status)
        status = output_numbers(p->s, y, ao, &e, &ne);
    if (!status && (!E || !e || nE != st->n_structures || ne != st->n_atoms))
        status = e3c_error_set(E3C_ERR_VALUE, "outputs '%s' and '%s' must hold one number per structure and per atom",
                               p->s->outputs[eo].key, p->s->outputs[ao].key);
    if (!status && !(sum = calloc((size_t)st->n_structures, sizeof *sum)))
        status = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; !status && i < st->n_atoms; i++)
        sum[st->batch[i]] += e[i];
    double err = status ? 0 : max_diff(sum, E, nE), scale = status ? 1 : fmax(1.0, max_abs(E, nE));
    if (!isfinite(scale)) /* an infinite energy: no tolerance scaled by it */
        err = INFINITY, scale = 1;
    cJSON_AddNumberToObject(out->details, "max_error", err);
    cJSON_AddNumberToObject(out->details, "scale", scale);
    if (status)
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    else if (!(err <= tol * scale))
        result_set(out, E3C_FAILED, "the sum of '%s' differs from '%s' by %.3e > %.1e x %.3g", p->s->outputs[ao].key,
                   p->s->outputs[eo].key, err, tol, scale);
    else
        result_set(out, E3C_PASSED, "the sum of '%s' is '%s' to %.3e <= %.1e x %.3g", p->s->outputs[ao].key,
                   p->s->outputs[eo].key, err, tol, scale);
    free(E), free(e), free(sum);
    e3c_value_free(y);
    e3c_structure_free(st);
}

/* Atom `a` of a periodic structure moved by lattice vector `k` of its cell, the image offsets
 * (and Cartesian shifts) of its edges corrected so that every edge vector stays. */
static e3c_status move_by_lattice(const e3c_structure *st, int64_t a, int k, e3c_structure **out)
{
    e3c_status status = e3c_structure_copy(out, st);
    if (status)
        return status;
    e3c_structure *m = *out;
    const double *cell = &st->cells[9 * st->batch[a]];
    for (int c = 0; c < 3; c++)
        m->positions[3 * a + c] += cell[3 * k + c];
    for (int64_t e = 0; e < st->n_edges; e++) {
        int64_t i = st->edge_index[e], j = st->edge_index[st->n_edges + e];
        int delta = (i == a) - (j == a); /* vec = pos[j] - pos[i] + S @ cell */
        if (!delta)
            continue;
        m->unit_shifts[3 * e + k] += delta;
        for (int c = 0; c < 3; c++)
            m->shifts[3 * e + c] += delta * cell[3 * k + c];
    }
    return E3C_OK;
}

/* Moving an atom by a lattice vector (image offsets corrected) changes nothing. */
static void run_periodic_images(phys *p, uint64_t seed, double tol, e3c_check_result *out)
{
    e3c_structure *st = NULL, *moved = NULL;
    e3c_value *y0 = NULL, *y1 = NULL;
    double worst = 0;
    size_t worst_k = 0;
    int compared = 0;
    e3c_status status = make_structure(p->s, seed, &st);
    if (!status)
        structure_details(p->s, st, out->details);
    if (!status && !st->periodic[0]) {
        result_set(out, E3C_SKIPPED, "the structure has no cell: no periodic images to check");
        e3c_structure_free(st);
        return;
    }
    uint64_t state = seed ^ 0x494d4147ull;
    int64_t a = st ? (int64_t)(next_random(&state) % (uint64_t)st->n_atoms) : 0;
    int k = (int)(next_random(&state) % 3);
    if (!status)
        status = move_by_lattice(st, a, k, &moved);
    cJSON_AddNumberToObject(out->details, "atom", (double)a);
    cJSON_AddNumberToObject(out->details, "lattice_vector", k);
    if (!status && (status = phys_run(p, st, NULL, NULL, &y0)))
        e3c_error_prefix("the model raised");
    if (!status && (status = phys_run(p, moved, NULL, NULL, &y1)))
        e3c_error_prefix("the model raised with atom %lld moved by a lattice vector", (long long)a);
    if (!status)
        status = compare_outputs(p->s, y1, y0, st, NULL, NULL, out->details, &worst, &worst_k, &compared);
    if (status)
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    else
        invariance_verdict(p->s, out, "an atom moved by a lattice vector, its image offsets corrected", worst, worst_k,
                           compared, tol);
    e3c_value_free(y0), e3c_value_free(y1);
    e3c_structure_free(st), e3c_structure_free(moved);
}

e3c_status e3c_check_structured_physical(e3c_check_result *out, e3c_jit_module *m, const e3c_structured *s, int kind,
                                         uint64_t seed, const e3c_physical_options *opt)
{
    double start = 0;
    e3c_status begun = structured_begin("structured physical check", m, s, seed, out, &start);
    if (begun)
        return begun;
    phys p = {m, s, seed, 0};
    int f64 = s->model_dtype == E3C_FLOAT64;
    e3c_physical_options defaults = E3C_PHYSICAL_OPTIONS_INIT;
    if (!opt)
        opt = &defaults;
    double given = opt->tolerance > 0 ? opt->tolerance : 0;
    if (kind == E3C_CHECK_PERMUTATION) {
        double tol = given ? given : f64 ? 1e-10 : 1e-4; /* NequIP's, absolute */
        cJSON_AddNumberToObject(out->details, "tolerance", tol);
        run_permutation(&p, seed, tol, out);
    } else if (kind == E3C_CHECK_PERIODIC_IMAGES) {
        double tol = given ? given : f64 ? 1e-9 : 1e-3; /* as translation */
        cJSON_AddNumberToObject(out->details, "tolerance", tol);
        run_periodic_images(&p, seed, tol, out);
    } else if (kind == E3C_CHECK_TRANSLATION) {
        double tol = given ? given : f64 ? 1e-9 : 1e-3; /* e3nn's, as in equivariance */
        cJSON_AddNumberToObject(out->details, "tolerance", tol);
        run_translation(&p, seed, tol, out);
    } else if (kind == E3C_CHECK_SMOOTHNESS) {
        run_smoothness(&p, seed, opt, out);
    } else if (kind == E3C_CHECK_BATCHING || kind == E3C_CHECK_ADDITIVITY) {
        double tol = given ? given : f64 ? 1e-10 : 1e-4;
        cJSON_AddNumberToObject(out->details, "tolerance", tol);
        int batched = 0;
        for (size_t i = 0; i < s->n_inputs; i++)
            batched |= s->inputs[i].role == E3C_ROLE_BATCH || s->inputs[i].role == E3C_ROLE_PTR;
        if (kind == E3C_CHECK_ADDITIVITY)
            run_additivity(&p, seed, tol, out);
        else if (batched)
            run_batching(&p, seed, tol, out);
        else
            result_set(out, E3C_SKIPPED, "the model takes no batch or ptr input: one structure per call");
    } else {
        fd_settings fs = f64 ? (fd_settings){1e-3, 1e-6, 1e-6, 3} : (fd_settings){1e-2, 5e-3, 5e-3, 3};
        if (given)
            fs.atol = given, fs.rtol = given;
        if (opt->components >= 1 && opt->components <= 1000)
            fs.components = opt->components;
        cJSON_AddNumberToObject(out->details, "step", fs.step);
        cJSON_AddNumberToObject(out->details, "atol", fs.atol);
        cJSON_AddNumberToObject(out->details, "rtol", fs.rtol);
        cJSON_AddNumberToObject(out->details, "components", fs.components);
        cJSON_AddStringToObject(out->details, "tolerance_rule",
                                "atol + rtol * max|output| + |Richardson - central difference at step/2|");
        run_conservative(&p, seed, &fs, out);
    }
    cJSON_AddNumberToObject(out->details, "model_calls", p.calls);
    out->duration_s = now_s() - start;
    return E3C_OK;
}

/* ------------------------------------------------------------------ fixtures ---- */

e3c_status e3c_structured_fixture_run(e3c_check_result *out, const e3c_fixture *fx, int kind, uint64_t seed)
{
    if (!fx || !out || !fx->structured)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_structured_fixture_run: NULL argument or not a structured fixture");
    memset(out, 0, sizeof *out);
    double start = now_s();
    e3c_structured s_run;
    const e3c_structured *s = &s_run;
    const e3c_fixture_check *c = &fx->check[(unsigned)kind < E3C_CHECK_KIND_COUNT ? kind : 0];
    e3c_jit_module *m = NULL;
    e3c_status st = structured_load(&m, &s_run, fx);
    const char *path = fx->torchscript;
    if (st) {
        out->details = cJSON_CreateObject();
        out->seed = seed;
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    } else if (kind == E3C_CHECK_EQUIVARIANCE) {
        e3c_equivariance_options o = c->equivariance;
        o.seed = seed;
        e3c_check_structured_equivariance(out, m, s, path, &o);
    } else if (kind == E3C_CHECK_AUTO_JITABLE) {
        e3c_auto_jitable_options o = c->auto_jitable;
        o.seed = seed;
        e3c_check_structured_auto_jitable(out, m, s, path, &o);
    } else if (kind == E3C_CHECK_PERMUTATION || kind == E3C_CHECK_TRANSLATION || kind == E3C_CHECK_CONSERVATIVE ||
               kind == E3C_CHECK_BATCHING || kind == E3C_CHECK_ADDITIVITY || kind == E3C_CHECK_PERIODIC_IMAGES ||
               kind == E3C_CHECK_SMOOTHNESS) {
        e3c_check_structured_physical(out, m, s, kind, seed, &c->physical);
    } else if (kind == E3C_CHECK_GOLDEN) {
        e3c_check_structured_golden(out, m, s, c->options, fx->base_dir, seed);
    } else {
        out->details = cJSON_CreateObject();
        out->seed = seed;
        result_set(out, E3C_ERRORED, "the %s check is not available for structured models yet",
                   e3c_check_kind_name((e3c_check_kind)kind));
    }
    e3c_jit_free(m);
    out->duration_s = now_s() - start;
    return E3C_OK;
}
