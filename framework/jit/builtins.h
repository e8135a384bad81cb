/* Registration of e3check's built-in module types (framework/nn and framework/seed). */
#ifndef E3CHECK_BUILTINS_H
#define E3CHECK_BUILTINS_H

/* Register every built-in type; called once, before the first registry use. */
void e3c_register_builtins(void);

/* Add one built-in type (used by e3c_register_builtins; never triggers it). */
#include "e3check/registry.h"
void e3c_register_builtin(const char *type_name, e3c_module_ctor ctor);

#endif
