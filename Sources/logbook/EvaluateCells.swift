import ArgumentParser
import Foundation
import NeuralNet
import Pipeline
import Recognition

/// Which cell reader a command uses.
enum ReaderChoice: String, ExpressibleByArgument, CaseIterable {
    case segment, sequence, both

    /// The reader, with each model's own temperature when its file carries one. `digitReader`, when
    /// given, is the segment path's reader instead of one loaded from `digitModel`.
    func make(digitModel: String, cellModel: String, settings: CellReaderSettings,
              digitReader: CellReader? = nil) throws -> any CellImageReader {
        func segment() throws -> CellReader { try digitReader ?? CellReader(modelPath: digitModel, settings: settings) }
        func sequence() throws -> CellSequenceReader { try CellSequenceReader(modelPath: cellModel, settings: settings) }
        switch self {
        case .segment: return try segment()
        case .sequence: return try sequence()
        case .both: return CombinedCellReader(primary: try sequence(), secondary: try segment(), settings: settings)
        }
    }
}

struct EvaluateCells: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-cells",
        abstract: "Read transcribed table cells into numbers and score them: exact values, digits, flagged share.",
        discussion: """
            Exact value accuracy compares numbers (20 equals 20.0). Digit accuracy compares the read \
            digits with the truth's digits position by position when the counts match (20 may be \
            written 200 for 20.0), and counts all of the truth's digits wrong otherwise. Flagged = \
            review (a digit below --review-threshold) + unreadable (too many digits). Writes \
            wrong-cells.png (a contact sheet of the wrong cells) and readings.csv into --out.
            """)

    @OptionGroup var compute: ComputeOptions
    @Option(help: "Truth CSV with columns image,value (station, column, ... optional).") var truth: String
    @Option(help: "Folder the CSV's image paths are relative to (default: the truth file's folder).") var cells: String?
    @Option(help: "Digit model for the segment path (.safetensors).")
    var model: String = ShippedFiles.path("models/logbook-digits.safetensors")
    @Option(help: "Whole-cell model for the sequence path (.safetensors).")
    var cellModel: String = ShippedFiles.path("models/logbook-cells.safetensors")
    @Option(help: "Reading path: segment (cut digits, classify each), sequence (whole cell, CRNN+CTC), or both (sequence first; cells where they disagree are flagged).")
    var reader: ReaderChoice?
    @Option(help: "Pipeline file: its reader, classify.review_threshold, table.decimals and checks apply unless given here.")
    var pipeline: String?
    @Option(help: "A cell with a digit below this probability is flagged for review (default 0.9).") var reviewThreshold: Float?
    @Option(help: "Expected decimals when no separator is seen: N for every column, or COLUMN=N (repeat).")
    var decimals: [String] = []
    @Option(help: "Folder for wrong-cells.png and readings.csv.") var out: String = "out/evaluate-cells"
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "Stop at the first truth value that is not a number or cell image that cannot be read (default: leave the row out, or score the cell unreadable, and warn).")
    var strict = false
    @Flag(inversion: .prefixedNo, help: "Check and correct readings with the sheet's arithmetic (totals, means, column relations) when the truth has sheet, column and row columns.")
    var tableChecks = true
    @Flag(inversion: .prefixedNo, help: "Read the cells twice: after the first reading, fine-tune the digit model on their digits labelled with the checked readings (no truth is used; `logbook adapt`), then read again with it. Only with a digit model (reader segment or both), table checks that ran and at least \(CellAdaptation.minimumDigits) digits.")
    var adapt = true
    @Option(help: "Adaptation steps (--adapt).") var adaptSteps: Int = CellAdaptation.Settings().steps
    @Option(help: "Adaptation seed (--adapt).") var adaptSeed: UInt64 = CellAdaptation.Settings().seed

    func validate() throws {
        if let reviewThreshold, !(reviewThreshold >= 0 && reviewThreshold <= 1) { throw ValidationError("--review-threshold must be in 0...1") }
        if adaptSteps < 1 { throw ValidationError("--adapt-steps must be at least 1") }
        _ = try parsedDecimals()
    }

    func parsedDecimals() throws -> (byColumn: [String: Int], all: Int?) {
        var byColumn: [String: Int] = [:], all: Int? = nil
        for spec in decimals {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard let count = Int(parts.last!), count >= 0 else {
                throw ValidationError("--decimals '\(spec)': expected N or COLUMN=N with N >= 0")
            }
            if parts.count == 2 { byColumn[parts[0]] = count } else { all = count }
        }
        return (byColumn, all)
    }

    func run() throws {
        compute.apply()
        var decimals = try parsedDecimals()
        var threshold = reviewThreshold, choice = reader ?? .both, checks = tableChecks, ranges = true
        var roundingDoubt = TableLayout().roundingDoubtThreshold
        if let pipeline {
            let config = try PipelineConfig.load(path: pipeline)
            if reader == nil { choice = ReaderChoice(rawValue: config.reader) ?? .both }
            if reviewThreshold == nil { threshold = Float(config.classify.reviewThreshold) }
            if self.decimals.isEmpty, case .fixed(let count) = config.table.decimals { decimals.all = count }
            if !config.checks.enabled { checks = false }
            ranges = config.checks.ranges
            roundingDoubt = config.checks.roundingDoubt > 0 ? Float(config.checks.roundingDoubt) : nil
        }
        let settings = CellReaderSettings(reviewThreshold: threshold ?? 0.9, decimalsByColumn: decimals.byColumn,
                                          defaultDecimals: decimals.all)
        let reader = try choice.make(digitModel: model, cellModel: cellModel, settings: settings)
        let model = choice == .segment ? model : choice == .sequence ? cellModel : cellModel + " + " + model
        let reviewThreshold = reader.reviewThreshold
        let tableChecks = checks
        var layout = tableChecks ? TableLayout() : .none
        if !ranges { layout.rangeDeviations = nil }
        if tableChecks { layout.roundingDoubtThreshold = roundingDoubt }
        func evaluate(with reader: any CellImageReader, warn: Bool) throws -> CellEvaluationReport {
            try CellEvaluation.evaluate(truthCSV: truth, cellsFolder: cells, reader: reader, layout: layout, strict: strict) { message in
                if warn { FileHandle.standardError.write(Data("warning: \(message)\n".utf8)) }
            }
        }
        var report = try evaluate(with: reader, warn: true)
        var adaptedModel: String?
        if adapt && choice != .sequence {
            // A new hand is read once, the digit model learns it from its own checked readings
            // (the checks' corrections are this hand's misread digits), and it is read again.
            let teachable = CellAdaptation.teachableCells(report.results)
            let digits = ArchivalCells.labelledDigits(truth: teachable, originPrefix: "adapt").dataset
            if let reason = CellAdaptation.reasonNotToAdapt(teachableCells: teachable.count, digits: digits.count) {
                report.notAdapted = reason
            } else {
                let start = DispatchTime.now().uptimeNanoseconds
                let adaptation = CellAdaptation.Settings(steps: adaptSteps, seed: adaptSeed)
                let adapted = try CellAdaptation.adaptedModel(at: self.model, on: digits, settings: adaptation)
                var digitSettings = settings
                if let temperature = adapted.temperature { digitSettings.temperature = temperature }
                let adaptedReader = try choice.make(digitModel: self.model, cellModel: cellModel, settings: settings,
                                                    digitReader: CellReader(model: adapted.model, settings: digitSettings))
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                let first = report.overall
                report = try evaluate(with: adaptedReader, warn: false)
                report.adaptation = CellAdaptation.Summary(cells: teachable.count, digits: digits.count, settings: adaptation,
                                                           seconds: seconds, firstReading: first)
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                adaptedModel = out + "/adapted-digits.safetensors"
                try adapted.model.save(to: adaptedModel!, metadata: adapted.metadata)
            }
            if let reason = report.notAdapted, !json { print("read once, not adapted: \(reason)") }
        }
        if decimals.all == nil && decimals.byColumn.isEmpty,
           let warning = CellEvaluation.wholeNumbersWarning(report.results.map(\.reading)) {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let shown = try CellEvaluation.writeContactSheet(report, to: out + "/wrong-cells.png")
        try CellEvaluation.readingsCSV(report).write(toFile: out + "/readings.csv", atomically: true, encoding: .utf8)
        if json {
            print(CellEvaluation.json(report))
            return
        }
        let o = report.overall
        print("\(model) on \(truth): \(o.cells) cells, " + String(format: "%.1f cells/s", report.cellsPerSecond)
              + String(format: " (read %.2f s, load %.2f s)", report.readSeconds, report.loadSeconds))
        print("  cells                 \(o.cells)" + (report.skipped.isEmpty ? "" : " (\(report.skipped.count) truth rows not scored: values that are not numbers)"))
        if let adaptation = report.adaptation {
            let f = adaptation.firstReading
            print("  read twice: the digit model adapted on \(adaptation.digits) digits of \(adaptation.cells) cells' checked readings"
                  + String(format: " (%d steps, %.1f s; no truth used); first reading ", adaptation.settings.steps, adaptation.seconds)
                  + "\(CellReportText.percent(f.exactValueAccuracy)) exact, \(CellReportText.percent(f.flaggedFraction)) flagged, "
                  + "\(CellReportText.percent(f.unflaggedAccuracy)) unflagged right; the figures below are the second's")
        }
        CellReportText.printScores(o, reviewThreshold: "\(reviewThreshold)")
        if let checks = report.checks {
            print("  table checks          \(checks.constraints) constraints, \(checks.corrected) cells corrected, \(checks.broken) still broken; relations: "
                  + (checks.relations.isEmpty ? "none" : checks.relations.joined(separator: "; "))
                  + (checks.columnDecimals.isEmpty ? "" : "; decimals set by the arithmetic: "
                     + checks.columnDecimals.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))
        }
        CellReportText.printDetails(perStation: report.perStation, curve: report.curve, confusion: report.confusion)
        print("wrote \(out)/readings.csv" + (shown > 0 ? " and \(out)/wrong-cells.png (\(shown) cells)" : "")
              + (adaptedModel.map { ", and the adapted digit model \($0)" } ?? ""))
    }
}
