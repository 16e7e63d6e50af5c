import CTIFF
import XCTest
@testable import Imaging

/// One page to be written with libtiff directly, bypassing the library's writer, so the decoder
/// is tested against layouts the writer never produces.
struct RawTIFFPage {
    var width: Int
    var height: Int
    var bitsPerSample: Int = 8
    var samplesPerPixel: Int = 1
    var photometric: Int32 = PHOTOMETRIC_MINISBLACK
    var compression: Int32 = COMPRESSION_NONE
    /// Packed scanlines, `height` of them.
    var rows: [[UInt8]]
    var colormap: [(UInt16, UInt16, UInt16)]? = nil
    var extraSamples: [UInt16]? = nil
    var resolution: (Double, Int32)? = nil
}

func writeRawTIFF(_ pages: [RawTIFFPage], to path: String) throws {
    var messages = logbook_tiff_messages()
    let tif = try XCTUnwrap(logbook_tiff_open(path, "w", &messages))
    defer { TIFFClose(tif) }
    for page in pages {
        func set(_ tag: Int32, _ value: Int) { XCTAssertEqual(logbook_tiff_set_int(tif, UInt32(tag), Int32(value)), 1, "tag \(tag)") }
        XCTAssertEqual(logbook_tiff_set_uint32(tif, UInt32(TIFFTAG_IMAGEWIDTH), UInt32(page.width)), 1)
        XCTAssertEqual(logbook_tiff_set_uint32(tif, UInt32(TIFFTAG_IMAGELENGTH), UInt32(page.height)), 1)
        set(TIFFTAG_BITSPERSAMPLE, page.bitsPerSample)
        set(TIFFTAG_SAMPLESPERPIXEL, page.samplesPerPixel)
        set(TIFFTAG_PHOTOMETRIC, Int(page.photometric))
        set(TIFFTAG_PLANARCONFIG, Int(PLANARCONFIG_CONTIG))
        set(TIFFTAG_COMPRESSION, Int(page.compression))
        set(TIFFTAG_SUBFILETYPE, Int(FILETYPE_PAGE))
        if page.compression == COMPRESSION_JPEG { set(TIFFTAG_JPEGQUALITY, 95) }
        XCTAssertEqual(logbook_tiff_set_uint32(tif, UInt32(TIFFTAG_ROWSPERSTRIP),
                                               page.compression == COMPRESSION_CCITTFAX4 ? UInt32(page.height) : 8), 1)
        if var map = page.colormap {
            var red = map.map(\.0), green = map.map(\.1), blue = map.map(\.2)
            XCTAssertEqual(logbook_tiff_set_colormap(tif, &red, &green, &blue), 1)
            map.removeAll()
        }
        if var extra = page.extraSamples {
            XCTAssertEqual(logbook_tiff_set_extra_samples(tif, Int32(extra.count), &extra), 1)
        }
        if let (resolution, unit) = page.resolution {
            XCTAssertEqual(logbook_tiff_set_double(tif, UInt32(TIFFTAG_XRESOLUTION), resolution), 1)
            XCTAssertEqual(logbook_tiff_set_double(tif, UInt32(TIFFTAG_YRESOLUTION), resolution), 1)
            set(TIFFTAG_RESOLUTIONUNIT, Int(unit))
        }
        for (y, row) in page.rows.enumerated() {
            var scanline = row
            XCTAssertEqual(TIFFWriteScanline(tif, &scanline, UInt32(y), 0), 1)
        }
        XCTAssertEqual(TIFFWriteDirectory(tif), 1)
    }
    XCTAssertEqual(messages.error_count, 0)
}

private func rows8(_ image: GrayImage) -> [[UInt8]] {
    (0..<image.height).map { y in (0..<image.width).map { UInt8((image[$0, y] * 255).rounded()) } }
}

/// 1 bit per pixel, most significant bit first; `ink` decides which pixels get a set bit.
private func rows1(_ image: GrayImage, setBitFor ink: Bool) -> [[UInt8]] {
    (0..<image.height).map { y in
        var row = [UInt8](repeating: 0, count: (image.width + 7) / 8)
        for x in 0..<image.width where (image[x, y] < 0.5) == ink { row[x / 8] |= 0x80 >> UInt8(x % 8) }
        return row
    }
}

/// Black and white text-like pattern: blocks and a diagonal.
private func bilevelPattern(width: Int, height: Int, seed: Int) -> GrayImage {
    var image = GrayImage(width: width, height: height, fill: 1)
    for y in 0..<height {
        for x in 0..<width where ((x / 3 + y / 4 + seed) % 3 == 0) || x == y { image[x, y] = 0 }
    }
    return image
}

final class TIFFTests: ImagingTestCase {
    private let eightBitSchemes: [(String, Int32, Float)] = [
        ("none", COMPRESSION_NONE, 0), ("lzw", COMPRESSION_LZW, 0), ("deflate", COMPRESSION_ADOBE_DEFLATE, 0),
        ("packbits", COMPRESSION_PACKBITS, 0), ("jpeg", COMPRESSION_JPEG, 0.04),
    ]

    func testTwoPageGrayFilesForEachCompression() throws {
        for (name, scheme, tolerance) in eightBitSchemes {
            let first = scheme == COMPRESSION_JPEG ? smoothImage(width: 24, height: 16) : byteGradient(width: 24, height: 16)
            let second = scheme == COMPRESSION_JPEG ? smoothImage(width: 17, height: 9) : byteGradient(width: 17, height: 9, seed: 5)
            let file = path("two-\(name).tif")
            try writeRawTIFF([RawTIFFPage(width: 24, height: 16, compression: scheme, rows: rows8(first)),
                              RawTIFFPage(width: 17, height: 9, compression: scheme, rows: rows8(second))], to: file)
            let pages = try loadImagePages(at: file)
            XCTAssertEqual(pages.count, 2, name)
            guard pages.count == 2 else { continue }
            XCTAssertEqual(pages.map(\.pageIndex), [0, 1], name)
            XCTAssertEqual(pages[1].image.width, 17, name)
            XCTAssertEqual(pages[1].image.height, 9, name)
            XCTAssertLessThanOrEqual(maxDifference(pages[0].image, first), tolerance + 1e-6, name)
            XCTAssertLessThanOrEqual(maxDifference(pages[1].image, second), tolerance + 1e-6, name)
            XCTAssertEqual(pages[0].bitDepth, 8, name)
        }
    }

    func testTwoPageCCITTGroup4() throws {
        let first = bilevelPattern(width: 40, height: 30, seed: 0)
        let second = bilevelPattern(width: 33, height: 21, seed: 1)
        try writeRawTIFF([
            RawTIFFPage(width: 40, height: 30, bitsPerSample: 1, photometric: PHOTOMETRIC_MINISWHITE,
                        compression: COMPRESSION_CCITTFAX4, rows: rows1(first, setBitFor: true)),
            RawTIFFPage(width: 33, height: 21, bitsPerSample: 1, photometric: PHOTOMETRIC_MINISWHITE,
                        compression: COMPRESSION_CCITTFAX4, rows: rows1(second, setBitFor: true)),
        ], to: path("g4.tif"))
        let pages = try loadImagePages(at: path("g4.tif"))
        XCTAssertEqual(pages.count, 2)
        XCTAssertEqual(pages.first?.image, first)
        XCTAssertEqual(pages.last?.image, second)
        XCTAssertEqual(pages.first?.bitDepth, 1)
    }

    func testOneBitMinIsBlackUncompressed() throws {
        let image = bilevelPattern(width: 13, height: 5, seed: 2)
        try writeRawTIFF([RawTIFFPage(width: 13, height: 5, bitsPerSample: 1, rows: rows1(image, setBitFor: false))],
                         to: path("bw.tif"))
        XCTAssertEqual(try loadGrayImage(at: path("bw.tif")), image)
    }

    func testSixteenBitGray() throws {
        let levels = [0, 3, 100, 128, 254, 255]
        let row = levels.flatMap { level -> [UInt8] in
            let sample = UInt16(level * 257)
            return [UInt8(sample & 0xFF), UInt8(sample >> 8)]  // native (little-endian) order
        }
        try writeRawTIFF([RawTIFFPage(width: levels.count, height: 1, bitsPerSample: 16, compression: COMPRESSION_LZW, rows: [row])],
                         to: path("gray16.tif"))
        let page = try XCTUnwrap(loadImagePages(at: path("gray16.tif")).first)
        XCTAssertEqual(page.bitDepth, 16)
        XCTAssertEqual(page.image.pixels, levels.map { Float($0) / 255 })
    }

    func testRGBAndPaletteAndAlpha() throws {
        let rgbRow: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 30, 60, 90]
        try writeRawTIFF([RawTIFFPage(width: 4, height: 1, samplesPerPixel: 3, photometric: PHOTOMETRIC_RGB,
                                      compression: COMPRESSION_DEFLATE, rows: [rgbRow])], to: path("rgb.tif"))
        let rgb = try XCTUnwrap(loadImagePages(at: path("rgb.tif")).first)
        XCTAssertEqual(rgb.channels, 3)
        for (x, expected) in [rec601(255, 0, 0), rec601(0, 255, 0), rec601(0, 0, 255), rec601(30, 60, 90)].enumerated() {
            XCTAssertEqual(rgb.image[x, 0], expected, accuracy: 1e-5)
        }

        var colormap = [(UInt16, UInt16, UInt16)](repeating: (0, 0, 0), count: 256)
        colormap[1] = (65535, 0, 0)
        colormap[2] = (0, 0, 65535)
        colormap[3] = (65535, 65535, 65535)
        try writeRawTIFF([RawTIFFPage(width: 4, height: 1, photometric: PHOTOMETRIC_PALETTE, compression: COMPRESSION_PACKBITS,
                                      rows: [[0, 1, 2, 3]], colormap: colormap)], to: path("palette.tif"))
        let palette = try loadGrayImage(at: path("palette.tif"))
        XCTAssertEqual(palette.pixels[0], 0, accuracy: 1e-5)
        XCTAssertEqual(palette.pixels[1], rec601(255, 0, 0), accuracy: 1e-5)
        XCTAssertEqual(palette.pixels[2], rec601(0, 0, 255), accuracy: 1e-5)
        XCTAssertEqual(palette.pixels[3], 1, accuracy: 1e-5)

        // Unassociated alpha: transparent black must come out as paper.
        let rgbaRow: [UInt8] = [0, 0, 0, 255, 0, 0, 0, 0]
        try writeRawTIFF([RawTIFFPage(width: 2, height: 1, samplesPerPixel: 4, photometric: PHOTOMETRIC_RGB,
                                      rows: [rgbaRow], extraSamples: [UInt16(EXTRASAMPLE_UNASSALPHA)])], to: path("rgba.tif"))
        XCTAssertEqual(try loadGrayImage(at: path("rgba.tif")).pixels, [0, 1])
    }

    func testResolutionTags() throws {
        let row: [[UInt8]] = [[0]]
        try writeRawTIFF([RawTIFFPage(width: 1, height: 1, rows: row, resolution: (200, RESUNIT_INCH)),
                          RawTIFFPage(width: 1, height: 1, rows: row, resolution: (100, RESUNIT_CENTIMETER)),
                          RawTIFFPage(width: 1, height: 1, rows: row, resolution: (1, RESUNIT_NONE)),
                          RawTIFFPage(width: 1, height: 1, rows: row)], to: path("dpi.tif"))
        let dpis = try loadImagePages(at: path("dpi.tif")).map(\.dpi)
        XCTAssertEqual(dpis.count, 4)
        XCTAssertEqual(dpis[0] ?? 0, 200, accuracy: 1e-9)
        XCTAssertEqual(dpis[1] ?? 0, 254, accuracy: 1e-4)
        XCTAssertNil(dpis[2])
        XCTAssertNil(dpis[3])
    }

    func testLibraryWriterRoundTripsEveryCompression() throws {
        let pages = [byteGradient(width: 30, height: 20), byteGradient(width: 11, height: 7, seed: 3)]
        let cases: [(TIFFCompression, String)] = [(.none, "none"), (.lzw, "lzw"), (.deflate, "deflate"), (.packBits, "packbits")]
        for (compression, name) in cases {
            try writeTIFF(pages: pages, to: path("\(name).tif"), compression: compression, dpi: 300)
            let decoded = try loadImagePages(at: path("\(name).tif"))
            XCTAssertEqual(decoded.map(\.image), pages, name)
            XCTAssertEqual(decoded.first?.dpi ?? 0, 300, accuracy: 1e-3, name)
        }

        let smooth = [smoothImage(width: 40, height: 24), smoothImage(width: 16, height: 16)]
        try writeTIFF(pages: smooth, to: path("jpeg.tif"), compression: .jpeg(quality: 95))
        let jpeg = try loadImagePages(at: path("jpeg.tif"))
        XCTAssertEqual(jpeg.count, 2)
        for (decoded, original) in zip(jpeg, smooth) { XCTAssertLessThan(maxDifference(decoded.image, original), 0.04) }

        let scan = smoothImage(width: 45, height: 20)  // 0.2 ... 0.85: threshold splits it
        try writeTIFF(scan, to: path("g4.tif"), compression: .ccittG4, bilevelThreshold: 0.5)
        let bilevel = try XCTUnwrap(loadImagePages(at: path("g4.tif")).first)
        XCTAssertEqual(bilevel.bitDepth, 1)
        XCTAssertEqual(bilevel.image.pixels, scan.pixels.map { $0 < 0.5 ? 0 : 1 })
    }

    func testPagesCanBeVisitedOneAtATime() throws {
        let pages = (0..<3).map { byteGradient(width: 6, height: 5, seed: $0) }
        try writeTIFF(pages: pages, to: path("three.tif"), compression: .deflate)
        var seen: [Int] = []
        try forEachImagePage(at: path("three.tif")) { page in
            XCTAssertEqual(page.image, pages[page.pageIndex])
            seen.append(page.pageIndex)
        }
        XCTAssertEqual(seen, [0, 1, 2])
        struct Stop: Error {}
        var visited = 0
        XCTAssertThrowsError(try forEachImagePage(at: path("three.tif")) { _ in visited += 1; throw Stop() })
        XCTAssertEqual(visited, 1)
    }

    func testLoadGrayImageReturnsFirstPage() throws {
        let pages = [byteGradient(width: 4, height: 4), GrayImage(width: 2, height: 2, fill: 0)]
        try writeTIFF(pages: pages, to: path("pages.tif"))
        XCTAssertEqual(try loadGrayImage(at: path("pages.tif")), pages[0])
    }
}
