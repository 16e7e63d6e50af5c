import Foundation

extension TableChecks {
    /// A row is taken for a total when, in most of its columns, it holds at least this many
    /// times its column's median (a 5-day total of temperatures near 30 is about 150; no day's
    /// reading is half that far from the month's median).
    public static let totalRowMedianRatio = 2.5
    /// ... and is within this share of the sum of the rows it closes, or of their median times
    /// their count (misreads of a block's cells change its sum by a few per cent, a lost point
    /// by far more; a day's reading is nowhere near a sum of days).
    public static let totalRowSumShare = 0.15

    /// Where a sheet's cells come without row labels (a truth file with only its cells' places,
    /// a page whose label column is printed text), its total rows and their mean rows are found
    /// from the numbers, so that the sheet's arithmetic can still be checked:
    ///
    /// - a **total** row holds, in most of its columns (at least two), at least
    ///   `totalRowMedianRatio` times the column's median and within `totalRowSumShare` of the
    ///   sum of the data rows since the previous total (or of their median times their count);
    ///   it closes at least two rows;
    /// - the row after each total is its **mean** row when, after at least half of the sheet's
    ///   totals (and two), that row equals the total over its count in some column, to the
    ///   layout's mean tolerance: one sheet-wide decision, since one data row near the mean by
    ///   chance must not make a mean row, nor one misread mean row break the pattern;
    /// - the totals are kept only if the sum holds exactly (to the total tolerance) in some
    ///   column of at least half of them: large numbers that are no sums (a column of counts)
    ///   make no totals.
    ///
    /// Sheets where any cell has a row label are left as labelled, and so is everything when the
    /// layout names no total row label (`TableLayout.none`). Returns the positions with the
    /// layout's first total and mean labels on the rows found.
    public static func labellingTotalRows(positions: [TablePosition?], values: [TableNumber?],
                                          layout: TableLayout) -> [TablePosition?] {
        guard layout.inferTotalRows, let totalLabel = layout.totalRowLabels.first else { return positions }
        var bySheet: [String: [Int]] = [:]
        for (index, position) in positions.enumerated() {
            if let position { bySheet[position.sheet, default: []].append(index) }
        }
        var result = positions
        for sheet in bySheet.keys.sorted() {
            let cells = bySheet[sheet]!
            guard cells.allSatisfy({ positions[$0]!.rowLabel.isEmpty }) else { continue }
            let found = totalRows(cells: cells, positions: positions, values: values, layout: layout)
            for index in cells {
                let row = positions[index]!.row
                if found.totals.contains(row) {
                    result[index]!.rowLabel = totalLabel
                } else if found.means.contains(row), let meanLabel = layout.meanRowLabels.first {
                    result[index]!.rowLabel = meanLabel
                }
            }
        }
        return result
    }

    /// One sheet's total rows and mean rows (row numbers), as `labellingTotalRows` finds them.
    static func totalRows(cells: [Int], positions: [TablePosition?], values: [TableNumber?],
                          layout: TableLayout) -> (totals: Set<Int>, means: Set<Int>) {
        // grid[row][column]: the sheet's read numbers.
        var grid: [Int: [String: TableNumber]] = [:]
        var byColumn: [String: [Double]] = [:]
        for index in cells {
            guard let number = values[index] else { continue }
            let position = positions[index]!
            grid[position.row, default: [:]][position.column] = number
            byColumn[position.column, default: []].append(number.value)
        }
        // Columns read in enough rows whose median is above zero: a total of mostly dry days
        // (rain) may be no larger than one wet day, and a column of zeros totals nothing.
        let medians = byColumn.filter { $0.value.count >= minimumRowsForRange }.mapValues(\.median).filter { $0.value > 0 }
        guard medians.count >= 2 else { return ([], []) }
        let rows = grid.keys.sorted()

        func sum(_ block: [Int], _ column: String) -> Double? {
            let numbers = block.compactMap { grid[$0]?[column]?.value }
            return numbers.count == block.count ? numbers.reduce(0, +) : nil
        }
        func unit(_ numbers: [TableNumber]) -> Double { TableConstraint.unit(decimals: numbers.map(\.decimals).max() ?? 0) }

        // Totals, each closing the data rows since the previous one; with `means`, the row right
        // after each total is its mean row and belongs to no block.
        func scan(means: Bool) -> (totals: [(row: Int, block: [Int])], followers: [Int]) {
            var totals: [(row: Int, block: [Int])] = [], followers: [Int] = []
            var block: [Int] = []
            for (index, row) in rows.enumerated() {
                if means, index > 0, totals.last?.row == rows[index - 1] {
                    followers.append(row)
                    continue
                }
                let columns = medians.keys.filter { grid[row]?[$0] != nil }
                let large = columns.filter { column in
                    let value = grid[row]![column]!.value
                    guard value >= totalRowMedianRatio * medians[column]!, let blockSum = sum(block, column) else { return false }
                    // The block's median times its count too: one misread day (75.6 for 15.6) moves a sum far.
                    let typical = Double(block.count) * block.compactMap { grid[$0]?[column]?.value }.median
                    return [blockSum, typical].contains { abs(value - $0) <= totalRowSumShare * $0 }
                }
                if block.count >= 2, large.count >= 2, 2 * large.count > columns.count {
                    totals.append((row, block))
                    block = []
                } else {
                    block.append(row)
                }
            }
            return (totals, followers)
        }
        // Totals whose sum holds to rounding in some column.
        func exact(_ totals: [(row: Int, block: [Int])]) -> Int {
            totals.filter { total in
                medians.keys.contains { column in
                    guard let value = grid[total.row]?[column], let blockSum = sum(total.block, column) else { return false }
                    let numbers = total.block.compactMap { grid[$0]?[column] } + [value]
                    return abs(value.value - blockSum) <= layout.totalTolerance * unit(numbers)
                }
            }.count
        }
        // Mean rows: the row after a total equals total / count in some column.
        func meansHolding(_ totals: [(row: Int, block: [Int])]) -> Int {
            totals.filter { total in
                guard let index = rows.firstIndex(of: total.row), index + 1 < rows.count else { return false }
                let next = rows[index + 1]
                return medians.keys.contains { column in
                    guard let mean = grid[next]?[column], let value = grid[total.row]?[column] else { return false }
                    return TableConstraint.meanHolds(total: value.value, count: total.block.count, mean: mean.value,
                                                     unit: unit([mean, value]), layout: layout)
                }
            }.count
        }
        let plain = scan(means: false), withMeans = scan(means: true)
        let plainExact = exact(plain.totals), meansExact = exact(withMeans.totals)
        let held = meansHolding(withMeans.totals)
        if held >= 2, 2 * held >= withMeans.totals.count, 2 * meansExact >= withMeans.totals.count, meansExact >= plainExact {
            return (Set(withMeans.totals.map(\.row)), Set(withMeans.followers))
        }
        guard !plain.totals.isEmpty, 2 * plainExact >= plain.totals.count else { return ([], []) }
        return (Set(plain.totals.map(\.row)), [])
    }
}
