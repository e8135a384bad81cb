/* e3check model FILE --preset P --record OUT.json: a fixture file holding the golden check
 * of the model's current outputs. */
#ifndef E3CHECK_CLI_RECORD_H
#define E3CHECK_CLI_RECORD_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "e3check/fixture.h"

/** 1 when OUT can take a fixture file: a regular file, or a new name in an existing
 *  folder; otherwise a one-line error is printed and 0 returned (nothing is written). */
int record_target_ok(const char *out_path);

/** Run each structured fixture's model (paths absolute) once, in a child process with the
 *  time limit of `rs`, on the seeded structure its checks use (rs's seed, else 0), and
 *  write OUT atomically: a list of the fixtures, paths relative to OUT's folder, each with
 *  only the golden check of what the model gave (the preset's other checks turned off).
 *  The exit status: 0 written, 1 a model could not be recorded or OUT not written (a
 *  one-line error; an existing OUT is left as it was), 2 interrupted. */
int record_golden(const char *out_path, cJSON *const *fixtures, size_t n, const e3c_run_settings *rs);

#endif
