/* e3check — fixture files: what to check, on which module or TorchScript file, and the
 * verdict expected (fixtures/README.md documents the format). */
#ifndef E3CHECK_FIXTURE_H
#define E3CHECK_FIXTURE_H

#include "e3check/export.h"

#include <cjson/cJSON.h>

#include "e3check/checks.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The checks a fixture can ask for. */
typedef enum e3c_check_kind {
    E3C_CHECK_AUTO_JITABLE = 0,
    E3C_CHECK_EQUIVARIANCE = 1,
    E3C_CHECK_GOLDEN = 2,
    E3C_CHECK_NORMALIZED = 3,
    E3C_CHECK_PERMUTATION = 4,  /**< structured models: atoms (and edges) reordered */
    E3C_CHECK_TRANSLATION = 5,  /**< structured models: positions shifted, cell fixed */
    E3C_CHECK_CONSERVATIVE = 6, /**< structured models: forces = -dE/dpos (finite differences) */
    E3C_CHECK_BATCHING = 7,     /**< structured models: two structures in one call = each alone */
    E3C_CHECK_ADDITIVITY = 8,   /**< structured models: per-atom energies sum to the energy */
    E3C_CHECK_PERIODIC_IMAGES = 9 /**< structured models: an atom moved by a lattice vector */
} e3c_check_kind;

/** How many check kinds there are (the size of e3c_fixture_checks' kinds[]). */
#define E3C_CHECK_KIND_COUNT 10

/** The largest seed a fixture may give: 2^53 - 1, the largest integer a JSON number holds exactly. */
#define E3C_FIXTURE_SEED_MAX 9007199254740991.0

/** "auto_jitable", "equivariance", "golden", "normalized", "permutation", "translation",
 *  "conservative", "batching", "additivity", "periodic_images". */
E3C_API const char *e3c_check_kind_name(e3c_check_kind k);

/** Run-wide settings that fixtures may not override. */
typedef struct e3c_run_settings {
    int has_seed;     /**< --seed given: it overrides the fixtures' seeds */
    uint64_t seed;
    double timeout_s; /**< default per-check time limit (a fixture's timeout_s wins) */
} e3c_run_settings;

/** Which checks `fixture` enables (default: auto_jitable and equivariance, and for a
 *  structured model with a preset, the preset's checks merged with the fixture's), in order;
 *  kinds[] gets up to E3C_CHECK_KIND_COUNT. E3C_ERR_VALUE for a malformed "checks" field. */
E3C_API e3c_status e3c_fixture_checks(e3c_check_kind *kinds, size_t *n, const cJSON *fixture);

/** The verdict a fixture expects of a check ("pass" -> PASSED default, "fail" -> FAILED,
 *  "error" -> ERRORED). */
E3C_API e3c_status e3c_fixture_expected(e3c_verdict *out, const cJSON *fixture, e3c_check_kind kind);

/** The fixture's time limit for one check in seconds. */
E3C_API double e3c_fixture_timeout(const cJSON *fixture, const e3c_run_settings *rs);

/** Validate a fixture's fields (required name, exactly one subject, known fields and
 *  types). E3C_ERR_VALUE naming the field. */
E3C_API e3c_status e3c_fixture_validate(const cJSON *fixture);

/** The seed a fixture's checks use: --seed (rs->has_seed), else its "seed", else 0. */
E3C_API uint64_t e3c_fixture_seed(const cJSON *fixture, const e3c_run_settings *rs);

/** The fixture's dtype ("dtype", default float32). */
E3C_API e3c_dtype e3c_fixture_dtype(const cJSON *fixture);

/** Build a (valid) fixture's module exactly as its checks do: the global generator
 *  seeded with e3c_fixture_seed (so initial weights are the same every time), the
 *  module built in the fixture's dtype (its constant buffers computed in it), then its
 *  "parameters" set. E3C_ERR_VALUE for an invalid fixture or one naming a TorchScript
 *  file; construction errors name the type. Caller owns *out. rs may be NULL. */
E3C_API e3c_status e3c_fixture_build_module(e3c_module **out, const cJSON *fixture, const e3c_run_settings *rs);

/** Run one check of a fixture in this process: build or load the subject (paths relative
 *  to `base_dir`), then check it. Problems of the fixture or its subject are ERRORED
 *  results; the function fails only for bad arguments. */
E3C_API e3c_status e3c_fixture_run_check(e3c_check_result *out, const cJSON *fixture, const char *base_dir,
                                         e3c_check_kind kind, const e3c_run_settings *rs);

/** The same in a child process with the fixture's time limit (crashes and hangs become
 *  ERRORED). */
E3C_API e3c_status e3c_fixture_run_check_isolated(e3c_check_result *out, const cJSON *fixture,
                                                  const char *base_dir, e3c_check_kind kind,
                                                  const e3c_run_settings *rs);

#ifdef __cplusplus
}
#endif
#endif
