import Foundation

/// How the numbers of a date column follow the rows of one page. A daily sheet prints or writes
/// day = row + k, one k for a run of rows (a skipped day or a sheet starting mid-month starts
/// another run); a month or year column holds one value for a run of rows. Each block is such a
/// run: its rows (first to last read cell agreeing with it) and its k (`counting`) or value (`constant`).
public struct DateSequence: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// value = row + offset (days down a daily sheet).
        case counting
        /// value = offset (a month or year column).
        case constant
    }

    public struct Block: Sendable, Equatable {
        public var rows: ClosedRange<Int>
        public var offset: Int
        public init(rows: ClosedRange<Int>, offset: Int) {
            self.rows = rows
            self.offset = offset
        }
    }

    public var kind: Kind
    /// Top to bottom; their rows do not overlap.
    public var blocks: [Block]

    public init(kind: Kind, blocks: [Block]) {
        self.kind = kind
        self.blocks = blocks.sorted { $0.rows.lowerBound < $1.rows.lowerBound }
    }

    /// The name a cell's `checksHeld` / `checksBroken` gets for this check.
    public var checkName: String { kind == .counting ? "date-sequence" : "date-constant" }

    /// The values the sequence allows at `row`: its block's; above the first block the first's,
    /// below the last the last's; between two blocks either (where one run ends and the next
    /// starts is not known). Days outside 1...31 are left out: a block's k says nothing about rows
    /// beyond the month's end, where a sheet starting mid-month goes on with day 1.
    public func expected(row: Int) -> [Int] {
        guard let first = blocks.first, let last = blocks.last else { return [] }
        var offsets: [Int]
        if let block = blocks.first(where: { $0.rows.contains(row) }) {
            offsets = [block.offset]
        } else if row < first.rows.lowerBound {
            offsets = [first.offset]
        } else if row > last.rows.upperBound {
            offsets = [last.offset]
        } else {
            let next = blocks.firstIndex { $0.rows.lowerBound > row }!
            offsets = [blocks[next - 1].offset, blocks[next].offset]
        }
        switch kind {
        case .constant: return offsets
        case .counting: return offsets.map { row + $0 }.filter { (1...31).contains($0) }
        }
    }
}

/// Date columns are checked against the rows instead of the arithmetic: the printed day numbers of
/// a daily sheet count the rows, so a day the digit model misreads with confidence (a printed 1
/// read as 2: 12 -> 22) breaks the page's sequence even when its probability says it is sure.
extension TableChecks {
    /// Read numbers that must agree with the dominant block before a sequence is trusted: five
    /// rows of day = row + k do not happen by chance.
    public static let minimumDatesToLearn = 5
    /// Share of a column's read numbers the learnt blocks must explain together.
    public static let minimumDateAgreement = 0.6
    /// Read numbers that start a further block (a break: a skipped day, a new month, a new year).
    public static let minimumDatesPerBreak = 3
    /// Blocks a page may have: a few breaks, not a sequence fitted to every misread.
    public static let maximumDateBlocks = 4

    /// The sequence `numbers` (row, value: the column's read whole numbers on one page) follow:
    /// counting (day = row + k) when that explains them, else constant, else nil. The most common
    /// k (value - row, or value) makes the first block, from its first to its last cell; a next
    /// most common one is a further block only when its cells lie outside every block so far and
    /// hold in most read cells of their own rows (a misread with that k elsewhere is not a break).
    public static func learnDateSequence(_ numbers: [(row: Int, value: Int)]) -> DateSequence? {
        for kind in [DateSequence.Kind.counting, .constant] {
            if let sequence = learnDateSequence(numbers, kind: kind) { return sequence }
        }
        return nil
    }

    static func learnDateSequence(_ numbers: [(row: Int, value: Int)], kind: DateSequence.Kind) -> DateSequence? {
        let keyed = numbers.map { (row: $0.row, offset: kind == .counting ? $0.value - $0.row : $0.value) }
        var rowsByOffset: [Int: [Int]] = [:]
        for number in keyed { rowsByOffset[number.offset, default: []].append(number.row) }
        // Most cells first; ties to the one starting higher on the page, so learning is deterministic.
        let offsets = rowsByOffset.keys.sorted {
            let a = rowsByOffset[$0]!, b = rowsByOffset[$1]!
            return a.count != b.count ? a.count > b.count : a.min()! < b.min()!
        }
        var blocks: [DateSequence.Block] = []
        var agreeing = 0
        for offset in offsets where blocks.count < maximumDateBlocks {
            let rows = rowsByOffset[offset]!
            guard rows.count >= (blocks.isEmpty ? minimumDatesToLearn : minimumDatesPerBreak) else { break }
            let span = rows.min()!...rows.max()!
            if blocks.contains(where: { $0.rows.overlaps(span) }) { continue }
            let readInSpan = keyed.filter { span.contains($0.row) }.count
            guard rows.count * 2 > readInSpan else { continue }
            let block = DateSequence.Block(rows: span, offset: offset)
            let above = blocks.filter { $0.rows.upperBound < span.lowerBound }.max { $0.rows.upperBound < $1.rows.upperBound }
            let below = blocks.filter { $0.rows.lowerBound > span.upperBound }.min { $0.rows.lowerBound < $1.rows.lowerBound }
            if let above, !isBreak(from: above, to: block, kind: kind) { continue }
            if let below, !isBreak(from: block, to: below, kind: kind) { continue }
            blocks.append(block)
            agreeing += rows.count
        }
        guard !blocks.isEmpty, Double(agreeing) >= minimumDateAgreement * Double(numbers.count) else { return nil }
        return DateSequence(kind: kind, blocks: blocks)
    }

    /// Days a break may skip or repeat (k changing by up to this much), short of a new month.
    public static let maximumDayShift = 2

    /// Whether block `next` (below `previous`) can follow it on a sheet. Days: a day or two
    /// skipped or repeated, or a new month whose day 1 falls between the two blocks after a day
    /// 28-31; a printed 1 misread as 2 in rows 11-14 makes k jump by 10 and is no break. Months
    /// or years: the next one (12 to 1 for months).
    static func isBreak(from previous: DateSequence.Block, to next: DateSequence.Block, kind: DateSequence.Kind) -> Bool {
        switch kind {
        case .constant:
            return next.offset == previous.offset + 1 || (previous.offset == 12 && next.offset == 1)
        case .counting:
            if abs(next.offset - previous.offset) <= maximumDayShift { return true }
            let firstDayRow = 1 - next.offset
            return firstDayRow > previous.rows.upperBound && firstDayRow <= next.rows.lowerBound
                && (28...31).contains(firstDayRow - 1 + previous.offset)
        }
    }

    /// What the date checks did to one column of one page.
    public struct DateOutcome: Sendable {
        public var readings: [CellReading]
        /// nil when too few read numbers agreed on one.
        public var sequence: DateSequence?
        public var corrected: Int
        /// Read cells left doubtful by the checks (disagreeing, duplicate or out of order).
        public var broken: Int
    }

    /// Checks the `readings` of one date column of one page (cell i on table row `rows[i]`).
    /// With a learnt sequence, a read cell that agrees is verified (ok whatever its confidence,
    /// as a check of the arithmetic verifies a cell) and one that disagrees is flagged `review`;
    /// with `correct`, a disagreeing cell whose candidates (digit alternatives, second opinion)
    /// hold the one value its row expects takes it, keeping the reading as `uncheckedValue` and
    /// staying `review` (the sequence that made the correction cannot also confirm it).
    /// Without a sequence, in a column whose numbers mostly rise down the page (days, read too
    /// badly to learn from), duplicates and numbers off the longest rising run are flagged.
    /// Empty and unreadable cells are left as they are: the sequence does not invent a reading.
    public static func checkDates(readings: [CellReading], rows: [Int], reviewThreshold: Float,
                                  correct: Bool = true) -> DateOutcome {
        precondition(readings.count == rows.count, "\(rows.count) rows for \(readings.count) readings")
        let read = readings.indices.filter { readings[$0].flag == .ok || readings[$0].flag == .review }
        let numbers = read.compactMap { index -> (index: Int, row: Int, value: Int)? in
            wholeNumber(readings[index].value).map { (index, rows[index], $0) }
        }.sorted { $0.row < $1.row }
        var result = readings
        var corrected = 0, broken = 0
        guard let sequence = learnDateSequence(numbers.map { ($0.row, $0.value) }) else {
            for doubt in doubtfulOrder(numbers) {
                result[doubt.index].checksBroken.append(doubt.isDuplicate ? "date-duplicate" : "date-order")
                result[doubt.index].flag = result[doubt.index].flag(atThreshold: reviewThreshold)
                broken += 1
            }
            return DateOutcome(readings: result, sequence: nil, corrected: 0, broken: broken)
        }
        for index in read {
            var reading = readings[index]
            let expected = sequence.expected(row: rows[index])
            guard !expected.isEmpty else { continue }
            if let value = wholeNumber(reading.value), expected.contains(value) {
                reading.checksHeld.append(sequence.checkName)
                reading.verified = reading.uncheckedValue == nil
                reading.roundingDoubtThreshold = nil   // a day number is matched exactly
            } else if correct, expected.count == 1,
                      let candidate = candidates(of: reading).first(where: { wholeNumber($0.value) == expected[0] }) {
                reading = taking(candidate, in: reading)
                reading.checksHeld.append(sequence.checkName)
                reading.verified = false
                corrected += 1
            } else {
                reading.checksBroken.append(sequence.checkName)
                broken += 1
            }
            reading.flag = reading.flag(atThreshold: reviewThreshold)
            result[index] = reading
        }
        return DateOutcome(readings: result, sequence: sequence, corrected: corrected, broken: broken)
    }

    /// "12" -> 12; nil for anything but a whole number (a date cell read "1.5" or "-3").
    static func wholeNumber(_ value: String) -> Int? {
        guard !value.isEmpty, value.allSatisfy(\.isASCIIDigit) else { return nil }
        return Int(value)
    }

    /// A cell flagged by `doubtfulOrder`, and whether for a duplicate (else for its order).
    struct DoubtfulDate: Hashable {
        var index: Int
        var isDuplicate: Bool
    }

    /// In a column whose consecutive read numbers rise in most steps (at least 4 steps): the cells
    /// repeating another cell's number (both: which one is wrong is not known) and those off the
    /// longest strictly rising run down the page (the fewest cells to doubt so that the rest rise).
    /// Other columns (a month or year, an hour cycling through the day) are not days: nothing.
    static func doubtfulOrder(_ numbers: [(index: Int, row: Int, value: Int)]) -> [DoubtfulDate] {
        let steps = zip(numbers, numbers.dropFirst())
        let rising = steps.filter { $1.value > $0.value }.count
        guard numbers.count >= 5, Double(rising) >= minimumDateAgreement * Double(numbers.count - 1) else { return [] }
        var counts: [Int: Int] = [:]
        for number in numbers { counts[number.value, default: 0] += 1 }
        // Longest strictly rising subsequence (quadratic: a page has a few dozen rows).
        var length = [Int](repeating: 1, count: numbers.count), previous = [Int](repeating: -1, count: numbers.count)
        for i in numbers.indices {
            for j in 0..<i where numbers[j].value < numbers[i].value && length[j] + 1 > length[i] {
                length[i] = length[j] + 1
                previous[i] = j
            }
        }
        var onRun = Set<Int>()
        var position = length.max().flatMap { length.firstIndex(of: $0) }
        while let current = position {
            onRun.insert(current)
            position = previous[current] >= 0 ? previous[current] : nil
        }
        return numbers.indices.compactMap { i in
            if counts[numbers[i].value]! > 1 { return DoubtfulDate(index: numbers[i].index, isDuplicate: true) }
            return onRun.contains(i) ? nil : DoubtfulDate(index: numbers[i].index, isDuplicate: false)
        }
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
