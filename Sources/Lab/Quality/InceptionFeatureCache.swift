import Engine
import Formats
import Foundation

/// Inception features of real image sets, kept between runs: the reference and truth-vs-truth
/// samples are the same for every model judged against them, and their features are most of the
/// work. An entry is named by a hash of what determines it — the source's path, size and modification
/// time (every file's, for a folder), how its images were read, which images, and the weights file —
/// so a changed source or network is never served stale features. Unreadable or corrupt entries are
/// recomputed; writes are atomic.
public struct InceptionFeatureCache {
    public let folder: String

    /// Next to the weights: `<weights folder>/features`.
    public init(weights: String) {
        folder = ((weights as NSString).deletingLastPathComponent as NSString).appendingPathComponent("features")
    }

    /// A key for `source` read with `detail` (sizes, slice, seed …) by the network at `weights`.
    public static func key(source: String, detail: String, weights: String) -> String {
        var text = detail + "|" + fingerprint(weights)
        text += "|" + fingerprint(source)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: source, isDirectory: &isFolder), isFolder.boolValue {
            for file in ImageFolder.scan(source).files { text += "|" + fingerprint(file) }
        }
        // FNV-1a, twice with different offsets: a 128-bit name.
        func fnv(_ basis: UInt64) -> UInt64 {
            var h = basis
            for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
            return h
        }
        return String(format: "%016llx%016llx", fnv(0xCBF2_9CE4_8422_2325), fnv(0x84222325CBF29CE4))
    }

    static func fingerprint(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        let a = try? FileManager.default.attributesOfItem(atPath: url.path)
        let size = (a?[.size] as? NSNumber)?.intValue ?? -1
        let date = (a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
        return "\(url.path):\(size):\(date)"
    }

    /// The cached features under `key` ([count × 2048]), or `compute()`'s, stored for next time.
    public func features(key: String, count: Int, compute: () -> [Double]) -> [Double] {
        let file = (folder as NSString).appendingPathComponent(key + ".npy")
        let d = FIDInception.dimension
        if FileManager.default.fileExists(atPath: file), let t = try? NPY.read(file), t.shape == [count, d] {
            return t.scalars.map(Double.init)
        }
        let f = compute()
        // Best effort: a cache that cannot be written costs time, not correctness.
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try? NPY.write(Tensor(shape: [count, d], data: f.map(Float.init)), to: file)
        return f
    }
}
