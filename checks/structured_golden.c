/* The golden check of structured models (interatomic potentials): a given structure (inline,
 * or the first frame of an extended-XYZ file) with e3check's own neighbour list, the model's
 * declared outputs against expected values by key; and the recording of such a check from
 * a model's current outputs (e3check model FILE --preset P --record OUT.json). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "e3check/structured.h"
#include "e3check/fixture.h"
#include "structured_internal.h"
#include "xyz.h"

#define GOLDEN_MAX_ATOMS 100000

static const cJSON *field(const cJSON *o, const char *name) { return cJSON_GetObjectItemCaseSensitive(o, name); }

/* ------------------------------------------------------------------ validation ---- */

static e3c_status bad_option(const char *key, const char *what)
{
    return e3c_error_set(E3C_ERR_VALUE, "check \"golden\" option \"%s\" must be %s", key, what);
}

/* A list of n lists of 3 finite numbers (n from 1 to GOLDEN_MAX_ATOMS when n_out is set;
 * exactly 3 rows for a cell). */
static int rows_of_three(const cJSON *v, int64_t *n_out)
{
    if (!cJSON_IsArray(v))
        return 0;
    int64_t n = 0;
    for (const cJSON *row = v->child; row; row = row->next, n++) {
        int k = 0;
        for (const cJSON *x = cJSON_IsArray(row) ? row->child : NULL; x; x = x->next, k++)
            if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
                return 0;
        if (!cJSON_IsArray(row) || k != 3)
            return 0;
    }
    *n_out = n;
    return 1;
}

/* The shape of nested lists of finite numbers into shape/nd (a number: 0 dimensions);
 * 0 when v is not one (ragged, another type, not finite, deeper than E3C_MAX_DIMS). */
static int nested_shape(const cJSON *v, int64_t *shape, int *nd)
{
    if (cJSON_IsNumber(v)) {
        *nd = 0;
        return isfinite(v->valuedouble);
    }
    if (!cJSON_IsArray(v))
        return 0;
    int64_t inner[E3C_MAX_DIMS], other[E3C_MAX_DIMS], n = 0;
    int ind = 0, ond = 0;
    for (const cJSON *c = v->child; c; c = c->next, n++) {
        if (!nested_shape(c, n ? other : inner, n ? &ond : &ind))
            return 0;
        if (n && (ond != ind || memcmp(inner, other, (size_t)ind * sizeof *inner)))
            return 0;
    }
    if (ind + 1 > E3C_MAX_DIMS)
        return 0;
    shape[0] = n;
    memcpy(shape + 1, inner, (size_t)ind * sizeof *inner);
    *nd = n ? ind + 1 : 1;
    return 1;
}

static int64_t shape_numel(const int64_t *shape, int nd)
{
    int64_t n = 1;
    for (int k = 0; k < nd; k++)
        n *= shape[k];
    return n;
}

/* null, an empty list, or nested lists of finite numbers of one shape. */
static int expected_value_ok(const cJSON *v)
{
    int64_t shape[E3C_MAX_DIMS];
    int nd = 0;
    return cJSON_IsNull(v) || nested_shape(v, shape, &nd);
}

static e3c_status validate_species(const cJSON *sp, int64_t n_atoms)
{
    int64_t n = 0, ints = 0, names = 0;
    for (const cJSON *x = cJSON_IsArray(sp) ? sp->child : NULL; x; x = x->next, n++) {
        ints += cJSON_IsNumber(x) && x->valuedouble >= 0 && x->valuedouble <= 1e6 &&
                x->valuedouble == floor(x->valuedouble);
        names += cJSON_IsString(x) && x->valuestring[0] && strlen(x->valuestring) < 32;
    }
    if (!cJSON_IsArray(sp) || !n || (ints != n && names != n))
        return bad_option("species", "a list of type indices (integers from 0) or of species names (the model's "
                                     "type_names or chemical symbols), one per atom");
    if (n != n_atoms)
        return e3c_error_set(E3C_ERR_VALUE,
                             "check \"golden\": \"species\" has %lld entries but \"positions\" %lld atoms",
                             (long long)n, (long long)n_atoms);
    return E3C_OK;
}

static e3c_status validate_outputs(const cJSON *outs)
{
    if (!cJSON_IsObject(outs) || !outs->child)
        return bad_option("outputs", "a non-empty object of output key: expected values (nested lists of finite "
                                     "numbers, or null for an output that is None or empty)");
    for (const cJSON *o = outs->child; o; o = o->next)
        if (!expected_value_ok(o))
            return e3c_error_set(E3C_ERR_VALUE,
                                 "check \"golden\" option \"outputs\": \"%s\" must be null or nested lists of finite "
                                 "numbers of one shape",
                                 o->string);
    return E3C_OK;
}

static int positive_number(const cJSON *v)
{
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble > 0;
}

static e3c_status validate_atol(const cJSON *atol, const cJSON *outs)
{
    if (!atol || positive_number(atol))
        return E3C_OK;
    if (!cJSON_IsObject(atol))
        return bad_option("atol", "a finite number > 0, or an object of output key: number > 0");
    for (const cJSON *a = atol->child; a; a = a->next) {
        if (!positive_number(a))
            return e3c_error_set(E3C_ERR_VALUE, "check \"golden\" option \"atol\": \"%s\" must be a finite number > 0",
                                 a->string);
        if (!field(outs, a->string))
            return e3c_error_set(
                E3C_ERR_VALUE, "check \"golden\" option \"atol\" names \"%s\", which is not in \"outputs\"", a->string);
    }
    return E3C_OK;
}

e3c_status structured_golden_validate(const cJSON *c)
{
    static const char *const known[] = {"positions", "species", "cell", "xyz", "outputs", "atol", NULL};
    if (cJSON_IsFalse(c))
        return E3C_OK;
    if (!cJSON_IsObject(c))
        return e3c_error_set(E3C_ERR_VALUE, "check \"golden\" of a structured model must be an object: the structure "
                                            "(\"positions\" and \"species\", or \"xyz\") and the expected \"outputs\"");
    for (const cJSON *k = c->child; k; k = k->next) {
        int ok = 0;
        for (const char *const *name = known; *name; name++)
            ok |= !strcmp(*name, k->string);
        if (!ok)
            return e3c_error_set(E3C_ERR_VALUE,
                                 "check \"golden\" has no option \"%s\" (a structured model's takes positions, "
                                 "species, cell, xyz, outputs or atol)",
                                 k->string);
    }
    const cJSON *xyz = field(c, "xyz"), *pos = field(c, "positions"), *sp = field(c, "species"),
                *cell = field(c, "cell");
    int64_t n = 0, rows = 0;
    if (xyz && (pos || sp || cell))
        return e3c_error_set(E3C_ERR_VALUE, "check \"golden\": give the structure inline (\"positions\", \"species\", "
                                            "\"cell\") or as \"xyz\", not both");
    if (xyz && (!cJSON_IsString(xyz) || !xyz->valuestring[0]))
        return bad_option("xyz", "the path of an extended-XYZ file, relative to the fixture file");
    if (!xyz && (!pos || !sp))
        return e3c_error_set(E3C_ERR_VALUE, "check \"golden\" needs the structure: \"positions\" and \"species\" "
                                            "(and \"cell\" for a periodic one), or \"xyz\"");
    if (pos && (!rows_of_three(pos, &n) || n < 1 || n > GOLDEN_MAX_ATOMS))
        return bad_option("positions", "a list of 1 to 100000 positions, each a list of 3 finite numbers");
    e3c_status st = pos ? validate_species(sp, n) : E3C_OK;
    if (!st && cell && !cJSON_IsNull(cell) && (!rows_of_three(cell, &rows) || rows != 3))
        st = bad_option("cell", "null (no cell) or 3 lattice vectors (rows), each a list of 3 finite numbers");
    if (!st)
        st = validate_outputs(field(c, "outputs"));
    if (!st)
        st = validate_atol(field(c, "atol"), field(c, "outputs"));
    return st;
}

/* ------------------------------------------------------------------ species ---- */

static const char *const element_symbols[] = {
    "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si", "P",  "S",  "Cl",
    "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se",
    "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb",
    "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er",
    "Tm", "Yb", "Lu", "Hf", "Ta", "W",  "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At",
    "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No",
    "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"};

/* The atomic number of a chemical symbol, 0 when it is none. */
static int atomic_number(const char *symbol)
{
    for (size_t z = 0; z < sizeof element_symbols / sizeof element_symbols[0]; z++)
        if (!strcmp(element_symbols[z], symbol))
            return (int)z + 1;
    return 0;
}

/* What a model calls its species: NequIP's type_names metadata (words), else MACE's
 * atomic_numbers buffer. */
typedef struct species_table {
    char *type_names; /* the metadata text, words separated by spaces; NULL when absent */
    double *numbers;  /* atomic_numbers; NULL when absent */
    int64_t n_numbers;
} species_table;

static void species_table_free(species_table *t)
{
    free(t->type_names);
    free(t->numbers);
}

static e3c_status species_table_read(const e3c_jit_module *m, species_table *t)
{
    memset(t, 0, sizeof *t);
    size_t len = 0;
    if (e3c_jit_extra_file(&t->type_names, &len, m, "type_names"))
        t->type_names = NULL;
    e3c_tensor *z = NULL;
    if (!t->type_names && !e3c_jit_attribute_tensor(&z, m, "atomic_numbers")) {
        t->n_numbers = e3c_tensor_numel(z);
        t->numbers = malloc((size_t)(t->n_numbers ? t->n_numbers : 1) * sizeof *t->numbers);
        e3c_status st = t->numbers ? e3c_tensor_to_doubles(t->numbers, (size_t)t->n_numbers, z)
                                   : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        e3c_tensor_free(z);
        if (st) {
            species_table_free(t);
            return st;
        }
    }
    return E3C_OK;
}

/* The index of word `name` in the type names, -1 when absent. */
static int64_t type_name_index(const char *names, const char *name)
{
    int64_t k = 0;
    size_t len = strlen(name);
    for (const char *p = names; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        size_t w = 0;
        while (p[w] && !isspace((unsigned char)p[w]))
            w++;
        if (!w)
            break;
        if (w == len && !strncmp(p, name, len))
            return k;
        p += w, k++;
    }
    return -1;
}

/* Species `name` as the model's type index; E3C_ERR_VALUE naming it, `where` it was given
 * ("checks.golden.species[3]" or "FILE:LINE") and what the model knows. */
static e3c_status species_index(const species_table *t, const char *name, const char *where, int64_t *out)
{
    if (t->type_names) {
        *out = type_name_index(t->type_names, name);
        if (*out >= 0)
            return E3C_OK;
        return e3c_error_set(E3C_ERR_VALUE, "%s: species \"%s\" is not among the model's type_names (%.200s)", where,
                             name, t->type_names);
    }
    if (t->numbers) {
        int z = atomic_number(name);
        for (int64_t k = 0; z && k < t->n_numbers; k++)
            if (t->numbers[k] == z) {
                *out = k;
                return E3C_OK;
            }
        char known[256] = "";
        for (int64_t k = 0; k < t->n_numbers && k < 40; k++) {
            int zk = (int)t->numbers[k];
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", k ? " " : "",
                     zk >= 1 && zk <= 118 ? element_symbols[zk - 1] : "?");
        }
        return e3c_error_set(E3C_ERR_VALUE, "%s: species \"%s\" is %s (the model's atomic_numbers are the elements %s)",
                             where, name, z ? "not an element of the model" : "not a chemical symbol", known);
    }
    return e3c_error_set(E3C_ERR_VALUE,
                         "%s: species \"%s\": the model has neither type_names metadata nor an "
                         "atomic_numbers buffer; give the species as type indices",
                         where, name);
}

/* ------------------------------------------------------------------ the structure ---- */

/* A structure as given by the fixture, before its neighbour list. */
typedef struct given_atoms {
    int64_t n;
    double *positions; /* [n][3] */
    int64_t *species;  /* [n] type indices */
    int has_cell;
    double cell[9];
} given_atoms;

static void given_free(given_atoms *a)
{
    free(a->positions);
    free(a->species);
    memset(a, 0, sizeof *a);
}

static e3c_status given_alloc(given_atoms *a, int64_t n)
{
    a->n = n;
    a->positions = calloc((size_t)n * 3, sizeof *a->positions);
    a->species = calloc((size_t)n, sizeof *a->species);
    return a->positions && a->species ? E3C_OK
                                      : e3c_error_set(E3C_ERR_NOMEM, "out of memory for %lld atoms", (long long)n);
}

/* The inline structure (validated when the fixture was read). */
static e3c_status inline_atoms(const cJSON *c, const species_table *t, given_atoms *a)
{
    const cJSON *pos = field(c, "positions"), *sp = field(c, "species"), *cell = field(c, "cell");
    e3c_status st = given_alloc(a, cJSON_GetArraySize(pos));
    int64_t i = 0;
    for (const cJSON *row = pos->child; !st && row; row = row->next, i++) {
        int k = 0;
        for (const cJSON *x = row->child; x; x = x->next)
            a->positions[3 * i + k++] = x->valuedouble;
    }
    i = 0;
    for (const cJSON *x = sp->child; !st && x; x = x->next, i++) {
        char where[64];
        snprintf(where, sizeof where, "checks.golden.species[%lld]", (long long)i);
        if (cJSON_IsNumber(x))
            a->species[i] = (int64_t)x->valuedouble;
        else
            st = species_index(t, x->valuestring, where, &a->species[i]);
    }
    a->has_cell = cJSON_IsArray(cell);
    int k = 0;
    for (const cJSON *row = a->has_cell ? cell->child : NULL; row; row = row->next)
        for (const cJSON *x = row->child; x; x = x->next)
            a->cell[k++] = x->valuedouble;
    return st;
}

/* The first frame of the extended-XYZ file `path`, species mapped to the model's types. */
static e3c_status xyz_atoms(const char *path, const species_table *t, given_atoms *a)
{
    xyz_frame f;
    e3c_status st = xyz_read(path, GOLDEN_MAX_ATOMS, &f);
    if (!st)
        st = given_alloc(a, f.n);
    for (int64_t i = 0; !st && i < f.n; i++) {
        char where[4200];
        snprintf(where, sizeof where, "%s:%lld", path, (long long)i + 3); /* atom i is on line i + 3 */
        st = species_index(t, f.species[i], where, &a->species[i]);
    }
    if (!st) {
        memcpy(a->positions, f.positions, (size_t)f.n * 3 * sizeof *a->positions);
        a->has_cell = f.has_cell;
        memcpy(a->cell, f.cell, sizeof a->cell);
    }
    xyz_frame_free(&f);
    return st;
}

/* The structure of the golden check with e3check's neighbour list for the model's r_max. */
static e3c_status golden_structure(const cJSON *c, const char *base_dir, const e3c_jit_module *m,
                                   const e3c_structured *s, e3c_structure **out)
{
    species_table t;
    given_atoms a = {0};
    e3c_status st = species_table_read(m, &t);
    if (st)
        return st;
    const cJSON *xyz = field(c, "xyz");
    if (xyz) {
        char path[4096];
        const char *rel = xyz->valuestring;
        snprintf(path, sizeof path, "%s%s%s", rel[0] == '/' || !base_dir ? "" : base_dir,
                 rel[0] == '/' || !base_dir ? "" : "/", rel);
        st = xyz_atoms(path, &t, &a);
    } else {
        st = inline_atoms(c, &t, &a);
    }
    if (!st && (st = e3c_structure_from_data(out, a.n, a.positions, a.species, s->structure.n_species,
                                             a.has_cell ? a.cell : NULL, s->structure.r_max)))
        e3c_error_prefix("the golden structure");
    given_free(&a);
    species_table_free(&t);
    return st;
}

/* ------------------------------------------------------------------ comparing ---- */

/* The numbers of nested lists in order. */
static void flatten(const cJSON *v, double *out, int64_t *k)
{
    if (cJSON_IsNumber(v))
        out[(*k)++] = v->valuedouble;
    for (const cJSON *c = cJSON_IsArray(v) ? v->child : NULL; c; c = c->next)
        flatten(c, out, k);
}

/* One expected value (validated) as flat doubles with its shape. */
static e3c_status expected_values(const cJSON *v, int64_t *shape, int *nd, double **vals, int64_t *n)
{
    if (!nested_shape(v, shape, nd))
        return e3c_error_set(E3C_ERR_VALUE, "an expected value is not nested lists of finite numbers");
    *n = shape_numel(shape, *nd);
    *vals = malloc((size_t)(*n ? *n : 1) * sizeof **vals);
    if (!*vals)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for %lld expected values", (long long)*n);
    int64_t k = 0;
    flatten(v, *vals, &k);
    return E3C_OK;
}

/* Flat index i of `shape` as "[i, j]". */
static void index_text(const int64_t *shape, int nd, int64_t i, char *buf, size_t cap)
{
    int64_t idx[E3C_MAX_DIMS];
    for (int k = nd - 1; k >= 0; k--) {
        idx[k] = shape[k] ? i % shape[k] : 0;
        i = shape[k] ? i / shape[k] : 0;
    }
    format_list(idx, nd, buf, cap);
}

/* One declared output against its expected value. *ratio: error / tolerance (INFINITY for
 * a failure that is not a number: another shape, None, a NaN); `why` says what failed
 * (empty when within the tolerance); details in `d`. E3C_ERR_* only when it cannot be
 * compared (an output None where it may not be, and none is expected). */
static e3c_status compare_output(const e3c_output_spec *o, const e3c_value *y, const cJSON *want, double tol, cJSON *d,
                                 double *ratio, char *why, size_t cap)
{
    int64_t eshape[E3C_MAX_DIMS], gshape[E3C_MAX_DIMS], n = 0;
    int end = 0, gnd = 0;
    double *e = NULL, *g = NULL;
    e3c_tensor *t = NULL;
    int absent = 0;
    *ratio = 0;
    why[0] = '\0';
    int want_none = !want || cJSON_IsNull(want) || (nested_shape(want, eshape, &end) && !shape_numel(eshape, end));
    cJSON_AddNumberToObject(d, "tolerance", tol);
    e3c_status st = structured_output(y, o, &t, &absent);
    if (st && want_none)
        return st;
    if (st) { /* values were expected: the model no longer gives them */
        snprintf(why, cap, "output '%s': %s", o->key, e3c_error_last());
        *ratio = INFINITY;
        cJSON_AddStringToObject(d, "status", "failed");
        return E3C_OK;
    }
    if (!absent)
        st = e3c_tensor_shape(gshape, E3C_MAX_DIMS, &gnd, t);
    char a[128], b[128];
    if (!st && absent && want_none) {
        cJSON_AddStringToObject(d, "status", "absent as expected");
    } else if (!st && (absent || want_none)) {
        if (absent) { /* eshape was read when want_none was decided */
            format_list(eshape, end, b, sizeof b);
            snprintf(why, cap, "output '%s' is None or empty where values of shape %s are expected", o->key, b);
        } else {
            format_list(gshape, gnd, a, sizeof a);
            snprintf(why, cap,
                     "output '%s' has values of shape %s where checks.golden.outputs expects none (null or "
                     "absent)",
                     o->key, a);
        }
        *ratio = INFINITY;
        cJSON_AddStringToObject(d, "status", "failed");
    } else if (!st) {
        st = expected_values(want, eshape, &end, &e, &n);
        if (!st && (gnd != end || memcmp(gshape, eshape, (size_t)end * sizeof *eshape))) {
            format_list(gshape, gnd, a, sizeof a), format_list(eshape, end, b, sizeof b);
            snprintf(why, cap, "output '%s' has shape %s, expected %s", o->key, a, b);
            cJSON_AddStringToObject(d, "shape", a);
            cJSON_AddStringToObject(d, "expected_shape", b);
            *ratio = INFINITY;
            cJSON_AddStringToObject(d, "status", "failed");
        } else if (!st) {
            g = malloc((size_t)(n ? n : 1) * sizeof *g);
            st = g ? e3c_tensor_to_doubles(g, (size_t)n, t) : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
            double scale = 1, worst = 0;
            int64_t at = 0, bad = -1;
            for (int64_t i = 0; !st && i < n; i++)
                scale = fabs(e[i]) > scale ? fabs(e[i]) : scale;
            for (int64_t i = 0; !st && i < n; i++) {
                if (!isfinite(g[i]) && bad < 0)
                    bad = i;
                if (fabs(g[i] - e[i]) / scale > worst)
                    worst = fabs(g[i] - e[i]) / scale, at = i;
            }
            if (!st) {
                at = bad >= 0 ? bad : at;
                index_text(gshape, gnd, at, a, sizeof a);
                format_list(gshape, gnd, b, sizeof b);
                cJSON_AddStringToObject(d, "shape", b);
                json_add_error(d, "max_error", bad >= 0 ? NAN : worst);
                cJSON_AddNumberToObject(d, "scale", scale);
                cJSON_AddStringToObject(d, "index", n ? a : "-");
                if (n) {
                    cJSON_AddNumberToObject(d, "expected", e[at]);
                    json_add_error(d, "got", g[at]);
                }
                *ratio = bad >= 0 ? INFINITY : worst / tol;
                if (bad >= 0)
                    snprintf(why, cap, "output '%s' at index %s is %s where %.17g is expected", o->key, a,
                             isnan(g[at]) ? "nan"
                             : g[at] > 0  ? "inf"
                                          : "-inf",
                             e[at]);
                else if (worst > tol)
                    snprintf(why, cap,
                             "output '%s' at index %s is %.17g where %.17g is expected: error %.3e > "
                             "tolerance %.1e (relative to max(1, largest |expected|) = %.6g)",
                             o->key, a, g[at], e[at], worst, tol, scale);
                cJSON_AddStringToObject(d, "status", why[0] ? "failed" : "ok");
            }
        }
    }
    free(e), free(g);
    e3c_tensor_free(t);
    return st;
}

/* Keys of the expected outputs that are no declared output: E3C_ERR_VALUE naming one. */
static e3c_status undeclared_keys(const e3c_structured *s, const cJSON *outs)
{
    for (const cJSON *k = outs ? outs->child : NULL; k; k = k->next) {
        size_t i = 0;
        while (i < s->n_outputs && strcmp(s->outputs[i].key, k->string))
            i++;
        if (i < s->n_outputs)
            continue;
        char declared[512] = "";
        for (size_t j = 0; j < s->n_outputs; j++)
            snprintf(declared + strlen(declared), sizeof declared - strlen(declared), "%s%s", j ? ", " : "",
                     s->outputs[j].key);
        return e3c_error_set(E3C_ERR_VALUE, "checks.golden.outputs names '%s', which is not a declared output (%s)",
                             k->string, declared);
    }
    return E3C_OK;
}

/* How one output compared. */
typedef struct key_result {
    double ratio, error, tol; /* error / tolerance: INFINITY for another shape, None, NaN */
    char why[1024];           /* what failed; empty when within the tolerance */
    int compared;             /* 0: absent as expected */
} key_result;

/* The failing outputs other than `worst`, as "'a', 'b'". */
static void other_failures(const e3c_structured *s, const key_result *r, size_t worst, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t k = 0; k < s->n_outputs; k++)
        if (k != worst && r[k].why[0] && strlen(buf) + strlen(s->outputs[k].key) + 8 < cap)
            snprintf(buf + strlen(buf), cap - strlen(buf), "%s'%s'", buf[0] ? ", " : "", s->outputs[k].key);
}

/* Compare every declared output and give the verdict: the message names the worst output
 * (the largest error / tolerance). */
static void golden_verdict(const e3c_structured *s, const e3c_value *y, const cJSON *copts, double tol_default,
                           e3c_check_result *out)
{
    const cJSON *outs = field(copts, "outputs"), *atol = field(copts, "atol");
    cJSON *per_key = cJSON_AddObjectToObject(out->details, "outputs");
    key_result *r = calloc(s->n_outputs ? s->n_outputs : 1, sizeof *r);
    e3c_status st = r ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    size_t worst = 0;
    int compared = 0, failed = 0;
    for (size_t k = 0; !st && k < s->n_outputs; k++) {
        const cJSON *a = cJSON_IsObject(atol) ? field(atol, s->outputs[k].key) : atol;
        cJSON *d = cJSON_AddObjectToObject(per_key, s->outputs[k].key);
        r[k].tol = cJSON_IsNumber(a) ? a->valuedouble : tol_default;
        st = compare_output(&s->outputs[k], y, field(outs, s->outputs[k].key), r[k].tol, d, &r[k].ratio, r[k].why,
                            sizeof r[k].why);
        const cJSON *me = field(d, "max_error"), *status = field(d, "status");
        r[k].error = cJSON_IsNumber(me) ? me->valuedouble : r[k].ratio == INFINITY ? INFINITY : 0;
        r[k].compared = cJSON_IsString(status) && strcmp(status->valuestring, "absent as expected");
        compared += r[k].compared;
        failed += r[k].why[0] != '\0';
        if (r[k].compared && (compared == 1 || r[k].ratio > r[worst].ratio)) /* the worst of those compared */
            worst = k;
    }
    char others[256] = "";
    if (!st && compared) {
        cJSON_AddStringToObject(out->details, "worst_output", s->outputs[worst].key);
        json_add_error(out->details, "max_error", r[worst].error); /* with "tolerance": the report's margin */
        cJSON_AddNumberToObject(out->details, "tolerance", r[worst].tol);
        other_failures(s, r, worst, others, sizeof others);
    }
    if (st)
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    else if (failed)
        result_set(out, E3C_FAILED, "differs from the golden values: %s%s%s%s", r[worst].why,
                   others[0] ? " (also " : "", others, others[0] ? ")" : "");
    else if (!compared)
        result_set(out, E3C_ERRORED, "every declared output came back None or empty: nothing was compared");
    else
        result_set(out, E3C_PASSED,
                   "matches the golden values: worst output '%s', error %.3e <= tolerance %.1e (%d "
                   "output%s compared)",
                   s->outputs[worst].key, r[worst].error, r[worst].tol, compared, compared == 1 ? "" : "s");
    free(r);
}

e3c_status e3c_check_structured_golden(e3c_check_result *out, e3c_jit_module *m, const e3c_structured *s,
                                       const cJSON *copts, const char *base_dir, uint64_t seed)
{
    if (!m || !s || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_check_structured_golden: NULL argument");
    memset(out, 0, sizeof *out);
    double start = now_s();
    out->seed = seed;
    out->details = cJSON_CreateObject();
    if (!out->details)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    result_set(out, E3C_ERRORED, "the golden check did not run to its end");
    double tol = s->model_dtype == E3C_FLOAT64 ? 1e-7 : 1e-5; /* NequIP's deployed-vs-trained */
    cJSON_AddNumberToObject(out->details, "default_tolerance", tol);
    cJSON_AddStringToObject(out->details, "tolerance_rule",
                            "|got - expected| / max(1, largest |expected| of the output) <= tolerance");
    e3c_structure *st_ = NULL;
    e3c_value *y = NULL;
    e3c_status st = cJSON_IsObject(copts)
                        ? structured_golden_validate(copts)
                        : e3c_error_set(E3C_ERR_VALUE, "the golden check of a structured model needs "
                                                       "checks.golden: the structure (\"positions\" and "
                                                       "\"species\", or \"xyz\") and the expected "
                                                       "\"outputs\"");
    if (!st)
        st = undeclared_keys(s, field(copts, "outputs"));
    if (!st)
        st = golden_structure(copts, base_dir, m, s, &st_);
    if (!st)
        structure_details(s, st_, out->details);
    phys p = {m, s, seed, 0};
    if (!st && (st = phys_run(&p, st_, NULL, NULL, &y)))
        e3c_error_prefix("the model raised");
    cJSON_AddNumberToObject(out->details, "model_calls", st_ ? 1 : 0);
    if (st)
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    else
        golden_verdict(s, y, copts, tol, out);
    e3c_value_free(y);
    e3c_structure_free(st_);
    out->duration_s = now_s() - start;
    return E3C_OK;
}

/* ------------------------------------------------------------------ recording ---- */

/* A number as JSON text with 17 significant digits: it reads back as the same double. */
static cJSON *exact_number(double x)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", x);
    return cJSON_CreateRaw(buf);
}

/* Nested lists of v (shape/nd) with exact numbers; NULL when out of memory. */
static cJSON *nested_list(const double *v, const int64_t *shape, int nd)
{
    if (nd == 0)
        return exact_number(v[0]);
    cJSON *list = cJSON_CreateArray();
    int64_t stride = shape_numel(shape + 1, nd - 1);
    for (int64_t i = 0; list && i < shape[0]; i++) {
        cJSON *item = nested_list(v + i * stride, shape + 1, nd - 1);
        if (!item || !cJSON_AddItemToArray(list, item)) {
            cJSON_Delete(item);
            cJSON_Delete(list);
            return NULL;
        }
    }
    return list;
}

/* Output `o` of y as exact nested lists (null when None or empty); E3C_ERR_VALUE for a
 * value that is not finite. */
static e3c_status record_output(const e3c_output_spec *o, const e3c_value *y, cJSON **out)
{
    e3c_tensor *t = NULL;
    int absent = 0, nd = 0;
    int64_t shape[E3C_MAX_DIMS];
    double *v = NULL;
    e3c_status st = structured_output(y, o, &t, &absent);
    if (!st && absent) {
        *out = cJSON_CreateNull();
        return *out ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    }
    if (!st)
        st = e3c_tensor_shape(shape, E3C_MAX_DIMS, &nd, t);
    int64_t n = shape_numel(shape, nd);
    if (!st && !(v = malloc((size_t)(n ? n : 1) * sizeof *v)))
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory for output '%s'", o->key);
    if (!st)
        st = e3c_tensor_to_doubles(v, (size_t)n, t);
    for (int64_t i = 0; !st && i < n; i++)
        if (!isfinite(v[i])) {
            char at[128];
            index_text(shape, nd, i, at, sizeof at);
            st =
                e3c_error_set(E3C_ERR_VALUE, "output '%s' at index %s is %s: a golden value must be finite", o->key, at,
                              isnan(v[i]) ? "nan"
                              : v[i] > 0  ? "inf"
                                          : "-inf");
        }
    if (!st && !(*out = nested_list(v, shape, nd)))
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    free(v);
    e3c_tensor_free(t);
    return st;
}

/* The golden options for structure st and result y. */
static e3c_status record_options(const e3c_structured *s, const e3c_structure *st, const e3c_value *y, cJSON **out)
{
    int64_t pshape[2] = {st->n_atoms, 3}, cshape[2] = {3, 3};
    cJSON *g = cJSON_CreateObject(), *sp = cJSON_CreateArray(), *outs = cJSON_CreateObject();
    for (int64_t i = 0; sp && i < st->n_atoms; i++)
        cJSON_AddItemToArray(sp, cJSON_CreateNumber((double)st->species[i]));
    int ok = g && sp && outs && cJSON_AddItemToObject(g, "positions", nested_list(st->positions, pshape, 2));
    if (ok && cJSON_AddItemToObject(g, "species", sp))
        sp = NULL; /* g owns it now */
    else
        ok = 0;
    ok = ok &&
         cJSON_AddItemToObject(g, "cell", st->periodic[0] ? nested_list(st->cells, cshape, 2) : cJSON_CreateNull());
    if (ok && cJSON_AddItemToObject(g, "outputs", outs))
        outs = NULL;
    else
        ok = 0;
    e3c_status status = ok ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (size_t k = 0; !status && k < s->n_outputs; k++) {
        cJSON *v = NULL;
        status = record_output(&s->outputs[k], y, &v);
        if (!status)
            cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(g, "outputs"), s->outputs[k].key, v);
    }
    cJSON_Delete(sp), cJSON_Delete(outs);
    if (status) {
        cJSON_Delete(g);
        return status;
    }
    *out = g;
    return E3C_OK;
}

e3c_status e3c_structured_golden_record(cJSON **out, const e3c_fixture *fx, uint64_t seed)
{
    if (!out || !fx || !fx->structured)
        return e3c_error_set(E3C_ERR_INVALID,
                             "e3c_structured_golden_record: NULL argument or not a structured fixture");
    *out = NULL;
    e3c_structured s_run;
    const e3c_structured *s = &s_run;
    e3c_jit_module *m = NULL;
    e3c_structure *st_ = NULL;
    e3c_value *y = NULL;
    e3c_status st = structured_load(&m, &s_run, fx);
    if (!st && s->n_structures != 1)
        st = e3c_error_set(E3C_ERR_VALUE, "a golden check holds one structure: structure.structures must be 1, not %d",
                           s->n_structures);
    if (!st)
        st = make_structure(s, seed, &st_);
    phys p = {m, s, seed, 0};
    if (!st && (st = phys_run(&p, st_, NULL, NULL, &y)))
        e3c_error_prefix("%s: the model raised", fx->torchscript);
    if (!st)
        st = record_options(s, st_, y, out);
    e3c_value_free(y);
    e3c_structure_free(st_);
    e3c_jit_free(m);
    return st;
}
