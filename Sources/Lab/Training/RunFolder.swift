import Formats
import Foundation

/// A run's folder under Outputs/: config.json, metrics.csv, plots, samples, checkpoints.
public struct RunFolder {
    public let path: String

    public init(_ path: String) throws {
        self.path = path
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
            throw FormatError(path, "is a \(OutputPath.kind(path) ?? "file"), not a folder: choose another --out")
        }
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw FormatError(path, "cannot create the run folder: \(OutputPath.reason(error))")
        }
    }

    public func file(_ name: String) -> String { path + "/" + name }

    /// The files that make a training run: a folder holding one of these holds a run.
    public static let runFiles = ["checkpoint.safetensors", "metrics.csv"]

    /// Whether the folder holds a training run (a checkpoint or metrics).
    public var holdsRun: Bool { RunFolder.runFiles.contains { FileManager.default.fileExists(atPath: file($0)) } }

    /// Refuses a folder that already holds a run unless it is to be continued (`resume`) or
    /// replaced (`overwrite`); `clear` removes the old run when it is to be replaced.
    public func prepare(resume: Bool, overwrite: Bool, clear: Bool = true) throws {
        guard !resume && holdsRun else { return }
        guard overwrite else {
            throw FormatError(
                path,
                "holds a training run already: pass --resume to continue it, or --overwrite to "
                    + "replace it (its checkpoint, metrics and plots are removed)")
        }
        if clear { try clearRun() }
    }

    /// Removes what a previous training run left (checkpoint, metrics, plots, sample grids,
    /// config), for `--overwrite`; other files stay.
    public func clearRun() throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        let stale = names.filter {
            RunFolder.runFiles.contains($0)
                || [
                    "loss.png", "samples.png", "config.json", "data.json", "options.json", "progress.gif",
                    "skipped.txt", BestCheckpoint.checkpointName, BestCheckpoint.recordName,
                ].contains($0)
                || ($0.hasPrefix("samples_epoch_") && $0.hasSuffix(".png")) || $0.hasPrefix("events.out.tfevents.")
        }
        for name in stale {
            do { try FileManager.default.removeItem(atPath: file(name)) } catch {
                throw FormatError(file(name), "cannot remove the old run's file: \(error.localizedDescription)")
            }
        }
    }

    /// Deletes temporary files (`.NAME.tmp-PID-…`) that a killed process left, when that process
    /// is gone. Call with the folder's lock held.
    public func removeOrphanTemporaries() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] where name.hasPrefix(".") {
            guard let r = name.range(of: ".tmp-") else { continue }
            let pidText = name[r.upperBound...].prefix { $0.isNumber }
            guard let pid = Int32(pidText), pid != getpid(), kill(pid, 0) != 0 && errno == ESRCH else { continue }
            unlink(file(name))
        }
    }

    /// Takes the folder's lock (`.genlab.lock`, an advisory flock released when the process ends),
    /// or fails naming the process that holds it: two runs never write one folder.
    public func lock() throws -> RunLock {
        let lockPath = file(".genlab.lock")
        let fd = try OutputPath.openRegular(lockPath, flags: O_RDWR, what: "lock file")
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = read(fd, &buffer, 31)
            close(fd)
            let holder =
                n > 0
                ? String(decoding: buffer.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                : "?"
            throw FormatError(
                path, "is in use by another genlab process (pid \(holder)); wait for it or use another folder")
        }
        ftruncate(fd, 0)
        let text = "\(getpid())\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        return RunLock(fd: fd)
    }

    /// Writes an encodable value as pretty JSON, atomically.
    public func writeJSON<T: Encodable>(_ value: T, to name: String) throws {
        try AtomicFile.write(try RunFolder.json(value), to: file(name))
    }

    /// Pretty JSON with sorted keys; NaN and infinities (an undefined correlation, say) as the
    /// strings "nan", "inf", "-inf", which JSON has no numbers for.
    public static func json<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(value)
    }
}

/// A held run-folder lock; released when dropped or when the process ends.
public final class RunLock {
    private var fd: Int32
    init(fd: Int32) { self.fd = fd }
    /// Releases the lock now (it is released anyway when the lock is dropped).
    public func unlock() {
        if fd >= 0 { close(fd); fd = -1 }
    }
    deinit { unlock() }
}

/// Appends rows to a CSV file, one write() a row: a crash loses at most the current row, and a
/// failed write (a full disk) is truncated back to the last whole row and reported.
public final class MetricsLog {
    public let path: String
    public let columns: [String]
    private let fd: Int32

    /// Opens `path`; when `keepRowsUpToStep` is given (resuming), rows after that step are dropped.
    /// Kept rows are matched to `columns` by the old header's names (a run written by a version
    /// that logged other figures keeps its values under their names, and leaves the others empty).
    public init(_ path: String, columns: [String], keepRowsUpToStep: Int? = nil) throws {
        self.path = path
        self.columns = columns
        var kept = columns.joined(separator: ",") + "\n"
        if let limit = keepRowsUpToStep, let old = try? String(contentsOfFile: path, encoding: .utf8) {
            let lines = old.split(separator: "\n")
            let header = lines.first.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            let sameColumns = header == columns
            for line in lines.dropFirst() {
                guard let step = Int(line.split(separator: ",").first ?? ""), step <= limit else { continue }
                guard !sameColumns, let header else {
                    kept += line + "\n"
                    continue
                }
                let cells = line.split(separator: ",", omittingEmptySubsequences: false)
                let byName = Dictionary(
                    zip(header, cells).map { ($0, String($1)) }, uniquingKeysWith: { first, _ in first })
                kept += columns.map { byName[$0] ?? "" }.joined(separator: ",") + "\n"
            }
        }
        try AtomicFile.write(Data(kept.utf8), to: path)
        fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw FormatError(path, "cannot open for appending: \(String(cString: strerror(errno)))") }
    }

    public func append(_ values: [String: Double]) throws {
        let row = columns.map { c in
            values[c].map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int($0)) : String(format: "%.6g", $0) } ?? ""
        }
        let bytes = Array((row.joined(separator: ",") + "\n").utf8)
        let end = lseek(fd, 0, SEEK_END)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else {
            let reason =
                n < 0 ? String(cString: strerror(errno)) : "only \(n) of \(bytes.count) bytes written (disk full?)"
            if end >= 0 { ftruncate(fd, end) }
            throw FormatError(path, "cannot append a metrics row: \(reason)")
        }
    }

    /// All rows so far, as columns of numbers (NaN where a row has no value), for plotting.
    public func read() -> [String: [Double]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var out: [String: [Double]] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            for (i, c) in columns.enumerated() {
                out[c, default: []].append(i < cells.count ? Double(cells[i]) ?? .nan : .nan)
            }
        }
        return out
    }

    deinit { close(fd) }
}
