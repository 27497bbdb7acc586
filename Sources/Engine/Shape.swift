/// Shape arithmetic shared by the ops: element counts, strides, broadcasting, axis normalisation.
public enum Shape {
    /// Number of elements of a shape (1 for a scalar). Traps on overflow: shapes from files are
    /// checked with `checkedCount` before they get here.
    @inline(__always)
    public static func count(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape { n *= d }
        return n
    }

    /// Number of elements, or nil when a dimension is negative or the product of the non-zero
    /// dimensions overflows (then some order of multiplying them would, even when a zero makes
    /// the count 0: a reshape or a permutation of the shape must never trap).
    public static func checkedCount(_ shape: [Int]) -> Int? {
        var n = 1, hasZero = false
        for d in shape {
            guard d >= 0 else { return nil }
            if d == 0 { hasZero = true; continue }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return hasZero ? 0 : n
    }

    /// Row-major (C-order) strides of a contiguous tensor.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// NumPy/PyTorch broadcasting: shapes are right-aligned; a size-1 dimension stretches.
    public static func broadcast(_ a: [Int], _ b: [Int], op: String) -> [Int] {
        if a == b { return a }
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 {
                out[i] = da
            } else if da == 1 {
                out[i] = db
            } else {
                shapeFailure(op, "shapes \(a) and \(b) cannot be broadcast together")
            }
        }
        return out
    }

    /// Strides for reading a tensor of shape `shape` as if it had shape `target` (0 on broadcast axes).
    public static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        var s = [Int](repeating: 0, count: target.count)
        for i in 0..<shape.count where shape[i] != 1 || target[i + offset] == 1 {
            s[i + offset] = shape[i] == 1 ? 0 : own[i]
        }
        return s
    }

    /// A possibly negative axis made non-negative, checked against the rank.
    public static func axis(_ axis: Int, rank: Int, op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        if a < 0 || a >= max(rank, 1) { shapeFailure(op, "axis \(axis) is out of range for rank \(rank)") }
        return a
    }
}

/// Stops on a misuse of an op with a message that names the op and the shapes involved.
///
/// Ops are total over well-formed input; user input (files, flags) is validated by the layers above
/// before it reaches them, so reaching this is a programming error, like an index out of range.
public func shapeFailure(_ op: String, _ message: String, file: StaticString = #file, line: UInt = #line) -> Never {
    preconditionFailure("GenLab \(op): \(message)", file: file, line: line)
}
