import Engine
import Foundation

/// The second generation of `SymmetryShapes`' families, for what the first left to `none`:
/// - frame-filling **fields**: a smooth random field made symmetric by summing it over the class's
///   group (Cₙ, Dₙ, one mirror, D₂; a radial or one-directional profile for `rotation` and
///   `translation`; no sum for `none`), cut at a random level and seen through a square frame
///   that the pattern overflows, so the frame itself breaks the symmetry near the border — as it
///   does for any potential, photograph or field a user crops;
/// - **stroke glyphs**: letter-like figures of thick strokes about one mirror axis (V, T, Y, A, U,
///   M, arrows, free strokes) for `reflection`, and the same figures with one side changed for
///   `none`, so that "strokes" alone say nothing about the class.
extension SymmetryShapes {
    /// A field of class `c` at render size.
    // Long: one case per field family, each a few lines.
    func field(_ c: SymmetryClass, rng: inout PRNG) -> SymmetryTemplates.Template {
        let phi = uniform(&rng, 0, .pi)
        let centre = (uniform(&rng, -0.06, 0.06), uniform(&rng, -0.06, 0.06))
        // The frame shows [−zoom, zoom]² of the field: the pattern runs past the border.
        let zoom = uniform(&rng, 0.8, 1.25)
        let bumps = (0..<(3 + rng.nextInt(4))).map { _ in
            (
                a: uniform(&rng, -1, 1), x: uniform(&rng, -0.8, 0.8), y: uniform(&rng, -0.8, 0.8),
                s: uniform(&rng, 0.03, 0.3)
            )
        }
        let tilt = (uniform(&rng, -0.3, 0.3), uniform(&rng, -0.3, 0.3))
        func generic(_ x: Double, _ y: Double) -> Double {
            bumps.reduce(tilt.0 * x + tilt.1 * y) { s, b in
                s + b.a * exp(-((x - b.x) * (x - b.x) + (y - b.y) * (y - b.y)) / b.s)
            }
        }
        let profile = (0..<(2 + rng.nextInt(3))).map { _ in
            (a: uniform(&rng, -1, 1), u: uniform(&rng, 0, 1.2), s: uniform(&rng, 0.01, 0.15))
        }
        let wave = (k: uniform(&rng, 3, 9), phase: uniform(&rng, 0, 2 * .pi), sharp: uniform(&rng, 1, 6))
        func oneD(_ u: Double) -> Double { profile.reduce(0) { s, b in s + b.a * exp(-(u - b.u) * (u - b.u) / b.s) } }
        var group: [(Double, Double, Double, Double)] = [(1, 0, 0, 1)]
        var order: Int?, axes: [Double] = [], direction: Double?, what = "field"
        let value: (Double, Double) -> Double
        switch c {
        case .rotation:
            value = { x, y in oneD((x * x + y * y).squareRoot()) }; what = "radial field"
        case .translation:
            let (nx, ny) = (-sin(phi), cos(phi))
            let periodic = rng.nextInt(2) == 0
            value = { x, y in
                let u = x * nx + y * ny
                return periodic ? tanh(wave.sharp * sin(wave.k * u + wave.phase)) : oneD(abs(u + 0.3)) + 0.2 * u
            }
            direction = phi; what = periodic ? "periodic field" : "one-directional field"
        case .reflection:
            group = [(1, 0, 0, 1), Self.mirror(phi)]; axes = [phi]; value = generic; what = "one-mirror field"
        case .reflectionBoth:
            group = Self.dihedral(2, axis: phi); axes = [phi, phi + .pi / 2]; value = generic; what = "D2 field"
        case .discreteRotation:
            let n = 3 + rng.nextInt(6)
            order = n
            if rng.nextInt(2) == 0 {
                group = Self.dihedral(n, axis: phi); axes = (0..<n).map { phi + Double.pi * Double($0) / Double(n) };
                what = "D\(n) field"
            } else {
                group = Self.rotations(n); what = "C\(n) field"
            }
            value = generic
        case .none:
            value = generic; what = "generic field"
        }
        let n = renderSize, h = 2 / Double(n)
        var f = [Double](repeating: 0, count: n * n)
        for r in 0..<n {
            for col in 0..<n {
                let x = (-1 + (Double(col) + 0.5) * h) * zoom - centre.0,
                    y = (1 - (Double(r) + 0.5) * h) * zoom - centre.1
                f[r * n + col] = group.reduce(0) { s, g in s + value(g.0 * x + g.1 * y, g.2 * x + g.3 * y) }
            }
        }
        // Dots for the discrete rotations sit at the low end (a high level merges them).
        let q = c == .discreteRotation ? uniform(&rng, 0.1, 0.5) : uniform(&rng, 0.25, 0.75)
        let level = f.sorted()[min(n * n - 1, Int(q * Double(n * n)))]
        return finish(c, f.map { $0 < level ? 1 : 0 }, what, order, axes, &rng, direction: direction)
    }

    /// A stroke figure about one mirror axis (`reflection`), or the same with one side changed (`none`).
    // Long: one case per glyph, each a few strokes.
    func strokeGlyph(_ c: SymmetryClass, rng: inout PRNG) -> SymmetryTemplates.Template {
        let phi = uniform(&rng, 0, .pi)
        let (d, m) = ((cos(phi), sin(phi)), (-sin(phi), cos(phi)))
        // (u along the axis, v across it) → the plane; the right half (v ≥ 0) is drawn, the mirror adds the left.
        func at(_ u: Double, _ v: Double) -> (Double, Double) { (u * d.0 + v * m.0, u * d.1 + v * m.1) }
        let w = uniform(&rng, 0.1, 0.32), top = uniform(&rng, 0.6, 0.95), bottom = -uniform(&rng, 0.6, 0.95)
        let spread = uniform(&rng, 0.3, 0.85)
        var half: [Piece] = [], shaft: [Piece] = []
        func stroke(_ pts: [(Double, Double)]) -> Piece { .polyline(pts.map { at($0.0, $0.1) }, width: w) }
        let kinds = ["V", "T", "Y", "A", "U", "M", "arrow", "strokes"]
        let kind = kinds[rng.nextInt(kinds.count)]
        switch kind {
        case "V": half = [stroke([(bottom, 0), (top, spread)])]
        case "T":
            half = [stroke([(top, 0), (top, spread)])]
            shaft = [stroke([(bottom, 0), (top, 0)])]
        case "Y":
            let fork = uniform(&rng, -0.2, 0.3)
            half = [stroke([(fork, 0), (top, spread)])]
            shaft = [stroke([(bottom, 0), (fork, 0)])]
        case "A":
            let bar = uniform(&rng, -0.4, 0.1)
            half = [
                stroke([(top, 0), (bottom, spread)]), stroke([(bar, 0), (bar, spread * (top - bar) / (top - bottom))]),
            ]
        case "U":
            let arc = (0...8).map { k -> (Double, Double) in
                let a = Double.pi / 2 * Double(k) / 8;
                return (bottom + spread * (1 - sin(a)) * 0.8, spread * (1 - cos(a)) + 0.0001)
            }
            half = [stroke(arc + [(top, spread)])]
        case "M":
            let mid = uniform(&rng, -0.3, 0.3)
            half = [stroke([(bottom, spread), (top, spread), (mid, 0)])]
        case "arrow":
            let headLength = uniform(&rng, 0.3, 0.7)
            half =
                rng.nextInt(2) == 0
                ? [stroke([(top, 0), (top - headLength, spread * 0.7)])]
                : [
                    .polygon(
                        [(top, 0), (top - headLength, spread * 0.7), (top - headLength, 0)].map { at($0.0, $0.1) })
                ]
            shaft = [stroke([(bottom, 0), (top - 0.05, 0)])]
        default:
            var pts = [(uniform(&rng, bottom, top), 0.0)]
            for _ in 0..<(1 + rng.nextInt(3)) { pts.append((uniform(&rng, bottom, top), uniform(&rng, 0.05, spread))) }
            half = [stroke(pts)]
            if rng.nextInt(2) == 0 { shaft = [stroke([(bottom, 0), (top, 0)])] }
        }
        let scale = uniform(&rng, 0.5, 0.9)
        let offset = (uniform(&rng, -1, 1) * (1 - scale) * 0.5, uniform(&rng, -1, 1) * (1 - scale) * 0.5)
        let mirrored = render(half, group: [(1, 0, 0, 1), Self.mirror(phi)], stroke: nil, scale: scale, offset: offset)
        let plain = render(shaft, group: [(1, 0, 0, 1)], stroke: nil, scale: scale, offset: offset)
        var pixels = zip(mirrored, plain).map { max($0, $1) }
        if c == .none {
            // One side changed: an extra stroke on it, or that side's half stretched along the axis.
            let extra: Piece =
                rng.nextInt(2) == 0
                ? stroke([
                    (uniform(&rng, bottom, top), uniform(&rng, 0.1, spread)),
                    (uniform(&rng, bottom, top), uniform(&rng, 0.3, 1)),
                ])
                : stroke([(top, 0), (top, 0.1), (top - 0.3, uniform(&rng, 0.4, 0.9))])
            let side = render([extra], group: [(1, 0, 0, 1)], stroke: nil, scale: scale, offset: offset)
            pixels = zip(pixels, side).map { max($0, $1) }
        }
        return finish(
            c, pixels, "stroke \(kind)" + (c == .none ? " with one side changed" : ""), nil,
            c == .reflection ? [phi] : [], &rng)
    }
}
