import Benchmarks
import Foundation
import XCTest

/// The benchmark's own instruments: the timer reports the fastest batch, ratios say which side
/// wins, and the process figures come from the kernel.
final class MeasureTests: XCTestCase {
    func testSecondsPerCallIsTheCostOfOneCall() {
        var calls = 0
        let t = Measure.secondsPerCall(minBatchTime: 0.02, batches: 3) {
            calls += 1
            usleep(2000)
        }
        XCTAssertGreaterThan(t, 0.0019, "a 2 ms call cannot take less")
        XCTAssertLessThan(t, 0.02, "the fastest batch, per call")
        XCTAssertGreaterThan(calls, 3, "warm-up, then batches of several calls")
    }

    func testSpeedRatioIsGenLabOverTheOtherSideWhateverTheUnit() {
        var faster = BenchResult(name: "a", unit: "steps/s", value: 300, higherIsBetter: true)
        faster.torch = 100
        XCTAssertEqual(faster.speedRatio ?? 0, 3, accuracy: 1e-12)
        var slower = BenchResult(name: "b", unit: "ms", value: 20, higherIsBetter: false)
        slower.torch = 10
        XCTAssertEqual(slower.speedRatio ?? 0, 0.5, accuracy: 1e-12)
    }

    func testProcessFiguresAreReadFromTheKernel() throws {
        let resident = try XCTUnwrap(ProcessMemory.resident())
        let peak = try XCTUnwrap(ProcessMemory.peak())
        XCTAssertGreaterThan(resident, 1 << 20, "a Swift test process holds more than a MiB")
        XCTAssertGreaterThanOrEqual(peak, resident)
        let before = ProcessMemory.cpuSeconds()
        var x = 0.0
        for i in 0..<3_000_000 { x += sin(Double(i)) }
        XCTAssertTrue(x.isFinite)
        XCTAssertGreaterThan(ProcessMemory.cpuSeconds(), before)
    }
}
