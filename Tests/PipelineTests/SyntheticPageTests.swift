import Foundation
import XCTest
import Imaging
import NeuralNet
import Recognition
@testable import Pipeline

final class SyntheticPageTests: XCTestCase {
    /// Stand-in handwriting for fast tests: bitmap-font digits at three sizes and leans, normalised
    /// like real digits (the real corpus takes too long to load in a debug build).
    static let fontDigits: DigitDataset = {
        var images: [Float] = [], labels: [Int] = [], origins: [String] = []
        for label in 0...9 {
            for variant in 0..<3 {
                let scale = 4 + variant
                var canvas = RGBImage(width: 8 * scale, height: 10 * scale)
                canvas.drawText(String(label), x: scale, y: scale / 2, scale: scale)
                var ink = [Float](repeating: 0, count: canvas.width * canvas.height)
                for y in 0..<canvas.height {
                    // Lean: shift rows by up to a glyph pixel, differently per variant.
                    let shift = (variant - 1) * (canvas.height - y) / (3 * scale)
                    for x in 0..<canvas.width where canvas.pixels[3 * (y * canvas.width + x)] < 128 {
                        let sx = x + shift
                        if sx >= 0 && sx < canvas.width { ink[y * canvas.width + sx] = 1 }
                    }
                }
                images += DigitNormalizer.normalize(ink: ink, width: canvas.width, height: canvas.height)
                labels.append(label)
                origins.append("font:\(label)-\(variant)")
            }
        }
        return DigitDataset(images: images, labels: labels, origins: origins)
    }()

    func smallOptions(seed: UInt64 = 7, degradation: SyntheticDegradation = .none) -> SyntheticPageOptions {
        SyntheticPageOptions(pages: 1, seed: seed, width: 560, height: 640, rows: 10, degradation: degradation, dpi: 72)
    }

    func render(_ options: SyntheticPageOptions, page: Int = 0) -> (image: GrayImage, cells: [SyntheticCellTruth]) {
        var rng = SyntheticPages.generator(forPage: page, seed: options.seed)
        return SyntheticPages.render(page: page, options: options, digits: Self.fontDigits, rng: &rng)
    }

    func temporaryFolder() -> String {
        let folder = NSTemporaryDirectory() + "logbook-synth-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    /// Pixels darker than `threshold` inside the box shrunk by `inset` on every side.
    func darkPixels(_ image: GrayImage, _ cell: SyntheticCellTruth, inset: Int, threshold: Float = 0.5) -> Int {
        var count = 0
        for y in max(cell.y + inset, 0)..<min(cell.y + cell.height - inset, image.height) {
            for x in max(cell.x + inset, 0)..<min(cell.x + cell.width - inset, image.width) where image[x, y] < threshold {
                count += 1
            }
        }
        return count
    }

    func testSameSeedGivesSamePixelsAndAnotherSeedDifferent() {
        let options = smallOptions(degradation: .standard)
        let first = render(options), second = render(options)
        XCTAssertEqual(first.image, second.image)
        XCTAssertEqual(first.cells, second.cells)
        let other = render(smallOptions(seed: 8, degradation: .standard))
        XCTAssertNotEqual(first.image.pixels, other.image.pixels)
        XCTAssertNotEqual(first.cells.map(\.value), other.cells.map(\.value))
        // Pages of one set differ from each other too.
        XCTAssertNotEqual(first.image.pixels, render(options, page: 1).image.pixels)
        // Degradation does not change what is written.
        XCTAssertEqual(render(smallOptions()).cells.map(\.value), first.cells.map(\.value))
    }

    func testTruthListsEveryNumericCellWithTheColumnsDecimalsAndRanges() {
        let options = smallOptions()
        let cells = render(options).cells
        XCTAssertEqual(cells.count, options.rows * options.columns.count)
        XCTAssertEqual(Set(cells.map { "\($0.row),\($0.column)" }).count, cells.count)
        XCTAssertEqual(Set(cells.map(\.row)), Set(1...options.rows))
        XCTAssertEqual(Set(cells.map(\.column)), Set(1...options.columns.count))
        var filled = 0
        for cell in cells {
            let spec = options.columns[cell.column - 1]
            XCTAssertEqual(cell.columnName, spec.name)
            XCTAssertEqual(cell.page, "synth-0001")
            if cell.isEmpty {
                XCTAssertEqual(cell.flag, "empty")
                continue
            }
            filled += 1
            XCTAssertEqual(cell.flag, "ok")
            guard let value = Double(cell.value) else { XCTFail("not a number: \(cell.value)"); continue }
            XCTAssertGreaterThanOrEqual(value, spec.minimum, "\(cell.value) in \(spec.name)")
            XCTAssertLessThanOrEqual(value, spec.maximum, "\(cell.value) in \(spec.name)")
            let parts = cell.value.split(separator: ".")
            XCTAssertEqual(parts.count == 2 ? parts[1].count : 0, spec.decimals, "\(cell.value) in \(spec.name)")
            XCTAssertTrue(!cell.value.hasPrefix("-") || spec.minimum < 0, "\(cell.value) in \(spec.name)")
            XCTAssertNotEqual(cell.value.first, ".")
        }
        XCTAssertGreaterThan(filled, cells.count * 3 / 4)
        // Over a few pages some cells are blank and rain is often exactly 0.0.
        var all: [SyntheticCellTruth] = []
        for page in 0..<6 { all += render(smallOptions(seed: 3), page: page).cells }
        XCTAssertTrue(all.contains { $0.isEmpty })
        XCTAssertTrue(all.contains { $0.columnName == "Rain" && $0.value == "0.0" })
        XCTAssertTrue(all.contains { $0.columnName == "Press." && $0.value.count == 6 })
    }

    func testFilledCellsHoldInkAndEmptyCellsAreBlank() {
        // Clean page: exact.
        var sawEmpty = false
        for page in 0..<3 {
            let (image, cells) = render(smallOptions(seed: 11), page: page)
            for cell in cells {
                let dark = darkPixels(image, cell, inset: 3)
                if cell.isEmpty {
                    sawEmpty = true
                    XCTAssertEqual(dark, 0, "empty cell r\(cell.row) c\(cell.column) has ink")
                } else {
                    XCTAssertGreaterThan(dark, 10, "cell r\(cell.row) c\(cell.column) \(cell.value) has no ink")
                }
            }
        }
        XCTAssertTrue(sawEmpty)
        // Skewed, noisy paper: boxes follow the turn.
        let wear = SyntheticDegradation(paper: 1, skewDegrees: 3, noise: 0.5)
        let (image, cells) = render(smallOptions(seed: 5, degradation: wear))
        let inset = 3 + Int((Double(cells[0].width) * tan(3 * Double.pi / 180)).rounded(.up))
        var emptyDark = 0, emptyCount = 0
        for cell in cells {
            let dark = darkPixels(image, cell, inset: inset, threshold: 0.45)
            if cell.isEmpty { emptyDark += dark; emptyCount += 1 } else {
                XCTAssertGreaterThan(dark, 5, "skewed cell r\(cell.row) c\(cell.column) \(cell.value) has no ink")
            }
        }
        if emptyCount > 0 { XCTAssertLessThan(Double(emptyDark) / Double(emptyCount), 3) }
    }

    func testCleanPageGridIsDetected() {
        let options = smallOptions(seed: 21)
        let (image, cells) = render(options)
        let grid = detectTableGrid(in: image.binarized(threshold: 0.5))
        XCTAssertEqual(grid.rowCount, options.rows + 1)
        XCTAssertEqual(grid.columnCount, options.columns.count + 1)
        assertBoxesMatch(grid, cells)
    }

    func testSkewedPageBoxesMatchTheDetectedGrid() {
        // A page turned by 2-3 degrees: the detector's cells must land on the turned truth boxes.
        let options = smallOptions(seed: 22, degradation: SyntheticDegradation(skewDegrees: 3))
        var angle = 0.0
        for page in 0..<4 {
            var rng = SyntheticPages.generator(forPage: page, seed: options.seed)
            let rendered = SyntheticPages.renderPage(index: page, options: options, digits: Self.fontDigits, rng: &rng)
            angle = rendered.skewDegrees
            if abs(angle) > 2 {
                // Turning spreads the 1 px rules of this small page over two pixels: a lenient threshold.
                let grid = detectTableGrid(in: rendered.image.binarized(threshold: 0.8))
                XCTAssertEqual(grid.rowCount, options.rows + 1)
                XCTAssertEqual(grid.columnCount, options.columns.count + 1)
                assertBoxesMatch(grid, rendered.cells)
                break
            }
        }
        XCTAssertGreaterThan(abs(angle), 2, "no page was turned noticeably")
    }

    func assertBoxesMatch(_ grid: TableGrid, _ cells: [SyntheticCellTruth], line: UInt = #line) {
        for cell in cells {
            guard let found = grid.cell(row: cell.row, column: cell.column) else {
                XCTFail("no grid cell r\(cell.row) c\(cell.column)"); continue
            }
            let box = found.boundingBox
            XCTAssertEqual(Double(box.x), Double(cell.x), accuracy: 2, line: line)
            XCTAssertEqual(Double(box.y), Double(cell.y), accuracy: 2, line: line)
            XCTAssertEqual(Double(box.width), Double(cell.width), accuracy: 3, line: line)
            XCTAssertEqual(Double(box.height), Double(cell.height), accuracy: 3, line: line)
        }
    }

    func testGenerateWritesReadableFilesAndTruthCSV() throws {
        let folder = temporaryFolder()
        var options = smallOptions(degradation: SyntheticDegradation(paper: 0.7, stains: 1, skewDegrees: 1.5))
        options.pages = 5
        options.formats = [.png, .jpeg, .tiffLZW, .tiffG4, .tiffDeflate]
        let set = try SyntheticPages.generate(options: options, digits: Self.fontDigits, outputDirectory: folder)
        XCTAssertEqual(set.pages.map(\.id), ["synth-0001", "synth-0002", "synth-0003", "synth-0004", "synth-0005"])
        let expected: [(String, ImageFileFormat, Int)] = [("png", .png, 8), ("jpg", .jpeg, 8), ("tif", .tiff, 8),
                                                          ("tif", .tiff, 1), ("tif", .tiff, 8)]
        for (page, (ext, format, depth)) in zip(set.pages, expected) {
            XCTAssertEqual(page.path, folder + "/" + page.id + "." + ext)
            let decoded = try loadImagePages(at: page.path)
            XCTAssertEqual(decoded.count, 1)
            XCTAssertEqual(decoded[0].format, format)
            XCTAssertEqual(decoded[0].bitDepth, depth, page.path)
            XCTAssertEqual(decoded[0].image.width, options.width)
            XCTAssertEqual(decoded[0].image.height, options.height)
        }
        // The lossless PNG is the rendered page to 8 bits.
        var rng = SyntheticPages.generator(forPage: 0, seed: options.seed)
        let rendered = SyntheticPages.render(page: 0, options: options, digits: Self.fontDigits, rng: &rng)
        let png = try loadGrayImage(at: set.pages[0].path)
        XCTAssertLessThanOrEqual(zip(png.pixels, rendered.image.pixels).map { abs($0 - $1) }.max() ?? 1, 0.5 / 255 + 1e-4)
        XCTAssertEqual(rendered.cells, set.pages[0].cells)

        let text = try String(contentsOfFile: folder + "/truth.csv", encoding: .utf8)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(String(lines[0]), "page,row,column,value,confidence,flag,column_name,cell_x,cell_y,cell_width,cell_height")
        XCTAssertEqual(lines.count, 1 + options.pages * options.rows * options.columns.count)
        let first = set.cells[0]
        XCTAssertEqual(String(lines[1]), "synth-0001,1,1,\(first.value),,\(first.flag),Max,\(first.x),\(first.y),\(first.width),\(first.height)")
        XCTAssertTrue(lines.dropFirst().allSatisfy { $0.contains(",,ok,") || $0.contains(",,,empty,") })
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder)).count, options.pages + 1,
                       "no temporary files left")

        // Byte-identical on a second run.
        let again = temporaryFolder()
        _ = try SyntheticPages.generate(options: options, digits: Self.fontDigits, outputDirectory: again)
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            XCTAssertEqual(FileManager.default.contents(atPath: folder + "/" + name),
                           FileManager.default.contents(atPath: again + "/" + name), name)
        }
    }

    func testNegativeValuesGetAMinusAndEveryCharacterIsInked() {
        var options = smallOptions(seed: 2)
        options.columns = [
            SyntheticColumnSpec(name: "Min", unit: "C", decimals: 1, minimum: -8, maximum: -0.5, model: .walk(step: 0.2),
                                emptyProbability: 0),
            SyntheticColumnSpec(name: "Wind", decimals: 0, minimum: 0, maximum: 12, emptyProbability: 0),
        ]
        options.emptyRowProbability = 0
        let (image, cells) = render(options)
        XCTAssertEqual(cells.count, 20)
        for cell in cells where cell.column == 1 {
            XCTAssertTrue(cell.value.hasPrefix("-"), cell.value)
            XCTAssertGreaterThan(darkPixels(image, cell, inset: 3), 10)
        }
        XCTAssertTrue(cells.filter { $0.column == 2 }.allSatisfy { !$0.value.contains(".") && Int($0.value) != nil })
        XCTAssertEqual(SyntheticPages.format(-0.04, decimals: 1, minimum: -5, maximum: 5), "0.0")
        XCTAssertEqual(SyntheticPages.format(1015.449, decimals: 1, minimum: 990, maximum: 1030), "1015.4")
        XCTAssertEqual(SyntheticPages.format(60.04, decimals: 1, minimum: 0, maximum: 60), "60.0")
        XCTAssertEqual(SyntheticPages.format(-2.05, decimals: 2, minimum: -5, maximum: 5), "-2.05")
    }

    func testRejectsBadOptionsAndDigitsMissingAClass() {
        let folder = temporaryFolder()
        var options = smallOptions()
        options.rows = 200
        XCTAssertThrowsError(try SyntheticPages.generate(options: options, digits: Self.fontDigits, outputDirectory: folder))
        options = smallOptions()
        options.columns[1].model = .below(column: 3, spread: 1...2)
        XCTAssertNotNil(options.problem())
        let noNines = Self.fontDigits.subset((0..<Self.fontDigits.count).filter { Self.fontDigits.labels[$0] != 9 })
        XCTAssertThrowsError(try SyntheticPages.generate(options: smallOptions(), digits: noNines, outputDirectory: folder)) {
            XCTAssertTrue(String(describing: $0).contains("9"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/truth.csv"))
    }

    /// Release-build check by eye and clock: `LOGBOOK_SYNTH_PREVIEW=/tmp/dir` renders default-size,
    /// fully degraded pages from the real test digits into that folder and prints the time per page.
    func testPreviewDefaultPages() throws {
        guard let folder = ProcessInfo.processInfo.environment["LOGBOOK_SYNTH_PREVIEW"], !folder.isEmpty else {
            throw XCTSkip("set LOGBOOK_SYNTH_PREVIEW to a folder to render preview pages")
        }
        let started = Date()
        let digits = try DataSplits.load(sources: ["standard"], splitSeed: 2024).test
        print("loaded \(digits.count) test digits in \(Date().timeIntervalSince(started)) s")
        var options = SyntheticPageOptions(pages: 5)
        if let seed = ProcessInfo.processInfo.environment["LOGBOOK_SYNTH_SEED"].flatMap(UInt64.init) { options.seed = seed }
        for page in 0..<3 {
            var rng = SyntheticPages.generator(forPage: page, seed: options.seed)
            let clock = Date()
            let rendered = SyntheticPages.render(page: page, options: options, digits: digits, rng: &rng)
            print(String(format: "page %d rendered in %.3f s", page, Date().timeIntervalSince(clock)))
            try writePNG(rendered.image, to: folder + "/preview-\(page).png")
            try writePNG(rendered.image.cropped(x: 80, y: 200, width: 900, height: 700), to: folder + "/preview-\(page)-crop.png")
            // Truth boxes over the page, to check they follow the skew.
            var overlay = RGBImage(gray: rendered.image)
            for cell in rendered.cells {
                overlay.drawRectangle(x: cell.x, y: cell.y, width: cell.width, height: cell.height,
                                      color: cell.isEmpty ? .blue : .red)
            }
            try writePNG(overlay, to: folder + "/preview-\(page)-boxes.png")
        }
        let clock = Date()
        let set = try SyntheticPages.generate(options: options, digits: digits, outputDirectory: folder + "/set")
        print(String(format: "generated %d pages with files in %.3f s", set.pages.count, Date().timeIntervalSince(clock)))
        for page in set.pages where page.format != .png {
            try writePNG(try loadGrayImage(at: page.path), to: folder + "/decoded-\(page.id).png")
        }
    }
}
