import ArgumentParser

/// `genlab`: GenLab's command-line program. Each subcommand parses its flags and calls the library.
@main
struct GenLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genlab",
        abstract: "A generative-model laboratory: GANs, VAEs and anomaly scoring on one fast, tested engine.",
        version: "0.1.0",
        subcommands: [Demo.self, Train.self, Sample.self, Interpolate.self, Score.self, Classify.self, QualityCommand.self, DataCommand.self, Inspect.self, Symmetry.self, Bench.self])
}
