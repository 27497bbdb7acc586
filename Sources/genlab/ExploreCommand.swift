import ArgumentParser
import ExploreServer
import Formats
import Foundation
import Lab

/// `genlab explore`: a local web page to explore a trained GAN/VAE live, and the runs view.
struct Explore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explore a trained GAN or VAE in the browser: latent sliders, random draws, walks between images.",
        discussion: """
            Serves a page on http://127.0.0.1:PORT/ (loopback only unless --host says otherwise) until \
            Ctrl-C. Sliders follow the latent dimensions, most active first (a VAE with --data is \
            ranked as `genlab inspect` ranks it); --data also gives the training images to walk \
            between. A class-conditional model (train --conditional) gets a class menu: images are \
            drawn and encoded for the chosen class, and a labelled training image picked as an end \
            chooses its own class. The Runs tab lists the run folders under --runs with their curves \
            and pictures.
            """)
    @Option(help: "A GAN, VAE or AE checkpoint written by genlab train.") var checkpoint: String
    @Option(
        help: ArgumentHelp(
            "Training images (folder or file): the gallery, and a VAE's ranking (default: the data the run's "
                + "options.json names, when it is there)."))
    var data: String?
    @Option(help: "Address to listen on; anything but loopback lets other machines in.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 8080
    @Option(help: "The folder the Runs tab lists.") var runs = "Outputs"
    @Option(help: "Folder for images kept with the page's Keep button (default: Keep is off).") var out: String?
    @Flag(help: "Print the address as one JSON line ({\"url\": …}) instead of text.") var json = false
    @Flag(help: "Print nothing but errors.") var quiet = false
    @OptionGroup var limits: InputLimitOptions

    func validate() throws {
        try Check.range(port, "--port", 0...65535)
        guard !host.isEmpty, host.count <= 255, !host.contains("/") else {
            throw ValidationError("--host must be an address or host name, not '\(host)'")
        }
    }

    func run() throws {
        if let out {
            try OutputGuard.refuse(outputs: [out], inputs: [checkpoint] + (data.map { [$0] } ?? []))
            try OutputPath.makeFolder(out, for: out)
        }
        let data = self.data ?? Self.trainingData(of: checkpoint)
        if self.data == nil, let data, !quiet, !json {
            print("gallery and ranking from \(data) (the run's options.json; --data to choose another)")
        }
        let explorer = try LatentExplorer(checkpoint: checkpoint, data: data)
        var options = ExploreServer.Options()
        options.host = host; options.port = port; options.runsRoot = runs
        options.saveFolder = out; options.quiet = quiet
        let host = host, json = json, quiet = quiet
        let app = ExploreServer(explorer: explorer, options: options).application { bound in
            let shown = host.contains(":") ? "[\(host)]" : host
            let url = "http://\(shown):\(bound)/"
            if json {
                print(#"{"url": "\#(url)"}"#)
            } else if !quiet {
                print(
                    "GenLab explorer: \(url)  (\(explorer.summary.kind), \(explorer.summary.latentDim) latent "
                        + "dimensions; Ctrl-C stops)")
            }
        }
        let outcome = ServerOutcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { try await app.runService() } catch { outcome.set(error) }
            done.signal()
        }
        done.wait()
        if let error = outcome.error {
            let text = "\(error)"
            if text.contains("Address already in use") {
                throw FormatError(
                    "--port \(port)", "\(host):\(port) is in use; choose another --port (0: any free one)")
            }
            if text.contains("Cannot assign requested address") || text.contains("getaddrinfo") {
                throw FormatError("--host \(host)", "cannot listen there: \(text)")
            }
            throw FormatError("genlab explore", text)
        }
    }
}

extension Explore {
    /// The data a run was trained on, from the options.json beside its checkpoint, when that file
    /// names one that still exists (nil otherwise: the explorer runs without a gallery).
    static func trainingData(of checkpoint: String) -> String? {
        let folder = (checkpoint as NSString).deletingLastPathComponent
        let options = (folder.isEmpty ? "." : folder) + "/options.json"
        guard let bytes = FileManager.default.contents(atPath: options), bytes.count < 1 << 20,
            let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any],
            let data = object["data"] as? String ?? (object["data"] as? [String])?.first, !data.isEmpty,
            FileManager.default.fileExists(atPath: data.split(separator: ":").first.map(String.init) ?? data)
        else { return nil }
        return data
    }
}

/// The server task's error, handed to the waiting command.
private final class ServerOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    var error: Error? { lock.withLock { stored } }
    func set(_ error: Error) { lock.withLock { stored = error } }
}
