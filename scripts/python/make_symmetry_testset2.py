"""A second independent test set for the symmetry detector (Datasets/symmetry/test2/).

Shares no code with GenLab's training generators (SymmetryTemplates, SymmetryShapes,
SymmetryFields) nor with make_symmetry_testset.py: every figure is an implicit function
F(x, y) < 0 evaluated in numpy on a supersampled grid (no polygon rasteriser), the glyphs come
from DejaVu Sans *Condensed* (the first set uses DejaVu Sans, Sans Bold and Sans Mono Bold), and
the families are others: roses, gears and pinwheels, keyholes, vases, kites, houses, mushrooms,
capsules, bow-ties, unequal crosses, gratings, wavy bands, blobs. Truth in the names, as
`genlab symmetry evaluate --images` reads them: CLASS[-nORDER][-aAXIS]...[-dDIRECTION]__what_k.png
(angles in degrees counter-clockwise from the rightward axis, y up).

    .venv-tools/venv/bin/python scripts/python/make_symmetry_testset2.py [--seed S] [--out FOLDER]
"""
import argparse
import math
import pathlib
import shutil

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Datasets" / "symmetry" / "test2"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"
SS = 3
rng = np.random.default_rng(7331)


def grid():
    """A canvas (w, h) and its supersampled coordinates, y up, the shorter side spanning [-1, 1]."""
    w = int(rng.integers(56, 150))
    h = w if rng.random() < 0.5 else int(np.clip(w * rng.uniform(0.75, 1.3), 56, 180))
    s = min(w, h) * SS / 2
    ys, xs = np.mgrid[0:h * SS, 0:w * SS]
    return w, h, (xs + 0.5 - w * SS / 2) / s, (h * SS / 2 - ys - 0.5) / s


def place(x, y, spread=0.25):
    """Frame coordinates moved to a random centre and rotated by a random angle t (degrees):
    returns (u, v, t) with u along the figure's own x axis."""
    cx, cy = rng.uniform(-spread, spread, 2)
    t = rng.uniform(0, 180)
    c, s = math.cos(math.radians(t)), math.sin(math.radians(t))
    X, Y = x - cx, y - cy
    return c * X + s * Y, -s * X + c * Y, t


def save(stem, what, k, inside, w, h):
    fg, bg = (rng.uniform(0, 0.3), rng.uniform(0.7, 1)) if rng.random() < 0.5 else (rng.uniform(0.7, 1), rng.uniform(0, 0.3))
    frac = inside.reshape(h, SS, w, SS).mean(axis=(1, 3))
    grey = bg + (fg - bg) * frac
    if rng.random() < 0.25:
        grey = grey + rng.normal(0, 0.025, grey.shape)
    path = OUT / f"{stem}__{what}_{k:02d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(grey * 255, 0, 255).astype(np.uint8), "L").save(path)


def stem(cls, n=None, axes=(), d=None):
    s = cls + (f"-n{n}" if n else "")
    s += "".join(f"-a{a % 180:.0f}" for a in axes)
    return s + (f"-d{d % 180:.0f}" if d is not None else "")


def axes_of(base, n):
    return [(base + 180 * i / n) % 180 for i in range(n)]


def segment(u, v, a, b, r):
    """Inside a capsule of radius r around the segment a-b."""
    ax, ay = a; bx, by = b
    dx, dy = bx - ax, by - ay
    t = np.clip(((u - ax) * dx + (v - ay) * dy) / max(dx * dx + dy * dy, 1e-12), 0, 1)
    return np.hypot(u - ax - t * dx, v - ay - t * dy) < r


def rotation(k):
    w, h, x, y = grid()
    u, v, _ = place(x, y, 0.2)
    r = np.hypot(u, v); R = rng.uniform(0.45, 0.85)
    kind = k % 3
    if kind == 0:
        inside, what = r < R, "disc"
    elif kind == 1:
        inside, what = (r < R) & (r > R * rng.uniform(0.45, 0.8)), "annulus"
    else:
        rings = rng.integers(2, 5)
        inside, what = (np.floor(r / R * (2 * rings)) % 2 == 0) & (r < R), "target"
    save(stem("rotation"), what, k, inside, w, h)


def discrete(k):
    w, h, x, y = grid()
    u, v, t = place(x, y, 0.15)
    n = 3 + k % 6
    r, th = np.hypot(u, v), np.arctan2(v, u)
    R = rng.uniform(0.5, 0.8)
    kind = k % 4
    if kind == 0:  # rose outline r = R(1 + a cos nθ): Dn, axes at θ = 0 and π/n
        a = rng.uniform(0.2, 0.45)
        inside, what, axes = r < R * (1 + a * np.cos(n * th)) / (1 + a), "rose", axes_of(t, n)
    elif kind == 1:  # gear: square teeth
        inside = r < R * np.where(np.cos(n * th) > 0, 1, rng.uniform(0.65, 0.85))
        inside &= r > R * rng.uniform(0, 0.3)
        what, axes = "gear", axes_of(t, n)
    elif kind == 2:  # pinwheel: cos nθ + sin 2nθ has no mirror
        a, b = rng.uniform(0.15, 0.3), rng.uniform(0.12, 0.25)
        inside, what, axes = r < R * (1 + a * np.cos(n * th) + b * np.sin(2 * n * th)) / (1 + a + b), "pinwheel", []
    else:  # n dots on a ring
        ring, dot = R * 0.7, R * rng.uniform(0.18, 0.3)
        inside = np.zeros_like(u, dtype=bool)
        for i in range(n):
            a = 2 * math.pi * i / n
            inside |= np.hypot(u - ring * math.cos(a), v - ring * math.sin(a)) < dot
        what, axes = "dots", axes_of(t, n)
    save(stem("discrete_rotation", n, axes), f"{what}{n}", k, inside, w, h)


def reflection(k):
    """One mirror: the figure is even in u (its axis is v's direction, at t + 90°)."""
    w, h, x, y = grid()
    u, v, t = place(x, y, 0.2)
    au = np.abs(u)
    kind = k % 6
    s = rng.uniform(0.6, 0.9)
    if kind == 0:  # keyhole: a disc above a trapezoid
        inside = (np.hypot(u, v - 0.35 * s) < 0.3 * s) | ((v < 0.35 * s) & (v > -0.7 * s) & (au < 0.12 * s + (0.35 * s - v) * 0.25))
        what = "keyhole"
    elif kind == 1:  # vase: a half-width profile along v
        p = rng.uniform(0.5, 2, 3)
        width = s * (0.25 + 0.15 * np.sin(p[0] * 3 * v + p[1]) + 0.1 * v)
        inside, what = (au < np.maximum(width, 0.05)) & (np.abs(v) < 0.8 * s), "vase"
    elif kind == 2:  # kite: a quadrilateral with one mirror
        top, bottom, half, at = 0.8 * s, -rng.uniform(0.3, 0.8) * s, rng.uniform(0.3, 0.6) * s, rng.uniform(-0.1, 0.4) * s
        inside = np.where(v > at, au < half * (top - v) / (top - at), au < half * (v - bottom) / (at - bottom))
        inside &= (v < top) & (v > bottom)
        what = "kite"
    elif kind == 3:  # house: a square with a roof
        half = rng.uniform(0.35, 0.55) * s
        inside = ((au < half) & (v < 0) & (v > -2 * half)) | ((v >= 0) & (au < half * 1.2 - v * rng.uniform(0.9, 1.6)))
        what = "house"
    elif kind == 4:  # mushroom: a half-disc cap on a stem
        cap = rng.uniform(0.5, 0.75) * s
        inside = ((np.hypot(u, v) < cap) & (v > 0)) | ((au < cap * rng.uniform(0.15, 0.35)) & (v <= 0) & (v > -cap))
        what = "mushroom"
    else:  # a stick figure of mirrored segments
        pts = [(0.0, rng.uniform(0.4, 0.8) * s)] + [(rng.uniform(0.1, 0.7) * s, rng.uniform(-0.8, 0.6) * s) for _ in range(2)]
        r = rng.uniform(0.05, 0.1) * s
        inside = segment(au, v, pts[0], pts[1], r) | segment(au, v, pts[1], pts[2], r) | segment(u, v, (0, -0.8 * s), pts[0], r)
        what = "stick_figure"
    save(stem("reflection", axes=[(t + 90) % 180]), what, k, inside, w, h)


def reflection_both(k):
    w, h, x, y = grid()
    u, v, t = place(x, y, 0.2)
    au, av = np.abs(u), np.abs(v)
    s = rng.uniform(0.6, 0.9)
    kind = k % 5
    if kind == 0:  # capsule (stadium)
        inside, what = segment(u, v, (-0.5 * s, 0), (0.5 * s, 0), rng.uniform(0.15, 0.35) * s), "capsule"
    elif kind == 1:  # bow-tie
        inside, what = (av < 0.15 * s + au * rng.uniform(0.5, 1)) & (au < 0.8 * s), "bowtie"
    elif kind == 2:  # a cross with unequal arms
        a, b, wd = 0.85 * s, rng.uniform(0.35, 0.6) * s, rng.uniform(0.1, 0.2) * s
        inside, what = ((au < a) & (av < wd)) | ((au < wd) & (av < b)), "cross"
    elif kind == 3:  # an ellipse with an elliptical hole
        a, b = 0.85 * s, rng.uniform(0.35, 0.55) * s
        e = (u / a) ** 2 + (v / b) ** 2
        inside, what = (e < 1) & (e > rng.uniform(0.2, 0.5)), "ellipse_ring"
    else:  # a rectangle frame
        a, b, wd = 0.8 * s, rng.uniform(0.35, 0.55) * s, rng.uniform(0.08, 0.15) * s
        inside, what = (au < a) & (av < b) & ~((au < a - wd) & (av < b - wd)), "frame"
    save(stem("reflection_both", axes=sorted([t % 180, (t + 90) % 180])), what, k, inside, w, h)


def translation(k):
    w, h, x, y = grid()
    u, v, t = place(x, y, 0.0)
    kind = k % 3
    if kind == 0:
        inside, what = np.sin(rng.uniform(4, 12) * v + rng.uniform(0, 6)) > rng.uniform(-0.4, 0.4), "grating"
    elif kind == 1:
        edges = np.sort(rng.uniform(-1.5, 1.5, rng.integers(3, 8)))
        inside, what = np.searchsorted(edges, v) % 2 == 0, "bars"
    else:
        inside, what = np.abs(v - rng.uniform(-0.3, 0.3)) < rng.uniform(0.15, 0.4), "band"
    # The pattern is constant along u: the translation runs along t.
    save(stem("translation", d=t), what, k, inside, w, h)


def none(k):
    w, h, x, y = grid()
    u, v, _ = place(x, y, 0.2)
    r, th = np.hypot(u, v), np.arctan2(v, u)
    kind = k % 3
    if kind == 0:  # a blob with generic harmonics
        f = 1 + sum(rng.uniform(-0.25, 0.25) * np.cos(m * th + rng.uniform(0, 6)) for m in range(1, 5))
        inside, what = r < 0.6 * f, "blob"
    elif kind == 1:  # a disc and an ellipse whose axes avoid the line between them (no mirror)
        c = rng.uniform(-0.4, 0.4, 4)
        line = math.atan2(c[3] - c[1], c[2] - c[0])
        tilt = line + math.radians(rng.uniform(25, 65)) * rng.choice([-1, 1])
        du, dv = u - c[2], v - c[3]
        eu, ev = math.cos(tilt) * du + math.sin(tilt) * dv, -math.sin(tilt) * du + math.cos(tilt) * dv
        a = rng.uniform(0.25, 0.4)
        inside = (np.hypot(u - c[0], v - c[1]) < rng.uniform(0.12, 0.25)) | ((eu / a) ** 2 + (ev / (a * rng.uniform(0.3, 0.5))) ** 2 < 1)
        what = "disc_and_ellipse"
    else:  # a crooked stroke
        pts = [tuple(rng.uniform(-0.7, 0.7, 2)) for _ in range(4)]
        rr = rng.uniform(0.05, 0.12)
        inside = segment(u, v, pts[0], pts[1], rr) | segment(u, v, pts[1], pts[2], rr) | segment(u, v, pts[2], pts[3], rr)
        what = "crooked_stroke"
    save(stem("none"), what, k, inside, w, h)


def glyphs(k):
    letters = {"reflection": "AMTUVWY", "reflection_both": "HIX"}
    for cls, chars in letters.items():
        ch = chars[k % len(chars)]
        w = int(rng.integers(64, 140)); h = w
        font = ImageFont.truetype(FONT_BOLD if k % 2 else FONT, int(h * SS * 0.7))
        img = Image.new("L", (w * SS, h * SS)); d = ImageDraw.Draw(img)
        box = d.textbbox((0, 0), ch, font=font)
        d.text(((w * SS - box[2] - box[0]) / 2, (h * SS - box[3] - box[1]) / 2), ch, fill=255, font=font)
        t = rng.uniform(-70, 70)
        img = img.rotate(t, resample=Image.BICUBIC)
        inside = np.asarray(img, dtype=np.float64) / 255 > 0.5
        axes = [(90 + t) % 180] if cls == "reflection" else sorted([t % 180, (90 + t) % 180])
        save(stem(cls, axes=axes), f"{ch}_condensed", k, inside, w, h)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7331)
    parser.add_argument("--out", type=pathlib.Path, default=OUT)
    parser.add_argument("--per", type=int, default=12)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    OUT = args.out.resolve()
    if OUT.exists():
        shutil.rmtree(OUT)
    for k in range(args.per):
        for make in (rotation, discrete, reflection, reflection_both, translation, none, glyphs):
            make(k)
    print(f"{sum(1 for _ in OUT.rglob('*.png'))} images in {OUT}")
