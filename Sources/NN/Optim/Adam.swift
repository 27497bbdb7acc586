import CKernels
import Engine
import Foundation

/// Adam (Kingma & Ba) with torch.optim.Adam's update rule, and AdamW (decoupled weight decay,
/// torch.optim.AdamW) when `decoupled` is set:
///   AdamW: p ← p·(1 − lr·wd)          Adam: g ← grad + wd·p
///   m ← m + (1 − β₁)(g − m);  v ← β₂·v + (1 − β₂)·g²;  t ← t + 1
///   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
public class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    let decoupled: Bool
    public let parameters: [(String, Tensor)]
    var state = SlotState()

    /// PyTorch's defaults, the one source for every Adam-rule optimiser here (the decoy kernel too).
    public static let defaultBetas: (Float, Float) = (0.9, 0.999)
    public static let defaultEps: Float = 1e-8

    public convenience init(
        _ parameters: [(String, Tensor)], lr: Float = 1e-3, betas: (Float, Float) = Adam.defaultBetas,
        eps: Float = Adam.defaultEps, weightDecay: Float = 0
    ) {
        self.init(parameters, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, decoupled: false)
    }

    init(
        _ parameters: [(String, Tensor)], lr: Float, betas: (Float, Float), eps: Float, weightDecay: Float,
        decoupled: Bool
    ) {
        self.parameters = parameters
        learningRate = lr; (beta1, beta2) = betas; self.eps = eps; self.weightDecay = weightDecay
        self.decoupled = decoupled
    }

    public func step() {
        for (key, p) in parameters {
            guard let grad = p.grad else { continue }
            let m = state.slot(key, "exp_avg", like: p).storage.pointer
            let v = state.slot(key, "exp_avg_sq", like: p).storage.pointer
            let stepTensor = state.slots[key + ".step"] ?? Tensor(0)
            state.slots[key + ".step"] = stepTensor
            stepTensor.storage.pointer[0] += 1
            let constants = genlab_adam_make_step(
                learningRate, weightDecay, decoupled ? 1 : 0, beta1, beta2, eps,
                Int(stepTensor.storage.pointer[0]))
            let n = p.count, pp = p.storage.pointer, g = grad.storage.pointer
            // One fused pass per chunk, in CKernels with the CPU's widest vectors, on every core.
            withUnsafePointer(to: constants) { c in
                parallelFor(n, grain: 1 << 14) { r in
                    genlab_adam_update(
                        pp + r.lowerBound, g + r.lowerBound, m + r.lowerBound, v + r.lowerBound, r.count, c)
                }
            }
        }
    }

    public func stateDict() -> [String: Tensor] { state.slots }
    public func loadStateDict(_ s: [String: Tensor]) throws {
        try state.load(s, parameters: parameters, names: ["exp_avg", "exp_avg_sq", "step"])
    }
}

/// Adam with decoupled weight decay (default 0.01, as torch.optim.AdamW).
public final class AdamW: Adam {
    public init(
        _ parameters: [(String, Tensor)], lr: Float = 1e-3, betas: (Float, Float) = Adam.defaultBetas,
        eps: Float = Adam.defaultEps, weightDecay: Float = 0.01
    ) {
        super.init(parameters, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, decoupled: true)
    }
}
