import Engine

/// `count` independent linear layers applied side by side: y[b] = x[b]·W[b] + b[b], with W of shape
/// [count, in, out]. An ensemble of small networks trained at once (the symmetry detector fits
/// hundreds of decoy networks) becomes one batched graph instead of hundreds of tiny ones; the
/// members share nothing, so their gradients — and Adam's per-element updates — stay independent.
public final class EnsembleLinear: Module {
    public let weight: Tensor
    public let bias: Tensor

    /// Member b initialised as `Linear` would be (PyTorch's defaults, U(±1/√in)) from its own
    /// stream `rngs[b]` (weights, then bias), so a member's start does not depend on which other
    /// members share the ensemble.
    public init(_ inFeatures: Int, _ outFeatures: Int, rngs: inout [PRNG]) {
        let count = rngs.count
        weight = Tensor.zeros([count, inFeatures, outFeatures], requiresGrad: true)
        bias = Tensor.zeros([count, 1, outFeatures], requiresGrad: true)
        let wBound = (1 / Float(max(inFeatures, 1))).squareRoot(), bBound = Init.biasBound(fanIn: inFeatures)
        let per = inFeatures * outFeatures
        for b in 0..<count {
            // kaiming_uniform(a = √5) is U(±1/√fanIn).
            rngs[b].fillUniform(
                UnsafeMutableBufferPointer(start: weight.storage.pointer + b * per, count: per), low: -wBound,
                high: wBound)
            rngs[b].fillUniform(
                UnsafeMutableBufferPointer(start: bias.storage.pointer + b * outFeatures, count: outFeatures),
                low: -bBound, high: bBound)
        }
    }

    public var count: Int { weight.shape[0] }
    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[2] }

    /// x: [count, N, in] (or [N, in], shared by all members) → [count, N, out].
    public override func forward(_ x: Tensor) -> Tensor {
        if x.shape.last != inFeatures || (x.rank == 3 && x.shape[0] != count) || !(2...3).contains(x.rank) {
            shapeFailure("EnsembleLinear", "input \(x.shape) for \(count) members with \(inFeatures) input features")
        }
        let input = x.rank == 2 ? x.reshape([1] + x.shape).expand([count] + x.shape) : x
        return input.matmul(weight) + bias
    }
}
