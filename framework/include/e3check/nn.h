/* e3check — e3nn-style modules built on the module model (module.h). Each constructor
 * validates its arguments and returns a new module the caller owns. */
#ifndef E3CHECK_NN_H
#define E3CHECK_NN_H

#include "e3check/module.h"

#ifdef __cplusplus
extern "C" {
#endif

/** e3nn's o3.Norm(irreps_in, squared): one output per irrep copy, sum of squares of
 *  its components (squared) or the square root of that; mode "trace". irreps_in is
 *  simplified as e3nn does; irreps_out is N x 0e. */
e3c_status e3c_norm_new(e3c_module **out, const char *irreps_in, int squared);

/** The class of Norm (for tests and for subclassing). */
extern const e3c_module_class e3c_norm_class;

#ifdef __cplusplus
}
#endif
#endif
