/* nn.BatchNorm: batch normalisation of irreps features (e3nn 0.5.6's arithmetic).
 *
 * Per irrep channel: scalars (0e only) have their mean removed; every channel is divided
 * by sqrt(norm + eps), norm its mean square per component ("component") or per copy
 * ("norm"), reduced over the sample dimension by mean or max and, without `instance`,
 * over the batch; then scaled by `weight` and (scalars) shifted by `bias`. In training
 * mode the batch statistics update running_mean/running_var with momentum; in eval mode
 * those are used instead (with `instance` the statistics are always the input's own).
 * Mode "unsupported", as in e3nn: the forward is computed here, in float64. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "e3check/nn.h"
#include "nn_internal.h"

typedef struct bn_state {
    e3c_irreps irreps;
    double eps, momentum;
    int affine, instance, reduce_max, norm_norm;
    int64_t dim, num_scalar, num_features;
} bn_state;

static void free_bn(void *p)
{
    bn_state *s = p;
    e3c_irreps_free(&s->irreps);
    free(s);
}

static int is_scalar(e3c_irrep ir) { return ir.l == 0 && ir.p == 1; }

/* The module's tensor `name` as float64 values in a new array of n (NULL when absent). */
static e3c_status read_tensor(const e3c_module *m, const char *name, int64_t n, double **out)
{
    e3c_tensor *t = NULL;
    *out = NULL;
    e3c_status st = e3c_module_tensor(&t, m, name);
    if (!st && e3c_tensor_numel(t) != n)
        st = e3c_error_set(E3C_ERR_VALUE, "BatchNorm: %s has %lld values, expected %lld", name,
                           (long long)e3c_tensor_numel(t), (long long)n);
    if (!st && !(*out = malloc((size_t)(n ? n : 1) * sizeof **out)))
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (!st)
        st = e3c_tensor_to_doubles(*out, (size_t)n, t);
    e3c_tensor_free(t);
    if (st) {
        free(*out);
        *out = NULL;
    }
    return st;
}

/* Overwrite the module's tensor `name` in place (running statistics). */
static e3c_status write_tensor(e3c_module *m, const char *name, const double *v, int64_t n)
{
    e3c_tensor *t = NULL;
    e3c_status st = e3c_module_tensor(&t, m, name);
    if (!st)
        st = e3c_tensor_assign(t, v, (size_t)n);
    e3c_tensor_free(t);
    return st;
}

/* The arrays one forward works on: x (N, S, dim) in float64, y the same shape. */
typedef struct bn_work {
    const bn_state *s;
    const double *x;
    double *y;
    int64_t n, samples;
    int batch_stats;                      /* training or instance: statistics of this input */
    double *rmean, *rvar, *weight, *bias; /* NULL when absent */
    double *new_mean, *new_var;           /* updated running statistics (training) */
} bn_work;

/* The mean of the (scalar) channel at column `col` over batch row b's samples, or over
 * the whole batch when b < 0. */
static double channel_mean(const bn_work *w, int64_t col, int64_t b)
{
    double acc = 0;
    int64_t b0 = b < 0 ? 0 : b, b1 = b < 0 ? w->n : b + 1;
    for (int64_t i = b0; i < b1; i++)
        for (int64_t k = 0; k < w->samples; k++)
            acc += w->x[(i * w->samples + k) * w->s->dim + col];
    return acc / (double)((b1 - b0) * w->samples);
}

/* The channel's mean square (per component, or per copy with "norm") after removing
 * `mean`, reduced over the samples by mean or max, then averaged over batch row b (or
 * over the batch when b < 0). */
static double channel_norm(const bn_work *w, int64_t col, int64_t d, int64_t b, double mean)
{
    double total = 0;
    int64_t b0 = b < 0 ? 0 : b, b1 = b < 0 ? w->n : b + 1;
    for (int64_t i = b0; i < b1; i++) {
        double red = w->s->reduce_max ? -INFINITY : 0;
        for (int64_t k = 0; k < w->samples; k++) {
            const double *row = &w->x[(i * w->samples + k) * w->s->dim + col];
            double sq = 0;
            for (int64_t c = 0; c < d; c++) {
                double v = row[c] - mean;
                sq += v * v;
            }
            sq = w->s->norm_norm ? sq : sq / (double)d;
            red = w->s->reduce_max ? (sq > red || isnan(sq) ? sq : red) : red + sq;
        }
        total += w->s->reduce_max ? red : red / (double)w->samples;
    }
    return total / (double)(b1 - b0);
}

/* Normalise channel u of the entry at `col` (dimension d) for every batch row. */
static void bn_channel(bn_work *w, int64_t col, int64_t d, int scalar, int64_t irm, int64_t irv, int64_t iw, int64_t ib)
{
    const bn_state *s = w->s;
    int64_t rows = s->instance ? w->n : 1;
    for (int64_t r = 0; r < rows; r++) {
        int64_t b = s->instance ? r : -1;
        double mean = 0, var;
        if (scalar) {
            mean = w->batch_stats ? channel_mean(w, col, b) : w->rmean[irm];
            if (w->batch_stats && !s->instance)
                w->new_mean[irm] = (1 - s->momentum) * w->rmean[irm] + s->momentum * mean;
        }
        if (w->batch_stats) {
            var = channel_norm(w, col, d, b, mean);
            if (!s->instance)
                w->new_var[irv] = (1 - s->momentum) * w->rvar[irv] + s->momentum * var;
        } else {
            var = w->rvar[irv];
        }
        double scale = pow(var + s->eps, -0.5) * (s->affine ? w->weight[iw] : 1.0);
        double shift = s->affine && scalar ? w->bias[ib] : 0.0;
        int64_t b0 = s->instance ? r : 0, b1 = s->instance ? r + 1 : w->n;
        for (int64_t i = b0; i < b1; i++)
            for (int64_t k = 0; k < w->samples; k++) {
                int64_t at = (i * w->samples + k) * s->dim + col;
                for (int64_t c = 0; c < d; c++)
                    w->y[at + c] = (w->x[at + c] - mean) * scale + shift;
            }
    }
}

/* Walk the entries in e3nn's order (running_mean over 0e channels, running_var and
 * weight over all channels, bias over 0e channels). */
static void bn_walk(bn_work *w)
{
    int64_t col = 0, irm = 0, irv = 0, iw = 0, ib = 0;
    for (size_t e = 0; e < w->s->irreps.len; e++) {
        const e3c_mulir *mi = &w->s->irreps.items[e];
        int64_t d = e3c_irrep_dim(mi->ir);
        int scalar = is_scalar(mi->ir);
        for (int64_t u = 0; u < mi->mul; u++) {
            bn_channel(w, col + u * d, d, scalar, irm, irv, iw, ib);
            irm += scalar, irv++, iw++, ib += scalar;
        }
        col += mi->mul * d;
    }
}

static e3c_status bn_load_state(e3c_module *self, bn_work *w)
{
    const bn_state *s = w->s;
    e3c_status st = E3C_OK;
    if (!s->instance) {
        st = read_tensor(self, "running_mean", s->num_scalar, &w->rmean);
        if (!st)
            st = read_tensor(self, "running_var", s->num_features, &w->rvar);
        if (!st && !(w->new_mean = calloc((size_t)s->num_scalar + 1, sizeof *w->new_mean)))
            st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
        if (!st && !(w->new_var = calloc((size_t)s->num_features + 1, sizeof *w->new_var)))
            st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    }
    if (!st && s->affine)
        st = read_tensor(self, "weight", s->num_features, &w->weight);
    if (!st && s->affine)
        st = read_tensor(self, "bias", s->num_scalar, &w->bias);
    return st;
}

static void bn_work_free(bn_work *w)
{
    free(w->rmean), free(w->rvar), free(w->weight), free(w->bias), free(w->new_mean), free(w->new_var);
    free(w->y);
}

static e3c_status bn_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    const bn_state *s = e3c_module_state(self);
    if (e3c_values_count(in) != 1)
        return e3c_error_set(E3C_ERR_VALUE, "BatchNorm takes one input, got %zu", e3c_values_count(in));
    const e3c_tensor *x = e3c_values_get(in, 0);
    int64_t shape[E3C_MAX_DIMS];
    int nd = 0;
    e3c_dtype dtype;
    e3c_status st = e3c_tensor_shape(shape, E3C_MAX_DIMS, &nd, x);
    if (!st)
        st = e3c_tensor_dtype(&dtype, x);
    if (st)
        return st;
    if (nd < 2)
        return e3c_error_set(E3C_ERR_VALUE, "BatchNorm: the input must be (batch, ..., %lld), got %d dimension(s)",
                             (long long)s->dim, nd);
    if (shape[nd - 1] != s->dim)
        return e3c_error_set(E3C_ERR_VALUE, "BatchNorm: the input has %lld columns, its irreps need %lld",
                             (long long)shape[nd - 1], (long long)s->dim);
    bn_work w = {.s = s, .n = shape[0], .batch_stats = e3c_module_training(self) || s->instance};
    int64_t numel = e3c_tensor_numel(x);
    w.samples = w.n && s->dim ? numel / (w.n * s->dim) : 0;
    e3c_tensor *x64 = NULL, *y64 = NULL, *y = NULL;
    void *data = NULL;
    st = bn_load_state(self, &w);
    if (!st)
        st = e3c_tensor_to(&x64, x, E3C_FLOAT64);
    if (!st)
        st = e3c_tensor_data(&data, x64);
    if (!st && !(w.y = calloc((size_t)(numel ? numel : 1), sizeof *w.y)))
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (!st) {
        w.x = data;
        if (numel)
            bn_walk(&w);
        if (e3c_module_training(self) && !s->instance && numel) {
            st = write_tensor(self, "running_mean", w.new_mean, s->num_scalar);
            if (!st)
                st = write_tensor(self, "running_var", w.new_var, s->num_features);
        }
    }
    if (!st)
        st = e3c_tensor_from_data(&y64, w.y, E3C_FLOAT64, shape, nd);
    if (!st)
        st = e3c_tensor_to(&y, y64, dtype);
    bn_work_free(&w);
    e3c_tensor_free(x64), e3c_tensor_free(y64);
    return st ? st : e3c_values_take_one(out, y);
}

const e3c_module_class e3c_batch_norm_class = {
    .name = "BatchNorm", .mode = "unsupported", .forward = bn_forward, .free_state = free_bn};

static e3c_status bn_tensor(e3c_module *m, const char *name, double fill, int64_t n, int is_parameter)
{
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++)
        v[i] = fill;
    e3c_tensor *t64 = NULL, *t = NULL;
    e3c_status st = e3c_tensor_from_data(&t64, v, E3C_FLOAT64, &n, 1);
    if (!st)
        st = e3c_tensor_to(&t, t64, e3c_default_dtype());
    if (!st)
        st = e3c_module_add_tensor(m, name, t, is_parameter);
    e3c_tensor_free(t64), e3c_tensor_free(t);
    free(v);
    return st;
}

static e3c_status bn_options(bn_state *s, const e3c_batch_norm_options *o)
{
    if (o->reduce && strcmp(o->reduce, "mean") && strcmp(o->reduce, "max"))
        return e3c_error_set(E3C_ERR_VALUE, "BatchNorm: reduce needs to be 'mean' or 'max', got '%s'", o->reduce);
    if (o->normalization && strcmp(o->normalization, "component") && strcmp(o->normalization, "norm"))
        return e3c_error_set(E3C_ERR_VALUE, "BatchNorm: normalization needs to be 'norm' or 'component', got '%s'",
                             o->normalization);
    if (!(o->eps >= 0) || !isfinite(o->eps) || !isfinite(o->momentum))
        return e3c_error_set(E3C_ERR_VALUE, "BatchNorm: eps must be a finite number >= 0 and momentum finite");
    s->eps = o->eps;
    s->momentum = o->momentum;
    s->affine = o->affine != 0;
    s->instance = o->instance != 0;
    s->reduce_max = o->reduce && !strcmp(o->reduce, "max");
    s->norm_norm = o->normalization && !strcmp(o->normalization, "norm");
    return E3C_OK;
}

e3c_status e3c_batch_norm_new(e3c_module **out, const char *irreps, const e3c_batch_norm_options *opt)
{
    if (!out || !irreps)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_batch_norm_new: NULL argument");
    *out = NULL;
    e3c_batch_norm_options defaults = E3C_BATCH_NORM_OPTIONS_INIT;
    bn_state *s = calloc(1, sizeof *s);
    if (!s)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for BatchNorm");
    e3c_status st = bn_options(s, opt ? opt : &defaults);
    if (!st && e3c_irreps_parse(&s->irreps, irreps))
        st = e3c_error_prefix("BatchNorm");
    if (st) {
        free_bn(s);
        return st;
    }
    s->dim = e3c_irreps_dim(&s->irreps);
    s->num_features = e3c_irreps_num_irreps(&s->irreps);
    for (size_t i = 0; i < s->irreps.len; i++)
        s->num_scalar += is_scalar(s->irreps.items[i].ir) ? s->irreps.items[i].mul : 0;
    if (s->num_features > NN_MAX_ELEMENTS) {
        int64_t n = s->num_features;
        free_bn(s);
        return e3c_error_set(E3C_ERR_VALUE, "BatchNorm: %lld channels, more than the %lld a module may hold",
                             (long long)n, (long long)NN_MAX_ELEMENTS);
    }
    char *text = NULL;
    st = e3c_irreps_format(&text, &s->irreps);
    int affine = s->affine, instance = s->instance;
    int64_t nsc = s->num_scalar, nf = s->num_features;
    e3c_module *m = NULL;
    if (!st)
        st = e3c_module_new(&m, &e3c_batch_norm_class, s);
    else
        free_bn(s);
    /* e3nn's registration order: running_mean, running_var (buffers), weight, bias */
    if (!st && !instance)
        st = bn_tensor(m, "running_mean", 0.0, nsc, 0);
    if (!st && !instance)
        st = bn_tensor(m, "running_var", 1.0, nf, 0);
    if (!st && affine)
        st = bn_tensor(m, "weight", 1.0, nf, 1);
    if (!st && affine)
        st = bn_tensor(m, "bias", 0.0, nsc, 1);
    const char *io[1] = {text};
    if (!st)
        st = e3c_module_set_irreps_in(m, io, 1);
    if (!st)
        st = e3c_module_set_irreps_out(m, io, 1);
    free(text);
    return nn_finish(out, m, st);
}
