import Datasets
import Engine
import Formats
import Foundation
import Models
import NN
import Physics

/// How the shared loop cuts epochs into batches and logs them.
public struct TrainingSchedule: Sendable {
    /// One metrics row per step (GAN, VAE/AE), or one per epoch holding the epoch's mean of
    /// every step figure beside the end-of-epoch evaluation (tagger, symmetry CNN).
    public enum Cadence: Sendable { case everyStep, everyEpoch }
    public var cadence: Cadence = .everyStep
    /// Whether an epoch ends with a smaller batch of the examples left over (else they wait for
    /// the next epoch's permutation).
    public var keepsLastPartialBatch = false
    public init(cadence: Cadence = .everyStep, keepsLastPartialBatch: Bool = false) {
        self.cadence = cadence; self.keepsLastPartialBatch = keepsLastPartialBatch
    }
}

/// Where one training step stands in its run.
public struct StepPosition: Sendable {
    /// Steps finished before this one (the first step of a run is 0).
    public var step: Int
    /// Epochs finished before this one.
    public var epoch: Int
}

/// Images shown at the end of an epoch (sample grids), in model space, with their display range.
public struct SampleImages {
    public var images: Tensor
    public var range: ClosedRange<Float>
    /// Scale every image to its own maximum (jet images span decades).
    public var normalizeEach: Bool
}

/// What the shared training loop (`Trainer`) needs from a trained thing: GAN, VAE/AE, the jet
/// tagger, the symmetry CNN. The loop owns the epochs, the batch order, the random streams, the
/// progress bar, metrics.csv and TensorBoard, the checkpoints, Ctrl-C and exact resume; the task
/// owns its model, optimiser and data, and turns a batch of example indices into one update.
public protocol TrainingTask: AnyObject {
    /// The checkpoint's `genlab.kind`.
    var kind: ModelKind { get }
    /// Training examples; every epoch is a seeded permutation of 0..<exampleCount cut into batches.
    var exampleCount: Int { get }
    /// Column names for metrics.csv (step figures, then evaluation figures).
    var metricNames: [String] { get }
    /// The curves for loss.png.
    var plottedMetrics: [String] { get }
    var schedule: TrainingSchedule { get }
    /// The loop's two random streams at the start of a fresh run: `data` orders the examples
    /// (and may augment them), `noise` feeds the model's own sampling.
    func freshStreams(seed: UInt64) -> (data: PRNG, noise: PRNG)
    /// Trains on the examples at `examples` (this rank's share of the batch; may be empty when a
    /// last batch has fewer rows than ranks); returns the figures for metrics.csv.
    func step(_ examples: [Int], at position: StepPosition, data: inout PRNG, noise: inout PRNG) -> [String: Double]
    /// End-of-epoch figures (validation), if any.
    func evaluate(noise: inout PRNG) -> [String: Double]
    /// Images to show this epoch (from fixed noise), if the model makes images.
    func samples() -> SampleImages?
    /// Everything that must be saved to resume: model (+ optimisers) as a checkpoint.
    func checkpoint(training: TrainingState) throws -> Checkpoint
    /// Loads a checkpoint of this run (refusing one made for other data or another model).
    func restore(_ checkpoint: Checkpoint, file: String) throws
    /// Trains as one rank of `parallel` from now on (gradients averaged before every optimiser
    /// step, batch-wide noise drawn through it; BatchNorm over the global batch if asked).
    func useDataParallel(_ parallel: DataParallel, synchroniseBatchNorm: Bool)
    /// The report's "Data" table.
    var reportRows: [(String, String)] { get }
    /// The line printed when an epoch ends (nil: the plotted figures).
    func epochSummary(_ figures: [String: Double], epoch: Int, of epochs: Int) -> String?
}

extension TrainingTask {
    public var schedule: TrainingSchedule { TrainingSchedule() }
    public func freshStreams(seed: UInt64) -> (data: PRNG, noise: PRNG) {
        (PRNG(seed: seed).fork(1), PRNG(seed: seed).fork(2))
    }
    public func evaluate(noise: inout PRNG) -> [String: Double] { [:] }
    public func samples() -> SampleImages? { nil }
    public func useDataParallel(_ parallel: DataParallel, synchroniseBatchNorm: Bool) {}
    public var reportRows: [(String, String)] { [] }
    public func epochSummary(_ figures: [String: Double], epoch: Int, of epochs: Int) -> String? { nil }
}

/// The images a generative model trains on, and how they were prepared (GAN, VAE/AE).
public struct TrainingImages {
    public var set: ImageSet
    public var spec: DataSpec
    public init(_ set: ImageSet, spec: DataSpec) { self.set = set; self.spec = spec }

    public func batch(_ examples: [Int]) -> Tensor { set.batch(examples) }

    /// The examples' class labels when the model is class-conditional (`spec.classNames`), else nil.
    public func labels(_ examples: [Int]) -> [Int]? {
        guard spec.classNames != nil, let labels = set.labels else { return nil }
        return examples.map { labels[$0] }
    }

    /// The checkpoint metadata that records the preparation.
    public func metadata() throws -> [String: String] {
        [DataSpec.metadataKey: try spec.metadataValue()]
    }

    /// Refuses to resume from a checkpoint trained on differently prepared images.
    public func checkResumable(_ ckpt: Checkpoint, file: String) throws {
        guard let s = DataSpec(metadata: ckpt.metadata) else { return }
        if s.imageSize != spec.imageSize || s.channels != spec.channels || s.scaling != spec.scaling {
            throw FormatError(
                file,
                "was trained on \(s.channels)×\(s.imageSize)² \(s.scaling) data, now given "
                    + "\(spec.channels)×\(spec.imageSize)² \(spec.scaling)")
        }
        if s.classNames != spec.classNames {
            func describe(_ names: [String]?) -> String {
                names.map { "\($0.count) classes (\($0.joined(separator: ", ")))" } ?? "no classes (unconditional)"
            }
            throw FormatError(
                file, "was trained on \(describe(s.classNames)), now given \(describe(spec.classNames))")
        }
    }

    public var reportRows: [(String, String)] {
        [
            ("source", spec.source), ("images", "\(set.count) × \(spec.channels)×\(spec.imageSize)×\(spec.imageSize)"),
            ("scaling", spec.scaling.rawValue),
            ("preprocessing", spec.preprocessing.isEmpty ? "—" : spec.preprocessing),
        ] + (spec.classNames.map { [("classes", "\($0.count): " + $0.joined(separator: ", "))] } ?? [])
            + set.skipped.prefix(20).map { ("skipped", $0) }
    }

    public func samples(_ images: Tensor) -> SampleImages {
        SampleImages(images: images, range: spec.displayRange, normalizeEach: spec.isJetImages)
    }
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
    /// The learning-rate schedule, weight decay and clipping (nil: constant rate, plain Adam).
    public var optimizer: OptimizerPolicy?
    /// Keep best.safetensors for the epoch with the best value of this metric (nil: none).
    public var keepBest: String?
    public init() {}

    /// The optimiser policy with its planned steps: epochs × the full batches of `examples` (the
    /// generative loops keep a last partial batch for the next epoch). --max-steps stops a run
    /// early without changing its plan, so a run stopped and resumed follows the same rates.
    public func plannedPolicy(examples: Int) -> OptimizerPolicy {
        var policy = optimizer ?? OptimizerPolicy()
        policy.plannedSteps = epochs * Swift.max(1, examples / Swift.max(batchSize, 1))
        return policy
    }

    /// The sample-grid cadence in epochs.
    public var sampleInterval: Int { sampleEvery ?? max(1, (epochs + 19) / 20) }
}
