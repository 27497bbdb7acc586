import ArgumentParser
import Formats
import Foundation
import Lab
import Models

/// `--max-input-mib`, on every command that reads files: the most memory one decoded input may
/// take. Parsed once here into `InputLimits.current`, which every reader checks.
struct InputLimitOptions: ParsableArguments {
    @Option(
        name: .customLong("max-input-mib"),
        help:
            ArgumentHelp(
                "Largest decoded input (an image, an array, a decompressed stream) in MiB; files that declare more are "
                    + "refused.")
    )
    var maxInputMiB = InputLimits.defaultMiB

    mutating func validate() throws {
        guard (1...(1 << 20)).contains(maxInputMiB) else {
            throw ValidationError("--max-input-mib must be in 1...1048576")
        }
        InputLimits.current = InputLimits(maxBytes: maxInputMiB << 20)
    }
}

/// Range checks shared by the commands' `validate()`: each names the flag and what it accepts.
enum Check {
    static func positive<T: BinaryInteger>(_ value: T, _ flag: String, max: T) throws {
        guard value >= 1, value <= max else { throw ValidationError("\(flag) must be in 1...\(max), not \(value)") }
    }

    static func range<T: BinaryInteger>(_ value: T, _ flag: String, _ range: ClosedRange<T>) throws {
        guard range.contains(value) else { throw ValidationError("\(flag) must be in \(range), not \(value)") }
    }

    static func finite<T: BinaryFloatingPoint>(
        _ value: T, _ flag: String, in range: ClosedRange<T>, openLower: Bool = false
    ) throws {
        guard value.isFinite, range.contains(value), !(openLower && value == range.lowerBound) else {
            throw ValidationError(
                "\(flag) must be a finite number in \(openLower ? "(" : "[")\(range.lowerBound), "
                    + "\(range.upperBound)], not \(value)"
            )
        }
    }
}

/// Named choices read from flags: the text becomes the type here, once, or a message naming the
/// flag and the names it accepts.
enum Choice {
    static func parse<C: NamedChoice & Equatable>(
        _ flag: String, among allowed: [C] = Array(C.allCases)
    ) -> (String) throws -> C {
        { text in
            guard let choice = C(rawValue: text), allowed.contains(choice) else {
                throw ValidationError("\(flag) must be \(C.words(allowed)), not '\(text)'")
            }
            return choice
        }
    }
}

/// Runtime refusals (FormatError: one line naming the path, exit 1, no usage text) of output paths
/// that would replace an input (the same file, through any link), two named
/// outputs that are one file, and an output folder inside an input folder (a run's files among the images
/// it trains on).
enum OutputGuard {
    /// With `distinct`, the outputs are separate files the user named (export's --onnx, its
    /// reference file and --pytorch) and may not be one file.
    static func refuse(outputs: [String], inputs: [String], distinct: Bool = false) throws {
        let inputPaths = inputs.map { ($0, resolved($0)) }
        var seen: [String: String] = [:]
        for out in outputs {
            let target = resolved(out)
            if let (input, _) = inputPaths.first(where: { $0.1 == target }) {
                throw FormatError(
                    out, "is the input \(input): GenLab never writes over its inputs; choose another --out")
            }
            if distinct, let other = seen[target] {
                throw FormatError(out, "is the output \(other) too (one file): give each output its own path")
            }
            seen[target] = out
        }
    }

    /// Refuses a run folder that is, or lies inside, an input folder.
    static func refuse(folder out: String, inputs: [String]) throws {
        let target = resolved(out)
        for input in inputs {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder), isFolder.boolValue else {
                continue
            }
            let folder = resolved(input)
            if target == folder || target.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/") {
                throw FormatError(
                    out,
                    "is inside the input folder \(input): the run's files would mix with the data; choose an --out "
                        + "outside it")
            }
        }
    }

    /// The absolute path with every link resolved, for the part that exists (a path still to be
    /// written resolves through its nearest existing folder).
    static func resolved(_ path: String) -> String {
        var rest: [String] = []
        var url = URL(fileURLWithPath: path).standardizedFileURL
        while true {
            if let real = realpath(url.path, nil) {
                defer { free(real) }
                let base = String(cString: real)
                return ([base == "/" ? "" : base] + rest.reversed()).joined(separator: "/")
            }
            let last = url.lastPathComponent
            if last.isEmpty || url.path == "/" { return URL(fileURLWithPath: path).standardizedFileURL.path }
            rest.append(last)
            url.deleteLastPathComponent()
        }
    }
}

/// `--raw-weights`: a GAN trained with --ema generates with its weight average unless told otherwise.
struct GeneratorWeightsOptions: ParsableArguments {
    @Flag(
        name: .customLong("raw-weights"),
        help: "A GAN trained with --ema: use the generator's own weights, not their moving average.")
    var rawWeights = false
}
