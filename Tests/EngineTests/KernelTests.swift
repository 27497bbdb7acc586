@testable import Engine
import Foundation
import XCTest

/// Optimised kernels against the plain reference kernels kept beside them.
final class KernelTests: XCTestCase {
    func testBLASGemmMatchesReferenceForAllTransposes() {
        var rng = PRNG(seed: 7)
        for (m, n, k) in [(1, 1, 1), (5, 7, 3), (33, 17, 65), (64, 128, 96)] {
            for ta in [false, true] {
                for tb in [false, true] {
                    let a = Tensor.uniform(ta ? [k, m] : [m, k], low: -1, high: 1, rng: &rng)
                    let b = Tensor.uniform(tb ? [n, k] : [k, n], low: -1, high: 1, rng: &rng)
                    let fast = Tensor.zeros([m, n]), slow = Tensor.zeros([m, n])
                    let lda = ta ? m : k, ldb = tb ? k : n
                    BLAS.sgemm(
                        transA: ta, transB: tb, m: m, n: n, k: k, a: a.storage.pointer, lda: lda,
                        b: b.storage.pointer, ldb: ldb, c: fast.storage.pointer, ldc: n)
                    Reference.sgemm(
                        transA: ta, transB: tb, m: m, n: n, k: k, a: a.storage.pointer, lda: lda,
                        b: b.storage.pointer, ldb: ldb, c: slow.storage.pointer, ldc: n)
                    XCTAssertLessThanOrEqual(
                        mismatch(fast.scalars, slow.scalars, atol: 1e-4, rtol: 1e-4), 1, "\(m)×\(n)×\(k) \(ta) \(tb)")
                }
            }
        }
    }

    /// The rational tanh kernel against libm's tanhf (the reference) over and beyond its range.
    func testFastTanhMatchesLibm() {
        let xs =
            stride(from: Float(-12), to: 12, by: 0.00037).map { $0 } + [
                0, 1e-5, -3e-4, .greatestFiniteMagnitude, -.infinity,
            ]
        let t = Tensor(shape: [xs.count], data: xs).tanh().scalars
        var worst: Float = 0
        for (x, y) in zip(xs, t) { worst = max(worst, abs(y - Foundation.tanh(x))) }
        XCTAssertLessThan(worst, 5e-7)
        XCTAssertEqual(t[xs.count - 4], 1e-5, "tiny inputs pass through")
        XCTAssertTrue(Tensor(shape: [1], data: [.nan]).tanh().item().isNaN)
    }

    func testSoftplusMatchesDoublePrecision() {
        let xs =
            stride(from: Float(-30), to: 30, by: 0.0011).map { $0 } + [0, 1e-6, -1e-6, 88, -104, .infinity, -.infinity]
        let y = Tensor(shape: [xs.count], data: xs).softplus().scalars
        for (x, v) in zip(xs, y) where x.isFinite {
            let exact = Swift.max(Double(x), 0) + Foundation.log1p(Foundation.exp(-Swift.abs(Double(x))))
            XCTAssertEqual(Double(v), exact, accuracy: 3e-7 * Swift.max(exact, 1e-30) + 1e-30, "softplus(\(x))")
        }
        XCTAssertEqual(y[xs.count - 2], .infinity)
        XCTAssertEqual(y[xs.count - 1], 0)
        XCTAssertTrue(Tensor(shape: [1], data: [.nan]).softplus().item().isNaN)
    }

    /// σ and softplus's exponential (pure arithmetic, so their loops vectorise) against double
    /// precision over every float scale it is used at, with its edges: 0, the underflow, −∞, NaN.
    func testVectorisableExpMatchesDoublePrecision() {
        var worst = 0.0
        for x in stride(from: Float(-87.3), through: 0, by: 0.000_37) {
            let exact = Foundation.exp(Double(x))
            worst = Swift.max(worst, abs(Double(Fn.expUnit(x)) - exact) / exact)
        }
        XCTAssertLessThan(worst, 2e-7)
        XCTAssertEqual(Fn.expUnit(0), 1)
        XCTAssertEqual(Fn.expUnit(-88), 0)
        XCTAssertEqual(Fn.expUnit(-.infinity), 0)
        XCTAssertTrue(Fn.expUnit(.nan).isNaN)
        let sig = Tensor(shape: [5], data: [0, 30, -30, .infinity, -.infinity]).sigmoid().scalars
        XCTAssertEqual(sig[0], 0.5)
        XCTAssertEqual(Double(sig[1]), 1 / (1 + Foundation.exp(-30.0)), accuracy: 1e-7)
        XCTAssertEqual(Double(sig[2]), Foundation.exp(-30.0) / (1 + Foundation.exp(-30.0)), accuracy: 2e-7 * 1e-13)
        XCTAssertEqual(sig[3], 1)
        XCTAssertEqual(sig[4], 0)
        XCTAssertTrue(Tensor(shape: [1], data: [.nan]).sigmoid().item().isNaN)
    }

    func testBLASIsLoadedWithAKnownKernel() {
        XCTAssertTrue(BLAS.isAvailable, "OpenBLAS should load on a machine set up by scripts/deps.sh")
        XCTAssertNotEqual(BLAS.kernel, "none")
    }

    func testIm2colConvolutionMatchesDirectConvolution() {
        var rng = PRNG(seed: 11)
        let configs:
            [(n: Int, c: Int, h: Int, w: Int, o: Int, k: (Int, Int), s: (Int, Int), p: (Int, Int), d: (Int, Int))] = [
                (3, 5, 11, 9, 6, (3, 3), (1, 1), (1, 1), (1, 1)),
                (2, 4, 16, 16, 8, (4, 4), (2, 2), (1, 1), (1, 1)),
                (1, 3, 13, 10, 2, (3, 2), (2, 3), (2, 0), (2, 1)),
                (40, 2, 8, 8, 3, (5, 5), (1, 1), (2, 2), (1, 1)),
                // Stride 2 on rows wide enough for the eight- and four-lane gathers, and their tails.
                (2, 3, 5, 45, 4, (4, 4), (2, 2), (1, 1), (1, 1)),
                (2, 2, 6, 38, 3, (3, 3), (2, 2), (0, 0), (1, 1)),
            ]
        for cfg in configs {
            let x = Tensor.uniform([cfg.n, cfg.c, cfg.h, cfg.w], low: -1, high: 1, rng: &rng)
            let wt = Tensor.uniform([cfg.o, cfg.c, cfg.k.0, cfg.k.1], low: -1, high: 1, rng: &rng)
            let b = Tensor.uniform([cfg.o], low: -1, high: 1, rng: &rng)
            let fast = x.conv2d(wt, bias: b, stride: cfg.s, padding: cfg.p, dilation: cfg.d)
            let g = ConvGeometry(
                channels: cfg.c, height: cfg.h, width: cfg.w, kernel: cfg.k, stride: cfg.s, padding: cfg.p,
                dilation: cfg.d)
            let slow = Tensor.zeros([cfg.n, cfg.o, g.outH, g.outW])
            Reference.conv2d(
                g, batch: cfg.n, outChannels: cfg.o, x: x.storage.pointer, weight: wt.storage.pointer,
                bias: b.storage.pointer, out: slow.storage.pointer)
            XCTAssertEqual(fast.shape, slow.shape)
            XCTAssertLessThanOrEqual(mismatch(fast.scalars, slow.scalars, atol: 1e-4, rtol: 1e-4), 1, "\(cfg)")
        }
    }

    func testConvolutionGradientsAgreeWithAndWithoutKeptColumns() {
        // Training keeps the unfolded input for dW; with the weight frozen, dX is computed alone.
        var rng = PRNG(seed: 9)
        let x = Tensor.uniform([3, 2, 12, 12], low: -1, high: 1, rng: &rng, requiresGrad: true)
        let w = Tensor.uniform([4, 2, 4, 4], low: -1, high: 1, rng: &rng, requiresGrad: true)
        let y = Tensor.uniform([3, 4, 6, 6], low: -1, high: 1, rng: &rng)
        (x.conv2d(w, stride: (2, 2), padding: (1, 1)) * y).sum().backward()
        let (gxKept, gwKept) = (x.grad!.scalars, w.grad!.scalars)
        x.zeroGrad(); w.zeroGrad()
        let frozen = w.detach()
        (x.conv2d(frozen, stride: (2, 2), padding: (1, 1)) * y).sum().backward()
        XCTAssertLessThanOrEqual(mismatch(x.grad!.scalars, gxKept, atol: 1e-5, rtol: 1e-5), 0)
        // dW from the kept columns against the adjoint identity dW = Σ x ⋆ dY, by finite differences.
        let loss = { (w: Tensor) in noGrad { (x.detach().conv2d(w, stride: (2, 2), padding: (1, 1)) * y).sum().item() }
        }
        for i in [0, 17, 63, 127] {
            let plus = w.detach().copy(), minus = w.detach().copy()
            plus.storage.pointer[i] += 1e-2; minus.storage.pointer[i] -= 1e-2
            XCTAssertEqual(gwKept[i], (loss(plus) - loss(minus)) / 2e-2, accuracy: 2e-2)
        }
    }

    func testTransposedConvolutionIsTheAdjointOfConvolution() {
        // ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩ for the same weight and geometry.
        var rng = PRNG(seed: 5)
        let x = Tensor.uniform([2, 3, 9, 9], low: -1, high: 1, rng: &rng)
        let w = Tensor.uniform([4, 3, 3, 3], low: -1, high: 1, rng: &rng)
        let y = Tensor.uniform([2, 4, 5, 5], low: -1, high: 1, rng: &rng)
        let lhs = (x.conv2d(w, stride: (2, 2), padding: (1, 1)) * y).sum().item()
        let rhs = (x * y.convTranspose2d(w, stride: (2, 2), padding: (1, 1))).sum().item()
        XCTAssertEqual(lhs, rhs, accuracy: 1e-3 * abs(lhs))
    }

    func testParallelElementwiseAndReductionsMatchSerialLoops() {
        var rng = PRNG(seed: 3)
        let n = 1 << 20 + 3  // above the parallel grain, and not a multiple of the chunk count
        let a = Tensor.uniform([n], low: -1, high: 1, rng: &rng), b = Tensor.uniform([n], low: -1, high: 1, rng: &rng)
        let sum = (a * b + a).scalars
        let pa = a.scalars, pb = b.scalars
        var worst: Float = 0
        var total: Double = 0
        for i in 0..<n {
            worst = max(worst, abs(sum[i] - (pa[i] * pb[i] + pa[i])))
            total += Double(pa[i])
        }
        XCTAssertEqual(worst, 0)
        XCTAssertEqual(Double(a.sum().item()), total, accuracy: 1e-2)
        // Column sums of a tall matrix (the strided reduction path) against a Double loop.
        let rows = 4099, cols = 37
        let t = Tensor.uniform([rows, cols], rng: &rng)
        let colSums = t.sum(axes: [0]).scalars, tv = t.scalars
        for j in 0..<cols {
            var s: Double = 0
            for i in 0..<rows { s += Double(tv[i * cols + j]) }
            XCTAssertEqual(Double(colSums[j]), s, accuracy: 1e-3 * s)
        }
    }

    /// Every index once, whatever the count, and inside another parallel loop (where the work
    /// runs on the calling thread) as well.
    func testParallelForEachVisitsEveryIndexOnce() {
        for count in [0, 1, 2, 7, 1000] {
            var visits = [Int](repeating: 0, count: count)
            visits.withUnsafeMutableBufferPointer { v in parallelForEach(count) { v[$0] += 1 } }
            XCTAssertEqual(visits, [Int](repeating: 1, count: count), "count \(count)")
        }
        var nested = [Int](repeating: 0, count: 4 * 50)
        nested.withUnsafeMutableBufferPointer { v in
            parallelFor(4, grain: 1) { outer in
                for o in outer { parallelForEach(50) { v[o * 50 + $0] += o + 1 } }
            }
        }
        XCTAssertEqual(nested, (0..<4).flatMap { [Int](repeating: $0 + 1, count: 50) })
    }

    func testBroadcastPathsAgree() {
        var rng = PRNG(seed: 9)
        let a = Tensor.uniform([3, 1, 5, 1], rng: &rng), b = Tensor.uniform([4, 1, 6], rng: &rng)
        let fast = (a + b).scalars
        let viaExpand = (a.expand([3, 4, 5, 6]).copy() + b.expand([3, 4, 5, 6]).copy()).scalars
        XCTAssertEqual(fast, viaExpand)
    }
}
