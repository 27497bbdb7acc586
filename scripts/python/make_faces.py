"""Converts scikit-image's bundled LFW subset into Datasets/faces and Datasets/nonfaces (PNG).

skimage/data/lfw_subset.npy: (200, 25, 25) float64 in [0, 1]; rows 0-99 are faces from Labeled
Faces in the Wild, rows 100-199 non-face crops. Run once; the PNGs are committed:

    $(scripts/python/env.sh) -m pip install scikit-image pillow   # once
    $(scripts/python/env.sh) scripts/python/make_faces.py
"""
import pathlib

import numpy as np
import skimage
from PIL import Image

root = pathlib.Path(__file__).resolve().parents[2] / "Datasets"
data = np.load(pathlib.Path(skimage.__file__).parent / "data" / "lfw_subset.npy")
assert data.shape == (200, 25, 25), data.shape
for name, rows in (("faces", data[:100]), ("nonfaces", data[100:])):
    out = root / name
    out.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(rows):
        Image.fromarray(np.round(np.clip(img, 0, 1) * 255).astype(np.uint8), mode="L").save(out / f"{name[:-1]}_{i:03d}.png")
    print(f"{name}: {len(rows)} PNGs in {out}")
print("skimage", skimage.__version__)
