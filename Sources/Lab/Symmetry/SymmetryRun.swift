import Foundation
import Formats
import Physics

/// Scoring image files end to end (what `genlab symmetry score` and the demo do): read, binarise,
/// score under several seeds, and write one report picture per image.
public enum SymmetryRun {
    public static func score(_ paths: [String], detector: SymmetryDetector, seeds: Int, out: String) throws -> [SymmetryDetector.Score] {
        let run = try RunFolder(out)
        var binary: [[Float]] = [], originals: [Image] = [], thresholds: [Float] = []
        for path in paths {
            let image = try Image.read(path)
            let rep = detector.config.representation
            let (pixels, t) = try SymmetryDetector.binarise(image, size: detector.size, canonical: rep.canonical == true, upright: rep.upright == true,
                                                            source: path)
            binary.append(pixels); originals.append(image); thresholds.append(t)
        }
        var scores = detector.score(binary, seeds: (0..<UInt64(seeds)).map { $0 })
        for i in paths.indices {
            scores[i].image = paths[i]
            scores[i].threshold = Double(thresholds[i])
            var shown = binary[i]
            if detector.config.representation.canonical == true {
                let n = SymmetryDetector.geometrySize
                let fine = try SymmetryDetector.binarise(originals[i], size: n, canonical: true, source: paths[i]).pixels
                scores[i].describe(SymmetryGeometry.orientation(fine, size: n))
                shown = try SymmetryDetector.binarise(originals[i], size: detector.size, canonical: true, source: paths[i]).pixels
            }
            let name = URL(fileURLWithPath: paths[i]).deletingPathExtension().lastPathComponent
            try detector.reportImage(original: originals[i], binary: shown, seed: 0, score: scores[i]).writePNG(run.file("\(name)_report.png"))
        }
        try run.writeJSON(scores, to: "scores.json")
        var page = RunReport(title: "GenLab symmetry scores — \(out)")
        page.table("Scores (mean of \(seeds) decoy fits)", scores.map {
            ($0.image ?? "", String(format: "score %.2f ± %.2f   %@ (P = %.2f)   ε̂ = %.2f", $0.score, $0.scoreSpread, $0.symmetry,
                                    $0.probabilities[$0.symmetry] ?? .nan, $0.epsilon))
        })
        try page.write(folder: out)
        return scores
    }
}
