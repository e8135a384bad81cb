/* Extended XYZ (checks/xyz.h): the first frame of a file, every malformed line named by
 * the file and the line. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "e3check/file.h"
#include "xyz.h"

#define XYZ_MAX_BYTES ((size_t)64 << 20)
#define XYZ_MAX_COLUMNS 1024

/* The file's text (a regular file of at most XYZ_MAX_BYTES, opened without blocking: see
 * e3c_file_read), NUL-terminated. */
static e3c_status read_text(const char *path, char **text)
{
    size_t got = 0;
    if (e3c_file_read(text, &got, path, XYZ_MAX_BYTES))
        return e3c_error_prefix("the XYZ file");
    if (strlen(*text) != got) {
        free(*text);
        *text = NULL;
        return e3c_error_set(E3C_ERR_FORMAT, "%s: the XYZ file holds a NUL byte: not a text file", path);
    }
    return E3C_OK;
}

/* The lines of a text, cut in place ('\n' ends a line; a '\r' before it is dropped). */
typedef struct lines {
    char *next;
    long number; /* of the line last returned, from 1 */
} lines;

static char *next_line(lines *l)
{
    if (!l->next)
        return NULL;
    char *line = l->next, *end = strchr(line, '\n');
    if (end) {
        *end = '\0';
        l->next = end + 1;
    } else {
        l->next = NULL;
        if (!*line)
            return NULL; /* the text ended with a newline */
    }
    size_t n = strlen(line);
    if (n && line[n - 1] == '\r')
        line[n - 1] = '\0';
    l->number++;
    return line;
}

/* One column group of Properties (name:type:count). */
typedef struct xyz_column {
    char name[64];
    char type; /* S, R, I or L */
    int count;
} xyz_column;

typedef struct xyz_header {
    int has_lattice, pbc; /* pbc: -1 not given, 0 all F, 1 all T */
    double lattice[9];
    xyz_column cols[32];
    int n_cols, species_at, pos_at, width; /* token offsets of species and pos; tokens per atom line */
} xyz_header;

/* The next key=value of the comment line: key and value cut in place; value NULL for a
 * bare key. 0 at the end; -1 for an unterminated quote. */
static int next_pair(char **p, char **key, char **value)
{
    char *s = *p;
    while (*s && isspace((unsigned char)*s))
        s++;
    if (!*s)
        return 0;
    *key = s;
    while (*s && *s != '=' && !isspace((unsigned char)*s))
        s++;
    *value = NULL;
    if (*s == '=') {
        *s++ = '\0';
        if (*s == '"') {
            char *close = strchr(s + 1, '"');
            if (!close)
                return -1;
            *close = '\0';
            *value = s + 1;
            s = close + 1;
        } else {
            *value = s;
            while (*s && !isspace((unsigned char)*s))
                s++;
        }
    }
    if (*s)
        *s++ = '\0';
    *p = s;
    return 1;
}

/* Whitespace-separated numbers of `text` into v (at most cap); how many, -1 when a token
 * is not a finite number. */
static int parse_numbers(char *text, double *v, int cap)
{
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(text, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        char *end = NULL;
        double x = strtod(tok, &end);
        if (*end || !isfinite(x))
            return -1;
        if (n < cap)
            v[n] = x;
        n++;
    }
    return n;
}

static int logical_value(const char *tok, int *out)
{
    if (!strcasecmp(tok, "T") || !strcasecmp(tok, "True"))
        return *out = 1, 1;
    if (!strcasecmp(tok, "F") || !strcasecmp(tok, "False"))
        return *out = 0, 1;
    return 0;
}

static e3c_status parse_pbc(char *text, const char *path, xyz_header *h)
{
    int n = 0, trues = 0, v = 0;
    char *save = NULL;
    for (char *tok = strtok_r(text, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save), n++) {
        if (!logical_value(tok, &v))
            return e3c_error_set(E3C_ERR_FORMAT, "%s:2: pbc must be three of T and F, not \"%.20s\"", path, tok);
        trues += v;
    }
    if (n != 3)
        return e3c_error_set(E3C_ERR_FORMAT, "%s:2: pbc must be three of T and F, got %d value%s", path, n,
                             n == 1 ? "" : "s");
    if (trues != 0 && trues != 3)
        return e3c_error_set(E3C_ERR_FORMAT,
                             "%s:2: pbc with %d of 3 directions periodic: partly periodic structures "
                             "are not supported (all T, or all F)",
                             path, trues);
    h->pbc = trues == 3;
    return E3C_OK;
}

static e3c_status parse_properties(char *text, const char *path, xyz_header *h)
{
    h->n_cols = 0, h->species_at = -1, h->pos_at = -1, h->width = 0;
    char *save = NULL;
    for (char *name = strtok_r(text, ":", &save); name; name = strtok_r(NULL, ":", &save)) {
        char *type = strtok_r(NULL, ":", &save), *count = strtok_r(NULL, ":", &save), *end = NULL;
        long c = count ? strtol(count, &end, 10) : 0;
        if (!type || !count || *end || c < 1 || c > 1000 || strlen(type) != 1 || !strchr("SRIL", type[0]))
            return e3c_error_set(E3C_ERR_FORMAT,
                                 "%s:2: Properties must be name:type:count triples (type S, R, I or "
                                 "L; count from 1), not at \"%.40s\"",
                                 path, name);
        if (h->n_cols == (int)(sizeof h->cols / sizeof h->cols[0]))
            return e3c_error_set(E3C_ERR_FORMAT, "%s:2: Properties has more than %zu columns", path,
                                 sizeof h->cols / sizeof h->cols[0]);
        xyz_column *col = &h->cols[h->n_cols++];
        snprintf(col->name, sizeof col->name, "%s", name);
        col->type = type[0];
        col->count = (int)c;
        if (!strcmp(name, "species") && col->type == 'S' && c == 1)
            h->species_at = h->width;
        if (!strcmp(name, "pos") && col->type == 'R' && c == 3)
            h->pos_at = h->width;
        h->width += (int)c;
        if (h->width > XYZ_MAX_COLUMNS)
            return e3c_error_set(E3C_ERR_FORMAT, "%s:2: Properties declares more than %d columns", path,
                                 XYZ_MAX_COLUMNS);
    }
    if (h->species_at < 0 || h->pos_at < 0)
        return e3c_error_set(E3C_ERR_FORMAT, "%s:2: Properties must hold species:S:1 and pos:R:3", path);
    return E3C_OK;
}

/* The comment line: Lattice, Properties (default species:S:1:pos:R:3), pbc. */
static e3c_status parse_comment(char *line, const char *path, xyz_header *h)
{
    char defaults[] = "species:S:1:pos:R:3";
    int has_properties = 0;
    h->has_lattice = 0, h->pbc = -1;
    char *p = line, *key = NULL, *value = NULL;
    int r;
    e3c_status st = E3C_OK;
    while (!st && (r = next_pair(&p, &key, &value)) != 0) {
        if (r < 0)
            return e3c_error_set(E3C_ERR_FORMAT, "%s:2: a quoted value is not closed (key \"%.40s\")", path, key);
        if (!strcasecmp(key, "Lattice")) {
            if (!value || parse_numbers(value, h->lattice, 9) != 9)
                return e3c_error_set(E3C_ERR_FORMAT,
                                     "%s:2: Lattice must be 9 finite numbers (the three lattice "
                                     "vectors) in quotes",
                                     path);
            h->has_lattice = 1;
        } else if (!strcasecmp(key, "Properties")) {
            if (!value)
                return e3c_error_set(E3C_ERR_FORMAT, "%s:2: Properties has no value", path);
            has_properties = 1;
            st = parse_properties(value, path, h);
        } else if (!strcasecmp(key, "pbc")) {
            if (!value)
                return e3c_error_set(E3C_ERR_FORMAT, "%s:2: pbc has no value", path);
            st = parse_pbc(value, path, h);
        }
    }
    if (!st && !has_properties)
        st = parse_properties(defaults, path, h);
    if (!st && h->pbc == 1 && !h->has_lattice)
        st = e3c_error_set(E3C_ERR_FORMAT, "%s:2: pbc is periodic but there is no Lattice", path);
    return st;
}

/* One atom line: its tokens by the header's columns. */
static e3c_status parse_atom(char *line, long number, int64_t atom, const char *path, const xyz_header *h, xyz_frame *f)
{
    char *tokens[XYZ_MAX_COLUMNS];
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
        if (n++ < (int)(sizeof tokens / sizeof tokens[0]))
            tokens[n - 1] = tok;
    if (n != h->width)
        return e3c_error_set(E3C_ERR_FORMAT, "%s:%ld: atom %lld has %d column%s but Properties declares %d", path,
                             number, (long long)atom, n, n == 1 ? "" : "s", h->width);
    int at = 0;
    for (int c = 0; c < h->n_cols; c++)
        for (int k = 0; k < h->cols[c].count; k++, at++) {
            char *end = NULL;
            int flag = 0;
            double x = h->cols[c].type == 'R' || h->cols[c].type == 'I' ? strtod(tokens[at], &end) : 0;
            int ok = h->cols[c].type == 'S'   ? 1
                     : h->cols[c].type == 'L' ? logical_value(tokens[at], &flag)
                     : h->cols[c].type == 'I' ? !*end && isfinite(x) && x == floor(x)
                                              : !*end && isfinite(x);
            if (!ok)
                return e3c_error_set(E3C_ERR_FORMAT, "%s:%ld: \"%.40s\" in column %s of atom %lld is not %s", path,
                                     number, tokens[at], h->cols[c].name, (long long)atom,
                                     h->cols[c].type == 'L'   ? "T or F"
                                     : h->cols[c].type == 'I' ? "an integer"
                                                              : "a finite number");
        }
    for (int k = 0; k < 3; k++)
        f->positions[3 * atom + k] = strtod(tokens[h->pos_at + k], NULL);
    f->species[atom] = tokens[h->species_at];
    return E3C_OK;
}

void xyz_frame_free(xyz_frame *f)
{
    free(f->positions);
    free(f->species);
    free(f->text);
    memset(f, 0, sizeof *f);
}

e3c_status xyz_read(const char *path, int64_t max_atoms, xyz_frame *f)
{
    memset(f, 0, sizeof *f);
    e3c_status st = read_text(path, &f->text);
    if (st)
        return st;
    lines l = {f->text, 0};
    char *first = next_line(&l), *end = NULL;
    long long n = first ? strtoll(first, &end, 10) : 0;
    while (end && isspace((unsigned char)*end))
        end++;
    xyz_header h;
    char *comment = NULL;
    if (!first)
        st = e3c_error_set(E3C_ERR_FORMAT, "%s:1: the file is empty: an XYZ frame starts with the number of atoms",
                           path);
    else if (end == first || *end || n < 1 || n > max_atoms)
        st =
            e3c_error_set(E3C_ERR_FORMAT, "%s:1: the first line must be the number of atoms (1 to %lld), not \"%.40s\"",
                          path, (long long)max_atoms, first);
    else if (!(comment = next_line(&l)))
        st = e3c_error_set(E3C_ERR_FORMAT,
                           "%s:2: the file ends before the comment line (Lattice=\"...\" "
                           "Properties=...)",
                           path);
    if (!st)
        st = parse_comment(comment, path, &h);
    if (!st) {
        f->n = n;
        f->positions = calloc((size_t)n * 3, sizeof *f->positions);
        f->species = calloc((size_t)n, sizeof *f->species);
        if (!f->positions || !f->species)
            st = e3c_error_set(E3C_ERR_NOMEM, "out of memory for %lld atoms of %s", n, path);
    }
    for (int64_t i = 0; !st && i < n; i++) {
        char *line = next_line(&l);
        if (!line)
            st = e3c_error_set(E3C_ERR_FORMAT, "%s:%ld: the file ends after %lld of %lld atoms", path, l.number + 1,
                               (long long)i, n);
        else
            st = parse_atom(line, l.number, i, path, &h, f);
    }
    f->has_cell = !st && h.has_lattice && h.pbc != 0;
    if (f->has_cell)
        memcpy(f->cell, h.lattice, sizeof f->cell);
    if (st)
        xyz_frame_free(f);
    return st;
}
