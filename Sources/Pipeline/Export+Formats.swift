import Foundation

// `logbook export`: the run's transcription in other shapes. JSON carries full provenance per
// value (scan and its sha256, page, cell box, model and pipeline sha256, confidence, the
// correction if a person made one); SEF (Station Exchange Format 1.0.0, the C3S data-rescue
// format) gives one tab-separated file per variable, with the station's metadata in the header,
// for the columns mapped to variables.

public struct ProvenancedValue: Codable, Equatable, Sendable {
    public struct Correction: Codable, Equatable, Sendable {
        public var machineValue: String
        public var flag: String
        public var reviewer: String
        public var imported: String
        public var file: String
        public var fileSHA256: String

        enum CodingKeys: String, CodingKey {
            case machineValue = "machine_value", flag, reviewer, imported, file, fileSHA256 = "file_sha256"
        }
    }

    public var page: String
    public var source: String
    public var sourceSHA256: String
    public var pageIndex: Int
    public var row: Int
    public var column: Int
    public var columnName: String
    public var value: String
    public var flag: String
    public var confidence: Double?
    public var digitConfidences: [Double]
    /// x, y, width, height on the scan.
    public var box: [Int]
    public var correction: Correction?

    enum CodingKeys: String, CodingKey {
        case page, source, sourceSHA256 = "source_sha256", pageIndex = "page_index", row, column
        case columnName = "column_name", value, flag, confidence, digitConfidences = "digit_confidences", box, correction
    }
}

public struct ProvenancedExport: Codable, Equatable, Sendable {
    public var runID: String
    public var software: String
    public var exported: String
    public var transcriptionSHA256: String
    public var pipeline: PipelineRecord
    public var model: ModelRecord
    public var values: [ProvenancedValue]

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", software, exported, transcriptionSHA256 = "transcription_sha256", pipeline, model, values
    }
}

/// What SEF needs and a run does not know: the station, when each page was written, and which
/// columns hold which variable.
public struct SEFOptions: Sendable {
    public struct Variable: Sendable, Equatable {
        /// A column name (from the table hints) or number.
        public var column: String
        /// SEF variable code (ta, p, rh, w, ...) and units (C, hPa, %, ...).
        public var code: String
        public var units: String
    }

    public var id: String
    public var name = ""
    public var latitude = "NA"
    public var longitude = "NA"
    public var altitude = "NA"
    public var source = ""
    public var link = ""
    public var variables: [Variable] = []
    /// Year and month of each page, by page id; pages not listed follow `start` one month per
    /// page in run order.
    public var pageMonths: [String: (year: Int, month: Int)] = [:]
    public var start: (year: Int, month: Int)?
    /// Day of the month = row + `dayOffset`, where no day column gives it. Rows are the table's
    /// (as in the transcription): header rows count, so on a form with one header row the first
    /// day is row 1 and `dayOffset` 0.
    public var dayOffset = 1
    /// "NA" or 0-23, where no hour column gives it.
    public var hour = "NA"
    /// The column (name or number) each date part is read from; parts not listed fall back to
    /// `pageMonths`/`start`, `dayOffset` and `hour`.
    public var dateColumns: [SEFDatePart: String] = [:]

    public init(id: String) { self.id = id }

    /// The options a pipeline file's `sef:` section gives (`path` names it in errors).
    public init(parameters sef: SEFParameters, path: String) throws {
        id = sef.station
        name = sef.name
        latitude = sef.latitude
        longitude = sef.longitude
        altitude = sef.altitude
        source = sef.source
        dayOffset = sef.dayOffset
        hour = sef.hour
        dateColumns = sef.dateColumns.given
        do {
            variables = try sef.variables.map(SEFOptions.variable)
            start = sef.start.isEmpty ? nil : try SEFOptions.month(sef.start)
            _ = try fixedHour()
        } catch let error as PipelineError {
            throw PipelineError(path: path, problem: error.problem)
        }
        if let problem = SEFOptions.dateColumnsProblem(dateColumns) {
            throw PipelineError(path: path, problem: "date columns: \(problem)")
        }
    }

    /// "COLUMN=CODE:UNITS", e.g. "temperature=ta:C".
    public static func variable(_ text: String) throws -> Variable {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        let right = parts.count == 2 ? parts[1].split(separator: ":", maxSplits: 1).map(String.init) : []
        guard parts.count == 2, right.count == 2, !parts[0].isEmpty, !right[0].isEmpty else {
            throw PipelineError(path: "", problem: "variable '\(text)': expected COLUMN=CODE:UNITS, e.g. temperature=ta:C")
        }
        return Variable(column: parts[0], code: right[0], units: right[1])
    }

    /// "YYYY-MM".
    public static func month(_ text: String) throws -> (year: Int, month: Int) {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2, (1...12).contains(parts[1]) else {
            throw PipelineError(path: "", problem: "month '\(text)': expected YYYY-MM")
        }
        return (parts[0], parts[1])
    }
}

public enum RunExport {
    public static func provenance(runFolder: String) throws -> ProvenancedExport {
        let (identity, manifest) = try ReviewIdentity.of(runFolder: runFolder)
        let transcription = try TranscriptionTable.load(runFolder: runFolder)
        let corrections = try CorrectionsLog.load(runFolder: runFolder)?.latest ?? [:]
        let values = transcription.table.rows.indices.map { row -> ProvenancedValue in
            func field(_ name: String) -> String { transcription.field(name, row: row) }
            let key = CellKey(page: field("page"), row: Int(field("row")) ?? -1, column: Int(field("column")) ?? -1)
            let page = manifest.page(id: key.page)
            var correction: ProvenancedValue.Correction?
            if let (change, batch) = corrections[key].map({ ($0.change, $0.batch) }), field("flag") == change.flag, field("value") == change.value {
                correction = .init(machineValue: change.machine, flag: change.flag, reviewer: batch.reviewer,
                                   imported: batch.imported, file: batch.file, fileSHA256: batch.fileSHA256)
            }
            return ProvenancedValue(
                page: key.page, source: page?.source ?? field("source"), sourceSHA256: page?.sha256 ?? "",
                pageIndex: page?.pageIndex ?? Int(field("page_index")) ?? 0, row: key.row, column: key.column,
                columnName: field("column_name"), value: field("value"), flag: field("flag"),
                confidence: Double(field("confidence")),
                digitConfidences: field("digit_confidences").split(separator: " ").compactMap { Double($0) },
                box: ["cell_x", "cell_y", "cell_width", "cell_height"].map { Int(field($0)) ?? 0 }, correction: correction)
        }
        return ProvenancedExport(runID: identity.runID, software: manifest.software, exported: Clock.now(),
                                 transcriptionSHA256: identity.transcription, pipeline: manifest.pipeline,
                                 model: manifest.model, values: values)
    }

    public static func json(runFolder: String) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(try provenance(runFolder: runFolder))
    }

    /// One SEF file per variable (file name -> text), and the rows left out because their date is
    /// not a date (`Export+SEFDates.swift`). Empty, unreadable and not-a-number cells are left
    /// out; corrected and confirmed ones say so in the observation's Meta, and so does a date read
    /// with doubt (`date_flag=review`).
    public static func sef(runFolder: String, options: SEFOptions) throws -> SEFExport {
        guard !options.variables.isEmpty else {
            throw PipelineError(path: runFolder, problem: "SEF needs at least one --variable COLUMN=CODE:UNITS")
        }
        if let problem = SEFOptions.dateColumnsProblem(options.dateColumns) {
            throw PipelineError(path: runFolder, problem: "SEF date columns: \(problem)")
        }
        let export = try provenance(runFolder: runFolder)
        // Pages in run order, each once. (NSOrderedSet does not merge equal Swift strings on
        // Linux: every value counted as a page, and page 2 was dated months or years late.)
        var pageOrder: [String] = [], seenPages = Set<String>()
        for value in export.values where seenPages.insert(value.page).inserted { pageOrder.append(value.page) }
        func month(of page: String) throws -> (year: Int, month: Int) {
            if let given = options.pageMonths[page] { return given }
            guard let start = options.start, let index = pageOrder.firstIndex(of: page) else {
                throw PipelineError(path: runFolder, problem: "no month for page \(page): give --start YYYY-MM or --page-month \(page)=YYYY-MM"
                                    + (options.dateColumns.isEmpty ? "" : ", or year and month columns"))
            }
            let months = start.year * 12 + start.month - 1 + index
            return (months / 12, months % 12 + 1)
        }
        // Each row's date, worked out once; rows with no value to write are never asked, so only
        // rows that lose observations are reported.
        let dateParts = options.dateColumns.sorted { $0.key < $1.key }
        for (part, column) in dateParts where !export.values.contains(where: { SEFOptions.isIn($0, column: column) }) {
            throw PipelineError(path: runFolder, problem: "the \(part.rawValue) column '\(column)' has no cells in the transcription: "
                                + "list its number in the pipeline file's table.date_columns (name it in table.columns) and run again")
        }
        // By name and by number, two parts can name one column ("Day" and "0"): the day is not the month.
        let dateColumnNumbers = dateParts.map { part, column in
            (part, Set(export.values.filter { SEFOptions.isIn($0, column: column) }.map(\.column)))
        }
        for (index, (part, numbers)) in dateColumnNumbers.enumerated() {
            if let (other, _) = dateColumnNumbers[..<index].first(where: { !$0.1.isDisjoint(with: numbers) }) {
                throw PipelineError(path: runFolder, problem: "SEF date columns: \(other.rawValue) and \(part.rawValue) "
                                    + "are both read from column \(numbers.sorted().map(String.init).joined(separator: ", "))")
            }
        }
        let dateCells = options.dateCells(export.values)
        var dates: [SEFRowKey: Result<SEFDate, SEFSkippedRow>] = [:]
        func date(of value: ProvenancedValue) throws -> Result<SEFDate, SEFSkippedRow> {
            let key = SEFRowKey(page: value.page, row: value.row)
            if let known = dates[key] { return known }
            let cells = dateCells[key] ?? [:]
            let found = try options.date(page: value.page, row: value.row, cell: { cells[$0] },
                                         pageMonth: { try month(of: value.page) })
            dates[key] = found
            return found
        }

        var files: [String: String] = [:]
        for variable in options.variables {
            let values = export.values.filter { SEFOptions.isIn($0, column: variable.column) }
            guard !values.isEmpty else {
                throw PipelineError(path: runFolder, problem: "no column '\(variable.column)' in the transcription")
            }
            var fileMeta = "run=\(export.runID)|model_sha256=\(export.model.sha256)|column=\(variable.column)"
            if !dateParts.isEmpty {
                fileMeta += "|date_columns=" + dateParts.map { "\($0.key.rawValue):\($0.value)" }.joined(separator: ",")
            }
            let header: [(String, String)] = [
                ("SEF", "1.0.0"), ("ID", options.id), ("Name", options.name), ("Lat", options.latitude),
                ("Lon", options.longitude), ("Alt", options.altitude), ("Source", options.source), ("Link", options.link),
                ("Vbl", variable.code), ("Stat", "point"), ("Units", variable.units), ("Meta", fileMeta),
            ]
            var text = header.map { "\($0.0)\t\($0.1)" }.joined(separator: "\n") + "\n"
            text += ["Year", "Month", "Day", "Hour", "Minute", "Period", "Value", "Meta"].joined(separator: "\t") + "\n"
            for value in values where ReviewText.isNumber(value.value) && value.flag != "unreadable" {
                guard case .success(let date) = try date(of: value) else { continue }
                var meta = "page=\(value.page)|row=\(value.row)|flag=\(value.flag)"
                if let correction = value.correction, correction.flag == "corrected" { meta += "|orig=\(correction.machineValue)" }
                if !date.doubtful.isEmpty {
                    meta += "|date_flag=review|date_doubtful=" + date.doubtful.map(\.rawValue).joined(separator: ",")
                }
                text += [String(date.year), String(date.month), String(date.day), date.hour.map(String.init) ?? "NA",
                         date.hour == nil ? "NA" : "00", "0",
                         value.value, meta].joined(separator: "\t") + "\n"
            }
            files["\(ReviewExport.safeName(options.id))_\(ReviewExport.safeName(variable.code)).tsv"] = text
        }
        let skipped = dates.values.compactMap { result -> SEFSkippedRow? in
            if case .failure(let row) = result { return row }
            return nil
        }
        return SEFExport(files: files, skippedRows: skipped.sorted {
            let a = pageOrder.firstIndex(of: $0.page) ?? 0, b = pageOrder.firstIndex(of: $1.page) ?? 0
            return a != b ? a < b : $0.row < $1.row
        })
    }
}
