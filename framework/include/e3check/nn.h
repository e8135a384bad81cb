/* e3check — e3nn-style modules built on the module model (module.h). Each constructor
 * validates its arguments and returns a new module the caller owns. */
#ifndef E3CHECK_NN_H
#define E3CHECK_NN_H

#include "e3check/export.h"

#include "e3check/module.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Small modules are computed as one dense form instead of path by path: a tensor product
 *  as out = (x1 (x) x2) @ W, a Linear as out = x @ W (+ bias @ Bb), with W = weight @ B
 *  (+ B0), and SphericalHarmonics up to l = 4 as p @ B with p the tensor power of
 *  (1, x, y, z); B, B0, Bb are constant buffers built from the module's definition. A few
 *  operations whatever the number of paths, and a TorchScript source of a few lines. The
 *  form is used for shared (or no) weights when W has at most 4096 elements and the
 *  buffers at most `limit`; larger modules contract path by path. Default
 *  E3C_NN_DENSE_LIMIT; 0 turns it off. Read when a module is built (set it before
 *  building, not while other threads build). Returns the previous limit. */
E3C_API int64_t e3c_nn_set_dense_limit(int64_t limit);

#define E3C_NN_DENSE_LIMIT 65536

/** e3nn's o3.Norm(irreps_in, squared): one output per irrep copy, sum of squares of
 *  its components (squared) or the square root of that; mode "trace". irreps_in is
 *  simplified as e3nn does; irreps_out is N x 0e. */
E3C_API e3c_status e3c_norm_new(e3c_module **out, const char *irreps_in, int squared);

/** The class of Norm (for tests and for subclassing). */
E3C_API extern const e3c_module_class e3c_norm_class;

/** Options of BatchNorm (e3nn's constructor arguments); initialise with
 *  E3C_BATCH_NORM_OPTIONS_INIT (e3nn's defaults). */
typedef struct e3c_batch_norm_options {
    double eps;                /**< added to the variance (1e-5) */
    double momentum;           /**< of the running statistics (0.1) */
    int affine;                /**< parameters weight (every channel) and bias (0e channels) */
    const char *reduce;        /**< "mean" (NULL) or "max" over the sample dimension */
    int instance;              /**< statistics per batch row; no running statistics */
    const char *normalization; /**< "component" (NULL) or "norm" */
} e3c_batch_norm_options;
/* clang-format off */
#define E3C_BATCH_NORM_OPTIONS_INIT {1e-5, 0.1, 1, "mean", 0, "component"}
/* clang-format on */
/** e3nn's nn.BatchNorm(irreps, eps, momentum, affine, reduce, instance, normalization),
 *  mode "unsupported" (compiling it fails naming the module, as e3nn's does). Buffers
 *  running_mean (0e channels, zeros) and running_var (every channel, ones) unless
 *  `instance`; parameters weight (ones) and bias (zeros) when `affine`; e3nn's names and
 *  order. Input (batch, ..., dim): in training mode (e3c_module_train) the batch
 *  statistics normalise it and update the running ones; in eval mode the running ones
 *  are used. opt may be NULL for the defaults. E3C_ERR_VALUE for a bad reduce or
 *  normalization (e3nn's wording) or irreps. */
E3C_API e3c_status e3c_batch_norm_new(e3c_module **out, const char *irreps, const e3c_batch_norm_options *opt);

/** The class of BatchNorm. */
E3C_API extern const e3c_module_class e3c_batch_norm_class;

/* ------------------------------------------------------------------ activations ---- */

/** e3nn's normalize2mom constant of an activation ("silu", "tanh", "sigmoid", "abs",
 *  "relu", "gelu", "softplus", "sin", "identity"): cst = E[f(z)^2]^(-1/2) estimated as
 *  e3nn does, from 1e6 float64 draws of a generator seeded 0 (so the same Monte-Carlo
 *  value), and the parity of f*cst probed on [0, 10] (1 even, -1 odd, 0 neither). The
 *  build runs that procedure once per function (gen_act_constants) and this looks the
 *  result up. Either output may be NULL; E3C_ERR_VALUE for an unknown name. */
E3C_API e3c_status e3c_normalize2mom(double *cst, int *parity, const char *name);

/** The same constant and parity computed now by e3nn's Monte-Carlo procedure (about 25 ms;
 *  what the build ran, and what the tests compare the table with). */
E3C_API e3c_status e3c_normalize2mom_monte_carlo(double *cst, int *parity, const char *name);

/** True when `name` is an activation e3check knows. */
E3C_API int e3c_activation_known(const char *name);

/** e3nn's nn.Activation(irreps_in, acts) (mode "trace"): one activation name or NULL per
 *  entry; activations only on scalars; odd scalars need an even or odd function. */
E3C_API e3c_status e3c_activation_new(e3c_module **out, const char *irreps_in, const char *const *act_names,
                                      size_t n_acts);

/** e3nn's nn.Extract (mode "script"): output k gathers the input entries
 *  instructions[k][0..n_instructions[k]) into irreps_outs[k]; a tuple of outputs. With
 *  squeeze_out and one output, that output alone. */
E3C_API e3c_status e3c_extract_new(e3c_module **out, const char *irreps_in, const char *const *irreps_outs,
                                   size_t n_outs, const int *const *instructions, const size_t *n_instructions,
                                   int squeeze_out);

/** e3nn's nn.ExtractIr(irreps_in, ir): the entries equal to `ir`, squeezed. */
E3C_API e3c_status e3c_extract_ir_new(e3c_module **out, const char *irreps_in, const char *ir);

/** e3nn's nn.Gate (mode "script"): input sorted as e3nn's _Sortcut (scalars + gates +
 *  gated, stable by (l, p)); output act_scalars(s) ++ gated * act_gates(g). Children
 *  act_scalars, act_gates (Activation) and mul (ElementwiseTensorProduct). */
E3C_API e3c_status e3c_gate_new(e3c_module **out, const char *irreps_scalars, const char *const *act_scalars,
                                size_t n_scalars, const char *irreps_gates, const char *const *act_gates,
                                size_t n_gates, const char *irreps_gated);

/** e3nn's nn.FullyConnectedNet(hs, act, variance_in, variance_out, out_act) (mode
 *  "script"): children layer0.. with parameter "weight" (h_in, h_out). Declares
 *  irreps h0x0e -> hnx0e so that the checks can run it. At most 1024 layers, and at most
 *  2^28 weights in all (each layer and the whole network): more is E3C_ERR_VALUE naming
 *  the count. */
E3C_API e3c_status e3c_fully_connected_net_new(e3c_module **out, const int *hs, size_t n_hs, const char *act,
                                               double variance_in, double variance_out, int out_act);

/* ------------------------------------------------------------------ harmonics ---- */

/** e3nn's o3.SphericalHarmonics (mode "script"): Y^l for each l of `ls` (any order,
 *  repeats allowed) of vectors (..., 3), input parity p_in (-1 for 1o, +1 for 1e),
 *  `normalize` mapping x to x/|x| first, and the normalization. */
E3C_API e3c_status e3c_spherical_harmonics_module_new(e3c_module **out, const int *ls, size_t nls, int p_in,
                                                      int normalize, e3c_normalization normalization);

/** Largest lmax of the point block's spherical harmonics. */
#define E3C_SH_LMAX_FOR_BLOCKS 11

/** A point-cloud block (mode "script"): forward(pos (..., N, 3), feat (..., N, d)) =
 *  sum over j of FullyConnectedTensorProduct(feat_j, Y(pos_j - pos_i)) with Y the
 *  normalized spherical harmonics 0..lmax (component). irreps_in = [cartesian_points,
 *  irreps_feat]: rotation-, parity- and translation-equivariant. */
E3C_API e3c_status e3c_point_convolution_new(e3c_module **out, const char *irreps_feat, const char *irreps_out,
                                             int lmax);

/* ------------------------------------------------------------------ Linear ---- */

/** Options of Linear; initialise with E3C_LINEAR_OPTIONS_INIT. */
typedef struct e3c_linear_options {
    const int *instructions; /**< n_instructions pairs (i_in, i_out), or NULL for all equal pairs */
    size_t n_instructions;
    int biases;             /**< true: a bias on every 0e output */
    const int *biases_list; /**< or one flag per output entry (only on 0e) */
    size_t n_biases;
    const char *path_normalization;       /**< "element" (NULL) or "path" */
    int internal_weights, shared_weights; /**< -1: e3nn's defaults */
} e3c_linear_options;
/* clang-format off */
#define E3C_LINEAR_OPTIONS_INIT {NULL, 0, 0, NULL, 0, NULL, -1, -1}
/* clang-format on */
/** e3nn's o3.Linear (mode "script"): out[w] = sum over paths of x[u] W[u, w] / sqrt(fan-in),
 *  biases (not normalised) on 0e outputs; "weight" and "bias" in e3nn's flat order. */
E3C_API e3c_status e3c_linear_new(e3c_module **out, const char *irreps_in, const char *irreps_out,
                                  const e3c_linear_options *opt);

/* ------------------------------------------------------------ tensor products ---- */

/** e3nn's connection modes. */
typedef enum e3c_tp_mode {
    E3C_TP_UVW,
    E3C_TP_UVU,
    E3C_TP_UVV,
    E3C_TP_UUW,
    E3C_TP_UUU,
    E3C_TP_UVUV,
    E3C_TP_UVU_LT_V,
    E3C_TP_U_LT_VW
} e3c_tp_mode;

/** Parse "uvw", "uvu", "uvv", "uuw", "uuu", "uvuv", "uvu<v", "u<vw". */
E3C_API e3c_status e3c_tp_mode_parse(e3c_tp_mode *out, const char *name);

/** One instruction (i_in1, i_in2, i_out, mode, has_weight, path_weight). */
typedef struct e3c_tp_instruction {
    int i_in1, i_in2, i_out;
    e3c_tp_mode mode;
    int has_weight;
    double path_weight; /**< the user's path weight (1.0 by default); enters under a sqrt */
} e3c_tp_instruction;

/** Options of TensorProduct; initialise with E3C_TP_OPTIONS_INIT. */
typedef struct e3c_tp_options {
    const char *irrep_normalization;           /**< "component" (NULL), "norm" or "none" */
    const char *path_normalization;            /**< "element" (NULL), "path" or "none" */
    const double *in1_var, *in2_var, *out_var; /**< per entry, NULL for all 1 */
    size_t n_in1_var, n_in2_var, n_out_var;
    int internal_weights; /**< -1: e3nn's default */
    int shared_weights;   /**< -1: e3nn's default (true) */
} e3c_tp_options;
/* clang-format off */
#define E3C_TP_OPTIONS_INIT {NULL, NULL, NULL, NULL, NULL, 0, 0, 0, -1, -1}
/* clang-format on */
/** e3nn's o3.TensorProduct with explicit instructions (mode "script"; TorchScript source
 *  generated for the instance). Internal weights are drawn with randn from the global
 *  generator (e3c_manual_seed). Invalid instructions fail here, naming the instruction. */
E3C_API e3c_status e3c_tensor_product_new(e3c_module **out, const char *irreps_in1, const char *irreps_in2,
                                          const char *irreps_out, const e3c_tp_instruction *ins, size_t n_ins,
                                          const e3c_tp_options *opt);

/** FullyConnectedTensorProduct: "uvw" with weights for every reachable (in1, in2, out). */
E3C_API e3c_status e3c_fully_connected_tp_new(e3c_module **out, const char *irreps_in1, const char *irreps_in2,
                                              const char *irreps_out, const e3c_tp_options *opt);

/** ElementwiseTensorProduct: inputs simplified and split to equal multiplicities, "uuu"
 *  without weights. `filter` NULL keeps every output (e3nn's None); otherwise only those
 *  of its n_filter irreps (none when n_filter is 0, as e3nn's empty list). */
E3C_API e3c_status e3c_elementwise_tp_new(e3c_module **out, const char *irreps_in1, const char *irreps_in2,
                                          const char *const *filter, size_t n_filter, const char *irrep_normalization);

/** FullTensorProduct: "uvuv" for every pair, output sorted; `filter` as for
 *  e3c_elementwise_tp_new. */
E3C_API e3c_status e3c_full_tp_new(e3c_module **out, const char *irreps_in1, const char *irreps_in2,
                                   const char *const *filter, size_t n_filter, const char *irrep_normalization);

/** TensorSquare(irreps_in, irreps_out or NULL, filter): full mode without irreps_out,
 *  fully connected with it (then `filter` must be NULL, even an empty one is ambiguous, as
 *  in e3nn). forward(x) = TensorProduct(x, x). */
E3C_API e3c_status e3c_tensor_square_new(e3c_module **out, const char *irreps_in, const char *irreps_out,
                                         const char *const *filter, size_t n_filter, const char *irrep_normalization);

#ifdef __cplusplus
}
#endif
#endif
