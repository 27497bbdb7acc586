import Cluster
import Datasets
import Engine
import Formats
import Foundation
import Models
import NN

/// `genlab classify`: the supervised baseline. Trains a JetTagger on labelled signal and
/// background images (Adam, BCE on logits, a seeded validation split), and predicts with it.
/// Under mpirun it trains data-parallel (`DataParallel`): every batch is shared out over the
/// ranks, and only rank 0 writes the run folder.
public enum Tagger {
    public static let kind = ModelKind.tagger

    public struct Result {
        public var validationAUC: Double
        public var epochs: Int
        public var checkpoint: String
        /// Stopped by Ctrl-C or `--max-steps` before the last epoch (the checkpoint resumes it).
        public var interrupted = false
    }

    /// Images scaled so each image's brightest pixel is 1 (well-conditioned for a classifier).
    public static let scaling = ImageSet.Scaling.unitMax

    /// The share of the labelled images held out for the validation AUC.
    public static let validationFraction = 0.2

    /// Trains (or, with `resume`, continues) a tagger in `out` through the shared `Trainer`.
    public static func train(
        signal: String, background: String, out: String, epochs: Int, batchSize: Int, lr: Float,
        seed: UInt64, quiet: Bool, overwrite: Bool = false, resume: Bool = false,
        maxSteps: Int? = nil, cluster: Cluster = .world
    ) throws -> Result {
        guard epochs >= 1, batchSize >= 1 else {
            throw FormatError(out, "epochs (\(epochs)) and batch size (\(batchSize)) must be at least 1")
        }
        var options = TrainOptions()
        options.epochs = epochs; options.batchSize = batchSize; options.learningRate = lr; options.seed = seed;
        options.quiet = quiet
        options.validationFraction = validationFraction; options.maxSteps = maxSteps
        let task = try TaggerTask(signal: signal, background: background, lr: lr, seed: seed)
        let files = [
            ("config.json", try RunFolder.json(task.model.config)), ("data.json", try RunFolder.json(task.spec)),
            ("options.json", try RunFolder.json(options)),
        ]
        let trainer = Trainer(
            task: task, run: try RunFolder(out), options: options, setupFiles: files, cluster: cluster)
        let s = try trainer.train(resume: resume, overwrite: overwrite)
        return Result(
            validationAUC: s.lastMetrics["val_auc"] ?? .nan, epochs: s.epochs,
            checkpoint: trainer.run.file(Trainer.checkpointName),
            interrupted: s.epochs < epochs)
    }

    /// Signal probabilities (as logits; monotone, so ROCs are unaffected).
    public static func predict(_ model: JetTagger, _ images: Tensor) -> [Double] {
        model.eval()
        defer { model.train() }
        var out: [Double] = []
        noGrad {
            for start in stride(from: 0, to: images.shape[0], by: 512) {
                out += model(images.slice(axis: 0, start: start, end: min(images.shape[0], start + 512))).scalars.map(
                    Double.init)
            }
        }
        return out
    }

    /// A file's jet images: stored ones as they are, or made from an event file's particles (any
    /// layout `EventFile` reads) with the standard preprocessing at `size` (25 unless a checkpoint says).
    static func images(_ path: String, size: Int? = nil) throws -> ImageSet {
        if let events = try ModelInputs.particlesOnly(path) {
            return try ModelInputs.jetImages(events, spec: .standardJets(source: path, size: size ?? 25))
        }
        return try ImageSet.load(path)
    }

    /// Loads a tagger checkpoint and scores every image of the given files; labels come from
    /// the files when present.
    public static func predict(checkpoint: String, files: [String]) throws -> (scores: [Double], labels: [Int?]) {
        let ckpt = try Checkpoint.load(checkpoint)
        guard ckpt.modelKind == kind else {
            throw FormatError(
                checkpoint, "is a '\(ckpt.kind)' checkpoint, not a tagger (genlab classify train makes one)")
        }
        let config = try ckpt.decodeConfig(JetTagger.Config.self, file: checkpoint, problems: \.problems)
        var rng = PRNG(seed: 0)
        let model = JetTagger(config, rng: &rng)
        try ckpt.restore(into: model, file: checkpoint)
        var scores: [Double] = [], labels: [Int?] = []
        for f in files {
            let set = try images(f, size: config.imageSize).scaled(scaling)
            guard set.height == config.imageSize, set.width == config.imageSize, set.channels == config.channels else {
                throw FormatError(
                    f,
                    "images are \(set.channels)×\(set.height)×\(set.width); the tagger was trained on "
                        + "\(config.channels)×\(config.imageSize)²"
                )
            }
            guard set.images.storage.buffer.contains(where: { $0 != 0 && $0.isFinite }) else {
                throw FormatError(f, "none of its \(set.count) events can be scored: every image is empty")
            }
            scores += predict(model, set.images)
            if let bad = set.labels?.firstIndex(where: { $0 > 1 }) {
                throw FormatError(
                    f, "labels[\(bad)] is \(set.labels![bad]): a signal-vs-background score needs labels 0 or 1")
            }
            labels += set.labels.map { $0.map { Optional($0) } } ?? Array(repeating: nil, count: set.count)
        }
        guard scores.contains(where: \.isFinite) else {
            throw FormatError(
                files.joined(separator: ", "),
                "none of its \(scores.count) events could be scored (every image empty or not finite)")
        }
        return (scores, labels)
    }
}

/// The tagger as a `TrainingTask`: labelled signal and background images, a seeded 80/20
/// split, BCE on logits with Adam, the validation AUC every epoch.
final class TaggerTask: TrainingTask {
    let kind = Tagger.kind
    let model: JetTagger
    let optimizer: Adam
    let spec: DataSpec
    let signal: String, background: String
    private let all: Tensor, labels: [Float], trainIdx: [Int], valIdx: [Int]
    /// The split's stream after drawing the split: the weights and the data stream fork from it.
    private let splitRNG: PRNG
    private var parallel: DataParallel?

    init(signal: String, background: String, lr: Float, seed: UInt64) throws {
        self.signal = signal; self.background = background
        let sig = try Tagger.images(signal).scaled(Tagger.scaling),
            bkg = try Tagger.images(background).scaled(Tagger.scaling)
        guard sig.height == bkg.height, sig.channels == bkg.channels else {
            throw FormatError(
                signal, "signal images \(sig.images.shape) and background images \(bkg.images.shape) differ")
        }
        all = Tensor.concat([sig.images, bkg.images], axis: 0).detach()
        labels = [Float](repeating: 1, count: sig.count) + [Float](repeating: 0, count: bkg.count)
        var rng = PRNG(seed: seed)
        let held = HoldOut.size(of: all.shape[0], fraction: Tagger.validationFraction)
        let split = HoldOut(count: all.shape[0], held: held, rng: &rng)
        valIdx = split.validation; trainIdx = split.training
        splitRNG = rng
        let config = JetTagger.Config(imageSize: sig.height, channels: sig.channels)
        guard config.problems.isEmpty else {
            throw FormatError(signal, "cannot build a tagger: " + config.problems.joined(separator: "; "))
        }
        var initRNG = rng.fork(1)
        model = JetTagger(config, rng: &initRNG)
        optimizer = Adam(model.namedParameters(), lr: lr)
        spec = DataSpec(
            source: signal + " vs " + background, imageSize: sig.height, channels: sig.channels,
            scaling: Tagger.scaling,
            preprocessing: sig.jetRecord.map { "image_preprocessing=\($0.values["image_preprocessing"]!)" } ?? "")
    }

    var exampleCount: Int { trainIdx.count }
    var metricNames: [String] { ["loss", "val_auc"] }
    var plottedMetrics: [String] { ["loss", "val_auc"] }
    var schedule: TrainingSchedule { TrainingSchedule(cadence: .everyEpoch, keepsLastPartialBatch: true) }
    func freshStreams(seed: UInt64) -> (data: PRNG, noise: PRNG) { (splitRNG.fork(2), splitRNG.fork(3)) }
    func useDataParallel(_ parallel: DataParallel, synchroniseBatchNorm: Bool) { self.parallel = parallel }

    func step(_ examples: [Int], at position: StepPosition, data: inout PRNG, noise: inout PRNG) -> [String: Double] {
        optimizer.zeroGrad()
        var figures = ["loss": 0.0]
        if !examples.isEmpty {  // a last batch smaller than the ranks leaves some without rows
            let idx = examples.map { trainIdx[$0] }
            let x = all.indexSelect(axis: 0, indices: idx).detach()
            let loss = Loss.bceWithLogits(model(x), Tensor(shape: [idx.count], data: idx.map { labels[$0] }))
            loss.backward()
            figures["loss"] = Double(loss.item())
        }
        parallel?.averageGradients(optimizer.parameters)
        optimizer.step()
        return figures
    }

    func evaluate(noise: inout PRNG) -> [String: Double] {
        let scores = Tagger.predict(model, all.indexSelect(axis: 0, indices: valIdx).detach())
        return ["val_auc": ROC(scores: scores, labels: valIdx.map { Int(labels[$0]) }).auc]
    }

    func epochSummary(_ figures: [String: Double], epoch: Int, of epochs: Int) -> String? {
        String(
            format: "epoch %d/%d: loss %.4f  validation AUC %.4f", epoch, epochs, figures["loss"] ?? .nan,
            figures["val_auc"] ?? .nan)
    }

    var reportRows: [(String, String)] {
        [
            ("signal", signal), ("background", background),
            (
                "images",
                "\(all.shape[0]) × \(spec.channels)×\(spec.imageSize)×\(spec.imageSize) (\(trainIdx.count) training, "
                    + "\(valIdx.count) validation)"
            ),
            ("scaling", spec.scaling.rawValue),
        ]
    }

    func checkpoint(training: TrainingState) throws -> Checkpoint {
        try Checkpoint(
            kind: kind.rawValue, config: model.config, module: model, optimizer: optimizer, training: training,
            metadata: [DataSpec.metadataKey: try spec.metadataValue()])
    }

    func restore(_ checkpoint: Checkpoint, file: String) throws {
        let saved = try checkpoint.decodeConfig(JetTagger.Config.self, file: file, problems: \.problems)
        guard saved == model.config else {
            throw FormatError(file, "holds a tagger for other images (\(saved)); this run's is \(model.config)")
        }
        try checkpoint.restore(into: model, optimizer: optimizer, file: file)
    }
}

/// What `genlab classify predict` writes: predictions.csv (index, label, logit) and, when every
/// event carries a label of either class, roc.png and report.html with the AUC and rejections.
public struct TaggerPredictions {
    public var scores: [Double]
    public var labels: [Int?]
    public init(scores: [Double], labels: [Int?]) { self.scores = scores; self.labels = labels }

    public struct Written {
        public var predictions: String
        public var roc: (auc: Double, rejectionAt30: Double, rejectionAt50: Double, plot: String)?
    }

    public func write(folder: String) throws -> Written {
        let run = try RunFolder(folder)
        var lines = ["index,label,logit"]
        for i in scores.indices {
            lines.append("\(i),\(labels[i].map(String.init) ?? ""),\(String(format: "%.6g", scores[i]))")
        }
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: run.file("predictions.csv"))
        var written = Written(predictions: run.file("predictions.csv"))
        guard labels.allSatisfy({ $0 != nil }), Set(labels.compactMap { $0 }).count == 2 else { return written }
        let roc = ROC(scores: scores, labels: labels.map { $0! })
        var plot = Plot(title: "Tagger ROC", xLabel: "signal efficiency ε_{S}", yLabel: "background rejection 1/ε_{B}")
        plot.logY = true
        let pts = zip(roc.signalEfficiency, roc.backgroundEfficiency).filter { $0.0 > 0.01 && $0.1 > 0 }
        plot.add("tagger", x: pts.map(\.0), y: pts.map { 1 / $0.1 })
        try plot.write(run.file("roc.png"))
        written.roc = (roc.auc, roc.rejection(atSignal: 0.3), roc.rejection(atSignal: 0.5), run.file("roc.png"))
        var page = RunReport(title: "GenLab tagger predictions — \(folder)")
        page.table(
            "ROC",
            [
                ("events", "\(scores.count)"), ("AUC", String(format: "%.4f", roc.auc)),
                ("1/εB at εS = 0.3", String(format: "%.1f", roc.rejection(atSignal: 0.3))),
            ])
        try page.write(folder: run.path)
        return written
    }
}
