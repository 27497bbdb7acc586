import Engine
import Foundation

/// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length N, N bytes of JSON mapping each tensor name to {dtype, shape, data_offsets}
/// (offsets relative to the data section that follows), and an optional "__metadata__" map of
/// strings. GenLab writes F32 (and I64 where asked); it reads F32, F64, F16, BF16 and the integer
/// types, converting to Float32.
public enum SafeTensors {
    /// Tensors by name plus the string metadata.
    public struct File {
        public var tensors: [String: Tensor]
        public var metadata: [String: String]
        /// The dtype each tensor had in the file (e.g. "F32", "I64").
        public var dtypes: [String: String]

        public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:], dtypes: [String: String] = [:]) {
            self.tensors = tensors; self.metadata = metadata; self.dtypes = dtypes
        }
    }

    static let sizes = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
        "U16": 2, "U32": 4, "U64": 8,
    ]

    // MARK: Writing

    /// Serialises tensors (as F32, or I64 for names in `int64`) and metadata.
    public static func encode(
        _ tensors: [String: Tensor], metadata: [String: String] = [:], int64: Set<String> = []
    ) -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            let bytes = t.count * (int64.contains(name) ? 8 : 4)
            header[name] = [
                "dtype": int64.contains(name) ? "I64" : "F32", "shape": t.shape,
                "data_offsets": [offset, offset + bytes],
            ]
            offset += bytes
        }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data section starts 8-byte aligned (as the reference writer does).
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for name in names {
            let t = tensors[name]!
            if int64.contains(name) {
                for v in t.storage.buffer {
                    withUnsafeBytes(of: Int64(v.rounded()).littleEndian) { data.append(contentsOf: $0) }
                }
            } else {
                // x86/ARM are little-endian
                t.storage.buffer.withMemoryRebound(to: UInt8.self) { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    /// Writes atomically (temporary file + rename).
    public static func write(
        _ tensors: [String: Tensor], metadata: [String: String] = [:], int64: Set<String> = [], to path: String
    ) throws {
        try AtomicFile.write(encode(tensors, metadata: metadata, int64: int64), to: path)
    }

    // MARK: Reading

    public static func read(_ path: String) throws -> File {
        try decode(InputFile.contents(path), file: path)
    }

    /// Parses and validates a whole file: every error names the tensor or the byte offset at fault.
    // Long: the header checks in the order an attacker would break them, each with its own message.
    public static func decode(_ data: Data, file: String) throws -> File {
        guard data.count >= 8 else {
            throw FormatError(file, "too short for a safetensors header (\(data.count) bytes, need at least 8)")
        }
        let n = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n <= UInt64(data.count - 8), n < 100_000_000 else {
            throw FormatError(
                file,
                "header length \(n) at offset 0 exceeds the file (\(data.count) bytes): truncated or not safetensors")
        }
        let headerEnd = 8 + Int(n)
        let headerData = data.subdata(in: 8..<headerEnd)
        guard let object = try? JSONSerialization.jsonObject(with: headerData), let header = object as? [String: Any]
        else {
            throw FormatError(file, "header (bytes 8..<\(headerEnd)) is not a JSON object: not a safetensors file")
        }
        var result = File()
        if let meta = header["__metadata__"] {
            guard let m = meta as? [String: String] else {
                throw FormatError(file, "__metadata__ must map strings to strings")
            }
            result.metadata = m
        }
        let dataSection = data.count - headerEnd
        var spans: [(Int, Int, String)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                let shapeAny = info["shape"] as? [Any], let offsetsAny = info["data_offsets"] as? [Any],
                offsetsAny.count == 2
            else {
                throw FormatError(file, "tensor '\(name)': entry needs dtype, shape and two data_offsets")
            }
            let shape = shapeAny.compactMap(integer), offsets = offsetsAny.compactMap(integer)
            guard shape.count == shapeAny.count, offsets.count == 2, !shape.contains(where: { $0 < 0 }) else {
                throw FormatError(
                    file, "tensor '\(name)': shape \(shapeAny) or offsets \(offsetsAny) are not non-negative integers")
            }
            guard let size = sizes[dtype] else {
                throw FormatError(file, "tensor '\(name)': unsupported dtype \(dtype)")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataSection else {
                throw FormatError(
                    file,
                    "tensor '\(name)': data_offsets [\(begin), \(end)] outside the data section (\(dataSection) "
                        + "bytes): truncated file"
                )
            }
            guard let count = Shape.checkedCount(shape), count.multipliedReportingOverflow(by: size).overflow == false,
                shape.count <= 16
            else {
                throw FormatError(file, "tensor '\(name)': shape \(shape) overflows: corrupt or hostile file")
            }
            guard end - begin == count * size else {
                throw FormatError(
                    file, "tensor '\(name)': \(end - begin) bytes for shape \(shape) of \(dtype) (need \(count * size))"
                )
            }
            spans.append((begin, end, name))
            let t = Tensor(uninitialized: shape)
            data.withUnsafeBytes { raw in
                convert(raw.baseAddress! + headerEnd + begin, dtype: dtype, count: count, into: t.storage.pointer)
            }
            result.tensors[name] = t
            result.dtypes[name] = dtype
        }
        // The data must be covered exactly once, in order: no overlaps, no holes.
        spans.sort { $0.0 < $1.0 }
        var expected = 0
        for (begin, end, name) in spans {
            guard begin == expected else {
                throw FormatError(
                    file,
                    "tensor '\(name)' starts at data offset \(begin), expected \(expected): overlapping or missing data"
                )
            }
            expected = end
        }
        guard expected == dataSection else {
            throw FormatError(file, "data section has \(dataSection) bytes but the tensors cover \(expected)")
        }
        return result
    }

    /// A JSON number that is a whole number within ±2⁵³ (a fraction or a huge value is rejected, not rounded).
    private static func integer(_ value: Any) -> Int? {
        guard let n = value as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d.rounded() == d, abs(d) <= 9_007_199_254_740_992 else { return nil }
        return Int(d)
    }

    private static func convert(
        _ src: UnsafeRawPointer, dtype: String, count: Int, into dst: UnsafeMutablePointer<Float>
    ) {
        func load<T>(_ type: T.Type, _ f: (T) -> Float) {
            for i in 0..<count { dst[i] = f(src.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
        }
        switch dtype {
        case "F32": load(UInt32.self) { Float(bitPattern: UInt32(littleEndian: $0)) }
        case "F64": load(UInt64.self) { Float(Double(bitPattern: UInt64(littleEndian: $0))) }
        case "F16": load(UInt16.self) { Float(Float16(bitPattern: UInt16(littleEndian: $0))) }
        case "BF16": load(UInt16.self) { Float(bitPattern: UInt32(UInt16(littleEndian: $0)) << 16) }
        case "I64": load(Int64.self) { Float(Int64(littleEndian: $0)) }
        case "I32": load(Int32.self) { Float(Int32(littleEndian: $0)) }
        case "I16": load(Int16.self) { Float(Int16(littleEndian: $0)) }
        case "I8": load(Int8.self) { Float($0) }
        case "U8", "BOOL": load(UInt8.self) { Float($0) }
        case "U16": load(UInt16.self) { Float(UInt16(littleEndian: $0)) }
        case "U32": load(UInt32.self) { Float(UInt32(littleEndian: $0)) }
        default: load(UInt64.self) { Float(UInt64(littleEndian: $0)) }
        }
    }
}
