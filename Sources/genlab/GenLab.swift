import ArgumentParser
import Cluster
import Formats
import Foundation
import Lab

/// `genlab`: GenLab's command-line program. Each subcommand parses its flags and calls the library.
@main
struct GenLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genlab",
        abstract: "A generative-model laboratory: GANs, VAEs and anomaly scoring on one fast, tested engine.",
        version: "0.1.0",
        subcommands: [
            Demo.self, Train.self, Sample.self, Interpolate.self, Score.self, Classify.self, QualityCommand.self,
            DataCommand.self, Inspect.self, Symmetry.self, Export.self, Explore.self, Bench.self, Hunt.self,
        ])

    /// Swift turns an argument that is not UTF-8 into one with U+FFFD in it, which would name no
    /// file; such an argument is refused by position, with the reason, before anything runs.
    static func main() {
        for i in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[i], String(validatingCString: raw) == nil else { continue }
            let shown = String(
                decoding: UnsafeRawBufferPointer(start: raw, count: strlen(raw)).bindMemory(to: UInt8.self),
                as: UTF8.self)
            FileHandle.standardError.write(
                Data(
                    ("Error: argument \(i) (\(shown)) is not valid UTF-8: GenLab needs UTF-8 file names "
                        + "(rename the file, e.g. with convmv)\n").utf8))
            Foundation.exit(64)
        }
        if CommandLine.argc == 3, CommandLine.arguments[1] == HDF5Probe.command {
            HDF5Probe.runChild(CommandLine.arguments[2])
        }
        // Under nohup or Slurm stdout is a file: line by line, so progress shows as it happens.
        if isatty(STDOUT_FILENO) == 0 { setvbuf(stdout, nil, _IOLBF, 0) }
        if CommandLine.argc >= 2, let hint = suggestion(for: CommandLine.arguments[1]) {
            FileHandle.standardError.write(Data("Error: \(hint)\n".utf8))
            Foundation.exit(64)
        }
        HDF5File.probe = HDF5Probe.check
        let arguments: [String]
        do { arguments = try RunConfig.expand(Array(CommandLine.arguments.dropFirst())) } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            Foundation.exit(error is ValidationError ? 64 : 1)
        }
        let cluster: Cluster
        do { cluster = try Cluster.start() } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            Foundation.exit(69)
        }
        guard cluster.isDistributed else { Self.main(arguments); return }
        runAsRank(cluster, arguments: arguments)
    }

    /// "unknown command 'trian'; did you mean 'train'?" for a first word that is no subcommand and
    /// lies within two edits of one; nil when it is a subcommand, a flag, or nothing close.
    static func suggestion(for word: String) -> String? {
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        guard !word.hasPrefix("-"), !names.contains(word) else { return nil }
        let close = names.map { ($0, editDistance(word.lowercased(), $0)) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }
        return close.map { "unknown command '\(word)'; did you mean '\($0.0)'? (genlab --help lists the commands)" }
    }

    /// Levenshtein distance between two short words.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }

    /// The commands that share their work over the ranks of an mpirun job.
    static func sharesWork(_ command: ParsableCommand) -> Bool {
        if let evaluate = command as? Symmetry.EvaluateDetector { return !evaluate.images.isEmpty }
        return command is Train || command is Score || command is Classify.TrainTagger || command is Inspect
            || command is Symmetry.ScoreImages || command is Symmetry.TrainDetector || command is Hunt
    }

    /// One rank of an `mpirun` job. Rank 0 speaks; the others keep their standard output and
    /// progress bars quiet and print only errors of their own, with their rank. A rank that fails
    /// exits without MPI_Finalize, so mpirun ends the job instead of leaving the others waiting.
    static func runAsRank(_ cluster: Cluster, arguments: [String]) -> Never {
        if !cluster.isRoot {
            ProgressBar.muted = true
            let null = open("/dev/null", O_WRONLY)
            if null >= 0 { dup2(null, 1); close(null) }
        }
        do {
            var command = try parseAsRoot(arguments)
            if !sharesWork(command) {
                // Running it on every rank would only repeat it (and race on its output files).
                guard cluster.isRoot else { Foundation.exit(0) }
                FileHandle.standardError.write(
                    Data("genlab: this command does not share its work over ranks; rank 0 runs it alone\n".utf8))
                Cluster.runAlone()
            }
            try command.run()
            Foundation.exit(0)
        } catch is FollowerDone {
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            if cluster.isRoot || !(error is StoppedWithRoot || code == .success || error is ExitCode) {
                let message = fullMessage(for: error)
                if !message.isEmpty {
                    let who = cluster.isRoot ? "" : "rank \(cluster.rank) of \(cluster.size): "
                    FileHandle.standardError.write(Data((who + message + "\n").utf8))
                }
            }
            fflush(stdout)
            if code == .success { Foundation.exit(0) }
            _exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}
