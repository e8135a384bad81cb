/* The e3check command as a user runs it: exit statuses, one-line errors, inspect on
 * every test model, and the o3 calculator against e3nn's golden values. */
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

typedef struct run_result {
    int status;
    char out[1 << 18];
    char err[1 << 14];
} run_result;

static char *slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return buf;
}

/* Run `e3check ARGS` with `input` on stdin (may be NULL); capture everything. */
static run_result *run_cli(const char *args, const char *input)
{
    static run_result r;
    char in[512], out[512], err[512], cmd[8192];
    snprintf(in, sizeof in, "%s/stdin", test_tmpdir());
    snprintf(out, sizeof out, "%s/stdout", test_tmpdir());
    snprintf(err, sizeof err, "%s/stderr", test_tmpdir());
    FILE *f = fopen(in, "wb");
    cr_assert_not_null(f);
    if (input)
        fputs(input, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s %s < %s > %s 2> %s", E3C_CLI_PATH, args, in, out, err);
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "e3check %s did not exit normally", args);
    r.status = WEXITSTATUS(st);
    slurp(out, r.out, sizeof r.out);
    slurp(err, r.err, sizeof r.err);
    return &r;
}

static void assert_one_line_error(const run_result *r, const char *needle)
{
    cr_assert_neq(r->status, 0);
    cr_assert(strncmp(r->err, "e3check: ", 9) == 0, "stderr: %s", r->err);
    cr_assert(strstr(r->err, needle), "stderr lacks \"%s\": %s", needle, r->err);
    cr_assert_null(strstr(r->err, "terminate called"));
    char *nl = strchr(r->err, '\n');
    cr_assert(nl && nl[1] == '\0', "stderr is not one line: %s", r->err);
}

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
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "wigner_D")) if (cJSON_GetObjectItem(c, "l")->valueint == 3) break;
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
    run_result *r = run_cli("o3", "[{\"op\":\"wigner_3j\",\"l\":[1,1,3]},{\"op\":\"nope\"},{\"op\":\"irreps\",\"irreps\":\"1e\"}]");
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
    snprintf(args, sizeof args, "compile '%s' --mode trace -o '%s'", repo_path("fixtures/seed/another_module.json"), out);
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
    cr_assert_eq(cJSON_GetObjectItem(sum, "total")->valueint, cJSON_GetArraySize(cJSON_GetObjectItem(report, "results")));
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
        snprintf(args, sizeof args, "run '%s' --filter '*_f64' --jobs %s --report '%s'", repo_path("fixtures/nn/library.json"),
                 jobs[k], json[k]);
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
        {"unknown_field.json", "{\"name\": \"c\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}, \"colour\": 1}"},
        {"missing_model.json", "{\"name\": \"d\", \"torchscript\": \"gone.pt\", \"irreps_in\": [\"1o\"], \"irreps_out\": [\"1x0e\"]}"},
        {"quote.json", "{\"name\": \"e <&>\\\"\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}, \"expect\": {\"equivariance\": \"fail\"}}"},
        /* found by fuzzing: a check named four times overflowed the list of checks */
        {"twice.json", "{\"name\": \"f\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}, \"checks\": "
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

/* Run `e3check ARGS` in the background, send it SIGINT once `workers` worker processes
 * exist (its handler is installed before the pool forks them: a state, not a delay), and
 * return its exit status. */
static int interrupt_run(const char *args, int workers)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "%s %s > /dev/null 2>&1 & pid=$!; "
             "while [ \"$(grep -lx \"PPid:[[:space:]]*$pid\" /proc/[0-9]*/status 2>/dev/null | wc -l)\" -lt %d ] "
             "&& kill -0 $pid 2>/dev/null; do sleep 0.05; done; "
             "kill -INT $pid; wait $pid",
             E3C_CLI_PATH, args, workers);
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "the shell running e3check %s did not exit normally", args);
    return WEXITSTATUS(st);
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

    /* SIGINT during a hanging check (one worker: the endless loop's two checks one after
     * the other outlast the signal): exit 2 and a complete report of what finished */
    snprintf(json, sizeof json, "%s/int.json", test_tmpdir());
    snprintf(args, sizeof args, "run '%s/forward_endless_loop_f32.json' '%s/block_norm_f64.json' "
             "--timeout 60 --jobs 1 --report '%s'", zoo_dir(), zoo_dir(), json);
    int st = interrupt_run(args, 1);
    cr_assert_eq(st, 2, "exit status %d", st);
    cJSON *report = read_report(json);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(report, "environment"), "interrupted")));
    cJSON_Delete(report);

    /* the same with two workers, both hanging when the signal comes: both are stopped */
    snprintf(args, sizeof args, "run '%s/forward_endless_loop_f32.json' --jobs 2 --report '%s'", zoo_dir(), json);
    st = interrupt_run(args, 2); /* a hung worker left running would hang here: the pool kills them */
    cr_assert_eq(st, 2, "exit status %d", st);
    report = read_report(json);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(report, "environment"), "interrupted")));
    cJSON_Delete(report);
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
