/* e3check — fixture files: what to check, on which module or TorchScript file, and the
 * verdict expected (fixtures/README.md documents the format). */
#ifndef E3CHECK_FIXTURE_H
#define E3CHECK_FIXTURE_H

#include "e3check/export.h"

#include <cjson/cJSON.h>

#include "e3check/checks.h"
#include "e3check/structured.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The checks a fixture can ask for. */
typedef enum e3c_check_kind {
    E3C_CHECK_AUTO_JITABLE = 0,
    E3C_CHECK_EQUIVARIANCE = 1,
    E3C_CHECK_GOLDEN = 2,
    E3C_CHECK_NORMALIZED = 3,
    E3C_CHECK_PERMUTATION = 4,     /**< structured models: atoms (and edges) reordered */
    E3C_CHECK_TRANSLATION = 5,     /**< structured models: positions shifted, cell fixed */
    E3C_CHECK_CONSERVATIVE = 6,    /**< structured models: forces = -dE/dpos (finite differences) */
    E3C_CHECK_BATCHING = 7,        /**< structured models: two structures in one call = each alone */
    E3C_CHECK_ADDITIVITY = 8,      /**< structured models: per-atom energies sum to the energy */
    E3C_CHECK_PERIODIC_IMAGES = 9, /**< structured models: an atom moved by a lattice vector */
    E3C_CHECK_SMOOTHNESS = 10      /**< structured models: a neighbour crossing r_max (opt-in) */
} e3c_check_kind;

/** How many check kinds there are (the size of e3c_fixture_checks' kinds[]). */
#define E3C_CHECK_KIND_COUNT 11

/** The largest seed a fixture may give: 2^53 - 1, the largest integer a JSON number holds exactly. */
#define E3C_FIXTURE_SEED_MAX 9007199254740991.0

/** "auto_jitable", "equivariance", "golden", "normalized", "permutation", "translation",
 *  "conservative", "batching", "additivity", "periodic_images", "smoothness". */
E3C_API const char *e3c_check_kind_name(e3c_check_kind k);

/** Run-wide settings that fixtures may not override. */
typedef struct e3c_run_settings {
    int has_seed; /**< --seed given: it overrides the fixtures' seeds */
    uint64_t seed;
    double timeout_s; /**< default per-check time limit (a fixture's timeout_s wins) */
} e3c_run_settings;

/** A check's options as a fixture gives them, over their defaults, and the verdict it
 *  expects ("expect"). Every kind has one, asked for or not (e3c_fixture.check[kind]). */
typedef struct e3c_fixture_check {
    e3c_verdict expected;                  /**< "pass" PASSED (default), "fail" FAILED, "error" ERRORED */
    e3c_auto_jitable_options auto_jitable; /**< its seed is set when the check runs */
    e3c_equivariance_options equivariance; /**< its seed and fixed inputs are set when the check runs */
    e3c_normalized_options normalized;     /**< weights owned by the fixture; seed and generator set when run */
    const cJSON *golden_output;            /**< golden: the expected output(s); NULL when not given */
    double atol;                           /**< golden: > 0, or 0 for the dtype's default */
    e3c_physical_options physical;         /**< permutation ... smoothness ("tolerance", "components", "step") */
    const cJSON *options;                  /**< the check's item as written (borrowed from the fixture): the
                                                golden check of a structured model reads its structure and
                                                outputs here (validated when the fixture was read) */
} e3c_fixture_check;

/** A fixture read and validated once by e3c_fixture_parse, read-only afterwards: one parsed
 *  fixture serves every check, in this process and in forked workers. */
typedef struct e3c_fixture {
    const char *name; /**< borrowed from json */
    char *base_dir;   /**< the folder its paths are relative to ("." when none given) */
    cJSON *json;      /**< the fixture as given (a copy, owned); fields below borrow from it */
    e3c_dtype dtype;  /**< "dtype" (float32 default; for a structured model see structured->model_dtype) */
    uint64_t seed;    /**< "seed" (0 default) */
    double timeout_s; /**< "timeout_s", or 0: the run's limit */
    size_t n_checks;  /**< the checks asked for, in order: kinds[0..n_checks) */
    e3c_check_kind kinds[E3C_CHECK_KIND_COUNT];
    e3c_fixture_check check[E3C_CHECK_KIND_COUNT]; /**< options and expected verdict, by kind */
    const cJSON *module;                           /**< a module's constructor {"type", "args", "kwargs"}, or NULL */
    const cJSON *parameters;                       /**< "parameters" or NULL */
    const cJSON *inputs;                           /**< "inputs" (fixed inputs) or NULL */
    const cJSON *irreps_in;                        /**< declared irreps lists, or NULL (a module's own declaration) */
    const cJSON *irreps_out;
    char *torchscript;          /**< the TorchScript file (joined to base_dir), or NULL for a module */
    cJSON *expanded;            /**< a structured model: the fixture with its preset merged in (owned) */
    e3c_structured *structured; /**< a structured model parsed from `expanded` (owned), else NULL */
} e3c_fixture;

/** Read and validate `json` (one fixture object) once into *out (caller owns; free with
 *  e3c_fixture_free): its fields, the checks with their typed options, the expected
 *  verdicts, and the subject (a module, a TorchScript file with its irreps, or a structured
 *  model with its preset, a file relative to `base_dir` (NULL: "."), read and merged here).
 *  `json` is copied. E3C_ERR_VALUE with a one-line message naming the key and what is
 *  allowed (required name, exactly one subject, known fields, types and ranges, known
 *  checks and options); E3C_ERR_IO for a preset file that cannot be read; E3C_ERR_NOMEM. */
E3C_API e3c_status e3c_fixture_parse(e3c_fixture **out, const cJSON *json, const char *base_dir);

/** Free a parsed fixture. NULL-safe. */
E3C_API void e3c_fixture_free(e3c_fixture *fx);

/** The fixture's time limit for one check in seconds: its timeout_s, else rs->timeout_s,
 *  else 120 (rs may be NULL). */
E3C_API double e3c_fixture_time_limit(const e3c_fixture *fx, const e3c_run_settings *rs);

/** The seed its checks use: --seed (rs->has_seed; rs may be NULL), else the fixture's. */
E3C_API uint64_t e3c_fixture_seed_of(const e3c_fixture *fx, const e3c_run_settings *rs);

/** Run check `kind` of a parsed fixture in this process: build or load the subject, then
 *  check it (with the seed of e3c_fixture_seed_of). Problems of the subject are ERRORED
 *  results in *out (caller frees with e3c_check_result_free); E3C_ERR_INVALID only for
 *  NULL arguments. `fx` is not changed, so forked workers may share the parent's. */
E3C_API e3c_status e3c_fixture_run(e3c_check_result *out, const e3c_fixture *fx, e3c_check_kind kind,
                                   const e3c_run_settings *rs);

/** The same in a child process with the fixture's time limit (crashes and hangs become
 *  ERRORED). */
E3C_API e3c_status e3c_fixture_run_isolated(e3c_check_result *out, const e3c_fixture *fx, e3c_check_kind kind,
                                            const e3c_run_settings *rs);

/* The functions below take the fixture's JSON and parse it (e3c_fixture_parse with base_dir
 * NULL, or the one given) on each call: for one-off use; a runner parses once. */

/** Which checks `fixture` enables (default: auto_jitable and equivariance, and for a
 *  structured model with a preset, the preset's checks merged with the fixture's), in order;
 *  kinds[] gets up to E3C_CHECK_KIND_COUNT. E3C_ERR_VALUE for an invalid fixture. */
E3C_API e3c_status e3c_fixture_checks(e3c_check_kind *kinds, size_t *n, const cJSON *fixture);

/** The verdict a fixture expects of a check ("pass" -> PASSED default, "fail" -> FAILED,
 *  "error" -> ERRORED). E3C_ERR_VALUE for an invalid fixture. */
E3C_API e3c_status e3c_fixture_expected(e3c_verdict *out, const cJSON *fixture, e3c_check_kind kind);

/** The fixture's time limit for one check in seconds (120 for an invalid fixture without rs). */
E3C_API double e3c_fixture_timeout(const cJSON *fixture, const e3c_run_settings *rs);

/** Validate a fixture (e3c_fixture_parse, the result discarded). E3C_ERR_VALUE naming the
 *  field. */
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

/** Run one check of a fixture in this process: parse it (paths relative to `base_dir`),
 *  then e3c_fixture_run. An invalid fixture is an ERRORED result; the function fails only
 *  for bad arguments. */
E3C_API e3c_status e3c_fixture_run_check(e3c_check_result *out, const cJSON *fixture, const char *base_dir,
                                         e3c_check_kind kind, const e3c_run_settings *rs);

/** The same in a child process with the fixture's time limit (crashes and hangs become
 *  ERRORED). */
E3C_API e3c_status e3c_fixture_run_check_isolated(e3c_check_result *out, const cJSON *fixture, const char *base_dir,
                                                  e3c_check_kind kind, const e3c_run_settings *rs);

#ifdef __cplusplus
}
#endif
#endif
