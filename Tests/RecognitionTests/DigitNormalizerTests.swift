import Imaging
import XCTest
@testable import Recognition

final class DigitNormalizerTests: XCTestCase {
    private let side = DigitNormalizer.side

    /// Ink bounding box (values > 0.1) of a normalised image.
    private func inkBox(_ image: [Float]) -> (left: Int, top: Int, width: Int, height: Int)? {
        var left = side, right = -1, top = side, bottom = -1
        for y in 0..<side { for x in 0..<side where image[y * side + x] > 0.1 {
            left = min(left, x); right = max(right, x); top = min(top, y); bottom = max(bottom, y)
        } }
        return right < 0 ? nil : (left, top, right - left + 1, bottom - top + 1)
    }

    private func centreOfMass(_ image: [Float]) -> (x: Double, y: Double) {
        var mass = 0.0, sx = 0.0, sy = 0.0
        for y in 0..<side { for x in 0..<side {
            let v = Double(image[y * side + x]); mass += v; sx += v * Double(x); sy += v * Double(y)
        } }
        return (sx / mass, sy / mass)
    }

    /// An ink map of `width` x `height` with a filled rectangle.
    private func canvas(width: Int, height: Int, rect: (x: Int, y: Int, w: Int, h: Int), value: Float = 1) -> [Float] {
        var ink = [Float](repeating: 0, count: width * height)
        for y in rect.y..<(rect.y + rect.h) { for x in rect.x..<(rect.x + rect.w) { ink[y * width + x] = value } }
        return ink
    }

    func testTallBarIsScaledToBoxHeightKeepsAspectAndIsCentred() throws {
        // A 10 x 30 bar off in a corner of a 100 x 80 canvas.
        let output = DigitNormalizer.normalize(ink: canvas(width: 100, height: 80, rect: (70, 5, 10, 30)), width: 100, height: 80)
        XCTAssertEqual(output.count, side * side)
        let box = try XCTUnwrap(inkBox(output))
        XCTAssertEqual(box.height, DigitNormalizer.boxSide)
        XCTAssertEqual(box.width, 16, "aspect ratio 1:3 kept (48 / 3 = 16)")
        let centre = centreOfMass(output)
        XCTAssertEqual(centre.x, 31.5, accuracy: 0.6)
        XCTAssertEqual(centre.y, 31.5, accuracy: 0.6)
        XCTAssertTrue(output.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertEqual(output.max()!, 1, accuracy: 1e-5, "a solid bar stays solid ink")
    }

    func testWideBarIsScaledToBoxWidth() throws {
        let output = DigitNormalizer.normalize(ink: canvas(width: 50, height: 20, rect: (3, 7, 40, 8)), width: 50, height: 20)
        let box = try XCTUnwrap(inkBox(output))
        XCTAssertEqual(box.width, 48)
        XCTAssertEqual(box.height, 10, accuracy: 1, "40:8 -> 48:9.6")
        XCTAssertEqual(centreOfMass(output).y, 31.5, accuracy: 0.6)
    }

    func testSmallDigitIsEnlargedAndBigDigitShrunk() throws {
        for size in [(7, 5), (300, 200)] {
            let output = DigitNormalizer.normalize(ink: canvas(width: size.0, height: size.1, rect: (0, 0, size.0, size.1)),
                                                   width: size.0, height: size.1)
            let box = try XCTUnwrap(inkBox(output))
            XCTAssertEqual(box.width, 48, "\(size)")
            XCTAssertEqual(box.height, Int((48.0 * Double(size.1) / Double(size.0)).rounded()), accuracy: 1, "\(size)")
        }
    }

    func testLopsidedDigitIsClampedNotCut() throws {
        // A heavy blob at the top and a thin long tail: centring by mass alone would push the tail out.
        var ink = [Float](repeating: 0, count: 40 * 40)
        for y in 0..<10 { for x in 5..<35 { ink[y * 40 + x] = 1 } }
        for y in 10..<40 { ink[y * 40 + 20] = 1 }
        let output = DigitNormalizer.normalize(ink: ink, width: 40, height: 40)
        let box = try XCTUnwrap(inkBox(output))
        XCTAssertEqual(box.height, 48, "nothing cut off")
        XCTAssertGreaterThanOrEqual(box.top, 0)
        XCTAssertLessThanOrEqual(box.top + box.height, side)
        XCTAssertLessThan(centreOfMass(output).y, 31.5, "mass centre above the middle once clamped")
    }

    func testEmptyAndFaintInputGiveZeros() {
        XCTAssertEqual(DigitNormalizer.normalize(ink: [Float](repeating: 0, count: 28 * 28), width: 28, height: 28),
                       [Float](repeating: 0, count: side * side))
        XCTAssertEqual(DigitNormalizer.normalize(ink: [Float](repeating: 0.05, count: 100), width: 10, height: 10),
                       [Float](repeating: 0, count: side * side), "below the ink threshold counts as background")
        XCTAssertEqual(DigitNormalizer.normalize(ink: [], width: 0, height: 0), [Float](repeating: 0, count: side * side))
    }

    func testScanPolarityMatchesInkPolarity() {
        let ink = canvas(width: 30, height: 40, rect: (8, 4, 6, 30), value: 0.8)
        let scan = GrayImage(width: 30, height: 40, pixels: ink.map { 1 - $0 })
        XCTAssertEqual(DigitNormalizer.normalize(scan: scan), DigitNormalizer.normalize(ink: ink, width: 30, height: 40))
        let white = GrayImage(width: 30, height: 30, fill: 1)
        XCTAssertEqual(DigitNormalizer.normalize(scan: white), [Float](repeating: 0, count: side * side))
    }

    func testTranslatedInputGivesTheSameOutput() {
        let a = DigitNormalizer.normalize(ink: canvas(width: 60, height: 60, rect: (5, 9, 12, 20)), width: 60, height: 60)
        let b = DigitNormalizer.normalize(ink: canvas(width: 60, height: 60, rect: (30, 31, 12, 20)), width: 60, height: 60)
        XCTAssertEqual(a, b)
    }

    func testResamplingMatchesImagingResize() {
        // A full-box input skips cropping, so the scaled digit must equal Imaging's resize of it.
        for (width, height) in [(28, 28), (20, 13), (7, 30), (100, 61), (1, 5)] {
            var ink = [Float](repeating: 0, count: width * height)
            for i in ink.indices { ink[i] = 0.2 + 0.8 * Float((i * 37) % 11) / 10 }
            let output = DigitNormalizer.normalize(ink: ink, width: width, height: height)
            let scale = 48.0 / Double(max(width, height))
            let w = min(48, max(1, Int((Double(width) * scale).rounded()))), h = min(48, max(1, Int((Double(height) * scale).rounded())))
            let expected = GrayImage(width: width, height: height, pixels: ink).resized(width: w, height: h).pixels
            // Find where it was placed: the first row and column with ink.
            let box = inkBox(output)!
            XCTAssertEqual(box.width, w)
            XCTAssertEqual(box.height, h)
            var worst: Float = 0
            for y in 0..<h { for x in 0..<w {
                worst = max(worst, abs(output[(box.top + y) * side + box.left + x] - min(max(expected[y * w + x], 0), 1)))
            } }
            XCTAssertLessThan(worst, 1e-5, "\(width)x\(height)")
        }
    }
}
