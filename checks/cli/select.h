/* The run controls of `e3check run` / `model`: which fixtures and checks run (filters,
 * exclusions, exact names, shards, last failures, --check), when to stop (--maxfail), and
 * how the terminal output looks (--color, --list, the closing list of what to fix). */
#ifndef E3CHECK_CLI_SELECT_H
#define E3CHECK_CLI_SELECT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "e3check/fixture.h"
#include "e3check/report.h"

enum { CTL_MAX_PATTERNS = 64, CTL_MAX_PLUGINS = 16 };

/** The controls; zero-initialise, fill with ctl_option, free with ctl_free. */
typedef struct cli_controls {
    const char *filters[CTL_MAX_PATTERNS], *excludes[CTL_MAX_PATTERNS], *names[CTL_MAX_PATTERNS];
    int n_filters, n_excludes, n_names;
    unsigned checks;                      /**< bit (1 << kind) per --check; 0 = every check */
    int shard_k, shard_n;                 /**< --shard K/N; shard_n 0 = no sharding */
    const char *durations;                /**< --durations REPORT.json */
    cJSON *durations_by_name;             /**< owned: that report's seconds per fixture (with --shard) */
    const char *last_failed;              /**< --last-failed REPORT.json */
    cJSON *failed;                        /**< owned: [[fixture, check], ...] not as expected there */
    int maxfail;                          /**< stop after this many not as expected; 0 = never */
    int list;                             /**< --list: print what would run, run nothing */
    int color;                            /**< -1 auto, 0 never, 1 always */
    int threads;                          /**< --threads N: libtorch threads per worker; 0 = automatic */
    const char *plugins[CTL_MAX_PLUGINS]; /**< the --plugin paths, for reproduce commands */
    int n_plugins;
    int ntrials;      /**< model: --ntrials N (0 = the default) */
    double tolerance; /**< model: --tolerance T (0 = e3nn's) */
    int no_parity;    /**< model: --no-parity */
} cli_controls;

/** Initialise `c` (colour auto, nothing selected). */
void ctl_init(cli_controls *c);

/** If argv[*i] is a control option, consume it (and its value, advancing *i) and return 1;
 *  a bad value prints a one-line error and sets *usage_error. Otherwise return 0. */
int ctl_option(cli_controls *c, int argc, char **argv, int *i, int *usage_error);

/** `e3check model`: put the equivariance options given (--ntrials, --tolerance,
 *  --no-parity) into the fixture `fx` made for the file, as its "checks". 0 or 1 (out of
 *  memory, printed). */
int ctl_model_checks(const cli_controls *c, cJSON *fx);

/** Record a --plugin path (borrowed) for the reproduce commands. */
void ctl_note_plugin(cli_controls *c, const char *path);

/** Read the reports that --last-failed and --durations (with --shard) name. Returns 0, or
 *  prints a one-line error and returns 1: a shard balanced by other weights than its
 *  sibling shards' would run or skip fixtures they also run or skip. */
int ctl_load(cli_controls *c);

/** Decide which of the n fixtures (by name, in collection order) run: keep[i] = 1 or 0.
 *  Shards are whole fixtures, balanced by the --durations report or by count. Returns 0,
 *  or 1 when out of memory. */
int ctl_select(const cli_controls *c, const char *const *names, size_t n, unsigned char *keep);

/** True when check `kind` of fixture `name` runs (--check, --last-failed). */
int ctl_keeps_check(const cli_controls *c, const char *name, e3c_check_kind kind);

/** True when the colour escapes are to be written to standard output. */
int ctl_use_color(const cli_controls *c);

/** Clear the progress line on standard error (only on a terminal). */
void ctl_clear_progress(void);

/** Print to `out` the checks of `r` not as expected, each with a command reproducing it alone
 *  (`cmd` "run": `e3check run FILE --name NAME --check CHECK --seed S`). */
void ctl_print_not_expected(FILE *out, const cli_controls *c, const e3c_report *r, int reproducible);

/** Write the JSON report (none when `json` is NULL: --no-report) and, when given, the JUnit and Markdown ones (and append to
 *  $GITHUB_STEP_SUMMARY when set). Errors are printed; returns 0 or 1. */
int cli_write_reports(const e3c_report *r, const char *json, const char *junit, const char *markdown);

/** An output file and the option that names it (e.g. {"--junit", "r.xml"}); path NULL: none. */
typedef struct cli_output {
    const char *option, *path;
} cli_output;

/** 1 after printing a one-line usage error when two of the n outputs name the same file (by
 *  name, another spelling or a link), which would overwrite each other; else 0. */
int cli_outputs_collide(const cli_output *outs, int n);

/** 1 after printing a one-line usage error when one of the n outputs is `input` (the same
 *  file), which writing it would destroy; `what` says what input is ("the fixture file").
 *  Else 0. */
int cli_output_replaces(const cli_output *outs, int n, const char *input, const char *what);

/** The exit status of a run with summary `s`: EXIT_INTERRUPTED, EXIT_INTERNAL when a report
 *  could not be written, EXIT_NOTHING_RUN, EXIT_NOT_EXPECTED or EXIT_AS_EXPECTED, in that
 *  order of precedence (run and merge alike). */
int cli_exit_status(const e3c_report_summary *s, int interrupted, int write_failed);

/** Free what ctl_load read. */
void ctl_free(cli_controls *c);

/** The config file: `--config FILE` in argv, else `e3check.json` in the current folder
 *  when present. On return *out_argv (owned, free with config_free_argv) is argv with the
 *  file's options inserted after argv[0] (so the command line wins) and --config removed;
 *  *paths gets the file's "paths" (or NULL). Returns 0, or prints a one-line error naming
 *  the file and returns an exit status. */
int config_expand(int argc, char **argv, int *out_argc, char ***out_argv, char ***paths, int *n_paths);

/** For commands without run's options (types, compile): load the plugins of the config
 *  file (`--config FILE` in argv, else ./e3check.json when present). Returns 0 or an exit
 *  status after printing a one-line error. */
int config_load_plugins(int argc, char **argv);

/** Free what config_expand allocated. NULL-safe. */
void config_free_argv(int argc, char **argv, char **paths, int n_paths);

#endif
