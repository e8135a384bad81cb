/* Wigner 3j symbols in e3nn's real basis, normalization and sign.
 *
 * As e3nn 0.5.6 does: SU(2) Clebsch-Gordan coefficients from Racah's formula, rotated
 * into the real basis with e3nn's change_basis_real_to_complex (including its (-i)^l
 * factor), the imaginary part checked to vanish, then divided by the Frobenius norm.
 * The basis-change matrices have two entries per row and column, so each output entry is
 * a sum of at most eight terms.
 */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "e3check/o3.h"

enum { LMAX_3J = 30, FACT_MAX = 3 * LMAX_3J + 2 };

static long double factorial(int n)
{
    long double f = 1.0L;
    for (int i = 2; i <= n; i++)
        f *= (long double)i;
    return f;
}

/* <l1 m1 l2 m2 | l3 m3> by Racah's formula (integer l and m). */
static double clebsch_gordan(int l1, int m1, int l2, int m2, int l3, int m3)
{
    if (m3 != m1 + m2)
        return 0.0;
    int vmin = -l1 + l2 + m3;
    if (-l1 + m1 > vmin)
        vmin = -l1 + m1;
    if (vmin < 0)
        vmin = 0;
    int vmax = l2 + l3 + m1;
    if (l3 - l1 + l2 < vmax)
        vmax = l3 - l1 + l2;
    if (l3 + m3 < vmax)
        vmax = l3 + m3;
    long double c = (2.0L * l3 + 1.0L) * factorial(l3 + l1 - l2) * factorial(l3 - l1 + l2) * factorial(l1 + l2 - l3) *
                    factorial(l3 + m3) * factorial(l3 - m3) /
                    (factorial(l1 + l2 + l3 + 1) * factorial(l1 - m1) * factorial(l1 + m1) * factorial(l2 - m2) *
                     factorial(l2 + m2));
    long double s = 0.0L;
    for (int v = vmin; v <= vmax; v++) {
        long double t =
            factorial(l2 + l3 + m1 - v) * factorial(l1 - m1 + v) /
            (factorial(v) * factorial(l3 - l1 + l2 - v) * factorial(l3 + m3 - v) * factorial(v + l1 - l2 - m3));
        s += ((v + l2 + m2) % 2 ? -t : t);
    }
    return (double)(sqrtl(c) * s);
}

/* e3nn's change_basis_real_to_complex(l)[row][col]: nonzero columns of `row` are
 * l + |m| and l - |m| (m = row - l). Returns the entry. */
static double complex q_entry(int l, int row, int col)
{
    int m = row - l, am = abs(m);
    double complex v = 0.0;
    const double h = 0.70710678118654752440; /* 1 / sqrt(2) */
    if (m < 0) {
        if (col == l + am)
            v = h;
        else if (col == l - am)
            v = -I * h;
    } else if (m == 0) {
        v = col == l ? 1.0 : 0.0;
    } else {
        double sgn = m % 2 ? -1.0 : 1.0;
        if (col == l + am)
            v = sgn * h;
        else if (col == l - am)
            v = I * sgn * h;
    }
    /* times (-i)^l */
    static const double complex phase[4] = {1.0, -I, -1.0, I};
    return v * phase[l % 4];
}

/* Rows of Q with a nonzero entry in column `col`: {col, 2l - col} (one when equal). */
static int rows_of(int l, int col, int rows[2])
{
    rows[0] = col;
    rows[1] = 2 * l - col;
    return rows[0] == rows[1] ? 1 : 2;
}

e3c_status e3c_wigner_3j(double *C, int l1, int l2, int l3)
{
    if (!C)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_wigner_3j: NULL argument");
    if (l1 < 0 || l2 < 0 || l3 < 0 || abs(l2 - l3) > l1 || l1 > l2 + l3)
        return e3c_error_set(E3C_ERR_VALUE, "wigner_3j(%d, %d, %d): need |l2 - l3| <= l1 <= l2 + l3", l1, l2, l3);
    if (l1 > LMAX_3J || l2 > LMAX_3J || l3 > LMAX_3J)
        return e3c_error_set(E3C_ERR_INVALID, "wigner_3j(%d, %d, %d): l above %d is not supported", l1, l2, l3,
                             LMAX_3J);
    int d1 = 2 * l1 + 1, d2 = 2 * l2 + 1, d3 = 2 * l3 + 1;
    double norm2 = 0.0, worst_imag = 0.0;
    for (int j = 0; j < d1; j++)
        for (int k = 0; k < d2; k++)
            for (int m = 0; m < d3; m++) {
                int ri[2], rk[2], rn[2];
                int ni = rows_of(l1, j, ri), nk = rows_of(l2, k, rk), nn = rows_of(l3, m, rn);
                double complex s = 0.0;
                for (int a = 0; a < ni; a++)
                    for (int b = 0; b < nk; b++)
                        for (int c = 0; c < nn; c++) {
                            int i = ri[a], kk = rk[b], n = rn[c];
                            double cg = clebsch_gordan(l1, i - l1, l2, kk - l2, l3, n - l3);
                            if (cg == 0.0)
                                continue;
                            s += q_entry(l1, i, j) * q_entry(l2, kk, k) * conj(q_entry(l3, n, m)) * cg;
                        }
                double re = creal(s);
                if (fabs(cimag(s)) > worst_imag)
                    worst_imag = fabs(cimag(s));
                C[((size_t)j * d2 + k) * d3 + m] = re;
                norm2 += re * re;
            }
    if (worst_imag > 1e-5 || !(norm2 > 0.0))
        return e3c_error_set(E3C_ERR_INTERNAL, "wigner_3j(%d, %d, %d): basis change left an imaginary part %.3g", l1,
                             l2, l3, worst_imag);
    double inv = 1.0 / sqrt(norm2);
    for (size_t i = 0; i < (size_t)d1 * d2 * d3; i++)
        C[i] *= inv;
    return E3C_OK;
}
