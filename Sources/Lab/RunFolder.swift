import Foundation
import Formats

/// A run's folder under Outputs/: config.json, metrics.csv, plots, samples, checkpoints.
public struct RunFolder {
    public let path: String

    public init(_ path: String) throws {
        self.path = path
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw FormatError(path, "cannot create the run folder: \(error.localizedDescription)")
        }
    }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes an encodable value as pretty JSON, atomically.
    public func writeJSON<T: Encodable>(_ value: T, to name: String) throws {
        try AtomicFile.write(try RunFolder.json(value), to: file(name))
    }

    /// Pretty JSON with sorted keys; NaN and infinities (an undefined correlation, say) as the
    /// strings "nan", "inf", "-inf", which JSON has no numbers for.
    public static func json<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(value)
    }
}

/// Appends rows to a CSV file, flushing each so a crash loses at most the current row.
public final class MetricsLog {
    public let path: String
    public let columns: [String]
    private let handle: FileHandle

    /// Opens `path`; when `keepRowsUpToStep` is given (resuming), rows after that step are dropped.
    public init(_ path: String, columns: [String], keepRowsUpToStep: Int? = nil) throws {
        self.path = path
        self.columns = columns
        var kept = columns.joined(separator: ",") + "\n"
        if let limit = keepRowsUpToStep, let old = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in old.split(separator: "\n").dropFirst() {
                if let step = Int(line.split(separator: ",").first ?? ""), step <= limit { kept += line + "\n" }
            }
        }
        try AtomicFile.write(Data(kept.utf8), to: path)
        guard let h = FileHandle(forWritingAtPath: path) else { throw FormatError(path, "cannot open for appending") }
        h.seekToEndOfFile()
        handle = h
    }

    public func append(_ values: [String: Double]) {
        let row = columns.map { c in values[c].map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int($0)) : String(format: "%.6g", $0) } ?? "" }
        handle.write(Data((row.joined(separator: ",") + "\n").utf8))
    }

    /// All rows so far, as columns of numbers (NaN where a row has no value), for plotting.
    public func read() -> [String: [Double]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var out: [String: [Double]] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            for (i, c) in columns.enumerated() { out[c, default: []].append(i < cells.count ? Double(cells[i]) ?? .nan : .nan) }
        }
        return out
    }

    deinit { try? handle.close() }
}
