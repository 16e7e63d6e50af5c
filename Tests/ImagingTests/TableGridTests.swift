import Foundation
import XCTest
@testable import Imaging

// MARK: - Synthetic pages

/// A ruled table drawn onto an RGB canvas (then taken as gray): rule centre lines at known places.
struct SyntheticTable {
    var width = 720
    var height = 700
    var rows = 12
    var columns = 6
    var left = 45.0
    var top = 60.0
    var cellWidth = 105.0
    var cellHeight = 48.0
    var thickness = 3.0
    /// Downward sag of every horizontal rule at the table's middle (parabolic, 0 at both ends).
    var sag = 0.0
    /// Clockwise tilt: y grows by `tilt` per px of x, x shrinks by `tilt` per px of y.
    var tilt = 0.0
    /// A fold: right of `foldX`, horizontal rules are `foldStep` px lower, ramping over `foldWidth` px.
    var foldStep = 0.0
    var foldX = 380.0
    var foldWidth = 24.0

    var right: Double { left + Double(columns) * cellWidth }
    var bottom: Double { top + Double(rows) * cellHeight }

    /// Exact centre line of horizontal rule r at x.
    func ruleY(_ r: Int, at x: Double) -> Double {
        let u = (x - left) / (right - left)
        let f = min(max((x - foldX) / foldWidth + 0.5, 0), 1)
        return top + Double(r) * cellHeight + sag * 4 * u * (1 - u) + tilt * (x - left) + foldStep * f * f * (3 - 2 * f)
    }

    /// Exact centre line of vertical rule c at y.
    func ruleX(_ c: Int, at y: Double) -> Double {
        left + Double(c) * cellWidth - tilt * (y - top)
    }

    /// Where horizontal rule r meets vertical rule c (fixed point).
    func corner(_ r: Int, _ c: Int) -> GridPoint {
        var x = ruleX(c, at: top + Double(r) * cellHeight)
        var y = ruleY(r, at: x)
        for _ in 0..<10 { x = ruleX(c, at: y); y = ruleY(r, at: x) }
        return GridPoint(x: x, y: y)
    }

    /// Draws the rules. `gaps` lists (horizontal rule, gap centre x) holes of `gapLength` px;
    /// `thin` rules are 1 px; `doubled` rules are drawn as two 2-px lines `doubleSpacing` apart
    /// (their centre stays at the nominal position).
    func draw(on canvas: inout RGBImage, gaps: [(Int, Double)] = [], gapLength: Double = 15,
              verticalGaps: [(Int, Double)] = [], thin: Set<Int> = [], doubled: Set<Int> = [],
              doubleSpacing: Double = 5, ink: RGBColor = .black) {
        let step = 4.0
        for r in 0...rows {
            let holes = gaps.filter { $0.0 == r }.map { ($0.1 - gapLength / 2, $0.1 + gapLength / 2) }
            var x = left - thickness / 2
            let end = right + thickness / 2
            let t = thin.contains(r) ? 1.0 : thickness
            while x < end {
                let nx = min(x + step, end)
                let mid = (x + nx) / 2
                if !holes.contains(where: { mid >= $0.0 && mid <= $0.1 }) {
                    if doubled.contains(r) {
                        for offset in [-doubleSpacing / 2, doubleSpacing / 2] {
                            canvas.drawLine(from: (x, ruleY(r, at: x) + offset), to: (nx, ruleY(r, at: nx) + offset),
                                            thickness: 2, color: ink)
                        }
                    } else {
                        canvas.drawLine(from: (x, ruleY(r, at: x)), to: (nx, ruleY(r, at: nx)), thickness: t, color: ink)
                    }
                }
                x = nx
            }
        }
        for c in 0...columns {
            let holes = verticalGaps.filter { $0.0 == c }.map { ($0.1 - gapLength / 2, $0.1 + gapLength / 2) }
            var y = top - thickness / 2
            let end = bottom + thickness / 2 + sag
            while y < end {
                let ny = min(y + step, end)
                let mid = (y + ny) / 2
                if !holes.contains(where: { mid >= $0.0 && mid <= $0.1 }) {
                    canvas.drawLine(from: (ruleX(c, at: y), y), to: (ruleX(c, at: ny), ny), thickness: thickness, color: ink)
                }
                y = ny
            }
        }
    }
}

func grayFromCanvas(_ canvas: RGBImage) -> GrayImage {
    var pixels = [Float](repeating: 1, count: canvas.width * canvas.height)
    for i in pixels.indices {
        let r = Float(canvas.pixels[3 * i]), g = Float(canvas.pixels[3 * i + 1]), b = Float(canvas.pixels[3 * i + 2])
        pixels[i] = (0.299 * r + 0.587 * g + 0.114 * b) / 255
    }
    return GrayImage(width: canvas.width, height: canvas.height, pixels: pixels)
}

/// Hard threshold at 0.5 (what the binariser will hand over).
func binarised(_ image: GrayImage) -> GrayImage {
    GrayImage(width: image.width, height: image.height, pixels: image.pixels.map { $0 < 0.5 ? 0 : 1 })
}

/// A small deterministic generator so "handwriting" is the same on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Handwriting-like scribbles: 2-4 "digits" per cell, each a horizontal bar (like a 7's or 5's),
/// a slanted stem and a wobbly curl, plus a 60-px dash in every third cell, a whole-cell
/// underline in a few, and printed header text.
func scribble(in table: SyntheticTable, on canvas: inout RGBImage, seed: UInt64 = 7) {
    var rng = SplitMix(state: seed)
    let ink = RGBColor(red: 30, green: 30, blue: 60)
    for r in 0..<table.rows {
        for c in 0..<table.columns {
            let x0 = table.left + Double(c) * table.cellWidth + 10
            let y0 = table.top + Double(r) * table.cellHeight + 8
            let digits = Int.random(in: 2...4, using: &rng)
            var bx = x0
            for _ in 0..<digits {
                // Each digit sits a little higher or lower; a bar (like a 7's or 5's), a stem, a curl.
                let by = y0 + Double.random(in: -3...3, using: &rng)
                let bar = Double.random(in: 10...18, using: &rng)
                canvas.drawLine(from: (bx, by + 4), to: (bx + bar, by + 4 + Double.random(in: -2...2, using: &rng)),
                                thickness: 2.5, color: ink)
                canvas.drawLine(from: (bx + bar, by + 4), to: (bx + 5, by + 30), thickness: 2.5, color: ink)
                var px = bx + 4, py = by + 18
                for _ in 0..<6 {
                    let nx = px + Double.random(in: -6...8, using: &rng)
                    let ny = py + Double.random(in: -6...6, using: &rng)
                    canvas.drawLine(from: (px, py), to: (nx, min(max(ny, by), by + 30)), thickness: 2, color: ink)
                    px = nx; py = min(max(ny, by), by + 30)
                }
                bx += Double.random(in: 20...26, using: &rng)
            }
            // An underline-like dash inside some cells (long-ish, but far shorter than a rule).
            if (r + c) % 3 == 0 {
                canvas.drawLine(from: (x0, y0 + 34), to: (x0 + 60, y0 + 35), thickness: 2, color: ink)
            }
            if (r * 7 + c) % 11 == 0 {
                canvas.drawLine(from: (x0 - 4, y0 + 37), to: (x0 + table.cellWidth - 14, y0 + 37), thickness: 2, color: ink)
            }
        }
    }
    // Printed header text above the table.
    canvas.drawText("STATION 14  MAX MIN RAIN WIND", x: Int(table.left), y: Int(table.top) - 30, scale: 2)
}

// MARK: - Tests

final class TableGridTests: XCTestCase {
    func page(_ table: SyntheticTable, scribbles: Bool = false,
              _ drawRules: (inout RGBImage) -> Void) -> GrayImage {
        var canvas = RGBImage(width: table.width, height: table.height)
        drawRules(&canvas)
        if scribbles { scribble(in: table, on: &canvas) }
        return binarised(grayFromCanvas(canvas))
    }

    /// Every expected cell is present and its corners are within `tolerance` px.
    func assertGrid(_ grid: TableGrid, matches table: SyntheticTable, tolerance: Double = 2,
                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(grid.horizontalRules.count, table.rows + 1, "horizontal rules", file: file, line: line)
        XCTAssertEqual(grid.verticalRules.count, table.columns + 1, "vertical rules", file: file, line: line)
        XCTAssertEqual(grid.rowCount, table.rows, file: file, line: line)
        XCTAssertEqual(grid.columnCount, table.columns, file: file, line: line)
        XCTAssertEqual(grid.cells.count, table.rows * table.columns, "cells", file: file, line: line)
        guard grid.rowCount == table.rows, grid.columnCount == table.columns else { return }
        var worst = 0.0
        for cell in grid.cells {
            let expected = [table.corner(cell.row, cell.column), table.corner(cell.row, cell.column + 1),
                            table.corner(cell.row + 1, cell.column), table.corner(cell.row + 1, cell.column + 1)]
            let found = [cell.topLeft, cell.topRight, cell.bottomLeft, cell.bottomRight]
            for (e, f) in zip(expected, found) {
                if max(abs(e.x - f.x), abs(e.y - f.y)) > tolerance {
                    print("cell (\(cell.row), \(cell.column)): expected \(e), found \(f)")
                }
                worst = max(worst, abs(e.x - f.x), abs(e.y - f.y))
            }
        }
        XCTAssertLessThanOrEqual(worst, tolerance, "largest corner error", file: file, line: line)
    }

    func testRegularTableTwelveBySix() {
        let table = SyntheticTable()
        let binary = page(table) { table.draw(on: &$0) }
        let grid = detectTableGrid(in: binary)
        assertGrid(grid, matches: table)
        // Cells are row-major and indexed consistently.
        XCTAssertEqual(grid.cells.first?.row, 0)
        XCTAssertEqual(grid.cells.last?.row, 11)
        XCTAssertEqual(grid.cells.last?.column, 5)
        let box = grid.cell(row: 3, column: 2)!.boundingBox
        XCTAssertEqual(Double(box.x), table.left + 2 * table.cellWidth, accuracy: 2)
        XCTAssertEqual(Double(box.y), table.top + 3 * table.cellHeight, accuracy: 2)
        XCTAssertEqual(Double(box.width), table.cellWidth, accuracy: 2)
        XCTAssertEqual(Double(box.height), table.cellHeight, accuracy: 2)
        for rule in grid.horizontalRules + grid.verticalRules {
            XCTAssertGreaterThan(rule.coverage, 0.95)
            XCTAssertEqual(rule.thickness, 3, accuracy: 1.5)
        }
        XCTAssertEqual(grid.diagnostics.cellCount, 72)
        XCTAssertEqual(grid.diagnostics.missingCells, 0)
    }

    func testBrokenRulesStayOneRule() {
        let table = SyntheticTable()
        // Several 15-px holes in rules 0, 4 and 12 and in vertical rules 0 and 3.
        let gaps: [(Int, Double)] = [(0, 100), (0, 300), (0, 520), (4, 200), (4, 420), (4, 610), (12, 380)]
        let verticalGaps: [(Int, Double)] = [(0, 200), (0, 400), (3, 150), (3, 500)]
        let binary = page(table) { table.draw(on: &$0, gaps: gaps, verticalGaps: verticalGaps) }
        let grid = detectTableGrid(in: binary)
        assertGrid(grid, matches: table)
        XCTAssertEqual(grid.horizontalRules[0].fragmentCount, 4)
        XCTAssertEqual(grid.horizontalRules[4].fragmentCount, 4)
        XCTAssertEqual(grid.verticalRules[3].fragmentCount, 3)
        XCTAssertLessThan(grid.horizontalRules[4].coverage, 0.95)
    }

    /// A vertical rule over only part of the table (a fold's crease taken for a rule, or a
    /// column split below a merged header): rows it does not reach get one cell across it,
    /// closed by the next rule that does reach them; the other rows keep both cells.
    func testARuleThatStopsShortDoesNotCloseTheCellsItMisses() {
        let table = SyntheticTable()
        let binary = page(table) { canvas in
            table.draw(on: &canvas)
            let x = Int(table.ruleX(3, at: table.top).rounded())
            for r in 0..<4 {
                let y0 = Int(table.top + Double(r) * table.cellHeight) + 4, y1 = Int(table.top + Double(r + 1) * table.cellHeight) - 4
                canvas.fillRect(x: x - 4, y: y0, width: 9, height: y1 - y0, color: .white)
            }
        }
        let grid = detectTableGrid(in: binary)
        XCTAssertEqual(grid.verticalRules.count, table.columns + 1)
        XCTAssertEqual(grid.cells.count, table.rows * table.columns - 4)
        for r in 0..<4 {
            XCTAssertNil(grid.cell(row: r, column: 3))
            let merged = try! XCTUnwrap(grid.cell(row: r, column: 2))
            XCTAssertEqual(Double(merged.boundingBox.width), 2 * table.cellWidth, accuracy: 3)
        }
        for r in 4..<table.rows {
            XCTAssertEqual(Double(grid.cell(row: r, column: 2)!.boundingBox.width), table.cellWidth, accuracy: 3)
            XCTAssertNotNil(grid.cell(row: r, column: 3))
        }
    }

    func testLargeGapIsNotBridgedByDefaultButIsWithOption() {
        let table = SyntheticTable()
        // A 120-px hole in a middle rule: beyond the default gap of 40 px at this size, the two
        // halves are separate, each long enough to stay; with a larger gap option they join.
        let binary = page(table) { table.draw(on: &$0, gaps: [(6, 300)], gapLength: 120) }
        var options = TableGridOptions()
        options.maximumGap = 150
        let joined = detectTableGrid(in: binary, options: options)
        assertGrid(joined, matches: table)
        XCTAssertEqual(joined.horizontalRules[6].fragmentCount, 2)
    }

    func testFadedOnePixelRuleIsFound() {
        let table = SyntheticTable()
        // Rule 5 is 1 px thick and pale gray (binarised as ink), rule 9 is 1 px with pin-holes.
        var canvas = RGBImage(width: table.width, height: table.height)
        table.draw(on: &canvas, thin: [5, 9])
        var gray = grayFromCanvas(canvas)
        // Pin-holes of 1-2 px every 23 px along rule 9.
        let y9 = Int(table.ruleY(9, at: 0).rounded())
        var x = Int(table.left) + 5
        while x < Int(table.right) {
            for dx in 0..<2 { for dy in -1...1 { gray[x + dx, y9 + dy] = 1 } }
            x += 23
        }
        let grid = detectTableGrid(in: binarised(gray))
        assertGrid(grid, matches: table)
        XCTAssertLessThanOrEqual(grid.horizontalRules[5].thickness, 2)
    }

    func testSlightlyCurvedRulesAreOneRuleAndCellsFollowThem() {
        var table = SyntheticTable()
        table.sag = 5
        let binary = page(table) { table.draw(on: &$0) }
        let grid = detectTableGrid(in: binary)
        assertGrid(grid, matches: table, tolerance: 2)
        for (r, rule) in grid.horizontalRules.enumerated() {
            XCTAssertEqual(rule.fragmentCount, 1)
            // The rule follows the sag: middle ~5 px below the ends.
            let mid = (table.left + table.right) / 2
            XCTAssertEqual(rule.position(at: mid), table.ruleY(r, at: mid), accuracy: 1)
            XCTAssertEqual(rule.position(at: table.left + 10), table.ruleY(r, at: table.left + 10), accuracy: 1)
            XCTAssertLessThan(rule.coefficients[2], 0, "sagging: y largest in the middle (y grows downwards)")
            XCTAssertEqual(rule.fitted(at: mid), table.ruleY(r, at: mid), accuracy: 1)
        }
    }

    func testRuleSteppedAtAFoldStaysOneRule() {
        var table = SyntheticTable()
        table.foldStep = 12   // far beyond the across tolerance; ink joins the two sides
        let binary = page(table) { table.draw(on: &$0) }
        let grid = detectTableGrid(in: binary)
        assertGrid(grid, matches: table, tolerance: 2)
        for rule in grid.horizontalRules {
            XCTAssertEqual(rule.position(at: 600) - rule.position(at: 200), 12, accuracy: 1.5)
        }
    }

    func testRulesMeetingACrossingRuleAtDifferentHeightsAreNotJoined() {
        let table = SyntheticTable()
        // Header rules ending at vertical rule 3 from both sides, 12 px apart: two rules, not a staircase.
        let binary = page(table) { canvas in
            table.draw(on: &canvas)
            let x3 = table.ruleX(3, at: 0)
            canvas.drawLine(from: (table.left, table.top + 30), to: (x3, table.top + 30), thickness: 3, color: .black)
            canvas.drawLine(from: (x3, table.top + 42), to: (table.right, table.top + 42), thickness: 3, color: .black)
        }
        let grid = detectTableGrid(in: binary)
        XCTAssertEqual(grid.horizontalRules.count, 15)
        let partial = grid.horizontalRules.filter { $0.length < 400 }
        XCTAssertEqual(partial.count, 2)
        for rule in partial { XCTAssertLessThan(rule.maximumResidual, 1.5, "straight, no step") }
    }

    /// A fold's crease across row 5, at its own slight angle, splits the row into two thin ones:
    /// it is no rule, so the row keeps its cells and the rows below their numbers. A printed
    /// rule through the middle of every row is parallel to the others and stays.
    func testAFoldsCreaseAcrossARowIsNoRule() {
        let table = SyntheticTable()
        let crease = page(table) {
            table.draw(on: &$0)
            $0.drawLine(from: (table.left, table.top + 5.3 * table.cellHeight),
                        to: (table.right, table.top + 5.7 * table.cellHeight), thickness: 2, color: .black)
        }
        assertGrid(detectTableGrid(in: crease), matches: table)
        var ruled = table
        ruled.rows = 2 * table.rows
        ruled.cellHeight = table.cellHeight / 2
        let halves = page(ruled) { ruled.draw(on: &$0) }
        XCTAssertEqual(detectTableGrid(in: halves).rowCount, 24, "a form ruled in half rows keeps them")
    }

    /// The edge of a skewed sheet, turned by the deskew, left of the table and within reach of its
    /// rules: a long line at its own angle with blank paper between it and the table's first rule.
    /// It is no rule (the first column stays column 0); a parallel rule there makes a column.
    func testThePagesEdgeBesideTheTableIsNoRule() {
        var table = SyntheticTable()
        table.left = 110
        table.width = 1200
        let edged = page(table) {
            table.draw(on: &$0)
            $0.drawLine(from: (60, 10), to: (75, Double(table.height) - 10), thickness: 2, color: .black)
        }
        assertGrid(detectTableGrid(in: edged), matches: table)
        let column = page(table) {
            table.draw(on: &$0)
            $0.drawLine(from: (67, 10), to: (67, Double(table.height) - 10), thickness: 2, color: .black)
        }
        XCTAssertEqual(detectTableGrid(in: column).columnCount, table.columns + 1, "a parallel rule makes a column")
        // A table ruled up to the image border (a photo cropped to the sheet): its first rule is
        // at the border, and its blank first column stays a column (the row rules cross it).
        var cropped = table
        cropped.left = 6
        assertGrid(detectTableGrid(in: page(cropped) { cropped.draw(on: &$0) }), matches: cropped)
    }

    func testSlightlyTiltedTable() {
        var table = SyntheticTable()
        table.tilt = 0.012   // about 0.7 degrees
        let binary = page(table) { table.draw(on: &$0) }
        let grid = detectTableGrid(in: binary)
        assertGrid(grid, matches: table, tolerance: 2)
    }

    func testHandwritingAndTextInsideCellsAreNotRules() {
        let table = SyntheticTable()
        let binary = page(table, scribbles: true) { table.draw(on: &$0) }
        let grid = detectTableGrid(in: binary)
        assertGrid(grid, matches: table)
        if ProcessInfo.processInfo.environment["LOGBOOK_GRID_VERBOSE"] != nil {
            for r in grid.horizontalRules {
                print(String(format: "y=%.1f x %.0f..%.0f cov %.2f thick %.1f frags %d resid %.2f", r.middlePosition, r.start, r.end, r.coverage, r.thickness, r.fragmentCount, r.maximumResidual))
            }
        }
    }

    func testPageWithoutTableHasNoCells() {
        let table = SyntheticTable()
        // Only handwriting and printed text, no rules.
        var canvas = RGBImage(width: table.width, height: table.height)
        scribble(in: table, on: &canvas, seed: 3)
        for line in 0..<8 {
            canvas.drawText("THE QUICK BROWN FOX 1234567890", x: 40, y: 20 + line * 80, scale: 3)
        }
        let grid = detectTableGrid(in: binarised(grayFromCanvas(canvas)))
        XCTAssertTrue(grid.cells.isEmpty)
        XCTAssertEqual(grid.rowCount, 0)
        XCTAssertEqual(grid.columnCount, 0)

        // A blank page and an all-black page too.
        let blank = detectTableGrid(in: GrayImage(width: 300, height: 200, fill: 1))
        XCTAssertTrue(blank.cells.isEmpty && blank.horizontalRules.isEmpty && blank.verticalRules.isEmpty)
        let black = detectTableGrid(in: GrayImage(width: 300, height: 200, fill: 0))
        XCTAssertTrue(black.cells.isEmpty, "a solid blob is not a grid")
        let empty = detectTableGrid(in: GrayImage(width: 0, height: 0, pixels: []))
        XCTAssertTrue(empty.cells.isEmpty)
    }

    func testDoubleLinesAreMerged() {
        let table = SyntheticTable()
        let binary = page(table) { table.draw(on: &$0, doubled: [0, 1, 12], doubleSpacing: 5) }
        let grid = detectTableGrid(in: binary)
        assertGrid(grid, matches: table, tolerance: 2)
        XCTAssertGreaterThanOrEqual(grid.diagnostics.mergedRules, 3, "three doubled rules")
        // The merged centre line lies between the two strokes.
        XCTAssertEqual(grid.horizontalRules[0].middlePosition, table.top, accuracy: 1.5)
    }

    func testCellImageIsRectifiedAndInsetDropsTheRules() {
        var table = SyntheticTable()
        table.sag = 5
        var canvas = RGBImage(width: table.width, height: table.height)
        table.draw(on: &canvas)
        // A filled square in the middle of cell (4, 2).
        let cx = table.left + 2.5 * table.cellWidth, cy = table.top + 4.5 * table.cellHeight + 5 * 4 * 0.5 * 0.5
        canvas.fillRect(x: Int(cx) - 8, y: Int(cy) - 8, width: 16, height: 16, color: .black)
        let binary = binarised(grayFromCanvas(canvas))
        let grid = detectTableGrid(in: binary)
        XCTAssertEqual(grid.cells.count, 72)
        guard let cell = grid.cell(row: 4, column: 2) else { return XCTFail("no cell (4, 2)") }
        let image = grid.cellImage(cell, from: binary, inset: 4)
        XCTAssertEqual(Double(image.width), table.cellWidth - 8, accuracy: 2)
        XCTAssertEqual(Double(image.height), table.cellHeight - 8, accuracy: 2)
        // No rule ink left at the borders; the square in the middle.
        var borderInk = 0
        for x in 0..<image.width { if image[x, 0] < 0.5 { borderInk += 1 }; if image[x, image.height - 1] < 0.5 { borderInk += 1 } }
        for y in 0..<image.height { if image[0, y] < 0.5 { borderInk += 1 }; if image[image.width - 1, y] < 0.5 { borderInk += 1 } }
        XCTAssertEqual(borderInk, 0)
        XCTAssertLessThan(image[image.width / 2, image.height / 2], 0.5)
        let ink = image.pixels.filter { $0 < 0.5 }.count
        XCTAssertEqual(Double(ink), 256, accuracy: 60)
        // Without inset, the rules show at the edges.
        let full = grid.cellImage(cell, from: binary, inset: 0)
        XCTAssertLessThan(full[full.width / 2, 0], 0.75)
    }

    func testDebugOverlay() throws {
        let table = SyntheticTable()
        let binary = page(table, scribbles: true) { table.draw(on: &$0) }
        let grid = detectTableGrid(in: binary)
        let overlay = drawDebug(grid: grid, on: binary)
        XCTAssertEqual(overlay.width, binary.width)
        XCTAssertEqual(overlay.height, binary.height)
        // A horizontal rule's pixel is painted red or orange, a vertical one's blue or purple.
        let y = Int(table.ruleY(3, at: 200).rounded())
        XCTAssertTrue([RGBColor.red, .orange].contains(overlay[200, y]), "\(overlay[200, y])")
        let x = Int(table.ruleX(2, at: 300).rounded())
        XCTAssertTrue([RGBColor.blue, .purple].contains(overlay[x, 300]), "\(overlay[x, 300])")
        let small = drawDebug(grid: grid, on: binary, scale: 0.5)
        XCTAssertEqual(small.width, 360)
        XCTAssertEqual(small.height, 350)
        if let dir = ProcessInfo.processInfo.environment["LOGBOOK_GRID_DEBUG_DIR"] {
            try writePNG(overlay, to: dir + "/synthetic-grid.png")
        }
    }

    // MARK: Timing and the real sheet (opt-in; run in a release build)

    /// LOGBOOK_GRID_BENCH=1: a 3000x3000 synthetic page with 40 x 12 cells and scribbles.
    func testTimingOn3000Page() throws {
        guard ProcessInfo.processInfo.environment["LOGBOOK_GRID_BENCH"] != nil else {
            throw XCTSkip("set LOGBOOK_GRID_BENCH=1 (release build) to time the detector")
        }
        var table = SyntheticTable()
        table.width = 3000; table.height = 3000
        table.rows = 40; table.columns = 12
        table.left = 150; table.top = 200
        table.cellWidth = 220; table.cellHeight = 66
        table.thickness = 5; table.sag = 12
        var canvas = RGBImage(width: 3000, height: 3000)
        table.draw(on: &canvas, gaps: [(3, 700), (10, 1500)], gapLength: 40)
        var small = table
        small.cellWidth = 220; small.cellHeight = 66
        scribble(in: table, on: &canvas, seed: 11)
        let binary = binarised(grayFromCanvas(canvas))
        var options = TableGridOptions()
        options.threads = 2
        var times: [Double] = []
        var grid = detectTableGrid(in: binary, options: options)
        for _ in 0..<7 {
            let start = Date()
            grid = detectTableGrid(in: binary, options: options)
            times.append(Date().timeIntervalSince(start))
        }
        times.sort()
        print("TableGrid 3000x3000: median \(times[times.count / 2]) s, best \(times[0]) s; diagnostics \(grid.diagnostics)")
        assertGrid(grid, matches: table, tolerance: 2)
    }

    /// LOGBOOK_GRID_REAL_SHEET=1: the photographed climate sheet from ../shared, overlay to /tmp.
    func testRealSheet() throws {
        guard ProcessInfo.processInfo.environment["LOGBOOK_GRID_REAL_SHEET"] != nil else {
            throw XCTSkip("set LOGBOOK_GRID_REAL_SHEET=1 (release build) to run on the real sheet")
        }
        let path = ProcessInfo.processInfo.environment["LOGBOOK_GRID_SHEET"]
            ?? "/work/shared/data/pages/inera-climate-sheet.jpg"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("no \(path)") }
        let out = ProcessInfo.processInfo.environment["LOGBOOK_GRID_OUT"] ?? "/tmp/tablegrid"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let gray = try loadGrayImage(at: path)
        var start = Date()
        let binary = sauvolaForTests(gray, window: 51, k: 0.2)
        let binarisation = Date().timeIntervalSince(start)
        start = Date()
        let grid = detectTableGrid(in: binary)
        let detection = Date().timeIntervalSince(start)
        print("real sheet \(gray.width)x\(gray.height): binarise \(binarisation) s, detect \(detection) s")
        print("diagnostics: \(grid.diagnostics)")
        for (i, rule) in grid.horizontalRules.enumerated() {
            print(String(format: "H%02d y=%7.1f x %5.0f..%5.0f cov %.2f thick %.1f frags %d resid %.1f",
                         i, rule.middlePosition, rule.start, rule.end, rule.coverage, rule.thickness, rule.fragmentCount, rule.maximumResidual))
        }
        for (i, rule) in grid.verticalRules.enumerated() {
            print(String(format: "V%02d x=%7.1f y %5.0f..%5.0f cov %.2f thick %.1f frags %d resid %.1f",
                         i, rule.middlePosition, rule.start, rule.end, rule.coverage, rule.thickness, rule.fragmentCount, rule.maximumResidual))
        }
        let scale = 1400.0 / Double(max(gray.width, gray.height))
        try writePNG(drawDebug(grid: grid, on: gray, scale: scale), to: out + "/overlay.png")
        try writePNG(binary.resized(width: Int(Double(gray.width) * scale), height: Int(Double(gray.height) * scale)),
                     to: out + "/binary.png")
        // Full-resolution crops of a few regions for close inspection.
        let full = drawDebug(grid: grid, on: gray, scale: 1)
        for (name, x, y) in [("crop-centre", gray.width / 2 - 600, gray.height / 2 - 600),
                             ("crop-topleft", 0, 0), ("crop-bottomright", gray.width - 1200, gray.height - 1200)] {
            var crop = RGBImage(width: 1200, height: 1200)
            for yy in 0..<1200 {
                for xx in 0..<1200 where x + xx < full.width && y + yy < full.height && x + xx >= 0 && y + yy >= 0 {
                    crop[xx, yy] = full[x + xx, y + yy]
                }
            }
            try writePNG(crop, to: out + "/\(name).png")
        }
        // LOGBOOK_GRID_CROP="x,y,w,h": that region at full resolution, gray, binary and overlay.
        if let spec = ProcessInfo.processInfo.environment["LOGBOOK_GRID_CROP"] {
            let v = spec.split(separator: ",").compactMap { Int($0) }
            if v.count == 4 {
                try writePNG(gray.cropped(x: v[0], y: v[1], width: v[2], height: v[3]), to: out + "/region-gray.png")
                try writePNG(binary.cropped(x: v[0], y: v[1], width: v[2], height: v[3]), to: out + "/region-binary.png")
                var crop = RGBImage(width: v[2], height: v[3])
                for yy in 0..<v[3] {
                    for xx in 0..<v[2] where v[0] + xx < full.width && v[1] + yy < full.height {
                        crop[xx, yy] = full[v[0] + xx, v[1] + yy]
                    }
                }
                try writePNG(crop, to: out + "/region-overlay.png")
            }
        }
        // A few rectified cells (LOGBOOK_GRID_CELLS="row,column;row,column"; default: some near the middle).
        let wanted = (ProcessInfo.processInfo.environment["LOGBOOK_GRID_CELLS"] ?? "\(grid.rowCount / 2),\(grid.columnCount / 2)")
            .split(separator: ";").map { $0.split(separator: ",").compactMap { Int($0) } }.filter { $0.count == 2 }
        for rc in wanted {
            if let cell = grid.cell(row: rc[0], column: rc[1]) {
                try writePNG(grid.cellImage(cell, from: gray, inset: 3), to: out + "/cell-\(rc[0])-\(rc[1]).png")
            }
        }
    }
}

/// Sauvola's local threshold with an integral image (test helper only: the project's real
/// binariser lives elsewhere). Ink (0) where v < m (1 + k (s / 0.5 - 1)).
func sauvolaForTests(_ image: GrayImage, window: Int, k: Float) -> GrayImage {
    let w = image.width, h = image.height
    var sum = [Double](repeating: 0, count: (w + 1) * (h + 1))
    var squares = [Double](repeating: 0, count: (w + 1) * (h + 1))
    for y in 0..<h {
        var rowSum = 0.0, rowSquares = 0.0
        for x in 0..<w {
            let v = Double(image.pixels[y * w + x])
            rowSum += v; rowSquares += v * v
            sum[(y + 1) * (w + 1) + x + 1] = sum[y * (w + 1) + x + 1] + rowSum
            squares[(y + 1) * (w + 1) + x + 1] = squares[y * (w + 1) + x + 1] + rowSquares
        }
    }
    let r = window / 2
    var out = [Float](repeating: 1, count: w * h)
    for y in 0..<h {
        let y0 = max(0, y - r), y1 = min(h, y + r + 1)
        for x in 0..<w {
            let x0 = max(0, x - r), x1 = min(w, x + r + 1)
            let n = Double((x1 - x0) * (y1 - y0))
            let a = sum[y1 * (w + 1) + x1] - sum[y0 * (w + 1) + x1] - sum[y1 * (w + 1) + x0] + sum[y0 * (w + 1) + x0]
            let b = squares[y1 * (w + 1) + x1] - squares[y0 * (w + 1) + x1] - squares[y1 * (w + 1) + x0] + squares[y0 * (w + 1) + x0]
            let mean = a / n
            let sd = (max(b / n - mean * mean, 0)).squareRoot()
            let threshold = mean * (1 + Double(k) * (sd / 0.5 - 1))
            out[y * w + x] = Double(image.pixels[y * w + x]) < threshold ? 0 : 1
        }
    }
    return GrayImage(width: w, height: h, pixels: out)
}
