/* Rotations, Wigner D and 3j, spherical harmonics: e3nn's golden values, closed forms
 * and group properties. */
#include "e3check/o3.h"
#include "test_util.h"

static const double TOL = 1e-12;

static cJSON *rot_golden(void) { return load_json(data_path("golden/rotation_wigner.json")); }

static void assert_all_close(const double *got, const double *want, size_t n, double tol, const char *what)
{
    for (size_t i = 0; i < n; i++)
        cr_assert(close_rel(got[i], want[i], tol), "%s[%zu]: %.17g vs %.17g", what, i, got[i], want[i]);
}

static void matmul(const double *a, const double *b, double *c, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++)
                s += a[i * n + k] * b[k * n + j];
            c[i * n + j] = s;
        }
}

Test(rotation, axis_matrices_and_euler_angles_match_e3nn)
{
    cJSON *g = rot_golden();
    const cJSON *conv = cJSON_GetObjectItem(g, "conventions");
    double t = cJSON_GetObjectItem(conv, "t")->valuedouble, R[9], want[9];
    void (*fns[3])(double *, double) = {e3c_matrix_x, e3c_matrix_y, e3c_matrix_z};
    const char *names[3] = {"matrix_x(t)", "matrix_y(t)", "matrix_z(t)"};
    for (int i = 0; i < 3; i++) {
        fns[i](R, t);
        json_flatten(cJSON_GetObjectItem(conv, names[i]), want, 9);
        assert_all_close(R, want, 9, 0, names[i]);
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "angles_to_matrix")) {
        double a[3];
        json_flatten(cJSON_GetObjectItem(c, "angles"), a, 3);
        json_flatten(cJSON_GetObjectItem(c, "R"), want, 9);
        e3c_angles_to_matrix(R, a[0], a[1], a[2]);
        assert_all_close(R, want, 9, TOL, "angles_to_matrix");
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "matrix_to_angles")) {
        double a[3], got[3];
        json_flatten(cJSON_GetObjectItem(c, "angles"), a, 3);
        json_flatten(cJSON_GetObjectItem(c, "R"), R, 9);
        E3C_ASSERT_OK(e3c_matrix_to_angles(&got[0], &got[1], &got[2], R));
        assert_all_close(got, a, 3, TOL, "matrix_to_angles");
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "xyz_to_angles")) {
        double v[3], ab[2], got[2];
        json_flatten(cJSON_GetObjectItem(c, "xyz"), v, 3);
        json_flatten(cJSON_GetObjectItem(c, "alpha_beta"), ab, 2);
        e3c_xyz_to_angles(&got[0], &got[1], v);
        assert_all_close(got, ab, 2, TOL, "xyz_to_angles");
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(g, "angles_to_xyz")) {
        double v[3], ab[2], got[3];
        json_flatten(cJSON_GetObjectItem(c, "xyz"), v, 3);
        json_flatten(cJSON_GetObjectItem(c, "alpha_beta"), ab, 2);
        e3c_angles_to_xyz(got, ab[0], ab[1]);
        assert_all_close(got, v, 3, TOL, "angles_to_xyz");
    }
    double improper[9] = {-1, 0, 0, 0, -1, 0, 0, 0, -1}, a, b, cc;
    E3C_ASSERT_FAILS(e3c_matrix_to_angles(&a, &b, &cc, improper), E3C_ERR_VALUE, "det = -1");
    cJSON_Delete(g);
}

Test(rotation, seeded_rand_matrix_is_bit_identical_to_e3nn)
{
    cJSON *g = rot_golden();
    const cJSON *rng = cJSON_GetObjectItem(g, "rng_rand_matrix");
    const char *dtypes[2] = {"torch.float64", "torch.float32"};
    for (int d = 0; d < 2; d++) {
        e3c_dtype dt = d == 0 ? E3C_FLOAT64 : E3C_FLOAT32;
        double tol = d == 0 ? 0.0 : 1e-6;
        const cJSON *gd = cJSON_GetObjectItem(rng, dtypes[d]);
        double want[27], R[27], ang[3];
        e3c_generator *gen = NULL;
        E3C_ASSERT_OK(e3c_generator_new(&gen, 0));
        E3C_ASSERT_OK(e3c_rand_matrix(R, gen, dt, 0));
        json_flatten(cJSON_GetObjectItem(gd, "rand_matrix()"), want, 9);
        assert_all_close(R, want, 9, tol, dtypes[d]);
        e3c_generator_free(gen);

        E3C_ASSERT_OK(e3c_generator_new(&gen, 0));
        E3C_ASSERT_OK(e3c_rand_angles(&ang[0], &ang[1], &ang[2], gen, dt, 0));
        json_flatten(cJSON_GetObjectItem(gd, "rand_angles()"), want, 3);
        assert_all_close(ang, want, 3, tol, "rand_angles()");
        e3c_generator_free(gen);

        E3C_ASSERT_OK(e3c_generator_new(&gen, 0));
        E3C_ASSERT_OK(e3c_rand_matrix(R, gen, dt, 3));
        json_flatten(cJSON_GetObjectItem(gd, "rand_matrix(3)"), want, 27);
        assert_all_close(R, want, 27, tol, "rand_matrix(3)");
        e3c_generator_free(gen);
    }
    cJSON_Delete(g);
}

Test(rotation, validation_and_nearest_rotation)
{
    double R[9];
    e3c_angles_to_matrix(R, 0.4, 1.2, -2.0);
    int sign = 0;
    E3C_ASSERT_OK(e3c_rotation_check(&sign, R, 1e-9));
    cr_assert_eq(sign, 1);
    double M[9];
    for (int i = 0; i < 9; i++)
        M[i] = -R[i];
    E3C_ASSERT_OK(e3c_rotation_check(&sign, M, 1e-9));
    cr_assert_eq(sign, -1);
    M[4] += 1e-4;
    E3C_ASSERT_FAILS(e3c_rotation_check(NULL, M, 1e-9), E3C_ERR_VALUE, "not orthogonal");
    double fixed[9];
    E3C_ASSERT_OK(e3c_rotation_nearest(fixed, M));
    E3C_ASSERT_OK(e3c_rotation_check(&sign, fixed, 1e-12));
    cr_assert_eq(sign, -1, "the nearest orthogonal matrix keeps the handedness");
    for (int i = 0; i < 9; i++)
        cr_assert(fabs(fixed[i] + R[i]) < 1e-4);
    double zero[9] = {0};
    E3C_ASSERT_FAILS(e3c_rotation_nearest(fixed, zero), E3C_ERR_VALUE, "singular");
    double nan_m[9] = {NAN, 0, 0, 0, 1, 0, 0, 0, 1};
    E3C_ASSERT_FAILS(e3c_rotation_check(NULL, nan_m, 1e-9), E3C_ERR_VALUE, "not orthogonal");
}

/* The number of cases of each table in golden/rotation_wigner.json and golden/sh_randn.json. */
enum { N_WIGNER_D = 20, N_D_FROM_MATRIX = 15, N_WIGNER_3J = 10, N_SH = 7 };

ParameterizedTestParameters(wigner, D_matches_e3nn_golden_for_l_up_to_4) { return case_indices(N_WIGNER_D); }

ParameterizedTest(size_t *i, wigner, D_matches_e3nn_golden_for_l_up_to_4)
{
    cJSON *g = rot_golden();
    const cJSON *c = table_case(cJSON_GetObjectItem(g, "wigner_D"), "wigner_D", *i, N_WIGNER_D);
    int l = cJSON_GetObjectItem(c, "l")->valueint;
    set_test_case("wigner_D #%zu (l = %d)", *i, l);
    double a[3], want[81], D[81];
    json_flatten(cJSON_GetObjectItem(c, "angles"), a, 3);
    size_t size = json_flatten(cJSON_GetObjectItem(c, "D"), want, 81);
    cr_assert_eq(size, (size_t)(2 * l + 1) * (2 * l + 1), "%s%zu values", test_case(), size);
    E3C_ASSERT_OK(e3c_wigner_D_angles(D, l, a[0], a[1], a[2]));
    assert_all_close(D, want, size, TOL, test_case());
    cJSON_Delete(g);
}

ParameterizedTestParameters(wigner, D_from_matrix_matches_e3nn_with_parity) { return case_indices(N_D_FROM_MATRIX); }

ParameterizedTest(size_t *i, wigner, D_from_matrix_matches_e3nn_with_parity)
{
    cJSON *g = rot_golden();
    const cJSON *c = table_case(cJSON_GetObjectItem(g, "D_from_matrix"), "D_from_matrix", *i, N_D_FROM_MATRIX);
    const char *irreps = cJSON_GetObjectItem(c, "irreps")->valuestring;
    set_test_case("D_from_matrix #%zu (%s, R %s)", *i, irreps, cJSON_GetObjectItem(c, "R_name")->valuestring);
    e3c_irreps ir;
    E3C_ASSERT_OK(e3c_irreps_parse(&ir, irreps));
    int64_t dim = e3c_irreps_dim(&ir);
    double R[9], want[400], D[400];
    json_flatten(cJSON_GetObjectItem(c, "R"), R, 9);
    size_t size = json_flatten(cJSON_GetObjectItem(c, "D"), want, 400);
    cr_assert_eq(size, (size_t)(dim * dim), "%s%zu values", test_case(), size);
    E3C_ASSERT_OK(e3c_irreps_D_from_matrix(D, &ir, 1, R));
    assert_all_close(D, want, size, TOL, test_case());
    e3c_irreps_free(&ir);
    cJSON_Delete(g);
}

Test(wigner, D_from_matrix_of_no_irreps_is_refused)
{
    e3c_irreps empty;
    E3C_ASSERT_OK(e3c_irreps_parse(&empty, ""));
    double I3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, D[1];
    E3C_ASSERT_FAILS(e3c_irreps_D_from_matrix(D, &empty, 1, I3), E3C_ERR_VALUE, "no entries");
    e3c_irreps_free(&empty);
}

Test(wigner, l1_is_R_and_identity_maps_to_identity)
{
    double R[9], D[9];
    e3c_angles_to_matrix(R, 1.0, 2.0, 3.0);
    E3C_ASSERT_OK(e3c_wigner_D_matrix(D, 1, R));
    assert_all_close(D, R, 9, 0, "D1 == R");
    double I3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    for (int l = 0; l <= 20; l++) {
        int d = 2 * l + 1;
        double *Dl = malloc(sizeof(double) * d * d);
        E3C_ASSERT_OK(e3c_wigner_D_matrix(Dl, l, I3));
        for (int i = 0; i < d * d; i++)
            cr_assert(fabs(Dl[i] - (i % (d + 1) == 0 ? 1.0 : 0.0)) <= 1e-15, "D%d(I)[%d] = %g", l, i, Dl[i]);
        free(Dl);
    }
}

/* D(R1 R2) = D(R1) D(R2) and D orthogonal, for l up to 20, on seeded random rotations. */
Test(wigner, homomorphism_and_orthogonality_up_to_l20)
{
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 1234));
    double R[27];
    E3C_ASSERT_OK(e3c_rand_matrix(R, g, E3C_FLOAT64, 3));
    double R12[9];
    matmul(R, R + 9, R12, 3);
    for (int l = 0; l <= 20; l++) {
        int d = 2 * l + 1;
        size_t n = (size_t)d * d;
        double *D1 = malloc(n * 8), *D2 = malloc(n * 8), *D12 = malloc(n * 8), *P = malloc(n * 8);
        E3C_ASSERT_OK(e3c_wigner_D_matrix(D1, l, R));
        E3C_ASSERT_OK(e3c_wigner_D_matrix(D2, l, R + 9));
        E3C_ASSERT_OK(e3c_wigner_D_matrix(D12, l, R12));
        matmul(D1, D2, P, d);
        for (size_t i = 0; i < n; i++)
            cr_assert(fabs(P[i] - D12[i]) <= 1e-12, "l=%d: D(R1R2) - D(R1)D(R2) = %g", l, P[i] - D12[i]);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int k = 0; k < d; k++)
                    s += D1[i * d + k] * D1[j * d + k];
                cr_assert(fabs(s - (i == j)) <= 1e-12, "l=%d: D D^T - I = %g", l, s - (i == j));
            }
        free(D1), free(D2), free(D12), free(P);
    }
    e3c_generator_free(g);
}

Test(wigner, improper_matrices_apply_parity)
{
    e3c_irreps ir;
    E3C_ASSERT_OK(e3c_irreps_parse(&ir, "1o+2e"));
    double minus_I[9] = {-1, 0, 0, 0, -1, 0, 0, 0, -1}, D[64];
    E3C_ASSERT_OK(e3c_irreps_D_from_matrix(D, &ir, 1, minus_I));
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++)
            cr_assert(fabs(D[i * 8 + j] - (i == j ? (i < 3 ? -1.0 : 1.0) : 0.0)) < 1e-15);
    e3c_irreps_free(&ir);
    E3C_ASSERT_OK(e3c_irreps_parse(&ir, "1e"));
    double R[9], mR[9];
    e3c_angles_to_matrix(R, 0.1, 0.2, 0.3);
    for (int i = 0; i < 9; i++)
        mR[i] = -R[i];
    E3C_ASSERT_OK(e3c_irreps_D_from_matrix(D, &ir, 1, mR));
    assert_all_close(D, R, 9, 1e-15, "pseudovector");
    e3c_irreps_free(&ir);
}

/* ------------------------------------------------------------------ Wigner 3j ---- */

ParameterizedTestParameters(wigner_3j, matches_e3nn_golden) { return case_indices(N_WIGNER_3J); }

ParameterizedTest(size_t *i, wigner_3j, matches_e3nn_golden)
{
    cJSON *g = rot_golden();
    const cJSON *c = table_case(cJSON_GetObjectItem(g, "wigner_3j"), "wigner_3j", *i, N_WIGNER_3J);
    int l1, l2, l3;
    cr_assert_eq(sscanf(c->string, "%d,%d,%d", &l1, &l2, &l3), 3, "%snot l1,l2,l3", test_case());
    double want[512], C[512];
    size_t n = json_flatten(c, want, 512);
    cr_assert_eq(n, (size_t)(2 * l1 + 1) * (2 * l2 + 1) * (2 * l3 + 1), "%s%zu values", test_case(), n);
    E3C_ASSERT_OK(e3c_wigner_3j(C, l1, l2, l3));
    assert_all_close(C, want, n, TOL, test_case());
    cJSON_Delete(g);
}

Test(wigner_3j, matches_closed_forms_and_refuses_impossible_triples)
{
    double C[27];
    E3C_ASSERT_FAILS(e3c_wigner_3j(C, 1, 1, 3), E3C_ERR_VALUE, "|l2 - l3| <= l1 <= l2 + l3");
    E3C_ASSERT_OK(e3c_wigner_3j(C, 1, 1, 1));
    cr_assert(fabs(C[0 * 9 + 1 * 3 + 2] - 1 / sqrt(6)) < 1e-15, "C[0,1,2] = +1/sqrt(6)");
}

/* C_{lmn} = C_{ijk} D1_{il} D2_{jm} D3_{kn} and sum C^2 = 1 for every triple up to l = 8. */
Test(wigner_3j, invariant_and_normalized_for_all_triples_to_l8)
{
    double R[9];
    e3c_angles_to_matrix(R, 0.7, -1.3, 2.9);
    double *C = malloc(17 * 17 * 17 * 8), *T = malloc(17 * 17 * 17 * 8);
    double *D[9];
    for (int l = 0; l <= 8; l++) {
        D[l] = malloc((size_t)(2 * l + 1) * (2 * l + 1) * 8);
        E3C_ASSERT_OK(e3c_wigner_D_matrix(D[l], l, R));
    }
    for (int l1 = 0; l1 <= 8; l1++)
        for (int l2 = 0; l2 <= 8; l2++)
            for (int l3 = abs(l1 - l2); l3 <= l1 + l2 && l3 <= 8; l3++) {
                int a = 2 * l1 + 1, b = 2 * l2 + 1, c = 2 * l3 + 1;
                E3C_ASSERT_OK(e3c_wigner_3j(C, l1, l2, l3));
                double norm = 0;
                for (int i = 0; i < a * b * c; i++)
                    norm += C[i] * C[i];
                cr_assert(fabs(norm - 1) < 1e-13, "(%d,%d,%d): sum C^2 = %.17g", l1, l2, l3, norm);
                /* T = C contracted with D1 on axis 0, D2 on axis 1, D3 on axis 2 */
                for (int l = 0; l < a; l++)
                    for (int m = 0; m < b; m++)
                        for (int n = 0; n < c; n++) {
                            double s = 0;
                            for (int i = 0; i < a; i++)
                                for (int j = 0; j < b; j++)
                                    for (int k = 0; k < c; k++)
                                        s += C[(i * b + j) * c + k] * D[l1][i * a + l] * D[l2][j * b + m] *
                                             D[l3][k * c + n];
                            T[(l * b + m) * c + n] = s;
                        }
                for (int i = 0; i < a * b * c; i++)
                    cr_assert(fabs(T[i] - C[i]) < 1e-12, "(%d,%d,%d) not invariant: %g", l1, l2, l3, T[i] - C[i]);
            }
    for (int l = 0; l <= 8; l++)
        free(D[l]);
    free(C), free(T);
}

/* ---------------------------------------------------------- spherical harmonics ---- */

static int ls_range[5] = {0, 1, 2, 3, 4};

ParameterizedTestParameters(spherical_harmonics, match_e3nn_golden_for_every_normalization)
{
    return case_indices(N_SH);
}

ParameterizedTest(size_t *i, spherical_harmonics, match_e3nn_golden_for_every_normalization)
{
    cJSON *g = load_json(data_path("golden/sh_randn.json"));
    double x[3];
    json_flatten(cJSON_GetObjectItem(g, "x"), x, 3);
    const cJSON *c = table_case(cJSON_GetObjectItem(g, "cases"), "sh", *i, N_SH);
    int ls[8];
    size_t nls;
    const cJSON *larg = cJSON_GetObjectItem(c, "l_arg");
    if (larg) {
        nls = (size_t)cJSON_GetArraySize(larg);
        for (size_t k = 0; k < nls; k++)
            ls[k] = cJSON_GetArrayItem(larg, (int)k)->valueint;
    } else {
        nls = 5;
        memcpy(ls, ls_range, sizeof ls_range);
    }
    const char *normalization = cJSON_GetObjectItem(c, "normalization")->valuestring;
    int normalize = cJSON_IsTrue(cJSON_GetObjectItem(c, "normalize"));
    set_test_case("sh #%zu (%zu degrees, normalize=%d, %s)", *i, nls, normalize, normalization);
    e3c_normalization norm;
    E3C_ASSERT_OK(e3c_normalization_parse(&norm, normalization));
    double want[64], got[64];
    size_t size = json_flatten(cJSON_GetObjectItem(c, "sh"), want, 64);
    E3C_ASSERT_OK(e3c_spherical_harmonics(got, ls, nls, 1, x, normalize, norm));
    assert_all_close(got, want, size, TOL, test_case());
    cJSON_Delete(g);
}

/* Y(R x) = D(R) Y(x) for l up to 11 (e3nn's range) and beyond, proper rotations. */
Test(spherical_harmonics, are_equivariant_up_to_l_20)
{
    double R[9], x[3] = {0.3, -1.2, 0.8}, rx[3];
    e3c_angles_to_matrix(R, 2.1, 0.4, -0.9);
    for (int i = 0; i < 3; i++)
        rx[i] = R[3 * i] * x[0] + R[3 * i + 1] * x[1] + R[3 * i + 2] * x[2];
    for (int l = 0; l <= 20; l++) {
        int d = 2 * l + 1;
        double y[41], yr[41], D[41 * 41];
        E3C_ASSERT_OK(e3c_spherical_harmonics(y, &l, 1, 1, x, 0, E3C_NORM_COMPONENT));
        E3C_ASSERT_OK(e3c_spherical_harmonics(yr, &l, 1, 1, rx, 0, E3C_NORM_COMPONENT));
        E3C_ASSERT_OK(e3c_wigner_D_matrix(D, l, R));
        double scale = pow(sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]), l);
        for (int i = 0; i < d; i++) {
            double s = 0;
            for (int j = 0; j < d; j++)
                s += D[i * d + j] * y[j];
            cr_assert(fabs(s - yr[i]) <= 1e-12 * scale * sqrt(d), "l=%d m=%d: %g vs %g", l, i - l, s, yr[i]);
        }
    }
}

Test(spherical_harmonics, zero_vector_and_norms)
{
    int ls[3] = {0, 1, 5};
    double zero[3] = {0, 0, 0}, out[1 + 3 + 11];
    E3C_ASSERT_OK(e3c_spherical_harmonics(out, ls, 3, 1, zero, 1, E3C_NORM_COMPONENT));
    cr_assert_eq(out[0], 1.0);
    for (int i = 1; i < 15; i++)
        cr_assert_eq(out[i], 0.0);
    double x[3] = {0.6, 0.0, 0.8}, y[11];
    int l = 5;
    E3C_ASSERT_OK(e3c_spherical_harmonics(y, &l, 1, 1, x, 1, E3C_NORM_NORM));
    double s = 0;
    for (int i = 0; i < 11; i++)
        s += y[i] * y[i];
    cr_assert(fabs(s - 1) < 1e-13, "|Y^5| = 1 in norm normalization");
    int bad = -1;
    E3C_ASSERT_FAILS(e3c_spherical_harmonics(y, &bad, 1, 1, x, 1, E3C_NORM_NORM), E3C_ERR_VALUE, "l = -1");
}

/* ------------------------------------------- exact reference for l up to 20 ---- */

/* e3nn's definition, evaluated independently in long double: D = Re(Q^H A(a) B(b) A(c) Q)
 * with A(t) = exp(t X1) = diag(e^{i m t}), B(b) = exp(b X0) for the real antisymmetric
 * X0 = (J+ + J-)/2 of su2_generators (by scaling and squaring a Taylor series), and Q
 * e3nn's change_basis_real_to_complex (with its (-i)^l). Test-only: the library builds D
 * by recursion from R and never exponentiates. */
#include <complex.h>

typedef long double complex cld;

static void ref_expm_X0(int l, long double b, long double *E)
{
    int d = 2 * l + 1;
    long double *X = calloc((size_t)d * d, sizeof *X), *T = calloc((size_t)d * d, sizeof *T),
                *P = calloc((size_t)d * d, sizeof *P);
    for (int i = 0; i + 1 < d; i++) {
        long double m = i - l;
        long double c = 0.5L * sqrtl((long double)l * (l + 1) - m * (m + 1));
        X[(i + 1) * d + i] = -c * b;
        X[i * d + i + 1] = c * b;
    }
    int s = 0;
    long double norm = fabsl(b) * (l + 1);
    while (norm > 0.25L) {
        norm /= 2;
        s++;
    }
    for (int i = 0; i < d * d; i++)
        X[i] = ldexpl(X[i], -s);
    /* E = sum_k X^k / k! */
    for (int i = 0; i < d * d; i++)
        E[i] = T[i] = (i % (d + 1) == 0);
    for (int k = 1; k <= 30; k++) {
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                long double acc = 0;
                for (int q = 0; q < d; q++)
                    acc += T[i * d + q] * X[q * d + j];
                P[i * d + j] = acc / k;
            }
        memcpy(T, P, sizeof *T * d * d);
        for (int i = 0; i < d * d; i++)
            E[i] += T[i];
    }
    for (int r = 0; r < s; r++) {
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                long double acc = 0;
                for (int q = 0; q < d; q++)
                    acc += E[i * d + q] * E[q * d + j];
                P[i * d + j] = acc;
            }
        memcpy(E, P, sizeof *E * d * d);
    }
    free(X), free(T), free(P);
}

static cld ref_q(int l, int row, int col)
{
    int m = row - l, am = abs(m);
    const long double h = 0.707106781186547524400844362104849039L;
    cld v = 0;
    if (m < 0)
        v = col == l + am ? h : col == l - am ? -I * h : 0;
    else if (m == 0)
        v = col == l ? 1 : 0;
    else {
        long double sg = m % 2 ? -1 : 1;
        v = col == l + am ? sg * h : col == l - am ? I * sg * h : 0;
    }
    static const long double complex phase[4] = {1, -I, -1, I};
    return v * phase[l % 4];
}

static void ref_wigner_D(int l, long double a, long double b, long double c, double *D)
{
    int d = 2 * l + 1;
    long double *B = malloc(sizeof *B * d * d);
    ref_expm_X0(l, b, B);
    /* Dc[i][j] = e^{i m_i a} B[i][j] e^{i m_j c} */
    cld *Dc = malloc(sizeof *Dc * d * d), *T = malloc(sizeof *T * d * d);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++)
            Dc[i * d + j] = cexpl(I * (i - l) * a) * B[i * d + j] * cexpl(I * (j - l) * c);
    /* D = Q^H Dc Q */
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            cld acc = 0;
            for (int k = 0; k < d; k++)
                acc += Dc[i * d + k] * ref_q(l, k, j);
            T[i * d + j] = acc;
        }
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            cld acc = 0;
            for (int k = 0; k < d; k++)
                acc += conjl(ref_q(l, k, i)) * T[k * d + j];
            D[i * d + j] = (double)creall(acc);
        }
    free(B), free(Dc), free(T);
}

Test(wigner, D_agrees_with_e3nns_definition_to_1e12_up_to_l20, .timeout = 120)
{
    const double angles[3][3] = {{0.3, 1.1, -0.7}, {2.0, 3.0, 4.0}, {-1.2, 0.05, 5.9}};
    double worst = 0;
    for (int t = 0; t < 3; t++)
        for (int l = 0; l <= 20; l++) {
            int d = 2 * l + 1;
            double *want = malloc(sizeof *want * d * d), *got = malloc(sizeof *got * d * d);
            ref_wigner_D(l, angles[t][0], angles[t][1], angles[t][2], want);
            E3C_ASSERT_OK(e3c_wigner_D_angles(got, l, angles[t][0], angles[t][1], angles[t][2]));
            for (int i = 0; i < d * d; i++) {
                double err = fabs(got[i] - want[i]);
                worst = err > worst ? err : worst;
                cr_assert(err <= 1e-12, "l=%d angles #%d entry %d: %.17g vs exact %.17g", l, t, i, got[i], want[i]);
            }
            free(want), free(got);
        }
    cr_log_info("worst |D - exact| up to l = 20: %.3g", worst);
}

/* Property over random Irreps (e3nn's random_irreps distributions): D_from_matrix is
 * orthogonal, a homomorphism, and its parity follows each entry's p. */
Test(wigner, D_from_matrix_of_random_irreps_is_an_orthogonal_representation)
{
    uint64_t state = 2024;
    e3c_random_irreps_options o = E3C_RANDOM_IRREPS_OPTIONS_INIT;
    o.allow_empty = 0;
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 5));
    for (int k = 0; k < 40; k++) {
        e3c_irreps ir;
        E3C_ASSERT_OK(e3c_random_irreps(&ir, &o, &state));
        int64_t d = e3c_irreps_dim(&ir);
        double R[18], R12[9], *D1 = malloc(sizeof(double) * d * d), *D2 = malloc(sizeof(double) * d * d),
                              *D12 = malloc(sizeof(double) * d * d), *P = malloc(sizeof(double) * d * d);
        E3C_ASSERT_OK(e3c_rand_matrix(R, g, E3C_FLOAT64, 2));
        for (int i = 0; i < 9; i++)
            R[9 + i] = -R[9 + i]; /* the second is improper */
        matmul(R, R + 9, R12, 3);
        E3C_ASSERT_OK(e3c_irreps_D_from_matrix(D1, &ir, 1, R));
        E3C_ASSERT_OK(e3c_irreps_D_from_matrix(D2, &ir, 1, R + 9));
        E3C_ASSERT_OK(e3c_irreps_D_from_matrix(D12, &ir, 1, R12));
        matmul(D1, D2, P, (int)d);
        for (int64_t i = 0; i < d * d; i++)
            cr_assert(fabs(P[i] - D12[i]) < 1e-12, "D(R1 R2) = D(R1) D(R2) for random irreps #%d", k);
        for (int64_t i = 0; i < d; i++)
            for (int64_t j = 0; j < d; j++) {
                double s = 0;
                for (int64_t q = 0; q < d; q++)
                    s += D2[i * d + q] * D2[j * d + q];
                cr_assert(fabs(s - (i == j)) < 1e-12);
            }
        free(D1), free(D2), free(D12), free(P);
        e3c_irreps_free(&ir);
    }
    e3c_generator_free(g);
}
