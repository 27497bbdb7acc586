import Cluster
import Engine
import Formats
import Foundation
import Models
import NN

/// `genlab symmetry train`: generates templates, fits a decoy to each, trains the SymmetryCNN on
/// their PCA images (with the eight square symmetries as augmentation), and measures it on a
/// held-out set drawn with new seeds and, where a class allows, parameters outside the training
/// ranges. Writes checkpoint.safetensors, metrics.csv, loss.png, confusion.png, evaluation.json.
public enum SymmetryTraining {
    public struct Result: Codable, Sendable {
        public var checkpoint: String
        public var validation: SymmetryEvaluation.Evaluation
        /// One decoy fit per template (the classifier's own view).
        public var heldOut: SymmetryEvaluation.Evaluation
        /// The same templates scored as users get them (mean over `heldOutSeeds` fits).
        public var heldOutReported: SymmetryEvaluation.Evaluation?
        public var sweeps: SymmetryEvaluation.SweepEvaluation?
        public var meanDecoyAccuracy: Double?
        public var seconds: Double
    }

    /// `train` stopped before its last epoch (Ctrl-C or `maxSteps`): the checkpoint continues it.
    public struct Stopped: Error, CustomStringConvertible {
        public let epochs: Int, of: Int
        public let checkpoint: String
        public var description: String {
            "stopped after \(epochs) of \(of) epochs; \(checkpoint) continues the run with --resume (no evaluation "
                + "was written)"
        }
    }

    /// The sets a run draws before its classifier trains: templates with their decoys fitted.
    struct Sets {
        var train: SymmetryDataset, validation: SymmetryDataset, trainingSweeps: SymmetryDataset?,
            heldOut: SymmetryDataset
    }

    /// Under mpirun the decoy fits of the training, validation, sweep and held-out sets are shared
    /// out over the ranks; rank 0 then trains the classifier, evaluates and writes, and the other
    /// ranks stop with `FollowerDone`. The classifier trains in the shared `Trainer`: a folder that
    /// holds a run needs `resume` (which redraws the same sets, then continues the classifier from
    /// its checkpoint exactly) or `overwrite`; a run stopped early throws `Stopped`.
    public static func train(
        _ o: SymmetryTrainingOptions, out: String, resume: Bool = false, overwrite: Bool = false, maxSteps: Int? = nil,
        cluster: Cluster = .world, log: @escaping (String) -> Void = { print($0) }
    ) throws -> Result {
        let start = Date()
        // Checked before the decoys are fitted, so a refusal costs nothing.
        _ = try cluster.onRoot {
            try RunFolder(out).prepare(resume: resume, overwrite: overwrite, clear: false)
            return Data()
        }
        let sets = try drawSets(o, cluster: cluster)
        guard cluster.isRoot else { throw FollowerDone() }
        let task = SymmetryCNNTask(
            train: sets.train, validation: sets.validation, sweeps: sets.trainingSweeps, options: o)
        var t = TrainOptions()
        t.epochs = o.epochs; t.batchSize = o.batchSize; t.learningRate = o.learningRate; t.seed = o.seed;
        t.quiet = o.quiet
        t.maxSteps = maxSteps
        let run = try RunFolder(out)
        let trainer = Trainer(
            task: task, run: run, options: t, setupFiles: [("options.json", try RunFolder.json(o))], cluster: .alone)
        let summary = try trainer.train(resume: resume, overwrite: overwrite)
        guard summary.epochs == o.epochs else {
            throw Stopped(epochs: summary.epochs, of: o.epochs, checkpoint: run.file(Trainer.checkpointName))
        }
        let model = task.model
        model.eval()
        return try finish(model, config: task.config, sets: sets, options: o, run: run, started: start)
    }

    /// The training, validation, training-sweep and held-out sets, their decoys fitted (shared
    /// out over the ranks), with a progress bar for each.
    // Long: four sets drawn alike, each with its progress bars.
    static func drawSets(_ o: SymmetryTrainingOptions, cluster: Cluster) throws -> Sets {
        let rep = o.representation
        let library = SymmetryTemplates(size: rep.size),
            shapes = SymmetryShapes(
                size: rep.size, upright: rep.upright == true,
                generation: o.shapeGeneration ?? 1)
        func build(
            _ label: String, _ perClass: Int, _ lib: SymmetryTemplates, _ seed: UInt64,
            shapeFraction: Double = o.shapeFraction ?? 0
        ) -> SymmetryDataset {
            let total = perClass * SymmetryClass.allCases.count
            let drawing = ProgressBar(
                total: total, label: label.replacingOccurrences(of: "decoys", with: "templates"), unit: "template")
            drawing.quiet = o.quiet
            // The decoy bar starts once the templates are drawn, so its rate counts decoys only.
            var bar: ProgressBar?
            let d = SymmetryDataset.generate(
                perClass: perClass, library: lib, shapes: shapes, shapeFraction: shapeFraction,
                representation: rep, seed: seed, cluster: cluster,
                drawn: { n in
                    drawing.update(n, items: n)
                    if n == total {
                        drawing.finish()
                        bar = ProgressBar(total: total, label: label, unit: rep.input == .raw ? "img" : "decoy")
                        bar?.quiet = o.quiet
                    }
                }
            ) { bar?.update($0, items: $0) }
            let shown = bar ?? ProgressBar(total: total, label: label)
            shown.quiet = o.quiet
            shown.finish(
                o.quiet
                    ? ""
                    : "\(label): \(d.count) templates"
                        + (d.decoyAccuracy.map {
                            String(
                                format: ", decoys reproduce %.1f %% of pixels",
                                100 * Double($0.reduce(0, +)) / Double(max($0.count, 1)))
                        } ?? ""))
            return d
        }
        let train = build("training decoys", o.perClass, library, o.seed)
        let validation = build("validation decoys", o.validationPerClass, library, o.seed &+ SymmetrySeeds.validation)
        var trainingSweeps: SymmetryDataset?
        if o.trainingSweepsPerClass > 0 {
            let drawn = SymmetryEvaluation.sweeps(
                perClass: o.trainingSweepsPerClass, library: library, epsilons: SymmetryEvaluation.sweepEpsilons,
                seed: o.seed &+ SymmetrySeeds.trainingSweeps)
            let flat = drawn.flatMap { $0 }
            let bar = ProgressBar(
                total: flat.count, label: "training sweeps", unit: rep.input == .raw ? "img" : "decoy")
            bar.quiet = o.quiet
            trainingSweeps = SymmetryDataset.make(
                flat, representation: rep, seed: o.seed &+ SymmetrySeeds.trainingSweepFits,
                progress: { bar.update($0, items: $0) }, cluster: cluster)
            bar.finish(o.quiet ? "" : "training sweeps: \(drawn.count) templates at ε = 0 … 1")
        }
        // Drawn before the classifier trains (it does not depend on it) so that every rank helps.
        let heldOut = build(
            "held-out decoys", o.heldOutPerClass, SymmetryTemplates(size: rep.size, extrapolate: true),
            o.seed &+ SymmetrySeeds.heldOut, shapeFraction: 0)
        return Sets(train: train, validation: validation, trainingSweeps: trainingSweeps, heldOut: heldOut)
    }

    /// After training: the validation and held-out evaluations (one fit, and as reported), the
    /// sweeps, confusion.png, evaluation.json and the report.
    static func finish(
        _ model: SymmetryCNN, config: SymmetryDetector.Config, sets: Sets, options o: SymmetryTrainingOptions,
        run: RunFolder,
        started: Date
    ) throws -> Result {
        let validationResult = SymmetryEvaluation.evaluate(model, sets.validation)
        var heldOut = SymmetryEvaluation.evaluate(model, sets.heldOut)
        let detector = SymmetryDetector(model: model, config: config)
        if o.heldOutSeeds > 1,
            let s = SymmetryEvaluation.stability(
                detector, sets.heldOut.templates.prefix(o.stabilityImages).map(\.pixels), fits: o.heldOutSeeds)
        {
            heldOut.scoreSpreadAcrossSeeds = s.perFit
            heldOut.reportedScoreSpread = s.reported
        }
        let reportedSeeds = SymmetrySeeds.reportedFits(o.heldOutSeeds, input: o.representation.input)
        let (heldOutReported, sweeps) = SymmetryEvaluation.measure(
            detector, heldOut: sets.heldOut.templates, sweepsPerClass: o.sweepsPerClass,
            sweepSeed: o.seed &+ SymmetrySeeds.heldOutSweeps, seeds: reportedSeeds, quiet: o.quiet)
        try SymmetryEvaluation.confusionFigure(heldOutReported ?? heldOut).write(run.file("confusion.png"))
        let result = Result(
            checkpoint: run.file(Trainer.checkpointName), validation: validationResult, heldOut: heldOut,
            heldOutReported: heldOutReported, sweeps: sweeps,
            meanDecoyAccuracy: sets.train.decoyAccuracy.map { Double($0.reduce(0, +)) / Double(max($0.count, 1)) },
            seconds: Date().timeIntervalSince(started))
        try run.writeJSON(result, to: "evaluation.json")
        var page = RunReport(title: "GenLab symmetry detector training — \(run.path)")
        page.table(
            "Held out",
            [
                ("accuracy (exact templates)", String(format: "%.3f", heldOut.accuracyExact)),
                ("accuracy (all)", String(format: "%.3f", heldOut.accuracyAll)),
                ("training time", String(format: "%.0f s", result.seconds)),
            ])
        try page.write(folder: run.path)
        return result
    }

    /// Pairwise ranking loss of ε-head logits over consecutive sweeps of `length` images each:
    /// the mean of softplus(d_p − d_q) over the pairs of a sweep whose labels rise by more than
    /// 0.05 from p to q (RankNet's logistic loss; 0 when there is no such pair).
    public static func rankingLoss(_ degree: Tensor, epsilons: [Float], length: Int) -> Tensor {
        precondition(
            degree.shape == [epsilons.count] && epsilons.count % length == 0,
            "rankingLoss: \(degree.shape) logits, \(epsilons.count) labels, sweeps of \(length)")
        var lower: [Int] = [], higher: [Int] = []
        for start in stride(from: 0, to: epsilons.count, by: length) {
            for p in start..<(start + length) {
                for q in start..<(start + length) where epsilons[q] > epsilons[p] + 0.05 {
                    lower.append(p); higher.append(q)
                }
            }
        }
        guard !lower.isEmpty else { return Tensor(0) }
        return (degree.indexSelect(axis: 0, indices: lower) - degree.indexSelect(axis: 0, indices: higher)).softplus()
            .mean()
    }
}
