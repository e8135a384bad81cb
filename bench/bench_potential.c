/* bench_potential [E3CHECK] [POTENTIAL]: `e3check model POTENTIAL --preset nequip` on the
 * NequIP-shaped test potential (32 atoms, periodic, float64), end to end, beside the
 * forward+backward calls the checks make and the process start-up (`e3check --version`).
 * Also the two checks in this process against their bare model calls. Medians. */
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include "bench_util.h"
#include "e3check/atoms.h"
#include "e3check/fixture.h"
#include "e3check/structured.h"

extern char **environ;

static int spawn_quiet(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1 /* O_WRONLY */, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), status = 0;
    posix_spawn_file_actions_destroy(&fa);
    if (rc)
        return -1;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_potential: %s: %s\n", what, e3c_error_last());
    exit(1);
}

int main(int argc, char **argv)
{
    const char *cli = argc > 1 ? argv[1] : E3C_CLI_PATH;
    const char *file = argc > 2 ? argv[2] : E3C_SOURCE_DIR "/fixtures/potentials/nequip_f64.pth";
    int reps = getenv("REPS") ? atoi(getenv("REPS")) : 7;
    e3c_jit_set_optimize(0); /* as the e3check command runs */

    /* the bare calls: forward with autograd forces on the 32-atom periodic structure */
    e3c_jit_module *m = NULL;
    if (e3c_jit_load(&m, file))
        die(file);
    cJSON *fx = cJSON_Parse("{\"name\": \"b\", \"preset\": \"nequip\", \"torchscript\": \"x\", "
                            "\"structure\": {\"atoms\": 32, \"periodic\": true}}"),
          *full = NULL;
    e3c_structured *s = NULL;
    if (e3c_fixture_expand_preset(&full, fx, NULL) || e3c_structured_parse(&s, full) || e3c_structured_resolve(s, m))
        die("preset");
    e3c_structure_options so = s->structure;
    e3c_structure *st = NULL;
    if (e3c_structure_generate(&st, &so))
        die("structure");
    printf("structure: %lld atoms, %lld edges, periodic\n", (long long)st->n_atoms, (long long)st->n_edges);
    e3c_value *data = NULL, *out = NULL;
    e3c_value_dict_new(&data);
    const struct {
        const char *key;
        e3c_structure_field f;
        e3c_dtype dt;
    } keys[] = {{"pos", E3C_FIELD_POSITIONS, E3C_FLOAT64},
                {"edge_index", E3C_FIELD_EDGE_INDEX, E3C_INT64},
                {"atom_types", E3C_FIELD_SPECIES, E3C_INT64},
                {"cell", E3C_FIELD_CELL, E3C_FLOAT64},
                {"edge_cell_shift", E3C_FIELD_UNIT_SHIFTS, E3C_FLOAT64}};
    for (size_t k = 0; k < 5; k++) {
        e3c_tensor *t = NULL;
        if (e3c_structure_tensor(&t, st, keys[k].f, keys[k].dt) || e3c_value_dict_set(data, keys[k].key, t))
            die("inputs");
        e3c_tensor_free(t);
    }
    e3c_call_arg arg = {NULL, data};
    BENCH_MEDIAN("forward+backward call", reps * 5, {
        if (e3c_jit_invoke(&out, m, NULL, &arg, 1, E3C_CALL_GRAD))
            die("call");
        e3c_value_free(out);
    });
    BENCH_MEDIAN("5 calls (what equivariance runs)", reps, {
        for (int c = 0; c < 5; c++) {
            e3c_jit_invoke(&out, m, NULL, &arg, 1, E3C_CALL_GRAD);
            e3c_value_free(out);
        }
    });
    e3c_check_result r;
    e3c_equivariance_options eo = E3C_EQUIVARIANCE_OPTIONS_INIT;
    BENCH_MEDIAN("equivariance check in process", reps, {
        e3c_check_structured_equivariance(&r, m, s, "b", &eo);
        e3c_check_result_free(&r);
    });
    BENCH_MEDIAN("seeded structure and its neighbour list (each check makes one)", reps * 5, {
        e3c_structure *again = NULL;
        if (e3c_structure_generate(&again, &so))
            die("structure");
        e3c_structure_free(again);
    });
    /* the physical checks against the bare calls they make (details.model_calls) */
    double one_call = 0;
    {
        double times[64];
        for (int i = 0; i < 64; i++) {
            double t0 = bench_now_ms();
            e3c_jit_invoke(&out, m, NULL, &arg, 1, E3C_CALL_GRAD);
            e3c_value_free(out);
            times[i] = bench_now_ms() - t0;
        }
        one_call = bench_median(times, 64);
    }
    const e3c_check_kind physical[] = {E3C_CHECK_PERMUTATION, E3C_CHECK_TRANSLATION, E3C_CHECK_CONSERVATIVE,
                                       E3C_CHECK_ADDITIVITY, E3C_CHECK_PERIODIC_IMAGES};
    for (size_t k = 0; k < sizeof physical / sizeof physical[0]; k++) {
        double times[64];
        int calls = 0, n = reps < 64 ? reps : 64;
        for (int i = 0; i < n; i++) {
            double t0 = bench_now_ms();
            e3c_check_structured_physical(&r, m, s, (int)physical[k], 0, NULL);
            times[i] = bench_now_ms() - t0;
            calls = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(r.details, "model_calls"));
            if (r.status != E3C_PASSED)
                fprintf(stderr, "bench_potential: %s: %s\n", e3c_check_kind_name(physical[k]), r.message);
            e3c_check_result_free(&r);
        }
        double t = bench_median(times, n);
        printf("%s check: %.4f ms = %.2fx its %d forward+backward calls (%.4f ms)\n", e3c_check_kind_name(physical[k]),
               t, t / (calls * one_call), calls, calls * one_call);
    }
    e3c_auto_jitable_options ao = E3C_AUTO_JITABLE_OPTIONS_INIT;
    BENCH_MEDIAN("auto_jitable check in process (2 calls, 3 rejected, a save/load)", reps, {
        e3c_check_structured_auto_jitable(&r, m, s, "b", &ao);
        e3c_check_result_free(&r);
    });

    /* end to end */
    char *version[] = {(char *)cli, "--version", NULL};
    char *model[] = {(char *)cli,    "model",    (char *)file, "--preset",  "nequip", "--atoms", "32",
                     "--structures", "periodic", "--report",   "/dev/null", "-q",     NULL};
    if (spawn_quiet(model) != 0)
        fprintf(stderr, "bench_potential: e3check model did not exit 0\n");
    BENCH_MEDIAN("e3check --version (start-up)", reps, spawn_quiet(version));
    BENCH_MEDIAN("e3check model --preset nequip, 32 atoms, periodic, end to end", reps, spawn_quiet(model));
    e3c_value_free(data);
    e3c_structure_free(st);
    e3c_structured_free(s);
    cJSON_Delete(fx), cJSON_Delete(full);
    e3c_jit_free(m);
    return 0;
}
