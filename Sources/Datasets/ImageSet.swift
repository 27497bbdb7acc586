import Engine
import Formats
import Foundation

/// A data set of images in memory as one [N, C, H, W] tensor, loaded from an image folder or an
/// array file (.npy, IDX, HDF5), with a note of what was skipped.
public struct ImageSet {
    public var images: Tensor
    /// Class labels when the source has them: an HDF5 or .npz `labels` array, the IDX label file
    /// beside an IDX image file (as MNIST and Fashion-MNIST ship), or a folder's class sub-folders
    /// (`folder/<class>/*.png`, torchvision's ImageFolder convention).
    public var labels: [Int]?
    /// The names of classes 0, 1, … (sub-folder names, Fashion-MNIST's ten); nil: the label numbers.
    public var classNames: [String]?
    /// Where it came from and any skipped files, for the user.
    public var source: String
    public var skipped: [String] = []
    /// Attributes from the source file (HDF5), e.g. the jet-image preprocessing.
    public var attributes: [String: String] = [:]

    public var count: Int { images.shape[0] }
    /// The classes' names when the set is labelled: recorded names, else "0", "1", … up to the largest label.
    public var classes: [String]? { labels.map { classNames ?? ClassLabels.numberNames($0) } }
    public var channels: Int { images.shape[1] }
    public var height: Int { images.shape[2] }
    public var width: Int { images.shape[3] }

    public enum Scaling: String, CaseIterable, Codable, Sendable {
        /// [0, 1] → [−1, 1] (tanh generators).
        case minusOneToOne
        /// Values as loaded, in [0, 1] for image files.
        case zeroToOne
        /// Each image divided by its sum (jet images: pT fractions).
        case unitSum
        /// Each image divided by its maximum.
        case unitMax
    }

    public struct Options {
        /// Target size (square) after centre-crop + resize; nil keeps the source size.
        public var size: Int?
        /// 1 (grey), 3 (RGB) or nil (grey when every source image is grey).
        public var channels: Int?
        public var resampling: Image.Resampling = .area
        /// HDF5 dataset to read; nil picks `images` or the first rank-3/4 dataset.
        public var dataset: String?
        /// At most this many images (nil: all).
        public var limit: Int?
        public init(
            size: Int? = nil, channels: Int? = nil, resampling: Image.Resampling = .area, dataset: String? = nil,
            limit: Int? = nil
        ) {
            self.size = size; self.channels = channels; self.resampling = resampling; self.dataset = dataset;
            self.limit = limit
        }
    }

    public init(images: Tensor, labels: [Int]? = nil, source: String) {
        precondition(images.rank == 4, "GenLab ImageSet: images \(images.shape) are not [N, C, H, W]")
        self.images = images; self.labels = labels; self.source = source
    }

    /// Loads `path`: a folder of PNG/JPEG files, or a .npy / .npz / IDX (.gz) / HDF5 file. A path
    /// like `file.h5:/group/images` (or `file.npz:images`) names the dataset. "fashion-mnist" finds
    /// Debian's dataset-fashion-mnist training images.
    // Long: one branch per file kind, each with its checks.
    public static func load(_ path: String, options: Options = Options()) throws -> ImageSet {
        var path = path, options = options
        if path == "fashion-mnist" || path == "fashion-mnist:test" {
            let which = path.hasSuffix(":test") ? "t10k" : "train"
            path = "/usr/share/datasets/fashion-mnist/\(which)-images-idx3-ubyte.gz"
            guard FileManager.default.fileExists(atPath: path) else {
                throw FormatError(path, "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
            }
        }
        if let r = path.range(of: ".h5:") ?? path.range(of: ".hdf5:") ?? path.range(of: ".npz:") {
            options.dataset = String(path[path.index(before: r.upperBound)...].dropFirst())
            path = String(path[..<path.index(before: r.upperBound)])
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FormatError(path, "no such file or folder")
        }
        var set: ImageSet
        if isDirectory.boolValue {
            set = try loadFolder(path, options)
        } else {
            let kind = try FileKind.detect(path)
            switch kind {
            case .npy: set = ImageSet(images: try asImages(NPY.read(path), path, integersAreBytes: true), source: path)
            case .idx:
                set = ImageSet(images: try asImages(IDX.read(path), path, integersAreBytes: true), source: path)
                try set.pairIDXLabels(path)
            case .npz:
                let arrays = try NPZ.read(path)
                let key =
                    options.dataset
                    ?? (arrays["images"] != nil
                        ? "images" : arrays.keys.sorted().first { [3, 4].contains(arrays[$0]!.rank) })
                guard let key, let t = arrays[key] else {
                    throw FormatError(
                        path, "no images array (members: \(arrays.keys.sorted().joined(separator: ", ")))")
                }
                set = ImageSet(
                    images: try asImages(t, path + ":" + key, integersAreBytes: true), source: path + ":" + key)
                if let labels = arrays["labels"], key != "labels" {
                    guard labels.rank == 1, labels.count == set.count else {
                        throw FormatError(
                            path, "labels has shape \(labels.shape), expected (\(set.count),): one label per image")
                    }
                    set.labels = try ClassLabels.validated(labels.scalars, file: path, dataset: "labels")
                }
            case .hdf5: set = try loadHDF5(path, options)
            case .png, .jpeg:
                let im = try Image.read(path).composited()
                set = ImageSet(images: im.tensor().reshape([1, im.channels, im.height, im.width]), source: path)
            case .unknown: throw FormatError(path, "unrecognised format: not a PNG, JPEG, .npy, IDX or HDF5 file")
            case .root, .parquet, .csv, .tiff, .webp, .gif, .bmp: throw FormatError(path, kind.advice!)
            default: throw FormatError(path, "holds no images GenLab can read (\(kind.rawValue))")
            }
            if let limit = options.limit, limit < set.count {
                set.images = set.images.slice(axis: 0, start: 0, end: limit).detach()
                set.labels = set.labels.map { Array($0.prefix(limit)) }
            }
            if set.jetRecord != nil, let s = options.size, s != set.height || s != set.width {
                // A jet image's pixel is a fixed (η, φ) cell: resizing would change the physics.
                throw FormatError(
                    set.source,
                    "holds \(set.height)×\(set.width) jet images, not \(s)×\(s): jet images are "
                        + "never resized; make them at that size with the model's preprocessing")
            }
            set = try set.conformed(options)
        }
        try set.checkFinite()
        return set
    }

    /// Fails when any value is NaN or infinite, naming the first image that has one.
    public func checkFinite() throws {
        let per = channels * height * width, p = images.storage.pointer
        for i in 0..<(count * per) where !p[i].isFinite {
            throw FormatError(source, "image \(i / per) holds \(p[i]) (NaN/Inf values are not allowed)")
        }
        if count == 0 { throw FormatError(source, "holds no images") }
    }

    /// A copy with every image scaled as asked.
    public func scaled(_ scaling: Scaling) -> ImageSet {
        var out = self
        switch scaling {
        case .zeroToOne: return self
        case .minusOneToOne: out.images = noGrad { images * 2 - 1 }
        case .unitSum, .unitMax:
            let per = channels * height * width
            let t = images.copy(), p = t.storage.pointer
            for i in 0..<count {
                var s: Float = 0
                for k in 0..<per { s = scaling == .unitSum ? s + p[i * per + k] : Swift.max(s, p[i * per + k]) }
                if s > 0 { for k in 0..<per { p[i * per + k] /= s } }
            }
            out.images = t
        }
        return out
    }

    /// Seeded shuffled mini-batches of indices (the last partial batch is kept unless `dropLast`).
    public func batchIndices(size: Int, rng: inout PRNG, dropLast: Bool = false) -> [[Int]] {
        let order = rng.permutation(count)
        var out: [[Int]] = []
        var i = 0
        while i < order.count {
            let end = Swift.min(i + size, order.count)
            if dropLast && end - i < size { break }
            out.append(Array(order[i..<end]))
            i = end
        }
        return out
    }

    /// The images at `indices` as one [B, C, H, W] tensor.
    public func batch(_ indices: [Int]) -> Tensor { images.indexSelect(axis: 0, indices: indices).detach() }

    // MARK: Loading

    /// A rank-3 array whose last axis has at most 4 entries (and is not square) is particles
    /// (N, M, features), never images (JetNet's (N, 30, 4), constituents' (N, M, 3)).
    public static func looksLikeParticles(_ shape: [Int]) -> Bool {
        shape.count == 3 && shape[2] <= 4 && shape[1] != shape[2]
    }

    public static func asImages(_ t: Tensor, _ path: String, integersAreBytes: Bool) throws -> Tensor {
        var t = t
        switch t.rank {
        case 2: t = t.reshape([1, 1] + t.shape)
        case 3 where looksLikeParticles(t.shape):
            throw FormatError(
                path,
                "array of shape \(t.shape) holds particles (events × particles × \(t.shape[2]) features), not images: "
                    + "an image is at least 8 pixels a side")
        case 3: t = t.reshape([t.shape[0], 1, t.shape[1], t.shape[2]])
        case 4 where t.shape[3] <= 4 && t.shape[1] > 4: t = t.permute([0, 3, 1, 2]).detach()  // NHWC → NCHW
        case 4: break
        default:
            throw FormatError(path, "array of shape \(t.shape) is not images ([N, H, W], [N, H, W, C] or [N, C, H, W])")
        }
        if integersAreBytes {
            let v = t.storage.buffer
            if let mx = v.max(), mx > 1, mx <= 255, v.allSatisfy({ $0 >= 0 && $0 == $0.rounded() }) {
                t = noGrad { t / 255 }
            }
        }
        return t
    }

    static func loadHDF5(_ path: String, _ options: Options) throws -> ImageSet {
        let file = try HDF5File(path)
        let entries = try file.entries().filter { !$0.isGroup }
        let name: String
        if let d = options.dataset {
            name = d.hasPrefix("/") ? d : "/" + d
            guard entries.contains(where: { $0.path == name }) else {
                throw FormatError(path, "no dataset \(name) (datasets: \(entries.map(\.path).joined(separator: ", ")))")
            }
        } else if let e = entries.first(where: { $0.path.hasSuffix("/images") })
            ?? entries.first(where: {
                // Jet constituents (N, M, 3) are particles, not pictures: never taken for images.
                [3, 4].contains($0.shape.count) && ["float", "int", "uint"].contains($0.dtype)
                    && !$0.path.hasSuffix("/constituents") && !ImageSet.looksLikeParticles($0.shape)
            })
        {
            name = e.path
        } else if let layout = try EventLayout.detect(file) {
            throw FormatError(
                path,
                "holds no images but \(layout.isWholeEvents ? "whole events" : "jet constituents"), not pictures "
                    + "(\(layout.description)); "
                    + "genlab train, score, inspect and quality make jet images from them")
        } else if entries.contains(where: { $0.path.hasSuffix("/constituents") }) {
            throw FormatError(
                path,
                "holds jet constituents but no /images: they are particles, not pictures "
                    + "(genlab score and inspect make jet images from them with a checkpoint's preprocessing)")
        } else {
            throw FormatError(
                path, "no images dataset (looked for 'images' or any rank-3/4 dataset); use FILE.h5:/dataset")
        }
        if let e = entries.first(where: { $0.path == name }), !["float", "int", "uint"].contains(e.dtype) {
            throw FormatError(path, "\(name) holds \(e.dtype) values, not numbers")
        }
        if let e = entries.first(where: { $0.path == name }), e.shape.count == 2,
            PandasFrame.isFrame(file, key: String(name.dropFirst().prefix { $0 != "/" }))
        {
            throw FormatError(
                path, "\(name) is a column block of a pandas table (rows of numbers), not images")
        }
        let limit = options.limit.map { Swift.min($0, (try? file.shape(name).first) ?? 0) }
        let raw = try limit.map { try file.readRows(name, 0, $0) } ?? file.read(name)
        var set = ImageSet(images: try asImages(raw, path, integersAreBytes: false), source: path + ":" + name)
        set.attributes = (try? file.attributes()) ?? [:]
        if file.contains("/labels") {
            let shape = try file.shape("/labels")
            guard shape.count == 1, shape[0] >= set.count else {
                throw FormatError(path, "/labels has shape \(shape), expected (\(set.count),): one label per image")
            }
            let values = try file.readRows("/labels", 0, set.count).scalars
            // Jet images are labelled background (0) or signal (1), as event files are; other images by class.
            set.labels =
                set.jetRecord != nil
                ? try EventLabels.validated(values, file: path) : try ClassLabels.validated(values, file: path)
        }
        return set
    }

    /// The PNG and JPEG files under a folder (recursively), as sorted relative paths.
    public static func imageFiles(in path: String) -> [String] { ImageFolder.scan(path).files }

    // Long: reads, checks and resizes a folder's images, naming each one skipped.
    static func loadFolder(_ path: String, _ options: Options) throws -> ImageSet {
        let scan = ImageFolder.scan(path)
        var files = scan.files
        if let limit = options.limit { files = Array(files.prefix(limit)) }
        guard !files.isEmpty else { throw FormatError(path, "folder holds no PNG or JPEG files") }
        // Decode in parallel (one slot per file; nothing is held twice).
        var decoded = [Image?](repeating: nil, count: files.count)
        var failures = [String?](repeating: nil, count: files.count)
        decoded.withUnsafeMutableBufferPointer { images in
            failures.withUnsafeMutableBufferPointer { errors in
                parallelFor(files.count, grain: 1) { r in
                    for i in r {
                        do {
                            // Shrink at once, so that a folder of large photos never sits in memory whole.
                            var im = try Image.read(path + "/" + files[i])
                            im = im.channels == 1 || im.channels == 3 ? im : (im.channels == 2 ? im.grey() : im.rgb())
                            if let size = options.size {
                                im = im.centreCropSquare().resized(
                                    width: size, height: size, method: options.resampling)
                            }
                            images[i] = im
                        } catch { errors[i] = "\(error)" }
                    }
                }
            }
        }
        let ok = decoded.compactMap { $0 }
        guard let first = ok.first else {
            throw FormatError(
                path,
                "none of its \(files.count) image files could be read; first: "
                    + "\(failures.compactMap { $0 }.first ?? "?")"
            )
        }
        let channels = options.channels ?? (ok.allSatisfy { $0.channels <= 2 } ? 1 : 3)
        let size = options.size
        let w = size ?? first.width, h = size ?? first.height
        var skipped = scan.rejected + failures.compactMap { $0 }
        _ = try InputLimits.current.elements(
            [ok.count, channels, h, w], file: path, what: "the folder's \(ok.count) images")
        let tensor = Tensor(uninitialized: [ok.count, channels, h, w])
        var kept = 0, keptFiles: [String] = []
        for (i, decodedImage) in decoded.enumerated() {
            guard let decodedImage else { continue }
            let im = channels == 1 ? decodedImage.grey() : decodedImage.rgb()
            guard im.width == w, im.height == h else {
                skipped.append(
                    "\(path)/\(files[i]): \(im.width)×\(im.height), unlike the first image (\(w)×\(h)); "
                        + "pass an image size to resize them all")
                continue
            }
            let t = im.tensor()
            (tensor.storage.pointer + kept * channels * h * w).update(from: t.storage.pointer, count: t.count)
            kept += 1
            keptFiles.append(files[i])
        }
        var set = ImageSet(images: tensor.slice(axis: 0, start: 0, end: kept).detach(), source: path)
        set.labelByClassFolders(keptFiles)
        set.skipped = skipped
        if !skipped.isEmpty {
            Warnings.emit("\(path): skipped \(skipped.count) of \(files.count + scan.rejected.count) image files:")
            for line in skipped { Warnings.emit("  " + line) }
        }
        return set
    }

    func conformed(_ options: Options) throws -> ImageSet {
        var out = self
        if let c = options.channels, c != channels {
            guard channels == 3 && c == 1 || channels == 1 && c == 3 else {
                throw FormatError(source, "cannot turn \(channels)-channel images into \(c)-channel ones")
            }
            out.images =
                c == 1 ? images.mean(axes: [1], keepDims: true).detach() : images.expand([count, 3, height, width])
        }
        if let s = options.size, s != height || s != width {
            let t = Tensor(uninitialized: [count, out.channels, s, s])
            for i in 0..<count {
                let im = Image(
                    tensor: out.images.slice(axis: 0, start: i, end: i + 1).reshape([out.channels, height, width])
                        .detach(),
                    range: 0...1)
                let r = im.centreCropSquare().resized(width: s, height: s, method: options.resampling).tensor()
                (t.storage.pointer + i * r.count).update(from: r.storage.pointer, count: r.count)
            }
            out.images = t
        }
        return out
    }
}
