import CTIFF

// libtiff reports problems through handlers rather than longjmp, so it is called from Swift
// directly; the variadic TIFFGetField/TIFFSetField and the va_list message handlers are wrapped in
// Sources/CSystem/CTIFF/shim.h. Messages are captured per file (TIFFOpenExt options) so they can be
// put into an ImagingError instead of being printed to stderr.

/// Some codecs still report through libtiff's process-wide handlers; those would print to stderr.
/// A global initializer runs exactly once, thread-safely.
private let globalTIFFHandlersSilenced: Void = logbook_tiff_silence_global_handlers()

/// Owns the message buffer that libtiff's handlers write into; it must outlive the TIFF handle.
private final class TIFFMessages {
    let pointer: UnsafeMutablePointer<logbook_tiff_messages>

    init() {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: logbook_tiff_messages())
    }

    deinit { pointer.deallocate() }

    var errorCount: Int { Int(pointer.pointee.error_count) }

    var firstError: String {
        withUnsafeBytes(of: &pointer.pointee.error) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

private func corruptTIFFError(path: String, messages: TIFFMessages, fallback: String) -> ImagingError {
    let detail = messages.errorCount > 0 ? messages.firstError : fallback
    // libtiff cannot tell a cut-off file from a damaged one, but these phrasings come from reads
    // that ran past the end of the file, which is by far the usual cause.
    let lowered = detail.lowercased()
    let looksTruncated = ["read error", "cannot read", "can not read", "end of file", "past end", "not enough data"]
        .contains { lowered.contains($0) }
    return ImagingError(path: path, kind: .corrupt,
                        problem: "\(looksTruncated ? "truncated" : "corrupt") TIFF data (\(detail))")
}

private func tiffUInt32(_ tif: OpaquePointer, _ tag: Int32) -> UInt32? {
    var value: UInt32 = 0
    return logbook_tiff_get_uint32(tif, UInt32(tag), &value) != 0 ? value : nil
}

private func tiffUInt16Defaulted(_ tif: OpaquePointer, _ tag: Int32) -> UInt16? {
    var value: UInt16 = 0
    return logbook_tiff_get_uint16_defaulted(tif, UInt32(tag), &value) != 0 ? value : nil
}

private func tiffDPI(_ tif: OpaquePointer) -> Double? {
    var resolution: Float = 0
    guard logbook_tiff_get_float(tif, UInt32(TIFFTAG_XRESOLUTION), &resolution) != 0,
          resolution.isFinite, resolution > 0 else { return nil }
    switch Int32(tiffUInt16Defaulted(tif, TIFFTAG_RESOLUTIONUNIT) ?? UInt16(RESUNIT_INCH)) {
    case RESUNIT_INCH: return Double(resolution)
    case RESUNIT_CENTIMETER: return Double(resolution) * 2.54
    default: return nil  // RESUNIT_NONE: an aspect ratio only
    }
}

func decodeTIFFPages(at path: String, maxPixels: Int, firstPageOnly: Bool, _ body: (DecodedPage) throws -> Void) throws {
    _ = globalTIFFHandlersSilenced
    let messages = TIFFMessages()
    guard let tif = logbook_tiff_open(path, "r", messages.pointer) else {
        throw corruptTIFFError(path: path, messages: messages, fallback: "libtiff could not open the file")
    }
    defer { TIFFClose(tif) }

    var pageIndex = 0
    while true {
        try body(try decodeCurrentTIFFDirectory(tif, pageIndex: pageIndex, path: path, maxPixels: maxPixels,
                                                messages: messages))
        if firstPageOnly { break }
        pageIndex += 1
        let errorsBefore = messages.errorCount
        if TIFFReadDirectory(tif) == 0 {
            // 0 means either "no more pages" or "the next page is unreadable"; only the latter
            // reports an error, and silently dropping a page of a logbook is not acceptable.
            if messages.errorCount > errorsBefore {
                throw corruptTIFFError(path: path, messages: messages, fallback: "cannot read page \(pageIndex + 1)")
            }
            break
        }
    }
}

private func decodeCurrentTIFFDirectory(_ tif: OpaquePointer, pageIndex: Int, path: String, maxPixels: Int,
                                        messages: TIFFMessages) throws -> DecodedPage {
    guard let width32 = tiffUInt32(tif, TIFFTAG_IMAGEWIDTH), let height32 = tiffUInt32(tif, TIFFTAG_IMAGELENGTH) else {
        throw corruptTIFFError(path: path, messages: messages, fallback: "page \(pageIndex + 1) has no image size")
    }
    let width = Int(width32), height = Int(height32)
    try checkPixelLimit(width: width, height: height, maxPixels: maxPixels, path: path)
    guard width > 0, height > 0 else {
        throw ImagingError(path: path, kind: .corrupt, problem: "corrupt TIFF data (page \(pageIndex + 1) is \(width)x\(height))")
    }
    let bitDepth = Int(tiffUInt16Defaulted(tif, TIFFTAG_BITSPERSAMPLE) ?? 1)
    let channels = Int(tiffUInt16Defaulted(tif, TIFFTAG_SAMPLESPERPIXEL) ?? 1)

    var reason = [CChar](repeating: 0, count: 1024)
    guard TIFFRGBAImageOK(tif, &reason) != 0 else {
        throw ImagingError(path: path, kind: .corrupt,
                           problem: "unsupported TIFF page \(pageIndex + 1) (\(String(cString: reason)))")
    }

    // TIFFReadRGBAImageOriented covers every photometric/bit-depth/compression combination libtiff
    // knows (1-bit fax, palettes, 16-bit, YCbCr JPEG...), which is worth its 4 bytes per pixel.
    var raster = [UInt32](repeating: 0, count: width * height)
    let errorsBefore = messages.errorCount
    let ok = raster.withUnsafeMutableBufferPointer { buffer in
        TIFFReadRGBAImageOriented(tif, width32, height32, buffer.baseAddress, ORIENTATION_TOPLEFT, 1)
    }
    guard ok != 0, messages.errorCount == errorsBefore else {
        throw corruptTIFFError(path: path, messages: messages, fallback: "cannot decode page \(pageIndex + 1)")
    }

    var pixels = [Float](repeating: 0, count: width * height)
    unitFloatFromByte.withUnsafeBufferPointer { table in
        for i in 0..<(width * height) {
            let abgr = raster[i]
            // libtiff returns premultiplied colour, so compositing over white paper just adds the
            // uncovered fraction of white.
            let paper = table[Int(255 - (abgr >> 24))]
            let red = Int(abgr & 0xFF), green = Int((abgr >> 8) & 0xFF), blue = Int((abgr >> 16) & 0xFF)
            // Gray pages arrive as R = G = B; the table lookup keeps them bit-identical to the same
            // page read from a PNG, where the weighted sum would be off in the last float bit.
            let gray = red == green && green == blue ? table[red] : luminance(table[red], table[green], table[blue])
            pixels[i] = min(gray + paper, 1)
        }
    }
    return DecodedPage(image: GrayImage(width: width, height: height, pixels: pixels), pageIndex: pageIndex,
                       dpi: tiffDPI(tif), bitDepth: bitDepth, channels: channels, format: .tiff)
}

// MARK: - Encoding

/// How `writeTIFF` stores pixels.
public enum TIFFCompression: Sendable, Equatable {
    /// 8-bit gray, uncompressed.
    case none
    /// 8-bit gray, LZW with horizontal differencing (the classic scanner default).
    case lzw
    /// 8-bit gray, zlib/Deflate with horizontal differencing.
    case deflate
    /// 8-bit gray, PackBits run-length coding.
    case packBits
    /// 8-bit gray, lossy JPEG-in-TIFF at the given libjpeg quality (1...100).
    case jpeg(quality: Int)
    /// 1-bit black and white, CCITT Group 4 fax coding, as document scanners produce. Pixels darker
    /// than the writer's threshold become black.
    case ccittG4

    var libtiffScheme: Int32 {
        switch self {
        case .none: return COMPRESSION_NONE
        case .lzw: return COMPRESSION_LZW
        case .deflate: return COMPRESSION_ADOBE_DEFLATE
        case .packBits: return COMPRESSION_PACKBITS
        case .jpeg: return COMPRESSION_JPEG
        case .ccittG4: return COMPRESSION_CCITTFAX4
        }
    }
}

/// Writes a single-page gray TIFF atomically (temporary file, then rename).
/// - Parameters:
///   - dpi: recorded in the resolution tags (inches).
///   - bilevelThreshold: for `.ccittG4` only: pixels below it become black ink.
public func writeTIFF(_ image: GrayImage, to path: String, compression: TIFFCompression = .lzw,
                      dpi: Double? = nil, bilevelThreshold: Float = 0.5) throws {
    try writeTIFF(pages: [image], to: path, compression: compression, dpi: dpi, bilevelThreshold: bilevelThreshold)
}

/// Writes a multi-page gray TIFF atomically, one directory per image, the way a sheet-fed
/// scanner saves a whole logbook.
public func writeTIFF(pages: [GrayImage], to path: String, compression: TIFFCompression = .lzw,
                      dpi: Double? = nil, bilevelThreshold: Float = 0.5) throws {
    guard !pages.isEmpty else {
        throw ImagingError(path: path, kind: .invalidArgument, problem: "cannot write a TIFF with no pages")
    }
    for page in pages where page.width <= 0 || page.height <= 0 {
        throw ImagingError(path: path, kind: .invalidArgument, problem: "cannot write an empty \(page.width)x\(page.height) page")
    }
    _ = globalTIFFHandlersSilenced
    try writeAtomically(to: path) { temporary in
        let messages = TIFFMessages()
        guard let tif = logbook_tiff_open(temporary, "w", messages.pointer) else {
            throw ImagingError(path: path, kind: .writeFailed,
                               problem: "cannot create TIFF (\(messages.errorCount > 0 ? messages.firstError : "unknown error"))")
        }
        var closed = false
        defer { if !closed { TIFFClose(tif) } }
        for (index, page) in pages.enumerated() {
            guard writeTIFFDirectory(tif, page: page, index: index, pageCount: pages.count, compression: compression,
                                     dpi: dpi, bilevelThreshold: bilevelThreshold) else {
                throw ImagingError(path: path, kind: .writeFailed,
                                   problem: "TIFF encoding failed on page \(index + 1) (\(messages.firstError))")
            }
        }
        TIFFClose(tif)  // flushes; errors show up in the handler
        closed = true
        guard messages.errorCount == 0 else {
            throw ImagingError(path: path, kind: .writeFailed, problem: "TIFF encoding failed (\(messages.firstError))")
        }
        try syncFile(at: temporary, reportingAs: path)
    }
}

private func writeTIFFDirectory(_ tif: OpaquePointer, page: GrayImage, index: Int, pageCount: Int,
                                compression: TIFFCompression, dpi: Double?, bilevelThreshold: Float) -> Bool {
    func set(_ tag: Int32, _ value: Int32) -> Bool { logbook_tiff_set_int(tif, UInt32(tag), value) != 0 }
    let bilevel = compression == .ccittG4
    var ok = logbook_tiff_set_uint32(tif, UInt32(TIFFTAG_IMAGEWIDTH), UInt32(page.width)) != 0
        && logbook_tiff_set_uint32(tif, UInt32(TIFFTAG_IMAGELENGTH), UInt32(page.height)) != 0
        && set(TIFFTAG_SAMPLESPERPIXEL, 1)
        && set(TIFFTAG_BITSPERSAMPLE, bilevel ? 1 : 8)
        && set(TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG)
        && set(TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT)
        // Fax convention: 1 = black, so a mostly white page codes as runs of zeros.
        && set(TIFFTAG_PHOTOMETRIC, bilevel ? PHOTOMETRIC_MINISWHITE : PHOTOMETRIC_MINISBLACK)
        && set(TIFFTAG_COMPRESSION, compression.libtiffScheme)
    guard ok else { return false }
    switch compression {
    case .lzw, .deflate:
        ok = set(TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL)
    case .jpeg(let quality):
        ok = set(TIFFTAG_JPEGQUALITY, Int32(min(max(quality, 1), 100)))
    default:
        break
    }
    if pageCount > 1 {
        ok = ok && set(TIFFTAG_SUBFILETYPE, FILETYPE_PAGE)
            && logbook_tiff_set_int_pair(tif, UInt32(TIFFTAG_PAGENUMBER), Int32(index), Int32(pageCount)) != 0
    }
    if let dpi, dpi > 0 {
        ok = ok && logbook_tiff_set_double(tif, UInt32(TIFFTAG_XRESOLUTION), dpi) != 0
            && logbook_tiff_set_double(tif, UInt32(TIFFTAG_YRESOLUTION), dpi) != 0
            && set(TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH)
    }
    // One strip per page suits G4 (its coding references the previous row); other schemes use
    // libtiff's ~8 KB strips, which JPEG rounds to whole MCU rows.
    let rowsPerStrip = bilevel ? UInt32(page.height) : TIFFDefaultStripSize(tif, 0)
    ok = ok && logbook_tiff_set_uint32(tif, UInt32(TIFFTAG_ROWSPERSTRIP), rowsPerStrip) != 0
    guard ok else { return false }

    let rowBytes = bilevel ? (page.width + 7) / 8 : page.width
    var row = [UInt8](repeating: 0, count: rowBytes)
    for y in 0..<page.height {
        let start = y * page.width
        if bilevel {
            for i in 0..<rowBytes { row[i] = 0 }
            for x in 0..<page.width where page.pixels[start + x] < bilevelThreshold {
                row[x >> 3] |= UInt8(0x80) >> UInt8(x & 7)
            }
        } else {
            for x in 0..<page.width {
                row[x] = byteFromUnit(page.pixels[start + x])
            }
        }
        let written = row.withUnsafeMutableBytes { TIFFWriteScanline(tif, $0.baseAddress, UInt32(y), 0) }
        if written < 0 { return false }
    }
    return TIFFWriteDirectory(tif) != 0
}
