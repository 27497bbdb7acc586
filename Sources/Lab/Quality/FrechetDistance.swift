import Engine
import Foundation

/// The Fréchet distance between Gaussians fitted to two samples of feature vectors (FID, FPD), and the
/// kernel distance (KID, KPD): the one place both are computed. Features are rows of a flat row-major
/// [count × dimension] array of doubles.
public enum FrechetDistance {
    /// Mean and unbiased (n − 1, as numpy.cov) covariance of `count` rows of `dimension` values.
    public static func moments(_ x: [Double], count n: Int, dimension d: Int) -> (mean: [Double], cov: [Double]) {
        precondition(x.count == n * d && n >= 1, "FrechetDistance.moments: \(x.count) values for \(n)×\(d)")
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for k in 0..<d { mean[k] += x[i * d + k] } }
        for k in 0..<d { mean[k] /= Double(n) }
        var centred = x
        for i in 0..<n { for k in 0..<d { centred[i * d + k] -= mean[k] } }
        let scale = 1 / Double(max(n - 1, 1))
        if var cov = LAPACK.dgemm(transA: true, transB: false, m: d, n: d, k: n, a: centred, lda: d, b: centred, ldb: d)
        {
            for k in 0..<(d * d) { cov[k] *= scale }
            return (mean, cov)
        }
        var cov = [Double](repeating: 0, count: d * d)
        for i in 0..<n {
            for a in 0..<d {
                let da = centred[i * d + a]
                if da == 0 { continue }
                for b in a..<d { cov[a * d + b] += da * centred[i * d + b] }
            }
        }
        for a in 0..<d { for b in a..<d { cov[a * d + b] *= scale; cov[b * d + a] = cov[a * d + b] } }
        return (mean, cov)
    }

    /// |μ₁ − μ₂|² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½ — the trace of the square root of Σ₁Σ₂, from
    /// the eigenvalues of a symmetric matrix with the same spectrum (no complex square root needed).
    public static func distance(mean1: [Double], cov1: [Double], mean2: [Double], cov2: [Double]) -> Double {
        let d = mean1.count
        precondition(mean2.count == d && cov1.count == d * d && cov2.count == d * d, "FrechetDistance: shapes differ")
        let (values, vectors) = eigen(cov1, d)
        // Σ₁^½ = V diag(√λ) Vᵀ; rows of `vectors` are eigenvectors.
        var scaled = vectors
        for k in 0..<d {
            let r = max(values[k], 0).squareRoot()
            for i in 0..<d { scaled[k * d + i] *= r }
        }
        let root1 = product(vectors, scaled, d, transA: true)
        let inner = product(product(root1, cov2, d, transA: false), root1, d, transA: false)
        var symmetric = inner
        for i in 0..<d { for j in 0..<d { symmetric[i * d + j] = (inner[i * d + j] + inner[j * d + i]) / 2 } }
        let traceRoot = eigen(symmetric, d).values.reduce(0) { $0 + max($1, 0).squareRoot() }
        var result = 0.0
        for k in 0..<d { result += (mean1[k] - mean2[k]) * (mean1[k] - mean2[k]) + cov1[k * d + k] + cov2[k * d + k] }
        return result - 2 * traceRoot
    }

    /// The Fréchet distance between two samples.
    public static func distance(_ x: [Double], _ y: [Double], dimension d: Int) -> Double {
        let n = x.count / d, m = y.count / d
        guard n >= 2, m >= 2 else { return .nan }
        let a = moments(x, count: n, dimension: d), b = moments(y, count: m, dimension: d)
        return distance(mean1: a.mean, cov1: a.cov, mean2: b.mean, cov2: b.cov)
    }

    /// The unbiased squared maximum mean discrepancy with the polynomial kernel (x·y/d + 1)^degree
    /// (KID: degree 3, Bińkowski et al. 2018; jetnet's KPD: degree 4).
    public static func mmd(_ x: [Double], _ y: [Double], dimension d: Int, degree: Int = 3) -> Double {
        let n = x.count / d, m = y.count / d
        guard n >= 2, m >= 2 else { return .nan }
        func kernelSum(_ a: [Double], _ na: Int, _ b: [Double], _ nb: Int, skipDiagonal: Bool) -> Double {
            let dots =
                LAPACK.dgemm(transA: false, transB: true, m: na, n: nb, k: d, a: a, lda: d, b: b, ldb: d)
                ?? (0..<(na * nb)).map { ij in
                    (0..<d).reduce(0.0) { $0 + a[(ij / nb) * d + $1] * b[(ij % nb) * d + $1] }
                }
            var s = 0.0
            for i in 0..<na {
                for j in 0..<nb where !(skipDiagonal && i == j) {
                    s += pow(dots[i * nb + j] / Double(d) + 1, Double(degree))
                }
            }
            return s
        }
        let kxx = kernelSum(x, n, x, n, skipDiagonal: true), kyy = kernelSum(y, m, y, m, skipDiagonal: true)
        let kxy = kernelSum(x, n, y, m, skipDiagonal: false)
        return kxx / Double(n * (n - 1)) + kyy / Double(m * (m - 1)) - 2 * kxy / Double(n * m)
    }

    /// Eigen-decomposition of a symmetric matrix: LAPACK, or the Jacobi reference kernel without it.
    static func eigen(_ m: [Double], _ d: Int) -> (values: [Double], vectors: [Double]) {
        if let r = LAPACK.symmetricEigen(m, n: d) { return r }
        let (values, vectors) = PCA.symmetricEigen(m, n: d)
        return (values, vectors.flatMap { $0 })
    }

    /// a·b (or aᵀ·b) for d×d row-major matrices.
    static func product(_ a: [Double], _ b: [Double], _ d: Int, transA: Bool) -> [Double] {
        if let c = LAPACK.dgemm(transA: transA, transB: false, m: d, n: d, k: d, a: a, lda: d, b: b, ldb: d) {
            return c
        }
        var c = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for k in 0..<d {
                let aik = transA ? a[k * d + i] : a[i * d + k]
                if aik == 0 { continue }
                for j in 0..<d { c[i * d + j] += aik * b[k * d + j] }
            }
        }
        return c
    }
}
