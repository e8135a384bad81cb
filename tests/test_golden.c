/* The golden check of structured models (interatomic potentials) and `e3check model FILE
 * --preset P --record OUT.json`: recorded expectations pass on the same file and fail on a
 * changed one; shapes, missing keys and NaN never pass; XYZ errors name the file and line. */
#include "test_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include "e3check/fixture.h"
#include "e3check/structured.h"

static const char *potentials_dir(void) { return E3C_SOURCE_DIR "/fixtures/potentials"; }

static cJSON *golden_doc(void) { return load_json(E3C_SOURCE_DIR "/fixtures/potentials/golden.json"); }

/* The fixture named `name` of doc (borrowed). */
static cJSON *entry(cJSON *doc, const char *name)
{
    cJSON *fx;
    cJSON_ArrayForEach(fx, doc)
        if (!strcmp(cJSON_GetObjectItem(fx, "name")->valuestring, name))
            return fx;
    cr_assert_fail("golden.json has no fixture %s", name);
    return NULL;
}

static cJSON *golden_opts(cJSON *fx) { return cJSON_GetObjectItem(cJSON_GetObjectItem(fx, "checks"), "golden"); }

static cJSON *expected(cJSON *fx, const char *key)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(golden_opts(fx), "outputs"), key);
}

/* The golden check of fx, paths relative to `dir` (NULL: the potentials folder). */
static e3c_verdict run_golden(const cJSON *fx, const char *dir, e3c_check_result *r)
{
    E3C_ASSERT_OK(e3c_fixture_run_check(r, fx, dir ? dir : potentials_dir(), E3C_CHECK_GOLDEN, NULL));
    return r->status;
}

static double detail(const e3c_check_result *r, const char *key, const char *field)
{
    const cJSON *d = cJSON_GetObjectItem(cJSON_GetObjectItem(r->details, "outputs"), key);
    const cJSON *v = cJSON_GetObjectItem(d, field);
    cr_assert(cJSON_IsNumber(v), "details.outputs.%s.%s missing", key, field);
    return v->valuedouble;
}

/* max(1, largest |value|) of an expected value. */
static double scale_of(const cJSON *v)
{
    static double buf[1 << 12];
    size_t n = json_flatten(v, buf, sizeof buf / sizeof buf[0]);
    double s = 1;
    for (size_t i = 0; i < n; i++)
        s = fabs(buf[i]) > s ? fabs(buf[i]) : s;
    return s;
}

static cJSON *item2(cJSON *v, int i, int j) { return cJSON_GetArrayItem(cJSON_GetArrayItem(v, i), j); }

Test(golden, the_recorded_fixtures_get_their_expected_verdicts, .timeout = 300)
{
    cJSON *doc = golden_doc(), *schema = load_json(E3C_SOURCE_DIR "/fixtures/fixture.schema.json");
    cJSON *fx;
    int n = 0, failed = 0;
    cJSON_ArrayForEach(fx, doc) {
        const char *bad = schema_violation(schema, fx);
        cr_assert_null(bad, "%s", bad);
        E3C_ASSERT_OK(e3c_fixture_validate(fx));
        e3c_check_kind kinds[E3C_CHECK_KIND_COUNT];
        size_t nk = 0;
        E3C_ASSERT_OK(e3c_fixture_checks(kinds, &nk, fx));
        cr_assert(nk == 1 && kinds[0] == E3C_CHECK_GOLDEN, "a recorded fixture runs golden only");
        e3c_verdict want;
        E3C_ASSERT_OK(e3c_fixture_expected(&want, fx, E3C_CHECK_GOLDEN));
        e3c_check_result r;
        const char *name = cJSON_GetObjectItem(fx, "name")->valuestring;
        cr_assert_eq(run_golden(fx, NULL, &r), want, "%s: %s (%s)", name, e3c_verdict_name(r.status), r.message);
        if (want == E3C_FAILED) { /* forces scaled by 1.05: the energy is unchanged */
            cr_assert(strstr(r.message, "output 'forces' at index") && !strstr(r.message, "total_energy"), "%s",
                      r.message);
            cr_assert_str_eq(cJSON_GetObjectItem(r.details, "worst_output")->valuestring, "forces");
            cr_assert_eq(detail(&r, "total_energy", "max_error"), 0);
            failed++;
        } else {
            cr_assert(strstr(r.message, "matches the golden values"), "%s", r.message);
            cr_assert_eq(cJSON_GetObjectItem(r.details, "model_calls")->valuedouble, 1);
        }
        e3c_check_result_free(&r);
        n++;
    }
    cr_assert(n >= 6 && failed == 1, "%d fixtures, %d expected to fail", n, failed);
    cJSON_Delete(doc), cJSON_Delete(schema);
}

Test(golden, a_perturbed_value_fails_beyond_the_tolerance_and_passes_within)
{
    cJSON *doc = golden_doc(), *fx = entry(doc, "nequip_f64.pth:periodic");
    cJSON *x = item2(expected(fx, "forces"), 1, 2);
    double tol = 1e-7, scale = scale_of(expected(fx, "forces")), v = x->valuedouble;
    e3c_check_result r;
    cJSON_SetNumberHelper(x, v + 3 * tol * scale);
    cr_assert_eq(run_golden(fx, NULL, &r), E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "output 'forces' at index [1, 2]") && strstr(r.message, "> tolerance 1.0e-07"), "%s",
              r.message);
    cr_assert_float_eq(detail(&r, "forces", "max_error"), 3 * tol, 1e-9);
    cr_assert_float_eq(detail(&r, "forces", "expected"), v + 3 * tol * scale, 0);
    cr_assert_float_eq(detail(&r, "forces", "got"), v, 0);
    cr_assert_float_eq(cJSON_GetObjectItem(r.details, "default_tolerance")->valuedouble, 1e-7, 0);
    e3c_check_result_free(&r);
    cJSON_AddItemToObject(golden_opts(fx), "atol", cJSON_Parse("{\"forces\": 1e-5}"));
    cr_assert_eq(run_golden(fx, NULL, &r), E3C_PASSED, "%s", r.message);
    cr_assert_float_eq(detail(&r, "forces", "tolerance"), 1e-5, 0);
    cr_assert_float_eq(detail(&r, "total_energy", "tolerance"), 1e-7, 0);
    e3c_check_result_free(&r);
    cJSON_DeleteItemFromObject(golden_opts(fx), "atol");
    cJSON_SetNumberHelper(x, v + 0.3 * tol * scale);
    cr_assert_eq(run_golden(fx, NULL, &r), E3C_PASSED, "%s", r.message);
    e3c_check_result_free(&r);
    cJSON_SetNumberHelper(x, v);
    cr_assert_eq(run_golden(fx, NULL, &r), E3C_PASSED, "%s", r.message);
    cr_assert_eq(detail(&r, "forces", "max_error"), 0, "17 digits read back exactly");
    e3c_check_result_free(&r);
    cJSON_Delete(doc);
}

/* Record a golden fixture of `file` through the library (as numbers, read back from text). */
static cJSON *recorded(const char *preset, const char *file, int periodic, uint64_t seed)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"name\": \"rec\", \"preset\": \"%s\", \"torchscript\": \"%s\", \"structure\": "
             "{\"periodic\": %s}, \"checks\": {\"equivariance\": false, \"auto_jitable\": false}}",
             preset, file, periodic ? "true" : "false");
    cJSON *fx = cJSON_Parse(text), *g = NULL;
    e3c_fixture *parsed = NULL;
    E3C_ASSERT_OK(e3c_fixture_parse(&parsed, fx, potentials_dir()));
    E3C_ASSERT_OK(e3c_structured_golden_record(&g, parsed, seed));
    e3c_fixture_free(parsed);
    char *printed = cJSON_PrintUnformatted(g);
    cJSON_AddItemToObject(cJSON_GetObjectItem(fx, "checks"), "golden", cJSON_Parse(printed));
    free(printed);
    cJSON_Delete(g);
    return fx;
}

Test(golden, the_float32_model_gets_1e_5)
{
    cJSON *fx = recorded("nequip", "nequip_f32.pth", 1, 4);
    e3c_check_result r;
    cr_assert_eq(run_golden(fx, NULL, &r), E3C_PASSED, "%s", r.message);
    cr_assert_float_eq(cJSON_GetObjectItem(r.details, "default_tolerance")->valuedouble, 1e-5, 0);
    cr_assert_float_eq(detail(&r, "forces", "tolerance"), 1e-5, 0);
    e3c_check_result_free(&r);
    cJSON *forces = expected(fx, "forces"), *x = item2(forces, 0, 0);
    double scale = scale_of(forces), v = x->valuedouble;
    cJSON_SetNumberHelper(x, v + 0.5e-5 * scale);
    cr_assert_eq(run_golden(fx, NULL, &r), E3C_PASSED, "%s", r.message);
    e3c_check_result_free(&r);
    cJSON_SetNumberHelper(x, v + 3e-5 * scale);
    cr_assert_eq(run_golden(fx, NULL, &r), E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "'forces' at index [0, 0]") && strstr(r.message, "tolerance 1.0e-05"), "%s", r.message);
    e3c_check_result_free(&r);
    cJSON_Delete(fx);
}

Test(golden, shapes_missing_keys_and_nan_never_pass)
{
    cJSON *doc = golden_doc();
    e3c_check_result r;
    /* one atom fewer in the expected forces */
    cJSON *fx = cJSON_Duplicate(entry(doc, "nequip_f64.pth:cluster"), 1);
    cJSON_DeleteItemFromArray(expected(fx, "forces"), 0);
    cr_assert_eq(run_golden(fx, NULL, &r), E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "output 'forces' has shape [8, 3], expected [7, 3]"), "%s", r.message);
    e3c_check_result_free(&r), cJSON_Delete(fx);
    /* an output the fixture does not give */
    fx = cJSON_Duplicate(entry(doc, "nequip_f64.pth:cluster"), 1);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(golden_opts(fx), "outputs"), "total_energy");
    cr_assert_eq(run_golden(fx, NULL, &r), E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "output 'total_energy' has values of shape [1, 1]"), "%s", r.message);
    e3c_check_result_free(&r), cJSON_Delete(fx);
    /* values expected where the model gives none (no cell: empty stress) */
    fx = cJSON_Duplicate(entry(doc, "nequip_f64.pth:cluster"), 1);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(golden_opts(fx), "outputs"), "stress",
                              cJSON_Parse("[[[0, 0, 0], [0, 0, 0], [0, 0, 0]]]"));
    cr_assert_eq(run_golden(fx, NULL, &r), E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "output 'stress' is None or empty where values of shape [1, 3, 3]"), "%s", r.message);
    e3c_check_result_free(&r), cJSON_Delete(fx);
    /* a key that is no declared output */
    fx = cJSON_Duplicate(entry(doc, "nequip_f64.pth:cluster"), 1);
    cJSON_AddItemToObject(cJSON_GetObjectItem(golden_opts(fx), "outputs"), "energy", cJSON_Parse("[1.0]"));
    cr_assert_eq(run_golden(fx, NULL, &r), E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "'energy', which is not a declared output (total_energy"), "%s", r.message);
    e3c_check_result_free(&r), cJSON_Delete(fx);
    /* an expected value that is not finite (1e999 reads as infinity) or not a number */
    const char *not_finite[2] = {"[[1e999]]", "[[\"nan\"]]"};
    for (int i = 0; i < 2; i++) {
        fx = cJSON_Duplicate(entry(doc, "nequip_f64.pth:cluster"), 1);
        cJSON_ReplaceItemInObject(cJSON_GetObjectItem(golden_opts(fx), "outputs"), "total_energy",
                                  cJSON_Parse(not_finite[i]));
        cr_assert_neq(e3c_fixture_validate(fx), E3C_OK);
        cr_assert(strstr(e3c_error_last(), "\"total_energy\" must be null or nested lists of finite numbers"), "%s",
                  e3c_error_last());
        cr_assert_eq(run_golden(fx, NULL, &r), E3C_ERRORED, "%s", r.message);
        e3c_check_result_free(&r), cJSON_Delete(fx);
    }
    /* the model gives NaN: two atoms at the same place (a zero-length edge) */
    fx = cJSON_Parse("{\"name\": \"nan\", \"preset\": \"nequip\", \"torchscript\": \"nequip_f64.pth\", \"checks\": "
                     "{\"equivariance\": false, \"golden\": {\"positions\": [[0, 0, 0], [0, 0, 0], [1.5, 0, 0]], "
                     "\"species\": [0, 1, 0], \"outputs\": {\"forces\": [[0, 0, 0], [0, 0, 0], [0, 0, 0]]}}}}");
    cJSON_AddItemToObject(fx, "outputs", cJSON_Parse("{\"forces\": {\"irreps\": \"1o\", \"per\": \"atom\"}}"));
    cr_assert_eq(run_golden(fx, NULL, &r), E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "output 'forces' at index [0, 0] is nan where 0 is expected"), "%s", r.message);
    e3c_check_result_free(&r), cJSON_Delete(fx);
    cJSON_Delete(doc);
}

Test(golden, species_names_map_through_type_names_and_atomic_numbers)
{
    cJSON *doc = golden_doc();
    const char *names[2] = {"nequip_f64.pth:periodic", "mace_f64.model:periodic"};
    e3c_check_result r;
    for (int f = 0; f < 2; f++) {
        cJSON *fx = cJSON_Duplicate(entry(doc, names[f]), 1), *sp = cJSON_GetObjectItem(golden_opts(fx), "species");
        cJSON *named = cJSON_CreateArray(), *x;
        cJSON_ArrayForEach(x, sp)
            cJSON_AddItemToArray(named, cJSON_CreateString(x->valueint ? "C" : "H"));
        cJSON_ReplaceItemInObject(golden_opts(fx), "species", named);
        cr_assert_eq(run_golden(fx, NULL, &r), E3C_PASSED, "%s: %s", names[f], r.message);
        e3c_check_result_free(&r);
        cJSON_ReplaceItemInArray(named, 1, cJSON_CreateString(f ? "Xx" : "O"));
        cr_assert_eq(run_golden(fx, NULL, &r), E3C_ERRORED, "%s", r.message);
        cr_assert(
            strstr(r.message, f ? "species \"Xx\" is not a chemical symbol (the model's atomic_numbers are the "
                                  "elements H C)"
                                : "checks.golden.species[1]: species \"O\" is not among the model's type_names (H C)"),
            "%s", r.message);
        e3c_check_result_free(&r), cJSON_Delete(fx);
    }
    /* a type index outside the model's species */
    cJSON *fx = cJSON_Duplicate(entry(doc, "nequip_f64.pth:cluster"), 1);
    cJSON_ReplaceItemInArray(cJSON_GetObjectItem(golden_opts(fx), "species"), 2, cJSON_CreateNumber(5));
    cr_assert_eq(run_golden(fx, NULL, &r), E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "the golden structure: atom 2 has species 5, outside 0..1"), "%s", r.message);
    e3c_check_result_free(&r), cJSON_Delete(fx);
    cJSON_Delete(doc);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

Test(golden, malformed_xyz_lines_are_errored_naming_the_file_and_the_line)
{
    static const struct {
        const char *text, *needle;
    } cases[] = {
        {"", "bad.xyz:1: the file is empty"},
        {"two\n", "bad.xyz:1: the first line must be the number of atoms (1 to 100000), not \"two\""},
        {"2\n", "bad.xyz:2: the file ends before the comment line"},
        {"2\nLattice=\"1 0 0 0 1 0 0 0\"\nH 0 0 0\nC 1 0 0\n", "bad.xyz:2: Lattice must be 9 finite numbers"},
        {"2\nLattice=\"1 0 0 0 1 0 0 0 1\n", "bad.xyz:2: a quoted value is not closed (key \"Lattice\")"},
        {"2\nProperties=species:S:1:pos:R\nH 0 0 0\n", "bad.xyz:2: Properties must be name:type:count triples"},
        {"2\nProperties=species:S:1:forces:R:3\nH 0 0 0\n", "bad.xyz:2: Properties must hold species:S:1 and pos:R:3"},
        {"2\nLattice=\"5 0 0 0 5 0 0 0 5\" pbc=\"T T F\"\nH 0 0 0\nC 1 0 0\n", "bad.xyz:2: pbc with 2 of 3 directions"},
        {"2\npbc=\"T T T\"\nH 0 0 0\nC 1 0 0\n", "bad.xyz:2: pbc is periodic but there is no Lattice"},
        {"2\nProperties=species:S:1:pos:R:3\nH 0 0 zero\nC 1 0 0\n",
         "bad.xyz:3: \"zero\" in column pos of atom 0 is not a finite number"},
        {"2\nProperties=species:S:1:pos:R:3\nH 0 0 0\nC 1 0\n",
         "bad.xyz:4: atom 1 has 3 columns but Properties declares 4"},
        {"2\nProperties=species:S:1:pos:R:3:tag:I:1\nH 0 0 0 1\nC 1 0 0 1.5\n",
         "bad.xyz:4: \"1.5\" in column tag of atom 1 is not an integer"},
        {"2\nProperties=species:S:1:pos:R:3:tag:I:1\nH 0 0 0 inf\nC 1 0 0 1\n",
         "bad.xyz:3: \"inf\" in column tag of atom 0 is not an integer"},
        {"3\n\nH 0 0 0\nC 1.2 0 0\n", "bad.xyz:5: the file ends after 2 of 3 atoms"},
        {"2\n\nO 0 0 0\nC 1.2 0 0\n", "bad.xyz:3: species \"O\" is not among the model's type_names"},
    };
    char path[4096], fx_text[8192];
    snprintf(path, sizeof path, "%s/bad.xyz", test_tmpdir());
    snprintf(
        fx_text, sizeof fx_text,
        "{\"name\": \"x\", \"preset\": \"nequip\", \"torchscript\": \"%s/nequip_f64.pth\", \"checks\": {\"golden\": "
        "{\"xyz\": \"bad.xyz\", \"outputs\": {\"total_energy\": [[0]]}}}}",
        potentials_dir());
    cJSON *fx = cJSON_Parse(fx_text);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        write_file(path, cases[c].text);
        e3c_check_result r;
        cr_assert_eq(run_golden(fx, test_tmpdir(), &r), E3C_ERRORED, "case %zu: %s", c, r.message);
        cr_assert(strstr(r.message, cases[c].needle), "case %zu: \"%s\" lacks \"%s\"", c, r.message, cases[c].needle);
        cr_assert_null(strchr(r.message, '\n'));
        e3c_check_result_free(&r);
    }
    /* a FIFO is refused, not waited on; a missing file is named */
    unlink(path);
    cr_assert_eq(mkfifo(path, 0600), 0);
    e3c_check_result r;
    cr_assert_eq(run_golden(fx, test_tmpdir(), &r), E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "the XYZ file: '") && strstr(r.message, "bad.xyz' is not a regular file"), "%s",
              r.message);
    e3c_check_result_free(&r);
    unlink(path);
    cr_assert_eq(run_golden(fx, test_tmpdir(), &r), E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "the XYZ file: cannot open '") && strstr(r.message, "bad.xyz'"), "%s", r.message);
    e3c_check_result_free(&r);
    cJSON_Delete(fx);
}

Test(golden, options_are_checked_when_the_fixture_is_read)
{
    static const struct {
        const char *golden, *needle;
    } cases[] = {
        {"true", "must be an object: the structure"},
        {"{\"position\": [[0, 0, 0]], \"species\": [0], \"outputs\": {\"forces\": null}}", "no option \"position\""},
        {"{\"species\": [0], \"outputs\": {\"forces\": null}}", "needs the structure"},
        {"{\"positions\": [[0, 0]], \"species\": [0], \"outputs\": {\"forces\": null}}",
         "option \"positions\" must be"},
        {"{\"positions\": [[0, 0, 0]], \"species\": [0, 1], \"outputs\": {\"forces\": null}}",
         "\"species\" has 2 entries but \"positions\" 1 atoms"},
        {"{\"positions\": [[0, 0, 0]], \"species\": [true], \"outputs\": {\"forces\": null}}",
         "option \"species\" must be"},
        {"{\"positions\": [[0, 0, 0]], \"species\": [0], \"cell\": [[1, 0, 0], [0, 1, 0]], \"outputs\": {\"forces\": null}}",
         "option \"cell\" must be"},
        {"{\"xyz\": \"a.xyz\", \"positions\": [[0, 0, 0]], \"outputs\": {\"forces\": null}}", "not both"},
        {"{\"xyz\": \"\", \"outputs\": {\"forces\": null}}", "option \"xyz\" must be"},
        {"{\"xyz\": \"a.xyz\"}", "option \"outputs\" must be"},
        {"{\"xyz\": \"a.xyz\", \"outputs\": {\"forces\": [[1, 2], [3]]}}", "\"forces\" must be null or nested lists"},
        {"{\"xyz\": \"a.xyz\", \"outputs\": {\"forces\": null}, \"atol\": 0}", "option \"atol\" must be"},
        {"{\"xyz\": \"a.xyz\", \"outputs\": {\"forces\": null}, \"atol\": {\"stress\": 1e-3}}",
         "\"atol\" names \"stress\", which is not in \"outputs\""},
        {"{\"xyz\": \"a.xyz\", \"outputs\": {\"forces\": null}, \"atol\": {\"forces\": -1}}",
         "\"atol\": \"forces\" must be a finite number > 0"},
    };
    cJSON *schema = load_json(E3C_SOURCE_DIR "/fixtures/fixture.schema.json");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char text[2048];
        snprintf(text, sizeof text,
                 "{\"name\": \"g\", \"preset\": \"mace\", \"torchscript\": \"x.model\", \"checks\": "
                 "{\"golden\": %s}}",
                 cases[c].golden);
        cJSON *fx = cJSON_Parse(text);
        cr_assert_not_null(fx, "%s", text);
        cr_assert_neq(e3c_fixture_validate(fx), E3C_OK, "case %zu is accepted", c);
        cr_assert(strstr(e3c_error_last(), cases[c].needle) && strstr(e3c_error_last(), "golden"),
                  "case %zu: \"%s\" lacks \"%s\"", c, e3c_error_last(), cases[c].needle);
        if (c == 1 || c == 5 || c == 8 || c == 11) /* what the schema can say, it says too */
            cr_assert_not_null(schema_violation(schema, fx), "the schema accepts case %zu", c);
        cJSON_Delete(fx);
    }
    /* a module fixture's golden keeps its own options */
    cJSON *plain = cJSON_Parse("{\"name\": \"p\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}, \"checks\": "
                               "{\"golden\": {\"positions\": [[0, 0, 0]]}}}");
    cr_assert_neq(e3c_fixture_validate(plain), E3C_OK);
    cr_assert(strstr(e3c_error_last(), "check \"golden\" has no option \"positions\" (it takes output or atol)"), "%s",
              e3c_error_last());
    cJSON_Delete(plain);
    cJSON_Delete(schema);
}

/* ------------------------------------------------------------------ the command ---- */

static run_result *run_cli(const char *args) { return run_program(test_tmpdir(), E3C_CLI_PATH, args, NULL); }

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    cr_assert(in && out, "cannot copy %s to %s", from, to);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        cr_assert_eq(fwrite(buf, 1, n, out), n);
    fclose(in), fclose(out);
}

Test(golden_cli, record_then_run_passes_and_a_changed_model_fails, .timeout = 300)
{
    char path[4096], args[8192];
    snprintf(path, sizeof path, "%s/models", test_tmpdir());
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/fx", test_tmpdir());
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/models/model.pth", test_tmpdir());
    copy_file(E3C_SOURCE_DIR "/fixtures/potentials/nequip_f64.pth", path);
    run_result *r = run_cli("model models/model.pth --preset nequip --record fx/golden.json");
    cr_assert_eq(r->status, 0, "%s%s", r->out, r->err);
    cr_assert(strstr(r->out, "recorded the golden outputs of 2 fixtures (model.pth:periodic, model.pth:cluster)"), "%s",
              r->out);
    snprintf(path, sizeof path, "%s/fx/golden.json", test_tmpdir());
    cJSON *doc = load_json(path), *fx;
    cr_assert_eq(cJSON_GetArraySize(doc), 2);
    cJSON_ArrayForEach(fx, doc) {
        cr_assert_str_eq(cJSON_GetObjectItem(fx, "torchscript")->valuestring, "../models/model.pth");
        cr_assert_str_eq(cJSON_GetObjectItem(fx, "preset")->valuestring, "nequip");
        cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(fx, "checks"), "equivariance")));
        cr_assert(cJSON_IsObject(cJSON_GetObjectItem(golden_opts(fx), "outputs")));
    }
    cJSON_Delete(doc);
    r = run_cli("run fx/golden.json --report r.json");
    cr_assert_eq(r->status, 0, "%s%s", r->out, r->err);
    cr_assert(strstr(r->out, "2 checks, 2 as expected, 0 not (passed 2"), "%s", r->out);
    /* OUT a link: written where it points, the paths relative to that folder, the link kept */
    snprintf(path, sizeof path, "%s/fx/real.json", test_tmpdir());
    write_file(path, "[]\n");
    snprintf(path, sizeof path, "%s/link.json", test_tmpdir());
    cr_assert_eq(symlink("fx/real.json", path), 0);
    r = run_cli("model models/model.pth --preset nequip --structures cluster --record link.json");
    cr_assert_eq(r->status, 0, "%s%s", r->out, r->err);
    struct stat sb;
    cr_assert(lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode), "the link stays a link");
    snprintf(path, sizeof path, "%s/fx/real.json", test_tmpdir());
    doc = load_json(path);
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 0), "torchscript")->valuestring,
                     "../models/model.pth");
    cJSON_Delete(doc);
    /* the same file name, another model: forces scaled by 1.05 */
    snprintf(path, sizeof path, "%s/models/model.pth", test_tmpdir());
    copy_file(E3C_SOURCE_DIR "/fixtures/potentials/nequip_scaled_forces.pth", path);
    r = run_cli("run fx/golden.json --report r.json");
    cr_assert_eq(r->status, 1, "%s%s", r->out, r->err);
    cr_assert(strstr(r->out, "golden        FAILED") && strstr(r->out, "output 'forces' at index"), "%s", r->out);
    /* MACE, one structure, another seed and size: recorded as run */
    snprintf(args, sizeof args,
             "model '%s/mace_f64.model' --preset mace --structures cluster --atoms 5 --seed 7 --record mace.json",
             potentials_dir());
    r = run_cli(args);
    cr_assert_eq(r->status, 0, "%s%s", r->out, r->err);
    snprintf(path, sizeof path, "%s/mace.json", test_tmpdir());
    doc = load_json(path);
    fx = cJSON_GetArrayItem(doc, 0);
    cr_assert_eq(cJSON_GetArraySize(doc), 1);
    cr_assert_eq(cJSON_GetObjectItem(fx, "seed")->valuedouble, 7);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(golden_opts(fx), "positions")), 5);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(golden_opts(fx), "cell")));
    cr_assert(cJSON_IsNull(expected(fx, "stress")), "MACE gives no stress without a cell");
    cJSON_Delete(doc);
    r = run_cli("run mace.json --report r.json");
    cr_assert_eq(r->status, 0, "%s%s", r->out, r->err);
    cr_assert(strstr(r->out, "1 check, 1 as expected") || strstr(r->out, "1 checks, 1 as expected"), "%s", r->out);
}

Test(golden_cli, record_refuses_special_files_and_keeps_what_exists, .timeout = 120)
{
    char args[8192], path[4096], text[64];
    snprintf(args, sizeof args, "model '%s/nequip_f64.pth' --preset nequip --record /dev/null", potentials_dir());
    run_result *r = run_cli(args);
    cr_assert_eq(r->status, 1);
    assert_one_line_error(r, "--record /dev/null: a special file, not a regular file");
    snprintf(args, sizeof args, "model '%s/nequip_f64.pth' --preset nequip --record .", potentials_dir());
    r = run_cli(args);
    assert_one_line_error(r, "--record .: a folder, not a regular file");
    snprintf(args, sizeof args, "model '%s/nequip_f64.pth' --preset nequip --record no/such/out.json",
             potentials_dir());
    r = run_cli(args);
    assert_one_line_error(r, "the folder no/such does not exist");
    snprintf(args, sizeof args, "model '%s/nequip_f64.pth' --record out.json", potentials_dir());
    r = run_cli(args);
    cr_assert_eq(r->status, 4);
    assert_one_line_error(r, "--record goes with --preset");
    /* a model that cannot run under the preset: an error, and the file as it was */
    snprintf(path, sizeof path, "%s/keep.json", test_tmpdir());
    write_file(path, "[]\n");
    snprintf(args, sizeof args, "model '%s/mace_f64.model' --preset nequip --record keep.json", potentials_dir());
    r = run_cli(args);
    cr_assert_eq(r->status, 1);
    assert_one_line_error(r, "cannot record mace_f64.model:periodic");
    FILE *f = fopen(path, "rb");
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    cr_assert_str_eq(text, "[]\n");
}
