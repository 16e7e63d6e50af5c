import Foundation

/// Where a read cell sits in its table: enough to know which cells a sheet's arithmetic ties together.
public struct TablePosition: Sendable, Equatable, Hashable {
    /// The page or sheet; checks never cross sheets.
    public var sheet: String
    /// The row's index on the sheet (top to bottom), the same for every cell of the row.
    public var row: Int
    /// The row's printed label ("1", "Tot.", "Moy."), if known.
    public var rowLabel: String
    public var column: String

    public init(sheet: String, row: Int, rowLabel: String, column: String) {
        self.sheet = sheet
        self.row = row
        self.rowLabel = rowLabel
        self.column = column
    }
}

/// The arithmetic a climate sheet's layout promises: rows that total or average the rows above
/// them, and columns tied to each other (a daily maximum is not below the minimum; the mean
/// column is (max + min) / 2). Column relations may be declared or learnt from the readings.
public struct TableLayout: Sendable, Equatable, Codable {
    public enum RelationKind: String, Sendable, Codable, CaseIterable {
        /// columns[0] >= columns[1] (a maximum and its minimum).
        case atLeast = "at-least"
        /// columns[2] = (columns[0] + columns[1]) / 2, rounded to the column's decimals.
        case midrange
        /// columns[2] = columns[0] + columns[1].
        case sum
    }

    public struct Relation: Sendable, Equatable, Codable, CustomStringConvertible {
        public var kind: RelationKind
        public var columns: [String]
        public init(_ kind: RelationKind, _ columns: [String]) {
            self.kind = kind
            self.columns = columns
        }
        public var description: String {
            switch kind {
            case .atLeast: return "\(columns[0]) >= \(columns[1])"
            case .midrange: return "\(columns[2]) = (\(columns[0]) + \(columns[1])) / 2"
            case .sum: return "\(columns[2]) = \(columns[0]) + \(columns[1])"
            }
        }
    }

    /// Row labels (compared in lower case without dots and spaces) of rows holding the total of
    /// the data rows since the previous total row, and of rows holding that total's mean.
    public var totalRowLabels: [String]
    public var meanRowLabels: [String]
    /// Declared column relations.
    public var relations: [Relation]
    /// Learn midrange and sum relations between columns from the readings themselves
    /// (`TableChecks.learnRelations`).
    public var learnRelations: Bool
    /// Let the arithmetic choose each column's decimals (`TableChecks.chooseColumnDecimals`).
    public var chooseDecimals: Bool = true
    /// Find total and mean rows from the numbers on sheets whose cells come without row labels
    /// (`TableChecks.labellingTotalRows`).
    public var inferTotalRows: Bool = true
    /// Tolerances in units of the last decimal shown (0.1 for 28.7), so that the checks do not
    /// depend on where the point is: sums match to rounding (half a unit), means may be rounded
    /// or cut (a unit below, half a unit above: `meanExcessTolerance`), a midrange rounds to half a unit.
    public var totalTolerance: Double
    public var meanTolerance: Double
    public var relationTolerance: Double
    /// How far above its total over the count a mean may be, in units: half a unit, as rounding
    /// leaves it (`TableConstraint.meanHolds`; `meanTolerance` is how far below a cut mean may be).
    public var meanExcessTolerance: Double = 0.51
    /// A data cell further than this many robust deviations from the median of its column's
    /// readings breaks the column's range (`TableChecks.rangeConstraints`): 101.8 in a column of
    /// pressures near 1012 lost a digit. nil: no range checks.
    public var rangeDeviations: Double? = 6
    /// A cell that only checks holding to rounding verify (a midrange, a mean) keeps its last
    /// digit's doubt (`CellReading.roundingDoubtThreshold`): where its column has a total that did
    /// not pin it, and in a mean row, it is flagged when that digit's probability is below this; on a sheet without
    /// totals, below the review threshold. nil: such checks verify every digit. 0.96 is the least
    /// that leaves the held-out dev stations' unflagged cells 99.5% right (leave-one-station-out;
    /// 0.95 leaves 17.1 for 17.0 unflagged, its column's total broken, its row's midrange holding,
    /// its last digit at 0.952).
    public var roundingDoubtThreshold: Float? = 0.96

    public init(totalRowLabels: [String] = ["tot", "total", "totaux", "totals", "sum", "somme"],
                meanRowLabels: [String] = ["moy", "moyenne", "moyennes", "mean", "means", "avg", "average"],
                relations: [Relation] = [], learnRelations: Bool = true,
                totalTolerance: Double = 0.51, meanTolerance: Double = 1.01, relationTolerance: Double = 0.51) {
        self.totalRowLabels = totalRowLabels
        self.meanRowLabels = meanRowLabels
        self.relations = relations
        self.learnRelations = learnRelations
        self.totalTolerance = totalTolerance
        self.meanTolerance = meanTolerance
        self.relationTolerance = relationTolerance
    }

    /// No checks at all.
    public static let none: TableLayout = {
        var layout = TableLayout(totalRowLabels: [], meanRowLabels: [], relations: [], learnRelations: false)
        layout.chooseDecimals = false
        layout.rangeDeviations = nil
        layout.inferTotalRows = false
        layout.roundingDoubtThreshold = nil
        return layout
    }()

    static func normalizedLabel(_ label: String) -> String {
        label.lowercased().filter { $0 != "." && $0 != " " && $0 != ":" }
    }
    func isTotal(_ label: String) -> Bool { totalRowLabels.map(Self.normalizedLabel).contains(Self.normalizedLabel(label)) }
    func isMean(_ label: String) -> Bool { meanRowLabels.map(Self.normalizedLabel).contains(Self.normalizedLabel(label)) }
}

/// A read number and the decimals it was written with (28.7: 1), which set the rounding the checks allow.
public struct TableNumber: Sendable, Equatable {
    public var value: Double
    public var decimals: Int
    public init(value: Double, decimals: Int) {
        self.value = value
        self.decimals = decimals
    }
    /// "28.7" -> (28.7, 1); nil for text that is not a number.
    public init?(text: String) {
        if let plain = TableNumber.plain(text) { self = plain; return }
        guard let value = CellEvaluation.number(text) else { return nil }
        self.value = value
        let separator = text.firstIndex { $0 == "." || $0 == "," }
        self.decimals = separator.map { text.distance(from: $0, to: text.endIndex) - 1 } ?? 0
    }

    /// The common case without Foundation (the checks parse every candidate reading of every
    /// hypothesis they try): digits, an optional leading sign and at most one '.' with digits on
    /// both sides. nil for anything else, which `init?(text:)` then reads as `CellEvaluation.number` does.
    static func plain(_ text: String) -> TableNumber? {
        var before = 0, after = 0, separator = false, first = true
        for scalar in text.unicodeScalars {
            defer { first = false }
            switch scalar {
            case "0"..."9": if separator { after += 1 } else { before += 1 }
            case "-", "+": if !first { return nil }
            case ".": if separator { return nil }; separator = true
            default: return nil
            }
        }
        guard before > 0, !separator || after > 0, let value = Double(text) else { return nil }
        return TableNumber(value: value, decimals: after)
    }

    /// The number without its point: 28.7 -> 287 (a whole number).
    public var writtenDigits: TableNumber {
        TableNumber(value: (value * pow(10, Double(decimals))).rounded(), decimals: 0)
    }
}

/// One arithmetic fact of a sheet that its readings must satisfy.
public struct TableConstraint: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case total, mean, atLeast = "at-least", midrange, sum, range
    }
    public var kind: Kind
    /// Indices of the cells involved (for a total: the data rows, then the total cell; for a
    /// mean: the total cell, then the mean cell; for relations: in the relation's column order).
    public var cells: [Int]
    /// For a mean: how many data rows the total covers.
    public var count: Int
    /// For a range: the values its cell may take.
    public var bounds: ClosedRange<Double>? = nil

    /// Equalities pin values down; an inequality or a range only rules some out.
    public var verifies: Bool { kind != .atLeast && kind != .range }
    public var description: String { "\(kind.rawValue)(\(cells.map(String.init).joined(separator: ",")))" }

    /// A midrange's (C = (A + B) / 2) or a sum's (C = A + B) test, `unit` being the last decimal's
    /// of the three values (as `holds` takes it).
    static func relationHolds(_ kind: Kind, _ a: Double, _ b: Double, _ c: Double, unit: Double, layout: TableLayout) -> Bool {
        kind == .midrange ? abs((a + b) / 2 - c) <= layout.relationTolerance * unit
            : abs(a + b - c) <= layout.relationTolerance * unit
    }

    /// A mean's test: the total over its count, rounded (half a unit either way) or cut (up to
    /// `meanTolerance` below), never more than half a unit above. The 90 written means of the
    /// development sheets are all one or the other, so a mean read a unit high (23.9 for
    /// 119.1 / 5 = 23.82, this hand's 8 read as 9) breaks its check.
    static func meanHolds(total: Double, count: Int, mean: Double, unit: Double, layout: TableLayout) -> Bool {
        let excess = mean - total / Double(count)
        return excess <= layout.meanExcessTolerance * unit && -excess <= layout.meanTolerance * unit
    }

    /// 10^-d for d decimals, as `pow` gives it (the checks ask hundreds of thousands of times).
    static let units = (0...24).map { pow(10, -Double($0)) }
    static func unit(decimals: Int) -> Double { decimals < units.count ? units[decimals] : pow(10, -Double(decimals)) }

    /// Whether the values satisfy it; nil when a value is missing.
    public func holds(_ value: (Int) -> TableNumber?, layout: TableLayout) -> Bool? {
        // The search asks this hundreds of thousands of times: no array is built. A total sums
        // its data rows in order, the last cell being the total.
        var first = 0.0, second = 0.0, third = 0.0, sum = 0.0, lastValue = 0.0
        var decimals = 0
        let last = cells.count - 1
        for (k, cell) in cells.enumerated() {
            guard let number = value(cell) else { return nil }
            decimals = max(decimals, number.decimals)
            switch k {
            case 0: first = number.value
            case 1: second = number.value
            case 2: third = number.value
            default: break
            }
            if k < last { sum += number.value } else { lastValue = number.value }
        }
        let unit = Self.unit(decimals: decimals)
        switch kind {
        case .total: return abs(sum - lastValue) <= layout.totalTolerance * unit
        case .mean: return Self.meanHolds(total: first, count: count, mean: second, unit: unit, layout: layout)
        case .atLeast: return first >= second
        case .midrange, .sum: return Self.relationHolds(kind, first, second, third, unit: unit, layout: layout)
        case .range: return bounds?.contains(first) ?? true
        }
    }
}

/// Checks read tables against their arithmetic, and uses it to correct readings: when a cell's
/// reading breaks a total or a relation and one of its next most probable readings satisfies
/// them, that reading is taken. Cells whose checks hold are verified; cells left breaking one
/// are flagged for review. This is how a transcriber works: the totals row catches a misread digit.
public enum TableChecks {
    /// Rows where all three columns have values, and the share of them that must satisfy a
    /// relation, before `learnRelations` trusts it.
    public static let minimumRowsToLearn = 5
    /// Three read numbers satisfy such an equation by chance in well under 5% of rows, so a
    /// relation holding in 40% of informative rows is the layout's even on a badly read page.
    public static let minimumAgreementToLearn = 0.4
    /// Candidate readings per cell considered when correcting.
    public static let candidatesPerCell = 12
    /// A correction is made to meet a check, so that check cannot confirm it. But a corrected
    /// cell under this many checks that hold, each with its other cells as read (at most one unsure), is
    /// one unknown under as many equations: a wrong candidate meets two independent checks only
    /// by chance (a min read 18.4 corrected to 15.4 that then meets both its row's midrange and
    /// its block's mean). Such a correction is verified, like a cell read right. Corrections that
    /// share a check (two days of one block's total) count when each is pinned by a check of its
    /// own whose other cells stand as read (its row's midrange): two unknowns under three equations.
    public static let minimumConfirmingChecks = 2
    /// The cost, in nats of reading probability, of leaving a constraint broken.
    public static let brokenConstraintCost = 8.0

    /// The constraints among cells at `positions` (nil: a cell outside any table).
    public static func constraints(positions: [TablePosition?], layout: TableLayout,
                                   relations: [TableLayout.Relation]) -> [TableConstraint] {
        var result: [TableConstraint] = []
        var bySheet: [String: [Int]] = [:]
        for (index, position) in positions.enumerated() {
            if let position { bySheet[position.sheet, default: []].append(index) }
        }
        for sheet in bySheet.keys.sorted() {
            let cells = bySheet[sheet]!
            // Column sequences: data rows, then a total row, then its mean row.
            var byColumn: [String: [Int]] = [:]
            for index in cells { byColumn[positions[index]!.column, default: []].append(index) }
            for column in byColumn.keys.sorted() {
                let ordered = byColumn[column]!.sorted { positions[$0]!.row < positions[$1]!.row }
                var dataRows: [Int] = []
                var lastTotal: (cell: Int, count: Int)? = nil
                for index in ordered {
                    let label = positions[index]!.rowLabel
                    if layout.isTotal(label) {
                        if dataRows.count >= 2 { result.append(TableConstraint(kind: .total, cells: dataRows + [index], count: dataRows.count)) }
                        lastTotal = (index, dataRows.count)
                        dataRows = []
                    } else if layout.isMean(label) {
                        if let total = lastTotal, total.count > 0 {
                            result.append(TableConstraint(kind: .mean, cells: [total.cell, index], count: total.count))
                        }
                        lastTotal = nil
                    } else {
                        dataRows.append(index)
                    }
                }
            }
            // Row relations (totals rows excluded: a total of maxima is not tied to a total of minima the same way).
            var byRow: [Int: [String: Int]] = [:]
            for index in cells where !layout.isTotal(positions[index]!.rowLabel) {
                byRow[positions[index]!.row, default: [:]][positions[index]!.column] = index
            }
            for row in byRow.keys.sorted() {
                let columns = byRow[row]!
                for relation in relations {
                    let members = relation.columns.compactMap { columns[$0] }
                    guard members.count == relation.columns.count else { continue }
                    let kind: TableConstraint.Kind
                    switch relation.kind {
                    case .atLeast: kind = .atLeast
                    case .midrange: kind = .midrange
                    case .sum: kind = .sum
                    }
                    result.append(TableConstraint(kind: kind, cells: members, count: 0))
                }
            }
        }
        return result
    }

    /// Columns whose readings cluster well away from zero (temperatures, pressures, humidity; not
    /// rain, mostly 0 or small) get a range: median +- `layout.rangeDeviations` robust deviations
    /// (1.4826 x the median absolute deviation, at least 5% of the median or
    /// `maximumRangeFloorUnits` units of the last digit, whichever is less). A misread that lost or
    /// gained a digit (101.8 for 1011.8, 90.8 for 20.8) falls far outside it; of the 456 transcribed
    /// data cells of the four dev stations none does. The range is learnt from the data rows only (a
    /// total row sums them), per sheet and column, with at least `minimumRowsForRange` values read.
    /// A mean row's cells get a range too, wider, at least half the median either way: a mean lies
    /// among its days, so a mean read a tenth of its size (2.3 for 23.0) is out of it, though it
    /// meets a total that lost a digit (13.7 for 137.9: 13.7 / 6 = 2.3), which is how such a pair
    /// outvoted the days. Nearer misreads of a mean (a min's mean 17.9 read 11.9) are left to the
    /// arithmetic, which asks the right value of them once their block's total stands.
    public static func rangeConstraints(values: [TableNumber?], positions: [TablePosition?], layout: TableLayout) -> [TableConstraint] {
        guard let deviations = layout.rangeDeviations else { return [] }
        var byColumn: [String: [Int]] = [:]
        var meansByColumn: [String: [Int]] = [:]
        for (index, position) in positions.enumerated() {
            guard let position, values[index] != nil, !layout.isTotal(position.rowLabel) else { continue }
            let key = position.sheet + "\u{1}" + position.column
            if layout.isMean(position.rowLabel) {
                meansByColumn[key, default: []].append(index)
            } else {
                byColumn[key, default: []].append(index)
            }
        }
        var result: [TableConstraint] = []
        for key in byColumn.keys.sorted() {
            let cells = byColumn[key]!
            let numbers = cells.map { values[$0]!.value }
            guard numbers.count >= minimumRowsForRange, numbers.filter({ $0 == 0 }).count * 10 <= numbers.count else { continue }
            let median = numbers.median
            let spread = 1.4826 * numbers.medianAbsoluteDeviation
            guard abs(median) > 4 * spread else { continue }
            let decimals = cells.map { Double(values[$0]!.decimals) }.median
            let scale = max(spread, min(0.05 * abs(median), Double(maximumRangeFloorUnits) * pow(10, -decimals.rounded())))
            let bounds = (median - deviations * scale)...(median + deviations * scale)
            result += cells.map { TableConstraint(kind: .range, cells: [$0], count: 0, bounds: bounds) }
            let meanReach = max(deviations * scale, abs(median) / 2)
            result += meansByColumn[key, default: []].map {
                TableConstraint(kind: .range, cells: [$0], count: 0, bounds: (median - meanReach)...(median + meanReach))
            }
        }
        return result
    }

    /// Values a column needs before it gets a range.
    public static let minimumRowsForRange = 8
    /// A column's robust deviation counts as at least 5% of its median, so that a column of
    /// near-equal values does not flag its one different day, but that floor is at most this many
    /// units of its last written digit (3 hPa for pressures read to tenths): 5% of 1013 hPa
    /// would let 1080.8 for 1010.8 pass.
    public static let maximumRangeFloorUnits = 30

    /// Column relations the readings themselves show: (A, B, C) with C = (A + B) / 2 or
    /// C = A + B in most rows where all three were read, and A >= B for the midrange's pair.
    /// By chance an equality between three read numbers almost never holds, so a relation that
    /// holds in most rows is the layout's.
    public static func learnRelations(values: [TableNumber?], positions: [TablePosition?], layout: TableLayout)
        -> [TableLayout.Relation] {
        var rows: [String: [String: TableNumber]] = [:]
        var columns = Set<String>()
        for (index, position) in positions.enumerated() {
            guard let position, let value = values[index], !layout.isTotal(position.rowLabel) else { continue }
            rows["\(position.sheet)\u{1F}\(position.row)", default: [:]][position.column] = value
            columns.insert(position.column)
        }
        let names = columns.sorted()
        guard names.count >= 3 else { return [] }
        // The rows as arrays over `names`, each value beside its written digits: the loops below
        // try every triple of columns on every row (a photographed sheet: thousands of triples).
        let column = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        let table: [[(read: TableNumber, digits: TableNumber)?]] = rows.values.map { row in
            var cells = [(read: TableNumber, digits: TableNumber)?](repeating: nil, count: names.count)
            for (name, value) in row { cells[column[name]!] = (value, value.writtenDigits) }
            return cells
        }
        // A value's last decimal, as `TableConstraint.holds` computes it.
        let maxDecimals = table.joined().compactMap { $0?.read.decimals }.max() ?? 0
        let units = (0...maxDecimals).map { TableConstraint.unit(decimals: $0) }
        var learnt: [TableLayout.Relation] = []
        for (ci, c) in names.enumerated() {
            for (ai, a) in names.enumerated() where a != c {
                for (bi, b) in names.enumerated() where b != c && b != a {
                    for kind in [TableLayout.RelationKind.midrange, .sum] {
                        // Both relations are symmetric in A and B: test each unordered pair once.
                        if a > b { continue }
                        let relation = TableLayout.Relation(kind, [a, b, c])
                        let checked: TableConstraint.Kind = kind == .midrange ? .midrange : .sum
                        var seen = 0, holding = 0
                        for row in table {
                            guard let na = row[ai], let nb = row[bi], let nc = row[ci] else { continue }
                            // Rows with a zero or two equal values satisfy a sum or a midrange
                            // trivially (0 + x = x; (x + x) / 2 = x): they prove nothing.
                            if na.read.value == 0 || nb.read.value == 0 || na.read.value == nb.read.value
                                || na.read.value == nc.read.value || nb.read.value == nc.read.value { continue }
                            seen += 1
                            // As read, or as the digits written: a point seen in one column and
                            // not in another (31.7 beside 169 and 243) must not hide the layout;
                            // choosing the columns' decimals is what the relation is needed for.
                            let unit = units[max(na.read.decimals, nb.read.decimals, nc.read.decimals)]
                            if TableConstraint.relationHolds(checked, na.read.value, nb.read.value, nc.read.value, unit: unit, layout: layout)
                                || TableConstraint.relationHolds(checked, na.digits.value, nb.digits.value, nc.digits.value,
                                                                 unit: 1, layout: layout) { holding += 1 }
                        }
                        if seen >= minimumRowsToLearn && Double(holding) >= minimumAgreementToLearn * Double(seen) {
                            learnt.append(relation)
                        }
                    }
                }
            }
        }
        // The midrange's pair: the larger column is the maximum when rows agree.
        for relation in learnt where relation.kind == .midrange {
            let (a, b) = (relation.columns[0], relation.columns[1])
            var aLarger = 0, bLarger = 0
            for row in rows.values {
                guard let va = row[a]?.value, let vb = row[b]?.value else { continue }
                if va > vb { aLarger += 1 } else if vb > va { bLarger += 1 }
            }
            let seen = aLarger + bLarger
            if seen >= minimumRowsToLearn, Double(max(aLarger, bLarger)) >= 0.9 * Double(seen) {
                learnt.append(TableLayout.Relation(.atLeast, aLarger >= bLarger ? [a, b] : [b, a]))
            }
        }
        return learnt
    }

    /// A value a cell might hold: from the reading's own digit alternatives (source 0), from
    /// a second reader's (source 1), or from its ink cut another way (source 2 + k: `recutOpinions[k]`).
    public struct Candidate: Sendable, Equatable {
        public var value: String
        public var logProbability: Double
        public var source: Int
    }

    /// Cost, in nats, of taking the second reader's word over the first's.
    public static let secondOpinionCost = log(2.0)
    /// Cost, in nats, of taking a recut's reading: a piece the cutter and the network both saw
    /// as one digit is split only when the arithmetic asks for it.
    public static let recutOpinionCost = log(4.0)

    /// The most probable readings of a cell: its digits' alternatives combined, the decimal point
    /// where the reading put it, then the second opinion's (if any). The first is the reading itself.
    public static func candidates(of reading: CellReading, limit: Int = candidatesPerCell) -> [Candidate] {
        var result: [Candidate] = []
        if !reading.digits.isEmpty && reading.flag != .empty && reading.flag != .unreadable {
            result = combinations(reading.digits, separatorAfter: reading.separatorAfter, limit: limit)
                .map { Candidate(value: (reading.value.hasPrefix("-") ? "-" : "") + $0.value, logProbability: $0.logProbability, source: 0) }
        }
        let opinions = [(reading.secondOpinion, secondOpinionCost, 1)]
            + reading.recutOpinions.enumerated().map { (Optional($0.element), recutOpinionCost, 2 + $0.offset) }
        for case let (opinion?, cost, source) in opinions where !opinion.digits.isEmpty {
            for option in combinations(opinion.digits, separatorAfter: opinion.separatorAfter, limit: limit / 2)
            where !result.contains(where: { $0.value == option.value }) {
                result.append(Candidate(value: (opinion.value.hasPrefix("-") ? "-" : "") + option.value,
                                        logProbability: option.logProbability - cost, source: source))
            }
        }
        return result
    }

    /// The number a reading stands for in the checks: nil for an empty cell and one without digits.
    static func number(of reading: CellReading) -> TableNumber? {
        reading.flag == .empty || reading.digits.isEmpty ? nil : TableNumber(text: reading.value)
    }

    /// `value`'s digits, with leading zeros up to `count` (8.5 against a reading of 07.5: 0, 8, 5).
    static func digits(of value: String, paddedTo count: Int) -> [Int] {
        var digits = value.compactMap(\.wholeNumberValue)
        while digits.count < count { digits.insert(0, at: 0) }
        return digits
    }

    /// The other reader's or the recut's opinion `candidate` came from (nil: the reading's own digits).
    static func opinion(of candidate: Candidate, in reading: CellReading) -> SecondOpinion? {
        candidate.source == 1 ? reading.secondOpinion
            : candidate.source >= 2 && candidate.source - 2 < reading.recutOpinions.count ? reading.recutOpinions[candidate.source - 2] : nil
    }

    /// `reading` taking `candidate`'s value, with the digits (and point) of the opinion it came
    /// from, each digit at the probability of the alternative it became.
    static func taking(_ candidate: Candidate, in reading: CellReading) -> CellReading {
        if candidate.source == derivedSource { return deriving(candidate.value, in: reading) }
        var changed = reading
        changed.uncheckedValue = reading.value
        changed.value = candidate.value
        if let opinion = opinion(of: candidate, in: reading) {
            changed.digits = correctedDigits(opinion.digits, value: candidate.value)
            changed.separatorAfter = opinion.separatorAfter
            if changed.flag == .unreadable || changed.flag == .empty { changed.flag = .review }
        } else {
            changed.digits = correctedDigits(reading.digits, value: candidate.value)
        }
        changed.confidence = changed.digits.map(\.probability).min() ?? reading.confidence
        return changed
    }

    static func combinations(_ digits: [DigitReading], separatorAfter: Int?, limit: Int) -> [(value: String, logProbability: Double)] {
        var beam: [(digits: [Int], logProbability: Double)] = [([], 0)]
        for digit in digits {
            let options = digit.alternatives.isEmpty
                ? [DigitReading.Alternative(digit: digit.digit, probability: digit.probability)] : digit.alternatives
            var next: [(digits: [Int], logProbability: Double)] = []
            for partial in beam {
                for option in options {
                    next.append((partial.digits + [option.digit], partial.logProbability + log(max(Double(option.probability), 1e-6))))
                }
            }
            next.sort { $0.logProbability > $1.logProbability }
            beam = Array(next.prefix(max(1, limit)))
        }
        // The reading itself first, whatever the alternatives' order.
        let own = digits.map(\.digit)
        if let index = beam.firstIndex(where: { $0.digits == own }), index > 0 { beam.insert(beam.remove(at: index), at: 0) }
        return beam.map { (CellReader.value(digits: $0.digits, separatorAfter: separatorAfter), $0.logProbability) }
    }

    /// What checking did to a set of readings.
    public struct Outcome: Sendable {
        public var readings: [CellReading]
        public var constraints: [TableConstraint]
        public var relations: [TableLayout.Relation]
        public var corrected: Int
        public var broken: Int
        /// Columns whose decimals the arithmetic changed, with the decimals chosen.
        public var columnDecimals: [String: Int]
        /// Per cell the derived values changed (a derived value, or a reading taken with one: a
        /// mean's 23.0 beside its total's derived 137.9), the reading it had before (as read, or
        /// as the search corrected it): what the sheet hypotheses weigh (`sheetCost`).
        public var underived: [Int: CellReading] = [:]
    }

    /// Checks `readings` (cells at `positions`) against the layout's arithmetic, corrects what
    /// next-best readings fix (`CorrectionSearch`), and records per cell the checks that hold and that break.
    /// Sheets without row labels get their total and mean rows from the numbers first
    /// (`labellingTotalRows`). Then tries, sheet by sheet, what a writer may do to the readers that
    /// the search's single moves cannot find (`testingSheetHypotheses`): the second reader right in
    /// every cell where the two disagree the same way; one of the writer's digits misread everywhere.
    public static func apply(readings: [CellReading], positions: [TablePosition?], layout: TableLayout,
                             reviewThreshold: Float, correct: Bool = true) -> Outcome {
        let numbers = readings.map(number(of:))
        let positions = labellingTotalRows(positions: positions, values: numbers, layout: layout)
        let outcome = checkAndCorrect(readings: readings, positions: positions, layout: layout,
                                      reviewThreshold: reviewThreshold, correct: correct)
        guard correct else { return outcome }
        return testingSheetHypotheses(readings: readings, positions: positions, layout: layout,
                                    reviewThreshold: reviewThreshold, checked: outcome)
    }

    /// `apply` without the sheet hypotheses. `taken`: cells whose reading is already the second
    /// reader's word, counted as corrected (they verify nothing). `asRead`: the readers' own
    /// readings where a hypothesis changed `readings` (nil: `readings` are).
    static func checkAndCorrect(readings: [CellReading], positions: [TablePosition?], layout: TableLayout,
                                reviewThreshold: Float, correct: Bool, taken: Set<Int> = [],
                                asRead: [CellReading]? = nil) -> Outcome {
        precondition(readings.count == positions.count, "\(positions.count) positions for \(readings.count) readings")
        let (readings, redecimalized) = layout.chooseDecimals
            ? chooseColumnDecimals(readings: readings, positions: positions, layout: layout) : (readings, [:])
        var candidates = readings.map { TableChecks.candidates(of: $0) }
        // Parsed once: the search below evaluates constraints hundreds of thousands of times.
        var numbers = candidates.map { $0.map { TableNumber(text: $0.value) } }
        var choice = [Int](repeating: 0, count: readings.count)
        func value(_ cell: Int) -> TableNumber? {
            candidates[cell].isEmpty ? nil : numbers[cell][choice[cell]]
        }
        var relations = layout.relations
        if layout.learnRelations {
            let learnt = learnRelations(values: readings.indices.map(value), positions: positions, layout: layout)
            relations += learnt.filter { !relations.contains($0) }
        }
        let constraints = TableChecks.constraints(positions: positions, layout: layout, relations: relations)
            + rangeConstraints(values: readings.indices.map(value), positions: positions, layout: layout)
        var byCell = [[Int]](repeating: [], count: readings.count)
        for (index, constraint) in constraints.enumerated() {
            for cell in constraint.cells { byCell[cell].append(index) }
        }
        var search = CorrectionSearch(candidates: candidates, numbers: numbers, constraints: constraints, byCell: byCell,
                                      layout: layout, choice: choice)
        var underived = choice
        if correct {
            search.descend()
            func searchingAgain(with extra: [Int: [Candidate]], joiningHeldChecks: Bool = false) {
                guard !extra.isEmpty else { return }
                for (cell, extra) in extra {
                    let new = extra.filter { candidate in !candidates[cell].contains { $0.value == candidate.value } }
                    candidates[cell] += new
                    numbers[cell] += new.map { TableNumber(text: $0.value) }
                }
                search = CorrectionSearch(candidates: candidates, numbers: numbers, constraints: constraints, byCell: byCell,
                                          layout: layout, choice: search.choice)
                search.joiningHeldChecks = joiningHeldChecks
                search.descend()
            }
            func implied() -> [Int: [Candidate]] {
                impliedCandidates(readings: readings, values: { search.value($0) }, constraints: constraints, byCell: byCell,
                                  layout: layout)
            }
            // Then what the checks still broken imply of their cells, from the values as corrected,
            // and last what they alone determine where no reading fits.
            searchingAgain(with: implied())
            underived = search.choice
            searchingAgain(with: derivedCandidates(readings: readings, candidates: candidates, values: { search.value($0) },
                                                   constraints: constraints, layout: layout), joiningHeldChecks: true)
            keepingConfirmedDerivations(&search, underived: underived)
            // Where derived values stand, what the checks still broken imply with them: 508's
            // mean-row min 17.9 (read 11.9) is what its row's midrange asks once the max's mean
            // comes from the derived total, and not before.
            if search.choice.indices.contains(where: search.takesDerivedValue) {
                // Only the derived values that stood may be taken: the others had no two checks.
                var standing = search.choice
                for cell in candidates.indices where !search.takesDerivedValue(cell) {
                    let kept = candidates[cell].indices.filter { candidates[cell][$0].source != derivedSource }
                    guard kept.count < candidates[cell].count else { continue }
                    standing[cell] = kept.firstIndex(of: standing[cell]) ?? 0
                    candidates[cell] = kept.map { candidates[cell][$0] }
                    numbers[cell] = kept.map { numbers[cell][$0] }
                }
                search = CorrectionSearch(candidates: candidates, numbers: numbers, constraints: constraints, byCell: byCell,
                                          layout: layout, choice: standing)
                searchingAgain(with: implied())
            }
            choice = search.choice
        }
        func isCorrected(_ cell: Int) -> Bool {
            !candidates[cell].isEmpty && (choice[cell] != 0 || candidates[cell][0].source == 1)
        }
        let doubted = correct ? search.doubtedChecks() : [[Int]](repeating: [], count: readings.count)
        // Unsure: a digit below the review threshold (an empty cell in a check is no doubt).
        let unsure = readings.map { $0.flag != .empty && !$0.digits.isEmpty && $0.confidence < reviewThreshold }
        // A check confirms a correction when it breaks with the cell as read (as a hypothesis had
        // it, and as the readers did, unless the correction is back to the readers' own reading)
        // and its other cells stand as read, at most one of them unsure; given `pinned`, also
        // when its other corrected cells are pinned by checks of their own. A check that holds
        // either way says nothing of the correction: a total of 119.1 or 119.2 over five days
        // gives the same mean, 23.8.
        func breaksAsRead(_ index: Int, correction: Int) -> Bool {
            var before = [number(of: readings[correction])]
            if let original = asRead?[correction], number(of: original) != value(correction) { before.append(number(of: original)) }
            return before.allSatisfy { read in constraints[index].holds({ $0 == correction ? read : value($0) }, layout: layout) != true }
        }
        func confirms(_ index: Int, correction: Int, pinned: [Bool]? = nil) -> Bool {
            guard breaksAsRead(index, correction: correction) else { return false }
            let others = constraints[index].cells.filter { $0 != correction }
            func standsAsRead(_ other: Int) -> Bool { !isCorrected(other) && !taken.contains(other) }
            guard others.allSatisfy({ standsAsRead($0) || pinned?[$0] == true }) else { return false }
            return others.filter { standsAsRead($0) && unsure[$0] }.count <= 1
        }
        func holds(_ index: Int) -> Bool { constraints[index].verifies && constraints[index].holds(value, layout: layout) == true }
        // A correction pins its cell only one digit away from a reader's own digits: the search
        // tries a dozen values a cell, and the further they stray from what was read, the likelier
        // one meets two checks by chance (508's 28.6 taken as 29.5, the network's 1-in-20 and
        // 1-in-500 guesses, meeting a row's midrange with its misread min and a misread total).
        func changesOneDigitAtMost(_ cell: Int) -> Bool {
            let candidate = candidates[cell][choice[cell]]
            let own = candidate.source == 0 ? readings[cell].digits : opinion(of: candidate, in: readings[cell])?.digits
            guard let read = own?.map(\.digit) else { return false }
            let digits = Self.digits(of: candidate.value, paddedTo: read.count)
            return digits.count == read.count && zip(read, digits).filter { $0 != $1 }.count <= 1
        }
        let pinned = readings.indices.map { cell in
            isCorrected(cell) && changesOneDigitAtMost(cell) && byCell[cell].contains { holds($0) && confirms($0, correction: cell) }
        }
        var result = readings
        var corrected = 0
        for cell in readings.indices {
            var reading = readings[cell]
            if isCorrected(cell) {
                reading = taking(candidates[cell][choice[cell]], in: reading)
                corrected += 1
            }
            // A range that holds says little (most cells are in range): only a broken one is recorded.
            reading.checksHeld = byCell[cell].filter { constraints[$0].kind != .range && constraints[$0].holds(value, layout: layout) == true }
                .map { constraints[$0].kind.rawValue }
            // One equation pins down one unknown: it can be met by two compensating errors (18.6
            // and 18.2 for 18.5 and 18.3 keep a total), and a correction made to meet a check
            // cannot be confirmed by that same check. So a cell is verified by a check that holds
            // with none of its cells corrected and at most one of them read unsure.
            let holding = byCell[cell].filter(holds)
            func untouched(_ index: Int) -> Bool {
                let cells = constraints[index].cells
                return cells.allSatisfy { !isCorrected($0) && !taken.contains($0) } && cells.filter { unsure[$0] }.count <= 1
            }
            reading.verified = holding.contains(where: untouched)
                || (pinned[cell] && holding.filter { confirms($0, correction: cell, pinned: pinned) }.count >= minimumConfirmingChecks)
            reading.verifiedInRow = holding.contains { [.midrange, .sum].contains(constraints[$0].kind) && untouched($0) }
            // A correction is pinned to the digit only by an exact check that confirms it: one that
            // only a mean and a midrange confirm (508's 29.1 taken as 29.9, to fit a misread total
            // and mean) keeps its last digit's doubt like any cell.
            let pinsEveryDigit = holding.contains { index in
                [.total, .sum].contains(constraints[index].kind)
                    && (isCorrected(cell) ? confirms(index, correction: cell, pinned: pinned) : untouched(index))
            }
            let roundedOnly = !pinsEveryDigit && holding.contains { [.midrange, .mean].contains(constraints[$0].kind) }
            // Where the sheet has a total for the cell and it did not pin the cell (broken, or met
            // with other cells unsure or corrected), the stricter threshold, and so for a mean
            // row's cell, which is in no total but only on sheets with them; on a sheet without
            // totals the review threshold, as if the last digit were unchecked.
            let totalled = byCell[cell].contains { [.total, .mean].contains(constraints[$0].kind) }
            reading.roundingDoubtThreshold = roundedOnly ? layout.roundingDoubtThreshold.map { totalled ? $0 : 0 } : nil
            reading.checksDoubted = doubted[cell].map { constraints[$0].kind.rawValue }
            if isCorrected(cell) && candidates[cell][choice[cell]].source == derivedSource {
                reading.checksDoubted.append(CellReading.derivedDoubt)
            }
            reading.checksBroken = byCell[cell].filter { constraints[$0].holds(value, layout: layout) == false }
                .map { constraints[$0].kind.rawValue }
            reading.flag = reading.flag(atThreshold: reviewThreshold)
            result[cell] = reading
        }
        if correct { doubtWriterConfusions(&result, positions: positions, reviewThreshold: reviewThreshold) }
        let broken = constraints.filter { $0.holds(value, layout: layout) == false }.count
        var before: [Int: CellReading] = [:]
        for cell in readings.indices where correct && choice[cell] != underived[cell] {
            let stood = candidates[cell][underived[cell]]
            before[cell] = underived[cell] == 0 && stood.source == 0 ? readings[cell] : taking(stood, in: readings[cell])
        }
        return Outcome(readings: result, constraints: constraints, relations: relations, corrected: corrected, broken: broken,
                       columnDecimals: redecimalized, underived: before)
    }

    /// The reading with its decimal point `decimals` digits from the right (none for 0, and
    /// none when too few digits), as the cell reader places an unseen point.
    public static func repointed(_ reading: CellReading, decimals: Int) -> CellReading {
        guard !reading.digits.isEmpty, reading.flag != .empty else { return reading }
        let count = reading.digits.count
        let separator: Int? = decimals > 0 && count > decimals ? count - decimals : nil
        var changed = reading
        // The other opinions are the same ink read otherwise: the same point rule.
        func repointed(_ opinion: SecondOpinion) -> SecondOpinion {
            guard !opinion.digits.isEmpty else { return opinion }
            var opinion = opinion
            let count = opinion.digits.count
            opinion.separatorAfter = decimals > 0 && count > decimals ? count - decimals : nil
            opinion.value = (opinion.value.hasPrefix("-") ? "-" : "")
                + CellReader.value(digits: opinion.digits.map(\.digit), separatorAfter: opinion.separatorAfter)
            return opinion
        }
        changed.secondOpinion = reading.secondOpinion.map(repointed)
        changed.recutOpinions = reading.recutOpinions.map(repointed)
        guard separator != reading.separatorAfter else { return changed }
        changed.separatorAfter = separator
        changed.separatorSeen = false
        changed.value = (reading.value.hasPrefix("-") ? "-" : "") + CellReader.value(digits: reading.digits.map(\.digit), separatorAfter: separator)
        return changed
    }

    /// How well values satisfy the sheet's arithmetic: equality checks that hold minus those
    /// that break, with relations learnt from these values.
    static func arithmeticScore(readings: [CellReading], positions: [TablePosition?], layout: TableLayout) -> Int {
        let values = readings.map { $0.flag == .unreadable ? nil : TableNumber(text: $0.value) }
        var relations = layout.relations
        if layout.learnRelations {
            relations += learnRelations(values: values, positions: positions, layout: layout).filter { !relations.contains($0) }
        }
        var score = 0
        for constraint in constraints(positions: positions, layout: layout, relations: relations) where constraint.verifies {
            switch constraint.holds({ values[$0] }, layout: layout) {
            case true?: score += 1
            case false?: score -= 1
            case nil: break
            }
        }
        return score
    }

    /// Decimal points are often invisible on hand-written sheets and the cell reader's guess
    /// per column (learnt from the few points it saw) can be off; the sheet's arithmetic is
    /// not: (24.6 + 17.2) / 2 = 20.9 holds to the rounding while (246 + 172) / 2 = 209 and
    /// (24.6 + 1.72) / 2 = 20.9 break it. Per column, the decimals (0, 1 or 2) that make the
    /// most checks hold win, when they beat the reader's choice by `minimumDecimalGain`.
    /// Returns the readings re-pointed and the columns changed with their decimals.
    public static func chooseColumnDecimals(readings: [CellReading], positions: [TablePosition?], layout: TableLayout)
        -> ([CellReading], [String: Int]) {
        var columns: [String: [Int]] = [:]
        for (index, position) in positions.enumerated() {
            if let position, !readings[index].digits.isEmpty { columns[position.column, default: []].append(index) }
        }
        guard columns.count >= 1 else { return (readings, [:]) }
        var current = readings
        var best = arithmeticScore(readings: current, positions: positions, layout: layout)
        var chosen: [String: Int] = [:]
        func trial(_ assignment: [String: Int]) -> [CellReading] {
            var trial = current
            for (column, decimals) in assignment {
                for index in columns[column]! { trial[index] = repointed(readings[index], decimals: decimals) }
            }
            return trial
        }
        // The checks allow rounding in units of the last decimal, so they cannot tell 24.6 from
        // 246 when the whole table moves together; the separators seen anywhere in the table say
        // where the point is, and a sheet usually keeps one convention: start from it.
        let sightings = positions.indices.compactMap { index -> (column: String, decimals: Int?)? in
            guard positions[index] != nil,
                  let decimals = DecimalInference.decimals(sighted: readings[index].separatorSighted, digits: readings[index].digits.map(\.digit))
            else { return nil }
            return ("", decimals)
        }
        if let tableDecimals = DecimalInference.decimalsByColumn(sightings, minimumAgreement: 0.5)[""] {
            let assignment = Dictionary(uniqueKeysWithValues: columns.keys.map { ($0, tableDecimals) })
            let candidate = trial(assignment)
            let score = arithmeticScore(readings: candidate, positions: positions, layout: layout)
            if score >= best { best = score; current = candidate; chosen = assignment }
        }
        // Then column by column, where the arithmetic clearly prefers other decimals.
        for _ in 0..<2 {
            var improved = false
            for column in columns.keys.sorted() {
                for decimals in 0...2 where chosen[column] != decimals {
                    let candidate = trial([column: decimals])
                    let score = arithmeticScore(readings: candidate, positions: positions, layout: layout)
                    if score >= best + minimumDecimalGain {
                        best = score; current = candidate; chosen[column] = decimals; improved = true
                    }
                }
            }
            if !improved { break }
        }
        return (current, chosen)
    }

    /// Checks a decimals change must win by before it is taken.
    public static let minimumDecimalGain = 3

    /// The digits of a corrected value: each digit takes the alternative it became, with that
    /// alternative's probability.
    static func correctedDigits(_ digits: [DigitReading], value: String) -> [DigitReading] {
        let newDigits = value.compactMap(\.wholeNumberValue)
        guard newDigits.count == digits.count else { return digits }
        return zip(digits, newDigits).map { reading, digit in
            guard reading.digit != digit else { return reading }
            var changed = reading
            changed.digit = digit
            changed.probability = reading.alternatives.first { $0.digit == digit }?.probability ?? unrankedProbability(reading)
            return changed
        }
    }
}
