/* Thread-local last-error storage. */
#include "e3check/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A message holds three paths of PATH_MAX (4096) and its reason; a prefix one path and its words. */
enum { MESSAGE_CAP = 16384, DETAIL_CAP = 16384, PREFIX_CAP = 5120 };

static _Thread_local char last_message[MESSAGE_CAP];
static _Thread_local char last_detail[DETAIL_CAP];
static _Thread_local e3c_status last_status = E3C_OK;

/* The summary line of a multi-line message: libtorch tracebacks put the real error on
 * their last non-empty line ("RuntimeError: ..."), so prefer that when the first line is
 * an interpreter banner; otherwise keep every line, joined with "; ". */
static void fold_to_line(char *dst, size_t cap, const char *src)
{
    static const char banner[] = "The following operation failed in the TorchScript interpreter.";
    const char *at = strstr(src, banner);
    if (at) {
        const char *end = src + strlen(src);
        while (end > at && (end[-1] == '\n' || end[-1] == ' '))
            end--;
        const char *start = end;
        while (start > at && start[-1] != '\n')
            start--;
        snprintf(dst, cap, "%.*s%.*s", (int)(at - src), src, (int)(end - start), start);
        return;
    }
    size_t j = 0;
    int pending_sep = 0;
    for (const char *p = src; *p && j + 3 < cap; p++) {
        if (*p == '\n' || *p == '\r') {
            pending_sep = j > 0;
            continue;
        }
        if (pending_sep) {
            dst[j++] = ';';
            dst[j++] = ' ';
            pending_sep = 0;
            while (*p == ' ' || *p == '\t')
                p++;
            if (!*p)
                break;
        }
        dst[j++] = *p;
    }
    dst[j] = '\0';
}

const char *e3c_error_last(void) { return last_message; }

const char *e3c_error_detail(void) { return last_detail[0] ? last_detail : last_message; }

e3c_status e3c_error_last_status(void) { return last_status; }

static void store(e3c_status status, const char *text)
{
    snprintf(last_detail, sizeof last_detail, "%s", text);
    fold_to_line(last_message, sizeof last_message, last_detail);
    last_status = status;
}

e3c_status e3c_error_set(e3c_status status, const char *fmt, ...)
{
    char buf[DETAIL_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    store(status, buf);
    return status;
}

/* Write "prefix: text" into dst, truncating silently (messages are bounded). */
static void join_prefixed(char *dst, size_t cap, const char *prefix, const char *text)
{
    size_t np = strlen(prefix), nt = strlen(text);
    size_t j = 0;
    for (size_t i = 0; i < np && j + 1 < cap; i++)
        dst[j++] = prefix[i];
    for (size_t i = 0; i < 2 && j + 1 < cap; i++)
        dst[j++] = ": "[i];
    for (size_t i = 0; i < nt && j + 1 < cap; i++)
        dst[j++] = text[i];
    dst[j] = '\0';
}

e3c_status e3c_error_prefix(const char *fmt, ...)
{
    char prefix[PREFIX_CAP];
    char buf[DETAIL_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    join_prefixed(buf, MESSAGE_CAP, prefix, last_message);
    memcpy(last_message, buf, strlen(buf) + 1);
    if (last_detail[0]) {
        join_prefixed(buf, DETAIL_CAP, prefix, last_detail);
        memcpy(last_detail, buf, strlen(buf) + 1);
    }
    return last_status;
}

const char *e3c_status_name(e3c_status status)
{
    switch (status) {
    case E3C_OK: return "E3C_OK";
    case E3C_ERR_INVALID: return "E3C_ERR_INVALID";
    case E3C_ERR_VALUE: return "E3C_ERR_VALUE";
    case E3C_ERR_NOMEM: return "E3C_ERR_NOMEM";
    case E3C_ERR_IO: return "E3C_ERR_IO";
    case E3C_ERR_FORMAT: return "E3C_ERR_FORMAT";
    case E3C_ERR_TORCH: return "E3C_ERR_TORCH";
    case E3C_ERR_SCRIPT: return "E3C_ERR_SCRIPT";
    case E3C_ERR_NOT_FOUND: return "E3C_ERR_NOT_FOUND";
    case E3C_ERR_INTERNAL: return "E3C_ERR_INTERNAL";
    }
    return "E3C_ERR_UNKNOWN";
}
