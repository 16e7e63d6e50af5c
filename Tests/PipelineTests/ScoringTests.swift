import Foundation
import XCTest
@testable import Pipeline

final class ScoringTests: XCTestCase {
    func cell(_ row: Int, _ column: Int, _ value: String, _ flag: String = "ok", box: [Int]? = nil) -> ScoredCell {
        ScoredCell(page: "p", row: row, column: column, value: value, flag: flag, confidence: nil,
                   box: box ?? [column * 100, row * 40, 100, 40])
    }

    func testCellsDigitsFlagsAndExtras() {
        let truth = [cell(1, 1, "28.7"), cell(1, 2, "1015.4"), cell(2, 1, ""), cell(2, 2, "9.5"), cell(3, 1, "30.0")]
        let read = [cell(1, 1, "28.7"), cell(1, 2, "1016.4", "review"), cell(2, 1, "", "empty"), cell(2, 2, "95"),
                    cell(1, 0, "1"), cell(2, 0, "2", "review")]
        let score = Scoring.score(read: read, truth: truth)
        XCTAssertEqual(score.cells, 5)
        XCTAssertEqual(score.exact, 2)
        XCTAssertEqual(score.missing, 1)                         // row 3 was not reported
        XCTAssertEqual(score.digitsTotal, 3 + 5 + 2 + 3)
        XCTAssertEqual(score.digitsCorrect, 3 + 4 + 2)
        XCTAssertEqual(score.review, 1)
        XCTAssertEqual(score.unflagged, 3)
        XCTAssertEqual(score.unflaggedExact, 2)
        XCTAssertEqual(score.extra, 2)
        XCTAssertEqual(score.extraConfident, 1)
        XCTAssertEqual(score.cellAccuracy, 0.4, accuracy: 1e-12)
    }

    func testShiftedColumnNumbersAreMatchedByBox() {
        // The run found an extra rule on the left: its column numbers are one higher.
        let truth = [cell(1, 1, "12"), cell(1, 2, "34")]
        let read = [cell(1, 2, "12", box: [100, 40, 100, 40]), cell(1, 3, "34", box: [200, 40, 100, 40])]
        let score = Scoring.score(read: read, truth: truth)
        XCTAssertEqual(score.exact, 2)
        XCTAssertEqual(score.matchedByBox, 2)
        XCTAssertEqual(score.extra, 0)
    }
}
