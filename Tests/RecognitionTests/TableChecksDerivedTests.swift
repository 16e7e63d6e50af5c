import XCTest
@testable import Recognition

final class TableChecksDerivedTests: XCTestCase {
    let box = CutCell.Box(minX: 0, minY: 0, maxX: 1, maxY: 1)

    /// `value`'s digits, each at `probability` and its only alternative, the point before the last.
    func reading(_ value: String, probability: Float = 0.99) -> CellReading {
        let digits = value.compactMap(\.wholeNumberValue).map {
            DigitReading(digit: $0, probability: probability, alternatives: [.init(digit: $0, probability: probability)], box: box)
        }
        return CellReading(value: value, digits: digits, separatorAfter: digits.count - 1, separatorSeen: true,
                           confidence: probability, flag: probability < 0.9 ? .review : .ok)
    }

    /// Five days of max, min and (max + min) / 2, a total row and a mean row, every cell read
    /// surely as written.
    func pentad() -> (readings: [CellReading], positions: [TablePosition?], truth: [String]) {
        let max = [28.7, 32.6, 34.2, 34.7, 34.6], min = [20.0, 18.2, 18.8, 19.3, 20.6]
        var readings: [CellReading] = [], positions: [TablePosition?] = [], truth: [String] = []
        func add(_ value: Double, row: Int, label: String, column: String) {
            let text = String(format: "%.1f", value)
            readings.append(reading(text))
            truth.append(text)
            positions.append(TablePosition(sheet: "s1", row: row, rowLabel: label, column: column))
        }
        let mids = (0..<5).map { ((max[$0] + min[$0]) / 2 * 10).rounded(.down) / 10 }
        for day in 0..<5 {
            for (column, value) in [("D", max[day]), ("E", min[day]), ("F", mids[day])] {
                add(value, row: day + 1, label: "\(day + 1)", column: column)
            }
        }
        for (column, values) in [("D", max), ("E", min), ("F", mids)] {
            add(values.reduce(0, +), row: 6, label: "Tot.", column: column)
        }
        for (column, values) in [("D", max), ("E", min), ("F", mids)] {
            add((values.reduce(0, +) / 5 * 10).rounded() / 10, row: 7, label: "Moy.", column: column)
        }
        return (readings, positions, truth)
    }

    let layout = TableLayout(relations: [.init(.midrange, ["D", "E", "F"])], learnRelations: false)

    func index(_ table: (readings: [CellReading], positions: [TablePosition?], truth: [String]), row: Int, column: String) -> Int {
        table.positions.firstIndex { $0?.row == row && $0?.column == column }!
    }

    func testTheFixtureReadsAsWrittenWithEveryCheckHeld() {
        let table = pentad()
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: layout, reviewThreshold: 0.9)
        XCTAssertEqual(outcome.broken, 0)
        XCTAssertEqual(outcome.readings.map(\.value), table.truth)
        XCTAssertFalse(outcome.readings.contains { $0.checksDoubted.contains(CellReading.derivedDoubt) })
    }

    /// 508's mean row cut one column off: the max's crop blank but for a rule (read 411.1,
    /// unsure), the min's showing the max's mean, the mean column's the min's, both surely read.
    /// No reading of theirs meets a check; the totals and the row's midrange give all three.
    func testAMeanRowCutOneColumnOffIsDerivedFromTheTotals() {
        var table = pentad()
        let (d, e, f) = (index(table, row: 7, column: "D"), index(table, row: 7, column: "E"), index(table, row: 7, column: "F"))
        table.readings[d] = reading("411.1", probability: 0.45)
        table.readings[e] = reading(table.truth[d])
        table.readings[f] = reading(table.truth[e])
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: layout, reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings.map(\.value), table.truth)
        for (cell, read) in [(d, "411.1"), (e, table.truth[d]), (f, table.truth[e])] {
            XCTAssertEqual(outcome.readings[cell].uncheckedValue, read)
            XCTAssertEqual(outcome.readings[cell].flag, .review, "a derived value is a proposal")
            XCTAssertTrue(outcome.readings[cell].checksDoubted.contains(CellReading.derivedDoubt))
            XCTAssertFalse(outcome.readings[cell].verified)
        }
        // 411.1 became a value of three digits: the point moves with it, and no digit is the network's.
        XCTAssertEqual(outcome.readings[d].digits.count, 3)
        XCTAssertEqual(outcome.readings[d].separatorAfter, 2)
        XCTAssertEqual(outcome.readings[d].confidence, 0)
        XCTAssertEqual(outcome.broken, 0)
        // What the sheet hypotheses weigh: each derived cell as it stood before.
        XCTAssertEqual(outcome.underived.keys.sorted(), [d, e, f])
        XCTAssertEqual(outcome.underived.keys.sorted().map { outcome.underived[$0]!.value }, ["411.1", table.truth[d], table.truth[e]])
    }

    /// 508's mean row under a misread total: the max's total read surely 165.9 (164.8), its mean
    /// 33.2 (33.0, the 0 a close runner-up) as 165.9 / 5 asks, and the min's mean surely 13.4
    /// (19.4, a 9 the network never ranked). Only the derived total brings the max's mean to
    /// 33.0, and only then does the row's midrange ask 19.4 of the min, which its own mean
    /// asks too: what the checks imply is worked out again once derived values stand.
    func testWhatADerivedValueLetsTheChecksImplyIsTaken() {
        var table = pentad()
        let (total, maxMean, minMean) = (index(table, row: 6, column: "D"), index(table, row: 7, column: "D"),
                                         index(table, row: 7, column: "E"))
        XCTAssertEqual([table.truth[total], table.truth[maxMean], table.truth[minMean]], ["164.8", "33.0", "19.4"])
        table.readings[total] = reading("165.9")
        var mean = reading("33.2")
        mean.digits[2] = DigitReading(digit: 2, probability: 0.5, alternatives: [.init(digit: 2, probability: 0.5),
                                                                                .init(digit: 0, probability: 0.45)], box: box)
        mean.confidence = 0.5
        mean.flag = .review
        table.readings[maxMean] = mean
        table.readings[minMean] = reading("13.4")
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: layout, reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings.map(\.value), table.truth)
        XCTAssertEqual(outcome.readings[total].checksDoubted, [CellReading.derivedDoubt])
        XCTAssertEqual(outcome.readings[minMean].uncheckedValue, "13.4")
        XCTAssertFalse(outcome.readings[minMean].checksDoubted.contains(CellReading.derivedDoubt), "one digit from its reading")
        XCTAssertEqual(Set(outcome.readings[minMean].checksHeld), ["mean", "midrange"])
        XCTAssertEqual(outcome.readings[minMean].flag, .review)
        XCTAssertEqual(outcome.broken, 0)

        // That search takes no derived value that did not stand: a clerk's slip on the same sheet
        // (the mean column's total written 130.9 over days that make 130.8, its crop cut to 14.2)
        // keeps its written value, as without the derived total.
        let slip = index(table, row: 6, column: "F")
        XCTAssertEqual(table.truth[slip], "130.8")
        table.truth[slip] = "130.9"
        var cut = reading("14.2", probability: 0.6)
        let opinion = reading("130.9", probability: 0.5)
        cut.secondOpinion = SecondOpinion(value: "130.9", confidence: 0.5, digits: opinion.digits, separatorAfter: opinion.separatorAfter)
        cut.readersDisagree = true
        table.readings[slip] = cut
        let slipped = TableChecks.apply(readings: table.readings, positions: table.positions, layout: layout, reviewThreshold: 0.9)
        XCTAssertEqual(slipped.readings.map(\.value), table.truth)
        XCTAssertFalse(slipped.readings[slip].checksDoubted.contains(CellReading.derivedDoubt))
        XCTAssertEqual(slipped.readings[total].checksDoubted, [CellReading.derivedDoubt])
        XCTAssertEqual(slipped.broken, 1, "the slip's total stays broken")
    }

    /// A max read surely and wrong in two digits (45.6 for 32.6): no reading of it meets a check.
    /// The block's total asks 32.6 of it, and the row's midrange, broken with 45.6, holds with it.
    func testAMaxWrongInTwoDigitsIsDerivedFromItsTotal() {
        var table = pentad()
        let max = index(table, row: 2, column: "D")
        XCTAssertEqual(table.truth[max], "32.6")
        table.readings[max] = reading("45.6")
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: layout, reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings.map(\.value), table.truth)
        XCTAssertEqual(outcome.readings[max].uncheckedValue, "45.6")
        XCTAssertEqual(outcome.readings[max].checksDoubted, [CellReading.derivedDoubt])
        XCTAssertEqual(outcome.readings[max].flag, .review)
        // Digit for digit as the network gave them: the 4 and 5 it never ranked.
        XCTAssertEqual(outcome.readings[max].digits.map(\.digit), [3, 2, 6])
        XCTAssertEqual(outcome.readings[max].digits.map(\.probability)[2], 0.99)
        XCTAssertLessThan(outcome.readings[max].confidence, 0.01)
        XCTAssertEqual(outcome.broken, 0)
    }

    /// A day whose max crop is blank (read 411.1) and whose mean column shows the max: each total
    /// gives its day's value, and the row's midrange, broken with either as read, confirms both.
    func testTwoCellsOfADayAreDerivedTogether() {
        var table = pentad()
        let (d, f) = (index(table, row: 3, column: "D"), index(table, row: 3, column: "F"))
        table.readings[d] = reading("411.1", probability: 0.45)
        table.readings[f] = reading(table.truth[d])
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: layout, reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings.map(\.value), table.truth)
        XCTAssertEqual(outcome.readings.indices.filter { outcome.readings[$0].checksDoubted.contains(CellReading.derivedDoubt) }, [d, f])
        XCTAssertEqual(outcome.readings[index(table, row: 3, column: "E")].flag, .ok, "the min read right stays verified")
    }

    /// 501's total row cut short (137.9 read 13.7) above a mean read short the same way (23.0
    /// read 2.3, the whole-cell reader seeing 23.0): the two hold together, so neither alone can
    /// move. The days' sum is derived for the total while the mean takes its other reading, in
    /// one move of the two; the row's midrange, broken with 2.3, confirms.
    func testATotalAndItsMeanReadShortTogetherAreMendedTogether() {
        var table = pentad()
        let (total, mean) = (index(table, row: 6, column: "F"), index(table, row: 7, column: "F"))
        let digits = table.truth[total].filter(\.isWholeNumber)
        let short = String(digits.dropLast().dropLast()) + "." + String(digits.dropLast().last!)
        let shortMean = String(format: "%.1f", (Double(short)! / 5 * 10).rounded() / 10)
        XCTAssertEqual(short.count, table.truth[total].count - 1)
        table.readings[total] = reading(short)
        var read = reading(shortMean)
        let opinion = reading(table.truth[mean], probability: 0.8)
        read.secondOpinion = SecondOpinion(value: table.truth[mean], confidence: 0.8, digits: opinion.digits,
                                           separatorAfter: opinion.separatorAfter)
        read.readersDisagree = true
        table.readings[mean] = read
        let asRead = TableChecks.apply(readings: table.readings, positions: table.positions, layout: layout, reviewThreshold: 0.9,
                                       correct: false)
        XCTAssertEqual(asRead.readings[mean].checksHeld, ["mean"], "the two hold together as read")
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: layout, reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings.map(\.value), table.truth)
        XCTAssertEqual(outcome.readings[total].checksDoubted, [CellReading.derivedDoubt])
        XCTAssertEqual(outcome.readings[mean].uncheckedValue, shortMean)
        XCTAssertEqual(outcome.readings[mean].flag, .review)
        XCTAssertEqual(outcome.broken, 0)
        // Both weighed by the sheet hypotheses as they stood before: the mean's reading taken with
        // the derived total is part of the derivation.
        XCTAssertEqual(outcome.underived.mapValues(\.value), [total: short, mean: shortMean])
    }

    /// A clerk's slip: a total written 0.1 above its days' sum, its crop read as a short unsure
    /// number, the whole-cell reader's unsure opinion being the written total. The days' sum
    /// meets the total, but the block's mean holds with either: one check, which any value it
    /// asks meets. The written total, taken from the second reader, stays, flagged.
    func testAClerksSlipIsNotOverwrittenByTheDaysSum() {
        var table = pentad()
        let total = index(table, row: 6, column: "F")
        let sum = Double(table.truth[total])!
        let written = String(format: "%.1f", sum + 0.1)
        XCTAssertEqual((sum / 5 * 10).rounded(), ((sum + 0.1) / 5 * 10).rounded(), "the mean holds either way")
        table.truth[total] = written
        var read = reading("14.2", probability: 0.6)
        let opinion = reading(written, probability: 0.5)
        read.secondOpinion = SecondOpinion(value: written, confidence: 0.5, digits: opinion.digits, separatorAfter: opinion.separatorAfter)
        read.readersDisagree = true
        table.readings[total] = read
        let outcome = TableChecks.apply(readings: table.readings, positions: table.positions, layout: layout, reviewThreshold: 0.9)
        XCTAssertEqual(outcome.readings[total].value, written)
        XCTAssertFalse(outcome.readings[total].checksDoubted.contains(CellReading.derivedDoubt))
        XCTAssertEqual(outcome.readings[total].flag, .review)
        XCTAssertEqual(outcome.broken, 1, "the slip's total stays broken")
        // The days' sum was there to be taken: derived, but only one check broken before confirmed it.
        let values = outcome.readings.map { TableNumber(text: $0.value) }
        let derived = TableChecks.derivedCandidates(
            readings: table.readings, candidates: table.readings.map { TableChecks.candidates(of: $0) }, values: { values[$0] },
            constraints: outcome.constraints, layout: layout)
        XCTAssertEqual(derived[total]?.map(\.value), [String(format: "%.1f", sum)])
    }

    /// A value one digit from the reading is the network's to weigh (`impliedCandidates`), never
    /// derived; two digits away, it is.
    func testNoValueWithinOneDigitOfTheReadingIsDerived() {
        let table = pentad()
        let total = index(table, row: 6, column: "D")
        let written = table.truth[total]
        let constraints = TableChecks.constraints(positions: table.positions, layout: layout, relations: layout.relations)
        func derived(readingTotalAs misread: String) -> [String]? {
            var readings = table.readings
            readings[total] = reading(misread, probability: 0.3)
            return TableChecks.derivedCandidates(
                readings: readings, candidates: readings.map { TableChecks.candidates(of: $0) },
                values: { TableNumber(text: readings[$0].value) }, constraints: constraints, layout: layout)[total]?.map(\.value)
        }
        func changing(_ places: [Int]) -> String {
            var characters = Array(written)
            for place in places { characters[place] = characters[place] == "9" ? "8" : "9" }
            return String(characters)
        }
        XCTAssertNil(derived(readingTotalAs: changing([1])))
        XCTAssertEqual(derived(readingTotalAs: changing([0, 1])), [written])
    }
}
