import ArgumentParser
import Foundation
import NeuralNet
import Pipeline
import Recognition

struct Adapt: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a digit model on the hand of cells it has read: their digits, labelled with the checked readings.",
        discussion: """
            --readings is the readings.csv that `evaluate-cells` wrote; for a pipeline run, --truth takes \
            `logbook review harvest --checked-readings`'s OUT/cells/truth.csv (or use `logbook run --adapt`). \
            The cells read as numbers (ok or review) whose readings the table checks bear out (a check held \
            there, none broke or was left in doubt) are cut into digits, labelled with those readings (the \
            checks' corrections included; no transcription is used; other readings would teach the model \
            its own misreadings), and the model is fine-tuned on them for \
            --steps steps. The result keeps the model's calibrated temperature. Read the cells again with it: \
            `logbook evaluate-cells --model OUT ...`.
            """)

    @OptionGroup var compute: ComputeOptions
    @Option(help: "readings.csv written by evaluate-cells.") var readings: String?
    @Option(help: "Or a CSV of cell images and their readings (image,value), e.g. `logbook review harvest --checked-readings`'s OUT/cells/truth.csv for a pipeline run.")
    var truth: String?
    @Option(help: "The digit model that read them (.safetensors).")
    var model: String = ShippedFiles.path("models/logbook-digits.safetensors")
    @Option(help: "File to write the adapted model to.") var out: String
    @Option(help: "Optimizer steps.") var steps: Int = CellAdaptation.Settings().steps
    @Option(help: "Digits per step.") var batch: Int = CellAdaptation.Settings().batchSize
    @Option(help: "Peak learning rate (AdamW, warm-up then cosine decay).") var lr: Float = CellAdaptation.Settings().learningRate
    @Option(help: "Seed for shuffling and augmentation.") var seed: UInt64 = CellAdaptation.Settings().seed

    func validate() throws {
        guard (readings == nil) != (truth == nil) else { throw ValidationError("give --readings or --truth, one of them") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard batch >= 2 else { throw ValidationError("--batch must be at least 2") }
        guard lr > 0 && lr.isFinite else { throw ValidationError("--lr must be a positive number") }
    }

    func run() throws {
        compute.apply()
        let source = readings ?? truth!
        let cells = try readings.map(CellAdaptation.readingsAsTruth(csv:))
            ?? CellTruth.readTruth(csv: source, anyValue: true).filter { CellEvaluation.number($0.value) != nil }
        let (digits, summary) = ArchivalCells.labelledDigits(truth: cells, originPrefix: "adapt")
        print("\(source): \(cells.count) " + (readings == nil ? "cells with numbers" : "checked cells read as numbers")
              + ", \(summary.cellsKept) cut into \(digits.count) digits"
              + " that line up with their readings")
        if let reason = CellAdaptation.reasonNotToAdapt(teachableCells: cells.count, digits: digits.count) {
            throw DatasetError(path: source, kind: .noImages, problem: "not adapted: " + reason)
        }
        let settings = CellAdaptation.Settings(steps: steps, batchSize: batch, learningRate: lr, seed: seed)
        let start = DispatchTime.now().uptimeNanoseconds
        var first: Float?, last: Float = 0
        let adapted = try CellAdaptation.adaptedModel(at: model, on: digits, settings: settings) { step, loss in
            if first == nil { first = loss }
            last = loss
            if step % 16 == 0 || step == steps { print("step \(step): loss " + String(format: "%.3f", loss)) }
        }
        var metadata = adapted.metadata
        metadata["logbook.adapted_on"] = "\(source) (\(digits.count) digits of \(summary.cellsKept) cells)"
        try adapted.model.save(to: out, metadata: metadata)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(String(format: "adapted in %.1f s (loss %.3f -> %.3f); wrote %@", seconds, first ?? 0, last, out))
    }
}
