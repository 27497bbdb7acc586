"""PyTorch eager (and, with --compile, torch.compile) on the same model workloads as
`genlab bench models`: same architectures, batch sizes, thread count. Prints a JSON list of
{name, value (steps/s), memory_mb, compiled (steps/s or null)}.

    python bench_models_torch.py THREADS [--quick] [--compile] [--only NAME]

Memory is measured as GenLab measures it: the peak resident size while the workload is built and
trained, over the resident size just before (/proc/self/status, peak reset via clear_refs), so
it should run one workload per process (--only) for a clean figure."""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

import timing

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
quick = "--quick" in sys.argv
compile_too = "--compile" in sys.argv
only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
MIN = 0.3 if quick else 2.0


def per_call(fn):
    fn()  # one extra warm-up step (optimiser state allocation)
    return timing.per_call(fn, MIN / 5)


class VAE(nn.Module):
    def __init__(self, conv, size, latent, hidden):
        super().__init__()
        self.conv, self.size = conv, size
        if conv:
            c1, c2 = hidden
            s = ((size + 2 - 4) // 2 + 1 + 2 - 4) // 2 + 1
            self.enc = nn.Sequential(nn.Conv2d(1, c1, 4, 2, 1), nn.ReLU(), nn.Conv2d(c1, c2, 4, 2, 1), nn.ReLU(), nn.Flatten())
            feat = c2 * s * s
            start = (size + 3) // 4
            self.dec = nn.Sequential(nn.Linear(latent, c2 * start * start), nn.ReLU(), nn.Unflatten(1, (c2, start, start)),
                                     nn.ConvTranspose2d(c2, c1, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(c1, 1, 4, 2, 1))
        else:
            h = hidden[0]
            self.enc = nn.Sequential(nn.Flatten(), nn.Linear(size * size, h), nn.ReLU())
            feat = h
            self.dec = nn.Sequential(nn.Linear(latent, h), nn.ReLU(), nn.Linear(h, size * size), nn.Unflatten(1, (1, size, size)))
        self.mu, self.lv = nn.Linear(feat, latent), nn.Linear(feat, latent)

    def forward(self, x):
        h = self.enc(x)
        mu, lv = self.mu(h), self.lv(h).clamp(-20, 20)
        z = mu + (0.5 * lv).exp() * torch.randn_like(mu)
        raw = self.dec(z)
        rec = F.binary_cross_entropy_with_logits(raw, x, reduction="none").flatten(1).sum(1)
        kl = -0.5 * (1 + lv - mu ** 2 - lv.exp()).sum(1)
        return (rec + kl).mean()


def vae_step(model, run, x):
    opt = torch.optim.Adam(model.parameters(), 1e-3)

    def step():
        loss = run(x)
        opt.zero_grad(); loss.backward(); opt.step()
    return step


def dcgan_nets(size, channels):
    """GenLab's DCGAN: doublings from 4 × 4 up to size, 64 features at the image end."""
    doublings = {32: 3, 64: 4}[size]
    width = 64 << (doublings - 1)
    g = [nn.Linear(100, width * 16, bias=False), nn.Unflatten(1, (width, 4, 4)), nn.BatchNorm2d(width), nn.ReLU()]
    ch = width
    for _ in range(doublings - 1):
        g += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU()]
        ch //= 2
    g += [nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()]
    d = [nn.Conv2d(channels, 64, 4, 2, 1), nn.LeakyReLU(0.2)]
    ch = 64
    for _ in range(doublings - 1):
        d += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2), nn.LeakyReLU(0.2)]
        ch *= 2
    d += [nn.Flatten(), nn.Linear(ch * 16, 1)]
    return nn.Sequential(*g), nn.Sequential(*d)


def dcgan(compiled=False, size=32, channels=1):
    G, D = dcgan_nets(size, channels)
    optG = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    g, d = (torch.compile(G), torch.compile(D)) if compiled else (G, D)
    real = torch.rand(64, channels, size, size) * 2 - 1
    ones, zeros = torch.ones(64, 1), torch.zeros(64, 1)

    def step():
        fake = g(torch.randn(64, 100))
        lossD = F.binary_cross_entropy_with_logits(d(real), ones) + F.binary_cross_entropy_with_logits(d(fake.detach()), zeros)
        optD.zero_grad(); lossD.backward(); optD.step()
        # The generator's step through a frozen discriminator, as `genlab train gan` takes it.
        D.requires_grad_(False)
        lossG = F.binary_cross_entropy_with_logits(d(fake), ones)
        optG.zero_grad(); lossG.backward(); optG.step()
        D.requires_grad_(True)
    return step


def dcgan64(compiled=False):
    return dcgan(compiled, 64, 3)


def jet_ae_scoring(compiled=False):
    model = VAE(True, 25, 8, [32, 64])
    model.eval()
    x = torch.rand(1024, 1, 25, 25)

    def encode_decode(x):
        rec = model.dec(model.mu(model.enc(x)))[:, :, 1:26, 1:26]  # 28 → 25, centred
        return ((rec - x) ** 2).mean((1, 2, 3))
    f = torch.compile(encode_decode) if compiled else encode_decode

    def step():
        with torch.no_grad():
            f(x)
    return step


def decoy_fits(compiled=False):
    """32 decoy networks 2-32-32-1 fitted side by side (batched matmuls) to 32 × 32 images, 300
    full-batch AdamW steps of BCE summed over pixels / pixels: one call is one batch of whole fits."""
    ys, xs = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    coords = torch.stack([2 * (-1 + (xs.flatten() + 0.5) / 16), 2 * (-1 + (ys.flatten() + 0.5) / 16)], 1).float()
    b = torch.arange(32).remainder(5).view(32, 1, 1).float()
    target = (((xs - 15.5 + b) ** 2 + 2 * (ys - 15.5) ** 2) < 120).float().view(32, 1024)
    widths = [2, 32, 32, 1]

    def loss_of(params):
        h = coords.expand(32, 1024, 2)
        for i in range(3):
            h = torch.baddbmm(params[2 * i + 1], h, params[2 * i])
            if i < 2:
                h = torch.tanh(h)
        return F.binary_cross_entropy_with_logits(h.view(32, 1024), target, reduction="sum") / 1024
    run = torch.compile(loss_of) if compiled else loss_of

    def step():
        params = []
        for i in range(3):
            bound = 1 / widths[i] ** 0.5
            params += [(torch.rand(32, widths[i], widths[i + 1]) * 2 - 1).mul_(bound).requires_grad_(),
                       (torch.rand(32, 1, widths[i + 1]) * 2 - 1).mul_(bound).requires_grad_()]
        opt = torch.optim.AdamW(params, lr=0.01, weight_decay=1e-4)
        for _ in range(300):
            loss = run(params)
            opt.zero_grad(); loss.backward(); opt.step()
    return step


def coordinate(compiled=False):
    net = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    ys, xs = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    coords = torch.stack([xs.flatten() / 32 - 1, ys.flatten() / 32 - 1], 1).float()
    target = torch.rand(4096, 1)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    f = torch.compile(net) if compiled else net

    def step():
        loss = F.mse_loss(f(coords), target)
        opt.zero_grad(); loss.backward(); opt.step()
    return step


def conditional_maf(compiled=False):
    """The same conditional MAF as GenLab's (make_flow_fixtures.py's reference), one Adam step on 256 rows."""
    from make_flow_fixtures import flow_logp
    cfg = dict(features=4, context=1, blocks=6, hidden=64, layers=2, transform="affine", bins=8, bound=4.0)
    params = {}
    for k in range(6):
        for name, (o, i) in {"input": (64, 4), "context": (64, 1), "hidden.0": (64, 64), "output": (8, 64)}.items():
            layer = nn.Linear(i, o)
            params[f"blocks.{k}.{name}.weight"] = layer.weight
            params[f"blocks.{k}.{name}.bias"] = layer.bias
    x, m = torch.rand(256, 4), 2.5 + 2.5 * torch.rand(256, 1)
    scaling = {"featureLow": torch.full((4,), -0.05), "featureHigh": torch.full((4,), 1.05),
               "featureMean": torch.zeros(4), "featureStd": torch.full((4,), 1.8),
               "contextMean": torch.tensor([3.75]), "contextStd": torch.tensor([0.72])}
    sd = dict(params, **scaling)
    opt = torch.optim.Adam(list(params.values()), 1e-3)
    f = torch.compile(flow_logp) if compiled else flow_logp

    def step():
        loss = -f(sd, x, m, cfg)[1].mean()
        opt.zero_grad(); loss.backward(); opt.step()
    return step


def vae(conv, size, latent, hidden, batch):
    def build(compiled=False):
        model = VAE(conv, size, latent, hidden)
        return vae_step(model, torch.compile(model) if compiled else model, torch.rand(batch, 1, size, size))
    return build


def memory_field(name):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(name):
                return int(line.split()[1]) * 1024
    return None


def measure(build):
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = memory_field("VmRSS:")
    rate = 1 / per_call(build())
    peak = memory_field("VmHWM:")
    return rate, (peak - before) / 1048576 if peak and before else None


def compiled_rate(build):
    try:
        return 1 / per_call(build(compiled=True))
    except Exception as e:  # torch.compile needs a working C++ toolchain; report why it is missing
        print(f"torch.compile failed: {type(e).__name__}: {e}".splitlines()[0], file=sys.stderr)
        return None


work = {
    "mlp vae 784-400-20 b128": vae(False, 28, 20, [400], 128),
    "dcgan 32x32 b64 (D+G step)": dcgan,
    "conv vae 32x32 b128": vae(True, 32, 16, [32, 64], 128),
    "coordinate mlp 2-64-64-64-1 on 64x64": coordinate,
    "dcgan 64x64x3 b64 (D+G step)": dcgan64,
    "jet ae scoring 25x25 b1024 (forward + mse)": jet_ae_scoring,
    "decoy fits 32x 2-32-32-1 on 32x32 (300 steps)": decoy_fits,
    "conditional maf 4-d 6x(64,64) b256": conditional_maf,
}
if only is not None and only not in work:
    sys.exit(f"unknown workload {only!r}; known: {list(work)}")
out = []
for name, build in work.items():
    if only is not None and name != only:
        continue
    rate, memory = measure(build)
    out.append({"name": name, "value": rate, "memory_mb": memory, "compiled": compiled_rate(build) if compile_too else None})
print(json.dumps(out))
