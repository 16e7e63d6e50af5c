import Foundation
import Imaging
import NeuralNet
import Recognition

// Stage 3, segment: the ruled table (Imaging's `detectTableGrid`: long, broken, faded, slightly
// curved rules), every cell cut into digit components (Recognition's `CellDigitCutter`: rule
// remnants and underlines removed, fragments joined, touching digits split, the decimal
// separator found, left to right), then the table's layout: which top rows are the printed
// header and which columns hold handwritten numbers (`SegmentStage+Layout.swift`), unless the
// pipeline's table hints say. Output: `segment.json` with the numeric cells, their boxes and
// their digits' ink.

public struct SegmentedDigit: Codable, Equatable, Sendable {
    /// minX, minY, maxX, maxY in the cell image, inclusive.
    public var box: [Int]
    /// The digit's own ink over its box, row-major, one bit a pixel (1 = ink), base64.
    public var ink: String
}

public struct SegmentedCell: Codable, Equatable, Sendable {
    public var row: Int
    public var column: Int
    /// From the table hints; "" when none.
    public var name: String
    /// Corners on the straightened page: top-left, top-right, bottom-right, bottom-left (x, y).
    public var corners: [Double]
    /// x, y, width, height on the scan as it was (the straightening undone).
    public var box: [Int]
    /// Width and height of the cell image the digits were cut from.
    public var size: [Int]
    public var digits: [SegmentedDigit]
    public var separatorIndex: Int?
    public var separatorBox: [Int]?
    public var dropped: Int
    /// Runs of touching digits that may be one digit split by the cutter: [first, end) index
    /// pairs, classified joined as well (`CutCell.joinCandidates`).
    public var joins: [[Int]]
    /// A minus sign before the digits (`CutCell.minusBox`), when found.
    public var minusBox: [Int]? = nil

    enum CodingKeys: String, CodingKey {
        case row, column, name, corners, box, size, digits, separatorIndex = "separator_index"
        case separatorBox = "separator_box", dropped, joins, minusBox = "minus_box"
    }

    /// Normalised images the cell contributes to normalized.bin: its digits, then its joins.
    public var entryCount: Int { digits.count + joins.count }
}

/// What a column of the table holds, as decided from its body cells (or the hints).
public enum ColumnKind: String, Codable, Sendable {
    /// Handwritten numbers: read.
    case numeric
    /// Printed numbers (row labels): the same height and position in every row.
    case printed
    /// Ink that does not cut into numbers (words, long marks).
    case text
    /// Too few cells with ink.
    case empty
}

public struct SegmentedPage: Codable, Equatable, Sendable {
    public var width: Int
    public var height: Int
    /// Degrees the binarize stage removed.
    public var skew: Double
    public var rows: Int
    public var columns: Int
    public var horizontalRules: Int
    public var verticalRules: Int
    public var headerRows: Int
    /// Spacer rows left out (much thinner than the others).
    public var thinRows: [Int]
    public var columnKinds: [ColumnKind]
    /// Per column, the evidence for its kind.
    public var columnNotes: [String]
    public var maxDigits: Int
    /// The cells to read (numeric columns, below the header), row by row.
    public var cells: [SegmentedCell]

    enum CodingKeys: String, CodingKey {
        case width, height, skew, rows, columns, horizontalRules = "horizontal_rules", verticalRules = "vertical_rules"
        case headerRows = "header_rows", thinRows = "thin_rows", columnKinds = "column_kinds", columnNotes = "column_notes"
        case maxDigits = "max_digits", cells
    }
}

public enum SegmentStage {
    /// The stage's work on one page; also returns the grid and every cell's cut, for the debug
    /// drawing. Throws when no table is found.
    public static func segment(_ page: BinarizedPage, parameters p: SegmentParameters, table: TableHints) throws
        -> (page: SegmentedPage, grid: TableGrid, layout: TableLayout) {
        var options = TableGridOptions()
        options.minimumRuleLengthFraction = p.minRuleLength
        options.minimumCoverage = p.minRuleCoverage
        options.threads = Threads.count
        let grid = detectTableGrid(in: page.image, options: options)
        guard grid.cells.count >= 2 else {
            throw PipelineError(path: "", problem: "no ruled table found (\(grid.horizontalRules.count) horizontal and "
                                + "\(grid.verticalRules.count) vertical rules, \(grid.cells.count) cells)")
        }
        // Every cell cut into digits, cells spread over the threads.
        var cuts = [CutCell?](repeating: nil, count: grid.cells.count)
        var sizes = [(Int, Int)](repeating: (0, 0), count: grid.cells.count)
        cuts.withUnsafeMutableBufferPointer { cutSlots in
            sizes.withUnsafeMutableBufferPointer { sizeSlots in
                Threads.forEachChunk(grid.cells.count, minimumPerChunk: 8) { range in
                    for index in range {
                        let image = grid.cellImage(grid.cells[index], from: page.image, inset: p.cellInset)
                        sizeSlots[index] = (image.width, image.height)
                        cutSlots[index] = cutPadded(image, padding: p.cellPadding)
                    }
                }
            }
        }
        let layout = TableLayout.decide(grid: grid, cuts: cuts.map { $0! }, parameters: p, table: table)

        var cells: [SegmentedCell] = []
        // The layout is decided on the page's own binarization; where the page has fainter digit
        // ink, the cells read are cut again from it.
        let kept = grid.cells.indices.filter { index in
            let cell = grid.cells[index]
            return cell.row >= layout.headerRows && !layout.thinRows.contains(cell.row) && layout.columnKinds[cell.column] == .numeric
        }
        if let ink = page.digitInk {
            cuts.withUnsafeMutableBufferPointer { cutSlots in
                Threads.forEachChunk(kept.count, minimumPerChunk: 8) { range in
                    for k in range {
                        let index = kept[k]
                        cutSlots[index] = cutPadded(grid.cellImage(grid.cells[index], from: ink, inset: p.cellInset), padding: p.cellPadding)
                    }
                }
            }
        }
        for index in kept {
            let cell = grid.cells[index]
            let cut = cuts[index]!
            let corners = [cell.topLeft, cell.topRight, cell.bottomRight, cell.bottomLeft]
            cells.append(SegmentedCell(
                row: cell.row, column: cell.column, name: table.name(column: cell.column),
                corners: corners.flatMap { [$0.x, $0.y] },
                box: scanBox(corners, skew: page.skew, width: page.image.width, height: page.image.height),
                size: [sizes[index].0, sizes[index].1],
                digits: cut.digits.map { SegmentedDigit(box: [$0.box.minX, $0.box.minY, $0.box.maxX, $0.box.maxY],
                                                        ink: packInk($0.image)) },
                separatorIndex: cut.separatorIndex,
                separatorBox: cut.separatorBox.map { [$0.minX, $0.minY, $0.maxX, $0.maxY] },
                dropped: cut.droppedComponents,
                joins: cut.joinCandidates.map { [$0.lowerBound, $0.upperBound] },
                minusBox: cut.minusBox.map { [$0.minX, $0.minY, $0.maxX, $0.maxY] }))
        }
        let result = SegmentedPage(width: page.image.width, height: page.image.height, skew: page.skew,
                                   rows: grid.rowCount, columns: grid.columnCount,
                                   horizontalRules: grid.horizontalRules.count, verticalRules: grid.verticalRules.count,
                                   headerRows: layout.headerRows, thinRows: layout.thinRows, columnKinds: layout.columnKinds,
                                   columnNotes: layout.notes, maxDigits: p.maxDigits, cells: cells)
        return (result, grid, layout)
    }

    /// `CellDigitCutter.cut` on the cell with `padding` x its width of white added left and
    /// right; boxes are given back in the cell's own coordinates.
    static func cutPadded(_ cell: GrayImage, padding: Double) -> CutCell {
        let pad = Int((Double(cell.width) * padding).rounded())
        guard pad > 0, cell.width > 0, cell.height > 0 else { return CellDigitCutter.cut(cell: cell) }
        var padded = GrayImage(width: cell.width + 2 * pad, height: cell.height, fill: 1)
        for y in 0..<cell.height {
            for x in 0..<cell.width { padded.pixels[y * padded.width + pad + x] = cell.pixels[y * cell.width + x] }
        }
        let cut = CellDigitCutter.cut(cell: padded)
        func shifted(_ box: CutCell.Box) -> CutCell.Box {
            CutCell.Box(minX: box.minX - pad, minY: box.minY, maxX: box.maxX - pad, maxY: box.maxY)
        }
        return CutCell(restoringDigits: cut.digits.map { CutCell.Digit(restoringBox: shifted($0.box), image: $0.image) },
                       separatorIndex: cut.separatorIndex, separatorBox: cut.separatorBox.map(shifted),
                       droppedComponents: cut.droppedComponents, minusBox: cut.minusBox.map(shifted))
    }

    /// The axis-aligned box on the scan around corners found on the straightened page: the
    /// straightening (a turn by -skew about the centre) undone.
    static func scanBox(_ corners: [GridPoint], skew: Double, width: Int, height: Int) -> [Int] {
        let theta = skew * .pi / 180, c = cos(theta), s = sin(theta)
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        let turned = corners.map { point -> (Double, Double) in
            let x = point.x - cx, y = point.y - cy
            return (c * x + s * y + cx, -s * x + c * y + cy)
        }
        let x0 = max(0, Int(turned.map(\.0).min()!.rounded(.down)))
        let y0 = max(0, Int(turned.map(\.1).min()!.rounded(.down)))
        let x1 = min(width - 1, Int(turned.map(\.0).max()!.rounded(.up)))
        let y1 = min(height - 1, Int(turned.map(\.1).max()!.rounded(.up)))
        return [x0, y0, max(0, x1 - x0 + 1), max(0, y1 - y0 + 1)]
    }

    /// A digit crop (0 = ink, 1 = paper) as bits, 1 = ink, row-major, base64.
    static func packInk(_ image: GrayImage) -> String {
        var bytes = [UInt8](repeating: 0, count: (image.pixels.count + 7) / 8)
        for (index, value) in image.pixels.enumerated() where value < 0.5 { bytes[index >> 3] |= UInt8(0x80 >> (index & 7)) }
        return Data(bytes).base64EncodedString()
    }

    /// The digit crop back from `packInk`.
    static func unpackInk(_ text: String, width: Int, height: Int) throws -> GrayImage {
        guard width > 0, height > 0, let data = Data(base64Encoded: text), data.count == (width * height + 7) / 8 else {
            throw PipelineError(path: "", problem: "damaged digit ink in segment.json")
        }
        let bytes = [UInt8](data)
        var image = GrayImage(width: width, height: height, fill: 1)
        for index in 0..<(width * height) where bytes[index >> 3] & UInt8(0x80 >> (index & 7)) != 0 { image.pixels[index] = 0 }
        return image
    }

    /// The stored cell back as the cutter's result.
    public static func cut(of cell: SegmentedCell) throws -> CutCell {
        func box(_ b: [Int]) throws -> CutCell.Box {
            guard b.count == 4 else { throw PipelineError(path: "", problem: "damaged box in segment.json") }
            return CutCell.Box(minX: b[0], minY: b[1], maxX: b[2], maxY: b[3])
        }
        let digits = try cell.digits.map { digit -> CutCell.Digit in
            let b = try box(digit.box)
            return CutCell.Digit(restoringBox: b, image: try unpackInk(digit.ink, width: b.width, height: b.height))
        }
        return CutCell(restoringDigits: digits, separatorIndex: cell.separatorIndex,
                       separatorBox: try cell.separatorBox.map(box), droppedComponents: cell.dropped,
                       minusBox: try cell.minusBox.map(box))
    }

    // MARK: I/O

    static let outputName = "segment.json"
    static let debugName = "segment-debug.png"

    static func run(page: BinarizedPage, record: PageRecord, inputs: [String: String], config: PipelineConfig,
                    fingerprint: String, folder: RunFolder, debug: Bool) throws -> (SegmentedPage, StageRecord) {
        let start = Clock.tick
        let (segmented, grid, layout) = try segment(page, parameters: config.segment, table: config.table)
        let relative = folder.pageFile(record.id, outputName)
        let data = try PageFiles.encode(segmented)
        try AtomicFile.write(data, to: folder.path(relative))
        var outputs = [relative: SHA256.hex(data)]
        if debug {
            let debugPath = folder.pageFile(record.id, debugName)
            try writePNG(drawSegmentDebug(grid: grid, layout: layout, page: page.image, segmented: segmented),
                         to: folder.path(debugPath))
            outputs[debugPath] = try SHA256.hex(fileAt: folder.path(debugPath))
        }
        let digits = segmented.cells.reduce(0) { $0 + $1.digits.count }
        let info = ["grid": "\(segmented.rows)x\(segmented.columns)", "cells": String(segmented.cells.count),
                    "digits": String(digits), "header_rows": String(segmented.headerRows),
                    "numeric_columns": layout.numericColumns.map(String.init).joined(separator: " ")]
        return (segmented, StageRecord(status: .done, inputs: inputs, parameters: fingerprint, outputs: outputs,
                                       seconds: Clock.seconds(since: start), finished: Clock.now(), error: nil, info: info))
    }

    static func load(record: PageRecord, folder: RunFolder) throws -> SegmentedPage {
        try PageFiles.decode(SegmentedPage.self, from: folder.path(folder.pageFile(record.id, outputName)))
    }
}

/// JSON for the per-page files (sorted keys, so equal content gives equal bytes and checksums).
enum PageFiles {
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }

    static func decode<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError(path: path, problem: "missing (run the stage that writes it)")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw PipelineError(path: path, problem: "damaged: \(error)")
        }
    }
}
