import ArgumentParser
import Foundation
import Lab

/// `genlab inspect`: which latent neuron of a VAE learned which concept.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask which latent dimensions of a trained VAE/AE are active and which observable each carries.",
        discussion: """
            OUT gets latent_dimensions.csv, correlations.csv, report.md, report.json, latent_activity.png, \
            traversal.png (+ traversal.csv, traversal_OBS.png) and map_OBS.png. Observables: jet images \
            mass_over_pt, multiplicity, tau21, tau32 (+ mass, pt from an HDF5 /jets dataset, label when the files \
            hold both classes); other images brightness, contrast, asymmetry, centroid_x, centroid_y. \
            With --beta-sweep B1,B2,… it instead trains one VAE per β on the (first) data file and reports how many \
            dimensions stay active.
            """)

    @Option(help: "A vae or ae checkpoint (default: none; needed unless --beta-sweep).") var checkpoint: String?
    @Option(help: "Data file or folder; repeat for several (e.g. QCD, top and W′ jets).") var data: [String]
    @Option(help: "Comma-separated observables (default: all the data allow).") var observables: String?
    @Option(help: "Output folder.") var out: String
    @Option(help: "At most this many examples per data file.") var limit = 2000
    @Option(help: "Traverse this many of the top active dimensions.") var traverse = 4
    @Option(
        name: [.customLong("points"), .customLong("steps")],
        help: "Points along each traversal (--steps: the older name).")
    var steps = 9
    @Option(help: "Traversals run from −RANGE to +RANGE spreads of μ.") var range = 3.0
    @Option(help: "Equal-frequency bins per axis for mutual information.") var bins = 16
    @Flag(help: "Print the report as JSON.") var json = false
    @Flag(help: "Print nothing but errors (with --json: only the JSON).") var quiet = false
    @Option(
        name: .customLong("beta-sweep"),
        help: "Comma-separated β values: train and compare one VAE per β (default: none).")
    var betaSweep: String?
    @Option(help: "With --beta-sweep: epochs per VAE.") var epochs = 5
    @Option(name: .customLong("latent-dim"), help: "With --beta-sweep: latent dimensions.") var latentDim = 16
    @Option(help: "With --beta-sweep: random seed.") var seed: UInt64 = 0
    @OptionGroup var limits: InputLimitOptions

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("give at least one --data file") }
        guard limit > 0, traverse >= 0, steps >= 2, range > 0, bins >= 2 else {
            throw ValidationError(
                "--limit must be positive, --traverse ≥ 0, --points (--steps) ≥ 2, --range > 0, --bins ≥ 2")
        }
        try Check.positive(limit, "--limit", max: 10_000_000)
        try Check.range(traverse, "--traverse", 0...64)
        try Check.range(steps, "--points (--steps)", 2...101)
        try Check.finite(range, "--range", in: 0...100, openLower: true)
        try Check.range(bins, "--bins", 2...1000)
        try Check.positive(epochs, "--epochs", max: 1_000_000)
        try Check.positive(latentDim, "--latent-dim", max: 4096)
        if betaSweep == nil && checkpoint == nil {
            throw ValidationError("give --checkpoint (or --beta-sweep to train the models)")
        }
    }

    func run() throws {
        try StdoutRedirect.quiet(quiet && !json) { try inspect() }
    }

    func inspect() throws {
        if let betaSweep {
            let betas = try betaSweep.split(separator: ",").map { s -> Float in
                guard let b = Float(s.trimmingCharacters(in: .whitespaces)), b.isFinite, b >= 0 else {
                    throw ValidationError("--beta-sweep: '\(s)' is not a finite β ≥ 0")
                }
                return b
            }
            var o = TrainOptions()
            o.epochs = epochs; o.batchSize = 128; o.seed = seed; o.latentDim = latentDim; o.quiet = json || quiet
            let rows = try BetaSweep.run(
                data: data[0], betas: betas, out: out, options: o, model: .init(), limit: limit
            ) { if !json { print($0) } }
            if json {
                try printJSON(rows)
            } else {
                print((try? String(contentsOfFile: out + "/beta_sweep.md", encoding: .utf8)) ?? "")
                print("wrote \(out)/beta_sweep.csv, beta_sweep.md, beta_sweep.png")
            }
            return
        }
        var o = LatentInspector.Options()
        o.observables = observables?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        o.limit = limit; o.traversed = traverse; o.steps = steps; o.range = range; o.bins = bins
        let inspector = try LatentInspector(checkpoint: checkpoint!)
        let r = try inspector.inspect(data: data, options: o, out: out)
        if json { try printJSON(r); return }
        print(
            "\(r.samples) examples, \(r.latentDim) latent dimensions: \(r.active.count) active, \(r.passive.count) "
                + "passive"
        )
        print("rule: \(r.activeRule)")
        print("active, by \(r.rankedBy): \(r.active.map(String.init).joined(separator: " "))")
        print("best neuron per observable (Spearman ρ, mutual information):")
        for (name, d) in r.best.sorted(by: { abs($0.value.spearman) > abs($1.value.spearman) }) {
            print(
                String(
                    format: "  %-14@ dim %2d   ρ = %+.3f   MI = %.3f nats", name as NSString, d.dimension, d.spearman,
                    d.mutualInformation))
        }
        print("wrote \(out)/report.md, correlations.csv, latent_dimensions.csv, traversal.png, map_*.png")
    }

    func printJSON<T: Encodable>(_ value: T) throws {
        print(String(decoding: try RunFolder.json(value), as: UTF8.self))
    }
}
