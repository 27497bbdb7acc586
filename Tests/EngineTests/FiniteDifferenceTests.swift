import Engine
import XCTest

/// Every op's backward rule against central finite differences, on the fixture cases' inputs
/// (chosen away from kinks and ties so the numerical derivative exists).
final class FiniteDifferenceTests: XCTestCase {
    func testEveryOpAgainstFiniteDifferences() throws {
        let eps: Float = 1e-3
        for c in try OpCase.load() {
            let inputs = c.inputs.map { Tensor(shape: $0.shape, data: $0.scalars, requiresGrad: true) }
            let out = applyOp(c.op, inputs, c.params)
            (out * Tensor(shape: out.shape, data: c.weight)).sum().backward()
            // The loss in Double so that rounding in the sum does not swamp the O(eps) difference.
            func loss(_ xs: [Tensor]) -> Double {
                let y = noGrad { applyOp(c.op, xs, c.params) }.scalars
                return zip(y, c.weight).reduce(0) { $0 + Double($1.0) * Double($1.1) }
            }
            for (i, x) in inputs.enumerated() where c.grads[i] != nil {
                let analytic = x.grad!.scalars
                let numeric = centralDifferences(loss, inputs, input: i, eps: eps)
                XCTAssertLessThanOrEqual(
                    mismatch(analytic, numeric, atol: 3e-3, rtol: 1e-2), 1, "\(c.name): input \(i)")
            }
        }
    }
}

/// The fused batch-norm op (not in the PyTorch op fixtures; the NN golden traces cover it against
/// PyTorch) against finite differences, for input, weight and bias.
final class BatchNormGradientTests: XCTestCase {
    func testFusedBatchNormAgainstFiniteDifferences() {
        var rng = PRNG(seed: 4)
        let x = Tensor.normal([3, 2, 2, 3], rng: &rng, requiresGrad: true)
        let w = Tensor(shape: [2], data: [1.5, -0.5], requiresGrad: true),
            b = Tensor(shape: [2], data: [0.2, 0.1], requiresGrad: true)
        let upstream = Tensor.normal([3, 2, 2, 3], rng: &rng)
        func loss(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Double {
            let y = noGrad { x.batchNorm(weight: w, bias: b, eps: 1e-5).out }.scalars
            return zip(y, upstream.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        (x.batchNorm(weight: w, bias: b, eps: 1e-5).out * upstream).sum().backward()
        let eps: Float = 1e-3
        for (k, t) in [x, w, b].enumerated() {
            for j in 0..<t.count {
                var plus = t.scalars, minus = t.scalars
                plus[j] += eps; minus[j] -= eps
                var args = [x.detach(), w.detach(), b.detach()], args2 = args
                args[k] = Tensor(shape: t.shape, data: plus); args2[k] = Tensor(shape: t.shape, data: minus)
                let numeric = (loss(args[0], args[1], args[2]) - loss(args2[0], args2[1], args2[2])) / Double(2 * eps)
                XCTAssertEqual(
                    Double(t.grad!.scalars[j]), numeric, accuracy: 3e-3 + 1e-2 * abs(numeric), "input \(k) element \(j)"
                )
            }
        }
        let (_, mean, variance) = noGrad { x.batchNorm(weight: nil, bias: nil, eps: 1e-5) }
        let ref = x.detach().variance(axes: [0, 2, 3], unbiased: false).scalars
        for c in 0..<2 { XCTAssertEqual(variance[c], ref[c], accuracy: 1e-5); XCTAssertFalse(mean[c].isNaN) }
    }

    /// Synchronised batch norm on the first rows of a batch, with a `reduce` that adds what the
    /// other process would contribute (its sums, worked out here from its rows), gives those rows
    /// the output and input gradient of the fused op on the whole batch.
    func testSynchronisedBatchNormOnPartOfABatchEqualsTheWholeBatch() {
        var rng = PRNG(seed: 9)
        let (n, c, inner, mine) = (5, 3, 4, 2)
        let all = Tensor.normal([n, c, 2, 2], rng: &rng), upstream = Tensor.normal([n, c, 2, 2], rng: &rng)
        let w = Tensor(shape: [c], data: [1.5, -0.5, 0.8], requiresGrad: true),
            b = Tensor(shape: [c], data: [0.2, 0.1, 0], requiresGrad: true)
        let whole = all.detach(); whole.requiresGrad = true
        (whole.batchNorm(weight: w, bias: b, eps: 1e-5).out * upstream).sum().backward()
        let x = all.slice(axis: 0, start: 0, end: mine).detach(); x.requiresGrad = true
        let xs = all.scalars, gs = upstream.scalars
        func others(_ ch: Int, _ f: (Int) -> Double) -> Double {
            var s = 0.0
            for i in mine..<n { for k in 0..<inner { s += f((i * c + ch) * inner + k) } }
            return s
        }
        var calls = 0, mean = [Double](repeating: 0, count: c), inv = [Double](repeating: 0, count: c)
        let reduce: ([Double]) -> [Double] = { v in
            calls += 1
            switch calls {
            case 1:
                let total = (0..<c).map { v[$0] + others($0) { Double(xs[$0]) } } + [v[c] + Double((n - mine) * inner)]
                mean = (0..<c).map { total[$0] / total[c] }
                return total
            case 2:
                let total = (0..<c).map { ch in
                    v[ch]
                        + others(ch) {
                            let d = Double(xs[$0]) - mean[ch]; return d * d
                        }
                }
                inv = total.map { 1 / (Float($0 / Double(n * inner)) + 1e-5).squareRoot() }.map(Double.init)
                return total
            default:
                return (0..<c).map { ch in v[ch] + others(ch) { Double(gs[$0]) } }
                    + (0..<c).map { ch in
                        v[c + ch] + others(ch) { Double(gs[$0]) * (Double(xs[$0]) - mean[ch]) * inv[ch] }
                    }
            }
        }
        let (y, _, variance, count) = x.batchNorm(weight: w.detach(), bias: b.detach(), eps: 1e-5, reduce: reduce)
        XCTAssertEqual(count, n * inner)
        let ref = all.detach().variance(axes: [0, 2, 3], unbiased: false).scalars
        for ch in 0..<c { XCTAssertEqual(variance[ch], ref[ch], accuracy: 1e-5) }
        let wholeOut = noGrad { all.batchNorm(weight: w, bias: b, eps: 1e-5).out }.slice(axis: 0, start: 0, end: mine)
            .scalars
        for (p, q) in zip(y.scalars, wholeOut) { XCTAssertEqual(p, q, accuracy: 1e-5) }
        (y * upstream.slice(axis: 0, start: 0, end: mine)).sum().backward()
        XCTAssertEqual(calls, 3)
        let wholeGrad = whole.grad!.slice(axis: 0, start: 0, end: mine).scalars
        for (p, q) in zip(x.grad!.scalars, wholeGrad) { XCTAssertEqual(p, q, accuracy: 1e-4) }
    }
}
