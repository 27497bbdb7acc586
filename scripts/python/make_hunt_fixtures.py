"""Toy dijet feature tables in the LHC Olympics R&D layout for GenLab's hunt tests, written by pandas
(Tests/LabTests/Fixtures/, committed once). They share nothing with the Pythia generator
(make_dijets.py): closed-form distributions chosen to look like the benchmark, so a test of the hunt
does not learn one generator's quirks.

Background: m_jj falling (2.6 TeV + exponential), jet masses growing with m_jj plus spread, tau21
Beta-distributed; signal: a narrow resonance (m_jj ~ N(3.5, 0.12) TeV), jets of 500 and 100 GeV,
small tau21. Also the same table in pandas' "table" format and in an h5py file that names
its columns in the fixed layout without PyTables' attributes, for the readers.

    $(scripts/python/env.sh) scripts/python/make_hunt_fixtures.py
"""
import pathlib

import h5py
import numpy as np
import pandas as pd

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/LabTests/Fixtures"
COLUMNS = ["pxj1", "pyj1", "pzj1", "mj1", "tau1j1", "tau2j1", "tau3j1",
           "pxj2", "pyj2", "pzj2", "mj2", "tau1j2", "tau2j2", "tau3j2", "label"]


def jets_for(mjj, m1, m2, rng):
    """Back-to-back jets (GeV) with the given pair mass and jet masses, random azimuth and rapidity gap."""
    n = len(mjj)
    deta = rng.normal(0, 0.8, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    # For massless-ish jets, mjj^2 ~ 2 pT^2 (cosh(deta) + 1): solve for pT, then adjust for the masses.
    pt = np.sqrt(np.maximum(mjj ** 2 - (m1 + m2) ** 2, 1) / (2 * (np.cosh(deta) + 1)))
    eta1, eta2 = deta / 2, -deta / 2
    out = []
    for eta, sign, m in ((eta1, 1, m1), (eta2, -1, m2)):
        px, py, pz = sign * pt * np.cos(phi), sign * pt * np.sin(phi), pt * np.sinh(eta)
        out.append((px, py, pz, m))
    return out


def table(n_bkg, n_sig, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for label, n in ((0, n_bkg), (1, n_sig)):
        if label == 0:
            mjj = 2600 + rng.exponential(550, n)
            ma = np.abs(rng.normal(0.04 * mjj, 60 + 0.02 * mjj))
            mb = np.abs(rng.normal(0.05 * mjj, 80 + 0.03 * mjj))
            t21a, t21b = rng.beta(5, 4, n), rng.beta(5, 4, n)
        else:
            mjj = rng.normal(3500, 120, n)
            ma, mb = np.abs(rng.normal(500, 70, n)), np.abs(rng.normal(100, 35, n))
            t21a, t21b = rng.beta(4, 6, n), rng.beta(4, 6, n)
        swap = rng.uniform(size=n) < 0.5
        m1, m2 = np.where(swap, mb, ma), np.where(swap, ma, mb)
        t1, t2 = np.where(swap, t21b, t21a), np.where(swap, t21a, t21b)
        (j1, j2) = jets_for(mjj, m1, m2, rng)
        tau1a, tau1b = rng.uniform(0.1, 0.6, n), rng.uniform(0.1, 0.6, n)
        rows.append(np.stack([j1[0], j1[1], j1[2], m1, tau1a, t1 * tau1a, 0.7 * t1 * tau1a,
                              j2[0], j2[1], j2[2], m2, tau1b, t2 * tau1b, 0.7 * t2 * tau1b,
                              np.full(n, label)], 1))
    data = np.concatenate(rows).astype(np.float32)
    return pd.DataFrame(data[rng.permutation(len(data))], columns=COLUMNS)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    frame = table(24000, 3000, seed=5)
    frame.to_hdf(OUT / "hunt_toy.h5", key="df", mode="w", format="fixed", complevel=6, complib="zlib")
    small = frame.iloc[:200]
    small.to_hdf(OUT / "hunt_toy_table.h5", key="events", mode="w", format="table")
    with h5py.File(OUT / "hunt_toy_h5py.h5", "w") as f:
        g = f.create_group("df")
        g.create_dataset("block0_items", data=np.array([c.encode() for c in COLUMNS]))
        g.create_dataset("block0_values", data=small.to_numpy())
    # The derived features as GenLab computes them, for the reader test.
    m = small.to_numpy(np.float64)
    e = lambda o: np.sqrt(m[:, o] ** 2 + m[:, o + 1] ** 2 + m[:, o + 2] ** 2 + m[:, o + 3] ** 2)
    p = m[:, 0:3] + m[:, 7:10]
    mjj = np.sqrt((e(0) + e(7)) ** 2 - (p ** 2).sum(1)) / 1000
    print("hunt_toy.h5:", len(frame), "events; first rows' mjj (TeV):", np.round(mjj[:3], 5))
