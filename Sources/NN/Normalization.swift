import Engine

/// Batch normalisation over the channel axis (axis 1) of [N, C] / [N, C, L] (BatchNorm1d) or
/// [N, C, H, W] (BatchNorm2d) input. Training normalises with the batch's biased variance and
/// updates the running statistics with momentum 0.1 (the running variance with the unbiased
/// estimate), as PyTorch; evaluation uses the running statistics.
open class BatchNorm: Module {
    public let weight: Tensor?
    public let bias: Tensor?
    public let running_mean: Buffer
    public let running_var: Buffer
    public let num_batches_tracked: Buffer
    public let eps: Float, momentum: Float
    let ranks: Set<Int>
    /// A sum over the processes of a data-parallel run: set, training normalises with the whole
    /// global batch's statistics (synchronised BatchNorm); nil (the default), with this
    /// process's own, as PyTorch DDP does unless asked.
    public typealias Reduction = ([Double]) -> [Double]
    public var reduction: Reduction?

    init(_ features: Int, eps: Float, momentum: Float, affine: Bool, ranks: Set<Int>) {
        self.eps = eps; self.momentum = momentum; self.ranks = ranks
        weight = affine ? Tensor.ones([features], requiresGrad: true) : nil
        bias = affine ? Tensor.zeros([features], requiresGrad: true) : nil
        running_mean = Buffer(Tensor.zeros([features]))
        running_var = Buffer(Tensor.ones([features]))
        num_batches_tracked = Buffer(Tensor(0))
    }

    public var features: Int { running_mean.value.count }

    public override func forward(_ x: Tensor) -> Tensor {
        guard ranks.contains(x.rank), x.shape[1] == features else {
            shapeFailure(
                String(describing: type(of: self)), "input \(x.shape) for \(features) features (rank \(ranks.sorted()))"
            )
        }
        var statShape = [Int](repeating: 1, count: x.rank)
        statShape[1] = features
        if isTraining {
            var n = x.count / features
            let y: Tensor, mean: [Float], variance: [Float]
            if let reduction {
                (y, mean, variance, n) = x.batchNorm(weight: weight, bias: bias, eps: eps, reduce: reduction)
            } else {
                (y, mean, variance) = x.batchNorm(weight: weight, bias: bias, eps: eps)
            }
            noGrad {
                let m = momentum
                running_mean.value = running_mean.value * (1 - m) + Tensor(shape: [features], data: mean) * m
                let unbiased = Tensor(shape: [features], data: variance) * (Float(n) / Float(max(n - 1, 1)))
                running_var.value = running_var.value * (1 - m) + unbiased * m
                num_batches_tracked.value = num_batches_tracked.value + 1
            }
            return y
        }
        let mean = running_mean.value.reshape(statShape)
        let variance = running_var.value.reshape(statShape)
        var y = (x - mean) / (variance + eps).sqrt()
        if let weight, let bias { y = y * weight.reshape(statShape) + bias.reshape(statShape) }
        return y
    }
}

public final class BatchNorm1d: BatchNorm {
    public init(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) {
        super.init(features, eps: eps, momentum: momentum, affine: affine, ranks: [2, 3])
    }
}

public final class BatchNorm2d: BatchNorm {
    public init(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) {
        super.init(features, eps: eps, momentum: momentum, affine: affine, ranks: [4])
    }
}

/// Layer normalisation over the trailing `normalizedShape` axes (biased variance, as PyTorch).
public final class LayerNorm: Module {
    public let weight: Tensor?
    public let bias: Tensor?
    public let normalizedShape: [Int]
    public let eps: Float

    public init(_ normalizedShape: [Int], eps: Float = 1e-5, affine: Bool = true) {
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = affine ? Tensor.ones(normalizedShape, requiresGrad: true) : nil
        bias = affine ? Tensor.zeros(normalizedShape, requiresGrad: true) : nil
    }

    public override func forward(_ x: Tensor) -> Tensor {
        guard x.shape.suffix(normalizedShape.count).elementsEqual(normalizedShape) else {
            shapeFailure("LayerNorm", "input \(x.shape) does not end in \(normalizedShape)")
        }
        let axes = Array((x.rank - normalizedShape.count)..<x.rank)
        let centred = x - x.mean(axes: axes, keepDims: true)
        var y = centred / ((centred * centred).mean(axes: axes, keepDims: true) + eps).sqrt()
        if let weight, let bias { y = y * weight + bias }
        return y
    }
}
