import Foundation

// The date of each SEF observation. Parts the pipeline maps to date columns (`sef.date_columns`,
// `--day-column` ...) are read from the observation's row; the others come from what the run
// knows otherwise: the page's month (`start`, one month per page, or `--page-month`), the row
// (day = row + `day_offset`) and one fixed `hour`. A date that is not a real date (a date cell
// empty, unreadable or not a whole number, a month outside 1-12, a day the month does not have)
// would put the observation on the wrong day or nowhere, so the row is left out and reported; a
// date cell read with doubt (`review`) is likely right and is still written, its Meta saying so.
// A person's `corrected` or `confirmed` cell is as sure as an `ok` one.

/// A part of an observation's date that a column of the sheet can hold.
public enum SEFDatePart: String, CaseIterable, Sendable, Comparable {
    case year, month, day, hour

    public static func < (a: SEFDatePart, b: SEFDatePart) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// An observation's date and time, and the parts whose cells were read with doubt.
public struct SEFDate: Equatable, Sendable {
    public var year: Int
    public var month: Int
    public var day: Int
    /// nil: not known (`NA` in the file).
    public var hour: Int?
    public var doubtful: [SEFDatePart] = []
}

/// A row of the sheet left out of the SEF files: the date part that is wrong, the column it was
/// read from (nil when it came from the row number and `day_offset`), and why.
public struct SEFSkippedRow: Error, Equatable, Sendable, CustomStringConvertible {
    public var page: String
    public var row: Int
    public var part: SEFDatePart
    public var column: String?
    public var reason: String

    public var description: String {
        let cell = column.map { "\(part.rawValue) cell (column \($0))" } ?? "\(part.rawValue) (from the row number)"
        return "page \(page) row \(row): \(cell): \(reason)"
    }
}

/// What `RunExport.sef` gives: the files (name -> text) and the rows left out for their dates.
public struct SEFExport: Sendable {
    public var files: [String: String]
    public var skippedRows: [SEFSkippedRow]
}

/// A row of one page.
struct SEFRowKey: Hashable {
    var page: String
    var row: Int
}

extension SEFOptions {
    /// Whether `value` is in `column`, given as the pipeline file gives columns: by name (the
    /// table hints') or by number.
    static func isIn(_ value: ProvenancedValue, column: String) -> Bool {
        value.columnName == column || String(value.column) == column
    }

    /// The cells of each row that hold a date part (`dateColumns`).
    func dateCells(_ values: [ProvenancedValue]) -> [SEFRowKey: [SEFDatePart: ProvenancedValue]] {
        var cells: [SEFRowKey: [SEFDatePart: ProvenancedValue]] = [:]
        for value in values {
            for (part, column) in dateColumns where SEFOptions.isIn(value, column: column) {
                cells[SEFRowKey(page: value.page, row: value.row), default: [:]][part] = value
            }
        }
        return cells
    }

    /// Why these date columns cannot work (a part in two columns is a mistake: the day is not the
    /// month), or nil.
    public static func dateColumnsProblem(_ columns: [SEFDatePart: String]) -> String? {
        for (part, column) in columns.sorted(by: { $0.key < $1.key }) {
            if column.trimmingCharacters(in: .whitespaces).isEmpty { return "\(part.rawValue): the column is blank" }
            if let number = Int(column), number < 0 { return "\(part.rawValue): column \(number) is not a column number (0 or more)" }
            if let other = columns.first(where: { $0.key < part && $0.value == column }) {
                return "\(other.key.rawValue) and \(part.rawValue) are both read from column '\(column)'"
            }
        }
        return nil
    }

    /// Days in `month` (1-12) of `year` (Gregorian: a leap year is divisible by 4, and by 400
    /// when it is a century).
    public static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// The fixed `hour` as a number, nil for "NA".
    func fixedHour() throws -> Int? {
        if hour == "NA" { return nil }
        guard let value = Int(hour), (0...23).contains(value) else {
            throw PipelineError(path: "", problem: "hour '\(hour)': expected 0-23 or NA")
        }
        return value
    }

    /// The date of the observations in `row` of `page`, or the reason the row is left out.
    /// `cell` gives the row's reading in a part's date column (nil: the page has no cell there);
    /// `pageMonth` the page's year and month, asked for only when a column gives neither (it
    /// throws when `start` and `--page-month` do not say).
    func date(page: String, row: Int, cell: (SEFDatePart) -> ProvenancedValue?,
              pageMonth: () throws -> (year: Int, month: Int)) throws -> Result<SEFDate, SEFSkippedRow> {
        func skip(_ part: SEFDatePart, _ reason: String) -> Result<SEFDate, SEFSkippedRow> {
            .failure(SEFSkippedRow(page: page, row: row, part: part, column: dateColumns[part], reason: reason))
        }
        var read: [SEFDatePart: Int] = [:], doubtful: [SEFDatePart] = []
        for part in SEFDatePart.allCases where dateColumns[part] != nil {
            guard let value = cell(part) else { return skip(part, "no cell in the transcription") }
            if value.flag == "unreadable" { return skip(part, "unreadable") }
            if value.value.isEmpty { return skip(part, "empty") }
            guard value.value.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(value.value) else {
                return skip(part, "'\(value.value)' is not a whole number")
            }
            read[part] = number
            if value.flag == "review" { doubtful.append(part) }
        }
        if let year = read[.year], !(1000...9999).contains(year) { return skip(.year, "\(year) is not a four-digit year") }
        if let month = read[.month], !(1...12).contains(month) { return skip(.month, "\(month) is not a month (1-12)") }
        var year = read[.year] ?? 0, month = read[.month] ?? 0
        if read[.year] == nil || read[.month] == nil {
            let known = try pageMonth()
            year = read[.year] ?? known.year
            month = read[.month] ?? known.month
        }
        let length = SEFOptions.days(inMonth: month, year: year)
        let yearMonth = String(format: "%04d-%02d", year, month)
        let day: Int
        if let written = read[.day] {
            guard (1...length).contains(written) else { return skip(.day, "\(written) is not a day of \(yearMonth) (\(length) days)") }
            day = written
        } else {
            day = row + dayOffset
            guard (1...length).contains(day) else {
                return skip(.day, "row \(row) + day_offset \(dayOffset) = \(day) is not a day of \(yearMonth) (\(length) days)")
            }
        }
        var hour = try fixedHour()
        if let written = read[.hour] {
            guard (0...23).contains(written) else { return skip(.hour, "\(written) is not an hour (0-23)") }
            hour = written
        }
        return .success(SEFDate(year: year, month: month, day: day, hour: hour, doubtful: doubtful))
    }
}
