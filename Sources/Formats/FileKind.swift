import Foundation

/// What a file holds, by its first bytes.
public enum FileKind: String {
    case png, jpeg, npy, npz = "npz (zip)", idx, hdf5, safetensors, gzip
    // Recognised so that a refusal can say what the file is and what to do with it.
    case root = "ROOT", parquet = "Parquet", csv = "CSV text", tiff = "TIFF", webp = "WebP", gif = "GIF", bmp = "BMP"
    case unknown

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
        if b.starts(with: Array("root".utf8)) { return .root }
        if b.starts(with: Array("PAR1".utf8)) { return .parquet }
        if b.starts(with: [0x49, 0x49, 0x2A, 0x00]) || b.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if b.count >= 12, b.starts(with: Array("RIFF".utf8)), Array(b[8..<12]) == Array("WEBP".utf8) { return .webp }
        if b.starts(with: Array("GIF8".utf8)) { return .gif }
        if b.starts(with: Array("BM".utf8)) { return .bmp }
        if looksLikeDelimitedText(h) { return .csv }
        return .unknown
    }

    /// Printable text whose first lines are split by one delimiter (`,`, `;` or tab) — a CSV such as
    /// the Dark Machines challenge's event files.
    static func looksLikeDelimitedText(_ h: FileHandle) -> Bool {
        try? h.seek(toOffset: 0)
        let head = [UInt8]((try? h.read(upToCount: 4096)) ?? Data())
        guard !head.isEmpty, head.allSatisfy({ $0 == 9 || $0 == 10 || $0 == 13 || (0x20..<0x7F).contains($0) }) else {
            return false
        }
        let lines = String(decoding: head, as: UTF8.self).split(separator: "\n").prefix(3)
        return [",", ";", "\t"].contains { d in
            lines.count >= 1 && lines.allSatisfy { $0.split(separator: d).count >= 3 }
        }
    }

    /// What to do with a file GenLab recognises but does not read.
    public var advice: String? {
        switch self {
        case .root, .parquet, .csv:
            return "a \(rawValue) file: GenLab reads event files as HDF5; convert it with "
                + "`scripts/convert_events.py FILE OUT.h5` (uproot/awkward/pyarrow in the scripts' venv; it writes "
                + "GenLab's /constituents, /labels and /jets), then give OUT.h5"
        case .tiff, .webp, .gif, .bmp:
            return "a \(rawValue) image: GenLab reads PNG and JPEG; convert it (e.g. `convert FILE out.png`)"
        default: return nil
        }
    }

    /// Why a file of this kind cannot be read as events, and what to do.
    public static func unreadableAsEvents(_ kind: FileKind) -> String {
        kind.advice
            ?? "events must be an HDF5 file (jet images, GenLab's constituents, or the Top Quark Tagging, LHC "
            + "Olympics, JetNet or ATLAS layouts) or .npy images, not \(kind == .unknown ? "this file" : kind.rawValue)"
    }
}
