import Foundation
import Imaging
import NeuralNet

/// One evaluated cell: its truth, what was read, and how it scored.
public struct CellResult: Sendable {
    public var truth: CellTruth
    public var reading: CellReading
    /// The reading is the truth's number (`CellEvaluation.sameNumber`).
    public var exact: Bool
    /// Digits scored for this cell (see `CellEvaluation.digitScore`).
    public var digitsCorrect: Int
    public var digitsTotal: Int
    /// Whether the read digits were aligned with a digit string of the truth (same length).
    public var aligned: Bool
}

/// The scores of a set of cells.
public struct CellScores: Sendable, Equatable, Codable {
    public var cells = 0
    /// Cells whose reading is the truth's number.
    public var exact = 0
    /// Digits right / digits in the truth (see `CellEvaluation.digitScore`).
    public var digitsCorrect = 0
    public var digitsTotal = 0
    /// Cells per flag.
    public var ok = 0, review = 0, empty = 0, unreadable = 0
    /// Cells not flagged (ok or empty) and how many of them are exact.
    public var unflagged = 0
    public var unflaggedExact = 0

    public init() {}

    public var exactValueAccuracy: Double { ratio(exact, cells) }
    public var digitAccuracy: Double { ratio(digitsCorrect, digitsTotal) }
    /// Share of cells flagged for a person: review + unreadable.
    public var flaggedFraction: Double { ratio(review + unreadable, cells) }
    /// Exact value accuracy among the cells not flagged (NaN when every cell is flagged).
    public var unflaggedAccuracy: Double { unflagged == 0 ? .nan : Double(unflaggedExact) / Double(unflagged) }

    mutating func add(_ result: CellResult, flag: CellFlag) {
        cells += 1
        if result.exact { exact += 1 }
        digitsCorrect += result.digitsCorrect
        digitsTotal += result.digitsTotal
        switch flag {
        case .ok: ok += 1
        case .review: review += 1
        case .empty: empty += 1
        case .unreadable: unreadable += 1
        }
        if flag == .ok || flag == .empty {
            unflagged += 1
            if result.exact { unflaggedExact += 1 }
        }
    }

    private func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? .nan : Double(a) / Double(b) }
}

/// The flagged share and unflagged accuracy at one review threshold.
public struct ThresholdPoint: Sendable, Equatable {
    public var threshold: Float
    public var flaggedFraction: Double
    public var unflaggedAccuracy: Double
    public var unflaggedCells: Int
    /// Unflagged cells read right: with `unflaggedCells`, what pools exactly across reports.
    public var unflaggedExact: Int
}

/// What `CellEvaluation.evaluate` found.
public struct CellEvaluationReport: Sendable {
    public var truthCSV: String
    public var reviewThreshold: Float
    public var results: [CellResult]
    public var overall: CellScores
    /// Per station, sorted by station; empty when the truth has no station column.
    public var perStation: [(station: String, scores: CellScores)]
    /// confusion[truth][read] over the aligned digits.
    public var confusion: [[Int]]
    /// Flagged share and unflagged accuracy over review thresholds 0.5 ... 0.999.
    public var curve: [ThresholdPoint]
    /// Seconds spent loading the cell images, and reading them (cutting, normalising, classifying).
    public var loadSeconds: Double
    public var readSeconds: Double
    /// What the table checks did (nil: none ran, e.g. the truth has no sheet and column).
    public var checks: CheckSummary? = nil
    /// Truth rows left out of the scores, each with why ("line 7: value 'NA' is not a number").
    public var skipped: [String] = []
    /// Set when the cells were read twice, the digit model adapted to them in between
    /// (`CellAdaptation`): the scores above are the second reading's.
    public var adaptation: CellAdaptation.Summary? = nil
    /// Set when adapting was asked for and not done: why (`CellAdaptation.reasonNotToAdapt`).
    public var notAdapted: String? = nil

    public struct CheckSummary: Sendable {
        public var constraints: Int
        public var relations: [String]
        public var corrected: Int
        public var broken: Int
        public var columnDecimals: [String: Int] = [:]
    }

    public var cellsPerSecond: Double { readSeconds > 0 ? Double(results.count) / readSeconds : .nan }
}

/// Scores a `CellReader` on transcribed cells.
///
/// Definitions:
/// - **Exact value accuracy**: the reading is the truth as a number (`sameNumber`: "20" equals
///   "20.0", "28.7" does not equal "28.1"); an empty or non-numeric reading is wrong. A truth row
///   with an empty value is a blank cell: right when read `empty`, and it has no digits to score.
/// - **Digit accuracy** (`digitScore`): the truth's digit strings are the value's digits without
///   sign and separator, and for a value without a separator also with a trailing 0 (a cell may
///   read "20.0" for "20"). When the read digits have the length of one of them they are compared
///   position by position; otherwise every digit of the truth as written counts as wrong. The
///   accuracy is the right digits over the truth's digits (the aligned string's length when
///   aligned). The confusion table counts the aligned digits only.
/// - **Flagged**: `review` + `unreadable` (an `empty` reading is not flagged: a blank cell is a
///   legitimate reading, and it is counted wrong when the truth holds a number).
/// - **Unflagged accuracy**: exact value accuracy over the cells not flagged.
public enum CellEvaluation {
    /// The review thresholds of the flagged-vs-accuracy curve.
    public static let curveThresholds: [Float] = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.925, 0.95, 0.97, 0.98, 0.99,
                                                  0.995, 0.999]

    /// Reads the truth CSV (`image,value[,station,...]`; image paths relative to the CSV's
    /// folder, or to `cellsFolder` when given), reads every cell with `reader` and scores it.
    /// An empty value is a blank cell (right when read empty). Errors name the file: a missing or
    /// malformed CSV; with `strict`, also a value that is not a number and a missing or
    /// undecodable cell image. Without it, one bad row does not sink the evaluation: such a
    /// value's row is left out (`skipped`), and such an image's cell is scored as read unreadable
    /// (it counts, flagged and wrong); `warn` hears of each.
    public static func evaluate(truthCSV: String, cellsFolder: String? = nil, reader: any CellImageReader,
                                layout: TableLayout = TableLayout(), strict: Bool = false,
                                warn: (String) -> Void = { _ in }) throws -> CellEvaluationReport {
        var truth = try CellTruth.readTruth(csv: truthCSV, imagesIn: cellsFolder, anyValue: !strict)
        var skipped: [String] = []
        truth.removeAll { cell in
            guard !cell.value.isEmpty, !CellTruth.isTruthValue(cell.value) else { return false }
            skipped.append("\(truthCSV) line \(cell.line): value '\(cell.value)' is not a number; not scored")
            return true
        }
        let loadStart = DispatchTime.now().uptimeNanoseconds
        var images: [GrayImage] = []
        var unloaded: [Int] = []
        images.reserveCapacity(truth.count)
        for (index, cell) in truth.enumerated() {
            let problem: DatasetError
            if !FileManager.default.fileExists(atPath: cell.imagePath) {
                problem = DatasetError(path: cell.imagePath, kind: .missingFile, problem: "no such cell image (listed in \(truthCSV))")
            } else {
                do {
                    images.append(try ArchivalCells.loadCellCrop(at: cell.imagePath))
                    continue
                } catch {
                    problem = DatasetError(path: cell.imagePath, kind: .badImage, problem: "cannot decode the cell image: \(error)")
                }
            }
            if strict { throw problem }
            warn("\(problem); scored as unreadable")
            unloaded.append(index)
            images.append(GrayImage(width: 1, height: 1, fill: 1))
        }
        for message in skipped { warn(message) }
        let readStart = DispatchTime.now().uptimeNanoseconds
        let positions = truth.map(tablePosition)
        // A column's decimals are learnt from its cells together: the column named in the file, or in the image's name.
        let columnNames = zip(truth, positions).map { cell, position in cell.extra["column"] ?? position?.column }
        var readings = reader.read(cells: images, columns: columnNames)
        for index in unloaded {
            readings[index] = CellReading(value: "", digits: [], separatorAfter: nil, separatorSeen: false, confidence: 0, flag: .unreadable)
        }
        var checks: CellEvaluationReport.CheckSummary? = nil
        if positions.contains(where: { $0 != nil }) && layout != .none {
            // As in the page pipeline: a cell that breaks a check with a digit fewer than its
            // column usually has is offered its ink with a piece split in two.
            let columns = columnNames.map { $0 ?? "" }
            let counts = readings.map(\.digits.count)
            let usual = CellReader.usualDigitCounts(columns: columns, digitCounts: counts)
            let short = TableChecks.shortCellsBreakingChecks(readings: readings, positions: positions, layout: layout,
                                                             reviewThreshold: reader.reviewThreshold, digitCounts: counts,
                                                             usualCounts: columns.map { usual[$0] })
            if !short.isEmpty {
                let opinions = reader.recutOpinions(cells: short.map { images[$0] }, columns: short.map { columnNames[$0] },
                                                    digitCounts: short.map { usual[columns[$0]]! })
                for (k, index) in short.enumerated() { readings[index].recutOpinions = opinions[k] }
            }
            let outcome = TableChecks.apply(readings: readings, positions: positions, layout: layout,
                                            reviewThreshold: reader.reviewThreshold)
            readings = outcome.readings
            checks = .init(constraints: outcome.constraints.count, relations: outcome.relations.map(\.description),
                           corrected: outcome.corrected, broken: outcome.broken, columnDecimals: outcome.columnDecimals)
        }
        readings = DecimalInference.doubtingUnsettled(readings, columns: columnNames)
        let readEnd = DispatchTime.now().uptimeNanoseconds
        var report = score(truth: truth, readings: readings, reviewThreshold: reader.reviewThreshold)
        report.checks = checks
        report.skipped = skipped
        report.truthCSV = truthCSV
        report.loadSeconds = Double(readStart - loadStart) / 1e9
        report.readSeconds = Double(readEnd - readStart) / 1e9
        return report
    }

    /// A truth row's place in its sheet, from the optional columns `sheet`, `column`, `row` (or
    /// the row number in a spreadsheet-style `cell` name such as D14) and `row_label`. What the
    /// file does not give is taken from the image's name when that is a sheet's name and a
    /// spreadsheet-style cell name joined by "_", as MeteoSaver names its crops
    /// (`203_196905_SF_D14.png`: sheet 203_196905_SF, column D, row 14). nil when the sheet,
    /// column or row is still unknown. Rows without labels get theirs from the numbers
    /// (`TableChecks.labellingTotalRows`).
    public static func tablePosition(_ cell: CellTruth) -> TablePosition? {
        func given(_ key: String) -> String? { cell.extra[key].flatMap { $0.isEmpty ? nil : $0 } }
        let named = cellName(fromImage: cell.imagePath)
        guard let sheet = given("sheet") ?? named?.sheet, let column = given("column") ?? named?.column else { return nil }
        let row = given("row").flatMap { Int($0) }
            ?? given("cell").flatMap { Int($0.drop(while: { !$0.isNumber })) }
            ?? named?.row
        guard let row else { return nil }
        return TablePosition(sheet: sheet, row: row, rowLabel: cell.extra["row_label"] ?? "", column: column)
    }

    /// `<sheet>_<column letters><row number>.<extension>` (1-3 letters, 1-4 digits), or nil.
    static func cellName(fromImage path: String) -> (sheet: String, column: String, row: Int)? {
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        guard let underscore = stem.lastIndex(of: "_") else { return nil }
        let sheet = String(stem[..<underscore]), name = stem[stem.index(after: underscore)...]
        let letters = name.prefix { $0.isASCII && $0.isLetter }, digits = name.dropFirst(letters.count)
        guard !sheet.isEmpty, (1...3).contains(letters.count), (1...4).contains(digits.count),
              digits.allSatisfy({ $0.isASCII && $0.isNumber }), let row = Int(digits) else { return nil }
        return (sheet, letters.uppercased(), row)
    }

    /// Scores readings against truth (same order and count).
    public static func score(truth: [CellTruth], readings: [CellReading], reviewThreshold: Float) -> CellEvaluationReport {
        precondition(truth.count == readings.count, "\(readings.count) readings for \(truth.count) cells")
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        var results: [CellResult] = []
        for (cell, reading) in zip(truth, readings) {
            let digits = digitScore(truth: cell.value, read: reading.digits.map(\.digit))
            for pair in digits.pairs ?? [] { confusion[pair.truth][pair.read] += 1 }
            // A blank truth cell is right when read empty (and wrong when the reader saw a number in it).
            let exact = cell.value.isEmpty ? reading.flag == .empty : sameNumber(reading.value, cell.value)
            results.append(CellResult(truth: cell, reading: reading, exact: exact,
                                      digitsCorrect: digits.correct, digitsTotal: digits.total, aligned: digits.pairs != nil))
        }
        var overall = CellScores()
        var stations: [String: CellScores] = [:]
        for result in results {
            overall.add(result, flag: result.reading.flag)
            stations[result.truth.station, default: CellScores()].add(result, flag: result.reading.flag)
        }
        let hasStations = truth.contains { !$0.station.isEmpty }
        let curve = curveThresholds.map { threshold -> ThresholdPoint in
            var scores = CellScores()
            for result in results { scores.add(result, flag: result.reading.flag(atThreshold: threshold)) }
            return ThresholdPoint(threshold: threshold, flaggedFraction: scores.flaggedFraction,
                                  unflaggedAccuracy: scores.unflaggedAccuracy, unflaggedCells: scores.unflagged,
                                  unflaggedExact: scores.unflaggedExact)
        }
        return CellEvaluationReport(truthCSV: "", reviewThreshold: reviewThreshold, results: results, overall: overall,
                                    perStation: hasStations ? stations.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } : [],
                                    confusion: confusion, curve: curve, loadSeconds: 0, readSeconds: 0)
    }

    // MARK: - Definitions

    /// A warning for a table read without a single point (at least `minimumCells` numbers): its
    /// values are whole numbers, and no check can tell 262 from 26.2, as they hold at any scale.
    /// nil when some point was read or placed.
    public static func wholeNumbersWarning(_ readings: [CellReading], minimumCells: Int = 10) -> String? {
        let numbers = readings.filter { !$0.digits.isEmpty && $0.flag != .unreadable }
        guard numbers.count >= minimumCells, !numbers.contains(where: { $0.value.contains(".") }) else { return nil }
        return "no decimal point was seen in any of the \(numbers.count) cells read, so they are whole numbers "
            + "(262, not 26.2); if the table has decimals, give --decimals N (or table.decimals in a pipeline file)"
    }

    /// A cell value as a number: digits with at most one "." or "," and an optional sign; nil
    /// for anything else (an empty reading included).
    public static func number(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard CellTruth.isTruthValue(trimmed) else { return nil }
        return Double(trimmed.replacingOccurrences(of: ",", with: "."))
    }

    /// Whether two values are the same number ("20" and "20.0" are; "28.7" and "28.1" are not);
    /// false when either is not a number.
    public static func sameNumber(_ a: String, _ b: String) -> Bool {
        guard let x = number(a), let y = number(b) else { return false }
        return abs(x - y) <= 1e-9 * max(1, abs(x), abs(y))
    }

    /// The digit score of one cell (see the type's documentation): right digits, the truth's digit
    /// count, and the aligned (truth, read) pairs, nil when no alignment was possible.
    public static func digitScore(truth value: String, read: [Int])
        -> (correct: Int, total: Int, pairs: [(truth: Int, read: Int)]?) {
        if value.isEmpty { return (0, 0, read.isEmpty ? [] : nil) }   // a blank cell has no digits to get right
        let options = ArchivalCells.readings(of: value)
        guard let match = options.first(where: { $0.digits.count == read.count }), !read.isEmpty else {
            return (0, options.first?.digits.count ?? 0, nil)
        }
        let pairs = zip(match.digits, read).map { (truth: $0, read: $1) }
        return (pairs.filter { $0.truth == $0.read }.count, match.digits.count, pairs)
    }

    // MARK: - Output

    /// The report as one JSON object (keys in snake_case; NaN as null).
    public static func json(_ report: CellEvaluationReport) -> String {
        typealias J = JSONFields
        var fields = J.scores(report.overall)
        fields += [
            ("truth", J.string(report.truthCSV)),
            ("skipped", "\(report.skipped.count)"),
            ("review_threshold", J.number(Double(report.reviewThreshold))),
            ("cells_per_second", J.number(report.cellsPerSecond)),
            ("read_seconds", J.number(report.readSeconds)),
            ("load_seconds", J.number(report.loadSeconds)),
            ("per_station", J.object(report.perStation.map { ($0.station, J.object(J.scores($0.scores))) })),
            ("curve", J.curve(report.curve)),
            ("digit_confusion", J.matrix(report.confusion)),
        ]
        if let adaptation = report.adaptation {
            fields.append(("adaptation", J.object([
                ("cells", "\(adaptation.cells)"), ("digits", "\(adaptation.digits)"), ("steps", "\(adaptation.settings.steps)"),
                ("learning_rate", J.number(Double(adaptation.settings.learningRate))), ("seed", "\(adaptation.settings.seed)"),
                ("seconds", J.number(adaptation.seconds)), ("first_reading", J.object(J.scores(adaptation.firstReading)))])))
        }
        if let notAdapted = report.notAdapted { fields.append(("not_adapted", J.string(notAdapted))) }
        if let checks = report.checks {
            fields.append(("table_checks", J.object([
                ("constraints", "\(checks.constraints)"), ("corrected", "\(checks.corrected)"), ("broken", "\(checks.broken)"),
                ("column_decimals", J.object(checks.columnDecimals.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") })),
                ("relations", "[" + checks.relations.map(J.string).joined(separator: ", ") + "]")])))
        }
        return J.object(fields)
    }

    /// One line per cell: image, station, column, truth, reading, confidence, flag, exact, the
    /// digits with their probabilities, the checks, the other reader's value where the readers
    /// disagree. For looking at the errors in a spreadsheet.
    public static func readingsCSV(_ report: CellEvaluationReport) -> String {
        var lines = ["image,station,column,truth,reading,confidence,flag,exact,separator_seen,digits,unchecked_reading,checks_held,checks_broken,checks_doubted,other_reading"]
        for result in report.results {
            let r = result.reading
            let digits = r.digits.map { d in
                "\(d.digit):" + String(format: "%.3f", d.probability) + "/"
                    + d.alternatives.dropFirst().map { "\($0.digit)" + String(format: "=%.3f", $0.probability) }.joined(separator: "/")
            }.joined(separator: " ")
            let fields = [result.truth.imagePath, result.truth.station, result.truth.extra["column"] ?? "", result.truth.value,
                          r.value, String(format: "%.4f", r.confidence), r.flag.rawValue, result.exact ? "1" : "0",
                          r.separatorSeen ? "1" : "0", digits, r.uncheckedValue ?? "", r.checksHeld.joined(separator: " "),
                          r.checksBroken.joined(separator: " "), r.checksDoubted.joined(separator: " "), r.otherReading ?? ""]
            lines.append(fields.map(csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func csvField(_ text: String) -> String {
        text.contains(",") || text.contains("\"") ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    /// A contact sheet of the wrongly read cells (at most `limit`): each cell with its digit boxes
    /// (blue), the truth (black) and the reading under it, the reading red when it was not flagged
    /// (a confident error), orange when flagged, grey when empty, with its confidence. Confident
    /// errors come first. Returns how many cells it shows (0: no file written).
    @discardableResult
    public static func writeContactSheet(_ report: CellEvaluationReport, to path: String, limit: Int = 200) throws -> Int {
        let wrong = report.results.filter { !$0.exact }
        let ordered = wrong.filter { $0.reading.flag == .ok } + wrong.filter { $0.reading.flag != .ok }
        let shown = Array(ordered.prefix(limit))
        guard !shown.isEmpty else { return 0 }
        let maxCellWidth = 168, maxCellHeight = 84, textScale = 2
        let lineHeight = BitmapFont.lineHeight * textScale
        let tileWidth = maxCellWidth + 12, tileHeight = maxCellHeight + 2 * lineHeight + 14
        let columns = min(8, shown.count), rows = (shown.count + columns - 1) / columns
        let header = 3 * BitmapFont.lineHeight * textScale
        var sheet = RGBImage(width: columns * tileWidth, height: header + rows * tileHeight, color: .white)
        sheet.drawText("wrong cells: \(wrong.count) of \(report.results.count)" + (wrong.count > shown.count ? ", first \(shown.count)" : ""),
                       x: 6, y: 4, scale: textScale)
        sheet.drawText("truth", x: 6, y: 4 + lineHeight, scale: textScale)
        var x = 6 + BitmapFont.textSize("truth ", scale: textScale).width
        x += sheet.drawText("read, not flagged ", x: x, y: 4 + lineHeight, scale: textScale, color: .red)
        x += BitmapFont.advance * textScale
        x += sheet.drawText("flagged ", x: x, y: 4 + lineHeight, scale: textScale, color: .orange)
        x += BitmapFont.advance * textScale
        sheet.drawText("empty", x: x, y: 4 + lineHeight, scale: textScale, color: .gray)
        for (index, result) in shown.enumerated() {
            let left = (index % columns) * tileWidth + 6, top = header + (index / columns) * tileHeight + 4
            var cell = (try? loadGrayImage(at: result.truth.imagePath)) ?? GrayImage(width: 1, height: 1, fill: 1)
            let scale = min(1, min(Double(maxCellWidth) / Double(cell.width), Double(maxCellHeight) / Double(cell.height)))
            if scale < 1 {
                cell = cell.resized(width: max(1, Int(Double(cell.width) * scale)), height: max(1, Int(Double(cell.height) * scale)))
            }
            var tile = RGBImage(gray: cell)
            for digit in result.reading.digits {
                let b = digit.box
                tile.drawRectangle(x: Int(Double(b.minX) * scale), y: Int(Double(b.minY) * scale),
                                   width: max(1, Int(Double(b.width) * scale)), height: max(1, Int(Double(b.height) * scale)),
                                   color: .blue)
            }
            for y in 0..<tile.height {
                for x in 0..<tile.width { sheet[left + x, top + y] = tile[x, y] }
            }
            let textTop = top + maxCellHeight + 2
            sheet.drawText(result.truth.value, x: left, y: textTop, scale: textScale)
            let reading = result.reading
            let color: RGBColor = reading.flag == .ok ? .red : reading.flag == .empty ? .gray : .orange
            let shownValue = reading.flag == .empty ? "empty" : reading.value.isEmpty ? "?" : reading.value
            let confidence = reading.flag == .empty ? "" : String(format: " %.0f%%", Double(reading.confidence) * 100)
            sheet.drawText(shownValue + confidence, x: left, y: textTop + lineHeight, scale: textScale, color: color)
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try writePNG(sheet, to: path)
        return shown.count
    }
}

/// The pieces of the JSON reports (`CellEvaluation.json`, `CellEvaluation.json(pooled:)`).
enum JSONFields {
    static func number(_ value: Double) -> String {
        value.isFinite ? String(format: "%.6g", value) : "null"
    }

    static func string(_ text: String) -> String {
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default:
                if scalar.value < 0x20 { escaped += String(format: "\\u%04x", scalar.value) }
                else { escaped.unicodeScalars.append(scalar) }
            }
        }
        return escaped + "\""
    }

    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { string($0.0) + ": " + $0.1 }.joined(separator: ", ") + "}"
    }

    static func scores(_ s: CellScores) -> [(String, String)] {
        [("cells", "\(s.cells)"), ("exact_value_accuracy", number(s.exactValueAccuracy)),
         ("digit_accuracy", number(s.digitAccuracy)), ("flagged_fraction", number(s.flaggedFraction)),
         ("unflagged_accuracy", number(s.unflaggedAccuracy)), ("exact", "\(s.exact)"),
         ("digits_correct", "\(s.digitsCorrect)"), ("digits_total", "\(s.digitsTotal)"),
         ("flags", object([("ok", "\(s.ok)"), ("review", "\(s.review)"), ("empty", "\(s.empty)"),
                           ("unreadable", "\(s.unreadable)")])),
         ("unflagged_exact", "\(s.unflaggedExact)")]
    }

    static func curve(_ points: [ThresholdPoint]) -> String {
        "[" + points.map { point in
            object([("threshold", number(Double(point.threshold))), ("flagged_fraction", number(point.flaggedFraction)),
                    ("unflagged_accuracy", number(point.unflaggedAccuracy)), ("unflagged_cells", "\(point.unflaggedCells)"),
                    ("unflagged_exact", "\(point.unflaggedExact)")])
        }.joined(separator: ", ") + "]"
    }

    static func matrix(_ rows: [[Int]]) -> String {
        "[" + rows.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
    }
}
