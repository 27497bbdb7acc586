import CFormats
import Engine
import Foundation

/// An HDF5 file through libhdf5: list groups and datasets, read whole datasets or row ranges
/// (slabs) of any numeric dtype as Float32, read attributes; create files with chunked, gzip-
/// compressed Float32 datasets and string/number attributes.
public final class HDF5File {
    public struct Entry: Equatable {
        public var path: String
        public var isGroup: Bool
        public var dtype: String
        public var elementBytes: Int
        public var shape: [Int]
    }

    public let path: String
    let handle: Int64

    /// A check run on every file before libhdf5 opens it in this process, once per file (set by
    /// the CLI: it opens and walks the file in a child process, because libhdf5 itself can crash or
    /// loop forever on a crafted file — heap overflows in its attribute decoding, found by fuzzing —
    /// and a child's crash or silence becomes an error naming the file instead of ours).
    nonisolated(unsafe) public static var probe: ((String) throws -> Void)?
    nonisolated(unsafe) static var probed: Set<String> = []
    static let probeLock = NSLock()

    /// Opens an existing file (read-only unless `writable`).
    public init(_ path: String, writable: Bool = false) throws {
        try InputFile.requireRegular(path)
        if !writable, let probe = HDF5File.probe {
            var st = stat()
            stat(path, &st)
            let key = "\(path)|\(st.st_ino)|\(st.st_size)|\(st.st_mtim.tv_sec)"
            HDF5File.probeLock.lock()
            let seen = HDF5File.probed.contains(key)
            HDF5File.probeLock.unlock()
            if !seen {
                try probe(path)
                HDF5File.probeLock.lock(); HDF5File.probed.insert(key); HDF5File.probeLock.unlock()
            }
        }
        var error = [CChar](repeating: 0, count: 256)
        let h = genlab_h5_open(path, writable ? 1 : 0, &error)
        guard h >= 0 else { throw FormatError(path, String(cString: error)) }
        self.path = path
        handle = h
    }

    private init(creating path: String, handle: Int64) { self.path = path; self.handle = handle }

    /// Creates (truncates) a file. For atomic writes use `HDF5File.write(to:_:)`.
    public static func create(_ path: String) throws -> HDF5File {
        var error = [CChar](repeating: 0, count: 256)
        let h = genlab_h5_create(path, &error)
        guard h >= 0 else { throw FormatError(path, String(cString: error)) }
        return HDF5File(creating: path, handle: h)
    }

    /// Builds a new file under a temporary name and renames it into place when `body` succeeds.
    public static func write(to path: String, _ body: (HDF5File) throws -> Void) throws {
        try AtomicFile.writeVia(path) { temporary in
            let file = try create(temporary)
            try body(file)
            try file.finish()
        }
    }

    /// Flushes and closes a file being written, failing when its data did not reach the disk.
    public func finish() throws {
        guard !closed else { return }
        closed = true
        var error = [CChar](repeating: 0, count: 256)
        guard genlab_h5_finish(handle, &error) == 0 else { throw FormatError(path, String(cString: error)) }
        // A last check of what HDF5 wrote: the file must be readable.
        guard (try? HDF5File(path).entries()) != nil else {
            throw FormatError(path, "the file HDF5 wrote cannot be read back")
        }
    }

    private var closed = false
    public func close() {
        if !closed { genlab_h5_close(handle); closed = true }
    }
    deinit { close() }

    /// Every group and dataset, depth first, by absolute path.
    public func entries() throws -> [Entry] {
        var error = [CChar](repeating: 0, count: 256)
        guard let text = genlab_h5_list(handle, &error) else { throw FormatError(path, String(cString: error)) }
        defer { genlab_free(text) }
        // A name holding a tab or a newline would break a line apart: such lines are left out.
        return String(cString: text).split(separator: "\n").compactMap { line -> Entry? in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if f.count == 2 && f[1] == "group" {
                return Entry(path: f[0], isGroup: true, dtype: "", elementBytes: 0, shape: [])
            }
            guard f.count >= 4, f[1] == "dataset" else { return nil }
            return Entry(
                path: f[0], isGroup: false, dtype: f[2], elementBytes: Int(f[3]) ?? 0,
                shape: f.count > 4 ? f[4].split(separator: ",").compactMap { Int($0) } : [])
        }
    }

    /// Walks the whole file as GenLab's readers do — every entry, every attribute, every numeric
    /// dataset (whole when it is within the input limits, else its first row) — so that a child
    /// process can try it before the real reader does (libhdf5's data path can crash too).
    public func walk() throws {
        _ = try attributes()
        for e in try entries() {
            _ = try? attributes(of: e.path)
            if !e.isGroup, ["float", "int", "uint"].contains(e.dtype), let s = try? shape(e.path), let n = s.first,
                n > 0
            {
                if (try? read(e.path)) == nil { _ = try? readRows(e.path, 0, 1) }
            }
        }
    }

    /// Attributes of a group or dataset ("/" for the file) as text.
    public func attributes(of object: String = "/") throws -> [String: String] {
        var error = [CChar](repeating: 0, count: 256)
        guard let text = genlab_h5_attributes(handle, object, &error) else {
            throw FormatError(path, String(cString: error))
        }
        defer { genlab_free(text) }
        var out: [String: String] = [:]
        for line in String(cString: text).split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            out[String(parts[0])] = parts.count > 1 ? HDF5File.unescaped(parts[1]) : ""
        }
        return out
    }

    /// A listing's value with the C side's escapes (\\, \n, \t, \xNN) undone.
    static func unescaped(_ s: Substring) -> String {
        guard s.contains("\\") else { return String(s) }
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            guard c == UInt8(ascii: "\\"), let e = it.popFirst() else { bytes.append(c); continue }
            switch e {
            case UInt8(ascii: "n"): bytes.append(10)
            case UInt8(ascii: "t"): bytes.append(9)
            case UInt8(ascii: "x"):
                let hex = String(decoding: it.prefix(2), as: UTF8.self)
                it = it.dropFirst(2)
                bytes.append(UInt8(hex, radix: 16) ?? 0x3F)
            default: bytes.append(e)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The strings of a one-dimensional string dataset (pandas' column and index names), at most `limit`.
    public func strings(_ dataset: String, limit: Int = 100_000) throws -> [String] {
        var error = [CChar](repeating: 0, count: 256)
        guard let text = genlab_h5_read_strings(handle, dataset, Int64(limit), &error) else {
            throw FormatError(path, String(cString: error))
        }
        defer { genlab_free(text) }
        return String(cString: text).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map {
            HDF5File.unescaped($0)
        }
    }

    /// A member of a compound (table) dataset: its name, numeric class and element count.
    public struct Field: Equatable {
        public var name: String
        public var dtype: String
        public var count: Int
    }

    /// The members of a compound dataset (a PyTables/pandas table).
    public func compoundFields(_ dataset: String) throws -> [Field] {
        var error = [CChar](repeating: 0, count: 256)
        guard let text = genlab_h5_compound_fields(handle, dataset, &error) else {
            throw FormatError(path, String(cString: error))
        }
        defer { genlab_free(text) }
        return String(cString: text).split(separator: "\n").compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 3, let n = Int(f[2]) else { return nil }
            return Field(name: HDF5File.unescaped(f[0]), dtype: String(f[1]), count: n)
        }
    }

    /// Rows start..<start+count of one numeric member of a compound dataset, as Float32 [count, width].
    public func readFieldRows(
        _ dataset: String, field: String, width: Int, _ start: Int, _ count: Int, limits: InputLimits = .current
    ) throws -> Tensor {
        _ = try limits.elements([count, width], file: path, what: "\(dataset) field \(field)")
        let t = Tensor(uninitialized: [count, width])
        var error = [CChar](repeating: 0, count: 256)
        guard
            genlab_h5_read_field_rows(
                handle, dataset, field, Int64(start), Int64(count), Int64(width), t.storage.pointer, &error)
                == 0
        else { throw FormatError(path, String(cString: error)) }
        return t
    }

    /// The compression filters `dataset` needs that libhdf5 cannot load here, in words; nil when none.
    public func missingFilters(_ dataset: String) -> String? {
        guard let text = genlab_h5_missing_filters(handle, dataset) else { return nil }
        defer { genlab_free(text) }
        return String(cString: text)
    }

    public func shape(_ dataset: String) throws -> [Int] {
        var error = [CChar](repeating: 0, count: 256)
        var dims = [Int64](repeating: 0, count: 16)
        let rank = genlab_h5_shape(handle, dataset, &dims, &error)
        guard rank >= 0 else { throw FormatError(path, String(cString: error)) }
        let shape = dims.prefix(Int(rank)).map(Int.init)
        guard Shape.checkedCount(shape) != nil else {
            throw FormatError(path, "\(dataset) declares shape \(shape), whose size overflows")
        }
        return shape
    }

    public func contains(_ dataset: String) -> Bool { (try? shape(dataset)) != nil }

    /// Fails when a dataset declares far more data than the file stores: HDF5 fills chunks that
    /// were never written with a fill value, so a few KiB can declare billions of events that
    /// would take hours to read. Compression is allowed for (a ratio up to 1000 : 1).
    public func requireStored(_ dataset: String, elementBytes: Int = 4) throws {
        let s = try shape(dataset)
        guard let n = Shape.checkedCount(s) else { return }
        let declared = n.multipliedReportingOverflow(by: elementBytes)
        let stored = genlab_h5_storage_bytes(handle, dataset)
        guard stored >= 0 else { return }
        // (In doubles: a corrupt file can report any storage size, and the product must not overflow.)
        if declared.overflow
            || (declared.partialValue > 64 << 20 && Double(stored) * 1000 < Double(declared.partialValue))
        {
            throw FormatError(
                path,
                "\(dataset) declares shape \(s) "
                    + "(\(declared.overflow ? "too many" : "\(declared.partialValue >> 20) MiB of") values) "
                    + "but the file stores \(stored) bytes of it: a sparse or corrupt dataset")
        }
    }

    /// The whole dataset as Float32.
    public func read(_ dataset: String) throws -> Tensor {
        let s = try shape(dataset)
        return try readRows(dataset, 0, s.first ?? 0)
    }

    /// Rows start..<start+count along the first axis, without reading the rest. What the rows
    /// declare is checked against the input limits before anything is allocated.
    public func readRows(_ dataset: String, _ start: Int, _ count: Int, limits: InputLimits = .current) throws -> Tensor
    {
        var s = try shape(dataset)
        guard count >= 0, start >= 0, s.isEmpty || start + count <= s[0] else {
            throw FormatError(path, "rows \(start)..<\(start + count) outside \(dataset) (shape \(s))")
        }
        if !s.isEmpty { s[0] = count }
        _ = try limits.elements(s, file: path, what: dataset)
        let t = Tensor(uninitialized: s)
        var error = [CChar](repeating: 0, count: 256)
        guard genlab_h5_read_rows(handle, dataset, Int64(start), Int64(count), t.storage.pointer, &error) == 0 else {
            throw FormatError(path, String(cString: error))
        }
        return t
    }

    /// Writes a Float32 dataset, chunked by rows and gzip-compressed.
    public func write(_ dataset: String, _ t: Tensor, chunkRows: Int = 256, gzip: Int = 4) throws {
        var error = [CChar](repeating: 0, count: 256)
        let dims = t.shape.map(Int64.init)
        guard
            genlab_h5_write(
                handle, dataset, Int32(t.rank), dims, t.storage.pointer, Int64(chunkRows), Int32(gzip), &error) == 0
        else {
            throw FormatError(path, String(cString: error))
        }
    }

    public func setAttribute(_ name: String, _ value: String, on object: String = "/") throws {
        var error = [CChar](repeating: 0, count: 256)
        guard genlab_h5_write_attribute_string(handle, object, name, value, &error) == 0 else {
            throw FormatError(path, String(cString: error))
        }
    }

    public func setAttribute(_ name: String, _ value: Double, on object: String = "/") throws {
        var error = [CChar](repeating: 0, count: 256)
        guard genlab_h5_write_attribute_double(handle, object, name, value, &error) == 0 else {
            throw FormatError(path, String(cString: error))
        }
    }
}
