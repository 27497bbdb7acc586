#!/usr/bin/env python3
"""Runs the real `genlab` binary on crafted bad files and careless flags, as a hostile user would,
and checks each run: no crash (signal), no hang (timeout), no run over 1 GiB of resident memory,
and an error that names the file or flag for what must fail. Needs the tools venv for the corpus
(h5py, Pillow); the checks themselves use the standard library.

    python3 scripts/check_bad_inputs.py [--genlab .build/release/genlab] [--work /tmp/genlab-bad]

Prints one line a case and a summary; exits 1 if any case failed.
"""
import argparse
import json
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
LIMIT_KIB = 1024 * 1024
TIMEOUT = 120


def run(genlab, args, cwd, timeout=TIMEOUT):
    cmd = ["/usr/bin/time", "-f", "MAXRSS %M", genlab] + args
    start = time.time()
    # A session of its own, so that a run that hangs is killed with everything it started.
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err_bytes = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        return {"rc": "timeout", "rss": 0, "err": "", "out": "", "seconds": timeout}
    p = subprocess.CompletedProcess(cmd, proc.returncode, out, err_bytes)
    err = p.stderr.decode("utf-8", "replace")
    rss = 0
    lines = []
    for line in err.splitlines():
        if line.startswith("MAXRSS "):
            rss = int(line.split()[1])
        elif line.startswith("Command terminated by signal") or line.startswith("Command exited with non-zero"):
            if "signal" in line:
                lines.append(line)
        else:
            lines.append(line)
    rc = p.returncode
    if any(l.startswith("Command terminated by signal") for l in lines):
        rc = "signal " + lines[-1].split()[-1]
    return {"rc": rc, "rss": rss, "err": "\n".join(lines), "out": p.stdout.decode("utf-8", "replace"),
            "seconds": time.time() - start}


def judge(r, expect, needle, refused="bad-message"):
    """A run's verdict — hang, crash, memory, accepted (should have failed), `refused` (should have
    worked), bad-message (fails without naming `needle`) or ok — and its first error line."""
    lines = r["err"].strip().splitlines() or [""]
    first = next((l for l in lines if l.startswith("Error") or l.startswith("genlab: warning")), lines[-1])[:150]
    if r["rc"] == "timeout":
        return "hang", first
    if isinstance(r["rc"], str) or r["rc"] >= 128 or "Fatal error" in r["err"] or "Segmentation" in r["err"]:
        return "crash", first
    if r["rss"] > LIMIT_KIB:
        return "memory", first
    if expect == "error" and r["rc"] == 0:
        return "accepted", first
    if expect == "ok" and r["rc"] != 0:
        return refused, first
    if r["rc"] != 0 and needle and needle not in r["err"]:
        return "bad-message", first
    return "ok", first


def rewrite_safetensors_metadata(src, dst, change):
    data = pathlib.Path(src).read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    change(header["__metadata__"])
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    pathlib.Path(dst).write_bytes(struct.pack("<Q", len(h)) + h + data[8 + n:])


def process_checks(genlab, work, faces, summary):
    """Ctrl-C, two runs on one folder, a full disk: each prints one line and counts in the summary."""
    failures = 0

    def report(ok, name, detail):
        nonlocal failures
        verdict = "ok" if ok else "lost-data"
        summary[verdict] = summary.get(verdict, 0) + 1
        failures += 0 if ok else 1
        print(f"{verdict:11s} {name}: {detail}")

    train = [genlab, "train", "gan", "--data", faces, "--epochs", "400", "--batch-size", "10", "--quiet"]
    # Ctrl-C: exit 130 with a checkpoint that resumes.
    p = subprocess.Popen(train + ["--out", str(work / "sigint")], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(4)
    p.send_signal(2)
    rc = p.wait(timeout=60)
    resumed = subprocess.run([genlab, "train", "gan", "--data", faces, "--epochs", "1", "--batch-size", "10", "--quiet",
                              "--out", str(work / "sigint"), "--resume"], cwd=work, capture_output=True)
    report(rc == 130 and (work / "sigint/checkpoint.safetensors").exists(), "Ctrl-C during training",
           f"exit {rc}, checkpoint {'kept' if (work / 'sigint/checkpoint.safetensors').exists() else 'missing'}, "
           f"resume exit {resumed.returncode}")
    # Two runs into one folder: the second is refused while the first holds the lock.
    p = subprocess.Popen(train + ["--out", str(work / "locked")], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3)
    second = subprocess.run(train + ["--out", str(work / "locked"), "--overwrite"], cwd=work, capture_output=True, text=True)
    p.send_signal(2)
    p.wait(timeout=60)
    report(second.returncode != 0 and "in use" in second.stderr, "two runs into one folder",
           (second.stderr.strip().splitlines() or ["(no message)"])[-1][:150])
    # kill -9 at random moments: the checkpoint always loads, metrics.csv never ends in half a line,
    # and --resume continues (removing the killed run's temporary files).
    import random
    rnd = random.Random(7)
    survived = 0
    trials = 8
    for t in range(trials):
        folder = work / f"kill9_{t}"
        p = subprocess.Popen(train + ["--out", str(folder)], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0 + rnd.random() * 3)
        p.kill()
        p.wait()
        ok = True
        if (folder / "checkpoint.safetensors").exists():
            r = subprocess.run([genlab, "data", "describe", str(folder / "checkpoint.safetensors")], capture_output=True)
            ok = ok and r.returncode == 0
            m = folder / "metrics.csv"
            ok = ok and (not m.exists() or m.read_bytes().endswith(b"\n"))
            r = subprocess.run([genlab, "train", "gan", "--data", faces, "--epochs", "1", "--batch-size", "10", "--quiet", "--out",
                                str(folder), "--resume"], cwd=work, capture_output=True)
            ok = ok and r.returncode == 0 and not any(".tmp-" in n.name for n in folder.iterdir())
        survived += ok
    report(survived == trials, "kill -9 during training", f"{survived} of {trials} runs left a loadable checkpoint, whole metrics "
           "lines and a working --resume")
    # A full disk: a small tmpfs (needs root; skipped with a note where mounting is not allowed).
    full = work / "full"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(full)], capture_output=True).returncode != 0:
        print("skipped     full disk: cannot mount a tmpfs here (not root?)")
        return failures
    try:
        r = subprocess.run([genlab, "train", "vae", "--data", faces, "--out", str(full / "run"), "--epochs", "50", "--batch-size", "10",
                            "--quiet"], cwd=work, capture_output=True, text=True, timeout=300)
        crashed = r.returncode < 0 or r.returncode >= 128
        metrics = (full / "run/metrics.csv")
        whole = not metrics.exists() or metrics.read_bytes().endswith(b"\n")
        report(not crashed and r.returncode != 0 and whole, "training onto a full disk",
               f"exit {r.returncode}, metrics {'whole lines' if whole else 'a half line'}: "
               + (r.stderr.strip().splitlines() or ["(no message)"])[-1][:120])
        subprocess.run(["dd", "if=/dev/zero", f"of={full / 'filler'}", "bs=4k"], capture_output=True)  # fill what is left
        r = subprocess.run([genlab, "score", "--checkpoint", str(work / "ae/checkpoint.safetensors"), str(ROOT / "Datasets/jets/qcd_test.h5"),
                            "--out", str(full / "scores.h5")], cwd=work, capture_output=True, text=True, timeout=300)
        left = [p.name for p in full.iterdir() if p.name.startswith(".scores")]
        report(0 < r.returncode < 128 and not left and not (full / "scores.h5").exists(), "score --out x.h5 onto a full disk",
               f"exit {r.returncode}: " + (r.stderr.strip().splitlines() or ["(no message)"])[-1][:120])
    finally:
        subprocess.run(["umount", str(full)])
    return failures


def setup(default_work):
    """The flags both checkers take (--genlab, --work, --only), and a fresh work folder."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--genlab", default=str(ROOT / ".build/release/genlab"))
    ap.add_argument("--work", default=default_work)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    work = pathlib.Path(a.work)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    return a, os.path.abspath(a.genlab), work


def main():
    a, genlab, work = setup("/tmp/genlab-bad")
    bad = work / "bad"
    venv_python = subprocess.run([str(ROOT / "scripts/python/env.sh")], capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run([venv_python, str(ROOT / "scripts/python/make_bad_inputs.py"), "--out", str(bad), "--bombs"], check=True)
    # Files the generator cannot make: a FIFO and a folder named like images, a non-UTF-8 name.
    (work / "fifo_folder").mkdir()
    shutil.copy(ROOT / "Datasets/faces/face_000.png", work / "fifo_folder/a.png")
    os.mkfifo(work / "fifo_folder/x.png")
    (work / "dir_folder/x.png").mkdir(parents=True)
    shutil.copy(ROOT / "Datasets/faces/face_000.png", work / "dir_folder/a.png")
    (work / "mixed").mkdir()
    for i in range(4):
        shutil.copy(ROOT / f"Datasets/faces/face_00{i}.png", work / f"mixed/f{i}.png")
    shutil.copy(bad / "jpeg_truncated.jpg", work / "mixed/broken.jpg")
    shutil.copy(bad / "jpeg_huge_dims.jpg", work / "mixed/huge.jpg")
    shutil.copy(ROOT / "Datasets/symmetry/koch_snowflake.png", work / "mixed/other_size.png")
    os.symlink(ROOT / "Datasets/faces/face_000.png", os.fsencode(str(work)) + b"/caf\xe9.png")
    faces = str(ROOT / "Datasets/faces")
    qcd = str(ROOT / "Datasets/jets/qcd_test.h5")
    top = str(ROOT / "Datasets/jets/top_test.h5")

    # Small models to point the commands at.
    r = run(genlab, ["train", "ae", "--data", str(ROOT / "Datasets/jets/qcd_train.h5"), "--out", str(work / "ae"),
                     "--epochs", "1", "--batch-size", "256", "--quiet"], work)
    assert r["rc"] == 0, r
    r = run(genlab, ["train", "gan", "--data", faces, "--out", str(work / "gan"), "--epochs", "1", "--batch-size", "20", "--quiet"], work)
    assert r["rc"] == 0, r
    ae, gan = str(work / "ae/checkpoint.safetensors"), str(work / "gan/checkpoint.safetensors")
    for name, change in {
        "ck_image_size_0": lambda m: m.update({"genlab.config": m["genlab.config"].replace('"imageSize":25', '"imageSize":0')}),
        "ck_latent_1e8": lambda m: m.update({"genlab.config": m["genlab.config"].replace('"latentDim":8', '"latentDim":100000000')}),
        "ck_empty_kind": lambda m: m.update({"genlab.kind": ""}),
        "ck_bad_json": lambda m: m.update({"genlab.config": "{not json"}),
        "ck_negative_channels": lambda m: m.update({"genlab.config": m["genlab.config"].replace('"channels":1', '"channels":-3')}),
    }.items():
        rewrite_safetensors_metadata(ae, work / f"{name}.safetensors", change)

    cases = []  # (name, args, expect) with expect "error" (must fail cleanly) or "ok"

    def case(name, args, expect="error", needle=None):
        cases.append((name, args, expect, needle))

    readers = sorted(p.name for p in bad.iterdir() if p.is_file())
    for f in readers:
        path = str(bad / f)
        case(f"describe {f}", ["data", "describe", path], "any", f)
        # Files that hold readable images (bad only for other commands) may be previewed.
        readable = f in {"png_1x1.png", "npy_1x1_images.npy", "h5_sparse_huge.h5"} or (f.startswith("h5_") and f not in {
            "h5_string_images.h5", "h5_images_empty.h5", "h5_images_rank1.h5", "h5_lhco_bad_width.h5",
            "h5_labels_nan.h5", "h5_labels_three.h5", "h5_labels_short.h5", "h5_constituents_4_features.h5"})
        case(f"preview {f}", ["data", "preview", path, "--out", str(work / f"preview_{f}.png")], "any" if readable else "error", f)
        if f.endswith(".h5") or f.endswith(".npy"):
            case(f"score {f}", ["score", "--checkpoint", ae, path, "--out", str(work / f"score_{f}")], "any", f)
        if f.endswith(".safetensors"):
            case(f"sample {f}", ["sample", "--checkpoint", path, "--out", str(work / f"s_{f}.png")], "error", f)
    for name in ["ck_image_size_0", "ck_latent_1e8", "ck_empty_kind", "ck_bad_json", "ck_negative_channels"]:
        ck = str(work / f"{name}.safetensors")
        case(f"sample {name}", ["sample", "--checkpoint", ck, "--out", str(work / f"{name}.png")], "error", name)
        case(f"score {name}", ["score", "--checkpoint", ck, qcd, "--out", str(work / f"{name}_scores")], "error", name)
    for f in ["png_1x1.png", "png_truncated.png", "jpeg_truncated.jpg", "jpeg_huge_dims.jpg", "png_huge_dims.png", "png_2e28_pixels.png"]:
        case(f"symmetry {f}", ["symmetry", "score", str(bad / f), "--seeds", "1", "--out", str(work / "sym")], "error", f)
        case(f"train on {f}", ["train", "gan", "--data", str(bad / f), "--out", str(work / f"t_{f}"), "--epochs", "1"], "error", f)
    odd = bad / "odd_images"
    for f in sorted(p.name for p in odd.iterdir()):
        case(f"symmetry odd {f}", ["symmetry", "score", str(odd / f), "--seeds", "1", "--out", str(work / "sym_odd")], "any", f)
        case(f"preview odd {f}", ["data", "preview", str(odd / f), "--out", str(work / f"odd_{f}.png")], "any", f)
    case("train on odd images", ["train", "vae", "--data", str(odd), "--image-size", "16", "--epochs", "1", "--batch-size", "2",
                                 "--out", str(work / "odd_run"), "--quiet"], "any")
    case("train on odd images, no size", ["train", "vae", "--data", str(odd), "--epochs", "1", "--batch-size", "2",
                                          "--out", str(work / "odd_run2"), "--quiet"], "any")
    # HDF5 files on which libhdf5 itself loops forever (found by fuzzing): GenLab must give up by name.
    for f in sorted((ROOT / "Tests/FormatsTests/Fixtures/hdf5_hangs").iterdir()):
        case(f"libhdf5 hang {f.name[:16]}", ["data", "describe", str(f)], "error", "libhdf5")
        case(f"libhdf5 hang score {f.name[:16]}", ["score", "--checkpoint", ae, str(f), "--out", str(work / "hang")], "error", "libhdf5")
    # HDF5 files on which libhdf5 itself segfaults (found by fuzzing): an error, never our crash.
    for f in sorted((ROOT / "Tests/FormatsTests/Fixtures/hdf5_crashes").iterdir()):
        case(f"libhdf5 crash {f.name[:16]}", ["data", "describe", str(f)], "error", f.name)
        case(f"libhdf5 crash score {f.name[:16]}", ["score", "--checkpoint", ae, str(f), "--out", str(work / "h5crash")], "error", f.name)
    case("folder with a FIFO", ["data", "preview", str(work / "fifo_folder"), "--out", str(work / "fifo.png")], "any", "x.png")
    case("folder with a dir x.png", ["data", "preview", str(work / "dir_folder"), "--out", str(work / "dir.png")], "any")
    case("mixed folder", ["data", "preview", str(work / "mixed"), "--out", str(work / "mixed.png")], "any", "broken.jpg")
    case("non-UTF-8 name", ["data", "describe", os.fsdecode(os.fsencode(str(work)) + b"/caf\xe9.png")], "error", "UTF-8")
    # Careless flags.
    t = ["train", "gan", "--data", faces, "--epochs", "1"]
    for flag, value in [("--image-size", "0"), ("--image-size", "1"), ("--image-size", "2"), ("--image-size", "4096"),
                        ("--channels", "0"), ("--channels", "2"), ("--features", "0"), ("--batch-size", "0"), ("--latent-dim", "0"),
                        ("--lr", "-1"), ("--lr", "nan"), ("--max-steps", "-5"), ("--epochs", "0"), ("--batch-size", "60000")]:
        extra = ["--image-size", "64", "--channels", "3", "--features", "16"] if value == "60000" else []
        case(f"train gan {flag} {value}", t + extra + [flag, value, "--out", str(work / f"flags{flag}{value}")], "error", flag)
    v = ["train", "vae", "--data", faces, "--epochs", "1"]
    for flag, value in [("--beta", "nan"), ("--beta", "-1"), ("--hidden", "0,0"), ("--hidden", "x"), ("--warmup", "-1"),
                        ("--latent-dim", "100000000"), ("--hidden", "100000000")]:
        case(f"train vae {flag} {value}", v + [flag, value, "--out", str(work / f"vflags{flag}{value}")], "error", flag)
    case("classify --epochs 0", ["classify", "train", "--signal", top, "--background", qcd, "--out", str(work / "cl"), "--epochs", "0"], "error")
    case("classify --batch-size 0", ["classify", "train", "--signal", top, "--background", qcd, "--out", str(work / "cl"), "--batch-size", "0"], "error")
    case("sample --count 1e5", ["sample", "--checkpoint", gan, "--count", "100000", "--out", str(work / "big.png")], "error", "--count")
    case("interpolate --loop 1e5", ["interpolate", "--checkpoint", gan, "--loop", "100000", "--out", str(work / "walk")], "error", "--loop")
    case("interpolate --steps 1e6", ["interpolate", "--checkpoint", gan, "--steps", "1000000", "--out", str(work / "walk")], "error", "--steps")
    case("score --quantile 2", ["score", "--checkpoint", ae, qcd, "--out", str(work / "q"), "--quantile", "2"], "error", "--quantile")
    case("score --fpr -0.1", ["score", "--checkpoint", ae, qcd, "--out", str(work / "q"), "--fpr", "-0.1"], "error", "--fpr")
    case("score with a face model", ["score", "--checkpoint", gan, qcd, "--out", str(work / "facejets")], "error")
    case("inspect --limit 0", ["inspect", "--checkpoint", ae, "--data", qcd, "--out", str(work / "insp"), "--limit", "0"], "error", "--limit")
    case("inspect on constituents", ["inspect", "--checkpoint", ae, "--data", str(bad / "h5_constituents_4_features.h5"),
                                     "--out", str(work / "insp2")], "any")
    case("symmetry --seeds 0", ["symmetry", "score", str(ROOT / "Datasets/symmetry/face.png"), "--seeds", "0"], "error", "--seeds")
    # Data loss.
    shutil.copy(qcd, work / "victim.h5")
    case("score --out names an input", ["score", "--checkpoint", ae, str(work / "victim.h5"), "--out", str(work / "victim.h5")], "error", "victim.h5")
    case("sample into a run folder", ["sample", "--checkpoint", gan, "--out", str(work / "gan")], "error", "gan")
    case("train into a finished run", ["train", "gan", "--data", faces, "--out", str(work / "gan"), "--epochs", "1"], "error", "--resume")

    # Jet constituents only (no stored images): inspect must make images from them as score does.
    subprocess.run([venv_python, "-c", f"""
import h5py
with h5py.File({qcd!r}) as src, h5py.File({str(work / 'constituents_only.h5')!r}, 'w') as dst:
    for k in ['constituents', 'jets', 'labels']:
        dst.create_dataset(k, data=src[k][:300])
    for k, v in src.attrs.items():
        dst.attrs[k] = v
"""], check=True)
    case("inspect on real constituents", ["inspect", "--checkpoint", ae, "--data", str(work / "constituents_only.h5"),
                                          "--out", str(work / "insp3"), "--limit", "300", "--json"], "ok")

    failures = 0
    summary = {"crash": 0, "hang": 0, "memory": 0, "bad-message": 0, "accepted": 0, "ok": 0}
    for name, args, expect, needle in cases:
        if a.only and a.only not in name:
            continue
        r = run(genlab, args, work)
        verdict, first = judge(r, expect, needle)
        summary[verdict] += 1
        if verdict != "ok":
            failures += 1
        print(f"{verdict:11s} rc={r['rc']!s:9s} {r['rss'] // 1024:5d} MiB {r['seconds']:5.1f}s  {name}: {first}")
    failures += process_checks(genlab, work, faces, summary)
    print("summary:", json.dumps(summary), f"({len(cases)} cases and the process checks)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
