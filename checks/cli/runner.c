/* The runner (checks/cli/runner.h): tasks on the pool, results to a callback. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "runner.h"

/* In a worker process: run one task's check. */
static void child_check(void *p, e3c_check_result *out)
{
    const cli_task *t = p;
    e3c_fixture_run(out, t->fixture, t->kind, t->rs);
}

static void finish(cli_task *t, e3c_check_result *r, cli_task_done_fn on_done, void *ctx)
{
    t->result = *r;
    t->finished = 1;
    on_done(ctx, t);
}

/* Where a terminal shows it: done of total, and how many run now. */
static void progress(size_t done, size_t total, size_t running)
{
    if (!isatty(STDERR_FILENO))
        return;
    fprintf(stderr, "\r\033[K[%zu/%zu] %zu running", done, total, running);
    if (done == total)
        fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

e3c_status cli_run_tasks(e3c_check_pool **pool, size_t *not_expected, cli_task *tasks, size_t n, int jobs,
                         size_t maxfail, cli_task_done_fn on_done, void *ctx)
{
    *pool = NULL;
    *not_expected = 0;
    e3c_check_pool *p = NULL;
    e3c_status st = e3c_check_pool_new(&p, jobs < (int)n ? jobs : (int)(n ? n : 1), child_check);
    for (size_t i = 0; !st && i < n; i++)
        st = e3c_check_pool_submit(p, &tasks[i], e3c_fixture_time_limit(tasks[i].fixture, tasks[i].rs), i);
    size_t done = 0;
    while (!st && done < n && !cli_interrupted && !(maxfail && *not_expected >= maxfail)) {
        int got = 0;
        size_t tag = 0;
        e3c_check_result r;
        st = e3c_check_pool_next(&got, &tag, &r, p, 1.0);
        if (!st && got && cli_interrupted && r.status == E3C_ERRORED) {
            /* a Ctrl-C reaches the workers too: a check ended by it did not run to its end */
            e3c_check_result_free(&r);
            continue;
        }
        if (!st && got) {
            *not_expected += r.status != tasks[tag].expected;
            finish(&tasks[tag], &r, on_done, ctx);
            done++;
        }
        progress(done, n, e3c_check_pool_running(p));
    }
    if (st) { /* the pool itself failed: what did not run is ERRORED */
        char reason[sizeof tasks[0].result.message];
        snprintf(reason, sizeof reason, "%s", e3c_error_last());
        for (size_t i = 0; i < n; i++)
            if (!tasks[i].finished) {
                e3c_check_result r;
                memset(&r, 0, sizeof r);
                r.status = E3C_ERRORED;
                snprintf(r.message, sizeof r.message, "%s", reason);
                finish(&tasks[i], &r, on_done, ctx);
            }
    }
    if (done < n)
        e3c_check_pool_free(p); /* kills the checks still running */
    else
        *pool = p;
    return st;
}
