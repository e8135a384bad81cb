/* Constructors of the built-in module types from JSON arguments. */
#include <stdlib.h>

#include "builtins.h"
#include "json_ctors.h"
#include "e3check/nn.h"
#include "e3check/o3.h"
#include "e3check/registry.h"
#include "e3check/seed.h"

static e3c_status build_norm(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_in", "squared", NULL};
    const char *irreps;
    int squared;
    e3c_status st = e3c_args_check("Norm", args, 2, kwargs, known);
    if (!st)
        st = e3c_arg_string(&irreps, args, kwargs, 0, "irreps_in", NULL);
    if (!st)
        st = e3c_arg_bool(&squared, args, kwargs, 1, "squared", 0);
    return st ? st : e3c_norm_new(out, irreps, squared);
}

/* The seed's modules that take one irreps argument. */
#define IRREPS_CTOR(fn_name, type, ctor)                                                       \
    static e3c_status fn_name(e3c_module **out, const cJSON *args, const cJSON *kwargs)        \
    {                                                                                          \
        static const char *const known[] = {"irreps_in", NULL};                                \
        const char *irreps;                                                                    \
        e3c_status st = e3c_args_check(type, args, 1, kwargs, known);                          \
        if (!st)                                                                               \
            st = e3c_arg_string(&irreps, args, kwargs, 0, "irreps_in", NULL);                 \
        return st ? st : ctor(out, irreps);                                                    \
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
        return e3c_error_set(E3C_ERR_VALUE, "argument \"instructions\" must be a list of [i1, i2, i_out, mode, has_weight(, path_weight)]");
    size_t k = (size_t)cJSON_GetArraySize(v);
    e3c_tp_instruction *ins = calloc(k ? k : 1, sizeof *ins);
    if (!ins)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    size_t i = 0;
    const cJSON *x;
    e3c_status st = E3C_OK;
    cJSON_ArrayForEach(x, v)
    {
        int len = cJSON_IsArray(x) ? cJSON_GetArraySize(x) : 0;
        const cJSON *a = cJSON_GetArrayItem(x, 0), *b = cJSON_GetArrayItem(x, 1), *c = cJSON_GetArrayItem(x, 2),
                    *mode = cJSON_GetArrayItem(x, 3), *w = cJSON_GetArrayItem(x, 4), *pw = cJSON_GetArrayItem(x, 5);
        if ((len != 5 && len != 6) || !cJSON_IsNumber(a) || !cJSON_IsNumber(b) || !cJSON_IsNumber(c) ||
            !cJSON_IsString(mode) || !cJSON_IsBool(w) || (pw && !cJSON_IsNumber(pw))) {
            st = e3c_error_set(E3C_ERR_VALUE, "instruction %zu must be [i1, i2, i_out, mode, has_weight(, path_weight)]", i);
            break;
        }
        ins[i] = (e3c_tp_instruction){(int)a->valuedouble, (int)b->valuedouble, (int)c->valuedouble, E3C_TP_UVW,
                                      cJSON_IsTrue(w), pw ? pw->valuedouble : 1.0};
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

static const char *const tp_kwargs[] = {"irrep_normalization", "path_normalization", "in1_var", "in2_var", "out_var",
                                        "internal_weights", "shared_weights", "compile_left_right", "compile_right",
                                        "normalization", "irreps_in1", "irreps_in2", "irreps_out", "instructions",
                                        "filter_ir_out", NULL};

/* The three irreps every two-input product starts with: irreps_in1, irreps_in2, irreps_out. */
static e3c_status three_irreps(const cJSON *args, const cJSON *kwargs, const char **a, const char **b, const char **c)
{
    e3c_status st = e3c_arg_string(a, args, kwargs, 0, "irreps_in1", NULL);
    if (!st)
        st = e3c_arg_string(b, args, kwargs, 1, "irreps_in2", NULL);
    if (!st)
        st = e3c_arg_string(c, args, kwargs, 2, "irreps_out", NULL);
    return st;
}

static e3c_status build_tensor_product(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    const char *a, *b, *c;
    e3c_tp_instruction *ins = NULL;
    size_t n = 0;
    double *vars[3] = {NULL, NULL, NULL};
    e3c_tp_options o = E3C_TP_OPTIONS_INIT;
    e3c_status st = e3c_args_check("TensorProduct", args, 4, kwargs, tp_kwargs);
    if (!st)
        st = three_irreps(args, kwargs, &a, &b, &c);
    if (!st)
        st = parse_instructions(ctor_arg(args, kwargs, 3, "instructions"), &ins, &n);
    if (!st)
        st = ctor_tp_options(kwargs, &o, vars);
    if (!st)
        st = e3c_tensor_product_new(out, a, b, c, ins, n, &o);
    free(ins), free(vars[0]), free(vars[1]), free(vars[2]);
    return st;
}

static e3c_status build_fctp(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    const char *a, *b, *c;
    double *vars[3] = {NULL, NULL, NULL};
    e3c_tp_options o = E3C_TP_OPTIONS_INIT;
    e3c_status st = e3c_args_check("FullyConnectedTensorProduct", args, 3, kwargs, tp_kwargs);
    if (!st)
        st = three_irreps(args, kwargs, &a, &b, &c);
    if (!st)
        st = ctor_tp_options(kwargs, &o, vars);
    if (!st)
        st = e3c_fully_connected_tp_new(out, a, b, c, &o);
    free(vars[0]), free(vars[1]), free(vars[2]);
    return st;
}

/* filter_ir_out (positional `index` or keyword) and the irrep_normalization keyword. */
static e3c_status filter_and_norm(const cJSON *args, const cJSON *kwargs, int index, const char ***filter,
                                  size_t *n_filter, const char **norm)
{
    e3c_status st = ctor_string_list(ctor_arg(args, kwargs, index, "filter_ir_out"), "filter_ir_out", filter, n_filter);
    if (!st && ctor_arg(NULL, kwargs, -1, "irrep_normalization"))
        st = e3c_arg_string(norm, NULL, kwargs, -1, "irrep_normalization", NULL);
    return st;
}

/* ElementwiseTensorProduct and FullTensorProduct: (in1, in2, filter_ir_out=None). */
static e3c_status build_pairwise(e3c_module **out, const cJSON *args, const cJSON *kwargs, const char *type,
                                 e3c_status (*ctor)(e3c_module **, const char *, const char *, const char *const *,
                                                    size_t, const char *))
{
    static const char *const known[] = {"irreps_in1", "irreps_in2", "filter_ir_out", "irrep_normalization", NULL};
    const char *a, *b, *norm = NULL, **filter = NULL;
    size_t n_filter = 0;
    e3c_status st = e3c_args_check(type, args, 3, kwargs, known);
    if (!st)
        st = e3c_arg_string(&a, args, kwargs, 0, "irreps_in1", NULL);
    if (!st)
        st = e3c_arg_string(&b, args, kwargs, 1, "irreps_in2", NULL);
    if (!st)
        st = filter_and_norm(args, kwargs, 2, &filter, &n_filter, &norm);
    if (!st)
        st = ctor(out, a, b, filter, n_filter, norm);
    free(filter);
    return st;
}

static e3c_status build_etp(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    return build_pairwise(out, args, kwargs, "ElementwiseTensorProduct", e3c_elementwise_tp_new);
}

static e3c_status build_ftp(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    return build_pairwise(out, args, kwargs, "FullTensorProduct", e3c_full_tp_new);
}

static e3c_status build_tensor_square(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_in", "irreps_out", "filter_ir_out", "irrep_normalization", NULL};
    const char *a, *b = NULL, *norm = NULL, **filter = NULL;
    size_t n_filter = 0;
    e3c_status st = e3c_args_check("TensorSquare", args, 3, kwargs, known);
    if (!st)
        st = e3c_arg_string(&a, args, kwargs, 0, "irreps_in", NULL);
    const cJSON *o = ctor_arg(args, kwargs, 1, "irreps_out");
    if (!st && o && !cJSON_IsNull(o))
        st = e3c_arg_string(&b, args, kwargs, 1, "irreps_out", NULL);
    if (!st)
        st = filter_and_norm(args, kwargs, 2, &filter, &n_filter, &norm);
    if (!st)
        st = e3c_tensor_square_new(out, a, b, filter, n_filter, norm);
    free(filter);
    return st;
}

static e3c_status build_linear(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_in", "irreps_out", "f_in", "f_out", "internal_weights", "shared_weights",
                                        "instructions", "biases", "path_normalization", NULL};
    const char *a, *b;
    e3c_linear_options o = E3C_LINEAR_OPTIONS_INIT;
    int *pairs = NULL, *flags = NULL;
    e3c_status st = e3c_args_check("Linear", args, 2, kwargs, known);
    if (!st)
        st = e3c_arg_string(&a, args, kwargs, 0, "irreps_in", NULL);
    if (!st)
        st = e3c_arg_string(&b, args, kwargs, 1, "irreps_out", NULL);
    const cJSON *f_in = ctor_arg(NULL, kwargs, -1, "f_in"), *f_out = ctor_arg(NULL, kwargs, -1, "f_out");
    if (!st && ((f_in && !cJSON_IsNull(f_in)) || (f_out && !cJSON_IsNull(f_out))))
        st = e3c_error_set(E3C_ERR_VALUE, "Linear's f_in/f_out are not supported by e3check");
    if (!st)
        st = ctor_tristate(ctor_arg(NULL, kwargs, -1, "internal_weights"), "internal_weights", &o.internal_weights);
    if (!st)
        st = ctor_tristate(ctor_arg(NULL, kwargs, -1, "shared_weights"), "shared_weights", &o.shared_weights);
    const cJSON *pn = ctor_arg(NULL, kwargs, -1, "path_normalization");
    if (!st && pn)
        st = cJSON_IsString(pn) ? (o.path_normalization = pn->valuestring, E3C_OK)
                                : e3c_error_set(E3C_ERR_VALUE, "argument \"path_normalization\" must be a string");
    const cJSON *bias = ctor_arg(NULL, kwargs, -1, "biases");
    if (!st && bias && cJSON_IsBool(bias))
        o.biases = cJSON_IsTrue(bias);
    else if (!st && bias && cJSON_IsArray(bias)) {
        o.n_biases = (size_t)cJSON_GetArraySize(bias);
        flags = calloc(o.n_biases ? o.n_biases : 1, sizeof *flags);
        size_t i = 0;
        const cJSON *f;
        cJSON_ArrayForEach(f, bias)
        {
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
    const cJSON *ins = ctor_arg(NULL, kwargs, -1, "instructions");
    if (!st && ins && !cJSON_IsNull(ins)) {
        o.n_instructions = cJSON_IsArray(ins) ? (size_t)cJSON_GetArraySize(ins) : 0;
        pairs = calloc(2 * o.n_instructions + 2, sizeof *pairs);
        size_t i = 0;
        for (const cJSON *p = cJSON_IsArray(ins) ? ins->child : NULL; p; p = p->next) {
            if (!pairs || !cJSON_IsArray(p) || cJSON_GetArraySize(p) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(p, 0)) ||
                !cJSON_IsNumber(cJSON_GetArrayItem(p, 1))) {
                st = e3c_error_set(E3C_ERR_VALUE, "Linear instructions must be pairs [i_in, i_out]");
                break;
            }
            pairs[i++] = cJSON_GetArrayItem(p, 0)->valueint;
            pairs[i++] = cJSON_GetArrayItem(p, 1)->valueint;
        }
        o.instructions = pairs;
    }
    if (!st)
        st = e3c_linear_new(out, a, b, &o);
    free(pairs), free(flags);
    return st;
}

/* SphericalHarmonics(irreps_out: int | [int] | irreps string, normalize, normalization="integral", irreps_in=None) */
static e3c_status build_sh(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_out", "normalize", "normalization", "irreps_in", NULL};
    const cJSON *l = ctor_arg(args, kwargs, 0, "irreps_out"), *nz = ctor_arg(args, kwargs, 1, "normalize");
    const char *norm_name = "integral", *irreps_in = NULL;
    e3c_normalization norm;
    int *ls = NULL, p_in = -1;
    size_t nls = 0;
    e3c_status st = e3c_args_check("SphericalHarmonics", args, 4, kwargs, known);
    if (!st)
        st = e3c_arg_string(&norm_name, args, kwargs, 2, "normalization", "integral");
    if (!st)
        st = e3c_normalization_parse(&norm, norm_name);
    if (!st && !cJSON_IsBool(nz))
        st = e3c_error_set(E3C_ERR_VALUE, "argument \"normalize\" is required and must be true or false");
    const cJSON *pin = ctor_arg(args, kwargs, 3, "irreps_in");
    if (!st && pin && !cJSON_IsNull(pin)) {
        if (!cJSON_IsString(pin))
            st = e3c_error_set(E3C_ERR_VALUE, "argument \"irreps_in\" must be a string");
        else
            irreps_in = pin->valuestring;
    }
    if (!st && cJSON_IsString(l)) {
        e3c_irreps ir;
        st = e3c_irreps_parse(&ir, l->valuestring);
        if (!st)
            st = e3c_sh_irreps_to_ls(&ls, &nls, &p_in, &ir);
        e3c_irreps_free(&ir);
    } else if (!st && cJSON_IsNumber(l)) {
        ls = malloc(sizeof *ls);
        nls = 1;
        if (ls)
            ls[0] = l->valueint;
    } else if (!st && cJSON_IsArray(l)) {
        nls = (size_t)cJSON_GetArraySize(l);
        ls = calloc(nls ? nls : 1, sizeof *ls);
        size_t i = 0;
        for (const cJSON *v = l->child; ls && v; v = v->next) {
            if (!cJSON_IsNumber(v)) {
                st = e3c_error_set(E3C_ERR_VALUE, "argument \"irreps_out\" must list integers");
                break;
            }
            ls[i++] = v->valueint;
        }
    } else if (!st)
        st = e3c_error_set(E3C_ERR_VALUE, "argument \"irreps_out\" must be an int, a list of ints or an irreps string");
    if (!st && irreps_in) {
        e3c_irreps ir;
        st = e3c_irreps_parse(&ir, irreps_in);
        if (!st && (ir.len != 1 || ir.items[0].mul != 1 || ir.items[0].ir.l != 1))
            st = e3c_error_set(E3C_ERR_VALUE, "irreps_in for SphericalHarmonics must be either a vector (`1x1o`) or a "
                                              "pseudovector (`1x1e`), not `%s`", irreps_in);
        else if (!st)
            p_in = ir.items[0].ir.p;
        e3c_irreps_free(&ir);
    }
    if (!st)
        st = e3c_spherical_harmonics_module_new(out, ls, nls, p_in, cJSON_IsTrue(nz), norm);
    free(ls);
    return st;
}

/* A list of activation names or nulls. Caller frees *out (names borrowed). */
static e3c_status act_list(const cJSON *v, const char *name, const char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(v))
        return e3c_error_set(E3C_ERR_VALUE, "argument \"%s\" must be a list of activation names or nulls", name);
    *n = (size_t)cJSON_GetArraySize(v);
    *out = calloc(*n ? *n : 1, sizeof **out);
    if (!*out)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    size_t i = 0;
    for (const cJSON *a = v->child; a; a = a->next, i++) {
        if (cJSON_IsString(a))
            (*out)[i] = a->valuestring;
        else if (!cJSON_IsNull(a)) {
            free(*out);
            *out = NULL;
            return e3c_error_set(E3C_ERR_VALUE, "argument \"%s\" must be a list of activation names or nulls", name);
        }
    }
    return E3C_OK;
}

static e3c_status build_activation(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_in", "acts", NULL};
    const char *irreps, **names = NULL;
    size_t n = 0;
    e3c_status st = e3c_args_check("Activation", args, 2, kwargs, known);
    if (!st)
        st = e3c_arg_string(&irreps, args, kwargs, 0, "irreps_in", NULL);
    if (!st)
        st = act_list(ctor_arg(args, kwargs, 1, "acts"), "acts", &names, &n);
    if (!st)
        st = e3c_activation_new(out, irreps, names, n);
    free(names);
    return st;
}

static e3c_status build_extract(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_in", "irreps_outs", "instructions", "squeeze_out", NULL};
    const char *irreps, **outs = NULL;
    size_t n_outs = 0;
    int squeeze = 0;
    e3c_status st = e3c_args_check("Extract", args, 4, kwargs, known);
    if (!st)
        st = e3c_arg_string(&irreps, args, kwargs, 0, "irreps_in", NULL);
    if (!st)
        st = ctor_string_list(ctor_arg(args, kwargs, 1, "irreps_outs"), "irreps_outs", &outs, &n_outs);
    if (!st)
        st = e3c_arg_bool(&squeeze, args, kwargs, 3, "squeeze_out", 0);
    const cJSON *ins = ctor_arg(args, kwargs, 2, "instructions");
    if (!st && (!cJSON_IsArray(ins) || (size_t)cJSON_GetArraySize(ins) != n_outs))
        st = e3c_error_set(E3C_ERR_VALUE, "Extract needs one instruction list per output");
    int **lists = st ? NULL : calloc(n_outs ? n_outs : 1, sizeof *lists);
    size_t *lens = st ? NULL : calloc(n_outs ? n_outs : 1, sizeof *lens);
    if (!st && (!lists || !lens))
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (const cJSON *l = st ? NULL : ins->child; !st && l; l = l->next, k++) {
        lens[k] = cJSON_IsArray(l) ? (size_t)cJSON_GetArraySize(l) : 0;
        lists[k] = calloc(lens[k] ? lens[k] : 1, sizeof **lists);
        if (!cJSON_IsArray(l) || !lists[k]) {
            st = e3c_error_set(E3C_ERR_VALUE, "Extract instructions must be lists of entry indices");
            break;
        }
        size_t i = 0;
        for (const cJSON *x = l->child; x; x = x->next)
            lists[k][i++] = cJSON_IsNumber(x) ? x->valueint : -1;
    }
    if (!st)
        st = e3c_extract_new(out, irreps, outs, n_outs, (const int *const *)lists, lens, squeeze);
    for (size_t i = 0; lists && i < n_outs; i++)
        free(lists[i]);
    free(lists), free(lens), free(outs);
    return st;
}

static e3c_status build_extract_ir(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_in", "ir", NULL};
    const char *irreps, *ir;
    e3c_status st = e3c_args_check("ExtractIr", args, 2, kwargs, known);
    if (!st)
        st = e3c_arg_string(&irreps, args, kwargs, 0, "irreps_in", NULL);
    if (!st)
        st = e3c_arg_string(&ir, args, kwargs, 1, "ir", NULL);
    return st ? st : e3c_extract_ir_new(out, irreps, ir);
}

static e3c_status build_gate(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_scalars", "act_scalars", "irreps_gates", "act_gates", "irreps_gated", NULL};
    const char *s, *g, *v, **as = NULL, **ag = NULL;
    size_t ns = 0, ng = 0;
    e3c_status st = e3c_args_check("Gate", args, 5, kwargs, known);
    if (!st)
        st = e3c_arg_string(&s, args, kwargs, 0, "irreps_scalars", NULL);
    if (!st)
        st = act_list(ctor_arg(args, kwargs, 1, "act_scalars"), "act_scalars", &as, &ns);
    if (!st)
        st = e3c_arg_string(&g, args, kwargs, 2, "irreps_gates", NULL);
    if (!st)
        st = act_list(ctor_arg(args, kwargs, 3, "act_gates"), "act_gates", &ag, &ng);
    if (!st)
        st = e3c_arg_string(&v, args, kwargs, 4, "irreps_gated", NULL);
    if (!st)
        st = e3c_gate_new(out, s, as, ns, g, ag, ng, v);
    free(as), free(ag);
    return st;
}

static e3c_status build_fcnet(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"hs", "act", "variance_in", "variance_out", "out_act", NULL};
    const cJSON *hs = ctor_arg(args, kwargs, 0, "hs"), *act = ctor_arg(args, kwargs, 1, "act");
    const cJSON *vin = ctor_arg(args, kwargs, 2, "variance_in"), *vout = ctor_arg(args, kwargs, 3, "variance_out");
    int out_act = 0;
    e3c_status st = e3c_args_check("FullyConnectedNet", args, 5, kwargs, known);
    if (!st)
        st = e3c_arg_bool(&out_act, args, kwargs, 4, "out_act", 0);
    if (!st && (!cJSON_IsArray(hs) || cJSON_GetArraySize(hs) < 2))
        st = e3c_error_set(E3C_ERR_VALUE, "argument \"hs\" must list at least two layer sizes");
    if (!st && act && !cJSON_IsNull(act) && !cJSON_IsString(act))
        st = e3c_error_set(E3C_ERR_VALUE, "argument \"act\" must be an activation name or null");
    if (!st && ((vin && !cJSON_IsNumber(vin)) || (vout && !cJSON_IsNumber(vout))))
        st = e3c_error_set(E3C_ERR_VALUE, "variance_in and variance_out must be numbers");
    size_t n = st ? 0 : (size_t)cJSON_GetArraySize(hs);
    int *sizes = st ? NULL : calloc(n, sizeof *sizes);
    size_t i = 0;
    for (const cJSON *h = sizes ? hs->child : NULL; h; h = h->next)
        sizes[i++] = cJSON_IsNumber(h) ? h->valueint : -1;
    if (!st)
        st = sizes ? e3c_fully_connected_net_new(out, sizes, n, cJSON_IsString(act) ? act->valuestring : NULL,
                                                 vin ? vin->valuedouble : 1.0, vout ? vout->valuedouble : 1.0, out_act)
                   : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    free(sizes);
    return st;
}

static e3c_status build_point_conv(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps_feat", "irreps_out", "lmax", NULL};
    const char *a, *b;
    const cJSON *lmax = ctor_arg(args, kwargs, 2, "lmax");
    e3c_status st = e3c_args_check("PointConvolution", args, 3, kwargs, known);
    if (!st)
        st = e3c_arg_string(&a, args, kwargs, 0, "irreps_feat", NULL);
    if (!st)
        st = e3c_arg_string(&b, args, kwargs, 1, "irreps_out", NULL);
    if (!st && lmax && !cJSON_IsNumber(lmax))
        st = e3c_error_set(E3C_ERR_VALUE, "argument \"lmax\" must be an integer");
    return st ? st : e3c_point_convolution_new(out, a, b, lmax ? lmax->valueint : 2);
}

/* A number argument (absent or null: fallback). */
static e3c_status arg_number(const cJSON *args, const cJSON *kwargs, int index, const char *name, double fallback,
                             double *out)
{
    const cJSON *v = ctor_arg(args, kwargs, index, name);
    *out = fallback;
    if (!v || cJSON_IsNull(v))
        return E3C_OK;
    if (!cJSON_IsNumber(v))
        return e3c_error_set(E3C_ERR_VALUE, "argument \"%s\" must be a number", name);
    *out = v->valuedouble;
    return E3C_OK;
}

/* BatchNorm(irreps, eps, momentum, affine, reduce, instance, normalization) */
static e3c_status build_batch_norm(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    static const char *const known[] = {"irreps", "eps", "momentum", "affine", "reduce", "instance", "normalization", NULL};
    const char *irreps;
    e3c_batch_norm_options o = E3C_BATCH_NORM_OPTIONS_INIT;
    e3c_status st = e3c_args_check("BatchNorm", args, 7, kwargs, known);
    if (!st)
        st = e3c_arg_string(&irreps, args, kwargs, 0, "irreps", NULL);
    if (!st)
        st = arg_number(args, kwargs, 1, "eps", 1e-5, &o.eps);
    if (!st)
        st = arg_number(args, kwargs, 2, "momentum", 0.1, &o.momentum);
    if (!st)
        st = e3c_arg_bool(&o.affine, args, kwargs, 3, "affine", 1);
    if (!st)
        st = e3c_arg_string(&o.reduce, args, kwargs, 4, "reduce", "mean");
    if (!st)
        st = e3c_arg_bool(&o.instance, args, kwargs, 5, "instance", 0);
    if (!st)
        st = e3c_arg_string(&o.normalization, args, kwargs, 6, "normalization", "component");
    return st ? st : e3c_batch_norm_new(out, irreps, &o);
}

void e3c_register_builtins(void)
{
    e3c_register_builtin("Norm", build_norm);
    e3c_register_builtin("MyModule", build_mymodule);
    e3c_register_builtin("MyModuleLoop", build_mymodule_loop);
    e3c_register_builtin("AnotherModule", build_another);
    e3c_register_builtin("TracingModule", build_tracing);
    e3c_register_builtin("Supermod", build_supermod);
    e3c_register_builtin("TensorProduct", build_tensor_product);
    e3c_register_builtin("Linear", build_linear);
    e3c_register_builtin("SphericalHarmonics", build_sh);
    e3c_register_builtin("Activation", build_activation);
    e3c_register_builtin("Extract", build_extract);
    e3c_register_builtin("ExtractIr", build_extract_ir);
    e3c_register_builtin("Gate", build_gate);
    e3c_register_builtin("FullyConnectedNet", build_fcnet);
    e3c_register_builtin("PointConvolution", build_point_conv);
    e3c_register_builtin("FullyConnectedTensorProduct", build_fctp);
    e3c_register_builtin("ElementwiseTensorProduct", build_etp);
    e3c_register_builtin("FullTensorProduct", build_ftp);
    e3c_register_builtin("TensorSquare", build_tensor_square);
    e3c_register_builtin("BatchNorm", build_batch_norm);
}
