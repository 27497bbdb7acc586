"""Checks GenLab's exports against the field's runtimes, for every model kind and part:

- ONNX: `onnx.checker` passes, and onnxruntime on the reference inputs reproduces GenLab's outputs
  (written beside each .onnx by `genlab export`) to 1e-5 relative (max |a − b| / max |b|);
- PyTorch: the generated module file's load_state_dict(strict=True) takes the checkpoint and
  reproduces the same outputs; then the way back: weights changed in PyTorch, saved with
  save_genlab, are read by `genlab sample` / `genlab score`, whose outputs match PyTorch's.

    $(scripts/python/env.sh) scripts/python/check_export.py [--genlab .build/release/genlab] [--work DIR]

Trains small models of each kind first (seconds). Exits 1 when any check fails.
"""
import argparse
import importlib.util
import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
from safetensors.numpy import load_file as load_np
from safetensors.torch import load_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOLERANCE = 1e-5
failures = []


def genlab(*args):
    r = subprocess.run([GENLAB, *map(str, args)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"genlab {' '.join(map(str, args))}: {r.stderr.strip()}")
    return r.stdout


def relative(a, b):
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-30))


def check(name, ok, detail):
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    if not ok:
        failures.append(name)


def check_onnx(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    ref = load_np(path.replace(".onnx", ".reference.safetensors"))
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {i.name: ref[i.name] for i in session.get_inputs()}
    outs = session.run(None, feeds)
    worst = max(relative(o, ref[meta.name]) for o, meta in zip(outs, session.get_outputs()))
    names = ", ".join(o.name for o in session.get_outputs())
    check(f"onnxruntime {pathlib.Path(path).name}", worst <= TOLERANCE, f"outputs {names}: max relative difference {worst:.2e}")
    return ref


def load_module(py, checkpoint):
    spec = importlib.util.spec_from_file_location(pathlib.Path(py).stem, py)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cls = next(getattr(mod, n) for n in dir(mod) if n.startswith("GenLab") and isinstance(getattr(mod, n), type))
    model = cls()
    state = {k: v for k, v in load_file(checkpoint).items() if not k.startswith("_optimizer.")}
    model.load_state_dict(state, strict=True)
    model.eval()
    return mod, model


def main():
    global GENLAB
    ap = argparse.ArgumentParser()
    ap.add_argument("--genlab", default=str(ROOT / ".build/release/genlab"))
    ap.add_argument("--work", default="/tmp/genlab-export-check")
    a = ap.parse_args()
    GENLAB = a.genlab
    work = pathlib.Path(a.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    faces, jets = ROOT / "Datasets/faces", ROOT / "Datasets/jets"
    runs = {
        "gan_faces": ["train", "gan", "--data", faces, "--epochs", "2", "--batch-size", "20"],
        "gan_jets": ["train", "gan", "--data", jets / "qcd_train.h5", "--epochs", "1", "--batch-size", "256", "--max-steps", "10"],
        "vae_faces": ["train", "vae", "--data", faces, "--epochs", "2", "--batch-size", "20"],
        "vae_mlp": ["train", "vae", "--data", faces, "--epochs", "2", "--batch-size", "20", "--arch", "mlp"],
        "ae_jets": ["train", "ae", "--data", jets / "qcd_train.h5", "--epochs", "1", "--batch-size", "256", "--max-steps", "20"],
        "vae_jets": ["train", "vae", "--data", jets / "qcd_train.h5", "--epochs", "1", "--batch-size", "256", "--max-steps", "20"],
    }
    for name, args in runs.items():
        genlab(*args, "--out", work / name, "--quiet")
    genlab("classify", "train", "--signal", jets / "top_train.h5", "--background", jets / "qcd_train.h5", "--out", work / "tagger",
           "--epochs", "1", "--quiet")
    parts = {"gan_faces": ["generator", "discriminator"], "gan_jets": ["generator", "discriminator"],
             "vae_faces": ["scorer", "encoder", "decoder", "autoencoder"], "vae_mlp": ["scorer", "encoder", "decoder", "autoencoder"],
             "ae_jets": ["scorer", "encoder", "decoder", "autoencoder"], "vae_jets": ["scorer", "decoder"], "tagger": ["tagger"]}
    refs = {}
    for run, ps in parts.items():
        ckpt = work / run / "checkpoint.safetensors"
        for p in ps:
            out = work / f"{run}_{p}.onnx"
            genlab("export", "--checkpoint", ckpt, "--onnx", out, "--part", p)
            refs[(run, p)] = check_onnx(str(out))
        # PyTorch: the module file reproduces GenLab's outputs.
        py = work / f"{run}_model.py"
        genlab("export", "--checkpoint", ckpt, "--pytorch", py)
        mod, model = load_module(str(py), str(ckpt))
        with torch.no_grad():
            if run.startswith("gan"):
                r = refs[(run, "generator")]
                got = model.generator(torch.from_numpy(r["z"])).numpy()
                check(f"pytorch {run} generator", relative(got, r["images"]) <= TOLERANCE, f"{relative(got, r['images']):.2e}")
                r = refs[(run, "discriminator")]
                got = model.discriminator(torch.from_numpy(r["images"])).numpy()
                check(f"pytorch {run} discriminator", relative(got, r["logit"]) <= TOLERANCE, f"{relative(got, r['logit']):.2e}")
            elif run == "tagger":
                r = refs[(run, "tagger")]
                got = model(torch.from_numpy(r["images"])).numpy()
                check("pytorch tagger", relative(got, r["logit"]) <= TOLERANCE, f"{relative(got, r['logit']):.2e}")
            else:
                r = refs[(run, "decoder")]
                got = model.decode(torch.from_numpy(r["z"])).numpy()
                check(f"pytorch {run} decoder", relative(got, r["images"]) <= TOLERANCE, f"{relative(got, r['images']):.2e}")
        # The way back: weights changed in PyTorch, saved as a GenLab checkpoint, used by genlab.
        if run in ("gan_faces", "ae_jets"):
            with torch.no_grad():
                for p in model.parameters():
                    p.mul_(1.01)
            back = work / f"{run}_from_pytorch.safetensors"
            mod.save_genlab(model, str(back))
            if run == "gan_faces":
                genlab("export", "--checkpoint", back, "--onnx", work / "back_generator.onnx", "--part", "generator")
                r = load_np(str(work / "back_generator.reference.safetensors"))
                with torch.no_grad():
                    got = model.generator(torch.from_numpy(r["z"])).numpy()
                check("way back: genlab runs a generator trained in PyTorch", relative(r["images"], got) <= TOLERANCE,
                      f"{relative(r['images'], got):.2e}")
                genlab("sample", "--checkpoint", back, "--count", "16", "--out", work / "back_samples.png")
                check("way back: genlab sample", (work / "back_samples.png").exists(), "16 samples written")
            else:
                genlab("score", "--checkpoint", back, jets / "qcd_test.h5", "--out", work / "back_scores.csv")
                lines = (work / "back_scores.csv").read_text().splitlines()
                header = lines[1 - 1].split(",")
                col = header.index("mse")
                import h5py
                with h5py.File(jets / "qcd_test.h5") as f:
                    images = f["images"][:64].astype(np.float32)
                x = images / np.maximum(images.reshape(64, -1).sum(1), 1e-30).reshape(64, 1, 1)
                with torch.no_grad():
                    rec = model(torch.from_numpy(x[:, None]))
                mse = ((rec.numpy()[:, 0] - x) ** 2).reshape(64, -1).mean(1)
                genlab_mse = np.array([float(l.split(",")[col]) for l in lines[1:65]])
                check("way back: genlab score with an AE trained in PyTorch", relative(genlab_mse, mse) <= 1e-4,
                      f"mse of 64 QCD jets, max relative difference {relative(genlab_mse, mse):.2e} (CSV keeps 6 digits)")
    print(json.dumps({"onnx": onnx.__version__, "onnxruntime": ort.__version__, "torch": torch.__version__,
                      "failures": failures}))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
