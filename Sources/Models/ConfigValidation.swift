/// A configuration that can say what is wrong with it before a model is built from it.
public protocol CheckedConfig {
    /// Problems in words; empty when a model can be built.
    var problems: [String] { get }
}

/// What a model configuration may hold. A configuration comes from flags or from a checkpoint's
/// metadata (which anyone can edit), so every size is checked here, once, before a model is
/// built: a bad one is a list of problems in words, never a trap or a many-gigabyte allocation.
public enum ModelLimits {
    public static let imageSizes = 8...512
    public static let channels = 1...4
    public static let latentDims = 1...4096
    public static let widths = 1...8192
    /// Classes a conditional model may have (0: unconditional).
    public static let classes = 0...1000
    /// Parameters a model may have (≈ 4 bytes each, four times over with Adam's moments and the gradient).
    public static let maxParameters = 64_000_000
    /// Multiply-adds one decoy fit may take (about a hundred times the shipped detector's): a
    /// checkpoint that asks for more would spend hours on one image.
    public static let maxDecoyFitWork = 1e11

    /// The message for a configuration over the parameter budget.
    public static func overBudget(_ estimate: Double, lower: String) -> String {
        String(
            format: "about %.0f million parameters, over the limit of %d million: lower %@", estimate / 1e6,
            maxParameters / 1_000_000, lower)
    }
}

extension DCGAN.Config: CheckedConfig {
    /// Problems with this configuration, in words (empty when it can be built).
    public var problems: [String] {
        var p: [String] = []
        if !ModelLimits.imageSizes.contains(imageSize) {
            p.append("image size \(imageSize) is outside \(ModelLimits.imageSizes)")
        }
        if !ModelLimits.channels.contains(channels) {
            p.append("channels \(channels) is outside \(ModelLimits.channels)")
        }
        if !ModelLimits.latentDims.contains(latentDim) {
            p.append("latent dimension \(latentDim) is outside \(ModelLimits.latentDims)")
        }
        if !ModelLimits.classes.contains(classCount) {
            p.append("classes \(classCount) is outside \(ModelLimits.classes)")
        }
        for (name, f) in [("generator", generatorFeatures), ("discriminator", discriminatorFeatures)]
        where !(1...1024).contains(f) {
            p.append("\(name) features \(f) is outside 1...1024")
        }
        guard p.isEmpty else { return p }
        // The widest layers hold most weights: 4×4 kernels between widths that double with depth.
        let plan = UpsamplingPlan(size: imageSize)
        let widest = Double(max(generatorFeatures, discriminatorFeatures)) * Double(1 << min(plan.doublings, 20))
        let estimate =
            2 * 16 * widest * widest * 4 / 3 + Double(latentDim + classCount) * widest * Double(plan.start * plan.start)
            + Double(classCount) * widest * 16
        if estimate > Double(ModelLimits.maxParameters) {
            p.append(
                String(
                    format:
                        "about %.0f million parameters, over the limit of %d million: lower the features or the "
                        + "image size",
                    estimate / 1e6, ModelLimits.maxParameters / 1_000_000))
        }
        return p
    }
}

extension VAE.Config: CheckedConfig {
    /// Problems with this configuration, in words (empty when it can be built).
    public var problems: [String] {
        var p: [String] = []
        if !(4...512).contains(imageSize) { p.append("image size \(imageSize) is outside 4...512") }
        if !ModelLimits.channels.contains(channels) {
            p.append("channels \(channels) is outside \(ModelLimits.channels)")
        }
        if !ModelLimits.latentDims.contains(latentDim) {
            p.append("latent dimension \(latentDim) is outside \(ModelLimits.latentDims)")
        }
        if hidden.isEmpty || hidden.count > 8 || hidden.contains(where: { !ModelLimits.widths.contains($0) }) {
            p.append("hidden widths \(hidden) must be 1 to 8 widths in \(ModelLimits.widths)")
        }
        if architecture == .conv && hidden.count > 2 {
            p.append("a conv VAE takes one or two hidden widths, not \(hidden.count)")
        }
        if !ModelLimits.classes.contains(classCount) {
            p.append("classes \(classCount) is outside \(ModelLimits.classes)")
        }
        if !(sigma.isFinite && sigma > 0) { p.append("σ \(sigma) must be positive and finite") }
        if !(beta.isFinite && beta >= 0) { p.append("β \(beta) must be non-negative and finite") }
        guard p.isEmpty else { return p }
        let pixels = Double(channels * imageSize * imageSize)
        var estimate: Double
        if architecture == .mlp {
            let widths = [pixels] + hidden.map(Double.init)
            estimate =
                2 * zip(widths, widths.dropFirst()).map { $0 * $1 }.reduce(0, +) + 2
                * (widths.last! * Double(latentDim))
        } else {
            let c1 = Double(hidden[0]), c2 = Double(hidden.count > 1 ? hidden[1] : hidden[0] * 2)
            let s = Double((imageSize + 3) / 4)
            estimate = 2 * 16 * (Double(channels) * c1 + c1 * c2) + 3 * c2 * s * s * Double(latentDim)
        }
        if estimate > Double(ModelLimits.maxParameters) {
            p.append(
                String(
                    format: "about %.0f million parameters, over the limit of %d million: lower the widths, latent "
                        + "dimension or image size", estimate / 1e6, ModelLimits.maxParameters / 1_000_000))
        }
        return p
    }
}

extension JetTagger.Config: CheckedConfig {
    /// Problems with this configuration, in words (empty when it can be built).
    public var problems: [String] {
        var p: [String] = []
        if !(8...512).contains(imageSize) { p.append("image size \(imageSize) is outside 8...512") }
        if !ModelLimits.channels.contains(channels) {
            p.append("channels \(channels) is outside \(ModelLimits.channels)")
        }
        if !(1...1024).contains(features) { p.append("features \(features) is outside 1...1024") }
        if !ModelLimits.widths.contains(hidden) { p.append("hidden width \(hidden) is outside \(ModelLimits.widths)") }
        guard p.isEmpty else { return p }
        // Two 3×3 convolutions, then a dense layer from the quarter-size feature map to `hidden`.
        let f = Double(features), s = Double(imageSize / 4)
        let estimate = 9 * (Double(channels) * f + 2 * f * f) + 2 * f * s * s * Double(hidden) + Double(hidden)
        if estimate > Double(ModelLimits.maxParameters) {
            p.append(ModelLimits.overBudget(estimate, lower: "the features, hidden width or image size"))
        }
        return p
    }
}

extension SymmetryCNN.Config: CheckedConfig {
    /// Problems with this configuration, in words (empty when it can be built).
    public var problems: [String] {
        var p: [String] = []
        if !(8...256).contains(imageSize) { p.append("image size \(imageSize) is outside 8...256") }
        if !(1...64).contains(channels) { p.append("channels \(channels) is outside 1...64") }
        if !(2...64).contains(classes) { p.append("classes \(classes) is outside 2...64") }
        if !(1...512).contains(features) { p.append("features \(features) is outside 1...512") }
        if !(1...imageSize).contains(headGrid) { p.append("head grid \(headGrid) is outside 1...\(imageSize)") }
        guard p.isEmpty else { return p }
        let f = Double(features), g = Double(headGrid * headGrid)
        let estimate = 9 * (Double(channels) * f + 2 * f * f + 8 * f * f) + 16 * f * f * g + 4 * f * Double(classes + 1)
        if estimate > Double(ModelLimits.maxParameters) {
            p.append(ModelLimits.overBudget(estimate, lower: "the features or head grid"))
        }
        return p
    }
}

extension DecoyNet.Config: CheckedConfig {
    /// Problems with this configuration, in words (empty when it can be built).
    public var problems: [String] {
        var p: [String] = []
        if hidden.isEmpty || hidden.count > 8 || hidden.contains(where: { !(1...1024).contains($0) }) {
            p.append("hidden widths \(hidden) must be 1 to 8 widths in 1...1024")
        }
        if !(1...100_000).contains(steps) { p.append("steps \(steps) is outside 1...100000") }
        for (name, v) in [("learning rate", learningRate), ("coordinate scale", coordinateScale)]
        where !(v.isFinite && v > 0) {
            p.append("\(name) \(v) must be positive and finite")
        }
        if !(weightDecay.isFinite && weightDecay >= 0) {
            p.append("weight decay \(weightDecay) must be non-negative and finite")
        }
        return p
    }

    /// Multiply-adds of one decoy's whole fit to an image of `pixels` pixels (forward and backward
    /// over every pixel, every step).
    public func fitWork(pixels: Int) -> Double {
        let widths = [2] + hidden + [1]
        let perPixel = zip(widths, widths.dropFirst()).map { Double($0 * $1) }.reduce(0, +)
        return 3 * perPixel * Double(pixels) * Double(steps)
    }
}

/// A rough upper estimate of the memory one training step's activations take (forward values,
/// the tensors kept for backward, their gradients: about six copies of every layer's output), so a
/// careless `--batch-size` is refused before it asks for gigabytes.
public protocol ActivationEstimate {
    /// Floats of all layer outputs for one example.
    var activationFloatsPerExample: Int { get }
}

extension ActivationEstimate {
    public func activationBytes(batch: Int) -> Double { Double(batch) * Double(activationFloatsPerExample) * 4 * 6 }
}

extension DCGAN.Config: ActivationEstimate {
    public var activationFloatsPerExample: Int {
        let plan = UpsamplingPlan(size: imageSize)
        let width = generatorFeatures << (plan.doublings - 1)
        var floats = width * plan.start * plan.start, ch = width, side = plan.start
        for _ in 0..<(plan.doublings - 1) { ch /= 2; side *= 2; floats += ch * side * side }
        floats += channels * (side * 2) * (side * 2)
        var f = discriminatorFeatures, s = imageSize
        for _ in 0..<plan.doublings { s = (s + 2 - 4) / 2 + 1; floats += f * s * s; f *= 2 }
        return floats
    }
}

extension VAE.Config: ActivationEstimate {
    public var activationFloatsPerExample: Int {
        let pixels = channels * imageSize * imageSize
        if architecture == .mlp { return 2 * pixels + 2 * hidden.reduce(0, +) + 2 * latentDim }
        let c1 = hidden.first ?? 32, c2 = hidden.count > 1 ? hidden[1] : c1 * 2
        let half = (imageSize + 1) / 2, quarter = (imageSize + 3) / 4
        return 2 * (pixels + c1 * half * half + c2 * quarter * quarter) + 4 * latentDim
    }
}
