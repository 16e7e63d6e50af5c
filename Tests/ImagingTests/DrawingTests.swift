import XCTest
@testable import Imaging

private func inkPixels(_ image: RGBImage, background: RGBColor = .white) -> [(x: Int, y: Int)] {
    var result: [(x: Int, y: Int)] = []
    for y in 0..<image.height {
        for x in 0..<image.width where image[x, y] != background { result.append((x, y)) }
    }
    return result
}

final class DrawingTests: XCTestCase {
    func testTextInkStaysInsideItsBox() {
        var image = RGBImage(width: 120, height: 40)
        let text = "Ab1 %"
        image.drawText(text, x: 10, y: 5, scale: 2, color: .black)
        let size = BitmapFont.textSize(text, scale: 2)
        XCTAssertEqual(size.width, (5 * 6 - 1) * 2)
        let ink = inkPixels(image)
        XCTAssertGreaterThan(ink.count, 50)
        for pixel in ink {
            XCTAssertTrue((10..<(10 + size.width)).contains(pixel.x) && (5..<(5 + size.height)).contains(pixel.y), "\(pixel)")
        }
        // Every glyph cell is used: ink reaches both the first and the last character.
        XCTAssertTrue(ink.contains { $0.x < 10 + 10 })
        XCTAssertTrue(ink.contains { $0.x >= 10 + 4 * 12 })
    }

    func testRequiredCharactersHaveDistinctGlyphs() {
        let required = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.,:-+%/()_=#"
        for character in required { XCTAssertTrue(BitmapFont.hasGlyph(character), "\(character)") }
        let digits = "0123456789".map { BitmapFont.rows(for: $0) }
        XCTAssertEqual(Set(digits).count, 10)
        // Unknown characters fall back to "?" rather than vanishing.
        XCTAssertEqual(BitmapFont.rows(for: "€"), BitmapFont.rows(for: "?"))
    }

    func testVerticalTextReadsUpwards() {
        var image = RGBImage(width: 30, height: 60)
        let size = BitmapFont.textSize("L", scale: 1)
        image.drawVerticalText("L", x: 5, y: 10, scale: 1)
        let ink = inkPixels(image)
        XCTAssertFalse(ink.isEmpty)
        for pixel in ink {
            XCTAssertTrue((5..<(5 + size.height)).contains(pixel.x) && (10..<(10 + size.width)).contains(pixel.y), "\(pixel)")
        }
        // "L"'s stem is its left column; rotated counter-clockwise it becomes the bottom row.
        XCTAssertEqual(ink.filter { $0.y == 10 + size.width - 1 }.count, 7)
    }

    func testLinesAreUnbrokenInEveryDirection() {
        for (end, name) in [((40, 3), "shallow"), ((3, 40), "steep"), ((40, 40), "diagonal"), ((0, 40), "vertical")] {
            var image = RGBImage(width: 50, height: 50)
            image.drawLine(x0: 0, y0: 0, x1: end.0, y1: end.1, color: .red)
            let ink = inkPixels(image)
            XCTAssertTrue(ink.allSatisfy { image[$0.x, $0.y] == .red })
            // Connected: each step along the major axis has ink.
            if end.0 >= end.1 {
                for x in 0...end.0 { XCTAssertTrue(ink.contains { $0.x == x }, "\(name) column \(x)") }
            } else {
                for y in 0...end.1 { XCTAssertTrue(ink.contains { $0.y == y }, "\(name) row \(y)") }
            }
        }
    }

    func testThickLineHasItsThickness() {
        var image = RGBImage(width: 40, height: 20)
        image.drawLine(x0: 5, y0: 10, x1: 35, y1: 10, thickness: 5, color: .blue)
        XCTAssertEqual((0..<20).filter { image[20, $0] == .blue }.count, 5)
    }

    func testRectangleOutlineAndClippedFill() {
        var image = RGBImage(width: 20, height: 20)
        image.drawRectangle(x: 2, y: 3, width: 10, height: 8, thickness: 2, color: .green)
        XCTAssertEqual(image[2, 3], .green)
        XCTAssertEqual(image[11, 10], .green)
        XCTAssertEqual(image[3, 4], .green)
        XCTAssertEqual(image[6, 6], .white)
        XCTAssertEqual(image[12, 6], .white)

        image.fillRect(x: 15, y: -5, width: 100, height: 8, color: .black)  // partly outside
        XCTAssertEqual(image[19, 0], .black)
        XCTAssertEqual(image[19, 2], .black)
        XCTAssertEqual(image[19, 3], .white)
        image.fillRect(x: -50, y: -50, width: 10, height: 10, color: .black)  // entirely outside: no-op
        image.drawLine(from: (-100, -100), to: (-50, .nan), color: .black)
    }

    func testRGBFromGray() {
        let rgb = RGBImage(gray: GrayImage(width: 2, height: 1, pixels: [0, 0.5]))
        XCTAssertEqual(rgb.pixels, [0, 0, 0, 128, 128, 128])
    }
}
