/* Reading typed fields out of cJSON objects with one-line errors (status convention). */
#ifndef E3CHECK_JSON_ARGS_H
#define E3CHECK_JSON_ARGS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "e3check/error.h"

/** The most a JSON file read by json_read_file may hold (64 MiB). */
#define JSON_FILE_MAX ((size_t)64 << 20)

/** Read the regular file `path` (at most max_bytes) into *text, NUL-terminated, length in
 *  *len (caller frees *text). Opens without blocking: a FIFO, device or socket is an error
 *  naming the path, never waited on; so is a larger file. */
e3c_status read_regular_file(const char *path, size_t max_bytes, char **text, size_t *len);


/** Parse `len` bytes of JSON at `text` (text[len] must be NUL) into *out (caller owns).
 *  Refused, with `name`, the line and the column: invalid JSON, text after the value,
 *  a NUL byte, a string holding the escape \u0000 (which would cut it short). */
e3c_status json_parse_text(const char *text, size_t len, const char *name, cJSON **out);

/** Read and parse the JSON file `path` into *out (caller owns) as json_parse_text does (a regular file of
 *  at most JSON_FILE_MAX bytes); errors name the file. */
e3c_status json_read_file(const char *path, cJSON **out);

/** Required number field `key` of `obj`. */
e3c_status json_number(const cJSON *obj, const char *key, double *out);

/** Required integer field (a number with no fraction, within int range). */
e3c_status json_int(const cJSON *obj, const char *key, int *out);

/** Optional integer field: `fallback` when absent. */
e3c_status json_int_or(const cJSON *obj, const char *key, int fallback, int *out);

/** Required string field; borrowed from obj. */
e3c_status json_string(const cJSON *obj, const char *key, const char **out);

/** Optional string field; `fallback` when absent. */
e3c_status json_string_or(const cJSON *obj, const char *key, const char *fallback, const char **out);

/** Optional boolean field; `fallback` when absent. */
e3c_status json_bool_or(const cJSON *obj, const char *key, int fallback, int *out);

/** Required flat array of exactly n numbers. */
e3c_status json_doubles(const cJSON *obj, const char *key, double *out, size_t n);

/** Required 3x3 matrix (array of three arrays of three numbers), row-major. */
e3c_status json_matrix3(const cJSON *obj, const char *key, double out[9]);

/** A new JSON number printed with 17 significant digits, so that it reads back to the
 *  same double (cJSON's own printer may round to 15); null for NaN and infinities. */
cJSON *json_exact_number(double v);

/** A new JSON array of n numbers (NULL when out of memory). */
cJSON *json_array_of(const double *v, size_t n);

/** A new nested JSON array of a row-major rows x cols matrix. */
cJSON *json_matrix_of(const double *v, size_t rows, size_t cols);

#endif
