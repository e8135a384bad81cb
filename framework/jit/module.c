/* The module model: classes with compile modes, instances with children, tensors,
 * declared irreps and a TorchScript module underneath. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e3check/module.h"
#include "module_internal.h"
#include "e3check/state.h"

static const char *const mode_names[] = {"none", "script", "trace", "unsupported"};

e3c_status e3c_compile_mode_parse(e3c_compile_mode *out, const char *name)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_compile_mode_parse: NULL argument");
    if (!name || !strcmp(name, "none")) {
        *out = E3C_MODE_NONE;
        return E3C_OK;
    }
    for (int i = 1; i < 4; i++)
        if (!strcmp(name, mode_names[i])) {
            *out = (e3c_compile_mode)i;
            return E3C_OK;
        }
    return e3c_error_set(E3C_ERR_VALUE, "Invalid compile mode `'%s'` (expected script, trace, unsupported or none)",
                         name);
}

const char *e3c_compile_mode_name(e3c_compile_mode mode) { return (unsigned)mode < 4 ? mode_names[mode] : "invalid"; }

e3c_status e3c_arg_spec_parse(e3c_arg_spec *out, const char *text)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_arg_spec_parse: NULL argument");
    out->irreps = (e3c_irreps){0, NULL};
    if (!text) {
        out->kind = E3C_ARG_NONE;
        return E3C_OK;
    }
    if (!strcmp(text, "cartesian_points")) {
        out->kind = E3C_ARG_CARTESIAN_POINTS;
        return E3C_OK;
    }
    out->kind = E3C_ARG_IRREPS;
    return e3c_irreps_parse(&out->irreps, text);
}

/* One random input for a declared argument (see e3c_arg_specs_randn). */
static e3c_status spec_randn(e3c_tensor **out, const e3c_arg_spec *spec, size_t i, e3c_generator *g, int64_t batch,
                             e3c_dtype dtype, int64_t max_numbers)
{
    if (spec->kind == E3C_ARG_NONE)
        return e3c_error_set(E3C_ERR_VALUE,
                             "random inputs cannot be generated for input %zu declared none (only irreps and "
                             "'cartesian_points' can be drawn); declare its irreps or give explicit inputs",
                             i);
    int64_t width = spec->kind == E3C_ARG_IRREPS ? e3c_irreps_dim(&spec->irreps) : 3;
    double numbers = (double)batch * (double)width;
    if (max_numbers > 0 && numbers > (double)max_numbers)
        return e3c_error_set(
            E3C_ERR_VALUE,
            "random input %zu would hold %lld x %lld = %.4g numbers, more than the %lld an input may hold", i,
            (long long)batch, (long long)width, numbers, (long long)max_numbers);
    int64_t size[2] = {batch, spec->kind == E3C_ARG_IRREPS ? -1 : 3};
    if (spec->kind == E3C_ARG_IRREPS)
        return e3c_irreps_randn(out, &spec->irreps, g, size, 2, E3C_NORM_COMPONENT, dtype);
    return e3c_randn(out, g, dtype, size, 2);
}

e3c_status e3c_arg_specs_randn(e3c_values **out, const e3c_arg_spec *specs, size_t n, e3c_generator *g, int64_t batch,
                               e3c_dtype dtype, int64_t max_numbers)
{
    if (!out || (n && !specs) || !g)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_arg_specs_randn: NULL argument");
    e3c_status st = e3c_values_new(out);
    for (size_t i = 0; !st && i < n; i++) {
        e3c_tensor *x = NULL;
        st = spec_randn(&x, &specs[i], i, g, batch, dtype, max_numbers);
        if (!st)
            st = e3c_values_push(*out, x);
        e3c_tensor_free(x);
    }
    if (st) {
        e3c_values_free(*out);
        *out = NULL;
    }
    return st;
}

void e3c_arg_spec_free(e3c_arg_spec *spec)
{
    if (spec)
        e3c_irreps_free(&spec->irreps);
}

e3c_status e3c_module_class_check(const e3c_module_class *cls)
{
    if (!cls || !cls->name || !cls->name[0])
        return e3c_error_set(E3C_ERR_INVALID, "a module class needs a name");
    e3c_compile_mode mode;
    if (e3c_compile_mode_parse(&mode, cls->mode))
        return e3c_error_prefix("module class %s", cls->name);
    if (!cls->forward)
        return e3c_error_set(E3C_ERR_INVALID, "module class %s has no forward", cls->name);
    return E3C_OK;
}

/* ------------------------------------------------------------------ state box ----- */

static state_box *box_new(void *ptr, void (*free_fn)(void *))
{
    state_box *b = malloc(sizeof *b);
    if (b)
        *b = (state_box){1, ptr, free_fn};
    return b;
}

static void box_release(state_box *b)
{
    if (b && --b->refs == 0) {
        if (b->free_fn && b->ptr)
            b->free_fn(b->ptr);
        free(b);
    }
}

/* ------------------------------------------------------------------ instances ----- */

e3c_status e3c_module_new(e3c_module **out, const e3c_module_class *cls, void *state)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_new: NULL argument");
    *out = NULL;
    e3c_status st = e3c_module_class_check(cls);
    if (st) {
        if (cls && cls->free_state && state)
            cls->free_state(state);
        return st;
    }
    e3c_module *m = calloc(1, sizeof *m);
    state_box *box = box_new(state, cls->free_state);
    if (!m || !box) {
        free(m);
        free(box);
        if (cls->free_state && state)
            cls->free_state(state);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for module %s", cls->name);
    }
    m->cls = cls;
    m->state = box;
    st = e3c_jit_new(&m->jit, cls->name);
    if (st) {
        e3c_module_free(m);
        return st;
    }
    *out = m;
    return E3C_OK;
}

static void free_specs(e3c_arg_spec *specs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        e3c_arg_spec_free(&specs[i]);
    free(specs);
}

void e3c_module_free(e3c_module *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_children; i++) {
        e3c_module_free(m->children[i]);
        free(m->child_names[i]);
    }
    free(m->children);
    free(m->child_names);
    free_specs(m->irreps_in, m->n_in);
    free_specs(m->irreps_out, m->n_out);
    e3c_values_array_free(m->fixed_inputs, m->n_fixed_inputs);
    free(m->script_source);
    e3c_jit_free(m->jit);
    box_release(m->state);
    free(m);
}

void *e3c_module_state(const e3c_module *m) { return m && m->state ? m->state->ptr : NULL; }

const e3c_module_class *e3c_module_class_of(const e3c_module *m) { return m ? m->cls : NULL; }

static int valid_identifier(const char *s)
{
    if (!s || !(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return 0;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

e3c_status e3c_module_add_child(e3c_module *m, const char *name, e3c_module *child)
{
    e3c_status st = E3C_OK;
    if (!m || !child)
        st = e3c_error_set(E3C_ERR_INVALID, "e3c_module_add_child: NULL argument");
    else if (!valid_identifier(name))
        st = e3c_error_set(E3C_ERR_INVALID, "child name \"%s\" is not an identifier", name ? name : "(null)");
    else if (e3c_module_child(m, name))
        st = e3c_error_set(E3C_ERR_INVALID, "module %s already has a child \"%s\"", m->cls->name, name);
    if (!st) {
        e3c_module **kids = realloc(m->children, (m->n_children + 1) * sizeof *kids);
        if (kids)
            m->children = kids;
        char **names = realloc(m->child_names, (m->n_children + 1) * sizeof *names);
        if (names)
            m->child_names = names;
        char *copy = strdup(name);
        if (!kids || !names || !copy) {
            free(copy);
            st = e3c_error_set(E3C_ERR_NOMEM, "out of memory adding child %s", name);
        } else {
            st = e3c_jit_add_submodule(m->jit, name, child->jit);
            if (!st) {
                m->children[m->n_children] = child;
                m->child_names[m->n_children++] = copy;
                return E3C_OK;
            }
            free(copy);
        }
    }
    e3c_module_free(child);
    return st;
}

e3c_module *e3c_module_child(const e3c_module *m, const char *name)
{
    for (size_t i = 0; m && name && i < m->n_children; i++)
        if (!strcmp(m->child_names[i], name))
            return m->children[i];
    return NULL;
}

size_t e3c_module_child_count(const e3c_module *m) { return m ? m->n_children : 0; }
const char *e3c_module_child_name(const e3c_module *m, size_t i)
{
    return m && i < m->n_children ? m->child_names[i] : NULL;
}
e3c_module *e3c_module_child_at(const e3c_module *m, size_t i)
{
    return m && i < m->n_children ? m->children[i] : NULL;
}

/* The limit of e3c_module_limit_elements (-1: none) and what was added since it was set. */
static _Thread_local int64_t elements_limit = -1, elements_added = 0;

void e3c_module_limit_elements(int64_t max_elements)
{
    elements_limit = max_elements < 0 ? -1 : max_elements;
    elements_added = 0;
}

e3c_status e3c_module_add_tensor(e3c_module *m, const char *name, const e3c_tensor *t, int is_parameter)
{
    if (!m || !t || !valid_identifier(name))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_add_tensor: NULL argument or bad name");
    int64_t n = e3c_tensor_numel(t);
    if (elements_limit >= 0 && n > elements_limit - elements_added)
        return e3c_error_set(E3C_ERR_VALUE,
                             "%s.%s (%lld numbers) would bring the module tree to %lld parameters and buffers, "
                             "more than the %lld it may hold in all",
                             m->cls->name, name, (long long)n, (long long)(elements_added + n),
                             (long long)elements_limit);
    e3c_status st = e3c_jit_add_tensor(m->jit, name, t, is_parameter);
    if (!st)
        elements_added += n;
    return st;
}

e3c_status e3c_module_add_constant(e3c_module *m, const char *name, const e3c_tensor *t)
{
    if (!m || !t || !valid_identifier(name))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_add_constant: NULL argument or bad name");
    return e3c_jit_add_constant(m->jit, name, t);
}

e3c_status e3c_module_tensor(e3c_tensor **out, const e3c_module *m, const char *name)
{
    if (!m || !name || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_tensor: NULL argument");
    const char *dot = strchr(name, '.');
    if (dot) { /* a state-dict path: child.name */
        char child[256];
        snprintf(child, sizeof child, "%.*s", (int)(dot - name), name);
        const e3c_module *c = e3c_module_child(m, child);
        if (!c)
            return e3c_error_set(E3C_ERR_NOT_FOUND, "module %s has no child \"%s\" (in \"%s\")", m->cls->name, child,
                                 name);
        return e3c_module_tensor(out, c, dot + 1);
    }
    return e3c_jit_attribute_tensor(out, m->jit, name);
}

e3c_status e3c_module_parameters(e3c_strings *out, const e3c_module *m)
{
    if (!m || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_parameters: NULL argument");
    return e3c_jit_parameters(out, m->jit);
}

e3c_status e3c_module_set_tensor_values(e3c_module *m, const char *name, const double *values, size_t n)
{
    e3c_tensor *t = NULL;
    e3c_status st = e3c_module_tensor(&t, m, name);
    if (!st)
        st = e3c_tensor_assign(t, values, n);
    e3c_tensor_free(t);
    return st ? e3c_error_prefix("parameter '%s' of %s", name, m ? m->cls->name : "?") : E3C_OK;
}

static e3c_status set_specs(e3c_arg_spec **dst, size_t *dst_n, const char *const *entries, size_t n)
{
    e3c_arg_spec *specs = calloc(n ? n : 1, sizeof *specs);
    if (!specs)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for irreps");
    for (size_t i = 0; i < n; i++) {
        e3c_status st = e3c_arg_spec_parse(&specs[i], entries[i]);
        if (st) {
            free_specs(specs, i);
            return st;
        }
    }
    free_specs(*dst, *dst_n);
    *dst = specs;
    *dst_n = n;
    return E3C_OK;
}

e3c_status e3c_module_set_irreps_in(e3c_module *m, const char *const *entries, size_t n)
{
    if (!m || (n && !entries))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_set_irreps_in: NULL argument");
    e3c_status st = set_specs(&m->irreps_in, &m->n_in, entries, n);
    if (!st)
        m->has_irreps_in = 1;
    return st;
}

e3c_status e3c_module_set_irreps_out(e3c_module *m, const char *const *entries, size_t n)
{
    if (!m || (n && !entries))
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_set_irreps_out: NULL argument");
    e3c_status st = set_specs(&m->irreps_out, &m->n_out, entries, n);
    if (!st)
        m->has_irreps_out = 1;
    return st;
}

const e3c_arg_spec *e3c_module_irreps_in(const e3c_module *m, size_t *n)
{
    *n = m && m->has_irreps_in ? m->n_in : 0;
    return m && m->has_irreps_in ? m->irreps_in : NULL;
}

const e3c_arg_spec *e3c_module_irreps_out(const e3c_module *m, size_t *n)
{
    *n = m && m->has_irreps_out ? m->n_out : 0;
    return m && m->has_irreps_out ? m->irreps_out : NULL;
}

e3c_status e3c_module_set_script_source(e3c_module *m, const char *source)
{
    if (!m || !source)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_set_script_source: NULL argument");
    char *copy = strdup(source);
    if (!copy)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory for TorchScript source");
    free(m->script_source);
    m->script_source = copy;
    return E3C_OK;
}

const char *e3c_module_script_source(const e3c_module *m)
{
    return !m ? NULL : m->script_source ? m->script_source : m->cls->script_source;
}

e3c_status e3c_module_to_dtype(e3c_module *m, e3c_dtype dtype)
{
    if (!m)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_to_dtype: NULL argument");
    e3c_status st = e3c_jit_to_dtype(m->jit, dtype);
    return st || (dtype != E3C_FLOAT32 && dtype != E3C_FLOAT64) ? st : e3c_jit_constants_to_dtype(m->jit, dtype);
}

e3c_status e3c_module_set_mode(e3c_module *m, const char *mode)
{
    if (!m)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_set_mode: NULL argument");
    e3c_compile_mode parsed;
    e3c_status st = e3c_compile_mode_parse(&parsed, mode);
    if (st)
        return st;
    m->has_mode_override = 1;
    m->mode_override = parsed;
    return E3C_OK;
}

e3c_compile_mode e3c_module_mode(const e3c_module *m)
{
    if (!m)
        return E3C_MODE_NONE;
    if (m->has_mode_override)
        return m->mode_override;
    e3c_compile_mode mode = E3C_MODE_NONE;
    e3c_compile_mode_parse(&mode, m->cls->mode); /* validated at e3c_module_new */
    return mode;
}

e3c_compiled_as e3c_module_compiled_as(const e3c_module *m) { return m ? m->compiled : E3C_EAGER; }

void e3c_module_train(e3c_module *m, int on)
{
    if (!m)
        return;
    m->eval_mode = !on;
    for (size_t i = 0; i < m->n_children; i++)
        e3c_module_train(m->children[i], on);
}

int e3c_module_training(const e3c_module *m) { return m && !m->eval_mode; }

e3c_status e3c_module_named_tensors(e3c_strings *names, e3c_values **tensors, const e3c_module *m, int which)
{
    if (!m)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_named_tensors: NULL module");
    return e3c_jit_named_tensors(names, tensors, m->jit, (e3c_state_kind)which);
}

e3c_status e3c_module_forward(e3c_values **out, e3c_module *m, const e3c_values *in)
{
    if (!m || !out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_forward: NULL argument");
    *out = NULL;
    if (m->compiled)
        return e3c_jit_call(out, m->jit, "forward", in);
    return m->cls->forward(m, in, out);
}

e3c_status e3c_module_call_child(e3c_values **out, e3c_module *m, const char *name, const e3c_values *in)
{
    e3c_module *child = e3c_module_child(m, name);
    if (!child)
        return e3c_error_set(E3C_ERR_NOT_FOUND, "module %s has no child \"%s\"", m ? m->cls->name : "?", name);
    return e3c_module_forward(out, child, in);
}

e3c_status e3c_module_forward1(e3c_tensor **out, e3c_module *m, const e3c_tensor *x)
{
    if (!out)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_forward1: NULL argument");
    *out = NULL;
    e3c_values *in = NULL, *res = NULL;
    e3c_status st = e3c_values_new(&in);
    if (!st)
        st = e3c_values_push(in, x);
    if (!st)
        st = e3c_module_forward(&res, m, in);
    if (!st && e3c_values_count(res) != 1)
        st = e3c_error_set(E3C_ERR_VALUE, "%s returned %zu outputs, expected one", m->cls->name, e3c_values_count(res));
    if (!st)
        st = e3c_tensor_ref(out, e3c_values_get(res, 0));
    e3c_values_free(in);
    e3c_values_free(res);
    return st;
}

static e3c_status copy_specs(e3c_arg_spec **dst, const e3c_arg_spec *src, size_t n)
{
    *dst = calloc(n ? n : 1, sizeof **dst);
    if (!*dst)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory copying irreps");
    for (size_t i = 0; i < n; i++) {
        (*dst)[i].kind = src[i].kind;
        e3c_status st = e3c_irreps_copy(&(*dst)[i].irreps, &src[i].irreps);
        if (st)
            return st;
    }
    return E3C_OK;
}

/* Copy the C side of `m` onto `jit` (already a deep copy of m->jit): children are bound
 * to the matching submodules of `jit`. */
static e3c_status clone_onto(e3c_module **out, const e3c_module *m, e3c_jit_module *jit)
{
    e3c_module *c = calloc(1, sizeof *c);
    if (!c) {
        e3c_jit_free(jit);
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory cloning %s", m->cls->name);
    }
    c->cls = m->cls;
    c->state = m->state;
    m->state->refs++;
    c->jit = jit;
    c->compiled = m->compiled;
    c->has_mode_override = m->has_mode_override;
    c->mode_override = m->mode_override;
    c->eval_mode = m->eval_mode;
    c->has_irreps_in = m->has_irreps_in;
    c->has_irreps_out = m->has_irreps_out;
    c->n_in = m->n_in;
    c->n_out = m->n_out;
    e3c_status st = copy_specs(&c->irreps_in, m->irreps_in, m->n_in);
    if (!st)
        st = copy_specs(&c->irreps_out, m->irreps_out, m->n_out);
    if (!st && m->n_fixed_inputs)
        st = copy_values_array(&c->fixed_inputs, m->fixed_inputs, m->n_fixed_inputs);
    if (!st)
        c->n_fixed_inputs = m->n_fixed_inputs;
    if (!st && m->script_source && !(c->script_source = strdup(m->script_source)))
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory cloning %s", m->cls->name);
    c->children = calloc(m->n_children ? m->n_children : 1, sizeof *c->children);
    c->child_names = calloc(m->n_children ? m->n_children : 1, sizeof *c->child_names);
    if (!st && (!c->children || !c->child_names))
        st = e3c_error_set(E3C_ERR_NOMEM, "out of memory cloning %s", m->cls->name);
    for (size_t i = 0; !st && i < m->n_children; i++) {
        e3c_jit_module *sub = NULL;
        st = e3c_jit_submodule(&sub, jit, m->child_names[i]);
        if (!st)
            st = clone_onto(&c->children[i], m->children[i], sub);
        if (!st) {
            c->child_names[i] = strdup(m->child_names[i]);
            c->n_children++;
            if (!c->child_names[i])
                st = e3c_error_set(E3C_ERR_NOMEM, "out of memory cloning %s", m->cls->name);
        }
    }
    if (st) {
        e3c_module_free(c);
        return st;
    }
    *out = c;
    return E3C_OK;
}

e3c_status e3c_module_clone(e3c_module **out, const e3c_module *m)
{
    if (!out || !m)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_clone: NULL argument");
    *out = NULL;
    e3c_jit_module *jit = NULL;
    e3c_status st = e3c_jit_clone(&jit, m->jit);
    return st ? st : clone_onto(out, m, jit);
}

e3c_dtype e3c_module_dtype(const e3c_module *m)
{
    e3c_dtype d = E3C_FLOAT32;
    int found = 0;
    if (m && e3c_jit_floating_dtype(&d, &found, m->jit) == E3C_OK && found)
        return d;
    if (m && e3c_jit_constant_dtype(&d, &found, m->jit) == E3C_OK && found)
        return d; /* e3check's own constants follow the dtype the module was built in */
    return E3C_FLOAT32;
}

e3c_jit_module *e3c_module_jit(const e3c_module *m) { return m && m->compiled ? m->jit : NULL; }

e3c_status e3c_module_save(const e3c_module *m, const char *path)
{
    if (!m || !path)
        return e3c_error_set(E3C_ERR_INVALID, "e3c_module_save: NULL argument");
    if (!m->compiled)
        return e3c_error_set(E3C_ERR_INVALID, "%s is not compiled (mode %s): only a compiled module can be saved",
                             m->cls->name, e3c_compile_mode_name(e3c_module_mode(m)));
    return e3c_jit_save(m->jit, path);
}
