/* The C API over libtorch: data round trips, the seeded generator, TorchScript files and
 * every error path. */
#include <dirent.h>
#include <unistd.h>

#include "e3check/irreps.h"
#include "e3check/torch.h"
#include "test_util.h"

Test(tensor, float64_data_round_trips_exactly)
{
    const double data[6] = {1.5, -2.25, 3e-300, -0.0, 1e300, 7.0};
    const int64_t shape[2] = {2, 3};
    e3c_tensor *t = NULL;
    E3C_ASSERT_OK(e3c_tensor_from_data(&t, data, E3C_FLOAT64, shape, 2));
    double back[6];
    E3C_ASSERT_OK(e3c_tensor_copy_to(back, sizeof back, t));
    cr_assert_arr_eq(back, data, sizeof data);
    int64_t got[E3C_MAX_DIMS];
    int ndim = 0;
    E3C_ASSERT_OK(e3c_tensor_shape(got, E3C_MAX_DIMS, &ndim, t));
    cr_assert_eq(ndim, 2);
    cr_assert_eq(got[0], 2);
    cr_assert_eq(got[1], 3);
    cr_assert_eq(e3c_tensor_numel(t), 6);
    cr_assert_eq(e3c_tensor_size(t, -1), 3);
    cr_assert_eq(e3c_tensor_size(t, 2), -1);
    e3c_dtype d;
    E3C_ASSERT_OK(e3c_tensor_dtype(&d, t));
    cr_assert_eq(d, E3C_FLOAT64);
    e3c_tensor_free(t);
}

Test(tensor, float32_and_int64_round_trip)
{
    const float f[3] = {1.25f, -3.5f, 1e-30f};
    const int64_t i[4] = {INT64_MIN, -1, 0, INT64_MAX};
    int64_t n3 = 3, n4 = 4;
    e3c_tensor *tf = NULL, *ti = NULL;
    E3C_ASSERT_OK(e3c_tensor_from_data(&tf, f, E3C_FLOAT32, &n3, 1));
    E3C_ASSERT_OK(e3c_tensor_from_data(&ti, i, E3C_INT64, &n4, 1));
    float fb[3];
    int64_t ib[4];
    E3C_ASSERT_OK(e3c_tensor_copy_to(fb, sizeof fb, tf));
    E3C_ASSERT_OK(e3c_tensor_copy_to(ib, sizeof ib, ti));
    cr_assert_arr_eq(fb, f, sizeof f);
    cr_assert_arr_eq(ib, i, sizeof i);
    double as_double[3];
    E3C_ASSERT_OK(e3c_tensor_to_doubles(as_double, 3, tf));
    cr_assert_eq(as_double[1], -3.5);
    char desc[64];
    e3c_tensor_describe(desc, sizeof desc, ti);
    cr_assert_str_eq(desc, "int64[4]");
    e3c_tensor_free(tf);
    e3c_tensor_free(ti);
}

Test(tensor, zero_d_and_empty_tensors_work)
{
    double one = 4.0;
    e3c_tensor *s = NULL, *e = NULL;
    E3C_ASSERT_OK(e3c_tensor_from_data(&s, &one, E3C_FLOAT64, NULL, 0));
    cr_assert_eq(e3c_tensor_ndim(s), 0);
    cr_assert_eq(e3c_tensor_numel(s), 1);
    int64_t shape[2] = {0, 5};
    E3C_ASSERT_OK(e3c_tensor_from_data(&e, NULL, E3C_FLOAT32, shape, 2));
    cr_assert_eq(e3c_tensor_numel(e), 0);
    E3C_ASSERT_OK(e3c_tensor_copy_to(NULL, 0, e));
    e3c_tensor_free(s);
    e3c_tensor_free(e);
}

Test(tensor, bad_arguments_are_rejected_with_a_message)
{
    e3c_tensor *t = NULL;
    int64_t neg = -2;
    E3C_ASSERT_FAILS(e3c_tensor_from_data(&t, NULL, E3C_FLOAT64, &neg, 1), E3C_ERR_INVALID, "negative size");
    cr_assert_null(t);
    int64_t big[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    E3C_ASSERT_FAILS(e3c_tensor_zeros(&t, E3C_FLOAT64, big, 9), E3C_ERR_INVALID, "rank 9");
    int64_t n = 2;
    E3C_ASSERT_OK(e3c_tensor_zeros(&t, E3C_FLOAT64, &n, 1));
    double buf[3];
    E3C_ASSERT_FAILS(e3c_tensor_copy_to(buf, sizeof buf, t), E3C_ERR_INVALID, "16 bytes");
    e3c_tensor *cut = NULL;
    E3C_ASSERT_FAILS(e3c_tensor_narrow_last(&cut, t, 3), E3C_ERR_INVALID, "cannot keep 3 of 2");
    e3c_dtype d;
    E3C_ASSERT_FAILS(e3c_dtype_parse(&d, "float16"), E3C_ERR_VALUE, "float16");
    e3c_tensor_free(t);
    e3c_tensor_free(NULL);
    e3c_values_free(NULL);
    e3c_jit_free(NULL);
    e3c_generator_free(NULL);
}

Test(tensor, torch_errors_become_status_and_one_line_message)
{
    int64_t a_shape[2] = {2, 3}, b_shape[2] = {2, 3};
    e3c_tensor *a = NULL, *b = NULL, *c = NULL;
    E3C_ASSERT_OK(e3c_tensor_zeros(&a, E3C_FLOAT64, a_shape, 2));
    E3C_ASSERT_OK(e3c_tensor_zeros(&b, E3C_FLOAT64, b_shape, 2));
    E3C_ASSERT_FAILS(e3c_tensor_matmul(&c, a, b), E3C_ERR_TORCH, "tensor_matmul: ");
    cr_assert_null(c);
    cr_assert_null(strstr(e3c_error_last(), "Exception raised from"), "C++ backtrace leaked: %s", e3c_error_last());
    e3c_tensor_free(a);
    e3c_tensor_free(b);
}

/* Golden: torch.manual_seed(0); torch.rand(2) then torch.rand(()) in float64 give the
 * angles of rand_angles(): alpha = 2 pi u0, gamma = 2 pi u1, beta = acos(2 v - 1). */
Test(generator, seeded_draws_match_torch_manual_seed)
{
    cJSON *g = load_json(data_path("golden/rotation_wigner.json"));
    const cJSON *angles = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(g, "rng_rand_matrix"), "torch.float64"), "rand_angles()");
    double want[3];
    cr_assert_eq(json_flatten(angles, want, 3), 3);
    e3c_generator *gen = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&gen, 0));
    e3c_tensor *u = NULL, *v = NULL;
    int64_t two = 2;
    E3C_ASSERT_OK(e3c_rand(&u, gen, E3C_FLOAT64, &two, 1));
    E3C_ASSERT_OK(e3c_rand(&v, gen, E3C_FLOAT64, NULL, 0));
    double uu[2], vv;
    E3C_ASSERT_OK(e3c_tensor_to_doubles(uu, 2, u));
    E3C_ASSERT_OK(e3c_tensor_to_doubles(&vv, 1, v));
    const double two_pi = 2 * 3.141592653589793;
    cr_assert_eq(two_pi * uu[0], want[0], "alpha %.17g != %.17g", two_pi * uu[0], want[0]);
    cr_assert_eq(acos(2 * vv - 1), want[1], "beta %.17g != %.17g", acos(2 * vv - 1), want[1]);
    cr_assert_eq(two_pi * uu[1], want[2], "gamma %.17g != %.17g", two_pi * uu[1], want[2]);
    e3c_tensor_free(u);
    e3c_tensor_free(v);
    e3c_generator_free(gen);
    cJSON_Delete(g);
}

Test(generator, same_seed_same_bits_other_seed_other_bits)
{
    e3c_generator *g1 = NULL, *g2 = NULL, *g3 = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g1, 42));
    E3C_ASSERT_OK(e3c_generator_new(&g2, 42));
    E3C_ASSERT_OK(e3c_generator_new(&g3, 43));
    int64_t shape[2] = {17, 5};
    e3c_tensor *a = NULL, *b = NULL, *c = NULL;
    E3C_ASSERT_OK(e3c_randn(&a, g1, E3C_FLOAT32, shape, 2));
    E3C_ASSERT_OK(e3c_randn(&b, g2, E3C_FLOAT32, shape, 2));
    E3C_ASSERT_OK(e3c_randn(&c, g3, E3C_FLOAT32, shape, 2));
    cr_assert(e3c_tensor_equal(a, b));
    cr_assert_not(e3c_tensor_equal(a, c));
    e3c_tensor *i = NULL;
    E3C_ASSERT_FAILS(e3c_rand(&i, g1, E3C_INT64, shape, 2), E3C_ERR_INVALID, "float32 or float64");
    e3c_tensor_free(a);
    e3c_tensor_free(b);
    e3c_tensor_free(c);
    e3c_generator_free(g1);
    e3c_generator_free(g2);
    e3c_generator_free(g3);
}

/* ------------------------------------------------------------ TorchScript files ---- */

Test(jit, missing_file_is_an_io_error_naming_the_file)
{
    e3c_jit_module *m = NULL;
    E3C_ASSERT_FAILS(e3c_jit_load(&m, "/nonexistent/model.pt"), E3C_ERR_IO, "'/nonexistent/model.pt'");
    cr_assert(strstr(e3c_error_last(), "No such file") != NULL);
    cr_assert_null(m);
    E3C_ASSERT_FAILS(e3c_jit_load(&m, test_tmpdir()), E3C_ERR_IO, "is a directory");
}

Test(jit, truncated_archive_is_named_as_such)
{
    e3c_jit_module *m = NULL;
    E3C_ASSERT_FAILS(e3c_jit_load(&m, zoo_path("truncated_archive_f32.pt")), E3C_ERR_FORMAT,
                     "truncated or corrupt archive");
    cr_assert(strstr(e3c_error_last(), "truncated_archive_f32.pt") != NULL);
    cr_assert_null(m);
}

Test(jit, text_file_is_not_an_archive)
{
    e3c_jit_module *m = NULL;
    E3C_ASSERT_FAILS(e3c_jit_load(&m, zoo_path("text_file_not_archive_f32.pt")), E3C_ERR_FORMAT, "not a zip file");
    cr_assert(strstr(e3c_error_last(), "text_file_not_archive_f32.pt") != NULL);
}

Test(jit, empty_file_and_pickled_tensor_are_rejected)
{
    char path[512];
    snprintf(path, sizeof path, "%s/empty.pt", test_tmpdir());
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fclose(f);
    e3c_jit_module *m = NULL;
    E3C_ASSERT_FAILS(e3c_jit_load(&m, path), E3C_ERR_FORMAT, "it is empty");

    snprintf(path, sizeof path, "%s/state.pt", test_tmpdir());
    int64_t n = 3;
    e3c_tensor *t = NULL;
    E3C_ASSERT_OK(e3c_tensor_zeros(&t, E3C_FLOAT32, &n, 1));
    E3C_ASSERT_OK(e3c_tensor_save(t, path));
    E3C_ASSERT_FAILS(e3c_jit_load(&m, path), E3C_ERR_FORMAT, "not a TorchScript module");
    cr_assert(strstr(e3c_error_last(), "state.pt") != NULL);
    e3c_tensor_free(t);
}

static e3c_jit_module *load_model(const char *name)
{
    e3c_jit_module *m = NULL;
    E3C_ASSERT_OK(e3c_jit_load(&m, zoo_path(name)));
    return m;
}

Test(jit, introspection_lists_methods_submodules_attributes)
{
    e3c_jit_module *m = load_model("seed_mymodule_f32.pt");
    char *type = NULL;
    E3C_ASSERT_OK(e3c_jit_type_name(&type, m));
    cr_assert_str_eq(type, "MyModule");
    e3c_strings methods = {0}, subs = {0}, attrs = {0}, extra = {0};
    E3C_ASSERT_OK(e3c_jit_methods(&methods, m));
    cr_assert_eq(methods.count, 1);
    cr_assert_str_eq(methods.items[0], "forward(Tensor x) -> Tensor");
    E3C_ASSERT_OK(e3c_jit_submodules(&subs, m));
    cr_assert_eq(subs.count, 1);
    cr_assert_str_eq(subs.items[0], "norm: BlockNorm");
    E3C_ASSERT_OK(e3c_jit_attributes(&attrs, m));
    cr_assert_geq(attrs.count, 1);
    E3C_ASSERT_OK(e3c_jit_extra_files(&extra, m));
    cr_assert_eq(extra.count, 0);
    char *value = NULL;
    E3C_ASSERT_FAILS(e3c_jit_attribute_string(&value, m, "nope"), E3C_ERR_NOT_FOUND, "'nope'");
    e3c_values *out = NULL;
    E3C_ASSERT_FAILS(e3c_jit_run(&out, m, "backward", NULL), E3C_ERR_NOT_FOUND, "no method 'backward'");
    e3c_strings_free(&methods);
    e3c_strings_free(&subs);
    e3c_strings_free(&attrs);
    e3c_strings_free(&extra);
    free(type);
    e3c_jit_free(m);
}

Test(jit, tuple_results_and_attributes_are_read)
{
    e3c_jit_module *m = load_model("block_norm_f64.pt");
    char *muls = NULL;
    E3C_ASSERT_OK(e3c_jit_attribute_string(&muls, m, "muls"));
    cr_assert_str_eq(muls, "Tensor int64[3]");
    free(muls);
    e3c_tensor *t = NULL;
    double values[3];
    E3C_ASSERT_OK(e3c_jit_attribute_tensor(&t, m, "muls"));
    E3C_ASSERT_OK(e3c_tensor_to_doubles(values, 3, t));
    cr_assert(values[0] == 3 && values[1] == 2 && values[2] == 1, "muls %g %g %g", values[0], values[1], values[2]);
    e3c_tensor_free(t);
    e3c_jit_free(m);

    m = load_model("tuple_linear_sqnorm_f32.pt");
    e3c_strings methods = {0};
    E3C_ASSERT_OK(e3c_jit_methods(&methods, m));
    cr_assert_str_eq(methods.items[0], "forward(Tensor x) -> Tuple[Tensor, Tensor]");
    e3c_strings_free(&methods);
    e3c_jit_free(m);
}

Test(jit, raising_forward_is_a_one_line_torch_error)
{
    e3c_jit_module *m = load_model("forward_always_raises_f32.pt");
    int64_t shape[2] = {2, 4};
    e3c_tensor *x = NULL;
    e3c_values *args = NULL, *out = NULL;
    E3C_ASSERT_OK(e3c_tensor_zeros(&x, E3C_FLOAT32, shape, 2));
    E3C_ASSERT_OK(e3c_values_new(&args));
    E3C_ASSERT_OK(e3c_values_push(args, x));
    e3c_status st = e3c_jit_run(&out, m, NULL, args);
    cr_assert_eq(st, E3C_ERR_TORCH, "%s", e3c_error_last());
    cr_assert_null(out);
    cr_assert_null(strchr(e3c_error_last(), '\n'));
    cr_assert(strlen(e3c_error_last()) > 10);
    e3c_values_free(args);
    e3c_tensor_free(x);
    e3c_jit_free(m);
}

/* a and b give one output, bit for bit the same, on the same (3, 16) float32 input */
static void assert_same_outputs(e3c_jit_module *a, e3c_jit_module *b)
{
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 7));
    int64_t shape[2] = {3, 16};
    e3c_tensor *x = NULL;
    E3C_ASSERT_OK(e3c_randn(&x, g, E3C_FLOAT32, shape, 2));
    e3c_values *args = NULL, *y1 = NULL, *y2 = NULL;
    E3C_ASSERT_OK(e3c_values_new(&args));
    E3C_ASSERT_OK(e3c_values_push(args, x));
    E3C_ASSERT_OK(e3c_jit_run(&y1, a, NULL, args));
    E3C_ASSERT_OK(e3c_jit_run(&y2, b, "forward", args));
    cr_assert_eq(e3c_values_count(y1), 1);
    cr_assert(e3c_tensor_equal(e3c_values_get(y1, 0), e3c_values_get(y2, 0)));
    e3c_values_free(args), e3c_values_free(y1), e3c_values_free(y2);
    e3c_tensor_free(x);
    e3c_generator_free(g);
}

Test(jit, save_and_reload_gives_identical_outputs)
{
    e3c_jit_module *m = load_model("irrep_linear_f32.pt");
    char path[512];
    snprintf(path, sizeof path, "%s/saved.pt", test_tmpdir());
    E3C_ASSERT_OK(e3c_jit_save(m, path));
    e3c_jit_module *m2 = NULL;
    E3C_ASSERT_OK(e3c_jit_load(&m2, path));
    assert_same_outputs(m, m2);
    E3C_ASSERT_FAILS(e3c_jit_save(m, "/nonexistent/dir/out.pt"), E3C_ERR_IO, "cannot write '/nonexistent/dir/out.pt'");
    unlink(path);
    e3c_jit_free(m);
    e3c_jit_free(m2);
}

Test(jit, archives_in_memory_round_trip_and_are_checked_like_files)
{
    e3c_jit_module *m = load_model("irrep_linear_f32.pt"), *back = NULL;
    void *bytes = NULL;
    size_t size = 0;
    E3C_ASSERT_OK(e3c_jit_save_buffer(&bytes, &size, m));
    cr_assert(size > 4 && memcmp(bytes, "PK\x03\x04", 4) == 0, "a zip archive, as torch.jit.save writes");
    E3C_ASSERT_OK(e3c_jit_load_buffer(&back, bytes, size, "in memory"));
    assert_same_outputs(m, back);
    e3c_strings extra_a = {0, NULL}, extra_b = {0, NULL};
    E3C_ASSERT_OK(e3c_jit_extra_files(&extra_a, m));
    E3C_ASSERT_OK(e3c_jit_extra_files(&extra_b, back));
    cr_assert_eq(extra_a.count, extra_b.count, "extra files survive the round trip");
    e3c_strings_free(&extra_a), e3c_strings_free(&extra_b);

    e3c_jit_module *bad = NULL;
    E3C_ASSERT_FAILS(e3c_jit_load_buffer(&bad, bytes, size / 2, "half"), E3C_ERR_FORMAT,
                     "'half' is a truncated or corrupt archive");
    E3C_ASSERT_FAILS(e3c_jit_load_buffer(&bad, "hello", 5, "text"), E3C_ERR_FORMAT,
                     "'text' is not a TorchScript archive: it is not a zip file");
    E3C_ASSERT_FAILS(e3c_jit_load_buffer(&bad, NULL, 0, "nothing"), E3C_ERR_FORMAT, "it is empty");
    cr_assert_null(bad);
    free(bytes);
    e3c_jit_free(m), e3c_jit_free(back);
}

/* ---------------------------------------------------- every test model (zoo) ---- */

static int64_t declared_width(const cJSON *entry)
{
    if (cJSON_IsString(entry) && strcmp(entry->valuestring, "cartesian_points") == 0)
        return 3;
    cr_assert(cJSON_IsString(entry), "irreps entry is not a string");
    e3c_irreps irreps;
    E3C_ASSERT_OK(e3c_irreps_parse(&irreps, entry->valuestring));
    int64_t dim = e3c_irreps_dim(&irreps);
    e3c_irreps_free(&irreps);
    return dim;
}

static const char *expectation(const cJSON *fixture)
{
    const cJSON *expect = cJSON_GetObjectItem(fixture, "expect");
    const cJSON *aj = cJSON_GetObjectItem(expect, "auto_jitable");
    return cJSON_IsString(aj) ? aj->valuestring : "pass";
}

/* Run one model on random inputs of its declared widths; check the outputs' widths. */
static void run_declared(const cJSON *fixture, const char *pt_path)
{
    e3c_jit_module *m = NULL;
    E3C_ASSERT_OK(e3c_jit_load(&m, pt_path));
    e3c_dtype dtype;
    E3C_ASSERT_OK(e3c_dtype_parse(&dtype, cJSON_GetObjectItem(fixture, "dtype")->valuestring));
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 0));
    e3c_values *args = NULL, *out = NULL;
    E3C_ASSERT_OK(e3c_values_new(&args));
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItem(fixture, "irreps_in")) {
        int64_t shape[2] = {2, declared_width(entry)};
        e3c_tensor *x = NULL;
        E3C_ASSERT_OK(e3c_randn(&x, g, dtype, shape, 2));
        E3C_ASSERT_OK(e3c_values_push(args, x));
        e3c_tensor_free(x);
    }
    E3C_ASSERT_OK(e3c_jit_run(&out, m, NULL, args));
    const cJSON *outs = cJSON_GetObjectItem(fixture, "irreps_out");
    cr_assert_eq(e3c_values_count(out), (size_t)cJSON_GetArraySize(outs), "%s: output count", pt_path);
    size_t i = 0;
    cJSON_ArrayForEach(entry, outs) {
        if (!cJSON_IsNull(entry))
            cr_assert_eq(e3c_tensor_size(e3c_values_get(out, i), -1), declared_width(entry), "%s: width of output %zu",
                         pt_path, i);
        i++;
    }
    e3c_values_free(args);
    e3c_values_free(out);
    e3c_generator_free(g);
    e3c_jit_free(m);
}

Test(jit, every_good_test_model_runs_on_its_declared_widths)
{
    const char *dir = zoo_dir();
    char dirpath[4096];
    snprintf(dirpath, sizeof dirpath, "%s", dir);
    DIR *d = opendir(dirpath);
    cr_assert_not_null(d, "cannot open %s", dirpath);
    int good = 0;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        size_t n = strlen(ent->d_name);
        if (n < 6 || strcmp(ent->d_name + n - 5, ".json") != 0)
            continue;
        char path[8192], pt[8192];
        snprintf(path, sizeof path, "%s/%s", dirpath, ent->d_name);
        cJSON *fixture = load_json(path);
        const cJSON *ts = cJSON_GetObjectItem(fixture, "torchscript");
        snprintf(pt, sizeof pt, "%s/%s", dirpath, ts->valuestring);
        if (strcmp(expectation(fixture), "error") != 0) {
            run_declared(fixture, pt);
            good++;
        }
        cJSON_Delete(fixture);
    }
    closedir(d);
    cr_assert_geq(good, 10, "only %d good models found", good);
}

/* issue 13: comparisons see NaN; a width check names what it checks */
Test(tensor, max_abs_diff_matches_nan_with_nan_only_and_width_checks_name_the_input)
{
    double a[3] = {1.0, NAN, INFINITY}, b[3] = {1.0, NAN, INFINITY}, c[3] = {1.0, 2.0, INFINITY};
    int64_t n = 3;
    e3c_tensor *ta = NULL, *tb = NULL, *tc = NULL;
    E3C_ASSERT_OK(e3c_tensor_from_data(&ta, a, E3C_FLOAT64, &n, 1));
    E3C_ASSERT_OK(e3c_tensor_from_data(&tb, b, E3C_FLOAT64, &n, 1));
    E3C_ASSERT_OK(e3c_tensor_from_data(&tc, c, E3C_FLOAT64, &n, 1));
    double d = -1;
    E3C_ASSERT_OK(e3c_tensor_max_abs_diff(&d, ta, tb));
    cr_assert_eq(d, 0.0, "NaN against NaN and inf against inf differ by 0, got %g", d);
    E3C_ASSERT_OK(e3c_tensor_max_abs_diff(&d, ta, tc));
    cr_assert(isnan(d), "NaN against 2 is a NaN difference, got %g", d);
    E3C_ASSERT_OK(e3c_tensor_check_last_dim(ta, 3, "x"));
    E3C_ASSERT_FAILS(e3c_tensor_check_last_dim(ta, 4, "feat"), E3C_ERR_VALUE,
                     "Incorrect last dimension for feat: got 3, expected 4");
    e3c_tensor_free(ta), e3c_tensor_free(tb), e3c_tensor_free(tc);
}

/* A path may be PATH_MAX long: a message naming two of them, under a prefix naming a third,
 * still ends with its reason. */
Test(error, a_message_keeps_its_reason_after_long_paths)
{
    static char a[4096], b[4096];
    memset(a, 'a', sizeof a - 1);
    memset(b, 'b', sizeof b - 1);
    e3c_error_set(E3C_ERR_IO, "cannot rename '%s' to '%s': the reason", a, b);
    e3c_error_prefix("report '%s'", a);
    const char *m = e3c_error_last();
    size_t n = strlen(m);
    cr_assert_geq(n, strlen(": the reason"));
    cr_assert_str_eq(m + n - strlen(": the reason"), ": the reason", "cut: ...%s", m + n - 40);
    cr_assert_eq(strncmp(m, "report 'aaaa", 12), 0);
}
