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
    const char *files[] = {"nn/library.json",           "nn/norm.json",
                           "nn/normalized.json",        "nn/batchnorm.json",
                           "golden/e3nn_modules.json",  "negative/fail_closed.json",
                           "potentials/potentials.json"};
    int seen = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/fixtures/%s", E3C_SOURCE_DIR, files[f]);
        cJSON *doc = load_json(path);
        const cJSON *fx;
        cr_assert(cJSON_IsArray(doc), "%s is not a list of fixtures", files[f]);
        cJSON_ArrayForEach(fx, doc) {
            const char *bad = schema_violation(schema, fx);
            cr_assert_null(bad, "%s: %s", files[f], bad);
            E3C_ASSERT_OK(e3c_fixture_validate(fx));
            seen++;
        }
        cJSON_Delete(doc);
    }
    cr_assert_geq(seen, 50, "only %d fixtures read", seen);
    const char *refused[] = {"{\"equivariance\":{\"ntrails\":2}}",
                             "{\"equivariance\":{\"ntrials\":\"many\"}}",
                             "{\"equivariance\":{\"ntrials\":1e12}}",
                             "{\"equivariance\":{\"tolerance\":-1}}",
                             "{\"equivariance\":{\"do_parity\":0}}",
                             "{\"auto_jitable\":{\"n_trace_checks\":0}}",
                             "{\"golden\":{\"atol\":0}}",
                             "{\"normalized\":{\"normalization\":\"x\"}}"};
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

/* ------------------------------------------------- every schema keyword exercised ---- */

/* The schema's keywords that a fixture can break, each needing a refused case. */
static const char *const bounding[] = {"minimum", "maximum", "exclusiveMinimum", "minLength", "enum", NULL};

/* One requirement of the schema: a property path ("checks.equivariance.ntrials", "*" for
 * any key) and a keyword ("present": some accepted fixture has it). */
typedef struct requirement {
    char path[256], keyword[32];
    int met;
} requirement;

typedef struct requirements {
    requirement items[512];
    size_t n;
} requirements;

static void require(requirements *r, const char *path, const char *keyword)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->items[i].path, path) && !strcmp(r->items[i].keyword, keyword))
            return;
    cr_assert_lt(r->n, sizeof r->items / sizeof r->items[0]);
    snprintf(r->items[r->n].path, sizeof r->items[r->n].path, "%s", path);
    snprintf(r->items[r->n].keyword, sizeof r->items[r->n].keyword, "%s", keyword);
    r->items[r->n++].met = 0;
}

static int meet(requirements *r, const char *path, const char *keyword)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->items[i].path, path) && !strcmp(r->items[i].keyword, keyword))
            return r->items[i].met = 1;
    return 0;
}

/* "#/$defs/NAME" resolved in the schema's root. */
static const cJSON *deref(const cJSON *root, const cJSON *node)
{
    const cJSON *ref = cJSON_GetObjectItem(node, "$ref");
    if (!cJSON_IsString(ref) || strncmp(ref->valuestring, "#/$defs/", 8))
        return NULL;
    return cJSON_GetObjectItem(cJSON_GetObjectItem(root, "$defs"), ref->valuestring + 8);
}

static void join(char *out, size_t cap, const char *path, const char *key)
{
    snprintf(out, cap, "%s%s%s", path, *path ? "." : "", key);
}

/* Every property under `node` (at `path`) and its bounding keywords, through $ref and oneOf. */
static void walk_schema(requirements *r, const cJSON *root, const cJSON *node, const char *path, int depth)
{
    cr_assert_lt(depth, 16, "the schema nests too deep at %s", path);
    const cJSON *target = deref(root, node);
    if (target)
        walk_schema(r, root, target, path, depth + 1);
    for (const char *const *k = bounding; *k; k++)
        if (cJSON_GetObjectItem(node, *k))
            require(r, path, *k);
    if (cJSON_IsFalse(cJSON_GetObjectItem(node, "additionalProperties")))
        require(r, path, "additionalProperties");
    if (cJSON_GetObjectItem(node, "required") && !*path)
        require(r, path, "required");
    const cJSON *p, *alt;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(node, "properties")) {
        char sub[256];
        join(sub, sizeof sub, path, p->string);
        require(r, sub, "present");
        walk_schema(r, root, p, sub, depth + 1);
    }
    const cJSON *add = cJSON_GetObjectItem(node, "additionalProperties");
    if (cJSON_IsObject(add)) {
        char sub[256];
        join(sub, sizeof sub, path, "*");
        require(r, sub, "present");
        walk_schema(r, root, add, sub, depth + 1);
    }
    cJSON_ArrayForEach(alt, cJSON_GetObjectItem(node, "oneOf"))
        walk_schema(r, root, alt, path, depth + 1);
}

/* The schema of key `key` inside `node` and its label (the key, or "*"), or NULL. */
static const cJSON *schema_child(const cJSON *root, const cJSON *node, const char *key, const char **label, int depth)
{
    if (!node || depth > 16)
        return NULL;
    const cJSON *target = deref(root, node), *found = NULL, *alt;
    const cJSON *p = cJSON_GetObjectItem(cJSON_GetObjectItem(node, "properties"), key);
    if (p) {
        *label = key;
        return p;
    }
    if (target && (found = schema_child(root, target, key, label, depth + 1)))
        return found;
    cJSON_ArrayForEach(alt, cJSON_GetObjectItem(node, "oneOf"))
        if ((found = schema_child(root, alt, key, label, depth + 1)))
            return found;
    const cJSON *add = cJSON_GetObjectItem(node, "additionalProperties");
    if (cJSON_IsObject(add)) {
        *label = "*";
        return add;
    }
    return NULL;
}

/* Mark every property of an accepted fixture `v` (at schema `node`, `path`) present. */
static void mark_present(requirements *r, const cJSON *root, const cJSON *node, const cJSON *v, const char *path)
{
    for (const cJSON *f = cJSON_IsObject(v) ? v->child : NULL; f; f = f->next) {
        const char *label = NULL;
        const cJSON *child = schema_child(root, node, f->string, &label, 0);
        if (!child)
            continue;
        char sub[256];
        join(sub, sizeof sub, path, label);
        meet(r, sub, "present");
        mark_present(r, root, child, f, sub);
    }
}

/* The schema path of the dotted key path `keys` ("checks.equivariance.ntrials"). */
static void schema_path(const cJSON *root, const char *keys, char *out, size_t cap)
{
    char copy[256], *save = NULL;
    snprintf(copy, sizeof copy, "%s", keys);
    const cJSON *node = root;
    out[0] = '\0';
    for (char *k = strtok_r(copy, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        const char *label = NULL;
        node = schema_child(root, node, k, &label, 0);
        cr_assert_not_null(node, "the schema has no property \"%s\" in \"%s\"", k, keys);
        char sub[256];
        join(sub, sizeof sub, out, label);
        snprintf(out, cap, "%s", sub);
    }
}

/* A copy of `base` with the dotted key path `keys` set to `value` (a copy); intermediate
 * objects are made; a JSON null `value` deletes the key. */
static cJSON *with_value(const cJSON *base, const char *keys, const cJSON *value)
{
    cJSON *doc = cJSON_Duplicate(base, 1), *obj = doc;
    char copy[256], *save = NULL;
    snprintf(copy, sizeof copy, "%s", keys);
    char *k = strtok_r(copy, ".", &save), *next;
    for (; (next = strtok_r(NULL, ".", &save)); k = next) {
        cJSON *child = cJSON_GetObjectItem(obj, k);
        if (!cJSON_IsObject(child)) {
            cJSON_DeleteItemFromObject(obj, k);
            child = cJSON_AddObjectToObject(obj, k);
        }
        obj = child;
    }
    cJSON_DeleteItemFromObject(obj, k);
    if (!cJSON_IsNull(value))
        cJSON_AddItemToObject(obj, k, cJSON_Duplicate(value, 1));
    return doc;
}

/* How many of the schema's requirements no fixture meets (the first in `first`; each
 * logged as an error when `log`, which fails the test program): accepted fixtures are the built-in ones and the valid cases, each accepted by
 * the parser and the schema; each refused case must break a keyword the schema has where
 * it says, and the parser must refuse it. */
static int schema_unmet(const cJSON *schema, const cJSON *cases, char *first, size_t cap, int log)
{
    requirements *r = calloc(1, sizeof *r);
    cr_assert_not_null(r);
    walk_schema(r, schema, schema, "", 0);
    cr_assert_geq(r->n, 100, "only %zu requirements read from the schema", r->n);
    const char *files[] = {"nn/library.json",           "nn/norm.json",
                           "nn/normalized.json",        "nn/batchnorm.json",
                           "seed/mymodule.json",        "golden/e3nn_modules.json",
                           "negative/fail_closed.json", "negative/wrong_declarations.json",
                           "potentials/potentials.json"};
    cJSON *docs[sizeof files / sizeof files[0] + 1];
    size_t n_docs = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/fixtures/%s", E3C_SOURCE_DIR, files[f]);
        docs[n_docs++] = load_json(path);
    }
    docs[n_docs++] = cJSON_Duplicate(cJSON_GetObjectItem(cases, "valid"), 1);
    for (size_t d = 0; d < n_docs; d++) {
        const cJSON *fx;
        cJSON_ArrayForEach(fx, docs[d]) {
            const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(fx, "name"));
            cr_assert_eq(e3c_fixture_validate(fx), E3C_OK, "the parser refuses %s: %s", name, e3c_error_last());
            const char *bad = schema_violation(schema, fx);
            cr_assert_null(bad, "the schema refuses %s: %s", name, bad);
            mark_present(r, schema, schema, fx, "");
        }
        cJSON_Delete(docs[d]);
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cases, "refused")) {
        const char *base = cJSON_GetStringValue(cJSON_GetObjectItem(c, "base")),
                   *keys = cJSON_GetStringValue(cJSON_GetObjectItem(c, "set")),
                   *keyword = cJSON_GetStringValue(cJSON_GetObjectItem(c, "breaks"));
        cr_assert(base && keys && keyword && cJSON_GetObjectItem(c, "to"),
                  "a refused case needs base, set, to, breaks");
        const cJSON *fx, *from = NULL;
        cJSON_ArrayForEach(fx, cJSON_GetObjectItem(cases, "valid"))
            if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(fx, "name")), base))
                from = fx;
        cr_assert_not_null(from, "no valid case named %s", base);
        char path[256], parent[256];
        snprintf(parent, sizeof parent, "%s", keys);
        char *dot = strrchr(parent, '.');
        *(dot ? dot : parent) = '\0';
        /* an unknown key or a missing one breaks its parent object; a value, its property */
        int of_parent = !strcmp(keyword, "additionalProperties") || !strcmp(keyword, "required");
        schema_path(schema, of_parent ? parent : keys, path, sizeof path);
        cr_assert(meet(r, path, keyword), "case %s %s: the schema has no \"%s\" at \"%s\"", base, keys, keyword, path);
        cJSON *broken = with_value(from, keys, cJSON_GetObjectItem(c, "to"));
        char *text = cJSON_PrintUnformatted(broken);
        cr_assert_neq(e3c_fixture_validate(broken), E3C_OK, "the parser accepts %s (breaking %s of %s)", text, keyword,
                      path);
        free(text);
        cJSON_Delete(broken);
    }
    int unmet = 0;
    for (size_t i = 0; i < r->n; i++)
        if (!r->items[i].met) {
            if (log)
                cr_log_error("schema property \"%s\" (%s) has no fixture exercising it", r->items[i].path,
                             r->items[i].keyword);
            if (!unmet++)
                snprintf(first, cap, "%s (%s)", r->items[i].path, r->items[i].keyword);
        }
    free(r);
    return unmet;
}

/* Every property of fixture.schema.json appears in a fixture the parser accepts, and every
 * keyword that bounds one (minimum, maximum, exclusiveMinimum, minLength, enum,
 * additionalProperties: false, the required name) has a case breaking it that the parser
 * refuses (tests/data/schema_cases.json): the schema and the parser cannot drift apart
 * without this test naming the property. */
Test(models, every_schema_property_and_keyword_has_a_fixture)
{
    cJSON *schema = load_json(E3C_SOURCE_DIR "/fixtures/fixture.schema.json");
    cJSON *cases = load_json(E3C_SOURCE_DIR "/tests/data/schema_cases.json");
    char first[300] = "";
    int unmet = schema_unmet(schema, cases, first, sizeof first, 1);
    cr_assert_eq(unmet, 0, "%d schema properties or keywords have no fixture exercising them, first %s (see the log)",
                 unmet, first);
    cJSON_Delete(cases);
    cJSON_Delete(schema);
}

/* The broken subject: an option added to the schema alone (no fixture uses it, none breaks
 * its bound) is named, and so is a bound added to an existing option. */
Test(models, a_schema_property_without_a_fixture_is_named)
{
    cJSON *schema = load_json(E3C_SOURCE_DIR "/fixtures/fixture.schema.json");
    cJSON *cases = load_json(E3C_SOURCE_DIR "/tests/data/schema_cases.json");
    cJSON *eq = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(schema, "properties"), "checks"), "properties"),
        "equivariance");
    cJSON_AddItemToObject(cJSON_GetObjectItem(eq, "properties"), "max_batch",
                          cJSON_Parse("{\"type\": \"integer\", \"minimum\": 1}"));
    char first[300] = "";
    cr_assert_eq(schema_unmet(schema, cases, first, sizeof first, 0), 2);
    cr_assert_str_eq(first, "checks.equivariance.max_batch (present)");
    cJSON *atol = cJSON_GetObjectItem(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(
                cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(schema, "properties"), "checks"),
                                    "properties"),
                "golden"),
            "properties"),
        "atol");
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(eq, "properties"), "max_batch");
    cJSON_AddNumberToObject(atol, "maximum", 1);
    cr_assert_eq(schema_unmet(schema, cases, first, sizeof first, 0), 1);
    cr_assert_str_eq(first, "checks.golden.atol (maximum)");
    cJSON_Delete(cases);
    cJSON_Delete(schema);
}
