"""Bundled test images for `genlab symmetry score` and the demo (Datasets/symmetry/).

Generated, so their provenance is this script: fractals with known symmetry, a face from the
bundled LFW subset and a jet image from the bundled Pythia jets. Run with the tools venv:
    scripts/python/env.sh && .venv-tools/venv/bin/python scripts/python/make_symmetry_images.py
"""
import pathlib

import h5py
import numpy as np
from PIL import Image, ImageDraw

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Datasets" / "symmetry"
N = 256


def save(name, grey):
    """grey: float array in [0, 1], dark = shape."""
    Image.fromarray(np.clip(grey * 255, 0, 255).astype(np.uint8), "L").save(OUT / f"{name}.png", optimize=True)


def koch_snowflake(depth=4):
    pts = [np.array([np.cos(a), np.sin(a)]) for a in np.pi / 2 + 2 * np.pi * np.arange(3) / 3]
    pts = pts[::-1]
    for _ in range(depth):
        new = []
        for i in range(len(pts)):
            a, b = pts[i], pts[(i + 1) % len(pts)]
            d = (b - a) / 3
            p, q = a + d, a + 2 * d
            rot = np.array([[0.5, -np.sqrt(3) / 2], [np.sqrt(3) / 2, 0.5]])
            new += [a, p, p + rot @ d, q]
        pts = new
    img = Image.new("L", (N, N), 255)
    ImageDraw.Draw(img).polygon([(N / 2 + 0.45 * N * x, N / 2 - 0.45 * N * y) for x, y in pts], fill=0)
    return np.asarray(img) / 255.0


def sierpinski():
    # Pascal's triangle mod 2, drawn as an equilateral triangle.
    img = np.ones((N, N))
    for r in range(N):
        row_len = r + 1
        for c in range(row_len):
            if (c & (r - c)) == 0:
                x = N // 2 - row_len // 2 + c
                if 0 <= x < N:
                    img[r, x] = 0
    return img


def escape_set(z, c, iterations):
    """Points whose orbit under z -> z^2 + c stays bounded: the shape (dark)."""
    inside = np.ones(np.broadcast(z, c).shape, bool)
    z = np.broadcast_to(z, inside.shape).copy()
    for _ in range(iterations):
        z = np.where(inside, z * z + c, z)
        inside &= np.abs(z) < 2
    return np.where(inside, 0.0, 1.0)


def mandelbrot():
    y, x = np.mgrid[-1.3:1.3:N * 1j, -2.1:0.7:N * 1j]
    return escape_set(np.zeros((N, N), complex), x + 1j * y, 60)


def julia():
    y, x = np.mgrid[-1.5:1.5:N * 1j, -1.5:1.5:N * 1j]
    return escape_set(x + 1j * y, -0.8 + 0.156j, 80)


def face():
    return np.asarray(Image.open(ROOT / "Datasets" / "faces" / "face_000.png").convert("L")) / 255.0


def jet():
    with h5py.File(ROOT / "Datasets" / "jets" / "top_test.h5", "r") as f:
        img = f["images"][:200].mean(0)
    g = np.log1p(img / img.max() * 100) / np.log(101)
    return 1 - g


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in [("koch_snowflake", koch_snowflake), ("sierpinski", sierpinski), ("mandelbrot", mandelbrot),
                       ("julia", julia), ("face", face), ("top_jets_mean", jet)]:
        save(name, make())
        print("wrote", OUT / f"{name}.png")
