import XCTest
@testable import Imaging

/// A logbook-like page: a ruled table (2-pixel rules) with digit-like blobs in its cells, some
/// strokes broken, on slightly noisy paper. `rules: false` leaves only the writing.
private func syntheticTablePage(width: Int = 560, height: Int = 560, rules: Bool = true) -> GrayImage {
    var image = GrayImage(width: width, height: height, fill: 0.95)
    var state: UInt64 = 12345
    func random(_ n: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int((state >> 33) % UInt64(n))
    }
    let left = 60, right = width - 60, top = 60, bottom = height - 60, rowHeight = 32
    if rules {
        for y in stride(from: top, through: bottom, by: rowHeight) {
            for x in left...right { image[x, y] = 0.1; image[x, y + 1] = 0.1 }
        }
        for x in stride(from: left, through: right, by: 110) {
            for y in top...bottom { image[x, y] = 0.1; image[x + 1, y] = 0.1 }
        }
    }
    // "Digits": 3 to 5 per cell, 10x16 with 2-pixel strokes and random gaps, at jittered heights.
    for rowTop in stride(from: top, to: bottom - rowHeight + 1, by: rowHeight) {
        for cellLeft in stride(from: left, to: right - 100, by: 110) {
            let count = 3 + random(3)
            for d in 0..<count {
                let x0 = cellLeft + 12 + d * 17, y0 = rowTop + 8 + random(3)
                for y in y0..<(y0 + 16) {
                    for x in x0..<(x0 + 10) where (x - x0 < 2 || x - x0 >= 8 || y - y0 < 2 || y - y0 >= 14 || abs(y - y0 - 8) < 1)
                        && random(6) > 0 {
                        image[x, y] = 0.15
                    }
                }
            }
        }
    }
    for i in image.pixels.indices { image.pixels[i] = min(max(image.pixels[i] + Float(random(41) - 20) / 1000, 0), 1) }
    return image
}

final class DeskewTests: XCTestCase {
    func testRotationSignConvention() {
        // A horizontal line through the centre, rotated +10°: its right end must rise (smaller y).
        var image = GrayImage(width: 101, height: 101, fill: 1)
        for x in 10...90 { image[x, 50] = 0 }
        let rotated = image.rotated(degrees: 10)
        func darkestRow(atColumn x: Int) -> Int {
            (0..<101).min { rotated[x, $0] < rotated[x, $1] }!
        }
        let expectedRise = 35 * tan(10 * Double.pi / 180)  // ~6.2 pixels at 35 pixels from the centre
        XCTAssertEqual(Double(50 - darkestRow(atColumn: 85)), expectedRise, accuracy: 1)
        XCTAssertEqual(Double(darkestRow(atColumn: 15) - 50), expectedRise, accuracy: 1)
        // Corners that come into the frame are paper.
        XCTAssertEqual(rotated[0, 0], 1)
    }

    func testRotatedAgreesWithWarpedAffine() {
        let page = syntheticTablePage(width: 203, height: 151)
        for degrees in [3.0, -7.5, 45, 180] {
            let fast = page.rotated(degrees: degrees)
            let reference = page.warpedAffine(page.rotationMap(degrees: degrees), width: page.width, height: page.height)
            XCTAssertLessThan(maxDifference(fast, reference), 2e-3, "at \(degrees)°")
        }
        XCTAssertEqual(page.rotated(degrees: 0), page)
    }

    func testRecoversKnownRotationsOfARuledTable() {
        let page = syntheticTablePage()
        for truth in [3.0, -7.5] {
            let skewed = page.rotated(degrees: truth)
            let angle = skewed.skewAngle(maxAngle: 10)
            XCTAssertEqual(angle, truth, accuracy: 0.3, "table rotated \(truth)°")
            let (straight, found) = skewed.deskewed(maxAngle: 10)
            XCTAssertEqual(found, angle)
            XCTAssertEqual(straight.width, page.width)
            XCTAssertEqual(straight.height, page.height)
            // Straightened, the page measures as level again.
            XCTAssertEqual(straight.skewAngle(), 0, accuracy: 0.3, "after deskewing \(truth)°")
        }
    }

    func testRecoversRotationOfHandwritingWithoutRules() {
        let page = syntheticTablePage(rules: false)
        XCTAssertEqual(page.rotated(degrees: 4).skewAngle(), 4, accuracy: 0.3)
        XCTAssertEqual(page.rotated(degrees: -2).skewAngle(), -2, accuracy: 0.3)
    }

    func testUnrotatedPageMeasuresLevel() {
        let page = syntheticTablePage()
        XCTAssertEqual(page.skewAngle(), 0, accuracy: 0.1)
        XCTAssertEqual(page.rotated(degrees: 0.5).skewAngle(), 0.5, accuracy: 0.15)
    }

    func testShadowedPageStillDeskews() {
        // A dark gradient over the right half must not be taken for ink.
        var page = syntheticTablePage().rotated(degrees: 6)
        for y in 0..<page.height {
            for x in 0..<page.width { page[x, y] *= 1 - 0.6 * Float(x) / Float(page.width) }
        }
        XCTAssertEqual(page.skewAngle(), 6, accuracy: 0.3)
    }

    func testBlankAndTinyPagesGiveZero() {
        XCTAssertEqual(GrayImage(width: 300, height: 200, fill: 1).skewAngle(), 0)
        XCTAssertEqual(GrayImage(width: 300, height: 200, fill: 0.6).skewAngle(), 0)
        XCTAssertEqual(GrayImage(width: 0, height: 0, pixels: []).skewAngle(), 0)
        XCTAssertEqual(GrayImage(width: 1, height: 1, pixels: [0]).skewAngle(), 0)
        XCTAssertEqual(GrayImage(width: 5, height: 3, fill: 0.2).skewAngle(), 0)
        // Barely any ink: too little to carry a direction.
        var speck = GrayImage(width: 200, height: 200, fill: 1)
        speck[100, 100] = 0
        XCTAssertEqual(speck.skewAngle(), 0)
        let tiny = GrayImage(width: 4, height: 6, pixels: (0..<24).map { Float($0) / 24 })
        let result = tiny.deskewed()
        XCTAssertEqual(result.angle, 0)
        XCTAssertEqual(result.image, tiny)
        XCTAssertEqual(GrayImage(width: 0, height: 0, pixels: []).rotated(degrees: 5).pixels, [])
    }

    func testMaxAngleLimitsTheSearch() {
        let skewed = syntheticTablePage().rotated(degrees: 7.5)
        XCTAssertLessThanOrEqual(abs(skewed.skewAngle(maxAngle: 2)), 2)
    }
}
