"""Generates GenLab's collider data sets (Datasets/jets/) with Pythia 8 and FastJet.

Jets: 14 TeV pp, multiparton interactions on, anti-kT R = 1.0 on visible final-state particles,
the leading jet with 550 < pT < 650 GeV and |eta| < 2; signal jets truth-matched (all decay quarks
within R of the jet axis). Each file holds
  images        (N, 25, 25) float32  pT per pixel (GeV), standard preprocessing (see jet_image)
  constituents  (N, 200, 3) float32  (pT, eta, phi), pT-ordered, zero-padded
  jets          (N, 4)      float32  (pT, eta, phi, mass) of the jet
  labels        (N,)        int8     0 = QCD background, 1 = signal
with every Pythia setting, seed and image parameter in the file's attributes. Also whole events in
the LHC Olympics 2020 layout (pandas "fixed": /df/block0_values, N x 2101 float64 = 700 particles
x (pT, eta, phi) then the label).

    scripts/python/make_jets.sh      # makes its own venv (.venv-physics), then runs this
"""
import argparse
import math
import multiprocessing as mp
import pathlib
import time

import fastjet
import h5py
import numpy as np
import pythia8mc

R = 1.0
PT_MIN, PT_MAX, ETA_MAX = 550.0, 650.0, 2.0
NPIX, WINDOW = 25, 1.25     # 25 x 25 pixels over eta, phi in [-1.25, 1.25]
MAX_CONSTITUENTS = 200

PROCESSES = {
    "qcd": ["HardQCD:all = on", "PhaseSpace:pTHatMin = 500"],
    "top": ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on", "24:onMode = off", "24:onIfAny = 1 2 3 4 5",
            "PhaseSpace:pTHatMin = 500"],
    "wprime": ["NewGaugeBoson:ffbar2Wprime = on", "Wprime:coup2WZ = 1.", "34:m0 = 1200.", "34:onMode = off",
               "34:onIfAll = 23 24", "24:onMode = off", "24:onIfAny = 1 2 3 4 5", "23:onMode = off",
               "23:onIfAny = 12 14 16"],
}
COMMON = ["Beams:eCM = 14000.", "PartonLevel:MPI = on", "Print:quiet = on", "Next:numberCount = 0"]


def wrap(dphi):
    return (dphi + np.pi) % (2 * np.pi) - np.pi


def jet_image(pt, eta, phi, jet_eta, jet_phi):
    """The reference preprocessing (GenLab's JetImage reproduces it pixel for pixel):
    1. translate the pT-weighted centroid to the origin (phi differences wrapped to [-pi, pi));
    2. rotate so the principal axis of the pT-weighted second-moment tensor lies along eta;
    3. flip eta, then phi, so the half with the larger pT sum is at positive coordinates;
    4. sum pT into NPIX x NPIX pixels over [-WINDOW, WINDOW]^2 (row = phi bin, column = eta bin);
       constituents outside the window are dropped."""
    pt = pt.astype(np.float64)
    x = eta.astype(np.float64) - jet_eta
    y = wrap(phi.astype(np.float64) - jet_phi)
    w = pt / pt.sum()
    x = x - (w * x).sum()
    y = y - (w * y).sum()
    sxx, syy, sxy = (w * x * x).sum(), (w * y * y).sum(), (w * x * y).sum()
    theta = 0.5 * math.atan2(2 * sxy, sxx - syy)
    c, s = math.cos(theta), math.sin(theta)
    x, y = c * x + s * y, -s * x + c * y
    if (pt * (x < 0)).sum() > (pt * (x > 0)).sum():
        x = -x
    if (pt * (y < 0)).sum() > (pt * (y > 0)).sum():
        y = -y
    img = np.zeros((NPIX, NPIX), np.float64)
    step = 2 * WINDOW / NPIX
    col = np.floor((x + WINDOW) / step).astype(int)
    row = np.floor((y + WINDOW) / step).astype(int)
    ok = (col >= 0) & (col < NPIX) & (row >= 0) & (row < NPIX)
    np.add.at(img, (row[ok], col[ok]), pt[ok])
    return img.astype(np.float32)


def decay_quarks(event, kind):
    """Groups of decay quarks (as (eta, phi)) that a signal jet must contain."""
    groups = []
    for i in range(event.size()):
        p = event[i]
        if kind == "top" and p.idAbs() == 6 and event[p.daughter1()].idAbs() != 6:
            quarks = []
            for d in p.daughterList():
                q = event[d]
                if q.idAbs() == 5:
                    quarks.append(q)
                elif q.idAbs() == 24:
                    w = event[q.iBotCopyId()]
                    quarks += [event[j] for j in w.daughterList() if 1 <= event[j].idAbs() <= 5]
            if len(quarks) == 3:
                groups.append([(q.eta(), q.phi()) for q in quarks])
        if kind == "wprime" and p.idAbs() == 24 and event[p.daughter1()].idAbs() != 24:
            quarks = [event[j] for j in p.daughterList() if 1 <= event[j].idAbs() <= 5]
            if len(quarks) == 2:
                groups.append([(q.eta(), q.phi()) for q in quarks])
    return groups


def visible(event):
    parts = [event[i] for i in range(event.size()) if event[i].isFinal() and event[i].isVisible()]
    return parts


def worker(args):
    kind, count, seed, events_only = args
    py = pythia8mc.Pythia("", False)
    for s in COMMON + PROCESSES[kind] + ["Random:setSeed = on", f"Random:seed = {seed}"]:
        py.readString(s)
    py.init()
    jetdef = fastjet.JetDefinition(fastjet.antikt_algorithm, R)
    rows = []
    tries = 0
    while len(rows) < count:
        if not py.next():
            continue
        tries += 1
        parts = visible(py.event)
        if events_only:
            ev = np.zeros((700, 3))
            parts = sorted(parts, key=lambda p: -p.pT())[:700]
            ev[:len(parts)] = [(p.pT(), p.eta(), p.phi()) for p in parts]
            rows.append(np.concatenate([ev.flatten(), [0.0 if kind == "qcd" else 1.0]]))
            continue
        pjs = []
        for k, p in enumerate(parts):
            pj = fastjet.PseudoJet(p.px(), p.py(), p.pz(), p.e())
            pj.set_user_index(k)
            pjs.append(pj)
        cs = fastjet.ClusterSequence(pjs, jetdef)
        jets = fastjet.sorted_by_pt(cs.inclusive_jets(20.0))
        if not jets:
            continue
        j = jets[0]
        if not (PT_MIN < j.pt() < PT_MAX and abs(j.eta()) < ETA_MAX):
            continue
        if kind != "qcd":
            groups = decay_quarks(py.event, kind)
            def inside(q):
                return math.hypot(q[0] - j.eta(), wrap(q[1] - j.phi())) < R
            if not any(all(inside(q) for q in g) for g in groups):
                continue
        cons = sorted(j.constituents(), key=lambda c: -c.pt())
        pt = np.array([c.pt() for c in cons])
        eta = np.array([c.eta() for c in cons])
        phi = np.array([c.phi_std() for c in cons])
        c = np.zeros((MAX_CONSTITUENTS, 3), np.float32)
        n = min(len(cons), MAX_CONSTITUENTS)
        c[:n] = np.stack([pt, eta, phi], 1)[:n]
        rows.append((jet_image(pt, eta, phi, j.eta(), j.phi_std()), c,
                     np.array([j.pt(), j.eta(), j.phi_std(), j.m()], np.float32)))
    return rows, tries


def write(path, kind, rows, seeds, tries, elapsed):
    tmp = path.with_suffix(".tmp")
    with h5py.File(tmp, "w") as f:
        opts = dict(compression="gzip", compression_opts=4, shuffle=True)
        f.create_dataset("images", data=np.stack([r[0] for r in rows]), chunks=(min(len(rows), 256), NPIX, NPIX), **opts)
        f.create_dataset("constituents", data=np.stack([r[1] for r in rows]), chunks=(min(len(rows), 256), MAX_CONSTITUENTS, 3), **opts)
        f.create_dataset("jets", data=np.stack([r[2] for r in rows]), **opts)
        f.create_dataset("labels", data=np.full(len(rows), 0 if kind == "qcd" else 1, np.int8))
        a = f.attrs
        a["process"] = kind
        a["pythia_version"] = "pythia8mc 8.317.2"
        a["pythia_settings"] = "; ".join(COMMON + PROCESSES[kind])
        a["seeds"] = np.array(seeds)
        a["generated_events"] = tries
        a["generation_seconds"] = elapsed
        a["jet_algorithm"] = "anti-kt"
        a["jet_radius"] = R
        a["jet_selection"] = f"leading jet, {PT_MIN} < pT < {PT_MAX} GeV, |eta| < {ETA_MAX}" + (
            "" if kind == "qcd" else ", all decay quarks within R of the jet axis")
        a["constituent_features"] = "pT, eta, phi"
        a["image_size"] = NPIX
        a["image_window"] = WINDOW
        a["image_preprocessing"] = "centroid, principal-axis rotation, flip, pixelate (pT sum)"
        a["generator_script"] = "scripts/python/make_jets.py"
    tmp.rename(path)


def write_events(path, rows, seeds):
    tmp = path.with_suffix(".tmp")
    data = np.stack(rows)
    with h5py.File(tmp, "w") as f:
        g = f.create_group("df")
        g.create_dataset("block0_values", data=data, compression="gzip", shuffle=True)
        g.create_dataset("axis0", data=np.array([str(i).encode() for i in range(data.shape[1])]))
        g.create_dataset("axis1", data=np.arange(len(data)))
        g.create_dataset("block0_items", data=np.array([str(i).encode() for i in range(data.shape[1])]))
        g.attrs["pandas_type"] = "frame"
        f.attrs["layout"] = "LHC Olympics 2020 R&D: 700 particles x (pT, eta, phi), zero-padded, then label (1 = W')"
        f.attrs["pythia_settings_qcd"] = "; ".join(COMMON + PROCESSES["qcd"])
        f.attrs["pythia_settings_signal"] = "; ".join(COMMON + PROCESSES["wprime"])
        f.attrs["seeds"] = np.array(seeds)
        f.attrs["generator_script"] = "scripts/python/make_jets.py"
    tmp.rename(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="Datasets/jets")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every count (quick trial runs)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", nargs="*", help="make only these files (e.g. top_train)")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plan = [("qcd_train", "qcd", 10000, 1000), ("qcd_test", "qcd", 3000, 2000),
            ("top_test", "top", 2000, 3000), ("wprime_test", "wprime", 2000, 4000),
            # Labelled signal for the supervised baseline tagger (never for the unsupervised scorer).
            ("top_train", "top", 2000, 6000)]
    with mp.Pool(args.workers) as pool:
        for name, kind, n, seed0 in plan:
            if args.only and name not in args.only:
                continue
            n = max(4, int(n * args.scale))
            shards = 8
            jobs = [(kind, n // shards + (1 if i < n % shards else 0), seed0 + i, False) for i in range(shards)]
            t = time.time()
            results = pool.map(worker, jobs)
            rows = [r for rs, _ in results for r in rs]
            write(out / f"{name}.h5", kind, rows, [j[2] for j in jobs], sum(tr for _, tr in results), time.time() - t)
            print(f"{name}: {len(rows)} jets in {time.time() - t:.0f} s", flush=True)
        if args.only and "lhco_events" not in args.only:
            return
        n = max(4, int(150 * args.scale))
        results = pool.map(worker, [("qcd", n, 5000, True), ("wprime", n // 3, 5001, True)])
        write_events(out / "lhco_events.h5", [r for rs, _ in results for r in rs], [5000, 5001])
        print("lhco_events: done", flush=True)


if __name__ == "__main__":
    main()
