import Foundation
import NeuralNet

/// Where a training run is, for progress displays.
public struct TrainingProgress: Sendable {
    public var epoch: Int
    public var epochs: Int
    public var step: Int
    public var stepsPerEpoch: Int
    public var loss: Double
    public var accuracy: Double
    public var imagesPerSecond: Double
    /// Seconds left in the whole run at the current speed.
    public var secondsRemaining: Double
    public var learningRate: Double
    public var stepMilliseconds: Double
}

public enum TrainingEvent: Sendable {
    case step(TrainingProgress)
    case epochFinished(EpochRecord, isBest: Bool)
    case resumed(fromEpoch: Int)
}

public struct TrainingError: Error, CustomStringConvertible {
    public var description: String
}

/// Trains a digit model: shuffled, augmented mini-batches; validation after every epoch; a
/// checkpoint (model, optimizer state, history) written atomically after every epoch so a killed
/// run continues with `resume`. Randomness comes from (seed, epoch) only, so a resumed run makes
/// the same batches as an uninterrupted one.
///
/// Files in `runDirectory`: `checkpoint.safetensors` (latest epoch, for resuming), `model.safetensors`
/// (best validation accuracy so far), `history.json`, `settings.json`.
public final class Trainer {
    public let settings: TrainingSettings
    public let train: DigitDataset
    public let validation: DigitDataset
    public let runDirectory: String
    public private(set) var model: ResNet
    public private(set) var history: [EpochRecord] = []
    private let optimizer: Optimizer

    public var checkpointPath: String { runDirectory + "/checkpoint.safetensors" }
    public var bestModelPath: String { runDirectory + "/model.safetensors" }
    public var historyPath: String { runDirectory + "/history.json" }

    /// `initial` starts from existing weights (fine-tuning); its architecture must match `settings.model`.
    public init(settings: TrainingSettings, train: DigitDataset, validation: DigitDataset,
                runDirectory: String, initial: ResNet? = nil) throws {
        guard train.count >= settings.batchSize else {
            throw TrainingError(description: "the training set has \(train.count) images, fewer than one batch of \(settings.batchSize)")
        }
        guard validation.count > 0 else { throw TrainingError(description: "the validation set is empty") }
        if let initial, initial.config != settings.model {
            throw TrainingError(description: "--init model is \(initial.config.architecture.rawValue) width \(initial.config.width), but the run asks for \(settings.model.architecture.rawValue) width \(settings.model.width)")
        }
        self.settings = settings
        self.train = train
        self.validation = validation
        self.runDirectory = runDirectory
        self.model = initial ?? ResNet(config: settings.model, seed: settings.seed)
        model.computesInputGradient = false
        self.optimizer = settings.makeOptimizer(for: model.parameters)
    }

    public var stepsPerEpoch: Int { train.count / settings.batchSize }

    /// Runs the remaining epochs. With `resume`, continues from the checkpoint in the run directory
    /// (which must come from the same settings).
    @discardableResult
    public func run(resume: Bool = false, onEvent: (TrainingEvent) -> Void = { _ in }) throws -> [EpochRecord] {
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        var firstEpoch = 1
        if resume, FileManager.default.fileExists(atPath: checkpointPath) {
            firstEpoch = try restoreCheckpoint() + 1
            onEvent(.resumed(fromEpoch: firstEpoch - 1))
        }
        try writeAtomically(Data(settings.json.utf8), to: runDirectory + "/settings.json")
        let schedule = settings.learningRateSchedule(stepsPerEpoch: stepsPerEpoch)
        let totalSteps = stepsPerEpoch * settings.epochs
        var bestAccuracy = history.map(\.validationAccuracy).max() ?? -1
        let batch = settings.batchSize
        var recentImagesPerSecond = 0.0

        for epoch in stride(from: firstEpoch, through: settings.epochs, by: 1) {
            let epochStart = DispatchTime.now().uptimeNanoseconds
            var shuffler = RandomGenerator(seed: settings.seed &+ UInt64(epoch) &* 0x9E37_79B9)
            let order = shuffler.permutation(train.count)
            var lossSum = 0.0, correct = 0, seen = 0
            for step in 0..<stepsPerEpoch {
                let t0 = DispatchTime.now().uptimeNanoseconds
                let indices = Array(order[(step * batch)..<((step + 1) * batch)])
                let globalStep = (epoch - 1) * stepsPerEpoch + step
                optimizer.learningRate = schedule.rate(atStep: globalStep)
                let targets = indices.map { train.labels[$0] }
                let (loss, logits) = try settings.step(model, optimizer: optimizer, dataset: train, indices: indices, epoch: epoch,
                                                       position: "epoch \(epoch) step \(step + 1)")

                lossSum += Double(loss.loss) * Double(batch)
                correct += zip(logits.argmaxRows(), targets).filter { $0 == $1 }.count
                seen += batch
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                let speed = Double(batch) / seconds
                recentImagesPerSecond = recentImagesPerSecond == 0 ? speed : 0.9 * recentImagesPerSecond + 0.1 * speed
                let stepsLeft = totalSteps - globalStep - 1
                onEvent(.step(TrainingProgress(
                    epoch: epoch, epochs: settings.epochs, step: step + 1, stepsPerEpoch: stepsPerEpoch,
                    loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
                    imagesPerSecond: recentImagesPerSecond,
                    secondsRemaining: Double(stepsLeft * batch) / max(recentImagesPerSecond, 1e-9),
                    learningRate: Double(optimizer.learningRate), stepMilliseconds: seconds * 1000)))
            }
            let validationReport = Evaluator.evaluate(model: model, dataset: validation, lossKind: settings.loss)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - epochStart) / 1e9
            let record = EpochRecord(epoch: epoch, trainLoss: lossSum / Double(max(seen, 1)),
                                     trainAccuracy: Double(correct) / Double(max(seen, 1)),
                                     validationLoss: validationReport.loss, validationAccuracy: validationReport.accuracy,
                                     learningRate: Double(optimizer.learningRate), seconds: elapsed,
                                     imagesPerSecond: Double(seen) / elapsed)
            history.append(record)
            let isBest = record.validationAccuracy > bestAccuracy
            if isBest {
                bestAccuracy = record.validationAccuracy
                try model.save(to: bestModelPath, metadata: ["logbook.epoch": "\(epoch)",
                                                             "logbook.validation_accuracy": "\(record.validationAccuracy)",
                                                             "logbook.training": settings.json])
            }
            try saveCheckpoint(epoch: epoch)
            try writeHistory()
            onEvent(.epochFinished(record, isBest: isBest))
        }
        return history
    }

    private func writeHistory() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(encoder.encode(history), to: historyPath)
    }

    private func saveCheckpoint(epoch: Int) throws {
        var tensors = model.stateDict().map { (name: "model.\($0.name)", tensor: $0.tensor) }
        tensors += optimizer.stateTensors().map { (name: "optimizer.\($0.0)", tensor: $0.1) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let historyJSON = String(decoding: try encoder.encode(history), as: UTF8.self)
        try SafeTensors(tensors: tensors, metadata: [
            "logbook.epoch": "\(epoch)",
            "logbook.training": settings.json,
            "logbook.history": historyJSON,
        ]).write(to: checkpointPath)
    }

    /// Loads the checkpoint and returns the last completed epoch.
    private func restoreCheckpoint() throws -> Int {
        let file = try SafeTensors.read(path: checkpointPath)
        guard let savedSettings = file.metadata["logbook.training"],
              let saved = try? JSONDecoder().decode(TrainingSettings.self, from: Data(savedSettings.utf8)),
              let epochText = file.metadata["logbook.epoch"], let epoch = Int(epochText) else {
            throw TrainingError(description: "\(checkpointPath): not a Logbook training checkpoint")
        }
        var comparable = saved
        comparable.epochs = settings.epochs
        guard comparable == settings else {
            throw TrainingError(description: "\(checkpointPath) was made with other settings (\(saved.json)); use a new --out folder or the same options")
        }
        var modelTensors: [String: Tensor] = [:]
        var optimizerTensors: [String: Tensor] = [:]
        for (name, tensor) in file.tensors {
            if name.hasPrefix("model.") { modelTensors[String(name.dropFirst(6))] = tensor }
            if name.hasPrefix("optimizer.") { optimizerTensors[String(name.dropFirst(10))] = tensor }
        }
        try model.load(stateDict: modelTensors, source: checkpointPath)
        do {
            try optimizer.loadState(optimizerTensors)
        } catch {
            throw TrainingError(description: "\(checkpointPath): \(error)")
        }
        history = (file.metadata["logbook.history"].flatMap { try? JSONDecoder().decode([EpochRecord].self, from: Data($0.utf8)) }) ?? []
        return epoch
    }
}
