import Foundation
import Imaging

// MARK: - Truth CSV

/// One labelled table cell of an archival logbook: a crop of the cell and what it reads.
public struct CellTruth: Sendable, Equatable {
    /// Absolute (or, for a relative CSV path, CSV-relative) path of the cell image.
    public var imagePath: String
    /// The transcribed value, as written in the CSV, e.g. "28.7" or "20" (a cell that reads 20.0).
    public var value: String
    /// Station identifier, e.g. "203".
    public var station: String
    /// The other columns (sheet, cell, row_label, column, ...), by header name.
    public var extra: [String: String]
    /// The row's line in the truth CSV (0 when not read from one), for messages: not part of
    /// what the cell is (`==` ignores it).
    public var line = 0

    public static func == (a: CellTruth, b: CellTruth) -> Bool {
        a.imagePath == b.imagePath && a.value == b.value && a.station == b.station && a.extra == b.extra
    }

    public init(imagePath: String, value: String, station: String, extra: [String: String] = [:]) {
        self.imagePath = imagePath
        self.value = value
        self.station = station
        self.extra = extra
    }

    /// Reads a truth CSV with a header row naming at least `image` and `value` (and usually
    /// `station`); image paths are relative to the CSV's folder. Errors name the file and line.
    /// A value that is not a number is an error, unless `anyValue` (for scoring, which takes an
    /// empty value for a blank cell and leaves out the rest: "NA", "illegible").
    public static func readTruth(csv path: String, anyValue: Bool = false) throws -> [CellTruth] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DatasetError(path: path, kind: .missingFile, problem: "no such truth CSV")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError(path: path, kind: .unreadable, problem: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError(path: path, kind: .unreadable, problem: "not UTF-8 text")
        }
        let folder = (path as NSString).deletingLastPathComponent
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard let headerLine = lines.first else {
            throw DatasetError(path: path, kind: .badRow, problem: "line 1: empty file, expected a header row with image,value,...")
        }
        let header = splitCSVLine(headerLine.hasPrefix("\u{FEFF}") ? String(headerLine.dropFirst()) : headerLine)
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let imageColumn = header.firstIndex(of: "image"), let valueColumn = header.firstIndex(of: "value") else {
            throw DatasetError(path: path, kind: .badRow,
                               problem: "line 1: header \(header) must name the columns 'image' and 'value'")
        }
        let stationColumn = header.firstIndex(of: "station")
        var result: [CellTruth] = []
        for (offset, line) in lines.enumerated().dropFirst() {
            let lineNumber = offset + 1
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let fields = splitCSVLine(line).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == header.count else {
                throw DatasetError(path: path, kind: .badRow,
                                   problem: "line \(lineNumber): \(fields.count) columns, the header has \(header.count)")
            }
            let image = fields[imageColumn], value = fields[valueColumn]
            guard !image.isEmpty else {
                throw DatasetError(path: path, kind: .badRow, problem: "line \(lineNumber): empty image path")
            }
            guard anyValue || isTruthValue(value) else {
                throw DatasetError(path: path, kind: .badValue,
                                   problem: "line \(lineNumber): value '\(value)' is not a number like 28.7 or -3")
            }
            var extra: [String: String] = [:]
            for (column, name) in header.enumerated() where column != imageColumn && column != valueColumn
                && column != stationColumn {
                extra[name] = fields[column]
            }
            let imagePath = image.hasPrefix("/") ? image : (folder.isEmpty ? image : folder + "/" + image)
            var cell = CellTruth(imagePath: imagePath, value: value, station: stationColumn.map { fields[$0] } ?? "", extra: extra)
            cell.line = lineNumber
            result.append(cell)
        }
        return result
    }

    /// `readTruth(csv:)` with the image paths taken relative to `folder` instead of the CSV's
    /// own folder (nil: the CSV's folder).
    public static func readTruth(csv path: String, imagesIn folder: String?, anyValue: Bool = false) throws -> [CellTruth] {
        var truth = try readTruth(csv: path, anyValue: anyValue)
        guard let folder else { return truth }
        let csvFolder = (path as NSString).deletingLastPathComponent
        let prefix = csvFolder.isEmpty ? "" : csvFolder + "/"
        for index in truth.indices where !prefix.isEmpty ? truth[index].imagePath.hasPrefix(prefix)
                                                         : !truth[index].imagePath.hasPrefix("/") {
            let relative = String(truth[index].imagePath.dropFirst(prefix.count))
            truth[index].imagePath = folder.isEmpty ? relative : folder + "/" + relative
        }
        return truth
    }

    /// Digits with at most one '.' or ',' and an optional leading sign.
    static func isTruthValue(_ value: String) -> Bool {
        var body = Substring(value)
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        let parts = body.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "." || $0 == "," })
        guard parts.count <= 2, !parts[0].isEmpty else { return false }
        return parts.allSatisfy { $0.allSatisfy(\.isASCIIDigit) } && (parts.count == 1 || !parts[1].isEmpty)
    }

    /// Splits one CSV line at commas, honouring double-quoted fields ("" inside quotes is a quote).
    static func splitCSVLine(_ line: String) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        var characters = line.makeIterator()
        var pending: Character? = nil
        while let character = pending ?? characters.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = characters.next() {
                        if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" && current.isEmpty {
                quoted = true
            } else if character == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

// MARK: - Cutting a cell into digits

/// A cell cut into its digits.
public struct CutCell: Sendable {
    /// A rectangle in cell pixel coordinates, inclusive on all sides.
    public struct Box: Sendable, Equatable, CustomStringConvertible {
        public var minX: Int, minY: Int, maxX: Int, maxY: Int
        public init(minX: Int, minY: Int, maxX: Int, maxY: Int) {
            self.minX = minX; self.minY = minY; self.maxX = maxX; self.maxY = maxY
        }
        public var width: Int { maxX - minX + 1 }
        public var height: Int { maxY - minY + 1 }
        public var centerX: Double { Double(minX + maxX) / 2 }
        /// The box around `boxes`; nil for none.
        public static func enclosing<S: Sequence>(_ boxes: S) -> Box? where S.Element == Box {
            var result: Box? = nil
            for box in boxes {
                result = result.map { Box(minX: min($0.minX, box.minX), minY: min($0.minY, box.minY),
                                          maxX: max($0.maxX, box.maxX), maxY: max($0.maxY, box.maxY)) } ?? box
            }
            return result
        }
        public var description: String { "(\(minX),\(minY))-(\(maxX),\(maxY))" }
    }

    /// One digit: its box in the cell and a crop of that box in paper polarity (0 = ink, 1 =
    /// paper) holding only this digit's ink (other ink inside the box is blanked out).
    public struct Digit: Sendable {
        public var box: Box
        public var image: GrayImage
    }

    /// The digits, left to right.
    public var digits: [Digit]
    /// Number of digits before the detected decimal separator (e.g. 2 for "28.7"), or nil when
    /// none was found.
    public var separatorIndex: Int?
    /// The separator's box, when found.
    public var separatorBox: Box?
    /// Ink components thrown away as rules, specks, underlines or strokes of neighbouring cells.
    public var droppedComponents: Int
    /// A minus sign before the digits (a short level dash at mid-height), when found.
    public var minusBox: Box? = nil

    public var boxes: [Box] { digits.map(\.box) }
}

/// Cuts a binarised (or grey) crop of a handwritten table cell into single digits with connected
/// components. A first, deliberately simple version:
/// 1. ink mask; table rules are erased as very long vertical / horizontal ink runs, and a
///    dotted or drawn underline as a band of rows in the lower half full of ink (kept only in
///    the columns where a digit stroke comes down into it);
/// 2. components; specks, elongated components at the border (rule remnants) and components
///    outside the text band (strokes of the cells above and below) are dropped;
/// 3. a small, roughly round component low in the text band between digits is the decimal
///    separator (a speck dropped in 2. too, when a tenth of the digits' height: a small hand's point);
/// 4. pieces that overlap strongly in x are merged (a broken 5 or 7), pieces much wider than tall
///    are split at the columns of least ink (touching digits).
public enum CellDigitCutter {
    /// The least size of a speck taken for a decimal point, as a share of the digits' height.
    static let minimumPointSize = 0.1

    public static func cut(cell: GrayImage, inkThreshold: Float = 0.5) -> CutCell {
        let width = cell.width, height = cell.height
        guard width > 2, height > 2 else { return CutCell(digits: [], separatorIndex: nil, separatorBox: nil, droppedComponents: 0) }
        var mask = cell.inkMask(threshold: inkThreshold)
        eraseRules(&mask, width: width, height: height)
        eraseUnderline(&mask, width: width, height: height)

        let (labels, components) = connectedComponents(of: mask, width: width, height: height)
        var dropped = 0
        let area = width * height
        let speckSize = max(4, area / 1500)

        // Pieces: sets of component labels with a box, so merging just unions them.
        struct Piece {
            var labels: [Int32]
            var box: CutCell.Box
            var pixels: Int
            var centroidY: Double
        }
        func piece(_ c: Component) -> Piece {
            Piece(labels: [c.label], box: .init(minX: c.minX, minY: c.minY, maxX: c.maxX, maxY: c.maxY),
                  pixels: c.pixelCount, centroidY: c.centroid.y)
        }

        var candidates: [Component] = []
        // Specks big enough to be a small hand's point (3 by 3 pixels on a page scanned at low
        // resolution): whether one is depends on the digits' height, known only below.
        var specks: [Component] = []
        for c in components {
            let touchesSide = c.minX == 0 || c.maxX == width - 1
            let touchesTopOrBottom = c.minY == 0 || c.maxY == height - 1
            if c.pixelCount < speckSize || c.width <= 2 || c.height <= 2 {
                dropped += 1
                if c.width >= 2 && c.height >= 2 && c.pixelCount >= 4 { specks.append(c) }
            } else if touchesSide && c.height >= 3 * c.width {
                dropped += 1   // remnant of a vertical rule
            } else if touchesTopOrBottom && c.width >= 3 * c.height {
                dropped += 1   // remnant of a horizontal rule
            } else if c.width * 4 <= c.height && c.height * 2 >= height
                        && (c.maxX < width * 15 / 100 || c.minX > width * 85 / 100) {
                dropped += 1   // a vertical rule near the left or right edge
            } else if c.height >= height * 8 / 10 && c.width * 4 <= c.height {
                dropped += 1   // a vertical rule inside the crop
            } else {
                candidates.append(c)
            }
        }
        dropped += dropDottedVerticals(&candidates, mask: mask, width: width, height: height)
        guard !candidates.isEmpty else {
            return CutCell(digits: [], separatorIndex: nil, separatorBox: nil, droppedComponents: dropped)
        }

        // Ink spanning no more than a quarter of the cell's height, all of it together, is a
        // speck, a dot or a stain, not a number (digits fill half the height or more of a cell).
        guard 4 * (candidates.map(\.maxY).max()! - candidates.map(\.minY).min()! + 1) >= height else {
            return CutCell(digits: [], separatorIndex: nil, separatorBox: nil, droppedComponents: dropped + candidates.count)
        }

        // The text band: the rows of the tall components. Components cut off by the top or bottom
        // edge (strokes of the neighbouring cells) only count when they are tall themselves.
        let reference = candidates.filter { c in
            let cutOff = c.minY == 0 || c.maxY == height - 1
            return !cutOff || c.height >= height / 2
        }
        let tallest = (reference.isEmpty ? candidates : reference).map(\.height).max()!
        let tall = candidates.filter { $0.height * 10 >= tallest * 6 }
        let bandTop = tall.map(\.minY).sorted()[tall.count / 2]
        let bandBottom = tall.map(\.maxY).sorted()[tall.count / 2]
        let bandHeight = max(1, bandBottom - bandTop + 1)
        let digitHeight = Double(bandHeight)

        var pieces: [Piece] = []
        var separatorCandidates: [Piece] = []
        // Where a point sits: low in the text band, or just under it.
        func sitsLow(_ c: Component) -> Bool {
            c.centroid.y >= Double(bandTop) + 0.6 * digitHeight && c.centroid.y <= Double(bandBottom) + 0.2 * digitHeight
        }
        for c in candidates {
            let overlap = min(c.maxY, bandBottom) - max(c.minY, bandTop) + 1
            let small = Double(c.width) <= 0.45 * digitHeight && Double(c.height) <= 0.4 * digitHeight
            let roundish = c.width <= 3 * c.height && c.height <= 3 * c.width
            if small && roundish && sitsLow(c) {
                separatorCandidates.append(piece(c))
            } else if overlap * 10 >= c.height * 4 || (overlap > 0 && Double(overlap) >= 0.5 * digitHeight) {
                pieces.append(piece(c))
            } else {
                dropped += 1
            }
        }
        for c in specks where Double(max(c.width, c.height)) >= minimumPointSize * digitHeight
            && c.width <= 2 * c.height && c.height <= 2 * c.width && sitsLow(c) {
            separatorCandidates.append(piece(c))
            dropped -= 1
        }

        // Merge pieces that overlap strongly in x (fragments of one digit).
        pieces.sort { $0.box.minX < $1.box.minX }
        var merged = true
        while merged {
            merged = false
            outer: for i in 0..<pieces.count {
                for j in (i + 1)..<pieces.count {
                    let a = pieces[i].box, b = pieces[j].box
                    let overlapX = min(a.maxX, b.maxX) - max(a.minX, b.minX) + 1
                    if overlapX * 2 >= min(a.width, b.width) {
                        let union = CutCell.Box(minX: min(a.minX, b.minX), minY: min(a.minY, b.minY),
                                                maxX: max(a.maxX, b.maxX), maxY: max(a.maxY, b.maxY))
                        let total = pieces[i].pixels + pieces[j].pixels
                        pieces[i] = Piece(labels: pieces[i].labels + pieces[j].labels, box: union, pixels: total,
                                          centroidY: (pieces[i].centroidY * Double(pieces[i].pixels)
                                                      + pieces[j].centroidY * Double(pieces[j].pixels)) / Double(total))
                        pieces.remove(at: j)
                        merged = true
                        break outer
                    }
                }
            }
        }
        func isShort(_ p: Piece) -> Bool { Double(p.box.height) < 0.6 * digitHeight }
        // A minus sign: the leftmost piece, a short level dash at mid-height, clear of the digits
        // to its right (taken out before the short pieces below join their neighbours).
        var minusBox: CutCell.Box? = nil
        if pieces.count >= 2, let dash = pieces.first, pieces.dropFirst().contains(where: { !isShort($0) }) {
            let box = dash.box
            let gap = pieces[1].box.minX - box.maxX - 1
            let middle = Double(box.minY + box.maxY) / 2
            if Double(box.height) <= 0.3 * digitHeight && 2 * box.width >= 3 * box.height
                && Double(box.width) >= 0.25 * digitHeight && Double(box.width) <= 1.2 * digitHeight
                && gap >= 1 && middle >= Double(bandTop) + 0.25 * digitHeight && middle <= Double(bandTop) + 0.75 * digitHeight {
                minusBox = box
                pieces.removeFirst()
            }
        }
        // A short piece touching or nearly touching a digit beside it is part of it (the lead-in
        // stroke of a 1, the flag of a 5); what is still short, or a sliver, is not a digit (a
        // dash, a tick, a blot, the edge of a rule).
        var index = 0
        while index < pieces.count {
            guard isShort(pieces[index]) else { index += 1; continue }
            let p = pieces[index]
            var best: (index: Int, gap: Int)? = nil
            for (other, q) in pieces.enumerated() where other != index && !isShort(q) {
                let gap = max(q.box.minX - p.box.maxX, p.box.minX - q.box.maxX) - 1
                let overlapY = min(p.box.maxY, q.box.maxY) - max(p.box.minY, q.box.minY) + 1
                if overlapY > 0 && Double(gap) <= 0.1 * digitHeight && gap < (best?.gap ?? Int.max) {
                    best = (other, gap)
                }
            }
            guard let target = best?.index else { index += 1; continue }
            let q = pieces[target]
            let total = p.pixels + q.pixels
            pieces[target] = Piece(labels: q.labels + p.labels,
                                   box: .init(minX: min(p.box.minX, q.box.minX), minY: min(p.box.minY, q.box.minY),
                                              maxX: max(p.box.maxX, q.box.maxX), maxY: max(p.box.maxY, q.box.maxY)),
                                   pixels: total,
                                   centroidY: (p.centroidY * Double(p.pixels) + q.centroidY * Double(q.pixels)) / Double(total))
            pieces.remove(at: index)
        }
        let beforeFilter = pieces.count
        pieces.removeAll { Double($0.box.height) < 0.45 * digitHeight || Double($0.box.width) < 0.12 * digitHeight }
        dropped += beforeFilter - pieces.count

        // Separator: a candidate between the first and last digit that does not sit under a digit.
        var separatorBox: CutCell.Box? = nil
        if let first = pieces.first, let last = pieces.last {
            let between = separatorCandidates.filter { s in
                let centre = s.box.centerX
                guard centre > first.box.centerX && centre < last.box.centerX else { return false }
                return !pieces.contains { p in
                    let overlapX = min(p.box.maxX, s.box.maxX) - max(p.box.minX, s.box.minX) + 1
                    return overlapX * 10 > s.box.width * 6
                }
            }
            separatorBox = between.max { $0.pixels < $1.pixels }?.box
        }
        dropped += separatorCandidates.count - (separatorBox == nil ? 0 : 1)

        // Build digit crops, splitting over-wide pieces.
        var digits: [CutCell.Digit] = []
        for p in pieces {
            let labelSet = Set(p.labels)
            var ink = [Bool](repeating: false, count: p.box.width * p.box.height)
            for y in p.box.minY...p.box.maxY {
                for x in p.box.minX...p.box.maxX where labelSet.contains(labels[y * width + x]) {
                    ink[(y - p.box.minY) * p.box.width + (x - p.box.minX)] = true
                }
            }
            for range in splitColumns(ink: ink, width: p.box.width, height: p.box.height, digitHeight: digitHeight) {
                if let digit = makeDigit(ink: ink, width: p.box.width, height: p.box.height, columns: range,
                                         origin: (p.box.minX, p.box.minY)) {
                    digits.append(digit)
                }
            }
        }
        digits.sort { $0.box.minX < $1.box.minX }
        let separatorIndex = separatorBox.map { s in digits.filter { $0.box.centerX < s.centerX }.count }
        return CutCell(digits: digits, separatorIndex: separatorIndex, separatorBox: separatorBox,
                       droppedComponents: dropped, minusBox: digits.isEmpty ? nil : minusBox)
    }

    /// Drops a broken vertical line crossing the cell from top to bottom (the crease of a fold, a
    /// faded rule): a thin component whose strip of columns holds ink in at least 70% of the
    /// rows, among them rows in the top and the bottom 15% of the crop, goes with every thin
    /// component in that strip. A written digit stays in the text band, clear of the crop's top
    /// and bottom, so a 1 is never such a strip. Returns the count dropped.
    static func dropDottedVerticals(_ candidates: inout [Component], mask: [Bool], width: Int, height: Int) -> Int {
        let maxWidth = max(3, height / 8), edge = max(1, height * 15 / 100)
        var drop = Set<Int>()
        for (index, c) in candidates.enumerated() where c.width <= maxWidth && !drop.contains(index) {
            let left = max(0, c.minX - 2), right = min(width - 1, c.maxX + 2)
            var inkRows = 0, top = false, bottom = false
            for y in 0..<height where (left...right).contains(where: { mask[y * width + $0] }) {
                inkRows += 1
                if y < edge { top = true }
                if y >= height - edge { bottom = true }
            }
            guard top, bottom, inkRows * 10 >= height * 7 else { continue }
            for (other, d) in candidates.enumerated() where d.width <= maxWidth && d.minX >= left - 2 && d.maxX <= right + 2 {
                drop.insert(other)
            }
        }
        candidates = candidates.indices.filter { !drop.contains($0) }.map { candidates[$0] }
        return drop.count
    }

    /// Erases ink runs longer than 80% of the height (vertical rules) or half the width
    /// (horizontal rules).
    static func eraseRules(_ mask: inout [Bool], width: Int, height: Int) {
        let minVertical = max(8, height * 8 / 10), minHorizontal = max(8, width / 2)
        var erase = [Bool](repeating: false, count: mask.count)
        for x in 0..<width {
            var y = 0
            while y < height {
                guard mask[y * width + x] else { y += 1; continue }
                let start = y
                while y < height && mask[y * width + x] { y += 1 }
                if y - start >= minVertical { for r in start..<y { erase[r * width + x] = true } }
            }
        }
        for y in 0..<height {
            var x = 0
            while x < width {
                guard mask[y * width + x] else { x += 1; continue }
                let start = x
                while x < width && mask[y * width + x] { x += 1 }
                if x - start >= minHorizontal { for c in start..<x { erase[y * width + c] = true } }
            }
        }
        // The rules' ragged edges: ink within 2 pixels of an erased run goes too.
        var grown = erase
        for y in 0..<height {
            for x in 0..<width where erase[y * width + x] {
                for d in -2...2 {
                    let gx = x + d, gy = y + d
                    if gx >= 0 && gx < width { grown[y * width + gx] = true }
                    if gy >= 0 && gy < height { grown[gy * width + x] = true }
                }
            }
        }
        for i in 0..<mask.count where grown[i] { mask[i] = false }
    }

    /// Finds an underline (the fullest row in the lower half, with ink over at least 30% of the
    /// width and spread over 70% of it, and the rows around it that are at least 60% as full, at most ~12% of the height)
    /// and erases it, except in columns where ink comes down into it from the row above (a digit
    /// standing on the line keeps its foot).
    static func eraseUnderline(_ mask: inout [Bool], width: Int, height: Int) {
        var rowInk = [Int](repeating: 0, count: height)
        for y in 0..<height { for x in 0..<width where mask[y * width + x] { rowInk[y] += 1 } }
        guard height >= 4, let peak = (height / 2..<height).max(by: { rowInk[$0] < rowInk[$1] }),
              rowInk[peak] * 10 >= width * 3 else { return }
        // A line runs (dotted or not) across most of the cell, unlike the feet of the digits.
        let row = peak * width
        guard let first = (0..<width).first(where: { mask[row + $0] }),
              let last = (0..<width).last(where: { mask[row + $0] }), (last - first + 1) * 10 >= width * 7 else { return }
        let maxBand = max(3, height * 12 / 100)
        let strong = { (y: Int) in rowInk[y] * 10 >= rowInk[peak] * 6 }
        var bandTop = peak, bandBottom = peak
        while bandBottom - bandTop + 1 < maxBand {
            if bandTop > 0 && strong(bandTop - 1)
                && (bandBottom + 1 >= height || !strong(bandBottom + 1) || rowInk[bandTop - 1] >= rowInk[bandBottom + 1]) {
                bandTop -= 1
            } else if bandBottom + 1 < height && strong(bandBottom + 1) {
                bandBottom += 1
            } else {
                break
            }
        }
        // Where a stroke comes down into the band, keep the run that continues it (the digit's
        // foot) but not line pieces below a gap.
        for x in 0..<width {
            var r = bandTop
            if bandTop > 0 && mask[(bandTop - 1) * width + x] {
                while r <= bandBottom && mask[r * width + x] { r += 1 }
            }
            while r <= bandBottom { mask[r * width + x] = false; r += 1 }
        }
    }

    /// Column ranges to cut a piece into: one range, or several when the piece is much wider
    /// than a digit is tall (touching digits), cut at the columns of least ink near the
    /// expected boundaries.
    static func splitColumns(ink: [Bool], width: Int, height: Int, digitHeight: Double) -> [Range<Int>] {
        guard Double(width) > 1.15 * digitHeight else { return [0..<width] }
        let parts = min(4, max(2, Int((Double(width) / (0.7 * digitHeight)).rounded())))
        var columnInk = [Int](repeating: 0, count: width)
        for y in 0..<height { for x in 0..<width where ink[y * width + x] { columnInk[x] += 1 } }
        var cuts: [Int] = []
        let step = Double(width) / Double(parts)
        for k in 1..<parts {
            let expected = step * Double(k)
            let low = max((cuts.last ?? 0) + 2, Int(expected - 0.3 * step))
            let high = min(width - 2, Int(expected + 0.3 * step))
            guard low <= high else { continue }
            // Least ink; ties go to the column nearest the expected boundary.
            let best = (low...high).min { a, b in
                columnInk[a] != columnInk[b] ? columnInk[a] < columnInk[b]
                    : abs(Double(a) - expected) < abs(Double(b) - expected)
            }!
            cuts.append(best)
        }
        var ranges: [Range<Int>] = []
        var start = 0
        for cut in cuts { ranges.append(start..<cut); start = cut }
        ranges.append(start..<width)
        return ranges
    }

    /// A digit from the ink of `columns` of a piece, trimmed to its ink; nil when empty.
    static func makeDigit(ink: [Bool], width: Int, height: Int, columns: Range<Int>,
                          origin: (x: Int, y: Int)) -> CutCell.Digit? {
        var minX = Int.max, maxX = -1, minY = Int.max, maxY = -1
        for y in 0..<height {
            for x in columns where ink[y * width + x] {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        guard maxX >= minX else { return nil }
        var image = GrayImage(width: maxX - minX + 1, height: maxY - minY + 1, fill: 1)
        for y in minY...maxY {
            for x in minX...maxX where ink[y * width + x] { image[x - minX, y - minY] = 0 }
        }
        return CutCell.Digit(box: .init(minX: origin.x + minX, minY: origin.y + minY,
                                        maxX: origin.x + maxX, maxY: origin.y + maxY), image: image)
    }
}

// MARK: - Labelled digits from truth

/// What `ArchivalCells.labelledDigits(truth:)` did with the cells.
public struct ArchivalCutSummary: Sendable, CustomStringConvertible {
    public struct StationCounts: Sendable, Equatable {
        public var cellsRead = 0
        public var cellsKept = 0
        public var digits = 0
        public var keptShare: Double { cellsRead == 0 ? 0 : Double(cellsKept) / Double(cellsRead) }
    }

    public var cellsRead = 0
    public var cellsKept = 0
    public var digits = 0
    /// Kept cells whose detected separator sits where the value puts it / elsewhere.
    public var separatorsAgreeing = 0
    public var separatorsDisagreeing = 0
    public var perStation: [String: StationCounts] = [:]
    /// Rejected cells by reason ("too few digits (cut 2, value 28.7)" is counted as "too few digits").
    public var rejected: [String: Int] = [:]
    /// The rejected cells' image paths with their reason, for looking at them.
    public var rejectedCells: [(path: String, reason: String)] = []
    public var digitsPerClass = [Int](repeating: 0, count: 10)

    public var keptShare: Double { cellsRead == 0 ? 0 : Double(cellsKept) / Double(cellsRead) }

    public var description: String {
        var lines = ["cells read \(cellsRead), kept \(cellsKept) (\(percent(keptShare))), digits \(digits)"]
        for station in perStation.keys.sorted() {
            let s = perStation[station]!
            lines.append("  station \(station): read \(s.cellsRead), kept \(s.cellsKept) (\(percent(s.keptShare))), digits \(s.digits)")
        }
        lines.append("  digits per class: " + digitsPerClass.enumerated().map { "\($0.offset):\($0.element)" }.joined(separator: " "))
        lines.append("  separators: \(separatorsAgreeing) where expected, \(separatorsDisagreeing) elsewhere")
        for (reason, count) in rejected.sorted(by: { $0.value > $1.value }) { lines.append("  rejected \(count): \(reason)") }
        return lines.joined(separator: "\n")
    }

    private func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }
}

/// Labelled digits cut from archival table cells (MeteoSaver-style truth CSVs): the bridge from
/// transcribed cells to a `DigitDataset` that the evaluator and trainer understand.
public enum ArchivalCells {
    /// Reads a truth CSV for its digits (`labelledDigits` leaves out, with the reason, the rows
    /// whose value is no number: a blank cell, "NA"); see `CellTruth.readTruth(csv:)`.
    public static func readTruth(csv path: String) throws -> [CellTruth] { try CellTruth.readTruth(csv: path, anyValue: true) }

    /// A cell crop from disk with white paper and black ink (`GrayImage.cellCropWithPaperWhite`:
    /// a gray crop's tones are stretched, a black-and-white one is kept as is).
    public static func loadCellCrop(at path: String) throws -> GrayImage {
        try loadGrayImage(at: path).cellCropWithPaperWhite()
    }

    /// The digit strings a value may be written as, with the number of digits before the
    /// separator: "28.7" -> [("287", 2)]; "20" -> [("20", nil), ("200", 2)] (a cell may read 20.0);
    /// a sign is dropped.
    public static func readings(of value: String) -> [(digits: [Int], separatorIndex: Int?)] {
        var body = Substring(value)
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        let parts = body.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "." || $0 == "," })
        let integer = parts[0].compactMap { $0.wholeNumberValue }
        if parts.count > 1 {
            return [(integer + parts[1].compactMap { $0.wholeNumberValue }, integer.count)]
        }
        return [(integer, nil), (integer + [0], integer.count)]
    }

    /// Cuts every cell, keeps those whose digit count matches a reading of the value and labels
    /// their digits (normalised like the training sets). Origins are
    /// "meteosaver:<image file name>#<digit index>".
    public static func labelledDigits(truth: [CellTruth], originPrefix: String = "meteosaver")
        -> (dataset: DigitDataset, summary: ArchivalCutSummary) {
        var summary = ArchivalCutSummary()
        var images: [Float] = [], labels: [Int] = [], origins: [String] = []
        func reject(_ cell: CellTruth, _ reason: String) {
            summary.rejected[reason, default: 0] += 1
            summary.rejectedCells.append((cell.imagePath, reason))
        }
        for cell in truth {
            summary.cellsRead += 1
            summary.perStation[cell.station, default: .init()].cellsRead += 1
            guard CellTruth.isTruthValue(cell.value) else { reject(cell, "value is not a number"); continue }
            let image: GrayImage
            do { image = try loadCellCrop(at: cell.imagePath) } catch { reject(cell, "unreadable image"); continue }
            let cut = CellDigitCutter.cut(cell: image)
            let options = readings(of: cell.value)
            guard let reading = options.first(where: { $0.digits.count == cut.digits.count }) else {
                let counts = options.map(\.digits.count)
                if cut.digits.isEmpty { reject(cell, "no digits found") }
                else if cut.digits.count < counts.min()! { reject(cell, "too few digits") }
                else { reject(cell, "too many digits") }
                continue
            }
            if let found = cut.separatorIndex, let expected = reading.separatorIndex {
                if found == expected { summary.separatorsAgreeing += 1 } else { summary.separatorsDisagreeing += 1 }
            }
            let name = (cell.imagePath as NSString).lastPathComponent
            for (index, (digit, label)) in zip(cut.digits, reading.digits).enumerated() {
                images += DigitNormalizer.normalize(scan: digit.image)
                labels.append(label)
                origins.append("\(originPrefix):\(name)#\(index)")
                summary.digitsPerClass[label] += 1
            }
            summary.cellsKept += 1
            summary.digits += cut.digits.count
            summary.perStation[cell.station]!.cellsKept += 1
            summary.perStation[cell.station]!.digits += cut.digits.count
        }
        return (DigitDataset(images: images, labels: labels, origins: origins), summary)
    }

    /// The labelled digits of a truth CSV (see `labelledDigits(truth:)`); throws when the CSV cannot be read.
    public static func load(truthCSV: String) throws -> DigitDataset {
        try labelledDigits(truth: readTruth(csv: truthCSV)).dataset
    }
}
