// Reductions over axes, with keepDims as PyTorch's keepdim.

extension Tensor {
    /// Sum of all elements (a 0-dimensional tensor).
    public func sum() -> Tensor { sum(axes: Array(0..<rank)) }

    /// Sum over `axes` (negative axes count from the end).
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        let axes = normalisedAxes(axes, op: "sum")
        var kept = shape
        for a in axes { kept[a] = 1 }
        var result = self.detach()
        // One axis at a time, innermost first, into a keep-dims shape.
        for a in axes.sorted(by: >) {
            let (outer, n, inner) = Reduce.split(result.shape, a)
            var s = result.shape
            s[a] = 1
            let next = Tensor(uninitialized: s)
            Reduce.sum(result.storage.pointer, next.storage.pointer, outer: outer, n: n, inner: inner)
            result = next
        }
        let finalShape = keepDims ? kept : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        let out = Tensor(shape: finalShape, storage: result.storage)
        let inputShape = shape
        // d(sum)/dx = 1: the gradient is broadcast back over the reduced axes.
        return record(out, "sum", [self]) { g in [g.reshape(kept).expand(inputShape)] }
    }

    public func mean() -> Tensor { sum() / Float(Swift.max(count, 1)) }

    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let axes = normalisedAxes(axes, op: "mean")
        let n = axes.reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) / Float(Swift.max(n, 1))
    }

    /// Variance over `axes`; `unbiased` divides by n − 1 (PyTorch's default correction = 1).
    public func variance(axes: [Int], unbiased: Bool = true, keepDims: Bool = false) -> Tensor {
        let axes = normalisedAxes(axes, op: "variance")
        let n = axes.reduce(1) { $0 * shape[$1] }
        let centred = self - mean(axes: axes, keepDims: true)
        return (centred * centred).sum(axes: axes, keepDims: keepDims) / Float(Swift.max(unbiased ? n - 1 : n, 1))
    }

    /// Maximum over one axis. The gradient goes to the first position that holds the maximum
    /// (as `torch.max(x, dim)`).
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "max")
        let (outer, n, inner) = Reduce.split(shape, a)
        precondition(n > 0, "GenLab max: cannot reduce an empty axis \(axis) of \(shape)")
        var kept = shape
        kept[a] = 1
        let out = Tensor(uninitialized: keepDims ? kept : shape.enumerated().filter { $0.offset != a }.map(\.element))
        var arg = [Int32](repeating: 0, count: outer * inner)
        arg.withUnsafeMutableBufferPointer {
            Reduce.max(storage.pointer, out.storage.pointer, $0.baseAddress!, outer: outer, n: n, inner: inner)
        }
        let inputShape = shape, outShape = out.shape
        func at(_ cell: Int) -> Int { (cell / inner * n + Int(arg[cell])) * inner + cell % inner }
        // The gradient is routed to the maxima: a linear map of g (gathering back is its adjoint).
        return record(out, "max", [self]) { g in
            [
                linearMap(
                    "maxᵀ", g,
                    apply: { g in
                        let gi = Tensor.zeros(inputShape)
                        let pg = g.storage.pointer, pi = gi.storage.pointer
                        for cell in 0..<(outer * inner) { pi[at(cell)] = pg[cell] }
                        return gi
                    },
                    adjoint: { gi in
                        let g = Tensor(uninitialized: outShape)
                        let pg = g.storage.pointer, pi = gi.storage.pointer
                        for cell in 0..<(outer * inner) { pg[cell] = pi[at(cell)] }
                        return g
                    })
            ]
        }
    }

    /// Maximum over several axes (reduced one at a time) or over all elements when `axes` is nil.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = normalisedAxes(axes ?? Array(0..<rank), op: "max")
        var r = self
        for a in axes.sorted(by: >) { r = r.max(axis: a, keepDims: true) }
        if keepDims { return r }
        return r.reshape(shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
    }

    func normalisedAxes(_ axes: [Int], op: String) -> [Int] {
        let a = axes.map { Shape.axis($0, rank: rank, op: op) }
        if Set(a).count != a.count { shapeFailure(op, "repeated axis in \(axes)") }
        return a
    }
}
