import Engine
import Formats
import Foundation
import Models

/// How well a symmetry detector does on templates whose symmetry and ε are known: accuracy on
/// exact symmetries, the confusion matrix, and whether the score falls as ε grows — pooled over
/// templates, and along sweeps that break one template more and more.
public enum SymmetryEvaluation {
    /// The steps of every sweep, training and held-out.
    public static let sweepEpsilons = [0, 0.2, 0.4, 0.6, 0.8, 1]

    public struct Evaluation: Codable, Sendable {
        public var templates: Int
        /// Accuracy on templates with exact symmetry (ε = 0; every `none` template counts).
        public var accuracyExact: Double
        public var accuracyAll: Double
        /// Accuracy per class on its exact templates; a class with none in the set is left out.
        public var perClassExact: [String: Double]
        /// Rows: true class; columns: predicted (exact templates), in `SymmetryClass` order.
        public var confusionExact: [[Int]]
        /// Spearman ρ between ε and the symmetry score over the symmetric classes' templates.
        public var spearmanEpsilonScore: Double
        /// Decoy fits averaged per template (1: one fit, as during training; more: the reported
        /// score of `genlab symmetry score`).
        public var seeds: Int = 1
        /// Mean over images of the standard deviation of one decoy fit's score across seeds.
        public var scoreSpreadAcrossSeeds: Double?
        /// The same for the reported score, the mean over `heldOutSeeds` fits: its standard
        /// deviation across three disjoint sets of seeds.
        public var reportedScoreSpread: Double?
    }

    /// Sweeps: one template (potential, breaking field, fill) at ε = 0, 0.2, …, 1, scored as
    /// `genlab symmetry score` does; does the score fall along each?
    public struct SweepEvaluation: Codable, Sendable {
        public var sweeps: Int
        public var epsilons: [Double]
        public var seeds: Int
        /// Spearman ρ between ε and the score within each sweep: mean, median, per class (mean).
        public var meanSpearman: Double
        /// Standard error of that mean (the sweeps' standard deviation over √(count − 1)).
        public var meanSpearmanError: Double?
        public var medianSpearman: Double
        public var perClassMeanSpearman: [String: Double]
        /// Fraction of sweeps whose score falls with ρ ≤ −0.8.
        public var fractionFalling: Double
        /// The mean score at each ε over all sweeps.
        public var meanScore: [Double]
        /// ρ of each sweep, in drawing order (for paired comparisons of two checkpoints).
        public var spearman: [Double]?
        /// Reference: mean ρ within a sweep between ε and minus the image's disagreement with its
        /// nearest probed symmetry (`SymmetryTemplates.nearestSymmetry`) — a hand-made measure that
        /// is told the symmetry maps, so how well ε can be read off the pixels at all.
        public var probeMeanSpearman: Double?
    }

    /// The classifier alone (one decoy fit per template, as the features were made).
    public static func evaluate(_ model: SymmetryCNN, _ data: SymmetryDataset) -> Evaluation {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        let (probs, eps) = SymmetryDetector.predict(model, data.features)
        return summarise(
            data.templates, probabilities: probs,
            scores: zip(probs, eps).map { SymmetryDetector.score(probabilities: $0.0, epsilon: $0.1) })
    }

    /// The whole detector as users run it: each template's decoy fitted under every seed, class
    /// probabilities and score averaged over the fits.
    public static func evaluate(
        _ detector: SymmetryDetector, _ templates: [SymmetryTemplates.Template], seeds: [UInt64],
        progress: ((Int) -> Void)? = nil
    ) -> Evaluation {
        let scored = detector.score(templates.map(\.pixels), seeds: seeds) { done, _ in progress?(done) }
        let names = SymmetryClass.allCases.map(\.name)
        var e = summarise(
            templates, probabilities: scored.map { s in names.map { s.probabilities[$0] ?? 0 } },
            scores: scored.map(\.score))
        e.seeds = seeds.count
        return e
    }

    static func summarise(
        _ templates: [SymmetryTemplates.Template], probabilities probs: [[Double]], scores: [Double]
    ) -> Evaluation {
        let k = SymmetryClass.allCases.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        var right = 0, rightExact = 0, exact = 0
        var symmetricScores: [Double] = [], trueEps: [Double] = []
        for (i, t) in templates.enumerated() {
            let predicted = probs[i].indices.max { probs[i][$0] < probs[i][$1] }!
            if predicted == t.symmetry.rawValue { right += 1 }
            if t.epsilon == 0 || t.symmetry == .none {
                exact += 1
                confusion[t.symmetry.rawValue][predicted] += 1
                if predicted == t.symmetry.rawValue { rightExact += 1 }
            }
            if t.symmetry != .none {
                symmetricScores.append(scores[i])
                trueEps.append(t.epsilon)
            }
        }
        var perClass: [String: Double] = [:]
        for c in SymmetryClass.allCases {
            let row = confusion[c.rawValue], n = row.reduce(0, +)
            if n > 0 { perClass[c.name] = Double(row[c.rawValue]) / Double(n) }
        }
        return Evaluation(
            templates: templates.count, accuracyExact: Double(rightExact) / Double(max(exact, 1)),
            accuracyAll: Double(right) / Double(max(templates.count, 1)), perClassExact: perClass,
            confusionExact: confusion,
            spearmanEpsilonScore: Statistics.spearman(trueEps, symmetricScores), scoreSpreadAcrossSeeds: nil)
    }

    /// `perClass` sweeps of every symmetric class: the same draw (potential, breaking field, fill)
    /// at each ε in `epsilons`.
    public static func sweeps(
        perClass: Int, library: SymmetryTemplates, epsilons: [Double], seed: UInt64
    ) -> [[SymmetryTemplates.Template]] {
        let rng = PRNG(seed: seed)
        var out: [[SymmetryTemplates.Template]] = []
        for _ in 0..<perClass {
            for c in SymmetryClass.allCases where c != .none {
                var r = rng.fork(UInt64(out.count))
                out.append(library.sweep(c, epsilons: epsilons, rng: &r))
            }
        }
        return out
    }

    /// Scores `sweeps` (drawn at the asked `epsilons`) under every seed; ρ within a sweep uses the
    /// ε each image shows.
    public static func evaluateSweeps(
        _ detector: SymmetryDetector, _ sweeps: [[SymmetryTemplates.Template]], epsilons: [Double],
        seeds: [UInt64], progress: ((Int) -> Void)? = nil
    ) -> SweepEvaluation {
        let flat = sweeps.flatMap { $0 }
        let scores = detector.score(flat.map(\.pixels), seeds: seeds) { done, _ in progress?(done) }.map(\.score)
        let steps = sweeps.first?.count ?? 0
        var rhos: [Double] = [], perClass: [String: [Double]] = [:], mean = [Double](repeating: 0, count: steps)
        for (i, sweep) in sweeps.enumerated() {
            let s = Array(scores[(i * steps)..<((i + 1) * steps)])
            let rho = Statistics.spearman(sweep.map(\.epsilon), s)
            rhos.append(rho)
            perClass[sweep[0].symmetry.name, default: []].append(rho)
            for j in 0..<steps { mean[j] += s[j] / Double(sweeps.count) }
        }
        let sorted = rhos.sorted()
        let library = SymmetryTemplates(size: detector.size)
        let probe = sweeps.map { sweep in
            Statistics.spearman(sweep.map(\.epsilon), sweep.map { -library.nearestSymmetry($0.pixels) })
        }
        return SweepEvaluation(
            sweeps: sweeps.count, epsilons: epsilons, seeds: seeds.count,
            meanSpearman: rhos.reduce(0, +) / Double(max(rhos.count, 1)),
            meanSpearmanError: Statistics.meanAndSpread(rhos).std / Double(max(rhos.count - 1, 1)).squareRoot(),
            medianSpearman: sorted.isEmpty ? .nan : sorted[sorted.count / 2],
            perClassMeanSpearman: perClass.mapValues { $0.reduce(0, +) / Double($0.count) },
            fractionFalling: Double(rhos.filter { $0 <= -0.8 }.count) / Double(max(rhos.count, 1)),
            meanScore: mean, spearman: rhos, probeMeanSpearman: probe.reduce(0, +) / Double(max(probe.count, 1)))
    }

    /// A detector measured as users get it: `heldOut` templates each scored as `genlab symmetry
    /// score` does (the mean of `seeds` decoy fits), and `sweepsPerClass` sweeps per symmetric
    /// class drawn from the held-out library with `sweepSeed`. Nothing when there are no seeds.
    public static func measure(
        _ detector: SymmetryDetector, heldOut: [SymmetryTemplates.Template], sweepsPerClass: Int, sweepSeed: UInt64,
        seeds: [UInt64], quiet: Bool = false
    ) -> (heldOut: Evaluation?, sweeps: SweepEvaluation?) {
        guard !seeds.isEmpty else { return (nil, nil) }
        let unit = detector.config.representation.input == .raw ? "img" : "decoy"
        func bar(_ label: String, _ total: Int) -> ProgressBar {
            let b = ProgressBar(total: total, label: label, unit: unit)
            b.quiet = quiet
            return b
        }
        var evaluation: Evaluation?
        if !heldOut.isEmpty {
            let b = bar("held-out, reported", heldOut.count * seeds.count)
            evaluation = evaluate(detector, heldOut, seeds: seeds) { b.update($0, items: $0) }
            b.finish(
                quiet
                    ? ""
                    : "held-out set: \(heldOut.count) templates, \(seeds.count) decoy fits each (the reported score)")
        }
        guard sweepsPerClass > 0 else { return (evaluation, nil) }
        let drawn = sweeps(
            perClass: sweepsPerClass, library: SymmetryTemplates(size: detector.size, extrapolate: true),
            epsilons: sweepEpsilons, seed: sweepSeed)
        let b = bar("sweeps", drawn.count * sweepEpsilons.count * seeds.count)
        let result = evaluateSweeps(detector, drawn, epsilons: sweepEpsilons, seeds: seeds) { b.update($0, items: $0) }
        b.finish(quiet ? "" : "sweeps: \(drawn.count) templates at ε = 0 … 1, \(seeds.count) decoy fits each")
        return (evaluation, result)
    }

    /// How much the score of an image varies with the decoys' seeds.
    public struct Stability: Codable, Sendable {
        public var images: Int
        /// Fits in the reported mean.
        public var fits: Int
        /// Mean over the images of one fit's score's standard deviation across 3 × `fits` seeds.
        public var perFit: Double
        /// Mean over the images of the standard deviation of the `fits`-fit mean across three
        /// disjoint sets of seeds (the first is the reported score's).
        public var reported: Double
    }

    /// The score's stability on `images`, each scored under 3 × `fits` decoy seeds (the reported
    /// fits' seeds first); nil without images, or for the raw-image control, which has no decoy.
    public static func stability(
        _ detector: SymmetryDetector, _ images: [[Float]], fits r: Int,
        progress: ((Int) -> Void)? = nil
    ) -> Stability? {
        let input = detector.config.representation.input
        guard !images.isEmpty, r > 0, input != .raw else { return nil }
        let scores = detector.score(images, seeds: SymmetrySeeds.reportedFits(3 * r, input: input)) { done, _ in
            progress?(done)
        }
        let n = Double(max(scores.count, 1))
        return Stability(
            images: images.count, fits: r, perFit: scores.map(\.scoreSpread).reduce(0, +) / n,
            reported: scores.map { s in
                Statistics.meanAndSpread(
                    (0..<3).map { g in s.seedScores[(g * r)..<((g + 1) * r)].reduce(0, +) / Double(r) }
                ).std
            }.reduce(0, +) / n)
    }

    /// What `genlab symmetry evaluate` measures and writes to evaluation.json.
    public struct Measurement: Codable, Sendable {
        public var checkpoint: String
        public var seed: UInt64
        public var heldOut: Evaluation?
        public var sweeps: SweepEvaluation?
        /// The score's stability on the first held-out templates (nil when not asked for).
        public var stability: Stability?
        /// The sets that are not new to the checkpoint (see `seenBefore`).
        public var warnings: [String] = []
        public var seconds: Double
    }

    /// Which of an evaluation's sets the classifier met while it trained, by the seeds `train`
    /// derives from its own (templates s, validation s + 1000, training sweeps s + 4000): the held-out
    /// library draws the same potentials from the same stream but for its extrapolated parameters.
    public static func seenBefore(
        _ training: SymmetryTrainingOptions, heldOutSeed: UInt64?, sweepSeed: UInt64?
    ) -> [String] {
        let s = training.seed
        var seen: [String] = []
        if let h = heldOutSeed, h == s || h == s &+ SymmetrySeeds.validation {
            seen.append(
                "held-out templates (seed \(h)) repeat the checkpoint's \(h == s ? "training" : "validation") "
                    + "templates' stream"
            )
        }
        if let w = sweepSeed, training.trainingSweepsPerClass > 0, w == s &+ SymmetrySeeds.trainingSweeps {
            seen.append("sweeps (seed \(w)) repeat the checkpoint's training sweeps' stream")
        }
        return seen
    }

    /// `genlab symmetry evaluate`: a detector on `heldOutPerClass` held-out templates per class drawn
    /// from `seed` (the set `train` draws at its seed + 2000) and on sweeps drawn from `seed` + 1000,
    /// each scored as the mean of `seeds` decoy fits; with `stabilityImages`, the score's stability
    /// on that many of the held-out templates (as `train` measures it). Writes evaluation.json and
    /// confusion.png to `out`.
    public static func evaluateCheckpoint(
        _ detector: SymmetryDetector, checkpoint: String, heldOutPerClass: Int, sweepsPerClass: Int, seeds: Int,
        seed: UInt64, stabilityImages: Int = 0, out: String, quiet: Bool = false
    ) throws -> Measurement {
        let start = Date()
        let run = try RunFolder(out)
        let templates = SymmetryDataset.draw(
            perClass: heldOutPerClass, library: SymmetryTemplates(size: detector.size, extrapolate: true), seed: seed)
        // The same decoy seeds as `train`'s reported evaluation, so seed 2000 repeats it exactly.
        let sweepSeed = seed &+ SymmetrySeeds.sweepsAfterHeldOut
        let (heldOut, sweeps) = measure(
            detector, heldOut: templates, sweepsPerClass: sweepsPerClass, sweepSeed: sweepSeed,
            seeds: SymmetrySeeds.reportedFits(seeds, input: detector.config.representation.input), quiet: quiet)
        if let h = heldOut { try confusionFigure(h).write(run.file("confusion.png")) }
        var stable: Stability?
        if stabilityImages > 0 {
            let picked = templates.prefix(stabilityImages).map(\.pixels)
            let bar = ProgressBar(total: picked.count * 3 * seeds, label: "stability", unit: "decoy")
            bar.quiet = quiet
            stable = stability(detector, picked, fits: seeds) { bar.update($0, items: $0) }
            bar.finish(
                quiet || stable == nil ? "" : "stability: \(picked.count) templates, \(3 * seeds) decoy fits each")
        }
        let warnings =
            detector.config.training.map {
                seenBefore(
                    $0, heldOutSeed: heldOutPerClass > 0 ? seed : nil, sweepSeed: sweepsPerClass > 0 ? sweepSeed : nil)
            } ?? []
        let m = Measurement(
            checkpoint: checkpoint, seed: seed, heldOut: heldOut, sweeps: sweeps, stability: stable, warnings: warnings,
            seconds: Date().timeIntervalSince(start))
        try run.writeJSON(m, to: "evaluation.json")
        try RunReport(title: "GenLab symmetry evaluation — \(out)").write(folder: out)
        return m
    }

    /// The confusion matrix of an evaluation's exact templates, titled with its accuracy.
    public static func confusionFigure(_ e: Evaluation) -> MatrixFigure {
        confusionFigure(
            e.confusionExact,
            title: String(
                format: "Held-out templates, exact symmetry (%d-fit mean): accuracy %.1f %%", e.seeds,
                100 * e.accuracyExact))
    }

    /// A confusion matrix as a picture: rows true class, columns predicted, shade = row fraction.
    public static func confusionFigure(_ m: [[Int]], title: String) -> MatrixFigure {
        MatrixFigure(counts: m, names: SymmetryClass.allCases.map(\.name), title: title)
    }
}
