import Datasets
import Engine
import Formats
import Foundation
import Models
import NN

/// A cut on one column: rows with low ≤ value < high (`NAME:LOW:HIGH` on the command line).
public struct RangeCut: Codable, Sendable, Equatable, CustomStringConvertible {
    public var column: String
    public var low: Double
    public var high: Double

    public init(column: String, low: Double, high: Double) { self.column = column; self.low = low; self.high = high }

    /// Parses `NAME:LOW:HIGH`; `flag` names the flag in the error.
    public init(parsing text: String, flag: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[0].isEmpty, let lo = Double(parts[1]), let hi = Double(parts[2]),
            lo.isFinite, hi.isFinite, lo < hi
        else {
            throw FormatError(flag, "'\(text)' is not NAME:LOW:HIGH with LOW < HIGH (e.g. mjj:3.3:3.7)")
        }
        self.init(column: parts[0], low: lo, high: hi)
    }

    public func contains(_ v: Float) -> Bool { Double(v) >= low && Double(v) < high }
    public var description: String { "\(column) in [\(low), \(high))" }
}

/// What `genlab train flow` is told beyond the loop's options.
public struct FlowOptions: Codable, Sendable, Equatable {
    /// The columns the flow models, and the ones it is conditioned on (empty: unconditional).
    public var features = ["mJ1", "deltaMJ", "tau21J1", "tau21J2"]
    public var context = ["mjj"]
    public var transform = ConditionalFlow.Transform.affine
    public var blocks = 6
    public var hidden = [64, 64]
    public var bins = 8
    public var scaling = ConditionalFlow.Scaling.logit
    /// The logit's margin, a fraction of each feature's range (`ConditionalFlow.Config.logitMargin`).
    public var logitMargin = ConditionalFlow.Config.defaultLogitMargin
    /// Rows kept: inside every `keep` cut, outside every `exclude` cut (a signal region).
    public var keep: [RangeCut] = []
    public var exclude: [RangeCut] = []
    /// Train on rows labelled 0 alone (a labelled file's background).
    public var backgroundOnly = false
    public init() {}

    public var config: ConditionalFlow.Config {
        var c = ConditionalFlow.Config(features: features.count, contextFeatures: context.count)
        c.transform = transform; c.blocks = blocks; c.hiddenFeatures = hidden.first ?? 64
        c.hiddenLayers = hidden.count; c.bins = bins; c.scaling = scaling; c.logitMargin = logitMargin
        c.featureNames = features; c.contextNames = context
        return c
    }

    /// What cannot be built, in words.
    public var problems: [String] {
        var p = Self.problems(of: config)
        if hidden.isEmpty || Set(hidden).count != 1 {
            p.append("a flow's --hidden is one width repeated per layer (e.g. 64,64), not \(hidden)")
        }
        let overlap = Set(features).intersection(context)
        if !overlap.isEmpty {
            p.append("\(overlap.sorted().joined(separator: ", ")) is both a feature and the context")
        }
        return p
    }

    /// What cannot be built in a flow configuration (flags or a checkpoint's), in words.
    public static func problems(of c: ConditionalFlow.Config) -> [String] {
        var p: [String] = []
        if !(1...256).contains(c.features) { p.append("a flow models 1…256 features, not \(c.features)") }
        if !(0...64).contains(c.contextFeatures) {
            p.append("a flow takes 0…64 context values, not \(c.contextFeatures)")
        }
        if !(1...64).contains(c.blocks) { p.append("--blocks must be 1…64, not \(c.blocks)") }
        if !(1...4096).contains(c.hiddenFeatures) || !(1...16).contains(c.hiddenLayers) {
            p.append("hidden layers must be 1…16 of width 1…4096")
        }
        if !(2...64).contains(c.bins) { p.append("--bins must be 2…64, not \(c.bins)") }
        if !(c.tailBound.isFinite && c.tailBound > 0 && c.tailBound <= 100) {
            p.append("the spline's tail bound must be in (0, 100]")
        }
        if let m = c.logitMargin, !(m >= 0 && m <= 1) { p.append("the logit's margin must be in [0, 1], not \(m)") }
        if !c.featureNames.isEmpty && c.featureNames.count != c.features {
            p.append("feature names do not match the feature count")
        }
        if !c.contextNames.isEmpty && c.contextNames.count != c.contextFeatures {
            p.append("context names do not match the context count")
        }
        return p
    }

    /// The rows of `table` these options train on.
    public func selectedRows(_ table: FeatureTable) throws -> [Int] {
        let keepColumns = try keep.map { try table.column($0.column) }
        let excludeColumns = try exclude.map { try table.column($0.column) }
        let labels = backgroundOnly ? try table.column("label") : nil
        return (0..<table.rows).filter { r in
            for (cut, v) in zip(keep, keepColumns) where !cut.contains(v[r]) { return false }
            for (cut, v) in zip(exclude, excludeColumns) where cut.contains(v[r]) { return false }
            if let labels, labels[r] != 0 { return false }
            return true
        }
    }

    /// The rows of `table` as flow data.
    public func data(_ table: FeatureTable, rows: [Int], source: String) throws -> FlowData {
        FlowData(
            features: try table.matrix(features, rows: rows),
            context: context.isEmpty ? nil : try table.matrix(context, rows: rows), featureNames: features,
            contextNames: context, source: source)
    }
}

extension TrainingSetup {
    /// A flow trainer on the rows of the feature table(s) at `data` that `flow` selects, with a
    /// seeded held-out split for the validation likelihood.
    public static func makeFlow(
        data path: String, out: String, options: TrainOptions, flow: FlowOptions
    ) throws
        -> Trainer
    {
        guard flow.problems.isEmpty else { throw FormatError(out, flow.problems.joined(separator: "; ")) }
        let table = try FeatureTable.reading([path])
        let rows = try flow.selectedRows(table)
        guard rows.count >= 10 else {
            throw FormatError(
                path, "only \(rows.count) rows pass the cuts (\(flow.keep + flow.exclude)); a flow needs more")
        }
        var rng = PRNG(seed: options.seed).fork(5)
        let split = HoldOut(
            count: rows.count, held: HoldOut.size(of: rows.count, fraction: options.validationFraction), rng: &rng)
        let training = try flow.data(table, rows: split.training.map { rows[$0] }, source: path)
        let validation =
            split.validation.isEmpty ? nil : try flow.data(table, rows: split.validation.map { rows[$0] }, source: path)
        let task = FlowTask(
            flow.config, data: training, validation: validation, lr: options.learningRate ?? 1e-3, seed: options.seed,
            policy: options.plannedPolicy(examples: training.count))
        let run = try RunFolder(out)
        var description: [String: String] = [
            "source": path, "rows": "\(table.rows)", "selected": "\(rows.count)",
            "dropped_nonfinite": "\(table.dropped)",
        ]
        description["cuts"] = (flow.keep.map { "keep \($0)" } + flow.exclude.map { "exclude \($0)" }).joined(
            separator: "; ")
        let files = [
            ("config.json", try RunFolder.json(flow.config)), ("data.json", try RunFolder.json(description)),
            ("options.json", try RunFolder.json(RunRecipe(options: options, kind: .flow, data: [path], flow: flow))),
        ]
        return Trainer(task: task, run: run, options: options, setupFiles: files)
    }
}
