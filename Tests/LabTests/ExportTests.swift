import Engine
import Formats
import Foundation
import Lab
import NN
import XCTest

/// What can be checked of the exports without Python: the ONNX protobuf's structure (read back by
/// a reader written here, independent of the writer), names, shapes and metadata; the PyTorch file's
/// keys; and a checkpoint saved by PyTorch with that file, scored by GenLab as PyTorch scored it.
/// (scripts/python/check_export.py runs onnxruntime and torch on the same exports.)
final class ExportTests: XCTestCase {
    /// Fields of one protobuf message: number → values (varints as Int, length-delimited as bytes).
    struct Message {
        var varints: [Int: [Int]] = [:]
        var bytes: [Int: [[UInt8]]] = [:]

        init(_ data: [UInt8]) {
            var i = 0
            func varint() -> UInt64 {
                var v: UInt64 = 0, shift: UInt64 = 0
                while true {
                    let b = data[i]; i += 1; v |= UInt64(b & 0x7F) << shift; if b < 0x80 { return v }; shift += 7
                }
            }
            while i < data.count {
                let key = varint(), field = Int(key >> 3)
                switch key & 7 {
                case 0: varints[field, default: []].append(Int(Int64(bitPattern: varint())))
                case 2: let n = Int(varint()); bytes[field, default: []].append(Array(data[i..<(i + n)])); i += n
                case 5: i += 4
                case 1: i += 8
                default: XCTFail("wire type \(key & 7)"); return
                }
            }
        }

        func string(_ field: Int) -> String? { bytes[field]?.first.map { String(decoding: $0, as: UTF8.self) } }
        func strings(_ field: Int) -> [String] { (bytes[field] ?? []).map { String(decoding: $0, as: UTF8.self) } }
        func messages(_ field: Int) -> [Message] { (bytes[field] ?? []).map(Message.init) }
    }

    static var jetAE: String { AnomalyScorerTests.checkpoint }

    func testTheJetScorerIsAStandardONNXModelWithTheScalingInside() throws {
        let out = scratchFolder("export") + "/scorer.onnx"
        let r = try ONNXExport.export(checkpoint: Self.jetAE, part: nil, to: out)
        XCTAssertEqual(r.part, .scorer)
        let model = Message([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
        XCTAssertEqual(model.varints[1], [8], "IR version")
        let opset = model.messages(8)
        XCTAssertEqual(opset.first?.varints[2], [17])
        let graph = model.messages(7)[0]
        let inputs = graph.messages(11), outputs = graph.messages(12)
        XCTAssertEqual(inputs.map { $0.string(1) }, ["events"])
        XCTAssertEqual(
            outputs.compactMap { $0.string(1) }, ["score", "mse", "mse_pt", "kl", "neg_elbo", "latent_distance"])
        // events: [batch, 25, 25] as the jet files store them.
        let dims = inputs[0].messages(2)[0].messages(1)[0].messages(2)[0].messages(1)
        XCTAssertEqual(dims.map { $0.string(2) ?? "\($0.varints[1]![0])" }, ["batch", "25", "25"])
        let ops = Set(graph.messages(1).compactMap { $0.string(4) })
        XCTAssertTrue(
            ops.isSuperset(of: ["ReduceSum", "Div", "Conv", "ConvTranspose", "Gemm", "ReduceMean"]), "\(ops)")
        // Every weight under its state-dict key.
        let names = Set(graph.messages(5).compactMap { $0.string(8) })
        let keys = try Checkpoint.load(Self.jetAE).model.keys
        XCTAssertTrue(Set(keys).isSubset(of: names), "missing: \(Set(keys).subtracting(names))")
        // Every node input is a graph input, an initializer or an earlier node's output.
        var known = names.union(inputs.compactMap { $0.string(1) })
        for node in graph.messages(1) {
            for i in node.strings(1) { XCTAssertTrue(known.contains(i), "\(node.string(4) ?? ""): unknown input \(i)") }
            known.formUnion(node.strings(2))
        }
        let metadata = Dictionary(uniqueKeysWithValues: model.messages(14).map { ($0.string(1)!, $0.string(2) ?? "") })
        XCTAssertEqual(metadata["genlab.scaling"], "unitSum")
        XCTAssertTrue(metadata["genlab.preprocessing"]?.contains("image_preprocessing") ?? false)
        // The reference file holds the inputs and GenLab's own scores for them.
        let reference = try SafeTensors.read(r.reference).tensors
        XCTAssertEqual(reference["events"]?.shape, [4, 25, 25])
        XCTAssertEqual(reference["score"]?.scalars, reference["mse"]?.scalars)
    }

    func testEveryPartOfAGANExportsAndAWrongPartIsNamed() throws {
        let folder = scratchFolder("export-gan")
        var o = TrainOptions()
        o.epochs = 1; o.batchSize = 20; o.quiet = true; o.maxSteps = 1
        try TrainingSetup.make(
            kind: .gan, data: repositoryRoot + "/Datasets/faces", out: folder, options: o, model: .init()
        ).train()
        let ckpt = folder + "/checkpoint.safetensors"
        for part in [ONNXExport.Part.generator, .discriminator] {
            let r = try ONNXExport.export(checkpoint: ckpt, part: part, to: folder + "/\(part.rawValue).onnx")
            XCTAssertGreaterThan(r.nodes, 5)
        }
        XCTAssertThrowsError(try ONNXExport.export(checkpoint: ckpt, part: .scorer, to: folder + "/x.onnx")) {
            XCTAssertTrue("\($0)".contains("generator, discriminator"), "\($0)")
        }
        let py = folder + "/model.py"
        let r = try PyTorchExport.export(checkpoint: ckpt, to: py)
        XCTAssertEqual(r.className, "GenLabDCGAN")
        let text = try String(contentsOfFile: py, encoding: .utf8)
        for key in try Checkpoint.load(ckpt).model.keys { XCTAssertTrue(text.contains("\"\(key)\""), key) }
        XCTAssertTrue(text.contains("def save_genlab(model, path):"))
    }

    func testACheckpointSavedByPyTorchIsScoredAsPyTorchScoredIt() throws {
        // Fixtures/ae_from_pytorch.safetensors: a jet AE's weights changed in PyTorch and saved with
        // the exported module file's save_genlab; the JSON holds PyTorch's mse for eight QCD jets.
        let fixtures = repositoryRoot + "/Tests/LabTests/Fixtures/"
        let expected =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: fixtures + "ae_from_pytorch.json")))
            as! [String: Any]
        let mse = (expected["mse"] as! [NSNumber]).map(\.doubleValue)
        let scorer = try AnomalyScorer(checkpoint: fixtures + "ae_from_pytorch.safetensors")
        scorer.chunkSize = 8
        let table = try scorer.score(repositoryRoot + "/Datasets/jets/qcd_test.h5")
        for i in 0..<8 { XCTAssertEqual(table.column("mse")[i], mse[i], accuracy: 1e-4 * mse[i], "jet \(i)") }
        XCTAssertNoThrow(try LoadedModel.load(fixtures + "ae_from_pytorch.safetensors"))
    }
}
