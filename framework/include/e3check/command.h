/* e3check — the whole `e3check` command as a library function, for a model repository's
 * own executable: register its module types, then hand over argc/argv. */
#ifndef E3CHECK_COMMAND_H
#define E3CHECK_COMMAND_H

#include "e3check/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Run the e3check command line `argv` (argv[0] the program's name, argv[1] a command:
 *  run, merge, model, compile, inspect, irreps, o3, types; every option of `e3check`),
 *  with the module types registered so far (e3c_registry_add) beside the built-in ones.
 *  Checks run in worker processes forked from the caller. Returns the exit status the
 *  command documents (0 every check as expected, 1 some not or bad input, 2 interrupted,
 *  3 internal error, 4 usage error, 5 nothing run); output is flushed. argv may be
 *  reordered; nothing else is kept or owned. Link e3check::e3check_cli (-le3check_cli). */
E3C_API int e3c_cli_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
