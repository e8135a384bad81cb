/* A plugin as a model repository would write one: it registers a module type. */
#include "e3check/registry.h"

static e3c_status doubling_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self;
    e3c_tensor *y = NULL;
    e3c_status st = e3c_tensor_scalar(&y, e3c_values_get(in, 0), E3C_OP_MUL, 2.0);
    return st ? st : e3c_values_take_one(out, y);
}

static const e3c_module_class doubling_class = {
    .name = "Doubling",
    .mode = "script",
    .forward = doubling_forward,
    .script_source = "def forward(self, x):\n    torch._assert(x.shape[-1] == 4, \"width\")\n    return x * 2.0\n"};

static e3c_status build_doubling(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    (void)args, (void)kwargs;
    e3c_status st = e3c_module_new(out, &doubling_class, NULL);
    const char *irreps[1] = {"1x0e+1x1o"};
    if (!st)
        st = e3c_module_set_irreps_in(*out, irreps, 1);
    if (!st)
        st = e3c_module_set_irreps_out(*out, irreps, 1);
    return st;
}

E3C_PLUGIN_DECLARE_API_VERSION;

e3c_status e3check_plugin_init(void);
e3c_status e3check_plugin_init(void) { return e3c_registry_add("Doubling", build_doubling); }
