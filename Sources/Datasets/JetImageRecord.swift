import Foundation

/// How a file's jet images were made, as its HDF5 attributes record it (`image_preprocessing`,
/// `image_size`, `image_window`, `jet_radius`). The one test of "is this jet data": a set of images
/// is jet images exactly when its file carries `image_preprocessing`.
public struct JetImageRecord: Equatable, Sendable {
    /// The attributes a record is read from and written as, in this order.
    public static let keys = ["image_preprocessing", "image_size", "image_window", "jet_radius"]

    /// The recorded values by key (only keys of `keys`; `image_preprocessing` always present).
    public private(set) var values: [String: String]

    /// Nil when the attributes hold no `image_preprocessing` (ordinary images).
    public init?(attributes: [String: String]) {
        guard attributes["image_preprocessing"] != nil else { return nil }
        values = attributes.filter { Self.keys.contains($0.key) }
    }

    /// The record from its text form ("image_preprocessing=…; image_size=25; …"), as checkpoints
    /// store it; nil for the empty text of ordinary images.
    public init?(text: String) {
        var found: [String: String] = [:]
        for item in text.split(separator: ";") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, Self.keys.contains(parts[0]) { found[parts[0]] = parts[1] }
        }
        self.init(attributes: found)
    }

    /// The preprocessing GenLab's jet images are made with (scripts/python/make_jets.py's, and
    /// `JetImage`'s): centroid, principal axis, flip, pT summed over [−1.25, 1.25]² at R = 1.0.
    public static func standard(size: Int) -> JetImageRecord {
        JetImageRecord(
            attributes: [
                "image_preprocessing": "centroid, principal-axis rotation, flip, pixelate (pT sum)",
                "image_size": String(size), "image_window": "1.25", "jet_radius": "1",
            ])!
    }

    /// The text form checkpoints store (keys in `keys` order).
    public var text: String { Self.keys.compactMap { k in values[k].map { "\(k)=\($0)" } }.joined(separator: "; ") }

    /// The η–φ half-width of the image window (1.25 when unrecorded).
    public var window: Double { values["image_window"].flatMap(Double.init) ?? 1.25 }

    /// The keys whose values differ between this record and `other`, in words ("image_window is
    /// '1.5', the checkpoint's '1.25'"); keys only one of them records are not compared.
    public func differences(from other: JetImageRecord, otherName: String) -> [String] {
        Self.keys.compactMap { k in
            guard let mine = values[k], let theirs = other.values[k], mine != theirs else { return nil }
            return "\(k) is '\(mine)', \(otherName) '\(theirs)'"
        }
    }
}

extension ImageSet {
    /// The file's jet-image record; nil for ordinary images.
    public var jetRecord: JetImageRecord? { JetImageRecord(attributes: attributes) }
}
