import Engine
import Formats
import Foundation

/// Writes what the latent inspector found into a folder:
/// - `latent_dimensions.csv` — per dimension: rank, active, mean and spread of μ, mean σ, KL;
/// - `correlations.csv` — every (active dimension, observable): Pearson, Spearman, mutual information;
/// - `report.md` — both tables (strongest first), the best neuron per observable, the rule used;
/// - `report.json` — the same, for scripts;
/// - `latent_activity.png` — KL (or variance) per dimension, sorted;
/// - `traversal.png` — one row per top dimension, decoded from −range to +range spreads;
///   `traversal.csv` and `traversal_OBS.png` — the image observables along each sweep;
/// - `map_OBS.png` — the data in the plane of the two most active dimensions, coloured by OBS.
struct InspectorReport {
    let report: LatentInspector.Report
    let encoded: LatentInspector.Encoded
    let inspector: LatentInspector
    let options: LatentInspector.Options

    func write(to out: String) throws {
        let run = try RunFolder(out)
        try writeTables(run)
        try run.writeJSON(report, to: "report.json")
        try activityPlot().write(run.file("latent_activity.png"))
        try writeTraversals(run)
        try writeMaps(run)
        var page = RunReport(title: "GenLab latent inspector — \(out)")
        if let text = try? String(contentsOfFile: run.file("report.md"), encoding: .utf8) {
            page.notes = text.split(separator: "\n").prefix(12).map(String.init)
        }
        try page.write(folder: out)
    }

    static func number(_ v: Double?) -> String {
        guard let v else { return "" }
        return v.isFinite ? String(format: "%.4g", v) : "nan"
    }

    func writeTables(_ run: RunFolder) throws {
        let n = Self.number
        var dims = ["dimension,rank,active,mu_mean,mu_std,mean_sigma,kl,information"]
        for d in report.dimensions {
            let figures = [d.muMean, d.muStd, d.meanSigma, d.kl, d.information].map(n).joined(separator: ",")
            dims.append("\(d.index),\(d.rank.map(String.init) ?? ""),\(d.active ? 1 : 0),\(figures)")
        }
        try AtomicFile.write(Data((dims.joined(separator: "\n") + "\n").utf8), to: run.file("latent_dimensions.csv"))
        let rank = Dictionary(uniqueKeysWithValues: report.dimensions.compactMap { d in d.rank.map { (d.index, $0) } })
        var deps = ["dimension,rank,observable,pearson,spearman,mutual_information"]
        for d in report.dependences {
            let figures = [d.pearson, d.spearman, d.mutualInformation].map(n).joined(separator: ",")
            deps.append("\(d.dimension),\(rank[d.dimension]!),\(d.observable),\(figures)")
        }
        try AtomicFile.write(Data((deps.joined(separator: "\n") + "\n").utf8), to: run.file("correlations.csv"))
        try AtomicFile.write(Data(markdown().utf8), to: run.file("report.md"))
    }

    /// The Markdown report (also what `genlab inspect` prints, in part).
    func markdown() -> String {
        let n = Self.number
        var md = "# Latent inspection\n\n"
        md += "- checkpoint: `\(report.checkpoint)` (\(report.kind), \(report.latentDim) latent dimensions)\n"
        md += "- data: \(report.data.map { "`\($0)`" }.joined(separator: ", ")) — \(report.samples) examples\n"
        md += "- rule: \(report.activeRule); active dimensions ranked by \(report.rankedBy)\n"
        let passive = report.passive.isEmpty ? "" : " (" + report.passive.map(String.init).joined(separator: ", ") + ")"
        md +=
            "- active: \(report.active.count) (\(report.active.map(String.init).joined(separator: ", "))); "
            + "passive: \(report.passive.count)\(passive)\n\n"
        md +=
            "## Latent dimensions\n\n| dim | rank | active | mean μ | spread of μ | mean σ | KL (nats) | information "
            + "(nats) |\n|---:|---:|:---:|---:|---:|---:|---:|---:|\n"
        for d in report.dimensions.sorted(by: { ($0.rank ?? 10_000, $0.index) < ($1.rank ?? 10_000, $1.index) }) {
            md +=
                "| \(d.index) | \(d.rank.map(String.init) ?? "–") | \(d.active ? "yes" : "no") | \(n(d.muMean)) | "
                + "\(n(d.muStd)) | \(n(d.meanSigma)) | \(n(d.kl)) | \(n(d.information)) |\n"
        }
        md +=
            "\n## Best neuron per observable\n\n| observable | dim | Spearman ρ | Pearson r | MI (nats) "
            + "|\n|---|---:|---:|---:|---:|\n"
        for (name, d) in report.best.sorted(by: { abs($0.value.spearman) > abs($1.value.spearman) }) {
            md +=
                "| \(name) | \(d.dimension) | \(String(format: "%+.3f", d.spearman)) | "
                + "\(String(format: "%+.3f", d.pearson)) | \(String(format: "%.3f", d.mutualInformation)) |\n"
        }
        md +=
            "\n## All correlations (strongest |ρ| first)\n\n| dim | observable | Spearman ρ | Pearson r | MI (nats) "
            + "|\n|---:|---|---:|---:|---:|\n"
        for d in report.dependences {
            md +=
                "| \(d.dimension) | \(d.observable) | \(String(format: "%+.3f", d.spearman)) | "
                + "\(String(format: "%+.3f", d.pearson)) | \(String(format: "%.3f", d.mutualInformation)) |\n"
        }
        return md
    }

    func activityPlot() -> Plot {
        let vae = report.kind == .vae
        var plot = Plot(
            title: vae ? "Information and KL per latent dimension" : "Variance of μ per dimension (sorted)",
            xLabel: "dimensions, most active first", yLabel: vae ? "nats" : "var(mu)")
        let order = report.dimensions.sorted {
            ($0.information ?? $0.muStd * $0.muStd) > ($1.information ?? $1.muStd * $1.muStd)
        }
        let edges = (0...order.count).map(Double.init)
        if vae {
            plot.add("information", x: edges, y: order.map { $0.information ?? 0 }, steps: true)
            plot.add("KL", x: edges, y: order.map { $0.kl ?? 0 }, steps: true)
        } else {
            plot.add("var", x: edges, y: order.map { $0.muStd * $0.muStd }, steps: true)
        }
        return plot
    }

    func writeTraversals(_ run: RunFolder) throws {
        guard !report.traversed.isEmpty else { return }
        let (z, offsets) = LatentInspector.traversal(
            report.dimensions, dims: report.traversed, steps: options.steps, range: options.range)
        let images = noGrad { inspector.model.decode(z) }
        let spec = inspector.spec
        // Jet images are shown on a √pT scale: linear, the hard core hides the prongs.
        let shown = spec.isJetImages ? noGrad { images.relu().pow(0.5) } : images
        let grid = imageGrid(shown, columns: options.steps, range: spec.displayRange, normalizeEach: spec.isJetImages)
        try grid.resized(width: grid.width * 4, height: grid.height * 4, method: .bilinear).writePNG(
            run.file("traversal.png"))
        let names = ObservableCatalogue.imageObservables(for: spec)
        let values = ObservableCatalogue.compute(names, images: spec.isJetImages ? images.relu() : images, spec: spec)
        var csv = ["dimension,offset_spread,latent_value," + names.joined(separator: ",")]
        for (k, j) in report.traversed.enumerated() {
            for (s, t) in offsets.enumerated() {
                let row = k * offsets.count + s
                let zj = report.dimensions[j].muMean + t * report.dimensions[j].muStd
                let observed = names.map { Self.number(values[$0]![row]) }.joined(separator: ",")
                csv.append("\(j),\(Self.number(t)),\(Self.number(zj)),\(observed)")
            }
        }
        try AtomicFile.write(Data((csv.joined(separator: "\n") + "\n").utf8), to: run.file("traversal.csv"))
        for name in names {
            var plot = Plot(title: "\(name) along each traversal", xLabel: "offset (spreads of μ)", yLabel: name)
            for (k, j) in report.traversed.enumerated() {
                plot.add(
                    "dim \(j)", x: offsets, y: Array(values[name]![(k * offsets.count)..<((k + 1) * offsets.count)]))
            }
            try plot.write(run.file("traversal_\(name).png"))
        }
    }

    func writeMaps(_ run: RunFolder) throws {
        guard report.active.count >= 2 else { return }
        let (a, b) = (report.active[0], report.active[1])
        // A fixed-stride subset keeps the map readable and its colours honest (every file represented).
        let stride = max(1, encoded.count / 4000)
        let pick = Swift.stride(from: 0, to: encoded.count, by: stride).map { $0 }
        for (name, v) in encoded.observables.sorted(by: { $0.key < $1.key }) {
            var plot = Plot(title: "Latent map coloured by \(name)", xLabel: "μ_{\(a)}", yLabel: "μ_{\(b)}")
            plot.scatter(
                name, x: pick.map { encoded.mu[a][$0] }, y: pick.map { encoded.mu[b][$0] }, values: pick.map { v[$0] })
            plot.width = 560; plot.height = 480
            try plot.write(run.file("map_\(name).png"))
        }
    }
}
