import Foundation
import Physics

/// How a model's data was prepared: recorded in every checkpoint, so sampling, interpolation and
/// scoring undo (or repeat) exactly the same preparation, and a mismatch is caught.
public struct DataSpec: Codable, Equatable, Sendable {
    public var source: String
    public var imageSize: Int
    public var channels: Int
    public var scaling: ImageSet.Scaling
    /// The source file's jet-image record in its text form ("" for ordinary images); checkpoints
    /// store it so; read it typed through `jetRecord`.
    public var preprocessing: String = ""
    /// How the jet images were made; nil for ordinary images.
    public var jetRecord: JetImageRecord? { JetImageRecord(text: preprocessing) }
    public var isJetImages: Bool { !preprocessing.isEmpty }
    /// A class-conditional model's classes, in label order (nil: an unconditional model).
    public var classNames: [String]?

    public init(source: String, imageSize: Int, channels: Int, scaling: ImageSet.Scaling, preprocessing: String = "") {
        self.source = source; self.imageSize = imageSize; self.channels = channels; self.scaling = scaling;
        self.preprocessing = preprocessing
    }

    /// Jet images made by GenLab from an event file's particles: the standard preprocessing at
    /// `size`, scaled to unit pT sum.
    public static func standardJets(source: String, size: Int = 25) -> DataSpec {
        DataSpec(
            source: source, imageSize: size, channels: 1, scaling: .unitSum,
            preprocessing: JetImageRecord.standard(size: size).text)
    }

    /// The jet-image geometry recorded in `preprocessing` (window 1.25 when unrecorded).
    public var jetImage: JetImage { JetImage(size: imageSize, window: jetRecord?.window ?? 1.25) }

    /// Maps model-space values back to display range for PNG output.
    public var displayRange: ClosedRange<Float> { scaling == .minusOneToOne ? -1...1 : 0...1 }

    /// The checkpoint metadata key that records it.
    public static let metadataKey = "genlab.data"

    /// Its JSON form, as checkpoints store it under `metadataKey` (keys sorted: the same bytes every run).
    public func metadataValue() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The description a checkpoint's metadata records; nil when absent or not a description.
    public init?(metadata: [String: String]) {
        guard let text = metadata[Self.metadataKey],
            let spec = try? JSONDecoder().decode(DataSpec.self, from: Data(text.utf8))
        else { return nil }
        self = spec
    }
}
