import Foundation
import XCTest
@testable import Imaging

/// Gives each test its own scratch directory, removed afterwards.
class ImagingTestCase: XCTestCase {
    private(set) var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("ImagingTests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func path(_ name: String) -> String { directory + "/" + name }

    /// Expects `body` to throw an ImagingError and returns it for further checks.
    func imagingError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> ImagingError? {
        do {
            try body()
            XCTFail("expected an ImagingError", file: file, line: line)
        } catch let error as ImagingError {
            return error
        } catch {
            XCTFail("expected an ImagingError, got \(error)", file: file, line: line)
        }
        return nil
    }
}

/// Every value is an exact multiple of 1/255 so 8-bit round trips can be compared exactly.
func byteGradient(width: Int, height: Int, seed: Int = 0) -> GrayImage {
    var pixels = [Float]()
    for y in 0..<height {
        for x in 0..<width { pixels.append(Float((x * 7 + y * 13 + seed * 31) % 256) / 255) }
    }
    return GrayImage(width: width, height: height, pixels: pixels)
}

/// A smooth image that lossy JPEG reproduces closely.
func smoothImage(width: Int, height: Int) -> GrayImage {
    var pixels = [Float]()
    for y in 0..<height {
        for x in 0..<width {
            pixels.append(0.2 + 0.6 * Float(x) / Float(max(width - 1, 1)) * 0.5 + 0.3 * Float(y) / Float(max(height - 1, 1)))
        }
    }
    return GrayImage(width: width, height: height, pixels: pixels)
}

func maxDifference(_ a: GrayImage, _ b: GrayImage) -> Float {
    precondition(a.width == b.width && a.height == b.height)
    return zip(a.pixels, b.pixels).map { abs($0 - $1) }.max() ?? 0
}

func rec601(_ red: Int, _ green: Int, _ blue: Int) -> Float {
    0.299 * Float(red) / 255 + 0.587 * Float(green) / 255 + 0.114 * Float(blue) / 255
}

// MARK: - A minimal PNG encoder

/// Builds PNG files byte by byte (stored, uncompressed deflate blocks) so tests can produce the
/// variants the library's own writer never emits: 16-bit, palettes, transparency, gray+alpha,
/// lying headers.
enum HandMadePNG {
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        var bytes = bigEndian(UInt32(data.count))
        let typed = Array(type.utf8) + data
        bytes += typed
        bytes += bigEndian(crc32(typed[...]))
        return bytes
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// zlib stream made of stored blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let count = min(65_535, data.count - offset)
            let final: UInt8 = offset + count >= data.count ? 1 : 0
            out.append(final)
            out += [UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += data[offset..<(offset + count)]
            offset += count
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        out += bigEndian(b << 16 | a)
        return out
    }

    /// `rows` are raw scanlines (already packed for the bit depth), without filter bytes.
    static func make(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]],
                     palette: [(UInt8, UInt8, UInt8)]? = nil, transparency: [UInt8]? = nil,
                     pixelsPerMetre: UInt32? = nil) -> [UInt8] {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        bytes += chunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [bitDepth, colorType, 0, 0, 0])
        if let pixelsPerMetre {
            bytes += chunk("pHYs", bigEndian(pixelsPerMetre) + bigEndian(pixelsPerMetre) + [1])
        }
        if let palette { bytes += chunk("PLTE", palette.flatMap { [$0.0, $0.1, $0.2] }) }
        if let transparency { bytes += chunk("tRNS", transparency) }
        bytes += chunk("IDAT", zlibStored(rows.flatMap { [0] + $0 }))
        bytes += chunk("IEND", [])
        return bytes
    }
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}
