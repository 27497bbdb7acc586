import Datasets
import Engine
import Formats
import Foundation
import Lab
import Models
import NN
import XCTest

/// Class-conditional GANs and VAEs: labels from class sub-folders and IDX label files, models that
/// draw the class they are asked for, and the class carried by the checkpoint to sample and export.
final class ConditionalModelTests: XCTestCase {
    /// Two classes of 16×16 grey images: class "bottom" bright below the middle, "top" bright above it,
    /// with a little seeded noise (classes sorted by name: bottom = 0, top = 1).
    static func halves(count: Int, seed: UInt64) -> (Tensor, [Int]) {
        var rng = PRNG(seed: seed)
        let noise = Tensor.uniform([count, 1, 16, 16], rng: &rng).scalars
        var data = [Float](repeating: 0, count: count * 256), labels: [Int] = []
        for i in 0..<count {
            let label = i % 2
            labels.append(label)
            for y in 0..<16 {
                let bright = label == 1 ? y < 8 : y >= 8
                for x in 0..<16 {
                    data[i * 256 + y * 16 + x] = (bright ? 0.8 : 0.1) + 0.15 * noise[i * 256 + y * 16 + x]
                }
            }
        }
        return (Tensor(shape: [count, 1, 16, 16], data: data), labels)
    }

    /// The same images as a folder of class sub-folders (`bottom/`, `top/`).
    static func classFolder(_ name: String, count: Int = 64) throws -> String {
        let folder = scratchFolder(name)
        let (images, labels) = halves(count: count, seed: 7)
        for i in 0..<count {
            let sub = folder + "/" + (labels[i] == 1 ? "top" : "bottom")
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            let one = images.slice(axis: 0, start: i, end: i + 1).reshape([1, 16, 16]).detach()
            try Image(tensor: one).writePNG(sub + String(format: "/%03d.png", i))
        }
        return folder
    }

    /// The fraction of images whose bright half is the one their class says (top for class 1).
    static func agreement(_ images: Tensor, labels: [Int]) -> Double {
        let n = images.shape[0], p = images.scalars
        var right = 0
        for i in 0..<n {
            var top: Float = 0, bottom: Float = 0
            for y in 0..<16 {
                for x in 0..<16 {
                    if y < 8 { top += p[i * 256 + y * 16 + x] } else { bottom += p[i * 256 + y * 16 + x] }
                }
            }
            if (top > bottom) == (labels[i] == 1) { right += 1 }
        }
        return Double(right) / Double(n)
    }

    func testAFolderOfClassSubFoldersIsLabelledAndAFlatFolderIsNot() throws {
        let folder = try Self.classFolder("classes", count: 10)
        let set = try ImageSet.load(folder)
        XCTAssertEqual(set.classNames, ["bottom", "top"])
        // Files sorted by path: bottom/000 … bottom/008, then top/001 … top/009.
        XCTAssertEqual(set.labels, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        XCTAssertEqual(Self.agreement(set.images, labels: set.labels!), 1)
        // One image at the top level: not the ImageFolder layout, so no labels (and --conditional says why).
        try Image(width: 16, height: 16, channels: 1, pixels: Array(repeating: 0.5, count: 256)).writePNG(
            folder + "/loose.png")
        let flat = try ImageSet.load(folder)
        XCTAssertNil(flat.labels)
        XCTAssertThrowsError(try flat.requireClasses(for: "--conditional")) {
            XCTAssertTrue("\($0)".contains("class sub-folders"), "\($0)")
        }
    }

    func testAnIDXImageFileIsPairedWithItsLabelFile() throws {
        let folder = scratchFolder("idx")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func idx(_ shape: [Int], _ bytes: [UInt8]) -> Data {
            var d = Data([0, 0, 0x08, UInt8(shape.count)])
            for s in shape { d.append(contentsOf: [0, 0, UInt8(s >> 8), UInt8(s & 255)]) }
            d.append(contentsOf: bytes)
            return d
        }
        let images = folder + "/toy-images-idx3-ubyte"
        try idx([3, 8, 8], (0..<192).map { UInt8($0) }).write(to: URL(fileURLWithPath: images))
        try idx([3], [2, 0, 1]).write(to: URL(fileURLWithPath: folder + "/toy-labels-idx1-ubyte"))
        let set = try ImageSet.load(images)
        XCTAssertEqual(set.labels, [2, 0, 1])
        XCTAssertEqual(set.classes, ["0", "1", "2"])
        // A label file for other images is named, not silently cut.
        try idx([2], [0, 1]).write(to: URL(fileURLWithPath: folder + "/toy-labels-idx1-ubyte"))
        XCTAssertThrowsError(try ImageSet.load(images)) {
            XCTAssertTrue("\($0)".contains("toy-labels-idx1-ubyte") && "\($0)".contains("3 images"), "\($0)")
        }
    }

    func testAnHDF5FileLabelsImagesByClassAndJetImagesBySignal() throws {
        let folder = scratchFolder("h5-classes")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/images.h5"
        try HDF5File.write(to: path) { f in
            try f.write("/images", Tensor.full([4, 8, 8], 0.5))
            try f.write("/labels", Tensor(shape: [4], data: [3, 0, 9, 3]))
        }
        let set = try ImageSet.load(path)
        XCTAssertEqual(set.labels, [3, 0, 9, 3])
        XCTAssertEqual(set.classes?.count, 10)
        try HDF5File.write(to: path) { f in
            try f.write("/images", Tensor.full([4, 8, 8], 0.5))
            try f.write("/labels", Tensor(shape: [4], data: [0, 0.5, 1, 1]))
        }
        XCTAssertThrowsError(try ImageSet.load(path)) {
            XCTAssertTrue("\($0)".contains("/labels[1] is 0.5"), "\($0)")
        }
    }

    func testAConditionalVAEDecodesTheClassItIsGiven() throws {
        let (x, labels) = Self.halves(count: 128, seed: 1)
        var set = ImageSet(images: x, labels: labels, source: "halves")
        set.classNames = ["bottom", "top"]
        var spec = DataSpec(source: "halves", imageSize: 16, channels: 1, scaling: .zeroToOne)
        spec.classNames = set.classNames
        var c = VAE.Config(imageSize: 16, channels: 1, latentDim: 4, architecture: .mlp, hidden: [64])
        c.classes = 2
        let task = VAETask(c, images: TrainingImages(set, spec: spec), lr: 3e-3, seed: 0, validation: nil)
        var noise = PRNG(seed: 2), order = PRNG(seed: 3)
        for step in 0..<600 {
            let batch = set.batchIndices(size: 32, rng: &order)[0]
            _ = task.step(
                x.indexSelect(axis: 0, indices: batch).detach(), labels: batch.map { labels[$0] }, beta: 1,
                noise: &noise, at: step)
        }
        // The same codes, decoded once as each class: the bright half follows the class, not the code.
        var rng = PRNG(seed: 4)
        let z = Tensor.normal([32, 4], rng: &rng)
        for label in [0, 1] {
            let wanted = Array(repeating: label, count: 32)
            let images = noGrad { task.vae.decode(task.vae.conditioned(z, labels: wanted)) }
            XCTAssertEqual(Self.agreement(images, labels: wanted), 1, "class \(label)")
        }
    }

    func testAConditionalGANTrainsFromAFolderAndSamplesTheClassNamed() throws {
        let data = try Self.classFolder("gan-classes", count: 64)
        let folder = scratchFolder("conditional-gan")
        var o = TrainOptions()
        o.epochs = 100; o.batchSize = 32; o.quiet = true; o.maxSteps = 250; o.seed = 1
        var model = TrainingSetup.ModelOptions()
        model.conditional = true
        model.features = 16
        try TrainingSetup.make(kind: .gan, data: data, out: folder, options: o, model: model).train()
        let ckpt = folder + "/checkpoint.safetensors"
        let loaded = try LoadedModel.load(ckpt)
        XCTAssertEqual(loaded.classNames, ["bottom", "top"])
        XCTAssertEqual(try loaded.classIndex("top"), 1)
        XCTAssertEqual(try loaded.classIndex("0"), 0)
        XCTAssertThrowsError(try loaded.classIndex("left")) { XCTAssertTrue("\($0)".contains("bottom, top"), "\($0)") }
        for label in [0, 1] {
            let wanted = Array(repeating: label, count: 64)
            let images = Sampler.sample(loaded, count: 64, seed: 9, labels: wanted)
            let agreement = Self.agreement((images + 1) * 0.5, labels: wanted)
            XCTAssertGreaterThanOrEqual(agreement, 0.8, "class \(label)")
        }
        // The generator exports with a second input, the one-hot class; parts that would need a class
        // elsewhere are refused by name.
        let r = try ONNXExport.export(checkpoint: ckpt, part: .generator, to: folder + "/generator.onnx")
        XCTAssertEqual(r.inputs, ["z", "class_onehot"])
        let reference = try SafeTensors.read(r.reference).tensors
        XCTAssertEqual(reference["class_onehot"]?.shape, [4, 2])
        XCTAssertThrowsError(try ONNXExport.export(checkpoint: ckpt, part: .discriminator, to: folder + "/d.onnx")) {
            XCTAssertTrue("\($0)".contains("class-conditional") && "\($0)".contains(ckpt), "\($0)")
        }
        // The PyTorch module takes the class beside the noise and projects it in the discriminator.
        _ = try PyTorchExport.export(checkpoint: ckpt, to: folder + "/model.py")
        let text = try String(contentsOfFile: folder + "/model.py", encoding: .utf8)
        XCTAssertTrue(text.contains("z = torch.cat([z, class_onehot], dim=1)"))
        XCTAssertTrue(text.contains("(self.embed(class_onehot) * h).sum(dim=1)"))
        XCTAssertTrue(text.contains("\"discriminator.embed.weight\""))
        // Resuming without the classes, or training on unlabelled images, says what is wrong.
        var plain = TrainingSetup.ModelOptions()
        plain.features = 16
        o.maxSteps = 260
        XCTAssertThrowsError(
            try TrainingSetup.make(kind: .gan, data: data, out: folder, options: o, model: plain).train(resume: true)
        ) { XCTAssertTrue("\($0)".contains("2 classes (bottom, top)"), "\($0)") }
        XCTAssertThrowsError(
            try TrainingSetup.make(
                kind: .gan, data: repositoryRoot + "/Datasets/faces", out: scratchFolder("x"), options: o, model: model)
        ) { XCTAssertTrue("\($0)".contains("needs class labels"), "\($0)") }
    }

    /// `--data A --data B`: one training set in the order given, later sources at the first one's
    /// size; labels kept when the sources name the same classes (and --conditional refused, naming
    /// both, when they do not); jet event files one at a time.
    func testSeveralDataSourcesTrainAsOne() throws {
        let a = try Self.classFolder("sources-a", count: 16), b = try Self.classFolder("sources-b", count: 10)
        let faces = repositoryRoot + "/Datasets/faces"
        var o = TrainOptions()
        o.epochs = 1; o.batchSize = 8; o.quiet = true; o.maxSteps = 1; o.validationFraction = 0
        var model = TrainingSetup.ModelOptions()
        model.conditional = true
        model.architecture = .mlp
        let out = scratchFolder("sources-run")
        let trainer = try TrainingSetup.make(kind: .vae, sources: [a, b], out: out, options: o, model: model)
        let images = try XCTUnwrap(trainer.images)
        XCTAssertEqual(images.set.count, 26, "16 + 10 images, none held out")
        XCTAssertEqual(images.set.labels?.count, 26)
        XCTAssertEqual(images.spec.classNames, ["bottom", "top"])
        XCTAssertEqual(images.spec.source, a + " + " + b)
        try trainer.train()
        let recipe = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/options.json")))
                as? [String: Any])
        XCTAssertEqual(recipe["data"] as? [String], [a, b])
        // Faces (RGB 64²) after the 16² grey folder: loaded grey at 16², unlabelled, so no classes.
        let mixed = try TrainingSetup.make(
            kind: .vae, sources: [a, faces], out: scratchFolder("sources-mixed"), options: o, model: .init())
        XCTAssertEqual(mixed.images?.spec.imageSize, 16)
        XCTAssertEqual(mixed.images?.spec.channels, 1)
        XCTAssertNil(mixed.images?.spec.classNames)
        XCTAssertThrowsError(
            try TrainingSetup.make(
                kind: .vae, sources: [a, faces], out: scratchFolder("sources-c"), options: o, model: model)
        ) {
            XCTAssertTrue("\($0)".contains("--conditional") && "\($0)".contains("no labels"), "\($0)")
        }
        let jets = repositoryRoot + "/Datasets/jets/qcd_train.h5"
        XCTAssertThrowsError(
            try TrainingSetup.make(
                kind: .ae, sources: [jets, jets], out: scratchFolder("sources-j"), options: o, model: .init())
        ) { XCTAssertTrue("\($0)".contains("one --data file at a time"), "\($0)") }
    }
}
