import ArgumentParser
import Benchmarks
import Engine
import Formats
import Foundation
import Lab
import Models

/// `genlab bench`: the engine's speed, optionally side by side with PyTorch on this machine.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Measure GEMM, convolution, elementwise throughput and per-op overhead (and PyTorch's, with --compare).",
        discussion: "genlab bench models measures training throughput on the reference model workloads instead.")

    @Argument(help: "engine (default), models, or physics (jet clustering and images; no PyTorch counterpart).")
    var suite = "engine"

    @Flag(help: "Print the results as JSON.")
    var json = false

    @Flag(help: "Print nothing but errors (with --json: only the JSON).")
    var quiet = false

    @Option(help: "Also write the results as DIR/bench.json. (default: none)")
    var out: String?

    @Flag(help: "Also measure PyTorch on the same workloads in this run and print the ratios.")
    var compare = false

    @Flag(help: "Shorter timing runs (less stable figures).")
    var quick = false

    @Option(help: "Interleaved rounds of GenLab and PyTorch for the models suite (default: 3 with --compare, else 1).")
    var rounds: Int?

    @Flag(
        help:
            ArgumentHelp(
                "Models suite with --compare: also measure PyTorch with torch.compile (first round; compiling takes "
                    + "minutes).")
    )
    var torchCompile = false

    @Option(help: .hidden) var only: [String] = []

    @Option(help: "Python interpreter with PyTorch for --compare (default: the repo's .venv-tools, created on demand).")
    var python: String?

    func validate() throws {
        if let rounds { try Check.positive(rounds, "--rounds", max: 100) }
    }

    func run() throws {
        try StdoutRedirect.quiet(quiet && !json) { try measure() }
    }

    // Long: maps flags to the suites and prints their tables.
    func measure() throws {
        let verbose = !json && !quiet
        if verbose {
            print("GenLab \(suite) benchmark — \(Threads.count) threads")
            let environment = ProcessInfo.processInfo.environment
            let preset = BLAS.coreTypeSet == nil ? environment["OPENBLAS_CORETYPE"] : nil
            let avx512 = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.contains("avx512f") ?? false
            let forced =
                BLAS.coreTypeSet.map { " (GenLab set OPENBLAS_CORETYPE=\($0))" }
                ?? preset.map {
                    let advice = avx512 ? " on an AVX-512 CPU: unset it in this command to see the machine's best" : ""
                    return " (OPENBLAS_CORETYPE=\($0) preset by the environment\(advice))"
                }
                ?? ""
            print("BLAS: \(BLAS.isAvailable ? BLAS.library : "reference kernel"), kernel \(BLAS.kernel)\(forced)")
            let convolutions =
                ConvolutionBackend.current == .oneDNN
                ? ConvolutionBackend.oneDNNStatus
                : "im2col + GEMM (oneDNN: \(ConvolutionBackend.oneDNNStatus))"
            let caps = ["GENLAB_ISA", "ONEDNN_MAX_CPU_ISA"].compactMap { k in environment[k].map { "\(k)=\($0)" } }
            print(
                "Convolutions: \(convolutions); CPU \(avx512 ? "with" : "without") AVX-512; GenLab's kernels "
                    + DecoyNet.kernelISA + (caps.isEmpty ? "" : " (" + caps.joined(separator: ", ") + ")"))
        }
        guard ["engine", "models", "physics"].contains(suite) else {
            throw ValidationError("suite must be engine, models or physics")
        }
        let progress: (String) -> Void = { stage in if verbose { printErr("  measuring \(stage)…") } }
        if !only.isEmpty {
            // A child of `genlab bench models`: just the named workloads, in this fresh process.
            guard suite == "models", only.allSatisfy(ModelBenchmark.names.contains) else {
                throw ValidationError("--only takes model workloads: \(ModelBenchmark.names.joined(separator: ", "))")
            }
            let results = ModelBenchmark.run(quick: quick, only: only)
            try printReport(results)
            return
        }
        if let rounds, rounds < 1 { throw ValidationError("--rounds must be at least 1") }
        var results: [BenchResult]
        if suite == "models" {
            results = try ModelComparison.run(
                rounds: rounds ?? (compare ? 3 : 1), compare: compare, torchCompile: torchCompile,
                quick: quick, python: python, progress: progress)
        } else {
            results =
                suite == "physics"
                ? try PhysicsBenchmark.run(quick: quick) : EngineBenchmark.run(quick: quick, progress: progress)
        }
        if compare && suite == "engine" {
            let script = "scripts/python/bench_engine_torch.py"
            if verbose { printErr("  measuring PyTorch…") }
            do {
                let torch = try TorchComparison.run(
                    script: script, python: python,
                    arguments: ["\(Threads.count)"] + (quick ? ["--quick"] : []))
                for i in results.indices { results[i].torch = torch[results[i].name] }
            } catch {
                printErr("genlab: PyTorch comparison skipped: \(error)")
            }
        }
        if compare && suite == "physics" {
            // FastJet (the `fastjet` package's C++) on the same events, the same way.
            if verbose { printErr("  measuring FastJet…") }
            do {
                let fastjet = try TorchComparison.run(
                    script: "scripts/python/bench_fastjet.py", python: python,
                    arguments: ["Datasets/jets/lhco_events.h5", quick ? "0.2" : "1"])
                for i in results.indices { results[i].torch = fastjet[results[i].name] }
            } catch {
                printErr("genlab: FastJet comparison skipped: \(error)")
            }
        }
        if !json { print(BenchTable.render(results, reference: suite == "physics" ? "FastJet" : "PyTorch")) }
        if json || out != nil { try printReport(results) }
    }

    func printReport(_ results: [BenchResult]) throws {
        let report = BenchReport(
            threads: Threads.count, blasLibrary: BLAS.library, blasKernel: BLAS.kernel,
            coreTypeSet: BLAS.coreTypeSet, results: results)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let text = try encoder.encode(report)
        if let out {
            let run = try RunFolder(out)
            try AtomicFile.write(text + Data("\n".utf8), to: run.file("bench.json"))
        }
        if json { print(String(decoding: text, as: UTF8.self)) }
    }
}

struct BenchReport: Codable {
    var threads: Int
    var blasLibrary: String
    var blasKernel: String
    var coreTypeSet: String?
    var results: [BenchResult]
}

func printErr(_ s: String) {
    FileHandle.standardError.write((s + "\n").data(using: .utf8)!)
}
