import Datasets
import Engine
import Formats
import Foundation

/// What a trained model reads from a data file.
public enum ModelInputs {
    /// A data file as the model's images: jet constituents (an HDF5 file with `/constituents` and
    /// no `/images`) are made into jet images with the checkpoint's preprocessing, exactly as
    /// `genlab score` makes them (the one routine that turns a file into a trained model's inputs for
    /// scoring, inspection and quality); anything else is loaded as images.
    public static func images(_ path: String, spec: DataSpec, limit: Int? = nil) throws -> ImageSet {
        if spec.isJetImages, let events = try particlesOnly(path) {
            return try jetImages(events, spec: spec, limit: limit)
        }
        return try ImageSet.load(path, options: .init(size: spec.imageSize, channels: spec.channels, limit: limit))
    }

    /// The event file at `path` when it is HDF5 in one of the event layouts; nil otherwise.
    public static func eventFile(_ path: String) throws -> EventFile? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue,
            (try? FileKind.detect(path)) == .hdf5
        else { return nil }
        return try EventFile(path)
    }

    /// The event file at `path` when it holds particles and no stored `/images`: the one rule of
    /// where jet images come from — stored ones as they are, else made from the particles.
    public static func particlesOnly(_ path: String) throws -> EventFile? {
        guard let events = try eventFile(path), !events.file.contains("/images") else { return nil }
        return events
    }

    /// Jet images made from an event file's particles with `spec`'s preprocessing (as `score`
    /// makes them): labels and the layout's description come along; events whose jet is empty or
    /// not finite are left out, with a warning naming how many.
    public static func jetImages(_ events: EventFile, spec: DataSpec, limit: Int? = nil) throws -> ImageSet {
        let source = try EventSource(events.path, spec: spec, fromConstituents: true)
        let n = min(limit ?? source.count, source.count)
        // The images are held in memory: within --max-input-mib like any decoded input.
        _ = try InputLimits.current.elements(
            [n, 1, spec.imageSize, spec.imageSize], file: events.path, what: "the jet images of its \(n) events")
        var images: [Float] = [], labels: [Int?] = []
        let per = spec.imageSize * spec.imageSize
        var dropped = 0
        for start in stride(from: 0, to: n, by: 4096) {
            let chunk = try source.read(start, min(4096, n - start))
            let p = chunk.images.storage.pointer
            for i in 0..<chunk.problem.count {
                guard chunk.problem[i] == nil else { dropped += 1; continue }
                images += UnsafeBufferPointer(start: p + i * per, count: per)
                labels.append(chunk.labels[i])
            }
        }
        if dropped > 0 {
            Warnings.emit("\(events.path): \(dropped) of \(n) events left out (an empty or non-finite jet)")
        }
        guard !labels.isEmpty else {
            throw FormatError(events.path, "none of its \(n) events gives a jet image (every jet empty or not finite)")
        }
        var set = ImageSet(
            images: Tensor(shape: [labels.count, 1, spec.imageSize, spec.imageSize], data: images),
            source: events.path)
        set.attributes = (spec.jetRecord?.values ?? [:]).merging(["event_layout": events.layout.description]) { a, _ in
            a
        }
        if labels.allSatisfy({ $0 != nil }) { set.labels = labels.map { $0! } }
        return set
    }

    /// Refuses a file whose images are not the kind the model was trained on: pictures for a jet
    /// model, jets for a picture model, or another shape.
    public static func checkMatches(_ set: ImageSet, path: String, spec: DataSpec) throws {
        guard set.height == spec.imageSize, set.width == spec.imageSize, set.channels == spec.channels else {
            throw FormatError(
                path,
                "images are \(set.channels)×\(set.height)×\(set.width); the model was trained on "
                    + "\(spec.channels)×\(spec.imageSize)×\(spec.imageSize)")
        }
        var isFolder: ObjCBool = false
        let isPictures =
            FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue
            || [.png, .jpeg].contains(try? FileKind.detect(path))
        if spec.isJetImages && isPictures {
            throw FormatError(path, "holds pictures, but the model was trained on jet images (\(spec.source))")
        }
        if !spec.isJetImages && set.jetRecord != nil {
            throw FormatError(path, "holds jet images, but the model was trained on ordinary images (\(spec.source))")
        }
    }

    /// What keeps an example from being scored or counted.
    public enum Defect: Sendable { case nonFinite, empty }

    /// Each example's defect — a NaN or infinite value, or no positive total (an empty jet, a blank
    /// image) — or nil where it is usable: the one test `score`, `inspect` and `quality` share.
    public static func defects(_ images: Tensor) -> [Defect?] {
        let n = images.shape.first ?? 0, per = images.count / max(n, 1), p = images.storage.pointer
        return (0..<n).map { i in
            var sum: Float = 0
            for k in 0..<per {
                let v = p[i * per + k]
                if !v.isFinite { return .nonFinite }
                sum += v
            }
            return sum > 0 ? nil : .empty
        }
    }

    /// The images a statistic can use: those with only finite pixels and not all zero (an empty
    /// jet, a blank padding row). Drops the others with one warning naming the file and how many;
    /// refuses a file with fewer than `minimum` usable images, naming the file and the count.
    public static func usable(_ set: ImageSet, path: String, minimum: Int = 1, purpose: String) throws -> ImageSet {
        let n = set.count, per = set.channels * set.height * set.width
        let p = set.images.storage.pointer
        let defects = Self.defects(set.images)
        let keep = defects.indices.filter { defects[$0] == nil }
        let nonFinite = defects.filter { $0 == .nonFinite }.count, empty = defects.filter { $0 == .empty }.count
        guard keep.count >= minimum else {
            throw FormatError(
                path,
                "holds \(keep.count) usable examples (\(nonFinite) with NaN or infinite values, \(empty) all zero, of "
                    + "\(n)); \(purpose) needs at least \(minimum)")
        }
        if keep.count == n { return set }
        Warnings.emit(
            "\(path): \(n - keep.count) of \(n) examples left out (\(nonFinite) with NaN or infinite values, \(empty) "
                + "all zero)")
        var out = set
        out.images = Tensor(
            shape: [keep.count] + Array(set.images.shape.dropFirst()),
            data: keep.flatMap { i in
                Array(UnsafeBufferPointer(start: p + i * per, count: per))
            })
        out.labels = set.labels.map { l in keep.map { l[$0] } }
        return out
    }
}
