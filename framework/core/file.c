/* Output files written without damage: atomic replacement of regular files, in-place
 * writes to devices and FIFOs, symbolic links followed (see e3check/file.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "e3check/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

enum { PATH_CAP = 4096, TMP_BASE_MAX = 200 };

static e3c_status io_error(const char *path, const char *why)
{
    return e3c_error_set(E3C_ERR_IO, "cannot write '%s': %s", path, why);
}

/* Follow symbolic links from `path` (at most 40) into `out`: the final name, which may not
 * exist yet (a dangling link names the file to create). 0, or -1 with errno. */
static int resolve_links(const char *path, char *out, size_t cap)
{
    if ((size_t)snprintf(out, cap, "%s", path) >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (int hop = 0; hop < 40; hop++) {
        struct stat st;
        if (lstat(out, &st) != 0 || !S_ISLNK(st.st_mode))
            return 0;
        char link[PATH_CAP];
        ssize_t n = readlink(out, link, sizeof link - 1);
        if (n < 0)
            return -1;
        link[n] = '\0';
        char *slash = strrchr(out, '/');
        size_t keep = link[0] == '/' || !slash ? 0 : (size_t)(slash - out) + 1;
        if (keep + (size_t)n + 1 > cap) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(out + keep, link, (size_t)n + 1);
    }
    errno = ELOOP;
    return -1;
}

/* Split `path` into its folder ("." when none) and its last component. */
static void split_path(const char *path, char *dir, char *base)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
        strcpy(base, path);
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, n);
        dir[n] = '\0';
        strcpy(base, slash + 1);
    }
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A character device, FIFO or socket: written where it is, never replaced. */
static e3c_status write_in_place(const char *path, const char *target, const void *data, size_t len)
{
    int fd = open(target, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return io_error(path, errno == ENXIO ? "no process is reading it (a FIFO or socket)" : strerror(errno));
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    int err = write_all(fd, data, len) ? errno : 0;
    if (close(fd) != 0 && !err)
        err = errno;
    return err ? io_error(path, strerror(err)) : E3C_OK;
}

/* The start of the temporary names used for `base`: ".BASE.e3c-tmp." (BASE cut to
 * TMP_BASE_MAX bytes so that the name stays within NAME_MAX). */
static void tmp_prefix(char *out, size_t cap, const char *base)
{
    snprintf(out, cap, ".%.*s.e3c-tmp.", TMP_BASE_MAX, base);
}

/* Remove the temporary files for `base` in `dir` whose e3check process no longer exists
 * (it was killed while writing). Those of live processes are left alone. */
static void remove_stale_temporaries(const char *dir, const char *base)
{
    char prefix[TMP_BASE_MAX + 32];
    tmp_prefix(prefix, sizeof prefix, base);
    size_t np = strlen(prefix);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    size_t nb = strlen(base);
    while ((e = readdir(d))) {
        char *end = NULL;
        long pid = 0;
        if (!strncmp(e->d_name, prefix, np)) {
            pid = strtol(e->d_name + np, &end, 10);
            if (*end != '.')
                continue;
        } else if (!strncmp(e->d_name, base, nb) && !strncmp(e->d_name + nb, ".tmp-", 5)) {
            /* the name earlier versions of e3check used: BASE.tmp-PID */
            pid = strtol(e->d_name + nb + 5, &end, 10);
            if (*end)
                continue;
        } else
            continue;
        if (pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* A regular file or a new name: a temporary file beside it, then rename. */
static e3c_status write_replacing(const char *path, const char *target, const struct stat *old, const void *data,
                                  size_t len)
{
    static unsigned counter;
    char dir[PATH_CAP], base[PATH_CAP], prefix[TMP_BASE_MAX + 32], tmp[PATH_CAP + 300];
    split_path(target, dir, base);
    if (!base[0])
        return io_error(path, "it names a folder");
    remove_stale_temporaries(dir, base);
    tmp_prefix(prefix, sizeof prefix, base);
    snprintf(tmp, sizeof tmp, "%s/%s%ld.%u", dir, prefix, (long)getpid(), counter++);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return io_error(path, strerror(errno));
    if (old)
        (void)fchmod(fd, old->st_mode & 07777);
    int err = write_all(fd, data, len) || fsync(fd) != 0 ? errno : 0;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, target) != 0)
        err = errno;
    if (err) {
        unlink(tmp);
        return io_error(path, strerror(err));
    }
    return E3C_OK;
}

e3c_status e3c_file_write_atomic(const char *path, const void *data, size_t len)
{
    if (!path || (len && !data))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_file_write_atomic: NULL argument");
    if (!*path)
        return io_error(path, "empty file name");
    char target[PATH_CAP];
    if (resolve_links(path, target, sizeof target) != 0)
        return io_error(path, strerror(errno));
    struct stat st;
    if (stat(target, &st) != 0)
        return errno == ENOENT ? write_replacing(path, target, NULL, data, len) : io_error(path, strerror(errno));
    if (S_ISREG(st.st_mode))
        return write_replacing(path, target, &st, data, len);
    if (S_ISDIR(st.st_mode))
        return io_error(path, "it is a folder");
    if (S_ISBLK(st.st_mode))
        return io_error(path, "it is a block device (e3check writes no report onto a disk)");
    return write_in_place(path, target, data, len);
}

/* The resolved name of a file that may not exist: its folder's real path and its name. */
static int canonical_name(const char *path, char *out, size_t cap)
{
    char target[PATH_CAP], dir[PATH_CAP], base[PATH_CAP], real[PATH_MAX];
    if (resolve_links(path, target, sizeof target) != 0)
        return 0;
    split_path(target, dir, base);
    if (!realpath(dir, real))
        return (size_t)snprintf(out, cap, "%s", target) < cap;
    return (size_t)snprintf(out, cap, "%s/%s", real, base) < cap;
}

int e3c_file_same(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    if (!strcmp(a, "-") || !strcmp(b, "-"))
        return !strcmp(a, b);
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char ca[PATH_CAP + PATH_MAX], cb[PATH_CAP + PATH_MAX];
    if (!canonical_name(a, ca, sizeof ca) || !canonical_name(b, cb, sizeof cb))
        return !strcmp(a, b);
    return !strcmp(ca, cb);
}

e3c_status e3c_file_read(char **text, size_t *len, const char *path, size_t max_bytes)
{
    if (!text || !len || !path)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_file_read: NULL argument");
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return e3c_error_set(E3C_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    e3c_status st = E3C_OK;
    if (fstat(fd, &sb) != 0)
        st = e3c_error_set(E3C_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = e3c_error_set(E3C_ERR_IO, "'%s' is not a regular file: not read", path);
    else if ((uintmax_t)sb.st_size > max_bytes)
        st = e3c_error_set(E3C_ERR_VALUE, "'%s' is %jd bytes, more than the %zu a file read here may have", path,
                           (intmax_t)sb.st_size, max_bytes);
    char *buf = st ? NULL : malloc((size_t)sb.st_size + 1);
    if (!st && !buf)
        st = e3c_error_set(E3C_ERR_NOMEM, "cannot read '%s': out of memory", path);
    size_t got = 0;
    while (!st && got < (size_t)sb.st_size) { /* a file that grows meanwhile is read up to its size */
        ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            st = e3c_error_set(E3C_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (st) {
        free(buf);
        return st;
    }
    buf[got] = '\0';
    *text = buf;
    *len = got;
    return E3C_OK;
}
