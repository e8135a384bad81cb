/* The module registry and plugin loading. */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "builtins.h"
#include "ctor_args.h"
#include "e3check/json.h"
#include "e3check/registry.h"

/* Types added at run time (plugins, a program's own main), after the built-in table. */
typedef struct entry {
    char *name;
    e3c_module_ctor ctor;
} entry;

static entry *entries;
static size_t n_entries;

/* The constructor of `name`: a built-in one, else one added; NULL when unknown. */
static e3c_module_ctor find(const char *name)
{
    for (size_t i = 0; i < n_builtin_types; i++)
        if (!strcmp(builtin_types[i].name, name))
            return builtin_types[i].ctor;
    for (size_t i = 0; i < n_entries; i++)
        if (!strcmp(entries[i].name, name))
            return entries[i].ctor;
    return NULL;
}

e3c_status e3c_registry_add(const char *type_name, e3c_module_ctor ctor)
{
    if (!type_name || !type_name[0] || !ctor)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_registry_add: a type needs a name and a constructor");
    if (find(type_name))
        return e3c_error_set(E3C_ERR_INVALID, "module type \"%s\" is already registered", type_name);
    entry *grown = realloc(entries, (n_entries + 1) * sizeof *grown);
    char *copy = strdup(type_name);
    if (grown)
        entries = grown;
    if (!grown || !copy) {
        free(copy);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory registering %s", type_name);
    }
    entries[n_entries++] = (entry){copy, ctor};
    return E3C_OK;
}

e3c_status e3c_registry_build(e3c_module **out, const cJSON *spec)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_registry_build: NULL argument");
    *out = NULL;
    if (!cJSON_IsObject(spec))
        return e3c_error_set(E3C_ERR_VALUE, "a module must be a JSON object {\"type\", \"args\", \"kwargs\"}");
    const char *type;
    if (e3c_json_string(&type, spec, "type"))
        return e3c_error_prefix("module");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(spec, "args");
    const cJSON *kwargs = cJSON_GetObjectItemCaseSensitive(spec, "kwargs");
    for (const cJSON *f = spec->child; f; f = f->next)
        if (strcmp(f->string, "type") && strcmp(f->string, "args") && strcmp(f->string, "kwargs"))
            return e3c_error_set(E3C_ERR_VALUE, "module %s: unknown field \"%s\"", type, f->string);
    if (args && !cJSON_IsArray(args))
        return e3c_error_set(E3C_ERR_VALUE, "module %s: \"args\" must be an array", type);
    if (kwargs && !cJSON_IsObject(kwargs))
        return e3c_error_set(E3C_ERR_VALUE, "module %s: \"kwargs\" must be an object", type);
    e3c_module_ctor ctor = find(type);
    if (!ctor)
        return e3c_error_set(E3C_ERR_NOT_FOUND,
                             "unknown module type \"%s\" (see e3check types; a type of your own needs --plugin PATH, "
                             "\"plugins\" in e3check.json, or your program's e3c_registry_add)",
                             type);
    e3c_status st = ctor(out, args, kwargs);
    if (!st && !*out) /* a plugin's constructor may "succeed" without building anything */
        st = e3c_error_set(E3C_ERR_INTERNAL, "its constructor reported success but gave no module");
    return st ? e3c_error_prefix("cannot build %s", type) : E3C_OK;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

e3c_status e3c_registry_names(e3c_strings *out)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_registry_names: NULL argument");
    size_t n = n_builtin_types + n_entries;
    out->count = 0;
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory listing types");
    for (size_t i = 0; i < n; i++) {
        const char *name = i < n_builtin_types ? builtin_types[i].name : entries[i - n_builtin_types].name;
        if (!(out->items[i] = strdup(name))) {
            e3c_strings_free(out);
            return e3c_error_set(E3C_ERR_NOMEM, "out of memory listing types");
        }
        out->count++;
    }
    qsort(out->items, out->count, sizeof *out->items, by_name);
    return E3C_OK;
}

enum { PLUGIN_INIT_LIMIT_S = 60 }; /* how long a plugin's trial load may take */

/* E3C_OK when the plugin `lib` (from `path`) declares this E3C_API_VERSION. */
static e3c_status check_api_version(void *lib, const char *path)
{
    const int *version = dlsym(lib, "e3check_plugin_api_version");
    if (!version)
        return e3c_error_set(E3C_ERR_FORMAT,
                             "plugin '%s' declares no plugin API version (E3C_PLUGIN_DECLARE_API_VERSION); "
                             "this e3check expects version %d (rebuild the plugin against this e3check)",
                             path, E3C_API_VERSION);
    if (*version != E3C_API_VERSION)
        return e3c_error_set(E3C_ERR_FORMAT,
                             "plugin '%s' was built for plugin API version %d; this e3check expects version %d "
                             "(rebuild the plugin against this e3check)",
                             path, *version, E3C_API_VERSION);
    return E3C_OK;
}

/* dlopen `path`, check its API version and run its init here; the error names the plugin. */
static e3c_status load_here(const char *path)
{
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return e3c_error_set(E3C_ERR_IO, "cannot load plugin '%s': %s", path, dlerror());
    e3c_status version_st = check_api_version(lib, path);
    if (version_st) {
        dlclose(lib);
        return version_st;
    }
    e3c_status (*init)(void);
    *(void **)&init = dlsym(lib, "e3check_plugin_init");
    if (!init)
        return e3c_error_set(E3C_ERR_FORMAT, "plugin '%s' has no e3check_plugin_init function", path);
    e3c_error_set(E3C_OK, "%s", "");
    e3c_status st = init();
    if (st && !e3c_error_last()[0])
        return e3c_error_set(st, "plugin '%s': e3check_plugin_init failed (%s) without saying why", path,
                             e3c_status_name(st));
    return st ? e3c_error_prefix("plugin '%s'", path) : E3C_OK;
}

/* In the trial child: load, then report on fd as the status (an int) and the message. */
static void trial_child(const char *path, int fd, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(3);
    alarm(PLUGIN_INIT_LIMIT_S + 5); /* a backstop should the parent's wait not end it */
    e3c_status st = load_here(path);
    const char *msg = st ? e3c_error_last() : "";
    if (write(fd, &st, sizeof st) != (ssize_t)sizeof st || write(fd, msg, strlen(msg)) < 0)
        _exit(3);
    _exit(0);
}

/* Read the trial child's report from fd into buf (NUL-terminated) until EOF or the
 * deadline; the number of bytes, or -1 when the deadline passed. */
static ssize_t trial_read(int fd, char *buf, size_t cap, time_t deadline)
{
    size_t len = 0;
    for (;;) {
        time_t left = deadline - time(NULL);
        struct pollfd p = {fd, POLLIN, 0};
        int rc = left > 0 ? poll(&p, 1, (int)left * 1000) : 0;
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return -1;
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (len += (size_t)n) == cap - 1)
            break;
    }
    buf[len] = '\0';
    return (ssize_t)len;
}

/* Load the plugin in a child first: a crash, an abort, an exit or a hang there becomes an
 * error naming the plugin instead of taking this process down. E3C_OK when it loaded and
 * its init returned success. */
static e3c_status trial_load(const char *path)
{
    int fds[2];
    if (pipe(fds) != 0)
        return e3c_error_set(E3C_ERR_IO, "plugin '%s': cannot create a pipe: %s", path, strerror(errno));
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        close(fds[0]), close(fds[1]);
        return e3c_error_set(E3C_ERR_IO, "plugin '%s': cannot fork to try it: %s", path, strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        trial_child(path, fds[1], parent);
    }
    close(fds[1]);
    char buf[4096];
    ssize_t n = trial_read(fds[0], buf, sizeof buf, time(NULL) + PLUGIN_INIT_LIMIT_S);
    close(fds[0]);
    if (n < 0)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    e3c_status st;
    if (n < 0)
        return e3c_error_set(E3C_ERR_INVALID, "plugin '%s': loading it did not end within %d s", path,
                             PLUGIN_INIT_LIMIT_S);
    if (WIFSIGNALED(status))
        return e3c_error_set(E3C_ERR_INVALID, "plugin '%s' crashed while loading (signal %d, %s)", path,
                             WTERMSIG(status), strsignal(WTERMSIG(status)));
    if ((size_t)n < sizeof st || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return e3c_error_set(E3C_ERR_INVALID,
                             "plugin '%s' ended the process while loading (exit status %d) instead of returning "
                             "from e3check_plugin_init",
                             path, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    memcpy(&st, buf, sizeof st);
    return st ? e3c_error_set(st, "%s", buf + sizeof st) : E3C_OK;
}

e3c_status e3c_registry_load_plugin(const char *path)
{
    if (!path)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_registry_load_plugin: NULL argument");
    e3c_status st = trial_load(path);
    return st ? st : load_here(path);
}

/* ------------------------------------------------------------------ arguments ---- */

e3c_status e3c_registry_arguments(e3c_strings *out, int *n_positional, const char *type)
{
    if (!type || !out || !n_positional)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_registry_arguments: NULL argument");
    memset(out, 0, sizeof *out);
    e3c_module_ctor ctor = find(type);
    if (!ctor)
        return e3c_error_set(E3C_ERR_NOT_FOUND, "unknown module type \"%s\" (see e3check types)", type);
    e3c_module *m = NULL;
    const char *const *known = NULL;
    int max_args = 0;
    ctor_probe_begin();
    ctor(&m, NULL, NULL);
    int probed = ctor_probe_end(&max_args, &known);
    e3c_module_free(m);
    if (!probed)
        return e3c_error_set(E3C_ERR_NOT_FOUND,
                             "%s does not declare its arguments (its constructor does not call "
                             "e3c_args_check)",
                             type);
    size_t n = 0;
    while (known && known[n])
        n++;
    out->items = calloc(n ? n : 1, sizeof *out->items);
    for (size_t i = 0; out->items && i < n; i++)
        if ((out->items[i] = strdup(known[i])))
            out->count++;
    *n_positional = max_args;
    if (!out->items || out->count != n) {
        e3c_strings_free(out);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory listing arguments");
    }
    return E3C_OK;
}
