"""An independent test set of thresholded potentials in any frame (issue 40).

Shares no code with GenLab's training generators (SymmetryTemplates, SymmetryShapes,
SymmetryFields) nor with the earlier test scripts: each image is a potential V(u, v) of its own
family, written in a frame turned by a random angle (half the images) about a centre off the
window's middle, cut at a random quantile over the window, so that pattern reaches the corners.
Orders n = 3..12, odd and even, chiral (C_n, spirals) and with mirrors (D_n); tilted and upright
mirrors; two-mirror potentials that are not C_4; stripes; asymmetric textures.

Every label is verified by geometry (symmetry_label_check.py): the defining symmetry present at
IoU >= 0.97 on the window, every excluded one below 0.70, searched over off-centre axes and
points; a draw that fails is drawn again. Truth in the names, as `genlab symmetry evaluate
--images` reads them: CLASS[-nORDER][-aAXIS]...[-dDIRECTION]__family_k.png.

    .venv-tools/venv/bin/python scripts/python/make_symmetry_frames.py [--seed S] [--per-class 30] [--out DIR]
"""
import math

import numpy as np
from PIL import Image

import symmetry_label_check as check

SS = 3


class Frame:
    """A window (w x h pixels) and the potential's own frame in it: centre c, turned by t degrees."""

    def __init__(self, rng, turned):
        self.w = int(rng.integers(64, 129))
        self.h = self.w if rng.random() < 0.7 else int(np.clip(self.w * rng.uniform(0.8, 1.25), 64, 140))
        self.c = rng.uniform(-0.3, 0.3, 2)
        self.t = float(rng.uniform(0, 360)) if turned else 0.0

    def uv(self, x, y):
        a = math.radians(self.t)
        X, Y = x - self.c[0], y - self.c[1]
        return math.cos(a) * X + math.sin(a) * Y, -math.sin(a) * X + math.cos(a) * Y


def cut(rng, frame, V):
    """The indicator V < q, q the potential's quantile at a random level over the window."""
    x, y, _, _ = check.window_points(frame.w, frame.h, 1)
    level = float(np.quantile(V(*frame.uv(x, y)), rng.uniform(0.3, 0.65)))
    return lambda X, Y: V(*frame.uv(X, Y)) < level


def rotation(rng):
    k = rng.uniform(4, 14, 3)
    ph = rng.uniform(0, 2 * math.pi, 3)
    amp = rng.uniform(0.3, 1, 3)
    kind = int(rng.integers(3))

    def V(u, v):
        r = np.hypot(u, v)
        if kind == 0:
            return sum(a * np.cos(kk * r + p) for a, kk, p in zip(amp, k, ph))
        if kind == 1:
            return (r - amp[0]) ** 2 + 0.1 * np.sin(k[0] * r + ph[0])
        return np.log(r + 0.05) * np.cos(k[1] * r ** 1.5 + ph[1])
    return V, ["ripples", "well", "chirp"][kind], {}


def discrete(rng):
    n = int(rng.integers(3, 13))
    chiral = rng.random() < 0.5
    ph0 = rng.uniform(0, 2 * math.pi)
    a, b = rng.uniform(0.4, 1.0), rng.uniform(2, 7)
    twist = rng.uniform(2.5, 6) * rng.choice([-1, 1]) if chiral else 0.0
    kind = int(rng.integers(2))

    def V(u, v):
        r, th = np.hypot(u, v), np.arctan2(v, u)
        ang = n * th + twist * r + ph0
        if kind == 0:
            return np.cos(b * r) + a * np.cos(ang) * np.tanh(3 * r)
        return r ** 2 * (1 + a * np.cos(ang)) + 0.3 * np.sin(b * r)
    # Mirror axes (in the potential's frame) where n th + ph0 = 0 mod pi.
    axes = [] if chiral else [(math.degrees(-ph0 / n) + 180 * j / n) % 180 for j in range(n)]
    return V, ("spiral" if chiral else "rosette") + str(n), {"n": n, "axes": axes, "chiral": chiral}


def reflection(rng):
    """Even in u only: the mirror axis is the frame's v axis. Pairs of wells mirrored in it, a wedge
    and a slope along v, so that nothing else maps the pattern onto itself."""
    m = int(rng.integers(3, 6))
    wells = np.column_stack([rng.uniform(0, 0.9, m), rng.uniform(-1, 1, m), rng.uniform(0.5, 1.5, m),
                             rng.uniform(0.03, 0.15, m)])
    c = rng.uniform(-1, 1, 4)
    k = rng.uniform(2, 6, 2)

    def V(u, v):
        val = 0.25 * u ** 2 * (1 + 0.8 * c[0] * v) + 0.6 * c[1] * v + 0.2 * np.sin(k[0] * v + 3 * c[2]) * np.cos(k[1] * u)
        for x0, y0, d, s in wells:
            val = val - d * (np.exp(-((u - x0) ** 2 + (v - y0) ** 2) / s) + np.exp(-((u + x0) ** 2 + (v - y0) ** 2) / s))
        return val
    return V, "wells", {"axes": [90.0]}


def reflection_both(rng):
    a, b = rng.uniform(0.3, 1.5, 2)
    k1, k2 = rng.uniform(2, 8, 2)
    while abs(k1 - k2) < 1.5:
        k2 = rng.uniform(2, 8)
    c = rng.uniform(0.3, 1)

    def V(u, v):
        return a * u ** 2 + 2.2 * b * v ** 2 + c * np.cos(k1 * u) * np.cos(k2 * v) + 0.2 * u ** 2 * v ** 2
    return V, "saddle", {"axes": [0.0, 90.0]}


def translation(rng):
    m = int(rng.integers(1, 4))
    k = rng.uniform(3, 12, m)
    ph = rng.uniform(0, 2 * math.pi, m)
    amp = rng.uniform(0.3, 1, m)

    def V(u, v):
        return sum(a * np.sin(kk * u + p) for a, kk, p in zip(amp, k, ph)) + 0 * v
    return V, "waves", {"d": 90.0}


def none(rng):
    m = int(rng.integers(3, 8))
    pts = rng.uniform(-1.2, 1.2, (m, 2))
    wid = rng.uniform(0.05, 0.4, m)
    sgn = rng.choice([-1, 1], m)
    kx, ky, ph = rng.uniform(-6, 6, 3), rng.uniform(-6, 6, 3), rng.uniform(0, 6.3, 3)

    def V(u, v):
        val = sum(s * np.exp(-((u - px) ** 2 + (v - py) ** 2) / w) for s, (px, py), w in zip(sgn, pts, wid))
        return val + 0.3 * sum(np.cos(a * u + b * v + p) for a, b, p in zip(kx, ky, ph))
    return V, "field", {}


def verified(cls, inside, frame, info, binary):
    """Whether the geometry bears the label out (see symmetry_label_check)."""
    w, h, t, c = frame.w, frame.h, frame.t, frame.c

    def img_angle(a):
        return (a + t) % 180
    if cls == "rotation":
        present = check.exact_iou(inside, w, h, [check.rotation_map(d, c) for d in (17.3, 71.9, 143.1)])
        return min(present) >= check.PRESENT, ""
    if cls == "discrete_rotation":
        n = info["n"]
        present = check.exact_iou(inside, w, h, [check.rotation_map(360 / n, c)]
                                  + [check.mirror_map(img_angle(a), c) for a in info["axes"]])
        if min(present) < check.PRESENT:
            return False, "turn or mirror below 0.97"
        not_round = check.exact_iou(inside, w, h, [check.rotation_map(180 / n, c), check.rotation_map(120 / n, c)])
        if max(not_round) >= check.ABSENT:
            return False, "also a finer turn"
        if info["chiral"]:
            return check.absent(binary, mirrors_except=[], translation=True)
        return check.absent(binary, translation=True)
    if cls in ("reflection", "reflection_both"):
        axes = [img_angle(a) for a in info["axes"]]
        present = check.exact_iou(inside, w, h, [check.mirror_map(a, c) for a in axes])
        if min(present) < check.PRESENT:
            return False, "mirror below 0.97"
        if cls == "reflection":
            return check.absent(binary, mirrors_except=axes, orders=range(2, 13), translation=True)
        return check.absent(binary, mirrors_except=axes, orders=range(3, 13), translation=True)
    if cls == "translation":
        d = img_angle(info["d"])
        present = check.exact_iou(inside, w, h, [check.shift_map(d, s) for s in (0.17, 0.31, 0.43)])
        return min(present) >= check.PRESENT, ""
    return check.absent(binary, mirrors_except=[], orders=range(2, 13), translation=True)


def stem(cls, frame, info):
    s = cls + (f"-n{info['n']}" if "n" in info else "")
    s += "".join(f"-a{(a + frame.t) % 180:.0f}" for a in info.get("axes", []))
    return s + (f"-d{(info['d'] + frame.t) % 180:.0f}" if "d" in info else "")


def render(rng, inside, frame):
    """The figure as grey levels: area-averaged supersamples (symmetry_label_check.grey_levels)."""
    x, y, _, _ = check.window_points(frame.w, frame.h, SS)
    return check.grey_levels(rng, inside(x, y).reshape(frame.h, SS, frame.w, SS).mean(axis=(1, 3)))


FAMILIES = {"rotation": rotation, "reflection": reflection, "reflection_both": reflection_both,
            "discrete_rotation": discrete, "translation": translation, "none": none}


def main():
    args, rng, out = check.start(__doc__, 4040, "frames")
    redraws = 0
    for cls, family in FAMILIES.items():
        for k in range(args.per_class):
            def draw():
                frame = Frame(rng, turned=k % 2 == 1)
                V, what, info = family(rng)
                inside = cut(rng, frame, V)
                x, y, _, _ = check.window_points(frame.w, frame.h, 1)
                binary = inside(x, y).astype(np.float32)
                if not 0.15 < binary.mean() < 0.85:
                    return None
                ok, why = verified(cls, inside, frame, info, binary)
                return ok, f"{cls} {what}: {why}", (inside, frame, info, what)
            (inside, frame, info, what), refused = check.first_verified(draw, args.verbose)
            redraws += refused
            name = f"{stem(cls, frame, info)}__{what}_{'turned' if frame.t else 'upright'}_{k:02d}.png"
            Image.fromarray(render(rng, inside, frame), "L").save(out / name)
        print(f"{cls}: {args.per_class} images", flush=True)
    print(f"wrote {6 * args.per_class} images to {out} ({redraws} draws refused by the geometry check)")


if __name__ == "__main__":
    main()
