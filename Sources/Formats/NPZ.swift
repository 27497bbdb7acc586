import Engine
import Foundation

/// NumPy's .npz: a zip archive of .npy members, stored or deflated (np.savez / np.savez_compressed).
public enum NPZ {
    public static func read(_ path: String) throws -> [String: Tensor] {
        try decode(InputFile.contents(path), file: path)
    }

    public static func decode(_ data: Data, file: String, limits: InputLimits = .current) throws -> [String: Tensor] {
        let archive: ZipArchive
        do { archive = try ZipArchive(data, file: file) } catch let e as FormatError where e.problem.hasPrefix("no zip")
        {
            throw FormatError(file, "no zip end-of-central-directory record: not an .npz, or truncated")
        }
        var out: [String: Tensor] = [:]
        for m in archive.members {
            let bytes = try archive.contents(m, limits: limits)
            let key = m.name.hasSuffix(".npy") ? String(m.name.dropLast(4)) : m.name
            out[key] = try NPY.decode(bytes, file: file + ":" + m.name, limits: limits)
        }
        return out
    }
}
