/* The test models: TorchScript files that the test suite writes itself with e3check's C API
 * (e3c_jit_new, e3c_jit_define, e3c_jit_save), each with a fixture NAME.json stating the
 * verdict its design implies. Good models (norms, irrep-wise linear maps, the seed
 * document's MyModule, point models) and deliberately broken ones (a cross product declared
 * with the wrong parity, a perturbed linear map, a module accepting any width, a forward
 * that raises, one that never returns, a truncated archive, a text file). */
#include <sys/stat.h>

#include "e3check/irreps.h"
#include "e3check/torch.h"
#include "test_util.h"

#define SRC_CAP 8192

typedef struct zoo_model {
    const char *name;
    const char *irreps_in[2]; /* NULL-terminated when shorter */
    const char *irreps_out[2];
    e3c_dtype dtype;
    const char *expect_aj, *expect_eq;
    int timeout_s; /* 0: the default */
} zoo_model;

/* Append printf-style text to the source buffer `src` (SRC_CAP bytes). */
#define SRC_ADD(src, ...) snprintf((src) + strlen(src), SRC_CAP - strlen(src), __VA_ARGS__)

/* The first line of a forward taking `x` of `width` columns: TorchScript modules must check
 * their inputs' width themselves (auto_jitable cuts and widens every input and demands an
 * error), as e3nn's modules do. */
#define WIDTH_CHECK(x, width) "    torch._assert(" x ".shape[-1] == " #width ", 'wrong width of " x "')\n"

static e3c_irreps parse_irreps(const char *text)
{
    e3c_irreps ir;
    E3C_ASSERT_OK(e3c_irreps_parse(&ir, text));
    return ir;
}

/* Append WIDTH_CHECK's line for input `x` of irreps `text`. */
static void add_width_check(char *src, const char *x, const char *text)
{
    e3c_irreps ir = parse_irreps(text);
    SRC_ADD(src, "    torch._assert(%s.shape[-1] == %lld, 'wrong width of %s')\n", x, (long long)e3c_irreps_dim(&ir),
            x);
    e3c_irreps_free(&ir);
}

/* Source of an expression: the Euclidean norm of every irrep copy of `x` (irreps `text`),
 * squared when `squared`. */
static void add_block_norms(char *src, const char *x, const char *text, int squared)
{
    e3c_irreps ir = parse_irreps(text);
    int64_t at = 0;
    SRC_ADD(src, "torch.cat([");
    for (size_t i = 0; i < ir.len; i++) {
        int64_t mul = ir.items[i].mul, d = e3c_irrep_dim(ir.items[i].ir);
        SRC_ADD(src, "%s.narrow(-1, %lld, %lld).reshape(%s.shape[:-1] + [%lld, %lld]).norm(2, -1)%s, ", x,
                (long long)at, (long long)(mul * d), x, (long long)mul, (long long)d, squared ? " ** 2" : "");
        at += mul * d;
    }
    SRC_ADD(src, "], dim=-1)");
    e3c_irreps_free(&ir);
}

/* Source of an expression: an irrep-wise linear map of `x` (irreps `in`) to `out`, one
 * parameter w<i> (mul_in, mul_out) per output entry, mixing the copies of the input entry
 * with the same irrep (every output irrep must occur in the input once). Registers the
 * parameters on `m`, drawn from `g`. */
static void add_linear(char *src, e3c_jit_module *m, e3c_generator *g, e3c_dtype dtype, const char *x, const char *in,
                       const char *out)
{
    e3c_irreps ir_in = parse_irreps(in), ir_out = parse_irreps(out);
    SRC_ADD(src, "torch.cat([");
    for (size_t o = 0; o < ir_out.len; o++) {
        int64_t at = 0, mul_in = 0, d = e3c_irrep_dim(ir_out.items[o].ir);
        for (size_t i = 0; i < ir_in.len && !mul_in; i++) {
            if (e3c_irrep_compare(ir_in.items[i].ir, ir_out.items[o].ir) == 0)
                mul_in = ir_in.items[i].mul;
            else
                at += ir_in.items[i].mul * e3c_irrep_dim(ir_in.items[i].ir);
        }
        cr_assert_gt(mul_in, 0, "zoo: %s has no %s entry", in, out);
        int64_t shape[2] = {mul_in, ir_out.items[o].mul};
        e3c_tensor *w = NULL;
        char name[32];
        snprintf(name, sizeof name, "w%zu", o);
        E3C_ASSERT_OK(e3c_randn(&w, g, dtype, shape, 2));
        E3C_ASSERT_OK(e3c_jit_add_tensor(m, name, w, 1));
        e3c_tensor_free(w);
        SRC_ADD(src,
                "torch.einsum('...ui,uw->...wi', [%s.narrow(-1, %lld, %lld).reshape(%s.shape[:-1] + [%lld, %lld]), "
                "self.%s]).reshape(%s.shape[:-1] + [%lld]), ",
                x, (long long)at, (long long)(mul_in * d), x, (long long)mul_in, (long long)d, name, x,
                (long long)(ir_out.items[o].mul * d));
    }
    SRC_ADD(src, "], dim=-1)");
    e3c_irreps_free(&ir_in);
    e3c_irreps_free(&ir_out);
}

/* A module of class `cls` whose forward is `source`. Caller owns it. */
static e3c_jit_module *new_module(const char *cls, const char *source)
{
    e3c_jit_module *m = NULL;
    E3C_ASSERT_OK(e3c_jit_new(&m, cls));
    if (source)
        E3C_ASSERT_OK(e3c_jit_define(m, source));
    return m;
}

/* A BlockNorm of `irreps` with an int64 buffer `muls` holding each entry's multiplicity. */
static e3c_jit_module *block_norm(const char *irreps)
{
    char src[SRC_CAP] = "def forward(self, x):\n";
    add_width_check(src, "x", irreps);
    SRC_ADD(src, "    return ");
    add_block_norms(src, "x", irreps, 0);
    SRC_ADD(src, "\n");
    e3c_jit_module *m = new_module("BlockNorm", src);
    e3c_irreps ir = parse_irreps(irreps);
    int64_t muls[16], n = (int64_t)ir.len;
    cr_assert_leq(ir.len, 16);
    for (size_t i = 0; i < ir.len; i++)
        muls[i] = ir.items[i].mul;
    e3c_tensor *t = NULL;
    E3C_ASSERT_OK(e3c_tensor_from_data(&t, muls, E3C_INT64, &n, 1));
    E3C_ASSERT_OK(e3c_jit_add_tensor(m, "muls", t, 0));
    e3c_tensor_free(t);
    e3c_irreps_free(&ir);
    return m;
}

static void add_json_strings(cJSON *obj, const char *key, const char *const *items)
{
    cJSON *a = cJSON_AddArrayToObject(obj, key);
    for (int i = 0; i < 2 && items[i]; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(items[i]));
}

/* Write DIR/NAME.json: the fixture of model `z`, whose file is NAME.pt. */
static void write_fixture(const char *dir, const zoo_model *z)
{
    char path[4096], pt[256];
    snprintf(pt, sizeof pt, "%s.pt", z->name);
    cJSON *fx = cJSON_CreateObject();
    cJSON_AddStringToObject(fx, "name", z->name);
    cJSON_AddStringToObject(fx, "description", "made by the test suite (tests/model_zoo.c)");
    cJSON_AddStringToObject(fx, "torchscript", pt);
    add_json_strings(fx, "irreps_in", z->irreps_in);
    add_json_strings(fx, "irreps_out", z->irreps_out);
    cJSON_AddStringToObject(fx, "dtype", e3c_dtype_name(z->dtype));
    if (z->timeout_s)
        cJSON_AddNumberToObject(fx, "timeout_s", z->timeout_s);
    cJSON *checks = cJSON_AddObjectToObject(fx, "checks");
    cJSON *aj = cJSON_AddObjectToObject(checks, "auto_jitable");
    cJSON_AddNumberToObject(aj, "n_trace_checks", 2);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(checks, "equivariance"), "ntrials", 2);
    cJSON *expect = cJSON_AddObjectToObject(fx, "expect");
    cJSON_AddStringToObject(expect, "auto_jitable", z->expect_aj);
    cJSON_AddStringToObject(expect, "equivariance", z->expect_eq);
    char *text = cJSON_Print(fx);
    snprintf(path, sizeof path, "%s/%s.json", dir, z->name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
    free(text);
    cJSON_Delete(fx);
}

/* Save `m` as DIR/NAME.pt with its fixture, and free it. */
static void save_model(const char *dir, const zoo_model *z, e3c_jit_module *m)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.pt", dir, z->name);
    E3C_ASSERT_OK(e3c_jit_save(m, path));
    e3c_jit_free(m);
    write_fixture(dir, z);
}

static void write_bytes(const char *dir, const char *file, const void *data, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* A linear map `in` -> `out` of float dtype, plus `extra` (source text) added to its output. */
static e3c_jit_module *linear_module(const char *cls, e3c_generator *g, e3c_dtype dtype, const char *in,
                                     const char *out, const char *extra)
{
    char src[SRC_CAP] = "def forward(self, x):\n";
    add_width_check(src, "x", in);
    SRC_ADD(src, "    return ");
    e3c_jit_module *m = new_module(cls, NULL);
    add_linear(src, m, g, dtype, "x", in, out);
    SRC_ADD(src, "%s\n", extra);
    E3C_ASSERT_OK(e3c_jit_define(m, src));
    return m;
}

static void make_good_models(const char *dir, e3c_generator *g)
{
    static const zoo_model norm = {"block_norm_f64", {"3x0e+2x1o+1x2e"}, {"6x0e"}, E3C_FLOAT64, "pass", "pass", 0};
    save_model(dir, &norm, block_norm(norm.irreps_in[0]));

    static const zoo_model lin = {
        "irrep_linear_f32", {"2x0e+3x1o+1x2e"}, {"3x0e+2x1o+2x2e"}, E3C_FLOAT32, "pass", "pass", 0};
    save_model(dir, &lin, linear_module("IrrepLinear", g, E3C_FLOAT32, lin.irreps_in[0], lin.irreps_out[0], ""));

    /* two outputs: a linear map and the squared norms of every copy */
    static const zoo_model tup = {
        "tuple_linear_sqnorm_f32", {"1x0e+2x1o+1x2e"}, {"3x1o+1x2e", "4x0e"}, E3C_FLOAT32, "pass", "pass", 0};
    char src[SRC_CAP] = "def forward(self, x):\n";
    add_width_check(src, "x", tup.irreps_in[0]);
    SRC_ADD(src, "    return (");
    e3c_jit_module *m = new_module("TupleLinearSqNorm", NULL);
    add_linear(src, m, g, E3C_FLOAT32, "x", tup.irreps_in[0], tup.irreps_out[0]);
    SRC_ADD(src, ", ");
    add_block_norms(src, "x", tup.irreps_in[0], 1);
    SRC_ADD(src, ")\n");
    E3C_ASSERT_OK(e3c_jit_define(m, src));
    save_model(dir, &tup, m);

    /* the seed document's MyModule around a BlockNorm child (its 7 as a buffer) */
    static const zoo_model my = {"seed_mymodule_f32", {"2x0e+1x1o"}, {"3x0e"}, E3C_FLOAT32, "pass", "pass", 0};
    m = new_module("MyModule", NULL);
    e3c_jit_module *child = block_norm(my.irreps_in[0]);
    E3C_ASSERT_OK(e3c_jit_add_submodule(m, "norm", child));
    e3c_jit_free(child);
    float seven = 7.0f;
    e3c_tensor *threshold = NULL;
    E3C_ASSERT_OK(e3c_tensor_from_data(&threshold, &seven, E3C_FLOAT32, NULL, 0));
    E3C_ASSERT_OK(e3c_jit_add_tensor(m, "threshold", threshold, 0));
    e3c_tensor_free(threshold);
    E3C_ASSERT_OK(e3c_jit_define(m, "def forward(self, x):\n"
                                    "    norm = self.norm.forward(x)\n"
                                    "    if bool(torch.any(norm > self.threshold)):\n"
                                    "        return norm\n"
                                    "    else:\n"
                                    "        return norm * 0.5\n"));
    save_model(dir, &my, m);

    /* two inputs: the vector of the first scaled by the sum of the second's scalars */
    static const zoo_model two = {
        "scaled_vector_two_inputs_f64", {"1x0e+1x1o", "4x0e"}, {"1x1o"}, E3C_FLOAT64, "pass", "pass", 0};
    save_model(dir, &two,
               new_module("ScaledVector",
                          "def forward(self, x, s):\n" WIDTH_CHECK("x", 4) WIDTH_CHECK(
                              "s", 4) "    return x.narrow(-1, 1, 3) * s.narrow(-1, 0, 4).sum(-1, keepdim=True)\n"));

    /* points: positions relative to their mean do not move under translations */
    static const zoo_model pts = {"centred_points_f64", {"cartesian_points"}, {"1x1o"}, E3C_FLOAT64, "pass", "pass", 0};
    save_model(dir, &pts,
               new_module("CentredPoints", "def forward(self, pos):\n" WIDTH_CHECK(
                                               "pos", 3) "    p = pos.narrow(-1, 0, 3)\n"
                                                         "    return p - p.mean(dim=-2, keepdim=True)\n"));
}

static void make_failing_models(const char *dir, e3c_generator *g)
{
    /* a x b is a pseudovector (1e): declared 1o, the parity cases fail */
    static const zoo_model cross = {
        "cross_product_declared_1o_f32", {"2x1o"}, {"1x1o"}, E3C_FLOAT32, "pass", "fail", 0};
    save_model(dir, &cross,
               new_module("CrossProduct",
                          "def forward(self, x):\n" WIDTH_CHECK(
                              "x", 6) "    return torch.cross(x.narrow(-1, 0, 3), x.narrow(-1, 3, 3), dim=-1)\n"));

    /* 1e-6 of the first vector component added to every output: far above float64's 1e-9 */
    static const zoo_model pert = {
        "linear_perturbed_1e-6_f64", {"1x0e+1x1o+2x2e"}, {"2x0e+1x1o+1x2e"}, E3C_FLOAT64, "pass", "fail", 0};
    save_model(dir, &pert,
               linear_module("PerturbedLinear", g, E3C_FLOAT64, pert.irreps_in[0], pert.irreps_out[0],
                             " + 1e-6 * x.narrow(-1, 1, 1)"));

    /* invariant, but accepts inputs of any width */
    static const zoo_model sum = {"sum_any_width_f32", {"4x0e"}, {"1x0e"}, E3C_FLOAT32, "fail", "pass", 0};
    save_model(dir, &sum, new_module("SumAnyWidth", "def forward(self, x):\n    return x.sum(-1, keepdim=True)\n"));

    /* points themselves move under translations: declared as a vector, translation fails */
    static const zoo_model raw = {"raw_points_f64", {"cartesian_points"}, {"1x1o"}, E3C_FLOAT64, "pass", "fail", 0};
    save_model(dir, &raw,
               new_module("RawPoints",
                          "def forward(self, pos):\n" WIDTH_CHECK("pos", 3) "    return pos.narrow(-1, 0, 3) * 1.0\n"));
}

static void make_broken_models(const char *dir, e3c_generator *g)
{
    static const zoo_model raises = {
        "forward_always_raises_f32", {"1x0e+1x1o"}, {"1x0e+1x1o"}, E3C_FLOAT32, "error", "error", 0};
    save_model(dir, &raises,
               new_module("AlwaysRaises", "def forward(self, x):\n"
                                          "    assert x.shape[-1] < 0, 'this module always raises'\n"
                                          "    return x\n"));

    /* `stop` depends on the input, so the compiler cannot drop the loop */
    static const zoo_model loop = {"forward_endless_loop_f32", {"2x0e"}, {"2x0e"}, E3C_FLOAT32, "error", "error", 3};
    save_model(dir, &loop,
               new_module("EndlessLoop", "def forward(self, x):\n"
                                         "    stop = x.shape[-1] < 0\n"
                                         "    i = 0\n"
                                         "    while not stop:\n"
                                         "        i += 1\n"
                                         "        stop = i < 0\n"
                                         "    return x * float(i)\n"));

    /* a good archive cut to half its bytes */
    static const zoo_model cut = {
        "truncated_archive_f32", {"3x0e+1x1o"}, {"1x0e+2x1o"}, E3C_FLOAT32, "error", "error", 0};
    e3c_jit_module *m = linear_module("IrrepLinear", g, E3C_FLOAT32, cut.irreps_in[0], cut.irreps_out[0], "");
    void *bytes = NULL;
    size_t size = 0;
    E3C_ASSERT_OK(e3c_jit_save_buffer(&bytes, &size, m));
    e3c_jit_free(m);
    write_bytes(dir, "truncated_archive_f32.pt", bytes, size / 2);
    free(bytes);
    write_fixture(dir, &cut);

    static const zoo_model text = {
        "text_file_not_archive_f32", {"1x0e+1x1o"}, {"1x0e+1x1o"}, E3C_FLOAT32, "error", "error", 0};
    static const char words[] = "this is a text file, not a TorchScript archive\n";
    write_bytes(dir, "text_file_not_archive_f32.pt", words, sizeof words - 1);
    write_fixture(dir, &text);
}

const char *zoo_dir(void)
{
    static char dir[512];
    if (dir[0])
        return dir;
    snprintf(dir, sizeof dir, "%s/zoo", test_tmpdir());
    cr_assert_eq(mkdir(dir, 0777), 0, "cannot make %s", dir);
    e3c_generator *g = NULL;
    E3C_ASSERT_OK(e3c_generator_new(&g, 12));
    make_good_models(dir, g);
    make_failing_models(dir, g);
    make_broken_models(dir, g);
    e3c_generator_free(g);
    return dir;
}

const char *zoo_path(const char *file)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", zoo_dir(), file);
    return path;
}
