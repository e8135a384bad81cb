/* The typed readers of e3check/json.h with the noun their errors call the key by, inside
 * libe3check only. The public e3c_json_* readers say "field" (a JSON document has fields);
 * the module catalogue reads a constructor's bound arguments with "argument". */
#ifndef E3CHECK_JSON_INTERNAL_H
#define E3CHECK_JSON_INTERNAL_H

#include "e3check/json.h"

/* As e3c_json_number, e3c_json_int, e3c_json_int_or, e3c_json_string,
 * e3c_json_string_or and e3c_json_bool_or, the errors naming the key `noun "key"`. */
e3c_status json_number_as(double *out, const cJSON *obj, const char *key, const char *noun);
e3c_status json_int_as(int *out, const cJSON *obj, const char *key, const char *noun);
e3c_status json_int_or_as(int *out, const cJSON *obj, const char *key, int fallback, const char *noun);
e3c_status json_string_as(const char **out, const cJSON *obj, const char *key, const char *noun);
e3c_status json_string_or_as(const char **out, const cJSON *obj, const char *key, const char *fallback,
                             const char *noun);
e3c_status json_bool_or_as(int *out, const cJSON *obj, const char *key, int fallback, const char *noun);

#endif
