/// Copies between a strided view (shape, strides, offset) of one buffer and a contiguous buffer:
/// the kernel behind permute, expand, slice and their backward rules.
struct StridedView {
    var dims: [Int] = []
    var strides: [Int] = []
    let offset: Int

    /// Collapses dims that are contiguous in the view so the inner loop is as long as possible.
    init(shape: [Int], strides s: [Int], offset: Int = 0) {
        self.offset = offset
        for i in 0..<shape.count where shape[i] != 1 {
            if let last = dims.indices.last, strides[last] == s[i] * shape[i] {
                dims[last] *= shape[i]
                strides[last] = s[i]
            } else {
                dims.append(shape[i]); strides.append(s[i])
            }
        }
        if dims.isEmpty { dims = [1]; strides = [1] }
    }

    var rowLength: Int { dims.last! }
    var innerStride: Int { strides.last! }
    var rows: Int { Shape.count(dims) / Swift.max(rowLength, 1) }

    @inline(__always)
    func rowOffset(_ row: Int) -> Int {
        var r = row, o = offset, d = dims.count - 2
        while d >= 0 {
            o += (r % dims[d]) * strides[d]
            r /= dims[d]
            d -= 1
        }
        return o
    }

    /// dst (contiguous, in view order) ← src through this view.
    func gather(from src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        let len = rowLength, s = innerStride
        parallelFor(rows, grain: Swift.max(1, parallelGrain / Swift.max(len, 1))) { rows in
            for row in rows {
                let from = src + rowOffset(row), to = dst + row * len
                if s == 1 { to.update(from: from, count: len) } else { for i in 0..<len { to[i] = from[i * s] } }
            }
        }
    }

    /// dst through this view += src (contiguous, in view order). Serial: views with zero strides
    /// map several source elements onto one destination.
    func scatterAdd(from src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        let len = rowLength, s = innerStride
        for row in 0..<rows {
            let to = dst + rowOffset(row), from = src + row * len
            for i in 0..<len { to[i * s] += from[i] }
        }
    }
}
