import Engine
import Foundation

/// NumPy's .npz: a zip archive of .npy members, stored or deflated (np.savez / np.savez_compressed).
/// Read through the zip central directory; each member's size and CRC-free bounds are checked.
public enum NPZ {
    public static func read(_ path: String) throws -> [String: Tensor] {
        try decode(InputFile.contents(path), file: path)
    }

    public static func decode(_ data: Data, file: String, limits: InputLimits = .current) throws -> [String: Tensor] {
        let b = [UInt8](data)
        func u16(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        // The end-of-central-directory record: the last "PK\u{5}\u{6}" within 64 KiB + 22 bytes of the end.
        guard b.count >= 22 else { throw FormatError(file, "too short for a zip archive") }
        var eocd = -1
        for o in stride(from: b.count - 22, through: max(0, b.count - 22 - 65_535), by: -1)
        where b[o] == 0x50 && b[o + 1] == 0x4B && b[o + 2] == 5 && b[o + 3] == 6 { eocd = o; break }
        guard eocd >= 0 else {
            throw FormatError(file, "no zip end-of-central-directory record: not an .npz, or truncated")
        }
        let entries = u16(eocd + 10), dirOffset = u32(eocd + 16)
        var out: [String: Tensor] = [:]
        var o = dirOffset
        for _ in 0..<entries {
            guard o + 46 <= b.count, u32(o) == 0x0201_4B50 else {
                throw FormatError(file, "corrupt zip central directory at offset \(o)")
            }
            let method = u16(o + 10), compressed = u32(o + 20), size = u32(o + 24)
            let nameLength = u16(o + 28), extra = u16(o + 30), comment = u16(o + 32), local = u32(o + 42)
            guard o + 46 + nameLength <= b.count else {
                throw FormatError(file, "corrupt zip entry name at offset \(o)")
            }
            let name = String(decoding: b[(o + 46)..<(o + 46 + nameLength)], as: UTF8.self)
            o += 46 + nameLength + extra + comment
            guard local + 30 <= b.count, u32(local) == 0x0403_4B50 else {
                throw FormatError(file, "member \(name): bad local header at offset \(local)")
            }
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            guard start + compressed <= b.count else {
                throw FormatError(file, "member \(name): data runs past the end of the file (truncated)")
            }
            // The declared size bounds what inflating may produce (a bomb stops there).
            try limits.bytes(size, file: file, what: "member \(name)")
            let raw = data.subdata(in: start..<(start + compressed))
            let bytes: Data
            switch method {
            case 0: bytes = raw
            case 8: bytes = try Zlib.inflate(raw, raw: true, maxBytes: size, file: file + ":" + name)
            default: throw FormatError(file, "member \(name): unsupported zip compression method \(method)")
            }
            guard bytes.count == size else {
                throw FormatError(file, "member \(name): \(bytes.count) bytes after decompression, header says \(size)")
            }
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            out[key] = try NPY.decode(bytes, file: file + ":" + name, limits: limits)
        }
        return out
    }
}
