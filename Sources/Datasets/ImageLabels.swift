import Engine
import Foundation
import Formats

/// Where an image set's class labels come from besides an array named `labels`.
extension ImageSet {
    /// Fashion-MNIST's ten classes, in label order (Xiao et al. 2017).
    public static let fashionMNISTClasses = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Labels from class sub-folders, torchvision's ImageFolder convention: when every file sits
    /// below a first-level sub-folder, that folder's name is its class (classes sorted by name).
    /// A folder with images at its top level, or a single sub-folder, is left unlabelled.
    mutating func labelByClassFolders(_ files: [String]) {
        let folders = files.map { f -> String? in
            let parts = f.split(separator: "/", omittingEmptySubsequences: true)
            return parts.count >= 2 ? String(parts[0]) : nil
        }
        guard !folders.isEmpty, folders.allSatisfy({ $0 != nil }) else { return }
        let names = Set(folders.map { $0! }).sorted()
        guard names.count >= 2 else { return }
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        labels = folders.map { index[$0!]! }
        classNames = names
    }

    /// Pairs an IDX image file with the label file beside it, as MNIST and Fashion-MNIST ship them
    /// (`…-images-idx3-ubyte[.gz]` beside `…-labels-idx1-ubyte[.gz]`); Debian's Fashion-MNIST gets its
    /// class names. No label file: unlabelled. A label file that does not match is an error naming it.
    mutating func pairIDXLabels(_ path: String) throws {
        guard let r = path.range(of: "-images-idx3-ubyte", options: .backwards) else { return }
        let stem = path.replacingCharacters(in: r, with: "-labels-idx1-ubyte")
        let candidates = [stem, stem.hasSuffix(".gz") ? String(stem.dropLast(3)) : stem + ".gz"]
        guard let labelPath = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else { return }
        let t = try IDX.read(labelPath)
        guard t.rank == 1, t.count == count else {
            throw FormatError(
                labelPath, "holds labels of shape \(t.shape) for the \(count) images of \(path): one label per image")
        }
        labels = try ClassLabels.validated(t.scalars, file: labelPath, dataset: "labels")
        if path.contains("fashion-mnist"), labels!.allSatisfy({ $0 < Self.fashionMNISTClasses.count }) {
            classNames = Self.fashionMNISTClasses
        }
    }

    /// The labels and class names of a labelled set, or an error naming the source when it has none.
    public func requireClasses(for purpose: String) throws -> (labels: [Int], names: [String]) {
        guard let labels, let names = classes else {
            throw FormatError(
                source,
                "\(purpose) needs class labels, and these images have none: give a folder of class sub-folders "
                    + "(folder/<class>/*.png), an HDF5 or .npz file with a labels array, or an IDX file with its "
                    + "label file beside it")
        }
        guard names.count >= 2 else {
            throw FormatError(source, "\(purpose) needs at least two classes; the labels name \(names.count)")
        }
        if let bad = labels.firstIndex(where: { $0 >= names.count }) {
            throw FormatError(source, "label \(labels[bad]) of image \(bad) names no class (\(names.count) classes)")
        }
        return (labels, names)
    }
}

extension ImageSet {
    /// Several sources as one training set (`genlab train --data A --data B`), in the order given.
    /// They must agree in channels and size (load the later ones at the first one's size); the
    /// labels are kept when every source has labels naming the same classes, and left out
    /// otherwise. Jet images (with a preprocessing record) train from one file at a time.
    public static func combined(_ sets: [ImageSet]) throws -> ImageSet {
        guard var out = sets.first else { throw FormatError("--data", "no data given") }
        guard sets.count > 1 else { return out }
        for set in sets where set.jetRecord != nil {
            throw FormatError(set.source, "holds jet images: they train from one --data file at a time")
        }
        for set in sets.dropFirst() where set.images.shape.dropFirst() != out.images.shape.dropFirst() {
            throw FormatError(
                set.source,
                "images are \(set.channels)×\(set.height)×\(set.width) but \(out.source)'s are "
                    + "\(out.channels)×\(out.height)×\(out.width): every --data source must agree")
        }
        let shared = sharedClasses(sets)
        out.images = Tensor.concat(sets.map(\.images), axis: 0).detach()
        out.labels = shared != nil ? sets.flatMap { $0.labels ?? [] } : nil
        out.classNames = shared
        out.source = sets.map(\.source).joined(separator: " + ")
        out.skipped = sets.flatMap(\.skipped)
        out.attributes = [:]
        return out
    }

    /// The classes every set is labelled with, when they all name the same ones; nil otherwise.
    static func sharedClasses(_ sets: [ImageSet]) -> [String]? {
        guard let first = sets.first?.classes, sets.allSatisfy({ $0.classes == first }) else { return nil }
        return first
    }

    /// Why `combined` left the labels out, for `--conditional`: the sources' classes, each named.
    public static func classDisagreement(_ sets: [ImageSet]) -> String? {
        guard sets.count > 1, sharedClasses(sets) == nil else { return nil }
        return sets.map { set in
            "\(set.source): " + (set.classes.map { $0.joined(separator: ", ") } ?? "no labels")
        }.joined(separator: "; ")
    }
}
