/* The runner of `e3check run` and `model`: checks of parsed fixtures scheduled on the pool
 * of worker processes, each result handed to a callback as it finishes. It knows nothing
 * of options, files or reports: the commands collect the tasks and write the reports. */
#ifndef E3CHECK_CLI_RUNNER_H
#define E3CHECK_CLI_RUNNER_H

#include <stddef.h>

#include "e3check/checks.h"
#include "e3check/fixture.h"

/** One check to run, and its result once finished. */
typedef struct cli_task {
    const e3c_fixture *fixture; /**< parsed once; the workers share the parent's */
    const char *name, *file;    /**< for the result lines and the reports (borrowed) */
    e3c_check_kind kind;
    e3c_verdict expected;
    const e3c_run_settings *rs;
    int finished;
    e3c_check_result result; /**< owned once finished */
} cli_task;

/** Called in this process as each task finishes (t->result filled, t->finished set). */
typedef void (*cli_task_done_fn)(void *ctx, const cli_task *t);

/** Run the n tasks on `jobs` worker processes (at most n), each with its fixture's time
 *  limit, calling on_done as each finishes. Stops early on an interrupt (cli_interrupted;
 *  a check a Ctrl-C ended is not counted as run) or once `maxfail` results (0: never) were
 *  not as expected; *not_expected counts them. When every task ran, *pool is the pool, its
 *  workers ending: the caller frees it after writing its reports (reaping costs nothing
 *  then). Otherwise *pool is NULL and what still ran was stopped. When the pool itself fails
 *  (no fork, no pipe), every task that did not run is finished as ERRORED with the reason,
 *  and that status is returned. */
e3c_status cli_run_tasks(e3c_check_pool **pool, size_t *not_expected, cli_task *tasks, size_t n, int jobs,
                         size_t maxfail, cli_task_done_fn on_done, void *ctx);

#endif
