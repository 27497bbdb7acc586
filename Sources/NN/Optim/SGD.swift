import Engine

/// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay,
/// with torch.optim.SGD's update rule:
///   g ← grad + wd·p;  b ← g (first step) or μ·b + (1 − τ)·g;  g ← g + μ·b (Nesterov) or b;  p ← p − lr·g
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool
    public let parameters: [(String, Tensor)]
    var state = SlotState()

    public init(
        _ parameters: [(String, Tensor)], lr: Float, momentum: Float = 0, dampening: Float = 0,
        weightDecay: Float = 0, nesterov: Bool = false
    ) {
        precondition(
            !nesterov || (momentum > 0 && dampening == 0), "GenLab SGD: Nesterov needs momentum > 0 and no dampening")
        self.parameters = parameters
        learningRate = lr; self.momentum = momentum; self.dampening = dampening; self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public func step() {
        for (key, p) in parameters {
            guard let grad = p.grad else { continue }
            let n = p.count, pp = p.storage.pointer, g = grad.storage.pointer
            let lr = learningRate, wd = weightDecay, mu = momentum, damp = dampening
            let fresh = state.slots[key + ".momentum_buffer"] == nil
            let buf: UnsafeMutablePointer<Float>? =
                mu != 0 ? state.slot(key, "momentum_buffer", like: p).storage.pointer : nil
            for i in 0..<n {
                var d = g[i]
                if wd != 0 { d += wd * pp[i] }
                if let buf {
                    buf[i] = fresh ? d : mu * buf[i] + (1 - damp) * d
                    d = nesterov ? d + mu * buf[i] : buf[i]
                }
                pp[i] -= lr * d
            }
        }
    }

    public func stateDict() -> [String: Tensor] { state.slots }
    public func loadStateDict(_ s: [String: Tensor]) throws {
        try state.load(s, parameters: parameters, names: ["momentum_buffer"])
    }
}
