/* bench_checks: the time of each check against the time of the bare forward calls it
 * makes, on a module whose forward takes more than 10 ms (the 32x012 FullyConnected
 * tensor product at batch 2048, float32: ~20 ms since the fused products). One thread,
 * median of 5. */
#include <stdlib.h>

#include "bench_util.h"
#include "e3check/checks.h"
#include "e3check/nn.h"

static void die(const char *what)
{
    fprintf(stderr, "bench_checks: %s: %s\n", what, e3c_error_last());
    exit(1);
}

int main(void)
{
    enum { BATCH = 2048 };
    e3c_torch_set_num_threads(1);
    e3c_jit_set_optimize(0); /* as the e3check command runs checks */
    e3c_manual_seed(0);
    const char *irreps = "32x0e+32x1o+32x2e", *sh = "0e+1o+2e";
    e3c_module *m = NULL, *compiled = NULL;
    if (e3c_fully_connected_tp_new(&m, irreps, sh, irreps, NULL))
        die("FullyConnectedTensorProduct");
    e3c_compile_options copt = E3C_COMPILE_OPTIONS_INIT;
    copt.in_place = 0;
    if (e3c_module_compile(&compiled, m, &copt))
        die("compile");
    e3c_arg_spec in[2], out[1];
    if (e3c_arg_spec_parse(&in[0], irreps) || e3c_arg_spec_parse(&in[1], sh) || e3c_arg_spec_parse(&out[0], irreps))
        die("irreps");
    e3c_generator *g = NULL;
    e3c_generator_new(&g, 1);
    int64_t s1[2] = {BATCH, 288}, s2[2] = {BATCH, 9};
    e3c_tensor *x = NULL, *y = NULL;
    e3c_randn(&x, g, E3C_FLOAT32, s1, 2);
    e3c_randn(&y, g, E3C_FLOAT32, s2, 2);
    e3c_values *args = NULL, *res = NULL;
    e3c_values_new(&args);
    e3c_values_push(args, x);
    e3c_values_push(args, y);
    double t[5];
    for (int i = 0; i < 5; i++) {
        double t0 = bench_now_ms();
        if (e3c_module_forward(&res, m, args))
            die("forward");
        e3c_values_free(res);
        t[i] = bench_now_ms() - t0;
    }
    double eager_ms = bench_median(t, 5);
    for (int i = 0; i < 5; i++) {
        double t0 = bench_now_ms();
        if (e3c_module_forward(&res, compiled, args))
            die("forward");
        e3c_values_free(res);
        t[i] = bench_now_ms() - t0;
    }
    double compiled_ms = bench_median(t, 5);
    printf("forward eager batch %d: %.4f ms\nforward compiled batch %d: %.4f ms\n", BATCH, eager_ms, BATCH,
           compiled_ms);

    /* equivariance, ntrials 1, parity: 2 cases x 2 calls of the eager module */
    e3c_subject s = {m, NULL, NULL, in, 2, out, 1, E3C_FLOAT32};
    e3c_equivariance_options eo = E3C_EQUIVARIANCE_OPTIONS_INIT;
    eo.batch = BATCH;
    e3c_check_result r;
    BENCH_MEDIAN("check equivariance (4 forward calls)", 5, {
        if (e3c_check_equivariance(&r, &s, &eo) || r.status != E3C_PASSED)
            die("equivariance");
        e3c_check_result_free(&r);
    });
    printf("bare forward calls of equivariance: %.4f ms\n", 4 * eager_ms);

    /* auto_jitable: compile a copy, run it, eager once, strict shapes, save/reload + run */
    e3c_auto_jitable_options ao = E3C_AUTO_JITABLE_OPTIONS_INIT;
    ao.batch = BATCH;
    BENCH_MEDIAN("check auto_jitable (3 forward calls + compile + save/load)", 5, {
        if (e3c_check_auto_jitable(&r, &s, &ao) || r.status != E3C_PASSED)
            die("auto_jitable");
        e3c_check_result_free(&r);
    });
    printf("bare forward calls of auto_jitable: %.4f ms\n", 2 * compiled_ms + eager_ms);
    ao.roundtrip = 0;
    BENCH_MEDIAN("check auto_jitable without roundtrip (2 forward calls + compile)", 5, {
        if (e3c_check_auto_jitable(&r, &s, &ao) || r.status != E3C_PASSED)
            die("auto_jitable");
        e3c_check_result_free(&r);
    });
    e3c_values_free(args);
    e3c_tensor_free(x), e3c_tensor_free(y);
    e3c_generator_free(g);
    e3c_arg_spec_free(&in[0]), e3c_arg_spec_free(&in[1]), e3c_arg_spec_free(&out[0]);
    e3c_module_free(compiled), e3c_module_free(m);
    return 0;
}
