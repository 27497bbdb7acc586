import Engine

/// How a loss combines its per-element terms.
public enum Reduction: String, Codable, Sendable {
    case mean, sum, none

    func apply(_ t: Tensor) -> Tensor {
        switch self {
        case .mean: return t.mean()
        case .sum: return t.sum()
        case .none: return t
        }
    }
}

/// Loss functions, with PyTorch's definitions and reductions.
public enum Loss {
    static func check(_ name: String, _ a: Tensor, _ b: Tensor) {
        if a.shape != b.shape { shapeFailure(name, "prediction \(a.shape) and target \(b.shape) differ") }
    }

    public static func mse(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        check("mse", prediction, target)
        let d = prediction - target
        return reduction.apply(d * d)
    }

    public static func l1(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        check("l1", prediction, target)
        return reduction.apply((prediction - target).abs())
    }

    /// Binary cross-entropy on logits, stable for any logit: max(x, 0) − x·y + log(1 + e^−|x|),
    /// as one fused op (`Tensor.binaryCrossEntropyWithLogits`).
    public static func bceWithLogits(_ logits: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        check("bceWithLogits", logits, target)
        return reduction.apply(logits.binaryCrossEntropyWithLogits(target))
    }

    /// `bceWithLogits` composed of elementwise ops — the reference the fused op is tested against.
    public static func bceWithLogitsReference(
        _ logits: Tensor, _ target: Tensor, reduction: Reduction = .mean
    ) -> Tensor {
        check("bceWithLogits", logits, target)
        return reduction.apply(logits.softplus() - logits * target)
    }

    /// Binary cross-entropy on probabilities; log terms are clamped at −100 as PyTorch does.
    public static func bce(_ probability: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        check("bce", probability, target)
        let logP = probability.log().clamp(min: -100), log1mP = (1 - probability).log().clamp(min: -100)
        return reduction.apply(-(target * logP + (1 - target) * log1mP))
    }

    /// KL(N(μ, σ²) ‖ N(0, 1)) = −½ Σ (1 + log σ² − μ² − σ²), summed over the latent axis (last),
    /// then reduced over the batch.
    public static func gaussianKL(mu: Tensor, logVar: Tensor, reduction: Reduction = .mean) -> Tensor {
        check("gaussianKL", mu, logVar)
        let perDim = (1 + logVar - mu * mu - logVar.exp()) * -0.5
        return reduction.apply(perDim.sum(axes: [-1]))
    }

    /// Cross-entropy of logits [N, C] against class indices (N of them).
    public static func crossEntropy(_ logits: Tensor, targets: [Int], reduction: Reduction = .mean) -> Tensor {
        guard logits.rank == 2, logits.shape[0] == targets.count else {
            shapeFailure("crossEntropy", "logits \(logits.shape) for \(targets.count) targets (expected [N, C])")
        }
        let logProbabilities = logits.logSoftmax(axis: 1)
        let picked = logProbabilities.gather(axis: 1, index: targets, indexShape: [targets.count, 1])
        return reduction.apply(-picked.reshape([targets.count]))
    }
}

extension Tensor {
    /// log Σ exp over an axis, shifted by the maximum so it never overflows.
    public func logSumExp(axis: Int, keepDims: Bool = false) -> Tensor {
        let m = max(axis: axis, keepDims: true).detach()
        let r = (self - m).exp().sum(axes: [axis], keepDims: true).log() + m
        return keepDims ? r : r.squeeze(axis)
    }

    public func logSoftmax(axis: Int) -> Tensor { self - logSumExp(axis: axis, keepDims: true) }

    public func softmax(axis: Int) -> Tensor { logSoftmax(axis: axis).exp() }
}
