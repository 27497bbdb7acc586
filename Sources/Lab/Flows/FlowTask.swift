import Datasets
import Engine
import Formats
import Foundation
import Models
import NN

/// The rows a flow learns: features [N, D] and, for a conditional flow, contexts [N, C].
public struct FlowData {
    public var features: Tensor
    public var context: Tensor?
    public var featureNames: [String]
    public var contextNames: [String]
    /// Where the rows came from, for the report.
    public var source: String

    public init(features: Tensor, context: Tensor?, featureNames: [String], contextNames: [String], source: String) {
        self.features = features; self.context = context
        self.featureNames = featureNames; self.contextNames = contextNames; self.source = source
    }

    public var count: Int { features.shape[0] }

    /// The rows at `indices`.
    public func rows(_ indices: [Int]) -> FlowData {
        var d = self
        d.features = features.indexSelect(axis: 0, indices: indices).detach()
        d.context = context?.indexSelect(axis: 0, indices: indices).detach()
        return d
    }
}

/// Flow training: Adam on the mean negative log-likelihood of a batch; each epoch ends with the
/// held-out negative log-likelihood per event (nats, in the units of the features as given).
public final class FlowTask: TrainingTask {
    public var kind: ModelKind { .flow }
    public let flow: ConditionalFlow
    public let data: FlowData
    let validation: FlowData?
    let optimizer: Adam
    let baseRate: Float
    let policy: OptimizerPolicy
    var parallel: DataParallel?

    /// A flow for `data` (its input scaling fitted to it) with a seeded initialisation.
    public init(
        _ config: ConditionalFlow.Config, data: FlowData, validation: FlowData?, lr: Float = 1e-3, seed: UInt64,
        policy: OptimizerPolicy = OptimizerPolicy()
    ) {
        var rng = PRNG(seed: seed).fork(3)
        flow = ConditionalFlow(config, rng: &rng)
        flow.fitScaling(features: data.features, context: data.context)
        self.data = data
        self.validation = validation
        optimizer = policy.optimizer(flow.namedParameters(), lr: lr)
        baseRate = lr
        self.policy = policy
    }

    public var exampleCount: Int { data.count }
    public var metricNames: [String] { ["loss", "val_nll"] }
    public var plottedMetrics: [String] { ["loss", "val_nll"] }

    public func step(
        _ examples: [Int], at position: StepPosition, data _: inout PRNG, noise _: inout PRNG
    ) -> [String: Double] {
        guard !examples.isEmpty else {
            // This rank has no rows in a short last batch: it still joins the gradient average.
            optimizer.zeroGrad()
            for p in optimizer.parameters.map(\.1) { p.grad = Tensor.zeros(p.shape) }
            parallel?.averageGradients(optimizer.parameters)
            policy.prepare(optimizer, base: baseRate, step: position.step)
            optimizer.step()
            return [:]
        }
        let batch = data.rows(examples)
        let loss = flow.logProbability(batch.features, context: batch.context).mean() * -1
        optimizer.zeroGrad()
        loss.backward()
        parallel?.averageGradients(optimizer.parameters)
        policy.prepare(optimizer, base: baseRate, step: position.step)
        optimizer.step()
        return ["loss": Double(loss.item())]
    }

    /// Mean negative log-likelihood per row of `rows`, in batches.
    public func negativeLogLikelihood(_ rows: FlowData) -> Double {
        noGrad {
            var total = 0.0
            for start in stride(from: 0, to: rows.count, by: 4096) {
                let part = rows.rows(Array(start..<Swift.min(rows.count, start + 4096)))
                total -= Double(flow.logProbability(part.features, context: part.context).sum().item())
            }
            return total / Double(Swift.max(rows.count, 1))
        }
    }

    public func evaluate(noise: inout PRNG) -> [String: Double] {
        guard let validation, validation.count > 0 else { return [:] }
        return ["val_nll": negativeLogLikelihood(validation)]
    }

    public func useDataParallel(_ parallel: DataParallel, synchroniseBatchNorm: Bool) { self.parallel = parallel }

    public var reportRows: [(String, String)] {
        [
            ("source", data.source), ("training rows", "\(data.count)"),
            ("validation rows", "\(validation?.count ?? 0)"),
            ("features", data.featureNames.joined(separator: ", ")),
            ("context", data.contextNames.isEmpty ? "—" : data.contextNames.joined(separator: ", ")),
            ("flow", "\(flow.config.blocks) \(flow.config.transform) MADE blocks, \(flow.parameterCount) parameters"),
        ]
    }

    public func epochSummary(_ figures: [String: Double], epoch: Int, of epochs: Int) -> String? {
        guard let loss = figures["loss"] else { return nil }
        return String(format: "epoch %d/%d: nll %.4f", epoch, epochs, loss)
            + (figures["val_nll"].map { String(format: ", held-out nll %.4f", $0) } ?? "")
    }

    public func checkpoint(training: TrainingState) throws -> Checkpoint {
        try Checkpoint(
            kind: kind.rawValue, config: flow.config, module: flow, optimizer: optimizer, training: training,
            metadata: ["genlab.flow.source": data.source])
    }

    public func restore(_ checkpoint: Checkpoint, file: String) throws {
        let saved = try checkpoint.decodeConfig(ConditionalFlow.Config.self, file: file)
        guard saved == flow.config else {
            throw FormatError(
                file, "holds a flow of another configuration than this run's (\(saved) vs \(flow.config))")
        }
        try checkpoint.restore(into: flow, optimizer: optimizer, file: file)
    }
}

extension ConditionalFlow {
    /// The flow a `train flow` checkpoint holds, its configuration checked before anything is built.
    public static func load(_ ckpt: Checkpoint, file: String) throws -> ConditionalFlow {
        guard ckpt.modelKind == .flow else {
            throw FormatError(file, "is a '\(ckpt.kind)' checkpoint, not a flow (genlab train flow)")
        }
        let config = try ckpt.decodeConfig(ConditionalFlow.Config.self, file: file)
        let problems = FlowOptions.problems(of: config)
        guard problems.isEmpty else {
            throw FormatError(file, "a flow that cannot be built: " + problems.joined(separator: "; "))
        }
        var rng = PRNG(seed: 0)
        let flow = ConditionalFlow(config, rng: &rng)
        try ckpt.restore(into: flow, file: file)
        for (key, buffer) in flow.namedBuffers() where !buffer.value.scalars.allSatisfy(\.isFinite) {
            throw FormatError(file, "\(key) holds NaN or infinite values")
        }
        flow.eval()
        return flow
    }

    /// The flow in the checkpoint at `path`.
    public static func load(_ path: String) throws -> ConditionalFlow {
        guard FileManager.default.fileExists(atPath: path) else { throw FormatError(path, "no such checkpoint") }
        return try load(Checkpoint.load(path), file: path)
    }
}
