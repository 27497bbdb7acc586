import Engine
import NN

/// A linear layer whose weight is multiplied by a fixed 0/1 mask (MADE's autoregressive wiring).
/// The mask is not a parameter (the underscore keeps it out of the state dict): it follows from
/// the layer's degrees, which the network rebuilds from its configuration.
public final class MaskedLinear: Module {
    public let weight: Tensor
    public let bias: Tensor
    let _mask: Tensor

    /// `mask[o][i]` = 1 where output unit o may see input unit i.
    public init(mask: [[Float]], rng: inout PRNG) {
        let outFeatures = mask.count, inFeatures = mask.first?.count ?? 0
        precondition(outFeatures > 0 && inFeatures > 0, "MaskedLinear: an empty mask")
        weight = Tensor.zeros([outFeatures, inFeatures], requiresGrad: true)
        Init.kaimingUniform(weight, fanIn: inFeatures, rng: &rng)
        bias = Init.bias(outFeatures, fanIn: inFeatures, rng: &rng)
        _mask = Tensor(shape: [outFeatures, inFeatures], data: mask.flatMap { $0 })
    }

    public override func forward(_ x: Tensor) -> Tensor {
        x.matmul(weight * _mask, transposeB: true) + bias
    }
}

/// A masked autoencoder for distribution estimation (Germain et al. 2015) with a context input:
/// output group d (its `parametersPerFeature` numbers) depends only on features 0..<d and on the
/// context, never on feature d or later. Degrees: inputs 1…D; hidden unit k has degree k mod D;
/// a hidden unit sees inputs of degree ≤ its own, an output of feature d (degree d + 1) sees hidden
/// units of degree < d + 1. The context enters the first hidden layer through an unmasked linear
/// map, so the degree-0 units see the context alone and carry it to the first feature too (with
/// degrees from 1, as in nflows, the first feature of every block would ignore the context).
public final class MADE: Module {
    public let input: MaskedLinear
    public let context: Linear?
    public let hidden: [MaskedLinear]
    public let output: MaskedLinear
    public let features: Int
    public let parametersPerFeature: Int

    public init(
        features: Int, contextFeatures: Int, hiddenFeatures: Int, hiddenLayers: Int, parametersPerFeature: Int,
        rng: inout PRNG
    ) {
        precondition(features >= 1 && hiddenFeatures >= 1 && hiddenLayers >= 1 && parametersPerFeature >= 1)
        self.features = features
        self.parametersPerFeature = parametersPerFeature
        let inputDegrees = (1...features).map { $0 }
        let hiddenDegrees = (0..<hiddenFeatures).map { $0 % features }
        func mask(_ outDegrees: [Int], _ inDegrees: [Int], strict: Bool) -> [[Float]] {
            outDegrees.map { o in inDegrees.map { i in (strict ? o > i : o >= i) ? 1 : 0 } }
        }
        input = MaskedLinear(mask: mask(hiddenDegrees, inputDegrees, strict: false), rng: &rng)
        context = contextFeatures > 0 ? Linear(contextFeatures, hiddenFeatures, rng: &rng) : nil
        hidden = (1..<hiddenLayers).map { _ in
            MaskedLinear(mask: mask(hiddenDegrees, hiddenDegrees, strict: false), rng: &rng)
        }
        // Output unit o belongs to feature o / parametersPerFeature.
        let outputDegrees = (0..<features * parametersPerFeature).map { $0 / parametersPerFeature + 1 }
        output = MaskedLinear(mask: mask(outputDegrees, hiddenDegrees, strict: true), rng: &rng)
    }

    /// [N, D] features and [N, C] context → [N, D, parametersPerFeature].
    public func callAsFunction(_ x: Tensor, context c: Tensor?) -> Tensor {
        var h = input(x)
        if let context, let c { h = h + context(c) }
        h = h.relu()
        for layer in hidden { h = layer(h).relu() }
        return output(h).reshape([x.shape[0], features, parametersPerFeature])
    }
}
