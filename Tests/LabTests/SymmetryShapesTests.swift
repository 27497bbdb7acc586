import Engine
import XCTest
@testable import Lab

/// The shape library draws what its labels say, and the geometry reads it back.
final class SymmetryShapesTests: XCTestCase {
    let shapes = SymmetryShapes(size: 48, renderSize: 96)

    func testEveryClassIsDrawnAndAccepted() {
        var rng = PRNG(seed: 11)
        for c in SymmetryClass.allCases {
            var accepted = 0
            var kinds = Set<String>()
            for _ in 0..<20 {
                var probe = rng
                let t = shapes.candidate(c, rng: &probe)
                rng = probe
                kinds.insert(String(t.description.prefix(while: { $0 != "(" && $0 != "," })))
                if shapes.accepts(t) { accepted += 1 }
            }
            XCTAssertGreaterThan(accepted, 5, "\(c.name): \(accepted) of 20 candidates accepted")
            XCTAssertGreaterThan(kinds.count, 2, "\(c.name): drawn from several families, \(kinds.sorted())")
        }
    }
}

/// `SymmetryGeometry` reads the order, the mirror axes and the stripes' direction of drawn shapes
/// at 64 × 64 (what `symmetry score` measures on).
final class SymmetryGeometryTests: XCTestCase {
    func distance(_ a: Double, _ b: Double) -> Double {
        let d = abs(a - b).truncatingRemainder(dividingBy: 180); return min(d, 180 - d)
    }

    func testWhichWayOnDrawnShapes() {
        let shapes = SymmetryShapes(size: 64, renderSize: 96)
        var rng = PRNG(seed: 5)
        var orderRight = 0, axisRight = 0, bothRight = 0, directionRight = 0
        let n = 15
        for _ in 0..<n {
            let d = shapes.shape(.discreteRotation, rng: &rng)
            let o = SymmetryGeometry.orientation(d.pixels, size: 64)
            if o.bestOrder == d.order { orderRight += 1 }
            let r = shapes.shape(.reflection, rng: &rng)
            let m = SymmetryGeometry.orientation(r.pixels, size: 64)
            if distance(m.bestAxis, r.axes[0]) <= 10 { axisRight += 1 }
            let b = shapes.shape(.reflectionBoth, rng: &rng)
            let mb = SymmetryGeometry.orientation(b.pixels, size: 64)
            if distance(mb.bestAxis, b.axes[0]) <= 10 || distance(mb.bestAxis, b.axes[1]) <= 10 { bothRight += 1 }
            let t = shapes.shape(.translation, rng: &rng)
            let mt = SymmetryGeometry.orientation(t.pixels, size: 64)
            if distance(mt.translationDirection, t.direction!) <= 10 { directionRight += 1 }
        }
        XCTAssertGreaterThanOrEqual(orderRight, n * 8 / 10)
        XCTAssertGreaterThanOrEqual(axisRight, n * 8 / 10)
        XCTAssertGreaterThanOrEqual(bothRight, n * 8 / 10)
        XCTAssertGreaterThanOrEqual(directionRight, n * 8 / 10)
    }

    func testCanonicalFormDoesNotDependOnPolarity() {
        let shapes = SymmetryShapes(size: 32, renderSize: 64)
        var rng = PRNG(seed: 9), same = 0, total = 0
        for c in SymmetryClass.allCases {
            for _ in 0..<10 {
                let raw = shapes.candidate(c, rng: &rng).pixels
                let a = SymmetryGeometry.canonical(raw, width: 64, height: 64, size: 32)
                let b = SymmetryGeometry.canonical(raw.map { 1 - $0 }, width: 64, height: 64, size: 32)
                total += 1
                if a == b { same += 1 }
            }
        }
        XCTAssertGreaterThanOrEqual(
            Double(same) / Double(total), 0.95, "\(same) of \(total) images keep their canonical form when inverted")
    }
}

/// The second generation's families (`SymmetryFields`): frame-filling fields and stroke glyphs.
final class SymmetryFieldsTests: XCTestCase {
    let shapes = SymmetryShapes(size: 64, renderSize: 96)
    func distance(_ a: Double, _ b: Double) -> Double {
        let d = abs(a - b).truncatingRemainder(dividingBy: 180); return min(d, 180 - d)
    }

    func testStrokeGlyphsHaveTheirMirrorAndNoneLoseIt() {
        var rng = PRNG(seed: 17)
        var mirrored = 0, axisRight = 0, plain = 0, kinds = Set<String>()
        let n = 24
        for _ in 0..<n {
            let r = shapes.strokeGlyph(.reflection, rng: &rng)
            kinds.insert(r.description)
            if shapes.accepts(r) { mirrored += 1 }
            let o = SymmetryGeometry.orientation(
                SymmetryGeometry.canonical(r.pixels, width: 96, height: 96, size: 64), size: 64)
            if distance(o.bestAxis, r.axes[0]) <= 10 { axisRight += 1 }
            if shapes.accepts(shapes.strokeGlyph(.none, rng: &rng)) { plain += 1 }
        }
        XCTAssertGreaterThanOrEqual(mirrored, n / 2, "one-mirror glyphs that read as one mirror and nothing more")
        XCTAssertGreaterThanOrEqual(axisRight, n * 3 / 4, "their axis measured within 10°")
        XCTAssertGreaterThanOrEqual(plain, n / 3, "changed glyphs that read as no symmetry")
        XCTAssertGreaterThan(kinds.count, 4)
    }

    func testFieldsFillTheFrameAndKeepTheirSymmetryInside() {
        var rng = PRNG(seed: 23)
        for c in SymmetryClass.allCases {
            var axisRight = 0, withAxes = 0
            for _ in 0..<8 {
                let t = shapes.field(c, rng: &rng)
                XCTAssertEqual(t.symmetry, c)
                let fill = Double(t.pixels.reduce(0, +)) / Double(t.pixels.count)
                XCTAssertGreaterThan(fill, 0.05, "\(c.name): \(t.description) is nearly empty")
                XCTAssertLessThan(fill, 0.95, "\(c.name): \(t.description) is nearly full")
                if c == .reflection {
                    withAxes += 1
                    // The frame cuts the pattern, so the axis is read on the raw field, not its canonical form.
                    let o = SymmetryGeometry.orientation(
                        SymmetryGeometry.canonical(
                            t.pixels, width: 96, height: 96, size: 64,
                            upright: false), size: 64)
                    if distance(o.bestAxis, t.axes[0]) <= 15 { axisRight += 1 }
                }
            }
            if withAxes > 0 {
                XCTAssertGreaterThanOrEqual(
                    axisRight, withAxes / 2, "one-mirror fields: axis found in \(axisRight) of \(withAxes)")
            }
        }
    }

    func testOnlyTheSecondGenerationDrawsFieldsAndGlyphs() {
        for generation in [1, 2] {
            let library = SymmetryShapes(size: 32, renderSize: 64, generation: generation)
            var rng = PRNG(seed: 31), newKinds = 0
            for _ in 0..<10 {
                for c in SymmetryClass.allCases {
                    let d = library.shape(c, rng: &rng).description
                    if d.contains("field") || d.hasPrefix("stroke ") { newKinds += 1 }
                }
            }
            if generation == 1 { XCTAssertEqual(newKinds, 0) } else { XCTAssertGreaterThan(newKinds, 6) }
        }
    }
}
