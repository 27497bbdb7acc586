import Datasets
import Engine
import Formats
import Foundation
import Models
import NN

/// Runs the resonant hunt's methods on a labelled feature table, one experiment per injected S/B.
public final class HuntRunner {
    public let table: FeatureTable
    public let options: HuntOptions
    /// Told what is happening, one line at a time.
    public var log: (String) -> Void = { print($0) }
    /// Under mpirun: the flows and the classifiers train data-parallel over the ranks (each rank
    /// runs the whole hunt on the same table and seeds, so every sample, score and figure is the same
    /// on every rank; the caller lets rank 0 alone write).
    public var parallel: DataParallel?
    let x: Tensor
    let mjj: [Float]
    /// The table's labels (truth: 1 signal), for the background m_jj after cuts.
    let truth: [Float]

    public init(table: FeatureTable, options: HuntOptions) throws {
        guard options.problems.isEmpty else {
            throw FormatError("genlab hunt", options.problems.joined(separator: "; "))
        }
        self.table = table
        self.options = options
        x = try table.matrix(options.features)
        mjj = try table.column("mjj")
        truth = try table.column("label")
    }

    func inRegion(_ r: Int) -> Bool {
        Double(mjj[r]) >= options.signalRegion.lowerBound && Double(mjj[r]) < options.signalRegion.upperBound
    }

    /// Every experiment, in the order of `options.signalFractions`.
    public func run() throws -> [HuntExperiment] {
        try options.signalFractions.map { try experiment(fraction: $0) }
    }

    public func experiment(fraction: Double) throws -> HuntExperiment {
        let sample = try HuntSample(table: table, region: options.signalRegion, fraction: fraction, seed: options.seed)
        let dataSR = sample.data.filter(inRegion), dataSB = sample.data.filter { !inRegion($0) }
        let referenceSR = sample.reference.filter(inRegion)
        // Every method needs events on both sides of the SR boundary and in the test set, enough for
        // its folds; a table too small for that is refused rather than fitted to a handful of rows.
        let needed = max(50, 10 * options.folds)
        for (what, n) in [
            ("data events in the signal region", dataSR.count), ("data events in the side bands", dataSB.count),
            ("reference background events in the signal region", referenceSR.count),
            ("test background events", sample.testBackground.count), ("test signal events", sample.testSignal.count),
        ] where n < needed {
            throw FormatError(
                table.sources.first ?? "--data",
                "holds too few events for the hunt: \(n) \(what) (at least \(needed) needed with "
                    + "\(options.folds) folds)"
            )
        }
        log(
            String(
                format:
                    "S/B %.4f in the SR: %d data events (%d in the SR, %d signal injected there); "
                    + "test %d background, %d signal",
                sample.signalOverBackground, sample.data.count, dataSR.count, sample.injectedInRegion,
                sample.testBackground.count, sample.testSignal.count))
        let test = x.indexSelect(axis: 0, indices: sample.testBackground + sample.testSignal)
        let testLabels = sample.testBackground.map { _ in 0 } + sample.testSignal.map { _ in 1 }
        var experiment = HuntExperiment(
            requestedFraction: fraction, signalOverBackground: sample.signalOverBackground,
            significance: Double(sample.injectedInRegion) / Double(max(sample.dataBackgroundInRegion, 1)).squareRoot(),
            injected: sample.injected,
            injectedInRegion: sample.injectedInRegion, dataEvents: sample.data.count, dataInRegion: dataSR.count,
            testBackground: sample.testBackground.count, testSignal: sample.testSignal.count, results: [],
            flowValidationNLL: nil)
        var sidebandFlow: TrainedFlow?
        if options.methods.contains(.cathode) || options.methods.contains(.anode) {
            let started = Date()
            sidebandFlow = try trainFlow(rows: dataSB, seed: options.seed &+ 100, what: "side-band flow")
            experiment.flowValidationNLL = sidebandFlow!.bestValidation
            log(
                String(
                    format: "side-band flow: held-out nll %.4f (%.0f s)", sidebandFlow!.bestValidation,
                    Date().timeIntervalSince(started)))
        }
        for method in options.methods {
            let started = Date()
            var result: HuntMethodResult
            switch method {
            case .cathode:
                let samples = try cathodeSamples(sidebandFlow!, dataSR: dataSR)
                (experiment.interpolationW1, experiment.truthW1) = interpolationCheck(
                    samples, background: referenceSR + sample.testBackground)
                experiment.flowFidelityAUC = fidelityAUC(samples, truth: referenceSR)
                result = classify(
                    method, positives: .rows(dataSR), negatives: .values(samples), test: test, testLabels: testLabels,
                    data: sample.data)
            case .cwola:
                let w = options.sidebandWidth, lo = options.signalRegion.lowerBound,
                    hi = options.signalRegion.upperBound
                let below = dataSB.filter { Double(mjj[$0]) >= lo - w && Double(mjj[$0]) < lo }
                let above = dataSB.filter { Double(mjj[$0]) >= hi && Double(mjj[$0]) < hi + w }
                let masses = { (rows: [Int]) in rows.map { Double(self.mjj[$0]) } }
                let (wL, wH) = Self.balancedBandWeights(
                    below: masses(below), above: masses(above), region: masses(dataSR))
                result = classify(
                    method, positives: .rows(dataSR), negatives: .rows(below + above), test: test,
                    testLabels: testLabels, data: sample.data,
                    negativeWeights: below.map { _ in wL } + above.map { _ in wH })
            case .iad:
                result = classify(
                    method, positives: .rows(dataSR), negatives: .rows(referenceSR), test: test,
                    testLabels: testLabels, data: sample.data)
            case .supervised:
                result = classify(
                    method, positives: .rows(sample.trainingSignal),
                    negatives: .rows(referenceSR),
                    test: test, testLabels: testLabels, data: sample.data)
            case .anode:
                // One SR flow per seed: the spread of ANODE is the flows'.
                let rows = sample.testBackground + sample.testSignal
                let ctx = try table.matrix(["mjj"], rows: rows)
                let background = noGrad { sidebandFlow!.task.flow.logProbability(test, context: ctx).scalars }
                var maxSIC: [Double] = [], auc: [Double] = []
                var curve: ([Double], [Double]) = ([], [])
                for s in 0..<options.classifierSeeds {
                    let regionFlow = try trainFlow(
                        rows: dataSR, seed: options.seed &+ 200 &+ UInt64(s), what: "signal-region flow")
                    let data = noGrad { regionFlow.task.flow.logProbability(test, context: ctx).scalars }
                    let roc = ROC(scores: zip(data, background).map { Double($0) - Double($1) }, labels: testLabels)
                    maxSIC.append(
                        roc.maximumSIC(
                            backgroundEvents: sample.testBackground.count, minimumBackground: options.minimumBackground)
                    )
                    auc.append(roc.auc)
                    if s == 0 {
                        curve = Self.sicCurve(
                            roc, backgroundEvents: sample.testBackground.count, minimum: options.minimumBackground)
                    }
                }
                result = HuntMethodResult(
                    method: method, maxSIC: maxSIC, auc: auc, sicCurve: curve, backgroundMjjAfterCuts: [:], seconds: 0)
            }
            result.seconds = Date().timeIntervalSince(started)
            log(
                String(
                    format: "%@: max SIC %.2f ± %.2f (AUC %.3f) in %.0f s", method.rawValue, result.maxSICMean,
                    result.maxSICSpread, result.auc.first ?? .nan, result.seconds))
            experiment.results.append(result)
        }
        experiment.judgeNullTest()
        if let line = experiment.nullTestLine { log(line) }
        return experiment
    }

    // MARK: flows

    /// A flow trained on the given table rows, holding its best epoch (by held-out likelihood), and
    /// the states of its `options.flowEnsemble` best epochs, best first.
    struct TrainedFlow {
        var task: FlowTask
        var bestValidation: Double
        var bestStates: [[String: Tensor]]
    }

    func trainFlow(rows: [Int], seed: UInt64, what: String) throws -> TrainedFlow {
        var rng = PRNG(seed: seed).fork(5)
        let split = HoldOut(count: rows.count, held: HoldOut.size(of: rows.count, fraction: 0.2), rng: &rng)
        let flowOptions = options.flow
        let training = try flowOptions.data(table, rows: split.training.map { rows[$0] }, source: what)
        let validation = try flowOptions.data(table, rows: split.validation.map { rows[$0] }, source: what)
        let batch = options.flowBatchSize, steps = max(1, training.count / batch)
        var policy = OptimizerPolicy()
        policy.schedule = options.flowSchedule
        policy.plannedSteps = steps * options.flowEpochs
        let task = FlowTask(
            flowOptions.config, data: training, validation: validation, lr: options.flowLearningRate, seed: seed,
            policy: policy)
        if let parallel { task.useDataParallel(parallel, synchroniseBatchNorm: false) }
        var order = PRNG(seed: seed).fork(6), noise = PRNG(seed: seed).fork(7)
        // The best epochs so far, (held-out nll, state), best first.
        var best: [(Double, [String: Tensor])] = []
        var step = 0
        for epoch in 0..<options.flowEpochs {
            let perm = order.permutation(training.count)
            for b in 0..<steps {
                let rows = Array(perm[(b * batch)..<min(training.count, (b + 1) * batch)])
                _ = task.step(
                    parallel?.begin(batch: rows) ?? rows, at: StepPosition(step: step, epoch: epoch), data: &order,
                    noise: &noise)
                step += 1
            }
            let nll = task.negativeLogLikelihood(validation)
            log(String(format: "  %@ epoch %d/%d: held-out nll %.4f", what, epoch + 1, options.flowEpochs, nll))
            if nll.isFinite, best.count < options.flowEnsemble || nll < best.last!.0 {
                best.append((nll, task.flow.stateDict().mapValues { $0.copy() }))
                best.sort { $0.0 < $1.0 }
                if best.count > options.flowEnsemble { best.removeLast() }
            }
        }
        guard let first = best.first else {
            throw FormatError(what, "the flow's held-out likelihood was never finite; try a lower learning rate")
        }
        try task.flow.loadStateDict(first.1)
        return TrainedFlow(task: task, bestValidation: first.0, bestStates: best.map(\.1))
    }

    /// CATHODE's background model in the SR: `oversampling` flow samples per SR data event, each at
    /// an m_jj drawn from a Gaussian kernel density estimate of the SR data's m_jj (kept in the SR),
    /// drawn in equal shares from the flow's best epochs (CATHODE's ensemble, which smooths the
    /// epoch-to-epoch wobble of a flow's tails); samples outside the range of the data's features
    /// are dropped, as CATHODE does. The flow is left at its best epoch.
    func cathodeSamples(_ trained: TrainedFlow, dataSR: [Int]) throws -> Tensor {
        let flow = trained.task.flow
        var rng = PRNG(seed: options.seed).fork(21)
        let m = dataSR.map { Double(mjj[$0]) }
        let mean = m.reduce(0, +) / Double(max(m.count, 1))
        let sd = (m.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(m.count - 1, 1))).squareRoot()
        let bandwidth = 1.06 * sd * pow(Double(max(m.count, 1)), -0.2)
        let n = dataSR.count * options.oversampling
        var contexts = [Float]()
        contexts.reserveCapacity(n)
        while contexts.count < n {
            let v = m[rng.nextInt(m.count)] + bandwidth * Double(rng.nextNormal())
            if options.signalRegion.contains(v) && v < options.signalRegion.upperBound { contexts.append(Float(v)) }
        }
        let states = trained.bestStates, share = (n + states.count - 1) / states.count
        var parts: [Tensor] = []
        for (k, state) in states.enumerated() {
            let lo = k * share, hi = min(n, lo + share)
            guard lo < hi else { break }
            try flow.loadStateDict(state)
            let c = Tensor(shape: [hi - lo, 1], data: Array(contexts[lo..<hi]))
            parts.append(flow.sample(context: c, count: hi - lo, rng: &rng))
        }
        try flow.loadStateDict(states[0])
        let samples = Tensor.concat(parts, axis: 0)
        // Keep samples inside the data's feature ranges (the flow's tails are not the data's).
        let d = options.features.count, values = samples.scalars, data = x.indexSelect(axis: 0, indices: dataSR).scalars
        var low = [Float](repeating: .infinity, count: d), high = [Float](repeating: -.infinity, count: d)
        for i in 0..<(data.count / d) {
            for j in 0..<d { low[j] = min(low[j], data[i * d + j]); high[j] = max(high[j], data[i * d + j]) }
        }
        let kept = (0..<n).filter { i in
            (0..<d).allSatisfy {
                values[i * d + $0].isFinite && values[i * d + $0] >= low[$0] && values[i * d + $0] <= high[$0]
            }
        }
        return samples.indexSelect(axis: 0, indices: kept)
    }

    /// The flow's samples against true SR background in all features at once: the AUC of a
    /// classifier (the hunt's, one seed, k-fold, every event scored by the member that did not see
    /// it) told to separate them. 0.5 is a perfect background model; what CATHODE's classifier can
    /// learn from the flow's mismodelling grows with the distance from it.
    func fidelityAUC(_ samples: Tensor, truth: [Int]) -> Double {
        let inputs = Tensor.concat([x.indexSelect(axis: 0, indices: truth), samples], axis: 0)
        let labels = Array(repeating: 1, count: truth.count) + Array(repeating: 0, count: samples.shape[0])
        let fold = folds(labels.count, fork: 41)
        let members = foldMembers(fold, seeds: 1, seedBase: options.seed &+ 4000)
        let ensemble = ClassifierEnsemble(
            config: options.classifier, inputs: inputs, labels: labels, members: members, parallel: parallel)
        var scores = [Double](repeating: 0, count: labels.count)
        for f in 0..<options.folds {
            let rows = labels.indices.filter { fold[$0] == f }
            for (i, p) in zip(rows, ensemble.probability(inputs.indexSelect(axis: 0, indices: rows), members: [f])) {
                scores[i] = p
            }
        }
        let auc = ROC(scores: scores, labels: labels).auc
        log(String(format: "SB flow in the SR vs true SR background, a classifier's AUC: %.4f (0.5 = perfect)", auc))
        return auc
    }

    /// W1 per feature: flow samples vs true SR background, and one half of that truth vs the other
    /// (the same number of events as the samples where there are enough).
    func interpolationCheck(_ samples: Tensor, background: [Int]) -> ([String: Double], [String: Double]) {
        let d = options.features.count, s = samples.scalars, truth = x.indexSelect(axis: 0, indices: background).scalars
        let n = truth.count / d, half = n / 2
        var model: [String: Double] = [:], floor: [String: Double] = [:]
        for (j, name) in options.features.enumerated() {
            let column = { (v: [Float], rows: Range<Int>) in rows.map { Double(v[$0 * d + j]) } }
            model[name] = Quality.wasserstein1(column(s, 0..<(s.count / d)), column(truth, 0..<n))
            floor[name] = Quality.wasserstein1(column(truth, 0..<half), column(truth, half..<n))
        }
        log(
            "SB flow in the SR vs true SR background, W1 (truth vs truth): "
                + options.features.map { String(format: "%@ %.4f (%.4f)", $0, model[$0]!, floor[$0]!) }.joined(
                    separator: ", "))
        return (model, floor)
    }

    /// CWoLa's side-band weights: the band below the SR and the band above get total weights
    /// whose mean m_jj is the SR's, so a feature that varies linearly with m_jj has the same mean
    /// in both classes — the falling spectrum would otherwise make the lower band dominate, and
    /// the classifier learn "heavier jets than the side bands" where there is no signal. Each band
    /// keeps equal weights within it; the mean weight is 1. Uniform when the SR's mean m_jj is not
    /// between the bands'. Returns the per-event weight of the lower and of the upper band.
    public static func balancedBandWeights(below: [Double], above: [Double], region: [Double]) -> (Float, Float) {
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }
        let mL = mean(below), mH = mean(above), mS = mean(region)
        guard !below.isEmpty, !above.isEmpty, mL < mS, mS < mH else { return (1, 1) }
        // W_L·mL + W_H·mH = (W_L + W_H)·mS, with W_L + W_H = the number of band events.
        let total = Double(below.count + above.count)
        let wL = total * (mH - mS) / (mH - mL), wH = total - wL
        return (Float(wL / Double(below.count)), Float(wH / Double(above.count)))
    }

    // MARK: classifiers

    /// One class of a classifier's training rows: table rows, or generated feature rows.
    enum Rows {
        case rows([Int])
        case values(Tensor)
    }

    /// Trains `folds × classifierSeeds` classifiers (positives 1, negatives 0; each fold's rows held
    /// out of its classifier, the next fold for early stopping), scores the test set with every
    /// seed's classifiers and the data with the first seed's, each data row by classifiers that did
    /// not see it; returns max SIC per seed and the background m_jj after cuts.
    func classify(
        _ method: HuntMethod, positives: Rows, negatives: Rows, test: Tensor, testLabels: [Int], data: [Int],
        negativeWeights: [Float]? = nil
    ) -> HuntMethodResult {
        func tensor(_ r: Rows) -> (Tensor, [Int?]) {
            switch r {
            case .rows(let rows): return (x.indexSelect(axis: 0, indices: rows), rows.map { $0 })
            case .values(let t): return (t, Array(repeating: nil, count: t.shape[0]))
            }
        }
        let (p, pRows) = tensor(positives), (n, nRows) = tensor(negatives)
        let inputs = Tensor.concat([p, n], axis: 0)
        let labels = Array(repeating: 1, count: p.shape[0]) + Array(repeating: 0, count: n.shape[0])
        let tableRow = pRows + nRows
        let k = options.folds
        let fold = folds(labels.count, fork: 31 + UInt64(HuntMethod.allCases.firstIndex(of: method)!))
        let members = foldMembers(fold, seeds: options.classifierSeeds, seedBase: options.seed &+ 1000)
        let weights = negativeWeights.map { Array(repeating: 1, count: p.shape[0]) + $0 }
        let ensemble = ClassifierEnsemble(
            config: options.classifier, inputs: inputs, labels: labels, weights: weights, members: members,
            parallel: parallel)
        var maxSIC: [Double] = [], auc: [Double] = []
        var curve: ([Double], [Double]) = ([], [])
        let nb = testLabels.filter { $0 == 0 }.count
        for s in 0..<options.classifierSeeds {
            let score = ensemble.probability(test, members: Array((s * k)..<((s + 1) * k)))
            let roc = ROC(scores: score, labels: testLabels)
            maxSIC.append(roc.maximumSIC(backgroundEvents: nb, minimumBackground: options.minimumBackground))
            auc.append(roc.auc)
            if s == 0 { curve = Self.sicCurve(roc, backgroundEvents: nb, minimum: options.minimumBackground) }
        }
        // Data scores (first seed): a row the classifiers trained on is scored by its fold's classifier.
        var foldOf: [Int: Int] = [:]
        for (i, r) in tableRow.enumerated() { if let r { foldOf[r] = fold[i] } }
        let dataScores = dataScores(ensemble, rows: data, foldOf: foldOf)
        let regionScores = data.indices.filter { inRegion(data[$0]) }.map { dataScores[$0] }
        var after: [String: [Double]] = [:]
        for keep in [0.1, 0.01] {
            let cut = threshold(forFalsePositiveRate: keep, background: regionScores)
            after[String(format: "%g", keep)] = data.indices.filter { truth[data[$0]] == 0 && dataScores[$0] > cut }
                .map {
                    Double(mjj[data[$0]])
                }
        }
        after["all"] = data.filter { truth[$0] == 0 }.map { Double(mjj[$0]) }
        return HuntMethodResult(
            method: method, maxSIC: maxSIC, auc: auc, sicCurve: curve, backgroundMjjAfterCuts: after, seconds: 0)
    }

    /// Each of `count` rows' fold (0..<folds), dealt round a seeded permutation.
    func folds(_ count: Int, fork: UInt64) -> [Int] {
        var rng = PRNG(seed: options.seed).fork(fork)
        var fold = [Int](repeating: 0, count: count)
        for (i, r) in rng.permutation(count).enumerated() { fold[r] = i % options.folds }
        return fold
    }

    /// `seeds` × folds members, seed s and fold f at index s · folds + f: each trains on the other
    /// folds but f + 1, which decides its best epochs; its seed is seedBase + 1000 s + f.
    func foldMembers(_ fold: [Int], seeds: Int, seedBase: UInt64) -> [ClassifierEnsemble.Member] {
        let k = options.folds
        return (0..<seeds).flatMap { s in
            (0..<k).map { f in
                ClassifierEnsemble.Member(
                    training: fold.indices.filter { fold[$0] != f && fold[$0] != (f + 1) % k },
                    validation: fold.indices.filter { fold[$0] == (f + 1) % k },
                    seed: seedBase &+ UInt64(1000 * s + f))
            }
        }
    }

    func dataScores(_ ensemble: ClassifierEnsemble, rows: [Int], foldOf: [Int: Int]) -> [Double] {
        let k = options.folds
        var out = [Double](repeating: 0, count: rows.count)
        var groups: [Int: [Int]] = [:]
        for (i, r) in rows.enumerated() { groups[foldOf[r] ?? -1, default: []].append(i) }
        for (f, positions) in groups {
            let members = f < 0 ? Array(0..<k) : [f]
            let scores = ensemble.probability(
                x.indexSelect(axis: 0, indices: positions.map { rows[$0] }), members: members)
            for (j, i) in positions.enumerated() { out[i] = scores[j] }
        }
        return out
    }

    /// The SIC curve thinned to ≤ 400 points (for the plot and report.json).
    static func sicCurve(_ roc: ROC, backgroundEvents: Int, minimum: Int) -> ([Double], [Double]) {
        let points = roc.sicPoints(backgroundEvents: backgroundEvents, minimumBackground: minimum)
        let step = max(1, points.count / 400)
        let thinned = stride(from: 0, to: points.count, by: step).map { points[$0] }
        return (thinned.map(\.signalEfficiency), thinned.map(\.sic))
    }
}
