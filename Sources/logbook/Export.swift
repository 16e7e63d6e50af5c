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
    @Option(help: "SEF: station id.") var station: String?
    @Option(help: "SEF: station name.") var name: String = ""
    @Option(help: "SEF: latitude.") var lat: String = "NA"
    @Option(help: "SEF: longitude.") var lon: String = "NA"
    @Option(help: "SEF: altitude (m).") var alt: String = "NA"
    @Option(help: "SEF: source (archive, volume).") var source: String = ""
    @Option(help: "SEF: COLUMN=CODE:UNITS (repeat).") var variable: [String] = []
    @Option(help: "SEF: year and month of the first page (YYYY-MM).") var start: String?
    @Option(help: "SEF: PAGE=YYYY-MM for one page (repeat).") var pageMonth: [String] = []
    @Option(help: "SEF: day of month = row + this.") var dayOffset: Int = 1
    @Option(help: "SEF: observation hour (0-23), if the column has one.") var hour: Int?

    func validate() throws {
        if format == .sef {
            guard station != nil else { throw ValidationError("--format sef needs --station") }
            guard !variable.isEmpty else { throw ValidationError("--format sef needs --variable COLUMN=CODE:UNITS") }
            guard out != nil else { throw ValidationError("--format sef needs --out FOLDER") }
        }
    }

    func run() throws {
        switch format {
        case .csv:
            let text = try String(contentsOfFile: RunFolder(folder.run).path(RunFolder.transcriptionFile), encoding: .utf8)
            try write(Data(text.utf8))
        case .json:
            try write(try RunExport.json(runFolder: folder.run))
        case .sef:
            var options = SEFOptions(id: station!)
            options.name = name; options.latitude = lat; options.longitude = lon; options.altitude = alt
            options.source = source; options.dayOffset = dayOffset
            options.hour = hour.map(String.init) ?? "NA"
            options.variables = try variable.map(SEFOptions.variable)
            options.start = try start.map(SEFOptions.month)
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
