"""An independent test set for the symmetry detector (Datasets/symmetry/test/).

Made by code that shares nothing with GenLab's training generators (SymmetryTemplates,
SymmetryShapes): Pillow's rasteriser and its TrueType glyphs, numpy potentials of other
functional forms. Every image's truth is in its name, as `genlab symmetry evaluate --images`
reads it:  CLASS[-nORDER][-aAXIS]...[-dDIRECTION]__what_k.png  (angles in degrees,
counter-clockwise from the rightward axis, y up).

Sizes (64 to 160 px, some not square), grey levels, polarity, rotation, scale and position vary.
Run with the tools venv:
    .venv-tools/venv/bin/python scripts/python/make_symmetry_testset.py [--seed S] [--out FOLDER]
(the committed set is the default seed; another seed draws a fresh set of the same kinds).
"""
import argparse
import math
import pathlib
import shutil

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Datasets" / "symmetry" / "test"
FONTS = ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
         "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"]
SS = 4  # supersampling: draw at 4x, shrink with a box filter (anti-aliased edges)
rng = np.random.default_rng(20261201)  # replaced in main by --seed


def canvas():
    w = int(rng.integers(64, 161))
    h = w if rng.random() < 0.6 else int(np.clip(w * rng.uniform(0.7, 1.4), 64, 200))
    return w, h


def colours():
    """Two grey levels far enough apart; which one is the shape is random."""
    a, b = rng.uniform(0, 0.35), rng.uniform(0.65, 1)
    return (a, b) if rng.random() < 0.5 else (b, a)


def save(folder, stem, what, k, mask, w, h):
    """mask: a PIL 'L' image at SS x size, 255 inside the shape."""
    fg, bg = colours()
    small = np.asarray(mask.resize((w, h), Image.BOX), dtype=np.float64) / 255
    grey = bg + (fg - bg) * small
    if rng.random() < 0.3:  # a little sensor noise
        grey = grey + rng.normal(0, 0.03, grey.shape)
    path = OUT / folder / f"{stem}__{what}_{k:02d}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(grey * 255, 0, 255).astype(np.uint8), "L").save(path, optimize=True)


def frame(w, h, fill=(0.45, 0.85)):
    """Centre (image coordinates, y down) and radius of a shape that fits, at SS resolution."""
    r = rng.uniform(*fill) * min(w, h) / 2 * SS
    cx = w * SS / 2 + rng.uniform(-1, 1) * (min(w, h) * SS / 2 - r) * 0.5
    cy = h * SS / 2 + rng.uniform(-1, 1) * (min(w, h) * SS / 2 - r) * 0.5
    return cx, cy, r


def to_image(cx, cy, pts):
    """Points in a y-up frame around (cx, cy) to image coordinates."""
    return [(cx + x, cy - y) for x, y in pts]


def axes_of(base, n):
    return [((base + 180 * i / n) % 180) for i in range(n)]


def stem(cls, n=None, axes=(), d=None):
    s = cls + (f"-n{n}" if n else "")
    s += "".join(f"-a{a % 180:.0f}" for a in axes)
    return s + (f"-d{d % 180:.0f}" if d is not None else "")


def shapes(per):
    for k in range(per):
        # Discs and rings: every rotation.
        w, h = canvas(); cx, cy, r = frame(w, h)
        m = Image.new("L", (w * SS, h * SS)); d = ImageDraw.Draw(m)
        if k % 2 == 0:
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255); what = "disc"
        else:
            d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=255, width=int(r * rng.uniform(0.12, 0.4))); what = "ring"
        save("shapes", stem("rotation"), what, k, m, w, h)

        # Regular polygons and stars, n = 3...8: discrete rotation (and n mirrors).
        n = 3 + k % 6
        w, h = canvas(); cx, cy, r = frame(w, h)
        phase = rng.uniform(0, 360)
        star = k % 12 >= 6
        count = 2 * n if star else n
        inner = rng.uniform(0.35, 0.6)
        pts = [((r if (i % 2 == 0 or not star) else r * inner) * math.cos(math.radians(phase + 360 * i / count)),
                (r if (i % 2 == 0 or not star) else r * inner) * math.sin(math.radians(phase + 360 * i / count))) for i in range(count)]
        m = Image.new("L", (w * SS, h * SS)); d = ImageDraw.Draw(m)
        if rng.random() < 0.3:
            d.line(to_image(cx, cy, pts + pts[:1]), fill=255, width=int(r * 0.12), joint="curve"); what = ("star" if star else "polygon") + "_outline"
        else:
            d.polygon(to_image(cx, cy, pts), fill=255); what = "star" if star else "polygon"
        save("shapes", stem("discrete_rotation", n, axes_of(phase, n)), f"{what}{n}", k, m, w, h)

        # Rectangles, ellipses, rhombi: two mirrors.
        w, h = canvas(); cx, cy, r = frame(w, h)
        t = rng.uniform(0, 180); a = r; b = r / rng.uniform(1.5, 3)
        m = Image.new("L", (w * SS, h * SS)); d = ImageDraw.Draw(m)
        c, s = math.cos(math.radians(t)), math.sin(math.radians(t))
        rot = lambda p: (c * p[0] - s * p[1], s * p[0] + c * p[1])
        kind = k % 3
        if kind == 0:
            pts = [rot(p) for p in [(a, b), (-a, b), (-a, -b), (a, -b)]]; what = "rectangle"
        elif kind == 1:
            pts = [rot((a * math.cos(u), b * math.sin(u))) for u in np.linspace(0, 2 * math.pi, 120, endpoint=False)]; what = "ellipse"
        else:
            pts = [rot(p) for p in [(a, 0), (0, b), (-a, 0), (0, -b)]]; what = "rhombus"
        d.polygon(to_image(cx, cy, pts), fill=255)
        save("shapes", stem("reflection_both", axes=sorted([t % 180, (t + 90) % 180])), what, k, m, w, h)

        # Hearts and arrows: one mirror.
        w, h = canvas(); cx, cy, r = frame(w, h)
        t = rng.uniform(0, 180)
        c, s = math.cos(math.radians(t)), math.sin(math.radians(t))
        if k % 2 == 0:
            # The heart curve, its axis along y before turning.
            u = np.linspace(0, 2 * math.pi, 200, endpoint=False)
            x, y = 16 * np.sin(u) ** 3, 13 * np.cos(u) - 5 * np.cos(2 * u) - 2 * np.cos(3 * u) - np.cos(4 * u)
            base = list(zip(x * r / 17, (y + 2) * r / 17)); what = "heart"
        else:
            hw, sw, tip = rng.uniform(0.35, 0.6), rng.uniform(0.12, 0.25), rng.uniform(0.2, 0.5)
            base = [(0, r), (hw * r, tip * r), (sw * r, tip * r), (sw * r, -r), (-sw * r, -r), (-sw * r, tip * r), (-hw * r, tip * r)]
            what = "arrow"
        # Axis along y, turned by t - 90 so that it ends at t.
        c2, s2 = math.cos(math.radians(t - 90)), math.sin(math.radians(t - 90))
        pts = [(c2 * p[0] - s2 * p[1], s2 * p[0] + c2 * p[1]) for p in base]
        m = Image.new("L", (w * SS, h * SS)); d = ImageDraw.Draw(m)
        d.polygon(to_image(cx, cy, pts), fill=255)
        save("shapes", stem("reflection", axes=[t % 180]), what, k, m, w, h)

        # Straight stripes: invariant along one direction.
        w, h = canvas()
        t = rng.uniform(0, 180)
        m = Image.new("L", (w * SS, h * SS)); d = ImageDraw.Draw(m)
        period = rng.uniform(0.12, 0.45) * min(w, h) * SS
        duty = rng.uniform(0.3, 0.7)
        nx, ny = -math.sin(math.radians(t)), math.cos(math.radians(t))  # across the stripes (y up)
        big = 2 * max(w, h) * SS
        for j in range(-40, 41):
            o = j * period + period * 0.3
            p1 = (nx * o, ny * o); p2 = (nx * (o + duty * period), ny * (o + duty * period))
            along = (math.cos(math.radians(t)) * big, math.sin(math.radians(t)) * big)
            quad = [(p1[0] - along[0], p1[1] - along[1]), (p1[0] + along[0], p1[1] + along[1]),
                    (p2[0] + along[0], p2[1] + along[1]), (p2[0] - along[0], p2[1] - along[1])]
            d.polygon(to_image(w * SS / 2, h * SS / 2, quad), fill=255)
        save("shapes", stem("translation", d=t), "stripes", k, m, w, h)

        # Random polygons: no symmetry (checked below).
        for _ in range(50):
            w, h = canvas(); cx, cy, r = frame(w, h)
            count = int(rng.integers(5, 10))
            ang = np.sort(rng.uniform(0, 2 * math.pi, count))
            rad = r * rng.uniform(0.3, 1, count)
            pts = list(zip(rad * np.cos(ang), rad * np.sin(ang)))
            m = Image.new("L", (w * SS, h * SS)); d = ImageDraw.Draw(m)
            d.polygon(to_image(cx, cy, pts), fill=255)
            if not nearly_symmetric(m):
                break
        save("shapes", stem("none"), "random_polygon", k, m, w, h)


def nearly_symmetric(mask, limit=0.7):
    """IoU of the mask with itself under mirrors (every 3 degrees) and turns about its centroid."""
    a = np.asarray(mask.resize((mask.width // SS, mask.height // SS), Image.BOX)) > 127
    ys, xs = np.nonzero(a)
    if len(xs) == 0:
        return True
    cx, cy = xs.mean(), ys.mean()
    small = Image.fromarray((a * 255).astype(np.uint8))
    def iou(b):
        b = np.asarray(b) > 127
        return (a & b).sum() / max((a | b).sum(), 1)
    cols = np.clip(np.round(2 * cx - np.arange(a.shape[1])).astype(int), 0, a.shape[1] - 1)
    for deg in range(0, 180, 3):
        # the mirror in the axis at deg through the centroid: turn the axis upright, then compare
        # the turned image with its left-right flip about the centroid's column
        up = np.asarray(small.rotate(90 - deg, center=(cx, cy), resample=Image.BILINEAR)) > 127
        flipped = up[:, cols]
        if (up & flipped).sum() / max((up | flipped).sum(), 1) > limit:
            return True
    for n in range(2, 9):
        if iou(small.rotate(360 / n, center=(cx, cy), resample=Image.BILINEAR)) > limit:
            return True
    return False


GLYPHS = {"reflection": "ATUVWYM", "reflection_both": "HIOX"}


def glyphs(per):
    for k in range(per):
        for cls, letters in GLYPHS.items():
            ch = letters[k % len(letters)]
            w, h = canvas()
            size = int(rng.uniform(0.5, 0.85) * min(w, h) * SS)
            font = ImageFont.truetype(FONTS[k % len(FONTS)], size)
            tile = Image.new("L", (size * 2, size * 2))
            ImageDraw.Draw(tile).text((size, size), ch, font=font, fill=255, anchor="mm")
            t = rng.uniform(-60, 60)
            tile = tile.rotate(t, resample=Image.BICUBIC)  # counter-clockwise by t degrees
            m = Image.new("L", (w * SS, h * SS))
            box = tile.getbbox()
            tile = tile.crop(box)
            ox = int((w * SS - tile.width) / 2 + rng.uniform(-0.1, 0.1) * w * SS)
            oy = int((h * SS - tile.height) / 2 + rng.uniform(-0.1, 0.1) * h * SS)
            m.paste(tile, (max(ox, 0), max(oy, 0)))
            axes = [(90 + t) % 180] if cls == "reflection" else sorted([t % 180, (90 + t) % 180])
            font_name = pathlib.Path(FONTS[k % len(FONTS)]).stem.replace("-", "")
            save("glyphs", stem(cls, axes=axes), f"{ch}_{font_name}", k, m, w, h)


def potentials(per):
    """Two-colour images of potentials of forms the training library does not use."""
    for k in range(per):
        for cls in ["rotation", "reflection", "reflection_both", "discrete_rotation", "translation", "none"]:
            for _ in range(30):
                drawn = potential(cls, k)
                if cls != "none" or not nearly_symmetric(drawn[1]):
                    break
            save("potentials", drawn[0], "potential", k, drawn[1], drawn[2], drawn[3])


def potential(cls, k):
    """One potential of class cls: its name stem, mask (SS x size), width and height."""
    w, h = canvas()
    y, x = np.mgrid[0:h, 0:w]
    s = min(w, h) / 2
    cx, cy = w / 2 + rng.uniform(-0.05, 0.05) * s, h / 2 + rng.uniform(-0.05, 0.05) * s
    X, Y = (x + 0.5 - cx) / s, (cy - (y + 0.5)) / s
    t = rng.uniform(0, math.pi)
    U, V = math.cos(t) * X + math.sin(t) * Y, -math.sin(t) * X + math.cos(t) * Y  # U across the axis
    R, TH = np.hypot(X, Y), np.arctan2(Y, X)
    n, axes, d = None, [], None
    if cls == "rotation":
        f = np.sinc(rng.uniform(2, 5) * R) if k % 2 else np.log(0.05 + R) * np.cos(rng.uniform(3, 8) * R)
    elif cls == "reflection":
        # even in U, generic in V; the axis is V's direction
        f = np.exp(-((np.abs(U) - rng.uniform(0.2, 0.5)) ** 2 + (V - rng.uniform(-0.3, 0.3)) ** 2) / 0.08) \
            + rng.uniform(0.5, 1) * np.exp(-(U ** 2 + (V + rng.uniform(0.3, 0.6)) ** 2) / 0.05) + 0.3 * V
        axes = [(math.degrees(t) + 90) % 180]
    elif cls == "reflection_both":
        f = np.cosh(rng.uniform(1, 2) * U) * np.cos(rng.uniform(1, 3) * V) + rng.uniform(0.3, 0.8) * V ** 2
        axes = sorted([math.degrees(t) % 180, (math.degrees(t) + 90) % 180])
    elif cls == "discrete_rotation":
        n = 3 + k % 6
        phase = rng.uniform(0, 2 * math.pi)
        # n Gaussians on a circle around a dip: Dn
        f = 0.1 * R ** 2 - sum(np.exp(-((X - 0.55 * math.cos(phase + 2 * math.pi * i / n)) ** 2
                                        + (Y - 0.55 * math.sin(phase + 2 * math.pi * i / n)) ** 2) / 0.02) for i in range(n))
        axes = axes_of(math.degrees(phase), n)
    elif cls == "translation":
        f = np.tanh(rng.uniform(2, 6) * np.sin(rng.uniform(3, 9) * U + rng.uniform(0, 6)))
        d = (math.degrees(t) + 90) % 180
    else:
        f = sum(rng.uniform(-1, 1) * np.exp(-((X - rng.uniform(-0.7, 0.7)) ** 2 + (Y - rng.uniform(-0.7, 0.7)) ** 2) / rng.uniform(0.05, 0.3))
                for _ in range(4)) + 0.2 * rng.uniform(-1, 1) * X
    # n separate dots for the discrete rotations (a higher level merges them into a disc)
    level = np.quantile(f, rng.uniform(0.08, 0.2) if cls == "discrete_rotation" else rng.uniform(0.3, 0.7))
    mask = Image.fromarray(((f < level) * 255).astype(np.uint8)).resize((w * SS, h * SS), Image.NEAREST)
    return stem(cls, n, axes, d), mask, w, h


def wobbly(pts, r, closed=True):
    """A hand-drawn look: the outline resampled densely, each point jittered a little, smoothly."""
    pts = np.array(pts + (pts[:1] if closed else []), dtype=np.float64)
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    t = np.concatenate([[0], np.cumsum(seg)])
    u = np.linspace(0, t[-1], 240)
    dense = np.stack([np.interp(u, t, pts[:, 0]), np.interp(u, t, pts[:, 1])], axis=1)
    noise = rng.normal(0, 1, (240, 2))
    kernel = np.hanning(25); kernel /= kernel.sum()
    smooth = np.stack([np.convolve(noise[:, i], kernel, mode="same") for i in range(2)], axis=1)
    return [tuple(p) for p in dense + smooth * r * 0.06]


def sketches(per):
    """Outlines drawn as if by hand (smoothly jittered strokes): the symmetry is approximate, as in
    a sketch, and the truth is the drawn figure's."""
    for k in range(per):
        w, h = canvas(); cx, cy, r = frame(w, h, (0.5, 0.85))
        kind = k % 5
        t = rng.uniform(0, 180)
        if kind == 0:
            pts = [(r * math.cos(u), r * math.sin(u)) for u in np.linspace(0, 2 * math.pi, 60, endpoint=False)]
            cls, what = stem("rotation"), "circle"
        elif kind == 1:
            n = 3 + (k // 5) % 4
            pts = [(r * math.cos(math.radians(t + 360 * i / n)), r * math.sin(math.radians(t + 360 * i / n))) for i in range(n)]
            cls, what = stem("discrete_rotation", n, axes_of(t, n)), f"polygon{n}"
        elif kind == 2:
            a, b = r, r / rng.uniform(1.5, 2.5)
            c, s_ = math.cos(math.radians(t)), math.sin(math.radians(t))
            pts = [(c * x - s_ * y, s_ * x + c * y) for x, y in [(a, b), (-a, b), (-a, -b), (a, -b)]]
            cls, what = stem("reflection_both", axes=sorted([t % 180, (t + 90) % 180])), "rectangle"
        elif kind == 3:
            u = np.linspace(0, 2 * math.pi, 80, endpoint=False)
            x, y = 16 * np.sin(u) ** 3, 13 * np.cos(u) - 5 * np.cos(2 * u) - 2 * np.cos(3 * u) - np.cos(4 * u)
            c2, s2 = math.cos(math.radians(t - 90)), math.sin(math.radians(t - 90))
            pts = [(c2 * px * r / 17 - s2 * (py + 2) * r / 17, s2 * px * r / 17 + c2 * (py + 2) * r / 17) for px, py in zip(x, y)]
            cls, what = stem("reflection", axes=[t % 180]), "heart"
        else:
            count = int(rng.integers(5, 9))
            ang = np.sort(rng.uniform(0, 2 * math.pi, count)); rad = r * rng.uniform(0.35, 1, count)
            pts = list(zip(rad * np.cos(ang), rad * np.sin(ang)))
            cls, what = stem("none"), "scribble"
        m = Image.new("L", (w * SS, h * SS)); d = ImageDraw.Draw(m)
        d.line(to_image(cx, cy, wobbly(pts, r)), fill=255, width=max(SS, int(r * rng.uniform(0.06, 0.12))), joint="curve")
        if cls == "none" and nearly_symmetric(m):
            continue
        save("sketches", cls, what, k, m, w, h)


def bundled():
    """The bundled pictures whose symmetry is clear, copied under names that carry it."""
    src = ROOT / "Datasets" / "symmetry"
    for name, truth in [("koch_snowflake", stem("discrete_rotation", 6, axes_of(90, 6))),
                        ("sierpinski", stem("discrete_rotation", 3, axes_of(90, 3))), ("mandelbrot", stem("reflection", axes=[0]))]:
        (OUT / "bundled").mkdir(parents=True, exist_ok=True)
        shutil.copy(src / f"{name}.png", OUT / "bundled" / f"{truth}__{name}.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--out", type=pathlib.Path, default=OUT)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    OUT = args.out.resolve()
    if OUT.exists():
        shutil.rmtree(OUT)
    shapes(12)
    glyphs(12)
    potentials(6)
    sketches(20)
    bundled()
    print(f"{sum(1 for _ in OUT.rglob('*.png'))} images in {OUT}")
