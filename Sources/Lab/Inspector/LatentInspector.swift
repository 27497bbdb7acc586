import Cluster
import Datasets
import Engine
import Formats
import Foundation
import Models
import NN

/// `genlab inspect`: which latent neuron of a trained VAE (or autoencoder) carries which concept.
///
/// 1. Encodes the data and measures each latent dimension: mean and spread of μ over the data,
///    mean posterior σ, and its KL contribution ½(μ² + σ² − 1 − log σ²) averaged over the data.
/// 2. Splits the dimensions into active and passive ones (`activeRule`) and ranks the active ones.
/// 3. Correlates every active dimension's μ with every observable (`ObservableCatalogue`):
///    Pearson, Spearman, binned mutual information; names the best neuron for each observable.
/// 4. Traverses the top dimensions (decodes while sweeping one from −3 to +3 spreads with the others
///    at the data mean) and measures the image observables along the sweep.
public final class LatentInspector {
    public struct Options: Sendable {
        /// Observables to correlate (nil: all that the data allow).
        public var observables: [String]?
        /// At most this many examples from each data file (nil: all).
        public var limit: Int? = 2000
        /// How many of the top active dimensions to traverse.
        public var traversed = 4
        /// Points along each traversal, from −range to +range spreads.
        public var steps = 9
        public var range = 3.0
        /// Equal-frequency bins per axis for the mutual information.
        public var bins = 16
        public init() {}
    }

    public struct Dimension: Codable, Sendable {
        public var index: Int
        public var muMean: Double
        public var muStd: Double
        /// Mean posterior σ and KL contribution (nats); nil for a plain autoencoder.
        public var meanSigma: Double?
        public var kl: Double?
        /// What the dimension tells about the input, ½ ln(1 + Var_x μ / E_x σ²) nats (the capacity
        /// of a Gaussian channel with that signal and noise); nil for a plain autoencoder.
        public var information: Double?
        public var active: Bool
        /// 1 for the most active dimension; nil for passive ones.
        public var rank: Int?

        public init(
            index: Int, muMean: Double, muStd: Double, meanSigma: Double? = nil, kl: Double? = nil,
            information: Double? = nil,
            active: Bool, rank: Int? = nil
        ) {
            self.index = index; self.muMean = muMean; self.muStd = muStd; self.meanSigma = meanSigma; self.kl = kl
            self.information = information; self.active = active; self.rank = rank
        }
    }

    public struct Dependence: Codable, Sendable {
        public var dimension: Int
        public var observable: String
        public var pearson: Double
        public var spearman: Double
        /// Nats.
        public var mutualInformation: Double
    }

    public struct Report: Codable, Sendable {
        public var checkpoint: String
        public var kind: ModelKind
        public var data: [String]
        public var samples: Int
        public var latentDim: Int
        public var activeRule: String
        public var rankedBy: String
        public var dimensions: [Dimension]
        /// Active dimensions, most active first.
        public var active: [Int]
        public var passive: [Int]
        /// Every (active dimension, observable) pair, strongest |Spearman ρ| first.
        public var dependences: [Dependence]
        /// The dimension with the largest |Spearman ρ| for each observable.
        public var best: [String: Dependence]
        public var traversed: [Int]
    }

    /// The encoded data and the observables of each example.
    public struct Encoded {
        public var mu: [[Double]]  // [dimension][example]
        public var sigma: [[Double]]?  // nil for a plain autoencoder
        public var observables: [String: [Double]]
        public var count: Int { mu.first?.count ?? 0 }

        public init(mu: [[Double]], sigma: [[Double]]?, observables: [String: [Double]]) {
            self.mu = mu; self.sigma = sigma; self.observables = observables
        }
    }

    public let model: VAE
    public let spec: DataSpec
    public let checkpoint: String

    public init(checkpoint: String) throws {
        let loaded = try LoadedModel.load(checkpoint)
        try loaded.requireUnconditional(checkpoint, for: "genlab inspect")
        guard case let .vae(vae, spec) = loaded else {
            throw FormatError(
                checkpoint, "holds a GAN, which has no encoder; `genlab inspect` needs a vae or ae checkpoint")
        }
        model = vae; self.spec = spec; self.checkpoint = checkpoint
    }

    /// Over a VAE/AE already loaded from `checkpoint` (the explorer's: one load, not two).
    public init(model: VAE, spec: DataSpec, checkpoint: String) {
        self.model = model; self.spec = spec; self.checkpoint = checkpoint
    }

    public var kind: ModelKind { model.config.plain ? .ae : .vae }

    /// The observables `data` allows for this model: the image observables, plus mass and pT when
    /// every file has `/jets`, plus the label when the labels take both values.
    /// Under mpirun each rank encodes its share of every file's batches, and every rank gets all
    /// of them (the same batches of 256 as one process, so the same digits).
    // Long: checks each file against the model, then encodes it in shared chunks (under mpirun).
    public func encode(
        _ data: [String], observables requested: [String]?, limit: Int?, cluster: Cluster = .world
    ) throws -> Encoded {
        guard !data.isEmpty else { throw FormatError("--data", "no data files given") }
        let imageNames = ObservableCatalogue.imageObservables(for: spec)
        var mu = [[Double]](repeating: [], count: model.config.latentDim), sigma = mu
        var values: [String: [Double]] = [:]
        var labels: [Int?] = []
        var jetsEverywhere = true
        for path in data {
            var set = try ModelInputs.images(path, spec: spec, limit: limit)
            try ModelInputs.checkMatches(set, path: path, spec: spec)
            set = try ModelInputs.usable(set, path: path, purpose: "the latent inspector")
            set = set.scaled(spec.scaling)
            let n = set.count, d = model.config.latentDim
            let batches = cluster.share(of: (n + 255) / 256)
            var fileMu = [[Double]](repeating: [], count: d), fileSigma = fileMu
            for start in stride(from: batches.lowerBound * 256, to: min(n, batches.upperBound * 256), by: 256) {
                let x = set.images.slice(axis: 0, start: start, end: min(n, start + 256)).detach()
                let (m, lv) = noGrad { model.encode(x) }
                let rows = x.shape[0]
                // An autoencoder has no posterior width: its sigma is left out of the result below.
                let mp = m.storage.pointer, lp = lv?.storage.pointer
                for j in 0..<d {
                    for i in 0..<rows {
                        fileMu[j].append(Double(mp[i * d + j]))
                        fileSigma[j].append(lp.map { Foundation.exp(0.5 * Double($0[i * d + j])) } ?? 0)
                    }
                }
            }
            if cluster.isDistributed { (fileMu, fileSigma) = try Self.allGather(fileMu, fileSigma, cluster) }
            for j in 0..<d { mu[j] += fileMu[j]; sigma[j] += fileSigma[j] }
            for (k, v) in ObservableCatalogue.compute(imageNames, images: set.images, spec: spec) {
                values[k, default: []] += v
            }
            let jets = try Self.jetColumns(path, count: n)
            jetsEverywhere = jetsEverywhere && jets != nil
            values["mass", default: []] += jets?.mass ?? Array(repeating: .nan, count: n)
            values["pt", default: []] += jets?.pt ?? Array(repeating: .nan, count: n)
            labels += set.labels.map { $0.map(Optional.some) } ?? Array(repeating: nil, count: n)
        }
        values["label"] = labels.map { $0.map(Double.init) ?? .nan }
        var available = imageNames
        if jetsEverywhere { available += ["mass", "pt"] }
        if Set(labels.compactMap { $0 }).count >= 2 { available.append("label") }
        let names = requested ?? available
        for name in names where !available.contains(name) {
            let why =
                ObservableCatalogue.fileNames.contains(name)
                ? (name == "label"
                    ? "needs labels of both classes in the data files"
                    : "needs a /jets dataset (pT, η, φ, m) in every data file")
                : "is not an observable of this model's data"
            throw FormatError(name, "observable \(why); available: \(available.joined(separator: ", "))")
        }
        return Encoded(
            mu: mu, sigma: model.config.plain ? nil : sigma, observables: values.filter { names.contains($0.key) })
    }

    /// Mass and pT from an HDF5 file's `/jets` (pT, η, φ, m), when it has one.
    static func jetColumns(_ path: String, count: Int) throws -> (mass: [Double], pt: [Double])? {
        guard (try? FileKind.detect(path)) == .hdf5 else { return nil }
        let file = try HDF5File(path)
        guard file.contains("/jets") else { return nil }
        let shape = try file.shape("/jets")
        guard shape.count == 2, shape[1] >= 4, shape[0] >= count else {
            throw FormatError(path, "/jets has shape \(shape), expected (N ≥ \(count), 4) of (pT, η, φ, m)")
        }
        let j = try file.readRows("/jets", 0, count), p = j.storage.pointer, w = shape[1]
        return ((0..<count).map { Double(p[$0 * w + 3]) }, (0..<count).map { Double(p[$0 * w]) })
    }

    /// The per-dimension measures and the active/passive split, with the rule in words.
    public static func dimensions(_ e: Encoded) -> (dimensions: [Dimension], rule: String, rankedBy: String) {
        var dims: [Dimension] = e.mu.indices.map { j in
            let (m, s) = Statistics.meanAndSpread(e.mu[j])
            var d = Dimension(index: j, muMean: m, muStd: s, active: false)
            if let sigma = e.sigma {
                d.meanSigma = sigma[j].reduce(0, +) / Double(max(sigma[j].count, 1))
                var kl = 0.0
                for i in sigma[j].indices {
                    let s2 = sigma[j][i] * sigma[j][i]
                    kl += 0.5 * (e.mu[j][i] * e.mu[j][i] + s2 - 1 - log(max(s2, 1e-30)))
                }
                d.kl = kl / Double(max(sigma[j].count, 1))
                let noise = sigma[j].reduce(0) { $0 + $1 * $1 } / Double(max(sigma[j].count, 1))
                d.information = 0.5 * log(1 + s * s / max(noise, 1e-30))
            }
            return d
        }
        let rule: String, rankedBy: String
        if e.sigma != nil {
            // A collapsed dimension sits at the prior for every input (μ ≈ 0, σ ≈ 1, KL ≈ 0): its μ
            // does not move with the input on the scale of its own posterior noise. Comparing the
            // spread of μ with σ, rather than with a fixed 0.01 (Burda et al. 2016), keeps the rule
            // right for VAEs whose posteriors are far narrower than the prior (e.g. jets with a
            // sharp Gaussian likelihood, where every σ is ~0.01).
            for j in dims.indices { dims[j].active = dims[j].information! > 0.1 }
            rule =
                "active when ½ ln(1 + Var_x μ_d / E_x σ_d²) > 0.1 nats (the spread of μ_d stands out of its "
                + "posterior noise); "
                + "passive dimensions sit at the prior (σ ≈ 1, KL ≈ 0)"
            rankedBy = "information ½ ln(1 + Var μ / E σ²)"
        } else {
            let largest = dims.map { $0.muStd * $0.muStd }.max() ?? 0
            for j in dims.indices { dims[j].active = dims[j].muStd * dims[j].muStd > 0.01 * largest }
            rule = "autoencoder (no prior): active when Var of μ_d exceeds 1 % of the largest dimension's"
            rankedBy = "variance of μ"
        }
        let order = dims.filter(\.active).sorted {
            ($0.information ?? $0.muStd * $0.muStd) > ($1.information ?? $1.muStd * $1.muStd)
        }
        for (r, d) in order.enumerated() { dims[d.index].rank = r + 1 }
        return (dims, rule, rankedBy)
    }

    /// Every (active dimension, observable) dependence, strongest |Spearman ρ| first.
    public static func dependences(_ e: Encoded, active: [Int], bins: Int) -> [Dependence] {
        var out: [Dependence] = []
        for j in active {
            for (name, v) in e.observables.sorted(by: { $0.key < $1.key }) {
                out.append(
                    Dependence(
                        dimension: j, observable: name, pearson: Statistics.pearson(e.mu[j], v),
                        spearman: Statistics.spearman(e.mu[j], v),
                        mutualInformation: Statistics.mutualInformation(e.mu[j], v, bins: bins)))
            }
        }
        return out.sorted { abs($0.spearman.isNaN ? 0 : $0.spearman) > abs($1.spearman.isNaN ? 0 : $1.spearman) }
    }

    /// Latent points sweeping each of `dims` over mean ± range·spread, the others at the data mean:
    /// rows of [dims.count · steps, D], dimension by dimension; and the offsets in spreads.
    public static func traversal(
        _ dimensions: [Dimension], dims: [Int], steps: Int, range: Double
    ) -> (z: Tensor, offsets: [Double]) {
        let offsets = (0..<steps).map { steps == 1 ? 0 : -range + 2 * range * Double($0) / Double(steps - 1) }
        var rows: [Float] = []
        for j in dims {
            for t in offsets {
                var z = dimensions.map { Float($0.muMean) }
                z[j] = Float(dimensions[j].muMean + t * dimensions[j].muStd)
                rows += z
            }
        }
        return (Tensor(shape: [dims.count * steps, dimensions.count], data: rows), offsets)
    }

    /// Runs everything and writes the report into `out`.
    /// Every rank's rows of μ and σ (one array per latent dimension), joined in rank order on every rank.
    static func allGather(_ mu: [[Double]], _ sigma: [[Double]], _ cluster: Cluster) throws -> ([[Double]], [[Double]])
    {
        struct Part: Codable { var mu: [[Double]]; var sigma: [[Double]] }
        let all = try cluster.allGather(Part(mu: mu, sigma: sigma))
        return (
            (0..<mu.count).map { j in all.flatMap { $0.mu[j] } },
            (0..<mu.count).map { j in all.flatMap { $0.sigma[j] } }
        )
    }

    /// Under mpirun the data are encoded in shards over the ranks (`encode`); rank 0 writes the report.
    public func inspect(
        data: [String], options: Options = Options(), out: String, cluster: Cluster = .world
    ) throws -> Report {
        let encoded = try encode(data, observables: options.observables, limit: options.limit, cluster: cluster)
        let (dims, rule, rankedBy) = Self.dimensions(encoded)
        let active = dims.filter(\.active).sorted { $0.rank! < $1.rank! }.map(\.index)
        let deps = Self.dependences(encoded, active: active, bins: options.bins)
        var best: [String: Dependence] = [:]
        for d in deps where best[d.observable] == nil && d.spearman.isFinite { best[d.observable] = d }
        let traversed = Array(active.prefix(options.traversed))
        let report = Report(
            checkpoint: checkpoint, kind: kind, data: data, samples: encoded.count, latentDim: dims.count,
            activeRule: rule, rankedBy: rankedBy, dimensions: dims, active: active,
            passive: dims.filter { !$0.active }.map(\.index), dependences: deps, best: best, traversed: traversed)
        if cluster.isRoot {
            try InspectorReport(report: report, encoded: encoded, inspector: self, options: options).write(to: out)
        }
        return report
    }
}
