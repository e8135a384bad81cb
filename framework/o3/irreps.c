/* Irrep and Irreps: e3nn's grammar, canonical text and operations. */
#include "e3check/irreps.h"
#include "e3check/rng.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ Python int() rules ---- */

static int is_py_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Parse [begin, end) as Python's int() would (surrounding whitespace, optional sign,
 * digits with single underscores between them). Values beyond int64 are rejected. */
static int parse_py_int(const char *begin, const char *end, int64_t *out, const char **why)
{
    while (begin < end && is_py_space(*begin))
        begin++;
    while (end > begin && is_py_space(end[-1]))
        end--;
    int negative = 0;
    if (begin < end && (*begin == '+' || *begin == '-'))
        negative = *begin++ == '-';
    if (begin == end || !isdigit((unsigned char)*begin) || !isdigit((unsigned char)end[-1])) {
        *why = "is not an integer";
        return 0;
    }
    int64_t v = 0;
    for (const char *c = begin; c < end; c++) {
        if (*c == '_') {
            if (c[1] == '_') {
                *why = "is not an integer";
                return 0;
            }
            continue;
        }
        if (!isdigit((unsigned char)*c)) {
            *why = "is not an integer";
            return 0;
        }
        if (v > (INT64_MAX - (*c - '0')) / 10) {
            *why = "is too large";
            return 0;
        }
        v = v * 10 + (*c - '0');
    }
    *out = negative ? -v : v;
    return 1;
}

/* The longest part of a user's string an error message repeats: the reason after it must
 * survive the message's bounded length. */
enum { ECHO_MAX = 120 };

/* printf arguments "%.*s%s" echoing [b, b + n) cut to ECHO_MAX bytes, "..." when cut. */
#define ECHO(b, n) (int)((n) > ECHO_MAX ? ECHO_MAX : (n)), (b), ((n) > ECHO_MAX ? "..." : "")

/* ------------------------------------------------------------------------ Irrep ---- */

/* Irrep(str) on [begin, end): strip, l = int(name[:-1]) >= 0, parity from the last char. */
static int parse_irrep_span(const char *begin, const char *end, e3c_irrep *out, const char **why)
{
    while (begin < end && is_py_space(*begin))
        begin++;
    while (end > begin && is_py_space(end[-1]))
        end--;
    if (begin == end) {
        *why = "it is empty";
        return 0;
    }
    char pc = end[-1];
    int64_t l;
    if (!parse_py_int(begin, end - 1, &l, why)) {
        int parity = pc == 'e' || pc == 'o' || pc == 'y';
        *why = !parity                        ? "it must end with a parity 'e', 'o' or 'y'"
               : strcmp(*why, "is too large") ? "the degree l is not an integer"
                                              : "the degree l is larger than e3check supports (1000)";
        return 0;
    }
    if (l < 0) {
        *why = "the degree l is negative";
        return 0;
    }
    if (l > E3C_IRREP_LMAX) {
        *why = "the degree l is larger than e3check supports (1000)";
        return 0;
    }
    if (pc == 'e')
        out->p = 1;
    else if (pc == 'o')
        out->p = -1;
    else if (pc == 'y')
        out->p = l % 2 ? -1 : 1;
    else {
        *why = "its parity must be 'e', 'o' or 'y'";
        return 0;
    }
    out->l = (int)l;
    return 1;
}

/* The stripped span, for e3nn's message which quotes the stripped name. */
static void strip_span(const char **b, const char **e)
{
    while (*b < *e && is_py_space(**b))
        (*b)++;
    while (*e > *b && is_py_space((*e)[-1]))
        (*e)--;
}

e3c_status e3c_irrep_parse(e3c_irrep *out, const char *s)
{
    if (!out || !s)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irrep_parse: NULL argument");
    const char *why = "";
    const char *end = s + strlen(s);
    if (parse_irrep_span(s, end, out, &why))
        return E3C_OK;
    const char *b = s;
    strip_span(&b, &end);
    return e3c_error_set(E3C_ERR_VALUE, "unable to convert string \"%.*s%s\" into an Irrep: %s",
                         ECHO(b, (size_t)(end - b)), why);
}

void e3c_irrep_format(char *buf, size_t cap, e3c_irrep ir)
{
    if (buf && cap)
        snprintf(buf, cap, "%d%c", ir.l, ir.p == 1 ? 'e' : 'o');
}

int e3c_irrep_compare(e3c_irrep a, e3c_irrep b)
{
    if (a.l != b.l)
        return a.l < b.l ? -1 : 1;
    if (a.p != b.p)
        return a.p < b.p ? -1 : 1;
    return 0;
}

/* ----------------------------------------------------------------------- Irreps ---- */

static e3c_status alloc_entries(e3c_irreps *out, size_t len)
{
    out->len = 0;
    out->items = calloc(len ? len : 1, sizeof *out->items);
    if (!out->items)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for %zu irreps entries", len);
    out->len = len;
    return E3C_OK;
}

void e3c_irreps_free(e3c_irreps *irreps)
{
    if (!irreps)
        return;
    free(irreps->items);
    irreps->items = NULL;
    irreps->len = 0;
}

/* Parse one '+'-separated term [b, e) into *m; on failure set *why. */
static int parse_term(const char *b, const char *e, e3c_mulir *m, const char **why)
{
    const char *x = memchr(b, 'x', (size_t)(e - b));
    if (!x) {
        m->mul = 1;
        return parse_irrep_span(b, e, &m->ir, why);
    }
    if (memchr(x + 1, 'x', (size_t)(e - x - 1))) {
        *why = "it has more than one 'x'";
        return 0;
    }
    if (!parse_py_int(b, x, &m->mul, why)) {
        *why = strcmp(*why, "is too large") ? "its multiplicity is not an integer"
                                            : "its multiplicity is larger than e3check supports (2^40)";
        return 0;
    }
    if (m->mul < 0) {
        *why = "its multiplicity is negative";
        return 0;
    }
    if (m->mul > E3C_IRREPS_MAX_MUL) {
        *why = "its multiplicity is larger than e3check supports (2^40)";
        return 0;
    }
    return parse_irrep_span(x + 1, e, &m->ir, why);
}

e3c_status e3c_irreps_parse(e3c_irreps *out, const char *s)
{
    if (!out || !s)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_parse: NULL argument");
    out->len = 0;
    out->items = NULL;
    const char *b = s, *e = s + strlen(s);
    strip_span(&b, &e);
    if (b == e)
        return alloc_entries(out, 0);
    size_t terms = 1;
    for (const char *c = s; *c; c++)
        terms += *c == '+';
    e3c_status st = alloc_entries(out, terms);
    if (st)
        return st;
    const char *term = s;
    for (size_t i = 0; i < terms; i++) {
        const char *stop = strchr(term, '+');
        if (!stop)
            stop = term + strlen(term);
        const char *why = "";
        if (!parse_term(term, stop, &out->items[i], &why)) {
            const char *tb = term, *te = stop;
            strip_span(&tb, &te);
            e3c_irreps_free(out);
            size_t ns = strlen(s);
            if (tb == te)
                return e3c_error_set(E3C_ERR_VALUE,
                                     "Unable to convert string \"%.*s%s\" into an Irreps: term %zu is empty",
                                     ECHO(s, ns), i + 1);
            return e3c_error_set(E3C_ERR_VALUE,
                                 "Unable to convert string \"%.*s%s\" into an Irreps: term \"%.*s%s\": %s", ECHO(s, ns),
                                 ECHO(tb, (size_t)(te - tb)), why);
        }
        term = stop + 1;
    }
    return E3C_OK;
}

e3c_status e3c_irreps_from_entries(e3c_irreps *out, const e3c_mulir *items, size_t len)
{
    if (!out || (len && !items))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_from_entries: NULL argument");
    out->len = 0;
    out->items = NULL;
    for (size_t i = 0; i < len; i++) {
        const e3c_mulir *m = &items[i];
        if (m->mul < 0 || m->mul > E3C_IRREPS_MAX_MUL || m->ir.l < 0 || m->ir.l > E3C_IRREP_LMAX ||
            (m->ir.p != 1 && m->ir.p != -1))
            return e3c_error_set(E3C_ERR_VALUE,
                                 "Unable to interpret \"(%lld, (%d, %d))\" as an irrep: need mul >= 0, "
                                 "0 <= l <= %d and p = +-1",
                                 (long long)m->mul, m->ir.l, m->ir.p, E3C_IRREP_LMAX);
    }
    e3c_status st = alloc_entries(out, len);
    if (st)
        return st;
    if (len)
        memcpy(out->items, items, len * sizeof *items);
    return E3C_OK;
}

e3c_status e3c_irreps_copy(e3c_irreps *out, const e3c_irreps *irreps)
{
    if (!irreps)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_copy: NULL argument");
    return e3c_irreps_from_entries(out, irreps->items, irreps->len);
}

e3c_status e3c_irreps_format(char **out, const e3c_irreps *irreps)
{
    if (!irreps || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_format: NULL argument");
    size_t cap = irreps->len * 32 + 1;
    char *buf = malloc(cap);
    if (!buf)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory formatting irreps");
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < irreps->len; i++) {
        const e3c_mulir *m = &irreps->items[i];
        used += (size_t)snprintf(buf + used, cap - used, "%s%lldx%d%c", i ? "+" : "", (long long)m->mul, m->ir.l,
                                 m->ir.p == 1 ? 'e' : 'o');
    }
    *out = buf;
    return E3C_OK;
}

int e3c_irreps_equal(const e3c_irreps *a, const e3c_irreps *b)
{
    if (!a || !b || a->len != b->len)
        return 0;
    for (size_t i = 0; i < a->len; i++)
        if (a->items[i].mul != b->items[i].mul || e3c_irrep_compare(a->items[i].ir, b->items[i].ir))
            return 0;
    return 1;
}

int64_t e3c_irreps_dim(const e3c_irreps *irreps)
{
    int64_t d = 0;
    for (size_t i = 0; irreps && i < irreps->len; i++)
        d += irreps->items[i].mul * e3c_irrep_dim(irreps->items[i].ir);
    return d;
}

int64_t e3c_irreps_num_irreps(const e3c_irreps *irreps)
{
    int64_t n = 0;
    for (size_t i = 0; irreps && i < irreps->len; i++)
        n += irreps->items[i].mul;
    return n;
}

e3c_status e3c_irreps_lmax(int *out, const e3c_irreps *irreps)
{
    if (!irreps || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_lmax: NULL argument");
    if (irreps->len == 0)
        return e3c_error_set(E3C_ERR_VALUE, "Cannot get lmax of empty Irreps");
    int lmax = -1;
    for (size_t i = 0; i < irreps->len; i++)
        if (irreps->items[i].mul > 0 && irreps->items[i].ir.l > lmax)
            lmax = irreps->items[i].ir.l;
    if (lmax < 0)
        return e3c_error_set(E3C_ERR_VALUE, "Cannot get lmax of Irreps whose multiplicities are all zero "
                                            "(e3nn: max() arg is an empty sequence)");
    *out = lmax;
    return E3C_OK;
}

e3c_status e3c_irreps_ls(int **out, size_t *n, const e3c_irreps *irreps)
{
    if (!irreps || !out || !n)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_ls: NULL argument");
    int64_t total = e3c_irreps_num_irreps(irreps);
    int *ls = malloc((size_t)(total ? total : 1) * sizeof *ls);
    if (!ls)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for %lld ls", (long long)total);
    size_t k = 0;
    for (size_t i = 0; i < irreps->len; i++)
        for (int64_t j = 0; j < irreps->items[i].mul; j++)
            ls[k++] = irreps->items[i].ir.l;
    *out = ls;
    *n = k;
    return E3C_OK;
}

int64_t e3c_irreps_offset(const e3c_irreps *irreps, size_t i)
{
    int64_t o = 0;
    for (size_t k = 0; irreps && k < i && k < irreps->len; k++)
        o += irreps->items[k].mul * e3c_irrep_dim(irreps->items[k].ir);
    return o;
}

e3c_status e3c_irreps_slices(int64_t **out, const e3c_irreps *irreps)
{
    if (!irreps || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_slices: NULL argument");
    int64_t *s = malloc((irreps->len ? irreps->len : 1) * 2 * sizeof *s);
    if (!s)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for slices");
    int64_t start = 0;
    for (size_t i = 0; i < irreps->len; i++) {
        s[2 * i] = start;
        start += irreps->items[i].mul * e3c_irrep_dim(irreps->items[i].ir);
        s[2 * i + 1] = start;
    }
    *out = s;
    return E3C_OK;
}

int64_t e3c_irreps_count(const e3c_irreps *irreps, e3c_irrep ir)
{
    int64_t n = 0;
    for (size_t i = 0; irreps && i < irreps->len; i++)
        if (!e3c_irrep_compare(irreps->items[i].ir, ir))
            n += irreps->items[i].mul;
    return n;
}

int e3c_irreps_contains(const e3c_irreps *irreps, e3c_irrep ir)
{
    for (size_t i = 0; irreps && i < irreps->len; i++)
        if (!e3c_irrep_compare(irreps->items[i].ir, ir))
            return 1;
    return 0;
}

e3c_status e3c_irreps_concat(e3c_irreps *out, const e3c_irreps *a, const e3c_irreps *b)
{
    if (!out || !a || !b)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_concat: NULL argument");
    e3c_status st = alloc_entries(out, a->len + b->len);
    if (st)
        return st;
    if (a->len)
        memcpy(out->items, a->items, a->len * sizeof *a->items);
    if (b->len)
        memcpy(out->items + a->len, b->items, b->len * sizeof *b->items);
    return E3C_OK;
}

e3c_status e3c_irreps_repeat(e3c_irreps *out, const e3c_irreps *a, int64_t n)
{
    if (!out || !a || n < 0)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_repeat: NULL argument or negative count");
    if (a->len && (uint64_t)n > SIZE_MAX / 2 / a->len / sizeof *a->items)
        return e3c_error_set(E3C_ERR_VALUE, "repeating %zu irreps entries %lld times is too many", a->len,
                             (long long)n);
    e3c_status st = alloc_entries(out, a->len * (size_t)n);
    if (st)
        return st;
    for (int64_t k = 0; k < n; k++)
        memcpy(out->items + (size_t)k * a->len, a->items, a->len * sizeof *a->items);
    return E3C_OK;
}

e3c_status e3c_irreps_simplify(e3c_irreps *out, const e3c_irreps *a)
{
    if (!out || !a)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_simplify: NULL argument");
    e3c_status st = alloc_entries(out, a->len);
    if (st)
        return st;
    size_t n = 0;
    for (size_t i = 0; i < a->len; i++) {
        const e3c_mulir *m = &a->items[i];
        if (n && !e3c_irrep_compare(out->items[n - 1].ir, m->ir))
            out->items[n - 1].mul += m->mul;
        else if (m->mul > 0)
            out->items[n++] = *m;
    }
    out->len = n;
    return E3C_OK;
}

e3c_status e3c_irreps_remove_zero_multiplicities(e3c_irreps *out, const e3c_irreps *a)
{
    if (!out || !a)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_remove_zero_multiplicities: NULL argument");
    e3c_status st = alloc_entries(out, a->len);
    if (st)
        return st;
    size_t n = 0;
    for (size_t i = 0; i < a->len; i++)
        if (a->items[i].mul > 0)
            out->items[n++] = a->items[i];
    out->len = n;
    return E3C_OK;
}

e3c_status e3c_irreps_sort(e3c_irreps *out, size_t **p, size_t **inv, const e3c_irreps *a)
{
    if (!out || !a)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_sort: NULL argument");
    size_t n = a->len;
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    size_t *perm = malloc((n ? n : 1) * sizeof *perm);
    if (!order || !perm || alloc_entries(out, n)) {
        free(order);
        free(perm);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory sorting irreps");
    }
    /* Stable insertion sort by irrep: e3nn sorts (ir, index) pairs. */
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && e3c_irrep_compare(a->items[order[j - 1]].ir, a->items[i].ir) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (size_t k = 0; k < n; k++) {
        out->items[k] = a->items[order[k]];
        perm[order[k]] = k;
    }
    if (inv)
        *inv = order;
    else
        free(order);
    if (p)
        *p = perm;
    else
        free(perm);
    return E3C_OK;
}

e3c_status e3c_irreps_regroup(e3c_irreps *out, const e3c_irreps *a)
{
    e3c_irreps sorted = {0, NULL};
    e3c_status st = e3c_irreps_sort(&sorted, NULL, NULL, a);
    if (st)
        return st;
    st = e3c_irreps_simplify(out, &sorted);
    e3c_irreps_free(&sorted);
    return st;
}

e3c_status e3c_irreps_spherical_harmonics(e3c_irreps *out, int lmax, int p)
{
    if (!out || lmax < 0 || lmax > E3C_IRREP_LMAX || (p != 1 && p != -1))
        return e3c_error_set(E3C_ERR_INVALID, "spherical_harmonics irreps: need 0 <= lmax <= %d and p = +-1",
                             E3C_IRREP_LMAX);
    e3c_status st = alloc_entries(out, (size_t)lmax + 1);
    if (st)
        return st;
    for (int l = 0; l <= lmax; l++)
        out->items[l] = (e3c_mulir){1, {l, (p == -1 && l % 2) ? -1 : 1}};
    return E3C_OK;
}

e3c_status e3c_random_irreps(e3c_irreps *out, const e3c_random_irreps_options *opt, uint64_t *state)
{
    static const e3c_random_irreps_options defaults = E3C_RANDOM_IRREPS_OPTIONS_INIT;
    if (!out || !state)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_random_irreps: NULL argument");
    if (!opt)
        opt = &defaults;
    int len_min = !opt->allow_empty && opt->len_min == 0 ? 1 : opt->len_min;
    if (opt->lmax < 0 || opt->lmax > E3C_IRREP_LMAX || opt->mul_min < 0 || opt->mul_max < opt->mul_min || len_min < 0 ||
        len_min > opt->len_max || (!opt->allow_empty && opt->mul_max < 1))
        return e3c_error_set(E3C_ERR_VALUE,
                             "random_irreps: need 0 <= lmax, 0 <= mul_min <= mul_max, 0 <= len_min <= len_max "
                             "(and mul_max >= 1 without allow_empty)");
    int len = e3c_rng_int(state, len_min, opt->len_max);
    e3c_status st = alloc_entries(out, (size_t)len);
    if (st)
        return st;
    int64_t total = 0;
    for (int i = 0; i < len; i++) {
        int64_t mul = e3c_rng_int(state, opt->mul_min, opt->mul_max);
        int l = e3c_rng_int(state, 0, opt->lmax);
        int p = e3c_rng_int(state, 0, 1) ? 1 : -1;
        out->items[i] = (e3c_mulir){mul, {l, p}};
        total += mul;
    }
    if (!opt->allow_empty && total == 0)
        out->items[len - 1].mul = e3c_rng_int(state, 1, opt->mul_max);
    return E3C_OK;
}

e3c_status e3c_normalization_parse(e3c_normalization *out, const char *name)
{
    if (!out || !name)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_normalization_parse: NULL argument");
    if (!strcmp(name, "component"))
        *out = E3C_NORM_COMPONENT;
    else if (!strcmp(name, "norm"))
        *out = E3C_NORM_NORM;
    else if (!strcmp(name, "integral"))
        *out = E3C_NORM_INTEGRAL;
    else
        return e3c_error_set(E3C_ERR_VALUE, "unknown normalization \"%s\" (expected component, norm or integral)",
                             name);
    return E3C_OK;
}

/* ------------------------------------------------------------------------ randn ---- */

/* Where the -1 sits in `size` (the first one, as tuple.index in e3nn). */
static int find_feature_axis(const int64_t *size, int ndim)
{
    for (int i = 0; i < ndim; i++)
        if (size[i] == -1)
            return i;
    return -1;
}

/* e3nn's "norm" branch: per entry, randn(*lsize, mul, 2l+1, *rsize), normalised over the
 * 2l+1 axis, flattened mul-major into the entry's slice. */
static e3c_status randn_norm(e3c_tensor **out, const e3c_irreps *irreps, e3c_generator *g, const int64_t *size,
                             int ndim, int axis, e3c_dtype dtype)
{
    e3c_values *parts = NULL;
    e3c_status st = e3c_values_new(&parts);
    int64_t shape[E3C_MAX_DIMS + 1];
    for (size_t i = 0; !st && i < irreps->len; i++) {
        const e3c_mulir *m = &irreps->items[i];
        int k = 0;
        for (int d = 0; d < axis; d++)
            shape[k++] = size[d];
        shape[k++] = m->mul;
        shape[k++] = e3c_irrep_dim(m->ir);
        for (int d = axis + 1; d < ndim; d++)
            shape[k++] = size[d];
        e3c_tensor *r = NULL, *unit = NULL, *flat = NULL;
        st = e3c_randn(&r, g, dtype, shape, k);
        if (!st)
            st = e3c_tensor_normalize(&unit, r, axis + 1);
        if (!st) {
            int64_t flat_shape[E3C_MAX_DIMS];
            memcpy(flat_shape, size, (size_t)ndim * sizeof *size);
            flat_shape[axis] = m->mul * e3c_irrep_dim(m->ir);
            st = e3c_tensor_reshape(&flat, unit, flat_shape, ndim);
        }
        if (!st)
            st = e3c_values_push(parts, flat);
        e3c_tensor_free(r);
        e3c_tensor_free(unit);
        e3c_tensor_free(flat);
    }
    if (!st && irreps->len == 0) {
        int64_t zshape[E3C_MAX_DIMS];
        memcpy(zshape, size, (size_t)ndim * sizeof *size);
        zshape[axis] = 0;
        st = e3c_tensor_zeros(out, dtype, zshape, ndim);
    } else if (!st) {
        st = e3c_tensor_cat(out, parts, axis);
    }
    e3c_values_free(parts);
    return st;
}

e3c_status e3c_irreps_randn(e3c_tensor **out, const e3c_irreps *irreps, e3c_generator *g, const int64_t *size, int ndim,
                            e3c_normalization normalization, e3c_dtype dtype)
{
    if (!out || !irreps || !g || (ndim && !size))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_irreps_randn: NULL argument");
    *out = NULL;
    if (ndim < 1 || ndim > E3C_MAX_DIMS - 1)
        return e3c_error_set(E3C_ERR_INVALID, "Irreps.randn: size needs 1 to %d entries, got %d", E3C_MAX_DIMS - 1,
                             ndim);
    int axis = find_feature_axis(size, ndim);
    if (axis < 0)
        return e3c_error_set(E3C_ERR_VALUE, "Irreps.randn: size must contain -1 for the feature "
                                            "axis (e3nn: tuple.index(x): x not in tuple)");
    for (int d = 0; d < ndim; d++)
        if (d != axis && size[d] < 0)
            return e3c_error_set(E3C_ERR_VALUE, "Irreps.randn: size %lld in dimension %d is negative",
                                 (long long)size[d], d);
    if (normalization == E3C_NORM_COMPONENT) {
        int64_t shape[E3C_MAX_DIMS];
        memcpy(shape, size, (size_t)ndim * sizeof *size);
        shape[axis] = e3c_irreps_dim(irreps);
        return e3c_randn(out, g, dtype, shape, ndim);
    }
    if (normalization == E3C_NORM_NORM)
        return randn_norm(out, irreps, g, size, ndim, axis, dtype);
    return e3c_error_set(E3C_ERR_VALUE, "Normalization needs to be 'norm' or 'component'");
}
