import Engine

/// An optimiser over named parameters. Its state (moments, step counts) is keyed by the
/// parameters' key paths so it can be saved in a checkpoint and restored exactly.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    var parameters: [(String, Tensor)] { get }
    /// Updates every parameter that has a gradient (in place).
    func step()
    /// Per-parameter state as tensors: "<key>.<name>".
    func stateDict() -> [String: Tensor]
    func loadStateDict(_ state: [String: Tensor]) throws
}

extension Optimizer {
    public func zeroGrad() { for (_, p) in parameters { p.zeroGrad() } }
}

public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
}

/// Names for unnamed parameter lists ("0", "1", …).
public func named(_ parameters: [Tensor]) -> [(String, Tensor)] {
    parameters.enumerated().map { ("\($0.offset)", $0.element) }
}

/// Per-parameter state tensors stored under "<key>.<slot>".
struct SlotState {
    var slots: [String: Tensor] = [:]

    mutating func slot(_ key: String, _ name: String, like p: Tensor) -> Tensor {
        let k = key + "." + name
        if let t = slots[k] { return t }
        let t = Tensor.zeros(p.shape)
        slots[k] = t
        return t
    }

    mutating func load(_ state: [String: Tensor], parameters: [(String, Tensor)], names: [String]) throws {
        var loaded: [String: Tensor] = [:]
        for (key, p) in parameters {
            for n in names {
                guard let t = state[key + "." + n] else { continue }
                let expected = n == "step" ? [] : p.shape
                guard t.shape == expected else {
                    throw OptimizerStateError(
                        description: "optimiser state '\(key).\(n)': shape \(t.shape), expected \(expected)")
                }
                loaded[key + "." + n] = t.copy()
            }
        }
        slots = loaded
    }
}

/// Scales gradients so their global L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_).
/// Returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var total: Double = 0
    for p in parameters { if let g = p.grad { for v in g.storage.buffer { total += Double(v) * Double(v) } } }
    let norm = Float(total.squareRoot())
    let coefficient = min(maxNorm / (norm + 1e-6), 1)
    if coefficient < 1 {
        for p in parameters {
            if let g = p.grad { let q = g.storage.pointer; for i in 0..<g.count { q[i] *= coefficient } }
        }
    }
    return norm
}
