#include "e3check/rng.h"

uint64_t e3c_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int e3c_rng_int(uint64_t *state, int lo, int hi)
{
    if (hi < lo)
        return lo;
    /* draws at or above the last whole multiple of range are redrawn */
    uint64_t range = (uint64_t)((int64_t)hi - lo) + 1, limit = UINT64_MAX - UINT64_MAX % range, v;
    do
        v = e3c_rng_next(state);
    while (v >= limit);
    return (int)((int64_t)lo + (int64_t)(v % range));
}

double e3c_rng_unit(uint64_t *state) { return (double)(e3c_rng_next(state) >> 11) * (1.0 / 9007199254740992.0); }
