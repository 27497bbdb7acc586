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
                var numeric = [Float](repeating: 0, count: x.count)
                for j in 0..<x.count {
                    var plus = x.scalars, minus = x.scalars
                    plus[j] += eps
                    minus[j] -= eps
                    var xsPlus = inputs.map { $0.detach() }, xsMinus = xsPlus
                    xsPlus[i] = Tensor(shape: x.shape, data: plus)
                    xsMinus[i] = Tensor(shape: x.shape, data: minus)
                    numeric[j] = Float((loss(xsPlus) - loss(xsMinus)) / Double(2 * eps))
                }
                XCTAssertLessThanOrEqual(mismatch(analytic, numeric, atol: 3e-3, rtol: 1e-2), 1, "\(c.name): input \(i)")
            }
        }
    }
}
