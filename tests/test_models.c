/* Every built-in fixture and every test model (tests/model_zoo.c) gets exactly the
 * verdicts its fixture expects, each check isolated in a child process with the fixture's
 * time limit. The models of ../shared are cross-checked by test_shared. */
#include "test_util.h"

Test(models, every_builtin_fixture_gets_its_expected_verdicts, .timeout = 900)
{
    int checked = 0;
    const char *dirs[4] = {"fixtures/nn", "fixtures/seed", "fixtures/negative", NULL};
    int bad = 0;
    for (int i = 0; dirs[i]; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", E3C_SOURCE_DIR, dirs[i]);
        bad += fixture_verdict_mismatches(dir, &checked);
    }
    cr_assert_geq(checked, 20, "only %d checks ran", checked);
    cr_assert_eq(bad, 0, "%d of %d verdicts differ from the fixtures (see the log)", bad, checked);
}

Test(models, every_test_model_gets_its_expected_verdicts, .timeout = 900)
{
    int checked = 0;
    int bad = fixture_verdict_mismatches(zoo_dir(), &checked);
    cr_assert_geq(checked, 28, "only %d checks ran", checked);
    cr_assert_eq(bad, 0, "%d of %d verdicts differ from the fixtures (see the log)", bad, checked);
}
