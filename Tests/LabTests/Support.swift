import Foundation

/// The repository root (tests read the bundled Datasets/ in place).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

func scratchFolder(_ name: String) -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("genlab-lab-\(getpid())/\(name)").path
    try? FileManager.default.removeItem(atPath: path)
    return path
}
