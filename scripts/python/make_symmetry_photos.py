"""Photographs for the symmetry detector's gallery (Datasets/symmetry/photos/).

From scikit-image's bundled sample data (skimage.data), each free of copyright restrictions as
its docstring states: camera (CC0, Lav Varshney), chelsea (CC0, Stefan van der Walt), clock
(public domain, Stefan van der Walt), rocket (SpaceX, public domain), coins (Brooklyn Museum,
no known copyright restrictions), horse (openclipart, CC0). Shrunk to at most 256 px a side.
Run with the tools venv (scikit-image installed on demand):
    .venv-tools/venv/bin/python scripts/python/make_symmetry_photos.py
"""
import pathlib
import subprocess
import sys

try:
    import skimage.data
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "scikit-image"])
    import skimage.data
import numpy as np
from PIL import Image

OUT = pathlib.Path(__file__).resolve().parents[2] / "Datasets" / "symmetry" / "photos"
OUT.mkdir(parents=True, exist_ok=True)
for name in ["camera", "chelsea", "clock", "rocket", "coins", "horse"]:
    a = getattr(skimage.data, name)()
    if a.dtype == bool:
        a = (~a * 255).astype(np.uint8)  # the horse: black on white
    im = Image.fromarray(a)
    im.thumbnail((256, 256), Image.LANCZOS)
    path = OUT / (name + (".jpg" if im.mode == "RGB" else ".png"))
    im.save(path, quality=90) if path.suffix == ".jpg" else im.save(path, optimize=True)
    print(path.relative_to(OUT.parents[2]), im.size)
