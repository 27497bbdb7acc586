import Foundation

/// When an image's decoy fits may stop before its last seed (`SymmetryDetector.score`): every image
/// gets `first` fits, then `round` more at a time while its verdict is not settled and seeds are
/// left. Settled: against every class whose verdict (after the pixel rules) would differ from the
/// leading class's, the lead in probability — mean over the fits so far — exceeds `z` standard
/// errors of that mean, and the score's standard error is at most `scoreError`. The fits an image
/// does get are the fixed-count run's first ones (the same decoys), so a close call still ends on
/// all of its seeds.
public struct DecoyFitStopping: Codable, Equatable, Sendable {
    /// Fits every image gets before any may stop.
    public var first: Int
    /// Fits added at a time to an image that is not settled.
    public var round: Int
    /// Standard errors by which the leading class must lead each class with another verdict.
    public var z: Double
    /// The largest standard error of the mean score at which an image may stop.
    public var scoreError: Double

    public init(first: Int, round: Int, z: Double, scoreError: Double) {
        precondition(
            first >= 2 && round >= 1 && z >= 0 && scoreError > 0,
            "DecoyFitStopping: first ≥ 2, round ≥ 1, z ≥ 0, scoreError > 0")
        self.first = first; self.round = round; self.z = z; self.scoreError = scoreError
    }

    /// `symmetry score`'s and `evaluate --images`' default. The score's bound is about what the
    /// twenty-fit mean reached (one fit's score scatters by about 0.1 over seeds: docs/symmetry.md).
    public static let standard = DecoyFitStopping(first: 5, round: 5, z: 3, scoreError: 0.02)

    /// Whether an image's fits so far settle it: `probabilities` and `scores` one row and one value
    /// per fit, `verdicts[c]` what the image's verdict would be if the classifier's best class were c.
    public func isSettled(_ probabilities: [[Double]], scores: [Double], verdicts: [Int]) -> Bool {
        let n = probabilities.count
        guard n >= 2, scores.count == n, let k = probabilities.first?.count, verdicts.count == k else { return false }
        guard Self.meanAndError(scores).error <= scoreError else { return false }
        let mean = (0..<k).map { c in probabilities.reduce(0) { $0 + $1[c] } / Double(n) }
        let top = SymmetryDetector.leadingClass(mean)
        for c in 0..<k where verdicts[c] != verdicts[top] {
            let lead = Self.meanAndError(probabilities.map { $0[top] - $0[c] })
            guard lead.mean > z * lead.error else { return false }
        }
        return true
    }

    /// The mean and its standard error from the sample variance (the fits are a sample of the decoys
    /// this image could get): `meanAndSpread`'s spread divides by n, so the error is spread / √(n − 1).
    static func meanAndError(_ x: [Double]) -> (mean: Double, error: Double) {
        let (mean, spread) = Statistics.meanAndSpread(x)
        return (mean, spread / Double(x.count - 1).squareRoot())
    }
}
