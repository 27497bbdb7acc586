import Formats
import Foundation

/// "Keep this image" in `genlab explore --out DIR`: the decoded PNG and its latent point as
/// JSON (with its class, for a conditional model), under the next free name (explore_000.png +
/// explore_000.json, …). Nothing is overwritten.
public enum ExploreSaves {
    /// Files kept per folder at most (a page left clicking cannot fill a disk).
    public static let maxSaves = 1000

    /// Writes the pair and returns the PNG's name.
    public static func save(
        _ z: [Float], classIndex: Int? = nil, explorer: LatentExplorer, folder: String
    ) throws -> String {
        let png = try explorer.decodePNG(z, classIndex: classIndex)
        let classes = explorer.summary.classes
        let chosen = explorer.effectiveClass(classIndex)
        for i in 0..<maxSaves {
            let stem = String(format: "explore_%03d", i)
            let pngPath = folder + "/" + stem + ".png", jsonPath = folder + "/" + stem + ".json"
            guard !FileManager.default.fileExists(atPath: pngPath), !FileManager.default.fileExists(atPath: jsonPath)
            else { continue }
            let record = Kept(
                checkpoint: explorer.summary.checkpoint, image: stem + ".png", z: z, classIndex: chosen,
                className: chosen.map { classes[$0] })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try encoder.encode(record), to: jsonPath)
            try AtomicFile.write(png, to: pngPath)
            return stem + ".png"
        }
        throw ExploreError.badRequest("\(folder) already holds \(maxSaves) kept images")
    }
}

/// The JSON beside a kept image: enough to decode it again (`genlab explore` or Python).
public struct Kept: Codable, Sendable, Equatable {
    public var checkpoint: String
    public var image: String
    public var z: [Float]
    /// A conditional model's class (index and name); absent for an unconditional one.
    public var classIndex: Int?
    public var className: String?
}
