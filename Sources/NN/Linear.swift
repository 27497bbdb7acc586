import Engine

/// y = x·Wᵀ + b, with W of shape [out, in] as in PyTorch.
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout PRNG) {
        weight = Tensor.zeros([outFeatures, inFeatures], requiresGrad: true)
        Init.kaimingUniform(weight, fanIn: inFeatures, rng: &rng)
        self.bias = bias ? Init.bias(outFeatures, fanIn: inFeatures, rng: &rng) : nil
    }

    /// A layer with the given weight [out, in] and bias.
    public init(weight: Tensor, bias: Tensor?) { self.weight = weight; self.bias = bias }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public override func forward(_ x: Tensor) -> Tensor { forward(x, weight: weight) }

    public func forward(_ x: Tensor, weight: Tensor) -> Tensor {
        if x.shape.last != inFeatures {
            shapeFailure("Linear", "input \(x.shape) for a layer with \(inFeatures) input features")
        }
        let y = x.matmul(weight, transposeB: true)
        return bias.map { y + $0 } ?? y
    }

    public func replacingWeight(_ weight: Tensor) -> Module { Linear(weight: weight, bias: bias) }
}

extension Linear: WeightedLayer {}
