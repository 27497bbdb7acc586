import Engine
import Formats
import Foundation
import Models
import NN
import XCTest

/// The conditional flows against their PyTorch reference (scripts/python/make_flow_fixtures.py,
/// whose spline agrees with nflows'), finite differences, and their own inverse.
final class FlowTests: XCTestCase {
    static func fixture(_ name: String) throws -> SafeTensors.File {
        let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!
        return try SafeTensors.read(url.path)
    }

    /// Largest |a − b| / (atol + rtol·|b|); ≤ 1 means they agree.
    static func mismatch(_ a: [Float], _ b: [Float], atol: Float, rtol: Float) -> Float {
        precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
        var worst: Float = 0
        for i in a.indices { worst = max(worst, abs(a[i] - b[i]) / (atol + rtol * abs(b[i]))) }
        return worst
    }

    func testSplineMatchesPyTorchValuesAndGradients() throws {
        let f = try Self.fixture("spline.safetensors")
        let spline = RationalQuadraticSpline(bins: 6, tailBound: 2)
        let x = f.tensors["x"]!.copy(), params = f.tensors["params"]!.copy()
        x.requiresGrad = true; params.requiresGrad = true
        let (y, logDet) = spline.forward(x, params)
        XCTAssertLessThan(Self.mismatch(y.scalars, f.tensors["y"]!.scalars, atol: 1e-5, rtol: 1e-5), 1)
        XCTAssertLessThan(Self.mismatch(logDet.scalars, f.tensors["logdet"]!.scalars, atol: 1e-4, rtol: 1e-4), 1)
        (y.sum() + logDet.sum()).backward()
        XCTAssertLessThan(Self.mismatch(x.grad!.scalars, f.tensors["grad_x"]!.scalars, atol: 1e-4, rtol: 1e-4), 1)
        XCTAssertLessThan(
            Self.mismatch(params.grad!.scalars, f.tensors["grad_params"]!.scalars, atol: 5e-4, rtol: 2e-3), 1)
        // Beyond the tail bound the map is the identity with log-Jacobian 0.
        XCTAssertEqual(y.scalars[0], x.scalars[0])
        XCTAssertEqual(logDet.scalars[0], 0)
        // The inverse undoes it everywhere, tails included.
        let back = spline.inverse(y.scalars, params.detach())
        XCTAssertLessThan(Self.mismatch(back, x.scalars, atol: 5e-4, rtol: 1e-3), 1)
    }

    func flow(_ transform: ConditionalFlow.Transform, _ file: SafeTensors.File) throws -> ConditionalFlow {
        var c = ConditionalFlow.Config(features: 4, contextFeatures: 1)
        c.blocks = 3; c.hiddenFeatures = 16; c.hiddenLayers = 2; c.transform = transform; c.bins = 5; c.tailBound = 2.5
        var rng = PRNG(seed: 1)
        let flow = ConditionalFlow(c, rng: &rng)
        var weights: [String: Tensor] = [:]
        for (k, v) in file.tensors where k.hasPrefix("weights.") { weights[String(k.dropFirst(8))] = v }
        try flow.loadStateDict(weights)
        return flow
    }

    func testFlowsMatchPyTorchLogLikelihoodBaseSpaceAndGradients() throws {
        for transform in ConditionalFlow.Transform.allCases {
            let f = try Self.fixture("flow_\(transform).safetensors")
            let flow = try flow(transform, f)
            let x = f.tensors["x"]!, c = f.tensors["context"]!
            let (z, logp) = flow.encode(x, context: c)
            XCTAssertLessThan(
                Self.mismatch(logp.scalars, f.tensors["logp"]!.scalars, atol: 1e-3, rtol: 1e-4), 1, "\(transform)")
            XCTAssertLessThan(
                Self.mismatch(z.scalars, f.tensors["z"]!.scalars, atol: 1e-4, rtol: 1e-4), 1, "\(transform)")
            logp.mean().backward()
            for (key, p) in flow.namedParameters() {
                let expected = try XCTUnwrap(f.tensors["grad.\(key)"], key)
                XCTAssertLessThan(
                    Self.mismatch(p.grad?.scalars ?? [], expected.scalars, atol: 1e-4, rtol: 1e-3), 1,
                    "\(transform) \(key)")
            }
            // decode is encode's exact inverse (the autoregressive inversion, feature by feature).
            let back = flow.decode(z, context: c)
            XCTAssertLessThan(Self.mismatch(back.scalars, x.scalars, atol: 1e-3, rtol: 1e-3), 1, "\(transform)")
        }
    }

    func testLogLikelihoodGradientAgreesWithFiniteDifferences() throws {
        for transform in ConditionalFlow.Transform.allCases {
            let f = try Self.fixture("flow_\(transform).safetensors")
            let flow = try flow(transform, f)
            // One row: fewer ReLU and knot crossings within the finite-difference step.
            let x = f.tensors["x"]!.slice(axis: 0, start: 5, end: 6),
                c = f.tensors["context"]!.slice(axis: 0, start: 5, end: 6)
            flow.logProbability(x, context: c).mean().backward()
            for (key, p) in flow.namedParameters() where key.hasSuffix("weight") {
                for index in [0, p.count / 2, p.count - 1] {
                    let analytic = p.grad!.scalars[index]
                    let h: Float = 2e-3
                    let saved = p.storage.pointer[index]
                    p.storage.pointer[index] = saved + h
                    let up = noGrad { flow.logProbability(x, context: c).mean().item() }
                    p.storage.pointer[index] = saved - h
                    let down = noGrad { flow.logProbability(x, context: c).mean().item() }
                    p.storage.pointer[index] = saved
                    let numeric = (up - down) / (2 * h)
                    XCTAssertEqual(
                        analytic, numeric, accuracy: 5e-3 + 2e-2 * abs(numeric), "\(transform) \(key)[\(index)]")
                }
            }
        }
    }

    func testMADEOutputsDependOnlyOnEarlierFeatures() {
        var rng = PRNG(seed: 5)
        let made = MADE(
            features: 5, contextFeatures: 2, hiddenFeatures: 12, hiddenLayers: 2, parametersPerFeature: 3, rng: &rng)
        let x = Tensor.normal([1, 5], rng: &rng), c = Tensor.normal([1, 2], rng: &rng)
        let base = made(x, context: c).scalars
        for j in 0..<5 {
            let moved = x.copy()
            moved.storage.pointer[j] += 1
            let out = made(moved, context: c).scalars
            for d in 0..<5 {
                let changed = (0..<3).contains { abs(out[d * 3 + $0] - base[d * 3 + $0]) > 1e-6 }
                if j >= d { XCTAssertFalse(changed, "output of feature \(d) moved with feature \(j)") }
            }
        }
        // The first feature's parameters depend on the context alone; the last one's on every other feature.
        let shifted = c.copy(); shifted.storage.pointer[0] += 1
        XCTAssertNotEqual(made(x, context: shifted).scalars[0], base[0])
    }

    func testFittedScalingIsInvertibleAndSamplesFollowTheContext() {
        var rng = PRNG(seed: 9)
        var c = ConditionalFlow.Config(features: 2, contextFeatures: 1)
        c.blocks = 2; c.hiddenFeatures = 8
        let flow = ConditionalFlow(c, rng: &rng)
        let ctx = Tensor.uniform([500, 1], low: 2, high: 4, rng: &rng)
        let x = Tensor.normal([500, 2], rng: &rng) * 3 + 100
        flow.fitScaling(features: x, context: ctx)
        let (s, _) = noGrad { flow.encode(x, context: ctx) }
        let back = flow.decode(s, context: ctx)
        XCTAssertLessThan(Self.mismatch(back.scalars, x.scalars, atol: 1e-2, rtol: 1e-4), 1)
        // Samples stay inside the logit's range.
        let samples = flow.sample(context: ctx, count: 500, rng: &rng).scalars
        let low = flow.featureLow.value.scalars, high = flow.featureHigh.value.scalars
        for (i, v) in samples.enumerated() { XCTAssertTrue(v > low[i % 2] && v < high[i % 2], "\(v)") }
    }

    /// The logit's range is the data's widened by the margin; a configuration written before the
    /// margin existed reads as the 5 % it was fitted with.
    func testLogitMarginWidensTheRangeAndOldConfigurationsKeepFivePercent() throws {
        var rng = PRNG(seed: 4)
        let x = Tensor.uniform([300, 1], low: 0, high: 2, rng: &rng)
        let v = x.scalars, lo = v.min()!, hi = v.max()!
        for (margin, expected) in [(nil, Float(0.05)), (Float(1e-4), 1e-4), (Float(0), 0)] as [(Float?, Float)] {
            var c = ConditionalFlow.Config(features: 1, contextFeatures: 0)
            c.blocks = 1; c.hiddenFeatures = 4; c.logitMargin = margin
            let flow = ConditionalFlow(c, rng: &rng)
            flow.fitScaling(features: x, context: nil)
            let width = max((hi - lo) * expected, 1e-6)
            XCTAssertEqual(flow.featureLow.value.scalars[0], lo - width, accuracy: 1e-6)
            XCTAssertEqual(flow.featureHigh.value.scalars[0], hi + width, accuracy: 1e-6)
            // The data's own extremes stay finite in the density.
            let lp = noGrad { flow.logProbability(x, context: nil) }.scalars
            XCTAssertTrue(lp.allSatisfy(\.isFinite))
        }
        var old =
            try JSONSerialization.jsonObject(
                with: JSONEncoder().encode(ConditionalFlow.Config(features: 2, contextFeatures: 1))) as! [String: Any]
        old.removeValue(forKey: "logitMargin")
        let decoded = try JSONDecoder().decode(
            ConditionalFlow.Config.self, from: JSONSerialization.data(withJSONObject: old))
        XCTAssertNil(decoded.logitMargin)
    }
}
