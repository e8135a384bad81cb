/* A structured model on an atomic structure (checks/ only), defined in structured_model.c:
 * the seeded structure, its inputs by role, one model call, the declared outputs, the model
 * of a parsed fixture loaded. Used by the checks of structured models (structured_checks.c,
 * smoothness.c, structured_golden.c); the smoothness check itself is in smoothness.c. */
#ifndef E3CHECK_STRUCTURED_INTERNAL_H
#define E3CHECK_STRUCTURED_INTERNAL_H

#include "e3check/structured.h"

/* The model, its description, the seed of the features and the count of model calls. */
typedef struct phys {
    e3c_jit_module *m;
    const e3c_structured *s;
    uint64_t seed;
    int calls;
} phys;

/* 1 when input `in` is given for structure `st` (a periodic-only input needs a cell). */
int structured_input_present(const e3c_input_spec *in, const e3c_structure *st);

/* Free n input tensors and the array. NULL-safe. */
void structured_free_inputs(e3c_tensor **t, size_t n);

/* The untransformed input tensors of structure `st` (float64 for floats, int64 for indices;
 * features drawn from g); NULL entries for plain arguments and inputs absent from `st`.
 * Caller frees with structured_free_inputs(*out, s->n_inputs). */
e3c_status structured_base_inputs(const e3c_structured *s, const e3c_structure *st, e3c_generator *g,
                                  e3c_tensor ***out);

/* Run the model on the base inputs transformed by (R, t) (R NULL: as they are), with input
 * `cut` (SIZE_MAX: none) narrowed to `keep` columns. Caller owns *out. */
e3c_status structured_run_on(e3c_jit_module *m, const e3c_structured *s, const e3c_structure *st,
                             e3c_tensor *const *base, const double *R, const double *t, size_t cut, int64_t keep,
                             e3c_value **out);

/* "arg.key" of an input, into buf. */
void structured_input_name(const e3c_input_spec *in, char *buf, size_t cap);

/* The largest |a - b| of two outputs of one shape, INFINITY when either is not finite. */
e3c_status structured_max_diff(double *err, const e3c_tensor *a, const e3c_tensor *b);

/* The expected output under R: irreps by D(R) on the last dimension, cartesian2 R S R^T; y
 * converted to float64. Caller owns *out. */
e3c_status structured_transform_output(const e3c_output_spec *o, const e3c_tensor *y, const double R[9],
                                       e3c_tensor **out);

/* The common start of a structured check (check_begin's rule: ERRORED until it ran to its
 * end), with the model and description validated and the start time noted. */
e3c_status structured_begin(const char *check, e3c_jit_module *m, const e3c_structured *s, uint64_t seed,
                            e3c_check_result *out, double *start);

/* The seeded structure, or a batch of n_structures (seeds seed, seed + 1, ...). */
e3c_status make_structure(const e3c_structured *s, uint64_t seed, e3c_structure **out);

/* The structure's size, r_max and the dtypes into details["structure"]. */
void structure_details(const e3c_structured *s, const e3c_structure *st, cJSON *details);

/* Run the model on structure `st` transformed by (R, t) (R NULL: as it is); counts the call. */
e3c_status phys_run(phys *p, const e3c_structure *st, const double *R, const double *t, e3c_value **out);

/* The declared energy (per structure, one 0e) and forces (per atom, 1o) outputs, or -1. */
int energy_output(const e3c_structured *s);
int forces_output(const e3c_structured *s);

/* Output k of y as float64 numbers: *vals (caller frees) and *n; *vals NULL when absent. */
e3c_status output_numbers(const e3c_structured *s, const e3c_value *y, int k, double **vals, int64_t *n);

/* The smoothness check (checks/smoothness.c): fills *out. */
void run_smoothness(phys *p, uint64_t seed, const e3c_physical_options *opt, e3c_check_result *out);

/* Declared output `o` of a result: *out a new reference, or NULL with *absent = 1 when it
 * is None or empty (an error unless it is declared optional, or missing from a dict). */
e3c_status structured_output(const e3c_value *res, const e3c_output_spec *o, e3c_tensor **out, int *absent);

struct e3c_fixture;

/* The model of a parsed structured fixture, loaded (*m) with what the fixture left to it
 * filled into *s_run (a shallow copy of fx->structured: fx is not changed) and its jit
 * settings applied. On failure the error names the cause and *m is NULL. */
e3c_status structured_load(e3c_jit_module **m, e3c_structured *s_run, const struct e3c_fixture *fx);

/* The options of a structured fixture's golden check (`c`: the item checks.golden):
 * known keys of the right types and ranges. E3C_ERR_VALUE naming the key. */
e3c_status structured_golden_validate(const cJSON *c);

#endif
