/* Constructors of the built-in module types from JSON arguments. */
#include "builtins.h"
#include "e3check/nn.h"
#include "e3check/registry.h"
#include "e3check/seed.h"

static e3c_status build_norm(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_in", "squared", NULL};
    const char *irreps;
    int squared;
    e3c_status st = e3c_args_check("Norm", args, 2, kwargs, known);
    if (!st)
        st = e3c_arg_string(args, kwargs, 0, "irreps_in", NULL, &irreps);
    if (!st)
        st = e3c_arg_bool(args, kwargs, 1, "squared", 0, &squared);
    return st ? st : e3c_norm_new(out, irreps, squared);
}

/* The seed's modules that take one irreps argument. */
#define IRREPS_CTOR(fn_name, type, ctor)                                                       \
    static e3c_status fn_name(e3c_module **out, const cJSON *args, const cJSON *kwargs)        \
    {                                                                                          \
        static const char *const known[] = {"irreps_in", NULL};                                \
        const char *irreps;                                                                    \
        e3c_status st = e3c_args_check(type, args, 1, kwargs, known);                          \
        if (!st)                                                                               \
            st = e3c_arg_string(args, kwargs, 0, "irreps_in", NULL, &irreps);                 \
        return st ? st : ctor(out, irreps);                                                    \
    }

IRREPS_CTOR(build_mymodule, "MyModule", e3c_seed_mymodule_new)
IRREPS_CTOR(build_mymodule_loop, "MyModuleLoop", e3c_seed_mymodule_loop_new)
IRREPS_CTOR(build_another, "AnotherModule", e3c_seed_another_new)

static e3c_status build_tracing(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    e3c_status st = e3c_args_check("TracingModule", args, 0, kwargs, NULL);
    return st ? st : e3c_seed_tracing_new(out);
}

static e3c_status build_supermod(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    e3c_status st = e3c_args_check("Supermod", args, 0, kwargs, NULL);
    return st ? st : e3c_seed_supermod_new(out);
}

void e3c_register_builtins(void)
{
    e3c_register_builtin("Norm", build_norm);
    e3c_register_builtin("MyModule", build_mymodule);
    e3c_register_builtin("MyModuleLoop", build_mymodule_loop);
    e3c_register_builtin("AnotherModule", build_another);
    e3c_register_builtin("TracingModule", build_tracing);
    e3c_register_builtin("Supermod", build_supermod);
}
