/* e3check — conformance reports: JSON (the reports/ schema), JUnit XML and Markdown. */
#ifndef E3CHECK_REPORT_H
#define E3CHECK_REPORT_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "e3check/checks.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One fixture check in a report. */
typedef struct e3c_report_entry {
    char *fixture;
    char *file;
    char *check;
    e3c_verdict expected;
    e3c_check_result result; /* owned */
} e3c_report_entry;

/** A run's report; zero-initialise, fill with e3c_report_add, free with e3c_report_free. */
typedef struct e3c_report {
    e3c_report_entry *entries;
    size_t count, cap;
    int has_seed;
    uint64_t seed;
    char start_time[32]; /**< ISO 8601, UTC */
    double duration_s;
    int interrupted;
} e3c_report;

/** Append an entry; takes over `result` (its details), also on failure. */
e3c_status e3c_report_add(e3c_report *r, const char *fixture, const char *file, const char *check, e3c_verdict expected,
                          e3c_check_result *result);

/** True when the entry's status is the expected one. */
int e3c_report_entry_as_expected(const e3c_report_entry *e);

/** Counts over the report. */
typedef struct e3c_report_summary {
    int passed, failed, errored, skipped, total, as_expected, not_as_expected;
} e3c_report_summary;

e3c_report_summary e3c_report_summarize(const e3c_report *r);

/** The JSON form (schema_version, environment, summary, results). Caller owns it. */
cJSON *e3c_report_to_json(const e3c_report *r);

/** Write the JSON report atomically (a temporary file in the same folder, then rename);
 *  the folder is created when missing. On failure nothing is left at `path`. */
e3c_status e3c_report_write_json(const e3c_report *r, const char *path);

/** Write JUnit XML (testsuites/testsuite/testcase; failure, error and skipped elements
 *  for checks not as expected), atomically. */
e3c_status e3c_report_write_junit(const e3c_report *r, const char *path);

/** Write (or append to, with `append`) a Markdown summary: a table of counts, then one row
 *  per check not as expected. Written atomically unless appending. */
e3c_status e3c_report_write_markdown(const e3c_report *r, const char *path, int append);

/** Free every entry. NULL-safe. */
void e3c_report_free(e3c_report *r);

/** Write `text` to `path` atomically (temporary file + rename), creating the folder. */
e3c_status e3c_write_file_atomic(const char *path, const char *text, size_t len);

#ifdef __cplusplus
}
#endif
#endif
