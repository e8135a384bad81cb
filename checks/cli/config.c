/* The config file e3check.json: plugins, fixture paths and default options of `run`
 * (fixtures/README.md documents it). Its options go before the command line's, so the
 * command line wins for single-valued options and adds to repeatable ones. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "e3check/registry.h"
#include "e3check/json.h"
#include "select.h"

/* The options a config file's "defaults" may hold, and whether they take a value. */
static const struct {
    const char *key;
    int has_value;
} known_defaults[] = {{"report", 1},  {"junit", 1},   {"markdown", 1},  {"seed", 1},
                      {"jobs", 1},    {"timeout", 1}, {"filter", 1},    {"exclude", 1},
                      {"check", 1},   {"maxfail", 1}, {"exitfirst", 0}, {"color", 1},
                      {"threads", 1}, {"quiet", 0},   {"verbose", 0},   {"durations", 1}};

typedef struct arglist {
    char **v;
    int n, cap;
} arglist;

static int push(arglist *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        int cap = a->cap ? 2 * a->cap : 32;
        char **v = realloc(a->v, (size_t)cap * sizeof *v);
        if (!v)
            return 0;
        a->v = v, a->cap = cap;
    }
    a->v[a->n] = strdup(s);
    if (!a->v[a->n])
        return 0;
    a->v[++a->n] = NULL;
    return 1;
}

/* `rel` relative to the config file's folder `dir` (absolute paths unchanged). */
static int push_path(arglist *a, const char *dir, const char *rel)
{
    char buf[4096];
    if (rel[0] == '/' || !strcmp(dir, "."))
        snprintf(buf, sizeof buf, "%s", rel);
    else
        snprintf(buf, sizeof buf, "%s/%s", dir, rel);
    return push(a, buf);
}

/* One "defaults" member as options: a string or number is one value, an array several
 * (repeatable options), true a flag. Returns 0 and names the problem in *why. */
static int push_default(arglist *a, const cJSON *m, const char **why)
{
    int has_value = -1;
    for (size_t k = 0; k < sizeof known_defaults / sizeof *known_defaults; k++)
        if (!strcmp(m->string, known_defaults[k].key))
            has_value = known_defaults[k].has_value;
    char opt[64], num[64];
    snprintf(opt, sizeof opt, "--%s", m->string);
    if (has_value < 0)
        return *why = "is not a known option", 0;
    if (!has_value) {
        if (!cJSON_IsBool(m))
            return *why = "must be true or false", 0;
        return cJSON_IsFalse(m) || push(a, opt);
    }
    const cJSON *v = cJSON_IsArray(m) ? m->child : m;
    for (; v; v = cJSON_IsArray(m) ? v->next : NULL) {
        if (cJSON_IsNumber(v))
            snprintf(num, sizeof num, "%.17g", v->valuedouble);
        else if (!cJSON_IsString(v))
            return *why = "must be a string, a number or an array of them", 0;
        if (!push(a, opt) || !push(a, cJSON_IsString(v) ? v->valuestring : num))
            return *why = "out of memory", 0;
    }
    return 1;
}

/* Append the file's options to `a` and its paths to `paths`. Returns an exit status. */
static int read_config(const char *file, arglist *a, arglist *paths)
{
    cJSON *doc = NULL;
    if (e3c_json_read_file(&doc, file)) {
        cli_error("config: %s", e3c_error_last());
        return EXIT_USAGE;
    }
    char *copy = strdup(file);
    const char *dir = copy ? dirname(copy) : ".", *why = NULL, *where = NULL;
    const cJSON *m, *top = cJSON_IsObject(doc) ? doc : NULL;
    if (!top)
        why = "must be a JSON object", where = "the file";
    cJSON_ArrayForEach(m, top) {
        if (why)
            break;
        where = m->string;
        if (!strcmp(m->string, "plugins") || !strcmp(m->string, "paths")) {
            int plugins = m->string[1] == 'l';
            const cJSON *p, *list = cJSON_IsArray(m) ? m : NULL;
            if (!list)
                why = "must be an array of paths";
            cJSON_ArrayForEach(p, list) {
                if (!cJSON_IsString(p))
                    why = "must be an array of paths";
                else if (plugins ? !push(a, "--plugin") || !push_path(a, dir, p->valuestring)
                                 : !push_path(paths, dir, p->valuestring))
                    why = "out of memory";
            }
        } else if (!strcmp(m->string, "defaults")) {
            const cJSON *d, *opts = cJSON_IsObject(m) ? m : NULL;
            if (!opts)
                why = "must be an object of options";
            cJSON_ArrayForEach(d, opts)
                if (!why && !push_default(a, d, &why))
                    where = d->string;
        } else
            why = "is not a known field (plugins, paths, defaults)";
    }
    if (why)
        cli_error("config '%s': \"%s\" %s", file, where, why);
    free(copy);
    cJSON_Delete(doc);
    return why ? EXIT_USAGE : EXIT_AS_EXPECTED;
}

/* The config file: --config FILE, else ./e3check.json when present, else none (NULL). */
static int find_config(int argc, char **argv, const char **file)
{
    *file = NULL;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) /* after "--", a --config is a path */
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) {
                cli_error("--config needs a file (see 'e3check %s --help')", argv[0]);
                return EXIT_USAGE;
            }
            *file = argv[++i];
        }
    if (!*file && access("e3check.json", F_OK) == 0)
        *file = "e3check.json";
    return EXIT_AS_EXPECTED;
}

int config_expand(int argc, char **argv, int *out_argc, char ***out_argv, char ***paths, int *n_paths)
{
    arglist a = {0}, p = {0};
    const char *file = NULL;
    int rc = find_config(argc, argv, &file);
    if (!push(&a, argv[0]))
        rc = EXIT_INTERNAL;
    if (!rc && file)
        rc = read_config(file, &a, &p);
    int options_end = 0;
    for (int i = 1; !rc && i < argc; i++) {
        options_end |= !strcmp(argv[i], "--");
        if (!options_end && !strcmp(argv[i], "--config")) {
            i++;
            continue;
        }
        if (!push(&a, argv[i]))
            rc = EXIT_INTERNAL;
    }
    if (rc == EXIT_INTERNAL)
        cli_error("out of memory reading the options");
    *out_argc = a.n, *out_argv = a.v, *paths = p.v, *n_paths = p.n;
    return rc;
}

int config_load_plugins(int argc, char **argv)
{
    arglist a = {0}, p = {0};
    const char *file = NULL;
    int rc = find_config(argc, argv, &file);
    if (!rc && file)
        rc = read_config(file, &a, &p);
    for (int i = 0; !rc && i + 1 < a.n; i++)
        if (!strcmp(a.v[i], "--plugin") && e3c_registry_load_plugin(a.v[++i])) {
            cli_error("%s", e3c_error_last());
            rc = EXIT_USAGE;
        }
    config_free_argv(a.n, a.v, p.v, p.n);
    return rc;
}

void config_free_argv(int argc, char **argv, char **paths, int n_paths)
{
    for (int i = 0; argv && i < argc; i++)
        free(argv[i]);
    free(argv);
    for (int i = 0; paths && i < n_paths; i++)
        free(paths[i]);
    free(paths);
}
