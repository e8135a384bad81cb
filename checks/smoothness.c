/* smoothness: the energy and forces of a structured model are continuous when one
 * neighbour crosses r_max. One pair (i, j) of the seeded structure is placed at distances
 * r_max -2h, -h, +h, +2h (atom j moved along the i-j direction, nothing else within 10 h of
 * r_max), the neighbour list rebuilt for each, and the jump across r_max estimated with
 * each side's linear trend removed: 2 (y(+h) - y(-h)) - (y(+2h) - y(-2h)). A smooth cutoff
 * leaves O(h^2) (the curvature on either side); a hard cutoff leaves the finite jump. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "structured_internal.h"

/* The four distances, in units of the step, around r_max. */
static const double offsets[4] = {-2, -1, 1, 2};

/* Settings by model dtype (fixtures/README.md states them). */
typedef struct smooth_settings {
    double step; /* h, a length */
    double atol; /* the allowed jump, absolute */
    double rtol; /* plus rtol x the largest |value| of the output (rounding of large energies) */
} smooth_settings;

/* The chosen pair: atom j sits at origin + u * distance. */
typedef struct pair_place {
    int64_t i, j;
    double origin[3], u[3];
} pair_place;

static double dot3(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

/* x = f @ cell solved for f (rows of cell are the lattice vectors); 0 when degenerate. */
static int fractional(const double *cell, const double *x, double *f)
{
    const double *a = cell, *b = cell + 3, *c = cell + 6;
    double bc[3] = {b[1] * c[2] - b[2] * c[1], b[2] * c[0] - b[0] * c[2], b[0] * c[1] - b[1] * c[0]};
    double ca[3] = {c[1] * a[2] - c[2] * a[1], c[2] * a[0] - c[0] * a[2], c[0] * a[1] - c[1] * a[0]};
    double ab[3] = {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
    double v = dot3(a, bc);
    if (!(fabs(v) > 1e-12))
        return 0;
    f[0] = dot3(x, bc) / v, f[1] = dot3(x, ca) / v, f[2] = dot3(x, ab) / v;
    return 1;
}

/* A copy of st with atom j at pl's distance d (wrapped into its cell by the same lattice
 * vector for every d) and the neighbour list rebuilt for `cutoff`. */
static e3c_status place(const e3c_structure *st, const pair_place *pl, double d, double cutoff, e3c_structure **out)
{
    e3c_status status = e3c_structure_copy(out, st);
    for (int k = 0; !status && k < 3; k++)
        (*out)->positions[3 * pl->j + k] = pl->origin[k] + d * pl->u[k];
    if (!status)
        status = e3c_structure_neighbours(*out, cutoff);
    if (status) {
        e3c_structure_free(*out);
        *out = NULL;
    }
    return status;
}

/* Pair `e` of st's neighbour list as a placement (j moved along the edge, wrapped into its
 * cell); 1 when, at distance r_max, atom j is at least min_distance from every other atom
 * and no pair with j but this one (and its reverse) is within `band` of r_max. */
static int try_pair(const e3c_structure *st, int64_t e, double r_max, double band, double min_distance, pair_place *pl,
                    e3c_status *status)
{
    int64_t E = st->n_edges, i = st->edge_index[e], j = st->edge_index[E + e];
    if (i == j)
        return 0;
    double vec[3], len = 0;
    for (int k = 0; k < 3; k++)
        vec[k] = st->positions[3 * j + k] - st->positions[3 * i + k] + st->shifts[3 * e + k];
    len = sqrt(dot3(vec, vec));
    if (!(len > 0))
        return 0;
    pl->i = i, pl->j = j;
    for (int k = 0; k < 3; k++) {
        pl->u[k] = vec[k] / len;
        pl->origin[k] = st->positions[3 * i + k] - st->shifts[3 * e + k];
    }
    int64_t b = st->batch[j];
    double centre[3], f[3];
    for (int k = 0; k < 3; k++)
        centre[k] = pl->origin[k] + r_max * pl->u[k];
    if (st->periodic[b] && fractional(&st->cells[9 * b], centre, f))
        for (int k = 0; k < 3; k++)
            for (int c = 0; c < 3; c++)
                pl->origin[c] -= floor(f[k]) * st->cells[9 * b + 3 * k + c];
    e3c_structure *at = NULL;
    if ((*status = place(st, pl, r_max, r_max + band, &at)))
        return 0;
    int ok = 1, crossing = 0;
    for (int64_t n = 0; ok && n < at->n_edges; n++) {
        int64_t a = at->edge_index[n], c = at->edge_index[at->n_edges + n];
        if ((a == j) == (c == j)) /* not a pair of j, or j with its own image: unmoved */
            continue;
        double w[3];
        for (int k = 0; k < 3; k++)
            w[k] = at->positions[3 * c + k] - at->positions[3 * a + k] + at->shifts[3 * n + k];
        double r = sqrt(dot3(w, w));
        if (r < min_distance)
            ok = 0;
        else if (fabs(r - r_max) < band)
            ok = (a == i || c == i) && ++crossing <= 2;
    }
    e3c_structure_free(at);
    return ok && crossing == 2;
}

/* Choose the pair: the edges in turn from a seeded one; ERRORED when none fits. */
static e3c_status choose_pair(const e3c_structure *st, uint64_t seed, double r_max, double band, double min_distance,
                              pair_place *pl)
{
    uint64_t state = seed ^ 0x534d4f4full;
    int64_t start = st->n_edges ? (int64_t)(e3c_rng_next(&state) % (uint64_t)st->n_edges) : 0;
    for (int64_t n = 0; n < st->n_edges; n++) {
        e3c_status status = E3C_OK;
        if (try_pair(st, (start + n) % st->n_edges, r_max, band, min_distance, pl, &status))
            return E3C_OK;
        if (status)
            return status;
    }
    return e3c_error_set(E3C_ERR_VALUE,
                         "no pair of the structure can be put at r_max %g with every other pair of its atom "
                         "outside r_max +- %g and at least %g apart: change structure.atoms or "
                         "structure.volume_per_atom",
                         r_max, band, min_distance);
}

/* The jump across r_max of values v[4][n] (at offsets -2, -1, 1, 2) for each index. */
static double jump_of(double *const *v, int64_t idx) { return 2 * (v[2][idx] - v[1][idx]) - (v[3][idx] - v[0][idx]); }

static double largest_abs(double *const *v, int64_t n)
{
    double m = 0;
    for (int q = 0; q < 4; q++)
        for (int64_t x = 0; x < n; x++)
            m = fabs(v[q][x]) > m ? fabs(v[q][x]) : m;
    return m;
}

/* The four model calls: energies E[4] (summed over the batch) and forces F[q] (NULL when
 * not declared); edges[q] the neighbour list's size. */
static e3c_status evaluate(phys *p, const e3c_structure *st, const pair_place *pl, double r_max, double h, int eo,
                           int fo, double *E, double **F, int64_t *n_forces, int64_t *edges)
{
    e3c_status status = E3C_OK;
    for (int q = 0; !status && q < 4; q++) {
        e3c_structure *at = NULL;
        e3c_value *y = NULL;
        double *vals = NULL;
        int64_t n = 0;
        status = place(st, pl, r_max + offsets[q] * h, r_max, &at);
        if (!status)
            edges[q] = at->n_edges;
        if (!status && (status = phys_run(p, at, NULL, NULL, &y)))
            e3c_error_prefix("the model raised with atoms %lld and %lld %.9g apart", (long long)pl->i, (long long)pl->j,
                             r_max + offsets[q] * h);
        if (!status)
            status = output_numbers(p->s, y, eo, &vals, &n);
        if (!status && !vals)
            status =
                e3c_error_set(E3C_ERR_VALUE, "the energy output '%s' came back None or empty", p->s->outputs[eo].key);
        E[q] = 0;
        for (int64_t x = 0; !status && x < n; x++)
            E[q] += vals[x];
        free(vals);
        if (!status && fo >= 0)
            status = output_numbers(p->s, y, fo, &F[q], &n_forces[q]);
        if (!status && fo >= 0 && (!F[q] || n_forces[q] != 3 * st->n_atoms))
            status = e3c_error_set(E3C_ERR_VALUE, "the forces output '%s' is %s, not [%lld, 3]", p->s->outputs[fo].key,
                                   F[q] ? "of another size" : "None or empty", (long long)st->n_atoms);
        e3c_value_free(y);
        e3c_structure_free(at);
    }
    if (!status && !(edges[0] == edges[1] && edges[2] == edges[3] && edges[1] == edges[2] + 2))
        status = e3c_error_set(E3C_ERR_INTERNAL,
                               "the neighbour lists around r_max hold %lld, %lld, %lld and %lld "
                               "edges, not the one pair more inside",
                               (long long)edges[0], (long long)edges[1], (long long)edges[2], (long long)edges[3]);
    return status;
}

static void add_numbers(cJSON *obj, const char *key, const double *v, int n)
{
    cJSON *a = cJSON_AddArrayToObject(obj, key);
    for (int q = 0; q < n; q++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[q]));
}

/* The verdict from the jumps, with everything in details. */
static void verdict(phys *p, const pair_place *pl, double r_max, const smooth_settings *ss, int eo, int fo, double *E,
                    double *const *F, int64_t nf, e3c_check_result *out)
{
    double *Ev[4] = {&E[0], &E[1], &E[2], &E[3]};
    double e_jump = fabs(jump_of(Ev, 0)), e_tol = ss->atol + ss->rtol * largest_abs(Ev, 1);
    double f_jump = 0, f_tol = 0;
    int64_t worst = 0;
    if (isnan(e_jump))
        e_jump = INFINITY;
    if (fo >= 0)
        f_tol = ss->atol + ss->rtol * largest_abs(F, nf);
    for (int64_t x = 0; fo >= 0 && x < nf; x++) {
        double jx = fabs(jump_of(F, x));
        if (isnan(jx))
            jx = INFINITY;
        if (x == 0 || jx > f_jump)
            f_jump = jx, worst = x;
    }
    if (!isfinite(e_tol)) /* an infinite energy: no tolerance scaled by it, and no pass */
        e_jump = INFINITY, e_tol = ss->atol;
    if (!isfinite(f_tol))
        f_jump = INFINITY, f_tol = ss->atol;
    cJSON *d = out->details, *pj = cJSON_AddObjectToObject(d, "pair");
    cJSON_AddNumberToObject(pj, "i", (double)pl->i);
    cJSON_AddNumberToObject(pj, "j", (double)pl->j);
    double dist[4];
    for (int q = 0; q < 4; q++)
        dist[q] = r_max + offsets[q] * ss->step;
    add_numbers(d, "distances", dist, 4);
    cJSON_AddNumberToObject(d, "inside", dist[1]);
    cJSON_AddNumberToObject(d, "outside", dist[2]);
    add_numbers(d, "energies", E, 4);
    json_add_error(d, "energy_jump", e_jump);
    cJSON_AddNumberToObject(d, "energy_tolerance", e_tol);
    char fname[96] = "";
    if (fo >= 0) {
        snprintf(fname, sizeof fname, "%s[%lld][%lld]", p->s->outputs[fo].key, (long long)(worst / 3),
                 (long long)(worst % 3));
        cJSON *wf = cJSON_AddObjectToObject(d, "worst_force");
        cJSON_AddStringToObject(wf, "component", fname);
        cJSON_AddNumberToObject(wf, "inside", F[1][worst]);
        cJSON_AddNumberToObject(wf, "outside", F[2][worst]);
        json_add_error(wf, "jump", f_jump);
        cJSON_AddNumberToObject(d, "force_tolerance", f_tol);
    }
    int forces_worse = fo >= 0 && f_jump * e_tol > e_jump * f_tol; /* the larger share of its tolerance */
    json_add_error(d, "max_error", forces_worse ? f_jump : e_jump);
    cJSON_AddNumberToObject(d, "tolerance", forces_worse ? f_tol : e_tol);
    char forces[300] = "";
    if (fo >= 0)
        snprintf(forces, sizeof forces, "; worst force jump %.3e in %s (%.9g -> %.9g) %s %.1e", f_jump, fname,
                 F[1][worst], F[2][worst], f_jump <= f_tol ? "<=" : ">", f_tol);
    const char *ekey = p->s->outputs[eo].key;
    if (!(e_jump <= e_tol) || !(f_jump <= f_tol || fo < 0))
        result_set(out, E3C_FAILED,
                   "not continuous at r_max %g: as atoms %lld and %lld go from %.9g to %.9g apart, '%s' jumps by "
                   "%.3e (%.12g -> %.12g) %s %.1e%s",
                   r_max, (long long)pl->i, (long long)pl->j, dist[1], dist[2], ekey, e_jump, E[1], E[2],
                   e_jump <= e_tol ? "<=" : ">", e_tol, forces);
    else
        result_set(out, E3C_PASSED,
                   "continuous at r_max %g: atoms %lld and %lld from %.9g to %.9g apart, '%s' jump %.3e <= %.1e%s",
                   r_max, (long long)pl->i, (long long)pl->j, dist[1], dist[2], ekey, e_jump, e_tol, forces);
}

void run_smoothness(phys *p, uint64_t seed, const e3c_physical_options *opt, e3c_check_result *out)
{
    int eo = energy_output(p->s), fo = forces_output(p->s);
    if (eo < 0) {
        result_set(out, E3C_SKIPPED, "no energy declared (a per-structure 0e output)");
        return;
    }
    int f64 = p->s->model_dtype == E3C_FLOAT64;
    e3c_structure *st = NULL;
    e3c_status status = make_structure(p->s, seed, &st);
    if (status) {
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
        return;
    }
    double r_max = st->r_max;
    smooth_settings ss =
        f64 ? (smooth_settings){1e-6 * r_max, 1e-6, 1e-10} : (smooth_settings){2.5e-5 * r_max, 1e-3, 1e-6};
    if (opt->step > 0)
        ss.step = opt->step;
    if (opt->tolerance > 0)
        ss.atol = opt->tolerance;
    double band = 10 * ss.step;
    structure_details(p->s, st, out->details);
    cJSON_AddNumberToObject(out->details, "step", ss.step);
    cJSON_AddNumberToObject(out->details, "band", band);
    cJSON_AddNumberToObject(out->details, "atol", ss.atol);
    cJSON_AddNumberToObject(out->details, "rtol", ss.rtol);
    cJSON_AddStringToObject(out->details, "jump_rule",
                            "|2 (y(r_max + step) - y(r_max - step)) - (y(r_max + 2 step) - y(r_max - 2 step))| "
                            "<= atol + rtol * max|y|, for the energy and each force component");
    pair_place pl;
    double E[4] = {0, 0, 0, 0}, *F[4] = {NULL, NULL, NULL, NULL};
    int64_t nf[4] = {0, 0, 0, 0}, edges[4] = {0, 0, 0, 0};
    if (!(ss.step > 0 && 2 * ss.step < 0.5 * r_max))
        status = e3c_error_set(E3C_ERR_VALUE, "the step %g must be below r_max / 4 (%g)", ss.step, r_max / 4);
    if (!status)
        status = choose_pair(st, seed, r_max, band, p->s->structure.min_distance, &pl);
    if (!status)
        status = evaluate(p, st, &pl, r_max, ss.step, eo, fo, E, F, nf, edges);
    if (status)
        result_set(out, E3C_ERRORED, "%s", e3c_error_last());
    else
        verdict(p, &pl, r_max, &ss, eo, fo, E, F, nf[0], out);
    for (int q = 0; q < 4; q++)
        free(F[q]);
    e3c_structure_free(st);
}
