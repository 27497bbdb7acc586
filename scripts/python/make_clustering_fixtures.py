"""FastJet's jets for the first whole events of Datasets/jets/lhco_events.h5
(Tests/PhysicsTests/Fixtures/fastjet_jets.json), for anti-kT, kT and Cambridge/Aachen at R = 1.0:
the inclusive jets above 20 GeV with pT, eta, phi, mass and constituent indices.

    .venv-physics/bin/python scripts/python/make_clustering_fixtures.py
"""
import json
import pathlib

import fastjet
import h5py
import numpy as np

root = pathlib.Path(__file__).resolve().parents[2]
with h5py.File(root / "Datasets/jets/lhco_events.h5") as f:
    events = f["df/block0_values"][:12]
out = {}
for name, algo in (("anti-kt", fastjet.antikt_algorithm), ("kt", fastjet.kt_algorithm), ("cambridge-aachen", fastjet.cambridge_algorithm)):
    jd = fastjet.JetDefinition(algo, 1.0)
    per_event = []
    for ev in events:
        parts = ev[:-1].reshape(700, 3)
        parts = parts[parts[:, 0] > 0]
        pjs = []
        for k, (pt, eta, phi) in enumerate(parts):
            pj = fastjet.PseudoJet(pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta))
            pj.set_user_index(k)
            pjs.append(pj)
        cs = fastjet.ClusterSequence(pjs, jd)
        jets = fastjet.sorted_by_pt(cs.inclusive_jets(20.0))
        per_event.append([{"pt": j.pt(), "eta": j.eta(), "phi": j.phi_std(), "m": j.m(),
                           "constituents": sorted(c.user_index() for c in j.constituents())} for j in jets])
    out[name] = per_event
path = root / "Tests/PhysicsTests/Fixtures/fastjet_jets.json"
path.write_text(json.dumps(out))
print("wrote", path, {k: sum(len(e) for e in v) for k, v in out.items()})
