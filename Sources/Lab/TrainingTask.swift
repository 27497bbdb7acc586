import Engine
import Foundation
import Formats
import Models
import NN
import Physics

/// How a model's data was prepared: recorded in every checkpoint, so sampling, interpolation and
/// scoring undo (or repeat) exactly the same preparation, and a mismatch is caught.
public struct DataSpec: Codable, Equatable, Sendable {
    public var source: String
    public var imageSize: Int
    public var channels: Int
    public var scaling: ImageSet.Scaling
    /// The source file's jet-image preprocessing attributes ("" for ordinary images).
    public var preprocessing: String = ""
    public var isJetImages: Bool { !preprocessing.isEmpty }

    public init(source: String, imageSize: Int, channels: Int, scaling: ImageSet.Scaling, preprocessing: String = "") {
        self.source = source; self.imageSize = imageSize; self.channels = channels; self.scaling = scaling; self.preprocessing = preprocessing
    }

    /// The jet-image geometry recorded in `preprocessing` (window 1.25 when unrecorded).
    public var jetImage: JetImage {
        let window = preprocessing.split(separator: ";").compactMap { part -> Double? in
            let kv = part.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            return kv.count == 2 && kv[0] == "image_window" ? Double(kv[1]) : nil
        }.first ?? 1.25
        return JetImage(size: imageSize, window: window)
    }

    /// Maps model-space values back to display range for PNG output.
    public var displayRange: ClosedRange<Float> { scaling == .minusOneToOne ? -1...1 : 0...1 }
}

/// What the shared training loop needs from a model family (GAN, VAE/AE).
public protocol TrainingTask: AnyObject {
    var kind: String { get }
    var metricNames: [String] { get }
    /// Trains on one batch; returns the figures for metrics.csv.
    func step(_ batch: Tensor, noise: inout PRNG) -> [String: Double]
    /// End-of-epoch figures (validation), if any.
    func evaluate(noise: inout PRNG) -> [String: Double]
    /// Images to show this epoch (from fixed noise), in model space.
    func samples() -> Tensor
    /// Everything that must be saved to resume: model (+ optimisers) as a checkpoint.
    func checkpoint(training: TrainingState, data: DataSpec) throws -> Checkpoint
    func restore(_ checkpoint: Checkpoint, file: String) throws
    /// The curves for loss.png.
    var plottedMetrics: [String] { get }
    /// Trains as one rank of `parallel` from now on (gradients averaged before every optimiser
    /// step, batch-wide noise drawn through it; BatchNorm over the global batch if asked).
    func useDataParallel(_ parallel: DataParallel, synchroniseBatchNorm: Bool)
}

/// The options `genlab train` passes to every model family.
public struct TrainOptions: Codable, Sendable {
    public var epochs = 5
    public var batchSize = 64
    public var learningRate: Float?
    public var latentDim: Int?
    public var imageSize: Int?
    public var seed: UInt64 = 0
    public var validationFraction: Double = 0.1
    /// Stop after this many steps in total (tests, quick demos); nil: run all epochs.
    public var maxSteps: Int?
    public var quiet = false
    /// Keep a sample grid every this many epochs (and always the last); nil: about twenty a run.
    public var sampleEvery: Int?
    /// The number of processes of a data-parallel run (nil: one process).
    public var ranks: Int?
    /// BatchNorm statistics over the whole global batch rather than each rank's share (nil: off).
    public var syncBatchNorm: Bool?
    public init() {}

    /// The sample-grid cadence in epochs.
    public var sampleInterval: Int { sampleEvery ?? max(1, (epochs + 19) / 20) }
}
