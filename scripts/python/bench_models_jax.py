"""JAX (`jax.jit` on CPU) on the `genlab bench models` workloads that have a JAX twin: the MLP VAE
and the coordinate MLP, same architectures, batch sizes, initialisation ranges and Adam rule as the
PyTorch script. Prints a JSON list of {name, value (steps/s)}; workloads it has no twin for are
skipped. XLA's CPU client uses every core (GenLab's default thread count too); THREADS is kept
for the same command line as the PyTorch script.

    python bench_models_jax.py THREADS [--quick] [--only NAME]
    python bench_models_jax.py --list     (the workload names it has twins of, without loading JAX)
"""
import json
import os
import sys

NAMES = ["mlp vae 784-400-20 b128", "coordinate mlp 2-64-64-64-1 on 64x64"]
if "--list" in sys.argv:
    print(json.dumps(NAMES))
    sys.exit(0)

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import timing  # noqa: E402

quick = "--quick" in sys.argv
only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
MIN = 0.3 if quick else 2.0


def linear(key, fan_in, fan_out):
    """PyTorch's nn.Linear initialisation: U(±1/√fan_in) for weight and bias."""
    k1, k2 = jax.random.split(key)
    bound = 1 / fan_in ** 0.5
    return {"w": jax.random.uniform(k1, (fan_in, fan_out), minval=-bound, maxval=bound),
            "b": jax.random.uniform(k2, (fan_out,), minval=-bound, maxval=bound)}


def adam(params, grads, state, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """torch.optim.Adam's update rule."""
    t = state["t"] + 1
    m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
    v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
    step = lr / (1 - b1 ** t)
    c2 = jnp.sqrt(1 - b2 ** t)
    params = jax.tree_util.tree_map(lambda p, m, v: p - step * m / (jnp.sqrt(v) / c2 + eps), params, m, v)
    return params, {"t": t, "m": m, "v": v}


def trainer(loss, params, *args):
    state = {"t": 0, "m": jax.tree_util.tree_map(jnp.zeros_like, params), "v": jax.tree_util.tree_map(jnp.zeros_like, params)}

    @jax.jit
    def step(params, state, *args):
        grads = jax.grad(loss)(params, *args)
        return adam(params, grads, state)
    holder = {"p": params, "s": state}

    def run():
        holder["p"], holder["s"] = step(holder["p"], holder["s"], *args)
        jax.block_until_ready(holder["p"])
    return run


def mlp_vae():
    key = jax.random.PRNGKey(0)
    ks = jax.random.split(key, 8)
    params = {"enc": linear(ks[0], 784, 400), "mu": linear(ks[1], 400, 20), "lv": linear(ks[2], 400, 20),
              "dec1": linear(ks[3], 20, 400), "dec2": linear(ks[4], 400, 784)}
    x = jax.random.uniform(ks[5], (128, 784))
    noise_key = ks[6]

    def loss(p, x, key):
        h = jax.nn.relu(x @ p["enc"]["w"] + p["enc"]["b"])
        mu = h @ p["mu"]["w"] + p["mu"]["b"]
        lv = jnp.clip(h @ p["lv"]["w"] + p["lv"]["b"], -20, 20)
        z = mu + jnp.exp(0.5 * lv) * jax.random.normal(key, mu.shape)
        raw = jax.nn.relu(z @ p["dec1"]["w"] + p["dec1"]["b"]) @ p["dec2"]["w"] + p["dec2"]["b"]
        rec = jnp.sum(jnp.maximum(raw, 0) - raw * x + jnp.log1p(jnp.exp(-jnp.abs(raw))), axis=1)
        kl = -0.5 * jnp.sum(1 + lv - mu ** 2 - jnp.exp(lv), axis=1)
        return jnp.mean(rec + kl)
    return trainer(loss, params, x, noise_key)


def coordinate():
    key = jax.random.PRNGKey(0)
    ks = jax.random.split(key, 6)
    params = [linear(ks[0], 2, 64), linear(ks[1], 64, 64), linear(ks[2], 64, 64), linear(ks[3], 64, 1)]
    ys, xs = jnp.meshgrid(jnp.arange(64), jnp.arange(64), indexing="ij")
    coords = jnp.stack([xs.flatten() / 32 - 1, ys.flatten() / 32 - 1], 1).astype(jnp.float32)
    target = jax.random.uniform(ks[4], (4096, 1))

    def loss(p, c, t):
        h = c
        for i, layer in enumerate(p):
            h = h @ layer["w"] + layer["b"]
            if i < len(p) - 1:
                h = jax.nn.relu(h)
        return jnp.mean((h - t) ** 2)
    return trainer(loss, params, coords, target)


work = dict(zip(NAMES, [mlp_vae, coordinate]))
out = []
for name, build in work.items():
    if only is not None and name != only:
        continue
    out.append({"name": name, "value": 1 / timing.per_call(build(), MIN / 5)})
print(json.dumps(out))
