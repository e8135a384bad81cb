/* Rotation matrices and Euler angles in e3nn's Y-X-Y convention. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "e3check/o3.h"

static const double PI = 3.141592653589793;

void e3c_matrix_x(double R[9], double t)
{
    double c = cos(t), s = sin(t);
    const double m[9] = {1, 0, 0, 0, c, -s, 0, s, c};
    memcpy(R, m, sizeof m);
}

void e3c_matrix_y(double R[9], double t)
{
    double c = cos(t), s = sin(t);
    const double m[9] = {c, 0, s, 0, 1, 0, -s, 0, c};
    memcpy(R, m, sizeof m);
}

void e3c_matrix_z(double R[9], double t)
{
    double c = cos(t), s = sin(t);
    const double m[9] = {c, -s, 0, s, c, 0, 0, 0, 1};
    memcpy(R, m, sizeof m);
}

/* out = a @ b for 3x3 row-major matrices, summing k in order (as torch does for 3x3). */
static void matmul3(const double a[9], const double b[9], double out[9])
{
    double r[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0.0;
            for (int k = 0; k < 3; k++)
                s += a[3 * i + k] * b[3 * k + j];
            r[3 * i + j] = s;
        }
    memcpy(out, r, sizeof r);
}

void e3c_angles_to_matrix(double R[9], double alpha, double beta, double gamma)
{
    double ya[9], xb[9], yc[9];
    e3c_matrix_y(ya, alpha);
    e3c_matrix_x(xb, beta);
    e3c_matrix_y(yc, gamma);
    matmul3(ya, xb, R);
    matmul3(R, yc, R);
}

static double det3(const double R[9])
{
    return R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) + R[2] * (R[3] * R[7] - R[4] * R[6]);
}

void e3c_xyz_to_angles(double *alpha, double *beta, const double v[3])
{
    double n = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    double d = n > 1e-12 ? n : 1e-12; /* F.normalize's eps: zero stays zero */
    double x = v[0] / d, y = v[1] / d, z = v[2] / d;
    y = y < -1.0 ? -1.0 : y > 1.0 ? 1.0 : y;
    *beta = acos(y);
    *alpha = atan2(x, z);
}

void e3c_angles_to_xyz(double v[3], double alpha, double beta)
{
    v[0] = sin(beta) * sin(alpha);
    v[1] = cos(beta);
    v[2] = sin(beta) * cos(alpha);
}

e3c_status e3c_matrix_to_angles(double *alpha, double *beta, double *gamma, const double R[9])
{
    if (!R || !alpha || !beta || !gamma)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_matrix_to_angles: NULL argument");
    double det = det3(R);
    if (!(fabs(det - 1.0) <= 1e-8 + 1e-5)) /* torch.allclose(det, 1) */
        return e3c_error_set(E3C_ERR_VALUE, "matrix_to_angles needs a proper rotation (det = 1), got det = %.6g", det);
    const double ey[3] = {R[1], R[4], R[7]}; /* R @ (0, 1, 0) */
    double a, b;
    e3c_xyz_to_angles(&a, &b, ey);
    double Rab[9], Rt[9], rest[9];
    e3c_angles_to_matrix(Rab, a, b, 0.0);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            Rt[3 * i + j] = Rab[3 * j + i];
    matmul3(Rt, R, rest);
    *alpha = a;
    *beta = b;
    *gamma = atan2(rest[2], rest[0]);
    return E3C_OK;
}

/* Draw e3nn's rand_angles: u = rand(2, n), v = rand(n), in dtype. `shape_n` = 0 means
 * the 0-d case (rand(2) and rand(())). */
e3c_status e3c_rand_angles(double *alpha, double *beta, double *gamma, e3c_generator *g, e3c_dtype dtype, size_t n)
{
    if (!g || !alpha || !beta || !gamma)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_rand_angles: NULL argument");
    if (dtype != E3C_FLOAT32 && dtype != E3C_FLOAT64)
        return e3c_error_set(E3C_ERR_INVALID, "rand_angles: dtype must be float32 or float64");
    size_t count = n ? n : 1;
    int64_t ushape[2] = {2, (int64_t)n};
    int64_t vshape[1] = {(int64_t)n};
    e3c_tensor *u = NULL, *v = NULL;
    double *ud = malloc(2 * count * sizeof *ud), *vd = malloc(count * sizeof *vd);
    e3c_status st = (!ud || !vd) ? e3c_error_set(E3C_ERR_NOMEM, "out of memory for %zu angles", n) : E3C_OK;
    if (!st)
        st = e3c_rand(&u, g, dtype, ushape, n ? 2 : 1);
    if (!st)
        st = e3c_rand(&v, g, dtype, vshape, n ? 1 : 0);
    if (!st)
        st = e3c_tensor_to_doubles(ud, 2 * count, u);
    if (!st)
        st = e3c_tensor_to_doubles(vd, count, v);
    for (size_t i = 0; !st && i < count; i++) {
        if (dtype == E3C_FLOAT64) {
            alpha[i] = 2 * PI * ud[i];
            gamma[i] = 2 * PI * ud[count + i];
            beta[i] = acos(2 * vd[i] - 1);
        } else { /* float32 arithmetic, as torch does on float32 tensors */
            const float two_pi = (float)(2 * PI);
            alpha[i] = (float)(two_pi * (float)ud[i]);
            gamma[i] = (float)(two_pi * (float)ud[count + i]);
            beta[i] = acosf(2.0f * (float)vd[i] - 1.0f);
        }
    }
    e3c_tensor_free(u);
    e3c_tensor_free(v);
    free(ud);
    free(vd);
    return st;
}

/* angles_to_matrix in float32 arithmetic, for rand_matrix(dtype=float32). */
static void angles_to_matrix_f32(float a, float b, float c, double R[9])
{
    float ca = cosf(a), sa = sinf(a), cb = cosf(b), sb = sinf(b), cc = cosf(c), sc = sinf(c);
    const float ya[9] = {ca, 0, sa, 0, 1, 0, -sa, 0, ca};
    const float xb[9] = {1, 0, 0, 0, cb, -sb, 0, sb, cb};
    const float yc[9] = {cc, 0, sc, 0, 1, 0, -sc, 0, cc};
    float t[9], r[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            float s = 0.0f;
            for (int k = 0; k < 3; k++)
                s += ya[3 * i + k] * xb[3 * k + j];
            t[3 * i + j] = s;
        }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            float s = 0.0f;
            for (int k = 0; k < 3; k++)
                s += t[3 * i + k] * yc[3 * k + j];
            r[3 * i + j] = s;
        }
    for (int i = 0; i < 9; i++)
        R[i] = r[i];
}

e3c_status e3c_rand_matrix(double *R, e3c_generator *g, e3c_dtype dtype, size_t n)
{
    if (!R)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_rand_matrix: NULL argument");
    size_t count = n ? n : 1;
    double *angles = malloc(3 * count * sizeof *angles);
    if (!angles)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for %zu rotations", n);
    e3c_status st = e3c_rand_angles(angles, angles + count, angles + 2 * count, g, dtype, n);
    for (size_t i = 0; !st && i < count; i++) {
        if (dtype == E3C_FLOAT64)
            e3c_angles_to_matrix(R + 9 * i, angles[i], angles[count + i], angles[2 * count + i]);
        else
            angles_to_matrix_f32((float)angles[i], (float)angles[count + i], (float)angles[2 * count + i], R + 9 * i);
    }
    free(angles);
    return st;
}

e3c_status e3c_rotation_check(int *det_sign, const double R[9], double tol)
{
    if (!R)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_rotation_check: NULL argument");
    double worst = 0.0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0.0;
            for (int k = 0; k < 3; k++)
                s += R[3 * i + k] * R[3 * j + k];
            double dev = fabs(s - (i == j ? 1.0 : 0.0));
            if (!(dev <= worst)) /* catches NaN */
                worst = isnan(dev) ? INFINITY : dev;
        }
    if (!(worst <= tol))
        return e3c_error_set(E3C_ERR_VALUE, "matrix is not orthogonal: max |R R^T - I| = %.3e > %.3e", worst, tol);
    double det = det3(R);
    if (!(fabs(fabs(det) - 1.0) <= tol))
        return e3c_error_set(E3C_ERR_VALUE, "matrix determinant is %.6g, not +-1", det);
    if (det_sign)
        *det_sign = det > 0 ? 1 : -1;
    return E3C_OK;
}

e3c_status e3c_rotation_nearest(double R[9], const double M[9])
{
    if (!M || !R)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_rotation_nearest: NULL argument");
    double a[9], s[3], u[9], vt[9], superb[2];
    for (int i = 0; i < 9; i++) {
        if (!isfinite(M[i]))
            return e3c_error_set(E3C_ERR_VALUE, "rotation_nearest: matrix has a non-finite entry");
        a[i] = M[i];
    }
    lapack_int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'A', 'A', 3, 3, a, 3, s, u, 3, vt, 3, superb);
    if (info != 0)
        return e3c_error_set(E3C_ERR_VALUE, "rotation_nearest: SVD did not converge (info %d)", (int)info);
    if (!(s[2] > 1e-12 * s[0]))
        return e3c_error_set(E3C_ERR_VALUE, "rotation_nearest: matrix is singular (singular values %.3g, %.3g, %.3g)",
                             s[0], s[1], s[2]);
    matmul3(u, vt, R);
    return E3C_OK;
}
