#!/usr/bin/env python3
"""The newer surfaces attacked as a hostile user would: exports (generated Python, ONNX and its
reference file), HTML reports and the demo index, run folders and lock files, output paths that
are links, devices or FIFOs, `quality`, `score`, `inspect`, tagger and symmetry checkpoints. Written
from scratch with the standard library only (no GenLab writer makes a bad case).

    python3 scripts/check_bad_surfaces.py [--genlab .build/release/genlab] [--work /tmp/genlab-surfaces]

Each case is run under /usr/bin/time and judged: no crash, no hang, no run over 1 GiB; a case that
must fail fails with a message naming the file or flag; and the case's own check (no injected code
ran, the link's target is untouched, the device is still a device, the input is intact) holds.
Prints one line a case and a summary; exits 1 if any case failed.
"""
import hashlib
import json
import os
import pathlib
import shutil
import stat
import struct
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from check_bad_inputs import rewrite_safetensors_metadata as rewrite_metadata, judge, run, setup  # noqa: E402


def rewrite_tensor(src, dst, key, change):
    """Applies `change` to the raw little-endian float32 bytes of tensor `key`."""
    data = bytearray(pathlib.Path(src).read_bytes())
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    a, b = header[key]["data_offsets"]
    start = 8 + n
    data[start + a:start + b] = change(bytes(data[start + a:start + b]))
    pathlib.Path(dst).write_bytes(bytes(data))


def npy(shape, values_bytes, dtype="<f4"):
    shape_text = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    h = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape_text}, }}".encode()
    pad = (64 - (10 + len(h) + 1) % 64) % 64
    h = h + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + values_bytes


def digest(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def main():
    a, genlab, work = setup("/tmp/genlab-surfaces")
    faces = ROOT / "Datasets/faces"
    qcd, top = ROOT / "Datasets/jets/qcd_test.h5", ROOT / "Datasets/jets/top_test.h5"
    symmetry = ROOT / "Pretrained/symmetry.safetensors"

    # Small models to attack with.
    for args in (["train", "ae", "--data", ROOT / "Datasets/jets/qcd_train.h5", "--out", work / "ae", "--epochs", "1",
                  "--batch-size", "256", "--quiet"],
                 ["train", "gan", "--data", faces, "--out", work / "gan", "--epochs", "1", "--batch-size", "20", "--quiet"],
                 ["train", "vae", "--data", faces, "--out", work / "vae", "--epochs", "1", "--batch-size", "20", "--quiet"],
                 ["classify", "train", "--signal", top, "--background", qcd, "--out", work / "tagger", "--epochs", "1",
                  "--quiet"]):
        r = run(genlab, [str(x) for x in args], work)
        assert r["rc"] == 0, (args, r)
    ae, gan, vae = (str(work / f"{m}/checkpoint.safetensors") for m in ("ae", "gan", "vae"))
    tagger = str(work / "tagger/checkpoint.safetensors")

    cases = []  # (name, args, expect, needle, check) — check(result) -> problem text or None

    def case(name, args, expect="error", needle=None, check=None):
        cases.append((name, args, expect, needle, check))

    # --- Generated code: nothing from a file name or metadata reaches Python unescaped.
    marker = work / "INJECTED"
    payload = f'"""\nimport pathlib; pathlib.Path({str(marker)!r}).write_text("x")\n"""'
    evil_names = {
        "quotes": 'm"""inj.safetensors',
        "newline": "m\nimport os.safetensors",
    }
    for label, name in evil_names.items():
        dst = work / "evil" / label / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(gan, dst)
        out = work / f"export_{label}.py"
        case(f"export --pytorch from a file named with {label}", ["export", "--checkpoint", dst, "--pytorch", out], "ok",
             check=lambda r, out=out: python_file_safe(out, marker))
    for label, text in {"triple quotes": payload, "carriage return": "a\rimport os\r", "NUL": "a\x00b",
                        "line separator": "a\u2028b\u0085c", "backslash": "a\\\"\\"}.items():
        dst = work / f"meta_{label.replace(' ', '_')}.safetensors"
        rewrite_metadata(gan, dst, lambda m, text=text: m.update({"genlab.note": text, "genlab.data": m["genlab.data"]}))
        out = work / f"meta_{label.replace(' ', '_')}.py"
        case(f"export --pytorch with metadata holding {label}", ["export", "--checkpoint", dst, "--pytorch", out], "ok",
             check=lambda r, out=out: python_file_safe(out, marker))

    # --- HTML: a run sub-folder or a file named as markup, a javascript: link.
    (work / "gan" / "javascript:alert(1)").write_text("x")
    (work / "gan" / "<script>alert(1)<").write_text("x")
    case("report.html lists hostile file names", ["train", "gan", "--data", faces, "--out", work / "gan", "--epochs", "2",
                                                  "--batch-size", "20", "--quiet", "--resume"], "ok",
         check=lambda r: html_safe(work / "gan/report.html"))

    # --- Links and special files at output paths.
    victim = work / "victim.txt"
    victim.write_text("precious\n")
    lock_run = work / "lockrun"
    lock_run.mkdir()
    os.symlink(victim, lock_run / ".genlab.lock")
    case("symlink at run/.genlab.lock", ["train", "gan", "--data", faces, "--out", lock_run, "--epochs", "1",
                                         "--batch-size", "20", "--quiet"], "error", ".genlab.lock",
         check=lambda r: None if victim.read_text() == "precious\n" else "the link's target was written")
    os.symlink(victim, work / "link_out.png")
    case("symlink at sample --out", ["sample", "--checkpoint", gan, "--out", work / "link_out.png"], "error",
         "link_out.png", check=lambda r: None if victim.read_text() == "precious\n" and os.path.islink(work / "link_out.png")
         else "the link was followed or replaced")
    fifo = work / "fifo_out.png"
    os.mkfifo(fifo)
    devices = [("FIFO", fifo)]
    null_copy = work / "null_device"
    if subprocess.run(["mknod", str(null_copy), "c", "1", "3"], capture_output=True).returncode == 0:
        devices.append(("device", null_copy))
    for kind, dev in devices:
        def still(kind=kind, dev=dev):
            mode = os.lstat(dev).st_mode
            return None if (stat.S_ISFIFO(mode) if kind == "FIFO" else stat.S_ISCHR(mode)) else f"the {kind} was replaced"
        case(f"{kind} at data preview --out", ["data", "preview", faces, "--out", dev], "error", dev.name,
             check=lambda r, still=still: still())
        case(f"{kind} at sample --out", ["sample", "--checkpoint", gan, "--out", dev], "error", dev.name,
             check=lambda r, still=still: still())
        case(f"{kind} at export --onnx --overwrite", ["export", "--checkpoint", gan, "--onnx", dev, "--overwrite"], "error",
             dev.name, check=lambda r, still=still: still())
        case(f"{kind} at export --pytorch --overwrite", ["export", "--checkpoint", gan, "--pytorch", dev, "--overwrite"],
             "error", dev.name, check=lambda r, still=still: still())
        case(f"{kind} at quality --out", ["quality", "--checkpoint", vae, "--reference", faces, "--count", "40", "--out",
                                          dev], "error", dev.name, check=lambda r, still=still: still())
    score_dev = work / "score_dev"
    score_dev.mkdir()
    os.mkfifo(score_dev / "scores.csv")
    case("FIFO at score's scores.csv", ["score", "--checkpoint", ae, qcd, "--out", score_dev], "error", "scores.csv",
         check=lambda r: None if stat.S_ISFIFO(os.lstat(score_dev / "scores.csv").st_mode) else "the FIFO was replaced")

    # --- Data loss.
    ref_input = work / "m.reference.safetensors"
    shutil.copy(gan, ref_input)
    before = digest(ref_input)
    case("export whose reference file is its input", ["export", "--checkpoint", ref_input, "--onnx", work / "m.onnx"],
         "error", "m.reference.safetensors",
         check=lambda r: None if digest(ref_input) == before else "the input checkpoint was overwritten")
    case("score --out FILE.h5 (one output given twice by the command itself)",
         ["score", "--checkpoint", ae, qcd, "--out", work / "scores_file.h5"], "ok")
    case("export --onnx P --pytorch P", ["export", "--checkpoint", gan, "--onnx", work / "same.out", "--pytorch",
                                         work / "same.out"], "error", "same.out")
    data_copy = work / "faces_copy"
    shutil.copytree(faces, data_copy)
    case("train --out into its --data folder", ["train", "gan", "--data", data_copy, "--out", data_copy, "--epochs", "1"],
         "error", "faces_copy", check=lambda r: None if not (data_copy / "metrics.csv").exists() else "run files written")
    case("train --out inside its --data folder", ["train", "gan", "--data", data_copy, "--out", data_copy / "run",
                                                  "--epochs", "1"], "error", "faces_copy")

    # --- Crashes and resource bombs.
    one = work / "one_face"
    one.mkdir()
    shutil.copy(faces / "face_000.png", one / "a.png")
    case("quality with a 1-image reference", ["quality", "--checkpoint", vae, "--reference", one], "error", "one_face")
    case("quality with a 1-jet reference", ["quality", "--checkpoint", ae, "--reference", work / "one_jet.npy"], "error")
    (work / "one_jet.npy").write_bytes(npy([1, 1, 25, 25], struct.pack("<625f", *([0.1] * 625))))
    for name, change in {
        "huge": lambda m: m.update({"genlab.config": json.dumps({"imageSize": 512, "channels": 4, "features": 1024,
                                                                "hidden": 8192})}),
    }.items():
        dst = work / f"tagger_{name}.safetensors"
        rewrite_metadata(tagger, dst, change)
        case(f"tagger config {name}: predict", ["classify", "predict", "--checkpoint", dst, qcd, "--out",
                                                 work / f"tp_{name}"], "error", dst.name)
        case(f"tagger config {name}: export", ["export", "--checkpoint", dst, "--onnx", work / f"tp_{name}.onnx"], "error",
             dst.name)
    for name, edit in {"decoy steps 1e5, widths 1024": {"steps": 100000, "hidden": [1024, 1024, 1024]},
                       "decoy steps 1e5": {"steps": 100000}}.items():
        def change(m, edit=edit):
            c = json.loads(m["genlab.config"])
            c["representation"]["decoy"].update(edit)
            m["genlab.config"] = json.dumps(c)
        dst = work / f"sym_{len(edit)}.safetensors"
        rewrite_metadata(symmetry, dst, change)
        case(f"symmetry checkpoint with {name}", ["symmetry", "score", ROOT / "Datasets/symmetry/face.png",
                                                  "--checkpoint", dst, "--seeds", "1", "--out", work / "sym_bomb"],
             "error", dst.name)
    big = work / "big_images"
    big.mkdir()
    big_png = big / "big_0.png"
    write_big_png(big_png, 5000)
    for i in range(1, 6):
        os.link(big_png, big / f"big_{i}.png")
    case("symmetry score of six 5000² images", ["symmetry", "score", *sorted(big.iterdir()), "--seeds", "1", "--out",
                                                 work / "sym_big"], "ok")

    # --- Wrong answers with exit 0.
    (work / "nan_jets.npy").write_bytes(npy([64, 1, 25, 25], struct.pack("<f", float("nan")) * (64 * 625)))
    (work / "zero_jets.npy").write_bytes(npy([64, 1, 25, 25], b"\0" * (64 * 625 * 4)))
    case("score where no event is scorable", ["score", "--checkpoint", ae, work / "nan_jets.npy", "--out",
                                               work / "nan_scores"], "error", "nan_jets.npy")
    case("classify predict where no event is scorable", ["classify", "predict", "--checkpoint", tagger,
                                                         work / "zero_jets.npy", "--out", work / "tp_zero"], "error",
         "zero_jets.npy")
    case("inspect all-zero jets", ["inspect", "--checkpoint", ae, "--data", work / "zero_jets.npy", "--out",
                                    work / "insp_zero"], "error", "zero_jets.npy")
    case("inspect all-NaN jets", ["inspect", "--checkpoint", ae, "--data", work / "nan_jets.npy", "--out",
                                   work / "insp_nan"], "error", "nan_jets.npy")
    case("quality: jet model against faces", ["quality", "--checkpoint", ae, "--reference", faces], "error", "faces")
    case("quality: face model against jets", ["quality", "--checkpoint", vae, "--reference", qcd], "error", "qcd_test.h5")
    case("quality: all-NaN reference", ["quality", "--checkpoint", ae, "--reference", work / "nan_jets.npy"], "error",
         "nan_jets.npy")
    ae_report = digest(work / "ae/report.html")
    case("quality beside a training run", ["quality", "--checkpoint", ae, "--reference", qcd, "--count", "100"], "ok",
         check=lambda r: None if digest(work / "ae/report.html") == ae_report else "the run's report.html was replaced")
    case("quality --count 16", ["quality", "--checkpoint", ae, "--reference", qcd, "--count", "16"], "error", "--count")
    for name, key_change in {
        "NaN weights": lambda b: struct.pack("<f", float("nan")) * (len(b) // 4),
    }.items():
        dst = work / "gan_nan.safetensors"
        header = json.loads(pathlib.Path(gan).read_bytes()[8:8 + struct.unpack("<Q", pathlib.Path(gan).read_bytes()[:8])[0]])
        key = sorted(k for k in header if k.startswith("generator") and "weight" in k)[0]
        rewrite_tensor(gan, dst, key, key_change)
        case(f"export --pytorch with {name}", ["export", "--checkpoint", dst, "--pytorch", work / "nan.py"], "error",
             "gan_nan.safetensors")
    mismatch = work / "gan_mismatch.safetensors"
    rewrite_metadata(gan, mismatch, lambda m: m.update({"genlab.data": m["genlab.data"].replace('"imageSize":25',
                                                                                                  '"imageSize":32')}))
    case("export --pytorch with config/data mismatch", ["export", "--checkpoint", mismatch, "--pytorch",
                                                       work / "mm.py"], "error", "gan_mismatch.safetensors")
    corrupt_run = work / "corrupt_run"
    shutil.copytree(work / "gan", corrupt_run)
    rewrite_metadata(gan, corrupt_run / "checkpoint.safetensors",
                     lambda m: m.update({"genlab.config": m["genlab.config"].replace('"latentDim":', '"latentDim":-')}))
    case("resume with a corrupt config", ["train", "gan", "--data", faces, "--out", corrupt_run, "--epochs", "2",
                                          "--batch-size", "20", "--quiet", "--resume"], "error", "checkpoint.safetensors")
    (work / "long.npy").write_bytes(npy([2, 1, 8, 8], b"\0" * (4 * 64 * 4)))
    case(".npy holding more than its header declares", ["data", "describe", work / "long.npy"], "error", "long.npy")
    case("--calibration with signal-labelled events", ["score", "--checkpoint", ae, qcd, "--calibration", top,
                                                       "--out", work / "cal"], "error", "top_test.h5")

    # --- Unclear errors.
    case("a misspelt command", ["trian", "gan"], "error", "did you mean 'train'")
    ro = work / "readonly"
    ro.mkdir()
    os.chmod(ro, 0o555)
    if os.geteuid() != 0:
        case("sample into a read-only folder", ["sample", "--checkpoint", gan, "--out", ro / "s.png"], "error",
             "Permission denied")

    # A full disk while plotting: PLplot must not end the process with its own words.
    full = work / "full"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(full)], capture_output=True).returncode == 0:
        shutil.copy(ae, full / "ae.safetensors")
        subprocess.run(["dd", "if=/dev/zero", f"of={full / 'filler'}", "bs=4k"], capture_output=True)
        # Room for the CSVs beside the plots, not for the plots themselves.
        os.truncate(full / "filler", max(0, os.path.getsize(full / "filler") - 64 * 1024))
        case("quality plots onto a full disk", ["quality", "--checkpoint", full / "ae.safetensors", "--reference", qcd,
                                                "--count", "200", "--plots", full / "plots"], "error", "full/plots",
             check=lambda r: "PLplot's exit message" if "PLPLOT" in r["err"]
             else "a temporary file was left" if any(".tmp-" in p.name for p in full.rglob(".*")) else None)
    else:
        print("skipped     full disk while plotting: cannot mount a tmpfs here (not root?)")

    failures = 0
    summary = {}
    for name, args, expect, needle, check in cases:
        if a.only and a.only not in name:
            continue
        r = run(genlab, [str(x) for x in args], work)
        verdict, first = judge(r, expect, needle, refused="refused")
        lines = [l for l in r["err"].splitlines() if l.strip()]
        if verdict == "ok" and r["rc"] != 0 and ("USAGE:" in r["err"] or len(lines) > 3):
            verdict = "bad-message"  # one line naming the file or flag, no usage dump
        problem = check(r) if check and verdict in ("ok", "accepted", "refused", "bad-message") else None
        if problem:
            verdict = "unsafe"
            first = problem
        if marker.exists():
            verdict, first = "injection", "generated code ran"
            marker.unlink()
        summary[verdict] = summary.get(verdict, 0) + 1
        failures += verdict != "ok"
        print(f"{verdict:11s} rc={r['rc']!s:7s} {r['rss'] // 1024:5d} MiB {r['seconds']:5.1f}s  {name}: {first}")
    os.chmod(ro, 0o755)
    subprocess.run(["umount", str(full)], capture_output=True)
    print("summary:", json.dumps(summary), f"({len(cases)} cases)")
    sys.exit(1 if failures else 0)


def python_file_safe(path, marker):
    """The generated file parses, and importing it runs nothing but its own definitions."""
    if not path.exists():
        return f"{path.name} was not written"
    source = path.read_bytes()
    try:
        compile(source, str(path), "exec")
    except SyntaxError as e:
        return f"{path.name} does not parse: {e}"
    # Run the module's top level with torch stubbed out: only definitions and constants may run.
    stub = ("import sys, types\nt = types.ModuleType('torch'); n = types.ModuleType('torch.nn')\n"
            "class M: pass\nn.Module = M\nt.nn = n\nsys.modules['torch'] = t; sys.modules['torch.nn'] = n\n")
    r = subprocess.run([sys.executable, "-c", stub + f"exec(compile(open({str(path)!r}, 'rb').read(), 'm', 'exec'), {{}})"],
                       capture_output=True, text=True, timeout=60)
    if marker.exists():
        return "importing the generated file ran injected code"
    if r.returncode != 0:
        return f"{path.name} fails at import: {r.stderr.strip().splitlines()[-1][:100]}"
    return None


def html_safe(path):
    if not path.exists():
        return f"{path} was not written"
    page = path.read_text()
    for bad in ("<img src=x", "<script>", 'href="javascript:', "href='javascript:"):
        if bad in page:
            return f"report.html holds {bad!r} unescaped"
    return None


def write_big_png(path, side):
    """A grey side×side PNG of a disc (zlib-compressed rows, so the file is small)."""
    import zlib
    rows = bytearray()
    r2 = (side * 0.3) ** 2
    for y in range(side):
        dy = (y - side / 2) ** 2
        rows += b"\x00"
        # Rows built from runs: the disc's chord on this row.
        half = int(max(r2 - dy, 0) ** 0.5)
        c = side // 2
        rows += b"\xff" * (c - half) + b"\x00" * (2 * half) + b"\xff" * (side - c - half)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(rows), 6))
                     + chunk(b"IEND", b""))


if __name__ == "__main__":
    main()
