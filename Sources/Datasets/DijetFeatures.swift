import Engine
import Formats
import Foundation
import Physics

/// The LHC Olympics R&D high-level features of whole events, computed here as the benchmark's
/// features file was made from its events file: the event's particles (massless, pT η φ) clustered
/// anti-kT R = 1.0 (jets of pT ≥ 20 GeV), the two leading jets in pT, each with its momentum,
/// mass and N-subjettiness τ1, τ2, τ3 (β = 1, R0 = 1, exclusive-kT axes of its constituents).
/// Events with fewer than two jets have no dijet features and are dropped (and counted).
public enum DijetFeatures {
    /// The R&D features file's columns, in its order (`label` only where the events file has one).
    public static let columns = [
        "pxj1", "pyj1", "pzj1", "mj1", "tau1j1", "tau2j1", "tau3j1",
        "pxj2", "pyj2", "pzj2", "mj2", "tau1j2", "tau2j2", "tau3j2",
    ]
    /// Events computed at once: a chunk of the R&D file (700 particles) is about 60 MB as floats.
    static let chunk = 10_000

    /// The 14 feature columns of one event, nil when it has fewer than two jets.
    public static func features(_ particles: [EventBatch.Particle]) -> [Double]? {
        let vectors = particles.map { FourVector(pt: $0.pt, eta: $0.eta, phi: $0.phi) }
        let jets = JetClustering(.antiKt, radius: 1.0).cluster(vectors, ptMin: 20)
        guard jets.count >= 2 else { return nil }
        return jets[0..<2].flatMap { jet -> [Double] in
            let summary = Observables.summary(jet.constituents.map { vectors[$0] }, radius: 1.0)
            let p = jet.momentum
            return [p.px, p.py, p.pz, jet.mass, summary.tau1, summary.tau2, summary.tau3]
        }
    }

    /// Every event of `events` (a whole-event layout) as rows of `columns` (+ `label` where the file
    /// is labelled), computed on all cores a chunk at a time; `progress` is told (done, total).
    public static func table(
        _ events: EventFile, progress: ((Int, Int) -> Void)? = nil
    ) throws -> (names: [String], values: [Float], dropped: Int) {
        guard events.layout.isWholeEvents else {
            throw FormatError(events.path, "holds \(events.layout.description), not whole events")
        }
        let labelled = events.hasLabels
        let width = columns.count + (labelled ? 1 : 0)
        var values: [Float] = []
        var dropped = 0
        for start in stride(from: 0, to: events.count, by: chunk) {
            let n = min(chunk, events.count - start)
            let batch = try events.read(start, n)
            var rows = [[Double]?](repeating: nil, count: n)
            rows.withUnsafeMutableBufferPointer { out in
                let out = out
                // One event a task: clustering cost varies with the multiplicity, not the position.
                parallelFor(n, grain: 1) { range in
                    for i in range { out[i] = features(batch.particles[i]) }
                }
            }
            for (i, row) in rows.enumerated() {
                guard let row else { dropped += 1; continue }
                values += row.map { Float($0) }
                if labelled { values.append(Float(batch.labels[i] ?? 0)) }
            }
            progress?(start + n, events.count)
        }
        precondition(values.count % width == 0)
        return (columns + (labelled ? ["label"] : []), values, dropped)
    }
}
