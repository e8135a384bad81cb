/* e3nn parity (issue 18): BatchNorm against e3nn's golden values, the normalized check
 * against e3nn's assert_normalized verdicts, `e3check compile` (dtype, parameters, seed,
 * --name) and state dicts. Data: tests/data/golden/batchnorm_normalized.json (computed
 * with e3nn 0.5.6). */
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e3check/checks.h"
#include "e3check/fixture.h"
#include "e3check/module.h"
#include "e3check/nn.h"
#include "e3check/registry.h"
#include "test_util.h"

static cJSON *golden(void) { return load_json(E3C_TEST_DATA "/golden/batchnorm_normalized.json"); }

static e3c_tensor *tensor_of(const cJSON *nested)
{
    int64_t shape[4] = {0};
    int ndim = 0;
    for (const cJSON *c = nested; cJSON_IsArray(c) && ndim < 4; c = cJSON_GetArrayItem(c, 0))
        shape[ndim++] = cJSON_GetArraySize(c);
    size_t n = json_flatten(nested, NULL, 0);
    double *v = malloc((n ? n : 1) * sizeof *v);
    json_flatten(nested, v, n);
    e3c_tensor *t = NULL;
    E3C_ASSERT_OK(e3c_tensor_from_data(&t, v, E3C_FLOAT64, shape, ndim));
    free(v);
    return t;
}

static void expect_values(const char *what, int cfg, const e3c_tensor *got, const cJSON *want)
{
    size_t n = json_flatten(want, NULL, 0);
    cr_assert_eq((size_t)e3c_tensor_numel(got), n, "config %d %s: %lld values, e3nn %zu", cfg, what,
                 (long long)e3c_tensor_numel(got), n);
    double *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
    json_flatten(want, b, n);
    E3C_ASSERT_OK(e3c_tensor_to_doubles(got, a, n));
    for (size_t i = 0; i < n; i++)
        cr_assert(close_rel(a[i], b[i], 1e-12), "config %d %s[%zu] = %.17g, e3nn %.17g", cfg, what, i, a[i], b[i]);
    free(a), free(b);
}

static e3c_tensor *forward1(e3c_module *m, const cJSON *x)
{
    e3c_tensor *in = tensor_of(x), *out = NULL;
    E3C_ASSERT_OK(e3c_module_forward1(m, in, &out));
    e3c_tensor_free(in);
    return out;
}

static e3c_module *build_batch_norm(const cJSON *c)
{
    cJSON *spec = cJSON_CreateObject(), *args = cJSON_AddArrayToObject(spec, "args");
    cJSON_AddStringToObject(spec, "type", "BatchNorm");
    cJSON_AddItemToArray(args, cJSON_CreateString(cJSON_GetObjectItem(c, "irreps")->valuestring));
    cJSON_AddItemToObject(spec, "kwargs", cJSON_Duplicate(cJSON_GetObjectItem(c, "kwargs"), 1));
    e3c_module *m = NULL;
    E3C_ASSERT_OK(e3c_registry_build(&m, spec));
    cJSON_Delete(spec);
    return m;
}

static void set_from_json(e3c_module *m, const char *name, const cJSON *values)
{
    size_t n = json_flatten(values, NULL, 0);
    double *v = malloc((n ? n : 1) * sizeof *v);
    json_flatten(values, v, n);
    E3C_ASSERT_OK(e3c_module_set_tensor_values(m, name, v, n));
    free(v);
}

Test(batchnorm, six_configurations_match_e3nn_train_running_and_eval, .timeout = 120)
{
    cJSON *g = golden();
    E3C_ASSERT_OK(e3c_set_default_dtype(E3C_FLOAT64));
    int cfg = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "batchnorm"))
    {
        e3c_module *m = build_batch_norm(c);
        cr_assert(e3c_module_training(m), "a new module trains, as torch's do");
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "parameters")) set_from_json(m, p->string, p);
        const cJSON *outs = cJSON_GetObjectItem(c, "train_outputs");
        for (int step = 0; step < cJSON_GetArraySize(cJSON_GetObjectItem(c, "train_inputs")); step++) {
            e3c_tensor *y = forward1(m, cJSON_GetArrayItem(cJSON_GetObjectItem(c, "train_inputs"), step));
            expect_values("train output", cfg, y, cJSON_GetArrayItem(outs, step));
            e3c_tensor_free(y);
        }
        const cJSON *running = cJSON_GetObjectItem(c, "running");
        cJSON_ArrayForEach(p, running)
        {
            e3c_tensor *t = NULL;
            E3C_ASSERT_OK(e3c_module_tensor(m, p->string, &t));
            expect_values(p->string, cfg, t, p);
            e3c_tensor_free(t);
        }
        if (!cJSON_GetArraySize(running)) { /* instance: no running statistics at all */
            e3c_tensor *t = NULL;
            cr_assert_neq(e3c_module_tensor(m, "running_mean", &t), E3C_OK, "config %d: instance has no running_mean", cfg);
        }
        e3c_module_train(m, 0);
        e3c_tensor *y = forward1(m, cJSON_GetObjectItem(c, "eval_input"));
        expect_values("eval output", cfg, y, cJSON_GetObjectItem(c, "eval_output"));
        e3c_tensor_free(y);
        cJSON_ArrayForEach(p, running) /* eval leaves the running statistics alone */
        {
            e3c_tensor *t = NULL;
            E3C_ASSERT_OK(e3c_module_tensor(m, p->string, &t));
            expect_values(p->string, cfg, t, p);
            e3c_tensor_free(t);
        }
        e3c_module_free(m);
        cfg++;
    }
    cr_assert_eq(cfg, 6);
    cJSON_Delete(g);
}

Test(batchnorm, compile_is_refused_naming_the_module)
{
    e3c_module *m = NULL, *c = NULL;
    E3C_ASSERT_OK(e3c_batch_norm_new(&m, "2x0e+1x1o", NULL));
    cr_assert_eq(e3c_module_mode(m), E3C_MODE_UNSUPPORTED);
    e3c_compile_options opt = E3C_COMPILE_OPTIONS_INIT;
    opt.in_place = 0;
    e3c_status st = e3c_module_compile(&c, m, &opt);
    cr_assert_neq(st, E3C_OK);
    cr_assert(strstr(e3c_error_last(), "BatchNorm"), "%s", e3c_error_last());
    e3c_module_free(m);
}

Test(batchnorm, bad_arguments_and_inputs_are_clear_errors)
{
    e3c_module *m = NULL;
    e3c_batch_norm_options o = E3C_BATCH_NORM_OPTIONS_INIT;
    o.reduce = "sum";
    E3C_ASSERT_FAILS(e3c_batch_norm_new(&m, "1x0e", &o), E3C_ERR_VALUE, "reduce needs to be 'mean' or 'max'");
    o = (e3c_batch_norm_options)E3C_BATCH_NORM_OPTIONS_INIT;
    o.normalization = "integral";
    E3C_ASSERT_FAILS(e3c_batch_norm_new(&m, "1x0e", &o), E3C_ERR_VALUE, "normalization needs to be 'norm' or 'component'");
    E3C_ASSERT_FAILS(e3c_batch_norm_new(&m, "1x0q", NULL), E3C_ERR_VALUE, "BatchNorm");
    E3C_ASSERT_OK(e3c_batch_norm_new(&m, "1x0e+1x1o", NULL));
    int64_t shape[2] = {3, 3};
    e3c_tensor *x = NULL, *y = NULL;
    E3C_ASSERT_OK(e3c_tensor_zeros(&x, E3C_FLOAT64, shape, 2));
    E3C_ASSERT_FAILS(e3c_module_forward1(m, x, &y), E3C_ERR_VALUE, "3 columns, its irreps need 4");
    e3c_tensor_free(x);
    E3C_ASSERT_OK(e3c_tensor_zeros(&x, E3C_FLOAT64, shape + 1, 1));
    E3C_ASSERT_FAILS(e3c_module_forward1(m, x, &y), E3C_ERR_VALUE, "(batch, ..., 4)");
    e3c_tensor_free(x);
    e3c_module_free(m);
}

Test(batchnorm, state_dict_names_follow_e3nn)
{
    e3c_module *m = NULL;
    e3c_tensor *t = NULL;
    e3c_batch_norm_options o = E3C_BATCH_NORM_OPTIONS_INIT;
    E3C_ASSERT_OK(e3c_batch_norm_new(&m, "2x0e+1x1o+1x0o", &o));
    const char *names[4] = {"running_mean", "running_var", "weight", "bias"};
    int64_t sizes[4] = {2, 4, 4, 2};
    for (int i = 0; i < 4; i++) {
        E3C_ASSERT_OK(e3c_module_tensor(m, names[i], &t));
        cr_assert_eq(e3c_tensor_numel(t), sizes[i], "%s", names[i]);
        e3c_tensor_free(t);
    }
    e3c_module_free(m);
    o.affine = 0;
    E3C_ASSERT_OK(e3c_batch_norm_new(&m, "2x0e+1x1o", &o));
    cr_assert_neq(e3c_module_tensor(m, "weight", &t), E3C_OK, "no weight without affine");
    e3c_module_free(m);
}

/* ------------------------------------------------------------------ normalized ---- */

/* A module scaling its child's output: the deliberately broken subjects of e3nn's file. */
static e3c_status scaled_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    const double *factor = e3c_module_state(self);
    e3c_values *inner = NULL;
    e3c_tensor *y = NULL;
    e3c_status st = e3c_module_call_child(self, "inner", in, &inner);
    if (!st)
        st = e3c_tensor_scalar(&y, e3c_values_get(inner, 0), E3C_OP_MUL, *factor);
    if (!st)
        st = e3c_values_new(out);
    if (!st)
        st = e3c_values_push(*out, y);
    e3c_values_free(inner);
    e3c_tensor_free(y);
    return st;
}

static const e3c_module_class scaled_class = {.name = "Scaled", .mode = NULL, .forward = scaled_forward, .free_state = free};

static e3c_module *scaled(e3c_module *inner, double factor)
{
    double *f = malloc(sizeof *f);
    *f = factor;
    e3c_module *m = NULL;
    E3C_ASSERT_OK(e3c_module_new(&m, &scaled_class, f));
    E3C_ASSERT_OK(e3c_module_add_child(m, "inner", inner));
    return m;
}

/* The module of a golden "normalized" case, built as e3nn's recipe did. */
static e3c_module *normalized_case_module(const char *name)
{
    e3c_module *m = NULL;
    e3c_tp_options tp = E3C_TP_OPTIONS_INIT;
    if (!strncmp(name, "Linear", 6))
        E3C_ASSERT_OK(e3c_linear_new(&m, "4x0e+2x1o", "3x0e+2x1o", NULL));
    else if (!strncmp(name, "ElementwiseTensorProduct", 24))
        E3C_ASSERT_OK(e3c_elementwise_tp_new(&m, "2x1o", "2x1o", NULL, 0, NULL));
    else if (strstr(name, "norm normalization")) {
        tp.irrep_normalization = "norm";
        E3C_ASSERT_OK(e3c_fully_connected_tp_new(&m, "2x0e+1x1o", "1x0e+1x1o", "2x0e+1x1o", &tp));
    } else if (strstr(name, "scaled"))
        E3C_ASSERT_OK(e3c_fully_connected_tp_new(&m, "2x0e+1x1o", "1x0e+1x1o", "2x0e+1x1o", &tp));
    else
        E3C_ASSERT_OK(e3c_fully_connected_tp_new(&m, "2x0e+1x1o", "1x0e+1x1o", "2x0e+1x1o+1x1e", &tp));
    if (strstr(name, "scaled by 2"))
        m = scaled(m, 2.0);
    if (strstr(name, "scaled by 0.5"))
        m = scaled(m, 0.5);
    return m;
}

static void specs_of(const cJSON *list, e3c_arg_spec *specs, size_t *n)
{
    *n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, list) E3C_ASSERT_OK(e3c_arg_spec_parse(&specs[(*n)++], e->valuestring));
}

/* e3nn's message up to the irrep's number, and its error. */
static double e3nn_error(const char *verdict)
{
    const char *at = strstr(verdict, "error: ");
    return at ? atof(at + 7) : 0.0;
}

Test(normalized, e3nn_verdicts_on_its_six_modules, .timeout = 300)
{
    cJSON *g = golden();
    E3C_ASSERT_OK(e3c_set_default_dtype(E3C_FLOAT32)); /* e3nn's default dtype */
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "normalized"))
    {
        const char *name = cJSON_GetObjectItem(c, "case")->valuestring;
        const char *verdict = cJSON_GetObjectItem(c, "verdict")->valuestring;
        const cJSON *nz = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "options"), "normalization");
        e3c_manual_seed(0);
        e3c_module *m = normalized_case_module(name);
        e3c_arg_spec in[2], outs[1];
        size_t n_in, n_out;
        specs_of(cJSON_GetObjectItem(c, "irreps_in"), in, &n_in);
        specs_of(cJSON_GetObjectItem(c, "irreps_out"), outs, &n_out);
        e3c_subject s = {m, NULL, NULL, in, n_in, outs, n_out, E3C_FLOAT32};
        e3c_normalized_options o = E3C_NORMALIZED_OPTIONS_INIT;
        o.normalization = cJSON_IsString(nz) ? nz->valuestring : NULL;
        e3c_check_result r;
        E3C_ASSERT_OK(e3c_check_normalized(&s, &o, &r));
        int want_fail = !strncmp(verdict, "fail", 4);
        cr_assert_eq(r.status, want_fail ? E3C_FAILED : E3C_PASSED, "%s: %s %s, e3nn: %s", name,
                     e3c_verdict_name(r.status), r.message, verdict);
        if (want_fail) {
            /* which irrep fails first depends on the draws (e3nn's are not replayed bit for bit);
             * the form is e3nn's, with target 1 or e3nn's 1/sqrt(dim) */
            const char *format = "< x_i^2 > !~= ";
            cr_assert(!strncmp(r.message, format, strlen(format)), "%s: message \"%s\"", name, r.message);
            cr_assert(strstr(r.message, " for output irrep #"), "%s: %s", name, r.message);
            cr_assert(strstr(r.message, ".Max componentwise error: "), "%s: %s", name, r.message);
        }
        if (strstr(name, "scaled")) { /* the scaled ones are far off: their error is e3nn's to 15% */
            double ours = e3nn_error(r.message), theirs = e3nn_error(verdict);
            cr_assert(fabs(ours - theirs) <= 0.15 * theirs, "%s: error %f, e3nn %f", name, ours, theirs);
        }
        int weightless = !strncmp(name, "Elementwise", 11); /* nothing to redraw: e3nn draws once */
        cr_assert_eq(cJSON_GetObjectItem(r.details, "n_weight")->valueint, weightless ? 1 : 20, "%s: e3nn's n_weight", name);
        e3c_check_result_free(&r);
        for (size_t i = 0; i < n_in; i++)
            e3c_arg_spec_free(&in[i]);
        e3c_arg_spec_free(&outs[0]);
        e3c_module_free(m);
        n++;
    }
    cr_assert_eq(n, 6);
    cJSON_Delete(g);
}

static e3c_subject linear_subject(e3c_module *m, e3c_arg_spec *in, e3c_arg_spec *out)
{
    E3C_ASSERT_OK(e3c_arg_spec_parse(in, "4x0e+2x1o"));
    E3C_ASSERT_OK(e3c_arg_spec_parse(out, "3x0e+2x1o"));
    return (e3c_subject){m, NULL, NULL, in, 1, out, 1, E3C_FLOAT64};
}

Test(normalized, reports_the_worst_component_per_irrep_and_leaves_the_subject_alone)
{
    e3c_module *m = NULL;
    e3c_arg_spec in, out;
    E3C_ASSERT_OK(e3c_set_default_dtype(E3C_FLOAT64));
    E3C_ASSERT_OK(e3c_linear_new(&m, "4x0e+2x1o", "3x0e+2x1o", NULL));
    e3c_tensor *before = NULL, *after = NULL, *w = NULL;
    E3C_ASSERT_OK(e3c_module_tensor(m, "weight", &w));
    E3C_ASSERT_OK(e3c_tensor_to(&before, w, E3C_FLOAT64));
    e3c_subject s = linear_subject(m, &in, &out);
    e3c_normalized_options o = E3C_NORMALIZED_OPTIONS_INIT;
    o.n_weight = 200; /* enough weight draws for the statistics to converge within 0.25 */
    o.n_input = 2000;
    o.atol = 0.25;
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_normalized(&s, &o, &r));
    cr_assert_eq(r.status, E3C_PASSED, "%s", r.message);
    const cJSON *irreps = cJSON_GetObjectItem(r.details, "irreps");
    cr_assert_eq(cJSON_GetArraySize(irreps), 2);
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(irreps, 1), "irrep")->valuestring, "2x1o");
    double ms = cJSON_GetObjectItem(cJSON_GetArrayItem(irreps, 1), "mean_square")->valuedouble;
    cr_assert(fabs(ms - 1.0) <= 0.25, "mean square %f", ms);
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(r.details, "weights"), 0)->valuestring, "weight");
    E3C_ASSERT_OK(e3c_tensor_to(&after, w, E3C_FLOAT64));
    cr_assert(e3c_tensor_equal(before, after), "the subject's weights were redrawn");
    e3c_check_result_free(&r);
    /* the same module with a norm target on 0e outputs and norm inputs: 0e targets 1 */
    o.normalization = "norm";
    E3C_ASSERT_OK(e3c_check_normalized(&s, &o, &r));
    double target = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r.details, "irreps"), 1), "target")->valuedouble;
    cr_assert(fabs(target - 1 / sqrt(3.0)) < 1e-15, "e3nn's norm target is 1/sqrt(dim), got %f", target);
    e3c_check_result_free(&r);
    o.normalization = "integral";
    E3C_ASSERT_OK(e3c_check_normalized(&s, &o, &r));
    cr_assert_eq(r.status, E3C_ERRORED);
    cr_assert_str_eq(r.message, "invalid normalization `integral`");
    e3c_check_result_free(&r);
    o.normalization = NULL;
    const char *bogus[1] = {"wieght"};
    o.weights = bogus;
    o.n_weights = 1;
    E3C_ASSERT_OK(e3c_check_normalized(&s, &o, &r));
    cr_assert_eq(r.status, E3C_ERRORED);
    cr_assert(strstr(r.message, "no parameter \"wieght\""), "%s", r.message);
    e3c_check_result_free(&r);
    e3c_tensor_free(before), e3c_tensor_free(after), e3c_tensor_free(w);
    e3c_arg_spec_free(&in), e3c_arg_spec_free(&out);
    e3c_module_free(m);
}

Test(normalized, nan_and_wrong_shapes_never_pass)
{
    e3c_module *m = NULL;
    e3c_arg_spec in, out;
    E3C_ASSERT_OK(e3c_set_default_dtype(E3C_FLOAT64));
    E3C_ASSERT_OK(e3c_linear_new(&m, "4x0e+2x1o", "3x0e+2x1o", NULL));
    e3c_module *nan = scaled(m, NAN);
    e3c_subject s = linear_subject(nan, &in, &out);
    e3c_normalized_options o = E3C_NORMALIZED_OPTIONS_INIT;
    o.n_input = 100;
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_normalized(&s, &o, &r));
    cr_assert_eq(r.status, E3C_FAILED, "%s", r.message);
    e3c_check_result_free(&r);
    e3c_arg_spec_free(&out);
    E3C_ASSERT_OK(e3c_arg_spec_parse(&out, "3x0e+3x1o")); /* declares more than it returns */
    E3C_ASSERT_OK(e3c_check_normalized(&s, &o, &r));
    cr_assert_eq(r.status, E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "expected [100, 12]"), "%s", r.message);
    e3c_check_result_free(&r);
    e3c_arg_spec_free(&out);
    E3C_ASSERT_OK(e3c_arg_spec_parse(&out, "0x0e")); /* e3nn checks nothing */
    E3C_ASSERT_OK(e3c_check_normalized(&s, &o, &r));
    cr_assert_eq(r.status, E3C_SKIPPED, "%s", r.message);
    e3c_check_result_free(&r);
    e3c_arg_spec_free(&in), e3c_arg_spec_free(&out);
    e3c_module_free(nan);
}

Test(normalized, a_torchscript_file_has_its_parameters_redrawn)
{
    e3c_module *m = NULL, *compiled = NULL;
    E3C_ASSERT_OK(e3c_set_default_dtype(E3C_FLOAT32));
    E3C_ASSERT_OK(e3c_linear_new(&m, "4x0e+2x1o", "3x0e+2x1o", NULL));
    m = scaled(m, 2.0);
    E3C_ASSERT_OK(e3c_module_set_mode(m, "script")); /* script the wrapper too */
    E3C_ASSERT_OK(e3c_module_set_script_source(m, "def forward(self, x):\n    return self.inner.forward(x) * 2.0\n"));
    e3c_compile_options co = E3C_COMPILE_OPTIONS_INIT;
    E3C_ASSERT_OK(e3c_module_compile(&compiled, m, &co));
    char path[4096];
    snprintf(path, sizeof path, "%s/scaled_linear.pt", test_tmpdir());
    E3C_ASSERT_OK(e3c_module_save(compiled, path));
    e3c_jit_module *file = NULL;
    E3C_ASSERT_OK(e3c_jit_load(&file, path));
    e3c_arg_spec in, out;
    e3c_subject s = linear_subject(NULL, &in, &out);
    s.script = file;
    s.path = path;
    s.dtype = E3C_FLOAT32;
    e3c_normalized_options o = E3C_NORMALIZED_OPTIONS_INIT;
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_normalized(&s, &o, &r));
    cr_assert_eq(r.status, E3C_FAILED, "%s", r.message);
    cr_assert(e3nn_error(r.message) > 2.0, "scaled by 2: %s", r.message);
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(r.details, "weights"), 0)->valuestring, "inner.weight");
    e3c_check_result_free(&r);
    const char *none[1] = {"inner.weight"};
    o.weights = none;
    o.n_weights = 1;
    o.n_weight = 3;
    E3C_ASSERT_OK(e3c_check_normalized(&s, &o, &r));
    cr_assert_eq(cJSON_GetObjectItem(r.details, "n_weight")->valueint, 3);
    e3c_check_result_free(&r);
    e3c_arg_spec_free(&in), e3c_arg_spec_free(&out);
    e3c_jit_free(file);
    e3c_module_free(m);
}

Test(normalized, runs_from_a_fixture_with_its_options)
{
    cJSON *fx = cJSON_Parse("{\"name\": \"etp\", \"module\": {\"type\": \"ElementwiseTensorProduct\", \"args\": [\"2x1o\", \"2x1o\"]},"
                            " \"checks\": {\"normalized\": {\"n_input\": 5000, \"atol\": 0.1}}}");
    e3c_check_kind kinds[E3C_CHECK_KIND_COUNT];
    size_t n = 0;
    E3C_ASSERT_OK(e3c_fixture_validate(fx));
    E3C_ASSERT_OK(e3c_fixture_checks(fx, kinds, &n));
    cr_assert_eq(n, 1);
    cr_assert_eq(kinds[0], E3C_CHECK_NORMALIZED);
    cr_assert_str_eq(e3c_check_kind_name(kinds[0]), "normalized");
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_fixture_run_check(fx, ".", E3C_CHECK_NORMALIZED, NULL, &r));
    cr_assert_eq(r.status, E3C_PASSED, "%s", r.message);
    cr_assert_eq(cJSON_GetObjectItem(r.details, "n_input")->valueint, 5000);
    e3c_check_result_free(&r);
    cJSON_Delete(fx);
}

Test(normalized, the_new_fixtures_follow_the_schema)
{
    cJSON *schema = load_json(E3C_SOURCE_DIR "/fixtures/fixture.schema.json");
    const char *files[2] = {E3C_SOURCE_DIR "/fixtures/nn/normalized.json", E3C_SOURCE_DIR "/fixtures/nn/batchnorm.json"};
    for (int f = 0; f < 2; f++) {
        cJSON *list = load_json(files[f]);
        const cJSON *fx;
        cJSON_ArrayForEach(fx, list)
        {
            const char *bad = schema_violation(schema, fx);
            cr_assert_null(bad, "%s: %s", files[f], bad);
            E3C_ASSERT_OK(e3c_fixture_validate(fx));
        }
        cJSON_Delete(list);
    }
    cJSON *bad = cJSON_Parse("{\"name\": \"x\", \"module\": {\"type\": \"Norm\", \"args\": [\"1x0e\"]}, \"checks\": {\"normalised\": true}}");
    E3C_ASSERT_FAILS(e3c_fixture_validate(bad), E3C_ERR_VALUE, "golden or normalized");
    cJSON_Delete(bad);
    cJSON_Delete(schema);
}
