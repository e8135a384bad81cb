/* Isolation of checks in child processes: one fork per check (e3c_check_start), or a pool
 * of long-lived workers that each run many checks (e3c_check_pool). Either way a check
 * never runs in the caller's process, and its result crosses a pipe as JSON text ended by
 * a NUL byte; a child that dies, hangs past its deadline or is stopped gives an ERRORED
 * result naming why. A child dies with the process that forked it (PR_SET_PDEATHSIG), ends
 * itself a little after its check's time limit (alarm) should nobody kill it, and writes
 * its standard output and error into a capture file whose start goes into the result. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_internal.h"

/* ------------------------------------------------------------ the shared pieces ---- */

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

/* ------------------------------------------------------------ captured output ---- */

enum {
    CAPTURE_KEEP = 4096,         /* bytes of a check's output kept in its result */
    CAPTURE_FILE_MAX = 16 << 20, /* a child's files (the capture too) stop growing here */
};

/* A file for a child's standard output and error (in memory; a temporary file when
 * memfd_create is missing); -1 when neither can be made (the output then passes through). */
static int capture_open(void)
{
    int fd = memfd_create("e3check-check-output", MFD_CLOEXEC);
    if (fd < 0) {
        FILE *f = tmpfile();
        fd = f ? dup(fileno(f)) : -1;
        if (f)
            fclose(f);
    }
    return fd;
}

/* In the child: standard output and error go to the capture file (appending, so that
 * truncating it starts over), and no file it writes outgrows CAPTURE_FILE_MAX (a model
 * printing without end would otherwise fill memory; the writes past it fail). */
static int child_capture = -1; /* in a child: its capture file, or -1 */

static void capture_redirect(int fd)
{
    child_capture = fd;
    if (fd < 0)
        return;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_APPEND);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > CAPTURE_FILE_MAX)) {
        rl.rlim_cur = CAPTURE_FILE_MAX;
        setrlimit(RLIMIT_FSIZE, &rl);
    }
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid (overlong, a
 * surrogate, past U+10FFFF) or cut. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80             ? 1
                 : (s[0] & 0xE0) == 0xC0 ? 2
                 : (s[0] & 0xF0) == 0xE0 ? 3
                 : (s[0] & 0xF8) == 0xF0 ? 4
                                         : 0;
    if (!len || len > n || (len == 2 && s[0] < 0xC2) || s[0] > 0xF4)
        return 0;
    if (len > 2 && ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) || (s[0] == 0xF0 && s[1] < 0x90) ||
                    (s[0] == 0xF4 && s[1] >= 0x90)))
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* Put the start of what the capture file `fd` holds into details ("output", at most
 * CAPTURE_KEEP bytes, invalid UTF-8 and control bytes other than newline and tab as '?';
 * "output_bytes"; "output_truncated" when cut) and empty the file. Nothing when empty. */
static void capture_take(int fd, cJSON *details)
{
    struct stat sb;
    fflush(stdout);
    fflush(stderr);
    if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size <= 0)
        return;
    unsigned char buf[CAPTURE_KEEP + 1];
    ssize_t got = pread(fd, buf, CAPTURE_KEEP, 0);
    if (ftruncate(fd, 0) != 0 || got <= 0 || !details)
        return;
    size_t n = (size_t)got;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(buf + i, n - i);
        if (!len || (buf[i] < 0x20 && buf[i] != '\n' && buf[i] != '\t') || buf[i] == 0x7F)
            buf[i] = '?', len = 1;
        i += len;
    }
    buf[n] = '\0';
    cJSON_DeleteItemFromObjectCaseSensitive(details, "output");
    cJSON_AddStringToObject(details, "output", (char *)buf);
    cJSON_AddNumberToObject(details, "output_bytes", (double)sb.st_size);
    if (sb.st_size > (off_t)n)
        cJSON_AddBoolToObject(details, "output_truncated", 1);
}

/* ------------------------------------------------------------ the child's limits ---- */

/* Seconds a child lets pass beyond its check's time limit before ending itself: the
 * parent's timer, which reports the timeout, normally comes first. */
static unsigned backstop_s(double timeout_s)
{
    return timeout_s < 1e7 ? (unsigned)(timeout_s * 1.25) + 6 : 12500006u; /* alarm's range: ~145 days */
}

/* In a new child of `parent`: die with it (also when it died before the prctl took
 * effect), default signal handling (the parent may catch SIGINT to stop cleanly) and
 * output into the capture file. */
static void child_start(pid_t parent, int capture_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(3);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGALRM, SIG_DFL);
    capture_redirect(capture_fd);
}

/* In the child: run one check (ending the process by SIGALRM a little after its time
 * limit) and send its result (JSON, then a NUL) with what it printed. 0 when sent. */
static int send_result(e3c_check_fn fn, void *ctx, double timeout_s, int fd)
{
    e3c_check_result r;
    memset(&r, 0, sizeof r);
    r.status = E3C_ERRORED; /* a check that writes nothing must not pass */
    snprintf(r.message, sizeof r.message, "the check returned without a verdict");
    alarm(backstop_s(timeout_s));
    fn(ctx, &r);
    alarm(0);
    if (!r.details)
        r.details = cJSON_CreateObject();
    capture_take(child_capture, r.details);
    cJSON *j = e3c_check_result_to_json(&r);
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    int ok = text && write_all(fd, text, strlen(text) + 1) == 0;
    free(text);
    cJSON_Delete(j);
    e3c_check_result_free(&r);
    return ok ? 0 : -1;
}

/* What a child has sent so far. */
typedef struct inbox {
    char *buf;
    size_t len, cap;
    int eof;
} inbox;

/* Read what is available on fd without blocking (the caller polled it). */
static e3c_status inbox_fill(inbox *b, int fd)
{
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int rc = b->eof ? 0 : poll(&p, 1, 0);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return E3C_OK;
        if (b->len + 4097 > b->cap) {
            size_t cap = b->cap ? b->cap * 2 : 1 << 16;
            char *nb = realloc(b->buf, cap);
            if (!nb)
                return e3c_error_set(E3C_ERR_NOMEM, "out of memory reading a check result");
            b->buf = nb;
            b->cap = cap;
        }
        ssize_t n = read(fd, b->buf + b->len, b->cap - b->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            b->eof = 1;
            return E3C_OK;
        }
        b->len += (size_t)n;
    }
}

/* 1 when a whole result (up to its NUL) has arrived. */
static int inbox_complete(const inbox *b) { return b->len && memchr(b->buf, '\0', b->len) != NULL; }

/* Take the complete result out of the inbox into *out; 0 on success, -1 when it is not
 * a valid result. */
static int inbox_take(inbox *b, e3c_check_result *out)
{
    size_t n = strlen(b->buf) + 1;
    cJSON *json = cJSON_Parse(b->buf);
    int ok = json && e3c_check_result_from_json(out, json) == E3C_OK;
    cJSON_Delete(json);
    memmove(b->buf, b->buf + n, b->len - n);
    b->len -= n;
    return ok ? 0 : -1;
}

/* Why a child ended without a result, as an ERRORED result (a death by SIGALRM is the
 * child's own backstop of the time limit). */
static void errored_exit(e3c_check_result *out, int status, int timed_out, double timeout_s, int stopped,
                         double elapsed)
{
    memset(out, 0, sizeof *out);
    out->duration_s = elapsed;
    out->details = cJSON_CreateObject();
    if (!timed_out && !stopped && WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        result_set(out, E3C_ERRORED, "timed out after %.0f s (the check process ended itself)", timeout_s);
    else if (timed_out)
        result_set(out, E3C_ERRORED, "timed out after %.0f s (the check process was killed)", timeout_s);
    else if (stopped)
        result_set(out, E3C_ERRORED, "interrupted");
    else if (WIFSIGNALED(status))
        result_set(out, E3C_ERRORED, "the check process died of signal %d (%s)", WTERMSIG(status),
                   strsignal(WTERMSIG(status)));
    else
        result_set(out, E3C_ERRORED, "the check process exited with status %d without a result",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static int reap(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return status;
}

/* ------------------------------------------------------------ one fork per check ---- */

struct e3c_check_job {
    pid_t pid;
    int fd, capture_fd;
    double start, deadline, timeout_s;
    inbox in;
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
    job->capture_fd = capture_open();
    pid_t parent = getpid();
    job->pid = fork();
    if (job->pid < 0) {
        close(fds[0]), close(fds[1]);
        if (job->capture_fd >= 0)
            close(job->capture_fd);
        free(job);
        return e3c_error_set(E3C_ERR_IO, "cannot fork: %s", strerror(errno));
    }
    if (job->pid == 0) {
        close(fds[0]);
        child_start(parent, job->capture_fd);
        _exit(send_result(fn, ctx, timeout_s, fds[1]) ? 3 : 0);
    }
    close(fds[1]);
    job->fd = fds[0];
    *out = job;
    return E3C_OK;
}

int e3c_check_job_fd(const e3c_check_job *job) { return job ? job->fd : -1; }

double e3c_check_job_time_left(const e3c_check_job *job) { return job ? job->deadline - now_s() : 0.0; }

e3c_status e3c_check_job_poll(int *done, e3c_check_job *job)
{
    if (!job || !done)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_check_job_poll: NULL argument");
    e3c_status st = inbox_fill(&job->in, job->fd);
    *done = job->in.eof || now_s() >= job->deadline;
    return st;
}

e3c_status e3c_check_job_finish(e3c_check_result *out, e3c_check_job *job, int kill_now)
{
    if (!job || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_check_job_finish: NULL argument");
    memset(out, 0, sizeof *out);
    inbox_fill(&job->in, job->fd);
    int timed_out = !job->in.eof && now_s() >= job->deadline;
    if (!job->in.eof)
        kill(job->pid, SIGKILL);
    close(job->fd);
    int status = reap(job->pid);
    int sent = job->in.eof && WIFEXITED(status) && WEXITSTATUS(status) == 0 && inbox_complete(&job->in);
    if (!sent || inbox_take(&job->in, out) != 0) {
        errored_exit(out, status, timed_out, job->timeout_s,
                     kill_now && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, now_s() - job->start);
        capture_take(job->capture_fd, out->details);
    }
    if (job->capture_fd >= 0)
        close(job->capture_fd);
    free(job->in.buf);
    free(job);
    return E3C_OK;
}

e3c_status e3c_check_isolated(e3c_check_result *out, e3c_check_fn fn, void *ctx, double timeout_s)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_check_isolated: NULL result");
    e3c_check_job *job = NULL;
    e3c_status st = e3c_check_start(&job, fn, ctx, timeout_s);
    if (st)
        return st;
    int done = 0;
    while (!(st = e3c_check_job_poll(&done, job)) && !done) {
        struct pollfd p = {e3c_check_job_fd(job), POLLIN, 0};
        double left = e3c_check_job_time_left(job);
        poll(&p, 1, left > 0 ? (int)(left * 1000) + 1 : 0);
    }
    return e3c_check_job_finish(out, job, 0);
}

/* ------------------------------------------------------------ the worker pool ---- */

typedef struct queued {
    void *ctx;
    double timeout_s;
    size_t tag;
} queued;

/* A worker holds up to two checks: jobs[0] runs (since `start`), jobs[1] was sent ahead
 * and waits in its socket (see dispatch). */
typedef struct worker {
    pid_t pid;      /* 0: none (not yet forked, or ended) */
    int fd;         /* our end of the socket pair: contexts out, results in; -1 once told to end */
    int capture_fd; /* the file its standard output and error go to (-1: none) */
    queued jobs[2];
    int n_jobs;
    double start, deadline; /* of jobs[0] */
    inbox in;
} worker;

struct e3c_check_pool {
    e3c_check_fn fn;
    worker *w;
    int n_workers;
    queued *queue;
    size_t n_queued, head, cap;
    int started;
};

/* What the pool sends a worker for one check. */
typedef struct order {
    void *ctx;
    double timeout_s;
} order;

/* The worker's life: receive an order, run the check, send the result; until EOF. */
static void worker_main(e3c_check_fn fn, int fd)
{
    for (;;) {
        order o;
        size_t got = 0;
        while (got < sizeof o) {
            ssize_t n = read(fd, (char *)&o + got, sizeof o - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                _exit(0); /* the pool closed its end: done */
            got += (size_t)n;
        }
        if (send_result(fn, o.ctx, o.timeout_s, fd) != 0)
            _exit(3);
    }
}

static e3c_status worker_spawn(e3c_check_pool *p, worker *w)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return e3c_error_set(E3C_ERR_IO, "cannot create a socket pair: %s", strerror(errno));
    int capture_fd = capture_open();
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        close(sv[0]), close(sv[1]);
        if (capture_fd >= 0)
            close(capture_fd);
        return e3c_error_set(E3C_ERR_IO, "cannot fork a check worker: %s", strerror(errno));
    }
    if (pid == 0) {
        close(sv[0]);
        for (int i = 0; i < p->n_workers; i++) /* the other workers' channels are not ours */
            if (p->w[i].pid > 0) {
                close(p->w[i].fd);
                if (p->w[i].capture_fd >= 0)
                    close(p->w[i].capture_fd);
            }
        child_start(parent, capture_fd);
        worker_main(p->fn, sv[1]);
    }
    close(sv[1]);
    w->pid = pid;
    w->fd = sv[0];
    w->capture_fd = capture_fd;
    w->n_jobs = 0;
    w->in.len = 0;
    w->in.eof = 0;
    return E3C_OK;
}

/* End worker w (killing it when busy or `force`) and forget it; returns its wait status. */
static int worker_end(worker *w, int force)
{
    if (w->pid <= 0)
        return 0;
    if (w->n_jobs || force)
        kill(w->pid, SIGKILL);
    if (w->fd >= 0)
        close(w->fd); /* an idle worker reads EOF and exits */
    int status = reap(w->pid);
    if (w->capture_fd >= 0)
        close(w->capture_fd);
    w->pid = 0;
    w->fd = -1;
    w->capture_fd = -1;
    w->n_jobs = 0;
    return status;
}

/* Let idle worker w end (it reads EOF and exits) while the others finish; reaped later. */
static void worker_retire(worker *w)
{
    if (w->pid > 0 && !w->n_jobs && w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
}

e3c_status e3c_check_pool_new(e3c_check_pool **out, int workers, e3c_check_fn fn)
{
    if (!out || !fn || workers < 1 || workers > 256)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_check_pool_new: need a check and 1 to 256 workers");
    *out = NULL;
    e3c_check_pool *p = calloc(1, sizeof *p);
    if (p)
        p->w = calloc((size_t)workers, sizeof *p->w);
    if (!p || !p->w) {
        free(p);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for a check pool");
    }
    p->fn = fn;
    p->n_workers = workers;
    for (int i = 0; i < workers; i++)
        p->w[i].fd = p->w[i].capture_fd = -1;
    *out = p;
    return E3C_OK;
}

e3c_status e3c_check_pool_submit(e3c_check_pool *p, void *ctx, double timeout_s, size_t tag)
{
    if (!p || !(timeout_s > 0))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_check_pool_submit: need a pool and a timeout > 0");
    if (p->started)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_check_pool_submit: submit every check before waiting for results");
    if (p->n_queued == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        queued *q = realloc(p->queue, cap * sizeof *q);
        if (!q)
            return e3c_error_set(E3C_ERR_NOMEM, "out of memory queueing a check");
        p->queue = q;
        p->cap = cap;
    }
    p->queue[p->n_queued++] = (queued){ctx, timeout_s, tag};
    return E3C_OK;
}

/* Send job q to worker w; 0 when it has it (the first of its jobs starts its clock). */
static int send_job(worker *w, const queued *q)
{
    ssize_t sent;
    order o = {q->ctx, q->timeout_s};
    if (w->fd < 0)
        return -1;
    while ((sent = send(w->fd, &o, sizeof o, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    if (sent != (ssize_t)sizeof o)
        return -1;
    w->jobs[w->n_jobs++] = *q;
    if (w->n_jobs == 1) {
        w->start = now_s();
        w->deadline = w->start + q->timeout_s;
    }
    return 0;
}

/* Hand queued checks to idle workers, forking the ones that are not running. A single
 * worker also gets the next check ahead, so that it starts it as soon as it has sent a
 * result instead of after a round trip through the pool. (With several workers that
 * round trip overlaps the others' checks, and a check sent ahead could wait behind a
 * long one while another worker idles: measured slower.) */
static e3c_status dispatch(e3c_check_pool *p)
{
    for (int i = 0; i < p->n_workers && p->head < p->n_queued; i++) {
        worker *w = &p->w[i];
        for (int attempt = 0; !w->n_jobs && attempt < 2; attempt++) {
            e3c_status st = w->pid > 0 ? E3C_OK : worker_spawn(p, w);
            if (st)
                return st;
            if (send_job(w, &p->queue[p->head]) == 0)
                p->head++;
            else
                worker_end(w, 1); /* it ended while idle: fork a fresh one */
        }
        if (!w->n_jobs)
            return e3c_error_set(E3C_ERR_IO, "a check worker ended before it could take a check");
        if (p->n_workers == 1 && w->n_jobs == 1 && p->head < p->n_queued && send_job(w, &p->queue[p->head]) == 0)
            p->head++; /* a worker that cannot take it has died: collect finds out */
    }
    if (p->head == p->n_queued) /* nothing left to hand out: idle workers can end now */
        for (int i = 0; i < p->n_workers; i++)
            worker_retire(&p->w[i]);
    return E3C_OK;
}

/* The job waiting behind w's running one, if any, goes back to the front of the queue. */
static void requeue_waiting(e3c_check_pool *p, worker *w)
{
    if (w->n_jobs == 2)
        p->queue[--p->head] = w->jobs[1]; /* head > 0: the job was taken from there */
}

/* Worker w's running check if it has ended (result, death or deadline): 1, *tag and *out
 * filled. */
static int collect(e3c_check_pool *p, worker *w, size_t *tag, e3c_check_result *out)
{
    if (inbox_fill(&w->in, w->fd) != E3C_OK)
        w->in.eof = 1; /* cannot hold the result: treat the worker as lost */
    double now = now_s(), elapsed = now - w->start;
    *tag = w->jobs[0].tag;
    if (inbox_complete(&w->in)) {
        int bad = inbox_take(&w->in, out) != 0;
        if (bad) {
            errored_exit(out, 0, 0, 0, 0, elapsed);
            result_set(out, E3C_ERRORED, "the check process sent a malformed result");
            requeue_waiting(p, w);
            worker_end(w, 1);
            return 1;
        }
        w->jobs[0] = w->jobs[1];
        if (--w->n_jobs) {
            w->start = now;
            w->deadline = now + w->jobs[0].timeout_s;
        }
        return 1;
    }
    int hung = !w->in.eof;
    if (hung && now < w->deadline)
        return 0;
    double timeout_s = w->jobs[0].timeout_s;
    requeue_waiting(p, w);
    int capture_fd = w->capture_fd;
    w->capture_fd = -1;            /* kept until what the check printed is read */
    int status = worker_end(w, 1); /* past its deadline: killed; ended: reaped */
    errored_exit(out, status, hung, timeout_s, 0, elapsed);
    capture_take(capture_fd, out->details);
    if (capture_fd >= 0)
        close(capture_fd);
    return 1;
}

e3c_status e3c_check_pool_next(int *got, size_t *tag, e3c_check_result *out, e3c_check_pool *p, double wait_s)
{
    if (!p || !got || !tag || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_check_pool_next: NULL argument");
    *got = 0;
    p->started = 1;
    e3c_status st = dispatch(p);
    if (st)
        return st;
    double until = now_s() + (wait_s > 0 ? wait_s : 0);
    for (;;) {
        struct pollfd fds[256];
        int nf = 0;
        double wake = until;
        for (int i = 0; i < p->n_workers; i++) {
            worker *w = &p->w[i];
            if (!w->n_jobs)
                continue;
            memset(out, 0, sizeof *out);
            if (collect(p, w, tag, out)) {
                *got = 1;
                dispatch(p); /* keep the workers busy; a failure here is reported by the next call */
                return E3C_OK;
            }
            fds[nf++] = (struct pollfd){w->fd, POLLIN, 0};
            wake = w->deadline < wake ? w->deadline : wake;
        }
        double left = wake - now_s();
        if (nf == 0 || now_s() >= until)
            return E3C_OK;
        if (poll(fds, (nfds_t)nf, left > 0 ? (int)(left * 1000) + 1 : 0) < 0)
            return errno == EINTR ? E3C_OK /* a signal: the caller looks at it */
                                  : e3c_error_set(E3C_ERR_IO, "waiting for checks: %s", strerror(errno));
    }
}

size_t e3c_check_pool_running(const e3c_check_pool *p)
{
    size_t n = 0;
    for (int i = 0; p && i < p->n_workers; i++)
        n += p->w[i].n_jobs != 0;
    return n;
}

void e3c_check_pool_free(e3c_check_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_workers; i++) { /* all at once: the workers end in parallel */
        worker *w = &p->w[i];
        if (w->pid > 0 && w->n_jobs)
            kill(w->pid, SIGKILL);
        if (w->pid > 0 && w->fd >= 0)
            close(w->fd); /* an idle worker reads EOF and exits */
    }
    for (int i = 0; i < p->n_workers; i++) {
        if (p->w[i].pid > 0)
            reap(p->w[i].pid);
        if (p->w[i].pid > 0 && p->w[i].capture_fd >= 0)
            close(p->w[i].capture_fd);
        free(p->w[i].in.buf);
    }
    free(p->w);
    free(p->queue);
    free(p);
}
