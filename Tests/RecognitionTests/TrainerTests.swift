import Foundation
import XCTest
import NeuralNet
@testable import Recognition

/// Two easy classes (a horizontal or a vertical bar, at random places) that a tiny network
/// separates in an epoch or two.
func barsDataset(count: Int, seed: UInt64) -> DigitDataset {
    var rng = RandomGenerator(seed: seed)
    var images: [Float] = []
    var labels: [Int] = []
    let side = DigitDataset.side
    for i in 0..<count {
        var image = [Float](repeating: 0, count: side * side)
        let label = i % 2
        let offset = 16 + rng.nextInt(32), start = 8 + rng.nextInt(16), length = 24 + rng.nextInt(16)
        for t in start..<min(side, start + length) {
            for w in 0..<4 {
                let (x, y) = label == 0 ? (t, offset + w - 2) : (offset + w - 2, t)
                image[y * side + x] = 1
            }
        }
        images += image
        labels.append(label)
    }
    return DigitDataset(images: images, labels: labels, origins: (0..<count).map { "bars:\($0)" })
}

final class TrainerTests: XCTestCase {
    private var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "logbook-train-\(UUID().uuidString)"
        Threads.set(2)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func settings(epochs: Int) -> TrainingSettings {
        TrainingSettings(model: ModelConfig(architecture: .resnet18, width: 0.0625, classes: 2), epochs: epochs,
                         batchSize: 16, seed: 5, learningRate: 3e-3, schedule: .constant, augmentation: .none)
    }

    func testLearnsASimpleTaskAndWritesItsFiles() throws {
        let train = barsDataset(count: 96, seed: 1), validation = barsDataset(count: 32, seed: 2)
        let trainer = try Trainer(settings: settings(epochs: 3), train: train, validation: validation, runDirectory: folder)
        var steps = 0
        let history = try trainer.run { if case .step = $0 { steps += 1 } }
        XCTAssertEqual(history.count, 3)
        XCTAssertEqual(steps, 3 * 6)
        XCTAssertLessThan(history.last!.trainLoss, history.first!.trainLoss)
        XCTAssertGreaterThanOrEqual(history.map(\.validationAccuracy).max()!, 0.9)
        for file in ["checkpoint.safetensors", "model.safetensors", "history.json", "settings.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/" + file), file)
        }
        let best = try ResNet.load(path: trainer.bestModelPath)
        let report = Evaluator.evaluate(model: best, dataset: validation)
        XCTAssertEqual(report.accuracy, history.map(\.validationAccuracy).max()!, accuracy: 1e-9,
                       "the saved model is the best epoch's")
        XCTAssertEqual(report.confusion.flatMap { $0 }.reduce(0, +), 32)
    }

    func testResumingGivesTheSameModelAsAnUninterruptedRun() throws {
        let train = barsDataset(count: 64, seed: 3), validation = barsDataset(count: 16, seed: 4)
        let straight = try Trainer(settings: settings(epochs: 2), train: train, validation: validation,
                                   runDirectory: folder + "/straight")
        try straight.run()

        // "Killed" after epoch 1, then resumed with the full number of epochs.
        try Trainer(settings: settings(epochs: 1), train: train, validation: validation, runDirectory: folder + "/resumed").run()
        let resumed = try Trainer(settings: settings(epochs: 2), train: train, validation: validation,
                                  runDirectory: folder + "/resumed")
        var resumedFrom = -1
        try resumed.run(resume: true) { if case .resumed(let epoch) = $0 { resumedFrom = epoch } }
        XCTAssertEqual(resumedFrom, 1)
        XCTAssertEqual(resumed.history.count, 2)
        let a = straight.model.stateDict(), b = resumed.model.stateDict()
        for (x, y) in zip(a, b) { XCTAssertEqual(x.tensor, y.tensor, x.name) }
        XCTAssertEqual(straight.history.map(\.trainLoss), resumed.history.map(\.trainLoss))
    }

    func testRefusesToResumeARunMadeWithOtherSettings() throws {
        let train = barsDataset(count: 32, seed: 3), validation = barsDataset(count: 8, seed: 4)
        try Trainer(settings: settings(epochs: 1), train: train, validation: validation, runDirectory: folder).run()
        var other = settings(epochs: 2)
        other.learningRate = 0.1
        let trainer = try Trainer(settings: other, train: train, validation: validation, runDirectory: folder)
        XCTAssertThrowsError(try trainer.run(resume: true)) { error in
            XCTAssertTrue("\(error)".contains("other settings"), "\(error)")
        }
    }

    func testRefusesDataThatCannotTrain() {
        XCTAssertThrowsError(try Trainer(settings: settings(epochs: 1), train: barsDataset(count: 8, seed: 1),
                                         validation: barsDataset(count: 8, seed: 2), runDirectory: folder)) { error in
            XCTAssertTrue("\(error)".contains("fewer than one batch"), "\(error)")
        }
    }
}
