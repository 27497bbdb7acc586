import CKernels
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

/// The fused binary cross-entropy on logits against the chain of elementwise ops it replaces.
final class FusedLossTests: XCTestCase {
    /// Values bit for bit (same operations, no FMA contraction) and gradients to rounding, with
    /// every instruction set this CPU has, over a size that ends mid-vector and spans both threads,
    /// logits from −120 to 120 (and a NaN), soft and hard targets, the target's gradient too.
    func testFusedBCEWithLogitsIsTheCompositeOnEveryInstructionSet() {
        defer { _ = genlab_isa_force(-1) }
        var rng = PRNG(seed: 21)
        let n = (1 << 16) + 13
        var logits = Tensor.normal([n], rng: &rng).scalars.map { $0 * 8 }
        logits[0...6] = [-120, -87.5, -30, 0, 30, 87.5, 120]
        logits[7] = .nan
        let targets: [Float] = (0..<n).map { (i: Int) -> Float in
            let hard = Float(i % 2), soft = Float(i % 17) / 16
            return i % 3 == 0 ? hard : soft
        }
        var checked = 0
        for level in [GENLAB_ISA_AVX512, GENLAB_ISA_AVX2, GENLAB_ISA_SSE2] where genlab_isa_force(Int32(level)) == 1 {
            checked += 1
            var results: [(value: [Float], dx: [Float], dt: [Float])] = []
            for fused in [true, false] {
                let x = Tensor(shape: [n], data: logits, requiresGrad: true)
                let t = Tensor(shape: [n], data: targets, requiresGrad: true)
                let each =
                    fused
                    ? Loss.bceWithLogits(x, t, reduction: .none)
                    : Loss.bceWithLogitsReference(x, t, reduction: .none)
                let weights = Tensor(shape: [n], data: (0..<n).map { Float($0 % 7) - 3 })
                (each * weights).sum().backward()
                results.append((each.scalars, x.grad!.scalars, t.grad!.scalars))
            }
            let (f, r) = (results[0], results[1])
            XCTAssertTrue(f.value[7].isNaN && f.dx[7].isNaN, "ISA \(level): NaN logit")
            for i in 8..<n where f.value[i].bitPattern != r.value[i].bitPattern {
                XCTFail("ISA \(level): value \(i) (logit \(logits[i])): \(f.value[i]) vs \(r.value[i])")
                break
            }
            for i in 0..<n where i != 7 {
                let scale = Swift.max(1, Swift.abs(r.dx[i]))
                if Swift.abs(f.dx[i] - r.dx[i]) > 1e-6 * scale || f.dt[i] != r.dt[i] {
                    let pair = "\(f.dx[i]) vs \(r.dx[i]), target's \(f.dt[i]) vs \(r.dt[i])"
                    XCTFail("ISA \(level): gradient \(i) (logit \(logits[i])): \(pair)")
                    break
                }
            }
            XCTAssertEqual(Array(f.value[0...6]), Array(r.value[0...6]), "ISA \(level): extreme logits")
        }
        XCTAssertGreaterThanOrEqual(checked, 1, "not even SSE2 ran")
    }

    /// A zero logit costs log 2 whatever the target; the mean reduction keeps that.
    func testFusedBCEWithLogitsOfZeroLogitsIsLogTwo() {
        let t = Tensor(shape: [2, 3], data: [0, 1, 0.5, 1, 0, 0.25])
        XCTAssertEqual(Loss.bceWithLogits(Tensor.zeros([2, 3]), t).item(), Float(0.6931472), accuracy: 1e-6)
    }
}
