import Foundation
import NeuralNet
import Recognition

// `logbook run --adapt`: a run read once teaches its digit model the hand of its pages, from the
// readings the table checks bear out (`ReviewHarvest` with `checkedReadings`), and is read again with
// the adapted model. Nothing is taken from a transcription, so an archive does this with its own
// scans. The adapted model, the harvested cells and the first transcription stay in
// `adaptation/` of the run, and the run's manifest names the adapted model, so later runs and
// `logbook stage` read with it.

public struct RunAdaptationOutcome: Sendable {
    /// Cells whose readings taught, and the digits cut from them.
    public var cells: Int
    public var digits: Int
    public var settings: CellAdaptation.Settings
    public var seconds: Double
    /// The adapted model, and the model it was adapted from (the one the run was read with).
    public var model: String
    public var adaptedFrom: String
}

public enum RunAdaptationResult: Sendable {
    case adapted(RunAdaptationOutcome)
    /// Why the run's model was left as it was.
    case notAdapted(String)
}

public enum RunAdaptation {
    public static let folderName = "adaptation"
    public static let modelName = "adapted-digits.safetensors"
    /// The transcription of the first reading, kept for comparison.
    public static let firstTranscriptionName = "first-transcription.csv"

    /// The model a file was adapted from (`CellAdaptation.adaptedModel` records it), nil for a
    /// model that was not adapted.
    public static func adaptedFrom(modelAt path: String) throws -> String? {
        try SafeTensors.read(path: path).metadata["logbook.adapted_from"]
    }

    /// The adapted model the run in `runFolder` reads with, when it was adapted from `model` (the
    /// same file, by content): a run started again with `--model M --adapt` keeps reading with the
    /// model it adapted from M instead of reading and adapting all over. Nil otherwise.
    public static func adaptedModel(ofRun runFolder: String, from model: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: RunFolder(runFolder).path(RunManifest.fileName)) else { return nil }
        let current = try RunManifest.load(runFolder: runFolder).model.path
        guard FileManager.default.fileExists(atPath: current), let source = try adaptedFrom(modelAt: current) else { return nil }
        if source == model { return current }
        guard FileManager.default.fileExists(atPath: source), FileManager.default.fileExists(atPath: model) else { return nil }
        return try SHA256.hex(fileAt: source) == SHA256.hex(fileAt: model) ? current : nil
    }

    /// Adapts the digit model that the run in `runFolder` was read with on the run's checked
    /// readings and writes it to `adaptation/adapted-digits.safetensors`; read the run again with
    /// it (`RunRequest.modelPath`). Not adapted, with the reason, when the run was read with an
    /// adapted model already (adapting twice teaches nothing new: models/README.md, session 20) or
    /// its readings do not adapt (`CellAdaptation.reasonNotToAdapt`).
    public static func adapt(runFolder: String, settings: CellAdaptation.Settings = CellAdaptation.Settings(),
                             onStep: (_ step: Int, _ loss: Float) -> Void = { _, _ in }) throws -> RunAdaptationResult {
        let manifest = try RunManifest.load(runFolder: runFolder)
        let source = manifest.model.path
        if let original = try adaptedFrom(modelAt: source) {
            return .notAdapted("the run reads with a model adapted from \(original) already (\(source)); "
                               + "to adapt afresh, run with --model \(original) without --adapt, then with it")
        }
        let run = RunFolder(runFolder)
        let borneOut = ReviewHarvest.borneOutCells(manifest, folder: run)
        if borneOut.isEmpty, let reason = CellAdaptation.reasonNotToAdapt(teachableCells: 0, digits: 0) {
            return .notAdapted(reason)
        }
        let folder = run.path(folderName)
        let harvest = folder + "/harvest"
        // An earlier adaptation's cell crops would mix with this one's.
        if FileManager.default.fileExists(atPath: harvest) { try FileManager.default.removeItem(atPath: harvest) }
        let cells = try ReviewHarvest.harvestCells(runFolder: runFolder, out: harvest, checkedReadings: true,
                                                 borneOut: borneOut).truth
            .filter { CellEvaluation.number($0.value) != nil }
        let (digits, summary) = ArchivalCells.labelledDigits(truth: cells, originPrefix: "adapt")
        if let reason = CellAdaptation.reasonNotToAdapt(teachableCells: cells.count, digits: digits.count) {
            return .notAdapted(reason)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let adapted = try CellAdaptation.adaptedModel(at: source, on: digits, settings: settings, onStep: onStep)
        var metadata = adapted.metadata
        metadata["logbook.adapted_on"] = "\(runFolder) (\(digits.count) digits of \(summary.cellsKept) checked cells)"
        let model = folder + "/" + modelName
        try adapted.model.save(to: model, metadata: metadata)
        let transcription = run.path(RunFolder.transcriptionFile)
        if let first = FileManager.default.contents(atPath: transcription) {
            try AtomicFile.write(first, to: folder + "/" + firstTranscriptionName)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return .adapted(RunAdaptationOutcome(cells: cells.count, digits: digits.count, settings: settings, seconds: seconds,
                                             model: model, adaptedFrom: source))
    }
}
