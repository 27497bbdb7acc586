import ArgumentParser
import Formats
import Foundation
import Lab

/// `genlab export`: a trained model out of GenLab, as ONNX and as a PyTorch module file.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a trained model (or one part of it) as ONNX, or as a standalone PyTorch module file.",
        discussion: """
            --onnx OUT.onnx writes the part (opset 17, batch-dynamic) and OUT.reference.safetensors: seeded inputs and \
            GenLab's outputs for them, to check any runtime against (scripts/python/check_export.py). Parts: gan → \
            generator \
            (default), discriminator; vae/ae → scorer (default: events as stored in, the default anomaly score out), \
            decoder, encoder, autoencoder; tagger → tagger. --pytorch OUT.py writes a PyTorch nn.Module for the \
            checkpoint's architecture whose load_state_dict(strict=True) takes the checkpoint.
            """)

    @Option(help: "A checkpoint written by genlab train or genlab classify train.") var checkpoint: String
    @OptionGroup var weights: GeneratorWeightsOptions
    @Option(help: "Output folder: model.onnx (+ model.reference.safetensors) and model.py. (default: none)")
    var out: String?
    @Option(help: "Write an ONNX model to this file (deprecated: use --out DIR). (default: none)") var onnx: String?
    @Option(
        help: "generator, discriminator, encoder, decoder, autoencoder, scorer or tagger (default: the kind's first).")
    var part: String?
    @Option(help: "Write a standalone PyTorch module to this file (deprecated: use --out DIR). (default: none)")
    var pytorch: String?
    @Option(name: .customLong("reference-batch"), help: "Examples in the reference file.") var referenceBatch = 4
    @Flag(help: "Replace existing output files.") var overwrite = false
    @OptionGroup var output: OutputOptions
    @OptionGroup var limits: InputLimitOptions

    func validate() throws {
        guard onnx != nil || pytorch != nil || out != nil else {
            throw ValidationError("give --out DIR (or the older --onnx OUT.onnx / --pytorch OUT.py)")
        }
        if let part, ONNXExport.Part(rawValue: part) == nil {
            throw ValidationError(
                "--part must be one of \(ONNXExport.Part.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try Check.positive(referenceBatch, "--reference-batch", max: 1024)
    }

    func run() throws {
        try output.run { try export() }
    }

    // Long: the two formats, each with its own summary line.
    func export() throws -> Outcome {
        if onnx != nil {
            Deprecation.note("--onnx FILE", use: "--out DIR (it gets model.onnx and model.py)", quiet: output.quiet)
        }
        if pytorch != nil {
            Deprecation.note("--pytorch FILE", use: "--out DIR (it gets model.onnx and model.py)", quiet: output.quiet)
        }
        if let out {
            try OutputGuard.refuse(outputs: [out], inputs: [checkpoint])
            try OutputPath.makeFolder(out, for: out + "/model.onnx")
        }
        let onnx = self.onnx ?? out.map { $0 + "/model.onnx" }
        let pytorch = self.pytorch ?? out.map { $0 + "/model.py" }
        let outputs = [onnx, onnx.map(ONNXExport.referencePath), pytorch].compactMap { $0 }
        try OutputGuard.refuse(outputs: outputs, inputs: [checkpoint], distinct: true)
        for out in outputs where !overwrite && FileManager.default.fileExists(atPath: out) {
            throw FormatError(out, "exists; pass --overwrite to replace it")
        }
        if let onnx {
            let r = try ONNXExport.export(
                checkpoint: checkpoint, part: part.flatMap(ONNXExport.Part.init(rawValue:)), to: onnx,
                referenceBatch: referenceBatch, rawWeights: weights.rawWeights)
            print(
                "wrote \(onnx): \(r.part.rawValue), \(r.nodes) nodes, \(r.parameters) parameters; inputs "
                    + "\(r.inputs.joined(separator: ", ")) "
                    + "→ outputs \(r.outputs.joined(separator: ", "))")
            print(
                "wrote \(r.reference): reference inputs and GenLab's outputs (check with "
                    + "scripts/python/check_export.py)"
            )
        }
        if let pytorch {
            let r = try PyTorchExport.export(checkpoint: checkpoint, to: pytorch)
            print(
                "wrote \(pytorch): class \(r.className); \(r.keys) state-dict keys (load_state_dict(strict=True) "
                    + "takes \(checkpoint))"
            )
        }
        return Outcome(command: "export", out: out, files: outputs)
    }
}
