import Engine
import XCTest

@testable import NN

/// Spectral normalisation: the power iteration finds the largest singular value (the normalised
/// weight's is 1), evaluation leaves u and v alone, the keys are PyTorch's, and gradients through
/// W / σ(W) agree with finite differences.
final class SpectralNormTests: XCTestCase {
    func testNormalisedWeightHasUnitSpectralNorm() {
        var rng = PRNG(seed: 11)
        let conv = Conv2d(3, 5, kernel: 3, rng: &rng)
        let sn = SpectralNorm(conv, rng: &rng)
        XCTAssertEqual(
            Set(sn.stateDict().keys), ["weight_orig", "bias", "weight_u", "weight_v"], "PyTorch's spectral_norm keys")
        var w = sn.normalisedWeight()
        for _ in 0..<50 { w = sn.normalisedWeight() }
        // The largest singular value of the normalised [5, 27] matrix, by a long power iteration of its own.
        let m = w.reshape([5, -1])
        var v = Tensor.ones([27, 1])
        for _ in 0..<500 {
            v = m.matmul(m.matmul(v), transposeA: true)
            v = v / v.pow(2).sum().sqrt().item()
        }
        let top = m.matmul(v).pow(2).sum().sqrt().item()
        XCTAssertEqual(top, 1, accuracy: 1e-3)
        sn.eval()
        let u = sn.weight_u.value.scalars
        _ = sn(Tensor.ones([1, 3, 4, 4]))
        XCTAssertEqual(sn.weight_u.value.scalars, u, "evaluation moved u")
    }

    func testGradientThroughTheNormalisedWeight() {
        var rng = PRNG(seed: 12)
        let sn = SpectralNorm(Linear(4, 3, rng: &rng), rng: &rng)
        for _ in 0..<5 { _ = sn.normalisedWeight() }
        sn.eval()  // u, v fixed: the function differentiated is W ↦ x·(W/σ(W))ᵀ
        let x = Tensor.normal([2, 4], rng: &rng), r = Tensor.normal([2, 3], rng: &rng)
        func loss() -> Tensor { (sn(x) * r).sum() }
        loss().backward()
        let analytic = sn.weight_orig.grad!.scalars
        let eps: Float = 1e-3
        for k in 0..<sn.weight_orig.count {
            let v = sn.weight_orig.scalars[k]
            sn.weight_orig.storage.pointer[k] = v + eps
            let up = noGrad { loss().item() }
            sn.weight_orig.storage.pointer[k] = v - eps
            let down = noGrad { loss().item() }
            sn.weight_orig.storage.pointer[k] = v
            XCTAssertEqual(analytic[k], (up - down) / (2 * eps), accuracy: 2e-3, "weight \(k)")
        }
    }
}
