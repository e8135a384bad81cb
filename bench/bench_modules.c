/* bench_modules: forward time of a mid-sized FullyConnectedTensorProduct
 * (32x0e+32x1o+32x2e x 0e+1o+2e -> 32x0e+32x1o+32x2e, batch 1024, float32), eager and
 * compiled, against ../shared/bench/fctp_32x012_f32.pt (the same product written directly
 * in Python torch), in one run. One thread, median of 10. */
#include <stdlib.h>

#include "bench_util.h"
#include "e3check/nn.h"

static void die(const char *what)
{
    fprintf(stderr, "bench_modules: %s: %s\n", what, e3c_error_last());
    exit(1);
}

int main(int argc, char **argv)
{
    const char *ref = argc > 1 ? argv[1] : "../shared/bench/fctp_32x012_f32.pt";
    e3c_torch_set_num_threads(1);
    e3c_manual_seed(0);
    const char *irreps = "32x0e+32x1o+32x2e", *sh = "0e+1o+2e";
    e3c_module *m = NULL, *compiled = NULL;
    if (e3c_fully_connected_tp_new(&m, irreps, sh, irreps, NULL))
        die("FullyConnectedTensorProduct");
    e3c_compile_options opt = E3C_COMPILE_OPTIONS_INIT;
    opt.in_place = 0;
    if (e3c_module_compile(&compiled, m, &opt))
        die("compile");
    e3c_generator *g = NULL;
    e3c_generator_new(&g, 1);
    int64_t s1[2] = {1024, 288}, s2[2] = {1024, 9};
    e3c_tensor *x = NULL, *y = NULL;
    if (e3c_randn(&x, g, E3C_FLOAT32, s1, 2) || e3c_randn(&y, g, E3C_FLOAT32, s2, 2))
        die("inputs");
    e3c_values *in = NULL, *out = NULL;
    e3c_values_new(&in);
    e3c_values_push(in, x);
    e3c_values_push(in, y);
    for (int warm = 0; warm < 3; warm++) {
        e3c_module_forward(&out, m, in), e3c_values_free(out);
        e3c_module_forward(&out, compiled, in), e3c_values_free(out);
    }
    BENCH_MEDIAN("fctp 32x012 batch 1024 f32 eager", 10, {
        if (e3c_module_forward(&out, m, in))
            die("eager forward");
        e3c_values_free(out);
    });
    BENCH_MEDIAN("fctp 32x012 batch 1024 f32 compiled (e3check)", 10, {
        if (e3c_module_forward(&out, compiled, in))
            die("compiled forward");
        e3c_values_free(out);
    });
    e3c_jit_module *plain = NULL;
    if (e3c_jit_load(&plain, ref) == E3C_OK) {
        for (int warm = 0; warm < 3; warm++)
            e3c_jit_run(&out, plain, NULL, in), e3c_values_free(out);
        BENCH_MEDIAN("fctp 32x012 batch 1024 f32 plain-torch file", 10, {
            if (e3c_jit_run(&out, plain, NULL, in))
                die("reference forward");
            e3c_values_free(out);
        });
    } else {
        fprintf(stderr, "bench_modules: reference %s not loaded: %s\n", ref, e3c_error_last());
    }
    e3c_jit_free(plain);
    e3c_values_free(in);
    e3c_tensor_free(x), e3c_tensor_free(y);
    e3c_generator_free(g);
    e3c_module_free(compiled), e3c_module_free(m);
    return 0;
}
