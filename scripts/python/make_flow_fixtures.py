"""PyTorch reference for GenLab's conditional flows (Tests/ModelsTests/Fixtures/), committed once.

The same architecture as Sources/Models/ConditionalFlow.swift, written here in PyTorch from the
papers (MADE, MAF, neural spline flows), with GenLab's state-dict key paths: per transform (affine,
spline) random weights and input scaling, a batch of features (some beyond the spline's tail bound)
and contexts; the fixture holds the weights, the log-likelihood per row, the base-space points and
the gradient of the mean log-likelihood with respect to every parameter. The spline itself is also
checked against nflows' unconstrained_rational_quadratic_spline when nflows is installed.

    $(scripts/python/env.sh) scripts/python/make_flow_fixtures.py
"""
import math
import pathlib

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/ModelsTests/Fixtures"
MIN_W = MIN_H = MIN_D = 1e-3


def made_masks(d, hidden, layers, per):
    inp = torch.arange(1, d + 1)
    hid = torch.arange(hidden) % d  # degree 0: context only
    out = torch.arange(d * per) // per + 1
    masks = [(hid[:, None] >= inp[None, :]).float()]
    masks += [(hid[:, None] >= hid[None, :]).float() for _ in range(layers - 1)]
    masks.append((out[:, None] > hid[None, :]).float())
    return masks


def knots(u, bound, minimum):
    k = u.shape[-1]
    s = F.softmax(u, -1) * (1 - minimum * k) + minimum
    c = F.pad(torch.cumsum(s, -1), (1, 0))
    return c * 2 * bound - bound


def spline(x, params, bins, bound):
    """Rational-quadratic spline with identity tails; x [M], params [M, 3K - 1] -> y, logdet [M]."""
    w, h, d = params[:, :bins], params[:, bins:2 * bins], params[:, 2 * bins:]
    const = math.log(math.exp(1 - MIN_D) - 1)
    d = F.softplus(F.pad(d, (1, 1), value=const)) + MIN_D
    cw, ch = knots(w, bound, MIN_W), knots(h, bound, MIN_H)
    widths, heights = cw[:, 1:] - cw[:, :-1], ch[:, 1:] - ch[:, :-1]
    inside = (x >= -bound) & (x <= bound)
    xc = x.clamp(-bound, bound)
    b = (torch.searchsorted(cw[:, 1:-1].detach().contiguous(), xc.detach()[:, None], right=True))[:, 0]
    g = lambda t, off=0: t.gather(1, (b + off)[:, None])[:, 0]
    x0, wk, y0, hk, d0, d1 = g(cw), g(widths), g(ch), g(heights), g(d), g(d, 1)
    delta = hk / wk
    th = (xc - x0) / wk
    m = th * (1 - th)
    num = hk * (delta * th * th + d0 * m)
    den = delta + (d0 + d1 - 2 * delta) * m
    y = y0 + num / den
    slope = delta ** 2 * (d1 * th * th + 2 * delta * m + d0 * (1 - th) ** 2)
    ld = torch.log(slope) - 2 * torch.log(den)
    return torch.where(inside, y, x), torch.where(inside, ld, torch.zeros_like(ld))


def flow_logp(sd, x, c, cfg):
    d, per = cfg["features"], 2 if cfg["transform"] == "affine" else 3 * cfg["bins"] - 1
    masks = made_masks(d, cfg["hidden"], cfg["layers"], per)
    rng = sd["featureHigh"] - sd["featureLow"]
    unit = ((x - sd["featureLow"]) / rng).clamp(1e-6, 1 - 1e-6)
    u = torch.log(unit) - torch.log(1 - unit)
    logdet = (-torch.log(rng) - torch.log(unit) - torch.log(1 - unit)).sum(1)
    z = (u - sd["featureMean"]) / sd["featureStd"]
    logdet = logdet - torch.log(sd["featureStd"]).sum()
    cs = (c - sd["contextMean"]) / sd["contextStd"]
    n = x.shape[0]
    for k in range(cfg["blocks"]):
        p = f"blocks.{k}."
        hdn = F.linear(z, sd[p + "input.weight"] * masks[0], sd[p + "input.bias"])
        hdn = torch.relu(hdn + F.linear(cs, sd[p + "context.weight"], sd[p + "context.bias"]))
        for j in range(cfg["layers"] - 1):
            hdn = torch.relu(F.linear(hdn, sd[p + f"hidden.{j}.weight"] * masks[1 + j], sd[p + f"hidden.{j}.bias"]))
        params = F.linear(hdn, sd[p + "output.weight"] * masks[-1], sd[p + "output.bias"]).reshape(n, d, per)
        if cfg["transform"] == "affine":
            scale = torch.sigmoid(params[:, :, 1] + 2) + 1e-3
            z = z * scale + params[:, :, 0]
            logdet = logdet + torch.log(scale).sum(1)
        else:
            y, ld = spline(z.reshape(-1), params.reshape(n * d, per), cfg["bins"], cfg["bound"])
            z = y.reshape(n, d)
            logdet = logdet + ld.reshape(n, d).sum(1)
        z = z.flip(1)
    base = -0.5 * (z * z).sum(1) - d * 0.5 * math.log(2 * math.pi)
    return z, base + logdet


def make(transform, seed):
    torch.manual_seed(seed)
    cfg = dict(features=4, context=1, blocks=3, hidden=16, layers=2, transform=transform, bins=5, bound=2.5)
    d, per = cfg["features"], 2 if transform == "affine" else 3 * cfg["bins"] - 1
    sd = {}
    for k in range(cfg["blocks"]):
        p = f"blocks.{k}."
        shapes = {"input": (cfg["hidden"], d), "context": (cfg["hidden"], cfg["context"])}
        shapes.update({f"hidden.{j}": (cfg["hidden"], cfg["hidden"]) for j in range(cfg["layers"] - 1)})
        shapes["output"] = (d * per, cfg["hidden"])
        for name, (o, i) in shapes.items():
            sd[p + name + ".weight"] = (torch.rand(o, i) * 2 - 1) / math.sqrt(i) * 1.5
            sd[p + name + ".bias"] = (torch.rand(o) * 2 - 1) / math.sqrt(i)
    sd["featureLow"] = torch.tensor([0.0, -1.0, 10.0, 0.0])
    sd["featureHigh"] = torch.tensor([1.0, 3.0, 50.0, 0.9])
    sd["featureMean"] = torch.tensor([0.1, -0.2, 0.3, 0.0])
    sd["featureStd"] = torch.tensor([1.5, 0.8, 1.2, 0.6])
    sd["contextMean"] = torch.tensor([3.5])
    sd["contextStd"] = torch.tensor([0.6])
    n = 64
    x = sd["featureLow"] + (sd["featureHigh"] - sd["featureLow"]) * torch.rand(n, d)
    x[:4] = sd["featureLow"] + (sd["featureHigh"] - sd["featureLow"]) * torch.tensor([0.001, 0.999, 0.5, 0.02])
    c = 2.5 + 2 * torch.rand(n, 1)
    params = {k: v.clone().requires_grad_(k.startswith("blocks")) for k, v in sd.items()}
    z, logp = flow_logp(params, x, c, cfg)
    logp.mean().backward()
    out = {f"weights.{k}": v.detach().contiguous() for k, v in sd.items()}
    out.update({"x": x, "context": c, "logp": logp.detach(), "z": z.detach()})
    out.update({f"grad.{k}": v.grad.contiguous() for k, v in params.items() if v.grad is not None})
    meta = {k: str(v) for k, v in cfg.items()}
    save_file(out, OUT / f"flow_{transform}.safetensors", metadata=meta)
    print(transform, "logp mean", logp.mean().item(), "outside tails:", int((z.abs() > cfg["bound"]).sum()))


def spline_fixture():
    torch.manual_seed(3)
    bins, bound, m = 6, 2.0, 200
    x = torch.linspace(-2.6, 2.6, m)
    params = torch.randn(m, 3 * bins - 1) * 1.3
    params.requires_grad_(True)
    xg = x.clone().requires_grad_(True)
    y, ld = spline(xg, params, bins, bound)
    (y.sum() + ld.sum()).backward()
    try:
        from nflows.transforms.splines.rational_quadratic import unconstrained_rational_quadratic_spline as ref
        yr, ldr = ref(x, params[:, :bins], params[:, bins:2 * bins], params[:, 2 * bins:], tails="linear",
                      tail_bound=bound)
        print("spline vs nflows: max |dy|", (y - yr).abs().max().item(), "max |dlogdet|", (ld - ldr).abs().max().item())
    except ImportError:
        print("nflows not installed: spline not cross-checked")
    save_file({"x": x, "params": params.detach(), "y": y.detach(), "logdet": ld.detach(), "grad_x": xg.grad,
               "grad_params": params.grad}, OUT / "spline.safetensors", metadata={"bins": str(bins), "bound": str(bound)})


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    spline_fixture()
    make("affine", 11)
    make("spline", 12)
