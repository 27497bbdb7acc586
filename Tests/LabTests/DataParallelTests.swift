import Foundation
import NN
import XCTest

/// The genlab program and Open MPI's mpirun, for tests that run whole commands on several ranks.
enum Launch {
    /// The genlab built beside this test bundle.
    static let genlab: String? = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return [here.appendingPathComponent("genlab").path, repositoryRoot + "/.build/release/genlab"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
    static let mpirun: String? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    struct Result { var status: Int32; var output: String }

    /// Runs genlab with `arguments`, under `mpirun -np ranks` when ranks is given; killed after
    /// `timeout` seconds (a hang is a failure, not a stuck test run).
    static func run(_ arguments: [String], ranks: Int? = nil, timeout: Double = 300) throws -> Result {
        guard let genlab else { throw XCTSkip("genlab is not built beside the tests") }
        let p = Process()
        if let ranks {
            guard let mpirun else {
                throw XCTSkip("mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
            }
            p.executableURL = URL(fileURLWithPath: mpirun)
            p.arguments =
                (getuid() == 0 ? ["--allow-run-as-root"] : []) + ["--oversubscribe", "-np", String(ranks)]
                + (ProcessInfo.processInfo.environment["GENLAB_THREADS"] != nil ? ["-x", "GENLAB_THREADS"] : []) + [
                    genlab
                ] + arguments
        } else {
            p.executableURL = URL(fileURLWithPath: genlab)
            p.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        env["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"  // containers often forbid the ptrace-based copy
        p.environment = env
        let log = FileManager.default.temporaryDirectory.appendingPathComponent(
            "genlab-launch-\(getpid())-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        p.standardOutput = handle; p.standardError = handle
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate(); usleep(500_000); if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        p.waitUntilExit()
        try handle.close()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: log)
        if Date() >= deadline {
            XCTFail("genlab \(arguments.joined(separator: " ")) ran past \(Int(timeout)) s:\n\(output)")
        }
        return Result(status: p.terminationStatus, output: output)
    }

    /// Runs and fails the test on a non-zero exit.
    @discardableResult
    static func succeed(
        _ arguments: [String], ranks: Int? = nil, file: StaticString = #filePath, line: UInt = #line
    ) throws -> String {
        let r = try run(arguments, ranks: ranks)
        XCTAssertEqual(
            r.status, 0, "genlab \(arguments.joined(separator: " ")) on \(ranks ?? 1) ranks:\n\(r.output)", file: file,
            line: line)
        return r.output
    }
}

/// Data-parallel training under mpirun equals one process with the whole batch.
final class DataParallelTests: XCTestCase {
    let faces = repositoryRoot + "/Datasets/faces"
    let jets = repositoryRoot + "/Datasets/jets"

    /// The largest difference between the two checkpoints' model tensors, relative to each
    /// tensor's scale, and for each tensor the fraction of elements further apart than `far`.
    func compare(_ a: String, _ b: String, far: Float = 1e-5) throws -> (worst: Float, farFraction: Double) {
        let x = try Checkpoint.load(a), y = try Checkpoint.load(b)
        XCTAssertEqual(Set(x.model.keys), Set(y.model.keys))
        var worst: Float = 0, farFraction = 0.0
        for (key, t) in x.model where !key.hasSuffix("num_batches_tracked") {
            guard let u = y.model[key] else { continue }
            let scale = 1 + (t.scalars.map(abs).max() ?? 0)
            let d = zip(t.scalars, u.scalars).map { abs($0 - $1) / scale }
            worst = max(worst, d.max() ?? 0)
            farFraction = max(farFraction, Double(d.filter { $0 > far }.count) / Double(max(d.count, 1)))
        }
        return (worst, farFraction)
    }

    func train(_ kind: String, _ out: String, steps: Int, ranks: Int?, extra: [String] = []) throws {
        try Launch.succeed(
            [
                "train", kind, "--data", faces, "--out", out, "--epochs", "2", "--batch-size", "16",
                "--max-steps", String(steps), "--quiet",
            ] + extra, ranks: ranks)
    }

    func testVAEAndAEOnTwoRanksEqualOneProcessWithTheWholeBatch() throws {
        for kind in ["vae", "ae"] {
            let one = scratchFolder("dp-\(kind)-1"), two = scratchFolder("dp-\(kind)-2")
            try train(kind, one, steps: 3, ranks: nil)
            try train(kind, two, steps: 3, ranks: 2)
            let (worst, _) = try compare(one + "/checkpoint.safetensors", two + "/checkpoint.safetensors")
            XCTAssertLessThan(worst, 1e-5, "\(kind): parameters after 3 steps differ by \(worst)")
            let meta = try Checkpoint.load(two + "/checkpoint.safetensors").metadata
            XCTAssertEqual(meta["genlab.ranks"], "2")
            // The same optimiser state either way (an autoencoder has no unused head whose zero
            // gradients only a data-parallel run would average).
            XCTAssertEqual(
                Set(try Checkpoint.load(one + "/checkpoint.safetensors").optimizer?.keys ?? [:].keys),
                Set(try Checkpoint.load(two + "/checkpoint.safetensors").optimizer?.keys ?? [:].keys), kind)
            let options =
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: two + "/options.json")))
                as? [String: Any]
            XCTAssertEqual(options?["ranks"] as? Int, 2)
            // The reduced losses in metrics.csv are the whole batch's.
            let a = try String(contentsOfFile: one + "/metrics.csv", encoding: .utf8).split(separator: "\n")
            let b = try String(contentsOfFile: two + "/metrics.csv", encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(a.count, b.count)
            for (ra, rb) in zip(a.dropFirst(), b.dropFirst()) {
                let va = ra.split(separator: ",").dropLast().compactMap { Double($0) },
                    vb = rb.split(separator: ",").dropLast().compactMap { Double($0) }
                XCTAssertEqual(va.count, vb.count)
                for (p, q) in zip(va, vb) {
                    XCTAssertEqual(p, q, accuracy: 1e-4 * (1 + abs(p)), "\(kind) metrics \(ra) vs \(rb)")
                }
            }
        }
    }

    func testResumingOnTwoRanksContinuesExactly() throws {
        let one = scratchFolder("dp-resume-1"), two = scratchFolder("dp-resume-2")
        try train("vae", one, steps: 4, ranks: nil)
        try train("vae", two, steps: 2, ranks: 2)
        try train("vae", two, steps: 4, ranks: 2, extra: ["--resume"])
        XCTAssertEqual(try Checkpoint.load(two + "/checkpoint.safetensors").training?.step, 4)
        let (worst, _) = try compare(one + "/checkpoint.safetensors", two + "/checkpoint.safetensors")
        XCTAssertLessThan(worst, 1e-5, "a run resumed on two ranks differs from one uninterrupted process by \(worst)")
    }

    /// BatchNorm makes the GAN's steps depend on how the batch is cut, unless its statistics are
    /// synchronised. Adam's first step is lr·sign(g): the few gradients that are zero up to
    /// rounding may take either sign, so the check is on all but those.
    func testGANWithSynchronisedBatchNormEqualsOneProcess() throws {
        let one = scratchFolder("dp-gan-1"), sync = scratchFolder("dp-gan-sync"), own = scratchFolder("dp-gan-own")
        try train("gan", one, steps: 1, ranks: nil)
        try train("gan", sync, steps: 1, ranks: 2, extra: ["--sync-batchnorm"])
        try train("gan", own, steps: 1, ranks: 2)
        let synced = try compare(one + "/checkpoint.safetensors", sync + "/checkpoint.safetensors")
        let perRank = try compare(one + "/checkpoint.safetensors", own + "/checkpoint.safetensors")
        XCTAssertLessThan(synced.farFraction, 0.01, "synchronised BatchNorm: \(synced)")
        XCTAssertLessThanOrEqual(synced.worst, 2.5 * 2e-4, "differences beyond a sign flip of one Adam step: \(synced)")
        XCTAssertGreaterThan(
            perRank.farFraction, 5 * synced.farFraction, "per-rank statistics should differ: \(perRank) vs \(synced)")
    }

    /// Runs `arguments` (without --out) on one process and on two ranks; the largest relative
    /// difference of the two checkpoints' model tensors.
    func oneAgainstTwoRanks(_ name: String, _ arguments: [String]) throws -> Float {
        let one = scratchFolder("dp-\(name)-1"), two = scratchFolder("dp-\(name)-2")
        for (out, ranks) in [(one, nil), (two, 2)] as [(String, Int?)] {
            try Launch.succeed(arguments + ["--out", out, "--quiet"], ranks: ranks)
        }
        return try compare(one + "/checkpoint.safetensors", two + "/checkpoint.safetensors").worst
    }

    func testTaggerOnTwoRanksEqualsOneProcess() throws {
        let worst = try oneAgainstTwoRanks(
            "tagger",
            [
                "classify", "train", "--signal", jets + "/top_train.h5", "--background", jets + "/qcd_train.h5",
                "--epochs", "1",
            ])
        XCTAssertLessThan(worst, 1e-5, "tagger parameters after one epoch differ by \(worst)")
    }

    /// `train flow` on two ranks equals one process with the whole batch.
    func testFlowOnTwoRanksEqualsOneProcess() throws {
        let worst = try oneAgainstTwoRanks(
            "flow",
            [
                "train", "flow", "--data", repositoryRoot + "/Tests/LabTests/Fixtures/hunt_toy.h5", "--exclude",
                "mjj:3.3:3.7", "--epochs", "1", "--batch-size", "64", "--max-steps", "5",
            ])
        XCTAssertLessThan(worst, 1e-5, "flow parameters after 5 steps differ by \(worst)")
    }

    /// `hunt` on two ranks: the flows and the classifier ensembles train data-parallel, rank 0
    /// alone speaks and writes, and the figures are one process's — the classifiers' to float
    /// tolerance, the flows' (and so CATHODE's and ANODE's) within what a change of thread count
    /// alone moves them on this toy.
    func testHuntTrainsItsFlowsAndClassifiersOverRanks() throws {
        let toy = repositoryRoot + "/Tests/LabTests/Fixtures/hunt_toy.h5"
        let one = scratchFolder("dp-hunt-1"), two = scratchFolder("dp-hunt-2")
        var outputs: [String] = []
        for (out, ranks) in [(one, nil), (two, 2)] as [(String, Int?)] {
            outputs.append(
                try Launch.succeed(
                    [
                        "hunt", "--data", toy, "--signal-fraction", "0.1", "--flow-epochs", "3", "--classifier-epochs",
                        "4", "--classifier-seeds", "1", "--method", "cathode,cwola,iad", "--out", out,
                    ], ranks: ranks))
        }
        XCTAssertEqual(outputs[1].components(separatedBy: "done in").count - 1, 1, outputs[1])
        XCTAssertFalse(outputs[1].contains("rank 0 runs it alone"), outputs[1])
        func experiment(_ folder: String) throws -> [String: Any] {
            let json = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: folder + "/report.json")))
            return try XCTUnwrap(((json as? [String: Any])?["experiments"] as? [[String: Any]])?.first)
        }
        let a = try experiment(one), b = try experiment(two)
        func sic(_ e: [String: Any], _ method: String) -> Double {
            ((e["results"] as? [[String: Any]])?.first { $0["method"] as? String == method }?["maxSICMean"] as? Double)
                ?? .nan
        }
        for method in ["cwola", "iad"] {
            XCTAssertEqual(sic(a, method), sic(b, method), accuracy: 1e-3 * sic(a, method), method)
        }
        XCTAssertEqual(sic(a, "cathode"), sic(b, "cathode"), accuracy: 0.15 * sic(a, "cathode"))
        let nllA = try XCTUnwrap(a["flowValidationNLL"] as? Double),
            nllB = try XCTUnwrap(b["flowValidationNLL"] as? Double)
        XCTAssertEqual(nllA, nllB, accuracy: 0.03)
    }

    /// Sharded scoring: three ranks over three files (whole chunks each, so some ranks take parts
    /// of two files and one none of a file) write what one process writes, byte for byte, with
    /// the same threads per process (GenLab's kernels split reductions by thread count).
    func testShardedScoringWritesWhatOneProcessWrites() throws {
        let model = scratchFolder("dp-score-model"), one = scratchFolder("dp-score-1"),
            three = scratchFolder("dp-score-3")
        try Launch.succeed([
            "train", "ae", "--data", jets + "/qcd_train.h5", "--out", model, "--epochs", "1", "--batch-size", "128",
            "--max-steps", "20", "--quiet",
        ])
        let files = ["qcd_test.h5", "top_test.h5", "lhco_events.h5"].map { jets + "/" + $0 }
        setenv("GENLAB_THREADS", "1", 1)
        defer { unsetenv("GENLAB_THREADS") }
        for (out, ranks) in [(one, nil), (three, 3)] as [(String, Int?)] {
            try Launch.succeed(
                ["score", "--checkpoint", model + "/checkpoint.safetensors"] + files + [
                    "--out", out, "--calibration", files[0],
                ],
                ranks: ranks)
        }
        for name in ["scores.csv", "flagged.csv"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: one + "/" + name)),
                b = try Data(contentsOf: URL(fileURLWithPath: three + "/" + name))
            XCTAssertEqual(a, b, "\(name) differs between one process and three ranks")
        }
        var a =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: one + "/report.json")))
            as! [String: Any]
        var b =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: three + "/report.json")))
            as! [String: Any]
        XCTAssertNil(a["ranks"])
        XCTAssertEqual(b.removeValue(forKey: "ranks") as? Int, 3)
        a["ranks"] = nil
        XCTAssertEqual(
            NSDictionary(dictionary: a), NSDictionary(dictionary: b), "report.json differs beyond the number of ranks")
    }

    /// `symmetry score` shares its decoy batches over the ranks (whole batches, so the same digits;
    /// checked here to 1e-4), `symmetry train` likewise, and `inspect` encodes its data in shards:
    /// the same digits, file for file.
    func testSymmetryScoringAndInspectionShareTheirWorkOverRanks() throws {
        let images = ["koch_snowflake.png", "sierpinski.png", "julia.png"].map {
            repositoryRoot + "/Datasets/symmetry/" + $0
        }
        let one = scratchFolder("dp-sym-1"), two = scratchFolder("dp-sym-2")
        setenv("GENLAB_THREADS", "1", 1)
        defer { unsetenv("GENLAB_THREADS") }
        for (out, ranks) in [(one, nil), (two, 2)] as [(String, Int?)] {
            try Launch.succeed(["symmetry", "score"] + images + ["--seeds", "2", "--out", out], ranks: ranks)
        }
        // By default fits stop once a verdict is settled: every rank must stop the same images alike.
        let early1 = scratchFolder("dp-sym-early-1"), early2 = scratchFolder("dp-sym-early-2")
        for (out, ranks) in [(early1, nil), (early2, 2)] as [(String, Int?)] {
            try Launch.succeed(["symmetry", "score"] + images + ["--out", out], ranks: ranks)
        }
        func scores(_ folder: String) throws -> [[String: Any]] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/scores.json")))
                as! [[String: Any]]
        }
        let a = try scores(one), b = try scores(two)
        XCTAssertEqual(a.count, 3); XCTAssertEqual(b.count, 3)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x["symmetry"] as? String, y["symmetry"] as? String)
            XCTAssertEqual(x["score"] as! Double, y["score"] as! Double, accuracy: 1e-4)
            XCTAssertEqual(x["epsilon"] as! Double, y["epsilon"] as! Double, accuracy: 1e-4)
        }
        for (x, y) in zip(try scores(early1), try scores(early2)) {
            XCTAssertEqual(x["seeds"] as? Int, y["seeds"] as? Int, "fits per image on one process and two ranks")
            XCTAssertEqual(x["mostLikely"] as? String, y["mostLikely"] as? String)
            XCTAssertEqual(x["score"] as! Double, y["score"] as! Double, accuracy: 1e-4)
        }
        // symmetry train shares its decoy batches whole: the same checkpoint, byte for byte.
        let t1 = scratchFolder("dp-symtrain-1"), t2 = scratchFolder("dp-symtrain-2")
        for (out, ranks) in [(t1, nil), (t2, 2)] as [(String, Int?)] {
            try Launch.succeed(
                [
                    "symmetry", "train", "--per-class", "4", "--validation-per-class", "2", "--held-out-per-class", "2",
                    "--held-out-seeds", "1", "--sweeps-per-class", "0", "--training-sweeps-per-class", "0", "--epochs",
                    "2",
                    "--decoy-steps", "20", "--quiet", "--out", out,
                ], ranks: ranks)
        }
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: t1 + "/checkpoint.safetensors")),
            try Data(contentsOf: URL(fileURLWithPath: t2 + "/checkpoint.safetensors")), "symmetry train on two ranks")
        let model = scratchFolder("dp-inspect-model"), i1 = scratchFolder("dp-inspect-1"),
            i2 = scratchFolder("dp-inspect-2")
        try Launch.succeed([
            "train", "vae", "--data", jets + "/qcd_train.h5", "--out", model, "--epochs", "1", "--max-steps", "10",
            "--quiet",
        ])
        for (out, ranks) in [(i1, nil), (i2, 2)] as [(String, Int?)] {
            try Launch.succeed(
                [
                    "inspect", "--checkpoint", model + "/checkpoint.safetensors", "--data", jets + "/qcd_test.h5",
                    "--data", jets + "/top_test.h5", "--out", out,
                ], ranks: ranks)
        }
        for name in ["latent_dimensions.csv", "correlations.csv", "latent_activity.csv"] {
            XCTAssertEqual(
                try Data(contentsOf: URL(fileURLWithPath: i1 + "/" + name)),
                try Data(contentsOf: URL(fileURLWithPath: i2 + "/" + name)),
                "\(name) differs between one process and two ranks")
        }
    }

    func testABadFileOnOneRankStopsEveryRankWithItsName() throws {
        let model = scratchFolder("dp-bad-model"), out = scratchFolder("dp-bad-out")
        try Launch.succeed([
            "train", "ae", "--data", jets + "/qcd_train.h5", "--out", model, "--epochs", "1", "--max-steps", "2",
            "--quiet",
        ])
        let missing = scratchFolder("dp-bad-missing") + ".h5"
        let r = try Launch.run(
            ["score", "--checkpoint", model + "/checkpoint.safetensors", jets + "/qcd_test.h5", missing, "--out", out],
            ranks: 2, timeout: 120)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains(missing), r.output)
    }

    /// SIGINT to the ranks (Ctrl-C at a terminal reaches only mpirun, which kills them): every
    /// rank stops at the same step, rank 0 saves there, and --resume continues exactly.
    func testInterruptingTheRanksSavesTheStepAndResumes() throws {
        guard let mpirun = Launch.mpirun, let genlab = Launch.genlab else { throw XCTSkip("mpirun or genlab missing") }
        let out = scratchFolder("dp-interrupt"), reference = scratchFolder("dp-interrupt-ref")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: mpirun)
        p.arguments =
            (getuid() == 0 ? ["--allow-run-as-root"] : []) + [
                "--oversubscribe", "-np", "2", genlab, "train", "vae", "--data", faces,
                "--out", out, "--epochs", "100000", "--batch-size", "16", "--quiet",
            ]
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait for the first epoch's checkpoint, then interrupt both ranks (mpirun's children).
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: out + "/checkpoint.safetensors") && Date() < deadline
            && p.isRunning
        { usleep(50_000) }
        usleep(300_000)
        let ranks = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
            .filter { pid in
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                    let close = stat.lastIndex(of: ")")
                else { return false }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                return fields.count > 2 && Int32(fields[1]) == p.processIdentifier && stat.contains("(genlab)")
            }
        XCTAssertEqual(ranks.count, 2, "the two ranks under mpirun")
        for pid in ranks { kill(pid, SIGINT) }
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { p.terminate(); XCTFail("the interrupted run did not stop"); return }
        let saved = try XCTUnwrap(try Checkpoint.load(out + "/checkpoint.safetensors").training)
        XCTAssertNotEqual(
            saved.extra["batch"], "0", "the checkpoint is of the interrupted step, not of an epoch's end: \(saved)")
        // Resuming to a few steps further equals an uninterrupted run on two ranks, exactly.
        let target = saved.step + 3
        try Launch.succeed(
            [
                "train", "vae", "--data", faces, "--out", out, "--epochs", "100000", "--batch-size", "16", "--quiet",
                "--resume", "--max-steps", String(target),
            ], ranks: 2)
        try Launch.succeed(
            [
                "train", "vae", "--data", faces, "--out", reference, "--epochs", "100000", "--batch-size", "16",
                "--quiet",
                "--max-steps", String(target),
            ], ranks: 2)
        let (worst, _) = try compare(reference + "/checkpoint.safetensors", out + "/checkpoint.safetensors")
        XCTAssertEqual(worst, 0, "interrupted and resumed vs uninterrupted, both on two ranks, after \(target) steps")
    }

    /// A command that does not share its work runs once, on rank 0, saying so (not once a rank,
    /// racing on its output file).
    func testACommandThatDoesNotShareItsWorkRunsOnRankZeroAlone() throws {
        let model = scratchFolder("dp-alone-model"), grid = scratchFolder("dp-alone") + ".png"
        try train("gan", model, steps: 1, ranks: nil)
        let r = try Launch.run(
            ["sample", "--checkpoint", model + "/checkpoint.safetensors", "--count", "4", "--out", grid], ranks: 2,
            timeout: 120)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertEqual(r.output.components(separatedBy: "rank 0 runs it alone").count - 1, 1, r.output)
        XCTAssertEqual(r.output.components(separatedBy: "wrote ").count - 1, 1, r.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: grid))
    }

    func testAFolderRefusedOnRankZeroStopsEveryRankWithOneMessage() throws {
        let out = scratchFolder("dp-refused")
        try train("vae", out, steps: 1, ranks: nil)
        let r = try Launch.run(
            ["train", "vae", "--data", faces, "--out", out, "--epochs", "1", "--quiet"], ranks: 2, timeout: 120)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.output.components(separatedBy: "holds a training run already").count - 1, 1, r.output)
    }
}

/// Training and scoring over network namespaces joined by veth pairs: real TCP between "hosts"
/// (scripts/mpi_netns.sh, which checks both against one process). Skipped where the machine does
/// not allow namespaces (not root, or a sandbox without them), with the script's reason.
final class MultiHostTests: XCTestCase {
    func testTrainingAndScoringAcrossNetworkNamespaces() throws {
        guard let genlab = Launch.genlab else { throw XCTSkip("genlab is not built beside the tests") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [repositoryRoot + "/scripts/mpi_netns.sh", genlab]
        p.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot)
        let pipe = Pipe()
        p.standardOutput = pipe; p.standardError = pipe
        try p.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if p.terminationStatus == 77 { throw XCTSkip(output.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(p.terminationStatus, 0, output)
        XCTAssertTrue(output.contains("mpi_netns: passed"), output)
    }
}
