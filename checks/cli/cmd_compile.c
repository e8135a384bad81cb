/* e3check compile FIXTURE.json -o OUT.pt: build a module, compile it, save it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "e3check/fixture.h"
#include "e3check/registry.h"
#include "e3check/json.h"
#include "select.h"

static void help(FILE *out)
{
    fputs("usage: e3check compile FIXTURE.json -o OUT.pt [options]\n\n"
          "Build the fixture's module as 'e3check run' does (the generator seeded with its\n"
          "seed, the module built in its dtype, its parameters set), compile it as its\n"
          "compile modes ask (e3nn.util.jit.compile) and save the TorchScript file,\n"
          "atomically: the same fixture gives the same tensors every time. The file may hold\n"
          "one fixture, an array of them (pick one with --name) or just a module\n"
          "{\"type\": NAME, \"args\": [...], \"kwargs\": {...}}. On failure no file is written\n"
          "and the error names the module's path in the tree.\n\n"
          "options:\n"
          "  -o, --output FILE        where to save (required)\n"
          "  --name NAME              the fixture to compile from a file of several\n"
          "  --mode script|trace      force the top level's mode, as e3nn's script()/trace()\n"
          "                           (needed to save a module whose own mode is none)\n"
          "  --n-trace-checks N       trace inputs per traced module (default 1)\n"
          "  --seed N                 seed of the weights and tracing inputs (default: the\n"
          "                           fixture's seed, else 0)\n"
          "  --error-on-warnings      a tracer warning is an error\n"
          "  --plugin PATH            load module types from a shared library first\n"
          "  -q                       do not print the compiled tree\n",
          out);
}

/* The fixture's "irreps_in" (a list of irreps strings, "cartesian_points" or null), when
 * given, declares the module's inputs (needed to trace a module that declares none). */
static e3c_status declare_irreps_in(e3c_module *m, const cJSON *list)
{
    if (!list)
        return E3C_OK;
    if (!cJSON_IsArray(list))
        return e3c_error_set(E3C_ERR_VALUE, "\"irreps_in\" must be a list");
    int n = cJSON_GetArraySize(list);
    const char **entries = calloc((size_t)(n ? n : 1), sizeof *entries);
    if (!entries)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    e3c_status st = E3C_OK;
    for (int i = 0; !st && i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(list, i);
        if (cJSON_IsString(e))
            entries[i] = e->valuestring;
        else if (!cJSON_IsNull(e))
            st = e3c_error_set(E3C_ERR_VALUE, "\"irreps_in\" entry %d must be a string or null", i);
    }
    if (!st)
        st = e3c_module_set_irreps_in(m, entries, (size_t)n);
    free(entries);
    return st;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

/* The fixture to compile: the one named `name` of an array, the file's only fixture, or a
 * bare module spec / nameless {"module": ...} made a fixture named after the file.
 * *out is a new object (caller frees). */
static e3c_status pick_fixture(cJSON **out, const cJSON *json, const char *name, const char *file)
{
    *out = NULL;
    const cJSON *fx = json;
    if (cJSON_IsArray(json)) {
        int n = cJSON_GetArraySize(json);
        fx = NULL;
        for (const cJSON *e = json->child; e && name; e = e->next) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
            if (cJSON_IsString(nm) && !strcmp(nm->valuestring, name))
                fx = e;
        }
        if (!fx && !name && n == 1)
            fx = json->child;
        if (!fx) {
            const cJSON *first = cJSON_GetObjectItemCaseSensitive(json->child, "name");
            return e3c_error_set(E3C_ERR_VALUE, "the file holds %d fixtures%s%s%s; %s", n,
                                 cJSON_IsString(first) ? " (the first \"" : "",
                                 cJSON_IsString(first) ? first->valuestring : "", cJSON_IsString(first) ? "\")" : "",
                                 name ? "none is named as --name asks" : "pick one with --name NAME");
        }
    } else if (name) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(json, "name");
        if (!cJSON_IsString(nm) || strcmp(nm->valuestring, name))
            return e3c_error_set(E3C_ERR_VALUE, "the file holds no fixture named \"%s\"", name);
    }
    if (!cJSON_IsObject(fx))
        return e3c_error_set(E3C_ERR_VALUE, "a fixture or a module must be a JSON object");
    if (cJSON_GetObjectItemCaseSensitive(fx, "type")) { /* a bare module spec */
        *out = cJSON_CreateObject();
        if (*out && cJSON_AddStringToObject(*out, "name", file))
            cJSON_AddItemToObject(*out, "module", cJSON_Duplicate(fx, 1));
    } else {
        *out = cJSON_Duplicate(fx, 1);
        if (*out && !cJSON_GetObjectItemCaseSensitive(*out, "name"))
            cJSON_AddStringToObject(*out, "name", file);
    }
    return *out ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
}

static int run(int argc, char **argv)
{
    const char *fixture = NULL, *output = NULL, *force = NULL, *name = NULL;
    e3c_compile_options opt = E3C_COMPILE_OPTIONS_INIT;
    e3c_run_settings rs = {0, 0, 0};
    int quiet = 0, config_rc = config_load_plugins(argc, argv); /* e3check.json's plugins */
    if (config_rc)
        return config_rc;
    for (int i = 1; i < argc; i++) {
        long v;
        const char *a = argv[i];
        if (!strcmp(a, "--config") && i + 1 < argc)
            i++; /* read by config_load_plugins */
        else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc)
            output = argv[++i];
        else if (!strcmp(a, "--n-trace-checks") && i + 1 < argc && parse_int(argv[i + 1], 1, 1000, &v))
            opt.n_trace_checks = (int)v, i++;
        else if (!strcmp(a, "--seed") && i + 1 < argc && parse_int(argv[i + 1], 0, 2147483647L, &v))
            rs.has_seed = 1, rs.seed = (uint64_t)v, i++;
        else if (!strcmp(a, "--name") && i + 1 < argc)
            name = argv[++i];
        else if (!strcmp(a, "--mode") && i + 1 < argc &&
                 (!strcmp(argv[i + 1], "script") || !strcmp(argv[i + 1], "trace")))
            force = argv[++i];
        else if (!strcmp(a, "--error-on-warnings"))
            opt.error_on_warnings = 1;
        else if (!strcmp(a, "-q"))
            quiet = 1;
        else if (!strcmp(a, "--plugin") && i + 1 < argc) {
            if (e3c_registry_load_plugin(argv[++i])) {
                cli_error("%s", e3c_error_last());
                return EXIT_USAGE;
            }
        } else if (a[0] != '-' && !fixture)
            fixture = a;
        else {
            cli_error("compile: unexpected argument '%s' (see 'e3check compile --help')", a);
            return EXIT_USAGE;
        }
    }
    if (!fixture || !output) {
        cli_error("compile: need FIXTURE.json and -o OUT.pt");
        return EXIT_USAGE;
    }
    const cli_output out = {"-o", output};
    if (cli_output_replaces(&out, 1, fixture, "the fixture file"))
        return EXIT_USAGE;
    cJSON *json = NULL;
    if (e3c_json_read_file(&json, fixture)) {
        cli_error("%s", e3c_error_last());
        return EXIT_NOT_EXPECTED;
    }
    cJSON *fx = NULL;
    e3c_module *m = NULL, *compiled = NULL;
    e3c_strings warnings = {0, NULL}, tree = {0, NULL};
    opt.warnings = &warnings;
    int rc = EXIT_NOT_EXPECTED;
    e3c_status st = pick_fixture(&fx, json, name, fixture);
    if (!st) {
        opt.seed = e3c_fixture_seed(fx, &rs); /* the tracing inputs too, as run seeds them */
        st = e3c_fixture_build_module(&m, fx, &rs);
    }
    if (!st)
        st = declare_irreps_in(m, cJSON_GetObjectItemCaseSensitive(fx, "irreps_in"));
    if (!st)
        st = !force                     ? e3c_module_compile(&compiled, m, &opt)
             : !strcmp(force, "script") ? e3c_module_script(&compiled, m, &opt)
                                        : e3c_module_trace(&compiled, m, NULL, NULL, 0, &opt);
    if (!st && e3c_module_compiled_as(compiled) == E3C_EAGER) {
        cli_error("%s: %s has no compile mode, so compiling it leaves it a container of compiled children; "
                  "use --mode script or --mode trace to compile the top level too",
                  fixture, e3c_module_class_of(compiled)->name);
        goto done;
    }
    if (!st)
        st = e3c_module_save(compiled, output);
    if (st) {
        cli_error("%s: %s", fixture, e3c_error_last());
        goto done;
    }
    for (size_t i = 0; i < warnings.count; i++)
        fprintf(stderr, "e3check: warning: %s\n", warnings.items[i]);
    if (!quiet && e3c_module_describe(&tree, compiled, "root") == E3C_OK)
        for (size_t i = 0; i < tree.count; i++)
            printf("%s\n", tree.items[i]);
    if (!quiet)
        printf("saved %s\n", output);
    rc = EXIT_AS_EXPECTED;
done:
    e3c_strings_free(&warnings);
    e3c_strings_free(&tree);
    e3c_module_free(m);
    cJSON_Delete(fx);
    cJSON_Delete(json);
    return rc;
}

const cli_command cmd_compile = {"compile", "compile a fixture's module and save it as TorchScript", run, help};
