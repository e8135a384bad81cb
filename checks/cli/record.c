/* e3check model FILE --preset P --record OUT.json (record.h): the model runs in a child
 * process, as every check does; this process writes the fixture file. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "e3check/checks.h"
#include "e3check/file.h"
#include "e3check/fixture.h"
#include "e3check/structured.h"
#include "record.h"

int record_target_ok(const char *out_path)
{
    struct stat sb;
    if (stat(out_path, &sb) == 0) {
        if (S_ISREG(sb.st_mode))
            return 1;
        cli_error("model: --record %s: %s, not a regular file: a fixture file must be one", out_path,
                  S_ISDIR(sb.st_mode) ? "a folder" : "a special file");
        return 0;
    }
    if (errno != ENOENT) {
        cli_error("model: --record %s: %s", out_path, strerror(errno));
        return 0;
    }
    char *copy = strdup(out_path);
    const char *dir = copy ? dirname(copy) : ".";
    int ok = stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (!ok)
        cli_error("model: --record %s: the folder %s does not exist", out_path, dir);
    free(copy);
    return ok;
}

/* `target` relative to the folder `out_path` is written in (a link to OUT followed) when
 * both folders resolve and share more than the root (target's own name kept, a link not
 * followed), else `target` as it is. */
static void relative_to_out(const char *target, const char *out_path, char *buf, size_t cap)
{
    char *resolved = realpath(out_path, NULL); /* an existing OUT, through its links: where it is written */
    char *t = strdup(target), *o = strdup(resolved ? resolved : out_path), *tb = strdup(target);
    free(resolved);
    char tdir[PATH_MAX], odir[PATH_MAX];
    snprintf(buf, cap, "%s", target);
    if (!t || !o || !tb || !realpath(dirname(t), tdir) || !realpath(dirname(o), odir)) {
        free(t), free(o), free(tb);
        return;
    }
    size_t common = 0; /* the length of the shared leading folders */
    for (size_t i = 0;; i++) {
        if ((odir[i] == '/' || !odir[i]) && (tdir[i] == '/' || !tdir[i]))
            common = i;
        if (!odir[i] || !tdir[i] || odir[i] != tdir[i])
            break;
    }
    if (common == 0) { /* only "/" in common: the absolute path says more */
        free(t), free(o), free(tb);
        return;
    }
    size_t len = 0;
    buf[0] = '\0';
    for (const char *p = odir + common; *p; p++) /* one ".." per folder of OUT's below the shared ones */
        if (*p != '/' && (p == odir + common || p[-1] == '/'))
            len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "../");
    const char *rest = tdir + common;
    while (*rest == '/')
        rest++;
    if (len < cap)
        snprintf(buf + len, cap - len, "%s%s%s", rest, *rest ? "/" : "", basename(tb));
    free(t), free(o), free(tb);
}

/* Every number of j as JSON text with 17 significant digits (read back exactly). */
static int exact_numbers(cJSON *j)
{
    cJSON *next = NULL;
    for (cJSON *c = j ? j->child : NULL; c; c = next) {
        next = c->next;
        if (!cJSON_IsNumber(c)) {
            if (!exact_numbers(c))
                return 0;
            continue;
        }
        char text[40];
        snprintf(text, sizeof text, "%.17g", c->valuedouble);
        cJSON *raw = cJSON_CreateRaw(text);
        int ok = raw && (cJSON_IsObject(j) ? cJSON_ReplaceItemInObjectCaseSensitive(j, c->string, raw)
                                           : cJSON_ReplaceItemViaPointer(j, c, raw));
        if (!ok) {
            cJSON_Delete(raw);
            return 0;
        }
    }
    return 1;
}

typedef struct record_ctx {
    const e3c_fixture *fx;
    uint64_t seed;
} record_ctx;

/* In a child process: the golden options of one fixture, as details.golden. */
static void record_child(void *p, e3c_check_result *out)
{
    const record_ctx *c = p;
    cJSON *golden = NULL;
    out->details = cJSON_CreateObject();
    out->status = E3C_ERRORED;
    if (e3c_structured_golden_record(&golden, c->fx, c->seed))
        snprintf(out->message, sizeof out->message, "%s", e3c_error_last());
    else if (out->details && cJSON_AddItemToObject(out->details, "golden", golden))
        out->status = E3C_PASSED, snprintf(out->message, sizeof out->message, "recorded");
    else
        cJSON_Delete(golden), snprintf(out->message, sizeof out->message, "out of memory");
}

/* The fixture to write for model fixture `fx` and its recorded golden options (taken). */
static cJSON *recorded_fixture(const cJSON *fx, const e3c_fixture *parsed, cJSON *golden, const char *out_path,
                               const e3c_run_settings *rs)
{
    cJSON *r = cJSON_CreateObject(), *checks = cJSON_CreateObject();
    const cJSON *preset = cJSON_GetObjectItemCaseSensitive(fx, "preset");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(fx, "torchscript");
    char path[PATH_MAX + 64], description[256];
    snprintf(description, sizeof description,
             "recorded by e3check model --record: the outputs of the model on its seeded structure (seed %llu)",
             (unsigned long long)(rs->has_seed ? rs->seed : 0));
    cJSON_AddItemToObject(r, "name", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(fx, "name"), 1));
    cJSON_AddStringToObject(r, "description", description);
    if (strchr(preset->valuestring, '/')) /* a preset file, given as an absolute path */
        relative_to_out(preset->valuestring, out_path, path, sizeof path);
    else
        snprintf(path, sizeof path, "%s", preset->valuestring);
    cJSON_AddStringToObject(r, "preset", path);
    relative_to_out(ts->valuestring, out_path, path, sizeof path);
    cJSON_AddStringToObject(r, "torchscript", path);
    cJSON_AddItemToObject(r, "structure", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(fx, "structure"), 1));
    if (cJSON_GetObjectItemCaseSensitive(fx, "dtype"))
        cJSON_AddItemToObject(r, "dtype", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(fx, "dtype"), 1));
    if (rs->has_seed)
        cJSON_AddNumberToObject(r, "seed", (double)rs->seed);
    for (size_t k = 0; k < parsed->n_checks; k++) /* the preset's checks off: this fixture is the regression test */
        if (parsed->kinds[k] != E3C_CHECK_GOLDEN)
            cJSON_AddFalseToObject(checks, e3c_check_kind_name(parsed->kinds[k]));
    cJSON_AddItemToObject(checks, "golden", golden);
    cJSON_AddItemToObject(r, "checks", checks);
    return r;
}

int record_golden(const char *out_path, cJSON *const *fixtures, size_t n, const e3c_run_settings *rs)
{
    cJSON *doc = cJSON_CreateArray();
    char names[1024] = "";
    int rc = doc ? EXIT_AS_EXPECTED : EXIT_INTERNAL;
    for (size_t i = 0; !rc && i < n; i++) {
        const char *name = cJSON_GetObjectItemCaseSensitive(fixtures[i], "name")->valuestring;
        e3c_fixture *parsed = NULL;
        e3c_check_result r;
        memset(&r, 0, sizeof r);
        e3c_status st = e3c_fixture_parse(&parsed, fixtures[i], NULL);
        record_ctx ctx = {parsed, rs->has_seed ? rs->seed : 0};
        if (!st)
            st = e3c_check_isolated(&r, record_child, &ctx, e3c_fixture_time_limit(parsed, rs));
        cJSON *golden = st ? NULL : cJSON_DetachItemFromObjectCaseSensitive(r.details, "golden");
        if (cli_interrupted) {
            cli_error("model: --record interrupted: nothing written to %s", out_path);
            rc = EXIT_INTERRUPTED;
        } else if (st || r.status != E3C_PASSED || !golden) {
            cli_error("model: --record: cannot record %s: %s", name, st ? e3c_error_last() : r.message);
            rc = EXIT_NOT_EXPECTED;
        } else {
            cJSON_AddItemToArray(doc, recorded_fixture(fixtures[i], parsed, golden, out_path, rs));
            golden = NULL;
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", name);
        }
        cJSON_Delete(golden);
        e3c_check_result_free(&r);
        e3c_fixture_free(parsed);
    }
    char *text = !rc && exact_numbers(doc) ? cJSON_Print(doc) : NULL;
    if (!rc && !text) {
        cli_error("model: --record: out of memory writing %s", out_path);
        rc = EXIT_INTERNAL;
    }
    if (text) {
        size_t len = strlen(text);
        char *with_newline = realloc(text, len + 2);
        if (with_newline)
            text = with_newline, strcpy(text + len, "\n"), len++;
        if (e3c_file_write_atomic(out_path, text, len)) {
            cli_error("model: --record: %s", e3c_error_last());
            rc = EXIT_NOT_EXPECTED;
        } else {
            printf("e3check: recorded the golden outputs of %zu fixture%s (%s) in %s; 'e3check run %s' checks "
                   "the model against them\n",
                   n, n == 1 ? "" : "s", names, out_path, out_path);
        }
    }
    free(text);
    cJSON_Delete(doc);
    return rc;
}
