/* Built against an installed e3check: parse irreps, draw a rotation, build its D. */
#include <stdio.h>

#include "e3check/o3.h"

int main(void)
{
    e3c_irreps ir;
    e3c_generator *g = NULL;
    double R[9], D[64];
    if (e3c_irreps_parse(&ir, "1o + 2e") || e3c_generator_new(&g, 0) || e3c_rand_matrix(R, g, E3C_FLOAT64, 1) ||
        e3c_irreps_D_from_matrix(D, &ir, 1, R)) {
        fprintf(stderr, "consumer: %s\n", e3c_error_last());
        return 1;
    }
    printf("dim %lld, D[0] == R[0]: %s\n", (long long)e3c_irreps_dim(&ir), D[0] == R[0] ? "yes" : "no");
    e3c_irreps_free(&ir);
    e3c_generator_free(g);
    return D[0] == R[0] ? 0 : 1;
}
