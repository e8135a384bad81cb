/* Shared helpers for e3check's Criterion tests. */
#ifndef E3CHECK_TEST_UTIL_H
#define E3CHECK_TEST_UTIL_H

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e3check/error.h"

/** Assert that an e3check call succeeded; on failure print the call and the last error. */
#define E3C_ASSERT_OK(expr)                                                                                      \
    do {                                                                                                         \
        e3c_status st_ = (expr);                                                                                 \
        cr_assert_eq(st_, E3C_OK, "%s%s -> %s: %s", test_case(), #expr, e3c_status_name(st_), e3c_error_last()); \
    } while (0)

/** Assert that an e3check call failed with `status` and a message containing `needle`. */
#define E3C_ASSERT_FAILS(expr, status, needle)                                                              \
    do {                                                                                                    \
        e3c_status st_ = (expr);                                                                            \
        cr_assert_eq(st_, (status), "%s%s -> %s (%s), wanted %s", test_case(), #expr, e3c_status_name(st_), \
                     e3c_error_last(), e3c_status_name(status));                                            \
        cr_assert(strstr(e3c_error_last(), (needle)) != NULL, "%smessage \"%s\" lacks \"%s\"", test_case(), \
                  e3c_error_last(), (needle));                                                              \
        cr_assert(strchr(e3c_error_last(), '\n') == NULL, "%smessage is not one line", test_case());        \
    } while (0)

/** Criterion parameters 0 .. n-1 (size_t, in Criterion's shared memory) for a
 *  ParameterizedTest over the n cases of a table: each case runs in its own process and
 *  passes or fails on its own. */
struct criterion_test_params case_indices(size_t n);

/** Case `index` of `table` (a JSON array or object named `what` in messages), after
 *  asserting that the table holds exactly `n` cases, the number of parameters (a case added
 *  to the data must be added to the test, never skipped). Names the case for test_case():
 *  `what` and its key, or its "name" member, or its index. Borrowed from `table`. */
const cJSON *table_case(const cJSON *table, const char *what, size_t index, size_t n);

/** Name the table case this test process runs (printf format); NULL: none. */
void set_test_case(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** "NAME: " for the case named by set_test_case or table_case, "" when none: the prefix of
 *  E3C_ASSERT_* messages, and of a table test's own ones. */
const char *test_case(void);

/** Path of a file under the repository's tests/data/ (e3nn's golden values, test files).
 *  Returns a static buffer. */
const char *data_path(const char *relative);

/** Path of a file under ../shared (E3C_SHARED_DIR overrides the build-time default), for
 *  the optional cross-checks only (test_shared): no other test may read it. Returns a
 *  static buffer. */
const char *shared_path(const char *relative);

/** The directory of the test models, made on first use in this process's temporary
 *  directory with e3check's own C API (tests/model_zoo.c): NAME.pt TorchScript files, good
 *  and deliberately broken, each with a fixture NAME.json holding its expected verdicts.
 *  Returns a static buffer; aborts the test when a model cannot be made. */
const char *zoo_dir(void);

/** zoo_dir()/file (static buffer). */
const char *zoo_path(const char *file);

/** Run every check of every fixture file directly in `dir` (each check isolated in a
 *  child process, with the fixture's time limit), log each verdict that differs from the
 *  fixture's `expect`, add the number of checks run to *checked and return the number of
 *  differences. */
int fixture_verdict_mismatches(const char *dir, int *checked);

/** Parse a JSON file; aborts the test when it cannot. Caller owns (cJSON_Delete). */
cJSON *load_json(const char *path);

/** |a - b| <= tol * max(1, |b|). */
int close_rel(double a, double b, double tol);

/** Flatten a nested JSON array of numbers into out (room for cap); returns the count. */
size_t json_flatten(const cJSON *item, double *out, size_t cap);

/** A fresh temporary directory for this test process (static buffer). */
const char *test_tmpdir(void);

/** Validate `doc` against the subset of JSON Schema that e3check's schemas use (type,
 *  const, enum, required, properties, additionalProperties, items, minimum, maximum,
 *  exclusiveMinimum, minLength). Returns NULL when valid, else a static message naming
 *  the path. */
const char *schema_violation(const cJSON *schema, const cJSON *doc);

/** What a program run printed and its exit status. */
typedef struct run_result {
    int status;
    char out[1 << 18];
    char err[1 << 14];
} run_result;

/** Read at most cap - 1 bytes of `path` into buf, NUL-terminated (empty when unreadable). */
char *slurp(const char *path, char *buf, size_t cap);

/** Run `PROGRAM ARGS` through the shell in folder `cwd` (NULL: here) with `input` on
 *  standard input (NULL: none), capturing both streams; the test fails if it does not exit
 *  normally. The result is a static buffer, overwritten by the next call. */
run_result *run_program(const char *cwd, const char *program, const char *args, const char *input);

/** An e3check usage or input error: non-zero status, one line on stderr starting
 *  "e3check: " and holding `needle`, and no C++ exception escaping. */
void assert_one_line_error(const run_result *r, const char *needle);

#endif
