import Foundation

/// A fresh, empty folder for one test's files (under the temporary folder, one per process).
func freshFolder(_ name: String) -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("genlab-formats-\(getpid())-\(name)").path
    try? FileManager.default.removeItem(atPath: path)
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
