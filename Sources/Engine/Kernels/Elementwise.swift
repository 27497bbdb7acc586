/// Elementwise kernels: unary maps and broadcasting binary maps, split over the cores for large
/// tensors.
///
/// The function applied is a value of a `PointwiseN` type rather than a closure: the kernel is
/// specialised for each type, so the function is inlined into the loop and vectorised. (A closure
/// captured by the per-thread chunk body is called indirectly per element, about 10× slower.)
public protocol Pointwise1 { func callAsFunction(_ x: Float) -> Float }
public protocol Pointwise2 { func callAsFunction(_ a: Float, _ b: Float) -> Float }

enum Elementwise {
    @inline(__always)
    static func unary<F: Pointwise1>(_ x: Tensor, _ f: F) -> Tensor {
        // A map of each value alone: the output keeps the input's layout.
        let (xs, layout) = x.raw
        let out = Tensor(shape: x.shape, storage: Storage(count: xs.count), layout: layout)
        let px = xs.pointer, po = out.raw.storage.pointer
        withExtendedLifetime(xs) { parallelFor(x.count) { r in for i in r { po[i] = f(px[i]) } } }
        return out
    }

    /// f(a, b) with NumPy broadcasting.
    @inline(__always)
    static func binary<F: Pointwise2>(_ a: Tensor, _ b: Tensor, op: String, _ f: F) -> Tensor {
        let shape = Shape.broadcast(a.shape, b.shape, op: op)
        if let out = blockedBinary(a, b, shape, f) { return out }
        let out = Tensor(uninitialized: shape)
        let pa = a.storage.pointer, pb = b.storage.pointer, po = out.storage.pointer
        let n = out.count
        if a.count == n && b.count == n {
            parallelFor(n) { r in for i in r { po[i] = f(pa[i], pb[i]) } }
        } else if b.count == 1 {
            let s = pb[0]
            parallelFor(n) { r in for i in r { po[i] = f(pa[i], s) } }
        } else if a.count == 1 {
            let s = pa[0]
            parallelFor(n) { r in for i in r { po[i] = f(s, pb[i]) } }
        } else {
            let plan = BroadcastPlan(shape: shape, a.shape, b.shape)
            let len = plan.rowLength, sa = plan.innerA, sb = plan.innerB
            parallelFor(plan.rows, grain: max(1, parallelGrain / max(len, 1))) { rows in
                for row in rows {
                    let (oa, ob) = plan.offsets(row: row)
                    let o = po + row * len, xa = pa + oa, xb = pb + ob
                    switch (sa, sb) {
                    case (1, 1): for i in 0..<len { o[i] = f(xa[i], xb[i]) }
                    case (1, 0): let s = xb[0]; for i in 0..<len { o[i] = f(xa[i], s) }
                    case (0, 1): let s = xa[0]; for i in 0..<len { o[i] = f(s, xb[i]) }
                    default: let s = f(xa[0], xb[0]); for i in 0..<len { o[i] = s }
                    }
                }
            }
        }
        return out
    }
}

extension Elementwise {
    /// f(a, b) over channel-blocked values, when one operand is blocked and the other is a scalar or
    /// lies alike (same shape, both blocked), and the result has the blocked operand's `shape`; nil
    /// otherwise (the row-major kernel then runs).
    @inline(__always)
    static func blockedBinary<F: Pointwise2>(_ a: Tensor, _ b: Tensor, _ shape: [Int], _ f: F) -> Tensor? {
        let (sa, la) = a.raw, (sb, lb) = b.raw
        guard la != .plain || lb != .plain else { return nil }
        let alike = la == lb && a.shape == b.shape
        guard alike || (la != .plain && b.count == 1) || (lb != .plain && a.count == 1) else { return nil }
        guard shape == (la != .plain ? a.shape : b.shape) else { return nil }
        let out = Tensor(shape: shape, storage: Storage(count: Shape.count(shape)), layout: la != .plain ? la : lb)
        let pa = sa.pointer, pb = sb.pointer, po = out.raw.storage.pointer, n = out.count
        withExtendedLifetime((sa, sb)) {
            if alike {
                parallelFor(n) { r in for i in r { po[i] = f(pa[i], pb[i]) } }
            } else if b.count == 1 {
                let s = pb[0]
                parallelFor(n) { r in for i in r { po[i] = f(pa[i], s) } }
            } else {
                let s = pa[0]
                parallelFor(n) { r in for i in r { po[i] = f(s, pb[i]) } }
            }
        }
        return out
    }
}

/// Where each broadcast operand's elements are, row by row of the (coalesced) output.
struct BroadcastPlan {
    var dims: [Int] = []  // coalesced output dims, innermost last
    var stridesA: [Int] = []
    var stridesB: [Int] = []
    var rowLength: Int { dims.last ?? 1 }
    var innerA: Int { stridesA.last ?? 0 }
    var innerB: Int { stridesB.last ?? 0 }
    var rows: Int { Shape.count(dims) / max(rowLength, 1) }

    init(shape: [Int], _ a: [Int], _ b: [Int]) {
        let sa = Shape.broadcastStrides(a, to: shape), sb = Shape.broadcastStrides(b, to: shape)
        for i in 0..<shape.count where shape[i] != 1 {
            // Merge with the previous dim when both operands step through the pair contiguously.
            if let last = dims.indices.last,
                stridesA[last] == sa[i] * shape[i], stridesB[last] == sb[i] * shape[i]
            {
                dims[last] *= shape[i]
                stridesA[last] = sa[i]
                stridesB[last] = sb[i]
            } else {
                dims.append(shape[i]); stridesA.append(sa[i]); stridesB.append(sb[i])
            }
        }
        if dims.isEmpty { dims = [1]; stridesA = [0]; stridesB = [0] }
    }

    @inline(__always)
    func offsets(row: Int) -> (Int, Int) {
        var r = row, oa = 0, ob = 0
        var d = dims.count - 2
        while d >= 0 {
            let i = r % dims[d]
            r /= dims[d]
            oa += i * stridesA[d]
            ob += i * stridesB[d]
            d -= 1
        }
        return (oa, ob)
    }
}
