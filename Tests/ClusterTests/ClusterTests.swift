import Cluster
import Foundation
import XCTest

/// One process (no mpirun): the collectives are no-ops that return what a one-rank job would, and
/// work is dealt out in rank order. The multi-rank behaviour is tested end to end under mpirun in
/// LabTests (DataParallelTests).
final class ClusterTests: XCTestCase {
    func testOneProcessIsRankZeroOfOneAndItsCollectivesAreIdentities() throws {
        let c = Cluster.alone
        XCTAssertEqual(c.rank, 0)
        XCTAssertEqual(c.size, 1)
        XCTAssertFalse(c.isDistributed)
        XCTAssertTrue(c.isRoot)
        XCTAssertEqual(c.broadcast(Data([1, 2, 3])), Data([1, 2, 3]))
        XCTAssertEqual(c.sum([1.5, -2]), [1.5, -2])
        XCTAssertEqual(c.max([3, 7]), [3, 7])
        XCTAssertEqual(try c.onRoot { Data([9]) }, Data([9]))
        XCTAssertThrowsError(try c.onRoot { throw FollowerDone() })
        XCTAssertEqual(c.share(of: 10), 0..<10)
    }
}
