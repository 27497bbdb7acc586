"""Files written by numpy, Pillow and h5py for GenLab's readers (Tests/FormatsTests/Fixtures/),
with the values they hold in expected.json. Run once; the outputs are committed:

    $(scripts/python/env.sh) scripts/python/make_formats_fixtures.py
"""
import gzip
import json
import pathlib
import struct

import h5py
import numpy as np
from PIL import Image

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/FormatsTests/Fixtures"
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(3)
expected = {}

base = (rng.random((3, 4)) * 10 - 5).astype(np.float32)
expected["array"] = base.flatten().tolist()
np.save(OUT / "f4.npy", base)
np.save(OUT / "f8_big.npy", base.astype(">f8"))
np.save(OUT / "fortran.npy", np.asfortranarray(base))
np.save(OUT / "i2.npy", np.round(base).astype("<i2"))
np.save(OUT / "u1.npy", np.array([[0, 7, 255]], dtype=np.uint8))
np.save(OUT / "f2.npy", base.astype(np.float16))
expected["f2"] = base.astype(np.float16).astype(np.float32).flatten().tolist()
with open(OUT / "v2.npy", "wb") as f:  # a version-2 header
    np.lib.format.write_array(f, base, version=(2, 0))

grey = (rng.random((5, 7)) * 255).astype(np.uint8)
rgb = (rng.random((5, 7, 3)) * 255).astype(np.uint8)
Image.fromarray(grey, "L").save(OUT / "grey.png")
Image.fromarray(rgb, "RGB").save(OUT / "rgb.png")
Image.fromarray(np.dstack([rgb, grey]), "RGBA").save(OUT / "rgba.png")
Image.fromarray(grey, "L").convert("P").save(OUT / "palette.png")
g16 = (rng.random((5, 7)) * 65535).astype(np.uint16)
Image.fromarray(g16.astype(np.int32), "I").convert("I;16").save(OUT / "grey16.png")
Image.fromarray(rgb, "RGB").save(OUT / "rgb.jpg", quality=95)
expected["grey"] = (grey / 255).flatten().tolist()
expected["rgb"] = (rgb / 255).flatten().tolist()
expected["grey16"] = (np.array(Image.open(OUT / "grey16.png")).astype(np.float64) / 65535).flatten().tolist()
expected["jpeg_rgb_approx"] = (rgb / 255).flatten().tolist()

with h5py.File(OUT / "table.h5", "w") as f:
    f.create_dataset("images", data=(rng.random((6, 4, 4)) * 3).astype(np.float32), chunks=(2, 4, 4), compression="gzip", shuffle=True)
    f.create_dataset("group/ints", data=np.arange(10, dtype=np.int64).reshape(5, 2))
    f.create_dataset("labels", data=np.array([0, 1, 0, 1, 1, 0], np.int8))
    f.attrs["title"] = "made by h5py"
    f.attrs["scale"] = 2.5
    f.attrs["sizes"] = np.array([3, 4])
    expected["h5images"] = f["images"][:].flatten().tolist()
    # pandas "fixed" layout, as the LHC Olympics files use.
    df = f.create_group("df")
    df.create_dataset("block0_values", data=rng.random((3, 7)))
    df.create_dataset("axis0", data=np.array([b"%d" % i for i in range(7)]))
    expected["df"] = f["df/block0_values"][:].astype(np.float32).flatten().tolist()

images = rng.integers(0, 256, (3, 4, 5), dtype=np.uint8)
with gzip.open(OUT / "images-idx3-ubyte.gz", "wb") as f:
    f.write(struct.pack(">HBB", 0, 0x08, 3) + struct.pack(">III", 3, 4, 5) + images.tobytes())
expected["idx"] = images.flatten().tolist()
(OUT / "expected.json").write_text(json.dumps(expected))
print("wrote", sorted(p.name for p in OUT.iterdir()))

# .npz, stored and deflated (appended to the fixtures above; same generator seed order).
npz_imgs = np.random.default_rng(9).random((4, 5, 6)).astype(np.float32)
np.savez(OUT / "stored.npz", images=npz_imgs, labels=np.arange(4))
np.savez_compressed(OUT / "deflated.npz", images=npz_imgs, other=np.ones((2, 2), ">f8"))
expected["npz_images"] = npz_imgs.flatten().tolist()
(OUT / "expected.json").write_text(json.dumps(expected))
