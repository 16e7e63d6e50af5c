import XCTest
@testable import Imaging

final class ResamplingTests: XCTestCase {
    func testConstantImageStaysConstantAtAnySize() {
        let image = GrayImage(width: 13, height: 7, fill: 0.37)
        for (width, height) in [(5, 3), (13, 7), (40, 21), (1, 1), (26, 3), (4, 30)] {
            let resized = image.resized(width: width, height: height)
            XCTAssertEqual(resized.width, width)
            XCTAssertEqual(resized.height, height)
            XCTAssertLessThan(resized.pixels.map { abs($0 - 0.37) }.max() ?? 1, 1e-6, "\(width)x\(height)")
        }
    }

    func testTwoByTwoToOneIsTheMean() {
        let image = GrayImage(width: 2, height: 2, pixels: [0, 0.2, 0.6, 1])
        XCTAssertEqual(image.resized(width: 1, height: 1).pixels[0], 0.45, accuracy: 1e-6)
    }

    func testShrinkingByAFractionWeighsPartialPixels() {
        // 3 -> 2: output 0 covers input 0 fully and half of input 1.
        let image = GrayImage(width: 3, height: 1, pixels: [0, 0.3, 0.9])
        let resized = image.resized(width: 2, height: 1)
        XCTAssertEqual(resized.pixels[0], 0.1, accuracy: 1e-6)
        XCTAssertEqual(resized.pixels[1], 0.7, accuracy: 1e-6)
    }

    func testShrinkingKeepsAThinStroke() {
        // A 1-pixel line in 8 columns shrunk 4x must leave a trace, not vanish between samples.
        var image = GrayImage(width: 8, height: 4, fill: 1)
        for y in 0..<4 { image[5, y] = 0 }
        let resized = image.resized(width: 2, height: 1)
        XCTAssertEqual(resized.pixels[0], 1, accuracy: 1e-6)
        XCTAssertEqual(resized.pixels[1], 0.75, accuracy: 1e-6)
    }

    func testEnlargingInterpolatesBetweenCentres() {
        let resized = GrayImage(width: 2, height: 1, pixels: [0, 1]).resized(width: 4, height: 1)
        XCTAssertEqual(resized.pixels.count, 4)
        for (value, expected) in zip(resized.pixels, [0, 0.25, 0.75, 1] as [Float]) {
            XCTAssertEqual(value, expected, accuracy: 1e-6)
        }
    }

    func testMeanIsPreservedWhenShrinkingByAnIntegerFactor() {
        let image = byteGradient(width: 12, height: 9)
        let resized = image.resized(width: 4, height: 3)
        let mean = { (i: GrayImage) in i.pixels.reduce(0, +) / Float(i.pixels.count) }
        XCTAssertEqual(mean(resized), mean(image), accuracy: 1e-5)
    }

    func testCropClampsToTheImage() {
        let image = byteGradient(width: 10, height: 8)
        let inside = image.cropped(x: 2, y: 3, width: 4, height: 2)
        XCTAssertEqual(inside.width, 4)
        XCTAssertEqual(inside.height, 2)
        XCTAssertEqual(inside[0, 0], image[2, 3])
        XCTAssertEqual(inside[3, 1], image[5, 4])

        let overhanging = image.cropped(x: -3, y: 6, width: 5, height: 10)
        XCTAssertEqual(overhanging.width, 2)
        XCTAssertEqual(overhanging.height, 2)
        XCTAssertEqual(overhanging[1, 1], image[1, 7])

        let outside = image.cropped(x: 20, y: 0, width: 5, height: 5)
        XCTAssertEqual(outside.width, 0)
        XCTAssertEqual(outside.pixels, [])
    }

    func testAffineIdentityIsIdentity() {
        let image = byteGradient(width: 9, height: 6)
        XCTAssertEqual(image.warpedAffine((1, 0, 0, 0, 1, 0), width: 9, height: 6), image)
    }

    func testTranslationMovesADot() {
        var image = GrayImage(width: 10, height: 10, fill: 1)
        image[3, 4] = 0
        // Output (x, y) samples input (x - 2, y - 1): content moves 2 right, 1 down.
        let moved = image.warpedAffine((1, 0, -2, 0, 1, -1), width: 10, height: 10)
        XCTAssertEqual(moved[5, 5], 0)
        XCTAssertEqual(moved[3, 4], 1)
        XCTAssertEqual(moved.pixels.filter { $0 < 1 }.count, 1)
        // Exposed borders take the fill value.
        XCTAssertEqual(image.warpedAffine((1, 0, -2, 0, 1, -1), width: 10, height: 10, fill: 0.5)[0, 0], 0.5)
    }

    func testHalfPixelShiftInterpolates() {
        let image = GrayImage(width: 3, height: 1, pixels: [0, 1, 0])
        let shifted = image.warpedAffine((1, 0, 0.5, 0, 1, 0), width: 3, height: 1, fill: 0)
        XCTAssertEqual(shifted.pixels[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(shifted.pixels[1], 0.5, accuracy: 1e-6)
    }

    func testQuarterTurnAndInverse() throws {
        var image = GrayImage(width: 5, height: 3, fill: 1)
        image[4, 0] = 0  // top-right corner
        // Forward map of a quarter turn clockwise into a 3x5 output: (x, y) -> (2 - y, x).
        let forward: AffineCoefficients = (0, -1, 2, 1, 0, 0)
        let inverse = try XCTUnwrap(invertedAffine(forward))
        let turned = image.warpedAffine(inverse, width: 3, height: 5)
        XCTAssertEqual(turned[2, 4], 0)  // top-right went to bottom-right
        XCTAssertEqual(turned.pixels.filter { $0 < 1 }.count, 1)
        XCTAssertNil(invertedAffine((1, 2, 0, 2, 4, 0)))
    }
}
