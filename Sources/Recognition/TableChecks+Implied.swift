import Foundation

extension TableChecks {
    /// The probability given to a digit the network did not rank among a place's alternatives:
    /// the probability left over by the ranked ones, shared among the other classes (at least
    /// 1e-6, as for a ranked one).
    static func unrankedProbability(_ digit: DigitReading) -> Float {
        let ranked = digit.alternatives.isEmpty ? [digit.probability] : digit.alternatives.map(\.probability)
        let others = max(1, 10 - ranked.count)
        return max(1e-6, (1 - ranked.reduce(0, +)) / Float(others))
    }

    /// Checks an implied value must mend before it is offered (`impliedCandidates`).
    public static let minimumImpliedMends = 2

    /// What a transcriber does with a broken check: works out the value it asks of a cell (a
    /// total's cell: the total less the other days; a mean column's cell: the midrange) and looks
    /// again at the digit that differs. For each check still broken after the search (`values`:
    /// the cells as corrected), each of its cells gets the values its other cells imply, when
    /// such a value is the reading with one digit changed (same digits count, same point) and
    /// mends at least `minimumImpliedMends` broken checks of the cell. One broken equation can
    /// always be met by changing some digit of one of its cells: a min that lost its leading 1
    /// (2.7 for 12.7) makes the max implied by the row's mean 26.8 for 16.8, and nothing else
    /// says so. Two checks met by the same change are the arithmetic's own evidence. The
    /// candidate's probability is the reading's with that digit's, from the network's
    /// alternatives or, when the network did not rank it, `unrankedProbability`: a total of
    /// 53.3 whose 5 was read as a sure 2 (5 not among three alternatives), which both the days'
    /// sum and the block's mean ask for, is found. The search weighs them as any other candidate.
    static func impliedCandidates(readings: [CellReading], values: (Int) -> TableNumber?, constraints: [TableConstraint],
                                  byCell: [[Int]], layout: TableLayout) -> [Int: [Candidate]] {
        var result: [Int: [Candidate]] = [:]
        for constraint in constraints where [.total, .midrange, .sum].contains(constraint.kind) {
            guard constraint.holds(values, layout: layout) == false else { continue }
            let numbers = constraint.cells.map(values)
            guard numbers.allSatisfy({ $0 != nil }) else { continue }
            let v = numbers.map { $0!.value }
            let unit = TableConstraint.unit(decimals: numbers.map { $0!.decimals }.max() ?? 0)
            for (k, cell) in constraint.cells.enumerated() {
                guard let asked = askedValue(constraint, at: k, values: v) else { continue }
                var implied: [Double] = [asked]
                if constraint.kind == .midrange {
                    // columns: a, b, c = (a + b) / 2 to the written rounding.
                    if k == 2 {
                        let half = asked / unit
                        implied = [(half + 1e-6).rounded(.down) * unit, (half - 1e-6).rounded(.up) * unit]
                    } else {
                        implied = [-unit, 0, unit].map { asked + $0 }
                    }
                }
                for candidate in implied.compactMap({ oneDigitChange(of: readings[cell], to: $0) })
                where !result[cell, default: []].contains(where: { $0.value == candidate.value }) {
                    let taken = TableNumber(text: candidate.value)
                    func trial(_ index: Int) -> TableNumber? { index == cell ? taken : values(index) }
                    let mended = byCell[cell].filter {
                        constraints[$0].holds(values, layout: layout) == false && constraints[$0].holds(trial, layout: layout) == true
                    }
                    if mended.count >= minimumImpliedMends { result[cell, default: []].append(candidate) }
                }
            }
        }
        return result
    }

    /// The value a check's other cells `values` ask of its `k`th cell, before the written
    /// rounding: a total's day, the total less the other days; a total, the days' sum; a mean,
    /// the total over its days; a midrange's mean column, (a + b) / 2, and its a, 2c - b (c being
    /// rounded, a may be a unit either side); a sum's cell, what the other two make. nil where the
    /// check does not ask (a total asked of its mean, inequalities, ranges).
    static func askedValue(_ constraint: TableConstraint, at k: Int, values v: [Double]) -> Double? {
        switch constraint.kind {
        case .total:
            let others = v.indices.filter { $0 != k && $0 != v.count - 1 }.map { v[$0] }.reduce(0, +)
            return k == v.count - 1 ? others : v[v.count - 1] - others
        case .mean:
            return k == 1 && constraint.count > 0 ? v[0] / Double(constraint.count) : nil
        case .midrange:
            return k == 2 ? (v[0] + v[1]) / 2 : 2 * v[2] - v[1 - k]
        case .sum:
            return k == 2 ? v[0] + v[1] : v[2] - v[1 - k]
        case .atLeast, .range:
            return nil
        }
    }

    /// `value` as the reading's digits with exactly one changed (same count, same point), with
    /// its probability; nil otherwise.
    static func oneDigitChange(of reading: CellReading, to value: Double) -> Candidate? {
        guard !reading.digits.isEmpty, reading.flag != .empty, reading.flag != .unreadable, value.isFinite,
              (value < 0) == reading.value.hasPrefix("-") else { return nil }
        let decimals = reading.separatorAfter.map { reading.digits.count - $0 } ?? 0
        let text = String(format: "%.\(decimals)f", abs(value))
        // Fewer digits than the reading: leading zeros, as the network's alternatives would give
        // them (8.5 for a reading of 07.5 changes its 7; 7.3 for 17.3 reads its 1 as 0).
        let digits = TableChecks.digits(of: text, paddedTo: reading.digits.count)
        guard digits.count == reading.digits.count,
              abs(Double(digits.reduce(0) { $0 * 10 + $1 }) / pow(10, Double(decimals)) - abs(value)) < 1e-3 * pow(10, -Double(decimals))
        else { return nil }
        let changed = digits.indices.filter { digits[$0] != reading.digits[$0].digit }
        guard changed.count == 1, let place = changed.first else { return nil }
        var logProbability = 0.0
        for (index, digit) in reading.digits.enumerated() {
            let probability = index == place
                ? digit.alternatives.first { $0.digit == digits[index] }?.probability ?? unrankedProbability(digit)
                : digit.probability
            logProbability += log(max(Double(probability), 1e-6))
        }
        let sign = reading.value.hasPrefix("-") ? "-" : ""
        return Candidate(value: sign + CellReader.value(digits: digits, separatorAfter: reading.separatorAfter),
                         logProbability: logProbability, source: 0)
    }
}
