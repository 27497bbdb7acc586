import Engine
import Foundation

/// The symmetry a 2-D potential V(x, y) has (the classes the symmetry detector tells apart).
public enum SymmetryClass: Int, CaseIterable, Codable, Sendable {
    /// Continuous rotations about a point: V = f(r).
    case rotation
    /// Reflection in one axis: V(u, v) = V(−u, v) in a rotated frame.
    case reflection
    /// Reflection in two perpendicular axes (Z2 × Z2), not rotation-symmetric.
    case reflectionBoth
    /// Discrete rotations Cₙ, n ≥ 3: r²(1 + a cos nθ) and kin.
    case discreteRotation
    /// Translation along one direction: V = f(u).
    case translation
    /// None: sums of off-centre Gaussians.
    case none

    public var name: String {
        ["rotation", "reflection", "reflection_both", "discrete_rotation", "translation", "none"][rawValue]
    }
    public static func named(_ s: String) -> SymmetryClass? { allCases.first { $0.name == s } }
}

/// A library of 2-D potentials with known symmetry on [−1, 1]², with random parameters, and an
/// approximate-symmetry knob: the template is V̂ + λ·δV̂, where V̂ and δV̂ (a generic potential
/// of the `none` kind) are each standardised over the grid, and λ is chosen so that the image
/// breaks its symmetry by ε (see SymmetryBreaking.swift): ε = 0 is exact symmetry, ε = 1 as broken
/// as the library gets, and `none` images are further than that from every probed symmetry.
/// The image is two-colour: 1 where the potential is below its `fill` quantile.
///
/// Orientations (axes, stripe directions, the Cₙ phase) and centres are random, so a detector
/// cannot key on where the symmetry sits. `extrapolate` draws the parameters that have a natural
/// range outside the training one (higher ring and stripe frequencies, C₇ and C₈, stronger
/// anisotropy), for held-out tests. The held-out frequencies stay within what the decoy can draw
/// at 32 × 32 (it reproduces ≥ 95 % of the pixels up to rings cos(11 r) and stripes sin(12 u);
/// measured: 89 % at cos(12 r), 72 % at cos(15 r)): beyond that a test measures the decoy's
/// resolution, not whether the detector generalises.
public struct SymmetryTemplates: Sendable {
    public var size: Int
    public var extrapolate: Bool
    /// Symmetry centres are drawn from [−jitter, jitter]² (the image spans [−1, 1]²).
    public var centreJitter: Double

    public init(size: Int = 32, extrapolate: Bool = false, centreJitter: Double = 0.05) {
        self.size = size; self.extrapolate = extrapolate; self.centreJitter = centreJitter
    }

    public struct Template: Sendable {
        public var symmetry: SymmetryClass
        public var epsilon: Double
        /// size × size, row-major (row = y from −1 to 1), 1 inside the region V < threshold.
        public var pixels: [Float]
        public var description: String
        /// Which way, where the generator knows it (`SymmetryShapes`): the rotation order n of a
        /// Cₙ/Dₙ shape, its mirror axes, the stripes' direction (degrees, as `SymmetryGeometry`).
        public var order: Int? = nil
        public var axes: [Double] = []
        public var direction: Double? = nil

        public init(symmetry: SymmetryClass, epsilon: Double, pixels: [Float], description: String) {
            self.symmetry = symmetry; self.epsilon = epsilon; self.pixels = pixels; self.description = description
        }
    }

    /// A template of class `c` with symmetry breaking ε (ignored for `none`). Candidates whose
    /// two-colour image has more symmetry than their class says (`looksLikeAnotherClass`) are
    /// drawn again, so labels describe the image and not only the potential.
    public func template(_ c: SymmetryClass, epsilon: Double, rng: inout PRNG) -> Template {
        var r = acceptedDraw(c, epsilon: epsilon, rng: rng)
        let t = candidate(c, epsilon: epsilon, rng: &r)
        rng = r
        return t
    }

    /// One draw of class `c` broken step by step: the same potential, breaking field and fill at
    /// each ε (the draw is the first exact one that passes `looksLikeAnotherClass`). `rng` moves on
    /// to a stream of its own.
    public func sweep(_ c: SymmetryClass, epsilons: [Double], rng: inout PRNG) -> [Template] {
        let start = acceptedDraw(c, epsilon: 0, rng: rng)
        rng = start.fork(0x5eed)
        // Exact and broken candidates draw the potential and the fill first, in the same order.
        return epsilons.map { e -> Template in
            var r = start
            return candidate(c, epsilon: e, rng: &r)
        }
    }

    /// The stream state a candidate of class `c` at ε is drawn from so that it passes
    /// `looksLikeAnotherClass`: each rejected candidate's stream continues into the next, and
    /// after 20 rejections the 21st candidate is taken as it is.
    func acceptedDraw(_ c: SymmetryClass, epsilon: Double, rng: PRNG) -> PRNG {
        var start = rng
        for _ in 0..<20 {
            var probe = start
            if !looksLikeAnotherClass(candidate(c, epsilon: epsilon, rng: &probe)) { break }
            start = probe
        }
        return start
    }

    /// Overlap (intersection over union) of the image's set pixels with their image under a map
    /// of the plane about the image centre.
    public func agreement(_ pixels: [Float], _ map: (Double, Double) -> (Double, Double)) -> Double {
        let h = Double(size - 1) / 2
        var both = 0, total = 0, ones = 0
        for k in 0..<(size * size) where pixels[k] > 0.5 {
            ones += 1
            let (x, y) = map(Double(k % size) - h, Double(k / size) - h)
            let c = Int((x + h).rounded()), r = Int((y + h).rounded())
            if c >= 0, r >= 0, c < size, r < size, pixels[r * size + c] > 0.5 { both += 1 }
        }
        total = 2 * ones - both
        return total > 0 ? Double(both) / Double(total) : 0
    }

    /// Best mirror agreement over axes through the centre every 5°, and rotation agreement.
    func mirror(_ p: [Float], angle a: Double) -> Double {
        agreement(p) { x, y in
            let (c, s) = (cos(2 * a), sin(2 * a))
            return (c * x + s * y, s * x - c * y)
        }
    }
    func rotated(_ p: [Float], by a: Double) -> Double {
        agreement(p) { x, y in (cos(a) * x - sin(a) * y, sin(a) * x + cos(a) * y) }
    }

    /// Exact templates whose image is (nearly, IoU > 0.9) symmetric in a way its class excludes:
    /// a `reflection` image that is also mirror-symmetric in a second axis or round, a
    /// `reflection_both` or Cₙ image that is round, and a `none` image nearer to a mirror, rotation
    /// or shift symmetry than ε = 1 is. Broken templates are left alone (their ε says how much is left).
    public func looksLikeAnotherClass(_ t: Template) -> Bool {
        let p = t.pixels, limit = 0.9
        let round = [0.4, 1.1, 2.0].map { rotated(p, by: $0) }.min()! > limit
        switch t.symmetry {
        case .rotation, .translation: return false
        case .reflection, .reflectionBoth, .discreteRotation:
            guard t.epsilon == 0 else { return false }
            if round { return true }
            if t.symmetry == .reflection {
                let angles = (0..<36).map { Double($0) * .pi / 36 }
                let scores = angles.map { mirror(p, angle: $0) }
                let best = scores.indices.max { scores[$0] < scores[$1] }!
                return scores[(best + 18) % 36] > limit
            }
            return false
        case .none:
            // A generic image closer to a symmetry than a fully broken (ε = 1) template would be is
            // an approximately symmetric image, not a `none` (nearestSymmetry < fullBreak, stopping
            // at the first probe that shows it).
            return Self.probes.contains { disagreement(p, under: $0) < Self.fullBreak }
        }
    }

    func candidate(_ c: SymmetryClass, epsilon: Double, rng: inout PRNG) -> Template {
        let v = potential(c, rng: &rng)
        let values = standardised(grid(v.value))
        let fill = uniform(&rng, 0.3, 0.7)
        guard c != .none, epsilon > 0 else {
            return Template(
                symmetry: c, epsilon: c == .none ? 1 : 0, pixels: Self.binarise(values, fill: fill),
                description: v.description + String(format: ", ε = %.2f, fill %.2f", c == .none ? 1.0 : 0.0, fill))
        }
        let breaking = standardised(grid(potential(.none, rng: &rng).value))
        let b = broken(values, breaking, maps: v.invariances, epsilon: epsilon, fill: fill)
        return Template(
            symmetry: c, epsilon: b.epsilon, pixels: b.pixels,
            description: v.description + String(format: ", ε = %.2f (λ = %.3f), fill %.2f", b.epsilon, b.lambda, fill))
    }

    /// The potential on the pixel centres.
    func grid(_ v: (Double, Double) -> Double) -> [Double] {
        (0..<(size * size)).map { k in
            let x = -1 + (Double(k % size) + 0.5) * 2 / Double(size),
                y = -1 + (Double(k / size) + 0.5) * 2 / Double(size)
            return v(x, y)
        }
    }

    func standardised(_ v: [Double]) -> [Double] {
        let m = v.reduce(0, +) / Double(v.count)
        let s = (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count)).squareRoot()
        return v.map { s > 0 ? ($0 - m) / s : 0 }
    }

    /// 1 where the value is below its `fill` quantile (ties broken by position, so exactly
    /// round(fill · count) pixels are set).
    public static func binarise(_ values: [Double], fill: Double) -> [Float] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var out = [Float](repeating: 0, count: values.count)
        for i in order.prefix(Int((fill * Double(values.count)).rounded())) { out[i] = 1 }
        return out
    }

    func uniform(_ rng: inout PRNG, _ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(rng.nextFloat()) }

    /// A potential, what it is, and maps of the plane that leave it unchanged (its symmetries;
    /// empty for `none`) — the ground truth the tests check the library against.
    public struct Potential: Sendable {
        public var value: @Sendable (Double, Double) -> Double
        public var description: String
        public var invariances: [@Sendable (Double, Double) -> (Double, Double)]
    }

    /// A random potential of class `c`.
    public func potential(_ c: SymmetryClass, rng: inout PRNG) -> Potential {
        let theta = uniform(&rng, 0, .pi)
        let cx = uniform(&rng, -centreJitter, centreJitter), cy = uniform(&rng, -centreJitter, centreJitter)
        var n = 0
        let (value, what) = shape(c, theta: theta, cx: cx, cy: cy, n: &n, rng: &rng)
        let (co, si) = (cos(theta), sin(theta))
        // A map written in the template's own frame (u, v), carried to the plane.
        func inFrame(
            _ f: @escaping @Sendable (Double, Double) -> (Double, Double)
        ) -> @Sendable (Double, Double) -> (Double, Double) {
            { x, y in
                let (u, v) = f(co * (x - cx) + si * (y - cy), -si * (x - cx) + co * (y - cy))
                return (cx + co * u - si * v, cy + si * u + co * v)
            }
        }
        func rotation(_ a: Double) -> @Sendable (Double, Double) -> (Double, Double) {
            inFrame { u, v in (cos(a) * u - sin(a) * v, sin(a) * u + cos(a) * v) }
        }
        let maps: [@Sendable (Double, Double) -> (Double, Double)]
        switch c {
        case .rotation: maps = [rotation(0.7), rotation(2.1)]
        case .reflection: maps = [inFrame { u, v in (-u, v) }]
        case .reflectionBoth: maps = [inFrame { u, v in (-u, v) }, inFrame { u, v in (u, -v) }]
        case .discreteRotation: maps = [rotation(2 * .pi / Double(n))]
        case .translation: maps = [inFrame { u, v in (u, v + 0.37) }]
        case .none: maps = []
        }
        return Potential(value: value, description: what, invariances: maps)
    }

    // Long: one case per potential family, each a few lines; splitting would scatter the families.
    func shape(
        _ c: SymmetryClass, theta: Double, cx: Double, cy: Double, n chosen: inout Int,
        rng: inout PRNG
    ) -> (@Sendable (Double, Double) -> Double, String) {
        let (co, si) = (cos(theta), sin(theta))
        // (u, v): the frame rotated by θ about the centre; u is across the axis / along the stripes' normal.
        @Sendable func frame(_ x: Double, _ y: Double) -> (Double, Double) {
            let dx = x - cx, dy = y - cy
            return (co * dx + si * dy, -si * dx + co * dy)
        }
        // A potential of (u, v) read at (x, y).
        func inFrame(_ f: @escaping @Sendable (Double, Double) -> Double) -> @Sendable (Double, Double) -> Double {
            { x, y in
                let (u, v) = frame(x, y)
                return f(u, v)
            }
        }
        switch c {
        case .rotation:
            let kind = rng.nextInt(4)
            switch kind {
            case 0:
                let a = uniform(&rng, 0.3, 1.2)
                return (
                    { x, y in
                        let r2 = (x - cx) * (x - cx) + (y - cy) * (y - cy); return r2 * r2 - a * r2
                    }, "Mexican hat r⁴ − \(fmt(a)) r²"
                )
            case 1:
                let k = extrapolate ? uniform(&rng, 9.5, 11) : uniform(&rng, 4, 9.5)
                return (
                    { x, y in cos(k * ((x - cx) * (x - cx) + (y - cy) * (y - cy)).squareRoot()) },
                    "rings cos(\(fmt(k)) r)"
                )
            case 2:
                let r0 = uniform(&rng, 0.3, 0.7), w = uniform(&rng, 0.1, 0.3)
                return (
                    { x, y in
                        let r = ((x - cx) * (x - cx) + (y - cy) * (y - cy)).squareRoot();
                        return -exp(-(r - r0) * (r - r0) / (w * w))
                    },
                    "Gaussian ring at r = \(fmt(r0))"
                )
            default:
                let p = uniform(&rng, 0.5, 3)
                return ({ x, y in Foundation.pow((x - cx) * (x - cx) + (y - cy) * (y - cy), p / 2) }, "r^\(fmt(p))")
            }
        case .reflection:
            if rng.nextInt(2) == 0 {
                let a = uniform(&rng, 0.5, 1.5), b = uniform(&rng, 0.4, 1) * (rng.nextInt(2) == 0 ? 1 : -1)
                let cc = uniform(&rng, -1, 1), d = uniform(&rng, -1, 1), e = uniform(&rng, -1.5, 1.5)
                return (
                    { x, y in
                        let (u, v) = frame(x, y); return a * u * u + b * v + cc * v * v + d * v * v * v + e * u * u * v
                    },
                    "polynomial even in u (axis at \(fmt(theta * 180 / .pi))°)"
                )
            }
            return (
                inFrame(mirroredBlobs(rng: &rng, both: false)),
                "Gaussians mirrored in one axis (\(fmt(theta * 180 / .pi))°)"
            )
        case .reflectionBoth:
            if rng.nextInt(2) == 0 {
                let a = uniform(&rng, 0.3, 1), ratio = extrapolate ? uniform(&rng, 3, 4) : uniform(&rng, 1.7, 3)
                let b = a * ratio, cc = uniform(&rng, -0.5, 0.5), d = uniform(&rng, -0.5, 0.5), e = uniform(&rng, -1, 1)
                return (
                    { x, y in
                        let (u, v) = frame(x, y);
                        return a * u * u + b * v * v + cc * u * u * u * u + d * v * v * v * v + e * u * u * v * v
                    },
                    "polynomial even in u and v (axes at \(fmt(theta * 180 / .pi))°)"
                )
            }
            return (inFrame(mirroredBlobs(rng: &rng, both: true)), "Gaussians mirrored in two axes")
        case .discreteRotation:
            let n = extrapolate ? 7 + rng.nextInt(2) : 3 + rng.nextInt(4)
            chosen = n
            let a = uniform(&rng, 0.35, 0.9), phase = uniform(&rng, 0, 2 * .pi)
            if rng.nextInt(2) == 0 {
                return (
                    { x, y in
                        let (u, v) = frame(x, y);
                        return (u * u + v * v) * (1 + a * cos(Double(n) * atan2(v, u) + phase))
                    },
                    "C\(n): r²(1 + \(fmt(a)) cos \(n)θ)"
                )
            }
            return (
                { x, y in
                    let (u, v) = frame(x, y); let r = (u * u + v * v).squareRoot();
                    return r - a * 0.6 * r * r * cos(Double(n) * atan2(v, u) + phase)
                },
                "C\(n): r − \(fmt(0.6 * a)) r² cos \(n)θ"
            )
        case .translation:
            if rng.nextInt(2) == 0 {
                let k = extrapolate ? uniform(&rng, 9, 12) : uniform(&rng, 3, 9), phase = uniform(&rng, 0, 2 * .pi)
                return (
                    { x, y in
                        let (u, _) = frame(x, y); return sin(k * u + phase)
                    }, "stripes sin(\(fmt(k)) u)"
                )
            }
            let a = uniform(&rng, -1, 1), b = uniform(&rng, -1, 1), cc = uniform(&rng, 0.5, 2)
            return (
                { x, y in
                    let (u, _) = frame(x, y); return cc * u * u * u + a * u * u + b * u
                }, "cubic in u only"
            )
        case .none:
            let count = 3 + rng.nextInt(3)
            let blobs: [(Double, Double, Double, Double)] = (0..<count).map { _ in
                (
                    uniform(&rng, -0.8, 0.8), uniform(&rng, -0.8, 0.8), uniform(&rng, 0.2, 0.6),
                    uniform(&rng, 0.5, 1.5) * (rng.nextInt(3) == 0 ? -1 : 1)
                )
            }
            let gx = uniform(&rng, -0.3, 0.3), gy = uniform(&rng, -0.3, 0.3)
            return (
                { x, y in
                    var s = gx * x + gy * y
                    for (bx, by, w, amp) in blobs {
                        s -= amp * exp(-((x - bx) * (x - bx) + (y - by) * (y - by)) / (w * w))
                    }
                    return s
                }, "\(count) off-centre Gaussians"
            )
        }
    }

    /// Gaussians placed in mirror pairs (u → −u), and in fours when `both` (also v → −v), with
    /// the two axes' offsets kept different so the pattern is not more symmetric than asked.
    func mirroredBlobs(rng: inout PRNG, both: Bool) -> @Sendable (Double, Double) -> Double {
        var centres: [(Double, Double, Double, Double)] = []
        for _ in 0..<(both ? 1 + rng.nextInt(2) : 2 + rng.nextInt(2)) {
            let u = uniform(&rng, 0.15, 0.7), v = both ? u * uniform(&rng, 0.3, 0.6) : uniform(&rng, -0.7, 0.7)
            let w = uniform(&rng, 0.15, 0.4), amp = uniform(&rng, 0.6, 1.4)
            centres.append((u, v, w, amp))
        }
        let onAxis = both ? 0 : uniform(&rng, -0.6, 0.6)
        let hasAxisBlob = !both && rng.nextInt(2) == 0
        let blobs = centres
        return { u, v in
            var s = 0.0
            for (cu, cv, w, amp) in blobs {
                for su in [-1.0, 1.0] {
                    for sv in (both ? [-1.0, 1.0] : [1.0]) {
                        s -= amp * exp(-((u - su * cu) * (u - su * cu) + (v - sv * cv) * (v - sv * cv)) / (w * w))
                    }
                }
            }
            if hasAxisBlob { s -= 0.8 * exp(-(u * u + (v - onAxis) * (v - onAxis)) / 0.04) }
            return s
        }
    }

    func fmt(_ v: Double) -> String { String(format: "%.2f", v) }
}
