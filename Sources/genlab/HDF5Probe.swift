import Formats
import Foundation

/// libhdf5 runs in a child process first for every HDF5 file GenLab reads (see `HDF5File.probe`):
/// `genlab __probe-hdf5 FILE` opens and walks it; a crash, a hang past `timeout` or an error
/// there is reported by name here, and only a file the child survived is opened in this process.
enum HDF5Probe {
    static let command = "__probe-hdf5"
    static let timeout: TimeInterval = 20

    /// In the child: walk the file; exit 0, or 3 with the error on stderr.
    static func runChild(_ path: String) -> Never {
        HDF5File.probe = nil
        if let text = ProcessInfo.processInfo.environment["GENLAB_MAX_INPUT_BYTES"], let bytes = Int(text) {
            InputLimits.current = InputLimits(maxBytes: bytes)  // the parent's --max-input-mib
        }
        do {
            try HDF5File(path).walk()
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(3)
        }
    }

    /// In the parent: spawn the child and judge how it ended.
    static func check(_ path: String) throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = [command, path]
        var environment = ProcessInfo.processInfo.environment
        environment["GENLAB_MAX_INPUT_BYTES"] = String(InputLimits.current.maxBytes)
        child.environment = environment
        let errors = Pipe()
        child.standardError = errors
        child.standardOutput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        child.terminationHandler = { _ in done.signal() }
        do { try child.run() } catch { return }  // no way to isolate: read in process, as before
        if done.wait(timeout: .now() + timeout) == .timedOut {
            child.terminate()
            kill(child.processIdentifier, SIGKILL)
            throw FormatError(
                path,
                "libhdf5 did not finish reading this file's structure in \(Int(timeout)) s: a corrupt or crafted "
                    + "HDF5 file"
            )
        }
        if child.terminationReason == .uncaughtSignal {
            throw FormatError(
                path,
                "libhdf5 crashed (signal \(child.terminationStatus)) reading this file's structure: a corrupt or "
                    + "crafted HDF5 file"
            )
        }
        if child.terminationStatus != 0 {
            let message = errors.fileHandleForReading.readDataToEndOfFile()  // the child has exited: no wait
            let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw FormatError(
                path,
                text.isEmpty
                    ? "libhdf5 could not read this file"
                    : text.components(separatedBy: ": ").dropFirst().joined(separator: ": "))
        }
    }
}
