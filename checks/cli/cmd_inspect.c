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
#include "e3check/torch.h"

static void help(FILE *out)
{
    fputs("usage: e3check inspect FILE.pt [FILE.pt...]\n\n"
          "Load each TorchScript file and print its type, methods with their signatures,\n"
          "submodules, attributes and extra files. A file that cannot be loaded gets a\n"
          "one-line error naming the file and the reason; the exit status is then 1. Each\n"
          "file is read in a child process: a file corrupt enough to crash libtorch's loader\n"
          "is reported like any other bad file.\n",
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
        if (e3c_jit_attribute_string(m, names->items[i], &value) == E3C_OK)
            printf("  %s = %s\n", names->items[i], value);
        else
            printf("  %s (unreadable: %s)\n", names->items[i], e3c_error_last());
        free(value);
    }
}

static int inspect_one(const char *path)
{
    e3c_jit_module *m = NULL;
    char *type = NULL;
    e3c_strings methods = {0}, subs = {0}, attrs = {0}, extra = {0};
    int rc = EXIT_NOT_EXPECTED;
    if (e3c_jit_load(&m, path) || e3c_jit_type_name(m, &type) || e3c_jit_methods(m, &methods) ||
        e3c_jit_submodules(m, &subs) || e3c_jit_attributes(m, &attrs) ||
        e3c_jit_extra_files(m, &extra)) {
        cli_error("%s", e3c_error_last());
        goto done;
    }
    printf("file: %s\ntype: %s\n", path, type);
    print_list("methods", &methods);
    print_list("submodules", &subs);
    print_attributes(m, &attrs);
    print_list("extra files", &extra);
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
    cli_error("'%s' could not be loaded: libtorch's loader crashed on it (signal %d, %s); the archive is corrupt",
              path, WTERMSIG(status), strsignal(WTERMSIG(status)));
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

const cli_command cmd_inspect = {"inspect", "print a TorchScript file's methods, submodules and extra files",
                                 run, help};
