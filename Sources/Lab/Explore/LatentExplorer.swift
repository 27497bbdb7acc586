import Datasets
import Engine
import Formats
import Foundation
import Models

/// The latent explorer's model side (`genlab explore`): one trained GAN or VAE, its latent
/// dimensions in the order a person wants to move them, and the calls a page makes — decode a
/// point into a PNG, draw a point, encode an image (VAE), show the training set's images. A
/// class-conditional model decodes and encodes for one class at a time, chosen by the page.
/// Every call takes the one lock: the engine runs one model call at a time, on all cores.
public final class LatentExplorer: @unchecked Sendable {
    /// One latent dimension as the page lists it.
    public struct Dimension: Codable, Sendable, Equatable {
        public var index: Int
        /// 1 for the dimension that moves the image most; nil for an inactive (collapsed) one.
        public var rank: Int?
        /// The measure the ranking uses (see `Summary.rankedBy`).
        public var score: Double
        public var active: Bool
    }

    /// What the page needs to build itself.
    public struct Summary: Codable, Sendable {
        public var checkpoint: String
        public var kind: String
        public var latentDim: Int
        public var imageSize: Int
        public var channels: Int
        public var hasEncoder: Bool
        /// A class-conditional model's classes, in label order (empty: unconditional).
        public var classes: [String]
        /// Dimensions, most active first (the order of the sliders).
        public var dimensions: [Dimension]
        public var rankedBy: String
        /// How many training images the gallery holds, and where they come from.
        public var galleryCount: Int
        public var gallerySource: String?
        /// Whether the server keeps images (`--out`); set by the server.
        public var canSave = false
    }

    /// Latent values a slider may take (the prior's ±4σ, and then some).
    public static let latentRange: ClosedRange<Float> = -6...6
    /// Uploaded images larger than this are refused.
    public static let maxUploadBytes = 16 << 20

    public let model: LoadedModel
    public let summary: Summary
    private let gallery: ImageSet?
    /// The gallery images' classes, when the gallery data names the model's classes.
    private let galleryClasses: [Int]?
    private let displayScale: Int
    private let lock = NSLock()
    private let scratch: String

    /// Loads `checkpoint`; `data` (a folder or file the model can read, optional) gives the gallery
    /// and, for a VAE, the ranking of its dimensions by information, as `genlab inspect` ranks them.
    public init(checkpoint: String, data: String?, galleryLimit: Int = 48) throws {
        model = try LoadedModel.load(checkpoint)
        let spec = model.spec
        let classes = model.classNames ?? []
        displayScale = max(1, 256 / max(spec.imageSize, 1))
        var gallery: ImageSet?
        var dimensions: [Dimension]
        var rankedBy: String
        if let data {
            var set = try ModelInputs.images(data, spec: spec, limit: galleryLimit)
            try ModelInputs.checkMatches(set, path: data, spec: spec)
            set = try ModelInputs.usable(set, path: data, purpose: "the explorer's gallery")
            gallery = set.scaled(spec.scaling)
        }
        // The inspector's information ranking reads unconditional encoders; a conditional model's
        // dimensions are ranked by how far they move the decoded image (every class in turn).
        if case let .vae(vae, _) = model, let data, classes.isEmpty {
            let inspector = LatentInspector(model: vae, spec: spec, checkpoint: checkpoint)
            let encoded = try inspector.encode([data], observables: [], limit: 512)
            let (dims, _, by) = LatentInspector.dimensions(encoded)
            dimensions = dims.map {
                Dimension(
                    index: $0.index, rank: $0.rank, score: $0.information ?? $0.muStd * $0.muStd, active: $0.active)
            }
            rankedBy = by + " over " + data
        } else {
            (dimensions, rankedBy) = Self.sensitivity(model)
        }
        dimensions.sort { ($0.rank ?? Int.max, -$0.score, $0.index) < ($1.rank ?? Int.max, -$1.score, $1.index) }
        self.gallery = gallery
        galleryClasses = !classes.isEmpty && gallery?.classNames == classes ? gallery?.labels : nil
        let kind: String
        switch model {
        case .gan: kind = "gan"
        case let .vae(v, _): kind = v.config.plain ? "ae" : "vae"
        }
        var hasEncoder = false
        if case .vae = model { hasEncoder = true }
        summary = Summary(
            checkpoint: checkpoint, kind: kind, latentDim: model.latentDim, imageSize: spec.imageSize,
            channels: spec.channels, hasEncoder: hasEncoder, classes: classes, dimensions: dimensions,
            rankedBy: rankedBy,
            galleryCount: gallery?.count ?? 0, gallerySource: gallery == nil ? nil : data)
        scratch = try Self.makeScratch()
    }

    deinit { try? FileManager.default.removeItem(atPath: scratch) }

    /// Without data (and for a GAN): how far one unit along each dimension moves the decoded
    /// image (RMS over pixels, averaged over a few prior draws) — the dimensions that do nothing
    /// sink to the end.
    static func sensitivity(_ model: LoadedModel) -> ([Dimension], String) {
        let d = model.latentDim, bases = 4
        var rng = PRNG(seed: 7)
        let base = Tensor.normal([bases, d], rng: &rng).scalars
        var rows: [Float] = []
        for b in 0..<bases {
            let z = Array(base[b * d..<(b + 1) * d])
            rows += z
            for j in 0..<d {
                var moved = z
                moved[j] += 1
                rows += moved
            }
        }
        var images: [Float] = []
        let total = bases * (d + 1)
        for start in stride(from: 0, to: total, by: 256) {
            let end = min(total, start + 256)
            let z = Tensor(shape: [end - start, d], data: Array(rows[start * d..<end * d]))
            images += model.generate(z).scalars
        }
        let pixels = images.count / total
        var score = [Double](repeating: 0, count: d)
        for b in 0..<bases {
            let origin = b * (d + 1) * pixels
            for j in 0..<d {
                let at = (b * (d + 1) + 1 + j) * pixels
                var sum = 0.0
                for p in 0..<pixels {
                    let diff = Double(images[at + p] - images[origin + p])
                    sum += diff * diff
                }
                score[j] += (sum / Double(pixels)).squareRoot() / Double(bases)
            }
        }
        let largest = score.max() ?? 0
        let order = (0..<d).sorted { score[$0] > score[$1] }
        var rank = [Int?](repeating: nil, count: d)
        for (r, j) in order.enumerated() where score[j] > 0.01 * largest { rank[j] = r + 1 }
        let dims = (0..<d).map { Dimension(index: $0, rank: rank[$0], score: score[$0], active: rank[$0] != nil) }
        return (dims, "decoder sensitivity (RMS pixel change for a unit step, over 4 prior draws)")
    }

    /// Checks a latent point from a request: the model's dimension, finite, within `latentRange`.
    public func check(_ z: [Float]) throws {
        guard z.count == model.latentDim else {
            throw ExploreError.badRequest("z has \(z.count) values; this model's latent space has \(model.latentDim)")
        }
        guard z.allSatisfy({ $0.isFinite && Self.latentRange.contains($0) }) else {
            throw ExploreError.badRequest(
                "z values must be finite and within \(Self.latentRange.lowerBound)…\(Self.latentRange.upperBound)")
        }
    }

    /// The class index a request names (`class=` by index or name); nil when none is named. A
    /// conditional model decodes the first class when none is named; an unconditional one takes none.
    public func classIndex(_ text: String?) throws -> Int? {
        guard let text else { return nil }
        let names = summary.classes
        guard !names.isEmpty else {
            throw ExploreError.badRequest("this model is not class-conditional: give no class")
        }
        if let i = ClassConditioning.index(of: text, in: names) { return i }
        throw ExploreError.badRequest(
            "class '\(text.prefix(40))' is not one of the model's classes (0…\(names.count - 1) or a name)")
    }

    /// The class a call draws or encodes as: the chosen one, the first when none is chosen; nil for
    /// an unconditional model.
    public func effectiveClass(_ classIndex: Int?) -> Int? {
        summary.classes.isEmpty ? nil : classIndex ?? 0
    }

    private func labels(_ classIndex: Int?) -> [Int]? { effectiveClass(classIndex).map { [$0] } }

    /// The decoded image of `z` (of class `classIndex` for a conditional model) as a PNG, enlarged
    /// to about 256 pixels a side.
    public func decodePNG(_ z: [Float], classIndex: Int? = nil) throws -> Data {
        try check(z)
        let image: Image = lock.withLock {
            let x = model.generate(Tensor(shape: [1, model.latentDim], data: z), labels: labels(classIndex))
            return model.displayable(x)[0]
        }
        return try enlarged(image).pngData()
    }

    /// A draw from the prior N(0, 1) (clamped to `latentRange`), reproducible by its seed.
    public func randomPoint(seed: UInt64) -> [Float] {
        var rng = PRNG(seed: seed)
        return Tensor.normal([model.latentDim], rng: &rng).scalars.map {
            min(max($0, Self.latentRange.lowerBound), Self.latentRange.upperBound)
        }
    }

    /// The gallery's image `index` as a PNG.
    public func galleryPNG(_ index: Int) throws -> Data {
        let gallery = try galleryImages(index)
        let x = gallery.images.slice(axis: 0, start: index, end: index + 1).detach()
        let image: Image = lock.withLock { model.displayable(x)[0] }
        return try enlarged(image).pngData()
    }

    /// The gallery image's encoding (μ), for a VAE, and the class it was encoded as: the image's
    /// own when the gallery data is labelled with the model's classes, else `classIndex` (or the
    /// first); nil for an unconditional model.
    public func galleryLatent(_ index: Int, classIndex: Int? = nil) throws -> (z: [Float], classIndex: Int?) {
        let gallery = try galleryImages(index)
        guard case let .vae(vae, _) = model else {
            throw ExploreError.badRequest("a GAN has no encoder: walk between draws")
        }
        let label = labels(galleryClasses?[index] ?? classIndex)
        let mu: [Float] = lock.withLock { noGrad { vae.encode(gallery.batch([index]), labels: label).mu }.scalars }
        return (Self.clamped(mu), label?[0])
    }

    private static func clamped(_ z: [Float]) -> [Float] {
        z.map { min(max($0, latentRange.lowerBound), latentRange.upperBound) }
    }

    /// Encodes an uploaded PNG or JPEG (VAE; as `classIndex` for a conditional one): resized to the
    /// model's size as `genlab train` reads a folder. The bytes go through the same readers as
    /// files do, with the same checks.
    public func encode(upload: Data, classIndex: Int? = nil) throws -> [Float] {
        guard case let .vae(vae, spec) = model else {
            throw ExploreError.badRequest("a GAN has no encoder: only a VAE or AE checkpoint encodes images")
        }
        guard !upload.isEmpty, upload.count <= Self.maxUploadBytes else {
            throw ExploreError.badRequest("an upload must hold 1 byte to \(Self.maxUploadBytes >> 20) MiB")
        }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47], jpeg: [UInt8] = [0xFF, 0xD8]
        let isPNG = upload.starts(with: png), isJPEG = upload.starts(with: jpeg)
        guard isPNG || isJPEG else { throw ExploreError.badRequest("an upload must be a PNG or JPEG image") }
        let path = scratch + "/" + UUID().uuidString + (isPNG ? ".png" : ".jpg")
        try upload.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let set: ImageSet
        do {
            set = try ImageSet.load(path, options: .init(size: spec.imageSize, channels: spec.channels))
                .scaled(spec.scaling)
        } catch let error as FormatError {
            throw ExploreError.badRequest("the upload is not a readable image: \(error.problem)")
        }
        let mu: [Float] = lock.withLock {
            noGrad { vae.encode(set.batch([0]), labels: labels(classIndex)).mu }.scalars
        }
        return Self.clamped(mu)
    }

    private func galleryImages(_ index: Int) throws -> ImageSet {
        guard let gallery else { throw ExploreError.notFound("no gallery: start genlab explore with --data") }
        guard (0..<gallery.count).contains(index) else {
            throw ExploreError.notFound("gallery index \(index) is outside 0..<\(gallery.count)")
        }
        return gallery
    }

    private func enlarged(_ image: Image) -> Image {
        guard displayScale > 1 else { return image }
        return image.resized(
            width: image.width * displayScale, height: image.height * displayScale, method: .bilinear)
    }

    private static func makeScratch() throws -> String {
        let path = NSTemporaryDirectory() + "/genlab-explore-" + UUID().uuidString
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return path
    }
}

/// A request the explorer refuses: the HTTP side answers 400 or 404 with the message.
public enum ExploreError: Error, CustomStringConvertible, Equatable {
    case badRequest(String)
    case notFound(String)

    public var description: String {
        switch self {
        case let .badRequest(m), let .notFound(m): return m
        }
    }
}
