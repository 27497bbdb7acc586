import Cluster
import Engine
import Foundation
import Formats
import NN

/// The training loop shared by every model family: seeded batches, a progress bar, metrics.csv,
/// loss.png, a sample grid every epoch, an atomic checkpoint every epoch and at the end, Ctrl-C
/// that saves and stops, and `resume` that continues exactly where the checkpoint left off (the
/// same losses as an uninterrupted run with the same seed).
///
/// Under `mpirun` the loop is data-parallel (`DataParallel`): rank 0 reads the checkpoint and
/// writes the run folder, the model and optimiser state go from it to every rank at the start,
/// each rank trains on its share of every global batch, and the figures are reduced over ranks.
public final class Trainer {
    public let task: TrainingTask
    public let data: ImageSet
    public let spec: DataSpec
    public let run: RunFolder
    public let options: TrainOptions
    /// Files that describe the run (config.json, data.json, options.json), written only once the
    /// run has been checked and started: a run that fails at the start leaves an old folder as it was.
    public let setupFiles: [(name: String, contents: Data)]
    public let parallel: DataParallel
    private var cluster: Cluster { parallel.cluster }

    public static let checkpointName = "checkpoint.safetensors"

    public init(task: TrainingTask, data: ImageSet, spec: DataSpec, run: RunFolder, options: TrainOptions,
                setupFiles: [(name: String, contents: Data)] = [], cluster: Cluster = .world) {
        self.task = task; self.data = data; self.spec = spec; self.run = run; self.options = options
        self.setupFiles = setupFiles
        parallel = DataParallel(cluster)
        task.useDataParallel(parallel, synchroniseBatchNorm: options.syncBatchNorm ?? false)
    }

    /// A loss that is NaN or infinite: training stops and the last good checkpoint stays.
    public struct Diverged: Error, CustomStringConvertible {
        public let step: Int
        public let metric: String
        public let value: Double
        public let checkpoint: String
        public var description: String {
            let kept = FileManager.default.fileExists(atPath: checkpoint)
                ? "The checkpoint \(checkpoint) of the last finished epoch is kept (--resume continues from it)"
                : "No epoch had finished, so there is no checkpoint"
            return "training diverged at step \(step): \(metric) = \(value). \(kept); try a lower --lr"
        }
    }

    public struct Summary {
        public var epochs: Int
        public var steps: Int
        public var interrupted: Bool
        public var lastMetrics: [String: Double]
        public var seconds: Double
        /// Data-parallel runs: gradient bytes all-reduced and seconds spent in those all-reduces
        /// by this rank, over the `stepsThisRun` steps of this call (a resumed run counts from its checkpoint).
        public var reducedBytes = 0
        public var reduceSeconds = 0.0
        public var stepsThisRun = 0
    }

    /// Runs (or resumes) training. Returns when all epochs are done or Ctrl-C was pressed.
    ///
    /// The run folder is locked for the run. A folder that already holds a run is continued with
    /// `resume` or started afresh with `overwrite` (its old checkpoint, metrics and plots removed);
    /// otherwise training refuses to touch it.
    @discardableResult
    public func train(resume: Bool = false, overwrite: Bool = false) throws -> Summary {
        guard options.batchSize % cluster.size == 0 else {
            throw FormatError(run.path, "--batch-size \(options.batchSize) (the global batch) does not split evenly over \(cluster.size) ranks")
        }
        // Only rank 0 touches the run folder; the other ranks learn from it whether it may go on.
        var lock: RunLock?
        defer { lock?.unlock() }
        _ = try cluster.onRoot {
            lock = try run.lock()
            run.removeOrphanTemporaries()
            if !resume && run.holdsRun {
                guard overwrite else {
                    throw FormatError(run.path, "holds a training run already: pass --resume to continue it, or --overwrite to "
                        + "replace it (its checkpoint, metrics and sample grids are removed)")
                }
                try run.clearRun()
            }
            return Data()
        }
        var dataRNG = PRNG(seed: options.seed).fork(1)
        var noiseRNG = PRNG(seed: options.seed).fork(2)
        var epoch = 0, step = 0, skip = 0
        let ckptPath = run.file(Trainer.checkpointName)
        // Rank 0 reads the checkpoint to resume from; its model, optimiser and loop state (fresh or
        // resumed) then go to every other rank, and a refusal stops them all with its one message.
        let bytes = try cluster.onRoot {
            if resume { (epoch, step, skip, dataRNG, noiseRNG) = try resumeState(from: ckptPath) }
            guard cluster.isDistributed else { return Data() }
            let state = TrainingState(epoch: epoch, step: step, rngStates: ["epochData": dataRNG, "noise": noiseRNG],
                                      extra: ["batch": String(skip)])
            return try task.checkpoint(training: state, data: spec).encoded()
        }
        if !cluster.isRoot {
            let ckpt = try Checkpoint.decode(bytes, file: "rank 0's training state")
            try task.restore(ckpt, file: "rank 0's training state")
            guard let t = ckpt.training, let d = t.rng("epochData"), let n = t.rng("noise") else {
                throw FormatError("rank 0's training state", "holds no training loop state")
            }
            (epoch, step, skip, dataRNG, noiseRNG) = (t.epoch, t.step, Int(t.extra["batch"] ?? "0") ?? 0, d, n)
        }
        let firstStep = step
        let perEpoch = data.count / options.batchSize
        guard perEpoch > 0 else {
            throw FormatError(data.source, "\(data.count) training images are fewer than one batch of \(options.batchSize)")
        }
        var metrics: MetricsLog?, board: TensorBoardLog?
        _ = try cluster.onRoot {
            for file in setupFiles { try AtomicFile.write(file.contents, to: run.file(file.name)) }
            metrics = try MetricsLog(run.file("metrics.csv"), columns: ["step", "epoch"] + task.metricNames + ["samples_per_s"],
                                     keepRowsUpToStep: resume ? step : -1)
            board = try TensorBoardLog(folder: run.path)
            return Data()
        }
        Interrupt.install(terminate: cluster.isDistributed)
        let started = Date()
        var last: [String: Double] = [:]
        var interrupted = false
        while epoch < options.epochs && !interrupted {
            let epochStart = dataRNG
            var order = dataRNG
            let batches = data.batchIndices(size: options.batchSize, rng: &order, dropLast: true)
            let bar = ProgressBar(total: batches.count, label: "epoch \(epoch + 1)/\(options.epochs)", unit: "img")
            bar.quiet = options.quiet || !cluster.isRoot
            var seen = 0
            for b in skip..<batches.count {
                let stepStart = Date()
                let mine = parallel.begin(batch: batches[b])
                var m = parallel.mean(task.step(data.batch(mine), noise: &noiseRNG))
                step += 1
                seen += batches[b].count
                m["step"] = Double(step); m["epoch"] = Double(epoch + 1)
                m["samples_per_s"] = Double(batches[b].count) / max(Date().timeIntervalSince(stepStart), 1e-9)
                try metrics?.append(m)
                try board?.scalars(m.filter { !["step", "epoch"].contains($0.key) }, step: step)
                if let bad = task.metricNames.first(where: { m[$0].map { !$0.isFinite } ?? false }) {
                    bar.finish("diverged")
                    throw Diverged(step: step, metric: bad, value: m[bad]!, checkpoint: ckptPath)
                }
                last = m
                bar.update(b + 1, items: seen, status: task.plottedMetrics.compactMap { k in m[k].map { String(format: "%@ %.4g", k, $0) } }
                    .joined(separator: "  "))
                let stopAsked = parallel.any(Interrupt.requested)
                if stopAsked || (options.maxSteps.map { step >= $0 } ?? false) {
                    interrupted = stopAsked
                    let state = TrainingState(epoch: epoch, step: step, rngStates: ["epochData": epochStart, "noise": noiseRNG],
                                              extra: ["batch": String(b + 1)])
                    try save(state)
                    bar.finish(interrupted ? "interrupted: checkpoint saved at step \(step) (resume with --resume)" : "")
                    try writeReport(last, epoch: epoch, step: step, note: interrupted ? "interrupted (resume with --resume)" : "stopped at --max-steps")
                    return summary(epochs: epoch, steps: step, firstStep: firstStep, interrupted: interrupted, last: last, started: started)
                }
            }
            skip = 0
            dataRNG = order
            epoch += 1
            var evaluation = task.evaluate(noise: &noiseRNG)
            if !evaluation.isEmpty {
                evaluation["step"] = Double(step); evaluation["epoch"] = Double(epoch)
                try metrics?.append(evaluation)
                try board?.scalars(evaluation.filter { !["step", "epoch"].contains($0.key) }, step: step)
                for (k, v) in evaluation { last[k] = v }
            }
            let state = TrainingState(epoch: epoch, step: step, rngStates: ["epochData": dataRNG, "noise": noiseRNG], extra: ["batch": "0"])
            try save(state)
            if let metrics, let board {
                try writeSamples(epoch: epoch, step: step, board: board)
                try plotLosses(metrics)
            }
            bar.finish(options.quiet ? "" : "epoch \(epoch)/\(options.epochs): " + task.plottedMetrics.compactMap { k in
                last[k].map { String(format: "%@ %.4g", k, $0) } }.joined(separator: "  ") + evaluation.filter { !["step", "epoch"].contains($0.key) && !task.plottedMetrics.contains($0.key) }
                .sorted { $0.key < $1.key }.map { String(format: "  %@ %.4g", $0.key, $0.value) }.joined())
        }
        try writeReport(last, epoch: epoch, step: step, note: "finished")
        return summary(epochs: epoch, steps: step, firstStep: firstStep, interrupted: false, last: last, started: started)
    }

    private func summary(epochs: Int, steps: Int, firstStep: Int, interrupted: Bool, last: [String: Double], started: Date) -> Summary {
        Summary(epochs: epochs, steps: steps, interrupted: interrupted, lastMetrics: last, seconds: Date().timeIntervalSince(started),
                reducedBytes: cluster.reducedBytes, reduceSeconds: cluster.reduceSeconds, stepsThisRun: steps - firstStep)
    }

    /// Restores the task from the checkpoint at `path` (checked against this run) and returns
    /// where its loop stood: epoch, step, batches of the epoch already done, and the two streams.
    private func resumeState(from path: String) throws -> (Int, Int, Int, PRNG, PRNG) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw FormatError(path, "no checkpoint to resume from (train without --resume first)")
        }
        let ckpt = try Checkpoint.load(path)
        guard ckpt.kind == task.kind else {
            let what = ckpt.kind.isEmpty ? "not a GenLab training checkpoint (no genlab.kind)" : "a \(ckpt.kind) checkpoint"
            throw FormatError(path, "is \(what); resuming needs a \(task.kind) checkpoint")
        }
        if let saved = ckpt.metadata["genlab.data"], let s = try? JSONDecoder().decode(DataSpec.self, from: Data(saved.utf8)),
           s.imageSize != spec.imageSize || s.channels != spec.channels || s.scaling != spec.scaling {
            throw FormatError(path, "was trained on \(s.channels)×\(s.imageSize)² \(s.scaling) data, now given "
                + "\(spec.channels)×\(spec.imageSize)² \(spec.scaling)")
        }
        try task.restore(ckpt, file: path)
        guard let t = ckpt.training, let d = t.rng("epochData"), let n = t.rng("noise") else {
            throw FormatError(path, "holds no training state to resume from")
        }
        return (t.epoch, t.step, Int(t.extra["batch"] ?? "0") ?? 0, d, n)
    }

    /// report.html: the run at a glance (data, options, the last figures, every plot and grid).
    private func writeReport(_ last: [String: Double], epoch: Int, step: Int, note: String) throws {
        guard cluster.isRoot else { return }
        var report = RunReport(title: "GenLab \(task.kind) training — \(run.path)")
        report.notes = ["\(note) after \(step) steps (\(epoch) of \(options.epochs) epochs). TensorBoard: tensorboard --logdir \(run.path)"]
        report.table("Data", [("source", spec.source), ("images", "\(data.count) × \(spec.channels)×\(spec.imageSize)×\(spec.imageSize)"),
                              ("scaling", spec.scaling.rawValue), ("preprocessing", spec.preprocessing.isEmpty ? "—" : spec.preprocessing)]
                     + data.skipped.prefix(20).map { ("skipped", $0) })
        if let json = try? JSONSerialization.jsonObject(with: RunFolder.json(options)) as? [String: Any] {
            report.table("Options", json.keys.sorted().map { ($0, "\(json[$0]!)") })
        }
        report.table("Last figures", RunReport.rows(last.filter { $0.key != "step" && $0.key != "epoch" }))
        try report.write(folder: run.path)
    }

    private func save(_ state: TrainingState) throws {
        guard cluster.isRoot else { return }
        var ckpt = try task.checkpoint(training: state, data: spec)
        if cluster.isDistributed { ckpt.metadata["genlab.ranks"] = String(cluster.size) }
        try ckpt.save(to: run.file(Trainer.checkpointName))
    }

    /// samples.png every epoch; a kept grid (samples_epoch_NNN.png, a TensorBoard image, a frame
    /// of progress.gif) every `sampleInterval` epochs and at the last.
    private func writeSamples(epoch: Int, step: Int, board: TensorBoardLog) throws {
        let images = noGrad { task.samples() }
        let grid = imageGrid(images, padding: 1, range: spec.displayRange, normalizeEach: spec.isJetImages)
        try grid.writePNG(run.file("samples.png"))
        guard epoch % options.sampleInterval == 0 || epoch == options.epochs else { return }
        let kept = run.file(String(format: "samples_epoch_%03d.png", epoch))
        try grid.writePNG(kept)
        if let png = FileManager.default.contents(atPath: kept) {
            try board.image("samples", png: png, width: grid.width, height: grid.height, channels: grid.channels, step: step)
        }
        try writeProgressGIF()
    }

    /// progress.gif: the kept sample grids in epoch order (at most 100 frames).
    private func writeProgressGIF() throws {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: run.path)) ?? [])
            .filter { $0.hasPrefix("samples_epoch_") && $0.hasSuffix(".png") }.sorted()
        let frames = names.suffix(100).compactMap { try? Image.read(run.file($0)) }
        guard frames.count >= 2, frames.allSatisfy({ $0.width == frames[0].width && $0.height == frames[0].height }) else { return }
        try GIF.write(frames, to: run.file("progress.gif"), delayCentiseconds: 40)
    }

    private func plotLosses(_ metrics: MetricsLog) throws {
        let columns = metrics.read()
        var plot = Plot(title: "\(task.kind.uppercased()) training (line: smoothed; band: spread of the steps)", xLabel: "step", yLabel: "loss")
        for name in task.plottedMetrics {
            guard let ys = columns[name], let steps = columns["step"] else { continue }
            // Rows without this metric (evaluation rows) have no value: align by filtering.
            let rows = zip(steps, ys).filter { $0.1.isFinite }
            guard rows.count >= 2 else { continue }
            // Per-step values with a band from the running minimum/maximum of a window, and their
            // exponential moving average (TensorBoard's smoothing, 0.9) as the line.
            var ema = rows[0].1, smoothed: [Double] = []
            for (_, y) in rows { ema = 0.9 * ema + 0.1 * y; smoothed.append(ema) }
            let raw = rows.map(\.1)
            let window = max(1, rows.count / 100)
            let low = raw.indices.map { i in raw[max(0, i - window)...min(raw.count - 1, i + window)].min()! }
            let high = raw.indices.map { i in raw[max(0, i - window)...min(raw.count - 1, i + window)].max()! }
            plot.add(name, x: rows.map(\.0), y: rows.count > 20 ? smoothed : raw, low: low, high: high)
        }
        try plot.write(run.file("loss.png"))
    }
}
