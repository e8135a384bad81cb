/* Every case of e3nn's golden/modules.json: outputs within 1e-12 (float64, relative to
 * max(1, |value|)), eager and compiled. */
#include "e3check/module.h"
#include "e3check/registry.h"
#include "test_util.h"

static e3c_tensor *tensor_of(const cJSON *nested)
{
    int64_t shape[4] = {0};
    int ndim = 0;
    for (const cJSON *c = nested; cJSON_IsArray(c) && ndim < 4; c = cJSON_GetArrayItem(c, 0))
        shape[ndim++] = cJSON_GetArraySize(c);
    size_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= (size_t)shape[i];
    double *v = malloc((n ? n : 1) * sizeof *v);
    cr_assert_eq(json_flatten(nested, v, n), n);
    e3c_tensor *t = NULL;
    E3C_ASSERT_OK(e3c_tensor_from_data(&t, v, E3C_FLOAT64, shape, ndim));
    free(v);
    return t;
}

static void set_values(e3c_module *m, const char *name, const cJSON *values)
{
    size_t n = json_flatten(values, NULL, 0);
    double *v = malloc((n ? n : 1) * sizeof *v);
    json_flatten(values, v, n);
    E3C_ASSERT_OK(e3c_module_set_tensor_values(m, name, v, n));
    free(v);
}

static void compare(const char *name, const char *form, const e3c_values *got, const cJSON *want, int many)
{
    size_t n_out = many ? (size_t)cJSON_GetArraySize(want) : 1;
    cr_assert_eq(e3c_values_count(got), n_out, "%s (%s): %zu outputs, expected %zu", name, form, e3c_values_count(got), n_out);
    for (size_t o = 0; o < n_out; o++) {
        const cJSON *w = many ? cJSON_GetArrayItem(want, (int)o) : want;
        size_t n = json_flatten(w, NULL, 0);
        cr_assert_eq((size_t)e3c_tensor_numel(e3c_values_get(got, o)), n, "%s (%s): output %zu has %lld values, expected %zu",
                     name, form, o, (long long)e3c_tensor_numel(e3c_values_get(got, o)), n);
        double *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
        json_flatten(w, b, n);
        E3C_ASSERT_OK(e3c_tensor_to_doubles(e3c_values_get(got, o), a, n));
        for (size_t i = 0; i < n; i++)
            cr_assert(close_rel(a[i], b[i], 1e-12), "%s (%s): output %zu [%zu] = %.17g, e3nn %.17g", name, form, o, i, a[i], b[i]);
        free(a), free(b);
    }
}

static void run_case(const cJSON *c)
{
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    cJSON *spec = cJSON_CreateObject();
    cJSON_AddStringToObject(spec, "type", cJSON_GetObjectItem(c, "module")->valuestring);
    cJSON_AddItemToObject(spec, "args", cJSON_Duplicate(cJSON_GetObjectItem(c, "args"), 1));
    cJSON_AddItemToObject(spec, "kwargs", cJSON_Duplicate(cJSON_GetObjectItem(c, "kwargs"), 1));
    e3c_module *m = NULL, *compiled = NULL;
    E3C_ASSERT_OK(e3c_set_default_dtype(E3C_FLOAT64)); /* the golden recipe's torch default */
    e3c_status st = e3c_registry_build(&m, spec);
    cr_assert_eq(st, E3C_OK, "%s: %s", name, e3c_error_last());
    const char *mode = cJSON_IsString(cJSON_GetObjectItem(c, "weight_mode")) ? cJSON_GetObjectItem(c, "weight_mode")->valuestring : "";
    e3c_values *in = NULL, *eager = NULL, *jit = NULL;
    E3C_ASSERT_OK(e3c_values_new(&in));
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(c, "inputs"))
    {
        e3c_tensor *t = tensor_of(x);
        E3C_ASSERT_OK(e3c_values_push(in, t));
        e3c_tensor_free(t);
    }
    if (!strcmp(mode, "internal"))
        set_values(m, "weight", cJSON_GetObjectItem(c, "weight"));
    if (!strcmp(mode, "per_batch")) {
        e3c_tensor *w = tensor_of(cJSON_GetObjectItem(c, "weight"));
        E3C_ASSERT_OK(e3c_values_push(in, w));
        e3c_tensor_free(w);
    }
    if (!strcmp(mode, "parameters")) {
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "parameters")) set_values(m, p->string, p);
    }
    if (cJSON_IsArray(cJSON_GetObjectItem(c, "bias")))
        set_values(m, "bias", cJSON_GetObjectItem(c, "bias"));
    int many = !strcmp(cJSON_GetObjectItem(c, "module")->valuestring, "Extract") &&
               cJSON_IsArray(cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "output"), 0), 0));
    st = e3c_module_forward(m, in, &eager);
    cr_assert_eq(st, E3C_OK, "%s eager: %s", name, e3c_error_last());
    compare(name, "eager", eager, cJSON_GetObjectItem(c, "output"), many);
    e3c_compile_options opt = E3C_COMPILE_OPTIONS_INIT;
    opt.in_place = 0;
    opt.n_trace_checks = 2;
    st = e3c_module_compile(&compiled, m, &opt);
    cr_assert_eq(st, E3C_OK, "%s compile: %s", name, e3c_error_last());
    cr_assert_neq(e3c_module_compiled_as(compiled), E3C_EAGER, "%s: not compiled", name);
    const char *want_mode = cJSON_GetObjectItem(c, "compile_mode")->valuestring;
    cr_assert_eq(e3c_module_mode(m), strcmp(want_mode, "trace") ? E3C_MODE_SCRIPT : E3C_MODE_TRACE, "%s: e3nn marks it %s",
                 name, want_mode);
    st = e3c_jit_run(&jit, e3c_module_jit(compiled), NULL, in);
    cr_assert_eq(st, E3C_OK, "%s compiled: %s", name, e3c_error_last());
    compare(name, "compiled", jit, cJSON_GetObjectItem(c, "output"), many);
    e3c_values_free(in), e3c_values_free(eager), e3c_values_free(jit);
    e3c_module_free(compiled), e3c_module_free(m);
    cJSON_Delete(spec);
}

Test(modules, every_golden_case_matches_e3nn_eager_and_compiled, .timeout = 300)
{
    cJSON *g = load_json(shared_path("reference/golden/modules.json"));
    const cJSON *c;
    int n = 0;
    const char *only = getenv("E3C_GOLDEN_ONLY");
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "cases"))
    {
        if (only && !strstr(cJSON_GetObjectItem(c, "name")->valuestring, only))
            continue;
        run_case(c);
        n++;
    }
    cr_assert(n == 18 || only, "ran %d of 18 golden cases", n);
    cJSON_Delete(g);
}
