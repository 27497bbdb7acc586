// Broadcasting arithmetic. Backward of a broadcast operand sums the gradient back to its shape.

extension Tensor {
    /// Sums a (broadcast) gradient back down to `target` shape.
    public func sumTo(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        var axes = Array(0..<lead)
        for (i, d) in target.enumerated() where d == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        return sum(axes: axes, keepDims: true).reshape(target)
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out = Elementwise.binary(a, b, op: "add", Fn.Add())
        return record(out, "add", [a, b]) { g in [g.sumTo(a.shape), g.sumTo(b.shape)] }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = Elementwise.binary(a, b, op: "sub", Fn.Sub())
        return record(out, "sub", [a, b]) { g in [g.sumTo(a.shape), (-g).sumTo(b.shape)] }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = Elementwise.binary(a, b, op: "mul", Fn.Mul())
        // d(ab) = b·da + a·db
        return record(out, "mul", [a, b]) { g in
            [a.requiresGrad ? (g * b).sumTo(a.shape) : nil, b.requiresGrad ? (g * a).sumTo(b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = Elementwise.binary(a, b, op: "div", Fn.Div())
        // d(a/b) = da/b − a·db/b²
        return record(out, "div", [a, b]) { [out = out.detach()] g in
            [
                a.requiresGrad ? (g / b).sumTo(a.shape) : nil,
                b.requiresGrad ? (-(g * (creatingGraph() ? a / b : out)) / b).sumTo(b.shape) : nil,
            ]
        }
    }

    public static prefix func - (x: Tensor) -> Tensor {
        let out = Elementwise.unary(x, Fn.Neg())
        return record(out, "neg", [x]) { g in [-g] }
    }

    public static func + (a: Tensor, s: Float) -> Tensor {
        let out = Elementwise.unary(a, Fn.AddScalar(s: s))
        return record(out, "addScalar", [a]) { g in [g] }
    }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    public static func - (s: Float, a: Tensor) -> Tensor {
        let out = Elementwise.unary(a, Fn.ScalarMinus(s: s))
        return record(out, "rsubScalar", [a]) { g in [-g] }
    }
    public static func * (a: Tensor, s: Float) -> Tensor {
        let out = Elementwise.unary(a, Fn.MulScalar(s: s))
        return record(out, "mulScalar", [a]) { g in [g * s] }
    }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
    public static func / (s: Float, a: Tensor) -> Tensor {
        let out = Elementwise.unary(a, Fn.ScalarOver(s: s))
        // d(s/x) = −s/x² = −out/x
        return record(out, "rdivScalar", [a]) { [out = out.detach()] g in
            [-(g * (creatingGraph() ? s / a : out)) / a]
        }
    }

    /// xᵖ for a constant exponent.
    public func pow(_ p: Float) -> Tensor {
        if p == 2 { return self * self }
        let out = Elementwise.unary(self, Fn.PowScalar(p: p))
        // d(xᵖ) = p·xᵖ⁻¹
        return record(out, "pow", [self]) { [self] g in [g * (self.pow(p - 1) * p)] }
    }

    /// aᵇ elementwise with broadcasting.
    public func pow(_ b: Tensor) -> Tensor {
        let a = self
        let out = Elementwise.binary(a, b, op: "pow", Fn.Pow())
        // d(aᵇ) = b·aᵇ⁻¹·da + aᵇ·ln(a)·db
        return record(out, "powTensor", [a, b]) { [out = out.detach()] g in
            [
                a.requiresGrad ? (g * b * a.pow(b - 1)).sumTo(a.shape) : nil,
                b.requiresGrad ? (g * (creatingGraph() ? a.pow(b) : out) * a.log()).sumTo(b.shape) : nil,
            ]
        }
    }
}
