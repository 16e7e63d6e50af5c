/// The container formats the decoder understands.
public enum ImageFileFormat: String, Sendable, Equatable {
    case png = "PNG"
    case jpeg = "JPEG"
    case tiff = "TIFF"

    /// Identifies a format from its leading bytes. Scanners and phone apps routinely save files
    /// with the wrong extension, so the extension is never consulted.
    public init?(magicBytes bytes: [UInt8]) {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else if bytes.starts(with: [0x49, 0x49, 0x2A, 0x00]) || bytes.starts(with: [0x4D, 0x4D, 0x00, 0x2A])
                    || bytes.starts(with: [0x49, 0x49, 0x2B, 0x00]) || bytes.starts(with: [0x4D, 0x4D, 0x00, 0x2B]) {
            self = .tiff  // classic and BigTIFF, either byte order
        } else {
            return nil
        }
    }
}

/// One page of a scanned file, converted to gray, plus what the file said about it.
public struct DecodedPage: Sendable, Equatable {
    public var image: GrayImage
    /// 0-based position in a multi-page TIFF; always 0 for PNG and JPEG.
    public var pageIndex: Int
    /// Horizontal resolution from the file's metadata (pHYs, JFIF density, TIFF resolution tags),
    /// or nil when the file does not say. Lets callers judge whether digits will be large enough.
    public var dpi: Double?
    /// Bits per sample as stored (1, 8, 16…), before conversion to Float.
    public var bitDepth: Int
    /// Samples per pixel as stored (1 gray or palette index, 2 gray+alpha, 3 colour, 4 colour+alpha
    /// or CMYK).
    public var channels: Int
    public var format: ImageFileFormat

    public init(image: GrayImage, pageIndex: Int, dpi: Double?, bitDepth: Int, channels: Int, format: ImageFileFormat) {
        self.image = image
        self.pageIndex = pageIndex
        self.dpi = dpi
        self.bitDepth = bitDepth
        self.channels = channels
        self.format = format
    }
}

/// Decodes every page of a PNG, JPEG or TIFF file to gray (luminance 0.299 R + 0.587 G + 0.114 B,
/// transparency composited over white paper, 0 = black ink, 1 = white).
///
/// - Parameter maxPixels: pages with more pixels than this are refused before their pixel buffer
///   is allocated, so a small malicious or corrupt file that claims to be 50000x50000 cannot
///   exhaust memory.
/// - Throws: `ImagingError` naming the file and the problem.
public func loadImagePages(at path: String, maxPixels: Int = 120_000_000) throws -> [DecodedPage] {
    var pages: [DecodedPage] = []
    try forEachImagePage(at: path, maxPixels: maxPixels) { pages.append($0) }
    return pages
}

/// Decodes the pages of an image file one at a time, handing each to `body` before the next is
/// decoded. A bound logbook scanned into one multi-page TIFF can hold hundreds of pages; this keeps
/// only one of them in memory. Throwing from `body` stops the walk.
/// Same conversions, limit and errors as `loadImagePages(at:maxPixels:)`.
public func forEachImagePage(at path: String, maxPixels: Int = 120_000_000,
                             _ body: (DecodedPage) throws -> Void) throws {
    try visitPages(at: path, maxPixels: maxPixels, firstPageOnly: false, body)
}

/// The first page of an image file as gray; see `loadImagePages(at:maxPixels:)`.
public func loadGrayImage(at path: String, maxPixels: Int = 120_000_000) throws -> GrayImage {
    var first: GrayImage?
    try visitPages(at: path, maxPixels: maxPixels, firstPageOnly: true) { first = $0.image }
    guard let first else {
        throw ImagingError(path: path, kind: .corrupt, problem: "file contains no pages")
    }
    return first
}

private func visitPages(at path: String, maxPixels: Int, firstPageOnly: Bool,
                        _ body: (DecodedPage) throws -> Void) throws {
    let prefix = try readFilePrefix(at: path, count: 8)
    guard let format = ImageFileFormat(magicBytes: prefix) else {
        let problem = prefix.isEmpty ? "empty file, not a PNG, JPEG or TIFF file" : "not a PNG, JPEG or TIFF file"
        throw ImagingError(path: path, kind: .unsupportedFormat, problem: problem)
    }
    switch format {
    case .png:
        try body(try decodePNG(try readFileBytes(at: path), path: path, maxPixels: maxPixels))
    case .jpeg:
        try body(try decodeJPEG(try readFileBytes(at: path), path: path, maxPixels: maxPixels))
    case .tiff:
        try decodeTIFFPages(at: path, maxPixels: maxPixels, firstPageOnly: firstPageOnly, body)
    }
}

/// Refuses a declared size before anything of that size is allocated.
func checkPixelLimit(width: Int, height: Int, maxPixels: Int, path: String) throws {
    let (count, overflow) = width.multipliedReportingOverflow(by: height)
    if overflow || count > maxPixels {
        throw ImagingError(path: path, kind: .tooLarge,
                           problem: "\(width)x\(height) pixels exceeds the limit of \(maxPixels)")
    }
}

/// Scales 8-bit samples to 0...1 through a table: cheaper than a division per pixel on 100 MP scans.
let unitFloatFromByte: [Float] = (0...255).map { Float($0) / 255 }

/// 0...1 to 0...255 with rounding. Out-of-range values clamp, and NaN (a bug upstream, e.g. a
/// division by an empty region) becomes black so it is visible in the written file rather than
/// crashing the conversion.
@inline(__always)
func byteFromUnit(_ value: Float) -> UInt8 {
    guard !value.isNaN else { return 0 }
    return UInt8((min(max(value, 0), 1) * 255).rounded())
}

/// The Rec. 601 luma weights, used everywhere colour becomes gray so PNG, JPEG and TIFF agree.
@inline(__always)
func luminance(_ red: Float, _ green: Float, _ blue: Float) -> Float {
    0.299 * red + 0.587 * green + 0.114 * blue
}

func grayImage(fromBytes bytes: UnsafeBufferPointer<UInt8>, width: Int, height: Int) -> GrayImage {
    var pixels = [Float](repeating: 0, count: width * height)
    unitFloatFromByte.withUnsafeBufferPointer { table in
        for i in 0..<(width * height) { pixels[i] = table[Int(bytes[i])] }
    }
    return GrayImage(width: width, height: height, pixels: pixels)
}
