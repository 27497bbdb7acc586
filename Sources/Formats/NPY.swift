import CFormats
import Engine
import Foundation

/// NumPy's .npy format (versions 1, 2 and 3): a magic string, a header dict
/// {'descr': '<f4', 'fortran_order': False, 'shape': (…)}, then the raw array. Reads f2/f4/f8,
/// i1–i8, u1–u8 and b1 in either byte order and either memory order, into Float32 C order;
/// writes '<f4' (version 1, or 2 when the header needs it).
public enum NPY {
    public static func read(_ path: String) throws -> Tensor {
        try decode(InputFile.contents(path), file: path)
    }

    // Long: the header checks in order, each with its own message.
    public static func decode(_ data: Data, file: String, limits: InputLimits = .current) throws -> Tensor {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw FormatError(file, "not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1: headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw FormatError(file, "truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24;
            headerStart = 12
        default: throw FormatError(file, "unsupported .npy version \(major)")
        }
        guard headerStart + headerLength <= bytes.count,
            let header = String(
                bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1)
        else {
            throw FormatError(file, "truncated .npy header (\(headerLength) bytes declared, file has \(bytes.count))")
        }
        let (descr, fortran, shape) = try parseHeader(header, file: file)
        let order = descr.first!, kind = descr.dropFirst().first!, size = Int(descr.dropFirst(2)) ?? 0
        guard "<>|=".contains(order), [1, 2, 4, 8].contains(size), "fiub".contains(kind), !(kind == "f" && size == 1)
        else {
            throw FormatError(file, "unsupported dtype '\(descr)' (supported: f2 f4 f8, i1–i8, u1–u8, b1)")
        }
        let count = try limits.elements(shape, elementBytes: max(size, 4), file: file, what: "the array")
        let start = headerStart + headerLength
        guard bytes.count - start >= count * size else {
            throw FormatError(
                file,
                "truncated data: shape \(shape) of \(descr) needs \(count * size) bytes, file has "
                    + "\(bytes.count - start)"
            )
        }
        // More data than the header declares: the header does not describe the file (numpy would
        // read the first part silently; GenLab says so).
        guard bytes.count - start == count * size else {
            throw FormatError(
                file,
                "holds \(bytes.count - start) bytes of data but its header declares shape \(shape) of \(descr) "
                    + "(\(count * size) bytes): a damaged or mislabelled file")
        }
        let big = order == ">"
        let flat = Tensor(uninitialized: shape)
        let out = flat.storage.pointer
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + start
            for i in 0..<count {
                var word: UInt64 = 0
                for b in 0..<size {
                    word |=
                        UInt64(base.load(fromByteOffset: i * size + (big ? size - 1 - b : b), as: UInt8.self))
                        << (8 * b)
                }
                out[i] = value(word, kind: kind, size: size)
            }
        }
        guard fortran, shape.count > 1 else { return flat }
        // Fortran order: the data is the transpose's C order.
        return flat.reshape(shape.reversed()).permute(Array((0..<shape.count).reversed()))
    }

    static func value(_ w: UInt64, kind: Character, size: Int) -> Float {
        switch (kind, size) {
        case ("f", 2): return Float(Float16(bitPattern: UInt16(w)))
        case ("f", 4): return Float(bitPattern: UInt32(w))
        case ("f", 8): return Float(Double(bitPattern: w))
        case ("i", _):
            let shift = UInt64(64 - 8 * size)
            return Float(Int64(bitPattern: w << shift) >> Int64(shift))
        default: return Float(w)
        }
    }

    static func parseHeader(_ h: String, file: String) throws -> (String, Bool, [Int]) {
        func field(_ key: String) -> Substring? {
            guard let r = h.range(of: "'\(key)':") else { return nil }
            return h[r.upperBound...].drop { $0 == " " }
        }
        guard let d = field("descr"), d.first == "'", let close = d.dropFirst().firstIndex(of: "'") else {
            throw FormatError(file, "header has no 'descr': \(h)")
        }
        let descr = String(d[d.index(after: d.startIndex)..<close])
        guard let f = field("fortran_order") else { throw FormatError(file, "header has no 'fortran_order'") }
        guard let s = field("shape"), s.first == "(", let end = s.firstIndex(of: ")") else {
            throw FormatError(file, "header has no 'shape'")
        }
        let inner = s[s.index(after: s.startIndex)..<end]
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else { throw FormatError(file, "bad shape entry '\(part)' in header") }
            guard shape.count < 32 else { throw FormatError(file, "shape has more than 32 dimensions") }
            shape.append(v)
        }
        guard descr.count >= 3 else { throw FormatError(file, "bad dtype '\(descr)'") }
        return (descr, f.hasPrefix("True"), shape)
    }

    /// Serialises as '<f4', C order.
    public static func encode(_ t: Tensor) -> Data {
        let shapeText =
            t.shape.isEmpty
            ? "()"
            : t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        let v2 = header.utf8.count + 11 > 65535
        let prefix = v2 ? 12 : 10
        while (prefix + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [v2 ? 2 : 1, 0])
        let n = header.utf8.count
        d.append(
            contentsOf: v2
                ? [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)]
                : [UInt8(n & 0xFF), UInt8(n >> 8)])
        d.append(Data(header.utf8))
        t.storage.buffer.withMemoryRebound(to: UInt8.self) { d.append(contentsOf: $0) }
        return d
    }

    public static func write(_ t: Tensor, to path: String) throws { try AtomicFile.write(encode(t), to: path) }
}

/// IDX files (as MNIST and Fashion-MNIST ship them), optionally gzip-compressed.
public enum IDX {
    public static func read(_ path: String, limits: InputLimits = .current) throws -> Tensor {
        var data = try InputFile.contents(path)
        if data.starts(with: [0x1F, 0x8B]) {
            // Inflate the header first, then exactly what it declares: a gzip bomb stops there.
            let head = try Zlib.inflate(data, maxBytes: 4 + 4 * 255, partial: true, file: path)
            let (_, _, needed) = try header([UInt8](head), path, limits)
            data = try Zlib.inflate(data, maxBytes: needed, file: path)
        }
        let b = [UInt8](data)
        let (shape, size, _) = try header(b, path, limits)
        let count = Shape.count(shape), start = 4 + 4 * shape.count
        guard b.count - start >= count * size else {
            throw FormatError(
                path, "truncated IDX data: shape \(shape) needs \(count * size) bytes, has \(b.count - start)")
        }
        let t = Tensor(uninitialized: shape)
        let p = t.storage.pointer
        for i in 0..<count {
            var w: UInt64 = 0
            for k in 0..<size { w = w << 8 | UInt64(b[start + i * size + k]) }  // big-endian
            switch b[2] {
            case 0x08: p[i] = Float(w)
            case 0x09: p[i] = Float(Int8(bitPattern: UInt8(w)))
            case 0x0B: p[i] = Float(Int16(bitPattern: UInt16(w)))
            case 0x0C: p[i] = Float(Int32(bitPattern: UInt32(w)))
            case 0x0D: p[i] = Float(bitPattern: UInt32(w))
            default: p[i] = Float(Double(bitPattern: w))
            }
        }
        return t
    }

    /// The shape, element size and total bytes (header + data) an IDX header declares, checked
    /// against the limits.
    static func header(_ b: [UInt8], _ path: String, _ limits: InputLimits) throws -> ([Int], Int, Int) {
        guard b.count >= 4, b[0] == 0, b[1] == 0 else { throw FormatError(path, "not an IDX file (bad magic)") }
        let sizes: [UInt8: Int] = [0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8]
        guard let size = sizes[b[2]] else {
            throw FormatError(path, "unknown IDX element type 0x\(String(b[2], radix: 16))")
        }
        let rank = Int(b[3])
        guard b.count >= 4 + 4 * rank else { throw FormatError(path, "truncated IDX header") }
        let shape = (0..<rank).map { i in (0..<4).reduce(0) { $0 << 8 | Int(b[4 + 4 * i + $1]) } }
        let count = try limits.elements(shape, elementBytes: max(size, 4), file: path, what: "the IDX array")
        return (shape, size, 4 + 4 * rank + count * size)
    }
}

enum Zlib {
    /// gunzip (or zlib / raw deflate with `raw`), producing at most `maxBytes` (an error past
    /// that, or with `partial` the first `maxBytes`).
    static func inflate(
        _ data: Data, raw: Bool = false, maxBytes: Int, partial: Bool = false, file: String
    ) throws -> Data {
        var error = [CChar](repeating: 0, count: 256)
        var size = 0
        let out: UnsafeMutablePointer<UInt8>? = data.withUnsafeBytes { buf in
            genlab_inflate(
                buf.baseAddress!.assumingMemoryBound(to: UInt8.self), buf.count, raw ? 1 : 0, maxBytes,
                partial ? 1 : 0, &size, &error)
        }
        guard let out else { throw FormatError(file, String(cString: error)) }
        defer { genlab_free(out) }
        return Data(bytes: out, count: size)
    }
}
