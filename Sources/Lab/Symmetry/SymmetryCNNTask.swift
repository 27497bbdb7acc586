import Engine
import Formats
import Foundation
import Models
import NN

/// The symmetry CNN as a `TrainingTask`: precomputed features (PCA images of fitted decoys),
/// cross-entropy on the class plus the weighted BCE of the ε head, a random square symmetry per
/// image and step drawn from the data stream; with training sweeps, also the ranking loss on two
/// random sweeps per step. Every epoch ends with the validation accuracy and ρ(ε, score).
final class SymmetryCNNTask: TrainingTask {
    let kind = SymmetryDetector.kind
    let model: SymmetryCNN
    let optimizer: Adam
    let options: SymmetryTrainingOptions
    let train: SymmetryDataset, validation: SymmetryDataset, sweeps: SymmetryDataset?
    /// The classifier's streams: weights from fork 1, data order and augmentation from fork 2.
    private let streams: PRNG

    init(
        train: SymmetryDataset, validation: SymmetryDataset, sweeps: SymmetryDataset?,
        options o: SymmetryTrainingOptions
    ) {
        self.train = train; self.validation = validation; self.sweeps = sweeps; options = o
        let rep = o.representation
        streams = PRNG(seed: o.seed).fork(7)
        var initRNG = streams.fork(1)
        model = SymmetryCNN(
            .init(
                imageSize: rep.size, channels: rep.channels, classes: SymmetryClass.allCases.count,
                features: o.features, headGrid: o.headGrid, probes: o.probes), rng: &initRNG)
        optimizer = Adam(model.namedParameters(), lr: o.learningRate)
    }

    /// The checkpoint's configuration: the CNN, how its input is made, the classes, the options.
    var config: SymmetryDetector.Config {
        SymmetryDetector.Config(
            cnn: model.config, representation: options.representation, classes: SymmetryClass.allCases.map(\.name),
            training: options)
    }

    var exampleCount: Int { train.count }
    var metricNames: [String] { ["loss", "val_accuracy_exact", "val_accuracy", "val_spearman"] }
    var plottedMetrics: [String] { ["loss", "val_accuracy"] }
    var schedule: TrainingSchedule { TrainingSchedule(cadence: .everyEpoch, keepsLastPartialBatch: true) }
    func freshStreams(seed: UInt64) -> (data: PRNG, noise: PRNG) { (streams.fork(2), streams.fork(3)) }

    func step(_ idx: [Int], at position: StepPosition, data: inout PRNG, noise: inout PRNG) -> [String: Double] {
        model.train()
        let x = SquareSymmetry.augment(train.features.indexSelect(axis: 0, indices: idx).detach(), rng: &data)
        let (logits, degree) = model.predict(x)
        var loss =
            Loss.crossEntropy(logits, targets: idx.map { train.labels[$0] })
            + Loss.bceWithLogits(degree, Tensor(shape: [idx.count], data: idx.map { train.epsilons[$0] }))
            * options.degreeWeight
        if let sw = sweeps {
            let n = SymmetryEvaluation.sweepEpsilons.count
            let starts = (0..<2).map { _ in data.nextInt(sw.count / n) * n }
            let picked = starts.flatMap { Array($0..<($0 + n)) }
            let x = SquareSymmetry.augment(sw.features.indexSelect(axis: 0, indices: picked).detach(), rng: &data)
            let ranking = SymmetryTraining.rankingLoss(
                model.predict(x).degreeLogit, epsilons: picked.map { sw.epsilons[$0] }, length: n)
            loss = loss + ranking * options.rankingWeight
        }
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
        return ["loss": Double(loss.item())]
    }

    func evaluate(noise: inout PRNG) -> [String: Double] {
        let v = SymmetryEvaluation.evaluate(model, validation)
        return [
            "val_accuracy_exact": v.accuracyExact, "val_accuracy": v.accuracyAll,
            "val_spearman": v.spearmanEpsilonScore,
        ]
    }

    func epochSummary(_ f: [String: Double], epoch: Int, of epochs: Int) -> String? {
        String(
            format: "epoch %d/%d: loss %.4f  validation accuracy %.3f (exact %.3f)  ρ(ε, score) %.3f", epoch, epochs,
            f["loss"] ?? .nan, f["val_accuracy"] ?? .nan, f["val_accuracy_exact"] ?? .nan, f["val_spearman"] ?? .nan)
    }

    var reportRows: [(String, String)] {
        [
            ("training templates", "\(train.count)"), ("validation templates", "\(validation.count)"),
            ("training sweeps", sweeps.map { "\($0.count) images" } ?? "—"),
            (
                "input",
                "\(options.representation.input.rawValue), \(options.representation.channels) channels of "
                    + "\(options.representation.size)²"
            ),
        ]
    }

    func checkpoint(training: TrainingState) throws -> Checkpoint {
        try Checkpoint(kind: kind.rawValue, config: config, module: model, optimizer: optimizer, training: training)
    }

    /// Resuming needs the run's own templates, decoys and classifier: every option but the epochs
    /// and `quiet` must be what the checkpoint was trained with.
    func restore(_ checkpoint: Checkpoint, file: String) throws {
        let saved = try checkpoint.decodeConfig(SymmetryDetector.Config.self, file: file)
        func comparable(_ o: SymmetryTrainingOptions?) -> Data? {
            guard var o else { return nil }
            o.epochs = 0; o.quiet = false
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return try? encoder.encode(o)
        }
        guard comparable(saved.training) == comparable(options) else {
            throw FormatError(
                file,
                "was trained with other options (templates, decoys or classifier); resuming needs the same ones but "
                    + "--epochs"
            )
        }
        try checkpoint.restore(into: model, optimizer: optimizer, file: file)
    }
}
