import Engine
import NN
import XCTest

final class ModuleTests: XCTestCase {
    final class Block: Module {
        let conv = Conv2d(3, 8, kernel: 3, padding: 1, rng: &ModuleTests.rng)
        let bn = BatchNorm2d(8)
    }

    final class Net: Module {
        let blocks: [Module] = [Block(), Block()]
        let head = Sequential([Flatten(), Linear(8, 2, rng: &ModuleTests.rng), Dropout(0.5, rng: &ModuleTests.rng)])
        var _scratch = Tensor.zeros([1])  // underscore: not a parameter
    }

    nonisolated(unsafe) static var rng = PRNG(seed: 1)

    func testKeyPathsMatchPyTorchStateDictNames() {
        let keys = Net().stateDict().keys.sorted()
        XCTAssertEqual(
            keys,
            [
                "blocks.0.bn.bias", "blocks.0.bn.num_batches_tracked", "blocks.0.bn.running_mean",
                "blocks.0.bn.running_var",
                "blocks.0.bn.weight", "blocks.0.conv.bias", "blocks.0.conv.weight",
                "blocks.1.bn.bias", "blocks.1.bn.num_batches_tracked", "blocks.1.bn.running_mean",
                "blocks.1.bn.running_var",
                "blocks.1.bn.weight", "blocks.1.conv.bias", "blocks.1.conv.weight",
                "head.1.bias", "head.1.weight",
            ])
        let net = Net()
        XCTAssertEqual(net.parameterCount, 2 * (8 * 3 * 9 + 8 + 8 + 8) + 8 * 2 + 2)
        XCTAssertEqual(net.parameters().count, 10)
    }

    func testTrainAndEvalSwitchTheWholeTree() {
        let net = Net()
        net.eval()
        XCTAssertTrue(net.namedModules().allSatisfy { !$0.1.isTraining })
        net.train()
        XCTAssertTrue(net.namedModules().allSatisfy { $0.1.isTraining })
        XCTAssertEqual(net.namedModules().count, 1 + 2 * 3 + 1 + 3)
    }

    func testLoadStateDictChecksKeysAndShapes() throws {
        var rng = PRNG(seed: 2)
        let a = Linear(4, 3, rng: &rng), b = Linear(4, 3, rng: &rng)
        try b.loadStateDict(a.stateDict())
        XCTAssertEqual(b.weight.scalars, a.weight.scalars)
        var missing = a.stateDict()
        missing["bias"] = nil
        XCTAssertThrowsError(try b.loadStateDict(missing)) {
            XCTAssertTrue("\($0)".contains("missing keys: bias"), "\($0)")
        }
        XCTAssertEqual(try b.loadStateDict(missing, strict: false).missing, ["bias"])
        var extra = a.stateDict()
        extra["other"] = Tensor(1)
        XCTAssertThrowsError(try b.loadStateDict(extra)) {
            XCTAssertTrue("\($0)".contains("unexpected keys: other"), "\($0)")
        }
        var wrong = a.stateDict()
        wrong["weight"] = Tensor.zeros([3, 5])
        XCTAssertThrowsError(try b.loadStateDict(wrong, strict: false)) {
            XCTAssertTrue("\($0)".contains("'weight'") && "\($0)".contains("[3, 5]"), "\($0)")
        }
    }

    func testInitialisersHaveTheirDocumentedSpread() {
        var rng = PRNG(seed: 4)
        let lin = Linear(400, 300, rng: &rng)
        let bound = 1 / Float(400).squareRoot()
        XCTAssertTrue(lin.weight.scalars.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(lin.weight.scalars.map(abs).max()!, bound * 0.99)
        let g = Sequential([ConvTranspose2d(100, 64, kernel: 4, rng: &rng), BatchNorm2d(64), ReLU()])
        Init.dcgan(g, rng: &rng)
        let w = (g.layers[0] as! ConvTranspose2d).weight.scalars
        let std = (w.map { $0 * $0 }.reduce(0, +) / Float(w.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.001)
        let bn = (g.layers[1] as! BatchNorm2d).weight!.scalars
        XCTAssertEqual(bn.reduce(0, +) / Float(bn.count), 1, accuracy: 0.01)
        XCTAssertEqual((g.layers[0] as! ConvTranspose2d).bias!.scalars, [Float](repeating: 0, count: 64))
        let x = Tensor.zeros([10, 10])
        Init.xavierUniform(x, fanIn: 10, fanOut: 10, rng: &rng)
        XCTAssertTrue(x.scalars.allSatisfy { abs($0) <= (6 / Float(20)).squareRoot() })
    }

    func testBatchNormUsesRunningStatisticsInEvalMode() {
        let bn = BatchNorm1d(2)
        var rng = PRNG(seed: 5)
        let x = Tensor.normal([256, 2], mean: 3, std: 2, rng: &rng)
        for _ in 0..<100 { _ = bn(x) }
        XCTAssertEqual(bn.running_mean.value.scalars[0], x.mean(axes: [0]).scalars[0], accuracy: 1e-3)
        XCTAssertEqual(bn.num_batches_tracked.value.item(), 100)
        bn.eval()
        let y = bn(x)
        XCTAssertEqual(y.mean().item(), 0, accuracy: 0.02)
        XCTAssertEqual(y.variance(axes: [0, 1], unbiased: false).item(), 1, accuracy: 0.02)
    }

    func testDropoutIsIdentityInEvalMode() {
        var rng = PRNG(seed: 6)
        let d = Dropout(0.5, rng: &rng)
        let x = Tensor.ones([1000])
        XCTAssertTrue(d(x).scalars.contains(0))
        d.eval()
        XCTAssertEqual(d(x).scalars, x.scalars)
    }

    func testLayerNormNormalisesTheTrailingAxes() {
        var rng = PRNG(seed: 7)
        let ln = LayerNorm([6])
        let y = ln(Tensor.normal([4, 6], mean: 5, std: 3, rng: &rng))
        for r in 0..<4 {
            let row = Array(y.scalars[r * 6..<(r + 1) * 6])
            XCTAssertEqual(row.reduce(0, +) / 6, 0, accuracy: 1e-5)
        }
    }

    /// A frozen module passes gradients to its input but computes none for its own parameters, and
    /// each parameter's flag comes back as it was.
    func testFrozenModulePassesGradientsThroughWithoutItsOwn() {
        var rng = PRNG(seed: 8)
        let net = Sequential([
            Conv2d(3, 16, kernel: 3, stride: 1, padding: 1, rng: &rng), BatchNorm2d(16), LeakyReLU(0.2),
            Conv2d(16, 2, kernel: 3, stride: 1, padding: 1, rng: &rng),
        ])
        let fixed = net.parameters()[1]
        fixed.requiresGrad = false
        let x = Tensor.normal([2, 3, 8, 8], rng: &rng, requiresGrad: true)
        let free = net(x).sum()
        free.backward()
        let expected = x.grad!.scalars
        x.zeroGrad(); net.zeroGrad()
        net.frozen {
            net(x).sum().backward()
        }
        XCTAssertTrue(net.parameters().allSatisfy { $0.grad == nil })
        XCTAssertEqual(x.grad!.scalars, expected)
        XCTAssertEqual(net.parameters().map(\.requiresGrad), net.parameters().indices.map { $0 != 1 })
    }
}
