import Cluster
import Foundation

/// Codable values across the ranks of a `Cluster` (scores, latent codes, tables), as JSON with
/// NaN and infinities spelled out: Swift's JSON writes each Double so that it reads back exactly.
extension Cluster {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }()
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }()

    /// Every rank's value in rank order on rank 0; nil on the other ranks.
    public func gather<T: Codable>(_ value: T) throws -> [T]? {
        guard let parts = gather(try Cluster.encoder.encode(value)) else { return nil }
        return try parts.map { try Cluster.decoder.decode(T.self, from: $0) }
    }

    /// Every rank's value in rank order, on every rank.
    public func allGather<T: Codable>(_ value: T) throws -> [T] {
        let all = try gather(value)
        let shared = broadcast(isRoot ? try Cluster.encoder.encode(all!) : Data())
        return try Cluster.decoder.decode([T].self, from: shared)
    }

    /// Rank 0's value on every rank.
    public func broadcast<T: Codable>(_ value: T?) throws -> T {
        try Cluster.decoder.decode(T.self, from: broadcast(isRoot ? try Cluster.encoder.encode(value!) : Data()))
    }
}
