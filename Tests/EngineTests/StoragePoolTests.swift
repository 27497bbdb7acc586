import XCTest

@testable import Engine

final class StoragePoolTests: XCTestCase {
    /// A freed block serves a later request up to half its size (a forward pass's chain of sizes
    /// reuses one block), goes back under its own size, and is not handed to a request under half.
    func testBestFitReusesALargerBlockUpToTwice() {
        // Sizes no other test allocates, so the blocks kept from earlier tests do not answer.
        let big = 9_437_000 * 4
        let (p, bytes) = StoragePool.allocate(bytes: big)
        XCTAssertGreaterThanOrEqual(bytes, big)
        StoragePool.release(p, bytes: bytes)
        let (q, qBytes) = StoragePool.allocate(bytes: big * 2 / 3)
        XCTAssertEqual(q, p, "a request of two thirds reuses the kept block")
        XCTAssertEqual(qBytes, bytes, "and carries the block's own size back to the pool")
        StoragePool.release(q, bytes: qBytes)
        let (r, rBytes) = StoragePool.allocate(bytes: big / 3)
        XCTAssertNotEqual(r, p, "a request under half the block gets a block of its own")
        XCTAssertLessThan(rBytes, bytes)
        StoragePool.release(r, bytes: rBytes)
        let (s, sBytes) = StoragePool.allocate(bytes: big)
        XCTAssertEqual(s, p)
        StoragePool.release(s, bytes: sBytes)
    }
}
