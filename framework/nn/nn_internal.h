/* Shared helpers of framework/nn/ (internal). */
#ifndef E3CHECK_NN_INTERNAL_H
#define E3CHECK_NN_INTERNAL_H

#include "e3check/nn.h"

/* Index of an activation by name, or -1. */
int act_lookup(const char *name);

/* f(x) for activation index a (identity: a new reference to x). */
e3c_status act_apply(int a, const e3c_tensor *x, e3c_tensor **out);

/* The TorchScript expression of activation a, with one %s for its argument. */
const char *act_script(int a);

#endif
