import Foundation

/// Geometry of two-colour images for the symmetry detector: the canonical form every image is
/// brought to before the decoy sees it (polarity, centre, scale), here, and measurements of *which
/// way* an image is symmetric (the order of its rotations, its mirror axes, the direction it is
/// invariant along), read off the pixels, in SymmetryMeasurement.swift.
///
/// Images are row-major 0/1 values, row 0 at the top. Angles are in degrees in [0, 180),
/// counter-clockwise from the image's rightward axis with y pointing up (as on paper).
public enum SymmetryGeometry {
    /// The canonical two-colour form of a `width` × `height` binary image, `size` × `size`:
    /// - polarity: the colour that covers less of the image border is the shape (1) — a shape sits
    ///   on its background — and where both cover the border alike (stripes), the rarer colour is,
    ///   so an image and its colour-inverted twin have the same canonical form;
    /// - centre: the square is centred on the shape's centroid (which lies on every mirror axis
    ///   and at every rotation centre of a symmetric shape), kept inside the image;
    /// - scale: the square's half-side is 1.08 × the shape's largest distance from the centroid
    ///   along x or y (at least 4 px, at most what the image holds), so small shapes are enlarged;
    /// - with `upright`, a shape clear of the border (≤ 5 % of the border is shape) is turned about
    ///   its centroid so that its best mirror axis (`orientation`) stands vertical: the classifier
    ///   then judges symmetry in one pose rather than in every one (turns under 3° are skipped, so
    ///   the form is stable when applied twice);
    /// then area-averaged to `size`, keeping the fill (`resample`).
    public static func canonical(
        _ pixels: [Float], width: Int, height: Int, size: Int, upright: Bool = false
    ) -> [Float] {
        precondition(
            pixels.count == width * height && width > 0 && height > 0 && size > 0,
            "SymmetryGeometry.canonical: bad dimensions")
        var p = pixels.map { $0 > 0.5 ? Float(1) : 0 }
        let (invert, borderFill) = polarity(p, width: width, height: height)
        if invert { p = p.map { 1 - $0 } }
        guard let (cx, cy) = centroid(p, width: width, height: height) else {
            return resample(p, width, height, x0: 0, y0: 0, side: Double(min(width, height)), size: size)
        }
        var turn = 0.0
        if upright, min(borderFill, 1 - borderFill) <= clearOfBorder {
            let probe = canonical(pixels, width: width, height: height, size: 48)
            let axis = bestMirrorAxis(probe, size: 48)
            turn = 90 - axis
            if abs(turn) < 3 { turn = 0 }
        }
        let (co, si) = (cos(turn * .pi / 180), sin(turn * .pi / 180))
        var extent = 0.0
        for r in 0..<height {
            for c in 0..<width where p[r * width + c] > 0 {
                // The offset in y-up coordinates, turned counter-clockwise by `turn`.
                let x = Double(c) + 0.5 - cx, y = cy - (Double(r) + 0.5)
                extent = max(extent, abs(co * x - si * y), abs(si * x + co * y))
            }
        }
        if turn != 0 {
            return resampleTurned(
                p, width, height, centre: (cx, cy), side: max(8, 2 * 1.08 * extent), degrees: turn, size: size)
        }
        let side = min(Double(min(width, height)), max(8, 2 * 1.08 * extent))
        let x0 = min(max(cx - side / 2, 0), Double(width) - side),
            y0 = min(max(cy - side / 2, 0), Double(height) - side)
        return resample(p, width, height, x0: x0, y0: y0, side: side, size: size)
    }

    /// The square of `side` centred at `centre`, turned counter-clockwise by `degrees`, read with
    /// 4 × 4 point samples per target pixel (outside the image: background), keeping the fill.
    static func resampleTurned(
        _ p: [Float], _ width: Int, _ height: Int, centre: (Double, Double), side: Double, degrees: Double, size: Int
    ) -> [Float] {
        let (co, si) = (cos(degrees * .pi / 180), sin(degrees * .pi / 180))
        var average = [Double](repeating: 0, count: size * size)
        let step = side / Double(size)
        for r in 0..<size {
            for c in 0..<size {
                var hits = 0
                for sy in 0..<4 {
                    for sx in 0..<4 {
                        // Target offset (y up), then the source offset it came from: turned back.
                        let x = (Double(c) + (Double(sx) + 0.5) / 4) * step - side / 2,
                            y = side / 2 - (Double(r) + (Double(sy) + 0.5) / 4) * step
                        let u = co * x + si * y, v = -si * x + co * y
                        let col = Int((centre.0 + u).rounded(.down)), row = Int((centre.1 - v).rounded(.down))
                        if col >= 0, row >= 0, col < width, row < height, p[row * width + col] > 0 { hits += 1 }
                    }
                }
                average[r * size + c] = Double(hits) / 16
            }
        }
        return keepFill(average)
    }

    /// Whether the 1s of a binary image are its background (see `canonical`), and the fraction of
    /// the border that is 1.
    static func polarity(_ p: [Float], width: Int, height: Int) -> (invert: Bool, borderFill: Double) {
        var border = 0.0, borderOnes = 0.0
        for r in 0..<height {
            for c in 0..<width where r == 0 || c == 0 || r == height - 1 || c == width - 1 {
                border += 1; borderOnes += Double(p[r * width + c])
            }
        }
        let onBorder = borderOnes / max(border, 1)
        if abs(onBorder - 0.5) > 0.1 { return (onBorder > 0.5, onBorder) }
        return (Double(p.reduce(0, +)) > 0.5 * Double(p.count), onBorder)
    }

    /// A shape is clear of the image border when at most this fraction of the border is shape: only
    /// then is it turned upright (`canonical`) or its holes filled (`filledShape`).
    static let clearOfBorder = 0.05

    /// A binary image with the shape as its 1s (`polarity`) and, when the shape is clear of the
    /// border, its holes filled: background pixels that no 4-connected path of background joins
    /// to the border become shape. A closed outline and the region it bounds have the same
    /// symmetries, and the region's survive a wobbly, thin or broken-up line far better (a drawn
    /// heart's outline agrees with its mirror image on few pixels). `canonical` finds the same
    /// polarity in the result (the border is never filled), so a caller that makes several forms
    /// of one image fills it once.
    public static func filledShape(_ binary: [Float], width: Int, height: Int) -> [Float] {
        let (invert, borderFill) = polarity(binary, width: width, height: height)
        let shape = invert ? binary.map { 1 - $0 } : binary
        return min(borderFill, 1 - borderFill) <= clearOfBorder
            ? filledHoles(shape, width: width, height: height) : shape
    }

    /// `shape` (1s) with every background region that does not reach the border filled; left as it
    /// was when that would leave less than a tenth of the image background. 4-connected background
    /// cannot leak through the diagonal steps of an 8-connected line.
    static func filledHoles(_ p: [Float], width: Int, height: Int) -> [Float] {
        var outside = [Bool](repeating: false, count: p.count)
        // Each pixel is pushed at most once; 32-bit indices (inputs are limited far below 2³¹ pixels).
        var stack: [Int32] = []
        func reach(_ j: Int) {
            if !outside[j] && p[j] == 0 { outside[j] = true; stack.append(Int32(j)) }
        }
        for c in 0..<width { reach(c); reach((height - 1) * width + c) }
        for r in 0..<height { reach(r * width); reach(r * width + width - 1) }
        while let top = stack.popLast() {
            let k = Int(top), r = k / width, c = k % width
            if r > 0 { reach(k - width) }
            if r < height - 1 { reach(k + width) }
            if c > 0 { reach(k - 1) }
            if c < width - 1 { reach(k + 1) }
        }
        let background = outside.reduce(0) { $0 + ($1 ? 1 : 0) }
        guard background * 10 >= p.count else { return p }
        return outside.map { $0 ? 0 : 1 }
    }

    /// Centroid of the 1s in pixel units (x from the left edge, y from the top edge); nil if none.
    public static func centroid(_ p: [Float], width: Int, height: Int) -> (Double, Double)? {
        var n = 0.0, sx = 0.0, sy = 0.0
        for r in 0..<height {
            for c in 0..<width where p[r * width + c] > 0.5 {
                n += 1; sx += Double(c) + 0.5; sy += Double(r) + 0.5
            }
        }
        return n > 0 ? (sx / n, sy / n) : nil
    }

    /// The square [x0, x0 + side] × [y0, y0 + side] of a binary image, area-averaged to size² and
    /// cut where the fill stays what it was: the round(fill · size²) brightest averages are set
    /// (a cut at ½ would erase lines thinner than half a target pixel — a Sierpinski triangle's).
    static func resample(
        _ p: [Float], _ width: Int, _ height: Int, x0: Double, y0: Double, side: Double, size: Int
    ) -> [Float] {
        var average = [Double](repeating: 0, count: size * size)
        let step = side / Double(size)
        for r in 0..<size {
            for c in 0..<size {
                let ya = y0 + Double(r) * step, yb = ya + step, xa = x0 + Double(c) * step, xb = xa + step
                var sum = 0.0, weight = 0.0
                var y = Int(ya.rounded(.down))
                while Double(y) < yb {
                    let wy = min(Double(y + 1), yb) - max(Double(y), ya)
                    var x = Int(xa.rounded(.down))
                    while Double(x) < xb {
                        let wx = min(Double(x + 1), xb) - max(Double(x), xa)
                        if x >= 0, y >= 0, x < width, y < height { sum += Double(p[y * width + x]) * wx * wy }
                        weight += wx * wy
                        x += 1
                    }
                    y += 1
                }
                average[r * size + c] = sum / max(weight, 1e-12)
            }
        }
        return keepFill(average)
    }

    /// The round(Σ average) largest averages set to 1, the rest 0.
    static func keepFill(_ average: [Double]) -> [Float] {
        let keep = Int((average.reduce(0, +)).rounded())
        var out = [Float](repeating: 0, count: average.count)
        guard keep > 0 else { return out }
        // Stable order: ties broken by position, so the result is deterministic.
        for i in average.indices.sorted(by: { average[$0] > average[$1] || (average[$0] == average[$1] && $0 < $1) })
            .prefix(keep) where average[i] > 0
        {
            out[i] = 1
        }
        return out
    }
}
