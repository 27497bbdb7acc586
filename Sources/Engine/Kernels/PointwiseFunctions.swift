import Foundation

/// The scalar functions behind the elementwise ops (forward rules and backward rules), one small
/// type each so the kernels specialise on them. `Fn.X` is the forward of op X, `Fn.XGrad` maps
/// (upstream gradient, saved value) to the input gradient.
enum Fn {
    struct Add: Pointwise2 { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b } }
    struct Sub: Pointwise2 { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b } }
    struct Mul: Pointwise2 { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b } }
    struct Div: Pointwise2 { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b } }
    struct Pow: Pointwise2 {
        @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { Foundation.pow(a, b) }
    }

    struct Neg: Pointwise1 { @inline(__always) func callAsFunction(_ x: Float) -> Float { -x } }
    struct AddScalar: Pointwise1 { let s: Float; @inline(__always) func callAsFunction(_ x: Float) -> Float { x + s } }
    struct MulScalar: Pointwise1 { let s: Float; @inline(__always) func callAsFunction(_ x: Float) -> Float { x * s } }
    struct ScalarMinus: Pointwise1 {
        let s: Float; @inline(__always) func callAsFunction(_ x: Float) -> Float { s - x }
    }
    struct ScalarOver: Pointwise1 { let s: Float; @inline(__always) func callAsFunction(_ x: Float) -> Float { s / x } }
    struct PowScalar: Pointwise1 {
        let p: Float; @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.pow(x, p) }
    }

    struct Exp: Pointwise1 { @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.exp(x) } }
    struct Log: Pointwise1 { @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.log(x) } }
    struct Sqrt: Pointwise1 { @inline(__always) func callAsFunction(_ x: Float) -> Float { x.squareRoot() } }
    struct Abs: Pointwise1 { @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.abs(x) } }
    struct AbsGrad: Pointwise2 {
        @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { x > 0 ? g : (x < 0 ? -g : 0) }
    }
    struct Clamp: Pointwise1 {
        let lo, hi: Float
        @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.min(Swift.max(x, lo), hi) }
    }
    struct ClampGrad: Pointwise2 {
        let lo, hi: Float
        @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { (x >= lo && x <= hi) ? g : 0 }
    }
    struct Relu: Pointwise1 { @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.max(x, 0) } }
    /// Given the output y = relu(x): y > 0 exactly where x > 0.
    struct ReluGrad: Pointwise2 {
        @inline(__always) func callAsFunction(_ g: Float, _ y: Float) -> Float { y > 0 ? g : 0 }
    }
    struct LeakyRelu: Pointwise1 {
        let slope: Float
        @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? x : x * slope }
    }
    struct LeakyReluGrad: Pointwise2 {
        let slope: Float
        @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { x > 0 ? g : g * slope }
    }
    struct Sigmoid: Pointwise1 { @inline(__always) func callAsFunction(_ x: Float) -> Float { sigmoid(x) } }
    /// Given the output s = σ(x): σ' = s(1 − s).
    struct SigmoidGrad: Pointwise2 {
        @inline(__always) func callAsFunction(_ g: Float, _ s: Float) -> Float { g * s * (1 - s) }
    }
    /// tanh as a 13/6-degree odd rational function on [−7.9988, 7.9988] (saturated outside; the
    /// coefficients are Eigen's ptanh_float). glibc's tanhf is a scalar call that took 70 % of a
    /// decoy-network fit; this form vectorises, and stays within 3e-7 of tanh (tested).
    struct Tanh: Pointwise1 {
        @inline(__always) func callAsFunction(_ x: Float) -> Float {
            let c: Float = 7.99881172180175781
            let y = Swift.min(Swift.max(x, -c), c)
            let y2 = y * y
            var p: Float = -2.76076847742355e-16
            p = p * y2 + 2.00018790482477e-13
            p = p * y2 - 8.60467152213735e-11
            p = p * y2 + 5.12229709037114e-08
            p = p * y2 + 1.48572235717979e-05
            p = p * y2 + 6.37261928875436e-04
            p = p * y2 + 4.89352455891786e-03
            var q: Float = 1.19825839466702e-06
            q = q * y2 + 1.18534705686654e-04
            q = q * y2 + 2.26843463243900e-03
            q = q * y2 + 4.89352518554385e-03
            let r = y * p / q
            return Swift.abs(x) < 0.0004 ? x : r
        }
    }
    /// Given the output t = tanh(x): tanh' = 1 − t².
    struct TanhGrad: Pointwise2 {
        @inline(__always) func callAsFunction(_ g: Float, _ t: Float) -> Float { g * (1 - t * t) }
    }
    struct Softplus: Pointwise1 { @inline(__always) func callAsFunction(_ x: Float) -> Float { softplus(x) } }
    /// softplus' = σ(x).
    struct SoftplusGrad: Pointwise2 {
        @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { g * sigmoid(x) }
    }
    struct LogSigmoid: Pointwise1 { @inline(__always) func callAsFunction(_ x: Float) -> Float { -softplus(-x) } }
    /// (log σ)' = σ(−x).
    struct LogSigmoidGrad: Pointwise2 {
        @inline(__always) func callAsFunction(_ g: Float, _ x: Float) -> Float { g * sigmoid(-x) }
    }
    struct Bernoulli: Pointwise1 {
        let scale: Float
        @inline(__always) func callAsFunction(_ m: Float) -> Float { m * scale }
    }

    /// σ(x) from e^−|x|, so exp never overflows: 1 / (1 + e) for x ≥ 0, e / (1 + e) below.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        let e = expUnit(-Swift.abs(x))
        return (x >= 0 ? 1 : e) / (1 + e)
    }

    /// log(1 + eˣ) without overflow: max(x, 0) + log1p(e^−|x|).
    @inline(__always)
    static func softplus(_ x: Float) -> Float { Swift.max(x, 0) + log1pUnit(expUnit(-Swift.abs(x))) }

    /// eˣ for x ≤ 0 in pure arithmetic (Cephes' expf: x = n·ln 2 + r with |r| ≤ ln 2 / 2, a degree-6
    /// polynomial for eʳ, 2ⁿ written into the exponent bits), so the loops that call it vectorise
    /// where glibc's expf is a scalar call (a seventh of an MLP VAE step went to softplus and σ).
    /// Within 2·10⁻⁷ relative of exp (tested); 0 below −87.3, where eˣ leaves the normal floats;
    /// NaN for NaN. Only for x ≤ 0 (σ and softplus call it with −|x|).
    @inline(__always)
    static func expUnit(_ x: Float) -> Float {
        let xc = Swift.max(x, -87.33654)  // NaN stays NaN: max keeps its first argument unless the second is larger
        // n = round(x / ln 2) by the 1.5·2²³ trick (integer bits without a conversion that traps on NaN).
        let t = xc * 1.44269504088896341 + 12_582_912
        let n = Int32(bitPattern: t.bitPattern) &- Int32(bitPattern: 0x4B40_0000)
        let nf = t - 12_582_912
        let r = (xc - nf * 0.693359375) - nf * -2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let er = p * r * r + r + 1
        let scale = Float(bitPattern: UInt32(bitPattern: (n &+ 127) &<< 23))
        return x < -87.33654 ? 0 : er * scale
    }

    /// log(1 + y) for y in [0, 1], as 2·atanh(s) with s = y / (2 + y) ≤ 1/3 (exact, no cancellation
    /// for small y), summed to s¹³: truncation below 2·10⁻⁸ relative. Pure arithmetic, so it inlines
    /// where glibc's log1pf is a call (it was 10 % of a BCE-heavy training step). Tested against
    /// double precision.
    @inline(__always)
    static func log1pUnit(_ y: Float) -> Float {
        let s = y / (2 + y), s2 = s * s
        var p: Float = 1 / 13
        p = p * s2 + 1 / 11
        p = p * s2 + 1 / 9
        p = p * s2 + 1 / 7
        p = p * s2 + 1 / 5
        p = p * s2 + 1 / 3
        p = p * s2 + 1
        return 2 * s * p
    }
}
