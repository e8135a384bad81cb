/* e3check — the checks: assert_auto_jitable and equivariance (e3nn.util.test in C), on a
 * framework module or on a TorchScript file with declared irreps, with structured results
 * and optional isolation in a child process.
 *
 * Every check returns an e3c_check_result: PASSED (the property holds), FAILED (it is
 * broken), ERRORED (the subject could not be built, loaded or run: an exception, a crash,
 * a timeout) or SKIPPED, with a one-line message, measured numbers in `details` (a cJSON
 * object the result owns), the time taken and the seed that replays it.
 */
#ifndef E3CHECK_CHECKS_H
#define E3CHECK_CHECKS_H

#include "e3check/export.h"

#include <cjson/cJSON.h>
#include <stdint.h>

#include "e3check/module.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Verdict of one check. */
typedef enum e3c_verdict { E3C_PASSED = 0, E3C_FAILED = 1, E3C_ERRORED = 2, E3C_SKIPPED = 3 } e3c_verdict;

/** "PASSED", "FAILED", "ERRORED" or "SKIPPED". */
E3C_API const char *e3c_verdict_name(e3c_verdict v);

/** The result of one check. Free with e3c_check_result_free(). */
typedef struct e3c_check_result {
    e3c_verdict status;
    char message[1024]; /**< one line */
    double duration_s;
    uint64_t seed;
    cJSON *details; /**< owned; measured numbers, tolerances, steps */
} e3c_check_result;

/** Free the details and reset the result. NULL-safe. */
E3C_API void e3c_check_result_free(e3c_check_result *r);

/** What is checked: a framework module, or a TorchScript module (e.g. loaded from a file)
 *  with irreps declared by the caller. Borrowed pointers; specs are owned by the caller. */
typedef struct e3c_subject {
    e3c_module *module;     /**< or NULL */
    e3c_jit_module *script; /**< or NULL (exactly one of module/script) */
    const char *path;       /**< the file the script came from, for messages (may be NULL) */
    const e3c_arg_spec *irreps_in;
    size_t n_in;
    const e3c_arg_spec *irreps_out;
    size_t n_out;
    e3c_dtype dtype; /**< dtype of random inputs */
} e3c_subject;

/* ------------------------------------------------------------------ equivariance -- */

/** Options of the equivariance check; initialise with E3C_EQUIVARIANCE_OPTIONS_INIT. */
typedef struct e3c_equivariance_options {
    int ntrials;              /**< rotations per case (e3nn default 1) */
    int do_parity;            /**< also the improper rotations -R */
    int do_translation;       /**< also translate cartesian_points inputs */
    double tolerance;         /**< <= 0: e3nn's, 1e-3 for float32 and 1e-9 for float64 */
    uint64_t seed;            /**< torch.manual_seed(seed) before the draws, as in e3nn */
    int batch;                /**< batch of random inputs; 0: drawn in 1..4 */
    const e3c_values *inputs; /**< fixed inputs (e3nn's args_in), or NULL for random ones */
} e3c_equivariance_options;
/* clang-format off */
#define E3C_EQUIVARIANCE_OPTIONS_INIT {1, 1, 1, 0.0, 0, 0, NULL}
/* clang-format on */
/** e3nn's equivariance_error + assert_equivariant on random inputs of the declared irreps.
 *  Cases (parity_k, did_translate) in e3nn's order; inputs transformed in float64 by
 *  D_from_matrix, cartesian_points rotated and translated, none left alone; the seeded
 *  draws are e3nn's (rand(2), rand(()) per rotation, randn(1, 3) per translation).
 *  details: cases with max error per output and per irrep block, tolerance, the worst
 *  rotation, translation and case, and e3nn's formatted message. Never fails as a C call
 *  except for bad arguments: problems are in the result. */
E3C_API e3c_status e3c_check_equivariance(e3c_check_result *out, const e3c_subject *s,
                                          const e3c_equivariance_options *opt);

/** e3nn's format_equivariance_error line for one case:
 *  "(parity_k=K, did_translate=True|False) -> max error=%.3e in argument I". */
E3C_API void e3c_format_equivariance_case(char *buf, size_t cap, int parity_k, int translate, double max_error,
                                          int argmax);

/* ------------------------------------------------------------------ auto jitable -- */

/** Options of the auto-jitable check; initialise with E3C_AUTO_JITABLE_OPTIONS_INIT. */
typedef struct e3c_auto_jitable_options {
    int n_trace_checks;    /**< e3nn default 2 */
    int strict_shapes;     /**< cut 1..3 columns of each input in turn and demand an error */
    int roundtrip;         /**< save, reload, rerun: identical outputs */
    int error_on_warnings; /**< tracer warnings are failures (e3nn default on) */
    uint64_t seed;
    int batch; /**< batch of random inputs; 0: drawn in 1..4 */
} e3c_auto_jitable_options;
/* clang-format off */
#define E3C_AUTO_JITABLE_OPTIONS_INIT {2, 1, 1, 1, 0, 0}
/* clang-format on */
/** e3nn's assert_auto_jitable and more. For a module: refused (FAILED) without a compile
 *  mode, with e3nn's message; compiled (a copy: the subject stays untouched), compiled and
 *  eager outputs compared on fresh inputs (tolerance by dtype), strict shapes for every
 *  input unless the module has its own tracing inputs, save/reload round trip. For a
 *  TorchScript file: runs on random inputs of the declared widths, strict shapes, round
 *  trip. details: each step's outcome, the warnings, and the compiled tree. */
E3C_API e3c_status e3c_check_auto_jitable(e3c_check_result *out, const e3c_subject *s,
                                          const e3c_auto_jitable_options *opt);

/* ------------------------------------------------------------------ normalized ---- */

/** Options of the normalized check (e3nn's assert_normalized); initialise with
 *  E3C_NORMALIZED_OPTIONS_INIT (e3nn's defaults). */
typedef struct e3c_normalized_options {
    const char *normalization;  /**< "component" (NULL) or "norm", of the inputs and the targets */
    int n_input;                /**< random inputs per weight draw (e3nn 10000) */
    int n_weight;               /**< weight draws; 0: e3nn's default, 20 (1 without weights) */
    double atol;                /**< allowed |<x_i^2> - target| (e3nn 0.1) */
    uint64_t seed;              /**< seeds the one generator of every draw, as torch.manual_seed */
    const char *const *weights; /**< state-dict names of the parameters to re-initialise; NULL: all */
    size_t n_weights;
    e3c_generator *generator; /**< borrowed; when set, the draws continue it and `seed` is only
                                     reported (e3nn's global generator after building the module) */
} e3c_normalized_options;
/* clang-format off */
#define E3C_NORMALIZED_OPTIONS_INIT {NULL, 10000, 0, 0.1, 0, NULL, 0, NULL}
/* clang-format on */
/** e3nn's assert_normalized on a copy of the subject (the subject stays untouched):
 *  n_weight times, every weight (the module's or the file's parameters, or those named)
 *  is redrawn from a standard normal (param.normal_()), then n_input component-normalised
 *  random inputs of the declared irreps (each irrep's columns divided by sqrt(2l+1) for
 *  "norm") go through it; the running mean of each output component's square must be
 *  within atol of 1 ("component") or 1/sqrt(2l+1) ("norm", e3nn's target). All draws come
 *  from one generator in e3nn's order (each parameter, then each input). FAILED with
 *  e3nn's message for the first irrep out of tolerance; details: per output irrep its
 *  target, worst component and error. ERRORED for an invalid normalization, inputs that
 *  cannot be drawn, a forward that fails or returns other shapes; SKIPPED when every
 *  input or every output has no irreps (e3nn then checks nothing). */
E3C_API e3c_status e3c_check_normalized(e3c_check_result *out, const e3c_subject *s, const e3c_normalized_options *opt);

/* ------------------------------------------------------------------ isolation ----- */

/** A check to run in a child process: fill *out (called in the child). */
typedef void (*e3c_check_fn)(void *ctx, e3c_check_result *out);

/** Run `fn` in a forked child with a time limit (seconds, > 0) and return its result: a
 *  crash (signal), an exit without a result, or the time limit becomes ERRORED naming the
 *  signal or the timeout, and the caller goes on. The child's result crosses as JSON.
 *  Every child (here and in the pool below) is killed when the thread that forked it ends
 *  (PR_SET_PDEATHSIG: fork from a thread that outlives the checks), ends itself by SIGALRM
 *  at 1.25 x its time limit + 6 s should nobody kill it, and has its standard output and
 *  error captured: the first 4 KiB go into the result's details ("output", "output_bytes",
 *  "output_truncated"), also when it crashed or timed out; its files stop at 16 MiB. */
E3C_API e3c_status e3c_check_isolated(e3c_check_result *out, e3c_check_fn fn, void *ctx, double timeout_s);

/** A check running in a child process (see e3c_check_start). */
typedef struct e3c_check_job e3c_check_job;

/** Start `fn` in a forked child with a time limit; *out is the running job (caller owns;
 *  finish it with e3c_check_job_finish). */
E3C_API e3c_status e3c_check_start(e3c_check_job **out, e3c_check_fn fn, void *ctx, double timeout_s);

/** The descriptor to poll for the job's output (readable when it writes or ends). */
E3C_API int e3c_check_job_fd(const e3c_check_job *job);

/** Seconds until the job's deadline (<= 0 when past). */
E3C_API double e3c_check_job_time_left(const e3c_check_job *job);

/** Read what the child wrote so far without blocking; *done = 1 once it has finished or
 *  its deadline passed. */
E3C_API e3c_status e3c_check_job_poll(int *done, e3c_check_job *job);

/** Wait for the child (killing it when past its deadline, or when `kill_now`), fill
 *  *out with its result (or an ERRORED one naming the signal or the timeout) and free
 *  the job. */
E3C_API e3c_status e3c_check_job_finish(e3c_check_result *out, e3c_check_job *job, int kill_now);

/** A pool of worker processes that run checks: each worker is forked once and runs the
 *  checks it is handed one after another, so a check costs no fork of its own. Isolation
 *  is e3c_check_start's: checks never run in the caller's process; a worker that crashes,
 *  exits or passes a check's time limit ends that check ERRORED (naming the signal, the
 *  status or the timeout) and is replaced by a fresh fork for the next one. Workers see
 *  the caller's memory as it is when they are forked, so every context must be complete
 *  before the first e3c_check_pool_next and unchanged until the pool is freed. */
typedef struct e3c_check_pool e3c_check_pool;

/** A pool of `workers` (1 to 256) running `fn`; no process is forked yet. Caller owns *out
 *  (e3c_check_pool_free). */
E3C_API e3c_status e3c_check_pool_new(e3c_check_pool **out, int workers, e3c_check_fn fn);

/** Queue fn(ctx) with a time limit (seconds, > 0); its result comes back with `tag`.
 *  E3C_ERR_INVALID once results have been asked for. */
E3C_API e3c_status e3c_check_pool_submit(e3c_check_pool *p, void *ctx, double timeout_s, size_t tag);

/** Start queued checks on idle workers and wait up to wait_s seconds (or until a signal)
 *  for one to end: then *got = 1, *tag is its tag and *out its result (caller owns);
 *  otherwise *got = 0. A pool of one worker also sends it the next check ahead (it starts
 *  when the running one's result is out; if the worker dies first, that check goes back
 *  to the queue). Once every queued check has been handed out, idle workers are told to
 *  end, so they exit while the last checks run; e3c_check_pool_free reaps them. */
E3C_API e3c_status e3c_check_pool_next(int *got, size_t *tag, e3c_check_result *out, e3c_check_pool *p, double wait_s);

/** How many checks are running now. */
E3C_API size_t e3c_check_pool_running(const e3c_check_pool *p);

/** Stop the workers (killing checks still running), wait for them to exit and free the
 *  pool. */
E3C_API void e3c_check_pool_free(e3c_check_pool *p);

/** The result as a JSON object {status, message, duration_s, seed, details}; the result
 *  keeps its details (they are copied). Caller owns the returned object; NULL when out of
 *  memory. */
E3C_API cJSON *e3c_check_result_to_json(const e3c_check_result *r);

/** The inverse of e3c_check_result_to_json (details copied). */
E3C_API e3c_status e3c_check_result_from_json(e3c_check_result *out, const cJSON *json);

#ifdef __cplusplus
}
#endif
#endif
