import Foundation

extension TableChecks {
    /// Cells of one sheet whose two readings differ in one and the same digit (the leading
    /// reading's a where the second opinion has b) before the second reader is tried in all of
    /// them together.
    public static let minimumSharedDisagreements = 2
    /// Checks, broken as read, that one and the same digit change (a read where b was written)
    /// would mend, before that change is tried as the writer's confusion.
    public static let minimumConfusionChecks = 2
    /// Under a writer-confusion hypothesis, the cost in nats of reading b where the network read a
    /// (b among the digit's alternatives): b is taken to be a quarter as likely as a.
    public static let writerConfusionCost = log(4.0)
    /// The prior cost, in nats, of a writer-confusion hypothesis: as much as a broken check, so it
    /// must mend more than one check's worth of the sheet.
    public static let writerConfusionPrior = brokenConstraintCost
    /// Hypotheses tried per sheet, the strongest first. Each costs a search of the whole sheet
    /// again; a sheet read badly enough offers dozens (64 on a photographed sheet read 60% right,
    /// five minutes of checks), none of which the development sheets needed past their fifth.
    public static let maximumHypothesesPerSheet = 12

    /// Something a sheet's writer may do to the readers that the correction search, which moves
    /// one cell or one small check's cells at a time, cannot find.
    enum SheetHypothesis: Equatable {
        /// The second reader is right in all these cells, where the two disagree by the same digit
        /// (a writer's 3 the whole-cell reader reads, surely, as 7). Cell by cell the surer, wrong
        /// reader leads; the search fits each row's unsure mean to the wrong min, and is then stuck
        /// with the mins' total broken, which no single move mends.
        case secondReader(cells: [Int])
        /// On `sheet`, the network reads the writer's `written` as `read` (a closed 4 read as a
        /// sure 9 by both readers): every such digit may be `written` at `writerConfusionCost`.
        /// Row by row, fitting a mean to the misread min costs about as much as the min's own
        /// unlikely runner-up; only the whole sheet shows which one digit explains every row.
        case writerConfusion(sheet: String, read: Int, written: Int)
    }

    /// Each hypothesis (the second-reader groups, then the confusions, each the largest first) is
    /// tried on top of those already kept: the readings
    /// changed as it says, the sheet searched again, and the result kept when the sheet costs
    /// less (`sheetCost`, the search's own measure, plus `writerConfusionPrior` per confusion).
    /// A second reader's cell pays the second-opinion cost, the prior that the surer reader is
    /// right; only checks mended outweigh it, so a group of unchecked cells alone is never taken.
    /// Cells changed stay flagged (`uncheckedValue` holds their reading) and, as for any
    /// correction, the checks they are in verify no cell. Every digit keeps the network's
    /// probabilities in the output, whatever a hypothesis assumed.
    static func testingSheetHypotheses(readings: [CellReading], positions: [TablePosition?], layout: TableLayout,
                                       reviewThreshold: Float, checked: Outcome) -> Outcome {
        let hypotheses = sheetHypotheses(readings: readings, positions: positions, constraints: checked.constraints, layout: layout)
        guard !hypotheses.isEmpty else { return checked }
        func prior(_ kept: [SheetHypothesis]) -> Double {
            Double(kept.filter { if case .writerConfusion = $0 { return true } else { return false } }.count) * writerConfusionPrior
        }
        var best = checked
        // Weighed as the search left them before deriving values (`Outcome.underived`): a
        // derived value mends checks at a fixed cost, which would make any hypothesis that lets
        // one stand look cheaper (a second reader's 19.0 in one min lets its neighbour's 18.9 be
        // derived as 17.8).
        func weighed(_ outcome: Outcome) -> [CellReading] {
            var readings = outcome.readings
            for (cell, reading) in outcome.underived { readings[cell] = reading }
            return readings
        }
        var bestCost = sheetCost(weighed(best), original: readings, constraints: checked.constraints, layout: layout)
        var kept: [SheetHypothesis] = []
        var assumed = readings
        for hypothesis in hypotheses {
            let trial = kept + [hypothesis]
            let input = assuming(trial, readings: readings, positions: positions)
            let outcome = checkAndCorrect(readings: input.readings, positions: positions, layout: layout, reviewThreshold: reviewThreshold,
                                          correct: true, taken: input.taken, asRead: readings)
            let cost = sheetCost(weighed(outcome), original: readings, constraints: checked.constraints, layout: layout) + prior(trial)
            if cost < bestCost - 1e-9 {
                best = outcome
                bestCost = cost
                kept = trial
                assumed = input.readings
            }
        }
        guard !kept.isEmpty else { return checked }
        for index in readings.indices where assumed[index] != readings[index] {
            var reading = restoringProbabilities(best.readings[index], read: readings[index])
            if reading.value == readings[index].value {
                // Searched back to its own reading: as it was read, second opinion included.
                reading.secondOpinion = readings[index].secondOpinion
                if reading.uncheckedValue != nil { best.corrected -= 1 }
                reading.uncheckedValue = nil
            } else if reading.uncheckedValue == nil {
                reading.uncheckedValue = readings[index].value
                best.corrected += 1
            } else {
                reading.uncheckedValue = readings[index].value
            }
            reading.flag = reading.flag(atThreshold: reviewThreshold)
            best.readings[index] = reading
        }
        // The cells changed are the sheet's writer's confusions too: their digit is doubted elsewhere.
        doubtWriterConfusions(&best.readings, positions: positions, reviewThreshold: reviewThreshold)
        return best
    }

    /// The hypotheses `testingSheetHypotheses` tries, in order: the second-reader groups, then the
    /// writer confusions, each the largest first, at most `maximumHypothesesPerSheet` a sheet.
    static func sheetHypotheses(readings: [CellReading], positions: [TablePosition?], constraints: [TableConstraint],
                                layout: TableLayout) -> [SheetHypothesis] {
        var triedPerSheet: [String: Int] = [:]
        return (secondReaderHypotheses(readings: readings, positions: positions)
            + writerConfusionHypotheses(readings: readings, positions: positions, constraints: constraints, layout: layout))
            .filter { hypothesis in
                let sheet: String
                switch hypothesis {
                case .secondReader(let cells): sheet = cells.first.flatMap { positions[$0]?.sheet } ?? ""
                case .writerConfusion(let name, _, _): sheet = name
                }
                triedPerSheet[sheet, default: 0] += 1
                return triedPerSheet[sheet]! <= maximumHypothesesPerSheet
            }
    }

    /// Groups of at least `minimumSharedDisagreements` cells of a sheet where the leading reading
    /// has a and the second opinion b in the same place, and nowhere else differs; largest first.
    static func secondReaderHypotheses(readings: [CellReading], positions: [TablePosition?]) -> [SheetHypothesis] {
        var groups: [String: [Int]] = [:]
        for (index, reading) in readings.enumerated() {
            guard let sheet = positions[index]?.sheet, reading.readersDisagree, let opinion = reading.secondOpinion,
                  reading.flag != .empty, reading.flag != .unreadable, opinion.digits.count == reading.digits.count,
                  opinion.value.count == reading.value.count else { continue }
            let differing = zip(reading.value, opinion.value).filter { $0.0 != $0.1 }
            guard differing.count == 1, let a = differing[0].0.wholeNumberValue, let b = differing[0].1.wholeNumberValue else { continue }
            groups["\(sheet)\u{1F}\(a)\(b)", default: []].append(index)
        }
        // Ties in key order, so the outcome does not depend on hashing.
        return groups.filter { $0.value.count >= minimumSharedDisagreements }
            .sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
            .map { .secondReader(cells: $0.value) }
    }

    /// Per sheet, the digit changes (a read, b among its alternatives) that would each mend at
    /// least `minimumConfusionChecks` checks broken as read, changed in one cell of the check;
    /// those mending most first.
    static func writerConfusionHypotheses(readings: [CellReading], positions: [TablePosition?], constraints: [TableConstraint],
                                          layout: TableLayout) -> [SheetHypothesis] {
        let numbers = readings.map(number(of:))
        var mended: [String: (sheet: String, read: Int, written: Int, checks: Set<Int>)] = [:]
        for (index, constraint) in constraints.enumerated() where constraint.verifies && constraint.holds({ numbers[$0] }, layout: layout) == false {
            for cell in constraint.cells {
                let reading = readings[cell]
                guard let sheet = positions[cell]?.sheet, numbers[cell] != nil else { continue }
                for (place, digit) in reading.digits.enumerated() {
                    for alternative in digit.alternatives where alternative.digit != digit.digit {
                        var digits = reading.digits.map(\.digit)
                        digits[place] = alternative.digit
                        let text = (reading.value.hasPrefix("-") ? "-" : "") + CellReader.value(digits: digits, separatorAfter: reading.separatorAfter)
                        let changed = TableNumber(text: text)
                        guard constraint.holds({ $0 == cell ? changed : numbers[$0] }, layout: layout) == true else { continue }
                        let key = "\(sheet)\u{1F}\(digit.digit)\(alternative.digit)"
                        mended[key, default: (sheet, digit.digit, alternative.digit, [])].checks.insert(index)
                    }
                }
            }
        }
        return mended.filter { $0.value.checks.count >= minimumConfusionChecks }
            .sorted { $0.value.checks.count != $1.value.checks.count ? $0.value.checks.count > $1.value.checks.count : $0.key < $1.key }
            .map { .writerConfusion(sheet: $0.value.sheet, read: $0.value.read, written: $0.value.written) }
    }

    /// The readings as `hypotheses` have them, and the cells whose reading is the second reader's.
    static func assuming(_ hypotheses: [SheetHypothesis], readings: [CellReading],
                         positions: [TablePosition?]) -> (readings: [CellReading], taken: Set<Int>) {
        var input = readings
        var taken = Set<Int>()
        for case let .secondReader(cells) in hypotheses {
            for index in cells { input[index] = swappingSecondOpinion(readings[index]) }
            taken.formUnion(cells)
        }
        for case let .writerConfusion(sheet, read, written) in hypotheses {
            let likelihood = Float(exp(-writerConfusionCost))
            for index in input.indices where positions[index]?.sheet == sheet {
                for place in input[index].digits.indices where input[index].digits[place].digit == read {
                    var digit = input[index].digits[place]
                    if let k = digit.alternatives.firstIndex(where: { $0.digit == written }) {
                        digit.alternatives[k].probability = max(digit.alternatives[k].probability, digit.probability * likelihood)
                        input[index].digits[place] = digit
                    }
                }
            }
        }
        return (input, taken)
    }

    /// `reading` (the checks' outcome for a cell a hypothesis changed) with each digit at the
    /// network's probabilities of `read` or, for a second reader's digits, of its opinion.
    static func restoringProbabilities(_ reading: CellReading, read: CellReading) -> CellReading {
        let sources = [read.digits, read.secondOpinion?.digits ?? []].filter { $0.map(\.box) == reading.digits.map(\.box) }
        guard let source = sources.first else { return reading }
        var restored = reading
        for place in restored.digits.indices {
            let network = source[place].alternatives
            restored.digits[place].alternatives = network
            if let own = network.first(where: { $0.digit == restored.digits[place].digit }) {
                restored.digits[place].probability = own.probability
            }
        }
        restored.confidence = restored.digits.map(\.probability).min() ?? reading.confidence
        return restored
    }

    /// The reading with its second opinion leading and its own value as the second opinion.
    static func swappingSecondOpinion(_ reading: CellReading) -> CellReading {
        guard let opinion = reading.secondOpinion else { return reading }
        var swapped = reading
        swapped.value = opinion.value
        swapped.digits = opinion.digits
        swapped.separatorAfter = opinion.separatorAfter
        swapped.confidence = opinion.confidence
        swapped.secondOpinion = SecondOpinion(value: reading.value, confidence: reading.confidence, digits: reading.digits,
                                              separatorAfter: reading.separatorAfter)
        return swapped
    }

    /// What the correction search minimises, for whole sets of readings: each cell's digits'
    /// -log probabilities, plus `secondOpinionCost` (or `recutOpinionCost`) where the cell holds
    /// another reader's (or a recut's) digits instead of its own, plus `brokenConstraintCost` per
    /// broken check. `original`: the readings as read, to tell whose digits a cell holds.
    static func sheetCost(_ readings: [CellReading], original: [CellReading], constraints: [TableConstraint],
                          layout: TableLayout) -> Double {
        var total = 0.0
        for (reading, read) in zip(readings, original) where !reading.digits.isEmpty && reading.flag != .empty && reading.flag != .unreadable {
            for digit in reading.digits { total -= log(max(Double(digit.probability), 1e-6)) }
            let digits = reading.digits.map(\.digit)
            guard digits != read.digits.map(\.digit) else { continue }
            if let opinion = read.secondOpinion, opinion.digits.map(\.digit) == digits {
                total += secondOpinionCost
            } else if read.recutOpinions.contains(where: { $0.digits.map(\.digit) == digits }) {
                total += recutOpinionCost
            }
        }
        let numbers = readings.map(number(of:))
        for constraint in constraints where constraint.holds({ numbers[$0] }, layout: layout) == false {
            total += brokenConstraintCost
        }
        return total
    }
}
