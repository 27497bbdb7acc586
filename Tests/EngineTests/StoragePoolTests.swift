import XCTest

@testable import Engine

final class StoragePoolTests: XCTestCase {
    /// Best fit: the smallest kept size that holds the request, and none more than twice it (a
    /// forward pass's chain of sizes reuses one block; a small request does not take a big one).
    func testBestFitTakesTheSmallestKeptBlockUpToTwice() {
        let kept = [64 << 10, 96 << 10, 1 << 20, 3 << 20]
        XCTAssertEqual(StoragePool.bestFit(64 << 10, in: kept), 0, "an exact size")
        XCTAssertEqual(StoragePool.bestFit(70 << 10, in: kept), 1, "the next size up")
        XCTAssertEqual(StoragePool.bestFit(600 << 10, in: kept), 2, "1 MiB holds 600 KiB, under twice")
        XCTAssertNil(StoragePool.bestFit(400 << 10, in: kept), "1 MiB is over twice 400 KiB")
        XCTAssertEqual(StoragePool.bestFit(3 << 20, in: kept), 3)
        XCTAssertNil(StoragePool.bestFit(4 << 20, in: kept), "nothing holds it")
        XCTAssertNil(StoragePool.bestFit(16 << 10, in: []))
    }

    /// Through the pool: a block handed out is at least the request and at most twice it, and goes
    /// back under its own size, so it can serve the original request again.
    func testBlocksComeBackUnderTheirOwnSize() {
        let big = 9_437_000 * 4
        let (p, bytes) = StoragePool.allocate(bytes: big)
        XCTAssertGreaterThanOrEqual(bytes, big)
        p.initialize(repeating: 1, count: big / 4)
        StoragePool.release(p, bytes: bytes)
        let (q, qBytes) = StoragePool.allocate(bytes: big * 2 / 3)
        XCTAssertGreaterThanOrEqual(qBytes, big * 2 / 3)
        XCTAssertLessThanOrEqual(qBytes, 2 * StoragePool.sizeClass(big * 2 / 3))
        q.initialize(repeating: 2, count: big * 2 / 3 / 4)
        StoragePool.release(q, bytes: qBytes)
        let (s, sBytes) = StoragePool.allocate(bytes: big)
        XCTAssertGreaterThanOrEqual(sBytes, big)
        s.initialize(repeating: 3, count: big / 4)
        StoragePool.release(s, bytes: sBytes)
    }
}
