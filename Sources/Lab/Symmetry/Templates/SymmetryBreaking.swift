import Engine
import Foundation

/// How much a two-colour image breaks a symmetry, measured on the image itself, and the
/// calibration that makes a template's ε mean exactly that.
///
/// Why: mixing a fixed weight of a generic potential into V (V̂ + λ·δV̂) breaks the *image* by
/// very different amounts from template to template — a smooth bowl barely moves where a fine
/// ring pattern is scrambled. Measured on the true symmetry maps, the image's disagreement with
/// its own mirror/rotated/shifted copy ranks with λ only at Spearman 0.67 (0.65 with the
/// extrapolated parameters), so no detector that looks at the image could track λ much better.
/// ε is therefore the breaking the image shows: λ is chosen per template (bisection) so that the disagreement, above
/// the exact
/// template's own pixelisation floor, is ε · `fullBreak`. ε = 1 is as broken as the library gets
/// and `none` images are at least that far from every probed symmetry.
extension SymmetryTemplates {
    public typealias PlaneMap = @Sendable (Double, Double) -> (Double, Double)

    /// The disagreement (see `disagreement`) that ε = 1 stands for; `none` templates are at least
    /// this far from every probed symmetry. At 32 × 32 about half of the generic (`none`)
    /// potentials' images are that far from their nearest mirror and shift.
    public static let fullBreak = 0.25

    /// Disagreement of an image with itself under a map of the plane ([−1, 1]², rows = y): among
    /// the pixels whose image under the map lands inside the frame, the fraction whose colour
    /// differs there, over 2f(1 − f) — the fraction two unrelated images with the same fill f
    /// disagree on. 0 for an invariant image, about 1 for no relation at all.
    public func disagreement(_ pixels: [Float], under map: PlaneMap) -> Double {
        let n = size, step = 2 / Double(n)
        var differ = 0, valid = 0, ones = 0
        for k in 0..<(n * n) {
            if pixels[k] > 0.5 { ones += 1 }
            let (x, y) = map(-1 + (Double(k % n) + 0.5) * step, -1 + (Double(k / n) + 0.5) * step)
            let c = Int(((x + 1) / step - 0.5).rounded()), r = Int(((y + 1) / step - 0.5).rounded())
            guard c >= 0, r >= 0, c < n, r < n else { continue }
            valid += 1
            if (pixels[k] > 0.5) != (pixels[r * n + c] > 0.5) { differ += 1 }
        }
        let f = Double(ones) / Double(n * n), chance = 2 * f * (1 - f)
        guard valid > 0, chance > 0 else { return 0 }
        return Double(differ) / Double(valid) / chance
    }

    /// The mean disagreement over several maps (0 when there are none).
    public func disagreement(_ pixels: [Float], under maps: [PlaneMap]) -> Double {
        maps.isEmpty ? 0 : maps.map { disagreement(pixels, under: $0) }.reduce(0, +) / Double(maps.count)
    }

    /// The symmetries a `none` image is checked against, all about the image centre: mirrors in
    /// 36 axes, rotations by 2π/n (n = 2…8) and by a generic angle, shifts by 0.37 (the translation class's own) in
    /// 18 directions.
    public static let probes: [PlaneMap] = {
        var maps: [PlaneMap] = []
        for i in 0..<36 {
            let (c, s) = (cos(2 * Double(i) * .pi / 36), sin(2 * Double(i) * .pi / 36))
            maps.append { x, y in (c * x + s * y, s * x - c * y) }
        }
        for a in (2...8).map({ 2 * Double.pi / Double($0) }) + [0.9] {
            let (c, s) = (cos(a), sin(a))
            maps.append { x, y in (c * x - s * y, s * x + c * y) }
        }
        for i in 0..<18 {
            let (dx, dy) = (0.37 * cos(Double(i) * .pi / 18), 0.37 * sin(Double(i) * .pi / 18))
            maps.append { x, y in (x + dx, y + dy) }
        }
        return maps
    }()

    /// How close the image comes to any probed symmetry: the smallest disagreement over `probes`.
    public func nearestSymmetry(_ pixels: [Float]) -> Double {
        Self.probes.map { disagreement(pixels, under: $0) }.min() ?? 0
    }

    /// The two-colour image of `symmetric` + λ·`breaking` (both standardised) broken by ε under
    /// `maps`: λ found by bisection so that the disagreement above the exact image's own is
    /// ε · fullBreak. Returns the image and the ε it actually shows (clipped to [0, 1]).
    func broken(
        _ symmetric: [Double], _ breaking: [Double], maps: [PlaneMap], epsilon: Double,
        fill: Double
    ) -> (pixels: [Float], epsilon: Double, lambda: Double) {
        let floor = disagreement(Self.binarise(symmetric, fill: fill), under: maps)
        func image(_ lambda: Double) -> ([Float], Double) {
            let px = Self.binarise(zip(symmetric, breaking).map { $0 + lambda * $1 }, fill: fill)
            return (px, max(0, disagreement(px, under: maps) - floor) / Self.fullBreak)
        }
        var lo = 0.0, hi = 1.0
        var best = image(hi)
        while best.1 < epsilon && hi < 64 { lo = hi; hi *= 2; best = image(hi) }
        for _ in 0..<12 {
            let mid = (lo + hi) / 2, m = image(mid)
            if m.1 < epsilon { lo = mid } else { hi = mid; best = m }
        }
        return (best.0, min(best.1, 1), hi)
    }
}
