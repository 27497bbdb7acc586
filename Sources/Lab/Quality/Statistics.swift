import Foundation

/// Dependence measures between two samples of equal length, for the latent inspector (and anyone
/// who needs them): Pearson's r, Spearman's ρ (Pearson on average ranks, so ties are handled as
/// scipy.stats.spearmanr does), and a binned mutual-information estimate. Non-finite pairs are dropped.
public enum Statistics {
    /// Pairs where both values are finite.
    static func finitePairs(_ x: [Double], _ y: [Double]) -> ([Double], [Double]) {
        precondition(x.count == y.count, "GenLab Statistics: samples of different lengths (\(x.count), \(y.count))")
        var a: [Double] = [], b: [Double] = []
        a.reserveCapacity(x.count); b.reserveCapacity(x.count)
        for i in x.indices where x[i].isFinite && y[i].isFinite { a.append(x[i]); b.append(y[i]) }
        return (a, b)
    }

    /// Pearson's correlation; NaN when either sample is constant or fewer than 3 pairs remain.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let (a, b) = finitePairs(x, y)
        guard a.count >= 3 else { return .nan }
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices {
            let da = a[i] - ma, db = b[i] - mb
            sab += da * db; saa += da * da; sbb += db * db
        }
        guard saa > 0, sbb > 0 else { return .nan }
        return sab / (saa * sbb).squareRoot()
    }

    /// Ranks 1…n, ties sharing their average rank.
    public static func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var r = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = average }
            i = j + 1
        }
        return r
    }

    /// Spearman's rank correlation.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double {
        let (a, b) = finitePairs(x, y)
        return pearson(ranks(a), ranks(b))
    }

    /// Mutual information in nats from a `bins`×`bins` histogram of equal-frequency (rank) bins,
    /// with the Miller–Madow bias correction −(B_xy − B_x − B_y + 1)/(2n) over occupied bins, floored
    /// at 0. Equal-frequency bins make the estimate invariant under monotone maps of either variable.
    /// Small samples get fewer bins (at most √(n/5) per axis, so each cell expects ≥ 5 counts when
    /// the variables are independent).
    public static func mutualInformation(_ x: [Double], _ y: [Double], bins requested: Int = 16) -> Double {
        let (a, b) = finitePairs(x, y)
        let n = a.count
        let bins = min(requested, Int((Double(n) / 5).squareRoot()))
        guard bins >= 2 else { return .nan }
        func binIndex(_ v: [Double]) -> [Int] {
            ranks(v).map { min(bins - 1, Int(($0 - 1) * Double(bins) / Double(n))) }
        }
        let bx = binIndex(a), by = binIndex(b)
        var joint = [Int](repeating: 0, count: bins * bins), px = [Int](repeating: 0, count: bins),
            py = [Int](repeating: 0, count: bins)
        for i in 0..<n { joint[bx[i] * bins + by[i]] += 1; px[bx[i]] += 1; py[by[i]] += 1 }
        let N = Double(n)
        var mi = 0.0
        for i in 0..<bins {
            for j in 0..<bins where joint[i * bins + j] > 0 {
                let pxy = Double(joint[i * bins + j]) / N
                mi += pxy * log(pxy / (Double(px[i]) / N * Double(py[j]) / N))
            }
        }
        let occupied = joint.filter { $0 > 0 }.count, ox = px.filter { $0 > 0 }.count, oy = py.filter { $0 > 0 }.count
        return max(0, mi - Double(occupied - ox - oy + 1) / (2 * N))
    }

    /// Mean and (population) standard deviation of the finite values.
    public static func meanAndSpread(_ x: [Double]) -> (mean: Double, std: Double) {
        let v = x.filter(\.isFinite)
        guard !v.isEmpty else { return (.nan, .nan) }
        let m = v.reduce(0, +) / Double(v.count)
        return (m, (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count)).squareRoot())
    }
}
