/* A plugin that declares another plugin API version (PLUGIN_API_VERSION, when defined)
 * or none: e3check must refuse it, naming the file, the version and the one it expects,
 * before its init runs (the init would print INIT-RAN and register a type). */
#include <stdio.h>

#include "e3check/registry.h"

#ifdef PLUGIN_API_VERSION
const int e3check_plugin_api_version = PLUGIN_API_VERSION;
#endif

static e3c_status build_nothing(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    (void)out, (void)args, (void)kwargs;
    return e3c_error_set(E3C_ERR_VALUE, "never built");
}

e3c_status e3check_plugin_init(void);
e3c_status e3check_plugin_init(void)
{
    fputs("INIT-RAN\n", stderr);
    return e3c_registry_add("VersionProbe", build_nothing);
}
