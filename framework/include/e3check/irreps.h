/* e3check — irreducible representations of O(3) and their direct sums, as e3nn's
 * `o3.Irrep` and `o3.Irreps` (e3nn 0.5.6): same grammar, same canonical text, same
 * results and errors.
 *
 * An e3c_irreps is a plain value: an array of (mul, l, p) entries that the caller owns and
 * frees with e3c_irreps_free(). Functions that produce an e3c_irreps fill a caller-provided
 * struct; on failure it is left empty ({0, NULL}).
 */
#ifndef E3CHECK_IRREPS_H
#define E3CHECK_IRREPS_H

#include "e3check/export.h"

#include <stddef.h>
#include <stdint.h>

#include "e3check/error.h"
#include "e3check/torch.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One irrep: degree l >= 0 and parity p = +1 (even, "e") or -1 (odd, "o"). */
typedef struct e3c_irrep {
    int l;
    int p;
} e3c_irrep;

/** One entry of an Irreps: `mul` copies of `ir`. */
typedef struct e3c_mulir {
    int64_t mul;
    e3c_irrep ir;
} e3c_mulir;

/** A direct sum of irreps, entries in order (not sorted, not merged). Caller-owned. */
typedef struct e3c_irreps {
    size_t len;
    e3c_mulir *items;
} e3c_irreps;

/** Normalization of random irreps tensors and spherical harmonics. */
typedef enum e3c_normalization {
    E3C_NORM_COMPONENT = 0, /**< each component has unit variance / |Y^l|^2 = 2l+1 */
    E3C_NORM_NORM = 1,      /**< each irrep copy has unit norm */
    E3C_NORM_INTEGRAL = 2   /**< spherical harmonics only: unit L2 norm on the sphere */
} e3c_normalization;

/** Largest multiplicity e3check's irreps accept (2^40), so that dimensions stay exact in
 *  64-bit arithmetic. */
#define E3C_IRREPS_MAX_MUL ((int64_t)1 << 40)

/** Largest l e3check's irreps accept (Wigner D is exact to this degree). */
#define E3C_IRREP_LMAX 1000

/** Parse one irrep ("1o", " 2e ", "3y", "+1e", "1_0e") as e3nn's Irrep(str) does.
 *  E3C_ERR_VALUE with e3nn's message ('unable to convert string "..." into an Irrep')
 *  followed by the reason. */
E3C_API e3c_status e3c_irrep_parse(e3c_irrep *out, const char *s);

/** Write "1o" / "2e" into buf (always NUL-terminated; 16 bytes suffice). */
E3C_API void e3c_irrep_format(char *buf, size_t cap, e3c_irrep ir);

/** Dimension 2l+1. */
static inline int64_t e3c_irrep_dim(e3c_irrep ir) { return 2 * (int64_t)ir.l + 1; }

/** e3nn's ordering of irreps: by l, then odd before even (0o < 0e < 1o < 1e). */
E3C_API int e3c_irrep_compare(e3c_irrep a, e3c_irrep b);

/** Parse an Irreps string with e3nn's grammar ("2x0e + 1x1o", "", "1e+1e", "1_0x0e").
 *  E3C_ERR_VALUE with e3nn's message ('Unable to convert string "..." into an Irreps')
 *  followed by the reason. Caller owns *out (e3c_irreps_free). */
E3C_API e3c_status e3c_irreps_parse(e3c_irreps *out, const char *s);

/** Build from an array of entries (copied). mul must be >= 0, l >= 0, p = +-1. */
E3C_API e3c_status e3c_irreps_from_entries(e3c_irreps *out, const e3c_mulir *items, size_t len);

/** Free the entries and reset to empty. NULL-safe. */
E3C_API void e3c_irreps_free(e3c_irreps *irreps);

/** A copy. Caller owns *out. */
E3C_API e3c_status e3c_irreps_copy(e3c_irreps *out, const e3c_irreps *irreps);

/** e3nn's canonical text ("2x0e+1x1o", "" when empty). Caller owns *out (free()). */
E3C_API e3c_status e3c_irreps_format(char **out, const e3c_irreps *irreps);

/** Entry-wise equality (as e3nn: "1e" == "1x1e", "0x1e" != ""). */
E3C_API int e3c_irreps_equal(const e3c_irreps *a, const e3c_irreps *b);

/** Sum of mul * (2l+1). */
E3C_API int64_t e3c_irreps_dim(const e3c_irreps *irreps);

/** Sum of mul. */
E3C_API int64_t e3c_irreps_num_irreps(const e3c_irreps *irreps);

/** Largest l over entries with mul > 0. E3C_ERR_VALUE for an empty Irreps ("Cannot get
 *  lmax of empty Irreps") and for one whose multiplicities are all zero. */
E3C_API e3c_status e3c_irreps_lmax(int *out, const e3c_irreps *irreps);

/** Each l repeated mul times. Caller owns *out (free()); *n gets the count. */
E3C_API e3c_status e3c_irreps_ls(int **out, size_t *n, const e3c_irreps *irreps);

/** Offset of entry i (0 <= i <= len) in the flat layout: the dimension of entries 0..i-1. */
E3C_API int64_t e3c_irreps_offset(const e3c_irreps *irreps, size_t i);

/** Start and stop offset of every entry: out[2i], out[2i+1]. Caller owns *out (free()). */
E3C_API e3c_status e3c_irreps_slices(int64_t **out, const e3c_irreps *irreps);

/** Total multiplicity of `ir`. */
E3C_API int64_t e3c_irreps_count(const e3c_irreps *irreps, e3c_irrep ir);

/** True when some entry (even with mul 0) has irrep `ir`. */
E3C_API int e3c_irreps_contains(const e3c_irreps *irreps, e3c_irrep ir);

/** Concatenation a + b. Caller owns *out. */
E3C_API e3c_status e3c_irreps_concat(e3c_irreps *out, const e3c_irreps *a, const e3c_irreps *b);

/** The entry list repeated n >= 0 times. Caller owns *out. */
E3C_API e3c_status e3c_irreps_repeat(e3c_irreps *out, const e3c_irreps *a, int64_t n);

/** e3nn's simplify(): merge runs of equal neighbours, drop zero multiplicities. */
E3C_API e3c_status e3c_irreps_simplify(e3c_irreps *out, const e3c_irreps *a);

/** Drop the entries with mul == 0. */
E3C_API e3c_status e3c_irreps_remove_zero_multiplicities(e3c_irreps *out, const e3c_irreps *a);

/** e3nn's sort(): stable sort by irrep. `p[i]` = new position of entry i, `inv[k]` =
 *  old position of sorted entry k; both caller-owned arrays of a->len (free()), and may
 *  be NULL when not wanted. */
E3C_API e3c_status e3c_irreps_sort(e3c_irreps *out, size_t **p, size_t **inv, const e3c_irreps *a);

/** e3nn's regroup() = sort().irreps.simplify(). */
E3C_API e3c_status e3c_irreps_regroup(e3c_irreps *out, const e3c_irreps *a);

/** Irreps.spherical_harmonics(lmax, p): 1x0e + 1x1(p) + ... with parity p**l. */
E3C_API e3c_status e3c_irreps_spherical_harmonics(e3c_irreps *out, int lmax, int p);

/** Parameters of e3c_random_irreps, as e3nn's random_irreps; initialise with
 *  E3C_RANDOM_IRREPS_OPTIONS_INIT (e3nn's defaults). */
typedef struct e3c_random_irreps_options {
    int lmax;    /**< degrees uniform in 0..lmax (4) */
    int mul_min; /**< multiplicities uniform in mul_min..mul_max (0..5) */
    int mul_max;
    int len_min; /**< number of entries uniform in len_min..len_max (0..4) */
    int len_max;
    int allow_empty; /**< 0: at least one entry and one irrep (1) */
} e3c_random_irreps_options;
/* clang-format off */
#define E3C_RANDOM_IRREPS_OPTIONS_INIT {4, 0, 5, 0, 4, 1}
/* clang-format on */
/** One random Irreps with e3nn's random_irreps distributions: len uniform in
 *  len_min..len_max, each entry (mul uniform, (l uniform, parity +-1 with equal odds)),
 *  not sorted or simplified, zero multiplicities allowed; without allow_empty, len_min is
 *  raised to 1 and an all-zero draw gets its last multiplicity redrawn in 1..mul_max.
 *  Draws from e3check's own generator `*state` (any seed; advanced). E3C_ERR_VALUE for
 *  parameters e3nn would reject. Caller owns *out. */
E3C_API e3c_status e3c_random_irreps(e3c_irreps *out, const e3c_random_irreps_options *opt, uint64_t *state);

/** Parse "component" / "norm" / "integral". */
E3C_API e3c_status e3c_normalization_parse(e3c_normalization *out, const char *name);

/** Random features like e3nn's Irreps.randn(*size, normalization=..., dtype=...):
 *  `size` holds `ndim` entries, exactly one of which is -1 (replaced by the dimension;
 *  only the first -1 counts, as in e3nn). component: one randn call; norm: one randn per
 *  entry, normalized over 2l+1. Draws come from `g` in e3nn's order, so the same seed
 *  gives the same bits. Caller owns *out. */
E3C_API e3c_status e3c_irreps_randn(e3c_tensor **out, const e3c_irreps *irreps, e3c_generator *g, const int64_t *size,
                                    int ndim, e3c_normalization normalization, e3c_dtype dtype);

#ifdef __cplusplus
}
#endif
#endif
