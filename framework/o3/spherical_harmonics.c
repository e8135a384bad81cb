/* Spherical harmonics in e3nn's convention.
 *
 * e3nn's component-normalized Y^l_m(x, y, z) equals sqrt(4 pi) times the standard
 * orthonormal real harmonic (no Condon-Shortley phase) evaluated at (z, x, y): y is the
 * polar axis and (z + i x)^m gives the azimuthal part. They are computed here as solid
 * harmonics (homogeneous polynomials) with the usual three-term recurrence, which is
 * exactly what normalize=false asks for; normalize=true divides x by |x| first.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "e3check/o3.h"

static const double SQRT2 = 1.4142135623730951;
static const double FOUR_PI = 12.566370614359172;

/* Solid harmonics of one point up to lmax, component normalization, e3nn's order:
 * out[l*l + (m + l)] for m = -l..l. `work` holds 2 * (lmax + 1) doubles. */
static void solid_harmonics(int lmax, double x, double y, double z, double *out, double *work)
{
    double xw = z, yw = x, zw = y; /* standard axes: polar axis zw */
    double r2 = x * x + y * y + z * z;
    double *cm = work, *sm = work + (lmax + 1); /* (xw + i yw)^m */
    cm[0] = 1.0;
    sm[0] = 0.0;
    for (int m = 1; m <= lmax; m++) {
        cm[m] = cm[m - 1] * xw - sm[m - 1] * yw;
        sm[m] = sm[m - 1] * xw + cm[m - 1] * yw;
    }
    for (int m = 0; m <= lmax; m++) {
        /* Q^m_l: Q^m_m = (2m-1)!!, Q^m_{m+1} = (2m+1) zw Q^m_m, then the three-term rule. */
        double q_prev = 0.0, q = 1.0;
        for (int k = 1; k <= m; k++)
            q *= (double)(2 * k - 1);
        /* norm = sqrt((2l+1) (l-m)! / (l+m)!), updated as l grows */
        double ratio = 1.0; /* (l-m)!/(l+m)! at l = m: 1/(2m)! */
        for (int k = 2; k <= 2 * m; k++)
            ratio /= (double)k;
        for (int l = m; l <= lmax; l++) {
            if (l > m) {
                double qn = ((2 * l - 1) * zw * q - (l + m - 1) * r2 * q_prev) / (double)(l - m);
                q_prev = q;
                q = qn;
                ratio *= (double)(l - m) / (double)(l + m);
            }
            double norm = sqrt((2 * l + 1) * ratio);
            double *band = out + (size_t)l * l + l;
            if (m == 0) {
                band[0] = norm * q;
            } else {
                band[m] = SQRT2 * norm * q * cm[m];
                band[-m] = SQRT2 * norm * q * sm[m];
            }
        }
    }
}

e3c_status e3c_spherical_harmonics(double *out, const int *ls, size_t nls, size_t n, const double *xyz, int normalize,
                                   e3c_normalization normalization)
{
    if ((nls && !ls) || (n && (!xyz || !out)))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_spherical_harmonics: NULL argument");
    if (normalization != E3C_NORM_COMPONENT && normalization != E3C_NORM_NORM && normalization != E3C_NORM_INTEGRAL)
        return e3c_error_set(E3C_ERR_VALUE, "spherical_harmonics: unknown normalization %d", (int)normalization);
    int lmax = 0;
    size_t width = 0;
    for (size_t i = 0; i < nls; i++) {
        if (ls[i] < 0 || ls[i] > E3C_SH_LMAX)
            return e3c_error_set(E3C_ERR_VALUE, "spherical_harmonics: l = %d is outside 0..%d", ls[i], E3C_SH_LMAX);
        if (ls[i] > lmax)
            lmax = ls[i];
        width += 2 * (size_t)ls[i] + 1;
    }
    double *all = malloc(((size_t)(lmax + 1) * (lmax + 1) + 2 * (size_t)(lmax + 1)) * sizeof *all);
    if (!all)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for spherical harmonics up to l = %d", lmax);
    double *work = all + (size_t)(lmax + 1) * (lmax + 1);
    for (size_t p = 0; p < n; p++) {
        double x = xyz[3 * p], y = xyz[3 * p + 1], z = xyz[3 * p + 2];
        if (normalize) {
            double r = sqrt(x * x + y * y + z * z);
            double d = r > 1e-12 ? r : 1e-12; /* F.normalize: zero stays zero */
            x /= d;
            y /= d;
            z /= d;
        }
        solid_harmonics(lmax, x, y, z, all, work);
        double *dst = out + p * width;
        for (size_t i = 0; i < nls; i++) {
            int l = ls[i];
            double scale = normalization == E3C_NORM_NORM       ? 1.0 / sqrt(2.0 * l + 1.0)
                           : normalization == E3C_NORM_INTEGRAL ? 1.0 / sqrt(FOUR_PI)
                                                                : 1.0;
            const double *src = all + (size_t)l * l;
            for (int k = 0; k < 2 * l + 1; k++)
                dst[k] = src[k] * scale;
            dst += 2 * l + 1;
        }
    }
    free(all);
    return E3C_OK;
}

e3c_status e3c_sh_irreps_to_ls(int **ls, size_t *nls, int *p_in, const e3c_irreps *irreps_out)
{
    if (!irreps_out || !ls || !nls)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_sh_irreps_to_ls: NULL argument");
    int input_p = -1;
    for (size_t i = 0; i < irreps_out->len; i++)
        if (irreps_out->items[i].ir.l % 2 == 1 && irreps_out->items[i].ir.p == 1)
            input_p = 1;
    size_t count = (size_t)e3c_irreps_num_irreps(irreps_out);
    int *out = malloc((count ? count : 1) * sizeof *out);
    if (!out)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for %zu degrees", count);
    size_t k = 0;
    for (size_t i = 0; i < irreps_out->len; i++) {
        const e3c_mulir *m = &irreps_out->items[i];
        int want = (input_p == -1 && m->ir.l % 2) ? -1 : 1;
        if (m->ir.p != want) {
            char *text = NULL;
            e3c_irreps_format(&text, irreps_out);
            e3c_error_set(E3C_ERR_VALUE,
                          "irreps_out `%s` passed to SphericalHarmonics asked for an output of l = %d with "
                          "parity p = %d, which is inconsistent with the input parity %d \xe2\x80\x94 the output "
                          "parity should have been p = %d",
                          text ? text : "?", m->ir.l, m->ir.p, input_p, want);
            free(text);
            free(out);
            return E3C_ERR_VALUE;
        }
        for (int64_t c = 0; c < m->mul; c++)
            out[k++] = m->ir.l;
    }
    *ls = out;
    *nls = k;
    if (p_in)
        *p_in = input_p;
    return E3C_OK;
}
