import Engine
import Lab
import Models
import NN

/// Training throughput on the reference workloads of issue 6; scripts/python/bench_models_torch.py
/// builds the same architectures in PyTorch and reports the same names.
///
/// Each workload is built by its own factory, so a fresh process can run exactly one (`genlab
/// bench models` runs every workload in a child process of its own, interleaved with PyTorch's),
/// and its memory — the peak resident size while it is built and trained, over the resident size
/// just before — is not muddied by buffers another workload left behind.
public enum ModelBenchmark {
    /// The workloads' names, in the order they run.
    public static let names = [
        "mlp vae 784-400-20 b128", "dcgan 32x32 b64 (D+G step)", "conv vae 32x32 b128",
        "coordinate mlp 2-64-64-64-1 on 64x64", "dcgan 64x64x3 b64 (D+G step)",
        "jet ae scoring 25x25 b1024 (forward + mse)", "decoy fits 32x 2-32-32-1 on 32x32 (300 steps)",
        "conditional maf 4-d 6x(64,64) b256",
    ]

    /// Measures the named workloads (all by default) in this process.
    public static func run(
        quick: Bool = false, only: [String]? = nil, progress: (String) -> Void = { _ in }
    ) -> [BenchResult] {
        let minTime = quick ? 0.3 : 2.0
        return (only ?? names).map { name in
            progress(name)
            ProcessMemory.resetPeak()
            let before = ProcessMemory.resident()
            let body = workload(name)
            let s = Measure.secondsPerCall(minBatchTime: minTime / 5, batches: 5, body)
            var r = BenchResult(name: name, unit: "steps/s", value: 1 / s, higherIsBetter: true)
            if let before, let peak = ProcessMemory.peak() { r.memoryMB = Double(max(peak - before, 0)) / 1_048_576 }
            return r
        }
    }

    /// One training step of the named workload, with its model, optimiser and data built.
    // Long: one case per benchmark workload, each a few lines.
    static func workload(_ name: String) -> () -> Void {
        var rng = PRNG(seed: 0)
        switch name {
        case names[0]:
            let mlp = VAE(
                VAE.Config(imageSize: 28, channels: 1, latentDim: 20, architecture: .mlp, hidden: [400]), rng: &rng)
            return vaeStep(mlp, batch: 128, size: 28, rng: &rng)
        case names[1]:
            let gan = DCGAN(
                DCGAN.Config(
                    imageSize: 32, channels: 1, latentDim: 100, generatorFeatures: 64, discriminatorFeatures: 64,
                    output: .tanh, minibatchStd: false), rng: &rng)
            return ganStep(gan, real: Tensor.uniform([64, 1, 32, 32], low: -1, high: 1, rng: &rng), rng: &rng)
        case names[2]:
            let conv = VAE(
                VAE.Config(imageSize: 32, channels: 1, latentDim: 16, architecture: .conv, hidden: [32, 64]), rng: &rng)
            return vaeStep(conv, batch: 128, size: 32, rng: &rng)
        case names[3]:
            let net = Sequential([
                Linear(2, 64, rng: &rng), ReLU(), Linear(64, 64, rng: &rng), ReLU(), Linear(64, 64, rng: &rng), ReLU(),
                Linear(64, 1, rng: &rng),
            ])
            var grid: [Float] = []
            for i in 0..<4096 {
                grid.append(Float(i % 64) / 32 - 1)
                grid.append(Float(i / 64) / 32 - 1)
            }
            let coords = Tensor(shape: [4096, 2], data: grid)
            let target = Tensor.uniform([4096, 1], rng: &rng)
            let opt = Adam(net.namedParameters(), lr: 1e-3)
            return {
                let loss = Loss.mse(net(coords), target)
                opt.zeroGrad(); loss.backward(); opt.step()
            }
        case names[4]:
            // The face case: three colours at 64 × 64.
            let gan = DCGAN(
                DCGAN.Config(
                    imageSize: 64, channels: 3, latentDim: 100, generatorFeatures: 64, discriminatorFeatures: 64,
                    output: .tanh, minibatchStd: false), rng: &rng)
            return ganStep(gan, real: Tensor.uniform([64, 3, 64, 64], low: -1, high: 1, rng: &rng), rng: &rng)
        case names[5]:
            // What `genlab score` runs per chunk of events: the jet autoencoder's μ, decoded, and the per-event MSE.
            let ae = VAE(
                VAE.Config(
                    imageSize: 25, channels: 1, latentDim: 8, architecture: .conv, hidden: [32, 64],
                    likelihood: .gaussian, plain: true), rng: &rng)
            let x = Tensor.uniform([1024, 1, 25, 25], rng: &rng)
            return {
                noGrad {
                    let d = ae.decode(ae.encode(x).mu) - x
                    _ = (d * d).mean(axes: [1, 2, 3])
                }
            }
        case names[6]:
            // One unit of work is a batch of 32 whole decoy fits (the symmetry detector's batch).
            var pixels: [Float] = []
            for b in 0..<32 {
                for r in 0..<32 {
                    for c in 0..<32 {
                        let x = Float(c) - 15.5 + Float(b % 5), y = Float(r) - 15.5
                        pixels.append(x * x + 2 * y * y < 120 ? 1 : 0)
                    }
                }
            }
            let targets = Tensor(shape: [32, 1024], data: pixels)
            return {
                var r = PRNG(seed: 1)
                DecoyNet(count: 32, rng: &r).fit(targets, size: 32)
            }
        case names[7]:
            // One step of `train flow` / the hunt's side-band flow: 4 features given m_jj.
            var c = ConditionalFlow.Config(features: 4, contextFeatures: 1)
            c.blocks = 6; c.hiddenFeatures = 64; c.hiddenLayers = 2
            let flow = ConditionalFlow(c, rng: &rng)
            let x = Tensor.uniform([256, 4], rng: &rng), m = Tensor.uniform([256, 1], low: 2.5, high: 5, rng: &rng)
            flow.fitScaling(features: x, context: m)
            let opt = Adam(flow.namedParameters(), lr: 1e-3)
            return {
                let loss = flow.logProbability(x, context: m).mean() * -1
                opt.zeroGrad(); loss.backward(); opt.step()
            }
        default:
            preconditionFailure("ModelBenchmark: unknown workload \(name); known: \(names)")
        }
    }

    /// One discriminator and one generator step of the non-saturating GAN loss on `real`, as
    /// `GANTask` takes them.
    static func ganStep(_ gan: DCGAN, real: Tensor, rng: inout PRNG) -> () -> Void {
        let optG = Adam(gan.generator.namedParameters(), lr: 2e-4, betas: (0.5, 0.999))
        let optD = Adam(gan.discriminator.namedParameters(), lr: 2e-4, betas: (0.5, 0.999))
        let b = real.shape[0]
        var noise = rng.fork(9)
        return {
            let z = Tensor.normal([b, 100], rng: &noise)
            let fake = gan.generator(z)
            let lossD =
                Loss.bceWithLogits(gan.discriminator(real), Tensor.ones([b]))
                + Loss.bceWithLogits(gan.discriminator(fake.detach()), Tensor.zeros([b]))
            optD.zeroGrad(); lossD.backward(); optD.step()
            // As `genlab train gan` (and PyTorch's twin): the generator's step through a frozen discriminator.
            gan.discriminator.frozen {
                let lossG = Loss.bceWithLogits(gan.discriminator(fake), Tensor.ones([b]))
                optG.zeroGrad(); lossG.backward()
            }
            optG.step()
        }
    }

    static func vaeStep(_ vae: VAE, batch: Int, size: Int, rng: inout PRNG) -> () -> Void {
        let x = Tensor.uniform([batch, 1, size, size], rng: &rng)
        let opt = Adam(vae.namedParameters(), lr: 1e-3)
        var noise = rng.fork(7)
        return {
            let t = vae.terms(x, rng: &noise)
            let loss = (t.reconstruction + t.kl).mean()
            opt.zeroGrad(); loss.backward(); opt.step()
        }
    }
}
