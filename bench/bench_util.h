/* Timing helpers for e3check's benchmarks: medians of repeated runs, one line per
 * measurement as "NAME: MEDIAN ms". */
#ifndef E3CHECK_BENCH_UTIL_H
#define E3CHECK_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Time `body` (a statement) `reps` times and print the median under `name`. */
#define BENCH_MEDIAN(name, reps, body)                             \
    do {                                                           \
        double times_[256];                                        \
        int n_ = (reps) < 256 ? (reps) : 256;                      \
        for (int r_ = 0; r_ < n_; r_++) {                          \
            double t0_ = bench_now_ms();                           \
            body;                                                  \
            times_[r_] = bench_now_ms() - t0_;                     \
        }                                                          \
        printf("%s: %.4f ms\n", (name), bench_median(times_, n_)); \
        fflush(stdout);                                            \
    } while (0)

#endif
