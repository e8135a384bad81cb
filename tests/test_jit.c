/* Compile modes and the recursive compiler: every example of e3nn's JIT document, and
 * e3nn's ordering, side effects, warnings and errors. */
#include <unistd.h>

#include "e3check/module.h"
#include "e3check/nn.h"
#include "e3check/registry.h"
#include "e3check/seed.h"
#include "test_util.h"

static const char *IRREPS = "2x0e + 1x1o";

static e3c_tensor *randn_irreps(e3c_generator *g, const char *irreps, int64_t batch)
{
    e3c_irreps ir;
    E3C_ASSERT_OK(e3c_irreps_parse(&ir, irreps));
    e3c_tensor *x = NULL;
    int64_t size[2] = {batch, -1};
    E3C_ASSERT_OK(e3c_irreps_randn(&x, &ir, g, size, 2, E3C_NORM_COMPONENT, E3C_FLOAT32));
    e3c_irreps_free(&ir);
    return x;
}

static e3c_values *one(const e3c_tensor *x)
{
    e3c_values *v = NULL;
    E3C_ASSERT_OK(e3c_values_new(&v));
    E3C_ASSERT_OK(e3c_values_push(v, x));
    return v;
}

static void assert_same(const e3c_tensor *a, const e3c_tensor *b, double tol)
{
    double d;
    E3C_ASSERT_OK(e3c_tensor_max_abs_diff(&d, a, b));
    cr_assert(d <= tol, "outputs differ by %g", d);
}

static e3c_module *compiled_child(e3c_module *m, const char *name, e3c_compiled_as how)
{
    e3c_module *c = e3c_module_child(m, name);
    cr_assert_not_null(c);
    cr_assert_eq(e3c_module_compiled_as(c), how, "child %s compiled as %d", name, e3c_module_compiled_as(c));
    return c;
}

Test(seed, scripting_mymodule_agrees_with_eager)
{
    e3c_module *mod = NULL, *scripted = NULL;
    E3C_ASSERT_OK(e3c_seed_mymodule_new(&mod, IRREPS));
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 0));
    e3c_tensor *x = randn_irreps(g, IRREPS, 2), *eager = NULL, *compiled = NULL;
    E3C_ASSERT_OK(e3c_module_forward1(&eager, mod, x));
    E3C_ASSERT_OK(e3c_module_script(&scripted, mod, NULL));
    cr_assert_eq(scripted, mod, "in place by default, as e3nn");
    cr_assert_eq(e3c_module_compiled_as(mod), E3C_SCRIPTED);
    compiled_child(mod, "norm", E3C_TRACED);
    E3C_ASSERT_OK(e3c_module_forward1(&compiled, mod, x));
    assert_same(eager, compiled, 1e-6);
    /* e3nn leaves "script" on an undecorated module after script() */
    cr_assert_eq(e3c_module_mode(mod), E3C_MODE_SCRIPT);
    e3c_tensor_free(x), e3c_tensor_free(eager), e3c_tensor_free(compiled);
    e3c_generator_free(g);
    e3c_module_free(mod);
}

Test(seed, traced_anothermodule_keeps_the_scripted_childs_control_flow)
{
    e3c_module *mod2 = NULL, *traced = NULL;
    E3C_ASSERT_OK(e3c_seed_another_new(&mod2, IRREPS));
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 3));
    e3c_tensor *ex = randn_irreps(g, IRREPS, 3);
    e3c_values *example = one(ex);
    E3C_ASSERT_OK(e3c_module_trace(&traced, mod2, example, NULL, 0, NULL));
    cr_assert_eq(e3c_module_compiled_as(mod2), E3C_TRACED);
    compiled_child(mod2, "mymod", E3C_SCRIPTED);

    /* zeros(2, 5): no row > 0.1, so the scripted child returns the whole norm: all 3 */
    int64_t shape[2] = {2, 5};
    e3c_tensor *zeros = NULL, *y = NULL;
    E3C_ASSERT_OK(e3c_tensor_zeros(&zeros, E3C_FLOAT32, shape, 2));
    E3C_ASSERT_OK(e3c_module_forward1(&y, mod2, zeros));
    float got[6];
    cr_assert_eq(e3c_tensor_numel(y), 6);
    E3C_ASSERT_OK(e3c_tensor_copy_to(got, sizeof got, y));
    for (int i = 0; i < 6; i++)
        cr_assert_eq(got[i], 3.0f);

    /* random input: the first row is returned (shape (3,)), a data-dependent branch */
    e3c_tensor *x = randn_irreps(g, IRREPS, 3), *z = NULL;
    e3c_tensor_free(y);
    E3C_ASSERT_OK(e3c_module_forward1(&y, mod2, x));
    cr_assert_eq(e3c_tensor_ndim(y), 1);
    cr_assert_eq(e3c_tensor_size(y, 0), 3);
    /* the eager C forward of a fresh module agrees */
    e3c_module *fresh = NULL;
    E3C_ASSERT_OK(e3c_seed_another_new(&fresh, IRREPS));
    E3C_ASSERT_OK(e3c_module_forward1(&z, fresh, x));
    assert_same(y, z, 1e-6);

    /* after save and load too */
    char path[512];
    snprintf(path, sizeof path, "%s/another.pt", test_tmpdir());
    E3C_ASSERT_OK(e3c_module_save(mod2, path));
    e3c_jit_module *loaded = NULL;
    e3c_values *in = one(zeros), *res = NULL;
    E3C_ASSERT_OK(e3c_jit_load(&loaded, path));
    E3C_ASSERT_OK(e3c_jit_run(&res, loaded, NULL, in));
    float reloaded[6];
    E3C_ASSERT_OK(e3c_tensor_copy_to(reloaded, sizeof reloaded, e3c_values_get(res, 0)));
    for (int i = 0; i < 6; i++)
        cr_assert_eq(reloaded[i], 3.0f, "after save and load");
    char *graph = NULL;
    E3C_ASSERT_OK(e3c_jit_graph(&graph, loaded, "forward"));
    cr_assert(strstr(graph, "prim::CallMethod"), "the traced graph calls the scripted child: %s", graph);
    free(graph);

    /* e3nn leaks: the undecorated module keeps mode trace and the example inputs */
    cr_assert_eq(e3c_module_mode(mod2), E3C_MODE_TRACE);
    cr_assert(e3c_module_has_tracing_hook(mod2));
    e3c_values_free(in), e3c_values_free(res), e3c_jit_free(loaded);
    e3c_tensor_free(ex), e3c_tensor_free(zeros), e3c_tensor_free(x), e3c_tensor_free(y), e3c_tensor_free(z);
    e3c_values_free(example);
    e3c_generator_free(g);
    e3c_module_free(mod2);
    e3c_module_free(fresh);
}

Test(seed, tracing_module_compiles_with_its_own_hook_and_int64_input)
{
    e3c_module *mod3 = NULL, *out = NULL;
    E3C_ASSERT_OK(e3c_seed_tracing_new(&mod3));
    e3c_compile_options opt = E3C_COMPILE_OPTIONS_INIT;
    opt.n_trace_checks = 3;
    E3C_ASSERT_OK(e3c_module_compile(&out, mod3, &opt));
    cr_assert_eq(e3c_module_compiled_as(mod3), E3C_TRACED);
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 1));
    int64_t shape[2] = {5, 2}, three = 3;
    const int64_t idx[3] = {4, 0, 2};
    e3c_tensor *x = NULL, *ix = NULL;
    E3C_ASSERT_OK(e3c_randn(&x, g, E3C_FLOAT32, shape, 2));
    E3C_ASSERT_OK(e3c_tensor_from_data(&ix, idx, E3C_INT64, &three, 1));
    e3c_values *in = NULL, *res = NULL, *eager = NULL;
    E3C_ASSERT_OK(e3c_values_new(&in));
    E3C_ASSERT_OK(e3c_values_push(in, x));
    E3C_ASSERT_OK(e3c_values_push(in, ix));
    E3C_ASSERT_OK(e3c_module_forward(&res, mod3, in));
    e3c_module *fresh = NULL;
    E3C_ASSERT_OK(e3c_seed_tracing_new(&fresh));
    E3C_ASSERT_OK(e3c_module_forward(&eager, fresh, in));
    assert_same(e3c_values_get(res, 0), e3c_values_get(eager, 0), 1e-5);
    e3c_values_free(in), e3c_values_free(res), e3c_values_free(eager);
    e3c_tensor_free(x), e3c_tensor_free(ix);
    e3c_generator_free(g);
    e3c_module_free(mod3);
    e3c_module_free(fresh);
}

Test(seed, supermod_fails_naming_the_unsupported_child)
{
    e3c_module *mod = NULL, *out = NULL;
    E3C_ASSERT_OK(e3c_seed_supermod_new(&mod));
    E3C_ASSERT_FAILS(e3c_module_script(&out, mod, NULL), E3C_ERR_VALUE,
                     "ChildMod does not support TorchScript compilation");
    cr_assert(strstr(e3c_error_last(), "root.child"), "%s", e3c_error_last());
    cr_assert_null(out);
    e3c_module_free(mod);
}

/* ------------------------------------------------------------ e3nn's semantics ---- */

Test(compile, in_place_false_leaves_the_original_untouched)
{
    e3c_module *mod = NULL, *copy = NULL;
    E3C_ASSERT_OK(e3c_seed_mymodule_loop_new(&mod, IRREPS));
    e3c_compile_options opt = E3C_COMPILE_OPTIONS_INIT;
    opt.in_place = 0;
    E3C_ASSERT_OK(e3c_module_compile(&copy, mod, &opt));
    cr_assert_neq(copy, mod);
    cr_assert_eq(e3c_module_compiled_as(mod), E3C_EAGER);
    cr_assert_eq(e3c_module_compiled_as(e3c_module_child(mod, "norm")), E3C_EAGER);
    cr_assert_eq(e3c_module_compiled_as(copy), E3C_SCRIPTED);
    compiled_child(copy, "norm", E3C_TRACED);
    e3c_strings tree = {0};
    E3C_ASSERT_OK(e3c_module_describe(&tree, copy, "mod"));
    cr_assert_eq(tree.count, 2);
    cr_assert_str_eq(tree.items[0], "mod MyModuleLoop mode=script scripted");
    cr_assert_str_eq(tree.items[1], "mod.norm Norm mode=trace traced");
    e3c_strings_free(&tree);
    e3c_module_free(copy);
    e3c_module_free(mod);
}

Test(compile, mode_mismatch_is_a_warning_returned_to_the_caller)
{
    e3c_module *norm = NULL, *out = NULL;
    E3C_ASSERT_OK(e3c_norm_new(&norm, "1o", 0));
    e3c_strings warnings = {0};
    e3c_compile_options opt = E3C_COMPILE_OPTIONS_INIT;
    opt.warnings = &warnings;
    e3c_status st = e3c_module_script(&out, norm, &opt);
    cr_assert_neq(st, E3C_OK, "Norm has no TorchScript source in e3check");
    cr_assert_geq(warnings.count, 1);
    cr_assert_str_eq(warnings.items[0],
                     "Trying to script a module of type Norm marked with @compile_mode != 'script', expect errors!");
    cr_assert_eq(e3c_module_mode(norm), E3C_MODE_TRACE, "a decorated module gets its mode back");
    e3c_strings_free(&warnings);
    e3c_module_free(norm);

    e3c_module *loop = NULL;
    E3C_ASSERT_OK(e3c_seed_mymodule_loop_new(&loop, IRREPS));
    opt.warnings = &warnings;
    E3C_ASSERT_OK(e3c_module_trace(&out, loop, NULL, NULL, 0, &opt));
    cr_assert_str_eq(
        warnings.items[0],
        "Trying to trace a module of type MyModuleLoop marked with @compile_mode != 'trace', expect errors!");
    e3c_strings_free(&warnings);
    e3c_module_free(loop);
}

static e3c_status data_branch_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self;
    const e3c_tensor *x = e3c_values_get(in, 0);
    int big = 0;
    e3c_tensor *y = NULL;
    e3c_status st = e3c_tensor_any_greater(&big, x, 0.0);
    if (!st)
        st = big ? e3c_tensor_unary(&y, x, E3C_OP_RELU) : e3c_tensor_unary(&y, x, E3C_OP_NEG);
    if (!st)
        st = e3c_values_new(out);
    if (!st)
        st = e3c_values_push(*out, y);
    e3c_tensor_free(y);
    return st;
}

static const e3c_module_class wrongly_traced = {
    .name = "BranchesOnData", .mode = "trace", .forward = data_branch_forward};

Test(compile, data_dependent_branch_marked_trace_is_caught)
{
    e3c_module *m = NULL, *out = NULL;
    E3C_ASSERT_OK(e3c_module_new(&m, &wrongly_traced, NULL));
    const char *ins[1] = {"3x0e"};
    E3C_ASSERT_OK(e3c_module_set_irreps_in(m, ins, 1));
    e3c_compile_options opt = E3C_COMPILE_OPTIONS_INIT;
    opt.error_on_warnings = 1;
    E3C_ASSERT_FAILS(e3c_module_compile(&out, m, &opt), E3C_ERR_VALUE, "tracer warning while tracing root");
    cr_assert(strstr(e3c_error_last(), "e3c_tensor_any_greater"), "%s", e3c_error_last());
    e3c_module_free(m);

    /* without error_on_warnings, the trace checks on other inputs catch the branch:
     * an all-negative and an all-positive input take different branches */
    E3C_ASSERT_OK(e3c_module_new(&m, &wrongly_traced, NULL));
    const float neg[3] = {-1, -2, -3}, pos[3] = {1, 2, 3};
    int64_t shape[2] = {1, 3};
    e3c_tensor *a = NULL, *b = NULL;
    E3C_ASSERT_OK(e3c_tensor_from_data(&a, neg, E3C_FLOAT32, shape, 2));
    E3C_ASSERT_OK(e3c_tensor_from_data(&b, pos, E3C_FLOAT32, shape, 2));
    e3c_values *va = one(a), *vb = one(b);
    const e3c_values *checks[1] = {vb};
    E3C_ASSERT_FAILS(e3c_module_trace(&out, m, va, checks, 1, NULL), E3C_ERR_VALUE, "check input 1");
    e3c_values_free(va), e3c_values_free(vb);
    e3c_tensor_free(a), e3c_tensor_free(b);
    e3c_module_free(m);
}

static const e3c_module_class bogus_mode = {.name = "Bogus", .mode = "bogus", .forward = data_branch_forward};

Test(compile, errors_follow_e3nn)
{
    e3c_module *m = NULL, *out = NULL;
    E3C_ASSERT_FAILS(e3c_module_new(&m, &bogus_mode, NULL), E3C_ERR_VALUE, "Invalid compile mode");
    cr_assert_null(m);

    E3C_ASSERT_OK(e3c_norm_new(&m, IRREPS, 0));
    E3C_ASSERT_FAILS(e3c_module_set_mode(m, "bogus"), E3C_ERR_VALUE, "Invalid compile mode `'bogus'`");
    e3c_compile_options opt = E3C_COMPILE_OPTIONS_INIT;
    opt.n_trace_checks = 0;
    E3C_ASSERT_FAILS(e3c_module_compile(&out, m, &opt), E3C_ERR_INVALID, "n_trace_checks must be >= 1");
    e3c_module_free(m);

    E3C_ASSERT_OK(e3c_module_new(&m, &wrongly_traced, NULL));
    E3C_ASSERT_FAILS(e3c_module_compile(&out, m, NULL), E3C_ERR_VALUE,
                     "Cannot infer irreps_in for BranchesOnData(); provide them explicitly");
    e3c_module_free(m);
}

Test(compile, unsupported_is_raised_before_children_are_touched)
{
    e3c_module *mod = NULL, *out = NULL;
    E3C_ASSERT_OK(e3c_seed_mymodule_loop_new(&mod, IRREPS));
    E3C_ASSERT_OK(e3c_module_set_mode(mod, "unsupported"));
    E3C_ASSERT_FAILS(e3c_module_compile(&out, mod, NULL), E3C_ERR_VALUE,
                     "MyModuleLoop does not support TorchScript compilation");
    cr_assert_eq(e3c_module_compiled_as(e3c_module_child(mod, "norm")), E3C_EAGER);
    e3c_module_free(mod);
}

Test(registry, builds_seed_modules_from_json)
{
    cJSON *spec = cJSON_Parse("{\"type\": \"AnotherModule\", \"args\": [\"2x0e + 1x1o\"]}");
    e3c_module *m = NULL;
    E3C_ASSERT_OK(e3c_registry_build(&m, spec));
    cr_assert_str_eq(e3c_module_class_of(m)->name, "AnotherModule");
    e3c_module_free(m);
    cJSON_Delete(spec);
    spec = cJSON_Parse("{\"type\": \"Nope\"}");
    E3C_ASSERT_FAILS(e3c_registry_build(&m, spec), E3C_ERR_NOT_FOUND, "unknown module type \"Nope\"");
    cJSON_Delete(spec);
    spec = cJSON_Parse("{\"type\": \"Norm\", \"args\": [\"1x\"]}");
    E3C_ASSERT_FAILS(e3c_registry_build(&m, spec), E3C_ERR_VALUE, "cannot build Norm");
    cJSON_Delete(spec);
    spec = cJSON_Parse("{\"type\": \"Norm\", \"args\": [\"1o\"], \"kwargs\": {\"sqared\": true}}");
    E3C_ASSERT_FAILS(e3c_registry_build(&m, spec), E3C_ERR_VALUE, "unexpected keyword argument \"sqared\"");
    cJSON_Delete(spec);
    e3c_strings names = {0};
    E3C_ASSERT_OK(e3c_registry_names(&names));
    cr_assert_geq(names.count, 6);
    e3c_strings_free(&names);
}

static void build_fails_with(const char *json, const char *needle)
{
    cJSON *spec = cJSON_Parse(json);
    cr_assert_not_null(spec, "bad test JSON %s", json);
    e3c_module *m = NULL;
    E3C_ASSERT_FAILS(e3c_registry_build(&m, spec), E3C_ERR_VALUE, needle);
    cr_assert_null(m, "%s", json);
    cJSON_Delete(spec);
}

/* The module the catalogue builds from `json`, which must build (caller frees). */
static e3c_module *built(const char *json)
{
    cJSON *spec = cJSON_Parse(json);
    cr_assert_not_null(spec, "bad test JSON %s", json);
    e3c_module *m = NULL;
    cr_assert_eq(e3c_registry_build(&m, spec), E3C_OK, "%s: %s", json, e3c_error_last());
    cr_assert_not_null(m);
    cJSON_Delete(spec);
    return m;
}

static void builds(const char *json) { e3c_module_free(built(json)); }

Test(registry, argument_errors_name_the_module_the_argument_and_why)
{
    build_fails_with("{\"type\": \"Norm\", \"args\": [3]}",
                     "cannot build Norm: argument \"irreps_in\" must be a string");
    build_fails_with("{\"type\": \"Norm\"}", "cannot build Norm: missing argument \"irreps_in\"");
    build_fails_with("{\"type\": \"Norm\", \"args\": [\"1o\", \"yes\"]}",
                     "cannot build Norm: argument \"squared\" must be true or false");
    build_fails_with("{\"type\": \"Norm\", \"args\": [\"1o\", true, 3]}",
                     "Norm takes at most 2 positional arguments, got 3");
    build_fails_with("{\"type\": \"BatchNorm\", \"args\": [\"1o\"], \"kwargs\": {\"eps\": \"small\"}}",
                     "cannot build BatchNorm: argument \"eps\" must be a number");
    build_fails_with("{\"type\": \"Linear\", \"args\": [\"1o\", \"1o\"], \"kwargs\": {\"internal_weights\": 1}}",
                     "cannot build Linear: argument \"internal_weights\" must be true, false or null");
    build_fails_with("{\"type\": \"Linear\", \"args\": [\"1o\", \"1o\"], \"kwargs\": {\"path_normalization\": null}}",
                     "cannot build Linear: argument \"path_normalization\" must be a string");
    build_fails_with("{\"type\": \"FullyConnectedTensorProduct\", \"args\": [\"1o\", \"1o\", \"0e\"], "
                     "\"kwargs\": {\"in1_var\": [\"a\"]}}",
                     "cannot build FullyConnectedTensorProduct: argument \"in1_var\" must be a list of numbers");
    build_fails_with(
        "{\"type\": \"FullTensorProduct\", \"args\": [\"1o\", \"1o\", 3]}",
        "cannot build FullTensorProduct: filter_ir_out (=a non-list) must be an iterable of e3nn.o3.Irrep");
    build_fails_with("{\"type\": \"FullyConnectedNet\", \"args\": [[2, 2]], \"kwargs\": {\"variance_in\": null}}",
                     "cannot build FullyConnectedNet: argument \"variance_in\" must be a number");
    build_fails_with("{\"type\": \"Gate\", \"args\": [\"0e\", 3, \"0e\", [\"sigmoid\"], \"1o\"]}",
                     "cannot build Gate: argument \"act_scalars\" must be a list of activation names or nulls");
    build_fails_with("{\"type\": \"SphericalHarmonics\", \"args\": [1]}",
                     "cannot build SphericalHarmonics: argument \"normalize\" is required and must be true or false");
    /* the module spec is a document: its keys stay fields */
    build_fails_with("{\"type\": 3}", "module: field \"type\" must be a string");
}

/* What Python's call would refuse is refused, not ignored: e3nn's FullyConnectedTensorProduct
 * makes its own instructions, no product takes filter_ir_out but the elementwise, full and
 * square ones, and an argument is given once. */
Test(registry, arguments_python_would_refuse_are_refused)
{
    build_fails_with("{\"type\": \"FullyConnectedTensorProduct\", \"args\": [\"0e\", \"0e\", \"0e\"], "
                     "\"kwargs\": {\"instructions\": [[0, 0, 0, \"uvw\", true]]}}",
                     "FullyConnectedTensorProduct got an unexpected keyword argument \"instructions\"");
    build_fails_with("{\"type\": \"TensorProduct\", \"args\": [\"0e\", \"0e\", \"0e\", [[0, 0, 0, \"uvw\", true]]], "
                     "\"kwargs\": {\"filter_ir_out\": [\"0e\"]}}",
                     "TensorProduct got an unexpected keyword argument \"filter_ir_out\"");
    build_fails_with("{\"type\": \"Norm\", \"args\": [\"1o\"], \"kwargs\": {\"irreps_in\": \"2x1o\"}}",
                     "Norm got multiple values for argument \"irreps_in\"");
    build_fails_with("{\"type\": \"Norm\", \"args\": [\"1o\"], \"kwargs\": {\"squared\": true, \"squared\": false}}",
                     "Norm got multiple values for argument \"squared\"");
    builds(
        "{\"type\": \"FullyConnectedTensorProduct\", \"args\": [\"1o\", \"1o\", \"0e\", \"component\", \"element\"]}");
    builds("{\"type\": \"TensorProduct\", \"args\": [\"0e\", \"0e\", \"0e\", [[0, 0, 0, \"uvw\", true]], [1.0], [1.0], "
           "[1.0], \"component\", \"element\", true]}");
}

/* The width of the one output a module built from `json` declares. */
static int64_t built_output_dim(const char *json)
{
    e3c_module *m = built(json);
    size_t n = 0;
    const e3c_arg_spec *outs = e3c_module_irreps_out(m, &n);
    cr_assert_eq(n, 1, "%s declares %zu outputs", json, n);
    int64_t dim = e3c_irreps_dim(&outs[0].irreps);
    e3c_module_free(m);
    return dim;
}

/* Each case is one the audit against e3nn 0.5.6's signatures found e3check getting wrong:
 * a positional count, a None default, a value Python refuses, an argument ignored. */
Test(registry, arguments_follow_e3nns_signatures)
{
    /* irrep_normalization is the 4th positional argument of the three generated products,
     * and None there is the default */
    builds("{\"type\": \"ElementwiseTensorProduct\", \"args\": [\"2x1o\", \"2x1o\", null, \"norm\"]}");
    builds("{\"type\": \"FullTensorProduct\", \"args\": [\"1o\", \"1o\", [\"0e\"], \"none\"]}");
    builds("{\"type\": \"TensorSquare\", \"args\": [\"1o\", null, null, \"norm\"]}");
    builds("{\"type\": \"ElementwiseTensorProduct\", \"args\": [\"1o\", \"1o\"], "
           "\"kwargs\": {\"irrep_normalization\": null}}");
    build_fails_with("{\"type\": \"TensorSquare\", \"args\": [\"1o\", null, null, \"norm\", 1]}",
                     "TensorSquare takes at most 4 positional arguments, got 5");
    /* filter_ir_out: an empty list keeps no output (None keeps all); a string is iterated by
     * Python character by character, which no irrep survives */
    cr_assert_eq(built_output_dim("{\"type\": \"FullTensorProduct\", \"args\": [\"1o\", \"1o\", []]}"), 0);
    cr_assert_eq(built_output_dim("{\"type\": \"FullTensorProduct\", \"args\": [\"1o\", \"1o\", null]}"), 9);
    build_fails_with("{\"type\": \"TensorSquare\", \"args\": [\"1o\", \"0e\", []]}",
                     "Both `irreps_out` and `filter_ir_out` are not None, this is ambiguous.");
    build_fails_with("{\"type\": \"ElementwiseTensorProduct\", \"args\": [\"1o\", \"1o\", \"0e\"]}",
                     "argument \"filter_ir_out\" must be a list of irreps, not the string \"0e\"");
    build_fails_with("{\"type\": \"Extract\", \"args\": [\"1o\", \"1o\", [[0]]]}",
                     "argument \"irreps_outs\" must be a list of irreps, not the string \"1o\"");
    build_fails_with("{\"type\": \"Extract\", \"args\": [\"1o\", null, []]}",
                     "argument \"irreps_outs\" must be a list of irreps");
    /* compile_left_right=False leaves e3nn's forward uncompiled: refused, not ignored; e3nn's
     * kernel choices (_specialized_code, _optimize_einsums) only change the rounding */
    build_fails_with("{\"type\": \"FullyConnectedTensorProduct\", \"args\": [\"1o\", \"1o\", \"0e\"], "
                     "\"kwargs\": {\"compile_left_right\": false}}",
                     "compile_left_right=False (a TensorProduct whose forward is not compiled) is not supported");
    build_fails_with("{\"type\": \"FullyConnectedTensorProduct\", \"args\": [\"1o\", \"1o\", \"0e\"], "
                     "\"kwargs\": {\"compile_left_right\": \"yes\"}}",
                     "argument \"compile_left_right\" must be true or false");
    builds("{\"type\": \"FullyConnectedTensorProduct\", \"args\": [\"1o\", \"1o\", \"0e\"], "
           "\"kwargs\": {\"compile_left_right\": true, \"_specialized_code\": false, \"_optimize_einsums\": null}}");
    builds("{\"type\": \"TensorProduct\", \"args\": [\"0e\", \"0e\", \"0e\", [[0, 0, 0, \"uvw\", true]], null, null, "
           "null, null, null, null, null, true, false, null, true, false]}");
    build_fails_with("{\"type\": \"TensorProduct\", \"args\": [\"0e\", \"0e\", \"0e\", [[0, 0, 0, \"uvw\", true]]], "
                     "\"kwargs\": {\"_specialized_code\": 1}}",
                     "argument \"_specialized_code\" must be true, false or null");
    /* an index, a degree or a size is an int: Python refuses 0.5 where e3check truncated it */
    build_fails_with("{\"type\": \"TensorProduct\", \"args\": [\"0e\", \"0e\", \"0e\", [[0.5, 0, 0, \"uvw\", true]]]}",
                     "instruction 0 must be [i1, i2, i_out, mode, has_weight(, path_weight)]");
    build_fails_with("{\"type\": \"Linear\", \"args\": [\"2x0e\", \"0e\"], \"kwargs\": {\"instructions\": [[0.5, 0]]}}",
                     "Linear instructions must be pairs [i_in, i_out]");
    build_fails_with("{\"type\": \"Extract\", \"args\": [\"1o+0e\", [\"0e\"], [[1.5]]]}",
                     "Extract instructions must be lists of entry indices");
    build_fails_with("{\"type\": \"SphericalHarmonics\", \"args\": [1.5, true]}",
                     "argument \"irreps_out\" must be an int, a list of ints or an irreps string");
    build_fails_with("{\"type\": \"SphericalHarmonics\", \"args\": [[0, 1.5], true]}",
                     "argument \"irreps_out\" must list integers");
    build_fails_with("{\"type\": \"PointConvolution\", \"args\": [\"1o\", \"1o\", 1.5]}",
                     "argument \"lmax\" must be an integer");
    /* Linear's instructions are a list of pairs, not anything else read as none */
    build_fails_with("{\"type\": \"Linear\", \"args\": [\"2x0e\", \"0e\"], \"kwargs\": {\"instructions\": \"all\"}}",
                     "Linear instructions must be pairs [i_in, i_out]");
    builds("{\"type\": \"Linear\", \"args\": [\"2x0e\", \"0e\"], \"kwargs\": {\"instructions\": []}}");
    builds("{\"type\": \"Linear\", \"args\": [\"2x0e\", \"0e\"], \"kwargs\": {\"_optimize_einsums\": false}}");
    build_fails_with(
        "{\"type\": \"Linear\", \"args\": [\"2x0e\", \"0e\"], \"kwargs\": {\"_optimize_einsums\": \"no\"}}",
        "argument \"_optimize_einsums\" must be true, false or null");
    /* SphericalHarmonics: an irreps_out string must have the parities of the irreps_in given */
    build_fails_with("{\"type\": \"SphericalHarmonics\", \"args\": [\"1x1o\", true, \"component\", \"1x1e\"]}",
                     "asked for an output of l = 1 with parity p = -1, which is inconsistent with the input parity 1");
    build_fails_with(
        "{\"type\": \"SphericalHarmonics\", \"args\": [\"0e+1e\", true], \"kwargs\": {\"irreps_in\": \"1o\"}}",
        "asked for an output of l = 1 with parity p = 1, which is inconsistent with the input parity -1");
    builds("{\"type\": \"SphericalHarmonics\", \"args\": [\"0e+1e+2e\", true, \"component\", \"1x1e\"]}");
    builds("{\"type\": \"SphericalHarmonics\", \"args\": [\"0e+1o+2e\", true, \"component\", \"1x1o\"]}");
    /* BatchNorm's eps and momentum default to numbers, not None: null is refused */
    build_fails_with("{\"type\": \"BatchNorm\", \"args\": [\"1o\", null]}",
                     "cannot build BatchNorm: argument \"eps\" must be a number");
    build_fails_with("{\"type\": \"BatchNorm\", \"args\": [\"1o\"], \"kwargs\": {\"momentum\": null}}",
                     "cannot build BatchNorm: argument \"momentum\" must be a number");
}

/* The module `json` (two inputs of width 1, e.g. 0e x 0e) applied to x = 2, y = 3. */
static double product_of_2_and_3(const char *json)
{
    e3c_module *m = built(json);
    const float two = 2.0f, three = 3.0f;
    const int64_t shape[2] = {1, 1};
    e3c_tensor *x = NULL, *y = NULL;
    E3C_ASSERT_OK(e3c_tensor_from_data(&x, &two, E3C_FLOAT32, shape, 2));
    E3C_ASSERT_OK(e3c_tensor_from_data(&y, &three, E3C_FLOAT32, shape, 2));
    e3c_values *in = one(x), *out = NULL;
    E3C_ASSERT_OK(e3c_values_push(in, y));
    E3C_ASSERT_OK(e3c_module_forward(&out, m, in));
    double v = 0;
    E3C_ASSERT_OK(e3c_tensor_to_doubles(&v, 1, e3c_values_get(out, 0)));
    e3c_values_free(in), e3c_values_free(out);
    e3c_tensor_free(x), e3c_tensor_free(y);
    e3c_module_free(m);
    return v;
}

/* The sum of squares of columns [from, to) of the module `json` applied to the one row x. */
static double square_of_columns(const char *json, const float *x, int64_t width, int64_t from, int64_t to)
{
    e3c_module *m = built(json);
    const int64_t shape[2] = {1, width};
    e3c_tensor *in = NULL, *out = NULL;
    E3C_ASSERT_OK(e3c_tensor_from_data(&in, x, E3C_FLOAT32, shape, 2));
    E3C_ASSERT_OK(e3c_module_forward1(&out, m, in));
    double v[64] = {0}, sum = 0;
    cr_assert_leq(e3c_tensor_numel(out), 64);
    E3C_ASSERT_OK(e3c_tensor_to_doubles(v, 64, out));
    for (int64_t i = from; i < to; i++)
        sum += v[i] * v[i];
    e3c_tensor_free(in), e3c_tensor_free(out);
    e3c_module_free(m);
    return sum;
}

/* e3nn's ElementwiseTensorProduct, FullTensorProduct and TensorSquare pass their other
 * keywords through to TensorProduct: they are read, not refused (nor ignored). For 0e x 0e
 * the coefficient is sqrt(out_var / (in1_var * in2_var)) (MODULES_SPEC.md 2.3). */
Test(registry, generated_products_take_tensor_products_keywords)
{
    const char *etp = "{\"type\": \"ElementwiseTensorProduct\", \"args\": [\"0e\", \"0e\"]";
    char json[256];
    cr_assert_float_eq(product_of_2_and_3("{\"type\": \"ElementwiseTensorProduct\", \"args\": [\"0e\", \"0e\"]}"), 6.0,
                       1e-6);
    snprintf(json, sizeof json, "%s, \"kwargs\": {\"in1_var\": [4.0]}}", etp);
    cr_assert_float_eq(product_of_2_and_3(json), 3.0, 1e-6);
    snprintf(json, sizeof json, "%s, \"kwargs\": {\"out_var\": [4.0], \"path_normalization\": \"path\"}}", etp);
    cr_assert_float_eq(product_of_2_and_3(json), 12.0, 1e-6);
    snprintf(json, sizeof json, "%s, \"kwargs\": {\"in2_var\": [4.0, 1.0]}}", etp);
    build_fails_with(json, "Len of ir2_var must be equal to len(irreps_in2)");
    cr_assert_float_eq(product_of_2_and_3("{\"type\": \"FullTensorProduct\", \"args\": [\"0e\", \"0e\"], "
                                          "\"kwargs\": {\"in2_var\": [9.0]}}"),
                       2.0, 1e-6);
    /* TensorSquare's TensorProduct gets irrep_normalization "none" unless the deprecated
     * `normalization` keyword replaces it */
    const float v[3] = {1.0f, 2.0f, 3.0f};
    double plain = square_of_columns("{\"type\": \"TensorSquare\", \"args\": [\"1o\"]}", v, 3, 1, 6);
    double component = square_of_columns(
        "{\"type\": \"TensorSquare\", \"args\": [\"1o\"], \"kwargs\": {\"normalization\": \"component\"}}", v, 3, 1, 6);
    cr_assert(plain > 0);
    cr_assert_float_eq(component / plain, 5.0, 1e-5, "the 2e block scaled by sqrt(2l + 1)");
    double explicit_default =
        square_of_columns("{\"type\": \"TensorSquare\", \"args\": [\"1o\", null, null, \"component\"]}", v, 3, 1, 6);
    cr_assert_float_eq(explicit_default / plain, 1.0, 1e-5, "irrep_normalization makes the path weights only");
    builds("{\"type\": \"TensorSquare\", \"args\": [\"2x0e\", \"0e\"], \"kwargs\": {\"internal_weights\": false, "
           "\"shared_weights\": false, \"normalization\": \"norm\", \"_optimize_einsums\": true}}");
    build_fails_with("{\"type\": \"TensorSquare\", \"args\": [\"2x0e\", \"0e\"], "
                     "\"kwargs\": {\"internal_weights\": true, \"shared_weights\": false}}",
                     "internal weights must be shared");
    build_fails_with(
        "{\"type\": \"FullTensorProduct\", \"args\": [\"0e\", \"0e\"], \"kwargs\": {\"compile_right\": true}}",
        "compile_right (the `right` method) is not supported by e3check");
    build_fails_with("{\"type\": \"FullTensorProduct\", \"args\": [\"0e\", \"0e\"], \"kwargs\": {\"weights\": true}}",
                     "FullTensorProduct got an unexpected keyword argument \"weights\"");
}

/* null is "not given" where e3nn's default is None, and a positional argument is read
 * under its name: the bound arguments accept what e3nn accepts. */
Test(registry, arguments_bind_by_position_or_name_and_null_is_not_given)
{
    builds("{\"type\": \"Norm\", \"kwargs\": {\"irreps_in\": \"1o\", \"squared\": true}}");
    builds("{\"type\": \"BatchNorm\", \"args\": [\"1o\", 1e-5, 0.1, true, \"mean\", false, \"component\"]}");
    builds("{\"type\": \"TensorSquare\", \"args\": [\"1o\", null, null]}");
    builds(
        "{\"type\": \"Linear\", \"args\": [\"1o\", \"1o\"], \"kwargs\": {\"internal_weights\": null, \"f_in\": null}}");
    builds("{\"type\": \"FullTensorProduct\", \"args\": [\"1o\", \"1o\"], \"kwargs\": {\"filter_ir_out\": [\"0e\"]}}");
    builds("{\"type\": \"SphericalHarmonics\", \"args\": [[0, 1], true], \"kwargs\": {\"irreps_in\": null}}");
    builds("{\"type\": \"FullyConnectedNet\", \"args\": [[2, 3, 1], null]}");
}

Test(registry, arguments_are_listed_in_positional_order)
{
    e3c_strings names = {0};
    int positional = -1;
    E3C_ASSERT_OK(e3c_registry_arguments(&names, &positional, "TensorProduct"));
    cr_assert_eq(positional, 16); /* e3nn takes every one of them by position */
    cr_assert_eq(names.count, 16);
    const char *first[] = {"irreps_in1", "irreps_in2", "irreps_out", "instructions", "in1_var"};
    for (int i = 0; i < 5; i++)
        cr_assert_str_eq(names.items[i], first[i], "TensorProduct's argument %d", i);
    e3c_strings_free(&names);
    E3C_ASSERT_OK(e3c_registry_arguments(&names, &positional, "FullyConnectedTensorProduct"));
    cr_assert_eq(positional, 5);
    const char *fctp[] = {"irreps_in1", "irreps_in2", "irreps_out", "irrep_normalization", "path_normalization"};
    for (int i = 0; i < 5; i++)
        cr_assert_str_eq(names.items[i], fctp[i], "FullyConnectedTensorProduct's argument %d", i);
    for (size_t i = 0; i < names.count; i++)
        cr_assert_str_neq(names.items[i], "instructions");
    e3c_strings_free(&names);
    E3C_ASSERT_FAILS(e3c_registry_arguments(&names, &positional, "Nope"), E3C_ERR_NOT_FOUND, "unknown module type");
}

Test(registry, arg_helpers_read_positional_then_keyword_then_fallback)
{
    cJSON *args = cJSON_Parse("[\"1o\", 3]"), *kwargs = cJSON_Parse("{\"name\": \"kw\", \"flag\": true}");
    const char *s = NULL;
    int b = -1;
    E3C_ASSERT_OK(e3c_arg_string(&s, args, kwargs, 0, "name", NULL));
    cr_assert_str_eq(s, "1o");
    E3C_ASSERT_OK(e3c_arg_string(&s, args, kwargs, 5, "name", NULL));
    cr_assert_str_eq(s, "kw");
    E3C_ASSERT_OK(e3c_arg_string(&s, args, kwargs, -1, "other", "dflt"));
    cr_assert_str_eq(s, "dflt");
    E3C_ASSERT_FAILS(e3c_arg_string(&s, args, kwargs, -1, "other", NULL), E3C_ERR_VALUE, "missing argument \"other\"");
    E3C_ASSERT_FAILS(e3c_arg_string(&s, args, kwargs, 1, "count", NULL), E3C_ERR_VALUE,
                     "argument \"count\" must be a string");
    E3C_ASSERT_OK(e3c_arg_bool(&b, args, kwargs, -1, "flag", 0));
    cr_assert_eq(b, 1);
    E3C_ASSERT_OK(e3c_arg_bool(&b, NULL, NULL, 0, "flag", 0));
    cr_assert_eq(b, 0);
    E3C_ASSERT_FAILS(e3c_arg_bool(&b, args, kwargs, 1, "count", 0), E3C_ERR_VALUE,
                     "argument \"count\" must be true or false");
    cJSON_Delete(args), cJSON_Delete(kwargs);
}

/* ------------------------------------------------------------ random inputs ---- */

Test(arg_specs_randn, draws_the_declared_shapes_in_order)
{
    e3c_arg_spec specs[2] = {{0}};
    E3C_ASSERT_OK(e3c_arg_spec_parse(&specs[0], IRREPS));
    E3C_ASSERT_OK(e3c_arg_spec_parse(&specs[1], "cartesian_points"));
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 3));
    e3c_values *in = NULL;
    E3C_ASSERT_OK(e3c_arg_specs_randn(&in, specs, 2, g, 5, E3C_FLOAT64, 0));
    cr_assert_eq(e3c_values_count(in), 2);
    cr_assert_eq(e3c_tensor_size(e3c_values_get(in, 0), 0), 5);
    cr_assert_eq(e3c_tensor_size(e3c_values_get(in, 0), 1), 5, "2x0e + 1x1o is 5 wide");
    cr_assert_eq(e3c_tensor_size(e3c_values_get(in, 1), 1), 3);
    e3c_values_free(in);
    e3c_generator_free(g);
    e3c_arg_spec_free(&specs[0]);
    e3c_arg_spec_free(&specs[1]);
}

Test(arg_specs_randn, refuses_an_input_declared_none_or_too_large)
{
    e3c_arg_spec specs[2] = {{0}};
    E3C_ASSERT_OK(e3c_arg_spec_parse(&specs[0], IRREPS));
    E3C_ASSERT_OK(e3c_arg_spec_parse(&specs[1], NULL));
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 3));
    e3c_values *in = NULL;
    E3C_ASSERT_FAILS(e3c_arg_specs_randn(&in, specs, 2, g, 2, E3C_FLOAT32, 0), E3C_ERR_VALUE, "input 1 declared none");
    cr_assert_null(in);
    E3C_ASSERT_FAILS(e3c_arg_specs_randn(&in, specs, 1, g, 100, E3C_FLOAT32, 499), E3C_ERR_VALUE,
                     "100 x 5 = 500 numbers, more than the 499");
    cr_assert_null(in);
    e3c_generator_free(g);
    e3c_arg_spec_free(&specs[0]);
    e3c_arg_spec_free(&specs[1]);
}
