import Cluster
import Engine
import Foundation
import Formats
import Models
import NN

/// `genlab symmetry train`: generates templates, fits a decoy to each, trains the SymmetryCNN on
/// their PCA images (with the eight square symmetries as augmentation), and measures it on a
/// held-out set drawn with new seeds and, where a class allows, parameters outside the training
/// ranges. Writes checkpoint.safetensors, metrics.csv, loss.png, confusion.png, evaluation.json.
public enum SymmetryTraining {
    public struct Options: Codable, Sendable {
        public var perClass = 300
        public var validationPerClass = 30
        public var heldOutPerClass = 60
        /// Held-out templates scored under 3 × `heldOutSeeds` decoy seeds to measure the score's
        /// stability: per fit, and for the reported mean of `heldOutSeeds` fits.
        public var stabilityImages = 24
        /// The held-out set is also scored as `genlab symmetry score` does: this many decoy fits
        /// per template, averaged (0: skip).
        public var heldOutSeeds = SymmetryDetector.defaultFits
        /// Sweeps per symmetric class (held-out library) at ε = 0, 0.2, …, 1 (0: skip).
        public var sweepsPerClass = 10
        /// Training-range sweeps per symmetric class (ε = 0, 0.2, …, 1), drawn from seed + 4000:
        /// the ε head is then also trained to rank each sweep's images by ε, through the whole CNN
        /// (0: off). Held-out sweeps drawn from that same seed share their potentials but for the
        /// parameters the held-out library extrapolates, so `evaluate` must not use it.
        public var trainingSweepsPerClass = 0
        /// Weight of that ranking loss.
        public var rankingWeight: Float = 1
        public var epochs = 80
        public var batchSize = 32
        public var learningRate: Float = 2e-3
        /// Weight of the ε head's loss beside the class cross-entropy.
        public var degreeWeight: Float = 1
        /// SymmetryCNN width and head layout.
        public var features = 16
        public var headGrid = 4
        /// The CNN also reads its input's probe correlations (`SymmetryProbes`); absent (off) in
        /// older checkpoints.
        public var probes: Bool? = true
        public var seed: UInt64 = 0
        /// Fraction of the training and validation templates drawn from `SymmetryShapes` (plain
        /// and group-symmetrised shapes) instead of potentials; absent (0) in older checkpoints.
        public var shapeFraction: Double? = 0.5
        /// `SymmetryShapes.generation` of those shapes; absent: 1, the first families (the shipped
        /// model's; 2 was measured no better on the independent sets).
        public var shapeGeneration: Int? = nil
        public var representation = SymmetryRepresentation()
        public var quiet = false
        public init() {}
    }

    public struct Result: Codable, Sendable {
        public var checkpoint: String
        public var validation: Evaluation
        /// One decoy fit per template (the classifier's own view).
        public var heldOut: Evaluation
        /// The same templates scored as users get them (mean over `heldOutSeeds` fits).
        public var heldOutReported: Evaluation?
        public var sweeps: SweepEvaluation?
        public var meanDecoyAccuracy: Double?
        public var seconds: Double
    }

    /// `train` stopped before its last epoch (Ctrl-C or `maxSteps`): the checkpoint continues it.
    public struct Stopped: Error, CustomStringConvertible {
        public let epochs: Int, of: Int
        public let checkpoint: String
        public var description: String {
            "stopped after \(epochs) of \(of) epochs; \(checkpoint) continues the run with --resume (no evaluation was written)"
        }
    }

    /// The sets a run draws before its classifier trains: templates with their decoys fitted.
    struct Sets {
        var train: SymmetryDataset, validation: SymmetryDataset, trainingSweeps: SymmetryDataset?, heldOut: SymmetryDataset
    }

    /// Under mpirun the decoy fits of the training, validation, sweep and held-out sets are shared
    /// out over the ranks; rank 0 then trains the classifier, evaluates and writes, and the other
    /// ranks stop with `FollowerDone`. The classifier trains in the shared `Trainer`: a folder that
    /// holds a run needs `resume` (which redraws the same sets, then continues the classifier from
    /// its checkpoint exactly) or `overwrite`; a run stopped early throws `Stopped`.
    public static func train(_ o: Options, out: String, resume: Bool = false, overwrite: Bool = false, maxSteps: Int? = nil,
                             cluster: Cluster = .world, log: @escaping (String) -> Void = { print($0) }) throws -> Result {
        let start = Date()
        // Checked before the decoys are fitted, so a refusal costs nothing.
        _ = try cluster.onRoot {
            try RunFolder(out).prepare(resume: resume, overwrite: overwrite, clear: false)
            return Data()
        }
        let sets = try drawSets(o, cluster: cluster)
        guard cluster.isRoot else { throw FollowerDone() }
        let task = SymmetryCNNTask(train: sets.train, validation: sets.validation, sweeps: sets.trainingSweeps, options: o)
        var t = TrainOptions()
        t.epochs = o.epochs; t.batchSize = o.batchSize; t.learningRate = o.learningRate; t.seed = o.seed; t.quiet = o.quiet
        t.maxSteps = maxSteps
        let run = try RunFolder(out)
        let trainer = Trainer(task: task, run: run, options: t, setupFiles: [("options.json", try RunFolder.json(o))], cluster: .alone)
        let summary = try trainer.train(resume: resume, overwrite: overwrite)
        guard summary.epochs == o.epochs else { throw Stopped(epochs: summary.epochs, of: o.epochs, checkpoint: run.file(Trainer.checkpointName)) }
        let model = task.model
        model.eval()
        return try finish(model, config: task.config, sets: sets, options: o, run: run, started: start)
    }

    /// The training, validation, training-sweep and held-out sets, their decoys fitted (shared
    /// out over the ranks), with a progress bar for each.
    static func drawSets(_ o: Options, cluster: Cluster) throws -> Sets {
        let rep = o.representation
        let library = SymmetryTemplates(size: rep.size), shapes = SymmetryShapes(size: rep.size, upright: rep.upright == true,
                                                                                generation: o.shapeGeneration ?? 1)
        func build(_ label: String, _ perClass: Int, _ lib: SymmetryTemplates, _ seed: UInt64,
                   shapeFraction: Double = o.shapeFraction ?? 0) -> SymmetryDataset {
            let total = perClass * SymmetryClass.allCases.count
            let drawing = ProgressBar(total: total, label: label.replacingOccurrences(of: "decoys", with: "templates"), unit: "template")
            drawing.quiet = o.quiet
            // The decoy bar starts once the templates are drawn, so its rate counts decoys only.
            var bar: ProgressBar?
            let d = SymmetryDataset.generate(perClass: perClass, library: lib, shapes: shapes, shapeFraction: shapeFraction,
                                             representation: rep, seed: seed, cluster: cluster, drawn: { n in
                drawing.update(n, items: n)
                if n == total {
                    drawing.finish()
                    bar = ProgressBar(total: total, label: label, unit: rep.input == .raw ? "img" : "decoy")
                    bar?.quiet = o.quiet
                }
            }) { bar?.update($0, items: $0) }
            let shown = bar ?? ProgressBar(total: total, label: label)
            shown.quiet = o.quiet
            shown.finish(o.quiet ? "" : "\(label): \(d.count) templates" + (d.decoyAccuracy.map {
                String(format: ", decoys reproduce %.1f %% of pixels", 100 * Double($0.reduce(0, +)) / Double(max($0.count, 1)))
            } ?? ""))
            return d
        }
        let train = build("training decoys", o.perClass, library, o.seed)
        let validation = build("validation decoys", o.validationPerClass, library, o.seed &+ Stream.validation)
        var trainingSweeps: SymmetryDataset?
        if o.trainingSweepsPerClass > 0 {
            let drawn = sweeps(perClass: o.trainingSweepsPerClass, library: library, epsilons: sweepEpsilons, seed: o.seed &+ Stream.trainingSweeps)
            let flat = drawn.flatMap { $0 }
            let bar = ProgressBar(total: flat.count, label: "training sweeps", unit: rep.input == .raw ? "img" : "decoy")
            bar.quiet = o.quiet
            trainingSweeps = SymmetryDataset.make(flat, representation: rep, seed: o.seed &+ Stream.trainingSweepFits,
                                                  progress: { bar.update($0, items: $0) }, cluster: cluster)
            bar.finish(o.quiet ? "" : "training sweeps: \(drawn.count) templates at ε = 0 … 1")
        }
        // Drawn before the classifier trains (it does not depend on it) so that every rank helps.
        let heldOut = build("held-out decoys", o.heldOutPerClass, SymmetryTemplates(size: rep.size, extrapolate: true),
                            o.seed &+ Stream.heldOut, shapeFraction: 0)
        return Sets(train: train, validation: validation, trainingSweeps: trainingSweeps, heldOut: heldOut)
    }

    /// After training: the validation and held-out evaluations (one fit, and as reported), the
    /// sweeps, confusion.png, evaluation.json and the report.
    static func finish(_ model: SymmetryCNN, config: SymmetryDetector.Config, sets: Sets, options o: Options, run: RunFolder,
                       started: Date) throws -> Result {
        let validationResult = evaluate(model, sets.validation)
        var heldOut = evaluate(model, sets.heldOut)
        let detector = SymmetryDetector(model: model, config: config)
        if o.heldOutSeeds > 1, let s = stability(detector, sets.heldOut.templates.prefix(o.stabilityImages).map(\.pixels), fits: o.heldOutSeeds) {
            heldOut.scoreSpreadAcrossSeeds = s.perFit
            heldOut.reportedScoreSpread = s.reported
        }
        let reportedSeeds = Stream.reportedFits(o.heldOutSeeds, input: o.representation.input)
        let (heldOutReported, sweeps) = measure(detector, heldOut: sets.heldOut.templates, sweepsPerClass: o.sweepsPerClass,
                                                sweepSeed: o.seed &+ Stream.heldOutSweeps, seeds: reportedSeeds, quiet: o.quiet)
        try confusionImage(heldOutReported ?? heldOut).writePNG(run.file("confusion.png"))
        let result = Result(checkpoint: run.file(Trainer.checkpointName), validation: validationResult, heldOut: heldOut,
                            heldOutReported: heldOutReported, sweeps: sweeps,
                            meanDecoyAccuracy: sets.train.decoyAccuracy.map { Double($0.reduce(0, +)) / Double(max($0.count, 1)) },
                            seconds: Date().timeIntervalSince(started))
        try run.writeJSON(result, to: "evaluation.json")
        var page = RunReport(title: "GenLab symmetry detector training — \(run.path)")
        page.table("Held out", [("accuracy (exact templates)", String(format: "%.3f", heldOut.accuracyExact)),
                                ("accuracy (all)", String(format: "%.3f", heldOut.accuracyAll)),
                                ("training time", String(format: "%.0f s", result.seconds))])
        try page.write(folder: run.path)
        return result
    }

    /// What `train` adds to its seed for each random stream. `evaluate` and `seenBefore` read the
    /// offsets from here, so the check for sets a checkpoint has seen cannot drift from `train`.
    public enum Stream {
        public static let validation: UInt64 = 1000
        public static let heldOut: UInt64 = 2000
        public static let heldOutSweeps: UInt64 = 3000
        public static let trainingSweeps: UInt64 = 4000
        public static let trainingSweepFits: UInt64 = 4001
        /// How far above its held-out templates an evaluation draws its sweeps.
        public static let sweepsAfterHeldOut = heldOutSweeps - heldOut

        /// The decoy seeds of the reported score's `count` fits (the raw control has no decoy, so
        /// one "fit" is all there is); `train` and `evaluate` use the same ones.
        public static func reportedFits(_ count: Int, input: SymmetryRepresentation.Input) -> [UInt64] {
            (0..<UInt64(input == .raw ? 1 : count)).map { 100 + $0 }
        }
    }

    /// The steps of every sweep, training and held-out.
    public static let sweepEpsilons = [0, 0.2, 0.4, 0.6, 0.8, 1]

    /// Pairwise ranking loss of ε-head logits over consecutive sweeps of `length` images each:
    /// the mean of softplus(d_p − d_q) over the pairs of a sweep whose labels rise by more than
    /// 0.05 from p to q (RankNet's logistic loss; 0 when there is no such pair).
    public static func rankingLoss(_ degree: Tensor, epsilons: [Float], length: Int) -> Tensor {
        precondition(degree.shape == [epsilons.count] && epsilons.count % length == 0, "rankingLoss: \(degree.shape) logits, \(epsilons.count) labels, sweeps of \(length)")
        var lower: [Int] = [], higher: [Int] = []
        for start in stride(from: 0, to: epsilons.count, by: length) {
            for p in start..<(start + length) {
                for q in start..<(start + length) where epsilons[q] > epsilons[p] + 0.05 { lower.append(p); higher.append(q) }
            }
        }
        guard !lower.isEmpty else { return Tensor(0) }
        return (degree.indexSelect(axis: 0, indices: lower) - degree.indexSelect(axis: 0, indices: higher)).softplus().mean()
    }

    /// Class probabilities and ε estimates of precomputed features, each the mean over the
    /// image's eight square symmetries (every class is closed under them, so the average is the
    /// classifier made exactly invariant to them; +2.4 points held-out on the shipped model).
    static func predict(_ model: SymmetryCNN, _ features: Tensor) -> (probabilities: [[Double]], epsilon: [Double]) {
        let k = model.config.classes, n = features.shape[0]
        var probs = [[Double]](repeating: [Double](repeating: 0, count: k), count: n), eps = [Double](repeating: 0, count: n)
        noGrad {
            for s in stride(from: 0, to: n, by: 256) {
                let chunk = features.slice(axis: 0, start: s, end: min(n, s + 256)).detach()
                for transform in 0..<8 {
                    let (logits, degree) = model.predict(SquareSymmetry.apply(chunk) { _ in transform })
                    let p = logits.softmax(axis: 1).scalars, e = degree.sigmoid().scalars
                    for i in 0..<chunk.shape[0] {
                        for c in 0..<k { probs[s + i][c] += Double(p[i * k + c]) / 8 }
                        eps[s + i] += Double(e[i]) / 8
                    }
                }
            }
        }
        return (probs, eps)
    }

    /// The symmetry score from class probabilities and the ε estimate: how likely the image has a
    /// symmetry at all, times how intact the symmetry is, (1 − P(none))·(1 − ε̂), in [0, 1].
    public static func score(probabilities p: [Double], epsilon: Double) -> Double {
        (1 - p[SymmetryClass.none.rawValue]) * (1 - min(max(epsilon, 0), 1))
    }

}
