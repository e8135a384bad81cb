/* The recursive compiler: e3nn.util.jit's compile, script, trace and get_tracing_inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e3check/module.h"
#include "module_internal.h"

/* ------------------------------------------------------------- tracing inputs ---- */

/* An integer uniform in [lo, hi] from the seeded generator; *out is lo on failure. */
static e3c_status rand_int(e3c_generator *g, int lo, int hi, int *out)
{
    *out = lo;
    e3c_tensor *u = NULL;
    double v;
    e3c_status st = e3c_rand(&u, g, E3C_FLOAT64, NULL, 0);
    if (!st)
        st = e3c_tensor_to_doubles(&v, 1, u);
    e3c_tensor_free(u);
    if (!st) {
        int k = lo + (int)floor(v * (hi - lo + 1));
        *out = k > hi ? hi : k;
    }
    return st;
}

static e3c_status random_args(const e3c_module *m, e3c_generator *g, e3c_dtype dtype, e3c_values **out)
{
    int batch;
    e3c_status st = rand_int(g, 1, 4, &batch);
    return st ? st : e3c_arg_specs_randn(out, m->irreps_in, m->n_in, g, batch, dtype, 0);
}

/* Cast the floating tensors of a list to dtype (integer tensors keep theirs). */
static e3c_status cast_floating(e3c_values **list, e3c_dtype dtype)
{
    e3c_values *cast = NULL;
    e3c_status st = e3c_values_new(&cast);
    for (size_t i = 0; !st && i < e3c_values_count(*list); i++) {
        const e3c_tensor *t = e3c_values_get(*list, i);
        e3c_dtype d;
        e3c_tensor *c = NULL;
        st = e3c_tensor_dtype(&d, t);
        if (!st)
            st = (d == E3C_FLOAT32 || d == E3C_FLOAT64) ? e3c_tensor_to(&c, t, dtype) : e3c_tensor_ref(&c, t);
        if (!st)
            st = e3c_values_push(cast, c);
        e3c_tensor_free(c);
    }
    if (st) {
        e3c_values_free(cast);
        return st;
    }
    e3c_values_free(*list);
    *list = cast;
    return E3C_OK;
}

int e3c_module_has_tracing_hook(const e3c_module *m)
{
    return m && (m->n_fixed_inputs > 0 || m->cls->make_tracing_inputs != NULL);
}

e3c_status e3c_module_tracing_inputs(e3c_values ***out, size_t *count, e3c_module *m, int n, e3c_generator *g)
{
    if (!m || !g || !out || !count)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_tracing_inputs: NULL argument");
    *out = NULL;
    *count = 0;
    e3c_values **lists = NULL;
    size_t k = 0;
    e3c_status st = E3C_OK;
    if (m->n_fixed_inputs) {
        st = copy_values_array(&lists, m->fixed_inputs, m->n_fixed_inputs);
        k = m->n_fixed_inputs;
    } else if (m->cls->make_tracing_inputs) {
        st = m->cls->make_tracing_inputs(m, n, g, &lists, &k);
        if (!st && (!lists || k == 0))
            st = e3c_error_set(E3C_ERR_VALUE,
                               "%s's tracing-input hook must return at least one argument list "
                               "(e3nn: _make_tracing_inputs must return a list of dict[str, tuple])",
                               m->cls->name);
    } else if (!m->has_irreps_in) {
        return e3c_error_set(E3C_ERR_VALUE, "Cannot infer irreps_in for %s(); provide them explicitly", m->cls->name);
    } else {
        k = (size_t)(n > 0 ? n : 1);
        lists = calloc(k, sizeof *lists);
        if (!lists)
            return e3c_error_set(E3C_ERR_NOMEM, "out of memory for tracing inputs");
        for (size_t i = 0; !st && i < k; i++)
            st = random_args(m, g, e3c_module_dtype(m), &lists[i]);
    }
    for (size_t i = 0; !st && i < k; i++)
        st = cast_floating(&lists[i], e3c_module_dtype(m));
    if (st) {
        e3c_values_array_free(lists, k);
        return st;
    }
    *out = lists;
    *count = k;
    return E3C_OK;
}

/* ------------------------------------------------------------------ compiling ---- */

typedef struct compile_ctx {
    const e3c_compile_options *opt;
    e3c_generator *g;
    e3c_strings warnings; /* collected over the whole tree */
} compile_ctx;

static e3c_status add_warning(compile_ctx *cx, const char *path, const char *text)
{
    char **items = realloc(cx->warnings.items, (cx->warnings.count + 1) * sizeof *items);
    if (!items)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for warnings");
    cx->warnings.items = items;
    size_t n = strlen(path) + strlen(text) + 3;
    char *w = malloc(n);
    if (!w)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for warnings");
    snprintf(w, n, "%s: %s", path, text);
    items[cx->warnings.count++] = w;
    return E3C_OK;
}

static e3c_status trace_callback(void *ctx, const e3c_values *inputs, e3c_values **outputs)
{
    e3c_module *m = ctx;
    return m->cls->forward(m, inputs, outputs);
}

/* The first line where two graph texts differ, for the error message. */
static void first_difference(const char *a, const char *b, char *buf, size_t cap)
{
    while (*a && *a == *b) {
        const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
        if (!na || !nb || na - a != nb - b || strncmp(a, b, (size_t)(na - a)))
            break;
        a = na + 1;
        b = nb + 1;
    }
    const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
    snprintf(buf, cap, "'%.*s' became '%.*s'", (int)(ea ? ea - a : (long)strlen(a)), a,
             (int)(eb ? eb - b : (long)strlen(b)), b);
}

/* Compare the traced module with the eager forward on one check input. */
static e3c_status check_outputs(e3c_module *m, const e3c_values *in, size_t index, double rtol, const char *path)
{
    e3c_values *traced = NULL, *eager = NULL;
    e3c_status st = e3c_jit_run(&traced, m->jit, "forward", in);
    if (st)
        return e3c_error_prefix("trace check of %s failed on check input %zu: the traced module raised", path, index);
    st = m->cls->forward(m, in, &eager);
    if (!st && e3c_values_count(traced) != e3c_values_count(eager))
        st = e3c_error_set(E3C_ERR_VALUE, "trace check of %s failed on check input %zu: %zu outputs traced, %zu eager",
                           path, index, e3c_values_count(traced), e3c_values_count(eager));
    for (size_t i = 0; !st && i < e3c_values_count(traced); i++) {
        const e3c_tensor *a = e3c_values_get(traced, i), *b = e3c_values_get(eager, i);
        double diff = 0.0, scale = 0.0;
        if (e3c_tensor_max_abs_diff(&diff, a, b) || e3c_tensor_max_abs(&scale, b)) {
            st = e3c_error_prefix("trace check of %s failed on check input %zu, output %zu", path, index, i);
            break;
        }
        if (isnan(scale)) /* NaN where the eager output has NaN matches (equal_nan): the rest is compared */
            scale = INFINITY;
        if (!(diff <= 1e-5 + rtol * scale))
            st = e3c_error_set(E3C_ERR_VALUE,
                               "trace check of %s failed on check input %zu: output %zu of the traced module differs "
                               "from the eager forward by %.3e (tolerance %.1e relative)",
                               path, index, i, diff, rtol);
    }
    e3c_values_free(traced);
    e3c_values_free(eager);
    return st;
}

static e3c_status trace_self(compile_ctx *cx, e3c_module *m, const char *path)
{
    e3c_values **inputs = NULL;
    size_t count = 0;
    char *graph0 = NULL;
    e3c_strings warns = {0, NULL};
    e3c_status st = e3c_module_tracing_inputs(&inputs, &count, m, cx->opt->n_trace_checks, cx->g);
    if (st)
        return e3c_error_prefix("cannot trace %s", path);
    st = e3c_jit_trace(&graph0, &warns, m->jit, trace_callback, m, inputs[0], 1);
    if (st)
        st = e3c_error_prefix("tracing %s failed", path);
    for (size_t i = 0; !st && i < warns.count; i++)
        st = add_warning(cx, path, warns.items[i]);
    e3c_strings_free(&warns);
    if (!st)
        m->compiled = E3C_TRACED;
    for (size_t i = 0; !st && i < count; i++) {
        char *graph = NULL;
        st = e3c_jit_trace(&graph, NULL, m->jit, trace_callback, m, inputs[i], 0);
        if (st)
            st = e3c_error_prefix("trace check of %s failed on check input %zu", path, i);
        else if (strcmp(graph, graph0) != 0) {
            char diff[512];
            first_difference(graph0, graph, diff, sizeof diff);
            st = e3c_error_set(E3C_ERR_VALUE,
                               "trace check of %s failed on check input %zu: the graph differs from the traced one "
                               "(data-dependent control flow, or a size baked into the trace?): %s",
                               path, i, diff);
        }
        free(graph);
        if (!st)
            st = check_outputs(m, inputs[i], i, cx->opt->check_tolerance, path);
    }
    free(graph0);
    e3c_values_array_free(inputs, count);
    if (!st && cx->opt->error_on_warnings)
        for (size_t i = 0; i < cx->warnings.count; i++)
            if (!strncmp(cx->warnings.items[i], path, strlen(path)) && cx->warnings.items[i][strlen(path)] == ':')
                return e3c_error_set(E3C_ERR_VALUE, "tracer warning while tracing %s", cx->warnings.items[i]);
    return st;
}

/* Give a mode-none child with TorchScript source a scripted form, as torch.jit.script
 * recursing into a Python child would; anything else without a TorchScript form stops. */
static e3c_status script_self(e3c_module *m, const char *path);

static e3c_status script_children(e3c_module *m, const char *path)
{
    for (size_t i = 0; i < m->n_children; i++) {
        e3c_module *c = m->children[i];
        if (c->compiled)
            continue;
        char child_path[1024];
        snprintf(child_path, sizeof child_path, "%s.%s", path, m->child_names[i]);
        if (!e3c_module_script_source(c))
            return e3c_error_set(E3C_ERR_VALUE,
                                 "cannot script %s: its child %s (%s, mode %s) has no TorchScript form; mark it "
                                 "trace or script, or give its class TorchScript source",
                                 path, child_path, c->cls->name, e3c_compile_mode_name(e3c_module_mode(c)));
        e3c_status st = script_self(c, child_path);
        if (st)
            return st;
    }
    return E3C_OK;
}

static e3c_status script_self(e3c_module *m, const char *path)
{
    if (!e3c_module_script_source(m))
        return e3c_error_set(E3C_ERR_VALUE, "cannot script %s: class %s has no TorchScript source", path, m->cls->name);
    e3c_status st = script_children(m, path);
    if (!st)
        st = e3c_jit_define(m->jit, e3c_module_script_source(m));
    if (st)
        return e3c_error_prefix("scripting %s (%s)", path, m->cls->name);
    m->compiled = E3C_SCRIPTED;
    return E3C_OK;
}

static e3c_status compile_tree(compile_ctx *cx, e3c_module *m, const char *path)
{
    e3c_compile_mode mode = e3c_module_mode(m);
    if (mode == E3C_MODE_UNSUPPORTED)
        return e3c_error_set(E3C_ERR_VALUE, "%s does not support TorchScript compilation (module %s)", m->cls->name,
                             path);
    if (m->compiled)
        return E3C_OK; /* already compiled: e3nn leaves compiled modules alone */
    for (size_t i = 0; i < m->n_children; i++) {
        char child_path[1024];
        snprintf(child_path, sizeof child_path, "%s.%s", path, m->child_names[i]);
        e3c_status st = compile_tree(cx, m->children[i], child_path);
        if (st)
            return st;
    }
    if (mode == E3C_MODE_SCRIPT)
        return script_self(m, path);
    if (mode == E3C_MODE_TRACE)
        return trace_self(cx, m, path);
    return E3C_OK;
}

e3c_status e3c_module_compile(e3c_module **out, e3c_module *m, const e3c_compile_options *opt)
{
    static const e3c_compile_options defaults = E3C_COMPILE_OPTIONS_INIT;
    if (!out || !m)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_compile: NULL argument");
    *out = NULL;
    if (!opt)
        opt = &defaults;
    if (e3c_module_mode(m) == E3C_MODE_UNSUPPORTED)
        return e3c_error_set(E3C_ERR_VALUE, "%s does not support TorchScript compilation (module root)", m->cls->name);
    if (opt->n_trace_checks < 1)
        return e3c_error_set(E3C_ERR_INVALID, "n_trace_checks must be >= 1, got %d", opt->n_trace_checks);
    e3c_module *target = m;
    e3c_status st = opt->in_place ? E3C_OK : e3c_module_clone(&target, m);
    if (st)
        return st;
    compile_ctx cx = {opt, NULL, {0, NULL}};
    st = e3c_generator_new(&cx.g, opt->seed);
    if (!st)
        st = compile_tree(&cx, target, "root");
    e3c_generator_free(cx.g);
    if (opt->warnings) {
        for (size_t i = 0; i < cx.warnings.count; i++) {
            char **items = realloc(opt->warnings->items, (opt->warnings->count + 1) * sizeof *items);
            if (!items)
                break;
            opt->warnings->items = items;
            items[opt->warnings->count++] = cx.warnings.items[i];
            cx.warnings.items[i] = NULL;
        }
    }
    e3c_strings_free(&cx.warnings);
    if (st) {
        if (target != m)
            e3c_module_free(target);
        return st;
    }
    *out = target;
    return E3C_OK;
}

/* e3nn's mode-forcing wrappers: warn on a differing mode, set the instance mode, compile,
 * restore only a mode that was set (so an undecorated module keeps the forced one). */
static e3c_status force_mode(e3c_module *m, e3c_compile_mode forced, const e3c_compile_options *opt, int *had_mode,
                             e3c_compile_mode *old)
{
    *old = e3c_module_mode(m);
    *had_mode = *old != E3C_MODE_NONE;
    if (*had_mode && *old != forced && opt && opt->warnings) {
        char text[512];
        snprintf(text, sizeof text,
                 "Trying to %s a module of type %s marked with @compile_mode != '%s', expect errors!",
                 forced == E3C_MODE_SCRIPT ? "script" : "trace", m->cls->name, e3c_compile_mode_name(forced));
        char **items = realloc(opt->warnings->items, (opt->warnings->count + 1) * sizeof *items);
        if (!items)
            return e3c_error_set(E3C_ERR_NOMEM, "out of memory for warnings");
        opt->warnings->items = items;
        items[opt->warnings->count] = strdup(text);
        if (items[opt->warnings->count])
            opt->warnings->count++;
    }
    m->has_mode_override = 1;
    m->mode_override = forced;
    return E3C_OK;
}

e3c_status e3c_module_script(e3c_module **out, e3c_module *m, const e3c_compile_options *opt)
{
    if (!out || !m)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_script: NULL argument");
    int had;
    e3c_compile_mode old;
    e3c_status st = force_mode(m, E3C_MODE_SCRIPT, opt, &had, &old);
    if (!st)
        st = e3c_module_compile(out, m, opt);
    if (had)
        m->mode_override = old;
    return st;
}

e3c_status e3c_module_trace(e3c_module **out, e3c_module *m, const e3c_values *example, const e3c_values *const *checks,
                            size_t n_checks, const e3c_compile_options *opt)
{
    if (!out || !m || (n_checks && !checks))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_trace: NULL argument");
    int had;
    e3c_compile_mode old;
    e3c_status st = force_mode(m, E3C_MODE_TRACE, opt, &had, &old);
    if (st)
        return st;
    int had_hook = e3c_module_has_tracing_hook(m);
    e3c_values **old_inputs = m->fixed_inputs;
    size_t old_n = m->n_fixed_inputs;
    if (example) {
        e3c_values **lists = calloc(n_checks + 1, sizeof *lists);
        st = lists ? copy_values(&lists[0], example) : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < n_checks; i++)
            st = copy_values(&lists[i + 1], checks[i]);
        if (st) {
            e3c_values_array_free(lists, n_checks + 1);
            return st;
        }
        m->fixed_inputs = lists;
        m->n_fixed_inputs = n_checks + 1;
    }
    st = e3c_module_compile(out, m, opt);
    if (had)
        m->mode_override = old;
    if (example && had_hook) { /* e3nn restores a hook that existed; otherwise it leaks */
        e3c_values_array_free(m->fixed_inputs, m->n_fixed_inputs);
        m->fixed_inputs = old_inputs;
        m->n_fixed_inputs = old_n;
    } else if (example) {
        e3c_values_array_free(old_inputs, old_n);
    }
    return st;
}

/* ------------------------------------------------------------------ describing ---- */

static e3c_status describe_rec(const e3c_module *m, const char *path, e3c_strings *out)
{
    static const char *const how[] = {"eager", "traced", "scripted"};
    char line[1200];
    snprintf(line, sizeof line, "%s %s mode=%s %s", path, m->cls->name, e3c_compile_mode_name(e3c_module_mode(m)),
             how[m->compiled]);
    char **items = realloc(out->items, (out->count + 1) * sizeof *items);
    if (!items)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory describing the tree");
    out->items = items;
    if (!(items[out->count] = strdup(line)))
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory describing the tree");
    out->count++;
    for (size_t i = 0; i < m->n_children; i++) {
        char child_path[1024];
        snprintf(child_path, sizeof child_path, "%s.%s", path, m->child_names[i]);
        e3c_status st = describe_rec(m->children[i], child_path, out);
        if (st)
            return st;
    }
    return E3C_OK;
}

e3c_status e3c_module_describe(e3c_strings *out, const e3c_module *m, const char *root_name)
{
    if (!m || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_describe: NULL argument");
    *out = (e3c_strings){0, NULL};
    e3c_status st = describe_rec(m, root_name ? root_name : "root", out);
    if (st)
        e3c_strings_free(out);
    return st;
}
