import XCTest
@testable import Recognition

final class CombinedCellReaderTests: XCTestCase {
    func reading(_ value: String, _ digits: [Int], confidence: Float, separatorAfter: Int? = nil) -> CellReading {
        let box = CutCell.Box(minX: 0, minY: 0, maxX: 9, maxY: 9)
        return CellReading(value: value, digits: digits.map { DigitReading(digit: $0, probability: confidence, alternatives: [], box: box) },
                           separatorAfter: separatorAfter, separatorSeen: separatorAfter != nil, confidence: confidence, flag: .ok)
    }

    /// The same digits with and without a point agree; the same digits with and without a minus
    /// sign do not (a speck taken for a minus, or a minus one reader missed).
    func testAMissingPointAgreesButAMissingMinusDoesNot() {
        let point = CombinedCellReader.combine(reading("287", [2, 8, 7], confidence: 0.99),
                                               reading("28.7", [2, 8, 7], confidence: 0.98, separatorAfter: 2))
        XCTAssertFalse(point.readersDisagree)
        XCTAssertEqual(point.flag, .ok)

        let minus = CombinedCellReader.combine(reading("54", [5, 4], confidence: 0.99), reading("-54", [5, 4], confidence: 0.995))
        XCTAssertTrue(minus.readersDisagree)
        XCTAssertEqual(minus.flag, .review)
        XCTAssertEqual(minus.value, "-54", "the surer reader leads")
        XCTAssertEqual(minus.secondOpinion?.value, "54")
    }

    /// Different numbers: the surer reading leads (the first on a tie), flagged, with the other
    /// as second opinion for the table checks.
    func testTheSurerReaderLeadsADisagreement() {
        let first = reading("18.5", [1, 8, 5], confidence: 0.95, separatorAfter: 2)
        let second = reading("8.5", [8, 5], confidence: 0.99, separatorAfter: 1)
        let combined = CombinedCellReader.combine(first, second)
        XCTAssertEqual(combined.value, "8.5")
        XCTAssertEqual(combined.secondOpinion?.value, "18.5")
        XCTAssertEqual(combined.flag, .review)
        let tie = CombinedCellReader.combine(reading("18.5", [1, 8, 5], confidence: 0.99, separatorAfter: 2), second)
        XCTAssertEqual(tie.value, "18.5")
    }

    /// evaluate-cells' readings.csv names the other reader's value where the readers disagreed.
    func testReadingsCSVCarriesTheOtherReading() throws {
        let disagreeing = CombinedCellReader.combine(reading("18.5", [1, 8, 5], confidence: 0.95, separatorAfter: 2),
                                                     reading("8.5", [8, 5], confidence: 0.99, separatorAfter: 1))
        let agreeing = CombinedCellReader.combine(reading("28.7", [2, 8, 7], confidence: 0.99, separatorAfter: 2),
                                                  reading("28.7", [2, 8, 7], confidence: 0.98, separatorAfter: 2))
        XCTAssertEqual(disagreeing.otherReading, "18.5")
        XCTAssertNil(agreeing.otherReading)
        let report = CellEvaluation.score(truth: [CellTruth(imagePath: "a.png", value: "18.5", station: "9"),
                                                  CellTruth(imagePath: "b.png", value: "28.7", station: "9")],
                                          readings: [disagreeing, agreeing], reviewThreshold: 0.9)
        let lines = CellEvaluation.readingsCSV(report).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(lines.count, 3)
        let column = try XCTUnwrap(lines[0].firstIndex(of: "other_reading"))
        XCTAssertEqual(lines.map(\.count), [lines[0].count, lines[0].count, lines[0].count])
        XCTAssertEqual(lines[1][column], "18.5")
        XCTAssertEqual(lines[1][lines[0].firstIndex(of: "reading")!], "8.5")
        XCTAssertEqual(lines[2][column], "")
    }
}
