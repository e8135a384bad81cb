/* Arrays of value lists (tracing inputs), used by both the module and the compiler. */
#include <stdlib.h>

#include "e3check/module.h"
#include "module_internal.h"

void e3c_values_array_free(e3c_values **lists, size_t count)
{
    for (size_t i = 0; lists && i < count; i++)
        e3c_values_free(lists[i]);
    free(lists);
}

e3c_status copy_values(e3c_values **out, const e3c_values *src)
{
    e3c_status st = e3c_values_new(out);
    for (size_t i = 0; !st && i < e3c_values_count(src); i++)
        st = e3c_values_push(*out, e3c_values_get(src, i));
    return st;
}

e3c_status copy_values_array(e3c_values ***out, e3c_values *const *src, size_t n)
{
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory copying inputs");
    for (size_t i = 0; i < n; i++) {
        e3c_status st = copy_values(&(*out)[i], src[i]);
        if (st)
            return st;
    }
    return E3C_OK;
}
