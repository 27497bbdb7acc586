import Engine
import Foundation

/// A measured value with its error (a bootstrap spread, a fit's standard error, …).
public struct Estimate: Codable, Equatable, Sendable {
    public var value: Double
    public var error: Double
    public init(value: Double, error: Double) { self.value = value; self.error = error }
}

/// The anomaly-detection figures the Dark Machines challenge reports, with bootstrap errors:
/// AUC, the signal efficiency at background efficiencies 10⁻¹, 10⁻², 10⁻³, and the maximum of the
/// significance improvement εS/√εB (where at least ten background events pass).
public struct DarkMachinesFigures: Codable, Equatable, Sendable {
    public static let backgroundEfficiencies = [1e-1, 1e-2, 1e-3]
    public var auc: Estimate
    /// εS at each εB of `backgroundEfficiencies` (keys "0.1", "0.01", "0.001").
    public var signalEfficiency: [String: Estimate]
    public var maximumSIC: Estimate
    public var rounds: Int

    /// Scores (larger: more anomalous) and labels (0 background, 1 signal); NaN scores left out.
    /// The errors are the spread over `rounds` bootstrap resamplings of signal and background.
    public init(scores: [Double], labels: [Int], rounds: Int = 100, seed: UInt64 = 0) {
        let kept = scores.indices.filter { !scores[$0].isNaN }
        let signal = kept.filter { labels[$0] != 0 }, background = kept.filter { labels[$0] == 0 }
        func figures(_ s: [Int], _ b: [Int]) -> [Double] {
            let roc = ROC(scores: (s + b).map { scores[$0] }, labels: s.map { _ in 1 } + b.map { _ in 0 })
            return [roc.auc] + Self.backgroundEfficiencies.map { roc.signalEfficiency(atBackground: $0) }
                + [roc.maximumSIC(backgroundEvents: b.count)]
        }
        let central = figures(signal, background)
        var rng = PRNG(seed: seed)
        var draws: [[Double]] = []
        for _ in 0..<rounds {
            draws.append(
                figures(
                    signal.map { _ in signal[rng.nextInt(signal.count)] },
                    background.map { _ in background[rng.nextInt(background.count)] }))
        }
        func spread(_ k: Int) -> Double {
            let v = draws.map { $0[k] }.filter(\.isFinite)
            guard v.count > 1 else { return .nan }
            let m = v.reduce(0, +) / Double(v.count)
            return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
        }
        auc = Estimate(value: central[0], error: spread(0))
        var eff: [String: Estimate] = [:]
        for (i, e) in Self.backgroundEfficiencies.enumerated() {
            eff["\(e)"] = Estimate(value: central[1 + i], error: spread(1 + i))
        }
        signalEfficiency = eff
        maximumSIC = Estimate(value: central[4], error: spread(4))
        self.rounds = rounds
    }
}

/// ROC and SIC curves on a grid of signal efficiencies with bootstrap bands (the 16th and 84th
/// percentiles over `rounds` resamplings of signal and background), for the plots.
public struct ROCBands {
    public var signal: [Double] = []
    public var rejection: [Double] = [], rejectionLow: [Double] = [], rejectionHigh: [Double] = []
    public var sic: [Double] = [], sicLow: [Double] = [], sicHigh: [Double] = []

    public init(scores: [Double], labels: [Int], rounds: Int = 50, seed: UInt64 = 1) {
        let kept = scores.indices.filter { !scores[$0].isNaN }
        let sig = kept.filter { labels[$0] != 0 }, bkg = kept.filter { labels[$0] == 0 }
        guard !sig.isEmpty, !bkg.isEmpty else { return }
        let grid = stride(from: 0.02, through: 1.0, by: 0.01).map { $0 }
        func curve(_ s: [Int], _ b: [Int]) -> [Double] {
            let roc = ROC(scores: (s + b).map { scores[$0] }, labels: s.map { _ in 1 } + b.map { _ in 0 })
            return grid.map { roc.backgroundEfficiency(atSignal: $0) }
        }
        let central = curve(sig, bkg)
        var rng = PRNG(seed: seed)
        let draws = (0..<rounds).map { _ in
            curve(sig.map { _ in sig[rng.nextInt(sig.count)] }, bkg.map { _ in bkg[rng.nextInt(bkg.count)] })
        }
        // Points where the background efficiency is 0 have no rejection: left out.
        for (i, e) in grid.enumerated() where central[i] > 0 {
            let column = draws.map { $0[i] }.filter { $0 > 0 }.sorted()
            guard column.count >= rounds / 2 else { continue }
            let lo = column[Int(Double(column.count - 1) * 0.16)], hi = column[Int(Double(column.count - 1) * 0.84)]
            signal.append(e)
            rejection.append(1 / central[i]); rejectionLow.append(1 / hi); rejectionHigh.append(1 / lo)
            sic.append(e / central[i].squareRoot()); sicLow.append(e / hi.squareRoot());
            sicHigh.append(e / lo.squareRoot())
        }
    }
}
