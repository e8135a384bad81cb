/* e3check run / e3check model: run fixture checks in parallel isolated processes and
 * write the reports. */
#include <errno.h>
#include <fnmatch.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "discovery.h"
#include "e3check/fixture.h"
#include "e3check/nn.h"
#include "e3check/registry.h"
#include "e3check/report.h"
#include "e3check/structured.h"
#include "e3check/json.h"
#include "record.h"
#include "runner.h"
#include "select.h"

/* ------------------------------------------------------------------ options ---- */

typedef struct run_opts {
    const char *report, *junit, *markdown; /* report NULL: --no-report; "-": stdout */
    const char *preset;                    /* model --preset NAME|FILE.json */
    long atoms;                            /* model --atoms N (0: the preset's) */
    const char *structures;                /* model --structures periodic|cluster|both */
    const char *record;                    /* model --record OUT.json: write golden fixtures, run no checks */
    int jobs, quiet, verbose;
    e3c_run_settings rs;
    cli_controls ctl;          /* selection, shards, stopping, colour (select.c) */
    const unsigned char *keep; /* per collected fixture: selected (ctl_select) */
    int reproducible;          /* `run`: print reproduce commands */
} run_opts;

/* One fixture to run: its JSON (borrowed from the parsed file), file and folder, and once
 * valid, the fixture read from it (owned; the workers share the parent's). */
typedef struct item {
    const cJSON *fx;
    char *file, *dir;
    e3c_fixture *parsed;
} item;

static long online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n;
}

/* Where the result lines and the summary go: stdout, or stderr when a report is written
 * to stdout ("-"). */
static FILE *lines_out;

/* Option `name`'s value `s` as an integer in [lo, hi]; otherwise a usage error saying the
 * allowed range is printed and 0 returned. */
static int option_long(const char *cmd, const char *name, const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end) {
        cli_error("%s: %s needs an integer from %ld to %ld, not '%.40s'", cmd, name, lo, hi, s);
        return 0;
    }
    if (errno == ERANGE || v < lo || v > hi) {
        cli_error("%s: %s %.40s is out of range (allowed: %ld to %ld)", cmd, name, s, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

/* The files the command writes, with their options: --report, --junit, --markdown and
 * (model) --record. */
static void outputs_of(const run_opts *o, cli_output outs[4])
{
    outs[0] = (cli_output){"--report", o->report};
    outs[1] = (cli_output){"--junit", o->junit};
    outs[2] = (cli_output){"--markdown", o->markdown};
    outs[3] = (cli_output){"--record", o->record};
}

static const cli_controls *color_controls; /* the running command's --color */

static int use_color(void)
{
    if (color_controls)
        return ctl_use_color(color_controls);
    const char *nc = getenv("NO_COLOR");
    return isatty(fileno(lines_out ? lines_out : stdout)) && !(nc && *nc);
}

/* Parse the options shared by run and model; positional arguments go to `rest`. */
static int parse_common(int argc, char **argv, run_opts *o, const char **rest, int *n_rest, int allow_irreps,
                        const char **ins, int *n_ins, const char **outs, int *n_outs, const char **dtype)
{
    *n_rest = 0;
    int options_end = 0; /* after "--" every argument is a path, even one starting with '-' */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long v;
        int has_next = i + 1 < argc, bad = 0;
        if (options_end || !strcmp(a, "--")) {
            if (options_end)
                rest[(*n_rest)++] = a;
            options_end = 1;
        } else if (ctl_option(&o->ctl, argc, argv, &i, &bad)) {
            if (bad)
                return EXIT_USAGE;
        } else if (!strcmp(a, "--report") && has_next)
            o->report = argv[++i];
        else if (!strcmp(a, "--junit") && has_next)
            o->junit = argv[++i];
        else if (!strcmp(a, "--markdown") && has_next)
            o->markdown = argv[++i];
        else if (!strcmp(a, "--no-report"))
            o->report = NULL;
        else if (!strcmp(a, "--seed") && has_next) {
            if (!option_long(argv[0], a, argv[++i], 0, 2147483647L, &v))
                return EXIT_USAGE;
            o->rs.has_seed = 1, o->rs.seed = (uint64_t)v;
        } else if (!strcmp(a, "--jobs") && has_next) {
            if (!option_long(argv[0], a, argv[++i], 1, 256, &v))
                return EXIT_USAGE;
            o->jobs = (int)v;
        } else if (!strcmp(a, "--timeout") && has_next) {
            if (!option_long(argv[0], a, argv[++i], 1, 86400, &v))
                return EXIT_USAGE;
            o->rs.timeout_s = (double)v;
        } else if (!strcmp(a, "--plugin") && has_next) {
            ctl_note_plugin(&o->ctl, argv[i + 1]);
            if (e3c_registry_load_plugin(argv[++i])) {
                cli_error("%s", e3c_error_last());
                return EXIT_USAGE;
            }
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
            o->quiet = 1;
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
            o->verbose = 1;
        else if (allow_irreps && !strcmp(a, "--irreps-in") && has_next && *n_ins < 16)
            ins[(*n_ins)++] = argv[++i];
        else if (allow_irreps && !strcmp(a, "--irreps-out") && has_next && *n_outs < 16)
            outs[(*n_outs)++] = argv[++i];
        else if (allow_irreps && !strcmp(a, "--dtype") && has_next)
            *dtype = argv[++i];
        else if (allow_irreps && !strcmp(a, "--preset") && has_next)
            o->preset = argv[++i];
        else if (allow_irreps && !strcmp(a, "--atoms") && has_next) {
            if (!option_long(argv[0], a, argv[++i], 1, 100000, &v))
                return EXIT_USAGE;
            o->atoms = v;
        } else if (allow_irreps && !strcmp(a, "--record") && has_next)
            o->record = argv[++i];
        else if (allow_irreps && !strcmp(a, "--structures") && has_next &&
                 (!strcmp(argv[i + 1], "periodic") || !strcmp(argv[i + 1], "cluster") || !strcmp(argv[i + 1], "both")))
            o->structures = argv[++i];
        else if (allow_irreps && !strcmp(a, "--structures") && has_next) {
            cli_error("%s: --structures: '%.40s' is not periodic, cluster or both", argv[0], argv[i + 1]);
            return EXIT_USAGE;
        } else if (allow_irreps && (!strcmp(a, "--irreps-in") || !strcmp(a, "--irreps-out")) && has_next) {
            cli_error("%s: %s given more than 16 times", argv[0], a);
            return EXIT_USAGE;
        } else if (a[0] == '-' && a[1]) {
            cli_error("%s: unknown or incomplete option '%s' (see 'e3check %s --help')", argv[0], a, argv[0]);
            return EXIT_USAGE;
        } else
            rest[(*n_rest)++] = a;
    }
    cli_output written[4];
    outputs_of(o, written);
    if (cli_outputs_collide(written, 4))
        return EXIT_USAGE;
    int to_stdout = (o->report && !strcmp(o->report, "-")) || (o->junit && !strcmp(o->junit, "-")) ||
                    (o->markdown && !strcmp(o->markdown, "-"));
    lines_out = to_stdout ? stderr : stdout;
    return EXIT_AS_EXPECTED;
}

/* ------------------------------------------------------------------ collecting ---- */

typedef struct collection {
    item *items;
    size_t n, cap;
    cJSON **docs; /* parsed files, owned */
    size_t n_docs, cap_docs;
    struct stat *loaded; /* the files read so far (device and inode), each read once */
    size_t n_loaded, cap_loaded;
    e3c_report *report;   /* file-level errors go straight in */
    int drop_file_errors; /* --shard K/N with K > 1: unreadable files belong to shard 1 */
} collection;

static int push_item(collection *c, const cJSON *fx, const char *file)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        item *it = realloc(c->items, cap * sizeof *it);
        if (!it)
            return 0;
        c->items = it;
        c->cap = cap;
    }
    char *f = strdup(file), *d = strdup(file);
    if (!f || !d) {
        free(f), free(d);
        return 0;
    }
    char *dir = strdup(dirname(d));
    free(d);
    c->items[c->n++] = (item){fx, f, dir, NULL};
    return dir != NULL;
}

static int keep_doc(collection *c, cJSON *doc)
{
    if (c->n_docs == c->cap_docs) {
        size_t cap = c->cap_docs ? 2 * c->cap_docs : 64;
        cJSON **d = realloc(c->docs, cap * sizeof *d);
        if (!d)
            return 0;
        c->docs = d;
        c->cap_docs = cap;
    }
    c->docs[c->n_docs++] = doc;
    return 1;
}

/* An ERRORED "fixture" entry for `file`, named `fixture` (NULL: the file's base name). */
static void entry_error(collection *c, const char *file, const char *fixture, const char *message)
{
    if (c->drop_file_errors)
        return;
    e3c_check_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.message, sizeof r.message, "%s", message);
    r.status = E3C_ERRORED;
    r.details = cJSON_CreateObject();
    char *copy = strdup(file), *base = copy ? basename(copy) : (char *)file;
    ctl_clear_progress();
    fprintf(lines_out, "%s %-36s %-13s %-8s  %s\n", use_color() ? "\033[31mFAIL\033[0m" : "FAIL",
            fixture ? fixture : base, "fixture", "ERRORED", r.message);
    e3c_report_add(c->report, fixture ? fixture : base, file, "fixture", E3C_PASSED, &r);
    free(copy);
}

static void file_error(collection *c, const char *file, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void file_error(collection *c, const char *file, const char *fmt, ...)
{
    char message[sizeof((e3c_check_result *)0)->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    entry_error(c, file, NULL, message);
}

/* 1 when `path` is a file already read (given twice, by another spelling, or also inside a
 * folder given): as pytest, each file runs once. Otherwise it is noted and 0 returned. */
static int loaded_before(collection *c, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return 0; /* reading it will say why */
    for (size_t i = 0; i < c->n_loaded; i++)
        if (c->loaded[i].st_dev == sb.st_dev && c->loaded[i].st_ino == sb.st_ino)
            return 1;
    if (c->n_loaded == c->cap_loaded) {
        size_t cap = c->cap_loaded ? 2 * c->cap_loaded : 64;
        struct stat *grown = realloc(c->loaded, cap * sizeof *grown);
        if (!grown)
            return 0;
        c->loaded = grown, c->cap_loaded = cap;
    }
    c->loaded[c->n_loaded++] = sb;
    return 0;
}

static void load_file(collection *c, const char *path)
{
    if (loaded_before(c, path))
        return;
    cJSON *doc = NULL;
    if (e3c_json_read_file(&doc, path)) {
        file_error(c, path, "%s", e3c_error_last());
        return;
    }
    if (!keep_doc(c, doc)) {
        cJSON_Delete(doc);
        file_error(c, path, "out of memory");
        return;
    }
    if (cJSON_IsArray(doc)) {
        const cJSON *fx;
        cJSON_ArrayForEach(fx, doc)
            push_item(c, fx, path);
    } else {
        push_item(c, doc, path);
    }
}

/* Every fixture file under `path` (a file or a folder, recursively; see discovery.h);
 * what cannot be one becomes an ERRORED entry naming it. */
static void collect(collection *c, const char *path)
{
    found_files found = {NULL, 0, 0};
    e3c_status st = discover_fixtures(path, &found);
    for (size_t i = 0; i < found.n; i++)
        if (found.items[i].error)
            file_error(c, found.items[i].path, "%s", found.items[i].error);
        else
            load_file(c, found.items[i].path);
    if (st)
        file_error(c, path, "%s", e3c_error_last());
    found_files_free(&found);
}

/* ------------------------------------------------------------------ running ---- */

static const char *fixture_name(const cJSON *fx)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(fx, "name");
    return cJSON_IsString(n) ? n->valuestring : "(unnamed)";
}

static void print_line(const run_opts *o, const e3c_report_entry *e)
{
    int ok = e3c_report_entry_as_expected(e);
    if (o->quiet && ok)
        return;
    int color = use_color();
    ctl_clear_progress(); /* the progress line on the same terminal */
    const char *mark = ok ? (color ? "\033[32mok  \033[0m" : "ok  ") : (color ? "\033[31mFAIL\033[0m" : "FAIL");
    fprintf(lines_out, "%s %-36s %-13s %-8s", mark, e->fixture, e->check, e3c_verdict_name(e->result.status));
    if (!ok)
        fprintf(lines_out, " (expected %s)",
                e->expected == E3C_FAILED    ? "fail"
                : e->expected == E3C_ERRORED ? "error"
                                             : "pass");
    fprintf(lines_out, " %6.2fs", e->result.duration_s);
    if (!ok || o->verbose)
        fprintf(lines_out, "  %s", e->result.message);
    fprintf(lines_out, "\n");
    fflush(lines_out);
}

typedef struct named {
    const char *name;
    size_t index;
} named;

static int by_name_then_index(const void *a, const void *b)
{
    const named *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* For each item, the index of the first item of the collection with its name (itself when
 * none comes before it): sorted once, so that a suite of many thousand fixtures does not
 * compare every pair. Caller frees; NULL when out of memory. */
static size_t *first_with_name(const collection *c)
{
    named *order = malloc((c->n ? c->n : 1) * sizeof *order);
    size_t *first = malloc((c->n ? c->n : 1) * sizeof *first);
    if (!order || !first) {
        free(order), free(first);
        return NULL;
    }
    for (size_t i = 0; i < c->n; i++)
        order[i] = (named){fixture_name(c->items[i].fx), i};
    qsort(order, c->n, sizeof *order, by_name_then_index);
    for (size_t k = 0; k < c->n; k++)
        first[order[k].index] =
            k && !strcmp(order[k - 1].name, order[k].name) ? first[order[k - 1].index] : order[k].index;
    free(order);
    return first;
}

/* Make the tasks of every valid fixture; invalid ones become ERRORED entries. */
static cli_task *make_tasks(collection *c, const run_opts *o, size_t *n_tasks)
{
    cli_task *tasks = calloc(c->n * E3C_CHECK_KIND_COUNT + 1, sizeof *tasks);
    size_t *first = first_with_name(c);
    *n_tasks = 0;
    if (!tasks || !first) {
        free(tasks), free(first);
        return NULL;
    }
    c->drop_file_errors = 0;
    for (size_t i = 0; i < c->n; i++) {
        const item *it = &c->items[i];
        const char *name = fixture_name(it->fx);
        if (o->keep && !o->keep[i])
            continue;
        e3c_status st = e3c_fixture_parse(&c->items[i].parsed, it->fx, it->dir);
        if (!st && first[i] != i)
            st = e3c_error_set(E3C_ERR_VALUE, "fixture name \"%s\" is already used in %s", name,
                               c->items[first[i]].file);
        if (st) {
            char message[sizeof((e3c_check_result *)0)->message];
            snprintf(message, sizeof message, "%s: fixture \"%s\": %s", it->file, name, e3c_error_last());
            entry_error(c, it->file, name, message); /* the report makes the name valid UTF-8 */
            continue;
        }
        for (size_t k = 0; k < it->parsed->n_checks; k++) {
            e3c_check_kind kind = it->parsed->kinds[k];
            if (!ctl_keeps_check(&o->ctl, name, kind))
                continue;
            cli_task *t = &tasks[(*n_tasks)++];
            t->fixture = it->parsed;
            t->name = name;
            t->file = it->file;
            t->kind = kind;
            t->expected = it->parsed->check[kind].expected;
            t->rs = &o->rs;
        }
    }
    free(first);
    return tasks;
}

/* A finished task: its line now (the report takes the results in task order at the end, so
 * it does not depend on which process finished first). */
static void print_task(void *ctx, const cli_task *t)
{
    e3c_report_entry line = {(char *)t->name, (char *)t->file, (char *)e3c_check_kind_name(t->kind), t->expected,
                             t->result};
    print_line(ctx, &line);
}

static int write_reports(const e3c_report *report, const run_opts *o)
{
    return cli_write_reports(report, o->report, o->junit, o->markdown);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The shared pipeline: collect (already done into c), run, report, exit status. */
static int run_collection(collection *c, const run_opts *o)
{
    double start = wall_now();
    size_t n_tasks = 0;
    cli_task *tasks = make_tasks(c, o, &n_tasks);
    if (tasks && o->ctl.list) { /* --list: what would run, nothing run */
        for (size_t i = 0; i < n_tasks; i++)
            printf("%s %s %s\n", tasks[i].file, tasks[i].name, e3c_check_kind_name(tasks[i].kind));
        free(tasks);
        return c->report->count ? EXIT_NOT_EXPECTED : n_tasks ? EXIT_AS_EXPECTED : EXIT_NOTHING_RUN;
    }
    if (tasks && n_tasks && !cli_interrupted) {
        /* several workers share the cores: libtorch's threads per worker, set before they
         * fork (one worker keeps libtorch's default; setting it costs several ms) */
        long workers = o->jobs < (int)n_tasks ? o->jobs : (long)n_tasks, per_worker = online_cpus() / workers;
        if (o->ctl.threads)
            e3c_torch_set_num_threads(o->ctl.threads);
        else if (workers > 1)
            e3c_torch_set_num_threads(per_worker < 1 ? 1 : (int)per_worker);
        e3c_jit_warm_up(); /* once here rather than in every worker */
    }
    e3c_check_pool *pool = NULL;
    size_t not_expected = 0, maxfail = (size_t)o->ctl.maxfail;
    if (tasks && !cli_interrupted &&
        !cli_run_tasks(&pool, &not_expected, tasks, n_tasks, o->jobs, maxfail, print_task, (void *)o) && !pool &&
        !cli_interrupted) {
        size_t not_run = 0;
        for (size_t i = 0; i < n_tasks; i++)
            not_run += !tasks[i].finished;
        ctl_clear_progress();
        fprintf(lines_out, "e3check: stopped after %zu check%s not as expected (--maxfail %zu); %zu not run\n",
                not_expected, not_expected == 1 ? "" : "s", maxfail, not_run);
    }
    for (size_t i = 0; tasks && i < n_tasks; i++) {
        if (!tasks[i].finished && !cli_interrupted)
            continue;             /* -x/--maxfail stopped the run: the report holds what finished, as pytest's */
        if (!tasks[i].finished) { /* an interrupt: every report lists what did not run */
            memset(&tasks[i].result, 0, sizeof tasks[i].result);
            tasks[i].result.status = E3C_SKIPPED;
            snprintf(tasks[i].result.message, sizeof tasks[i].result.message, "%s", E3C_REPORT_NOT_RUN);
        }
        e3c_report_add(c->report, tasks[i].name, tasks[i].file, e3c_check_kind_name(tasks[i].kind), tasks[i].expected,
                       &tasks[i].result);
    }
    free(tasks);
    c->report->interrupted = cli_interrupted != 0;
    c->report->duration_s = wall_now() - start;
    e3c_report_summary s = e3c_report_summarize(c->report);
    int write_failed = write_reports(c->report, o);
    /* The workers were told to end when their last check was handed out and have mostly
     * exited by now: reaping them here costs well under a millisecond, and no process of
     * this run outlives it. */
    e3c_check_pool_free(pool);
    ctl_clear_progress();
    ctl_print_not_expected(lines_out, &o->ctl, c->report, o->reproducible);
    if (c->report->interrupted)
        fprintf(lines_out, "e3check: INTERRUPTED (%s): %zu check%s not run\n", strsignal(cli_interrupted),
                e3c_report_not_run(c->report), e3c_report_not_run(c->report) == 1 ? "" : "s");
    fprintf(lines_out,
            "e3check: %s%d check%s, %d as expected, %d not (passed %d, failed %d, errored %d, skipped %d) in "
            "%.2f s; "
            "report %s\n",
            c->report->interrupted ? "interrupted: " : "", s.total, s.total == 1 ? "" : "s", s.as_expected,
            s.not_as_expected, s.passed, s.failed, s.errored, s.skipped, c->report->duration_s,
            !o->report               ? "not written (--no-report)"
            : strcmp(o->report, "-") ? o->report
                                     : "on standard output");
    if (c->report->invalid_utf8)
        fprintf(lines_out, "e3check: note: some names or messages were not UTF-8; the reports show U+FFFD instead\n");
    return cli_exit_status(&s, c->report->interrupted, write_failed);
}

/* 1 (error printed) when a report would be written over a collected fixture file. */
static int outputs_replace_fixtures(const run_opts *o, const collection *c)
{
    cli_output outs[4];
    outputs_of(o, outs);
    for (size_t i = 0; i < c->n; i++) /* a file's fixtures are consecutive items */
        if ((i == 0 || strcmp(c->items[i].file, c->items[i - 1].file)) &&
            cli_output_replaces(outs, 4, c->items[i].file, "the fixture file"))
            return 1;
    return 0;
}

static void collection_free(collection *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->items[i].file), free(c->items[i].dir), e3c_fixture_free(c->items[i].parsed);
    free(c->items);
    for (size_t i = 0; i < c->n_docs; i++)
        cJSON_Delete(c->docs[i]);
    free(c->docs);
    free(c->loaded);
}

static void init_report(e3c_report *r, const run_opts *o)
{
    memset(r, 0, sizeof *r);
    r->has_seed = o->rs.has_seed;
    r->seed = o->rs.seed;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(r->start_time, sizeof r->start_time, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void defaults(run_opts *o)
{
    memset(o, 0, sizeof *o);
    lines_out = stdout;
    o->report = "reports/e3check-report.json";
    o->jobs = online_cpus() < 8 ? (int)online_cpus() : 8;
    o->rs.timeout_s = 120.0;
    ctl_init(&o->ctl);
    color_controls = &o->ctl;
}

/* Which collected fixtures run (select.c); NULL when out of memory. */
static unsigned char *select_items(const collection *c, const run_opts *o)
{
    const char **names = calloc(c->n + 1, sizeof *names);
    unsigned char *keep = calloc(c->n + 1, 1);
    for (size_t i = 0; names && i < c->n; i++)
        names[i] = fixture_name(c->items[i].fx);
    if (!names || !keep || ctl_select(&o->ctl, names, c->n, keep)) {
        free(keep);
        keep = NULL;
    }
    free(names);
    return keep;
}

/* `run` once the config file's options are in argv; its "paths" are the default. */
static int run_expanded(int argc, char **argv, char **config_paths, int n_config_paths)
{
    run_opts o;
    defaults(&o);
    o.reproducible = 1;
    /* the command line's paths, else the config file's, else fixtures/ */
    const char **paths = calloc((size_t)argc + (size_t)n_config_paths + 1, sizeof *paths);
    int n_paths = 0, dummy = 0;
    if (!paths) {
        cli_error("run: out of memory reading the options");
        return EXIT_INTERNAL;
    }
    int rc = parse_common(argc, argv, &o, paths, &n_paths, 0, NULL, &dummy, NULL, &dummy, NULL);
    if (!rc && ctl_load(&o.ctl))
        rc = EXIT_NOT_EXPECTED;
    if (rc) {
        ctl_free(&o.ctl);
        free(paths);
        return rc;
    }
    if (!n_paths) /* every path of the config file (not only its first) */
        for (int i = 0; i < n_config_paths; i++)
            paths[n_paths++] = config_paths[i];
    if (!n_paths)
        paths[n_paths++] = "fixtures";
    e3c_report report;
    init_report(&report, &o);
    collection c = {.report = &report, .drop_file_errors = o.ctl.shard_k > 1};
    for (int i = 0; i < n_paths; i++)
        collect(&c, paths[i]);
    unsigned char *keep = select_items(&c, &o);
    o.keep = keep;
    if (!o.ctl.list && outputs_replace_fixtures(&o, &c))
        rc = EXIT_USAGE;
    else if (!keep) {
        cli_error("out of memory selecting fixtures");
        rc = EXIT_INTERNAL;
    } else
        rc = run_collection(&c, &o);
    if (rc == EXIT_NOTHING_RUN && o.ctl.shard_n && !o.ctl.list) {
        printf("e3check: shard %d/%d is empty: nothing to run here\n", o.ctl.shard_k, o.ctl.shard_n);
        rc = EXIT_AS_EXPECTED;
    }
    free(keep);
    free(paths);
    ctl_free(&o.ctl);
    collection_free(&c);
    e3c_report_free(&report);
    return rc;
}

static int run(int argc, char **argv)
{
    int n = 0, n_paths = 0;
    char **args = NULL, **paths = NULL;
    int rc = config_expand(argc, argv, &n, &args, &paths, &n_paths);
    if (!rc)
        rc = run_expanded(n, args, paths, n_paths);
    config_free_argv(n, args, paths, n_paths);
    return rc;
}

static void help(FILE *out)
{
    fputs("usage: e3check run [PATH...] [options]\n\n"
          "Run the fixture files and folders (recursively; default fixtures/); checks run in\n"
          "worker processes, never in this one, each with a time limit; print one line per\n"
          "fixture and check and a summary; write the reports. See fixtures/README.md for the\n"
          "fixture format.\n\n"
          "options:\n"
          "  --report FILE      JSON report (default reports/e3check-report.json; - writes it\n"
          "                     to standard output and the result lines to standard error)\n"
          "  --no-report        write no JSON report\n"
          "  --junit FILE       JUnit XML report\n"
          "  --markdown FILE    Markdown summary (also appended to $GITHUB_STEP_SUMMARY when set)\n"
          "  --seed N           seed for every fixture (overrides theirs)\n"
          "  --jobs N           worker processes running checks in parallel (default: the\n"
          "                     number of CPUs, at most 8; 1 runs them one after another)\n"
          "  --timeout SECONDS  time limit per check (default 120; a fixture's timeout_s wins)\n"
          "  --plugin PATH      load module types from a shared library\n"
          "  -q, -v             only what is not as expected / every message\n"
          "  --                 the arguments after it are paths, even those starting with -\n\n"
          "selection (repeatable options add up):\n"
          "  --filter PATTERN   only fixtures whose name matches (glob) or contains PATTERN\n"
          "  --exclude PATTERN  not the fixtures whose name matches or contains PATTERN\n"
          "  --name NAME        only the fixture named exactly NAME\n"
          "  --check CHECK      only this check (auto_jitable, equivariance, golden; for\n"
          "                     potentials also permutation, translation, conservative,\n"
          "                     batching, additivity, periodic_images, smoothness)\n"
          "  --last-failed REPORT.json  only the checks not as expected in that report\n"
          "                     (everything when there were none)\n"
          "  --shard K/N        the K-th of N deterministic parts (whole fixtures; K from 1);\n"
          "                     an empty part exits 0. Merge the parts' reports with\n"
          "                     'e3check merge'\n"
          "  --durations REPORT.json  balance the shards by that report's durations\n"
          "  --list             print FILE FIXTURE CHECK for what would run; run nothing\n\n"
          "control:\n"
          "  -x, --exitfirst    stop at the first check not as expected (--maxfail 1)\n"
          "  --maxfail N        stop after N checks not as expected\n"
          "  --threads N        libtorch threads per worker (default: the CPUs shared out)\n"
          "  --color auto|always|never  colours on standard output (auto: a terminal and no\n"
          "                     NO_COLOR)\n"
          "  --config FILE      options from FILE (default: ./e3check.json when present):\n"
          "                     {\"plugins\": [...], \"paths\": [...], \"defaults\": {\"jobs\": 2, ...}}\n\n"
          "At the end, every check not as expected is listed with a command that reruns it\n"
          "alone (--name, --check, --seed).\n\n"
          "exit status: 0 every check as expected (or an empty shard), 1 some not, 2\n"
          "interrupted, 3 internal error, 4 usage error, 5 nothing was run.\n",
          out);
}

const cli_command cmd_run = {"run", "run fixture files and write conformance reports", run, help};

/* ------------------------------------------------------------------ model ---- */

/* The absolute form of `path` into buf. */
static void absolute_path(const char *path, char *buf, size_t cap)
{
    if (path[0] == '/' || !getcwd(buf, cap - strlen(path) - 2))
        snprintf(buf, cap, "%s", path);
    else
        snprintf(buf + strlen(buf), cap - strlen(buf), "/%s", path);
}

/* e3check model FILE --preset P: the preset's checks on a periodic and a non-periodic
 * structure (two fixtures, FILE:periodic and FILE:cluster). */
static int model_preset(const run_opts *o, const char *file, const char *dtype)
{
    cJSON *probe = NULL;
    char preset_path[4096];
    const char *preset = o->preset;
    if (strchr(preset, '/') || strstr(preset, ".json")) { /* a preset file: from here, not the model's folder */
        absolute_path(preset, preset_path, sizeof preset_path);
        preset = preset_path;
    }
    if (e3c_preset_load(&probe, preset, NULL)) {
        cli_error("model: %s", e3c_error_last());
        return EXIT_USAGE;
    }
    cJSON_Delete(probe);
    if (o->record && !record_target_ok(o->record))
        return EXIT_NOT_EXPECTED; /* before the model runs: nothing would be written */
    char abs_path[4096];
    absolute_path(file, abs_path, sizeof abs_path);
    char *copy = strdup(file);
    const char *base = copy ? basename(copy) : file;
    e3c_report report;
    init_report(&report, o);
    collection c = {.report = &report};
    for (int periodic = 1; periodic >= 0; periodic--) {
        if (o->structures && strcmp(o->structures, "both") && strcmp(o->structures, periodic ? "periodic" : "cluster"))
            continue;
        cJSON *fx = cJSON_CreateObject();
        char name[512];
        snprintf(name, sizeof name, "%s:%s", base, periodic ? "periodic" : "cluster");
        cJSON_AddStringToObject(fx, "name", name);
        cJSON_AddStringToObject(fx, "preset", preset);
        cJSON_AddStringToObject(fx, "torchscript", abs_path);
        cJSON *structure = cJSON_AddObjectToObject(fx, "structure");
        cJSON_AddBoolToObject(structure, "periodic", periodic);
        if (o->atoms)
            cJSON_AddNumberToObject(structure, "atoms", (double)o->atoms);
        if (dtype)
            cJSON_AddStringToObject(fx, "dtype", dtype);
        if (o->ctl.checks & (1u << E3C_CHECK_SMOOTHNESS)) /* off in the presets: --check turns it on */
            cJSON_AddTrueToObject(cJSON_AddObjectToObject(fx, "checks"), "smoothness");
        keep_doc(&c, fx);
        push_item(&c, fx, abs_path);
    }
    free(copy);
    int rc = o->record ? record_golden(o->record, c.docs, c.n_docs, &o->rs) : run_collection(&c, o);
    collection_free(&c);
    e3c_report_free(&report);
    return rc;
}

static int model_run(int argc, char **argv)
{
    run_opts o;
    defaults(&o);
    const char *rest[256], *ins[16], *outs[16], *dtype = NULL;
    int n_rest = 0, n_ins = 0, n_outs = 0;
    if (argc > 250) {
        cli_error("model: too many arguments");
        return EXIT_USAGE;
    }
    int rc = parse_common(argc, argv, &o, rest, &n_rest, 1, ins, &n_ins, outs, &n_outs, &dtype);
    if (rc)
        return rc;
    int dtype_given = dtype != NULL;
    if (!dtype)
        dtype = "float32";
    if ((o.atoms || o.structures) && !o.preset) {
        cli_error("model: --atoms and --structures go with --preset");
        return EXIT_USAGE;
    }
    if (o.record && !o.preset) {
        cli_error("model: --record goes with --preset (it records a potential's outputs)");
        return EXIT_USAGE;
    }
    cli_output written[4];
    outputs_of(&o, written);
    if (n_rest == 1 && cli_output_replaces(written, 4, rest[0], "the model file"))
        return EXIT_USAGE;
    if (o.preset && n_rest == 1 && !n_ins && !n_outs)
        return model_preset(&o, rest[0], dtype_given ? dtype : NULL);
    if (n_rest != 1 || !n_ins || !n_outs) {
        cli_error("model: need FILE.pt, --irreps-in and --irreps-out (see 'e3check model --help')");
        return EXIT_USAGE;
    }
    char abs_path[4096];
    if (rest[0][0] == '/' || !getcwd(abs_path, sizeof abs_path - strlen(rest[0]) - 2))
        snprintf(abs_path, sizeof abs_path, "%s", rest[0]);
    else
        snprintf(abs_path + strlen(abs_path), sizeof abs_path - strlen(abs_path), "/%s", rest[0]);
    cJSON *fx = cJSON_CreateObject();
    char *copy = strdup(rest[0]);
    cJSON_AddStringToObject(fx, "name", copy ? basename(copy) : rest[0]);
    free(copy);
    cJSON_AddStringToObject(fx, "torchscript", abs_path);
    cJSON *a = cJSON_AddArrayToObject(fx, "irreps_in"), *b = cJSON_AddArrayToObject(fx, "irreps_out");
    for (int i = 0; i < n_ins; i++)
        cJSON_AddItemToArray(a, strcmp(ins[i], "none") ? cJSON_CreateString(ins[i]) : cJSON_CreateNull());
    for (int i = 0; i < n_outs; i++)
        cJSON_AddItemToArray(b, strcmp(outs[i], "none") ? cJSON_CreateString(outs[i]) : cJSON_CreateNull());
    cJSON_AddStringToObject(fx, "dtype", dtype);
    if (ctl_model_checks(&o.ctl, fx)) {
        cJSON_Delete(fx);
        return EXIT_INTERNAL;
    }
    e3c_report report;
    init_report(&report, &o);
    collection c = {.report = &report};
    keep_doc(&c, fx);
    push_item(&c, fx, abs_path);
    rc = run_collection(&c, &o);
    collection_free(&c);
    e3c_report_free(&report);
    return rc;
}

static void model_help(FILE *out)
{
    fputs("usage: e3check model FILE.pt --irreps-in IRREPS [--irreps-in ...] --irreps-out IRREPS [...]\n"
          "                     [--dtype float32|float64] [run options]\n"
          "       e3check model FILE --preset nequip|mace|mace-lammps|PRESET.json [--dtype float32|float64]\n"
          "                     [--atoms N] [--structures periodic|cluster|both] [run options]\n"
          "       e3check model FILE --preset P [--atoms N] [--structures ...] [--seed N] --record OUT.json\n\n"
          "Check one deployed TorchScript model: auto_jitable (runs on random inputs of the\n"
          "declared widths, rejects narrower ones, round-trips) and equivariance. An entry may\n"
          "be an irreps string, cartesian_points, or none. Reports and options as 'e3check run'\n"
          "(--check auto_jitable|equivariance picks one check).\n\n"
          "With --preset, an interatomic potential is checked as the preset describes it (NequIP\n"
          "0.6 / Allegro 0.3 files from nequip-deploy build, MACE 0.3 compiled models and LAMMPS\n"
          "wrappers; presets are JSON files, installed under share/e3check/presets/) on a seeded\n"
          "periodic structure and a seeded cluster (--structures picks one; --atoms sets their\n"
          "size); r_max, the species and the model's dtype come from the file (--dtype overrides\n"
          "the tolerance tier). The presets also turn on the physical checks: permutation,\n"
          "translation, conservative (forces, stress, virial against finite differences of the\n"
          "energy), batching (MACE), additivity and, with a cell, periodic_images;\n"
          "--check smoothness runs the opt-in check that energy and forces are continuous\n"
          "as a neighbour crosses r_max.\n"
          "\n"
          "--record OUT.json runs no check: the model runs once (in a child process) on each\n"
          "structure the preset run would use (--structures, --atoms, --seed) and OUT.json gets\n"
          "a fixture per structure holding it inline and the model's outputs (17 significant\n"
          "digits) as a golden check, with the preset's other checks turned off; paths are\n"
          "relative to OUT's folder. 'e3check run OUT.json' then fails when the file's outputs\n"
          "change (e.g. after recompiling or retraining). OUT is written atomically and must be\n"
          "a regular file or a new name.\n"
          "\nequivariance options:\n"
          "  --ntrials N        rotations per case (default 1)\n"
          "  --tolerance T      largest error accepted (default e3nn's: 1e-3 float32, 1e-9 float64)\n"
          "  --no-parity        proper rotations only (no -R cases)\n",
          out);
}

const cli_command cmd_model = {"model", "check one TorchScript file with declared irreps or a preset", model_run,
                               model_help};
