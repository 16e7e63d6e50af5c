import Foundation
import Imaging
import Recognition

// The table's layout without hints: which top rows are the printed header, and which columns hold
// handwritten numbers. Decided from the cells' cuts, so it works on a form it has never seen:
// - header rows: top rows whose height is far from the body rows' (a header is usually taller or
//   split into thin rows), or whose cells cut into more pieces than a number has (words);
// - a column is numeric when enough of its body cells hold 1...max_digits digit-like pieces;
//   it is `printed` instead when those pieces have the same height and stand at the same place
//   in every row (type does, a hand does not: row labels such as printed day numbers), and
//   `text` when most of its inked cells cut into too many pieces.
// Table hints (`table.header_rows`, `table.numeric_columns`) replace the guesses; columns in
// `table.date_columns` are always read.

public struct TableLayout: Sendable {
    public var headerRows: Int
    /// Body rows less than 70% as high as the typical row: spacers between blocks of days,
    /// not rows of data (with `table.header_rows: auto`).
    public var thinRows: [Int] = []
    public var columnKinds: [ColumnKind]
    public var notes: [String]

    public var numericColumns: [Int] { columnKinds.indices.filter { columnKinds[$0] == .numeric } }

    static func decide(grid: TableGrid, cuts: [CutCell], parameters p: SegmentParameters, table: TableHints) -> TableLayout {
        let rows = grid.rowCount, columns = grid.columnCount
        var cutAt = [[CutCell?]](repeating: [CutCell?](repeating: nil, count: columns), count: rows)
        var heightAt = [[Double]](repeating: [Double](repeating: 0, count: columns), count: rows)
        for (index, cell) in grid.cells.enumerated() {
            cutAt[cell.row][cell.column] = cuts[index]
            heightAt[cell.row][cell.column] = ((cell.bottomLeft.y - cell.topLeft.y) + (cell.bottomRight.y - cell.topRight.y)) / 2
        }
        // Touching digits may be one digit split in two: count them as few as they can be.
        func filled(_ cut: CutCell?) -> Bool { cut.map { (1...p.maxDigits).contains($0.fewestDigits) } ?? false }
        func wordy(_ cut: CutCell?) -> Bool { (cut?.fewestDigits ?? 0) > p.maxDigits }

        // Header rows.
        var headerRows = 0, thinRows: [Int] = []
        if let given = table.headerRows.given {
            headerRows = min(given, rows)
        } else {
            let rowHeights = (0..<rows).map { r -> Double in
                let heights = heightAt[r].filter { $0 > 0 }
                return heights.isEmpty ? 0 : heights.reduce(0, +) / Double(heights.count)
            }
            let typical = median(rowHeights.filter { $0 > 0 })
            while headerRows < min(p.maxHeaderRows, rows - 1) {
                let r = headerRows
                let oddHeight = typical > 0 && abs(rowHeights[r] - typical) > 0.35 * typical
                let inked = cutAt[r].filter { ($0?.digits.count ?? 0) > 0 }
                let words = inked.filter { wordy($0) }.count
                let wordRow = inked.count >= 2 && words * 2 >= inked.count
                guard oddHeight || wordRow else { break }
                headerRows += 1
            }
            thinRows = (headerRows..<rows).filter { rowHeights[$0] > 0 && rowHeights[$0] < 0.7 * typical }
        }

        // Column kinds.
        var kinds = [ColumnKind](repeating: .empty, count: columns)
        var notes = [String](repeating: "", count: columns)
        let bodyRows = max(0, rows - headerRows - thinRows.count)
        for c in 0..<columns {
            let body = (headerRows..<rows).filter { !thinRows.contains($0) }.map { cutAt[$0][c] }
            let present = body.compactMap { $0 }
            let numbers = present.filter { filled($0) }
            let words = present.filter { wordy($0) }.count
            let share = bodyRows > 0 ? Double(numbers.count) / Double(bodyRows) : 0
            var note = String(format: "%d of %d body cells hold 1-%d digits, %d more", numbers.count, bodyRows, p.maxDigits, words)
            if table.dateColumns.contains(c) {
                // Printed day numbers look like row labels, and a handwritten day column counts
                // the rows; both are read when the user wants the dates from them.
                kinds[c] = .numeric
                note += "; read for dates (table.date_columns)"
            } else if let given = table.numericColumns.given {
                kinds[c] = given.contains(c) ? .numeric : (numbers.isEmpty ? .empty : .text)
                note += "; set by table.numeric_columns"
            } else if share < p.minNumericShare || numbers.isEmpty {
                kinds[c] = words > numbers.count ? .text : .empty
            } else if words > numbers.count {
                kinds[c] = .text
            } else if p.skipPrinted, let spread = printSpread(numbers), spread.isPrinted {
                kinds[c] = .printed
                note += String(format: "; printed (height spread %.2f px, position spread %.2f px, digit height %.1f px)",
                               spread.height, spread.position, spread.digitHeight)
            } else {
                kinds[c] = .numeric
                if let spread = printSpread(numbers) {
                    note += String(format: "; handwritten (height spread %.2f px, position spread %.2f px, digit height %.1f px)",
                                   spread.height, spread.position, spread.digitHeight)
                }
            }
            notes[c] = note
        }
        // Marks much smaller than the numbers of the other columns (specks, broken print) are not
        // numbers either.
        let heights = (0..<columns).map { c in
            median((headerRows..<rows).compactMap { cutAt[$0][c] }.filter { filled($0) }
                .map { cut in median(cut.digits.map { Double($0.box.height) }) })
        }
        let typical = median(kinds.indices.filter { kinds[$0] == .numeric }.map { heights[$0] })
        if table.numericColumns.given == nil {
            for c in 0..<columns where kinds[c] == .numeric && !table.dateColumns.contains(c) && heights[c] < 0.6 * typical {
                kinds[c] = .text
                notes[c] += String(format: "; marks too small for numbers (%.1f px against %.1f px)", heights[c], typical)
            }
        }
        return TableLayout(headerRows: headerRows, thinRows: thinRows, columnKinds: kinds, notes: notes)
    }

    struct Spread {
        /// Median absolute deviation of the cells' digit heights, px.
        var height: Double
        /// The smallest median absolute deviation of the left edges, right edges and centres.
        var position: Double
        var digitHeight: Double
        /// Type is exact: half a pixel of spread is what binarising a printed digit leaves; a
        /// neat hand over a few rows can come close, so the test is strict, and columns of row
        /// numbers that pass it anyway are caught after reading (`ClassifyStage.rowLabelColumns`).
        var isPrinted: Bool { height <= 0.75 && position <= 1 }
    }

    /// How much the numbers of a column vary in height and position, or nil with too few cells
    /// to tell (fewer than 12: over a few rows a neat hand is as regular as type).
    static func printSpread(_ cuts: [CutCell]) -> Spread? {
        guard cuts.count >= 12 else { return nil }
        var heights: [Double] = [], lefts: [Double] = [], rights: [Double] = [], centres: [Double] = []
        for cut in cuts {
            heights.append(median(cut.digits.map { Double($0.box.height) }))
            let left = Double(cut.digits.map(\.box.minX).min()!), right = Double(cut.digits.map(\.box.maxX).max()!)
            lefts.append(left)
            rights.append(right)
            centres.append((left + right) / 2)
        }
        return Spread(height: deviation(heights), position: min(deviation(lefts), deviation(rights), deviation(centres)),
                      digitHeight: median(heights))
    }

    static func median(_ values: [Double]) -> Double { values.median }

    /// Median absolute deviation from the median.
    static func deviation(_ values: [Double]) -> Double { values.medianAbsoluteDeviation }
}
