import Foundation

extension TableChecks {
    /// `Candidate.source` of a value the sheet's arithmetic derived (`derivedCandidates`), not read.
    public static let derivedSource = -1
    /// The cost, in nats, of a cell taking a derived value in the search: a little under a broken
    /// check, so that two derived together that mend two checks (a total read 13.7 for 137.9 and
    /// its row's mean column) pay. What stands is decided after the search
    /// (`keepingConfirmedDerivations`): a value that mends one check alone never does.
    public static let derivedValueCost = brokenConstraintCost - 1

    /// What a transcriber writes where the ink cannot be the value: the crop of a mean row that
    /// shows its neighbour's number (a grid cut one column off: 508's F42 shows D42's 32.4, E46
    /// D46's 32.3), a blank crop read as 411.1. No reading of such a cell, one digit changed or
    /// not, meets its checks; the arithmetic alone says what it holds. For each check still broken
    /// after the search (`values`: the cells as corrected), each of its read cells gets the value
    /// its other cells determine, to the written rounding (a total's day: the total less the other
    /// days; a total: the days' sum; a mean: the total over its days; a mean column: (max + min)
    /// / 2; a sum's cell), when that value is not within one digit of the reading (those are the
    /// network's to weigh, `impliedCandidates`), not outside the column's range, and not already
    /// a candidate. A max or a min asked by its row's midrange is not: c's rounding leaves it a
    /// unit either way. Each costs `derivedValueCost` in the search, whatever its digits; a cell
    /// that takes one is never verified and goes to review with `derivedDoubt`.
    static func derivedCandidates(readings: [CellReading], candidates: [[Candidate]], values: (Int) -> TableNumber?,
                                  constraints: [TableConstraint], layout: TableLayout) -> [Int: [Candidate]] {
        var result: [Int: [Candidate]] = [:]
        var ranges: [Int: [TableConstraint]] = [:]
        for constraint in constraints where constraint.kind == .range { ranges[constraint.cells[0], default: []].append(constraint) }
        for constraint in constraints where constraint.verifies {
            guard constraint.holds(values, layout: layout) == false else { continue }
            let numbers = constraint.cells.map(values)
            guard numbers.allSatisfy({ $0 != nil }) else { continue }
            let v = numbers.map { $0!.value }
            let decimals = numbers.map { $0!.decimals }.max() ?? 0
            let unit = TableConstraint.unit(decimals: decimals)
            for (k, cell) in constraint.cells.enumerated() {
                let reading = readings[cell]
                guard !candidates[cell].isEmpty, reading.flag != .empty, reading.flag != .unreadable,
                      !(constraint.kind == .midrange && k < 2),
                      let asked = askedValue(constraint, at: k, values: v), asked.isFinite else { continue }
                // The nearest value to the written rounding (both where it falls halfway), within
                // the column's range: a min derived as 8.0 in a column of 18s is no value to propose.
                let options = [(asked / unit + 1e-6).rounded(.down), (asked / unit - 1e-6).rounded(.up)]
                    .map { $0 * unit }
                    .filter { option in
                        let number = TableNumber(value: option, decimals: decimals)
                        return constraint.holds({ $0 == cell ? number : values($0) }, layout: layout) == true
                            && ranges[cell, default: []].allSatisfy { $0.bounds?.contains(option) ?? true }
                    }
                let nearest = options.map { abs($0 - asked) }.min() ?? 0
                for option in options.filter({ abs($0 - asked) <= nearest + 1e-6 * unit }).sorted(by: >) {
                    let text = String(format: "%.\(decimals)f", abs(option) < unit / 2 ? 0 : option)
                    guard oneDigitChange(of: reading, to: option) == nil,
                          !candidates[cell].contains(where: { $0.value == text }),
                          !result[cell, default: []].contains(where: { $0.value == text }) else { continue }
                    result[cell, default: []].append(Candidate(value: text, logProbability: -derivedValueCost, source: derivedSource))
                }
            }
        }
        return result
    }

    /// The derived values the search took stand only where at least `minimumConfirmingChecks`
    /// checks hold with them that break with the cell as read and as it stood before
    /// (`underived`). One equation is met by whatever value it asks: a clerk's slip (a total
    /// written 119.2 over days that make 119.1, read from a crop whose two 1s ran together) is one
    /// broken check whose every cell is right, and the block's mean, 23.8 with either total, says
    /// nothing. The other cells the search changed with them (a mean read 2.3, taking its
    /// reading 23.0 when its total's 137.9 is derived) keep their change only where they share a
    /// check with a derived value that stands; the rest go back to how they stood. Repeated
    /// until every derived value left has its checks.
    static func keepingConfirmedDerivations(_ search: inout CorrectionSearch, underived: [Int]) {
        var kept = search.choice.indices.filter(search.takesDerivedValue)
        let moved = search.choice.indices.filter { search.choice[$0] != underived[$0] && !kept.contains($0) }
        while true {
            var choice = underived
            for cell in kept { choice[cell] = search.choice[cell] }
            let keptSet = Set(kept)
            for cell in moved where search.byCell[cell].contains(where: { search.constraints[$0].cells.contains(where: keptSet.contains) }) {
                choice[cell] = search.choice[cell]
            }
            let trial = CorrectionSearch(candidates: search.candidates, numbers: search.numbers, constraints: search.constraints,
                                         byCell: search.byCell, layout: search.layout, choice: choice)
            func confirming(_ cell: Int) -> Int {
                trial.byCell[cell].filter { index in
                    let constraint = trial.constraints[index]
                    guard constraint.verifies, constraint.holds({ trial.value($0) }, layout: trial.layout) == true else { return false }
                    return Set([0, underived[cell]]).allSatisfy { before in
                        constraint.holds({ $0 == cell ? trial.numbers[cell][before] : trial.value($0) }, layout: trial.layout) == false
                    }
                }.count
            }
            let standing = kept.filter { confirming($0) >= minimumConfirmingChecks }
            if standing.count == kept.count {
                search.choice = choice
                return
            }
            kept = standing
        }
    }

    /// `reading` taking a derived `value`: its digits where the count is the same (each changed
    /// one at the network's probability for it, as any correction), otherwise the value's digits
    /// at probability 0 over the reading's ink (what a reviewer is shown), and the point where the
    /// value has it.
    static func deriving(_ value: String, in reading: CellReading) -> CellReading {
        var changed = reading
        changed.uncheckedValue = reading.value
        changed.value = value
        let digits = value.compactMap(\.wholeNumberValue)
        if digits.count == reading.digits.count {
            changed.digits = correctedDigits(reading.digits, value: value)
        } else {
            let ink = CutCell.Box.enclosing(reading.digits.map(\.box)) ?? CutCell.Box(minX: 0, minY: 0, maxX: 0, maxY: 0)
            changed.digits = digits.map { DigitReading(digit: $0, probability: 0, alternatives: [], box: ink) }
        }
        changed.separatorAfter = value.firstIndex(of: ".").map { value[..<$0].filter(\.isWholeNumber).count }
        changed.confidence = changed.digits.map(\.probability).min() ?? 0
        return changed
    }
}

extension CorrectionSearch {
    /// Whether `cell`'s chosen candidate is a derived value (`TableChecks.derivedCandidates`).
    func takesDerivedValue(_ cell: Int) -> Bool {
        !candidates[cell].isEmpty && candidates[cell][choice[cell]].source == TableChecks.derivedSource
    }
}
