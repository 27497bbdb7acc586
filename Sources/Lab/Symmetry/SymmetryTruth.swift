import Foundation

/// The known symmetry of a test image, carried in its file name so that a folder of images is a
/// labelled test set (`genlab symmetry evaluate --images`, `genlab symmetry samples`,
/// `scripts/python/make_symmetry_testset.py`):
///
///     CLASS[-nORDER][-aAXIS]…[-dDIRECTION]__anything.png
///
/// e.g. `discrete_rotation-n5-a18-a54-a90-a126-a162__star_03.png`, `reflection-a30__heart_1.png`,
/// `translation-d45__stripes.png`, `none__blob_7.png`; angles in degrees, counter-clockwise from
/// the rightward axis (`SymmetryGeometry`).
public struct SymmetryTruth: Codable, Equatable, Sendable {
    public var symmetry: SymmetryClass
    public var order: Int?
    public var axes: [Double]
    public var direction: Double?

    public init(symmetry: SymmetryClass, order: Int? = nil, axes: [Double] = [], direction: Double? = nil) {
        self.symmetry = symmetry; self.order = order; self.axes = axes; self.direction = direction
    }

    /// The truth a file name carries, or nil when its name does not start with a class.
    public init?(fileName: String) {
        let stem = URL(fileURLWithPath: fileName).deletingPathExtension().lastPathComponent
        guard let head = stem.components(separatedBy: "__").first, stem.contains("__") else { return nil }
        let parts = head.split(separator: "-").map(String.init)
        guard let first = parts.first, let c = SymmetryClass.named(first) else { return nil }
        symmetry = c; axes = []
        for p in parts.dropFirst() {
            guard let tag = p.first, let value = Double(p.dropFirst()), value.isFinite else { return nil }
            switch tag {
            case "n": guard value >= 2, value <= 64, value == value.rounded() else { return nil }; order = Int(value)
            case "a": axes.append(value)
            case "d": direction = value
            default: return nil
            }
        }
    }

    /// The name stem for this truth (without `__` and what follows).
    public var stem: String {
        var s = symmetry.name
        if let order { s += "-n\(order)" }
        for a in axes { s += "-a" + String(format: "%.0f", a) }
        if let direction { s += "-d" + String(format: "%.0f", direction) }
        return s
    }

    /// The truth of a drawn template.
    public init(_ t: SymmetryTemplates.Template) {
        self.init(symmetry: t.symmetry, order: t.order, axes: t.axes, direction: t.direction)
    }

    /// Distance between two axis (or direction) angles, in degrees, modulo 180.
    public static func angleDistance(_ a: Double, _ b: Double) -> Double {
        let d = abs(a - b).truncatingRemainder(dividingBy: 180)
        return min(d, 180 - d)
    }
}
