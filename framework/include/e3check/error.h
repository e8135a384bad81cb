/* e3check — status codes and the thread-local last-error message.
 *
 * Every fallible function in e3check returns an e3c_status: E3C_OK (0) on success, a
 * negative E3C_ERR_* value on failure. On failure the function also leaves a one-line,
 * human-readable message in a thread-local slot that e3c_error_last() returns. The slot
 * is overwritten by the next failure on the same thread; success does not clear it.
 */
#ifndef E3CHECK_ERROR_H
#define E3CHECK_ERROR_H

#include "e3check/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Status codes. Zero is success; every error is negative. */
typedef enum e3c_status {
    E3C_OK = 0,
    E3C_ERR_INVALID = -1,   /**< an argument is invalid (NULL, out of range, bad shape) */
    E3C_ERR_VALUE = -2,     /**< a value e3nn would reject (irreps string, normalization) */
    E3C_ERR_NOMEM = -3,     /**< out of memory */
    E3C_ERR_IO = -4,        /**< a file could not be opened, read or written */
    E3C_ERR_FORMAT = -5,    /**< a file's contents are not what they must be */
    E3C_ERR_TORCH = -6,     /**< libtorch raised an error at run time */
    E3C_ERR_SCRIPT = -7,    /**< TorchScript source failed to compile */
    E3C_ERR_NOT_FOUND = -8, /**< a named method, attribute, file entry or type is absent */
    E3C_ERR_INTERNAL = -9   /**< an unexpected failure inside e3check or libtorch */
} e3c_status;

/** The last error message of this thread (one line, no trailing newline).
 *  Borrowed: valid until the next e3check call on this thread that fails. Never NULL
 *  ("" when no error occurred yet). */
E3C_API const char *e3c_error_last(void);

/** The full text of the last error (may span lines, e.g. a TorchScript traceback).
 *  Borrowed, like e3c_error_last(); equal to it when there is no longer text. */
E3C_API const char *e3c_error_detail(void);

/** The status of the last error on this thread (E3C_OK if none). */
E3C_API e3c_status e3c_error_last_status(void);

/** Record an error: formats the message (printf-style), folds it to one line for
 *  e3c_error_last(), keeps the unfolded text for e3c_error_detail(), and returns
 *  `status` so that callers can write `return e3c_error_set(E3C_ERR_VALUE, ...)`. */
E3C_API e3c_status e3c_error_set(e3c_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** Prefix the current last-error message with `prefix: ` (used to add context such as
 *  a file or module path as an error travels up). Returns the current status. */
E3C_API e3c_status e3c_error_prefix(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/** A static name for a status code ("E3C_ERR_VALUE"). */
E3C_API const char *e3c_status_name(e3c_status status);

#ifdef __cplusplus
}
#endif
#endif
