/* Helpers shared by the checks (checks/ only). */
#ifndef E3CHECK_CHECK_INTERNAL_H
#define E3CHECK_CHECK_INTERNAL_H

#include "e3check/checks.h"

/* What e3nn draws with Python's `random` (batch sizes, strict-shape cuts) comes from
 * e3check's own generator (e3check/rng.h), kept apart from the torch generator so that
 * the torch draws stay in e3nn's order. */
#include "e3check/rng.h"

/* Run the subject on `in`. */
e3c_status subject_call(const e3c_subject *s, const e3c_values *in, e3c_values **out);

/* Width of a declared argument (-1 for none). */
int64_t spec_width(const e3c_arg_spec *spec);

/* The most numbers one random input may hold (2^26: 256 MiB in float32): a declared width
 * of a few characters must not exhaust memory. */
#define SUBJECT_MAX_INPUT ((int64_t)1 << 26)

/* Random inputs of the declared irreps: component randn per irreps input and randn(batch,
 * 3) per cartesian_points input, drawn from `g` in order, in `dtype`. An input larger than
 * SUBJECT_MAX_INPUT is E3C_ERR_VALUE naming its size. */
e3c_status subject_random_inputs(const e3c_subject *s, e3c_generator *g, int64_t batch, e3c_values **out);

/* The subject's name for messages: the file, or the module's class. */
const char *subject_name(const e3c_subject *s);

/* Fill a result. */
void result_set(e3c_check_result *r, e3c_verdict v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The common start of a check: the result becomes ERRORED ("did not run to its end"),
 * with empty details and the seed, so that only a check that ran to its end can make it
 * PASSED; then validate the subject (exactly one of module and script: otherwise the
 * result says so and E3C_ERR_INVALID is returned) and note the start time. */
e3c_status check_begin(const char *check, const e3c_subject *s, e3c_check_result *out, uint64_t seed, double *start);

/* Add `value` to `obj` as `key`: a number when finite, else the string "nan", "inf" or
 * "-inf" (JSON has no such numbers; cJSON would write null and lose the cause). */
void json_add_error(cJSON *obj, const char *key, double value);

/* The larger of two errors where NaN is the worst (and stays: a NaN error never becomes
 * a number again). */
double worse_error(double a, double b);

/* Look for a NaN or an infinity in t: *found = 1 with its flat index and value, else 0. */
e3c_status tensor_first_nonfinite(const e3c_tensor *t, int *found, int64_t *index, double *value);

/* The index of flat position `flat` in t's shape, as "[i, j]" in buf. */
void format_index(const e3c_tensor *t, int64_t flat, char *buf, size_t cap);

/* "[a, b, ...]" of n numbers in buf (an index or a shape). */
void format_list(const int64_t *v, int n, char *buf, size_t cap);

/* t's shape as "[2, 1]" in buf. */
void format_shape(const e3c_tensor *t, char *buf, size_t cap);

/* 1 when the last error is an allocation that failed (libtorch's or e3check's own). */
int out_of_memory(e3c_status st);

/* The steps of a check (auto_jitable, structured checks): check_steps_start marks the
 * start, then each check_add_step appends {step, outcome, duration_s since the previous
 * step, detail (may be NULL)} to `steps`. The mark is per thread. */
void check_steps_start(void);
void check_add_step(cJSON *steps, const char *name, const char *outcome, const char *detail);

/* A fixture's "inputs" (a list of nested lists of numbers, one per forward argument; NULL:
 * none, and *out stays NULL) as tensors of `dtype`. E3C_ERR_VALUE when an entry is not a
 * rectangular nested list of numbers. Caller owns *out. */
e3c_status check_fixed_inputs(e3c_values **out, const cJSON *inputs, e3c_dtype dtype);

/* The golden check (golden.c): the subject on the fixed `inputs` gives `want` (one output,
 * or a list of outputs for a subject returning several) of the same shapes within `atol`
 * (<= 0: 1e-6 float32, 1e-12 float64), relative to max(1, largest |expected|); a NaN or
 * infinity where a finite value is expected fails, naming the output and the index.
 * `out` was begun by the caller (details, seed). */
void check_golden(const e3c_subject *s, const cJSON *inputs, const cJSON *want, double atol, e3c_check_result *out);

/* One equivariance trial's draws, in e3nn's order: a rotation R (e3c_rand_matrix with
 * `n_matrix`, 0 or 1; negated when parity_k) and, when `translate`, t = 10 randn(1, 3),
 * else t = 0. Plain and structured subjects alike. */
e3c_status check_draw_case(e3c_generator *g, size_t n_matrix, int parity_k, int translate, double R[9], double t[3]);

/* x @ M^T for a d x d row-major matrix M (x float64, last dimension d). Caller owns *out. */
e3c_status check_times_transposed(const e3c_tensor *x, const double *M, int64_t d, e3c_tensor **out);

/* Seconds on a monotonic clock. */
double now_s(void);

#endif
