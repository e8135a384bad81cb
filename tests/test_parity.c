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
