/* A plugin whose init misbehaves, built once per way (PLUGIN_FAULT): 1 crashes, 2 aborts,
 * 3 calls exit(0), 4 fails without a message, 5 never returns (not built by the tests:
 * e3check waits 60 s for it). e3check must name the
 * plugin and say what happened instead of dying, exiting 0 or going on. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "e3check/registry.h"

E3C_PLUGIN_DECLARE_API_VERSION;

e3c_status e3check_plugin_init(void);
e3c_status e3check_plugin_init(void)
{
    switch (PLUGIN_FAULT) {
    case 1: raise(SIGSEGV); break;
    case 2: abort();
    case 3: exit(0);
    case 5:
        for (;;)
            pause();
    default: break;
    }
    return E3C_ERR_VALUE;
}
