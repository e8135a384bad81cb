#include "test_util.h"

#include "e3check/fixture.h"

#include <dirent.h>
#include <stdarg.h>
#include <ftw.h>
#include <unistd.h>

static void free_case_indices(struct criterion_test_params *p) { cr_free(p->params); }

struct criterion_test_params case_indices(size_t n)
{
    size_t *index = cr_malloc((n ? n : 1) * sizeof *index);
    if (!index)
        abort(); /* never run no cases in silence */
    for (size_t i = 0; i < n; i++)
        index[i] = i;
    return cr_make_param_array(size_t, index, n, free_case_indices);
}

static char case_name[512];

void set_test_case(const char *fmt, ...)
{
    case_name[0] = '\0';
    if (!fmt)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(case_name, sizeof case_name - 2, fmt, ap);
    va_end(ap);
    strcat(case_name, ": ");
}

const char *test_case(void) { return case_name; }

const cJSON *table_case(const cJSON *table, const char *what, size_t index, size_t n)
{
    set_test_case("%s #%zu", what, index);
    cr_assert(cJSON_IsArray(table) || cJSON_IsObject(table), "%sno table \"%s\" in the data", test_case(), what);
    size_t size = (size_t)cJSON_GetArraySize(table);
    cr_assert_eq(size, n, "%sthe data holds %zu cases, the test runs %zu", test_case(), size, n);
    const cJSON *c = cJSON_GetArrayItem(table, (int)index);
    cr_assert_not_null(c, "%smissing", test_case());
    const cJSON *name = cJSON_GetObjectItem(c, "name");
    if (c->string)
        set_test_case("%s[\"%s\"]", what, c->string);
    else if (cJSON_IsString(name))
        set_test_case("%s #%zu (%s)", what, index, name->valuestring);
    return c;
}

const char *data_path(const char *relative)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", E3C_TEST_DATA_DIR, relative);
    return buf;
}

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
    cJSON_ArrayForEach(child, item)
        n += json_flatten(child, out + n, cap > n ? cap - n : 0);
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

static int type_matches(const char *t, const cJSON *v)
{
    if (!strcmp(t, "object"))
        return cJSON_IsObject(v);
    if (!strcmp(t, "array"))
        return cJSON_IsArray(v);
    if (!strcmp(t, "string"))
        return cJSON_IsString(v);
    if (!strcmp(t, "boolean"))
        return cJSON_IsBool(v);
    if (!strcmp(t, "null"))
        return cJSON_IsNull(v);
    if (!strcmp(t, "number"))
        return cJSON_IsNumber(v);
    if (!strcmp(t, "integer"))
        return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble);
    return 0;
}

static const char *violation_at(const cJSON *s, const cJSON *v, const char *path)
{
    static char msg[1024];
    const cJSON *type = cJSON_GetObjectItem(s, "type");
    if (type) {
        int ok = 0;
        if (cJSON_IsString(type))
            ok = type_matches(type->valuestring, v);
        for (const cJSON *t = cJSON_IsArray(type) ? type->child : NULL; t; t = t->next)
            ok |= type_matches(t->valuestring, v);
        if (!ok)
            return snprintf(msg, sizeof msg, "%s: wrong type", path), msg;
    }
    const cJSON *c = cJSON_GetObjectItem(s, "const");
    if (c && !cJSON_Compare(c, v, 1))
        return snprintf(msg, sizeof msg, "%s: not the constant", path), msg;
    const cJSON *en = cJSON_GetObjectItem(s, "enum");
    if (en) {
        int ok = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, en)
            ok |= cJSON_Compare(e, v, 1);
        if (!ok)
            return snprintf(msg, sizeof msg, "%s: not one of the enum", path), msg;
    }
    const cJSON *min = cJSON_GetObjectItem(s, "minimum");
    if (min && cJSON_IsNumber(v) && v->valuedouble < min->valuedouble)
        return snprintf(msg, sizeof msg, "%s: below the minimum", path), msg;
    const cJSON *max = cJSON_GetObjectItem(s, "maximum");
    if (max && cJSON_IsNumber(v) && v->valuedouble > max->valuedouble)
        return snprintf(msg, sizeof msg, "%s: above the maximum", path), msg;
    const cJSON *xmin = cJSON_GetObjectItem(s, "exclusiveMinimum");
    if (xmin && cJSON_IsNumber(v) && v->valuedouble <= xmin->valuedouble)
        return snprintf(msg, sizeof msg, "%s: not above the exclusive minimum", path), msg;
    const cJSON *minlen = cJSON_GetObjectItem(s, "minLength");
    if (minlen && cJSON_IsString(v) && (int)strlen(v->valuestring) < minlen->valueint)
        return snprintf(msg, sizeof msg, "%s: too short", path), msg;
    if (cJSON_IsObject(v)) {
        const cJSON *req, *props = cJSON_GetObjectItem(s, "properties");
        cJSON_ArrayForEach(req, cJSON_GetObjectItem(s, "required"))
            if (!cJSON_GetObjectItem(v, req->valuestring))
                return snprintf(msg, sizeof msg, "%s: missing \"%s\"", path, req->valuestring), msg;
        const cJSON *add = cJSON_GetObjectItem(s, "additionalProperties");
        for (const cJSON *f = v->child; f; f = f->next) {
            const cJSON *fs = props ? cJSON_GetObjectItem(props, f->string) : NULL;
            if (!fs && cJSON_IsFalse(add))
                return snprintf(msg, sizeof msg, "%s: unexpected \"%s\"", path, f->string), msg;
            if (!fs && cJSON_IsObject(add))
                fs = add;
            if (fs) {
                char sub[900];
                snprintf(sub, sizeof sub, "%s.%s", path, f->string);
                const char *bad = violation_at(fs, f, sub);
                if (bad)
                    return bad;
            }
        }
    }
    const cJSON *items = cJSON_GetObjectItem(s, "items");
    if (items && cJSON_IsArray(v)) {
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v) {
            char sub[900];
            snprintf(sub, sizeof sub, "%s[%d]", path, i++);
            const char *bad = violation_at(items, e, sub);
            if (bad)
                return bad;
        }
    }
    return NULL;
}

const char *schema_violation(const cJSON *schema, const cJSON *doc) { return violation_at(schema, doc, "$"); }

/* Run every check of fixture `fx` (from file `file` in `dir`); returns the mismatches. */
static int fixture_mismatches(const cJSON *fx, const char *dir, const char *file, int *checked)
{
    e3c_run_settings rs = {0, 0, 60.0};
    e3c_check_kind kinds[E3C_CHECK_KIND_COUNT];
    size_t nk = 0;
    int bad = 0;
    E3C_ASSERT_OK(e3c_fixture_checks(kinds, &nk, fx));
    for (size_t k = 0; k < nk; k++) {
        e3c_verdict want;
        E3C_ASSERT_OK(e3c_fixture_expected(&want, fx, kinds[k]));
        e3c_check_result r;
        E3C_ASSERT_OK(e3c_fixture_run_check_isolated(&r, fx, dir, kinds[k], &rs));
        (*checked)++;
        if (r.status != want) {
            bad++;
            cr_log_error("%s %s: %s (expected %s): %s", file, e3c_check_kind_name(kinds[k]), e3c_verdict_name(r.status),
                         e3c_verdict_name(want), r.message);
        }
        e3c_check_result_free(&r);
    }
    return bad;
}

int fixture_verdict_mismatches(const char *dir, int *checked)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s", dir);
    int bad = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json"))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        cJSON *doc = load_json(path);
        if (cJSON_IsArray(doc)) {
            const cJSON *fx;
            cJSON_ArrayForEach(fx, doc)
                bad += fixture_mismatches(fx, dir, e->d_name, checked);
        } else {
            bad += fixture_mismatches(doc, dir, e->d_name, checked);
        }
        cJSON_Delete(doc);
    }
    closedir(d);
    return bad;
}

char *slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return buf;
}

run_result *run_program(const char *cwd, const char *program, const char *args, const char *input)
{
    static run_result r;
    char in[512], out[512], err[512], cmd[16384];
    snprintf(in, sizeof in, "%s/stdin", test_tmpdir());
    snprintf(out, sizeof out, "%s/stdout", test_tmpdir());
    snprintf(err, sizeof err, "%s/stderr", test_tmpdir());
    FILE *f = fopen(in, "wb");
    cr_assert_not_null(f, "cannot write %s", in);
    if (input)
        fputs(input, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cd '%s' && %s %s < '%s' > '%s' 2> '%s'", cwd ? cwd : ".", program, args, in, out, err);
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "%s %s did not exit normally", program, args);
    r.status = WEXITSTATUS(st);
    slurp(out, r.out, sizeof r.out);
    slurp(err, r.err, sizeof r.err);
    return &r;
}

void assert_one_line_error(const run_result *r, const char *needle)
{
    cr_assert_neq(r->status, 0);
    cr_assert(strncmp(r->err, "e3check: ", 9) == 0, "stderr: %s", r->err);
    cr_assert(strstr(r->err, needle), "stderr lacks \"%s\": %s", needle, r->err);
    cr_assert_null(strstr(r->err, "terminate called"));
    char *nl = strchr(r->err, '\n');
    cr_assert(nl && nl[1] == '\0', "stderr is not one line: %s", r->err);
}
