/* e3check — reading input files safely, and writing output files without damaging what is
 * already there. */
#ifndef E3CHECK_FILE_H
#define E3CHECK_FILE_H

#include "e3check/export.h"

#include <stddef.h>

#include "e3check/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Write `len` bytes of `data` to `path` without ever leaving a damaged or replaced file:
 *  - a regular file or a new path is written atomically: a temporary file in the same
 *    folder (named `.NAME.e3c-tmp.PID.N`), flushed to disk, then renamed over `path`
 *    (an existing file's permissions are kept);
 *  - a symbolic link is followed and its final target written the same way (the link
 *    stays a link);
 *  - a character device, FIFO or socket is opened and written in place, never renamed
 *    over (a FIFO without a reader is an error, not a hang); a folder or a block device
 *    is refused.
 *  Temporary files left by a killed e3check (their process is gone) beside the target
 *  are removed first (also the `NAME.tmp-PID` of earlier versions). The folder is NOT
 *  created. E3C_ERR_IO naming `path` and the reason on failure; a regular target is then
 *  unchanged. */
E3C_API e3c_status e3c_file_write_atomic(const char *path, const void *data, size_t len);

/** 1 when `a` and `b` name the same file (after following symbolic links: the same device
 *  and inode for existing files, the same resolved path for new ones), else 0. "-" (the
 *  standard output) is the same only as "-". */
E3C_API int e3c_file_same(const char *a, const char *b);

/** Read the regular file `path` (at most `max_bytes`) into *text, NUL-terminated, its
 *  length in *len; the caller frees *text. Opened without blocking: a FIFO, device, socket or
 *  folder is E3C_ERR_IO naming the path (never waited on), a larger file E3C_ERR_VALUE, a
 *  file that grows meanwhile is read up to the size it had. On error *text is NULL. */
E3C_API e3c_status e3c_file_read(char **text, size_t *len, const char *path, size_t max_bytes);

#ifdef __cplusplus
}
#endif
#endif
