/* e3check — the C API over libtorch.
 *
 * This header is the only door between e3check's C code and libtorch (C++). Its rules:
 * - Every fallible function returns an e3c_status and, on failure, sets the thread-local
 *   message read by e3c_error_last(). No C++ exception ever crosses this API.
 * - Results come back through out-parameters, which come first and are named `out`.
 * - Handles are distinct opaque types. A handle returned through an out-parameter is a
 *   NEW reference: the caller owns it and frees it with the matching NULL-safe `*_free`.
 *   A handle passed in is BORROWED for the duration of the call.
 * - Shapes are arrays of int64_t; at most E3C_MAX_DIMS dimensions.
 * - On failure, out-parameters are left NULL (or untouched for plain numbers).
 */
#ifndef E3CHECK_TORCH_H
#define E3CHECK_TORCH_H

#include "e3check/export.h"

#include <stddef.h>
#include <stdint.h>

#include "e3check/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define E3C_MAX_DIMS 8

/** A tensor (a reference to libtorch tensor storage). */
typedef struct e3c_tensor e3c_tensor;
/** A TorchScript module (loaded from a file or compiled by e3check). */
typedef struct e3c_jit_module e3c_jit_module;
/** An ordered list of tensors: a method's arguments or results. */
typedef struct e3c_values e3c_values;
/** A CPU random generator, seeded explicitly; same draws as torch.manual_seed(seed). */
typedef struct e3c_generator e3c_generator;

/** Element types e3check handles. */
typedef enum e3c_dtype { E3C_FLOAT32 = 0, E3C_FLOAT64 = 1, E3C_INT64 = 2, E3C_BOOL = 3 } e3c_dtype;

/** A caller-owned array of strings; free with e3c_strings_free(). */
typedef struct e3c_strings {
    size_t count;
    char **items;
} e3c_strings;

/** Free the strings and the array, and reset `s` to empty. NULL-safe. */
E3C_API void e3c_strings_free(e3c_strings *s);

/** "float32", "float64", "int64" or "bool". */
E3C_API const char *e3c_dtype_name(e3c_dtype dtype);

/** Parse "float32"/"float64"/"int64"/"bool" (also "float"/"double"/"long"). */
E3C_API e3c_status e3c_dtype_parse(e3c_dtype *out, const char *name);

/** Size in bytes of one element. */
E3C_API size_t e3c_dtype_size(e3c_dtype dtype);

/** The libtorch version string, e.g. "1.13.1". Static. */
E3C_API const char *e3c_torch_version(void);

/** The dtype module constructors build their parameters and constant buffers in, like
 *  torch.get_default_dtype() for e3nn's modules (float32 unless set). */
E3C_API e3c_dtype e3c_default_dtype(void);

/** Set it (float32 or float64), like torch.set_default_dtype. */
E3C_API e3c_status e3c_set_default_dtype(e3c_dtype dtype);

/** Initialise libtorch's lazily built TorchScript machinery (the compiler's operator and
 *  schema tables, the tracer, the serializer) by compiling, tracing, running and
 *  round-tripping a small module. A process that forks many checks calls this once first,
 *  so that the children inherit the work instead of each repeating it. */
E3C_API e3c_status e3c_jit_warm_up(void);

/** Turn the TorchScript graph executor's optimizations on or off for the process
 *  (libtorch's default: on). Off, a freshly compiled or loaded module runs at full speed
 *  from its first call instead of paying the profiling executor's warm-up; results are
 *  the same. The e3check command turns them off unless given --jit-optimize. */
E3C_API void e3c_jit_set_optimize(int on);

/** Set libtorch's intra-op thread count (n >= 1). */
E3C_API e3c_status e3c_torch_set_num_threads(int n);

/* ---------------------------------------------------------------- tensors --------- */

/** A new tensor of `shape` holding a copy of `data` (row-major, `dtype` elements).
 *  `data` may be NULL only when the shape has zero elements. Caller owns *out. */
E3C_API e3c_status e3c_tensor_from_data(e3c_tensor **out, const void *data, e3c_dtype dtype, const int64_t *shape,
                                        int ndim);

/** A new zero-filled tensor. Caller owns *out. */
E3C_API e3c_status e3c_tensor_zeros(e3c_tensor **out, e3c_dtype dtype, const int64_t *shape, int ndim);

/** A new reference to the same storage as `t` (cheap). Caller owns *out. */
E3C_API e3c_status e3c_tensor_ref(e3c_tensor **out, const e3c_tensor *t);

/** Free a tensor handle. NULL-safe. */
E3C_API void e3c_tensor_free(e3c_tensor *t);

/** Number of dimensions. */
E3C_API int e3c_tensor_ndim(const e3c_tensor *t);

/** Copy the shape into `shape` (room for `cap` entries); sets *ndim. */
E3C_API e3c_status e3c_tensor_shape(int64_t *shape, int cap, int *ndim, const e3c_tensor *t);

/** Size of dimension `dim` (negative counts from the end); -1 when out of range. */
E3C_API int64_t e3c_tensor_size(const e3c_tensor *t, int dim);

/** Total number of elements. */
E3C_API int64_t e3c_tensor_numel(const e3c_tensor *t);

/** Element type; fails for dtypes e3check does not handle (complex, half, ...). */
E3C_API e3c_status e3c_tensor_dtype(e3c_dtype *out, const e3c_tensor *t);

/** Copy the elements (row-major, in the tensor's own dtype) into `dst`, which must hold
 *  exactly `nbytes` = numel * element size. */
E3C_API e3c_status e3c_tensor_copy_to(void *dst, size_t nbytes, const e3c_tensor *t);

/** Copy the elements converted to double into `dst` (room for `cap` values). */
E3C_API e3c_status e3c_tensor_to_doubles(double *dst, size_t cap, const e3c_tensor *t);

/** Borrowed pointer to the elements of a contiguous tensor (row-major), for writing or
 *  reading in place. Fails for a non-contiguous tensor. Valid while `t` lives. */
E3C_API e3c_status e3c_tensor_data(void **out, e3c_tensor *t);

/** A new contiguous copy of `t` converted to `dtype`. Caller owns *out. */
E3C_API e3c_status e3c_tensor_to(e3c_tensor **out, const e3c_tensor *t, e3c_dtype dtype);

/** Overwrite the elements of `t` in place with `n` doubles converted to its dtype
 *  (n must equal its number of elements). */
E3C_API e3c_status e3c_tensor_assign(e3c_tensor *t, const double *values, size_t n);

/** A new tensor: `t` with its last dimension cut to its first `keep` columns
 *  (a view, like Python's `t[..., :keep]`). Caller owns *out. */
E3C_API e3c_status e3c_tensor_narrow_last(e3c_tensor **out, const e3c_tensor *t, int64_t keep);

/** The maximum absolute elementwise difference |a - b| as a double in *out (both
 *  converted to float64; shapes must be equal). Equal values, infinities included, and
 *  NaN against NaN differ by 0 (torch's equal_nan); a NaN against another value makes
 *  *out NaN. */
E3C_API e3c_status e3c_tensor_max_abs_diff(double *out, const e3c_tensor *a, const e3c_tensor *b);

/** The largest |element| of t as a double in *out (0 for an empty tensor). */
E3C_API e3c_status e3c_tensor_max_abs(double *out, const e3c_tensor *t);

/** True (1) when a and b have the same shape, dtype and identical bits; 0 otherwise. */
E3C_API int e3c_tensor_equal(const e3c_tensor *a, const e3c_tensor *b);

/** Matrix product a @ b with torch broadcasting rules. Caller owns *out. */
E3C_API e3c_status e3c_tensor_matmul(e3c_tensor **out, const e3c_tensor *a, const e3c_tensor *b);

/** A new view of `t` with `shape` (same number of elements; one entry may be -1).
 *  Caller owns *out. */
E3C_API e3c_status e3c_tensor_reshape(e3c_tensor **out, const e3c_tensor *t, const int64_t *shape, int ndim);

/** Concatenate the tensors of `parts` along `dim` (torch.cat). Caller owns *out. */
E3C_API e3c_status e3c_tensor_cat(e3c_tensor **out, const e3c_values *parts, int dim);

/** `t / ||t||_2` over dimension `dim` (keepdim), as e3nn's r.div_(r.norm(2, dim,
 *  keepdim=True)): bit-identical to it. Caller owns *out. */
E3C_API e3c_status e3c_tensor_normalize(e3c_tensor **out, const e3c_tensor *t, int dim);

/** A short description such as "float32[2, 3]" written into buf (always terminated). */
E3C_API void e3c_tensor_describe(char *buf, size_t cap, const e3c_tensor *t);

/** Save a tensor with torch.save's format (a zip archive holding a pickle). */
E3C_API e3c_status e3c_tensor_save(const e3c_tensor *t, const char *path);

/* ---------------------------------------------------------------- operations ------ */
/* Each returns a new tensor the caller owns; inside a trace each is recorded. */

/** Elementwise functions. */
typedef enum e3c_unary_op {
    E3C_OP_SQRT,
    E3C_OP_RELU,
    E3C_OP_SQUARE,
    E3C_OP_ABS,
    E3C_OP_NEG,
    E3C_OP_EXP,
    E3C_OP_SIGMOID,
    E3C_OP_SILU,
    E3C_OP_TANH,
    E3C_OP_CLONE,
    E3C_OP_GELU,
    E3C_OP_SOFTPLUS,
    E3C_OP_SIN,
    E3C_OP_ONES_LIKE,
    E3C_OP_F_NORMALIZE /* x / max(||x||_2 over the last dim, 1e-12), as F.normalize */
} e3c_unary_op;

/** Elementwise arithmetic (with torch broadcasting). */
typedef enum e3c_binary_op { E3C_OP_ADD, E3C_OP_SUB, E3C_OP_MUL, E3C_OP_DIV } e3c_binary_op;

/** f(t) elementwise. */
E3C_API e3c_status e3c_tensor_unary(e3c_tensor **out, const e3c_tensor *t, e3c_unary_op op);

/** a op b. */
E3C_API e3c_status e3c_tensor_binary(e3c_tensor **out, const e3c_tensor *a, const e3c_tensor *b, e3c_binary_op op);

/** t op s for a scalar s. */
E3C_API e3c_status e3c_tensor_scalar(e3c_tensor **out, const e3c_tensor *t, e3c_binary_op op, double s);

/** Sum over dimension `dim` (keepdim as given). */
E3C_API e3c_status e3c_tensor_sum(e3c_tensor **out, const e3c_tensor *t, int dim, int keepdim);

/** Sum of all elements (a 0-d tensor). */
E3C_API e3c_status e3c_tensor_sum_all(e3c_tensor **out, const e3c_tensor *t);

/** t.narrow(dim, start, length), a view. */
E3C_API e3c_status e3c_tensor_narrow(e3c_tensor **out, const e3c_tensor *t, int dim, int64_t start, int64_t length);

/** t.select(dim, index): the slice at `index` with that dimension removed. */
E3C_API e3c_status e3c_tensor_select(e3c_tensor **out, const e3c_tensor *t, int dim, int64_t index);

/** t.index_select(dim, index) with an int64 index tensor. */
E3C_API e3c_status e3c_tensor_index_select(e3c_tensor **out, const e3c_tensor *t, int dim, const e3c_tensor *index);

/** t reshaped so that its last dimension becomes `n` dimensions `sizes` (unflatten):
 *  leading dimensions are kept symbolic in a trace. */
E3C_API e3c_status e3c_tensor_unflatten_last(e3c_tensor **out, const e3c_tensor *t, const int64_t *sizes, int n);

/** t with its last two dimensions merged (flatten(-2, -1)). */
E3C_API e3c_status e3c_tensor_flatten_last2(e3c_tensor **out, const e3c_tensor *t);

/** t.unsqueeze(dim). Caller owns *out. */
E3C_API e3c_status e3c_tensor_unsqueeze(e3c_tensor **out, const e3c_tensor *t, int dim);

/** t.expand(shape) (broadcast view). Caller owns *out. */
E3C_API e3c_status e3c_tensor_expand(e3c_tensor **out, const e3c_tensor *t, const int64_t *shape, int ndim);

/** t.flatten(start, end). Caller owns *out. */
E3C_API e3c_status e3c_tensor_flatten(e3c_tensor **out, const e3c_tensor *t, int start, int end);

/** Zeros shaped like `like` but with a last dimension of `width` (like.new_zeros(
 *  like.shape[:-1] + [width])). Caller owns *out. */
E3C_API e3c_status e3c_tensor_zeros_last(e3c_tensor **out, const e3c_tensor *like, int64_t width);

/** torch.einsum(equation, operands). Caller owns *out. */
E3C_API e3c_status e3c_tensor_einsum(e3c_tensor **out, const char *equation, const e3c_tensor *const *operands,
                                     size_t n);

/** In place: acc += a * b (torch's addcmul_, broadcasting a and b to acc). `acc` may be a
 *  view: the tensor it views is written. */
E3C_API e3c_status e3c_tensor_addcmul_(e3c_tensor *acc, const e3c_tensor *a, const e3c_tensor *b);

/** Channel mix out[z, w, k] = sum_c t[z, c, k] w[c, w] for t (Z, C, K) and w (C, W): in
 *  float32 (Z > 0) a 1x1 convolution, so oneDNN's kernels do it; otherwise an einsum.
 *  The TorchScript the tensor products emit makes the same choice. Caller owns *out. */
E3C_API e3c_status e3c_tensor_channel_mix(e3c_tensor **out, const e3c_tensor *t, const e3c_tensor *w);

/** The shape both of a's and b's leading dimensions (all but the last) broadcast to, into
 *  shape[cap] with *ndim set; E3C_ERR_VALUE naming both shapes when they do not. */
E3C_API e3c_status e3c_tensor_broadcast_batch(int64_t *shape, int cap, int *ndim, const e3c_tensor *a,
                                              const e3c_tensor *b);

/** torch.stack(parts, dim). Caller owns *out. */
E3C_API e3c_status e3c_tensor_stack(e3c_tensor **out, const e3c_values *parts, int dim);

/** Sets *out to 1 when some element of t is greater than `threshold` (reads the data:
 *  inside a trace this is recorded as a warning). */
E3C_API e3c_status e3c_tensor_any_greater(int *out, const e3c_tensor *t, double threshold);

/** E3C_ERR_VALUE "Incorrect last dimension for <what>: got W, expected <dim>" unless the
 *  last dimension of t is `dim` (a tensor of no dimension fails too). Inside a trace the
 *  check is also recorded in the graph (one size comparison raising the same message), so
 *  the traced module rejects other widths as the eager one does. */
E3C_API e3c_status e3c_tensor_check_last_dim(const e3c_tensor *t, int64_t dim, const char *what);

/* ---------------------------------------------------------------- random ---------- */

/** A new CPU generator seeded with `seed`; its draws equal Python's after
 *  torch.manual_seed(seed). Caller owns *out. */
E3C_API e3c_status e3c_generator_new(e3c_generator **out, uint64_t seed);

/** torch.manual_seed(seed) on libtorch's global CPU generator, which module constructors
 *  draw their initial weights from (as e3nn's modules draw from torch's). */
E3C_API e3c_status e3c_manual_seed(uint64_t seed);

/** A handle to libtorch's global CPU generator (borrowed: never free it; freeing it is a
 *  no-op). */
E3C_API e3c_generator *e3c_default_generator(void);

/** Free a generator. NULL-safe. */
E3C_API void e3c_generator_free(e3c_generator *g);

/** Uniform [0, 1) draws, like torch.rand(shape, generator=g, dtype=dtype).
 *  `ndim` may be 0 (a 0-d tensor). dtype must be floating. Caller owns *out. */
E3C_API e3c_status e3c_rand(e3c_tensor **out, e3c_generator *g, e3c_dtype dtype, const int64_t *shape, int ndim);

/** Standard normal draws, like torch.randn(shape, generator=g, dtype=dtype). */
E3C_API e3c_status e3c_randn(e3c_tensor **out, e3c_generator *g, e3c_dtype dtype, const int64_t *shape, int ndim);

/* ---------------------------------------------------------------- value lists ----- */

/** A new empty list. Caller owns *out. */
E3C_API e3c_status e3c_values_new(e3c_values **out);

/** Free a list and the references it holds. NULL-safe. */
E3C_API void e3c_values_free(e3c_values *v);

/** Append a new reference to `t` (the caller keeps its own handle). */
E3C_API e3c_status e3c_values_push(e3c_values *v, const e3c_tensor *t);

/** Number of tensors in the list. */
E3C_API size_t e3c_values_count(const e3c_values *v);

/** Borrowed handle to entry i (valid while the list lives), or NULL out of range. */
E3C_API const e3c_tensor *e3c_values_get(const e3c_values *v, size_t i);

/** 1 when the list came from a method that returned a tuple, else 0. */
E3C_API int e3c_values_is_tuple(const e3c_values *v);

/* ---------------------------------------------------------------- TorchScript ----- */

/** Load a TorchScript archive (torch.jit.save format) onto the CPU.
 *  Errors name the file and the reason: E3C_ERR_IO (missing or unreadable),
 *  E3C_ERR_FORMAT (not a zip archive; a truncated or corrupt archive; a zip archive that
 *  is not a TorchScript module, such as a pickled state dict). Caller owns *out.
 *  libtorch's TorchScript parser itself can crash on some corrupt archives (see
 *  tests/data/): load files you do not trust in a child process, as the CLI does. */
E3C_API e3c_status e3c_jit_load(e3c_jit_module **out, const char *path);

/** Save `m` to `path` in torch.jit.save's format with e3c_file_write_atomic's rules
 *  (e3check/file.h: atomic for a file, through a symbolic link, in place for a device or
 *  FIFO); on failure a regular file at `path` is unchanged. E3C_ERR_IO naming `path`. */
E3C_API e3c_status e3c_jit_save(const e3c_jit_module *m, const char *path);

/** Serialize `m` in torch.jit.save's format into memory: *data (malloc'd, caller frees)
 *  holds *size bytes, the bytes e3c_jit_save would write. */
E3C_API e3c_status e3c_jit_save_buffer(void **data, size_t *size, const e3c_jit_module *m);

/** Load a TorchScript archive from `size` bytes at `data` onto the CPU, with
 *  e3c_jit_load's checks and E3C_ERR_FORMAT reasons; `name` stands for the archive in
 *  messages. Caller owns *out. */
E3C_API e3c_status e3c_jit_load_buffer(e3c_jit_module **out, const void *data, size_t size, const char *name);

/** Free a module handle. NULL-safe. */
E3C_API void e3c_jit_free(e3c_jit_module *m);

/** Run `method` ("forward" when NULL) on `args` (may be NULL for no arguments).
 *  A tensor result gives a one-entry list; a tuple or list of tensors gives one entry
 *  each (e3c_values_is_tuple tells which). Any other result type is E3C_ERR_TORCH.
 *  Caller owns *out. */
E3C_API e3c_status e3c_jit_run(e3c_values **out, e3c_jit_module *m, const char *method, const e3c_values *args);

/** The module's qualified type name without the `__torch__.` prefix. Caller owns *out
 *  (free()). */
E3C_API e3c_status e3c_jit_type_name(char **out, const e3c_jit_module *m);

/** Methods as signatures, e.g. "forward(Tensor x) -> Tensor", in definition order. */
E3C_API e3c_status e3c_jit_methods(e3c_strings *out, const e3c_jit_module *m);

/** Every submodule, recursively, as "path: TypeName" (path like "block.norm"). */
E3C_API e3c_status e3c_jit_submodules(e3c_strings *out, const e3c_jit_module *m);

/** Attribute names of the module itself (parameters, buffers and plain attributes). */
E3C_API e3c_status e3c_jit_attributes(e3c_strings *out, const e3c_jit_module *m);

/** The names of the parameters (not buffers) of the module and its submodules, by
 *  state-dict name ("layer0.weight"), in state-dict order. Caller owns *out. */
E3C_API e3c_status e3c_jit_parameters(e3c_strings *out, const e3c_jit_module *m);

/** The value of attribute `name` printed as TorchScript prints it ("1x0e+1x1o", "3",
 *  "Tensor float32[3, 3]" for a tensor). E3C_ERR_NOT_FOUND when absent. Caller owns *out. */
E3C_API e3c_status e3c_jit_attribute_string(char **out, const e3c_jit_module *m, const char *name);

/** A new reference to tensor attribute `name` (a parameter or buffer). */
E3C_API e3c_status e3c_jit_attribute_tensor(e3c_tensor **out, const e3c_jit_module *m, const char *name);

/** The names of the archive's extra files (the `_extra_files` of torch.jit.save). */
E3C_API e3c_status e3c_jit_extra_files(e3c_strings *out, const e3c_jit_module *m);

/** The content of extra file `name` (not NUL-terminated; *len bytes, plus a terminating
 *  NUL for convenience). E3C_ERR_NOT_FOUND when absent. Caller owns *out (free()). */
E3C_API e3c_status e3c_jit_extra_file(char **out, size_t *len, const e3c_jit_module *m, const char *name);

/* ------------------------------------------------ building TorchScript modules ----- */

/** A new empty TorchScript module of class `class_name` (a fresh type; no methods yet).
 *  Caller owns *out. */
E3C_API e3c_status e3c_jit_new(e3c_jit_module **out, const char *class_name);

/** A deep copy (new types, copied parameters, buffers, submodules and methods), for
 *  compiling without touching the original. Caller owns *out. */
E3C_API e3c_status e3c_jit_clone(e3c_jit_module **out, const e3c_jit_module *m);

/** Register tensor `t` as parameter (is_parameter = 1) or buffer `name` of `m`. The
 *  module keeps a reference to the same storage. */
E3C_API e3c_status e3c_jit_add_tensor(e3c_jit_module *m, const char *name, const e3c_tensor *t, int is_parameter);

/** Register `child` as submodule `name` of `m` (the same object, not a copy). */
E3C_API e3c_status e3c_jit_add_submodule(e3c_jit_module *m, const char *name, const e3c_jit_module *child);

/** A new handle to submodule `name` of `m` (the same object). Caller owns *out. */
E3C_API e3c_status e3c_jit_submodule(e3c_jit_module **out, const e3c_jit_module *m, const char *name);

/** The dtype of the first floating parameter, else first floating buffer, of `m` and its
 *  submodules (recursively, in registration order); *found = 0 when there is none. */
E3C_API e3c_status e3c_jit_floating_dtype(e3c_dtype *out, int *found, const e3c_jit_module *m);

/** Convert every floating parameter and buffer of `m` (and its submodules) to `dtype`. */
E3C_API e3c_status e3c_jit_to_dtype(e3c_jit_module *m, e3c_dtype dtype);

/** True (1) when `m` has a method called `name`. */
E3C_API int e3c_jit_has_method(const e3c_jit_module *m, const char *name);

/** Compile TorchScript `source` (one or more `def name(self, ...)`) into methods of `m`;
 *  submodules are reachable as `self.child.forward(x)`. E3C_ERR_SCRIPT with the
 *  compiler's message on failure. */
E3C_API e3c_status e3c_jit_define(e3c_jit_module *m, const char *source);

/** The C function a trace records: compute `*outputs` from `inputs` (tensors made and
 *  combined through this API are recorded). Returns a status; a failure aborts the trace. */
typedef e3c_status (*e3c_trace_fn)(void *ctx, const e3c_values *inputs, e3c_values **outputs);

/** Trace `fn` on `inputs` with `m` as self (its parameters, buffers and submodules become
 *  attribute reads of the graph). When `install` is set, the graph becomes `m`'s forward
 *  (which must not exist yet). `*graph` (may be NULL) gets the canonical text of the graph,
 *  for comparing traces; `warnings` (may be NULL) gets every warning raised while tracing:
 *  libtorch's tracer warnings, other libtorch warnings, and reads of tensor data into C.
 *  Caller owns *graph (free()) and *warnings. */
E3C_API e3c_status e3c_jit_trace(char **graph, e3c_strings *warnings, e3c_jit_module *m, e3c_trace_fn fn, void *ctx,
                                 const e3c_values *inputs, int install);

/** True (1) while a trace is being recorded on this thread. */
E3C_API int e3c_tracing(void);

/** Run `method` of `m`; while tracing, record it as one call of that method
 *  (prim::CallMethod) instead of inlining the branch that ran, so that a scripted child
 *  keeps its control flow inside a traced parent. Caller owns *out. */
E3C_API e3c_status e3c_jit_call(e3c_values **out, e3c_jit_module *m, const char *method, const e3c_values *args);

/** The graph of `method` as text. Caller owns *out (free()). */
E3C_API e3c_status e3c_jit_graph(char **out, const e3c_jit_module *m, const char *method);

#ifdef __cplusplus
}
#endif
#endif
