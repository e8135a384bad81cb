/* The e3check command-line interface: subcommands and shared helpers. */
#ifndef E3CHECK_CLI_H
#define E3CHECK_CLI_H

#include <signal.h>
#include <stdio.h>

/** Exit statuses of the e3check command (documented in the README). */
enum cli_exit {
    EXIT_AS_EXPECTED = 0,  /**< every check as expected / the command succeeded */
    EXIT_NOT_EXPECTED = 1, /**< some check not as expected / the input was bad */
    EXIT_INTERRUPTED = 2,  /**< interrupted by a signal */
    EXIT_INTERNAL = 3,     /**< an internal error */
    EXIT_USAGE = 4,        /**< the command line was wrong */
    EXIT_NOTHING_RUN = 5   /**< nothing was run */
};

/** A subcommand: `run` gets argv with argv[0] = the subcommand's name. */
typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    void (*help)(FILE *out);
} cli_command;

extern const cli_command cmd_inspect;
extern const cli_command cmd_irreps;
extern const cli_command cmd_o3;
extern const cli_command cmd_compile;
extern const cli_command cmd_types;
extern const cli_command cmd_run;
extern const cli_command cmd_model;
extern const cli_command cmd_merge;

/** The signal (SIGINT, SIGTERM) that interrupted the run, else 0. Set by the handlers
 *  main installs first thing; only `run` and `model` keep going after one (to finish with
 *  status 2 and their reports), other commands end the default way. */
extern volatile sig_atomic_t cli_interrupted;

/** Print "e3check: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** True when argv[i] is -h or --help. */
int cli_is_help(const char *arg);

#endif
