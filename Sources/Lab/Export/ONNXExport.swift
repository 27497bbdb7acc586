import Datasets
import Engine
import Formats
import Foundation
import Models
import NN

/// `genlab export --onnx`: a trained model, or one part of it, as a standard ONNX model (opset 17,
/// batch-dynamic, named inputs and outputs, the checkpoint's config and data preparation in the
/// metadata), with a reference file of inputs and GenLab's outputs for them beside it, so any
/// runtime can be checked against GenLab (scripts/python/check_export.py does it with onnxruntime).
public enum ONNXExport {
    /// What can leave: the parts of each model kind.
    public enum Part: String, CaseIterable, Sendable {
        case generator, discriminator, encoder, decoder, autoencoder, scorer, tagger

        /// The parts a checkpoint kind has, the default first.
        public static func parts(of kind: ModelKind?) -> [Part] {
            switch kind {
            case .gan: return [.generator, .discriminator]
            case .vae: return [.scorer, .decoder, .encoder, .autoencoder]
            case .ae: return [.scorer, .autoencoder, .encoder, .decoder]
            case .tagger: return [.tagger]
            case .symmetry, .flow, nil: return []
            }
        }
    }

    public struct Result {
        public var part: Part
        public var inputs: [String]
        public var outputs: [String]
        public var nodes: Int
        public var parameters: Int
        public var reference: String
    }

    /// Where the reference inputs/outputs of an export to `path` go: `path` minus ".onnx" + ".reference.safetensors".
    public static func referencePath(_ path: String) -> String {
        (path.hasSuffix(".onnx") ? String(path.dropLast(5)) : path) + ".reference.safetensors"
    }

    /// Exports `part` (default: the kind's first) of `checkpoint` to `path`, and the reference
    /// inputs/outputs (seeded, `referenceBatch` examples) to `path` minus ".onnx" + ".reference.safetensors".
    // Long: chooses the part, builds it, records its metadata and the reference outputs.
    public static func export(
        checkpoint: String, part requested: Part?, to path: String, referenceBatch: Int = 4,
        seed: UInt64 = 0, rawWeights: Bool = false
    ) throws -> Result {
        let ckpt = try Checkpoint.load(checkpoint)
        let available = Part.parts(of: ckpt.modelKind)
        // A class-conditional VAE/AE exports its decoder by default: the scorer would need a class per event.
        let conditional = DataSpec(metadata: ckpt.metadata)?.classNames != nil
        let byDefault = conditional && available.contains(.decoder) ? .decoder : available.first
        guard let part = requested ?? byDefault else {
            throw FormatError(
                checkpoint, "a '\(ckpt.kind)' checkpoint has no part ONNX export knows (gan, vae, ae, tagger)")
        }
        guard available.contains(part) else {
            throw FormatError(
                checkpoint,
                "a \(ckpt.kind) checkpoint has no \(part.rawValue) (it has: "
                    + "\(available.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        let graph = ONNXGraph()
        var rng = PRNG(seed: seed)
        var reference: [String: Tensor] = [:]
        var metadata = [
            "genlab.kind": ckpt.kind, "genlab.config": ckpt.config, "genlab.part": part.rawValue,
            "genlab.checkpoint": (checkpoint as NSString).lastPathComponent,
        ]
        if part == .tagger {
            let config = try ckpt.decodeConfig(JetTagger.Config.self, file: checkpoint, problems: \.problems)
            let model = JetTagger(config, rng: &rng)
            try ckpt.restore(into: model, file: checkpoint)
            model.eval()
            let x = graph.input("images", [ONNXGraph.batch, config.channels, config.imageSize, config.imageSize])
            let h = try graph.emit(model.head, try graph.emit(model.features, x, key: "features"), key: "head")
            graph.output(graph.reshape(h, [ONNXGraph.batch]), as: "logit")
            metadata["genlab.scaling"] = Tagger.scaling.rawValue
            metadata["genlab.input"] =
                "images scaled as the tagger was trained (\(Tagger.scaling.rawValue)): each image divided by its "
                + "maximum"
            let input = Tensor.uniform(
                [referenceBatch, config.channels, config.imageSize, config.imageSize], rng: &rng)
            reference = ["images": input, "logit": noGrad { model(input) }]
        } else {
            let loaded = try LoadedModel.load(checkpoint, rawWeights: rawWeights)
            if part != .generator, part != .decoder {
                try loaded.requireUnconditional(checkpoint, for: "ONNX export of the \(part.rawValue)")
            }
            metadata[DataSpec.metadataKey] = try loaded.spec.metadataValue()
            metadata["genlab.scaling"] = loaded.spec.scaling.rawValue
            metadata["genlab.preprocessing"] = loaded.spec.preprocessing
            reference = try build(part, loaded, graph, metadata: &metadata, batch: referenceBatch, rng: &rng)
        }
        let doc =
            "GenLab \(ckpt.kind) \(part.rawValue), exported from \((checkpoint as NSString).lastPathComponent); "
            + (metadata["genlab.input"] ?? "")
        try AtomicFile.write(
            graph.encode(name: "genlab_\(ckpt.kind)_\(part.rawValue)", metadata: metadata, docString: doc), to: path)
        let referencePath = Self.referencePath(path)
        try SafeTensors.write(
            reference,
            metadata: [
                "inputs": graph.inputs.map(\.0).joined(separator: ","),
                "outputs": graph.outputs.map(\.0).joined(separator: ","),
            ], to: referencePath)
        return Result(
            part: part, inputs: graph.inputs.map(\.0), outputs: graph.outputs.map(\.0), nodes: graph.nodes.count,
            parameters: graph.initializers.compactMap { $0.floats?.count }.reduce(0, +), reference: referencePath)
    }

    /// The graph of a GAN or VAE/AE part and GenLab's outputs for seeded inputs.
    static func build(
        _ part: Part, _ model: LoadedModel, _ g: ONNXGraph, metadata: inout [String: String], batch: Int,
        rng: inout PRNG
    ) throws -> [String: Tensor] {
        let spec = model.spec
        let imageShape = [ONNXGraph.batch, spec.channels, spec.imageSize, spec.imageSize]
        let images = Tensor.uniform([batch, spec.channels, spec.imageSize, spec.imageSize], rng: &rng)
        let modelImages = ImageSet(images: images, source: "").scaled(spec.scaling).images
        let classes = spec.classNames?.count ?? 0
        // A conditional generator or decoder takes a second input, the one-hot class, read after the noise.
        func latentInput(_ width: Int) -> String {
            let z = g.input("z", [ONNXGraph.batch, width])
            guard classes > 0 else { return z }
            let onehot = g.input("class_onehot", [ONNXGraph.batch, classes])
            metadata["genlab.classes"] = spec.classNames!.joined(separator: "\n")
            return g.node("Concat", [z, onehot], [.int("axis", 1)], shape: [ONNXGraph.batch, width + classes])
        }
        func referenceInputs(_ width: Int) -> (inputs: [String: Tensor], conditioned: Tensor) {
            let noise = Tensor.normal([batch, width], rng: &rng)
            guard classes > 0 else { return (["z": noise], noise) }
            let onehot = ClassConditioning.oneHot(
                ClassConditioning.labels(nil, count: batch, classes: classes)!, classes: classes)
            return (["z": noise, "class_onehot": onehot], Tensor.concat([noise, onehot], axis: 1))
        }
        switch (model, part) {
        case let (.gan(gan, _), .generator):
            let z = latentInput(gan.config.latentDim)
            g.output(try generator(gan, z, g), as: "images")
            metadata["genlab.output"] =
                "images in model space (\(spec.scaling.rawValue)); display range \(spec.displayRange)"
            var (reference, input) = referenceInputs(gan.config.latentDim)
            reference["images"] = noGrad { gan.generator(input) }
            return reference
        case let (.gan(gan, _), .discriminator):
            let x = g.input("images", imageShape)
            g.output(try discriminator(gan, x, g), as: "logit")
            metadata["genlab.input"] =
                "images in model space (\(spec.scaling.rawValue)); the batch statistic (minibatch std) makes outputs "
                + "depend on the batch"
            return ["images": modelImages, "logit": noGrad { gan.discriminator(modelImages) }]
        case let (.vae(vae, _), .encoder):
            let x = g.input("images", imageShape)
            let (mu, logVar) = try encode(vae, x, g)
            // An autoencoder's encoder has one output, its code (still called mu).
            g.output(mu, as: "mu")
            if let logVar { g.output(logVar, as: "log_var") }
            metadata["genlab.input"] = "images in model space (\(spec.scaling.rawValue))"
            let (m, lv) = noGrad { vae.encode(modelImages) }
            var reference = ["images": modelImages, "mu": m]
            reference["log_var"] = lv
            return reference
        case let (.vae(vae, _), .decoder):
            let z = latentInput(vae.config.latentDim)
            g.output(try decode(vae, z, g), as: "images")
            var (reference, input) = referenceInputs(vae.config.latentDim)
            reference["images"] = noGrad { vae.decode(input) }
            return reference
        case let (.vae(vae, _), .autoencoder):
            let x = g.input("images", imageShape)
            // μ only: an autoencoder graph without the unused log σ² branch (simpler for hls4ml).
            g.output(
                try decode(vae, try g.emit(vae.mu, try g.emit(vae.encoder, x, key: "encoder"), key: "mu"), g),
                as: "reconstruction")
            metadata["genlab.input"] = "images in model space (\(spec.scaling.rawValue))"
            return ["images": modelImages, "reconstruction": noGrad { vae.decode(vae.encode(modelImages).mu) }]
        case let (.vae(vae, _), .scorer):
            return try scorer(vae, spec, g, metadata: &metadata, batch: batch, rng: &rng)
        default:
            throw ExportError(description: "a \(model) has no \(part.rawValue)")
        }
    }

    static func generator(_ gan: DCGAN, _ z: String, _ g: ONNXGraph) throws -> String {
        let c = gan.config, plan = UpsamplingPlan(size: c.imageSize)
        let width = c.generatorFeatures << (plan.doublings - 1)
        let gen = gan.generator
        var h = try g.emit(gen.project, z, key: "generator.project")
        h = g.reshape(h, [ONNXGraph.batch, width, plan.start, plan.start])
        h = g.unary("Relu", try g.emit(gen.bn0, h, key: "generator.bn0"))
        for (i, b) in gen.blocks.enumerated() { h = try g.emit(b, h, key: "generator.blocks.\(i)") }
        h = g.centreCrop(try g.emit(gen.toImage, h, key: "generator.toImage"), plan.size)
        switch c.output {
        case .relu: return g.unary("Relu", h)
        case .square: let s = g.unary("Relu", h); return g.binary("Mul", s, s)
        case .sigmoid: return g.unary("Sigmoid", h)
        case .tanh: return g.unary("Tanh", h)
        }
    }

    static func discriminator(_ gan: DCGAN, _ x: String, _ g: ONNXGraph) throws -> String {
        let d = gan.discriminator
        var h = gan.config.output == .square ? g.unary("Sqrt", g.binary("Add", x, g.constant("eps", scalar: 1e-8))) : x
        for (i, b) in d.blocks.enumerated() { h = try g.emit(b, h, key: "discriminator.blocks.\(i)") }
        if gan.config.minibatchStd {
            // sd = mean over features of √(Var over the batch + 1e-8), one extra constant map.
            let mean = g.reduce("ReduceMean", h, axes: [0], keepDims: true)
            let dev = g.binary("Sub", h, mean)
            let variance = g.reduce("ReduceMean", g.binary("Mul", dev, dev), axes: [0], keepDims: true)
            let sd = g.unary("Sqrt", g.binary("Add", variance, g.constant("eps", scalar: 1e-8)))
            let scalar = g.reduce("ReduceMean", sd, axes: [0, 1, 2, 3], keepDims: true)
            let s = g.shape(h)
            let firstMap = g.node(
                "Slice",
                [h, g.constant("starts", ints: [0]), g.constant("ends", ints: [1]), g.constant("axes", ints: [1])],
                shape: [s[0], 1, s[2], s[3]])
            let map = g.binary("Add", g.binary("Mul", firstMap, g.constant("zero", scalar: 0)), scalar)
            h = g.node("Concat", [h, map], [.int("axis", 1)], shape: [s[0], s[1] + 1, s[2], s[3]])
        }
        let flat = g.node(
            "Flatten", [h], [.int("axis", 1)], shape: [ONNXGraph.batch, g.shape(h).dropFirst().reduce(1, *)])
        return g.reshape(try g.emit(d.classify, flat, key: "discriminator.classify"), [ONNXGraph.batch])
    }

    /// μ and log σ² of the encoder (an autoencoder: its code, and no log σ²).
    static func encode(_ vae: VAE, _ x: String, _ g: ONNXGraph) throws -> (mu: String, logVar: String?) {
        let h = try g.emit(vae.encoder, x, key: "encoder")
        let mu = try g.emit(vae.mu, h, key: "mu")
        guard let logVar = vae.logVar else { return (mu, nil) }
        let lv = try g.emit(logVar, h, key: "logVar")
        return (
            mu, g.node("Clip", [lv, g.constant("min", scalar: -20), g.constant("max", scalar: 20)], shape: g.shape(lv))
        )
    }

    static func decode(_ vae: VAE, _ z: String, _ g: ONNXGraph, link: Bool = true) throws -> String {
        let raw = try g.emit(vae.decoder, z, key: "decoder")
        return link && vae.config.likelihood == .bernoulli ? g.unary("Sigmoid", raw) : raw
    }

    /// Events as stored → the scaling → the autoencoder → every score `genlab score` reports,
    /// one value per event; `score` is the default one (mse for an AE, neg_elbo for a VAE).
    // Long: the scorer graph written node by node, mirroring AnomalyScorer's arithmetic.
    static func scorer(
        _ vae: VAE, _ spec: DataSpec, _ g: ONNXGraph, metadata: inout [String: String], batch: Int,
        rng: inout PRNG
    ) throws -> [String: Tensor] {
        let (c, n) = (spec.channels, spec.imageSize)
        // Jet files store (N, H, W) images; others [N, C, H, W].
        let stored = spec.isJetImages && c == 1 ? [ONNXGraph.batch, n, n] : [ONNXGraph.batch, c, n, n]
        let raw = g.input("events", stored)
        let x4 = stored.count == 3 ? g.reshape(raw, [ONNXGraph.batch, 1, n, n]) : raw
        let x = try scaled(x4, spec.scaling, g)
        let (mu, logVar) = try encode(vae, x, g)
        let out = try decode(vae, mu, g, link: false)
        let recon = vae.config.likelihood == .bernoulli ? g.unary("Sigmoid", out) : out
        let d = g.binary("Sub", recon, x)
        let se = g.binary("Mul", d, d)
        let mse = g.reduce("ReduceMean", se, axes: [1, 2, 3], keepDims: false)
        let energy = g.reduce("ReduceSum", g.binary("Mul", x, x), axes: [1, 2, 3], keepDims: false)
        let msePt = g.binary(
            "Div", g.reduce("ReduceSum", se, axes: [1, 2, 3], keepDims: false),
            g.binary("Max", energy, g.constant("tiny", scalar: 1e-12)))
        let kl: String
        if let logVar {
            // −½ Σ (1 + log σ² − μ² − σ²)
            let terms = g.binary(
                "Sub", g.binary("Sub", g.binary("Add", logVar, g.constant("one", scalar: 1)), g.binary("Mul", mu, mu)),
                g.unary("Exp", logVar))
            kl = g.binary(
                "Mul", g.reduce("ReduceSum", terms, axes: [1], keepDims: false), g.constant("minus_half", scalar: -0.5))
        } else {
            kl = g.binary("Mul", mse, g.constant("zero", scalar: 0))
        }
        let nll: String
        if vae.config.likelihood == .bernoulli {
            // Σ max(r, 0) − r·x + log(1 + e^−|r|): BCE on logits, as Loss.bceWithLogits.
            let perPixel = g.binary(
                "Add", g.binary("Sub", g.unary("Relu", out), g.binary("Mul", out, x)),
                g.unary("Softplus", g.unary("Neg", g.unary("Abs", out))))
            nll = g.reduce("ReduceSum", perPixel, axes: [1, 2, 3], keepDims: false)
        } else {
            let s = vae.config.sigma
            let constant = Float(c * n * n) * (Foundation.log(s) + 0.5 * Foundation.log(2 * Float.pi))
            let dr = g.binary("Sub", out, x)
            nll = g.binary(
                "Add",
                g.binary(
                    "Mul", g.reduce("ReduceSum", g.binary("Mul", dr, dr), axes: [1, 2, 3], keepDims: false),
                    g.constant("half_over_sigma2", scalar: 0.5 / (s * s))), g.constant("nll_constant", scalar: constant)
            )
        }
        let negElbo = g.binary("Add", nll, kl)
        let distance = g.unary("Sqrt", g.reduce("ReduceSum", g.binary("Mul", mu, mu), axes: [1], keepDims: false))
        g.output(vae.config.plain ? mse : negElbo, as: "score")
        for (name, value) in [
            (AnomalyScore.mse, mse), (.msePt, msePt), (.kl, kl), (.negElbo, negElbo), (.latentDistance, distance),
        ] {
            g.output(value, as: name.rawValue)
        }
        metadata["genlab.input"] =
            "events as stored in the files (\(stored.count == 3 ? "N, H, W" : "N, C, H, W"), raw pixel values); "
            + "the scaling (\(spec.scaling.rawValue)) is inside the graph"
        metadata["genlab.output"] =
            "score = \(vae.config.plain ? AnomalyScore.mse : .negElbo), the default anomaly score of genlab score; "
            + "higher is more anomalous"
        // Reference: positive jet-like events through the same path genlab score takes.
        let events = Tensor.uniform([batch, c, n, n], rng: &rng)
        let scorerRef = AnomalyScorer(model: .vae(vae, spec))
        let scores = scorerRef.scoreImages(events, valid: [Bool](repeating: true, count: batch))
        var reference: [String: Tensor] = ["events": stored.count == 3 ? events.reshape([batch, n, n]) : events]
        for (k, name) in scorerRef.scoreNames.enumerated() {
            reference[name] = Tensor(shape: [batch], data: scores[k].map(Float.init))
        }
        reference["score"] = reference[scorerRef.primaryScore.rawValue]
        return reference
    }

    static func scaled(_ x: String, _ scaling: ImageSet.Scaling, _ g: ONNXGraph) throws -> String {
        switch scaling {
        case .zeroToOne: return x
        case .minusOneToOne:
            return g.binary("Sub", g.binary("Mul", x, g.constant("two", scalar: 2)), g.constant("one", scalar: 1))
        case .unitSum, .unitMax:
            // Each image divided by its sum (or maximum); an all-zero image stays zero.
            let total =
                scaling == .unitSum
                ? g.reduce("ReduceSum", x, axes: [1, 2, 3], keepDims: true)
                : g.reduce("ReduceMax", x, axes: [1, 2, 3], keepDims: true)
            let positive = g.unary("Cast", g.binary("Greater", total, g.constant("zero", scalar: 0)), [.int("to", 1)])
            let safe = g.binary("Add", total, g.binary("Sub", g.constant("one", scalar: 1), positive))
            return g.binary("Div", x, safe)
        }
    }
}
