"""The PyTorch twin of `genlab train flow`: the same conditional MAF (make_flow_fixtures.py's reference),
the same data, cuts, input scaling, optimiser and steps; then both flows — PyTorch's and GenLab's
checkpoint, loaded by key path — are scored on the same held-out file, and their samples compared with
the held-out truth feature by feature (1-Wasserstein distance against the truth-vs-truth spread).

    $(scripts/python/env.sh) scripts/python/flow_reference.py --train Datasets/dijets/qcd_seed1001.h5 \\
        --test Datasets/dijets/qcd_seed1002.h5 --genlab Outputs/flow_sb/checkpoint.safetensors --epochs 20
"""
import argparse
import json
import math

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file

from make_flow_fixtures import flow_logp, made_masks

FEATURES = ["mJ1", "deltaMJ", "tau21J1", "tau21J2"]


def derived(path):
    """mjj and the hunt features as GenLab's FeatureTable derives them (TeV, jets ordered by mass)."""
    d = pd.read_hdf(path, "df").to_numpy(np.float64)
    col = {c: i for i, c in enumerate(pd.read_hdf(path, "df").columns)}
    def jet(j):
        p = d[:, [col[f"pxj{j}"], col[f"pyj{j}"], col[f"pzj{j}"]]]
        m = d[:, col[f"mj{j}"]]
        return p, m, np.sqrt((p ** 2).sum(1) + m ** 2), d[:, col[f"tau2j{j}"]] / d[:, col[f"tau1j{j}"]]
    p1, m1, e1, t1 = jet(1)
    p2, m2, e2, t2 = jet(2)
    mjj = np.sqrt(np.maximum((e1 + e2) ** 2 - ((p1 + p2) ** 2).sum(1), 0)) / 1000
    light = m1 <= m2
    out = np.stack([mjj, np.where(light, m1, m2) / 1000, np.abs(m2 - m1) / 1000, np.where(light, t1, t2),
                    np.where(light, t2, t1)], 1)
    return out[np.isfinite(out).all(1)]


def sideband(a, lo, hi):
    return a[(a[:, 0] < lo) | (a[:, 0] >= hi)]


def fit_scaling(x, c):
    lo, hi = x.min(0), x.max(0)
    margin = np.maximum((hi - lo) * 0.05, 1e-6)
    low, high = lo - margin, hi + margin
    unit = np.clip((x - low) / (high - low), 1e-6, 1 - 1e-6)
    u = np.log(unit) - np.log(1 - unit)
    return {"featureLow": low, "featureHigh": high, "featureMean": u.mean(0), "featureStd": np.maximum(u.std(0), 1e-6),
            "contextMean": c.mean(0), "contextStd": np.maximum(c.std(0), 1e-6)}


def init_params(cfg, gen):
    d, per = cfg["features"], 2 if cfg["transform"] == "affine" else 3 * cfg["bins"] - 1
    sd = {}
    for k in range(cfg["blocks"]):
        shapes = {"input": (cfg["hidden"], d), "context": (cfg["hidden"], cfg["context"])}
        shapes.update({f"hidden.{j}": (cfg["hidden"], cfg["hidden"]) for j in range(cfg["layers"] - 1)})
        shapes["output"] = (d * per, cfg["hidden"])
        for name, (o, i) in shapes.items():
            bound = 1 / math.sqrt(i)
            sd[f"blocks.{k}.{name}.weight"] = ((torch.rand(o, i, generator=gen) * 2 - 1) * bound).requires_grad_()
            sd[f"blocks.{k}.{name}.bias"] = ((torch.rand(o, generator=gen) * 2 - 1) * bound).requires_grad_()
    return sd


def nll(sd, x, c, cfg):
    with torch.no_grad():
        return -torch.cat([flow_logp(sd, x[i:i + 8192], c[i:i + 8192], cfg)[1] for i in range(0, len(x), 8192)]).mean().item()


def w1(a, b):
    """1-Wasserstein distance between two 1-D samples (equal-quantile matching)."""
    q = np.linspace(0.0005, 0.9995, 2000)
    return np.abs(np.quantile(a, q) - np.quantile(b, q)).mean()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--test", nargs="+", required=True)
    ap.add_argument("--genlab", help="GenLab's checkpoint of the same run (genlab train flow)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--region", default="3.3:3.7")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    args = ap.parse_args()
    lo, hi = map(float, args.region.split(":"))
    train = sideband(np.concatenate([derived(p) for p in args.train]), lo, hi)
    test = sideband(np.concatenate([derived(p) for p in args.test]), lo, hi)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(train))
    held = max(1, len(train) // 10)
    fit = train[order[held:]]
    cfg = dict(features=4, context=1, blocks=args.blocks, hidden=args.hidden, layers=args.layers, transform="affine",
               bins=8, bound=4.0)
    scaling = {k: torch.tensor(v, dtype=torch.float32) for k, v in fit_scaling(fit[:, 1:], fit[:, :1]).items()}
    gen = torch.Generator().manual_seed(args.seed)
    params = init_params(cfg, gen)
    sd = dict(params, **scaling)
    opt = torch.optim.Adam(list(params.values()), lr=args.lr)
    x, c = torch.tensor(fit[:, 1:], dtype=torch.float32), torch.tensor(fit[:, :1], dtype=torch.float32)
    steps = max(1, len(fit) // args.batch_size)
    for epoch in range(args.epochs):
        perm = torch.randperm(len(fit), generator=gen)
        for b in range(steps):
            i = perm[b * args.batch_size:(b + 1) * args.batch_size]
            loss = -flow_logp(sd, x[i], c[i], cfg)[1].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    xt, ct = torch.tensor(test[:, 1:], dtype=torch.float32), torch.tensor(test[:, :1], dtype=torch.float32)
    result = {"train_rows": len(fit), "test_rows": len(test), "steps": steps * args.epochs,
              "pytorch_test_nll": nll(sd, xt, ct, cfg)}
    if args.genlab:
        g = {k: v.float() for k, v in load_file(args.genlab).items() if not k.startswith("_")}
        result["genlab_test_nll"] = nll(g, xt, ct, cfg)
        result["relative_difference"] = (result["genlab_test_nll"] - result["pytorch_test_nll"]) / abs(result["pytorch_test_nll"])
    # Truth vs truth: the two halves of the test set; samples: PyTorch's flow at the test set's m_jj.
    half = len(test) // 2
    result["w1_truth_vs_truth"] = {f: w1(test[:half, i + 1], test[half:, i + 1]) for i, f in enumerate(FEATURES)}
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
