import Foundation

/// Principal components of a small data matrix, by the cyclic Jacobi eigenvalue method on its
/// covariance (exact to rounding for the few-dozen-feature matrices the symmetry detector uses;
/// no LAPACK needed).
public enum PCA {
    /// Eigenvalues (descending) and unit eigenvectors (eigenvectors[i] belongs to values[i]) of a
    /// symmetric n × n matrix, row-major.
    public static func symmetricEigen(_ matrix: [Double], n: Int) -> (values: [Double], vectors: [[Double]]) {
        precondition(matrix.count == n * n, "PCA.symmetricEigen: \(matrix.count) values for \(n)×\(n)")
        var a = matrix, v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<max(p + 1, n) { off += a[p * n + q] * a[p * n + q] } }
            if off < 1e-22 { break }
            for p in 0..<n {
                for q in (p + 1)..<max(p + 1, n) where abs(a[p * n + q]) > 1e-300 {
                    // The rotation that zeroes a[p][q] (Golub & Van Loan, Algorithm 8.4.2).
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq; a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk; a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq; v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0 * n + $0] > a[$1 * n + $1] }
        return (order.map { a[$0 * n + $0] }, order.map { j in (0..<n).map { v[$0 * n + j] } })
    }

    /// The first `k` principal-component scores of `rows` × `features` data (row-major), each
    /// standardised to mean 0 and standard deviation 1, with the explained-variance fractions.
    public static func scores(
        _ data: UnsafePointer<Float>, rows: Int, features: Int, k: Int
    ) -> (scores: [[Double]], explained: [Double]) {
        var mean = [Double](repeating: 0, count: features)
        for r in 0..<rows { for f in 0..<features { mean[f] += Double(data[r * features + f]) } }
        for f in 0..<features { mean[f] /= Double(rows) }
        var cov = [Double](repeating: 0, count: features * features)
        var centred = [Double](repeating: 0, count: features)
        for r in 0..<rows {
            for f in 0..<features { centred[f] = Double(data[r * features + f]) - mean[f] }
            for i in 0..<features { for j in i..<features { cov[i * features + j] += centred[i] * centred[j] } }
        }
        for i in 0..<features {
            for j in i..<features {
                cov[i * features + j] /= Double(rows - 1); cov[j * features + i] = cov[i * features + j]
            }
        }
        let (values, vectors) = symmetricEigen(cov, n: features)
        let total = max(values.reduce(0) { $0 + max($1, 0) }, 1e-300)
        var out: [[Double]] = []
        for c in 0..<min(k, features) {
            var s = (0..<rows).map { r in
                (0..<features).reduce(0.0) { $0 + (Double(data[r * features + $1]) - mean[$1]) * vectors[c][$1] }
            }
            let sd = (s.reduce(0) { $0 + $1 * $1 } / Double(rows)).squareRoot()
            s = s.map { sd > 1e-12 ? $0 / sd : 0 }
            out.append(s)
        }
        return (out, (0..<min(k, features)).map { max(values[$0], 0) / total })
    }
}
