import Engine
import Foundation
import XCTest

/// Gradients of gradients (`createGraph`): every op's recorded backward pass against PyTorch's
/// double backward and against finite differences of the engine's own first-order gradient, on
/// both convolution backends; a critic's gradient penalties (WGAN-GP, R1) against PyTorch.
final class DoubleBackwardTests: XCTestCase {
    override func tearDown() { ConvolutionBackend.current = .oneDNN }

    /// im2col always; oneDNN (and its channel-blocked activations) where it loaded.
    private var backends: [ConvolutionBackend] {
        [.im2col] + (ConvolutionBackend.oneDNNStatus.hasPrefix("oneDNN") ? [.oneDNN] : [])
    }

    /// s = Σᵢ ⟨vᵢ, ∂⟨op(x), w⟩/∂xᵢ⟩ with the first-order gradients on the tape; returns the inputs
    /// and w (their `.grad` hold ∂s/∂x and ∂s/∂w after `s.backward()`).
    private func secondOrder(_ c: OpCase) -> (inputs: [Tensor], weight: Tensor) {
        let inputs = c.inputs.map { Tensor(shape: $0.shape, data: $0.scalars, requiresGrad: true) }
        let w = Tensor(shape: c.output.shape, data: c.weight, requiresGrad: true)
        let h = (applyOp(c.op, inputs, c.params) * w).sum()
        let grads = grad(of: h, withRespectTo: inputs, createGraph: true)
        var s: Tensor? = nil
        for (g, (x, v)) in zip(grads, zip(inputs, c.v)) {
            guard let g else { continue }
            XCTAssertEqual(g.shape, x.shape, "\(c.name)")
            let term = (g * Tensor(shape: x.shape, data: v)).sum()
            s = s.map { $0 + term } ?? term
        }
        s?.backward()
        return (inputs, w)
    }

    func testEveryOpsDoubleBackwardMatchesPyTorch() throws {
        let cases = try OpCase.load()
        for backend in backends {
            ConvolutionBackend.current = backend
            for c in cases {
                let (inputs, w) = secondOrder(c)
                for (i, x) in inputs.enumerated() {
                    let got = x.grad?.scalars ?? [Float](repeating: 0, count: x.count)
                    XCTAssertLessThanOrEqual(
                        mismatch(got, c.grads2[i], atol: 5e-5, rtol: 5e-5), 1,
                        "\(c.name) (\(backend)): second-order gradient of input \(i)")
                }
                let gotW = w.grad?.scalars ?? [Float](repeating: 0, count: w.count)
                XCTAssertLessThanOrEqual(
                    mismatch(gotW, c.weightGrad2, atol: 5e-5, rtol: 5e-5), 1,
                    "\(c.name) (\(backend)): second-order gradient of the upstream gradient")
            }
        }
    }

    /// ∂s/∂x against central differences of s(x) = Σᵢ ⟨vᵢ, ∇ᵢ⟨op(x), w⟩⟩ computed by the ordinary
    /// (first-order) backward pass: the recorded backward differentiates what backward computes.
    func testEveryOpsDoubleBackwardAgainstFiniteDifferences() throws {
        let eps: Float = 1e-3
        for c in try OpCase.load() {
            let (inputs, _) = secondOrder(c)
            func s(_ xs: [Tensor]) -> Double {
                let leaves = xs.map { Tensor(shape: $0.shape, data: $0.scalars, requiresGrad: true) }
                (applyOp(c.op, leaves, c.params) * Tensor(shape: c.output.shape, data: c.weight)).sum().backward()
                var total = 0.0
                for (x, v) in zip(leaves, c.v) {
                    guard let g = x.grad else { continue }
                    total += zip(g.scalars, v).reduce(0) { $0 + Double($1.0) * Double($1.1) }
                }
                return total
            }
            for (i, x) in inputs.enumerated() {
                let analytic = x.grad?.scalars ?? [Float](repeating: 0, count: x.count)
                let numeric = centralDifferences(s, inputs, input: i, eps: eps)
                XCTAssertLessThanOrEqual(
                    mismatch(analytic, numeric, atol: 3e-3, rtol: 1e-2), 1, "\(c.name): input \(i)")
            }
        }
    }

    func testGradientPenaltiesOfACriticMatchPyTorch() throws {
        let url = Bundle.module.url(forResource: "gradient_penalty", withExtension: "json", subdirectory: "Fixtures")!
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        func floats(_ o: Any?) -> [Float] { (o as! [NSNumber]).map(\.floatValue) }
        func tensor(_ o: Any?, requiresGrad: Bool = false) -> Tensor {
            let d = o as! [String: Any]
            return Tensor(
                shape: (d["shape"] as! [NSNumber]).map(\.intValue), data: floats(d["data"]), requiresGrad: requiresGrad)
        }
        let saved = root["params"] as! [String: Any]
        for backend in backends {
            ConvolutionBackend.current = backend
            for kind in ["gp", "r1"] {
                let p = saved.mapValues { tensor($0, requiresGrad: true) }
                func critic(_ x: Tensor) -> Tensor {
                    var h = x.conv2d(p["conv1.weight"]!, bias: p["conv1.bias"]!, stride: (2, 2), padding: (1, 1))
                    h = h.leakyRelu(0.2).conv2d(p["conv2.weight"]!, stride: (2, 2), padding: (1, 1)).leakyRelu(0.2)
                    let y = h.flatten(from: 1).matmul(p["linear.weight"]!, transposeB: true) + p["linear.bias"]!
                    return y.reshape([x.shape[0]])
                }
                let real = tensor(root["real"]), fake = tensor(root["fake"]), e = tensor(root["eps"])
                let x = kind == "gp" ? (e * real + (1 - e) * fake).detach() : real
                x.requiresGrad = true
                let g = grad(of: critic(x).sum(), withRespectTo: [x], createGraph: true)[0]!
                let norms2 = (g * g).flatten(from: 1).sum(axes: [1])
                let value = kind == "gp" ? (norms2.sqrt() - 1).pow(2).mean() : norms2.mean()
                value.backward()
                let want = root[kind] as! [String: Any]
                XCTAssertEqual(
                    value.item(), (want["value"] as! NSNumber).floatValue, accuracy: 1e-5, "\(kind) \(backend)")
                XCTAssertLessThanOrEqual(mismatch(g.scalars, floats(want["inputGradient"])), 1, "\(kind) ∇x D")
                for (name, expected) in want["grads"] as! [String: Any] {
                    let got = p[name]!.grad?.scalars ?? [Float](repeating: 0, count: p[name]!.count)
                    XCTAssertLessThanOrEqual(
                        mismatch(got, floats(expected), atol: 2e-5, rtol: 1e-4), 1, "\(kind) (\(backend)): ∂/∂\(name)")
                }
            }
        }
    }

    /// `grad(of:)` leaves every `.grad` alone, returns nil for an input the output does not reach,
    /// and a recorded `.grad` from `backward(createGraph:)` can be differentiated again.
    func testGradLeavesGradsAloneAndBackwardCanCreateAGraph() {
        let x = Tensor(shape: [3], data: [0.5, -1, 2], requiresGrad: true)
        let unused = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        let y = (x * x * x).sum()  // ∂y/∂x = 3x², ∂²y/∂x² = 6x
        let gs = grad(of: y, withRespectTo: [x, unused])
        XCTAssertNil(x.grad)
        XCTAssertNil(gs[1])
        XCTAssertEqual(gs[0]!.scalars, [0.75, 3, 12])
        XCTAssertFalse(gs[0]!.requiresGrad)
        let z = (x * x * x).sum()
        z.backward(createGraph: true)
        XCTAssertTrue(x.grad!.requiresGrad)
        let first = x.grad!
        x.zeroGrad()
        first.sum().backward()
        XCTAssertEqual(x.grad!.scalars, [3, -6, 12])
    }
}
