/* Module types that misbehave the way user models do, for the tests of what e3check
 * guarantees around them: "Hang" never returns from its forward (it first appends its
 * process id to the file named by E3C_TEST_HANG_FILE, so that a test waits for that state
 * instead of a time), and "Chatty" prints to standard output and error from C and from
 * its TorchScript source. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e3check/registry.h"

static e3c_status give_copy(const e3c_values *in, e3c_values **out)
{
    e3c_tensor *y = NULL;
    e3c_status st = e3c_tensor_scalar(&y, e3c_values_get(in, 0), E3C_OP_MUL, 1.0);
    return st ? st : e3c_values_take_one(out, y);
}

static e3c_status hang_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self, (void)in, (void)out;
    const char *file = getenv("E3C_TEST_HANG_FILE");
    int fd = file ? open(file, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;
    if (fd >= 0) {
        char line[32];
        int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
        if (write(fd, line, (size_t)n) != n)
            abort();
        close(fd);
    }
    for (;;)
        pause();
}

static e3c_status chatty_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self;
    printf("CHATTY-STDOUT-MARK from printf\n");
    fprintf(stderr, "CHATTY-STDERR-MARK from fprintf\n");
    for (int i = 0; i < 100; i++)
        printf("%s\n", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
    return give_copy(in, out);
}

static const e3c_module_class hang_class = {
    .name = "Hang",
    .mode = "script",
    .forward = hang_forward,
    .script_source = "def forward(self, x):\n    torch._assert(x.shape[-1] == 4, \"width\")\n    return x * 1.0\n"};

static const e3c_module_class chatty_class = {
    .name = "Chatty",
    .mode = "script",
    .forward = chatty_forward,
    .script_source = "def forward(self, x):\n    print(\"CHATTY-TORCHSCRIPT-MARK\")\n"
                     "    torch._assert(x.shape[-1] == 4, \"width\")\n    return x * 1.0\n"};

static e3c_status build(e3c_module **out, const e3c_module_class *cls)
{
    e3c_status st = e3c_module_new(out, cls, NULL);
    const char *irreps[1] = {"1x0e+1x1o"};
    if (!st)
        st = e3c_module_set_irreps_in(*out, irreps, 1);
    if (!st)
        st = e3c_module_set_irreps_out(*out, irreps, 1);
    return st;
}

static e3c_status build_hang(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    (void)args, (void)kwargs;
    return build(out, &hang_class);
}

static e3c_status build_chatty(e3c_module **out, const cJSON *args, const cJSON *kwargs)
{
    (void)args, (void)kwargs;
    return build(out, &chatty_class);
}

E3C_PLUGIN_DECLARE_API_VERSION;

e3c_status e3check_plugin_init(void);
e3c_status e3check_plugin_init(void)
{
    e3c_status st = e3c_registry_add("Hang", build_hang);
    return st ? st : e3c_registry_add("Chatty", build_chatty);
}
