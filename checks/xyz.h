/* The first frame of an extended-XYZ file (checks/ only; the golden check of structured
 * models reads its structure from one): the atom count, the comment line with
 * Lattice="ax ay az bx by bz cx cy cz", Properties=name:type:count... (at least
 * species:S:1 and pos:R:3; default species:S:1:pos:R:3) and pbc="T T T" or "F F F"
 * (default: periodic when there is a Lattice), then one line per atom. */
#ifndef E3CHECK_XYZ_H
#define E3CHECK_XYZ_H

#include <stdint.h>

#include "e3check/error.h"

typedef struct xyz_frame {
    int64_t n;
    double *positions; /* [n][3] */
    char **species;    /* [n] the species column as written (into text) */
    int has_cell;      /* a Lattice and pbc not "F F F" */
    double cell[9];    /* rows: the lattice vectors */
    char *text;        /* the file's text, cut in place */
} xyz_frame;

/* Read the first frame of `path` (a regular file of at most 64 MiB, opened without
 * blocking; 1 to max_atoms atoms). Every problem is one line naming the path and, for the
 * file's contents, the line: "PATH:LINE: reason" (E3C_ERR_FORMAT; E3C_ERR_IO for a file
 * that cannot be read). Atom i is on line i + 3. Free *out with xyz_frame_free. */
e3c_status xyz_read(const char *path, int64_t max_atoms, xyz_frame *out);

void xyz_frame_free(xyz_frame *f);

#endif
