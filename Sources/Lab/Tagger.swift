import Cluster
import Engine
import Foundation
import Formats
import Models
import NN

/// `genlab classify`: the supervised baseline. Trains a JetTagger on labelled signal and
/// background images (Adam, BCE on logits, a seeded validation split), and predicts with it.
/// Under mpirun it trains data-parallel (`DataParallel`): every batch is shared out over the
/// ranks, and only rank 0 writes the run folder.
public enum Tagger {
    public static let kind = "tagger"

    public struct Result {
        public var validationAUC: Double
        public var epochs: Int
        public var checkpoint: String
    }

    /// Images scaled so each image's brightest pixel is 1 (well-conditioned for a classifier).
    public static let scaling = ImageSet.Scaling.unitMax

    public static func train(signal: String, background: String, out: String, epochs: Int, batchSize: Int, lr: Float,
                             seed: UInt64, quiet: Bool, overwrite: Bool = false, cluster: Cluster = .world) throws -> Result {
        guard epochs >= 1, batchSize >= 1 else { throw FormatError(out, "epochs (\(epochs)) and batch size (\(batchSize)) must be at least 1") }
        let run = try RunFolder(out)
        var lock: RunLock?
        defer { lock?.unlock() }
        _ = try cluster.onRoot {
            lock = try run.lock()
            if run.holdsRun {
                guard overwrite else {
                    throw FormatError(out, "holds a training run already: pass --overwrite to replace it, or choose another --out")
                }
                try run.clearRun()
            }
            return Data()
        }
        let parallel = DataParallel(cluster)
        let sig = try ImageSet.load(signal).scaled(scaling), bkg = try ImageSet.load(background).scaled(scaling)
        guard sig.height == bkg.height, sig.channels == bkg.channels else {
            throw FormatError(signal, "signal images \(sig.images.shape) and background images \(bkg.images.shape) differ")
        }
        let all = Tensor.concat([sig.images, bkg.images], axis: 0).detach()
        let labels = [Float](repeating: 1, count: sig.count) + [Float](repeating: 0, count: bkg.count)
        var rng = PRNG(seed: seed)
        let order = rng.permutation(all.shape[0])
        let nVal = max(1, all.shape[0] / 5)
        let valIdx = Array(order.prefix(nVal)), trainIdx = Array(order.dropFirst(nVal))
        let config = JetTagger.Config(imageSize: sig.height, channels: sig.channels)
        guard config.problems.isEmpty else { throw FormatError(signal, "cannot build a tagger: " + config.problems.joined(separator: "; ")) }
        var initRNG = rng.fork(1)
        let model = JetTagger(config, rng: &initRNG)
        let opt = Adam(model.namedParameters(), lr: lr)
        if cluster.isDistributed {  // rank 0's initial weights on every rank, as DDP does
            let bytes = cluster.broadcast(cluster.isRoot ? try Checkpoint(kind: kind, config: config, module: model).encoded() : Data())
            if !cluster.isRoot { try Checkpoint.decode(bytes, file: "rank 0's tagger").restore(into: model, file: "rank 0's tagger") }
        }
        var metrics: MetricsLog?, board: TensorBoardLog?
        _ = try cluster.onRoot {
            metrics = try MetricsLog(run.file("metrics.csv"), columns: ["epoch", "loss", "val_auc"])
            board = try TensorBoardLog(folder: run.path)
            return Data()
        }
        var dataRNG = rng.fork(2)
        var auc = 0.0
        for epoch in 1...epochs {
            let perm = dataRNG.permutation(trainIdx.count)
            let bar = ProgressBar(total: (trainIdx.count + batchSize - 1) / batchSize, label: "epoch \(epoch)/\(epochs)", unit: "img")
            bar.quiet = quiet
            var total = 0.0, batches = 0
            for start in stride(from: 0, to: perm.count, by: batchSize) {
                let idx = parallel.begin(batch: perm[start..<min(start + batchSize, perm.count)].map { trainIdx[$0] })
                opt.zeroGrad()
                var figures = ["loss": 0.0]
                if !idx.isEmpty {  // a last batch smaller than the ranks leaves some without rows
                    let x = all.indexSelect(axis: 0, indices: idx).detach()
                    let y = Tensor(shape: [idx.count], data: idx.map { labels[$0] })
                    let loss = Loss.bceWithLogits(model(x), y)
                    loss.backward()
                    figures["loss"] = Double(loss.item())
                }
                parallel.averageGradients(opt.parameters)
                opt.step()
                total += parallel.mean(figures)["loss"]!; batches += 1
                bar.update(batches, items: batches * batchSize, status: String(format: "loss %.4f", total / Double(batches)))
            }
            let scores = predict(model, all.indexSelect(axis: 0, indices: valIdx).detach())
            auc = ROC(scores: scores, labels: valIdx.map { Int(labels[$0]) }).auc
            try metrics?.append(["epoch": Double(epoch), "loss": total / Double(max(batches, 1)), "val_auc": auc])
            try board?.scalars(["loss": total / Double(max(batches, 1)), "val_auc": auc], step: epoch)
            bar.finish(quiet ? "" : String(format: "epoch %d/%d: loss %.4f  validation AUC %.4f", epoch, epochs, total / Double(max(batches, 1)), auc))
        }
        let spec = DataSpec(source: signal + " vs " + background, imageSize: sig.height, channels: sig.channels, scaling: scaling,
                            preprocessing: sig.attributes["image_preprocessing"].map { "image_preprocessing=\($0)" } ?? "")
        var meta = ["genlab.data": String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)]
        if cluster.isDistributed { meta["genlab.ranks"] = String(cluster.size) }
        let ckpt = try Checkpoint(kind: kind, config: config, module: model, metadata: meta)
        let result = Result(validationAUC: auc, epochs: epochs, checkpoint: run.file("checkpoint.safetensors"))
        guard cluster.isRoot else { return result }
        try ckpt.save(to: run.file("checkpoint.safetensors"))
        var page = RunReport(title: "GenLab tagger — \(out)")
        page.table("Training", [("signal", signal), ("background", background), ("epochs", "\(epochs)"), ("batch size", "\(batchSize)"),
                                ("learning rate", "\(lr)"), ("validation AUC", String(format: "%.4f", auc))]
                   + (cluster.isDistributed ? [("ranks", "\(cluster.size)")] : []))
        try page.write(folder: out)
        return result
    }

    /// Signal probabilities (as logits; monotone, so ROCs are unaffected).
    public static func predict(_ model: JetTagger, _ images: Tensor) -> [Double] {
        model.eval()
        defer { model.train() }
        var out: [Double] = []
        noGrad {
            for start in stride(from: 0, to: images.shape[0], by: 512) {
                out += model(images.slice(axis: 0, start: start, end: min(images.shape[0], start + 512))).scalars.map(Double.init)
            }
        }
        return out
    }

    /// Loads a tagger checkpoint and scores every image of the given files; labels come from
    /// the files when present.
    public static func predict(checkpoint: String, files: [String]) throws -> (scores: [Double], labels: [Int?]) {
        let ckpt = try Checkpoint.load(checkpoint)
        guard ckpt.kind == kind else { throw FormatError(checkpoint, "is a '\(ckpt.kind)' checkpoint, not a tagger (genlab classify train makes one)") }
        let config = try ckpt.decodeConfig(JetTagger.Config.self, file: checkpoint, problems: \.problems)
        var rng = PRNG(seed: 0)
        let model = JetTagger(config, rng: &rng)
        try ckpt.restore(into: model, file: checkpoint)
        var scores: [Double] = [], labels: [Int?] = []
        for f in files {
            let set = try ImageSet.load(f).scaled(scaling)
            guard set.height == config.imageSize, set.channels == config.channels else {
                throw FormatError(f, "images are \(set.channels)×\(set.height)×\(set.width); the tagger was trained on \(config.channels)×\(config.imageSize)²")
            }
            scores += predict(model, set.images)
            labels += set.labels.map { $0.map { Optional($0) } } ?? Array(repeating: nil, count: set.count)
        }
        return (scores, labels)
    }
}
