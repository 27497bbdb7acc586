#!/usr/bin/env python3
"""How the hunt's features depend on m_jj around the signal region (why CWoLa's null test fails).

Reads the R&D-layout shards (pandas "df", fixed format, read with h5py) and prints, per 0.1 TeV bin of
m_jj, the mean rapidity gap |dy| of the two leading jets and the share of events with
Delta m_J in a window; then that share in the SR, in each side band and in the two bands weighted as
`genlab hunt --method cwola` weighs them (their mean m_jj equal to the SR's).

    .venv-tools/venv/bin/python scripts/python/cwola_mjj_dependence.py Datasets/dijets
"""
import argparse
import glob

import h5py
import numpy as np


def read(folder):
    parts = []
    for path in sorted(glob.glob(f"{folder}/qcd_seed*.h5")):
        with h5py.File(path) as f:
            names = [x.decode() for x in f["df/block0_items"][:]]
            parts.append(dict(zip(names, f["df/block0_values"][:].T)))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--region", default="3.3:3.7", help="SR in TeV (default 3.3:3.7)")
    ap.add_argument("--band", type=float, default=0.2, help="side-band width, TeV (default 0.2)")
    ap.add_argument("--window", default="0.3:0.5", help="Delta m_J window, TeV (default 0.3:0.5)")
    a = ap.parse_args()
    d = read(a.folder)
    jets = []
    for j in ("j1", "j2"):
        px, py, pz, m = (d[k + j] for k in ("px", "py", "pz", "m"))
        jets.append((np.sqrt(px**2 + py**2 + pz**2 + m**2), px, py, pz, m))
    (e1, x1, y1, z1, m1), (e2, x2, y2, z2, m2) = jets
    mjj = np.sqrt(np.maximum((e1 + e2) ** 2 - (x1 + x2) ** 2 - (y1 + y2) ** 2 - (z1 + z2) ** 2, 0)) / 1000
    dy = np.abs(0.5 * np.log((e1 + z1) / (e1 - z1)) - 0.5 * np.log((e2 + z2) / (e2 - z2)))
    dm = np.abs(m1 - m2) / 1000
    w0, w1 = map(float, a.window.split(":"))
    tail = (dm >= w0) & (dm < w1)
    lo, hi = map(float, a.region.split(":"))
    print(f"{len(mjj)} events; bin (TeV), events, mean |dy|, share with Delta m_J in {a.window} TeV")
    for b in np.arange(lo - 2 * a.band, hi + 2 * a.band - 1e-9, 0.1):
        s = (mjj >= b) & (mjj < b + 0.1)
        print(f"  {b:.1f}-{b + 0.1:.1f}  {s.sum():7d}  {dy[s].mean():.3f}  {tail[s].mean():.4f}")
    sr = (mjj >= lo) & (mjj < hi)
    below = (mjj >= lo - a.band) & (mjj < lo)
    above = (mjj >= hi) & (mjj < hi + a.band)
    ml, mh, ms = mjj[below].mean(), mjj[above].mean(), mjj[sr].mean()
    total = below.sum() + above.sum()
    wl = total * (mh - ms) / (mh - ml)
    w = np.where(below, wl / below.sum(), (total - wl) / above.sum())
    bands = below | above
    balanced = (w * tail)[bands].sum() / w[bands].sum()
    print(f"SR {tail[sr].mean():.4f}, lower band {tail[below].mean():.4f}, upper band {tail[above].mean():.4f}, "
          f"balanced bands {balanced:.4f} (SR / balanced {tail[sr].mean() / balanced:.3f})")


if __name__ == "__main__":
    main()
