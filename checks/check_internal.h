/* Helpers shared by the checks (checks/ only). */
#ifndef E3CHECK_CHECK_INTERNAL_H
#define E3CHECK_CHECK_INTERNAL_H

#include "e3check/checks.h"

/* A small deterministic generator (splitmix64) for what e3nn draws with Python's
 * `random` (batch sizes, strict-shape cuts), kept apart from the torch generator so that
 * the torch draws stay in e3nn's order. */
typedef struct small_rng {
    uint64_t state;
} small_rng;

uint64_t small_rng_next(small_rng *r);

/* An integer uniform in [lo, hi]. */
int small_rng_int(small_rng *r, int lo, int hi);

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

/* The common start of a check: validate the subject (exactly one of module and script),
 * zero the result, give it empty details and the seed, and note the start time. */
e3c_status check_begin(const char *check, const e3c_subject *s, e3c_check_result *out, uint64_t seed, double *start);

/* Seconds on a monotonic clock. */
double now_s(void);

#endif
