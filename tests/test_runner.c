/* `e3check run` as a CI runner, through the command line: shards and merge, selection
 * (--filter, --exclude, --name, --check, --last-failed, --list), stopping (-x, --maxfail),
 * colours, the config file, the reproduce commands, the progress line on a terminal, and
 * e3c_cli_main in a program of its own. Every suite here is written by the test. */
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

/* Run `PROGRAM ARGS` in folder `cwd` (NULL: here), capturing both streams. */
static run_result *run_in(const char *cwd, const char *program, const char *args)
{
    return run_program(cwd, program, args, NULL);
}

static run_result *cli(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static run_result *cli(const char *fmt, ...)
{
    char args[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return run_in(NULL, E3C_CLI_PATH, args);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static const char *tmp(const char *name)
{
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", test_tmpdir(), name);
    return buf[k];
}

/* A suite of `n` small float64 fixtures in DIR/a.json and DIR/b.json; the ones whose
 * index is in `unexpected` expect equivariance to fail, so they are not as expected.
 * With `broken`, DIR/c.json is not JSON (an error of the file, not of a fixture). */
static const char *make_suite(const char *where, int n, const char *unexpected, int broken)
{
    static char dir[900]; /* `where` may be one of tmp()'s buffers, reused later */
    snprintf(dir, sizeof dir, "%s", where);
    mkdir(dir, 0777);
    char a[16384] = "[", b[16384] = "[", line[512], path[1024];
    for (int i = 0; i < n; i++) {
        char *to = i % 2 ? b : a, key[16];
        snprintf(key, sizeof key, ",%d,", i);
        snprintf(line, sizeof line,
                 "%s{\"name\": \"fx%02d\", \"module\": {\"type\": \"Norm\", \"args\": [\"%dx0e + 1x1o\"]}, "
                 "\"dtype\": \"float64\"%s}",
                 strlen(to) > 1 ? ",\n" : "", i, 1 + i % 3,
                 strstr(unexpected, key) ? ", \"expect\": {\"equivariance\": \"fail\"}" : "");
        strcat(to, line);
    }
    strcat(a, "]"), strcat(b, "]");
    snprintf(path, sizeof path, "%s/a.json", dir);
    write_file(path, a);
    snprintf(path, sizeof path, "%s/b.json", dir);
    write_file(path, b);
    if (broken) {
        snprintf(path, sizeof path, "%s/c.json", dir);
        write_file(path, "{\"name\": \"broken\",");
    }
    return dir;
}

static cJSON *load_results(const char *report)
{
    cJSON *doc = load_json(report);
    cJSON *res = cJSON_DetachItemFromObject(doc, "results");
    cJSON_Delete(doc);
    return res;
}

/* Remove every "duration_s" member (the only thing allowed to differ between runs). */
static void drop_durations(cJSON *j)
{
    cJSON_DeleteItemFromObjectCaseSensitive(j, "duration_s");
    for (cJSON *c = j ? j->child : NULL; c; c = c->next)
        drop_durations(c);
}

/* The result of `fixture`'s `check` in a results array, or NULL. */
static const cJSON *find_result(const cJSON *results, const char *fixture, const char *check)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, results) {
        if (!strcmp(cJSON_GetObjectItem(e, "fixture")->valuestring, fixture) &&
            !strcmp(cJSON_GetObjectItem(e, "check")->valuestring, check))
            return e;
    }
    return NULL;
}

/* The same results, in any order, durations aside. */
static void assert_same_results(cJSON *a, cJSON *b)
{
    drop_durations(a), drop_durations(b);
    cr_assert_eq(cJSON_GetArraySize(a), cJSON_GetArraySize(b));
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        const char *fx = cJSON_GetObjectItem(e, "fixture")->valuestring,
                   *ck = cJSON_GetObjectItem(e, "check")->valuestring;
        const cJSON *other = find_result(b, fx, ck);
        cr_assert_not_null(other, "%s %s is missing", fx, ck);
        cr_assert(cJSON_Compare(e, other, 1), "%s %s differs", fx, ck);
    }
}

static int count_in(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ------------------------------------------------------------------ shards ---- */

Test(shard, three_shards_merged_give_the_single_run)
{
    const char *dir = make_suite(tmp("suite"), 11, ",3,8,", 1);
    run_result *r = cli("run '%s' --jobs 2 --report '%s' --junit '%s'", dir, tmp("all.json"), tmp("all.xml"));
    cr_assert_eq(r->status, 1, "%s\n%s", r->out, r->err);
    for (int pass = 0; pass < 2; pass++) { /* by count, then balanced by the durations */
        char durations[1200] = "";
        if (pass)
            snprintf(durations, sizeof durations, "--durations '%s'", tmp("all.json"));
        int total = 0;
        cJSON *seen = cJSON_CreateObject();
        for (int k = 1; k <= 3; k++) {
            char name[32];
            snprintf(name, sizeof name, "shard%d.json", k);
            r = cli("run '%s' --jobs 2 --shard %d/3 %s --report '%s'", dir, k, durations, tmp(name));
            cr_assert(r->status == 0 || r->status == 1, "shard %d: %s\n%s", k, r->out, r->err);
            cJSON *res = load_results(tmp(name));
            const cJSON *e;
            cJSON_ArrayForEach(e, res) {
                const char *fx = cJSON_GetObjectItem(e, "fixture")->valuestring;
                const cJSON *owner = cJSON_GetObjectItem(seen, fx);
                cr_assert(!owner || owner->valueint == k, "fixture %s is in shards %d and %d", fx,
                          owner ? owner->valueint : 0, k);
                if (!owner)
                    cJSON_AddNumberToObject(seen, fx, k);
            }
            total += cJSON_GetArraySize(res);
            cJSON_Delete(res);
        }
        cr_assert_eq(cJSON_GetArraySize(seen), 12, "every fixture (and the broken file) in one shard");
        cr_assert_eq(total, 23);
        cJSON_Delete(seen);
        r = cli("merge '%s' '%s' '%s' --report '%s' --junit '%s' --markdown '%s'", tmp("shard1.json"),
                tmp("shard2.json"), tmp("shard3.json"), tmp("merged.json"), tmp("merged.xml"), tmp("merged.md"));
        cr_assert_eq(r->status, 1, "merge gives run's status: %s\n%s", r->out, r->err);
        cr_assert(strstr(r->out, "23 checks, 20 as expected, 3 not"), "%s", r->out);
        cJSON *single = load_results(tmp("all.json")), *merged = load_results(tmp("merged.json"));
        assert_same_results(single, merged);
        cJSON_Delete(single), cJSON_Delete(merged);
        cJSON *doc = load_json(tmp("merged.json"));
        cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "summary"), "not_as_expected")->valueint, 3);
        cJSON_Delete(doc);
        char xml[1 << 16];
        slurp(tmp("merged.xml"), xml, sizeof xml);
        cr_assert(strstr(xml, "tests=\"23\" failures=\"2\" errors=\"1\""), "%s", xml);
    }
}

Test(shard, a_shard_split_is_deterministic_and_an_empty_shard_exits_zero)
{
    const char *dir = make_suite(tmp("small"), 2, "", 0);
    static char first[sizeof((run_result *)0)->out];
    run_result *r = cli("run '%s' --shard 2/3 --list", dir);
    cr_assert_eq(r->status, 0, "%s", r->err);
    memcpy(first, r->out, sizeof first);
    r = cli("run '%s' --shard 2/3 --list", dir);
    cr_assert_str_eq(r->out, first);
    r = cli("run '%s' --shard 3/3 --report '%s'", dir, tmp("empty.json"));
    cr_assert_eq(r->status, 0, "%s\n%s", r->out, r->err);
    cr_assert(strstr(r->out, "shard 3/3 is empty"), "%s", r->out);
    r = cli("run '%s' --shard 1/3 --report '%s'", dir, tmp("one.json"));
    cr_assert_eq(r->status, 0);
    r = cli("merge '%s' '%s' --report '%s'", tmp("empty.json"), tmp("one.json"), tmp("m.json"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->out, "2 checks, 2 as expected"), "%s", r->out);
    r = cli("merge '%s' --report '%s'", tmp("empty.json"), tmp("m.json"));
    cr_assert_eq(r->status, 5, "nothing in any report: run's 'nothing was run'");
    r = cli("run '%s' --shard 4/3", dir);
    cr_assert_eq(r->status, 4);
    assert_one_line_error(r, "--shard: '4/3' is not K/N");
    r = cli("run '%s' --shard 0/2", dir);
    cr_assert_eq(r->status, 4);
}

Test(shard, merge_refuses_duplicates_other_versions_and_bad_input)
{
    const char *dir = make_suite(tmp("dups"), 2, "", 0);
    run_result *r = cli("run '%s' --report '%s'", dir, tmp("r.json"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    r = cli("merge '%s' '%s' --report '%s'", tmp("r.json"), tmp("r.json"), tmp("m.json"));
    cr_assert_eq(r->status, 1);
    assert_one_line_error(r, "is in both");
    cr_assert_neq(access(tmp("m.json"), F_OK), 0, "no report may be written");
    cJSON *doc = load_json(tmp("r.json"));
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(doc, "environment"), "e3check_version", cJSON_CreateString("0.0.1"));
    cJSON_DeleteItemFromArray(cJSON_GetObjectItem(doc, "results"), 0);
    char *text = cJSON_Print(doc);
    write_file(tmp("old.json"), text);
    free(text);
    cJSON_Delete(doc);
    r = cli("merge '%s' --report '%s'", tmp("old.json"), tmp("m.json"));
    assert_one_line_error(r, "was written by e3check 0.0.1");
    write_file(tmp("junk.json"), "{\"results\": 3");
    r = cli("merge '%s' --report '%s'", tmp("junk.json"), tmp("m.json"));
    assert_one_line_error(r, "not valid JSON");
    r = cli("merge '%s'", tmp("r.json"));
    cr_assert_eq(r->status, 4);
    assert_one_line_error(r, "--report OUT.json");
}

/* ------------------------------------------------------------------ selection ---- */

/* The fixture names of a --list output, as " name check" lines joined. */
static int listed(const run_result *r, const char *fixture, const char *check)
{
    char needle[256];
    snprintf(needle, sizeof needle, " %s %s\n", fixture, check);
    return strstr(r->out, needle) != NULL;
}

Test(select, filter_and_exclude_repeat_name_is_exact_check_picks)
{
    const char *dir = make_suite(tmp("sel"), 12, "", 0);
    run_result *r = cli("run '%s' --list --filter 'fx0[12]' --filter fx11 --exclude fx02", dir);
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(listed(r, "fx01", "auto_jitable") && listed(r, "fx01", "equivariance") &&
              listed(r, "fx11", "equivariance"));
    cr_assert(!listed(r, "fx02", "equivariance") && !listed(r, "fx00", "equivariance"), "%s", r->out);
    cr_assert_eq(count_in(r->out, "\n"), 4, "%s", r->out);
    r = cli("run '%s' --list --name fx1", dir); /* --filter would match fx10 and fx11 */
    cr_assert_eq(r->status, 5, "%s", r->out);
    r = cli("run '%s' --list --name fx10 --check equivariance", dir);
    cr_assert_eq(r->status, 0);
    cr_assert(listed(r, "fx10", "equivariance") && count_in(r->out, "\n") == 1, "%s", r->out);
    r = cli("run '%s' --name fx10 --check equivariance --check auto_jitable --report '%s'", dir, tmp("two.json"));
    cr_assert_eq(r->status, 0);
    cr_assert(strstr(r->out, "2 checks, 2 as expected"), "%s", r->out);
    r = cli("run '%s' --check nope", dir);
    cr_assert_eq(r->status, 4);
    assert_one_line_error(r, "--check: unknown check 'nope'");
    r = cli("run '%s' --filter", dir);
    cr_assert_eq(r->status, 4);
}

Test(select, exitfirst_and_maxfail_stop_the_run)
{
    const char *dir = make_suite(tmp("stop"), 10, ",0,1,2,3,4,5,6,7,8,9,", 0);
    run_result *r = cli("run '%s' -x --jobs 1 --report '%s'", dir, tmp("x.json"));
    cr_assert_eq(r->status, 1, "%s", r->out);
    cr_assert(strstr(r->out, "stopped after 1 check not as expected (--maxfail 1)"), "%s", r->out);
    cJSON *res = load_results(tmp("x.json"));
    int not_expected = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, res)
        not_expected += cJSON_IsFalse(cJSON_GetObjectItem(e, "as_expected"));
    cr_assert_eq(not_expected, 1, "one worker stops at the first");
    cr_assert_lt(cJSON_GetArraySize(res), 20);
    cJSON_Delete(res);
    r = cli("run '%s' --maxfail 3 --jobs 1 --exitfirst --maxfail 3 --report '%s'", dir, tmp("m.json"));
    cr_assert(strstr(r->out, "stopped after 3 checks not as expected"), "%s", r->out);
    r = cli("run '%s' --maxfail 0", dir);
    cr_assert_eq(r->status, 4);
}

Test(select, last_failed_reruns_what_was_not_as_expected)
{
    const char *dir = make_suite(tmp("lf"), 6, ",2,5,", 0);
    run_result *r = cli("run '%s' --report '%s'", dir, tmp("first.json"));
    cr_assert_eq(r->status, 1);
    r = cli("run '%s' --last-failed '%s' --report '%s'", dir, tmp("first.json"), tmp("second.json"));
    cr_assert_eq(r->status, 1);
    cJSON *res = load_results(tmp("second.json"));
    cr_assert_eq(cJSON_GetArraySize(res), 2, "only the two failed checks rerun");
    cr_assert_not_null(find_result(res, "fx02", "equivariance"));
    cr_assert_not_null(find_result(res, "fx05", "equivariance"));
    cJSON_Delete(res);
    /* nothing failed: everything runs, as pytest does */
    r = cli("run '%s' --filter fx00 --report '%s'", dir, tmp("green.json"));
    cr_assert_eq(r->status, 0);
    r = cli("run '%s' --last-failed '%s' --list", dir, tmp("green.json"));
    cr_assert_eq(r->status, 0);
    cr_assert_eq(count_in(r->out, "\n"), 12, "%s", r->out);
    cr_assert(strstr(r->err, "running everything"), "%s", r->err);
    r = cli("run '%s' --last-failed /no/such.json", dir);
    cr_assert_eq(r->status, 1);
    assert_one_line_error(r, "/no/such.json");
}

/* ------------------------------------------------------------------ output ---- */

Test(output, the_end_lists_what_to_fix_with_commands_that_reproduce_it)
{
    const char *dir = make_suite(tmp("repro"), 4, ",3,", 0);
    run_result *r = cli("run '%s' --seed 7 --report '%s'", dir, tmp("r.json"));
    cr_assert_eq(r->status, 1);
    const char *list = strstr(r->out, "not as expected (1):");
    cr_assert_not_null(list, "%s", r->out);
    const char *cmd = strstr(list, ": e3check run ");
    cr_assert_not_null(cmd, "%s", list);
    cr_assert(strstr(cmd, " --name fx03 --check equivariance --seed 7\n"), "%s", cmd);
    char args[4096];
    snprintf(args, sizeof args, "%.*s --report '%s'", (int)(strchr(cmd, '\n') - cmd - 10), cmd + 10, tmp("again.json"));
    r = cli("%s", args);
    cr_assert_eq(r->status, 1, "%s\n%s\n%s", args, r->out, r->err);
    cr_assert(strstr(r->out, "1 check, 0 as expected, 1 not"), "%s\n%s", args, r->out);
}

Test(output, color_is_forced_on_or_off)
{
    const char *dir = make_suite(tmp("color"), 1, "", 0);
    run_result *r = cli("run '%s' --color always --report '%s'", dir, tmp("c.json"));
    cr_assert_eq(r->status, 0);
    cr_assert(strstr(r->out, "\033[32mok"), "%s", r->out);
    setenv("NO_COLOR", "1", 1);
    r = cli("run '%s' --color never --report '%s'", dir, tmp("c.json"));
    unsetenv("NO_COLOR");
    cr_assert_null(strstr(r->out, "\033["));
    r = cli("run '%s' --color sometimes", dir);
    cr_assert_eq(r->status, 4);
    assert_one_line_error(r, "--color: 'sometimes' is not auto, always or never");
    r = cli("run '%s' --threads 1 --report '%s'", dir, tmp("c.json"));
    cr_assert_eq(r->status, 0, "%s", r->err);
}

/* On a terminal (script(1) gives one), no result line is glued to the progress line. */
Test(output, result_lines_start_clean_on_a_terminal)
{
    const char *dir = make_suite(tmp("tty"), 30, ",7,", 0);
    char cmd[8192], log[1 << 18];
    snprintf(cmd, sizeof cmd, "script -qefc \"%s run '%s' --jobs 2 --report '%s'\" '%s' > /dev/null 2>&1", E3C_CLI_PATH,
             dir, tmp("tty.json"), tmp("typescript"));
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "script did not exit");
    slurp(tmp("typescript"), log, sizeof log);
    cr_assert_geq(count_in(log, "ok  "), 59, "%s", log);
    for (const char *p = strstr(log, "running"); p; p = strstr(p + 1, "running")) {
        const char *after = p + strlen("running");
        cr_assert(!strncmp(after, "\r\033[K", 4), "the progress line is not cleared: %.60s", p);
    }
}

/* ------------------------------------------------------------------ config ---- */

Test(config, e3check_json_gives_plugins_paths_and_defaults)
{
    const char *proj = tmp("proj");
    char path[1024], text[4096];
    mkdir(proj, 0777);
    snprintf(path, sizeof path, "%s/fx", proj);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/fx/doubling.json", proj);
    write_file(path, "[{\"name\": \"dbl\", \"module\": {\"type\": \"Doubling\"}, \"dtype\": \"float64\"},"
                     " {\"name\": \"other\", \"module\": {\"type\": \"Doubling\"}, \"dtype\": \"float64\"}]");
    snprintf(text, sizeof text,
             "{\"plugins\": [\"%s\"], \"paths\": [\"fx\"], \"defaults\": {\"jobs\": 1, \"report\": \"out/r.json\", "
             "\"exclude\": [\"other\"], \"check\": \"equivariance\", \"color\": \"never\", \"quiet\": false}}",
             E3C_TEST_PLUGIN);
    snprintf(path, sizeof path, "%s/e3check.json", proj);
    write_file(path, text);
    /* the config file in a folder that is run is not a fixture */
    run_result *r = run_in(proj, E3C_CLI_PATH, "run . --report ../r3.json");
    cr_assert_eq(r->status, 0, "%s\n%s", r->out, r->err);
    cr_assert(strstr(r->out, "1 check, 1 as expected") && !strstr(r->out, "e3check.json"), "%s", r->out);
    r = run_in(proj, E3C_CLI_PATH, "run");
    cr_assert_eq(r->status, 0, "%s\n%s", r->out, r->err);
    cr_assert(strstr(r->out, "1 check, 1 as expected") && strstr(r->out, "report out/r.json"), "%s", r->out);
    /* types and compile load the file's plugins too */
    r = run_in(proj, E3C_CLI_PATH, "types Doubling");
    cr_assert_eq(r->status, 0, "%s", r->err);
    snprintf(path, sizeof path, "%s/single.json", proj);
    write_file(path, "{\"name\": \"single\", \"module\": {\"type\": \"Doubling\"}}");
    r = run_in(proj, E3C_CLI_PATH, "compile single.json -o dbl.pt");
    cr_assert_eq(r->status, 0, "%s", r->err);
    /* the command line wins, and adds to repeatable options */
    r = run_in(proj, E3C_CLI_PATH, "run --report r2.json --exclude dbl --check auto_jitable");
    cr_assert_eq(r->status, 5, "%s", r->out);
    /* --config names another file; its paths are relative to it */
    snprintf(path, sizeof path, "%s/fx/ci.json", proj);
    snprintf(text, sizeof text,
             "{\"plugins\": [\"%s\"], \"paths\": [\"doubling.json\"], \"defaults\": {\"filter\": \"other\"}}",
             E3C_TEST_PLUGIN);
    write_file(path, text);
    r = cli("run --config '%s' --report '%s'", path, tmp("cfg.json"));
    cr_assert_eq(r->status, 0, "%s\n%s", r->out, r->err);
    cr_assert(strstr(r->out, "2 checks, 2 as expected"), "%s", r->out);
    write_file(path, "{\"defaults\": {\"colour\": \"never\"}}");
    r = cli("run --config '%s'", path);
    cr_assert_eq(r->status, 4);
    assert_one_line_error(r, "\"colour\" is not a known option");
    write_file(path, "{\"plugin\": []}");
    r = cli("run --config '%s'", path);
    assert_one_line_error(r, "\"plugin\" is not a known field");
    r = cli("run --config /no/such/e3check.json");
    assert_one_line_error(r, "/no/such/e3check.json");
}

/* ------------------------------------------------------------------ entry point ---- */

Test(entry, a_programs_own_main_gets_the_whole_command)
{
    const char *dir = tmp("own");
    char path[1024], args[4096];
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/tripling.json", dir);
    write_file(path, "{\"name\": \"tripling\", \"module\": {\"type\": \"Tripling\"}, \"dtype\": \"float64\"}");
    snprintf(args, sizeof args, "run '%s' --jobs 2 --report '%s' --junit '%s'", path, tmp("own.json"), tmp("own.xml"));
    run_result *r = run_in(NULL, E3C_OWN_MAIN_PATH, args);
    cr_assert_eq(r->status, 0, "%s\n%s", r->out, r->err);
    cr_assert(strstr(r->out, "2 checks, 2 as expected"), "%s", r->out);
    char xml[1 << 14];
    slurp(tmp("own.xml"), xml, sizeof xml);
    cr_assert(strstr(xml, "timestamp=\"20"), "JUnit timestamp: %s", xml);
    r = run_in(NULL, E3C_OWN_MAIN_PATH, "types");
    cr_assert(strstr(r->out, "Tripling\n") && strstr(r->out, "Linear\n"), "%s", r->out);
    r = run_in(NULL, E3C_CLI_PATH, args);
    cr_assert_eq(r->status, 1, "the plain command does not know the type");
}

/* ------------------------------------------------------------------ model ---- */

Test(model, options_set_trials_tolerance_parity_and_checks)
{
    const char *fx = tmp("norm.json"), *pt = tmp("norm.pt");
    write_file(
        fx, "{\"name\": \"n\", \"module\": {\"type\": \"Norm\", \"args\": [\"1x0e + 1x1o\"]}, \"dtype\": \"float64\"}");
    char model[2048];
    snprintf(model, sizeof model, "%s", pt);
    run_result *r = cli("compile '%s' --mode trace -o '%s'", fx, model);
    cr_assert_eq(r->status, 0, "%s", r->err);
    const char *base = "model '%s' --irreps-in 1x0e+1x1o --irreps-out 2x0e --dtype float64 --report '%s' -v %s";
    r = cli(base, model, tmp("m.json"), "--ntrials 3 --no-parity --check equivariance");
    cr_assert_eq(r->status, 0, "%s\n%s", r->out, r->err);
    cr_assert(strstr(r->out, "over 1 case x 3 trials") && strstr(r->out, "1 check, 1 as expected"), "%s", r->out);
    r = cli(base, model, tmp("m.json"), "--check equivariance");
    cr_assert(strstr(r->out, "over 2 cases x 1 trial"), "the default has parity and one trial: %s", r->out);
    /* a tolerance no float meets: the check must fail, so the option reaches it */
    r = cli(base, model, tmp("m.json"), "--tolerance 1e-300 --check equivariance");
    cr_assert_eq(r->status, 1, "%s", r->out);
    cr_assert(strstr(r->out, "FAILED"), "%s", r->out);
    r = cli(base, model, tmp("m.json"), "--tolerance -1");
    cr_assert_eq(r->status, 4);
    assert_one_line_error(r, "--tolerance: '-1' is not a positive number");
    r = cli("run '%s' --ntrials 2", fx);
    cr_assert_eq(r->status, 4, "run takes trials from the fixture");
}

Test(model, parameters_take_nested_lists_in_the_parameters_shape)
{
    /* y = x W0 / sqrt(2) W1 / sqrt(2): row-major W0 gives 1.5 for x = (1, 0), its transpose 2 */
    const char *fx = tmp("nested.json");
    write_file(
        fx,
        "[{\"name\": \"nested\", \"module\": {\"type\": \"FullyConnectedNet\", \"args\": [[2, 2, 1], null]}, \"dtype\": \"float64\","
        " \"checks\": {\"golden\": {\"output\": [[1.5]]}}, \"inputs\": [[[1, 0]]],"
        " \"parameters\": {\"layer0.weight\": [[1, 2], [3, 4]], \"layer1.weight\": [[1], [1]]}},"
        " {\"name\": \"flat\", \"module\": {\"type\": \"FullyConnectedNet\", \"args\": [[2, 2, 1], null]}, \"dtype\": \"float64\","
        " \"checks\": {\"golden\": {\"output\": [[1.5]]}}, \"inputs\": [[[1, 0]]],"
        " \"parameters\": {\"layer0.weight\": [1, 2, 3, 4], \"layer1.weight\": [1, 1]}},"
        " {\"name\": \"transposed\", \"module\": {\"type\": \"FullyConnectedNet\", \"args\": [[2, 2, 1], null]}, \"dtype\": \"float64\","
        " \"checks\": {\"golden\": {\"output\": [[1.5]]}}, \"inputs\": [[[1, 0]]], \"expect\": {\"golden\": \"fail\"},"
        " \"parameters\": {\"layer0.weight\": [[1, 3], [2, 4]], \"layer1.weight\": [[1], [1]]}},"
        " {\"name\": \"ragged\", \"module\": {\"type\": \"FullyConnectedNet\", \"args\": [[2, 2, 1], null]}, \"dtype\": \"float64\","
        " \"checks\": {\"golden\": {\"output\": [[1.5]]}}, \"inputs\": [[[1, 0]]], \"expect\": {\"golden\": \"error\"},"
        " \"parameters\": {\"layer0.weight\": [[1, 2, 3], [4]], \"layer1.weight\": [[1], [1]]}},"
        " {\"name\": \"wrong_shape\", \"module\": {\"type\": \"FullyConnectedNet\", \"args\": [[2, 2, 1], null]}, \"dtype\": \"float64\","
        " \"checks\": {\"golden\": {\"output\": [[1.5]]}}, \"inputs\": [[[1, 0]]], \"expect\": {\"golden\": \"error\"},"
        " \"parameters\": {\"layer0.weight\": [[1, 2], [3, 4]], \"layer1.weight\": [[1, 1]]}}]");
    run_result *r = cli("run '%s' -v --report '%s'", fx, tmp("n.json"));
    cr_assert_eq(r->status, 0, "%s\n%s", r->out, r->err);
    cr_assert(strstr(r->out, "a list nested at depth 1 must have 2 entries"), "%s", r->out);
    cr_assert(strstr(r->out, "a list nested at depth 0 must have 2 entries"), "%s", r->out);
}

/* ------------------------------------------------------------------ messages ---- */

Test(messages, errors_name_the_next_step)
{
    const char *fx = tmp("msg.json");
    write_file(
        fx,
        "[{\"name\": \"typo\", \"module\": {\"type\": \"Linear\", \"args\": [\"1x0e\", \"1x0e\"]},"
        " \"parameters\": {\"wieght\": [1]}},"
        " {\"name\": \"unknown\", \"module\": {\"type\": \"Doubling\"}},"
        " {\"name\": \"kw\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"], \"kwargs\": {\"sqared\": true}}}]");
    run_result *r = cli("run '%s' --report '%s'", fx, tmp("m.json"));
    cr_assert_eq(r->status, 1);
    cr_assert(strstr(r->out, "Linear has no parameter \"wieght\"; its parameters: weight"), "%s", r->out);
    cr_assert(strstr(r->out, "unknown module type \"Doubling\"") && strstr(r->out, "needs --plugin PATH"), "%s",
              r->out);
    cr_assert(strstr(r->out, "unexpected keyword argument \"sqared\" (its arguments: irreps_in, squared)"), "%s",
              r->out);
}

Test(messages, types_name_lists_arguments_and_parameter_shapes)
{
    run_result *r = cli("types FullyConnectedNet --args '[[3, 4, 2], \"silu\"]'");
    cr_assert_eq(r->status, 0, "%s", r->err);
    cr_assert(strstr(r->out, "FullyConnectedNet(hs, act, variance_in, variance_out, out_act)\n"), "%s", r->out);
    cr_assert(strstr(r->out, "  layer0.weight [3, 4]\n  layer1.weight [4, 2]\n"), "%s", r->out);
    r = cli("types Linear");
    cr_assert_eq(r->status, 0);
    cr_assert(strstr(r->out, "Linear(irreps_in, irreps_out, *, "), "%s", r->out);
    cr_assert(strstr(r->out, "give its arguments to list them"), "%s", r->out);
    r = cli("types Linear --args '[\"2x0e + 1x1o\", \"3x0e + 1x1o\"]'");
    cr_assert(strstr(r->out, "  weight [7]\n"), "2*3 + 1*1 paths: %s", r->out);
    r = cli("types Norm --args '[\"1o\"]'");
    cr_assert(strstr(r->out, "parameters (state-dict name, shape, in e3nn's order): none"), "%s", r->out);
    r = cli("types Nope");
    cr_assert_eq(r->status, 1);
    assert_one_line_error(r, "--plugin PATH");
    r = cli("types Norm --args '{'");
    cr_assert_eq(r->status, 4);
    r = cli("types --plugin '%s' Doubling", E3C_TEST_PLUGIN);
    cr_assert_eq(r->status, 0);
    cr_assert(strstr(r->out, "Doubling(...): Doubling does not declare its arguments"), "%s", r->out);
    cr_assert(strstr(r->out, "parameters (state-dict name, shape, in e3nn's order): none"), "%s", r->out);
}

/* ------------------------------------------------------------------ hostile input ---- */

static const char quick[] = "{\"name\": \"quick\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}}";

/* 1 when file `path` holds exactly `text`. */
static int holds(const char *path, const char *text)
{
    static char buf[1 << 16];
    return !strcmp(slurp(path, buf, sizeof buf), text);
}

Test(hostile, no_output_is_written_over_the_fixture_or_model_it_reads)
{
    const char *dir = tmp("inputs");
    mkdir(dir, 0777);
    char fx[1024], pt[1024];
    snprintf(fx, sizeof fx, "%s/quick.json", dir);
    snprintf(pt, sizeof pt, "%s/quick.pt", dir);
    write_file(fx, quick);
    run_result *r = cli("run '%s' --report '%s'", fx, fx);
    cr_assert_eq(r->status, 4, "%s\n%s", r->out, r->err);
    assert_one_line_error(r, "is the fixture file");
    r = cli("run '%s' --no-report --junit '%s/./quick.json'", dir, dir); /* found in a folder, spelt otherwise */
    cr_assert_eq(r->status, 4, "%s\n%s", r->out, r->err);
    assert_one_line_error(r, "--junit");
    r = cli("compile '%s' -o '%s'", fx, fx);
    cr_assert_eq(r->status, 4, "%s\n%s", r->out, r->err);
    assert_one_line_error(r, "-o");
    cr_assert(holds(fx, quick), "the fixture file was overwritten");
    r = cli("compile '%s' -o '%s'", fx, pt);
    cr_assert_eq(r->status, 0, "%s", r->err);
    static char model[1 << 16];
    size_t model_len = strlen(slurp(pt, model, sizeof model)); /* up to the archive's first NUL byte */
    r = cli("model '%s' --irreps-in 1o --irreps-out 0e --no-report --markdown '%s'", pt, pt);
    cr_assert_eq(r->status, 4, "%s\n%s", r->out, r->err);
    assert_one_line_error(r, "is the model file");
    static char after[1 << 16];
    cr_assert(model_len > 0 && !memcmp(slurp(pt, after, sizeof after), model, model_len), "the model was overwritten");
    /* --list writes no report: nothing to refuse */
    r = cli("run '%s' --list --report '%s'", fx, fx);
    cr_assert_eq(r->status, 0, "%s", r->err);
}

Test(hostile, merge_refuses_one_file_for_two_reports)
{
    const char *fx = tmp("m_quick.json");
    write_file(fx, quick);
    run_result *r = cli("run '%s' --report '%s'", fx, tmp("shard.json"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    r = cli("merge '%s' --report '%s' --junit '%s'", tmp("shard.json"), tmp("merged.json"), tmp("merged.json"));
    cr_assert_eq(r->status, 4, "%s\n%s", r->out, r->err);
    assert_one_line_error(r, "--report and --junit name the same file");
    cr_assert_neq(access(tmp("merged.json"), F_OK), 0, "a report was written");
}

Test(hostile, a_file_named_twice_runs_once)
{
    const char *dir = make_suite(tmp("twice"), 2, "", 0);
    char a[1024];
    snprintf(a, sizeof a, "%s/a.json", dir);
    /* the same file twice, spelt otherwise, and inside a folder also given */
    run_result *r = cli("run '%s' '%s/../twice/a.json' '%s' --check equivariance --list", a, dir, dir);
    cr_assert_eq(r->status, 0, "%s\n%s", r->out, r->err);
    cr_assert_eq(count_in(r->out, " equivariance\n"), 2, "each fixture once: %s", r->out);
    r = cli("run '%s' '%s' --check equivariance --no-report", a, a);
    cr_assert_eq(r->status, 0, "%s\n%s", r->out, r->err);
    cr_assert(strstr(r->out, "1 check, 1 as expected"), "%s", r->out);
}

Test(hostile, a_shard_without_its_durations_report_stops)
{
    const char *dir = make_suite(tmp("dur"), 2, "", 0);
    run_result *r = cli("run '%s' --shard 1/2 --durations '%s' --list", dir, tmp("no-such.json"));
    cr_assert_eq(r->status, 1, "%s\n%s", r->out, r->err);
    assert_one_line_error(r, "--durations: cannot open");
    write_file(tmp("junk.json"), "{\"results\": ");
    r = cli("run '%s' --shard 2/2 --durations '%s' --list", dir, tmp("junk.json"));
    cr_assert_eq(r->status, 1, "%s\n%s", r->out, r->err);
    assert_one_line_error(r, "not valid JSON");
}

Test(hostile, every_path_of_the_config_file_runs_however_many)
{
    const char *dir = tmp("many");
    mkdir(dir, 0777);
    enum { N = 300 };
    static char text[N * 32];
    strcpy(text, "{\"paths\": [");
    for (int i = 0; i < N; i++) {
        char path[1024], fx[256];
        snprintf(path, sizeof path, "%s/f%03d.json", dir, i);
        snprintf(fx, sizeof fx, "{\"name\": \"f%03d\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}}", i);
        write_file(path, fx);
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s\"f%03d.json\"", i ? ", " : "", i);
    }
    strcat(text, "]}");
    char config[1024];
    snprintf(config, sizeof config, "%s/e3check.json", dir);
    write_file(config, text);
    run_result *r = run_in(dir, E3C_CLI_PATH, "run --list --check equivariance");
    cr_assert_eq(r->status, 0, "%s", r->err);
    int listed_n = count_in(r->out, " equivariance\n");
    cr_assert_eq(listed_n, N, "%d listed: %.300s", listed_n, r->out);
}

/* A name used again is an ERRORED entry naming the file of its first use, however many
 * files and fixtures come between (the names are sorted once, not compared pairwise). */
Test(hostile, a_fixture_name_used_again_names_its_first_file)
{
    const char *dir = tmp("names");
    mkdir(dir, 0777);
    char a[1024], b[1024], c[1024];
    snprintf(a, sizeof a, "%s/a.json", dir);
    snprintf(b, sizeof b, "%s/b.json", dir);
    snprintf(c, sizeof c, "%s/c.json", dir);
    write_file(a, "[{\"name\": \"zeta\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}},"
                  " {\"name\": \"quick\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}}]");
    write_file(b, quick);
    write_file(c, "[{\"name\": \"alpha\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}},"
                  " {\"name\": \"quick\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}},"
                  " {\"name\": \"zeta\", \"module\": {\"type\": \"Norm\", \"args\": [\"1o\"]}}]");
    run_result *r = run_in(dir, E3C_CLI_PATH, "run --list a.json b.json c.json");
    cr_assert_eq(r->status, 1, "%s\n%s", r->out, r->err);
    cr_assert(strstr(r->out, "a.json quick equivariance\n"), "the first use runs: %s", r->out);
    cr_assert(strstr(r->out, "c.json alpha equivariance\n"), "%s", r->out);
    cr_assert(strstr(r->out, "b.json: fixture \"quick\": fixture name \"quick\" is already used in a.json"), "%s",
              r->out);
    cr_assert(strstr(r->out, "c.json: fixture \"quick\": fixture name \"quick\" is already used in a.json"), "%s",
              r->out);
    cr_assert(strstr(r->out, "c.json: fixture \"zeta\": fixture name \"zeta\" is already used in a.json"), "%s",
              r->out);
}

Test(hostile, double_dash_ends_the_options)
{
    const char *dir = tmp("dash");
    mkdir(dir, 0777);
    char fx[1024];
    snprintf(fx, sizeof fx, "%s/-x.json", dir);
    write_file(fx, quick);
    run_result *r = run_in(dir, E3C_CLI_PATH, "run --list -- -x.json");
    cr_assert_eq(r->status, 0, "%s\n%s", r->out, r->err);
    cr_assert(strstr(r->out, "-x.json quick equivariance\n"), "%s", r->out);
    r = run_in(dir, E3C_CLI_PATH, "run --list -x.json");
    cr_assert_eq(r->status, 4, "without --, -x.json is an unknown option");
    /* after --, neither --help nor --config is read as an option, by any of the scans */
    write_file(tmp("dash/--help"), quick);
    r = run_in(dir, E3C_CLI_PATH, "run --list -- --help");
    cr_assert_eq(r->status, 0, "%s\n%s", r->out, r->err);
    cr_assert(strstr(r->out, "--help quick equivariance\n"), "%s", r->out);
    r = run_in(dir, E3C_CLI_PATH, "run --list -- --config -x.json");
    cr_assert_neq(r->status, 0, "--config after -- is a path, and there is no such file");
    cr_assert(strstr(r->out, "cannot open '--config'"), "the missing path is named: %s", r->out);
    cr_assert_null(strstr(r->err, "needs a file"), "%s", r->err);
}

Test(hostile, a_report_path_too_long_says_so_and_creates_no_folder)
{
    const char *fx = tmp("long_quick.json");
    write_file(fx, quick);
    char path[6000] = "";
    strcat(path, tmp("longname"));
    while (strlen(path) < 5000)
        strcat(path, "/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
    strcat(path, "/r.json");
    run_result *r = cli("run '%s' --check equivariance --report '%s'", fx, path);
    cr_assert_eq(r->status, 3, "%s\n%s", r->out, r->err);
    assert_one_line_error(r, "longer than the system's limit");
    cr_assert_neq(access(tmp("longname"), F_OK), 0, "folders were made for a report that cannot be written");
}

/* The exit status of the shell command (printf-style). */
static int shell_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int shell_status(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "%s did not exit normally", cmd);
    return WEXITSTATUS(st);
}

Test(hostile, closed_standard_streams_do_not_reach_the_checks)
{
    /* started with 0, 1 and 2 closed, a worker's pipe or file took fd 1 or 2: a check then
     * ended "without a result" */
    const char *fx = tmp("closed_quick.json");
    write_file(fx, quick);
    int st = shell_status("%s run '%s' --report '%s' <&- >&- 2>&-", E3C_CLI_PATH, fx, tmp("closed.json"));
    cr_assert_eq(st, 0);
    cJSON *results = load_results(tmp("closed.json"));
    cr_assert_eq(cJSON_GetArraySize(results), 2);
    const cJSON *e;
    cJSON_ArrayForEach(e, results)
        cr_assert_str_eq(cJSON_GetObjectItem(e, "status")->valuestring, "PASSED", "%s",
                         cJSON_GetObjectItem(e, "message")->valuestring);
    cJSON_Delete(results);
}

Test(hostile, what_cannot_be_printed_is_an_error_not_a_success)
{
    const char *fx = tmp("full_quick.json");
    write_file(fx, quick);
    const char *cmds[] = {"run '%s' --list", "irreps 1o"};
    for (size_t i = 0; i < 2; i++) {
        char args[2048];
        snprintf(args, sizeof args, cmds[i], fx);
        int st = shell_status("%s %s > /dev/full 2> '%s'", E3C_CLI_PATH, args, tmp("full.err"));
        cr_assert_eq(st, 3, "%s: status %d", args, st);
        run_result err = {.status = st};
        slurp(tmp("full.err"), err.err, sizeof err.err);
        assert_one_line_error(&err, "cannot write to the standard output: No space left on device");
    }
}

Test(hostile, merge_to_standard_output_writes_only_the_report_there)
{
    const char *fx = tmp("out_quick.json");
    write_file(fx, quick);
    run_result *r = cli("run '%s' --report '%s'", fx, tmp("one.json"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    r = cli("merge '%s' --report -", tmp("one.json"));
    cr_assert_eq(r->status, 0, "%s", r->err);
    cJSON *j = cJSON_Parse(r->out);
    cr_assert_not_null(j, "standard output is not only the report: %.300s", r->out);
    cJSON_Delete(j);
    cr_assert(strstr(r->err, "merged 1 report") && strstr(r->err, "on standard output"), "%s", r->err);
}
