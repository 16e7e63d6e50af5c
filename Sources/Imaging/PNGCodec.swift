import CPNG

// PNG goes through libpng's simplified API (png_image_*). Its error handling longjmps only inside
// libpng's own frames and reports failure through return values and `png_image.message`, which
// keeps Swift frames out of any longjmp path.

private let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

/// What a walk over the chunk list learns without decompressing anything.
struct PNGStructure {
    var width = 0
    var height = 0
    var bitDepth = 0
    var colorType = 0
    var dpi: Double?

    var channels: Int {
        switch colorType {
        case 0, 3: return 1  // gray, palette index
        case 2: return 3
        case 4: return 2
        case 6: return 4
        default: return 0
        }
    }
}

private func bigEndianUInt32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
}

/// Checks that every chunk is complete and an IEND is present. libpng alone would report a cut
/// file as a vague "Read Error", and could even succeed when only the trailer is missing; a
/// scan cut short in transfer is common enough to deserve its own clear message.
func parsePNGStructure(_ bytes: [UInt8], path: String) throws -> PNGStructure {
    func truncated() -> ImagingError {
        ImagingError(path: path, kind: .corrupt, problem: "truncated PNG data")
    }
    var structure = PNGStructure()
    var offset = pngSignature.count
    var sawHeader = false
    while true {
        guard offset + 8 <= bytes.count else { throw truncated() }
        let length = Int(bigEndianUInt32(bytes, offset))
        let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
        let dataStart = offset + 8
        guard length <= Int(Int32.max), dataStart + length + 4 <= bytes.count else { throw truncated() }
        if !sawHeader {
            guard type == "IHDR", length == 13 else {
                throw ImagingError(path: path, kind: .corrupt, problem: "corrupt PNG data (the first chunk is not IHDR)")
            }
            structure.width = Int(bigEndianUInt32(bytes, dataStart))
            structure.height = Int(bigEndianUInt32(bytes, dataStart + 4))
            structure.bitDepth = Int(bytes[dataStart + 8])
            structure.colorType = Int(bytes[dataStart + 9])
            sawHeader = true
        } else if type == "pHYs", length == 9, bytes[dataStart + 8] == 1 {
            // Unit 1 is pixels per metre; unit 0 is an aspect ratio only, which carries no DPI.
            let perMetre = Double(bigEndianUInt32(bytes, dataStart))
            if perMetre > 0 { structure.dpi = perMetre * 0.0254 }
        } else if type == "IEND" {
            return structure
        }
        offset = dataStart + length + 4
    }
}

private func pngMessage(_ image: inout png_image) -> String {
    withUnsafeBytes(of: &image.message) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

func decodePNG(_ bytes: [UInt8], path: String, maxPixels: Int) throws -> DecodedPage {
    let structure = try parsePNGStructure(bytes, path: path)
    try checkPixelLimit(width: structure.width, height: structure.height, maxPixels: maxPixels, path: path)

    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    defer { png_image_free(&image) }

    return try bytes.withUnsafeBytes { raw -> DecodedPage in
        guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
            throw ImagingError(path: path, kind: .corrupt, problem: "corrupt PNG data (\(pngMessage(&image)))")
        }
        let width = Int(image.width), height = Int(image.height)
        try checkPixelLimit(width: width, height: height, maxPixels: maxPixels, path: path)
        // Without a gAMA/sRGB chunk, 16-bit samples are almost always sRGB-encoded like 8-bit ones
        // (that is what scanners and image editors write); libpng would otherwise assume linear.
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        let isColour = (image.format & UInt32(PNG_FORMAT_FLAG_COLOR)) != 0
        image.format = isColour ? UInt32(PNG_FORMAT_RGB) : UInt32(PNG_FORMAT_GRAY)
        let channels = isColour ? 3 : 1
        // Transparent regions become paper: libpng composites onto this background itself.
        var white = png_color(red: 255, green: 255, blue: 255)
        var samples = [UInt8](repeating: 0, count: width * height * channels)
        let finished = samples.withUnsafeMutableBytes { buffer in
            png_image_finish_read(&image, &white, buffer.baseAddress, 0, nil)
        }
        guard finished != 0 else {
            throw ImagingError(path: path, kind: .corrupt, problem: "corrupt PNG data (\(pngMessage(&image)))")
        }
        let gray: GrayImage
        if isColour {
            var pixels = [Float](repeating: 0, count: width * height)
            unitFloatFromByte.withUnsafeBufferPointer { table in
                for i in 0..<(width * height) {
                    let red = Int(samples[3 * i]), green = Int(samples[3 * i + 1]), blue = Int(samples[3 * i + 2])
                    // Exact for neutral colours, matching gray files bit for bit.
                    pixels[i] = red == green && green == blue ? table[red] : luminance(table[red], table[green], table[blue])
                }
            }
            gray = GrayImage(width: width, height: height, pixels: pixels)
        } else {
            gray = samples.withUnsafeBufferPointer { grayImage(fromBytes: $0, width: width, height: height) }
        }
        return DecodedPage(image: gray, pageIndex: 0, dpi: structure.dpi, bitDepth: structure.bitDepth,
                           channels: structure.channels, format: .png)
    }
}

// MARK: - Encoding

func grayBytes(_ image: GrayImage) -> [UInt8] {
    image.pixels.map(byteFromUnit)
}

/// The standard PNG/zlib CRC-32, needed only to add a pHYs chunk that the simplified API cannot.
private let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
}

func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for byte in bytes { c = crcTable[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
}

private func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
    bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
}

/// Inserts a pHYs chunk right after IHDR (33 bytes in), where the PNG spec wants it (before IDAT).
private func insertingResolution(_ dpi: Double, into png: [UInt8]) -> [UInt8] {
    let perMetre = UInt32(min(max((dpi / 0.0254).rounded(), 1), Double(UInt32.max)))
    var chunk: [UInt8] = []
    appendBigEndian(9, to: &chunk)
    chunk += Array("pHYs".utf8)
    appendBigEndian(perMetre, to: &chunk)
    appendBigEndian(perMetre, to: &chunk)
    chunk.append(1)
    appendBigEndian(crc32(chunk[4...]), to: &chunk)
    let ihdrEnd = 8 + 8 + 13 + 4
    return Array(png[..<ihdrEnd]) + chunk + Array(png[ihdrEnd...])
}

private func encodePNG(samples: [UInt8], width: Int, height: Int, format: UInt32, dpi: Double?, path: String) throws -> [UInt8] {
    guard width > 0, height > 0 else {
        throw ImagingError(path: path, kind: .invalidArgument, problem: "cannot write an empty \(width)x\(height) image")
    }
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    image.width = UInt32(width)
    image.height = UInt32(height)
    image.format = format
    defer { png_image_free(&image) }

    var size: Int = 0
    let sized = samples.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, 0, nil) }
    guard sized != 0, size > 0 else {
        throw ImagingError(path: path, kind: .writeFailed, problem: "PNG encoding failed (\(pngMessage(&image)))")
    }
    var encoded = [UInt8](repeating: 0, count: size)
    let written = encoded.withUnsafeMutableBytes { output in
        samples.withUnsafeBytes { png_image_write_to_memory(&image, output.baseAddress, &size, 0, $0.baseAddress, 0, nil) }
    }
    guard written != 0 else {
        throw ImagingError(path: path, kind: .writeFailed, problem: "PNG encoding failed (\(pngMessage(&image)))")
    }
    encoded.removeSubrange(size...)
    if let dpi, dpi > 0 { encoded = insertingResolution(dpi, into: encoded) }
    return encoded
}

/// Writes an 8-bit gray PNG atomically (temporary file, then rename).
/// - Parameter dpi: recorded in a pHYs chunk, so synthetic sample scans carry a resolution.
public func writePNG(_ image: GrayImage, to path: String, dpi: Double? = nil) throws {
    let png = try encodePNG(samples: grayBytes(image), width: image.width, height: image.height,
                            format: UInt32(PNG_FORMAT_GRAY), dpi: dpi, path: path)
    try writeFileAtomically(png, to: path)
}

/// Writes an 8-bit RGB PNG atomically (temporary file, then rename).
public func writePNG(_ image: RGBImage, to path: String, dpi: Double? = nil) throws {
    guard image.pixels.count == image.width * image.height * 3 else {
        throw ImagingError(path: path, kind: .invalidArgument,
                           problem: "RGB image has \(image.pixels.count) samples for \(image.width)x\(image.height)")
    }
    let png = try encodePNG(samples: image.pixels, width: image.width, height: image.height,
                            format: UInt32(PNG_FORMAT_RGB), dpi: dpi, path: path)
    try writeFileAtomically(png, to: path)
}
