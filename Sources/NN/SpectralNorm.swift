import Engine

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
    public let _layer: Module
    static let eps: Float = 1e-12

    /// Wraps a Conv2d or a Linear; u and v start as normalised Gaussian draws.
    public init(_ layer: Module, rng: inout PRNG) {
        let weight: Tensor, bias: Tensor?
        switch layer {
        case let c as Conv2d: weight = c.weight; bias = c.bias
        case let l as Linear: weight = l.weight; bias = l.bias
        default: preconditionFailure("GenLab SpectralNorm: wraps a Conv2d or a Linear, not \(type(of: layer))")
        }
        weight_orig = weight
        self.bias = bias
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
    public func folded() -> Module {
        let w = noGrad { normalisedWeight(step: false) }
        switch _layer {
        case let c as Conv2d:
            return Conv2d(weight: w, bias: bias, stride: c.stride, padding: c.padding, dilation: c.dilation)
        default: return Linear(weight: w, bias: bias)
        }
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let w = normalisedWeight()
        switch _layer {
        case let c as Conv2d: return x.conv2d(w, bias: bias, stride: c.stride, padding: c.padding, dilation: c.dilation)
        case let l as Linear:
            if x.shape.last != l.inFeatures {
                shapeFailure("Linear", "input \(x.shape) for a layer with \(l.inFeatures) input features")
            }
            let y = x.matmul(w, transposeB: true)
            return bias.map { y + $0 } ?? y
        default: preconditionFailure("unreachable: init accepts Conv2d and Linear only")
        }
    }
}
