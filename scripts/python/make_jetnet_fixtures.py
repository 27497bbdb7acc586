"""Fixtures for GenLab's JetNet metrics (Tests/LabTests/Fixtures/jetnet/): two samples of jets as
particles, the EFPs energyflow computes for them, and jetnet.evaluation's W1s, FPD and KPD.

Jets: the bundled QCD (sample A) and top (sample B) jet images, each image's 30 hardest pixels as
massless particles (η_rel, φ_rel, pT_rel) at the pixel centres — the rule GenLab uses, written
again here. jetnet and energyflow pin numpy < 2, so they live in a venv of their own:

    python3 -m venv .venv-tools/jetnet && .venv-tools/jetnet/bin/pip install jetnet energyflow h5py
    .venv-tools/jetnet/bin/python scripts/python/make_jetnet_fixtures.py
"""
import json
import pathlib

import energyflow as ef
import h5py
import jetnet
import numpy as np
from jetnet.evaluation import fpd, kpd, w1efp, w1m, w1p
from scipy.linalg import sqrtm
from scipy.stats import wasserstein_distance

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests/LabTests/Fixtures/jetnet"
OUT.mkdir(parents=True, exist_ok=True)
N, WINDOW, SIZE, KEEP = 400, 1.25, 25, 30


def particles(images):
    step = 2 * WINDOW / SIZE
    out = np.zeros((len(images), KEEP, 3), np.float32)  # [eta, phi, pt] as jetnet orders them
    for j, img in enumerate(images):
        flat = img.reshape(-1).astype(np.float64)
        order = sorted(np.flatnonzero(flat > 0), key=lambda k: (-flat[k], k))[:KEEP]
        total = flat[order].sum()
        for n, k in enumerate(order):
            out[j, n] = [-WINDOW + (k % SIZE + 0.5) * step, -WINDOW + (k // SIZE + 0.5) * step, flat[k] / total]
    return out


def load(name):
    with h5py.File(ROOT / "Datasets/jets" / name) as f:
        return f["images"][:N]


a, b = particles(load("qcd_test.h5")), particles(load("top_test.h5"))
np.save(OUT / "jets_a.npy", a)
np.save(OUT / "jets_b.npy", b)

efpset = ef.EFPSet(("d<=", 4), measure="hadr", beta=1, normed=None, coords="ptyphim")
ptyphim = lambda jets: np.concatenate([jets[..., 2:3], jets[..., 0:2]], axis=-1)
efps_a = efpset.batch_compute(ptyphim(a[:20]))
w1set = jetnet.utils.efps(a[:20])  # n = 4, d = 4 prime: the W1-EFP set
fpd_a, fpd_b = jetnet.utils.efps(a, efpset_args=[("d<=", 4)]), jetnet.utils.efps(b, efpset_args=[("d<=", 4)])
masses = lambda jets: jetnet.utils.jet_features(jets)["mass"]


def frechet(x, y):
    m1, m2, s1, s2 = x.mean(0), y.mean(0), np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    return float(((m1 - m2) ** 2).sum() + np.trace(s1 + s2 - 2 * np.real(sqrtm(s1 @ s2))))


maxes = np.max(np.abs(fpd_a), axis=0)
maxes[maxes == 0] = 1
ma, mb = masses(a), masses(b)
fixture = {
    "about": "scripts/python/make_jetnet_fixtures.py; jets_a.npy = 400 QCD, jets_b.npy = 400 top jets (30 hardest pixels)",
    "versions": {"jetnet": jetnet.__version__, "energyflow": ef.__version__, "numpy": np.__version__},
    "efp_count": len(efpset.efps), "efp_prime_count": int(efpset.count("p==1")),
    "efps_a20": efps_a.tolist(), "w1efp_set_a20": w1set.tolist(),
    "mass_a": ma.tolist()[:20],
    # Exact distances on the full samples.
    "w1_mass_exact": float(wasserstein_distance(ma, mb)),
    "w1_particle_exact": [float(wasserstein_distance(a[..., k][a[..., 2] > 0], b[..., k][b[..., 2] > 0])) for k in range(3)],
    "frechet_full_normalised": frechet(fpd_a / maxes, fpd_b / maxes),
    # jetnet.evaluation as users call it (its random draws: statistical agreement only).
    "w1m": list(map(float, w1m(a, b, num_eval_samples=N, num_batches=5))),
    "w1p": [list(map(float, v)) for v in w1p(a, b, num_eval_samples=N, num_batches=5)],
    "w1efp": [float(np.mean(v)) for v in w1efp(a, b, num_eval_samples=N, num_batches=5)],
    "fpd": list(map(float, fpd(fpd_a, fpd_b, min_samples=100, max_samples=N))),
    "kpd": list(map(float, kpd(fpd_a, fpd_b, num_batches=10, batch_size=200))),
    "fpd_truth": list(map(float, fpd(fpd_a[:200], fpd_a[200:], min_samples=50, max_samples=200))),
}
(OUT / "jetnet.json").write_text(json.dumps(fixture, indent=1))
print({k: v for k, v in fixture.items() if k not in ("efps_a20", "w1efp_set_a20", "mass_a")})
