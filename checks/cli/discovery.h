/* Finding fixture files under the paths given to `e3check run`, without hanging on what is
 * not a regular file and visiting each folder once. */
#ifndef E3CHECK_DISCOVERY_H
#define E3CHECK_DISCOVERY_H

#include <stddef.h>

#include "e3check/error.h"

/** One thing found: a fixture file to read (error NULL), or a path that cannot be one and
 *  why (a one-line reason naming the path). */
typedef struct found_file {
    char *path;
    char *error;
} found_file;

/** What discover_fixtures found, in order (each folder's entries sorted by name). */
typedef struct found_files {
    found_file *items;
    size_t n, cap;
} found_files;

/** Append every fixture file under `path` (a file, or a folder searched recursively; names
 *  ending in .json but not .schema.json or .queries.json; hidden entries skipped) to *out.
 *  Symbolic links are followed, each folder (by device and inode) is visited once, and a
 *  missing path, a dangling or looping link, a FIFO, device or socket named *.json, or an
 *  unreadable folder is an entry with an error. E3C_ERR_NOMEM when out of memory (what was
 *  found stays in *out). Free *out with found_files_free. */
e3c_status discover_fixtures(const char *path, found_files *out);

/** Free what discover_fixtures found. NULL-safe. */
void found_files_free(found_files *f);

#endif
