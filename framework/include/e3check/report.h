/* e3check — conformance reports: JSON (the reports/ schema), JUnit XML and Markdown. */
#ifndef E3CHECK_REPORT_H
#define E3CHECK_REPORT_H

#include "e3check/export.h"

#include <cjson/cJSON.h>
#include <stdint.h>

#include "e3check/checks.h"
#include "e3check/file.h"

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
    int interrupted;     /**< a signal stopped the run: every report's headline says so */
    size_t invalid_utf8; /**< strings added with bytes that were not UTF-8 (now U+FFFD) */
} e3c_report;

/** The message of a check an interrupted run never ran (its verdict is SKIPPED). */
#define E3C_REPORT_NOT_RUN "interrupted: not run"

/** Append an entry; takes over `result` (its details), also on failure. The first entry
 *  sets start_time to now when the caller left it empty (JUnit's timestamp). Every string
 *  (names, message, details) is made valid UTF-8 on the way in: bytes that are not are
 *  replaced by U+FFFD, counted in r->invalid_utf8, and the reports carry a note. */
E3C_API e3c_status e3c_report_add(e3c_report *r, const char *fixture, const char *file, const char *check,
                                  e3c_verdict expected, e3c_check_result *result);

/** True when the entry's status is the expected one. */
E3C_API int e3c_report_entry_as_expected(const e3c_report_entry *e);

/** Counts over the report. */
typedef struct e3c_report_summary {
    int passed, failed, errored, skipped, total, as_expected, not_as_expected;
} e3c_report_summary;

E3C_API e3c_report_summary e3c_report_summarize(const e3c_report *r);

/** The number of entries SKIPPED with E3C_REPORT_NOT_RUN. */
E3C_API size_t e3c_report_not_run(const e3c_report *r);

/** The JSON form (schema_version, environment, summary, notes, results). Caller owns it. */
E3C_API cJSON *e3c_report_to_json(const e3c_report *r);

/** Write the JSON report with e3c_write_file_atomic's rules ("-": the standard output). */
E3C_API e3c_status e3c_report_write_json(const e3c_report *r, const char *path);

/** Write JUnit XML (testsuites/testsuite/testcase; failure, error and skipped elements
 *  for checks not as expected; an interrupted run is named "e3check (interrupted)" and
 *  notes are properties), always well-formed, with e3c_write_file_atomic's rules. */
E3C_API e3c_status e3c_report_write_junit(const e3c_report *r, const char *path);

/** Write (or append to, with `append`) a Markdown summary: a headline (saying when the run
 *  was interrupted), a table of counts, one row per check not as expected, the notes.
 *  Written with e3c_write_file_atomic's rules unless appending. */
E3C_API e3c_status e3c_report_write_markdown(const e3c_report *r, const char *path, int append);

/** Free every entry. NULL-safe. */
E3C_API void e3c_report_free(e3c_report *r);

/** Write `text` to `path` as e3c_file_write_atomic does (atomic for a file or new name,
 *  through symbolic links, in place for a device or FIFO, never replacing one), creating
 *  the missing folders first; "-" writes to the standard output. E3C_ERR_IO naming it. */
E3C_API e3c_status e3c_write_file_atomic(const char *path, const char *text, size_t len);

#ifdef __cplusplus
}
#endif
#endif
