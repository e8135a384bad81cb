/* e3check — structured models: TorchScript files whose forward takes an atomic structure
 * (dicts of tensors with roles, bools, numbers) and returns a dict of outputs, as deployed
 * interatomic potentials do (NequIP, MACE). The fixture keys are documented in
 * fixtures/README.md; presets (the presets/ folder) are fixture fragments for known projects.
 *
 * A structured model is described by
 * - its inputs: each forward argument (or each key of a dict argument) with a role, which
 *   says how the input is generated from a structure and how it transforms;
 * - its outputs: dict keys (or tuple indices) with a kind (irreps or a Cartesian rank-2
 *   tensor), per atom / per structure / per edge, and whether they may be None or empty;
 * - the structure to check it on (atoms, species, cell, r_max), the dtype inputs are fed
 *   in and the model's dtype (the tolerance tier).
 */
#ifndef E3CHECK_STRUCTURED_H
#define E3CHECK_STRUCTURED_H

#include "e3check/export.h"

#include <cjson/cJSON.h>

#include "e3check/atoms.h"
#include "e3check/checks.h"
#include "e3check/irreps.h"
#include "e3check/values.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How an input is made from a structure and how it transforms under E(3). */
typedef enum e3c_role {
    E3C_ROLE_POSITIONS = 0,  /**< [N, 3]: rotate, invert, translate */
    E3C_ROLE_SPECIES,        /**< int64 [N]: invariant */
    E3C_ROLE_SPECIES_COLUMN, /**< int64 [N, 1]: invariant */
    E3C_ROLE_ONE_HOT,        /**< [N, n_species]: invariant */
    E3C_ROLE_EDGE_INDEX,     /**< int64 [2, E]: invariant */
    E3C_ROLE_EDGE_SRC,       /**< int64 [E] (row 0): invariant */
    E3C_ROLE_EDGE_DST,       /**< int64 [E] (row 1): invariant */
    E3C_ROLE_CELL,           /**< [3, 3] ([B, 3, 3]), rows lattice vectors: rotate, invert */
    E3C_ROLE_CELL_ROWS,      /**< [3B, 3] (MACE): rotate, invert */
    E3C_ROLE_UNIT_SHIFTS,    /**< [E, 3] integer image offsets: invariant */
    E3C_ROLE_SHIFTS,         /**< [E, 3] Cartesian image shifts: rotate, invert */
    E3C_ROLE_EDGE_VECTORS,   /**< [E, 3]: rotate, invert */
    E3C_ROLE_BATCH,          /**< int64 [N] */
    E3C_ROLE_PTR,            /**< int64 [B + 1] */
    E3C_ROLE_FEATURES,       /**< [N, dim] per-atom irreps features: D(R) */
    E3C_ROLE_ONES,           /**< [N] ones (a constant, e.g. MACE LAMMPS's local_or_ghost) */
    E3C_ROLE_BOOL,           /**< a plain bool argument */
    E3C_ROLE_INT,            /**< a plain int argument */
    E3C_ROLE_FLOAT,          /**< a plain float argument */
    E3C_ROLE_COUNT
} e3c_role;

/** The role's name in fixtures ("positions", "species", ...). */
E3C_API const char *e3c_role_name(e3c_role r);

/** One input: forward argument `arg`, or key `key` of the dict argument `arg`. */
typedef struct e3c_input_spec {
    char *arg;
    char *key; /**< NULL for a plain argument */
    e3c_role role;
    e3c_dtype dtype;   /**< of a tensor input (default: int64 for indices, input dtype else) */
    int periodic_only; /**< given only when the structure has a cell */
    int strict;        /**< the strict-shape step cuts its last dimension */
    e3c_irreps irreps; /**< E3C_ROLE_FEATURES */
    double value;      /**< E3C_ROLE_BOOL/INT/FLOAT */
} e3c_input_spec;

/** How an output transforms. */
typedef enum e3c_output_kind { E3C_OUTPUT_IRREPS = 0, E3C_OUTPUT_CARTESIAN2 = 1 } e3c_output_kind;

/** What an output's first dimension runs over. */
typedef enum e3c_output_per { E3C_PER_ATOM = 0, E3C_PER_STRUCTURE = 1, E3C_PER_EDGE = 2 } e3c_output_per;

/** One declared output: dict key, or tuple index as a number string ("0", "1"). */
typedef struct e3c_output_spec {
    char *key;
    e3c_output_kind kind;
    e3c_irreps irreps; /**< E3C_OUTPUT_IRREPS */
    e3c_output_per per;
    int optional; /**< None or empty is allowed (then skipped) */
} e3c_output_spec;

/** A structured model's description. Free with e3c_structured_free(). */
typedef struct e3c_structured {
    e3c_input_spec *inputs;
    size_t n_inputs;
    e3c_output_spec *outputs;
    size_t n_outputs;
    e3c_structure_options structure; /**< r_max <= 0 / n_species <= 0: from the model */
    int n_structures;                /**< structures batched in one call (batch, ptr), default 1 */
    e3c_dtype input_dtype;           /**< floats are fed in this dtype (default float64) */
    e3c_dtype model_dtype;           /**< tolerance tier */
    int has_model_dtype;             /**< 0: from the model (metadata, else parameters) */
    int grad;                        /**< run with autograd enabled (default 1) */
    int jit_settings;                /**< apply _jit_bailout_depth/_jit_fusion_strategy metadata */
    /** For tests of e3check itself: a bit set of roles (1 << role) whose transformation is
     *  skipped, to show the false failures such a mistake gives. Never set by fixtures. */
    unsigned untransformed;
} e3c_structured;

/** True (1) when a fixture describes a structured model ("preset", "args" or "outputs"). */
E3C_API int e3c_fixture_is_structured(const cJSON *fixture);

/** The preset `name` (built in: nequip, mace, mace-lammps) or, when `name` contains a '/'
 *  or ends in .json, the preset file (relative to base_dir). Caller owns *out. */
E3C_API e3c_status e3c_preset_load(cJSON **out, const char *name, const char *base_dir);

/** The built-in presets' names, NULL-terminated. Static. */
E3C_API const char *const *e3c_preset_names(void);

/** The fixture with its preset merged in (fixture keys win; "structure" and "checks" merged
 *  key by key). Caller owns *out. */
E3C_API e3c_status e3c_fixture_expand_preset(cJSON **out, const cJSON *fixture, const char *base_dir);

/** Validate a structured fixture (after expanding its preset): known keys, roles, kinds.
 *  E3C_ERR_VALUE naming the key. */
E3C_API e3c_status e3c_structured_validate(const cJSON *fixture);

/** Parse a structured fixture (preset already expanded). Caller owns *out. */
E3C_API e3c_status e3c_structured_parse(e3c_structured **out, const cJSON *fixture);

/** Fill what the fixture left to the model: r_max and n_species from NequIP metadata
 *  (r_max, n_species or type_names) or MACE buffers (r_max, atomic_numbers); the model
 *  dtype from metadata (model_dtype) or the parameters. E3C_ERR_VALUE naming what is
 *  missing. */
E3C_API e3c_status e3c_structured_resolve(e3c_structured *s, const e3c_jit_module *m);

/** Free a description. NULL-safe. */
E3C_API void e3c_structured_free(e3c_structured *s);

/** Apply the model's _jit_bailout_depth / _jit_fusion_strategy metadata to the process's
 *  TorchScript executor, as NequIP's loader does. No-op without them. */
E3C_API e3c_status e3c_structured_apply_jit_settings(const e3c_jit_module *m);

/** Equivariance of a structured model: e3nn's cases (parity_k, did_translate) on a seeded
 *  structure; positions rotated, inverted and translated; cell, Cartesian shifts and edge
 *  vectors rotated and inverted; features by D(R); everything else fixed. Outputs compared
 *  per key as irreps (D(R) on the last dimension) or Cartesian rank 2 (R S R^T).
 *  Tolerance by the model dtype (e3nn's 1e-3 / 1e-9) unless opt->tolerance > 0. */
E3C_API e3c_status e3c_check_structured_equivariance(e3c_check_result *out, e3c_jit_module *m, const e3c_structured *s,
                                                     const char *name, const e3c_equivariance_options *opt);

/** auto_jitable for a structured model: runs on the structure, strict shapes (each strict
 *  input's last dimension cut by 1, 2, 3: every call must raise; the one accepted is named
 *  with the width), save/reload round trip with identical outputs. */
E3C_API e3c_status e3c_check_structured_auto_jitable(e3c_check_result *out, e3c_jit_module *m, const e3c_structured *s,
                                                     const char *name, const e3c_auto_jitable_options *opt);

/** Options of the physical checks of a structured model; initialise with
 *  E3C_PHYSICAL_OPTIONS_INIT. */
typedef struct e3c_physical_options {
    double tolerance; /**< > 0; 0: by the model dtype (conservative: its atol and rtol) */
    int components;   /**< conservative: force components checked by finite differences (3) */
    double step;      /**< smoothness: the distance step h around r_max; 0: by the model dtype */
} e3c_physical_options;

#define E3C_PHYSICAL_OPTIONS_INIT \
    {                             \
        0.0, 3, 0.0               \
    }

/** One physical check of a structured model (`kind` an e3c_check_kind: PERMUTATION,
 *  TRANSLATION, CONSERVATIVE, BATCHING, ADDITIVITY, PERIODIC_IMAGES or SMOOTHNESS) on the
 *  seeded structure, with options `opt` (may be NULL: the defaults). *out is filled as every
 *  check's (details: the tolerance, the model calls made, the worst component);
 *  E3C_ERR_INVALID only for bad arguments. */
E3C_API e3c_status e3c_check_structured_physical(e3c_check_result *out, e3c_jit_module *m, const e3c_structured *s,
                                                 int kind, uint64_t seed, const e3c_physical_options *opt);

struct e3c_fixture;

/** The golden check of a structured model: the structure of `copts` (the fixture's
 *  checks.golden: "positions", "species" (type indices, or names mapped through the
 *  model's type_names metadata or atomic_numbers buffer) and "cell", or "xyz", the first
 *  frame of an extended-XYZ file relative to base_dir) with e3check's own neighbour list
 *  for the model's r_max, one model call, and every declared output against "outputs"
 *  (nested lists by key; null or absent: the output must be None or empty). An output
 *  passes when |got - expected| / max(1, largest |expected|) <= its tolerance ("atol": a
 *  number or an object by key; default 1e-5 float32, 1e-7 float64 by the model dtype);
 *  another shape, a None where values are expected or a NaN FAILs. The details hold per
 *  output the worst component (index, expected, got, error) and the tolerance; the message
 *  names the worst output. Problems of the options, the structure or the XYZ file (file
 *  and line) are ERRORED. *out is filled (caller frees it); E3C_ERR_INVALID only for
 *  NULL arguments. */
E3C_API e3c_status e3c_check_structured_golden(e3c_check_result *out, e3c_jit_module *m, const e3c_structured *s,
                                               const cJSON *copts, const char *base_dir, uint64_t seed);

/** Record a golden check: load the model of the parsed structured fixture `fx`
 *  (e3c_fixture_parse), run it once on the seeded structure its checks use for `seed`,
 *  and give the options of a golden check for it in *out: {"positions", "species" (type
 *  indices), "cell" (null without one), "outputs" (every declared output by key, null
 *  when None or empty)}. Numbers are raw JSON text with 17 significant digits, so that
 *  they read back as the same doubles. Errors (E3C_ERR_VALUE and others) name the cause:
 *  a model that cannot be loaded or run, an output that is not finite, a fixture batching
 *  several structures. Caller owns *out. */
E3C_API e3c_status e3c_structured_golden_record(cJSON **out, const struct e3c_fixture *fx, uint64_t seed);

/** Run check `kind` of a parsed structured fixture (e3c_fixture_parse: its preset already
 *  merged, its description in fx->structured) in this process: load the model, fill what
 *  the fixture left to it (on a copy: `fx` is not changed), check. Problems are ERRORED
 *  results in *out; E3C_ERR_INVALID only for bad arguments (NULL, or a plain fixture). */
E3C_API e3c_status e3c_structured_fixture_run(e3c_check_result *out, const struct e3c_fixture *fx, int kind,
                                              uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif
