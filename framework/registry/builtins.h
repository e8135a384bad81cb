/* e3check's built-in module types (framework/nn and framework/seed), as a table the
 * registry reads: the table's file calls nothing in the registry. */
#ifndef E3CHECK_BUILTINS_H
#define E3CHECK_BUILTINS_H

#include <stddef.h>

#include "e3check/registry.h"

typedef struct builtin_type {
    const char *name;
    e3c_module_ctor ctor;
} builtin_type;

/* Every built-in type, n_builtin_types of them, each name once. */
extern const builtin_type builtin_types[];
extern const size_t n_builtin_types;

#endif
