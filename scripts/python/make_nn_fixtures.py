"""Generates the NN fixtures (Tests/NNTests/Fixtures/), committed once:

- golden traces: a small MLP and a small conv net with BatchNorm, initial weights saved with
  safetensors.torch.save_file, the same batches, 10 optimiser steps (SGD with momentum and a step
  schedule, Adam, AdamW); losses per step, final weights and BatchNorm running statistics;
- eval-mode outputs of each initial model on a probe input (a PyTorch state_dict gives the same
  outputs in GenLab);
- loss functions' values and gradients;
- a file with F16 and BF16 tensors for the readers.

    $(scripts/python/env.sh) scripts/python/make_nn_fixtures.py
"""
import json
import pathlib

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/NNTests/Fixtures"
OUT.mkdir(parents=True, exist_ok=True)
torch.manual_seed(7)


def flat(t):
    return {"shape": list(t.shape), "data": t.detach().flatten().tolist()}


def mlp():
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


def convnet():
    # No conv bias before BatchNorm: its gradient is zero up to rounding, and Adam would amplify
    # that rounding noise into updates of random sign, which no two implementations share.
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 3))


def trace(name, make, optimizer, batches, loss_fn, probe, schedule=None):
    model = make()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, OUT / f"{name}_initial.safetensors")
    model.eval()
    with torch.no_grad():
        probe_out = model(probe)
    model.train()
    opt = optimizer(model.parameters())
    sched = schedule(opt) if schedule else None
    losses = []
    for x, y in batches:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if sched:
            sched.step()
        losses.append(loss.item())
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, OUT / f"{name}_final.safetensors")
    return {"losses": losses, "probe": flat(probe), "probeOutput": flat(probe_out)}


mlp_batches = [(torch.randn(16, 8), torch.randn(16, 4)) for _ in range(10)]
conv_batches = [(torch.randn(8, 1, 8, 8), torch.randint(0, 3, (8,))) for _ in range(10)]
traces = {
    "mlp_sgd": trace("mlp_sgd", mlp, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3), mlp_batches,
                     F.mse_loss, torch.randn(5, 8), schedule=lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5)),
    "mlp_adamw": trace("mlp_adamw", mlp, lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1), mlp_batches,
                       F.mse_loss, torch.randn(5, 8)),
    "conv_sgd": trace("conv_sgd", convnet, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), conv_batches,
                      F.cross_entropy, torch.randn(4, 1, 8, 8)),
    "conv_adam": trace("conv_adam", convnet, lambda p: torch.optim.Adam(p, lr=1e-2), conv_batches,
                       F.cross_entropy, torch.randn(4, 1, 8, 8)),
}
data = {
    "mlpBatches": [[flat(x), flat(y)] for x, y in mlp_batches],
    "convBatches": [[flat(x), y.tolist()] for x, y in conv_batches],
    "traces": traces,
}

# Loss functions: value and gradient with respect to the prediction, both reductions.
losses = []
p = torch.randn(4, 5)
t = torch.rand(4, 5)
prob = torch.rand(4, 5) * 0.98 + 0.01
big = torch.tensor([[-120.0, -30.0, 0.0, 30.0, 120.0]])
for red in ("mean", "sum"):
    for name, x, y, fn in [("mse", p, t, F.mse_loss), ("l1", p, t, F.l1_loss),
                           ("bceWithLogits", p, t.round(), F.binary_cross_entropy_with_logits),
                           ("bceWithLogits", big, torch.tensor([[1.0, 0.0, 1.0, 0.0, 1.0]]), F.binary_cross_entropy_with_logits),
                           ("bce", prob, t.round(), F.binary_cross_entropy)]:
        xg = x.clone().requires_grad_(True)
        v = fn(xg, y, reduction=red)
        v.backward()
        losses.append({"loss": name, "reduction": red, "x": flat(x), "y": flat(y), "value": v.item(), "grad": flat(xg.grad)})
    logits = torch.randn(6, 4)
    targets = torch.tensor([0, 3, 1, 1, 2, 0])
    lg = logits.clone().requires_grad_(True)
    v = F.cross_entropy(lg, targets, reduction=red)
    v.backward()
    losses.append({"loss": "crossEntropy", "reduction": red, "x": flat(logits), "targets": targets.tolist(), "value": v.item(),
                   "grad": flat(lg.grad)})
    mu, logvar = torch.randn(3, 4), torch.randn(3, 4) * 0.5
    mg, lvg = mu.clone().requires_grad_(True), logvar.clone().requires_grad_(True)
    kl = -0.5 * (1 + lvg - mg ** 2 - lvg.exp()).sum(-1)
    kl = kl.mean() if red == "mean" else kl.sum()
    kl.backward()
    losses.append({"loss": "gaussianKL", "reduction": red, "x": flat(mu), "y": flat(logvar), "value": kl.item(),
                   "grad": flat(mg.grad), "gradY": flat(lvg.grad)})
data["losses"] = losses
(OUT / "nn.json").write_text(json.dumps(data, separators=(",", ":")))

half = torch.tensor([[0.5, -1.25, 3.0], [65504.0, 1e-3, -0.0]])
save_file({"f16": half.to(torch.float16), "bf16": half.to(torch.bfloat16), "f64": half.double(),
           "i64": torch.tensor([3, -2, 7]), "u8": torch.tensor([0, 200, 255], dtype=torch.uint8)},
          OUT / "dtypes.safetensors", metadata={"source": "make_nn_fixtures.py"})
(OUT / "dtypes.json").write_text(json.dumps({"f16": half.to(torch.float16).float().flatten().tolist(),
                                             "bf16": half.to(torch.bfloat16).float().flatten().tolist()}))
print("wrote", sorted(p.name for p in OUT.iterdir()))
