import Foundation

/// One benchmark figure. `higherIsBetter` decides which way the PyTorch ratio is taken, so that a
/// ratio above 1 always means GenLab is faster.
public struct BenchResult: Codable, Sendable {
    public var name: String
    public var unit: String
    public var value: Double
    public var higherIsBetter: Bool
    /// PyTorch's figure for the same workload, measured in the same run, when asked for.
    public var torch: Double?
    /// PyTorch with `torch.compile`, when asked for and when it compiles here.
    public var torchCompiled: Double?
    /// JAX with `jax.jit`, for workloads that have a JAX twin (`scripts/python/bench_models_jax.py`).
    public var jax: Double?
    /// Memory the workload took (peak resident size over the size before it), MiB, both sides.
    public var memoryMB: Double?
    public var torchMemoryMB: Double?
    /// GenLab ÷ PyTorch speed in each interleaved round (its spread shows the machine's noise).
    public var roundRatios: [Double]?

    public init(name: String, unit: String, value: Double, higherIsBetter: Bool, torch: Double? = nil) {
        self.name = name; self.unit = unit; self.value = value; self.higherIsBetter = higherIsBetter; self.torch = torch
    }

    /// GenLab's speed over PyTorch's (> 1: GenLab is faster).
    public var speedRatio: Double? {
        guard let torch, torch > 0, value > 0 else { return nil }
        return higherIsBetter ? value / torch : torch / value
    }
}

/// Wall-clock timing: warm up, then the fastest of several timed batches, in seconds per call —
/// on a shared machine interference only ever adds time, so the minimum is the stablest estimate.
public enum Measure {
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Seconds per call of `body`: the fastest of `batches` batches, each at least `minBatchTime` long.
    public static func secondsPerCall(minBatchTime: Double = 0.1, batches: Int = 5, _ body: () -> Void) -> Double {
        // Warm-up, and a first estimate of the cost of one call.
        let t0 = now()
        body()
        var perBatch = 1
        let once = max(now() - t0, 1e-7)
        perBatch = max(1, Int(minBatchTime / once))
        var times: [Double] = []
        for _ in 0..<batches {
            let start = now()
            for _ in 0..<perBatch { body() }
            times.append((now() - start) / Double(perBatch))
        }
        return times.min()!
    }
}
