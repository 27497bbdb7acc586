import Engine
import Formats
import Foundation

/// Writes what `genlab score` produces: the scores file (CSV or HDF5) with the event index, the
/// flagged events above the threshold, and — when the events carry labels of both classes — ROC
/// curves, AUCs, background rejections, significance improvement, score histograms and the jet-mass
/// sculpting check.
public struct ScoreReport {
    public var table: AnomalyScorer.Table
    public var threshold: ScoreThreshold
    public var primary: String { threshold.score }
    /// Warnings about the inputs (named files), recorded in report.json.
    public var warnings: [String]
    /// The number of processes that scored the events (nil: one), recorded in report.json.
    public var ranks: Int?

    public init(table: AnomalyScorer.Table, threshold: ScoreThreshold, warnings: [String] = []) {
        self.table = table; self.threshold = threshold
        self.warnings = warnings
    }

    public struct Summary: Codable {
        public var events: Int
        public var unscorable: Int
        public var primaryScore: String
        public var threshold: Double
        public var thresholdSource: String
        public var flagged: Int
        public var expectedBackground: Double?
        public var auc: [String: Double] = [:]
        public var rejectionAt30: [String: Double] = [:]
        public var rejectionAt50: [String: Double] = [:]
        public var massCorrelation: [String: Double] = [:]
        public var warnings: [String] = []
        public var ranks: Int?
        /// Per score: AUC, εS at εB = 10⁻¹, 10⁻², 10⁻³ and the maximum SIC, with bootstrap errors.
        public var darkMachines: [String: DarkMachinesFigures] = [:]
    }

    /// The suffix of a score's mass-decorrelated version (`ScoreThreshold.choose` adds it).
    public static let massDecorrelatedSuffix = "_mass_decorrelated"

    /// Writes the scores and flagged files, and with `plotsFolder` the figures, report.json and
    /// report.html; returns the summary.
    public func write(scoresPath: String, flaggedPath: String, plotsFolder: String?) throws -> Summary {
        let flagged = try writeScoreFiles(scoresPath: scoresPath, flaggedPath: flaggedPath)
        let p = table.column(primary)
        let unscorable = table.problem.indices.filter { table.problem[$0] != nil || !p[$0].isFinite }.count
        var summary = Summary(
            events: table.count, unscorable: unscorable, primaryScore: primary,
            threshold: threshold.value, thresholdSource: threshold.source, flagged: flagged)
        summary.warnings = warnings
        summary.ranks = ranks
        let labels = table.labels
        let labelled = labels.allSatisfy { $0 != nil } && Set(labels.compactMap { $0 }).count == 2
        if let fpr = threshold.falsePositiveRate {
            let nBkg = labelled ? labels.filter { $0 == 0 }.count : table.count
            summary.expectedBackground = fpr * Double(nBkg)
        }
        guard labelled else { return summary }
        let (roc, sic) = addSeparation(to: &summary)
        guard let folder = plotsFolder else { return summary }
        let run = try RunFolder(folder)
        try roc.write(run.file("roc.png"))
        try sic.write(run.file("significance.png"))
        guard try writeDistributions(run) else {
            try run.writeJSON(summary, to: "report.json")
            return summary
        }
        try run.writeJSON(summary, to: "report.json")
        try writePage(summary, folder: folder)
        return summary
    }

    /// The scores file (CSV or HDF5 by its extension) and the flagged events (CSV: those above
    /// the threshold and those that could not be scored); returns how many were flagged.
    func writeScoreFiles(scoresPath: String, flaggedPath: String) throws -> Int {
        let p = table.column(primary)
        let header = ["index", "file", "label", "jet_mass"] + table.names + ["flagged", "problem"]
        var lines = [header.joined(separator: ",")]
        var flaggedLines = [header.joined(separator: ",")]
        var flagged = 0
        for i in 0..<table.count {
            let isFlagged = p[i].isFinite && p[i] > threshold.value
            if isFlagged { flagged += 1 }
            var row = [
                String(table.index[i]), csv(table.file[i]), table.labels[i].map(String.init) ?? "",
                table.mass[i].map { String(format: "%.4g", $0) } ?? "",
            ]
            row += table.scores.map { $0[i].isFinite ? String(format: "%.6g", $0[i]) : "nan" }
            let problem = table.problem[i] ?? (p[i].isFinite ? nil : "the model's \(primary) is not finite")
            row += [isFlagged ? "1" : "0", csv(problem ?? "")]
            let line = row.joined(separator: ",")
            lines.append(line)
            if isFlagged || problem != nil { flaggedLines.append(line) }
        }
        if scoresPath.hasSuffix(".h5") || scoresPath.hasSuffix(".hdf5") {
            try HDF5File.write(to: scoresPath) { f in
                try f.write("/index", Tensor(shape: [table.count], data: table.index.map(Float.init)))
                for (k, name) in table.names.enumerated() {
                    try f.write("/scores/" + name, Tensor(shape: [table.count], data: table.scores[k].map(Float.init)))
                }
                try f.write(
                    "/flagged",
                    Tensor(shape: [table.count], data: p.map { $0.isFinite && $0 > threshold.value ? 1 : 0 }))
                if table.labels.allSatisfy({ $0 != nil }) {
                    try f.write("/labels", Tensor(shape: [table.count], data: table.labels.map { Float($0!) }))
                }
                try f.setAttribute("primary_score", primary)
                try f.setAttribute("threshold", threshold.value)
                try f.setAttribute("threshold_source", threshold.source)
            }
        } else {
            try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: scoresPath)
        }
        try AtomicFile.write(Data((flaggedLines.joined(separator: "\n") + "\n").utf8), to: flaggedPath)
        return flagged
    }

    /// Every score's separation of labelled signal from background (AUC, rejections, the Dark
    /// Machines figures, correlation with the background's jet mass) into `summary`, and the ROC
    /// and SIC plots with their bootstrap bands.
    func addSeparation(to summary: inout Summary) -> (roc: Plot, sic: Plot) {
        let labels = table.labels
        var roc = Plot(
            title: "ROC: background rejection against signal efficiency (bands: bootstrap 68 %)",
            xLabel: "signal efficiency ε_{S}", yLabel: "background rejection 1/ε_{B}")
        roc.logY = true
        var sic = Plot(
            title: "Significance improvement (bands: bootstrap 68 %)", xLabel: "signal efficiency ε_{S}",
            yLabel: "SIC = ε_{S}/√ε_{B}")
        for (k, name) in table.names.enumerated() {
            let ok = table.scores[k].indices.filter { table.scores[k][$0].isFinite }
            let scores = ok.map { table.scores[k][$0] }, truth = ok.map { labels[$0]! }
            let r = ROC(scores: scores, labels: truth, weights: table.weights.map { w in ok.map { w[$0] } })
            summary.auc[name] = r.auc
            summary.darkMachines[name] = DarkMachinesFigures(scores: scores, labels: truth)
            summary.rejectionAt30[name] = r.rejection(atSignal: 0.3)
            summary.rejectionAt50[name] = r.rejection(atSignal: 0.5)
            let bkgWithMass = ok.filter { labels[$0] == 0 && table.mass[$0] != nil }
            if bkgWithMass.count > 10 {
                summary.massCorrelation[name] = correlation(
                    bkgWithMass.map { table.scores[k][$0] }, bkgWithMass.map { table.mass[$0]! })
            }
            let bands = ROCBands(scores: scores, labels: truth)
            roc.add(name, x: bands.signal, y: bands.rejection, low: bands.rejectionLow, high: bands.rejectionHigh)
            sic.add(name, x: bands.signal, y: bands.sic, low: bands.sicLow, high: bands.sicHigh)
        }
        return (roc, sic)
    }

    /// score_histogram.png (the primary score by class) and mass_sculpting.png (the background jet
    /// mass after cuts keeping 50 %, 10 % and 1 % of it); false when no event has a finite score.
    func writeDistributions(_ run: RunFolder) throws -> Bool {
        let p = table.column(primary), labels = table.labels
        let ok = p.indices.filter { p[$0].isFinite }
        let sorted = ok.map { p[$0] }.sorted()
        guard !sorted.isEmpty else { return false }
        let lo = sorted[sorted.count / 200], hi = sorted[sorted.count - 1 - sorted.count / 200]
        var hist = Plot(title: "\(primary) by class", xLabel: primary, yLabel: "probability density")
        hist.logY = true
        for (cls, label) in [(0, "background"), (1, "signal")] {
            let h = histogram(
                ok.filter { labels[$0] == cls }.map { p[$0] }, bins: 40, range: (lo, hi > lo ? hi : lo + 1))
            hist.add(label, x: h.edges, y: h.counts, steps: true)
        }
        try hist.write(run.file("score_histogram.png"))
        let bkg = ok.filter { labels[$0] == 0 && table.mass[$0] != nil }
        guard !bkg.isEmpty else { return true }
        var mass = Plot(
            title: "Background jet mass after cuts on \(primary) (normalised)", xLabel: "m_{jet} [GeV]",
            yLabel: "probability density")
        let before = histogram(bkg.map { table.mass[$0]! }, bins: 30, range: (0, 300))
        mass.add("all background", x: before.edges, y: before.counts, steps: true)
        // Sculpting shows as a shape that changes with the cut.
        let sortedBkg = bkg.map { p[$0] }.sorted()
        for keep in [0.5, 0.1, 0.01] where Double(sortedBkg.count) * keep >= 10 {
            let cut = sortedBkg[min(sortedBkg.count - 1, Int(Double(sortedBkg.count) * (1 - keep)))]
            let after = histogram(bkg.filter { p[$0] > cut }.map { table.mass[$0]! }, bins: 30, range: (0, 300))
            mass.add(String(format: "ε_{B} = %g", keep), x: after.edges, y: after.counts, steps: true)
        }
        try mass.write(run.file("mass_sculpting.png"))
        return true
    }

    /// report.html of a scoring run.
    func writePage(_ s: Summary, folder: String) throws {
        var page = RunReport(title: "GenLab anomaly scores — \(folder)")
        page.notes = s.warnings
        page.table(
            "Events",
            [
                ("events", "\(s.events)"), ("could not be scored", "\(s.unscorable)"),
                ("primary score", s.primaryScore),
                ("threshold", String(format: "%.6g (%@)", s.threshold, s.thresholdSource)), ("flagged", "\(s.flagged)"),
            ]
                + (s.expectedBackground.map { [("expected background", String(format: "%.1f", $0))] } ?? []))
        page.table(
            "AUC, 1/εB at εS = 0.3 and 0.5, correlation with the jet mass",
            table.names.compactMap { name in
                s.auc[name].map {
                    (
                        name,
                        String(
                            format: "AUC %.3f   1/εB %.1f / %.1f   corr(mass) %.2f", $0, s.rejectionAt30[name] ?? .nan,
                            s.rejectionAt50[name] ?? .nan, s.massCorrelation[name] ?? .nan)
                    )
                }
            })
        page.table(
            "Dark Machines figures (± bootstrap)",
            table.names.compactMap { name in
                s.darkMachines[name].map { f in
                    (
                        name,
                        String(
                            format:
                                "AUC %.3f ± %.3f   εS at εB = 1e-1, 1e-2, 1e-3: %.3f, %.3f, %.3f   max SIC %.2f ± %.2f",
                            f.auc.value, f.auc.error,
                            f.signalEfficiency["0.1"]?.value ?? .nan, f.signalEfficiency["0.01"]?.value ?? .nan,
                            f.signalEfficiency["0.001"]?.value ?? .nan, f.maximumSIC.value, f.maximumSIC.error)
                    )
                }
            })
        try page.write(folder: folder)
    }

    private func csv(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
