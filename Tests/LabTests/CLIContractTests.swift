import Foundation
import XCTest

/// The command line as users' scripts call it: every command's flags (--json, --quiet, --out,
/// help and defaults for each), runtime errors as one line and exit 1, --json as one object on
/// stdout, --quiet as nothing, old spellings working with a note, and --config replaying a run.
final class CLIContractTests: XCTestCase {
    struct Output { var status: Int32; var stdout: String; var stderr: String }

    /// Runs genlab with stdout and stderr apart.
    func genlab(_ arguments: [String], timeout: Double = 300) throws -> Output {
        guard let genlab = Launch.genlab else { throw XCTSkip("genlab is not built beside the tests") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: genlab)
        p.arguments = arguments
        let folder = scratchFolder("cli-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: folder + "/out", contents: nil)
        FileManager.default.createFile(atPath: folder + "/err", contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/err"))
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        try out.close()
        try err.close()
        return Output(
            status: p.terminationStatus,
            stdout: try String(contentsOfFile: folder + "/out", encoding: .utf8),
            stderr: try String(contentsOfFile: folder + "/err", encoding: .utf8))
    }

    /// Every leaf command from ArgumentParser's own description of the tool.
    func leafCommands() throws -> [(String, [[String: Any]])] {
        let r = try genlab(["--experimental-dump-help"])
        XCTAssertEqual(r.status, 0)
        let root =
            try XCTUnwrap(
                try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])["command"]
            as? [String: Any]
        var leaves: [(String, [[String: Any]])] = []
        func walk(_ c: [String: Any], _ path: [String]) {
            let subs = ((c["subcommands"] as? [[String: Any]]) ?? []).filter { $0["commandName"] as? String != "help" }
            if subs.isEmpty { leaves.append((path.joined(separator: " "), (c["arguments"] as? [[String: Any]]) ?? [])) }
            for s in subs { walk(s, path + [s["commandName"] as! String]) }
        }
        walk(try XCTUnwrap(root), [])
        return leaves
    }

    func testEveryCommandHasJSONQuietOutAndHelpWithDefaults() throws {
        let leaves = try leafCommands()
        XCTAssertGreaterThanOrEqual(leaves.count, 18)
        for (command, arguments) in leaves {
            let shown = arguments.filter { ($0["shouldDisplay"] as? Bool) ?? true }
            let names = Set(
                shown.flatMap { (($0["names"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String } })
            for flag in ["json", "quiet", "out"] {
                XCTAssertTrue(names.contains(flag), "genlab \(command) has no --\(flag)")
            }
            for a in shown {
                let name = (a["valueName"] as? String) ?? "?"
                let help = ((a["abstract"] as? String) ?? "") + ((a["discussion"] as? String) ?? "")
                XCTAssertFalse(help.isEmpty, "genlab \(command): --\(name) has no help text")
                if a["kind"] as? String == "option", a["isOptional"] as? Bool == true, a["defaultValue"] == nil {
                    XCTAssertTrue(
                        help.lowercased().contains("default"), "genlab \(command): --\(name) shows no default")
                }
            }
        }
    }

    func testRuntimeErrorsAreOneLineAndExit1() throws {
        let missing = "/nonexistent/model.safetensors"
        let cases: [[String]] = [
            ["sample", "--checkpoint", missing, "--out", scratchFolder("cli-sample")],
            ["interpolate", "--checkpoint", missing, "--out", scratchFolder("cli-walk")],
            ["export", "--checkpoint", missing, "--out", scratchFolder("cli-export")],
            ["explore", "--checkpoint", missing, "--port", "0"],
            ["data", "describe", "/nonexistent/data.h5"],
            ["train", "--config", "/nonexistent/options.json", "--out", scratchFolder("cli-config")],
        ]
        for arguments in cases {
            let r = try genlab(arguments)
            let what = "genlab " + arguments.joined(separator: " ")
            XCTAssertEqual(r.status, 1, "\(what): \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(what) printed: \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("/nonexistent/"), "\(what) does not name the file: \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("USAGE"), "\(what) dumps usage for a runtime error")
        }
        // A usage error still exits 64 with the usage.
        let usage = try genlab(["sample", "--count", "0", "--checkpoint", missing, "--out", "x"])
        XCTAssertEqual(usage.status, 64)
        XCTAssertTrue(usage.stderr.contains("--count"))
        let typo = try genlab(["trian"])
        XCTAssertEqual(typo.status, 64)
        XCTAssertTrue(typo.stderr.contains("did you mean 'train'"), typo.stderr)
    }

    func testInputsAreAlsoDataFlags() throws {
        let faces = repositoryRoot + "/Datasets/faces"
        // --data beside the positional spelling, on the commands that take files positionally.
        let described = try genlab(["data", "describe", "--data", faces, "--json"])
        XCTAssertEqual(described.status, 0, described.stderr)
        XCTAssertTrue(described.stdout.contains(faces))
        let preview = try genlab(["data", "preview", "--data", faces, "--out", scratchFolder("cli-data-flag")])
        XCTAssertEqual(preview.status, 0, preview.stderr)
        let both = try genlab(["data", "describe", faces, "--data", faces])
        XCTAssertEqual(both.status, 64)
        XCTAssertTrue(both.stderr.contains("not both"), both.stderr)
        let jets = repositoryRoot + "/Datasets/jets/top_test.h5"
        let scored = try genlab([
            "score", "--checkpoint", AnomalyScorerTests.checkpoint, "--data", jets, "--out", scratchFolder("cli-score"),
            "--json",
        ])
        XCTAssertEqual(scored.status, 0, scored.stderr)
        let none = try genlab(["score", "--checkpoint", AnomalyScorerTests.checkpoint, "--out", scratchFolder("s")])
        XCTAssertEqual(none.status, 64)
        XCTAssertTrue(none.stderr.contains("--data FILE"), none.stderr)
    }

    /// --first-decoy-seed: bounded, and refused where it would mean nothing (drawn templates).
    func testFirstDecoySeedIsCheckedBeforeAnyWork() throws {
        let face = repositoryRoot + "/Datasets/faces/face_000.png"
        let huge = try genlab([
            "symmetry", "score", face, "--first-decoy-seed", "2000000000", "--out", scratchFolder("s"),
        ])
        XCTAssertEqual(huge.status, 64)
        XCTAssertTrue(huge.stderr.contains("--first-decoy-seed"), huge.stderr)
        let templates = try genlab(["symmetry", "evaluate", "--first-decoy-seed", "3", "--out", scratchFolder("e")])
        XCTAssertEqual(templates.status, 64)
        XCTAssertTrue(templates.stderr.contains("--images"), templates.stderr)
    }

    func testJSONIsOneObjectOnStdoutAndQuietIsSilent() throws {
        let faces = repositoryRoot + "/Datasets/faces"
        let described = try genlab(["data", "describe", faces, "--json"])
        XCTAssertEqual(described.status, 0, described.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(described.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["path"] as? String, faces)
        let folder = scratchFolder("cli-preview")
        let preview = try genlab(["data", "preview", faces, "--out", folder, "--count", "8", "--json"])
        XCTAssertEqual(preview.status, 0, preview.stderr)
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(preview.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(result["files"] as? [String], [folder + "/preview.png"])
        XCTAssertTrue(preview.stderr.contains("wrote"), "the human line goes to stderr under --json")
        let quiet = try genlab(["data", "preview", faces, "--out", scratchFolder("cli-quiet"), "--quiet"])
        XCTAssertEqual(quiet.status, 0)
        XCTAssertEqual(quiet.stdout, "")
        XCTAssertEqual(quiet.stderr, "")
        // The old spelling (a PNG file) works, with a note.
        let file = scratchFolder("cli-old") + ".png"
        let old = try genlab(["data", "preview", faces, "--out", file, "--count", "4"])
        XCTAssertEqual(old.status, 0, old.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: file))
        XCTAssertTrue(old.stderr.contains("deprecated"), old.stderr)
        // …and under --quiet without one: stderr carries errors alone.
        let quietOld = try genlab(["data", "preview", faces, "--out", scratchFolder("cli-old-q") + ".png", "--quiet"])
        XCTAssertEqual(quietOld.status, 0, quietOld.stderr)
        XCTAssertEqual(quietOld.stderr, "")
    }

    /// A flow run's options.json (its `flow` section: features, context, cuts, margin) replays the
    /// same flow; a malformed cut is refused by its key.
    func testConfigReplaysAFlowRun() throws {
        let toy = repositoryRoot + "/Tests/LabTests/Fixtures/hunt_toy.h5"
        let first = scratchFolder("cli-flow-a"), second = scratchFolder("cli-flow-b")
        let trained = try genlab([
            "train", "flow", "--data", toy, "--exclude", "mjj:3.3:3.7", "--context", "mjj", "--blocks", "2",
            "--logit-margin", "0.01", "--epochs", "1", "--max-steps", "3", "--out", first, "--quiet",
        ])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let replayed = try genlab(["train", "--config", first + "/options.json", "--out", second, "--quiet"])
        XCTAssertEqual(replayed.status, 0, replayed.stderr)
        let a = try Data(contentsOf: URL(fileURLWithPath: first + "/checkpoint.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: second + "/checkpoint.safetensors"))
        XCTAssertEqual(a, b, "a replayed flow run ends with the same checkpoint")
        XCTAssertEqual(
            try String(contentsOfFile: first + "/options.json", encoding: .utf8),
            try String(contentsOfFile: second + "/options.json", encoding: .utf8))
        let bad = scratchFolder("cli-flow-bad") + ".json"
        try Data(#"{"kind": "flow", "data": "\#(toy)", "flow": {"exclude": [{"column": "mjj"}]}}"#.utf8).write(
            to: URL(fileURLWithPath: bad))
        let refused = try genlab(["train", "--config", bad, "--out", scratchFolder("cli-flow-c")])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("'flow.exclude'"), refused.stderr)
    }

    /// `train --data A --data B` records both in options.json, which replays them; a --data typed
    /// beside --config replaces the file's sources instead of adding to them.
    func testRepeatedDataTrainsOnEverySourceAndReplays() throws {
        let faces = repositoryRoot + "/Datasets/faces"
        let first = scratchFolder("cli-sources-a")
        let trained = try genlab([
            "train", "ae", "--data", faces, "--data", faces, "--out", first, "--epochs", "1", "--max-steps", "1",
            "--arch", "mlp", "--quiet",
        ])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        func recorded(_ run: String) throws -> Any? {
            let object = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: run + "/options.json")))
            return (object as? [String: Any])?["data"]
        }
        XCTAssertEqual(try recorded(first) as? [String], [faces, faces])
        let data = try String(contentsOfFile: first + "/data.json", encoding: .utf8)
        XCTAssertTrue(data.contains(" + "), data)
        let second = scratchFolder("cli-sources-b")
        let replayed = try genlab(["train", "--config", first + "/options.json", "--out", second, "--quiet"])
        XCTAssertEqual(replayed.status, 0, replayed.stderr)
        XCTAssertEqual(try recorded(second) as? [String], [faces, faces])
        let third = scratchFolder("cli-sources-c")
        let typed = try genlab([
            "train", "--config", first + "/options.json", "--data", faces, "--out", third, "--quiet",
        ])
        XCTAssertEqual(typed.status, 0, typed.stderr)
        XCTAssertEqual(try recorded(third) as? String, faces, "one source is written as before: a string")
        let none = try genlab(["train", "vae", "--out", scratchFolder("cli-sources-d")])
        XCTAssertEqual(none.status, 64)
        XCTAssertTrue(none.stderr.contains("--data"), none.stderr)
    }

    func testConfigReplaysARun() throws {
        let faces = repositoryRoot + "/Datasets/faces"
        let first = scratchFolder("cli-run-a"), second = scratchFolder("cli-run-b")
        let trained = try genlab([
            "train", "vae", "--data", faces, "--out", first, "--epochs", "2", "--latent-dim", "4", "--arch", "mlp",
            "--hidden", "32", "--lr-schedule", "cosine", "--warmup-steps", "1", "--grad-clip", "2", "--quiet",
        ])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertEqual(trained.stdout, "")
        let replayed = try genlab(["train", "--config", first + "/options.json", "--out", second, "--json"])
        XCTAssertEqual(replayed.status, 0, replayed.stderr)
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(replayed.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(result["command"] as? String, "train")
        let a = try Data(contentsOf: URL(fileURLWithPath: first + "/checkpoint.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: second + "/checkpoint.safetensors"))
        XCTAssertEqual(a, b, "a replayed run ends with the same checkpoint")
        // A typed flag wins over the file's; an unknown key is refused by name.
        let third = scratchFolder("cli-run-c")
        let overridden = try genlab(["train", "--config", first + "/options.json", "--out", third, "--epochs", "1"])
        XCTAssertEqual(overridden.status, 0, overridden.stderr)
        let options = try String(contentsOfFile: third + "/options.json", encoding: .utf8)
        XCTAssertTrue(options.contains("\"epochs\" : 1"), options)
        // The same run written as TOML, with the flags' own names and a [model] table, replays it too.
        let toml = scratchFolder("cli-run-toml") + ".toml"
        let tomlText = """
            # a hand-written run config
            kind = "vae"
            data = "\(faces)"
            epochs = 2
            latent-dim = 4
            lr-schedule = "cosine"
            warmup-steps = 1
            grad-clip = 2.0

            [model]
            architecture = "mlp"
            hidden = [32]
            """
        try Data(tomlText.utf8).write(to: URL(fileURLWithPath: toml))
        let fromTOML = scratchFolder("cli-run-e")
        let tomlRun = try genlab(["train", "--config", toml, "--out", fromTOML, "--quiet"])
        XCTAssertEqual(tomlRun.status, 0, tomlRun.stderr)
        let c = try Data(contentsOf: URL(fileURLWithPath: fromTOML + "/checkpoint.safetensors"))
        XCTAssertEqual(a, c, "a TOML config replays the same run")
        try Data("epochs = = 2\n".utf8).write(to: URL(fileURLWithPath: toml))
        let broken = try genlab(["train", "--config", toml, "--out", scratchFolder("cli-run-f")])
        XCTAssertEqual(broken.status, 1)
        XCTAssertTrue(broken.stderr.contains("is not valid TOML") && broken.stderr.contains("line 1"), broken.stderr)
        let bad = scratchFolder("cli-bad") + ".json"
        try Data(#"{"kind": "vae", "epoch": 3}"#.utf8).write(to: URL(fileURLWithPath: bad))
        let refused = try genlab(["train", "--config", bad, "--out", scratchFolder("cli-run-d")])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("'epoch'"), refused.stderr)
    }
}
