import Engine
import Formats
import Foundation

/// Where training stands, saved with a checkpoint so that a run resumes exactly.
public struct TrainingState: Codable, Equatable, Sendable {
    public var epoch: Int
    public var step: Int
    /// PRNG states by stream name (e.g. "data", "noise"), as decimal strings (JSON numbers lose
    /// 64-bit precision in some readers).
    public var rngStates: [String: [String]]
    public var extra: [String: String]

    public init(epoch: Int = 0, step: Int = 0, rngStates: [String: PRNG] = [:], extra: [String: String] = [:]) {
        self.epoch = epoch
        self.step = step
        self.rngStates = rngStates.mapValues { $0.stateWords.map(String.init) }
        self.extra = extra
    }

    public func rng(_ name: String) -> PRNG? {
        guard let words = rngStates[name]?.compactMap(UInt64.init), words.count == 4 else { return nil }
        return PRNG(state: words)
    }
}

/// A model's weights and buffers under their key paths, the model's configuration (so a checkpoint
/// alone rebuilds the model), and optionally the optimiser's and the training loop's state.
///
/// On disk it is one safetensors file: model tensors under their PyTorch key paths (so
/// `safetensors.torch.load_file` + `load_state_dict` work after dropping keys that start with
/// `_optimizer.`), optimiser state under `_optimizer.<key>.<slot>`, and string metadata
/// `genlab.kind`, `genlab.config` (JSON), `genlab.training` (JSON), `genlab.format`.
public struct Checkpoint {
    public static let optimizerPrefix = "_optimizer."
    public var kind: String
    public var config: String
    public var model: [String: Tensor]
    public var optimizer: [String: Tensor]?
    public var training: TrainingState?
    /// Further string metadata (e.g. the preprocessing a model was trained with).
    public var metadata: [String: String]

    public init(
        kind: String, config: String = "{}", model: [String: Tensor], optimizer: [String: Tensor]? = nil,
        training: TrainingState? = nil, metadata: [String: String] = [:]
    ) {
        self.kind = kind; self.config = config; self.model = model; self.optimizer = optimizer
        self.training = training; self.metadata = metadata
    }

    /// A checkpoint of `module`'s state, with an encodable config.
    public init<C: Encodable>(
        kind: String, config: C, module: Module, optimizer: Optimizer? = nil, training: TrainingState? = nil,
        metadata: [String: String] = [:]
    ) throws {
        let json = String(decoding: try JSONEncoder.sorted.encode(config), as: UTF8.self)
        self.init(
            kind: kind, config: json, model: module.stateDict(), optimizer: optimizer?.stateDict(), training: training,
            metadata: metadata)
    }

    /// Writes atomically.
    public func save(to path: String) throws {
        try AtomicFile.write(try encoded(), to: path)
    }

    /// The safetensors bytes `save` writes.
    public func encoded() throws -> Data {
        var tensors = model
        for (k, t) in optimizer ?? [:] { tensors[Checkpoint.optimizerPrefix + k] = t }
        var meta = metadata
        meta["genlab.format"] = "1"
        meta["genlab.kind"] = kind
        meta["genlab.config"] = config
        if let training {
            meta["genlab.training"] = String(decoding: try JSONEncoder.sorted.encode(training), as: UTF8.self)
        }
        // PyTorch keeps BatchNorm's batch counter as int64; keep it so for load_state_dict.
        let ints = Set(model.keys.filter { $0.hasSuffix("num_batches_tracked") })
        return SafeTensors.encode(tensors, metadata: meta, int64: ints)
    }

    /// Reads a checkpoint written by GenLab; a plain safetensors state dict (e.g. from PyTorch) is
    /// accepted too, with kind "" and config "{}".
    public static func load(_ path: String) throws -> Checkpoint {
        try decode(InputFile.contents(path), file: path)
    }

    /// A checkpoint from the bytes of a safetensors file (`file` names it in errors).
    public static func decode(_ data: Data, file path: String) throws -> Checkpoint {
        let file = try SafeTensors.decode(data, file: path)
        var model: [String: Tensor] = [:], optimizer: [String: Tensor] = [:]
        for (k, t) in file.tensors {
            if k.hasPrefix(optimizerPrefix) {
                optimizer[String(k.dropFirst(optimizerPrefix.count))] = t
            } else {
                model[k] = t
            }
        }
        var training: TrainingState?
        if let json = file.metadata["genlab.training"] {
            do { training = try JSONDecoder().decode(TrainingState.self, from: Data(json.utf8)) } catch {
                throw FormatError(path, "metadata genlab.training is not valid: \(error)")
            }
        }
        var meta = file.metadata
        for k in ["genlab.format", "genlab.kind", "genlab.config", "genlab.training"] { meta[k] = nil }
        return Checkpoint(
            kind: file.metadata["genlab.kind"] ?? "", config: file.metadata["genlab.config"] ?? "{}", model: model,
            optimizer: optimizer.isEmpty ? nil : optimizer, training: training, metadata: meta)
    }

    /// Decodes the model configuration.
    public func decodeConfig<C: Decodable>(_ type: C.Type, file: String = "checkpoint") throws -> C {
        do { return try JSONDecoder().decode(type, from: Data(config.utf8)) } catch {
            throw FormatError(file, "model config (genlab.config) does not describe a \(type): \(error)")
        }
    }

    /// Decodes the model configuration and checks it with `problems` (sizes a hand-edited or
    /// hostile checkpoint could set to anything) before any model is built from it.
    public func decodeConfig<C: Decodable>(
        _ type: C.Type, file: String = "checkpoint", problems: (C) -> [String]
    ) throws -> C {
        let config = try decodeConfig(type, file: file)
        let found = problems(config)
        guard found.isEmpty else {
            throw FormatError(file, "model config (genlab.config) is not valid: " + found.joined(separator: "; "))
        }
        return config
    }

    /// Loads the weights into `module`, naming the file in any error.
    /// Non-finite weights (a diverged or damaged model) are refused: they would make every
    /// sample and score NaN.
    public func restore(
        into module: Module, optimizer: Optimizer? = nil, strict: Bool = true, file: String = "checkpoint"
    ) throws {
        for key in model.keys.sorted() where !model[key]!.scalars.allSatisfy(\.isFinite) {
            throw FormatError(
                file, "tensor '\(key)' holds NaN or infinite values: the model diverged or the file is damaged")
        }
        do {
            try module.loadStateDict(model, strict: strict)
            if let optimizer, let state = self.optimizer { try optimizer.loadStateDict(state) }
        } catch {
            throw FormatError(file, "\(error)")
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
