"""Generates GenLab's resonant-anomaly data set (Datasets/dijets/) in the LHC Olympics 2020 R&D style.

13 TeV pp with Pythia 8 (multiparton interactions on), anti-kT R = 1.0 jets from FastJet on every visible
final-state particle with |eta| < 2.5, the R&D trigger: the leading jet has pT > 1.2 TeV. Background is
QCD dijets (HardQCD:all), signal W' -> X Y with X -> q q and Y -> q q (default masses 3500, 500, 100 GeV;
pick others with --mwprime --mx --my: the hunt must not be tuned to one signal).

Each shard file is the LHC Olympics R&D high-level-features layout (what the field's
events_anomalydetection_v2.features.h5 holds): a pandas frame "df" with the columns
  pxj1 pyj1 pzj1 mj1 tau1j1 tau2j1 tau3j1  pxj2 pyj2 pzj2 mj2 tau1j2 tau2j2 tau3j2  label
for the two leading jets J1, J2 (pT order), GeV, label 0 = QCD background, 1 = signal; every Pythia
setting, seed and cut in the file's attributes. The shards together are the data set.
N-subjettiness: beta = 1, R0 = 1.0, axes = exclusive kT subjets of the jet's constituents. The hunt
reads the benchmark's features from these (m_J1 = the lighter jet's mass, Delta m_J = heavier - lighter,
tau21 of each, in that mass order), as the CATHODE papers do.

    scripts/python/make_dijets.sh --kind qcd --events 500000 --seed 1    # makes .venv-physics, then runs this
    scripts/python/make_dijets.sh --kind signal --events 50000 --seed 2
    scripts/python/make_dijets.sh --events-layout 1000 --seed 3          # whole events, LHCO R&D layout

A run writes shards of --shard-size events (one file per shard, named by kind and seed) so a long
generation can be stopped and resumed: an existing shard is never regenerated or overwritten.
"""
import argparse
import math
import multiprocessing as mp
import pathlib
import sys
import time

import fastjet
import h5py
import numpy as np
import pandas
import pythia8mc

R = 1.0
ETA_MAX = 2.5
TRIGGER_PT = 1200.0
LHCO_COLUMNS = ["pxj1", "pyj1", "pzj1", "mj1", "tau1j1", "tau2j1", "tau3j1",
                "pxj2", "pyj2", "pzj2", "mj2", "tau1j2", "tau2j2", "tau3j2", "label"]
FEATURES = ["mjj", "mj1", "mj2", "tau1_j1", "tau2_j1", "tau3_j1", "tau1_j2", "tau2_j2", "tau3_j2",
            "pt_j1", "pt_j2", "deta_jj"]
COMMON = ["Beams:eCM = 13000.", "PartonLevel:MPI = on", "Print:quiet = on", "Next:numberCount = 0"]


def process(kind, args):
    if kind == "qcd":
        return ["HardQCD:all = on", f"PhaseSpace:pTHatMin = {args.pthat_min}"]
    # W' -> W Z with the W and Z masses redefined: the standard trick for a W' -> X Y signal with two
    # hadronic resonances of chosen masses (only in the signal run; background uses the real W, Z).
    return ["NewGaugeBoson:ffbar2Wprime = on", "Wprime:coup2WZ = 1.", f"34:m0 = {args.mwprime}",
            "34:onMode = off", "34:onIfAll = 23 24",
            f"24:m0 = {args.mx}", f"24:mMin = {args.mx * 0.5}", f"24:mMax = {args.mx * 1.5}",
            "24:onMode = off", "24:onIfAny = 1 2 3 4 5",
            f"23:m0 = {args.my}", f"23:mMin = {args.my * 0.5}", f"23:mMax = {args.my * 1.5}",
            "23:onMode = off", "23:onIfAny = 1 2 3 4 5"]


def nsubjettiness(constituents, n_max=3):
    """tau_N for N = 1..n_max (beta = 1, R0 = R), axes from exclusive kT clustering of the constituents."""
    pts = np.array([c.pt() for c in constituents])
    etas = np.array([c.rap() for c in constituents])
    phis = np.array([c.phi() for c in constituents])
    cs = fastjet.ClusterSequence(list(constituents), fastjet.JetDefinition(fastjet.kt_algorithm, R))
    norm = pts.sum() * R
    taus = []
    for n in range(1, n_max + 1):
        if len(constituents) < n:
            taus.append(0.0)
            continue
        axes = cs.exclusive_jets(n)
        d = np.full(len(pts), np.inf)
        for a in axes:
            dphi = (phis - a.phi() + np.pi) % (2 * np.pi) - np.pi
            d = np.minimum(d, np.hypot(etas - a.rap(), dphi))
        taus.append(float((pts * d).sum() / norm))
    return taus


def visible_particles(event):
    return [(p.px(), p.py(), p.pz(), p.e(), p.pT(), p.eta(), p.phi())
            for p in event if p.isFinal() and p.isVisible() and abs(p.eta()) < ETA_MAX]


def worker(job):
    kind, count, seed, args, whole_events = job
    py = pythia8mc.Pythia("", False)
    for s in COMMON + process(kind, args) + ["Random:setSeed = on", f"Random:seed = {seed}"]:
        py.readString(s)
    if not py.init():
        raise RuntimeError(f"Pythia did not initialise for {kind}")
    jetdef = fastjet.JetDefinition(fastjet.antikt_algorithm, R)
    rows, tried = [], 0
    while len(rows) < count:
        if not py.next():
            continue
        tried += 1
        parts = visible_particles(py.event)
        pjs = [fastjet.PseudoJet(p[0], p[1], p[2], p[3]) for p in parts]
        cs = fastjet.ClusterSequence(pjs, jetdef)
        jets = fastjet.sorted_by_pt(cs.inclusive_jets(20.0))
        if len(jets) < 2 or jets[0].pt() < TRIGGER_PT:
            continue
        label = 0 if kind == "qcd" else 1
        if whole_events:
            ev = np.zeros((700, 3))
            top = sorted(parts, key=lambda p: -p[4])[:700]
            ev[:len(top)] = [(p[4], p[5], p[6]) for p in top]
            rows.append(np.concatenate([ev.ravel(), [label]]))
            continue
        j1, j2 = jets[0], jets[1]
        jj = j1 + j2
        t1 = nsubjettiness(j1.constituents())
        t2 = nsubjettiness(j2.constituents())
        feats = [jj.m(), j1.m(), j2.m(), *t1, *t2, j1.pt(), j2.pt(), j1.rap() - j2.rap()]
        vec = [[j.px(), j.py(), j.pz(), j.e()] for j in (j1, j2)]
        rows.append((np.array(feats, np.float32), np.array(vec, np.float32)))
    return rows, tried


def attributes(a, kind, args, seeds, tried, elapsed):
    a["process"] = kind
    a["pythia_version"] = "pythia8mc 8.317.2"
    a["pythia_settings"] = "; ".join(COMMON + process(kind, args))
    a["seeds"] = np.array(seeds)
    a["generated_events"] = tried
    a["generation_seconds"] = elapsed
    a["jet_algorithm"] = "anti-kt"
    a["jet_radius"] = R
    a["particle_selection"] = f"visible final state, |eta| < {ETA_MAX}"
    a["trigger"] = f"leading jet pT > {TRIGGER_PT} GeV, at least two jets with pT > 20 GeV"
    a["nsubjettiness"] = "beta = 1, R0 = 1.0, exclusive kT axes"
    a["generator_script"] = "scripts/python/make_dijets.py"
    if kind == "signal":
        a["signal_masses_gev"] = np.array([args.mwprime, args.mx, args.my])


def write_shard(path, kind, rows, args, seed, tried, elapsed):
    """One shard in the LHC Olympics R&D high-level-features layout (pandas frame "df", the columns of
    events_anomalydetection_v2.features.h5: pxj1 pyj1 pzj1 mj1 tau1j1 tau2j1 tau3j1, the same for j2,
    label), float32; J1, J2 = the two leading jets in pT."""
    tmp = path.with_suffix(".tmp")
    label = 0.0 if kind == "qcd" else 1.0
    table = []
    for feats, vec in rows:
        j1 = [vec[0][0], vec[0][1], vec[0][2], feats[1], feats[3], feats[4], feats[5]]
        j2 = [vec[1][0], vec[1][1], vec[1][2], feats[2], feats[6], feats[7], feats[8]]
        table.append(j1 + j2 + [label])
    frame = pandas.DataFrame(np.array(table, np.float32), columns=LHCO_COLUMNS)
    frame.to_hdf(tmp, key="df", mode="w", format="fixed", complevel=6, complib="zlib")
    with h5py.File(tmp, "a") as f:
        attributes(f.attrs, kind, args, [seed], tried, elapsed)
    tmp.rename(path)


def write_events(path, rows, args, seeds):
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
        f.attrs["pythia_settings_qcd"] = "; ".join(COMMON + process("qcd", args))
        f.attrs["pythia_settings_signal"] = "; ".join(COMMON + process("signal", args))
        f.attrs["seeds"] = np.array(seeds)
        f.attrs["generator_script"] = "scripts/python/make_dijets.py"
    tmp.rename(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=["qcd", "signal"], default="qcd")
    ap.add_argument("--events", type=int, default=1000, help="events passing the trigger (default 1000)")
    ap.add_argument("--seed", type=int, default=1, help="first shard's Pythia seed; shard k uses seed + k")
    ap.add_argument("--shard-size", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", default="Datasets/dijets")
    ap.add_argument("--pthat-min", type=float, default=1100.0)
    ap.add_argument("--mwprime", type=float, default=3500.0)
    ap.add_argument("--mx", type=float, default=500.0)
    ap.add_argument("--my", type=float, default=100.0)
    ap.add_argument("--events-layout", type=int, default=0,
                    help="instead: write N background + N/10 signal whole events in the LHCO R&D layout")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.events_layout:
        n = args.events_layout
        with mp.Pool(max(1, args.workers)) as pool:
            res = pool.map(worker, [("qcd", n, args.seed, args, True), ("signal", max(1, n // 10), args.seed + 1, args, True)])
        write_events(out / "lhco_rnd_events.h5", [r for rs, _ in res for r in rs], args, [args.seed, args.seed + 1])
        return
    shards = math.ceil(args.events / args.shard_size)
    tag = "qcd" if args.kind == "qcd" else f"signal_{int(args.mwprime)}_{int(args.mx)}_{int(args.my)}"
    jobs = []
    for k in range(shards):
        n = min(args.shard_size, args.events - k * args.shard_size)
        path = out / f"{tag}_seed{args.seed + k}.h5"
        if path.exists():
            continue
        jobs.append((args.kind, n, args.seed + k, args, False, path))
    print(f"{tag}: {len(jobs)} of {shards} shards to make", flush=True)
    start = time.time()
    with mp.Pool(max(1, args.workers)) as pool:
        for done, (rows_tried, job) in enumerate(zip(pool.imap(run_job, jobs), jobs), 1):
            rows, tried, elapsed = rows_tried
            write_shard(job[5], args.kind, rows, args, job[2], tried, elapsed)
            rate = done / (time.time() - start)
            print(f"{job[5].name}: {len(rows)} events ({len(rows) / tried:.1%} pass) in {elapsed:.0f} s; "
                  f"{done}/{len(jobs)}, ETA {(len(jobs) - done) / rate / 60:.0f} min", flush=True)


def run_job(job):
    t = time.time()
    rows, tried = worker(job[:5])
    return rows, tried, time.time() - t


if __name__ == "__main__":
    sys.exit(main())
