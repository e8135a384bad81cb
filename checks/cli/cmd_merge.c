/* e3check merge: the reports of shards (`run --shard K/N`) as one report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "e3check/json.h"
#include "select.h"

#ifndef E3C_VERSION
#define E3C_VERSION "unknown"
#endif

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int parse_expected(const char *word, e3c_verdict *out)
{
    static const char *const words[] = {"pass", "fail", "error", "skip"};
    for (int v = 0; v < 4; v++)
        if (word && !strcmp(word, words[v])) {
            *out = (e3c_verdict)v;
            return 1;
        }
    return 0;
}

/* The index of the entry of `fixture`/`check` in r, or r->count. */
static size_t find_entry(const e3c_report *r, const char *fixture, const char *check)
{
    size_t i = 0;
    while (i < r->count && (strcmp(r->entries[i].fixture, fixture) || strcmp(r->entries[i].check, check)))
        i++;
    return i;
}

/* Add the results of one report (parsed) to `out`; `from[i]` names the input of entry i.
 * Returns 0 or prints a one-line error and returns 1. */
static int add_results(e3c_report *out, const char **from, const char *path, const cJSON *doc)
{
    const cJSON *e, *results = cJSON_GetObjectItemCaseSensitive(doc, "results");
    cJSON_ArrayForEach(e, results) {
        const char *fixture = str_of(e, "fixture"), *file = str_of(e, "file"), *check = str_of(e, "check");
        e3c_verdict expected;
        e3c_check_result r;
        if (!fixture || !file || !check || !parse_expected(str_of(e, "expected"), &expected) ||
            e3c_check_result_from_json(&r, e)) {
            cli_error("merge: '%s': result %d is not a complete e3check result", path, (int)out->count);
            return 1;
        }
        size_t dup = find_entry(out, fixture, check);
        if (dup < out->count) {
            e3c_check_result_free(&r);
            cli_error("merge: fixture \"%s\" check %s is in both '%s' and '%s' (overlapping shards, or a report "
                      "given twice)",
                      fixture, check, from[dup], path);
            return 1;
        }
        from[out->count] = path;
        if (e3c_report_add(out, fixture, file, check, expected, &r)) {
            cli_error("merge: %s", e3c_error_last());
            return 1;
        }
    }
    return 0;
}

/* Check one input and fold its environment into `out`. Returns 0 or 1 (error printed). */
static int add_environment(e3c_report *out, const char *path, const cJSON *doc, int first)
{
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(doc, "environment");
    const cJSON *sum = cJSON_GetObjectItemCaseSensitive(doc, "summary");
    const char *version = str_of(env, "e3check_version"), *start = str_of(env, "start_time");
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "results")) || !version || !start) {
        cli_error("merge: '%s' is not an e3check report (no environment or results)", path);
        return 1;
    }
    if (strcmp(version, E3C_VERSION) != 0) {
        cli_error("merge: '%s' was written by e3check %s, this is e3check %s: merge reports of one version", path,
                  version, E3C_VERSION);
        return 1;
    }
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(env, "seed");
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(sum, "duration_s");
    if (first) {
        out->has_seed = cJSON_IsNumber(seed);
        out->seed = out->has_seed ? (uint64_t)seed->valuedouble : 0;
    }
    /* the shards ran side by side: the earliest start and the longest run */
    if (first || strcmp(start, out->start_time) < 0)
        snprintf(out->start_time, sizeof out->start_time, "%s", start);
    if (cJSON_IsNumber(dur) && dur->valuedouble > out->duration_s)
        out->duration_s = dur->valuedouble;
    out->interrupted |= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(env, "interrupted"));
    return 0;
}

static int merge_files(e3c_report *out, const char **inputs, int n)
{
    const char **from = NULL;
    size_t cap = 0;
    int bad = 0;
    for (int i = 0; i < n && !bad; i++) {
        cJSON *doc = NULL;
        if (e3c_json_read_file(&doc, inputs[i])) {
            cli_error("merge: %s", e3c_error_last());
            bad = 1;
            break;
        }
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "results");
        size_t need = out->count + (size_t)cJSON_GetArraySize(res) + 1;
        if (need > cap) {
            const char **grown = realloc(from, need * sizeof *grown);
            if (!grown) {
                cli_error("merge: out of memory");
                bad = 1;
            } else
                from = grown, cap = need;
        }
        bad = bad || add_environment(out, inputs[i], doc, i == 0) || add_results(out, from, inputs[i], doc);
        cJSON_Delete(doc);
    }
    free(from);
    return bad;
}

static int merge_run(int argc, char **argv)
{
    const char *inputs[256], *report = NULL, *junit = NULL, *markdown = NULL;
    int n = 0;
    cli_controls ctl;
    ctl_init(&ctl);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_next = i + 1 < argc, bad = 0;
        if (!strcmp(a, "--report") && has_next)
            report = argv[++i];
        else if (!strcmp(a, "--junit") && has_next)
            junit = argv[++i];
        else if (!strcmp(a, "--markdown") && has_next)
            markdown = argv[++i];
        else if (!strcmp(a, "--color") && ctl_option(&ctl, argc, argv, &i, &bad)) {
            if (bad)
                return EXIT_USAGE;
        } else if (a[0] == '-') {
            cli_error("merge: unknown or incomplete option '%s' (see 'e3check merge --help')", a);
            return EXIT_USAGE;
        } else if (n == 256) {
            cli_error("merge: more than 256 reports ('%s' and on): merge them in groups", a);
            return EXIT_USAGE;
        } else
            inputs[n++] = a;
    }
    if (!n || !report) {
        cli_error("merge: need the shards' reports and --report OUT.json (see 'e3check merge --help')");
        return EXIT_USAGE;
    }
    const cli_output outs[3] = {{"--report", report}, {"--junit", junit}, {"--markdown", markdown}};
    if (cli_outputs_collide(outs, 3))
        return EXIT_USAGE;
    e3c_report merged;
    memset(&merged, 0, sizeof merged);
    if (merge_files(&merged, inputs, n)) {
        e3c_report_free(&merged);
        return EXIT_NOT_EXPECTED;
    }
    int write_failed = cli_write_reports(&merged, report, junit, markdown);
    e3c_report_summary s = e3c_report_summarize(&merged);
    /* a report on standard output ("-") keeps it for the report alone, as in `run` */
    int to_stdout = !strcmp(report, "-") || (junit && !strcmp(junit, "-")) || (markdown && !strcmp(markdown, "-"));
    FILE *lines = to_stdout ? stderr : stdout;
    ctl_print_not_expected(lines, &ctl, &merged, 1);
    fprintf(lines,
            "e3check: merged %d report%s: %d check%s, %d as expected, %d not (passed %d, failed %d, errored %d, "
            "skipped %d); report %s\n",
            n, n == 1 ? "" : "s", s.total, s.total == 1 ? "" : "s", s.as_expected, s.not_as_expected, s.passed,
            s.failed, s.errored, s.skipped, to_stdout && !strcmp(report, "-") ? "on standard output" : report);
    int rc = cli_exit_status(&s, merged.interrupted, write_failed); /* what `run` would have given */
    e3c_report_free(&merged);
    return rc;
}

static void merge_help(FILE *out)
{
    fputs("usage: e3check merge REPORT.json... --report OUT.json [--junit OUT.xml] [--markdown OUT.md]\n\n"
          "Merge the JSON reports of the shards of one suite ('e3check run --shard K/N') into\n"
          "one report, in the order given, and write it as 'run' would (JSON, JUnit, Markdown,\n"
          "$GITHUB_STEP_SUMMARY). Refuses a fixture's check found in two reports and reports of\n"
          "another e3check version. The duration is the longest shard's, the start the earliest.\n\n"
          "options:\n"
          "  --color auto|always|never  colour of the list of what was not as expected\n\n"
          "exit status: what 'run' would have given for the whole suite: 0 every check as\n"
          "expected, 1 some not (or a bad report), 2 a shard was interrupted, 3 internal error,\n"
          "4 usage error, 5 no check in any report.\n",
          out);
}

const cli_command cmd_merge = {"merge", "merge the reports of shards into one report", merge_run, merge_help};
