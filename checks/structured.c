/* Structured models: presets, the fixture keys that describe inputs with roles and
 * outputs with kinds, and what is read from the model itself (metadata, buffers). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "e3check/file.h"
#include "e3check/structured.h"
#include "presets_data.h"

#define PRESET_MAX_BYTES ((size_t)16 << 20)

static const char *const role_names[E3C_ROLE_COUNT] = {
    "positions", "species",   "species_column", "one_hot", "edge_index",   "edge_src", "edge_dst",
    "cell",      "cell_rows", "unit_shifts",    "shifts",  "edge_vectors", "batch",    "ptr",
    "features",  "ones",      "bool",           "int",     "float"};

const char *e3c_role_name(e3c_role r) { return (unsigned)r < E3C_ROLE_COUNT ? role_names[r] : "unknown"; }

static const cJSON *field(const cJSON *o, const char *name) { return cJSON_GetObjectItemCaseSensitive(o, name); }

int e3c_fixture_is_structured(const cJSON *fx)
{
    return cJSON_IsObject(fx) && (field(fx, "preset") || field(fx, "args") || field(fx, "outputs"));
}

/* ------------------------------------------------------------------ presets ---- */

const char *const *e3c_preset_names(void) { return e3c_builtin_preset_names; }

/* A preset file: a regular file read without blocking (a FIFO, device or folder is refused
 * by name, never waited on), then parsed. */
static e3c_status read_json_file(const char *path, cJSON **out)
{
    char *text = NULL;
    size_t len = 0;
    if (e3c_file_read(&text, &len, path, PRESET_MAX_BYTES))
        return e3c_error_prefix("preset");
    *out = cJSON_ParseWithLength(text, len);
    free(text);
    return *out ? E3C_OK : e3c_error_set(E3C_ERR_FORMAT, "preset '%s' is not valid JSON", path);
}

e3c_status e3c_preset_load(cJSON **out, const char *name, const char *base_dir)
{
    if (!out || !name)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_preset_load: NULL argument");
    *out = NULL;
    size_t n = strlen(name);
    if (strchr(name, '/') || (n > 5 && !strcmp(name + n - 5, ".json"))) {
        char path[4096];
        if (name[0] == '/' || !base_dir)
            snprintf(path, sizeof path, "%s", name);
        else
            snprintf(path, sizeof path, "%s/%s", base_dir, name);
        return read_json_file(path, out);
    }
    for (size_t i = 0; e3c_builtin_preset_names[i]; i++)
        if (!strcmp(e3c_builtin_preset_names[i], name)) {
            *out = cJSON_Parse(e3c_builtin_preset_texts[i]);
            return *out ? E3C_OK : e3c_error_set(E3C_ERR_INTERNAL, "built-in preset '%s' is not valid JSON", name);
        }
    char known[256] = "";
    for (size_t i = 0; e3c_builtin_preset_names[i]; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 e3c_builtin_preset_names[i]);
    return e3c_error_set(E3C_ERR_VALUE, "unknown preset '%s' (built in: %s; or a FILE.json)", name, known);
}

/* Merge `over` into `base` (both objects): keys of `over` win; objects named in `deep`
 * are merged key by key. */
static e3c_status merge_into(cJSON *base, const cJSON *over)
{
    static const char *const deep[] = {"structure", "checks", NULL};
    for (const cJSON *c = over->child; c; c = c->next) {
        cJSON *mine = cJSON_GetObjectItemCaseSensitive(base, c->string);
        int is_deep = 0;
        for (const char *const *d = deep; *d; d++)
            is_deep |= !strcmp(*d, c->string);
        if (is_deep && cJSON_IsObject(mine) && cJSON_IsObject(c)) {
            e3c_status st = merge_into(mine, c);
            if (st)
                return st;
            continue;
        }
        cJSON *copy = cJSON_Duplicate(c, 1);
        if (!copy)
            return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        if (mine)
            cJSON_ReplaceItemInObjectCaseSensitive(base, c->string, copy);
        else
            cJSON_AddItemToObject(base, c->string, copy);
    }
    return E3C_OK;
}

e3c_status e3c_fixture_expand_preset(cJSON **out, const cJSON *fx, const char *base_dir)
{
    if (!out || !fx)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_fixture_expand_preset: NULL argument");
    *out = NULL;
    const cJSON *p = field(fx, "preset");
    if (!p) {
        *out = cJSON_Duplicate(fx, 1);
        return *out ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    }
    if (!cJSON_IsString(p))
        return e3c_error_set(E3C_ERR_VALUE, "field \"preset\" must be a preset name or a FILE.json path");
    cJSON *base = NULL;
    e3c_status st = e3c_preset_load(&base, p->valuestring, base_dir);
    if (!st && !cJSON_IsObject(base))
        st = e3c_error_set(E3C_ERR_VALUE, "preset '%s' must be a JSON object", p->valuestring);
    if (!st) {
        cJSON_DeleteItemFromObjectCaseSensitive(base, "description");
        st = merge_into(base, fx);
    }
    if (st) {
        cJSON_Delete(base);
        return st;
    }
    *out = base;
    return E3C_OK;
}

/* ------------------------------------------------------------------ parsing ---- */

static int role_of(const char *name, e3c_role *out)
{
    for (int r = 0; r < E3C_ROLE_COUNT; r++)
        if (!strcmp(role_names[r], name)) {
            *out = (e3c_role)r;
            return 1;
        }
    return 0;
}

static int is_index_role(e3c_role r)
{
    return r == E3C_ROLE_SPECIES || r == E3C_ROLE_SPECIES_COLUMN || r == E3C_ROLE_EDGE_INDEX ||
           r == E3C_ROLE_EDGE_SRC || r == E3C_ROLE_EDGE_DST || r == E3C_ROLE_BATCH || r == E3C_ROLE_PTR;
}

static int is_plain_role(e3c_role r) { return r == E3C_ROLE_BOOL || r == E3C_ROLE_INT || r == E3C_ROLE_FLOAT; }

static e3c_status parse_bool_field(const cJSON *o, const char *name, int *out, const char *where)
{
    const cJSON *v = field(o, name);
    if (!v)
        return E3C_OK;
    if (!cJSON_IsBool(v))
        return e3c_error_set(E3C_ERR_VALUE, "%s: \"%s\" must be true or false", where, name);
    *out = cJSON_IsTrue(v);
    return E3C_OK;
}

/* One input spec from a role string, a role object, or a plain JSON bool/number. */
static e3c_status parse_input(e3c_input_spec *in, const cJSON *v, const char *where, e3c_dtype input_dtype)
{
    static const char *const known[] = {"role", "dtype", "periodic_only", "strict", "irreps", "value", NULL};
    const char *role = NULL;
    if (cJSON_IsString(v))
        role = v->valuestring;
    else if (cJSON_IsBool(v))
        in->role = E3C_ROLE_BOOL, in->value = cJSON_IsTrue(v);
    else if (cJSON_IsNumber(v))
        in->role = v->valuedouble == floor(v->valuedouble) ? E3C_ROLE_INT : E3C_ROLE_FLOAT, in->value = v->valuedouble;
    else if (cJSON_IsObject(v)) {
        for (const cJSON *c = v->child; c; c = c->next) {
            int ok = 0;
            for (const char *const *k = known; *k; k++)
                ok |= !strcmp(*k, c->string);
            if (!ok)
                return e3c_error_set(E3C_ERR_VALUE,
                                     "%s: unknown key \"%s\" (role, dtype, periodic_only, strict, irreps, value)",
                                     where, c->string);
        }
        if (!cJSON_IsString(field(v, "role")))
            return e3c_error_set(E3C_ERR_VALUE, "%s: \"role\" is required and must be a string", where);
        role = field(v, "role")->valuestring;
    } else {
        return e3c_error_set(E3C_ERR_VALUE, "%s: must be a role, an object with \"role\", a bool or a number", where);
    }
    if (role && !role_of(role, &in->role)) {
        char known_roles[512] = "";
        for (int r = 0; r < E3C_ROLE_COUNT; r++)
            snprintf(known_roles + strlen(known_roles), sizeof known_roles - strlen(known_roles), "%s%s", r ? ", " : "",
                     role_names[r]);
        return e3c_error_set(E3C_ERR_VALUE, "%s: unknown role \"%s\" (%s)", where, role, known_roles);
    }
    in->dtype = is_index_role(in->role) ? E3C_INT64 : input_dtype;
    in->strict = in->role == E3C_ROLE_POSITIONS || in->role == E3C_ROLE_FEATURES;
    if (!cJSON_IsObject(v))
        return E3C_OK;
    const cJSON *dt = field(v, "dtype");
    if (dt && (!cJSON_IsString(dt) || e3c_dtype_parse(&in->dtype, dt->valuestring)))
        return e3c_error_set(E3C_ERR_VALUE, "%s: \"dtype\" must be float32, float64, int64 or bool", where);
    e3c_status st = parse_bool_field(v, "periodic_only", &in->periodic_only, where);
    if (!st)
        st = parse_bool_field(v, "strict", &in->strict, where);
    if (st)
        return st;
    const cJSON *value = field(v, "value");
    if (value && !cJSON_IsNumber(value) && !cJSON_IsBool(value))
        return e3c_error_set(E3C_ERR_VALUE, "%s: \"value\" must be a number or a bool", where);
    if (value)
        in->value = cJSON_IsBool(value) ? cJSON_IsTrue(value) : value->valuedouble;
    if (is_plain_role(in->role) && !value)
        return e3c_error_set(E3C_ERR_VALUE, "%s: a %s input needs a \"value\"", where, role);
    const cJSON *irreps = field(v, "irreps");
    if (in->role == E3C_ROLE_FEATURES) {
        if (!cJSON_IsString(irreps))
            return e3c_error_set(E3C_ERR_VALUE, "%s: a features input needs \"irreps\"", where);
        if (e3c_irreps_parse(&in->irreps, irreps->valuestring))
            return e3c_error_prefix("%s: \"irreps\"", where);
    } else if (irreps) {
        return e3c_error_set(E3C_ERR_VALUE, "%s: \"irreps\" is only for a features input", where);
    }
    return E3C_OK;
}

static e3c_status push_input(e3c_structured *s, const char *arg, const char *key, const cJSON *v)
{
    e3c_input_spec *grown = realloc(s->inputs, (s->n_inputs + 1) * sizeof *grown);
    if (!grown)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    s->inputs = grown;
    e3c_input_spec *in = &s->inputs[s->n_inputs++];
    memset(in, 0, sizeof *in);
    in->arg = strdup(arg);
    in->key = key ? strdup(key) : NULL;
    if (!in->arg || (key && !in->key))
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    char where[512];
    snprintf(where, sizeof where, "args.%s%s%s", arg, key ? "." : "", key ? key : "");
    return parse_input(in, v, where, s->input_dtype);
}

static e3c_status parse_args(e3c_structured *s, const cJSON *args)
{
    if (!cJSON_IsObject(args) || !args->child)
        return e3c_error_set(E3C_ERR_VALUE, "field \"args\" must be a non-empty object of forward argument: role");
    for (const cJSON *a = args->child; a; a = a->next) {
        e3c_status st = E3C_OK;
        if (cJSON_IsObject(a) && !field(a, "role")) { /* a dict argument: key -> role */
            if (!a->child)
                st = e3c_error_set(E3C_ERR_VALUE, "args.%s: a dict argument needs at least one key", a->string);
            for (const cJSON *k = a->child; !st && k; k = k->next)
                st = push_input(s, a->string, k->string, k);
        } else {
            st = push_input(s, a->string, NULL, a);
        }
        if (st)
            return st;
    }
    return E3C_OK;
}

static e3c_status parse_output(e3c_output_spec *o, const char *key, const cJSON *v)
{
    static const char *const known[] = {"irreps", "kind", "per", "optional", NULL};
    o->key = strdup(key);
    if (!o->key)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    const cJSON *irreps = cJSON_IsString(v) ? v : field(v, "irreps");
    if (!cJSON_IsString(v) && !cJSON_IsObject(v))
        return e3c_error_set(E3C_ERR_VALUE, "outputs.%s: must be an irreps string or an object", key);
    for (const cJSON *c = cJSON_IsObject(v) ? v->child : NULL; c; c = c->next) {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            ok |= !strcmp(*k, c->string);
        if (!ok)
            return e3c_error_set(E3C_ERR_VALUE, "outputs.%s: unknown key \"%s\" (irreps, kind, per, optional)", key,
                                 c->string);
    }
    const cJSON *kind = field(v, "kind");
    if (kind &&
        (!cJSON_IsString(kind) || (strcmp(kind->valuestring, "irreps") && strcmp(kind->valuestring, "cartesian2"))))
        return e3c_error_set(E3C_ERR_VALUE, "outputs.%s: \"kind\" must be \"irreps\" or \"cartesian2\"", key);
    o->kind = kind && !strcmp(kind->valuestring, "cartesian2") ? E3C_OUTPUT_CARTESIAN2 : E3C_OUTPUT_IRREPS;
    if (o->kind == E3C_OUTPUT_IRREPS) {
        if (!cJSON_IsString(irreps))
            return e3c_error_set(E3C_ERR_VALUE, "outputs.%s: an irreps output needs \"irreps\"", key);
        if (e3c_irreps_parse(&o->irreps, irreps->valuestring))
            return e3c_error_prefix("outputs.%s", key);
    } else if (irreps) {
        return e3c_error_set(E3C_ERR_VALUE, "outputs.%s: a cartesian2 output takes no \"irreps\"", key);
    }
    const cJSON *per = field(v, "per");
    if (per) {
        if (!cJSON_IsString(per) || (strcmp(per->valuestring, "atom") && strcmp(per->valuestring, "structure") &&
                                     strcmp(per->valuestring, "edge")))
            return e3c_error_set(E3C_ERR_VALUE, "outputs.%s: \"per\" must be atom, structure or edge", key);
        o->per = !strcmp(per->valuestring, "atom")        ? E3C_PER_ATOM
                 : !strcmp(per->valuestring, "structure") ? E3C_PER_STRUCTURE
                                                          : E3C_PER_EDGE;
    }
    return cJSON_IsObject(v) ? parse_bool_field(v, "optional", &o->optional, key) : E3C_OK;
}

static e3c_status parse_outputs(e3c_structured *s, const cJSON *outs)
{
    if (!cJSON_IsObject(outs) || !outs->child)
        return e3c_error_set(E3C_ERR_VALUE, "field \"outputs\" must be a non-empty object of key: irreps or kind");
    size_t n = (size_t)cJSON_GetArraySize(outs);
    s->outputs = calloc(n, sizeof *s->outputs);
    if (!s->outputs)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (const cJSON *o = outs->child; o; o = o->next) {
        e3c_status st = parse_output(&s->outputs[s->n_outputs++], o->string, o);
        if (st)
            return st;
    }
    return E3C_OK;
}

static e3c_status number_field(const cJSON *o, const char *name, double lo, double hi, double *out)
{
    const cJSON *v = field(o, name);
    if (!v)
        return E3C_OK;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
        return e3c_error_set(E3C_ERR_VALUE, "structure.%s must be a number in [%g, %g]", name, lo, hi);
    *out = v->valuedouble;
    return E3C_OK;
}

static e3c_status parse_structure(e3c_structure_options *o, int *count, const cJSON *st_json)
{
    static const char *const known[] = {"atoms",        "species",         "periodic",   "r_max",
                                        "min_distance", "volume_per_atom", "structures", NULL};
    if (!st_json)
        return E3C_OK;
    if (!cJSON_IsObject(st_json))
        return e3c_error_set(E3C_ERR_VALUE, "field \"structure\" must be an object");
    for (const cJSON *c = st_json->child; c; c = c->next) {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            ok |= !strcmp(*k, c->string);
        if (!ok)
            return e3c_error_set(E3C_ERR_VALUE,
                                 "structure: unknown key \"%s\" (atoms, species, periodic, r_max, min_distance, "
                                 "volume_per_atom, structures)",
                                 c->string);
    }
    double atoms = (double)o->n_atoms, species = o->n_species, structures = *count;
    e3c_status st = number_field(st_json, "atoms", 1, 100000, &atoms);
    if (!st)
        st = number_field(st_json, "structures", 1, 64, &structures);
    if (!st)
        st = number_field(st_json, "species", 1, 1000, &species);
    if (!st)
        st = number_field(st_json, "r_max", 1e-6, 1e6, &o->r_max);
    if (!st)
        st = number_field(st_json, "min_distance", 0, 1e6, &o->min_distance);
    if (!st)
        st = number_field(st_json, "volume_per_atom", 1e-6, 1e9, &o->volume_per_atom);
    if (!st)
        st = parse_bool_field(st_json, "periodic", &o->periodic, "structure");
    if (!st && (atoms != floor(atoms) || species != floor(species) || structures != floor(structures)))
        st = e3c_error_set(E3C_ERR_VALUE,
                           "structure.atoms, structure.species and structure.structures must be integers");
    *count = (int)structures;
    o->n_atoms = (int64_t)atoms;
    o->n_species = (int)species;
    return st;
}

static e3c_status dtype_field(const cJSON *fx, const char *name, e3c_dtype *out, int *given)
{
    const cJSON *v = field(fx, name);
    if (!v)
        return E3C_OK;
    if (!cJSON_IsString(v) || (strcmp(v->valuestring, "float32") && strcmp(v->valuestring, "float64")))
        return e3c_error_set(E3C_ERR_VALUE, "field \"%s\" must be \"float32\" or \"float64\"", name);
    *out = strcmp(v->valuestring, "float32") ? E3C_FLOAT64 : E3C_FLOAT32;
    if (given)
        *given = 1;
    return E3C_OK;
}

e3c_status e3c_structured_parse(e3c_structured **out, const cJSON *fx)
{
    if (!out || !fx)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_structured_parse: NULL argument");
    *out = NULL;
    e3c_structured *s = calloc(1, sizeof *s);
    if (!s)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    s->structure = (e3c_structure_options)E3C_STRUCTURE_OPTIONS_INIT;
    s->structure.r_max = 0;     /* from the model unless given */
    s->structure.n_species = 0; /* likewise */
    s->input_dtype = E3C_FLOAT64;
    s->n_structures = 1;
    s->grad = 1;
    e3c_status st = dtype_field(fx, "input_dtype", &s->input_dtype, NULL);
    if (!st)
        st = dtype_field(fx, "dtype", &s->model_dtype, &s->has_model_dtype);
    if (!st)
        st = parse_bool_field(fx, "grad", &s->grad, "the fixture");
    if (!st)
        st = parse_bool_field(fx, "jit_settings", &s->jit_settings, "the fixture");
    if (!st)
        st = field(fx, "args") ? parse_args(s, field(fx, "args"))
                               : e3c_error_set(E3C_ERR_VALUE, "a structured fixture needs \"args\" (or a preset)");
    if (!st)
        st = field(fx, "outputs")
                 ? parse_outputs(s, field(fx, "outputs"))
                 : e3c_error_set(E3C_ERR_VALUE, "a structured fixture needs \"outputs\" (or a preset)");
    if (!st)
        st = parse_structure(&s->structure, &s->n_structures, field(fx, "structure"));
    if (st) {
        e3c_structured_free(s);
        return st;
    }
    *out = s;
    return E3C_OK;
}

void e3c_structured_free(e3c_structured *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_inputs; i++) {
        free(s->inputs[i].arg);
        free(s->inputs[i].key);
        e3c_irreps_free(&s->inputs[i].irreps);
    }
    for (size_t i = 0; i < s->n_outputs; i++) {
        free(s->outputs[i].key);
        e3c_irreps_free(&s->outputs[i].irreps);
    }
    free(s->inputs);
    free(s->outputs);
    free(s);
}

e3c_status e3c_structured_validate(const cJSON *fx)
{
    static const char *const known[] = {"name",          "description", "torchscript", "preset",    "args",
                                        "outputs",       "structure",   "input_dtype", "dtype",     "grad",
                                        "jit_settings",  "seed",        "checks",      "timeout_s", "expect",
                                        "expect_detail", NULL};
    if (!cJSON_IsObject(fx))
        return e3c_error_set(E3C_ERR_VALUE, "a fixture must be a JSON object");
    for (const cJSON *f = fx->child; f; f = f->next) {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            ok |= !strcmp(*k, f->string);
        if (!ok)
            return e3c_error_set(E3C_ERR_VALUE, "unknown field \"%s\" for a structured model", f->string);
    }
    if (!cJSON_IsString(field(fx, "torchscript")))
        return e3c_error_set(E3C_ERR_VALUE, "a structured fixture needs \"torchscript\" (a path string)");
    e3c_structured *s = NULL;
    e3c_status st = e3c_structured_parse(&s, fx);
    e3c_structured_free(s);
    return st;
}

/* ------------------------------------------------------------------ from the model -- */

static int extra_number(const e3c_jit_module *m, const char *name, double *out)
{
    char *text = NULL, *end = NULL;
    size_t len = 0;
    if (e3c_jit_extra_file(&text, &len, m, name))
        return 0;
    double v = strtod(text, &end);
    int ok = end != text;
    free(text);
    if (ok)
        *out = v;
    return ok;
}

static int count_words(const e3c_jit_module *m, const char *name)
{
    char *text = NULL;
    size_t len = 0;
    if (e3c_jit_extra_file(&text, &len, m, name))
        return 0;
    int n = 0, in_word = 0;
    for (const char *p = text; *p; p++) {
        if (isspace((unsigned char)*p))
            in_word = 0;
        else if (!in_word)
            in_word = 1, n++;
    }
    free(text);
    return n;
}

e3c_status e3c_structured_resolve(e3c_structured *s, const e3c_jit_module *m)
{
    if (!s || !m)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_structured_resolve: NULL argument");
    e3c_tensor *t = NULL;
    if (!(s->structure.r_max > 0)) {
        double r = 0;
        if (!extra_number(m, "r_max", &r) && !e3c_jit_attribute_tensor(&t, m, "r_max") && e3c_tensor_numel(t) == 1)
            e3c_tensor_to_doubles(&r, 1, t);
        e3c_tensor_free(t), t = NULL;
        if (!(r > 0))
            return e3c_error_set(E3C_ERR_VALUE,
                                 "r_max is not in the model's metadata or buffers: give structure.r_max");
        s->structure.r_max = r;
    }
    if (s->structure.n_species <= 0) {
        double n = 0;
        if (!extra_number(m, "n_species", &n))
            n = count_words(m, "type_names");
        if (!(n > 0) && !e3c_jit_attribute_tensor(&t, m, "atomic_numbers"))
            n = (double)e3c_tensor_numel(t);
        e3c_tensor_free(t), t = NULL;
        for (size_t i = 0; !(n > 0) && i < s->n_inputs; i++)
            if (s->inputs[i].role == E3C_ROLE_SPECIES || s->inputs[i].role == E3C_ROLE_SPECIES_COLUMN)
                n = 1; /* integer species: one species is always valid */
        if (!(n > 0))
            return e3c_error_set(E3C_ERR_VALUE,
                                 "the number of species is not in the model's metadata (n_species, type_names) or "
                                 "buffers (atomic_numbers): give structure.species");
        if (n != floor(n) || n > 1000)
            return e3c_error_set(E3C_ERR_VALUE,
                                 "the model gives %g species (metadata n_species, type_names or buffer "
                                 "atomic_numbers): not a whole number from 1 to 1000; give structure.species",
                                 n);
        s->structure.n_species = (int)n;
    }
    if (!s->has_model_dtype) {
        char *text = NULL;
        size_t len = 0;
        int found = 0;
        if (!e3c_jit_extra_file(&text, &len, m, "model_dtype") && !e3c_dtype_parse(&s->model_dtype, text))
            found = 1;
        free(text);
        if (!found && !e3c_jit_floating_dtype(&s->model_dtype, &found, m) && !found)
            s->model_dtype = s->input_dtype;
        s->has_model_dtype = 1;
    }
    return E3C_OK;
}

e3c_status e3c_structured_apply_jit_settings(const e3c_jit_module *m)
{
    if (!m)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_structured_apply_jit_settings: NULL argument");
    char *text = NULL;
    size_t len = 0;
    e3c_status st = E3C_OK;
    if (!e3c_jit_extra_file(&text, &len, m, "_jit_fusion_strategy") && len)
        st = e3c_jit_set_fusion_strategy(text);
    else {
        double depth = 0;
        int given = extra_number(m, "_jit_bailout_depth", &depth);
        if (given && depth > 1e6) /* (int)depth would overflow */
            st = e3c_error_set(E3C_ERR_VALUE, "metadata _jit_bailout_depth %g is not a depth from 0 to 1e6", depth);
        else if (given && depth >= 0) {
            char spec[64];
            snprintf(spec, sizeof spec, "STATIC,%d", (int)depth);
            st = e3c_jit_set_fusion_strategy(spec);
        }
    }
    free(text);
    return st;
}
