import Cluster
import Datasets
import Engine
import Formats
import Foundation

/// A symmetry detector measured on image files whose truth is in their names (`SymmetryTruth`):
/// what `genlab symmetry evaluate --images` reports. Every image is scored as `genlab symmetry
/// score` scores it, and again with its colours inverted; which way (order, mirror axis,
/// direction) is judged against the truth where the name gives it.
public enum SymmetryImageEvaluation {
    public struct ImageResult: Codable, Sendable {
        public var image: String
        /// The truth as its name gives it (`SymmetryTruth.stem`).
        public var truth: String
        public var predicted: String
        public var predictedInverted: String
        public var score: Double
        /// The order a discrete rotation is reported with, and the best mirror axis (what is
        /// reported for `reflection`), and the direction (for `translation`), whatever the class.
        public var order: Int?
        public var axis: Double?
        public var direction: Double?
        /// The class probabilities (mean over the decoy fits) and the estimated breaking ε̂, so a
        /// decision rule can be studied from the JSON alone.
        public var probabilities: [String: Double]? = nil
        public var epsilon: Double? = nil
        /// What the pixels measured, and why the classifier's class was overruled, when it was.
        public var measured: SymmetryGeometry.Orientation? = nil
        public var overruled: String? = nil
    }

    public struct Result: Codable, Sendable {
        public var checkpoint: String
        public var images: Int
        public var seeds: Int
        /// The first decoy seed: the fits used seeds firstSeed ..< firstSeed + seeds (absent in results
        /// written before it could be chosen, which started at 0).
        public var firstSeed: UInt64? = nil
        /// Where fits stopped once a verdict was settled, the rule (`seeds` is then the most an
        /// image got) and the mean number of fits an image got (an inverted twin that was fitted
        /// counting as one); absent where every image got `seeds`.
        public var stopping: DecoyFitStopping? = nil
        public var meanFits: Double? = nil
        public var accuracy: Double
        public var perClass: [String: Double]
        public var perClassCount: [String: Int]
        /// Rows: true class; columns: predicted, in `SymmetryClass` order.
        public var confusion: [[Int]]
        /// Fraction of images whose class is the same when their colours are inverted.
        public var polarityUnchanged: Double
        /// Discrete-rotation images with an order in their name whose reported order is right.
        public var orderCorrect: Double?
        public var orderImages: Int
        /// One-mirror images with an axis in their name whose reported axis is within 10°.
        public var axisWithin10: Double?
        /// The same within 5°, and counting only images also classed `reflection` (issue 40's
        /// measure of tilted mirrors); absent in evaluations written before.
        public var axisWithin5: Double? = nil
        public var reflectionWithAxisWithin5: Double? = nil
        public var axisImages: Int
        /// Translation images with a direction whose reported direction is within 10°.
        public var directionWithin10: Double?
        public var directionImages: Int
        /// Accuracy per folder (a test family), when the images come from several.
        public var perFolder: [String: Double]
        public var results: [ImageResult]
        public var seconds: Double
    }

    /// The labelled images under `paths` (files, or folders searched recursively); files whose
    /// names carry no truth are returned apart.
    public static func collect(_ paths: [String]) throws -> (labelled: [(String, SymmetryTruth)], unlabelled: [String])
    {
        var files: [String] = []
        for p in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isFolder) else {
                throw FormatError(p, "no such file or folder")
            }
            files += isFolder.boolValue ? ImageSet.imageFiles(in: p).map { (p.hasSuffix("/") ? p : p + "/") + $0 } : [p]
        }
        var labelled: [(String, SymmetryTruth)] = [], unlabelled: [String] = []
        for f in files {
            if let t = SymmetryTruth(fileName: f) { labelled.append((f, t)) } else { unlabelled.append(f) }
        }
        return (labelled, unlabelled)
    }

    // Long: scores, inverted-colour scores, which-way checks and the files, in one pass over the images.
    public static func evaluate(
        _ labelled: [(String, SymmetryTruth)], detector: SymmetryDetector, checkpoint: String, seeds: Int,
        firstSeed: UInt64 = 0, stopping: DecoyFitStopping? = nil, out: String, quiet: Bool = false,
        cluster: Cluster = .world
    ) throws -> Result {
        let start = Date()
        let n = SymmetryDetector.geometrySize
        var prepared: [SymmetryDetector.Prepared] = [], extra: [Int] = [], extraPixels: [[Float]] = [],
            geometry: [[Float]] = [], extraGeometry: [[Float]] = []
        // Which way is measured on the canonical two-colour image at geometrySize, whatever the checkpoint.
        func fine(_ image: Image, _ source: String, _ p: SymmetryDetector.Prepared? = nil) throws -> [Float] {
            try p?.geometry
                ?? SymmetryDetector.binarise(
                    image, size: n, canonical: true, fillHoles: detector.fillsHoles, source: source
                ).pixels
        }
        // Each image read and prepared (with its colours inverted too) side by side; the first bad
        // file, in order, is the error.
        typealias Forms = (p: SymmetryDetector.Prepared, fine: [Float], inverted: (pixels: [Float], fine: [Float])?)
        let forms = parallelMap(labelled.count) { i in
            let path = labelled[i].0
            return Swift.Result<Forms, Error> {
                let image = try Image.read(path).grey()
                let p = try detector.prepare(image, source: path)
                // An inverted image whose two-colour form is the original's gets the same decoys and so
                // the same score (both are deterministic in the pixels and seeds): only the others are fitted.
                let negative = Image(
                    width: image.width, height: image.height, channels: 1, pixels: image.pixels.map { 1 - $0 })
                // Cut (and filled) once for both the classifier's form and the fine one.
                let inverted = try detector.prepare(negative, source: path + " (inverted)")
                return (
                    p, try fine(image, path, p),
                    inverted.pixels == p.pixels
                        ? nil : (inverted.pixels, try fine(negative, path + " (inverted)", inverted))
                )
            }
        }
        for (i, form) in forms.enumerated() {
            let f = try form.get()
            prepared.append(f.p); geometry.append(f.fine)
            if let inverted = f.inverted {
                extra.append(i); extraPixels.append(inverted.pixels); extraGeometry.append(inverted.fine)
            }
        }
        let all = prepared.map(\.pixels) + extraPixels
        let bar = ProgressBar(total: all.count * seeds, label: "decoy fits", unit: "decoy")
        bar.quiet = quiet
        // Under mpirun the decoy fits are shared out over the ranks; rank 0 writes.
        let scores = detector.score(
            all, seeds: Array(firstSeed..<firstSeed + UInt64(seeds)), stopping: stopping,
            geometry: geometry + extraGeometry, cluster: cluster
        ) { done, planned in
            bar.total = planned
            bar.update(done, items: done)
        }
        let meanFits = Double(scores.reduce(0) { $0 + $1.seeds }) / Double(max(scores.count, 1))
        let fitsEach =
            stopping == nil
            ? "\(seeds) decoy fits each" : String(format: "%.1f decoy fits each (at most %d)", meanFits, seeds)
        bar.finish(quiet ? "" : "\(labelled.count) images (\(extra.count) changed when inverted), " + fitsEach)
        var invertedScore = Array(scores.prefix(labelled.count))
        for (k, i) in extra.enumerated() { invertedScore[i] = scores[labelled.count + k] }

        let names = SymmetryClass.allCases.map(\.name)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: names.count), count: names.count)
        var results: [ImageResult] = []
        var orderHits = 0, orderTotal = 0, axisHits = 0, axisTotal = 0, dirHits = 0, dirTotal = 0, samePolarity = 0
        var folderHits: [String: (Int, Int)] = [:]
        var axis5Hits = 0, rightAxis5Hits = 0
        for (i, (path, truth)) in labelled.enumerated() {
            let s = scores[i]
            let o = s.measured!
            let rotationWay = SymmetryDetector.whichWay(.discreteRotation, o),
                mirrorWay = SymmetryDetector.whichWay(.reflection, o)
            let directionWay = SymmetryDetector.whichWay(.translation, o)
            confusion[truth.symmetry.rawValue][names.firstIndex(of: s.mostLikely)!] += 1
            if s.mostLikely == invertedScore[i].mostLikely { samePolarity += 1 }
            if truth.symmetry == .discreteRotation, let order = truth.order {
                orderTotal += 1
                if rotationWay.order == order { orderHits += 1 }
            }
            if truth.symmetry == .reflection, let axis = truth.axes.first {
                axisTotal += 1
                let off = SymmetryTruth.angleDistance(mirrorWay.axes![0], axis)
                if off <= 10 { axisHits += 1 }
                if off <= 5 { axis5Hits += 1 }
                if off <= 5, s.mostLikely == truth.symmetry.name { rightAxis5Hits += 1 }
            }
            if truth.symmetry == .translation, let d = truth.direction {
                dirTotal += 1
                if SymmetryTruth.angleDistance(directionWay.direction!, d) <= 10 { dirHits += 1 }
            }
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent
            let hit = s.mostLikely == truth.symmetry.name ? 1 : 0
            folderHits[folder] = ((folderHits[folder]?.0 ?? 0) + hit, (folderHits[folder]?.1 ?? 0) + 1)
            results.append(
                ImageResult(
                    image: path, truth: truth.stem, predicted: s.mostLikely,
                    predictedInverted: invertedScore[i].mostLikely,
                    score: s.score, order: rotationWay.order, axis: mirrorWay.axes?.first,
                    direction: directionWay.direction, probabilities: s.probabilities, epsilon: s.epsilon,
                    measured: s.measured, overruled: s.overruled))
        }
        var perClass: [String: Double] = [:], perClassCount: [String: Int] = [:]
        for c in SymmetryClass.allCases {
            let row = confusion[c.rawValue], total = row.reduce(0, +)
            if total > 0 { perClass[c.name] = Double(row[c.rawValue]) / Double(total); perClassCount[c.name] = total }
        }
        let right = (0..<names.count).reduce(0) { $0 + confusion[$1][$1] }
        func fraction(_ hits: Int, _ total: Int) -> Double? { total > 0 ? Double(hits) / Double(total) : nil }
        let result = Result(
            checkpoint: checkpoint, images: labelled.count, seeds: seeds, firstSeed: firstSeed, stopping: stopping,
            meanFits: stopping == nil ? nil : meanFits, accuracy: Double(right) / Double(max(labelled.count, 1)),
            perClass: perClass, perClassCount: perClassCount, confusion: confusion,
            polarityUnchanged: Double(samePolarity) / Double(max(labelled.count, 1)),
            orderCorrect: fraction(orderHits, orderTotal), orderImages: orderTotal,
            axisWithin10: fraction(axisHits, axisTotal), axisWithin5: fraction(axis5Hits, axisTotal),
            reflectionWithAxisWithin5: fraction(rightAxis5Hits, axisTotal), axisImages: axisTotal,
            directionWithin10: fraction(dirHits, dirTotal), directionImages: dirTotal,
            perFolder: folderHits.mapValues { Double($0.0) / Double(max($0.1, 1)) }, results: results,
            seconds: Date().timeIntervalSince(start))
        guard cluster.isRoot else { return result }
        let run = try RunFolder(out)
        try run.writeJSON(result, to: "image_evaluation.json")
        try SymmetryEvaluation.confusionFigure(confusion, title: "\(labelled.count) labelled images").write(
            run.file("confusion.png"))
        var csv = "image,truth,predicted,predicted_inverted,score,order,axis,direction\n"
        for r in results {
            let angle = { (a: Double?) in a.map { String(format: "%.1f", $0) } ?? "" }
            csv +=
                "\"\(r.image)\",\(r.truth),\(r.predicted),\(r.predictedInverted),\(String(format: "%.4f", r.score)),"
                + "\(r.order.map(String.init) ?? ""),\(angle(r.axis)),\(angle(r.direction))\n"
        }
        try AtomicFile.write(Data(csv.utf8), to: run.file("images.csv"))
        return result
    }
}
