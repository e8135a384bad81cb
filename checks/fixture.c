/* Fixtures: read and validated once into an e3c_fixture, the subject they describe, and
 * running their checks. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "e3check/fixture.h"
#include "e3check/json.h"
#include "e3check/registry.h"
#include "e3check/structured.h"
#include "structured_internal.h"

/* The most parameters and buffers a fixture's module tree may hold in all: 2^28 numbers,
 * the cap of one module (1 GiB in float32, 2 GiB in float64). */
#define FIXTURE_MAX_ELEMENTS ((int64_t)1 << 28)

static const cJSON *field(const cJSON *o, const char *name) { return cJSON_GetObjectItemCaseSensitive(o, name); }

/* A key given twice in any object of the fixture (JSON allows it, cJSON keeps both, and
 * which one counts would be a guess): E3C_ERR_VALUE naming the key and where. */
static e3c_status duplicate_keys(const cJSON *j, const char *where)
{
    for (const cJSON *c = j ? j->child : NULL; c; c = c->next) {
        if (cJSON_IsObject(j))
            for (const cJSON *d = j->child; d != c; d = d->next)
                if (!strcmp(d->string, c->string))
                    return e3c_error_set(E3C_ERR_VALUE, "key \"%s\" appears twice in %s%s%s", c->string,
                                         *where ? "\"" : "the fixture", where, *where ? "\"" : "");
        if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            char inner[256];
            if (cJSON_IsObject(j))
                snprintf(inner, sizeof inner, "%s%s%s", where, *where ? "." : "", c->string);
            else
                snprintf(inner, sizeof inner, "%s", where);
            e3c_status st = duplicate_keys(c, inner);
            if (st)
                return st;
        }
    }
    return E3C_OK;
}

/* The options a check takes in a fixture ("checks": {"NAME": {...}}), with their types and
 * ranges (fixture.schema.json says the same): anything else is refused when the fixture
 * is read, naming the check, the key and what is allowed, rather than ignored or clamped. */
typedef enum { OPT_BOOL, OPT_INT, OPT_NUMBER, OPT_ENUM, OPT_ANY_LIST, OPT_NAME_LIST } opt_type;

typedef struct check_option {
    const char *check, *key;
    opt_type type;
    double min, max; /* OPT_INT and OPT_NUMBER: the closed range, but min_open excludes min */
    int min_open;
    const char *choices; /* OPT_ENUM: "a|b" */
    size_t at;           /* AT(field): where e3c_fixture_check keeps the value; 0: nowhere */
} check_option;

/* Where an option goes in e3c_fixture_check, plus one so that 0 means "not kept". */
#define AT(f) (offsetof(e3c_fixture_check, f) + 1)

static const check_option check_options[] = {
    {"auto_jitable", "n_trace_checks", OPT_INT, 1, 100, 0, NULL, AT(auto_jitable.n_trace_checks)},
    {"auto_jitable", "strict_shapes", OPT_BOOL, 0, 0, 0, NULL, AT(auto_jitable.strict_shapes)},
    {"auto_jitable", "roundtrip", OPT_BOOL, 0, 0, 0, NULL, AT(auto_jitable.roundtrip)},
    {"auto_jitable", "error_on_warnings", OPT_BOOL, 0, 0, 0, NULL, AT(auto_jitable.error_on_warnings)},
    {"equivariance", "ntrials", OPT_INT, 1, 1000, 0, NULL, AT(equivariance.ntrials)},
    {"equivariance", "do_parity", OPT_BOOL, 0, 0, 0, NULL, AT(equivariance.do_parity)},
    {"equivariance", "do_translation", OPT_BOOL, 0, 0, 0, NULL, AT(equivariance.do_translation)},
    {"equivariance", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL, AT(equivariance.tolerance)},
    {"golden", "output", OPT_ANY_LIST, 0, 0, 0, NULL, AT(golden_output)},
    {"golden", "atol", OPT_NUMBER, 0, 1e300, 1, NULL, AT(atol)},
    {"normalized", "normalization", OPT_ENUM, 0, 0, 0, "component|norm", AT(normalized.normalization)},
    {"normalized", "n_input", OPT_INT, 1, 1e7, 0, NULL, AT(normalized.n_input)},
    {"normalized", "n_weight", OPT_INT, 1, 1e4, 0, NULL, AT(normalized.n_weight)},
    {"normalized", "atol", OPT_NUMBER, 0, 1e300, 0, NULL, AT(normalized.atol)},
    {"normalized", "weights", OPT_NAME_LIST, 0, 0, 0, NULL, AT(normalized.weights) /* option_store keeps the names */},
    {"permutation", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL, AT(physical.tolerance)},
    {"translation", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL, AT(physical.tolerance)},
    {"conservative", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL, AT(physical.tolerance)},
    {"conservative", "components", OPT_INT, 1, 1000, 0, NULL, AT(physical.components)},
    {"batching", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL, AT(physical.tolerance)},
    {"additivity", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL, AT(physical.tolerance)},
    {"periodic_images", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL, AT(physical.tolerance)},
    {"smoothness", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL, AT(physical.tolerance)},
    {"smoothness", "step", OPT_NUMBER, 0, 1e300, 1, NULL, AT(physical.step)},
};
enum { N_CHECK_OPTIONS = sizeof check_options / sizeof check_options[0] };

/* "a, b or c": the keys check `name` takes. */
static void allowed_keys(const char *name, char *buf, size_t cap)
{
    size_t n = 0, len = 0, total = 0;
    for (size_t i = 0; i < N_CHECK_OPTIONS; i++)
        total += !strcmp(check_options[i].check, name);
    buf[0] = '\0';
    for (size_t i = 0; i < N_CHECK_OPTIONS && len < cap; i++)
        if (!strcmp(check_options[i].check, name))
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", n++ ? (n == total ? " or " : ", ") : "",
                                    check_options[i].key);
    if (!total)
        snprintf(buf, cap, "none");
}

static e3c_status option_value(const char *name, const check_option *o, const cJSON *v)
{
    const char *what = NULL;
    char range[128];
    switch (o->type) {
    case OPT_BOOL:
        if (!cJSON_IsBool(v))
            what = "true or false";
        break;
    case OPT_INT:
    case OPT_NUMBER: {
        double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        int ok = isfinite(x) && (o->min_open ? x > o->min : x >= o->min) && x <= o->max &&
                 (o->type == OPT_NUMBER || x == floor(x));
        if (!ok) {
            if (o->type == OPT_INT)
                snprintf(range, sizeof range, "an integer from %.0f to %.0f", o->min, o->max);
            else
                snprintf(range, sizeof range, "a finite number %s %g", o->min_open ? ">" : ">=", o->min);
            what = range;
        }
        break;
    }
    case OPT_ENUM: {
        int ok = 0;
        if (cJSON_IsString(v)) {
            size_t len = strlen(v->valuestring);
            for (const char *c = o->choices; *c; c += strcspn(c, "|"), c += *c == '|')
                ok |= strcspn(c, "|") == len && !strncmp(c, v->valuestring, len);
        }
        if (!ok) {
            snprintf(range, sizeof range, "one of %s", o->choices);
            what = range;
        }
        break;
    }
    case OPT_ANY_LIST:
        if (!cJSON_IsArray(v))
            what = "a list";
        break;
    case OPT_NAME_LIST: {
        int ok = cJSON_IsArray(v);
        for (const cJSON *e = ok ? v->child : NULL; e; e = e->next)
            ok &= cJSON_IsString(e);
        if (!ok)
            what = "a list of parameter names";
        break;
    }
    }
    if (!what)
        return E3C_OK;
    char *shown = cJSON_PrintUnformatted(v);
    e3c_status st = e3c_error_set(E3C_ERR_VALUE, "check \"%s\" option \"%s\" must be %s, not %.60s", name, o->key, what,
                                  shown ? shown : "that");
    cJSON_free(shown);
    return st;
}

/* Keep option `o`'s (valid) value `v` where e3c_fixture_check has it. */
static e3c_status option_store(e3c_fixture_check *c, const check_option *o, const cJSON *v)
{
    if (!o->at)
        return E3C_OK;
    char *slot = (char *)c + o->at - 1;
    switch (o->type) {
    case OPT_BOOL: *(int *)slot = cJSON_IsTrue(v); break;
    case OPT_INT: *(int *)slot = (int)v->valuedouble; break;
    case OPT_NUMBER: *(double *)slot = v->valuedouble; break;
    case OPT_ENUM: *(const char **)slot = v->valuestring; break;
    case OPT_ANY_LIST: *(const cJSON **)slot = v; break;
    case OPT_NAME_LIST: { /* normalized.weights: the names, and their count just after */
        size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
        const char **names = calloc(n + 1, sizeof *names);
        if (!names)
            return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        for (const cJSON *e = v->child; e; e = e->next)
            names[i++] = e->valuestring;
        c->normalized.weights = names;
        c->normalized.n_weights = n;
        break;
    }
    }
    return E3C_OK;
}

/* Every key of check `c`'s options object is one it takes, of the right type and range;
 * each value is kept in `out`. */
static e3c_status parse_check_options(const cJSON *c, e3c_fixture_check *out)
{
    for (const cJSON *v = cJSON_IsObject(c) ? c->child : NULL; v; v = v->next) {
        const check_option *o = NULL;
        for (size_t i = 0; i < N_CHECK_OPTIONS && !o; i++)
            if (!strcmp(check_options[i].check, c->string) && !strcmp(check_options[i].key, v->string))
                o = &check_options[i];
        if (!o) {
            char keys[512];
            allowed_keys(c->string, keys, sizeof keys);
            return e3c_error_set(E3C_ERR_VALUE, "check \"%s\" has no option \"%s\" (it takes %s)", c->string, v->string,
                                 keys);
        }
        e3c_status st = option_value(c->string, o, v);
        if (!st)
            st = option_store(out, o, v);
        if (st)
            return st;
    }
    return E3C_OK;
}

/* Every kind's options at their defaults, expected to pass. */
static void check_defaults(e3c_fixture_check *c)
{
    memset(c, 0, sizeof *c);
    c->expected = E3C_PASSED;
    c->auto_jitable = (e3c_auto_jitable_options)E3C_AUTO_JITABLE_OPTIONS_INIT;
    c->equivariance = (e3c_equivariance_options)E3C_EQUIVARIANCE_OPTIONS_INIT;
    c->normalized = (e3c_normalized_options)E3C_NORMALIZED_OPTIONS_INIT;
    c->physical = (e3c_physical_options)E3C_PHYSICAL_OPTIONS_INIT;
}

/* The checks of a fixture from its "checks" object (or the defaults when NULL), in order,
 * with their options; a structured model's golden check takes a structure and its outputs
 * (structured_golden.c). */
static e3c_status checks_of(const cJSON *checks, int structured, e3c_fixture *fx)
{
    fx->n_checks = 0;
    if (!checks) {
        fx->kinds[fx->n_checks++] = E3C_CHECK_AUTO_JITABLE;
        fx->kinds[fx->n_checks++] = E3C_CHECK_EQUIVARIANCE;
        return E3C_OK;
    }
    if (!cJSON_IsObject(checks))
        return e3c_error_set(E3C_ERR_VALUE, "field \"checks\" must be an object");
    int seen[E3C_CHECK_KIND_COUNT] = {0};
    for (const cJSON *c = checks->child; c; c = c->next) {
        int k = -1;
        for (int i = 0; i < E3C_CHECK_KIND_COUNT; i++)
            if (!strcmp(c->string, e3c_check_kind_name((e3c_check_kind)i)))
                k = i;
        if (k < 0)
            return e3c_error_set(E3C_ERR_VALUE,
                                 "unknown check \"%s\" (auto_jitable, equivariance, golden, "
                                 "normalized, permutation, translation, conservative, batching, "
                                 "additivity, periodic_images or smoothness)",
                                 c->string);
        if (seen[k]++) /* kinds[] holds each check once */
            return e3c_error_set(E3C_ERR_VALUE, "key \"%s\" appears twice in \"checks\"", c->string);
        if (!cJSON_IsBool(c) && !cJSON_IsObject(c))
            return e3c_error_set(E3C_ERR_VALUE, "check \"%s\" must be true, false or an object of options", c->string);
        fx->check[k].options = c;
        e3c_status st =
            structured && k == E3C_CHECK_GOLDEN ? structured_golden_validate(c) : parse_check_options(c, &fx->check[k]);
        if (st)
            return st;
        if (!cJSON_IsFalse(c))
            fx->kinds[fx->n_checks++] = (e3c_check_kind)k;
    }
    return E3C_OK;
}

/* "expect": per check pass, fail or error. */
static e3c_status parse_expect(const cJSON *expect, e3c_fixture *fx)
{
    static const e3c_verdict verdicts[3] = {E3C_PASSED, E3C_FAILED, E3C_ERRORED};
    static const char *const words[3] = {"pass", "fail", "error"};
    if (expect && !cJSON_IsObject(expect))
        return e3c_error_set(E3C_ERR_VALUE, "field \"expect\" must be an object of check: pass|fail|error");
    for (const cJSON *e = expect ? expect->child : NULL; e; e = e->next) {
        int k = -1, w = -1;
        for (int i = 0; i < E3C_CHECK_KIND_COUNT; i++)
            if (!strcmp(e->string, e3c_check_kind_name((e3c_check_kind)i)))
                k = i;
        for (int i = 0; i < 3 && cJSON_IsString(e); i++)
            if (!strcmp(e->valuestring, words[i]))
                w = i;
        if (k < 0 || w < 0)
            return e3c_error_set(E3C_ERR_VALUE, "\"expect\".\"%s\" must name a check and be pass, fail or error",
                                 e->string);
        fx->check[k].expected = verdicts[w];
    }
    return E3C_OK;
}

/* The fields every fixture may have: name, seed, timeout_s, checks, expect. */
static e3c_status parse_common(const cJSON *json, e3c_fixture *fx)
{
    if (e3c_json_string(&fx->name, json, "name") || !fx->name[0])
        return e3c_error_set(E3C_ERR_VALUE, "field \"name\" is required and must be a non-empty string");
    const cJSON *seed = field(json, "seed");
    if (seed && (!cJSON_IsNumber(seed) || !(seed->valuedouble >= 0 && seed->valuedouble <= E3C_FIXTURE_SEED_MAX) ||
                 seed->valuedouble != floor(seed->valuedouble)))
        return e3c_error_set(E3C_ERR_VALUE, "field \"seed\" must be an integer from 0 to 2^53 - 1 (%.0f)",
                             E3C_FIXTURE_SEED_MAX);
    fx->seed = seed ? (uint64_t)seed->valuedouble : 0;
    const cJSON *t = field(json, "timeout_s");
    if (t && (!cJSON_IsNumber(t) || !(t->valuedouble > 0) || !isfinite(t->valuedouble)))
        return e3c_error_set(E3C_ERR_VALUE, "field \"timeout_s\" must be a positive number");
    fx->timeout_s = t ? t->valuedouble : 0;
    return parse_expect(field(json, "expect"), fx);
}

/* A path of the fixture: absolute as given, else joined to base_dir (NULL: `none`, the
 * path as given when none is NULL). Caller owns the copy. */
static e3c_status join_path(char **out, const char *base_dir, const char *none, const char *rel)
{
    const char *dir = base_dir ? base_dir : none;
    size_t n = strlen(rel) + (dir ? strlen(dir) : 0) + 2;
    *out = malloc(n);
    if (!*out)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (rel[0] == '/' || !dir)
        snprintf(*out, n, "%s", rel);
    else
        snprintf(*out, n, "%s/%s", dir, rel);
    return E3C_OK;
}

/* A structured model's fixture (fixtures/README.md): its preset (built in, or a file
 * relative to base_dir) merged in, the whole description checked and parsed. */
static e3c_status parse_structured(const cJSON *json, const char *base_dir, e3c_fixture *fx)
{
    const char *preset = NULL;
    e3c_status st = parse_common(json, fx);
    if (!st && e3c_json_string_or(&preset, json, "preset", NULL))
        st = e3c_error_set(E3C_ERR_VALUE, "field \"preset\" must be a preset name or a FILE.json path");
    if (!st)
        st = e3c_fixture_expand_preset(&fx->expanded, json, base_dir);
    if (!st)
        st = e3c_structured_validate(fx->expanded);
    if (!st)
        st = checks_of(field(fx->expanded, "checks"), 1, fx);
    if (!st && cJSON_IsFalse(field(field(fx->expanded, "structure"), "periodic"))) { /* no cell: no periodic images */
        size_t kept = 0;
        for (size_t i = 0; i < fx->n_checks; i++)
            if (fx->kinds[i] != E3C_CHECK_PERIODIC_IMAGES)
                fx->kinds[kept++] = fx->kinds[i];
        fx->n_checks = kept;
    }
    if (!st)
        st = e3c_structured_parse(&fx->structured, fx->expanded);
    if (!st) {
        fx->dtype = fx->structured->model_dtype;
        st = join_path(&fx->torchscript, base_dir, NULL, field(fx->expanded, "torchscript")->valuestring);
    }
    return st;
}

/* A module's constructor: {"type": NAME, "args": [...], "kwargs": {...}}; what the type
 * makes of them is checked when it is built. */
static e3c_status check_module(const cJSON *m)
{
    const char *type = NULL;
    if (!cJSON_IsObject(m) || e3c_json_string(&type, m, "type"))
        return e3c_error_set(E3C_ERR_VALUE, "field \"module\" must be an object with a \"type\" string");
    for (const cJSON *f = m->child; f; f = f->next)
        if (strcmp(f->string, "type") && strcmp(f->string, "args") && strcmp(f->string, "kwargs"))
            return e3c_error_set(E3C_ERR_VALUE, "unknown field \"module\".\"%s\" (type, args or kwargs)", f->string);
    const cJSON *args = field(m, "args"), *kwargs = field(m, "kwargs");
    if (args && !cJSON_IsArray(args))
        return e3c_error_set(E3C_ERR_VALUE, "field \"module\".\"args\" must be a list");
    if (kwargs && !cJSON_IsObject(kwargs))
        return e3c_error_set(E3C_ERR_VALUE, "field \"module\".\"kwargs\" must be an object");
    return E3C_OK;
}

/* A module or TorchScript fixture. */
static e3c_status parse_plain(const cJSON *json, const char *base_dir, e3c_fixture *fx)
{
    static const char *const known[] = {"name",      "description", "module", "parameters",    "torchscript",
                                        "irreps_in", "irreps_out",  "dtype",  "seed",          "inputs",
                                        "checks",    "timeout_s",   "expect", "expect_detail", NULL};
    for (const cJSON *f = json->child; f; f = f->next) {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            ok |= !strcmp(*k, f->string);
        if (!ok)
            return e3c_error_set(E3C_ERR_VALUE, "unknown field \"%s\"", f->string);
    }
    if (e3c_json_string(&fx->name, json, "name") || !fx->name[0])
        return e3c_error_set(E3C_ERR_VALUE, "field \"name\" is required and must be a non-empty string");
    fx->module = field(json, "module");
    const char *script = NULL;
    if (!fx->module == !field(json, "torchscript"))
        return e3c_error_set(E3C_ERR_VALUE, "exactly one of \"module\" and \"torchscript\" is required");
    if (e3c_json_string_or(&script, json, "torchscript", NULL))
        return e3c_error_set(E3C_ERR_VALUE, "field \"torchscript\" must be a path string");
    if (fx->module && check_module(fx->module))
        return E3C_ERR_VALUE;
    fx->irreps_in = field(json, "irreps_in");
    fx->irreps_out = field(json, "irreps_out");
    if (script && (!fx->irreps_in || !fx->irreps_out))
        return e3c_error_set(E3C_ERR_VALUE, "a torchscript fixture needs \"irreps_in\" and \"irreps_out\"");
    const cJSON *lists[2] = {fx->irreps_in, fx->irreps_out};
    for (int i = 0; i < 2; i++) {
        const char *key = i ? "irreps_out" : "irreps_in";
        if (lists[i] && !cJSON_IsArray(lists[i]))
            return e3c_error_set(E3C_ERR_VALUE, "field \"%s\" must be a list", key);
        const cJSON *e;
        cJSON_ArrayForEach(e, lists[i])
            if (!cJSON_IsString(e) && !cJSON_IsNull(e))
                return e3c_error_set(E3C_ERR_VALUE,
                                     "field \"%s\" entries must be irreps strings, \"cartesian_points\" or null", key);
    }
    const char *dtype = NULL;
    if (e3c_json_string_or(&dtype, json, "dtype", "float32") || (strcmp(dtype, "float32") && strcmp(dtype, "float64")))
        return e3c_error_set(E3C_ERR_VALUE, "field \"dtype\" must be \"float32\" or \"float64\"");
    fx->dtype = strcmp(dtype, "float64") ? E3C_FLOAT32 : E3C_FLOAT64;
    e3c_status st = parse_common(json, fx);
    if (!st)
        st = checks_of(field(json, "checks"), 0, fx);
    for (size_t i = 0; !st && i < fx->n_checks; i++)
        if (fx->kinds[i] >= E3C_CHECK_PERMUTATION)
            st = e3c_error_set(E3C_ERR_VALUE, "check \"%s\" is for structured models (a \"preset\" or \"args\")",
                               e3c_check_kind_name((e3c_check_kind)fx->kinds[i]));
    fx->parameters = field(json, "parameters");
    fx->inputs = field(json, "inputs");
    if (!st && script)
        st = join_path(&fx->torchscript, base_dir, ".", script);
    return st;
}

e3c_status e3c_fixture_parse(e3c_fixture **out, const cJSON *json, const char *base_dir)
{
    if (!out || !json)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_fixture_parse: NULL argument");
    *out = NULL;
    if (!cJSON_IsObject(json))
        return e3c_error_set(E3C_ERR_VALUE, "a fixture must be a JSON object");
    e3c_status st = duplicate_keys(json, "");
    if (st)
        return st;
    e3c_fixture *fx = calloc(1, sizeof *fx);
    if (fx) {
        fx->json = cJSON_Duplicate(json, 1);
        fx->base_dir = strdup(base_dir ? base_dir : ".");
    }
    if (!fx || !fx->json || !fx->base_dir) {
        e3c_fixture_free(fx);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory reading a fixture");
    }
    for (int k = 0; k < E3C_CHECK_KIND_COUNT; k++)
        check_defaults(&fx->check[k]);
    st = e3c_fixture_is_structured(fx->json) ? parse_structured(fx->json, base_dir, fx)
                                             : parse_plain(fx->json, base_dir, fx);
    if (st) {
        e3c_fixture_free(fx);
        return st;
    }
    *out = fx;
    return E3C_OK;
}

void e3c_fixture_free(e3c_fixture *fx)
{
    if (!fx)
        return;
    free((void *)fx->check[E3C_CHECK_NORMALIZED].normalized.weights);
    free(fx->base_dir);
    free(fx->torchscript);
    e3c_structured_free(fx->structured);
    cJSON_Delete(fx->expanded);
    cJSON_Delete(fx->json);
    free(fx);
}

double e3c_fixture_time_limit(const e3c_fixture *fx, const e3c_run_settings *rs)
{
    if (fx && fx->timeout_s > 0)
        return fx->timeout_s;
    return rs && rs->timeout_s > 0 ? rs->timeout_s : 120.0;
}

uint64_t e3c_fixture_seed_of(const e3c_fixture *fx, const e3c_run_settings *rs)
{
    return rs && rs->has_seed ? rs->seed : fx ? fx->seed : 0;
}

/* ------------------------------------------------- the same from the JSON, one-off ---- */

e3c_status e3c_fixture_validate(const cJSON *json)
{
    e3c_fixture *fx = NULL;
    e3c_status st = e3c_fixture_parse(&fx, json, NULL);
    e3c_fixture_free(fx);
    return st;
}

e3c_status e3c_fixture_checks(e3c_check_kind *kinds, size_t *n, const cJSON *json)
{
    e3c_fixture *fx = NULL;
    *n = 0;
    e3c_status st = e3c_fixture_parse(&fx, json, NULL);
    if (!st) {
        memcpy(kinds, fx->kinds, fx->n_checks * sizeof *kinds);
        *n = fx->n_checks;
    }
    e3c_fixture_free(fx);
    return st;
}

e3c_status e3c_fixture_expected(e3c_verdict *out, const cJSON *json, e3c_check_kind kind)
{
    e3c_fixture *fx = NULL;
    *out = E3C_PASSED;
    e3c_status st = (unsigned)kind < E3C_CHECK_KIND_COUNT
                        ? e3c_fixture_parse(&fx, json, NULL)
                        : e3c_error_set(E3C_ERR_INVALID, "e3c_fixture_expected: no such check");
    if (!st)
        *out = fx->check[kind].expected;
    e3c_fixture_free(fx);
    return st;
}

double e3c_fixture_timeout(const cJSON *json, const e3c_run_settings *rs)
{
    e3c_fixture *fx = NULL;
    double t = e3c_fixture_time_limit(e3c_fixture_parse(&fx, json, NULL) ? NULL : fx, rs);
    e3c_fixture_free(fx);
    return t;
}

uint64_t e3c_fixture_seed(const cJSON *json, const e3c_run_settings *rs)
{
    e3c_fixture *fx = NULL;
    uint64_t seed = e3c_fixture_seed_of(e3c_fixture_parse(&fx, json, NULL) ? NULL : fx, rs);
    e3c_fixture_free(fx);
    return seed;
}

e3c_dtype e3c_fixture_dtype(const cJSON *json)
{
    e3c_fixture *fx = NULL;
    e3c_dtype d = e3c_fixture_parse(&fx, json, NULL) ? E3C_FLOAT32 : fx->dtype;
    e3c_fixture_free(fx);
    return d;
}

/* ------------------------------------------------------------------ running ---- */

typedef struct subject_holder {
    e3c_subject s;
    e3c_module *module;
    e3c_jit_module *script;
    e3c_arg_spec *in, *out;
    size_t n_in, n_out;
    char path[4096];
} subject_holder;

static void holder_free(subject_holder *h)
{
    for (size_t i = 0; i < h->n_in; i++)
        e3c_arg_spec_free(&h->in[i]);
    for (size_t i = 0; i < h->n_out; i++)
        e3c_arg_spec_free(&h->out[i]);
    free(h->in);
    free(h->out);
    e3c_module_free(h->module);
    e3c_jit_free(h->script);
}

static e3c_status parse_specs(const cJSON *list, e3c_arg_spec **out, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(list);
    *out = calloc(*n ? *n : 1, sizeof **out);
    if (!*out)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < *n; i++) {
        const cJSON *e = cJSON_GetArrayItem(list, (int)i);
        e3c_status st = e3c_arg_spec_parse(&(*out)[i], cJSON_IsString(e) ? e->valuestring : NULL);
        if (st)
            return st;
    }
    return E3C_OK;
}

/* Copy a module's declared specs (deep). */
static e3c_status copy_specs(const e3c_arg_spec *src, size_t n, e3c_arg_spec **out, size_t *nout)
{
    *nout = n;
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        (*out)[i].kind = src[i].kind;
        e3c_status st = e3c_irreps_copy(&(*out)[i].irreps, &src[i].irreps);
        if (st)
            return st;
    }
    return E3C_OK;
}

/* A wrong parameter name: the error names the valid ones and where to see their shapes. */
static e3c_status unknown_parameter(const e3c_module *m, const char *name)
{
    e3c_strings names = {0, NULL};
    char list[1024] = "";
    size_t len = 0;
    if (!e3c_module_parameters(&names, m))
        for (size_t i = 0; i < names.count && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names.items[i]);
    e3c_strings_free(&names);
    const char *type = e3c_module_class_of(m)->name;
    return e3c_error_set(E3C_ERR_VALUE,
                         "%s has no parameter \"%s\"; its parameters: %s (shapes: e3check types %s --args ...)", type,
                         name, len ? list : "none", type);
}

/* Append the numbers of `v` (a number, or a list nested as `shape[d..]`) to out[*n]. */
static e3c_status flatten_nested(const cJSON *v, const int64_t *shape, int ndim, int d, double *out, size_t *n,
                                 const char *name)
{
    if (d == ndim) {
        if (!cJSON_IsNumber(v))
            return e3c_error_set(E3C_ERR_VALUE, "parameter \"%s\" must hold numbers", name);
        out[(*n)++] = v->valuedouble;
        return E3C_OK;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != shape[d])
        return e3c_error_set(E3C_ERR_VALUE,
                             "parameter \"%s\": a list nested at depth %d must have %lld entries, as its shape says "
                             "(or give one flat list of every value)",
                             name, d, (long long)shape[d]);
    const cJSON *x;
    cJSON_ArrayForEach(x, v) {
        e3c_status st = flatten_nested(x, shape, ndim, d + 1, out, n, name);
        if (st)
            return st;
    }
    return E3C_OK;
}

/* One parameter's values: a flat list in e3nn's order, or lists nested in its shape. */
static e3c_status parameter_values(e3c_module *m, const cJSON *p, double **v, size_t *n)
{
    e3c_tensor *t = NULL;
    int64_t shape[8];
    int ndim = 0;
    *v = NULL, *n = 0;
    if (!cJSON_IsArray(p))
        return e3c_error_set(E3C_ERR_VALUE, "parameter \"%s\" must be a list", p->string);
    if (e3c_module_tensor(&t, m, p->string))
        return unknown_parameter(m, p->string);
    e3c_status st = e3c_tensor_shape(shape, 8, &ndim, t);
    size_t total = (size_t)e3c_tensor_numel(t), flat = (size_t)cJSON_GetArraySize(p);
    e3c_tensor_free(t);
    int nested = p->child && cJSON_IsArray(p->child);
    *v = malloc((nested ? total : flat) * sizeof **v + sizeof **v);
    if (!st && !*v)
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (!st && nested)
        st = flatten_nested(p, shape, ndim, 0, *v, n, p->string);
    const cJSON *x;
    if (!st && !nested)
        cJSON_ArrayForEach(x, p) {
            if (!cJSON_IsNumber(x))
                return e3c_error_set(E3C_ERR_VALUE, "parameter \"%s\" must hold numbers", p->string);
            (*v)[(*n)++] = x->valuedouble;
        }
    return st;
}

/* Set the fixture's parameters ({"weight": [...]}) on the module. */
static e3c_status set_parameters(e3c_module *m, const cJSON *params)
{
    if (!params)
        return E3C_OK;
    if (!cJSON_IsObject(params))
        return e3c_error_set(E3C_ERR_VALUE, "field \"parameters\" must be an object of name: [values]");
    for (const cJSON *p = params->child; p; p = p->next) {
        double *v = NULL;
        size_t n = 0;
        e3c_status st = parameter_values(m, p, &v, &n);
        if (!st)
            st = e3c_module_set_tensor_values(m, p->string, v, n);
        free(v);
        if (st)
            return st;
    }
    return E3C_OK;
}

/* The fixture's module in its dtype (constant buffers computed in it), with its
 * parameters; the caller has seeded the global generator. */
static e3c_status build_module(e3c_module **out, const e3c_fixture *fx, e3c_dtype dtype)
{
    e3c_dtype saved = e3c_default_dtype();
    e3c_set_default_dtype(dtype); /* modules are built in the fixture's dtype */
    e3c_module_limit_elements(FIXTURE_MAX_ELEMENTS);
    e3c_status st = e3c_registry_build(out, fx->module);
    e3c_module_limit_elements(-1);
    e3c_set_default_dtype(saved);
    if (!st && !*out)
        st = e3c_error_set(E3C_ERR_INTERNAL, "the module's constructor gave no module");
    if (!st && (st = set_parameters(*out, fx->parameters))) {
        e3c_module_free(*out);
        *out = NULL;
    }
    return st;
}

e3c_status e3c_fixture_build_module(e3c_module **out, const cJSON *json, const e3c_run_settings *rs)
{
    if (!out || !json)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_fixture_build_module: NULL argument");
    *out = NULL;
    e3c_fixture *fx = NULL;
    e3c_status st = e3c_fixture_parse(&fx, json, NULL);
    if (!st && !fx->module)
        st = e3c_error_set(E3C_ERR_VALUE, "fixture \"%s\" checks a TorchScript file, not a module", fx->name);
    if (!st)
        st = e3c_manual_seed(e3c_fixture_seed_of(fx, rs)); /* as e3c_fixture_run seeds it */
    if (!st)
        st = build_module(out, fx, fx->dtype);
    e3c_fixture_free(fx);
    return st;
}

/* Build or load the subject; declared irreps from the fixture, else from the module. */
static e3c_status make_subject(const e3c_fixture *fx, subject_holder *h)
{
    memset(h, 0, sizeof *h);
    h->s.dtype = fx->dtype;
    e3c_status st;
    if (fx->torchscript) {
        snprintf(h->path, sizeof h->path, "%s", fx->torchscript);
        st = e3c_jit_load(&h->script, h->path);
        h->s.script = h->script;
        h->s.path = h->path;
    } else {
        st = build_module(&h->module, fx, h->s.dtype);
        h->s.module = h->module;
    }
    if (st)
        return st;
    if (fx->irreps_in)
        st = parse_specs(fx->irreps_in, &h->in, &h->n_in);
    else if (h->module) {
        size_t n;
        const e3c_arg_spec *specs = e3c_module_irreps_in(h->module, &n);
        st = specs ? copy_specs(specs, n, &h->in, &h->n_in)
             : e3c_module_has_tracing_hook(h->module)
                 ? E3C_OK /* it makes its own inputs; equivariance will need declared irreps */
                 : e3c_error_set(E3C_ERR_VALUE, "%s declares no irreps_in; give \"irreps_in\" in the fixture",
                                 e3c_module_class_of(h->module)->name);
    }
    if (!st && fx->irreps_out)
        st = parse_specs(fx->irreps_out, &h->out, &h->n_out);
    else if (!st && h->module) {
        size_t n;
        const e3c_arg_spec *specs = e3c_module_irreps_out(h->module, &n);
        st = specs ? copy_specs(specs, n, &h->out, &h->n_out)
             : e3c_module_has_tracing_hook(h->module)
                 ? E3C_OK
                 : e3c_error_set(E3C_ERR_VALUE, "%s declares no irreps_out; give \"irreps_out\" in the fixture",
                                 e3c_module_class_of(h->module)->name);
    }
    h->s.irreps_in = h->in;
    h->s.n_in = h->n_in;
    h->s.irreps_out = h->out;
    h->s.n_out = h->n_out;
    return st;
}

/* The common start of a result that ends before its check runs. */
static void result_error(e3c_check_result *out, uint64_t seed)
{
    out->details = cJSON_CreateObject();
    out->seed = seed;
    result_set(out, E3C_ERRORED, "%s", e3c_error_last());
}

e3c_status e3c_fixture_run(e3c_check_result *out, const e3c_fixture *fx, e3c_check_kind kind,
                           const e3c_run_settings *rs)
{
    if (!fx || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_fixture_run: NULL argument");
    memset(out, 0, sizeof *out);
    result_set(out, E3C_ERRORED, "the %s check did not run to its end", e3c_check_kind_name(kind));
    double start = now_s();
    uint64_t seed = e3c_fixture_seed_of(fx, rs);
    if ((unsigned)kind >= E3C_CHECK_KIND_COUNT) {
        e3c_error_set(E3C_ERR_VALUE, "no check number %d", (int)kind);
        result_error(out, seed);
        return E3C_OK;
    }
    if (fx->structured) /* an interatomic potential (structured.h) */
        return e3c_structured_fixture_run(out, fx, (int)kind, seed);
    const e3c_fixture_check *c = &fx->check[kind];
    subject_holder h;
    e3c_manual_seed(seed); /* a module's initial weights depend on the seed, not on what ran before */
    e3c_status st = make_subject(fx, &h);
    if (st) {
        result_error(out, seed);
    } else if (kind == E3C_CHECK_EQUIVARIANCE) {
        e3c_equivariance_options o = c->equivariance;
        o.seed = seed;
        e3c_values *fixed = NULL;
        if (check_fixed_inputs(&fixed, fx->inputs, h.s.dtype))
            result_error(out, seed);
        else {
            o.inputs = fixed;
            e3c_check_equivariance(out, &h.s, &o);
        }
        e3c_values_free(fixed);
    } else if (kind == E3C_CHECK_AUTO_JITABLE) {
        e3c_auto_jitable_options o = c->auto_jitable;
        o.seed = seed;
        e3c_check_auto_jitable(out, &h.s, &o);
    } else if (kind == E3C_CHECK_NORMALIZED) {
        e3c_normalized_options o = c->normalized;
        o.seed = seed;
        o.generator = e3c_default_generator(); /* seeded before the module was built, as a test script would */
        e3c_check_normalized(out, &h.s, &o);
    } else if (kind == E3C_CHECK_GOLDEN) {
        out->details = cJSON_CreateObject();
        out->seed = seed;
        check_golden(&h.s, fx->inputs, c->golden_output, c->atol, out);
    } else {
        e3c_error_set(E3C_ERR_VALUE, "the %s check is for structured models (interatomic potentials) only",
                      e3c_check_kind_name(kind));
        result_error(out, seed);
    }
    holder_free(&h);
    out->duration_s = now_s() - start;
    return E3C_OK;
}

typedef struct isolated_ctx {
    const e3c_fixture *fx;
    e3c_check_kind kind;
    const e3c_run_settings *rs;
} isolated_ctx;

static void run_in_child(void *p, e3c_check_result *out)
{
    isolated_ctx *c = p;
    e3c_fixture_run(out, c->fx, c->kind, c->rs);
}

e3c_status e3c_fixture_run_isolated(e3c_check_result *out, const e3c_fixture *fx, e3c_check_kind kind,
                                    const e3c_run_settings *rs)
{
    if (!fx || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_fixture_run_isolated: NULL argument");
    isolated_ctx c = {fx, kind, rs};
    return e3c_check_isolated(out, run_in_child, &c, e3c_fixture_time_limit(fx, rs));
}

/* An invalid fixture's result: ERRORED, the reason as the message. */
static e3c_status invalid_fixture(const cJSON *json, const e3c_run_settings *rs, e3c_check_result *out)
{
    const cJSON *seed = field(json, "seed");
    memset(out, 0, sizeof *out);
    result_error(out, rs && rs->has_seed ? rs->seed
                      : cJSON_IsNumber(seed) && seed->valuedouble >= 0 && seed->valuedouble <= E3C_FIXTURE_SEED_MAX
                          ? (uint64_t)seed->valuedouble
                          : 0);
    return E3C_OK;
}

typedef e3c_status (*fixture_runner)(e3c_check_result *, const e3c_fixture *, e3c_check_kind, const e3c_run_settings *);

/* Parse `json` and hand it to `run`; an invalid fixture is an ERRORED result. */
static e3c_status parse_and_run(e3c_check_result *out, const cJSON *json, const char *base_dir, e3c_check_kind kind,
                                const e3c_run_settings *rs, fixture_runner run)
{
    e3c_fixture *fx = NULL;
    if (e3c_fixture_parse(&fx, json, base_dir))
        return invalid_fixture(json, rs, out);
    e3c_status st = run(out, fx, kind, rs);
    e3c_fixture_free(fx);
    return st;
}

e3c_status e3c_fixture_run_check(e3c_check_result *out, const cJSON *json, const char *base_dir, e3c_check_kind kind,
                                 const e3c_run_settings *rs)
{
    if (!json || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_fixture_run_check: NULL argument");
    return parse_and_run(out, json, base_dir, kind, rs, e3c_fixture_run);
}

e3c_status e3c_fixture_run_check_isolated(e3c_check_result *out, const cJSON *json, const char *base_dir,
                                          e3c_check_kind kind, const e3c_run_settings *rs)
{
    if (!json || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_fixture_run_check_isolated: NULL argument");
    return parse_and_run(out, json, base_dir, kind, rs, e3c_fixture_run_isolated);
}
