import Foundation

/// What a file holds, by its first bytes.
public enum FileKind: String {
    case png, jpeg, npy, npz = "npz (zip)", idx, hdf5, safetensors, gzip, unknown

    public static func detect(_ path: String) throws -> FileKind {
        try InputFile.requireRegular(path)
        guard let h = FileHandle(forReadingAtPath: path) else { throw FormatError(path, "cannot be read") }
        defer { try? h.close() }
        let b = [UInt8]((try? h.read(upToCount: 16)) ?? Data())
        if b.isEmpty { throw FormatError(path, "empty file") }
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return .png }
        if b.starts(with: [0xFF, 0xD8]) { return .jpeg }
        if b.starts(with: [0x93] + Array("NUMPY".utf8)) { return .npy }
        if b.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return .npz }
        if b.starts(with: [0x89, 0x48, 0x44, 0x46]) { return .hdf5 }
        if b.starts(with: [0x1F, 0x8B]) { return .idx }  // gzip: GenLab reads gzip-compressed IDX
        if b.count >= 4, b[0] == 0, b[1] == 0, [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E].contains(b[2]) { return .idx }
        if b.count >= 9, b[8] == UInt8(ascii: "{") { return .safetensors }
        return .unknown
    }
}
