import ArgumentParser
import Cluster
import Formats
import Foundation
import Lab
import Models
import NN

/// `genlab score`.
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score events for anomalies with a model trained on background only.",
        discussion: """
            EVENTS: HDF5 files with /images or /constituents (N, M, 3) of (pT, η, φ) (made into jet images with the \
            checkpoint's preprocessing), or .npy images; labels and jet masses are used when the files have them. \
            OUT: a folder (scores.csv, flagged.csv, roc.png, report.json, …) or a .csv / .h5 scores file.
            """)
    @Option(help: "A vae, ae or gan checkpoint trained on background (or a flow: feature tables, log_density).")
    var checkpoint: String
    @Argument(help: ArgumentHelp("Event files (feature tables for a flow).", valueName: "events"))
    var positionalEvents: [String] = []
    @Option(name: .customLong("data"), help: "Event files, as the positional ones (repeatable) (default: none).")
    var dataEvents: [String] = []
    /// The files to score: the positional ones, then every --data.
    var events: [String] { positionalEvents + dataEvents }
    @Option(help: "Output folder, or a .csv / .h5 scores file.") var out: String
    @Option(
        help: "The score to threshold (default: neg_elbo for a VAE, mse for an AE, discriminator for a GAN).",
        transform: Choice.parse("--score"))
    var score: AnomalyScore?
    @Option(parsing: .unconditional, help: "Threshold at this false-positive rate on background.") var fpr: Double =
        0.01
    @Option(
        parsing: .unconditional,
        help: "Threshold at this quantile of all scores instead (no labels needed; default: none).")
    var quantile: Double?
    @Option(help: "A background-only file to set the threshold on (default: none: labelled background).")
    var calibration: String?
    @Flag(
        name: .customLong("decorrelate-mass"),
        help: "Add a jet-mass-decorrelated version of the score (quantile within background mass bins).")
    var decorrelateMass = false
    @Flag(help: "Print the summary as JSON.") var json = false
    @Flag(help: "Print nothing but errors (with --json: only the JSON).") var quiet = false
    @Option(
        help: "Whole events: score the leading jet (1) or the two leading jets (2; the event gets the larger score).")
    var jets = 1
    @Option(
        name: .customLong("signal-label"),
        help:
            ArgumentHelp(
                "The label that marks signal: 1 (default), or 0 to score the labelled background as the anomaly (the "
                    + "inverted task).")
    )
    var signalLabel = 1
    @Flag(
        name: .customLong("from-constituents"),
        help:
            ArgumentHelp(
                "Make jet images from each file's /constituents with the checkpoint's preprocessing, even where it "
                    + "stores /images.")
    )
    var fromConstituents = false
    @OptionGroup var limits: InputLimitOptions

    func validate() throws {
        guard !events.isEmpty else { throw ValidationError("give the event files to score (EVENTS … or --data FILE)") }
        try Check.finite(fpr, "--fpr", in: 0...1)
        if let quantile { try Check.finite(quantile, "--quantile", in: 0...1) }
        guard [1, 2].contains(jets) else { throw ValidationError("--jets must be 1 or 2") }
        guard [0, 1].contains(signalLabel) else { throw ValidationError("--signal-label must be 0 or 1") }
    }

    /// Where the scores and flagged events go for an --out folder or file.
    var outputPaths: (folder: String, scores: String, flagged: String) {
        if out.hasSuffix(".csv") || out.hasSuffix(".h5") {
            let folder =
                (out as NSString).deletingLastPathComponent.isEmpty ? "." : (out as NSString).deletingLastPathComponent
            return (folder, out, (out as NSString).deletingPathExtension + "_flagged.csv")
        }
        return (out, out + "/scores.csv", out + "/flagged.csv")
    }

    func run() throws {
        try StdoutRedirect.quiet(quiet && !json) { try scoreEvents() }
    }

    // Long: maps flags to a scoring request and prints its tables; the policy is Lab's.
    func scoreEvents() throws {
        let (folder, scoresPath, flaggedPath) = outputPaths
        try OutputGuard.refuse(
            outputs: [out, scoresPath, flaggedPath, folder + "/report.json"],
            inputs: events + [checkpoint] + (calibration.map { [$0] } ?? []))
        // Under mpirun the events are shared out over the ranks; rank 0 gets them all and writes.
        let cluster = Cluster.world
        let primary: AnomalyScore, scored: AnomalyScorer.Table?, warnings: [String]
        var calibrationScores: AnomalyScorer.Table??
        if let ckpt = try? Checkpoint.load(checkpoint), ckpt.modelKind == .flow {
            // A flow on a feature table: one score, its negative log-density; rank 0 scores alone.
            guard score == nil || score == .logDensity else {
                throw ValidationError("--score must be log_density for a flow checkpoint")
            }
            let flow = try ConditionalFlow.load(ckpt, file: checkpoint)
            primary = .logDensity
            warnings = []
            scored = cluster.isRoot ? try FlowScoring.table(flow, paths: events) : nil
            calibrationScores = try calibration.map { cluster.isRoot ? try FlowScoring.table(flow, paths: [$0]) : nil }
        } else {
            let scorer = try AnomalyScorer(checkpoint: checkpoint)
            scorer.jetsPerEvent = jets
            scorer.fromConstituents = fromConstituents
            primary = score ?? scorer.primaryScore
            guard scorer.scores.contains(primary) else {
                throw ValidationError("--score must be one of \(scorer.scoreNames.joined(separator: ", "))")
            }
            scored = try scorer.score(events, cluster: cluster)
            calibrationScores = try calibration.map { try scorer.score([$0], cluster: cluster) }
            warnings = scorer.warnings
        }
        guard var table = scored else { return }
        if signalLabel == 0 { table.labels = table.labels.map { $0.map { 1 - $0 } } }
        try table.requireScorable(primary.rawValue, files: events)
        if let calibration, var cal = calibrationScores ?? nil {
            if signalLabel == 0 { cal.labels = cal.labels.map { $0.map { 1 - $0 } } }
            try cal.requireBackgroundOnly(file: calibration)
            try cal.requireScorable(primary.rawValue, files: [calibration])
            calibrationScores = cal
        }
        let rule = quantile.map(ThresholdRule.quantile) ?? .falsePositiveRate(fpr)
        let threshold = ScoreThreshold.choose(
            rule, primary: primary.rawValue, table: &table,
            calibration: calibration.flatMap { name in calibrationScores?.map { (name, $0) } },
            decorrelateMass: decorrelateMass)
        _ = try RunFolder(folder)
        for warning in warnings { Warnings.emit(warning) }
        var report = ScoreReport(table: table, threshold: threshold, warnings: warnings)
        report.ranks = cluster.isDistributed ? cluster.size : nil
        let s = try report.write(scoresPath: scoresPath, flaggedPath: flaggedPath, plotsFolder: folder)
        if json {
            print(String(decoding: try RunFolder.json(s), as: UTF8.self))
            return
        }
        print("scored \(s.events) events (\(s.unscorable) could not be scored) with \(checkpoint)")
        print(String(format: "threshold on %@: %.5g (%@)", threshold.score, threshold.value, threshold.source))
        print(
            "flagged \(s.flagged) events"
                + (s.expectedBackground.map { String(format: " (expected background: %.1f)", $0) } ?? ""))
        if !s.auc.isEmpty {
            print("score                              AUC   1/eB@eS=0.3  1/eB@eS=0.5  corr(mass)")
            for name in table.names {
                print(
                    name.padding(toLength: 30, withPad: " ", startingAt: 0)
                        + String(
                            format: " %7.3f  %11.1f  %11.1f  %10.2f", s.auc[name] ?? Double.nan,
                            s.rejectionAt30[name] ?? Double.nan,
                            s.rejectionAt50[name] ?? Double.nan, s.massCorrelation[name] ?? Double.nan))
            }
        }
        if !s.darkMachines.isEmpty {
            print(
                "as the Dark Machines challenge reports (± bootstrap spread over "
                    + "\(s.darkMachines.values.first!.rounds) resamplings):"
            )
            print(
                "score                          AUC              εS@εB=1e-1       εS@εB=1e-2       εS@εB=1e-3       "
                    + "max SIC"
            )
            for name in table.names {
                guard let f = s.darkMachines[name] else { continue }
                let cells =
                    [f.auc] + DarkMachinesFigures.backgroundEfficiencies.map { f.signalEfficiency["\($0)"]! } + [
                        f.maximumSIC
                    ]
                print(
                    name.padding(toLength: 30, withPad: " ", startingAt: 0)
                        + cells.map {
                            String(format: "%.3f ± %.3f", $0.value, $0.error).padding(
                                toLength: 17, withPad: " ", startingAt: 0)
                        }.joined())
            }
        }
        print(
            "wrote \(scoresPath), \(flaggedPath)"
                + (s.auc.isEmpty
                    ? ""
                    : ", \(folder)/roc.png, significance.png, score_histogram.png, mass_sculpting.png, report.json"))
    }
}
