import Engine
import Formats
import Foundation
import NN

enum Fixture {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!
    }
    static func path(_ name: String) -> String { url(name).path }
    static func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url(name))) as! [String: Any]
    }
}

func tensor(_ o: Any) -> Tensor {
    let d = o as! [String: Any]
    return Tensor(
        shape: (d["shape"] as! [NSNumber]).map(\.intValue), data: (d["data"] as! [NSNumber]).map(\.floatValue))
}

/// Largest |a − b| / (atol + rtol·|b|); ≤ 1 means they agree.
func mismatch(_ a: [Float], _ b: [Float], atol: Float = 1e-5, rtol: Float = 1e-5) -> Float {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
    var worst: Float = 0
    for i in a.indices { worst = max(worst, abs(a[i] - b[i]) / (atol + rtol * abs(b[i]))) }
    return worst
}

/// The golden-trace architectures, built as PyTorch builds them in make_nn_fixtures.py.
func makeMLP(_ rng: inout PRNG) -> Sequential {
    Sequential([Linear(8, 16, rng: &rng), ReLU(), Linear(16, 4, rng: &rng)])
}

func makeConvNet(_ rng: inout PRNG) -> Sequential {
    Sequential([
        Conv2d(1, 4, kernel: 3, padding: 1, bias: false, rng: &rng), BatchNorm2d(4), ReLU(), MaxPool2d(2), Flatten(),
        Linear(4 * 4 * 4, 3, rng: &rng),
    ])
}

func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("genlab-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}
