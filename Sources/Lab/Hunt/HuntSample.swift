import Datasets
import Engine
import Formats
import Foundation

/// The events of one resonant-hunt experiment, drawn from a labelled feature table (background
/// label 0, signal label 1) as the LHC Olympics R&D benchmark is used:
/// - **data**: a share of the background with signal injected so that S/B in the signal region is
///   the asked fraction — the only events the weakly supervised methods see, labels unseen;
/// - **reference**: other background events (a perfect background model, for the idealised
///   detector and the supervised classifier);
/// - **test**: signal-region background and signal that no method trains on, where SIC is measured;
/// - **signal for training**: signal-region signal events for the supervised classifier alone.
public struct HuntSample {
    /// Rows of the table in each role.
    public var data: [Int]
    public var reference: [Int]
    public var testBackground: [Int]
    public var testSignal: [Int]
    public var trainingSignal: [Int]
    /// Signal events injected into the data, and how many of them fall in the signal region.
    public var injected: Int
    public var injectedInRegion: Int
    /// Background events of the data in the signal region.
    public var dataBackgroundInRegion: Int

    /// S/B in the signal region of the data.
    public var signalOverBackground: Double { Double(injectedInRegion) / Double(max(dataBackgroundInRegion, 1)) }

    /// Splits `table` (with `label` and `mjj`) for an injected S/B of `fraction` in `region`; the
    /// background is shared data 60 % / reference 20 % / test 20 %, the signal test / injection pool
    /// from `seed` (the same seed gives the same events at every fraction, the injected set growing).
    public init(table: FeatureTable, region: ClosedRange<Double>, fraction: Double, seed: UInt64) throws {
        let labels = try table.column("label"), mjj = try table.column("mjj")
        func inRegion(_ r: Int) -> Bool { Double(mjj[r]) >= region.lowerBound && Double(mjj[r]) < region.upperBound }
        var rng = PRNG(seed: seed).fork(11)
        let background = (0..<table.rows).filter { labels[$0] == 0 }
        let signal = (0..<table.rows).filter { labels[$0] == 1 }
        guard !background.isEmpty else {
            throw FormatError(table.sources.first ?? "--data", "holds no background (label 0)")
        }
        guard signal.count >= 20 || fraction == 0 else {
            throw FormatError(
                table.sources.first ?? "--data",
                "holds \(signal.count) signal events (label 1); the hunt needs some to inject and test")
        }
        let b = rng.permutation(background.count).map { background[$0] }
        let nData = background.count * 4 / 10, nReference = background.count * 4 / 10
        data = Array(b[0..<nData])
        reference = Array(b[nData..<(nData + nReference)])
        testBackground = b[(nData + nReference)...].filter(inRegion)
        let s = rng.permutation(signal.count).map { signal[$0] }
        let signalInRegion = s.filter(inRegion)
        // The last quarter (in the seeded order) of the signal-region signal is the test set; injection
        // draws from the rest from the front, so what it draws is not thinned in the SR by the test's share.
        let nTest = signalInRegion.count / 4
        testSignal = Array(signalInRegion.suffix(nTest))
        let held = Set(testSignal)
        let pool = s.filter { !held.contains($0) }
        dataBackgroundInRegion = data.filter(inRegion).count
        let wanted = Int((fraction * Double(dataBackgroundInRegion)).rounded())
        var taken = 0, inside = 0
        while inside < wanted && taken < pool.count {
            if inRegion(pool[taken]) { inside += 1 }
            taken += 1
        }
        guard inside == wanted else {
            throw FormatError(
                table.sources.first ?? "--data",
                "S/B = \(fraction) in the signal region needs \(wanted) signal events there; the file has "
                    + "\(inside) to inject"
            )
        }
        injected = taken
        injectedInRegion = inside
        data += pool[0..<taken]
        // The supervised classifier learns from signal-region signal the data did not take.
        trainingSignal = pool[taken...].filter(inRegion)
        if trainingSignal.count < 100 { trainingSignal = pool.filter(inRegion) }
    }
}
