// Pointwise functions and activations. Each backward rule is the derivative, written beside it.

extension Tensor {
    public func exp() -> Tensor {
        let out = Elementwise.unary(self, Fn.Exp())
        return record(out, "exp", [self]) { [out = out.detach()] g in [g * out] }  // d eˣ = eˣ
    }

    public func log() -> Tensor {
        let out = Elementwise.unary(self, Fn.Log())
        return record(out, "log", [self]) { [self] g in [g / self] }  // d ln x = 1/x
    }

    public func sqrt() -> Tensor {
        let out = Elementwise.unary(self, Fn.Sqrt())
        return record(out, "sqrt", [self]) { [out = out.detach()] g in [g / (out * 2)] }  // d √x = 1/(2√x)
    }

    public func abs() -> Tensor {
        let out = Elementwise.unary(self, Fn.Abs())
        // sign(x)
        return record(out, "abs", [self]) { [self] g in [Elementwise.binary(g, self, op: "abs", Fn.AbsGrad())] }
    }

    /// Limits values to [min, max]; the gradient passes where min ≤ x ≤ max (as PyTorch).
    public func clamp(min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
        let out = Elementwise.unary(self, Fn.Clamp(lo: lo, hi: hi))
        return record(out, "clamp", [self]) { [self] g in
            [Elementwise.binary(g, self, op: "clamp", Fn.ClampGrad(lo: lo, hi: hi))]
        }
    }

    public func relu() -> Tensor {
        let out = Elementwise.unary(self, Fn.Relu())
        return record(out, "relu", [self]) { [out = out.detach()] g in
            [Elementwise.binary(g, out, op: "relu", Fn.ReluGrad())]
        }  // 1 where x > 0
    }

    public func leakyRelu(_ slope: Float = 0.01) -> Tensor {
        let out = Elementwise.unary(self, Fn.LeakyRelu(slope: slope))
        return record(out, "leakyRelu", [self]) { [self] g in  // 1 or slope
            [Elementwise.binary(g, self, op: "leakyRelu", Fn.LeakyReluGrad(slope: slope))]
        }
    }

    public func sigmoid() -> Tensor {
        let out = Elementwise.unary(self, Fn.Sigmoid())
        return record(out, "sigmoid", [self]) { [out = out.detach()] g in
            [Elementwise.binary(g, out, op: "sigmoid", Fn.SigmoidGrad())]
        }  // σ(1−σ)
    }

    public func tanh() -> Tensor {
        let out = Elementwise.unary(self, Fn.Tanh())
        return record(out, "tanh", [self]) { [out = out.detach()] g in
            [Elementwise.binary(g, out, op: "tanh", Fn.TanhGrad())]
        }  // 1 − tanh²
    }

    /// log(1 + eˣ), computed without overflow.
    public func softplus() -> Tensor {
        let out = Elementwise.unary(self, Fn.Softplus())
        return record(out, "softplus", [self]) { [self] g in
            [Elementwise.binary(g, self, op: "softplus", Fn.SoftplusGrad())]
        }  // σ(x)
    }

    /// log σ(x) = −softplus(−x), computed without overflow.
    public func logSigmoid() -> Tensor {
        let out = Elementwise.unary(self, Fn.LogSigmoid())
        return record(out, "logSigmoid", [self]) { [self] g in  // σ(−x)
            [Elementwise.binary(g, self, op: "logSigmoid", Fn.LogSigmoidGrad())]
        }
    }

    /// Multiplies by a Bernoulli(1 − p) mask scaled by 1/(1 − p) (inverted dropout).
    public func dropout(_ p: Float, rng: inout PRNG) -> Tensor {
        precondition(p >= 0 && p < 1, "GenLab dropout: p must be in [0, 1), got \(p)")
        if p == 0 { return self }
        let mask = Tensor(uninitialized: shape)
        rng.fillBernoulli(mask.storage.buffer, p: 1 - p)
        return self * Elementwise.unary(mask, Fn.MulScalar(s: 1 / (1 - p)))
    }
}
