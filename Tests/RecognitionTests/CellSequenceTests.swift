import Foundation
import Imaging
import NeuralNet
import XCTest
@testable import Recognition

final class CellSequenceTests: RecognitionTestCase {
    private let alphabet = "0123456789.-"
    private func labels(_ text: String) -> [Int] { text.map { Array(alphabet).firstIndex(of: $0)! + 1 } }

    func testTargetAlternativesCoverAnInvisiblePointAndAWrittenZero() {
        XCTAssertEqual(CellSequenceInput.targetAlternatives(value: "28.7", alphabet: alphabet, expectedDecimals: 1),
                       [labels("287"), labels("28.7")])
        XCTAssertEqual(CellSequenceInput.targetAlternatives(value: "20", alphabet: alphabet, expectedDecimals: 1),
                       [labels("20"), labels("200"), labels("20.0")])
        XCTAssertEqual(CellSequenceInput.targetAlternatives(value: "-3,5", alphabet: alphabet, expectedDecimals: nil),
                       [labels("-35"), labels("-3.5")])
        XCTAssertNil(CellSequenceInput.targetAlternatives(value: "1e3", alphabet: alphabet, expectedDecimals: nil))
    }

    func testInputKeepsAspectInkPolarityAndLeftAlignment() {
        var cell = GrayImage(width: 40, height: 20, fill: 1)
        for y in 0..<20 { cell[0, y] = 0; cell[1, y] = 0 }   // a black bar at the left edge
        let (pixels, scale) = CellSequenceInput.pixels(cell: cell, height: 10, width: 30)
        XCTAssertEqual(scale, 0.5, accuracy: 1e-9)
        XCTAssertEqual(pixels[5 * 30 + 0], 1, accuracy: 1e-5, "ink becomes 1")
        XCTAssertEqual(pixels[5 * 30 + 10], 0, accuracy: 1e-5, "paper becomes 0")
        XCTAssertTrue(pixels[(5 * 30 + 20)..<(5 * 30 + 30)].allSatisfy { $0 == 0 }, "padding beyond the scaled 20 columns")
        // A cell wider than the input is squeezed into it.
        XCTAssertEqual(CellSequenceInput.pixels(cell: GrayImage(width: 100, height: 10), height: 10, width: 30).scaleX, 0.3, accuracy: 1e-9)
    }

    /// Per-frame probabilities for `frames` (nil = blank) over the 13 classes.
    private func probabilities(_ frames: [Character?], peak: [Float]? = nil) -> Tensor {
        var data = [Float](repeating: 0, count: frames.count * 13)
        for (t, c) in frames.enumerated() {
            let p = peak?[t] ?? 0.9
            let label = c.map { Array(alphabet).firstIndex(of: $0)! + 1 } ?? 0
            for k in 0..<13 { data[t * 13 + k] = (1 - p) / 12 }
            data[t * 13 + label] = p
        }
        return Tensor(shape: [1, frames.count, 13], data: data)
    }

    private func reader(decimals: Int? = nil) -> CellSequenceReader {
        let config = CRNNConfig(inputHeight: 8, inputWidth: 16, convChannels: [2], pools: [[8, 2]], lstmHidden: 2)
        return CellSequenceReader(model: CRNN(config: config), settings: CellReaderSettings(reviewThreshold: 0.8, defaultDecimals: decimals))
    }

    func testDecodingPlacesTheSeenPointOrTheColumnsDecimals() {
        let cell = GrayImage(width: 32, height: 10)
        let withPoint = reader().decode(probabilities(["2", "2", nil, "8", ".", "7", nil, nil]), row: 0, cell: cell, scaleX: 0.5, column: nil)
        XCTAssertEqual(withPoint.value, "28.7")
        XCTAssertTrue(withPoint.separatorSeen)
        XCTAssertEqual(withPoint.flag, .ok)
        XCTAssertEqual(withPoint.digits.map(\.digit), [2, 8, 7])
        XCTAssertEqual(withPoint.digits[0].box.minX, 0)
        XCTAssertEqual(withPoint.digits[0].box.maxX, 7, "frames 0-1 of 8 over a 32-pixel cell")
        XCTAssertEqual(withPoint.digits[0].alternatives.count, 3)

        let noPoint = reader(decimals: 1).decode(probabilities(["2", nil, "8", "7", nil, nil, nil, nil], peak: [0.9, 0.9, 0.6, 0.9, 0.9, 0.9, 0.9, 0.9]),
                                                 row: 0, cell: cell, scaleX: 0.5, column: nil)
        XCTAssertEqual(noPoint.value, "28.7")
        XCTAssertFalse(noPoint.separatorSeen)
        XCTAssertEqual(noPoint.confidence, 0.6, accuracy: 1e-6)
        XCTAssertEqual(noPoint.flag, .review)

        XCTAssertEqual(reader().decode(probabilities([nil, nil, nil, nil, nil, nil, nil, nil]), row: 0, cell: cell, scaleX: 0.5, column: nil).flag, .empty)
        let twoPoints = reader().decode(probabilities(["1", ".", "2", ".", "3", nil, nil, nil]), row: 0, cell: cell, scaleX: 0.5, column: nil)
        XCTAssertEqual(twoPoints.flag, .unreadable)
        let negative = reader().decode(probabilities(["-", "3", ".", "5", nil, nil, nil, nil]), row: 0, cell: cell, scaleX: 0.5, column: nil)
        XCTAssertEqual(negative.value, "-3.5")
        XCTAssertEqual(negative.flag, .ok)
    }

    func testSyntheticCellsMatchTheirText() {
        let synthesizer = CellSynthesizer(digits: syntheticDataset(perClass: 2))
        var rng = RandomGenerator(seed: 5)
        var sawPoint = false, sawPlain = false
        for _ in 0..<30 {
            let (image, text) = synthesizer.make(rng: &rng)
            XCTAssertTrue((44...71).contains(image.height) && (80...149).contains(image.width))
            XCTAssertNotNil(CellTruth.isTruthValue(text) ? text : nil, "\(text) is a number")
            let digits = text.filter(\.isNumber).count
            XCTAssertTrue((1...4).contains(digits), text)
            XCTAssertTrue(image.pixels.contains { $0 < 0.5 }, "the cell has ink")
            if text.contains(".") { sawPoint = true } else { sawPlain = true }
        }
        XCTAssertTrue(sawPoint && sawPlain)
    }

    /// Two epochs, or one and a resumed second, give the same weights: batches depend on (seed, epoch) only.
    func testTrainingResumesToTheSameModel() throws {
        var settings = CellSequenceTrainingSettings(
            model: CRNNConfig(inputHeight: 8, inputWidth: 16, convChannels: [2], pools: [[8, 2]], lstmHidden: 3),
            epochs: 2, batchSize: 4, seed: 3, syntheticPerEpoch: 6, realRepeats: 1, validationFraction: 0)
        var rng = RandomGenerator(seed: 1)
        let synthesizer = CellSynthesizer(digits: syntheticDataset(perClass: 1))
        let made = (0..<3).map { _ in synthesizer.make(rng: &rng) }
        let cells = LabelledCells(truth: made.map { CellTruth(imagePath: "x.png", value: $0.text, station: "1") }, images: made.map(\.image))
        let digits = syntheticDataset(perClass: 1)
        let straight = try CellSequenceTrainer(settings: settings, train: cells, validation: cells.subset([]), test: cells,
                                               syntheticDigits: digits, runDirectory: path("a"))
        let history = try straight.run()
        XCTAssertEqual(history.count, 2)
        XCTAssertTrue(history.allSatisfy { $0.trainLoss.isFinite && $0.testExact != nil })

        settings.epochs = 1
        _ = try CellSequenceTrainer(settings: settings, train: cells, validation: cells.subset([]), test: cells,
                                    syntheticDigits: digits, runDirectory: path("b")).run()
        settings.epochs = 2
        let resumed = try CellSequenceTrainer(settings: settings, train: cells, validation: cells.subset([]), test: cells,
                                              syntheticDigits: digits, runDirectory: path("b"))
        var events: [String] = []
        _ = try resumed.run(resume: true) { if case .resumed(let e) = $0 { events.append("resumed \(e)") } }
        XCTAssertEqual(events, ["resumed 1"])
        for ((name, a), (_, b)) in zip(straight.model.stateDict(), resumed.model.stateDict()) {
            XCTAssertEqual(a, b, name)
        }
        // The saved model reads cells through the public API.
        let reader = try CellSequenceReader(modelPath: path("b/model.safetensors"))
        XCTAssertEqual(reader.read(cells: cells.images).count, 3)
    }

    /// Each real cell is sampled `realRepeats` times an epoch unless it has repeats of its own
    /// (harvested extra cells); without per-cell repeats the order is the old repeat-major one.
    func testRealSamplesFollowPerCellRepeats() {
        XCTAssertEqual(CellSequenceTrainer.realSampleCells([nil, nil, nil, nil], realRepeats: 2), [0, 1, 2, 3, 0, 1, 2, 3])
        XCTAssertEqual(CellSequenceTrainer.realSampleCells([nil, 1, nil, 0], realRepeats: 3), [0, 1, 2, 0, 2, 0, 2])
    }

    /// Fine-tuning starts from the given model's weights; a model of another architecture is refused.
    func testTrainingStartsFromInitialWeights() throws {
        let config = CRNNConfig(inputHeight: 8, inputWidth: 16, convChannels: [2], pools: [[8, 2]], lstmHidden: 3)
        let start = CRNN(config: config, seed: 77)
        try FileManager.default.createDirectory(atPath: path(""), withIntermediateDirectories: true)
        try start.save(to: path("start.safetensors"))
        var settings = CellSequenceTrainingSettings(model: config, epochs: 1, batchSize: 4, seed: 3, syntheticPerEpoch: 6,
                                                    realRepeats: 0, validationFraction: 0)
        settings.initialWeights = path("start.safetensors")
        let digits = syntheticDataset(perClass: 1)
        let empty = LabelledCells(truth: [], images: [])
        let trainer = try CellSequenceTrainer(settings: settings, train: empty, validation: empty, test: empty,
                                              syntheticDigits: digits, runDirectory: path("ft"))
        for ((name, a), (_, b)) in zip(start.stateDict(), trainer.model.stateDict()) { XCTAssertEqual(a, b, name) }
        XCTAssertNotEqual(CRNN(config: config, seed: 3).stateDict().map(\.tensor), start.stateDict().map(\.tensor))
        settings.model = CRNNConfig(inputHeight: 8, inputWidth: 16, convChannels: [3], pools: [[8, 2]], lstmHidden: 3)
        XCTAssertThrowsError(try CellSequenceTrainer(settings: settings, train: empty, validation: empty, test: empty,
                                                     syntheticDigits: digits, runDirectory: path("bad")))
    }

    func testBestAlternativeLossPicksTheLikelierTarget() {
        var rng = RandomGenerator(seed: 4)
        let logits = Tensor(randomNormal: [2, 6, 4], using: &rng)
        let a = [1, 2], b = [3]
        let la = ctcLoss(logits: logits, targets: [a, a]).sequenceLosses
        let lb = ctcLoss(logits: logits, targets: [b, b]).sequenceLosses
        let both = CellSequenceTrainer.bestAlternativeLoss(logits: logits, alternatives: [[a, b], [b, a]])
        XCTAssertEqual(both.sequenceLosses[0], min(la[0], lb[0]), accuracy: 1e-5)
        XCTAssertEqual(both.sequenceLosses[1], min(la[1], lb[1]), accuracy: 1e-5)
    }
}

/// The shipped whole-cell model loads as the pipeline will load it and still reads the dev cells.
final class ShippedCellModelTests: XCTestCase {
    func testShippedCellModelReadsDevCells() throws {
        let root = ShippedModelTests.repositoryRoot
        let truthCSV = root.appendingPathComponent("../shared/data/archival/meteosaver-dev/truth.csv").standardized.path
        guard FileManager.default.fileExists(atPath: truthCSV) else { throw XCTSkip("../shared/data/archival is absent") }
        Threads.set(2)
        let reader = try CellSequenceReader(modelPath: root.appendingPathComponent("models/logbook-cells.safetensors").path,
                                            settings: CellReaderSettings(defaultDecimals: 1))
        // Every tenth cell keeps the debug build quick. These cells were in its training set, so
        // this guards against a broken file or reader, not a measure of accuracy (see models/README.md).
        let cells = try LabelledCells.load(truthCSV: truthCSV)
        let sample = cells.subset(Array(stride(from: 0, to: cells.count, by: 10)))
        let readings = reader.read(cells: sample.images)
        let report = CellEvaluation.score(truth: sample.truth, readings: readings, reviewThreshold: reader.reviewThreshold)
        XCTAssertGreaterThanOrEqual(report.overall.exactValueAccuracy, 0.9, "\(sample.count) dev cells")

        // Alone and told no decimals, it learns the columns' from the points the digit cutter sees:
        // the network rarely writes a point it was taught may be invisible ("287" for 28.7).
        let columns = sample.truth.map { CellEvaluation.tablePosition($0)?.column }
        let learning = try CellSequenceReader(modelPath: root.appendingPathComponent("models/logbook-cells.safetensors").path)
        let learnt = CellEvaluation.score(truth: sample.truth, readings: learning.read(cells: sample.images, columns: columns),
                                          reviewThreshold: learning.reviewThreshold)
        XCTAssertGreaterThanOrEqual(learnt.overall.exactValueAccuracy, 0.9)
        learning.usesCutterSightings = false
        let blind = CellEvaluation.score(truth: sample.truth, readings: learning.read(cells: sample.images, columns: columns),
                                         reviewThreshold: learning.reviewThreshold)
        XCTAssertLessThan(blind.overall.exactValueAccuracy, 0.5)
    }
}
