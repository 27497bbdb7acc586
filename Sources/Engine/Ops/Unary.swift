import Foundation

// Pointwise functions and activations. Each backward rule is the derivative, written beside it.

extension Tensor {
    public func exp() -> Tensor {
        let out = Elementwise.unary(self) { Foundation.exp($0) }
        return record(out, "exp", [self]) { g in [g * out] }                        // d eˣ = eˣ
    }

    public func log() -> Tensor {
        let out = Elementwise.unary(self) { Foundation.log($0) }
        return record(out, "log", [self]) { [self] g in [g / self] }                // d ln x = 1/x
    }

    public func sqrt() -> Tensor {
        let out = Elementwise.unary(self) { $0.squareRoot() }
        return record(out, "sqrt", [self]) { g in [g / (out * 2)] }                 // d √x = 1/(2√x)
    }

    public func abs() -> Tensor {
        let out = Elementwise.unary(self) { Swift.abs($0) }
        return record(out, "abs", [self]) { [self] g in                             // d |x| = sign(x)
            [Elementwise.binary(g, self, op: "abs backward") { $1 > 0 ? $0 : ($1 < 0 ? -$0 : 0) }]
        }
    }

    /// Limits values to [min, max]; the gradient passes where min ≤ x ≤ max (as PyTorch).
    public func clamp(min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
        let out = Elementwise.unary(self) { Swift.min(Swift.max($0, lo), hi) }
        return record(out, "clamp", [self]) { [self] g in
            [Elementwise.binary(g, self, op: "clamp backward") { ($1 >= lo && $1 <= hi) ? $0 : 0 }]
        }
    }

    public func relu() -> Tensor {
        let out = Elementwise.unary(self) { Swift.max($0, 0) }
        return record(out, "relu", [self]) { g in                                   // 1 where x > 0
            [Elementwise.binary(g, out, op: "relu backward") { $1 > 0 ? $0 : 0 }]
        }
    }

    public func leakyRelu(_ slope: Float = 0.01) -> Tensor {
        let out = Elementwise.unary(self) { $0 > 0 ? $0 : $0 * slope }
        return record(out, "leakyRelu", [self]) { [self] g in                      // 1 or slope
            [Elementwise.binary(g, self, op: "leakyRelu backward") { $1 > 0 ? $0 : $0 * slope }]
        }
    }

    public func sigmoid() -> Tensor {
        let out = Elementwise.unary(self) { Tensor.sigmoid($0) }
        return record(out, "sigmoid", [self]) { g in                                // σ(1−σ)
            [Elementwise.binary(g, out, op: "sigmoid backward") { $0 * $1 * (1 - $1) }]
        }
    }

    public func tanh() -> Tensor {
        let out = Elementwise.unary(self) { Foundation.tanh($0) }
        return record(out, "tanh", [self]) { g in                                   // 1 − tanh²
            [Elementwise.binary(g, out, op: "tanh backward") { $0 * (1 - $1 * $1) }]
        }
    }

    /// log(1 + eˣ), computed without overflow.
    public func softplus() -> Tensor {
        let out = Elementwise.unary(self) { Tensor.softplus($0) }
        return record(out, "softplus", [self]) { [self] g in                       // σ(x)
            [Elementwise.binary(g, self, op: "softplus backward") { $0 * Tensor.sigmoid($1) }]
        }
    }

    /// log σ(x) = −softplus(−x), computed without overflow.
    public func logSigmoid() -> Tensor {
        let out = Elementwise.unary(self) { -Tensor.softplus(-$0) }
        return record(out, "logSigmoid", [self]) { [self] g in                     // σ(−x)
            [Elementwise.binary(g, self, op: "logSigmoid backward") { $0 * Tensor.sigmoid(-$1) }]
        }
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        // Branch so that exp never overflows.
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }

    @inline(__always)
    static func softplus(_ x: Float) -> Float { Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))) }

    /// Multiplies by a Bernoulli(1 − p) mask scaled by 1/(1 − p) (inverted dropout).
    public func dropout(_ p: Float, rng: inout PRNG) -> Tensor {
        precondition(p >= 0 && p < 1, "GenLab dropout: p must be in [0, 1), got \(p)")
        if p == 0 { return self }
        let mask = Tensor(uninitialized: shape)
        rng.fillBernoulli(mask.storage.buffer, p: 1 - p)
        let scaled = Elementwise.unary(mask) { $0 / (1 - p) }
        return self * scaled
    }
}
