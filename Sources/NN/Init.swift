import Engine

/// Weight initialisers, all drawn from GenLab's seeded PRNG.
public enum Init {
    /// Fills a tensor in place (leaves only) from U[low, high).
    public static func uniform(_ t: Tensor, low: Float, high: Float, rng: inout PRNG) {
        rng.fillUniform(t.storage.buffer, low: low, high: high)
    }

    public static func normal(_ t: Tensor, mean: Float = 0, std: Float, rng: inout PRNG) {
        rng.fillNormal(t.storage.buffer, mean: mean, std: std)
    }

    public static func constant(_ t: Tensor, _ value: Float) {
        t.storage.pointer.update(repeating: value, count: t.count)
    }

    /// PyTorch's default for Linear and Conv weights: kaiming_uniform(a = √5), i.e. U(±1/√fanIn).
    public static func kaimingUniform(_ t: Tensor, fanIn: Int, a: Float = Float(5).squareRoot(), rng: inout PRNG) {
        let gain = (2 / (1 + a * a)).squareRoot()
        let bound = gain * (3 / Float(max(fanIn, 1))).squareRoot()
        uniform(t, low: -bound, high: bound, rng: &rng)
    }

    /// PyTorch's default bias for Linear and Conv layers: U(±1/√fanIn); its bound.
    public static func biasBound(fanIn: Int) -> Float { 1 / Float(max(fanIn, 1)).squareRoot() }

    /// A new trainable bias of `n` values drawn as PyTorch's default (`biasBound`).
    public static func bias(_ n: Int, fanIn: Int, rng: inout PRNG) -> Tensor {
        let b = Tensor.zeros([n], requiresGrad: true)
        let bound = biasBound(fanIn: fanIn)
        uniform(b, low: -bound, high: bound, rng: &rng)
        return b
    }

    /// Glorot/Xavier uniform: U(±gain·√(6 / (fanIn + fanOut))).
    public static func xavierUniform(_ t: Tensor, fanIn: Int, fanOut: Int, gain: Float = 1, rng: inout PRNG) {
        let bound = gain * (6 / Float(max(fanIn + fanOut, 1))).squareRoot()
        uniform(t, low: -bound, high: bound, rng: &rng)
    }

    /// The DCGAN paper's initialisation over a whole model: convolution and linear weights
    /// N(0, 0.02), normalisation weights N(1, 0.02), biases 0.
    public static func dcgan(_ model: Module, rng: inout PRNG) {
        for (_, m) in model.namedModules() {
            let isNorm = m is BatchNorm || m is LayerNorm
            guard isNorm || m is Conv2d || m is ConvTranspose2d || m is Linear || m is SpectralNorm else { continue }
            for (key, p) in m.namedParameters() where !key.contains(".") {
                if key == "bias" { constant(p, 0) } else { normal(p, mean: isNorm ? 1 : 0, std: 0.02, rng: &rng) }
            }
        }
    }
}
