import Cluster
import Engine
import Foundation

/// Templates with their labels and the classifier's input made from them.
public struct SymmetryDataset {
    public var templates: [SymmetryTemplates.Template]
    /// [N, channels, size, size]: PCA images (or the raw-image control).
    public var features: Tensor
    public var decoyAccuracy: [Float]?

    public init(templates: [SymmetryTemplates.Template], features: Tensor, decoyAccuracy: [Float]? = nil) {
        self.templates = templates; self.features = features; self.decoyAccuracy = decoyAccuracy
    }

    public var labels: [Int] { templates.map(\.symmetry.rawValue) }
    public var epsilons: [Float] { templates.map { Float($0.epsilon) } }
    public var count: Int { templates.count }

    /// `perClass` templates of every class: a fraction `exact` with ε = 0, the rest with ε drawn
    /// uniformly from (0, maxEpsilon]; then the representation. `drawn` and `progress` are told
    /// how many templates are drawn, and represented, so far.
    /// With `shapes`, a fraction `shapeFraction` of each class is drawn from that shape library
    /// instead (exact symmetry, or `none`).
    public static func generate(
        perClass: Int, library: SymmetryTemplates, shapes: SymmetryShapes? = nil, shapeFraction: Double = 0,
        representation: SymmetryRepresentation, exact: Double = 0.4,
        maxEpsilon: Double = 1, seed: UInt64, cluster: Cluster? = nil, drawn: ((Int) -> Void)? = nil,
        progress: ((Int) -> Void)? = nil
    ) -> SymmetryDataset {
        let templates = draw(
            perClass: perClass, library: library, shapes: shapes, shapeFraction: shapeFraction, exact: exact,
            maxEpsilon: maxEpsilon, seed: seed, drawn: drawn)
        return make(templates, representation: representation, seed: seed &+ 1, progress: progress, cluster: cluster)
    }

    /// The templates `generate` draws from `seed`, without their representation.
    public static func draw(
        perClass: Int, library: SymmetryTemplates, shapes: SymmetryShapes? = nil, shapeFraction: Double = 0,
        exact: Double = 0.4, maxEpsilon: Double = 1, seed: UInt64,
        drawn: ((Int) -> Void)? = nil
    ) -> [SymmetryTemplates.Template] {
        var rng = PRNG(seed: seed)
        var templates: [SymmetryTemplates.Template] = []
        for _ in 0..<perClass {
            for c in SymmetryClass.allCases {
                // Only drawn when shapes are asked for, so a templates-only set is what it always was.
                if let shapes, shapeFraction > 0, Double(rng.nextFloat()) < shapeFraction {
                    templates.append(shapes.shape(c, rng: &rng))
                    continue
                }
                let eps = Double(rng.nextFloat()) < exact ? 0 : maxEpsilon * Double(max(rng.nextFloat(), 1e-3))
                templates.append(library.template(c, epsilon: eps, rng: &rng))
            }
            drawn?(templates.count)
        }
        return templates
    }

    /// The representation of given templates.
    /// With a distributed `cluster`, the decoy batches are shared out over its ranks.
    public static func make(
        _ templates: [SymmetryTemplates.Template], representation: SymmetryRepresentation, seed: UInt64,
        progress: ((Int) -> Void)? = nil, cluster: Cluster? = nil
    ) -> SymmetryDataset {
        let out = representation.make(templates.map(\.pixels), seed: seed, progress: progress, cluster: cluster)
        return SymmetryDataset(templates: templates, features: out.images, decoyAccuracy: out.decoyAccuracy)
    }
}

/// The eight symmetries of the square (rotations by 90° and reflections), applied to every
/// channel of [C, n, n] images: every symmetry class is closed under them, so they are free
/// training data for the classifier.
public enum SquareSymmetry {
    /// Transform `k` (0…7) of an n × n channel-major block, written into `out`.
    public static func apply(
        _ k: Int, _ src: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, channels: Int, n: Int
    ) {
        for c in 0..<channels {
            let s = src + c * n * n, o = out + c * n * n
            for r in 0..<n {
                for col in 0..<n {
                    var (y, x) = (r, col)
                    if k & 4 != 0 { x = n - 1 - x }  // mirror
                    for _ in 0..<(k & 3) { (y, x) = (x, n - 1 - y) }  // quarter turns
                    o[y * n + x] = s[r * n + col]
                }
            }
        }
    }

    /// A batch [N, C, n, n] with image i under square symmetry `transform(i)`.
    public static func apply(_ batch: Tensor, _ transform: (Int) -> Int) -> Tensor {
        let n = batch.shape[2], c = batch.shape[1], per = c * n * n
        let out = Tensor.zeros(batch.shape)
        for i in 0..<batch.shape[0] {
            apply(transform(i), batch.storage.pointer + i * per, out.storage.pointer + i * per, channels: c, n: n)
        }
        return out
    }

    /// A batch [N, C, n, n] with each image under a random square symmetry.
    public static func augment(_ batch: Tensor, rng: inout PRNG) -> Tensor {
        apply(batch) { _ in rng.nextInt(8) }
    }
}
