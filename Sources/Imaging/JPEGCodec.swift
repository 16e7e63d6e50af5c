import CJPEG

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// libjpeg's fatal errors end in a longjmp, which must never cross a Swift frame. All libjpeg work
// therefore happens inside the static inline C helpers in Sources/CSystem/CJPEG/shim.h
// (`logbook_jpeg_decode_gray`, `logbook_jpeg_encode`), which own the setjmp and return a status
// code. Those helpers also turn corrupt-data warnings (e.g. "Premature end of JPEG file") into
// failures, so a truncated scan is reported instead of decoded with a grey bottom half.

private let jpegMessageCapacity = 256

func decodeJPEG(_ bytes: [UInt8], path: String, maxPixels: Int) throws -> DecodedPage {
    var info = logbook_jpeg_info()
    var pixels: UnsafeMutablePointer<UInt8>?
    var message = [CChar](repeating: 0, count: jpegMessageCapacity)
    let status = bytes.withUnsafeBufferPointer { data in
        logbook_jpeg_decode_gray(data.baseAddress, UInt(data.count), Int64(maxPixels), &info, &pixels,
                                 &message, message.count)
    }
    defer { free(pixels) }
    let detail = String(cString: message)
    switch Int(status) {
    case LOGBOOK_JPEG_OK:
        break
    case LOGBOOK_JPEG_TOO_LARGE:
        try checkPixelLimit(width: Int(info.width), height: Int(info.height), maxPixels: maxPixels, path: path)
        throw ImagingError(path: path, kind: .tooLarge, problem: "image exceeds the limit of \(maxPixels) pixels")
    case LOGBOOK_JPEG_TRUNCATED:
        throw ImagingError(path: path, kind: .corrupt, problem: "truncated JPEG data (\(detail))")
    default:
        throw ImagingError(path: path, kind: .corrupt, problem: "corrupt JPEG data (\(detail))")
    }
    let width = Int(info.width), height = Int(info.height)
    guard let pixels else {
        throw ImagingError(path: path, kind: .corrupt, problem: "corrupt JPEG data (no pixels decoded)")
    }
    let image = grayImage(fromBytes: UnsafeBufferPointer(start: pixels, count: width * height), width: width, height: height)
    return DecodedPage(image: image, pageIndex: 0, dpi: jfifDPI(info), bitDepth: 8,
                       channels: Int(info.components), format: .jpeg)
}

/// JFIF density unit 1 is dots per inch and 2 dots per centimetre; unit 0 is only an aspect ratio
/// (often a meaningless 1:1), so it yields no DPI.
private func jfifDPI(_ info: logbook_jpeg_info) -> Double? {
    guard info.x_density > 0 else { return nil }
    switch info.density_unit {
    case 1: return Double(info.x_density)
    case 2: return Double(info.x_density) * 2.54
    default: return nil
    }
}

private func encodeJPEG(samples: [UInt8], width: Int, height: Int, components: Int, quality: Int,
                        progressive: Bool, dpi: Double?, path: String) throws -> [UInt8] {
    guard width > 0, height > 0, width <= 65_500, height <= 65_500 else {
        throw ImagingError(path: path, kind: .invalidArgument,
                           problem: "JPEG cannot hold a \(width)x\(height) image (1...65500 per side)")
    }
    var output: UnsafeMutablePointer<UInt8>?
    var size: UInt = 0
    var message = [CChar](repeating: 0, count: jpegMessageCapacity)
    let dpiValue = dpi.map { Int32(min(max($0.rounded(), 0), 65_535)) } ?? 0
    let status = samples.withUnsafeBufferPointer { buffer in
        logbook_jpeg_encode(buffer.baseAddress, Int32(width), Int32(height), Int32(components),
                            Int32(min(max(quality, 1), 100)), progressive ? 1 : 0, dpiValue,
                            &output, &size, &message, message.count)
    }
    defer { free(output) }
    guard Int(status) == LOGBOOK_JPEG_OK, let output else {
        throw ImagingError(path: path, kind: .writeFailed, problem: "JPEG encoding failed (\(String(cString: message)))")
    }
    return Array(UnsafeBufferPointer(start: output, count: Int(size)))
}

/// Writes a gray JPEG atomically (temporary file, then rename).
/// - Parameters:
///   - quality: libjpeg quality 1...100; 90 keeps pen strokes crisp at a modest size.
///   - progressive: write a progressive (multi-scan) file, as some phone apps do.
///   - dpi: recorded as JFIF density in dots per inch.
public func writeJPEG(_ image: GrayImage, to path: String, quality: Int = 90, progressive: Bool = false,
                      dpi: Double? = nil) throws {
    let jpeg = try encodeJPEG(samples: grayBytes(image), width: image.width, height: image.height, components: 1,
                              quality: quality, progressive: progressive, dpi: dpi, path: path)
    try writeFileAtomically(jpeg, to: path)
}

/// Writes a colour (YCbCr) JPEG atomically; see `writeJPEG(_:to:quality:progressive:dpi:)` for
/// the gray version.
public func writeJPEG(_ image: RGBImage, to path: String, quality: Int = 90, progressive: Bool = false,
                      dpi: Double? = nil) throws {
    guard image.pixels.count == image.width * image.height * 3 else {
        throw ImagingError(path: path, kind: .invalidArgument,
                           problem: "RGB image has \(image.pixels.count) samples for \(image.width)x\(image.height)")
    }
    let jpeg = try encodeJPEG(samples: image.pixels, width: image.width, height: image.height, components: 3,
                              quality: quality, progressive: progressive, dpi: dpi, path: path)
    try writeFileAtomically(jpeg, to: path)
}

/// Writes a CMYK JPEG from Adobe-convention samples (4 per pixel, 255 = no ink), the way Photoshop
/// stores print scans. Exists so the CMYK decoding path can be exercised; nothing in the
/// transcription pipeline produces CMYK.
public func writeCMYKJPEG(adobeSamples samples: [UInt8], width: Int, height: Int, to path: String,
                          quality: Int = 90) throws {
    guard samples.count == width * height * 4 else {
        throw ImagingError(path: path, kind: .invalidArgument,
                           problem: "\(samples.count) CMYK samples for \(width)x\(height)")
    }
    let jpeg = try encodeJPEG(samples: samples, width: width, height: height, components: 4,
                              quality: quality, progressive: false, dpi: nil, path: path)
    try writeFileAtomically(jpeg, to: path)
}
