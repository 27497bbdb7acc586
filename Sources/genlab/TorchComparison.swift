import ArgumentParser
import Benchmarks
import Foundation

/// Runs one of the repo's PyTorch reference scripts and reads its JSON list of {name, value}.
enum TorchComparison {
    /// A PyTorch script's figure for one workload.
    struct Figure {
        var value: Double
        var memoryMB: Double?
        var compiled: Double?
    }

    static func run(script: String, python: String?, arguments: [String]) throws -> [String: Double] {
        try measure(script: script, interpreter: interpreter(script: script, python: python), arguments: arguments)
            .mapValues(\.value)
    }

    /// The interpreter to run `script` with (checking the script is there).
    static func interpreter(script: String, python: String?) throws -> String {
        guard FileManager.default.fileExists(atPath: script) else {
            throw ValidationError("--compare needs \(script): run genlab from the GenLab repository's root")
        }
        return try python ?? defaultPython()
    }

    static func measure(script: String, interpreter: String, arguments: [String]) throws -> [String: Figure] {
        guard let list = try runJSON(script: script, interpreter: interpreter, arguments: arguments) as? [[String: Any]]
        else {
            throw ValidationError("\(interpreter) \(script) did not print a list of figures")
        }
        var figures: [String: Figure] = [:]
        for item in list {
            if let n = item["name"] as? String, let v = item["value"] as? Double {
                figures[n] = Figure(
                    value: v, memoryMB: item["memory_mb"] as? Double, compiled: item["compiled"] as? Double)
            }
        }
        return figures
    }

    /// The workload names a script has twins of (`--list`).
    static func names(script: String, interpreter: String) throws -> Set<String> {
        guard let list = try runJSON(script: script, interpreter: interpreter, arguments: ["--list"]) as? [String]
        else {
            throw ValidationError("\(interpreter) \(script) --list did not print a list of names")
        }
        return Set(list)
    }

    /// Runs a helper script and parses the JSON it prints.
    private static func runJSON(script: String, interpreter: String, arguments: [String]) throws -> Any {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: interpreter)
        process.arguments = [script] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let json = try? JSONSerialization.jsonObject(with: data) else {
            throw ValidationError(
                "\(interpreter) \(script) failed (exit \(process.terminationStatus)); see its output above")
        }
        return json
    }

    /// The repo's tool environment, created by scripts/python/env.sh on first use.
    private static func defaultPython() throws -> String {
        let venv = ".venv-tools/venv/bin/python"
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        printErr("  creating the PyTorch environment (.venv-tools, once)…")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["scripts/python/env.sh"]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0, FileManager.default.isExecutableFile(atPath: venv) else {
            throw ValidationError("could not create the PyTorch environment with scripts/python/env.sh")
        }
        return venv
    }
}

/// A plain-text table of benchmark results, with the other side's figures and the ratio when present.
enum BenchTable {
    /// `reference` names the other side's column (PyTorch; FastJet for the physics suite).
    static func render(_ results: [BenchResult], reference: String = "PyTorch") -> String {
        let withTorch = results.contains { $0.torch != nil }
        let withCompiled = results.contains { $0.torchCompiled != nil }
        let withMemory = results.contains { $0.memoryMB != nil }
        var header = ["workload", "GenLab", "unit"] + (withTorch ? [reference, "GenLab speed ÷ \(reference)"] : [])
        if withCompiled { header += ["compiled", "÷ compiled"] }
        let withJAX = results.contains { $0.jax != nil }
        if withJAX { header += ["JAX jit", "÷ JAX"] }
        if withMemory { header += ["GenLab MiB"] + (withTorch ? ["\(reference) MiB"] : []) }
        var rows = [header]
        for r in results {
            var row = [r.name, format(r.value), r.unit]
            if withTorch {
                var ratio = r.speedRatio.map { String(format: "%.2f×", $0) } ?? "–"
                if let rs = r.roundRatios, rs.count > 1 {
                    ratio += String(format: " (%.2f–%.2f)", rs.min()!, rs.max()!)
                }
                row += [r.torch.map(format) ?? "–", ratio]
            }
            if withCompiled {
                row += [
                    r.torchCompiled.map(format) ?? "–",
                    r.torchCompiled.map { String(format: "%.2f×", r.value / $0) } ?? "–",
                ]
            }
            if withJAX {
                row += [r.jax.map(format) ?? "–", r.jax.map { String(format: "%.2f×", r.value / $0) } ?? "–"]
            }
            if withMemory {
                row +=
                    [r.memoryMB.map { String(format: "%.0f", $0) } ?? "–"]
                    + (withTorch ? [r.torchMemoryMB.map { String(format: "%.0f", $0) } ?? "–"] : [])
            }
            rows.append(row)
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
        return rows.enumerated().map { i, row in
            let line = row.enumerated().map { c, cell in
                c == 0
                    ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
            return i == 0 ? line + "\n" + String(repeating: "-", count: line.count) : line
        }.joined(separator: "\n")
    }

    static func format(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : String(format: "%.2f", v) }
}
