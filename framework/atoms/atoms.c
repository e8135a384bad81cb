/* Atomic structures: seeded generation, neighbour lists with periodic images, batching. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "e3check/atoms.h"
#include "e3check/rng.h"

void e3c_structure_free(e3c_structure *s)
{
    if (!s)
        return;
    free(s->positions), free(s->species), free(s->ptr), free(s->batch), free(s->periodic), free(s->cells);
    free(s->edge_index), free(s->unit_shifts), free(s->shifts);
    free(s);
}

/* A structure of n atoms and b structures with its arrays allocated (edges none). */
static e3c_status structure_alloc(e3c_structure **out, int64_t n, int64_t b)
{
    e3c_structure *s = calloc(1, sizeof *s);
    if (s) {
        s->n_atoms = n;
        s->n_structures = b;
        s->positions = calloc((size_t)(n ? n : 1) * 3, sizeof(double));
        s->species = calloc((size_t)(n ? n : 1), sizeof(int64_t));
        s->batch = calloc((size_t)(n ? n : 1), sizeof(int64_t));
        s->ptr = calloc((size_t)b + 1, sizeof(int64_t));
        s->periodic = calloc((size_t)b, sizeof(int));
        s->cells = calloc((size_t)b * 9, sizeof(double));
    }
    if (!s || !s->positions || !s->species || !s->batch || !s->ptr || !s->periodic || !s->cells) {
        e3c_structure_free(s);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for a structure of %lld atoms", (long long)n);
    }
    *out = s;
    return E3C_OK;
}

static void cross(const double *a, const double *b, double *c)
{
    c[0] = a[1] * b[2] - a[2] * b[1];
    c[1] = a[2] * b[0] - a[0] * b[2];
    c[2] = a[0] * b[1] - a[1] * b[0];
}

static double dot(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

static double volume_of(const double *cell)
{
    double c[3];
    cross(cell + 3, cell + 6, c);
    return fabs(dot(cell, c));
}

/* The most periodic images of one atom a neighbour search visits (2 range + 1 per lattice
 * vector, multiplied): beyond it r_max, the cell or the positions are not what was meant. */
#define MAX_IMAGES 1e6

/* The largest difference of two atoms' fractional coordinates along each lattice vector
 * (below 1 when every atom is inside the cell; 0 for `n` = 0). */
static void fractional_spread(const double *cell, const double *positions, int64_t n, double *spread)
{
    double v = volume_of(cell);
    for (int k = 0; k < 3; k++) {
        double c[3], lo = 0, hi = 0;
        cross(cell + 3 * ((k + 1) % 3), cell + 3 * ((k + 2) % 3), c);
        for (int64_t i = 0; i < n; i++) {
            double f = dot(positions + 3 * i, c) / v;
            lo = i == 0 || f < lo ? f : lo;
            hi = i == 0 || f > hi ? f : hi;
        }
        spread[k] = hi - lo;
    }
}

/* How many images along each lattice vector can hold a point within r of another atom:
 * ceil(r / d_k + max(0, spread_k - 1)), d_k the spacing of the lattice planes spanned by
 * the other two vectors (an atom j is within r of atom i only if their fractional
 * coordinates plus the image offset differ by less than r / d_k, and within the cell they
 * differ by less than 1). An error when that is more than MAX_IMAGES images. */
static e3c_status image_range(const double *cell, double r, const double *spread, int64_t *range)
{
    double v = volume_of(cell), images = 1, d[3], x[3];
    for (int k = 0; k < 3; k++) {
        double c[3];
        cross(cell + 3 * ((k + 1) % 3), cell + 3 * ((k + 2) % 3), c);
        d[k] = v / sqrt(dot(c, c));
        x[k] = ceil(r / d[k] + fmax(0.0, spread[k] - 1));
        images *= 2 * x[k] + 1;
    }
    if (!(images <= MAX_IMAGES))
        return e3c_error_set(E3C_ERR_VALUE,
                             "a distance of %g in a cell of plane spacings %g, %g, %g with atoms %g, %g, %g cells "
                             "apart needs %g periodic images of each atom (at most %g): check r_max, the cell and "
                             "the positions",
                             r, d[0], d[1], d[2], spread[0], spread[1], spread[2], images, MAX_IMAGES);
    for (int k = 0; k < 3; k++)
        range[k] = (int64_t)x[k];
    return E3C_OK;
}

/* Growing edge arrays. */
typedef struct edge_buf {
    int64_t n, cap;
    int64_t *i, *j, *s;
    double *sh;
} edge_buf;

static int edge_push(edge_buf *e, int64_t i, int64_t j, const int64_t *s, const double *sh)
{
    if (e->n == e->cap) {
        int64_t cap = e->cap ? 2 * e->cap : 256;
        int64_t *ni = realloc(e->i, (size_t)cap * sizeof *ni);
        if (ni)
            e->i = ni;
        int64_t *nj = realloc(e->j, (size_t)cap * sizeof *nj);
        if (nj)
            e->j = nj;
        int64_t *ns = realloc(e->s, (size_t)cap * 3 * sizeof *ns);
        if (ns)
            e->s = ns;
        double *nsh = realloc(e->sh, (size_t)cap * 3 * sizeof *nsh);
        if (nsh)
            e->sh = nsh;
        if (!ni || !nj || !ns || !nsh)
            return 0;
        e->cap = cap;
    }
    e->i[e->n] = i;
    e->j[e->n] = j;
    memcpy(e->s + 3 * e->n, s, 3 * sizeof *s);
    memcpy(e->sh + 3 * e->n, sh, 3 * sizeof *sh);
    e->n++;
    return 1;
}

/* The edges of structure b into `e`: 0 when out of memory. */
static int structure_edges(const e3c_structure *s, int64_t b, double r_max, const int64_t *range, edge_buf *e)
{
    const double *cell = s->cells + 9 * b;
    for (int64_t i = s->ptr[b]; i < s->ptr[b + 1]; i++)
        for (int64_t a = -range[0]; a <= range[0]; a++)
            for (int64_t bb = -range[1]; bb <= range[1]; bb++)
                for (int64_t c = -range[2]; c <= range[2]; c++) {
                    int64_t off[3] = {a, bb, c};
                    double sh[3];
                    for (int k = 0; k < 3; k++)
                        sh[k] = (double)a * cell[k] + (double)bb * cell[3 + k] + (double)c * cell[6 + k];
                    int zero = !a && !bb && !c;
                    for (int64_t j = s->ptr[b]; j < s->ptr[b + 1]; j++) {
                        if (zero && i == j)
                            continue;
                        double d[3];
                        for (int k = 0; k < 3; k++)
                            d[k] = s->positions[3 * j + k] - s->positions[3 * i + k] + sh[k];
                        if (dot(d, d) < r_max * r_max && !edge_push(e, i, j, off, sh))
                            return 0;
                    }
                }
    return 1;
}

e3c_status e3c_structure_neighbours(e3c_structure *s, double r_max)
{
    if (!s)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_structure_neighbours: NULL argument");
    if (!(r_max > 0) || !isfinite(r_max))
        return e3c_error_set(E3C_ERR_VALUE, "r_max must be a positive number, got %g", r_max);
    edge_buf e = {0, 0, NULL, NULL, NULL, NULL};
    for (int64_t b = 0; b < s->n_structures; b++) {
        int64_t range[3] = {0, 0, 0};
        double spread[3];
        if (s->periodic[b]) {
            fractional_spread(s->cells + 9 * b, s->positions + 3 * s->ptr[b], s->ptr[b + 1] - s->ptr[b], spread);
            if (image_range(s->cells + 9 * b, r_max, spread, range)) {
                free(e.i), free(e.j), free(e.s), free(e.sh);
                return e3c_error_prefix("the neighbour list");
            }
        }
        if (!structure_edges(s, b, r_max, range, &e)) {
            free(e.i), free(e.j), free(e.s), free(e.sh);
            return e3c_error_set(E3C_ERR_NOMEM, "out of memory for the neighbour list");
        }
    }
    int64_t *ei = malloc((size_t)(e.n ? e.n : 1) * 2 * sizeof *ei);
    if (!ei) {
        free(e.i), free(e.j), free(e.s), free(e.sh);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for the neighbour list");
    }
    if (e.n) {
        memcpy(ei, e.i, (size_t)e.n * sizeof *ei);
        memcpy(ei + e.n, e.j, (size_t)e.n * sizeof *ei);
    }
    free(e.i), free(e.j);
    free(s->edge_index), free(s->unit_shifts), free(s->shifts);
    s->edge_index = ei;
    s->unit_shifts = e.s ? e.s : calloc(3, sizeof(int64_t));
    s->shifts = e.sh ? e.sh : calloc(3, sizeof(double));
    s->n_edges = e.n;
    s->r_max = r_max;
    return s->unit_shifts && s->shifts ? E3C_OK : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
}

/* Whether point p is closer than d to atoms 0..n-1 of s or their images (all inside the
 * cell), or to its own images; `range` from image_range(d). */
static int too_close(const e3c_structure *s, int64_t n, const double *p, double d, const int64_t *range)
{
    for (int64_t a = -range[0]; a <= range[0]; a++)
        for (int64_t b = -range[1]; b <= range[1]; b++)
            for (int64_t c = -range[2]; c <= range[2]; c++)
                for (int64_t j = 0; j < n + ((a || b || c) ? 1 : 0); j++) {
                    const double *q = j < n ? s->positions + 3 * j : p; /* p's own images too */
                    double v[3];
                    for (int k = 0; k < 3; k++)
                        v[k] = q[k] - p[k] + (double)a * s->cells[k] + (double)b * s->cells[3 + k] +
                               (double)c * s->cells[6 + k];
                    if (dot(v, v) < d * d)
                        return 1;
                }
    return 0;
}

static e3c_status cannot_place(const e3c_structure_options *opt)
{
    return e3c_error_set(E3C_ERR_VALUE,
                         "cannot place %lld atoms at least %g apart in a volume of %g per atom: lower min_distance "
                         "or raise volume_per_atom",
                         (long long)opt->n_atoms, opt->min_distance, opt->volume_per_atom);
}

e3c_status e3c_structure_generate(e3c_structure **out, const e3c_structure_options *opt)
{
    if (!out || !opt)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_structure_generate: NULL argument");
    *out = NULL;
    if (opt->n_atoms < 1 || opt->n_atoms > 100000)
        return e3c_error_set(E3C_ERR_VALUE, "the number of atoms must be in 1..100000, got %lld",
                             (long long)opt->n_atoms);
    if (opt->n_species < 1 || opt->n_species > 1000)
        return e3c_error_set(E3C_ERR_VALUE, "the number of species must be in 1..1000, got %d", opt->n_species);
    if (!(opt->volume_per_atom > 0) || !(opt->min_distance >= 0) || !isfinite(opt->volume_per_atom))
        return e3c_error_set(E3C_ERR_VALUE, "volume_per_atom must be > 0 and min_distance >= 0");
    e3c_structure *s = NULL;
    e3c_status st = structure_alloc(&s, opt->n_atoms, 1);
    if (st)
        return st;
    uint64_t rng = opt->seed ^ 0xa70b5ull;
    double side = cbrt(opt->volume_per_atom * (double)opt->n_atoms);
    s->ptr[1] = opt->n_atoms;
    s->periodic[0] = opt->periodic != 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            s->cells[3 * i + j] =
                opt->periodic ? side * ((i == j ? 1.0 : 0.0) + 0.3 * (e3c_rng_unit(&rng) - 0.5)) : 0.0;
    const double *frame = s->cells;
    double box[9] = {side, 0, 0, 0, side, 0, 0, 0, side}, inside[3] = {1, 1, 1};
    int64_t range[3] = {0, 0, 0};
    if (!opt->periodic)
        frame = box;
    else if ((st = image_range(s->cells, opt->min_distance, inside, range))) {
        e3c_structure_free(s);
        return cannot_place(opt);
    }
    s->n_species = opt->n_species;
    for (int64_t n = 0; n < opt->n_atoms; n++) {
        int placed = 0;
        for (int attempt = 0; attempt < 10000 && !placed; attempt++) {
            double f[3] = {e3c_rng_unit(&rng), e3c_rng_unit(&rng), e3c_rng_unit(&rng)}, p[3];
            for (int k = 0; k < 3; k++)
                p[k] = f[0] * frame[k] + f[1] * frame[3 + k] + f[2] * frame[6 + k];
            if (!too_close(s, n, p, opt->min_distance, range)) {
                memcpy(s->positions + 3 * n, p, sizeof p);
                placed = 1;
            }
        }
        if (!placed) {
            e3c_structure_free(s);
            return cannot_place(opt);
        }
        s->species[n] = n < opt->n_species ? n : (int64_t)(e3c_rng_next(&rng) % (uint64_t)opt->n_species);
    }
    st = e3c_structure_neighbours(s, opt->r_max);
    if (st) {
        e3c_structure_free(s);
        return st;
    }
    *out = s;
    return E3C_OK;
}

e3c_status e3c_structure_from_data(e3c_structure **out, int64_t n_atoms, const double *positions,
                                   const int64_t *species, int n_species, const double *cell, double r_max)
{
    if (!out || !positions || !species)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_structure_from_data: NULL argument");
    *out = NULL;
    if (n_atoms < 1 || n_species < 1)
        return e3c_error_set(E3C_ERR_VALUE, "a structure needs at least one atom and one species");
    for (int64_t i = 0; i < n_atoms; i++)
        if (species[i] < 0 || species[i] >= n_species)
            return e3c_error_set(E3C_ERR_VALUE, "atom %lld has species %lld, outside 0..%d", (long long)i,
                                 (long long)species[i], n_species - 1);
    if (cell && !(volume_of(cell) > 1e-12))
        return e3c_error_set(E3C_ERR_VALUE, "the cell is degenerate (volume %g)", volume_of(cell));
    e3c_structure *s = NULL;
    e3c_status st = structure_alloc(&s, n_atoms, 1);
    if (st)
        return st;
    memcpy(s->positions, positions, (size_t)n_atoms * 3 * sizeof(double));
    memcpy(s->species, species, (size_t)n_atoms * sizeof(int64_t));
    s->n_species = n_species;
    s->ptr[1] = n_atoms;
    s->periodic[0] = cell != NULL;
    if (cell)
        memcpy(s->cells, cell, 9 * sizeof(double));
    st = e3c_structure_neighbours(s, r_max);
    if (st) {
        e3c_structure_free(s);
        return st;
    }
    *out = s;
    return E3C_OK;
}

e3c_status e3c_structure_batch(e3c_structure **out, const e3c_structure *const *parts, size_t n)
{
    if (!out || !parts || !n)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_structure_batch: no structures");
    *out = NULL;
    int64_t atoms = 0, graphs = 0, edges = 0;
    for (size_t k = 0; k < n; k++) {
        if (parts[k]->n_species != parts[0]->n_species)
            return e3c_error_set(E3C_ERR_VALUE,
                                 "structures of a batch must have the same number of species (%d and %d)",
                                 parts[0]->n_species, parts[k]->n_species);
        atoms += parts[k]->n_atoms, graphs += parts[k]->n_structures, edges += parts[k]->n_edges;
    }
    e3c_structure *s = NULL;
    e3c_status st = structure_alloc(&s, atoms, graphs);
    if (st)
        return st;
    s->n_species = parts[0]->n_species;
    s->r_max = parts[0]->r_max;
    s->edge_index = malloc((size_t)(edges ? edges : 1) * 2 * sizeof(int64_t));
    s->unit_shifts = malloc((size_t)(edges ? edges : 1) * 3 * sizeof(int64_t));
    s->shifts = malloc((size_t)(edges ? edges : 1) * 3 * sizeof(double));
    if (!s->edge_index || !s->unit_shifts || !s->shifts) {
        e3c_structure_free(s);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for a batch");
    }
    s->n_edges = edges;
    int64_t a0 = 0, g0 = 0, e0 = 0;
    for (size_t k = 0; k < n; k++) {
        const e3c_structure *p = parts[k];
        memcpy(s->positions + 3 * a0, p->positions, (size_t)p->n_atoms * 3 * sizeof(double));
        memcpy(s->species + a0, p->species, (size_t)p->n_atoms * sizeof(int64_t));
        for (int64_t i = 0; i < p->n_atoms; i++)
            s->batch[a0 + i] = g0 + p->batch[i];
        for (int64_t g = 0; g < p->n_structures; g++) {
            s->ptr[g0 + g + 1] = a0 + p->ptr[g + 1];
            s->periodic[g0 + g] = p->periodic[g];
        }
        memcpy(s->cells + 9 * g0, p->cells, (size_t)p->n_structures * 9 * sizeof(double));
        for (int64_t e = 0; e < p->n_edges; e++) {
            s->edge_index[e0 + e] = a0 + p->edge_index[e];
            s->edge_index[edges + e0 + e] = a0 + p->edge_index[p->n_edges + e];
        }
        memcpy(s->unit_shifts + 3 * e0, p->unit_shifts, (size_t)p->n_edges * 3 * sizeof(int64_t));
        memcpy(s->shifts + 3 * e0, p->shifts, (size_t)p->n_edges * 3 * sizeof(double));
        a0 += p->n_atoms, g0 += p->n_structures, e0 += p->n_edges;
    }
    *out = s;
    return E3C_OK;
}

e3c_status e3c_structure_copy(e3c_structure **out, const e3c_structure *s)
{
    if (!s)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_structure_copy: NULL argument");
    return e3c_structure_batch(out, &s, 1);
}

/* Field values as doubles (caller frees), with their shape. */
static e3c_status field_values(const e3c_structure *s, e3c_structure_field f, double **vals, int64_t *shape, int *nd)
{
    int64_t N = s->n_atoms, E = s->n_edges, B = s->n_structures, n = 0;
    switch (f) {
    case E3C_FIELD_POSITIONS:
    case E3C_FIELD_UNIT_SHIFTS:
    case E3C_FIELD_SHIFTS:
    case E3C_FIELD_EDGE_VECTORS: shape[0] = f == E3C_FIELD_POSITIONS ? N : E, shape[1] = 3, *nd = 2; break;
    case E3C_FIELD_SPECIES:
    case E3C_FIELD_BATCH:
    case E3C_FIELD_ONES: shape[0] = N, *nd = 1; break;
    case E3C_FIELD_ONE_HOT: shape[0] = N, shape[1] = s->n_species, *nd = 2; break;
    case E3C_FIELD_EDGE_INDEX: shape[0] = 2, shape[1] = E, *nd = 2; break;
    case E3C_FIELD_EDGE_SRC:
    case E3C_FIELD_EDGE_DST: shape[0] = E, *nd = 1; break;
    case E3C_FIELD_CELL:
        if (B == 1)
            shape[0] = 3, shape[1] = 3, *nd = 2;
        else
            shape[0] = B, shape[1] = 3, shape[2] = 3, *nd = 3;
        break;
    case E3C_FIELD_CELL_ROWS: shape[0] = 3 * B, shape[1] = 3, *nd = 2; break;
    case E3C_FIELD_PTR: shape[0] = B + 1, *nd = 1; break;
    default: return e3c_error_set(E3C_ERR_INVALID, "unknown structure field %d", (int)f);
    }
    n = 1;
    for (int k = 0; k < *nd; k++)
        n *= shape[k];
    double *v = calloc((size_t)(n ? n : 1), sizeof *v);
    if (!v)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (int64_t k = 0; k < n; k++) {
        switch (f) {
        case E3C_FIELD_POSITIONS: v[k] = s->positions[k]; break;
        case E3C_FIELD_UNIT_SHIFTS: v[k] = (double)s->unit_shifts[k]; break;
        case E3C_FIELD_SHIFTS: v[k] = s->shifts[k]; break;
        case E3C_FIELD_EDGE_VECTORS: {
            int64_t e = k / 3, c = k % 3, i = s->edge_index[e], j = s->edge_index[E + e];
            v[k] = s->positions[3 * j + c] - s->positions[3 * i + c] + s->shifts[k];
            break;
        }
        case E3C_FIELD_SPECIES: v[k] = (double)s->species[k]; break;
        case E3C_FIELD_BATCH: v[k] = (double)s->batch[k]; break;
        case E3C_FIELD_ONES: v[k] = 1.0; break;
        case E3C_FIELD_ONE_HOT: v[k] = s->species[k / s->n_species] == k % s->n_species ? 1.0 : 0.0; break;
        case E3C_FIELD_EDGE_INDEX:
        case E3C_FIELD_EDGE_SRC: v[k] = (double)s->edge_index[k]; break;
        case E3C_FIELD_EDGE_DST: v[k] = (double)s->edge_index[E + k]; break;
        case E3C_FIELD_CELL:
        case E3C_FIELD_CELL_ROWS: v[k] = s->cells[k]; break;
        case E3C_FIELD_PTR: v[k] = (double)s->ptr[k]; break;
        }
    }
    *vals = v;
    return E3C_OK;
}

e3c_status e3c_structure_tensor(e3c_tensor **out, const e3c_structure *s, e3c_structure_field f, e3c_dtype dtype)
{
    if (!out || !s)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_structure_tensor: NULL argument");
    *out = NULL;
    double *v = NULL;
    int64_t shape[3];
    int nd = 0;
    e3c_status st = field_values(s, f, &v, shape, &nd);
    e3c_tensor *t64 = NULL;
    if (!st)
        st = e3c_tensor_from_data(&t64, v, E3C_FLOAT64, shape, nd);
    if (!st)
        st = e3c_tensor_to(out, t64, dtype);
    e3c_tensor_free(t64);
    free(v);
    return st;
}
