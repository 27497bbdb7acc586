import Foundation

/// How `genlab symmetry train` draws its sets and trains the classifier; recorded in the
/// checkpoint (`SymmetryDetector.Config.training`), so an evaluation can tell which sets are new.
public struct SymmetryTrainingOptions: Codable, Sendable {
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

/// What `train` adds to its seed for each random stream. `evaluate` and `seenBefore` read the
/// offsets from here, so the check for sets a checkpoint has seen cannot drift from `train`.
public enum SymmetrySeeds {
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
