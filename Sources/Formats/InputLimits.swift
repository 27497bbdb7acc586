import Engine
import Foundation

/// How much memory one decoded input may take: an image, an array from .npy/.npz/IDX/HDF5, a
/// decompressed stream. Every reader checks the size a file *declares* against this before it
/// allocates or inflates anything, so a small hostile file cannot become a memory bomb. The CLI
/// sets it once from `--max-input-mib`; the message names that flag.
public struct InputLimits: Sendable, Equatable {
    /// The largest decoded input in bytes (as Float32 values).
    public var maxBytes: Int

    public static let defaultMiB = 256
    public init(maxBytes: Int = InputLimits.defaultMiB << 20) { self.maxBytes = maxBytes }

    /// The limit every reader uses (set by the CLI before any file is read).
    nonisolated(unsafe) public static var current = InputLimits()

    /// The element count of `shape`, checked for overflow and against the limit (`elementBytes`
    /// each once decoded), or an error naming the file, what was declared and the limit.
    public func elements(_ shape: [Int], elementBytes: Int = 4, file: String, what: String) throws -> Int {
        guard let n = Shape.checkedCount(shape), n.multipliedReportingOverflow(by: elementBytes).overflow == false
        else {
            throw FormatError(file, "\(what) declares shape \(shape), whose size overflows: corrupt or hostile file")
        }
        try bytes(n * elementBytes, file: file, what: "\(what) of shape \(shape)")
        return n
    }

    /// Fails when `count` bytes exceed the limit.
    public func bytes(_ count: Int, file: String, what: String) throws {
        guard count <= maxBytes else {
            throw FormatError(
                file,
                "\(what) would take \(InputLimits.describe(count)), over the input limit of "
                    + "\(InputLimits.describe(maxBytes)) (raise it with --max-input-mib if the file is genuine)")
        }
    }

    static func describe(_ bytes: Int) -> String {
        bytes >= 1 << 30 ? String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) : "\(bytes >> 20) MiB"
    }
}

/// Paths that readers open: only regular files, so that a FIFO named `x.png` cannot block a
/// loader and a folder named `x.png` is reported, not opened.
public enum InputFile {
    /// Fails unless `path` is a regular file (symbolic links followed), naming what it is instead.
    public static func requireRegular(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let reason = errno == ENOENT ? "no such file" : "cannot be read (\(String(cString: strerror(errno))))"
            throw FormatError(path, reason)
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw FormatError(path, "is a folder, not a file")
        case S_IFIFO: throw FormatError(path, "is a FIFO (named pipe), not a file: GenLab reads regular files only")
        case S_IFSOCK: throw FormatError(path, "is a socket, not a file")
        default: throw FormatError(path, "is a device or special file, not a regular file")
        }
    }

    /// The whole file, after `requireRegular`; fails when it is larger than `maxBytes`.
    public static func contents(_ path: String, maxBytes: Int = Int.max) throws -> Data {
        try requireRegular(path)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if size > maxBytes { try InputLimits(maxBytes: maxBytes).bytes(size, file: path, what: "the file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw FormatError(path, "cannot be read") }
        return data
    }
}
