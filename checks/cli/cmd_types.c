/* e3check types [NAME]: the registered module types; for one type its arguments and its
 * parameters by state-dict name with their shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "e3check/registry.h"
#include "select.h"

static void types_help(FILE *out)
{
    fputs("usage: e3check types [NAME [--args JSON] [--kwargs JSON]] [--plugin PATH] [--config FILE]\n\n"
          "List the registered module types. With NAME: its arguments as a signature\n"
          "(positional ones first, keyword-only ones after '*') and, when it can be built\n"
          "from --args/--kwargs (JSON, as in a fixture's \"module\"), its parameters by\n"
          "e3nn's state-dict name with their shapes: the names and sizes a fixture's\n"
          "\"parameters\" take. The plugins of the config file (--config FILE, else\n"
          "./e3check.json) are loaded too.\n",
          out);
}

static int list_types(void)
{
    e3c_strings names = {0, NULL};
    if (e3c_registry_names(&names)) {
        cli_error("%s", e3c_error_last());
        return EXIT_INTERNAL;
    }
    for (size_t i = 0; i < names.count; i++)
        printf("%s\n", names.items[i]);
    e3c_strings_free(&names);
    return EXIT_AS_EXPECTED;
}

static void print_signature(const char *type)
{
    e3c_strings args = {0, NULL};
    int positional = 0;
    if (e3c_registry_arguments(&args, &positional, type)) {
        printf("%s(...): %s\n", type, e3c_error_last());
        return;
    }
    printf("%s(", type);
    for (size_t i = 0; i < args.count; i++)
        printf("%s%s%s", i ? ", " : "", (int)i == positional ? "*, " : "", args.items[i]);
    printf(")\n");
    e3c_strings_free(&args);
}

/* One line per parameter: state-dict name and shape. */
static void print_parameters(const e3c_module *m)
{
    e3c_strings names = {0, NULL};
    if (e3c_module_parameters(&names, m)) {
        printf("parameters: %s\n", e3c_error_last());
        return;
    }
    printf("parameters (state-dict name, shape, in e3nn's order):%s\n", names.count ? "" : " none");
    for (size_t i = 0; i < names.count; i++) {
        e3c_tensor *t = NULL;
        int64_t shape[8];
        int ndim = 0;
        printf("  %s [", names.items[i]);
        if (!e3c_module_tensor(&t, m, names.items[i]) && !e3c_tensor_shape(shape, 8, &ndim, t))
            for (int d = 0; d < ndim; d++)
                printf("%s%lld", d ? ", " : "", (long long)shape[d]);
        printf("]\n");
        e3c_tensor_free(t);
    }
    e3c_strings_free(&names);
}

static int describe(const char *type, const char *args, const char *kwargs)
{
    cJSON *spec = cJSON_CreateObject();
    cJSON *a = args ? cJSON_Parse(args) : NULL, *k = kwargs ? cJSON_Parse(kwargs) : NULL;
    if ((args && !cJSON_IsArray(a)) || (kwargs && !cJSON_IsObject(k))) {
        cli_error("types: %s is not a JSON %s", args && !cJSON_IsArray(a) ? "--args" : "--kwargs",
                  args && !cJSON_IsArray(a) ? "array" : "object");
        cJSON_Delete(a), cJSON_Delete(k), cJSON_Delete(spec);
        return EXIT_USAGE;
    }
    cJSON_AddStringToObject(spec, "type", type);
    if (a)
        cJSON_AddItemToObject(spec, "args", a);
    if (k)
        cJSON_AddItemToObject(spec, "kwargs", k);
    e3c_strings names = {0, NULL};
    int known = 0, rc = EXIT_AS_EXPECTED;
    if (!e3c_registry_names(&names))
        for (size_t i = 0; i < names.count; i++)
            known |= !strcmp(names.items[i], type);
    e3c_strings_free(&names);
    e3c_module *m = NULL;
    if (!known) {
        e3c_registry_build(&m, spec); /* for its message, which names the next step */
        cli_error("types: %s", e3c_error_last());
        rc = EXIT_NOT_EXPECTED;
    } else {
        print_signature(type);
        if (e3c_registry_build(&m, spec))
            printf("parameters: give its arguments to list them (--args '[...]', --kwargs '{...}'); %s\n",
                   e3c_error_last());
        else
            print_parameters(m);
    }
    e3c_module_free(m);
    cJSON_Delete(spec);
    return rc;
}

static int types_run(int argc, char **argv)
{
    const char *name = NULL, *args = NULL, *kwargs = NULL;
    int rc = config_load_plugins(argc, argv);
    if (rc)
        return rc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            i++; /* read by config_load_plugins */
        else if (!strcmp(argv[i], "--plugin") && i + 1 < argc) {
            if (e3c_registry_load_plugin(argv[++i])) {
                cli_error("%s", e3c_error_last());
                return EXIT_USAGE; /* a plugin that cannot be loaded is a usage error, as in run */
            }
        } else if (!strcmp(argv[i], "--args") && i + 1 < argc)
            args = argv[++i];
        else if (!strcmp(argv[i], "--kwargs") && i + 1 < argc)
            kwargs = argv[++i];
        else if (argv[i][0] != '-' && !name)
            name = argv[i];
        else {
            cli_error("types: unexpected argument '%s'", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!name && (args || kwargs)) {
        cli_error("types: --args and --kwargs need a type NAME");
        return EXIT_USAGE;
    }
    return name ? describe(name, args, kwargs) : list_types();
}

const cli_command cmd_types = {"types", "list the module types, or one type's arguments and parameters", types_run,
                               types_help};
