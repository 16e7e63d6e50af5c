import Foundation
import Recognition
import Yams

// A pipeline file (`pipelines/*.yaml`): stage parameters and table-layout hints. Every key is
// optional; what a file leaves out keeps the default (`PipelineConfig()`, which is what
// `pipelines/default.yaml` spells out). Unknown keys are errors, so a typo does not silently
// run with the default. `--set section.key=value` overrides one value the same way.

/// A value that is either worked out from the page ("auto") or given.
public enum Auto<Value: Codable & Equatable & Sendable>: Codable, Equatable, Sendable {
    case auto
    case value(Value)

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self), text == "auto" {
            self = .auto
        } else {
            self = .value(try container.decode(Value.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .auto: try container.encode("auto")
        case .value(let value): try container.encode(value)
        }
    }

    public var given: Value? {
        if case .value(let value) = self { return value }
        return nil
    }
}

/// Digits after the decimal point when a cell shows no separator.
public enum DecimalsHint: Codable, Equatable, Sendable {
    /// Per column and page: the count most cells with a visible separator have.
    case auto
    /// No point unless one is seen.
    case none
    /// The same count for every numeric column.
    case fixed(Int)

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let count = try? container.decode(Int.self) {
            guard count >= 0 && count <= 6 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "decimals must be 0...6, auto or none, not \(count)")
            }
            self = .fixed(count)
            return
        }
        switch try container.decode(String.self) {
        case "auto": self = .auto
        case "none": self = .none
        case let other:
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "decimals must be auto, none or a count, not '\(other)'")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .auto: try container.encode("auto")
        case .none: try container.encode("none")
        case .fixed(let count): try container.encode(count)
        }
    }
}

public struct IngestParameters: Codable, Equatable, Sendable {
    /// Pages with more pixels are refused before decoding (decompression bombs).
    public var maxPixels = 120_000_000
    /// File name extensions picked up when a folder is given (lower case, no dot).
    public var extensions = ["png", "jpg", "jpeg", "tif", "tiff"]

    enum CodingKeys: String, CodingKey {
        case maxPixels = "max_pixels", extensions
    }
}

public enum BinarizeMethod: String, Codable, Equatable, Sendable {
    case sauvola, otsu
}

public struct BinarizeParameters: Codable, Equatable, Sendable {
    /// Measure the skew (within +-max_skew degrees) and turn the page straight.
    public var deskew = true
    public var maxSkew = 10.0
    /// Skews smaller than this (degrees) are left alone: turning costs time and blurs a little.
    public var minSkew = 0.05
    /// Divide by the estimated paper background first (shadows, folds, uneven light).
    public var flatten = true
    /// Background radius in pixels; 0: the page's long side / 70.
    public var flattenRadius = 0
    public var method = BinarizeMethod.sauvola
    /// Sauvola window in pixels; 0: the page's long side / 50.
    public var window = 0
    /// Sauvola's k: larger keeps less faint ink.
    public var k = 0.12
    /// Digits are cut from fainter ink than the rules are found on: the page's ink plus the pixels
    /// that Sauvola with this smaller k takes for ink where they touch it (`GrayImage.grown(within:)`:
    /// pencil strokes that fade along their length); 0: off, digits cut from the page's ink.
    public var faintK = 0.0

    enum CodingKeys: String, CodingKey {
        case deskew, maxSkew = "max_skew", minSkew = "min_skew", flatten, flattenRadius = "flatten_radius"
        case method, window, k, faintK = "faint_k"
    }

    func flattenRadius(width: Int, height: Int) -> Int {
        flattenRadius > 0 ? flattenRadius : max(8, max(width, height) / 70)
    }

    func window(width: Int, height: Int) -> Int {
        (window > 0 ? window : max(15, max(width, height) / 50)) | 1
    }
}

public struct SegmentParameters: Codable, Equatable, Sendable {
    /// A rule must span this fraction of the longest rule of its direction
    /// (`TableGridOptions.minimumRuleLengthFraction`).
    public var minRuleLength = 0.35
    /// ... and be inked over this fraction of its span.
    public var minRuleCoverage = 0.35
    /// Pixels dropped inside the rule centre lines when a cell is cut out.
    public var cellInset = 3
    /// White added left and right of a cell image before it is cut, as a share of its width: the
    /// cutter erases a line across most of the cell as an underline, and without the margin
    /// the flat feet of digits that fill the cell (2, 7's bar, 5's flag) would go with it.
    public var cellPadding = 0.25
    /// A cell cut into more digits is unreadable (`CellReaderSettings.maxDigits`).
    public var maxDigits = 5
    /// With `table.header_rows: auto`, at most this many top rows are taken for headers.
    public var maxHeaderRows = 4
    /// With `table.numeric_columns: auto`, a column is numeric when at least this share of its
    /// body cells holds digit-like ink.
    public var minNumericShare = 0.25
    /// With `table.numeric_columns: auto`, columns of printed numbers (row labels: the same
    /// height and alignment in every row) are not read.
    public var skipPrinted = true

    enum CodingKeys: String, CodingKey {
        case minRuleLength = "min_rule_length", minRuleCoverage = "min_rule_coverage", cellInset = "cell_inset"
        case cellPadding = "cell_padding"
        case maxDigits = "max_digits", maxHeaderRows = "max_header_rows", minNumericShare = "min_numeric_share"
        case skipPrinted = "skip_printed"
    }
}

/// What the user knows about the table: everything is optional.
public struct TableHints: Codable, Equatable, Sendable {
    /// Rows at the top that hold the printed header.
    public var headerRows: Auto<Int> = .auto
    /// Columns (0-based, left to right) holding handwritten numbers.
    public var numericColumns: Auto<[Int]> = .auto
    public var decimals = DecimalsHint.auto
    /// Names and decimals of single columns.
    public var columns: [ColumnHint] = []
    /// Columns of dates (day, month, year or hour numbers, printed or written): read as whole
    /// numbers and reported, though the layout would skip a printed day column as row labels, and
    /// kept out of the arithmetic checks. `sef.date_columns` takes the dates from them.
    public var dateColumns: [Int] = []

    enum CodingKeys: String, CodingKey {
        case headerRows = "header_rows", numericColumns = "numeric_columns", decimals, columns
        case dateColumns = "date_columns"
    }

    public func hint(column: Int) -> ColumnHint? { columns.first { $0.column == column } }

    /// The name a column gets in the transcription: the hint's, else empty.
    public func name(column: Int) -> String { hint(column: column)?.name ?? "" }
}

public struct ColumnHint: Codable, Equatable, Sendable {
    public var column: Int
    public var name: String?
    public var decimals: Int?

    public init(column: Int, name: String? = nil, decimals: Int? = nil) {
        self.column = column
        self.name = name
        self.decimals = decimals
    }
}

public struct ClassifyParameters: Codable, Equatable, Sendable {
    /// Digits per network batch (digits of several pages share a batch).
    public var batchSize = 256
    /// A cell with a digit below this probability is flagged `review`.
    public var reviewThreshold = 0.9

    enum CodingKeys: String, CodingKey {
        case batchSize = "batch_size", reviewThreshold = "review_threshold"
    }
}

public struct CheckParameters: Codable, Equatable, Sendable {
    /// Check each page's readings against its arithmetic (Recognition's `TableChecks`): column
    /// relations (C = (A + B) / 2, C = A + B) learnt from the readings or declared, cells breaking
    /// them flagged, cells they verify kept.
    public var enabled = true
    /// Learn relations between columns from the page's readings.
    public var learnRelations = true
    /// Take a cell's next most probable reading when that satisfies the checks.
    public var correct = true
    /// Declared relations: {kind: midrange|sum|at-least, columns: [A, B, C]} (column numbers).
    public var relations: [DeclaredRelation] = []
    /// Check `table.date_columns` against the rows (Recognition's `TableChecks.checkDates`): a day
    /// column's numbers follow day = row + k, a month or year column's stay one value; cells that
    /// agree are verified, cells that do not are flagged (corrected when an alternative agrees).
    /// Like every check, only with `enabled`.
    public var dates = true
    /// Flag (and, with `correct`, re-read) a cell far outside the range of its column's readings
    /// (Recognition's `TableChecks.rangeConstraints`): 101.8 among pressures near 1012.
    public var ranges = true
    /// A cell that only checks holding to rounding verify (a row's midrange, a mean) keeps its last
    /// digit's doubt: where its column's total did not pin it, it is flagged when that digit is less
    /// sure than this; on a page without totals, less sure than `classify.review_threshold`
    /// (Recognition's `TableLayout.roundingDoubtThreshold`). 0: such checks verify every digit.
    public var roundingDoubt = 0.96

    public init() {}

    public struct DeclaredRelation: Codable, Equatable, Sendable {
        public var kind: String
        public var columns: [Int]
    }

    enum CodingKeys: String, CodingKey {
        case enabled, learnRelations = "learn_relations", correct, relations, dates, ranges
        case roundingDoubt = "rounding_doubt"
    }
}

/// How `logbook export --format sef` maps the table to Station Exchange Format files; command-line
/// options override these.
public struct SEFParameters: Codable, Equatable, Sendable {
    public var station = ""
    public var name = ""
    public var latitude = "NA"
    public var longitude = "NA"
    public var altitude = "NA"
    public var source = ""
    /// `COLUMN=CODE:UNITS` (column number or name), e.g. `3=ta:C`.
    public var variables: [String] = []
    /// Year and month of the first page, YYYY-MM (pages are months, in run order).
    public var start = ""
    /// Day of month = row + this.
    public var dayOffset = 1
    /// Observation hour, when the columns have one ("NA": none).
    public var hour = "NA"
    /// Columns the date is read from; a part with none comes from `start`, `day_offset`, `hour`.
    public var dateColumns = SEFDateColumns()

    public init() {}

    enum CodingKeys: String, CodingKey {
        case station, name, latitude, longitude, altitude, source, variables, start, dayOffset = "day_offset", hour
        case dateColumns = "date_columns"
    }
}

/// Which column (number or name, as in `variables`) holds each part of the observations' dates;
/// "" for a part no column gives. Every key is spelt out (empty) in the defaults, so that a file
/// giving only `{day: 0}` is checked key by key like the other sections.
public struct SEFDateColumns: Codable, Equatable, Sendable {
    public var year = ""
    public var month = ""
    public var day = ""
    public var hour = ""

    public init(year: String = "", month: String = "", day: String = "", hour: String = "") {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
    }

    /// The parts a column gives, with that column.
    public var given: [SEFDatePart: String] {
        var parts: [SEFDatePart: String] = [:]
        for (part, column) in [(SEFDatePart.year, year), (.month, month), (.day, day), (.hour, hour)] where !column.isEmpty {
            parts[part] = column
        }
        return parts
    }
}

public struct ExportParameters: Codable, Equatable, Sendable {
    /// Write `review/` (PNGs of doubtful digits and their cells, and review.csv).
    public var review = true
    /// Alternatives per digit in the transcription.
    public var alternatives = 2

    enum CodingKeys: String, CodingKey {
        case review, alternatives
    }
}

public struct PipelineConfig: Codable, Equatable, Sendable {
    /// How cells are read: `segment` (cut into digits, one classification per digit),
    /// `sequence` (whole cell, CRNN+CTC, `cell_model`) or `both` (sequence first, segment second,
    /// disagreements flagged for review).
    public var reader = "both"
    /// The whole-cell model for `sequence` and `both`, relative to the working folder.
    public var cellModel = "models/logbook-cells.safetensors"
    public var ingest = IngestParameters()
    public var binarize = BinarizeParameters()
    public var segment = SegmentParameters()
    public var table = TableHints()
    public var classify = ClassifyParameters()
    public var checks = CheckParameters()
    public var export = ExportParameters()
    public var sef = SEFParameters()

    public init() {}

    enum CodingKeys: String, CodingKey {
        case reader, cellModel = "cell_model", ingest, binarize, segment, table, classify, checks, export, sef
    }

    public static let readers = ["segment", "sequence", "both"]

    /// Reasons the values cannot work, or nil.
    public func problem() -> String? {
        if !PipelineConfig.readers.contains(reader) {
            return "reader '\(reader)' is not known (known: \(PipelineConfig.readers.joined(separator: ", ")))"
        }
        if ingest.maxPixels < 1 { return "ingest.max_pixels must be positive" }
        if ingest.extensions.isEmpty { return "ingest.extensions is empty" }
        if !(0...45).contains(binarize.maxSkew) { return "binarize.max_skew must be 0...45" }
        if binarize.flattenRadius < 0 || binarize.window < 0 { return "binarize.flatten_radius and window must be 0 (auto) or positive" }
        if !(binarize.k > 0 && binarize.k < 1) { return "binarize.k must be in (0, 1)" }
        if !(binarize.faintK >= 0 && binarize.faintK < binarize.k) { return "binarize.faint_k must be 0 (off) or between 0 and binarize.k" }
        if !(0.05...1).contains(segment.minRuleLength) { return "segment.min_rule_length must be 0.05...1" }
        if !(0.05...1).contains(segment.minRuleCoverage) { return "segment.min_rule_coverage must be 0.05...1" }
        if !(0...20).contains(segment.cellInset) { return "segment.cell_inset must be 0...20" }
        if !(0...2).contains(segment.cellPadding) { return "segment.cell_padding must be 0...2" }
        if !(1...20).contains(segment.maxDigits) { return "segment.max_digits must be 1...20" }
        if !(0...20).contains(segment.maxHeaderRows) { return "segment.max_header_rows must be 0...20" }
        if !(0...1).contains(segment.minNumericShare) { return "segment.min_numeric_share must be 0...1" }
        if let rows = table.headerRows.given, rows < 0 { return "table.header_rows must be auto or 0 or more" }
        if let columns = table.numericColumns.given, columns.contains(where: { $0 < 0 }) { return "table.numeric_columns must be auto or column numbers from 0" }
        for hint in table.columns where hint.column < 0 || (hint.decimals.map { $0 < 0 || $0 > 6 } ?? false) {
            return "table.columns: column \(hint.column): column must be 0 or more and decimals 0...6"
        }
        if table.dateColumns.contains(where: { $0 < 0 }) { return "table.date_columns must be column numbers from 0" }
        for hint in table.columns where table.dateColumns.contains(hint.column) && (hint.decimals ?? 0) != 0 {
            return "table.columns: column \(hint.column) is in table.date_columns: dates are whole numbers, decimals must be 0"
        }
        if sef.hour != "NA" && !(Int(sef.hour).map { (0...23).contains($0) } ?? false) {
            return "sef.hour must be NA or an hour 0...23, not '\(sef.hour)'"
        }
        if let problem = SEFOptions.dateColumnsProblem(sef.dateColumns.given) { return "sef.date_columns: \(problem)" }
        if !(1...4096).contains(classify.batchSize) { return "classify.batch_size must be 1...4096" }
        if !(0...1).contains(classify.reviewThreshold) { return "classify.review_threshold must be 0...1" }
        if !(0...1).contains(checks.roundingDoubt) { return "checks.rounding_doubt must be 0...1" }
        if !(0...9).contains(export.alternatives) { return "export.alternatives must be 0...9" }
        for relation in checks.relations {
            guard let kind = Recognition.TableLayout.RelationKind(rawValue: relation.kind) else {
                return "checks.relations: kind '\(relation.kind)' is not midrange, sum or at-least"
            }
            let needed = kind == .atLeast ? 2 : 3
            if relation.columns.count != needed || relation.columns.contains(where: { $0 < 0 }) {
                return "checks.relations: \(relation.kind) takes \(needed) column numbers"
            }
        }
        return nil
    }

    // MARK: Loading

    /// The configuration in `yaml` (from `path`, for messages) over the defaults, then the
    /// `overrides` (`section.key=value`) in order.
    public static func load(yaml: String, path: String, overrides: [String] = []) throws -> PipelineConfig {
        var tree = try defaultTree()
        do {
            if let node = try Yams.compose(yaml: yaml) {
                guard node.mapping != nil else { throw PipelineError(path: path, problem: "a pipeline file must be a mapping of sections") }
                tree = try merge(tree, node, at: "", path: path)
            }
        } catch let error as PipelineError {
            throw error
        } catch {
            throw PipelineError(path: path, problem: "not valid YAML: \(error)")
        }
        for override in overrides { tree = try apply(override: override, to: tree, path: path) }
        let config: PipelineConfig
        do {
            config = try YAMLDecoder().decode(PipelineConfig.self, from: tree)
        } catch let error as DecodingError {
            throw PipelineError(path: path, problem: describe(error))
        }
        if let problem = config.problem() { throw PipelineError(path: path, problem: problem) }
        return config
    }

    public static func load(path: String, overrides: [String] = []) throws -> PipelineConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw PipelineError(path: path, problem: "cannot be read: \((error as NSError).localizedDescription)")
        }
        return try load(yaml: text, path: path, overrides: overrides)
    }

    /// The configuration as YAML (every key, defaults included).
    public func yaml() -> String {
        // Encoding plain Codable structs cannot fail. Yams writes every number with a fraction in
        // scientific notation (0.9 as 9e-1); those are rewritten plainly for people to read.
        guard let text = try? YAMLEncoder().encode(self), let node = try? Yams.compose(yaml: text),
              let plain = try? Yams.serialize(node: PipelineConfig.plainNumbers(node)) else { return "" }
        return plain
    }

    static func plainNumbers(_ node: Node) -> Node {
        switch node {
        case .mapping(let mapping):
            return Node(mapping.map { ($0.key, plainNumbers($0.value)) })
        case .sequence(let sequence):
            return Node(sequence.map(plainNumbers))
        case .scalar(let scalar):
            guard scalar.string.lowercased().contains("e"), let value = node.float, value.isFinite, node.int == nil else { return node }
            return Node("\(value)", Tag(.float))
        default:
            return node
        }
    }

    static func defaultTree() throws -> Node {
        guard let node = try Yams.compose(yaml: PipelineConfig().yaml()) else {
            throw PipelineError(path: "", problem: "internal: default pipeline does not encode")
        }
        return node
    }

    /// `override` laid over `base`: mappings key by key (a key `base` lacks is an error, since
    /// `base` holds every known key), anything else replaced whole.
    static func merge(_ base: Node, _ override: Node, at prefix: String, path: String) throws -> Node {
        guard let baseMapping = base.mapping, let overrideMapping = override.mapping else { return override }
        var pairs = baseMapping.map { ($0.key, $0.value) }
        for (key, value) in overrideMapping {
            guard let name = key.string else { throw PipelineError(path: path, problem: "\(prefix)keys must be names") }
            guard let index = pairs.firstIndex(where: { $0.0.string == name }) else {
                let known = pairs.compactMap { $0.0.string }.joined(separator: ", ")
                throw PipelineError(path: path, problem: "unknown key '\(prefix)\(name)' (known here: \(known))")
            }
            if value.mapping == nil && pairs[index].1.mapping != nil {
                throw PipelineError(path: path, problem: "'\(prefix)\(name)' is a section, give its keys")
            }
            pairs[index].1 = try merge(pairs[index].1, value, at: prefix + name + ".", path: path)
        }
        return Node(pairs)
    }

    /// `section.key=value`, the value read as YAML (`0.8`, `auto`, `[1, 2]`).
    static func apply(override: String, to tree: Node, path: String) throws -> Node {
        guard let equals = override.firstIndex(of: "=") else {
            throw PipelineError(path: path, problem: "--set '\(override)': expected section.key=value")
        }
        let keys = override[..<equals].split(separator: ".").map(String.init)
        let text = String(override[override.index(after: equals)...])
        guard !keys.isEmpty, keys.allSatisfy({ !$0.isEmpty }) else {
            throw PipelineError(path: path, problem: "--set '\(override)': expected section.key=value")
        }
        let value: Node
        do {
            value = try Yams.compose(yaml: text) ?? Node("")
        } catch {
            throw PipelineError(path: path, problem: "--set '\(override)': the value is not valid YAML")
        }
        var node = value
        for key in keys.reversed() { node = Node([(Node(key), node)]) }
        do {
            return try merge(tree, node, at: "", path: path)
        } catch let error as PipelineError {
            throw PipelineError(path: path, problem: "--set '\(override)': \(error.problem)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func where_(_ path: [CodingKey]) -> String { path.map(\.stringValue).joined(separator: ".") }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(where_(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(where_(context.codingPath + [key])): missing"
        @unknown default:
            return "\(error)"
        }
    }

    // MARK: Provenance

    /// A section's values flattened to `key: value` text (sorted keys), for the manifest and for
    /// the fingerprints that decide whether a stage must run again.
    static func flattened<T: Encodable>(_ value: T, prefix: String) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value),
              let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return [:] }
        var result: [String: String] = [:]
        func walk(_ item: Any, _ key: String) {
            if let dictionary = item as? [String: Any] {
                for (name, child) in dictionary { walk(child, key.isEmpty ? name : key + "." + name) }
            } else if let array = item as? [Any], !array.isEmpty, array.contains(where: { $0 is [String: Any] }) {
                for (index, child) in array.enumerated() { walk(child, key + "[\(index)]") }
            } else if let array = item as? [Any] {
                result[key] = "[" + array.map { "\($0)" }.joined(separator: ", ") + "]"
            } else {
                result[key] = "\(item)"
            }
        }
        walk(object, prefix)
        return result
    }
}
