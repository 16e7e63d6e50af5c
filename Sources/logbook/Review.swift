import ArgumentParser
import Foundation
import Pipeline

struct Review: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The human review loop: a review page for doubtful cells, corrections back into the run, digits for fine-tuning.",
        subcommands: [ReviewExportCommand.self, ReviewImportCommand.self, ReviewHarvestCommand.self])
}

struct RunFolderOption: ParsableArguments {
    @Option(help: "Run folder (made by logbook run).") var run: String

    func validate() throws {
        guard FileManager.default.fileExists(atPath: (run as NSString).appendingPathComponent("manifest.json")) else {
            throw ValidationError("\(run): no manifest.json: not a run folder")
        }
    }
}

struct ReviewExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a review folder: index.html (opens from disk), review.csv, cell images.",
        discussion: """
            Lists the cells flagged review or unreadable (with --below P also every cell read with \
            confidence below P). Open OUT/index.html in a browser: type the value, Enter moves on; \
            "Save corrections.csv" downloads the reviewed cells. Or fill the value column of \
            OUT/review.csv (an empty value: not reviewed). Then: logbook review import.
            """)

    @OptionGroup var folder: RunFolderOption
    @Option(help: "Also list cells read with confidence below this (0...1).") var below: Double?
    @Option(help: "Output folder (default: RUN/review-page).") var out: String?

    func validate() throws {
        if let below, !(0...1).contains(below) { throw ValidationError("--below must be between 0 and 1") }
    }

    func run() throws {
        let result = try ReviewExport.export(runFolder: folder.run, below: below, out: out)
        print("\(result.items) cells to review: \(result.folder)/index.html (and review.csv); run \(result.identity.runID)")
    }
}

struct ReviewImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Apply a corrections CSV to the run's transcription (all rows or none).",
        discussion: """
            Every row is checked first: the run and transcription it was made for, a known cell, a \
            number, no cell twice. Any problem refuses the whole file (each named with its line) and \
            changes nothing. Corrected cells get flag corrected and keep the machine's reading in \
            machine_value; unchanged ones get confirmed. The import is logged in corrections.json, \
            which the manifest's export record names.
            """)

    @OptionGroup var folder: RunFolderOption
    @Argument(help: "corrections.csv (from the review page) or a filled-in review.csv.") var corrections: String
    @Option(help: "Who reviewed (default: $USER).") var reviewer: String?

    func run() throws {
        let who = reviewer ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        do {
            let result = try ReviewImport.apply(corrections: corrections, runFolder: folder.run, reviewer: who)
            print("\(result.corrected) corrected, \(result.confirmed) confirmed, \(result.skipped) rows without a value skipped")
        } catch let error as PipelineError {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
    }
}

struct ReviewHarvestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "harvest",
        abstract: "Corrected, confirmed and surely read cells -> labelled digit images (OUT/0 ... OUT/9).",
        discussion: """
            Also writes the whole cells as the pipeline crops them (OUT/cells/*.png with OUT/cells/truth.csv). \
            Fine-tune the digit model with `logbook train --init models/logbook-digits.safetensors --data standard --data OUT`, \
            the whole-cell model with `logbook train-cells --initial models/logbook-cells.safetensors --truth ... --truth OUT/cells/truth.csv`.
            """)

    @OptionGroup var folder: RunFolderOption
    @Option(help: "Output folder.") var out: String
    @Option(help: "Cells read ok at least this sure count as right.") var minConfidence: Double = 0.99
    @Option(help: "A hand transcription of the run's pages (page,row,column,value[,cell box], as logbook synth writes): harvest every transcribed number with its true value instead of the reviewed cells.")
    var truth: String?
    @Flag(help: "Every cell read as a number that the table checks bear out (a check held there, none broke or was left in doubt), review included, whatever its confidence (and the cells a person corrected or confirmed): for `logbook adapt --truth OUT/cells/truth.csv`.")
    var checkedReadings = false

    func validate() throws {
        if let truth, !FileManager.default.fileExists(atPath: truth) { throw ValidationError("\(truth): no such truth file") }
        if truth != nil && checkedReadings { throw ValidationError("--truth and --checked-readings choose different labels; give one") }
    }

    func run() throws {
        let result = try ReviewHarvest.harvest(runFolder: folder.run, out: out, minConfidence: minConfidence, truth: truth,
                                               checkedReadings: checkedReadings)
        print("\(result.cells) cells (\(result.corrected) corrected) -> \(result.report.written.reduce(0, +)) digit images in \(out), index \(result.report.index)")
    }
}
