import Cluster
import Engine
import Formats
import Foundation

/// Scoring image files end to end (what `genlab symmetry score` and the demo do): read, binarise,
/// score under several seeds, and write one report picture per image.
public enum SymmetryRun {
    /// Each image is fitted under the decoy seeds firstSeed ..< firstSeed + seeds: all of them, or
    /// with `stopping` as many as its verdict needs. Under mpirun the images' decoy fits are shared
    /// out over the ranks; rank 0 writes.
    public static func score(
        _ paths: [String], detector: SymmetryDetector, seeds: Int, firstSeed: UInt64 = 0,
        stopping: DecoyFitStopping? = nil, out: String,
        cluster: Cluster = .world
    ) throws -> [SymmetryDetector.Score] {
        // Each decoded file is dropped once prepared: only its small forms and the report's
        // thumbnail (the centred square at the classifier's size) are kept, whatever the files' sizes.
        // Files are read and prepared side by side; the first bad one, in order, is the error.
        let files = try parallelMap(paths.count) { i in
            Result {
                let image = try Image.read(paths[i])
                return (
                    try detector.prepare(image, source: paths[i]),
                    image.grey().centreCropSquare().resized(width: detector.size, height: detector.size, method: .area)
                )
            }
        }.map { try $0.get() }
        let prepared = files.map(\.0), thumbnails = files.map(\.1)
        let geometry = prepared.allSatisfy { $0.geometry != nil } ? prepared.map { $0.geometry! } : nil
        var scores = detector.score(
            prepared.map(\.pixels), seeds: Array(firstSeed..<firstSeed + UInt64(seeds)), stopping: stopping,
            geometry: geometry, cluster: cluster)
        guard cluster.isRoot else { return scores }
        let run = try RunFolder(out)
        for i in paths.indices {
            scores[i].image = paths[i]
            scores[i].threshold = Double(prepared[i].threshold)
        }
        // Each picture fits its own decoy (for the PCA panels): made side by side, written in order.
        let figures = parallelMap(paths.count) { i in
            detector.reportFigure(original: thumbnails[i], binary: prepared[i].shape, seed: firstSeed, score: scores[i])
        }
        for i in paths.indices {
            let name = URL(fileURLWithPath: paths[i]).deletingPathExtension().lastPathComponent
            try figures[i].write(run.file("\(name)_report.png"))
        }
        try run.writeJSON(scores, to: "scores.json")
        var page = RunReport(title: "GenLab symmetry scores — \(out)")
        page.table(
            stopping == nil
                ? "Scores (mean of \(seeds) decoy fits)"
                : "Scores (mean of each image's decoy fits: at most \(seeds), fewer once its verdict is settled)",
            scores.map {
                (
                    $0.image ?? "",
                    String(
                        format: "score %.2f ± %.2f   %@ (P = %.2f)   ε̂ = %.2f", $0.score, $0.scoreSpread, $0.symmetry,
                        $0.probabilities[$0.symmetry] ?? .nan, $0.epsilon)
                )
            })
        try page.write(folder: out)
        return scores
    }
}
