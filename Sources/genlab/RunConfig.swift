import ArgumentParser
import Formats
import Foundation
import TOMLKit

/// `genlab train --config FILE`: replays a run. FILE is the options.json an earlier run wrote (or
/// a JSON object with the same keys, or with the flags' own names: "batch-size", "lr", …), or the
/// same as TOML (`run.toml`: top-level keys, `[model]` and `[optimizer]` tables). Its
/// values become flags placed before the ones typed on the command line, so a typed flag wins
/// and every value goes through the same parsing and range checks as a typed one.
enum RunConfig {
    /// options.json key → train flag. Keys read but not replayed map to nil.
    static let topLevel: [String: String?] = [
        "epochs": "--epochs", "batchSize": "--batch-size", "learningRate": "--lr", "latentDim": "--latent-dim",
        "imageSize": "--image-size", "seed": "--seed", "maxSteps": "--max-steps", "sampleEvery": "--sample-every",
        "syncBatchNorm": "--sync-batchnorm", "data": "--data", "keepBest": "--keep-best",
        // How a run was displayed or split, not what it trained.
        "quiet": nil, "ranks": nil, "validationFraction": nil, "kind": nil, "model": nil, "optimizer": nil,
        "flow": nil,
    ]
    static let model: [String: String] = [
        "architecture": "--arch", "beta": "--beta", "warmupSteps": "--warmup", "likelihood": "--likelihood",
        "hidden": "--hidden", "features": "--features", "channels": "--channels", "loss": "--loss", "lrD": "--lr-d",
        "nCritic": "--n-critic", "ema": "--ema", "augment": "--augment", "gp": "--gp", "gpOneSided": "--gp-one-sided",
        "r1": "--r1", "spectralNorm": "--spectral-norm", "conditional": "--conditional",
    ]
    static let optimizer: [String: String?] = [
        "schedule": "--lr-schedule", "warmupSteps": "--warmup-steps", "weightDecay": "--weight-decay",
        "gradClip": "--grad-clip", "plannedSteps": nil,
    ]
    /// A flow run's `flow` section (`FlowOptions`); its context and cuts are read by `flowSelectionFlags`.
    static let flow: [String: String?] = [
        "features": "--features", "transform": "--transform", "blocks": "--blocks", "hidden": "--hidden",
        "bins": "--bins", "scaling": "--scaling", "logitMargin": "--logit-margin",
        "backgroundOnly": "--background-only", "context": nil, "keep": nil, "exclude": nil,
    ]
    /// Flags a hand-written config may name directly.
    static let flagNames: Set<String> = [
        "data", "epochs", "batch-size", "lr", "latent-dim", "image-size", "channels", "seed", "arch", "hidden", "beta",
        "warmup", "likelihood", "features", "max-steps", "sample-every", "sync-batchnorm", "lr-schedule",
        "warmup-steps", "weight-decay", "grad-clip", "keep-best", "loss", "lr-d", "n-critic", "ema", "augment", "gp",
        "gp-one-sided", "r1", "spectral-norm", "conditional", "context", "transform", "blocks", "bins", "scaling",
        "logit-margin", "background-only",
    ]
    /// Flags that take no value: present when the config's value is true.
    static let switches: Set<String> = [
        "--sync-batchnorm", "--gp-one-sided", "--spectral-norm", "--conditional", "--background-only",
    ]
    /// The largest config file read.
    static let maxBytes = 1 << 20

    /// `arguments` (without the program name) with `--config FILE` replaced by FILE's flags; the
    /// arguments unchanged when the command is not `train` or has no --config.
    static func expand(_ arguments: [String]) throws -> [String] {
        guard arguments.first == "train" else { return arguments }
        var rest = Array(arguments.dropFirst())
        var path: String?
        if let i = rest.firstIndex(of: "--config") {
            guard i + 1 < rest.count else { throw ValidationError("--config needs a file (a run's options.json)") }
            path = rest[i + 1]
            rest.removeSubrange(i...(i + 1))
        } else if let i = rest.firstIndex(where: { $0.hasPrefix("--config=") }) {
            path = String(rest[i].dropFirst("--config=".count))
            rest.remove(at: i)
        }
        guard let path else { return arguments }
        var (kind, flags) = try read(path)
        // --data may be repeated, so a typed one would add to the file's instead of winning over them.
        if rest.contains(where: { $0 == "--data" || $0.hasPrefix("--data=") }) { flags = withoutData(flags) }
        // The kind is the one positional argument: the command line's, else the file's.
        let typedKind = rest.first.map { !$0.hasPrefix("-") } ?? false
        return ["train"] + (typedKind || kind == nil ? [] : [kind!]) + flags + rest
    }

    /// `flags` without its `--data VALUE` pairs.
    static func withoutData(_ flags: [String]) -> [String] {
        var out: [String] = [], i = 0
        while i < flags.count {
            if flags[i] == "--data" { i += 2; continue }
            out.append(flags[i]); i += 1
        }
        return out
    }

    /// The kind and the flags a config file stands for.
    static func read(_ path: String) throws -> (kind: String?, flags: [String]) {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else {
            throw FormatError(path, "no such config file (--config takes a run's options.json)")
        }
        guard size <= maxBytes else { throw FormatError(path, "is \(size) bytes; a run config is at most 1 MiB") }
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        if path.lowercased().hasSuffix(".toml") { data = try jsonOfTOML(data, path: path) }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FormatError(path, "is not a JSON object (a run's options.json)")
        }
        var flags: [String] = []
        func add(_ flag: String, _ value: Any, key: String) throws {
            if value is NSNull { return }
            if switches.contains(flag) {
                if (value as? Bool) == true { flags.append(flag) }
                return
            }
            if let list = value as? [Any], flag == "--data" {
                // Several sources: one --data each (a path may hold a comma).
                for source in list { flags += [flag, "\(source)"] }
                return
            }
            if let list = value as? [Any] {
                let parts = list.map { "\($0)" }
                flags += [flag, parts.joined(separator: ",")]
                return
            }
            if value is [String: Any] {
                throw FormatError(path, "key '\(key)' holds an object where \(flag) takes a value")
            }
            flags += [flag, "\(value)"]
        }
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            if let entry = topLevel[key] {
                if let flag = entry { try add(flag, value, key: key) }
            } else if flagNames.contains(key) {
                try add("--" + key, value, key: key)
            } else {
                throw FormatError(path, "key '\(key)' is not a genlab train option")
            }
        }
        for (section, table) in [("model", model.mapValues { Optional($0) }), ("optimizer", optimizer), ("flow", flow)]
        {
            guard let value = object[section], !(value is NSNull) else { continue }
            guard let inner = value as? [String: Any] else { throw FormatError(path, "'\(section)' is not an object") }
            for (key, v) in inner.sorted(by: { $0.key < $1.key }) {
                guard let entry = table[key] else {
                    throw FormatError(path, "key '\(section).\(key)' is not a genlab train option")
                }
                if let flag = entry { try add(flag, v, key: section + "." + key) }
            }
        }
        if let section = object["flow"] as? [String: Any] { flags += try flowSelectionFlags(section, path: path) }
        let kind = object["kind"] as? String
        return (kind, flags)
    }

    /// The flags of a flow run's row selection: its context (empty: `none`) and each `keep`/`exclude`
    /// cut ({column, low, high}) as its own `--keep COLUMN:LOW:HIGH`.
    static func flowSelectionFlags(_ section: [String: Any], path: String) throws -> [String] {
        var flags: [String] = []
        if let value = section["context"], !(value is NSNull) {
            guard let names = value as? [Any] else {
                throw FormatError(path, "'flow.context' is not a list of columns")
            }
            flags += ["--context", names.isEmpty ? "none" : names.map { "\($0)" }.joined(separator: ",")]
        }
        for key in ["keep", "exclude"] {
            guard let value = section[key], !(value is NSNull) else { continue }
            guard let cuts = value as? [Any] else { throw FormatError(path, "'flow.\(key)' is not a list of cuts") }
            for cut in cuts {
                guard let c = cut as? [String: Any], let column = c["column"] as? String,
                    let low = (c["low"] as? NSNumber)?.doubleValue, let high = (c["high"] as? NSNumber)?.doubleValue
                else {
                    throw FormatError(path, "'flow.\(key)' holds a cut that is not {column, low, high}")
                }
                flags += ["--" + key, "\(column):\(low):\(high)"]
            }
        }
        return flags
    }

    /// A TOML config as the JSON object it stands for (the same keys; `[model]` and `[optimizer]`
    /// tables for the sections), parsed by toml++ (TOMLKit).
    static func jsonOfTOML(_ data: Data, path: String) throws -> Data {
        guard let text = String(data: data, encoding: .utf8) else {
            throw FormatError(path, "is not UTF-8 text (TOML)")
        }
        do {
            return Data(try TOMLTable(string: text).convert(to: .json).utf8)
        } catch let error as TOMLParseError {
            throw FormatError(
                path,
                "is not valid TOML: \(error.description) (line \(error.source.begin.line), column "
                    + "\(error.source.begin.column))")
        }
    }
}
