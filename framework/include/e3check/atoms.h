/* e3check — atomic structures: a seeded generator, the neighbour list with periodic
 * images, batching, and the structure's fields as tensors (the inputs of an interatomic
 * potential). Lengths in the unit of the cell and of r_max (Angstrom for real models).
 *
 * Conventions (NequIP's and MACE's): the cell's rows are the lattice vectors; an edge
 * (i, j) with integer image offset S has the vector pos[j] - pos[i] + S @ cell; edge_index
 * row 0 holds i (the centre, MACE's sender), row 1 holds j.
 */
#ifndef E3CHECK_ATOMS_H
#define E3CHECK_ATOMS_H

#include "e3check/export.h"

#include <stddef.h>
#include <stdint.h>

#include "e3check/torch.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One or several atomic structures (a batch) with their neighbour list. All arrays are
 *  owned by the structure; free it with e3c_structure_free(). */
typedef struct e3c_structure {
    int64_t n_atoms;      /**< over the whole batch */
    int n_species;        /**< species indices are 0..n_species-1 */
    double *positions;    /**< [n_atoms][3] */
    int64_t *species;     /**< [n_atoms] */
    int64_t n_structures; /**< B >= 1 */
    int64_t *ptr;         /**< [B + 1]: atoms of structure b are ptr[b]..ptr[b+1]-1 */
    int64_t *batch;       /**< [n_atoms]: the structure of each atom */
    int *periodic;        /**< [B]: 1 when structure b has a cell */
    double *cells;        /**< [B][3][3]: rows are lattice vectors; zeros when not periodic */
    double r_max;         /**< the cutoff the neighbour list was built for */
    int64_t n_edges;
    int64_t *edge_index;  /**< [2][n_edges] */
    int64_t *unit_shifts; /**< [n_edges][3] integer image offsets */
    double *shifts;       /**< [n_edges][3] Cartesian image shifts: unit_shifts @ cell */
} e3c_structure;

/** Settings of e3c_structure_generate; initialise with E3C_STRUCTURE_OPTIONS_INIT. */
typedef struct e3c_structure_options {
    int64_t n_atoms;        /**< >= 1 */
    int n_species;          /**< >= 1; every species appears when n_atoms >= n_species */
    double min_distance;    /**< no two atoms (or periodic images) closer than this */
    double r_max;           /**< neighbour-list cutoff, > 0 */
    int periodic;           /**< 1: a random triclinic cell; 0: a free cluster */
    double volume_per_atom; /**< sets the size of the cell (or of the cluster's box) */
    uint64_t seed;
} e3c_structure_options;
/* clang-format off */
#define E3C_STRUCTURE_OPTIONS_INIT {8, 2, 1.0, 4.0, 1, 12.0, 0}
/* clang-format on */
/** A seeded random structure: positions at least min_distance apart (counting periodic
 *  images), species, an optional triclinic cell (a cube of the volume's side, sheared and
 *  stretched by up to 15%), and its neighbour list for r_max. E3C_ERR_VALUE when the atoms
 *  cannot be placed (too dense for min_distance) or a setting is out of range. Caller owns
 *  *out. */
E3C_API e3c_status e3c_structure_generate(e3c_structure **out, const e3c_structure_options *opt);

/** A structure from given positions ([n][3]), species ([n], 0..n_species-1) and cell
 *  (row-major [3][3], or NULL for none), with its neighbour list for r_max. Caller owns
 *  *out. */
E3C_API e3c_status e3c_structure_from_data(e3c_structure **out, int64_t n_atoms, const double *positions,
                                           const int64_t *species, int n_species, const double *cell, double r_max);

/** (Re)build the neighbour list of `s` for `r_max` from its positions and cells: every
 *  pair of atoms of one structure closer than r_max, i != j or with a non-zero image
 *  offset, in order of i, then the image offset, then j. */
E3C_API e3c_status e3c_structure_neighbours(e3c_structure *s, double r_max);

/** Several structures as one batch (atoms, edges and cells concatenated; batch and ptr
 *  set; edge indices offset). All must have the same n_species. Caller owns *out. */
E3C_API e3c_status e3c_structure_batch(e3c_structure **out, const e3c_structure *const *parts, size_t n);

/** A deep copy. Caller owns *out. */
E3C_API e3c_status e3c_structure_copy(e3c_structure **out, const e3c_structure *s);

/** Free a structure. NULL-safe. */
E3C_API void e3c_structure_free(e3c_structure *s);

/** The fields of a structure as model inputs. */
typedef enum e3c_structure_field {
    E3C_FIELD_POSITIONS,    /**< [N, 3] */
    E3C_FIELD_SPECIES,      /**< [N] */
    E3C_FIELD_ONE_HOT,      /**< [N, n_species] */
    E3C_FIELD_EDGE_INDEX,   /**< [2, E] */
    E3C_FIELD_EDGE_SRC,     /**< [E] (row 0) */
    E3C_FIELD_EDGE_DST,     /**< [E] (row 1) */
    E3C_FIELD_UNIT_SHIFTS,  /**< [E, 3] */
    E3C_FIELD_SHIFTS,       /**< [E, 3] Cartesian */
    E3C_FIELD_EDGE_VECTORS, /**< [E, 3]: pos[j] - pos[i] + shift */
    E3C_FIELD_CELL,         /**< [3, 3] for one structure, [B, 3, 3] for a batch */
    E3C_FIELD_CELL_ROWS,    /**< [3B, 3] (MACE's batched layout) */
    E3C_FIELD_BATCH,        /**< [N] */
    E3C_FIELD_PTR,          /**< [B + 1] */
    E3C_FIELD_ONES          /**< [N] ones (MACE LAMMPS's local_or_ghost) */
} e3c_structure_field;

/** A new tensor holding field `f` of `s` converted to `dtype` (int64 fields can be given
 *  as floats and the reverse). Caller owns *out. */
E3C_API e3c_status e3c_structure_tensor(e3c_tensor **out, const e3c_structure *s, e3c_structure_field f,
                                        e3c_dtype dtype);

#ifdef __cplusplus
}
#endif
#endif
