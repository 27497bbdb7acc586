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
        if spec.isJetImages, (try? FileKind.detect(path)) == .hdf5 {
            let file = try HDF5File(path)
            if !file.contains("/images") && file.contains("/constituents") {
                let source = try EventSource(path, spec: spec)
                let chunk = try source.read(0, min(limit ?? source.count, source.count))
                var set = ImageSet(images: chunk.images, source: path + ":/constituents")
                set.attributes = (try? file.attributes()) ?? [:]
                if chunk.labels.allSatisfy({ $0 != nil }) { set.labels = chunk.labels.map { $0! } }
                return set
            }
        }
        return try ImageSet.load(path, options: .init(size: spec.imageSize, channels: spec.channels, limit: limit))
    }
}
