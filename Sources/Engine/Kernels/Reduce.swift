/// Reductions over one axis of a contiguous tensor viewed as [outer, n, inner].
enum Reduce {
    static func split(_ shape: [Int], _ axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (Shape.count(Array(shape[..<axis])), shape[axis], Shape.count(Array(shape[(axis + 1)...])))
    }

    /// Sum over `axis`; the result has that axis removed.
    static func sum(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, outer: Int, n: Int, inner: Int) {
        if inner == 1 {
            parallelFor(outer, grain: Swift.max(1, parallelGrain / Swift.max(n, 1))) { rows in
                for o in rows { out[o] = sumContiguous(x + o * n, n) }
            }
        } else {
            parallelFor(outer * inner, grain: Swift.max(1, parallelGrain / Swift.max(n, 1))) { r in
                // Chunks are ranges of output cells; walk them row by row so the inner loop is contiguous.
                var i = r.lowerBound
                while i < r.upperBound {
                    let o = i / inner, j0 = i % inner
                    let j1 = Swift.min(inner, j0 + (r.upperBound - i))
                    let dst = out + o * inner
                    for j in j0..<j1 { dst[j] = 0 }
                    for k in 0..<n {
                        let src = x + (o * n + k) * inner
                        for j in j0..<j1 { dst[j] += src[j] }
                    }
                    i += j1 - j0
                }
            }
        }
    }

    /// Sum of n contiguous floats with eight independent lanes (vectorised, and more accurate than
    /// one running sum).
    @inline(__always)
    static func sumContiguous(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// Σ (x − c)², eight lanes at a time (a batch norm's variance about its mean).
    static func sumSquaredDeviation(_ x: UnsafePointer<Float>, _ n: Int, from c: Float) -> Float {
        var acc = SIMD8<Float>()
        let cv = SIMD8<Float>(repeating: c)
        var i = 0
        while i + 8 <= n {
            let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - cv
            acc += d * d
            i += 8
        }
        var s = acc.sum()
        while i < n { let d = x[i] - c; s += d * d; i += 1 }
        return s
    }

    /// (Σ g, Σ g·(x − c)), eight lanes at a time (a batch norm's backward sums).
    static func sumAndDeviationDot(
        _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, from c: Float
    ) -> (Float, Float) {
        var a = SIMD8<Float>(), b = SIMD8<Float>()
        let cv = SIMD8<Float>(repeating: c)
        var i = 0
        while i + 8 <= n {
            let gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
            a += gv
            b += gv * (UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - cv)
            i += 8
        }
        var (sa, sb) = (a.sum(), b.sum())
        while i < n { sa += g[i]; sb += g[i] * (x[i] - c); i += 1 }
        return (sa, sb)
    }

    /// Max over `axis` and the (first) index where it occurs.
    static func max(
        _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ arg: UnsafeMutablePointer<Int32>,
        outer: Int, n: Int, inner: Int
    ) {
        parallelFor(outer * inner, grain: Swift.max(1, parallelGrain / Swift.max(n, 1))) { r in
            for cell in r {
                let o = cell / inner, j = cell % inner
                var best = -Float.infinity, bestK: Int32 = 0
                for k in 0..<n {
                    let v = x[(o * n + k) * inner + j]
                    if v > best || v.isNaN { best = v; bestK = Int32(k); if v.isNaN { break } }
                }
                out[cell] = best
                arg[cell] = bestK
            }
        }
    }
}
