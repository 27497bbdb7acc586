import Engine
import Foundation

/// A pandas DataFrame stored by `DataFrame.to_hdf` (PyTables underneath), read without Python and
/// without unpickling anything:
/// - `format='fixed'`: under the key's group, blocks of one dtype each — `blockK_items` (the
///   column names, strings or integers) and `blockK_values` [rows, columns];
/// - `format='table'`: one compound dataset `KEY/table` with an `index` member,
///   `values_block_K` array members and a member per data column; each member's column names sit
///   in the attribute `<member>_kind`, a protocol-0 pickle of a list of strings, which is read here as
///   text (`PickledNames`): only string and list opcodes are accepted, nothing is executed.
public struct PandasFrame {
    public enum Format: String, Sendable { case fixed, table }

    public let file: HDF5File
    public let key: String
    public let format: Format
    public let rows: Int
    /// Every column's name, in the blocks' order.
    public let columns: [String]
    /// Where each column lives: block index and position in it.
    let location: [String: (block: Int, position: Int)]
    /// The blocks: (dataset or table member, columns).
    let blocks: [(name: String, width: Int)]

    /// Whether `key` in `file` looks like a pandas frame (without reading its data).
    public static func isFrame(_ file: HDF5File, key: String) -> Bool {
        let attributes = (try? file.attributes(of: "/" + key)) ?? [:]
        return ["frame", "frame_table"].contains(attributes["pandas_type"] ?? "")
            || file.contains("/\(key)/block0_values")
    }

    /// The frame at `key` ("table", "df", …).
    public init(_ file: HDF5File, key: String) throws {
        self.file = file
        self.key = key
        let group = "/" + key
        let attributes = try file.attributes(of: group)
        var columns: [String] = [], blocks: [(String, Int)] = []
        var location: [String: (Int, Int)] = [:]
        func add(_ names: [String], block: String) {
            for (k, n) in names.enumerated() where location[n] == nil { location[n] = (blocks.count, k) }
            columns += names
            blocks.append((block, names.count))
        }
        // Files written by h5py in pandas' fixed layout (without PyTables' attributes) read as one block.
        let type = attributes["pandas_type"] ?? (file.contains("\(group)/block0_values") ? "frame" : nil)
        switch type {
        case "frame":
            format = .fixed
            // Without pandas' attributes (a file written by h5py in its layout): the blocks there are.
            let nblocks =
                Int(attributes["nblocks"] ?? "")
                ?? (0..<64).prefix { file.contains("\(group)/block\($0)_values") }.count
            guard (1...64).contains(nblocks) else {
                throw FormatError(file.path, "\(group): a pandas frame with \(nblocks) blocks (expected 1 to 64)")
            }
            var rowCount: Int?
            for b in 0..<nblocks {
                let values = "\(group)/block\(b)_values", items = "\(group)/block\(b)_items"
                let shape = try file.shape(values)
                guard shape.count == 2 else {
                    throw FormatError(file.path, "\(values) has shape \(shape); a pandas block is (rows, columns)")
                }
                let names =
                    file.contains(items) ? try PandasFrame.names(file, items) : (0..<shape[1]).map { String($0) }
                guard names.count == shape[1] else {
                    throw FormatError(
                        file.path, "\(items) names \(names.count) columns but \(values) holds \(shape[1])")
                }
                if let r = rowCount, r != shape[0] {
                    throw FormatError(file.path, "\(values) has \(shape[0]) rows, the frame's other blocks \(r)")
                }
                rowCount = shape[0]
                add(names, block: values)
            }
            rows = rowCount ?? 0
        case "frame_table":
            format = .table
            let table = "\(group)/table"
            let shape = try file.shape(table)
            guard shape.count == 1 else { throw FormatError(file.path, "\(table) has shape \(shape); expected (rows)") }
            rows = shape[0]
            let tableAttributes = try file.attributes(of: table)
            // values_block_K members hold several columns; a data column (data_columns=[…]) is a member of
            // its own; each names its columns in <member>_kind.
            for field in try file.compoundFields(table) where field.name != "index" {
                guard ["float", "int", "uint"].contains(field.dtype) else { continue }
                guard let pickled = tableAttributes[field.name + "_kind"] else {
                    throw FormatError(file.path, "\(table): \(field.name) has no column names (\(field.name)_kind)")
                }
                let names = try PickledNames.parse(pickled, file: file.path, attribute: "\(table)/\(field.name)_kind")
                guard names.count == field.count else {
                    throw FormatError(
                        file.path, "\(table): \(field.name) holds \(field.count) columns but names \(names.count)")
                }
                add(names, block: field.name)
            }
        default:
            throw FormatError(file.path, "\(group) is not a pandas DataFrame (no pandas_type frame or frame_table)")
        }
        self.columns = columns
        self.location = location
        self.blocks = blocks
    }

    /// Column names from a fixed-format items dataset: strings, or integers written as text.
    static func names(_ file: HDF5File, _ items: String) throws -> [String] {
        if let strings = try? file.strings(items) { return strings }
        let t = try file.read(items)
        return t.scalars.map { v in v == v.rounded() ? String(Int(v)) : String(v) }
    }

    public func contains(_ column: String) -> Bool { location[column] != nil }

    /// Fails when a block declares far more data than the file stores (see `HDF5File.requireStored`).
    public func requireStored() throws {
        if format == .table { return try file.requireStored("/\(key)/table") }
        for b in blocks { try file.requireStored(b.name) }
    }

    /// Rows start..<start+count of the named columns, as Float32 [count, columns.count], reading
    /// each block that holds one of them once.
    public func read(_ wanted: [String], _ start: Int, _ count: Int) throws -> Tensor {
        guard start >= 0, count >= 0, start + count <= rows else {
            throw FormatError(file.path, "rows \(start)..<\(start + count) outside /\(key) (\(rows) rows)")
        }
        let out = Tensor.zeros([count, wanted.count])
        let o = out.storage.pointer
        var byBlock: [Int: [(column: Int, position: Int)]] = [:]
        for (c, name) in wanted.enumerated() {
            guard let at = location[name] else { throw FormatError(file.path, "/\(key) has no column \(name)") }
            byBlock[at.block, default: []].append((c, at.position))
        }
        for (b, picks) in byBlock.sorted(by: { $0.key < $1.key }) {
            let (name, width) = blocks[b]
            let values =
                format == .fixed
                ? try file.readRows(name, start, count)
                : try file.readFieldRows("/\(key)/table", field: name, width: width, start, count)
            let v = values.storage.pointer
            for r in 0..<count {
                for (c, position) in picks { o[r * wanted.count + c] = v[r * width + position] }
            }
        }
        return out
    }
}

/// The strings of a protocol-0 pickle of a list (or tuple) of strings — what PyTables writes for
/// pandas' column names — read as tokens. Only the opcodes such a pickle uses are accepted; any
/// other (a global, a reduce: code) makes it an error, so nothing a file says is ever executed.
public enum PickledNames {
    public static func parse(_ text: String, file: String, attribute: String) throws -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        func argument() -> Substring {
            let line = rest.prefix { $0 != "\n" }
            rest = rest.dropFirst(line.count + 1)
            return line
        }
        while let op = rest.first {
            rest = rest.dropFirst()
            switch op {
            case "(", "l", "t", "a", "e", "N", "d", "s", "]", ")": continue
            case ".": return names
            case "p", "g", "I", "L", "F": _ = argument()
            case "V": names.append(unicodeEscaped(argument()))
            case "S":
                let quoted = argument()
                names.append(String(quoted.dropFirst().dropLast()))
            default:
                throw FormatError(
                    file,
                    "\(attribute) is a pickle that holds more than a list of names (opcode '\(op)'); GenLab reads "
                        + "pickled column names only, and never runs a pickle")
            }
        }
        throw FormatError(file, "\(attribute) is a truncated pickle (no STOP)")
    }

    /// pickle's raw-unicode-escape: \uXXXX and \UXXXXXXXX escapes, everything else as it stands.
    static func unicodeEscaped(_ s: Substring) -> String {
        guard s.contains("\\") else { return String(s) }
        var out = "", chars = s[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "\\", let kind = chars.first, kind == "u" || kind == "U" {
                let digits = kind == "u" ? 4 : 8
                let hex = chars.dropFirst().prefix(digits)
                if hex.count == digits, let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) {
                    out.unicodeScalars.append(scalar)
                    chars = chars.dropFirst(1 + digits)
                    continue
                }
            }
            out.append(c)
        }
        return out
    }
}
