import XCTest
@testable import Recognition

final class TableChecksImpliedTests: XCTestCase {
    let box = CutCell.Box(minX: 0, minY: 0, maxX: 1, maxY: 1)

    /// `value` read with one decimal, every digit sure except `place`, read as `read` at 0.84 with
    /// the runners-up `others` (the true digit not among them).
    func misread(_ value: String, place: Int, as read: Int, others: [Int]) -> CellReading {
        var digits = value.compactMap(\.wholeNumberValue).map {
            DigitReading(digit: $0, probability: 0.99, alternatives: [.init(digit: $0, probability: 0.99)], box: box)
        }
        digits[place] = DigitReading(digit: read, probability: 0.84,
                                     alternatives: [.init(digit: read, probability: 0.84), .init(digit: others[0], probability: 0.1),
                                                    .init(digit: others[1], probability: 0.03)], box: box)
        let text = CellReader.value(digits: digits.map(\.digit), separatorAfter: digits.count - 1)
        return CellReading(value: text, digits: digits, separatorAfter: digits.count - 1, separatorSeen: true,
                           confidence: 0.84, flag: .review)
    }

    /// Five days of max/min/mean with a total row and a mean row (as `TableChecksTests.pentad`).
    func pentad() -> (readings: [CellReading], positions: [TablePosition?], truth: [String]) {
        let max = [28.7, 32.6, 34.2, 34.7, 34.6], min = [20.0, 18.2, 18.8, 19.3, 20.6]
        var readings: [CellReading] = [], positions: [TablePosition?] = [], truth: [String] = []
        func add(_ value: Double, row: Int, label: String, column: String) {
            let text = String(format: "%.1f", value)
            let digits = text.compactMap(\.wholeNumberValue).map {
                DigitReading(digit: $0, probability: 0.99, alternatives: [.init(digit: $0, probability: 0.99)], box: box)
            }
            readings.append(CellReading(value: text, digits: digits, separatorAfter: digits.count - 1, separatorSeen: true,
                                        confidence: 0.99, flag: .ok))
            truth.append(text)
            positions.append(TablePosition(sheet: "s1", row: row, rowLabel: label, column: column))
        }
        var totals = [0.0, 0.0, 0.0]
        for day in 0..<5 {
            let mid = ((max[day] + min[day]) / 2 * 10).rounded(.down) / 10
            for (k, (column, value)) in [("D", max[day]), ("E", min[day]), ("F", mid)].enumerated() {
                add(value, row: day + 1, label: "\(day + 1)", column: column)
                totals[k] += value
            }
        }
        for (k, column) in ["D", "E", "F"].enumerated() {
            add(totals[k], row: 6, label: "Tot.", column: column)
            add((totals[k] / 5 * 10).rounded() / 10, row: 7, label: "Moy.", column: column)
        }
        return (readings, positions, truth)
    }

    /// A total whose first digit the network read as a sure 2 (53.3 read 23.3, 5 not among its
    /// three alternatives): the total of the days implies the 5.
    func testATotalsDigitTheNetworkDidNotRankIsFoundFromTheDays() {
        var table = pentad()
        let total = table.positions.firstIndex { $0?.row == 6 && $0?.column == "E" }!
        XCTAssertEqual(table.truth[total], "96.9")
        table.readings[total] = misread("96.9", place: 0, as: 2, others: [1, 3])
        var without = TableLayout()
        without.rangeDeviations = nil
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: without, reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings[total].value, "96.9")
        XCTAssertEqual(outcome.readings[total].uncheckedValue, "26.9")
        XCTAssertEqual(Set(outcome.readings[total].checksHeld), ["total", "mean"])
        // The days' total and the block's mean both hold with it: confirmed, though the network
        // gave the 9 little probability.
        XCTAssertTrue(outcome.readings[total].verified)
        XCTAssertEqual(outcome.readings[total].flag, .ok)
        XCTAssertLessThan(outcome.readings[total].confidence, 0.01)
        XCTAssertEqual(outcome.broken, 0)
    }

    /// A mean column's last digit read 2 for 4 (runners-up 8 and 1): the row's midrange implies the 4.
    func testAMidrangeImpliesTheMeanColumnsDigit() {
        var table = pentad()
        let mean = table.positions.firstIndex { $0?.row == 2 && $0?.column == "F" }!
        XCTAssertEqual(table.truth[mean], "25.4")
        table.readings[mean] = misread("25.4", place: 2, as: 2, others: [8, 1])
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: TableLayout(), reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings[mean].value, "25.4")
        XCTAssertTrue(outcome.readings[mean].checksHeld.contains("midrange"))
        XCTAssertEqual(outcome.readings.map(\.value), table.truth)
    }

    /// One broken equation can always be met by changing a digit of one of its cells: a min that
    /// lost its leading 1 (2.7 for 12.7) makes the row's mean imply a max of 26.8 for 16.8 (its 1
    /// read at 0.84). Nothing else asks for it: it is not taken, and the row stays flagged.
    func testOneBrokenCheckAloneImpliesNothing() {
        let sure = { (value: String) -> CellReading in
            let digits = value.compactMap(\.wholeNumberValue).map {
                DigitReading(digit: $0, probability: 0.99, alternatives: [.init(digit: $0, probability: 0.99)], box: self.box)
            }
            return CellReading(value: value, digits: digits, separatorAfter: digits.count - 1, separatorSeen: true,
                               confidence: 0.99, flag: .ok)
        }
        let readings = [misread("16.8", place: 0, as: 1, others: [6, 0]), sure("2.7"), sure("14.8")]
        let positions = ["D", "E", "F"].map { TablePosition(sheet: "s1", row: 1, rowLabel: "1", column: $0) }
        var layout = TableLayout(relations: [.init(.midrange, ["D", "E", "F"])], learnRelations: false)
        layout.rangeDeviations = nil
        let outcome = TableChecks.apply(readings: readings, positions: positions, layout: layout, reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings.map(\.value), ["16.8", "2.7", "14.8"])
        XCTAssertEqual(outcome.readings.map(\.flag), [.review, .review, .review])
        XCTAssertEqual(outcome.broken, 1)
        // The one-digit change is there to be found; only the second check is missing.
        XCTAssertEqual(TableChecks.oneDigitChange(of: readings[0], to: 2 * 14.8 - 2.7 - 0.1)?.value, "26.8")
    }

    /// Only a value that is the reading with one digit changed is offered, weighed by that
    /// digit's probability.
    func testImpliedValuesChangeOneDigit() throws {
        let read = misread("07.5", place: 1, as: 7, others: [1, 9])
        let eight = try XCTUnwrap(TableChecks.oneDigitChange(of: read, to: 8.5))
        XCTAssertEqual(eight.value, "08.5")
        XCTAssertEqual(eight.logProbability, 2 * log(0.99) + log(Double(TableChecks.unrankedProbability(read.digits[1]))), accuracy: 1e-5)
        let one = try XCTUnwrap(TableChecks.oneDigitChange(of: read, to: 1.5))
        XCTAssertEqual(one.logProbability, 2 * log(0.99) + log(0.1), accuracy: 1e-5, "a ranked runner-up keeps its probability")
        XCTAssertNil(TableChecks.oneDigitChange(of: read, to: 7.5), "no digit changed")
        XCTAssertNil(TableChecks.oneDigitChange(of: read, to: 18.5), "two digits changed")
        XCTAssertNil(TableChecks.oneDigitChange(of: read, to: 7.55), "another point")
        XCTAssertNil(TableChecks.oneDigitChange(of: read, to: -7.5), "a sign the reading has not")
        XCTAssertEqual(TableChecks.unrankedProbability(read.digits[1]), (1 - 0.97) / 7, accuracy: 1e-6)
    }
}
