import Engine
import Foundation
import XCTest

@testable import Lab

/// The symmetry measurements in any frame (issue 40): patterns that reach the border are judged
/// where a map keeps them inside the window, about their own centre rather than the centroid of
/// what the frame cut out; mirrors at oblique angles agree as much as upright ones. Measured as the
/// detector measures a file, relative to the pixel grid.
final class SymmetryFrameTests: XCTestCase {
    let n = SymmetryDetector.geometrySize

    /// A binary image of `inside(u, v)` in a frame turned by `degrees` about (cx, cy) (units: the
    /// image spans [−1, 1], y up).
    func image(
        turned degrees: Double, centre: (Double, Double) = (0, 0), _ inside: (Double, Double) -> Bool
    )
        -> [Float]
    {
        let a = degrees * .pi / 180
        return (0..<(n * n)).map { k in
            let x = (Double(k % n) + 0.5) / Double(n) * 2 - 1 - centre.0,
                y = 1 - (Double(k / n) + 0.5) / Double(n) * 2 - centre.1
            return inside(cos(a) * x + sin(a) * y, -sin(a) * x + cos(a) * y) ? 1 : 0
        }
    }

    /// Odd Cₙ textures that fill the square, off the middle and turned: the corners a turn moves out
    /// of the frame do not count against it, and the order is found.
    /// The measurements' fast bilinear read against the reference `sample`, bit for bit: inside
    /// the image, on its edges, in the zero border the raster keeps, and far beyond it.
    func testBilinearRasterReadsAsTheReferenceSample() {
        var rng = PRNG(seed: 40)
        let side = 13
        let image = (0..<(side * side)).map { _ in rng.nextFloat() < 0.4 ? Float(1) : rng.nextFloat() }
        let raster = BilinearRaster(image, size: side)
        var points: [(Double, Double)] = (0..<4000).map { _ in
            (Double(rng.nextFloat()) * 30 - 8, Double(rng.nextFloat()) * 30 - 8)
        }
        points += [(0.5, 0.5), (12.5, 12.5), (13, 13), (-2.5, 6), (0, 0), (-0.0, 3), (16.4999, 2), (-3.5001, 2)]
        points += (-8...20).map { (Double($0), Double($0) + 0.5) }
        for (x, y) in points {
            let fast = raster.read(x: x, y: y), reference = SymmetryGeometry.sample(image, side, x: x, y: y)
            XCTAssertEqual(fast.bitPattern, reference.bitPattern, "at (\(x), \(y)): \(fast) vs \(reference)")
        }
    }

    func testOddRotationTexturesAgreeWithTheirTurn() {
        for (order, turn) in [(3, 17.0), (5, 101.0), (7, 230.0)] {
            let texture = image(turned: turn, centre: (0.12, -0.08)) { u, v in
                let r = (u * u + v * v).squareRoot(), t = atan2(v, u)
                return cos(7 * r) + 0.8 * cos(Double(order) * t + 4 * r) * tanh(3 * r) < 0.1
            }
            XCTAssertTrue(SymmetryGeometry.isTexture(texture, size: n))
            let o = SymmetryDetector.measured(texture)
            XCTAssertEqual(o.bestOrder, order, "C\(order): \(o)")
            XCTAssertGreaterThanOrEqual(o.bestOrderAgreement, SymmetryDetector.rotationAgreementFloor, "C\(order)")
            XCTAssertNil(SymmetryDetector.overruling(.discreteRotation, o), "C\(order)")
            // A turn this clear is the verdict whatever the classifier read.
            XCTAssertEqual(SymmetryDetector.overruling(.none, o)?.verdict, .discreteRotation, "C\(order)")
            XCTAssertLessThan(o.bestAxisAgreement, 0.8, "a spiral C\(order) has no mirror")
        }
    }

    /// A one-mirror shape agrees with its mirror image as much at an oblique axis as upright, and
    /// the axis is found within a degree or two.
    func testTiltedMirrorAgreesAsMuchAsAnUprightOne() {
        var agreements: [Double] = []
        for axis in [90.0, 37.0, 151.0, 68.0] {
            let kite = image(turned: axis - 90) { u, v in
                let w = abs(u)
                return (v < 0.6 && v > -0.5 && w < 0.35 * (0.6 - v) / 1.1 + 0.05)
                    || (w - 0.15) * (w - 0.15)
                        + (v - 0.45) * (v - 0.45) < 0.02
            }
            let o = SymmetryDetector.measured(kite)
            XCTAssertLessThanOrEqual(SymmetryTruth.angleDistance(o.bestAxis, axis), 2, "axis \(axis): \(o.bestAxis)")
            agreements.append(o.bestAxisAgreement)
        }
        XCTAssertGreaterThanOrEqual(agreements.min()!, 0.94, "\(agreements)")
        XCTAssertLessThanOrEqual(agreements.max()! - agreements.min()!, 0.04, "\(agreements)")
    }

    /// Stripes in any direction agree with their shifts along it; an asymmetric texture agrees with
    /// no shift, turn or mirror.
    func testShiftsAndAnAsymmetricTexture() {
        let stripes = image(turned: 33) { u, _ in sin(9 * u) + 0.6 * sin(4 * u + 1) < 0.2 }
        let s = SymmetryDetector.measured(stripes)
        XCTAssertLessThanOrEqual(SymmetryTruth.angleDistance(s.translationDirection, 123), 3, "\(s)")
        XCTAssertGreaterThanOrEqual(s.translationAgreement ?? 0, 0.9, "\(s)")
        let blobs: [(Double, Double, Double, Double)] = [
            (-0.6, 0.5, 0.2, 1), (0.3, 0.7, 0.1, -1), (0.5, -0.4, 0.3, 1), (-0.2, -0.6, 0.06, 1), (0.1, 0.1, 0.15, -1),
        ]
        let field = image(turned: 0) { x, y in
            blobs.reduce(0.0) { $0 + $1.3 * exp(-((x - $1.0) * (x - $1.0) + (y - $1.1) * (y - $1.1)) / $1.2) }
                + 0.3 * cos(3 * x + 5 * y) > 0.25
        }
        XCTAssertTrue(SymmetryGeometry.isTexture(field, size: n))
        let f = SymmetryDetector.measured(field)
        XCTAssertLessThan(f.translationAgreement ?? 1, 0.6, "\(f)")
        XCTAssertLessThan(f.bestOrderAgreement, SymmetryDetector.rotationAgreementFloor, "\(f)")
        XCTAssertLessThan(f.bestAxisAgreement, SymmetryDetector.clearMirrorAgreement, "\(f)")
        XCTAssertEqual(SymmetryDetector.overruling(.translation, f)?.verdict, SymmetryClass.none, "\(f)")
        XCTAssertNil(SymmetryDetector.overruling(.none, f), "\(f)")
        XCTAssertNil(SymmetryDetector.overruling(.translation, s), "\(s)")
    }

    /// Small dots (about two pixels across) at `centres`, in image units.
    func dots(_ centres: [(Double, Double)], turned degrees: Double = 0) -> [Float] {
        image(turned: degrees) { u, v in centres.contains { (u - $0.0) * (u - $0.0) + (v - $0.1) * (v - $0.1) < 0.003 }
        }
    }

    /// A sparse texture of motifs a few pixels across (the orbit of random dots under C₅, and under
    /// one tilted mirror) agrees with its exact symmetry well below 1 on the pixel grid, because
    /// every edge is up to half a pixel off; relative to the grid (`SymmetryDetector.measured`, as the detector
    /// measures files) it agrees about 1, while the same dots scattered without symmetry stay far
    /// below the clear-symmetry thresholds.
    func testFineTexturesAgreeWithTheirSymmetryRelativeToTheGrid() {
        var rng = PRNG(seed: 40)
        func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * Double(rng.nextFloat()) }
        func polar(_ r: Double, _ t: Double) -> (Double, Double) { (r * cos(t), r * sin(t)) }
        let seeds: [(Double, Double)] = (0..<14).map { _ in (uniform(0.1, 1.3), uniform(0, 2 * .pi)) }
        var rosette: [(Double, Double)] = [], mirrored: [(Double, Double)] = []
        let axis = 61.0 * .pi / 180
        for (r, t) in seeds { for k in 0..<5 { rosette.append(polar(r, t + 2 * .pi * Double(k) / 5)) } }
        // As many dots as the rosette, so that both fill the frame as a texture does.
        for _ in 0..<35 {
            let (r, t) = (uniform(0.1, 1.4), uniform(0, 2 * .pi))
            mirrored += [polar(r, t), polar(r, 2 * axis - t)]
        }
        let scatter: [(Double, Double)] = (0..<70).map { _ in (uniform(-1.2, 1.2), uniform(-1.2, 1.2)) }
        let c5 = dots(rosette, turned: 23), mirror = dots(mirrored), none = dots(scatter)
        for (name, texture) in [("C5", c5), ("mirror", mirror), ("scatter", none)] {
            XCTAssertTrue(SymmetryGeometry.isTexture(texture, size: n), name)
        }

        let raw = SymmetryGeometry.orientation(c5, size: n), fine = SymmetryDetector.measured(c5)
        XCTAssertEqual(fine.bestOrder, 5, "\(fine)")
        XCTAssertLessThan(raw.bestOrderAgreement, SymmetryDetector.clearTurnAgreement, "\(raw)")
        XCTAssertGreaterThanOrEqual(fine.bestOrderAgreement, 0.95, "\(fine)")
        XCTAssertEqual(SymmetryDetector.overruling(.none, fine)?.verdict, .discreteRotation)

        let m = SymmetryDetector.measured(mirror)
        XCTAssertLessThanOrEqual(SymmetryTruth.angleDistance(m.bestAxis, 61), 3, "\(m)")
        XCTAssertGreaterThanOrEqual(m.bestAxisAgreement, 0.95, "\(m)")
        XCTAssertLessThan(
            SymmetryGeometry.orientation(mirror, size: n).bestAxisAgreement, SymmetryDetector.clearMirrorAgreement)
        XCTAssertEqual(SymmetryDetector.overruling(.none, m)?.verdict, .reflection)

        let o = SymmetryDetector.measured(none)
        XCTAssertLessThan(o.bestAxisAgreement, 0.8, "\(o)")
        XCTAssertLessThan(o.bestOrderAgreement, SymmetryDetector.rotationAgreementFloor, "\(o)")
        XCTAssertLessThan(o.roundness, 0.5, "\(o)")
        XCTAssertNil(SymmetryDetector.overruling(.none, o), "\(o)")
    }

    /// Ripples about a point off the middle of a turned frame are round, whatever the classifier read.
    func testRipplesInAnyFrameAreRound() {
        let ripples = image(turned: 40, centre: (-0.15, 0.1)) { u, v in
            let r = (u * u + v * v).squareRoot()
            return cos(8 * r) + 0.5 * cos(13 * r + 1) < 0.2
        }
        let o = SymmetryDetector.measured(ripples)
        XCTAssertGreaterThanOrEqual(o.roundness, SymmetryDetector.roundAgreement, "\(o)")
        XCTAssertEqual(SymmetryDetector.overruling(.none, o)?.verdict, .rotation)
        XCTAssertEqual(SymmetryDetector.overruling(.reflectionBoth, o)?.verdict, .rotation)
        XCTAssertNil(SymmetryDetector.overruling(.rotation, o))
    }
}
