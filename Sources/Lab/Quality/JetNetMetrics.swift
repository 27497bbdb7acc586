import Engine
import Foundation
import Physics

/// The JetNet evaluation suite (Kansal et al. 2021, `jetnet.evaluation`), computed by GenLab on
/// jets given as particles (η_rel, φ_rel, pT_rel): W1 of the jet mass, of each particle feature
/// (zero padding excluded), of the five n = 4, d = 4 prime EFPs (W1-EFP, their mean), the Fréchet
/// physics distance FPD on all d ≤ 4 EFPs (each feature divided by its largest |x| on the real set,
/// the distance extrapolated to infinite samples by a linear fit in 1/N, with the fit's error) and
/// the kernel physics distance KPD (unbiased MMD² with jetnet's polynomial kernel (x·y/d + 1)⁴,
/// median ± half the 16–84 % interquartile range over batches). The W1s are, as in jetnet, the mean
/// and spread over `batches` draws (with replacement) of `samples` jets each. Jet images enter as their 30 hardest
/// pixels taken as massless particles at the pixel centres (JetNet's jets have 30 particles).
/// scripts/python/make_jetnet_fixtures.py makes the fixtures the tests compare with jetnet/energyflow.
public enum JetNetMetrics {
    public typealias Particle = (pt: Double, eta: Double, phi: Double)

    /// The JetNet features of a sample of jets.
    public struct Features {
        public var mass: [Double] = []
        /// Every real (non-padding) particle's η_rel, φ_rel and pT_rel, pooled over jets.
        public var eta: [Double] = [], phi: [Double] = [], pt: [Double] = []
        /// Per jet: the five n = 4, d = 4 prime EFPs, and all d ≤ 4 EFPs.
        public var efpW1: [[Double]] = [], efpFPD: [[Double]] = []
        /// Each jet's particles (for the per-draw pooling of the particle-feature W1s).
        public var particles: [[Particle]] = []
        public var count: Int { mass.count }
    }

    public typealias Value = Estimate

    /// The metrics' names, in the order jetnet's papers report them.
    public static let metricNames = ["W1 mass", "W1 eta_rel", "W1 phi_rel", "W1 pT_rel", "W1-EFP", "FPD", "KPD"]

    /// Every metric of `sample` against `real` (`samples` jets a draw, FPD from N/4 to N).
    public static func distances(real: Features, sample: Features, seed: UInt64 = 42) -> [String: Value] {
        let n = min(real.count, sample.count)
        var out: [String: Value] = [:]
        let m = batchedW1(jetsA: real.count, jetsB: sample.count, samples: n, seed: seed) { a, b in
            w1(a.map { real.mass[$0] }, b.map { sample.mass[$0] })
        }
        out["W1 mass"] = Value(value: m.value, error: m.error)
        for (k, name) in ["W1 eta_rel", "W1 phi_rel", "W1 pT_rel"].enumerated() {
            func feature(_ f: Features, _ jets: [Int]) -> [Double] {
                jets.flatMap { f.particles[$0].map { k == 0 ? $0.eta : k == 1 ? $0.phi : $0.pt } }
            }
            let r = batchedW1(jetsA: real.count, jetsB: sample.count, samples: n, seed: seed &+ UInt64(k + 1)) { a, b in
                w1(feature(real, a), feature(sample, b))
            }
            out[name] = Value(value: r.value, error: r.error)
        }
        let e = batchedW1(jetsA: real.count, jetsB: sample.count, samples: n, seed: seed &+ 9) { a, b in
            (0..<w1Polynomials.count).map { k in w1(a.map { real.efpW1[$0][k] }, b.map { sample.efpW1[$0][k] }) }
                .reduce(0, +)
                / Double(w1Polynomials.count)
        }
        out["W1-EFP"] = Value(value: e.value, error: e.error)
        let f = fpd(real: real.efpFPD, gen: sample.efpFPD, minSamples: max(n / 4, 20), maxSamples: n, seed: seed)
        out["FPD"] = Value(value: f.value, error: f.error)
        // Half the sample a batch, at most 2 500 (MMD costs the square of it; jetnet uses 5 000 of 50 000).
        let k = kpd(real: real.efpFPD, gen: sample.efpFPD, batchSize: min(max(n / 2, 20), 2500), seed: seed)
        out["KPD"] = Value(value: k.value, error: k.error)
        return out
    }

    /// The features of jet images (the `particlesPerJet` hardest pixels of each as particles).
    public static func features(images: Tensor, window: Double, particlesPerJet: Int = 30) -> Features {
        let size = images.shape[2], per = size * size, p = images.storage.pointer
        return features(
            (0..<images.shape[0]).map {
                particles(image: p + $0 * per, size: size, window: window, count: particlesPerJet)
            })
    }

    public static let w1Polynomials = EnergyFlow.polynomials(maxDegree: 4).filter {
        $0.isPrime && $0.degree == 4 && $0.vertices == 4
    }
    /// The FPD/KPD features, as `jetnet.utils.efps(…, [("d<=", 4)])`: the constant degree-0 EFP
    /// (it sets the kernel's 1/d) and every EFP of degree 1…4, prime and composite: 36.
    public static let fpdPolynomials = [EnergyFlow.Polynomial(factors: [])] + EnergyFlow.polynomials(maxDegree: 4)

    /// A jet image's `count` hardest pixels as particles (pT_rel = share of their sum).
    public static func particles(image: UnsafePointer<Float>, size: Int, window: Double, count: Int = 30) -> [Particle]
    {
        let step = 2 * window / Double(size)
        let lit = (0..<(size * size)).filter { image[$0] > 0 && image[$0].isFinite }
            .sorted { image[$0] > image[$1] || (image[$0] == image[$1] && $0 < $1) }.prefix(count)
        let total = lit.reduce(0.0) { $0 + Double(image[$1]) }
        guard total > 0 else { return [] }
        return lit.map { k in
            (
                Double(image[k]) / total, -window + (Double(k % size) + 0.5) * step,
                -window + (Double(k / size) + 0.5) * step
            )
        }
    }

    /// The mass of a jet of massless particles (as jetnet.utils.jet_features computes it).
    public static func mass(_ p: [Particle]) -> Double {
        var px = 0.0, py = 0.0, pz = 0.0, e = 0.0
        for q in p {
            px += q.pt * cos(q.phi); py += q.pt * sin(q.phi); pz += q.pt * sinh(q.eta); e += q.pt * cosh(q.eta)
        }
        return max(e * e - px * px - py * py - pz * pz, 0).squareRoot()
    }

    public static func features(_ jets: [[Particle]]) -> Features {
        var f = Features()
        f.particles = jets
        for p in jets {
            f.mass.append(mass(p))
            for q in p { f.eta.append(q.eta); f.phi.append(q.phi); f.pt.append(q.pt) }
        }
        let asY = jets.map { $0.map { (pt: $0.pt, y: $0.eta, phi: $0.phi) } }
        var w1 = [[Double]](repeating: [], count: jets.count), fpd = w1
        asY.withUnsafeBufferPointer { input in
            w1.withUnsafeMutableBufferPointer { out1 in
                fpd.withUnsafeMutableBufferPointer { out2 in
                    parallelFor(jets.count, grain: 8) { r in
                        for i in r {
                            // The W1 set is a subset of the FPD set: one evaluation serves both.
                            let all = EnergyFlow.values(fpdPolynomials, particles: input[i])
                            out2[i] = all
                            out1[i] = w1Polynomials.map { all[fpdPolynomials.firstIndex(of: $0)!] }
                        }
                    }
                }
            }
        }
        f.efpW1 = w1; f.efpFPD = fpd
        return f
    }

    // MARK: Distances

    /// The exact 1-D Wasserstein-1 distance, ∫ |F_a − F_b| (scipy.stats.wasserstein_distance).
    public static func w1(_ a: [Double], _ b: [Double]) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return .nan }
        let x = a.sorted(), y = b.sorted()
        var i = 0, j = 0, previous = min(x[0], y[0]), distance = 0.0
        while i < x.count || j < y.count {
            let next = j >= y.count || (i < x.count && x[i] <= y[j]) ? x[i] : y[j]
            distance += abs(Double(i) / Double(x.count) - Double(j) / Double(y.count)) * (next - previous)
            previous = next
            while i < x.count && x[i] == next { i += 1 }
            while j < y.count && y[j] == next { j += 1 }
        }
        return distance
    }

    /// The Fréchet distance between Gaussians fitted to two samples of vectors:
    /// |μ₁ − μ₂|² + tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½).
    public static func frechet(_ x: [[Double]], _ y: [[Double]]) -> Double {
        guard x.count >= 2, y.count >= 2, x[0].count == y[0].count else { return .nan }
        return FrechetDistance.distance(x.flatMap { $0 }, y.flatMap { $0 }, dimension: x[0].count)
    }

    /// Unbiased MMD² with the kernel (x·y/d + 1)⁴.
    public static func mmd(_ x: [[Double]], _ y: [[Double]]) -> Double {
        guard x.count >= 2, y.count >= 2 else { return .nan }
        return FrechetDistance.mmd(x.flatMap { $0 }, y.flatMap { $0 }, dimension: x[0].count, degree: 4)
    }

    /// Each feature divided by its largest |value| on the real set (jetnet's normalise=True).
    public static func normalised(_ real: [[Double]], _ gen: [[Double]]) -> ([[Double]], [[Double]]) {
        let d = real[0].count
        let scale = (0..<d).map { k in max(real.map { abs($0[k]) }.max() ?? 1, 1e-300) }
        let f: ([Double]) -> [Double] = { row in (0..<d).map { row[$0] / scale[$0] } }
        return (real.map(f), gen.map(f))
    }

    /// FPD: the Fréchet distance at `points` sample sizes from `minSamples` to `maxSamples`, evenly
    /// spaced in 1/N (`batches` draws with replacement each), fitted linearly in 1/N and read at
    /// 1/N = 0, with the fit's error.
    public static func fpd(
        real: [[Double]], gen: [[Double]], minSamples: Int, maxSamples: Int, points: Int = 10, batches: Int = 20,
        seed: UInt64 = 42
    ) -> (value: Double, error: Double) {
        let (x, y) = normalised(real, gen)
        var rng = PRNG(seed: seed)
        var inverse: [Double] = [], values: [Double] = []
        for k in 0..<points {
            let t = Double(k) / Double(max(points - 1, 1))
            let n = Int(1 / (1 / Double(minSamples) + t * (1 / Double(maxSamples) - 1 / Double(minSamples))))
            var total = 0.0
            for _ in 0..<batches {
                total += frechet(
                    (0..<n).map { _ in x[rng.nextInt(x.count)] }, (0..<n).map { _ in y[rng.nextInt(y.count)] })
            }
            inverse.append(1 / Double(n)); values.append(total / Double(batches))
        }
        return linearIntercept(inverse, values)
    }

    /// KPD: MMD² over `batches` batches of `batchSize` drawn with replacement: the median and half
    /// the 16.275–83.725 % range (jetnet's error).
    public static func kpd(
        real: [[Double]], gen: [[Double]], batchSize: Int, batches: Int = 10, seed: UInt64 = 42
    ) -> (value: Double, error: Double) {
        let (x, y) = normalised(real, gen)
        var rng = PRNG(seed: seed)
        let values = (0..<batches).map { _ -> Double in
            mmd(
                (0..<batchSize).map { _ in x[rng.nextInt(x.count)] },
                (0..<batchSize).map { _ in y[rng.nextInt(y.count)] })
        }.sorted()
        func quantile(_ q: Double) -> Double {
            let pos = q * Double(values.count - 1), lo = Int(pos.rounded(.down)), hi = min(lo + 1, values.count - 1)
            return values[lo] + (values[hi] - values[lo]) * (pos - Double(lo))
        }
        return (quantile(0.5), (quantile(0.83725) - quantile(0.16275)) / 2)
    }

    /// jetnet's W1 of a per-jet quantity: the mean and spread (population std) over `batches`
    /// draws of `samples` jets with replacement from each side; `w1s` gives the distances of one
    /// draw (several features at once: their W1s are averaged, as w1efp does).
    public static func batchedW1(
        jetsA: Int, jetsB: Int, samples: Int, batches: Int = 5, seed: UInt64 = 42,
        _ w1s: ([Int], [Int]) -> Double
    ) -> (value: Double, error: Double) {
        var rng = PRNG(seed: seed)
        let draws = (0..<batches).map { _ in
            w1s((0..<samples).map { _ in rng.nextInt(jetsA) }, (0..<samples).map { _ in rng.nextInt(jetsB) })
        }
        let mean = draws.reduce(0, +) / Double(batches)
        return (mean, (draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(batches)).squareRoot())
    }

    /// Ordinary least squares y = a + b x: the intercept a and its standard error.
    static func linearIntercept(_ x: [Double], _ y: [Double]) -> (Double, Double) {
        let n = Double(x.count), mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        let sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        let sxy = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let b = sxx > 0 ? sxy / sxx : 0, a = my - b * mx
        let residual = zip(x, y).reduce(0) { $0 + pow($1.1 - a - b * $1.0, 2) }
        let sigma2 = n > 2 ? residual / (n - 2) : 0
        return (a, (sigma2 * (1 / n + mx * mx / max(sxx, 1e-300))).squareRoot())
    }
}
