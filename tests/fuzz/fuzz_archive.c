/* libFuzzer harness: bytes loaded as a TorchScript archive (e3c_jit_load_buffer) give a
 * module or a status. Seeds: the .pt files of ../shared/models. libtorch's own TorchScript
 * parser crashes on some corrupt archives (tests/data/corrupt_code_crashes_libtorch.pt,
 * in ScriptTypeParser::parseClassConstant), which e3check cannot fix; the CLI loads every
 * file a user names in a child process. Run with -fork=1 -ignore_crashes=1 to go on past
 * those and look for crashes in e3check's own code. */
#include <stdint.h>
#include <stdlib.h>

#include "e3check/torch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    e3c_jit_module *m = NULL;
    if (e3c_jit_load_buffer(&m, data, size, "fuzz") == E3C_OK) {
        e3c_strings methods = {0, NULL};
        e3c_jit_methods(&methods, m);
        e3c_strings_free(&methods);
        e3c_jit_free(m);
    }
    return 0;
}
