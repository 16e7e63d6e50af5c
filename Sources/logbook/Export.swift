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
            COLUMN=CODE:UNITS (e.g. temperature=ta:C) in --out (a folder); pages are months (--start \
            YYYY-MM, one month per page in run order, or --page-month PAGE=YYYY-MM), rows are days \
            (day = row + --day-offset).
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
    @Option(help: "SEF: day of month = row + this.") var dayOffset: Int?
    @Option(help: "SEF: observation hour (0-23), if the column has one.") var hour: Int?

    func validate() throws {
        if format == .sef {
            guard out != nil else { throw ValidationError("--format sef needs --out FOLDER") }
        }
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
        if let dayOffset { sef.dayOffset = dayOffset }
        if let hour { sef.hour = String(hour) }
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
            var options = SEFOptions(id: sef.station)
            options.name = sef.name; options.latitude = sef.latitude; options.longitude = sef.longitude
            options.altitude = sef.altitude; options.source = sef.source; options.dayOffset = sef.dayOffset
            options.hour = sef.hour
            options.variables = try sef.variables.map(SEFOptions.variable)
            options.start = sef.start.isEmpty ? nil : try SEFOptions.month(sef.start)
            for item in pageMonth {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--page-month \(item): expected PAGE=YYYY-MM") }
                options.pageMonths[parts[0]] = try SEFOptions.month(parts[1])
            }
            let files = try RunExport.sef(runFolder: folder.run, options: options)
            try FileManager.default.createDirectory(atPath: out!, withIntermediateDirectories: true)
            for (name, text) in files.sorted(by: { $0.key < $1.key }) {
                try AtomicFile.write(text, to: (out! as NSString).appendingPathComponent(name))
                print((out! as NSString).appendingPathComponent(name))
            }
        }
    }

    func write(_ data: Data) throws {
        if let out { try AtomicFile.write(data, to: out) } else { FileHandle.standardOutput.write(data) }
    }
}
