import ArgumentParser
import Engine
import Formats
import Foundation
import Lab
import Physics

/// `genlab symmetry train|score|evaluate`.
struct Symmetry: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Does a network that only learns to draw an image discover its symmetry? Train the detector, score "
            + "images, measure a checkpoint.",
        subcommands: [TrainDetector.self, ScoreImages.self, EvaluateDetector.self, Samples.self])

    struct TrainDetector: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract:
                "Generate symmetry templates, fit a decoy network to each, train the classifier on their PCA images.",
            discussion: """
                OUT gets checkpoint.safetensors, metrics.csv, loss.png, confusion.png (held-out templates with exact \
                symmetry, scored as `symmetry score` does) and evaluation.json (accuracy per class for one decoy fit \
                and for the reported mean of --held-out-seeds fits, Spearman ρ between ε and the score pooled and \
                within --sweeps-per-class templates broken step by step, the score's spread across decoy seeds). \
                --input raw or untrained trains the controls: the same CNN on the image itself, or on PCA images of a \
                decoy that was never fitted.
                """)
        // The library's defaults, so the CLI cannot drift from them.
        static let defaults = SymmetryTrainingOptions()
        @Option(help: "Run folder.") var out = "Outputs/symmetry"
        @Option(name: .customLong("per-class"), help: "Training templates per class.") var perClass = Self.defaults
            .perClass
        @Option(name: .customLong("validation-per-class"), help: "Validation templates per class.")
        var validationPerClass = Self.defaults.validationPerClass
        @Option(
            name: .customLong("held-out-per-class"),
            help: "Held-out templates per class (new seeds, extrapolated parameters).") var heldOutPerClass = Self
            .defaults.heldOutPerClass
        @Option(
            name: .customLong("held-out-seeds"),
            help: "Decoy fits per held-out template for the reported-score evaluation (0: skip).") var heldOutSeeds =
            Self.defaults.heldOutSeeds
        @Option(
            name: .customLong("sweeps-per-class"),
            help: "Held-out templates per symmetric class broken step by step, ε = 0 … 1 (0: skip).")
        var sweepsPerClass = Self.defaults.sweepsPerClass
        @Option(
            name: .customLong("training-sweeps-per-class"),
            help:
                ArgumentHelp(
                    "Training templates per symmetric class broken step by step, ε = 0 … 1; the ε head also learns to "
                        + "rank each by ε (0: off).")
        ) var trainingSweepsPerClass = Self.defaults.trainingSweepsPerClass
        @Option(help: "Classifier input: pca, raw or untrained.") var input = "pca"
        @Option(help: "Principal components (PCA images) the classifier reads.") var components = Self.defaults
            .representation.components
        @Option(name: .customLong("decoy-steps"), help: "Optimisation steps per decoy fit.") var decoySteps = Self
            .defaults.representation.decoy.steps
        @Option(name: .customLong("decoy-width"), help: "Width of the decoy's two hidden layers.") var decoyWidth = Self
            .defaults.representation.decoy.hidden.last!
        @Flag(
            inversion: .prefixedNo,
            help:
                ArgumentHelp(
                    "Give the classifier the two-colour image as one more channel beside the PCA images (pca and "
                        + "untrained inputs).")
        )
        var imageChannel = Self.defaults.representation.withImage == true
        @Option(
            name: .customLong("shape-fraction"),
            help: "Fraction of the training templates drawn from the shape library instead of potentials (0…1).")
        var shapeFraction = Self.defaults.shapeFraction ?? 0
        @Option(
            name: .customLong("shape-generation"),
            help: "Shape families: 1 (the shipped model's) or 2 (adds frame-filling fields and stroke glyphs).")
        var shapeGeneration = Self.defaults.shapeGeneration ?? 1
        @Option(help: "Classifier training epochs.") var epochs = Self.defaults.epochs
        @Option(help: "Seed of every random stream: templates, decoys, classifier.") var seed = Self.defaults.seed
        @Flag(help: "Print nothing but errors (with --json: only the JSON).") var quiet = false
        @Flag(help: "Print the evaluation as JSON.") var json = false
        @Flag(
            help:
                ArgumentHelp(
                    "Continue the run in OUT: the same sets are drawn again, then the classifier continues exactly "
                        + "from its checkpoint.")
        )
        var resume = false
        @Flag(help: "Replace a run already in OUT.") var overwrite = false
        @Option(
            name: .customLong("max-steps"),
            help: "Stop the classifier (with a checkpoint to resume from) after this many steps (default: all epochs).")
        var maxSteps: Int?

        func validate() throws {
            if resume && overwrite { throw ValidationError("--resume and --overwrite exclude each other") }
            if let maxSteps { try Check.positive(maxSteps, "--max-steps", max: 1_000_000_000) }
            guard SymmetryRepresentation.Input(rawValue: input) != nil else {
                throw ValidationError("--input must be pca, raw or untrained")
            }
            guard perClass > 0, validationPerClass > 0, heldOutPerClass > 0, heldOutSeeds >= 0, sweepsPerClass >= 0,
                trainingSweepsPerClass >= 0, epochs > 0, components > 0, decoySteps > 0, decoyWidth > 1
            else {
                throw ValidationError(
                    "counts, epochs, components, decoy steps and width must be positive (--held-out-seeds and the "
                        + "sweep counts may be 0)"
                )
            }
            for (flag, value) in [
                ("--per-class", perClass), ("--validation-per-class", validationPerClass),
                ("--held-out-per-class", heldOutPerClass),
                ("--sweeps-per-class", sweepsPerClass), ("--training-sweeps-per-class", trainingSweepsPerClass),
            ] {
                try Check.range(value, flag, 0...5_000)  // templates are kept in memory: 6 classes × this × 16 KiB
            }
            try Check.range(heldOutSeeds, "--held-out-seeds", 0...1000)
            try Check.range(epochs, "--epochs", 1...100_000)
            try Check.range(components, "--components", 1...32)
            try Check.range(decoySteps, "--decoy-steps", 1...100_000)
            try Check.range(decoyWidth, "--decoy-width", 2...1024)
            try Check.finite(shapeFraction, "--shape-fraction", in: 0...1)
            try Check.range(shapeGeneration, "--shape-generation", 1...2)
        }

        func run() throws {
            try StdoutRedirect.quiet(quiet && !json) { try runCommand() }
        }

        func runCommand() throws {
            let kind = SymmetryRepresentation.Input(rawValue: input)!
            var o = SymmetryTrainingOptions()
            o.perClass = perClass; o.validationPerClass = validationPerClass; o.heldOutPerClass = heldOutPerClass
            o.heldOutSeeds = heldOutSeeds; o.sweepsPerClass = sweepsPerClass;
            o.trainingSweepsPerClass = trainingSweepsPerClass
            o.epochs = epochs; o.seed = seed; o.quiet = quiet || json
            o.shapeGeneration = shapeGeneration == 1 ? nil : shapeGeneration
            o.representation = SymmetryRepresentation(input: kind)
            o.representation.components = components
            o.representation.decoy.steps = decoySteps
            o.representation.decoy.hidden = [decoyWidth, decoyWidth]
            o.representation.withImage = kind == .raw ? nil : imageChannel
            o.shapeFraction = shapeFraction
            let r: SymmetryTraining.Result
            do {
                r = try SymmetryTraining.train(o, out: out, resume: resume, overwrite: overwrite, maxSteps: maxSteps) {
                    if !json { print($0) }
                }
            } catch let stopped as SymmetryTraining.Stopped {
                return print(stopped.description)
            }
            if json { print(String(decoding: try RunFolder.json(r), as: UTF8.self)); return }
            let h = r.heldOut
            print(
                String(
                    format:
                        "held-out (%d templates), one decoy fit each: accuracy %.1f %% on exact symmetries, %.1f %% "
                        + "overall; ρ(ε, score) = %.3f%@",
                    h.templates, 100 * h.accuracyExact, 100 * h.accuracyAll, h.spearmanEpsilonScore,
                    h.scoreSpreadAcrossSeeds.map {
                        String(
                            format: "; score spread across seeds %.3f per fit, %.3f for the %d-fit mean", $0,
                            h.reportedScoreSpread ?? .nan, o.heldOutSeeds)
                    } ?? ""))
            if let m = r.heldOutReported, m.seeds > 1 { printReported(m) }
            printPerClass(r.heldOutReported ?? h)
            r.sweeps.map(printSweeps)
            print(
                String(
                    format:
                        "%.0f s; wrote %@ (checkpoint.safetensors, confusion.png, evaluation.json, metrics.csv, "
                        + "loss.png)",
                    r.seconds, out))
        }
    }

    static func printReported(_ m: SymmetryEvaluation.Evaluation) {
        print(
            String(
                format:
                    "held-out, as reported (%@): accuracy %.1f %% on exact symmetries, %.1f %% overall; ρ(ε, score) "
                    + "= %.3f",
                m.seeds == 1 ? "one fit" : "mean of \(m.seeds) fits", 100 * m.accuracyExact, 100 * m.accuracyAll,
                m.spearmanEpsilonScore))
    }

    static func printPerClass(_ e: SymmetryEvaluation.Evaluation) {
        for (name, a) in e.perClassExact.sorted(by: { $0.key < $1.key }) {
            print("  " + name.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: " %.1f %%", 100 * a))
        }
    }

    static func printSweeps(_ w: SymmetryEvaluation.SweepEvaluation) {
        print(
            String(
                format:
                    "sweeps (%d templates broken step by step, ε = 0 … 1): ρ(ε, score) within a sweep: mean %.3f, "
                    + "median %.3f; %.0f %% fall with ρ ≤ −0.8",
                w.sweeps, w.meanSpearman, w.medianSpearman, 100 * w.fractionFalling))
        print(
            "  mean score by ε: "
                + zip(w.epsilons, w.meanScore).map { String(format: "%.1f → %.2f", $0.0, $0.1) }.joined(separator: ", ")
        )
        if let p = w.probeMeanSpearman {
            print(
                String(
                    format:
                        "  reference: the images' own disagreement with their nearest probed symmetry gives mean ρ "
                        + "%.3f",
                    p))
        }
    }

    /// The checkpoint given, or the shipped one.
    static func checkpointPath(_ given: String?) throws -> String {
        guard let path = given ?? SymmetryDetector.defaultCheckpoint() else {
            throw ValidationError(
                "no --checkpoint given and no Pretrained/symmetry.safetensors found (set GENLAB_HOME to the repository)"
            )
        }
        return path
    }

    struct EvaluateDetector: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "evaluate",
            abstract:
                "Measure a symmetry checkpoint on freshly drawn held-out templates and sweeps, scored as `symmetry "
                + "score` does.",
            discussion: """
                Held-out templates (new seeds, parameters outside the training ranges where a class allows) are drawn \
                from --seed, the sweeps (one template broken step by step, ε = 0 … 1) from --seed + 1000. \
                `symmetry train --seed s` draws its training templates from s, validation from s + 1000, held-out \
                templates from s + 2000, held-out sweeps from s + 3000 and training sweeps \
                (--training-sweeps-per-class) \
                from s + 4000: the default --seed 2000 repeats the measurement of a model trained with the default \
                seed, and --seed 3000 would draw, as sweeps, the training sweeps' potentials again (only the \
                parameters the held-out \
                library extrapolates differ). Seeds 5000 and up are sets such a model never saw. \
                OUT gets evaluation.json and confusion.png. With --images, labelled image files are measured instead \
                (their truth in their names, as Datasets/symmetry/test has it): accuracy overall, per class and per \
                folder, whether the class survives inverting the colours, and which way against the truth; OUT gets \
                image_evaluation.json, images.csv and confusion.png.
                """)
        static let defaults = SymmetryTrainingOptions()
        @Option(help: "A symmetry checkpoint (default: the shipped Pretrained/symmetry.safetensors).") var checkpoint:
            String?
        @Option(name: .customLong("held-out-per-class"), help: "Held-out templates per class (0: skip).")
        var heldOutPerClass = Self.defaults.heldOutPerClass
        @Option(name: .customLong("sweeps-per-class"), help: "Sweeps per symmetric class (0: skip).")
        var sweepsPerClass = Self.defaults.sweepsPerClass
        @Option(
            name: [.customLong("decoy-fits"), .customLong("seeds")],
            help: ArgumentHelp(
                "Decoy fits per template or image (--seeds: the older name); the score is their mean, as in `symmetry "
                    + "score` (default: \(Self.defaults.heldOutSeeds) per template; with --images, as `symmetry score` "
                    + "does, up to \(SymmetryDetector.defaultFits) per image, fewer once its verdict is settled).")
        )
        var decoyFits: Int?
        /// Fits per template, or the most an image gets.
        var seeds: Int { decoyFits ?? Self.defaults.heldOutSeeds }
        @Option(name: .customLong("first-decoy-seed"), help: firstDecoySeedHelp) var firstDecoySeed: UInt64 = 0
        @Option(help: "Seed of the held-out templates; the sweeps use seed + 1000.") var seed = SymmetrySeeds.heldOut
        @Option(
            name: .customLong("stability-images"),
            help:
                ArgumentHelp(
                    "Also measure the score's stability on this many held-out templates, each under 3 × --seeds decoy "
                        + "seeds, as `train` does with \(Self.defaults.stabilityImages) (0: skip).")
        ) var stabilityImages = 0
        @Option(help: "Run folder.") var out = "Outputs/symmetry_evaluation"
        @Option(
            parsing: .upToNextOption,
            help:
                ArgumentHelp(
                    "Measure on these labelled images (files or folders; default: none) instead of drawn templates: "
                        + "CLASS[-nORDER][-aAXIS]…[-dDIRECTION]__anything.png, e.g. Datasets/symmetry/test.")
        )
        var images: [String] = []
        @Flag(help: "Print nothing but errors (with --json: only the JSON).") var quiet = false
        @Flag(help: "Print the evaluation as JSON.") var json = false
        @Flag(help: keepHolesHelp) var keepHoles = false
        @OptionGroup var limits: InputLimitOptions

        func validate() throws {
            try Check.range(seeds, "--decoy-fits (--seeds)", 1...1000)
            try Check.range(firstDecoySeed, "--first-decoy-seed", firstDecoySeeds)
            guard firstDecoySeed == 0 || !images.isEmpty else {
                throw ValidationError("--first-decoy-seed applies to labelled images (--images); templates start at 0")
            }
            try Check.range(heldOutPerClass, "--held-out-per-class", 0...5_000)
            try Check.range(sweepsPerClass, "--sweeps-per-class", 0...1_000)
            try Check.range(stabilityImages, "--stability-images", 0...1_000)
            guard heldOutPerClass >= 0, sweepsPerClass >= 0, heldOutPerClass + sweepsPerClass > 0 else {
                throw ValidationError("--held-out-per-class and --sweeps-per-class must be ≥ 0, and not both 0")
            }
            guard seeds > 0 else { throw ValidationError("--decoy-fits (--seeds) must be positive") }
            guard stabilityImages >= 0, stabilityImages == 0 || heldOutPerClass > 0 else {
                throw ValidationError(
                    "--stability-images must be ≥ 0, and needs held-out templates (--held-out-per-class > 0)")
            }
        }

        func run() throws {
            try StdoutRedirect.quiet(quiet && !json) { try runCommand() }
        }

        func runCommand() throws {
            let path = try checkpointPath(checkpoint)
            let detector = try SymmetryDetector(checkpoint: path)
            detector.fillsHoles = !keepHoles
            if !images.isEmpty { return try evaluateImages(detector, path) }
            let r = try SymmetryEvaluation.evaluateCheckpoint(
                detector, checkpoint: path, heldOutPerClass: heldOutPerClass, sweepsPerClass: sweepsPerClass,
                seeds: seeds, seed: seed, stabilityImages: stabilityImages, out: out, quiet: quiet || json)
            for w in r.warnings { FileHandle.standardError.write(Data("warning: \(w): not a held-out number\n".utf8)) }
            if json { print(String(decoding: try RunFolder.json(r), as: UTF8.self)); return }
            let sets = [
                r.heldOut.map { "\($0.templates) held-out templates (seed \(seed))" },
                r.sweeps.map { "\($0.sweeps) sweeps (seed \(seed &+ SymmetrySeeds.sweepsAfterHeldOut))" },
            ]
            print("\(path): " + sets.compactMap { $0 }.joined(separator: ", "))
            if let m = r.heldOut { printReported(m); printPerClass(m) }
            if let s = r.stability {
                print(
                    String(
                        format:
                            "stability (%d held-out templates, %d decoy seeds each): one fit's score varies by %.3f, "
                            + "the %d-fit mean by %.3f (standard deviations)",
                        s.images, 3 * s.fits, s.perFit, s.fits, s.reported))
            }
            r.sweeps.map(printSweeps)
            print(
                String(
                    format: "%.0f s; wrote %@ (evaluation.json%@)", r.seconds, out,
                    r.heldOut == nil ? "" : ", confusion.png"))
        }

        func evaluateImages(_ detector: SymmetryDetector, _ path: String) throws {
            let (labelled, unlabelled) = try SymmetryImageEvaluation.collect(images)
            guard !labelled.isEmpty else {
                throw ValidationError(
                    "none of the \(unlabelled.count) images under \(images.joined(separator: ", ")) has its truth in "
                        + "its name "
                        + "(CLASS[-nORDER][-aAXIS]…[-dDIRECTION]__anything.png)")
            }
            if !unlabelled.isEmpty {
                FileHandle.standardError.write(
                    Data(
                        ("warning: \(unlabelled.count) images without truth in their names left out, e.g. "
                            + "\(unlabelled[0])\n").utf8))
            }
            let r = try SymmetryImageEvaluation.evaluate(
                labelled, detector: detector, checkpoint: path, seeds: seeds, firstSeed: firstDecoySeed,
                stopping: decoyFitStopping(decoyFits), out: out, quiet: quiet || json)
            if json { print(String(decoding: try RunFolder.json(r), as: UTF8.self)); return }
            // The seeds are named only when they do not start at the default's 0.
            let which = firstDecoySeed == 0 ? "" : " (seeds \(firstDecoySeed)–\(firstDecoySeed + UInt64(seeds) - 1))"
            print(
                String(
                    format:
                        "%@: %d labelled images, mean of %@ decoy fits%@: accuracy %.1f %%; class unchanged when "
                        + "inverted %.1f %%",
                    path, r.images, r.meanFits.map { String(format: "%.1f (at most %d)", $0, r.seeds) } ?? "\(r.seeds)",
                    which, 100 * r.accuracy, 100 * r.polarityUnchanged))
            for name in SymmetryClass.allCases.map(\.name) {
                guard let a = r.perClass[name] else { continue }
                print(
                    "  " + name.padding(toLength: 18, withPad: " ", startingAt: 0)
                        + String(format: " %5.1f %% of %d", 100 * a, r.perClassCount[name] ?? 0))
            }
            for (folder, a) in r.perFolder.sorted(by: { $0.key < $1.key }) where r.perFolder.count > 1 {
                print(
                    "  folder " + folder.padding(toLength: 11, withPad: " ", startingAt: 0)
                        + String(format: " %5.1f %%", 100 * a))
            }
            if let o = r.orderCorrect {
                print(String(format: "  order of Cn/Dn right: %.1f %% of %d", 100 * o, r.orderImages))
            }
            if let a = r.axisWithin10 {
                print(
                    String(format: "  mirror axis within 10°: %.1f %% of %d one-mirror images", 100 * a, r.axisImages))
            }
            if let a = r.reflectionWithAxisWithin5 {
                print(
                    String(format: "  one-mirror images read as reflection with the axis within 5°: %.1f %%", 100 * a))
            }
            if let d = r.directionWithin10 {
                print(String(format: "  stripe direction within 10°: %.1f %% of %d", 100 * d, r.directionImages))
            }
            print(String(format: "%.0f s; wrote %@ (image_evaluation.json, images.csv, confusion.png)", r.seconds, out))
        }
    }

    struct Samples: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "samples",
            abstract: "Write examples of the detector's training data as PNGs, their truth in their names.",
            discussion: """
                --source shapes draws SymmetryShapes (plain and group-symmetrised shapes, in canonical form), \
                templates \
                the potentials of SymmetryTemplates (exact, ε = 0). Names follow `symmetry evaluate --images`: \
                CLASS[-nORDER][-aAXIS]…[-dDIRECTION]__INDEX_WHAT.png, so the folder is a labelled test set. Also \
                writes \
                sheet.png, every sample side by side.
                """)
        enum Source: String, ExpressibleByArgument, CaseIterable { case shapes, templates }
        @Option(help: "Folder to write into (must be empty or new unless --overwrite).") var out =
            "Outputs/symmetry_samples"
        @Option(help: "shapes or templates.") var source: Source = .shapes
        @Option(name: .customLong("per-class"), help: "Samples per class.") var perClass = 8
        @Option(
            name: [.customLong("image-size"), .customLong("size")],
            help: "Side of each PNG in pixels (--size: the older name).")
        var size = 64
        @Option(help: "Seed of the drawing.") var seed: UInt64 = 0
        @Option(
            name: .customLong("shape-generation"),
            help: "Shape families: 1 (the shipped model's training data) or 2 (adds fields and stroke glyphs).")
        var shapeGeneration = 1
        @Flag(help: "Write into a folder that already holds files.") var overwrite = false
        @OptionGroup var output: OutputOptions

        func validate() throws {
            try Check.range(perClass, "--per-class", 1...1000)
            try Check.range(size, "--image-size (--size)", 8...512)
            try Check.range(shapeGeneration, "--shape-generation", 1...2)
        }

        func run() throws {
            try output.run { try writeSamples() }
        }

        func writeSamples() throws -> Outcome {
            let existing = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
            guard existing.isEmpty || overwrite else {
                throw FormatError(out, "already holds \(existing.count) files; pass --overwrite to write into it")
            }
            let run = try RunFolder(out)
            var rng = PRNG(seed: seed)
            let shapes = SymmetryShapes(size: size, renderSize: 2 * size, generation: shapeGeneration),
                library = SymmetryTemplates(size: size)
            var tiles: [Float] = [], written = 0
            for k in 0..<perClass {
                for c in SymmetryClass.allCases {
                    let t = source == .shapes ? shapes.shape(c, rng: &rng) : library.template(c, epsilon: 0, rng: &rng)
                    let what = t.description.prefix(40).map { $0.isLetter || $0.isNumber ? $0 : "_" }
                    let name = SymmetryTruth(t).stem + "__" + String(format: "%03d_", k) + String(what)
                    let ink = t.pixels.map { 1 - $0 }
                    try Image(width: size, height: size, channels: 1, pixels: ink).writePNG(run.file(name + ".png"))
                    tiles += ink; written += 1
                }
            }
            let sheet = imageGrid(
                Tensor(shape: [written, 1, size, size], data: tiles), columns: SymmetryClass.allCases.count,
                background: 0.5)
            try sheet.writePNG(run.file("sheet.png"))
            print(
                "wrote \(written) \(source.rawValue) to \(out)/ (one column per class: "
                    + SymmetryClass.allCases.map(\.name).joined(separator: ", ") + "; sheet.png)")
            return Outcome(
                command: "symmetry samples", out: out, files: [run.file("sheet.png")],
                figures: ["images": Double(written)])
        }
    }

    struct ScoreImages: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "score",
            abstract: "Score PNG/JPEG images: class probabilities, the symmetry score and its spread over decoy seeds.",
            discussion: """
                Each image is made grey and cut at Otsu's threshold; the shape is the colour that covers less of \
                the border (so inverting the colours changes nothing), its closed outlines filled (--keep-holes \
                leaves them), framed on its centroid and extent, turned so that its best mirror axis is upright, \
                and brought to 32×32 (checkpoints from before this pipeline: centre-cropped, resized, darker \
                pixels are the shape). Which way — the order of a discrete rotation, the mirror axes, the \
                stripes' direction, in degrees counter-clockwise from the rightward axis — is measured on the \
                two-colour image at 64×64 and printed after the class; a discrete rotation that the image \
                does not agree with (its best turn by 360°/n below \(SymmetryDetector.rotationAgreementFloor)), \
                or two mirrors where no axis agrees \(SymmetryGeometry.threshold), is overruled to none, a none \
                where the image agrees \(SymmetryDetector.clearMirrorAgreement) with its mirror image to that \
                mirror, and the line says so. \
                Writes a report picture per image (input, two-colour image with which way drawn on it, PCA \
                images) into --out.
                """)
        @Argument(help: ArgumentHelp("PNG or JPEG images.", valueName: "images")) var positionalImages: [String] = []
        @Option(name: .customLong("data"), help: "Images, as the positional ones (repeatable) (default: none).")
        var dataImages: [String] = []
        /// The images to score: the positional ones, then every --data.
        var images: [String] { positionalImages + dataImages }
        @Option(help: "A symmetry checkpoint (default: the shipped Pretrained/symmetry.safetensors).") var checkpoint:
            String?
        @Option(
            name: [.customLong("decoy-fits"), .customLong("seeds")],
            help: ArgumentHelp(
                "Decoy fits per image, each from its own seed (--seeds: the older name); the score is their mean "
                    + "(default: up to \(SymmetryDetector.defaultFits), fewer once the image's verdict is settled — "
                    + "\(DecoyFitStopping.standard.first) first, then \(DecoyFitStopping.standard.round) at a time; a "
                    + "number gives every image exactly that many)."))
        var decoyFits: Int?
        @Option(name: .customLong("first-decoy-seed"), help: firstDecoySeedHelp) var firstDecoySeed: UInt64 = 0
        @Option(help: "Folder for the report pictures.") var out = "Outputs/symmetry_scores"
        @Flag(help: "Print the scores as JSON.") var json = false
        @Flag(help: "Print nothing but errors (with --json: only the JSON).") var quiet = false
        @Flag(help: keepHolesHelp) var keepHoles = false
        @OptionGroup var limits: InputLimitOptions

        func validate() throws {
            guard !images.isEmpty else { throw ValidationError("give the images to score (IMAGES … or --data FILE)") }
            if let decoyFits { try Check.positive(decoyFits, "--decoy-fits (--seeds)", max: 1000) }
            try Check.range(firstDecoySeed, "--first-decoy-seed", firstDecoySeeds)
        }

        func run() throws {
            try StdoutRedirect.quiet(quiet && !json) { try runCommand() }
        }

        func runCommand() throws {
            let path = try checkpointPath(checkpoint)
            let detector = try SymmetryDetector(checkpoint: path)
            detector.fillsHoles = !keepHoles
            var scores = try SymmetryRun.score(
                images, detector: detector, seeds: decoyFits ?? SymmetryDetector.defaultFits, firstSeed: firstDecoySeed,
                stopping: decoyFitStopping(decoyFits), out: out)
            for i in scores.indices { scores[i].image = images[i] }
            if json { print(String(decoding: try RunFolder.json(scores), as: UTF8.self)); return }
            for s in scores {
                print(
                    String(
                        format: "%@: score %.2f ± %.2f — %@, ε̂ = %.2f, P(none) = %.2f", s.image ?? "",
                        s.score, s.scoreSpread, s.verdict, s.epsilon, s.probabilities["none"] ?? .nan)
                        // Which way belongs to a symmetry the verdict reports, not to a none.
                        + (s.mostLikely == SymmetryClass.none.name ? "" : s.whichWay.map { "; " + $0 } ?? "")
                        + (s.overruled.map { "; " + $0 } ?? ""))
            }
            print("report pictures in \(out)/")
        }
    }
}

/// `--first-decoy-seed` (score, evaluate --images): the one place its meaning and its bound are written.
private let firstDecoySeedHelp = ArgumentHelp(
    "The first decoy fit's seed: the fits use seeds S, S + 1, …, so a run with another S measures how much a "
        + "verdict depends on the decoys (default: 0).")
private let firstDecoySeeds: ClosedRange<UInt64> = 0...1_000_000_000

/// `--decoy-fits` (score, evaluate --images): a number gives every image exactly that many fits; left
/// out, an image's fits stop once its verdict is settled (the one place that policy is chosen).
private func decoyFitStopping(_ decoyFits: Int?) -> DecoyFitStopping? { decoyFits == nil ? .standard : nil }

/// `--keep-holes` (score, evaluate --images): the one place its meaning is written.
private let keepHolesHelp = ArgumentHelp(
    "Score image files with their holes as they are (before 2026-12-05's behaviour); by default a closed "
        + "outline is filled, since it has the symmetries of the region it bounds.")
