/* The e3check executable: the command (e3c_cli_main) and a fast exit. */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "e3check/command.h"

/* The process ends without running libtorch's static destructors, which take tens of
 * milliseconds and have nothing left to do: every report is written and closed by now,
 * and the streams are flushed here. Sanitizer builds exit normally so that LeakSanitizer
 * still looks at the whole run. */
int main(int argc, char **argv)
{
    int rc = e3c_cli_main(argc, argv);
#ifdef E3C_NORMAL_EXIT
    return rc;
#else
    if (fflush(NULL) != 0) {
        perror("e3check: writing the output");
        _exit(EXIT_INTERNAL);
    }
    _exit(rc);
#endif
}
