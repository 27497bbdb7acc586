import Formats
import Foundation

/// What `genlab hunt` leaves in its folder: report.json (options and every experiment), the SIC
/// curves, max SIC against S/B when several fractions were injected, the data's background m_jj
/// after each classifier's cuts (sculpting), and report.html with them all.
public enum HuntReport {
    struct Document: Encodable {
        var options: HuntOptions
        var source: [String]
        var experiments: [HuntExperiment]
    }

    /// Writes everything into `folder` (which exists); returns the files written.
    @discardableResult
    public static func write(
        _ experiments: [HuntExperiment], options: HuntOptions, sources: [String], folder: String
    ) throws -> [String] {
        var files: [String] = []
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(
            try encoder.encode(Document(options: options, source: sources, experiments: experiments)),
            to: path("report.json"))
        files.append(path("report.json"))

        for (i, e) in experiments.enumerated() {
            // Named by the S/B asked for (what a script passed), not the one the injection reached.
            let suffix = experiments.count > 1 ? String(format: "_sb%.4f", e.requestedFraction) : ""
            var sic = Plot(
                title: String(format: "SIC on the test set, S/B = %.2f %% in the SR", 100 * e.signalOverBackground),
                xLabel: "signal efficiency εS", yLabel: "SIC = εS / √εB")
            for r in e.results { sic.add(r.method.rawValue, x: r.sicCurve.signalEfficiency, y: r.sicCurve.sic) }
            sic.add("random", x: [0, 1], y: [0, 1])
            try sic.write(path("sic\(suffix).png"))
            files.append(path("sic\(suffix).png"))
            for r in e.results where !r.backgroundMjjAfterCuts.isEmpty && i == experiments.count - 1 {
                try sculpting(r, file: path("mjj_after_cuts_\(r.method.rawValue)\(suffix).png"), options: options)
                files.append(path("mjj_after_cuts_\(r.method.rawValue)\(suffix).png"))
            }
        }
        let seeds = experiments.first?.dataSeeds?.count ?? 1
        let spreadOver =
            seeds > 1
            ? "\(seeds) data seeds × \(options.classifierSeeds) classifier seeds"
            : "\(options.classifierSeeds) classifier seeds"
        if experiments.count > 1 {
            var scan = Plot(
                title: "Max SIC against injected signal", xLabel: "S/B in the signal region (%)",
                yLabel: seeds > 1
                    ? "max SIC (mean ± spread over seeds)" : "max SIC (mean ± spread over classifier seeds)")
            let order = experiments.sorted { $0.signalOverBackground < $1.signalOverBackground }
            for method in options.methods {
                let rs = order.compactMap { e in e.results.first { $0.method == method } }
                let xs = order.map { 100 * $0.signalOverBackground }
                scan.add(
                    method.rawValue, x: xs, y: rs.map(\.maxSICMean), low: rs.map { $0.maxSICMean - $0.maxSICSpread },
                    high: rs.map { $0.maxSICMean + $0.maxSICSpread })
            }
            scan.add("no gain (SIC = 1)", x: [0, 100 * (order.last?.signalOverBackground ?? 0.01)], y: [1, 1])
            try scan.write(path("max_sic_vs_sb.png"))
            files.append(path("max_sic_vs_sb.png"))
        }

        var report = RunReport(title: "Resonant anomaly hunt")
        report.notes.append(
            "Max SIC = the largest εS/√εB on the test set (signal-region background and signal no method trained "
                + "on) where at least \(options.minimumBackground) test background events pass; mean ± standard "
                + "deviation over \(spreadOver) (ANODE: signal-region flows)"
                + (seeds > 1 ? "; counts are the data seeds' means, curves and cuts the first seed's." : "."))
        for e in experiments {
            if let line = e.nullTestLine, !e.nullTestFailures.isEmpty { report.notes.append(line + ".") }
            var rows: [(String, String)] = [
                (
                    "S/B in the SR",
                    String(
                        format: "%.4f (%d signal events injected there, %d in all)", e.signalOverBackground,
                        e.injectedInRegion, e.injected)
                ),
                ("data events", "\(e.dataEvents) (\(e.dataInRegion) in the SR)"),
                ("S/√B in the SR", String(format: "%.2f", e.significance)),
                ("test events", "\(e.testBackground) background, \(e.testSignal) signal"),
            ]
            if let nll = e.flowValidationNLL {
                rows.append(("side-band flow held-out nll", String(format: "%.4f", nll)))
            }
            if let model = e.interpolationW1, let truth = e.truthW1 {
                var check = options.features.map {
                    String(format: "%@ %.4f (truth %.4f)", $0, model[$0] ?? .nan, truth[$0] ?? .nan)
                }.joined(separator: ", ")
                if let auc = e.flowFidelityAUC { check = String(format: "a classifier's AUC %.4f; W1 ", auc) + check }
                rows.append(("side-band flow in the SR vs true SR background", check))
            }
            for r in e.results {
                let verdict =
                    r.nullTestClean.map {
                        $0
                            ? "; null test: clean"
                            : String(
                                format: "; null test FAILED (limits: max SIC ≤ %.2f, AUC ≤ %.2f)",
                                HuntMethodResult.nullMaxSIC, HuntMethodResult.nullAUC)
                    } ?? ""
                rows.append(
                    (
                        r.method.rawValue,
                        String(
                            format: "max SIC %.2f ± %.2f, AUC %.3f, %.0f s", r.maxSICMean, r.maxSICSpread,
                            r.meanAUC, r.seconds) + verdict
                    ))
            }
            report.table(String(format: "S/B = %.2f %%", 100 * e.signalOverBackground), rows)
        }
        try report.write(folder: folder)
        files.append(path("report.html"))
        return files
    }

    /// Normalised m_jj histograms of the data's background (Poisson error bars): all, and after the
    /// cuts keeping 10 % and 1 % of the SR data (each drawn from 50 events on) — the same shape means
    /// the cut does not sculpt a bump.
    static func sculpting(_ r: HuntMethodResult, file: String, options: HuntOptions) throws {
        let all = r.backgroundMjjAfterCuts["all"] ?? []
        guard let lo = all.min(), let hi = all.max(), hi > lo else { return }
        let bins = 30, width = (min(hi, 6) - lo) / Double(bins)
        var plot = Plot(
            title:
                "\(r.method.rawValue): background m_jj after cuts (SR \(options.signalRegion.lowerBound)–"
                + "\(options.signalRegion.upperBound) TeV)",
            xLabel: "m_jj (TeV)", yLabel: "fraction of events per bin")
        plot.logY = true
        for (name, key) in [("all", "all"), ("10 % kept", "0.1"), ("1 % kept", "0.01")] {
            let values = r.backgroundMjjAfterCuts[key] ?? []
            guard values.count >= 50 else { continue }
            var counts = [Double](repeating: 0, count: bins)
            for v in values {
                let b = Int((v - lo) / width)
                if b >= 0 && b < bins { counts[b] += 1 }
            }
            let total = Double(values.count)
            let xs = (0..<bins).map { lo + (Double($0) + 0.5) * width }
            plot.add("\(name) (\(values.count))", x: xs, y: counts.map { $0 / total }, steps: true)
            plot.series[plot.series.count - 1].errors = counts.map { $0.squareRoot() / total }
        }
        try plot.write(file)
    }
}
