"""Geometric verification of symmetry labels for GenLab's independent test generators.

Used by make_symmetry_frames.py and make_symmetry_orbits.py (and by nothing GenLab trains on).
A label is kept only when the geometry bears it out, measured on the window the image shows:

- *present*: the image and its transformed self agree with IoU >= 0.97, computed from the figure's
  exact indicator function at the pixel centres whose image under the map stays inside the window;
- *absent*: no map of the kind the class excludes reaches IoU 0.70, searched over every axis angle
  and offset, every rotation centre in the window, orders 2..12 and every stripe direction, on the
  two-colour image itself (bilinear reads, torch's grid_sample, batched), for the shape (the
  colour off the border, or in a texture the rarer one); presence needs both colours to agree.

A figure clear of the window's border (a shape on its background) is compared over the whole window,
what a map carries in from outside being background; a pattern that reaches the border (a texture,
which goes on beyond the window) only where the map keeps it inside the window.

Coordinates: y up, the window's shorter side spans [-1, 1], angles in degrees counter-clockwise from
the rightward axis.
"""
import argparse
import math
import pathlib
import shutil

import numpy as np
import torch
import torch.nn.functional as F

# Each generator is one process; two side by side on two cores should not fight over threads.
torch.set_num_threads(1)

PRESENT = 0.97
ABSENT = 0.70
# A map is judged only where at least this fraction of the window stays inside it: a mirror axis
# along the border or a far-away rotation centre would otherwise compare a sliver with itself.
MIN_OVERLAP = 0.6


def window_points(w, h, ss=2):
    """Pixel-centre (supersampled) coordinates of a w x h window, shorter side spanning [-1, 1]."""
    s = min(w, h) * ss / 2
    ys, xs = np.mgrid[0:h * ss, 0:w * ss]
    return (xs + 0.5 - w * ss / 2) / s, (h * ss / 2 - ys - 0.5) / s, w / min(w, h), h / min(w, h)


def rotation_map(degrees, centre=(0.0, 0.0)):
    a = math.radians(degrees)
    A = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    c = np.asarray(centre, float)
    return A, c - A @ c


def mirror_map(axis_degrees, through=(0.0, 0.0)):
    a = math.radians(2 * axis_degrees)
    A = np.array([[math.cos(a), math.sin(a)], [math.sin(a), -math.cos(a)]])
    c = np.asarray(through, float)
    return A, c - A @ c


def shift_map(direction_degrees, distance):
    a = math.radians(direction_degrees)
    return np.eye(2), np.array([distance * math.cos(a), distance * math.sin(a)])


def exact_iou(inside, w, h, maps):
    """IoU of the figure with its image under each map (A, b), from the indicator function `inside`
    at supersampled pixel centres whose image stays in the window; 0 where too little does."""
    x, y, hw, hh = window_points(w, h)
    a = inside(x, y)
    out = []
    for A, b in maps:
        u = A[0, 0] * x + A[0, 1] * y + b[0]
        v = A[1, 0] * x + A[1, 1] * y + b[1]
        valid = (np.abs(u) <= hw) & (np.abs(v) <= hh)
        if valid.mean() < MIN_OVERLAP:
            out.append(0.0)
            continue
        g = inside(u, v)
        # Both colours must map onto themselves.
        ious = [((x & y) & valid).sum() / max(((x | y) & valid).sum(), 1) for x, y in ((a, g), (~a, ~g))]
        out.append(float(min(ious)))
    return out


class ImageSearch:
    """IoU of a two-colour image with its transformed self, for many maps at once."""

    def __init__(self, binary):
        h, w = binary.shape
        self.h, self.w = h, w
        self.s = min(w, h) / 2
        border = np.concatenate([binary[0], binary[-1], binary[:, 0], binary[:, -1]])
        # A shape clear of the border: itself as the 1s, the outside its background.
        self.clear = bool(border.min() == border.max())
        # The shape is the colour off the border, or in a texture the rarer one: the IoU of a colour
        # that covers most of the window is high for any map.
        if (self.clear and border[0] > 0.5) or (not self.clear and binary.mean() > 0.5):
            binary = 1 - binary
        self.img = torch.tensor(binary, dtype=torch.float32)[None, None]
        ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                                indexing="ij")
        self.x = (xs + 0.5 - w / 2) / self.s
        self.y = (h / 2 - ys - 0.5) / self.s

    def iou(self, maps, chunk=256):
        out = []
        ones = torch.ones_like(self.img)
        for i in range(0, len(maps), chunk):
            part = maps[i:i + chunk]
            A = torch.tensor(np.array([m[0] for m in part]), dtype=torch.float32)
            b = torch.tensor(np.array([m[1] for m in part]), dtype=torch.float32)
            u = A[:, 0, 0, None, None] * self.x + A[:, 0, 1, None, None] * self.y + b[:, 0, None, None]
            v = A[:, 1, 0, None, None] * self.x + A[:, 1, 1, None, None] * self.y + b[:, 1, None, None]
            # grid_sample's normalised coordinates: x right, y down, [-1, 1] edge to edge.
            grid = torch.stack([u * self.s / (self.w / 2), -v * self.s / (self.h / 2)], dim=-1)
            n = len(part)
            g = (F.grid_sample(self.img.expand(n, -1, -1, -1), grid, align_corners=False,
                               padding_mode="zeros")[:, 0] > 0.5).float()
            a = self.img[0, 0].expand(n, -1, -1)
            if self.clear:
                valid = torch.ones_like(g, dtype=torch.bool)
            else:
                valid = F.grid_sample(ones.expand(n, -1, -1, -1), grid, align_corners=False,
                                      padding_mode="zeros")[:, 0] > 0.999
            frac = valid.float().mean(dim=(1, 2))
            best = torch.zeros(n)
            for x, y in ((a, g),):
                inter = (torch.minimum(x, y) * valid).sum(dim=(1, 2))
                union = (torch.maximum(x, y) * valid).sum(dim=(1, 2))
                # Judged only where the overlap holds both colours.
                fill = (x * valid).sum(dim=(1, 2)) / (valid.sum(dim=(1, 2)).clamp_min(1))
                ok = (frac >= MIN_OVERLAP) & (fill > 0.05) & (fill < 0.95)
                best = torch.maximum(best, torch.where(ok, inter / union.clamp_min(1), torch.zeros_like(inter)))
            out.extend(best.tolist())
        return np.array(out)

    def centres(self, step):
        # A turn about a centre further out keeps too little of a texture in the window to be judged.
        hw, hh = (self.w / 2 / self.s, self.h / 2 / self.s) if self.clear else (0.6, 0.6)
        return [(cx, cy) for cx in np.arange(-hw, hw + 1e-9, step) for cy in np.arange(-hh, hh + 1e-9, step)]

    def best_rotation(self, degrees, near=None):
        """The best IoU of a turn by `degrees` about any centre (coarse grid, then refined)."""
        cands = self.centres(0.1) if near is None else [near]
        scores = self.iou([rotation_map(degrees, c) for c in cands])
        best = float(scores.max())
        for k in np.argsort(scores)[-3:]:
            cx, cy = cands[k]
            fine = [(cx + dx, cy + dy) for dx in np.arange(-0.1, 0.101, 0.025) for dy in np.arange(-0.1, 0.101, 0.025)]
            best = max(best, float(self.iou([rotation_map(degrees, c) for c in fine]).max()))
        return best

    def mirror_scan(self, step=0.05):
        """For every axis angle (1 degree), the best IoU over offsets of the axis."""
        span = math.hypot(self.w, self.h) / 2 / self.s
        if not self.clear:  # an axis further out keeps too little of a texture in the window
            span = 0.5 * max(self.w, self.h) / 2 / self.s
        offsets = np.arange(-span, span + 1e-9, step)
        best = np.zeros(180)
        for a in range(180):
            n = (-math.sin(math.radians(a)), math.cos(math.radians(a)))
            maps = [mirror_map(a, (d * n[0], d * n[1])) for d in offsets]
            best[a] = self.iou(maps).max()
        return best

    def best_translation(self, distances=(0.25, 0.45)):
        """The best, over directions (1 degree), of the smallest IoU over the shift distances."""
        best = 0.0
        for a in range(0, 180):
            best = max(best, float(self.iou([shift_map(a, d) for d in distances]).min()))
        return best


def absent(binary, *, mirrors_except=None, orders=(), about_any_centre=True, translation=False,
           continuous_about=None):
    """True when none of the named maps reaches ABSENT. `mirrors_except`: None to skip mirrors, else
    a list of axis angles whose neighbourhood (within 8 degrees) is allowed; `orders`: turns by
    360/n about any centre; `translation`: stripes in any direction; `continuous_about`: a centre
    about which a turn by an angle no finite order below 13 has must not agree."""
    s = ImageSearch(binary)
    if mirrors_except is not None:
        scan = s.mirror_scan()
        for a in range(180):
            if any(min(abs(a - e) % 180, 180 - abs(a - e) % 180) <= 8 for e in mirrors_except):
                continue
            if scan[a] >= ABSENT:
                return False, f"mirror at {a} deg agrees {scan[a]:.2f}"
    for n in orders:
        v = s.best_rotation(360 / n)
        if v >= ABSENT:
            return False, f"turn by 360/{n} agrees {v:.2f}"
    if continuous_about is not None:
        v = s.best_rotation(360 / 2 / 13.7, near=continuous_about)
        if v >= ABSENT:
            return False, f"turn by 13 deg agrees {v:.2f}"
    if translation:
        v = s.best_translation()
        if v >= ABSENT:
            return False, f"translation agrees {v:.2f}"
    return True, ""


def first_verified(draw, verbose=False):
    """Draws until the geometry bears a draw out: `draw()` returns None for a draw refused before
    the check (its fill), else (ok, why, result). Returns the result and how many were refused."""
    refused = 0
    while True:
        got = draw()
        if got is None:
            refused += 1
            continue
        ok, why, result = got
        if ok:
            return result, refused
        refused += 1
        if verbose:
            print(f"  refused {why}", flush=True)


def grey_levels(rng, frac):
    """A figure's coverage per pixel (0..1) as 8-bit grey: a random dark/light pair either way
    round, and a little noise in three images of ten."""
    if rng.random() < 0.5:
        fg, bg = rng.uniform(0, 0.35), rng.uniform(0.65, 1)
    else:
        fg, bg = rng.uniform(0.65, 1), rng.uniform(0, 0.35)
    grey = bg + (fg - bg) * frac
    if rng.random() < 0.3:
        grey = grey + rng.normal(0, 0.02, grey.shape)
    return np.clip(grey * 255, 0, 255).astype(np.uint8)


def start(doc, default_seed, folder):
    """The command line both generators share, and a fresh output folder: (args, rng, out)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--seed", type=int, default=default_seed)
    ap.add_argument("--per-class", type=int, default=30)
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[2] / "Datasets" / "symmetry" / folder))
    ap.add_argument("--verbose", action="store_true", help="say why each refused draw was refused")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    return args, np.random.default_rng(args.seed), out
