import Foundation

/// The image files of a folder: PNG and JPEG under it (recursively).
public enum ImageFolder {
    /// Picture formats GenLab does not decode, listed as skipped when a folder holds them.
    static let otherPictures = ["tif", "tiff", "webp", "gif", "bmp", "heic", "avif"]

    /// The PNG and JPEG files under `path` as sorted relative paths, and the image-named entries
    /// that are not regular files (a folder, a FIFO), each with the reason.
    public static func scan(_ path: String) -> (files: [String], rejected: [String]) {
        var files: [String] = [], rejected: [String] = []
        let walker = FileManager.default.enumerator(atPath: path)
        while let f = walker?.nextObject() as? String {
            let lower = f.lowercased()
            guard lower.hasSuffix(".png") || lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") else {
                // Other pictures are named, not passed over in silence.
                if let ext = otherPictures.first(where: { lower.hasSuffix("." + $0) }) {
                    rejected.append(
                        "\(path)/\(f): a \(ext.uppercased()) image: GenLab reads PNG and JPEG (convert it, "
                            + "e.g. `convert FILE out.png`)")
                }
                continue
            }
            do { try InputFile.requireRegular(path + "/" + f); files.append(f) } catch { rejected.append("\(error)") }
        }
        return (files.sorted(), rejected.sorted())
    }
}
