import Engine
import XCTest

/// Every op's forward and backward against PyTorch (Fixtures/ops.json, made by
/// scripts/python/make_engine_fixtures.py).
final class PyTorchFixtureTests: XCTestCase {
    func testEveryOpMatchesPyTorch() throws {
        let cases = try OpCase.load()
        XCTAssertGreaterThan(cases.count, 80)
        var opsSeen = Set<String>()
        for c in cases {
            opsSeen.insert(c.op)
            let inputs = c.inputs.map { x in Tensor(shape: x.shape, data: x.scalars, requiresGrad: true) }
            let out = applyOp(c.op, inputs, c.params)
            XCTAssertEqual(out.shape, c.output.shape, "\(c.name): output shape")
            guard out.shape == c.output.shape else { continue }
            XCTAssertLessThanOrEqual(mismatch(out.scalars, c.output.scalars), 1, "\(c.name): forward")
            (out * Tensor(shape: out.shape, data: c.weight)).sum().backward()
            for (i, (x, g)) in zip(inputs, c.grads).enumerated() {
                guard let g else { continue }
                guard let got = x.grad else { XCTFail("\(c.name): no gradient for input \(i)"); continue }
                XCTAssertEqual(got.shape, x.shape)
                XCTAssertLessThanOrEqual(
                    mismatch(got.scalars, g, atol: 2e-5, rtol: 2e-5), 1, "\(c.name): gradient of input \(i)")
            }
        }
        XCTAssertTrue(opsSeen.isSuperset(of: ["conv2d", "convTranspose2d", "matmul", "maxPool2d", "gather", "pad"]))
    }
}
