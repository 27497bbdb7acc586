import Cluster
import Engine
import Formats
import Foundation
import Models
import NN

/// The one training loop of GenLab, for every trained thing (GAN, VAE/AE, the tagger, the
/// symmetry CNN): seeded batches, a progress bar, metrics.csv and TensorBoard, loss.png, sample
/// grids where the model makes images, an atomic checkpoint every epoch and at the end, Ctrl-C
/// that saves and stops, and `resume` that continues exactly where the checkpoint left off (the
/// same figures and weights as an uninterrupted run with the same seed).
///
/// Under `mpirun` the loop is data-parallel (`DataParallel`): rank 0 reads the checkpoint and
/// writes the run folder, the model and optimiser state go from it to every rank at the start,
/// each rank trains on its share of every global batch, and the figures are reduced over ranks.
public final class Trainer {
    public let task: TrainingTask
    public let run: RunFolder
    public let options: TrainOptions
    /// Files that describe the run (config.json, data.json, options.json), written only once the
    /// run has been checked and started: a run that fails at the start leaves an old folder as it was.
    public let setupFiles: [(name: String, contents: Data)]
    public let parallel: DataParallel
    var cluster: Cluster { parallel.cluster }

    public static let checkpointName = "checkpoint.safetensors"

    public init(
        task: TrainingTask, run: RunFolder, options: TrainOptions,
        setupFiles: [(name: String, contents: Data)] = [], cluster: Cluster = .world
    ) {
        self.task = task; self.run = run; self.options = options
        self.setupFiles = setupFiles
        parallel = DataParallel(cluster)
        task.useDataParallel(parallel, synchroniseBatchNorm: options.syncBatchNorm ?? false)
    }

    /// The images of a GAN or VAE/AE run (nil for the tagger and the symmetry CNN).
    public var images: TrainingImages? { (task as? ImageTrainingTask)?.images }

    /// A loss that is NaN or infinite: training stops and the last good checkpoint stays.
    public struct Diverged: Error, CustomStringConvertible {
        public let step: Int
        public let metric: String
        public let value: Double
        public let checkpoint: String
        public var description: String {
            let kept =
                FileManager.default.fileExists(atPath: checkpoint)
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

    /// Where the loop stands: what a checkpoint's `TrainingState` records.
    struct LoopState {
        var epoch = 0, step = 0
        /// Batches of the current epoch already done.
        var skip = 0
        /// The data stream at the start of the current epoch (its batch plan is drawn from it) and now.
        var epochStart: PRNG, data: PRNG, noise: PRNG
        /// Sums of the step figures over the current epoch so far (per-epoch cadence), and their count.
        var sums: [String: Double] = [:]
        var summed = 0
        /// False for checkpoints from before the shared loop, which kept no current data stream.
        var dataSaved = true

        init(_ streams: (data: PRNG, noise: PRNG)) {
            epochStart = streams.data; data = streams.data; noise = streams.noise
        }

        func training(examples: Int) -> TrainingState {
            var extra = ["batch": String(skip), "examples": String(examples), "summed": String(summed)]
            for (k, v) in sums { extra["sum." + k] = "\(v)" }  // Double's description round-trips exactly
            return TrainingState(
                epoch: epoch, step: step, rngStates: ["epochData": epochStart, "data": data, "noise": noise],
                extra: extra)
        }

        init(_ t: TrainingState, file: String) throws {
            guard let start = t.rng("epochData"), let noise = t.rng("noise") else {
                throw FormatError(file, "holds no training state to resume from")
            }
            epoch = t.epoch; step = t.step; skip = Int(t.extra["batch"] ?? "0") ?? 0
            epochStart = start; self.noise = noise
            data = t.rng("data") ?? start
            dataSaved = t.rng("data") != nil
            summed = Int(t.extra["summed"] ?? "0") ?? 0
            for (k, v) in t.extra where k.hasPrefix("sum.") { sums[String(k.dropFirst(4))] = Double(v) }
        }
    }

    /// Runs (or resumes) training. Returns when all epochs are done or Ctrl-C was pressed.
    ///
    /// The run folder is locked for the run. A folder that already holds a run is continued with
    /// `resume` or started afresh with `overwrite` (its old checkpoint, metrics and plots removed);
    /// otherwise training refuses to touch it.
    @discardableResult
    public func train(resume: Bool = false, overwrite: Bool = false) throws -> Summary {
        if let metric = options.keepBest, !task.metricNames.contains(metric) {
            throw FormatError(
                "--keep-best \(metric)",
                "is not a figure this run logs; it logs \(task.metricNames.joined(separator: ", "))")
        }
        guard options.batchSize % cluster.size == 0 else {
            throw FormatError(
                run.path,
                "--batch-size \(options.batchSize) (the global batch) does not split evenly over \(cluster.size) ranks")
        }
        var lock: RunLock?
        defer { lock?.unlock() }
        _ = try cluster.onRoot {
            lock = try run.lock()
            run.removeOrphanTemporaries()
            try run.prepare(resume: resume, overwrite: overwrite)
            return Data()
        }
        var state = try startingState(resume: resume)
        let firstStep = state.step
        var logs: TrainingLogs?
        _ = try cluster.onRoot {
            for file in setupFiles { try AtomicFile.write(file.contents, to: run.file(file.name)) }
            logs = try TrainingLogs(run: run, task: task, resumingAt: resume ? state : nil)
            return Data()
        }
        Interrupt.install(terminate: cluster.isDistributed)
        let started = Date()
        var last: [String: Double] = [:]
        while state.epoch < options.epochs {
            switch try runEpoch(&state, last: &last, logs: logs) {
            case .stopped(let interrupted):
                try save(state)
                try writeReport(
                    last, state: state,
                    note: interrupted ? "interrupted (resume with --resume)" : "stopped at --max-steps")
                return summary(state, firstStep: firstStep, interrupted: interrupted, last: last, started: started)
            case .finished(let bar):
                try endEpoch(&state, last: &last, logs: logs, bar: bar)
            }
        }
        try writeReport(last, state: state, note: "finished")
        return summary(state, firstStep: firstStep, interrupted: false, last: last, started: started)
    }

    /// A fresh run's state, or (resuming) the checkpoint's, read by rank 0 and sent with the
    /// model and optimiser to every other rank; a refusal stops them all with its one message.
    private func startingState(resume: Bool) throws -> LoopState {
        var state = LoopState(task.freshStreams(seed: options.seed))
        let bytes = try cluster.onRoot {
            if resume { state = try resumeState(from: run.file(Trainer.checkpointName)) }
            guard cluster.isDistributed else { return Data() }
            return try task.checkpoint(training: state.training(examples: task.exampleCount)).encoded()
        }
        if !cluster.isRoot {
            let from = "rank 0's training state"
            let ckpt = try Checkpoint.decode(bytes, file: from)
            try task.restore(ckpt, file: from)
            guard let t = ckpt.training else { throw FormatError(from, "holds no training loop state") }
            state = try LoopState(t, file: from)
        }
        return state
    }

    enum EpochEnd {
        /// Every batch done; the bar is finished by `endEpoch` with the epoch's figures.
        case finished(ProgressBar)
        /// Stopped by Ctrl-C (true) or `--max-steps` (false), mid-epoch or at its last batch.
        case stopped(interrupted: Bool)
    }

    /// One epoch's batches from `state.skip` on.
    private func runEpoch(
        _ state: inout LoopState, last: inout [String: Double], logs: TrainingLogs?
    ) throws -> EpochEnd {
        var data = state.epochStart
        let batches = plan(&data)
        guard !batches.isEmpty else {
            throw FormatError(
                run.path, "\(task.exampleCount) training examples are fewer than one batch of \(options.batchSize)")
        }
        // Resuming mid-epoch keeps the data stream as it was saved (steps may have drawn from it).
        if state.skip == 0 || !state.dataSaved { state.data = data }
        state.dataSaved = true
        let bar = ProgressBar(
            total: batches.count, label: "epoch \(state.epoch + 1)/\(options.epochs)",
            unit: task.kind == .flow ? "row" : "img")
        bar.quiet = options.quiet || !cluster.isRoot
        bar.epochsAfterThis = max(0, options.epochs - state.epoch - 1)
        var seen = batches.prefix(state.skip).reduce(0) { $0 + $1.count }
        for b in state.skip..<batches.count {
            let stepStart = Date()
            let mine = parallel.begin(batch: batches[b])
            var m = parallel.mean(
                task.step(
                    mine, at: StepPosition(step: state.step, epoch: state.epoch),
                    data: &state.data, noise: &state.noise))
            state.step += 1; state.skip = b + 1
            seen += batches[b].count
            for (k, v) in m { state.sums[k, default: 0] += v }
            state.summed += 1
            m["step"] = Double(state.step); m["epoch"] = Double(state.epoch + 1)
            m["samples_per_s"] = Double(batches[b].count) / max(Date().timeIntervalSince(stepStart), 1e-9)
            if task.schedule.cadence == .everyStep { try logs?.append(m, step: state.step) }
            if let bad = task.metricNames.first(where: { m[$0].map { !$0.isFinite } ?? false }) {
                bar.finish("diverged")
                throw Diverged(
                    step: state.step, metric: bad, value: m[bad]!, checkpoint: run.file(Trainer.checkpointName))
            }
            last = task.schedule.cadence == .everyStep ? m : state.means
            bar.update(b + 1, items: seen, status: figures(last, task.plottedMetrics))
            let stopAsked = parallel.any(Interrupt.requested)
            if stopAsked || (options.maxSteps.map { state.step >= $0 } ?? false) {
                bar.finish(
                    stopAsked ? "interrupted: checkpoint saved at step \(state.step) (resume with --resume)" : "")
                return .stopped(interrupted: stopAsked)
            }
        }
        return .finished(bar)
    }

    /// The batches of one epoch, drawn from `data` (the loop's data stream at the epoch's start).
    private func plan(_ data: inout PRNG) -> [[Int]] {
        let order = data.permutation(task.exampleCount)
        let size = options.batchSize
        return stride(from: 0, to: order.count, by: size).compactMap { start in
            let end = min(start + size, order.count)
            return end - start == size || task.schedule.keepsLastPartialBatch ? Array(order[start..<end]) : nil
        }
    }

    /// The end of an epoch: evaluation, the epoch's row (per-epoch cadence), checkpoint, pictures.
    private func endEpoch(
        _ state: inout LoopState, last: inout [String: Double], logs: TrainingLogs?, bar: ProgressBar
    ) throws {
        state.epoch += 1
        let evaluation = task.evaluate(noise: &state.noise)
        var row = task.schedule.cadence == .everyEpoch ? state.means : [:]
        for (k, v) in evaluation { row[k] = v }
        if !row.isEmpty {
            row["step"] = Double(state.step); row["epoch"] = Double(state.epoch)
            try logs?.append(row, step: task.schedule.cadence == .everyEpoch ? state.epoch : state.step)
            for (k, v) in row { last[k] = v }
        }
        state.skip = 0; state.sums = [:]; state.summed = 0
        state.epochStart = state.data
        try save(state)
        if let metric = options.keepBest, cluster.isRoot {
            try BestCheckpoint.update(
                run: run, metric: metric, value: last[metric], epoch: state.epoch, step: state.step)
        }
        if let logs { try logs.epochFiles(task: task, epoch: state.epoch, step: state.step, options: options) }
        guard !options.quiet else { return bar.finish("") }
        let extra = evaluation.keys.filter { !task.plottedMetrics.contains($0) }.sorted()
            .map { String(format: "  %@ %.4g", $0, evaluation[$0]!) }.joined()
        bar.finish(
            task.epochSummary(last, epoch: state.epoch, of: options.epochs)
                ?? "epoch \(state.epoch)/\(options.epochs): " + figures(last, task.plottedMetrics) + extra)
    }

    private func figures(_ values: [String: Double], _ names: [String]) -> String {
        names.compactMap { k in values[k].map { String(format: "%@ %.4g", k, $0) } }.joined(separator: "  ")
    }

    private func summary(
        _ s: LoopState, firstStep: Int, interrupted: Bool, last: [String: Double], started: Date
    ) -> Summary {
        Summary(
            epochs: s.epoch, steps: s.step, interrupted: interrupted, lastMetrics: last,
            seconds: Date().timeIntervalSince(started),
            reducedBytes: cluster.reducedBytes, reduceSeconds: cluster.reduceSeconds, stepsThisRun: s.step - firstStep)
    }

    /// Restores the task from the checkpoint at `path` (checked against this run) and returns
    /// where its loop stood.
    private func resumeState(from path: String) throws -> LoopState {
        guard FileManager.default.fileExists(atPath: path) else {
            throw FormatError(path, "no checkpoint to resume from (train without --resume first)")
        }
        let ckpt = try Checkpoint.load(path)
        guard ckpt.modelKind == task.kind else {
            let what =
                ckpt.kind.isEmpty ? "not a GenLab training checkpoint (no genlab.kind)" : "a \(ckpt.kind) checkpoint"
            throw FormatError(path, "is \(what); resuming needs a \(task.kind) checkpoint")
        }
        guard let t = ckpt.training else { throw FormatError(path, "holds no training state to resume from") }
        // What `sample` and `export` refuse, resuming refuses too: the same checks of config, data
        // description and weights, before the task takes anything from the file.
        switch ckpt.modelKind {
        case .gan, .vae, .ae: _ = try LoadedModel.load(path)
        case .tagger: _ = try ckpt.decodeConfig(JetTagger.Config.self, file: path, problems: \.problems)
        case .flow: _ = try ConditionalFlow.load(ckpt, file: path)
        case .symmetry, nil: break
        }
        if let n = t.extra["examples"].flatMap(Int.init), n != task.exampleCount {
            throw FormatError(path, "was trained on \(n) examples, now given \(task.exampleCount)")
        }
        try task.restore(ckpt, file: path)
        return try LoopState(t, file: path)
    }

    private func save(_ state: LoopState) throws {
        guard cluster.isRoot else { return }
        var ckpt = try task.checkpoint(training: state.training(examples: task.exampleCount))
        if cluster.isDistributed { ckpt.metadata["genlab.ranks"] = String(cluster.size) }
        try ckpt.save(to: run.file(Trainer.checkpointName))
    }

    /// report.html: the run at a glance (data, options, the last figures, every plot and grid).
    private func writeReport(_ last: [String: Double], state: LoopState, note: String) throws {
        guard cluster.isRoot else { return }
        var report = RunReport(title: "GenLab \(task.kind) training — \(run.path)")
        report.notes = [
            "\(note) after \(state.step) steps (\(state.epoch) of \(options.epochs) epochs). "
                + "TensorBoard: tensorboard --logdir \(run.path)"
        ]
        report.table("Data", task.reportRows)
        if let json = try? JSONSerialization.jsonObject(with: RunFolder.json(options)) as? [String: Any] {
            report.table("Options", json.keys.sorted().map { ($0, "\(json[$0]!)") })
        }
        report.table("Last figures", RunReport.rows(last.filter { $0.key != "step" && $0.key != "epoch" }))
        try report.write(folder: run.path)
    }
}

extension Trainer.LoopState {
    /// The epoch's mean of every step figure so far.
    var means: [String: Double] { sums.mapValues { $0 / Double(max(summed, 1)) } }
}

/// A GAN or VAE/AE task: trains on images and shows samples.
public protocol ImageTrainingTask: TrainingTask {
    var images: TrainingImages { get }
}
