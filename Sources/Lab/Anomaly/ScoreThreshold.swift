import Formats
import Foundation

/// How `genlab score` sets its flagging threshold.
public enum ThresholdRule: Sendable, Equatable {
    /// At this quantile of every event's score (no labels needed).
    case quantile(Double)
    /// At this false-positive rate on background: a background-only calibration file's scores
    /// when one is given, else the events labelled background, else all events.
    case falsePositiveRate(Double)
}

/// The threshold `genlab score` flags events above, with the score it applies to and where it
/// came from. The one owner of the scoring policy: which score is thresholded, on which
/// background, in which units.
public struct ScoreThreshold: Sendable, Equatable {
    public var value: Double
    /// The score it applies to (the primary one, or its mass-decorrelated version).
    public var score: String
    /// In words, as report.json and the scores file record it ("fpr on labelled background 0.01").
    public var source: String
    /// The false-positive rate it was set at (nil for a quantile).
    public var falsePositiveRate: Double?

    /// Sets the threshold on `primary` of `table` by `rule`. With `decorrelateMass` the score gets
    /// its mass-decorrelated version (its quantile within background jet-mass bins) and that is
    /// the one thresholded. The background that defines the bins is the one the threshold is set
    /// on — the calibration file when given (its scores are decorrelated against themselves, so
    /// threshold and events are in the same units), else the labelled background — and a table
    /// without enough background masses keeps the raw score.
    public static func choose(
        _ rule: ThresholdRule, primary: String, table: inout AnomalyScorer.Table,
        calibration: (name: String, table: AnomalyScorer.Table)?, decorrelateMass: Bool
    ) -> ScoreThreshold {
        var score = primary
        var calibrationScores = calibration?.table.column(primary)
        if decorrelateMass {
            let decorrelated = primary + ScoreReport.massDecorrelatedSuffix
            if var cal = calibration?.table {
                let reference = MassBins(
                    scores: cal.column(primary), masses: cal.mass, background: Array(repeating: true, count: cal.count))
                if let reference {
                    reference.add(to: &table, score: primary)
                    reference.add(to: &cal, score: primary)
                    calibrationScores = cal.column(decorrelated)
                    score = decorrelated
                }
            } else if let reference = MassBins(
                scores: table.column(primary), masses: table.mass, background: table.labels.map { $0 == 0 })
            {
                reference.add(to: &table, score: primary)
                score = decorrelated
            }
        }
        let values = table.column(score)
        switch rule {
        case .quantile(let q):
            let v = values.filter { $0.isFinite }.sorted()
            let cut = v.isEmpty ? Double.infinity : v[min(v.count - 1, Int(q * Double(v.count)))]
            return ScoreThreshold(value: cut, score: score, source: "quantile \(q)", falsePositiveRate: nil)
        case .falsePositiveRate(let fpr):
            let background: [Double], source: String
            if let calibration, let calibrationScores {
                (background, source) = (calibrationScores, "fpr on \(calibration.name) \(fpr)")
            } else if table.labels.contains(0) {
                (background, source) = (table.backgroundScores(score), "fpr on labelled background \(fpr)")
            } else {
                (background, source) = (values, "fpr on all events (no labels) \(fpr)")
            }
            let cut = threshold(forFalsePositiveRate: fpr, background: background.filter { $0.isFinite })
            return ScoreThreshold(value: cut, score: score, source: source, falsePositiveRate: fpr)
        }
    }
}

/// Ten jet-mass bins of equal background population and the sorted background scores in each:
/// a score's mass-decorrelated value is its quantile among the background of its bin.
struct MassBins {
    let edges: [Double]
    let perBin: [[Double]]

    /// Nil when fewer than 100 background events have a finite mass.
    init?(scores: [Double], masses: [Double?], background: [Bool]) {
        let m = masses.map { $0 ?? .nan }
        let bkgMass = zip(m, background).filter { $0.1 && $0.0.isFinite }.map(\.0).sorted()
        guard bkgMass.count >= 100 else { return nil }
        let edges = (1..<10).map { bkgMass[$0 * bkgMass.count / 10] }
        self.edges = edges
        var perBin = [[Double]](repeating: [], count: 10)
        for i in scores.indices where background[i] && m[i].isFinite && scores[i].isFinite {
            perBin[edges.firstIndex { m[i] < $0 } ?? 9].append(scores[i])
        }
        self.perBin = perBin.map { $0.sorted() }
    }

    func bin(_ mass: Double) -> Int { edges.firstIndex { mass < $0 } ?? 9 }

    /// The quantile of `score` among the background of `mass`'s bin (NaN without one).
    func decorrelated(_ score: Double, mass: Double?) -> Double {
        guard let mass, mass.isFinite, score.isFinite else { return .nan }
        let ref = perBin[bin(mass)]
        guard !ref.isEmpty else { return .nan }
        var lo = 0, hi = ref.count
        while lo < hi { let mid = (lo + hi) / 2; if ref[mid] < score { lo = mid + 1 } else { hi = mid } }
        return Double(lo) / Double(ref.count)
    }

    /// Appends `name`'s decorrelated column to `table`.
    func add(to table: inout AnomalyScorer.Table, score name: String) {
        let scores = table.column(name)
        table.names.append(name + ScoreReport.massDecorrelatedSuffix)
        table.scores.append(scores.indices.map { decorrelated(scores[$0], mass: table.mass[$0]) })
    }
}

extension AnomalyScorer.Table {
    /// Refuses a table in which no event has a finite `score`: a threshold set on it would be
    /// infinite and every figure empty. Names the files and the first event's problem.
    public func requireScorable(_ score: String, files: [String]) throws {
        let values = column(score)
        guard !values.contains(where: \.isFinite) else { return }
        let why = problem.compactMap { $0 }.first.map { " (the first: \($0))" } ?? ""
        throw FormatError(
            files.joined(separator: ", "),
            "none of its \(count) events could be scored\(why); check that the file holds the data the model was "
                + "trained on")
    }

    /// Refuses a calibration file that holds signal-labelled events (label 1): a threshold must
    /// be set on background alone.
    public func requireBackgroundOnly(file: String) throws {
        let signal = labels.filter { $0 == 1 }.count
        guard signal == 0 else {
            throw FormatError(
                file,
                "holds \(signal) signal-labelled events of \(count): a --calibration file must be background only "
                    + "(give labelled files as events instead, and the threshold is set on their background)")
        }
    }
}
