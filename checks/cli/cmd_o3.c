/* e3check o3: a JSON calculator for e3nn's conventions (queries on stdin, answers on
 * stdout, in order; a failing query answers {"error": "..."}). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "e3check/o3.h"
#include "e3check/json.h"

typedef e3c_status (*query_fn)(const cJSON *q, cJSON *answer);

/* The most numbers one answer may hold (its JSON takes ~90 bytes a number while built),
 * and the most bytes of queries read: a query of a few bytes must not exhaust memory. */
enum { O3_MAX_NUMBERS = 1 << 20, O3_MAX_INPUT = 64 << 20 };

/* E3C_OK when `what`, rows x cols numbers, fits in an answer; else an error naming the
 * size. (Doubles: the counts come from input and must not overflow.) */
static e3c_status bounded(const char *what, double rows, double cols)
{
    if (rows * cols <= O3_MAX_NUMBERS)
        return E3C_OK;
    return e3c_error_set(E3C_ERR_VALUE,
                         "%s would hold %.0f x %.0f = %.4g numbers, more than the %d one answer may hold", what, rows,
                         cols, rows * cols, (int)O3_MAX_NUMBERS);
}

/* The dimension (sum of mul (2l + 1)) or, with dims = 0, the number of irreps (sum of
 * mul), without overflow. */
static double irreps_count(const e3c_irreps *ir, int dims)
{
    double n = 0;
    for (size_t i = 0; i < ir->len; i++)
        n += (double)ir->items[i].mul * (dims ? 2.0 * ir->items[i].ir.l + 1 : 1.0);
    return n;
}

static e3c_status add(cJSON *answer, const char *key, cJSON *value)
{
    if (!value || !cJSON_AddItemToObject(answer, key, value)) {
        cJSON_Delete(value);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory building the answer");
    }
    return E3C_OK;
}

static e3c_status parse_irreps_field(const cJSON *q, const char *key, e3c_irreps *out)
{
    const char *s;
    e3c_status st = e3c_json_string(&s, q, key);
    return st ? st : e3c_irreps_parse(out, s);
}

static cJSON *irreps_text(const e3c_irreps *ir)
{
    char *t = NULL;
    if (e3c_irreps_format(&t, ir))
        return NULL;
    cJSON *s = cJSON_CreateString(t);
    free(t);
    return s;
}

static cJSON *size_array(const size_t *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
    return a;
}

static e3c_status derived(cJSON *answer, const char *key, const e3c_irreps *ir,
                          e3c_status (*op)(e3c_irreps *, const e3c_irreps *))
{
    e3c_irreps out;
    e3c_status st = op(&out, ir);
    if (!st)
        st = add(answer, key, irreps_text(&out));
    e3c_irreps_free(&out);
    return st;
}

static e3c_status q_irreps(const cJSON *q, cJSON *a)
{
    e3c_irreps ir;
    e3c_status st = parse_irreps_field(q, "irreps", &ir);
    if (!st)
        st = bounded("the list of ls", 1, irreps_count(&ir, 0));
    if (st) {
        e3c_irreps_free(&ir);
        return st;
    }
    int *ls = NULL, lmax;
    size_t nls = 0, *p = NULL, *inv = NULL;
    int64_t *slices = NULL;
    e3c_irreps sorted = {0, NULL};
    st = add(a, "repr", irreps_text(&ir));
    if (!st)
        st = add(a, "dim", cJSON_CreateNumber((double)e3c_irreps_dim(&ir)));
    if (!st)
        st = add(a, "num_irreps", cJSON_CreateNumber((double)e3c_irreps_num_irreps(&ir)));
    if (!st)
        st = e3c_irreps_ls(&ls, &nls, &ir);
    if (!st) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; arr && i < nls; i++)
            cJSON_AddItemToArray(arr, cJSON_CreateNumber(ls[i]));
        st = add(a, "ls", arr);
    }
    if (!st)
        st = add(a, "lmax", e3c_irreps_lmax(&lmax, &ir) ? cJSON_CreateNull() : cJSON_CreateNumber(lmax));
    if (!st)
        st = e3c_irreps_slices(&slices, &ir);
    if (!st) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; arr && i < ir.len; i++) {
            cJSON *pair = cJSON_CreateArray();
            cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)slices[2 * i]));
            cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)slices[2 * i + 1]));
            cJSON_AddItemToArray(arr, pair);
        }
        st = add(a, "slices", arr);
    }
    if (!st)
        st = derived(a, "simplify", &ir, e3c_irreps_simplify);
    if (!st)
        st = derived(a, "remove_zero_multiplicities", &ir, e3c_irreps_remove_zero_multiplicities);
    if (!st)
        st = e3c_irreps_sort(&sorted, &p, &inv, &ir);
    if (!st) {
        cJSON *s = cJSON_CreateObject();
        st = add(a, "sort", s);
        if (!st)
            st = add(s, "irreps", irreps_text(&sorted));
        if (!st)
            st = add(s, "p", size_array(p, ir.len));
        if (!st)
            st = add(s, "inv", size_array(inv, ir.len));
    }
    if (!st)
        st = derived(a, "regroup", &ir, e3c_irreps_regroup);
    free(ls);
    free(slices);
    free(p);
    free(inv);
    e3c_irreps_free(&sorted);
    e3c_irreps_free(&ir);
    return st;
}

static e3c_status q_wigner_D(const cJSON *q, cJSON *a)
{
    int l;
    double ang[3];
    e3c_status st = e3c_json_int(&l, q, "l");
    if (!st)
        st = e3c_json_doubles(ang, 3, q, "angles");
    if (st)
        return st;
    if (l < 0 || l > E3C_WIGNER_LMAX)
        return e3c_error_set(E3C_ERR_VALUE, "l = %d is outside 0..%d", l, E3C_WIGNER_LMAX);
    size_t d = 2 * (size_t)l + 1;
    double *D = malloc(d * d * sizeof *D);
    if (!D)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    st = e3c_wigner_D_angles(D, l, ang[0], ang[1], ang[2]);
    if (!st)
        st = add(a, "D", e3c_json_matrix_of(D, d, d));
    free(D);
    return st;
}

static e3c_status answer_D(cJSON *a, const e3c_irreps *ir, const double *R, const double *ang, int k)
{
    e3c_status st = bounded("D", irreps_count(ir, 1), irreps_count(ir, 1));
    if (st)
        return st;
    size_t dim = (size_t)e3c_irreps_dim(ir);
    double *D = malloc((dim ? dim * dim : 1) * sizeof *D);
    if (!D)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    st = R ? e3c_irreps_D_from_matrix(D, ir, 1, R) : e3c_irreps_D_from_angles(D, ir, ang[0], ang[1], ang[2], k);
    if (st && !R) { /* the library's shared checks speak of D_from_matrix: name the query's op */
        const char *m = e3c_error_last();
        st =
            e3c_error_set(e3c_error_last_status(), "D_from_angles: %s", strncmp(m, "D_from_matrix: ", 15) ? m : m + 15);
    }
    if (!st)
        st = add(a, "D", e3c_json_matrix_of(D, dim, dim));
    free(D);
    return st;
}

static e3c_status q_D_from_angles(const cJSON *q, cJSON *a)
{
    e3c_irreps ir;
    double ang[3];
    int k;
    e3c_status st = e3c_json_doubles(ang, 3, q, "angles");
    if (!st)
        st = e3c_json_int_or(&k, q, "k", 0);
    if (!st)
        st = parse_irreps_field(q, "irreps", &ir);
    if (st)
        return st;
    st = answer_D(a, &ir, NULL, ang, k);
    e3c_irreps_free(&ir);
    return st;
}

static e3c_status q_D_from_matrix(const cJSON *q, cJSON *a)
{
    e3c_irreps ir;
    double R[9];
    e3c_status st = e3c_json_matrix3(R, q, "R");
    if (!st)
        st = e3c_rotation_check(NULL, R, 1e-6);
    if (!st)
        st = parse_irreps_field(q, "irreps", &ir);
    if (st)
        return st;
    st = answer_D(a, &ir, R, NULL, 0);
    e3c_irreps_free(&ir);
    return st;
}

static e3c_status q_wigner_3j(const cJSON *q, cJSON *a)
{
    double l[3];
    e3c_status st = e3c_json_doubles(l, 3, q, "l");
    if (st)
        return st;
    int l1 = (int)l[0], l2 = (int)l[1], l3 = (int)l[2];
    if (l1 != l[0] || l2 != l[1] || l3 != l[2] || l1 < 0 || l2 < 0 || l3 < 0 || l1 > 30 || l2 > 30 || l3 > 30)
        return e3c_error_set(E3C_ERR_VALUE, "field \"l\" must hold three integers in 0..30");
    size_t d1 = 2 * (size_t)l1 + 1, d2 = 2 * (size_t)l2 + 1, d3 = 2 * (size_t)l3 + 1;
    double *C = malloc(d1 * d2 * d3 * sizeof *C);
    if (!C)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    st = e3c_wigner_3j(C, l1, l2, l3);
    cJSON *outer = st ? NULL : cJSON_CreateArray();
    for (size_t i = 0; outer && i < d1; i++)
        cJSON_AddItemToArray(outer, e3c_json_matrix_of(C + i * d2 * d3, d2, d3));
    if (!st)
        st = add(a, "C", outer);
    free(C);
    return st;
}

/* "l": an int, a list of ints, or an irreps string (e3nn's SphericalHarmonics rules). */
static e3c_status sh_degrees(const cJSON *q, int **ls, size_t *nls)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(q, "l");
    if (cJSON_IsString(l)) {
        e3c_irreps ir;
        e3c_status st = e3c_irreps_parse(&ir, l->valuestring);
        if (!st)
            st = bounded("spherical_harmonics' Y", 1, irreps_count(&ir, 1));
        if (!st)
            st = e3c_sh_irreps_to_ls(ls, nls, NULL, &ir);
        e3c_irreps_free(&ir);
        return st;
    }
    size_t n = cJSON_IsArray(l) ? (size_t)cJSON_GetArraySize(l) : 1;
    int *out = malloc((n ? n : 1) * sizeof *out);
    if (!out)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (cJSON_IsNumber(l)) {
        e3c_status st = e3c_json_int(&out[0], q, "l");
        if (st) {
            free(out);
            return st;
        }
    } else if (cJSON_IsArray(l)) {
        size_t i = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, l) {
            if (!cJSON_IsNumber(v) || v->valuedouble != (int)v->valuedouble) {
                free(out);
                return e3c_error_set(E3C_ERR_VALUE, "field \"l\" must list integers");
            }
            out[i++] = (int)v->valuedouble;
        }
    } else {
        free(out);
        return e3c_error_set(E3C_ERR_VALUE, "field \"l\" must be an integer, a list of integers or an irreps string");
    }
    *ls = out;
    *nls = n;
    return E3C_OK;
}

static e3c_status q_spherical_harmonics(const cJSON *q, cJSON *a)
{
    double x[3];
    int normalize, *ls = NULL;
    size_t nls = 0;
    const char *norm_name;
    e3c_normalization norm;
    e3c_status st = e3c_json_doubles(x, 3, q, "x");
    if (!st)
        st = e3c_json_bool_or(&normalize, q, "normalize", 1);
    if (!st)
        st = e3c_json_string_or(&norm_name, q, "normalization", "integral");
    if (!st)
        st = e3c_normalization_parse(&norm, norm_name);
    if (!st)
        st = sh_degrees(q, &ls, &nls);
    if (st)
        return st;
    double wide = 0;
    for (size_t i = 0; i < nls; i++)
        wide += ls[i] >= 0 ? 2.0 * ls[i] + 1 : 0;
    st = bounded("spherical_harmonics' Y", 1, wide);
    size_t width = st ? 0 : (size_t)wide;
    double *Y = st ? NULL : malloc((width ? width : 1) * sizeof *Y);
    st = st  ? st
         : Y ? e3c_spherical_harmonics(Y, ls, nls, 1, x, normalize, norm)
             : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (!st)
        st = add(a, "Y", e3c_json_array_of(Y, width));
    free(Y);
    free(ls);
    return st;
}

static e3c_status q_angles_to_matrix(const cJSON *q, cJSON *a)
{
    double ang[3], R[9];
    e3c_status st = e3c_json_doubles(ang, 3, q, "angles");
    if (st)
        return st;
    e3c_angles_to_matrix(R, ang[0], ang[1], ang[2]);
    return add(a, "R", e3c_json_matrix_of(R, 3, 3));
}

static e3c_status q_matrix_to_angles(const cJSON *q, cJSON *a)
{
    double R[9], ang[3];
    e3c_status st = e3c_json_matrix3(R, q, "R");
    if (!st)
        st = e3c_matrix_to_angles(&ang[0], &ang[1], &ang[2], R);
    return st ? st : add(a, "angles", e3c_json_array_of(ang, 3));
}

static e3c_status q_rand_matrix(const cJSON *q, cJSON *a)
{
    int seed, n;
    const char *dname;
    e3c_dtype dtype;
    e3c_status st = e3c_json_int(&seed, q, "seed");
    if (!st)
        st = e3c_json_int_or(&n, q, "n", 1);
    if (!st)
        st = e3c_json_string_or(&dname, q, "dtype", "float64");
    if (!st)
        st = e3c_dtype_parse(&dtype, dname);
    if (st)
        return st;
    if (n < 1 || n > 1000000 || seed < 0)
        return e3c_error_set(E3C_ERR_VALUE, "need 1 <= n <= 1000000 and seed >= 0");
    if ((st = bounded("rand_matrix's R", n, 9)))
        return st;
    double *R = malloc((size_t)n * 9 * sizeof *R);
    e3c_generator *g = NULL;
    st = R ? e3c_generator_new(&g, (uint64_t)seed) : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (!st)
        st = e3c_rand_matrix(R, g, dtype, (size_t)n);
    cJSON *arr = st ? NULL : cJSON_CreateArray();
    for (int i = 0; arr && i < n; i++)
        cJSON_AddItemToArray(arr, e3c_json_matrix_of(R + 9 * i, 3, 3));
    if (!st)
        st = add(a, "R", arr);
    e3c_generator_free(g);
    free(R);
    return st;
}

static e3c_status q_randn(const cJSON *q, cJSON *a)
{
    int seed, batch;
    const char *dname, *nname;
    e3c_dtype dtype;
    e3c_normalization norm;
    e3c_irreps ir = {0, NULL};
    e3c_status st = e3c_json_int(&seed, q, "seed");
    if (!st)
        st = e3c_json_int_or(&batch, q, "batch", 1);
    if (!st)
        st = e3c_json_string_or(&dname, q, "dtype", "float64");
    if (!st)
        st = e3c_dtype_parse(&dtype, dname);
    if (!st)
        st = e3c_json_string_or(&nname, q, "normalization", "component");
    if (!st)
        st = e3c_normalization_parse(&norm, nname);
    if (!st && (batch < 0 || batch > 100000 || seed < 0))
        st = e3c_error_set(E3C_ERR_VALUE, "need 0 <= batch <= 100000 and seed >= 0");
    if (!st)
        st = parse_irreps_field(q, "irreps", &ir);
    if (!st)
        st = bounded("randn's x", batch, irreps_count(&ir, 1));
    if (st) {
        e3c_irreps_free(&ir);
        return st;
    }
    e3c_generator *g = NULL;
    e3c_tensor *x = NULL;
    int64_t size[2] = {batch, -1};
    size_t dim = (size_t)e3c_irreps_dim(&ir), n = (size_t)batch * dim;
    double *v = malloc((n ? n : 1) * sizeof *v);
    st = v ? e3c_generator_new(&g, (uint64_t)seed) : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (!st)
        st = e3c_irreps_randn(&x, &ir, g, size, 2, norm, dtype);
    if (!st)
        st = e3c_tensor_to_doubles(v, n, x);
    if (!st)
        st = add(a, "x", e3c_json_matrix_of(v, (size_t)batch, dim));
    free(v);
    e3c_tensor_free(x);
    e3c_generator_free(g);
    e3c_irreps_free(&ir);
    return st;
}

static const struct {
    const char *op;
    query_fn fn;
} ops[] = {{"irreps", q_irreps},
           {"wigner_D", q_wigner_D},
           {"D_from_angles", q_D_from_angles},
           {"D_from_matrix", q_D_from_matrix},
           {"wigner_3j", q_wigner_3j},
           {"spherical_harmonics", q_spherical_harmonics},
           {"angles_to_matrix", q_angles_to_matrix},
           {"matrix_to_angles", q_matrix_to_angles},
           {"rand_matrix", q_rand_matrix},
           {"randn", q_randn}};

static cJSON *answer(const cJSON *q)
{
    cJSON *a = cJSON_CreateObject();
    if (!a)
        return NULL;
    const char *op = NULL;
    e3c_status st = cJSON_IsObject(q) ? e3c_json_string(&op, q, "op")
                                      : e3c_error_set(E3C_ERR_VALUE, "a query must be a JSON object");
    if (!st) {
        st = e3c_error_set(E3C_ERR_VALUE, "unknown op \"%s\"", op);
        for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
            if (strcmp(op, ops[i].op) == 0)
                st = ops[i].fn(q, a);
    }
    if (st) {
        cJSON_Delete(a);
        a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "error", e3c_error_last());
    }
    return a;
}

/* All of f (at most O3_MAX_INPUT bytes: *too_big is set past that), NUL-terminated. */
static char *read_all(FILE *f, int *too_big)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    *too_big = 0;
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        if (cap > O3_MAX_INPUT) {
            *too_big = 1;
            break;
        }
        char *bigger = realloc(buf, cap *= 2);
        if (!bigger)
            free(buf);
        buf = bigger;
    }
    if (buf)
        buf[n] = '\0';
    return buf;
}

static void help(FILE *out)
{
    fputs("usage: e3check o3 < QUERIES.json\n\n"
          "Read a JSON array of queries on standard input and write a JSON array of answers,\n"
          "in the same order, on standard output; floats print with 17 significant digits.\n"
          "A failing query answers {\"error\": MESSAGE}; the exit status is 0 whenever the\n"
          "input was a valid JSON array, 1 otherwise. Queries:\n"
          "  {\"op\":\"irreps\",\"irreps\":S}\n"
          "  {\"op\":\"wigner_D\",\"l\":L,\"angles\":[a,b,c]}\n"
          "  {\"op\":\"D_from_angles\",\"irreps\":S,\"angles\":[a,b,c],\"k\":K}\n"
          "  {\"op\":\"D_from_matrix\",\"irreps\":S,\"R\":[[...],[...],[...]]}\n"
          "  {\"op\":\"wigner_3j\",\"l\":[l1,l2,l3]}\n"
          "  {\"op\":\"spherical_harmonics\",\"l\":L|[L,...]|S,\"x\":[x,y,z],\"normalize\":B,\"normalization\":N}\n"
          "  {\"op\":\"angles_to_matrix\",\"angles\":[a,b,c]}   {\"op\":\"matrix_to_angles\",\"R\":...}\n"
          "  {\"op\":\"rand_matrix\",\"seed\":S,\"n\":N,\"dtype\":D}\n"
          "  {\"op\":\"randn\",\"irreps\":S,\"batch\":B,\"normalization\":N,\"seed\":S,\"dtype\":D}\n"
          "Conventions are e3nn 0.5.6's: Y-X-Y Euler angles, real basis with (x, y, z) for l = 1.\n",
          out);
}

static int run(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        cli_error("o3: takes no arguments (queries come on standard input)");
        return EXIT_USAGE;
    }
    int too_big = 0;
    char *text = read_all(stdin, &too_big);
    if (too_big) {
        cli_error("o3: standard input holds more than the %d MiB of queries read at once", O3_MAX_INPUT >> 20);
        free(text);
        return EXIT_NOT_EXPECTED;
    }
    if (!text) {
        cli_error("o3: out of memory reading standard input");
        return EXIT_INTERNAL;
    }
    cJSON *queries = NULL;
    e3c_status parsed = e3c_json_parse(&queries, text, strlen(text), "standard input");
    if (parsed || !cJSON_IsArray(queries)) {
        if (queries)
            cli_error("o3: standard input must be a JSON array of queries");
        else
            cli_error("o3: %s", e3c_error_last());
        cJSON_Delete(queries);
        free(text);
        return EXIT_NOT_EXPECTED;
    }
    /* each answer printed and freed before the next is computed: memory stays that of one */
    const cJSON *q;
    int rc = EXIT_AS_EXPECTED;
    fputc('[', stdout);
    cJSON_ArrayForEach(q, queries) {
        cJSON *a = answer(q);
        char *printed = a ? cJSON_PrintUnformatted(a) : NULL;
        if (!printed) {
            cli_error("o3: out of memory printing the answers");
            rc = EXIT_INTERNAL;
        }
        fputs(printed ? printed : "null", stdout);
        if (q->next)
            fputc(',', stdout);
        free(printed);
        cJSON_Delete(a);
    }
    fputs("]\n", stdout);
    cJSON_Delete(queries);
    free(text);
    return rc;
}

const cli_command cmd_o3 = {"o3", "answer e3nn convention queries (JSON on stdin)", run, help};
