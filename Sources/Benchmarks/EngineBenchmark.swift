import Engine
import Foundation

/// The engine's reference workloads (issue: "Fast, measured side by side"). The PyTorch script
/// `scripts/python/bench_engine_torch.py` measures the same names with the same sizes.
public enum EngineBenchmark {
    // Long: the engine suite: one timed block per row of its table.
    public static func run(quick: Bool = false, progress: (String) -> Void = { _ in }) -> [BenchResult] {
        var rng = PRNG(seed: 0)
        var results: [BenchResult] = []
        let minTime = quick ? 0.02 : 0.15

        for n in [256, 1024] {
            progress("sgemm \(n)³")
            let a = Tensor.uniform([n, n], rng: &rng), b = Tensor.uniform([n, n], rng: &rng)
            let s = Measure.secondsPerCall(minBatchTime: minTime) { _ = a.matmul(b) }
            results.append(
                BenchResult(name: "sgemm \(n)", unit: "GFLOP/s", value: 2 * pow3(n) / s / 1e9, higherIsBetter: true))
        }

        // A DCGAN discriminator layer: batch 64, 64→128 channels, 16×16, 4×4 kernel, stride 2, padding 1.
        progress("conv2d")
        let x = Tensor.uniform([64, 64, 16, 16], low: -1, high: 1, rng: &rng, requiresGrad: true)
        let w = Tensor.uniform([128, 64, 4, 4], low: -0.1, high: 0.1, rng: &rng, requiresGrad: true)
        let convFlops = 2.0 * 64 * 128 * 8 * 8 * 64 * 16
        // The output read row-major, as PyTorch returns it (a convolution may leave it blocked for
        // a next layer; a lone one pays the rearrangement like PyTorch's).
        let forward = Measure.secondsPerCall(minBatchTime: minTime) {
            _ = noGrad { x.conv2d(w, stride: (2, 2), padding: (1, 1)) }.storage
        }
        let both = Measure.secondsPerCall(minBatchTime: minTime) {
            x.zeroGrad(); w.zeroGrad()
            x.conv2d(w, stride: (2, 2), padding: (1, 1)).sum().backward()
        }
        results.append(
            BenchResult(name: "conv2d forward", unit: "GFLOP/s", value: convFlops / forward / 1e9, higherIsBetter: true)
        )
        // Backward computes dX and dW: twice the forward's multiply-adds.
        results.append(
            BenchResult(
                name: "conv2d forward+backward", unit: "GFLOP/s", value: 3 * convFlops / both / 1e9,
                higherIsBetter: true))

        for n in [1 << 20, 1 << 24] {
            progress("elementwise \(n)")
            let a = Tensor.uniform([n], rng: &rng), b = Tensor.uniform([n], rng: &rng)
            let s = Measure.secondsPerCall(minBatchTime: minTime) { _ = a + b }
            // Two reads and one write of n floats.
            results.append(
                BenchResult(
                    name: "add \(n >> 20)M", unit: "GB/s", value: 12 * Double(n) / s / 1e9, higherIsBetter: true))
        }

        progress("tiny ops")
        let t1 = Tensor.uniform([4], rng: &rng), t2 = Tensor.uniform([4], rng: &rng)
        let tiny = Measure.secondsPerCall(minBatchTime: minTime) { _ = t1 + t2 }
        results.append(BenchResult(name: "tiny op", unit: "µs/op", value: tiny * 1e6, higherIsBetter: false))
        let g1 = Tensor.uniform([4], rng: &rng, requiresGrad: true)
        let tinyGrad = Measure.secondsPerCall(minBatchTime: minTime) { _ = g1 + t2 }
        results.append(
            BenchResult(name: "tiny op, recorded", unit: "µs/op", value: tinyGrad * 1e6, higherIsBetter: false))

        // The thread pool: how long an empty job takes to reach every thread and come back, and
        // what the workers cost while nothing runs (they spin briefly after a job, then sleep).
        progress("thread pool")
        let handOff = Measure.secondsPerCall(minBatchTime: minTime) { parallelFor(Threads.count, grain: 1) { _ in } }
        results.append(
            BenchResult(name: "pool hand-off, empty job", unit: "µs/op", value: handOff * 1e6, higherIsBetter: false))
        parallelFor(Threads.count, grain: 1) { _ in }
        let idle = quick ? 0.2 : 1.0
        let cpuBefore = ProcessMemory.cpuSeconds()
        Thread.sleep(forTimeInterval: idle)
        let cpuAfter = ProcessMemory.cpuSeconds()
        results.append(
            BenchResult(
                name: "pool idle CPU after a job", unit: "ms CPU/s", value: (cpuAfter - cpuBefore) / idle * 1e3,
                higherIsBetter: false))
        return results
    }

    private static func pow3(_ n: Int) -> Double { Double(n) * Double(n) * Double(n) }
}
