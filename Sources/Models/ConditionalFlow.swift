import Engine
import Foundation
import NN

/// A conditional masked autoregressive flow (Papamakarios et al. 2017): a stack of MADE blocks,
/// each an elementwise invertible map of the features whose parameters depend on the earlier
/// features and on a context vector (m_jj in the resonant hunt), with the feature order reversed
/// between blocks and a standard normal base. Each block's map is affine (MAF) or a rational-
/// quadratic spline (Durkan et al. 2019). Before the blocks an invertible input scaling — a logit
/// of the features scaled into (0, 1) then standardisation, or standardisation alone — fitted on
/// the training data; its Jacobian is part of `logProbability`, so densities are in the units of
/// the features as given.
public final class ConditionalFlow: Module {
    public enum Transform: String, NamedChoice { case affine, spline }
    public enum Scaling: String, NamedChoice { case logit, standard }

    public struct Config: Codable, Equatable, Sendable {
        public var features: Int
        public var contextFeatures: Int
        public var blocks: Int = 6
        public var hiddenFeatures: Int = 64
        public var hiddenLayers: Int = 2
        public var transform: Transform = .affine
        public var bins: Int = 8
        public var tailBound: Float = 4
        public var scaling: Scaling = .logit
        /// The logit's range is the training data's widened by this fraction of it on each side
        /// (nil: `defaultLogitMargin`, what checkpoints without the key were fitted with). A small margin sends a
        /// hard edge of the data (a density that stops at a bound, like |m_J2 − m_J1| at 0) far into
        /// the logit's tail, where the flow need not model a step.
        public var logitMargin: Float?
        /// The margin of checkpoints written before it was configurable, and of `genlab train flow`.
        public static let defaultLogitMargin: Float = 0.05
        public var featureNames: [String] = []
        public var contextNames: [String] = []

        public init(features: Int, contextFeatures: Int) {
            self.features = features; self.contextFeatures = contextFeatures
        }
    }

    public let config: Config
    public let blocks: [MADE]
    /// The input scaling: the range the logit maps from, then mean and spread of what it gives.
    public let featureLow: Buffer
    public let featureHigh: Buffer
    public let featureMean: Buffer
    public let featureStd: Buffer
    public let contextMean: Buffer
    public let contextStd: Buffer
    let _spline: RationalQuadraticSpline

    public init(_ c: Config, rng: inout PRNG) {
        config = c
        _spline = RationalQuadraticSpline(bins: c.bins, tailBound: c.tailBound)
        let perFeature = c.transform == .affine ? 2 : _spline.parameterCount
        blocks = (0..<c.blocks).map { _ in
            MADE(
                features: c.features, contextFeatures: c.contextFeatures, hiddenFeatures: c.hiddenFeatures,
                hiddenLayers: c.hiddenLayers, parametersPerFeature: perFeature, rng: &rng)
        }
        featureLow = Buffer(Tensor.zeros([c.features]))
        featureHigh = Buffer(Tensor.ones([c.features]))
        featureMean = Buffer(Tensor.zeros([c.features]))
        featureStd = Buffer(Tensor.ones([c.features]))
        contextMean = Buffer(Tensor.zeros([Swift.max(c.contextFeatures, 1)]))
        contextStd = Buffer(Tensor.ones([Swift.max(c.contextFeatures, 1)]))
    }

    // MARK: input scaling

    /// Fits the input scaling to training features [N, D] and contexts [N, C]: the logit's range
    /// is the data's range widened by `config.logitMargin` of it on each side (held-out data a
    /// little outside it is clamped, so it stays finite).
    public func fitScaling(features x: Tensor, context: Tensor?) {
        let n = x.shape[0], d = config.features
        let v = x.scalars
        var low = [Float](repeating: 0, count: d), high = [Float](repeating: 1, count: d)
        if config.scaling == .logit {
            for j in 0..<d {
                var lo = Float.infinity, hi = -Float.infinity
                for i in 0..<n { lo = Swift.min(lo, v[i * d + j]); hi = Swift.max(hi, v[i * d + j]) }
                let margin = Swift.max((hi - lo) * (config.logitMargin ?? Config.defaultLogitMargin), 1e-6)
                low[j] = lo - margin; high[j] = hi + margin
            }
        }
        featureLow.value = Tensor(shape: [d], data: low)
        featureHigh.value = Tensor(shape: [d], data: high)
        featureMean.value = Tensor.zeros([d]); featureStd.value = Tensor.ones([d])
        let (u, _) = noGrad { scaleFeatures(x) }
        let (mean, std) = Self.moments(u.scalars, columns: d)
        featureMean.value = Tensor(shape: [d], data: mean)
        featureStd.value = Tensor(shape: [d], data: std)
        if let context, config.contextFeatures > 0 {
            let (cm, cs) = Self.moments(context.scalars, columns: config.contextFeatures)
            contextMean.value = Tensor(shape: [config.contextFeatures], data: cm)
            contextStd.value = Tensor(shape: [config.contextFeatures], data: cs)
        }
    }

    static func moments(_ v: [Float], columns d: Int) -> ([Float], [Float]) {
        let n = v.count / d
        var mean = [Double](repeating: 0, count: d), sq = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(v[i * d + j]) } }
        for j in 0..<d { mean[j] /= Double(Swift.max(n, 1)) }
        for i in 0..<n { for j in 0..<d { let e = Double(v[i * d + j]) - mean[j]; sq[j] += e * e } }
        return (mean.map { Float($0) }, sq.map { Float(Swift.max(($0 / Double(Swift.max(n, 1))).squareRoot(), 1e-6)) })
    }

    /// Features → the blocks' space, with the log-Jacobian per row [N].
    func scaleFeatures(_ x: Tensor) -> (Tensor, Tensor) {
        let n = x.shape[0]
        var u = x, logDet = Tensor.zeros([n, config.features])
        if config.scaling == .logit {
            let range = featureHigh.value - featureLow.value
            let unit = ((x - featureLow.value) / range).clamp(min: 1e-6, max: 1 - 1e-6)
            u = unit.log() - (1 - unit).log()
            logDet = 0 - range.log() - unit.log() - (1 - unit).log()
        }
        let s = (u - featureMean.value) / featureStd.value
        logDet = logDet - featureStd.value.log()
        return (s, logDet.sum(axes: [1]))
    }

    /// The blocks' space → features (the inverse of `scaleFeatures`).
    func unscaleFeatures(_ s: Tensor) -> Tensor {
        let u = s * featureStd.value + featureMean.value
        guard config.scaling == .logit else { return u }
        return u.sigmoid() * (featureHigh.value - featureLow.value) + featureLow.value
    }

    func scaleContext(_ c: Tensor?) -> Tensor? {
        guard let c, config.contextFeatures > 0 else { return nil }
        return (c - contextMean.value) / contextStd.value
    }

    // MARK: density and sampling

    /// One block's map z = f(x | params) with log |det| per row.
    func transform(_ x: Tensor, _ parameters: Tensor) -> (Tensor, Tensor) {
        let n = x.shape[0], d = config.features
        switch config.transform {
        case .affine:
            let p = parameters.split([1, 1], axis: 2)
            let shift = p[0].reshape([n, d])
            let scale = (p[1].reshape([n, d]) + 2).sigmoid() + 1e-3
            return (x * scale + shift, scale.log().sum(axes: [1]))
        case .spline:
            let (y, logDet) = _spline.forward(x.reshape([n * d]), parameters.reshape([n * d, _spline.parameterCount]))
            return (y.reshape([n, d]), logDet.reshape([n, d]).sum(axes: [1]))
        }
    }

    /// The base-space point z [N, D] of features [N, D] given contexts [N, C], and log p(x | c) [N].
    public func encode(_ x: Tensor, context: Tensor?) -> (z: Tensor, logProbability: Tensor) {
        precondition(
            x.rank == 2 && x.shape[1] == config.features, "flow input \(x.shape), expected [N, \(config.features)]")
        let c = scaleContext(context)
        var (z, logDet) = scaleFeatures(x)
        let reversed = Array((0..<config.features).reversed())
        for block in blocks {
            let (next, ld) = transform(z, block(z, context: c))
            logDet = logDet + ld
            z = next.indexSelect(axis: 1, indices: reversed)
        }
        let base = (z * z).sum(axes: [1]) * -0.5 - Float(config.features) * 0.5 * Float(Foundation.log(2 * Double.pi))
        return (z, base + logDet)
    }

    /// log p(x | c) per row [N].
    public func logProbability(_ x: Tensor, context: Tensor?) -> Tensor { encode(x, context: context).logProbability }

    /// Features for base-space points z [N, D] (the exact inverse of `encode`).
    public func decode(_ z: Tensor, context: Tensor?) -> Tensor {
        noGrad {
            let n = z.shape[0], d = config.features
            let c = scaleContext(context)
            let reversed = Array((0..<d).reversed())
            var y = z
            for block in blocks.reversed() {
                let target = y.indexSelect(axis: 1, indices: reversed).scalars
                // Autoregressive inverse: feature j is exact once features before it are.
                var x = [Float](repeating: 0, count: n * d)
                for j in 0..<d {
                    let params = block(Tensor(shape: [n, d], data: x), context: c)
                    let inverse = invert(target, params)
                    for i in 0..<n { x[i * d + j] = inverse[i * d + j] }
                }
                y = Tensor(shape: [n, d], data: x)
            }
            return unscaleFeatures(y)
        }
    }

    /// Elementwise inverse of one block's map given its parameters [N, D, P].
    func invert(_ z: [Float], _ parameters: Tensor) -> [Float] {
        let n = parameters.shape[0], d = config.features
        switch config.transform {
        case .affine:
            let p = parameters.split([1, 1], axis: 2)
            let shift = p[0].scalars, scale = ((p[1] + 2).sigmoid() + 1e-3).scalars
            return (0..<n * d).map { (z[$0] - shift[$0]) / scale[$0] }
        case .spline:
            return _spline.inverse(z, parameters.reshape([n * d, _spline.parameterCount]))
        }
    }

    /// n samples given contexts [n, C] (raw units), from `rng`.
    public func sample(context: Tensor?, count n: Int, rng: inout PRNG) -> Tensor {
        decode(Tensor.normal([n, config.features], rng: &rng), context: context)
    }
}
