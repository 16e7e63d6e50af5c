import Foundation
import XCTest
import Imaging
import NeuralNet
@testable import Pipeline

/// The default pipeline finds the table's layout on a form it was given no hints for.
final class TableLayoutTests: XCTestCase {
    func testHeaderPrintedDayColumnAndNumericColumnsAreFoundWithoutHints() throws {
        Threads.set(2)
        let options = SyntheticPageOptions(pages: 1, seed: 9, width: 760, height: 1150, rows: 31,
                                           degradation: SyntheticDegradation.standard.scaled(by: 0.3), dpi: 100)
        var rng = SyntheticPages.generator(forPage: 0, seed: options.seed)
        let page = SyntheticPages.render(page: 0, options: options, digits: SyntheticPageTests.fontDigits, rng: &rng)
        let config = PipelineConfig()
        let binarized = BinarizeStage.binarize(page.image, parameters: config.binarize)
        let (segmented, _, layout) = try SegmentStage.segment(binarized, parameters: config.segment, table: config.table)
        XCTAssertEqual(segmented.rows, 32)
        XCTAssertEqual(segmented.columns, 7)
        XCTAssertEqual(layout.headerRows, 1, "\(layout.notes)")
        XCTAssertEqual(layout.thinRows, [])
        XCTAssertEqual(layout.columnKinds, [.printed] + Array(repeating: .numeric, count: 6), "\(layout.notes)")
        // Every numeric cell of the truth is among the cells to read, with its box on the page.
        let read = Dictionary(uniqueKeysWithValues: segmented.cells.map { ("\($0.row),\($0.column)", $0.box) })
        for truth in page.cells {
            guard let box = read["\(truth.row),\(truth.column)"] else { return XCTFail("cell \(truth.row),\(truth.column) not read") }
            XCTAssertGreaterThan(Scoring.overlap(box, [truth.x, truth.y, truth.width, truth.height]), 0.8)
        }
        // Hints replace the guesses.
        var hinted = config.table
        hinted.headerRows = .value(2)
        hinted.numericColumns = .value([0, 3])
        let (_, _, given) = try SegmentStage.segment(binarized, parameters: config.segment, table: hinted)
        XCTAssertEqual(given.headerRows, 2)
        XCTAssertEqual(given.numericColumns, [0, 3])
        // A printed day column listed in table.date_columns is read, the rest still found alone.
        var dated = config.table
        dated.dateColumns = [0]
        let (datedPage, _, datedLayout) = try SegmentStage.segment(binarized, parameters: config.segment, table: dated)
        XCTAssertEqual(datedLayout.columnKinds, Array(repeating: .numeric, count: 7), "\(datedLayout.notes)")
        XCTAssertEqual(datedPage.cells.filter { $0.column == 0 }.map(\.row), Array(1...31))
    }
}
