import XCTest
@testable import Recognition

/// Date columns checked against the rows: a day column follows day = row + k (a few runs of
/// rows at most), a month or year column one value; cells are verified, flagged or corrected by it.
final class TableChecksDatesTests: XCTestCase {
    /// A reading of the whole number `value`, each digit at `probability`; `alternatives` gives a
    /// digit's runner-up (by digit index), else the next digit up.
    func day(_ value: String, probability: Float = 0.999, alternatives: [Int: Int] = [:]) -> CellReading {
        let box = CutCell.Box(minX: 0, minY: 0, maxX: 1, maxY: 1)
        let digits = value.compactMap(\.wholeNumberValue).enumerated().map { index, digit in
            DigitReading(digit: digit, probability: probability,
                         alternatives: [.init(digit: digit, probability: probability),
                                        .init(digit: alternatives[index] ?? (digit + 1) % 10, probability: (1 - probability) * 0.9)],
                         box: box)
        }
        return CellReading(value: value, digits: digits, separatorAfter: nil, separatorSeen: false,
                           confidence: probability, flag: probability >= 0.9 ? .ok : .review)
    }

    func empty() -> CellReading {
        CellReading(value: "", digits: [], separatorAfter: nil, separatorSeen: false, confidence: 1, flag: .empty)
    }

    /// (row, value) pairs for `learnDateSequence`.
    func numbers(_ values: [Int], firstRow: Int = 1) -> [(row: Int, value: Int)] {
        values.enumerated().map { (firstRow + $0.offset, $0.element) }
    }

    func testTheSequenceIsLearntThroughMisreadsAndBreaks() throws {
        // A full month, day = row, two printed 1s read as 2 (10 -> 20, 12 -> 22) and a 9 as 4.
        var month = Array(1...31)
        month[9] = 20; month[11] = 22; month[8] = 4
        let plain = try XCTUnwrap(TableChecks.learnDateSequence(numbers(month)))
        XCTAssertEqual(plain, DateSequence(kind: .counting, blocks: [.init(rows: 1...31, offset: 0)]))
        XCTAssertEqual(plain.expected(row: 10), [10])

        // A sheet starting mid-month (day 15 on row 1) runs on into the next month on row 18:
        // neither run holds 60% of the rows, together they do.
        let midMonth = Array(15...31) + Array(1...14)
        let twoMonths = try XCTUnwrap(TableChecks.learnDateSequence(numbers(midMonth)))
        XCTAssertEqual(twoMonths.blocks, [.init(rows: 1...17, offset: 14), .init(rows: 18...31, offset: -17)])
        XCTAssertEqual(twoMonths.expected(row: 5), [19])
        XCTAssertEqual(twoMonths.expected(row: 20), [3])

        // A skipped day (no 11: row 11 holds day 12), a misread in each run, and unread rows
        // (the header row 0 and row 6 absent): the gap between the runs allows either.
        var skipped = numbers(Array(1...10) + Array(12...25))
        skipped.remove(at: 5)
        skipped[2].value = 8
        skipped[17].value = 80
        let withBreak = try XCTUnwrap(TableChecks.learnDateSequence(skipped))
        XCTAssertEqual(withBreak.blocks, [.init(rows: 1...10, offset: 0), .init(rows: 11...24, offset: 1)])
        XCTAssertEqual(withBreak.expected(row: 6), [6])
        XCTAssertEqual(withBreak.expected(row: 0), [], "day 0 is not a day")

        // Rows 11-14 all read 21-24 (the printed 1 of the tens taken for a 2): four cells agree on
        // k = 10, but ten days are not skipped between one row and the next. Not a break: the
        // rows keep the first block's k, so those cells disagree.
        let tens = try XCTUnwrap(TableChecks.learnDateSequence(numbers(Array(1...10) + Array(21...24))))
        XCTAssertEqual(tens.blocks, [.init(rows: 1...10, offset: 0)])
        XCTAssertEqual(tens.expected(row: 12), [12])

        // A month column: one value down the page, misreads aside; the next month may follow.
        let months = numbers([7, 7, 7, 1, 7, 7, 7, 7])
        XCTAssertEqual(TableChecks.learnDateSequence(months), DateSequence(kind: .constant, blocks: [.init(rows: 1...8, offset: 7)]))
        XCTAssertEqual(TableChecks.learnDateSequence(numbers([12, 12, 12, 12, 12, 12, 1, 1, 1, 1]))?.blocks,
                       [.init(rows: 1...6, offset: 12), .init(rows: 7...10, offset: 1)])
        XCTAssertEqual(TableChecks.learnDateSequence(numbers([3, 3, 3, 3, 3, 3, 5, 5, 5, 5]))?.blocks, [.init(rows: 1...6, offset: 3)],
                       "5 is not the month after 3: the 5s make no block of their own")
    }

    func testNothingIsLearntFromTooFewOrTooScatteredNumbers() {
        // Four right days are not enough to trust.
        XCTAssertNil(TableChecks.learnDateSequence(numbers([1, 2, 3, 4])))
        XCTAssertNotNil(TableChecks.learnDateSequence(numbers([1, 2, 3, 4, 5])))
        // Five of nine agree (56% < 60%); six do (67%).
        XCTAssertNil(TableChecks.learnDateSequence(numbers([1, 2, 3, 4, 5, 60, 77, 80, 29])))
        XCTAssertNotNil(TableChecks.learnDateSequence(numbers([1, 2, 3, 4, 5, 6, 77, 80, 29])))
        // Hours cycling through the day: neither counting nor constant.
        XCTAssertNil(TableChecks.learnDateSequence(numbers([7, 14, 21, 7, 14, 21, 7, 14, 21])))
    }

    func testAConfidentlyMisreadDayIsFlaggedAndCorrectedWhenAnAlternativeFits() throws {
        // Rows 1-14; row 10 read 20 with no 1 among its first digit's alternatives, row 12 read
        // 22 with 1 as the runner-up, row 3 read right but unsure.
        var readings = (1...14).map { day(String($0)) }
        readings[9] = day("20", alternatives: [0: 7])
        readings[11] = day("22", alternatives: [0: 1])
        readings[2] = day("3", probability: 0.5)
        XCTAssertEqual([readings[9].flag, readings[11].flag, readings[2].flag], [.ok, .ok, .review], "as the reader left them")

        let outcome = TableChecks.checkDates(readings: readings, rows: Array(1...14), reviewThreshold: 0.9)
        XCTAssertEqual(outcome.sequence?.blocks, [.init(rows: 1...14, offset: 0)])
        let checked = outcome.readings
        XCTAssertEqual(checked[9].value, "20")
        XCTAssertEqual(checked[9].flag, .review)
        XCTAssertEqual(checked[9].checksBroken, ["date-sequence"])
        XCTAssertNil(checked[9].uncheckedValue)

        XCTAssertEqual(checked[11].value, "12", "the runner-up 1 makes it row + k")
        XCTAssertEqual(checked[11].uncheckedValue, "22", "the machine reading stays visible")
        XCTAssertEqual(checked[11].flag, .review, "a correction the sequence made, the sequence cannot confirm")
        XCTAssertEqual(checked[11].digits.map(\.digit), [1, 2])
        XCTAssertEqual(checked[11].confidence, checked[11].digits[0].probability)
        XCTAssertLessThan(checked[11].confidence, 0.01)

        XCTAssertEqual(checked[2].flag, .ok, "the sequence verifies an unsure but right day")
        XCTAssertTrue(checked[2].verified)
        XCTAssertEqual(checked[2].checksHeld, ["date-sequence"])
        XCTAssertEqual(outcome.corrected, 1)
        XCTAssertEqual(outcome.broken, 1)
        XCTAssertEqual(checked.filter { $0.flag == .ok }.count, 12)

        // Without corrections the alternative is not taken: both misreads are only flagged.
        let flaggedOnly = TableChecks.checkDates(readings: readings, rows: Array(1...14), reviewThreshold: 0.9, correct: false)
        XCTAssertEqual(flaggedOnly.readings[11].value, "22")
        XCTAssertEqual(flaggedOnly.readings[11].flag, .review)
        XCTAssertEqual(flaggedOnly.corrected, 0)
    }

    func testEmptyAndUnreadableDaysAreLeftAsTheyAre() {
        var readings = (1...8).map { day(String($0)) }
        readings[3] = empty()
        var unreadable = day("123456")
        unreadable.flag = .unreadable
        readings[5] = unreadable
        let outcome = TableChecks.checkDates(readings: readings, rows: Array(1...8), reviewThreshold: 0.9)
        XCTAssertNotNil(outcome.sequence, "six read days are enough")
        XCTAssertEqual(outcome.readings[3], readings[3], "the sequence does not invent an empty cell's day")
        XCTAssertEqual(outcome.readings[5], readings[5])
        XCTAssertEqual(outcome.readings.filter { $0.checksHeld == ["date-sequence"] }.count, 6)

        // The same page with only four days read: nothing is learnt, nothing changes.
        readings[0] = empty(); readings[1] = empty()
        let tooFew = TableChecks.checkDates(readings: readings, rows: Array(1...8), reviewThreshold: 0.9)
        XCTAssertNil(tooFew.sequence)
        XCTAssertEqual(tooFew.readings, readings)
    }

    func testWithoutASequenceRepeatedAndBackwardDaysAreDoubtful() {
        // Days rising with skipped rows, read too unevenly for a k to hold in 60% of them: the
        // repeated 6 (both cells) and the 8 below the 9 are doubtful; the rest rises.
        let values = ["1", "3", "4", "6", "6", "9", "8", "12"]
        let outcome = TableChecks.checkDates(readings: values.map { day($0) }, rows: Array(1...8), reviewThreshold: 0.9)
        XCTAssertNil(outcome.sequence)
        XCTAssertEqual(outcome.readings.map(\.checksBroken),
                       [[], [], [], ["date-duplicate"], ["date-duplicate"], [], ["date-order"], []])
        XCTAssertEqual(outcome.readings.map(\.flag), [.ok, .ok, .ok, .review, .review, .ok, .review, .ok])
        // A month column repeats its value by right: no doubts there.
        let months = TableChecks.checkDates(readings: ["3", "3", "4", "3", "3", "4"].map { day($0) }, rows: Array(1...6), reviewThreshold: 0.9)
        XCTAssertEqual(months.readings.map(\.flag), [CellFlag](repeating: .ok, count: 6))
    }
}
