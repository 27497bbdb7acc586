import Foundation

/// Which way a two-colour image is symmetric, read off its pixels: agreement of the image with
/// itself under mirrors, turns and shifts (chance-corrected, in the disc about a shape's centroid or
/// in the window for a texture, relative to the pixel grid when asked), and what they add up to
/// (`orientation`). The canonical form these images are brought to is in SymmetryGeometry.swift.
extension SymmetryGeometry {
    /// What the pixels say about how an image is symmetric (measured about the shape's centroid).
    public struct Orientation: Codable, Equatable, Sendable {
        /// The order of the image's rotations: `bestOrder` when it agrees at least `threshold`, else
        /// 2 when the half-turn does; nil when neither does, or when the image is round.
        public var order: Int?
        /// Mirror axes, best first: local maxima of the mirror agreement over axes every degree.
        public var mirrorAxes: [Double]
        /// The direction the image is most nearly invariant along (the stripes' direction), and how
        /// strongly its edges line up with it (structure-tensor coherence, 0…1).
        public var translationDirection: Double
        public var translationCoherence: Double
        /// Agreement under rotations by irrational angles: near 1 for a round image.
        public var roundness: Double
        /// The n in 3…12 whose rotation agrees best (the largest of those within 0.03 of the best:
        /// C₆ also passes C₃'s test), and the axis whose mirror agrees best, with
        /// their agreements — what is reported when the classifier calls a symmetry the pixels
        /// only approximately have.
        public var bestOrder: Int
        public var bestOrderAgreement: Double
        public var bestAxis: Double
        public var bestAxisAgreement: Double
        /// The best axis within 10° of perpendicular to `bestAxis`, and its mirror agreement.
        public var perpendicularAxis: Double
        public var perpendicularAxisAgreement: Double
        /// Agreement under shifts along `translationDirection` by 15 % and 30 % of the side (the
        /// smaller), measured where the shifted image stays in the window; absent in measurements
        /// recorded before it was.
        public var translationAgreement: Double? = nil
    }

    /// Agreement at or above which a map counts as a symmetry of the image.
    public static let threshold = 0.75

    /// Where a map's agreement is measured. A shape on its background (`disc`): the largest disc
    /// about the centre that the image holds, what a map brings in from outside being background.
    /// A pattern that reaches the border (`window`: a texture, which goes on beyond the frame):
    /// only where a point and its image both lie inside the image, so that pattern a map moves out
    /// of the frame (a turn moves the corners out) is not counted against it.
    public enum Region: Sendable { case disc, window }

    /// The lattice agreement is read on: turned by an angle no probed map has and offset from the
    /// pixel centres, so that a point and its image are both bilinear reads, smoothed alike, at any
    /// axis angle (on the pixel centres the point is read exactly and its image smoothed, which
    /// costs an oblique mirror agreement it has).
    static let latticeTurn = 0.2318, latticeOffset = (0.37, 0.61)

    /// Chance-corrected agreement of a square binary image with itself under a map of the plane
    /// about (cx, cy) in pixel units, over `region`: 1 − mean |f − f∘g| / (2 m (1 − m)), m the
    /// region's fill — 1 when the map is a symmetry, about 0 for an unrelated image of the same
    /// fill. Both are read bilinearly on a turned lattice of one point per pixel (`latticeTurn`).
    /// In a `window` a map that keeps less than half of the image inside it agrees 0, and so does
    /// one whose kept part is a single colour.
    public static func agreement(
        _ p: [Float], size n: Int, centre: (Double, Double), region: Region = .disc,
        _ map: (Double, Double) -> (Double, Double)
    ) -> Double {
        agreement(BilinearRaster(p, size: n), centre: centre, region: region, map)
    }

    /// `agreement` on an image already made a `BilinearRaster` (the measurements make it once).
    static func agreement(
        _ raster: BilinearRaster, centre: (Double, Double), region: Region = .disc,
        _ map: (Double, Double) -> (Double, Double)
    ) -> Double {
        let n = raster.size
        let (cx, cy) = centre
        let radius = min(min(cx, Double(n) - cx), min(cy, Double(n) - cy))
        // In a window, far enough to reach every corner.
        let reach =
            region == .disc
            ? radius
            : max(
                hypot(cx, cy), hypot(Double(n) - cx, cy), hypot(cx, Double(n) - cy),
                hypot(Double(n) - cx, Double(n) - cy))
        let steps = Int(reach.rounded(.up)) + 1
        let (co, si) = (cos(latticeTurn), sin(latticeTurn))
        let lo = 0.5, hi = Double(n) - 0.5
        func inside(_ x: Double, _ y: Double) -> Bool { x >= lo && x <= hi && y >= lo && y <= hi }
        var diff = 0.0, count = 0.0, fill = 0.0
        for i in -steps...steps {
            for j in -steps...steps {
                let a = Double(i) + latticeOffset.0, b = Double(j) + latticeOffset.1
                let x = co * a - si * b, y = si * a + co * b  // y up, about the centre
                // The point's own test first: most of the lattice square lies outside the region,
                // and the map is only worth evaluating for points inside it.
                switch region {
                case .disc: guard x * x + y * y <= radius * radius else { continue }
                case .window: guard inside(cx + x, cy - y) else { continue }
                }
                let (u, v) = map(x, y)
                if region == .window, !inside(cx + u, cy - v) { continue }
                let value = raster.read(x: cx + x, y: cy - y)
                diff += abs(value - raster.read(x: cx + u, y: cy - v))
                fill += value; count += 1
            }
        }
        guard count > 0, region == .disc || count >= 0.5 * Double(n * n) else { return 0 }
        let m = fill / count
        // One colour all over the region: a shape's disc agrees with itself; a window that keeps
        // none of a pattern (a turn about a far centre can leave only background) shows nothing.
        guard m > 0, m < 1 else { return region == .disc ? 1 : 0 }
        return min(1, 1 - (diff / count) / (2 * m * (1 - m)))
    }

    /// Bilinear read at pixel-unit coordinates (outside the image: 0, the background): the
    /// reference for `BilinearRaster.read`, which the measurements use.
    static func sample(_ p: [Float], _ n: Int, x: Double, y: Double) -> Double {
        let fx = x - 0.5, fy = y - 0.5
        let x0 = Int(fx.rounded(.down)), y0 = Int(fy.rounded(.down))
        let ax = fx - Double(x0), ay = fy - Double(y0)
        func at(_ c: Int, _ r: Int) -> Double { c >= 0 && r >= 0 && c < n && r < n ? Double(p[r * n + c]) : 0 }
        return (at(x0, y0) * (1 - ax) + at(x0 + 1, y0) * ax) * (1 - ay)
            + (at(x0, y0 + 1) * (1 - ax) + at(x0 + 1, y0 + 1) * ax) * ay
    }

    /// Agreement under rotation by `degrees` about the centre.
    public static func rotationAgreement(
        _ p: [Float], size n: Int, centre: (Double, Double), degrees: Double, region: Region = .disc
    ) -> Double {
        isometryAgreement(.turn, BilinearRaster(p, size: n), centre: centre, degrees: degrees, region: region)
    }

    /// Agreement under the mirror in the axis through the centre at `degrees`.
    public static func mirrorAgreement(
        _ p: [Float], size n: Int, centre: (Double, Double), degrees: Double, region: Region = .disc
    ) -> Double {
        isometryAgreement(.mirror, BilinearRaster(p, size: n), centre: centre, degrees: degrees, region: region)
    }

    /// The maps the measurements probe about a centre: a turn by an angle, or the mirror in the axis
    /// at an angle.
    enum Isometry { case turn, mirror }

    /// `rotationAgreement` or `mirrorAgreement` on an image already made a `BilinearRaster`.
    static func isometryAgreement(
        _ kind: Isometry, _ raster: BilinearRaster, centre: (Double, Double), degrees: Double,
        region: Region = .disc
    ) -> Double {
        switch kind {
        case .turn:
            let a = degrees * .pi / 180, (co, si) = (cos(a), sin(a))
            return agreement(raster, centre: centre, region: region) { x, y in (co * x - si * y, si * x + co * y) }
        case .mirror:
            let a = 2 * degrees * .pi / 180, (co, si) = (cos(a), sin(a))
            return agreement(raster, centre: centre, region: region) { x, y in (co * x + si * y, si * x - co * y) }
        }
    }

    /// How a square binary image (in canonical form: the shape's centroid near the centre) is
    /// symmetric. A shape clear of the border is measured about its centroid (which lies on every
    /// mirror axis and at every rotation centre of a symmetric shape) over the disc about it; a
    /// pattern that reaches the border (`isTexture`) in the `window`, about the best centre near
    /// the middle for each turn and the best offset for each mirror axis (the centroid of a cut-off
    /// pattern is not its centre).
    ///
    /// With `relativeToGrid` every agreement is divided by the image's `gridCeiling`, so that an
    /// exact symmetry measures about 1 however fine the pattern is (reported values are capped at 1).
    public static func orientation(_ binary: [Float], size n: Int, relativeToGrid: Bool = false) -> Orientation {
        let (p, centre) = prepared(binary, n)
        let raster = BilinearRaster(p, size: n)
        let texture = isTexture(binary, size: n)
        let region: Region = texture ? .window : .disc
        let ceiling = relativeToGrid ? gridCeiling(raster, centre: texture ? nil : centre) : 1
        func turn(_ degrees: Double) -> (agreement: Double, centre: (Double, Double)) {
            let best: (agreement: Double, centre: (Double, Double)) =
                texture
                ? bestCentre(n) { isometryAgreement(.turn, raster, centre: $0, degrees: degrees, region: .window) }
                : (isometryAgreement(.turn, raster, centre: centre, degrees: degrees), centre)
            return (best.agreement / ceiling, best.centre)
        }
        let round = turn(61)
        let roundness = min(
            round.agreement,
            [23.0, 113.0].map {
                isometryAgreement(.turn, raster, centre: round.centre, degrees: $0, region: region) / ceiling
            }.min()!)
        let (scan, axes) = mirrorScan(raster, centre, texture: texture, ceiling: ceiling)
        let (direction, coherence) = stripeDirection(p, size: n)
        let orders = (3...12).map { (n: $0, agreement: turn(360 / Double($0)).agreement) }
        // Among orders that agree almost as well as the best, the largest (C₆ also passes C₃'s test).
        let top = orders.map(\.agreement).max()!
        let bestOrder = orders.filter { $0.agreement >= top - 0.03 }.map(\.n).max()!
        let bestOrderAgreement = orders.first { $0.n == bestOrder }!.agreement
        var order: Int?
        if roundness < threshold {
            order =
                bestOrderAgreement >= threshold
                ? bestOrder
                : turn(180).agreement >= threshold ? 2 : nil
        }
        let best = bestDegree(scan)
        let perpendicular = (-10...10).map { (best + 90 + $0 + 180) % 180 }.max { scan[$0] < scan[$1] }!
        func tenth(_ v: Double) -> Double { (v * 10).rounded() / 10 }
        // Relative to the grid a symmetry can measure a little over 1; it is reported as 1.
        func capped(_ v: Double) -> Double { min(1, v) }
        return Orientation(
            order: order, mirrorAxes: roundness >= threshold ? [] : axes.map { tenth($0.angle) },
            translationDirection: tenth(direction), translationCoherence: coherence, roundness: capped(roundness),
            bestOrder: bestOrder, bestOrderAgreement: capped(bestOrderAgreement),
            bestAxis: tenth(bestAxis(axes, scan)), bestAxisAgreement: capped(scan[best]),
            perpendicularAxis: Double(perpendicular), perpendicularAxisAgreement: capped(scan[perpendicular]),
            translationAgreement: capped(shiftAgreement(raster, degrees: direction) / ceiling))
    }

    /// The shift, in pixels, whose agreement is the pixel grid's own ceiling (`gridCeiling`): half a
    /// pixel, about what rasterising costs an exact symmetry (its edges are off by up to ½ px at a
    /// point and, independently, at its image: on average ⅓ px across the edge, which a shift by
    /// (π/2)·⅓ ≈ 0.52 px in a random direction matches).
    static let gridShift = 0.5

    /// The agreement of a blurred image with itself moved by `gridShift` px (the mean over four
    /// directions), at least ½: what the pixel grid alone costs an exact symmetry. An edge sits up to
    /// half a pixel from the figure's true outline, independently at a point and at its image under
    /// a symmetry, so a fine pattern (thin lines, motifs a few pixels across) agrees with its exact
    /// symmetries well below 1, a coarse one barely below; measured against this ceiling both come
    /// out near 1. A shape is measured over the disc about its `centre`, a texture (nil) in the window.
    static func gridCeiling(_ raster: BilinearRaster, centre: (Double, Double)?) -> Double {
        let mid = Double(raster.size) / 2
        let shifts = [0.0, 45, 90, 135].map { degrees in
            let (dx, dy) = (gridShift * cos(degrees * .pi / 180), gridShift * sin(degrees * .pi / 180))
            return agreement(raster, centre: centre ?? (mid, mid), region: centre == nil ? .window : .disc) {
                x, y in (x + dx, y + dy)
            }
        }
        return max(0.5, shifts.reduce(0, +) / Double(shifts.count))
    }

    /// Agreement under shifts along `degrees` by 15 % and 30 % of the side, the smaller, in the window.
    static func shiftAgreement(_ raster: BilinearRaster, degrees: Double) -> Double {
        let n = raster.size
        let (dx, dy) = (cos(degrees * .pi / 180), sin(degrees * .pi / 180)), mid = Double(n) / 2
        return [0.15, 0.3].map { f in
            agreement(raster, centre: (mid, mid), region: .window) { x, y in
                (x + f * Double(n) * dx, y + f * Double(n) * dy)
            }
        }.min()!
    }

    /// Whether a canonical image is a pattern that reaches its border (more than 2 % of the border
    /// is shape) rather than a shape on its background.
    public static func isTexture(_ binary: [Float], size n: Int) -> Bool {
        var ones = 0.0
        for k in 0..<n {
            ones += Double(binary[k] + binary[(n - 1) * n + k] + binary[k * n] + binary[k * n + n - 1])
        }
        return ones / Double(4 * n) > 0.02
    }

    /// How far from the middle (a fraction of the side) a texture's centre or axis is looked for.
    static let searchReach = 0.2

    /// The best of `agreement` over centres within `searchReach` of the middle: a grid every
    /// 3 px, then every pixel about the best.
    static func bestCentre(
        _ n: Int, _ agreement: ((Double, Double)) -> Double
    ) -> (agreement: Double, centre: (Double, Double)) {
        let mid = Double(n) / 2, reach = Int((searchReach * Double(n)).rounded())
        var best = (agreement: -Double.infinity, centre: (mid, mid))
        for dx in stride(from: -reach, through: reach, by: 3) {
            for dy in stride(from: -reach, through: reach, by: 3) {
                let c = (mid + Double(dx), mid + Double(dy)), a = agreement(c)
                if a > best.agreement { best = (a, c) }
            }
        }
        let coarse = best.centre
        for dx in -2...2 {
            for dy in -2...2 where dx != 0 || dy != 0 {
                let c = (coarse.0 + Double(dx), coarse.1 + Double(dy)), a = agreement(c)
                if a > best.agreement { best = (a, c) }
            }
        }
        return best
    }

    /// The image as it is compared (after a 3 × 3 binomial blur: a quarter turn maps the pixel grid
    /// onto itself and other angles do not, and unblurred edges would favour the orders 2 and 4)
    /// and the shape's centroid, about which every map is taken.
    static func prepared(_ binary: [Float], _ n: Int) -> (blurred: [Float], centre: (Double, Double)) {
        (blurred(binary, n), centroid(binary, width: n, height: n) ?? (Double(n) / 2, Double(n) / 2))
    }

    /// Mirror agreement for axes every degree, and the axes that agree at least `threshold` and
    /// more than their neighbours (refined between the degrees), best first. A shape's axes pass
    /// through `centre`; a texture's through any point within `searchReach` of the middle (each
    /// angle's best offset, every 2 px, then every half pixel for the best angles).
    static func mirrorScan(
        _ raster: BilinearRaster, _ centre: (Double, Double), texture: Bool = false, ceiling: Double = 1
    ) -> (scan: [Double], axes: [(angle: Double, agreement: Double)]) {
        let n = raster.size
        var scan: [Double]
        if texture {
            let mid = Double(n) / 2, reach = searchReach * Double(n)
            func at(_ degrees: Int, _ offset: Double) -> Double {
                // The axis through the middle moved by `offset` along its normal (y up).
                let a = Double(degrees) * .pi / 180
                let c = (mid - offset * sin(a), mid - offset * cos(a))
                return isometryAgreement(.mirror, raster, centre: c, degrees: Double(degrees), region: .window)
            }
            var offsets = [Double](repeating: 0, count: 180)
            scan = (0..<180).map { k in
                var best = -Double.infinity
                for d in stride(from: -reach, through: reach, by: 2) {
                    let a = at(k, d)
                    if a > best { best = a; offsets[k] = d }
                }
                return best
            }
            for k in scan.indices.sorted(by: { scan[$0] > scan[$1] }).prefix(12) {
                for d in stride(from: offsets[k] - 1.5, through: offsets[k] + 1.5, by: 0.5) {
                    scan[k] = max(scan[k], at(k, d))
                }
            }
        } else {
            scan = (0..<180).map { isometryAgreement(.mirror, raster, centre: centre, degrees: Double($0)) }
        }
        scan = scan.map { $0 / ceiling }
        var axes: [(angle: Double, agreement: Double)] = []
        for k in 0..<180 where scan[k] >= threshold && scan[k] >= scan[(k + 179) % 180] && scan[k] > scan[(k + 1) % 180]
        {
            // Parabolic refinement between the neighbouring degrees.
            let (a, b, c) = (scan[(k + 179) % 180], scan[k], scan[(k + 1) % 180])
            let denominator = a - 2 * b + c
            let offset = abs(denominator) > 1e-12 ? min(max(0.5 * (a - c) / denominator, -0.5), 0.5) : 0
            axes.append(((Double(k) + offset + 180).truncatingRemainder(dividingBy: 180), b))
        }
        axes.sort { $0.agreement > $1.agreement }
        return (scan, axes)
    }

    static func bestDegree(_ scan: [Double]) -> Int { scan.indices.max { scan[$0] < scan[$1] }! }

    /// The best refined axis, or the best degree when no axis reaches the threshold.
    static func bestAxis(_ axes: [(angle: Double, agreement: Double)], _ scan: [Double]) -> Double {
        axes.first?.angle ?? Double(bestDegree(scan))
    }

    /// `orientation(binary, size: n).bestAxis`, without the rest of the measurement.
    public static func bestMirrorAxis(_ binary: [Float], size n: Int) -> Double {
        let (p, centre) = prepared(binary, n)
        let (scan, axes) = mirrorScan(BilinearRaster(p, size: n), centre, texture: isTexture(binary, size: n))
        return (bestAxis(axes, scan) * 10).rounded() / 10
    }

    static func blurred(_ p: [Float], _ n: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n * n)
        let w: [Float] = [0.25, 0.5, 0.25]
        for r in 0..<n {
            for c in 0..<n {
                var s: Float = 0
                for dr in -1...1 {
                    for dc in -1...1 {
                        let rr = r + dr, cc = c + dc
                        if rr >= 0, cc >= 0, rr < n, cc < n { s += w[dr + 1] * w[dc + 1] * p[rr * n + cc] }
                    }
                }
                out[r * n + c] = s
            }
        }
        return out
    }

    /// The direction of least change (structure tensor of central differences): the stripes' direction.
    static func stripeDirection(_ p: [Float], size n: Int) -> (degrees: Double, coherence: Double) {
        var jxx = 0.0, jyy = 0.0, jxy = 0.0
        for r in 1..<(n - 1) {
            for c in 1..<(n - 1) {
                let gx = Double(p[r * n + c + 1] - p[r * n + c - 1]) / 2
                let gy = Double(p[(r - 1) * n + c] - p[(r + 1) * n + c]) / 2  // y up
                jxx += gx * gx; jyy += gy * gy; jxy += gx * gy
            }
        }
        let trace = jxx + jyy
        guard trace > 0 else { return (0, 0) }
        let coherence = ((jxx - jyy) * (jxx - jyy) + 4 * jxy * jxy).squareRoot() / trace
        // The gradients' dominant direction is across the stripes; the stripes run at 90° to it.
        let normal = 0.5 * atan2(2 * jxy, jxx - jyy) * 180 / .pi
        return ((normal + 90 + 360).truncatingRemainder(dividingBy: 180), coherence)
    }
}
