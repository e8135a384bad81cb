/* e3nn's assert_auto_jitable, extended: every input's strict shapes, compiled vs eager,
 * and a save/reload round trip. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_internal.h"

/* Call the compiled form (a module's TorchScript or the script). */
static e3c_status call_jit(e3c_jit_module *jit, const e3c_values *in, e3c_values **out)
{
    return e3c_jit_run(out, jit, NULL, in);
}

/* Outputs must match the declared irreps_out widths (none: any). */
static e3c_status check_widths(const e3c_subject *s, const e3c_values *ys)
{
    if (e3c_values_count(ys) != s->n_out)
        return e3c_error_set(E3C_ERR_VALUE, "it returned %zu outputs but %zu irreps_out are declared",
                             e3c_values_count(ys), s->n_out);
    for (size_t i = 0; i < s->n_out; i++) {
        int64_t want = spec_width(&s->irreps_out[i]);
        int64_t got = e3c_tensor_size(e3c_values_get(ys, i), -1);
        if (want >= 0 && got != want)
            return e3c_error_set(E3C_ERR_VALUE, "output %zu has width %lld but its declared irreps have dimension %lld",
                                 i, (long long)got, (long long)want);
    }
    return E3C_OK;
}

/* x with `delta` columns: its first width + delta columns (delta < 0), or zeros appended
 * (delta > 0). Caller owns *out. */
static e3c_status resized(const e3c_tensor *x, int64_t delta, e3c_tensor **out)
{
    if (delta < 0)
        return e3c_tensor_narrow_last(out, x, e3c_tensor_size(x, -1) + delta);
    e3c_tensor *zeros = NULL;
    e3c_values *parts = NULL;
    e3c_status st = e3c_tensor_zeros_last(&zeros, x, delta);
    if (!st)
        st = e3c_values_new(&parts);
    if (!st)
        st = e3c_values_push(parts, x);
    if (!st)
        st = e3c_values_push(parts, zeros);
    if (!st)
        st = e3c_tensor_cat(out, parts, -1);
    e3c_tensor_free(zeros), e3c_values_free(parts);
    return st;
}

/* Each input in turn 1, 2 and 3 columns narrower (e3nn's cuts, as far as the input has
 * columns) and 1, 2 and 3 wider (a model that reads only the first columns is caught);
 * every call must raise. Returns 1 when all were rejected, 0 (with `why`) when one was
 * accepted; `note` names the inputs of width 0, which have no narrower form. */
static int strict_shapes(e3c_jit_module *jit, const e3c_subject *s, const e3c_values *args, char *why, size_t cap,
                         char *note, size_t note_cap)
{
    static const int64_t deltas[6] = {-1, -2, -3, 1, 2, 3};
    for (size_t i = 0; i < e3c_values_count(args); i++) {
        if (i < s->n_in && s->irreps_in[i].kind == E3C_ARG_NONE)
            continue;
        const e3c_tensor *x = e3c_values_get(args, i);
        int64_t width = e3c_tensor_size(x, -1);
        if (width == 0)
            snprintf(note + strlen(note), note_cap - strlen(note),
                     "; input %zu has width 0: no narrower input exists, "
                     "only wider ones were tried",
                     i);
        for (int d = 0; d < 6; d++) {
            if (width + deltas[d] < 0)
                continue;
            e3c_values *bad = NULL, *ys = NULL;
            e3c_tensor *other = NULL;
            e3c_status st = e3c_values_new(&bad);
            for (size_t j = 0; !st && j < e3c_values_count(args); j++) {
                if (j == i) {
                    st = resized(x, deltas[d], &other);
                    if (!st)
                        st = e3c_values_push(bad, other);
                } else {
                    st = e3c_values_push(bad, e3c_values_get(args, j));
                }
            }
            int accepted = !st && call_jit(jit, bad, &ys) == E3C_OK;
            e3c_values_free(bad), e3c_values_free(ys), e3c_tensor_free(other);
            if (accepted) {
                snprintf(why, cap, "input %zu accepted a width of %lld instead of %lld", i,
                         (long long)(width + deltas[d]), (long long)width);
                return 0;
            }
        }
    }
    return 1;
}

/* The first NaN or infinity among the outputs: 1 with `why` naming it, else 0 (-1 when
 * they cannot be read, with the error). */
static int nonfinite_output(const e3c_values *ys, char *why, size_t cap)
{
    for (size_t i = 0; i < e3c_values_count(ys); i++) {
        int found = 0;
        int64_t at = 0;
        double v = 0;
        if (tensor_first_nonfinite(e3c_values_get(ys, i), &found, &at, &v))
            return -1;
        if (found) {
            char index[128];
            format_index(e3c_values_get(ys, i), at, index, sizeof index);
            snprintf(why, cap, "output %zu holds %s at index %s on the check's inputs", i,
                     isnan(v) ? "NaN"
                     : v > 0  ? "inf"
                              : "-inf",
                     index);
            return 1;
        }
    }
    return 0;
}

/* Largest difference between two lists, relative to max(1, |b|). */
static e3c_status compare_lists(const e3c_values *a, const e3c_values *b, double *worst)
{
    *worst = 0.0;
    if (e3c_values_count(a) != e3c_values_count(b))
        return e3c_error_set(E3C_ERR_VALUE, "%zu outputs compiled, %zu eager", e3c_values_count(a),
                             e3c_values_count(b));
    for (size_t i = 0; i < e3c_values_count(a); i++) {
        double d, scale;
        e3c_status st = e3c_tensor_max_abs_diff(&d, e3c_values_get(a, i), e3c_values_get(b, i));
        if (!st)
            st = e3c_tensor_max_abs(&scale, e3c_values_get(b, i));
        if (st)
            return st;
        d /= scale > 1.0 ? scale : 1.0;
        *worst = worse_error(*worst, d);
    }
    return E3C_OK;
}

static int all_equal(const e3c_values *a, const e3c_values *b)
{
    if (e3c_values_count(a) != e3c_values_count(b))
        return 0;
    for (size_t i = 0; i < e3c_values_count(a); i++)
        if (!e3c_tensor_equal(e3c_values_get(a, i), e3c_values_get(b, i)))
            return 0;
    return 1;
}

/* Save, reload, rerun. Returns a verdict; `why` explains a failure. */
/* Save to memory, load back, rerun: the outputs must be identical. */
static e3c_verdict roundtrip(e3c_jit_module *jit, const e3c_values *args, const e3c_values *before, char *why,
                             size_t cap)
{
    void *archive = NULL;
    size_t size = 0;
    e3c_jit_module *again = NULL;
    e3c_values *after = NULL;
    e3c_verdict v = E3C_PASSED;
    if (e3c_jit_save_buffer(&archive, &size, jit) || e3c_jit_load_buffer(&again, archive, size, "the saved module")) {
        snprintf(why, cap, "save/reload failed: %s", e3c_error_last());
        v = E3C_FAILED;
    } else if (call_jit(again, args, &after)) {
        snprintf(why, cap, "the reloaded module raised: %s", e3c_error_last());
        v = E3C_FAILED;
    } else if (!all_equal(before, after)) {
        snprintf(why, cap, "the reloaded module gives different outputs");
        v = E3C_FAILED;
    }
    free(archive);
    e3c_values_free(after);
    e3c_jit_free(again);
    return v;
}

static void tree_details(const e3c_module *m, cJSON *details)
{
    e3c_strings tree = {0, NULL};
    if (e3c_module_describe(&tree, m, "root"))
        return;
    cJSON *arr = cJSON_AddArrayToObject(details, "compiled_tree");
    for (size_t i = 0; i < tree.count; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(tree.items[i]));
    e3c_strings_free(&tree);
}

/* The module path: compile a copy, compare with eager; returns the compiled copy. */
static e3c_module *compile_module(const e3c_subject *s, const e3c_auto_jitable_options *opt, cJSON *steps,
                                  e3c_check_result *out)
{
    if (e3c_module_mode(s->module) == E3C_MODE_NONE) {
        result_set(out, E3C_FAILED, "assert_auto_jitable is only for modules marked with @compile_mode");
        check_add_step(steps, "compile", "refused", out->message);
        return NULL;
    }
    e3c_strings warnings = {0, NULL};
    e3c_compile_options copt = E3C_COMPILE_OPTIONS_INIT;
    copt.n_trace_checks = opt->n_trace_checks;
    copt.in_place = 0;
    copt.error_on_warnings = opt->error_on_warnings;
    copt.seed = opt->seed;
    copt.warnings = &warnings;
    e3c_module *compiled = NULL;
    e3c_status st = e3c_module_compile(&compiled, s->module, &copt);
    cJSON *w = cJSON_AddArrayToObject(out->details, "warnings");
    for (size_t i = 0; i < warnings.count; i++)
        cJSON_AddItemToArray(w, cJSON_CreateString(warnings.items[i]));
    e3c_strings_free(&warnings);
    if (st) { /* running out of memory says nothing of the module's compilability */
        int oom = out_of_memory(st);
        result_set(out, oom ? E3C_ERRORED : E3C_FAILED, "compilation %s: %s", oom ? "ran out of memory" : "failed",
                   e3c_error_last());
        check_add_step(steps, "compile", oom ? "error" : "failed", out->message);
        return NULL;
    }
    check_add_step(steps, "compile", "ok", NULL);
    tree_details(compiled, out->details);
    return compiled;
}

static void run_checks(const e3c_subject *s, const e3c_auto_jitable_options *opt, e3c_check_result *out)
{
    check_steps_start();
    cJSON *steps = cJSON_AddArrayToObject(out->details, "steps");
    e3c_module *compiled = s->module ? compile_module(s, opt, steps, out) : NULL;
    if (s->module && !compiled)
        return;
    e3c_jit_module *jit = compiled ? e3c_module_jit(compiled) : s->script;
    if (!jit) {
        result_set(out, E3C_FAILED, "the module has no compiled form (mode none at the top level)");
        e3c_module_free(compiled);
        return;
    }
    e3c_generator *g = NULL;
    e3c_values *args = NULL, *ys = NULL, *eager = NULL;
    uint64_t rng = opt->seed ^ 0x5eedull;
    char why[1024] = "";
    int hook = s->module && e3c_module_has_tracing_hook(s->module);
    e3c_status st = e3c_generator_new(&g, opt->seed);
    if (!st && hook) { /* e3nn: a module with its own tracing inputs is run on them */
        e3c_values **lists = NULL;
        size_t count = 0;
        st = e3c_module_tracing_inputs(&lists, &count, s->module, 1, g);
        if (!st) {
            args = lists[0];
            lists[0] = NULL;
        }
        e3c_values_array_free(lists, count);
    } else if (!st)
        st = subject_random_inputs(s, g, opt->batch > 0 ? opt->batch : e3c_rng_int(&rng, 1, 4), &args);
    if (st) {
        result_set(out, E3C_ERRORED, "cannot make inputs: %s", e3c_error_last());
        goto done;
    }
    if (call_jit(jit, args, &ys) || (!hook && check_widths(s, ys))) {
        char widths[256] = "";
        for (size_t i = 0; i < s->n_in; i++)
            snprintf(widths + strlen(widths), sizeof widths - strlen(widths), "%s%lld", i ? ", " : "",
                     (long long)spec_width(&s->irreps_in[i]));
        result_set(out, E3C_ERRORED, "%s on inputs of the declared widths [%s]: %s", subject_name(s), widths,
                   e3c_error_last());
        check_add_step(steps, "run", "error", out->message);
        goto done;
    }
    check_add_step(steps, "run", "ok", NULL);
    int bad = nonfinite_output(ys, why, sizeof why);
    if (bad) { /* named here: later steps would blame a comparison */
        result_set(out, bad < 0 ? E3C_ERRORED : E3C_FAILED, "%s", bad < 0 ? e3c_error_last() : why);
        check_add_step(steps, "finite", bad < 0 ? "error" : "failed", out->message);
        goto done;
    }
    if (s->module) {
        double worst = 0.0, tol = s->dtype == E3C_FLOAT64 ? 1e-10 : 1e-4;
        if (e3c_module_forward(&eager, s->module, args)) {
            result_set(out, E3C_ERRORED, "eager forward: %s", e3c_error_last());
            goto done;
        }
        if (compare_lists(ys, eager, &worst)) { /* another number of outputs or another shape */
            result_set(out, E3C_FAILED, "the compiled module's outputs do not match the eager one's: %s",
                       e3c_error_last());
            check_add_step(steps, "compiled_vs_eager", "failed", out->message);
            goto done;
        }
        json_add_error(out->details, "compiled_vs_eager_error", worst);
        cJSON_AddNumberToObject(out->details, "compiled_vs_eager_tolerance", tol);
        if (!(worst <= tol)) {
            result_set(out, E3C_FAILED, "the compiled module differs from the eager one by %.3e (tolerance %.0e)",
                       worst, tol);
            check_add_step(steps, "compiled_vs_eager", "failed", out->message);
            goto done;
        }
        check_add_step(steps, "compiled_vs_eager", "ok", NULL);
    }
    char note[512] = "";
    if (!opt->strict_shapes || hook) {
        check_add_step(steps, "strict_shapes", "skipped",
                       hook ? "the module makes its own tracing inputs" : "disabled");
    } else if (!strict_shapes(jit, s, args, why, sizeof why, note, sizeof note)) {
        result_set(out, E3C_FAILED,
                   "Traced function didn't error on bad input shape: %s (the module must check each input's last "
                   "dimension itself, e.g. torch._assert(x.shape[-1] == width, ...) in its forward or TorchScript "
                   "source)",
                   why);
        check_add_step(steps, "strict_shapes", "failed", why);
        goto done;
    } else {
        snprintf(why, sizeof why, "every input rejected 1, 2 and 3 missing and extra columns%s", note);
        check_add_step(steps, "strict_shapes", "ok", why);
    }
    if (opt->roundtrip) {
        if (roundtrip(jit, args, ys, why, sizeof why) != E3C_PASSED) {
            result_set(out, E3C_FAILED, "save/reload round trip: %s", why);
            check_add_step(steps, "roundtrip", "failed", why);
            goto done;
        }
        check_add_step(steps, "roundtrip", "ok", "identical outputs after save and load");
    }
    result_set(out, E3C_PASSED, "auto-jitable: %s%s%s", s->module ? "compiles, matches eager" : "runs",
               opt->strict_shapes && !hook ? ", rejects bad widths" : "", opt->roundtrip ? ", round-trips" : "");
done:
    e3c_values_free(args), e3c_values_free(ys), e3c_values_free(eager);
    e3c_generator_free(g);
    e3c_module_free(compiled);
}

e3c_status e3c_check_auto_jitable(e3c_check_result *out, const e3c_subject *s, const e3c_auto_jitable_options *opt)
{
    static const e3c_auto_jitable_options defaults = E3C_AUTO_JITABLE_OPTIONS_INIT;
    if (!opt)
        opt = &defaults;
    double start;
    e3c_status begun = check_begin("e3c_check_auto_jitable", s, out, opt->seed, &start);
    if (begun)
        return begun;
    if (opt->n_trace_checks < 1)
        result_set(out, E3C_ERRORED, "n_trace_checks must be >= 1, got %d", opt->n_trace_checks);
    else
        run_checks(s, opt, out);
    out->duration_s = now_s() - start;
    return E3C_OK;
}
