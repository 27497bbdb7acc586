"""`genlab score` on every event layout against its twin in GenLab's own layout (the same jets),
for jet autoencoders trained with several seeds: the AUC table of README's "event files" section.

    $(scripts/python/env.sh) scripts/python/compare_event_layouts.py [--jets 2000] [--seeds 0,1,2]

Writes the layouts with make_event_layouts.py (pandas, h5py, uproot, awkward), converts the ROOT,
Parquet and CSV files with scripts/convert_events.py, trains `genlab train ae` on the bundled QCD
jets once per seed, and prints AUC (mse_pt) per layout and seed with the difference to the twin.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
GENLAB = str(ROOT / ".build/release/genlab")

# layout file → its twin (the same jets in GenLab's layout)
LAYOUTS = {
    "toptagging_fixed.h5": "genlab.h5", "toptagging_table.h5": "genlab.h5", "lhco_rnd.h5": "genlab.h5",
    "lhco_rnd_blosc.h5": "genlab.h5", "atlas.h5": "genlab.h5", "jetnet.h5": "genlab_jetnet.h5",
    "conv_root.h5": "genlab.h5", "conv_parquet.h5": "genlab.h5", "conv_darkmachines.h5": "genlab.h5",
}


def auc(checkpoint, path, out):
    r = subprocess.run([GENLAB, "score", "--checkpoint", checkpoint, str(path), "--out", str(out), "--json"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"score {path}: {r.stderr.strip()}")
    return json.loads(r.stdout)["auc"]["mse_pt"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jets", type=int, default=2000)
    ap.add_argument("--seeds", default="0,1,2")
    a = ap.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="genlab-layouts-"))
    data = work / "layouts"
    subprocess.run([sys.executable, str(ROOT / "scripts/python/make_event_layouts.py"), "--out", str(data), "--jets",
                    str(a.jets)], check=True)
    convert = [sys.executable, str(ROOT / "scripts/convert_events.py")]
    subprocess.run(convert + [str(data / "jetclass.root"), str(data / "conv_root.h5")], check=True)
    subprocess.run(convert + [str(data / "jetclass.parquet"), str(data / "conv_parquet.h5")], check=True)
    subprocess.run(convert + [str(data / "darkmachines.csv"), str(data / "conv_darkmachines.h5"), "--signal", "ttbar"],
                   check=True)
    rows = {name: [] for name in LAYOUTS}
    for seed in a.seeds.split(","):
        run = work / f"ae_{seed}"
        subprocess.run([GENLAB, "train", "ae", "--data", str(ROOT / "Datasets/jets/qcd_train.h5"), "--out", str(run),
                        "--epochs", "3", "--seed", seed, "--quiet"], check=True, capture_output=True)
        ck = str(run / "checkpoint.safetensors")
        twins = {t: auc(ck, data / t, work / f"s_{seed}_{t}") for t in set(LAYOUTS.values())}
        for name, twin in LAYOUTS.items():
            rows[name].append((auc(ck, data / name, work / f"s_{seed}_{name}"), twins[twin]))
    print(f"{'layout':24s} " + "  ".join(f"seed {s}: AUC (twin)" for s in a.seeds.split(",")) + "   max |Δ|")
    for name, values in rows.items():
        cells = "  ".join(f"{v:.4f} ({t:.4f})    " for v, t in values)
        print(f"{name:24s} {cells} {max(abs(v - t) for v, t in values):.4f}")


if __name__ == "__main__":
    main()
