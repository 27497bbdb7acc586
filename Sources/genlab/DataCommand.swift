import ArgumentParser
import Datasets
import Formats
import Foundation
import Lab

/// `genlab data describe|preview`: look at a data set before training on it.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Inspect data files and folders.", subcommands: [Describe.self, Preview.self])

    /// The data to look at: PATH, or --data PATH (one of them).
    struct DataPath: ParsableArguments {
        @Argument(
            help: ArgumentHelp(
                "An image folder, or a PNG, JPEG, .npy, IDX, HDF5 or safetensors file (FILE.h5:/dataset picks an HDF5 "
                    + "dataset).", valueName: "path"))
        var positional: String?
        @Option(name: .customLong("data"), help: "The folder or file, as the positional PATH (default: none).")
        var flag: String?
        var path: String { positional ?? flag ?? "" }

        func validate() throws {
            switch (positional, flag) {
            case (nil, nil): throw ValidationError("give the data: PATH or --data PATH")
            case (.some, .some): throw ValidationError("give the data once: PATH or --data PATH, not both")
            default: return
            }
        }
    }

    struct Describe: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print what a file or folder holds: datasets, shapes, dtypes, attributes, statistics, NaN counts."
        )
        @OptionGroup var input: DataPath
        /// What to describe: PATH or --data.
        var path: String { input.path }

        @Option(help: "Also write the description to DIR/describe.txt. (default: none)") var out: String?
        @OptionGroup var output: OutputOptions
        @OptionGroup var limits: InputLimitOptions

        /// --json: the description, line by line, and what GenLab reads the file as.
        struct Description: Encodable {
            var path: String
            var lines: [String]
            var eventLayout: String?
            var events: Int?
        }

        func run() throws {
            try output.run { try describe() }
        }

        func describe() throws -> Description {
            var result = Description(path: path, lines: [])
            var lines = try Formats.Describe.report(path).components(separatedBy: "\n")
            if let events = try ModelInputs.eventFile(path) {
                let what = events.layout.isWholeEvents ? "events" : "jets"
                lines.insert(
                    "  recognised: \(events.layout.description); \(events.count) \(what)"
                        + (events.hasWeights ? ", per-event weights" : ""), at: 1)
                lines.insert(
                    "  GenLab reads it as jet constituents (pT, η, φ in GeV) and makes jet images from them: train, "
                        + "score, inspect, quality and classify take it as it is", at: 2)
                result.eventLayout = events.layout.description
                result.events = events.count
            }
            let text = lines.joined(separator: "\n")
            print(text)
            if let out {
                try OutputGuard.refuse(outputs: [out], inputs: [path])
                let run = try RunFolder(out)
                try AtomicFile.write(Data((text + "\n").utf8), to: run.file("describe.txt"))
            }
            result.lines = lines
            return result
        }
    }

    struct Preview: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a grid of the first images of a data set as a PNG.")
        @OptionGroup var input: DataPath
        /// What to preview: PATH or --data.
        var path: String { input.path }
        @Option(help: "Output folder: preview.png (or mean.png); a .png file name is the deprecated form.")
        var out: String
        @Option(help: "How many images.") var count = 64
        @Flag(help: "Stretch each image to its own range (default for HDF5 jet images).") var normalizeEach = false
        @Flag(help: "Write the mean image of the whole set instead (enlarged 8×).") var mean = false
        @OptionGroup var output: OutputOptions
        @OptionGroup var limits: InputLimitOptions

        func validate() throws { try Check.positive(count, "--count", max: 10_000) }

        func run() throws {
            try output.run { try preview() }
        }

        /// The PNG to write: --out itself (deprecated .png form), or preview.png / mean.png in the folder.
        func target() throws -> String {
            if out.lowercased().hasSuffix(".png") {
                Deprecation.note(
                    "--out FILE.png", use: "--out DIR (it gets \(mean ? "mean" : "preview").png)", quiet: output.quiet)
                return out
            }
            return try RunFolder(out).file(mean ? "mean.png" : "preview.png")
        }

        func preview() throws -> Outcome {
            try OutputGuard.refuse(outputs: [out], inputs: [path])
            let out = try target()
            if mean {
                let set = try ImageSet.load(path)
                let m = set.images.mean(axes: [0]).detach()
                let lo = m.scalars.min() ?? 0, hi = max(m.scalars.max() ?? 1, lo + 1e-12)
                let im = Image(tensor: m, range: lo...hi)
                // at most ~1024 px a side
                let factor = Swift.max(1, Swift.min(8, 1024 / Swift.max(im.width, im.height)))
                try im.resized(width: im.width * factor, height: im.height * factor, method: .area).writePNG(out)
                print("wrote \(out): the mean of \(set.count) images from \(set.source)")
                return Outcome(
                    command: "data preview", out: self.out, files: [out], figures: ["images": Double(set.count)])
            }
            let set: ImageSet
            if let events = try ModelInputs.particlesOnly(path) {
                set = try ModelInputs.jetImages(events, spec: .standardJets(source: path), limit: count)
            } else {
                set = try ImageSet.load(path, options: .init(limit: count))
            }
            let stretch = normalizeEach || set.attributes["image_preprocessing"] != nil
            let n = Swift.min(count, set.count)
            let grid = imageGrid(set.batch(Array(0..<n)), padding: 1, normalizeEach: stretch)
            try grid.writePNG(out)
            print("wrote \(out): \(n) images of \(set.width)×\(set.height) from \(set.source)")
            return Outcome(command: "data preview", out: self.out, files: [out], figures: ["images": Double(n)])
        }
    }
}
