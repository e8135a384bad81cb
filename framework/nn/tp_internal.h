/* The tensor product's resolved state, shared by the products in framework/nn/. */
#ifndef E3CHECK_TP_INTERNAL_H
#define E3CHECK_TP_INTERNAL_H

#include "e3check/nn.h"

typedef struct tp_ins {
    int i1, i2, io;
    e3c_tp_mode mode;
    int has_weight;
    double path_weight; /* the user's */
    double coeff;       /* e3nn's final sqrt(alpha) */
    int64_t shape[3];
    int nshape;
    int64_t elements;
    int64_t weight_offset, weight_size;
    int dropped; /* a zero in the path shape or a zero multiplicity: no contribution */
} tp_ins;

typedef struct tp_state {
    e3c_irreps in1, in2, out;
    tp_ins *ins;
    size_t n_ins;
    int internal_weights, shared_weights;
    int64_t weight_numel;
    int square;         /* TensorSquare: forward(x) = tp(x, x) */
    int dense;          /* computed as one bilinear form (small products): see tensor_product.c */
    int dense_constant; /* the form has a constant part B0 (a path without weight, or none has one) */
} tp_state;

/* A state with the three Irreps parsed (out may be NULL to fill later). */
e3c_status tp_state_new(tp_state **out, const char *in1, const char *in2, const char *out_irreps);

void tp_state_free(void *s);

/* Resolve the instructions, make the module of class `cls`, its buffers, weight and
 * TorchScript source. Takes `s` (freed on failure). */
e3c_status tp_build(e3c_module **out, const e3c_module_class *cls, tp_state *s, const e3c_tp_instruction *ins, size_t n,
                    const e3c_tp_options *opt);

e3c_status tp_forward(e3c_module *self, const e3c_values *in, e3c_values **out);

extern const e3c_module_class e3c_tensor_product_class;

/* e3c_elementwise_tp_new and e3c_full_tp_new with all of TensorProduct's options (e3nn
 * passes its **kwargs through), for the module catalogue. */
e3c_status nn_elementwise_tp_new(e3c_module **out, const char *irreps_in1, const char *irreps_in2,
                                 const char *const *filter, size_t n_filter, const e3c_tp_options *o);
e3c_status nn_full_tp_new(e3c_module **out, const char *irreps_in1, const char *irreps_in2, const char *const *filter,
                          size_t n_filter, const e3c_tp_options *o);

/* e3c_tensor_square_new with TensorProduct's options: `irrep_normalization` makes the
 * path weights; tp_options->irrep_normalization, the TensorProduct's (e3nn's deprecated
 * `normalization` keyword), is "none" when NULL, as e3nn passes it. */
e3c_status nn_tensor_square_new(e3c_module **out, const char *irreps_in, const char *irreps_out,
                                const char *const *filter, size_t n_filter, const char *irrep_normalization,
                                const e3c_tp_options *tp_options);

#endif
