import Engine
import Foundation

/// Two-colour shapes with exactly known symmetry, the second half of the detector's training data
/// beside the potentials of `SymmetryTemplates`: random pieces (polygons, ellipses, strokes) made
/// symmetric by taking their union over the group's elements, and the plain shapes people draw —
/// discs, rings, regular polygons and stars, rectangles, ellipses, stripes — at random position,
/// scale, rotation, stroke or fill, and polarity.
///
/// What a class means when an image has several symmetries (the largest group names it):
/// - `rotation`: every rotation about a point (O(2): discs, rings; they also have every mirror);
/// - `discrete_rotation`: rotations by 360°/n, n ≥ 3, with or without n mirrors (Cₙ or Dₙ:
///   regular polygons, stars, a square);
/// - `reflection_both`: two perpendicular mirrors and the half-turn, nothing more (D₂: rectangles,
///   ellipses, H, X);
/// - `reflection`: one mirror only (A, T, V, hearts, arrows);
/// - `translation`: invariance along one direction (stripes; they also have mirrors);
/// - `none`: none of these.
/// A half-turn alone (S, Z, N) is not a class of its own; such images are not drawn.
public struct SymmetryShapes: Sendable {
    /// Side of the shapes' pixel grid, in canonical form (`SymmetryGeometry.canonical`).
    public var size: Int
    /// Side of the square they are rendered on first.
    public var renderSize: Int
    /// Canonical form turned upright (`SymmetryGeometry.canonical(upright:)`), from the rendering.
    public var upright: Bool
    /// Which families are drawn: 1, the first (group-symmetrised pieces, plain shapes, stripes);
    /// 2 adds frame-filling fields and stroke glyphs (`SymmetryFields`) to the first's.
    public var generation: Int
    public init(size: Int = 32, renderSize: Int = 64, upright: Bool = false, generation: Int = 1) {
        self.size = size; self.renderSize = renderSize; self.upright = upright; self.generation = generation
    }

    /// A piece of a shape in the plane: filled, or drawn as a stroke of `width`.
    enum Piece: Sendable {
        case polygon([(Double, Double)])
        case ellipse(cx: Double, cy: Double, a: Double, b: Double, angle: Double)
        case polyline([(Double, Double)], width: Double)

        func contains(_ x: Double, _ y: Double, stroke: Double?) -> Bool {
            switch self {
            case .polygon(let pts):
                if let w = stroke { return distanceToOutline(pts, closed: true, x, y) < w / 2 }
                return insidePolygon(pts, x, y)
            case let .ellipse(cx, cy, a, b, angle):
                let (co, si) = (cos(angle), sin(angle))
                let u = co * (x - cx) + si * (y - cy), v = -si * (x - cx) + co * (y - cy)
                func inside(_ d: Double) -> Bool {
                    let (ea, eb) = (a + d, b + d);
                    return ea > 0 && eb > 0 && (u * u) / (ea * ea) + (v * v) / (eb * eb) <= 1
                }
                if let w = stroke { return inside(w / 2) && !inside(-w / 2) }
                return inside(0)
            case let .polyline(pts, width):
                return distanceToOutline(pts, closed: false, x, y) < width / 2
            }
        }
    }

    static func insidePolygon(_ pts: [(Double, Double)], _ x: Double, _ y: Double) -> Bool {
        var inside = false
        var j = pts.count - 1
        for i in pts.indices {
            let (xi, yi) = pts[i], (xj, yj) = pts[j]
            if (yi > y) != (yj > y), x < (xj - xi) * (y - yi) / (yj - yi) + xi { inside.toggle() }
            j = i
        }
        return inside
    }

    static func distanceToOutline(_ pts: [(Double, Double)], closed: Bool, _ x: Double, _ y: Double) -> Double {
        var best = Double.infinity
        let segments = closed ? pts.count : pts.count - 1
        for i in 0..<segments {
            let (ax, ay) = pts[i], (bx, by) = pts[(i + 1) % pts.count]
            let (dx, dy) = (bx - ax, by - ay)
            let t = max(0, min(1, ((x - ax) * dx + (y - ay) * dy) / max(dx * dx + dy * dy, 1e-12)))
            best = min(best, hypot(x - ax - t * dx, y - ay - t * dy))
        }
        return best
    }

    /// A group as orthogonal 2 × 2 maps (a, b, c, d): (x, y) → (a x + b y, c x + d y).
    static func rotations(_ n: Int) -> [(Double, Double, Double, Double)] {
        (0..<n).map { k in
            let t = 2 * Double.pi * Double(k) / Double(n); return (cos(t), -sin(t), sin(t), cos(t))
        }
    }
    static func mirror(_ phi: Double) -> (Double, Double, Double, Double) {
        (cos(2 * phi), sin(2 * phi), sin(2 * phi), -cos(2 * phi))
    }
    static func dihedral(_ n: Int, axis phi: Double) -> [(Double, Double, Double, Double)] {
        let m = mirror(phi)
        return rotations(n)
            + rotations(n).map { r in
                (r.0 * m.0 + r.1 * m.2, r.0 * m.1 + r.1 * m.3, r.2 * m.0 + r.3 * m.2, r.2 * m.1 + r.3 * m.3)
            }
    }

    func uniform(_ rng: inout PRNG, _ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(rng.nextFloat()) }

    /// A random piece near `(cx, cy)` of about `scale` across.
    func randomPiece(_ rng: inout PRNG, cx: Double, cy: Double, scale: Double) -> Piece {
        switch rng.nextInt(3) {
        case 0:
            let k = 3 + rng.nextInt(5), start = uniform(&rng, 0, 2 * .pi)
            let pts = (0..<k).map { i -> (Double, Double) in
                let a = start + 2 * .pi * (Double(i) + uniform(&rng, -0.3, 0.3)) / Double(k),
                    r = scale * uniform(&rng, 0.35, 1)
                return (cx + r * cos(a), cy + r * sin(a))
            }
            return .polygon(pts)
        case 1:
            return .ellipse(
                cx: cx, cy: cy, a: scale * uniform(&rng, 0.3, 1), b: scale * uniform(&rng, 0.15, 0.6),
                angle: uniform(&rng, 0, .pi))
        default:
            let k = 2 + rng.nextInt(3)
            var pts = [(cx, cy)]
            for _ in 1..<k {
                let a = uniform(&rng, 0, 2 * .pi), l = scale * uniform(&rng, 0.6, 1.6)
                pts.append((pts.last!.0 + l * cos(a), pts.last!.1 + l * sin(a)))
            }
            return .polyline(pts, width: uniform(&rng, 0.08, 0.25))
        }
    }

    /// A closed outline r(θ) = 1 + Σ aₖ cos k(θ − axis) (+ bₖ sin k(θ − axis) unless `mirrored`)
    /// over the harmonics k given, scaled to fit: harmonics that are multiples of n make it Cₙ, cosines
    /// alone add the mirror in `axis` (and, with them, n mirrors).
    func contour(_ rng: inout PRNG, harmonics: [Int], mirrored: Bool, axis: Double) -> Piece {
        let terms = harmonics.map { k in
            (
                k, uniform(&rng, -0.45, 0.45) / Double(k).squareRoot(),
                mirrored ? 0 : uniform(&rng, -0.45, 0.45) / Double(k).squareRoot()
            )
        }
        let radii = (0..<180).map { i -> Double in
            let t = 2 * Double.pi * Double(i) / 180 - axis
            return max(0.15, 1 + terms.reduce(0) { $0 + $1.1 * cos(Double($1.0) * t) + $1.2 * sin(Double($1.0) * t) })
        }
        let top = radii.max()!
        return .polygon(
            radii.enumerated().map { i, r in
                let a = 2 * Double.pi * Double(i) / 180; return (r / top * cos(a), r / top * sin(a))
            })
    }

    /// Renders the union over `group` of `pieces` (in a frame scaled by `scale` and shifted by
    /// `offset`), 2 × 2 supersampled; a pixel is set when at least two of its samples are inside.
    func render(
        _ pieces: [Piece], group: [(Double, Double, Double, Double)], stroke: Double?, scale: Double,
        offset: (Double, Double)
    ) -> [Float] {
        let size = renderSize
        var out = [Float](repeating: 0, count: size * size)
        let h = 2 / Double(size)
        for r in 0..<size {
            for c in 0..<size {
                var hits = 0
                for (sx, sy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                    let x = (-1 + (Double(c) + sx) * h - offset.0) / scale,
                        y = (1 - (Double(r) + sy) * h - offset.1) / scale
                    if group.contains(where: { g in
                        pieces.contains { $0.contains(g.0 * x + g.1 * y, g.2 * x + g.3 * y, stroke: stroke) }
                    }) {
                        hits += 1
                    }
                }
                if hits >= 2 { out[r * size + c] = 1 }
            }
        }
        return out
    }

    /// A shape of class `c`. Candidates whose pixels show a symmetry their class excludes (or lack
    /// the one it needs) are drawn again (up to 30 times; `SymmetryGeometry.orientation` judges).
    public func shape(_ c: SymmetryClass, rng: inout PRNG) -> SymmetryTemplates.Template {
        var last: SymmetryTemplates.Template?
        // Second generation: a quarter of the shapes are fields, and a third of the one-mirror and
        // `none` shapes stroke glyphs. A field's frame breaks its symmetry near the border by
        // design, so only `none` fields are checked (they must not look symmetric).
        let family = generation >= 2 ? rng.nextInt(12) : 12
        for _ in 0..<30 {
            let t: SymmetryTemplates.Template
            let isField = family < 3
            if isField {
                t = field(c, rng: &rng)
            } else if family < 7, c == .reflection || c == .none {
                t = strokeGlyph(c, rng: &rng)
            } else {
                t = candidate(c, rng: &rng)
            }
            last = t
            if t.pixels.contains(1), t.pixels.contains(0), (isField && c != .none) || accepts(t) { break }
        }
        var t = last!
        t.pixels = SymmetryGeometry.canonical(
            t.pixels, width: renderSize, height: renderSize, size: size, upright: upright)
        return t
    }

    /// Whether a candidate's pixels show what its class says, and no more.
    func accepts(_ t: SymmetryTemplates.Template) -> Bool {
        let canonical = SymmetryGeometry.canonical(t.pixels, width: renderSize, height: renderSize, size: 48)
        let fill = Double(canonical.reduce(0, +)) / Double(canonical.count)
        guard fill > 0.04, fill < 0.96 else { return false }
        let o = SymmetryGeometry.orientation(canonical, size: 48)
        let round = o.roundness >= SymmetryGeometry.threshold
        switch t.symmetry {
        case .rotation: return round
        case .discreteRotation: return !round && (o.order ?? 0) >= 3
        case .reflectionBoth: return !round && (o.order ?? 0) < 3 && o.mirrorAxes.count == 2
        case .reflection: return !round && o.order == nil && o.mirrorAxes.count == 1
        case .translation: return o.translationCoherence > 0.8
        case .none:
            // Off every symmetry the classes name. Generic shapes reach 0.7–0.85 on the blurred,
            // chance-corrected agreement (drawn exact symmetries ≥ 0.9): `none` must cover them.
            let centre = SymmetryGeometry.centroid(canonical, width: 48, height: 48)!
            let bestMirror = stride(from: 0.0, to: 180, by: 3).map {
                SymmetryGeometry.mirrorAgreement(canonical, size: 48, centre: centre, degrees: $0)
            }.max()!
            let bestRotation = (2...8).map {
                SymmetryGeometry.rotationAgreement(canonical, size: 48, centre: centre, degrees: 360 / Double($0))
            }.max()!
            return max(bestMirror, bestRotation, o.roundness) < 0.85 && o.translationCoherence < 0.7
        }
    }

    // Long: one case per shape family, each a few lines; splitting would scatter the families.
    func candidate(_ c: SymmetryClass, rng: inout PRNG) -> SymmetryTemplates.Template {
        let scale = uniform(&rng, 0.45, 0.95)
        let offset = (uniform(&rng, -1, 1) * (1 - scale) * 0.6, uniform(&rng, -1, 1) * (1 - scale) * 0.6)
        let stroke: Double? = rng.nextInt(3) == 0 ? uniform(&rng, 0.08, 0.22) : nil
        let phi = uniform(&rng, 0, .pi)
        var pieces: [Piece] = [], group: [(Double, Double, Double, Double)] = [(1, 0, 0, 1)]
        var what = "", order: Int?, axes: [Double] = []
        func around(_ count: Int, radius: ClosedRange<Double>, size s: ClosedRange<Double>) -> [Piece] {
            (0..<count).map { _ in
                let a = uniform(&rng, 0, 2 * .pi), r = uniform(&rng, radius.lowerBound, radius.upperBound)
                return randomPiece(
                    &rng, cx: r * cos(a), cy: r * sin(a), scale: uniform(&rng, s.lowerBound, s.upperBound))
            }
        }
        switch c {
        case .rotation:
            let r1 = uniform(&rng, 0.3, 1)
            switch rng.nextInt(3) {
            case 0: pieces = [.ellipse(cx: 0, cy: 0, a: r1, b: r1, angle: 0)]; what = "disc"
            case 1:
                let w = uniform(&rng, 0.1, 0.5) * r1
                pieces = [.ellipse(cx: 0, cy: 0, a: r1 - w / 2, b: r1 - w / 2, angle: 0)]
                return finish(
                    c, render(pieces, group: group, stroke: w, scale: scale, offset: offset), "ring", nil, [], &rng)
            default:
                let rings = 2 + rng.nextInt(3), w = r1 / Double(2 * rings + 1)
                pieces = (1...rings).map { k in
                    .ellipse(cx: 0, cy: 0, a: Double(2 * k) * w, b: Double(2 * k) * w, angle: 0)
                }
                let px = render(pieces, group: group, stroke: w, scale: scale, offset: offset)
                let dot =
                    rng.nextInt(2) == 0
                    ? render(
                        [.ellipse(cx: 0, cy: 0, a: w, b: w, angle: 0)], group: group, stroke: nil, scale: scale,
                        offset: offset) : px.map { _ in 0 }
                return finish(c, zip(px, dot).map { max($0, $1) }, "\(rings) concentric rings", nil, [], &rng)
            }
        case .discreteRotation:
            let n = 3 + rng.nextInt(6)
            order = n
            let phase = uniform(&rng, 0, 2 * .pi)
            switch rng.nextInt(5) {
            case 4:
                let mirrored = rng.nextInt(2) == 0
                pieces = [contour(&rng, harmonics: [n, 2 * n], mirrored: mirrored, axis: phase)]
                what = (mirrored ? "D" : "C") + "\(n) outline"
                if mirrored { axes = (0..<n).map { phase + Double.pi * Double($0) / Double(n) } }
            case 0:
                pieces = [
                    .polygon(
                        (0..<n).map { k in
                            let a = phase + 2 * .pi * Double(k) / Double(n); return (cos(a), sin(a))
                        })
                ]
                what = "regular \(n)-gon"
                axes = (0..<n).map { phase + Double.pi * Double($0) / Double(n) }
            case 1:
                let inner = uniform(&rng, 0.3, 0.7)
                pieces = [
                    .polygon(
                        (0..<(2 * n)).map { k in
                            let a = phase + .pi * Double(k) / Double(n), r = k % 2 == 0 ? 1 : inner;
                            return (r * cos(a), r * sin(a))
                        })
                ]
                what = "\(n)-pointed star"
                axes = (0..<n).map { phase + Double.pi * Double($0) / Double(n) }
            case 2:
                pieces = around(1 + rng.nextInt(2), radius: 0.25...0.6, size: 0.2...0.45)
                group = Self.rotations(n); what = "C\(n) union of pieces"
            default:
                pieces = around(1 + rng.nextInt(2), radius: 0.25...0.6, size: 0.2...0.45)
                group = Self.dihedral(n, axis: phi); what = "D\(n) union of pieces"
                axes = (0..<n).map { phi + Double.pi * Double($0) / Double(n) }
            }
        case .reflectionBoth:
            group = Self.dihedral(2, axis: phi)
            axes = [phi, phi + .pi / 2]
            let a = uniform(&rng, 0.5, 1), b = a / uniform(&rng, 1.4, 3)
            switch rng.nextInt(5) {
            case 4:
                pieces = [contour(&rng, harmonics: [2, 4, 6], mirrored: true, axis: phi)]; group = [(1, 0, 0, 1)];
                what = "D2 outline"
            case 0:
                pieces = [.polygon([(a, b), (-a, b), (-a, -b), (a, -b)].map { rotate($0, phi) })];
                group = [(1, 0, 0, 1)]; what = "rectangle"
            case 1: pieces = [.ellipse(cx: 0, cy: 0, a: a, b: b, angle: phi)]; group = [(1, 0, 0, 1)]; what = "ellipse"
            case 2:
                pieces = [.polygon([(a, 0), (0, b), (-a, 0), (0, -b)].map { rotate($0, phi) })]; group = [(1, 0, 0, 1)];
                what = "rhombus"
            default:
                pieces = around(1 + rng.nextInt(3), radius: 0.15...0.65, size: 0.15...0.45); what = "D2 union of pieces"
            }
        case .reflection:
            group = [(1, 0, 0, 1), Self.mirror(phi)]
            axes = [phi]
            if rng.nextInt(2) == 0 {
                pieces = [contour(&rng, harmonics: [1, 2, 3, 4, 5], mirrored: true, axis: phi)]; group = [(1, 0, 0, 1)];
                what = "one-mirror outline"
            } else {
                pieces = around(1 + rng.nextInt(3), radius: 0.1...0.6, size: 0.15...0.5)
                what = "pieces mirrored in one axis"
            }
        case .translation:
            // Stripes run along phi: the pattern depends only on the coordinate across them.
            let (nx, ny) = (-sin(phi), cos(phi))
            var edges: [Double] = []
            var u = -2 - uniform(&rng, 0, 1)
            let halfPeriod = rng.nextInt(2) == 0 ? uniform(&rng, 0.1, 0.4) : nil
            while u < 2 { u += halfPeriod ?? uniform(&rng, 0.08, 0.6); edges.append(u) }
            if rng.nextInt(5) == 0 {
                edges = [uniform(&rng, -0.4, 0.4)] + (rng.nextInt(2) == 0 ? [uniform(&rng, 0.5, 0.9)] : [3])
            }
            let n = renderSize, h = 2 / Double(n)
            var px = [Float](repeating: 0, count: n * n)
            for r in 0..<n {
                for col in 0..<n {
                    let x = -1 + (Double(col) + 0.5) * h, y = 1 - (Double(r) + 0.5) * h
                    let across = x * nx + y * ny
                    px[r * n + col] = edges.filter { $0 < across }.count % 2 == 0 ? 1 : 0
                }
            }
            return finish(
                c, px,
                halfPeriod != nil
                    ? "periodic stripes" : (edges.count <= 2 ? "band or edge" : "stripes of random widths"), nil, [],
                &rng, direction: phi)
        case .none:
            switch rng.nextInt(3) {
            case 0:
                pieces = [contour(&rng, harmonics: [1, 2, 3, 4, 5], mirrored: false, axis: phi)];
                what = "generic outline"
            case 1:
                let k = 4 + rng.nextInt(6)
                let angles = (0..<k).map { _ in uniform(&rng, 0, 2 * .pi) }.sorted()
                pieces = [
                    .polygon(
                        angles.map { a in
                            let r = uniform(&rng, 0.3, 1); return (r * cos(a), r * sin(a))
                        })
                ]
                what = "random \(k)-gon"
            default:
                let count = 1 + rng.nextInt(3)
                pieces = (0..<count).map { _ in
                    randomPiece(
                        &rng, cx: uniform(&rng, -0.5, 0.5), cy: uniform(&rng, -0.5, 0.5),
                        scale: uniform(&rng, 0.25, 0.6))
                }
                what = "\(count) random pieces"
            }
        }
        return finish(
            c, render(pieces, group: group, stroke: stroke, scale: scale, offset: offset),
            what + (stroke != nil ? " (stroke)" : ""),
            order, axes, &rng)
    }

    func rotate(_ p: (Double, Double), _ a: Double) -> (Double, Double) {
        (cos(a) * p.0 - sin(a) * p.1, sin(a) * p.0 + cos(a) * p.1)
    }

    /// The template at render size, with colours swapped half the time (the class must not
    /// depend on polarity); `shape` brings it to canonical form.
    func finish(
        _ c: SymmetryClass, _ pixels: [Float], _ what: String, _ order: Int?, _ axes: [Double],
        _ rng: inout PRNG, direction: Double? = nil
    ) -> SymmetryTemplates.Template {
        let invert = rng.nextInt(2) == 0
        func degrees(_ a: Double) -> Double {
            ((a * 180 / .pi).truncatingRemainder(dividingBy: 180) + 180).truncatingRemainder(dividingBy: 180)
        }
        var t = SymmetryTemplates.Template(
            symmetry: c, epsilon: c == .none ? 1 : 0, pixels: invert ? pixels.map { 1 - $0 } : pixels,
            description: what + (invert ? ", inverted" : ""))
        t.order = order
        t.axes = axes.map(degrees).sorted()
        t.direction = direction.map(degrees)
        return t
    }
}
