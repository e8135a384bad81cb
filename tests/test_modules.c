/* Every case of e3nn's golden/modules.json: outputs within 1e-12 (float64, relative to
 * max(1, |value|)), eager and compiled. */
#include "e3check/module.h"
#include "e3check/nn.h"
#include "e3check/o3.h"
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
    cr_assert_eq(e3c_values_count(got), n_out, "%s (%s): %zu outputs, expected %zu", name, form, e3c_values_count(got),
                 n_out);
    for (size_t o = 0; o < n_out; o++) {
        const cJSON *w = many ? cJSON_GetArrayItem(want, (int)o) : want;
        size_t n = json_flatten(w, NULL, 0);
        cr_assert_eq((size_t)e3c_tensor_numel(e3c_values_get(got, o)), n,
                     "%s (%s): output %zu has %lld values, expected %zu", name, form, o,
                     (long long)e3c_tensor_numel(e3c_values_get(got, o)), n);
        double *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
        json_flatten(w, b, n);
        E3C_ASSERT_OK(e3c_tensor_to_doubles(a, n, e3c_values_get(got, o)));
        for (size_t i = 0; i < n; i++)
            cr_assert(close_rel(a[i], b[i], 1e-12), "%s (%s): output %zu [%zu] = %.17g, e3nn %.17g", name, form, o, i,
                      a[i], b[i]);
        free(a), free(b);
    }
}

/* `name`: the case's, for messages. */
static void run_case(const cJSON *c, const char *name)
{
    cJSON *spec = cJSON_CreateObject();
    cJSON_AddStringToObject(spec, "type", cJSON_GetObjectItem(c, "module")->valuestring);
    cJSON_AddItemToObject(spec, "args", cJSON_Duplicate(cJSON_GetObjectItem(c, "args"), 1));
    cJSON_AddItemToObject(spec, "kwargs", cJSON_Duplicate(cJSON_GetObjectItem(c, "kwargs"), 1));
    e3c_module *m = NULL, *compiled = NULL;
    E3C_ASSERT_OK(e3c_set_default_dtype(E3C_FLOAT64)); /* the golden recipe's torch default */
    e3c_status st = e3c_registry_build(&m, spec);
    cr_assert_eq(st, E3C_OK, "%s: %s", name, e3c_error_last());
    const char *mode =
        cJSON_IsString(cJSON_GetObjectItem(c, "weight_mode")) ? cJSON_GetObjectItem(c, "weight_mode")->valuestring : "";
    e3c_values *in = NULL, *eager = NULL, *jit = NULL;
    E3C_ASSERT_OK(e3c_values_new(&in));
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(c, "inputs")) {
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
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "parameters"))
            set_values(m, p->string, p);
    }
    if (cJSON_IsArray(cJSON_GetObjectItem(c, "bias")))
        set_values(m, "bias", cJSON_GetObjectItem(c, "bias"));
    int many = !strcmp(cJSON_GetObjectItem(c, "module")->valuestring, "Extract") &&
               cJSON_IsArray(cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "output"), 0), 0));
    st = e3c_module_forward(&eager, m, in);
    cr_assert_eq(st, E3C_OK, "%s eager: %s", name, e3c_error_last());
    compare(name, "eager", eager, cJSON_GetObjectItem(c, "output"), many);
    e3c_compile_options opt = E3C_COMPILE_OPTIONS_INIT;
    opt.in_place = 0;
    opt.n_trace_checks = 2;
    st = e3c_module_compile(&compiled, m, &opt);
    cr_assert_eq(st, E3C_OK, "%s compile: %s", name, e3c_error_last());
    cr_assert_neq(e3c_module_compiled_as(compiled), E3C_EAGER, "%s: not compiled", name);
    const char *want_mode = cJSON_GetObjectItem(c, "compile_mode")->valuestring;
    cr_assert_eq(e3c_module_mode(m), strcmp(want_mode, "trace") ? E3C_MODE_SCRIPT : E3C_MODE_TRACE,
                 "%s: e3nn marks it %s", name, want_mode);
    st = e3c_jit_run(&jit, e3c_module_jit(compiled), NULL, in);
    cr_assert_eq(st, E3C_OK, "%s compiled: %s", name, e3c_error_last());
    compare(name, "compiled", jit, cJSON_GetObjectItem(c, "output"), many);
    e3c_values_free(in), e3c_values_free(eager), e3c_values_free(jit);
    e3c_module_free(compiled), e3c_module_free(m);
    cJSON_Delete(spec);
}

/* The number of cases of golden/modules.json, each run twice: with the small products in
 * their dense form (even parameters), then walking their paths (odd parameters). */
enum { N_MODULE_CASES = 18 };

ParameterizedTestParameters(modules, every_golden_case_matches_e3nn_eager_and_compiled)
{
    return case_indices(2 * N_MODULE_CASES);
}

ParameterizedTest(size_t *i, modules, every_golden_case_matches_e3nn_eager_and_compiled, .timeout = 300)
{
    cJSON *g = load_json(data_path("golden/modules.json"));
    int paths = (int)(*i % 2);
    const cJSON *c = table_case(cJSON_GetObjectItem(g, "cases"), "modules", *i / 2, N_MODULE_CASES);
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    set_test_case("modules #%zu (%s, %s)", *i / 2, name, paths ? "walking the paths" : "dense");
    char named[256];
    snprintf(named, sizeof named, "%s (%s)", name, paths ? "walking the paths" : "dense");
    const char *only = getenv("E3C_GOLDEN_ONLY"); /* run the cases whose name holds this text */
    if (only && !strstr(name, only)) {
        cJSON_Delete(g);
        cr_skip_test("%snot selected by E3C_GOLDEN_ONLY", test_case());
    }
    e3c_nn_set_dense_limit(paths ? 0 : E3C_NN_DENSE_LIMIT);
    run_case(c, named);
    cJSON_Delete(g);
}
/* The number of activations in golden/modules.json's normalize2mom_constants. */
enum { N_NORMALIZE2MOM = 9 };

ParameterizedTestParameters(modules, normalize2mom_constants_are_e3nns_monte_carlo_values)
{
    return case_indices(N_NORMALIZE2MOM);
}

ParameterizedTest(size_t *i, modules, normalize2mom_constants_are_e3nns_monte_carlo_values)
{
    cJSON *g = load_json(data_path("golden/modules.json"));
    const cJSON *c =
        table_case(cJSON_GetObjectItem(g, "normalize2mom_constants"), "normalize2mom_constants", *i, N_NORMALIZE2MOM);
    const char *name = strncmp(c->string, "identity", 8) ? c->string : "identity";
    double cst = 0, fresh = 0;
    int parity = 2, fresh_parity = 3;
    E3C_ASSERT_OK(e3c_normalize2mom(&cst, &parity, name));
    cr_assert_eq(cst, cJSON_GetObjectItem(c, "cst")->valuedouble, "%s: %.17g vs e3nn %.17g", name, cst,
                 cJSON_GetObjectItem(c, "cst")->valuedouble);
    /* the build-time table is what the Monte-Carlo procedure gives now, bit for bit */
    E3C_ASSERT_OK(e3c_normalize2mom_monte_carlo(&fresh, &fresh_parity, name));
    cr_assert_eq(fresh, cst, "%s: Monte Carlo %.17g, table %.17g", name, fresh, cst);
    cr_assert_eq(fresh_parity, parity, "%s: parity %d, table %d", name, fresh_parity, parity);
    cJSON_Delete(g);
}

Test(modules, normalize2mom_parities_and_unknown_activations)
{
    int parity;
    E3C_ASSERT_OK(e3c_normalize2mom(NULL, &parity, "tanh"));
    cr_assert_eq(parity, -1);
    E3C_ASSERT_OK(e3c_normalize2mom(NULL, &parity, "abs"));
    cr_assert_eq(parity, 1);
    E3C_ASSERT_OK(e3c_normalize2mom(NULL, &parity, "silu"));
    cr_assert_eq(parity, 0);
    E3C_ASSERT_FAILS(e3c_normalize2mom(NULL, &parity, "swish"), E3C_ERR_VALUE, "unknown activation \"swish\"");
    E3C_ASSERT_FAILS(e3c_normalize2mom_monte_carlo(NULL, NULL, "swish"), E3C_ERR_VALUE, "unknown activation");
}

static void build_fails(const char *json, e3c_status status, const char *needle)
{
    cJSON *spec = cJSON_Parse(json);
    cr_assert_not_null(spec, "bad test JSON %s", json);
    e3c_module *m = NULL;
    E3C_ASSERT_FAILS(e3c_registry_build(&m, spec), status, needle);
    cr_assert_null(m);
    cJSON_Delete(spec);
}

Test(modules, invalid_constructor_arguments_fail_at_construction)
{
    build_fails("{\"type\":\"TensorProduct\",\"args\":[\"1o\",\"1o\",\"1o\",[[0,0,0,\"uvw\",true]]]}", E3C_ERR_VALUE,
                "parity -1 x -1 cannot give -1");
    build_fails("{\"type\":\"TensorProduct\",\"args\":[\"1o\",\"1o\",\"3e\",[[0,0,0,\"uvw\",true]]]}", E3C_ERR_VALUE,
                "l = 1 and 1 cannot give 3");
    build_fails("{\"type\":\"TensorProduct\",\"args\":[\"2x0e\",\"1x0e\",\"3x0e\",[[0,0,0,\"uvu\",true]]]}",
                E3C_ERR_VALUE, "mode uvu needs mul_out == mul_in1");
    build_fails("{\"type\":\"TensorProduct\",\"args\":[\"0e\",\"0e\",\"0e\",[[0,0,0,\"uvw\",false]]]}", E3C_ERR_VALUE,
                "mode uvw needs a weight");
    build_fails("{\"type\":\"TensorProduct\",\"args\":[\"0e\",\"0e\",\"0e\",[[0,0,5,\"uvw\",true]]]}", E3C_ERR_VALUE,
                "index is out of range");
    build_fails("{\"type\":\"TensorProduct\",\"args\":[\"0e\",\"0e\",\"0e\",[[0,0,0,\"uvx\",true]]]}", E3C_ERR_VALUE,
                "unknown connection mode \"uvx\"");
    build_fails(
        "{\"type\":\"TensorProduct\",\"args\":[\"0e\",\"0e\",\"0e\",[[0,0,0,\"uuu\",true]]],\"kwargs\":{\"in1_var\":[1,2]}}",
        E3C_ERR_VALUE, "Len of ir1_var must be equal to len(irreps_in1)");
    build_fails("{\"type\":\"Linear\",\"args\":[\"1o\",\"1e\"],\"kwargs\":{\"instructions\":[[0,0]]}}", E3C_ERR_VALUE,
                "0 and 0 do not have the same irrep");
    build_fails("{\"type\":\"Linear\",\"args\":[\"1o\",\"1o\"],\"kwargs\":{\"biases\":[true]}}", E3C_ERR_VALUE,
                "a bias is only allowed on 0e outputs");
    build_fails("{\"type\":\"Activation\",\"args\":[\"1x0o\",[\"silu\"]]}", E3C_ERR_VALUE, "the parity is violated");
    build_fails("{\"type\":\"Activation\",\"args\":[\"1x1o\",[\"tanh\"]]}", E3C_ERR_VALUE, "non-scalar input");
    build_fails("{\"type\":\"Activation\",\"args\":[\"1x0e\",[\"swish\"]]}", E3C_ERR_VALUE,
                "unknown activation \"swish\"");
    build_fails("{\"type\":\"Gate\",\"args\":[\"1x0e\",[\"silu\"],\"1x0e\",[\"sigmoid\"],\"2x1o\"]}", E3C_ERR_VALUE,
                "There are 2 irreps in irreps_gated, but a different number (1) of gate scalars");
    build_fails("{\"type\":\"SphericalHarmonics\",\"args\":[\"1o+1e\",true]}", E3C_ERR_VALUE,
                "inconsistent with the input parity");
    build_fails("{\"type\":\"TensorSquare\",\"args\":[\"1o\",\"0e\",[\"0e\"]]}", E3C_ERR_VALUE, "ambiguous");

    /* found by fuzzing: sizes that would overflow are refused, not allocated */
    build_fails("{\"type\":\"TensorSquare\",\"args\":[\"2555555555x1o+1x4e\",\"3x8e+2x1e+1x2e\"]}", E3C_ERR_VALUE,
                "too large");
    build_fails("{\"type\":\"Linear\",\"args\":[\"1000000000x0e\",\"1000000000x0e\"]}", E3C_ERR_VALUE, "too large");
    build_fails("{\"type\":\"Norm\",\"args\":[\"99999999999999x0e\"]}", E3C_ERR_VALUE, "larger than e3check supports");
    /* found by fuzzing: weights that fit in memory's arithmetic but not in memory (6 GiB) */
    build_fails("{\"type\":\"TensorSquare\",\"args\":[\"3x1o+1x0e\",\"3x0e+2x2e+166666666x2e\"]}", E3C_ERR_VALUE,
                "the path is too large");
    build_fails("{\"type\":\"FullyConnectedTensorProduct\",\"args\":[\"16385x0e\",\"128x0e+128x0o\",\"64x0e+64x0o\"]}",
                E3C_ERR_VALUE, "more than 268435456 weights");
    build_fails("{\"type\":\"Linear\",\"args\":[\"20000x0e\",\"20000x0e\"]}", E3C_ERR_VALUE,
                "more than 268435456 weights");
    build_fails("{\"type\":\"FullyConnectedNet\",\"args\":[[20000,20000]]}", E3C_ERR_VALUE,
                "more than 268435456 weights");

    /* a weight of the wrong length is refused when set */
    cJSON *spec = cJSON_Parse("{\"type\":\"Linear\",\"args\":[\"2x0e\",\"1x0e\"]}");
    e3c_module *m = NULL;
    E3C_ASSERT_OK(e3c_registry_build(&m, spec));
    double w[3] = {1, 2, 3};
    E3C_ASSERT_FAILS(e3c_module_set_tensor_values(m, "weight", w, 3), E3C_ERR_VALUE, "expected 2 values, got 3");
    e3c_module_free(m);
    cJSON_Delete(spec);
}

Test(modules, invalid_irreps_in_any_constructor_is_an_error_not_a_crash)
{
    /* found by fuzzing: TensorSquare with an unparsable irreps string */
    const char *types[] = {
        "TensorSquare",      "Norm",       "Linear",    "FullyConnectedTensorProduct", "ElementwiseTensorProduct",
        "FullTensorProduct", "Activation", "ExtractIr", "SphericalHarmonics"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"type\":\"%s\",\"args\":[\"3\\u00ff1o+1x0e\",\"1x0e\",\"1x0e\"]}", types[i]);
        cJSON *spec = cJSON_Parse(json);
        e3c_module *m = NULL;
        e3c_status st = e3c_registry_build(&m, spec);
        cr_assert_neq(st, E3C_OK, "%s accepted a bad irreps string", types[i]);
        cr_assert_null(m);
        cJSON_Delete(spec);
    }
}

/* ---- the fused shared-weight path (channel mix; a 1x1 convolution in float32) ---- */

static e3c_tensor *forward_of(e3c_module *m, const e3c_tensor *const *inputs, size_t n, int compiled)
{
    e3c_values *in = NULL, *out = NULL;
    E3C_ASSERT_OK(e3c_values_new(&in));
    for (size_t i = 0; i < n; i++)
        E3C_ASSERT_OK(e3c_values_push(in, inputs[i]));
    if (compiled)
        E3C_ASSERT_OK(e3c_jit_run(&out, e3c_module_jit(m), NULL, in));
    else
        E3C_ASSERT_OK(e3c_module_forward(&out, m, in));
    e3c_tensor *t = NULL;
    E3C_ASSERT_OK(e3c_tensor_ref(&t, e3c_values_get(out, 0)));
    e3c_values_free(in), e3c_values_free(out);
    return t;
}

/* max |a - b| relative to 1 + max |b|, after checking a has b's shape */
static double rel_error(const e3c_tensor *a, const e3c_tensor *b)
{
    int64_t sa[8], sb[8];
    int na = 0, nb = 0;
    E3C_ASSERT_OK(e3c_tensor_shape(sa, 8, &na, a));
    E3C_ASSERT_OK(e3c_tensor_shape(sb, 8, &nb, b));
    cr_assert_eq(na, nb, "rank %d vs %d", na, nb);
    for (int i = 0; i < na; i++)
        cr_assert_eq(sa[i], sb[i], "dimension %d: %lld vs %lld", i, (long long)sa[i], (long long)sb[i]);
    e3c_tensor *a64 = NULL;
    double diff = 0, scale = 0;
    E3C_ASSERT_OK(e3c_tensor_to(&a64, a, E3C_FLOAT64));
    E3C_ASSERT_OK(e3c_tensor_max_abs_diff(&diff, a64, b));
    E3C_ASSERT_OK(e3c_tensor_max_abs(&scale, b));
    e3c_tensor_free(a64);
    return diff / (1 + scale);
}

/* A module with shared weights (m64, float64) against its float32 copy and both compiled,
 * over batch shapes where the channel mix takes oneDNN's convolution (40), libtorch's
 * small-batch kernel (5), none (0), broadcasting and unbatched inputs; and against
 * `per_batch`, the same module with per-sample weights (the plain einsum path), given the
 * parameters repeated per sample. widths: the inputs' last dimensions. */
static void check_shared_weight_paths(e3c_module *m64, e3c_module *per_batch, const int64_t *widths, size_t n_in,
                                      const char *const *params, size_t n_params)
{
    e3c_module *m32 = NULL, *c64 = NULL, *c32 = NULL;
    E3C_ASSERT_OK(e3c_module_clone(&m32, m64));
    E3C_ASSERT_OK(e3c_module_to_dtype(m32, E3C_FLOAT32));
    e3c_compile_options copt = E3C_COMPILE_OPTIONS_INIT;
    copt.in_place = 0;
    E3C_ASSERT_OK(e3c_module_compile(&c64, m64, &copt));
    E3C_ASSERT_OK(e3c_module_compile(&c32, m32, &copt));
    struct {
        int nb;
        int64_t b[2][2];
    } cases[] = {{1, {{40}, {40}}}, {1, {{5}, {5}}}, {1, {{0}, {0}}}, {2, {{2, 1}, {1, 17}}}, {0, {{0}, {0}}}};
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 3));
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        e3c_tensor *x[2] = {NULL, NULL}, *x32[2] = {NULL, NULL};
        for (size_t i = 0; i < n_in; i++) {
            int64_t shape[3];
            memcpy(shape, cases[c].b[i], sizeof shape[0] * (size_t)cases[c].nb);
            shape[cases[c].nb] = widths[i];
            E3C_ASSERT_OK(e3c_randn(&x[i], g, E3C_FLOAT64, shape, cases[c].nb + 1));
            E3C_ASSERT_OK(e3c_tensor_to(&x32[i], x[i], E3C_FLOAT32));
        }
        const e3c_tensor *const *xs = (const e3c_tensor *const *)x, *const *xs32 = (const e3c_tensor *const *)x32;
        e3c_tensor *want = forward_of(m64, xs, n_in, 0);
        e3c_tensor *got[3] = {forward_of(c64, xs, n_in, 1), forward_of(m32, xs32, n_in, 0),
                              forward_of(c32, xs32, n_in, 1)};
        cr_assert_leq(rel_error(got[0], want), 1e-13, "case %zu: compiled float64", c);
        cr_assert_leq(rel_error(got[1], want), 2e-6, "case %zu: eager float32", c);
        cr_assert_leq(rel_error(got[2], want), 2e-6, "case %zu: compiled float32", c);
        if (cases[c].nb == 1 && per_batch) { /* parameters repeated per sample */
            const e3c_tensor *pin[4] = {x[0], x[1], NULL, NULL};
            e3c_tensor *rep[2] = {NULL, NULL};
            for (size_t k = 0; k < n_params; k++) {
                e3c_tensor *p = NULL;
                E3C_ASSERT_OK(e3c_module_tensor(&p, m64, params[k]));
                int64_t ws[2] = {cases[c].b[0][0], e3c_tensor_numel(p)};
                E3C_ASSERT_OK(e3c_tensor_expand(&rep[k], p, ws, 2));
                pin[n_in + k] = rep[k];
                e3c_tensor_free(p);
            }
            e3c_tensor *ref = forward_of(per_batch, pin, n_in + n_params, 0);
            cr_assert_leq(rel_error(ref, want), 1e-13, "case %zu: per-batch path", c);
            e3c_tensor_free(ref), e3c_tensor_free(rep[0]), e3c_tensor_free(rep[1]);
        }
        for (int i = 0; i < 3; i++)
            e3c_tensor_free(got[i]);
        e3c_tensor_free(want);
        for (int i = 0; i < 2; i++)
            e3c_tensor_free(x[i]), e3c_tensor_free(x32[i]);
    }
    e3c_generator_free(g);
    e3c_module_free(c64), e3c_module_free(c32), e3c_module_free(m32);
}

Test(modules, fused_tensor_product_matches_float64_and_the_per_batch_path)
{
    const char *in1 = "4x0e+3x1o+2x2e", *in2 = "2x0e+1o+2e", *out = "3x0e+2x1o+2x2e+1x1e";
    int64_t old = e3c_nn_set_dense_limit(0); /* the path walk, whatever the size */
    E3C_ASSERT_OK(e3c_set_default_dtype(E3C_FLOAT64));
    e3c_manual_seed(7);
    e3c_module *m64 = NULL, *per_batch = NULL;
    E3C_ASSERT_OK(e3c_fully_connected_tp_new(&m64, in1, in2, out, NULL));
    e3c_tp_options opt = E3C_TP_OPTIONS_INIT;
    opt.shared_weights = 0, opt.internal_weights = 0;
    E3C_ASSERT_OK(e3c_fully_connected_tp_new(&per_batch, in1, in2, out, &opt));
    const int64_t widths[2] = {4 + 9 + 10, 2 + 3 + 5};
    const char *params[1] = {"weight"};
    check_shared_weight_paths(m64, per_batch, widths, 2, params, 1);
    e3c_module_free(m64), e3c_module_free(per_batch);
    e3c_nn_set_dense_limit(old);
}

Test(modules, linear_channel_mix_matches_float64_and_the_per_batch_path)
{
    const char *in = "4x0e+3x1o+2x2e+1x0e", *out = "3x0e+2x1o+2x2e+2x1e";
    for (int form = 0; form < 2; form++) { /* the dense form, then the channel mix */
        int64_t old = e3c_nn_set_dense_limit(form ? 0 : E3C_NN_DENSE_LIMIT);
        E3C_ASSERT_OK(e3c_set_default_dtype(E3C_FLOAT64));
        e3c_manual_seed(8);
        e3c_linear_options opt = E3C_LINEAR_OPTIONS_INIT;
        opt.biases = 1;
        e3c_module *m64 = NULL, *per_batch = NULL;
        E3C_ASSERT_OK(e3c_linear_new(&m64, in, out, &opt));
        cr_assert_eq(strstr(e3c_module_script_source(m64), "dense_basis") != NULL, !form, "form %d", form);
        double bias[3] = {0.5, -1.0, 2.0};
        E3C_ASSERT_OK(e3c_module_set_tensor_values(m64, "bias", bias, 3));
        opt.shared_weights = 0, opt.internal_weights = 0;
        E3C_ASSERT_OK(e3c_linear_new(&per_batch, in, out, &opt));
        const int64_t widths[1] = {4 + 9 + 10 + 1};
        const char *params[2] = {"weight", "bias"};
        check_shared_weight_paths(m64, per_batch, widths, 1, params, 2);
        e3c_module_free(m64), e3c_module_free(per_batch);
        e3c_nn_set_dense_limit(old);
    }
}

Test(modules, linear_dense_form_matches_the_paths_with_biases_and_chosen_instructions)
{
    /* path normalization, an output fed by two inputs, a 0e output with only a bias */
    const char *in = "2x0e+1x1o+3x2e+1x0e", *out = "3x0e+2x1o+1x2e+2x0e+1x1e";
    const int instructions[8] = {0, 0, 3, 0, 1, 1, 2, 2};
    const int biases[5] = {1, 0, 0, 1, 0};
    e3c_linear_options opt = E3C_LINEAR_OPTIONS_INIT;
    opt.instructions = instructions, opt.n_instructions = 4;
    opt.biases_list = biases, opt.n_biases = 5;
    opt.path_normalization = "path";
    e3c_module *m[2] = {NULL, NULL}, *compiled = NULL;
    E3C_ASSERT_OK(e3c_set_default_dtype(E3C_FLOAT64));
    for (int form = 0; form < 2; form++) {
        int64_t old = e3c_nn_set_dense_limit(form ? 0 : E3C_NN_DENSE_LIMIT);
        e3c_manual_seed(12);
        E3C_ASSERT_OK(e3c_linear_new(&m[form], in, out, &opt));
        double bias[5] = {0.25, -1.5, 3.0, 0.5, -2.0};
        E3C_ASSERT_OK(e3c_module_set_tensor_values(m[form], "bias", bias, 5));
        e3c_nn_set_dense_limit(old);
    }
    cr_assert(strstr(e3c_module_script_source(m[0]), "dense_bias_basis"), "dense with biases");
    cr_assert(!strstr(e3c_module_script_source(m[1]), "dense"), "limit 0: the paths");
    e3c_compile_options copt = E3C_COMPILE_OPTIONS_INIT;
    copt.in_place = 0;
    E3C_ASSERT_OK(e3c_module_compile(&compiled, m[0], &copt));
    struct {
        int nb;
        int64_t b[2];
    } shapes[] = {{1, {6}}, {1, {0}}, {2, {2, 3}}, {0, {0}}};
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 9));
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        int64_t shape[3] = {shapes[k].b[0], shapes[k].b[1], 0};
        shape[shapes[k].nb] = 2 + 3 + 15 + 1;
        e3c_tensor *x = NULL;
        E3C_ASSERT_OK(e3c_randn(&x, g, E3C_FLOAT64, shape, shapes[k].nb + 1));
        const e3c_tensor *xs[1] = {x};
        e3c_tensor *want = forward_of(m[1], xs, 1, 0), *got = forward_of(m[0], xs, 1, 0),
                   *jit = forward_of(compiled, xs, 1, 1);
        cr_assert_leq(rel_error(got, want), 1e-13, "shape %zu: dense eager", k);
        cr_assert_leq(rel_error(jit, want), 1e-13, "shape %zu: dense compiled", k);
        e3c_tensor_free(want), e3c_tensor_free(got), e3c_tensor_free(jit), e3c_tensor_free(x);
    }
    e3c_generator_free(g);
    e3c_module_free(m[0]), e3c_module_free(m[1]), e3c_module_free(compiled);
}

/* 1 when `line` ("    tN = RHS") has a right-hand side equal to one before it, also with
 * the operands of a product or sum swapped. */
static int repeats_earlier(char lines[][128], int n, const char *rhs)
{
    char a[32], op[4], b[64], swapped[128];
    int swap = sscanf(rhs, "%31s %3s %63s", a, op, b) == 3 && (!strcmp(op, "*") || !strcmp(op, "+")) &&
               !strchr(rhs + strlen(a) + strlen(op) + strlen(b) + 2, ' ');
    if (swap)
        snprintf(swapped, sizeof swapped, "%s %s %s", b, op, a);
    for (int i = 0; i < n; i++)
        if (!strcmp(lines[i], rhs) || (swap && !strcmp(lines[i], swapped)))
            return 1;
    return 0;
}

Test(modules, spherical_harmonics_program_matches_o3_for_every_normalization_and_computes_nothing_twice)
{
    const int ls[7] = {0, 1, 2, 3, 4, 5, 6};
    const double xyz[4][3] = {{0.3, -1.2, 0.7}, {1.0, 0.0, 0.0}, {-0.2, 0.1, 2.5}, {0.0, 0.0, 0.0}};
    const e3c_normalization norms[3] = {E3C_NORM_COMPONENT, E3C_NORM_NORM, E3C_NORM_INTEGRAL};
    E3C_ASSERT_OK(e3c_set_default_dtype(E3C_FLOAT64));
    int64_t old = e3c_nn_set_dense_limit(0); /* the program, whatever the degree */
    for (int k = 0; k < 3; k++) {
        e3c_module *m = NULL, *compiled = NULL;
        E3C_ASSERT_OK(e3c_spherical_harmonics_module_new(&m, ls, 7, -1, 1, norms[k]));
        enum { WIDTH = 49 };
        double want[4 * WIDTH], got[4 * WIDTH];
        E3C_ASSERT_OK(e3c_spherical_harmonics(want, ls, 7, 4, &xyz[0][0], 1, norms[k]));
        e3c_values *in = NULL, *eager = NULL, *jit = NULL;
        e3c_tensor *x = NULL;
        const int64_t shape[2] = {4, 3};
        E3C_ASSERT_OK(e3c_tensor_from_data(&x, xyz, E3C_FLOAT64, shape, 2));
        E3C_ASSERT_OK(e3c_values_new(&in));
        E3C_ASSERT_OK(e3c_values_push(in, x));
        e3c_compile_options opt = E3C_COMPILE_OPTIONS_INIT;
        opt.in_place = 0;
        E3C_ASSERT_OK(e3c_module_forward(&eager, m, in));
        E3C_ASSERT_OK(e3c_module_compile(&compiled, m, &opt));
        E3C_ASSERT_OK(e3c_jit_run(&jit, e3c_module_jit(compiled), NULL, in));
        const e3c_values *outs[2] = {eager, jit};
        for (int w = 0; w < 2; w++) {
            E3C_ASSERT_OK(e3c_tensor_to_doubles(got, 4 * WIDTH, e3c_values_get(outs[w], 0)));
            for (int i = 0; i < 4 * WIDTH; i++)
                cr_assert(fabs(got[i] - want[i]) <= 1e-12 * fmax(1.0, fabs(want[i])),
                          "normalization %d, %s, value %d: %.17g, o3 says %.17g", k, w ? "compiled" : "eager", i,
                          got[i], want[i]);
        }
        /* every step of the program is a new value: no product computed twice */
        static char seen[1024][128];
        int n = 0;
        const char *src = e3c_module_script_source(m);
        for (const char *line = src; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
            int t = 0, used = 0;
            if (sscanf(line, "    t%d = %n", &t, &used) != 1 || !used)
                continue;
            const char *end = strchr(line, '\n');
            char rhs[128];
            snprintf(rhs, sizeof rhs, "%.*s", (int)((end ? end : line + strlen(line)) - line - used), line + used);
            cr_assert(!repeats_earlier(seen, n, rhs), "normalization %d computes '%s' twice:\n%s", k, rhs, src);
            cr_assert_lt(n, 1024);
            snprintf(seen[n++], sizeof seen[0], "%s", rhs);
        }
        cr_assert_gt(n, 40, "the program for l <= 6 has its steps");
        e3c_tensor_free(x);
        e3c_values_free(in), e3c_values_free(eager), e3c_values_free(jit);
        e3c_module_free(compiled), e3c_module_free(m);
    }
    e3c_nn_set_dense_limit(old);
}

/* A product built twice from the same seed: as the dense form and walking its paths. */
static void build_both(const char *in1, const char *in2, const char *out, const e3c_tp_instruction *ins, size_t n,
                       e3c_module **dense, e3c_module **paths)
{
    E3C_ASSERT_OK(e3c_set_default_dtype(E3C_FLOAT64));
    e3c_manual_seed(11);
    E3C_ASSERT_OK(e3c_tensor_product_new(dense, in1, in2, out, ins, n, NULL));
    int64_t old = e3c_nn_set_dense_limit(0);
    e3c_manual_seed(11);
    E3C_ASSERT_OK(e3c_tensor_product_new(paths, in1, in2, out, ins, n, NULL));
    e3c_nn_set_dense_limit(old);
    cr_assert(strstr(e3c_module_script_source(*dense), "self.dense_"), "%s x %s -> %s is small: dense form", in1, in2,
              out);
    cr_assert(!strstr(e3c_module_script_source(*paths), "dense"), "limit 0: the paths");
}

Test(modules, dense_form_matches_the_path_walk_for_every_connection_mode)
{
    struct {
        const char *in1, *in2, *out;
        e3c_tp_instruction ins[5];
        size_t n;
    } cases[] = {
        {"2x0e+1x1o",
         "2x0e+1x1o",
         "2x0e+1x1o+1x1e",
         {{0, 0, 0, E3C_TP_UVW, 1, 1.0},
          {1, 1, 0, E3C_TP_UVW, 1, 1.0},
          {0, 1, 1, E3C_TP_UVW, 1, 0.5},
          {1, 0, 1, E3C_TP_UVW, 1, 1.0},
          {1, 1, 2, E3C_TP_UVW, 1, 1.0}},
         5},
        {"2x0e+2x1o",
         "1x0e+1x1o",
         "2x0e+2x1o",
         {{0, 0, 0, E3C_TP_UVU, 1, 1.0},
          {1, 1, 0, E3C_TP_UVU, 0, 1.0},
          {1, 0, 1, E3C_TP_UVU, 1, 1.0},
          {0, 1, 1, E3C_TP_UVU, 0, 2.0}},
         4},
        {"2x0e+1x1o",
         "3x0e+3x1o",
         "3x0e+3x1o",
         {{0, 0, 0, E3C_TP_UVV, 1, 1.0},
          {0, 1, 1, E3C_TP_UVV, 0, 1.0},
          {1, 0, 1, E3C_TP_UVV, 1, 1.0},
          {1, 1, 0, E3C_TP_UVV, 1, 1.0}},
         4},
        {"2x0e+2x1o",
         "2x0e+2x1o",
         "3x0e+1x1o",
         {{0, 0, 0, E3C_TP_UUW, 1, 1.0}, {1, 1, 0, E3C_TP_UUW, 1, 1.0}, {0, 1, 1, E3C_TP_UUW, 1, 1.0}},
         3},
        {"2x0e+2x1o", "2x0e+2x1o", "1x0e+1x1o", {{1, 1, 0, E3C_TP_UUW, 0, 1.0}, {0, 1, 1, E3C_TP_UUW, 0, 1.0}}, 2},
        {"2x0e+2x1o",
         "2x0e+2x1o",
         "2x0e+2x1o+2x1e",
         {{0, 0, 0, E3C_TP_UUU, 1, 1.0},
          {1, 1, 0, E3C_TP_UUU, 0, 1.0},
          {0, 1, 1, E3C_TP_UUU, 1, 1.0},
          {1, 1, 2, E3C_TP_UUU, 0, 1.0}},
         4},
        {"2x0e+1x1o",
         "3x0e+1x1o",
         "6x0e+2x1o+3x1o+1x1e",
         {{0, 0, 0, E3C_TP_UVUV, 1, 1.0},
          {0, 1, 1, E3C_TP_UVUV, 0, 1.0},
          {1, 0, 2, E3C_TP_UVUV, 1, 1.0},
          {1, 1, 3, E3C_TP_UVUV, 0, 1.0}},
         4},
        {"3x0e+3x1o",
         "3x0e+3x1o",
         "3x0e+3x1e",
         {{0, 0, 0, E3C_TP_UVU_LT_V, 1, 1.0}, {1, 1, 1, E3C_TP_UVU_LT_V, 0, 1.0}},
         2},
        {"3x0e+3x1o",
         "3x0e+3x1o",
         "2x0e+2x1e",
         {{0, 0, 0, E3C_TP_U_LT_VW, 1, 1.0}, {1, 1, 0, E3C_TP_U_LT_VW, 1, 1.0}, {1, 1, 1, E3C_TP_U_LT_VW, 1, 1.0}},
         3},
    };
    struct {
        int nb;
        int64_t b[2][2];
    } shapes[] = {{1, {{5}, {5}}}, {1, {{0}, {0}}}, {2, {{2, 1}, {1, 3}}}, {0, {{0}, {0}}}};
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 5));
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        e3c_module *dense = NULL, *paths = NULL, *compiled = NULL;
        build_both(cases[c].in1, cases[c].in2, cases[c].out, cases[c].ins, cases[c].n, &dense, &paths);
        e3c_compile_options copt = E3C_COMPILE_OPTIONS_INIT;
        copt.in_place = 0;
        E3C_ASSERT_OK(e3c_module_compile(&compiled, dense, &copt));
        e3c_irreps a, b;
        E3C_ASSERT_OK(e3c_irreps_parse(&a, cases[c].in1));
        E3C_ASSERT_OK(e3c_irreps_parse(&b, cases[c].in2));
        int64_t widths[2] = {e3c_irreps_dim(&a), e3c_irreps_dim(&b)};
        e3c_irreps_free(&a), e3c_irreps_free(&b);
        for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
            e3c_tensor *x[2] = {NULL, NULL};
            for (int i = 0; i < 2; i++) {
                int64_t shape[3];
                memcpy(shape, shapes[k].b[i], sizeof shape[0] * (size_t)shapes[k].nb);
                shape[shapes[k].nb] = widths[i];
                E3C_ASSERT_OK(e3c_randn(&x[i], g, E3C_FLOAT64, shape, shapes[k].nb + 1));
            }
            const e3c_tensor *const *xs = (const e3c_tensor *const *)x;
            e3c_tensor *want = forward_of(paths, xs, 2, 0), *got = forward_of(dense, xs, 2, 0),
                       *jit = forward_of(compiled, xs, 2, 1);
            cr_assert_leq(rel_error(got, want), 1e-13, "case %zu (%s -> %s), shape %zu: dense eager", c, cases[c].in1,
                          cases[c].out, k);
            cr_assert_leq(rel_error(jit, want), 1e-13, "case %zu (%s -> %s), shape %zu: dense compiled", c,
                          cases[c].in1, cases[c].out, k);
            e3c_tensor_free(want), e3c_tensor_free(got), e3c_tensor_free(jit);
            e3c_tensor_free(x[0]), e3c_tensor_free(x[1]);
        }
        e3c_module_free(dense), e3c_module_free(paths), e3c_module_free(compiled);
    }
    e3c_generator_free(g);
}

Test(modules, dense_form_is_only_for_small_products_with_shared_weights)
{
    e3c_module *m = NULL;
    e3c_tp_options opt = E3C_TP_OPTIONS_INIT;
    E3C_ASSERT_OK(e3c_fully_connected_tp_new(&m, "2x0e+1x1o", "1x0e+1x1o", "2x0e+1x1o", NULL));
    cr_assert(strstr(e3c_module_script_source(m), "dense_basis"), "small and shared: dense");
    e3c_module_free(m);
    opt.shared_weights = 0, opt.internal_weights = 0;
    E3C_ASSERT_OK(e3c_fully_connected_tp_new(&m, "2x0e+1x1o", "1x0e+1x1o", "2x0e+1x1o", &opt));
    cr_assert(!strstr(e3c_module_script_source(m), "dense"), "per-sample weights: the paths");
    e3c_module_free(m);
    E3C_ASSERT_OK(e3c_fully_connected_tp_new(&m, "16x0e+16x1o", "0e+1o", "16x0e+16x1o", NULL));
    cr_assert(!strstr(e3c_module_script_source(m), "dense"), "a form of 64 x 4 x 64 is too large");
    e3c_module_free(m);
    int64_t old = e3c_nn_set_dense_limit(100);
    cr_assert_eq(old, E3C_NN_DENSE_LIMIT);
    E3C_ASSERT_OK(e3c_fully_connected_tp_new(&m, "2x0e+1x1o", "1x0e+1x1o", "2x0e+1x1o", NULL));
    cr_assert(!strstr(e3c_module_script_source(m), "dense"), "a basis above the limit: the paths");
    e3c_module_free(m);
    cr_assert_eq(e3c_nn_set_dense_limit(old), 100);
}

/* The harmonics of `ls` at n points, eager and compiled, against o3 (1e-12 relative). */
static void expect_o3_harmonics(e3c_module *m, const int *ls, size_t nls, const double *xyz, size_t n, int normalize,
                                e3c_normalization norm, const char *what)
{
    size_t width = 0;
    for (size_t i = 0; i < nls; i++)
        width += 2 * (size_t)ls[i] + 1;
    double *want = malloc(n * width * sizeof *want), *got = malloc(n * width * sizeof *got);
    E3C_ASSERT_OK(e3c_spherical_harmonics(want, ls, nls, n, xyz, normalize, norm));
    e3c_module *compiled = NULL;
    e3c_compile_options copt = E3C_COMPILE_OPTIONS_INIT;
    copt.in_place = 0;
    E3C_ASSERT_OK(e3c_module_compile(&compiled, m, &copt));
    e3c_tensor *x = NULL;
    const int64_t shape[3] = {(int64_t)n / 2, 2, 3}; /* two batch dimensions */
    E3C_ASSERT_OK(e3c_tensor_from_data(&x, xyz, E3C_FLOAT64, shape, 3));
    const e3c_tensor *xs[1] = {x};
    for (int c = 0; c < 2; c++) {
        e3c_tensor *y = forward_of(c ? compiled : m, xs, 1, c);
        cr_assert_eq(e3c_tensor_size(y, 0), (int64_t)n / 2);
        cr_assert_eq(e3c_tensor_size(y, -1), (int64_t)width);
        E3C_ASSERT_OK(e3c_tensor_to_doubles(got, n * width, y));
        for (size_t i = 0; i < n * width; i++)
            cr_assert(fabs(got[i] - want[i]) <= 1e-12 * fmax(1.0, fabs(want[i])),
                      "%s, %s, value %zu: %.17g, o3 says %.17g", what, c ? "compiled" : "eager", i, got[i], want[i]);
        e3c_tensor_free(y);
    }
    e3c_tensor_free(x);
    e3c_module_free(compiled);
    free(want), free(got);
}

Test(modules, spherical_harmonics_dense_form_matches_o3_for_small_degrees)
{
    /* unit, long, short and zero vectors; 3 x 2 of them */
    const double xyz[6][3] = {{0.3, -1.2, 0.7}, {1.0, 0.0, 0.0},     {-20.0, 1.0, 35.0},
                              {0.0, 0.0, 0.0},  {1e-3, 2e-3, -5e-4}, {0.0, -1.0, 0.0}};
    const int sets[5][4] = {{1}, {0, 1, 2}, {2, 0, 2, 1}, {3, 1}, {4, 0, 3}};
    const size_t sizes[5] = {1, 3, 4, 2, 3};
    const e3c_normalization norms[3] = {E3C_NORM_COMPONENT, E3C_NORM_NORM, E3C_NORM_INTEGRAL};
    E3C_ASSERT_OK(e3c_set_default_dtype(E3C_FLOAT64));
    for (int k = 0; k < 5; k++)
        for (int n = 0; n < 3; n++)
            for (int normalize = 0; normalize < 2; normalize++) {
                e3c_module *m = NULL;
                E3C_ASSERT_OK(e3c_spherical_harmonics_module_new(&m, sets[k], sizes[k], -1, normalize, norms[n]));
                cr_assert(strstr(e3c_module_script_source(m), "self.dense_basis"), "set %d: degree <= 4 is dense", k);
                char what[64];
                snprintf(what, sizeof what, "set %d, normalization %d, normalize %d", k, n, normalize);
                expect_o3_harmonics(m, sets[k], sizes[k], &xyz[0][0], 6, normalize, norms[n], what);
                e3c_module_free(m);
            }
    const int five[1] = {5};
    e3c_module *m = NULL;
    E3C_ASSERT_OK(e3c_spherical_harmonics_module_new(&m, five, 1, -1, 1, E3C_NORM_COMPONENT));
    cr_assert(!strstr(e3c_module_script_source(m), "dense"), "degree 5: the program");
    expect_o3_harmonics(m, five, 1, &xyz[0][0], 6, 1, E3C_NORM_COMPONENT, "l = 5, the program");
    e3c_module_free(m);
}

/* ---- issue 13 item 4: every library module rejects an input of another width ---- */

typedef struct width_case {
    const char *spec;
    const char *needle[2]; /* per declared input: what the error must say */
} width_case;

/* A (2, width) input of random numbers in float64. */
static e3c_tensor *random_rows(e3c_generator *g, int64_t width)
{
    int64_t shape[2] = {2, width};
    e3c_tensor *t = NULL;
    E3C_ASSERT_OK(e3c_randn(&t, g, E3C_FLOAT64, shape, 2));
    return t;
}

/* The module's inputs at their declared widths, input `bad` `delta` columns wider. */
static e3c_values *inputs_of_widths(const e3c_arg_spec *specs, size_t n, size_t bad, int64_t delta, e3c_generator *g)
{
    e3c_values *in = NULL;
    E3C_ASSERT_OK(e3c_values_new(&in));
    for (size_t i = 0; i < n; i++) {
        int64_t w = specs[i].kind == E3C_ARG_IRREPS ? e3c_irreps_dim(&specs[i].irreps) : 3;
        e3c_tensor *t = random_rows(g, i == bad ? w + delta : w);
        E3C_ASSERT_OK(e3c_values_push(in, t));
        e3c_tensor_free(t);
    }
    return in;
}

Test(modules, library_modules_reject_inputs_of_another_width_eager_and_compiled, .timeout = 300)
{
    static const width_case cases[] = {
        {"{\"type\":\"Norm\",\"args\":[\"1x0e+1x1o\"]}", {"Incorrect last dimension for x"}},
        {"{\"type\":\"Norm\",\"args\":[\"2x1o\"],\"kwargs\":{\"squared\":true}}", {"Incorrect last dimension for x"}},
        {"{\"type\":\"Linear\",\"args\":[\"2x0e+1x1o\",\"3x0e\"]}", {"Incorrect last dimension for x"}},
        {"{\"type\":\"Linear\",\"args\":[\"40x0e+20x1o\",\"30x0e+10x1o\"]}", {"Incorrect last dimension for x"}},
        {"{\"type\":\"FullyConnectedTensorProduct\",\"args\":[\"1x0e+1x1o\",\"1x1o\",\"1x0e+1x1o\"]}",
         {"Incorrect last dimension for x", "Incorrect last dimension for y"}},
        {"{\"type\":\"FullyConnectedTensorProduct\",\"args\":[\"8x0e+8x1o\",\"8x0e+8x1o\",\"8x0e+8x1o\"]}",
         {"Incorrect last dimension for x", "Incorrect last dimension for y"}},
        {"{\"type\":\"ElementwiseTensorProduct\",\"args\":[\"2x1o+1x2e\",\"1x0e+2x1e\"]}",
         {"Incorrect last dimension for x", "Incorrect last dimension for y"}},
        {"{\"type\":\"FullTensorProduct\",\"args\":[\"1x0e+1x1o\",\"2x1e\"]}",
         {"Incorrect last dimension for x", "Incorrect last dimension for y"}},
        {"{\"type\":\"TensorSquare\",\"args\":[\"3x1o+1x0e\"]}", {"Incorrect last dimension for x"}},
        {"{\"type\":\"SphericalHarmonics\",\"args\":[[0,1,2],true]}", {"Incorrect last dimension for x"}},
        {"{\"type\":\"SphericalHarmonics\",\"args\":[[6],false]}", {"Incorrect last dimension for x"}},
        {"{\"type\":\"Extract\",\"args\":[\"1x0e+2x1o+1x2e\",[\"2x1o+1x0e\",\"1x2e\"],[[1,0],[2]]]}",
         {"invalid input shape"}},
        {"{\"type\":\"ExtractIr\",\"args\":[\"1x0e+2x1o+1x2e+1x1o\",\"1o\"]}", {"invalid input shape"}},
        {"{\"type\":\"Gate\",\"args\":[\"2x0e\",[\"silu\"],\"2x0e\",[\"sigmoid\"],\"1x1o+1x2e\"]}",
         {"invalid input shape"}},
        {"{\"type\":\"Activation\",\"args\":[\"2x0e+1x0o+1x1o\",[\"silu\",\"tanh\",null]]}",
         {"Incorrect last dimension for x"}},
        {"{\"type\":\"FullyConnectedNet\",\"args\":[[3,8,2],\"silu\"]}", {"Incorrect last dimension for x"}},
        {"{\"type\":\"PointConvolution\",\"args\":[\"2x0e+1x1o\",\"2x0e+1x1o\",2]}",
         {"Incorrect last dimension for pos", "Incorrect last dimension for feat"}},
    };
    static const int64_t deltas[] = {-1, 1, 2, 3};
    E3C_ASSERT_OK(e3c_set_default_dtype(E3C_FLOAT64));
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 7));
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        cJSON *spec = cJSON_Parse(cases[c].spec);
        e3c_module *m = NULL, *compiled = NULL;
        E3C_ASSERT_OK(e3c_registry_build(&m, spec));
        e3c_compile_options opt = E3C_COMPILE_OPTIONS_INIT;
        opt.in_place = 0;
        E3C_ASSERT_OK(e3c_module_compile(&compiled, m, &opt));
        size_t n = 0;
        const e3c_arg_spec *specs = e3c_module_irreps_in(m, &n);
        cr_assert(specs && n >= 1 && n <= 2, "%s: declared inputs", cases[c].spec);
        e3c_values *good = inputs_of_widths(specs, n, 0, 0, g), *out = NULL;
        E3C_ASSERT_OK(e3c_module_forward(&out, m, good));
        e3c_values_free(out);
        E3C_ASSERT_OK(e3c_jit_run(&out, e3c_module_jit(compiled), NULL, good));
        e3c_values_free(out), e3c_values_free(good);
        for (size_t i = 0; i < n; i++)
            for (size_t d = 0; d < sizeof deltas / sizeof *deltas; d++) {
                e3c_values *bad = inputs_of_widths(specs, n, i, deltas[d], g);
                e3c_values *y = NULL;
                e3c_status st = e3c_module_forward(&y, m, bad);
                cr_assert_eq(st, E3C_ERR_VALUE, "%s eager, input %zu %+lld columns: %s", cases[c].spec, i,
                             (long long)deltas[d], st ? e3c_error_last() : "accepted");
                cr_assert(strstr(e3c_error_last(), cases[c].needle[i]), "%s eager: \"%s\" lacks \"%s\"", cases[c].spec,
                          e3c_error_last(), cases[c].needle[i]);
                st = e3c_jit_run(&y, e3c_module_jit(compiled), NULL, bad);
                cr_assert_neq(st, E3C_OK, "%s compiled accepted input %zu %+lld columns", cases[c].spec, i,
                              (long long)deltas[d]);
                cr_assert(strstr(e3c_error_last(), cases[c].needle[i]), "%s compiled: \"%s\" lacks \"%s\"",
                          cases[c].spec, e3c_error_last(), cases[c].needle[i]);
                e3c_values_free(bad);
            }
        e3c_module_free(compiled), e3c_module_free(m);
        cJSON_Delete(spec);
    }
    e3c_generator_free(g);
}
