"""Generates the engine's gradient-penalty reference (Tests/EngineTests/Fixtures/gradient_penalty.json).

A small critic (conv 4×4/2 + bias, LeakyReLU 0.2, conv 3×3/2 without bias, LeakyReLU 0.2, linear)
on 8×8 two-channel images, and the two penalties that need gradients of gradients:

- WGAN-GP (Gulrajani et al. 2017): x̂ = ε·real + (1 − ε)·fake, penalty = mean((‖∇x̂ D(x̂)‖₂ − 1)²);
- R1 (Mescheder et al. 2018): mean(‖∇x D(x)‖²) on the real images.

For each: its value and its gradient with respect to every critic parameter (torch.autograd.grad
with create_graph=True, then backward). Run once; the JSON is committed:

    $(scripts/python/env.sh) scripts/python/make_double_backward_fixtures.py
"""
import json
import pathlib

import torch
import torch.nn.functional as F

torch.manual_seed(2718)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/EngineTests/Fixtures/gradient_penalty.json"

params = {
    "conv1.weight": torch.randn(4, 2, 4, 4) * 0.3,
    "conv1.bias": torch.randn(4) * 0.1,
    "conv2.weight": torch.randn(8, 4, 3, 3) * 0.3,
    "linear.weight": torch.randn(1, 32) * 0.3,
    "linear.bias": torch.randn(1) * 0.1,
}
real = torch.randn(5, 2, 8, 8)
fake = torch.randn(5, 2, 8, 8) * 0.5
eps = torch.rand(5, 1, 1, 1)


def critic(x, p):
    h = F.leaky_relu(F.conv2d(x, p["conv1.weight"], p["conv1.bias"], stride=2, padding=1), 0.2)
    h = F.leaky_relu(F.conv2d(h, p["conv2.weight"], None, stride=2, padding=1), 0.2)
    return F.linear(h.flatten(1), p["linear.weight"], p["linear.bias"]).reshape(-1)


def penalty(kind):
    p = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    x = (eps * real + (1 - eps) * fake) if kind == "gp" else real.clone()
    x.requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x, p).sum(), x, create_graph=True)
    norms2 = g.pow(2).flatten(1).sum(1)
    value = ((norms2.sqrt() - 1) ** 2).mean() if kind == "gp" else norms2.mean()
    # The output bias does not reach ∇x D (unused: zero); the first bias only moves LeakyReLU's kinks.
    grads = torch.autograd.grad(value, list(p.values()), allow_unused=True)
    grads = [torch.zeros_like(v) if gr is None else gr for v, gr in zip(p.values(), grads)]
    return {"value": value.item(), "inputGradient": g.detach().flatten().tolist(),
            "grads": {k: gr.flatten().tolist() for k, gr in zip(p, grads)}}


def tensor(t):
    return {"shape": list(t.shape), "data": t.flatten().tolist()}


fixture = {
    "generator": "scripts/python/make_double_backward_fixtures.py", "torch": torch.__version__,
    "params": {k: tensor(v) for k, v in params.items()},
    "real": tensor(real), "fake": tensor(fake), "eps": tensor(eps),
    "gp": penalty("gp"), "r1": penalty("r1"),
}
OUT.write_text(json.dumps(fixture, separators=(",", ":")))
print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB): gp {fixture['gp']['value']:.6f}, r1 {fixture['r1']['value']:.6f}")
