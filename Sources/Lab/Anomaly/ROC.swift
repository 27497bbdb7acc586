import Foundation

/// Receiver-operating-characteristic analysis of a score where larger means "more anomalous".
public struct ROC {
    /// Background efficiency (false-positive rate) and signal efficiency (true-positive rate) at
    /// every distinct threshold, from (0, 0) to (1, 1).
    public let backgroundEfficiency: [Double]
    public let signalEfficiency: [Double]
    public let thresholds: [Double]

    /// Events whose score is NaN are left out (they have no place in the order); callers report them.
    /// With `weights` (per-event, as the ATLAS open data carry), efficiencies are weighted sums.
    public init(scores: [Double], labels: [Int], weights: [Double]? = nil) {
        precondition(scores.count == labels.count && (weights == nil || weights!.count == scores.count))
        let order = scores.indices.filter { !scores[$0].isNaN }.sorted { scores[$0] > scores[$1] }
        func w(_ i: Int) -> Double { weights?[i] ?? 1 }
        let nSig = order.filter { labels[$0] != 0 }.reduce(0) { $0 + w($1) }
        let nBkg = order.filter { labels[$0] == 0 }.reduce(0) { $0 + w($1) }
        var fpr = [0.0], tpr = [0.0], thr = [Double.infinity]
        var tp = 0.0, fp = 0.0
        var i = 0
        while i < order.count {
            let s = scores[order[i]]
            // Ties move together: one point per distinct threshold.
            while i < order.count && scores[order[i]] == s {
                if labels[order[i]] != 0 { tp += w(order[i]) } else { fp += w(order[i]) }
                i += 1
            }
            fpr.append(nBkg > 0 ? fp / nBkg : 0); tpr.append(nSig > 0 ? tp / nSig : 0); thr.append(s)
        }
        backgroundEfficiency = fpr; signalEfficiency = tpr; thresholds = thr
    }

    /// Area under the curve (trapezoids): the probability that a signal event scores above a
    /// background one (ties count half).
    public var auc: Double {
        var a = 0.0
        for i in 1..<backgroundEfficiency.count {
            a +=
                (backgroundEfficiency[i] - backgroundEfficiency[i - 1])
                * (signalEfficiency[i] + signalEfficiency[i - 1]) / 2
        }
        return a
    }

    /// Background efficiency where the signal efficiency first reaches `target` (interpolated).
    public func backgroundEfficiency(atSignal target: Double) -> Double {
        ROC.interpolate(signalEfficiency, backgroundEfficiency, at: target)
    }

    /// y where the non-decreasing x first reaches `target`, linearly interpolated (1 past the end).
    static func interpolate(_ x: [Double], _ y: [Double], at target: Double) -> Double {
        for i in 1..<x.count where x[i] >= target {
            let t = x[i] > x[i - 1] ? (target - x[i - 1]) / (x[i] - x[i - 1]) : 1
            return y[i - 1] + t * (y[i] - y[i - 1])
        }
        return 1
    }

    /// Signal efficiency where the background efficiency reaches `target` (interpolated).
    public func signalEfficiency(atBackground target: Double) -> Double {
        ROC.interpolate(backgroundEfficiency, signalEfficiency, at: target)
    }

    /// The largest significance improvement εS/√εB where at least `minimumBackground` background
    /// events pass (a single surviving event would make any ratio).
    public func maximumSIC(backgroundEvents: Int, minimumBackground: Int = 10) -> Double {
        sicPoints(backgroundEvents: backgroundEvents, minimumBackground: minimumBackground).map(\.sic).max() ?? .nan
    }

    /// (εS, εS/√εB) at every threshold where at least `minimumBackground` of `backgroundEvents`
    /// background events pass.
    public func sicPoints(
        backgroundEvents: Int, minimumBackground: Int = 10
    ) -> [(signalEfficiency: Double, sic: Double)] {
        let floor = Double(minimumBackground) / Double(max(backgroundEvents, 1))
        return zip(signalEfficiency, backgroundEfficiency).filter { $0.1 >= floor && $0.1 > 0 }.map {
            ($0.0, $0.0 / $0.1.squareRoot())
        }
    }

    /// Background rejection 1/εB at signal efficiency `target`.
    public func rejection(atSignal target: Double) -> Double {
        let e = backgroundEfficiency(atSignal: target)
        return e > 0 ? 1 / e : .infinity
    }
}

/// The score threshold with a given false-positive rate on background scores.
public func threshold(forFalsePositiveRate fpr: Double, background: [Double]) -> Double {
    let sorted = background.sorted(by: >)
    guard !sorted.isEmpty else { return .infinity }
    let k = Int((fpr * Double(sorted.count)).rounded(.down))
    return k >= sorted.count ? sorted.last! - 1e-12 : sorted[k]
}

/// Pearson correlation.
public func correlation(_ a: [Double], _ b: [Double]) -> Double {
    let n = Double(a.count)
    guard n > 1 else { return 0 }
    let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
    var sab = 0.0, saa = 0.0, sbb = 0.0
    for (x, y) in zip(a, b) { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
    return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : 0
}

/// A histogram over [lo, hi) with `bins` bins, normalised to unit area when `density`.
public func histogram(
    _ values: [Double], bins: Int, range: (Double, Double), density: Bool = true
) -> (edges: [Double], counts: [Double]) {
    let (lo, hi) = range
    let width = (hi - lo) / Double(bins)
    var counts = [Double](repeating: 0, count: bins)
    for v in values where v.isFinite {
        let u = ((v - lo) / width).rounded(.down)  // compared as a double first: a huge value must not reach Int()
        if u >= 0 && u < Double(bins) { counts[Int(u)] += 1 }
    }
    if density, values.count > 0 { counts = counts.map { $0 / (Double(values.count) * width) } }
    return ((0...bins).map { lo + Double($0) * width }, counts)
}
