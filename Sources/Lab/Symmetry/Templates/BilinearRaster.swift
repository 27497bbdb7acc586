/// A square image as the symmetry measurements read it, bilinearly at pixel-unit coordinates, with
/// the background (0) outside it: the hot inner read of every agreement (millions per texture).
///
/// The values are kept in Double with a zero border of `pad` pixels, so a read near the image needs
/// no per-corner bounds test and no call to `floor`; a read farther out has all four corners off the
/// image and is 0. Every read reproduces the reference `SymmetryGeometry.sample` bit for bit.
struct BilinearRaster: Sendable {
    /// Zero pixels kept around the image: every read of the measurements lands within it (a disc's
    /// points and images lie within half a pixel of the image, a grid shift adds half a pixel).
    static let pad = 3
    let size: Int
    let width: Int
    let values: [Double]

    init(_ p: [Float], size n: Int) {
        precondition(p.count == n * n, "BilinearRaster: \(p.count) values for a \(n)×\(n) image")
        let w = n + 2 * Self.pad
        var v = [Double](repeating: 0, count: w * w)
        for r in 0..<n {
            for c in 0..<n { v[(r + Self.pad) * w + c + Self.pad] = Double(p[r * n + c]) }
        }
        size = n; width = w; values = v
    }

    /// The bilinear read at (x, y), pixel centres at half-integers: `SymmetryGeometry.sample`'s value.
    @inline(__always)
    func read(x: Double, y: Double) -> Double {
        let fx = x - 0.5, fy = y - 0.5
        // floor, without the library call (exact: a Double that converts to Int is an integer).
        var x0 = Int(fx), y0 = Int(fy)
        if Double(x0) > fx { x0 -= 1 }
        if Double(y0) > fy { y0 -= 1 }
        let pad = Self.pad
        // Beyond the border both columns (or both rows) of the read lie off the image.
        guard x0 >= -pad, y0 >= -pad, x0 < size + pad - 1, y0 < size + pad - 1 else { return 0 }
        let ax = fx - Double(x0), ay = fy - Double(y0), w = width
        return values.withUnsafeBufferPointer { v in
            let k = (y0 + pad) * w + x0 + pad
            return (v[k] * (1 - ax) + v[k + 1] * ax) * (1 - ay) + (v[k + w] * (1 - ax) + v[k + w + 1] * ax) * ay
        }
    }
}
