/* e3check — reading JSON documents and typed fields with one-line errors, and writing
 * numbers that read back exactly. One set of readers for the module catalogue, fixtures,
 * presets and the command line. Out-parameters come first; every reader returns its status
 * with a message naming the field (e3c_error_last); the module catalogue reads a
 * constructor's arguments with the same readers, its messages naming an argument. */
#ifndef E3CHECK_JSON_H
#define E3CHECK_JSON_H

#include "e3check/export.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#include "e3check/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The most a JSON file read by e3c_json_read_file may hold (64 MiB). */
#define E3C_JSON_FILE_MAX ((size_t)64 << 20)

/** Parse `len` bytes of JSON at `text` (text[len] must be NUL) into *out (caller owns,
 *  cJSON_Delete). E3C_ERR_FORMAT naming `name`, the line and the column: invalid JSON, text
 *  after the value, a NUL byte, a string holding the escape \u0000 (which would cut it short). */
E3C_API e3c_status e3c_json_parse(cJSON **out, const char *text, size_t len, const char *name);

/** Read and parse the JSON file `path` into *out (caller owns) as e3c_json_parse does: a
 *  regular file of at most E3C_JSON_FILE_MAX bytes (e3c_file_read); errors name the file. */
E3C_API e3c_status e3c_json_read_file(cJSON **out, const char *path);

/** Required number field `key` of `obj`: E3C_ERR_VALUE when missing or not a number. */
E3C_API e3c_status e3c_json_number(double *out, const cJSON *obj, const char *key);

/** Required integer field (a number with no fraction, within int range). */
E3C_API e3c_status e3c_json_int(int *out, const cJSON *obj, const char *key);

/** Optional integer field: `fallback` when absent, E3C_ERR_VALUE when not an integer. */
E3C_API e3c_status e3c_json_int_or(int *out, const cJSON *obj, const char *key, int fallback);

/** Required string field; *out is borrowed from obj. */
E3C_API e3c_status e3c_json_string(const char **out, const cJSON *obj, const char *key);

/** Optional string field: `fallback` when absent; *out borrowed. */
E3C_API e3c_status e3c_json_string_or(const char **out, const cJSON *obj, const char *key, const char *fallback);

/** Optional boolean field as 0/1: `fallback` when absent, E3C_ERR_VALUE when not a bool. */
E3C_API e3c_status e3c_json_bool_or(int *out, const cJSON *obj, const char *key, int fallback);

/** Required flat array of exactly n numbers, into out[0..n). */
E3C_API e3c_status e3c_json_doubles(double *out, size_t n, const cJSON *obj, const char *key);

/** Required 3x3 matrix (an array of three arrays of three numbers), row-major. */
E3C_API e3c_status e3c_json_matrix3(double out[9], const cJSON *obj, const char *key);

/** A new JSON number printed with 17 significant digits, so that it reads back to the same
 *  double (cJSON's own printer may round to 15); null for NaN and infinities. Caller owns;
 *  NULL when out of memory. */
E3C_API cJSON *e3c_json_exact_number(double v);

/** A new JSON array of n exact numbers. Caller owns; NULL when out of memory. */
E3C_API cJSON *e3c_json_array_of(const double *v, size_t n);

/** A new nested JSON array of a row-major rows x cols matrix of exact numbers. Caller owns;
 *  NULL when out of memory. */
E3C_API cJSON *e3c_json_matrix_of(const double *v, size_t rows, size_t cols);

#ifdef __cplusplus
}
#endif
#endif
