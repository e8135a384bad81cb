/* The e3check command as a user runs it: exit statuses, one-line errors, inspect on
 * every test model, and the o3 calculator against e3nn's golden values. */
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"
#include "e3check/registry.h"

/* Run `e3check ARGS` with `input` on stdin (may be NULL); capture everything. */
static run_result *run_cli(const char *args, const char *input) { return run_program(NULL, E3C_CLI_PATH, args, input); }

Test(cli, version_help_and_usage_errors)
{
    run_result *r = run_cli("--version", NULL);
    cr_assert_eq(r->status, 0);
    cr_assert(strncmp(r->out, "e3check ", 8) == 0);
    r = run_cli("--help", NULL);
    cr_assert_eq(r->status, 0);
    cr_assert(strstr(r->out, "inspect") && strstr(r->out, "o3") && strstr(r->out, "irreps"));
    r = run_cli("inspect --help", NULL);
    cr_assert_eq(r->status, 0);
    cr_assert(strstr(r->out, "usage: e3check inspect"));
    r = run_cli("frobnicate", NULL);
    cr_assert_eq(r->status, 4);
    assert_one_line_error(r, "unknown command 'frobnicate'");
    r = run_cli("inspect", NULL);
    cr_assert_eq(r->status, 4);
}

Test(cli, inspect_succeeds_on_good_models_and_names_broken_ones)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", zoo_dir());
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    int good = 0, broken = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 4 || strcmp(e->d_name + n - 3, ".pt") != 0)
            continue;
        char args[8192];
        snprintf(args, sizeof args, "inspect '%s/%s'", dir, e->d_name);
        run_result *r = run_cli(args, NULL);
        if (strstr(e->d_name, "truncated") || strstr(e->d_name, "not_archive")) {
            cr_assert_eq(r->status, 1, "%s", e->d_name);
            assert_one_line_error(r, e->d_name);
            broken++;
        } else {
            cr_assert_eq(r->status, 0, "%s: %s", e->d_name, r->err);
            cr_assert(strstr(r->out, "methods:") && strstr(r->out, "forward("), "%s", r->out);
            good++;
        }
    }
    closedir(d);
    cr_assert_eq(broken, 2);
    cr_assert_geq(good, 12);
    run_result *r = run_cli("inspect /no/such/file.pt", NULL);
    assert_one_line_error(r, "cannot open '/no/such/file.pt'");
}

Test(cli, irreps_prints_meaning_or_e3nns_error)
{
    run_result *r = run_cli("irreps '2o + 1e + 0e + 1e'", NULL);
    cr_assert_eq(r->status, 0);
    cr_assert(strstr(r->out, "sorted      1x0e+1x1e+1x1e+1x2o  (p = 3 1 0 2)"), "%s", r->out);
    cr_assert(strstr(r->out, "dim         12"));
    r = run_cli("irreps '1e,2e'", NULL);
    cr_assert_eq(r->status, 1);
    assert_one_line_error(r, "Unable to convert string \"1e,2e\" into an Irreps");
}

/* Parse the o3 answers and return the answer to query i (borrowed from *all). */
static const cJSON *answer_at(cJSON **all, const run_result *r, int i)
{
    if (!*all) {
        cr_assert_eq(r->status, 0, "o3 failed: %s", r->err);
        *all = cJSON_Parse(r->out);
        cr_assert_not_null(*all, "o3 output is not JSON: %.200s", r->out);
    }
    const cJSON *a = cJSON_GetArrayItem(*all, i);
    cr_assert_not_null(a);
    cr_assert_null(cJSON_GetObjectItem(a, "error"), "query %d: %s", i,
                   cJSON_GetObjectItem(a, "error") ? cJSON_GetObjectItem(a, "error")->valuestring : "");
    return a;
}

Test(cli, o3_reproduces_golden_values_exactly_enough)
{
    cJSON *g = load_json(data_path("golden/rotation_wigner.json"));
    cJSON *s = load_json(data_path("golden/sh_randn.json"));
    const char *queries =
        "[{\"op\":\"wigner_D\",\"l\":3,\"angles\":[0.3,1.1,-0.7]},"
        "{\"op\":\"rand_matrix\",\"seed\":0,\"n\":3,\"dtype\":\"float64\"},"
        "{\"op\":\"randn\",\"irreps\":\"2x0e + 1x1o\",\"batch\":2,\"normalization\":\"component\",\"seed\":0,"
        "\"dtype\":\"float64\"},"
        "{\"op\":\"wigner_3j\",\"l\":[3,2,1]},"
        "{\"op\":\"matrix_to_angles\",\"R\":[[1,0,0],[0,1,0],[0,0,1]]},"
        "{\"op\":\"spherical_harmonics\",\"l\":[2,1],\"x\":[0.3,-1.2,0.8],\"normalize\":true,"
        "\"normalization\":\"component\"},"
        "{\"op\":\"D_from_matrix\",\"irreps\":\"1o\",\"R\":[[-1,0,0],[0,-1,0],[0,0,-1]]}]";
    run_result *r = run_cli("o3", queries);
    cJSON *all = NULL;
    double got[512], want[512];

    size_t n = json_flatten(cJSON_GetObjectItem(answer_at(&all, r, 0), "D"), got, 512);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "wigner_D"))
        if (cJSON_GetObjectItem(c, "l")->valueint == 3)
            break;
    cr_assert_eq(json_flatten(cJSON_GetObjectItem(c, "D"), want, 512), n);
    for (size_t i = 0; i < n; i++)
        cr_assert(close_rel(got[i], want[i], 1e-12));

    n = json_flatten(cJSON_GetObjectItem(answer_at(&all, r, 1), "R"), got, 512);
    json_flatten(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(g, "rng_rand_matrix"), "torch.float64"),
                                     "rand_matrix(3)"),
                 want, 512);
    cr_assert_eq(n, 27);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "rand_matrix through JSON must round-trip bit for bit");

    n = json_flatten(cJSON_GetObjectItem(answer_at(&all, r, 2), "x"), got, 512);
    json_flatten(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "irreps_randn"), "torch.float64"),
                                     "Irreps('2x0e + 1x1o').randn(2,-1) [seed 0]"),
                 want, 512);
    cr_assert_eq(n, 10);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i]);

    n = json_flatten(cJSON_GetObjectItem(answer_at(&all, r, 3), "C"), got, 512);
    cr_assert_eq(json_flatten(cJSON_GetObjectItem(cJSON_GetObjectItem(g, "wigner_3j"), "3,2,1"), want, 512), n);
    for (size_t i = 0; i < n; i++)
        cr_assert(close_rel(got[i], want[i], 1e-12));

    n = json_flatten(cJSON_GetObjectItem(answer_at(&all, r, 4), "angles"), got, 512);
    cr_assert_eq(n, 3);
    cr_assert(got[0] == 0 && got[1] == 0 && got[2] == 0);

    n = json_flatten(cJSON_GetObjectItem(answer_at(&all, r, 5), "Y"), got, 512);
    cr_assert_eq(n, 8);
    n = json_flatten(cJSON_GetObjectItem(answer_at(&all, r, 6), "D"), got, 512);
    cr_assert_eq(n, 9);
    cr_assert(got[0] == -1 && got[4] == -1 && got[8] == -1);
    cJSON_Delete(all);
    cJSON_Delete(g);
    cJSON_Delete(s);
}

Test(cli, o3_answers_errors_in_place_and_rejects_non_json)
{
    run_result *r =
        run_cli("o3", "[{\"op\":\"wigner_3j\",\"l\":[1,1,3]},{\"op\":\"nope\"},{\"op\":\"irreps\",\"irreps\":\"1e\"}]");
    cr_assert_eq(r->status, 0);
    cJSON *all = cJSON_Parse(r->out);
    cr_assert_eq(cJSON_GetArraySize(all), 3);
    cr_assert(strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "error")->valuestring, "|l2 - l3|"));
    cr_assert(strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 1), "error")->valuestring, "unknown op"));
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 2), "repr")->valuestring, "1x1e");
    cJSON_Delete(all);
    r = run_cli("o3", "{not json");
    cr_assert_eq(r->status, 1);
    assert_one_line_error(r, "not valid JSON");
}

static char *repo_path(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", E3C_SOURCE_DIR, rel);
    return buf;
}

Test(cli, inspect_survives_an_archive_that_crashes_libtorch)
{
    char args[10000];
    snprintf(args, sizeof args, "inspect '%s' '%s'", repo_path("tests/data/corrupt_code_crashes_libtorch.pt"),
             zoo_path("block_norm_f64.pt"));
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 1, "%s", r->err);
    /* the loader's crash is reported (under AddressSanitizer the child ends through ASan instead) */
    cr_assert(strstr(r->err, "libtorch's loader crashed on it") || strstr(r->err, "AddressSanitizer"), "%s", r->err);
    cr_assert(strstr(r->out, "type: BlockNorm"), "the next file is still inspected: %s", r->out);
}

Test(cli, compile_saves_a_loadable_file_with_the_childs_control_flow)
{
    char args[8192], out[512];
    snprintf(out, sizeof out, "%s/another.pt", test_tmpdir());
    snprintf(args, sizeof args, "compile '%s' --mode trace -o '%s'", repo_path("fixtures/seed/another_module.json"),
             out);
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->out, "root.mymod MyModuleLoop mode=script scripted"), "%s", r->out);
    snprintf(args, sizeof args, "inspect '%s'", out);
    r = run_cli(args, NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->out, "mymod: MyModuleLoop"));

    /* without --mode, a mode-none root cannot become one file */
    snprintf(args, sizeof args, "compile '%s' -o '%s.2'", repo_path("fixtures/seed/another_module.json"), out);
    r = run_cli(args, NULL);
    assert_one_line_error(r, "use --mode script or --mode trace");
}

Test(cli, failed_compile_writes_no_file_and_names_the_module)
{
    char args[8192], out[512];
    snprintf(out, sizeof out, "%s/super.pt", test_tmpdir());
    snprintf(args, sizeof args, "compile '%s' --mode script -o '%s'", repo_path("fixtures/seed/supermod.json"), out);
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 1);
    assert_one_line_error(r, "ChildMod does not support TorchScript compilation (module root.child)");
    cr_assert_neq(access(out, F_OK), 0, "no file may be written");

    char bad[512];
    snprintf(bad, sizeof bad, "%s/bad.json", test_tmpdir());
    FILE *f = fopen(bad, "w");
    fputs("{\"module\": {\"type\": \"Norm\",\n \"args\": [\"1o\",]}}", f);
    fclose(f);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "compile '%s' -o '%s'", bad, out);
    r = run_cli(cmd, NULL);
    assert_one_line_error(r, "not valid JSON (line 2");
}

/* ------------------------------------------------------------------ run ---- */

static cJSON *read_report(const char *path)
{
    cJSON *report = load_json(path);
    cJSON *schema = load_json(repo_path("reports/report.schema.json"));
    const char *bad = schema_violation(schema, report);
    cr_assert_null(bad, "report %s does not match reports/report.schema.json: %s", path, bad);
    cJSON_Delete(schema);
    const cJSON *sum = cJSON_GetObjectItem(report, "summary");
    cr_assert_eq(cJSON_GetObjectItem(sum, "total")->valueint,
                 cJSON_GetArraySize(cJSON_GetObjectItem(report, "results")));
    return report;
}

Test(run, builtin_suite_is_as_expected_with_valid_reports)
{
    char args[8192], json[512], xml[512], md[512], summary[512];
    snprintf(json, sizeof json, "%s/r.json", test_tmpdir());
    snprintf(xml, sizeof xml, "%s/r.xml", test_tmpdir());
    snprintf(md, sizeof md, "%s/r.md", test_tmpdir());
    snprintf(summary, sizeof summary, "%s/step_summary.md", test_tmpdir());
    snprintf(args, sizeof args, "run '%s' --jobs 2 --report '%s' --junit '%s' --markdown '%s'", repo_path("fixtures"),
             json, xml, md);
    setenv("GITHUB_STEP_SUMMARY", summary, 1);
    run_result *r = run_cli(args, NULL);
    unsetenv("GITHUB_STEP_SUMMARY");
    cr_assert_eq(r->status, 0, "%s\n%s", r->out, r->err);
    cJSON *report = read_report(json);
    const cJSON *sum = cJSON_GetObjectItem(report, "summary");
    cr_assert_geq(cJSON_GetObjectItem(sum, "total")->valueint, 20);
    cr_assert_eq(cJSON_GetObjectItem(sum, "not_as_expected")->valueint, 0);
    cr_assert_geq(cJSON_GetObjectItem(sum, "failed")->valueint, 3, "negative fixtures must be caught");
    cJSON_Delete(report);
    char text[1 << 16];
    FILE *f = fopen(xml, "r");
    cr_assert_not_null(f);
    text[fread(text, 1, sizeof text - 1, f)] = '\0';
    fclose(f);
    cr_assert(strstr(text, "<testsuites name=\"e3check\"") && strstr(text, "</testsuites>"));
    cr_assert(strstr(text, "classname=\"seed_mymodule_loop\" name=\"auto_jitable\""));
    f = fopen(summary, "r");
    cr_assert_not_null(f, "GITHUB_STEP_SUMMARY was not written");
    text[fread(text, 1, sizeof text - 1, f)] = '\0';
    fclose(f);
    cr_assert(strstr(text, "every check as expected"), "%s", text);
}

/* Remove every "duration_s" member (the only thing allowed to differ between runs). */
static void drop_durations(cJSON *j)
{
    cJSON_DeleteItemFromObjectCaseSensitive(j, "duration_s");
    for (cJSON *c = j ? j->child : NULL; c; c = c->next)
        drop_durations(c);
}

Test(run, results_do_not_depend_on_the_number_of_workers)
{
    char args[8192], json[2][512];
    cJSON *results[2];
    const char *jobs[2] = {"1", "3"};
    for (int k = 0; k < 2; k++) {
        snprintf(json[k], sizeof json[k], "%s/jobs%s.json", test_tmpdir(), jobs[k]);
        snprintf(args, sizeof args, "run '%s' --filter '*_f64' --jobs %s --report '%s'",
                 repo_path("fixtures/nn/library.json"), jobs[k], json[k]);
        run_result *r = run_cli(args, NULL);
        cr_assert_eq(r->status, 0, "%s\n%s", r->out, r->err);
        cJSON *report = read_report(json[k]);
        results[k] = cJSON_DetachItemFromObject(report, "results");
        cJSON_Delete(report);
        drop_durations(results[k]);
    }
    cr_assert_geq(cJSON_GetArraySize(results[0]), 40);
    cr_assert(cJSON_Compare(results[0], results[1], 1), "one worker and three workers give different results");
    cJSON_Delete(results[0]), cJSON_Delete(results[1]);
}

Test(run, bad_fixtures_become_errored_results_and_the_report_is_complete)
{
    char dir[512], path[640], json[512], xml[512], args[2048];
    snprintf(dir, sizeof dir, "%s/bad", test_tmpdir());
    mkdir(dir, 0777);
    const char *files[][2] = {
        {"invalid.json", "{\"name\": \"a\",\n \"module\": {\"type\": \"Norm\"},\n oops}"},
        {"unknown_type.json", "{\"name\": \"b\", \"module\": {\"type\": \"Nope\"}}"},
        {"unknown_field.json",
         "{\"name\": \"c\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}, \"colour\": 1}"},
        {"missing_model.json",
         "{\"name\": \"d\", \"torchscript\": \"gone.pt\", \"irreps_in\": [\"1o\"], \"irreps_out\": [\"1x0e\"]}"},
        {"quote.json",
         "{\"name\": \"e <&>\\\"\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}, \"expect\": {\"equivariance\": \"fail\"}}"},
        /* found by fuzzing: a check named four times overflowed the list of checks */
        {"twice.json",
         "{\"name\": \"f\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}, \"checks\": "
         "{\"auto_jitable\": true, \"auto_jitable\": true, \"auto_jitable\": true, \"auto_jitable\": true}}"},
        {"twice_kwargs.json", "{\"name\": \"g\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"], "
                              "\"kwargs\": {\"squared\": true, \"squared\": false}}}"}};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
        FILE *f = fopen(path, "w");
        fputs(files[i][1], f);
        fclose(f);
    }
    snprintf(json, sizeof json, "%s/bad.json", test_tmpdir());
    snprintf(xml, sizeof xml, "%s/bad.xml", test_tmpdir());
    snprintf(args, sizeof args, "run '%s' --report '%s' --junit '%s'", dir, json, xml);
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 1, "%s", r->out);
    cr_assert(strstr(r->out, "not valid JSON (line 3, column"), "%s", r->out);
    cr_assert(strstr(r->out, "unknown module type \"Nope\""));
    cr_assert(strstr(r->out, "unknown field \"colour\""));
    cr_assert(strstr(r->out, "gone.pt': No such file"));
    cr_assert(strstr(r->out, "key \"auto_jitable\" appears twice in \"checks\""), "%s", r->out);
    cr_assert(strstr(r->out, "key \"squared\" appears twice in \"module.kwargs\""), "%s", r->out);
    cr_assert_null(strstr(r->err, "terminate called"));
    cJSON *report = read_report(json);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(report, "summary"), "errored")->valueint, 8);
    cJSON_Delete(report);
    char text[1 << 16];
    FILE *f = fopen(xml, "r");
    text[fread(text, 1, sizeof text - 1, f)] = '\0';
    fclose(f);
    cr_assert(strstr(text, "classname=\"e &lt;&amp;&gt;&quot;\""), "XML escaping: %s", text);
}

Test(run, exit_statuses_for_nothing_usage_and_interrupt)
{
    char args[2048], json[512], dir[512];
    snprintf(dir, sizeof dir, "%s/empty", test_tmpdir());
    mkdir(dir, 0777);
    snprintf(json, sizeof json, "%s/none.json", test_tmpdir());
    snprintf(args, sizeof args, "run '%s' --report '%s'", dir, json);
    cr_assert_eq(run_cli(args, NULL)->status, 5);
    cr_assert_eq(run_cli("run --jobs 0", NULL)->status, 4);
    cr_assert_eq(run_cli("run --bogus", NULL)->status, 4);

    /* the interrupt: interrupted::* at the end of the file, which waits for a state
     * (a result line) before sending SIGINT instead of sleeping a fixed time */
}

Test(run, model_checks_one_deployed_file)
{
    char args[4096], json[512];
    snprintf(json, sizeof json, "%s/m.json", test_tmpdir());
    snprintf(args, sizeof args, "model '%s' --irreps-in 3x0e+2x1o+1x2e --irreps-out 6x0e --dtype float64 --report '%s'",
             zoo_path("block_norm_f64.pt"), json);
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 0, "%s %s", r->out, r->err);
    cJSON_Delete(read_report(json));
    snprintf(args, sizeof args, "model '%s' --irreps-in 1x1o --irreps-out 1x1o --report '%s'",
             zoo_path("truncated_archive_f32.pt"), json);
    r = run_cli(args, NULL);
    cr_assert_eq(r->status, 1);
    cr_assert(strstr(r->out, "truncated or corrupt archive"), "%s", r->out);
}

Test(cli, plugins_register_module_types_for_types_run_and_compile)
{
    char args[4096], fx[512], json[512];
    snprintf(args, sizeof args, "types --plugin '%s'", E3C_TEST_PLUGIN);
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->out, "Doubling\n"), "%s", r->out);
    snprintf(fx, sizeof fx, "%s/doubling.json", test_tmpdir());
    FILE *f = fopen(fx, "w");
    fputs("{\"name\": \"doubling\", \"module\": {\"type\": \"Doubling\"}, \"dtype\": \"float64\"}", f);
    fclose(f);
    snprintf(json, sizeof json, "%s/doubling-report.json", test_tmpdir());
    snprintf(args, sizeof args, "run '%s' --plugin '%s' --report '%s'", fx, E3C_TEST_PLUGIN, json);
    r = run_cli(args, NULL);
    cr_assert_eq(r->status, 0, "%s %s", r->out, r->err);
    cr_assert(strstr(r->out, "doubling") && strstr(r->out, "2 as expected"), "%s", r->out);
    snprintf(args, sizeof args, "types --plugin /no/such/plugin.so");
    r = run_cli(args, NULL);
    assert_one_line_error(r, "cannot load plugin '/no/such/plugin.so'");
}

Test(cli, a_plugin_declaring_another_api_version_or_none_is_refused_before_its_init_runs)
{
    const char *plugins[] = {E3C_TEST_PLUGIN_VERSION_OLD, E3C_TEST_PLUGIN_VERSION_NONE};
    char expected[64];
    snprintf(expected, sizeof expected, "this e3check expects version %d", E3C_API_VERSION);
    const char *why[] = {"was built for plugin API version 1;", "declares no plugin API version"};
    for (int i = 0; i < 2; i++) {
        char args[4096], needle[1200];
        snprintf(args, sizeof args, "types --plugin '%s'", plugins[i]);
        run_result *r = run_cli(args, NULL);
        cr_assert_eq(r->status, 4, "%s: status %d, %s", plugins[i], r->status, r->err);
        snprintf(needle, sizeof needle, "plugin '%s'", plugins[i]);
        assert_one_line_error(r, needle), assert_one_line_error(r, why[i]), assert_one_line_error(r, expected);
        cr_assert_null(strstr(r->err, "INIT-RAN"), "the init of %s ran: %s", plugins[i], r->err);
        cr_assert_null(strstr(r->out, "VersionProbe"), "%s", r->out);
    }
    /* the library call itself: E3C_ERR_FORMAT, the type not registered */
    cr_assert_eq(e3c_registry_load_plugin(E3C_TEST_PLUGIN_VERSION_OLD), E3C_ERR_FORMAT);
    cr_assert(strstr(e3c_error_last(), "was built for plugin API version 1;"), "%s", e3c_error_last());
    cr_assert_eq(e3c_registry_load_plugin(E3C_TEST_PLUGIN_VERSION_NONE), E3C_ERR_FORMAT);
    cr_assert(strstr(e3c_error_last(), "declares no plugin API version"), "%s", e3c_error_last());
    e3c_strings names = {0};
    cr_assert_eq(e3c_registry_names(&names), E3C_OK);
    for (size_t i = 0; i < names.count; i++)
        cr_assert_str_neq(names.items[i], "VersionProbe");
    e3c_strings_free(&names);
    /* and the plugin built for this version still loads */
    cr_assert_eq(e3c_registry_load_plugin(E3C_TEST_PLUGIN), E3C_OK, "%s", e3c_error_last());
}

/* ------------------------------------------------ reports never damage files ---- */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/sysmacros.h>

#include "e3check/torch.h"

/* Write `text` to `dir`/`name`; returns the path (static buffer). */
static const char *put_file(const char *dir, const char *name, const char *text)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    fputs(text, f);
    fclose(f);
    return path;
}

/* A fresh folder `name` in the test's temporary folder (static buffer). */
static const char *fresh_dir(const char *name)
{
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    cr_assert_eq(mkdir(dir, 0777), 0, "mkdir %s", dir);
    return dir;
}

static const char quick_fixture[] = "{\"name\": \"quick\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}}";

/* Files in `dir` whose name contains `part`. */
static int count_named(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strstr(e->d_name, part) != NULL;
    closedir(d);
    return n;
}

static mode_t lmode(const char *path)
{
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0, "%s is gone", path);
    return st.st_mode;
}

Test(reports, regular_files_and_links_are_written_atomically_and_links_stay_links)
{
    char dir[4096], args[40000], real[4200], link[4200], dangling[4200], made[4200];
    snprintf(dir, sizeof dir, "%s", fresh_dir("atomic"));
    char fx[4200];
    snprintf(fx, sizeof fx, "%s", put_file(dir, "quick.json", quick_fixture));
    /* an existing regular file keeps its permissions and is replaced whole */
    snprintf(real, sizeof real, "%s", put_file(dir, "real.json", "old"));
    chmod(real, 0640);
    snprintf(link, sizeof link, "%s/link.json", dir);
    cr_assert_eq(symlink("real.json", link), 0);
    snprintf(dangling, sizeof dangling, "%s/dangling.xml", dir);
    snprintf(made, sizeof made, "%s/made.xml", dir);
    cr_assert_eq(symlink("made.xml", dangling), 0);
    snprintf(args, sizeof args, "run '%s' --report '%s' --junit '%s'", fx, link, dangling);
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 0, "%s %s", r->out, r->err);
    cr_assert(S_ISLNK(lmode(link)), "the symbolic link was replaced by a file");
    cr_assert(S_ISLNK(lmode(dangling)), "the dangling link was replaced by a file");
    cr_assert(S_ISREG(lmode(real)) && (lmode(real) & 0777) == 0640, "mode %o", lmode(real) & 0777);
    cJSON_Delete(read_report(real));
    cr_assert(S_ISREG(lmode(made)), "the dangling link's target was not created");
    cr_assert_eq(count_named(dir, "tmp"), 0, "a temporary file was left behind");

    /* compile -o follows the same rules */
    snprintf(real, sizeof real, "%s/model.pt", dir);
    snprintf(link, sizeof link, "%s/model-link.pt", dir);
    cr_assert_eq(symlink("model.pt", link), 0);
    snprintf(args, sizeof args, "compile '%s' --mode trace -o '%s'", repo_path("fixtures/seed/another_module.json"),
             link);
    r = run_cli(args, NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(S_ISLNK(lmode(link)) && S_ISREG(lmode(real)));
    snprintf(args, sizeof args, "inspect '%s'", real);
    cr_assert_eq(run_cli(args, NULL)->status, 0);
}

Test(reports, devices_and_fifos_are_written_in_place_never_replaced)
{
    char dir[4096], args[40000], fifo[4200], dev[4200], fx[4200];
    snprintf(dir, sizeof dir, "%s", fresh_dir("devices"));
    snprintf(fx, sizeof fx, "%s", put_file(dir, "quick.json", quick_fixture));
    /* a FIFO with a reader receives the report and stays a FIFO */
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    cr_assert_eq(mkfifo(fifo, 0666), 0);
    int rd = open(fifo, O_RDONLY | O_NONBLOCK);
    cr_assert_geq(rd, 0);
    snprintf(args, sizeof args, "run '%s' --report '%s'", fx, fifo);
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 0, "%s %s", r->out, r->err);
    cr_assert(S_ISFIFO(lmode(fifo)), "the FIFO was replaced");
    static char text[1 << 16];
    ssize_t n = read(rd, text, sizeof text - 1);
    close(rd);
    cr_assert_gt(n, 0, "nothing was written into the FIFO");
    text[n] = '\0';
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "the FIFO got no complete report: %.200s", text);
    cJSON_Delete(j);
    /* without a reader: an error naming it, not a hang, and the FIFO is still there */
    r = run_cli(args, NULL);
    cr_assert_eq(r->status, 3, "%s %s", r->out, r->err);
    cr_assert(strstr(r->err, "cannot write") && strstr(r->err, "no process is reading it"), "%s", r->err);
    cr_assert(S_ISFIFO(lmode(fifo)));

    /* a character device made here (never the real /dev/null, in case this is broken) */
    snprintf(dev, sizeof dev, "%s/null", dir);
    if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) != 0) {
        cr_log_warn("mknod needs root: the character device case is not run (%s)", strerror(errno));
        return;
    }
    char dev2[4200], link[4200];
    snprintf(dev2, sizeof dev2, "%s/null2", dir);
    cr_assert_eq(mknod(dev2, S_IFCHR | 0666, makedev(1, 3)), 0);
    snprintf(link, sizeof link, "%s/null-link", dir);
    cr_assert_eq(symlink("null2", link), 0);
    snprintf(args, sizeof args, "run '%s' --report '%s' --markdown '%s'", fx, dev, link);
    r = run_cli(args, NULL);
    cr_assert_eq(r->status, 0, "%s %s", r->out, r->err);
    cr_assert(S_ISCHR(lmode(dev)), "the device node was replaced by a regular file");
    cr_assert(S_ISLNK(lmode(link)) && S_ISCHR(lmode(dev2)), "the link or its device was replaced");
    snprintf(args, sizeof args, "compile '%s' --mode trace -o '%s'", repo_path("fixtures/seed/another_module.json"),
             dev);
    r = run_cli(args, NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(S_ISCHR(lmode(dev)), "compile -o replaced the device node");
    cr_assert_eq(count_named(dir, "tmp"), 0);
}

Test(reports, stdout_no_report_and_one_file_for_two_reports)
{
    char dir[4096], args[40000], fx[4200], cmd[20000];
    snprintf(dir, sizeof dir, "%s", fresh_dir("streams"));
    snprintf(fx, sizeof fx, "%s", put_file(dir, "quick.json", quick_fixture));
    snprintf(args, sizeof args, "run '%s' --report -", fx);
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cJSON *j = cJSON_Parse(r->out);
    cr_assert_not_null(j, "stdout is not only the JSON report: %.300s", r->out);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "results")), 2);
    cJSON_Delete(j);
    cr_assert(strstr(r->err, "quick") && strstr(r->err, "2 checks"), "result lines go to stderr: %s", r->err);

    /* --no-report: no default reports/ folder appears */
    snprintf(cmd, sizeof cmd, "cd '%s' && %s run quick.json --no-report > /dev/null 2>&1", dir, E3C_CLI_PATH);
    int st = system(cmd);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char reports[4200];
    snprintf(reports, sizeof reports, "%s/reports", dir);
    cr_assert_neq(access(reports, F_OK), 0, "--no-report wrote a report");

    /* the same file for two reports, by name, by another spelling, through a link */
    char same[4200], link[4200];
    snprintf(same, sizeof same, "%s/r.json", dir);
    snprintf(link, sizeof link, "%s/r-link.json", dir);
    cr_assert_eq(symlink("r.json", link), 0);
    const char *pairs[][2] = {{same, same}, {"-", "-"}, {same, link}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(args, sizeof args, "run '%s' --report '%s' --junit '%s'", fx, pairs[i][0], pairs[i][1]);
        r = run_cli(args, NULL);
        cr_assert_eq(r->status, 4, "%s", args);
        assert_one_line_error(r, "name the same file");
    }
    snprintf(args, sizeof args, "run '%s' --report '%s/./r.json' --markdown '%s'", fx, dir, link);
    cr_assert_eq(run_cli(args, NULL)->status, 4, "the same new file spelt two ways");
}

/* The pid of a process that has ended (a child, reaped). */
static long dead_pid(void)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    return (long)pid;
}

Test(reports, temporaries_of_a_killed_run_are_removed_by_the_next)
{
    char dir[4096], args[40000], fx[4200], stale[64], live[64];
    snprintf(dir, sizeof dir, "%s", fresh_dir("stale"));
    snprintf(fx, sizeof fx, "%s", put_file(dir, "quick.json", quick_fixture));
    snprintf(stale, sizeof stale, ".r.json.e3c-tmp.%ld.0", dead_pid());
    snprintf(live, sizeof live, ".r.json.e3c-tmp.%ld.0", (long)getpid());
    put_file(dir, stale, "{\"half\": ");
    put_file(dir, live, "{\"busy\": ");
    char old_style[64];
    snprintf(old_style, sizeof old_style, "r.json.tmp-%ld", dead_pid());
    put_file(dir, old_style, "{\"half\": ");
    snprintf(args, sizeof args, "run '%s' --report '%s/r.json'", fx, dir);
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert_eq(count_named(dir, stale), 0, "the killed run's temporary file is still there");
    cr_assert_eq(count_named(dir, live), 1, "a live process's temporary file was removed");
    cr_assert_eq(count_named(dir, old_style), 0, "an earlier version's temporary file is still there");
}

/* ------------------------------------------------ interrupted runs ---- */

/* Save a TorchScript module whose forward never returns, with its fixture, in `dir`. */
static void put_hanging_fixture(const char *dir, const char *name)
{
    e3c_jit_module *m = NULL;
    E3C_ASSERT_OK(e3c_jit_new(&m, "Hang"));
    E3C_ASSERT_OK(e3c_jit_define(m, "def forward(self, x):\n"
                                    "    y = x\n"
                                    "    while bool((y == y).all()):\n"
                                    "        y = y + 1.0\n"
                                    "    return y\n"));
    char pt[4200], fx[8400];
    snprintf(pt, sizeof pt, "%s/hang.pt", dir);
    E3C_ASSERT_OK(e3c_jit_save(m, pt));
    e3c_jit_free(m);
    snprintf(fx, sizeof fx,
             "{\"name\": \"%s\", \"torchscript\": \"hang.pt\", \"irreps_in\": [\"2x0e\"], \"irreps_out\": [\"2x0e\"], "
             "\"timeout_s\": 300}",
             name);
    char file[256];
    snprintf(file, sizeof file, "%s.json", name);
    put_file(dir, file, fx);
}

/* Start e3check with argv in a process group of its own and SIGINT ignored (as a shell
 * starts a background job); its standard output comes through *out. */
static pid_t spawn_cli(char *const argv[], FILE **out)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGINT, SIG_IGN); /* as a shell starts a background job: e3check still stops */
        dup2(p[1], STDOUT_FILENO);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDERR_FILENO);
        close(p[0]), close(p[1]);
        execv(E3C_CLI_PATH, argv);
        _exit(127);
    }
    setpgid(pid, pid); /* also here: whichever runs first */
    close(p[1]);
    *out = fdopen(p[0], "r");
    return pid;
}

/* Read lines until `n` of them contain `needle` (1), or the end of the output (0). */
static int wait_for_lines(FILE *f, const char *needle, int n)
{
    char line[4096];
    while (n > 0 && fgets(line, sizeof line, f))
        n -= strstr(line, needle) != NULL;
    return n == 0;
}

/* Send SIGINT to pid (with `whole_group`, to its process group as Ctrl-C does: its
 * workers get it too), drain its output, and return its exit status (-1: killed). */
static int interrupt_and_wait(pid_t pid, FILE *out, int whole_group)
{
    kill(whole_group ? -pid : pid, SIGINT);
    char line[4096];
    while (fgets(line, sizeof line, out))
        ;
    fclose(out);
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp_file(const char *path)
{
    static char text[1 << 18];
    return slurp(path, text, sizeof text);
}

Test(interrupted, unrun_checks_are_skipped_in_every_report_and_every_headline_says_so, .timeout = 300)
{
    char dir[4096], json[4200], xml[4200], md[4200];
    snprintf(dir, sizeof dir, "%s", fresh_dir("interrupt"));
    put_file(dir, "a_quick.json", quick_fixture);
    put_hanging_fixture(dir, "b_hang");
    snprintf(json, sizeof json, "%s/r.json", dir);
    snprintf(xml, sizeof xml, "%s/r.xml", dir);
    snprintf(md, sizeof md, "%s/r.md", dir);
    char *argv[] = {"e3check", "run", dir, "--jobs", "1", "--report", json, "--junit", xml, "--markdown", md, NULL};
    FILE *out = NULL;
    pid_t pid = spawn_cli(argv, &out);
    /* the state: the quick fixture's first result is out, the hanging one is queued or runs */
    cr_assert(wait_for_lines(out, "quick", 1), "e3check ended before its first result");
    int status = interrupt_and_wait(pid, out, 1);
    cr_assert_eq(status, 2, "exit status %d", status);

    cJSON *report = read_report(json);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(report, "environment"), "interrupted")));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(report, "results")), 4, "every check is in the report");
    int not_run = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(report, "results")) {
        const char *status_s = cJSON_GetObjectItem(e, "status")->valuestring;
        int skipped = !strcmp(status_s, "SKIPPED");
        not_run += skipped;
        if (skipped)
            cr_assert_str_eq(cJSON_GetObjectItem(e, "message")->valuestring, "interrupted: not run");
        if (!strcmp(cJSON_GetObjectItem(e, "fixture")->valuestring, "b_hang"))
            cr_assert(skipped, "the hanging check (its worker got the Ctrl-C too) is %s", status_s);
    }
    cr_assert_geq(not_run, 2);
    const cJSON *notes = cJSON_GetObjectItem(report, "notes");
    cr_assert(cJSON_GetArraySize(notes) >= 1 && strstr(cJSON_GetArrayItem(notes, 0)->valuestring, "interrupted"));
    cJSON_Delete(report);

    const char *x = slurp_file(xml);
    cr_assert(strstr(x, "<testsuites name=\"e3check (interrupted)\""), "%s", x);
    cr_assert(strstr(x, "<skipped message=\"interrupted: not run\"/>"), "%s", x);
    cr_assert(strstr(x, "<property name=\"interrupted\" value=\"true\"/>"), "%s", x);
    const char *m = slurp_file(md);
    cr_assert(strncmp(m, "## e3check: interrupted, ", 25) == 0, "%s", m);
    cr_assert_null(strstr(m, "every check as expected"), "%s", m);
}

Test(interrupted, two_hanging_workers_are_stopped_and_the_status_is_2, .timeout = 300)
{
    char dir[4096], json[4200];
    snprintf(dir, sizeof dir, "%s", fresh_dir("interrupt2"));
    put_file(dir, "a_quick.json", quick_fixture);
    put_hanging_fixture(dir, "b_hang");
    snprintf(json, sizeof json, "%s/r.json", dir);
    char *argv[] = {"e3check", "run", dir, "--jobs", "2", "--report", json, NULL};
    FILE *out = NULL;
    pid_t pid = spawn_cli(argv, &out);
    /* both quick results are out: each worker has moved on to a hanging check */
    cr_assert(wait_for_lines(out, "quick", 2), "e3check ended before its results");
    /* a hung worker left running would keep the pipe open and hang the drain */
    cr_assert_eq(interrupt_and_wait(pid, out, 0), 2);
    cJSON *report = read_report(json);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(report, "environment"), "interrupted")));
    cJSON_Delete(report);
}

Test(interrupted, a_signal_at_the_start_of_main_gives_status_2_and_a_report, .timeout = 300)
{
    /* SIGINT is pending (blocked) when e3check starts: main installs its handlers and
     * unblocks the signal first thing, so it arrives before libtorch is used or any check
     * runs, deterministically */
    char dir[4096], json[4200];
    snprintf(dir, sizeof dir, "%s", fresh_dir("early"));
    put_file(dir, "a_quick.json", quick_fixture);
    snprintf(json, sizeof json, "%s/r.json", dir);
    char *argv[] = {"e3check", "run", dir, "--report", json, NULL};
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigprocmask(SIG_BLOCK, &set, NULL);
        raise(SIGINT);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO), dup2(null, STDERR_FILENO);
        execv(E3C_CLI_PATH, argv);
        _exit(127);
    }
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
    cJSON *report = read_report(json);
    const cJSON *e;
    int n = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(report, "results")) {
        cr_assert_str_eq(cJSON_GetObjectItem(e, "status")->valuestring, "SKIPPED");
        n++;
    }
    cr_assert_eq(n, 2, "the fixture's two checks are in the report, not run");
    cJSON_Delete(report);
}

/* ------------------------------------------------ reports valid whatever the input ---- */

/* 1 when [s, s + n) is well-formed UTF-8 (no overlong forms, surrogates or stray bytes). */
static int is_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t k = c < 0x80                 ? 1
                   : c >= 0xC2 && c <= 0xDF ? 2
                   : c >= 0xE0 && c <= 0xEF ? 3
                   : c >= 0xF0 && c <= 0xF4 ? 4
                                            : 0;
        if (!k || i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
        if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] >= 0xA0) || (c == 0xF0 && s[i + 1] < 0x90) ||
            (c == 0xF4 && s[i + 1] >= 0x90))
            return 0;
        i += k;
    }
    return 1;
}

/* A small well-formedness check of XML: characters XML 1.0 allows, '<' only as markup,
 * '&' only in an entity, and start and end tags nested. Returns NULL or what is wrong. */
static const char *xml_problem(const char *x)
{
    static char why[256];
    char stack[32][64];
    int depth = 0;
    for (const char *p = x; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return "a control character";
        if (c == 0xEF && (unsigned char)p[1] == 0xBF && (unsigned char)p[2] >= 0xBE)
            return "U+FFFE or U+FFFF";
        if (c == '&' && strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) && strncmp(p, "&gt;", 4) &&
            strncmp(p, "&quot;", 6) && strncmp(p, "&apos;", 6))
            return "a bare '&'";
        if (c != '<')
            continue;
        const char *end = strchr(p, '>');
        if (!end)
            return "an unclosed tag";
        for (const char *q = p + 1; q < end; q++)
            if (*q == '<')
                return "a '<' inside a tag";
        if (p[1] == '?')
            ;
        else if (p[1] == '/') {
            size_t n = strcspn(p + 2, " >");
            if (!depth || strlen(stack[depth - 1]) != n || strncmp(stack[depth - 1], p + 2, n)) {
                snprintf(why, sizeof why, "end tag %.*s does not match", (int)n, p + 2);
                return why;
            }
            depth--;
        } else if (end[-1] != '/') {
            if (depth == 32)
                return "too deep";
            snprintf(stack[depth++], sizeof stack[0], "%.*s", (int)strcspn(p + 1, " >"), p + 1);
        }
        p = end;
    }
    return depth ? "an element is not closed" : NULL;
}

static void assert_valid_reports(const char *json, const char *xml, const char *md)
{
    static char text[1 << 18];
    slurp(json, text, sizeof text);
    cr_assert(is_utf8((const unsigned char *)text, strlen(text)), "the JSON report is not UTF-8");
    cJSON_Delete(read_report(json));
    slurp(xml, text, sizeof text);
    cr_assert(is_utf8((const unsigned char *)text, strlen(text)), "the JUnit report is not UTF-8");
    const char *bad = xml_problem(text);
    cr_assert_null(bad, "the JUnit report is not well-formed: %s\n%s", bad, text);
    if (access("/usr/bin/xmllint", X_OK) == 0) {
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "/usr/bin/xmllint --noout '%s' 2>/dev/null", xml);
        cr_assert_eq(system(cmd), 0, "xmllint rejects the JUnit report:\n%s", text);
    }
    slurp(md, text, sizeof text);
    cr_assert(is_utf8((const unsigned char *)text, strlen(text)), "the Markdown report is not UTF-8");
    for (const char *p = text; *p; p++)
        cr_assert((unsigned char)*p >= 0x20 || *p == '\n', "a control character in the Markdown report");
}

Test(reports, names_that_are_not_utf8_give_valid_reports_with_a_note)
{
    char dir[4096], sub[4200], json[4200], xml[4200], md[4200], args[40000];
    snprintf(dir, sizeof dir, "%s", fresh_dir("utf8"));
    snprintf(sub, sizeof sub, "%s/d\xff", dir);
    cr_assert_eq(mkdir(sub, 0777), 0);
    /* a name with a Latin-1 byte, control characters and XML's specials; one expected to
     * fail so that it is in every report's table; a file that is not JSON */
    put_file(sub, "caf\xe9.json",
             "[{\"name\": \"caf\xe9 \\u0001\\u001b]]> <&>\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]},"
             " \"expect\": {\"equivariance\": \"fail\"}},"
             " {\"name\": \"\\uFFFE|x\\n\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}}]");
    put_file(sub, "br\xf6ken.json", "{\"name\": \"\xc3\", oops");
    put_file(sub, "type.json", "{\"name\": \"t\xe9\", \"module\": {\"type\": \"N\xe9\"}}");
    snprintf(json, sizeof json, "%s/r.json", dir);
    snprintf(xml, sizeof xml, "%s/r.xml", dir);
    snprintf(md, sizeof md, "%s/r.md", dir);
    snprintf(args, sizeof args, "run '%s' --report '%s' --junit '%s' --markdown '%s'", sub, json, xml, md);
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 1, "%s %s", r->out, r->err);
    assert_valid_reports(json, xml, md);
    cJSON *report = read_report(json);
    const cJSON *notes = cJSON_GetObjectItem(report, "notes");
    cr_assert(cJSON_GetArraySize(notes) == 1 && strstr(cJSON_GetArrayItem(notes, 0)->valuestring, "U+FFFD"));
    int shown = 0, type_shown = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(report, "results")) {
        const char *name = cJSON_GetObjectItem(e, "fixture")->valuestring;
        shown += !strncmp(name, "caf\xef\xbf\xbd ", 6);
        type_shown += !strcmp(name, "t\xef\xbf\xbd");
    }
    cr_assert_eq(shown, 2, "the byte 0xE9 is not shown as U+FFFD in both checks' names");
    cr_assert_geq(type_shown, 1, "the invalid fixture's name is not shown with U+FFFD");
    cJSON_Delete(report);
    cr_assert(strstr(slurp_file(md), "U+FFFD"), "the Markdown report has no note");
}

/* ------------------------------------------------ messages ---- */

Test(messages, option_values_out_of_range_say_the_allowed_range)
{
    const char *cases[][2] = {{"run --timeout 0", "--timeout 0 is out of range (allowed: 1 to 86400)"},
                              {"run --jobs 0", "--jobs 0 is out of range (allowed: 1 to 256)"},
                              {"run --jobs 99999999999999999999", "out of range (allowed: 1 to 256)"},
                              {"model x.pt --jobs two", "--jobs needs an integer from 1 to 256, not 'two'"},
                              {"run --seed -1", "--seed -1 is out of range (allowed: 0 to 2147483647)"},
                              {"run --maxfail -1", "--maxfail: '-1' is not a whole number from 1 to 1000000000"},
                              {"run --threads 0", "--threads: '0' is not a whole number from 1 to 1024"},
                              {"model x.pt --preset mace --structures bulk", "'bulk' is not periodic, cluster or both"},
                              {"model x.pt --irreps-in 0e --irreps-in 0e --irreps-in 0e --irreps-in 0e --irreps-in 0e "
                               "--irreps-in 0e --irreps-in 0e --irreps-in 0e --irreps-in 0e --irreps-in 0e --irreps-in "
                               "0e --irreps-in 0e --irreps-in 0e --irreps-in 0e --irreps-in 0e --irreps-in 0e "
                               "--irreps-in 0e",
                               "--irreps-in given more than 16 times"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        run_result *r = run_cli(cases[i][0], NULL);
        cr_assert_eq(r->status, 4, "%s", cases[i][0]);
        assert_one_line_error(r, cases[i][1]);
    }
}

Test(messages, irreps_errors_keep_their_reason_and_say_too_large)
{
    /* 3000 characters of good terms before the bad one: the input is cut, not the reason */
    static char args[8192];
    strcpy(args, "irreps '");
    for (int i = 0; i < 600; i++)
        strcat(args, "1x0e+");
    strcat(args, "1x0q'");
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 1);
    assert_one_line_error(r, "term \"1x0q\": its parity must be 'e', 'o' or 'y'");
    cr_assert_lt(strlen(r->err), 600, "the echoed input is not capped: %zu bytes", strlen(r->err));
    r = run_cli("irreps 99999999999999999999x0e", NULL);
    assert_one_line_error(r, "its multiplicity is larger than e3check supports");
    r = run_cli("irreps 1x99999999999999999999e", NULL);
    assert_one_line_error(r, "the degree l is larger than e3check supports");
}

Test(messages, json_with_a_nul_in_a_string_or_trailing_text_is_refused)
{
    run_result *r = run_cli("o3", "[{\"op\":\"irreps\",\"irreps\":\"1x0e\\u0000+1x1o\"}]");
    cr_assert_eq(r->status, 1, "%s", r->out);
    assert_one_line_error(r, "a string holds the NUL character \\u0000 (line 1, column 31)");
    /* an escaped backslash before u0000 is ordinary text */
    r = run_cli("o3", "[{\"op\":\"irreps\",\"irreps\":\"1x0e\\\\u0000\"}]");
    cr_assert_eq(r->status, 0, "%s", r->err);
    r = run_cli("o3", "[{\"op\":\"irreps\",\"irreps\":\"1e\"}] []");
    assert_one_line_error(r, "unexpected text after the JSON value (line 1, column 33)");
    r = run_cli("o3", "[{\"op\":\"D_from_angles\",\"irreps\":\"\",\"angles\":[0,0,0]}]");
    cr_assert_eq(r->status, 0);
    cr_assert(strstr(r->out, "{\"error\":\"D_from_angles: "), "%s", r->out);

    char dir[4096], json[4200], args[40000];
    snprintf(dir, sizeof dir, "%s", fresh_dir("json"));
    put_file(dir, "nul.json", "{\"name\": \"n\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\\u0000+2e\"]}}");
    put_file(dir, "trailing.json", "{\"name\": \"t\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}}\n}garbage");
    snprintf(json, sizeof json, "%s/r.json", dir);
    snprintf(args, sizeof args, "run '%s' --report '%s'", dir, json);
    r = run_cli(args, NULL);
    cr_assert_eq(r->status, 1, "%s", r->out);
    cr_assert(strstr(r->out, "nul.json: a string holds the NUL character"), "%s", r->out);
    cr_assert(strstr(r->out, "trailing.json: not valid JSON: unexpected text after the JSON value (line 2, column 1)"),
              "%s", r->out);
    cJSON *report = read_report(json);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(report, "summary"), "errored")->valueint, 2);
    cJSON_Delete(report);
}

/* ------------------------------------------------------------------ reliability ---- */
/* Issue #13, items 9-13: nothing left running, no hang, bounded memory, captured output.
 * The tests wait for states (a file a hanging module writes, a process gone), never for
 * a fixed time; the bounds below are only how long to wait before declaring failure. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <time.h>

enum { STATE_WAIT_S = 120 }; /* generous: the machine may be loaded */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void nap(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* 1 once `path` holds a whole line, 0 after STATE_WAIT_S seconds. */
static int wait_for_line(const char *path)
{
    char buf[64];
    for (time_t end = time(NULL) + STATE_WAIT_S; time(NULL) < end; nap())
        if (strchr(slurp(path, buf, sizeof buf), '\n'))
            return 1;
    return 0;
}

/* 1 when process pid has ended (gone, or a zombie nobody reaped yet) within STATE_WAIT_S. */
static int wait_until_ended(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    for (time_t end = time(NULL) + STATE_WAIT_S; time(NULL) < end; nap()) {
        if (access(path, F_OK) != 0)
            return 1;
        const char *paren = strrchr(slurp(path, buf, sizeof buf), ')');
        if (paren && (paren[2] == 'Z' || paren[2] == 'X'))
            return 1;
    }
    return 0;
}

/* Start e3check with argv (NULL-terminated, without the program), stdout and stderr into
 * `out`, E3C_TEST_HANG_FILE set to `hang_file`. */
static pid_t spawn_cli_hanging(const char *const *argv, const char *out, const char *hang_file)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        const char *args[32] = {E3C_CLI_PATH};
        for (int i = 0; argv[i] && i < 30; i++)
            args[i + 1] = argv[i];
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            _exit(127);
        dup2(fd, 1), dup2(fd, 2);
        setenv("E3C_TEST_HANG_FILE", hang_file, 1);
        execv(E3C_CLI_PATH, (char *const *)args);
        _exit(127);
    }
    return pid;
}

/* The first process id the Hang module wrote into `file`. */
static pid_t hang_pid(const char *file)
{
    char buf[64];
    cr_assert(wait_for_line(file), "the hanging module never started");
    return (pid_t)atol(slurp(file, buf, sizeof buf));
}

/* A folder `name` in the test's temporary folder with the given fixture files. */
static const char *fixture_dir(const char *name, const char *const files[][2], size_t n)
{
    static char dir[512];
    char path[1024];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    mkdir(dir, 0777);
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
        write_text(path, files[i][1]);
    }
    return dir;
}

/* With this process as the subreaper, orphans of e3check become its children: wait up to
 * STATE_WAIT_S for every child to end (reaping them); the number still alive, killed. */
static int children_left(void)
{
    for (time_t end = time(NULL) + STATE_WAIT_S;; nap()) {
        int st;
        pid_t r;
        while ((r = waitpid(-1, &st, WNOHANG)) > 0)
            ;
        if (r < 0 && errno == ECHILD)
            return 0;
        if (time(NULL) >= end)
            break;
    }
    int left = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        const char *paren = atol(e->d_name) > 0 ? strrchr(slurp(path, buf, sizeof buf), ')') : NULL;
        if (paren && atol(paren + 4) == (long)getpid()) {
            kill((pid_t)atol(e->d_name), SIGKILL);
            left++;
        }
    }
    if (d)
        closedir(d);
    while (waitpid(-1, NULL, 0) > 0)
        ;
    return left;
}

static const char *const hang_fixture[][2] = {
    {"hang.json", "{\"name\": \"hang\", \"module\": {\"type\": \"Hang\"}, \"dtype\": \"float64\", "
                  "\"checks\": {\"equivariance\": true}}"}};

Test(reliability, a_worker_dies_with_a_killed_e3check)
{
    char hang_file[512], out[512], json[512];
    snprintf(hang_file, sizeof hang_file, "%s/hang.pids", test_tmpdir());
    snprintf(out, sizeof out, "%s/killed.out", test_tmpdir());
    snprintf(json, sizeof json, "%s/killed.json", test_tmpdir());
    const char *dir = fixture_dir("killed", hang_fixture, 1);
    const char *argv[] = {"run", dir, "--plugin", E3C_TEST_PLUGIN_MODELS, "--jobs", "1", "--report", json, NULL};
    pid_t e3check = spawn_cli_hanging(argv, out, hang_file);
    pid_t worker = hang_pid(hang_file);
    cr_assert_neq(worker, e3check);
    kill(e3check, SIGKILL);
    int st;
    cr_assert_eq(waitpid(e3check, &st, 0), e3check);
    int ended = wait_until_ended(worker);
    if (!ended)
        kill(worker, SIGKILL);
    cr_assert(ended, "the worker %ld running a hanging module outlived e3check killed by SIGKILL", (long)worker);
}

Test(reliability, a_closed_pipe_leaves_nothing_running)
{
    /* e3check | head -1: head leaves after one line, e3check dies of SIGPIPE at its next
     * one while workers run the hanging module; they must not be left running */
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    const char *const files[][2] = {
        {"a_norm.json", "{\"name\": \"a_norm\", \"module\": {\"type\": \"Norm\", \"args\": [\"1x0e+1x1o\"]}, "
                        "\"dtype\": \"float64\"}"},
        {"b_hang.json", "{\"name\": \"b_hang\", \"module\": {\"type\": \"Hang\"}, \"dtype\": \"float64\", "
                        "\"timeout_s\": 2}"}};
    const char *dir = fixture_dir("piped", files, 2);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "E3C_TEST_HANG_FILE='%s/piped.pids' %s run '%s' --plugin '%s' --jobs 3 --report '%s/piped.json' "
             "2>/dev/null | head -1 > '%s/piped.out'",
             test_tmpdir(), E3C_CLI_PATH, dir, E3C_TEST_PLUGIN_MODELS, test_tmpdir(), test_tmpdir());
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "the pipeline did not end normally");
    cr_assert_eq(children_left(), 0, "processes of e3check were left running after it died of SIGPIPE");
}

Test(reliability, a_normal_exit_leaves_no_process)
{
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    char args[10000];
    snprintf(args, sizeof args, "run '%s' --filter '*_f64' --jobs 2 --report '%s/normal.json'",
             repo_path("fixtures/nn/library.json"), test_tmpdir());
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 0, "%s\n%s", r->out, r->err);
    int st;
    pid_t left = waitpid(-1, &st, WNOHANG); /* no wait: e3check reaps its workers before it exits */
    cr_assert(left < 0 && errno == ECHILD, "a worker outlived e3check's normal exit");
}

Test(reliability, a_worker_ends_itself_past_its_time_limit)
{
    /* e3check stopped (SIGSTOP) cannot kill its worker at the deadline: the worker's own
     * backstop ends it a few seconds later */
    char hang_file[512], out[512], json[512];
    snprintf(hang_file, sizeof hang_file, "%s/stopped.pids", test_tmpdir());
    snprintf(out, sizeof out, "%s/stopped.out", test_tmpdir());
    snprintf(json, sizeof json, "%s/stopped.json", test_tmpdir());
    const char *const files[][2] = {{"hang.json",
                                     "{\"name\": \"hang\", \"module\": {\"type\": \"Hang\"}, \"dtype\": \"float64\", "
                                     "\"checks\": {\"equivariance\": true}, \"timeout_s\": 1}"}};
    const char *dir = fixture_dir("stopped", files, 1);
    const char *argv[] = {"run", dir, "--plugin", E3C_TEST_PLUGIN_MODELS, "--jobs", "1", "--report", json, NULL};
    pid_t e3check = spawn_cli_hanging(argv, out, hang_file);
    pid_t worker = hang_pid(hang_file);
    kill(e3check, SIGSTOP);
    int ended = wait_until_ended(worker);
    kill(e3check, SIGKILL);
    waitpid(e3check, NULL, 0);
    if (!ended)
        kill(worker, SIGKILL);
    cr_assert(ended, "the worker ran on past its check's time limit while e3check could not kill it");
}

Test(reliability, what_a_model_prints_goes_into_the_details)
{
    const char *const files[][2] = {
        {"chatty.json", "{\"name\": \"chatty\", \"module\": {\"type\": \"Chatty\"}, \"dtype\": \"float64\"}"}};
    const char *dir = fixture_dir("chatty", files, 1);
    char args[4096], json[512];
    snprintf(json, sizeof json, "%s/chatty-report.json", test_tmpdir());
    snprintf(args, sizeof args, "run '%s' --plugin '%s' --jobs 1 --report '%s'", dir, E3C_TEST_PLUGIN_MODELS, json);
    run_result *r = run_cli(args, NULL);
    cr_assert_null(strstr(r->out, "CHATTY"), "a model's output is in e3check's: %s", r->out);
    cr_assert_null(strstr(r->out, "zzzz"), "a model's output is in e3check's: %s", r->out);
    cr_assert_null(strstr(r->err, "CHATTY"), "a model's output is in e3check's: %s", r->err);
    cr_assert(strstr(r->out, "chatty") && strstr(r->out, "e3check: 2 checks"), "%s", r->out);
    cJSON *report = read_report(json);
    const cJSON *e;
    int seen = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(report, "results")) {
        const cJSON *d = cJSON_GetObjectItem(e, "details");
        const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(d, "output"));
        cr_assert_not_null(text, "no output in the details of %s",
                           cJSON_GetStringValue(cJSON_GetObjectItem(e, "check")));
        cr_assert(strstr(text, "CHATTY-STDOUT-MARK") && strstr(text, "CHATTY-STDERR-MARK"), "%s", text);
        cr_assert_leq(strlen(text), 4096);
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(d, "output_truncated")));
        cr_assert_gt(cJSON_GetNumberValue(cJSON_GetObjectItem(d, "output_bytes")), 4096);
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "check")), "auto_jitable"))
            cr_assert(strstr(text, "CHATTY-TORCHSCRIPT-MARK"), "TorchScript's print is not captured: %s", text);
        seen++;
    }
    cr_assert_eq(seen, 2);
    cJSON_Delete(report);
}

Test(reliability, a_plugin_that_crashes_aborts_exits_or_fails_silently_is_a_usage_error)
{
    const char *why[] = {"crashed while loading (signal 11", "crashed while loading (signal 6",
                         "ended the process while loading (exit status 0)",
                         "failed (E3C_ERR_VALUE) without saying why"};
    for (int i = 0; i < 4; i++) {
        char plugin[1024], args[10000], json[512];
        snprintf(plugin, sizeof plugin, "%s%d.so", E3C_TEST_PLUGIN_FAULT, i + 1);
        snprintf(json, sizeof json, "%s/plugin%d.json", test_tmpdir(), i);
        snprintf(args, sizeof args, "run '%s' --plugin '%s' --report '%s'", repo_path("fixtures/seed"), plugin, json);
        run_result *r = run_cli(args, NULL);
        cr_assert_eq(r->status, 4, "plugin %d: status %d, %s", i + 1, r->status, r->err);
        char needle[1200];
        snprintf(needle, sizeof needle, "plugin '%s'", plugin);
        /* under AddressSanitizer a crash ends the trial child through ASan's handler, which
         * reports first and exits with a status: still a usage error naming the plugin */
        int asan = strstr(r->err, "AddressSanitizer") != NULL;
        if (asan)
            cr_assert(strstr(r->err, needle) && strstr(r->err, "while loading"), "%s", r->err);
        else
            assert_one_line_error(r, needle), assert_one_line_error(r, why[i]);
        cr_assert_eq(access(json, F_OK), -1, "a report was written");
        snprintf(args, sizeof args, "types --plugin '%s'", plugin);
        r = run_cli(args, NULL);
        cr_assert_eq(r->status, 4, "types with plugin %d: status %d", i + 1, r->status);
        if (!asan)
            assert_one_line_error(r, why[i]);
    }
}

/* Run e3check with a bound (the bug this guards against is a hang): the status. */
static int run_bounded(const char *args, const char *out)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "timeout -s KILL 300 %s %s > '%s' 2>&1", E3C_CLI_PATH, args, out);
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "e3check %s did not exit normally", args);
    cr_assert_neq(WEXITSTATUS(st), 137, "e3check %s hung", args);
    return WEXITSTATUS(st);
}

Test(reliability, fifos_and_link_loops_in_fixture_folders_neither_hang_nor_vanish)
{
    const char *const files[][2] = {
        {"ok.json",
         "{\"name\": \"ok\", \"module\": {\"type\": \"Norm\", \"args\": [\"1x0e+1x1o\"]}, \"dtype\": \"float64\"}"}};
    const char *dir = fixture_dir("walk", files, 1);
    char path[1024], target[1024], out[512], args[4096], json[512], text[1 << 16];
    snprintf(path, sizeof path, "%s/pipe.json", dir);
    cr_assert_eq(mkfifo(path, 0644), 0);
    for (int i = 0; i < 12; i++) { /* before: 2^12 walks of the same folder and more */
        snprintf(path, sizeof path, "%s/s%d", dir, i);
        cr_assert_eq(symlink(".", path), 0);
    }
    snprintf(path, sizeof path, "%s/dangling.json", dir);
    cr_assert_eq(symlink("nowhere.json", path), 0);
    snprintf(path, sizeof path, "%s/loop.json", dir);
    cr_assert_eq(symlink("loop.json", path), 0);
    snprintf(out, sizeof out, "%s/walk.out", test_tmpdir());
    snprintf(json, sizeof json, "%s/walk.json", test_tmpdir());
    snprintf(args, sizeof args, "run '%s' --report '%s'", dir, json);
    cr_assert_eq(run_bounded(args, out), 1);
    slurp(out, text, sizeof text);
    cr_assert(strstr(text, "pipe.json' is a FIFO, not a regular file"), "%s", text);
    cr_assert(strstr(text, "dangling.json': dangling symbolic link"), "%s", text);
    cr_assert(strstr(text, "loop.json': symbolic link loop"), "%s", text);
    cr_assert(strstr(text, "e3check: 5 checks, 2 as expected, 3 not"), "ok.json is run once: %s", text);
    cJSON *report = read_report(json);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(report, "summary"), "errored")->valueint, 3);
    cJSON_Delete(report);

    /* a FIFO given by name, to run or to compile: refused, not waited on */
    snprintf(path, sizeof path, "%s/pipe.json", dir);
    snprintf(args, sizeof args, "run '%s' --report '%s'", path, json);
    cr_assert_eq(run_bounded(args, out), 1);
    cr_assert(strstr(slurp(out, text, sizeof text), "is a FIFO"), "%s", text);
    snprintf(target, sizeof target, "%s/x.pt", test_tmpdir());
    snprintf(args, sizeof args, "compile '%s' -o '%s'", path, target);
    cr_assert_eq(run_bounded(args, out), 1);
    cr_assert(strstr(slurp(out, text, sizeof text), "is not a regular file"), "%s", text);
}

Test(reliability, o3_answers_are_bounded_and_name_the_size)
{
    /* 66 bytes that asked for 8 GiB */
    run_result *r = run_cli("o3", "[{\"op\":\"randn\",\"irreps\":\"99999x9e\",\"batch\":99999,\"seed\":0}]");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->out, "randn's x would hold 99999 x 1899981 = 1.9e+11 numbers"), "%s", r->out);
    r = run_cli("o3", "[{\"op\":\"D_from_angles\",\"irreps\":\"99999x0e\",\"angles\":[0,0,0]},"
                      "{\"op\":\"irreps\",\"irreps\":\"2000000000x1o\"},"
                      "{\"op\":\"spherical_harmonics\",\"l\":\"2000000000x0e\",\"x\":[1,0,0]},"
                      "{\"op\":\"rand_matrix\",\"seed\":0,\"n\":1000000},"
                      "{\"op\":\"randn\",\"irreps\":\"1x1o\",\"batch\":2,\"seed\":0}]");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cJSON *all = cJSON_Parse(r->out);
    cr_assert_eq(cJSON_GetArraySize(all), 5, "%s", r->out);
    const char *want[] = {"D would hold 99999 x 99999", "the list of ls would hold 1 x 2000000000",
                          "spherical_harmonics' Y would hold 1 x 2000000000", "rand_matrix's R would hold 1000000 x 9"};
    for (int i = 0; i < 4; i++) {
        const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(all, i), "error"));
        cr_assert(e && strstr(e, want[i]) && strstr(e, "more than the 1048576"), "query %d: %s", i, e ? e : "no error");
    }
    cr_assert_not_null(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 4), "x"), "a small query is still answered");
    cJSON_Delete(all);
}

Test(reliability, a_network_is_bounded_as_a_whole)
{
    const char *const files[][2] = {
        {"big.json",
         "{\"name\": \"big\", \"module\": {\"type\": \"FullyConnectedNet\", \"args\": [[16384, 16384, 1]]}, "
         "\"dtype\": \"float32\", \"checks\": {\"equivariance\": true}}"}};
    const char *dir = fixture_dir("bignet", files, 1);
    char args[4096];
    snprintf(args, sizeof args, "run '%s' --report '%s/bignet.json'", dir, test_tmpdir());
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 1, "%s", r->out);
    cr_assert(strstr(r->out, "FullyConnectedNet layers 0 to 1 have 268451840 weights in all, more than the 268435456"),
              "%s", r->out);
}

Test(reliability, a_fifo_given_as_a_model_is_refused_not_waited_on)
{
    char fifo[512], out[512], args[2048], text[4096];
    snprintf(fifo, sizeof fifo, "%s/model.pt", test_tmpdir());
    snprintf(out, sizeof out, "%s/fifo-model.out", test_tmpdir());
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    snprintf(args, sizeof args, "inspect '%s'", fifo);
    cr_assert_eq(run_bounded(args, out), 1);
    cr_assert(strstr(slurp(out, text, sizeof text), "it is not a regular file"), "%s", text);
    snprintf(args, sizeof args, "model '%s' --irreps-in 1x0e --irreps-out 1x0e --report '%s/fifo-model.json'", fifo,
             test_tmpdir());
    cr_assert_eq(run_bounded(args, out), 1);
    cr_assert(strstr(slurp(out, text, sizeof text), "it is not a regular file"), "%s", text);
}

Test(reliability, a_declared_width_cannot_exhaust_memory)
{
    /* "1000000000x0e" is 13 characters; its random inputs would take 8 GiB a row */
    const char *const files[][2] = {
        {"wide.json", "{\"name\": \"wide\", \"module\": {\"type\": \"Norm\", \"args\": [\"1000000000x0e\"]}, "
                      "\"dtype\": \"float64\", \"checks\": {\"equivariance\": true}}"}};
    const char *dir = fixture_dir("wide", files, 1);
    char args[4096];
    snprintf(args, sizeof args, "run '%s' --report '%s/wide.json'", dir, test_tmpdir());
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 1, "%s", r->out);
    cr_assert(strstr(r->out, "ERRORED") && strstr(r->out, "x 1000000000 = ") &&
                  strstr(r->out, "more than the 67108864"),
              "%s", r->out);
}

/* ------------------------------------------- Markdown reports show what to fix ---- */
/* Issue #16 item 4: per-block errors, the worst rotation, the seed and a command that
 * reproduces each failure, margins of every check, expected failures shown as expected,
 * names escaped. */

Test(markdown, failures_show_where_and_how_to_rerun_and_margins_are_listed)
{
    char dir[4096], md[4200], args[9000];
    snprintf(dir, sizeof dir, "%s", fresh_dir("markdown"));
    put_file(dir, "f.json",
             "[{\"name\": \"lin <b>|x\", \"module\": {\"type\": \"Linear\", \"args\": [\"2x0e+1x1o\", \"2x0e+1x1o\"]},"
             "  \"expect\": {\"equivariance\": \"fail\"}},"
             " {\"name\": \"gold\", \"module\": {\"type\": \"Linear\", \"args\": [\"1x0e\", \"1x0e\"]},"
             "  \"parameters\": {\"weight\": [1.0]}, \"dtype\": \"float64\", \"inputs\": [[[1.0]]],"
             "  \"checks\": {\"golden\": {\"output\": [[1.5]]}}}]");
    snprintf(md, sizeof md, "%s/r.md", dir);
    snprintf(args, sizeof args, "run '%s/f.json' --no-report --markdown '%s' --seed 7", dir, md);
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 1, "%s %s", r->out, r->err);
    const char *text = slurp_file(md);
    const char *want[] = {
        "## e3check: 2 checks not as expected",
        "#### lin &lt;b&gt;\\|x · equivariance: PASSED (expected fail)",
        "| parity_k=1, translate=no |",
        "(2x0e ", /* per irrep block */
        ", 1x1o ",
        "Worst rotation (rows): [",
        "Seed 7",
        "--name 'lin <b>|x' --check equivariance --seed 7`",
        "#### gold · golden: FAILED (expected pass)",
        "index \\[0, 0\\] is 1 where 1.5 is expected (relative error", /* where, and that it is relative */
        "--name gold --check golden --seed 7`",
        "<details><summary>Margins: worst error / tolerance of",
        "| gold | golden | FAILED (not as expected) | 3.333e-01 | 1.0e-12 |",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert(strstr(text, want[i]), "the Markdown lacks \"%s\":\n%s", want[i], text);
    for (const char *h = strstr(text, "<b>"); h; h = strstr(h + 1, "<b>")) { /* only inside a code span */
        const char *line = h;
        while (line > text && line[-1] != '\n')
            line--;
        cr_assert(!strncmp(line, "Reproduce: `", 12), "a name's HTML reached the Markdown outside code:\n%s", text);
    }
}

Test(markdown, an_all_green_run_with_expected_failures_says_so_without_alarm)
{
    char dir[4096], md[4200], args[9000];
    snprintf(dir, sizeof dir, "%s", fresh_dir("markdown_green"));
    put_file(
        dir, "f.json",
        "[{\"name\": \"wider\", \"module\": {\"type\": \"Norm\", \"args\": [\"1x0e+1x1o\"]}, \"dtype\": \"float64\","
        "  \"inputs\": [[[1.0, 2.0, 3.0, 4.0, 5.0]]], \"checks\": {\"golden\": {\"output\": [[1.0, 1.0]]}},"
        "  \"expect\": {\"golden\": \"error\"}}]");
    snprintf(md, sizeof md, "%s/r.md", dir);
    snprintf(args, sizeof args, "run '%s/f.json' --no-report --markdown '%s'", dir, md);
    run_result *r = run_cli(args, NULL);
    cr_assert_eq(r->status, 0, "%s %s", r->out, r->err);
    const char *text = slurp_file(md);
    cr_assert(strstr(text, "## e3check: every check as expected"), "%s", text);
    cr_assert(strstr(text, "1 of the failed or errored checks are expected failures"), "%s", text);
    cr_assert_null(strstr(text, "### Not as expected"), "%s", text);
}
