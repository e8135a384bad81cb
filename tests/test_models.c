/* Every model in ../shared/models gets exactly the verdicts its fixture expects, each
 * check isolated in a child process with the fixture's time limit. */
#include <dirent.h>

#include "e3check/fixture.h"
#include "test_util.h"

static int count_mismatches(const char *dir, int *checked)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s", dir);
    int bad = 0;
    struct dirent *e;
    e3c_run_settings rs = {0, 0, 60.0};
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json"))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        cJSON *doc = load_json(path);
        int n_fx = cJSON_IsArray(doc) ? cJSON_GetArraySize(doc) : 1;
        for (int f = 0; f < n_fx; f++) {
        const cJSON *fx = cJSON_IsArray(doc) ? cJSON_GetArrayItem(doc, f) : doc;
        e3c_check_kind kinds[E3C_CHECK_KIND_COUNT];
        size_t nk = 0;
        E3C_ASSERT_OK(e3c_fixture_checks(fx, kinds, &nk));
        for (size_t k = 0; k < nk; k++) {
            e3c_verdict want;
            E3C_ASSERT_OK(e3c_fixture_expected(fx, kinds[k], &want));
            e3c_check_result r;
            E3C_ASSERT_OK(e3c_fixture_run_check_isolated(fx, dir, kinds[k], &rs, &r));
            (*checked)++;
            if (r.status != want) {
                bad++;
                cr_log_error("%s %s: %s (expected %s): %s", e->d_name, e3c_check_kind_name(kinds[k]),
                             e3c_verdict_name(r.status), e3c_verdict_name(want), r.message);
            }
            e3c_check_result_free(&r);
        }
        }
        cJSON_Delete(doc);
    }
    closedir(d);
    return bad;
}

Test(models, every_builtin_fixture_gets_its_expected_verdicts, .timeout = 900)
{
    int checked = 0;
    const char *dirs[4] = {"fixtures/nn", "fixtures/seed", "fixtures/negative", NULL};
    int bad = 0;
    for (int i = 0; dirs[i]; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", E3C_SOURCE_DIR, dirs[i]);
        bad += count_mismatches(dir, &checked);
    }
    cr_assert_geq(checked, 20, "only %d checks ran", checked);
    cr_assert_eq(bad, 0, "%d of %d verdicts differ from the fixtures (see the log)", bad, checked);
}

Test(models, every_shared_model_gets_its_expected_verdicts, .timeout = 900)
{
    int checked = 0;
    int bad = count_mismatches(shared_path("models"), &checked);
    cr_assert_geq(checked, 30, "only %d checks ran", checked);
    cr_assert_eq(bad, 0, "%d of %d verdicts differ from the fixtures (see the log)", bad, checked);
}
