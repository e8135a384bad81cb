/* Every built-in fixture and every test model (tests/model_zoo.c) gets exactly the
 * verdicts its fixture expects, each check isolated in a child process with the fixture's
 * time limit. The models of ../shared are cross-checked by test_shared. */
#include "e3check/fixture.h"
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

/* The schema and the parser agree: every built-in fixture passes both, and each option the
 * parser refuses (tests/test_checks.c, fixture_options) is refused by the schema too. */
Test(models, the_schema_and_the_parser_agree)
{
    cJSON *schema = load_json(E3C_SOURCE_DIR "/fixtures/fixture.schema.json");
    const char *files[] = {"nn/library.json", "nn/norm.json", "nn/normalized.json", "nn/batchnorm.json",
                           "golden/e3nn_modules.json", "negative/fail_closed.json", "potentials/potentials.json"};
    int seen = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/fixtures/%s", E3C_SOURCE_DIR, files[f]);
        cJSON *doc = load_json(path);
        const cJSON *fx;
        cr_assert(cJSON_IsArray(doc), "%s is not a list of fixtures", files[f]);
        cJSON_ArrayForEach(fx, doc)
        {
            const char *bad = schema_violation(schema, fx);
            cr_assert_null(bad, "%s: %s", files[f], bad);
            E3C_ASSERT_OK(e3c_fixture_validate(fx));
            seen++;
        }
        cJSON_Delete(doc);
    }
    cr_assert_geq(seen, 50, "only %d fixtures read", seen);
    const char *refused[] = {"{\"equivariance\":{\"ntrails\":2}}", "{\"equivariance\":{\"ntrials\":\"many\"}}",
                             "{\"equivariance\":{\"ntrials\":1e12}}", "{\"equivariance\":{\"tolerance\":-1}}",
                             "{\"equivariance\":{\"do_parity\":0}}", "{\"auto_jitable\":{\"n_trace_checks\":0}}",
                             "{\"golden\":{\"atol\":0}}", "{\"normalized\":{\"normalization\":\"x\"}}"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "{\"name\":\"t\",\"module\":{\"type\":\"Norm\",\"args\":[\"1o\"]},\"checks\":%s}",
                 refused[i]);
        cJSON *fx = cJSON_Parse(text);
        cr_assert_not_null(schema_violation(schema, fx), "the schema accepts %s", refused[i]);
        cr_assert_neq(e3c_fixture_validate(fx), E3C_OK, "the parser accepts %s", refused[i]);
        cJSON_Delete(fx);
    }
    cJSON_Delete(schema);
}
