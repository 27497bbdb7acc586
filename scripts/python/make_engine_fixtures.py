"""Generates the engine's PyTorch reference fixtures (Tests/EngineTests/Fixtures/ops.json).

For every case: the inputs, the op's output, and the gradient of sum(output * weight) with respect
to every input, where weight is a fixed random tensor (so each output element gets a different
upstream gradient). Second order: with one more fixed random tensor v_i per input, the gradient of
s = sum_i <v_i, d sum(output * weight) / d x_i> (taken with create_graph=True) with respect to every
input — the double backward a gradient penalty needs — and with respect to the weight (the
upstream gradient) itself. Those tensors come from their own generator, so the first-order draws
are those of the fixtures before second order was added. Run once; the JSON is committed:

    $(scripts/python/env.sh) scripts/python/make_engine_fixtures.py
"""
import json
import pathlib

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/EngineTests/Fixtures/ops.json"


def t(*shape, low=-2.0, high=2.0):
    return torch.empty(shape).uniform_(low, high)


def away(x, eps=0.1):
    """Moves values off kinks (0 for relu/abs, ties for max) by at least eps."""
    return torch.where(x.abs() < eps, torch.sign(x + 1e-9) * eps + x, x)


cases = []


second = torch.Generator().manual_seed(4321)


def second_order(fn, inputs, w):
    """v per input; d s / d x_j and d s / d w for s = sum_i <v_i, d<y, w>/dx_i>."""
    xs = [x.clone().requires_grad_(True) for x in inputs]
    wt = w.clone().requires_grad_(True)
    grads = torch.autograd.grad((fn(*xs) * wt).sum(), xs, create_graph=True, allow_unused=True)
    vs = [torch.empty(x.shape).uniform_(-1, 1, generator=second) for x in xs]
    s = sum((g * v).sum() for g, v in zip(grads, vs) if g is not None)
    if not isinstance(s, torch.Tensor) or not s.requires_grad:
        zeros = [torch.zeros(x.shape) for x in xs + [wt]]
        return vs, zeros[:-1], zeros[-1]
    out = torch.autograd.grad(s, xs + [wt], allow_unused=True)
    out = [torch.zeros(x.shape) if g is None else g.detach() + 0.0 for x, g in zip(xs + [wt], out)]
    return vs, out[:-1], out[-1]


def case(name, op, inputs, fn, **params):
    xs = [x.clone().requires_grad_(True) for x in inputs]
    y = fn(*xs)
    w = torch.empty(y.shape).uniform_(-1, 1)
    (y * w).sum().backward()
    vs, grads2, weight_grad2 = second_order(fn, inputs, w)
    cases.append({
        "v": [v.flatten().tolist() for v in vs],
        "grads2": [g.flatten().tolist() for g in grads2],
        "weightGrad2": weight_grad2.flatten().tolist(),
        "name": name, "op": op, "params": params,
        "inputs": [{"shape": list(x.shape), "data": x.detach().flatten().tolist()} for x in xs],
        "output": {"shape": list(y.shape), "data": y.detach().flatten().tolist()},
        "weight": w.flatten().tolist(),
        "grads": [None if x.grad is None else x.grad.flatten().tolist() for x in xs],
    })


# Broadcasting arithmetic.
for op, fn in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul)]:
    case(f"{op} same", op, [t(2, 3), t(2, 3)], fn)
    case(f"{op} row", op, [t(2, 3), t(3)], fn)
    case(f"{op} both", op, [t(4, 1, 3), t(2, 1)], fn)
    case(f"{op} scalar", op, [t(), t(2, 3)], fn)
    case(f"{op} middle", op, [t(2, 3, 4), t(1, 3, 1)], fn)
case("div same", "div", [t(2, 3), t(2, 3, low=0.5, high=2)], torch.div)
case("div both", "div", [t(4, 1, 3), t(2, 1, low=0.5, high=2)], torch.div)
case("neg", "neg", [t(3, 4)], torch.neg)
case("pow 3", "pow", [t(3, 4)], lambda x: x ** 3, exponent=3.0)
case("pow 0.5", "pow", [t(3, 4, low=0.2, high=3)], lambda x: x ** 0.5, exponent=0.5)
case("pow tensor", "powTensor", [t(3, 4, low=0.5, high=2), t(4)], torch.pow)
case("addScalar", "addScalar", [t(5)], lambda x: x + 1.5, scalar=1.5)
case("mulScalar", "mulScalar", [t(5)], lambda x: x * -2.5, scalar=-2.5)
case("rdivScalar", "rdivScalar", [t(5, low=0.5, high=2)], lambda x: 3.0 / x, scalar=3.0)

# Pointwise functions.
case("exp", "exp", [t(3, 4)], torch.exp)
case("log", "log", [t(3, 4, low=0.1, high=5)], torch.log)
case("sqrt", "sqrt", [t(3, 4, low=0.1, high=5)], torch.sqrt)
case("abs", "abs", [away(t(3, 4))], torch.abs)
case("clamp", "clamp", [away(t(4, 5)) * 1.3], lambda x: x.clamp(-0.5, 0.7), min=-0.5, max=0.7)
case("relu", "relu", [away(t(4, 5))], torch.relu)
case("leakyRelu", "leakyRelu", [away(t(4, 5))], lambda x: F.leaky_relu(x, 0.2), slope=0.2)
wide = torch.tensor([-40.0, -10.0, -1.0, -0.1, 0.0, 0.3, 2.0, 15.0, 40.0])
for op, fn in [("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("softplus", F.softplus), ("logSigmoid", F.logsigmoid)]:
    case(op, op, [t(3, 4)], fn)
    case(f"{op} wide", op, [wide], fn)

# Matrix products.
case("matmul", "matmul", [t(3, 4), t(4, 5)], torch.matmul)
case("matmul batched", "matmul", [t(2, 3, 4), t(2, 4, 5)], torch.matmul)
case("matmul shared B", "matmul", [t(2, 3, 4), t(4, 5)], torch.matmul)
case("matmul shared A", "matmul", [t(3, 4), t(2, 4, 5)], torch.matmul)
case("matmul broadcast batch", "matmul", [t(2, 1, 3, 4), t(3, 4, 2)], torch.matmul)
case("matmul At", "matmul", [t(4, 3), t(4, 5)], lambda a, b: a.transpose(-1, -2) @ b, transposeA=True)
case("matmul Bt", "matmul", [t(3, 4), t(5, 4)], lambda a, b: a @ b.transpose(-1, -2), transposeB=True)
case("matmul AtBt", "matmul", [t(2, 4, 3), t(2, 5, 4)], lambda a, b: a.transpose(-1, -2) @ b.transpose(-1, -2),
     transposeA=True, transposeB=True)

# Reductions.
case("sum all", "sum", [t(3, 4)], lambda x: x.sum(), axes=None)
case("sum axis", "sum", [t(3, 4, 5)], lambda x: x.sum(1), axes=[1], keepDims=False)
case("sum axes keep", "sum", [t(3, 4, 5)], lambda x: x.sum((0, 2), keepdim=True), axes=[0, 2], keepDims=True)
case("sum last", "sum", [t(3, 40)], lambda x: x.sum(-1), axes=[-1], keepDims=False)
case("mean axes", "mean", [t(3, 4, 5)], lambda x: x.mean((1, 2)), axes=[1, 2], keepDims=False)
case("mean all", "mean", [t(3, 4)], lambda x: x.mean(), axes=None)
case("var unbiased", "variance", [t(3, 6)], lambda x: x.var(1), axes=[1], unbiased=True, keepDims=False)
case("var biased keep", "variance", [t(2, 3, 4)], lambda x: x.var((0, 2), unbiased=False, keepdim=True),
     axes=[0, 2], unbiased=False, keepDims=True)
case("max axis", "max", [torch.randperm(24).float().reshape(2, 3, 4) / 7], lambda x: x.max(1).values, axis=1, keepDims=False)
case("max axis keep", "max", [torch.randperm(24).float().reshape(4, 6) / 7], lambda x: x.max(-1, keepdim=True).values,
     axis=-1, keepDims=True)

# Shapes and indexing.
case("reshape", "reshape", [t(2, 6)], lambda x: x.reshape(3, 4), shape=[3, 4])
case("permute", "permute", [t(2, 3, 4)], lambda x: x.permute(2, 0, 1), order=[2, 0, 1])
case("permute 4d", "permute", [t(2, 3, 4, 5)], lambda x: x.permute(0, 2, 3, 1), order=[0, 2, 3, 1])
case("transpose", "transpose", [t(2, 3, 4)], lambda x: x.transpose(0, 2), a=0, b=2)
case("concat", "concat", [t(2, 3, 2), t(2, 1, 2), t(2, 2, 2)], lambda *xs: torch.cat(xs, 1), axis=1)
case("split", "split", [t(2, 6)], lambda x: torch.cat([p * (i + 1) for i, p in enumerate(torch.split(x, [1, 3, 2], 1))], 1),
     sizes=[1, 3, 2], axis=1)
case("slice", "slice", [t(4, 7)], lambda x: x[:, 1:6:2], axis=1, start=1, end=6, step=2)
case("slice rows", "slice", [t(5, 3)], lambda x: x[-3:], axis=0, start=-3, end=None, step=1)
case("indexSelect", "indexSelect", [t(3, 4, 2)], lambda x: x.index_select(1, torch.tensor([3, 0, 3])), axis=1, indices=[3, 0, 3])
gidx = torch.tensor([[0, 2, 2], [1, 0, 1]])
case("gather", "gather", [t(2, 4)], lambda x: x.gather(1, gidx), axis=1, index=gidx.flatten().tolist(), indexShape=[2, 3])
case("pad", "pad", [t(2, 3, 4)], lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), widths=[[0, 1], [1, 2]], value=0.5)
case("expand", "expand", [t(3, 1)], lambda x: x.expand(2, 3, 4), shape=[2, 3, 4])

# Convolutions: awkward sizes, strides, padding, dilation, and transposed-convolution output sizes.
conv_cases = [
    ("conv 3x3 pad", (2, 3, 7, 6), (4, 3, 3, 3), dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1]), True),
    ("conv stride 2", (2, 3, 7, 6), (4, 3, 3, 3), dict(stride=[2, 2], padding=[0, 0], dilation=[1, 1]), True),
    ("conv dilation", (1, 2, 9, 8), (3, 2, 3, 3), dict(stride=[1, 1], padding=[2, 1], dilation=[2, 2]), False),
    ("conv dcgan", (2, 4, 8, 8), (6, 4, 4, 4), dict(stride=[2, 2], padding=[1, 1], dilation=[1, 1]), True),
    ("conv rect", (2, 2, 5, 7), (3, 2, 2, 3), dict(stride=[1, 2], padding=[0, 1], dilation=[1, 1]), True),
]
for name, xs, ws, p, bias in conv_cases:
    inputs = [t(*xs), t(*ws, low=-0.5, high=0.5)] + ([t(ws[0])] if bias else [])
    case(name, "conv2d", inputs,
         lambda x, w, b=None, p=p: F.conv2d(x, w, b, stride=p["stride"], padding=p["padding"], dilation=p["dilation"]), **p)
convt_cases = [
    ("convT dcgan", (2, 4, 4, 4), (4, 3, 4, 4), dict(stride=[2, 2], padding=[1, 1], outputPadding=[0, 0], dilation=[1, 1]), True),
    ("convT outpad", (2, 3, 5, 4), (3, 2, 3, 3), dict(stride=[2, 2], padding=[1, 1], outputPadding=[1, 1], dilation=[1, 1]), True),
    ("convT 1x1 to 4x4", (3, 5, 1, 1), (5, 2, 4, 4), dict(stride=[1, 1], padding=[0, 0], outputPadding=[0, 0], dilation=[1, 1]), False),
    ("convT dilation", (1, 2, 4, 5), (2, 3, 3, 2), dict(stride=[1, 2], padding=[1, 0], outputPadding=[0, 1], dilation=[2, 1]), True),
    ("convT jet 7to25", (2, 3, 7, 7), (3, 1, 5, 5), dict(stride=[3, 3], padding=[1, 1], outputPadding=[0, 0], dilation=[1, 1]), True),
]
for name, xs, ws, p, bias in convt_cases:
    inputs = [t(*xs), t(*ws, low=-0.5, high=0.5)] + ([t(ws[1])] if bias else [])
    case(name, "convTranspose2d", inputs,
         lambda x, w, b=None, p=p: F.conv_transpose2d(x, w, b, stride=p["stride"], padding=p["padding"],
                                                      output_padding=p["outputPadding"], dilation=p["dilation"]), **p)

# Pooling and upsampling.
distinct = lambda *s: (torch.randperm(int(torch.tensor(s).prod())).float().reshape(*s) / 10)
case("maxPool 2", "maxPool2d", [distinct(2, 3, 6, 6)], lambda x: F.max_pool2d(x, 2), kernel=[2, 2], stride=[2, 2], padding=[0, 0])
case("maxPool 3 s2 p1", "maxPool2d", [distinct(1, 2, 7, 5)], lambda x: F.max_pool2d(x, 3, 2, 1), kernel=[3, 3], stride=[2, 2], padding=[1, 1])
case("avgPool 2", "avgPool2d", [t(2, 3, 6, 6)], lambda x: F.avg_pool2d(x, 2), kernel=[2, 2], stride=[2, 2], padding=[0, 0])
case("avgPool 3 s1 p1", "avgPool2d", [t(1, 2, 5, 4)], lambda x: F.avg_pool2d(x, 3, 1, 1), kernel=[3, 3], stride=[1, 1], padding=[1, 1])
case("upsample 2", "upsampleNearest", [t(2, 3, 3, 4)], lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), scale=2)
case("upsample 3", "upsampleNearest", [t(1, 1, 2, 2)], lambda x: F.interpolate(x, scale_factor=3, mode="nearest"), scale=3)

# Fused loss terms (appended last, so the cases above keep their random draws).
bce = lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none")
case("bceWithLogits", "binaryCrossEntropyWithLogits", [t(3, 4) * 4, t(3, 4, low=0, high=1)], bce)
case("bceWithLogits wide", "binaryCrossEntropyWithLogits", [wide, torch.tensor([1.0, 0, 0.5, 1, 0, 0.2, 1, 0, 0.7])], bce)

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"generator": "scripts/python/make_engine_fixtures.py", "torch": torch.__version__,
                           "cases": cases}, separators=(",", ":")))
print(f"wrote {len(cases)} cases to {OUT} ({OUT.stat().st_size // 1024} KiB)")
