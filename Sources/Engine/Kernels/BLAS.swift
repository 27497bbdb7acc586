import CBLAS
import Foundation

/// Single-precision GEMM: OpenBLAS when it loads, else the reference kernel (with one warning).
public enum BLAS {
    /// Whether an optimised BLAS was loaded (loads it on first call).
    public static let isAvailable: Bool = {
        let ok = genlab_blas_load(1) != 0
        if !ok {
            FileHandleStderr.write(
                "genlab: warning: OpenBLAS could not be loaded (\(String(cString: genlab_blas_error()))); "
                    + "using the slow reference GEMM. Install it with: apt-get install libopenblas0-pthread\n")
        }
        return ok
    }()

    /// The CPU kernel OpenBLAS selected (e.g. "Haswell", "SkylakeX", "Prescott" for the SSE3 fallback).
    public static var kernel: String { _ = isAvailable; return String(cString: genlab_blas_corename()) }
    /// The shared library that was loaded.
    public static var library: String { _ = isAvailable; return String(cString: genlab_blas_library()) }
    /// The OPENBLAS_CORETYPE GenLab set before loading, or nil when it left it alone.
    public static var coreTypeSet: String? {
        _ = isAvailable
        let s = String(cString: genlab_blas_coretype_set())
        return s.isEmpty ? nil : s
    }

    /// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major; op(A) is m×k, op(B) is k×n.
    ///
    /// OpenBLAS runs single-threaded; large products are split into one block of rows (or columns)
    /// per core on GenLab's own thread pool, so BLAS threads and kernel threads never compete.
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        guard isAvailable else {
            Reference.sgemm(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let threads = Threads.count
        let work = m * n * Swift.max(k, 1)
        if threads == 1 || work < 1 << 18 || Swift.max(m, n) < 32 {
            genlab_sgemm(
                transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda),
                b, Int32(ldb), beta, c, Int32(ldc))
            return
        }
        // Split the longer side of C into blocks that are multiples of 16 (the kernels' tile width).
        let splitRows = m >= n
        let side = splitRows ? m : n
        let chunks = Swift.min(threads, side / 16)
        let unit = ((side + chunks - 1) / chunks + 15) / 16 * 16
        parallelFor(chunks, grain: 1) { r in
            for chunk in r {
                let lo = chunk * unit, hi = Swift.min(side, lo + unit)
                if lo >= hi { continue }
                if splitRows {
                    let ap = transA ? a + lo : a + lo * lda
                    genlab_sgemm(
                        transA ? 1 : 0, transB ? 1 : 0, Int32(hi - lo), Int32(n), Int32(k), alpha, ap, Int32(lda),
                        b, Int32(ldb), beta, c + lo * ldc, Int32(ldc))
                } else {
                    let bp = transB ? b + lo * ldb : b + lo
                    genlab_sgemm(
                        transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(hi - lo), Int32(k), alpha, a, Int32(lda),
                        bp, Int32(ldb), beta, c + lo, Int32(ldc))
                }
            }
        }
    }
}

/// Plain, obviously-correct kernels kept beside the optimised ones; tests compare the two.
public enum Reference {
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var acc: Double = 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += Double(av) * Double(bv)
                }
                let prior = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = alpha * Float(acc) + prior
            }
        }
    }
}

/// Unbuffered writes to standard error.
enum FileHandleStderr {
    static func write(_ s: String) {
        var s = s
        s.withUTF8 { buf in _ = fwrite(buf.baseAddress, 1, buf.count, stderr) }
    }
}

/// Double-precision linear algebra from the same library (OpenBLAS carries LAPACK): what the
/// Fréchet distance on 2 048 features needs. Each call returns nil when the library lacks the routine,
/// and the caller falls back to its reference kernel.
public enum LAPACK {
    /// Eigenvalues (ascending) and eigenvectors (row k of `vectors`, n values each, belongs to
    /// values[k]) of a symmetric row-major n×n matrix.
    public static func symmetricEigen(_ matrix: [Double], n: Int) -> (values: [Double], vectors: [Double])? {
        precondition(matrix.count == n * n, "LAPACK.symmetricEigen: \(matrix.count) values for \(n)×\(n)")
        guard BLAS.isAvailable, n > 0 else { return nil }
        // Symmetric: row-major and column-major are the same matrix; LAPACK returns the
        // eigenvectors as columns (column-major), i.e. as rows of the row-major array.
        var a = matrix, w = [Double](repeating: 0, count: n)
        let info = a.withUnsafeMutableBufferPointer { pa in
            w.withUnsafeMutableBufferPointer { pw in genlab_dsyevd(Int32(n), pa.baseAddress!, pw.baseAddress!) }
        }
        return info == 0 ? (w, a) : nil
    }

    /// C[m×n] = op(A) · op(B), row-major doubles; nil when the library has no cblas_dgemm.
    public static func dgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: [Double], lda: Int, b: [Double], ldb: Int
    ) -> [Double]? {
        guard BLAS.isAvailable else { return nil }
        var c = [Double](repeating: 0, count: m * n)
        let ok = c.withUnsafeMutableBufferPointer { pc in
            genlab_dgemm(
                transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0,
                pc.baseAddress!, Int32(n))
        }
        return ok != 0 ? c : nil
    }
}
