import Dispatch
import Foundation

// Table-grid detection on a binarised logbook page: long horizontal and vertical rules, fitted as
// slightly curved centre lines, and the cells between consecutive rules.
//
// Pipeline (the same code runs for both orientations; "along" is the rule's direction, "across"
// the perpendicular coordinate: x and y for horizontal rules, y and x for vertical ones):
//  1. Long ink runs along each pixel line (a 1-D opening with a long structuring element; holes of
//     `bridgeGap` px inside a run are closed first, so faded rules with pin-holes survive). Rows in
//     parallel for horizontal runs; strips of columns in parallel for vertical runs.
//  2. Runs touching on adjacent lines are joined into fragments (union-find); each fragment is cut
//     into bins along its direction, giving centre-line samples. Bins thicker than
//     `maximumRuleThickness` (solid blobs, shadows) give no samples.
//  3. Fragments are chained into rules, longest first: a fragment continues a rule when it starts
//     within `maximumGap` of the rule's end and lies where the rule's local straight-line trend
//     predicts (`acrossTolerance`, growing with the gap). Broken rules become one rule.
//  4. Rules lying within `mergeDistance` of each other (double lines, a rule split into two
//     stacked fragments) are merged; their centre line is the average.
//  5. Samples are cleaned (a running median removes handwriting touching the rule), smoothed, and
//     a quadratic is fitted. Short rules (relative to the page and to the longest rule) and sparse
//     ones (low ink coverage) are rejected: handwriting and printed text never get this long.
//  5b. Lines that are not the table's rules go: the page's edge beside the table, and a fold's
//     crease splitting a row at its own angle (`TableGrid+Strays.swift`).
//  6. Cells: for consecutive horizontal rules r, r+1 and vertical rules c, c+1, the four corners
//     are the rule intersections; a cell is kept where all four rules actually reach it.

// MARK: - Public types

public enum RuleOrientation: String, Sendable, Equatable {
    case horizontal
    case vertical
}

/// A point on the page in pixel coordinates (x to the right, y down; pixel centres at integers).
public struct GridPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// One centre-line sample of a rule: `across` (y for a horizontal rule, x for a vertical one) at
/// position `along` (x for horizontal, y for vertical).
public struct RuleSample: Sendable, Equatable {
    public var along: Double
    public var across: Double
    public init(along: Double, across: Double) {
        self.along = along
        self.across = across
    }
}

/// A detected ruled line. Horizontal rules are y(x), vertical rules x(y).
public struct TableRule: Sendable, Equatable {
    public var orientation: RuleOrientation
    /// Cleaned, smoothed centre-line samples in increasing `along` order (a polyline).
    public var samples: [RuleSample]
    /// Extent of the ink along the rule (x range for horizontal rules), `end` exclusive.
    public var start: Double
    public var end: Double
    /// Quadratic fit `across = c0 + c1 (t - centre) + c2 (t - centre)^2` with t = along.
    public var coefficients: [Double]
    public var centre: Double
    /// Largest |sample - quadratic| after cleaning: how far the rule bends beyond a parabola.
    public var maximumResidual: Double
    /// Typical stroke thickness in pixels (a merged double line counts its whole width).
    public var thickness: Double
    /// Fraction of [start, end) covered by ink (1 for a solid rule, lower for broken/faded ones).
    public var coverage: Double
    /// How many separate fragments were joined into this rule.
    public var fragmentCount: Int

    public var length: Double { end - start }

    /// The quadratic fit alone.
    public func fitted(at along: Double) -> Double {
        let d = along - centre
        return coefficients[0] + coefficients[1] * d + coefficients[2] * d * d
    }

    /// The rule's `across` coordinate at `along`: the sample polyline inside the sampled range, and
    /// the quadratic beyond it (shifted to meet the end sample, so the curve is continuous).
    public func position(at along: Double) -> Double {
        guard let first = samples.first, let last = samples.last else { return fitted(at: along) }
        if along <= first.along { return fitted(at: along) + (first.across - fitted(at: first.along)) }
        if along >= last.along { return fitted(at: along) + (last.across - fitted(at: last.along)) }
        var low = 0, high = samples.count - 1
        while high - low > 1 {
            let mid = (low + high) / 2
            if samples[mid].along <= along { low = mid } else { high = mid }
        }
        let a = samples[low], b = samples[high]
        let span = b.along - a.along
        let t = span > 0 ? (along - a.along) / span : 0
        return a.across + t * (b.across - a.across)
    }

    /// The page point on the rule at `along`.
    public func point(at along: Double) -> GridPoint {
        let across = position(at: along)
        return orientation == .horizontal ? GridPoint(x: along, y: across) : GridPoint(x: across, y: along)
    }

    /// The rule's position halfway along its extent (y for horizontal rules, x for vertical).
    public var middlePosition: Double { position(at: (start + end) / 2) }
}

/// One cell of the grid: between horizontal rules `row` and `row + 1` and vertical rules
/// `column` and `column + 1`. Corners are the rule intersections (rule centre lines).
public struct TableCell: Sendable, Equatable {
    public var row: Int
    public var column: Int
    public var topLeft: GridPoint
    public var topRight: GridPoint
    public var bottomLeft: GridPoint
    public var bottomRight: GridPoint

    public init(row: Int, column: Int, topLeft: GridPoint, topRight: GridPoint,
                bottomLeft: GridPoint, bottomRight: GridPoint) {
        self.row = row
        self.column = column
        self.topLeft = topLeft
        self.topRight = topRight
        self.bottomLeft = bottomLeft
        self.bottomRight = bottomRight
    }

    /// Axis-aligned integer box around the four corners (the straight-edged hull; a sagging rule
    /// may bulge a pixel or two beyond it).
    public var boundingBox: (x: Int, y: Int, width: Int, height: Int) {
        let xs = [topLeft.x, topRight.x, bottomLeft.x, bottomRight.x]
        let ys = [topLeft.y, topRight.y, bottomLeft.y, bottomRight.y]
        let x0 = Int(xs.min()!.rounded()), x1 = Int(xs.max()!.rounded())
        let y0 = Int(ys.min()!.rounded()), y1 = Int(ys.max()!.rounded())
        return (x0, y0, x1 - x0, y1 - y0)
    }

    public var centre: GridPoint {
        GridPoint(x: (topLeft.x + topRight.x + bottomLeft.x + bottomRight.x) / 4,
                  y: (topLeft.y + topRight.y + bottomLeft.y + bottomRight.y) / 4)
    }
}

/// Tuning knobs. `nil` values scale with the page: `s = max(width, height) / 1000`.
public struct TableGridOptions: Sendable, Equatable {
    /// A rule must span at least this fraction of the longest rule of its orientation.
    public var minimumRuleLengthFraction: Double = 0.35
    /// ... and at least this fraction of the page dimension along it.
    public var minimumPageFraction: Double = 0.1
    /// ... and be inked over at least this fraction of its span.
    public var minimumCoverage: Double = 0.35
    /// Shortest ink run (px) that can belong to a rule. Default max(12, 20 s).
    public var minimumRunLength: Int? = nil
    /// Holes inside a run up to this many px are closed before measuring runs (pin-holes in faded
    /// rules; the gaps of dotted rules). Default max(2, 2 s).
    public var bridgeGap: Int? = nil
    /// Largest gap (px) between collinear fragments joined into one rule. Default max(24, 40 s).
    public var maximumGap: Int? = nil
    /// Rules closer than this (px, median distance where they overlap) are merged: double lines.
    /// Default max(5, 4 s).
    public var mergeDistance: Double? = nil
    /// Thicker stretches (px) are blobs, not rules. Default max(8, 6 s).
    public var maximumRuleThickness: Double? = nil
    /// How far (px) a fragment may sit from a rule's predicted course and still continue it
    /// (plus 3% of the gap). Default max(3, 2 s).
    public var acrossTolerance: Double? = nil
    /// Average length (px) of the pieces a rule is made of must reach this: a row of handwritten
    /// digit bars (7, 5) lines up like a dashed rule but is made of short pieces. Default 4 x the
    /// minimum run length.
    public var minimumMeanFragmentLength: Double? = nil
    /// Parallel work items; the work is split into this many times 4 pieces.
    public var threads: Int = 2

    public init() {}
}

/// What the detector saw, for logs and debugging.
public struct TableGridDiagnostics: Sendable, Equatable {
    public var horizontalRuns = 0
    public var verticalRuns = 0
    public var horizontalFragments = 0
    public var verticalFragments = 0
    /// Rules after chaining and merging, before the length/coverage filters.
    public var horizontalCandidates = 0
    public var verticalCandidates = 0
    public var horizontalRules = 0
    public var verticalRules = 0
    /// Merges of parallel close rules (double lines and stacked fragments).
    public var mergedRules = 0
    public var meanHorizontalCoverage = 0.0
    public var meanVerticalCoverage = 0.0
    public var rowCount = 0
    public var columnCount = 0
    public var cellCount = 0
    /// rowCount * columnCount - cellCount: grid positions where some bounding rule did not reach.
    public var missingCells = 0
    /// Parameters actually used (after scaling defaults).
    public var minimumRunLength = 0
    public var maximumGap = 0
    public var mergeDistance = 0.0
    public var seconds = 0.0

    public init() {}
}

public struct TableGrid: Sendable, Equatable {
    public var pageWidth: Int
    public var pageHeight: Int
    /// Top to bottom.
    public var horizontalRules: [TableRule]
    /// Left to right.
    public var verticalRules: [TableRule]
    /// Row-major; positions whose bounding rules do not all reach the cell are absent.
    public var cells: [TableCell]
    public var diagnostics: TableGridDiagnostics

    /// Rows between consecutive horizontal rules (0 without at least two horizontal and two vertical rules).
    public var rowCount: Int { verticalRules.count >= 2 ? max(horizontalRules.count - 1, 0) : 0 }
    public var columnCount: Int { horizontalRules.count >= 2 ? max(verticalRules.count - 1, 0) : 0 }

    public func cell(row: Int, column: Int) -> TableCell? {
        cells.first { $0.row == row && $0.column == column }
    }

    /// The cell's content, rectified: the four bounding rules (curves included) are mapped onto a
    /// rectangle (a Coons patch) and sampled bilinearly, then `inset` px are dropped on every side
    /// to keep the rules out. The page must have this grid's size (the binary image or the gray
    /// scan it came from). Outside the page reads as white.
    public func cellImage(_ cell: TableCell, from page: GrayImage, inset: Int = 0) -> GrayImage {
        guard cell.row + 1 < horizontalRules.count, cell.column + 1 < verticalRules.count else {
            return GrayImage(width: 0, height: 0, pixels: [])
        }
        let top = horizontalRules[cell.row], bottom = horizontalRules[cell.row + 1]
        let left = verticalRules[cell.column], right = verticalRules[cell.column + 1]
        let fullWidth = ((cell.topRight.x - cell.topLeft.x) + (cell.bottomRight.x - cell.bottomLeft.x)) / 2
        let fullHeight = ((cell.bottomLeft.y - cell.topLeft.y) + (cell.bottomRight.y - cell.topRight.y)) / 2
        let outWidth = Int(fullWidth.rounded()) - 2 * inset
        let outHeight = Int(fullHeight.rounded()) - 2 * inset
        guard outWidth > 0, outHeight > 0, fullWidth > 0, fullHeight > 0 else {
            return GrayImage(width: 0, height: 0, pixels: [])
        }
        // Edge curves sampled once per output column/row.
        var us = [Double](), topPoints = [GridPoint](), bottomPoints = [GridPoint]()
        for i in 0..<outWidth {
            let u = (Double(inset + i) + 0.5) / fullWidth
            us.append(u)
            let xt = cell.topLeft.x + u * (cell.topRight.x - cell.topLeft.x)
            let xb = cell.bottomLeft.x + u * (cell.bottomRight.x - cell.bottomLeft.x)
            topPoints.append(GridPoint(x: xt, y: top.position(at: xt)))
            bottomPoints.append(GridPoint(x: xb, y: bottom.position(at: xb)))
        }
        var vs = [Double](), leftPoints = [GridPoint](), rightPoints = [GridPoint]()
        for j in 0..<outHeight {
            let v = (Double(inset + j) + 0.5) / fullHeight
            vs.append(v)
            let yl = cell.topLeft.y + v * (cell.bottomLeft.y - cell.topLeft.y)
            let yr = cell.topRight.y + v * (cell.bottomRight.y - cell.topRight.y)
            leftPoints.append(GridPoint(x: left.position(at: yl), y: yl))
            rightPoints.append(GridPoint(x: right.position(at: yr), y: yr))
        }
        let tl = cell.topLeft, tr = cell.topRight, bl = cell.bottomLeft, br = cell.bottomRight
        var out = [Float](repeating: 1, count: outWidth * outHeight)
        for j in 0..<outHeight {
            let v = vs[j], l = leftPoints[j], r = rightPoints[j]
            for i in 0..<outWidth {
                let u = us[i], t = topPoints[i], b = bottomPoints[i]
                let x = (1 - v) * t.x + v * b.x + (1 - u) * l.x + u * r.x
                    - ((1 - u) * (1 - v) * tl.x + u * (1 - v) * tr.x + (1 - u) * v * bl.x + u * v * br.x)
                let y = (1 - v) * t.y + v * b.y + (1 - u) * l.y + u * r.y
                    - ((1 - u) * (1 - v) * tl.y + u * (1 - v) * tr.y + (1 - u) * v * bl.y + u * v * br.y)
                out[j * outWidth + i] = page.bilinearSample(x: x, y: y)
            }
        }
        return GrayImage(width: outWidth, height: outHeight, pixels: out)
    }
}

extension GrayImage {
    /// Bilinear read at a pixel-centre coordinate; `fill` outside (default: paper white).
    public func bilinearSample(x: Double, y: Double, fill: Float = 1) -> Float {
        guard width > 0, height > 0, x > -1, y > -1, x < Double(width), y < Double(height) else { return fill }
        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
        let fx = Float(x - Double(x0)), fy = Float(y - Double(y0))
        @inline(__always) func at(_ px: Int, _ py: Int) -> Float {
            (px < 0 || py < 0 || px >= width || py >= height) ? fill : pixels[py * width + px]
        }
        let top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
        let bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
        return top * (1 - fy) + bottom * fy
    }
}

// MARK: - Detection

/// Finds the ruled table on an already binarised page (0 = ink, 1 = paper; anything < 0.5 is ink).
public func detectTableGrid(in binary: GrayImage, options: TableGridOptions = TableGridOptions()) -> TableGrid {
    let clock = DispatchTime.now().uptimeNanoseconds
    let width = binary.width, height = binary.height
    var diagnostics = TableGridDiagnostics()
    guard width > 0, height > 0 else {
        return TableGrid(pageWidth: width, pageHeight: height, horizontalRules: [], verticalRules: [],
                         cells: [], diagnostics: diagnostics)
    }
    let s = Double(max(width, height)) / 1000
    let p = RuleParameters(
        minimumRun: options.minimumRunLength ?? max(12, Int((20 * s).rounded())),
        bridge: max(options.bridgeGap ?? max(2, Int((2 * s).rounded())), 0),
        maximumGap: Double(options.maximumGap ?? max(24, Int((40 * s).rounded()))),
        mergeDistance: options.mergeDistance ?? max(5, 4 * s),
        maximumThickness: options.maximumRuleThickness ?? max(8, 6 * s),
        acrossTolerance: options.acrossTolerance ?? max(3, 2 * s),
        bin: Double(max(8, Int((12 * s).rounded()))),
        minimumCoverage: options.minimumCoverage,
        minimumLengthFraction: options.minimumRuleLengthFraction,
        minimumPageFraction: options.minimumPageFraction,
        minimumMeanFragment: options.minimumMeanFragmentLength ?? 4 * Double(options.minimumRunLength ?? max(12, Int((20 * s).rounded()))),
        pieces: max(1, options.threads) * 4)
    diagnostics.minimumRunLength = p.minimumRun
    diagnostics.maximumGap = Int(p.maximumGap)
    diagnostics.mergeDistance = p.mergeDistance

    let horizontalRuns = binary.withUnsafeInk { ink in
        longRunsAlongRows(ink, width: width, height: height, minimumRun: p.minimumRun, bridge: p.bridge, pieces: p.pieces)
    }
    let verticalRuns = binary.withUnsafeInk { ink in
        longRunsAlongColumns(ink, width: width, height: height, minimumRun: p.minimumRun, bridge: p.bridge, pieces: p.pieces)
    }
    diagnostics.horizontalRuns = horizontalRuns.reduce(0) { $0 + $1.count }
    diagnostics.verticalRuns = verticalRuns.reduce(0) { $0 + $1.count }

    // The two orientations are independent: run them side by side.
    var results = [RuleSearchResult?](repeating: nil, count: 2)
    binary.withUnsafeInk { ink in
        results.withUnsafeMutableBufferPointer { slots in
            let buffer = slots
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                if index == 0 {
                    let page = InkLookup(pixels: ink, width: width, height: height, transposed: false)
                    buffer[0] = findRules(runs: horizontalRuns, alongSize: width, orientation: .horizontal, page: page, p)
                } else {
                    let page = InkLookup(pixels: ink, width: width, height: height, transposed: true)
                    buffer[1] = findRules(runs: verticalRuns, alongSize: height, orientation: .vertical, page: page, p)
                }
            }
        }
    }
    let horizontal = results[0]!, vertical = results[1]!
    diagnostics.horizontalFragments = horizontal.fragmentCount
    diagnostics.verticalFragments = vertical.fragmentCount
    diagnostics.horizontalCandidates = horizontal.candidateCount
    diagnostics.verticalCandidates = vertical.candidateCount
    diagnostics.mergedRules = horizontal.mergeCount + vertical.mergeCount

    // A rule of one orientation must cross at least two of the other (or there is no table).
    var horizontalRules = horizontal.rules, verticalRules = vertical.rules
    if horizontalRules.count >= 2 && verticalRules.count >= 2 {
        let tolerance = p.maximumGap
        func crossings(_ rule: TableRule, _ others: [TableRule]) -> Int {
            others.filter { other in
                let a = rule.middlePosition
                let b = other.middlePosition
                return other.start - tolerance <= a && a <= other.end + tolerance
                    && rule.start - tolerance <= b && b <= rule.end + tolerance
            }.count
        }
        let keptHorizontal = horizontalRules.filter { crossings($0, verticalRules) >= 2 }
        let keptVertical = verticalRules.filter { crossings($0, horizontalRules) >= 2 }
        horizontalRules = keptHorizontal
        verticalRules = keptVertical
    }
    horizontalRules.sort { $0.middlePosition < $1.middlePosition }
    verticalRules.sort { $0.middlePosition < $1.middlePosition }
    // Lines that are not the table's rules: the page's edge, a fold's crease (TableGrid+Strays).
    if horizontalRules.count >= 2 && verticalRules.count >= 2 {
        let edgeMargin = max(4, 0.01 * Double(max(width, height)))
        let edgeDrift = max(6, 4 * s)
        verticalRules = droppingPageEdges(verticalRules, others: horizontalRules, size: width, binary: binary,
                                          margin: edgeMargin, minimumDrift: edgeDrift)
        horizontalRules = droppingPageEdges(horizontalRules, others: verticalRules, size: height, binary: binary,
                                            margin: edgeMargin, minimumDrift: edgeDrift)
        horizontalRules = droppingCreases(horizontalRules, minimumDrift: max(3, 2 * s))
    }
    diagnostics.horizontalRules = horizontalRules.count
    diagnostics.verticalRules = verticalRules.count
    if !horizontalRules.isEmpty {
        diagnostics.meanHorizontalCoverage = horizontalRules.reduce(0) { $0 + $1.coverage } / Double(horizontalRules.count)
    }
    if !verticalRules.isEmpty {
        diagnostics.meanVerticalCoverage = verticalRules.reduce(0) { $0 + $1.coverage } / Double(verticalRules.count)
    }

    var cells: [TableCell] = []
    if horizontalRules.count >= 2 && verticalRules.count >= 2 {
        // Intersections once per pair.
        var corners = [[GridPoint]]()
        for h in horizontalRules {
            corners.append(verticalRules.map { intersect(horizontal: h, vertical: $0) })
        }
        let reach = p.maximumGap
        func horizontalReaches(_ h: TableRule, from x0: Double, to x1: Double) -> Bool {
            h.start - reach <= x0 && h.end + reach >= x1
        }
        func verticalReaches(_ v: TableRule, from y0: Double, to y1: Double) -> Bool {
            v.start - reach <= y0 && v.end + reach >= y1
        }
        func reachesRow(_ c: Int, _ r: Int) -> Bool {
            verticalReaches(verticalRules[c], from: corners[r][c].y, to: corners[r + 1][c].y)
        }
        for r in 0..<(horizontalRules.count - 1) {
            var c = 0
            while c < verticalRules.count - 1 {
                guard reachesRow(c, r) else { c += 1; continue }
                // A vertical rule that stops short of this row (a merged cell, or a fold's crease
                // taken for a rule over part of the page) does not close the cell: the next rule
                // that reaches the row does.
                var next = c + 1
                while next < verticalRules.count - 1 && !reachesRow(next, r) { next += 1 }
                defer { c = next }
                let tl = corners[r][c], tr = corners[r][next], bl = corners[r + 1][c], br = corners[r + 1][next]
                guard tr.x > tl.x, br.x > bl.x, bl.y > tl.y, br.y > tr.y else { continue }
                guard horizontalReaches(horizontalRules[r], from: tl.x, to: tr.x),
                      horizontalReaches(horizontalRules[r + 1], from: bl.x, to: br.x),
                      reachesRow(next, r) else { continue }
                cells.append(TableCell(row: r, column: c, topLeft: tl, topRight: tr, bottomLeft: bl, bottomRight: br))
            }
        }
    }
    var grid = TableGrid(pageWidth: width, pageHeight: height, horizontalRules: horizontalRules,
                         verticalRules: verticalRules, cells: cells, diagnostics: diagnostics)
    grid.diagnostics.rowCount = grid.rowCount
    grid.diagnostics.columnCount = grid.columnCount
    grid.diagnostics.cellCount = cells.count
    grid.diagnostics.missingCells = grid.rowCount * grid.columnCount - cells.count
    grid.diagnostics.seconds = Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9
    return grid
}

/// Where y = h(x) meets x = v(y): fixed-point iteration (both rules are nearly axis-parallel).
func intersect(horizontal h: TableRule, vertical v: TableRule) -> GridPoint {
    var y = h.middlePosition
    var x = v.position(at: y)
    for _ in 0..<6 {
        y = h.position(at: x)
        let next = v.position(at: y)
        if abs(next - x) < 1e-3 { x = next; break }
        x = next
    }
    return GridPoint(x: x, y: h.position(at: x))
}

// MARK: - Internals

struct RuleParameters {
    var minimumRun: Int
    var bridge: Int
    var maximumGap: Double
    var mergeDistance: Double
    var maximumThickness: Double
    var acrossTolerance: Double
    var bin: Double
    var minimumCoverage: Double
    var minimumLengthFraction: Double
    var minimumPageFraction: Double
    var minimumMeanFragment: Double
    var pieces: Int
}

/// A long ink run on pixel line `line` (row for horizontal, column for vertical), [start, end).
struct InkRun {
    var start: Int32
    var end: Int32
}

extension GrayImage {
    func withUnsafeInk<R>(_ body: (UnsafeBufferPointer<Float>) -> R) -> R {
        pixels.withUnsafeBufferPointer(body)
    }
}

/// Long runs along every row, rows split into pieces worked on in parallel.
func longRunsAlongRows(_ ink: UnsafeBufferPointer<Float>, width: Int, height: Int,
                       minimumRun: Int, bridge: Int, pieces: Int) -> [[InkRun]] {
    var lines = [[InkRun]](repeating: [], count: height)
    lines.withUnsafeMutableBufferPointer { output in
        let out = output
        let count = min(pieces, height)
        DispatchQueue.concurrentPerform(iterations: count) { piece in
            let y0 = piece * height / count, y1 = (piece + 1) * height / count
            for y in y0..<y1 {
                let row = ink.baseAddress! + y * width
                var runs: [InkRun] = []
                var runStart = -1, lastInk = -1
                var x = 0
                while x < width {
                    if row[x] < 0.5 {
                        if runStart < 0 {
                            runStart = x
                        } else if x - lastInk - 1 > bridge {
                            if lastInk + 1 - runStart >= minimumRun {
                                runs.append(InkRun(start: Int32(runStart), end: Int32(lastInk + 1)))
                            }
                            runStart = x
                        }
                        lastInk = x
                    }
                    x += 1
                }
                if runStart >= 0 && lastInk + 1 - runStart >= minimumRun {
                    runs.append(InkRun(start: Int32(runStart), end: Int32(lastInk + 1)))
                }
                out[y] = runs
            }
        }
    }
    return lines
}

/// Long runs down every column, in strips of columns (so memory is read row by row) in parallel.
func longRunsAlongColumns(_ ink: UnsafeBufferPointer<Float>, width: Int, height: Int,
                          minimumRun: Int, bridge: Int, pieces: Int) -> [[InkRun]] {
    var columns = [[InkRun]](repeating: [], count: width)
    let stripWidth = max(64, (width + pieces - 1) / pieces)
    let strips = (width + stripWidth - 1) / stripWidth
    columns.withUnsafeMutableBufferPointer { output in
        let out = output
        DispatchQueue.concurrentPerform(iterations: strips) { strip in
            let x0 = strip * stripWidth, x1 = min(width, x0 + stripWidth)
            let n = x1 - x0
            var runStart = [Int32](repeating: -1, count: n)
            var lastInk = [Int32](repeating: -1, count: n)
            var runs = [[InkRun]](repeating: [], count: n)
            let minimum = Int32(minimumRun), gap = Int32(bridge)
            runStart.withUnsafeMutableBufferPointer { starts in
                lastInk.withUnsafeMutableBufferPointer { lasts in
                    for y in 0..<height {
                        let row = ink.baseAddress! + y * width + x0
                        let yy = Int32(y)
                        for i in 0..<n where row[i] < 0.5 {
                            if starts[i] < 0 {
                                starts[i] = yy
                            } else if yy - lasts[i] - 1 > gap {
                                if lasts[i] + 1 - starts[i] >= minimum {
                                    runs[i].append(InkRun(start: starts[i], end: lasts[i] + 1))
                                }
                                starts[i] = yy
                            }
                            lasts[i] = yy
                        }
                    }
                    for i in 0..<n where starts[i] >= 0 && lasts[i] + 1 - starts[i] >= minimum {
                        runs[i].append(InkRun(start: starts[i], end: lasts[i] + 1))
                    }
                }
            }
            for i in 0..<n { out[x0 + i] = runs[i] }
        }
    }
    return columns
}

/// Centre-line sample inside the detector, with its weight (ink length along the bin).
struct WeightedSample {
    var along: Double
    var across: Double
    var weight: Double
    var thickness: Double
}

/// A connected group of long runs: one piece of a rule (or of something else long).
struct Fragment {
    var samples: [WeightedSample]
    var start: Double
    var end: Double
    var covered: Double
    /// Linear trend across = intercept + slope * (along - start).
    var intercept: Double
    var slope: Double

    func across(at along: Double) -> Double { intercept + slope * (along - start) }
}

struct RuleSearchResult {
    var rules: [TableRule]
    var fragmentCount: Int
    var candidateCount: Int
    var mergeCount: Int
}

/// Steps 2-5 for one orientation.
/// Ink test in (along, across) coordinates of one orientation.
struct InkLookup {
    var pixels: UnsafeBufferPointer<Float>
    var width: Int
    var height: Int
    var transposed: Bool

    func isInk(along: Int, across: Int) -> Bool {
        let x = transposed ? across : along, y = transposed ? along : across
        guard x >= 0, y >= 0, x < width, y < height else { return false }
        return pixels[y * width + x] < 0.5
    }

    /// Fraction of the straight path from a to b (one step per px along) with ink within `band`
    /// px across and paper on at least one side beyond it: whether two rule pieces are joined by a
    /// thin stroke (a rule bent at a fold), not merely both touching a crossing rule.
    func inkFraction(from a: (Double, Double), to b: (Double, Double), band: Int) -> Double {
        let t0 = Int(min(a.0, b.0).rounded()), t1 = Int(max(a.0, b.0).rounded())
        guard t1 > t0 else { return 1 }
        var hits = 0
        for t in t0...t1 {
            let u = (Double(t) - a.0) / (b.0 - a.0)
            let s = Int((a.1 + u * (b.1 - a.1)).rounded())
            let clear = !isInk(along: t, across: s - band - 4) || !isInk(along: t, across: s + band + 4)
            guard clear else { continue }
            for d in -band...band where isInk(along: t, across: s + d) { hits += 1; break }
        }
        return Double(hits) / Double(t1 - t0 + 1)
    }
}

func findRules(runs: [[InkRun]], alongSize: Int, orientation: RuleOrientation, page: InkLookup,
               _ p: RuleParameters) -> RuleSearchResult {
    var fragments = buildFragments(runs: runs, alongSize: alongSize, p)
    let fragmentCount = fragments.count
    // Page-wide trend for fragments too short to have a reliable slope of their own.
    let longOnes = fragments.filter { $0.end - $0.start >= 4 * Double(p.minimumRun) && $0.samples.count >= 3 }
    let globalSlope = weightedMedian(longOnes.map { ($0.slope, $0.covered) }) ?? 0
    for i in fragments.indices where fragments[i].end - fragments[i].start < 4 * Double(p.minimumRun) || fragments[i].samples.count < 3 {
        let f = fragments[i]
        let meanAlong = f.samples.reduce(0) { $0 + $1.along * $1.weight } / max(f.samples.reduce(0) { $0 + $1.weight }, 1e-9)
        let meanAcross = f.samples.reduce(0) { $0 + $1.across * $1.weight } / max(f.samples.reduce(0) { $0 + $1.weight }, 1e-9)
        fragments[i].slope = globalSlope
        fragments[i].intercept = meanAcross - globalSlope * (meanAlong - f.start)
    }
    var chains = chainFragments(fragments, globalSlope: globalSlope, page: page, p)
    let mergeCount = mergeParallel(&chains, p)

    var rules: [TableRule] = []
    for chain in chains {
        if let rule = finishRule(chain, orientation: orientation, p) { rules.append(rule) }
    }
    let candidateCount = rules.count
    // Length filters: absolute (page) and relative to the longest rule.
    let longest = rules.map(\.length).max() ?? 0
    let minimumLength = max(p.minimumPageFraction * Double(alongSize), p.minimumLengthFraction * longest,
                            3 * Double(p.minimumRun))
    rules = rules.filter {
        $0.length >= minimumLength && $0.coverage >= p.minimumCoverage
            && $0.coverage * $0.length / Double(max($0.fragmentCount, 1)) >= p.minimumMeanFragment
    }
    return RuleSearchResult(rules: rules, fragmentCount: fragmentCount, candidateCount: candidateCount, mergeCount: mergeCount)
}

func weightedMedian(_ values: [(Double, Double)]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted { $0.0 < $1.0 }
    let total = sorted.reduce(0) { $0 + $1.1 }
    var running = 0.0
    for (value, weight) in sorted {
        running += weight
        if running >= total / 2 { return value }
    }
    return sorted.last!.0
}

/// Weighted least-squares line across = a + b (along - origin).
func fitLine(_ samples: ArraySlice<WeightedSample>, origin: Double) -> (a: Double, b: Double)? {
    var sw = 0.0, st = 0.0, ss = 0.0, stt = 0.0, sts = 0.0
    for q in samples {
        let t = q.along - origin
        sw += q.weight; st += q.weight * t; ss += q.weight * q.across
        stt += q.weight * t * t; sts += q.weight * t * q.across
    }
    guard sw > 0 else { return nil }
    let denominator = sw * stt - st * st
    if denominator <= 1e-9 * max(sw * stt, 1) { return (ss / sw, .nan) }
    let b = (sw * sts - st * ss) / denominator
    return ((ss - b * st) / sw, b)
}

/// Union-find of runs that touch on adjacent lines, then per-fragment bins along the direction.
func buildFragments(runs: [[InkRun]], alongSize: Int, _ p: RuleParameters) -> [Fragment] {
    var offsets = [Int](repeating: 0, count: runs.count + 1)
    for (i, line) in runs.enumerated() { offsets[i + 1] = offsets[i] + line.count }
    let total = offsets[runs.count]
    guard total > 0 else { return [] }
    var parent = [Int32](repeating: 0, count: total)
    for i in 0..<total { parent[i] = Int32(i) }
    func find(_ x: Int) -> Int {
        var r = x
        while Int(parent[r]) != r { r = Int(parent[r]) }
        var c = x
        while Int(parent[c]) != r { let next = Int(parent[c]); parent[c] = Int32(r); c = next }
        return r
    }
    for line in 1..<max(runs.count, 1) where !runs[line].isEmpty && !runs[line - 1].isEmpty {
        let above = runs[line - 1], here = runs[line]
        var i = 0, j = 0
        while i < above.count && j < here.count {
            if above[i].start < here[j].end && here[j].start < above[i].end {
                let a = find(offsets[line - 1] + i), b = find(offsets[line] + j)
                if a != b { parent[max(a, b)] = Int32(min(a, b)) }
            }
            if above[i].end < here[j].end { i += 1 } else { j += 1 }
        }
    }
    // Group run indices by root.
    var members: [Int: [Int]] = [:]
    var lineOf = [Int32](repeating: 0, count: total)
    for line in runs.indices {
        for k in 0..<runs[line].count {
            let index = offsets[line] + k
            lineOf[index] = Int32(line)
            members[find(index), default: []].append(index)
        }
    }
    func run(_ index: Int) -> InkRun {
        let line = Int(lineOf[index])
        return runs[line][index - offsets[line]]
    }
    let bin = p.bin
    var fragments: [Fragment] = []
    fragments.reserveCapacity(members.count)
    for (_, indices) in members {
        var lo = Int.max, hi = Int.min
        for index in indices {
            let r = run(index)
            lo = min(lo, Int(r.start)); hi = max(hi, Int(r.end))
        }
        // Coverage of the projection onto the along axis, and per-bin sums.
        let span = hi - lo
        var covered = [Bool](repeating: false, count: span)
        let firstBin = Int((Double(lo) / bin).rounded(.down))
        let lastBin = Int((Double(hi - 1) / bin).rounded(.down))
        let binCount = lastBin - firstBin + 1
        var weight = [Double](repeating: 0, count: binCount)
        var acrossSum = [Double](repeating: 0, count: binCount)
        for index in indices {
            let r = run(index)
            let line = Double(lineOf[index])
            for t in Int(r.start)..<Int(r.end) { covered[t - lo] = true }
            var t = Int(r.start)
            while t < Int(r.end) {
                let b = Int((Double(t) / bin).rounded(.down))
                let binEnd = min(Int(r.end), Int((Double(b + 1) * bin).rounded(.down)))
                let piece = Double(max(binEnd - t, 1))
                weight[b - firstBin] += piece
                acrossSum[b - firstBin] += piece * line
                t = max(binEnd, t + 1)
            }
        }
        var samples: [WeightedSample] = []
        var coveredTotal = 0.0
        var start = Double.infinity, end = -Double.infinity
        for b in 0..<binCount where weight[b] > 0 {
            let b0 = max(lo, Int((Double(b + firstBin) * bin).rounded(.down)))
            let b1 = min(hi, Int((Double(b + firstBin + 1) * bin).rounded(.down)))
            var count = 0, sum = 0
            var binStart = Int.max, binEnd = Int.min
            if b1 > b0 {
                for t in b0..<b1 where covered[t - lo] {
                    count += 1; sum += t
                    binStart = min(binStart, t); binEnd = max(binEnd, t + 1)
                }
            }
            guard count > 0 else { continue }
            let thickness = weight[b] / Double(count)
            if thickness > p.maximumThickness { continue }      // a blob, not a line
            samples.append(WeightedSample(along: Double(sum) / Double(count),
                                          across: acrossSum[b] / weight[b],
                                          weight: Double(count), thickness: thickness))
            coveredTotal += Double(count)
            start = min(start, Double(binStart)); end = max(end, Double(binEnd))
        }
        guard !samples.isEmpty, coveredTotal >= Double(p.minimumRun) else { continue }
        samples.sort { $0.along < $1.along }
        var fragment = Fragment(samples: samples, start: start, end: end, covered: coveredTotal, intercept: 0, slope: 0)
        if let fit = fitLine(samples[...], origin: start), fit.b.isFinite {
            fragment.intercept = fit.a; fragment.slope = fit.b
        } else {
            fragment.intercept = samples.reduce(0) { $0 + $1.across * $1.weight } / samples.reduce(0) { $0 + $1.weight }
        }
        fragments.append(fragment)
    }
    return fragments
}

/// A rule under construction: its samples (sorted), extent and the fragments in it.
struct Chain {
    var samples: [WeightedSample]
    var start: Double
    var end: Double
    var covered: Double
    var fragmentCount: Int
    /// Along positions of steps (pieces joined across a fold): trends at the ends stop there.
    var steps: [Double] = []
}

/// Local straight-line trend of a chain near one of its ends, for predicting where it continues.
func endTrend(_ chain: Chain, atEnd: Bool, window: Double, globalSlope: Double) -> (origin: Double, a: Double, b: Double) {
    let samples = chain.samples
    let slice: ArraySlice<WeightedSample>
    if atEnd {
        let limit = max(chain.end - window, chain.steps.max() ?? -.infinity)
        var i = samples.count - 1
        while i > 0 && samples[i - 1].along >= limit { i -= 1 }
        slice = samples[i...]
    } else {
        let limit = min(chain.start + window, chain.steps.min() ?? .infinity)
        var i = 0
        while i + 1 < samples.count && samples[i + 1].along <= limit { i += 1 }
        slice = samples[...i]
    }
    let origin = atEnd ? chain.end : chain.start
    let spread = (slice.last?.along ?? 0) - (slice.first?.along ?? 0)
    if spread >= window / 3, let fit = fitLine(slice, origin: origin), fit.b.isFinite {
        return (origin, fit.a, fit.b)
    }
    // Too little to fit a slope: the mean position with the page's typical slope.
    let w = slice.reduce(0) { $0 + $1.weight }
    let meanAlong = slice.reduce(0) { $0 + $1.along * $1.weight } / max(w, 1e-9)
    let meanAcross = slice.reduce(0) { $0 + $1.across * $1.weight } / max(w, 1e-9)
    return (origin, meanAcross + globalSlope * (origin - meanAlong), globalSlope)
}

func chainFragments(_ fragments: [Fragment], globalSlope: Double, page: InkLookup, _ p: RuleParameters) -> [Chain] {
    let order = fragments.indices.sorted { fragments[$0].covered > fragments[$1].covered }
    var used = [Bool](repeating: false, count: fragments.count)
    // Fragments sorted by their across position at the left end and at the right end, for
    // range queries when extending a chain rightwards / leftwards.
    let byStartAcross = fragments.indices.sorted { fragments[$0].across(at: fragments[$0].start) < fragments[$1].across(at: fragments[$1].start) }
    let startKeys = byStartAcross.map { fragments[$0].across(at: fragments[$0].start) }
    let byEndAcross = fragments.indices.sorted { fragments[$0].across(at: fragments[$0].end) < fragments[$1].across(at: fragments[$1].end) }
    let endKeys = byEndAcross.map { fragments[$0].across(at: fragments[$0].end) }
    func lowerBound(_ keys: [Double], _ value: Double) -> Int {
        var lo = 0, hi = keys.count
        while lo < hi { let mid = (lo + hi) / 2; if keys[mid] < value { lo = mid + 1 } else { hi = mid } }
        return lo
    }
    let window = max(12 * p.bin, 8 * Double(p.minimumRun))
    let overlapAllowance = max(p.bin, Double(p.minimumRun))
    var chains: [Chain] = []
    for seed in order where !used[seed] {
        used[seed] = true
        let f = fragments[seed]
        var chain = Chain(samples: f.samples, start: f.start, end: f.end, covered: f.covered, fragmentCount: 1)
        for rightwards in [true, false] {
            while true {
                let trend = endTrend(chain, atEnd: rightwards, window: window, globalSlope: globalSlope)
                let edge = rightwards ? chain.end : chain.start
                let predicted = trend.a
                let reachAcross = p.acrossTolerance + 0.6 * p.maximumGap + abs(trend.b) * p.maximumGap
                let keys = rightwards ? startKeys : endKeys
                let ids = rightwards ? byStartAcross : byEndAcross
                var best = -1, bestScore = Double.infinity, bestIsStep = false
                var k = lowerBound(keys, predicted - reachAcross)
                while k < keys.count && keys[k] <= predicted + reachAcross {
                    let id = ids[k]
                    k += 1
                    if used[id] { continue }
                    let g = fragments[id]
                    let gap = rightwards ? g.start - edge : edge - g.end
                    guard gap <= p.maximumGap, gap >= -overlapAllowance else { continue }
                    // Where the candidate begins (its end nearest the chain), compared with the trend.
                    let at = rightwards ? g.start : g.end
                    let expected = trend.a + trend.b * (at - trend.origin)
                    let offset = abs(g.across(at: at) - expected)
                    let tolerance = p.acrossTolerance + 0.03 * max(gap, 0)
                    var penalty = 0.0
                    if offset <= tolerance {
                        // It must not turn away either: compare at its far end for long candidates.
                        let far = rightwards ? g.end : g.start
                        let farOffset = abs(g.across(at: far) - (trend.a + trend.b * (far - trend.origin)))
                        if farOffset > p.acrossTolerance + 0.03 * abs(far - edge) + 2 { continue }
                    } else {
                        // A step (the rule bent over a fold): accepted when the candidate runs parallel
                        // and ink joins the two ends.
                        guard gap >= 0, offset <= tolerance + max(1.5 * gap, 2 * p.bin),
                              abs(g.slope - trend.b) <= 0.05,
                              let endSample = rightwards ? chain.samples.last : chain.samples.first,
                              let startSample = rightwards ? g.samples.first : g.samples.last else { continue }
                        let band = max(3, Int((0.6 * p.acrossTolerance).rounded()))
                        let fraction = page.inkFraction(from: (endSample.along, endSample.across),
                                                        to: (startSample.along, startSample.across), band: band)
                        guard fraction >= 0.85 else { continue }
                        penalty = 2 * offset
                    }
                    let score = max(gap, 0) + 4 * min(offset, tolerance) + penalty
                    if score < bestScore { bestScore = score; best = id; bestIsStep = penalty > 0 }
                }
                guard best >= 0 else { break }
                used[best] = true
                let g = fragments[best]
                if bestIsStep { chain.steps.append(rightwards ? (edge + g.start) / 2 : (g.end + edge) / 2) }
                chain.samples.append(contentsOf: g.samples)
                chain.samples.sort { $0.along < $1.along }
                chain.start = min(chain.start, g.start)
                chain.end = max(chain.end, g.end)
                chain.covered += g.covered
                chain.fragmentCount += 1
            }
        }
        chains.append(chain)
    }
    return chains
}

/// Re-bins samples so two merged lines at the same `along` average into one centre line.
func rebin(_ samples: [WeightedSample], bin: Double) -> [WeightedSample] {
    var out: [WeightedSample] = []
    var currentBin = Int.min
    var w = 0.0, sa = 0.0, sc = 0.0, lo = Double.infinity, hi = -Double.infinity, thick = 0.0
    func flush() {
        guard w > 0 else { return }
        let spread = hi - lo
        out.append(WeightedSample(along: sa / w, across: sc / w, weight: w, thickness: max(thick / w, spread + 1)))
    }
    for q in samples.sorted(by: { $0.along < $1.along }) {
        let b = Int((q.along / bin).rounded(.down))
        if b != currentBin {
            flush()
            currentBin = b; w = 0; sa = 0; sc = 0; lo = .infinity; hi = -.infinity; thick = 0
        }
        w += q.weight; sa += q.weight * q.along; sc += q.weight * q.across; thick += q.weight * q.thickness
        lo = min(lo, q.across - q.thickness / 2); hi = max(hi, q.across + q.thickness / 2)
    }
    flush()
    return out
}

/// Median |across difference| of two chains over their common stretch (nil when they do not overlap).
func chainDistance(_ a: Chain, _ b: Chain, bin: Double) -> Double? {
    let lo = max(a.start, b.start), hi = min(a.end, b.end)
    guard hi - lo >= bin else { return nil }
    func at(_ c: Chain, _ t: Double) -> Double? {
        // Nearest sample within two bins.
        var best: WeightedSample?
        for q in c.samples where abs(q.along - t) <= 2 * bin {
            if best == nil || abs(q.along - t) < abs(best!.along - t) { best = q }
        }
        return best?.across
    }
    var differences: [Double] = []
    let steps = max(2, min(16, Int((hi - lo) / bin)))
    for i in 0...steps {
        let t = lo + (hi - lo) * Double(i) / Double(steps)
        if let x = at(a, t), let y = at(b, t) { differences.append(abs(x - y)) }
    }
    guard !differences.isEmpty else { return nil }
    differences.sort()
    return differences[differences.count / 2]
}

/// Merges chains that run within `mergeDistance` of each other where they overlap. Returns merges.
func mergeParallel(_ chains: inout [Chain], _ p: RuleParameters) -> Int {
    // Only chains that could become rules take part (short bits of text would only cost time).
    chains = chains.filter { $0.end - $0.start >= 2 * Double(p.minimumRun) }
    func mean(_ c: Chain) -> Double {
        let w = c.samples.reduce(0) { $0 + $1.weight }
        return c.samples.reduce(0) { $0 + $1.across * $1.weight } / max(w, 1e-9)
    }
    func range(_ c: Chain) -> Double {
        (c.samples.map(\.across).max() ?? 0) - (c.samples.map(\.across).min() ?? 0)
    }
    var merges = 0
    var changed = true
    while changed {
        changed = false
        chains.sort { mean($0) < mean($1) }
        var means = chains.map(mean)
        var ranges = chains.map(range)
        // Tilted or curved chains: means can differ by more than the local distance.
        let widest = ranges.max() ?? 0
        var i = 0
        while i < chains.count {
            var j = i + 1
            while j < chains.count && means[j] - means[i] <= p.mergeDistance + ranges[i] + widest {
                if let d = chainDistance(chains[i], chains[j], bin: p.bin), d <= p.mergeDistance {
                    let other = chains.remove(at: j)
                    means.remove(at: j); ranges.remove(at: j)
                    let a = chains[i]
                    let ov = max(0, min(a.end, other.end) - max(a.start, other.start))
                    let fa = a.covered / max(a.end - a.start, 1), fb = other.covered / max(other.end - other.start, 1)
                    chains[i].samples = rebin(a.samples + other.samples, bin: p.bin)
                    chains[i].start = min(a.start, other.start)
                    chains[i].end = max(a.end, other.end)
                    chains[i].covered = min(a.covered + other.covered - ov * min(fa, fb), chains[i].end - chains[i].start)
                    chains[i].fragmentCount += other.fragmentCount
                    merges += 1
                    changed = true
                } else {
                    j += 1
                }
            }
            i += 1
        }
    }
    return merges
}

/// Cleans a chain's samples, fits the quadratic and measures thickness and coverage.
func finishRule(_ chain: Chain, orientation: RuleOrientation, _ p: RuleParameters) -> TableRule? {
    var samples = rebin(chain.samples, bin: p.bin)
    guard !samples.isEmpty else { return nil }
    // Bins much thicker than the rule's usual stroke carry touching handwriting (an underline
    // written on the rule): their centre is biased, so they go when enough others remain.
    let usualThickness = weightedMedian(samples.map { ($0.thickness, $0.weight) }) ?? 1
    let thin = samples.filter { $0.thickness <= max(1.3 * usualThickness, usualThickness + 1.5) }
    if thin.count >= max(2, samples.count / 3) { samples = thin }
    // Running median over +-3 samples: drops bins pulled away by handwriting touching the rule.
    if samples.count >= 5 {
        let acrosses = samples.map(\.across)
        var kept: [WeightedSample] = []
        for i in samples.indices {
            let lo = max(0, i - 3), hi = min(samples.count - 1, i + 3)
            let median = acrosses[lo...hi].sorted()[(hi - lo) / 2]
            let limit = max(1.5, 0.5 * p.acrossTolerance)
            if abs(samples[i].across - median) <= limit { kept.append(samples[i]) }
        }
        if kept.count >= 2 { samples = kept }
    }
    // Light smoothing (1-2-1 weights) of the centre line.
    if samples.count >= 3 {
        var smoothed = samples
        for i in 1..<(samples.count - 1) {
            smoothed[i].across = (samples[i - 1].across + 2 * samples[i].across + samples[i + 1].across) / 4
        }
        samples = smoothed
    }
    let centre = (chain.start + chain.end) / 2
    var coefficients = [0.0, 0.0, 0.0]
    if let q = fitQuadratic(samples, origin: centre) {
        coefficients = q
    } else if let line = fitLine(samples[...], origin: centre) {
        coefficients = [line.a, line.b.isFinite ? line.b : 0, 0]
    }
    var maximumResidual = 0.0
    for q in samples {
        let d = q.along - centre
        maximumResidual = max(maximumResidual, abs(q.across - (coefficients[0] + coefficients[1] * d + coefficients[2] * d * d)))
    }
    let thickness = weightedMedian(samples.map { ($0.thickness, $0.weight) }) ?? 1
    let span = chain.end - chain.start
    return TableRule(orientation: orientation,
                     samples: samples.map { RuleSample(along: $0.along, across: $0.across) },
                     start: chain.start, end: chain.end, coefficients: coefficients, centre: centre,
                     maximumResidual: maximumResidual, thickness: thickness,
                     coverage: span > 0 ? min(1, chain.covered / span) : 0,
                     fragmentCount: chain.fragmentCount)
}

/// Weighted least-squares quadratic across = c0 + c1 d + c2 d^2, d = along - origin.
func fitQuadratic(_ samples: [WeightedSample], origin: Double) -> [Double]? {
    guard samples.count >= 3 else { return nil }
    // Scale d for conditioning.
    let scale = max(samples.map { abs($0.along - origin) }.max() ?? 1, 1)
    var m = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 3)
    for q in samples {
        let d = (q.along - origin) / scale
        let basis = [1, d, d * d]
        for r in 0..<3 {
            for c in 0..<3 { m[r][c] += q.weight * basis[r] * basis[c] }
            m[r][3] += q.weight * basis[r] * q.across
        }
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..<3 {
        var pivot = col
        for r in (col + 1)..<3 where abs(m[r][col]) > abs(m[pivot][col]) { pivot = r }
        guard abs(m[pivot][col]) > 1e-12 else { return nil }
        m.swapAt(col, pivot)
        for r in 0..<3 where r != col {
            let factor = m[r][col] / m[col][col]
            for c in col..<4 { m[r][c] -= factor * m[col][c] }
        }
    }
    let c0 = m[0][3] / m[0][0], c1 = m[1][3] / m[1][1], c2 = m[2][3] / m[2][2]
    return [c0, c1 / scale, c2 / (scale * scale)]
}
