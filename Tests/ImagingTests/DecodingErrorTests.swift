import CTIFF
import XCTest
@testable import Imaging

final class DecodingErrorTests: ImagingTestCase {
    private func truncate(_ file: String, keeping fraction: Double) throws {
        let bytes = try readBytes(file)
        try writeBytes(Array(bytes.prefix(Int(Double(bytes.count) * fraction))), to: file)
    }

    func testTruncatedPNGNamesFileAndProblem() throws {
        let file = path("cut.png")
        try writePNG(byteGradient(width: 64, height: 64), to: file)
        try truncate(file, keeping: 0.5)
        let error = imagingError { _ = try loadImagePages(at: file) }
        XCTAssertEqual(error?.kind, .corrupt)
        XCTAssertEqual(error?.description, "\(file): truncated PNG data")
    }

    func testPNGMissingOnlyItsTrailerIsStillTruncated() throws {
        let file = path("no-iend.png")
        try writePNG(byteGradient(width: 8, height: 8), to: file)
        let bytes = try readBytes(file)
        try writeBytes(Array(bytes.dropLast(12)), to: file)
        XCTAssertEqual(imagingError { _ = try loadGrayImage(at: file) }?.description, "\(file): truncated PNG data")
    }

    func testCorruptPNGDataIsReportedNotCrashed() throws {
        let file = path("bad-crc.png")
        try writePNG(byteGradient(width: 16, height: 16), to: file)
        var bytes = try readBytes(file)
        bytes[bytes.count - 20] ^= 0xFF  // inside IDAT: breaks its CRC
        try writeBytes(bytes, to: file)
        let error = imagingError { _ = try loadGrayImage(at: file) }
        XCTAssertEqual(error?.kind, .corrupt)
        XCTAssertTrue(error?.description.hasPrefix("\(file): corrupt PNG data") ?? false, error?.description ?? "")
    }

    func testTruncatedJPEG() throws {
        let file = path("cut.jpg")
        try writeJPEG(smoothImage(width: 64, height: 64), to: file)
        try truncate(file, keeping: 0.6)
        let error = imagingError { _ = try loadImagePages(at: file) }
        XCTAssertEqual(error?.kind, .corrupt)
        XCTAssertTrue(error?.description.hasPrefix("\(file): truncated JPEG data") ?? false, error?.description ?? "")
    }

    func testJPEGCutInsideItsHeader() throws {
        let file = path("header.jpg")
        try writeJPEG(smoothImage(width: 16, height: 16), to: file)
        try writeBytes(Array(try readBytes(file).prefix(40)), to: file)
        let error = imagingError { _ = try loadImagePages(at: file) }
        XCTAssertEqual(error?.kind, .corrupt)
        XCTAssertTrue(error?.description.hasPrefix(file + ": ") ?? false)
    }

    func testTruncatedTIFF() throws {
        for compression in [TIFFCompression.none, .lzw] {
            let file = path("cut.tif")
            try writeTIFF(byteGradient(width: 64, height: 64), to: file, compression: compression)
            try truncate(file, keeping: 0.5)
            let error = imagingError { _ = try loadImagePages(at: file) }
            XCTAssertEqual(error?.kind, .corrupt)
            XCTAssertTrue(error?.description.hasPrefix("\(file): truncated TIFF data") ?? false, error?.description ?? "")
        }
    }

    func testTIFFStripPastEndOfFile() throws {
        // The directory survives but a strip's data lies beyond the end, as when a scanner's
        // upload stops early in a file whose directory was written first.
        let file = path("strips.tif")
        let image = byteGradient(width: 32, height: 32)
        let rows = (0..<32).map { y in (0..<32).map { UInt8((image[$0, y] * 255).rounded()) } }
        try writeRawTIFF([RawTIFFPage(width: 32, height: 32, rows: rows)], to: file)
        var bytes = try readBytes(file)
        func uint32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        let ifd = uint32(4)
        let entries = Int(bytes[ifd]) | Int(bytes[ifd + 1]) << 8
        let stripOffsets = try XCTUnwrap((0..<entries).map { ifd + 2 + $0 * 12 }.first {
            Int(bytes[$0]) | Int(bytes[$0 + 1]) << 8 == TIFFTAG_STRIPOFFSETS })
        XCTAssertEqual(uint32(stripOffsets + 4), 4, "32 rows in strips of 8")
        let lastOffset = uint32(stripOffsets + 8) + 3 * 4
        let beyond = bytes.count + 4096
        for k in 0..<4 { bytes[lastOffset + k] = UInt8((beyond >> (8 * k)) & 0xFF) }
        try writeBytes(bytes, to: file)
        let error = imagingError { _ = try loadImagePages(at: file) }
        XCTAssertEqual(error?.kind, .corrupt)
        XCTAssertTrue(error?.description.hasPrefix("\(file): truncated TIFF data") ?? false, error?.description ?? "")
    }

    func testTIFFWithUnreadableSecondPageFails() throws {
        // Cutting a two-page file just before the second page's directory must not quietly yield
        // one page.
        let file = path("pages.tif")
        try writeTIFF(pages: [byteGradient(width: 16, height: 16), byteGradient(width: 16, height: 16, seed: 2)],
                      to: file, compression: .none)
        let bytes = try readBytes(file)
        // The first directory's "next IFD" offset (little-endian) points at the second directory.
        let firstIFD = Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24
        let entries = Int(bytes[firstIFD]) | Int(bytes[firstIFD + 1]) << 8
        let nextField = firstIFD + 2 + entries * 12
        let secondIFD = Int(bytes[nextField]) | Int(bytes[nextField + 1]) << 8 | Int(bytes[nextField + 2]) << 16
            | Int(bytes[nextField + 3]) << 24
        XCTAssertGreaterThan(secondIFD, 0)
        try writeBytes(Array(bytes.prefix(secondIFD + 1)), to: file)
        let error = imagingError { _ = try loadImagePages(at: file) }
        XCTAssertEqual(error?.kind, .corrupt)
        XCTAssertTrue(error?.description.contains("TIFF data") ?? false, error?.description ?? "")
    }

    func testTextFileIsNotAnImage() throws {
        let file = path("notes.png")
        try writeBytes(Array("Max temp 21.5, min 9.0\n".utf8), to: file)
        let error = imagingError { _ = try loadImagePages(at: file) }
        XCTAssertEqual(error?.kind, .unsupportedFormat)
        XCTAssertEqual(error?.description, "\(file): not a PNG, JPEG or TIFF file")
    }

    func testEmptyFile() throws {
        let file = path("empty.tif")
        try writeBytes([], to: file)
        let error = imagingError { _ = try loadImagePages(at: file) }
        XCTAssertEqual(error?.kind, .unsupportedFormat)
        XCTAssertTrue(error?.description.hasPrefix("\(file): empty file") ?? false)
    }

    func testMissingFileAndDirectory() {
        let missing = path("nope.png")
        let error = imagingError { _ = try loadGrayImage(at: missing) }
        XCTAssertEqual(error?.kind, .unreadable)
        XCTAssertTrue(error?.description.hasPrefix(missing + ": cannot open") ?? false, error?.description ?? "")
        XCTAssertEqual(imagingError { _ = try loadGrayImage(at: directory) }?.kind, .unreadable)
    }

    func testPixelLimitIsEnforced() throws {
        let file = path("big.png")
        try writePNG(GrayImage(width: 100, height: 100), to: file)
        let error = imagingError { _ = try loadImagePages(at: file, maxPixels: 5_000) }
        XCTAssertEqual(error?.kind, .tooLarge)
        XCTAssertEqual(error?.description, "\(file): 100x100 pixels exceeds the limit of 5000")
        XCTAssertEqual(try loadImagePages(at: file, maxPixels: 10_000).first?.image.width, 100)
    }

    func testPNGBombIsRefusedFromItsHeader() throws {
        // Claims 50000x50000 but carries one row of data: must be refused without allocating.
        let file = path("bomb.png")
        try writeBytes(HandMadePNG.make(width: 50_000, height: 50_000, bitDepth: 8, colorType: 0, rows: [[0]]), to: file)
        let error = imagingError { _ = try loadImagePages(at: file) }
        XCTAssertEqual(error?.kind, .tooLarge)
        XCTAssertEqual(error?.description, "\(file): 50000x50000 pixels exceeds the limit of 120000000")
    }

    func testJPEGBombIsRefusedFromItsHeader() throws {
        let file = path("bomb.jpg")
        try writeJPEG(GrayImage(width: 16, height: 16), to: file)
        var bytes = try readBytes(file)
        // Baseline frame header: FFC0 len(2) precision(1) height(2) width(2).
        let sof = try XCTUnwrap((0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 })
        bytes[sof + 5] = 0xEA; bytes[sof + 6] = 0x60  // 60000
        bytes[sof + 7] = 0xEA; bytes[sof + 8] = 0x60
        try writeBytes(bytes, to: file)
        let error = imagingError { _ = try loadImagePages(at: file) }
        XCTAssertEqual(error?.kind, .tooLarge)
        XCTAssertEqual(error?.description, "\(file): 60000x60000 pixels exceeds the limit of 120000000")
    }

    func testTIFFBombIsRefusedFromItsDirectory() throws {
        let file = path("bomb.tif")
        try writeTIFF(GrayImage(width: 123, height: 77), to: file, compression: .none)
        var bytes = try readBytes(file)
        let ifd = Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24
        let entries = Int(bytes[ifd]) | Int(bytes[ifd + 1]) << 8
        var patched = 0
        for index in 0..<entries {
            let entry = ifd + 2 + index * 12
            let tag = Int(bytes[entry]) | Int(bytes[entry + 1]) << 8
            guard tag == TIFFTAG_IMAGEWIDTH || tag == TIFFTAG_IMAGELENGTH else { continue }
            // SHORT or LONG value stored in place; 50000 fits either.
            bytes[entry + 8] = 0x50; bytes[entry + 9] = 0xC3
            if bytes[entry + 2] == 4 { bytes[entry + 10] = 0; bytes[entry + 11] = 0 }
            patched += 1
        }
        XCTAssertEqual(patched, 2)
        try writeBytes(bytes, to: file)
        let error = imagingError { _ = try loadImagePages(at: file) }
        XCTAssertEqual(error?.kind, .tooLarge)
        XCTAssertEqual(error?.description, "\(file): 50000x50000 pixels exceeds the limit of 120000000")
    }
}
