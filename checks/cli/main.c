/* e3check: entry point and subcommand dispatch. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "e3check/command.h"
#include "e3check/torch.h"

static const cli_command *const commands[] = {&cmd_run,     &cmd_merge,  &cmd_model, &cmd_compile,
                                              &cmd_inspect, &cmd_irreps, &cmd_o3,    &cmd_types};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static void usage(FILE *out)
{
    fputs("usage: e3check [--version] [--help] [--jit-optimize] <command> [<args>]\n\n"
          "Check equivariant TorchScript modules the way e3nn's util.jit and util.test do.\n\n"
          "commands:\n",
          out);
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fputs("\n'e3check <command> --help' describes one command.\n", out);
}

static int dispatch(int argc, char **argv);
static void install_signal_handlers(int argc, char **argv);

/* Standard input, output and error closed by whoever started us (`e3check run >&- 2>&-`)
 * would be the next files opened: a worker's pipe or a report would get fd 1 or 2 and take
 * what is printed. They are opened on /dev/null instead. */
static void open_standard_streams(void)
{
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
            _exit(EXIT_INTERNAL); /* cannot happen: the lowest free descriptor is fd */
}

/* The command's status, or EXIT_INTERNAL when what it printed on standard output was lost
 * (`e3check run --list > /dev/full`): a listing or an answer that never arrived is no
 * success. */
static int check_stdout(int rc)
{
    errno = 0;
    int lost = fflush(stdout) != 0;
    int err = errno;
    lost |= ferror(stdout) != 0;
    if (!lost)
        return rc;
    cli_error("cannot write to the standard output: %s", err ? strerror(err) : "a write failed");
    return rc ? rc : EXIT_INTERNAL;
}

int e3c_cli_main(int argc, char **argv)
{
    install_signal_handlers(argc, argv);
    open_standard_streams();
    int rc = check_stdout(dispatch(argc, argv));
    fflush(NULL);
    return rc;
}

static int dispatch(int argc, char **argv)
{
    /* A global option before the command: --jit-optimize keeps libtorch's graph
     * optimizations (off by default: same results, no per-module warm-up). */
    int optimize = 0;
    if (argc >= 2 && strcmp(argv[1], "--jit-optimize") == 0) {
        optimize = 1;
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    e3c_jit_set_optimize(optimize);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (cli_is_help(argv[1])) {
        usage(stdout);
        return EXIT_AS_EXPECTED;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("e3check %s (libtorch %s)\n", E3C_VERSION, e3c_torch_version());
        return EXIT_AS_EXPECTED;
    }
    for (int i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[1], commands[i]->name) != 0)
            continue;
        for (int a = 2; a < argc && strcmp(argv[a], "--"); a++) /* after "--", a --help is a path */
            if (cli_is_help(argv[a])) {
                commands[i]->help(stdout);
                return EXIT_AS_EXPECTED;
            }
        return commands[i]->run(argc - 1, argv + 1);
    }
    cli_error("unknown command '%s' (see 'e3check --help')", argv[1]);
    return EXIT_USAGE;
}

/* ------------------------------------------------------------------ signals ---- */

static volatile sig_atomic_t finish_on_interrupt = 0;

/* SIGINT/SIGTERM: run and model note it and finish with status 2 and their reports; any
 * other command ends the default way (re-raised), so `e3check o3` stops at once. */
static void on_interrupt(int sig)
{
    cli_interrupted = sig;
    if (!finish_on_interrupt) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
}

/* True when the command (after the global option) is one that writes reports. */
static int command_reports(int argc, char **argv)
{
    int i = argc > 1 && strcmp(argv[1], "--jit-optimize") == 0 ? 2 : 1;
    return i < argc && (strcmp(argv[i], "run") == 0 || strcmp(argv[i], "model") == 0);
}

/* Installed before anything else (libtorch's first use included), so that a signal from
 * the start of main on gives a run status 2 and a report. The dynamic loader's work
 * before main (loading libtorch) is the one window where a signal kills the default way. */
static void install_signal_handlers(int argc, char **argv)
{
    finish_on_interrupt = command_reports(argc, argv);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigset_t unblock;
    sigemptyset(&unblock);
    /* also when ignored or blocked by whoever started us (a shell's background job ignores
     * SIGINT): a run asked to stop stops, says so and writes its reports; one already
     * pending is delivered here, to the handler */
    const int sigs[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; i++) {
        sigaction(sigs[i], &sa, NULL);
        sigaddset(&unblock, sigs[i]);
    }
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
}
