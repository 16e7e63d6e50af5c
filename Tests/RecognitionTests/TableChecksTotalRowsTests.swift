import XCTest
@testable import Recognition

final class TableChecksTotalRowsTests: XCTestCase {
    /// A month sheet as INERA's climate sheets lay it out: blocks of days (max, min, mean), each
    /// closed by a total row and, with `means`, the total's mean row; no row labels unless `labelled`.
    /// Values in tenths from a fixed pseudo-random sequence.
    struct Sheet {
        var values: [String] = []
        var positions: [TablePosition?] = []
        var totalRows: Set<Int> = []
        var meanRows: Set<Int> = []
        func index(row: Int, column: String) -> Int { positions.firstIndex { $0?.row == row && $0?.column == column }! }
    }

    func month(blocks: [Int], means: Bool, labelled: Bool = false) -> Sheet {
        var sheet = Sheet()
        var state: UInt64 = 12345
        func next(_ range: ClosedRange<Int>) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return range.lowerBound + Int((state >> 33) % UInt64(range.count))
        }
        func add(_ tenths: Int, row: Int, label: String, column: String) {
            sheet.values.append(String(format: "%.1f", Double(tenths) / 10))
            sheet.positions.append(TablePosition(sheet: "203_196905_SF", row: row, rowLabel: labelled ? label : "", column: column))
        }
        var row = 4
        var day = 1
        for days in blocks {
            var totals = [0, 0, 0]
            for _ in 0..<days {
                let hi = next(280...345), lo = next(150...215), mid = (hi + lo) / 2
                for (k, (column, value)) in [("D", hi), ("E", lo), ("F", mid)].enumerated() {
                    add(value, row: row, label: "\(day)", column: column)
                    totals[k] += value
                }
                row += 1
                day += 1
            }
            for (k, column) in ["D", "E", "F"].enumerated() { add(totals[k], row: row, label: "Tot.", column: column) }
            sheet.totalRows.insert(row)
            row += 1
            if means {
                for (k, column) in ["D", "E", "F"].enumerated() {
                    add(Int((Double(totals[k]) / Double(days)).rounded()), row: row, label: "Moy.", column: column)
                }
                sheet.meanRows.insert(row)
                row += 1
            }
        }
        return sheet
    }

    func labels(_ sheet: Sheet, layout: TableLayout = TableLayout()) -> (totals: Set<Int>, means: Set<Int>) {
        let labelled = TableChecks.labellingTotalRows(positions: sheet.positions, values: sheet.values.map { TableNumber(text: $0) },
                                                      layout: layout)
        var totals = Set<Int>(), means = Set<Int>()
        for position in labelled.compactMap({ $0 }) {
            if layout.isTotal(position.rowLabel) { totals.insert(position.row) }
            if layout.isMean(position.rowLabel) { means.insert(position.row) }
        }
        return (totals, means)
    }

    func testTotalAndMeanRowsAreFoundFromTheNumbers() {
        var sheet = month(blocks: [5, 5, 5, 5, 5, 6], means: true)
        XCTAssertEqual(labels(sheet).totals, sheet.totalRows)
        XCTAssertEqual(labels(sheet).means, sheet.meanRows)
        // Misreads do not hide them: a day's minimum read 75.6 for 15.6 in the second block, and
        // a total that lost its last digit (a tenth of itself) in the fourth.
        let day = sheet.index(row: 12, column: "E")
        sheet.values[day] = String(format: "%.1f", Double(sheet.values[day])! + 60)
        let total = sheet.index(row: sheet.totalRows.sorted()[3], column: "F")
        sheet.values[total] = String(format: "%.1f", (Double(sheet.values[total])! / 10).rounded(.down))
        XCTAssertEqual(labels(sheet).totals, sheet.totalRows)
        XCTAssertEqual(labels(sheet).means, sheet.meanRows)
    }

    func testTotalsWithoutMeanRowsGetNoMeans() {
        let sheet = month(blocks: [5, 5, 5, 5, 5, 6], means: false)
        let found = labels(sheet)
        XCTAssertEqual(found.totals, sheet.totalRows)
        XCTAssertEqual(found.means, [], "the day after a total is a day")
    }

    func testPlainLabelledAndUncheckedSheetsAreLeftAlone() {
        // One block of 31 days: a monthly total row still closes it; 31 days alone have none.
        let monthly = month(blocks: [31], means: false)
        XCTAssertEqual(labels(monthly).totals, monthly.totalRows)
        var plain = monthly
        let last = plain.totalRows.first!
        plain.values = zip(plain.values, plain.positions).filter { $0.1?.row != last }.map(\.0)
        plain.positions = plain.positions.filter { $0?.row != last }
        XCTAssertEqual(labels(plain).totals, [], "no row of days is a sum of days")
        // A sheet whose rows are labelled keeps its labels, and `TableLayout.none` infers nothing.
        let labelled = month(blocks: [5, 5, 5], means: true, labelled: true)
        XCTAssertEqual(TableChecks.labellingTotalRows(positions: labelled.positions, values: labelled.values.map { TableNumber(text: $0) },
                                                      layout: TableLayout()), labelled.positions)
        let unlabelled = month(blocks: [5, 5, 5], means: true)
        XCTAssertEqual(TableChecks.labellingTotalRows(positions: unlabelled.positions, values: unlabelled.values.map { TableNumber(text: $0) },
                                                      layout: .none), unlabelled.positions)
    }

    /// What the found rows are for: a misread day is corrected by its block's total as on a labelled sheet.
    func testAnUnlabelledSheetsTotalsCorrectAMisreadDay() {
        let sheet = month(blocks: [5, 5, 5, 5, 5, 6], means: true)
        var readings = sheet.values.map { value -> CellReading in
            let digits = value.compactMap(\.wholeNumberValue).map { digit in
                DigitReading(digit: digit, probability: 0.99, alternatives: [.init(digit: digit, probability: 0.99)],
                             box: CutCell.Box(minX: 0, minY: 0, maxX: 1, maxY: 1))
            }
            return CellReading(value: value, digits: digits, separatorAfter: digits.count - 1, separatorSeen: true,
                               confidence: 0.99, flag: .ok)
        }
        // Day 2's minimum: its first digit read 7 at 0.6, the right digit runner-up.
        let cell = sheet.index(row: 5, column: "E")
        let truth = sheet.values[cell]
        var digits = readings[cell].digits
        digits[0] = DigitReading(digit: 7, probability: 0.6,
                                 alternatives: [.init(digit: 7, probability: 0.6), .init(digit: digits[0].digit, probability: 0.35)],
                                 box: digits[0].box)
        readings[cell] = CellReading(value: "7" + truth.dropFirst(), digits: digits, separatorAfter: 2, separatorSeen: true,
                                     confidence: 0.6, flag: .review)
        let outcome = TableChecks.apply(readings: readings, positions: sheet.positions, layout: TableLayout(), reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings[cell].value, truth)
        XCTAssertTrue(outcome.readings[cell].checksHeld.contains("total"), "\(outcome.readings[cell].checksHeld)")
        let totalCell = sheet.index(row: sheet.totalRows.min()!, column: "E")
        XCTAssertEqual(Set(outcome.readings[totalCell].checksHeld), ["total", "mean"])
        // Without the found rows the totals would be days: the same sheet read with no inference.
        var noInference = TableLayout()
        noInference.inferTotalRows = false
        let unchecked = TableChecks.apply(readings: readings, positions: sheet.positions, layout: noInference, reviewThreshold: 0.9)
        XCTAssertFalse(unchecked.readings[cell].checksHeld.contains("total"))
    }

    func testACellsPlaceIsReadFromItsImagesName() {
        let named = CellEvaluation.cellName(fromImage: "/data/cells/203_196905_SF_D14.png")
        XCTAssertEqual(named?.sheet, "203_196905_SF")
        XCTAssertEqual(named?.column, "D")
        XCTAssertEqual(named?.row, 14)
        XCTAssertNil(CellEvaluation.cellName(fromImage: "cells/digit_3.png"), "no column letters")
        XCTAssertNil(CellEvaluation.cellName(fromImage: "cells/D14.png"), "no sheet")
        XCTAssertNil(CellEvaluation.cellName(fromImage: "cells/sheet_total.png"), "no row number")
        let bare = CellTruth(imagePath: "/data/cells/501_197210_SF_E38.png", value: "13.8", station: "")
        XCTAssertEqual(CellEvaluation.tablePosition(bare), TablePosition(sheet: "501_197210_SF", row: 38, rowLabel: "", column: "E"))
        // What the truth file gives comes first.
        let given = CellTruth(imagePath: "/data/cells/501_197210_SF_E38.png", value: "13.8", station: "501",
                              extra: ["sheet": "501_197210_SF.JPG", "cell": "E38", "row_label": "Moy.", "column": "E"])
        XCTAssertEqual(CellEvaluation.tablePosition(given), TablePosition(sheet: "501_197210_SF.JPG", row: 38, rowLabel: "Moy.", column: "E"))
        XCTAssertNil(CellEvaluation.tablePosition(CellTruth(imagePath: "/data/cells/cell-0001.png", value: "1", station: "")))
    }
}
