/* e3check — rotations, Wigner D and 3j matrices, spherical harmonics, in e3nn 0.5.6's
 * exact conventions.
 *
 * Conventions (the same as e3nn's, see shared/reference/E3NN_SEMANTICS.md section 3):
 * - angles are in radians; Euler angles are Y-X-Y: R(a, b, c) = Y(a) X(b) Y(c);
 * - rotation matrices are row-major double[9]; batches are contiguous arrays of them;
 * - representations use e3nn's real basis, m = -l..l; for l = 1 the basis is (x, y, z)
 *   and D(R) = R; the polar axis of the spherical harmonics is y;
 * - an improper matrix -R0 acts on an irrep of parity p as p * D(R0).
 * Functions on plain arrays never allocate unless they say so; tensor variants return new
 * tensors the caller owns.
 */
#ifndef E3CHECK_O3_H
#define E3CHECK_O3_H

#include "e3check/export.h"

#include <stddef.h>

#include "e3check/error.h"
#include "e3check/irreps.h"
#include "e3check/torch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ rotations ------ */

/** Rotation by angle t about x: [[1,0,0],[0,c,-s],[0,s,c]]. */
E3C_API void e3c_matrix_x(double R[9], double t);
/** Rotation by angle t about y: [[c,0,s],[0,1,0],[-s,0,c]]. */
E3C_API void e3c_matrix_y(double R[9], double t);
/** Rotation by angle t about z: [[c,-s,0],[s,c,0],[0,0,1]]. */
E3C_API void e3c_matrix_z(double R[9], double t);

/** R = Y(alpha) X(beta) Y(gamma) (gamma applied first). */
E3C_API void e3c_angles_to_matrix(double R[9], double alpha, double beta, double gamma);

/** Euler angles of a rotation, as e3nn's matrix_to_angles (beta in [0, pi]).
 *  E3C_ERR_VALUE when det(R) is not close to +1 (an improper or non-orthogonal matrix). */
E3C_API e3c_status e3c_matrix_to_angles(double *alpha, double *beta, double *gamma, const double R[9]);

/** Angles of a direction, as e3nn's xyz_to_angles: beta = acos(y/|v|), alpha =
 *  atan2(x, z); the zero vector gives (0, pi/2). */
E3C_API void e3c_xyz_to_angles(double *alpha, double *beta, const double v[3]);

/** Unit vector (sin b sin a, cos b, sin b cos a). */
E3C_API void e3c_angles_to_xyz(double v[3], double alpha, double beta);

/** n Haar-random Euler angles drawn as e3nn's rand_angles(n) after the same seed: one
 *  rand(2, n) then one rand(n) in `dtype`, with alpha = 2 pi u0, gamma = 2 pi u1,
 *  beta = acos(2 v - 1) (computed in `dtype`). Arrays of n each. */
E3C_API e3c_status e3c_rand_angles(double *alpha, double *beta, double *gamma, e3c_generator *g, e3c_dtype dtype,
                                   size_t n);

/** n Haar-random rotation matrices (n * 9 doubles), as e3nn's rand_matrix(n); with float64
 *  and the same seed the bits equal e3nn's. n = 0 is allowed and draws as rand_matrix(). */
E3C_API e3c_status e3c_rand_matrix(double *R, e3c_generator *g, e3c_dtype dtype, size_t n);

/** Check that R is orthogonal (max |R R^T - I| <= tol) with det +-1; *det_sign gets +1 or
 *  -1 (may be NULL). E3C_ERR_VALUE with the measured deviation otherwise. */
E3C_API e3c_status e3c_rotation_check(int *det_sign, const double R[9], double tol);

/** The orthogonal matrix nearest to M in the Frobenius norm (U V^T of the SVD, LAPACKE),
 *  keeping M's handedness. E3C_ERR_VALUE for a singular or non-finite M. */
E3C_API e3c_status e3c_rotation_nearest(double R[9], const double M[9]);

/* ------------------------------------------------------------------ Wigner D ------- */

/** Largest l supported by the Wigner D routines. */
#define E3C_WIGNER_LMAX 100

/** D^l(R) for a proper rotation R, (2l+1) x (2l+1) row-major into D. Built band by band
 *  from R (Ivanic & Ruedenberg's recursion). E3C_ERR_INVALID for l outside 0..100. */
E3C_API e3c_status e3c_wigner_D_matrix(double *D, int l, const double R[9]);

/** D^l of Euler angles (as e3nn's wigner_D(l, a, b, c)). */
E3C_API e3c_status e3c_wigner_D_angles(double *D, int l, double alpha, double beta, double gamma);

/** Block-diagonal D of an Irreps for `n` matrices R (n * 9 doubles, proper or improper):
 *  D gets n * dim * dim doubles. An improper R = -R0 contributes p^1 per irrep, as e3nn's
 *  D_from_matrix. E3C_ERR_VALUE for an Irreps with no entries (e3nn raises too). */
E3C_API e3c_status e3c_irreps_D_from_matrix(double *D, const e3c_irreps *irreps, size_t n, const double *R);

/** Block-diagonal D of an Irreps for Euler angles and k parity applications
 *  (D_from_angles(a, b, c, k)): D gets dim * dim doubles. */
E3C_API e3c_status e3c_irreps_D_from_angles(double *D, const e3c_irreps *irreps, double alpha, double beta,
                                            double gamma, int k);

/** Tensor form: R of shape (..., 3, 3) (float32 or float64) to D of shape (..., dim, dim)
 *  in float64. Caller owns *out. */
E3C_API e3c_status e3c_irreps_D_from_matrix_tensor(e3c_tensor **out, const e3c_irreps *irreps, const e3c_tensor *R);

/* ------------------------------------------------------------------ Wigner 3j ------ */

/** e3nn's wigner_3j(l1, l2, l3): C of shape (2l1+1, 2l2+1, 2l3+1), row-major, with
 *  sum C^2 = 1 and e3nn's sign. E3C_ERR_VALUE unless |l2-l3| <= l1 <= l2+l3;
 *  E3C_ERR_INVALID for l above 30. */
E3C_API e3c_status e3c_wigner_3j(double *C, int l1, int l2, int l3);

/* ------------------------------------------------------------------ harmonics ------ */

/** Largest l of the spherical harmonics (e3nn 0.5.6 stops at 11; e3check goes further). */
#define E3C_SH_LMAX 40

/** Spherical harmonics Y^l for each l in ls[0..nls) of n points xyz (n * 3 doubles),
 *  concatenated per point: out gets n * sum(2l+1) doubles. normalize: map x to x/|x|
 *  first (zero stays zero); normalization: component, norm or integral, as e3nn's
 *  spherical_harmonics. */
E3C_API e3c_status e3c_spherical_harmonics(double *out, const int *ls, size_t nls, size_t n, const double *xyz,
                                           int normalize, e3c_normalization normalization);

/** The degrees and input parity of e3nn's SphericalHarmonics(irreps_out): each entry
 *  mul x l p contributes l `mul` times; the input is 1e when some odd l has p = +1, else
 *  1o, and every entry must have p = p_in^l (E3C_ERR_VALUE with e3nn's message).
 *  Caller owns *ls (free()); *p_in may be NULL. */
E3C_API e3c_status e3c_sh_irreps_to_ls(int **ls, size_t *nls, int *p_in, const e3c_irreps *irreps_out);

#ifdef __cplusplus
}
#endif
#endif
