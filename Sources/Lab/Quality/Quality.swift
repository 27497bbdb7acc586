import Datasets
import Engine
import Formats
import Foundation

/// Judges generated images against real ones (issue: "Quality, measured"):
/// - jet images: distributions of jet mass / pT and constituent-pixel count estimated from the
///   image, and the pixel-intensity spectrum, compared by Wasserstein-1 distance with held-out real
///   jets, beside a trivial baseline (the mean real image plus noise) that a generator must beat;
/// - other images: FID and KID with the standard Inception network (`InceptionQuality.swift`) and a
///   memorisation check, each sample's distance to its nearest training image against the typical
///   nearest-neighbour distance between real images.
public enum Quality {
    /// The fewest examples in any sample a statistic here is computed on (the model's, the
    /// reference's, truth-vs-truth's): below it the estimates are noise, and the commands refuse.
    public static let minimumSample = 20
    public struct Report: Codable {
        public var kind: String
        public var samples: Int
        /// W1 distance to the real distribution, per observable: model and baseline.
        public var wasserstein: [String: Double] = [:]
        public var baselineWasserstein: [String: Double] = [:]
        public var nearestTrainingDistance: Double?
        public var realNearestNeighbourDistance: Double?
        /// The JetNet suite (jet images): per metric, the model's, truth vs truth and the baseline's
        /// distance to the held-out real jets.
        public var jetnet: [String: [String: JetNetMetrics.Value]]?
        /// Jets in each sample (model, real, truth, baseline).
        public var jetnetSamples: Int?
        /// Other images: FID and KID with the standard Inception network.
        public var inception: InceptionScores?

        public init(kind: String, samples: Int) {
            self.kind = kind
            self.samples = samples
        }
    }

    /// 1-D Wasserstein-1 distance between two samples (via their quantile functions).
    public static func wasserstein1(_ a: [Double], _ b: [Double]) -> Double {
        let x = a.sorted(), y = b.sorted()
        guard !x.isEmpty, !y.isEmpty else { return .nan }
        let n = 1000
        var d = 0.0
        for i in 0..<n {
            let q = (Double(i) + 0.5) / Double(n)
            d += abs(x[min(x.count - 1, Int(q * Double(x.count)))] - y[min(y.count - 1, Int(q * Double(y.count)))])
        }
        return d / Double(n)
    }

    /// The three jet spectra of a batch of jet images: mass/pT and pixel multiplicity per image
    /// (from pixels above 1 % of the hardest, `ObservableCatalogue.jetPixels`), and every non-zero
    /// pixel's share of its image's total (the pixel-intensity spectrum).
    public static func jetSpectra(_ t: Tensor, window: Double = 1.25) -> [String: [Double]] {
        let size = t.shape[2], per = size * size
        var out: [String: [Double]] = ["mass/pT": [], "pixel multiplicity": [], "pixel intensity": []]
        let p = t.storage.pointer
        for i in 0..<t.shape[0] {
            let img = p + i * per
            // Normalise each image to unit sum so the comparison is scale-free.
            var total: Float = 0
            for k in 0..<per { total += max(img[k], 0) }
            let o = ObservableCatalogue.jetPixels(size: size, window: window) { Double(img[$0]) }
            out["mass/pT"]!.append(o?.massOverPt ?? 0)
            out["pixel multiplicity"]!.append(Double(o?.kept.count ?? 0))
            for k in 0..<per where img[k] > 0 && total > 0 { out["pixel intensity"]!.append(Double(img[k] / total)) }
        }
        return out
    }

    /// The trivial baseline a generator must beat: the mean real image plus Gaussian noise of the
    /// real pixels' spread, clamped at 0.
    public static func jetBaseline(real: Tensor, count: Int, seed: UInt64) -> Tensor {
        var rng = PRNG(seed: seed)
        return noGrad { meanPlusNoise(real, count: count, rng: &rng).relu() }
    }

    /// `count` copies of the mean real image plus Gaussian noise of the real pixels' spread: the
    /// trivial baseline every generator is shown beside (unclamped; the caller clamps to its range).
    public static func meanPlusNoise(_ real: Tensor, count: Int, rng: inout PRNG) -> Tensor {
        let mean = real.mean(axes: [0], keepDims: true)
        let spread = (real - mean).pow(2).mean().item().squareRoot()
        let shape = [count] + Array(real.shape.dropFirst())
        return noGrad { mean.expand(shape) + Tensor.normal(shape, std: spread, rng: &rng) }
    }

    /// The W1 report and, per observable, a histogram of real, generated and baseline jets.
    public static func jetComparison(
        generated: Tensor, real: Tensor, window: Double = 1.25,
        seed: UInt64 = 0
    ) -> (report: Report, figures: [String: Plot]) {
        let baseline = jetBaseline(real: real, count: generated.shape[0], seed: seed)
        let r = jetSpectra(real, window: window), g = jetSpectra(generated, window: window),
            b = jetSpectra(baseline, window: window)
        var report = Report(kind: "jets", samples: generated.shape[0])
        var figures: [String: Plot] = [:]
        for k in r.keys {
            report.wasserstein[k] = wasserstein1(g[k]!, r[k]!)
            report.baselineWasserstein[k] = wasserstein1(b[k]!, r[k]!)
            // Intensities span five decades: histogram their log10.
            let isIntensity = k == "pixel intensity"
            let f: (Double) -> Double = isIntensity ? { log10(max($0, 1e-7)) } : { $0 }
            let range: (Double, Double) =
                isIntensity ? (-7, 0) : k == "mass/pT" ? (0, 1) : (0, (r[k]!.max() ?? 1) * 2 + 1)
            let label = k == "mass/pT" ? "m/p_{T}" : k
            var plot = Plot(
                title: String(
                    format: "%@: W_{1} model %.3g, baseline %.3g", label, report.wasserstein[k]!,
                    report.baselineWasserstein[k]!),
                xLabel: isIntensity ? "log_{10} (pixel p_{T} / jet p_{T})" : label, yLabel: "probability density")
            plot.ratioTo = "real (held out)"
            for (name, values) in [("real (held out)", r[k]!), ("generated", g[k]!), ("baseline", b[k]!)] {
                // Counted once: the density is count / (N · bin width), its Poisson error √count on that scale.
                let raw = histogram(values.map(f), bins: 40, range: range, density: false)
                let scale = values.isEmpty ? 1 : Double(values.count) * ((range.1 - range.0) / 40)
                plot.add(name, x: raw.edges, y: raw.counts.map { $0 / scale }, steps: true)
                plot.series[plot.series.count - 1].errors = raw.counts.map { $0.squareRoot() / scale }
            }
            figures[k] = plot
        }
        return (report, figures)
    }

    /// The JetNet suite for generated jets, for a second real sample (truth vs truth) and for the
    /// trivial baseline, each against the same held-out real jets: side → metric → value ± error.
    public static func jetNetSuite(
        generated: Tensor, real: Tensor, truth: Tensor, window: Double,
        seed: UInt64
    ) -> [String: [String: JetNetMetrics.Value]] {
        let baseline = jetBaseline(real: real, count: generated.shape[0], seed: seed)
        let reference = JetNetMetrics.features(images: real, window: window)
        var out: [String: [String: JetNetMetrics.Value]] = [:]
        for (side, images) in [("model", generated), ("truth", truth), ("baseline", baseline)] {
            out[side] = JetNetMetrics.distances(
                real: reference, sample: JetNetMetrics.features(images: images, window: window), seed: seed)
        }
        return out
    }

    /// report.html for a quality run: the W1 table, the JetNet suite with truth vs truth and the
    /// baseline, or the image Fréchet distance and the memorisation check.
    public static func writePage(_ r: Report, checkpoint: String, folder: String) throws {
        var page = RunReport(title: "GenLab generator quality — \(checkpoint)")
        if !r.wasserstein.isEmpty {
            page.table(
                "W1 to the held-out jets (model / baseline)",
                r.wasserstein.keys.sorted().map {
                    ($0, String(format: "%.5g / %.5g", r.wasserstein[$0]!, r.baselineWasserstein[$0] ?? .nan))
                })
        }
        if let suite = r.jetnet {
            page.table(
                "JetNet metrics, \(r.jetnetSamples ?? 0) jets a sample (model | truth vs truth | baseline)",
                JetNetMetrics.metricNames.map { m in
                    (
                        m,
                        ["model", "truth", "baseline"].map { side in
                            suite[side]?[m].map { String(format: "%.4g ± %.2g", $0.value, $0.error) } ?? "—"
                        }
                        .joined(separator: "   |   ")
                    )
                })
        }
        if let f = r.inception {
            page.table(
                "FID and KID with the standard Inception network (\(f.model.samples) images a sample, "
                    + "\(f.referenceSamples) reference images)",
                [("model", f.model), ("truth vs truth", f.truth), ("baseline (mean image + noise)", f.baseline)].map {
                    ($0.0, String(format: "FID %.4g   KID %.4g ± %.2g", $0.1.fid, $0.1.kid, $0.1.kidSpread))
                } + f.warnings.map { ("warning", $0) })
        }
        if let a = r.nearestTrainingDistance, let b = r.realNearestNeighbourDistance {
            page.table(
                "Memorisation",
                [
                    ("median distance of a sample to its nearest training image", String(format: "%.3f", a)),
                    ("median nearest-neighbour distance between training images", String(format: "%.3f", b)),
                ])
        }
        // Its own page: a training run's report.html in the same folder is never replaced.
        try page.write(folder: folder, name: "quality_report.html")
    }

    public static func memorisation(generated: Tensor, training: Tensor) -> Report {
        func nearest(_ x: Tensor, in set: Tensor, skipSelf: Bool) -> [Double] {
            let a = x.flatten(from: 1), b = set.flatten(from: 1)
            // ‖a − b‖² = ‖a‖² + ‖b‖² − 2a·b for all pairs at once.
            let d = noGrad {
                (a * a).sum(axes: [1], keepDims: true) + (b * b).sum(axes: [1]).reshape([1, -1]) - a.matmul(
                    b, transposeB: true) * 2
            }
            let n = a.shape[0], m = b.shape[0], p = d.storage.pointer
            return (0..<n).map { i in
                var best = Double.infinity
                for j in 0..<m where !(skipSelf && i == j) {
                    best = min(best, Double(max(p[i * m + j], 0)).squareRoot())
                }
                return best
            }
        }
        var report = Report(kind: "images", samples: generated.shape[0])
        let g = nearest(generated, in: training, skipSelf: false), r = nearest(training, in: training, skipSelf: true)
        report.nearestTrainingDistance = g.sorted()[g.count / 2]
        report.realNearestNeighbourDistance = r.sorted()[r.count / 2]
        return report
    }
}
