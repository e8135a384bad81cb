/* e3check — its own small seeded generator (splitmix64, pure C, independent of libtorch),
 * for what e3nn draws with Python's `random` (random irreps, batch sizes) and for atomic
 * structures. The state is any uint64_t seed; each draw advances it. */
#ifndef E3CHECK_RNG_H
#define E3CHECK_RNG_H

#include "e3check/export.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The next 64 random bits from *state (advanced). state must not be NULL. */
E3C_API uint64_t e3c_rng_next(uint64_t *state);

/** An integer uniform in [lo, hi] without modulo bias; one draw or more (rejection), none
 *  when hi < lo (then lo). */
E3C_API int e3c_rng_int(uint64_t *state, int lo, int hi);

/** A double uniform in [0, 1), from the top 53 bits of one draw. */
E3C_API double e3c_rng_unit(uint64_t *state);

#ifdef __cplusplus
}
#endif

#endif
