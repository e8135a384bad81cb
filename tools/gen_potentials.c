/* gen_potentials DIR: write e3check's own test interatomic potentials into DIR.
 *
 * Small TorchScript potentials with the interfaces of deployed NequIP 0.6 and MACE 0.3
 * files (see fixtures/potentials/README.md), compiled from the source below through
 * e3check's C API and saved with their metadata as extra files. The energy is invariant by
 * construction: a Morse-like pair term with a smooth cosine cutoff, a per-species constant
 * and a three-body term |sum_j fc(r_ij) u_ij|^2; forces (and, with a cell, virial and stress
 * through a symmetric strain) come from torch.autograd.grad inside the model, as in the
 * real files. Deliberately broken variants each break one property.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e3check/torch.h"
#include "e3check/values.h"

/* Which property a variant breaks. */
typedef enum variant {
    OK = 0,
    ABSOLUTE,     /* the energy depends on an absolute coordinate */
    FORCE_OFFSET, /* a constant force offset: forces do not rotate */
    CELL_DIAG,    /* the model keeps only the cell's diagonal: the cell's rotation is lost */
    WIDTH1,       /* positions of width 1 accepted (no shape check; broadcasts against shifts) */
    ORDER,        /* the energy depends on the atoms' order (forces still its gradient) */
    SCALED,       /* forces scaled by 1.05: not the energy's gradient, still equivariant */
    HARD          /* a hard cutoff (no envelope): energy and forces jump as a pair crosses r_max */
} variant;

/* The invariant energy per atom and the per-atom vector m_i = sum_j fc u_ij. */
static const char energy_source[] =
    "def atomic(self, vec: Tensor, i: Tensor, j: Tensor, a: Tensor) -> Tuple[Tensor, Tensor]:\n"
    "    r = torch.sqrt((vec * vec).sum(1))\n"
    "    fc = 0.5 * (torch.cos(3.141592653589793 * r / self.r_max) + 1.0) * (r < self.r_max).to(r.dtype)\n"
    "@HARD@    fc = (r < self.r_max).to(r.dtype)\n"
    "    ai = a[i]\n"
    "    aj = a[j]\n"
    "    eps = ((ai @ self.eps) * aj).sum(1)\n"
    "    r0 = ((ai @ self.r0) * aj).sum(1)\n"
    "    e = torch.exp(-1.5 * (r - r0))\n"
    "    pair = eps * (e * e - 2.0 * e) * fc\n"
    "    n = a.shape[0]\n"
    "    u = vec / r.unsqueeze(1)\n"
    "    m = torch.zeros(n, 3, dtype=r.dtype).index_add(0, i, u * fc.unsqueeze(1))\n"
    "    e_atom = a @ self.e0 + 0.5 * torch.zeros(n, dtype=r.dtype).index_add(0, i, pair) + self.c3 * (m * m).sum(1)\n"
    "    return e_atom, m\n";

static const char nequip_source[] =
    "def forward(self, data: Dict[str, Tensor]) -> Dict[str, Tensor]:\n"
    "    pos_in = data['pos']\n"
    "@STRICT@    assert pos_in.dim() == 2 and pos_in.shape[1] == 3, 'pos must have shape [N, 3]'\n"
    "    pos = pos_in.detach().requires_grad_(True)\n"
    "    dtype = self.e0.dtype\n"
    "    x = pos.to(dtype)\n"
    "    edge_index = data['edge_index']\n"
    "    i = edge_index[0]\n"
    "    j = edge_index[1]\n"
    "    types = data['atom_types'].view(-1)\n"
    "    a = (types.unsqueeze(1) == torch.arange(self.e0.shape[0]).unsqueeze(0)).to(dtype)\n"
    "    disp = torch.zeros(3, 3, dtype=dtype).requires_grad_(True)\n"
    "    has_cell = 'cell' in data\n"
    "    vec = x[j] - x[i]\n"
    "    volume = torch.ones(1, dtype=dtype)\n"
    "    if has_cell:\n"
    "        sym = 0.5 * (disp + disp.t())\n"
    "        x = x + x @ sym\n"
    "        cell = data['cell'].view(3, 3).to(dtype)\n"
    "@CELL@        cell = torch.diag(torch.diagonal(cell))\n"
    "        volume = torch.abs(torch.det(cell)).view(1)\n"
    "        cell = cell + cell @ sym\n"
    "        vec = x[j] - x[i] + data['edge_cell_shift'].to(dtype) @ cell\n"
    "    e_atom, m = self.atomic(vec, i, j, a)\n"
    "@ABS@    e_atom = e_atom + 0.05 * x[:, 0]\n"
    "@ORDER@    e_atom = e_atom * (1.0 + 0.1 * torch.arange(e_atom.shape[0], dtype=dtype) / e_atom.shape[0])\n"
    "    total = e_atom.sum().view(1, 1)\n"
    "    out: Dict[str, Tensor] = {}\n"
    "    for k in data.keys():\n"
    "        out[k] = data[k]\n"
    "    if has_cell:\n"
    "        g = torch.autograd.grad([total.sum()], [pos, disp])\n"
    "        gp = g[0]\n"
    "        gd = g[1]\n"
    "        assert gp is not None and gd is not None\n"
    "        virial = (-gd).view(1, 3, 3).double()\n"
    "        out['virial'] = virial\n"
    "        out['stress'] = -virial / volume.double().view(1, 1, 1)\n"
    "    else:\n"
    "        g = torch.autograd.grad([total.sum()], [pos])\n"
    "        gp = g[0]\n"
    "        assert gp is not None\n"
    "        out['stress'] = torch.zeros(0).double()\n"
    "    forces = (-gp).double()\n"
    "@OFFSET@    forces = forces + torch.tensor([0.1, 0.0, 0.0]).double()\n"
    "@SCALED@    forces = 1.05 * forces\n"
    "    out['forces'] = forces\n"
    "    out['atomic_energy'] = e_atom.detach().view(-1, 1).double()\n"
    "    out['total_energy'] = total.detach().double()\n"
    "    out['node_features'] = torch.cat([e_atom.detach().view(-1, 1), m.detach()], 1)\n"
    "    return out\n";

static const char mace_source[] =
    "def forward(self, data: Dict[str, Tensor], training: bool = False, compute_force: bool = True,\n"
    "            compute_virials: bool = False, compute_stress: bool = False, compute_displacement: bool = False,\n"
    "            compute_hessian: bool = False) -> Dict[str, Optional[Tensor]]:\n"
    "    positions_in = data['positions']\n"
    "@STRICT@    assert positions_in.dim() == 2 and positions_in.shape[1] == 3, 'positions must have shape [N, 3]'\n"
    "    positions = positions_in.detach().requires_grad_(True)\n"
    "    dtype = self.e0.dtype\n"
    "    x = positions.to(dtype)\n"
    "    a = data['node_attrs'].to(dtype)\n"
    "    edge_index = data['edge_index']\n"
    "    sender = edge_index[0]\n"
    "    receiver = edge_index[1]\n"
    "    batch = data['batch']\n"
    "    ptr = data['ptr']\n"
    "    num_graphs = ptr.numel() - 1\n"
    "    want_strain = compute_virials or compute_stress or compute_displacement\n"
    "    disp = torch.zeros(num_graphs, 3, 3, dtype=dtype).requires_grad_(True)\n"
    "    cell = data['cell'].view(-1, 3, 3).to(dtype)\n"
    "@CELL@    cell = torch.diag_embed(torch.diagonal(cell, 0, 1, 2))\n"
    "    volume = torch.abs(torch.det(cell))\n"
    "    if want_strain:\n"
    "        sym = 0.5 * (disp + disp.transpose(1, 2))\n"
    "        x = x + torch.einsum('be,bec->bc', x, sym[batch])\n"
    "        cell = cell + torch.bmm(cell, sym)\n"
    "        shifts = torch.einsum('be,bec->bc', data['unit_shifts'].to(dtype), cell[batch[sender]])\n"
    "    else:\n"
    "        shifts = data['shifts'].to(dtype)\n"
    "@CELLSHIFT@        shifts = data['unit_shifts'].to(dtype) @ cell[0]\n"
    "    vec = x[receiver] - x[sender] + shifts\n"
    "    e_atom, m = self.atomic(vec, sender, receiver, a)\n"
    "@ABS@    e_atom = e_atom + 0.05 * x[:, 0]\n"
    "@ORDER@    e_atom = e_atom * (1.0 + 0.1 * torch.arange(e_atom.shape[0], dtype=dtype) / e_atom.shape[0])\n"
    "    energy = torch.zeros(num_graphs, dtype=dtype).index_add(0, batch, e_atom)\n"
    "    forces: Optional[Tensor] = None\n"
    "    virials: Optional[Tensor] = None\n"
    "    stress: Optional[Tensor] = None\n"
    "    displacement: Optional[Tensor] = None\n"
    "    if want_strain:\n"
    "        g = torch.autograd.grad([energy.sum()], [positions, disp])\n"
    "        gp = g[0]\n"
    "        gd = g[1]\n"
    "        assert gp is not None and gd is not None\n"
    "        vir = (-gd).double()\n"
    "        displacement = disp.detach().double()\n"
    "        if compute_stress:\n"
    "            stress = -vir / volume.double().view(-1, 1, 1)\n"
    "        if compute_virials:\n"
    "            virials = vir\n"
    "        if compute_force:\n"
    "            forces = (-gp).double()\n"
    "    elif compute_force:\n"
    "        g = torch.autograd.grad([energy.sum()], [positions])\n"
    "        gp = g[0]\n"
    "        assert gp is not None\n"
    "        forces = (-gp).double()\n"
    "@OFFSET@    if forces is not None:\n"
    "@OFFSET@        forces = forces + torch.tensor([0.1, 0.0, 0.0]).double()\n"
    "@SCALED@    if forces is not None:\n"
    "@SCALED@        forces = 1.05 * forces\n"
    "    out: Dict[str, Optional[Tensor]] = {}\n"
    "    out['energy'] = energy.detach().double()\n"
    "    out['node_energy'] = e_atom.detach().double()\n"
    "    out['interaction_energy'] = (energy - torch.zeros(num_graphs, dtype=dtype).index_add(0, batch, a @ self.e0))"
    ".detach().double()\n"
    "    out['forces'] = forces\n"
    "    out['virials'] = virials\n"
    "    out['stress'] = stress\n"
    "    out['displacement'] = displacement\n"
    "    out['hessian'] = None\n"
    "    out['node_feats'] = torch.cat([e_atom.detach().view(-1, 1), (m * m).sum(1, keepdim=True).detach(), m.detach()], 1)\n"
    "    return out\n";

/* The LAMMPS wrapper of MACE: forward(data, local_or_ghost, compute_virials). */
static const char lammps_source[] =
    "def forward(self, data: Dict[str, Tensor], local_or_ghost: Tensor, compute_virials: bool = False)"
    " -> Dict[str, Optional[Tensor]]:\n"
    "    out = self.model.forward(data, False, True, compute_virials, False, False, False)\n"
    "    node_energy = out['node_energy']\n"
    "    assert node_energy is not None\n"
    "    local = node_energy * local_or_ghost\n"
    "    total = torch.zeros(data['ptr'].numel() - 1, dtype=local.dtype).index_add(0, data['batch'], local)\n"
    "    res: Dict[str, Optional[Tensor]] = {}\n"
    "    res['total_energy_local'] = total\n"
    "    res['node_energy'] = node_energy\n"
    "    res['forces'] = out['forces']\n"
    "    res['virials'] = out['virials']\n"
    "    return res\n";

/* `src` with the lines marked @NAM@ kept (marker removed) when their marker is in `keep`,
 * dropped otherwise. Caller frees. */
static char *specialise(const char *src, const char *keep)
{
    char *out = malloc(strlen(src) + 1), *w = out;
    if (!out)
        return NULL;
    for (const char *line = src; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line + 1) : strlen(line);
        if (line[0] == '@') {
            const char *close = strchr(line + 1, '@');
            char marker[32];
            size_t mlen = (size_t)(close - line + 1);
            snprintf(marker, sizeof marker, "%.*s", (int)mlen, line);
            if (strstr(keep, marker)) {
                memcpy(w, close + 1, len - mlen);
                w += len - mlen;
            }
        } else {
            memcpy(w, line, len);
            w += len;
        }
        line += len;
    }
    *w = '\0';
    return out;
}

static const char *markers(variant v, int mace)
{
    switch (v) {
    case OK: return "@STRICT@";
    case ABSOLUTE: return "@STRICT@ @ABS@";
    case FORCE_OFFSET: return "@STRICT@ @OFFSET@";
    case CELL_DIAG: return mace ? "@STRICT@ @CELLSHIFT@ @CELL@" : "@STRICT@ @CELL@";
    case WIDTH1: return "";
    case ORDER: return "@STRICT@ @ORDER@";
    case SCALED: return "@STRICT@ @SCALED@";
    case HARD: return "@STRICT@ @HARD@";
    }
    return "";
}

static e3c_status add_buffer(e3c_jit_module *m, const char *name, const double *v, const int64_t *shape, int nd,
                             e3c_dtype dtype)
{
    e3c_tensor *t64 = NULL, *t = NULL;
    e3c_status st = e3c_tensor_from_data(&t64, v, E3C_FLOAT64, shape, nd);
    if (!st)
        st = e3c_tensor_to(&t, t64, dtype);
    if (!st)
        st = e3c_jit_add_tensor(m, name, t, 0);
    e3c_tensor_free(t64), e3c_tensor_free(t);
    return st;
}

/* The parameters: 2 species (H, C), r_max 4.0. */
static e3c_status add_parameters(e3c_jit_module *m, e3c_dtype dtype)
{
    static const double e0[2] = {-0.5, -1.25}, eps[4] = {0.2, 0.3, 0.3, 0.45}, r0[4] = {1.1, 1.3, 1.3, 1.5};
    static const double c3 = 0.07, r_max = 4.0;
    int64_t s2 = 2, s22[2] = {2, 2};
    e3c_status st = add_buffer(m, "e0", e0, &s2, 1, dtype);
    if (!st)
        st = add_buffer(m, "eps", eps, s22, 2, dtype);
    if (!st)
        st = add_buffer(m, "r0", r0, s22, 2, dtype);
    if (!st)
        st = add_buffer(m, "c3", &c3, NULL, 0, dtype);
    if (!st)
        st = add_buffer(m, "r_max", &r_max, NULL, 0, dtype);
    return st;
}

static e3c_status set_text(e3c_jit_module *m, const char *name, const char *text)
{
    return e3c_jit_set_extra_file(m, name, text, strlen(text));
}

static e3c_status build(e3c_jit_module **out, int mace, variant v, e3c_dtype dtype)
{
    char *src = specialise(mace ? mace_source : nequip_source, markers(v, mace));
    char *energy = specialise(energy_source, markers(v, mace));
    e3c_status st = src && energy ? e3c_jit_new(out, mace ? "ScaleShiftMACE" : "GraphModel")
                                  : e3c_error_set(E3C_ERR_NOMEM, "out of memory");
    if (!st)
        st = add_parameters(*out, dtype);
    if (!st)
        st = e3c_jit_define(*out, energy);
    if (!st)
        st = e3c_jit_define(*out, src);
    free(src), free(energy);
    if (!st && mace) {
        static const double z[2] = {1, 6};
        int64_t two = 2;
        e3c_tensor *t64 = NULL, *t = NULL;
        st = e3c_tensor_from_data(&t64, z, E3C_FLOAT64, &two, 1);
        if (!st)
            st = e3c_tensor_to(&t, t64, E3C_INT64);
        if (!st)
            st = e3c_jit_add_tensor(*out, "atomic_numbers", t, 0);
        e3c_tensor_free(t64), e3c_tensor_free(t);
        if (!st)
            st = set_text(*out, "commit.txt", "e3check test potential");
    } else if (!st) {
        st = set_text(*out, "r_max", "4.0");
        if (!st)
            st = set_text(*out, "n_species", "2");
        if (!st)
            st = set_text(*out, "type_names", "H C");
        if (!st)
            st = set_text(*out, "model_dtype", e3c_dtype_name(dtype));
        if (!st)
            st = set_text(*out, "_jit_bailout_depth", "2");
        if (!st)
            st = set_text(*out, "_jit_fusion_strategy", "DYNAMIC,3");
    }
    if (st) {
        e3c_jit_free(*out);
        *out = NULL;
    }
    return st;
}

/* MACE's LAMMPS wrapper around a MACE-shaped model. */
static e3c_status build_lammps(e3c_jit_module **out, e3c_dtype dtype)
{
    e3c_jit_module *inner = NULL;
    e3c_status st = build(&inner, 1, OK, dtype);
    if (!st)
        st = e3c_jit_new(out, "LAMMPS_MACE");
    if (!st)
        st = e3c_jit_add_submodule(*out, "model", inner);
    /* as MACE's LAMMPS_MACE, the wrapper exposes the model's r_max and atomic_numbers */
    static const char *const shared[] = {"r_max", "atomic_numbers"};
    for (int i = 0; !st && i < 2; i++) {
        e3c_tensor *t = NULL;
        st = e3c_jit_attribute_tensor(&t, inner, shared[i]);
        if (!st)
            st = e3c_jit_add_tensor(*out, shared[i], t, 0);
        e3c_tensor_free(t);
    }
    if (!st)
        st = e3c_jit_define(*out, lammps_source);
    e3c_jit_free(inner);
    return st;
}

static int save(const char *dir, const char *name, e3c_jit_module *m)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    e3c_status st = m ? e3c_jit_save(m, path) : E3C_ERR_INTERNAL;
    if (st)
        fprintf(stderr, "gen_potentials: %s: %s\n", name, e3c_error_last());
    e3c_jit_free(m);
    return st ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_potentials DIR\n");
        return 4;
    }
    static const struct {
        const char *name;
        int mace;
        variant v;
        e3c_dtype dtype;
    } files[] = {
        {"nequip_f64.pth", 0, OK, E3C_FLOAT64},
        {"nequip_f32.pth", 0, OK, E3C_FLOAT32},
        {"nequip_absolute.pth", 0, ABSOLUTE, E3C_FLOAT64},
        {"nequip_force_offset.pth", 0, FORCE_OFFSET, E3C_FLOAT64},
        {"nequip_cell_diag.pth", 0, CELL_DIAG, E3C_FLOAT64},
        {"nequip_order.pth", 0, ORDER, E3C_FLOAT64},
        {"nequip_scaled_forces.pth", 0, SCALED, E3C_FLOAT64},
        {"nequip_hard_cutoff.pth", 0, HARD, E3C_FLOAT64},
        {"mace_f64.model", 1, OK, E3C_FLOAT64},
        {"mace_f32.model", 1, OK, E3C_FLOAT32},
        {"mace_absolute.model", 1, ABSOLUTE, E3C_FLOAT64},
        {"mace_force_offset.model", 1, FORCE_OFFSET, E3C_FLOAT64},
        {"mace_cell_diag.model", 1, CELL_DIAG, E3C_FLOAT64},
        {"mace_width1.model", 1, WIDTH1, E3C_FLOAT64},
        {"mace_order.model", 1, ORDER, E3C_FLOAT64},
        {"mace_scaled_forces.model", 1, SCALED, E3C_FLOAT64},
        {"mace_hard_cutoff_f32.model", 1, HARD, E3C_FLOAT32},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        e3c_jit_module *m = NULL;
        if (build(&m, files[i].mace, files[i].v, files[i].dtype)) {
            fprintf(stderr, "gen_potentials: %s: %s\n", files[i].name, e3c_error_last());
            bad = 1;
            continue;
        }
        bad |= save(argv[1], files[i].name, m);
    }
    e3c_jit_module *lammps = NULL;
    if (build_lammps(&lammps, E3C_FLOAT64)) {
        fprintf(stderr, "gen_potentials: mace_lammps.pt: %s\n", e3c_error_last());
        bad = 1;
    } else {
        bad |= save(argv[1], "mace_lammps_f64.pt", lammps);
    }
    return bad;
}
