/* Structured models (interatomic potentials): presets, roles, output kinds, and the
 * equivariance and auto_jitable checks on the project's own test potentials. */
#include "test_util.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e3check/fixture.h"
#include "e3check/structured.h"

static const char *potentials_dir(void)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/fixtures/potentials", E3C_SOURCE_DIR);
    return buf;
}

static e3c_jit_module *load(const char *name)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", potentials_dir(), name);
    e3c_jit_module *m = NULL;
    E3C_ASSERT_OK(e3c_jit_load(&m, path));
    return m;
}

/* The preset's description of `file`, resolved against the model. */
static e3c_structured *described(const char *preset, e3c_jit_module *m, int periodic)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"name\": \"t\", \"preset\": \"%s\", \"torchscript\": \"x\", \"structure\": {\"periodic\": %s}}", preset,
             periodic ? "true" : "false");
    cJSON *fx = cJSON_Parse(text), *full = NULL;
    e3c_structured *s = NULL;
    E3C_ASSERT_OK(e3c_fixture_expand_preset(&full, fx, NULL));
    E3C_ASSERT_OK(e3c_structured_parse(&s, full));
    E3C_ASSERT_OK(e3c_structured_resolve(s, m));
    cJSON_Delete(fx), cJSON_Delete(full);
    return s;
}

static e3c_verdict equivariance(e3c_jit_module *m, const e3c_structured *s, e3c_check_result *r)
{
    e3c_equivariance_options o = E3C_EQUIVARIANCE_OPTIONS_INIT;
    o.seed = 3;
    E3C_ASSERT_OK(e3c_check_structured_equivariance(r, m, s, "model", &o));
    return r->status;
}

Test(structured, the_builtin_suite_gives_every_expected_verdict, .timeout = 300)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/potentials.json", potentials_dir());
    cJSON *doc = load_json(path);
    const cJSON *fx;
    int n = 0;
    cJSON_ArrayForEach(fx, doc) {
        E3C_ASSERT_OK(e3c_fixture_validate(fx));
        e3c_check_kind kinds[E3C_CHECK_KIND_COUNT];
        size_t nk = 0;
        E3C_ASSERT_OK(e3c_fixture_checks(kinds, &nk, fx));
        for (size_t k = 0; k < nk; k++) {
            e3c_verdict want;
            e3c_check_result r;
            E3C_ASSERT_OK(e3c_fixture_expected(&want, fx, kinds[k]));
            E3C_ASSERT_OK(e3c_fixture_run_check(&r, fx, potentials_dir(), kinds[k], NULL));
            cr_assert_eq(r.status, want, "%s %s: %s (%s)", cJSON_GetObjectItem(fx, "name")->valuestring,
                         e3c_check_kind_name(kinds[k]), e3c_verdict_name(r.status), r.message);
            e3c_check_result_free(&r);
            n++;
        }
    }
    cr_assert(n >= 30);
    cJSON_Delete(doc);
}

Test(structured, correct_potentials_pass_on_several_seeds, .timeout = 300)
{
    const char *files[4] = {"nequip_f64.pth", "nequip_f32.pth", "mace_f64.model", "mace_f32.model"};
    for (int f = 0; f < 4; f++)
        for (int periodic = 0; periodic < 2; periodic++) {
            e3c_jit_module *m = load(files[f]);
            e3c_structured *s = described(f < 2 ? "nequip" : "mace", m, periodic);
            for (uint64_t seed = 10; seed < 13; seed++) {
                e3c_equivariance_options o = E3C_EQUIVARIANCE_OPTIONS_INIT;
                o.seed = seed;
                e3c_check_result r;
                E3C_ASSERT_OK(e3c_check_structured_equivariance(&r, m, s, files[f], &o));
                cr_assert_eq(r.status, E3C_PASSED, "%s periodic=%d seed %llu: %s", files[f], periodic,
                             (unsigned long long)seed, r.message);
                e3c_check_result_free(&r);
            }
            e3c_structured_free(s);
            e3c_jit_free(m);
        }
}

/* The pitfalls of the reference page: rotating the positions but not the cell, or not
 * MACE's Cartesian shifts, gives large false failures on correct models. The check must
 * therefore fail when a role's transformation is broken. */
Test(structured, not_rotating_the_cell_gives_false_failures)
{
    e3c_jit_module *m = load("nequip_f64.pth");
    e3c_structured *s = described("nequip", m, 1);
    e3c_check_result r;
    cr_assert_eq(equivariance(m, s, &r), E3C_PASSED, "%s", r.message);
    e3c_check_result_free(&r);
    s->untransformed = 1u << E3C_ROLE_CELL;
    cr_assert_eq(equivariance(m, s, &r), E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "parity_k=0, did_translate=False") != NULL, "%s", r.message);
    e3c_check_result_free(&r);
    e3c_structured_free(s);
    e3c_jit_free(m);
}

Test(structured, not_rotating_the_cartesian_shifts_gives_false_failures)
{
    e3c_jit_module *m = load("mace_f64.model");
    e3c_structured *s = described("mace", m, 1);
    /* MACE reads the Cartesian shifts when it is not asked for the stress */
    for (size_t i = 0; i < s->n_inputs; i++)
        if (!strcmp(s->inputs[i].arg, "compute_stress"))
            s->inputs[i].value = 0;
    e3c_check_result r;
    cr_assert_eq(equivariance(m, s, &r), E3C_PASSED, "%s", r.message);
    e3c_check_result_free(&r);
    s->untransformed = 1u << E3C_ROLE_SHIFTS;
    cr_assert_eq(equivariance(m, s, &r), E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "'energy'") || strstr(r.message, "'forces'"), "%s", r.message);
    e3c_check_result_free(&r);
    /* nor the positions' translation (a translated cluster must give the same energy) */
    s->untransformed = 1u << E3C_ROLE_POSITIONS;
    cr_assert_eq(equivariance(m, s, &r), E3C_FAILED, "%s", r.message);
    e3c_check_result_free(&r);
    e3c_structured_free(s);
    e3c_jit_free(m);
}

Test(structured, width_one_positions_are_a_failed_strict_shape_step)
{
    e3c_jit_module *m = load("mace_width1.model");
    e3c_structured *s = described("mace", m, 0);
    e3c_auto_jitable_options o = E3C_AUTO_JITABLE_OPTIONS_INIT;
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_check_structured_auto_jitable(&r, m, s, "mace_width1", &o));
    cr_assert_eq(r.status, E3C_FAILED, "%s", r.message);
    cr_assert(strstr(r.message, "input data.positions accepted a width of 1 instead of 3"), "%s", r.message);
    e3c_check_result_free(&r);
    /* the correct one rejects widths 2, 1 and 0, and round-trips */
    e3c_jit_module *ok = load("mace_f64.model");
    E3C_ASSERT_OK(e3c_check_structured_auto_jitable(&r, ok, s, "mace_f64", &o));
    cr_assert_eq(r.status, E3C_PASSED, "%s", r.message);
    cr_assert(strstr(r.message, "rejects bad widths") && strstr(r.message, "round-trips"), "%s", r.message);
    e3c_check_result_free(&r);
    e3c_structured_free(s);
    e3c_jit_free(m), e3c_jit_free(ok);
}

Test(structured, empty_or_none_outputs_must_be_declared_optional)
{
    e3c_jit_module *m = load("nequip_f64.pth");
    e3c_structured *s = described("nequip", m, 0);
    for (size_t k = 0; k < s->n_outputs; k++)
        s->outputs[k].optional = 0; /* NequIP's stress is an empty tensor without a cell */
    e3c_check_result r;
    cr_assert_eq(equivariance(m, s, &r), E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "output 'stress' is None or empty but not declared optional"), "%s", r.message);
    e3c_check_result_free(&r);
    /* only optional outputs, all absent: nothing compared is not a pass */
    for (size_t k = 0; k < s->n_outputs; k++) {
        s->outputs[k].optional = 1;
        if (strcmp(s->outputs[k].key, "stress") && strcmp(s->outputs[k].key, "virial")) {
            free(s->outputs[k].key);
            s->outputs[k].key = strdup(k % 2 ? "stress" : "virial");
        }
    }
    cr_assert_eq(equivariance(m, s, &r), E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "nothing was compared"), "%s", r.message);
    e3c_check_result_free(&r);
    e3c_structured_free(s);
    e3c_jit_free(m);
}

Test(structured, the_model_dtype_sets_the_tolerance_tier)
{
    e3c_jit_module *m = load("nequip_f32.pth");
    e3c_structured *s = described("nequip", m, 1);
    cr_assert_eq(s->model_dtype, E3C_FLOAT32);
    cr_assert_eq(s->input_dtype, E3C_FLOAT64);
    cr_assert_eq(s->structure.n_species, 2);
    cr_assert_float_eq(s->structure.r_max, 4.0, 1e-12);
    e3c_check_result r;
    cr_assert_eq(equivariance(m, s, &r), E3C_PASSED, "%s", r.message);
    cr_assert_float_eq(cJSON_GetObjectItem(r.details, "tolerance")->valuedouble, 1e-3, 1e-15);
    e3c_check_result_free(&r);
    e3c_structured_free(s);
    e3c_jit_free(m);
    m = load("mace_f32.model"); /* no metadata: r_max, atomic_numbers and the dtype from the buffers */
    s = described("mace", m, 0);
    cr_assert_eq(s->model_dtype, E3C_FLOAT32);
    cr_assert_eq(s->structure.n_species, 2);
    e3c_structured_free(s);
    e3c_jit_free(m);
}

Test(structured, fixture_mistakes_are_named)
{
    static const struct {
        const char *json, *needle;
    } cases[] = {
        {"{\"name\": \"a\", \"preset\": \"nequip2\", \"torchscript\": \"x\"}", "unknown preset 'nequip2'"},
        {"{\"name\": \"a\", \"torchscript\": \"x\", \"args\": {\"x\": \"position\"}, \"outputs\": {\"y\": \"0e\"}}",
         "args.x: unknown role \"position\""},
        {"{\"name\": \"a\", \"torchscript\": \"x\", \"args\": {\"d\": {\"f\": {\"role\": \"features\"}}}, \"outputs\": {\"y\": \"0e\"}}",
         "args.d.f: a features input needs \"irreps\""},
        {"{\"name\": \"a\", \"torchscript\": \"x\", \"args\": {\"x\": \"positions\"}, \"outputs\": {\"y\": {\"kind\": \"tensor\"}}}",
         "outputs.y: \"kind\" must be"},
        {"{\"name\": \"a\", \"preset\": \"mace\", \"torchscript\": \"x\", \"structure\": {\"atom\": 3}}",
         "structure: unknown key \"atom\""},
        {"{\"name\": \"a\", \"preset\": \"mace\", \"torchscript\": \"x\", \"irreps_in\": [\"1o\"]}",
         "unknown field \"irreps_in\" for a structured model"},
        {"{\"name\": \"a\", \"preset\": \"mace\", \"torchscript\": \"x\", \"structure\": {\"atoms\": 0}}",
         "structure.atoms must be"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *fx = cJSON_Parse(cases[i].json);
        cr_assert_not_null(fx, "%s", cases[i].json);
        E3C_ASSERT_FAILS(e3c_fixture_validate(fx), E3C_ERR_VALUE, cases[i].needle);
        cJSON_Delete(fx);
    }
}

Test(structured, presets_are_built_in_and_overridable)
{
    const char *const *names = e3c_preset_names();
    int n = 0;
    for (; names[n]; n++)
        ;
    cr_assert_eq(n, 3);
    cJSON *fx = cJSON_Parse("{\"name\": \"a\", \"preset\": \"nequip\", \"torchscript\": \"x\", "
                            "\"structure\": {\"atoms\": 5}, \"checks\": {\"equivariance\": true}}"),
          *full = NULL;
    E3C_ASSERT_OK(e3c_fixture_expand_preset(&full, fx, NULL));
    const cJSON *st = cJSON_GetObjectItem(full, "structure");
    cr_assert_eq(cJSON_GetObjectItem(st, "atoms")->valueint, 5);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(st, "periodic")), "the preset's other structure keys stay");
    cr_assert_not_null(cJSON_GetObjectItem(cJSON_GetObjectItem(full, "args"), "data"));
    cJSON_Delete(fx), cJSON_Delete(full);
    /* a preset file, relative to the fixture's folder */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/presets", E3C_SOURCE_DIR);
    cJSON *p = NULL;
    E3C_ASSERT_OK(e3c_preset_load(&p, "mace-lammps.json", dir));
    cr_assert_not_null(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "args"), "local_or_ghost"));
    cJSON_Delete(p);
    E3C_ASSERT_FAILS(e3c_preset_load(&p, "missing.json", dir), E3C_ERR_IO, "missing.json");
}

/* ------------------------------------------------------------------ the command ---- */

/* Run the e3check command through the shell; its stdout+stderr go to a file read into out. */
static int run_cli(const char *args, char *out, size_t cap)
{
    char cmd[16384], log[1100];
    snprintf(log, sizeof log, "%s/cli.log", test_tmpdir());
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s > '%s' 2>&1", test_tmpdir(), E3C_CLI_PATH, args, log);
    int rc = system(cmd);
    FILE *f = fopen(log, "rb");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Test(structured_cli, model_with_a_preset_needs_nothing_else, .timeout = 300)
{
    char args[12288], out[16384];
    snprintf(args, sizeof args, "model '%s/mace_f32.model' --preset mace --report r.json", potentials_dir());
    cr_assert_eq(run_cli(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "mace_f32.model:periodic") && strstr(out, "mace_f32.model:cluster"), "%s", out);
    cr_assert(strstr(out, "15 checks, 15 as expected"), "%s", out); /* 8 with a cell, 7 without */
    snprintf(args, sizeof args, "model '%s/nequip_cell_diag.pth' --preset nequip --report r.json", potentials_dir());
    cr_assert_eq(run_cli(args, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "nequip_cell_diag.pth:periodic") && strstr(out, "equivariance  FAILED"), "%s", out);
    snprintf(args, sizeof args, "model '%s/mace_lammps_f64.pt' --preset '%s/presets/mace-lammps.json' --report r.json",
             potentials_dir(), E3C_SOURCE_DIR);
    cr_assert_eq(run_cli(args, out, sizeof out), 0, "%s", out);
    snprintf(args, sizeof args, "model '%s/nequip_f64.pth' --preset nequip2", potentials_dir());
    cr_assert_eq(run_cli(args, out, sizeof out), 4, "%s", out);
    cr_assert(strstr(out, "unknown preset 'nequip2'"), "%s", out);
}

Test(structured_cli, inspect_prints_metadata_values_schema_and_preset)
{
    char args[12288], out[16384];
    snprintf(args, sizeof args, "inspect '%s/nequip_f32.pth' '%s/mace_lammps_f64.pt'", potentials_dir(),
             potentials_dir());
    cr_assert_eq(run_cli(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "  r_max = 4.0\n") && strstr(out, "  type_names = H C\n") &&
                  strstr(out, "  model_dtype = float32\n"),
              "%s", out);
    cr_assert(strstr(out, "forward schema:\n  data: Dict[str, Tensor]\n  -> Dict[str, Tensor]\n"), "%s", out);
    cr_assert(strstr(out, "preset: nequip fits"), "%s", out);
    cr_assert(strstr(out, "  compute_virials: bool = False\n") && strstr(out, "preset: mace-lammps fits"), "%s", out);
}

/* A copy of nequip_f64.pth whose archive claims file format 99 (as a future PyTorch's
 * would): inspect names the format, the libtorch linked and how to build against another. */
Test(structured_cli, inspect_names_a_newer_pytorch)
{
    char src[8192], dst[1100], args[2400], out[16384];
    snprintf(src, sizeof src, "%s/nequip_f64.pth", potentials_dir());
    snprintf(dst, sizeof dst, "%s/newer.pth", test_tmpdir());
    FILE *f = fopen(src, "rb");
    cr_assert_not_null(f);
    static char bytes[1 << 20];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    int patched = 0;
    for (size_t p = 0; p + 30 < n && !patched; p++) {
        if (memcmp(bytes + p, "PK\003\004", 4))
            continue;
        size_t name_len = (unsigned char)bytes[p + 26] | (size_t)(unsigned char)bytes[p + 27] << 8;
        size_t extra_len = (unsigned char)bytes[p + 28] | (size_t)(unsigned char)bytes[p + 29] << 8;
        if (name_len > 8 && !memcmp(bytes + p + 30 + name_len - 8, "/version", 8)) {
            memcpy(bytes + p + 30 + name_len + extra_len, "99", 2);
            patched = 1;
        }
    }
    cr_assert(patched);
    f = fopen(dst, "wb");
    cr_assert_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
    int64_t format = 0, max_format = 0;
    char *producer = NULL;
    E3C_ASSERT_OK(e3c_jit_archive_info(&format, &producer, &max_format, dst));
    cr_assert_eq(format, 99);
    cr_assert_eq(max_format, 10);
    free(producer);
    snprintf(args, sizeof args, "inspect '%s'", dst);
    cr_assert_eq(run_cli(args, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "was written by a newer PyTorch") && strstr(out, "archive format 99") &&
                  strstr(out, "Torch_DIR") && strstr(out, e3c_torch_version()),
              "%s", out);
    /* a file of this libtorch's own format is not called newer */
    E3C_ASSERT_OK(e3c_jit_archive_info(&format, &producer, &max_format, src));
    cr_assert(format >= 1 && format <= max_format);
    cr_assert_str_eq(producer, "");
    free(producer);
}

/* A model with e3nn-style separate edge_src/edge_dst, per-atom irreps features, a plain int
 * argument and a tuple output: out0[i] = x[i] * scale + sum_j (|r_ij|, |r_ij|^2, r_ij) as
 * 2x0e+1x1o, out1 = the same summed over atoms. `broken` adds a fixed vector to the 1o part. */
static e3c_jit_module *edge_model(int broken)
{
    char src[2048];
    snprintf(
        src, sizeof src,
        "def forward(self, pos: Tensor, x: Tensor, edge_src: Tensor, edge_dst: Tensor, scale: int) -> Tuple[Tensor, Tensor]:\n"
        "    assert x.shape[1] == 5 and pos.shape[1] == 3\n"
        "    r = pos[edge_dst] - pos[edge_src]\n"
        "    d = torch.sqrt((r * r).sum(1, keepdim=True))\n"
        "    msg = torch.cat([d, d * d, r%s], 1)\n"
        "    out = x * float(scale) + torch.zeros_like(x).index_add(0, edge_src, msg)\n"
        "    return out, out.sum(0)\n",
        broken ? " + torch.tensor([[0.1, 0.0, 0.0]], dtype=r.dtype)" : "");
    e3c_jit_module *m = NULL;
    E3C_ASSERT_OK(e3c_jit_new(&m, "EdgeModel"));
    E3C_ASSERT_OK(e3c_jit_define(m, src));
    return m;
}

Test(structured, edge_src_dst_features_plain_args_and_tuple_outputs)
{
    cJSON *fx =
        cJSON_Parse("{\"name\": \"e\", \"torchscript\": \"x\", \"dtype\": \"float64\", \"grad\": false,"
                    " \"args\": {\"pos\": \"positions\", \"x\": {\"role\": \"features\", \"irreps\": \"2x0e+1x1o\"},"
                    " \"edge_src\": \"edge_src\", \"edge_dst\": \"edge_dst\", \"scale\": 2},"
                    " \"outputs\": {\"0\": \"2x0e+1x1o\", \"1\": {\"irreps\": \"2x0e+1x1o\", \"per\": \"structure\"}},"
                    " \"structure\": {\"atoms\": 6, \"species\": 1, \"r_max\": 3.0, \"periodic\": false}}");
    e3c_structured *s = NULL;
    E3C_ASSERT_OK(e3c_structured_validate(fx));
    E3C_ASSERT_OK(e3c_structured_parse(&s, fx));
    cr_assert_eq(s->inputs[4].role, E3C_ROLE_INT);
    cr_assert(s->inputs[1].strict && !s->inputs[2].strict);
    for (int broken = 0; broken < 2; broken++) {
        e3c_jit_module *m = edge_model(broken);
        E3C_ASSERT_OK(e3c_structured_resolve(s, m));
        e3c_check_result r;
        cr_assert_eq(equivariance(m, s, &r), broken ? E3C_FAILED : E3C_PASSED, "%s", r.message);
        if (broken)
            cr_assert(strstr(r.message, "in output '0'") || strstr(r.message, "in output '1'"), "%s", r.message);
        e3c_check_result_free(&r);
        e3c_auto_jitable_options o = E3C_AUTO_JITABLE_OPTIONS_INIT;
        E3C_ASSERT_OK(e3c_check_structured_auto_jitable(&r, m, s, "edge", &o));
        cr_assert_eq(r.status, E3C_PASSED, "%s", r.message);
        e3c_check_result_free(&r);
        e3c_jit_free(m);
    }
    /* features declared with the wrong irreps: the transformed inputs no longer match */
    e3c_irreps_free(&s->inputs[1].irreps);
    E3C_ASSERT_OK(e3c_irreps_parse(&s->inputs[1].irreps, "1x0e+1x1o+1x0e"));
    e3c_jit_module *m = edge_model(0);
    e3c_check_result r;
    cr_assert_eq(equivariance(m, s, &r), E3C_FAILED, "%s", r.message);
    e3c_check_result_free(&r);
    /* an output key the model does not have (a tuple of 2) is named */
    free(s->outputs[1].key);
    s->outputs[1].key = strdup("2");
    cr_assert_eq(equivariance(m, s, &r), E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "no element 2"), "%s", r.message);
    e3c_check_result_free(&r);
    e3c_jit_free(m);
    e3c_structured_free(s);
    cJSON_Delete(fx);
}

Test(structured, fusion_strategy_specs)
{
    E3C_ASSERT_OK(e3c_jit_set_fusion_strategy("DYNAMIC,3"));
    E3C_ASSERT_OK(e3c_jit_set_fusion_strategy("STATIC,2;DYNAMIC,10"));
    E3C_ASSERT_FAILS(e3c_jit_set_fusion_strategy("FAST,3"), E3C_ERR_VALUE, "'FAST,3'");
    E3C_ASSERT_FAILS(e3c_jit_set_fusion_strategy("STATIC"), E3C_ERR_VALUE, "TYPE,DEPTH");
    e3c_jit_module *m = load("nequip_f64.pth");
    E3C_ASSERT_OK(e3c_structured_apply_jit_settings(m));
    e3c_jit_free(m);
}

Test(structured_cli, model_sizes_and_picks_the_structure)
{
    char args[12288], out[16384];
    snprintf(args, sizeof args,
             "model '%s/nequip_f64.pth' --preset nequip --atoms 12 --structures cluster --report r.json",
             potentials_dir());
    cr_assert_eq(run_cli(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "nequip_f64.pth:cluster") && !strstr(out, ":periodic"), "%s", out);
    cr_assert(strstr(out, "6 checks, 6 as expected"), "%s", out);
    char report[2048];
    snprintf(report, sizeof report, "%s/r.json", test_tmpdir());
    cJSON *r = load_json(report);
    char *text = cJSON_PrintUnformatted(r);
    int sized = text && strstr(text, "\"atoms\":12") != NULL;
    free(text);
    cJSON_Delete(r);
    cr_assert(sized, "the report gives the structure's size");
    snprintf(args, sizeof args, "model '%s/nequip_f64.pth' --atoms 12", potentials_dir());
    cr_assert_eq(run_cli(args, out, sizeof out), 4, "%s", out);
    cr_assert(strstr(out, "--atoms and --structures go with --preset"), "%s", out);
    snprintf(args, sizeof args, "model '%s/nequip_f64.pth' --preset nequip --structures triclinic", potentials_dir());
    cr_assert_eq(run_cli(args, out, sizeof out), 4, "%s", out);
}

Test(structured, a_missing_or_mismatched_model_is_errored_and_named)
{
    cJSON *fx = cJSON_Parse("{\"name\": \"m\", \"preset\": \"nequip\", \"torchscript\": \"no_such.pth\"}");
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_fixture_run_check(&r, fx, potentials_dir(), E3C_CHECK_EQUIVARIANCE, NULL));
    cr_assert_eq(r.status, E3C_ERRORED);
    cr_assert(strstr(r.message, "no_such.pth"), "%s", r.message);
    e3c_check_result_free(&r);
    cJSON_Delete(fx);
    /* a MACE file under the NequIP preset: the dict lacks MACE's keys, named by the model */
    fx = cJSON_Parse("{\"name\": \"m\", \"preset\": \"nequip\", \"torchscript\": \"mace_f64.model\"}");
    E3C_ASSERT_OK(e3c_fixture_run_check(&r, fx, potentials_dir(), E3C_CHECK_AUTO_JITABLE, NULL));
    cr_assert_eq(r.status, E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "positions"), "%s", r.message);
    e3c_check_result_free(&r);
    cJSON_Delete(fx);
    /* the LAMMPS wrapper under the mace preset: compute_force is not among its arguments */
    fx = cJSON_Parse("{\"name\": \"m\", \"preset\": \"mace\", \"torchscript\": \"mace_lammps_f64.pt\"}");
    E3C_ASSERT_OK(e3c_fixture_run_check(&r, fx, potentials_dir(), E3C_CHECK_EQUIVARIANCE, NULL));
    cr_assert_eq(r.status, E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "has no argument named 'compute_force'"), "%s", r.message);
    e3c_check_result_free(&r);
    cJSON_Delete(fx);
}

/* ------------------------------------------------------------------ physical checks -- */

/* Run check `kind` of the preset on potential `file` through a fixture. */
static e3c_verdict physical(const char *preset, const char *file, int periodic, e3c_check_kind kind, uint64_t seed,
                            e3c_check_result *r)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"name\": \"t\", \"preset\": \"%s\", \"torchscript\": \"%s\", \"structure\": {\"periodic\": %s}}",
             preset, file, periodic ? "true" : "false");
    cJSON *json = cJSON_Parse(text);
    e3c_fixture *fx = NULL;
    E3C_ASSERT_OK(e3c_fixture_parse(&fx, json, potentials_dir()));
    E3C_ASSERT_OK(e3c_structured_fixture_run(r, fx, (int)kind, seed));
    e3c_fixture_free(fx);
    cJSON_Delete(json);
    return r->status;
}

/* A structured fixture is parsed once and run many times: what a run reads from the model
 * (r_max, the species, the dtype) goes to a copy, so the parsed fixture stays as read. */
Test(physical, a_parsed_potential_is_not_changed_by_running_it)
{
    cJSON *json =
        cJSON_Parse("{\"name\": \"t\", \"preset\": \"nequip\", \"torchscript\": \"nequip_f64.pth\", "
                    "\"structure\": {\"periodic\": false}, \"checks\": {\"conservative\": {\"components\": 2}}}");
    e3c_fixture *fx = NULL;
    E3C_ASSERT_OK(e3c_fixture_parse(&fx, json, potentials_dir()));
    cJSON_Delete(json);
    cr_assert_not_null(fx->structured);
    cr_assert(!(fx->structured->structure.r_max > 0), "r_max comes from the model");
    cr_assert_eq(fx->check[E3C_CHECK_CONSERVATIVE].physical.components, 2);
    for (size_t i = 0; i < fx->n_checks; i++)
        cr_assert_neq(fx->kinds[i], E3C_CHECK_PERIODIC_IMAGES, "no cell: no periodic images");
    e3c_check_result r;
    for (int run = 0; run < 2; run++) {
        E3C_ASSERT_OK(e3c_fixture_run(&r, fx, E3C_CHECK_TRANSLATION, NULL));
        cr_assert_eq(r.status, E3C_PASSED, "%s", r.message);
        e3c_check_result_free(&r);
        cr_assert(!(fx->structured->structure.r_max > 0), "the run changed the parsed fixture");
        cr_assert_eq(fx->structured->has_model_dtype, 0);
    }
    e3c_fixture_free(fx);
}

/* A preset file is read relative to the fixture's folder when the fixture is read; a
 * missing one refuses the fixture naming the file. */
Test(structured, a_preset_file_is_read_with_the_fixture)
{
    char presets[4096];
    snprintf(presets, sizeof presets, "%s/presets", E3C_SOURCE_DIR);
    cJSON *json = cJSON_Parse("{\"name\": \"t\", \"preset\": \"mace-lammps.json\", \"torchscript\": \"m.pt\"}");
    e3c_fixture *fx = NULL;
    E3C_ASSERT_OK(e3c_fixture_parse(&fx, json, presets));
    cr_assert_not_null(fx->structured);
    cr_assert(fx->structured->n_inputs > 0, "the preset's args are parsed");
    e3c_fixture_free(fx);
    E3C_ASSERT_FAILS(e3c_fixture_parse(&fx, json, potentials_dir()), E3C_ERR_IO, "mace-lammps.json");
    cr_assert_null(fx);
    cJSON_Delete(json);
}

static const e3c_check_kind physical_kinds[6] = {E3C_CHECK_PERMUTATION,  E3C_CHECK_TRANSLATION,
                                                 E3C_CHECK_CONSERVATIVE, E3C_CHECK_BATCHING,
                                                 E3C_CHECK_ADDITIVITY,   E3C_CHECK_PERIODIC_IMAGES};

Test(physical, correct_potentials_pass_every_check_in_both_dtypes, .timeout = 300)
{
    const char *files[4] = {"nequip_f64.pth", "nequip_f32.pth", "mace_f64.model", "mace_f32.model"};
    for (int f = 0; f < 4; f++)
        for (int periodic = 0; periodic < 2; periodic++)
            for (uint64_t seed = 21; seed < 23; seed++)
                for (int k = 0; k < 6; k++) {
                    e3c_check_result r;
                    physical(f < 2 ? "nequip" : "mace", files[f], periodic, physical_kinds[k], seed, &r);
                    if ((f < 2 && physical_kinds[k] == E3C_CHECK_BATCHING) || /* NequIP files take one structure */
                        (!periodic && physical_kinds[k] == E3C_CHECK_PERIODIC_IMAGES)) {
                        cr_assert_eq(r.status, E3C_SKIPPED, "%s", r.message);
                        e3c_check_result_free(&r);
                        continue;
                    }
                    cr_assert_eq(r.status, E3C_PASSED, "%s %s periodic=%d seed %llu: %s", files[f],
                                 e3c_check_kind_name(physical_kinds[k]), periodic, (unsigned long long)seed, r.message);
                    cJSON *calls = cJSON_GetObjectItem(r.details, "model_calls");
                    cr_assert(cJSON_IsNumber(calls) && calls->valuedouble >= 1, "%s: model calls are counted: %s",
                              e3c_check_kind_name(physical_kinds[k]), cJSON_PrintUnformatted(r.details));
                    e3c_check_result_free(&r);
                }
}

/* Each broken variant fails the check of its property and passes those it does not break. */
Test(physical, each_broken_variant_fails_its_property_only, .timeout = 300)
{
    static const struct {
        const char *preset, *file;
        int periodic;
        e3c_verdict eq, perm, trans, cons, images;
    } cases[] = {
        {"nequip", "nequip_order.pth", 1, E3C_PASSED, E3C_FAILED, E3C_PASSED, E3C_PASSED, E3C_PASSED},
        {"mace", "mace_order.model", 0, E3C_PASSED, E3C_FAILED, E3C_PASSED, E3C_PASSED, E3C_SKIPPED},
        {"nequip", "nequip_scaled_forces.pth", 0, E3C_PASSED, E3C_PASSED, E3C_PASSED, E3C_FAILED, E3C_SKIPPED},
        {"mace", "mace_scaled_forces.model", 1, E3C_PASSED, E3C_PASSED, E3C_PASSED, E3C_FAILED, E3C_PASSED},
        {"nequip", "nequip_force_offset.pth", 1, E3C_FAILED, E3C_PASSED, E3C_PASSED, E3C_FAILED, E3C_PASSED},
        {"mace", "mace_force_offset.model", 0, E3C_FAILED, E3C_PASSED, E3C_PASSED, E3C_FAILED, E3C_SKIPPED},
        {"nequip", "nequip_absolute.pth", 0, E3C_FAILED, E3C_PASSED, E3C_FAILED, E3C_PASSED, E3C_SKIPPED},
        {"mace", "mace_absolute.model", 1, E3C_FAILED, E3C_PASSED, E3C_FAILED, E3C_PASSED, E3C_FAILED},
        {"nequip", "nequip_cell_diag.pth", 1, E3C_FAILED, E3C_PASSED, E3C_PASSED, E3C_FAILED, E3C_FAILED},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const e3c_check_kind kinds[5] = {E3C_CHECK_EQUIVARIANCE, E3C_CHECK_PERMUTATION, E3C_CHECK_TRANSLATION,
                                         E3C_CHECK_CONSERVATIVE, E3C_CHECK_PERIODIC_IMAGES};
        const e3c_verdict want[5] = {cases[c].eq, cases[c].perm, cases[c].trans, cases[c].cons, cases[c].images};
        for (int k = 0; k < 5; k++) {
            e3c_check_result r;
            physical(cases[c].preset, cases[c].file, cases[c].periodic, kinds[k], 5, &r);
            cr_assert_eq(r.status, want[k], "%s %s: %s (%s)", cases[c].file, e3c_check_kind_name(kinds[k]),
                         e3c_verdict_name(r.status), r.message);
            e3c_check_result_free(&r);
        }
    }
}

Test(physical, results_state_tolerances_calls_and_the_worst_component)
{
    e3c_check_result r;
    cr_assert_eq(physical("nequip", "nequip_scaled_forces.pth", 1, E3C_CHECK_CONSERVATIVE, 2, &r), E3C_FAILED);
    cr_assert(strstr(r.message, "forces[") && strstr(r.message, "finite difference"), "%s", r.message);
    cJSON *compared = cJSON_GetObjectItem(r.details, "compared");
    cr_assert(cJSON_GetArraySize(compared) >= 3 + 2, "forces and the strain components are compared");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.details, "strain_checked")));
    cr_assert_eq(cJSON_GetObjectItem(r.details, "model_calls")->valuedouble, 1 + 4 * 3 + 4 * 2);
    cr_assert_float_eq(cJSON_GetObjectItem(r.details, "step")->valuedouble, 1e-3, 1e-15);
    e3c_check_result_free(&r);
    cr_assert_eq(physical("nequip", "nequip_f32.pth", 0, E3C_CHECK_PERMUTATION, 2, &r), E3C_PASSED, "%s", r.message);
    cr_assert_float_eq(cJSON_GetObjectItem(r.details, "tolerance")->valuedouble, 1e-4, 1e-12);
    cr_assert_eq(cJSON_GetObjectItem(r.details, "model_calls")->valuedouble, 2);
    e3c_check_result_free(&r);
    cr_assert_eq(physical("mace", "mace_f64.model", 1, E3C_CHECK_TRANSLATION, 2, &r), E3C_PASSED, "%s", r.message);
    cr_assert_float_eq(cJSON_GetObjectItem(r.details, "tolerance")->valuedouble, 1e-9, 1e-20);
    e3c_check_result_free(&r);
}

Test(physical, the_checks_are_for_structured_models_and_on_by_default_for_presets)
{
    cJSON *plain = cJSON_Parse("{\"name\": \"p\", \"torchscript\": \"x.pt\", \"irreps_in\": [\"1o\"], \"irreps_out\": "
                               "[\"1o\"], \"checks\": {\"permutation\": true}}");
    cr_assert_neq(e3c_fixture_validate(plain), E3C_OK);
    cr_assert(strstr(e3c_error_last(), "permutation") && strstr(e3c_error_last(), "structured"), "%s",
              e3c_error_last());
    const char *const texts[4] = {
        "{\"name\": \"q\", \"preset\": \"mace\", \"torchscript\": \"x.model\"}",
        "{\"name\": \"q\", \"preset\": \"nequip\", \"torchscript\": \"x.pth\"}",
        "{\"name\": \"q\", \"preset\": \"mace\", \"torchscript\": \"x.model\", \"checks\": {\"conservative\": false}}",
        "{\"name\": \"q\", \"torchscript\": \"x.pt\", \"args\": {\"x\": \"positions\"}, \"outputs\": {\"y\": \"0e\"}}"};
    const int base = (1 << E3C_CHECK_AUTO_JITABLE) | (1 << E3C_CHECK_EQUIVARIANCE);
    const int phys = (1 << E3C_CHECK_PERMUTATION) | (1 << E3C_CHECK_TRANSLATION) | (1 << E3C_CHECK_CONSERVATIVE) |
                     (1 << E3C_CHECK_ADDITIVITY) | (1 << E3C_CHECK_PERIODIC_IMAGES);
    const int want[4] = {base | phys | (1 << E3C_CHECK_BATCHING), base | phys,
                         (base | phys | (1 << E3C_CHECK_BATCHING)) & ~(1 << E3C_CHECK_CONSERVATIVE), base};
    for (int t = 0; t < 4; t++) {
        cJSON *pot = cJSON_Parse(texts[t]);
        e3c_check_kind kinds[E3C_CHECK_KIND_COUNT];
        size_t n = 0;
        E3C_ASSERT_OK(e3c_fixture_checks(kinds, &n, pot));
        int seen = 0;
        for (size_t i = 0; i < n; i++)
            seen |= 1 << kinds[i];
        cr_assert_eq(seen, want[t], "%s", texts[t]);
        cJSON_Delete(pot);
    }
    cJSON_Delete(plain);
}

Test(structured_cli, check_picks_one_physical_check)
{
    char args[12288], out[16384];
    snprintf(args, sizeof args,
             "model '%s/nequip_scaled_forces.pth' --preset nequip --check conservative --report r.json",
             potentials_dir());
    cr_assert_eq(run_cli(args, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, "conservative  FAILED") && !strstr(out, "equivariance"), "%s", out);
    cr_assert(strstr(out, "2 checks, 0 as expected"), "%s", out);
    snprintf(args, sizeof args, "model '%s/mace_f64.model' --preset mace --check periodic_images --report r.json",
             potentials_dir());
    cr_assert_eq(run_cli(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "1 checks, 1 as expected") || strstr(out, "1 check, 1 as expected"), "%s", out);
}

/* ------------------------------------------------------------------ smoothness ---- */

/* Run the smoothness check (opt-in) of the preset on potential `file`, with `options`
 * (a JSON object, or "true"). */
static e3c_verdict smoothness(const char *preset, const char *file, int periodic, const char *options, uint64_t seed,
                              e3c_check_result *r)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"name\": \"t\", \"preset\": \"%s\", \"torchscript\": \"%s\", \"structure\": {\"periodic\": %s},"
             " \"checks\": {\"smoothness\": %s}}",
             preset, file, periodic ? "true" : "false", options);
    cJSON *json = cJSON_Parse(text);
    e3c_fixture *fx = NULL;
    E3C_ASSERT_OK(e3c_fixture_parse(&fx, json, potentials_dir()));
    E3C_ASSERT_OK(e3c_structured_fixture_run(r, fx, E3C_CHECK_SMOOTHNESS, seed));
    e3c_fixture_free(fx);
    cJSON_Delete(json);
    return r->status;
}

Test(smoothness, correct_potentials_are_continuous_at_r_max, .timeout = 300)
{
    const char *files[4] = {"nequip_f64.pth", "nequip_f32.pth", "mace_f64.model", "mace_f32.model"};
    for (int f = 0; f < 4; f++)
        for (int periodic = 0; periodic < 2; periodic++)
            for (uint64_t seed = 21; seed < 24; seed++) {
                e3c_check_result r;
                smoothness(f < 2 ? "nequip" : "mace", files[f], periodic, "true", seed, &r);
                cr_assert_eq(r.status, E3C_PASSED, "%s periodic=%d seed %llu: %s", files[f], periodic,
                             (unsigned long long)seed, r.message);
                cr_assert_eq(cJSON_GetObjectItem(r.details, "model_calls")->valuedouble, 4);
                e3c_check_result_free(&r);
            }
}

/* The hard cutoff (no envelope) fails on every structure and seed tried, in both dtypes;
 * the smooth model with the same parameters passes on the same pair. */
Test(smoothness, a_hard_cutoff_always_fails, .timeout = 300)
{
    static const struct {
        const char *preset, *file;
    } hard[2] = {{"nequip", "nequip_hard_cutoff.pth"}, {"mace", "mace_hard_cutoff_f32.model"}};
    for (int f = 0; f < 2; f++)
        for (int periodic = 0; periodic < 2; periodic++)
            for (uint64_t seed = 0; seed < 4; seed++) {
                e3c_check_result r;
                smoothness(hard[f].preset, hard[f].file, periodic, "true", seed, &r);
                cr_assert_eq(r.status, E3C_FAILED, "%s periodic=%d seed %llu: %s", hard[f].file, periodic,
                             (unsigned long long)seed, r.message);
                cr_assert(strstr(r.message, "not continuous at r_max 4: as atoms "), "%s", r.message);
                e3c_check_result_free(&r);
            }
}

Test(smoothness, the_result_states_the_pair_distances_energies_and_tolerance)
{
    e3c_check_result r;
    cr_assert_eq(smoothness("nequip", "nequip_hard_cutoff.pth", 1, "true", 7, &r), E3C_FAILED, "%s", r.message);
    const cJSON *d = r.details, *pair = cJSON_GetObjectItem(d, "pair");
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(pair, "i")) && cJSON_IsNumber(cJSON_GetObjectItem(pair, "j")));
    cr_assert_float_eq(cJSON_GetObjectItem(d, "step")->valuedouble, 4e-6, 1e-18);
    cr_assert_float_eq(cJSON_GetObjectItem(d, "inside")->valuedouble, 4 - 4e-6, 1e-13);
    cr_assert_float_eq(cJSON_GetObjectItem(d, "outside")->valuedouble, 4 + 4e-6, 1e-13);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(d, "energies")), 4);
    cr_assert_float_eq(cJSON_GetObjectItem(d, "atol")->valuedouble, 1e-6, 1e-18);
    cr_assert(cJSON_GetObjectItem(d, "energy_jump")->valuedouble > 1e-3, "a finite jump");
    const cJSON *wf = cJSON_GetObjectItem(d, "worst_force");
    cr_assert(strstr(cJSON_GetObjectItem(wf, "component")->valuestring, "forces["));
    cr_assert(strstr(r.message, "'total_energy' jumps by") && strstr(r.message, "worst force jump"), "%s", r.message);
    e3c_check_result_free(&r);
    /* the float32 tier, and a tolerance given by the fixture */
    cr_assert_eq(smoothness("mace", "mace_f32.model", 0, "{\"tolerance\": 0.01, \"step\": 0.002}", 7, &r), E3C_PASSED,
                 "%s", r.message);
    cr_assert_float_eq(cJSON_GetObjectItem(r.details, "atol")->valuedouble, 0.01, 1e-15);
    cr_assert_float_eq(cJSON_GetObjectItem(r.details, "step")->valuedouble, 0.002, 1e-15);
    cr_assert(strstr(r.message, "continuous at r_max 4: atoms"), "%s", r.message);
    e3c_check_result_free(&r);
    /* a step that leaves no room around r_max is an error, not a verdict */
    cr_assert_eq(smoothness("nequip", "nequip_f64.pth", 0, "{\"step\": 1.5}", 7, &r), E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "step 1.5"), "%s", r.message);
    e3c_check_result_free(&r);
}

/* A structure with no pair to put at r_max (one atom in a small cell: its only edges are
 * to its own images, which do not move) is ERRORED naming why, never PASSED. */
Test(smoothness, no_pair_to_move_is_errored)
{
    cJSON *json = cJSON_Parse("{\"name\": \"t\", \"preset\": \"nequip\", \"torchscript\": \"nequip_f64.pth\","
                              " \"structure\": {\"periodic\": true, \"atoms\": 1, \"volume_per_atom\": 30.0},"
                              " \"checks\": {\"smoothness\": true}}");
    e3c_fixture *fx = NULL;
    E3C_ASSERT_OK(e3c_fixture_parse(&fx, json, potentials_dir()));
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_structured_fixture_run(&r, fx, E3C_CHECK_SMOOTHNESS, 1));
    cr_assert_eq(r.status, E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "no pair of the structure can be put at r_max"), "%s", r.message);
    e3c_check_result_free(&r);
    e3c_fixture_free(fx);
    cJSON_Delete(json);
}

Test(smoothness, opt_in_for_structured_models_only)
{
    e3c_check_kind kinds[E3C_CHECK_KIND_COUNT];
    size_t n = 0;
    const char *const texts[3] = {"{\"name\": \"q\", \"preset\": \"mace\", \"torchscript\": \"x.model\"}",
                                  "{\"name\": \"q\", \"preset\": \"nequip\", \"torchscript\": \"x.pth\"}",
                                  "{\"name\": \"q\", \"preset\": \"nequip\", \"torchscript\": \"x.pth\", \"checks\": "
                                  "{\"smoothness\": {\"step\": 1e-4}}}"};
    for (int t = 0; t < 3; t++) {
        cJSON *fx = cJSON_Parse(texts[t]);
        E3C_ASSERT_OK(e3c_fixture_validate(fx));
        E3C_ASSERT_OK(e3c_fixture_checks(kinds, &n, fx));
        int seen = 0;
        for (size_t i = 0; i < n; i++)
            seen |= kinds[i] == E3C_CHECK_SMOOTHNESS;
        cr_assert_eq(seen, t == 2, "%s", texts[t]);
        cJSON_Delete(fx);
    }
    cr_assert_str_eq(e3c_check_kind_name(E3C_CHECK_SMOOTHNESS), "smoothness");
    /* options are checked when the fixture is read */
    cJSON *bad = cJSON_Parse("{\"name\": \"q\", \"preset\": \"nequip\", \"torchscript\": \"x.pth\", \"checks\": "
                             "{\"smoothness\": {\"step\": -1}}}");
    E3C_ASSERT_FAILS(e3c_fixture_validate(bad), E3C_ERR_VALUE, "check \"smoothness\" option \"step\" must be");
    cJSON_Delete(bad);
    bad = cJSON_Parse("{\"name\": \"q\", \"preset\": \"nequip\", \"torchscript\": \"x.pth\", \"checks\": "
                      "{\"smoothness\": {\"band\": 1}}}");
    E3C_ASSERT_FAILS(e3c_fixture_validate(bad), E3C_ERR_VALUE, "takes tolerance or step");
    cJSON_Delete(bad);
    /* a plain (irreps) fixture asking for it is refused, and run anyway it is ERRORED */
    cJSON *plain = cJSON_Parse("{\"name\": \"p\", \"torchscript\": \"x.pt\", \"irreps_in\": [\"1o\"], \"irreps_out\": "
                               "[\"1o\"], \"checks\": {\"smoothness\": true}}");
    E3C_ASSERT_FAILS(e3c_fixture_validate(plain), E3C_ERR_VALUE, "check \"smoothness\" is for structured models");
    e3c_check_result r;
    E3C_ASSERT_OK(e3c_fixture_run_check(&r, plain, potentials_dir(), E3C_CHECK_SMOOTHNESS, NULL));
    cr_assert_eq(r.status, E3C_ERRORED, "%s", r.message);
    cr_assert(strstr(r.message, "smoothness") && strstr(r.message, "structured"), "%s", r.message);
    e3c_check_result_free(&r);
    cJSON_Delete(plain);
}

Test(structured_cli, check_smoothness_turns_the_opt_in_check_on, .timeout = 300)
{
    char args[12288], out[16384];
    snprintf(args, sizeof args, "model '%s/nequip_hard_cutoff.pth' --preset nequip --check smoothness --report r.json",
             potentials_dir());
    cr_assert_eq(run_cli(args, out, sizeof out), 1, "%s", out);
    cr_assert(strstr(out, " smoothness ") && !strstr(out, "equivariance"), "%s", out);
    cr_assert(strstr(out, "2 checks, 0 as expected, 2 not (passed 0, failed 2"), "%s", out);
    snprintf(args, sizeof args, "model '%s/mace_f32.model' --preset mace --check smoothness --report r.json",
             potentials_dir());
    cr_assert_eq(run_cli(args, out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "2 checks, 2 as expected"), "%s", out);
}

/* ------------------------------------------------------------- outputs that never pass -- */

/* A NequIP-shaped pair potential (r_max 4, smooth cutoff, forces by autograd) whose output
 * dict is then changed by `tail` (a line of TorchScript, or "" for the correct model). */
static e3c_jit_module *pair_model(const char *tail)
{
    char src[2048];
    snprintf(src, sizeof src,
             "def forward(self, data: Dict[str, Tensor]) -> Dict[str, Tensor]:\n"
             "    pos = data['pos'].detach().requires_grad_(True)\n"
             "    assert pos.dim() == 2 and pos.shape[1] == 3\n"
             "    ei = data['edge_index']\n"
             "    vec = pos[ei[1]] - pos[ei[0]]\n"
             "    if 'cell' in data:\n"
             "        vec = vec + data['edge_cell_shift'].to(pos.dtype) @ data['cell'].view(3, 3)\n"
             "    r = torch.sqrt((vec * vec).sum(1))\n"
             "    pair = torch.exp(-r) * 0.5 * (torch.cos(3.141592653589793 * r / 4.0) + 1.0)\n"
             "    e_atom = torch.zeros(pos.shape[0], dtype=pos.dtype).index_add(0, ei[0], pair)\n"
             "    total = e_atom.sum().view(1, 1)\n"
             "    g = torch.autograd.grad([total.sum()], [pos])[0]\n"
             "    assert g is not None\n"
             "    out: Dict[str, Tensor] = {}\n"
             "    out['total_energy'] = total.detach()\n"
             "    out['atomic_energy'] = e_atom.detach().view(-1, 1)\n"
             "    out['forces'] = -g\n"
             "%s%s"
             "    return out\n",
             tail, *tail ? "\n" : "");
    e3c_jit_module *m = NULL;
    E3C_ASSERT_OK(e3c_jit_new(&m, "PairModel"));
    E3C_ASSERT_OK(e3c_jit_define(m, src));
    return m;
}

/* Every check of the nequip preset on pair_model(tail), periodic: the verdicts in
 * got[0..7] (auto_jitable, equivariance, permutation, translation, conservative,
 * additivity, periodic_images, smoothness), the messages joined into msgs. */
static void pair_verdicts(const char *tail, e3c_verdict got[8], char *msgs, size_t cap)
{
    cJSON *fx = cJSON_Parse("{\"name\": \"p\", \"preset\": \"nequip\", \"torchscript\": \"x\","
                            " \"structure\": {\"r_max\": 4.0, \"species\": 2}}"),
          *full = NULL;
    e3c_structured *s = NULL;
    e3c_jit_module *m = pair_model(tail);
    E3C_ASSERT_OK(e3c_fixture_expand_preset(&full, fx, NULL));
    E3C_ASSERT_OK(e3c_structured_parse(&s, full));
    E3C_ASSERT_OK(e3c_structured_resolve(s, m));
    static const e3c_check_kind phys[6] = {E3C_CHECK_PERMUTATION, E3C_CHECK_TRANSLATION,     E3C_CHECK_CONSERVATIVE,
                                           E3C_CHECK_ADDITIVITY,  E3C_CHECK_PERIODIC_IMAGES, E3C_CHECK_SMOOTHNESS};
    msgs[0] = '\0';
    for (int k = 0; k < 8; k++) {
        e3c_check_result r;
        if (k == 0) {
            e3c_auto_jitable_options o = E3C_AUTO_JITABLE_OPTIONS_INIT;
            E3C_ASSERT_OK(e3c_check_structured_auto_jitable(&r, m, s, "pair", &o));
        } else if (k == 1) {
            equivariance(m, s, &r);
        } else {
            E3C_ASSERT_OK(e3c_check_structured_physical(&r, m, s, (int)phys[k - 2], 5, NULL));
        }
        got[k] = r.status;
        snprintf(msgs + strlen(msgs), cap - strlen(msgs), "[%d %s] %s\n", k, e3c_verdict_name(r.status), r.message);
        e3c_check_result_free(&r);
    }
    e3c_jit_free(m);
    e3c_structured_free(s);
    cJSON_Delete(fx), cJSON_Delete(full);
}

Test(structured, outputs_that_are_not_finite_or_not_floating_never_pass, .timeout = 120)
{
    static const struct {
        const char *tail;
        e3c_verdict want[8];
        const char *needle;
    } cases[] = {
        {"", {E3C_PASSED, E3C_PASSED, E3C_PASSED, E3C_PASSED, E3C_PASSED, E3C_PASSED, E3C_PASSED, E3C_PASSED}, ""},
        /* the same NaN or infinity in every call once compared equal: nothing may pass */
        {"    out['total_energy'] = out['total_energy'] * float('nan')",
         {E3C_FAILED, E3C_FAILED, E3C_FAILED, E3C_FAILED, E3C_FAILED, E3C_FAILED, E3C_FAILED, E3C_FAILED},
         "output 'total_energy' holds NaN at index [0, 0]"},
        {"    out['total_energy'] = out['total_energy'] + float('inf')",
         {E3C_FAILED, E3C_FAILED, E3C_FAILED, E3C_FAILED, E3C_FAILED, E3C_FAILED, E3C_FAILED, E3C_FAILED},
         "'total_energy' (it holds a NaN or an infinity)"},
        /* a NaN in a force component the differences do not compare; the energies are fine */
        {"    out['forces'][0, 0] = float('nan')",
         {E3C_FAILED, E3C_FAILED, E3C_FAILED, E3C_FAILED, E3C_FAILED, E3C_PASSED, E3C_FAILED, E3C_FAILED},
         "forces[0][0] = nan: not finite"},
        /* integer or half-precision forces: named, never compared after a lossy conversion */
        {"    out['forces'] = out['forces'].long()",
         {E3C_ERRORED, E3C_ERRORED, E3C_ERRORED, E3C_ERRORED, E3C_ERRORED, E3C_PASSED, E3C_ERRORED, E3C_ERRORED},
         "output 'forces' is int64[8, 3]: a declared output must be float32 or float64"},
        {"    out['forces'] = out['forces'].half()",
         {E3C_ERRORED, E3C_ERRORED, E3C_ERRORED, E3C_ERRORED, E3C_ERRORED, E3C_PASSED, E3C_ERRORED, E3C_ERRORED},
         "output 'forces' is Half[8, 3]"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        e3c_verdict got[8];
        char msgs[8192];
        pair_verdicts(cases[c].tail, got, msgs, sizeof msgs);
        for (int k = 0; k < 8; k++)
            cr_assert_eq(got[k], cases[c].want[k], "case %zu check %d:\n%s", c, k, msgs);
        cr_assert(strstr(msgs, cases[c].needle), "case %zu:\n%s", c, msgs);
    }
}

/* An output of another shape than its `per` and irreps give never passes: forces [1, N, 3]
 * rotate, permute and sum like [N, 3] ones, so every check but the shape would pass them. */
Test(structured, outputs_of_another_shape_never_pass, .timeout = 120)
{
    static const struct {
        const char *tail, *needle;
    } cases[] = {
        {"    out['forces'] = out['forces'].unsqueeze(0)",
         "output 'forces' is float64[1, 8, 3], not [8, 3] (per atom, 8 atoms)"},
        {"    out['total_energy'] = out['total_energy'].reshape(1, 1, 1)",
         "output 'total_energy' is float64[1, 1, 1], not [1, 1] (per structure, 1 structure)"},
        {"    out['atomic_energy'] = out['atomic_energy'].reshape(1, -1)",
         "output 'atomic_energy' is float64[1, 8], not [8, 1]"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        e3c_verdict got[8];
        char msgs[8192];
        pair_verdicts(cases[c].tail, got, msgs, sizeof msgs);
        for (int k = 0; k < 8; k++)
            cr_assert_eq(got[k], E3C_ERRORED, "case %zu check %d:\n%s", c, k, msgs);
        cr_assert(strstr(msgs, cases[c].needle), "case %zu:\n%s", c, msgs);
    }
    /* the shapes a deployed file may give its scalars pass: a 0-d or a [1] energy of one structure */
    static const char *const fine[] = {"    out['total_energy'] = out['total_energy'].reshape(())",
                                       "    out['total_energy'] = out['total_energy'].reshape(1)",
                                       "    out['atomic_energy'] = out['atomic_energy'].reshape(-1)"};
    for (size_t c = 0; c < sizeof fine / sizeof fine[0]; c++) {
        e3c_verdict got[8];
        char msgs[8192];
        pair_verdicts(fine[c], got, msgs, sizeof msgs);
        for (int k = 0; k < 8; k++)
            cr_assert_eq(got[k], E3C_PASSED, "%s: check %d:\n%s", fine[c], k, msgs);
    }
}

/* Metadata values a model file can hold but no model means: named, never cast blindly. */
Test(structured, metadata_out_of_range_is_named)
{
    static const struct {
        const char *file, *text, *needle;
    } cases[] = {
        {"n_species", "1e12", "gives 1e+12 species"}, /* was cast to int: "got -2147483648" */
        {"n_species", "2.5", "gives 2.5 species"},    /* was taken as 2 */
        {"n_species", "5000", "not a whole number from 1 to 1000"},
    };
    cJSON *fx = cJSON_Parse("{\"name\": \"p\", \"preset\": \"nequip\", \"torchscript\": \"x\","
                            " \"structure\": {\"r_max\": 4.0}}"),
          *full = NULL;
    E3C_ASSERT_OK(e3c_fixture_expand_preset(&full, fx, NULL));
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        e3c_structured *s = NULL;
        e3c_jit_module *m = pair_model("");
        E3C_ASSERT_OK(e3c_jit_set_extra_file(m, cases[c].file, cases[c].text, strlen(cases[c].text)));
        E3C_ASSERT_OK(e3c_structured_parse(&s, full));
        E3C_ASSERT_FAILS(e3c_structured_resolve(s, m), E3C_ERR_VALUE, cases[c].needle);
        e3c_structured_free(s);
        e3c_jit_free(m);
    }
    /* a bailout depth beyond int */
    e3c_jit_module *m = pair_model("");
    E3C_ASSERT_OK(e3c_jit_set_extra_file(m, "_jit_bailout_depth", "1e20", 4));
    E3C_ASSERT_FAILS(e3c_structured_apply_jit_settings(m), E3C_ERR_VALUE, "_jit_bailout_depth 1e+20");
    E3C_ASSERT_OK(e3c_jit_set_extra_file(m, "_jit_bailout_depth", "2", 1));
    E3C_ASSERT_OK(e3c_structured_apply_jit_settings(m));
    e3c_jit_free(m);
    cJSON_Delete(fx), cJSON_Delete(full);
}

/* A preset FILE.json that is a FIFO nobody writes or a folder is refused at once by name:
 * opening the FIFO used to wait forever in the e3check process, a folder read as "out of
 * memory". */
Test(structured, a_preset_that_is_not_a_regular_file_is_refused_at_once, .timeout = 30)
{
    char fifo[4096], dir[4096];
    snprintf(fifo, sizeof fifo, "%s/preset_fifo.json", test_tmpdir());
    snprintf(dir, sizeof dir, "%s/preset_dir.json", test_tmpdir());
    unlink(fifo);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    cr_assert(mkdir(dir, 0700) == 0 || errno == EEXIST);
    const char *const paths[2] = {fifo, dir};
    for (int i = 0; i < 2; i++) {
        cJSON *p = NULL;
        E3C_ASSERT_FAILS(e3c_preset_load(&p, paths[i], NULL), E3C_ERR_IO, "is not a regular file");
        cr_assert(strstr(e3c_error_last(), paths[i]), "%s", e3c_error_last());
        cr_assert_null(p);
    }
    unlink(fifo);
}
