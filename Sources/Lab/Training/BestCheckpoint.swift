import Formats
import Foundation

/// `--keep-best METRIC`: `best.safetensors` is a copy of the checkpoint of the epoch with the best
/// value of METRIC so far, and `best.json` says which epoch, step and value. Lower is better, but
/// for metrics that measure success (AUC, accuracy, D(real)). The best so far is read back from
/// best.json, so a resumed run goes on comparing with it.
public enum BestCheckpoint {
    public static let checkpointName = "best.safetensors"
    public static let recordName = "best.json"

    /// What best.json holds.
    public struct Record: Codable, Equatable, Sendable {
        public var metric: String
        public var value: Double
        public var epoch: Int
        public var step: Int
        public var higherIsBetter: Bool
    }

    /// Whether a larger value of `metric` is the better one.
    public static func higherIsBetter(_ metric: String) -> Bool {
        let m = metric.lowercased()
        return ["auc", "accuracy", "acc", "d_real"].contains { m == $0 || m.hasSuffix("_" + $0) || m.hasPrefix($0) }
    }

    /// After the epoch's checkpoint is saved: copies it to best.safetensors when `value` beats the
    /// record (or there is none). Returns whether it did. A NaN value never counts as best.
    @discardableResult
    public static func update(run: RunFolder, metric: String, value: Double?, epoch: Int, step: Int) throws -> Bool {
        guard let value, value.isFinite else { return false }
        let higher = higherIsBetter(metric)
        if let data = try? Data(contentsOf: URL(fileURLWithPath: run.file(recordName))),
            let old = try? JSONDecoder().decode(Record.self, from: data), old.metric == metric,
            higher ? value <= old.value : value >= old.value
        {
            return false
        }
        let checkpoint = try Data(contentsOf: URL(fileURLWithPath: run.file("checkpoint.safetensors")))
        try AtomicFile.write(checkpoint, to: run.file(checkpointName))
        let record = Record(metric: metric, value: value, epoch: epoch, step: step, higherIsBetter: higher)
        try run.writeJSON(record, to: recordName)
        return true
    }
}
