import Engine
import Formats
import Foundation

/// What the training loop writes as it goes (rank 0 only): metrics.csv, TensorBoard scalars and
/// images, and at every epoch's end loss.png and, for models that make images, the sample grids
/// (samples.png; kept grids, a TensorBoard image and progress.gif every `sampleInterval` epochs).
final class TrainingLogs {
    let run: RunFolder
    let metrics: MetricsLog
    let board: TensorBoardLog
    let cadence: TrainingSchedule.Cadence

    /// Opens the run's logs; resuming keeps the rows up to the checkpoint's step (per-step cadence)
    /// or epoch (per-epoch cadence) and drops the rest.
    init(run: RunFolder, task: TrainingTask, resumingAt state: Trainer.LoopState?) throws {
        self.run = run
        let cadence = task.schedule.cadence
        self.cadence = cadence
        let columns =
            cadence == .everyStep
            ? ["step", "epoch"] + task.metricNames + ["samples_per_s"] : ["epoch"] + task.metricNames
        let keep = state.map { cadence == .everyStep ? $0.step : $0.epoch } ?? -1
        metrics = try MetricsLog(run.file("metrics.csv"), columns: columns, keepRowsUpToStep: keep)
        board = try TensorBoardLog(folder: run.path)
    }

    /// One row of figures; TensorBoard gets them at `step` (the epoch, per-epoch cadence).
    func append(_ row: [String: Double], step: Int) throws {
        try metrics.append(row)
        try board.scalars(row.filter { !["step", "epoch"].contains($0.key) }, step: step)
    }

    func epochFiles(task: TrainingTask, epoch: Int, step: Int, options: TrainOptions) throws {
        if let shown = noGrad({ task.samples() }) {
            try writeSamples(
                shown, epoch: epoch, step: step, keep: epoch % options.sampleInterval == 0 || epoch == options.epochs)
        }
        try plotLosses(task)
    }

    private func writeSamples(_ shown: SampleImages, epoch: Int, step: Int, keep: Bool) throws {
        let grid = imageGrid(shown.images, padding: 1, range: shown.range, normalizeEach: shown.normalizeEach)
        try grid.writePNG(run.file("samples.png"))
        guard keep else { return }
        let kept = run.file(String(format: "samples_epoch_%03d.png", epoch))
        try grid.writePNG(kept)
        if let png = FileManager.default.contents(atPath: kept) {
            try board.image(
                "samples", png: png, width: grid.width, height: grid.height, channels: grid.channels, step: step)
        }
        try writeProgressGIF()
    }

    /// progress.gif: the kept sample grids in epoch order (at most 100 frames).
    private func writeProgressGIF() throws {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: run.path)) ?? [])
            .filter { $0.hasPrefix("samples_epoch_") && $0.hasSuffix(".png") }.sorted()
        let frames = names.suffix(100).compactMap { try? Image.read(run.file($0)) }
        guard frames.count >= 2, frames.allSatisfy({ $0.width == frames[0].width && $0.height == frames[0].height })
        else { return }
        try GIF.write(frames, to: run.file("progress.gif"), delayCentiseconds: 40)
    }

    /// loss.png: every plotted figure against the step (or epoch), with a band.
    private func plotLosses(_ task: TrainingTask) throws {
        let columns = metrics.read()
        let xName = cadence == .everyStep ? "step" : "epoch"
        var plot = Plot(
            title: "\(task.kind.rawValue.uppercased()) training (line: smoothed; band: spread of the steps)",
            xLabel: xName, yLabel: "loss")
        for name in task.plottedMetrics {
            guard let ys = columns[name], let xs = columns[xName] else { continue }
            // Rows without this metric (evaluation rows) have no value: align by filtering.
            let rows = zip(xs, ys).filter { $0.1.isFinite }
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
