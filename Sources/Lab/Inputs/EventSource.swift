import Datasets
import Engine
import Formats
import Foundation
import Physics

/// Events from a file, as raw jet images: an `images` dataset (HDF5 or .npy) used directly, or
/// any event layout `EventFile` reads (GenLab's constituents, the top-tagging, LHC Olympics,
/// JetNet and ATLAS layouts) turned into images with the checkpoint's preprocessing; whole events
/// are clustered first (anti-kT, R = 1.0) and their leading jet (and, on request, the second) scored.
struct EventSource {
    let path: String
    let count: Int
    /// How many reads of `size` events cover the file.
    func chunks(of size: Int) -> Int { (count + size - 1) / size }
    let file: HDF5File?
    let npy: Tensor?
    let imagesDataset: String?
    let events: EventFile?
    let spec: DataSpec
    let jetImage: JetImage
    let jetsPerEvent: Int
    /// What the user must be told about how this file's events are read (e.g. stored jet images
    /// made with other preprocessing), naming the file; nil when nothing.
    let warning: String?

    /// With `fromConstituents`, jet images are always made from the file's particles (with the
    /// checkpoint's preprocessing) even where it stores images; without it they are made so when
    /// the stored images record another preprocessing than the checkpoint's, or none.
    // Long: opening a file is one decision tree over its layout (images, events), with a named
    // error per branch.
    init(_ path: String, spec: DataSpec, jetsPerEvent: Int = 1, fromConstituents: Bool = false) throws {
        self.path = path
        self.spec = spec
        self.jetsPerEvent = jetsPerEvent
        let size = spec.imageSize
        jetImage = spec.jetImage
        var warning: String?
        var events: EventFile?
        var isFolder: ObjCBool = false
        let folder = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue
        let kind = folder ? FileKind.png : try FileKind.detect(path)
        switch kind {
        case .png, .jpeg:
            // Pictures (a folder, or one file), read as `train` and `classify predict` read them.
            guard !spec.isJetImages else {
                throw FormatError(path, "holds pictures, but the model was trained on jet images (\(spec.source))")
            }
            let set = try ImageSet.load(path, options: .init(size: size, channels: spec.channels))
            npy = set.images; file = nil; imagesDataset = nil; count = set.count
            if fromConstituents { throw FormatError(path, "--from-constituents: pictures hold no constituents") }
        case .npy:
            let t = try ImageSet.asImages(NPY.read(path), path, integersAreBytes: true)
            guard t.shape[1] == spec.channels, t.shape[2] == size, t.shape[3] == size else {
                throw FormatError(
                    path,
                    "images are \(t.shape[1])×\(t.shape[2])×\(t.shape[3]); the model was trained on "
                        + "\(spec.channels)×\(size)×\(size)"
                )
            }
            npy = t; file = nil; imagesDataset = nil; count = t.shape[0]
            if fromConstituents {
                throw FormatError(path, "--from-constituents: a .npy file holds images, not constituents")
            }
        case .hdf5:
            let f = try HDF5File(path)
            file = f; npy = nil
            // Where the file stores images, a malformed particle layout beside them is no obstacle.
            let layout = f.contains("/images") ? ((try? EventLayout.detect(f)) ?? nil) : try EventLayout.detect(f)
            let attributes = (try? f.attributes()) ?? [:]
            if f.contains("/images"),
                !(spec.isJetImages && layout != nil && (fromConstituents || Self.mismatch(attributes, spec) != nil))
            {
                let s = try f.shape("/images")
                guard let entry = try f.entries().first(where: { $0.path == "/images" }),
                    ["float", "int", "uint"].contains(entry.dtype)
                else {
                    throw FormatError(path, "/images does not hold numbers")
                }
                guard s.count == 3 || (s.count == 4 && s[1] == 1) else {
                    throw FormatError(
                        path, "/images has shape \(s); expected (N, H, W) or (N, 1, H, W) single-channel images")
                }
                let (h, w) = (s[s.count - 2], s[s.count - 1])
                guard h == size, w == size, spec.channels == 1 else {
                    throw FormatError(
                        path,
                        "/images are 1×\(h)×\(w) but the model was trained on \(spec.channels)×\(size)×\(size) images; "
                            + "image size and preprocessing must match the checkpoint")
                }
                if !spec.isJetImages && JetImageRecord(attributes: attributes) != nil {
                    throw FormatError(
                        path, "holds jet images, but the model was trained on ordinary images (\(spec.source))")
                }
                imagesDataset = "/images"
                count = s[0]
                try f.requireStored("/images")
                if spec.isJetImages, let m = Self.mismatch(attributes, spec) {
                    warning =
                        "\(path): \(m); it has no particles to make them again, so its scores may not mean what "
                        + "the checkpoint's do"
                }
            } else if let layout {
                if f.contains("/images") && spec.isJetImages && !fromConstituents,
                    let m = Self.mismatch(attributes, spec)
                {
                    warning =
                        "\(path): \(m); its jet images are made again from its "
                        + "\(layout.isGenLab ? "/constituents" : "particles") with the checkpoint's preprocessing"
                }
                guard spec.isJetImages else {
                    throw FormatError(
                        path,
                        "holds \(layout.isWholeEvents ? "whole events" : "jet constituents") (\(layout.description)) "
                            + "but the model was not trained on jet images")
                }
                events = try EventFile(f, layout: layout)
                imagesDataset = nil
                count = events!.count
            } else {
                throw FormatError(
                    path,
                    "has neither /images nor /constituents nor another event layout GenLab reads (the Top Quark "
                        + "Tagging, LHC Olympics, JetNet or ATLAS Top Tagging layouts); `genlab data describe` lists "
                        + "what it holds")
            }
        default:
            throw FormatError(path, FileKind.unreadableAsEvents(kind))
        }
        self.events = events
        if fromConstituents, file != nil, events == nil {
            throw FormatError(path, "--from-constituents: the file has no particles to make images from")
        }
        self.warning = warning
        if count == 0 { throw FormatError(path, "holds no events") }
        if let f = file, events == nil {
            try EventFile.requireRowPerEvent(f, count: count, [("/labels", 0), ("/jets", 4)])
        }
    }

    /// Differences between the preprocessing a file's attributes record and the checkpoint's, in
    /// words; nil when they agree.
    static func mismatch(_ attributes: [String: String], _ spec: DataSpec) -> String? {
        guard let record = JetImageRecord(attributes: attributes) else {
            return "its jet images carry no preprocessing record (the checkpoint's: \(spec.preprocessing))"
        }
        let differing = spec.jetRecord.map { record.differences(from: $0, otherName: "the checkpoint's") } ?? []
        return differing.isEmpty ? nil : "its jet images were made differently: " + differing.joined(separator: "; ")
    }

    struct Chunk {
        var images: Tensor
        var labels: [Int?]
        var mass: [Double?]
        var problem: [String?]
        /// Per-event weights where the file has them.
        var weights: [Double]? = nil
        /// Second-leading jets of whole events, when two jets an event are scored.
        var second: Tensor? = nil
        var secondValid: [Bool] = []
    }

    // Long: reads one chunk of either kind (stored images, or particles made into images).
    func read(_ start: Int, _ n: Int) throws -> Chunk {
        let size = spec.imageSize
        var labels = [Int?](repeating: nil, count: n), mass = [Double?](repeating: nil, count: n)
        var weights: [Double]?
        let images: Tensor
        var second: Tensor?
        var secondValid = [Bool](repeating: false, count: n)
        if let npy {
            images = npy.slice(axis: 0, start: start, end: start + n).detach()
        } else if let file, let imagesDataset {
            images = try file.readRows(imagesDataset, start, n).reshape([n, 1, size, size])
            if file.contains("/labels") {
                labels = try EventLabels.validated(
                    file.readRows("/labels", start, n).scalars, file: path, firstIndex: start)
            }
            if file.contains("/jets") {
                let j = try file.readRows("/jets", start, n)
                mass = (0..<n).map { Double(j.storage.pointer[$0 * j.shape[1] + 3]) }
            }
        } else if let events {
            let batch = try events.read(start, n)
            labels = batch.labels
            weights = batch.weights
            images = Tensor.zeros([n, 1, size, size])
            if events.layout.isWholeEvents {
                if jetsPerEvent > 1 { second = Tensor.zeros([n, 1, size, size]) }
                let clustering = JetClustering(.antiKt, radius: 1.0)
                for i in 0..<n {
                    let particles = batch.particles[i]
                    let jets = clustering.cluster(
                        particles.map { FourVector(pt: $0.pt, eta: $0.eta, phi: $0.phi) }, ptMin: 20)
                    guard let lead = jets.first else { continue }
                    mass[i] = lead.mass
                    if let second, jets.count > 1,
                        let img = jetImage.image(
                            jets[1].constituents.map { particles[$0] }, jetEta: jets[1].eta, jetPhi: jets[1].phi)
                    {
                        (second.storage.pointer + i * size * size).update(from: img, count: img.count)
                        secondValid[i] = true
                    }
                    if let img = jetImage.image(
                        lead.constituents.map { particles[$0] }, jetEta: lead.eta, jetPhi: lead.phi)
                    {
                        (images.storage.pointer + i * size * size).update(from: img, count: img.count)
                    }
                }
            } else {
                mass = batch.mass
                for i in 0..<n {
                    let rows = batch.particles[i]
                    // The jet axis: the file's, or the leading constituent's direction.
                    let axis =
                        batch.axis[i] ?? (rows.max { $0.pt < $1.pt }.map { ($0.eta, $0.phi) } ?? (0, 0))
                    if let img = jetImage.image(rows, jetEta: axis.0, jetPhi: axis.1) {
                        (images.storage.pointer + i * size * size).update(from: img, count: img.count)
                    }
                }
            }
        } else {
            throw FormatError(path, "holds nothing GenLab can read as events")
        }
        // Per-event checks: a NaN or an empty jet gets a reason instead of a score.
        let problem = ModelInputs.defects(images).map { defect in
            defect.map { $0 == .nonFinite ? "non-finite input (NaN/Inf)" : "empty jet (zero total pT)" }
        }
        let per = images.count / max(n, 1), px = images.storage.pointer
        if problem.contains(where: { $0 != nil }) {
            for i in 0..<n where problem[i] != nil { for k in 0..<per { px[i * per + k] = 0 } }
        }
        return Chunk(
            images: images, labels: labels, mass: mass, problem: problem, weights: weights, second: second,
            secondValid: secondValid)
    }
}
