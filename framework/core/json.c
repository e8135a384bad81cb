/* Typed JSON field readers with one-line errors, shared by the module catalogue, the
 * fixtures and the command line (see e3check/json.h). */
#include "e3check/json.h"

#include "e3check/file.h"
#include "json_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The 1-based line and column of `at` in `text`. */
static void line_col(const char *text, const char *at, int *line, int *col)
{
    *line = 1, *col = 1;
    for (const char *p = text; at && p < at && *p; p++, (*col)++)
        if (*p == '\n')
            (*line)++, *col = 0;
}

/* The first "\u0000" escape inside a JSON string of text[0, len), or NULL. cJSON would
 * decode it into a NUL byte that silently ends the string early. */
static const char *nul_escape(const char *text, size_t len)
{
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        if (!in_string) {
            in_string = text[i] == '"';
            continue;
        }
        if (text[i] == '"')
            in_string = 0;
        else if (text[i] == '\\') {
            if (i + 6 <= len && text[i + 1] == 'u' && !memcmp(text + i + 2, "0000", 4))
                return text + i;
            i++; /* the escaped character */
        }
    }
    return NULL;
}

e3c_status e3c_json_parse(cJSON **out, const char *text, size_t len, const char *name)
{
    *out = NULL;
    int line, col;
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        line_col(text, nul, &line, &col);
        return e3c_error_set(E3C_ERR_FORMAT, "%s: not valid JSON: a NUL byte at line %d, column %d", name, line, col);
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1); /* text[len] is the NUL */
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        line_col(text, at, &line, &col);
        /* cJSON reports text after a complete value at the value's end */
        cJSON *prefix = at && at > text && at < text + len ? cJSON_ParseWithLength(text, (size_t)(at - text)) : NULL;
        int trailing = prefix != NULL;
        cJSON_Delete(prefix);
        if (trailing)
            return e3c_error_set(E3C_ERR_FORMAT,
                                 "%s: not valid JSON: unexpected text after the JSON value (line %d, column %d)", name,
                                 line, col);
        return e3c_error_set(E3C_ERR_FORMAT, "%s: not valid JSON (line %d, column %d)", name, line, col);
    }
    const char *bad = nul_escape(text, len);
    if (bad) {
        cJSON_Delete(doc);
        line_col(text, bad, &line, &col);
        return e3c_error_set(E3C_ERR_FORMAT,
                             "%s: a string holds the NUL character \\u0000 (line %d, column %d): refused, it would "
                             "cut the string short",
                             name, line, col);
    }
    *out = doc;
    return E3C_OK;
}

e3c_status e3c_json_read_file(cJSON **out, const char *path)
{
    *out = NULL;
    char *text = NULL;
    size_t got = 0;
    e3c_status rst = e3c_file_read(&text, &got, path, E3C_JSON_FILE_MAX);
    if (rst)
        return rst;
    e3c_status st = e3c_json_parse(out, text, got, path);
    free(text);
    return st;
}

/* Every public reader names its key a field; the registry's constructors read the same
 * way through the *_as variants (json_internal.h) naming it an argument. */
#define FIELD "field"

static e3c_status member(const cJSON *obj, const char *key, const char *noun, const cJSON **out)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!f)
        return e3c_error_set(E3C_ERR_VALUE, "missing %s \"%s\"", noun, key);
    *out = f;
    return E3C_OK;
}

static e3c_status field(const cJSON *obj, const char *key, const cJSON **out) { return member(obj, key, FIELD, out); }

e3c_status json_number_as(double *out, const cJSON *obj, const char *key, const char *noun)
{
    const cJSON *f = NULL;
    e3c_status st = member(obj, key, noun, &f);
    if (st)
        return st;
    if (!cJSON_IsNumber(f))
        return e3c_error_set(E3C_ERR_VALUE, "%s \"%s\" must be a number", noun, key);
    *out = f->valuedouble;
    return E3C_OK;
}

e3c_status e3c_json_number(double *out, const cJSON *obj, const char *key)
{
    return json_number_as(out, obj, key, FIELD);
}

static e3c_status as_int(const cJSON *f, const char *key, const char *noun, int *out)
{
    if (!cJSON_IsNumber(f) || f->valuedouble != floor(f->valuedouble) || fabs(f->valuedouble) > 2147483647.0)
        return e3c_error_set(E3C_ERR_VALUE, "%s \"%s\" must be an integer", noun, key);
    *out = (int)f->valuedouble;
    return E3C_OK;
}

e3c_status json_int_as(int *out, const cJSON *obj, const char *key, const char *noun)
{
    const cJSON *f = NULL;
    e3c_status st = member(obj, key, noun, &f);
    return st ? st : as_int(f, key, noun, out);
}

e3c_status e3c_json_int(int *out, const cJSON *obj, const char *key) { return json_int_as(out, obj, key, FIELD); }

e3c_status json_int_or_as(int *out, const cJSON *obj, const char *key, int fallback, const char *noun)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!f) {
        *out = fallback;
        return E3C_OK;
    }
    return as_int(f, key, noun, out);
}

e3c_status e3c_json_int_or(int *out, const cJSON *obj, const char *key, int fallback)
{
    return json_int_or_as(out, obj, key, fallback, FIELD);
}

e3c_status json_string_as(const char **out, const cJSON *obj, const char *key, const char *noun)
{
    const cJSON *f = NULL;
    e3c_status st = member(obj, key, noun, &f);
    if (st)
        return st;
    if (!cJSON_IsString(f))
        return e3c_error_set(E3C_ERR_VALUE, "%s \"%s\" must be a string", noun, key);
    *out = f->valuestring;
    return E3C_OK;
}

e3c_status e3c_json_string(const char **out, const cJSON *obj, const char *key)
{
    return json_string_as(out, obj, key, FIELD);
}

e3c_status json_string_or_as(const char **out, const cJSON *obj, const char *key, const char *fallback,
                             const char *noun)
{
    if (!cJSON_GetObjectItemCaseSensitive(obj, key)) {
        *out = fallback;
        return E3C_OK;
    }
    return json_string_as(out, obj, key, noun);
}

e3c_status e3c_json_string_or(const char **out, const cJSON *obj, const char *key, const char *fallback)
{
    return json_string_or_as(out, obj, key, fallback, FIELD);
}

e3c_status json_bool_or_as(int *out, const cJSON *obj, const char *key, int fallback, const char *noun)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!f) {
        *out = fallback;
        return E3C_OK;
    }
    if (!cJSON_IsBool(f))
        return e3c_error_set(E3C_ERR_VALUE, "%s \"%s\" must be true or false", noun, key);
    *out = cJSON_IsTrue(f);
    return E3C_OK;
}

e3c_status e3c_json_bool_or(int *out, const cJSON *obj, const char *key, int fallback)
{
    return json_bool_or_as(out, obj, key, fallback, FIELD);
}

static e3c_status numbers_of(const cJSON *arr, const char *key, double *out, size_t n)
{
    if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != n)
        return e3c_error_set(E3C_ERR_VALUE, "field \"%s\" must be an array of %zu numbers", key, n);
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) {
        if (!cJSON_IsNumber(v))
            return e3c_error_set(E3C_ERR_VALUE, "field \"%s\" must be an array of %zu numbers", key, n);
        out[i++] = v->valuedouble;
    }
    return E3C_OK;
}

e3c_status e3c_json_doubles(double *out, size_t n, const cJSON *obj, const char *key)
{
    const cJSON *f = NULL;
    e3c_status st = field(obj, key, &f);
    return st ? st : numbers_of(f, key, out, n);
}

e3c_status e3c_json_matrix3(double out[9], const cJSON *obj, const char *key)
{
    const cJSON *f = NULL;
    e3c_status st = field(obj, key, &f);
    if (st)
        return st;
    if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) != 3)
        return e3c_error_set(E3C_ERR_VALUE, "field \"%s\" must be a 3x3 matrix", key);
    for (int i = 0; i < 3; i++)
        if (numbers_of(cJSON_GetArrayItem(f, i), key, out + 3 * i, 3))
            return e3c_error_set(E3C_ERR_VALUE, "field \"%s\" must be a 3x3 matrix", key);
    return E3C_OK;
}

cJSON *e3c_json_exact_number(double v)
{
    char buf[40];
    if (!isfinite(v))
        return cJSON_CreateNull();
    snprintf(buf, sizeof buf, "%.17g", v);
    return cJSON_CreateRaw(buf);
}

cJSON *e3c_json_array_of(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *num = e3c_json_exact_number(v[i]);
        if (!num || !cJSON_AddItemToArray(a, num)) {
            cJSON_Delete(num);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

cJSON *e3c_json_matrix_of(const double *v, size_t rows, size_t cols)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < rows; i++) {
        cJSON *row = e3c_json_array_of(v + i * cols, cols);
        if (!row || !cJSON_AddItemToArray(a, row)) {
            cJSON_Delete(row);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}
