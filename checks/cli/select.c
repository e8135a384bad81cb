/* The run controls: selection of fixtures and checks, shards, stopping, terminal output. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "e3check/file.h"
#include "e3check/json.h"
#include "select.h"

void ctl_init(cli_controls *c)
{
    memset(c, 0, sizeof *c);
    c->color = -1;
}

static int parse_count(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

static int push_pattern(const char **list, int *n, const char *p, const char *opt)
{
    if (*n == CTL_MAX_PATTERNS) {
        cli_error("%s: given more than %d times", opt, CTL_MAX_PATTERNS);
        return 0;
    }
    list[(*n)++] = p;
    return 1;
}

static int parse_check(cli_controls *c, const char *name)
{
    for (int k = 0; k < E3C_CHECK_KIND_COUNT; k++)
        if (k != E3C_CHECK_NORMALIZED && !strcmp(name, e3c_check_kind_name((e3c_check_kind)k))) {
            c->checks |= 1u << k;
            return 1;
        }
    cli_error("--check: unknown check '%s' (auto_jitable, equivariance, golden, permutation, translation, "
              "conservative, batching, additivity, periodic_images or smoothness)",
              name);
    return 0;
}

static int parse_shard(cli_controls *c, const char *s)
{
    long k = 0, n = 0;
    char head[32];
    const char *slash = strchr(s, '/');
    if (slash && (size_t)(slash - s) < sizeof head) {
        memcpy(head, s, (size_t)(slash - s));
        head[slash - s] = '\0';
        if (parse_count(head, 1, 100000, &k) && parse_count(slash + 1, 1, 100000, &n) && k <= n) {
            c->shard_k = (int)k, c->shard_n = (int)n;
            return 1;
        }
    }
    cli_error("--shard: '%s' is not K/N with 1 <= K <= N (e.g. 2/3)", s);
    return 0;
}

static int parse_color(cli_controls *c, const char *s)
{
    c->color = !strcmp(s, "always") ? 1 : !strcmp(s, "never") ? 0 : !strcmp(s, "auto") ? -1 : -2;
    if (c->color == -2)
        cli_error("--color: '%s' is not auto, always or never", s);
    return c->color != -2;
}

/* Option `a`'s value `v` as a whole number from 1 to hi into *slot; 0 after saying the range. */
static int count_option(const char *a, const char *v, long hi, int *slot)
{
    long n;
    if (!parse_count(v, 1, hi, &n)) {
        cli_error("%s: '%.40s' is not a whole number from 1 to %ld", a, v, hi);
        return 0;
    }
    *slot = (int)n;
    return 1;
}

/* The options with a value; each returns 0 after printing the error for a bad value. */
static int value_option(cli_controls *c, const char *a, const char *v)
{
    if (!strcmp(a, "--filter"))
        return push_pattern(c->filters, &c->n_filters, v, a);
    if (!strcmp(a, "--exclude"))
        return push_pattern(c->excludes, &c->n_excludes, v, a);
    if (!strcmp(a, "--name"))
        return push_pattern(c->names, &c->n_names, v, a);
    if (!strcmp(a, "--check"))
        return parse_check(c, v);
    if (!strcmp(a, "--shard"))
        return parse_shard(c, v);
    if (!strcmp(a, "--color"))
        return parse_color(c, v);
    if (!strcmp(a, "--durations"))
        return c->durations = v, 1;
    if (!strcmp(a, "--last-failed"))
        return c->last_failed = v, 1;
    if (!strcmp(a, "--maxfail"))
        return count_option(a, v, 1000000000L, &c->maxfail);
    if (!strcmp(a, "--threads"))
        return count_option(a, v, 1024, &c->threads);
    if (!strcmp(a, "--ntrials"))
        return count_option(a, v, 1000000, &c->ntrials);
    if (!strcmp(a, "--tolerance")) {
        char *end = NULL;
        double t = strtod(v, &end);
        if (*v && !*end && t > 0 && t < 1e300)
            return c->tolerance = t, 1;
        cli_error("--tolerance: '%s' is not a positive number", v);
        return 0;
    }
    cli_error("%s: not an option with a value", a); /* with_value lists only the options above */
    return 0;
}

int ctl_option(cli_controls *c, int argc, char **argv, int *i, int *usage_error)
{
    static const char *const with_value[] = {"--filter",  "--exclude", "--name",      "--check",
                                             "--shard",   "--color",   "--durations", "--last-failed",
                                             "--maxfail", "--threads", "--ntrials",   "--tolerance"};
    const char *a = argv[*i];
    int model = !strcmp(argv[0], "model");
    if (!model && (!strcmp(a, "--ntrials") || !strcmp(a, "--tolerance") || !strcmp(a, "--no-parity")))
        return 0; /* a fixture's "checks" sets them for run */
    if (!strcmp(a, "--no-parity"))
        return c->no_parity = 1, 1;
    if (!strcmp(a, "-x") || !strcmp(a, "--exitfirst"))
        return c->maxfail = 1, 1;
    if (!strcmp(a, "--list"))
        return c->list = 1, 1;
    for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++) {
        if (strcmp(a, with_value[k]) != 0)
            continue;
        if (*i + 1 >= argc) {
            cli_error("%s needs a value (see 'e3check %s --help')", a, argv[0]);
            *usage_error = 1;
        } else if (!value_option(c, a, argv[++*i]))
            *usage_error = 1;
        return 1;
    }
    return 0;
}

int ctl_model_checks(const cli_controls *c, cJSON *fx)
{
    if (!c->ntrials && !c->tolerance && !c->no_parity)
        return 0;
    cJSON *checks = cJSON_AddObjectToObject(fx, "checks");
    cJSON *eq = checks && cJSON_AddTrueToObject(checks, "auto_jitable")
                    ? cJSON_AddObjectToObject(checks, "equivariance")
                    : NULL;
    int ok = eq != NULL;
    if (ok && c->ntrials)
        ok = cJSON_AddNumberToObject(eq, "ntrials", c->ntrials) != NULL;
    if (ok && c->tolerance)
        ok = cJSON_AddNumberToObject(eq, "tolerance", c->tolerance) != NULL;
    if (ok && c->no_parity)
        ok = cJSON_AddFalseToObject(eq, "do_parity") != NULL;
    if (!ok)
        cli_error("model: out of memory");
    return !ok;
}

void ctl_note_plugin(cli_controls *c, const char *path)
{
    if (c->n_plugins < CTL_MAX_PLUGINS)
        c->plugins[c->n_plugins++] = path;
}

/* ------------------------------------------------------------------ reports read back ---- */

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The "results" array of a report file, or NULL after printing why. `doc` is owned. */
static const cJSON *read_results(const char *opt, const char *path, cJSON **doc)
{
    if (e3c_json_read_file(doc, path)) {
        cli_error("%s: %s", opt, e3c_error_last());
        return NULL;
    }
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(*doc, "results");
    if (!cJSON_IsArray(res)) {
        cli_error("%s: '%s' is not an e3check report (no \"results\" array)", opt, path);
        return NULL;
    }
    return res;
}

static int load_last_failed(cli_controls *c)
{
    cJSON *doc = NULL;
    const cJSON *res = read_results("--last-failed", c->last_failed, &doc), *e;
    c->failed = res ? cJSON_CreateArray() : NULL;
    if (c->failed)
        cJSON_ArrayForEach(e, res) {
            const cJSON *ok = cJSON_GetObjectItemCaseSensitive(e, "as_expected");
            const char *fx = str_of(e, "fixture"), *check = str_of(e, "check");
            if (cJSON_IsFalse(ok) && fx && check) {
                const char *pair[2] = {fx, check};
                cJSON_AddItemToArray(c->failed, cJSON_CreateStringArray(pair, 2));
            }
        }
    cJSON_Delete(doc);
    if (!res)
        return 1;
    if (cJSON_GetArraySize(c->failed) == 0) {
        /* as pytest does: nothing failed last time, so everything runs */
        fprintf(stderr, "e3check: --last-failed: nothing was not as expected in '%s'; running everything\n",
                c->last_failed);
        cJSON_Delete(c->failed);
        c->failed = NULL;
    }
    return 0;
}

/* Per fixture name, the sum of its checks' durations in the --durations report. */
static cJSON *load_durations(const char *path)
{
    cJSON *doc = NULL;
    const cJSON *res = read_results("--durations", path, &doc), *e;
    cJSON *by_name = res ? cJSON_CreateObject() : NULL;
    if (by_name)
        cJSON_ArrayForEach(e, res) {
            const char *fx = str_of(e, "fixture");
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "duration_s");
            if (!fx || !cJSON_IsNumber(d))
                continue;
            cJSON *have = cJSON_GetObjectItemCaseSensitive(by_name, fx);
            if (have)
                cJSON_SetNumberValue(have, have->valuedouble + d->valuedouble);
            else
                cJSON_AddNumberToObject(by_name, fx, d->valuedouble);
        }
    cJSON_Delete(doc);
    return by_name;
}

int ctl_load(cli_controls *c)
{
    if (c->last_failed && load_last_failed(c))
        return 1;
    if (c->durations && !c->shard_n)
        fprintf(stderr, "e3check: --durations is only used with --shard\n");
    if (c->durations && c->shard_n && !(c->durations_by_name = load_durations(c->durations)))
        return 1;
    return 0;
}

/* ------------------------------------------------------------------ selection ---- */

/* --filter's rule: a glob matching the whole name, or a substring. */
static int matches(const char *pattern, const char *name)
{
    return fnmatch(pattern, name, 0) == 0 || strstr(name, pattern) != NULL;
}

static int any_match(const char *const *patterns, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (matches(patterns[i], name))
            return 1;
    return 0;
}

static int failed_before(const cli_controls *c, const char *name, const char *check)
{
    const cJSON *pair;
    cJSON_ArrayForEach(pair, c->failed) {
        const char *fx = cJSON_GetArrayItem(pair, 0)->valuestring, *ck = cJSON_GetArrayItem(pair, 1)->valuestring;
        if (!strcmp(fx, name) && (!check || !strcmp(ck, check) || !strcmp(ck, "fixture")))
            return 1;
    }
    return 0;
}

static int selected(const cli_controls *c, const char *name)
{
    if (c->n_filters && !any_match(c->filters, c->n_filters, name))
        return 0;
    if (any_match(c->excludes, c->n_excludes, name))
        return 0;
    int exact = !c->n_names;
    for (int i = 0; i < c->n_names && !exact; i++)
        exact = !strcmp(c->names[i], name);
    return exact && (!c->failed || failed_before(c, name, NULL));
}

typedef struct weighted {
    size_t index;
    double weight;
} weighted;

static int heavier_first(const void *a, const void *b)
{
    const weighted *x = a, *y = b;
    if (x->weight != y->weight)
        return x->weight > y->weight ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Split the selected fixtures into shards: heaviest first, each to the lightest shard
 * (the lowest-numbered on ties), so the split depends only on names and weights. A
 * fixture missing from the durations report weighs the mean of the known ones. */
static int shard(const cli_controls *c, const char *const *names, size_t n, unsigned char *keep)
{
    const cJSON *known = c->durations_by_name;
    weighted *w = calloc(n + 1, sizeof *w);
    double *load = calloc((size_t)c->shard_n, sizeof *load);
    if (!w || !load) {
        free(w), free(load);
        return 1;
    }
    size_t m = 0, n_known = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        const cJSON *d = known ? cJSON_GetObjectItemCaseSensitive(known, names[i]) : NULL;
        if (keep[i] && d)
            sum += d->valuedouble, n_known++;
    }
    double fallback = n_known ? sum / (double)n_known : 1.0;
    for (size_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        const cJSON *d = known ? cJSON_GetObjectItemCaseSensitive(known, names[i]) : NULL;
        w[m++] = (weighted){i, d ? d->valuedouble : fallback};
    }
    if (known)
        qsort(w, m, sizeof *w, heavier_first);
    for (size_t j = 0; j < m; j++) {
        int best = 0;
        for (int s = 1; s < c->shard_n; s++)
            if (load[s] < load[best])
                best = s;
        load[best] += w[j].weight;
        keep[w[j].index] = best + 1 == c->shard_k;
    }
    free(w);
    free(load);
    return 0;
}

int ctl_select(const cli_controls *c, const char *const *names, size_t n, unsigned char *keep)
{
    for (size_t i = 0; i < n; i++)
        keep[i] = (unsigned char)selected(c, names[i]);
    return c->shard_n ? shard(c, names, n, keep) : 0;
}

int ctl_keeps_check(const cli_controls *c, const char *name, e3c_check_kind kind)
{
    if (c->checks && !(c->checks & (1u << kind)))
        return 0;
    return !c->failed || failed_before(c, name, e3c_check_kind_name(kind));
}

/* ------------------------------------------------------------------ terminal ---- */

int ctl_use_color(const cli_controls *c)
{
    if (c->color >= 0)
        return c->color;
    const char *nc = getenv("NO_COLOR");
    return isatty(STDOUT_FILENO) && !(nc && *nc);
}

void ctl_clear_progress(void)
{
    if (isatty(STDERR_FILENO)) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

/* Print `s` quoted for a POSIX shell when it needs it. */
static void put_shell_word(FILE *out, const char *s)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == strlen(s)) {
        fputs(s, out);
        return;
    }
    fputc('\'', out);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", out);
        else
            fputc(*s, out);
    fputc('\'', out);
}

void ctl_print_not_expected(FILE *out, const cli_controls *c, const e3c_report *r, int reproducible)
{
    e3c_report_summary s = e3c_report_summarize(r);
    if (!s.not_as_expected)
        return;
    int color = ctl_use_color(c);
    fprintf(out, "\n%snot as expected (%d):%s\n", color ? "\033[31m" : "", s.not_as_expected, color ? "\033[0m" : "");
    for (size_t i = 0; i < r->count; i++) {
        const e3c_report_entry *e = &r->entries[i];
        if (e3c_report_entry_as_expected(e))
            continue;
        fprintf(out, "  %s %s %s", e->fixture, e->check, e3c_verdict_name(e->result.status));
        if (!reproducible || !*e->file) {
            fputc('\n', out);
            continue;
        }
        fputs(": e3check run ", out);
        put_shell_word(out, e->file);
        for (int p = 0; p < c->n_plugins; p++) {
            fputs(" --plugin ", out);
            put_shell_word(out, c->plugins[p]);
        }
        fputs(" --name ", out);
        put_shell_word(out, e->fixture);
        if (strcmp(e->check, "fixture") != 0)
            fprintf(out, " --check %s --seed %llu", e->check, (unsigned long long)e->result.seed);
        fputc('\n', out);
    }
}

int cli_write_reports(const e3c_report *r, const char *json, const char *junit, const char *markdown)
{
    int rc = 0;
    if (json && e3c_report_write_json(r, json)) {
        cli_error("%s", e3c_error_last());
        rc = 1;
    }
    if (junit && e3c_report_write_junit(r, junit)) {
        cli_error("%s", e3c_error_last());
        rc = 1;
    }
    if (markdown && e3c_report_write_markdown(r, markdown, 0)) {
        cli_error("%s", e3c_error_last());
        rc = 1;
    }
    const char *gh = getenv("GITHUB_STEP_SUMMARY");
    if (gh && *gh && e3c_report_write_markdown(r, gh, 1)) {
        cli_error("%s", e3c_error_last());
        rc = 1;
    }
    return rc;
}

int cli_outputs_collide(const cli_output *outs, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (outs[i].path && outs[j].path && e3c_file_same(outs[i].path, outs[j].path)) {
                cli_error("%s and %s name the same file '%s': give each report its own", outs[i].option, outs[j].option,
                          outs[j].path);
                return 1;
            }
    return 0;
}

int cli_output_replaces(const cli_output *outs, int n, const char *input, const char *what)
{
    for (int i = 0; i < n; i++)
        if (outs[i].path && e3c_file_same(outs[i].path, input)) {
            cli_error("%s '%s' is %s '%s': writing it would destroy it; give the output its own file", outs[i].option,
                      outs[i].path, what, input);
            return 1;
        }
    return 0;
}

int cli_exit_status(const e3c_report_summary *s, int interrupted, int write_failed)
{
    if (interrupted)
        return EXIT_INTERRUPTED;
    if (write_failed)
        return EXIT_INTERNAL;
    if (s->total == 0)
        return EXIT_NOTHING_RUN;
    return s->not_as_expected ? EXIT_NOT_EXPECTED : EXIT_AS_EXPECTED;
}

void ctl_free(cli_controls *c)
{
    cJSON_Delete(c->failed);
    c->failed = NULL;
    cJSON_Delete(c->durations_by_name);
    c->durations_by_name = NULL;
}
