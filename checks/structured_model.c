/* A structured model on an atomic structure (checks/ only): the inputs made from a seeded
 * structure by role and transformed by role, one call of the model, its declared outputs
 * and how they transform, the model of a parsed fixture loaded. The floor under the checks
 * of structured models (structured_checks.c, smoothness.c, structured_golden.c), which
 * call it and which it never calls. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "e3check/fixture.h"
#include "e3check/o3.h"
#include "e3check/structured.h"
#include "structured_internal.h"

#define MAX_CALL_ARGS 64

/* ------------------------------------------------------------------ inputs ---- */

int structured_input_present(const e3c_input_spec *in, const e3c_structure *st)
{
    return !in->periodic_only || st->periodic[0];
}

static int is_plain(e3c_role r) { return r == E3C_ROLE_BOOL || r == E3C_ROLE_INT || r == E3C_ROLE_FLOAT; }

static const e3c_structure_field field_of_role[E3C_ROLE_COUNT] = {[E3C_ROLE_POSITIONS] = E3C_FIELD_POSITIONS,
                                                                  [E3C_ROLE_SPECIES] = E3C_FIELD_SPECIES,
                                                                  [E3C_ROLE_SPECIES_COLUMN] = E3C_FIELD_SPECIES,
                                                                  [E3C_ROLE_ONE_HOT] = E3C_FIELD_ONE_HOT,
                                                                  [E3C_ROLE_EDGE_INDEX] = E3C_FIELD_EDGE_INDEX,
                                                                  [E3C_ROLE_EDGE_SRC] = E3C_FIELD_EDGE_SRC,
                                                                  [E3C_ROLE_EDGE_DST] = E3C_FIELD_EDGE_DST,
                                                                  [E3C_ROLE_CELL] = E3C_FIELD_CELL,
                                                                  [E3C_ROLE_CELL_ROWS] = E3C_FIELD_CELL_ROWS,
                                                                  [E3C_ROLE_UNIT_SHIFTS] = E3C_FIELD_UNIT_SHIFTS,
                                                                  [E3C_ROLE_SHIFTS] = E3C_FIELD_SHIFTS,
                                                                  [E3C_ROLE_EDGE_VECTORS] = E3C_FIELD_EDGE_VECTORS,
                                                                  [E3C_ROLE_BATCH] = E3C_FIELD_BATCH,
                                                                  [E3C_ROLE_PTR] = E3C_FIELD_PTR,
                                                                  [E3C_ROLE_ONES] = E3C_FIELD_ONES};

void structured_free_inputs(e3c_tensor **t, size_t n)
{
    for (size_t i = 0; t && i < n; i++)
        e3c_tensor_free(t[i]);
    free(t);
}

/* The untransformed input tensors (float64 for floats, int64 for indices); NULL entries
 * for plain arguments and inputs absent from this structure. */
e3c_status structured_base_inputs(const e3c_structured *s, const e3c_structure *st, e3c_generator *g, e3c_tensor ***out)
{
    e3c_tensor **base = calloc(s->n_inputs ? s->n_inputs : 1, sizeof *base);
    if (!base)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    e3c_status status = E3C_OK;
    for (size_t i = 0; !status && i < s->n_inputs; i++) {
        const e3c_input_spec *in = &s->inputs[i];
        if (!structured_input_present(in, st) || is_plain(in->role))
            continue;
        if (in->role == E3C_ROLE_FEATURES) {
            int64_t size[2] = {st->n_atoms, -1};
            status = e3c_irreps_randn(&base[i], &in->irreps, g, size, 2, E3C_NORM_COMPONENT, E3C_FLOAT64);
            continue;
        }
        e3c_dtype dt = in->dtype == E3C_INT64 || in->dtype == E3C_BOOL ? in->dtype : E3C_FLOAT64;
        status = e3c_structure_tensor(&base[i], st, field_of_role[in->role], dt);
        if (!status && in->role == E3C_ROLE_SPECIES_COLUMN) {
            e3c_tensor *col = NULL;
            int64_t shape[2] = {st->n_atoms, 1};
            status = e3c_tensor_reshape(&col, base[i], shape, 2);
            e3c_tensor_free(base[i]);
            base[i] = col;
        }
    }
    if (status) {
        structured_free_inputs(base, s->n_inputs);
        return status;
    }
    *out = base;
    return E3C_OK;
}

/* x @ D(R)^T for an Irreps (x float64, last dimension its dim). */
static e3c_status apply_irreps(const e3c_irreps *ir, const e3c_tensor *x, const double R[9], e3c_tensor **out)
{
    int64_t d = e3c_irreps_dim(ir);
    if (d == 0)
        return e3c_tensor_ref(out, x);
    double *D = malloc((size_t)(d * d) * sizeof *D);
    if (!D)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    e3c_status st = e3c_irreps_D_from_matrix(D, ir, 1, R);
    if (!st)
        st = check_times_transposed(x, D, d, out);
    free(D);
    return st;
}

/* One input under (R, t): by its role, then in its dtype. R NULL: as it is. */
static e3c_status transform_input(const e3c_structured *s, const e3c_input_spec *in, const e3c_tensor *base,
                                  const double *R, const double *t, e3c_tensor **out)
{
    e3c_tensor *y = NULL;
    e3c_status st = E3C_OK;
    int skip = !R || (s->untransformed & (1u << in->role));
    switch (skip ? E3C_ROLE_COUNT : in->role) {
    case E3C_ROLE_POSITIONS: {
        e3c_tensor *rot = NULL, *tt = NULL;
        int64_t three = 3;
        st = check_times_transposed(base, R, 3, &rot);
        if (!st)
            st = e3c_tensor_from_data(&tt, t, E3C_FLOAT64, &three, 1);
        if (!st)
            st = e3c_tensor_binary(&y, rot, tt, E3C_OP_ADD);
        e3c_tensor_free(rot), e3c_tensor_free(tt);
        break;
    }
    case E3C_ROLE_CELL:
    case E3C_ROLE_CELL_ROWS:
    case E3C_ROLE_SHIFTS:
    case E3C_ROLE_EDGE_VECTORS: st = check_times_transposed(base, R, 3, &y); break;
    case E3C_ROLE_FEATURES: st = apply_irreps(&in->irreps, base, R, &y); break;
    default: st = e3c_tensor_ref(&y, base);
    }
    e3c_dtype have;
    if (!st)
        st = e3c_tensor_dtype(&have, y);
    if (!st && have != in->dtype) {
        e3c_tensor *c = NULL;
        st = e3c_tensor_to(&c, y, in->dtype);
        e3c_tensor_free(y);
        y = c;
    }
    if (st) {
        e3c_tensor_free(y);
        return st;
    }
    *out = y;
    return E3C_OK;
}

/* The arguments of one call, all by name. */
typedef struct call {
    e3c_call_arg args[MAX_CALL_ARGS];
    e3c_value *owned[MAX_CALL_ARGS];
    size_t n;
} call;

static void call_free(call *c)
{
    for (size_t i = 0; i < c->n; i++)
        e3c_value_free(c->owned[i]);
    c->n = 0;
}

static e3c_status plain_value(const e3c_input_spec *in, e3c_value **out)
{
    if (in->role == E3C_ROLE_BOOL)
        return e3c_value_bool(out, in->value != 0);
    if (in->role == E3C_ROLE_INT)
        return e3c_value_int(out, (int64_t)in->value);
    return e3c_value_float(out, in->value);
}

/* Assemble the call from the final tensors (per input; NULL where absent or plain). */
static e3c_status make_call(const e3c_structured *s, const e3c_structure *st, e3c_tensor *const *tensors, call *c)
{
    c->n = 0;
    e3c_status status = E3C_OK;
    for (size_t i = 0; !status && i < s->n_inputs; i++) {
        const e3c_input_spec *in = &s->inputs[i];
        if (!structured_input_present(in, st))
            continue;
        size_t k = 0;
        while (k < c->n && strcmp(c->args[k].name, in->arg))
            k++;
        if (k == c->n) {
            if (c->n == MAX_CALL_ARGS)
                return e3c_error_set(E3C_ERR_VALUE, "more than %d forward arguments", MAX_CALL_ARGS);
            e3c_value *v = NULL;
            status = in->key              ? e3c_value_dict_new(&v)
                     : is_plain(in->role) ? plain_value(in, &v)
                                          : e3c_value_tensor(&v, tensors[i]);
            if (status)
                break;
            c->owned[c->n] = v;
            c->args[c->n].name = in->arg;
            c->args[c->n].value = v;
            c->n++;
        }
        if (in->key)
            status = e3c_value_dict_set(c->owned[k], in->key, tensors[i]);
    }
    if (status)
        call_free(c);
    return status;
}

static e3c_status output_shapes(const e3c_structured *s, const e3c_structure *st, const e3c_value *y);

/* Run the model on the base inputs transformed by (R, t) (R NULL: as they are), with input
 * `cut` (or SIZE_MAX for none) narrowed to `keep` columns. A full call (no cut) must give
 * every declared output its shape (output_shapes); a cut one is judged by the strict-shape
 * step, which wants to know whether the model accepted the narrower input at all. */
e3c_status structured_run_on(e3c_jit_module *m, const e3c_structured *s, const e3c_structure *st,
                             e3c_tensor *const *base, const double *R, const double *t, size_t cut, int64_t keep,
                             e3c_value **out)
{
    e3c_tensor **final = calloc(s->n_inputs ? s->n_inputs : 1, sizeof *final);
    if (!final)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    e3c_status status = E3C_OK;
    for (size_t i = 0; !status && i < s->n_inputs; i++) {
        if (!base[i])
            continue;
        status = transform_input(s, &s->inputs[i], base[i], R, t, &final[i]);
        if (!status && i == cut) {
            e3c_tensor *narrow = NULL;
            status = e3c_tensor_narrow_last(&narrow, final[i], keep);
            e3c_tensor_free(final[i]);
            final[i] = narrow;
        }
    }
    call c = {.n = 0};
    if (!status)
        status = make_call(s, st, final, &c);
    if (!status)
        status = e3c_jit_invoke(out, m, NULL, c.args, c.n, s->grad ? E3C_CALL_GRAD : 0);
    if (!status && cut == SIZE_MAX)
        status = output_shapes(s, st, *out);
    call_free(&c);
    structured_free_inputs(final, s->n_inputs);
    return status;
}

void structured_input_name(const e3c_input_spec *in, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s%s", in->arg, in->key ? "." : "", in->key ? in->key : "");
}

/* ------------------------------------------------------------------ outputs ---- */

/* A declared output holds float32 or float64 numbers: integers, bools, half precision or
 * complex values would be compared after a lossy conversion, so *out is refused (freed). */
static e3c_status floating_output(const e3c_output_spec *o, e3c_tensor **out)
{
    e3c_dtype dt = E3C_INT64;
    if (!e3c_tensor_dtype(&dt, *out) && (dt == E3C_FLOAT32 || dt == E3C_FLOAT64))
        return E3C_OK;
    char what[128];
    e3c_tensor_describe(what, sizeof what, *out);
    e3c_tensor_free(*out);
    *out = NULL;
    return e3c_error_set(E3C_ERR_VALUE, "output '%s' is %s: a declared output must be float32 or float64", o->key,
                         what);
}

/* Output `o` of a result: *out a new reference, or NULL with *absent = 1 when it is None or
 * empty (an error unless declared optional). */
e3c_status structured_output(const e3c_value *res, const e3c_output_spec *o, e3c_tensor **out, int *absent)
{
    *out = NULL;
    *absent = 0;
    e3c_status st = E3C_OK;
    e3c_value_kind kind = e3c_value_kind_of(res);
    if (kind == E3C_VALUE_DICT) {
        st = e3c_value_dict_get(out, res, o->key);
        if (st == E3C_ERR_NOT_FOUND && o->optional) { /* e.g. NequIP's virial without a cell */
            *absent = 1;
            return E3C_OK;
        }
        if (st == E3C_ERR_NOT_FOUND) {
            e3c_strings keys = {0, NULL};
            char list[1024] = "";
            if (!e3c_value_dict_keys(&keys, res))
                for (size_t i = 0; i < keys.count; i++)
                    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", keys.items[i]);
            e3c_strings_free(&keys);
            return e3c_error_set(E3C_ERR_VALUE, "output '%s' is not among the model's outputs (%s)", o->key, list);
        }
    } else if (kind == E3C_VALUE_LIST || kind == E3C_VALUE_TENSOR) {
        char *end = NULL;
        long idx = strtol(o->key, &end, 10);
        if (!*o->key || *end || idx < 0)
            return e3c_error_set(
                E3C_ERR_VALUE, "output '%s': the model returns a %s, so outputs are named by index (\"0\", \"1\", ...)",
                o->key, kind == E3C_VALUE_LIST ? "tuple" : "tensor");
        if (kind == E3C_VALUE_TENSOR) {
            st = idx == 0 ? e3c_value_get_tensor(out, res)
                          : e3c_error_set(E3C_ERR_VALUE, "output %ld: the model returns one tensor", idx);
        } else {
            e3c_value *item = NULL;
            st = e3c_value_item(&item, res, (size_t)idx);
            if (!st && e3c_value_kind_of(item) != E3C_VALUE_NONE)
                st = e3c_value_get_tensor(out, item);
            e3c_value_free(item);
        }
    } else {
        char *type = NULL;
        e3c_value_type_name(&type, res);
        st =
            e3c_error_set(E3C_ERR_VALUE, "the model returned %s, not a dict, tuple or tensor", type ? type : "a value");
        free(type);
    }
    if (st)
        return st;
    if (!*out || e3c_tensor_numel(*out) == 0) {
        e3c_tensor_free(*out);
        *out = NULL;
        *absent = 1;
        if (!o->optional)
            return e3c_error_set(E3C_ERR_VALUE, "output '%s' is %s but not declared optional", o->key,
                                 e3c_value_kind_of(res) == E3C_VALUE_DICT ? "None or empty" : "None or empty");
        return E3C_OK;
    }
    return floating_output(o, out);
}

/* The rows output o has on structure st: its atoms, edges or structures. */
static int64_t output_rows(const e3c_output_spec *o, const e3c_structure *st)
{
    return o->per == E3C_PER_ATOM ? st->n_atoms : o->per == E3C_PER_EDGE ? st->n_edges : st->n_structures;
}

/* Whether tensor t has the shape output o has on structure st: L rows (output_rows) of the
 * irreps' width W ([L, W], or [L] when W is 1) or of 3x3 (cartesian2: [L, 3, 3]); a
 * per-structure output of one structure may leave L out. */
static int output_shape_ok(const e3c_output_spec *o, const e3c_structure *st, const e3c_tensor *t)
{
    int64_t rows = output_rows(o, st);
    int nd = e3c_tensor_ndim(t), lead = nd > 0 && e3c_tensor_size(t, 0) == rows;
    int single = o->per == E3C_PER_STRUCTURE && rows == 1; /* the leading 1 may be left out */
    if (o->kind == E3C_OUTPUT_CARTESIAN2) {
        int square = nd >= 2 && e3c_tensor_size(t, -1) == 3 && e3c_tensor_size(t, -2) == 3;
        return square && ((nd == 3 && lead) || (nd == 2 && single));
    }
    int64_t width = e3c_irreps_dim(&o->irreps);
    int wide = nd >= 1 && e3c_tensor_size(t, -1) == width;
    if ((nd == 2 && lead && wide) || (width == 1 && nd == 1 && lead))
        return 1;
    return single && ((nd == 1 && wide) || (width == 1 && nd == 0));
}

/* Every declared output present in y has its shape on st (output_shape_ok); a missing or
 * non-float one is left to the checks that read it, which name it. */
static e3c_status output_shapes(const e3c_structured *s, const e3c_structure *st, const e3c_value *y)
{
    for (size_t k = 0; k < s->n_outputs; k++) {
        const e3c_output_spec *o = &s->outputs[k];
        e3c_tensor *t = NULL;
        int absent = 0;
        if (structured_output(y, o, &t, &absent) || absent)
            continue;
        int ok = output_shape_ok(o, st, t);
        char got[128], want[64];
        e3c_tensor_describe(got, sizeof got, t);
        e3c_tensor_free(t);
        if (ok)
            continue;
        int64_t rows = output_rows(o, st);
        const char *per = o->per == E3C_PER_ATOM ? "atom" : o->per == E3C_PER_EDGE ? "edge" : "structure";
        if (o->kind == E3C_OUTPUT_CARTESIAN2)
            snprintf(want, sizeof want, "[%lld, 3, 3]", (long long)rows);
        else
            snprintf(want, sizeof want, "[%lld, %lld]", (long long)rows, (long long)e3c_irreps_dim(&o->irreps));
        return e3c_error_set(E3C_ERR_VALUE, "output '%s' is %s, not %s (per %s, %lld %s%s)", o->key, got, want, per,
                             (long long)rows, per, rows == 1 ? "" : "s");
    }
    return E3C_OK;
}

/* The largest |a - b| of two outputs of the same shape; INFINITY when either holds a NaN or
 * an infinity, even the same one in both: a value that is not finite never matches. */
e3c_status structured_max_diff(double *err, const e3c_tensor *a, const e3c_tensor *b)
{
    int found_a = 0, found_b = 0;
    int64_t at = 0;
    double v = 0;
    e3c_status st = e3c_tensor_max_abs_diff(err, a, b);
    if (!st)
        st = tensor_first_nonfinite(a, &found_a, &at, &v);
    if (!st)
        st = tensor_first_nonfinite(b, &found_b, &at, &v);
    if (!st && (found_a || found_b || isnan(*err)))
        *err = INFINITY;
    return st;
}

/* The expected output under R: irreps by D(R) on the last dimension, cartesian2 R S R^T.
 * y is converted to float64. */
e3c_status structured_transform_output(const e3c_output_spec *o, const e3c_tensor *y, const double R[9],
                                       e3c_tensor **out)
{
    e3c_tensor *y64 = NULL;
    e3c_status st = e3c_tensor_to(&y64, y, E3C_FLOAT64);
    if (st)
        return st;
    if (o->kind == E3C_OUTPUT_IRREPS) {
        int64_t want = e3c_irreps_dim(&o->irreps), got = e3c_tensor_ndim(y64) ? e3c_tensor_size(y64, -1) : 1;
        if (e3c_tensor_ndim(y64) <= 1 && want == 1) {
            /* one scalar per entry ([N] node energies, [B] energies, a 0-d value) */
            e3c_tensor *col = NULL, *rot = NULL;
            int64_t n = e3c_tensor_numel(y64), shape[2] = {n, 1};
            st = e3c_tensor_reshape(&col, y64, shape, 2);
            if (!st)
                st = apply_irreps(&o->irreps, col, R, &rot);
            if (!st) /* back to y's own shape: [n], or [] for a 0-d value */
                st = e3c_tensor_reshape(out, rot, &n, e3c_tensor_ndim(y64));
            e3c_tensor_free(col), e3c_tensor_free(rot);
        } else if (got != want) {
            char *text = NULL;
            e3c_irreps_format(&text, &o->irreps);
            st = e3c_error_set(E3C_ERR_VALUE,
                               "output '%s' has width %lld but its declared irreps %s have dimension %lld", o->key,
                               (long long)got, text ? text : "?", (long long)want);
            free(text);
        } else {
            st = apply_irreps(&o->irreps, y64, R, out);
        }
    } else {
        if (e3c_tensor_ndim(y64) < 2 || e3c_tensor_size(y64, -1) != 3 || e3c_tensor_size(y64, -2) != 3) {
            char shape[128];
            e3c_tensor_describe(shape, sizeof shape, y64);
            st = e3c_error_set(E3C_ERR_VALUE, "output '%s' is %s, not [..., 3, 3] as a cartesian2 output", o->key,
                               shape);
        } else {
            e3c_tensor *Rt = NULL, *left = NULL;
            int64_t shape[2] = {3, 3};
            st = e3c_tensor_from_data(&Rt, R, E3C_FLOAT64, shape, 2);
            if (!st)
                st = e3c_tensor_matmul(&left, Rt, y64);
            if (!st)
                st = check_times_transposed(left, R, 3, out);
            e3c_tensor_free(Rt), e3c_tensor_free(left);
        }
    }
    e3c_tensor_free(y64);
    return st;
}

/* ------------------------------------------------------------------ the structure -- */

/* The seeded structure, or a batch of n_structures (seeds seed, seed + 1, ...). */
e3c_status make_structure(const e3c_structured *s, uint64_t seed, e3c_structure **out)
{
    e3c_structure_options o = s->structure;
    e3c_structure *parts[64] = {NULL};
    int n = s->n_structures > 1 && s->n_structures <= 64 ? s->n_structures : 1;
    e3c_status st = E3C_OK;
    for (int k = 0; !st && k < n; k++) {
        o.seed = seed + (uint64_t)k;
        st = e3c_structure_generate(&parts[k], &o);
    }
    if (!st && n > 1)
        st = e3c_structure_batch(out, (const e3c_structure *const *)parts, (size_t)n);
    else if (!st)
        *out = parts[0], parts[0] = NULL;
    for (int k = 0; k < n; k++)
        e3c_structure_free(parts[k]);
    if (!st && (*out)->n_edges == 0)
        st = e3c_error_set(E3C_ERR_VALUE,
                           "the structure has no edges within r_max %g: raise structure.atoms or lower "
                           "structure.volume_per_atom",
                           o.r_max);
    if (st) {
        e3c_structure_free(*out);
        *out = NULL;
    }
    return st;
}

void structure_details(const e3c_structured *s, const e3c_structure *st, cJSON *details)
{
    cJSON *j = cJSON_AddObjectToObject(details, "structure");
    cJSON_AddNumberToObject(j, "atoms", (double)st->n_atoms);
    cJSON_AddNumberToObject(j, "structures", (double)st->n_structures);
    cJSON_AddNumberToObject(j, "edges", (double)st->n_edges);
    cJSON_AddNumberToObject(j, "species", st->n_species);
    cJSON_AddBoolToObject(j, "periodic", st->periodic[0]);
    cJSON_AddNumberToObject(j, "r_max", st->r_max);
    cJSON_AddStringToObject(details, "input_dtype", e3c_dtype_name(s->input_dtype));
    cJSON_AddStringToObject(details, "model_dtype", e3c_dtype_name(s->model_dtype));
}

e3c_status structured_begin(const char *check, e3c_jit_module *m, const e3c_structured *s, uint64_t seed,
                            e3c_check_result *out, double *start)
{
    if (!m || !s || !out)
        return e3c_error_set(E3C_ERR_INVALID, "%s: NULL argument", check);
    memset(out, 0, sizeof *out);
    *start = now_s();
    out->seed = seed;
    out->details = cJSON_CreateObject();
    return out->details ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "%s: out of memory", check);
}

/* Run the model on structure `st` transformed by (R, t) (R NULL: as it is); per-atom
 * features from the seed (the same on every call). */
e3c_status phys_run(phys *p, const e3c_structure *st, const double *R, const double *t, e3c_value **out)
{
    e3c_generator *g = NULL;
    e3c_tensor **base = NULL;
    e3c_status status = e3c_generator_new(&g, p->seed);
    if (!status)
        status = structured_base_inputs(p->s, st, g, &base);
    if (!status) {
        p->calls++;
        status = structured_run_on(p->m, p->s, st, base, R, t, SIZE_MAX, 0, out);
    }
    structured_free_inputs(base, base ? p->s->n_inputs : 0);
    e3c_generator_free(g);
    return status;
}

/* The index of the declared output that is the energy (per structure, one scalar) or the
 * forces (per atom, 1o), or -1. */
int energy_output(const e3c_structured *s)
{
    for (size_t k = 0; k < s->n_outputs; k++)
        if (s->outputs[k].per == E3C_PER_STRUCTURE && s->outputs[k].kind == E3C_OUTPUT_IRREPS &&
            e3c_irreps_dim(&s->outputs[k].irreps) == 1)
            return (int)k;
    return -1;
}

int forces_output(const e3c_structured *s)
{
    for (size_t k = 0; k < s->n_outputs; k++) {
        char *text = NULL;
        int yes = s->outputs[k].per == E3C_PER_ATOM && s->outputs[k].kind == E3C_OUTPUT_IRREPS &&
                  !e3c_irreps_format(&text, &s->outputs[k].irreps) && text &&
                  (!strcmp(text, "1x1o") || !strcmp(text, "1o"));
        free(text);
        if (yes)
            return (int)k;
    }
    return -1;
}

/* Output k of y as float64 numbers: *vals (caller frees) and *n; *vals NULL when absent. */
e3c_status output_numbers(const e3c_structured *s, const e3c_value *y, int k, double **vals, int64_t *n)
{
    e3c_tensor *t = NULL;
    int absent = 0;
    *vals = NULL, *n = 0;
    e3c_status st = structured_output(y, &s->outputs[k], &t, &absent);
    if (st || absent)
        return st;
    *n = e3c_tensor_numel(t);
    *vals = malloc((size_t)(*n ? *n : 1) * sizeof **vals);
    st = *vals ? e3c_tensor_to_doubles(*vals, (size_t)*n, t) : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    e3c_tensor_free(t);
    return st;
}

/* ------------------------------------------------------------------ shared ---- */

e3c_status structured_load(e3c_jit_module **m, e3c_structured *s_run, const e3c_fixture *fx)
{
    *m = NULL;
    *s_run = *fx->structured; /* resolve fills only its scalars: a shallow copy keeps fx as parsed */
    e3c_status st = e3c_jit_load(m, fx->torchscript);
    if (!st)
        st = e3c_structured_resolve(s_run, *m);
    if (!st && s_run->jit_settings)
        st = e3c_structured_apply_jit_settings(*m);
    if (st) {
        e3c_jit_free(*m);
        *m = NULL;
    }
    return st;
}
