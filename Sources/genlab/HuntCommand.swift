import ArgumentParser
import Cluster
import Datasets
import Formats
import Foundation
import Lab
import Models

/// `genlab hunt`: the weakly supervised resonant anomaly hunt (CATHODE, CWoLa, ANODE, IAD, supervised).
struct Hunt: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hunt a resonance in m_jj: CATHODE, CWoLa, ANODE, the idealised detector and a supervised ceiling.",
        discussion: """
            --data is a labelled feature table in the LHC Olympics R&D layout (pandas frame with pxj1 … tau3j2 and \
            label; a folder of such files is read whole), e.g. Datasets/dijets. Signal is injected at each \
            --signal-fraction (S/B in the signal region); every method is scored on signal-region events it never \
            trained on. Writes OUT/report.json, report.html, sic.png, mjj_after_cuts_METHOD.png and, for several \
            fractions, max_sic_vs_sb.png.
            """)

    @Option(help: "Labelled feature table(s): a file or a folder of .h5 files.") var data: String
    @Option(help: "Output folder.") var out: String
    @Option(
        name: .customLong("signal-fraction"),
        help: "S/B injected in the signal region; comma-separated for a scan, e.g. 0,0.003,0.006,0.01 (default: 0.006)."
    )
    var signalFraction: String?
    @Option(name: .customLong("signal-region"), help: "The signal region in m_jj (TeV), LOW:HIGH (default: 3.3:3.7).")
    var signalRegion: String?
    @Option(
        help: "Methods, comma-separated: cathode, cwola, anode, iad, supervised (default: all five).")
    var method: String?
    @Option(help: "Classifier folds (default: 5).") var folds: Int?
    @Option(
        name: .customLong("classifier-seeds"), help: "Classifier trainings per method, for the spread (default: 3).")
    var classifierSeeds: Int?
    @Option(name: .customLong("classifier-epochs"), help: "Classifier epochs (default: 20).") var classifierEpochs: Int?
    @Option(
        name: .customLong("classifier-ensemble"),
        help: "Each classifier's best epochs (by validation loss) whose outputs are averaged (default: 1).")
    var classifierEnsemble: Int?
    @Option(name: .customLong("flow-epochs"), help: "Flow epochs (default: 30).") var flowEpochs: Int?
    @Option(help: "Flow: spline or affine (default: spline).", transform: Choice.parse("--transform"))
    var transform: ConditionalFlow.Transform?
    @Option(
        name: .customLong("logit-margin"),
        help: "Flows: the logit's range is the data's widened by this fraction on each side (default: 0.0001).")
    var logitMargin: Float?
    @Option(help: "CATHODE: flow samples per signal-region data event (default: 4).") var oversampling: Int?
    @Option(
        name: .customLong("flow-lr-schedule"),
        help: "The flows' learning rate over their epochs: cosine, constant or step (default: cosine).",
        transform: Choice.parse("--flow-lr-schedule")) var flowSchedule: OptimizerPolicy.Schedule?
    @Option(
        name: .customLong("flow-ensemble"),
        help: "CATHODE: the flow's best epochs whose samples are pooled (default: 5).") var flowEnsemble: Int?
    @Option(name: .customLong("sideband-width"), help: "CWoLa: side-band width on each side, TeV (default: 0.2).")
    var sidebandWidth: Double?
    @Option(help: "Seed for the split, the injection and every network.") var seed: UInt64 = 0
    @Option(
        help: ArgumentHelp(
            "Data seeds, comma-separated (e.g. 0,1,2): the hunt is repeated with each (split, injection, "
                + "flows) and max SIC pooled over them and the classifier seeds (default: --seed alone)."))
    var seeds: String?
    @Flag(help: "Write into an --out folder that already holds a hunt.") var overwrite = false
    @OptionGroup var output: OutputOptions
    @OptionGroup var limits: InputLimitOptions

    func options() throws -> HuntOptions {
        var o = HuntOptions()
        if let signalFraction {
            o.signalFractions = try Self.commaList(signalFraction, flag: "--signal-fraction", isNot: "a number") {
                Double($0)
            }
        }
        if let signalRegion {
            let cut = try RangeCut(parsing: "mjj:" + signalRegion, flag: "--signal-region")
            o.signalRegion = cut.low...cut.high
        }
        if let method {
            o.methods = try Self.commaList(method, flag: "--method", isNot: HuntMethod.choices) {
                HuntMethod(rawValue: $0)
            }
        }
        if let folds { o.folds = folds }
        if let classifierSeeds { o.classifierSeeds = classifierSeeds }
        if let classifierEpochs {
            try Check.positive(classifierEpochs, "--classifier-epochs", max: 10_000)
            o.classifier.epochs = classifierEpochs
        }
        if let classifierEnsemble { o.classifier.keptEpochs = classifierEnsemble }
        if let flowEpochs {
            try Check.positive(flowEpochs, "--flow-epochs", max: 10_000)
            o.flowEpochs = flowEpochs
        }
        if let transform { o.flow.transform = transform }
        if let logitMargin { o.flow.logitMargin = logitMargin }
        if let oversampling { o.oversampling = oversampling }
        if let flowEnsemble { o.flowEnsemble = flowEnsemble }
        if let flowSchedule { o.flowSchedule = flowSchedule }
        if let sidebandWidth { o.sidebandWidth = sidebandWidth }
        o.seed = seed
        guard o.problems.isEmpty else { throw ValidationError(o.problems.joined(separator: "; ")) }
        return o
    }

    /// A comma-separated flag's values, each trimmed and parsed; an unparsable one is named.
    static func commaList<T>(_ text: String, flag: String, isNot what: String, _ parse: (String) -> T?) throws -> [T] {
        try text.split(separator: ",").map {
            let item = $0.trimmingCharacters(in: .whitespaces)
            guard let value = parse(item) else { throw ValidationError("\(flag): '\(item)' is not \(what)") }
            return value
        }
    }

    /// The data seeds to run: `--seeds`, else `--seed`.
    func dataSeeds() throws -> [UInt64] {
        guard let seeds else { return [seed] }
        let list = try Self.commaList(seeds, flag: "--seeds", isNot: "a seed (a whole number ≥ 0)") { UInt64($0) }
        guard !list.isEmpty, list.count <= 20, Set(list).count == list.count else {
            throw ValidationError("--seeds: give 1 to 20 different seeds, e.g. 0,1,2")
        }
        return list
    }

    func validate() throws {
        _ = try options()
        _ = try dataSeeds()
    }

    func run() throws {
        try output.run { try hunt() }
    }

    func hunt() throws -> Outcome {
        let o = try options()
        // Under mpirun every rank runs the hunt, its trainings data-parallel; rank 0 checks and writes.
        let cluster = Cluster.world
        _ = try cluster.onRoot {
            try OutputGuard.refuse(folder: out, inputs: [data])
            if !overwrite,
                FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent("report.json"))
            {
                throw FormatError(out, "already holds a hunt (report.json); choose a new --out, or pass --overwrite")
            }
            return Data()
        }
        let seeds = try dataSeeds()
        let table = try FeatureTable.reading([data], quiet: output.quiet)
        let log: (String) -> Void = output.quiet ? { _ in } : { print($0) }
        log(
            "hunting in \(data): \(table.rows) events from \(table.sources.count) file(s)"
                + (table.dropped > 0 ? ", \(table.dropped) without two jets or finite features left out" : ""))
        let started = Date()
        var runs: [[HuntExperiment]] = []
        for (k, s) in seeds.enumerated() {
            var seeded = o
            seeded.seed = s
            let runner = try HuntRunner(table: table, options: seeded)
            runner.log = log
            if cluster.isDistributed { runner.parallel = DataParallel(cluster) }
            if seeds.count > 1 { log("data seed \(s) (\(k + 1)/\(seeds.count))") }
            runs.append(try runner.run())
        }
        let experiments = HuntExperiment.pooled(runs, seeds: seeds)
        if seeds.count > 1 {
            for e in experiments {
                log(
                    String(format: "S/B %.4f, pooled over %d data seeds: ", e.signalOverBackground, seeds.count)
                        + e.results.map {
                            String(format: "%@ %.2f ± %.2f", $0.method.rawValue, $0.maxSICMean, $0.maxSICSpread)
                        }.joined(separator: ", "))
                if let line = e.nullTestLine { log("pooled " + line) }
            }
        }
        guard cluster.isRoot else { throw FollowerDone() }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let files = try HuntReport.write(experiments, options: o, sources: table.sources, folder: out)
        log(String(format: "done in %.0f s; report: %@/report.html", Date().timeIntervalSince(started), out))
        var figures: [String: Double] = [:]
        for e in experiments {
            for r in e.results {
                figures[String(format: "%@_max_sic_sb%.4f", r.method.rawValue, e.signalOverBackground)] = r.maxSICMean
            }
        }
        return Outcome(command: "hunt", out: out, files: files, figures: figures)
    }
}
