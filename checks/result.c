/* Check results and their JSON form. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_internal.h"
#include "e3check/fixture.h"
#include "e3check/o3.h"

const char *e3c_verdict_name(e3c_verdict v)
{
    static const char *const names[] = {"PASSED", "FAILED", "ERRORED", "SKIPPED"};
    return (unsigned)v < 4 ? names[v] : "ERRORED";
}

void e3c_check_result_free(e3c_check_result *r)
{
    if (!r)
        return;
    cJSON_Delete(r->details);
    r->details = NULL;
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

e3c_status check_begin(const char *check, const e3c_subject *s, e3c_check_result *out, uint64_t seed, double *start)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "%s: need a result", check);
    memset(out, 0, sizeof *out);
    *start = now_s();
    out->seed = seed;
    result_set(out, E3C_ERRORED, "%s did not run to its end", check);
    out->details = cJSON_CreateObject();
    if (!out->details)
        return e3c_error_set(E3C_ERR_NOMEM, "%s: out of memory", check);
    if (!s || (!s->module == !s->script)) {
        result_set(out, E3C_ERRORED, "%s: the subject needs exactly one module or script, got %s", check,
                   s && s->module ? "both" : "none");
        return e3c_error_set(E3C_ERR_INVALID, "%s", out->message);
    }
    return E3C_OK;
}

void json_add_error(cJSON *obj, const char *key, double value)
{
    if (isfinite(value))
        cJSON_AddNumberToObject(obj, key, value);
    else
        cJSON_AddStringToObject(obj, key, isnan(value) ? "nan" : value > 0 ? "inf" : "-inf");
}

double worse_error(double a, double b)
{
    if (isnan(a) || isnan(b))
        return NAN;
    return a > b ? a : b;
}

int out_of_memory(e3c_status st)
{
    const char *m = e3c_error_last();
    return st == E3C_ERR_NOMEM || strstr(m, "can't allocate memory") || strstr(m, "not enough memory") ||
           strstr(m, "out of memory");
}

void result_set(e3c_check_result *r, e3c_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    for (char *p = r->message; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    r->status = v;
}

cJSON *e3c_check_result_to_json(const e3c_check_result *r)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddStringToObject(j, "status", e3c_verdict_name(r->status));
    cJSON_AddStringToObject(j, "message", r->message);
    cJSON_AddNumberToObject(j, "duration_s", r->duration_s);
    cJSON_AddNumberToObject(j, "seed", (double)r->seed);
    cJSON_AddItemToObject(j, "details", r->details ? cJSON_Duplicate(r->details, 1) : cJSON_CreateObject());
    return j;
}

e3c_status e3c_check_result_from_json(e3c_check_result *out, const cJSON *json)
{
    memset(out, 0, sizeof *out);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(json, "status");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(json, "message");
    if (!cJSON_IsString(status) || !cJSON_IsString(message))
        return e3c_error_set(E3C_ERR_FORMAT, "a check result needs a status and a message");
    out->status = E3C_ERRORED;
    for (int v = 0; v < 4; v++)
        if (!strcmp(status->valuestring, e3c_verdict_name((e3c_verdict)v)))
            out->status = (e3c_verdict)v;
    snprintf(out->message, sizeof out->message, "%s", message->valuestring);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(json, "duration_s");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(json, "seed");
    out->duration_s = cJSON_IsNumber(d) ? d->valuedouble : 0.0;
    out->seed = cJSON_IsNumber(seed) ? (uint64_t)seed->valuedouble : 0;
    const cJSON *details = cJSON_GetObjectItemCaseSensitive(json, "details");
    out->details = details ? cJSON_Duplicate(details, 1) : NULL;
    return E3C_OK;
}

static _Thread_local double step_mark;

void check_steps_start(void) { step_mark = now_s(); }

void check_add_step(cJSON *steps, const char *name, const char *outcome, const char *detail)
{
    double now = now_s();
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "step", name);
    cJSON_AddStringToObject(s, "outcome", outcome);
    cJSON_AddNumberToObject(s, "duration_s", now - step_mark);
    step_mark = now;
    if (detail)
        cJSON_AddStringToObject(s, "detail", detail);
    cJSON_AddItemToArray(steps, s);
}

e3c_status check_draw_case(e3c_generator *g, size_t n_matrix, int parity_k, int translate, double R[9], double t[3])
{
    t[0] = t[1] = t[2] = 0;
    e3c_status st = e3c_rand_matrix(R, g, E3C_FLOAT64, n_matrix);
    if (!st && parity_k)
        for (int i = 0; i < 9; i++)
            R[i] = -R[i];
    if (st || !translate)
        return st;
    e3c_tensor *tr = NULL;
    int64_t shape[2] = {1, 3};
    st = e3c_randn(&tr, g, E3C_FLOAT64, shape, 2);
    if (!st)
        st = e3c_tensor_to_doubles(t, 3, tr);
    e3c_tensor_free(tr);
    for (int j = 0; j < 3; j++)
        t[j] *= 10.0;
    return st;
}

/* The names of the check kinds, as fixtures and reports spell them. */
static const char *const kind_names[E3C_CHECK_KIND_COUNT] = {
    "auto_jitable", "equivariance", "golden",     "normalized",      "permutation", "translation",
    "conservative", "batching",     "additivity", "periodic_images", "smoothness"};

const char *e3c_check_kind_name(e3c_check_kind k)
{
    return (unsigned)k < E3C_CHECK_KIND_COUNT ? kind_names[k] : "unknown";
}

e3c_status check_times_transposed(const e3c_tensor *x, const double *M, int64_t d, e3c_tensor **out)
{
    double *mt = malloc((size_t)(d * d > 0 ? d * d : 1) * sizeof *mt);
    if (!mt)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < d; j++)
            mt[i * d + j] = M[j * d + i];
    int64_t shape[2] = {d, d};
    e3c_tensor *T = NULL;
    e3c_status st = e3c_tensor_from_data(&T, mt, E3C_FLOAT64, shape, 2);
    if (!st)
        st = e3c_tensor_matmul(out, x, T);
    free(mt);
    e3c_tensor_free(T);
    return st;
}
