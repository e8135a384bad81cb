/* Constructors of the built-in module types from JSON arguments, and their table. Each
 * binds its arguments by name (ctor_bind) and reads them with the ctor_* readers, as e3nn's
 * signature says: the same names, positional order and count, defaults and None. */
#include <stdlib.h>

#include "builtins.h"
#include "../nn/tp_internal.h"
#include "ctor_args.h"
#include "e3check/nn.h"
#include "e3check/o3.h"
#include "e3check/seed.h"

static e3c_status build_norm(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_in", "squared", NULL};
    const char *irreps;
    int squared;
    cJSON *a;
    e3c_status st = ctor_bind(&a, "Norm", args, 2, kwargs, known);
    if (!st)
        st = ctor_string(&irreps, a, "irreps_in");
    if (!st)
        st = ctor_bool_or(&squared, a, "squared", 0);
    if (!st)
        st = e3c_norm_new(out, irreps, squared);
    cJSON_Delete(a);
    return st;
}

/* The seed's modules that take one irreps argument. */
#define IRREPS_CTOR(fn_name, type, ctor)                                                \
    static e3c_status fn_name(e3c_module **out, const cJSON *args, const cJSON *kwargs) \
    {                                                                                   \
        static const char *const known[] = {"irreps_in", NULL};                         \
        const char *irreps;                                                             \
        cJSON *a;                                                                       \
        e3c_status st = ctor_bind(&a, type, args, 1, kwargs, known);                    \
        if (!st)                                                                        \
            st = ctor_string(&irreps, a, "irreps_in");                                  \
        if (!st)                                                                        \
            st = ctor(out, irreps);                                                     \
        cJSON_Delete(a);                                                                \
        return st;                                                                      \
    }

IRREPS_CTOR(build_mymodule, "MyModule", e3c_seed_mymodule_new)
IRREPS_CTOR(build_mymodule_loop, "MyModuleLoop", e3c_seed_mymodule_loop_new)
IRREPS_CTOR(build_another, "AnotherModule", e3c_seed_another_new)

static e3c_status build_tracing(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    e3c_status st = e3c_args_check("TracingModule", args, 0, kwargs, NULL);
    return st ? st : e3c_seed_tracing_new(out);
}

static e3c_status build_supermod(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    e3c_status st = e3c_args_check("Supermod", args, 0, kwargs, NULL);
    return st ? st : e3c_seed_supermod_new(out);
}

/* [[i1, i2, io, mode, has_weight(, path_weight)], ...] */
static e3c_status parse_instructions(const cJSON *v, e3c_tp_instruction **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(v))
        return e3c_error_set(
            E3C_ERR_VALUE,
            "argument \"instructions\" must be a list of [i1, i2, i_out, mode, has_weight(, path_weight)]");
    size_t k = (size_t)cJSON_GetArraySize(v);
    e3c_tp_instruction *ins = calloc(k ? k : 1, sizeof *ins);
    if (!ins)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    size_t i = 0;
    const cJSON *x;
    e3c_status st = E3C_OK;
    cJSON_ArrayForEach(x, v) {
        int len = cJSON_IsArray(x) ? cJSON_GetArraySize(x) : 0;
        const cJSON *a = cJSON_GetArrayItem(x, 0), *b = cJSON_GetArrayItem(x, 1), *c = cJSON_GetArrayItem(x, 2),
                    *mode = cJSON_GetArrayItem(x, 3), *w = cJSON_GetArrayItem(x, 4), *pw = cJSON_GetArrayItem(x, 5);
        if ((len != 5 && len != 6) || !ctor_is_int(a) || !ctor_is_int(b) || !ctor_is_int(c) || !cJSON_IsString(mode) ||
            !cJSON_IsBool(w) || (pw && !cJSON_IsNumber(pw))) {
            st = e3c_error_set(E3C_ERR_VALUE,
                               "instruction %zu must be [i1, i2, i_out, mode, has_weight(, path_weight)]", i);
            break;
        }
        ins[i] = (e3c_tp_instruction){(int)a->valuedouble, (int)b->valuedouble, (int)c->valuedouble,
                                      E3C_TP_UVW,          cJSON_IsTrue(w),     pw ? pw->valuedouble : 1.0};
        st = e3c_tp_mode_parse(&ins[i].mode, mode->valuestring);
        if (st) {
            e3c_error_prefix("instruction %zu", i);
            break;
        }
        i++;
    }
    if (st) {
        free(ins);
        return st;
    }
    *out = ins;
    *n = k;
    return E3C_OK;
}

/* e3nn's TensorProduct arguments in its order (all may be given by position); the
 * instructions are its own: FullyConnectedTensorProduct makes them. */
static const char *const tp_args[] = {"irreps_in1",
                                      "irreps_in2",
                                      "irreps_out",
                                      "instructions",
                                      "in1_var",
                                      "in2_var",
                                      "out_var",
                                      "irrep_normalization",
                                      "path_normalization",
                                      "internal_weights",
                                      "shared_weights",
                                      "compile_left_right",
                                      "compile_right",
                                      "normalization",
                                      "_specialized_code",
                                      "_optimize_einsums",
                                      NULL};

/* FullyConnectedTensorProduct(irreps_in1, irreps_in2, irreps_out, irrep_normalization=None,
 * path_normalization=None, **kwargs): the other keywords pass through to TensorProduct. */
static const char *const fctp_args[] = {"irreps_in1",
                                        "irreps_in2",
                                        "irreps_out",
                                        "irrep_normalization",
                                        "path_normalization",
                                        "in1_var",
                                        "in2_var",
                                        "out_var",
                                        "internal_weights",
                                        "shared_weights",
                                        "compile_left_right",
                                        "compile_right",
                                        "normalization",
                                        "_specialized_code",
                                        "_optimize_einsums",
                                        NULL};

/* TensorProduct (fully_connected 0) or FullyConnectedTensorProduct (1): the three irreps,
 * TensorProduct's instructions, the shared options. */
static e3c_status build_product(e3c_module **out, const cJSON *args, const cJSON *kwargs, int fully_connected)
{
    const char *in1, *in2, *irreps_out;
    e3c_tp_instruction *ins = NULL;
    size_t n = 0;
    double *vars[3] = {NULL, NULL, NULL};
    e3c_tp_options o = E3C_TP_OPTIONS_INIT;
    cJSON *a;
    e3c_status st = fully_connected ? ctor_bind(&a, "FullyConnectedTensorProduct", args, 5, kwargs, fctp_args)
                                    : ctor_bind(&a, "TensorProduct", args, 16, kwargs, tp_args);
    if (!st)
        st = ctor_string(&in1, a, "irreps_in1");
    if (!st)
        st = ctor_string(&in2, a, "irreps_in2");
    if (!st)
        st = ctor_string(&irreps_out, a, "irreps_out");
    if (!st && !fully_connected)
        st = parse_instructions(cJSON_GetObjectItemCaseSensitive(a, "instructions"), &ins, &n);
    if (!st)
        st = ctor_tp_options(&o, vars, a);
    if (!st)
        st = fully_connected ? e3c_fully_connected_tp_new(out, in1, in2, irreps_out, &o)
                             : e3c_tensor_product_new(out, in1, in2, irreps_out, ins, n, &o);
    free(ins), free(vars[0]), free(vars[1]), free(vars[2]);
    cJSON_Delete(a);
    return st;
}

static e3c_status build_tensor_product(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    return build_product(out, args, kwargs, 0);
}

static e3c_status build_fctp(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    return build_product(out, args, kwargs, 1);
}

/* The keywords e3nn's ElementwiseTensorProduct, FullTensorProduct and TensorSquare pass
 * through to TensorProduct (**kwargs). */
#define TP_PASSED_THROUGH                                                                                              \
    "in1_var", "in2_var", "out_var", "path_normalization", "internal_weights", "shared_weights", "compile_left_right", \
        "compile_right", "normalization", "_specialized_code", "_optimize_einsums"

/* ElementwiseTensorProduct and FullTensorProduct: (irreps_in1, irreps_in2, filter_ir_out=None,
 * irrep_normalization=None, **kwargs). */
static e3c_status build_pairwise(e3c_module **out, const cJSON *args, const cJSON *kwargs, const char *type,
                                 e3c_status (*ctor)(e3c_module **, const char *, const char *, const char *const *,
                                                    size_t, const e3c_tp_options *))
{
    static const char *const known[] = {"irreps_in1",          "irreps_in2",      "filter_ir_out",
                                        "irrep_normalization", TP_PASSED_THROUGH, NULL};
    const char *in1, *in2, **filter = NULL;
    size_t n_filter = 0;
    double *vars[3] = {NULL, NULL, NULL};
    e3c_tp_options o = E3C_TP_OPTIONS_INIT;
    cJSON *a;
    e3c_status st = ctor_bind(&a, type, args, 4, kwargs, known);
    if (!st)
        st = ctor_string(&in1, a, "irreps_in1");
    if (!st)
        st = ctor_string(&in2, a, "irreps_in2");
    if (!st)
        st = ctor_string_list(&filter, &n_filter, a, "filter_ir_out");
    if (!st) /* irrep_normalization and its alias too */
        st = ctor_tp_options(&o, vars, a);
    if (!st)
        st = ctor(out, in1, in2, filter, n_filter, &o);
    free(filter), free(vars[0]), free(vars[1]), free(vars[2]);
    cJSON_Delete(a);
    return st;
}

static e3c_status build_etp(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    return build_pairwise(out, args, kwargs, "ElementwiseTensorProduct", nn_elementwise_tp_new);
}

static e3c_status build_ftp(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    return build_pairwise(out, args, kwargs, "FullTensorProduct", nn_full_tp_new);
}

/* TensorSquare(irreps_in, irreps_out=None, filter_ir_out=None, irrep_normalization=None,
 * **kwargs): irrep_normalization makes its path weights; its TensorProduct gets "none", or
 * the deprecated `normalization` keyword, which replaces it there. */
static e3c_status build_tensor_square(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_in",           "irreps_out",      "filter_ir_out",
                                        "irrep_normalization", TP_PASSED_THROUGH, NULL};
    const char *in, *irreps_out = NULL, *norm = NULL, **filter = NULL;
    size_t n_filter = 0;
    double *vars[3] = {NULL, NULL, NULL};
    e3c_tp_options o = E3C_TP_OPTIONS_INIT;
    cJSON *a;
    e3c_status st = ctor_bind(&a, "TensorSquare", args, 4, kwargs, known);
    if (!st)
        st = ctor_string(&in, a, "irreps_in");
    if (!st)
        st = ctor_string_or_none(&irreps_out, a, "irreps_out", NULL);
    if (!st)
        st = ctor_string_list(&filter, &n_filter, a, "filter_ir_out");
    if (!st)
        st = ctor_string_or_none(&norm, a, "irrep_normalization", NULL);
    if (!st)
        st = ctor_tp_options(&o, vars, a);
    if (!st)
        st = ctor_string_or_none(&o.irrep_normalization, a, "normalization", NULL);
    if (!st)
        st = nn_tensor_square_new(out, in, irreps_out, filter, n_filter, norm, &o);
    free(filter), free(vars[0]), free(vars[1]), free(vars[2]);
    cJSON_Delete(a);
    return st;
}

static e3c_status build_linear(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_in",
                                        "irreps_out",
                                        "f_in",
                                        "f_out",
                                        "internal_weights",
                                        "shared_weights",
                                        "instructions",
                                        "biases",
                                        "path_normalization",
                                        "_optimize_einsums",
                                        NULL};
    const char *in, *irreps_out;
    e3c_linear_options o = E3C_LINEAR_OPTIONS_INIT;
    int *pairs = NULL, *flags = NULL;
    cJSON *a;
    e3c_status st = ctor_bind(&a, "Linear", args, 2, kwargs, known);
    if (!st)
        st = ctor_string(&in, a, "irreps_in");
    if (!st)
        st = ctor_string(&irreps_out, a, "irreps_out");
    if (!st && (ctor_given(a, "f_in") || ctor_given(a, "f_out")))
        st = e3c_error_set(E3C_ERR_VALUE, "Linear's f_in/f_out are not supported by e3check");
    int einsums; /* e3nn's kernel choice: only the rounding changes */
    if (!st)
        st = ctor_tristate(&einsums, a, "_optimize_einsums");
    if (!st)
        st = ctor_tristate(&o.internal_weights, a, "internal_weights");
    if (!st)
        st = ctor_tristate(&o.shared_weights, a, "shared_weights");
    if (!st)
        st = ctor_string_or(&o.path_normalization, a, "path_normalization", o.path_normalization);
    const cJSON *bias = cJSON_GetObjectItemCaseSensitive(a, "biases");
    if (!st && bias && cJSON_IsBool(bias))
        o.biases = cJSON_IsTrue(bias);
    else if (!st && bias && cJSON_IsArray(bias)) {
        o.n_biases = (size_t)cJSON_GetArraySize(bias);
        flags = calloc(o.n_biases ? o.n_biases : 1, sizeof *flags);
        size_t i = 0;
        const cJSON *f;
        cJSON_ArrayForEach(f, bias) {
            if (!cJSON_IsBool(f)) {
                st = e3c_error_set(E3C_ERR_VALUE, "argument \"biases\" must be a bool or a list of bools");
                break;
            }
            if (flags)
                flags[i++] = cJSON_IsTrue(f);
        }
        o.biases_list = flags;
    } else if (!st && bias && !cJSON_IsNull(bias))
        st = e3c_error_set(E3C_ERR_VALUE, "argument \"biases\" must be a bool or a list of bools");
    const cJSON *ins = ctor_given(a, "instructions");
    if (!st && ins && !cJSON_IsArray(ins))
        st = e3c_error_set(E3C_ERR_VALUE, "Linear instructions must be pairs [i_in, i_out]");
    if (!st && ins) {
        o.n_instructions = (size_t)cJSON_GetArraySize(ins);
        pairs = calloc(2 * o.n_instructions + 2, sizeof *pairs);
        size_t i = 0;
        for (const cJSON *p = ins->child; p; p = p->next) {
            if (!pairs || !cJSON_IsArray(p) || cJSON_GetArraySize(p) != 2 || !ctor_is_int(cJSON_GetArrayItem(p, 0)) ||
                !ctor_is_int(cJSON_GetArrayItem(p, 1))) {
                st = e3c_error_set(E3C_ERR_VALUE, "Linear instructions must be pairs [i_in, i_out]");
                break;
            }
            pairs[i++] = (int)cJSON_GetArrayItem(p, 0)->valuedouble;
            pairs[i++] = (int)cJSON_GetArrayItem(p, 1)->valuedouble;
        }
        o.instructions = pairs;
    }
    if (!st)
        st = e3c_linear_new(out, in, irreps_out, &o);
    free(pairs), free(flags);
    cJSON_Delete(a);
    return st;
}

/* SphericalHarmonics' irreps_in: NULL (not given: 0) or 1x1o / 1x1e, as its parity. */
static e3c_status sh_input_parity(int *p_in, const char *irreps_in)
{
    *p_in = 0;
    if (!irreps_in)
        return E3C_OK;
    e3c_irreps ir;
    e3c_status st = e3c_irreps_parse(&ir, irreps_in);
    if (!st && (ir.len != 1 || ir.items[0].mul != 1 || ir.items[0].ir.l != 1))
        st = e3c_error_set(E3C_ERR_VALUE,
                           "irreps_in for SphericalHarmonics must be either a vector (`1x1o`) or a "
                           "pseudovector (`1x1e`), not `%s`",
                           irreps_in);
    else if (!st)
        *p_in = ir.items[0].ir.p;
    e3c_irreps_free(&ir);
    return st;
}

/* An irreps string as SphericalHarmonics' irreps_out when irreps_in gave the input parity
 * p_in: each entry must have the parity p_in^l, as e3nn asks. */
static e3c_status sh_check_parity(const e3c_irreps *ir, int p_in, const char *text)
{
    for (size_t i = 0; i < ir->len; i++) {
        int l = ir->items[i].ir.l, want = l % 2 ? p_in : 1;
        if (ir->items[i].ir.p != want)
            return e3c_error_set(E3C_ERR_VALUE,
                                 "irreps_out `%s` passed to SphericalHarmonics asked for an output of l = %d with "
                                 "parity p = %d, which is inconsistent with the input parity %d given by irreps_in",
                                 text, l, ir->items[i].ir.p, p_in);
    }
    return E3C_OK;
}

/* SphericalHarmonics' irreps_out: an int, a list of ints or an irreps string, into the list
 * of l (caller frees *ls) and the input parity (*p_in: the given one, else the one an
 * irreps string asks for, else 0 for e3nn's 1o). */
static e3c_status sh_ls(int **ls, size_t *nls, int *p_in, const cJSON *l)
{
    e3c_status st = E3C_OK;
    if (cJSON_IsString(l)) {
        e3c_irreps ir;
        int inferred = -1;
        st = e3c_irreps_parse(&ir, l->valuestring);
        if (!st && *p_in)
            st = sh_check_parity(&ir, *p_in, l->valuestring);
        if (!st)
            st = e3c_sh_irreps_to_ls(ls, nls, &inferred, &ir);
        if (!st && !*p_in)
            *p_in = inferred;
        e3c_irreps_free(&ir);
    } else if (ctor_is_int(l)) {
        *ls = malloc(sizeof **ls);
        *nls = 1;
        if (*ls)
            (*ls)[0] = (int)l->valuedouble;
    } else if (cJSON_IsArray(l)) {
        *nls = (size_t)cJSON_GetArraySize(l);
        *ls = calloc(*nls ? *nls : 1, sizeof **ls);
        size_t i = 0;
        for (const cJSON *v = l->child; *ls && v; v = v->next) {
            if (!ctor_is_int(v))
                return e3c_error_set(E3C_ERR_VALUE, "argument \"irreps_out\" must list integers");
            (*ls)[i++] = (int)v->valuedouble;
        }
    } else
        st = e3c_error_set(E3C_ERR_VALUE, "argument \"irreps_out\" must be an int, a list of ints or an irreps string");
    return st;
}

/* SphericalHarmonics(irreps_out: int | [int] | irreps string, normalize, normalization="integral", irreps_in=None) */
static e3c_status build_sh(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_out", "normalize", "normalization", "irreps_in", NULL};
    const char *norm_name = "integral", *irreps_in = NULL;
    e3c_normalization norm;
    int *ls = NULL, p_in = 0;
    size_t nls = 0;
    cJSON *a;
    e3c_status st = ctor_bind(&a, "SphericalHarmonics", args, 4, kwargs, known);
    if (!st)
        st = ctor_string_or(&norm_name, a, "normalization", "integral");
    if (!st)
        st = e3c_normalization_parse(&norm, norm_name);
    const cJSON *nz = cJSON_GetObjectItemCaseSensitive(a, "normalize");
    if (!st && !cJSON_IsBool(nz))
        st = e3c_error_set(E3C_ERR_VALUE, "argument \"normalize\" is required and must be true or false");
    if (!st)
        st = ctor_string_or_none(&irreps_in, a, "irreps_in", NULL);
    if (!st)
        st = sh_input_parity(&p_in, irreps_in);
    if (!st)
        st = sh_ls(&ls, &nls, &p_in, cJSON_GetObjectItemCaseSensitive(a, "irreps_out"));
    if (!st)
        st = e3c_spherical_harmonics_module_new(out, ls, nls, p_in ? p_in : -1, cJSON_IsTrue(nz), norm);
    free(ls);
    cJSON_Delete(a);
    return st;
}

/* A list of activation names or nulls. Caller frees *out (names borrowed). */
static e3c_status act_list(const char ***out, size_t *n, const cJSON *a, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, key);
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(v))
        return e3c_error_set(E3C_ERR_VALUE, "argument \"%s\" must be a list of activation names or nulls", key);
    *n = (size_t)cJSON_GetArraySize(v);
    *out = calloc(*n ? *n : 1, sizeof **out);
    if (!*out)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    size_t i = 0;
    for (const cJSON *x = v->child; x; x = x->next, i++) {
        if (cJSON_IsString(x))
            (*out)[i] = x->valuestring;
        else if (!cJSON_IsNull(x)) {
            free(*out);
            *out = NULL;
            return e3c_error_set(E3C_ERR_VALUE, "argument \"%s\" must be a list of activation names or nulls", key);
        }
    }
    return E3C_OK;
}

static e3c_status build_activation(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_in", "acts", NULL};
    const char *irreps, **names = NULL;
    size_t n = 0;
    cJSON *a;
    e3c_status st = ctor_bind(&a, "Activation", args, 2, kwargs, known);
    if (!st)
        st = ctor_string(&irreps, a, "irreps_in");
    if (!st)
        st = act_list(&names, &n, a, "acts");
    if (!st)
        st = e3c_activation_new(out, irreps, names, n);
    free(names);
    cJSON_Delete(a);
    return st;
}

/* Extract's instructions: one list of integer entry indices per output (e3c_extract_new
 * checks their range). Caller frees lists[0..n) and both arrays. */
static e3c_status extract_lists(int ***lists, size_t **lens, const cJSON *ins, size_t n)
{
    if (!cJSON_IsArray(ins) || (size_t)cJSON_GetArraySize(ins) != n)
        return e3c_error_set(E3C_ERR_VALUE, "Extract needs one instruction list per output");
    *lists = calloc(n ? n : 1, sizeof **lists);
    *lens = calloc(n ? n : 1, sizeof **lens);
    if (!*lists || !*lens)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (const cJSON *l = ins->child; l; l = l->next, k++) {
        (*lens)[k] = cJSON_IsArray(l) ? (size_t)cJSON_GetArraySize(l) : 0;
        (*lists)[k] = calloc((*lens)[k] ? (*lens)[k] : 1, sizeof ***lists);
        if (!cJSON_IsArray(l) || !(*lists)[k])
            return e3c_error_set(E3C_ERR_VALUE, "Extract instructions must be lists of entry indices");
        size_t i = 0;
        for (const cJSON *x = l->child; x; x = x->next) {
            if (!ctor_is_int(x))
                return e3c_error_set(E3C_ERR_VALUE, "Extract instructions must be lists of entry indices");
            (*lists)[k][i++] = (int)x->valuedouble;
        }
    }
    return E3C_OK;
}

static e3c_status build_extract(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_in", "irreps_outs", "instructions", "squeeze_out", NULL};
    const char *irreps, **outs = NULL;
    size_t n_outs = 0, *lens = NULL;
    int squeeze = 0, **lists = NULL;
    cJSON *a;
    e3c_status st = ctor_bind(&a, "Extract", args, 4, kwargs, known);
    if (!st)
        st = ctor_string(&irreps, a, "irreps_in");
    if (!st)
        st = ctor_string_list(&outs, &n_outs, a, "irreps_outs");
    if (!st && !outs) /* e3nn iterates it: None is refused */
        st = e3c_error_set(E3C_ERR_VALUE, "argument \"irreps_outs\" must be a list of irreps");
    if (!st)
        st = ctor_bool_or(&squeeze, a, "squeeze_out", 0);
    if (!st)
        st = extract_lists(&lists, &lens, cJSON_GetObjectItemCaseSensitive(a, "instructions"), n_outs);
    if (!st)
        st = e3c_extract_new(out, irreps, outs, n_outs, (const int *const *)lists, lens, squeeze);
    for (size_t i = 0; lists && i < n_outs; i++)
        free(lists[i]);
    free(lists), free(lens), free(outs);
    cJSON_Delete(a);
    return st;
}

static e3c_status build_extract_ir(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_in", "ir", NULL};
    const char *irreps, *ir;
    cJSON *a;
    e3c_status st = ctor_bind(&a, "ExtractIr", args, 2, kwargs, known);
    if (!st)
        st = ctor_string(&irreps, a, "irreps_in");
    if (!st)
        st = ctor_string(&ir, a, "ir");
    if (!st)
        st = e3c_extract_ir_new(out, irreps, ir);
    cJSON_Delete(a);
    return st;
}

static e3c_status build_gate(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_scalars", "act_scalars",  "irreps_gates",
                                        "act_gates",      "irreps_gated", NULL};
    const char *s, *g, *v, **as = NULL, **ag = NULL;
    size_t ns = 0, ng = 0;
    cJSON *a;
    e3c_status st = ctor_bind(&a, "Gate", args, 5, kwargs, known);
    if (!st)
        st = ctor_string(&s, a, "irreps_scalars");
    if (!st)
        st = act_list(&as, &ns, a, "act_scalars");
    if (!st)
        st = ctor_string(&g, a, "irreps_gates");
    if (!st)
        st = act_list(&ag, &ng, a, "act_gates");
    if (!st)
        st = ctor_string(&v, a, "irreps_gated");
    if (!st)
        st = e3c_gate_new(out, s, as, ns, g, ag, ng, v);
    free(as), free(ag);
    cJSON_Delete(a);
    return st;
}

static e3c_status build_fcnet(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"hs", "act", "variance_in", "variance_out", "out_act", NULL};
    int out_act = 0, *sizes = NULL;
    double vin = 1.0, vout = 1.0;
    cJSON *a;
    e3c_status st = ctor_bind(&a, "FullyConnectedNet", args, 5, kwargs, known);
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(a, "hs"), *act = ctor_given(a, "act");
    if (!st)
        st = ctor_bool_or(&out_act, a, "out_act", 0);
    if (!st && (!cJSON_IsArray(hs) || cJSON_GetArraySize(hs) < 2))
        st = e3c_error_set(E3C_ERR_VALUE, "argument \"hs\" must list at least two layer sizes");
    if (!st && act && !cJSON_IsString(act))
        st = e3c_error_set(E3C_ERR_VALUE, "argument \"act\" must be an activation name or null");
    if (!st)
        st = ctor_number_or(&vin, a, "variance_in", 1.0);
    if (!st)
        st = ctor_number_or(&vout, a, "variance_out", 1.0);
    size_t n = st ? 0 : (size_t)cJSON_GetArraySize(hs), i = 0;
    if (!st && !(sizes = calloc(n, sizeof *sizes)))
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (const cJSON *h = st ? NULL : hs->child; h; h = h->next)
        sizes[i++] = ctor_is_int(h) ? (int)h->valuedouble : -1;
    if (!st)
        st = e3c_fully_connected_net_new(out, sizes, n, act ? act->valuestring : NULL, vin, vout, out_act);
    free(sizes);
    cJSON_Delete(a);
    return st;
}

static e3c_status build_point_conv(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_feat", "irreps_out", "lmax", NULL};
    const char *feat, *irreps_out;
    cJSON *a;
    e3c_status st = ctor_bind(&a, "PointConvolution", args, 3, kwargs, known);
    int lmax = 2;
    if (!st)
        st = ctor_string(&feat, a, "irreps_feat");
    if (!st)
        st = ctor_string(&irreps_out, a, "irreps_out");
    if (!st)
        st = ctor_int_or(&lmax, a, "lmax", 2);
    if (!st)
        st = e3c_point_convolution_new(out, feat, irreps_out, lmax);
    cJSON_Delete(a);
    return st;
}

/* BatchNorm(irreps, eps, momentum, affine, reduce, instance, normalization) */
static e3c_status build_batch_norm(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps", "eps",      "momentum",      "affine",
                                        "reduce", "instance", "normalization", NULL};
    const char *irreps;
    e3c_batch_norm_options o = E3C_BATCH_NORM_OPTIONS_INIT;
    cJSON *a;
    e3c_status st = ctor_bind(&a, "BatchNorm", args, 7, kwargs, known);
    if (!st)
        st = ctor_string(&irreps, a, "irreps");
    if (!st)
        st = ctor_number_or(&o.eps, a, "eps", 1e-5);
    if (!st)
        st = ctor_number_or(&o.momentum, a, "momentum", 0.1);
    if (!st)
        st = ctor_bool_or(&o.affine, a, "affine", 1);
    if (!st)
        st = ctor_string_or(&o.reduce, a, "reduce", "mean");
    if (!st)
        st = ctor_bool_or(&o.instance, a, "instance", 0);
    if (!st)
        st = ctor_string_or(&o.normalization, a, "normalization", "component");
    if (!st)
        st = e3c_batch_norm_new(out, irreps, &o);
    cJSON_Delete(a);
    return st;
}

const builtin_type builtin_types[] = {
    {"Norm", build_norm},
    {"MyModule", build_mymodule},
    {"MyModuleLoop", build_mymodule_loop},
    {"AnotherModule", build_another},
    {"TracingModule", build_tracing},
    {"Supermod", build_supermod},
    {"TensorProduct", build_tensor_product},
    {"Linear", build_linear},
    {"SphericalHarmonics", build_sh},
    {"Activation", build_activation},
    {"Extract", build_extract},
    {"ExtractIr", build_extract_ir},
    {"Gate", build_gate},
    {"FullyConnectedNet", build_fcnet},
    {"PointConvolution", build_point_conv},
    {"FullyConnectedTensorProduct", build_fctp},
    {"ElementwiseTensorProduct", build_etp},
    {"FullTensorProduct", build_ftp},
    {"TensorSquare", build_tensor_square},
    {"BatchNorm", build_batch_norm},
};
const size_t n_builtin_types = sizeof builtin_types / sizeof builtin_types[0];
