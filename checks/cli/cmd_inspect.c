/* e3check inspect FILE.pt: what a TorchScript file holds. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "e3check/structured.h"
#include "e3check/torch.h"
#include "e3check/values.h"

static void help(FILE *out)
{
    fputs("usage: e3check inspect FILE.pt [FILE.pt...]\n\n"
          "Load each TorchScript file and print its type, methods with their signatures,\n"
          "submodules, attributes, the metadata (extra files with their values, long ones\n"
          "shortened), the forward schema, and which built-in preset fits an interatomic\n"
          "potential's signature. A file that cannot be loaded gets a\n"
          "one-line error naming the file and the reason; the exit status is then 1. Each\n"
          "file is read in a child process: a file corrupt enough to crash libtorch's loader\n"
          "is reported like any other bad file. A file written by a newer PyTorch than the\n"
          "libtorch e3check links is named as such, with how to build against another LibTorch.\n",
          out);
}

static void print_list(const char *title, const e3c_strings *s)
{
    printf("%s:%s\n", title, s->count ? "" : " (none)");
    for (size_t i = 0; i < s->count; i++)
        printf("  %s\n", s->items[i]);
}

static void print_attributes(const e3c_jit_module *m, const e3c_strings *names)
{
    printf("attributes:%s\n", names->count ? "" : " (none)");
    for (size_t i = 0; i < names->count; i++) {
        char *value = NULL;
        if (e3c_jit_attribute_string(&value, m, names->items[i]) == E3C_OK)
            printf("  %s = %s\n", names->items[i], value);
        else
            printf("  %s (unreadable: %s)\n", names->items[i], e3c_error_last());
        free(value);
    }
}

/* An extra file's value on one line: control characters as spaces, at most 72 chars. */
static void print_metadata(const e3c_jit_module *m, const e3c_strings *names)
{
    printf("metadata:%s\n", names->count ? "" : " (none)");
    for (size_t i = 0; i < names->count; i++) {
        char *text = NULL;
        size_t len = 0;
        if (e3c_jit_extra_file(&text, &len, m, names->items[i])) {
            printf("  %s (unreadable: %s)\n", names->items[i], e3c_error_last());
            continue;
        }
        size_t shown = len > 72 ? 72 : len;
        for (size_t k = 0; k < shown; k++)
            if ((unsigned char)text[k] < 0x20)
                text[k] = ' ';
        printf("  %s = %.*s", names->items[i], (int)shown, text);
        if (shown < len)
            printf(" ... (%zu bytes)", len);
        printf("\n");
        free(text);
    }
}

/* Does the preset's top-level args fit the schema: all of them in it, and every argument
 * of the schema without a default among them? Returns how many it names (0: no fit). */
static int preset_fit(const e3c_schema *sc, const char *preset)
{
    cJSON *p = NULL;
    if (e3c_preset_load(&p, preset, NULL))
        return 0;
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(p, "args"), *a;
    int n = 0, fits = 1;
    for (a = args ? args->child : NULL; a && fits; a = a->next) {
        int found = 0;
        for (size_t i = 0; i < sc->n_args; i++)
            found |= !strcmp(sc->args[i].name, a->string);
        fits = found;
        n++;
    }
    for (size_t i = 0; fits && i < sc->n_args; i++)
        if (!sc->args[i].default_value && !cJSON_GetObjectItemCaseSensitive(args, sc->args[i].name))
            fits = 0;
    cJSON_Delete(p);
    return fits ? n : 0;
}

static void print_schema(e3c_jit_module *m)
{
    e3c_schema sc;
    if (!e3c_jit_has_method(m, "forward") || e3c_jit_schema(&sc, m, "forward")) {
        printf("forward schema: (none)\n");
        return;
    }
    printf("forward schema:\n");
    for (size_t i = 0; i < sc.n_args; i++)
        printf("  %s: %s%s%s\n", sc.args[i].name, sc.args[i].type, sc.args[i].default_value ? " = " : "",
               sc.args[i].default_value ? sc.args[i].default_value : "");
    printf("  -> %s\n", sc.returns);
    const char *const *names = e3c_preset_names();
    int best = 0;
    const char *which = NULL;
    for (size_t i = 0; names[i]; i++) {
        int fit = preset_fit(&sc, names[i]);
        if (fit > best)
            best = fit, which = names[i];
    }
    if (which)
        printf("preset: %s fits this signature (e3check model FILE --preset %s)\n", which, which);
    else
        printf("preset: none of the built-in presets fits this signature\n");
    e3c_schema_free(&sc);
}

/* A file this libtorch cannot load: was it written by a newer PyTorch? Then say so and
 * return 1. */
static int explain_newer(const char *path)
{
    int64_t format = 0, max_format = 0;
    char *producer = NULL;
    if (e3c_jit_archive_info(&format, &producer, &max_format, path))
        return 0;
    int newer_producer = producer && *producer && strcmp(producer, e3c_torch_version()) > 0 &&
                         strncmp(producer, e3c_torch_version(), 4) != 0;
    char who[128];
    if (newer_producer)
        snprintf(who, sizeof who, "PyTorch %.40s, archive format %lld", producer, (long long)format);
    else
        snprintf(who, sizeof who, "archive format %lld", (long long)format);
    int newer = format > max_format || newer_producer;
    if (newer)
        cli_error("'%s' was written by a newer PyTorch (%s); this e3check links libtorch %s, which reads formats up "
                  "to %lld: build e3check against a matching LibTorch (find_package(Torch) with "
                  "cmake -DTorch_DIR=/path/to/libtorch/share/cmake/Torch), or save the model with PyTorch %s",
                  path, who, e3c_torch_version(), (long long)max_format, e3c_torch_version());
    free(producer);
    return newer;
}

static int inspect_one(const char *path)
{
    e3c_jit_module *m = NULL;
    char *type = NULL;
    e3c_strings methods = {0}, subs = {0}, attrs = {0}, extra = {0};
    int rc = EXIT_NOT_EXPECTED;
    if (e3c_jit_load(&m, path) || e3c_jit_type_name(&type, m) || e3c_jit_methods(&methods, m) ||
        e3c_jit_submodules(&subs, m) || e3c_jit_attributes(&attrs, m) || e3c_jit_extra_files(&extra, m)) {
        if (m || !explain_newer(path))
            cli_error("%s", e3c_error_last());
        goto done;
    }
    printf("file: %s\ntype: %s\n", path, type);
    print_list("methods", &methods);
    print_list("submodules", &subs);
    print_attributes(m, &attrs);
    print_metadata(m, &extra);
    print_schema(m);
    rc = EXIT_AS_EXPECTED;
done:
    e3c_strings_free(&methods);
    e3c_strings_free(&subs);
    e3c_strings_free(&attrs);
    e3c_strings_free(&extra);
    free(type);
    e3c_jit_free(m);
    return rc;
}

/* inspect_one in a child process: libtorch's TorchScript parser can crash on a corrupt
 * archive (found by fuzzing e3c_jit_load_buffer), and that must be an error, not a crash. */
static int inspect_isolated(const char *path)
{
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        cli_error("%s: cannot fork: %s", path, strerror(errno));
        return EXIT_INTERNAL;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* it dies with e3check, like the check workers */
        if (getppid() != parent)
            _exit(EXIT_INTERNAL);
        int rc = inspect_one(path);
        fflush(NULL);
        _exit(rc);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    fflush(stdout);
    cli_error("'%s' could not be loaded: libtorch's loader crashed on it (signal %d, %s); the archive is corrupt", path,
              WTERMSIG(status), strsignal(WTERMSIG(status)));
    return EXIT_NOT_EXPECTED;
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        cli_error("inspect: no file given (usage: e3check inspect FILE.pt)");
        return EXIT_USAGE;
    }
    int rc = EXIT_AS_EXPECTED;
    for (int i = 1; i < argc; i++) {
        if (i > 1)
            putchar('\n');
        if (inspect_isolated(argv[i]) != EXIT_AS_EXPECTED)
            rc = EXIT_NOT_EXPECTED;
    }
    return rc;
}

const cli_command cmd_inspect = {"inspect", "print a TorchScript file's methods, submodules and extra files", run,
                                 help};
