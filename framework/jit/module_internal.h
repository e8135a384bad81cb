/* Internal layout of e3c_module, shared by framework/jit/ only. */
#ifndef E3CHECK_MODULE_INTERNAL_H
#define E3CHECK_MODULE_INTERNAL_H

#include "e3check/module.h"

/* Instance state shared by a module and its clones (it is immutable). */
typedef struct state_box {
    int refs;
    void *ptr;
    void (*free_fn)(void *);
} state_box;

struct e3c_module {
    const e3c_module_class *cls;
    state_box *state;
    e3c_jit_module *jit;      /* parameters, buffers, children's modules; forward once compiled */
    e3c_compiled_as compiled; /* how jit's forward was made, or E3C_EAGER */
    int has_mode_override;
    e3c_compile_mode mode_override;
    size_t n_children;
    char **child_names;
    e3c_module **children;
    int has_irreps_in, has_irreps_out;
    size_t n_in, n_out;
    e3c_arg_spec *irreps_in, *irreps_out;
    char *script_source;       /* per-instance TorchScript source, or NULL */
    e3c_values **fixed_inputs; /* set by e3c_module_trace: e3nn's instance-level hook */
    size_t n_fixed_inputs;
    int eval_mode; /* 0: training (torch's default), 1: eval (e3c_module_train) */
};

/* Copies of value lists, new references to the same tensors (jit/values.c): one list
 * into *out, and an array of n lists into *out. */
e3c_status copy_values(e3c_values **out, const e3c_values *src);
e3c_status copy_values_array(e3c_values ***out, e3c_values *const *src, size_t n);

#endif
