import XCTest
@testable import Recognition

final class TableChecksTests: XCTestCase {
    /// A reading of `value` (digits with one decimal), each digit at `probability`, the second
    /// alternative `alternative` (per digit index) at the rest.
    func reading(_ value: String, probability: Float = 0.99, alternatives: [Int: Int] = [:]) -> CellReading {
        let digits = value.compactMap(\.wholeNumberValue)
        let box = CutCell.Box(minX: 0, minY: 0, maxX: 1, maxY: 1)
        let readings = digits.enumerated().map { index, digit -> DigitReading in
            let other = alternatives[index] ?? (digit + 1) % 10
            return DigitReading(digit: digit, probability: probability,
                                alternatives: [.init(digit: digit, probability: probability),
                                               .init(digit: other, probability: (1 - probability) * 0.9)],
                                box: box)
        }
        let separator = value.firstIndex(of: ".").map { value.distance(from: value.startIndex, to: $0) }
        return CellReading(value: value, digits: readings, separatorAfter: separator, separatorSeen: false,
                           confidence: probability, flag: probability >= 0.9 ? .ok : .review)
    }

    /// Five days of max/min/mean, a total row and a mean row, on one sheet.
    func pentad(max: [String], min: [String]) -> (readings: [CellReading], positions: [TablePosition?], truth: [String]) {
        var readings: [CellReading] = [], positions: [TablePosition?] = [], truth: [String] = []
        func add(_ value: String, row: Int, label: String, column: String) {
            readings.append(reading(value)); truth.append(value)
            positions.append(TablePosition(sheet: "s1", row: row, rowLabel: label, column: column))
        }
        var totals = [0.0, 0.0, 0.0]
        for day in 0..<5 {
            let hi = Double(max[day])!, lo = Double(min[day])!
            let mid = ((hi + lo) / 2 * 10).rounded(.down) / 10
            for (column, value) in [("D", hi), ("E", lo), ("F", mid)].enumerated() {
                add(String(format: "%.1f", value.1), row: day + 1, label: "\(day + 1)", column: value.0)
                totals[column] += value.1
            }
        }
        for (index, column) in ["D", "E", "F"].enumerated() {
            add(String(format: "%.1f", totals[index]), row: 6, label: "Tot.", column: column)
            add(String(format: "%.1f", (totals[index] / 5 * 10).rounded() / 10), row: 7, label: "Moy.", column: column)
        }
        return (readings, positions, truth)
    }

    /// The parser's fast path reads what the general one reads, and leaves it everything else.
    func testPlainNumbersParseAsTheGeneralPathDoes() {
        func general(_ text: String) -> TableNumber? {
            guard let value = CellEvaluation.number(text) else { return nil }
            let separator = text.firstIndex { $0 == "." || $0 == "," }
            return TableNumber(value: value, decimals: separator.map { text.distance(from: $0, to: text.endIndex) - 1 } ?? 0)
        }
        for text in ["28.7", "-3", "+12.50", "007", "0.05", "1474.0", "123456789.123"] {
            XCTAssertNotNil(TableNumber.plain(text), text)
            XCTAssertEqual(TableNumber.plain(text), general(text), text)
            XCTAssertEqual(TableNumber(text: text), general(text), text)
        }
        for text in ["1.", ".5", "1.2.3", "28,7", " 28.7", "", "-", "1e3", "2-3", "--1", "nan", "inf"] {
            XCTAssertNil(TableNumber.plain(text), text)
            XCTAssertEqual(TableNumber(text: text), general(text), text)
        }
        XCTAssertEqual(TableNumber(text: "28,7"), TableNumber(value: 28.7, decimals: 1))
    }

    func testConstraintsFollowTheRowLabels() {
        let table = pentad(max: ["28.7", "32.6", "34.2", "34.7", "34.6"], min: ["20.0", "18.2", "18.8", "19.3", "20.6"])
        let constraints = TableChecks.constraints(positions: table.positions, layout: TableLayout(),
                                                  relations: [.init(.midrange, ["D", "E", "F"])])
        XCTAssertEqual(constraints.filter { $0.kind == .total }.count, 3)
        XCTAssertEqual(constraints.filter { $0.kind == .mean }.count, 3)
        // Five data rows and the mean row carry the relation; the total row does not.
        XCTAssertEqual(constraints.filter { $0.kind == .midrange }.count, 6)
        let total = constraints.first { $0.kind == .total }!
        XCTAssertEqual(total.cells.count, 6)
        let values = table.truth.map { TableNumber(text: $0)! }
        for constraint in constraints {
            XCTAssertEqual(constraint.holds({ values[$0] }, layout: TableLayout()), true, "\(constraint) on the truth")
        }
    }

    func testRelationsAreLearntFromReadingsOnlyWhenTheyHold() {
        let table = pentad(max: ["28.7", "32.6", "34.2", "34.7", "34.6"], min: ["20.0", "18.2", "18.8", "19.3", "20.6"])
        let values = table.truth.map { TableNumber(text: $0) }
        let learnt = TableChecks.learnRelations(values: values, positions: table.positions, layout: TableLayout())
        XCTAssertTrue(learnt.contains(.init(.midrange, ["D", "E", "F"])), "\(learnt)")
        XCTAssertTrue(learnt.contains(.init(.atLeast, ["D", "E"])), "\(learnt)")
        // Unrelated columns: nothing.
        var generator = SystemRandomNumberGenerator()
        let noise = values.map { _ in TableNumber(value: Double(Int.random(in: 100...400, using: &generator)) / 10, decimals: 1) }
        XCTAssertTrue(TableChecks.learnRelations(values: noise, positions: table.positions, layout: TableLayout())
            .filter { $0.kind != .atLeast }.isEmpty)
    }

    /// Station 508's sheet read alone: the point seen in column D only (31.7 beside 169 and 243).
    /// The relation must still be learnt, and with it the other columns' decimals.
    func testARelationIsLearntWhenTheColumnsShowTheirPointsDifferently() {
        var table = pentad(max: ["28.7", "32.6", "34.2", "34.7", "34.6"], min: ["20.0", "18.2", "18.8", "19.3", "20.6"])
        for index in table.positions.indices {
            if table.positions[index]!.column == "D" {
                table.readings[index].separatorSeen = true
                table.readings[index].separatorSighted = table.readings[index].separatorAfter
            } else {
                table.readings[index] = TableChecks.repointed(table.readings[index], decimals: 0)
            }
        }
        let values = table.readings.map { TableNumber(text: $0.value) }
        XCTAssertEqual(values[1]?.value, 200, "E read without its point")
        let learnt = TableChecks.learnRelations(values: values, positions: table.positions, layout: TableLayout())
        XCTAssertTrue(learnt.contains(.init(.midrange, ["D", "E", "F"])), "\(learnt)")
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: TableLayout(),
                                        reviewThreshold: 0.9)
        XCTAssertEqual(outcome.columnDecimals["E"], 1)
        XCTAssertEqual(outcome.columnDecimals["F"], 1)
        XCTAssertEqual(outcome.readings.map(\.value), table.truth)
        // Digits that do not meet it in any scale teach nothing.
        var scrambled = values
        for index in scrambled.indices where table.positions[index]!.column == "F" && index % 2 == 0 {
            scrambled[index] = TableNumber(value: scrambled[index]!.value + 37, decimals: 0)
        }
        for index in scrambled.indices where table.positions[index]!.column == "F" && index % 2 == 1 {
            scrambled[index] = TableNumber(value: scrambled[index]!.value - 53, decimals: 0)
        }
        XCTAssertFalse(TableChecks.learnRelations(values: scrambled, positions: table.positions, layout: TableLayout())
            .contains(.init(.midrange, ["D", "E", "F"])))
    }

    /// Two unsure cells of one total can be wrong by amounts that cancel (18.6 and 18.2 for 18.5
    /// and 18.3): the total holds but verifies neither. One unsure cell among sure ones it verifies.
    func testATotalVerifiesAtMostOneUnsureCell() {
        let table = pentad(max: ["28.7", "32.6", "34.2", "34.7", "34.6"], min: ["20.0", "18.2", "18.8", "19.3", "20.6"])
        let totalOnly = TableLayout(learnRelations: false)
        var pair = table.readings
        pair[1] = reading("20.1", probability: 0.6)   // E, day 1: 20.0 read one up
        pair[4] = reading("18.1", probability: 0.6)   // E, day 2: 18.2 read one down
        let outcome = TableChecks.apply(readings: pair, positions: table.positions, layout: totalOnly, reviewThreshold: 0.9,
                                        correct: false)
        XCTAssertEqual(outcome.readings[1].checksHeld, ["total"], "the compensating errors keep the total")
        XCTAssertFalse(outcome.readings[1].verified)
        XCTAssertFalse(outcome.readings[4].verified)
        XCTAssertEqual(outcome.readings[1].flag, .review)
        XCTAssertEqual(outcome.readings[4].flag, .review)
        var single = table.readings
        single[1] = reading("20.0", probability: 0.6)
        let alone = TableChecks.apply(readings: single, positions: table.positions, layout: totalOnly, reviewThreshold: 0.9,
                                      correct: false)
        XCTAssertTrue(alone.readings[1].verified, "one unsure cell among sure ones is pinned down by the total")
        XCTAssertEqual(alone.readings[1].flag, .ok)
    }

    /// A row's midrange holds to rounding: (30.0 + 17.1) / 2 gives the written 23.5 as well as
    /// 17.0 does. A cell only it verifies keeps its last digit's doubt: on a sheet without totals
    /// its last digit is held to the review threshold, as if unchecked; where its column's total
    /// does not pin it (here: broken), to `roundingDoubtThreshold` (0.96); a total met with the
    /// cell's other cells sure pins every digit.
    func testAMidrangeLeavesTheLastDigitInDoubtATotalDoesNot() {
        let layout = TableLayout(relations: [.init(.midrange, ["D", "E", "F"])], learnRelations: false)
        func row(minProbability: Float) -> [CellReading] {
            [reading("30.0"), reading("17.1", probability: minProbability), reading("23.5"),
             reading("31.0"), reading("18.0"), reading("24.5")]
        }
        let positions = (0..<6).map { TablePosition(sheet: "s", row: $0 / 3 + 1, rowLabel: "\($0 / 3 + 1)", column: ["D", "E", "F"][$0 % 3]) }
        func flag(_ readings: [CellReading], _ positions: [TablePosition?], _ layout: TableLayout, cell: Int) -> CellFlag {
            TableChecks.apply(readings: readings, positions: positions, layout: layout, reviewThreshold: 0.9, correct: false)
                .readings[cell].flag
        }
        let untotalled = TableChecks.apply(readings: row(minProbability: 0.85), positions: positions, layout: layout,
                                           reviewThreshold: 0.9, correct: false)
        XCTAssertTrue(untotalled.readings[1].verified)
        XCTAssertEqual(untotalled.readings[1].roundingDoubtThreshold, 0)
        XCTAssertEqual(untotalled.readings[1].flag, .review)
        XCTAssertEqual(untotalled.readings[0].flag, .ok)   // its other cells are sure
        XCTAssertEqual(flag(row(minProbability: 0.95), positions, layout, cell: 1), .ok)
        var trusting = layout
        trusting.roundingDoubtThreshold = nil
        XCTAssertEqual(flag(row(minProbability: 0.85), positions, trusting, cell: 1), .ok)

        // A sheet with totals: day 1's minimum, read sure enough for the review threshold (0.95).
        let table = pentad(max: ["30.0", "32.6", "34.2", "34.7", "34.6"], min: ["17.0", "18.2", "18.8", "19.3", "20.6"])
        var readings = table.readings
        readings[1] = reading("17.0", probability: 0.95)
        let totalled = TableChecks.apply(readings: readings, positions: table.positions, layout: layout,
                                         reviewThreshold: 0.9, correct: false)
        XCTAssertTrue(totalled.readings[1].checksHeld.contains("total"))
        XCTAssertNil(totalled.readings[1].roundingDoubtThreshold, "the total pins it")
        XCTAssertEqual(totalled.readings[1].flag, .ok)
        // Its column's total misread (a sure 94.0 for 93.9): the row's midrange alone verifies it.
        let totalIndex = table.positions.firstIndex { $0?.rowLabel == "Tot." && $0?.column == "E" }!
        XCTAssertEqual(table.truth[totalIndex], "93.9")
        readings[totalIndex] = reading("94.0")
        let broken = TableChecks.apply(readings: readings, positions: table.positions, layout: layout,
                                       reviewThreshold: 0.9, correct: false)
        XCTAssertEqual(broken.readings[1].checksBroken, ["total"])
        XCTAssertEqual(broken.readings[1].roundingDoubtThreshold, 0.96)
        XCTAssertEqual(broken.readings[1].flag, .review)
        readings[1] = reading("17.0", probability: 0.97)
        XCTAssertEqual(flag(readings, table.positions, layout, cell: 1), .ok)
    }

    func testAMisreadDigitIsCorrectedByTheTotalsAndVerified() {
        var table = pentad(max: ["28.7", "32.6", "34.2", "34.7", "34.6"], min: ["20.0", "18.2", "18.8", "19.3", "20.6"])
        // Day 2's maximum 32.6 read as 38.6 with 0.6 confidence, its first digit's runner-up the right 2.
        table.readings[3] = reading("38.6", probability: 0.6, alternatives: [1: 2])
        let before = TableChecks.apply(readings: table.readings, positions: table.positions, layout: TableLayout(),
                                       reviewThreshold: 0.9, correct: false)
        XCTAssertEqual(before.readings[3].value, "38.6")
        XCTAssertEqual(before.readings[3].flag, .review)
        XCTAssertFalse(before.readings[3].checksBroken.isEmpty)
        let after = TableChecks.apply(readings: table.readings, positions: table.positions, layout: TableLayout(),
                                      reviewThreshold: 0.9)
        XCTAssertEqual(after.readings[3].value, "32.6")
        XCTAssertEqual(after.readings[3].uncheckedValue, "38.6")
        XCTAssertEqual(after.corrected, 1)
        XCTAssertEqual(after.broken, 0)
        // The correction meets two checks whose other cells stand as read and sure, the column's
        // total and its row's midrange: one unknown under two equations, verified.
        XCTAssertEqual(Set(after.readings[3].checksHeld), ["total", "midrange", "at-least"])
        XCTAssertTrue(after.readings[3].verified)
        XCTAssertEqual(after.readings[3].flag, .ok)
        // Day 1's cells take part in no check with the corrected cell except the totals: their
        // midrange holds untouched, so they are verified even at low confidence.
        XCTAssertTrue(after.readings[0].verified)
        XCTAssertEqual(after.readings[0].flag, .ok)
        XCTAssertEqual(after.readings.map(\.value), table.truth)
    }

    /// A correction cannot be confirmed by the one check it was made to meet, nor by a second
    /// whose other cells are themselves in doubt: a person looks at it.
    func testACorrectionOneCheckExplainsIsLeftForReview() {
        var table = pentad(max: ["28.7", "32.6", "34.2", "34.7", "34.6"], min: ["20.0", "18.2", "18.8", "19.3", "20.6"])
        table.readings[3] = reading("38.6", probability: 0.6, alternatives: [1: 2])
        // Totals only: the correction meets the one check that chose it.
        let totalsOnly = TableChecks.apply(readings: table.readings, positions: table.positions,
                                           layout: TableLayout(learnRelations: false), reviewThreshold: 0.9)
        XCTAssertEqual(totalsOnly.readings[3].value, "32.6")
        XCTAssertEqual(totalsOnly.readings[3].checksHeld, ["total"])
        XCTAssertFalse(totalsOnly.readings[3].verified)
        XCTAssertEqual(totalsOnly.readings[3].flag, .review)
        // The row's midrange holds too, but both its other cells were read unsure: they could
        // be wrong by amounts the correction happens to match.
        var doubtfulRow = table.readings
        doubtfulRow[4] = reading("18.2", probability: 0.6)
        doubtfulRow[5] = reading("25.4", probability: 0.6)
        let outcome = TableChecks.apply(readings: doubtfulRow, positions: table.positions, layout: TableLayout(),
                                        reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings[3].value, "32.6")
        XCTAssertTrue(outcome.readings[3].checksHeld.contains("midrange"))
        XCTAssertFalse(outcome.readings[3].verified)
        XCTAssertEqual(outcome.readings[3].flag, .review)
    }

    /// A clerk's total 0.1 off its days (508's F30: 119.1 written, the days summing to 119.2):
    /// the checks correct it to the days' sum, which its block's mean cannot confirm, since 164.8
    /// and 164.9 over five days are both 33.0. Only checks that break with the cell as read
    /// count, so the correction is left for a person, not passed as verified.
    func testACheckThatHoldsEitherWayDoesNotConfirmACorrection() {
        var table = pentad(max: ["28.7", "32.6", "34.2", "34.7", "34.6"], min: ["20.0", "18.2", "18.8", "19.3", "20.6"])
        let total = table.positions.firstIndex { $0?.rowLabel == "Tot." && $0?.column == "D" }!
        let mean = table.positions.firstIndex { $0?.rowLabel == "Moy." && $0?.column == "D" }!
        XCTAssertEqual(table.truth[total], "164.8")
        XCTAssertEqual(table.truth[mean], "33.0")
        table.readings[total] = reading("164.9", probability: 0.6, alternatives: [3: 8])
        let layout = TableLayout(learnRelations: false)
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: layout, reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings[total].value, "164.8")
        XCTAssertEqual(outcome.readings[total].uncheckedValue, "164.9")
        XCTAssertEqual(Set(outcome.readings[total].checksHeld), ["total", "mean"])
        XCTAssertFalse(outcome.readings[total].verified, "the mean holds with 164.9 too")
        XCTAssertEqual(outcome.readings[total].flag, .review)
        // A mean that the reading breaks (165.8: 33.2) does confirm the same correction.
        table.readings[total] = reading("165.8", probability: 0.6, alternatives: [2: 4])
        let confirmed = TableChecks.apply(readings: table.readings, positions: table.positions, layout: layout, reviewThreshold: 0.9)
        XCTAssertEqual(confirmed.readings[total].value, "164.8")
        XCTAssertTrue(confirmed.readings[total].verified)
        XCTAssertEqual(confirmed.readings[total].flag, .ok)
    }

    /// A correction two digits away from the reading is found and taken, but however many checks
    /// it meets it is left for a person: among a dozen values a cell, one that far from what was
    /// read meets two checks by chance too often (508's 28.6 taken as 29.5). One digit away it is
    /// verified (`testAMisreadDigitIsCorrectedByTheTotalsAndVerified`).
    func testACorrectionOfTwoDigitsIsNotVerified() {
        var table = pentad(max: ["28.7", "32.6", "34.2", "34.7", "34.6"], min: ["20.0", "18.2", "18.8", "19.3", "20.6"])
        table.readings[3] = reading("38.9", probability: 0.6, alternatives: [1: 2, 2: 6])
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: TableLayout(),
                                        reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings[3].value, "32.6")
        XCTAssertEqual(outcome.readings[3].uncheckedValue, "38.9")
        XCTAssertTrue(Set(outcome.readings[3].checksHeld).isSuperset(of: ["total", "midrange"]))
        XCTAssertFalse(outcome.readings[3].verified)
        XCTAssertEqual(outcome.readings[3].flag, .review)
    }

    /// A mean row's cell whose last digit is corrected (33.6 to 33.0) is confirmed by its block's
    /// mean and its row's midrange, both holding only to rounding: verified, but its new last
    /// digit, the network's runner-up, keeps its doubt. Only an exact check (a total, a sum) that
    /// confirms a correction pins every digit.
    func testACorrectionOnlyRoundedChecksConfirmKeepsItsLastDigitsDoubt() {
        var table = pentad(max: ["28.7", "32.6", "34.2", "34.7", "34.6"], min: ["20.0", "18.2", "18.8", "19.3", "20.6"])
        let mean = table.positions.firstIndex { $0?.rowLabel == "Moy." && $0?.column == "D" }!
        XCTAssertEqual(table.truth[mean], "33.0")
        table.readings[mean] = reading("33.6", probability: 0.6, alternatives: [2: 0])
        let layout = TableLayout(relations: [.init(.midrange, ["D", "E", "F"])], learnRelations: false)
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: layout, reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings[mean].value, "33.0")
        XCTAssertEqual(Set(outcome.readings[mean].checksHeld), ["mean", "midrange"])
        XCTAssertTrue(outcome.readings[mean].verified)
        XCTAssertNotNil(outcome.readings[mean].roundingDoubtThreshold)
        XCTAssertEqual(outcome.readings[mean].flag, .review)
    }

    /// A mean is its total over the count rounded or cut, never more than half a unit above (the
    /// 90 written means of the development sheets are all one or the other). Held to a unit either
    /// way, a mean read a unit high (this hand's 8 read as a sure 9: 23.9 for 119.1 / 5 = 23.82)
    /// passed as `ok`; now it breaks its check, and the checks take the runner-up, for review.
    func testAMeanReadAUnitHighBreaksItsCheck() {
        func holds(_ total: Double, _ count: Int, _ mean: Double) -> Bool {
            TableConstraint.meanHolds(total: total, count: count, mean: mean, unit: 0.1, layout: TableLayout())
        }
        XCTAssertTrue(holds(119.1, 5, 23.8))
        XCTAssertFalse(holds(119.1, 5, 23.9))
        XCTAssertFalse(holds(119.1, 5, 23.7))
        XCTAssertTrue(holds(155.4, 5, 31.1), "31.08 rounded")
        XCTAssertTrue(holds(155.4, 5, 31.0), "31.08 cut, as 203's clerk wrote it")
        XCTAssertFalse(holds(155.4, 5, 31.2))
        XCTAssertTrue(holds(74.6, 4, 18.7), "18.65 rounded half up")
        XCTAssertTrue(holds(74.6, 4, 18.6))
        XCTAssertFalse(holds(74.6, 4, 18.8))

        // The max column's days make 164.1: its mean, written 32.8, read 32.9 at 0.97.
        let table = pentad(max: ["28.7", "32.6", "34.2", "34.0", "34.6"], min: ["20.0", "18.2", "18.8", "19.3", "20.6"])
        let mean = table.positions.firstIndex { $0?.rowLabel == "Moy." && $0?.column == "D" }!
        XCTAssertEqual(table.truth[mean], "32.8")
        var readings = table.readings
        readings[mean] = reading("32.9", probability: 0.97, alternatives: [2: 8])
        func checked(_ layout: TableLayout) -> CellReading {
            TableChecks.apply(readings: readings, positions: table.positions, layout: layout, reviewThreshold: 0.9).readings[mean]
        }
        let now = checked(TableLayout(learnRelations: false))
        XCTAssertEqual(now.value, "32.8")
        XCTAssertEqual(now.uncheckedValue, "32.9")
        XCTAssertEqual(now.checksHeld, ["mean"])
        XCTAssertEqual(now.flag, .review)
        var symmetric = TableLayout(learnRelations: false)
        symmetric.meanExcessTolerance = symmetric.meanTolerance
        let before = checked(symmetric)
        XCTAssertEqual(before.value, "32.9")
        XCTAssertEqual(before.flag, .ok, "a unit either way let the misread pass")
    }

    /// A mean row's cell is on a sheet with totals but in none: its mean and its row's midrange
    /// hold to rounding only, so its last digit is held to `roundingDoubtThreshold` (0.96), as a
    /// day's is where its column's total does not pin it, not merely to the review threshold.
    func testAMeanRowsLastDigitIsHeldToTheRoundingDoubtThreshold() {
        let table = pentad(max: ["28.7", "32.6", "34.2", "34.7", "34.6"], min: ["20.0", "18.2", "18.8", "19.3", "20.6"])
        let mean = table.positions.firstIndex { $0?.rowLabel == "Moy." && $0?.column == "D" }!
        let layout = TableLayout(relations: [.init(.midrange, ["D", "E", "F"])], learnRelations: false)
        func checked(lastDigit probability: Float) -> CellReading {
            var readings = table.readings
            readings[mean] = reading("33.0", probability: probability)
            return TableChecks.apply(readings: readings, positions: table.positions, layout: layout, reviewThreshold: 0.9)
                .readings[mean]
        }
        let unsure = checked(lastDigit: 0.95)
        XCTAssertTrue(unsure.verified)
        XCTAssertEqual(Set(unsure.checksHeld), ["mean", "midrange"])
        XCTAssertEqual(unsure.roundingDoubtThreshold, 0.96)
        XCTAssertEqual(unsure.flag, .review)
        XCTAssertEqual(checked(lastDigit: 0.97).flag, .ok)
    }

    /// Two days' minima of one block misread (28.0 for 20.0, 13.2 for 18.2, the right digits runner-up):
    /// each is pinned by its own row's midrange, and the block's total holds with both: two unknowns
    /// under three equations, both verified. Without their rows' means, the total alone pins neither.
    func testCorrectionsSharingATotalAreConfirmedByTheirOwnRows() {
        var table = pentad(max: ["28.7", "32.6", "34.2", "34.7", "34.6"], min: ["20.0", "18.2", "18.8", "19.3", "20.6"])
        table.readings[1] = reading("28.0", probability: 0.6, alternatives: [1: 0])
        table.readings[4] = reading("13.2", probability: 0.6, alternatives: [1: 8])
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: TableLayout(),
                                        reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings.map(\.value), table.truth)
        for cell in [1, 4] {
            XCTAssertNotNil(outcome.readings[cell].uncheckedValue)
            XCTAssertTrue(outcome.readings[cell].verified, "cell \(cell): \(outcome.readings[cell].checksHeld)")
            XCTAssertEqual(outcome.readings[cell].flag, .ok)
        }
        var noMeans = table
        let meanColumn = noMeans.positions.indices.filter { noMeans.positions[$0]?.column == "F" }
        for index in meanColumn { noMeans.positions[index] = nil }
        let totalsOnly = TableChecks.apply(readings: noMeans.readings, positions: noMeans.positions,
                                           layout: TableLayout(learnRelations: false), reviewThreshold: 0.9)
        XCTAssertEqual(totalsOnly.readings[1].value, "28.0", "one total cannot tell which of two cells to change")
        XCTAssertEqual(totalsOnly.readings[1].flag, .review)
        XCTAssertEqual(totalsOnly.readings[4].flag, .review)
    }

    func testAnErrorNoAlternativeFixesStaysFlagged() {
        var table = pentad(max: ["28.7", "32.6", "34.2", "34.7", "34.6"], min: ["20.0", "18.2", "18.8", "19.3", "20.6"])
        // Two maxima confidently wrong in two digits (45.6 for 32.6, 44.2 for 34.2): no
        // alternative, and no one-digit change the checks imply, gives the truth; and with two
        // cells of the total wrong, the value it asks of either is wrong too, so no derived value
        // meets a second check (`TableChecksDerivedTests` derives one such cell alone). The checks
        // must flag them and their rows/column.
        table.readings[3] = reading("45.6", probability: 0.999, alternatives: [0: 3, 1: 9, 2: 7])
        table.readings[6] = reading("44.2", probability: 0.999, alternatives: [0: 1, 1: 9, 2: 7])
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: TableLayout(),
                                        reviewThreshold: 0.9)
        for cell in [3, 6] {
            XCTAssertEqual(outcome.readings[cell].flag, .review)
            XCTAssertTrue(outcome.readings[cell].checksBroken.contains("total"), "\(outcome.readings[cell].checksBroken)")
            XCTAssertNil(outcome.readings[cell].uncheckedValue)
        }
        XCTAssertGreaterThan(outcome.broken, 0)
        // Their rows' min and mean break the midrange with them: flagged. The column's total breaks
        // too, and so does not vouch for any maximum, but each other day's maximum has its own row's
        // midrange holding untouched: it stays ok. The total itself has no row of its own: review.
        for cell in [4, 5, 7, 8] { XCTAssertEqual(outcome.readings[cell].flag, .review) }
        for day in [0, 3, 4] {
            let maximum = outcome.readings[3 * day]
            XCTAssertTrue(maximum.checksBroken.contains("total"))
            XCTAssertTrue(maximum.verifiedInRow)
            XCTAssertEqual(maximum.flag, .ok, "day \(day + 1)")
        }
        XCTAssertEqual(table.positions[15]?.rowLabel, "Tot.")
        XCTAssertEqual(outcome.readings[15].checksBroken, ["total"])
        XCTAssertFalse(outcome.readings[15].verifiedInRow)
        XCTAssertEqual(outcome.readings[15].flag, .review)
        // A cell with no constraints keeps the threshold rule.
        let lone = TableChecks.apply(readings: [reading("12.3", probability: 0.5)], positions: [nil],
                                     layout: TableLayout(), reviewThreshold: 0.9)
        XCTAssertEqual(lone.readings[0].flag, .review)
        XCTAssertNil(lone.readings[0].uncheckedValue)
    }

    /// A pressure column (values near 1012) where one cell lost its leading 1 (101.8, sure of
    /// every digit) and the other reader saw 1011.8; a rain column, mostly small, with one
    /// downpour; a total row far above its data rows.
    func testACellFarOutsideItsColumnsRangeIsFlaggedAndReRead() throws {
        let pressures = ["1012.1", "1013.4", "1011.0", "1009.8", "1012.6", "1014.2", "1010.9", "1011.8", "1012.3", "1013.0"]
        let rain = ["0.4", "2.1", "0.0", "1.3", "40.5", "0.8", "3.2", "1.1", "0.6", "2.4"]
        var readings: [CellReading] = [], positions: [TablePosition?] = []
        for (row, (pressure, fall)) in zip(pressures, rain).enumerated() {
            readings.append(reading(pressure, probability: 0.999)); readings.append(reading(fall, probability: 0.999))
            positions.append(TablePosition(sheet: "s1", row: row + 1, rowLabel: "\(row + 1)", column: "P"))
            positions.append(TablePosition(sheet: "s1", row: row + 1, rowLabel: "\(row + 1)", column: "R"))
        }
        readings.append(reading("52.4", probability: 0.999))
        positions.append(TablePosition(sheet: "s1", row: 11, rowLabel: "Tot.", column: "R"))
        let lost = 2 * 7
        var misread = reading("101.8", probability: 0.999)
        let other = reading("1011.8", probability: 0.95)
        misread.secondOpinion = SecondOpinion(value: other.value, confidence: other.confidence, digits: other.digits,
                                              separatorAfter: other.separatorAfter)
        readings[lost] = misread

        let ranges = TableChecks.rangeConstraints(values: readings.map { TableNumber(text: $0.value) }, positions: positions,
                                                  layout: TableLayout())
        XCTAssertEqual(Set(ranges.flatMap(\.cells)), Set(stride(from: 0, to: 20, by: 2)), "the pressures have a range, the rain none")
        let bounds = try XCTUnwrap(ranges.first?.bounds)
        XCTAssertTrue(bounds.contains(998.7) && bounds.contains(1025.6), "\(bounds): ordinary pressures are in range")
        XCTAssertFalse(bounds.contains(101.8) || bounds.contains(9011.8), "\(bounds)")
        // 5% of the median would be 50 hPa; the floor stops at 30 tenths.
        XCTAssertFalse(bounds.contains(1080.8) || bounds.contains(947.6), "\(bounds): a misread second digit is out of range")

        let flagged = TableChecks.apply(readings: readings, positions: positions, layout: TableLayout(), reviewThreshold: 0.9, correct: false)
        XCTAssertEqual(flagged.readings[lost].flag, .review)
        XCTAssertEqual(flagged.readings[lost].checksBroken, ["range"])
        XCTAssertEqual(flagged.readings.indices.filter { flagged.readings[$0].flag == .review }, [lost], "the downpour and the total are ok")
        XCTAssertTrue(flagged.readings[0].checksHeld.isEmpty, "a range that holds is not recorded")

        let corrected = TableChecks.apply(readings: readings, positions: positions, layout: TableLayout(), reviewThreshold: 0.9)
        XCTAssertEqual(corrected.readings[lost].value, "1011.8")
        XCTAssertEqual(corrected.readings[lost].uncheckedValue, "101.8")
        XCTAssertEqual(corrected.readings[lost].flag, .review, "a re-read cell is still looked at")

        var off = TableLayout()
        off.rangeDeviations = nil
        let unchecked = TableChecks.apply(readings: readings, positions: positions, layout: off, reviewThreshold: 0.9)
        XCTAssertEqual(unchecked.readings[lost].value, "101.8")
        XCTAssertEqual(unchecked.readings[lost].flag, .ok, "without ranges nothing doubts a sure misread")
        XCTAssertTrue(TableChecks.rangeConstraints(values: readings.map { TableNumber(text: $0.value) }, positions: positions,
                                                   layout: .none).isEmpty)
    }

    /// 501's mean row in miniature: a total that lost its leading digit (36.0 for 236.0, sure) and
    /// a mean whose first digit has 0 as its runner-up. 03.6 meets the total (36.0 / 10) at less
    /// cost than a broken mean, so the pair outvoted ten days; a mean lies among its days, and
    /// the column's range now says so.
    func testAMeanOutsideItsDaysRangeIsNotTakenToMeetAMisreadTotal() throws {
        let days = ["23.1", "24.0", "23.6", "22.8", "24.4", "23.9", "23.5", "22.7", "24.1", "23.9"]
        var readings = days.map { reading($0, probability: 0.999) }
        // Day 7's crop could not be read (a blot): the days' sum is unknown, so no total is derived from it.
        readings[6] = CellReading(value: "", digits: [], separatorAfter: nil, separatorSeen: false, confidence: 0, flag: .unreadable)
        var positions: [TablePosition?] = days.indices.map { TablePosition(sheet: "s1", row: $0 + 1, rowLabel: "\($0 + 1)", column: "F") }
        XCTAssertEqual(days.compactMap(Double.init).reduce(0, +), 236.0, accuracy: 1e-9)
        readings.append(reading("36.0", probability: 0.999))
        positions.append(TablePosition(sheet: "s1", row: 11, rowLabel: "Tot.", column: "F"))
        readings.append(reading("23.6", probability: 0.998, alternatives: [0: 0]))
        positions.append(TablePosition(sheet: "s1", row: 12, rowLabel: "Moy.", column: "F"))
        let total = 10, mean = 11

        let ranges = TableChecks.rangeConstraints(values: readings.map { TableNumber(text: $0.value) }, positions: positions,
                                                  layout: TableLayout())
        XCTAssertEqual(Set(ranges.flatMap(\.cells)), Set(0..<10).subtracting([6]).union([mean]),
                       "the days read and the mean have a range, the total none")
        let dayBounds = try XCTUnwrap(ranges.first { $0.cells == [0] }?.bounds)
        let meanBounds = try XCTUnwrap(ranges.first { $0.cells == [mean] }?.bounds)
        XCTAssertFalse(dayBounds.contains(13.6), "\(dayBounds)")
        XCTAssertTrue(meanBounds.contains(23.6) && meanBounds.contains(13.6) && meanBounds.contains(33.6),
                      "\(meanBounds): a mean's range is wider, at least half the median either way")
        XCTAssertFalse(meanBounds.contains(3.6) || meanBounds.contains(236.0), "\(meanBounds): a tenth or ten times the size is out")

        let checked = TableChecks.apply(readings: readings, positions: positions, layout: TableLayout(), reviewThreshold: 0.9)
        XCTAssertEqual(checked.readings[mean].value, "23.6", "the mean keeps its reading")
        XCTAssertEqual(checked.readings[mean].flag, .review)
        XCTAssertEqual(checked.readings[mean].checksBroken, ["mean"])
        XCTAssertEqual(checked.readings[total].value, "36.0")
        XCTAssertEqual(checked.readings[total].flag, .review, "nothing confirms the misread total")
        XCTAssertEqual(checked.readings[0..<10].map(\.value), readings[0..<10].map(\.value), "no day is changed")

        var withoutRanges = TableLayout()
        withoutRanges.rangeDeviations = nil
        let unranged = TableChecks.apply(readings: readings, positions: positions, layout: withoutRanges, reviewThreshold: 0.9)
        XCTAssertEqual(unranged.readings[mean].value, "03.6", "without a range the mean is made to meet the misread total")
        XCTAssertEqual(unranged.readings[total].flag, .ok, "and the two confirm each other")
    }

    func testCandidatesAreOrderedByProbability() {
        let candidates = TableChecks.candidates(of: reading("28.7", probability: 0.8, alternatives: [0: 7, 1: 3, 2: 1]))
        XCTAssertEqual(candidates.first?.value, "28.7")
        XCTAssertEqual(candidates.count, 8)
        for (a, b) in zip(candidates, candidates.dropFirst()) { XCTAssertGreaterThanOrEqual(a.logProbability, b.logProbability) }
        XCTAssertTrue(candidates.contains { $0.value == "73.1" })
    }

    func testTheArithmeticSetsAColumnsDecimalsAndTheSeenPointsTheTables() {
        var table = pentad(max: ["28.7", "32.6", "34.2", "34.7", "34.6"], min: ["20.0", "18.2", "18.8", "19.3", "20.6"])
        // Column E read with two decimals (a speck taken for a point), D and F with points seen.
        for index in table.positions.indices {
            let position = table.positions[index]!
            let digits = table.readings[index].digits.count
            if position.column == "E" {
                table.readings[index] = TableChecks.repointed(table.readings[index], decimals: 2)
                table.readings[index].separatorSighted = digits - 2 < 1 ? nil : (index % 4 == 0 ? digits - 2 : nil)
            } else {
                table.readings[index].separatorSighted = digits - 1
            }
        }
        XCTAssertEqual(table.readings[1].value, "2.00")
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: TableLayout(),
                                        reviewThreshold: 0.9)
        XCTAssertEqual(outcome.columnDecimals["E"], 1)
        XCTAssertEqual(outcome.readings.map(\.value), table.truth)
        XCTAssertEqual(outcome.broken, 0)
        // Without any seen point the arithmetic alone keeps the columns consistent with each other.
        var unseen = table
        for index in unseen.readings.indices { unseen.readings[index].separatorSighted = nil }
        let consistent = TableChecks.apply(readings: unseen.readings, positions: unseen.positions, layout: TableLayout(),
                                           reviewThreshold: 0.9)
        XCTAssertEqual(consistent.broken, 0)
        XCTAssertEqual(Set(consistent.readings.map { TableNumber(text: $0.value)!.decimals }).count, 1)
    }
}

/// The search for the cheapest correction: the best move of all, joint moves, and doubt left
/// where blaming another cell would cost about the same.
final class TableChecksSearchTests: XCTestCase {
    /// A reading whose digits have their own probabilities and one runner-up each
    /// (`(digit, probability, runner-up, its probability)`), one decimal.
    func reading(_ digits: [(Int, Float, Int, Float)]) -> CellReading {
        let box = CutCell.Box(minX: 0, minY: 0, maxX: 1, maxY: 1)
        let read = digits.map { digit, probability, other, otherProbability in
            DigitReading(digit: digit, probability: probability,
                         alternatives: [.init(digit: digit, probability: probability), .init(digit: other, probability: otherProbability)],
                         box: box)
        }
        let value = CellReader.value(digits: digits.map(\.0), separatorAfter: digits.count - 1)
        let confidence = read.map(\.probability).min()!
        return CellReading(value: value, digits: read, separatorAfter: digits.count - 1, separatorSeen: false,
                           confidence: confidence, flag: confidence >= 0.9 ? .ok : .review)
    }

    /// `rows` of (max, min, mean) on one sheet, with the mean declared (max + min) / 2.
    func apply(_ rows: [[CellReading]]) -> TableChecks.Outcome {
        var readings: [CellReading] = [], positions: [TablePosition?] = []
        for (row, cells) in rows.enumerated() {
            for (cell, column) in zip(cells, ["D", "E", "F"]) {
                readings.append(cell)
                positions.append(TablePosition(sheet: "s", row: row + 1, rowLabel: "\(row + 1)", column: column))
            }
        }
        var layout = TableLayout(relations: [.init(.midrange, ["D", "E", "F"])], learnRelations: false)
        layout.rangeDeviations = nil
        layout.chooseDecimals = false
        return TableChecks.apply(readings: readings, positions: positions, layout: layout, reviewThreshold: 0.9)
    }

    /// Sure digits: the runner-up one up, at 0.0005.
    func sure(_ value: String) -> CellReading {
        reading(value.compactMap(\.wholeNumberValue).map { ($0, 0.999, ($0 + 1) % 10, 0.0005) })
    }

    /// 24.7 / 16.3 / 20.6 (the mean's 5 read as 6): changing the max's sure 7 to its runner-up
    /// 9 (0.0005) also meets (max + min) / 2, and comes first in the row; the mean's runner-up
    /// (0.3) is far cheaper and is the one taken.
    func testTheCheapestCorrectionWinsNotTheFirstCellsOne() {
        let max = reading([(2, 0.999, 3, 0.0005), (4, 0.999, 5, 0.0005), (7, 0.999, 9, 0.0005)])
        let mean = reading([(2, 0.999, 3, 0.0005), (0, 0.999, 1, 0.0005), (6, 0.65, 5, 0.3)])
        let outcome = apply([[max, sure("16.3"), mean]])
        XCTAssertEqual(outcome.readings.map(\.value), ["24.7", "16.3", "20.5"])
        XCTAssertEqual(outcome.corrected, 1)
        XCTAssertEqual(outcome.broken, 0)
        XCTAssertEqual(outcome.readings[2].uncheckedValue, "20.6")
        XCTAssertEqual(outcome.readings[2].flag, .review, "a correction is for a person to confirm")
        XCTAssertNil(outcome.readings[0].uncheckedValue)
        XCTAssertEqual(outcome.readings[0].flag, .ok, "blaming the sure max instead costs far more: it is trusted")
        XCTAssertTrue(outcome.readings[0].checksDoubted.isEmpty)
    }

    /// 31.9 / 26.9 / 29.4 read 31.9 / 26.4 / 24.4: no one cell's runner-up meets the midrange;
    /// the min's and the mean's together do.
    func testTwoMisreadCellsOfARowAreCorrectedTogether() {
        let min = reading([(2, 0.999, 3, 0.0005), (6, 0.999, 7, 0.0005), (4, 0.7, 9, 0.27)])
        let mean = reading([(2, 0.999, 3, 0.0005), (4, 0.7, 9, 0.27), (4, 0.999, 5, 0.0005)])
        let outcome = apply([[sure("31.9"), min, mean]])
        XCTAssertEqual(outcome.readings.map(\.value), ["31.9", "26.9", "29.4"])
        XCTAssertEqual(outcome.corrected, 2)
        XCTAssertEqual(outcome.broken, 0)
        XCTAssertEqual(outcome.readings.map(\.flag), [.ok, .review, .review])
    }

    /// 31.2 / 25.9 / 28.3, the min's 4 read as 9 at 0.99: correcting the min back to 25.4 or the
    /// mean to 28.5 both meet the midrange, at about the same cost. Whichever is taken, the other
    /// cell is as doubtful: both go to review. A min whose runner-up is far less likely is trusted.
    func testACellThatCouldAsWellBeTheMisreadOneIsFlagged() {
        let min = reading([(2, 0.999, 3, 0.0005), (5, 0.999, 6, 0.0005), (9, 0.99, 4, 0.008)])
        let mean = reading([(2, 0.999, 3, 0.0005), (8, 0.999, 9, 0.0005), (3, 0.99, 5, 0.009)])
        let outcome = apply([[sure("31.2"), min, mean]])
        XCTAssertEqual(outcome.broken, 0)
        XCTAssertEqual(outcome.corrected, 1)
        XCTAssertEqual(outcome.readings[1].flag, .review)
        XCTAssertEqual(outcome.readings[2].flag, .review)
        let kept = outcome.readings[1].uncheckedValue == nil ? 1 : 2
        XCTAssertEqual(outcome.readings[kept].checksDoubted, ["midrange"])
        XCTAssertEqual(outcome.readings[0].flag, .ok, "the max's runner-up (0.0005) is not a plausible culprit")

        let sureMin = reading([(2, 0.999, 3, 0.0005), (5, 0.999, 6, 0.0005), (9, 0.9999, 4, 0.00002)])
        let trusted = apply([[sure("31.2"), sureMin, mean]])
        XCTAssertEqual(trusted.readings.map(\.value), ["31.2", "25.9", "28.5"])
        XCTAssertTrue(trusted.readings[1].checksDoubted.isEmpty)
        XCTAssertEqual(trusted.readings[1].flag, .ok)
    }

    /// 16.9 / 10.0 / 13.4, the mean's hooked 1 written against its 3 and read as one sure 0
    /// (0.4). The cut with that piece split reads 13.4: the midrange asks for it, so it is
    /// taken, with its three digits, and flagged. A recut the arithmetic does not ask for is left.
    func testARecutReadingIsTakenWhenTheArithmeticAsksForIt() {
        var mean = reading([(0, 0.99, 8, 0.005), (4, 0.999, 9, 0.0005)])
        let split = reading([(1, 0.9, 7, 0.05), (3, 0.95, 8, 0.03), (4, 0.999, 9, 0.0005)])
        let other = reading([(1, 0.95, 7, 0.03), (0, 0.6, 8, 0.3), (4, 0.999, 9, 0.0005)])
        mean.recutOpinions = [other, split].map {
            SecondOpinion(value: $0.value, confidence: $0.confidence, digits: $0.digits, separatorAfter: $0.separatorAfter)
        }
        let outcome = apply([[sure("16.9"), sure("10.0"), mean]])
        XCTAssertEqual(outcome.readings.map(\.value), ["16.9", "10.0", "13.4"])
        XCTAssertEqual(outcome.readings[2].uncheckedValue, "0.4")
        XCTAssertEqual(outcome.readings[2].digits.map(\.digit), [1, 3, 4])
        XCTAssertEqual(outcome.readings[2].separatorAfter, 2)
        XCTAssertEqual(outcome.readings[2].flag, .review)

        var right = reading([(0, 0.99, 8, 0.005), (4, 0.999, 9, 0.0005)])
        right.recutOpinions = mean.recutOpinions
        let kept = apply([[sure("0.8"), sure("0.0"), right]])
        XCTAssertEqual(kept.readings[2].value, "0.4")
        XCTAssertNil(kept.readings[2].uncheckedValue)
        XCTAssertEqual(kept.broken, 0)
    }

    /// Only a cell that breaks a check as read, a digit short of its column's usual count, is
    /// offered cut again: not a short cell whose row holds, nor a broken cell of the usual length.
    func testOnlyShortCellsBreakingACheckAreRecut() {
        var layout = TableLayout(relations: [.init(.midrange, ["D", "E", "F"])], learnRelations: false)
        layout.rangeDeviations = nil
        layout.chooseDecimals = false
        let rows = [["16.9", "10.0", "0.4"], ["0.8", "0.0", "0.4"], ["16.9", "10.0", "15.4"]]
        var readings: [CellReading] = [], positions: [TablePosition?] = []
        for (row, values) in rows.enumerated() {
            for (value, column) in zip(values, ["D", "E", "F"]) {
                readings.append(sure(value))
                positions.append(TablePosition(sheet: "s", row: row + 1, rowLabel: "\(row + 1)", column: column))
            }
        }
        let short = TableChecks.shortCellsBreakingChecks(readings: readings, positions: positions, layout: layout, reviewThreshold: 0.9,
                                                         digitCounts: readings.map(\.digits.count),
                                                         usualCounts: Array(repeating: 3, count: readings.count))
        XCTAssertEqual(short, [2], "row 1's mean: short and breaking; row 2's holds; row 3's mean breaks but has 3 digits")
    }

    /// A writer whose 3s one reader reads as a sure 7 and the other as a less sure 3, in three
    /// rows of (max, min, mean) under a total of the mins, and in a pressure no check covers. Row
    /// by row, correcting the mean's unsure last digit to fit the wrong min is cheaper than the
    /// other reader's min, so the search does that and is left with the mins' total broken,
    /// which no one cell can mend. Taking the other reader in all four cells at once meets every
    /// check: the sheet costs far less, so the four are taken, flagged. When the sure reader is
    /// right (the total holds with its mins) nothing changes.
    func testASheetsSharedDisagreementIsTriedAsAWhole() {
        var layout = TableLayout(relations: [.init(.midrange, ["D", "E", "F"])], learnRelations: false)
        layout.rangeDeviations = nil
        layout.chooseDecimals = false
        func disagreeing(_ lead: CellReading, _ other: CellReading) -> CellReading {
            var reading = lead
            reading.readersDisagree = true
            reading.flag = .review
            reading.secondOpinion = SecondOpinion(value: other.value, confidence: other.confidence, digits: other.digits,
                                                  separatorAfter: other.separatorAfter)
            return reading
        }
        // (max, min's tens and units, mean's tens and units, last digits: mean as written, if 7)
        let rows: [(String, [Int], [Int], Int, Int)] = [("29.9", [2, 1], [2, 5], 6, 8), ("30.5", [2, 2], [2, 6], 4, 6),
                                                         ("28.7", [2, 0], [2, 4], 5, 7)]
        func sheet(writtenDigit: Int, total: String) -> (readings: [CellReading], positions: [TablePosition?], outcome: TableChecks.Outcome) {
            var readings: [CellReading] = [], positions: [TablePosition?] = []
            for (row, (max, min, mean, meanIfThree, meanIfSeven)) in rows.enumerated() {
                let seven = disagreeing(reading([(min[0], 0.999, 3, 0.0005), (min[1], 0.999, 4, 0.0005), (7, 0.99, 9, 0.005)]),
                                        reading([(min[0], 0.99, 3, 0.005), (min[1], 0.99, 4, 0.005), (3, 0.6, 7, 0.3)]))
                let written = writtenDigit == 3 ? meanIfThree : meanIfSeven
                let other = writtenDigit == 3 ? meanIfSeven : meanIfThree
                let meanReading = reading([(mean[0], 0.999, 3, 0.0005), (mean[1], 0.999, 4, 0.0005), (written, 0.7, other, 0.25)])
                for (cell, column) in zip([sure(max), seven, meanReading], ["D", "E", "F"]) {
                    readings.append(cell)
                    positions.append(TablePosition(sheet: "s", row: row + 1, rowLabel: "\(row + 1)", column: column))
                }
            }
            readings.append(sure(total))
            positions.append(TablePosition(sheet: "s", row: 4, rowLabel: "Tot.", column: "E"))
            readings.append(disagreeing(reading([(1, 0.999, 7, 0.0005), (0, 0.999, 6, 0.0005), (1, 0.999, 7, 0.0005), (7, 0.99, 9, 0.005),
                                                 (0, 0.999, 6, 0.0005)]),
                                        reading([(1, 0.99, 7, 0.005), (0, 0.99, 6, 0.005), (1, 0.99, 7, 0.005), (3, 0.6, 7, 0.3),
                                                 (0, 0.99, 6, 0.005)])))
            positions.append(TablePosition(sheet: "s", row: 1, rowLabel: "1", column: "G"))
            return (readings, positions, TableChecks.apply(readings: readings, positions: positions, layout: layout, reviewThreshold: 0.9))
        }
        let threes = sheet(writtenDigit: 3, total: "63.9")
        let alone = TableChecks.checkAndCorrect(readings: threes.readings, positions: threes.positions, layout: layout,
                                                reviewThreshold: 0.9, correct: true)
        XCTAssertEqual(alone.readings.map(\.value), ["29.9", "21.7", "25.8", "30.5", "22.7", "26.6", "28.7", "20.7", "24.7", "63.9", "1017.0"],
                       "the search alone fits each mean to its wrong min")
        XCTAssertEqual(alone.broken, 1, "and leaves the mins' total broken")

        let outcome = threes.outcome
        XCTAssertEqual(outcome.readings.map(\.value), ["29.9", "21.3", "25.6", "30.5", "22.3", "26.4", "28.7", "20.3", "24.5", "63.9", "1013.0"])
        XCTAssertEqual(outcome.broken, 0)
        for index in [1, 4, 7, 10] {
            XCTAssertEqual(outcome.readings[index].uncheckedValue, threes.readings[index].value)
            XCTAssertEqual(outcome.readings[index].otherReading, threes.readings[index].value, "the reading it had is the other opinion")
            XCTAssertEqual(outcome.readings[index].flag, .review)
            XCTAssertFalse(outcome.readings[index].verified, "a cell taken to meet the checks is not verified by them")
        }
        XCTAssertEqual(outcome.corrected, 4)
        XCTAssertNil(outcome.readings[2].uncheckedValue, "the means as read hold")
        XCTAssertFalse(outcome.readings[0].verified, "a row with a taken cell verifies none of its cells")

        let sevens = sheet(writtenDigit: 7, total: "65.1")
        XCTAssertEqual(sevens.outcome.readings.map(\.value), ["29.9", "21.7", "25.8", "30.5", "22.7", "26.6", "28.7", "20.7", "24.7", "65.1", "1017.0"])
        XCTAssertEqual(sevens.outcome.corrected, 0)
        XCTAssertEqual(sevens.outcome.broken, 0)
        XCTAssertEqual(sevens.outcome.readings[1].otherReading, "21.3")
    }

    /// A sheet read badly enough offers a hypothesis for every digit pair the two readers swap;
    /// each is a search of the whole sheet, so at most `maximumHypothesesPerSheet` a sheet are
    /// tried, the largest groups first, and another sheet keeps its own.
    func testSheetHypothesesAreCappedPerSheetLargestFirst() {
        let layout = TableLayout(relations: [], learnRelations: false)
        var readings: [CellReading] = [], positions: [TablePosition?] = []
        func disagree(_ read: String, _ other: String, sheet: String) {
            var cell = sure(read)
            cell.readersDisagree = true
            cell.secondOpinion = SecondOpinion(value: other, confidence: 0.6, digits: sure(other).digits, separatorAfter: 2)
            readings.append(cell)
            positions.append(TablePosition(sheet: sheet, row: readings.count, rowLabel: "\(readings.count)", column: "D"))
        }
        // Sheet "a": 15 swapped pairs (a read where b was), pair k in k + 2 cells so the groups
        // rank by size; sheet "b": two cells of one pair.
        let pairs = (0..<15).map { k in (k % 9 + 1, (k / 9 + k % 9 + 2) % 10) }
        for (k, (a, b)) in pairs.enumerated() {
            for _ in 0..<(k + 2) { disagree("2\(a).5", "2\(b).5", sheet: "a") }
        }
        disagree("31.4", "37.4", sheet: "b")
        disagree("33.4", "33.7", sheet: "b")
        disagree("30.4", "30.7", sheet: "b")
        let hypotheses = TableChecks.sheetHypotheses(readings: readings, positions: positions, constraints: [], layout: layout)
        let sizes = hypotheses.map { hypothesis -> (String, Int) in
            guard case .secondReader(let cells) = hypothesis else { return ("?", 0) }
            return (positions[cells[0]]!.sheet, cells.count)
        }
        XCTAssertEqual(TableChecks.maximumHypothesesPerSheet, 12)
        XCTAssertEqual(sizes.filter { $0.0 == "a" }.map(\.1), Array((5...16).reversed()), "sheet a: its 12 largest groups, largest first")
        XCTAssertEqual(sizes.filter { $0.0 == "b" }.map(\.1), [2], "sheet b keeps its own")
    }

    /// A writer whose 4s both readers read as a sure 9 (4 the runner-up at 0.003), in two mins and
    /// a max of three (max, min, mean) rows, and in a pressure no check covers. Row by row, the
    /// mean's own runner-up (0.0034) fits the misread cell and is a shade likelier, so the search
    /// alone changes the three right means. "This writer's 4 is read as 9" mends all three rows:
    /// tried as a whole it costs far less, and the 9s are corrected instead; the pressure's 9,
    /// whose runner-up is 4, is doubted. When the means' runner-ups are likely (0.3) the search's
    /// own corrections are cheaper than the confusion's prior, and stand.
    func testAWritersConfusionThatExplainsSeveralRowsIsTriedAsAWhole() {
        var layout = TableLayout(relations: [.init(.midrange, ["D", "E", "F"])], learnRelations: false)
        layout.rangeDeviations = nil
        layout.chooseDecimals = false
        func misread(_ tens: Int, _ units: Int) -> CellReading {
            reading([(tens, 0.999, (tens + 1) % 10, 0.0005), (units, 0.999, (units + 1) % 10, 0.0005), (9, 0.99, 4, 0.003)])
        }
        func mean(_ tens: Int, _ units: Int, _ tenths: Int, fitting: Int, _ runnerUp: Float) -> CellReading {
            reading([(tens, 0.999, (tens + 1) % 10, 0.0005), (units, 0.999, (units + 1) % 10, 0.0005), (tenths, 1 - runnerUp - 0.001, fitting, runnerUp)])
        }
        func sheet(meansRunnerUp p: Float) -> (readings: [CellReading], positions: [TablePosition?], outcome: TableChecks.Outcome) {
            // Written: 31.2 / 25.4 / 28.3, 30.6 / 23.4 / 27.0, 29.4 / 21.0 / 25.2.
            let rows = [[sure("31.2"), misread(2, 5), mean(2, 8, 3, fitting: 5, p)],
                        [sure("30.6"), misread(2, 3), mean(2, 7, 0, fitting: 2, p)],
                        [misread(2, 9), sure("21.0"), mean(2, 5, 2, fitting: 4, p)]]
            var readings: [CellReading] = [], positions: [TablePosition?] = []
            for (row, cells) in rows.enumerated() {
                for (cell, column) in zip(cells, ["D", "E", "F"]) {
                    readings.append(cell)
                    positions.append(TablePosition(sheet: "s", row: row + 1, rowLabel: "\(row + 1)", column: column))
                }
            }
            readings.append(reading([(1, 0.999, 7, 0.0005), (0, 0.999, 6, 0.0005), (0, 0.999, 6, 0.0005), (9, 0.99, 4, 0.003),
                                     (3, 0.999, 8, 0.0005)]))
            positions.append(TablePosition(sheet: "s", row: 1, rowLabel: "1", column: "G"))
            return (readings, positions, TableChecks.apply(readings: readings, positions: positions, layout: layout, reviewThreshold: 0.9))
        }
        let unsure = sheet(meansRunnerUp: 0.0034)
        let alone = TableChecks.checkAndCorrect(readings: unsure.readings, positions: unsure.positions, layout: layout,
                                                reviewThreshold: 0.9, correct: true)
        XCTAssertEqual(alone.readings.map(\.value), ["31.2", "25.9", "28.5", "30.6", "23.9", "27.2", "29.9", "21.0", "25.4", "1009.3"],
                       "the search alone changes the right means")
        let outcome = unsure.outcome
        XCTAssertEqual(outcome.readings.map(\.value), ["31.2", "25.4", "28.3", "30.6", "23.4", "27.0", "29.4", "21.0", "25.2", "1009.3"])
        XCTAssertEqual(outcome.broken, 0)
        XCTAssertEqual(outcome.corrected, 3)
        for index in [1, 4, 6] {
            XCTAssertEqual(outcome.readings[index].uncheckedValue, unsure.readings[index].value)
            XCTAssertEqual(outcome.readings[index].flag, .review)
            XCTAssertEqual(outcome.readings[index].digits[2].probability, 0.003, accuracy: 1e-6, "the network's probability, not the hypothesis'")
            XCTAssertEqual(outcome.readings[index].digits[2].alternatives, unsure.readings[index].digits[2].alternatives)
        }
        XCTAssertNil(outcome.readings[2].uncheckedValue)
        XCTAssertEqual(outcome.readings[9].checksDoubted, ["confusion"], "the unchecked 9 with a runner-up 4 is doubted")
        XCTAssertEqual(outcome.readings[9].flag, .review)
        XCTAssertEqual(outcome.readings[9].digits, unsure.readings[9].digits, "as the network read it")

        let likely = sheet(meansRunnerUp: 0.3)
        XCTAssertEqual(likely.outcome.readings.map(\.value), ["31.2", "25.9", "28.5", "30.6", "23.9", "27.2", "29.9", "21.0", "25.4", "1009.3"])
        XCTAssertEqual(likely.outcome.corrected, 3)
        XCTAssertEqual(likely.outcome.readings[9].flag, .ok)
    }

    /// A writer whose 4s the network reads as 9: the checks correct 9 into 4 in three rows; the
    /// sheet's other cells read with a sure 9 whose runner-up is 4, and no check of their own,
    /// are flagged. A 9 whose runner-up is 7 is not, and two corrections are not enough.
    func testAConfusionTheChecksKeepCorrectingFlagsTheSheetsOtherCells() {
        var layout = TableLayout(relations: [.init(.midrange, ["D", "E", "F"])], learnRelations: false)
        layout.rangeDeviations = nil
        layout.chooseDecimals = false
        func sheet(correctedRows: Int) -> TableChecks.Outcome {
            var readings: [CellReading] = [], positions: [TablePosition?] = []
            for row in 0..<correctedRows {
                let min = reading([(2, 0.999, 3, 0.0005), (5, 0.999, 6, 0.0005), (9, 0.6, 4, 0.35)])
                for (cell, column) in zip([sure("31.2"), min, sure("28.3")], ["D", "E", "F"]) {
                    readings.append(cell)
                    positions.append(TablePosition(sheet: "s", row: row + 1, rowLabel: "\(row + 1)", column: column))
                }
            }
            // Pressures: no check covers them.
            let fourAsNine = reading([(1, 0.999, 7, 0.0005), (0, 0.999, 6, 0.0005), (0, 0.999, 6, 0.0005), (9, 0.99, 4, 0.008), (3, 0.999, 8, 0.0005)])
            let sevenAsNine = reading([(1, 0.999, 7, 0.0005), (0, 0.999, 6, 0.0005), (0, 0.999, 6, 0.0005), (9, 0.99, 7, 0.008), (3, 0.999, 8, 0.0005)])
            for (k, cell) in [fourAsNine, sevenAsNine].enumerated() {
                readings.append(cell)
                positions.append(TablePosition(sheet: "s", row: k + 1, rowLabel: "\(k + 1)", column: "G"))
            }
            return TableChecks.apply(readings: readings, positions: positions, layout: layout, reviewThreshold: 0.9)
        }
        let three = sheet(correctedRows: 3)
        XCTAssertEqual(three.corrected, 3)
        XCTAssertEqual(three.readings.filter { $0.uncheckedValue != nil }.map(\.value), ["25.4", "25.4", "25.4"])
        let pressures = Array(three.readings.suffix(2))
        XCTAssertEqual(pressures.map(\.value), ["1009.3", "1009.3"])
        XCTAssertEqual(pressures[0].checksDoubted, ["confusion"])
        XCTAssertEqual(pressures[0].flag, .review)
        XCTAssertEqual(pressures[1].checksDoubted, [])
        XCTAssertEqual(pressures[1].flag, .ok)
        XCTAssertEqual(three.readings[0].flag, .ok, "31.2 has no 9")

        let two = sheet(correctedRows: 2)
        XCTAssertEqual(two.corrected, 2)
        XCTAssertEqual(two.readings.suffix(2).map(\.flag), [.ok, .ok])
    }
}
