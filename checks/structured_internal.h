/* What the checks of structured models share across files (checks/ only): loading a
 * structured fixture, one model call on a structure, the declared outputs of a result.
 * Defined in structured_checks.c, used by structured_golden.c. */
#ifndef E3CHECK_STRUCTURED_INTERNAL_H
#define E3CHECK_STRUCTURED_INTERNAL_H

#include "e3check/structured.h"

/* A structured fixture made ready to run: the preset expanded (*fx), validated, parsed
 * (*s), the model loaded from the torchscript path relative to base_dir (*m, its path in
 * path), r_max, species and dtype resolved, the jit settings applied. On failure the
 * error names the cause and whatever was made is freed (the outputs are NULL). */
e3c_status structured_load(const cJSON *fixture, const char *base_dir, cJSON **fx, e3c_structured **s,
                           e3c_jit_module **m, char *path, size_t cap);

/* The seeded structure the checks use for `seed` (a batch when s->n_structures > 1). */
e3c_status structured_seeded(const e3c_structured *s, uint64_t seed, e3c_structure **out);

/* One call of the model on structure `st` as it is (features drawn from `seed`). */
e3c_status structured_call(e3c_jit_module *m, const e3c_structured *s, const e3c_structure *st, uint64_t seed,
                           e3c_value **out);

/* Declared output `o` of a result: *out a new reference, or NULL with *absent = 1 when it
 * is None or empty (an error unless it is declared optional, or missing from a dict). */
e3c_status structured_output(const e3c_value *res, const e3c_output_spec *o, e3c_tensor **out, int *absent);

/* The structure's size and the dtypes into details ("structure", "input_dtype", ...). */
void structured_details(const e3c_structured *s, const e3c_structure *st, cJSON *details);

/* The options of a structured fixture's golden check (`c`: the item checks.golden):
 * known keys of the right types and ranges. E3C_ERR_VALUE naming the key. */
e3c_status structured_golden_validate(const cJSON *c);

#endif
