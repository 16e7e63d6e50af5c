import XCTest
@testable import Imaging

final class JPEGTests: ImagingTestCase {
    func testGrayRoundTripWithinTolerance() throws {
        let image = smoothImage(width: 64, height: 48)
        try writeJPEG(image, to: path("gray.jpg"), quality: 95, dpi: 300)
        let page = try XCTUnwrap(loadImagePages(at: path("gray.jpg")).first)
        XCTAssertEqual(page.format, .jpeg)
        XCTAssertEqual(page.channels, 1)
        XCTAssertEqual(page.dpi, 300)
        XCTAssertLessThan(maxDifference(page.image, image), 0.03)
    }

    func testProgressiveRoundTrip() throws {
        let image = smoothImage(width: 50, height: 31)
        try writeJPEG(image, to: path("progressive.jpg"), quality: 90, progressive: true)
        let bytes = try readBytes(path("progressive.jpg"))
        // SOF2 marks a progressive frame; make sure that is what was exercised.
        XCTAssertTrue(zip(bytes, bytes.dropFirst()).contains { $0 == 0xFF && $1 == 0xC2 })
        XCTAssertLessThan(maxDifference(try loadGrayImage(at: path("progressive.jpg")), image), 0.04)
    }

    func testColourJPEGBecomesLuminance() throws {
        var rgb = RGBImage(width: 32, height: 16, color: RGBColor(red: 200, green: 40, blue: 40))
        rgb.fillRect(x: 16, y: 0, width: 16, height: 16, color: RGBColor(red: 40, green: 60, blue: 220))
        try writeJPEG(rgb, to: path("colour.jpg"), quality: 95)
        let page = try XCTUnwrap(loadImagePages(at: path("colour.jpg")).first)
        XCTAssertEqual(page.channels, 3)
        XCTAssertEqual(page.image[4, 8], rec601(200, 40, 40), accuracy: 0.03)
        XCTAssertEqual(page.image[27, 8], rec601(40, 60, 220), accuracy: 0.03)
    }

    func testAdobeCMYK() throws {
        // Adobe convention: 255 = no ink. Left half bare paper, right half full black ink.
        let width = 32, height = 16
        var samples = [UInt8]()
        for _ in 0..<height {
            for x in 0..<width { samples += x < 16 ? [255, 255, 255, 255] : [255, 255, 255, 0] }
        }
        try writeCMYKJPEG(adobeSamples: samples, width: width, height: height, to: path("cmyk.jpg"), quality: 95)
        let page = try XCTUnwrap(loadImagePages(at: path("cmyk.jpg")).first)
        XCTAssertEqual(page.channels, 4)
        XCTAssertEqual(page.image[4, 8], 1, accuracy: 0.03)
        XCTAssertEqual(page.image[27, 8], 0, accuracy: 0.03)
    }

    func testDensityInDotsPerCentimetre() throws {
        try writeJPEG(GrayImage(width: 8, height: 8), to: path("cm.jpg"))
        var bytes = try readBytes(path("cm.jpg"))
        // JFIF APP0: FFD8 FFE0 len(2) "JFIF\0" version(2) units(1) Xdensity(2) Ydensity(2)
        XCTAssertEqual(Array(bytes[6..<11]), Array("JFIF\0".utf8))
        bytes[13] = 2
        bytes[14] = 0; bytes[15] = 100
        bytes[16] = 0; bytes[17] = 100
        try writeBytes(bytes, to: path("cm.jpg"))
        XCTAssertEqual(try loadImagePages(at: path("cm.jpg"))[0].dpi ?? 0, 254, accuracy: 1e-9)
    }

    func testAspectRatioOnlyDensityGivesNoDPI() throws {
        try writeJPEG(GrayImage(width: 8, height: 8), to: path("plain.jpg"))
        XCTAssertNil(try loadImagePages(at: path("plain.jpg"))[0].dpi)
    }
}
