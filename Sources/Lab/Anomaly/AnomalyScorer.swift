import Cluster
import Datasets
import Engine
import Formats
import Foundation
import Models
import NN
import Physics

/// Scores events with a model trained on background only: reconstruction error (MSE and a
/// pT-normalised variant), KL term, negative ELBO and latent distance for a VAE/AE, the
/// discriminator's verdict for a GAN. Files are read in chunks (bounded memory); events that
/// cannot be scored (NaN/Inf, empty jets) get NaN scores and a reason, never a silent number.
public final class AnomalyScorer {
    public let model: LoadedModel
    public let checkpointPath: String
    public var chunkSize = 1024
    /// Whole events (LHC Olympics layout): score the leading jet (1) or the two leading jets (2,
    /// the event's score being the larger, i.e. more anomalous, of the two).
    public var jetsPerEvent = 1
    /// What the user must know about the files scored so far (e.g. jet images made with another
    /// preprocessing than the checkpoint's), one line each, naming the file.
    public private(set) var warnings: [String] = []
    /// Make jet images from each file's constituents even where it stores images.
    public var fromConstituents = false

    public init(checkpoint: String) throws {
        let ckpt = try Checkpoint.load(checkpoint)
        guard let kind = ckpt.modelKind, ModelKind.generative.contains(kind) else {
            let what =
                ckpt.kind.isEmpty ? "a checkpoint without a model kind (genlab.kind)" : "a '\(ckpt.kind)' checkpoint"
            throw FormatError(checkpoint, "\(what) cannot score events (train a vae, ae or gan on background)")
        }
        model = try LoadedModel.load(checkpoint)
        try model.requireUnconditional(checkpoint, for: "scoring events")
        checkpointPath = checkpoint
    }

    /// A scorer for a model already in memory (export checks it against its ONNX twin).
    init(model: LoadedModel, checkpointPath: String = "") {
        self.model = model
        self.checkpointPath = checkpointPath
    }

    /// The scores this model gives every event, in the table's column order.
    public var scores: [AnomalyScore] {
        if case .gan = model { return [.discriminator] }
        return [.mse, .msePt, .kl, .negElbo, .latentDistance]
    }

    /// The scores' names: the columns of the table and of scores.csv.
    public var scoreNames: [String] { scores.map(\.rawValue) }

    /// The score thresholds and plots use unless told otherwise.
    public var primaryScore: AnomalyScore {
        switch model {
        case .gan: return .discriminator
        case let .vae(v, _): return v.config.plain ? .mse : .negElbo
        }
    }

    /// Per-event scores and what is known of each event.
    public struct Table: Codable {
        public var names: [String]
        public var scores: [[Double]] = []  // [score][event]
        public var labels: [Int?] = []
        public var mass: [Double?] = []
        public var file: [String] = []
        public var index: [Int] = []
        public var problem: [String?] = []
        /// Per-event weights from the file (1 where it has none).
        public var weight: [Double] = []
        public var count: Int { index.count }
        /// The weights when any differs from 1, for weighted ROC figures; nil otherwise.
        public var weights: [Double]? { weight.count == count && weight.contains { $0 != 1 } ? weight : nil }

        public init(names: [String]) { self.names = names }

        public mutating func append(_ other: Table) {
            if scores.isEmpty {
                scores = other.scores
            } else {
                for i in scores.indices { scores[i] += other.scores[i] }
            }
            labels += other.labels; mass += other.mass; file += other.file; index += other.index;
            problem += other.problem
            weight += other.weight.count == other.count ? other.weight : Array(repeating: 1, count: other.count)
        }

        public func column(_ name: String) -> [Double] { scores[names.firstIndex(of: name)!] }

        /// The finite scores of labelled background events (label 0), for thresholds.
        public func backgroundScores(_ name: String) -> [Double] {
            zip(column(name), labels).filter { $0.1 == 0 && $0.0.isFinite }.map(\.0)
        }
    }

    /// Scores every event of an HDF5 (images or constituents) or .npy (images) file.
    public func score(_ path: String, progress: ProgressBar? = nil) throws -> Table {
        let source = try open(path)
        return try score(source, chunks: 0..<source.chunks(of: chunkSize), progress: progress)
    }

    /// A file's events as the scorer reads them; its warning, if any, recorded.
    private func open(_ path: String) throws -> EventSource {
        let source = try EventSource(
            path, spec: model.spec, jetsPerEvent: jetsPerEvent, fromConstituents: fromConstituents)
        if let warning = source.warning { warnings.append(warning) }
        return source
    }

    /// Scores the events of `paths` in order, shared out over the ranks of `cluster` in whole
    /// chunks (each rank reads only its own slabs of each file): rank 0 gets the whole table, the
    /// same rows in the same order and the same digits as one process (every chunk is the same
    /// batch either way); the other ranks get nil. An error on any rank is raised on every rank,
    /// the first in event order.
    public func score(_ paths: [String], cluster: Cluster, progress: ProgressBar? = nil) throws -> Table? {
        guard cluster.isDistributed else {
            var table = Table(names: scoreNames)
            for path in paths { table.append(try score(path, progress: progress)) }
            return table
        }
        // Every rank opens every file (its checks, its event count), then takes a contiguous run
        // of the files' chunks in file order.
        let sources = try paths.map(open)
        let mine = cluster.share(of: sources.reduce(0) { $0 + $1.chunks(of: chunkSize) })
        var mineTable = Table(names: scoreNames), failure: String?
        var first = 0
        for source in sources {
            // This file's chunks first..<first + n, of which this rank owns the overlap with `mine`.
            let n = source.chunks(of: chunkSize)
            let low = max(first, mine.lowerBound), high = min(first + n, mine.upperBound)
            defer { first += n }
            guard low < high else { continue }
            do { mineTable.append(try score(source, chunks: (low - first)..<(high - first), progress: progress)) } catch
            {
                failure = "\(error)"
                break
            }
        }
        let gathered = try cluster.gather(Shard(table: failure == nil ? mineTable : nil, failure: failure))
        // Rank 0 names the first failure (in rank order, so in event order) to every rank.
        var table = Table(names: scoreNames)
        _ = try cluster.onRoot {
            for shard in gathered ?? [] {
                if let failure = shard.failure { throw StoppedWithRoot(description: failure) }
                if let part = shard.table, part.count > 0 { table.append(part) }
            }
            return Data()
        }
        return cluster.isRoot ? table : nil
    }

    private struct Shard: Codable {
        var table: Table?
        var failure: String?
    }

    /// Scores chunks `chunks` (of `chunkSize` events) of an opened file.
    private func score(_ source: EventSource, chunks: Range<Int>, progress: ProgressBar? = nil) throws -> Table {
        let path = source.path
        var table = Table(names: scoreNames)
        var start = chunks.lowerBound * chunkSize
        let end = min(source.count, chunks.upperBound * chunkSize)
        while start < end {
            let n = min(chunkSize, end - start)
            let chunk = try source.read(start, n)
            var part = Table(names: scoreNames)
            part.scores = scoreImages(chunk.images, valid: chunk.problem.map { $0 == nil })
            if let second = chunk.second {
                // The more anomalous of the two leading jets; an event with one jet keeps its score.
                let other = scoreImages(second, valid: chunk.secondValid)
                for k in part.scores.indices {
                    for i in 0..<n where other[k][i].isFinite && !(part.scores[k][i] >= other[k][i]) {
                        part.scores[k][i] = other[k][i]
                    }
                }
            }
            part.labels = chunk.labels; part.mass = chunk.mass; part.problem = chunk.problem
            part.weight = chunk.weights ?? Array(repeating: 1, count: n)
            part.file = Array(repeating: path, count: n); part.index = Array(start..<(start + n))
            table.append(part)
            start += n
            progress?.update(start, status: (path as NSString).lastPathComponent)
        }
        return table
    }

    /// Reads every event of a file as `score` does, without a model: the file checks, the jet
    /// images, labels and masses (for checks and fuzzing). Returns the number of events.
    public static func readEvents(_ path: String, spec: DataSpec, jetsPerEvent: Int = 1) throws -> Int {
        let source = try EventSource(path, spec: spec, jetsPerEvent: jetsPerEvent)
        var start = 0
        while start < source.count {
            let n = min(1024, source.count - start)
            _ = try source.read(start, n)
            start += n
        }
        return source.count
    }

    /// Scores for a batch of raw images [N, 1, H, W] (scaled here as at training).
    func scoreImages(_ raw: Tensor, valid: [Bool]) -> [[Double]] {
        let n = raw.shape[0]
        let spec = model.spec
        let x = ImageSet(images: raw, source: "").scaled(spec.scaling).images
        var out = [[Double]](repeating: [Double](repeating: .nan, count: n), count: scoreNames.count)
        noGrad {
            switch model {
            case let .gan(g, _):
                let logits = g.discriminator(x).scalars
                for i in 0..<n where valid[i] { out[0][i] = Double(-logits[i]) }
            case let .vae(v, _):
                let (mu, logVar) = v.encode(x)
                let raw = v.decodeRaw(mu)
                let recon = v.config.likelihood == .bernoulli ? raw.sigmoid() : raw
                let d = recon - x
                let se = (d * d).reshape([n, -1])
                let mse = se.mean(axes: [1]).scalars
                let energy = (x * x).reshape([n, -1]).sum(axes: [1]).scalars, sse = se.sum(axes: [1]).scalars
                let kl = v.kl(mu: mu, logVar: logVar).scalars
                let nll = v.reconstructionNLL(raw, x).scalars
                let dist = (mu * mu).sum(axes: [1]).sqrt().scalars
                for i in 0..<n where valid[i] {
                    out[0][i] = Double(mse[i]); out[1][i] = Double(sse[i] / max(energy[i], 1e-12))
                    out[2][i] = Double(kl[i]); out[3][i] = Double(nll[i] + kl[i]); out[4][i] = Double(dist[i])
                }
            }
        }
        return out
    }
}

/// The per-event anomaly scores `genlab score` computes (the names of its columns).
public enum AnomalyScore: String, NamedChoice {
    /// Mean squared reconstruction error per pixel.
    case mse
    /// Squared reconstruction error over the image's energy (Σx²): the pT-weighted error.
    case msePt = "mse_pt"
    /// KL divergence of the encoder's posterior from the prior (0 for an autoencoder).
    case kl
    /// Reconstruction negative log-likelihood plus KL: the negative ELBO with z = μ.
    case negElbo = "neg_elbo"
    /// |μ|: how far from the prior's centre the event is encoded.
    case latentDistance = "latent_distance"
    /// Minus the GAN discriminator's logit (higher: less like the training data).
    case discriminator
    /// Minus a flow's log-density of the event's features given its context (higher: less like the
    /// training data; `genlab score` with a `train flow` checkpoint).
    case logDensity = "log_density"
}
