"""Independent (numpy) jet observables for GenLab's Physics tests
(Tests/PhysicsTests/Fixtures/observables.json): pT, mass, multiplicity and N-subjettiness τ1..τ3
(β = 1, R0 = 1, exclusive-kT axes: always merge the pair with the smallest
min(pT_i², pT_j²)·ΔR², E-scheme, until N remain) for the first jets of each bundled file.

    .venv-tools/venv/bin/python scripts/python/make_observable_fixtures.py
"""
import json
import pathlib

import h5py
import numpy as np

root = pathlib.Path(__file__).resolve().parents[2]


def fourvectors(pt, eta, phi):
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)], 1)


def y_phi(v):
    px, py, pz, e = v.T
    return 0.5 * np.log((e + pz) / (e - pz)), np.arctan2(py, px)


def dr2(a, b):
    ya, pa = y_phi(a)
    yb, pb = y_phi(b)
    dphi = np.abs(pa[:, None] - pb[None, :])
    dphi = np.where(dphi > np.pi, 2 * np.pi - dphi, dphi)
    return (ya[:, None] - yb[None, :]) ** 2 + dphi ** 2


def axes(v, n):
    objs = v.copy()
    while len(objs) > n:
        pt2 = objs[:, 0] ** 2 + objs[:, 1] ** 2
        d = np.minimum(pt2[:, None], pt2[None, :]) * dr2(objs, objs)
        d[np.tril_indices(len(objs))] = np.inf
        i, j = np.unravel_index(np.argmin(d), d.shape)
        objs[i] = objs[i] + objs[j]
        objs = np.delete(objs, j, 0)
    return objs


def tau(v, n):
    pt = np.hypot(v[:, 0], v[:, 1])
    d = np.sqrt(dr2(v, axes(v, n)).min(1))
    return float((pt * d).sum() / pt.sum())


out = {}
for name in ("qcd_test", "top_test", "wprime_test"):
    with h5py.File(root / "Datasets/jets" / f"{name}.h5") as f:
        c = f["constituents"][:6].astype(np.float64)
    rows = []
    for k in range(len(c)):
        keep = c[k, :, 0] > 0
        v = fourvectors(*(c[k, keep, i] for i in range(3)))
        s = v.sum(0)
        rows.append({"index": k, "pt": float(np.hypot(s[0], s[1])), "mass": float(np.sqrt(max(s[3] ** 2 - (s[:3] ** 2).sum(), 0))),
                     "multiplicity": int(keep.sum()), "tau": [tau(v, n) for n in (1, 2, 3)]})
    out[name] = rows
path = root / "Tests/PhysicsTests/Fixtures/observables.json"
path.write_text(json.dumps(out))
print("wrote", path)
