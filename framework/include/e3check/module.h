/* e3check — modules with compile modes, and the recursive TorchScript compiler
 * (e3nn.util.jit in C).
 *
 * A module class is a static e3c_module_class: a name, a compile mode ("script",
 * "trace", "unsupported" or NULL for none), an eager forward written in C on the tensor
 * API, TorchScript source for its forward (needed to script it), and optionally a hook
 * that makes tracing inputs. An instance (e3c_module) has named children in registration
 * order, parameters and buffers, declared irreps_in/irreps_out, and may override its
 * class's mode as e3nn's instance attribute does.
 *
 * e3c_module_compile() compiles a tree the way e3nn's compile() does: post-order over the
 * children, each as its mode asks (trace: traced on generated inputs and checked; script:
 * its source compiled with the already-compiled children inside; unsupported: an error
 * naming the class and its path; none: a container left eager).
 *
 * Ownership: an e3c_module owns its children, its state and its TorchScript module.
 * e3c_module_free() frees the whole tree.
 */
#ifndef E3CHECK_MODULE_H
#define E3CHECK_MODULE_H

#include "e3check/export.h"

#include <stddef.h>
#include <stdint.h>

#include "e3check/error.h"
#include "e3check/irreps.h"
#include "e3check/torch.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The four compile modes of e3nn (NONE is e3nn's None: a plain container). */
typedef enum e3c_compile_mode {
    E3C_MODE_NONE = 0,
    E3C_MODE_SCRIPT = 1,
    E3C_MODE_TRACE = 2,
    E3C_MODE_UNSUPPORTED = 3
} e3c_compile_mode;

/** Parse "script", "trace", "unsupported", or NULL/"none" (NONE). Anything else is
 *  E3C_ERR_VALUE "Invalid compile mode" (e3nn's message), quoting the value. */
E3C_API e3c_status e3c_compile_mode_parse(e3c_compile_mode *out, const char *name);

/** "script", "trace", "unsupported" or "none". */
E3C_API const char *e3c_compile_mode_name(e3c_compile_mode mode);

typedef struct e3c_module e3c_module;

/** What a declared input or output is: an Irreps, e3nn's "cartesian_points" (shape
 *  (..., 3), rotated and translated), or none (left alone by the checks). */
typedef enum e3c_arg_kind { E3C_ARG_IRREPS = 0, E3C_ARG_CARTESIAN_POINTS = 1, E3C_ARG_NONE = 2 } e3c_arg_kind;

/** One declared argument. `irreps` is owned by whoever owns the spec. */
typedef struct e3c_arg_spec {
    e3c_arg_kind kind;
    e3c_irreps irreps;
} e3c_arg_spec;

/** Parse one declared entry: an irreps string, "cartesian_points", or NULL for none. */
E3C_API e3c_status e3c_arg_spec_parse(e3c_arg_spec *out, const char *text);

/** Free the irreps inside a spec. NULL-safe. */
E3C_API void e3c_arg_spec_free(e3c_arg_spec *spec);

/** Random inputs for `n` declared arguments, as e3nn's compile and tests draw them: per
 *  irreps argument a component-normalized randn (batch, dim), per cartesian_points one a
 *  randn (batch, 3), drawn from `g` in order, in `dtype`. *out is a new list (caller owns;
 *  NULL on failure). E3C_ERR_VALUE naming the input for one declared none and for one that
 *  would hold more than `max_numbers` numbers (0: no limit). */
E3C_API e3c_status e3c_arg_specs_randn(e3c_values **out, const e3c_arg_spec *specs, size_t n, e3c_generator *g,
                                       int64_t batch, e3c_dtype dtype, int64_t max_numbers);

/** A module's eager forward: compute *out (new list) from `in`. */
typedef e3c_status (*e3c_forward_fn)(e3c_module *self, const e3c_values *in, e3c_values **out);

/** A tracing-input hook, like e3nn's _make_tracing_inputs(n): fill *out with at least one
 *  argument list (a hint of `n` is given), drawing randomness from `g`. *out is a new
 *  array of new lists (caller owns both), *count their number. */
typedef e3c_status (*e3c_tracing_inputs_fn)(e3c_module *self, int n, e3c_generator *g, e3c_values ***out,
                                            size_t *count);

/** A module class. Define it as a static constant; the mode is checked when the first
 *  instance is made (and by e3c_module_class_check). */
typedef struct e3c_module_class {
    const char *name;                          /**< e3nn's class name, e.g. "Norm" */
    const char *mode;                          /**< "script", "trace", "unsupported" or NULL */
    e3c_forward_fn forward;                    /**< eager forward (required) */
    const char *script_source;                 /**< TorchScript `def forward(self, ...)`, or NULL */
    e3c_tracing_inputs_fn make_tracing_inputs; /**< or NULL: inputs come from irreps_in */
    void (*free_state)(void *state);           /**< frees the instance state, or NULL */
} e3c_module_class;

/** Check a class definition: a valid mode (E3C_ERR_VALUE "Invalid compile mode"), a name
 *  and a forward. (TorchScript source may come from the class or, per instance, from
 *  e3c_module_set_script_source; scripting without any is an error at compile time.) */
E3C_API e3c_status e3c_module_class_check(const e3c_module_class *cls);

/** A new instance of `cls` holding `state` (taken over: freed with cls->free_state when
 *  the last copy of the module goes). Caller owns *out. */
E3C_API e3c_status e3c_module_new(e3c_module **out, const e3c_module_class *cls, void *state);

/** Free a module and its whole tree. NULL-safe. */
E3C_API void e3c_module_free(e3c_module *m);

/** The instance state given to e3c_module_new (borrowed). */
E3C_API void *e3c_module_state(const e3c_module *m);

/** The class (borrowed). */
E3C_API const e3c_module_class *e3c_module_class_of(const e3c_module *m);

/** Add `child` as child `name` (registration order is kept); takes ownership of child,
 *  also on failure. Names are unique identifiers. */
E3C_API e3c_status e3c_module_add_child(e3c_module *m, const char *name, e3c_module *child);

/** Child `name` (borrowed), or NULL. */
E3C_API e3c_module *e3c_module_child(const e3c_module *m, const char *name);

/** Number of children, and the i-th child's name and module (borrowed). */
E3C_API size_t e3c_module_child_count(const e3c_module *m);
E3C_API const char *e3c_module_child_name(const e3c_module *m, size_t i);
E3C_API e3c_module *e3c_module_child_at(const e3c_module *m, size_t i);

/** Register a parameter (is_parameter = 1) or buffer (0) `name` holding `t` (the
 *  module keeps a reference to the same storage). */
E3C_API e3c_status e3c_module_add_tensor(e3c_module *m, const char *name, const e3c_tensor *t, int is_parameter);

/** Register `t` as a constant `name`: a plain tensor attribute the module's code reads
 *  (self.name) and its saved file holds, but neither a parameter nor a buffer, so that
 *  the state dict holds e3nn's names only. e3c_module_to_dtype converts it too. */
E3C_API e3c_status e3c_module_add_constant(e3c_module *m, const char *name, const e3c_tensor *t);

/** Limit what the modules this thread builds from now on hold in all: once `max_elements`
 *  numbers of parameters and buffers have been added, e3c_module_add_tensor refuses more
 *  (E3C_ERR_VALUE naming the counts). < 0 lifts the limit. Each call restarts the count;
 *  used around building one module tree, so that a tree of modules each within its own
 *  cap cannot exhaust memory together. */
E3C_API void e3c_module_limit_elements(int64_t max_elements);

/** A new reference to parameter or buffer `name` (for use inside forward: reads of it
 *  are recorded as attribute reads when tracing). Caller owns *out. */
E3C_API e3c_status e3c_module_tensor(e3c_tensor **out, const e3c_module *m, const char *name);

/** The parameters of the module tree by e3nn's state-dict names, in e3nn's order
 *  (e3c_jit_parameters of its TorchScript form, compiled or not). Caller owns *out. */
E3C_API e3c_status e3c_module_parameters(e3c_strings *out, const e3c_module *m);

/** Replace the values of parameter or buffer `name` with `n` doubles (e3nn's flat order),
 *  converted to its dtype. E3C_ERR_VALUE when n differs from its size. */
E3C_API e3c_status e3c_module_set_tensor_values(e3c_module *m, const char *name, const double *values, size_t n);

/** Declare irreps_in / irreps_out: `n` entries, each an irreps string,
 *  "cartesian_points" or NULL (none). Replaces an earlier declaration. */
E3C_API e3c_status e3c_module_set_irreps_in(e3c_module *m, const char *const *entries, size_t n);
E3C_API e3c_status e3c_module_set_irreps_out(e3c_module *m, const char *const *entries, size_t n);

/** The declared irreps (borrowed array of *n specs), or NULL with *n = 0 when none were
 *  declared. */
E3C_API const e3c_arg_spec *e3c_module_irreps_in(const e3c_module *m, size_t *n);
E3C_API const e3c_arg_spec *e3c_module_irreps_out(const e3c_module *m, size_t *n);

/** Give this instance its own TorchScript source (copied), which takes precedence over the
 *  class's: modules whose code depends on their configuration (tensor products, linear
 *  maps) generate it at construction, as e3nn's codegen does. */
E3C_API e3c_status e3c_module_set_script_source(e3c_module *m, const char *source);

/** The TorchScript source in force (instance, else class), or NULL. Borrowed. */
E3C_API const char *e3c_module_script_source(const e3c_module *m);

/** Convert every floating parameter, buffer and constant of the tree to `dtype` (e3nn
 *  modules follow torch's default dtype; fixtures choose theirs). */
E3C_API e3c_status e3c_module_to_dtype(e3c_module *m, e3c_dtype dtype);

/** Override the class's mode for this instance (e3nn's instance attribute). An invalid
 *  mode is E3C_ERR_VALUE "Invalid compile mode `'bogus'`". */
E3C_API e3c_status e3c_module_set_mode(e3c_module *m, const char *mode);

/** The mode in force: the instance's override, else the class's. */
E3C_API e3c_compile_mode e3c_module_mode(const e3c_module *m);

/** torch's train()/eval(): set the training flag of `m` and its whole tree (on = 1
 *  training, the default of a new module; 0 eval). Modules whose forward depends on it
 *  (BatchNorm) read it with e3c_module_training. Clones keep it. NULL-safe. */
E3C_API void e3c_module_train(e3c_module *m, int on);

/** 1 while `m` is in training mode (torch's `self.training`), 0 in eval mode or for NULL. */
E3C_API int e3c_module_training(const e3c_module *m);

/** The tree's parameters (which = 1), buffers (2) or both in state-dict order (3) by
 *  their dotted state-dict names, as e3c_jit_named_tensors (state.h) lists them: new
 *  references to the module's own storage. Caller owns *names and *tensors. */
E3C_API e3c_status e3c_module_named_tensors(e3c_strings *names, e3c_values **tensors, const e3c_module *m, int which);

/** How a module runs now. */
typedef enum e3c_compiled_as { E3C_EAGER = 0, E3C_TRACED = 1, E3C_SCRIPTED = 2 } e3c_compiled_as;

/** Whether (and how) this module has been compiled. */
E3C_API e3c_compiled_as e3c_module_compiled_as(const e3c_module *m);

/** Run the module: its compiled TorchScript forward when compiled, else its eager C
 *  forward. Inside a trace, a compiled module is recorded as one method call. */
E3C_API e3c_status e3c_module_forward(e3c_values **out, e3c_module *m, const e3c_values *in);

/** Run child `name` (for use inside a forward). */
E3C_API e3c_status e3c_module_call_child(e3c_values **out, e3c_module *m, const char *name, const e3c_values *in);

/** Run the module on one tensor and return its single output. Caller owns *out. */
E3C_API e3c_status e3c_module_forward1(e3c_tensor **out, e3c_module *m, const e3c_tensor *x);

/** A deep copy (parameters copied; state shared, it is immutable). Caller owns *out. */
E3C_API e3c_status e3c_module_clone(e3c_module **out, const e3c_module *m);

/** The dtype of the first floating parameter, else first floating buffer, of the tree
 *  (as e3nn's get_tracing_inputs uses), else of its first floating constant (the dtype it
 *  was built in), else float32 (torch's default). */
E3C_API e3c_dtype e3c_module_dtype(const e3c_module *m);

/* ------------------------------------------------------------------ compiling ------ */

/** Options of e3c_module_compile(); initialise with E3C_COMPILE_OPTIONS_INIT. */
typedef struct e3c_compile_options {
    int n_trace_checks;     /**< number of generated trace inputs, >= 1 (e3nn default 1) */
    int in_place;           /**< 1: compile the tree in place (e3nn's default); 0: a copy */
    int error_on_warnings;  /**< 1: a warning while tracing is an error */
    double check_tolerance; /**< relative tolerance of the traced-vs-eager output check */
    uint64_t seed;          /**< seeds the generated tracing inputs and batch sizes */
    e3c_strings *warnings;  /**< if not NULL, receives the warnings (caller frees) */
} e3c_compile_options;
/* clang-format off */
#define E3C_COMPILE_OPTIONS_INIT {1, 1, 0, 1e-5, 0, NULL}
/* clang-format on */
/** Compile `m` and its tree as e3nn's compile() does (see the file comment). With
 *  in_place, *out is `m` itself (not a new reference); otherwise *out is a compiled copy
 *  the caller owns and `m` is untouched. Errors name the module's path in the tree
 *  ("root.block.child"): unsupported modules, trace checks that fail (which check input,
 *  how it differed), TorchScript compile errors, warnings when error_on_warnings. */
E3C_API e3c_status e3c_module_compile(e3c_module **out, e3c_module *m, const e3c_compile_options *opt);

/** e3nn's script(): force the top level's mode to script (a differing, non-none mode adds
 *  the warning "Trying to script a module of type X marked with @compile_mode !=
 *  'script', expect errors!" to opt->warnings), then compile. Like e3nn, an instance
 *  whose class has no mode keeps "script" afterwards. */
E3C_API e3c_status e3c_module_script(e3c_module **out, e3c_module *m, const e3c_compile_options *opt);

/** e3nn's trace(): force trace mode on the top level, trace on `example` and check on
 *  `example` plus `checks` (n_checks lists; may be 0). With example NULL the module's own
 *  hook or irreps_in provide the inputs. Like e3nn, a module whose class has no mode or
 *  hook keeps mode "trace" and these inputs afterwards. */
E3C_API e3c_status e3c_module_trace(e3c_module **out, e3c_module *m, const e3c_values *example,
                                    const e3c_values *const *checks, size_t n_checks, const e3c_compile_options *opt);

/** Random inputs for `m`, as e3nn's get_tracing_inputs(mod, n): from the instance's
 *  inputs (set by e3c_module_trace), the class hook, or irreps_in (component randn, one
 *  random batch size in 1..4 per list, cartesian_points as (batch, 3)), floating tensors
 *  cast to e3c_module_dtype. *out: new array of new lists (caller frees each and the
 *  array); *count lists. */
E3C_API e3c_status e3c_module_tracing_inputs(e3c_values ***out, size_t *count, e3c_module *m, int n, e3c_generator *g);

/** True when the instance has fixed tracing inputs or its class a hook (e3nn's
 *  hasattr(mod, "_make_tracing_inputs")). */
E3C_API int e3c_module_has_tracing_hook(const e3c_module *m);

/** *out = a new one-entry list holding t, as a forward returns its one output. Takes t
 *  (freed, also on failure); caller owns *out (NULL on failure). Errors are those of
 *  e3c_values_new and e3c_values_push (t NULL is E3C_ERR_INVALID). */
E3C_API e3c_status e3c_values_take_one(e3c_values **out, e3c_tensor *t);

/** Free an array of value lists as returned by e3c_module_tracing_inputs. */
E3C_API void e3c_values_array_free(e3c_values **lists, size_t count);

/** The tree, one line per node in pre-order: "PATH CLASS mode=MODE HOW" where HOW is
 *  traced, scripted or eager. Caller owns *out. */
E3C_API e3c_status e3c_module_describe(e3c_strings *out, const e3c_module *m, const char *root_name);

/** The module's TorchScript form (borrowed), or NULL when it is not compiled. */
E3C_API e3c_jit_module *e3c_module_jit(const e3c_module *m);

/** Save a compiled module as a TorchScript file (atomically). E3C_ERR_INVALID when the
 *  module itself is not compiled (mode none). */
E3C_API e3c_status e3c_module_save(const e3c_module *m, const char *path);

#ifdef __cplusplus
}
#endif
#endif
