/* Shared helpers of framework/nn/ (internal). */
#ifndef E3CHECK_NN_INTERNAL_H
#define E3CHECK_NN_INTERNAL_H

#include "../core/strbuf.h"
#include "e3check/nn.h"

/* The most weights (or index pairs) one module may hold: 2^28, 1 GiB in float32. A larger
 * module is refused when it is built, with the count, instead of exhausting memory. */
#define NN_MAX_ELEMENTS ((int64_t)1 << 28)

/* Index of an activation by name, or -1. */
int act_lookup(const char *name);

/* f(x) for activation index a (identity: a new reference to x). */
e3c_status act_apply(int a, const e3c_tensor *x, e3c_tensor **out);

/* The TorchScript expression of activation a, with one %s for its argument. */
const char *act_script(int a);

/* Name of activation a (NULL past the last: the generator walks them in order). */
const char *act_name(int a);

/* The error for a name that is not an activation. */
e3c_status unknown_activation(const char *name);

/* Append an output block to `parts`: acc (..., mul, 2l+1) flattened, or zeros of `width`
 * shaped like `like` when acc is NULL (an output entry without paths). Takes acc. */
e3c_status nn_append_block(e3c_values *parts, e3c_tensor *acc, const e3c_tensor *like, int64_t width);

/* *out = one output: the blocks concatenated (zero width when there are none). */
e3c_status nn_cat_blocks(e3c_values **out, const e3c_values *parts, const e3c_tensor *like);

/* The TorchScript method _mix(t, w) -> out[z, w, k] = sum_c t[z, c, k] w[c, w], making
 * e3c_tensor_channel_mix's choice (a 1x1 convolution in float32); for modules that mix
 * channels with shared weights on inputs flattened to (Z, dim). */
extern const char *const nn_mix_source;

/* x broadcast to batch[0..nb) + [width] and flattened to (Z, width). Caller owns *flat. */
e3c_status nn_flatten_to(e3c_tensor **flat, const e3c_tensor *x, const int64_t *batch, int nb, int64_t width);

/* *out = one output: the blocks of a flattened (Z, ...) computation concatenated and
 * shaped back to batch[0..nb) + [width]. */
e3c_status nn_cat_blocks_batch(e3c_values **out, const e3c_values *parts, const e3c_tensor *like, const int64_t *batch,
                               int nb, int64_t width);

/* The end of a generated forward that appended one block per entry of `out` with a
 * multiplicity to `parts`: their concatenation (an empty last dimension when there is
 * none, known when the source is generated), shaped back to `batch` + [dim of out] when
 * `batched` (the inputs were flattened). */
void nn_emit_return(strbuf *b, const char *x, const e3c_irreps *out, int batched);

/* The generated TorchScript line that rejects `var` unless its last dimension is `dim`:
 * raises "<message>: got W, expected <dim>" (e3nn's wording in `message`, e.g. "Incorrect
 * last dimension for x"), the text nn_check_width gives in the eager forward. */
void nn_emit_width_check(strbuf *b, const char *var, int64_t dim, const char *message);

/* E3C_ERR_VALUE "<message>: got W, expected <dim>" unless x's last dimension is `dim`.
 * Script-mode forwards only: a traced forward uses e3c_tensor_check_last_dim, which the
 * trace records. */
e3c_status nn_check_width(const e3c_tensor *x, int64_t dim, const char *message);

/* The most numbers a dense form (its bilinear or linear map W) may have (e3c_nn_set_dense_limit). */
#define NN_DENSE_FORM_MAX 4096

/* The limit of e3c_nn_set_dense_limit: the most elements of a dense form's buffers. */
int64_t nn_dense_limit(void);

/* Register e3check's own constant `name` of `shape` holding `data` (float64, so that it
 * is computed in float64 whatever the dtype) converted to dtype: a plain attribute, not a
 * buffer, so that state dicts hold e3nn's names only (e3c_module_add_constant). */
e3c_status nn_add_constant(e3c_module *m, const char *name, const double *data, const int64_t *shape, int ndim,
                           e3c_dtype dtype);

/* Register an empty buffer `name` (shape [0]) as e3nn does for a weight or bias that is
 * not a parameter ("for TorchScript, there always has to be some kind of defined .weight"). */
e3c_status nn_add_empty_buffer(e3c_module *m, const char *name, e3c_dtype dtype);

/* Register e3nn's output_mask buffer: 1 over the columns of every output entry o with
 * entry_used[o], else 0. */
e3c_status nn_add_output_mask(e3c_module *m, const e3c_irreps *out, const int *entry_used, e3c_dtype dtype);

/* Give m the generated TorchScript source in b (E3C_ERR_NOMEM when b ran out of memory). */
e3c_status nn_set_source(e3c_module *m, const strbuf *b);

/* End a constructor: with st == E3C_OK hand m out through *out, otherwise free it.
 * Returns st. */
e3c_status nn_finish(e3c_module **out, e3c_module *m, e3c_status st);

#endif
