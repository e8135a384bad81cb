/* Optional cross-checks against ../shared (e3nn's reference tree beside the checkout, or
 * E3C_SHARED_DIR): the golden values copied into tests/data/ are still e3nn's, and every
 * model of shared/models (written in Python torch) gets the verdict measured there. When
 * shared/ is absent the program says so and exits 77, which CTest reports as skipped. */
#include <sys/stat.h>

#include "test_util.h"

static const char *const golden_files[] = {"irreps.json", "modules.json", "rotation_wigner.json", "sh_randn.json"};

Test(shared, golden_copies_in_tests_data_equal_e3nns)
{
    for (size_t i = 0; i < sizeof golden_files / sizeof *golden_files; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "golden/%s", golden_files[i]);
        cJSON *ours = load_json(data_path(rel));
        snprintf(rel, sizeof rel, "reference/golden/%s", golden_files[i]);
        cJSON *theirs = load_json(shared_path(rel));
        cr_assert(cJSON_Compare(ours, theirs, 1), "tests/data/golden/%s differs from shared's", golden_files[i]);
        cJSON_Delete(ours);
        cJSON_Delete(theirs);
    }
}

Test(shared, every_shared_model_gets_its_expected_verdicts, .timeout = 900)
{
    int checked = 0;
    int bad = fixture_verdict_mismatches(shared_path("models"), &checked);
    cr_assert_geq(checked, 30, "only %d checks ran", checked);
    cr_assert_eq(bad, 0, "%d of %d verdicts differ from the fixtures (see the log)", bad, checked);
}

int main(int argc, char *argv[])
{
    struct stat st;
    const char *dir = shared_path("");
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("shared/ not found (%s): cross-check not run\n", dir);
        return 77;
    }
    printf("cross-checking against %s\n", dir);
    struct criterion_test_set *tests = criterion_initialize();
    int result = 0;
    if (criterion_handle_args(argc, argv, true))
        result = !criterion_run_all_tests(tests);
    criterion_finalize(tests);
    return result;
}
