import ArgumentParser
import Foundation
import Lab

/// `--json` and `--quiet`, on every command: the one policy for what reaches stdout. With --json
/// stdout carries exactly one JSON object — the command's result — and what a person would read
/// (progress, messages) goes to stderr; with --quiet stdout carries nothing. Errors always go to
/// stderr, as one line.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the result as one JSON object on stdout; progress and messages go to stderr.")
    var json = false
    @Flag(help: "Print nothing but errors (with --json: only the JSON).") var quiet = false

    /// Whether progress bars and messages should be drawn at all (they are off under --quiet).
    var chatty: Bool { !quiet }

    /// Runs `body` with stdout pointed where the flags say, then prints its result as JSON when
    /// asked. stdout is restored however `body` ends.
    func run<Result: Encodable>(_ body: () throws -> Result) throws {
        guard json || quiet else {
            _ = try body()
            return
        }
        let result = try StdoutRedirect.while(quiet ? .discarded : .toStderr) { (try body(), $0) }
        guard json else { return }
        var text = try RunFolder.json(result.0)
        text.append(0x0A)
        FileHandle.standardOutput.write(text)
    }
}

/// stdout pointed elsewhere for a while (`--json`: to stderr; `--quiet`: nowhere), put back however
/// the body ends. Commands that print their own JSON (score, inspect, symmetry, bench) use it for
/// --quiet alone.
enum StdoutRedirect {
    enum Target { case discarded, toStderr }

    static func `while`<T>(_ target: Target, _ body: (Target) throws -> T) throws -> T {
        fflush(stdout)
        let saved = dup(STDOUT_FILENO)
        let replacement = target == .discarded ? open("/dev/null", O_WRONLY | O_CLOEXEC) : dup(STDERR_FILENO)
        if saved >= 0, replacement >= 0 { dup2(replacement, STDOUT_FILENO) }
        if replacement >= 0 { close(replacement) }
        defer {
            fflush(stdout)
            if saved >= 0 {
                dup2(saved, STDOUT_FILENO)
                close(saved)
            }
        }
        return try body(target)
    }

    /// `body` with stdout discarded when `quiet`.
    static func quiet(_ quiet: Bool, _ body: () throws -> Void) throws {
        guard quiet else { return try body() }
        try StdoutRedirect.while(.discarded) { _ in try body() }
    }
}

/// What a command made, for --json: the command, its output folder, the files it wrote and its
/// key figures. Commands with a richer result (score, inspect, symmetry, bench) print that instead.
struct Outcome: Encodable {
    var command: String
    var out: String?
    var files: [String] = []
    var figures: [String: Double] = [:]
}

/// Old spellings keep working; each use says once, on stderr, what replaces it (not under --quiet).
enum Deprecation {
    static func note(_ old: String, use new: String, quiet: Bool) {
        guard !quiet else { return }
        FileHandle.standardError.write(
            Data("genlab: note: \(old) is deprecated and keeps working; use \(new)\n".utf8))
    }
}
