import Engine
import Foundation
import Formats

/// Judges generated images against real ones (issue: "Quality, measured"):
/// - jet images: distributions of jet mass / pT and constituent-pixel count estimated from the
///   image, and the pixel-intensity spectrum, compared by Wasserstein-1 distance with held-out real
///   jets, beside a trivial baseline (the mean real image plus noise) that a generator must beat;
/// - other images: a memorisation check, each sample's distance to its nearest training image
///   against the typical nearest-neighbour distance between real images.
public enum Quality {
    public struct Report: Codable {
        public var kind: String
        public var samples: Int
        /// W1 distance to the real distribution, per observable: model and baseline.
        public var wasserstein: [String: Double] = [:]
        public var baselineWasserstein: [String: Double] = [:]
        public var nearestTrainingDistance: Double?
        public var realNearestNeighbourDistance: Double?
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

    public static func jets(generated: Tensor, real: Tensor, window: Double = 1.25, seed: UInt64 = 0) -> Report {
        let size = real.shape[2], per = size * size
        // The baseline: the mean real image plus Gaussian noise of the real pixels' spread, clamped at 0.
        var rng = PRNG(seed: seed)
        let mean = real.mean(axes: [0], keepDims: true)
        let spread = (real - mean).pow(2).mean().item().squareRoot()
        let baseline = noGrad { (mean.expand(generated.shape) + Tensor.normal(generated.shape, std: spread, rng: &rng)).relu() }
        func stats(_ t: Tensor) -> [String: [Double]] {
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
        let r = stats(real), g = stats(generated), b = stats(baseline)
        var report = Report(kind: "jets", samples: generated.shape[0])
        for k in r.keys {
            report.wasserstein[k] = wasserstein1(g[k]!, r[k]!)
            report.baselineWasserstein[k] = wasserstein1(b[k]!, r[k]!)
        }
        return report
    }

    public static func memorisation(generated: Tensor, training: Tensor) -> Report {
        func nearest(_ x: Tensor, in set: Tensor, skipSelf: Bool) -> [Double] {
            let a = x.flatten(from: 1), b = set.flatten(from: 1)
            // ‖a − b‖² = ‖a‖² + ‖b‖² − 2a·b for all pairs at once.
            let d = noGrad { (a * a).sum(axes: [1], keepDims: true) + (b * b).sum(axes: [1]).reshape([1, -1]) - a.matmul(b, transposeB: true) * 2 }
            let n = a.shape[0], m = b.shape[0], p = d.storage.pointer
            return (0..<n).map { i in
                var best = Double.infinity
                for j in 0..<m where !(skipSelf && i == j) { best = min(best, Double(max(p[i * m + j], 0)).squareRoot()) }
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
