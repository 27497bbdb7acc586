import Engine
import Foundation

/// The monotonic rational-quadratic spline of Durkan et al. 2019 ("Neural Spline Flows") on
/// [−B, B] with linear (identity) tails outside, each element with its own K bins.
///
/// Unconstrained parameters per element: K widths, K heights (softmax, with a minimum bin size)
/// and K − 1 interior knot derivatives (softplus plus a minimum); the two boundary derivatives are
/// 1 so the spline joins the identity tails smoothly. The forward map is written with the
/// engine's differentiable ops (so its gradients are the engine's); the inverse, needed only to
/// sample, is a plain loop solving the bin's quadratic.
public struct RationalQuadraticSpline: Sendable {
    public var bins: Int
    public var tailBound: Float
    public var minBinWidth: Float = 1e-3
    public var minBinHeight: Float = 1e-3
    public var minDerivative: Float = 1e-3

    public init(bins: Int, tailBound: Float) {
        self.bins = bins; self.tailBound = tailBound
    }

    /// Unconstrained numbers per element: widths, heights, interior derivatives.
    public var parameterCount: Int { 3 * bins - 1 }

    /// The unconstrained interior-derivative value whose constrained derivative is exactly 1.
    var unitDerivative: Float { Foundation.log(Foundation.exp(1 - minDerivative) - 1) }

    /// The bin edges ([M, K + 1]) from unconstrained sizes [M, K].
    func knots(_ unnormalised: Tensor, minimum: Float) -> Tensor {
        let k = bins
        let sizes = unnormalised.softmax(axis: 1) * (1 - minimum * Float(k)) + minimum
        // Cumulative sums with a leading 0, as one product with an upper-triangular matrix.
        var upper = [Float](repeating: 0, count: k * (k + 1))
        for j in 0..<k { for i in (j + 1)...k { upper[j * (k + 1) + i] = 1 } }
        let cumulative = sizes.matmul(Tensor(shape: [k, k + 1], data: upper))
        return cumulative * (2 * tailBound) - tailBound
    }

    /// y = f(x) and log |df/dx| elementwise for x [M] and parameters [M, 3K − 1].
    public func forward(_ x: Tensor, _ parameters: Tensor) -> (y: Tensor, logDet: Tensor) {
        let m = x.count, k = bins, b = tailBound
        precondition(parameters.shape == [m, parameterCount], "spline parameters \(parameters.shape) for \(m) inputs")
        let parts = parameters.split([k, k, k - 1], axis: 1)
        let xKnots = knots(parts[0], minimum: minBinWidth)
        let yKnots = knots(parts[1], minimum: minBinHeight)
        let derivatives = parts[2].pad([(1, 1)], value: unitDerivative).softplus() + minDerivative
        let widths = xKnots.slice(axis: 1, start: 1) - xKnots.slice(axis: 1, start: 0, end: k)
        let heights = yKnots.slice(axis: 1, start: 1) - yKnots.slice(axis: 1, start: 0, end: k)

        // Which bin each x falls in (clamped into the interval; tails are blended in below).
        let xs = x.scalars, edges = xKnots.scalars
        var bin = [Int](repeating: 0, count: m), inside = [Float](repeating: 0, count: m)
        for i in 0..<m {
            let v = Swift.min(Swift.max(xs[i], -b), b)
            inside[i] = xs[i] >= -b && xs[i] <= b ? 1 : 0
            var j = 0
            while j < k - 1 && edges[i * (k + 1) + j + 1] <= v { j += 1 }
            bin[i] = j
        }
        func pick(_ t: Tensor, offset: Int = 0) -> Tensor {
            t.gather(axis: 1, index: bin.map { $0 + offset }, indexShape: [m, 1]).reshape([m])
        }
        let x0 = pick(xKnots), w = pick(widths), y0 = pick(yKnots), h = pick(heights)
        let d0 = pick(derivatives), d1 = pick(derivatives, offset: 1)
        let delta = h / w
        let xc = x.reshape([m]).clamp(min: -b, max: b)
        let theta = (xc - x0) / w
        let mixed = theta * (1 - theta)
        let numerator = h * (delta * theta * theta + d0 * mixed)
        let denominator = delta + (d0 + d1 - delta * 2) * mixed
        let ySpline = y0 + numerator / denominator
        let slope = delta * delta * (d1 * theta * theta + delta * mixed * 2 + d0 * (1 - theta) * (1 - theta))
        let logDet = slope.log() - denominator.log() * 2
        let mask = Tensor(shape: [m], data: inside)
        let y = ySpline * mask + x.reshape([m]) * (1 - mask)
        return (y, logDet * mask)
    }

    /// x = f⁻¹(y) elementwise (no gradient), for sampling.
    public func inverse(_ y: [Float], _ parameters: Tensor) -> [Float] {
        let m = y.count, k = bins, b = tailBound
        let (xKnots, yKnots, derivatives) = noGrad { () -> ([Float], [Float], [Float]) in
            let parts = parameters.split([k, k, k - 1], axis: 1)
            return (
                knots(parts[0], minimum: minBinWidth).scalars, knots(parts[1], minimum: minBinHeight).scalars,
                (parts[2].pad([(1, 1)], value: unitDerivative).softplus() + minDerivative).scalars
            )
        }
        var x = y
        for i in 0..<m where y[i] >= -b && y[i] <= b {
            let row = i * (k + 1)
            var j = 0
            while j < k - 1 && yKnots[row + j + 1] <= y[i] { j += 1 }
            let x0 = Double(xKnots[row + j]), w = Double(xKnots[row + j + 1]) - x0
            let y0 = Double(yKnots[row + j]), h = Double(yKnots[row + j + 1]) - y0
            let d0 = Double(derivatives[row + j]), d1 = Double(derivatives[row + j + 1])
            let delta = h / w, dy = Double(y[i]) - y0
            let a = dy * (d0 + d1 - 2 * delta) + h * (delta - d0)
            let bq = h * d0 - dy * (d0 + d1 - 2 * delta)
            let c = -delta * dy
            let discriminant = Swift.max(0, bq * bq - 4 * a * c)
            let theta = 2 * c / (-bq - discriminant.squareRoot())
            x[i] = Float(theta * w + x0)
        }
        return x
    }
}
