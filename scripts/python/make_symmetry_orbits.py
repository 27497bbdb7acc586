"""An independent test set of figures built as orbits of a random motif, in any frame (issue 40).

Shares no code with GenLab's training generators (SymmetryTemplates, SymmetryShapes,
SymmetryFields), with the earlier test scripts or with make_symmetry_frames.py's potentials: a
motif is a union of a few random ellipses and bars (implicit functions in numpy); a symmetric figure
is the union of the motif's images under a group about a random centre and axis (C_n chiral, D_n,
one mirror, D_2), concentric rings for rotation, bands of random widths for translation, and a
scatter of motifs for none. Half the figures are shapes clear of the border, half are textures:
the orbit of many motifs at many radii, reaching the corners. Half the frames are turned by a random
angle; centres and axes sit off the window's middle.

Every label is verified by geometry (symmetry_label_check.py, the same rules as the other set):
present at IoU >= 0.97, every excluded symmetry below 0.70 about any axis or point. Truth in the
names: CLASS[-nORDER][-aAXIS]...[-dDIRECTION]__family_k.png.

    .venv-tools/venv/bin/python scripts/python/make_symmetry_orbits.py [--seed S] [--per-class 30] [--out DIR]
"""
import math

import numpy as np
from PIL import Image

import symmetry_label_check as check

SS = 3


def motif(rng, reach, size):
    """A union of 1-3 ellipses and bars within `reach` of the origin, each about `size` across, as
    a function of (x, y)."""
    parts = []
    for _ in range(int(rng.integers(1, 4))):
        cx, cy = rng.uniform(-reach, reach, 2)
        a, b = rng.uniform(0.3, 1) * size, rng.uniform(0.15, 0.6) * size
        t = rng.uniform(0, math.pi)
        parts.append((cx, cy, a, b, t, rng.random() < 0.4))

    def inside(x, y):
        out = np.zeros(np.broadcast(x, y).shape, dtype=bool)
        for cx, cy, a, b, t, bar in parts:
            X, Y = x - cx, y - cy
            u, v = math.cos(t) * X + math.sin(t) * Y, -math.sin(t) * X + math.cos(t) * Y
            out |= (np.abs(u) < a) & (np.abs(v) < b * 0.5) if bar else (u / a) ** 2 + (v / b) ** 2 < 1
        return out
    return inside


def transformed(f, A, b):
    """The figure f carried by x -> A x + b (read back through the inverse)."""
    Ai = np.linalg.inv(A)

    def inside(x, y):
        X, Y = x - b[0], y - b[1]
        return f(Ai[0, 0] * X + Ai[0, 1] * Y, Ai[1, 0] * X + Ai[1, 1] * Y)
    return inside


def union(fs):
    def inside(x, y):
        out = np.zeros(np.broadcast(x, y).shape, dtype=bool)
        for f in fs:
            out |= f(x, y)
        return out
    return inside


def orbit(f, maps):
    return union([transformed(f, A, b) for A, b in maps])


def group_maps(n, centre, axis=None):
    """C_n about `centre`, and with `axis` (degrees) D_n: its mirrors too."""
    maps = [check.rotation_map(360 * k / n, centre) for k in range(n)]
    if axis is not None:
        maps += [check.mirror_map(axis + 180 * k / n, centre) for k in range(n)]
    return maps


def motif_set(rng, texture, centre):
    """The motif a group acts on: near the centre for a shape, many at many radii for a texture."""
    if not texture:
        return transformed(motif(rng, 0.35, 0.25), np.eye(2), np.array(centre))
    fs = [transformed(motif(rng, 0.1, 0.12), np.eye(2), np.array(centre) + np.array(p))
          for p in rng.uniform(-1.6, 1.6, (int(rng.integers(5, 10)), 2))]
    return union(fs)


def rotation(rng, texture, c, t):
    radii = np.sort(rng.uniform(0.05, 2.0 if texture else 0.85, 2 * int(rng.integers(1, 5 if texture else 3))))

    def inside(x, y):
        r = np.hypot(x - c[0], y - c[1])
        out = np.zeros(r.shape, dtype=bool)
        for a, b in radii.reshape(-1, 2):
            out |= (r > a) & (r < b)
        return out
    return inside, "rings", {}


def discrete(rng, texture, c, t):
    n = int(rng.integers(3, 13))
    chiral = rng.random() < 0.5
    m = motif_set(rng, texture, (0.0, 0.0))
    # The motif sits off the centre, so the orbit is not round.
    m = transformed(m, np.eye(2), np.array([rng.uniform(0.25, 0.5), 0.0]) if not texture else np.zeros(2))
    axis = None if chiral else float(rng.uniform(0, 180))
    if not chiral:
        m = union([m, transformed(m, *check.mirror_map(axis))])
        maps = group_maps(n, (0.0, 0.0))
    else:
        maps = group_maps(n, (0.0, 0.0))
    f = transformed(orbit(m, maps), *check.rotation_map(t))
    f = transformed(f, np.eye(2), np.array(c))
    axes = [] if chiral else [(axis + t + 180 * k / n) % 180 for k in range(n)]
    return f, ("pinwheel" if chiral else "rosette") + str(n), {"n": n, "axes": axes, "chiral": chiral}


def reflection(rng, texture, c, t):
    m = motif_set(rng, texture, (0.0, 0.0))
    if not texture:
        m = transformed(m, np.eye(2), np.array([rng.uniform(0.05, 0.3), rng.uniform(-0.3, 0.3)]))
    axis = (90 + t) % 180
    f = transformed(union([m, transformed(m, *check.mirror_map(90))]), *check.rotation_map(t))
    return transformed(f, np.eye(2), np.array(c)), "mirrored", {"axes": [axis]}


def reflection_both(rng, texture, c, t):
    m = motif_set(rng, texture, (0.0, 0.0))
    if not texture:
        m = transformed(m, np.eye(2), np.array([rng.uniform(0.1, 0.35), rng.uniform(0.0, 0.3)]))
    f = orbit(m, [check.rotation_map(0), check.rotation_map(180), check.mirror_map(0), check.mirror_map(90)])
    f = transformed(f, *check.rotation_map(t))
    return transformed(f, np.eye(2), np.array(c)), "quartet", {"axes": [t % 180, (t + 90) % 180]}


def translation(rng, texture, c, t):
    edges = np.sort(rng.uniform(-1.6, 1.6, 2 * int(rng.integers(2, 6))))
    a = math.radians(t)

    def inside(x, y):
        u = math.cos(a) * (x - c[0]) + math.sin(a) * (y - c[1])
        out = np.zeros(u.shape, dtype=bool)
        for lo, hi in edges.reshape(-1, 2):
            out |= (u > lo) & (u < hi)
        return out
    return inside, "bands", {"d": (t + 90) % 180}


def none(rng, texture, c, t):
    if texture:
        f = union([transformed(motif(rng, 0.1, 0.2), np.eye(2), np.array(c) + p)
                   for p in rng.uniform(-1.4, 1.4, (int(rng.integers(25, 50)), 2))])
    else:
        f = union([transformed(motif(rng, 0.45, 0.3), np.eye(2), np.array(c)) for _ in range(2)])
    return f, "scatter", {}


FAMILIES = {"rotation": rotation, "reflection": reflection, "reflection_both": reflection_both,
            "discrete_rotation": discrete, "translation": translation, "none": none}


def verified(cls, f, w, h, c, info, binary):
    if cls == "rotation":
        return min(check.exact_iou(f, w, h, [check.rotation_map(d, c) for d in (17.3, 71.9, 143.1)])) >= check.PRESENT, \
            "rings"
    if cls == "discrete_rotation":
        n = info["n"]
        present = check.exact_iou(f, w, h, [check.rotation_map(360 / n, c)] + [check.mirror_map(a, c)
                                                                               for a in info["axes"]])
        if min(present) < check.PRESENT:
            return False, f"turn or mirror below 0.97 ({min(present):.2f})"
        finer = check.exact_iou(f, w, h, [check.rotation_map(180 / n, c), check.rotation_map(120 / n, c)])
        if max(finer) >= check.ABSENT:
            return False, "also a finer turn"
        return check.absent(binary, mirrors_except=[] if info["chiral"] else None, translation=True)
    if cls in ("reflection", "reflection_both"):
        present = check.exact_iou(f, w, h, [check.mirror_map(a, c) for a in info["axes"]])
        if min(present) < check.PRESENT:
            return False, f"mirror below 0.97 ({min(present):.2f})"
        orders = range(2, 13) if cls == "reflection" else range(3, 13)
        return check.absent(binary, mirrors_except=info["axes"], orders=orders, translation=True)
    if cls == "translation":
        d = info["d"]
        return min(check.exact_iou(f, w, h, [check.shift_map(d, s) for s in (0.17, 0.31, 0.43)])) >= check.PRESENT, \
            "bands"
    return check.absent(binary, mirrors_except=[], orders=range(2, 13), translation=True)


def stem(cls, info):
    s = cls + (f"-n{info['n']}" if "n" in info else "")
    s += "".join(f"-a{a % 180:.0f}" for a in info.get("axes", []))
    return s + (f"-d{info['d'] % 180:.0f}" if "d" in info else "")


def main():
    args, rng, out = check.start(__doc__, 5050, "orbits")
    redraws = 0
    for cls, family in FAMILIES.items():
        for k in range(args.per_class):
            texture = k % 4 >= 2

            def draw():
                w = int(rng.integers(64, 129))
                h = w if rng.random() < 0.7 else int(np.clip(w * rng.uniform(0.8, 1.25), 64, 140))
                c = rng.uniform(-0.3, 0.3, 2)
                t = float(rng.uniform(0, 360)) if k % 2 == 1 else 0.0
                f, what, info = family(rng, texture, c, t)
                x, y, _, _ = check.window_points(w, h, 1)
                binary = f(x, y).astype(np.float32)
                if not 0.08 < binary.mean() < 0.85:
                    return None
                ok, why = verified(cls, f, w, h, c, info, binary)
                return ok, f"{cls} {what}: {why}", (f, w, h, t, info, what)
            (f, w, h, t, info, what), refused = check.first_verified(draw, args.verbose)
            redraws += refused
            xs, ys, _, _ = check.window_points(w, h, SS)
            grey = check.grey_levels(rng, f(xs, ys).reshape(h, SS, w, SS).mean(axis=(1, 3)))
            kind = f"{'texture' if texture else 'shape'}_{'turned' if t else 'upright'}"
            Image.fromarray(grey, "L").save(out / f"{stem(cls, info)}__{what}_{kind}_{k:02d}.png")
        print(f"{cls}: {args.per_class} images", flush=True)
    print(f"wrote {6 * args.per_class} images to {out} ({redraws} draws refused by the geometry check)")


if __name__ == "__main__":
    main()
