"""Reference jet images for GenLab's JetImage (Tests/LabTests/Fixtures/jet_images.json): the
preprocessing of make_jets.py applied to the stored float32 constituents of the first jets of each
bundled file, so Swift and Python see exactly the same inputs.

    .venv-physics/bin/python scripts/python/make_jet_image_fixtures.py   # after make_jets.sh made the venv
"""
import json
import pathlib

import h5py
import numpy as np

from make_jets import jet_image

root = pathlib.Path(__file__).resolve().parents[2]
out = {}
for name in ("qcd_test", "top_test", "wprime_test"):
    with h5py.File(root / "Datasets/jets" / f"{name}.h5") as f:
        c, j = f["constituents"][:15], f["jets"][:15]
    cases = []
    for k in range(len(c)):
        keep = c[k, :, 0] > 0
        pt, eta, phi = (c[k, keep, i].astype(np.float64) for i in range(3))
        img = jet_image(pt, eta, phi, float(j[k, 1]), float(j[k, 2]))
        cases.append({"index": k, "image": img.flatten().tolist()})
    out[name] = cases
path = root / "Tests/LabTests/Fixtures/jet_images.json"
path.parent.mkdir(parents=True, exist_ok=True)
path.write_text(json.dumps(out))
print("wrote", path)
