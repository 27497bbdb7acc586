import Engine
import Foundation
import Formats
import Models
import NN
import Physics

/// `genlab symmetry train`: generates templates, fits a decoy to each, trains the SymmetryCNN on
/// their PCA images (with the eight square symmetries as augmentation), and measures it on a
/// held-out set drawn with new seeds and, where a class allows, parameters outside the training
/// ranges. Writes checkpoint.safetensors, metrics.csv, loss.png, confusion.png, evaluation.json.
public enum SymmetryTraining {
    public struct Options: Codable, Sendable {
        public var perClass = 300
        public var validationPerClass = 30
        public var heldOutPerClass = 60
        /// Held-out templates scored under several decoy seeds to measure the score's stability.
        public var stabilityImages = 24
        public var stabilitySeeds = 5
        public var epochs = 40
        public var batchSize = 32
        public var learningRate: Float = 2e-3
        /// Weight of the ε head's loss beside the class cross-entropy.
        public var degreeWeight: Float = 1
        /// SymmetryCNN width and head layout.
        public var features = 16
        public var headGrid = 4
        public var seed: UInt64 = 0
        public var representation = SymmetryRepresentation()
        public var quiet = false
        public init() {}
    }

    public struct Evaluation: Codable, Sendable {
        public var templates: Int
        /// Accuracy on templates with exact symmetry (ε = 0; every `none` template counts).
        public var accuracyExact: Double
        public var accuracyAll: Double
        public var perClassExact: [String: Double]
        /// Rows: true class; columns: predicted (exact templates), in `SymmetryClass` order.
        public var confusionExact: [[Int]]
        /// Spearman ρ between ε and the symmetry score over the symmetric classes' templates.
        public var spearmanEpsilonScore: Double
        /// Mean over images of the standard deviation of one decoy fit's score across seeds.
        public var scoreSpreadAcrossSeeds: Double?
        /// The same for the reported score, the mean over `stabilitySeeds` fits: its standard
        /// deviation across three disjoint sets of seeds.
        public var reportedScoreSpread: Double?
    }

    public struct Result: Codable, Sendable {
        public var checkpoint: String
        public var validation: Evaluation
        public var heldOut: Evaluation
        public var meanDecoyAccuracy: Double?
        public var seconds: Double
    }

    public static func train(_ o: Options, out: String, log: @escaping (String) -> Void = { print($0) }) throws -> Result {
        let start = Date()
        let run = try RunFolder(out)
        try run.writeJSON(o, to: "options.json")
        let rep = o.representation
        let library = SymmetryTemplates(size: rep.size)
        func build(_ label: String, _ perClass: Int, _ lib: SymmetryTemplates, _ seed: UInt64) -> SymmetryDataset {
            let bar = ProgressBar(total: perClass * SymmetryClass.allCases.count, label: label, unit: rep.input == .raw ? "img" : "decoy")
            bar.quiet = o.quiet
            let d = SymmetryDataset.generate(perClass: perClass, library: lib, representation: rep, seed: seed) { bar.update($0, items: $0) }
            bar.finish(o.quiet ? "" : "\(label): \(d.count) templates" + (d.decoyAccuracy.map {
                String(format: ", decoys reproduce %.1f %% of pixels", 100 * Double($0.reduce(0, +)) / Double(max($0.count, 1)))
            } ?? ""))
            return d
        }
        let train = build("training decoys", o.perClass, library, o.seed)
        let validation = build("validation decoys", o.validationPerClass, library, o.seed &+ 1000)

        let metrics = try MetricsLog(run.file("metrics.csv"), columns: ["epoch", "loss", "val_accuracy_exact", "val_accuracy", "val_spearman"])
        let model = fitClassifier(train: train, validation: validation, options: o) { epoch, loss, v in
            metrics.append(["epoch": Double(epoch), "loss": loss, "val_accuracy_exact": v.accuracyExact,
                            "val_accuracy": v.accuracyAll, "val_spearman": v.spearmanEpsilonScore])
        }
        let config = SymmetryDetector.Config(cnn: model.config, representation: rep, classes: SymmetryClass.allCases.map(\.name))
        try Checkpoint(kind: SymmetryDetector.kind, config: config, module: model).save(to: run.file("checkpoint.safetensors"))

        let validationResult = evaluate(model, validation)
        let heldOutSet = build("held-out decoys", o.heldOutPerClass, SymmetryTemplates(size: rep.size, extrapolate: true), o.seed &+ 2000)
        var heldOut = evaluate(model, heldOutSet)
        if o.stabilityImages > 0 && o.stabilitySeeds > 1 && rep.input != .raw {
            let detector = SymmetryDetector(model: model, config: config)
            let picked = Array(heldOutSet.templates.prefix(o.stabilityImages))
            let r = o.stabilitySeeds
            let scores = detector.score(picked.map(\.pixels), seeds: (0..<UInt64(3 * r)).map { 100 + $0 })
            heldOut.scoreSpreadAcrossSeeds = scores.map(\.scoreSpread).reduce(0, +) / Double(max(scores.count, 1))
            heldOut.reportedScoreSpread = scores.map { s in
                Statistics.meanAndSpread((0..<3).map { g in s.seedScores[(g * r)..<((g + 1) * r)].reduce(0, +) / Double(r) }).std
            }.reduce(0, +) / Double(max(scores.count, 1))
        }
        let losses = metrics.read()
        var plot = Plot(title: "SYMMETRY CNN TRAINING", xLabel: "epoch", yLabel: "")
        plot.add("loss", x: losses["epoch"] ?? [], y: losses["loss"] ?? [])
        plot.add("val accuracy", x: losses["epoch"] ?? [], y: losses["val_accuracy"] ?? [])
        try plot.write(run.file("loss.png"))
        try confusionImage(heldOut.confusionExact, title: String(format: "HELD-OUT, EXACT SYMMETRY: ACCURACY %.1f%%", 100 * heldOut.accuracyExact))
            .writePNG(run.file("confusion.png"))
        let result = Result(checkpoint: run.file("checkpoint.safetensors"), validation: validationResult, heldOut: heldOut,
                            meanDecoyAccuracy: train.decoyAccuracy.map { Double($0.reduce(0, +)) / Double(max($0.count, 1)) },
                            seconds: Date().timeIntervalSince(start))
        try run.writeJSON(result, to: "evaluation.json")
        return result
    }

    /// Trains a SymmetryCNN on precomputed features (Adam, cross-entropy on the class plus the
    /// weighted BCE of the ε head, a random square symmetry per image and step); `epochEnd` gets
    /// the epoch, its mean loss and the validation evaluation.
    public static func fitClassifier(train: SymmetryDataset, validation: SymmetryDataset, options o: Options,
                                     epochEnd: (Int, Double, Evaluation) -> Void = { _, _, _ in }) -> SymmetryCNN {
        let rep = o.representation
        var rng = PRNG(seed: o.seed).fork(7)
        var initRNG = rng.fork(1)
        let model = SymmetryCNN(.init(imageSize: rep.size, channels: rep.channels, classes: SymmetryClass.allCases.count,
                                      features: o.features, headGrid: o.headGrid), rng: &initRNG)
        let opt = Adam(model.namedParameters(), lr: o.learningRate)
        let labels = train.labels, eps = train.epsilons
        var dataRNG = rng.fork(2)
        for epoch in 1...o.epochs {
            model.train()
            let perm = dataRNG.permutation(train.count)
            let bar = ProgressBar(total: (perm.count + o.batchSize - 1) / o.batchSize, label: "epoch \(epoch)/\(o.epochs)", unit: "img")
            bar.quiet = o.quiet
            var total = 0.0, batches = 0
            for s in stride(from: 0, to: perm.count, by: o.batchSize) {
                let idx = Array(perm[s..<min(s + o.batchSize, perm.count)])
                let x = SquareSymmetry.augment(train.features.indexSelect(axis: 0, indices: idx).detach(), rng: &dataRNG)
                let (logits, degree) = model.predict(x)
                let loss = Loss.crossEntropy(logits, targets: idx.map { labels[$0] })
                    + Loss.bceWithLogits(degree, Tensor(shape: [idx.count], data: idx.map { eps[$0] })) * o.degreeWeight
                opt.zeroGrad()
                loss.backward()
                opt.step()
                total += Double(loss.item()); batches += 1
                bar.update(batches, items: batches * o.batchSize, status: String(format: "loss %.4f", total / Double(batches)))
            }
            let v = evaluate(model, validation)
            epochEnd(epoch, total / Double(max(batches, 1)), v)
            bar.finish(o.quiet ? "" : String(format: "epoch %d/%d: loss %.4f  validation accuracy %.3f (exact %.3f)  ρ(ε, score) %.3f",
                                             epoch, o.epochs, total / Double(max(batches, 1)), v.accuracyAll, v.accuracyExact, v.spearmanEpsilonScore))
        }
        model.eval()
        return model
    }

    /// Class probabilities and ε estimates of precomputed features.
    static func predict(_ model: SymmetryCNN, _ features: Tensor) -> (probabilities: [[Double]], epsilon: [Double]) {
        var probs: [[Double]] = [], eps: [Double] = []
        let k = model.config.classes
        noGrad {
            for s in stride(from: 0, to: features.shape[0], by: 256) {
                let (logits, degree) = model.predict(features.slice(axis: 0, start: s, end: min(features.shape[0], s + 256)).detach())
                let p = logits.softmax(axis: 1).scalars
                probs += (0..<(p.count / k)).map { i in (0..<k).map { Double(p[i * k + $0]) } }
                eps += degree.sigmoid().scalars.map(Double.init)
            }
        }
        return (probs, eps)
    }

    /// The symmetry score from class probabilities and the ε estimate: how likely the image has a
    /// symmetry at all, times how intact the symmetry is, (1 − P(none))·(1 − ε̂), in [0, 1].
    public static func score(probabilities p: [Double], epsilon: Double) -> Double {
        (1 - p[SymmetryClass.none.rawValue]) * (1 - min(max(epsilon, 0), 1))
    }

    public static func evaluate(_ model: SymmetryCNN, _ data: SymmetryDataset) -> Evaluation {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        let (probs, eps) = predict(model, data.features)
        let k = SymmetryClass.allCases.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        var right = 0, rightExact = 0, exact = 0
        var scores: [Double] = [], trueEps: [Double] = []
        for (i, t) in data.templates.enumerated() {
            let predicted = probs[i].indices.max { probs[i][$0] < probs[i][$1] }!
            if predicted == t.symmetry.rawValue { right += 1 }
            if t.epsilon == 0 || t.symmetry == .none {
                exact += 1
                confusion[t.symmetry.rawValue][predicted] += 1
                if predicted == t.symmetry.rawValue { rightExact += 1 }
            }
            if t.symmetry != .none {
                scores.append(score(probabilities: probs[i], epsilon: eps[i]))
                trueEps.append(t.epsilon)
            }
        }
        var perClass: [String: Double] = [:]
        for c in SymmetryClass.allCases {
            let row = confusion[c.rawValue], n = row.reduce(0, +)
            perClass[c.name] = n > 0 ? Double(row[c.rawValue]) / Double(n) : .nan
        }
        return Evaluation(templates: data.count, accuracyExact: Double(rightExact) / Double(max(exact, 1)),
                          accuracyAll: Double(right) / Double(max(data.count, 1)), perClassExact: perClass, confusionExact: confusion,
                          spearmanEpsilonScore: Statistics.spearman(trueEps, scores), scoreSpreadAcrossSeeds: nil)
    }

    /// A confusion matrix as a picture: rows true class, columns predicted, shade = row fraction.
    public static func confusionImage(_ m: [[Int]], title: String) -> Image {
        let names = SymmetryClass.allCases.map(\.name), k = names.count, cell = 56
        let left = 150, top = 60
        var canvas = Canvas(width: left + k * cell + 20, height: top + k * cell + 100)
        canvas.text(title, x: 10, y: 10, scale: 2)
        canvas.text("TRUE (ROWS) / PREDICTED (COLUMNS)", x: 10, y: 34, scale: 2)
        for (i, row) in m.enumerated() {
            let n = max(row.reduce(0, +), 1)
            canvas.text(names[i], x: 6, y: top + i * cell + cell / 2 - 5, scale: 2)
            for (j, count) in row.enumerated() {
                let f = Float(count) / Float(n)
                canvas.fill(left + j * cell, top + i * cell, cell - 2, cell - 2, (1 - 0.8 * f, 1 - 0.5 * f, 1 - 0.1 * f))
                let s = String(count)
                canvas.text(s, x: left + j * cell + cell / 2 - s.count * 4, y: top + i * cell + cell / 2 - 5, scale: 2,
                            color: f > 0.6 ? (1, 1, 1) : (0, 0, 0))
            }
        }
        for (j, name) in names.enumerated() {
            // Column labels, one short line each under the matrix.
            canvas.text("\(j + 1) \(name)", x: left, y: top + k * cell + 10 + j * 14, scale: 2)
            canvas.text("\(j + 1)", x: left + j * cell + cell / 2 - 4, y: top - 14, scale: 2)
        }
        return canvas.image
    }
}
