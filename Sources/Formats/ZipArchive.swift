import Foundation

/// The members of a zip archive, read through its central directory: what NumPy's .npz and
/// PyTorch's / TorchScript's .pt archives are. Stored and deflated members; every offset and size is
/// checked against the file, and a member's declared size bounds what inflating it may produce.
public struct ZipArchive {
    public struct Member {
        public let name: String
        let method: Int, compressed: Int, size: Int, dataStart: Int
    }
    public let file: String
    public let data: Data
    /// Members in the central directory's order.
    public let members: [Member]

    public init(_ data: Data, file: String) throws {
        self.file = file
        self.data = data
        let b = data
        let base = b.startIndex
        func u16(_ o: Int) -> Int { Int(b[base + o]) | Int(b[base + o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        // The end-of-central-directory record: the last "PK\u{5}\u{6}" within 64 KiB + 22 bytes of the end.
        guard b.count >= 22 else { throw FormatError(file, "too short for a zip archive") }
        var eocd = -1
        for o in stride(from: b.count - 22, through: max(0, b.count - 22 - 65_535), by: -1)
        where u32(o) == 0x0605_4B50 { eocd = o; break }
        guard eocd >= 0 else {
            throw FormatError(file, "no zip end-of-central-directory record: not a zip archive, or truncated")
        }
        var entries = u16(eocd + 10), dirOffset = u32(eocd + 16)
        // Zip64 (PyTorch writes it for large archives): the locator sits just before the record.
        if entries == 0xFFFF || dirOffset == 0xFFFF_FFFF, eocd >= 20, u32(eocd - 20) == 0x0706_4B50 {
            let record = u32(eocd - 20 + 8)
            guard record + 56 <= b.count, u32(record) == 0x0606_4B50 else {
                throw FormatError(file, "corrupt zip64 end-of-central-directory record")
            }
            entries = u32(record + 32)
            dirOffset = u32(record + 48)
        }
        var members: [Member] = []
        var o = dirOffset
        for _ in 0..<entries {
            guard o >= 0, o + 46 <= b.count, u32(o) == 0x0201_4B50 else {
                throw FormatError(file, "corrupt zip central directory at offset \(o)")
            }
            let method = u16(o + 10)
            var compressed = u32(o + 20), size = u32(o + 24)
            let nameLength = u16(o + 28), extra = u16(o + 30), comment = u16(o + 32)
            var local = u32(o + 42)
            guard o + 46 + nameLength + extra <= b.count else {
                throw FormatError(file, "corrupt zip entry name at offset \(o)")
            }
            let name = String(decoding: b[(base + o + 46)..<(base + o + 46 + nameLength)], as: UTF8.self)
            // Zip64 extra field: the 64-bit values of the fields that read 0xFFFFFFFF, in this order.
            var e = o + 46 + nameLength
            while e + 4 <= o + 46 + nameLength + extra {
                let tag = u16(e), length = u16(e + 2)
                if tag == 1 {
                    var at = e + 4
                    for field in [0, 1, 2] {
                        let wanted = field == 0 ? size : field == 1 ? compressed : local
                        guard wanted == 0xFFFF_FFFF, at + 8 <= e + 4 + length else { continue }
                        let value = u32(at) | u32(at + 4) << 32
                        if field == 0 { size = value } else if field == 1 { compressed = value } else { local = value }
                        at += 8
                    }
                }
                e += 4 + length
            }
            o += 46 + nameLength + extra + comment
            guard local >= 0, local + 30 <= b.count, u32(local) == 0x0403_4B50 else {
                throw FormatError(file, "member \(name): bad local header at offset \(local)")
            }
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            guard compressed >= 0, size >= 0, start + compressed <= b.count else {
                throw FormatError(file, "member \(name): data runs past the end of the file (truncated)")
            }
            members.append(Member(name: name, method: method, compressed: compressed, size: size, dataStart: start))
        }
        self.members = members
    }

    /// The member called `name`, if there is one.
    public func member(_ name: String) -> Member? { members.first { $0.name == name } }

    /// A member's bytes, inflated when deflated; its declared size must pass `limits`.
    public func contents(_ m: Member, limits: InputLimits = .current) throws -> Data {
        try limits.bytes(m.size, file: file, what: "member \(m.name)")
        let start = data.startIndex + m.dataStart
        let raw = data.subdata(in: start..<(start + m.compressed))
        let bytes: Data
        switch m.method {
        case 0: bytes = raw
        case 8: bytes = try Zlib.inflate(raw, raw: true, maxBytes: m.size, file: file + ":" + m.name)
        default: throw FormatError(file, "member \(m.name): unsupported zip compression method \(m.method)")
        }
        guard bytes.count == m.size else {
            throw FormatError(file, "member \(m.name): \(bytes.count) bytes after decompression, header says \(m.size)")
        }
        return bytes
    }
}
