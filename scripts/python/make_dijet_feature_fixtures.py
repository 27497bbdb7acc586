"""Fixtures for GenLab's whole-event -> dijet-features path (Datasets/DijetFeatures.swift).

Takes whole events in the LHC Olympics R&D layout (what `make_dijets.py --events-layout N` writes),
keeps the first --qcd background and --signal signal events, writes them as pandas writes the R&D
file (a fixed-format frame `df`, integer column labels 0..2100, float64), and writes the features
FastJet gives for the same events: anti-kT R = 1.0 on the massless particles (pT, eta, phi), jets of
pT >= 20 GeV, the two leading jets' px py pz m and tau1..3 (beta = 1, exclusive-kT axes) in the R&D
features file's columns. Events with fewer than two jets are left out of the features, as GenLab does.

    .venv-physics/bin/python scripts/python/make_dijet_feature_fixtures.py EVENTS.h5 \
        --out Tests/DatasetsTests/Fixtures/events
"""
import argparse
import pathlib

import fastjet
import h5py
import numpy as np
import pandas

from make_dijets import LHCO_COLUMNS, R, nsubjettiness


def features(row):
    parts = row[:2100].reshape(700, 3)
    parts = parts[parts[:, 0] > 0]
    pjs = []
    for pt, eta, phi in parts:
        pjs.append(fastjet.PseudoJet(pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)))
    cs = fastjet.ClusterSequence(pjs, fastjet.JetDefinition(fastjet.antikt_algorithm, R))
    jets = fastjet.sorted_by_pt(cs.inclusive_jets(20.0))
    if len(jets) < 2:
        return None
    out = []
    for j in jets[:2]:
        out += [j.px(), j.py(), j.pz(), j.m(), *nsubjettiness(j.constituents())]
    return out + [row[2100]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("events")
    ap.add_argument("--qcd", type=int, default=30)
    ap.add_argument("--signal", type=int, default=10)
    ap.add_argument("--out", default="Tests/DatasetsTests/Fixtures/events")
    args = ap.parse_args()
    with h5py.File(args.events, "r") as f:
        values = f["df/block0_values"][:]
    labels = values[:, 2100]
    rows = np.concatenate([values[labels == 0][: args.qcd], values[labels == 1][: args.signal]])
    out = pathlib.Path(args.out)
    frame = pandas.DataFrame(rows.astype(np.float64), columns=range(2101))
    frame.to_hdf(out / "lhco_dijets.h5", key="df", mode="w", format="fixed", complevel=9, complib="zlib")
    feats = [f for f in (features(r) for r in rows) if f is not None]
    table = pandas.DataFrame(np.array(feats, np.float64), columns=LHCO_COLUMNS)
    table.to_hdf(out / "lhco_dijets_features.h5", key="df", mode="w", format="fixed")
    print(f"{len(rows)} events, {len(feats)} with two jets")


if __name__ == "__main__":
    main()
