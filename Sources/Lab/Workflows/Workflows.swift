import Datasets
import Engine
import Formats
import Foundation
import Models
import NN

/// A trained generator/decoder rebuilt from a checkpoint alone.
public enum LoadedModel {
    case gan(DCGAN, DataSpec)
    case vae(VAE, DataSpec)

    /// A GAN whose checkpoint holds a weight average of its generator (`train gan --ema`) generates
    /// with it, unless `rawWeights`.
    public static func load(_ path: String, rawWeights: Bool = false) throws -> LoadedModel {
        guard FileManager.default.fileExists(atPath: path) else { throw FormatError(path, "no such checkpoint") }
        let ckpt = try Checkpoint.load(path)
        guard let spec = DataSpec(metadata: ckpt.metadata) else {
            throw FormatError(
                path,
                "is not a GenLab model checkpoint (no valid genlab.data metadata"
                    + (ckpt.kind.isEmpty ? ", no genlab.kind)" : "; kind '\(ckpt.kind)')"))
        }
        func agree(_ size: Int, _ channels: Int, classes: Int) throws {
            guard spec.imageSize == size, spec.channels == channels else {
                throw FormatError(
                    path,
                    "genlab.data describes \(spec.channels)×\(spec.imageSize)² data but the model "
                        + "config \(channels)×\(size)²: an edited or damaged checkpoint")
            }
            guard (spec.classNames?.count ?? 0) == classes else {
                throw FormatError(
                    path,
                    "genlab.data names \(spec.classNames?.count ?? 0) classes but the model config has \(classes): "
                        + "an edited or damaged checkpoint")
            }
        }
        var rng = PRNG(seed: 0)
        switch ckpt.modelKind {
        case .gan:
            let config = try ckpt.decodeConfig(DCGAN.Config.self, file: path, problems: \.problems)
            try agree(config.imageSize, config.channels, classes: config.classCount)
            let gan = DCGAN(config, rng: &rng)
            try ckpt.restore(into: gan.module, file: path)
            let average = GANTask.average(in: ckpt)
            if !rawWeights, !average.isEmpty {
                guard average.values.allSatisfy({ $0.scalars.allSatisfy(\.isFinite) }) else {
                    throw FormatError(path, "the generator's weight average holds NaN or infinite values")
                }
                do { try gan.generator.loadStateDict(average) } catch {
                    throw FormatError(path, "the generator's weight average: \(error)")
                }
            }
            gan.generator.eval(); gan.discriminator.eval()
            return .gan(gan, spec)
        case .vae, .ae:
            let config = try ckpt.decodeConfig(VAE.Config.self, file: path, problems: \.problems)
            try agree(config.imageSize, config.channels, classes: config.classCount)
            let vae = VAE(config, rng: &rng)
            try vae.load(ckpt, file: path)
            vae.eval()
            return .vae(vae, spec)
        case .tagger, .symmetry, .flow, nil:
            let what = ckpt.kind.isEmpty ? "no model kind (genlab.kind is empty)" : "a '\(ckpt.kind)' model"
            throw FormatError(path, "holds \(what), which cannot generate images (expected gan, vae or ae)")
        }
    }

    public var spec: DataSpec {
        switch self {
        case let .gan(_, s), let .vae(_, s): return s
        }
    }

    public var latentDim: Int {
        switch self {
        case let .gan(g, _): return g.config.latentDim
        case let .vae(v, _): return v.config.latentDim
        }
    }

    /// A class-conditional model's classes, in label order (nil: unconditional).
    public var classNames: [String]? { spec.classNames }

    /// Refuses a class-conditional model for a use that has no class to give it.
    public func requireUnconditional(_ file: String, for purpose: String) throws {
        guard let names = classNames else { return }
        throw FormatError(
            file,
            "is class-conditional (\(names.count) classes): \(purpose) takes an unconditional model for now (sample, "
                + "interpolate, quality and ONNX export of the generator or decoder take conditional ones)")
    }

    /// The class index of NAME (a class name, or its index), or an error listing the classes.
    public func classIndex(_ name: String) throws -> Int {
        guard let names = classNames else {
            throw FormatError("--class", "this model is not class-conditional (train it with --conditional)")
        }
        if let i = ClassConditioning.index(of: name, in: names) { return i }
        throw FormatError("--class", "'\(name)' is not one of the model's classes: \(names.joined(separator: ", "))")
    }

    /// Latent points → images in model space; a conditional model draws each row for its class in
    /// `labels` (nil: every class in turn).
    public func generate(_ z: Tensor, labels: [Int]? = nil) -> Tensor {
        let labels = ClassConditioning.labels(labels, count: z.shape[0], classes: classNames?.count ?? 0)
        return noGrad {
            switch self {
            case let .gan(g, _): return g.generator(g.conditioned(z, labels: labels))
            case let .vae(v, _): return v.decode(v.conditioned(z, labels: labels))
            }
        }
    }

    /// Images for PNG output: display range [0, 1] (jet images stretched per image).
    public func displayable(_ images: Tensor) -> [Image] {
        let n = images.shape[0]
        return (0..<n).map { i in
            let one = images.slice(axis: 0, start: i, end: i + 1).reshape(Array(images.shape.dropFirst())).detach()
            if spec.isJetImages {
                let mx = max(one.scalars.max() ?? 1, 1e-12)
                return Image(tensor: one, range: 0...mx)
            }
            return Image(tensor: one, range: spec.displayRange)
        }
    }
}

/// `genlab sample`: draws from the prior.
public enum Sampler {
    /// `count` images from seeded noise; a conditional model's of the classes `labels` (one per
    /// image; nil: every class in turn).
    public static func sample(_ model: LoadedModel, count: Int, seed: UInt64, labels: [Int]? = nil) -> Tensor {
        var rng = PRNG(seed: seed)
        let noise = Tensor.normal([count, model.latentDim], rng: &rng)
        // Chosen once for all the chunks, so that "every class in turn" spans the whole sample.
        let labels = ClassConditioning.labels(labels, count: count, classes: model.classNames?.count ?? 0)
        // In chunks: the generator's activations for thousands of images at once would take
        // gigabytes. Eval-mode layers treat images independently, so the images are the same.
        let chunk = 256
        guard count > chunk else { return model.generate(noise, labels: labels) }
        var parts: [Tensor] = []
        for start in stride(from: 0, to: count, by: chunk) {
            let end = min(count, start + chunk)
            parts.append(
                noGrad {
                    model.generate(
                        noise.slice(axis: 0, start: start, end: end).detach(),
                        labels: labels.map { Array($0[start..<end]) })
                })
        }
        return noGrad { Tensor.concat(parts, axis: 0) }.detach()
    }
}

/// `genlab interpolate`: latent walks between points, decoded frame by frame.
public enum Interpolator {
    public enum Mode: String, CaseIterable, Sendable { case linear, slerp }

    /// `steps` points from a to b inclusive (rows of [steps, D]).
    public static func path(from a: [Float], to b: [Float], steps: Int, mode: Mode) -> [[Float]] {
        precondition(a.count == b.count && steps >= 2)
        let dot = zip(a, b).map { Double($0) * Double($1) }.reduce(0, +)
        let na = a.map { Double($0) * Double($0) }.reduce(0, +).squareRoot(),
            nb = b.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
        let omega = acos(max(-1, min(1, dot / max(na * nb, 1e-12))))
        return (0..<steps).map { i in
            let t = Double(i) / Double(steps - 1)
            // Spherical interpolation keeps the norm typical of Gaussian samples; it falls back to
            // linear when the points are (anti)parallel.
            let (wa, wb): (Double, Double) =
                mode == .slerp && sin(omega) > 1e-6
                ? (sin((1 - t) * omega) / sin(omega), sin(t * omega) / sin(omega)) : (1 - t, t)
            return zip(a, b).map { Float(wa * Double($0) + wb * Double($1)) }
        }
    }

    /// A walk through `points` (closed into a loop when `loop`), `steps` frames per leg.
    public static func walk(_ points: [[Float]], steps: Int, mode: Mode, loop: Bool) -> [[Float]] {
        var frames: [[Float]] = []
        let legs = loop ? points.count : points.count - 1
        for i in 0..<legs {
            let leg = path(from: points[i], to: points[(i + 1) % points.count], steps: steps, mode: mode)
            frames += i == legs - 1 && !loop ? leg : Array(leg.dropLast())
        }
        return frames
    }

    /// Writes frame_000.png … and walk.gif into `folder`; returns the number of frames. A
    /// conditional model walks within the class `label` (nil: its first class).
    @discardableResult
    public static func render(
        _ model: LoadedModel, frames: [[Float]], folder: String, scale: Int = 4, label: Int? = nil
    ) throws -> Int {
        let z = Tensor(shape: [frames.count, model.latentDim], data: frames.flatMap { $0 })
        let labels = model.classNames.map { _ in Array(repeating: label ?? 0, count: frames.count) }
        let images = model.displayable(model.generate(z, labels: labels)).map { im in
            im.resized(width: im.width * scale, height: im.height * scale, method: .bilinear)
        }
        let run = try RunFolder(folder)
        for (i, im) in images.enumerated() { try im.writePNG(run.file(String(format: "frame_%03d.png", i))) }
        try GIF.write(images, to: run.file("walk.gif"), delayCentiseconds: 8)
        return images.count
    }
}
