/* e3check irreps STRING: what an irreps string means. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "e3check/irreps.h"

static void help(FILE *out)
{
    fputs("usage: e3check irreps STRING [STRING...]\n\n"
          "Parse each irreps string with e3nn's grammar and print its canonical form, dimension,\n"
          "number of irreps, lmax, simplified, sorted (with the permutation) and regrouped forms\n"
          "and the slice of every entry. An invalid string gets e3nn's message and the reason;\n"
          "the exit status is then 1.\n",
          out);
}

static void print_derived(const char *title, const e3c_irreps *ir, e3c_status (*op)(e3c_irreps *, const e3c_irreps *))
{
    e3c_irreps out;
    char *text = NULL;
    if (op(&out, ir) == E3C_OK && e3c_irreps_format(&text, &out) == E3C_OK)
        printf("%-11s %s\n", title, text[0] ? text : "(empty)");
    free(text);
    e3c_irreps_free(&out);
}

static int describe(const char *s)
{
    e3c_irreps ir;
    if (e3c_irreps_parse(&ir, s)) {
        cli_error("%s", e3c_error_last());
        return EXIT_NOT_EXPECTED;
    }
    char *text = NULL;
    int64_t *slices = NULL;
    size_t *p = NULL;
    e3c_irreps sorted = {0, NULL};
    int lmax;
    e3c_irreps_format(&text, &ir);
    printf("irreps      %s\n", text && text[0] ? text : "(empty)");
    printf("dim         %lld\n", (long long)e3c_irreps_dim(&ir));
    printf("num_irreps  %lld\n", (long long)e3c_irreps_num_irreps(&ir));
    if (e3c_irreps_lmax(&lmax, &ir) == E3C_OK)
        printf("lmax        %d\n", lmax);
    else
        printf("lmax        (none: %s)\n", e3c_error_last());
    print_derived("simplified", &ir, e3c_irreps_simplify);
    if (e3c_irreps_sort(&sorted, &p, NULL, &ir) == E3C_OK) {
        char *st = NULL;
        e3c_irreps_format(&st, &sorted);
        printf("sorted      %s  (p =", st && st[0] ? st : "(empty)");
        for (size_t i = 0; i < ir.len; i++)
            printf(" %zu", p[i]);
        printf(")\n");
        free(st);
    }
    print_derived("regrouped", &ir, e3c_irreps_regroup);
    if (e3c_irreps_slices(&slices, &ir) == E3C_OK) {
        printf("slices\n");
        for (size_t i = 0; i < ir.len; i++) {
            char irs[16];
            e3c_irrep_format(irs, sizeof irs, ir.items[i].ir);
            printf("  %lldx%-5s [%lld, %lld)\n", (long long)ir.items[i].mul, irs, (long long)slices[2 * i],
                   (long long)slices[2 * i + 1]);
        }
    }
    free(text);
    free(slices);
    free(p);
    e3c_irreps_free(&sorted);
    e3c_irreps_free(&ir);
    return EXIT_AS_EXPECTED;
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        cli_error("irreps: no string given (usage: e3check irreps STRING)");
        return EXIT_USAGE;
    }
    int rc = EXIT_AS_EXPECTED;
    for (int i = 1; i < argc; i++) {
        if (i > 1)
            putchar('\n');
        if (describe(argv[i]) != EXIT_AS_EXPECTED)
            rc = EXIT_NOT_EXPECTED;
    }
    return rc;
}

const cli_command cmd_irreps = {"irreps", "print what an irreps string means", run, help};
