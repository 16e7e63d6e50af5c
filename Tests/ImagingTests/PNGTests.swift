import XCTest
@testable import Imaging

final class PNGTests: ImagingTestCase {
    func testGrayRoundTripIsExactAndKeepsResolution() throws {
        let image = byteGradient(width: 37, height: 23)
        try writePNG(image, to: path("gray.png"), dpi: 300)
        let pages = try loadImagePages(at: path("gray.png"))
        XCTAssertEqual(pages.count, 1)
        XCTAssertEqual(pages[0].image, image)
        XCTAssertEqual(pages[0].bitDepth, 8)
        XCTAssertEqual(pages[0].channels, 1)
        XCTAssertEqual(pages[0].format, .png)
        XCTAssertEqual(pages[0].dpi ?? 0, 300, accuracy: 0.01)
    }

    func testWriterClampsOutOfRangeValues() throws {
        try writePNG(GrayImage(width: 3, height: 1, pixels: [-0.5, 1.7, .nan]), to: path("clamped.png"))
        XCTAssertEqual(try loadGrayImage(at: path("clamped.png")).pixels, [0, 1, 0])
    }

    func testRGBRoundTripGivesLuminance() throws {
        var rgb = RGBImage(width: 3, height: 2)
        let colours: [RGBColor] = [.white, .black, RGBColor(red: 255, green: 0, blue: 0),
                                   RGBColor(red: 0, green: 255, blue: 0), RGBColor(red: 0, green: 0, blue: 255),
                                   RGBColor(red: 10, green: 200, blue: 90)]
        for (i, colour) in colours.enumerated() { rgb[i % 3, i / 3] = colour }
        try writePNG(rgb, to: path("rgb.png"))
        let page = try XCTUnwrap(loadImagePages(at: path("rgb.png")).first)
        XCTAssertEqual(page.channels, 3)
        XCTAssertNil(page.dpi)
        for (i, colour) in colours.enumerated() {
            XCTAssertEqual(page.image[i % 3, i / 3], rec601(Int(colour.red), Int(colour.green), Int(colour.blue)), accuracy: 1e-5)
        }
    }

    func testSixteenBitGray() throws {
        // Big-endian samples k * 257 are the 16-bit spelling of the 8-bit value k.
        let levels = [0, 1, 64, 128, 200, 255]
        let row = levels.flatMap { level -> [UInt8] in
            let sample = UInt16(level * 257)
            return [UInt8(sample >> 8), UInt8(sample & 0xFF)]
        }
        let png = HandMadePNG.make(width: levels.count, height: 1, bitDepth: 16, colorType: 0, rows: [row])
        try writeBytes(png, to: path("gray16.png"))
        let page = try XCTUnwrap(loadImagePages(at: path("gray16.png")).first)
        XCTAssertEqual(page.bitDepth, 16)
        for (x, level) in levels.enumerated() {
            XCTAssertEqual(page.image[x, 0], Float(level) / 255, accuracy: 1.0 / 255, "level \(level)")
        }
    }

    func testSixteenBitRGBAWithTransparency() throws {
        // Opaque red, then fully transparent black, which must become paper white.
        let row: [UInt8] = [0xFF, 0xFF, 0, 0, 0, 0, 0xFF, 0xFF,
                            0, 0, 0, 0, 0, 0, 0, 0]
        try writeBytes(HandMadePNG.make(width: 2, height: 1, bitDepth: 16, colorType: 6, rows: [row]), to: path("rgba16.png"))
        let page = try XCTUnwrap(loadImagePages(at: path("rgba16.png")).first)
        XCTAssertEqual(page.channels, 4)
        XCTAssertEqual(page.image[0, 0], rec601(255, 0, 0), accuracy: 1.0 / 255)
        XCTAssertEqual(page.image[1, 0], 1, accuracy: 1e-6)
    }

    func testPaletteWithTransparentEntry() throws {
        // 2-bit palette indices 0...3 packed into one byte; entry 3 is black but fully transparent.
        let palette: [(UInt8, UInt8, UInt8)] = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 0, 0)]
        let png = HandMadePNG.make(width: 4, height: 2, bitDepth: 2, colorType: 3,
                                   rows: [[0b00_01_10_11], [0b11_10_01_00]],
                                   palette: palette, transparency: [255, 255, 255, 0])
        try writeBytes(png, to: path("palette.png"))
        let page = try XCTUnwrap(loadImagePages(at: path("palette.png")).first)
        XCTAssertEqual(page.bitDepth, 2)
        XCTAssertEqual(page.channels, 1)
        let expected: [Float] = [rec601(255, 0, 0), rec601(0, 255, 0), rec601(0, 0, 255), 1]
        for x in 0..<4 {
            XCTAssertEqual(page.image[x, 0], expected[x], accuracy: 1e-5)
            XCTAssertEqual(page.image[x, 1], expected[3 - x], accuracy: 1e-5)
        }
    }

    func testGrayAlphaCompositesOverWhite() throws {
        let row: [UInt8] = [0, 255, 0, 0, 0, 128, 200, 255]  // (gray, alpha) pairs
        try writeBytes(HandMadePNG.make(width: 4, height: 1, bitDepth: 8, colorType: 4, rows: [row]), to: path("ga.png"))
        let image = try loadGrayImage(at: path("ga.png"))
        XCTAssertEqual(image[0, 0], 0, accuracy: 1e-6)  // opaque black ink
        XCTAssertEqual(image[1, 0], 1, accuracy: 1e-6)  // transparent: paper
        XCTAssertGreaterThan(image[2, 0], 0.3)           // half-covered ink is gray
        XCTAssertLessThan(image[2, 0], 0.9)
        XCTAssertEqual(image[3, 0], 200.0 / 255, accuracy: 1e-6)
    }

    func testResolutionFromPixelsPerMetre() throws {
        let png = HandMadePNG.make(width: 1, height: 1, bitDepth: 8, colorType: 0, rows: [[0]], pixelsPerMetre: 7874)
        try writeBytes(png, to: path("dpi.png"))
        XCTAssertEqual(try loadImagePages(at: path("dpi.png"))[0].dpi ?? 0, 200, accuracy: 0.1)
    }

    func testFormatComesFromContentNotExtension() throws {
        let image = byteGradient(width: 5, height: 4)
        try writePNG(image, to: path("actually-a-png.jpg"))
        XCTAssertEqual(try loadGrayImage(at: path("actually-a-png.jpg")), image)
    }

    func testWriteReplacesExistingFileAndLeavesNoTemporaries() throws {
        try writePNG(GrayImage(width: 2, height: 2, fill: 0), to: path("page.png"))
        try writePNG(GrayImage(width: 3, height: 1, fill: 1), to: path("page.png"))
        XCTAssertEqual(try loadGrayImage(at: path("page.png")), GrayImage(width: 3, height: 1, fill: 1))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["page.png"])
    }

    func testWritingIntoMissingDirectoryFailsCleanly() {
        let target = path("no-such-dir/page.png")
        let error = imagingError { try writePNG(GrayImage(width: 1, height: 1), to: target) }
        XCTAssertEqual(error?.kind, .writeFailed)
        XCTAssertTrue(error?.description.hasPrefix(target) ?? false)
    }

    func testEmptyImageIsRefused() {
        let error = imagingError { try writePNG(GrayImage(width: 0, height: 0, pixels: []), to: path("empty.png")) }
        XCTAssertEqual(error?.kind, .invalidArgument)
    }
}
