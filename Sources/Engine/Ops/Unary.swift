// Pointwise functions and activations. Each backward rule is the derivative, written beside it.

extension Tensor {
    public func exp() -> Tensor {
        let out = Elementwise.unary(self, Fn.Exp())
        // d eˣ = eˣ (recomputed on the tape when the backward pass is recorded)
        return record(out, "exp", [self]) { [self, out = out.detach()] g in [g * (creatingGraph() ? self.exp() : out)] }
    }

    public func log() -> Tensor {
        let out = Elementwise.unary(self, Fn.Log())
        return record(out, "log", [self]) { [self] g in [g / self] }  // d ln x = 1/x
    }

    public func sqrt() -> Tensor {
        let out = Elementwise.unary(self, Fn.Sqrt())
        return record(out, "sqrt", [self]) { [self, out = out.detach()] g in  // d √x = 1/(2√x)
            [g / ((creatingGraph() ? self.sqrt() : out) * 2)]
        }
    }

    public func abs() -> Tensor {
        let out = Elementwise.unary(self, Fn.Abs())
        // sign(x)
        return record(out, "abs", [self]) { [self] g in [pointwiseGrad(g, self, "abs", Fn.AbsGrad())] }
    }

    /// Limits values to [min, max]; the gradient passes where min ≤ x ≤ max (as PyTorch).
    public func clamp(min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
        let out = Elementwise.unary(self, Fn.Clamp(lo: lo, hi: hi))
        return record(out, "clamp", [self]) { [self] g in
            [pointwiseGrad(g, self, "clamp", Fn.ClampGrad(lo: lo, hi: hi))]
        }
    }

    public func relu() -> Tensor {
        let out = Elementwise.unary(self, Fn.Relu())
        return record(out, "relu", [self]) { [out = out.detach()] g in
            [pointwiseGrad(g, out, "relu", Fn.ReluGrad())]
        }  // 1 where x > 0
    }

    public func leakyRelu(_ slope: Float = 0.01) -> Tensor {
        let out = Elementwise.unary(self, Fn.LeakyRelu(slope: slope))
        return record(out, "leakyRelu", [self]) { [self] g in  // 1 or slope
            [pointwiseGrad(g, self, "leakyRelu", Fn.LeakyReluGrad(slope: slope))]
        }
    }

    public func sigmoid() -> Tensor {
        let out = Elementwise.unary(self, Fn.Sigmoid())
        return record(out, "sigmoid", [self]) { [self, out = out.detach()] g in  // σ(1−σ)
            guard creatingGraph() else { return [Elementwise.binary(g, out, op: "sigmoid", Fn.SigmoidGrad())] }
            let s = self.sigmoid()
            return [g * s * (1 - s)]
        }
    }

    public func tanh() -> Tensor {
        let out = Elementwise.unary(self, Fn.Tanh())
        return record(out, "tanh", [self]) { [self, out = out.detach()] g in  // 1 − tanh²
            guard creatingGraph() else { return [Elementwise.binary(g, out, op: "tanh", Fn.TanhGrad())] }
            let t = self.tanh()
            return [g * (1 - t * t)]
        }
    }

    /// log(1 + eˣ), computed without overflow.
    public func softplus() -> Tensor {
        let out = Elementwise.unary(self, Fn.Softplus())
        return record(out, "softplus", [self]) { [self] g in  // σ(x)
            [creatingGraph() ? g * self.sigmoid() : Elementwise.binary(g, self, op: "softplus", Fn.SoftplusGrad())]
        }
    }

    /// log σ(x) = −softplus(−x), computed without overflow.
    public func logSigmoid() -> Tensor {
        let out = Elementwise.unary(self, Fn.LogSigmoid())
        return record(out, "logSigmoid", [self]) { [self] g in  // σ(−x)
            [
                creatingGraph()
                    ? g * (-self).sigmoid() : Elementwise.binary(g, self, op: "logSigmoid", Fn.LogSigmoidGrad())
            ]
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

/// g times a piecewise-constant derivative (`f` applied to g and x gives g·f′(x)): the raw kernel,
/// or — when the backward pass is recorded — g times f′(x) as a constant (its own derivative is 0
/// almost everywhere), so that the product stays differentiable in g.
func pointwiseGrad<F: Pointwise2>(_ g: Tensor, _ x: Tensor, _ op: String, _ f: F) -> Tensor {
    guard creatingGraph() else { return Elementwise.binary(g, x, op: op, f) }
    return g * Elementwise.binary(Tensor.ones(x.shape), x, op: op, f)
}
