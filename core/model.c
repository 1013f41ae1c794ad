/* Model kinds registry and model instances (parameters, stencil, options). */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

extern const axm_model_kind axm_kind_smf;
extern const axm_model_kind axm_kind_sundt;
extern const axm_model_kind axm_kind_mrg;

/* Adding a kind: one extern declaration above and one entry here. */
static const axm_model_kind *const kinds[] = {
    &axm_kind_smf,
    &axm_kind_sundt,
    &axm_kind_mrg,
};

const axm_model_kind *const *axm_model_kinds(int *n)
{
    if (n) *n = (int)(sizeof kinds / sizeof kinds[0]);
    return kinds;
}

const axm_model_kind *axm_model_kind_find(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i]->name, name) == 0) return kinds[i];
    return NULL;
}

axm_model *axm_model_create(const char *kind_name, axm_err *err)
{
    const axm_model_kind *k = axm_model_kind_find(kind_name);
    if (!k) {
        char names[256] = "";
        int n;
        const axm_model_kind *const *all = axm_model_kinds(&n);
        for (int i = 0; i < n; i++) {
            if (i) strncat(names, ", ", sizeof names - strlen(names) - 1);
            strncat(names, all[i]->name, sizeof names - strlen(names) - 1);
        }
        axm_fail(err, AXM_ERR_INPUT, "model: unknown kind \"%s\" (expected one of: %s)",
                 kind_name ? kind_name : "(null)", names);
        return NULL;
    }
    axm_model *m = calloc(1, sizeof *m);
    double *p = calloc((size_t)(k->n_params > 0 ? k->n_params : 1), sizeof *p);
    if (!m || !p) {
        free(m);
        free(p);
        axm_fail(err, AXM_ERR_NOMEM, "model: out of memory");
        return NULL;
    }
    m->kind = k;
    m->p = p;
    for (int i = 0; i < k->n_params; i++) p[i] = k->params[i].def;
    m->taps = 3;
    for (int c = 0; c < 2; c++) {
        m->stencil[c][0] = 1.0;
        m->stencil[c][1] = -2.0;
        m->stencil[c][2] = 1.0;
    }
    m->temp_c = 37.0;
    m->handle_nan = 0;
    m->geometry = AXM_GEOM_METHOD1;
    m->geom_fit = 0;
    m->lemella_fit = 0;
    m->passive_end_nodes = 0;
    m->trained = 0;
    m->weights_path[0] = '\0';
    return m;
}

axm_model *axm_model_clone(const axm_model *src, axm_err *err)
{
    if (!src) {
        axm_fail(err, AXM_ERR_INPUT, "model: clone of NULL");
        return NULL;
    }
    axm_model *m = axm_model_create(src->kind->name, err);
    if (!m) return NULL;
    double *p = m->p;
    *m = *src;
    m->p = p;
    memcpy(p, src->p, (size_t)src->kind->n_params * sizeof *p);
    return m;
}

void axm_model_destroy(axm_model *m)
{
    if (!m) return;
    free(m->p);
    free(m);
}

int axm_model_param_index(const axm_model *m, const char *name)
{
    if (!m || !name) return -1;
    for (int i = 0; i < m->kind->n_params; i++)
        if (strcmp(m->kind->params[i].name, name) == 0) return i;
    return -1;
}

double axm_model_get(const axm_model *m, const char *name)
{
    int i = axm_model_param_index(m, name);
    return i < 0 ? NAN : m->p[i];
}

int axm_model_set(axm_model *m, const char *name, double v, axm_err *err)
{
    int i = axm_model_param_index(m, name);
    if (i < 0)
        return axm_fail(err, AXM_ERR_INPUT, "model %s: unknown parameter \"%s\"",
                        m ? m->kind->name : "?", name ? name : "(null)");
    if (!isfinite(v))
        return axm_fail(err, AXM_ERR_INPUT, "model %s: parameter %s: expected a finite number",
                        m->kind->name, name);
    m->p[i] = v;
    return AXM_OK;
}

void axm_model_stencil_sym(const axm_model *m, double out[2][AXM_MAX_TAPS])
{
    int t = m->taps;
    for (int c = 0; c < 2; c++)
        for (int j = 0; j < AXM_MAX_TAPS; j++)
            out[c][j] = j < t ? (m->stencil[c][j] + m->stencil[c][t - 1 - j]) / 2 : 0.0;
}

double axm_deltax_method1_um(double D)
{
    if (D >= 5.26) return -8.215284 * D * D + 272.4201 * D - 780.2411;
    return (500.0 / 5.7) * D;
}
