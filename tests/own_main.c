/* A model repository's own test program: it registers its module type, then hands the
 * command line to e3check (e3c_cli_main) and gets every command and option. */
#include "e3check/command.h"
#include "e3check/registry.h"

static e3c_status tripling_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self;
    e3c_tensor *y = NULL;
    e3c_status st = e3c_tensor_scalar(&y, e3c_values_get(in, 0), E3C_OP_MUL, 3.0);
    return st ? st : e3c_values_take_one(out, y);
}

static const e3c_module_class tripling_class = {
    .name = "Tripling",
    .mode = "script",
    .forward = tripling_forward,
    .script_source = "def forward(self, x):\n    torch._assert(x.shape[-1] == 4, \"width\")\n    return x * 3.0\n"};

static e3c_status build_tripling(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    (void)args, (void)kwargs;
    e3c_status st = e3c_module_new(out, &tripling_class, NULL);
    const char *irreps[1] = {"1x0e+1x1o"};
    if (!st)
        st = e3c_module_set_irreps_in(*out, irreps, 1);
    if (!st)
        st = e3c_module_set_irreps_out(*out, irreps, 1);
    return st;
}

int main(int argc, char **argv)
{
    if (e3c_registry_add("Tripling", build_tripling))
        return 3;
    return e3c_cli_main(argc, argv);
}
