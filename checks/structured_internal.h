/* What the physical checks of structured models share (checks/ only): the seeded
 * structure, one model call on a structure, and the energy and forces outputs. */
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

#endif
