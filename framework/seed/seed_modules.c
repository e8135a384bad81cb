/* The examples of e3nn's "TorchScript JIT Support" document, written in C. */
#include <stdlib.h>
#include <string.h>

#include "e3check/nn.h"
#include "e3check/seed.h"
#include "../nn/nn_internal.h"

/* Run child `name` on the inputs and take its single output. */
static e3c_status child_output(e3c_module *self, const char *name, const e3c_values *in, e3c_tensor **out)
{
    e3c_values *res = NULL;
    e3c_status st = e3c_module_call_child(&res, self, name, in);
    if (!st)
        st = e3c_tensor_ref(out, e3c_values_get(res, 0));
    e3c_values_free(res);
    return st;
}

/* A module holding only children: its irreps are given at construction. */
static e3c_status with_norm_child(e3c_module **out, const e3c_module_class *cls, const char *irreps)
{
    e3c_module *m = NULL, *norm = NULL;
    e3c_status st = e3c_norm_new(&norm, irreps, 0);
    if (!st)
        st = e3c_module_new(&m, cls, NULL);
    if (!st) {
        st = e3c_module_add_child(m, "norm", norm);
        norm = NULL;
    }
    size_t n;
    const e3c_arg_spec *ins = NULL, *outs = NULL;
    if (!st) {
        ins = e3c_module_irreps_in(e3c_module_child(m, "norm"), &n);
        outs = e3c_module_irreps_out(e3c_module_child(m, "norm"), &n);
        char *in_text = NULL, *out_text = NULL;
        st = e3c_irreps_format(&in_text, &ins[0].irreps);
        if (!st)
            st = e3c_irreps_format(&out_text, &outs[0].irreps);
        const char *a[1] = {in_text}, *b[1] = {out_text};
        if (!st)
            st = e3c_module_set_irreps_in(m, a, 1);
        if (!st)
            st = e3c_module_set_irreps_out(m, b, 1);
        free(in_text);
        free(out_text);
    }
    e3c_module_free(norm);
    return nn_finish(out, m, st);
}

/* ------------------------------------------------------------------ MyModule ---- */

static e3c_status mymodule_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    e3c_tensor *norm = NULL, *res = NULL;
    int big = 0;
    e3c_status st = child_output(self, "norm", in, &norm);
    if (!st)
        st = e3c_tensor_any_greater(&big, norm, 7.0);
    if (!st)
        st = big ? e3c_tensor_ref(&res, norm) : e3c_tensor_scalar(&res, norm, E3C_OP_MUL, 0.5);
    e3c_tensor_free(norm);
    return st ? st : e3c_values_take_one(out, res);
}

static const e3c_module_class mymodule_class = {.name = "MyModule",
                                                .mode = NULL,
                                                .forward = mymodule_forward,
                                                .script_source = "def forward(self, x):\n"
                                                                 "    norm = self.norm.forward(x)\n"
                                                                 "    if bool(torch.any(norm > 7.)):\n"
                                                                 "        return norm\n"
                                                                 "    else:\n"
                                                                 "        return norm * 0.5\n"};

e3c_status e3c_seed_mymodule_new(e3c_module **out, const char *irreps)
{
    return with_norm_child(out, &mymodule_class, irreps);
}

/* -------------------------------------------------------------- MyModuleLoop ---- */

static e3c_status mymodule_loop_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    e3c_tensor *norm = NULL;
    e3c_status st = child_output(self, "norm", in, &norm);
    int64_t rows = st ? 0 : e3c_tensor_size(norm, 0);
    for (int64_t r = 0; !st && r < rows; r++) {
        e3c_tensor *row = NULL;
        int hit = 0;
        st = e3c_tensor_select(&row, norm, 0, r);
        if (!st)
            st = e3c_tensor_any_greater(&hit, row, 0.1);
        if (!st && hit) {
            e3c_tensor_free(norm);
            return e3c_values_take_one(out, row);
        }
        e3c_tensor_free(row);
    }
    return st ? (e3c_tensor_free(norm), st) : e3c_values_take_one(out, norm);
}

static const e3c_module_class mymodule_loop_class = {.name = "MyModuleLoop",
                                                     .mode = "script",
                                                     .forward = mymodule_loop_forward,
                                                     .script_source = "def forward(self, x):\n"
                                                                      "    norm = self.norm.forward(x)\n"
                                                                      "    for row in norm:\n"
                                                                      "        if bool(torch.any(row > 0.1)):\n"
                                                                      "            return row\n"
                                                                      "    return norm\n"};

e3c_status e3c_seed_mymodule_loop_new(e3c_module **out, const char *irreps)
{
    return with_norm_child(out, &mymodule_loop_class, irreps);
}

/* ------------------------------------------------------------- AnotherModule ---- */

static e3c_status another_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    e3c_tensor *y = NULL, *res = NULL;
    e3c_status st = child_output(self, "mymod", in, &y);
    if (!st)
        st = e3c_tensor_scalar(&res, y, E3C_OP_ADD, 3.0);
    e3c_tensor_free(y);
    return st ? st : e3c_values_take_one(out, res);
}

static const e3c_module_class another_class = {.name = "AnotherModule",
                                               .mode = NULL,
                                               .forward = another_forward,
                                               .script_source = "def forward(self, x):\n"
                                                                "    return self.mymod.forward(x) + 3.\n"};

e3c_status e3c_seed_another_new(e3c_module **out, const char *irreps)
{
    e3c_module *m = NULL, *inner = NULL;
    e3c_status st = e3c_seed_mymodule_loop_new(&inner, irreps);
    if (!st)
        st = e3c_module_new(&m, &another_class, NULL);
    if (!st) {
        st = e3c_module_add_child(m, "mymod", inner);
        inner = NULL;
    }
    if (!st) { /* AnotherModule declares no irreps of its own, as in the document */
        *out = m;
        return E3C_OK;
    }
    e3c_module_free(inner);
    e3c_module_free(m);
    return st;
}

/* ------------------------------------------------------------- TracingModule ---- */

static e3c_status tracing_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self;
    if (e3c_values_count(in) != 2)
        return e3c_error_set(E3C_ERR_VALUE, "TracingModule takes (x, indexes), got %zu inputs", e3c_values_count(in));
    e3c_tensor *picked = NULL, *sum = NULL;
    e3c_status st = e3c_tensor_index_select(&picked, e3c_values_get(in, 0), 0, e3c_values_get(in, 1));
    if (!st)
        st = e3c_tensor_sum_all(&sum, picked);
    e3c_tensor_free(picked);
    return st ? st : e3c_values_take_one(out, sum);
}

/* (randn(5, randint(1, 3)), arange(3)) per requested input, as the document's hook. */
static e3c_status tracing_inputs(e3c_module *self, int n, e3c_generator *g, e3c_values ***out, size_t *count)
{
    (void)self;
    size_t k = (size_t)(n > 0 ? n : 1);
    e3c_values **lists = calloc(k, sizeof *lists);
    if (!lists)
        return e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    e3c_status st = E3C_OK;
    const int64_t idx[3] = {0, 1, 2}, three = 3;
    for (size_t i = 0; !st && i < k; i++) {
        e3c_tensor *u = NULL, *x = NULL, *ix = NULL;
        double v = 0;
        st = e3c_rand(&u, g, E3C_FLOAT64, NULL, 0);
        if (!st)
            st = e3c_tensor_to_doubles(&v, 1, u);
        int64_t shape[2] = {5, 1 + (int64_t)(v * 3)};
        if (!st)
            st = e3c_randn(&x, g, E3C_FLOAT32, shape, 2);
        if (!st)
            st = e3c_tensor_from_data(&ix, idx, E3C_INT64, &three, 1);
        if (!st)
            st = e3c_values_new(&lists[i]);
        if (!st)
            st = e3c_values_push(lists[i], x);
        if (!st)
            st = e3c_values_push(lists[i], ix);
        e3c_tensor_free(u), e3c_tensor_free(x), e3c_tensor_free(ix);
    }
    if (st) {
        e3c_values_array_free(lists, k);
        return st;
    }
    *out = lists;
    *count = k;
    return E3C_OK;
}

static const e3c_module_class tracing_class = {
    .name = "TracingModule", .mode = "trace", .forward = tracing_forward, .make_tracing_inputs = tracing_inputs};

e3c_status e3c_seed_tracing_new(e3c_module **out) { return e3c_module_new(out, &tracing_class, NULL); }

/* ---------------------------------------------------------- Supermod, ChildMod ---- */

static e3c_status identity_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    (void)self;
    e3c_tensor *t = NULL;
    e3c_status st = e3c_values_count(in) == 1 ? e3c_tensor_ref(&t, e3c_values_get(in, 0))
                                              : e3c_error_set(E3C_ERR_VALUE, "takes one input");
    return st ? st : e3c_values_take_one(out, t);
}

static e3c_status supermod_forward(e3c_module *self, const e3c_values *in, e3c_values **out)
{
    return e3c_module_call_child(out, self, "child", in);
}

static const e3c_module_class childmod_class = {.name = "ChildMod", .mode = "unsupported", .forward = identity_forward};
static const e3c_module_class supermod_class = {.name = "Supermod", .mode = NULL, .forward = supermod_forward};

e3c_status e3c_seed_supermod_new(e3c_module **out)
{
    e3c_module *m = NULL, *child = NULL;
    e3c_status st = e3c_module_new(&child, &childmod_class, NULL);
    if (!st)
        st = e3c_module_new(&m, &supermod_class, NULL);
    if (!st) {
        st = e3c_module_add_child(m, "child", child);
        child = NULL;
    }
    e3c_module_free(child);
    return nn_finish(out, m, st);
}
