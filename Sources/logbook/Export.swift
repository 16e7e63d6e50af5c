import ArgumentParser
import Foundation
import Pipeline

struct Export: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable { case csv, json, sef }

    static let configuration = CommandConfiguration(
        abstract: "Export a run's transcription as CSV, JSON with provenance per value, or SEF.",
        discussion: """
            json: every value with its scan (and sha256), page, cell box, model and pipeline sha256, \
            confidence and correction. sef: Station Exchange Format 1.0.0, one file per --variable \
            COLUMN=CODE:UNITS (e.g. temperature=ta:C) in --out (a folder). Dates: from the columns \
            --year-column, --month-column, --day-column, --hour-column (number or name; the run must \
            have read them: table.date_columns in its pipeline file); parts without a column come from \
            the page's month (--start YYYY-MM, one month per page in run order, or --page-month \
            PAGE=YYYY-MM), the row (day = row + --day-offset) and --hour. Rows whose date is not a \
            date (a date cell empty, unreadable or not a whole number, a day the month does not have) \
            are left out and listed on stderr; dates read with doubt are written with date_flag=review \
            in the observation's Meta.
            """)

    @OptionGroup var folder: RunFolderOption
    @Option(help: "csv, json or sef.") var format: Format
    @Option(help: "Output file (csv, json; default: stdout) or folder (sef).") var out: String?
    // SEF: each option overrides the run's pipeline file (its `sef:` section).
    @Option(help: "SEF: station id.") var station: String?
    @Option(help: "SEF: station name.") var name: String?
    @Option(help: "SEF: latitude.") var lat: String?
    @Option(help: "SEF: longitude.") var lon: String?
    @Option(help: "SEF: altitude (m).") var alt: String?
    @Option(help: "SEF: source (archive, volume).") var source: String?
    @Option(help: "SEF: COLUMN=CODE:UNITS (repeat).") var variable: [String] = []
    @Option(help: "SEF: year and month of the first page (YYYY-MM).") var start: String?
    @Option(help: "SEF: PAGE=YYYY-MM for one page (repeat).") var pageMonth: [String] = []
    @Option(help: "SEF: day of month = row + this (no day column).") var dayOffset: Int?
    @Option(help: "SEF: observation hour (0-23) of every row (no hour column).") var hour: Int?
    @Option(help: "SEF: the column (number or name) holding the year.") var yearColumn: String?
    @Option(help: "SEF: the column holding the month (1-12).") var monthColumn: String?
    @Option(help: "SEF: the column holding the day of the month.") var dayColumn: String?
    @Option(help: "SEF: the column holding the observation hour (0-23).") var hourColumn: String?

    var dateColumnOptions: [SEFDatePart: String] {
        var columns: [SEFDatePart: String] = [:]
        columns[.year] = yearColumn
        columns[.month] = monthColumn
        columns[.day] = dayColumn
        columns[.hour] = hourColumn
        return columns
    }

    func validate() throws {
        if format == .sef {
            guard out != nil else { throw ValidationError("--format sef needs --out FOLDER") }
        } else if !dateColumnOptions.isEmpty {
            throw ValidationError("--year-column, --month-column, --day-column and --hour-column are for --format sef")
        }
        if let problem = SEFOptions.dateColumnsProblem(dateColumnOptions) { throw ValidationError("date columns: \(problem)") }
        if dayColumn != nil && dayOffset != nil {
            throw ValidationError("--day-column and --day-offset both say where the day comes from: give one")
        }
        if hourColumn != nil && hour != nil {
            throw ValidationError("--hour-column and --hour both say where the hour comes from: give one")
        }
        if let hour, !(0...23).contains(hour) { throw ValidationError("--hour must be 0-23, not \(hour)") }
    }

    /// The run's pipeline file's `sef:` section, overridden by the options given.
    func sefParameters() throws -> SEFParameters {
        let file = RunFolder(folder.run).path(RunFolder.pipelineFile)
        var sef = FileManager.default.fileExists(atPath: file) ? try PipelineConfig.load(path: file).sef : SEFParameters()
        if let station { sef.station = station }
        if let name { sef.name = name }
        if let lat { sef.latitude = lat }
        if let lon { sef.longitude = lon }
        if let alt { sef.altitude = alt }
        if let source { sef.source = source }
        if !variable.isEmpty { sef.variables = variable }
        if let start { sef.start = start }
        // --day-offset and --hour take the day and hour from the row and the option, so a column the
        // pipeline file names for them no longer applies.
        if let dayOffset { sef.dayOffset = dayOffset; sef.dateColumns.day = "" }
        if let hour { sef.hour = String(hour); sef.dateColumns.hour = "" }
        if let yearColumn { sef.dateColumns.year = yearColumn }
        if let monthColumn { sef.dateColumns.month = monthColumn }
        if let dayColumn { sef.dateColumns.day = dayColumn }
        if let hourColumn { sef.dateColumns.hour = hourColumn }
        guard !sef.station.isEmpty else {
            throw ValidationError("--format sef needs a station: --station or sef.station in \(file)")
        }
        guard !sef.variables.isEmpty else {
            throw ValidationError("--format sef needs variables: --variable COLUMN=CODE:UNITS or sef.variables in \(file)")
        }
        return sef
    }

    func run() throws {
        switch format {
        case .csv:
            let text = try String(contentsOfFile: RunFolder(folder.run).path(RunFolder.transcriptionFile), encoding: .utf8)
            try write(Data(text.utf8))
        case .json:
            try write(try RunExport.json(runFolder: folder.run))
        case .sef:
            let sef = try sefParameters()
            var options = try SEFOptions(parameters: sef, path: RunFolder(folder.run).path(RunFolder.pipelineFile))
            for item in pageMonth {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--page-month \(item): expected PAGE=YYYY-MM") }
                options.pageMonths[parts[0]] = try SEFOptions.month(parts[1])
            }
            let export = try RunExport.sef(runFolder: folder.run, options: options)
            try FileManager.default.createDirectory(atPath: out!, withIntermediateDirectories: true)
            for (name, text) in export.files.sorted(by: { $0.key < $1.key }) {
                try AtomicFile.write(text, to: (out! as NSString).appendingPathComponent(name))
                print((out! as NSString).appendingPathComponent(name))
            }
            for row in export.skippedRows { FileHandle.standardError.write(Data("left out: \(row)\n".utf8)) }
            if !export.skippedRows.isEmpty {
                FileHandle.standardError.write(Data("\(export.skippedRows.count) rows left out of the SEF files for their dates (correct the date cells with logbook review import, then export again)\n".utf8))
            }
        }
    }

    func write(_ data: Data) throws {
        if let out { try AtomicFile.write(data, to: out) } else { FileHandle.standardOutput.write(data) }
    }
}
