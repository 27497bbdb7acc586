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

/// Refuses output paths that would replace an input (the same file, through any link).
enum OutputGuard {
    static func refuse(outputs: [String], inputs: [String]) throws {
        func identity(_ path: String) -> (UInt64, UInt64)? {
            var st = stat()
            return stat(path, &st) == 0 ? (UInt64(st.st_dev), UInt64(st.st_ino)) : nil
        }
        let inputIDs = inputs.compactMap { p in identity(p).map { (p, $0) } }
        for out in outputs {
            guard let id = identity(out) else { continue }
            if let (input, _) = inputIDs.first(where: { $0.1 == id }) {
                throw ValidationError(
                    "the output \(out) is the input \(input): GenLab never writes over its inputs; choose another --out"
                )
            }
        }
    }
}
