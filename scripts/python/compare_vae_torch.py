"""The same convolutional VAE as `genlab train vae` on the bundled QCD jets, trained the same way
in PyTorch, and the test-set negative ELBO of both (issue 6's quality check).

    genlab train vae --data Datasets/jets/qcd_train.h5 --out Outputs/vae_qcd --epochs 5 --batch-size 128
    genlab score --checkpoint Outputs/vae_qcd/checkpoint.safetensors Datasets/jets/qcd_test.h5 --out Outputs/vae_qcd_test
    $(scripts/python/env.sh) scripts/python/compare_vae_torch.py Outputs/vae_qcd_test/scores.csv

Both use: images scaled to unit pT sum, Gaussian decoder with σ = 0.01 (constant included),
latent 8, conv 32/64 encoder and its transposed decoder (cropped 28 → 25), Adam 1e-3, batch 128,
5 epochs, 10 % of the training file held out, and the estimator GenLab's scorer reports:
−log p(x | z = μ) + KL(q ‖ p), averaged over qcd_test.
"""
import csv
import math
import pathlib
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
torch.set_num_threads(2)
root = pathlib.Path(__file__).resolve().parents[2]


def load(name):
    with h5py.File(root / "Datasets/jets" / name) as f:
        x = f["images"][:].astype(np.float32)
    s = x.sum((1, 2), keepdims=True)
    return torch.from_numpy(np.where(s > 0, x / np.maximum(s, 1e-30), x)).unsqueeze(1)


class VAE(nn.Module):
    def __init__(self, latent=8, c1=32, c2=64, size=25):
        super().__init__()
        s = ((size + 2 - 4) // 2 + 1 + 2 - 4) // 2 + 1
        start = (size + 3) // 4
        self.size = size
        self.enc = nn.Sequential(nn.Conv2d(1, c1, 4, 2, 1), nn.ReLU(), nn.Conv2d(c1, c2, 4, 2, 1), nn.ReLU(), nn.Flatten())
        self.mu, self.lv = nn.Linear(c2 * s * s, latent), nn.Linear(c2 * s * s, latent)
        self.dec = nn.Sequential(nn.Linear(latent, c2 * start * start), nn.ReLU(), nn.Unflatten(1, (c2, start, start)),
                                 nn.ConvTranspose2d(c2, c1, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(c1, 1, 4, 2, 1))

    def terms(self, x, sample=True):
        h = self.enc(x)
        mu, lv = self.mu(h), self.lv(h).clamp(-20, 20)
        z = mu + (0.5 * lv).exp() * torch.randn_like(mu) if sample else mu
        out = self.dec(z)
        top = (out.shape[2] - self.size) // 2
        out = out[:, :, top:top + self.size, top:top + self.size]
        sigma = 0.01
        const = x[0].numel() * (math.log(sigma) + 0.5 * math.log(2 * math.pi))
        rec = ((out - x) ** 2).flatten(1).sum(1) * (0.5 / sigma ** 2) + const
        kl = -0.5 * (1 + lv - mu ** 2 - lv.exp()).sum(1)
        return rec, kl


train, test = load("qcd_train.h5"), load("qcd_test.h5")
perm = torch.randperm(len(train))
train = train[perm[len(train) // 10:]]
model = VAE()
opt = torch.optim.Adam(model.parameters(), 1e-3)
for epoch in range(5):
    order = torch.randperm(len(train))
    for i in range(0, len(train) - 127, 128):
        rec, kl = model.terms(train[order[i:i + 128]])
        loss = (rec + kl).mean()
        opt.zero_grad(); loss.backward(); opt.step()
with torch.no_grad():
    rec, kl = model.terms(test, sample=False)
torch_elbo = float((rec + kl).mean())
print(f"PyTorch test negative ELBO: {torch_elbo:.2f}")
if len(sys.argv) > 1:
    with open(sys.argv[1]) as f:
        rows = [r for r in csv.DictReader(f) if r["neg_elbo"] not in ("", "nan")]
    genlab = sum(float(r["neg_elbo"]) for r in rows) / len(rows)
    print(f"GenLab  test negative ELBO: {genlab:.2f} ({len(rows)} events)")
    print(f"relative difference: {100 * abs(genlab - torch_elbo) / abs(torch_elbo):.2f} %")
