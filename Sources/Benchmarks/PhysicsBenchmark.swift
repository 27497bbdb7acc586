import Engine
import Formats
import Physics

/// Jet clustering and jet-image throughput on the bundled LHC Olympics-layout events, one core.
public enum PhysicsBenchmark {
    public static func run(
        events path: String = "Datasets/jets/lhco_events.h5", quick: Bool = false
    ) throws -> [BenchResult] {
        let file = try HDF5File(path)
        let rows = try file.read("/df/block0_values")
        let n = rows.shape[0], width = rows.shape[1], p = rows.storage.pointer
        let events: [[FourVector]] = (0..<n).map { e in
            (0..<((width - 1) / 3)).compactMap { k in
                let b = p + e * width + 3 * k
                return b[0] > 0 ? FourVector(pt: Double(b[0]), eta: Double(b[1]), phi: Double(b[2])) : nil
            }
        }
        let particles = events.reduce(0) { $0 + $1.count } / max(n, 1)
        let clustering = JetClustering(.antiKt, radius: 1.0)
        let s = Measure.secondsPerCall(minBatchTime: quick ? 0.2 : 1) {
            for e in events { _ = clustering.cluster(e, ptMin: 20) }
        }
        let image = JetImage()
        let lead = events.compactMap { e -> [(pt: Double, eta: Double, phi: Double)]? in
            clustering.cluster(e, ptMin: 20).first.map { j in j.constituents.map { (e[$0].pt, e[$0].eta, e[$0].phi) } }
        }
        let t = Measure.secondsPerCall(minBatchTime: quick ? 0.2 : 1) {
            for c in lead { _ = image.image(c, jetEta: 0, jetPhi: 0) }
        }
        // The inspector's observables on a dense 32×32 image (every pixel lit: 1 024 particles).
        var rng = PRNG(seed: 1)
        let dense = (0..<(32 * 32)).map { _ in rng.nextFloat() + 0.01 }
        let o = Measure.secondsPerCall(minBatchTime: quick ? 0.2 : 1) {
            _ = Observables.summary(image: dense, size: 32)
        }
        return [
            BenchResult(
                name: "anti-kT R=1.0, \(particles) particles/event (1 core)", unit: "events/s", value: Double(n) / s,
                higherIsBetter: true),
            BenchResult(
                name: "jet images 25x25 (1 core)", unit: "jets/s", value: Double(lead.count) / t, higherIsBetter: true),
            BenchResult(
                name: "observables, dense 32x32 image (1 core)", unit: "ms", value: o * 1000, higherIsBetter: false),
        ]
    }
}
