import ArgumentParser
import Benchmarks
import Engine
import Foundation

/// `genlab bench models`: every workload runs in a fresh child process of its own (`genlab bench
/// models --only NAME --json`), so its memory figure is clean; with `--compare`, each GenLab run
/// is followed at once by PyTorch's run of the same workload, round after round, so both sides
/// meet the same load on a shared machine. Each side reports its best round (interference only
/// ever slows a run down); the per-round ratios show how much the machine moved.
enum ModelComparison {
    // Long: runs the PyTorch side and prints the comparison table.
    static func run(
        rounds: Int, compare: Bool, torchCompile: Bool, quick: Bool, python: String?,
        progress: (String) -> Void
    ) throws -> [BenchResult] {
        let script = "scripts/python/bench_models_torch.py", jaxScript = "scripts/python/bench_models_jax.py"
        var interpreter: String?
        if compare {
            do { interpreter = try TorchComparison.interpreter(script: script, python: python) } catch {
                printErr("genlab: PyTorch comparison skipped: \(error)")
            }
        }
        // The workloads JAX has twins of, asked once (the script answers without loading JAX), so
        // the others do not pay JAX's start-up in every round.
        var jaxTwins: Set<String> = []
        if let interpreter {
            do { jaxTwins = try TorchComparison.names(script: jaxScript, interpreter: interpreter) } catch {
                printErr("genlab: JAX comparison skipped: \(error)")
            }
        }
        var best: [String: BenchResult] = [:]
        var ratios: [String: [Double]] = [:]
        for round in 1...rounds {
            for name in ModelBenchmark.names {
                progress("\(name) (round \(round)/\(rounds))")
                var r = try genlabChild(name, quick: quick)
                if let interpreter {
                    let only = ["\(Threads.count)", "--only", name] + (quick ? ["--quick"] : [])
                    let args = only + (torchCompile && round == 1 ? ["--compile"] : [])
                    if let t = try TorchComparison.measure(script: script, interpreter: interpreter, arguments: args)[
                        name]
                    {
                        r.torch = t.value
                        r.torchMemoryMB = t.memoryMB
                        r.torchCompiled = t.compiled
                        if let ratio = r.speedRatio { ratios[name, default: []].append(ratio) }
                    }
                    if jaxTwins.contains(name) {
                        do {
                            r.jax = try TorchComparison.measure(
                                script: jaxScript, interpreter: interpreter, arguments: only)[name]?.value
                        } catch {
                            if round == 1 { printErr("genlab: JAX comparison of \(name) skipped: \(error)") }
                        }
                    }
                }
                best[name] = merge(best[name], r)
            }
        }
        return ModelBenchmark.names.compactMap { name in
            guard var r = best[name] else { return nil }
            r.roundRatios = ratios[name]
            return r
        }
    }

    /// The better of two rounds' figures, side by side (fastest rate; largest memory, the cautious one).
    static func merge(_ a: BenchResult?, _ b: BenchResult) -> BenchResult {
        guard var a else { return b }
        a.value = max(a.value, b.value)
        a.torch = [a.torch, b.torch].compactMap { $0 }.max()
        a.torchCompiled = a.torchCompiled ?? b.torchCompiled
        a.jax = [a.jax, b.jax].compactMap { $0 }.max()
        a.memoryMB = [a.memoryMB, b.memoryMB].compactMap { $0 }.max()
        a.torchMemoryMB = [a.torchMemoryMB, b.torchMemoryMB].compactMap { $0 }.max()
        return a
    }

    /// One workload in a child `genlab` process.
    static func genlabChild(_ name: String, quick: Bool) throws -> BenchResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["bench", "models", "--only", name, "--json"] + (quick ? ["--quick"] : [])
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let report = try? JSONDecoder().decode(BenchReport.self, from: data),
            let r = report.results.first
        else {
            throw ValidationError("the benchmark child for \(name) failed (exit \(process.terminationStatus))")
        }
        return r
    }
}
