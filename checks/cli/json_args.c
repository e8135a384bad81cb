#include "json_args.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

e3c_status json_parse_text(const char *text, size_t len, const char *name, cJSON **out)
{
    *out = NULL;
    int line, col;
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        line_col(text, nul, &line, &col);
        return e3c_error_set(E3C_ERR_FORMAT, "%s: not valid JSON: a NUL byte at line %d, column %d", name,
                             line, col);
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1); /* text[len] is the NUL */
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        line_col(text, at, &line, &col);
        /* cJSON reports text after a complete value at the value's end */
        cJSON *prefix =
            at && at > text && at < text + len ? cJSON_ParseWithLength(text, (size_t)(at - text)) : NULL;
        int trailing = prefix != NULL;
        cJSON_Delete(prefix);
        if (trailing)
            return e3c_error_set(
                E3C_ERR_FORMAT,
                "%s: not valid JSON: unexpected text after the JSON value (line %d, column %d)", name, line,
                col);
        return e3c_error_set(E3C_ERR_FORMAT, "%s: not valid JSON (line %d, column %d)", name, line, col);
    }
    const char *bad = nul_escape(text, len);
    if (bad) {
        cJSON_Delete(doc);
        line_col(text, bad, &line, &col);
        return e3c_error_set(
            E3C_ERR_FORMAT,
            "%s: a string holds the NUL character \\u0000 (line %d, column %d): refused, it would "
            "cut the string short",
            name, line, col);
    }
    *out = doc;
    return E3C_OK;
}

e3c_status read_regular_file(const char *path, size_t max_bytes, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return e3c_error_set(E3C_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    e3c_status st = E3C_OK;
    if (fstat(fd, &sb) != 0)
        st = e3c_error_set(E3C_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = e3c_error_set(E3C_ERR_IO, "'%s' is not a regular file: not read", path);
    else if ((uintmax_t)sb.st_size > max_bytes)
        st = e3c_error_set(E3C_ERR_VALUE, "'%s' is %jd bytes, more than the %zu a file read here may have", path,
                           (intmax_t)sb.st_size, max_bytes);
    char *buf = st ? NULL : malloc((size_t)sb.st_size + 1);
    if (!st && !buf)
        st = e3c_error_set(E3C_ERR_NOMEM, "cannot read '%s': out of memory", path);
    size_t got = 0;
    while (!st && got < (size_t)sb.st_size) { /* a file that grows meanwhile is read up to its size */
        ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            st = e3c_error_set(E3C_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (st) {
        free(buf);
        return st;
    }
    buf[got] = '\0';
    *text = buf;
    *len = got;
    return E3C_OK;
}

e3c_status json_read_file(const char *path, cJSON **out)
{
    *out = NULL;
    char *text = NULL;
    size_t got = 0;
    e3c_status rst = read_regular_file(path, JSON_FILE_MAX, &text, &got);
    if (rst)
        return rst;
    e3c_status st = json_parse_text(text, got, path, out);
    free(text);
    return st;
}

static e3c_status field(const cJSON *obj, const char *key, const cJSON **out)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!f)
        return e3c_error_set(E3C_ERR_VALUE, "missing field \"%s\"", key);
    *out = f;
    return E3C_OK;
}

e3c_status json_number(const cJSON *obj, const char *key, double *out)
{
    const cJSON *f = NULL;
    e3c_status st = field(obj, key, &f);
    if (st)
        return st;
    if (!cJSON_IsNumber(f))
        return e3c_error_set(E3C_ERR_VALUE, "field \"%s\" must be a number", key);
    *out = f->valuedouble;
    return E3C_OK;
}

static e3c_status as_int(const cJSON *f, const char *key, int *out)
{
    if (!cJSON_IsNumber(f) || f->valuedouble != floor(f->valuedouble) || fabs(f->valuedouble) > 2147483647.0)
        return e3c_error_set(E3C_ERR_VALUE, "field \"%s\" must be an integer", key);
    *out = (int)f->valuedouble;
    return E3C_OK;
}

e3c_status json_int(const cJSON *obj, const char *key, int *out)
{
    const cJSON *f = NULL;
    e3c_status st = field(obj, key, &f);
    return st ? st : as_int(f, key, out);
}

e3c_status json_int_or(const cJSON *obj, const char *key, int fallback, int *out)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!f) {
        *out = fallback;
        return E3C_OK;
    }
    return as_int(f, key, out);
}

e3c_status json_string(const cJSON *obj, const char *key, const char **out)
{
    const cJSON *f = NULL;
    e3c_status st = field(obj, key, &f);
    if (st)
        return st;
    if (!cJSON_IsString(f))
        return e3c_error_set(E3C_ERR_VALUE, "field \"%s\" must be a string", key);
    *out = f->valuestring;
    return E3C_OK;
}

e3c_status json_string_or(const cJSON *obj, const char *key, const char *fallback, const char **out)
{
    if (!cJSON_GetObjectItemCaseSensitive(obj, key)) {
        *out = fallback;
        return E3C_OK;
    }
    return json_string(obj, key, out);
}

e3c_status json_bool_or(const cJSON *obj, const char *key, int fallback, int *out)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!f) {
        *out = fallback;
        return E3C_OK;
    }
    if (!cJSON_IsBool(f))
        return e3c_error_set(E3C_ERR_VALUE, "field \"%s\" must be true or false", key);
    *out = cJSON_IsTrue(f);
    return E3C_OK;
}

static e3c_status numbers_of(const cJSON *arr, const char *key, double *out, size_t n)
{
    if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != n)
        return e3c_error_set(E3C_ERR_VALUE, "field \"%s\" must be an array of %zu numbers", key, n);
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        if (!cJSON_IsNumber(v))
            return e3c_error_set(E3C_ERR_VALUE, "field \"%s\" must be an array of %zu numbers", key, n);
        out[i++] = v->valuedouble;
    }
    return E3C_OK;
}

e3c_status json_doubles(const cJSON *obj, const char *key, double *out, size_t n)
{
    const cJSON *f = NULL;
    e3c_status st = field(obj, key, &f);
    return st ? st : numbers_of(f, key, out, n);
}

e3c_status json_matrix3(const cJSON *obj, const char *key, double out[9])
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

cJSON *json_exact_number(double v)
{
    char buf[40];
    if (!isfinite(v))
        return cJSON_CreateNull();
    snprintf(buf, sizeof buf, "%.17g", v);
    return cJSON_CreateRaw(buf);
}

cJSON *json_array_of(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *num = json_exact_number(v[i]);
        if (!num || !cJSON_AddItemToArray(a, num)) {
            cJSON_Delete(num);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

cJSON *json_matrix_of(const double *v, size_t rows, size_t cols)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < rows; i++) {
        cJSON *row = json_array_of(v + i * cols, cols);
        if (!row || !cJSON_AddItemToArray(a, row)) {
            cJSON_Delete(row);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}
