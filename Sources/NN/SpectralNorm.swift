import Engine

/// A layer computed from one weight tensor that another weight can stand in for (spectral
/// normalisation computes the layer with W/σ; exports fold it).
public protocol WeightedLayer: Module {
    var weight: Tensor { get }
    var bias: Tensor? { get }
    /// The layer's function with `weight` in place of its own.
    func forward(_ x: Tensor, weight: Tensor) -> Tensor
    /// The same layer with another weight (and the same bias).
    func replacingWeight(_ weight: Tensor) -> Module
}

/// Spectral normalisation (Miyato et al. 2018) of a Conv2d's or Linear's weight, as
/// `torch.nn.utils.spectral_norm` does it: the layer computes with W / σ(W), where σ is the largest
/// singular value of W seen as [out, in·kh·kw], estimated by one power iteration per training
/// forward pass (u ← Wv/‖Wv‖ after v ← Wᵀu/‖Wᵀu‖; σ = uᵀWv, differentiated through W with u and v
/// held fixed, as PyTorch does). In evaluation mode u and v stay as they are.
///
/// The key paths are PyTorch's for the wrapped layer: `weight_orig` (the trained weight), `bias`,
/// and the buffers `weight_u`, `weight_v` — so a checkpoint resumes the power iteration exactly and
/// loads strictly into `nn.utils.spectral_norm(nn.Conv2d(…))`.
public final class SpectralNorm: Module {
    // Named as PyTorch's state-dict keys.
    public let weight_orig: Tensor
    public let bias: Tensor?
    public let weight_u: Buffer
    public let weight_v: Buffer
    /// The layer whose weight is normalised (its own parameters are these; underscore: not a submodule).
    public let _layer: any WeightedLayer
    static let eps: Float = 1e-12

    /// Wraps a Conv2d or a Linear; u and v start as normalised Gaussian draws.
    public init(_ layer: any WeightedLayer, rng: inout PRNG) {
        let weight = layer.weight
        weight_orig = weight
        bias = layer.bias
        _layer = layer
        let rows = weight.shape[0], columns = weight.count / rows
        weight_u = Buffer(Self.normalised(Tensor.normal([rows], rng: &rng)))
        weight_v = Buffer(Self.normalised(Tensor.normal([columns], rng: &rng)))
    }

    static func normalised(_ x: Tensor) -> Tensor { x / max(x.pow(2).sum().sqrt().item(), eps) }

    /// W / σ(W), after a power-iteration step when training (and `step`).
    public func normalisedWeight(step: Bool = true) -> Tensor {
        let w = weight_orig.reshape([weight_orig.shape[0], -1])
        if isTraining && step {
            noGrad {
                let v = Self.normalised(w.matmul(weight_u.value.reshape([-1, 1]), transposeA: true).reshape([-1]))
                weight_u.value = Self.normalised(w.matmul(v.reshape([-1, 1])).reshape([-1]))
                weight_v.value = v
            }
        }
        let sigma = (weight_u.value.reshape([1, -1]).matmul(w).matmul(weight_v.value.reshape([-1, 1]))).reshape([])
        return weight_orig / sigma
    }

    /// The wrapped layer with W / σ(W) from the saved u and v as its weight (what evaluation
    /// computes): for exports.
    public func folded() -> Module { _layer.replacingWeight(noGrad { normalisedWeight(step: false) }) }

    public override func forward(_ x: Tensor) -> Tensor { _layer.forward(x, weight: normalisedWeight()) }
}
