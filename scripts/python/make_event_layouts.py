"""The same jets written in the layouts of the field's public data sets, each by that data set's own
tools (pandas/PyTables, h5py, uproot, awkward/pyarrow, plain text), from GenLab's bundled jets: QCD
(background) from Datasets/jets/qcd_test.h5 and tops (signal) from top_test.h5, shuffled together
with a fixed seed. Every layout file has a twin in GenLab's own layout holding exactly the jets it
holds (`genlab_*.h5`), so that `genlab score` can be compared file against twin.

    $(scripts/python/env.sh) scripts/python/make_event_layouts.py --out DIR [--jets N]

Small files (--jets 40) are committed as Tests/DatasetsTests/Fixtures/events/; larger ones (the
default, 2 000 QCD + 2 000 top) are made on demand for the AUC comparison in the note/README.
"""
import argparse
import pathlib

import h5py
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load(n_each, seed):
    """(constituents (N, 200, 3) pt/eta/phi, labels (N,)) from the bundled test files, shuffled."""
    parts, labels = [], []
    for name, label in (("qcd_test.h5", 0), ("top_test.h5", 1)):
        with h5py.File(ROOT / "Datasets/jets" / name) as f:
            c = f["constituents"][:n_each].astype(np.float64)
        parts.append(c)
        labels.append(np.full(len(c), label, dtype=np.int64))
    c, y = np.concatenate(parts), np.concatenate(labels)
    order = np.random.default_rng(seed).permutation(len(y))
    return c[order], y[order]


def four_momenta(c):
    """Massless (E, px, py, pz) of each constituent; zero for padding."""
    pt, eta, phi = c[..., 0], c[..., 1], c[..., 2]
    live = pt > 0
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = pt * np.cosh(eta)
    return [np.where(live, v, 0.0) for v in (e, px, py, pz)]


def write_genlab(path, c, y):
    with h5py.File(path, "w") as f:
        f.create_dataset("constituents", data=c.astype(np.float32))
        f.create_dataset("labels", data=y.astype(np.int8))


def top_tagging(out, c, y, fmt):
    import pandas as pd
    e, px, py, pz = four_momenta(c)
    m = c.shape[1]
    columns = {}
    for i in range(m):
        columns[f"E_{i}"], columns[f"PX_{i}"] = e[:, i], px[:, i]
        columns[f"PY_{i}"], columns[f"PZ_{i}"] = py[:, i], pz[:, i]
    for k in ("truthE", "truthPX", "truthPY", "truthPZ"):
        columns[k] = np.zeros(len(y))
    columns["ttv"] = np.zeros(len(y), dtype=np.int64)
    columns["is_signal_new"] = y
    df = pd.DataFrame(columns)
    # The table format with the label as a data column (its own member), as a user querying it writes it.
    extra = {"data_columns": ["is_signal_new"]} if fmt == "table" else {}
    df.to_hdf(out / f"toptagging_{fmt}.h5", key="table", mode="w", format=fmt, **extra)


def lhco(out, c, y, labelled, complib=None, name=None):
    """Whole events as the LHCO R&D file: each jet's constituents as one event's particles (700 slots)."""
    import pandas as pd
    n = len(y)
    rows = np.zeros((n, 700 * 3 + (1 if labelled else 0)))
    m = min(c.shape[1], 700)
    rows[:, 0:3 * m:3], rows[:, 1:3 * m:3], rows[:, 2:3 * m:3] = c[:, :m, 0], c[:, :m, 1], c[:, :m, 2]
    if labelled:
        rows[:, -1] = y
    df = pd.DataFrame(rows)
    kwargs = {"complib": complib, "complevel": 5} if complib else {}
    df.to_hdf(out / name, key="df", mode="w", format="fixed", **kwargs)


def hardest(c, k):
    """Each jet's k hardest constituents (already pT-ordered in GenLab's files)."""
    return c[:, :k, :]


def jetnet(out, c, y):
    """JetNet's layout: 30 particles of (eta_rel, phi_rel, pt_rel, mask) and jet (pt, eta, mass, n)."""
    c30 = hardest(c, 30)
    e, px, py, pz = four_momenta(c)
    E, PX, PY, PZ = e.sum(1), px.sum(1), py.sum(1), pz.sum(1)
    jpt = np.hypot(PX, PY)
    jeta = np.arcsinh(PZ / jpt)
    jphi = np.arctan2(PY, PX)
    jm = np.sqrt(np.maximum(E ** 2 - PX ** 2 - PY ** 2 - PZ ** 2, 0))
    live = c30[..., 0] > 0
    dphi = (c30[..., 2] - jphi[:, None] + np.pi) % (2 * np.pi) - np.pi
    feats = np.stack([np.where(live, c30[..., 1] - jeta[:, None], 0), np.where(live, dphi, 0),
                      np.where(live, c30[..., 0] / jpt[:, None], 0), live.astype(np.float64)], axis=-1)
    jets = np.stack([jpt, jeta, jm, live.sum(1)], axis=-1)
    with h5py.File(out / "jetnet.h5", "w") as f:
        f.create_dataset("particle_features", data=feats.astype(np.float32))
        f.create_dataset("jet_features", data=jets.astype(np.float32))
        # JetNet's files hold one jet type each; labels are added here so that one file can be scored.
        f.create_dataset("labels", data=y.astype(np.int8))
    # Its twin: the same 30 particles, absolute, in GenLab's layout.
    write_genlab(out / "genlab_jetnet.h5", c30, y)


def atlas(out, c, y):
    e, _, _, _ = four_momenta(c)
    mev = 1000.0
    with h5py.File(out / "atlas.h5", "w") as f:
        f.create_dataset("fjet_clus_pt", data=(c[..., 0] * mev).astype(np.float32), compression="gzip")
        f.create_dataset("fjet_clus_eta", data=c[..., 1].astype(np.float32), compression="gzip")
        f.create_dataset("fjet_clus_phi", data=c[..., 2].astype(np.float32), compression="gzip")
        f.create_dataset("fjet_clus_E", data=(e * mev).astype(np.float32), compression="gzip")
        f.create_dataset("labels", data=y.astype(np.float32))
        f.create_dataset("training_weights", data=np.ones(len(y), dtype=np.float32))


def jetclass_root(out, c, y):
    import awkward as ak
    import uproot
    e, px, py, pz = four_momenta(c)
    live = c[..., 0] > 0
    counts = live.sum(1)

    def jag(v):
        return ak.unflatten(v[live], counts)
    # A TTree as JetClass writes them (uproot's default for a dict of jagged arrays is an RNTuple).
    with uproot.recreate(out / "jetclass.root") as f:
        branches = {"part_px": jag(px), "part_py": jag(py), "part_pz": jag(pz), "part_energy": jag(e),
                    "label_QCD": (y == 0).astype(np.int32), "label_Tbqq": (y == 1).astype(np.int32)}
        tree = f.mktree("tree", {k: v.type.content if isinstance(v, ak.Array) else v.dtype for k, v in branches.items()})
        tree.extend(branches)
    ak.to_parquet(ak.Array({"part_pt": jag(c[..., 0]), "part_eta": jag(c[..., 1]), "part_phi": jag(c[..., 2]),
                            "label": y}), out / "jetclass.parquet")


def dark_machines(out, c, y):
    """Dark Machines challenge CSV: id;process;weight;MET;METphi;obj,E,pt,eta,phi;… (jets as 'j' objects)."""
    e, _, _, _ = four_momenta(c)
    with open(out / "darkmachines.csv", "w") as f:
        for i in range(len(y)):
            objs = [f"j,{e[i, k] * 1000:.6g},{c[i, k, 0] * 1000:.6g},{c[i, k, 1]:.6g},{c[i, k, 2]:.6g}"
                    for k in range(c.shape[1]) if c[i, k, 0] > 0]
            f.write(f"{i};{'ttbar' if y[i] else 'QCD'};1;0;0;" + ";".join(objs) + ";\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--jets", type=int, default=2000, help="jets of each class")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    c, y = load(a.jets, a.seed)
    write_genlab(out / "genlab.h5", c, y)
    top_tagging(out, c, y, "fixed")
    top_tagging(out, c, y, "table")
    lhco(out, c, y, labelled=True, name="lhco_rnd.h5")
    lhco(out, c, y, labelled=False, name="lhco_blackbox.h5")
    lhco(out, c, y, labelled=True, complib="blosc", name="lhco_rnd_blosc.h5")
    jetnet(out, c, y)
    atlas(out, c, y)
    jetclass_root(out, c, y)
    dark_machines(out, c, y)
    print(f"wrote {len(list(out.iterdir()))} files to {out} ({len(y)} jets each)")


if __name__ == "__main__":
    main()
