/* e3check — the examples of e3nn's "TorchScript JIT Support" document, as modules.
 * They are registered as MyModule, MyModuleLoop, AnotherModule, TracingModule, Supermod
 * and ChildMod. Each constructor returns a new module the caller owns. */
#ifndef E3CHECK_SEED_H
#define E3CHECK_SEED_H

#include "e3check/export.h"

#include "e3check/module.h"

#ifdef __cplusplus
extern "C" {
#endif

/** MyModule(irreps): Norm inside; returns the norm if any entry exceeds 7, else half of
 *  it. No compile mode (the document compiles it with script()). */
E3C_API e3c_status e3c_seed_mymodule_new(e3c_module **out, const char *irreps);

/** The @compile_mode('script') MyModule with the `for row in norm` loop. */
E3C_API e3c_status e3c_seed_mymodule_loop_new(e3c_module **out, const char *irreps);

/** AnotherModule(irreps): no mode; returns MyModuleLoop(x) + 3. */
E3C_API e3c_status e3c_seed_another_new(e3c_module **out, const char *irreps);

/** TracingModule: mode trace; forward(x, indexes) = x[indexes].sum(), with a hook that
 *  makes (randn(5, 1..3), arange(3)) inputs. */
E3C_API e3c_status e3c_seed_tracing_new(e3c_module **out);

/** Supermod: no mode, with the unsupported child ChildMod. */
E3C_API e3c_status e3c_seed_supermod_new(e3c_module **out);

#ifdef __cplusplus
}
#endif
#endif
