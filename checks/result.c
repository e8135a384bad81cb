/* Check results, their JSON form, and isolation of a check in a child process. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_internal.h"

const char *e3c_verdict_name(e3c_verdict v)
{
    static const char *const names[] = {"PASSED", "FAILED", "ERRORED", "SKIPPED"};
    return (unsigned)v < 4 ? names[v] : "ERRORED";
}

void e3c_check_result_free(e3c_check_result *r)
{
    if (!r)
        return;
    cJSON_Delete(r->details);
    r->details = NULL;
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

e3c_status check_begin(const char *check, const e3c_subject *s, e3c_check_result *out, uint64_t seed, double *start)
{
    if (!s || !out || (!s->module == !s->script))
        return e3c_error_set(E3C_ERR_INVALID, "%s: need a result and one module or script", check);
    memset(out, 0, sizeof *out);
    *start = now_s();
    out->seed = seed;
    out->details = cJSON_CreateObject();
    return out->details ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "%s: out of memory", check);
}

void result_set(e3c_check_result *r, e3c_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    for (char *p = r->message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    r->status = v;
}

uint64_t small_rng_next(small_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int small_rng_int(small_rng *r, int lo, int hi)
{
    return lo + (int)(small_rng_next(r) % (uint64_t)(hi - lo + 1));
}

cJSON *e3c_check_result_to_json(const e3c_check_result *r)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddStringToObject(j, "status", e3c_verdict_name(r->status));
    cJSON_AddStringToObject(j, "message", r->message);
    cJSON_AddNumberToObject(j, "duration_s", r->duration_s);
    cJSON_AddNumberToObject(j, "seed", (double)r->seed);
    cJSON_AddItemToObject(j, "details", r->details ? cJSON_Duplicate(r->details, 1) : cJSON_CreateObject());
    return j;
}

e3c_status e3c_check_result_from_json(e3c_check_result *out, const cJSON *json)
{
    memset(out, 0, sizeof *out);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(json, "status");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(json, "message");
    if (!cJSON_IsString(status) || !cJSON_IsString(message))
        return e3c_error_set(E3C_ERR_FORMAT, "a check result needs a status and a message");
    out->status = E3C_ERRORED;
    for (int v = 0; v < 4; v++)
        if (!strcmp(status->valuestring, e3c_verdict_name((e3c_verdict)v)))
            out->status = (e3c_verdict)v;
    snprintf(out->message, sizeof out->message, "%s", message->valuestring);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(json, "duration_s");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(json, "seed");
    out->duration_s = cJSON_IsNumber(d) ? d->valuedouble : 0.0;
    out->seed = cJSON_IsNumber(seed) ? (uint64_t)seed->valuedouble : 0;
    const cJSON *details = cJSON_GetObjectItemCaseSensitive(json, "details");
    out->details = details ? cJSON_Duplicate(details, 1) : NULL;
    return E3C_OK;
}

/* Write all of buf to fd. */
static int write_all(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

static void run_child(e3c_check_fn fn, void *ctx, int fd)
{
    e3c_check_result r;
    memset(&r, 0, sizeof r);
    fn(ctx, &r);
    cJSON *j = e3c_check_result_to_json(&r);
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    int ok = text && write_all(fd, text, strlen(text)) == 0;
    free(text);
    cJSON_Delete(j);
    e3c_check_result_free(&r);
    close(fd);
    _exit(ok ? 0 : 3);
}

struct e3c_check_job {
    pid_t pid;
    int fd;
    double start, deadline, timeout_s;
    char *buf;
    size_t len, cap;
    int eof;
};

e3c_status e3c_check_start(e3c_check_job **out, e3c_check_fn fn, void *ctx, double timeout_s)
{
    if (!out || !fn || !(timeout_s > 0))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_check_start: need a check and a timeout > 0");
    *out = NULL;
    e3c_check_job *job = calloc(1, sizeof *job);
    int fds[2];
    if (!job)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for a check job");
    if (pipe(fds) != 0) {
        free(job);
        return e3c_error_set(E3C_ERR_IO, "cannot create a pipe: %s", strerror(errno));
    }
    fflush(NULL);
    job->start = now_s();
    job->timeout_s = timeout_s;
    job->deadline = job->start + timeout_s;
    job->pid = fork();
    if (job->pid < 0) {
        close(fds[0]);
        close(fds[1]);
        free(job);
        return e3c_error_set(E3C_ERR_IO, "cannot fork: %s", strerror(errno));
    }
    if (job->pid == 0) {
        close(fds[0]);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        run_child(fn, ctx, fds[1]);
    }
    close(fds[1]);
    job->fd = fds[0];
    *out = job;
    return E3C_OK;
}

int e3c_check_job_fd(const e3c_check_job *job) { return job ? job->fd : -1; }

double e3c_check_job_time_left(const e3c_check_job *job) { return job ? job->deadline - now_s() : 0.0; }

e3c_status e3c_check_job_poll(e3c_check_job *job, int *done)
{
    if (!job || !done)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_check_job_poll: NULL argument");
    for (;;) {
        struct pollfd p = {job->fd, POLLIN, 0};
        int rc = job->eof ? 0 : poll(&p, 1, 0);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        if (job->len + 4097 > job->cap) {
            size_t cap = job->cap ? job->cap * 2 : 1 << 16;
            char *b = realloc(job->buf, cap);
            if (!b)
                return e3c_error_set(E3C_ERR_NOMEM, "out of memory reading a check result");
            job->buf = b;
            job->cap = cap;
        }
        ssize_t n = read(job->fd, job->buf + job->len, job->cap - job->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            job->eof = 1;
            break;
        }
        job->len += (size_t)n;
    }
    *done = job->eof || now_s() >= job->deadline;
    return E3C_OK;
}

e3c_status e3c_check_job_finish(e3c_check_job *job, int kill_now, e3c_check_result *out)
{
    if (!job || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_check_job_finish: NULL argument");
    memset(out, 0, sizeof *out);
    int done = 0;
    e3c_check_job_poll(job, &done);
    int timed_out = !job->eof && now_s() >= job->deadline;
    if (!job->eof)
        kill(job->pid, SIGKILL);
    close(job->fd);
    int status = 0;
    while (waitpid(job->pid, &status, 0) < 0 && errno == EINTR)
        ;
    double elapsed = now_s() - job->start;
    if (job->buf)
        job->buf[job->len] = '\0';
    cJSON *json = job->eof && job->buf && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? cJSON_Parse(job->buf) : NULL;
    double timeout_s = job->timeout_s;
    free(job->buf);
    free(job);
    if (json && e3c_check_result_from_json(out, json) == E3C_OK) {
        cJSON_Delete(json);
        return E3C_OK;
    }
    cJSON_Delete(json);
    out->duration_s = elapsed;
    out->details = cJSON_CreateObject();
    if (timed_out)
        result_set(out, E3C_ERRORED, "timed out after %.0f s (the check process was killed)", timeout_s);
    else if (kill_now && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        result_set(out, E3C_ERRORED, "interrupted");
    else if (WIFSIGNALED(status))
        result_set(out, E3C_ERRORED, "the check process died of signal %d (%s)", WTERMSIG(status),
                   strsignal(WTERMSIG(status)));
    else
        result_set(out, E3C_ERRORED, "the check process exited with status %d without a result",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return E3C_OK;
}

e3c_status e3c_check_isolated(e3c_check_fn fn, void *ctx, double timeout_s, e3c_check_result *out)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_check_isolated: NULL result");
    e3c_check_job *job = NULL;
    e3c_status st = e3c_check_start(&job, fn, ctx, timeout_s);
    if (st)
        return st;
    int done = 0;
    while (!(st = e3c_check_job_poll(job, &done)) && !done) {
        struct pollfd p = {e3c_check_job_fd(job), POLLIN, 0};
        double left = e3c_check_job_time_left(job);
        poll(&p, 1, left > 0 ? (int)(left * 1000) + 1 : 0);
    }
    return e3c_check_job_finish(job, 0, out);
}
