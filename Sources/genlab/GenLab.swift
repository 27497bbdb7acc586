import ArgumentParser
import Formats
import Foundation

/// `genlab`: GenLab's command-line program. Each subcommand parses its flags and calls the library.
@main
struct GenLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genlab",
        abstract: "A generative-model laboratory: GANs, VAEs and anomaly scoring on one fast, tested engine.",
        version: "0.1.0",
        subcommands: [Demo.self, Train.self, Sample.self, Interpolate.self, Score.self, Classify.self, QualityCommand.self, DataCommand.self, Inspect.self, Symmetry.self, Export.self, Bench.self])

    /// Swift turns an argument that is not UTF-8 into one with U+FFFD in it, which would name no
    /// file; such an argument is refused by position, with the reason, before anything runs.
    static func main() {
        for i in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[i], String(validatingCString: raw) == nil else { continue }
            let shown = String(decoding: UnsafeRawBufferPointer(start: raw, count: strlen(raw)).bindMemory(to: UInt8.self), as: UTF8.self)
            FileHandle.standardError.write(Data(("Error: argument \(i) (\(shown)) is not valid UTF-8: GenLab needs UTF-8 file names "
                + "(rename the file, e.g. with convmv)\n").utf8))
            Foundation.exit(64)
        }
        if CommandLine.argc == 3, CommandLine.arguments[1] == HDF5Probe.command { HDF5Probe.runChild(CommandLine.arguments[2]) }
        HDF5File.probe = HDF5Probe.check
        Self.main(nil)
    }
}
