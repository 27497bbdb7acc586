"""Seeds and regression inputs for the `torch-archive` fuzz target (Tests/FuzzingTests/Fixtures/fuzz/torch-archive):
a torch.save state dict (with a strided view and a half tensor), a traced TorchScript module, and hostile
variants — truncated, a pickle that calls os.system, a storage that claims 2^31 elements."""
import io, os, sys, zipfile

import torch

out = sys.argv[1] if len(sys.argv) > 1 else "Tests/FuzzingTests/Fixtures/fuzz/torch-archive"
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
state = {"layer.weight": torch.randn(3, 2), "layer.bias": torch.randn(3), "view": torch.randn(4, 4)[:, 1:3],
         "half": torch.randn(5).half()}
buf = io.BytesIO()
torch.save(state, buf)
good = buf.getvalue()
open(os.path.join(out, "state_dict.pt"), "wb").write(good)
open(os.path.join(out, "truncated.pt"), "wb").write(good[: len(good) // 2])


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 3)
        self.pool = torch.nn.MaxPool2d(2)

    def forward(self, x):
        return self.pool(self.conv(x))


buf = io.BytesIO()
torch.jit.save(torch.jit.trace(Net(), torch.zeros(1, 1, 8, 8)), buf)
open(os.path.join(out, "traced.pt"), "wb").write(buf.getvalue())


def rewrite(name, change):
    z = zipfile.ZipFile(io.BytesIO(good))
    o = io.BytesIO()
    with zipfile.ZipFile(o, "w") as w:
        for n in z.namelist():
            data = z.read(n)
            w.writestr(n, change(data) if n.endswith("data.pkl") else data)
    open(os.path.join(out, name), "wb").write(o.getvalue())


rewrite("calls_code.pt", lambda d: b"cos\nsystem\n(Vecho hi\ntR.")
# The first storage's element count (BININT1 6) becomes BININT 2^31 - 1.
rewrite("huge_count.pt", lambda d: d.replace(b"K\x06", b"J\xff\xff\xff\x7f", 1))
print(sorted(os.listdir(out)))
