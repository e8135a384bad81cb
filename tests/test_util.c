#include "test_util.h"

#include <ftw.h>
#include <unistd.h>

const char *shared_path(const char *relative)
{
    static char buf[4096];
    const char *root = getenv("E3C_SHARED_DIR");
    snprintf(buf, sizeof buf, "%s/%s", root && *root ? root : E3C_DEFAULT_SHARED_DIR, relative);
    return buf;
}

cJSON *load_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    cr_assert_not_null(text);
    size_t got = fread(text, 1, (size_t)n, f);
    fclose(f);
    text[got] = '\0';
    cJSON *json = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(json, "cannot parse %s", path);
    return json;
}

int close_rel(double a, double b, double tol)
{
    double scale = fabs(b) > 1.0 ? fabs(b) : 1.0;
    return fabs(a - b) <= tol * scale;
}

size_t json_flatten(const cJSON *item, double *out, size_t cap)
{
    if (cJSON_IsNumber(item)) {
        if (cap > 0)
            out[0] = item->valuedouble;
        return 1;
    }
    size_t n = 0;
    const cJSON *child;
    cJSON_ArrayForEach(child, item) n += json_flatten(child, out + n, cap > n ? cap - n : 0);
    return n;
}

static char tmpdir[256];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tmpdir(void)
{
    if (tmpdir[0])
        nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *test_tmpdir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/e3check-test-XXXXXX");
        cr_assert_not_null(mkdtemp(tmpdir));
        atexit(remove_tmpdir);
    }
    return tmpdir;
}
