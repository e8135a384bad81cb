/* Deployed-potential support: calling any TorchScript signature (values.h), atomic
 * structures and neighbour lists (atoms.h), and the project's own test potentials
 * (tools/gen_potentials.c, committed under fixtures/potentials/). */
#include "test_util.h"

#include <sys/wait.h>

#include "e3check/atoms.h"
#include "e3check/torch.h"
#include "e3check/values.h"

static const char *potential(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/fixtures/potentials/%s", E3C_SOURCE_DIR, name);
    return buf;
}

static e3c_structure *make_structure(int periodic, int64_t n, uint64_t seed)
{
    e3c_structure_options o = E3C_STRUCTURE_OPTIONS_INIT;
    o.n_atoms = n;
    o.periodic = periodic;
    o.seed = seed;
    e3c_structure *s = NULL;
    E3C_ASSERT_OK(e3c_structure_generate(&s, &o));
    return s;
}

static void dict_put(e3c_value *d, const char *key, const e3c_structure *s, e3c_structure_field f, e3c_dtype dt)
{
    e3c_tensor *t = NULL;
    E3C_ASSERT_OK(e3c_structure_tensor(&t, s, f, dt));
    E3C_ASSERT_OK(e3c_value_dict_set(d, key, t));
    e3c_tensor_free(t);
}

/* NequIP's input dict for s (cell and edge_cell_shift only when periodic). */
static e3c_value *nequip_data(const e3c_structure *s)
{
    e3c_value *d = NULL;
    E3C_ASSERT_OK(e3c_value_dict_new(&d));
    dict_put(d, "pos", s, E3C_FIELD_POSITIONS, E3C_FLOAT64);
    dict_put(d, "edge_index", s, E3C_FIELD_EDGE_INDEX, E3C_INT64);
    dict_put(d, "atom_types", s, E3C_FIELD_SPECIES, E3C_INT64);
    if (s->periodic[0]) {
        dict_put(d, "cell", s, E3C_FIELD_CELL, E3C_FLOAT64);
        dict_put(d, "edge_cell_shift", s, E3C_FIELD_UNIT_SHIFTS, E3C_FLOAT64);
    }
    return d;
}

static e3c_value *mace_data(const e3c_structure *s)
{
    e3c_value *d = NULL;
    E3C_ASSERT_OK(e3c_value_dict_new(&d));
    dict_put(d, "positions", s, E3C_FIELD_POSITIONS, E3C_FLOAT64);
    dict_put(d, "node_attrs", s, E3C_FIELD_ONE_HOT, E3C_FLOAT64);
    dict_put(d, "edge_index", s, E3C_FIELD_EDGE_INDEX, E3C_INT64);
    dict_put(d, "shifts", s, E3C_FIELD_SHIFTS, E3C_FLOAT64);
    dict_put(d, "unit_shifts", s, E3C_FIELD_UNIT_SHIFTS, E3C_FLOAT64);
    dict_put(d, "cell", s, E3C_FIELD_CELL_ROWS, E3C_FLOAT64);
    dict_put(d, "batch", s, E3C_FIELD_BATCH, E3C_INT64);
    dict_put(d, "ptr", s, E3C_FIELD_PTR, E3C_INT64);
    return d;
}

static double scalar_of(const e3c_value *out, const char *key)
{
    e3c_tensor *t = NULL;
    double v = NAN;
    E3C_ASSERT_OK(e3c_value_dict_get(&t, out, key));
    cr_assert_not_null(t, "%s is None", key);
    E3C_ASSERT_OK(e3c_tensor_to_doubles(&v, 1, t));
    e3c_tensor_free(t);
    return v;
}

/* ------------------------------------------------------------------ the shim ---- */

Test(values, dict_in_dict_out_with_autograd_forces)
{
    e3c_jit_module *m = NULL;
    E3C_ASSERT_OK(e3c_jit_load(&m, potential("nequip_f64.pth")));
    e3c_structure *s = make_structure(1, 6, 1);
    e3c_value *data = nequip_data(s), *out = NULL;
    e3c_call_arg arg = {NULL, data};
    E3C_ASSERT_OK(e3c_jit_invoke(&out, m, NULL, &arg, 1, E3C_CALL_GRAD));
    cr_assert_eq(e3c_value_kind_of(out), E3C_VALUE_DICT);
    e3c_tensor *f = NULL, *e = NULL;
    E3C_ASSERT_OK(e3c_value_dict_get(&f, out, "forces"));
    E3C_ASSERT_OK(e3c_value_dict_get(&e, out, "total_energy"));
    cr_assert_eq(e3c_tensor_size(f, 0), 6);
    cr_assert_eq(e3c_tensor_size(f, 1), 3);
    cr_assert_eq(e3c_tensor_ndim(e), 2);
    double energy = scalar_of(out, "total_energy");
    cr_assert(isfinite(energy) && energy != 0.0);
    /* the forces sum to zero (translation invariance of a correct potential) */
    double fv[18], sum[3] = {0, 0, 0};
    E3C_ASSERT_OK(e3c_tensor_to_doubles(fv, 18, f));
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 3; k++)
            sum[k] += fv[3 * i + k];
    for (int k = 0; k < 3; k++)
        cr_assert(fabs(sum[k]) < 1e-10, "net force %g", sum[k]);
    /* the caller's positions were not made to require grad */
    e3c_tensor_free(f), e3c_tensor_free(e);
    e3c_value_free(out);
    e3c_value_free(data);
    e3c_structure_free(s);
    e3c_jit_free(m);
}

Test(values, no_grad_run_fails_as_real_potentials_do)
{
    e3c_jit_module *m = NULL;
    E3C_ASSERT_OK(e3c_jit_load(&m, potential("nequip_f64.pth")));
    e3c_structure *s = make_structure(0, 5, 2);
    e3c_value *data = nequip_data(s), *out = NULL;
    e3c_call_arg arg = {NULL, data};
    E3C_ASSERT_FAILS(e3c_jit_invoke(&out, m, NULL, &arg, 1, 0), E3C_ERR_TORCH, "does not require grad");
    cr_assert_null(out);
    e3c_value_free(data);
    e3c_structure_free(s);
    e3c_jit_free(m);
}

Test(values, schema_mismatches_are_found_before_running)
{
    e3c_jit_module *m = NULL;
    E3C_ASSERT_OK(e3c_jit_load(&m, potential("mace_f64.model")));
    e3c_schema sc;
    E3C_ASSERT_OK(e3c_jit_schema(&sc, m, NULL));
    cr_assert_eq(sc.n_args, 7);
    cr_assert_str_eq(sc.args[0].name, "data");
    cr_assert_str_eq(sc.args[0].type, "Dict[str, Tensor]");
    cr_assert_null(sc.args[0].default_value);
    cr_assert_str_eq(sc.args[2].name, "compute_force");
    cr_assert_str_eq(sc.args[2].default_value, "True");
    cr_assert_str_eq(sc.returns, "Dict[str, Optional[Tensor]]");
    e3c_schema_free(&sc);
    e3c_schema_free(&sc); /* reset: freeing again is harmless */

    e3c_tensor *t = NULL;
    int64_t shape[2] = {2, 3};
    E3C_ASSERT_OK(e3c_tensor_zeros(&t, E3C_FLOAT64, shape, 2));
    e3c_value *tv = NULL, *b = NULL, *out = NULL, *d = NULL;
    E3C_ASSERT_OK(e3c_value_tensor(&tv, t));
    E3C_ASSERT_OK(e3c_value_bool(&b, 1));
    E3C_ASSERT_OK(e3c_value_dict_new(&d));
    e3c_call_arg wrong_type = {NULL, tv};
    E3C_ASSERT_FAILS(e3c_jit_invoke(&out, m, NULL, &wrong_type, 1, E3C_CALL_GRAD), E3C_ERR_VALUE,
                     "argument 'data' must be Dict[str, Tensor], not Tensor");
    e3c_call_arg none[1];
    E3C_ASSERT_FAILS(e3c_jit_invoke(&out, m, NULL, none, 0, E3C_CALL_GRAD), E3C_ERR_VALUE, "missing argument 'data'");
    e3c_call_arg unknown[2] = {{NULL, d}, {"compute_forces", b}};
    E3C_ASSERT_FAILS(e3c_jit_invoke(&out, m, NULL, unknown, 2, E3C_CALL_GRAD), E3C_ERR_VALUE,
                     "no argument named 'compute_forces'");
    e3c_call_arg bool_as_tensor[2] = {{NULL, d}, {"compute_stress", tv}};
    E3C_ASSERT_FAILS(e3c_jit_invoke(&out, m, NULL, bool_as_tensor, 2, E3C_CALL_GRAD), E3C_ERR_VALUE,
                     "argument 'compute_stress' must be bool, not Tensor");
    e3c_call_arg too_many[8] = {{NULL, d}, {NULL, b}, {NULL, b}, {NULL, b}, {NULL, b}, {NULL, b}, {NULL, b}, {NULL, b}};
    E3C_ASSERT_FAILS(e3c_jit_invoke(&out, m, NULL, too_many, 8, E3C_CALL_GRAD), E3C_ERR_VALUE,
                     "takes 7 arguments but 8 were given");
    /* a model error (a missing key) is a torch error, not a crash */
    E3C_ASSERT_FAILS(e3c_jit_invoke(&out, m, NULL, unknown, 1, E3C_CALL_GRAD), E3C_ERR_TORCH, "positions");
    cr_assert_null(out);
    e3c_value_free(tv), e3c_value_free(b), e3c_value_free(d);
    e3c_tensor_free(t);
    e3c_jit_free(m);
}

Test(values, optional_outputs_are_none_unless_asked)
{
    e3c_jit_module *m = NULL;
    E3C_ASSERT_OK(e3c_jit_load(&m, potential("mace_f64.model")));
    e3c_structure *s = make_structure(1, 6, 3);
    e3c_value *data = mace_data(s), *yes = NULL, *out = NULL;
    E3C_ASSERT_OK(e3c_value_bool(&yes, 1));
    e3c_call_arg plain = {NULL, data};
    E3C_ASSERT_OK(e3c_jit_invoke(&out, m, NULL, &plain, 1, E3C_CALL_GRAD));
    e3c_tensor *stress = NULL, *forces = NULL;
    E3C_ASSERT_OK(e3c_value_dict_get(&stress, out, "stress"));
    cr_assert_null(stress, "stress is None unless asked for");
    E3C_ASSERT_OK(e3c_value_dict_get(&forces, out, "forces"));
    cr_assert_not_null(forces);
    E3C_ASSERT_FAILS(e3c_value_dict_get(&stress, out, "no_such_key"), E3C_ERR_NOT_FOUND, "no_such_key");
    double e_plain = scalar_of(out, "energy");
    e3c_value_free(out);
    e3c_call_arg asked[2] = {{NULL, data}, {"compute_stress", yes}};
    E3C_ASSERT_OK(e3c_jit_invoke(&out, m, NULL, asked, 2, E3C_CALL_GRAD));
    E3C_ASSERT_OK(e3c_value_dict_get(&stress, out, "stress"));
    cr_assert_not_null(stress);
    cr_assert_eq(e3c_tensor_size(stress, 0), 1);
    cr_assert_eq(e3c_tensor_size(stress, 2), 3);
    /* the strained path (shifts from unit_shifts @ cell) gives the same energy */
    cr_assert(fabs(scalar_of(out, "energy") - e_plain) < 1e-12);
    e3c_strings keys = {0};
    E3C_ASSERT_OK(e3c_value_dict_keys(&keys, out));
    cr_assert(keys.count >= 8);
    e3c_strings_free(&keys);
    e3c_tensor_free(stress), e3c_tensor_free(forces);
    e3c_value_free(out), e3c_value_free(data), e3c_value_free(yes);
    e3c_structure_free(s);
    e3c_jit_free(m);
}

Test(values, an_int_is_accepted_for_a_float_argument)
{
    e3c_jit_module *m = NULL;
    E3C_ASSERT_OK(e3c_jit_new(&m, "Scaled"));
    E3C_ASSERT_OK(e3c_jit_define(m, "def forward(self, x: Tensor, s: float = 1.5, n: int = 2) -> Tensor:\n"
                                    "    return x * s * float(n)\n"));
    e3c_tensor *t = NULL;
    int64_t one = 1;
    double v = 2.0, got = 0;
    E3C_ASSERT_OK(e3c_tensor_from_data(&t, &v, E3C_FLOAT64, &one, 1));
    e3c_value *x = NULL, *three = NULL, *half = NULL, *out = NULL;
    E3C_ASSERT_OK(e3c_value_tensor(&x, t));
    E3C_ASSERT_OK(e3c_value_int(&three, 3));
    E3C_ASSERT_OK(e3c_value_float(&half, 0.5));
    e3c_call_arg defaults = {NULL, x};
    E3C_ASSERT_OK(e3c_jit_invoke(&out, m, NULL, &defaults, 1, 0));
    e3c_tensor *y = NULL;
    E3C_ASSERT_OK(e3c_value_get_tensor(&y, out));
    E3C_ASSERT_OK(e3c_tensor_to_doubles(&got, 1, y));
    cr_assert_float_eq(got, 6.0, 1e-12);
    e3c_tensor_free(y), e3c_value_free(out);
    e3c_call_arg named[2] = {{NULL, x}, {"s", three}};
    E3C_ASSERT_OK(e3c_jit_invoke(&out, m, NULL, named, 2, 0));
    E3C_ASSERT_OK(e3c_value_get_tensor(&y, out));
    E3C_ASSERT_OK(e3c_tensor_to_doubles(&got, 1, y));
    cr_assert_float_eq(got, 12.0, 1e-12);
    e3c_tensor_free(y), e3c_value_free(out);
    e3c_call_arg float_for_int[2] = {{NULL, x}, {"n", half}};
    E3C_ASSERT_FAILS(e3c_jit_invoke(&out, m, NULL, float_for_int, 2, 0), E3C_ERR_VALUE,
                     "argument 'n' must be int, not float");
    e3c_value_free(x), e3c_value_free(three), e3c_value_free(half);
    e3c_tensor_free(t);
    e3c_jit_free(m);
}

Test(values, scalars_and_lists)
{
    e3c_value *v = NULL, *item = NULL;
    double x = 0;
    E3C_ASSERT_OK(e3c_value_int(&v, 7));
    E3C_ASSERT_OK(e3c_value_get_number(&x, v));
    cr_assert_eq(x, 7.0);
    cr_assert_eq(e3c_value_kind_of(v), E3C_VALUE_INT);
    cr_assert_eq(e3c_value_length(v), 0);
    E3C_ASSERT_FAILS(e3c_value_item(&item, v, 0), E3C_ERR_VALUE, "no element 0");
    e3c_tensor *t = NULL;
    E3C_ASSERT_FAILS(e3c_value_get_tensor(&t, v), E3C_ERR_VALUE, "not a tensor");
    E3C_ASSERT_FAILS(e3c_value_dict_set(v, "k", t ? t : (e3c_tensor *)v), E3C_ERR_VALUE, "not a dict");
    e3c_value_free(v);
    E3C_ASSERT_OK(e3c_value_float(&v, 2.5));
    E3C_ASSERT_OK(e3c_value_get_number(&x, v));
    cr_assert_eq(x, 2.5);
    e3c_value_free(v);
    E3C_ASSERT_OK(e3c_value_none(&v));
    cr_assert_eq(e3c_value_kind_of(v), E3C_VALUE_NONE);
    e3c_value_free(v);
    e3c_value_free(NULL);
}

Test(values, extra_files_round_trip_as_metadata)
{
    e3c_jit_module *m = NULL;
    E3C_ASSERT_OK(e3c_jit_load(&m, potential("nequip_f32.pth")));
    char *text = NULL;
    size_t len = 0;
    E3C_ASSERT_OK(e3c_jit_extra_file(&text, &len, m, "model_dtype"));
    cr_assert_str_eq(text, "float32");
    free(text);
    E3C_ASSERT_OK(e3c_jit_extra_file(&text, &len, m, "r_max"));
    cr_assert_str_eq(text, "4.0");
    free(text);
    E3C_ASSERT_OK(e3c_jit_set_extra_file(m, "note", "abc", 3));
    E3C_ASSERT_OK(e3c_jit_extra_file(&text, &len, m, "note"));
    cr_assert_eq(len, 3);
    free(text);
    e3c_jit_free(m);
}

/* ------------------------------------------------------------------ structures ---- */

static int64_t count_edges_of(const e3c_structure *s, int64_t i)
{
    int64_t c = 0;
    for (int64_t e = 0; e < s->n_edges; e++)
        c += s->edge_index[e] == i;
    return c;
}

Test(atoms, simple_cubic_lattice_has_closed_form_neighbour_counts)
{
    /* one atom in a cubic cell of side 1: 6 neighbours within 1.1, 18 within 1.5 (6 + 12
     * face diagonals), 26 within 1.8 (+ 8 body diagonals) */
    double pos[3] = {0.1, 0.2, 0.3}, cell[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    int64_t species = 0;
    const double r[3] = {1.1, 1.5, 1.8};
    const int64_t want[3] = {6, 18, 26};
    for (int k = 0; k < 3; k++) {
        e3c_structure *s = NULL;
        E3C_ASSERT_OK(e3c_structure_from_data(&s, 1, pos, &species, 1, cell, r[k]));
        cr_assert_eq(s->n_edges, want[k], "r_max %g: %lld edges", r[k], (long long)s->n_edges);
        e3c_structure_free(s);
    }
    /* a 2x2x2 supercell of 8 atoms: still 6 nearest neighbours each */
    double p8[24], c8[9] = {2, 0, 0, 0, 2, 0, 0, 0, 2};
    int64_t sp8[8] = {0};
    for (int i = 0; i < 8; i++)
        p8[3 * i] = i & 1, p8[3 * i + 1] = (i >> 1) & 1, p8[3 * i + 2] = (i >> 2) & 1;
    e3c_structure *s = NULL;
    E3C_ASSERT_OK(e3c_structure_from_data(&s, 8, p8, sp8, 1, c8, 1.1));
    for (int64_t i = 0; i < 8; i++)
        cr_assert_eq(count_edges_of(s, i), 6);
    e3c_structure_free(s);
    /* without a cell, a lone pair at distance 1 */
    double p2[6] = {0, 0, 0, 1, 0, 0};
    int64_t sp2[2] = {0, 0};
    E3C_ASSERT_OK(e3c_structure_from_data(&s, 2, p2, sp2, 1, NULL, 1.1));
    cr_assert_eq(s->n_edges, 2);
    e3c_structure_free(s);
}

/* Every pair closer than r_max, found by brute force over a wide range of images, is in
 * the list exactly once, and nothing else is; the list is symmetric. */
static void check_against_brute_force(const e3c_structure *s)
{
    int64_t found = 0;
    for (int64_t i = 0; i < s->n_atoms; i++)
        for (int a = -6; a <= 6; a++)
            for (int b = -6; b <= 6; b++)
                for (int c = -6; c <= 6; c++) {
                    if (!s->periodic[0] && (a || b || c))
                        continue;
                    for (int64_t j = 0; j < s->n_atoms; j++) {
                        if (i == j && !a && !b && !c)
                            continue;
                        double d2 = 0;
                        for (int k = 0; k < 3; k++) {
                            double d = s->positions[3 * j + k] - s->positions[3 * i + k] + a * s->cells[k] +
                                       b * s->cells[3 + k] + c * s->cells[6 + k];
                            d2 += d * d;
                        }
                        if (d2 >= s->r_max * s->r_max)
                            continue;
                        found++;
                        int hits = 0, mirror = 0;
                        for (int64_t e = 0; e < s->n_edges; e++) {
                            const int64_t *u = s->unit_shifts + 3 * e;
                            if (s->edge_index[e] == i && s->edge_index[s->n_edges + e] == j && u[0] == a && u[1] == b &&
                                u[2] == c)
                                hits++;
                            if (s->edge_index[e] == j && s->edge_index[s->n_edges + e] == i && u[0] == -a &&
                                u[1] == -b && u[2] == -c)
                                mirror++;
                        }
                        cr_assert_eq(hits, 1, "pair %lld-%lld image (%d,%d,%d) found %d times", (long long)i,
                                     (long long)j, a, b, c, hits);
                        cr_assert_eq(mirror, 1, "the reverse of %lld-%lld is missing", (long long)i, (long long)j);
                    }
                }
    cr_assert_eq(found, s->n_edges, "brute force %lld pairs, list %lld", (long long)found, (long long)s->n_edges);
}

Test(atoms, generated_structures_match_brute_force)
{
    for (uint64_t seed = 0; seed < 4; seed++)
        for (int periodic = 0; periodic < 2; periodic++) {
            e3c_structure *s = make_structure(periodic, 7, seed);
            cr_assert(s->n_edges > 0);
            check_against_brute_force(s);
            /* minimum separation, counting images */
            for (int64_t e = 0; e < s->n_edges; e++) {
                double d2 = 0;
                for (int k = 0; k < 3; k++) {
                    int64_t i = s->edge_index[e], j = s->edge_index[s->n_edges + e];
                    double d = s->positions[3 * j + k] - s->positions[3 * i + k] + s->shifts[3 * e + k];
                    d2 += d * d;
                }
                cr_assert(d2 >= 1.0 - 1e-12, "atoms %g apart", sqrt(d2));
            }
            e3c_structure_free(s);
        }
}

/* Atoms outside the cell (an unwrapped MD frame, a hand-written fixture) have the same
 * neighbours as inside: offsets by whole lattice vectors only change the image offsets;
 * also in a left-handed cell. */
Test(atoms, atoms_outside_the_cell_keep_every_neighbour)
{
    static const int moves[4][3] = {{2, 0, 0}, {0, -2, 1}, {-1, 2, -1}, {0, 0, 2}}; /* within brute force's images */
    for (uint64_t seed = 0; seed < 3; seed++)
        for (int left = 0; left < 2; left++) {
            e3c_structure *in = make_structure(1, 7, seed), *out = NULL;
            if (left) /* two lattice vectors swapped: the same lattice, a negative determinant */
                for (int k = 0; k < 3; k++) {
                    double t = in->cells[k];
                    in->cells[k] = in->cells[3 + k], in->cells[3 + k] = t;
                }
            E3C_ASSERT_OK(e3c_structure_neighbours(in, in->r_max));
            double pos[21];
            memcpy(pos, in->positions, sizeof pos);
            for (int a = 0; a < 4; a++)
                for (int k = 0; k < 3; k++)
                    for (int v = 0; v < 3; v++)
                        pos[3 * a + k] += moves[a][v] * in->cells[3 * v + k];
            E3C_ASSERT_OK(e3c_structure_from_data(&out, 7, pos, in->species, 2, in->cells, in->r_max));
            cr_assert_eq(out->n_edges, in->n_edges, "seed %llu: %lld edges outside the cell, %lld inside",
                         (unsigned long long)seed, (long long)out->n_edges, (long long)in->n_edges);
            check_against_brute_force(out);
            e3c_structure_free(in), e3c_structure_free(out);
        }
    /* positions or an r_max that would need millions of images are refused, not searched */
    double cell[9] = {10, 0, 0, 0, 10, 0, 0, 0, 10}, far[6] = {0, 0, 0, 1e300, 0, 0};
    int64_t sp[2] = {0, 0};
    e3c_structure *s = NULL;
    E3C_ASSERT_FAILS(e3c_structure_from_data(&s, 2, far, sp, 1, cell, 4.0), E3C_ERR_VALUE, "periodic images");
    double near[6] = {0, 0, 0, 1, 0, 0};
    E3C_ASSERT_FAILS(e3c_structure_from_data(&s, 2, near, sp, 1, cell, 1e9), E3C_ERR_VALUE, "check r_max");
    cr_assert_null(s);
}

Test(atoms, seeded_and_every_species_present)
{
    e3c_structure *a = make_structure(1, 9, 42), *b = make_structure(1, 9, 42), *c = make_structure(1, 9, 43);
    cr_assert_eq(memcmp(a->positions, b->positions, 27 * sizeof(double)), 0);
    cr_assert_neq(memcmp(a->positions, c->positions, 27 * sizeof(double)), 0);
    int seen[2] = {0, 0};
    for (int i = 0; i < 9; i++)
        seen[a->species[i]] = 1;
    cr_assert(seen[0] && seen[1]);
    e3c_structure_free(a), e3c_structure_free(b), e3c_structure_free(c);
}

Test(atoms, batching_offsets_edges_and_sets_batch_and_ptr)
{
    e3c_structure *a = make_structure(1, 5, 1), *b = make_structure(0, 4, 2), *ab = NULL;
    const e3c_structure *parts[2] = {a, b};
    E3C_ASSERT_OK(e3c_structure_batch(&ab, parts, 2));
    cr_assert_eq(ab->n_atoms, 9);
    cr_assert_eq(ab->n_structures, 2);
    cr_assert_eq(ab->n_edges, a->n_edges + b->n_edges);
    cr_assert_eq(ab->ptr[0], 0);
    cr_assert_eq(ab->ptr[1], 5);
    cr_assert_eq(ab->ptr[2], 9);
    cr_assert_eq(ab->batch[4], 0);
    cr_assert_eq(ab->batch[5], 1);
    cr_assert_eq(ab->periodic[0], 1);
    cr_assert_eq(ab->periodic[1], 0);
    for (int64_t e = a->n_edges; e < ab->n_edges; e++) {
        cr_assert(ab->edge_index[e] >= 5);
        cr_assert(ab->edge_index[ab->n_edges + e] >= 5);
    }
    e3c_tensor *cell = NULL, *rows = NULL;
    E3C_ASSERT_OK(e3c_structure_tensor(&cell, ab, E3C_FIELD_CELL, E3C_FLOAT64));
    E3C_ASSERT_OK(e3c_structure_tensor(&rows, ab, E3C_FIELD_CELL_ROWS, E3C_FLOAT64));
    cr_assert_eq(e3c_tensor_ndim(cell), 3);
    cr_assert_eq(e3c_tensor_size(rows, 0), 6);
    /* rebuilding the batch's neighbour list gives the same edges */
    int64_t n = ab->n_edges;
    E3C_ASSERT_OK(e3c_structure_neighbours(ab, 4.0));
    cr_assert_eq(ab->n_edges, n);
    e3c_tensor_free(cell), e3c_tensor_free(rows);
    e3c_structure_free(a), e3c_structure_free(b), e3c_structure_free(ab);
}

Test(atoms, bad_settings_are_named, .timeout = 60)
{
    e3c_structure *s = NULL;
    e3c_structure_options o = E3C_STRUCTURE_OPTIONS_INIT;
    o.min_distance = 5.0;
    o.volume_per_atom = 1.0;
    E3C_ASSERT_FAILS(e3c_structure_generate(&s, &o), E3C_ERR_VALUE, "cannot place");
    o.min_distance = 1.0; /* a cell of side 0.02: over a million images to search, at once refused */
    o.volume_per_atom = 1e-6;
    E3C_ASSERT_FAILS(e3c_structure_generate(&s, &o), E3C_ERR_VALUE, "cannot place");
    o = (e3c_structure_options)E3C_STRUCTURE_OPTIONS_INIT;
    o.n_atoms = 0;
    E3C_ASSERT_FAILS(e3c_structure_generate(&s, &o), E3C_ERR_VALUE, "number of atoms");
    o = (e3c_structure_options)E3C_STRUCTURE_OPTIONS_INIT;
    o.r_max = -1;
    E3C_ASSERT_FAILS(e3c_structure_generate(&s, &o), E3C_ERR_VALUE, "r_max");
    double pos[3] = {0, 0, 0}, flat[9] = {1, 0, 0, 0, 1, 0, 0, 0, 0};
    int64_t sp = 3;
    E3C_ASSERT_FAILS(e3c_structure_from_data(&s, 1, pos, &sp, 2, NULL, 3.0), E3C_ERR_VALUE, "species 3");
    sp = 0;
    E3C_ASSERT_FAILS(e3c_structure_from_data(&s, 1, pos, &sp, 2, flat, 3.0), E3C_ERR_VALUE, "degenerate");
    cr_assert_null(s);
    e3c_structure_free(NULL);
}

/* ------------------------------------------------------------------ the potentials -- */

/* Same code (graph of every method), same buffers and same extra files. */
static void assert_same_module(const char *name, const char *a_path, const char *b_path)
{
    e3c_jit_module *a = NULL, *b = NULL;
    E3C_ASSERT_OK(e3c_jit_load(&a, a_path));
    E3C_ASSERT_OK(e3c_jit_load(&b, b_path));
    e3c_strings ma = {0}, mb = {0};
    E3C_ASSERT_OK(e3c_jit_methods(&ma, a));
    E3C_ASSERT_OK(e3c_jit_methods(&mb, b));
    cr_assert_eq(ma.count, mb.count, "%s: methods differ", name);
    for (size_t i = 0; i < ma.count; i++) {
        cr_assert_str_eq(ma.items[i], mb.items[i], "%s", name);
        char method[128], *ga = NULL, *gb = NULL;
        snprintf(method, sizeof method, "%.*s", (int)(strchr(ma.items[i], '(') - ma.items[i]), ma.items[i]);
        E3C_ASSERT_OK(e3c_jit_graph(&ga, a, method));
        E3C_ASSERT_OK(e3c_jit_graph(&gb, b, method));
        cr_assert_str_eq(ga, gb, "%s: %s is not current: regenerate with gen_potentials", name, method);
        free(ga), free(gb);
    }
    e3c_strings_free(&ma), e3c_strings_free(&mb);
    e3c_strings attrs = {0}, files = {0};
    E3C_ASSERT_OK(e3c_jit_attributes(&attrs, a));
    for (size_t i = 0; i < attrs.count; i++) {
        e3c_tensor *ta = NULL, *tb = NULL;
        E3C_ASSERT_OK(e3c_jit_attribute_tensor(&ta, a, attrs.items[i]));
        E3C_ASSERT_OK(e3c_jit_attribute_tensor(&tb, b, attrs.items[i]));
        cr_assert(e3c_tensor_equal(ta, tb), "%s: buffer %s differs", name, attrs.items[i]);
        e3c_tensor_free(ta), e3c_tensor_free(tb);
    }
    E3C_ASSERT_OK(e3c_jit_extra_files(&files, a));
    for (size_t i = 0; i < files.count; i++) {
        char *fa = NULL, *fb = NULL;
        size_t la = 0, lb = 0;
        E3C_ASSERT_OK(e3c_jit_extra_file(&fa, &la, a, files.items[i]));
        E3C_ASSERT_OK(e3c_jit_extra_file(&fb, &lb, b, files.items[i]));
        cr_assert(la == lb && !memcmp(fa, fb, la), "%s: extra file %s differs", name, files.items[i]);
        free(fa), free(fb);
    }
    e3c_strings_free(&attrs), e3c_strings_free(&files);
    e3c_jit_free(a), e3c_jit_free(b);
}

Test(potentials, committed_files_are_current, .timeout = 300)
{
    char dir[1024], cmd[4096];
    snprintf(dir, sizeof dir, "%s/potentials", test_tmpdir());
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && '%s' '%s'", dir, E3C_GEN_POTENTIALS, dir);
    int rc = system(cmd);
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "gen_potentials failed");
    static const char *const names[] = {
        "nequip_f64.pth",           "nequip_f32.pth",           "nequip_absolute.pth",
        "nequip_force_offset.pth",  "nequip_cell_diag.pth",     "mace_f64.model",
        "mace_f32.model",           "mace_absolute.model",      "mace_force_offset.model",
        "mace_cell_diag.model",     "mace_width1.model",        "mace_lammps_f64.pt",
        "nequip_order.pth",         "nequip_scaled_forces.pth", "mace_order.model",
        "mace_scaled_forces.model", "nequip_hard_cutoff.pth",   "mace_hard_cutoff_f32.model"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char fresh[8192];
        snprintf(fresh, sizeof fresh, "%s/%s", dir, names[i]);
        assert_same_module(names[i], potential(names[i]), fresh);
    }
}

Test(potentials, float32_model_takes_float64_positions)
{
    e3c_jit_module *m32 = NULL, *m64 = NULL;
    E3C_ASSERT_OK(e3c_jit_load(&m32, potential("nequip_f32.pth")));
    E3C_ASSERT_OK(e3c_jit_load(&m64, potential("nequip_f64.pth")));
    e3c_structure *s = make_structure(1, 6, 5);
    e3c_value *data = nequip_data(s), *o32 = NULL, *o64 = NULL;
    e3c_call_arg arg = {NULL, data};
    E3C_ASSERT_OK(e3c_jit_invoke(&o32, m32, NULL, &arg, 1, E3C_CALL_GRAD));
    E3C_ASSERT_OK(e3c_jit_invoke(&o64, m64, NULL, &arg, 1, E3C_CALL_GRAD));
    double e32 = scalar_of(o32, "total_energy"), e64 = scalar_of(o64, "total_energy");
    cr_assert(fabs(e32 - e64) < 1e-4 * fmax(1, fabs(e64)), "%g vs %g", e32, e64);
    e3c_value_free(o32), e3c_value_free(o64), e3c_value_free(data);
    e3c_structure_free(s);
    e3c_jit_free(m32), e3c_jit_free(m64);
}

Test(potentials, nequip_and_mace_shapes_agree_on_the_energy)
{
    e3c_jit_module *nq = NULL, *mc = NULL, *lm = NULL;
    E3C_ASSERT_OK(e3c_jit_load(&nq, potential("nequip_f64.pth")));
    E3C_ASSERT_OK(e3c_jit_load(&mc, potential("mace_f64.model")));
    E3C_ASSERT_OK(e3c_jit_load(&lm, potential("mace_lammps_f64.pt")));
    e3c_structure *s = make_structure(1, 6, 7);
    e3c_value *dn = nequip_data(s), *dm = mace_data(s), *on = NULL, *om = NULL, *ol = NULL, *ones = NULL;
    e3c_tensor *one = NULL;
    E3C_ASSERT_OK(e3c_structure_tensor(&one, s, E3C_FIELD_ONES, E3C_FLOAT64));
    E3C_ASSERT_OK(e3c_value_tensor(&ones, one));
    e3c_call_arg an = {NULL, dn}, am = {NULL, dm}, al[2] = {{NULL, dm}, {"local_or_ghost", ones}};
    E3C_ASSERT_OK(e3c_jit_invoke(&on, nq, NULL, &an, 1, E3C_CALL_GRAD));
    E3C_ASSERT_OK(e3c_jit_invoke(&om, mc, NULL, &am, 1, E3C_CALL_GRAD));
    E3C_ASSERT_OK(e3c_jit_invoke(&ol, lm, NULL, al, 2, E3C_CALL_GRAD));
    double en = scalar_of(on, "total_energy"), em = scalar_of(om, "energy"), el = scalar_of(ol, "total_energy_local");
    cr_assert(fabs(en - em) < 1e-12 && fabs(el - em) < 1e-12, "%.17g %.17g %.17g", en, em, el);
    e3c_value_free(on), e3c_value_free(om), e3c_value_free(ol), e3c_value_free(ones);
    e3c_value_free(dn), e3c_value_free(dm);
    e3c_tensor_free(one);
    e3c_structure_free(s);
    e3c_jit_free(nq), e3c_jit_free(mc), e3c_jit_free(lm);
}
