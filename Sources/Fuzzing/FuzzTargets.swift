import Datasets
import Engine
import Formats
import Foundation
import Lab
import Models
import NN

/// The readers a fuzzer drives: each takes arbitrary bytes and must end in a value or a thrown
/// error — a trap, a hang or a sanitizer report is the bug. `genlab-fuzz` runs them under
/// libFuzzer (`make fuzz`) or replays files through them; the tests replay the committed corpus.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case png, jpeg, npy, npz, idx, hdf5, safetensors, lhco, checkpointConfig = "checkpoint-config"
    /// The event layouts (pandas fixed/table, JetNet, ATLAS, GenLab's) through `EventFile`.
    case events
    /// pandas' pickled column names, read as tokens.
    case pickledNames = "pickled-names"
    /// PyTorch / TorchScript zip archives (the FID Inception weights' format): zip, pickle, storages.
    case torchArchive = "torch-archive"

    /// Limits small enough that a fuzzer's inputs stay fast, large enough to reach every branch.
    static let limits = InputLimits(maxBytes: 64 << 20)

    /// Runs the target on `data`; errors are the expected outcome for most inputs.
    public func run(_ data: Data) {
        InputLimits.current = Self.limits
        Warnings.handler = { _ in }
        do {
            switch self {
            case .npy: _ = try NPY.decode(data, file: "fuzz.npy")
            case .npz: _ = try NPZ.decode(data, file: "fuzz.npz")
            case .safetensors: _ = try Checkpoint.decode(data, file: "fuzz.safetensors")
            case .checkpointConfig: try checkpointConfig(data)
            case .torchArchive:
                _ = try? Unpickler(data, file: "fuzz.pkl").load()
                let archive = try TorchArchive(data, file: "fuzz.pt")
                _ = try archive.entries()
                _ = archive.objectTypes()
            case .pickledNames:
                _ = try PickledNames.parse(String(decoding: data, as: UTF8.self), file: "fuzz", attribute: "kind")
            case .png, .jpeg, .idx, .hdf5, .lhco, .events:
                // These readers work on paths (libpng, libjpeg and libhdf5 read files themselves).
                let path = FuzzTarget.scratch + "/input." + rawValue
                guard FileManager.default.createFile(atPath: path, contents: data) else { return }
                defer { unlink(path) }
                switch self {
                case .png, .jpeg: _ = try Image.read(path)
                case .idx: _ = try IDX.read(path)
                case .events:
                    guard let events = try EventFile(path) else { return }
                    for start in stride(from: 0, to: min(events.count, 4096), by: 512) {
                        _ = try events.read(start, min(512, events.count - start))
                    }
                case .hdf5:
                    let file = try HDF5File(path)
                    _ = try file.entries()
                    _ = try file.attributes()
                    _ = try ImageSet.load(path)
                default:
                    let spec = DataSpec(
                        source: "fuzz", imageSize: 25, channels: 1, scaling: .unitSum,
                        preprocessing: "image_preprocessing=fuzz; image_size=25")
                    _ = try AnomalyScorer.readEvents(path, spec: spec, jetsPerEvent: 2)
                }
            }
        } catch {}
    }

    /// A folder of its own for the path-based readers (in /dev/shm when there is one: fast).
    static let scratch: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = base + "/genlab-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// A model config as a checkpoint would carry it: decoded, checked, and built when it passes.
    private func checkpointConfig(_ data: Data) throws {
        let text = String(decoding: data, as: UTF8.self)
        let ckpt = Checkpoint(kind: "fuzz", config: text, model: [:])
        var rng = PRNG(seed: 0)
        if let c = try? ckpt.decodeConfig(VAE.Config.self, problems: \.problems) { _ = VAE(c, rng: &rng) }
        if let c = try? ckpt.decodeConfig(DCGAN.Config.self, problems: \.problems) { _ = DCGAN(c, rng: &rng) }
        if let c = try? ckpt.decodeConfig(JetTagger.Config.self, problems: \.problems) { _ = JetTagger(c, rng: &rng) }
        if let c = try? ckpt.decodeConfig(SymmetryDetector.Config.self, problems: \.problems) {
            _ = SymmetryCNN(c.cnn, rng: &rng)
        }
    }
}
