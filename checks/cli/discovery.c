/* Fixture discovery: a walk over folders that follows symbolic links but visits each
 * folder once (by device and inode), so that links pointing back up (`ln -s . loop`) end
 * with bounded memory, and that reports what cannot be a fixture file instead of opening
 * it (a FIFO would block) or dropping it (a dangling link). */
#include "discovery.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The folders visited so far: an open-addressing set of (device, inode). */
typedef struct dir_set {
    struct dir_key {
        dev_t dev;
        ino_t ino;
        int used;
    } * slots;
    size_t n, cap;
} dir_set;

static size_t dir_hash(dev_t dev, ino_t ino, size_t cap)
{
    uint64_t h = (uint64_t)dev * 0x9E3779B97F4A7C15u ^ (uint64_t)ino * 0xC2B2AE3D27D4EB4Fu;
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* Add (dev, ino): 1 when new, 0 when already there, -1 when out of memory. */
static int dir_set_add(dir_set *s, dev_t dev, ino_t ino)
{
    if (2 * (s->n + 1) > s->cap) {
        dir_set grown = {calloc(s->cap ? 2 * s->cap : 64, sizeof *s->slots), 0, s->cap ? 2 * s->cap : 64};
        if (!grown.slots)
            return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i].used)
                dir_set_add(&grown, s->slots[i].dev, s->slots[i].ino);
        free(s->slots);
        *s = grown;
    }
    size_t i = dir_hash(dev, ino, s->cap);
    for (; s->slots[i].used; i = (i + 1) & (s->cap - 1))
        if (s->slots[i].dev == dev && s->slots[i].ino == ino)
            return 0;
    s->slots[i] = (struct dir_key){dev, ino, 1};
    s->n++;
    return 1;
}

static e3c_status push(found_files *out, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static e3c_status push(found_files *out, const char *path, const char *fmt, ...)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 64;
        found_file *grown = realloc(out->items, cap * sizeof *grown);
        if (!grown)
            return e3c_error_set(E3C_ERR_NOMEM, "out of memory listing fixture files");
        out->items = grown;
        out->cap = cap;
    }
    char *error = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&error, fmt, ap) < 0)
            error = NULL;
        va_end(ap);
    }
    char *copy = strdup(path);
    if (!copy || (fmt && !error)) {
        free(copy), free(error);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory listing fixture files");
    }
    out->items[out->n++] = (found_file){copy, error};
    return E3C_OK;
}

static int is_fixture_name(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && !strcmp(name + n - 5, ".json") && strcmp(name, "e3check.json") != 0 &&
           /* the config file */ !(n > 12 && !strcmp(name + n - 12, ".schema.json")) &&
           !(n > 13 && !strcmp(name + n - 13, ".queries.json"));
}

static const char *kind_of(mode_t m)
{
    return S_ISFIFO(m)   ? "a FIFO"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a file";
}

/* Why stat(path) failed, for a path that lstat may show to be a link. */
static e3c_status push_unreachable(found_files *out, const char *path, int err)
{
    struct stat ls;
    int link = lstat(path, &ls) == 0 && S_ISLNK(ls.st_mode);
    if (link && err == ELOOP)
        return push(out, path, "'%s': symbolic link loop (the link never reaches a file)", path);
    if (link && err == ENOENT)
        return push(out, path, "'%s': dangling symbolic link (its target does not exist)", path);
    if (err == ENOENT)
        return push(out, path, "cannot open '%s': no such file or folder", path);
    return push(out, path, "cannot open '%s': %s", path, strerror(err));
}

static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The names in folder `path` that are not hidden, sorted; NULL with *n = 0 when empty. */
static char **list_folder(DIR *d, size_t *n, int *nomem)
{
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    *n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 32;
            char **grown = realloc(names, cap * sizeof *grown);
            if (!grown) {
                *nomem = 1;
                break;
            }
            names = grown;
        }
        if (!(names[*n] = strdup(e->d_name))) {
            *nomem = 1;
            break;
        }
        (*n)++;
    }
    if (*n)
        qsort(names, *n, sizeof *names, by_string);
    return names;
}

static e3c_status walk(const char *path, int top, dir_set *seen, found_files *out);

/* The entries of folder `path` (already stat'ed as sb). */
static e3c_status walk_folder(const char *path, const struct stat *sb, dir_set *seen, found_files *out)
{
    int fresh = dir_set_add(seen, sb->st_dev, sb->st_ino);
    if (fresh < 0)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory listing fixture files");
    if (!fresh)
        return E3C_OK; /* reached again through a link: its files are listed once */
    DIR *d = opendir(path);
    if (!d)
        return push(out, path, "cannot read folder '%s': %s", path, strerror(errno));
    int nomem = 0;
    size_t n = 0;
    char **names = list_folder(d, &n, &nomem);
    closedir(d);
    e3c_status st = nomem ? e3c_error_set(E3C_ERR_NOMEM, "out of memory listing folder '%s'", path) : E3C_OK;
    for (size_t i = 0; i < n; i++) {
        char child[4096];
        if (!st && snprintf(child, sizeof child, "%s/%s", path, names[i]) >= (int)sizeof child)
            st = is_fixture_name(names[i]) ? push(out, path, "'%s/%s': the path is too long", path, names[i]) : E3C_OK;
        else if (!st)
            st = walk(child, 0, seen, out);
        free(names[i]);
    }
    free(names);
    return st;
}

/* `path`: a fixture file, a folder, or (below the top) something to skip or report. */
static e3c_status walk(const char *path, int top, dir_set *seen, found_files *out)
{
    const char *slash = strrchr(path, '/');
    int named = top || is_fixture_name(slash ? slash + 1 : path);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return named ? push_unreachable(out, path, errno) : E3C_OK;
    if (S_ISDIR(sb.st_mode))
        return walk_folder(path, &sb, seen, out);
    if (!named)
        return E3C_OK;
    if (!S_ISREG(sb.st_mode))
        return push(out, path, "'%s' is %s, not a regular file: not read", path, kind_of(sb.st_mode));
    return push(out, path, NULL);
}

e3c_status discover_fixtures(const char *path, found_files *out)
{
    dir_set seen = {NULL, 0, 0};
    e3c_status st = walk(path, 1, &seen, out);
    free(seen.slots);
    return st;
}

void found_files_free(found_files *f)
{
    for (size_t i = 0; f && i < f->n; i++)
        free(f->items[i].path), free(f->items[i].error);
    if (f)
        free(f->items);
}
