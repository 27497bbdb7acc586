import Formats
import Foundation

/// How the number of active latent dimensions changes with the KL weight β: trains one VAE per β
/// on the same data with the same seed, inspects each on the data, and tabulates active dimensions,
/// total KL and the reconstruction term. Disentanglement papers (β-VAE, Higgins et al. 2017) raise β
/// to squeeze information into fewer, cleaner dimensions; the sweep shows where collapse sets in.
public enum BetaSweep {
    public struct Row: Codable, Sendable {
        public var beta: Float
        public var activeDimensions: Int
        /// Sum of the per-dimension KL contributions over the data (nats).
        public var totalKL: Double
        public var validationReconstruction: Double
        public var checkpoint: String
    }

    public static func run(
        data: String, betas: [Float], out: String, options: TrainOptions, model: TrainingSetup.ModelOptions,
        limit: Int?, log: (String) -> Void
    ) throws -> [Row] {
        guard !betas.isEmpty, betas.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw FormatError("--beta-sweep", "β values must be finite and ≥ 0")
        }
        let run = try RunFolder(out)
        var rows: [Row] = []
        for beta in betas {
            var m = model
            m.beta = beta
            let folder = run.file(String(format: "beta_%g", beta))
            log(String(format: "β = %g: training into %@", beta, folder))
            let trainer = try TrainingSetup.make(kind: .vae, data: data, out: folder, options: options, model: m)
            let summary = try trainer.train(overwrite: true)  // the sweep's own runs, inside its --out
            let inspector = try LatentInspector(checkpoint: trainer.run.file(Trainer.checkpointName))
            let encoded = try inspector.encode([data], observables: [], limit: limit)
            let dims = LatentInspector.dimensions(encoded).dimensions
            rows.append(
                Row(
                    beta: beta, activeDimensions: dims.filter(\.active).count,
                    totalKL: dims.compactMap(\.kl).reduce(0, +),
                    validationReconstruction: summary.lastMetrics["val_reconstruction"] ?? .nan,
                    checkpoint: trainer.run.file(Trainer.checkpointName)))
            log(
                String(
                    format: "β = %g: %d of %d dimensions active, total KL %.2f nats", beta, rows.last!.activeDimensions,
                    dims.count, rows.last!.totalKL))
        }
        var csv = ["beta,active_dimensions,total_kl,val_reconstruction,checkpoint"]
        var md =
            "| β | active dimensions | total KL (nats) | validation reconstruction (nats) |\n|---:|---:|---:|---:|\n"
        for r in rows {
            csv.append(
                String(format: "%g,%d,%.4g,%.6g,", r.beta, r.activeDimensions, r.totalKL, r.validationReconstruction)
                    + r.checkpoint)
            md += String(
                format: "| %g | %d | %.2f | %.1f |\n", r.beta, r.activeDimensions, r.totalKL, r.validationReconstruction
            )
        }
        try AtomicFile.write(Data((csv.joined(separator: "\n") + "\n").utf8), to: run.file("beta_sweep.csv"))
        try AtomicFile.write(Data(md.utf8), to: run.file("beta_sweep.md"))
        var plot = Plot(title: "Active latent dimensions against β", xLabel: "log_{10} β", yLabel: "active dimensions")
        plot.add(
            "active", x: rows.map { log10(max(Double($0.beta), 1e-6)) }, y: rows.map { Double($0.activeDimensions) })
        try plot.write(run.file("beta_sweep.png"))
        return rows
    }
}
