import Engine
import Formats
import Foundation
import Models
import NN

/// `genlab export --pytorch OUT.py`: a standalone PyTorch file for a checkpoint's architecture.
/// Its module tree is written from GenLab's own (so the state-dict keys are the checkpoint's and
/// `load_state_dict(strict=True)` takes it), its `forward` is GenLab's, and `save_genlab` writes
/// weights trained in PyTorch back as a checkpoint `genlab sample|score|interpolate|inspect` accept.
public enum PyTorchExport {
    public struct Result {
        public var className: String
        public var keys: Int
    }

    // Long: writes one Python file; the text is the function.
    public static func export(checkpoint: String, to path: String) throws -> Result {
        let ckpt = try Checkpoint.load(checkpoint)
        var rng = PRNG(seed: 0)
        let className: String, body: String
        var metadata = ["genlab.format": "1", "genlab.kind": ckpt.kind, "genlab.config": ckpt.config]
        for (k, v) in ckpt.metadata where k.hasPrefix("genlab.") && k != "genlab.training" { metadata[k] = v }
        let module: Module
        switch ckpt.modelKind {
        // Models are loaded as ONNX export and sample load them (weights, shapes, config against data
        // description), so what one export refuses the other refuses too.
        case .gan:
            guard case let .gan(gan, _) = try LoadedModel.load(checkpoint) else { fatalError("kind checked above") }
            module = gan.module
            className = "GenLabDCGAN"
            body = ganClasses(gan)
        case .vae, .ae:
            guard case let .vae(vae, _) = try LoadedModel.load(checkpoint) else { fatalError("kind checked above") }
            module = vae
            className = ckpt.modelKind == .ae ? "GenLabAutoencoder" : "GenLabVAE"
            body = vaeClass(vae, className)
        case .tagger:
            let tagger = JetTagger(
                try ckpt.decodeConfig(JetTagger.Config.self, file: checkpoint, problems: \.problems), rng: &rng)
            try ckpt.restore(into: tagger, file: checkpoint)
            module = tagger
            className = "GenLabJetTagger"
            body = """
                class GenLabJetTagger(nn.Module):
                    \"\"\"Signal logit of images scaled as at training (each divided by its maximum).\"\"\"
                    def __init__(self):
                        super().__init__()
                        self.features = \(python(tagger.features, indent: 8))
                        self.head = \(python(tagger.head, indent: 8))

                    def forward(self, x):
                        return self.head(self.features(x)).reshape(-1)
                """
        case .symmetry, .flow, nil:
            throw FormatError(checkpoint, "a '\(ckpt.kind)' checkpoint has no PyTorch export (gan, vae, ae, tagger)")
        }
        let keys = module.stateDict().keys.sorted()
        // A GAN trained with --ema: genlab samples from the weight average, kept beside the optimiser state.
        let emaNote =
            GANTask.average(in: ckpt).isEmpty
            ? ""
            : "\n    # genlab samples from the generator's weight average (train gan --ema):\n"
                + "    prefix = \"_optimizer.ema.generator.\"\n"
                + "    average = {k[len(prefix):]: v for k, v in load_file(\"checkpoint.safetensors\").items()\n"
                + "               if k.startswith(prefix)}\n"
                + "    model.generator.load_state_dict(average, strict=True)\n"

        let metaText = metadata.sorted { $0.key < $1.key }.map { "    \(pyString($0.key)): \(pyString($0.value))," }
            .joined(separator: "\n")
        let file = """
            \"\"\"\(className): a GenLab \(ckpt.kind) checkpoint's architecture in PyTorch, written by
            `genlab export --pytorch`.

                from safetensors.torch import load_file
                model = \(className)()
                state = {k: v for k, v in load_file("checkpoint.safetensors").items()
                         if not k.startswith("_optimizer.")}
                model.load_state_dict(state, strict=True)
                model.eval()
            \(emaNote)

            save_genlab(model, "trained_in_pytorch.safetensors") writes weights trained here back as a checkpoint that
            genlab sample, score, interpolate and inspect accept (GenLab's config and data description ride along).
            \"\"\"
            import torch
            from torch import nn

            GENLAB_METADATA = {
            \(metaText)
            }
            STATE_DICT_KEYS = \(keys.map(pyString).joined(separator: ", ").wrappedList)


            class CentreCrop(nn.Module):
                \"\"\"The centred size × size window of an [N, C, H, W] batch.\"\"\"
                def __init__(self, size):
                    super().__init__()
                    self.size = size

                def forward(self, x):
                    h, w = x.shape[2], x.shape[3]
                    top, left = (h - self.size) // 2, (w - self.size) // 2
                    return x[:, :, top:top + self.size, left:left + self.size]


            class Reshape(nn.Module):
                \"\"\"Each sample to `shape` (the batch axis kept).\"\"\"
                def __init__(self, *shape):
                    super().__init__()
                    self.shape = shape

                def forward(self, x):
                    return x.reshape(x.shape[0], *self.shape)


            \(body)


            def save_genlab(model, path):
                \"\"\"Writes model's weights as a GenLab checkpoint (safetensors with GenLab's metadata).\"\"\"
                from safetensors.torch import save_file
                state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
                missing = set(STATE_DICT_KEYS) ^ set(state)
                if missing:
                    raise ValueError(f"state dict keys differ from the GenLab model's: {sorted(missing)}")
                save_file(state, path, metadata=dict(GENLAB_METADATA))

            """
        try AtomicFile.write(Data(file.utf8), to: path)
        return Result(className: className, keys: keys.count)
    }

    // MARK: Classes

    // Long: writes the two Python classes; the text is the function.
    static func ganClasses(_ gan: DCGAN) -> String {
        let c = gan.config, plan = UpsamplingPlan(size: c.imageSize)
        let width = c.generatorFeatures << (plan.doublings - 1)
        let link: String
        switch c.output {
        case .tanh: link = "torch.tanh(h)"
        case .relu: link = "torch.relu(h)"
        case .square: link = "torch.relu(h) ** 2"
        case .sigmoid: link = "torch.sigmoid(h)"
        }
        let g = gan.generator, d = gan.discriminator
        // A conditional model reads the one-hot class after the noise, and projects it on the features.
        let k = c.classCount
        let onehotNote = k > 0 ? " and one-hot classes [N, \(k)]" : ""
        let conditionNoise = k > 0 ? "\n        z = torch.cat([z, class_onehot], dim=1)" : ""
        let embedLayer = d.embed.map { "\n        self.embed = \(python($0, indent: 8))" } ?? ""
        let projection = k > 0 ? " + (self.embed(class_onehot) * h).sum(dim=1)" : ""
        return """
            class Generator(nn.Module):
                \"\"\"Noise [N, \(c.latentDim)]\(onehotNote) → images [N, \(c.channels), \(c.imageSize), \(c.imageSize)]
                in model space.\"\"\"
                def __init__(self):
                    super().__init__()
                    self.project = \(python(g.project, indent: 8))
                    self.bn0 = \(python(g.bn0, indent: 8))
                    self.blocks = nn.ModuleList([\(g.blocks.map { python($0, indent: 12) }.joined(separator: ", "))])
                    self.toImage = \(python(g.toImage, indent: 8))
                    self.crop = CentreCrop(\(plan.size))

                def forward(self, z, class_onehot=None):\(conditionNoise)
                    h = torch.relu(self.bn0(self.project(z).reshape(-1, \(width), \(plan.start), \(plan.start))))
                    for block in self.blocks:
                        h = block(h)
                    h = self.crop(self.toImage(h))
                    return \(link)


            class Discriminator(nn.Module):
                \"\"\"Images in model space\(onehotNote) → real/fake logits [N].\"\"\"
                def __init__(self):
                    super().__init__()
                    self.blocks = nn.ModuleList([\(d.blocks.map { python($0, indent: 12) }.joined(separator: ", "))])
                    self.classify = \(python(d.classify, indent: 8))\(embedLayer)

                def forward(self, x, class_onehot=None):
                    h = torch.sqrt(x + 1e-8) if \(c.output == .square ? "True" : "False") else x
                    for block in self.blocks:
                        h = block(h)
                    if \(c.minibatchStd ? "True" : "False"):
                        sd = torch.sqrt(h.var(dim=0, unbiased=False) + 1e-8).mean()
                        h = torch.cat([h, sd.reshape(1, 1, 1, 1).expand(h.shape[0], 1, h.shape[2], h.shape[3])], dim=1)
                    h = h.flatten(1)
                    return self.classify(h).reshape(-1)\(projection)


            class GenLabDCGAN(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.generator = Generator()
                    self.discriminator = Discriminator()

                def forward(self, z, class_onehot=None):
                    return self.generator(z, class_onehot)
            """
    }

    static func vaeClass(_ vae: VAE, _ name: String) -> String {
        let c = vae.config
        let k = c.classCount
        let features = k > 0 ? "torch.cat([self.encoder(x), class_onehot], dim=1)" : "self.encoder(x)"
        let codes = k > 0 ? "torch.cat([z, class_onehot], dim=1)" : "z"
        let classNote = k > 0 ? " Class-conditional: every call also takes one-hot classes [N, \(k)]." : ""
        // An autoencoder has no log-variance head: its encode returns the code alone.
        let head: (layer: String, encoded: String, code: String)
        if let logVar = vae.logVar {
            head = (
                "\n        self.logVar = \(python(logVar, indent: 8))",
                "self.mu(h), torch.clamp(self.logVar(h), -20, 20)", "self.encode(x, class_onehot)[0]"
            )
        } else {
            head = ("", "self.mu(h)", "self.encode(x, class_onehot)")
        }
        return """
            class \(name)(nn.Module):
                \"\"\"GenLab's \(c.plain ? "autoencoder" : "VAE") (\(c.architecture), \(c.likelihood) likelihood):
                images in model space [N, \(c.channels), \(c.imageSize), \(c.imageSize)]; forward returns the
                reconstruction from \(c.plain ? "the code" : "z = μ").\(classNote)\"\"\"
                def __init__(self):
                    super().__init__()
                    self.encoder = \(python(vae.encoder, indent: 8))
                    self.mu = \(python(vae.mu, indent: 8))\(head.layer)
                    self.decoder = \(python(vae.decoder, indent: 8))

                def encode(self, x, class_onehot=None):
                    h = \(features)
                    return \(head.encoded)

                def decode(self, z, class_onehot=None):
                    raw = self.decoder(\(codes))
                    return torch.sigmoid(raw) if \(c.likelihood == .bernoulli ? "True" : "False") else raw

                def forward(self, x, class_onehot=None):
                    return self.decode(\(head.code), class_onehot)
            """
    }

    /// A GenLab layer as the PyTorch expression that builds its twin.
    static func python(_ m: Module, indent: Int) -> String {
        func pair(_ p: (Int, Int)) -> String { p.0 == p.1 ? "\(p.0)" : "(\(p.0), \(p.1))" }
        switch m {
        case let s as Sequential:
            let pad = String(repeating: " ", count: indent + 4)
            return "nn.Sequential(\n" + s.layers.map { pad + python($0, indent: indent + 4) + ",\n" }.joined()
                + String(repeating: " ", count: indent) + ")"
        case let n as SpectralNorm:
            // PyTorch's hook keeps the same keys: weight_orig, weight_u, weight_v.
            return "nn.utils.spectral_norm(\(python(n._layer, indent: indent)))"
        case let l as Linear:
            return "nn.Linear(\(l.inFeatures), \(l.outFeatures), bias=\(l.bias != nil ? "True" : "False"))"
        case let c as Conv2d:
            return
                "nn.Conv2d(\(c.weight.shape[1]), \(c.weight.shape[0]), "
                + "\(pair((c.weight.shape[2], c.weight.shape[3]))), "
                + "stride=\(pair(c.stride)), padding=\(pair(c.padding)), dilation=\(pair(c.dilation)), "
                + "bias=\(c.bias != nil ? "True" : "False"))"
        case let c as ConvTranspose2d:
            return
                "nn.ConvTranspose2d(\(c.weight.shape[0]), \(c.weight.shape[1]), "
                + "\(pair((c.weight.shape[2], c.weight.shape[3]))), "
                + "stride=\(pair(c.stride)), padding=\(pair(c.padding)), output_padding=\(pair(c.outputPadding)), "
                + "dilation=\(pair(c.dilation)), bias=\(c.bias != nil ? "True" : "False"))"
        case let b as BatchNorm2d:
            return
                "nn.BatchNorm2d(\(b.features), eps=\(b.eps), momentum=\(b.momentum), "
                + "affine=\(b.weight != nil ? "True" : "False"))"
        case let b as BatchNorm1d:
            return
                "nn.BatchNorm1d(\(b.features), eps=\(b.eps), momentum=\(b.momentum), "
                + "affine=\(b.weight != nil ? "True" : "False"))"
        case is ReLU: return "nn.ReLU()"
        case let l as LeakyReLU: return "nn.LeakyReLU(\(l.slope))"
        case is Sigmoid: return "nn.Sigmoid()"
        case is Tanh: return "nn.Tanh()"
        case is Softplus: return "nn.Softplus()"
        case let d as Dropout: return "nn.Dropout(\(d.p))"
        case let f as Flatten: return "nn.Flatten(\(f.startDim))"
        case let r as Reshape: return "Reshape(\(r.shape.map(String.init).joined(separator: ", ")))"
        case let p as MaxPool2d:
            return "nn.MaxPool2d(\(pair(p.kernel)), stride=\(pair(p.stride)), padding=\(pair(p.padding)))"
        case let c as CentreCrop: return "CentreCrop(\(c.size))"
        default: return "None  # no PyTorch twin for \(type(of: m))"
        }
    }

    static func pyString(_ s: String) -> String { PythonSource.stringLiteral(s) }
}

private extension String {
    var wrappedList: String { "[" + self + "]" }
}
