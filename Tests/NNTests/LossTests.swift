import Engine
import NN
import XCTest

/// Every loss's value and gradient against PyTorch, for both reductions.
final class LossTests: XCTestCase {
    func testLossesMatchPyTorch() throws {
        let cases = try Fixture.json("nn.json")["losses"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 14)
        for c in cases {
            let name = c["loss"] as! String
            let reduction = Reduction(rawValue: c["reduction"] as! String)!
            let xv = tensor(c["x"]!)
            let x = Tensor(shape: xv.shape, data: xv.scalars, requiresGrad: true)
            var yGrad: Tensor?
            let value: Tensor
            switch name {
            case "mse": value = Loss.mse(x, tensor(c["y"]!), reduction: reduction)
            case "l1": value = Loss.l1(x, tensor(c["y"]!), reduction: reduction)
            case "bceWithLogits": value = Loss.bceWithLogits(x, tensor(c["y"]!), reduction: reduction)
            case "bce": value = Loss.bce(x, tensor(c["y"]!), reduction: reduction)
            case "crossEntropy":
                value = Loss.crossEntropy(
                    x, targets: (c["targets"] as! [NSNumber]).map(\.intValue), reduction: reduction)
            case "gaussianKL":
                let lv = tensor(c["y"]!)
                let logVar = Tensor(shape: lv.shape, data: lv.scalars, requiresGrad: true)
                value = Loss.gaussianKL(mu: x, logVar: logVar, reduction: reduction)
                yGrad = logVar
            default: XCTFail("unknown loss \(name)"); continue
            }
            value.backward()
            let expected = (c["value"] as! NSNumber).floatValue
            XCTAssertEqual(value.item(), expected, accuracy: 1e-5 * max(1, abs(expected)), "\(name) \(reduction)")
            XCTAssertLessThanOrEqual(
                mismatch(x.grad!.scalars, tensor(c["grad"]!).scalars), 1, "\(name) \(reduction) gradient")
            if let yGrad {
                XCTAssertLessThanOrEqual(
                    mismatch(yGrad.grad!.scalars, tensor(c["gradY"]!).scalars), 1, "\(name) log-variance gradient")
            }
            XCTAssertTrue(value.item().isFinite, "\(name) must stay finite for extreme logits")
        }
    }
}
