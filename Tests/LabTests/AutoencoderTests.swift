import Engine
import Formats
import Foundation
import Lab
import Models
import NN
import XCTest

/// The plain autoencoder is its own model: no log-variance head, its own figures, and checkpoints
/// from when it carried the head still load, score, export and resume.
final class AutoencoderTests: XCTestCase {
    let faces = repositoryRoot + "/Datasets/faces"

    func options(maxSteps: Int? = nil, keepBest: String? = nil) -> TrainOptions {
        var o = TrainOptions()
        o.epochs = 2; o.batchSize = 20; o.seed = 3; o.quiet = true; o.maxSteps = maxSteps; o.keepBest = keepBest
        return o
    }

    func testAnAutoencoderHasNoLogVarianceHeadAndTheVAEsOtherWeights() {
        var a = PRNG(seed: 5), b = PRNG(seed: 5)
        let ae = VAE(VAE.Config(imageSize: 16, channels: 1, latentDim: 4, plain: true), rng: &a)
        let vae = VAE(VAE.Config(imageSize: 16, channels: 1, latentDim: 4), rng: &b)
        XCTAssertNil(ae.logVar)
        let aeKeys = Set(ae.stateDict().keys), vaeKeys = Set(vae.stateDict().keys)
        XCTAssertEqual(vaeKeys.subtracting(aeKeys), ["logVar.weight", "logVar.bias"])
        for (k, t) in ae.stateDict() { XCTAssertEqual(t.scalars, vae.stateDict()[k]!.scalars, k) }
        var rng = PRNG(seed: 6)
        let x = Tensor.uniform([3, 1, 16, 16], rng: &rng)
        let (code, logVar) = noGrad { ae.encode(x) }
        XCTAssertNil(logVar)
        let t = noGrad { ae.terms(x, rng: &rng) }
        XCTAssertEqual(t.kl.scalars, [0, 0, 0])
        XCTAssertEqual(t.mu.scalars, code.scalars, "an autoencoder decodes its code, not a draw around it")
    }

    /// A run logs loss and val_loss (no β, KL or ELBO); its checkpoint has no log-variance weights.
    func testAnAutoencoderRunLogsItsOwnFiguresAndKeepsNoUnusedWeights() throws {
        let out = scratchFolder("ae-own")
        try TrainingSetup.make(
            kind: .ae, data: faces, out: out, options: options(keepBest: "val_loss"), model: .init()
        ).train()
        let header = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8).split(separator: "\n")[0]
        let columns = header.split(separator: ",").map(String.init)
        XCTAssertTrue(columns.contains("loss") && columns.contains("val_loss"), "\(columns)")
        for name in ["beta", "kl", "val_neg_elbo", "val_kl", "reconstruction"] {
            XCTAssertFalse(columns.contains(name), "\(name) in \(columns)")
        }
        let ckpt = try Checkpoint.load(out + "/checkpoint.safetensors")
        XCTAssertFalse(ckpt.model.keys.contains { $0.hasPrefix("logVar.") }, "\(ckpt.model.keys.sorted())")
        XCTAssertFalse(ckpt.optimizer?.keys.contains { $0.hasPrefix("logVar.") } ?? false)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/best.safetensors"))
    }

    /// An autoencoder checkpoint written while it still carried the head (and a metrics.csv with a
    /// VAE's columns): it loads, scores as before, and resumes to the same weights as an unbroken run.
    func testACheckpointFromBeforeStillLoadsAndResumes() throws {
        let straight = scratchFolder("ae-straight"), old = scratchFolder("ae-old")
        try TrainingSetup.make(kind: .ae, data: faces, out: straight, options: options(), model: .init()).train()
        try TrainingSetup.make(kind: .ae, data: faces, out: old, options: options(maxSteps: 3), model: .init())
            .train()
        // Make it look as the old version wrote it: the unused head, and a VAE's metrics columns.
        let path = old + "/checkpoint.safetensors"
        var ckpt = try Checkpoint.load(path)
        var rng = PRNG(seed: 9)
        let head = try XCTUnwrap(ckpt.model["mu.weight"]).shape
        ckpt.model["logVar.weight"] = Tensor.normal(head, rng: &rng)
        ckpt.model["logVar.bias"] = Tensor.zeros([head[0]])
        try ckpt.save(to: path)
        let metrics = old + "/metrics.csv"
        let rows = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n")
        let header = rows[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let oldHeader = header.map {
            $0 == "loss" ? "loss,reconstruction,kl,beta" : $0 == "val_loss" ? "val_neg_elbo" : $0
        }
        var text = oldHeader.joined(separator: ",") + "\n"
        for row in rows.dropFirst() {
            let cells = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            text += zip(header, cells).map { $0 == "loss" ? "\($1),\($1),0,1" : $1 }.joined(separator: ",") + "\n"
        }
        try text.write(toFile: metrics, atomically: true, encoding: .utf8)

        guard case let .vae(model, _) = try LoadedModel.load(path) else { return XCTFail("not an autoencoder") }
        XCTAssertNil(model.logVar)
        try TrainingSetup.make(kind: .ae, data: faces, out: old, options: options(), model: .init())
            .train(resume: true)
        let a = try Checkpoint.load(straight + "/checkpoint.safetensors").model
        let b = try Checkpoint.load(path).model
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (k, t) in a { XCTAssertEqual(t.scalars, b[k]!.scalars, "\(k) differs after resuming an old run") }
        // The kept rows sit under their names: the loss column of the straight run, row for row.
        func column(_ file: String, _ name: String) throws -> [Substring] {
            let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
            let i = try XCTUnwrap(lines[0].split(separator: ",").firstIndex(of: Substring(name)))
            return lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false)[i] }
        }
        XCTAssertEqual(try column(straight + "/metrics.csv", "loss"), try column(metrics, "loss"))
    }

    /// `--keep-best val_neg_elbo`, an autoencoder's old name for its held-out loss, keeps working
    /// with a note naming the new one (not under --quiet, which leaves errors alone on stderr).
    func testKeepBestTakesTheOldNameWithANote() throws {
        let out = scratchFolder("ae-keep-best")
        let r = try Launch.run([
            "train", "ae", "--data", faces, "--out", out, "--epochs", "1", "--batch-size", "50",
            "--keep-best", "val_neg_elbo",
        ])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("--keep-best val_neg_elbo for an autoencoder is deprecated"), r.output)
        XCTAssertTrue(r.output.contains("use --keep-best val_loss"), r.output)
        let record = try String(contentsOfFile: out + "/best.json", encoding: .utf8)
        XCTAssertTrue(record.contains("val_loss"), record)
    }
}
