import ArgumentParser
import Foundation
import Imaging
import NeuralNet
import Recognition

struct TrainCells: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-cells",
        abstract: "Train the whole-cell reader: a CRNN (conv stack + LSTM) with CTC over 0-9 . - on transcribed cells plus synthetic ones.",
        discussion: """
            Real cells come from --truth (columns image,value,station,...); synthetic cells are composed \
            from the training split of the standard digit corpus (never its validation or test split). \
            With --holdout-station S that station's cells are the test set alone (leave-one-station-out) \
            and are scored after every epoch; model selection uses --validation-fraction of the other \
            cells. Writes checkpoint.safetensors every epoch (continue with --resume), model.safetensors \
            (the best by validation exact accuracy, or the latest without validation) and history.json.
            """)

    @OptionGroup var compute: ComputeOptions
    @Option(help: "Folder with the standard digit files (synthetic cells).")
    var dataRoot: String = ProcessInfo.processInfo.environment["LOGBOOK_DIGITS"] ?? "../shared/data/digits"
    @Option(help: "Truth CSV of real cells (default: archival/meteosaver-dev/truth.csv beside --data-root); repeat to train on several.")
    var truth: [String] = []
    @Option(help: "More labelled cells (e.g. OUT/cells/truth.csv of `logbook review harvest`), each seen --extra-repeats times per epoch; repeatable.")
    var extraTruth: [String] = []
    @Option(help: "Augmented copies per epoch of every --extra-truth cell.") var extraRepeats: Int = 1
    @Option(help: "Start from this cell model's weights (fine-tuning); its architecture replaces --channels, --pools, --hidden, --input.")
    var initial: String?
    @Option(help: "Station whose cells are the test set alone (leave-one-station-out).") var holdoutStation: String?
    @Option(help: "Synthetic cells per epoch (0: real cells only).") var synthetic: Int = 3000
    @Option(help: "Augmented copies of every real training cell per epoch.") var realRepeats: Int = 4
    @Option(help: "Chance that a synthetic cell's 1 or 7 is drawn in its continental form (flagged 1, crossed 7).")
    var continental: Float = 0
    @Option(help: "Share of the real training cells kept for model selection (0: keep the last epoch).") var validationFraction: Double = 0.1
    @Option(help: "Decimals of a value whose cell shows no point.") var decimals: Int = 1
    @Option(help: "Epochs.") var epochs: Int = 12
    @Option(help: "Cells per batch.") var batch: Int = 32
    @Option(help: "Seed for initialisation, splits, synthesis and augmentation.") var seed: UInt64 = 1
    @Option(help: "Peak learning rate (AdamW, warm-up then cosine decay).") var lr: Float = 2e-3
    @Option(help: "Decoupled weight decay.") var weightDecay: Float = 1e-4
    @Option(help: "Convolution channels, comma-separated (one max pool per entry).") var channels: String = "16,32,48,64,96"
    @Option(help: "Pool windows HxW per convolution, comma-separated.") var pools: String = "2x2,2x2,2x1,2x1,2x1"
    @Option(help: "LSTM hidden units (per direction).") var hidden: Int = 64
    @Option(help: "Input height and width, HxW.") var input: String = "32x128"
    @Flag(inversion: .prefixedNo, help: "A second LSTM reading right to left.") var bidirectional = true
    @Option(help: "Run folder for checkpoints, the model and history.") var out: String
    @Flag(help: "Continue the run in --out from its last checkpoint.") var resume = false
    @Flag(help: "Only score --out/model.safetensors on the held-out station (no training).") var scoreOnly = false
    @Option(help: "Write N training inputs of epoch 1 to --out/samples.png (and their targets to samples.txt), then stop.")
    var dumpSamples: Int?

    func modelConfig() throws -> CRNNConfig {
        if let initial { return try CRNN.load(path: initial).config }
        let channelList = channels.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let poolList = pools.split(separator: ",").map { $0.split(separator: "x").compactMap { Int($0) } }
        let size = input.split(separator: "x").compactMap { Int($0) }
        guard size.count == 2 else { throw ValidationError("--input must be HxW, e.g. 32x128") }
        let config = CRNNConfig(inputHeight: size[0], inputWidth: size[1], convChannels: channelList, pools: poolList,
                                lstmHidden: hidden, bidirectional: bidirectional)
        if let problem = config.problem { throw ValidationError("model: \(problem)") }
        return config
    }

    func validate() throws {
        _ = try modelConfig()
        guard epochs >= 1, batch >= 2, lr > 0, synthetic >= 0, realRepeats >= 0, extraRepeats >= 0, decimals >= 0,
              (0...1).contains(continental) else {
            throw ValidationError("--epochs >= 1, --batch >= 2, --lr > 0, --synthetic, --real-repeats, --decimals >= 0, --continental in 0...1 please")
        }
        guard (0..<1).contains(validationFraction) else { throw ValidationError("--validation-fraction must be in [0, 1)") }
    }

    func run() throws {
        compute.apply()
        let truthCSVs = truth.isEmpty ? [URL(fileURLWithPath: dataRoot).deletingLastPathComponent()
            .appendingPathComponent("archival/meteosaver-dev/truth.csv").path] : truth
        var settings = CellSequenceTrainingSettings(
            model: try modelConfig(), epochs: epochs, batchSize: batch, seed: seed, learningRate: lr, weightDecay: weightDecay,
            syntheticPerEpoch: synthetic, realRepeats: realRepeats, holdoutStation: holdoutStation,
            validationFraction: validationFraction, expectedDecimals: decimals)
        settings.initialWeights = initial
        if continental > 0 { settings.continentalProbability = continental }
        var cells = try LabelledCells.load(truthCSV: truthCSVs[0])
        for csv in truthCSVs.dropFirst() { cells = cells.appending(try LabelledCells.load(truthCSV: csv)) }
        for csv in extraTruth {
            var more = try LabelledCells.load(truthCSV: csv)
            more.repeats = Array(repeating: extraRepeats, count: more.count)
            cells = cells.appending(more)
        }
        let parts = try cells.split(holdoutStation: holdoutStation, validationFraction: validationFraction, seed: seed)
        if scoreOnly {
            try scoreHeldOut(modelPath: out + "/model.safetensors", cells: parts.test, elapsed: nil)
            return
        }
        let digits = synthetic > 0 ? try DigitCorpus.standard(seed: 2024, dataRoot: dataRoot).train : nil
        printError("data: \(parts.train.count) real training cells x \(realRepeats), \(synthetic) synthetic per epoch"
                   + " (from \(digits?.count ?? 0) training-split digits), \(parts.validation.count) validation, "
                   + "\(parts.test.count) test" + (holdoutStation.map { " (station \($0))" } ?? ""))
        let trainer = try CellSequenceTrainer(settings: settings, train: parts.train, validation: parts.validation,
                                              test: parts.test, syntheticDigits: digits, runDirectory: out)
        let parameterCount = trainer.model.parameters.reduce(0) { $0 + $1.value.count }
        if let count = dumpSamples {
            let sheet = trainer.sampleSheet(count: count)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try writePNG(sheet.image, to: out + "/samples.png")
            try sheet.texts.joined(separator: "\n").write(toFile: out + "/samples.txt", atomically: true, encoding: .utf8)
            print("wrote \(out)/samples.png and samples.txt (\(sheet.texts.count) inputs, 4 per row)")
            return
        }
        printError("model: CRNN \(settings.model.json), \(parameterCount) parameters, \(settings.model.frames) frames; \(trainer.stepsPerEpoch) steps per epoch")
        var lastPrint = DispatchTime.now().uptimeNanoseconds
        let start = DispatchTime.now().uptimeNanoseconds
        let history = try trainer.run(resume: resume) { event in
            switch event {
            case let .step(epoch, step, steps, loss, milliseconds, learningRate):
                let now = DispatchTime.now().uptimeNanoseconds
                if step == 1 || step == steps || now - lastPrint > 10_000_000_000 {
                    lastPrint = now
                    printError(String(format: "epoch %d step %d/%d: loss %.3f (%.0f ms) lr %.2e", epoch, step, steps, loss, milliseconds, learningRate))
                }
            case let .epochFinished(r, saved):
                func percent(_ v: Double?) -> String { v.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
                printError(String(format: "epoch %d: train loss %.3f | validation exact %@ digits %@ | test exact %@ digits %@ | %.0f s, %.0f cells/s%@",
                                  r.epoch, r.trainLoss, percent(r.validationExact), percent(r.validationDigits),
                                  percent(r.testExact), percent(r.testDigits), r.seconds, r.cellsPerSecond, saved ? " (saved)" : ""))
            case .resumed(let epoch):
                printError("resuming \(out) after epoch \(epoch)")
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard parts.test.count > 0 else {
            print("model \(trainer.bestModelPath); \(history.count) epochs, this session \(formatDuration(elapsed))")
            return
        }
        try scoreHeldOut(modelPath: trainer.bestModelPath, cells: parts.test, elapsed: elapsed)
    }

    /// Reads the held-out cells with the saved model and prints the scores and the flagged-vs-accuracy
    /// curve; writes readings.csv and wrong-cells.png into --out.
    func scoreHeldOut(modelPath: String, cells: LabelledCells, elapsed: Double?) throws {
        let reader = try CellSequenceReader(modelPath: modelPath, settings: CellReaderSettings(defaultDecimals: decimals))
        let t0 = DispatchTime.now().uptimeNanoseconds
        let readings = reader.read(cells: cells.images, columns: cells.truth.map { $0.extra["column"] })
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        var report = CellEvaluation.score(truth: cells.truth, readings: readings, reviewThreshold: reader.settings.reviewThreshold)
        report.readSeconds = seconds
        let scores = report.overall
        print(String(format: "model %@ on %d held-out cells%@: exact values %.2f%% (%d), digits %.2f%% (%d/%d), flagged %.1f%%, unflagged accuracy %.2f%%; %.0f cells/s%@",
                     modelPath, scores.cells, holdoutStation.map { " of station \($0)" } ?? "",
                     scores.exactValueAccuracy * 100, scores.exact, scores.digitAccuracy * 100, scores.digitsCorrect, scores.digitsTotal,
                     scores.flaggedFraction * 100, scores.unflaggedAccuracy * 100, Double(cells.count) / seconds,
                     elapsed.map { "; this session " + formatDuration($0) } ?? ""))
        print("  review threshold -> flagged share, unflagged accuracy:")
        for point in report.curve {
            print(String(format: "    %.3f  %5.1f%%  %6.2f%% (%d cells)", point.threshold, point.flaggedFraction * 100,
                         point.unflaggedAccuracy * 100, point.unflaggedCells))
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try CellEvaluation.readingsCSV(report).write(toFile: out + "/readings.csv", atomically: true, encoding: .utf8)
        _ = try CellEvaluation.writeContactSheet(report, to: out + "/wrong-cells.png")
    }
}
