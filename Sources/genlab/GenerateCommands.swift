import ArgumentParser
import Datasets
import Engine
import Formats
import Foundation
import Lab

/// `genlab sample`.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate images from noise with a trained GAN or VAE.")
    @Option(help: "A checkpoint written by genlab train.") var checkpoint: String
    @Option(help: "How many images.") var count = 64
    @Option(help: "A .png file (one grid) or a folder (one PNG per image).") var out: String
    @Option(help: "Noise seed.") var seed: UInt64 = 0
    @Flag(help: "Write into an --out folder that holds a training run or other files.") var overwrite = false
    @OptionGroup var limits: InputLimitOptions

    func validate() throws {
        try Check.positive(count, "--count", max: 10_000)
    }

    func run() throws {
        try OutputGuard.refuse(outputs: [out], inputs: [checkpoint])
        if !out.lowercased().hasSuffix(".png"), !overwrite,
            let names = try? FileManager.default.contentsOfDirectory(atPath: out),
            let foreign = names.first(where: {
                !($0.hasPrefix("sample_") && $0.hasSuffix(".png")) && !$0.hasPrefix(".")
            })
        {
            let what = names.contains("checkpoint.safetensors") ? ": a training run" : ""
            throw FormatError(
                out,
                "already holds other files (\(foreign)\(what)); choose a new folder for --out, or pass "
                    + "--overwrite")
        }
        let model = try LoadedModel.load(checkpoint)
        let images = Sampler.sample(model, count: count, seed: seed)
        if out.lowercased().hasSuffix(".png") {
            let grid = imageGrid(
                images, padding: 1, range: model.spec.displayRange, normalizeEach: model.spec.isJetImages)
            try grid.writePNG(out)
            print("wrote \(out): a grid of \(count) samples")
        } else {
            let run = try RunFolder(out)
            for (i, im) in model.displayable(images).enumerated() {
                try im.writePNG(run.file(String(format: "sample_%03d.png", i)))
            }
            print("wrote \(count) PNGs to \(out)")
        }
    }
}

/// `genlab interpolate`.
struct Interpolate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Walk the latent space: between two seeds, two real images (VAE), or a loop through K points.",
        discussion: "Writes DIR/frame_000.png … and DIR/walk.gif.")
    @Option(help: "A checkpoint written by genlab train.") var checkpoint: String
    @Option(help: "Frames per leg.") var steps = 16
    @Option(help: "Output folder.") var out: String
    @Option(help: "linear or slerp.") var mode = "slerp"
    @Option(name: .customLong("seed-a"), help: "Seed of the first latent point.") var seedA: UInt64 = 1
    @Option(name: .customLong("seed-b"), help: "Seed of the second latent point.") var seedB: UInt64 = 2
    @Option(help: "Start image (VAE: its encoding is the first point).") var from: String?
    @Option(help: "End image (VAE).") var to: String?
    @Option(help: "Loop through this many random points (seeds seed-a, seed-a+1, …) and back to the first.") var loop:
        Int?
    @OptionGroup var limits: InputLimitOptions

    /// Frames one walk may have (each a PNG and a GIF frame).
    static let maxFrames = 2000

    func validate() throws {
        guard Interpolator.Mode(rawValue: mode) != nil else { throw ValidationError("--mode must be linear or slerp") }
        try Check.range(steps, "--steps", 2...Self.maxFrames)
        if let loop {
            try Check.range(loop, "--loop", 2...Self.maxFrames)
            guard loop * steps <= Self.maxFrames else {
                throw ValidationError(
                    "--loop \(loop) × --steps \(steps) makes \(loop * steps) frames, over the limit of "
                        + "\(Self.maxFrames)"
                )
            }
        }
    }

    func run() throws {
        guard let m = Interpolator.Mode(rawValue: mode) else { throw ValidationError("--mode must be linear or slerp") }
        let model = try LoadedModel.load(checkpoint)
        func seedPoint(_ s: UInt64) -> [Float] {
            var r = PRNG(seed: s); return Tensor.normal([model.latentDim], rng: &r).scalars
        }
        var points: [[Float]]
        if from != nil || to != nil {
            guard let from, let to else { throw ValidationError("--from and --to go together") }
            guard case let .vae(vae, spec) = model else {
                throw ValidationError("--from/--to need a VAE checkpoint (a GAN has no encoder)")
            }
            points = try [from, to].map { path in
                let set = try ImageSet.load(path, options: .init(size: spec.imageSize, channels: spec.channels)).scaled(
                    spec.scaling)
                return noGrad { vae.encode(set.batch([0])).mu }.scalars
            }
        } else if let loop {
            guard loop >= 2 else { throw ValidationError("--loop needs at least 2 points") }
            points = (0..<loop).map { seedPoint(seedA + UInt64($0)) }
        } else {
            points = [seedPoint(seedA), seedPoint(seedB)]
        }
        let frames = Interpolator.walk(points, steps: steps, mode: m, loop: loop != nil)
        let n = try Interpolator.render(model, frames: frames, folder: out)
        print("wrote \(n) frames to \(out)/frame_000.png … and \(out)/walk.gif")
    }
}
