// Reshaping, permuting, slicing, joining, indexing and padding.

extension Tensor {
    /// The same elements in a new shape (a view: storage is shared). One dimension may be -1.
    public func reshape(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            if known == 0 || count % known != 0 { shapeFailure("reshape", "cannot reshape \(shape) to \(newShape)") }
            s[i] = count / known
        }
        if Shape.count(s) != count || s.contains(where: { $0 < 0 }) {
            shapeFailure("reshape", "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        }
        if s == shape { return self }
        let out = Tensor(shape: s, storage: storage)
        let original = shape
        return record(out, "reshape", [self]) { g in [g.reshape(original)] }
    }

    /// Flattens dims from `start` on into one ([N, C, H, W] → [N, C·H·W] with start 1).
    public func flatten(from start: Int = 0) -> Tensor {
        let a = Shape.axis(start, rank: rank, op: "flatten")
        return reshape(Array(shape[..<a]) + [Shape.count(Array(shape[a...]))])
    }

    public func unsqueeze(_ axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        if a < 0 || a > rank { shapeFailure("unsqueeze", "axis \(axis) out of range for \(shape)") }
        var s = shape
        s.insert(1, at: a)
        return reshape(s)
    }

    public func squeeze(_ axis: Int) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "squeeze")
        if shape[a] != 1 { return self }
        var s = shape
        s.remove(at: a)
        return reshape(s)
    }

    /// Broadcasts to `target` (copying); the gradient sums back.
    public func expand(_ target: [Int]) -> Tensor {
        if target == shape { return self }
        if Shape.broadcast(shape, target, op: "expand") != target {
            shapeFailure("expand", "cannot expand \(shape) to \(target)")
        }
        let out = Tensor(uninitialized: target)
        StridedView(shape: target, strides: Shape.broadcastStrides(shape, to: target))
            .gather(from: storage.pointer, into: out.storage.pointer)
        let original = shape
        return record(out, "expand", [self]) { g in [g.sumTo(original)] }
    }

    /// Reorders the axes: output axis i is input axis `order[i]`.
    public func permute(_ order: [Int]) -> Tensor {
        let order = order.map { Shape.axis($0, rank: rank, op: "permute") }
        if order.count != rank || Set(order).count != rank {
            shapeFailure("permute", "\(order) is not a permutation of the axes of \(shape)")
        }
        if order == Array(0..<rank) { return self }
        let own = Shape.strides(shape)
        let out = Tensor(uninitialized: order.map { shape[$0] })
        StridedView(shape: out.shape, strides: order.map { own[$0] }).gather(
            from: storage.pointer, into: out.storage.pointer)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return record(out, "permute", [self]) { g in [g.permute(inverse)] }
    }

    /// Swaps two axes.
    public func transpose(_ a: Int, _ b: Int) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(Shape.axis(a, rank: rank, op: "transpose"), Shape.axis(b, rank: rank, op: "transpose"))
        return permute(order)
    }

    /// Elements start, start+step, … < end along `axis` (negative start/end count from the end).
    public func slice(axis: Int, start: Int, end: Int? = nil, step: Int = 1) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "slice")
        let n = shape[a]
        let lo = Swift.min(Swift.max(start < 0 ? start + n : start, 0), n)
        let hi = Swift.min(Swift.max(end.map { $0 < 0 ? $0 + n : $0 } ?? n, lo), n)
        if step < 1 { shapeFailure("slice", "step must be positive, got \(step)") }
        var s = shape
        s[a] = (hi - lo + step - 1) / step
        var strides = Shape.strides(shape)
        let offset = lo * strides[a]
        strides[a] *= step
        let viewOf = StridedView(shape: s, strides: strides, offset: offset)
        let original = shape
        return linearMap(
            "slice", self,
            apply: { x in
                let out = Tensor(uninitialized: s)
                viewOf.gather(from: x.storage.pointer, into: out.storage.pointer)
                return out
            },
            adjoint: { g in
                let gi = Tensor.zeros(original)
                viewOf.scatterAdd(from: g.storage.pointer, into: gi.storage.pointer)
                return gi
            })
    }

    /// Splits along `axis` into pieces of the given sizes (which must add up to the axis length).
    public func split(_ sizes: [Int], axis: Int) -> [Tensor] {
        let a = Shape.axis(axis, rank: rank, op: "split")
        if sizes.reduce(0, +) != shape[a] || sizes.contains(where: { $0 < 0 }) {
            shapeFailure("split", "sizes \(sizes) do not add up to \(shape[a]) (axis \(axis) of \(shape))")
        }
        var start = 0
        return sizes.map { n in
            defer { start += n }; return slice(axis: a, start: start, end: start + n)
        }
    }

    /// Joins tensors along `axis`; all other dims must agree.
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        guard let first = tensors.first else { shapeFailure("concat", "no tensors to join") }
        let a = Shape.axis(axis, rank: first.rank, op: "concat")
        for t in tensors
        where t.rank != first.rank
            || t.shape.enumerated().contains(where: { $0.offset != a && $0.element != first.shape[$0.offset] })
        {
            shapeFailure("concat", "shapes \(tensors.map(\.shape)) differ outside axis \(axis)")
        }
        var s = first.shape
        s[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let out = Tensor(uninitialized: s)
        let outer = Shape.count(Array(s[..<a])), inner = Shape.count(Array(s[(a + 1)...]))
        var offset = 0
        for t in tensors {
            let len = t.shape[a] * inner, src = t.storage.pointer, dst = out.storage.pointer
            for o in 0..<outer { (dst + o * s[a] * inner + offset).update(from: src + o * len, count: len) }
            offset += len
        }
        let sizes = tensors.map { $0.shape[a] }
        return record(out, "concat", tensors) { g in g.split(sizes, axis: a) }
    }

    /// Picks entries `indices` along `axis` (torch.index_select); the gradient adds back per index.
    public func indexSelect(axis: Int, indices: [Int]) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "indexSelect")
        let (outer, n, inner) = Reduce.split(shape, a)
        for i in indices where i < 0 || i >= n {
            shapeFailure("indexSelect", "index \(i) out of range for axis \(axis) of \(shape)")
        }
        var s = shape
        s[a] = indices.count
        let m = indices.count, original = shape
        return linearMap(
            "indexSelect", self,
            apply: { x in
                let out = Tensor(uninitialized: s)
                let src = x.storage.pointer, dst = out.storage.pointer
                for o in 0..<outer {
                    for (k, i) in indices.enumerated() {
                        (dst + (o * m + k) * inner).update(from: src + (o * n + i) * inner, count: inner)
                    }
                }
                return out
            },
            adjoint: { g in
                let gi = Tensor.zeros(original)
                let pg = g.storage.pointer, pi = gi.storage.pointer
                for o in 0..<outer {
                    for (k, i) in indices.enumerated() {
                        let to = pi + (o * n + i) * inner, from = pg + (o * m + k) * inner
                        for j in 0..<inner { to[j] += from[j] }
                    }
                }
                return gi
            })
    }

    /// out[…, j, …] = self[…, index[…, j, …], …] along `axis` (torch.gather). `index` has the
    /// output's shape (`indexShape`), no larger than self outside `axis`.
    public func gather(axis: Int, index: [Int], indexShape: [Int]) -> Tensor {
        let a = Shape.axis(axis, rank: rank, op: "gather")
        if indexShape.count != rank || index.count != Shape.count(indexShape)
            || indexShape.enumerated().contains(where: { $0.offset != a && $0.element > shape[$0.offset] })
        {
            shapeFailure(
                "gather", "index of shape \(indexShape) (\(index.count) values) does not fit \(shape) on axis \(axis)")
        }
        let own = Shape.strides(shape), n = shape[a]
        let outStrides = Shape.strides(indexShape)
        // Flat source position for every output position.
        var positions = [Int](repeating: 0, count: index.count)
        for p in 0..<index.count {
            let i = index[p]
            if i < 0 || i >= n { shapeFailure("gather", "index \(i) out of range for axis \(axis) of \(shape)") }
            var rest = p, off = 0
            for d in 0..<rank {
                let c = rest / outStrides[d]
                rest %= outStrides[d]
                off += (d == a ? i : c) * own[d]
            }
            positions[p] = off
        }
        let original = shape
        return linearMap(
            "gather", self,
            apply: { x in
                let out = Tensor(uninitialized: indexShape)
                let src = x.storage.pointer, dst = out.storage.pointer
                for p in 0..<positions.count { dst[p] = src[positions[p]] }
                return out
            },
            adjoint: { g in
                let gi = Tensor.zeros(original)
                let pg = g.storage.pointer, pi = gi.storage.pointer
                for p in 0..<positions.count { pi[positions[p]] += pg[p] }
                return gi
            })
    }

    /// Pads the last `widths.count` axes (in order) with `value`: widths[i] = (before, after).
    public func pad(_ widths: [(Int, Int)], value: Float = 0) -> Tensor {
        if widths.count > rank || widths.contains(where: { $0.0 < 0 || $0.1 < 0 }) {
            shapeFailure("pad", "widths \(widths) do not fit \(shape) (non-negative, at most one pair per axis)")
        }
        let lead = rank - widths.count
        var s = shape
        var offset = 0
        let outStrides: [Int]
        for (i, w) in widths.enumerated() { s[lead + i] += w.0 + w.1 }
        outStrides = Shape.strides(s)
        for (i, w) in widths.enumerated() { offset += w.0 * outStrides[lead + i] }
        // The interior of the output is a strided view with the input's shape.
        let interior = StridedView(shape: shape, strides: outStrides, offset: offset)
        let len = interior.rowLength, step = interior.innerStride, original = shape
        func place(_ x: Tensor, fill: Float) -> Tensor {
            let out = Tensor.full(s, fill)
            let src = x.storage.pointer, dst = out.storage.pointer
            for row in 0..<interior.rows {
                let to = dst + interior.rowOffset(row), from = src + row * len
                for i in 0..<len { to[i * step] = from[i] }
            }
            return out
        }
        func interiorOf(_ g: Tensor) -> Tensor {
            let gi = Tensor(uninitialized: original)
            interior.gather(from: g.storage.pointer, into: gi.storage.pointer)
            return gi
        }
        // The fill is a constant: the gradient's map and its adjoint are those of padding with 0.
        return record(place(self, fill: value), "pad", [self]) { g in
            [linearMap("padᵀ", g, apply: interiorOf, adjoint: { place($0, fill: 0) })]
        }
    }
}
