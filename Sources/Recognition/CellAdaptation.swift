import Foundation
import NeuralNet

/// Teaches a digit model the hand of cells it has just read. The digits of the cells, labelled
/// with the readings the table checks bear out (their corrections included), fine-tune the model
/// a few steps; the cells are then read again. No transcription is used, so an archive can do this
/// with its own scans: that is how a model trained on other stations meets a new one.
///
/// Why the checked readings and not only the `ok` cells: the checks' corrections are where the
/// model misread this hand (an 8 read as 9 that a total put right), and those are the digits worth
/// learning; a model fine-tuned on the cells it already read surely only grows surer of them
/// (models/README.md, session 15). Why only the readings the checks bear out (`isBorneOut`): a
/// label the arithmetic rejects or doubts teaches the hand its misreadings (session 22).
public enum CellAdaptation {
    public struct Settings: Sendable, Equatable, Codable {
        /// Optimizer steps, whatever the number of digits: a light touch on a large archive, many
        /// passes over a small one.
        public var steps = 64
        public var batchSize = 64
        public var learningRate: Float = 3e-4
        public var weightDecay: Float = 0.05
        public var seed: UInt64 = 1

        public init(steps: Int = 64, batchSize: Int = 64, learningRate: Float = 3e-4, weightDecay: Float = 0.05, seed: UInt64 = 1) {
            self.steps = steps
            self.batchSize = batchSize
            self.learningRate = learningRate
            self.weightDecay = weightDecay
            self.seed = seed
        }

        public var json: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
        }
    }

    /// Fewer digits than this teach a model nothing about a hand but their own noise.
    public static let minimumDigits = 20

    /// The cells of an `evaluate-cells` readings.csv (columns `image`, `reading`, `flag`,
    /// `checks_held`, `checks_broken`, `checks_doubted`, and `station` when present) whose reading teaches
    /// (`isTeachable`), as truth rows with the reading as the value. Relative image
    /// paths are taken from the CSV's folder. Errors name the file and the line.
    public static func readingsAsTruth(csv path: String) throws -> [CellTruth] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DatasetError(path: path, kind: .missingFile, problem: "no such readings CSV")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError(path: path, kind: .unreadable, problem: "cannot read the file")
        }
        let lines = String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
            .map(String.init)
        guard let headerLine = lines.first else { throw DatasetError(path: path, kind: .badRow, problem: "line 1: empty file") }
        let header = CellTruth.splitCSVLine(headerLine)
        guard let imageColumn = header.firstIndex(of: "image"), let readingColumn = header.firstIndex(of: "reading"),
              let flagColumn = header.firstIndex(of: "flag"), let heldColumn = header.firstIndex(of: "checks_held"),
              let brokenColumn = header.firstIndex(of: "checks_broken"), let doubtedColumn = header.firstIndex(of: "checks_doubted") else {
            throw DatasetError(path: path, kind: .badRow,
                               problem: "line 1: header \(header) must name the columns 'image', 'reading', 'flag', 'checks_held', 'checks_broken' and 'checks_doubted' (evaluate-cells' readings.csv)")
        }
        let stationColumn = header.firstIndex(of: "station")
        let folder = (path as NSString).deletingLastPathComponent
        var truth: [CellTruth] = []
        for (offset, line) in lines.enumerated().dropFirst() {
            let fields = CellTruth.splitCSVLine(line)
            guard fields.count == header.count else {
                throw DatasetError(path: path, kind: .badRow, problem: "line \(offset + 1): \(fields.count) columns, the header has \(header.count)")
            }
            let reading = fields[readingColumn]
            let borneOut = isBorneOut(checksHeld: !fields[heldColumn].isEmpty, checksBroken: !fields[brokenColumn].isEmpty,
                                      checksDoubted: !fields[doubtedColumn].isEmpty)
            guard let flag = CellFlag(rawValue: fields[flagColumn]), isTeachable(reading: reading, flag: flag, borneOut: borneOut) else { continue }
            let image = fields[imageColumn]
            let resolved = image.hasPrefix("/") || folder.isEmpty ? image : folder + "/" + image
            truth.append(CellTruth(imagePath: resolved, value: reading, station: stationColumn.map { fields[$0] } ?? ""))
        }
        return truth
    }

    /// Why cells' readings do not adapt a model, or nil when they do: the checks bore out no
    /// cell's reading (`isTeachable`), or too few digits line up with the readings.
    public static func reasonNotToAdapt(teachableCells: Int, digits: Int) -> String? {
        if teachableCells == 0 {
            return "the table's arithmetic bore out no cell read as a number (a check held there, none broke or was left "
                + "in doubt; the checks need the sheet's columns and rows, and not --no-table-checks), and readings "
                + "the checks do not bear out teach the model its own misreadings"
        }
        if digits < minimumDigits {
            return "\(digits) digits line up with the readings of \(teachableCells) checked cells, fewer than \(minimumDigits)"
        }
        return nil
    }

    /// Whether a cell's reading labels its digits: a number, read `ok` or `review`, that the table
    /// checks bear out (`isBorneOut`). Unchecked readings are the model's own,
    /// mistakes included, and learning them only makes it surer of them: leave-one-station-out
    /// without the checks, adapting cut the flags but not the errors, and unflagged accuracy fell
    /// at three stations of four (501: 99.0% -> 94.3%). On pipeline runs, where the checks see part
    /// of a page, the checked cells alone taught better than every reading (the INERA sheet 80.6%
    /// exact against 77.8%; the synthetic sets +15, +2 and +3 cells against +7, -1 and -3).
    public static func isTeachable(reading: String, flag: CellFlag, borneOut: Bool) -> Bool {
        borneOut && (flag == .ok || flag == .review) && CellEvaluation.number(reading) != nil
    }

    /// Whether the table checks bear a cell's reading out: a check held in the cell, and none
    /// broke there or was left in doubt (`CellReading.checksDoubted`: met only by correcting
    /// another cell, a value derived from the arithmetic where no reading of the ink fits, a
    /// writer's confusion read unchecked, an unsettled point). A broken check rejects the
    /// reading or a neighbour's, and a derived value labels ink that may show another number
    /// (508's crops cut a column off). Teaching those too (sessions 20-21) read 508 at 95.4% exact
    /// and 25.3% flagged over six runs; without them 97.2% and 16.5%, and the INERA sheet 81.5%
    /// against 80.2% with 8 points fewer flags (models/README.md, session 22).
    public static func isBorneOut(checksHeld: Bool, checksBroken: Bool, checksDoubted: Bool) -> Bool {
        checksHeld && !checksBroken && !checksDoubted
    }

    /// The evaluated cells whose readings label their digits (`isTeachable`), as truth rows with
    /// the reading as the value; the transcription is not looked at.
    public static func teachableCells(_ results: [CellResult]) -> [CellTruth] {
        results.filter {
            isTeachable(reading: $0.reading.value, flag: $0.reading.flag,
                        borneOut: isBorneOut(checksHeld: !$0.reading.checksHeld.isEmpty,
                                             checksBroken: !$0.reading.checksBroken.isEmpty,
                                             checksDoubted: !$0.reading.checksDoubted.isEmpty))
        }
            .map { CellTruth(imagePath: $0.truth.imagePath, value: $0.reading.value, station: $0.truth.station) }
    }

    /// What a read-adapt-read evaluation did (`evaluate-cells`, adapting by default).
    public struct Summary: Sendable {
        /// Cells whose readings labelled digits, the digits that lined up with them, the settings.
        public var cells: Int
        public var digits: Int
        public var settings: Settings
        public var seconds: Double
        /// The scores of the first reading, before the model was adapted.
        public var firstReading: CellScores

        public init(cells: Int, digits: Int, settings: Settings, seconds: Double, firstReading: CellScores) {
            self.cells = cells
            self.digits = digits
            self.settings = settings
            self.seconds = seconds
            self.firstReading = firstReading
        }
    }

    /// Fine-tunes `model` in place on `digits` for `settings.steps` steps (AdamW, warm-up then
    /// cosine decay, the archival augmentation), reshuffling whenever the digits run out, and keeps
    /// the last step's weights: there is no truth to choose another by. `onStep` hears each step's
    /// number and loss. Reproducible for a seed.
    public static func adapt(_ model: ResNet, on digits: DigitDataset, settings: Settings,
                             onStep: (_ step: Int, _ loss: Float) -> Void = { _, _ in }) throws {
        guard digits.count >= minimumDigits else {
            throw TrainingError(description: "\(digits.count) digits to adapt on, fewer than \(minimumDigits): read more cells first")
        }
        guard settings.steps >= 1, settings.batchSize >= 2, settings.learningRate > 0 else {
            throw TrainingError(description: "adaptation needs steps >= 1, a batch >= 2 and a learning rate > 0")
        }
        let batch = min(settings.batchSize, digits.count)
        let training = TrainingSettings(model: model.config, epochs: 1, batchSize: batch, seed: settings.seed, optimizer: .adamw,
                                        learningRate: settings.learningRate, weightDecay: settings.weightDecay,
                                        augmentation: .archival)
        let optimizer = training.makeOptimizer(for: model.parameters)
        let schedule = LearningRateSchedule.cosine(peak: settings.learningRate, warmupSteps: max(1, settings.steps / 8),
                                                   totalSteps: settings.steps, floor: settings.learningRate * 0.01)
        let computedInputGradient = model.computesInputGradient
        model.computesInputGradient = false
        defer { model.computesInputGradient = computedInputGradient }
        var pass = 0, position = digits.count, order: [Int] = []
        for step in 0..<settings.steps {
            if position + batch > digits.count {
                pass += 1
                var shuffler = RandomGenerator(seed: settings.seed &+ UInt64(pass) &* 0x9E37_79B9)
                order = shuffler.permutation(digits.count)
                position = 0
            }
            let indices = Array(order[position..<(position + batch)])
            position += batch
            optimizer.learningRate = schedule.rate(atStep: step)
            let (loss, _) = try training.step(model, optimizer: optimizer, dataset: digits, indices: indices, epoch: pass,
                                              position: "step \(step + 1)")
            onStep(step + 1, loss.loss)
        }
    }

    /// The model at `path`, adapted on `digits` (`adapt`), with the metadata to store it under: its
    /// temperature (calibrating again would need truth, so the adapted model keeps it), the file it
    /// came from and the settings. `temperature` is nil when the file has none.
    public static func adaptedModel(at path: String, on digits: DigitDataset, settings: Settings,
                                    onStep: (_ step: Int, _ loss: Float) -> Void = { _, _ in }) throws
        -> (model: ResNet, temperature: Float?, metadata: [String: String]) {
        let file = try SafeTensors.read(path: path)
        let model = try ResNet.load(path: path)
        try adapt(model, on: digits, settings: settings, onStep: onStep)
        var metadata = ["logbook.adapted_from": path, "logbook.adaptation": settings.json]
        let temperature = Calibration.temperature(metadata: file.metadata)
        if temperature != nil { metadata[Calibration.temperatureMetadataKey] = file.metadata[Calibration.temperatureMetadataKey] }
        return (model, temperature, metadata)
    }
}
