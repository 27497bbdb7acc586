"""PyTorch's figures for the engine benchmark (same names, sizes and units as `genlab bench`).

Prints a JSON list of {"name", "value"}. `genlab bench --compare` runs it and prints the ratios.
"""
import json
import sys

import torch

import timing

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
quick = "--quick" in sys.argv
MIN = 0.02 if quick else 0.15


def per_call(fn):
    return timing.per_call(fn, MIN)


out = []
for n in (256, 1024):
    a, b = torch.rand(n, n), torch.rand(n, n)
    s = per_call(lambda: a @ b)
    out.append({"name": f"sgemm {n}", "value": 2 * n ** 3 / s / 1e9})

x = (torch.rand(64, 64, 16, 16) * 2 - 1).requires_grad_(True)
w = ((torch.rand(128, 64, 4, 4) * 2 - 1) * 0.1).requires_grad_(True)
flops = 2.0 * 64 * 128 * 8 * 8 * 64 * 16
conv = torch.nn.functional.conv2d


def fwd():
    with torch.no_grad():
        conv(x, w, stride=2, padding=1)


def both():
    x.grad = None
    w.grad = None
    conv(x, w, stride=2, padding=1).sum().backward()


out.append({"name": "conv2d forward", "value": flops / per_call(fwd) / 1e9})
out.append({"name": "conv2d forward+backward", "value": 3 * flops / per_call(both) / 1e9})

for n in (1 << 20, 1 << 24):
    a, b = torch.rand(n), torch.rand(n)
    out.append({"name": f"add {n >> 20}M", "value": 12 * n / per_call(lambda: a + b) / 1e9})

t1, t2 = torch.rand(4), torch.rand(4)
out.append({"name": "tiny op", "value": per_call(lambda: t1 + t2) * 1e6})
g1 = torch.rand(4, requires_grad=True)
out.append({"name": "tiny op, recorded", "value": per_call(lambda: g1 + t2) * 1e6})
print(json.dumps(out))
