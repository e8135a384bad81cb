/* Fixtures: validation, the subject they describe, and running their checks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "e3check/fixture.h"
#include "e3check/registry.h"
#include "e3check/structured.h"

/* The most parameters and buffers a fixture's module tree may hold in all: 2^28 numbers,
 * the cap of one module (1 GiB in float32, 2 GiB in float64). */
#define FIXTURE_MAX_ELEMENTS ((int64_t)1 << 28)

static const char *const kind_names[E3C_CHECK_KIND_COUNT] = {"auto_jitable", "equivariance", "golden", "normalized",
                                                               "permutation", "translation", "conservative",
                                                               "batching", "additivity", "periodic_images"};

const char *e3c_check_kind_name(e3c_check_kind k) { return (unsigned)k < E3C_CHECK_KIND_COUNT ? kind_names[k] : "unknown"; }

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

/* A structured model's fixture (fixtures/README.md): with a built-in preset (or none) the
 * whole description is checked here; a preset file is read when the check runs. */
static e3c_status validate_structured(const cJSON *fx)
{
    const cJSON *name = field(fx, "name"), *preset = field(fx, "preset");
    if (!cJSON_IsString(name) || !name->valuestring[0])
        return e3c_error_set(E3C_ERR_VALUE, "field \"name\" is required and must be a non-empty string");
    if (preset && !cJSON_IsString(preset))
        return e3c_error_set(E3C_ERR_VALUE, "field \"preset\" must be a preset name or a FILE.json path");
    cJSON *full = NULL;
    e3c_status st = E3C_OK;
    if (preset && (strchr(preset->valuestring, '/') || strstr(preset->valuestring, ".json"))) {
        cJSON *copy = cJSON_Duplicate(fx, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "preset");
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "args");
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "outputs");
        cJSON_AddItemToObject(copy, "args", cJSON_Parse("{\"x\": \"positions\"}"));
        cJSON_AddItemToObject(copy, "outputs", cJSON_Parse("{\"y\": \"0e\"}"));
        st = e3c_structured_validate(copy); /* the fixture's own keys */
        cJSON_Delete(copy);
    } else {
        st = e3c_fixture_expand_preset(&full, fx, NULL);
        if (!st)
            st = e3c_structured_validate(full);
        cJSON_Delete(full);
    }
    e3c_check_kind kinds[E3C_CHECK_KIND_COUNT];
    size_t n;
    if (!st)
        st = e3c_fixture_checks(kinds, &n, fx);
    return st;
}

e3c_status e3c_fixture_validate(const cJSON *fx)
{
    static const char *const known[] = {"name", "description", "module", "parameters", "torchscript", "irreps_in",
                                        "irreps_out", "dtype", "seed", "inputs", "checks", "timeout_s", "expect",
                                        "expect_detail", NULL};
    if (!cJSON_IsObject(fx))
        return e3c_error_set(E3C_ERR_VALUE, "a fixture must be a JSON object");
    e3c_status dup = duplicate_keys(fx, "");
    if (dup)
        return dup;
    if (e3c_fixture_is_structured(fx))
        return validate_structured(fx);
    for (const cJSON *f = fx->child; f; f = f->next) {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            ok |= !strcmp(*k, f->string);
        if (!ok)
            return e3c_error_set(E3C_ERR_VALUE, "unknown field \"%s\"", f->string);
    }
    const cJSON *name = field(fx, "name");
    if (!cJSON_IsString(name) || !name->valuestring[0])
        return e3c_error_set(E3C_ERR_VALUE, "field \"name\" is required and must be a non-empty string");
    if (!field(fx, "module") == !field(fx, "torchscript"))
        return e3c_error_set(E3C_ERR_VALUE, "exactly one of \"module\" and \"torchscript\" is required");
    if (field(fx, "torchscript") && !cJSON_IsString(field(fx, "torchscript")))
        return e3c_error_set(E3C_ERR_VALUE, "field \"torchscript\" must be a path string");
    if (field(fx, "torchscript") && (!field(fx, "irreps_in") || !field(fx, "irreps_out")))
        return e3c_error_set(E3C_ERR_VALUE, "a torchscript fixture needs \"irreps_in\" and \"irreps_out\"");
    const char *lists[2] = {"irreps_in", "irreps_out"};
    for (int i = 0; i < 2; i++) {
        const cJSON *l = field(fx, lists[i]);
        if (!l)
            continue;
        if (!cJSON_IsArray(l))
            return e3c_error_set(E3C_ERR_VALUE, "field \"%s\" must be a list", lists[i]);
        const cJSON *e;
        cJSON_ArrayForEach(e, l) if (!cJSON_IsString(e) && !cJSON_IsNull(e)) return e3c_error_set(
            E3C_ERR_VALUE, "field \"%s\" entries must be irreps strings, \"cartesian_points\" or null", lists[i]);
    }
    const cJSON *dtype = field(fx, "dtype");
    if (dtype && (!cJSON_IsString(dtype) || (strcmp(dtype->valuestring, "float32") && strcmp(dtype->valuestring, "float64"))))
        return e3c_error_set(E3C_ERR_VALUE, "field \"dtype\" must be \"float32\" or \"float64\"");
    const cJSON *seed = field(fx, "seed");
    if (seed && (!cJSON_IsNumber(seed) || !(seed->valuedouble >= 0 && seed->valuedouble <= E3C_FIXTURE_SEED_MAX) ||
                 seed->valuedouble != floor(seed->valuedouble)))
        return e3c_error_set(E3C_ERR_VALUE, "field \"seed\" must be an integer from 0 to 2^53 - 1 (%.0f)",
                             E3C_FIXTURE_SEED_MAX);
    const cJSON *t = field(fx, "timeout_s");
    if (t && (!cJSON_IsNumber(t) || !(t->valuedouble > 0)))
        return e3c_error_set(E3C_ERR_VALUE, "field \"timeout_s\" must be a positive number");
    e3c_check_kind kinds[E3C_CHECK_KIND_COUNT];
    size_t n;
    e3c_status st = e3c_fixture_checks(kinds, &n, fx);
    for (size_t i = 0; !st && i < n; i++)
        if (kinds[i] >= E3C_CHECK_PERMUTATION)
            st = e3c_error_set(E3C_ERR_VALUE, "check \"%s\" is for structured models (a \"preset\" or \"args\")",
                               kind_names[kinds[i]]);
    const cJSON *expect = field(fx, "expect");
    if (!st && expect && !cJSON_IsObject(expect))
        return e3c_error_set(E3C_ERR_VALUE, "field \"expect\" must be an object of check: pass|fail|error");
    for (const cJSON *e = expect ? expect->child : NULL; !st && e; e = e->next) {
        int ok = 0;
        for (int k = 0; k < E3C_CHECK_KIND_COUNT; k++)
            ok |= !strcmp(e->string, kind_names[k]);
        if (!ok || !cJSON_IsString(e) ||
            (strcmp(e->valuestring, "pass") && strcmp(e->valuestring, "fail") && strcmp(e->valuestring, "error")))
            return e3c_error_set(E3C_ERR_VALUE, "\"expect\".\"%s\" must name a check and be pass, fail or error", e->string);
    }
    return st;
}

/* The options a check takes in a fixture ("checks": {"NAME": {...}}), with their types and
 * ranges (fixture.schema.json says the same): anything else is refused when the fixture
 * is read, naming the check, the key and what is allowed, rather than ignored or clamped. */
typedef enum { OPT_BOOL, OPT_INT, OPT_NUMBER, OPT_ENUM, OPT_ANY_LIST, OPT_NAME_LIST } opt_type;

typedef struct check_option {
    const char *check, *key;
    opt_type type;
    double min, max;      /* OPT_INT and OPT_NUMBER: the closed range, but min_open excludes min */
    int min_open;
    const char *choices;  /* OPT_ENUM: "a|b" */
} check_option;

static const check_option check_options[] = {
    {"auto_jitable", "n_trace_checks", OPT_INT, 1, 100, 0, NULL},
    {"auto_jitable", "strict_shapes", OPT_BOOL, 0, 0, 0, NULL},
    {"auto_jitable", "roundtrip", OPT_BOOL, 0, 0, 0, NULL},
    {"auto_jitable", "error_on_warnings", OPT_BOOL, 0, 0, 0, NULL},
    {"equivariance", "ntrials", OPT_INT, 1, 1000, 0, NULL},
    {"equivariance", "do_parity", OPT_BOOL, 0, 0, 0, NULL},
    {"equivariance", "do_translation", OPT_BOOL, 0, 0, 0, NULL},
    {"equivariance", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL},
    {"golden", "output", OPT_ANY_LIST, 0, 0, 0, NULL},
    {"golden", "atol", OPT_NUMBER, 0, 1e300, 1, NULL},
    {"normalized", "normalization", OPT_ENUM, 0, 0, 0, "component|norm"},
    {"normalized", "n_input", OPT_INT, 1, 1e7, 0, NULL},
    {"normalized", "n_weight", OPT_INT, 1, 1e4, 0, NULL},
    {"normalized", "atol", OPT_NUMBER, 0, 1e300, 0, NULL},
    {"normalized", "weights", OPT_NAME_LIST, 0, 0, 0, NULL},
    {"permutation", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL},
    {"translation", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL},
    {"conservative", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL},
    {"conservative", "components", OPT_INT, 1, 1000, 0, NULL},
    {"batching", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL},
    {"additivity", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL},
    {"periodic_images", "tolerance", OPT_NUMBER, 0, 1e300, 1, NULL},
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
    e3c_status st = e3c_error_set(E3C_ERR_VALUE, "check \"%s\" option \"%s\" must be %s, not %.60s", name, o->key,
                                  what, shown ? shown : "that");
    cJSON_free(shown);
    return st;
}

/* Every key of check `c`'s options object is one it takes, of the right type and range. */
static e3c_status validate_check_options(const cJSON *c)
{
    for (const cJSON *v = cJSON_IsObject(c) ? c->child : NULL; v; v = v->next) {
        const check_option *o = NULL;
        for (size_t i = 0; i < N_CHECK_OPTIONS && !o; i++)
            if (!strcmp(check_options[i].check, c->string) && !strcmp(check_options[i].key, v->string))
                o = &check_options[i];
        if (!o) {
            char keys[512];
            allowed_keys(c->string, keys, sizeof keys);
            return e3c_error_set(E3C_ERR_VALUE, "check \"%s\" has no option \"%s\" (it takes %s)", c->string,
                                 v->string, keys);
        }
        e3c_status st = option_value(c->string, o, v);
        if (st)
            return st;
    }
    return E3C_OK;
}

/* The checks of a fixture from its "checks" object (or the defaults when NULL). */
static e3c_status checks_of(const cJSON *checks, e3c_check_kind *kinds, size_t *n)
{
    *n = 0;
    if (!checks) {
        kinds[(*n)++] = E3C_CHECK_AUTO_JITABLE;
        kinds[(*n)++] = E3C_CHECK_EQUIVARIANCE;
        return E3C_OK;
    }
    if (!cJSON_IsObject(checks))
        return e3c_error_set(E3C_ERR_VALUE, "field \"checks\" must be an object");
    int seen[E3C_CHECK_KIND_COUNT] = {0};
    for (const cJSON *c = checks->child; c; c = c->next) {
        int k = -1;
        for (int i = 0; i < E3C_CHECK_KIND_COUNT; i++)
            if (!strcmp(c->string, kind_names[i]))
                k = i;
        if (k < 0)
            return e3c_error_set(E3C_ERR_VALUE, "unknown check \"%s\" (auto_jitable, equivariance, golden, "
                                 "normalized, permutation, translation, conservative, batching, "
                                 "additivity or periodic_images)",
                                 c->string);
        if (seen[k]++) /* kinds[] holds each check once */
            return e3c_error_set(E3C_ERR_VALUE, "key \"%s\" appears twice in \"checks\"", c->string);
        if (!cJSON_IsBool(c) && !cJSON_IsObject(c))
            return e3c_error_set(E3C_ERR_VALUE, "check \"%s\" must be true, false or an object of options", c->string);
        e3c_status st = validate_check_options(c);
        if (st)
            return st;
        if (!cJSON_IsFalse(c))
            kinds[(*n)++] = (e3c_check_kind)k;
    }
    return E3C_OK;
}

e3c_status e3c_fixture_checks(e3c_check_kind *kinds, size_t *n, const cJSON *fx)
{
    cJSON *full = NULL; /* a preset's "checks", merged with the fixture's key by key */
    if (e3c_fixture_is_structured(fx) && cJSON_IsString(field(fx, "preset")) && e3c_fixture_expand_preset(&full, fx, NULL))
        full = NULL; /* a preset file not found from here: the fixture's own checks */
    const cJSON *use = full ? full : fx;
    e3c_status st = checks_of(field(use, "checks"), kinds, n);
    if (!st && cJSON_IsFalse(field(field(use, "structure"), "periodic"))) { /* no cell: no periodic images */
        size_t kept = 0;
        for (size_t i = 0; i < *n; i++)
            if (kinds[i] != E3C_CHECK_PERIODIC_IMAGES)
                kinds[kept++] = kinds[i];
        *n = kept;
    }
    cJSON_Delete(full);
    return st;
}

e3c_status e3c_fixture_expected(e3c_verdict *out, const cJSON *fx, e3c_check_kind kind)
{
    const cJSON *e = field(field(fx, "expect"), e3c_check_kind_name(kind));
    *out = E3C_PASSED;
    if (!e)
        return E3C_OK;
    if (cJSON_IsString(e) && !strcmp(e->valuestring, "fail"))
        *out = E3C_FAILED;
    else if (cJSON_IsString(e) && !strcmp(e->valuestring, "error"))
        *out = E3C_ERRORED;
    else if (!cJSON_IsString(e) || strcmp(e->valuestring, "pass"))
        return e3c_error_set(E3C_ERR_VALUE, "\"expect\".\"%s\" must be pass, fail or error", e3c_check_kind_name(kind));
    return E3C_OK;
}

double e3c_fixture_timeout(const cJSON *fx, const e3c_run_settings *rs)
{
    const cJSON *t = field(fx, "timeout_s");
    if (cJSON_IsNumber(t) && t->valuedouble > 0)
        return t->valuedouble;
    return rs && rs->timeout_s > 0 ? rs->timeout_s : 120.0;
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
    return e3c_error_set(E3C_ERR_VALUE, "%s has no parameter \"%s\"; its parameters: %s (shapes: e3check types %s --args ...)",
                         type, name, len ? list : "none", type);
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
    cJSON_ArrayForEach(x, v)
    {
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
        cJSON_ArrayForEach(x, p)
        {
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
static e3c_status build_module(e3c_module **out, const cJSON *fx, e3c_dtype dtype)
{
    e3c_dtype saved = e3c_default_dtype();
    e3c_set_default_dtype(dtype); /* modules are built in the fixture's dtype */
    e3c_module_limit_elements(FIXTURE_MAX_ELEMENTS);
    e3c_status st = e3c_registry_build(out, field(fx, "module"));
    e3c_module_limit_elements(-1);
    e3c_set_default_dtype(saved);
    if (!st && !*out)
        st = e3c_error_set(E3C_ERR_INTERNAL, "the module's constructor gave no module");
    if (!st && (st = set_parameters(*out, field(fx, "parameters")))) {
        e3c_module_free(*out);
        *out = NULL;
    }
    return st;
}

uint64_t e3c_fixture_seed(const cJSON *fx, const e3c_run_settings *rs)
{
    const cJSON *seed_field = field(fx, "seed");
    return rs && rs->has_seed ? rs->seed : cJSON_IsNumber(seed_field) ? (uint64_t)seed_field->valuedouble : 0;
}

e3c_dtype e3c_fixture_dtype(const cJSON *fx)
{
    const cJSON *dtype = field(fx, "dtype");
    return cJSON_IsString(dtype) && !strcmp(dtype->valuestring, "float64") ? E3C_FLOAT64 : E3C_FLOAT32;
}

e3c_status e3c_fixture_build_module(e3c_module **out, const cJSON *fx, const e3c_run_settings *rs)
{
    if (!out || !fx)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_fixture_build_module: NULL argument");
    *out = NULL;
    e3c_status st = e3c_fixture_validate(fx);
    if (!st && !field(fx, "module"))
        st = e3c_error_set(E3C_ERR_VALUE, "fixture \"%s\" checks a TorchScript file, not a module",
                           field(fx, "name")->valuestring);
    if (!st)
        st = e3c_manual_seed(e3c_fixture_seed(fx, rs)); /* as e3c_fixture_run_check seeds it */
    return st ? st : build_module(out, fx, e3c_fixture_dtype(fx));
}

/* Build or load the subject; declared irreps from the fixture, else from the module. */
static e3c_status make_subject(const cJSON *fx, const char *base_dir, subject_holder *h)
{
    memset(h, 0, sizeof *h);
    h->s.dtype = e3c_fixture_dtype(fx);
    e3c_status st;
    if (field(fx, "torchscript")) {
        const char *rel = field(fx, "torchscript")->valuestring;
        if (rel[0] == '/')
            snprintf(h->path, sizeof h->path, "%s", rel);
        else
            snprintf(h->path, sizeof h->path, "%s/%s", base_dir ? base_dir : ".", rel);
        st = e3c_jit_load(&h->script, h->path);
        h->s.script = h->script;
        h->s.path = h->path;
    } else {
        st = build_module(&h->module, fx, h->s.dtype);
        h->s.module = h->module;
    }
    if (st)
        return st;
    if (field(fx, "irreps_in"))
        st = parse_specs(field(fx, "irreps_in"), &h->in, &h->n_in);
    else if (h->module) {
        size_t n;
        const e3c_arg_spec *specs = e3c_module_irreps_in(h->module, &n);
        st = specs ? copy_specs(specs, n, &h->in, &h->n_in)
             : e3c_module_has_tracing_hook(h->module)
                 ? E3C_OK /* it makes its own inputs; equivariance will need declared irreps */
                 : e3c_error_set(E3C_ERR_VALUE, "%s declares no irreps_in; give \"irreps_in\" in the fixture",
                                 e3c_module_class_of(h->module)->name);
    }
    if (!st && field(fx, "irreps_out"))
        st = parse_specs(field(fx, "irreps_out"), &h->out, &h->n_out);
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

/* A nested list of numbers as a tensor of `dtype`. */
static e3c_status tensor_of_json(const cJSON *v, e3c_dtype dtype, e3c_tensor **out)
{
    int64_t shape[E3C_MAX_DIMS];
    int nd = 0;
    for (const cJSON *c = v; cJSON_IsArray(c); c = c->child) {
        if (nd == E3C_MAX_DIMS)
            return e3c_error_set(E3C_ERR_VALUE, "an input has more than %d dimensions", E3C_MAX_DIMS);
        shape[nd++] = cJSON_GetArraySize(c);
        if (!c->child)
            break;
    }
    size_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= (size_t)shape[i];
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (!d)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    size_t k = 0;
    e3c_status st = E3C_OK;
    /* walk the leaves in order, checking the nesting is rectangular */
    const cJSON *stack[E3C_MAX_DIMS + 1];
    int depth = 0;
    stack[0] = v;
    const cJSON *cur = nd ? v->child : v;
    if (!nd) {
        if (!cJSON_IsNumber(v))
            st = e3c_error_set(E3C_ERR_VALUE, "inputs must be numbers or nested lists of numbers");
        else
            d[k++] = v->valuedouble;
    }
    while (!st && nd && depth >= 0) {
        if (!cur) {
            if (--depth < 0)
                break;
            cur = stack[depth + 1]->next;
            continue;
        }
        if (depth + 1 < nd) {
            if (!cJSON_IsArray(cur) || cJSON_GetArraySize(cur) != shape[depth + 1]) {
                st = e3c_error_set(E3C_ERR_VALUE, "inputs must be rectangular nested lists of numbers");
                break;
            }
            stack[++depth] = cur;
            cur = cur->child;
            continue;
        }
        if (!cJSON_IsNumber(cur) || k >= n) {
            st = e3c_error_set(E3C_ERR_VALUE, "inputs must be rectangular nested lists of numbers");
            break;
        }
        d[k++] = cur->valuedouble;
        cur = cur->next;
    }
    if (!st && k != n)
        st = e3c_error_set(E3C_ERR_VALUE, "inputs must be rectangular nested lists of numbers");
    e3c_tensor *t64 = NULL;
    if (!st)
        st = e3c_tensor_from_data(&t64, d, E3C_FLOAT64, shape, nd);
    if (!st)
        st = e3c_tensor_to(out, t64, dtype);
    e3c_tensor_free(t64);
    free(d);
    return st;
}

/* The fixture's "inputs" as tensors of `dtype` (NULL when absent). */
static e3c_status fixed_inputs(const cJSON *fx, e3c_dtype dtype, e3c_values **out)
{
    const cJSON *inputs = field(fx, "inputs");
    *out = NULL;
    if (!inputs)
        return E3C_OK;
    if (!cJSON_IsArray(inputs))
        return e3c_error_set(E3C_ERR_VALUE, "field \"inputs\" must be a list of nested lists");
    e3c_status st = e3c_values_new(out);
    for (const cJSON *x = inputs->child; !st && x; x = x->next) {
        e3c_tensor *t = NULL;
        st = tensor_of_json(x, dtype, &t);
        if (!st)
            st = e3c_values_push(*out, t);
        e3c_tensor_free(t);
    }
    if (st) {
        e3c_values_free(*out);
        *out = NULL;
    }
    return st;
}

/* One output against its expected nested list: *err the largest difference relative to
 * max(1, max |expected|), NaN when a value is NaN or infinite where the expected one is
 * not (or the reverse). `why` says what failed: another shape, or the first non-finite
 * value (output, index); empty when the values are comparable. */
/* Compare output `o` with its expected value: *err the worst error relative to
 * max(1, |expected|), `at` where it is (output, index, both values); `why` set when the
 * shapes differ or a value is not finite where a finite one is expected. */
static e3c_status golden_output(const cJSON *want, const e3c_tensor *got, size_t o, double *err, char *why, size_t cap,
                                char *at, size_t at_cap)
{
    e3c_tensor *expected = NULL;
    double *g = NULL, *e = NULL;
    *err = 0;
    why[0] = '\0';
    e3c_status st = want ? tensor_of_json(want, E3C_FLOAT64, &expected)
                         : e3c_error_set(E3C_ERR_VALUE, "no expected value for output %zu", o);
    int64_t shape_got[E3C_MAX_DIMS], shape_exp[E3C_MAX_DIMS];
    int nd_got = 0, nd_exp = 0;
    if (!st)
        st = e3c_tensor_shape(shape_got, E3C_MAX_DIMS, &nd_got, got);
    if (!st)
        st = e3c_tensor_shape(shape_exp, E3C_MAX_DIMS, &nd_exp, expected);
    if (!st && (nd_got != nd_exp || memcmp(shape_got, shape_exp, (size_t)nd_got * sizeof *shape_got))) {
        char a[96], b[96];
        format_shape(got, a, sizeof a), format_shape(expected, b, sizeof b);
        snprintf(why, cap, "output %zu has shape %s, expected %s", o, a, b);
        *err = NAN;
        e3c_tensor_free(expected);
        return E3C_OK;
    }
    size_t n = st ? 0 : (size_t)e3c_tensor_numel(expected);
    if (!st && (!(g = malloc((n ? n : 1) * sizeof *g)) || !(e = malloc((n ? n : 1) * sizeof *e))))
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory comparing output %zu (%zu values)", o, n);
    if (!st)
        st = e3c_tensor_to_doubles(g, n, got);
    if (!st)
        st = e3c_tensor_to_doubles(e, n, expected);
    double scale = 1, worst = 0;
    size_t worst_i = 0;
    for (size_t i = 0; !st && i < n; i++)
        if (isfinite(e[i]) && fabs(e[i]) > scale)
            scale = fabs(e[i]);
    for (size_t i = 0; !st && i < n; i++) {
        if (isfinite(g[i]) && isfinite(e[i])) {
            if (fabs(g[i] - e[i]) > worst)
                worst_i = i;
            worst = worse_error(worst, fabs(g[i] - e[i]));
        } else if (!(g[i] == e[i]) && !why[0]) { /* equal infinities match; NaN matches nothing */
            char index[128], value[32];
            format_index(got, (int64_t)i, index, sizeof index);
            snprintf(value, sizeof value, isnan(g[i]) ? "nan" : "%.6g", g[i]); /* never "-nan" */
            snprintf(why, cap, "output %zu at index %s is %s where %.6g is expected", o, index, value, e[i]);
            worst = NAN;
        }
    }
    *err = worse_error(worst / scale, why[0] ? NAN : 0);
    if (!st && n) {
        char index[128];
        format_index(got, (int64_t)worst_i, index, sizeof index);
        snprintf(at, at_cap, "output %zu at index %s is %.17g where %.17g is expected (relative error %.3e: the "
                 "difference divided by max(1, largest |expected|) = %.6g)", o, index, g[worst_i], e[worst_i], *err, scale);
    }
    free(g), free(e);
    e3c_tensor_free(expected);
    return st;
}

/* The golden check: the subject on the fixture's fixed inputs gives checks.golden.output
 * (one output, or a list of outputs) of the same shapes within atol (default 1e-6
 * float32, 1e-12 float64, relative to max(1, |value|)); a NaN or infinity where a finite
 * value is expected fails, naming the output and the index. */
static void golden_check(const cJSON *fx, const e3c_subject *s, const cJSON *copts, e3c_check_result *out)
{
    const cJSON *inputs = field(fx, "inputs"), *want = field(copts, "output"), *atol_j = field(copts, "atol");
    double atol = cJSON_IsNumber(atol_j) ? atol_j->valuedouble : s->dtype == E3C_FLOAT64 ? 1e-12 : 1e-6;
    if (!cJSON_IsArray(inputs) || !want) {
        result_set(out, E3C_ERRORED, "the golden check needs \"inputs\" and checks.golden.output");
        return;
    }
    e3c_values *in = NULL, *got = NULL;
    e3c_status st = fixed_inputs(fx, s->dtype, &in);
    if (!st && (st = subject_call(s, in, &got)))
        e3c_error_prefix("the module raised");
    if (st) {
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
        e3c_values_free(in), e3c_values_free(got);
        return;
    }
    /* one output: `want` is its nested list; several: a list of them */
    int many = e3c_values_count(got) > 1;
    double worst = 0;
    char why[512] = "", at[512] = "", worst_at[512] = "";
    for (size_t o = 0; !st && !why[0] && o < e3c_values_count(got); o++) {
        double err = 0;
        st = golden_output(many ? cJSON_GetArrayItem(want, (int)o) : want, e3c_values_get(got, o), o, &err, why,
                           sizeof why, at, sizeof at);
        if (o == 0 || err > worst)
            snprintf(worst_at, sizeof worst_at, "%s", at);
        worst = worse_error(worst, err);
    }
    json_add_error(out->details, "max_error", worst);
    cJSON_AddNumberToObject(out->details, "atol", atol);
    if (st)
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    else if (why[0])
        result_set(out, E3C_FAILED, "%s", why);
    else if (!(worst <= atol))
        result_set(out, E3C_FAILED, "differs from the golden values: %s > atol %.1e", worst_at, atol);
    else
        result_set(out, E3C_PASSED, "matches the golden values: max error %.3e <= %.1e", worst, atol);
    e3c_values_free(in), e3c_values_free(got);
}

/* The normalized check with the fixture's options: normalization, n_input, n_weight,
 * atol, weights (state-dict names of the parameters to redraw). */
static void normalized_check(const e3c_subject *s, const cJSON *copts, uint64_t seed, e3c_check_result *out)
{
    e3c_normalized_options o = E3C_NORMALIZED_OPTIONS_INIT;
    const cJSON *nz = field(copts, "normalization"), *atol = field(copts, "atol"), *w = field(copts, "weights");
    o.seed = seed;
    o.generator = e3c_default_generator(); /* seeded before the module was built, as a test script would */
    o.normalization = cJSON_IsString(nz) ? nz->valuestring : NULL;
    o.n_input = check_opt_int(copts, "n_input", o.n_input);
    o.n_weight = check_opt_int(copts, "n_weight", 0);
    o.atol = cJSON_IsNumber(atol) ? atol->valuedouble : o.atol;
    size_t n = cJSON_IsArray(w) ? (size_t)cJSON_GetArraySize(w) : 0;
    const char **names = cJSON_IsArray(w) ? calloc(n + 1, sizeof *names) : NULL;
    const cJSON *e;
    size_t i = 0;
    e3c_status st = cJSON_IsArray(w) && !names ? e3c_error_set(E3C_ERR_NOMEM, "out of memory") : E3C_OK;
    for (e = names ? w->child : NULL; e; e = e->next)
        names[i++] = cJSON_IsString(e) ? e->valuestring : "";
    o.weights = names;
    o.n_weights = n;
    if ((nz && !cJSON_IsString(nz)) || (w && !cJSON_IsArray(w)))
        st = e3c_error_set(E3C_ERR_VALUE, "normalized: \"normalization\" must be a string and \"weights\" a list of names");
    if (st) {
        out->details = cJSON_CreateObject();
        out->seed = seed;
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    } else {
        e3c_check_normalized(out, s, &o);
    }
    free(names);
}

e3c_status e3c_fixture_run_check(e3c_check_result *out, const cJSON *fx, const char *base_dir,
                                 e3c_check_kind kind, const e3c_run_settings *rs)
{
    if (!fx || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_fixture_run_check: NULL argument");
    memset(out, 0, sizeof *out);
    result_set(out, E3C_ERRORED, "the %s check did not run to its end", e3c_check_kind_name(kind));
    double start = now_s();
    uint64_t seed = e3c_fixture_seed(fx, rs);
    if (e3c_fixture_is_structured(fx)) { /* an interatomic potential (structured.h) */
        e3c_status vst = e3c_fixture_validate(fx);
        if (vst) {
            out->details = cJSON_CreateObject();
            out->seed = seed;
            result_set(out, E3C_ERRORED, "%s", e3c_error_last());
            out->duration_s = now_s() - start;
            return E3C_OK;
        }
        return e3c_structured_fixture_run(out, fx, base_dir, (int)kind, seed);
    }
    subject_holder h;
    e3c_status st = e3c_fixture_validate(fx);
    e3c_manual_seed(seed); /* a module's initial weights depend on the seed, not on what ran before */
    if (!st)
        st = make_subject(fx, base_dir, &h);
    else
        memset(&h, 0, sizeof h);
    const cJSON *copts = field(field(fx, "checks"), e3c_check_kind_name(kind));
    if (st) {
        out->details = cJSON_CreateObject();
        out->seed = seed;
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    } else if (kind == E3C_CHECK_EQUIVARIANCE) {
        e3c_equivariance_options o;
        check_equivariance_options(copts, seed, &o);
        e3c_values *fixed = NULL;
        e3c_status ist = fixed_inputs(fx, h.s.dtype, &fixed);
        o.inputs = fixed;
        if (ist) {
            out->details = cJSON_CreateObject();
            out->seed = seed;
            result_set(out, E3C_ERRORED, "%s", e3c_error_last());
        } else
            e3c_check_equivariance(out, &h.s, &o);
        e3c_values_free(fixed);
    } else if (kind == E3C_CHECK_AUTO_JITABLE) {
        e3c_auto_jitable_options o;
        check_auto_jitable_options(copts, seed, &o);
        e3c_check_auto_jitable(out, &h.s, &o);
    } else if (kind == E3C_CHECK_NORMALIZED) {
        normalized_check(&h.s, copts, seed, out);
    } else if (kind == E3C_CHECK_GOLDEN) {
        out->details = cJSON_CreateObject();
        out->seed = seed;
        golden_check(fx, &h.s, copts, out);
    } else {
        out->details = cJSON_CreateObject();
        out->seed = seed;
        result_set(out, E3C_ERRORED, "the %s check is for structured models (interatomic potentials) only",
                   e3c_check_kind_name(kind));
    }
    holder_free(&h);
    out->duration_s = now_s() - start;
    return E3C_OK;
}

typedef struct isolated_ctx {
    const cJSON *fx;
    const char *base_dir;
    e3c_check_kind kind;
    const e3c_run_settings *rs;
} isolated_ctx;

static void run_in_child(void *p, e3c_check_result *out)
{
    isolated_ctx *c = p;
    e3c_fixture_run_check(out, c->fx, c->base_dir, c->kind, c->rs);
}

e3c_status e3c_fixture_run_check_isolated(e3c_check_result *out, const cJSON *fx, const char *base_dir,
                                          e3c_check_kind kind, const e3c_run_settings *rs)
{
    isolated_ctx c = {fx, base_dir, kind, rs};
    return e3c_check_isolated(out, run_in_child, &c, e3c_fixture_timeout(fx, rs));
}
