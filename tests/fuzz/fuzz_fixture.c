/* libFuzzer harness: any JSON through fixture validation and module construction must
 * give a status, never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "e3check/fixture.h"
#include "e3check/registry.h"
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    if (!j)
        return 0;
    e3c_fixture_validate(j);
    e3c_check_kind kinds[E3C_CHECK_KIND_COUNT];
    size_t n;
    e3c_fixture_checks(kinds, &n, j);
    e3c_verdict v;
    e3c_fixture_expected(&v, j, E3C_CHECK_EQUIVARIANCE);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "module");
    if (m && size < 400) {
        e3c_module *mod = NULL;
        if (e3c_registry_build(&mod, m) == E3C_OK)
            e3c_module_free(mod);
    }
    cJSON_Delete(j);
    return 0;
}
