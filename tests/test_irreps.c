/* Irreps against e3nn 0.5.6's golden values: grammar, canonical text, every method. */
#include <limits.h>

#include "e3check/irreps.h"
#include "e3check/rng.h"
#include "test_util.h"

static cJSON *golden(void) { return load_json(data_path("golden/irreps.json")); }

static e3c_irreps parse_ok(const char *s)
{
    e3c_irreps ir;
    E3C_ASSERT_OK(e3c_irreps_parse(&ir, s));
    return ir;
}

static void assert_repr(const e3c_irreps *ir, const char *want, const char *what, const char *input)
{
    char *text = NULL;
    E3C_ASSERT_OK(e3c_irreps_format(&text, ir));
    cr_assert_str_eq(text, want, "%s of \"%s\": got \"%s\", want \"%s\"", what, input, text, want);
    free(text);
}

static e3c_irrep irrep_of(const char *s)
{
    e3c_irrep ir;
    E3C_ASSERT_OK(e3c_irrep_parse(&ir, s));
    return ir;
}

static void check_valid(const char *input, const cJSON *g)
{
    e3c_irreps ir = parse_ok(input);
    assert_repr(&ir, cJSON_GetObjectItem(g, "repr")->valuestring, "repr", input);
    cr_assert_eq(ir.len, (size_t)cJSON_GetObjectItem(g, "len")->valueint, "%slen %zu", test_case(), ir.len);
    cr_assert_eq(e3c_irreps_dim(&ir), cJSON_GetObjectItem(g, "dim")->valueint, "dim of \"%s\"", input);
    cr_assert_eq(e3c_irreps_num_irreps(&ir), cJSON_GetObjectItem(g, "num_irreps")->valueint, "%snum_irreps",
                 test_case());

    int *ls = NULL;
    size_t nls = 0;
    E3C_ASSERT_OK(e3c_irreps_ls(&ls, &nls, &ir));
    const cJSON *gls = cJSON_GetObjectItem(g, "ls");
    cr_assert_eq(nls, (size_t)cJSON_GetArraySize(gls), "%s%zu ls", test_case(), nls);
    for (size_t i = 0; i < nls; i++)
        cr_assert_eq(ls[i], cJSON_GetArrayItem(gls, (int)i)->valueint, "%sls[%zu] = %d", test_case(), i, ls[i]);
    free(ls);

    const cJSON *glmax = cJSON_GetObjectItem(g, "lmax");
    int lmax = -1;
    if (cJSON_GetObjectItem(glmax, "value")) {
        E3C_ASSERT_OK(e3c_irreps_lmax(&lmax, &ir));
        cr_assert_eq(lmax, cJSON_GetObjectItem(glmax, "value")->valueint, "%slmax %d", test_case(), lmax);
    } else
        cr_assert_eq(e3c_irreps_lmax(&lmax, &ir), E3C_ERR_VALUE, "lmax of \"%s\" should fail", input);

    int64_t *slices = NULL;
    E3C_ASSERT_OK(e3c_irreps_slices(&slices, &ir));
    const cJSON *gs;
    size_t i = 0;
    cJSON_ArrayForEach(gs, cJSON_GetObjectItem(g, "slices")) {
        cr_assert_eq(slices[2 * i], cJSON_GetArrayItem(gs, 0)->valueint, "%sslice %zu start", test_case(), i);
        cr_assert_eq(slices[2 * i + 1], cJSON_GetArrayItem(gs, 1)->valueint, "%sslice %zu stop", test_case(), i);
        cr_assert_eq(e3c_irreps_offset(&ir, i), slices[2 * i], "offset of entry %zu of \"%s\"", i, input);
        i++;
    }
    cr_assert_eq(e3c_irreps_offset(&ir, ir.len), e3c_irreps_dim(&ir), "offset past the last entry of \"%s\"", input);
    free(slices);

    e3c_irreps out;
    E3C_ASSERT_OK(e3c_irreps_simplify(&out, &ir));
    assert_repr(&out, cJSON_GetObjectItem(g, "simplify")->valuestring, "simplify", input);
    e3c_irreps_free(&out);
    E3C_ASSERT_OK(e3c_irreps_remove_zero_multiplicities(&out, &ir));
    assert_repr(&out, cJSON_GetObjectItem(cJSON_GetObjectItem(g, "remove_zero_multiplicities"), "value")->valuestring,
                "remove_zero_multiplicities", input);
    e3c_irreps_free(&out);
    E3C_ASSERT_OK(e3c_irreps_regroup(&out, &ir));
    assert_repr(&out, cJSON_GetObjectItem(cJSON_GetObjectItem(g, "regroup"), "value")->valuestring, "regroup", input);
    e3c_irreps_free(&out);

    size_t *p = NULL, *inv = NULL;
    const cJSON *gsort = cJSON_GetObjectItem(g, "sort");
    E3C_ASSERT_OK(e3c_irreps_sort(&out, &p, &inv, &ir));
    assert_repr(&out, cJSON_GetObjectItem(gsort, "irreps")->valuestring, "sort", input);
    for (size_t k = 0; k < ir.len; k++) {
        cr_assert_eq(p[k], (size_t)cJSON_GetArrayItem(cJSON_GetObjectItem(gsort, "p"), (int)k)->valueint,
                     "%ssort p[%zu] = %zu", test_case(), k, p[k]);
        cr_assert_eq(inv[k], (size_t)cJSON_GetArrayItem(cJSON_GetObjectItem(gsort, "inv"), (int)k)->valueint,
                     "%ssort inv[%zu] = %zu", test_case(), k, inv[k]);
    }
    free(p);
    free(inv);
    e3c_irreps_free(&out);

    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "count"))
        cr_assert_eq(e3c_irreps_count(&ir, irrep_of(c->string)), c->valueint, "count(%s) of \"%s\"", c->string, input);
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "contains"))
        cr_assert_eq(e3c_irreps_contains(&ir, irrep_of(c->string)), cJSON_IsTrue(c), "%scontains(%s)", test_case(),
                     c->string);
    e3c_irreps_free(&ir);
}

/* The number of cases of each table in golden/irreps.json. */
enum { N_VALID = 20, N_INVALID = 18, N_IRREP_VALID = 13, N_IRREP_INVALID = 9 };

ParameterizedTestParameters(irreps, every_golden_valid_string_matches_e3nn) { return case_indices(N_VALID); }

ParameterizedTest(size_t *i, irreps, every_golden_valid_string_matches_e3nn)
{
    cJSON *g = golden();
    const cJSON *v = table_case(cJSON_GetObjectItem(g, "valid"), "valid", *i, N_VALID);
    check_valid(v->string, v);
    cJSON_Delete(g);
}

ParameterizedTestParameters(irreps, every_golden_invalid_string_is_rejected_with_e3nns_message)
{
    return case_indices(N_INVALID);
}

ParameterizedTest(size_t *i, irreps, every_golden_invalid_string_is_rejected_with_e3nns_message)
{
    cJSON *g = golden();
    const cJSON *v = table_case(cJSON_GetObjectItem(g, "invalid"), "invalid", *i, N_INVALID);
    e3c_irreps ir;
    const char *msg = cJSON_GetObjectItem(v, "message")->valuestring;
    E3C_ASSERT_FAILS(e3c_irreps_parse(&ir, v->string), E3C_ERR_VALUE, msg);
    cr_assert_eq(strncmp(e3c_error_last(), msg, strlen(msg)), 0, "%smessage: %s", test_case(), e3c_error_last());
    cr_assert_eq(ir.len, 0, "%slen %zu", test_case(), ir.len);
    cr_assert_null(ir.items, "%sitems left", test_case());
    cJSON_Delete(g);
}

ParameterizedTestParameters(irreps, single_irreps_parse_like_e3nn) { return case_indices(N_IRREP_VALID); }

ParameterizedTest(size_t *i, irreps, single_irreps_parse_like_e3nn)
{
    cJSON *g = golden();
    const cJSON *v = table_case(cJSON_GetObjectItem(g, "irrep_valid"), "irrep_valid", *i, N_IRREP_VALID);
    const cJSON *val = cJSON_GetObjectItem(v, "value");
    e3c_irrep ir = irrep_of(v->string);
    cr_assert_eq(ir.l, cJSON_GetArrayItem(val, 0)->valueint, "%sl %d", test_case(), ir.l);
    cr_assert_eq(ir.p, cJSON_GetArrayItem(val, 1)->valueint, "%sp %d", test_case(), ir.p);
    char buf[16];
    e3c_irrep_format(buf, sizeof buf, ir);
    cr_assert_str_eq(buf, cJSON_GetArrayItem(val, 2)->valuestring, "%stext %s", test_case(), buf);
    cr_assert_eq(e3c_irrep_dim(ir), cJSON_GetArrayItem(val, 3)->valueint, "%sdim %lld", test_case(),
                 (long long)e3c_irrep_dim(ir));
    cJSON_Delete(g);
}

ParameterizedTestParameters(irreps, single_invalid_irreps_are_rejected_with_e3nns_message)
{
    return case_indices(N_IRREP_INVALID);
}

ParameterizedTest(size_t *i, irreps, single_invalid_irreps_are_rejected_with_e3nns_message)
{
    cJSON *g = golden();
    const cJSON *v = table_case(cJSON_GetObjectItem(g, "irrep_invalid"), "irrep_invalid", *i, N_IRREP_INVALID);
    e3c_irrep ir;
    const char *msg = cJSON_GetObjectItem(v, "message")->valuestring;
    E3C_ASSERT_FAILS(e3c_irrep_parse(&ir, v->string), E3C_ERR_VALUE, msg);
    cJSON_Delete(g);
}

Test(irreps, concatenation_repetition_and_order_match_e3nn)
{
    e3c_irreps a = parse_ok("1e"), b = parse_ok("2x0e"), out;
    E3C_ASSERT_OK(e3c_irreps_concat(&out, &a, &b));
    assert_repr(&out, "1x1e+2x0e", "concat", "1e + 2x0e");
    e3c_irreps_free(&out);
    e3c_irreps c = parse_ok("2x1e");
    E3C_ASSERT_OK(e3c_irreps_repeat(&out, &c, 3));
    assert_repr(&out, "2x1e+2x1e+2x1e", "repeat", "2x1e * 3");
    e3c_irreps_free(&out);
    E3C_ASSERT_OK(e3c_irreps_spherical_harmonics(&out, 3, -1));
    assert_repr(&out, "1x0e+1x1o+1x2e+1x3o", "spherical_harmonics", "3");
    e3c_irreps_free(&out);
    E3C_ASSERT_OK(e3c_irreps_spherical_harmonics(&out, 4, 1));
    assert_repr(&out, "1x0e+1x1e+1x2e+1x3e+1x4e", "spherical_harmonics", "4, p=1");
    e3c_irreps_free(&out);
    /* e3nn: 0o < 0e < 1o < 1e < 2e < 2o in its iterator; ordering is (l, p) */
    cr_assert_lt(e3c_irrep_compare(irrep_of("0o"), irrep_of("0e")), 0);
    cr_assert_lt(e3c_irrep_compare(irrep_of("0e"), irrep_of("1o")), 0);
    e3c_irreps x = parse_ok("1e"), y = parse_ok("1x1e"), z = parse_ok("0x1e"), empty = parse_ok("");
    cr_assert(e3c_irreps_equal(&x, &y));
    cr_assert_not(e3c_irreps_equal(&z, &empty));
    int lmax;
    E3C_ASSERT_FAILS(e3c_irreps_lmax(&lmax, &empty), E3C_ERR_VALUE, "Cannot get lmax of empty Irreps");
    e3c_mulir bad = {-1, {1, 1}};
    E3C_ASSERT_FAILS(e3c_irreps_from_entries(&out, &bad, 1), E3C_ERR_VALUE, "Unable to interpret");
    e3c_irreps_free(&a), e3c_irreps_free(&b), e3c_irreps_free(&c), e3c_irreps_free(&x);
    e3c_irreps_free(&y), e3c_irreps_free(&z), e3c_irreps_free(&empty);
}

Test(irreps, hostile_strings_are_rejected_without_crashing)
{
    const char *bad[] = {"99999999999999999999x0e",
                         "1x1001e",
                         "1__0e",
                         "_1e",
                         "1_e",
                         "x",
                         "+",
                         "++",
                         "1e+",
                         "\t+\t",
                         "1x1x",
                         "1 x 1 x 1e",
                         "0x",
                         "-0x-0e",
                         "1e\n+",
                         "2x\x01"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        e3c_irreps ir;
        e3c_status st = e3c_irreps_parse(&ir, bad[i]);
        if (st == E3C_OK) {
            cr_assert(strcmp(bad[i], "1e\n+") != 0);
            e3c_irreps_free(&ir);
            continue;
        }
        cr_assert_eq(st, E3C_ERR_VALUE, "\"%s\": %s", bad[i], e3c_error_last());
        cr_assert(strncmp(e3c_error_last(), "Unable to convert string", 24) == 0);
    }
    e3c_irreps ok = parse_ok("-0x-0e"); /* Python int("-0") is 0: e3nn accepts it */
    assert_repr(&ok, "0x0e", "repr", "-0x-0e");
    e3c_irreps_free(&ok);
}

/* --------------------------------------------------------------- seeded randn ---- */

static void check_randn(const char *key, const char *irreps_text, const int64_t *size, int ndim, e3c_normalization norm)
{
    cJSON *g = load_json(data_path("golden/sh_randn.json"));
    const char *dtypes[2] = {"torch.float64", "torch.float32"};
    for (int d = 0; d < 2; d++) {
        const cJSON *want =
            cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(g, "irreps_randn"), dtypes[d]), key);
        cr_assert_not_null(want, "golden %s / %s missing", dtypes[d], key);
        double expect[512];
        size_t n = json_flatten(want, expect, 512);
        e3c_irreps ir = parse_ok(irreps_text);
        e3c_generator *gen = NULL;
        E3C_ASSERT_OK(e3c_generator_new(&gen, 0));
        e3c_tensor *x = NULL;
        E3C_ASSERT_OK(e3c_irreps_randn(&x, &ir, gen, size, ndim, norm, d == 0 ? E3C_FLOAT64 : E3C_FLOAT32));
        cr_assert_eq((size_t)e3c_tensor_numel(x), n);
        double got[512];
        E3C_ASSERT_OK(e3c_tensor_to_doubles(got, 512, x));
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(got[i], expect[i], "%s %s [%zu]: %.17g != %.17g", dtypes[d], key, i, got[i], expect[i]);
        e3c_tensor_free(x);
        e3c_generator_free(gen);
        e3c_irreps_free(&ir);
    }
    cJSON_Delete(g);
}

Test(randn, component_normalization_is_bit_identical_to_e3nn)
{
    int64_t size[2] = {2, -1};
    check_randn("Irreps('2x0e + 1x1o').randn(2,-1) [seed 0]", "2x0e + 1x1o", size, 2, E3C_NORM_COMPONENT);
}

Test(randn, norm_normalization_is_bit_identical_to_e3nn)
{
    int64_t size[2] = {2, -1};
    check_randn("Irreps('2x0e + 1x1o + 1x2e').randn(2,-1,normalization='norm') [seed 0]", "2x0e + 1x1o + 1x2e", size, 2,
                E3C_NORM_NORM);
    int64_t size3[3] = {2, -1, 3};
    check_randn("Irreps('1x1o + 2x0e').randn(2,-1,3,normalization='norm') [seed 0]", "1x1o + 2x0e", size3, 3,
                E3C_NORM_NORM);
}

Test(randn, shapes_and_errors_follow_e3nn)
{
    e3c_irreps ir = parse_ok("5x0e + 10x1o");
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 1));
    e3c_tensor *x = NULL;
    int64_t size[3] = {5, -1, 5};
    E3C_ASSERT_OK(e3c_irreps_randn(&x, &ir, g, size, 3, E3C_NORM_NORM, E3C_FLOAT64));
    cr_assert_eq(e3c_tensor_size(x, 1), 35);
    e3c_tensor_free(x);
    int64_t no_axis[2] = {2, 3};
    E3C_ASSERT_FAILS(e3c_irreps_randn(&x, &ir, g, no_axis, 2, E3C_NORM_COMPONENT, E3C_FLOAT64), E3C_ERR_VALUE,
                     "must contain -1");
    E3C_ASSERT_FAILS(e3c_irreps_randn(&x, &ir, g, size, 3, E3C_NORM_INTEGRAL, E3C_FLOAT64), E3C_ERR_VALUE,
                     "Normalization needs to be 'norm' or 'component'");
    e3c_irreps empty = parse_ok("");
    int64_t one[1] = {-1};
    E3C_ASSERT_OK(e3c_irreps_randn(&x, &empty, g, one, 1, E3C_NORM_NORM, E3C_FLOAT32));
    cr_assert_eq(e3c_tensor_numel(x), 0);
    e3c_tensor_free(x);
    e3c_irreps_free(&empty);
    e3c_irreps_free(&ir);
    e3c_generator_free(g);
}

/* ------------------------------------------------------------ random_irreps ---- */

Test(random_irreps, draws_follow_e3nns_distributions_and_constraints)
{
    uint64_t state = 42;
    e3c_random_irreps_options o = E3C_RANDOM_IRREPS_OPTIONS_INIT;
    int seen_len[5] = {0}, seen_mul[6] = {0}, seen_l[5] = {0}, seen_p[2] = {0};
    for (int k = 0; k < 4000; k++) {
        e3c_irreps ir;
        E3C_ASSERT_OK(e3c_random_irreps(&ir, &o, &state));
        cr_assert_leq(ir.len, 4);
        seen_len[ir.len]++;
        for (size_t i = 0; i < ir.len; i++) {
            cr_assert(ir.items[i].mul >= 0 && ir.items[i].mul <= 5);
            cr_assert(ir.items[i].ir.l >= 0 && ir.items[i].ir.l <= 4);
            seen_mul[ir.items[i].mul]++;
            seen_l[ir.items[i].ir.l]++;
            seen_p[ir.items[i].ir.p == 1]++;
        }
        e3c_irreps_free(&ir);
    }
    for (int i = 0; i < 5; i++)
        cr_assert(seen_len[i] > 600 && seen_l[i] > 1000, "lengths and degrees are uniform");
    for (int i = 0; i < 6; i++)
        cr_assert(seen_mul[i] > 800, "multiplicities are uniform in 0..5 (%d: %d)", i, seen_mul[i]);
    cr_assert(seen_p[0] > 2500 && seen_p[1] > 2500, "both parities, independent of l");

    o.allow_empty = 0;
    o.mul_max = 1;
    for (int k = 0; k < 1000; k++) {
        e3c_irreps ir;
        E3C_ASSERT_OK(e3c_random_irreps(&ir, &o, &state));
        cr_assert_geq(ir.len, 1);
        cr_assert_gt(e3c_irreps_num_irreps(&ir), 0, "never empty without allow_empty");
        e3c_irreps_free(&ir);
    }
    e3c_irreps ir;
    o = (e3c_random_irreps_options)E3C_RANDOM_IRREPS_OPTIONS_INIT;
    o.mul_min = 3, o.mul_max = 2;
    E3C_ASSERT_FAILS(e3c_random_irreps(&ir, &o, &state), E3C_ERR_VALUE, "mul_min <= mul_max");
}

Test(random_irreps, same_seed_same_sequence)
{
    uint64_t a = 7, b = 7;
    for (int k = 0; k < 50; k++) {
        e3c_irreps x, y;
        E3C_ASSERT_OK(e3c_random_irreps(&x, NULL, &a));
        E3C_ASSERT_OK(e3c_random_irreps(&y, NULL, &b));
        cr_assert(e3c_irreps_equal(&x, &y));
        e3c_irreps_free(&x), e3c_irreps_free(&y);
    }
}

/* ------------------------------------------------------------ rng (splitmix64) ---- */

Test(rng, is_splitmix64)
{
    uint64_t state = 0;
    const uint64_t want[3] = {0xe220a8397b1dcdafull, 0x6e789e6aa1b965f4ull, 0x06c45d188009454full};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(e3c_rng_next(&state), want[i], "draw %d", i);
}

Test(rng, ints_stay_in_range_and_are_even)
{
    uint64_t state = 42;
    int counts[3] = {0};
    for (int i = 0; i < 30000; i++) {
        int k = e3c_rng_int(&state, -1, 1);
        cr_assert(k >= -1 && k <= 1, "draw %d gave %d", i, k);
        counts[k + 1]++;
    }
    for (int k = 0; k < 3; k++)
        cr_assert(counts[k] > 9400 && counts[k] < 10600, "value %d drawn %d times of 30000", k - 1, counts[k]);
    int wide = e3c_rng_int(&state, INT_MIN, INT_MAX); /* the whole range: no overflow */
    (void)wide;
}

Test(rng, one_value_draws_once_and_an_empty_range_not_at_all)
{
    uint64_t a = 7, b = 7;
    cr_assert_eq(e3c_rng_int(&a, 5, 5), 5);
    e3c_rng_next(&b);
    cr_assert_eq(a, b, "a one-value range consumes one draw, as random_irreps expects");
    cr_assert_eq(e3c_rng_int(&a, 3, 2), 3);
    cr_assert_eq(a, b, "an empty range consumes nothing");
}

Test(rng, units_are_in_0_1)
{
    uint64_t state = 1;
    for (int i = 0; i < 1000; i++) {
        double u = e3c_rng_unit(&state);
        cr_assert(u >= 0.0 && u < 1.0, "draw %d gave %g", i, u);
    }
}
