import Foundation
import Imaging
import XCTest
@testable import Recognition

/// The MeteoSaver dev cells (AGPL data: only read from ../shared, never copied into the project),
/// or a skip when this checkout has none.
func meteosaverTruthCSV() throws -> String {
    let relative = "../shared/data/archival/meteosaver-dev/truth.csv"
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    for candidate in [relative, packageRoot + "/" + relative] where FileManager.default.fileExists(atPath: candidate) {
        return candidate
    }
    throw XCTSkip("archival cells not found (../shared/data/archival/meteosaver-dev)")
}

/// Synthetic cells drawn with Imaging's drawing code: white paper, black strokes.
private struct SketchCell {
    var canvas: RGBImage
    init(width: Int, height: Int) { canvas = RGBImage(width: width, height: height, color: .white) }

    mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, thickness: Int = 4) {
        canvas.drawLine(x0: x0, y0: y0, x1: x1, y1: y1, thickness: thickness, color: .black)
    }
    mutating func box(_ x: Int, _ y: Int, _ width: Int, _ height: Int) {
        canvas.fillRect(x: x, y: y, width: width, height: height, color: .black)
    }
    /// A "0"-like ring: the outline of a rectangle with a thick stroke.
    mutating func ring(_ x: Int, _ y: Int, _ width: Int, _ height: Int, stroke: Int = 4) {
        box(x, y, width, stroke)
        box(x, y + height - stroke, width, stroke)
        box(x, y, stroke, height)
        box(x + width - stroke, y, stroke, height)
    }
    var image: GrayImage {
        var gray = GrayImage(width: canvas.width, height: canvas.height)
        for i in 0..<(canvas.width * canvas.height) { gray.pixels[i] = Float(canvas.pixels[3 * i]) / 255 }
        return gray
    }
}

final class ArchivalCellsTests: RecognitionTestCase {
    // MARK: Cutting

    func testTwoDigitsSeparatorAndRuleAtTheBorder() {
        var cell = SketchCell(width: 110, height: 60)
        cell.ring(20, 10, 22, 38)             // a "0"
        cell.line(70, 10, 70, 47, thickness: 5) // a "1"
        cell.box(52, 42, 5, 5)                // the decimal dot, low, between them
        cell.box(104, 0, 4, 60)               // the table rule at the right edge
        let cut = CellDigitCutter.cut(cell: cell.image)
        XCTAssertEqual(cut.digits.count, 2, "boxes \(cut.boxes)")
        XCTAssertEqual(cut.separatorIndex, 1)
        XCTAssertEqual(cut.separatorBox, CutCell.Box(minX: 52, minY: 42, maxX: 56, maxY: 46))
        XCTAssertTrue(cut.boxes.allSatisfy { $0.maxX < 100 }, "the rule must not be part of a digit: \(cut.boxes)")
        XCTAssertEqual(cut.boxes.first?.minX, 20)
        XCTAssertEqual(cut.boxes.first?.width, 22)
        // Each crop holds only its own ink, in paper polarity.
        XCTAssertEqual(cut.digits[1].image.width, cut.digits[1].box.width)
        XCTAssertTrue(cut.digits[1].image.pixels.contains(0))
    }

    /// A crop from a gray scan (paper 0.45, ink 0.15) loaded with `loadCellCrop` cuts as the same
    /// cell in black and white does; as decoded, its paper is all ink.
    func testAGrayCropCutsLikeItsBlackAndWhiteSelf() throws {
        var cell = SketchCell(width: 110, height: 60)
        cell.ring(20, 10, 22, 38)
        cell.line(70, 10, 70, 47, thickness: 5)
        cell.box(52, 42, 5, 5)
        let binary = cell.image
        let gray = GrayImage(width: binary.width, height: binary.height, pixels: binary.pixels.map { 0.15 + 0.3 * $0 })
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gray-crop-\(ProcessInfo.processInfo.processIdentifier).png").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try writePNG(gray, to: path)
        let loaded = try ArchivalCells.loadCellCrop(at: path)
        let cut = CellDigitCutter.cut(cell: loaded), reference = CellDigitCutter.cut(cell: binary)
        XCTAssertEqual(cut.boxes, reference.boxes)
        XCTAssertEqual(cut.separatorIndex, 1)
        XCTAssertNotEqual(CellDigitCutter.cut(cell: try loadGrayImage(at: path)).boxes, reference.boxes)
    }

    /// A small hand on a page scanned at low resolution: digits 26 pixels tall in a wide cell, its
    /// point a 3 by 3 speck (9 pixels, under the cell's speck size of 10). Low between the
    /// digits it is the point; the same speck high in the band, or a 2 by 2 one, is not.
    func testASmallHandsTinyPointIsStillTheSeparator() {
        func cell(speckAt y: Int, size: Int) -> CutCell {
            var cell = SketchCell(width: 220, height: 70)
            cell.ring(60, 20, 15, 26, stroke: 3)       // a "0"
            cell.line(95, 20, 95, 45, thickness: 4)    // a "1"
            cell.ring(118, 20, 15, 26, stroke: 3)      // a "0"
            cell.box(105, y, size, size)
            return CellDigitCutter.cut(cell: cell.image)
        }
        XCTAssertLessThan(9, 220 * 70 / 1500, "the point must be under the speck size for this test to mean anything")
        let low = cell(speckAt: 43, size: 3)
        XCTAssertEqual(low.digits.count, 3, "boxes \(low.boxes)")
        XCTAssertEqual(low.separatorIndex, 2)
        XCTAssertEqual(low.separatorBox, CutCell.Box(minX: 105, minY: 43, maxX: 107, maxY: 45))
        XCTAssertNil(cell(speckAt: 24, size: 3).separatorIndex, "a speck high in the band is no point")
        XCTAssertNil(cell(speckAt: 44, size: 2).separatorIndex, "a speck under a tenth of the digits' height is no point")
    }

    func testRuleRemnantsSpecksAndNeighbourStrokesAreDropped() {
        var cell = SketchCell(width: 100, height: 60)
        cell.ring(15, 12, 20, 34)
        cell.ring(50, 12, 20, 34)
        cell.box(0, 0, 100, 3)     // horizontal rule along the top
        cell.box(0, 20, 3, 25)     // piece of a vertical rule at the left edge
        cell.box(80, 52, 12, 8)    // top of a digit of the cell below, cut off by the bottom edge
        cell.box(40, 5, 1, 1)      // speck
        let cut = CellDigitCutter.cut(cell: cell.image)
        XCTAssertEqual(cut.boxes, [CutCell.Box(minX: 15, minY: 12, maxX: 34, maxY: 45),
                                   CutCell.Box(minX: 50, minY: 12, maxX: 69, maxY: 45)])
        XCTAssertNil(cut.separatorIndex)
        XCTAssertGreaterThanOrEqual(cut.droppedComponents, 2)
    }

    /// The crease of a fold crossing the cell, broken into dashes of different lengths, some of
    /// them digit-sized: it goes; the digits beside it, and a 1 of the same width, stay.
    func testABrokenLineFromTopToBottomIsNoDigit() {
        func crease(_ cell: inout SketchCell, x: Int) {
            for (y, length) in [(0, 3), (5, 4), (11, 22), (35, 6), (43, 5), (50, 4), (56, 4)] { cell.box(x, y, 4, length) }
        }
        var empty = SketchCell(width: 200, height: 60)
        crease(&empty, x: 120)
        XCTAssertEqual(CellDigitCutter.cut(cell: empty.image).digits.count, 0, "a crease alone: \(CellDigitCutter.cut(cell: empty.image).boxes)")

        var written = SketchCell(width: 200, height: 60)
        crease(&written, x: 150)
        written.ring(40, 14, 22, 34)            // a "0"
        written.line(90, 14, 90, 47, thickness: 4) // a "1", as thin as the crease, in the text band
        let cut = CellDigitCutter.cut(cell: written.image)
        XCTAssertEqual(cut.digits.count, 2, "boxes \(cut.boxes)")
        XCTAssertTrue(cut.boxes.allSatisfy { $0.maxX < 140 }, "\(cut.boxes)")

        // The same dashes within the text band only are kept: they could be a broken 1.
        var banded = SketchCell(width: 200, height: 60)
        for (y, length) in [(14, 12), (28, 8), (38, 9)] { banded.box(120, y, 4, length) }
        XCTAssertEqual(CellDigitCutter.cut(cell: banded.image).digits.count, 1)
    }

    func testVerticallyBrokenDigitIsMerged() {
        var cell = SketchCell(width: 90, height: 60)
        // A "5" broken into its flag (top bar) and its body: two components overlapping in x.
        cell.line(20, 10, 38, 10)
        cell.line(20, 10, 20, 24)
        cell.line(22, 32, 36, 32) // the flag ends at y 26: a separate component
        cell.line(36, 32, 36, 46)
        cell.line(20, 46, 36, 46)
        cell.ring(55, 10, 20, 38)
        let image = cell.image
        XCTAssertGreaterThanOrEqual(connectedComponents(of: image.inkMask(), width: 90, height: 60).components.count, 3)
        let cut = CellDigitCutter.cut(cell: image)
        XCTAssertEqual(cut.digits.count, 2, "boxes \(cut.boxes)")
        XCTAssertEqual(cut.boxes.first?.minY, 8)
        XCTAssertEqual(cut.boxes.first?.maxY, 48)
    }

    func testTouchingDigitsAreSplit() {
        var cell = SketchCell(width: 110, height: 60)
        // Two rings sharing a thin bridge: one component twice as wide as tall.
        cell.ring(20, 12, 30, 36)
        cell.ring(52, 12, 30, 36)
        cell.box(49, 28, 4, 2)
        let image = cell.image
        XCTAssertEqual(connectedComponents(of: image.inkMask(), width: 110, height: 60).components.count, 1)
        let cut = CellDigitCutter.cut(cell: image)
        XCTAssertEqual(cut.digits.count, 2, "boxes \(cut.boxes)")
        XCTAssertLessThanOrEqual(cut.boxes[0].maxX, 52)
        XCTAssertGreaterThanOrEqual(cut.boxes[1].minX, 48)
        XCTAssertEqual(cut.boxes[0].height, 36)
    }

    /// A 1 written against a 0 is one piece, too narrow for the cutter to split; `splitting`
    /// offers it in two, and refuses a cut that leaves one side short (a flag cut off a 7).
    func testAOneTouchingItsNeighbourCanBeSplitOnDemand() {
        var cell = SketchCell(width: 110, height: 60)
        cell.box(30, 12, 4, 36)          // the 1
        cell.ring(34, 12, 26, 36)        // the 0, touching it
        cell.box(75, 12, 24, 4)          // a 7: its flag ...
        cell.line(97, 14, 84, 47)        // ... and its stem
        let cut = CellDigitCutter.cut(cell: cell.image)
        XCTAssertEqual(cut.digits.count, 2, "boxes \(cut.boxes)")
        XCTAssertEqual(cut.splittableDigits, [0, 1])
        let columns = cut.splitColumns(of: 0)
        XCTAssertFalse(columns.isEmpty)
        XCTAssertTrue(columns.allSatisfy { $0 >= 2 && $0 <= cut.digits[0].box.width - 2 }, "\(columns)")
        let split = cut.splitting(0, at: 4)
        XCTAssertEqual(split?.digits.count, 3)
        XCTAssertEqual(split?.digits[0].box, CutCell.Box(minX: 30, minY: 12, maxX: 33, maxY: 47))
        XCTAssertEqual(split?.digits[1].box, CutCell.Box(minX: 34, minY: 12, maxX: 59, maxY: 47))
        XCTAssertEqual(split?.digits[2].box, cut.digits[1].box)
        XCTAssertEqual(split?.digits[1].image.width, 26, "each side is narrowed to its own ink")
        // The 7 cut left of its stem: the left side is only the flag, a quarter of its height.
        XCTAssertNil(cut.splitting(1, at: 4))
        XCTAssertNil(cut.splitting(0, at: 0))
    }

    /// The table checks' recut opinions for a 1 written against a 0: the piece split in two and
    /// read by the shipped model, one opinion per value, surest first, 107 among them; none when
    /// no more digits are asked for than the cut has.
    func testRecutOpinionsSplitAPieceOnlyWhenOneMoreDigitIsAskedFor() throws {
        var cell = SketchCell(width: 110, height: 60)
        cell.box(30, 12, 4, 36)
        cell.ring(34, 12, 26, 36)
        cell.box(75, 12, 24, 4)
        cell.line(97, 14, 84, 47)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let reader = try CellReader(modelPath: root.appendingPathComponent("models/logbook-digits.safetensors").path)
        let opinions = reader.recutOpinions(cells: [cell.image, cell.image], columns: nil, digitCounts: [3, 2])
        XCTAssertEqual(opinions.count, 2)
        XCTAssertEqual(opinions[1], [], "the cut already has the 2 digits asked for")
        let split = opinions[0]
        XCTAssertFalse(split.isEmpty)
        XCTAssertLessThanOrEqual(split.count, CellReader.maximumRecutOpinions)
        XCTAssertEqual(Set(split.map(\.value)).count, split.count, "one opinion per value")
        XCTAssertEqual(split.map(\.confidence), split.map(\.confidence).sorted(by: >))
        XCTAssertTrue(split.allSatisfy { $0.digits.count == 3 })
        // The network is surest of another split (the 0 cut in two); the checks choose among them.
        XCTAssertTrue(split.contains { $0.digits.map(\.digit) == [1, 0, 7] }, "\(split.map(\.value))")
    }

    func testUnderlineTouchingDigitsIsRemoved() {
        var cell = SketchCell(width: 110, height: 64)
        cell.ring(20, 8, 22, 40)
        cell.ring(60, 8, 22, 40)
        cell.box(0, 47, 110, 4)   // underline the digits stand on, longer than half the width
        // ...and a dotted underline that is not one long run.
        var dotted = SketchCell(width: 110, height: 64)
        dotted.ring(20, 8, 22, 40)
        dotted.ring(60, 8, 22, 40)
        for x in stride(from: 0, to: 110, by: 8) { dotted.box(x, 47, 6, 4) }
        for image in [cell.image, dotted.image] {
            let cut = CellDigitCutter.cut(cell: image)
            XCTAssertEqual(cut.digits.count, 2, "boxes \(cut.boxes)")
            XCTAssertTrue(cut.boxes.allSatisfy { $0.width <= 24 && $0.maxY <= 50 }, "boxes \(cut.boxes)")
        }
    }

    /// A blot or a speck no taller than a quarter of the cell is not a number: the cell is empty
    /// (an empty cell read as a 1 or a 3 from a stain); beside a digit it changes nothing.
    func testASpeckAloneLeavesTheCellEmpty() {
        var speck = SketchCell(width: 110, height: 60)
        speck.box(50, 26, 8, 9)
        XCTAssertTrue(CellDigitCutter.cut(cell: speck.image).digits.isEmpty)
        var digit = SketchCell(width: 110, height: 60)
        digit.ring(20, 12, 24, 36)
        digit.box(70, 26, 8, 9)
        XCTAssertEqual(CellDigitCutter.cut(cell: digit.image).digits.count, 1)
        var small = SketchCell(width: 110, height: 60)
        small.ring(40, 20, 12, 18)      // a digit 30% as tall as the cell still counts
        XCTAssertEqual(CellDigitCutter.cut(cell: small.image).digits.count, 1)
    }

    func testBlankCellHasNoDigits() {
        let cut = CellDigitCutter.cut(cell: GrayImage(width: 80, height: 50))
        XCTAssertTrue(cut.digits.isEmpty)
        XCTAssertNil(cut.separatorIndex)
    }

    // MARK: Readings and truth

    func testReadingsOfValues() {
        let decimal = ArchivalCells.readings(of: "28.7")
        XCTAssertEqual(decimal.map(\.digits), [[2, 8, 7]])
        XCTAssertEqual(decimal.map(\.separatorIndex), [2])
        let whole = ArchivalCells.readings(of: "20")
        XCTAssertEqual(whole.map(\.digits), [[2, 0], [2, 0, 0]])
        XCTAssertEqual(whole.map(\.separatorIndex), [nil, 2])
        XCTAssertEqual(ArchivalCells.readings(of: "-3.5").map(\.digits), [[3, 5]])
        XCTAssertEqual(ArchivalCells.readings(of: "164.8").map(\.separatorIndex), [3])
    }

    func testReadTruth() throws {
        let csv = path("truth.csv")
        try "image,value,station,sheet,cell\ncells/a.png,28.7,203,s1.JPG,D4\n\"cells/b, c.png\",20,209,s2.JPG,E4\n/abs/x.png,-1.5,501,s3,F1\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let truth = try ArchivalCells.readTruth(csv: csv)
        XCTAssertEqual(truth.count, 3)
        XCTAssertEqual(truth[0], CellTruth(imagePath: directory + "/cells/a.png", value: "28.7", station: "203",
                                           extra: ["sheet": "s1.JPG", "cell": "D4"]))
        XCTAssertEqual(truth[1].imagePath, directory + "/cells/b, c.png")
        XCTAssertEqual(truth[1].value, "20")
        XCTAssertEqual(truth[2].imagePath, "/abs/x.png")
    }

    func testReadTruthErrorsNameFileAndLine() throws {
        let missing = datasetError { _ = try ArchivalCells.readTruth(csv: path("nope.csv")) }
        XCTAssertEqual(missing?.kind, .missingFile)
        XCTAssertEqual(missing?.path, path("nope.csv"))

        let cases: [(String, DatasetError.Kind, String)] = [
            ("image,value\ncells/a.png,28.7\ncells/b.png,1,2\n", .badRow, "line 3"),
            ("image,value\ncells/a.png,28.7\ncells/b.png,2x.5\n", .badValue, "line 3"),
            ("image,value\ncells/a.png,\n", .badValue, "line 2"),
            ("picture,value\ncells/a.png,1\n", .badRow, "line 1"),
            ("image,value\n,12\n", .badRow, "line 2"),
            ("", .badRow, "line 1"),
        ]
        for (index, (text, kind, line)) in cases.enumerated() {
            let csv = path("bad\(index).csv")
            try text.write(toFile: csv, atomically: true, encoding: .utf8)
            let error = datasetError { _ = try CellTruth.readTruth(csv: csv) }
            XCTAssertEqual(error?.kind, kind, "case \(index): \(String(describing: error))")
            XCTAssertEqual(error?.path, csv)
            XCTAssertTrue(error?.description.hasPrefix(csv + ": " + line + ":") ?? false, "case \(index): \(String(describing: error))")
            // Read for its digits, a value that is no number is the harvest's to leave out, not an error.
            if kind == .badValue { XCTAssertEqual(try ArchivalCells.readTruth(csv: csv).count, text.filter { $0 == "\n" }.count - 1) }
        }
    }

    func testLabelledDigitsFromSyntheticCells() throws {
        // Two digits and a dot: "10" read as 1.0 matches; a blank cell and a three-digit value do not.
        var cell = SketchCell(width: 100, height: 60)
        cell.line(25, 10, 25, 47, thickness: 5)
        cell.box(40, 42, 5, 5)
        cell.ring(55, 10, 22, 38)
        try writePNG(cell.image, to: path("a.png"))
        try writePNG(GrayImage(width: 100, height: 60), to: path("blank.png"))
        // A blank transcription and an "NA" are left out with their reason, not an error.
        try "image,value,station\na.png,1.0,X\nblank.png,3,Y\na.png,12.5,X\nmissing.png,1,Y\nblank.png,,Y\na.png,NA,X\n"
            .write(toFile: path("truth.csv"), atomically: true, encoding: .utf8)
        let (dataset, summary) = ArchivalCells.labelledDigits(truth: try ArchivalCells.readTruth(csv: path("truth.csv")))
        XCTAssertEqual(dataset.labels, [1, 0])
        XCTAssertEqual(dataset.origins, ["meteosaver:a.png#0", "meteosaver:a.png#1"])
        XCTAssertEqual(summary.cellsRead, 6)
        XCTAssertEqual(summary.cellsKept, 1)
        XCTAssertEqual(summary.digits, 2)
        XCTAssertEqual(summary.perStation["X"], .init(cellsRead: 3, cellsKept: 1, digits: 2))
        XCTAssertEqual(summary.rejected, ["no digits found": 1, "too few digits": 1, "unreadable image": 1, "value is not a number": 2])
        XCTAssertEqual(summary.separatorsAgreeing, 1)
        // Normalised like the training sets: ink = 1, 64 x 64, centred.
        let image = dataset.image(at: 1)
        XCTAssertEqual(image.max(), 1)
        XCTAssertEqual(image[0], 0)
        XCTAssertEqual(try ArchivalCells.load(truthCSV: path("truth.csv")).count, 2)
    }

    // MARK: Real archival cells (skipped without ../shared)

    func testRealCellsMostlyCutIntoTheRightNumberOfDigits() throws {
        let csv = try meteosaverTruthCSV()
        let truth = try ArchivalCells.readTruth(csv: csv)
        XCTAssertEqual(truth.count, 636)
        let (dataset, summary) = ArchivalCells.labelledDigits(truth: truth)
        print("MeteoSaver dev cells:\n\(summary)")
        XCTAssertEqual(dataset.count, summary.digits)
        XCTAssertGreaterThanOrEqual(summary.keptShare, 0.8, "\(summary)")

        // LOGBOOK_ARCHIVAL_DEBUG=/some/folder writes contact sheets and the rejected cells there.
        if let folder = ProcessInfo.processInfo.environment["LOGBOOK_ARCHIVAL_DEBUG"], !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for label in 0..<10 {
                let indices = Array(dataset.indicesByClass[label].prefix(60))
                if !indices.isEmpty {
                    try writePNG(dataset.contactSheet(indices: indices, columns: 20), to: folder + "/archival-\(label).png")
                }
            }
            try writePNG(dataset.contactSheet(indices: Array(stride(from: 0, to: dataset.count, by: max(1, dataset.count / 200)).prefix(200))),
                         to: folder + "/archival-sample.png")
            if let mnist = try? DigitDataset.load(source: "mnist-test") {
                try writePNG(mnist.contactSheet(indices: Array(0..<200)), to: folder + "/mnist-sample.png")
            }
            var report = ""
            // Rejected cells with the cut drawn on them (digits red, separator blue), 5 per row.
            let zoom = 2, tileWidth = 130 * zoom, tileHeight = 75 * zoom, perRow = 4
            let shown = Array(summary.rejectedCells.prefix(24))
            var sheet = RGBImage(width: tileWidth * perRow, height: tileHeight * ((shown.count + perRow - 1) / perRow),
                                 color: .lightGray)
            for (index, rejected) in summary.rejectedCells.enumerated() {
                let name = (rejected.path as NSString).lastPathComponent
                guard let image = try? loadGrayImage(at: rejected.path) else { continue }
                let cut = CellDigitCutter.cut(cell: image)
                report += "\(name)\t\(rejected.reason)\t\(cut.boxes)\n"
                guard index < shown.count else { continue }
                var overlay = RGBImage(gray: image)
                for box in cut.boxes {
                    overlay.drawRectangle(x: box.minX, y: box.minY, width: box.width, height: box.height, color: .red)
                }
                if let s = cut.separatorBox {
                    overlay.drawRectangle(x: s.minX, y: s.minY, width: s.width, height: s.height, color: .blue)
                }
                let left = (index % perRow) * tileWidth, top = (index / perRow) * tileHeight
                for y in 0..<min(overlay.height * zoom, tileHeight - 4) {
                    for x in 0..<min(overlay.width * zoom, tileWidth - 4) {
                        for c in 0..<3 {
                            sheet.pixels[3 * ((top + y) * sheet.width + left + x) + c]
                                = overlay.pixels[3 * ((y / zoom) * overlay.width + x / zoom) + c]
                        }
                    }
                }
            }
            if !shown.isEmpty { try writePNG(sheet, to: folder + "/rejected.png") }
            try report.write(toFile: folder + "/rejected.tsv", atomically: true, encoding: .utf8)
        }
    }
}
