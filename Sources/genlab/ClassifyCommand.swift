import ArgumentParser
import Foundation
import Lab

/// `genlab classify train|predict`: the supervised baseline tagger.
struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A supervised CNN tagger (signal vs background): the upper bound beside an unsupervised score.",
        subcommands: [TrainTagger.self, Predict.self])

    struct TrainTagger: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train", abstract: "Train on labelled signal and background images.")
        @Option(help: "Signal images (HDF5 / .npy / folder).") var signal: String
        @Option(help: "Background images.") var background: String
        @Option(help: "Run folder.") var out: String
        @Option(help: "Epochs.") var epochs = 6
        @Option(name: .customLong("batch-size"), help: "Batch size.") var batchSize = 128
        @Option(parsing: .unconditional, help: "Learning rate (Adam).") var lr: Float = 1e-3
        @Option(help: "Random seed for initialisation and data order.") var seed: UInt64 = 0
        @OptionGroup var output: OutputOptions
        @Flag(help: "Replace a tagger run already in OUT.") var overwrite = false
        @Flag(
            help:
                ArgumentHelp(
                    "Continue the run in OUT from its checkpoint (exactly: the same figures and weights as an "
                        + "uninterrupted run).")
        )
        var resume = false
        @Option(
            name: .customLong("max-steps"),
            help: "Stop (with a checkpoint to resume from) after this many steps in all (default: all epochs).")
        var maxSteps: Int?
        @OptionGroup var limits: InputLimitOptions

        func validate() throws {
            try Check.positive(epochs, "--epochs", max: 1_000_000)
            try Check.positive(batchSize, "--batch-size", max: 65_536)
            try Check.finite(lr, "--lr", in: 0...10, openLower: true)
            if let maxSteps { try Check.positive(maxSteps, "--max-steps", max: 1_000_000_000) }
            if resume && overwrite { throw ValidationError("--resume and --overwrite exclude each other") }
        }

        func run() throws {
            try output.run { try train() }
        }

        func train() throws -> Outcome {
            try OutputGuard.refuse(outputs: [out], inputs: [signal, background])
            let r = try Tagger.train(
                signal: signal, background: background, out: out, epochs: epochs, batchSize: batchSize, lr: lr,
                seed: seed, quiet: output.quiet, overwrite: overwrite, resume: resume, maxSteps: maxSteps)
            if r.interrupted {
                print(
                    "tagger stopped after \(r.epochs) of \(epochs) epochs; checkpoint \(r.checkpoint) (continue with "
                        + "--resume)"
                )
            } else {
                print(
                    String(
                        format: "tagger trained for %d epochs: validation AUC %.4f; checkpoint %@", r.epochs,
                        r.validationAUC, r.checkpoint))
            }
            return Outcome(
                command: "classify train", out: out, files: [r.checkpoint],
                figures: ["epochs": Double(r.epochs), "validation_auc": r.validationAUC])
        }
    }

    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score events with a trained tagger (ROC/AUC when the files carry labels).")
        @Option(help: "A tagger checkpoint written by genlab classify train.") var checkpoint: String
        @Argument(help: ArgumentHelp("Event files (HDF5 with /images, .npy, folders).", valueName: "events"))
        var positionalEvents: [String] = []
        @Option(name: .customLong("data"), help: "Event files, as the positional ones (repeatable) (default: none).")
        var dataEvents: [String] = []
        @Option(help: "Output folder (predictions.csv, roc.png).") var out: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var limits: InputLimitOptions

        /// The files to score: the positional ones, then every --data.
        var events: [String] { positionalEvents + dataEvents }

        func validate() throws {
            guard !events.isEmpty else {
                throw ValidationError("give the event files to score (EVENTS … or --data FILE)")
            }
        }

        func run() throws {
            try output.run { try predict() }
        }

        func predict() throws -> Outcome {
            try OutputGuard.refuse(outputs: [out, out + "/predictions.csv"], inputs: events + [checkpoint])
            let (scores, labels) = try Tagger.predict(checkpoint: checkpoint, files: events)
            let written = try TaggerPredictions(scores: scores, labels: labels).write(folder: out)
            print("scored \(scores.count) events → \(written.predictions)")
            if let roc = written.roc {
                print(
                    String(
                        format: "AUC %.4f; 1/εB at εS = 0.3: %.1f, at 0.5: %.1f → %@", roc.auc, roc.rejectionAt30,
                        roc.rejectionAt50, roc.plot))
            }
            var figures = ["events": Double(scores.count)]
            if let roc = written.roc {
                figures["auc"] = roc.auc
                figures["rejection_at_0.3"] = roc.rejectionAt30
                figures["rejection_at_0.5"] = roc.rejectionAt50
            }
            return Outcome(
                command: "classify predict", out: out,
                files: [written.predictions] + (written.roc.map { [$0.plot] } ?? []), figures: figures)
        }
    }
}
