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
        public var count: Int { index.count }

        public init(names: [String]) { self.names = names }

        public mutating func append(_ other: Table) {
            if scores.isEmpty {
                scores = other.scores
            } else {
                for i in scores.indices { scores[i] += other.scores[i] }
            }
            labels += other.labels; mass += other.mass; file += other.file; index += other.index;
            problem += other.problem
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
                let kl =
                    v.config.plain
                    ? [Float](repeating: 0, count: n)
                    : Loss.gaussianKL(mu: mu, logVar: logVar, reduction: .none).scalars
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

/// Events from a file, as raw jet images: an `images` dataset used directly, or `constituents`
/// (N, M, 3) of (pT, η, φ) turned into images with the checkpoint's preprocessing.
struct EventSource {
    let path: String
    let count: Int
    /// How many reads of `size` events cover the file.
    func chunks(of size: Int) -> Int { (count + size - 1) / size }
    let file: HDF5File?
    let npy: Tensor?
    let imagesDataset: String?
    let spec: DataSpec
    let jetImage: JetImage
    let jetsPerEvent: Int
    /// What the user must be told about how this file's events are read (e.g. stored jet images
    /// made with other preprocessing), naming the file; nil when nothing.
    let warning: String?

    /// With `fromConstituents`, jet images are always made from `/constituents` (with the
    /// checkpoint's preprocessing) even where the file stores images; without it they are made
    /// so when the stored images record another preprocessing than the checkpoint's, or none.
    // Long: opening a file is one decision tree over its layout (images, constituents, whole events),
    // with a named error per branch.
    init(_ path: String, spec: DataSpec, jetsPerEvent: Int = 1, fromConstituents: Bool = false) throws {
        self.path = path
        self.spec = spec
        self.jetsPerEvent = jetsPerEvent
        let size = spec.imageSize
        jetImage = spec.jetImage
        var warning: String?
        switch try FileKind.detect(path) {
        case .npy:
            let t = try ImageSet.asImages(NPY.read(path), path, integersAreBytes: false)
            guard t.shape[1] == spec.channels, t.shape[2] == size, t.shape[3] == size else {
                throw FormatError(
                    path,
                    "images are \(t.shape[1])×\(t.shape[2])×\(t.shape[3]); the model was trained on "
                        + "\(spec.channels)×\(size)×\(size)"
                )
            }
            npy = t; file = nil; imagesDataset = nil; count = t.shape[0]
            if fromConstituents {
                throw FormatError(path, "--from-constituents: a .npy file holds images, not constituents")
            }
        case .hdf5:
            let f = try HDF5File(path)
            file = f; npy = nil
            if f.contains("/df/block0_values") {
                // LHC Olympics layout: whole events, clustered here (anti-kT, R = 1.0); the leading jet is scored.
                let s = try f.shape("/df/block0_values")
                guard s.count == 2, s[1] >= 3, (s[1] - 1) % 3 == 0 else {
                    throw FormatError(
                        path,
                        "/df/block0_values has shape \(s), expected (N, 3·particles + 1) as in the LHC Olympics files")
                }
                guard spec.isJetImages else {
                    throw FormatError(path, "holds whole events but the model was not trained on jet images")
                }
                imagesDataset = nil
                count = s[0]
            } else if f.contains("/images"),
                !(spec.isJetImages && f.contains("/constituents")
                    && (fromConstituents || Self.mismatch((try? f.attributes()) ?? [:], spec) != nil))
            {
                let s = try f.shape("/images")
                guard let entry = try f.entries().first(where: { $0.path == "/images" }),
                    ["float", "int", "uint"].contains(entry.dtype)
                else {
                    throw FormatError(path, "/images does not hold numbers")
                }
                guard s.count == 3 || (s.count == 4 && s[1] == 1) else {
                    throw FormatError(
                        path, "/images has shape \(s); expected (N, H, W) or (N, 1, H, W) single-channel images")
                }
                let (h, w) = (s[s.count - 2], s[s.count - 1])
                guard h == size, w == size, spec.channels == 1 else {
                    throw FormatError(
                        path,
                        "/images are 1×\(h)×\(w) but the model was trained on \(spec.channels)×\(size)×\(size) images; "
                            + "image size and preprocessing must match the checkpoint")
                }
                let attributes = (try? f.attributes()) ?? [:]
                if !spec.isJetImages && JetImageRecord(attributes: attributes) != nil {
                    throw FormatError(
                        path, "holds jet images, but the model was trained on ordinary images (\(spec.source))")
                }
                imagesDataset = "/images"
                count = s[0]
                if spec.isJetImages, let m = Self.mismatch(attributes, spec) {
                    warning =
                        "\(path): \(m); it has no /constituents to make them again, so its scores may not mean what "
                        + "the checkpoint's do"
                }
            } else if f.contains("/constituents") {
                if f.contains("/images") && spec.isJetImages && !fromConstituents,
                    let m = Self.mismatch((try? f.attributes()) ?? [:], spec)
                {
                    warning =
                        "\(path): \(m); its jet images are made again from its /constituents with the checkpoint's "
                        + "preprocessing"
                }
                let s = try f.shape("/constituents")
                guard s.count == 3, s[2] == 3 else {
                    throw FormatError(path, "/constituents has shape \(s), expected (N, M, 3) of (pT, η, φ)")
                }
                guard spec.isJetImages else {
                    throw FormatError(path, "holds jet constituents but the model was not trained on jet images")
                }
                imagesDataset = nil
                count = s[0]
            } else {
                throw FormatError(
                    path,
                    "has neither /images nor /constituents (for whole events in the LHC Olympics layout, cluster "
                        + "them into jets first)"
                )
            }
        default:
            throw FormatError(path, "events must be HDF5 (images or constituents) or .npy images")
        }
        if fromConstituents, let f = file, !f.contains("/constituents"), !f.contains("/df/block0_values") {
            throw FormatError(path, "--from-constituents: the file has no /constituents")
        }
        self.warning = warning
        if count == 0 { throw FormatError(path, "holds no events") }
        if let f = file {
            for name in ["/images", "/constituents", "/df/block0_values"] where f.contains(name) {
                try f.requireStored(name)
            }
            for (name, columns) in [("/labels", 0), ("/jets", 4)] where f.contains(name) {
                let s = try f.shape(name)
                let ok =
                    columns == 0 ? (s.count == 1 || (s.count == 2 && s[1] == 1)) : (s.count == 2 && s[1] >= columns)
                guard ok, s[0] == count else {
                    throw FormatError(
                        path,
                        "\(name) has shape \(s), expected (\(count)\(columns == 0 ? "" : ", \(columns)")) "
                            + (columns == 0 ? "labels, one an event" : "of (pT, η, φ, m), one row an event"))
                }
            }
        }
    }

    /// Differences between the preprocessing a file's attributes record and the checkpoint's, in
    /// words; nil when they agree.
    static func mismatch(_ attributes: [String: String], _ spec: DataSpec) -> String? {
        guard let record = JetImageRecord(attributes: attributes) else {
            return "its jet images carry no preprocessing record (the checkpoint's: \(spec.preprocessing))"
        }
        let differing = spec.jetRecord.map { record.differences(from: $0, otherName: "the checkpoint's") } ?? []
        return differing.isEmpty ? nil : "its jet images were made differently: " + differing.joined(separator: "; ")
    }

    struct Chunk {
        var images: Tensor
        var labels: [Int?]
        var mass: [Double?]
        var problem: [String?]
        /// Second-leading jets of whole events, when two jets an event are scored.
        var second: Tensor? = nil
        var secondValid: [Bool] = []
    }

    // Long: reads one chunk of any of the three layouts into images; one branch each.
    func read(_ start: Int, _ n: Int) throws -> Chunk {
        let size = spec.imageSize
        var labels = [Int?](repeating: nil, count: n), mass = [Double?](repeating: nil, count: n)
        let images: Tensor
        var second: Tensor?
        var secondValid = [Bool](repeating: false, count: n)
        if let npy {
            images = npy.slice(axis: 0, start: start, end: start + n).detach()
        } else if let file, let imagesDataset {
            images = try file.readRows(imagesDataset, start, n).reshape([n, 1, size, size])
        } else if let file, file.contains("/df/block0_values") {
            let rows = try file.readRows("/df/block0_values", start, n)
            let width = rows.shape[1], p = rows.storage.pointer
            images = Tensor.zeros([n, 1, size, size])
            if jetsPerEvent > 1 { second = Tensor.zeros([n, 1, size, size]) }
            let clustering = JetClustering(.antiKt, radius: 1.0)
            for i in 0..<n {
                let base = p + i * width
                let particles = (0..<((width - 1) / 3)).compactMap { k -> (pt: Double, eta: Double, phi: Double)? in
                    let pt = Double(base[3 * k])
                    return pt > 0 ? (pt, Double(base[3 * k + 1]), Double(base[3 * k + 2])) : nil
                }
                labels[i] = try EventLabels.validated(
                    [base[width - 1]], file: path, dataset: "the label column",
                    firstIndex: start + i)[0]
                let jets = clustering.cluster(
                    particles.map { FourVector(pt: $0.pt, eta: $0.eta, phi: $0.phi) }, ptMin: 20)
                guard let lead = jets.first else { continue }
                mass[i] = lead.mass
                if let second, jets.count > 1,
                    let img = jetImage.image(
                        jets[1].constituents.map { particles[$0] }, jetEta: jets[1].eta, jetPhi: jets[1].phi)
                {
                    (second.storage.pointer + i * size * size).update(from: img, count: img.count)
                    secondValid[i] = true
                }
                if let img = jetImage.image(lead.constituents.map { particles[$0] }, jetEta: lead.eta, jetPhi: lead.phi)
                {
                    (images.storage.pointer + i * size * size).update(from: img, count: img.count)
                }
            }
        } else if let file {
            let c = try file.readRows("/constituents", start, n)
            let m = c.shape[1], p = c.storage.pointer
            let jetRows = file.contains("/jets") ? try file.readRows("/jets", start, n) : nil
            let jets = jetRows?.scalars, jetWidth = jetRows?.shape.last ?? 4
            images = Tensor.zeros([n, 1, size, size])
            for i in 0..<n {
                let rows = (0..<m).map { k in
                    (
                        pt: Double(p[(i * m + k) * 3]), eta: Double(p[(i * m + k) * 3 + 1]),
                        phi: Double(p[(i * m + k) * 3 + 2])
                    )
                }
                // The jet axis: the stored jet, or the leading constituent.
                let axis =
                    jets.map { (Double($0[i * jetWidth + 1]), Double($0[i * jetWidth + 2])) }
                    ?? (rows.max { $0.pt < $1.pt }.map { ($0.eta, $0.phi) } ?? (0, 0))
                if let img = jetImage.image(rows, jetEta: axis.0, jetPhi: axis.1) {
                    (images.storage.pointer + i * size * size).update(from: img, count: img.count)
                }
            }
        } else {
            fatalError("unreachable")
        }
        if let file, !file.contains("/df/block0_values") {
            if file.contains("/labels") {
                labels = try EventLabels.validated(
                    file.readRows("/labels", start, n).scalars, file: path, firstIndex: start)
            }
            if file.contains("/jets") {
                let j = try file.readRows("/jets", start, n)
                mass = (0..<n).map { Double(j.storage.pointer[$0 * j.shape[1] + 3]) }
            }
        }
        // Per-event checks: a NaN or an empty jet gets a reason instead of a score.
        var problem = [String?](repeating: nil, count: n)
        let per = images.count / max(n, 1), px = images.storage.pointer
        for i in 0..<n {
            var sum: Float = 0, finite = true
            for k in 0..<per { let v = px[i * per + k]; if !v.isFinite { finite = false; break }; sum += v }
            if !finite {
                problem[i] = "non-finite input (NaN/Inf)"
            } else if sum <= 0 {
                problem[i] = "empty jet (zero total pT)"
            }
        }
        if problem.contains(where: { $0 != nil }) {
            for i in 0..<n where problem[i] != nil { for k in 0..<per { px[i * per + k] = 0 } }
        }
        return Chunk(
            images: images, labels: labels, mass: mass, problem: problem, second: second, secondValid: secondValid)
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
}
