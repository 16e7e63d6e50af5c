import Foundation
import XCTest
import Imaging
import NeuralNet
import Recognition
@testable import Pipeline

/// `binarize.faint_k`: digits are cut from the page's ink plus the fainter strokes touching it,
/// while the rules, the grid and the layout still come from the page's own binarization.
final class FaintInkTests: XCTestCase {
    override func setUp() { Threads.set(2) }

    /// A synthetic page with its ink faded to a third of its darkness: pencil on a photograph.
    func fadedPage() -> GrayImage {
        var rng = SyntheticPages.generator(forPage: 0, seed: 5)
        let options = PipelineFixtures.pageOptions(pages: 1, seed: 5)
        var page = SyntheticPages.render(page: 0, options: options, digits: SyntheticPageTests.fontDigits, rng: &rng).image
        for i in page.pixels.indices { page.pixels[i] = 1 - (1 - page.pixels[i]) * 0.35 }
        return page
    }

    func testDigitsAreCutFromTheFaintInkOnTheSameGrid() throws {
        let page = fadedPage()
        var config = PipelineConfig()
        config.table.headerRows = .value(1)
        config.table.numericColumns = .value([1, 2, 3, 4, 5, 6])
        let plain = BinarizeStage.binarize(page, parameters: config.binarize)
        XCTAssertNil(plain.digitInk)
        config.binarize.faintK = 0.01
        let faint = BinarizeStage.binarize(page, parameters: config.binarize)
        let ink = try XCTUnwrap(faint.digitInk)
        XCTAssertEqual(faint.image.pixels, plain.image.pixels, "the page's own ink does not change")
        // The digit ink holds all of the page's ink, and more of it.
        let pageInk = faint.image.pixels.indices.filter { faint.image.pixels[$0] == 0 }
        XCTAssertTrue(pageInk.allSatisfy { ink.pixels[$0] == 0 })
        XCTAssertGreaterThan(ink.pixels.filter { $0 == 0 }.count, pageInk.count * 11 / 10)

        let (withoutFaint, plainGrid, _) = try SegmentStage.segment(plain, parameters: config.segment, table: config.table)
        let (withFaint, grid, _) = try SegmentStage.segment(faint, parameters: config.segment, table: config.table)
        XCTAssertEqual(grid.cells.count, plainGrid.cells.count)
        XCTAssertEqual(withFaint.cells.map(\.corners), withoutFaint.cells.map(\.corners), "the same grid and cells")
        // Each cell's digits are the digit ink's cut, which holds more ink than the page's own.
        func inkedPixels(_ cut: CutCell) -> Int { cut.digits.reduce(0) { $0 + $1.image.pixels.filter { $0 == 0 }.count } }
        var inked = (faint: 0, plain: 0)
        for cell in withFaint.cells {
            let tableCell = grid.cell(row: cell.row, column: cell.column)!
            func cut(_ from: GrayImage) -> CutCell {
                SegmentStage.cutPadded(grid.cellImage(tableCell, from: from, inset: config.segment.cellInset), padding: config.segment.cellPadding)
            }
            let faintCut = cut(ink)
            XCTAssertEqual(cell.digits.map(\.box), faintCut.digits.map { [$0.box.minX, $0.box.minY, $0.box.maxX, $0.box.maxY] },
                           "row \(cell.row) column \(cell.column)")
            inked.faint += inkedPixels(faintCut)
            inked.plain += inkedPixels(cut(plain.image))
        }
        XCTAssertGreaterThan(inked.faint, inked.plain * 11 / 10)
    }

    func testARunWritesTheDigitInkAndReadsItBack() throws {
        let root = PipelineFixtures.temporaryFolder(self, "faint")
        try FileManager.default.createDirectory(atPath: root + "/scans", withIntermediateDirectories: true)
        try writePNG(fadedPage(), to: root + "/scans/faded.png")
        let pipeline = root + "/faint.yaml"
        try "binarize:\n  faint_k: 0.01\n".write(toFile: pipeline, atomically: true, encoding: .utf8)
        let model = try PipelineFixtures.tinyModel(in: root)
        let out = root + "/out"
        _ = try PipelineRunner(PipelineFixtures.request(folder: out, scans: [root + "/scans"], model: model, pipeline: pipeline)).run()
        let manifest = try RunManifest.load(runFolder: out)
        let record = try XCTUnwrap(manifest.pages.first)
        let outputs = try XCTUnwrap(record.record(.binarize)?.outputs)
        XCTAssertEqual(Set(outputs.keys.map { ($0 as NSString).lastPathComponent }), ["binary.tif", "digit-ink.tif"])
        let loaded = try BinarizeStage.load(record: record, folder: RunFolder(out))
        let ink = try XCTUnwrap(loaded.digitInk)
        XCTAssertGreaterThan(ink.pixels.filter { $0 == 0 }.count, loaded.image.pixels.filter { $0 == 0 }.count)

        // With faint_k off the stage reruns, writes no digit ink, and the page is read from its own.
        var request = PipelineFixtures.request(folder: out, scans: [root + "/scans"], model: model, pipeline: pipeline)
        request.overrides = ["binarize.faint_k=0"]
        XCTAssertEqual(try PipelineRunner(request).run().ran[.binarize], 1)
        let rerun = try XCTUnwrap(try RunManifest.load(runFolder: out).pages.first)
        XCTAssertEqual(rerun.record(.binarize)?.outputs.count, 1)
        XCTAssertTrue(try BinarizeStage.load(record: rerun, folder: RunFolder(out)).digitInk == nil)
    }
}
