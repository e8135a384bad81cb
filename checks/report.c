/* Reports: JSON, JUnit XML and Markdown, each written atomically. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e3check/fixture.h"
#include "../framework/core/strbuf.h"
#include "e3check/report.h"

#ifndef E3C_VERSION
#define E3C_VERSION "unknown"
#endif

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

e3c_status e3c_report_add(e3c_report *r, const char *fixture, const char *file, const char *check, e3c_verdict expected,
                          e3c_check_result *result)
{
    if (!r || !result)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_report_add: NULL argument");
    if (r->count == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        e3c_report_entry *e = realloc(r->entries, cap * sizeof *e);
        if (!e) {
            e3c_check_result_free(result);
            return e3c_error_set(E3C_ERR_NOMEM, "out of memory for the report");
        }
        r->entries = e;
        r->cap = cap;
    }
    e3c_report_entry *e = &r->entries[r->count];
    e->fixture = dup_or_empty(fixture);
    e->file = dup_or_empty(file);
    e->check = dup_or_empty(check);
    e->expected = expected;
    e->result = *result;
    result->details = NULL;
    if (!e->fixture || !e->file || !e->check) {
        free(e->fixture), free(e->file), free(e->check);
        e3c_check_result_free(&e->result);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for the report");
    }
    r->count++;
    return E3C_OK;
}

int e3c_report_entry_as_expected(const e3c_report_entry *e) { return e->result.status == e->expected; }

e3c_report_summary e3c_report_summarize(const e3c_report *r)
{
    e3c_report_summary s = {0, 0, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < r->count; i++) {
        const e3c_report_entry *e = &r->entries[i];
        s.passed += e->result.status == E3C_PASSED;
        s.failed += e->result.status == E3C_FAILED;
        s.errored += e->result.status == E3C_ERRORED;
        s.skipped += e->result.status == E3C_SKIPPED;
        s.as_expected += e3c_report_entry_as_expected(e);
    }
    s.total = (int)r->count;
    s.not_as_expected = s.total - s.as_expected;
    return s;
}

static const char *expected_word(e3c_verdict v)
{
    return v == E3C_FAILED ? "fail" : v == E3C_ERRORED ? "error" : v == E3C_SKIPPED ? "skip" : "pass";
}

cJSON *e3c_report_to_json(const e3c_report *r)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddNumberToObject(j, "schema_version", 1);
    cJSON *env = cJSON_AddObjectToObject(j, "environment");
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    cJSON_AddStringToObject(env, "e3check_version", E3C_VERSION);
    cJSON_AddStringToObject(env, "libtorch_version", e3c_torch_version());
    if (r->has_seed)
        cJSON_AddNumberToObject(env, "seed", (double)r->seed);
    else
        cJSON_AddNullToObject(env, "seed");
    cJSON_AddStringToObject(env, "dtype_default", "float32");
    cJSON_AddStringToObject(env, "host", host);
    cJSON_AddStringToObject(env, "start_time", r->start_time);
    cJSON_AddBoolToObject(env, "interrupted", r->interrupted);
    e3c_report_summary s = e3c_report_summarize(r);
    cJSON *sum = cJSON_AddObjectToObject(j, "summary");
    cJSON_AddNumberToObject(sum, "passed", s.passed);
    cJSON_AddNumberToObject(sum, "failed", s.failed);
    cJSON_AddNumberToObject(sum, "errored", s.errored);
    cJSON_AddNumberToObject(sum, "skipped", s.skipped);
    cJSON_AddNumberToObject(sum, "total", s.total);
    cJSON_AddNumberToObject(sum, "as_expected", s.as_expected);
    cJSON_AddNumberToObject(sum, "not_as_expected", s.not_as_expected);
    cJSON_AddNumberToObject(sum, "duration_s", r->duration_s);
    cJSON *results = cJSON_AddArrayToObject(j, "results");
    for (size_t i = 0; i < r->count; i++) {
        const e3c_report_entry *e = &r->entries[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "fixture", e->fixture);
        cJSON_AddStringToObject(o, "file", e->file);
        cJSON_AddStringToObject(o, "check", e->check);
        cJSON_AddStringToObject(o, "status", e3c_verdict_name(e->result.status));
        cJSON_AddStringToObject(o, "expected", expected_word(e->expected));
        cJSON_AddBoolToObject(o, "as_expected", e3c_report_entry_as_expected(e));
        cJSON_AddStringToObject(o, "message", e->result.message);
        cJSON_AddNumberToObject(o, "duration_s", e->result.duration_s);
        cJSON_AddNumberToObject(o, "seed", (double)e->result.seed);
        cJSON_AddItemToObject(o, "details", e->result.details ? cJSON_Duplicate(e->result.details, 1) : cJSON_CreateObject());
        cJSON_AddItemToArray(results, o);
    }
    return j;
}

/* Create every missing folder of `path`'s parent. */
static void make_parents(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0777);
            *p = '/';
        }
}

e3c_status e3c_write_file_atomic(const char *path, const char *text, size_t len)
{
    if (!path || (len && !text))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_write_file_atomic: NULL argument");
    make_parents(path);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return e3c_error_set(E3C_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    int ok = fwrite(text, 1, len, f) == len;
    ok &= fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        return e3c_error_set(E3C_ERR_IO, "cannot write '%s': %s", path, strerror(err));
    }
    return E3C_OK;
}

e3c_status e3c_report_write_json(const e3c_report *r, const char *path)
{
    cJSON *j = e3c_report_to_json(r);
    char *text = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (!text)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory printing the report");
    e3c_status st = e3c_write_file_atomic(path, text, strlen(text));
    free(text);
    return st;
}

/* Reports are built in a strbuf (framework/core/strbuf.h). */

static void put_xml(strbuf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '&')
            sb_printf(b, "&amp;");
        else if (c == '<')
            sb_printf(b, "&lt;");
        else if (c == '>')
            sb_printf(b, "&gt;");
        else if (c == '"')
            sb_printf(b, "&quot;");
        else if (c == '\'')
            sb_printf(b, "&apos;");
        else if (c < 0x20 && c != '\t' && c != '\n')
            sb_printf(b, " ");
        else
            sb_printf(b, "%c", c);
    }
}

static e3c_status finish(strbuf *b, const char *path, int append)
{
    e3c_status st;
    if (b->oom || !b->s)
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory writing '%s'", path);
    else if (append) {
        FILE *f = fopen(path, "ab");
        st = f && fwrite(b->s, 1, b->len, f) == b->len && fclose(f) == 0
                 ? E3C_OK
                 : e3c_error_set(E3C_ERR_IO, "cannot append to '%s': %s", path, strerror(errno));
    } else
        st = e3c_write_file_atomic(path, b->s, b->len);
    free(b->s);
    return st;
}

e3c_status e3c_report_write_junit(const e3c_report *r, const char *path)
{
    e3c_report_summary s = e3c_report_summarize(r);
    int failures = 0, errors = 0;
    for (size_t i = 0; i < r->count; i++)
        if (!e3c_report_entry_as_expected(&r->entries[i])) {
            if (r->entries[i].result.status == E3C_ERRORED)
                errors++;
            else if (r->entries[i].result.status != E3C_SKIPPED)
                failures++;
        }
    strbuf b = {0};
    sb_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    sb_printf(&b, "<testsuites name=\"e3check\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
        s.total, failures, errors, s.skipped, r->duration_s);
    sb_printf(&b, "  <testsuite name=\"e3check\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\" timestamp=\"%s\">\n",
        s.total, failures, errors, s.skipped, r->duration_s, r->start_time);
    for (size_t i = 0; i < r->count; i++) {
        const e3c_report_entry *e = &r->entries[i];
        sb_printf(&b, "    <testcase classname=\"");
        put_xml(&b, e->fixture);
        sb_printf(&b, "\" name=\"");
        put_xml(&b, e->check);
        sb_printf(&b, "\" file=\"");
        put_xml(&b, e->file);
        sb_printf(&b, "\" time=\"%.3f\"", e->result.duration_s);
        if (e->result.status == E3C_SKIPPED) {
            sb_printf(&b, ">\n      <skipped message=\"");
            put_xml(&b, e->result.message);
            sb_printf(&b, "\"/>\n    </testcase>\n");
        } else if (!e3c_report_entry_as_expected(e)) {
            const char *tag = e->result.status == E3C_ERRORED ? "error" : "failure";
            sb_printf(&b, ">\n      <%s message=\"expected %s, got %s: ", tag, expected_word(e->expected),
                e3c_verdict_name(e->result.status));
            put_xml(&b, e->result.message);
            sb_printf(&b, "\" type=\"%s\">", e3c_verdict_name(e->result.status));
            put_xml(&b, e->result.message);
            sb_printf(&b, "</%s>\n    </testcase>\n", tag);
        } else {
            sb_printf(&b, "/>\n");
        }
    }
    sb_printf(&b, "  </testsuite>\n</testsuites>\n");
    return finish(&b, path, 0);
}

static void put_md_cell(strbuf *b, const char *s)
{
    for (; *s; s++)
        sb_printf(b, *s == '|' ? "\\|" : *s == '\n' ? " " : "%c", *s);
}

e3c_status e3c_report_write_markdown(const e3c_report *r, const char *path, int append)
{
    e3c_report_summary s = e3c_report_summarize(r);
    strbuf b = {0};
    sb_printf(&b, "## e3check: %s\n\n", s.not_as_expected ? "some checks not as expected" : "every check as expected");
    sb_printf(&b, "| total | passed | failed | errored | skipped | as expected | not as expected | time |\n");
    sb_printf(&b, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    sb_printf(&b, "| %d | %d | %d | %d | %d | %d | %d | %.2f s |\n\n", s.total, s.passed, s.failed, s.errored, s.skipped,
        s.as_expected, s.not_as_expected, r->duration_s);
    if (s.not_as_expected) {
        sb_printf(&b, "| fixture | check | expected | got | message |\n| --- | --- | --- | --- | --- |\n");
        for (size_t i = 0; i < r->count; i++) {
            const e3c_report_entry *e = &r->entries[i];
            if (e3c_report_entry_as_expected(e))
                continue;
            sb_printf(&b, "| ");
            put_md_cell(&b, e->fixture);
            sb_printf(&b, " | %s | %s | %s | ", e->check, expected_word(e->expected), e3c_verdict_name(e->result.status));
            put_md_cell(&b, e->result.message);
            sb_printf(&b, " |\n");
        }
        sb_printf(&b, "\n");
    }
    if (r->interrupted)
        sb_printf(&b, "_The run was interrupted: the table covers the checks that finished._\n\n");
    return finish(&b, path, append);
}

void e3c_report_free(e3c_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++) {
        free(r->entries[i].fixture), free(r->entries[i].file), free(r->entries[i].check);
        e3c_check_result_free(&r->entries[i].result);
    }
    free(r->entries);
    r->entries = NULL;
    r->count = r->cap = 0;
}
