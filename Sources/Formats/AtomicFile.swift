import Foundation

/// Writes files so that a crash never leaves a half-written one: the bytes go to a temporary file
/// in the same folder, are flushed to disk, and the temporary file is renamed over the target.
///
/// Every file GenLab writes goes through here, so one policy holds for all of them: the target is a
/// regular file or nothing (a symbolic link, device, FIFO, socket or folder at the path is refused
/// by name, never followed or replaced), and the temporary file is created fresh (`O_EXCL`,
/// `O_NOFOLLOW`), so a link planted at its name is not followed either.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        try writeVia(path) { temporary in
            let fd = open(temporary, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw FormatError(path, "cannot open \(temporary): \(errnoText())") }
            defer { close(fd) }
            var failure: Int32 = 0
            data.withUnsafeBytes { buf in
                var offset = 0
                while offset < buf.count {
                    let n = Foundation.write(fd, buf.baseAddress! + offset, buf.count - offset)
                    if n <= 0 { failure = n < 0 ? errno : ENOSPC; break }
                    offset += n
                }
            }
            if failure == 0 && fsync(fd) != 0 { failure = errno }
            if failure != 0 { throw FormatError(path, "write failed: \(String(cString: strerror(failure)))") }
        }
    }

    /// Lets a writer that needs a path (a C library) write to a temporary file in the target's
    /// folder, then renames it over the target; on failure the temporary file is removed. The
    /// temporary file exists (empty, created by GenLab) when `write` is called.
    public static func writeVia(_ path: String, _ write: (String) throws -> Void) throws {
        try OutputPath.check(path)
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        try OutputPath.makeFolder(folder, for: path)
        let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FormatError(path, "cannot create a file in \(folder): \(errnoText())")
        }
        close(fd)
        do {
            try write(temporary)
            // Checked again just before the rename: a link or device put there meanwhile is not replaced.
            try OutputPath.check(path)
            guard rename(temporary, path) == 0 else {
                throw FormatError(path, "cannot rename the finished file into place: \(errnoText())")
            }
        } catch let error as FormatError where error.file == temporary {
            unlink(temporary)
            throw FormatError(path, error.problem)  // the user knows the file by its name, not the temporary one
        } catch {
            unlink(temporary)
            throw error
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// The one policy for paths GenLab writes to.
public enum OutputPath {
    /// What is at `path` without following a link: nil when nothing is.
    public static func kind(_ path: String) -> String? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return "file"
        case S_IFLNK: return "symbolic link"
        case S_IFDIR: return "folder"
        case S_IFIFO: return "FIFO"
        case S_IFSOCK: return "socket"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        default: return "special file"
        }
    }

    /// Refuses a path that holds anything but a regular file: GenLab writes regular files only,
    /// and never through a link or over a device.
    public static func check(_ path: String) throws {
        guard let kind = kind(path), kind != "file" else { return }
        throw FormatError(
            path,
            "is a \(kind), not a regular file: GenLab writes only regular files and never follows links or "
                + "replaces special files; remove it or choose another output path")
    }

    /// Creates `folder` (and its parents) for the output `path`, naming the reason when it cannot.
    public static func makeFolder(_ folder: String, for path: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw FormatError(path, "cannot write here: \(folder) is not a folder") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw FormatError(path, "cannot create the folder \(folder): \(reason(error))")
        }
    }

    /// The operating system's words for an error from FileManager (its localizedDescription often omits them).
    public static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        return ns.localizedDescription
    }

    /// Opens (creating when missing) a regular file for appending or locking, without following a
    /// link; refuses anything but a regular file by name.
    public static func openRegular(_ path: String, flags: Int32, what: String) throws -> Int32 {
        try check(path)
        let fd = open(path, flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0o644)
        guard fd >= 0 else {
            let text = errno == ELOOP ? "it is a symbolic link" : String(cString: strerror(errno))
            throw FormatError(path, "cannot open the \(what): \(text)")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw FormatError(path, "the \(what) is not a regular file; remove it")
        }
        // Back to blocking writes (O_NONBLOCK only kept open() from waiting on a FIFO).
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }
}
