import Foundation
import Recognition

// `logbook score`: a run's transcription.csv against a truth file in the same format (as
// `logbook synth` writes it). Cells are matched by page, row and column; where the grid found
// other row or column numbers (a missed rule shifts them), by the overlap of the cell boxes on
// the scan. Every truth cell counts: one the run did not report is wrong. Transcribed cells
// matching no truth cell are extras (printed labels or headers read as numbers): the ones
// reported as confident numbers are counted separately.

/// A CSV file as rows of named fields.
public struct CSVTable {
    public var header: [String]
    public var rows: [[String]]

    public static func load(path: String) throws -> CSVTable {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw PipelineError(path: path, problem: "cannot be read")
        }
        var records = parse(text)
        guard !records.isEmpty else { throw PipelineError(path: path, problem: "empty CSV file") }
        let header = records.removeFirst().map { $0.trimmingCharacters(in: .whitespaces) }
        return CSVTable(header: header, rows: records.filter { !($0.count == 1 && $0[0].isEmpty) })
    }

    /// RFC 4180: quoted fields may hold commas, quotes ("") and line breaks.
    static func parse(_ text: String) -> [[String]] {
        var records: [[String]] = [], fields: [String] = [], field = ""
        var quoted = false, afterQuote = false
        for character in text {
            if quoted {
                if character == "\"" { quoted = false; afterQuote = true } else { field.append(character) }
                continue
            }
            switch character {
            case "\"":
                if afterQuote { field.append("\"") }
                quoted = true
            case ",":
                fields.append(field); field = ""
            case "\n", "\r\n":
                fields.append(field); field = ""
                records.append(fields); fields = []
            case "\r":
                break
            default:
                field.append(character)
            }
            afterQuote = false
        }
        if !field.isEmpty || !fields.isEmpty { fields.append(field); records.append(fields) }
        return records
    }

    public func column(_ name: String) -> Int? { header.firstIndex(of: name) }

    func require(_ name: String, path: String) throws -> Int {
        guard let index = column(name) else { throw PipelineError(path: path, problem: "no column '\(name)' (has: \(header.joined(separator: ",")))") }
        return index
    }
}

/// One cell of a transcription or truth file.
public struct ScoredCell: Equatable, Sendable {
    public var page: String
    public var row: Int
    public var column: Int
    public var value: String
    public var flag: String
    public var confidence: Double?
    public var box: [Int]?

    static func load(path: String) throws -> [ScoredCell] {
        let table = try CSVTable.load(path: path)
        let page = try table.require("page", path: path), row = try table.require("row", path: path)
        let column = try table.require("column", path: path), value = try table.require("value", path: path)
        let flag = table.column("flag"), confidence = table.column("confidence")
        let boxColumns = ["cell_x", "cell_y", "cell_width", "cell_height"].compactMap { table.column($0) }
        return try table.rows.enumerated().map { number, fields in
            func field(_ index: Int) -> String { index < fields.count ? fields[index] : "" }
            guard let r = Int(field(row)), let c = Int(field(column)) else {
                throw PipelineError(path: path, problem: "line \(number + 2): row and column must be numbers")
            }
            let box = boxColumns.count == 4 ? boxColumns.compactMap { Int(field($0)) } : []
            let text = field(value)
            return ScoredCell(page: field(page), row: r, column: c, value: text,
                              flag: flag.map(field) ?? (text.isEmpty ? "empty" : "ok"),
                              confidence: confidence.flatMap { Double(field($0)) }, box: box.count == 4 ? box : nil)
        }
    }
}

public struct RunScore: Sendable, Equatable {
    public var cells = 0
    public var exact = 0
    /// Same number, written differently ("20" for "20.0").
    public var sameNumber = 0
    public var digitsCorrect = 0
    public var digitsTotal = 0
    public var ok = 0, review = 0, empty = 0, unreadable = 0
    /// Truth cells the run did not report at all.
    public var missing = 0
    /// Matched by box overlap instead of row and column.
    public var matchedByBox = 0
    public var unflagged = 0
    public var unflaggedExact = 0
    /// Transcribed cells matching no truth cell, and those of them reported as confident numbers.
    public var extra = 0
    public var extraConfident = 0
    /// Truth cells with a value read as empty, and empty truth cells read as a number.
    public var missedNumbers = 0
    public var inventedNumbers = 0

    public var cellAccuracy: Double { ratio(exact, cells) }
    public var digitAccuracy: Double { ratio(digitsCorrect, digitsTotal) }
    public var flaggedShare: Double { ratio(review + unreadable, cells) }
    public var unflaggedAccuracy: Double { ratio(unflaggedExact, unflagged) }
    func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? .nan : Double(a) / Double(b) }
}

public enum Scoring {
    public static func score(transcription: String, truth: String) throws -> RunScore {
        score(read: try ScoredCell.load(path: transcription), truth: try ScoredCell.load(path: truth))
    }

    public static func score(read: [ScoredCell], truth: [ScoredCell]) -> RunScore {
        var byKey: [String: Int] = [:], byPage: [String: [Int]] = [:]
        for (index, cell) in read.enumerated() {
            byKey["\(cell.page)|\(cell.row)|\(cell.column)"] = index
            byPage[cell.page, default: []].append(index)
        }
        var used = [Bool](repeating: false, count: read.count)
        var score = RunScore()
        for truthCell in truth {
            score.cells += 1
            var match = byKey["\(truthCell.page)|\(truthCell.row)|\(truthCell.column)"]
            if let found = match, let a = truthCell.box, let b = read[found].box, overlap(a, b) < 0.5 {
                match = nil
            }
            if match == nil, let box = truthCell.box {
                let best = (byPage[truthCell.page] ?? []).filter { !used[$0] }
                    .compactMap { index in read[index].box.map { (index, overlap(box, $0)) } }
                    .max { $0.1 < $1.1 }
                if let best, best.1 >= 0.5 {
                    match = best.0
                    score.matchedByBox += 1
                }
            }
            guard let index = match else {
                score.missing += 1
                if !truthCell.value.isEmpty { score.digitsTotal += ArchivalCells.readings(of: truthCell.value).first?.digits.count ?? 0 }
                continue
            }
            used[index] = true
            let cell = read[index]
            let exact = cell.value == truthCell.value
            if exact { score.exact += 1 }
            if exact || CellEvaluation.sameNumber(cell.value, truthCell.value) { score.sameNumber += 1 }
            if !truthCell.value.isEmpty {
                let digits = cell.value.compactMap(\.wholeNumberValue)
                let digitScore = CellEvaluation.digitScore(truth: truthCell.value, read: digits)
                score.digitsCorrect += digitScore.correct
                score.digitsTotal += digitScore.total
                if cell.value.isEmpty { score.missedNumbers += 1 }
            } else if !cell.value.isEmpty {
                score.inventedNumbers += 1
            }
            switch cell.flag {
            case "ok": score.ok += 1
            case "review": score.review += 1
            case "unreadable": score.unreadable += 1
            default: score.empty += 1
            }
            if cell.flag == "ok" || cell.flag == "empty" {
                score.unflagged += 1
                if exact { score.unflaggedExact += 1 }
            }
        }
        for (index, cell) in read.enumerated() where !used[index] {
            score.extra += 1
            if cell.flag == "ok" && !cell.value.isEmpty { score.extraConfident += 1 }
        }
        return score
    }

    /// Intersection over union of two x, y, width, height boxes.
    static func overlap(_ a: [Int], _ b: [Int]) -> Double {
        let ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
        let iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
        let intersection = Double(ix * iy)
        let union = Double(a[2] * a[3] + b[2] * b[3]) - intersection
        return union > 0 ? intersection / union : 0
    }

    public static func report(_ s: RunScore) -> String {
        func percent(_ value: Double) -> String { value.isFinite ? String(format: "%.2f%%", value * 100) : "n/a" }
        return """
            cells (truth)          \(s.cells)\(s.missing > 0 ? " (\(s.missing) not reported)" : "")\(s.matchedByBox > 0 ? ", \(s.matchedByBox) matched by box" : "")
            cells exactly right    \(percent(s.cellAccuracy)) (\(s.exact)); same number \(s.sameNumber)
            digit accuracy         \(percent(s.digitAccuracy)) (\(s.digitsCorrect) of \(s.digitsTotal))
            flagged for review     \(percent(s.flaggedShare)) (review \(s.review), unreadable \(s.unreadable); ok \(s.ok), empty \(s.empty))
            unflagged accuracy     \(percent(s.unflaggedAccuracy)) (\(s.unflaggedExact) of \(s.unflagged))
            numbers read as empty  \(s.missedNumbers); empty cells read as numbers \(s.inventedNumbers)
            extra cells            \(s.extra) not in the truth, \(s.extraConfident) of them confident numbers
            """
    }

    public static func json(_ s: RunScore) -> String {
        func number(_ value: Double) -> String { value.isFinite ? String(format: "%.6f", value) : "null" }
        let fields: [(String, String)] = [
            ("cells", "\(s.cells)"), ("exact", "\(s.exact)"), ("cell_accuracy", number(s.cellAccuracy)),
            ("same_number", "\(s.sameNumber)"), ("digit_accuracy", number(s.digitAccuracy)),
            ("digits_correct", "\(s.digitsCorrect)"), ("digits_total", "\(s.digitsTotal)"),
            ("flagged_share", number(s.flaggedShare)), ("unflagged_accuracy", number(s.unflaggedAccuracy)),
            ("ok", "\(s.ok)"), ("review", "\(s.review)"), ("empty", "\(s.empty)"), ("unreadable", "\(s.unreadable)"),
            ("missing", "\(s.missing)"), ("extra", "\(s.extra)"), ("extra_confident", "\(s.extraConfident)"),
            ("missed_numbers", "\(s.missedNumbers)"), ("invented_numbers", "\(s.inventedNumbers)"),
        ]
        return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }
}
