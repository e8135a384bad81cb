/* Reports: JSON, JUnit XML and Markdown, each written atomically. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "e3check/fixture.h"
#include "strbuf.h"
#include "e3check/file.h"
#include "e3check/report.h"

#ifndef E3C_VERSION
#define E3C_VERSION "unknown"
#endif

/* ------------------------------------------------------------------ UTF-8 ---- */

/* The length (1-4) of the well-formed UTF-8 character at `s`, or 0 when the bytes there
 * are not one (stray continuation, overlong form, surrogate, beyond U+10FFFF, cut short
 * by the terminating NUL). */
static size_t utf8_char(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0))
            return 0;
        return 3;
    }
    if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* A copy of `s` (NULL: "") with every byte that is not part of well-formed UTF-8 replaced
 * by U+FFFD; *replaced is incremented when any was. Caller frees; NULL when out of memory. */
static char *utf8_clean(const char *s, size_t *replaced)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    char *out = malloc(3 * n + 1), *o = out;
    if (!out)
        return NULL;
    int bad = 0;
    while (*p) {
        size_t k = utf8_char(p);
        if (k) {
            memcpy(o, p, k);
            o += k, p += k;
        } else {
            memcpy(o, replacement, 3);
            o += 3, p++;
            bad = 1;
        }
    }
    *o = '\0';
    *replaced += bad;
    return out;
}

/* Replace a cJSON string (value or key) by its cleaned copy when it needs one. */
static void clean_json_string(char **slot, size_t *replaced)
{
    size_t before = *replaced;
    char *c = utf8_clean(*slot, replaced);
    if (!c)
        return;
    if (*replaced != before) {
        char *copy = cJSON_malloc(strlen(c) + 1);
        if (copy) {
            strcpy(copy, c);
            cJSON_free(*slot);
            *slot = copy;
        }
    }
    free(c);
}

/* Clean every string and key of a JSON tree in place. */
static void clean_json(cJSON *j, size_t *replaced)
{
    for (; j; j = j->next) {
        if (j->valuestring && (cJSON_IsString(j) || cJSON_IsRaw(j)))
            clean_json_string(&j->valuestring, replaced);
        if (j->string && !(j->type & cJSON_StringIsConst))
            clean_json_string(&j->string, replaced);
        clean_json(j->child, replaced);
    }
}

/* Clean `buf` (capacity `cap`) in place, cutting the result at a character boundary. */
static void clean_in_place(char *buf, size_t cap, size_t *replaced)
{
    size_t before = *replaced;
    char *c = utf8_clean(buf, replaced);
    if (!c || *replaced == before) {
        free(c);
        return;
    }
    size_t n = strlen(c);
    if (n >= cap) {
        n = cap - 1;
        while (n && ((unsigned char)c[n] & 0xC0) == 0x80)
            n--; /* c[n] is where the cut falls: never inside a character */
    }
    memcpy(buf, c, n);
    buf[n] = '\0';
    free(c);
}

e3c_status e3c_report_add(e3c_report *r, const char *fixture, const char *file, const char *check, e3c_verdict expected,
                          e3c_check_result *result)
{
    if (!r || !result)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_report_add: NULL argument");
    if (!r->start_time[0]) { /* a report built by a program of its own still says when it began */
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(r->start_time, sizeof r->start_time, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
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
    e->fixture = utf8_clean(fixture, &r->invalid_utf8);
    e->file = utf8_clean(file, &r->invalid_utf8);
    e->check = utf8_clean(check, &r->invalid_utf8);
    e->expected = expected;
    e->result = *result;
    result->details = NULL;
    clean_in_place(e->result.message, sizeof e->result.message, &r->invalid_utf8);
    clean_json(e->result.details, &r->invalid_utf8);
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

size_t e3c_report_not_run(const e3c_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++)
        n += r->entries[i].result.status == E3C_SKIPPED && !strcmp(r->entries[i].result.message, E3C_REPORT_NOT_RUN);
    return n;
}

/* The report's notes (at most 2), written in every format: an interrupted run, bytes of
 * the input that were not UTF-8. */
static int report_notes(const e3c_report *r, char notes[2][200])
{
    int n = 0;
    if (r->interrupted) {
        size_t not_run = e3c_report_not_run(r);
        snprintf(notes[n++], sizeof notes[0], "the run was interrupted: %zu check%s not run (SKIPPED, \"%s\")", not_run,
                 not_run == 1 ? " was" : "s were", E3C_REPORT_NOT_RUN);
    }
    if (r->invalid_utf8)
        snprintf(notes[n++], sizeof notes[0],
                 "%zu name%s or message%s held bytes that are not UTF-8: each such byte is shown as U+FFFD",
                 r->invalid_utf8, r->invalid_utf8 == 1 ? "" : "s", r->invalid_utf8 == 1 ? "" : "s");
    return n;
}

/* A string of the environment (host name, ...), made valid UTF-8. */
static void add_clean_string(cJSON *o, const char *key, const char *value)
{
    size_t ignored = 0;
    char *c = utf8_clean(value, &ignored);
    cJSON_AddStringToObject(o, key, c ? c : "");
    free(c);
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
    add_clean_string(env, "host", host);
    add_clean_string(env, "start_time", r->start_time);
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
    char notes[2][200];
    int n_notes = report_notes(r, notes);
    cJSON *jn = cJSON_AddArrayToObject(j, "notes");
    for (int i = 0; i < n_notes; i++)
        cJSON_AddItemToArray(jn, cJSON_CreateString(notes[i]));
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
        cJSON_AddItemToObject(o, "details",
                              e->result.details ? cJSON_Duplicate(e->result.details, 1) : cJSON_CreateObject());
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
    if (!strcmp(path, "-")) {
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
            return e3c_error_set(E3C_ERR_IO, "cannot write to the standard output: %s", strerror(errno));
        return E3C_OK;
    }
    size_t n = strlen(path);
    if (n >= PATH_MAX) /* said before the name, which would fill the message and cut the reason */
        return e3c_error_set(E3C_ERR_IO,
                             "cannot write '%.60s...': the name is %zu bytes, longer than the system's "
                             "limit of %d",
                             path, n, PATH_MAX);
    make_parents(path);
    return e3c_file_write_atomic(path, text, len);
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

/* Text as XML character data or attribute value: markup escaped, characters XML 1.0
 * forbids (control characters but tab and newline, U+FFFE, U+FFFF) and bytes that are not
 * UTF-8 replaced (by a space, or U+FFFD). */
static void put_xml(strbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p;
        size_t k = utf8_char(p);
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
        else if (!k || (k == 3 && c == 0xEF && p[1] == 0xBF && p[2] >= 0xBE))
            sb_printf(b, "%s", replacement);
        else
            sb_printf(b, "%.*s", (int)k, (const char *)p);
        p += k ? k : 1;
    }
}

/* Append to `path` (created when missing); a FIFO without a reader is an error, not a hang. */
static e3c_status append_file(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0666);
    int err = fd < 0 ? errno : 0;
    if (!err) {
        int flags = fcntl(fd, F_GETFL);
        if (flags >= 0)
            fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        for (size_t done = 0; !err && done < len;) {
            ssize_t n = write(fd, text + done, len - done);
            if (n > 0)
                done += (size_t)n;
            else if (!(n < 0 && errno == EINTR))
                err = n < 0 ? errno : EIO;
        }
        if (close(fd) != 0 && !err)
            err = errno;
    }
    return err ? e3c_error_set(E3C_ERR_IO, "cannot append to '%s': %s", path, strerror(err)) : E3C_OK;
}

static e3c_status finish(strbuf *b, const char *path, int append)
{
    e3c_status st;
    if (b->oom || !b->s)
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory writing '%s'", path);
    else if (append)
        st = append_file(path, b->s, b->len);
    else
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
    char notes[2][200];
    int n_notes = report_notes(r, notes);
    sb_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    /* an interrupted run says so in its name, the headline a CI page shows */
    sb_printf(&b,
              "<testsuites name=\"e3check%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" "
              "time=\"%.3f\">\n",
              r->interrupted ? " (interrupted)" : "", s.total, failures, errors, s.skipped, r->duration_s);
    sb_printf(&b,
              "  <testsuite name=\"e3check%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" "
              "time=\"%.3f\" timestamp=\"",
              r->interrupted ? " (interrupted)" : "", s.total, failures, errors, s.skipped, r->duration_s);
    put_xml(&b, r->start_time);
    sb_printf(&b, "\">\n");
    if (n_notes) {
        sb_printf(&b, "    <properties>\n");
        if (r->interrupted)
            sb_printf(&b, "      <property name=\"interrupted\" value=\"true\"/>\n");
        for (int i = 0; i < n_notes; i++) {
            sb_printf(&b, "      <property name=\"note\" value=\"");
            put_xml(&b, notes[i]);
            sb_printf(&b, "\"/>\n");
        }
        sb_printf(&b, "    </properties>\n");
    }
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

/* Text in a Markdown table cell: no line break, no cell separator, no HTML tag. */
static void put_md_cell(strbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t k = utf8_char(p);
        if (*p == '|' || *p == '*' || *p == '_' || *p == '`' || *p == '[' || *p == ']' || *p == '\\')
            sb_printf(b, "\\%c", *p);
        else if (*p == '<')
            sb_printf(b, "&lt;");
        else if (*p == '>')
            sb_printf(b, "&gt;");
        else if (*p == '&')
            sb_printf(b, "&amp;");
        else if (*p < 0x20)
            sb_printf(b, " ");
        else if (!k)
            sb_printf(b, "%s", replacement);
        else
            sb_printf(b, "%.*s", (int)k, (const char *)p);
        p += k ? k : 1;
    }
}

/* Text inside a Markdown code span: no backtick (which would end it), no line break. */
static void put_md_code(strbuf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        sb_printf(b, "%c", *p == '`' ? '\'' : *p < 0x20 ? ' ' : *p);
}

/* A detail's number: JSON numbers, and the strings "nan", "inf", "-inf" that stand for
 * what JSON cannot hold; NAN when absent or anything else. */
static double detail_number(const cJSON *v)
{
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsString(v))
        return !strcmp(v->valuestring, "inf") ? INFINITY : !strcmp(v->valuestring, "-inf") ? -INFINITY : NAN;
    return NAN;
}

/* The worst error and the tolerance a result's details record, whichever check wrote
 * them; 0 when it recorded none. */
static int entry_margin(const cJSON *d, double *err, double *tol)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(d, "max_error");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(d, "tolerance");
    if (!t)
        t = cJSON_GetObjectItemCaseSensitive(d, "atol");
    const cJSON *irreps = cJSON_GetObjectItemCaseSensitive(d, "irreps"); /* normalized: per output irrep */
    if (!e && cJSON_IsArray(irreps) && t) {
        double worst = 0;
        const cJSON *i;
        cJSON_ArrayForEach(i, irreps) {
            double x = detail_number(cJSON_GetObjectItemCaseSensitive(i, "max_error"));
            worst = isnan(x) || isnan(worst) ? NAN : x > worst ? x : worst;
        }
        *err = worst, *tol = detail_number(t);
        return 1;
    }
    if (!e || !t) {
        e = cJSON_GetObjectItemCaseSensitive(d, "compiled_vs_eager_error");
        t = cJSON_GetObjectItemCaseSensitive(d, "compiled_vs_eager_tolerance");
    }
    if (!e || !t)
        return 0;
    *err = detail_number(e), *tol = detail_number(t);
    return 1;
}

/* `s` as one POSIX shell word inside a Markdown code span (quoted when it needs it). */
static void put_md_shell_word(strbuf *b, const char *s)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == strlen(s)) {
        put_md_code(b, s);
        return;
    }
    sb_printf(b, "'");
    for (; *s; s++)
        if (*s == '\'')
            sb_printf(b, "'\\''");
        else
            put_md_code(b, (char[]){*s, '\0'});
    sb_printf(b, "'");
}

/* A command that reruns the entry alone (e3check run FILE --name NAME [--check C --seed S]). */
static void put_md_reproduce(strbuf *b, const e3c_report_entry *e)
{
    if (!*e->file)
        return;
    sb_printf(b, "Reproduce: `e3check run ");
    put_md_shell_word(b, e->file);
    sb_printf(b, " --name ");
    put_md_shell_word(b, e->fixture);
    if (strcmp(e->check, "fixture") != 0)
        sb_printf(b, " --check %s --seed %llu", e->check, (unsigned long long)e->result.seed);
    sb_printf(b, "` (add the run's `--plugin` options)\n\n");
}

/* Equivariance details: a row per case with its worst error per output, and per irrep
 * block where the check recorded blocks; then the worst rotation of the worst case. */
static void put_md_cases(strbuf *b, const cJSON *cases, const cJSON *d)
{
    sb_printf(b, "| case | max error | tolerance | outputs (per irrep block) |\n| --- | ---: | ---: | --- |\n");
    const cJSON *c, *worst_case = NULL;
    double worst = -1;
    cJSON_ArrayForEach(c, cases) {
        double err = detail_number(cJSON_GetObjectItemCaseSensitive(c, "max_error"));
        double tol = detail_number(cJSON_GetObjectItemCaseSensitive(c, "tolerance"));
        if (isnan(tol))
            tol = detail_number(cJSON_GetObjectItemCaseSensitive(d, "tolerance"));
        if (isnan(err) || err > worst)
            worst = isnan(err) ? INFINITY : err, worst_case = c;
        sb_printf(b, "| parity_k=%d, translate=%s | %.3e | %.1e | ",
                  (int)detail_number(cJSON_GetObjectItemCaseSensitive(c, "parity_k")),
                  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "did_translate")) ? "yes" : "no", err, tol);
        const cJSON *outs = cJSON_GetObjectItemCaseSensitive(c, "outputs"), *o;
        int k = 0;
        cJSON_ArrayForEach(o, outs) {
            sb_printf(b, "%s", k ? "; " : "");
            if (o->string) { /* structured: output key -> error */
                put_md_cell(b, o->string);
                if (cJSON_IsNumber(o))
                    sb_printf(b, " %.3e", o->valuedouble);
                else
                    sb_printf(b, " absent");
            } else {
                sb_printf(b, "output %d: %.3e", k, detail_number(cJSON_GetObjectItemCaseSensitive(o, "max_error")));
                const cJSON *bl, *blocks = cJSON_GetObjectItemCaseSensitive(o, "blocks");
                int j = 0;
                cJSON_ArrayForEach(bl, blocks) {
                    const cJSON *ir = cJSON_GetObjectItemCaseSensitive(bl, "irreps");
                    sb_printf(b, "%s", j++ ? ", " : " (");
                    put_md_cell(b, cJSON_IsString(ir) ? ir->valuestring : "?");
                    sb_printf(b, " %.3e", detail_number(cJSON_GetObjectItemCaseSensitive(bl, "max_error")));
                }
                sb_printf(b, "%s", j ? ")" : "");
            }
            k++;
        }
        sb_printf(b, " |\n");
    }
    const cJSON *rot = cJSON_GetObjectItemCaseSensitive(worst_case, "worst_rotation");
    if (cJSON_GetArraySize(rot) == 3) {
        sb_printf(b, "\nWorst rotation (rows):");
        const cJSON *row, *x;
        cJSON_ArrayForEach(row, rot) {
            sb_printf(b, " [");
            int j = 0;
            cJSON_ArrayForEach(x, row)
                sb_printf(b, "%s%.6f", j++ ? ", " : "", detail_number(x));
            sb_printf(b, "]");
        }
        sb_printf(b, "\n");
    }
    sb_printf(b, "\n");
}

/* auto_jitable details: a row per step. */
static void put_md_steps(strbuf *b, const cJSON *steps)
{
    sb_printf(b, "| step | outcome | detail |\n| --- | --- | --- |\n");
    const cJSON *st;
    cJSON_ArrayForEach(st, steps) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(st, "step"),
                    *outcome = cJSON_GetObjectItemCaseSensitive(st, "outcome"),
                    *detail = cJSON_GetObjectItemCaseSensitive(st, "detail");
        sb_printf(b, "| ");
        put_md_cell(b, cJSON_IsString(name) ? name->valuestring : "?");
        sb_printf(b, " | ");
        put_md_cell(b, cJSON_IsString(outcome) ? outcome->valuestring : "?");
        sb_printf(b, " | ");
        put_md_cell(b, cJSON_IsString(detail) ? detail->valuestring : "");
        sb_printf(b, " |\n");
    }
    sb_printf(b, "\n");
}

/* One entry not as expected: what happened, the numbers that show where, and how to rerun it. */
static void put_md_failure(strbuf *b, const e3c_report_entry *e)
{
    sb_printf(b, "#### ");
    put_md_cell(b, e->fixture);
    sb_printf(b, " · ");
    put_md_cell(b, e->check);
    sb_printf(b, ": %s (expected %s)\n\n", e3c_verdict_name(e->result.status), expected_word(e->expected));
    sb_printf(b, "> ");
    put_md_cell(b, e->result.message);
    sb_printf(b, "\n\n");
    const cJSON *d = e->result.details;
    double err, tol;
    if (entry_margin(d, &err, &tol))
        sb_printf(b, "Worst error %.3e against a tolerance of %.1e (%s).\n\n", err, tol,
                  isnan(err)   ? "not a number"
                  : err <= tol ? "within"
                               : "over");
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(d, "cases"),
                *steps = cJSON_GetObjectItemCaseSensitive(d, "steps");
    if (cJSON_IsArray(cases) && cJSON_GetArraySize(cases))
        put_md_cases(b, cases, d);
    if (cJSON_IsArray(steps) && cJSON_GetArraySize(steps))
        put_md_steps(b, steps);
    sb_printf(b, "Seed %llu", (unsigned long long)e->result.seed);
    if (*e->file) {
        sb_printf(b, ", file `");
        put_md_code(b, e->file);
        sb_printf(b, "`");
    }
    sb_printf(b, ".\n\n");
    put_md_reproduce(b, e);
}

/* The margins of every check that recorded a worst error and a tolerance, closest first,
 * in a collapsible section: how near passing checks are to failing. */
static void put_md_margins(strbuf *b, const e3c_report *r)
{
    size_t n = 0;
    double err, tol;
    for (size_t i = 0; i < r->count; i++)
        n += entry_margin(r->entries[i].result.details, &err, &tol);
    if (!n)
        return;
    sb_printf(b, "<details><summary>Margins: worst error / tolerance of %zu check%s</summary>\n\n", n,
              n == 1 ? "" : "s");
    sb_printf(
        b,
        "| fixture | check | verdict | worst error | tolerance | ratio |\n| --- | --- | --- | ---: | ---: | ---: |\n");
    for (size_t i = 0; i < r->count; i++) {
        const e3c_report_entry *e = &r->entries[i];
        if (!entry_margin(e->result.details, &err, &tol))
            continue;
        sb_printf(b, "| ");
        put_md_cell(b, e->fixture);
        sb_printf(b, " | ");
        put_md_cell(b, e->check);
        sb_printf(b, " | %s%s | %.3e | %.1e | %.3g |\n", e3c_verdict_name(e->result.status),
                  e3c_report_entry_as_expected(e) ? "" : " (not as expected)", err, tol, tol > 0 ? err / tol : NAN);
    }
    sb_printf(b, "\n</details>\n\n");
}

e3c_status e3c_report_write_markdown(const e3c_report *r, const char *path, int append)
{
    e3c_report_summary s = e3c_report_summarize(r);
    strbuf b = {0};
    char notes[2][200];
    int n_notes = report_notes(r, notes);
    int expected_failures = 0; /* negative fixtures that failed or errored, as they must */
    for (size_t i = 0; i < r->count; i++)
        expected_failures += e3c_report_entry_as_expected(&r->entries[i]) &&
                             (r->entries[i].result.status == E3C_FAILED || r->entries[i].result.status == E3C_ERRORED);
    if (r->interrupted)
        sb_printf(&b, "## e3check: interrupted, %zu check%s not run\n\n", e3c_report_not_run(r),
                  e3c_report_not_run(r) == 1 ? "" : "s");
    else if (s.not_as_expected)
        sb_printf(&b, "## e3check: %d check%s not as expected\n\n", s.not_as_expected,
                  s.not_as_expected == 1 ? "" : "s");
    else
        sb_printf(&b, "## e3check: every check as expected\n\n");
    sb_printf(&b, "| total | as expected | not as expected | passed | failed | errored | skipped | time |\n");
    sb_printf(&b, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    sb_printf(&b, "| %d | %d | %d | %d | %d | %d | %d | %.2f s |\n\n", s.total, s.as_expected, s.not_as_expected,
              s.passed, s.failed, s.errored, s.skipped, r->duration_s);
    if (expected_failures > 0)
        sb_printf(&b,
                  "%d of the failed or errored checks are expected failures (negative fixtures that must fail), "
                  "and did fail as expected.\n\n",
                  expected_failures);
    if (r->has_seed)
        sb_printf(&b, "Run with `--seed %llu`.\n\n", (unsigned long long)r->seed);
    if (s.not_as_expected) {
        sb_printf(&b, "### Not as expected\n\n");
        for (size_t i = 0; i < r->count; i++)
            if (!e3c_report_entry_as_expected(&r->entries[i]))
                put_md_failure(&b, &r->entries[i]);
    }
    put_md_margins(&b, r);
    for (int i = 0; i < n_notes; i++)
        sb_printf(&b, "_Note: %s._\n\n", notes[i]);
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
