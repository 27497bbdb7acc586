import ArgumentParser
import Foundation
import Lab

/// `genlab demo`: README's first command.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Train a small VAE and GAN on the bundled faces, walk their latent spaces, score jets for anomalies and "
            + "images for symmetry."
    )
    @Option(help: "Where the runs go.") var out = "Outputs/demo"
    @Option(help: "The bundled data folder.") var datasets = "Datasets"
    @OptionGroup var output: OutputOptions

    func run() throws {
        try output.run { try demo() }
    }

    func demo() throws -> Outcome {
        let start = Date()
        let steps = try Lab.Demo.run(root: out, datasets: datasets) { print($0) }
        print("")
        for s in steps {
            print("■ \(s.title)")
            for f in s.figures { print("    \(f)") }
            for o in s.outputs { print("    → \(o)") }
        }
        print(
            String(format: "\ndemo finished in %.0f s; everything is under %@/", Date().timeIntervalSince(start), out))
        return Outcome(
            command: "demo", out: out, files: steps.flatMap(\.outputs),
            figures: ["seconds": Date().timeIntervalSince(start)])
    }
}
