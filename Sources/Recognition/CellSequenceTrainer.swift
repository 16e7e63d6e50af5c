import Foundation
import Imaging
import NeuralNet

/// Everything that decides a cell-sequence training run; saved with its checkpoints so `--resume`
/// continues the same run.
public struct CellSequenceTrainingSettings: Codable, Equatable, Sendable {
    public var model: CRNNConfig
    public var epochs: Int
    public var batchSize: Int
    public var seed: UInt64
    public var learningRate: Float
    public var weightDecay: Float
    /// Synthetic cells per epoch (fresh ones every epoch).
    public var syntheticPerEpoch: Int
    /// Augmented copies of every real training cell per epoch.
    public var realRepeats: Int
    /// The station held out as the test set (leave-one-station-out), or nil.
    public var holdoutStation: String?
    /// Share of the remaining real cells kept for validation (model selection); 0 keeps the last epoch.
    public var validationFraction: Double
    /// Decimals a value has when the cell shows no point (the target alternatives and the reading).
    public var expectedDecimals: Int
    /// Gradients are scaled down when their global L2 norm exceeds this.
    public var clipNorm: Float
    /// A model file to start from (fine-tuning) instead of a fresh initialisation; its
    /// architecture must be `model`.
    public var initialWeights: String?
    /// Chance that a synthetic cell's 1 or 7 is drawn in its continental form (`ContinentalDigits`);
    /// nil (settings of earlier runs) means never.
    public var continentalProbability: Float?

    public init(model: CRNNConfig = CRNNConfig(), epochs: Int = 12, batchSize: Int = 32, seed: UInt64 = 1,
                learningRate: Float = 2e-3, weightDecay: Float = 1e-4, syntheticPerEpoch: Int = 3000,
                realRepeats: Int = 4, holdoutStation: String? = nil, validationFraction: Double = 0.1,
                expectedDecimals: Int = 1, clipNorm: Float = 5) {
        self.model = model
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.syntheticPerEpoch = syntheticPerEpoch
        self.realRepeats = realRepeats
        self.holdoutStation = holdoutStation
        self.validationFraction = validationFraction
        self.expectedDecimals = expectedDecimals
        self.clipNorm = clipNorm
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// Real transcribed cells, loaded.
public struct LabelledCells: Sendable {
    public var truth: [CellTruth]
    public var images: [GrayImage]
    /// Augmented copies of each cell per epoch; nil: the run's `realRepeats` (a large harvest of
    /// synthetic pages can be seen once per epoch while the few archival cells are seen four times).
    public var repeats: [Int?]

    public init(truth: [CellTruth], images: [GrayImage], repeats: [Int?]? = nil) {
        precondition(truth.count == images.count, "LabelledCells: \(images.count) images for \(truth.count) cells")
        precondition(repeats == nil || repeats!.count == truth.count, "LabelledCells: \(repeats!.count) repeats for \(truth.count) cells")
        self.truth = truth
        self.images = images
        self.repeats = repeats ?? Array(repeating: nil, count: truth.count)
    }

    /// These cells followed by `other`'s.
    public func appending(_ other: LabelledCells) -> LabelledCells {
        LabelledCells(truth: truth + other.truth, images: images + other.images, repeats: repeats + other.repeats)
    }

    public static func load(truthCSV: String) throws -> LabelledCells {
        // A blank or unreadable transcription ("", "NA") teaches the sequence nothing: left out.
        let truth = try CellTruth.readTruth(csv: truthCSV, anyValue: true).filter { CellTruth.isTruthValue($0.value) }
        let images = try truth.map { cell -> GrayImage in
            guard FileManager.default.fileExists(atPath: cell.imagePath) else {
                throw DatasetError(path: cell.imagePath, kind: .missingFile, problem: "no such cell image (listed in \(truthCSV))")
            }
            do { return try ArchivalCells.loadCellCrop(at: cell.imagePath) } catch {
                throw DatasetError(path: cell.imagePath, kind: .badImage, problem: "cannot decode the cell image: \(error)")
            }
        }
        return LabelledCells(truth: truth, images: images)
    }

    public var count: Int { truth.count }

    public func subset(_ indices: [Int]) -> LabelledCells {
        LabelledCells(truth: indices.map { truth[$0] }, images: indices.map { images[$0] }, repeats: indices.map { repeats[$0] })
    }

    /// Train, validation and test parts: with `holdoutStation` the test part is that station's
    /// cells and the rest is split by `validationFraction`; otherwise the test part is empty.
    public func split(holdoutStation: String?, validationFraction: Double, seed: UInt64) throws
        -> (train: LabelledCells, validation: LabelledCells, test: LabelledCells) {
        var rest = Array(0..<count), test: [Int] = []
        if let station = holdoutStation {
            test = rest.filter { truth[$0].station == station }
            guard !test.isEmpty else {
                throw DatasetError(path: "--holdout-station", kind: .unknownSource,
                                   problem: "no cells of station \(station) (stations: \(Set(truth.map(\.station)).sorted().joined(separator: ", ")))")
            }
            rest = rest.filter { truth[$0].station != station }
        }
        var rng = RandomGenerator(seed: seed &+ 0xC311)
        let order = rng.permutation(rest.count).map { rest[$0] }
        let validationCount = Int((Double(rest.count) * validationFraction).rounded())
        return (subset(Array(order[validationCount...]).sorted()), subset(Array(order[..<validationCount]).sorted()), subset(test))
    }
}

/// One epoch of a cell-sequence run.
public struct CellSequenceEpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var validationExact: Double?
    public var validationDigits: Double?
    public var testExact: Double?
    public var testDigits: Double?
    public var learningRate: Double
    public var seconds: Double
    public var cellsPerSecond: Double
}

public enum CellSequenceTrainingEvent: Sendable {
    case step(epoch: Int, step: Int, steps: Int, loss: Double, milliseconds: Double, learningRate: Double)
    case epochFinished(CellSequenceEpochRecord, saved: Bool)
    case resumed(fromEpoch: Int)
}

/// Trains a CRNN with CTC on real cells (augmented, `realRepeats` copies per epoch) and synthetic
/// cells. Each sample's input comes from (seed, epoch, sample) alone, so a resumed run makes the
/// same batches as an uninterrupted one. Files in `runDirectory`: `checkpoint.safetensors`
/// (latest epoch with optimizer state), `model.safetensors` (best validation exact accuracy; the
/// latest epoch without validation), `history.json`, `settings.json`.
public final class CellSequenceTrainer {
    public let settings: CellSequenceTrainingSettings
    public let train: LabelledCells
    public let validation: LabelledCells
    public let test: LabelledCells
    public let synthesizer: CellSynthesizer?
    public let runDirectory: String
    public let model: CRNN
    public private(set) var history: [CellSequenceEpochRecord] = []
    private let optimizer: Adam
    private let trainTargets: [[[Int]]]
    private let realSampleCells: [Int]

    public var checkpointPath: String { runDirectory + "/checkpoint.safetensors" }
    public var bestModelPath: String { runDirectory + "/model.safetensors" }

    public init(settings: CellSequenceTrainingSettings, train: LabelledCells, validation: LabelledCells,
                test: LabelledCells, syntheticDigits: DigitDataset?, runDirectory: String) throws {
        if let problem = settings.model.problem { throw TrainingError(description: "model: \(problem)") }
        guard settings.syntheticPerEpoch == 0 || !(syntheticDigits?.isEmpty ?? true) else {
            throw TrainingError(description: "--synthetic needs digit images to compose cells from")
        }
        self.settings = settings
        self.train = train
        self.validation = validation
        self.test = test
        self.synthesizer = settings.syntheticPerEpoch > 0 ? syntheticDigits.map { digits in
            var synthesizer = CellSynthesizer(digits: digits)
            synthesizer.continentalProbability = settings.continentalProbability ?? 0
            return synthesizer
        } : nil
        self.runDirectory = runDirectory
        self.model = CRNN(config: settings.model, seed: settings.seed)
        if let path = settings.initialWeights {
            let start = try CRNN.load(path: path)
            guard start.config == settings.model else {
                throw TrainingError(description: "\(path): its CRNN (\(start.config.json)) is not the one being trained (\(settings.model.json))")
            }
            try model.load(stateDict: Dictionary(uniqueKeysWithValues: start.stateDict().map { ($0.name, $0.tensor) }), source: path)
        }
        model.computesInputGradient = false
        optimizer = Adam(parameters: model.parameters, lr: settings.learningRate, weightDecay: settings.weightDecay, decoupled: true)
        var targets: [[[Int]]] = []
        for cell in train.truth {
            guard let alternatives = CellSequenceInput.targetAlternatives(value: cell.value, alphabet: settings.model.alphabet,
                                                                          expectedDecimals: settings.expectedDecimals) else {
                throw TrainingError(description: "\(cell.imagePath): value '\(cell.value)' has characters outside '\(settings.model.alphabet)'")
            }
            targets.append(alternatives)
        }
        trainTargets = targets
        realSampleCells = CellSequenceTrainer.realSampleCells(train.repeats, realRepeats: settings.realRepeats)
        guard samplesPerEpoch >= settings.batchSize else {
            throw TrainingError(description: "\(samplesPerEpoch) samples per epoch, fewer than one batch of \(settings.batchSize)")
        }
    }

    /// The real cell behind each real sample of an epoch: every cell `realRepeats` times unless it
    /// has repeats of its own (`LabelledCells.repeats`). Repeat-major order.
    static func realSampleCells(_ repeats: [Int?], realRepeats: Int) -> [Int] {
        let counts = repeats.map { $0 ?? realRepeats }
        var cells: [Int] = []
        for repeatIndex in 0..<(counts.max() ?? 0) {
            for (cell, count) in counts.enumerated() where repeatIndex < count { cells.append(cell) }
        }
        return cells
    }

    public var samplesPerEpoch: Int { realSampleCells.count + (synthesizer == nil ? 0 : settings.syntheticPerEpoch) }
    public var stepsPerEpoch: Int { samplesPerEpoch / settings.batchSize }

    /// The input and target alternatives of sample `index` of `epoch` (real cells first, then synthetic).
    func sample(_ index: Int, epoch: Int) -> (pixels: [Float], targets: [[Int]]) {
        let (height, width) = (settings.model.inputHeight, settings.model.inputWidth)
        var rng = RandomGenerator(seed: DigitAugmenter.mix64(settings.seed ^ DigitAugmenter.mix64(UInt64(epoch) &* 0x1_0000_0001 &+ UInt64(index))))
        let realSamples = realSampleCells.count
        var pixels: [Float]
        let targets: [[Int]]
        if index < realSamples {
            let cell = realSampleCells[index]
            let image = CellSequenceAugmenter.jitterCrop(train.images[cell], fraction: 0.06, rng: &rng)
            pixels = CellSequenceInput.pixels(cell: image, height: height, width: width).pixels
            targets = trainTargets[cell]
        } else {
            let made = synthesizer!.make(rng: &rng)
            pixels = CellSequenceInput.pixels(cell: made.image, height: height, width: width).pixels
            guard let encoded = CellSequenceInput.targetAlternatives(value: made.text, alphabet: settings.model.alphabet,
                                                                     expectedDecimals: nil) else {
                preconditionFailure("synthetic text \(made.text) outside the alphabet")
            }
            // The drawn text exactly: with its point when one was drawn, without otherwise.
            targets = [made.text.contains(".") ? encoded.last! : encoded[0]]
        }
        CellSequenceAugmenter.roughen(&pixels, width: width, height: height, rng: &rng)
        return (pixels, targets)
    }

    /// The first `count` inputs of `epoch`'s order as one paper-polarity image (rows of inputs)
    /// and their targets as text, to look at what the network is shown.
    public func sampleSheet(count: Int, epoch: Int = 1) -> (image: GrayImage, texts: [String]) {
        let (height, width) = (settings.model.inputHeight, settings.model.inputWidth)
        var shuffler = RandomGenerator(seed: settings.seed &+ UInt64(epoch) &* 0x9E37_79B9)
        let order = shuffler.permutation(samplesPerEpoch)
        let columns = 4, rows = (count + columns - 1) / columns
        var sheet = GrayImage(width: columns * (width + 4), height: rows * (height + 4), fill: 0.5)
        let alphabet = Array(settings.model.alphabet)
        var texts: [String] = []
        for k in 0..<min(count, order.count) {
            let made = sample(order[k], epoch: epoch)
            let (ox, oy) = ((k % columns) * (width + 4), (k / columns) * (height + 4))
            for y in 0..<height { for x in 0..<width { sheet[ox + x, oy + y] = 1 - made.pixels[y * width + x] } }
            texts.append(made.targets.map { String($0.map { alphabet[$0 - 1] }) }.joined(separator: "|"))
        }
        return (sheet, texts)
    }

    /// Runs the remaining epochs; with `resume`, continues from the checkpoint in `runDirectory`.
    @discardableResult
    public func run(resume: Bool = false, onEvent: (CellSequenceTrainingEvent) -> Void = { _ in }) throws -> [CellSequenceEpochRecord] {
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        var firstEpoch = 1
        if resume, FileManager.default.fileExists(atPath: checkpointPath) {
            firstEpoch = try restoreCheckpoint() + 1
            onEvent(.resumed(fromEpoch: firstEpoch - 1))
        }
        try writeAtomically(Data(settings.json.utf8), to: runDirectory + "/settings.json")
        let steps = stepsPerEpoch
        let schedule = LearningRateSchedule.cosine(peak: settings.learningRate, warmupSteps: min(200, steps),
                                                   totalSteps: steps * settings.epochs, floor: settings.learningRate * 0.02)
        let (height, width) = (settings.model.inputHeight, settings.model.inputWidth)
        let pixels = height * width
        let batch = settings.batchSize
        var best = history.compactMap(\.validationExact).max() ?? -1

        for epoch in stride(from: firstEpoch, through: settings.epochs, by: 1) {
            let epochStart = DispatchTime.now().uptimeNanoseconds
            var shuffler = RandomGenerator(seed: settings.seed &+ UInt64(epoch) &* 0x9E37_79B9)
            let order = shuffler.permutation(samplesPerEpoch)
            var lossSum = 0.0
            for step in 0..<steps {
                let t0 = DispatchTime.now().uptimeNanoseconds
                optimizer.learningRate = schedule.rate(atStep: (epoch - 1) * steps + step)
                let indices = Array(order[(step * batch)..<((step + 1) * batch)])
                var input = [Float](repeating: 0, count: batch * pixels)
                var alternatives = [[[Int]]](repeating: [], count: batch)
                input.withUnsafeMutableBufferPointer { buffer in
                    alternatives.withUnsafeMutableBufferPointer { targetBuffer in
                        Threads.forEachChunk(batch, minimumPerChunk: 4) { range in
                            for row in range {
                                let made = sample(indices[row], epoch: epoch)
                                for i in 0..<pixels { buffer[row * pixels + i] = made.pixels[i] }
                                targetBuffer[row] = made.targets
                            }
                        }
                    }
                }
                optimizer.zeroGrad()
                let logits = model.forward(Tensor(shape: [batch, 1, height, width], data: input), training: true)
                let loss = CellSequenceTrainer.bestAlternativeLoss(logits: logits, alternatives: alternatives)
                guard loss.loss.isFinite else {
                    throw TrainingError(description: "loss became \(loss.loss) at epoch \(epoch) step \(step + 1); lower the learning rate")
                }
                _ = model.backward(loss.gradient)
                clipGradients()
                optimizer.step()
                lossSum += Double(loss.loss)
                onEvent(.step(epoch: epoch, step: step + 1, steps: steps, loss: Double(loss.loss),
                              milliseconds: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6,
                              learningRate: Double(optimizer.learningRate)))
            }
            let trainSeconds = Double(DispatchTime.now().uptimeNanoseconds - epochStart) / 1e9
            let validationScores = validation.count > 0 ? evaluate(validation) : nil
            let testScores = test.count > 0 ? evaluate(test) : nil
            let record = CellSequenceEpochRecord(
                epoch: epoch, trainLoss: lossSum / Double(max(1, steps)),
                validationExact: validationScores?.exactValueAccuracy, validationDigits: validationScores?.digitAccuracy,
                testExact: testScores?.exactValueAccuracy, testDigits: testScores?.digitAccuracy,
                learningRate: Double(optimizer.learningRate),
                seconds: Double(DispatchTime.now().uptimeNanoseconds - epochStart) / 1e9,
                cellsPerSecond: Double(steps * batch) / trainSeconds)
            history.append(record)
            var saved = false
            let score = record.validationExact ?? Double(epoch)
            if validationScores == nil || score >= best {
                best = score
                saved = true
                try model.save(to: bestModelPath, metadata: ["logbook.epoch": "\(epoch)", "logbook.training": settings.json])
            }
            try saveCheckpoint(epoch: epoch)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(encoder.encode(history), to: runDirectory + "/history.json")
            onEvent(.epochFinished(record, saved: saved))
        }
        return history
    }

    /// Scores of the current model on real cells, read with the column decimals of the settings.
    public func evaluate(_ cells: LabelledCells) -> CellScores {
        let reader = CellSequenceReader(model: model, settings: CellReaderSettings(defaultDecimals: settings.expectedDecimals, batchSize: 64))
        let readings = reader.read(cells: cells.images, columns: nil)
        return CellEvaluation.score(truth: cells.truth, readings: readings, reviewThreshold: reader.settings.reviewThreshold).overall
    }

    /// CTC against the most likely of each sample's target alternatives (the smallest loss), with
    /// the gradient of that choice.
    public static func bestAlternativeLoss(logits: Tensor, alternatives: [[[Int]]]) -> CTCLossResult {
        var chosen = alternatives.map { $0[0] }
        let most = alternatives.map(\.count).max() ?? 1
        if most > 1 {
            var bestLoss = ctcLoss(logits: logits, targets: chosen).sequenceLosses
            for k in 1..<most {
                let candidate = alternatives.map { $0[min(k, $0.count - 1)] }
                let losses = ctcLoss(logits: logits, targets: candidate).sequenceLosses
                for i in chosen.indices where losses[i] < bestLoss[i] {
                    bestLoss[i] = losses[i]
                    chosen[i] = candidate[i]
                }
            }
        }
        return ctcLoss(logits: logits, targets: chosen)
    }

    private func clipGradients() {
        var total: Double = 0
        for p in model.parameters { for g in p.grad.data { total += Double(g) * Double(g) } }
        let norm = Float(total.squareRoot())
        guard norm > settings.clipNorm, norm.isFinite else { return }
        let scale = settings.clipNorm / norm
        for p in model.parameters {
            p.grad.data.withUnsafeMutableBufferPointer { g in for i in g.indices { g[i] *= scale } }
        }
    }

    private func saveCheckpoint(epoch: Int) throws {
        var tensors = model.stateDict().map { (name: "model.\($0.name)", tensor: $0.tensor) }
        tensors += optimizer.stateTensors().map { (name: "optimizer.\($0.0)", tensor: $0.1) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try SafeTensors(tensors: tensors, metadata: [
            "logbook.epoch": "\(epoch)", "logbook.training": settings.json,
            "logbook.history": String(decoding: try encoder.encode(history), as: UTF8.self),
        ]).write(to: checkpointPath)
    }

    private func restoreCheckpoint() throws -> Int {
        let file = try SafeTensors.read(path: checkpointPath)
        guard let text = file.metadata["logbook.training"],
              let saved = try? JSONDecoder().decode(CellSequenceTrainingSettings.self, from: Data(text.utf8)),
              let epoch = file.metadata["logbook.epoch"].flatMap(Int.init) else {
            throw TrainingError(description: "\(checkpointPath): not a Logbook cell-sequence checkpoint")
        }
        var comparable = saved
        comparable.epochs = settings.epochs
        guard comparable == settings else {
            throw TrainingError(description: "\(checkpointPath) was made with other settings (\(saved.json)); use a new --out folder or the same options")
        }
        var modelTensors: [String: Tensor] = [:], optimizerTensors: [String: Tensor] = [:]
        for (name, tensor) in file.tensors {
            if name.hasPrefix("model.") { modelTensors[String(name.dropFirst(6))] = tensor }
            if name.hasPrefix("optimizer.") { optimizerTensors[String(name.dropFirst(10))] = tensor }
        }
        try model.load(stateDict: modelTensors, source: checkpointPath)
        do { try optimizer.loadState(optimizerTensors) } catch { throw TrainingError(description: "\(checkpointPath): \(error)") }
        history = file.metadata["logbook.history"].flatMap { try? JSONDecoder().decode([CellSequenceEpochRecord].self, from: Data($0.utf8)) } ?? []
        return epoch
    }
}
