import Foundation

extension TableChecks {
    /// Cells of one sheet whose two readings differ in one and the same digit (the leading
    /// reading's a where the second opinion has b) before the second reader is tried in all of
    /// them together (`trustingSecondReader`).
    public static let minimumSharedDisagreements = 2

    /// A writer's digit one reader misreads, surely, every time it appears (a 3 the whole-cell
    /// reader takes for a 7 on one sheet) leaves that sheet with several cells where the readers
    /// disagree the same way. Cell by cell the surer, wrong reader leads, and the search, which
    /// moves one cell or one small check's cells at a time, fits each row's unsure mean to its
    /// wrong min and is then stuck with the mins' total broken: no single move mends it. So each
    /// such group of cells is taken as a whole under the second reader's word, the sheet searched
    /// again from there, and the result kept when the sheet costs less (`sheetCost`, the search's
    /// own measure). Each cell taken pays the second-opinion cost, the prior that the surer reader
    /// is right, and only checks the group mends outweigh it: a group of unchecked columns alone
    /// is never taken. Taken cells stay flagged (`uncheckedValue` holds the reading they had) and,
    /// as for any correction, the checks they are in verify no cell.
    static func trustingSecondReader(readings: [CellReading], positions: [TablePosition?], layout: TableLayout,
                                     reviewThreshold: Float, checked: Outcome) -> Outcome {
        var groups: [String: [Int]] = [:]
        for (index, reading) in readings.enumerated() {
            guard let sheet = positions[index]?.sheet, reading.readersDisagree, let opinion = reading.secondOpinion,
                  reading.flag != .empty, reading.flag != .unreadable, opinion.digits.count == reading.digits.count,
                  opinion.value.count == reading.value.count else { continue }
            let differing = zip(reading.value, opinion.value).filter { $0.0 != $0.1 }
            guard differing.count == 1, let a = differing[0].0.wholeNumberValue, let b = differing[0].1.wholeNumberValue else { continue }
            groups["\(sheet)\u{1F}\(a)\(b)", default: []].append(index)
        }
        // Largest groups first; ties in key order, so the outcome does not depend on hashing.
        let tried = groups.filter { $0.value.count >= minimumSharedDisagreements }
            .sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
        guard !tried.isEmpty else { return checked }
        var best = checked
        var bestCost = sheetCost(best.readings, original: readings, constraints: checked.constraints, layout: layout)
        var taken = Set<Int>()
        for (_, cells) in tried {
            let trial = taken.union(cells)
            var input = readings
            for index in trial { input[index] = swappingSecondOpinion(readings[index]) }
            let outcome = checkAndCorrect(readings: input, positions: positions, layout: layout, reviewThreshold: reviewThreshold,
                                          correct: true, taken: trial)
            let cost = sheetCost(outcome.readings, original: readings, constraints: checked.constraints, layout: layout)
            if cost < bestCost - 1e-9 {
                best = outcome
                bestCost = cost
                taken = trial
            }
        }
        for index in taken {
            if best.readings[index].value == readings[index].value {
                // Searched back to its own reading: the second opinion is the other reader's again.
                best.readings[index].secondOpinion = readings[index].secondOpinion
                best.readings[index].uncheckedValue = nil
                best.corrected -= 1
            } else if best.readings[index].uncheckedValue == nil {
                best.readings[index].uncheckedValue = readings[index].value
                best.corrected += 1
            }
            best.readings[index].flag = best.readings[index].flag(atThreshold: reviewThreshold)
        }
        // The cells taken are the sheet's writer's confusions too: their digit is doubted elsewhere.
        doubtWriterConfusions(&best.readings, positions: positions, reviewThreshold: reviewThreshold)
        return best
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
        let numbers = readings.map { $0.flag == .empty || $0.digits.isEmpty ? nil : TableNumber(text: $0.value) }
        for constraint in constraints where constraint.holds({ numbers[$0] }, layout: layout) == false {
            total += brokenConstraintCost
        }
        return total
    }
}
