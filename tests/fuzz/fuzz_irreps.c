/* libFuzzer harness: any string through the Irreps and Irrep parsers must give a status,
 * never a crash, and an accepted string must survive format -> parse unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "e3check/irreps.h"
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    e3c_irreps ir;
    if (e3c_irreps_parse(&ir, s) == E3C_OK) {
        char *t = NULL;
        e3c_irreps_format(&t, &ir);
        e3c_irreps again;
        if (t && e3c_irreps_parse(&again, t) == E3C_OK) {
            if (!e3c_irreps_equal(&ir, &again))
                abort();
            e3c_irreps_free(&again);
        }
        free(t);
        e3c_irreps o;
        if (e3c_irreps_simplify(&o, &ir) == E3C_OK)
            e3c_irreps_free(&o);
        if (e3c_irreps_regroup(&o, &ir) == E3C_OK)
            e3c_irreps_free(&o);
        e3c_irreps_free(&ir);
    }
    e3c_irrep one;
    e3c_irrep_parse(&one, s);
    free(s);
    return 0;
}
