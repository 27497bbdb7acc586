import Engine
import XCTest

/// The tape's semantics: accumulation, zeroing, no-grad scopes, detach, shared subexpressions.
final class AutogradTests: XCTestCase {
    func testGradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        let x = Tensor(shape: [3], data: [1, 2, 3], requiresGrad: true)
        (x * x).sum().backward()
        XCTAssertEqual(x.grad!.scalars, [2, 4, 6])
        (x * 3).sum().backward()
        XCTAssertEqual(x.grad!.scalars, [5, 7, 9])
        x.zeroGrad()
        (x * 3).sum().backward()
        XCTAssertEqual(x.grad!.scalars, [3, 3, 3])
    }

    func testSharedSubexpressionsSumTheirGradients() {
        // y = a·b + a, both paths through a: dy/da = b + 1.
        let a = Tensor(shape: [2], data: [2, -1], requiresGrad: true)
        let b = Tensor(shape: [2], data: [5, 7], requiresGrad: true)
        let y = a * b + a
        (y * y).sum().backward()  // d/da (y²) = 2y(b + 1)
        let yv = y.scalars
        XCTAssertEqual(a.grad!.scalars, [2 * yv[0] * 6, 2 * yv[1] * 8])
        XCTAssertEqual(b.grad!.scalars, [2 * yv[0] * 2, 2 * yv[1] * -1])
    }

    func testAddGivesIndependentGradientCopiesToItsInputs() {
        let a = Tensor(shape: [2], data: [1, 1], requiresGrad: true),
            b = Tensor(shape: [2], data: [1, 1], requiresGrad: true)
        (a + b).sum().backward()
        addInPlace(a.grad!, a.grad!)
        XCTAssertEqual(b.grad!.scalars, [1, 1], "a's gradient buffer must not alias b's")
    }

    func testNoGradRecordsNothingAndDetachCutsTheTape() {
        let x = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        let y = noGrad { x * 2 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.gradFn)
        XCTAssertTrue(GradMode.isEnabled)
        let z = (x * 2).detach()
        XCTAssertFalse(z.requiresGrad)
        let w = (x * z).sum()
        w.backward()
        XCTAssertEqual(x.grad!.scalars, [2, 4], "the detached factor is a constant")
    }

    func testOnlyInputsThatRequireGradientsGetThem() {
        let x = Tensor(shape: [2], data: [1, 2], requiresGrad: true), c = Tensor(shape: [2], data: [3, 4])
        (x * c).sum().backward()
        XCTAssertNil(c.grad)
        XCTAssertEqual(x.grad!.scalars, [3, 4])
    }

    func testRetainGradKeepsANonLeafGradient() {
        let x = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        let h = x * 3
        h.retainGrad()
        (h * h).sum().backward()
        XCTAssertEqual(h.grad!.scalars, [6, 12])
        XCTAssertEqual(x.grad!.scalars, [18, 36])
    }

    func testBackwardWithExplicitGradientOnANonScalar() {
        let x = Tensor(shape: [2, 2], data: [1, 2, 3, 4], requiresGrad: true)
        let y = x.exp()
        y.backward(Tensor(shape: [2, 2], data: [1, 0, 0, 2]))
        XCTAssertEqual(x.grad!.scalars[0], Foundation.exp(1), accuracy: 1e-5)
        XCTAssertEqual(x.grad!.scalars[3], 2 * Foundation.exp(4), accuracy: 1e-3)
        XCTAssertEqual(x.grad!.scalars[1], 0)
    }

    func testDeepChainsDoNotOverflowTheStack() {
        let x = Tensor(1, requiresGrad: true)
        var y = x
        for _ in 0..<20_000 { y = y + 0 }
        y.backward()
        XCTAssertEqual(x.grad!.item(), 1)
    }

    func testReshapeIsAViewAndOpsDoNotWriteInPlace() {
        let x = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let v = x.reshape([3, 2])
        XCTAssertTrue(v.storage === x.storage)
        let y = x.relu() + 1
        XCTAssertFalse(y.storage === x.storage)
        XCTAssertEqual(x.scalars, [1, 2, 3, 4, 5, 6])
    }

    func testDropoutKeepsTheMeanAndMasksTheGradient() {
        var rng = PRNG(seed: 21)
        let x = Tensor.ones([100_000], requiresGrad: true)
        let y = x.dropout(0.3, rng: &rng)
        let kept = y.scalars.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 100_000, 0.7, accuracy: 0.01)
        XCTAssertEqual(kept.first!, 1 / 0.7, accuracy: 1e-6)
        XCTAssertEqual(y.mean().item(), 1, accuracy: 0.02)
        y.sum().backward()
        XCTAssertEqual(x.grad!.scalars, y.scalars, "gradient is the scaled mask")
    }
}

/// Recorded graphs must be freed with their last reference: a backward rule that captured its own
/// output would form a cycle and leak every step's activations.
final class GraphLifetimeTests: XCTestCase {
    func testBackwardFreesWhatTheGraphSavedUnlessRetained() {
        // PyTorch's retain_graph: a second backward through the same graph needs the first to keep it.
        let x = Tensor(shape: [3], data: [1, 2, 3], requiresGrad: true)
        let y = (x * x).sum()
        y.backward(retainGraph: true)
        y.backward()
        XCTAssertEqual(x.grad!.scalars, [4, 8, 12])
        // After a plain backward, the activations the rules captured are released at once,
        // while the loss tensor itself is still referenced.
        weak var activation: Tensor?
        let loss: Tensor
        do {
            let h = x.exp()
            activation = h
            loss = (h * 2).sum()
        }
        XCTAssertNotNil(activation)
        loss.backward()
        XCTAssertNil(activation, "backward() kept the graph's saved tensors alive")
    }

    func testGraphsAreFreedWhenDropped() {
        let ops: [(String, (Tensor) -> Tensor)] = [
            ("exp", { $0.exp() }), ("sqrt", { $0.abs().sqrt() }), ("relu", { $0.relu() }),
            ("sigmoid", { $0.sigmoid() }),
            ("tanh", { $0.tanh() }), ("div", { $0 / ($0.abs() + 1) }), ("rdiv", { 1 / ($0.abs() + 1) }),
            ("pow", { ($0.abs() + 1).pow($0) }),
            ("conv", { $0.reshape([1, 1, 2, 2]).conv2d(Tensor.ones([1, 1, 1, 1])) }),
        ]
        for (name, op) in ops {
            weak var weakOut: Tensor?
            do {
                let x = Tensor(shape: [4], data: [0.5, -1, 2, 0.25], requiresGrad: true)
                let y = op(x)
                weakOut = y
                y.sum().backward()
            }
            XCTAssertNil(weakOut, "\(name): the output outlived its graph (reference cycle)")
        }
    }
}
