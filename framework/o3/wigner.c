/* Wigner D matrices in e3nn's real basis, built band by band from the rotation matrix.
 *
 * Ivanic & Ruedenberg, "Rotation Matrices for Real Spherical Harmonics. Direct
 * Determination by Recursion", J. Phys. Chem. 100, 6342 (1996), with the corrections of
 * J. Phys. Chem. A 102, 9099 (1998). Their real basis, written in e3nn's axes (e3nn's
 * y is the polar axis; e3nn's real harmonics are the standard ones evaluated at
 * (z, x, y)), makes the l = 1 block exactly R, so the recursion starts from R itself and
 * each band l is a fixed linear combination of products of R with band l-1.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "e3check/o3.h"

static const double SQRT2 = 1.4142135623730951;

/* Band l-1 as a view: entry (a, b) for a, b in -(l-1)..(l-1). */
typedef struct band {
    const double *d;
    int l; /* the degree of this band */
} band;

static inline double band_at(band b, int m, int n) { return b.d[(m + b.l) * (2 * b.l + 1) + (n + b.l)]; }

static inline double r1(const double R[9], int i, int j) { return R[(i + 1) * 3 + (j + 1)]; }

/* Ivanic & Ruedenberg's P(i, l, a, b), with `prev` the band l-1. */
static inline double P(int i, int l, int a, int b, const double R[9], band prev)
{
    if (b == l)
        return r1(R, i, 1) * band_at(prev, a, l - 1) - r1(R, i, -1) * band_at(prev, a, -l + 1);
    if (b == -l)
        return r1(R, i, 1) * band_at(prev, a, -l + 1) + r1(R, i, -1) * band_at(prev, a, l - 1);
    return r1(R, i, 0) * band_at(prev, a, b);
}

static double U(int l, int m, int n, const double R[9], band prev) { return P(0, l, m, n, R, prev); }

static double V(int l, int m, int n, const double R[9], band prev)
{
    if (m == 0)
        return P(1, l, 1, n, R, prev) + P(-1, l, -1, n, R, prev);
    if (m > 0) {
        double p0 = P(1, l, m - 1, n, R, prev);
        return m == 1 ? p0 * SQRT2 : p0 - P(-1, l, -m + 1, n, R, prev);
    }
    double p1 = P(-1, l, -m - 1, n, R, prev);
    return m == -1 ? p1 * SQRT2 : P(1, l, m + 1, n, R, prev) + p1;
}

static double W(int l, int m, int n, const double R[9], band prev)
{
    if (m > 0)
        return P(1, l, m + 1, n, R, prev) + P(-1, l, -m - 1, n, R, prev);
    return P(1, l, m - 1, n, R, prev) - P(-1, l, -m + 1, n, R, prev);
}

/* Band l (size (2l+1)^2) from band l-1, l >= 2. The coefficients u, v, w of the paper
 * factor into a row part (depending on m) times 1/sqrt(denominator(n)), so each band
 * needs 4(2l+1) square roots instead of 3(2l+1)^2. `work` holds 4(2l+1) doubles. */
static void next_band(int l, const double R[9], band prev, double *out, double *work)
{
    int dim = 2 * l + 1;
    double *cu = work, *cv = work + dim, *cw = work + 2 * dim, *inv_denom = work + 3 * dim;
    for (int k = 0; k < dim; k++) {
        int m = k - l, am = abs(m);
        cu[k] = sqrt((double)(l + m) * (l - m));
        cv[k] = m == 0 ? -0.5 * sqrt(2.0 * (l - 1) * l) : 0.5 * sqrt((double)(l + am - 1) * (l + am));
        cw[k] = m == 0 ? 0.0 : -0.5 * sqrt((double)(l - am - 1) * (l - am));
        int n = m;
        inv_denom[k] = 1.0 / sqrt(abs(n) < l ? (double)(l + n) * (l - n) : (double)(2 * l) * (2 * l - 1));
    }
    for (int m = -l; m <= l; m++) {
        double u = cu[m + l], v = cv[m + l], w = cw[m + l];
        double *row = out + (m + l) * dim + l;
        for (int n = -l; n <= l; n++) {
            double s = 0.0;
            if (u != 0.0)
                s += u * U(l, m, n, R, prev);
            if (v != 0.0)
                s += v * V(l, m, n, R, prev);
            if (w != 0.0)
                s += w * W(l, m, n, R, prev);
            row[n] = s * inv_denom[n + l];
        }
    }
}

/* All bands 0..lmax of a proper R, packed one after another into `bands` (room for
 * sum (2l+1)^2 = (lmax+1)(2lmax+1)(2lmax+3)/3 doubles). */
static void all_bands(int lmax, const double R[9], double *bands)
{
    double work[4 * (2 * E3C_WIGNER_LMAX + 1)];
    bands[0] = 1.0;
    if (lmax == 0)
        return;
    memcpy(bands + 1, R, 9 * sizeof *R);
    size_t offset = 1, prev_offset = 1;
    offset += 9;
    for (int l = 2; l <= lmax; l++) {
        band prev = {bands + prev_offset, l - 1};
        next_band(l, R, prev, bands + offset, work);
        prev_offset = offset;
        offset += (size_t)(2 * l + 1) * (2 * l + 1);
    }
}

static size_t bands_size(int lmax) { return (size_t)(lmax + 1) * (2 * lmax + 1) * (2 * lmax + 3) / 3; }

static size_t band_offset(int l) { return l == 0 ? 0 : bands_size(l - 1); }

e3c_status e3c_wigner_D_matrix(double *D, int l, const double R[9])
{
    if (!R || !D)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_wigner_D_matrix: NULL argument");
    if (l < 0 || l > E3C_WIGNER_LMAX)
        return e3c_error_set(E3C_ERR_INVALID, "wigner_D: l = %d is outside 0..%d", l, E3C_WIGNER_LMAX);
    double *bands = malloc(bands_size(l) * sizeof *bands);
    if (!bands)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for Wigner D of l = %d", l);
    all_bands(l, R, bands);
    memcpy(D, bands + band_offset(l), (size_t)(2 * l + 1) * (2 * l + 1) * sizeof *D);
    free(bands);
    return E3C_OK;
}

e3c_status e3c_wigner_D_angles(double *D, int l, double alpha, double beta, double gamma)
{
    double R[9];
    e3c_angles_to_matrix(R, alpha, beta, gamma);
    return e3c_wigner_D_matrix(D, l, R);
}

/* Write the blocks of one rotation's D into `out` (dim x dim, already zeroed), each
 * irrep of parity p scaled by p^k. */
static void place_blocks(const e3c_irreps *irreps, const double *bands, int k, int64_t dim, double *out)
{
    int64_t at = 0;
    for (size_t e = 0; e < irreps->len; e++) {
        const e3c_mulir *m = &irreps->items[e];
        int d = 2 * m->ir.l + 1;
        const double *blk = bands + band_offset(m->ir.l);
        double sign = (k % 2 && m->ir.p == -1) ? -1.0 : 1.0;
        for (int64_t c = 0; c < m->mul; c++, at += d)
            for (int i = 0; i < d; i++) {
                double *row = out + (at + i) * dim + at;
                const double *src = blk + (size_t)i * d;
                for (int j = 0; j < d; j++)
                    row[j] = sign * src[j];
            }
    }
}

/* The largest l of `irreps` into *lmax (0 on failure, so the out-parameter is always set). */
static e3c_status irreps_lmax_any(const e3c_irreps *irreps, int *lmax)
{
    *lmax = 0;
    if (!irreps)
        return e3c_error_set(E3C_ERR_INVALID, "D_from_matrix: NULL irreps");
    if (irreps->len == 0)
        return e3c_error_set(E3C_ERR_VALUE,
                             "D_from_matrix: the Irreps has no entries (e3nn: tuple index out of range)");
    int m = 0;
    for (size_t i = 0; i < irreps->len; i++) {
        if (irreps->items[i].ir.l > E3C_WIGNER_LMAX)
            return e3c_error_set(E3C_ERR_INVALID, "D_from_matrix: l = %d is above %d", irreps->items[i].ir.l,
                                 E3C_WIGNER_LMAX);
        if (irreps->items[i].ir.l > m)
            m = irreps->items[i].ir.l;
    }
    *lmax = m;
    return E3C_OK;
}

e3c_status e3c_irreps_D_from_matrix(double *D, const e3c_irreps *irreps, size_t n, const double *R)
{
    int lmax;
    e3c_status st = irreps_lmax_any(irreps, &lmax);
    if (st)
        return st;
    if (n && (!R || !D))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_D_from_matrix: NULL argument");
    int64_t dim = e3c_irreps_dim(irreps);
    double *bands = malloc(bands_size(lmax) * sizeof *bands);
    if (!bands)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for Wigner D bands up to l = %d", lmax);
    memset(D, 0, n * (size_t)dim * (size_t)dim * sizeof *D);
    for (size_t r = 0; r < n; r++) {
        const double *Ri = R + 9 * r;
        double det = Ri[0] * (Ri[4] * Ri[8] - Ri[5] * Ri[7]) - Ri[1] * (Ri[3] * Ri[8] - Ri[5] * Ri[6]) +
                     Ri[2] * (Ri[3] * Ri[7] - Ri[4] * Ri[6]);
        double proper[9];
        int k = det < 0;
        for (int i = 0; i < 9; i++)
            proper[i] = k ? -Ri[i] : Ri[i];
        all_bands(lmax, proper, bands);
        place_blocks(irreps, bands, k, dim, D + r * (size_t)dim * (size_t)dim);
    }
    free(bands);
    return E3C_OK;
}

e3c_status e3c_irreps_D_from_angles(double *D, const e3c_irreps *irreps, double alpha, double beta, double gamma, int k)
{
    int lmax;
    e3c_status st = irreps_lmax_any(irreps, &lmax);
    if (st)
        return st;
    if (!D)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_D_from_angles: NULL argument");
    int64_t dim = e3c_irreps_dim(irreps);
    double R[9];
    e3c_angles_to_matrix(R, alpha, beta, gamma);
    double *bands = malloc(bands_size(lmax) * sizeof *bands);
    if (!bands)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for Wigner D bands up to l = %d", lmax);
    memset(D, 0, (size_t)dim * (size_t)dim * sizeof *D);
    all_bands(lmax, R, bands);
    place_blocks(irreps, bands, k < 0 ? -k : k, dim, D);
    free(bands);
    return E3C_OK;
}

e3c_status e3c_irreps_D_from_matrix_tensor(e3c_tensor **out, const e3c_irreps *irreps, const e3c_tensor *R)
{
    if (!out || !irreps || !R)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_D_from_matrix_tensor: NULL argument");
    *out = NULL;
    int64_t shape[E3C_MAX_DIMS];
    int ndim = 0;
    e3c_status st = e3c_tensor_shape(shape, E3C_MAX_DIMS, &ndim, R);
    if (st)
        return st;
    if (ndim < 2 || shape[ndim - 1] != 3 || shape[ndim - 2] != 3)
        return e3c_error_set(E3C_ERR_INVALID, "D_from_matrix: R must have shape (..., 3, 3)");
    size_t n = (size_t)(e3c_tensor_numel(R) / 9);
    int64_t dim = e3c_irreps_dim(irreps);
    shape[ndim - 2] = dim;
    shape[ndim - 1] = dim;
    e3c_tensor *Rd = NULL, *D = NULL;
    void *rdata = NULL, *ddata = NULL;
    st = e3c_tensor_to(&Rd, R, E3C_FLOAT64);
    if (!st)
        st = e3c_tensor_zeros(&D, E3C_FLOAT64, shape, ndim);
    if (!st)
        st = e3c_tensor_data(&rdata, Rd);
    if (!st)
        st = e3c_tensor_data(&ddata, D);
    if (!st)
        st = e3c_irreps_D_from_matrix(ddata, irreps, n, rdata);
    e3c_tensor_free(Rd);
    if (st) {
        e3c_tensor_free(D);
        return st;
    }
    *out = D;
    return E3C_OK;
}
