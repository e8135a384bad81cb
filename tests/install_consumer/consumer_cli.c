/* Built against an installed e3check: a program of its own that is the whole e3check
 * command (e3c_cli_main), here answering `irreps 1o+2e`. */
#include "e3check/command.h"

int main(int argc, char **argv)
{
    char irreps[] = "irreps", arg[] = "1o + 2e";
    char *args[] = {argc ? argv[0] : "consumer_cli", irreps, arg, 0};
    return e3c_cli_main(3, args);
}
