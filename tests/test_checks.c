/* The checks catch what they must: synthetic broken modules, each failing exactly the
 * property it breaks; crashes and hangs end ERRORED without stopping the run. */
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <stdlib.h>

#include "e3check/checks.h"
#include "e3check/nn.h"
#include "e3check/report.h"
#include "test_util.h"

static e3c_status give(e3c_values **out, e3c_tensor *t)
{
    e3c_status st = e3c_values_new(out);
    if (!st)
        st = e3c_values_push(*out, t);
    e3c_tensor_free(t);
    return st;
}

static e3c_status identity(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self;
    e3c_tensor *t = NULL;
    e3c_status st = e3c_tensor_unary(&t, e3c_values_get(in, 0), E3C_OP_CLONE);
    return st ? st : give(out, t);
}

/* 1x0e+1x1o -> the vector's x component written over the scalar */
static e3c_status mix_scalar_vector(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self;
    const e3c_tensor *x = e3c_values_get(in, 0);
    e3c_tensor *vx = NULL, *rest = NULL, *y = NULL;
    e3c_values *parts = NULL;
    e3c_status st = e3c_tensor_narrow(&vx, x, -1, 1, 1);
    if (!st)
        st = e3c_tensor_narrow(&rest, x, -1, 1, 3);
    if (!st)
        st = e3c_values_new(&parts);
    if (!st)
        st = e3c_values_push(parts, vx);
    if (!st)
        st = e3c_values_push(parts, rest);
    if (!st)
        st = e3c_tensor_cat(&y, parts, -1);
    e3c_tensor_free(vx), e3c_tensor_free(rest), e3c_values_free(parts);
    return st ? st : give(out, y);
}

static e3c_status sum_last(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self;
    e3c_tensor *t = NULL;
    e3c_status st = e3c_tensor_sum(&t, e3c_values_get(in, 0), -1, 1);
    return st ? st : give(out, t);
}

static e3c_status crash_abort(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self, (void)in, (void)out;
    abort();
}

static e3c_status crash_segv(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self, (void)in, (void)out;
    raise(SIGSEGV);
    return E3C_ERR_INTERNAL;
}

static e3c_status hang(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self, (void)in, (void)out;
    for (volatile unsigned i = 0;; i++) /* unsigned: wrapping is defined, the loop never ends */
        ;
    return E3C_ERR_INTERNAL;
}

static e3c_status exhaust_memory(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self, (void)in;
    int64_t huge[2] = {1 << 20, (int64_t)1 << 30}; /* 2^50 floats: 4 PiB */
    e3c_tensor *t = NULL;
    e3c_status st = e3c_tensor_zeros(&t, E3C_FLOAT32, huge, 2);
    if (!st)
        st = e3c_values_new(out);
    if (!st)
        st = e3c_values_push(*out, t);
    e3c_tensor_free(t);
    return st;
}

static const e3c_module_class mix_class = {.name = "MixScalarVector", .mode = "trace", .forward = mix_scalar_vector};
static const e3c_module_class identity_class = {.name = "Identity", .mode = "trace", .forward = identity};
static const e3c_module_class sum_class = {.name = "SumAnyWidth", .mode = "trace", .forward = sum_last};
static const e3c_module_class differs_class = {.name = "ScriptDiffers",
                                               .mode = "script",
                                               .forward = identity,
                                               .script_source = "def forward(self, x):\n    return x * 2.0\n"};
static const e3c_module_class abort_class = {.name = "Aborts", .mode = "trace", .forward = crash_abort};
static const e3c_module_class segv_class = {.name = "Segfaults", .mode = "trace", .forward = crash_segv};
static const e3c_module_class hang_class = {.name = "Hangs", .mode = "trace", .forward = hang};
static const e3c_module_class memory_class = {.name = "ExhaustsMemory", .mode = "trace", .forward = exhaust_memory};

typedef struct fixture {
    e3c_module *m;
    e3c_arg_spec in[1], out[1];
    e3c_subject s;
} fixture;

static void make(fixture *f, const e3c_module_class *cls, const char *in, const char *out, e3c_dtype dtype)
{
    memset(f, 0, sizeof *f);
    E3C_ASSERT_OK(e3c_module_new(&f->m, cls, NULL));
    E3C_ASSERT_OK(e3c_module_set_irreps_in(f->m, &in, 1));
    E3C_ASSERT_OK(e3c_module_set_irreps_out(f->m, &out, 1));
    E3C_ASSERT_OK(e3c_arg_spec_parse(&f->in[0], in));
    E3C_ASSERT_OK(e3c_arg_spec_parse(&f->out[0], out));
    f->s = (e3c_subject){f->m, NULL, NULL, f->in, 1, f->out, 1, dtype};
}

static void drop(fixture *f)
{
    e3c_module_free(f->m);
    e3c_arg_spec_free(&f->in[0]);
    e3c_arg_spec_free(&f->out[0]);
}

/* Case k of an equivariance result: passed? */
static int case_passed(const e3c_check_result *r, int k)
{
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(r->details, "cases"), k);
    cr_assert_not_null(c, "case %d missing", k);
    return cJSON_IsTrue(cJSON_GetObjectItem(c, "passed"));
}

Test(equivariance, mixing_0e_and_1o_fails_rotation)
{
    fixture f;
    make(&f, &mix_class, "1x0e+1x1o", "1x0e+1x1o", E3C_FLOAT64);
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_equivariance(&r, &f.s, NULL));
    cr_assert_eq(r.status, E3C_FAILED, "%s", r.message);
    cr_assert_not(case_passed(&r, 0));
    /* the per-block errors point at the scalar block */
    const cJSON *blocks = cJSON_GetObjectItem(
        cJSON_GetArrayItem(
            cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r.details, "cases"), 0), "outputs"), 0),
        "blocks");
    cr_assert_gt(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 0), "max_error")->valuedouble, 1e-3);
    cr_assert_lt(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 1), "max_error")->valuedouble, 1e-12);
    e3c_check_result_free(&r);
    drop(&f);
}

Test(equivariance, wrongly_declared_parity_fails_only_the_parity_cases)
{
    fixture f;
    make(&f, &identity_class, "1x1o", "1x1e", E3C_FLOAT64);
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_equivariance(&r, &f.s, NULL));
    cr_assert_eq(r.status, E3C_FAILED);
    cr_assert(case_passed(&r, 0));
    cr_assert_not(case_passed(&r, 1));
    cr_assert(strstr(r.message, "(parity_k=1, did_translate=False) -> max error="), "%s", r.message);
    const char *formatted = cJSON_GetObjectItem(r.details, "formatted")->valuestring;
    cr_assert(strstr(formatted, "(parity_k=0, did_translate=False) -> max error=0.000e+00 in argument 0\n"), "%s",
              formatted);
    e3c_check_result_free(&r);
    drop(&f);
}

Test(equivariance, absolute_positions_fail_only_the_translation_cases)
{
    fixture f;
    make(&f, &identity_class, "cartesian_points", "1x1o", E3C_FLOAT64);
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_equivariance(&r, &f.s, NULL));
    cr_assert_eq(r.status, E3C_FAILED);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r.details, "cases")), 4);
    cr_assert(case_passed(&r, 0));
    cr_assert_not(case_passed(&r, 1));
    cr_assert(case_passed(&r, 2));
    cr_assert_not(case_passed(&r, 3));
    e3c_check_result_free(&r);
    drop(&f);
}

Test(equivariance, same_seed_same_numbers_and_format_matches_e3nn)
{
    char line[160];
    e3c_format_equivariance_case(line, sizeof line, 1, 1, 0.5, 0);
    cr_assert_str_eq(line, "(parity_k=1, did_translate=True) -> max error=5.000e-01 in argument 0");
    fixture f;
    make(&f, &mix_class, "1x0e+1x1o", "1x0e+1x1o", E3C_FLOAT32);
    e3c_equivariance_options o = E3C_EQUIVARIANCE_OPTIONS_INIT;
    o.seed = 11;
    e3c_check_result a, b;
    E3C_ASSERT_OK(e3c_check_equivariance(&a, &f.s, &o));
    E3C_ASSERT_OK(e3c_check_equivariance(&b, &f.s, &o));
    cr_assert_eq(cJSON_GetObjectItem(a.details, "max_error")->valuedouble,
                 cJSON_GetObjectItem(b.details, "max_error")->valuedouble);
    cr_assert_eq(a.seed, 11);
    cr_assert_eq(cJSON_GetObjectItem(a.details, "tolerance")->valuedouble, 1e-3);
    e3c_check_result_free(&a), e3c_check_result_free(&b);
    drop(&f);
}

Test(auto_jitable, accepting_any_width_fails_strict_shapes)
{
    fixture f;
    make(&f, &sum_class, "2x1o", "1x0e", E3C_FLOAT32);
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_auto_jitable(&r, &f.s, NULL));
    cr_assert_eq(r.status, E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "Traced function didn't error on bad input shape: input 0 accepted a width of 5"), "%s",
              r.message);
    cr_assert(strstr(r.message, "the module must check each input's last dimension itself"), "no next step: %s",
              r.message);
    e3c_check_result_free(&r);
    drop(&f);
}

Test(auto_jitable, compiled_form_that_differs_from_eager_fails)
{
    fixture f;
    make(&f, &differs_class, "1x1o", "1x1o", E3C_FLOAT64);
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_auto_jitable(&r, &f.s, NULL));
    cr_assert_eq(r.status, E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "differs from the eager one"), "%s", r.message);
    e3c_check_result_free(&r);
    drop(&f);
}

Test(auto_jitable, unannotated_module_is_refused_with_e3nns_message)
{
    static const e3c_module_class plain = {.name = "Plain", .mode = NULL, .forward = identity};
    fixture f;
    make(&f, &plain, "1x1o", "1x1o", E3C_FLOAT32);
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_auto_jitable(&r, &f.s, NULL));
    cr_assert_eq(r.status, E3C_FAILED);
    cr_assert_str_eq(r.message, "assert_auto_jitable is only for modules marked with @compile_mode");
    e3c_check_result_free(&r);
    drop(&f);
}

Test(auto_jitable, a_good_traced_module_passes_with_its_tree)
{
    e3c_module *norm = NULL;
    E3C_ASSERT_OK(e3c_norm_new(&norm, "2x0e+1x1o", 0));
    e3c_arg_spec in, out;
    E3C_ASSERT_OK(e3c_arg_spec_parse(&in, "2x0e+1x1o"));
    E3C_ASSERT_OK(e3c_arg_spec_parse(&out, "3x0e"));
    e3c_subject s = {norm, NULL, NULL, &in, 1, &out, 1, E3C_FLOAT32};
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_auto_jitable(&r, &s, NULL));
    cr_assert_eq(r.status, E3C_PASSED, "%s", r.message);
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(r.details, "compiled_tree"), 0)->valuestring,
                     "root Norm mode=trace traced");
    cr_assert_eq(e3c_module_compiled_as(norm), E3C_EAGER, "the subject is left untouched");
    e3c_check_result_free(&r);
    E3C_ASSERT_OK(e3c_check_equivariance(&r, &s, NULL));
    cr_assert_eq(r.status, E3C_PASSED, "%s", r.message);
    e3c_check_result_free(&r);
    e3c_arg_spec_free(&in), e3c_arg_spec_free(&out);
    e3c_module_free(norm);
}

typedef struct iso {
    const e3c_module_class *cls;
} iso;

static void run_equivariance(void *ctx, e3c_check_result *out)
{
    fixture f;
    make(&f, ((iso *)ctx)->cls, "1x1o", "1x1o", E3C_FLOAT32);
    e3c_check_equivariance(out, &f.s, NULL);
    drop(&f);
}

/* Deliberate crashes may print a sanitizer report: stderr goes to /dev/null between
 * stderr_off() and stderr_on(its result). */
static int stderr_off(void)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO), null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, STDERR_FILENO);
    close(null_fd);
    return saved;
}

static void stderr_on(int saved)
{
    dup2(saved, STDERR_FILENO);
    close(saved);
}

Test(isolation, abort_segfault_and_endless_loop_end_errored)
{
    const e3c_module_class *classes[3] = {&abort_class, &segv_class, &hang_class};
    /* Under AddressSanitizer a crash ends the child through ASan's own handler (an exit
     * status instead of the signal): still ERRORED, and named as such. */
    const char *needles[3] = {"signal 6", "signal 11", "timed out after 1 s"};
    for (int i = 0; i < 3; i++) {
        iso ctx = {classes[i]};
        e3c_check_result r;
        int saved = stderr_off();
        /* only the endless loop gets the short limit: a crash on a loaded machine may take
         * longer than 1 s to happen, and must still be named as the crash */
        e3c_status st = e3c_check_isolated(&r, run_equivariance, &ctx, i == 2 ? 1.0 : 30.0);
        stderr_on(saved);
        E3C_ASSERT_OK(st);
        int named = strstr(r.message, needles[i]) || (i < 2 && strstr(r.message, "without a result"));
        int status_ok = r.status == E3C_ERRORED;
        char message[1024];
        snprintf(message, sizeof message, "%s", r.message);
        e3c_check_result_free(&r);
        cr_assert(status_ok, "%s: %s", classes[i]->name, message);
        cr_assert(named, "%s: %s", classes[i]->name, message);
    }
    /* a module that asks for more memory than exists ends ERRORED too */
    iso mem = {&memory_class};
    e3c_check_result rm;
    int saved = stderr_off();
    e3c_status mst = e3c_check_isolated(&rm, run_equivariance, &mem, 30.0);
    stderr_on(saved);
    E3C_ASSERT_OK(mst);
    cr_assert_eq(rm.status, E3C_ERRORED, "%s", rm.message);
    e3c_check_result_free(&rm);

    iso ok = {&identity_class};
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_isolated(&r, run_equivariance, &ok, 30.0));
    cr_assert_eq(r.status, E3C_PASSED, "%s", r.message);
    cr_assert_not_null(cJSON_GetObjectItem(r.details, "cases"), "details cross the process boundary");
    e3c_check_result_free(&r);
}

/* ---- the worker pool: processes reused across checks, replaced when they die ---- */

typedef struct pool_case {
    const e3c_module_class *cls; /* NULL: report the worker's pid instead of checking */
} pool_case;

static void pool_check(void *ctx, e3c_check_result *out)
{
    pool_case *c = ctx;
    if (c->cls) {
        iso i = {c->cls};
        run_equivariance(&i, out);
        return;
    }
    memset(out, 0, sizeof *out);
    out->status = E3C_PASSED;
    snprintf(out->message, sizeof out->message, "%ld", (long)getpid());
    out->details = cJSON_CreateObject();
}

Test(isolation, pool_reuses_workers_and_replaces_the_ones_that_die)
{
    pool_case pid = {NULL}, ok = {&identity_class}, aborts = {&abort_class}, segv = {&segv_class},
              hangs = {&hang_class};
    /* tag: 0-2 pid, 3 abort, 4 pid, 5 hang, 6 pid, 7 segv, 8 ok, 9 pid */
    pool_case *order[10] = {&pid, &pid, &pid, &aborts, &pid, &hangs, &pid, &segv, &ok, &pid};
    e3c_check_pool *p = NULL;
    E3C_ASSERT_OK(e3c_check_pool_new(&p, 1, pool_check));
    for (size_t i = 0; i < 10; i++)
        E3C_ASSERT_OK(e3c_check_pool_submit(p, order[i], order[i] == &hangs ? 1.0 : 30.0, i));
    e3c_check_result r[10];
    int seen[10] = {0};
    int saved = stderr_off();
    for (int done = 0; done < 10;) {
        int got = 0;
        size_t tag = 99;
        e3c_check_result one;
        E3C_ASSERT_OK(e3c_check_pool_next(&got, &tag, &one, p, 5.0));
        if (!got)
            continue;
        cr_assert(tag < 10 && !seen[tag], "tag %zu returned twice or out of range", tag);
        r[tag] = one, seen[tag] = 1, done++;
    }
    stderr_on(saved);
    E3C_ASSERT_FAILS(e3c_check_pool_submit(p, &pid, 1.0, 10), E3C_ERR_INVALID, "before waiting");
    cr_assert_eq(e3c_check_pool_running(p), 0);
    e3c_check_pool_free(p);
    long self = (long)getpid();
    for (int i = 0; i < 10; i++) {
        e3c_verdict want = order[i] == &pid || order[i] == &ok ? E3C_PASSED : E3C_ERRORED;
        cr_assert_eq(r[i].status, want, "check %d: %s", i, r[i].message);
    }
    cr_assert(strstr(r[3].message, "signal 6") || strstr(r[3].message, "without a result"), "%s", r[3].message);
    cr_assert(strstr(r[5].message, "timed out after 1 s"), "%s", r[5].message);
    cr_assert(strstr(r[7].message, "signal 11") || strstr(r[7].message, "without a result"), "%s", r[7].message);
    long w0 = atol(r[0].message), w4 = atol(r[4].message), w6 = atol(r[6].message), w9 = atol(r[9].message);
    cr_assert(w0 != self, "checks never run in the caller's process");
    cr_assert(w0 == atol(r[1].message) && w0 == atol(r[2].message), "one worker ran the first three checks");
    cr_assert(w4 != w0 && w6 != w4 && w9 != w6, "a worker that died or hung was replaced (%ld %ld %ld %ld)", w0, w4, w6,
              w9);
    for (int i = 0; i < 10; i++)
        e3c_check_result_free(&r[i]);
}

/* Run n checks that report their worker's pid on pool p; pids[tag] = that pid. */
static void run_pid_checks(e3c_check_pool *p, size_t n, long *pids)
{
    static pool_case pid = {NULL};
    for (size_t i = 0; i < n; i++)
        E3C_ASSERT_OK(e3c_check_pool_submit(p, &pid, 30.0, i));
    for (size_t done = 0; done < n;) {
        int got = 0;
        size_t tag = 0;
        e3c_check_result r;
        E3C_ASSERT_OK(e3c_check_pool_next(&got, &tag, &r, p, 5.0));
        if (got) {
            cr_assert_eq(r.status, E3C_PASSED, "%s", r.message);
            cr_assert_lt(tag, n);
            pids[tag] = atol(r.message);
            e3c_check_result_free(&r);
            done++;
        }
    }
}

Test(isolation, pool_spreads_checks_over_its_workers)
{
    e3c_check_pool *p = NULL;
    E3C_ASSERT_OK(e3c_check_pool_new(&p, 3, pool_check));
    long pids[12];
    run_pid_checks(p, 12, pids);
    e3c_check_pool_free(p);
    int distinct = 0;
    for (int i = 0; i < 12; i++) {
        int first = 1;
        for (int j = 0; j < i; j++)
            first &= pids[j] != pids[i];
        distinct += first;
    }
    cr_assert_eq(distinct, 3, "%d workers for a pool of 3 with work for all", distinct);
    E3C_ASSERT_FAILS(e3c_check_pool_new(&p, 0, pool_check), E3C_ERR_INVALID, "1 to 256 workers");
}

/* 1 when process pid has exited (a zombie not yet reaped). It waits for that state, not a
 * time: the bound (10 minutes) only keeps a broken pool from hanging the test forever. */
static int ends_eventually(long pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    for (int i = 0; i < 60000; i++) {
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        const char *state = strrchr(buf, ')');
        if (!f || (state && state[1] == ' ' && (state[2] == 'Z' || state[2] == 'X')))
            return 1;
        usleep(10000);
    }
    return 0;
}

Test(isolation, pool_workers_end_once_nothing_is_left_to_hand_out)
{
    /* the last results and the caller's own work (reports) overlap with the workers ending */
    e3c_check_pool *p = NULL;
    E3C_ASSERT_OK(e3c_check_pool_new(&p, 2, pool_check));
    long pids[4] = {0};
    run_pid_checks(p, 4, pids);
    for (int i = 0; i < 4; i++)
        cr_assert(ends_eventually(pids[i]), "worker %ld still runs with nothing left to do", pids[i]);
    cr_assert_eq(e3c_check_pool_running(p), 0);
    e3c_check_pool_free(p); /* reaps them */
    for (int i = 0; i < 4; i++)
        cr_assert(kill((pid_t)pids[i], 0) != 0, "worker %ld was not reaped", pids[i]);
}

/* ---- issue 13 items 1-5: verdicts fail closed ---- */

#include "e3check/fixture.h"
#include "e3check/registry.h"

/* Run check `kind` of the fixture written as JSON text. */
static void run_fixture_text(const char *text, e3c_check_kind kind, e3c_check_result *r)
{
    cJSON *fx = cJSON_Parse(text);
    cr_assert_not_null(fx, "bad fixture text %s", text);
    E3C_ASSERT_OK(e3c_fixture_run_check(r, fx, ".", kind, NULL));
    cJSON_Delete(fx);
}

Test(golden, nan_or_inf_where_a_finite_value_is_expected_fails_naming_output_and_index)
{
    /* weight 1e999 (inf): the input 0 gives NaN, the input 1 gives inf */
    e3c_check_result r;
    run_fixture_text("{\"name\":\"inf_weight\",\"module\":{\"type\":\"Linear\",\"args\":[\"1x0e\",\"1x0e\"]},"
                     "\"parameters\":{\"weight\":[1e999]},\"dtype\":\"float64\",\"inputs\":[[[0.0],[1.0]]],"
                     "\"checks\":{\"golden\":{\"output\":[[0.0],[1.0]]}}}",
                     E3C_CHECK_GOLDEN, &r);
    cr_assert_eq(r.status, E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "output 0") && strstr(r.message, "index [0, 0]") && strstr(r.message, "nan"), "%s",
              r.message);
    e3c_check_result_free(&r);
    run_fixture_text("{\"name\":\"inf_weight\",\"module\":{\"type\":\"Linear\",\"args\":[\"1x0e\",\"1x0e\"]},"
                     "\"parameters\":{\"weight\":[1e999]},\"dtype\":\"float64\",\"inputs\":[[[1.0],[2.0]]],"
                     "\"checks\":{\"golden\":{\"output\":[[1.0],[2.0]]}}}",
                     E3C_CHECK_GOLDEN, &r);
    cr_assert_eq(r.status, E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "output 0") && strstr(r.message, "index [0, 0]") && strstr(r.message, "inf"), "%s",
              r.message);
    cr_assert(!strstr(r.message, "0.000e+00"), "%s", r.message);
    e3c_check_result_free(&r);
}

Test(golden, shapes_must_match_not_only_the_number_of_values)
{
    const char *fmt = "{\"name\":\"shape\",\"module\":{\"type\":\"Linear\",\"args\":[\"1x0e\",\"1x0e\"]},"
                      "\"parameters\":{\"weight\":[1.0]},\"dtype\":\"float64\",\"inputs\":[[[1.0],[2.0]]],"
                      "\"checks\":{\"golden\":{\"output\":%s}}}";
    char text[512];
    e3c_check_result r;
    snprintf(text, sizeof text, fmt, "[[1.0],[2.0]]");
    run_fixture_text(text, E3C_CHECK_GOLDEN, &r);
    cr_assert_eq(r.status, E3C_PASSED, "the right shape passes: %s", r.message);
    e3c_check_result_free(&r);
    snprintf(text, sizeof text, fmt, "[[1.0,2.0]]");
    run_fixture_text(text, E3C_CHECK_GOLDEN, &r);
    cr_assert_eq(r.status, E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "output 0 has shape [2, 1], expected [1, 2]"), "%s", r.message);
    e3c_check_result_free(&r);
}

static e3c_status build_nothing(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    (void)args, (void)kwargs;
    *out = NULL; /* a constructor that "succeeds" without a module */
    return E3C_OK;
}

Test(fail_closed, a_constructor_that_gives_no_module_errors_every_check)
{
    E3C_ASSERT_OK(e3c_registry_add("GivesNothing", build_nothing));
    const e3c_check_kind kinds[3] = {E3C_CHECK_AUTO_JITABLE, E3C_CHECK_EQUIVARIANCE, E3C_CHECK_GOLDEN};
    for (int k = 0; k < 3; k++) {
        e3c_check_result r;
        run_fixture_text("{\"name\":\"nothing\",\"module\":{\"type\":\"GivesNothing\"},\"irreps_in\":[\"1x0e\"],"
                         "\"irreps_out\":[\"1x0e\"],\"inputs\":[[[1.0]]],\"checks\":{\"auto_jitable\":true,"
                         "\"equivariance\":true,\"golden\":{\"output\":[[1.0]]}}}",
                         kinds[k], &r);
        cr_assert_eq(r.status, E3C_ERRORED, "%s: %s", e3c_check_kind_name(kinds[k]), r.message);
        cr_assert(strstr(r.message, "GivesNothing") && strstr(r.message, "no module"), "%s", r.message);
        e3c_check_result_free(&r);
    }
}

Test(fail_closed, a_check_refusing_its_arguments_leaves_an_errored_result)
{
    e3c_arg_spec in;
    E3C_ASSERT_OK(e3c_arg_spec_parse(&in, "1x0e"));
    e3c_subject none = {NULL, NULL, NULL, &in, 1, &in, 1, E3C_FLOAT32};
    e3c_check_result r;
    memset(&r, 0, sizeof r); /* zeroed: PASSED with an empty message if nothing is written */
    cr_assert_eq(e3c_check_equivariance(&r, &none, NULL), E3C_ERR_INVALID);
    cr_assert_eq(r.status, E3C_ERRORED);
    cr_assert(r.message[0], "the result says why");
    e3c_check_result_free(&r);
    memset(&r, 0, sizeof r);
    cr_assert_eq(e3c_check_auto_jitable(&r, &none, NULL), E3C_ERR_INVALID);
    cr_assert_eq(r.status, E3C_ERRORED);
    e3c_check_result_free(&r);
    e3c_arg_spec_free(&in);
}

/* The first 4 columns, whatever the width: narrower inputs raise, wider ones do not. */
static e3c_status first_four(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self;
    e3c_tensor *t = NULL;
    e3c_status st = e3c_tensor_narrow(&t, e3c_values_get(in, 0), -1, 0, 4);
    return st ? st : give(out, t);
}

static e3c_status times_nan(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self;
    e3c_tensor *t = NULL;
    e3c_status st = e3c_tensor_check_last_dim(e3c_values_get(in, 0), 4, "x");
    if (!st)
        st = e3c_tensor_scalar(&t, e3c_values_get(in, 0), E3C_OP_MUL, NAN);
    return st ? st : give(out, t);
}

static const e3c_module_class first_four_class = {.name = "FirstFourColumns", .mode = "trace", .forward = first_four};
static const e3c_module_class nan_class = {.name = "TimesNaN", .mode = "trace", .forward = times_nan};

Test(auto_jitable, a_module_that_accepts_wider_inputs_fails_strict_shapes)
{
    fixture f;
    make(&f, &first_four_class, "1x0e+1x1o", "1x0e+1x1o", E3C_FLOAT64);
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_auto_jitable(&r, &f.s, NULL));
    cr_assert_eq(r.status, E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "input 0 accepted a width of 5 instead of 4"), "%s", r.message);
    e3c_check_result_free(&r);
    drop(&f);
}

Test(auto_jitable, nan_outputs_are_named_as_the_cause)
{
    fixture f;
    make(&f, &nan_class, "1x0e+1x1o", "1x0e+1x1o", E3C_FLOAT64);
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_auto_jitable(&r, &f.s, NULL));
    cr_assert_eq(r.status, E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "output 0 holds NaN at index [") && !strstr(r.message, "round trip"), "%s", r.message);
    e3c_check_result_free(&r);
    drop(&f);
}

Test(auto_jitable, out_of_memory_drawing_trace_inputs_is_errored)
{
    fixture f;
    make(&f, &identity_class, "1099511627776x0e", "1099511627776x0e", E3C_FLOAT32); /* 2^40 columns */
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_auto_jitable(&r, &f.s, NULL));
    cr_assert_eq(r.status, E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "memory"), "%s", r.message);
    e3c_check_result_free(&r);
    drop(&f);
}

Test(auto_jitable, width_zero_needs_no_narrower_input_and_can_pass)
{
    e3c_module *norm = NULL;
    E3C_ASSERT_OK(e3c_norm_new(&norm, "", 0));
    e3c_arg_spec in, out;
    E3C_ASSERT_OK(e3c_arg_spec_parse(&in, ""));
    E3C_ASSERT_OK(e3c_arg_spec_parse(&out, ""));
    e3c_subject s = {norm, NULL, NULL, &in, 1, &out, 1, E3C_FLOAT32};
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_auto_jitable(&r, &s, NULL));
    cr_assert_eq(r.status, E3C_PASSED, "%s", r.message);
    const cJSON *step = NULL, *steps = cJSON_GetObjectItem(r.details, "steps");
    const char *detail = NULL;
    cJSON_ArrayForEach(step, steps)
        if (!strcmp(cJSON_GetObjectItem(step, "step")->valuestring, "strict_shapes"))
            detail = cJSON_GetStringValue(cJSON_GetObjectItem(step, "detail"));
    cr_assert(detail && strstr(detail, "width 0"), "the strict-shape step says why it tried no narrower input: %s",
              detail ? detail : "(none)");
    e3c_check_result_free(&r);
    e3c_arg_spec_free(&in), e3c_arg_spec_free(&out);
    e3c_module_free(norm);
}

Test(equivariance, nan_outputs_show_nan_per_block_not_zero)
{
    fixture f;
    make(&f, &nan_class, "1x0e+1x1o", "1x0e+1x1o", E3C_FLOAT64);
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_equivariance(&r, &f.s, NULL));
    cr_assert_eq(r.status, E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "nan"), "%s", r.message);
    const cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(r.details, "cases"), 0);
    const cJSON *o0 = cJSON_GetArrayItem(cJSON_GetObjectItem(c0, "outputs"), 0);
    const cJSON *b0 = cJSON_GetArrayItem(cJSON_GetObjectItem(o0, "blocks"), 0);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(b0, "max_error")), "nan");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(o0, "max_error")), "nan");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(c0, "max_error")), "nan");
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(c0, "passed")));
    e3c_check_result_free(&r);
    drop(&f);
}

static void writes_nothing(void *ctx, e3c_check_result *out) { (void)ctx, (void)out; }

Test(fail_closed, an_isolated_check_that_writes_no_verdict_is_errored)
{
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_isolated(&r, writes_nothing, NULL, 30.0));
    cr_assert_eq(r.status, E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "without a verdict"), "%s", r.message);
    e3c_check_result_free(&r);
}

/* Under AddressSanitizer an allocation larger than it supports aborts the process unless
 * it may return NULL: then libtorch raises as it does in a plain build, which is what
 * out_of_memory_drawing_trace_inputs_is_errored tests (unused without the sanitizer). */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

/* Every other call returns its (batch, 1) input as (1, batch): as many values, another shape. */
static e3c_status transposed_every_other_call(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    static int calls;
    (void)self;
    const e3c_tensor *x = e3c_values_get(in, 0);
    int64_t shape[2] = {1, e3c_tensor_numel(x)};
    e3c_tensor *t = NULL;
    e3c_status st = calls++ % 2 ? e3c_tensor_unary(&t, x, E3C_OP_CLONE) : e3c_tensor_reshape(&t, x, shape, 2);
    return st ? st : give(out, t);
}

Test(equivariance, an_output_of_another_shape_under_rotation_is_named_not_broadcast)
{
    static const e3c_module_class cls = {
        .name = "TransposedEveryOtherCall", .mode = NULL, .forward = transposed_every_other_call};
    fixture f;
    make(&f, &cls, "1x0e", "1x0e", E3C_FLOAT64);
    e3c_equivariance_options o = E3C_EQUIVARIANCE_OPTIONS_INIT;
    o.batch = 2;
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_equivariance(&r, &f.s, &o));
    cr_assert_eq(r.status, E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "output 0 changed shape under rotation: [1, 2] instead of [2, 1]"), "%s", r.message);
    e3c_check_result_free(&r);
    drop(&f);
}

Test(auto_jitable, a_compiled_output_of_another_shape_fails_and_is_not_blamed_on_the_eager_forward)
{
    static const e3c_module_class cls = {.name = "ScriptAddsADimension",
                                         .mode = "script",
                                         .forward = identity,
                                         .script_source = "def forward(self, x):\n    return x.unsqueeze(0)\n"};
    fixture f;
    make(&f, &cls, "2x0e", "2x0e", E3C_FLOAT64);
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_auto_jitable(&r, &f.s, NULL));
    cr_assert_eq(r.status, E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "do not match the eager one's") && strstr(r.message, "shapes"), "%s", r.message);
    e3c_check_result_free(&r);
    drop(&f);
}

/* ------------------------------------------------------------ issue #13: output, bounds -- */

/* A check that prints, then passes or (ctx non-NULL) aborts. */
static void chatty_check(void *ctx, e3c_check_result *out)
{
    printf("a check printed this on stdout\n");
    fprintf(stderr, "and this on stderr\n");
    printf("bad byte \xe9, a bell \a, \xc3\xa9t\xc3\xa9\n");
    if (ctx) {
        fflush(NULL);
        abort();
    }
    memset(out, 0, sizeof *out);
    out->status = E3C_PASSED;
    out->details = cJSON_CreateObject();
}

static void assert_output(const e3c_check_result *r)
{
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(r->details, "output"));
    cr_assert_not_null(text, "no output in the details (%s)", r->message);
    cr_assert(strstr(text, "a check printed this on stdout") && strstr(text, "and this on stderr"), "%s", text);
    cr_assert(strstr(text, "bad byte ?, a bell ?, \xc3\xa9t\xc3\xa9\n"), "invalid UTF-8 and control bytes: %s", text);
    cr_assert_null(cJSON_GetObjectItem(r->details, "output_truncated"));
}

Test(isolation, what_a_check_prints_goes_into_its_result_even_when_it_dies)
{
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_isolated(&r, chatty_check, NULL, 30.0));
    cr_assert_eq(r.status, E3C_PASSED, "%s", r.message);
    assert_output(&r);
    e3c_check_result_free(&r);

    int dies = 1;
    e3c_check_pool *p = NULL;
    E3C_ASSERT_OK(e3c_check_pool_new(&p, 1, chatty_check));
    E3C_ASSERT_OK(e3c_check_pool_submit(p, &dies, 30.0, 0));
    E3C_ASSERT_OK(e3c_check_pool_submit(p, NULL, 30.0, 1));
    e3c_check_result got[2];
    for (int done = 0; done < 2;) {
        int have = 0;
        size_t tag = 9;
        E3C_ASSERT_OK(e3c_check_pool_next(&have, &tag, &r, p, 5.0));
        if (have) {
            cr_assert_lt(tag, 2);
            got[tag] = r, done++;
        }
    }
    e3c_check_pool_free(p);
    cr_assert_eq(got[0].status, E3C_ERRORED);
    assert_output(&got[0]); /* read by the pool from the dead worker's capture */
    cr_assert_eq(got[1].status, E3C_PASSED, "%s", got[1].message);
    assert_output(&got[1]);
    cr_assert_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(got[1].details, "output")), "\n\n"),
                   "the next check's output starts afresh");
    e3c_check_result_free(&got[0]), e3c_check_result_free(&got[1]);
}

Test(modules, a_module_tree_is_held_to_its_limit_in_all)
{
    e3c_module *m = NULL;
    e3c_module_limit_elements(1 << 20);
    E3C_ASSERT_OK(e3c_linear_new(&m, "2x0e", "3x0e", NULL));
    e3c_module_free(m);
    e3c_module_limit_elements(5); /* the 6 weights of the next Linear are one too many */
    E3C_ASSERT_FAILS(e3c_linear_new(&m, "2x0e", "3x0e", NULL), E3C_ERR_VALUE, "more than the 5 it may hold in all");
    e3c_module_limit_elements(-1);
    E3C_ASSERT_OK(e3c_linear_new(&m, "2x0e", "3x0e", NULL));
    e3c_module_free(m);
}

/* ---- issue 17 item 3: every check option is validated when the fixture is read ---- */

/* e3c_fixture_validate's message for a Norm fixture with `checks` as given, or NULL. */
static const char *validation_error(const char *checks)
{
    static char msg[1024];
    char text[1024];
    snprintf(text, sizeof text, "{\"name\":\"t\",\"module\":{\"type\":\"Norm\",\"args\":[\"1o\"]},\"checks\":%s}",
             checks);
    cJSON *fx = cJSON_Parse(text);
    cr_assert_not_null(fx, "%s", text);
    e3c_status st = e3c_fixture_validate(fx);
    cJSON_Delete(fx);
    if (!st)
        return NULL;
    snprintf(msg, sizeof msg, "%s", e3c_error_last());
    return msg;
}

Test(fixture_options, misspelled_mistyped_or_out_of_range_options_are_refused_naming_them)
{
    static const struct {
        const char *checks, *said;
    } bad[] = {
        {"{\"equivariance\":{\"ntrails\":2}}", "check \"equivariance\" has no option \"ntrails\" (it takes ntrials,"},
        {"{\"equivariance\":{\"ntrials\":\"many\"}}", "\"ntrials\" must be an integer from 1 to 1000, not \"many\""},
        {"{\"equivariance\":{\"ntrials\":1e12}}", "\"ntrials\" must be an integer from 1 to 1000"},
        {"{\"equivariance\":{\"ntrials\":1.5}}", "\"ntrials\" must be an integer"},
        {"{\"equivariance\":{\"tolerance\":-1}}", "\"tolerance\" must be a finite number > 0, not -1"},
        {"{\"equivariance\":{\"do_parity\":0}}", "\"do_parity\" must be true or false, not 0"},
        {"{\"auto_jitable\":{\"n_trace_checks\":0}}", "\"n_trace_checks\" must be an integer from 1 to 100"},
        {"{\"golden\":{\"output\":3}}", "\"output\" must be a list"},
        {"{\"golden\":{\"atol\":0}}", "\"atol\" must be a finite number > 0"},
        {"{\"normalized\":{\"normalization\":\"x\"}}", "must be one of component|norm, not \"x\""},
        {"{\"normalized\":{\"weights\":[1]}}", "\"weights\" must be a list of parameter names"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *m = validation_error(bad[i].checks);
        cr_assert_not_null(m, "accepted %s", bad[i].checks);
        cr_assert(strstr(m, bad[i].said), "%s: %s", bad[i].checks, m);
    }
    cr_assert_null(
        validation_error("{\"equivariance\":{\"ntrials\":3,\"do_parity\":false,\"tolerance\":1e-6},"
                         "\"auto_jitable\":{\"strict_shapes\":true},\"normalized\":{\"normalization\":\"norm\","
                         "\"n_input\":100,\"weights\":[\"weight\"]}}"),
        "valid options refused");
}

Test(fixture_options, seeds_a_json_number_cannot_hold_exactly_are_refused)
{
    const char *seeds[] = {"1e300", "18446744073709551616", "-1", "0.5"};
    for (int i = 0; i < 4; i++) {
        char text[256];
        snprintf(text, sizeof text, "{\"name\":\"t\",\"seed\":%s,\"module\":{\"type\":\"Norm\",\"args\":[\"1o\"]}}",
                 seeds[i]);
        cJSON *fx = cJSON_Parse(text);
        E3C_ASSERT_FAILS(e3c_fixture_validate(fx), E3C_ERR_VALUE,
                         "field \"seed\" must be an integer from 0 to 2^53 - 1");
        cJSON_Delete(fx);
    }
}

/* The parsed fixture holds each option typed, over the defaults of the options it does not
 * give, the expected verdicts, and its subject's paths joined to the fixture's folder. */
Test(fixture_options, a_parsed_fixture_holds_the_typed_options_and_expectations)
{
    cJSON *json =
        cJSON_Parse("{\"name\":\"t\",\"torchscript\":\"m.pt\",\"irreps_in\":[\"1o\"],\"irreps_out\":[\"0e\"],"
                    "\"dtype\":\"float64\",\"seed\":7,\"timeout_s\":5,\"checks\":{\"equivariance\":{\"ntrials\":3,"
                    "\"do_parity\":false,\"tolerance\":1e-6},\"auto_jitable\":false,\"golden\":{\"output\":[[1]],"
                    "\"atol\":0.5},\"normalized\":{\"normalization\":\"norm\",\"weights\":[\"a\",\"b\"]}},"
                    "\"expect\":{\"golden\":\"fail\",\"normalized\":\"error\"}}");
    e3c_fixture *fx = NULL;
    E3C_ASSERT_OK(e3c_fixture_parse(&fx, json, "/models"));
    cJSON_Delete(json); /* the fixture keeps its own copy */
    cr_assert_str_eq(fx->name, "t");
    cr_assert_str_eq(fx->torchscript, "/models/m.pt");
    cr_assert_eq(fx->dtype, E3C_FLOAT64);
    cr_assert_eq(fx->seed, 7);
    cr_assert_float_eq(e3c_fixture_time_limit(fx, NULL), 5.0, 0);
    e3c_run_settings rs = {1, 11, 60.0};
    cr_assert_eq(e3c_fixture_seed_of(fx, &rs), 11, "--seed wins");
    cr_assert_eq(fx->n_checks, 3);
    cr_assert_eq(fx->kinds[0], E3C_CHECK_EQUIVARIANCE);
    cr_assert_eq(fx->kinds[1], E3C_CHECK_GOLDEN);
    cr_assert_eq(fx->kinds[2], E3C_CHECK_NORMALIZED);
    const e3c_fixture_check *c = fx->check;
    cr_assert_eq(c[E3C_CHECK_EQUIVARIANCE].equivariance.ntrials, 3);
    cr_assert_eq(c[E3C_CHECK_EQUIVARIANCE].equivariance.do_parity, 0);
    cr_assert_eq(c[E3C_CHECK_EQUIVARIANCE].equivariance.do_translation, 1, "the default");
    cr_assert_float_eq(c[E3C_CHECK_EQUIVARIANCE].equivariance.tolerance, 1e-6, 0);
    cr_assert_float_eq(c[E3C_CHECK_GOLDEN].atol, 0.5, 0);
    cr_assert(cJSON_IsArray(c[E3C_CHECK_GOLDEN].golden_output));
    cr_assert_str_eq(c[E3C_CHECK_NORMALIZED].normalized.normalization, "norm");
    cr_assert_eq(c[E3C_CHECK_NORMALIZED].normalized.n_weights, 2);
    cr_assert_str_eq(c[E3C_CHECK_NORMALIZED].normalized.weights[1], "b");
    cr_assert_eq(c[E3C_CHECK_NORMALIZED].normalized.n_input, 10000, "the default");
    cr_assert_eq(c[E3C_CHECK_GOLDEN].expected, E3C_FAILED);
    cr_assert_eq(c[E3C_CHECK_NORMALIZED].expected, E3C_ERRORED);
    cr_assert_eq(c[E3C_CHECK_EQUIVARIANCE].expected, E3C_PASSED);
    e3c_fixture_free(fx);
}

/* A report built by a program of its own (no CLI) still has a JUnit timestamp. */
Test(report, the_first_entry_dates_a_report_left_undated)
{
    e3c_report rep;
    memset(&rep, 0, sizeof rep);
    e3c_check_result r;
    memset(&r, 0, sizeof r);
    r.status = E3C_PASSED;
    E3C_ASSERT_OK(e3c_report_add(&rep, "f", "f.json", "golden", E3C_PASSED, &r));
    cr_assert_eq(strlen(rep.start_time), 20, "start_time \"%s\"", rep.start_time);
    cr_assert_eq(rep.start_time[10], 'T');
    cr_assert_eq(rep.start_time[19], 'Z');
    e3c_report_free(&rep);
}
