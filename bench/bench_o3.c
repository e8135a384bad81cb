/* bench_o3: D_from_matrix of 0e+1o+...+8e for 1000 random rotations (float64), and
 * Wigner D per l up to 20. One thread. */
#include <stdlib.h>

#include "bench_util.h"
#include "e3check/o3.h"

static void die(const char *what)
{
    fprintf(stderr, "bench_o3: %s: %s\n", what, e3c_error_last());
    exit(1);
}

int main(void)
{
    e3c_torch_set_num_threads(1);
    e3c_generator *g = NULL;
    enum { N = 1000 };
    double *R = malloc(N * 9 * sizeof *R);
    if (e3c_generator_new(&g, 0) || e3c_rand_matrix(R, g, E3C_FLOAT64, N))
        die("rand_matrix");
    e3c_irreps ir;
    if (e3c_irreps_parse(&ir, "0e+1o+2e+3o+4e+5o+6e+7o+8e"))
        die("irreps");
    size_t dim = (size_t)e3c_irreps_dim(&ir);
    double *D = malloc(N * dim * dim * sizeof *D);
    if (!D)
        die("malloc");
    BENCH_MEDIAN("D_from_matrix 0e+1o+...+8e x1000 float64", 11, {
        if (e3c_irreps_D_from_matrix(D, &ir, N, R))
            die("D_from_matrix");
    });
    double *Dl = malloc(41 * 41 * sizeof *Dl);
    for (int l = 0; l <= 20; l++) {
        char name[64];
        snprintf(name, sizeof name, "wigner_D l=%d x1000", l);
        BENCH_MEDIAN(name, 5, {
            for (int i = 0; i < N; i++)
                if (e3c_wigner_D_matrix(Dl, l, R + 9 * i))
                    die("wigner_D");
        });
    }
    free(Dl);
    free(D);
    free(R);
    e3c_irreps_free(&ir);
    e3c_generator_free(g);
    return 0;
}
