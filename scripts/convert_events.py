#!/usr/bin/env python3
"""Converts event files GenLab does not read natively — ROOT TTrees (JetClass style, jagged part_*
branches), Parquet files of awkward arrays, Dark Machines challenge CSV — into GenLab's HDF5 layout:
/constituents (N, M, 3) of (pT, η, φ) in GeV, zero-padded and pT-ordered, /labels (0 background,
1 signal) when known, /weights when the file has them, and /jets (N, 4) of (pT, η, φ, m).

    $(scripts/python/env.sh) scripts/convert_events.py IN.root|IN.parquet|IN.csv OUT.h5 \
        [--tree NAME] [--max-constituents 200] [--signal PROCESS,…] [--overwrite]

Why a converter and not a native reader: Debian 12 ships no ROOT or Arrow library for GenLab to
link, and a hand-written reader of ROOT's format (its compression, streamers and jagged baskets)
would be a large twin of uproot, which the field already keeps well. Labels: ROOT/Parquet take
`label` (0/1), `is_signal_new`, or JetClass's one-hot `label_*` branches (label_QCD = background,
any other = signal); Dark Machines CSV takes --signal, the process names that are signal.
"""
import argparse
import os
import pathlib
import sys

import h5py
import numpy as np


def pad(pt, eta, phi, m):
    """Jagged (pt, eta, phi) lists → (N, m, 3), each row pT-ordered and zero-padded."""
    out = np.zeros((len(pt), m, 3), dtype=np.float32)
    for i, (a, b, c) in enumerate(zip(pt, eta, phi)):
        a, b, c = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), np.asarray(c, dtype=np.float64)
        order = np.argsort(-a)[:m]
        out[i, :len(order), 0], out[i, :len(order), 1], out[i, :len(order), 2] = a[order], b[order], c[order]
    return out


def from_cartesian(px, py, pz):
    pt = [np.hypot(x, y) for x, y in zip(px, py)]
    eta = [np.arcsinh(np.divide(z, p, out=np.zeros_like(z, dtype=np.float64), where=p > 0)) for z, p in zip(pz, pt)]
    phi = [np.arctan2(y, x) for x, y in zip(px, py)]
    return pt, eta, phi


def labels_from(fields, get):
    if "label" in fields:
        return np.asarray(get("label"), dtype=np.int64)
    if "is_signal_new" in fields:
        return np.asarray(get("is_signal_new"), dtype=np.int64)
    onehot = [f for f in fields if f.startswith("label_")]
    if "label_QCD" in onehot:
        return 1 - np.asarray(get("label_QCD"), dtype=np.int64)
    return None


def jagged(get, fields):
    if {"part_pt", "part_eta", "part_phi"} <= set(fields):
        return [list(map(np.asarray, get(k))) for k in ("part_pt", "part_eta", "part_phi")]
    if {"part_px", "part_py", "part_pz"} <= set(fields):
        return list(from_cartesian(*[list(map(np.asarray, get(k))) for k in ("part_px", "part_py", "part_pz")]))
    sys.exit(f"convert_events: no particle branches (part_pt/eta/phi or part_px/py/pz) among {sorted(fields)[:20]}")


def read_root(path, tree):
    import uproot
    f = uproot.open(path)
    names = [k.split(";")[0] for k, v in f.items() if v.classname.startswith(("TTree", "ROOT::RNTuple"))]
    if not names:
        sys.exit(f"convert_events: {path} holds no TTree or RNTuple")
    t = f[tree or names[0]]
    arrays = t.arrays(library="ak")
    fields = arrays.fields
    return jagged(lambda k: arrays[k].to_list(), fields), labels_from(fields, lambda k: arrays[k].to_numpy()), None


def read_parquet(path):
    import awkward as ak
    arrays = ak.from_parquet(path)
    fields = arrays.fields
    return jagged(lambda k: arrays[k].to_list(), fields), labels_from(fields, lambda k: ak.to_numpy(arrays[k])), None


def read_dark_machines(path, signal):
    """id;process;weight;MET;METphi;obj,E,pt,eta,phi;… in MeV: every object of an event as a particle."""
    pt, eta, phi, labels, weights = [], [], [], [], []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            parts = [p for p in line.strip().split(";") if p]
            if len(parts) < 5:
                sys.exit(f"convert_events: {path}:{number}: expected id;process;weight;MET;METphi;objects")
            objects = [p.split(",") for p in parts[5:]]
            pt.append(np.array([float(o[2]) / 1000 for o in objects]))
            eta.append(np.array([float(o[3]) for o in objects]))
            phi.append(np.array([float(o[4]) for o in objects]))
            labels.append(1 if parts[1] in signal else 0)
            weights.append(float(parts[2]))
    return [pt, eta, phi], (np.array(labels) if signal else None), np.array(weights)


def jets_of(c):
    pt, eta, phi = c[..., 0].astype(np.float64), c[..., 1].astype(np.float64), c[..., 2].astype(np.float64)
    px, py, pz, e = (pt * np.cos(phi)).sum(1), (pt * np.sin(phi)).sum(1), (pt * np.sinh(eta)).sum(1), (pt * np.cosh(eta)).sum(1)
    jpt = np.hypot(px, py)
    jeta = np.arcsinh(np.divide(pz, jpt, out=np.zeros_like(pz), where=jpt > 0))
    m = np.sqrt(np.maximum(e ** 2 - px ** 2 - py ** 2 - pz ** 2, 0))
    return np.stack([jpt, jeta, np.arctan2(py, px), m], axis=1).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--tree", help="the TTree of a ROOT file (default: the first)")
    ap.add_argument("--max-constituents", type=int, default=200)
    ap.add_argument("--signal", default="", help="Dark Machines CSV: comma-separated process names that are signal")
    ap.add_argument("--overwrite", action="store_true")
    a = ap.parse_args()
    head = open(a.input, "rb").read(4)
    if head == b"root":
        (pt, eta, phi), labels, weights = read_root(a.input, a.tree)
    elif head == b"PAR1":
        (pt, eta, phi), labels, weights = read_parquet(a.input)
    else:
        (pt, eta, phi), labels, weights = read_dark_machines(a.input, set(filter(None, a.signal.split(","))))
    if os.path.lexists(a.output) and not a.overwrite:
        sys.exit(f"convert_events: {a.output} exists; pass --overwrite to replace it")
    c = pad(pt, eta, phi, a.max_constituents)
    tmp = pathlib.Path(a.output).with_name("." + pathlib.Path(a.output).name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.create_dataset("constituents", data=c, compression="gzip", shuffle=True)
        f.create_dataset("jets", data=jets_of(c))
        if labels is not None:
            f.create_dataset("labels", data=labels.astype(np.int8))
        if weights is not None:
            f.create_dataset("weights", data=weights.astype(np.float32))
        f.attrs["constituent_features"] = "pT, eta, phi"
        f.attrs["converted_from"] = os.path.basename(a.input)
    os.replace(tmp, a.output)
    print(f"wrote {a.output}: {len(c)} events, up to {a.max_constituents} constituents"
          + (", labels" if labels is not None else "") + (", weights" if weights is not None else ""))


if __name__ == "__main__":
    main()
