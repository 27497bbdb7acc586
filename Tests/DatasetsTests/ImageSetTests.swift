import Datasets
import Engine
import XCTest

/// Scaling and batching of an image set in memory.
final class ImageSetTests: XCTestCase {
    func set() -> ImageSet {
        ImageSet(images: Tensor(shape: [3, 1, 1, 2], data: [0, 1, 0.5, 0.5, 0.2, 0.6]), source: "test")
    }

    func testScalingsDoWhatTheirNamesSay() {
        XCTAssertEqual(
            set().scaled(.minusOneToOne).images.scalars, [-1, 1, 0, 0, -0.6, 0.2].map { Float($0) }, accuracy: 1e-6)
        XCTAssertEqual(set().scaled(.zeroToOne).images.scalars, [0, 1, 0.5, 0.5, 0.2, 0.6])
        XCTAssertEqual(
            set().scaled(.unitSum).images.scalars, [0, 1, 0.5, 0.5, 0.25, 0.75].map { Float($0) }, accuracy: 1e-6)
        XCTAssertEqual(
            set().scaled(.unitMax).images.scalars, [0, 1, 1, 1, 1.0 / 3, 1].map { Float($0) }, accuracy: 1e-6)
    }

    func testBatchesCoverEveryImageOnceAndAreSeeded() {
        let many = ImageSet(images: Tensor.zeros([10, 1, 2, 2]), source: "zeros")
        var a = PRNG(seed: 4), b = PRNG(seed: 4)
        let batches = many.batchIndices(size: 4, rng: &a)
        XCTAssertEqual(batches.map(\.count), [4, 4, 2])
        XCTAssertEqual(batches.flatMap { $0 }.sorted(), Array(0..<10))
        XCTAssertEqual(many.batchIndices(size: 4, rng: &b), batches)
        var c = PRNG(seed: 4)
        XCTAssertEqual(many.batchIndices(size: 4, rng: &c, dropLast: true).map(\.count), [4, 4])
        XCTAssertEqual(many.batch([3, 1]).shape, [2, 1, 2, 2])
    }
}

private func XCTAssertEqual(
    _ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
