import ArgumentParser
import Datasets
import Engine
import Formats
import Foundation
import Lab
import Models
import NN

/// `genlab sample`.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate images from noise with a trained GAN or VAE, or events with a trained flow.")
    @Option(help: "A checkpoint written by genlab train.") var checkpoint: String
    @OptionGroup var weights: GeneratorWeightsOptions
    @Option(help: "How many images (at most 10 000) or flow events (at most 10 000 000).") var count = 64
    @Option(
        help: ArgumentHelp(
            "Flow: the context of every sample, comma-separated values (e.g. 3.5), or LOW:HIGH for a one-value "
                + "context drawn uniformly (e.g. 3.3:3.7) (default: none; required for a conditional flow)."))
    var context: String?
    @Option(
        name: .customLong("class"),
        help: ArgumentHelp(
            "A class-conditional model: draw every image of this class (its name or index) (default: every class in "
                + "turn)."))
    var className: String?
    @Option(help: "Output folder: sample_000.png … and grid.png (a .png file name, deprecated: the grid alone).")
    var out: String
    @Option(help: "Noise seed.") var seed: UInt64 = 0
    @Flag(help: "Write into an --out folder that holds a training run or other files.") var overwrite = false
    @OptionGroup var output: OutputOptions
    @OptionGroup var limits: InputLimitOptions

    func validate() throws {
        try Check.positive(count, "--count", max: 10_000_000)
    }

    func run() throws {
        try output.run {
            // Read once: a flow is sampled from this copy; any other file goes the image path (its own checks).
            if let ckpt = try? Checkpoint.load(checkpoint), ckpt.modelKind == .flow { return try sampleFlow(ckpt) }
            return try sample()
        }
    }

    /// A flow's samples as samples.csv and samples.h5 (the features, then the context they were drawn at).
    func sampleFlow(_ ckpt: Checkpoint) throws -> Outcome {
        try OutputGuard.refuse(outputs: [out], inputs: [checkpoint])
        let flow = try ConditionalFlow.load(ckpt, file: checkpoint)
        let c = flow.config
        var rng = PRNG(seed: seed)
        var contexts: Tensor?
        if c.contextFeatures > 0 {
            guard let context else {
                throw FormatError(
                    checkpoint, "is a flow conditioned on \(c.contextNames.joined(separator: ", ")): give --context")
            }
            contexts = try Self.contexts(context, width: c.contextFeatures, count: count, rng: &rng)
        } else if context != nil {
            throw FormatError(checkpoint, "is an unconditional flow: --context does not apply")
        }
        let run = try RunFolder(out)
        for name in ["samples.csv", "samples.h5"]
        where !overwrite && FileManager.default.fileExists(atPath: run.file(name)) {
            throw FormatError(run.file(name), "already exists; choose a new folder for --out, or pass --overwrite")
        }
        var rows: [Tensor] = []
        for start in stride(from: 0, to: count, by: 65_536) {
            let n = Swift.min(65_536, count - start)
            let ctx = contexts?.slice(axis: 0, start: start, end: start + n)
            let x = flow.sample(context: ctx, count: n, rng: &rng)
            rows.append(ctx.map { Tensor.concat([x, $0], axis: 1) } ?? x)
        }
        let table = Tensor.concat(rows, axis: 0)
        let names = (c.featureNames.isEmpty ? (0..<c.features).map { "x\($0)" } : c.featureNames) + c.contextNames
        let csv = run.file("samples.csv"), h5 = run.file("samples.h5")
        try FlowSamples.write(table, names: names, csv: csv, hdf5: h5)
        print("wrote \(count) flow samples of \(names.joined(separator: ", ")) to \(csv) and \(h5)")
        return Outcome(command: "sample", out: out, files: [csv, h5])
    }

    /// Contexts from --context: fixed values, or LOW:HIGH drawn uniformly for a one-value context.
    static func contexts(_ text: String, width: Int, count: Int, rng: inout PRNG) throws -> Tensor {
        let range = text.split(separator: ":").compactMap { Double($0) }
        if text.contains(":") {
            guard width == 1, range.count == 2, range[0] < range[1], range.allSatisfy(\.isFinite) else {
                throw ValidationError("--context LOW:HIGH needs a one-value context and LOW < HIGH, not '\(text)'")
            }
            return Tensor.uniform([count, 1], low: Float(range[0]), high: Float(range[1]), rng: &rng)
        }
        let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == width, let v = values as? [Double], v.allSatisfy(\.isFinite) else {
            throw ValidationError("--context: '\(text)' is not \(width) number(s), comma-separated")
        }
        return Tensor(shape: [1, width], data: v.map { Float($0) }).expand([count, width]).copy()
    }

    func sample() throws -> Outcome {
        guard count <= 10_000 else { throw ValidationError("--count: at most 10 000 images") }
        guard context == nil else { throw ValidationError("--context is for flow checkpoints") }
        try OutputGuard.refuse(outputs: [out], inputs: [checkpoint])
        if !out.lowercased().hasSuffix(".png"), !overwrite,
            let names = try? FileManager.default.contentsOfDirectory(atPath: out),
            let foreign = names.first(where: {
                !($0.hasPrefix("sample_") && $0.hasSuffix(".png")) && $0 != "grid.png" && !$0.hasPrefix(".")
            })
        {
            let what = names.contains("checkpoint.safetensors") ? ": a training run" : ""
            throw FormatError(
                out,
                "already holds other files (\(foreign)\(what)); choose a new folder for --out, or pass "
                    + "--overwrite")
        }
        let model = try LoadedModel.load(checkpoint, rawWeights: weights.rawWeights)
        let label = try className.map { try model.classIndex($0) }
        let images = Sampler.sample(
            model, count: count, seed: seed, labels: label.map { Array(repeating: $0, count: count) })
        if let names = model.classNames {
            print("class-conditional model: " + (label.map { "class \(names[$0])" } ?? "every class in turn"))
        }
        let grid = imageGrid(images, padding: 1, range: model.spec.displayRange, normalizeEach: model.spec.isJetImages)
        if out.lowercased().hasSuffix(".png") {
            Deprecation.note(
                "--out FILE.png", use: "--out DIR (it gets sample_000.png … and grid.png)", quiet: output.quiet)
            try grid.writePNG(out)
            print("wrote \(out): a grid of \(count) samples")
            return Outcome(command: "sample", out: out, files: [out])
        }
        let run = try RunFolder(out)
        var files: [String] = []
        for (i, im) in model.displayable(images).enumerated() {
            files.append(run.file(String(format: "sample_%03d.png", i)))
            try im.writePNG(files[i])
        }
        try grid.writePNG(run.file("grid.png"))
        print("wrote \(count) PNGs and grid.png to \(out)")
        return Outcome(command: "sample", out: out, files: files + [run.file("grid.png")])
    }
}

/// `genlab interpolate`.
struct Interpolate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Walk the latent space: between two seeds, two real images (VAE), or a loop through K points.",
        discussion: "Writes DIR/frame_000.png … and DIR/walk.gif.")
    @Option(help: "A checkpoint written by genlab train.") var checkpoint: String
    @OptionGroup var weights: GeneratorWeightsOptions
    @Option(name: [.customLong("frames"), .customLong("steps")], help: "Frames per leg (--steps: the older name).")
    var steps = 16
    @Option(help: "Output folder.") var out: String
    @Option(help: "linear or slerp.") var mode = "slerp"
    @Option(name: .customLong("seed-a"), help: "Seed of the first latent point.") var seedA: UInt64 = 1
    @Option(name: .customLong("seed-b"), help: "Seed of the second latent point.") var seedB: UInt64 = 2
    @Option(help: "Start image (VAE: its encoding is the first point; default: none).") var from: String?
    @Option(help: "End image (VAE; default: none).") var to: String?
    @Option(help: "Loop through this many random points (seeds seed-a, seed-a+1, …) and back (default: none).")
    var loop: Int?
    @Option(
        name: .customLong("class"),
        help: "A class-conditional model: walk within this class (its name or index) (default: the first class).")
    var className: String?
    @OptionGroup var output: OutputOptions
    @OptionGroup var limits: InputLimitOptions

    /// Frames one walk may have (each a PNG and a GIF frame).
    static let maxFrames = 2000

    func validate() throws {
        guard Interpolator.Mode(rawValue: mode) != nil else { throw ValidationError("--mode must be linear or slerp") }
        try Check.range(steps, "--frames (--steps)", 2...Self.maxFrames)
        if let loop {
            try Check.range(loop, "--loop", 2...Self.maxFrames)
            guard loop * steps <= Self.maxFrames else {
                throw ValidationError(
                    "--loop \(loop) × --frames (--steps) \(steps) makes \(loop * steps) frames, over the limit of "
                        + "\(Self.maxFrames)"
                )
            }
        }
    }

    func run() throws {
        try output.run { try interpolate() }
    }

    func interpolate() throws -> Outcome {
        guard let m = Interpolator.Mode(rawValue: mode) else { throw FormatError("--mode", "must be linear or slerp") }
        let model = try LoadedModel.load(checkpoint, rawWeights: weights.rawWeights)
        let label = try className.map { try model.classIndex($0) } ?? (model.classNames != nil ? 0 : nil)
        if let label, let names = model.classNames { print("class-conditional model: walking within \(names[label])") }
        func seedPoint(_ s: UInt64) -> [Float] {
            var r = PRNG(seed: s); return Tensor.normal([model.latentDim], rng: &r).scalars
        }
        var points: [[Float]]
        if from != nil || to != nil {
            guard let from, let to else { throw FormatError("--from/--to", "go together: give both images") }
            guard case let .vae(vae, spec) = model else {
                throw FormatError(checkpoint, "holds a GAN, which has no encoder: --from/--to need a VAE or AE")
            }
            points = try [from, to].map { path in
                let set = try ImageSet.load(path, options: .init(size: spec.imageSize, channels: spec.channels)).scaled(
                    spec.scaling)
                return noGrad { vae.encode(set.batch([0]), labels: label.map { [$0] }).mu }.scalars
            }
        } else if let loop {
            guard loop >= 2 else { throw FormatError("--loop", "needs at least 2 points") }
            points = (0..<loop).map { seedPoint(seedA + UInt64($0)) }
        } else {
            points = [seedPoint(seedA), seedPoint(seedB)]
        }
        let frames = Interpolator.walk(points, steps: steps, mode: m, loop: loop != nil)
        let n = try Interpolator.render(model, frames: frames, folder: out, label: label)
        print("wrote \(n) frames to \(out)/frame_000.png … and \(out)/walk.gif")
        return Outcome(command: "interpolate", out: out, files: [out + "/walk.gif"], figures: ["frames": Double(n)])
    }
}
