/* e3check — state dicts: a TorchScript module's parameters and buffers by their
 * state-dict names ("child.weight"), in torch's order, read and written by name, and the
 * in-place standard-normal draw that re-initialises weights (param.normal_()).
 *
 * Conventions of torch.h: out-parameters first, new references owned by the caller,
 * failures as an e3c_status with a one-line message. */
#ifndef E3CHECK_STATE_H
#define E3CHECK_STATE_H

#include "e3check/export.h"

#include "e3check/torch.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Which tensors e3c_jit_named_tensors lists. */
typedef enum e3c_state_kind {
    E3C_STATE_PARAMETERS = 1, /**< torch's named_parameters() */
    E3C_STATE_BUFFERS = 2,    /**< torch's named_buffers() */
    E3C_STATE_DICT = 3 /**< torch's state_dict(): each module's parameters, then its buffers, then its children */
} e3c_state_kind;

/** The parameters and/or buffers of `m` and its submodules, recursively: their dotted
 *  names into *names and new references to the same storage (writing them changes the
 *  module) into *tensors, in torch's order. Plain tensor attributes (registered neither
 *  as parameter nor as buffer) are not listed, as torch's state_dict() leaves them out.
 *  Caller owns *names and *tensors. */
E3C_API e3c_status e3c_jit_named_tensors(e3c_strings *names, e3c_values **tensors, const e3c_jit_module *m,
                                         e3c_state_kind which);

/** Register `t` as a plain tensor attribute `name` of `m`: a constant the module's code
 *  reads (self.name) and that is saved with it, but is neither a parameter nor a buffer,
 *  so it is not in the state dict and e3c_jit_to_dtype leaves it as it is. */
E3C_API e3c_status e3c_jit_add_constant(e3c_jit_module *m, const char *name, const e3c_tensor *t);

/** Convert every floating plain tensor attribute of `m` and its submodules to `dtype`
 *  (float32 or float64): what e3c_jit_to_dtype, like torch's Module.to, leaves alone. */
E3C_API e3c_status e3c_jit_constants_to_dtype(e3c_jit_module *m, e3c_dtype dtype);

/** The dtype of the first floating plain tensor attribute of `m` or its submodules
 *  (depth first); *found = 0 when there is none. */
E3C_API e3c_status e3c_jit_constant_dtype(e3c_dtype *out, int *found, const e3c_jit_module *m);

/** In place: fill `t` with standard normal draws from `g`, as torch's
 *  t.normal_(generator=g) (the same draws as torch.randn of its shape and dtype). */
E3C_API e3c_status e3c_tensor_normal_(e3c_tensor *t, e3c_generator *g);

/** In place: copy `src` into `dst` (converted to dst's dtype), as load_state_dict does;
 *  E3C_ERR_VALUE naming both shapes when they differ. */
E3C_API e3c_status e3c_tensor_copy_(e3c_tensor *dst, const e3c_tensor *src);

#ifdef __cplusplus
}
#endif
#endif
