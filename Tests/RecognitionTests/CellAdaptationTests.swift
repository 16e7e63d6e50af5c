import Foundation
import XCTest
import NeuralNet
@testable import Recognition

/// `CellAdaptation`: a digit model fine-tuned on the digits of cells it read, labelled with the
/// checked readings.
final class CellAdaptationTests: RecognitionTestCase {
    /// A reading; `checks` names the checks that held there ("" for none), `broken` those that broke,
    /// `doubted` what they left in doubt.
    private func reading(_ value: String, _ flag: CellFlag, checks: String = "total", broken: String = "",
                         doubted: String = "") -> CellReading {
        let digits = value.compactMap(\.wholeNumberValue).map {
            DigitReading(digit: $0, probability: 0.95, alternatives: [.init(digit: $0, probability: 0.95)],
                         box: .init(minX: 0, minY: 0, maxX: 1, maxY: 1))
        }
        var reading = CellReading(value: value, digits: digits, separatorAfter: nil, separatorSeen: false, confidence: 0.95, flag: flag)
        reading.checksHeld = checks.isEmpty ? [] : [checks]
        reading.checksBroken = broken.isEmpty ? [] : [broken]
        reading.checksDoubted = doubted.isEmpty ? [] : [doubted]
        return reading
    }

    /// Which cells label their digits: numbers read `ok` or `review` (a checks' correction is
    /// `review` and is the point) that the table checks bear out (a check held, none broke or was
    /// left in doubt), never `unreadable`, `empty`, unchecked, broken or doubted (a derived value),
    /// or a reading that is no number; the reading is the label,
    /// whatever the transcription says. The same from the results and from the readings.csv that
    /// evaluate-cells writes, where a relative image path is the CSV's folder's.
    func testTheCheckedReadingsOfNumbersLabelTheDigitsAndNothingElse() throws {
        let truth = [CellTruth(imagePath: "cells/a.png", value: "28.7", station: "508"),
                     CellTruth(imagePath: "/abs/b.png", value: "29.5", station: "508"),
                     CellTruth(imagePath: "cells/c.png", value: "17.6", station: "508"),
                     CellTruth(imagePath: "cells/d.png", value: "", station: "508"),
                     CellTruth(imagePath: "cells/e.png", value: "31.0", station: "508"),
                     CellTruth(imagePath: "cells/f,g.png", value: "12.0", station: "508"),
                     CellTruth(imagePath: "cells/h.png", value: "14.2", station: "508"),
                     CellTruth(imagePath: "cells/i.png", value: "33.1", station: "508"),
                     CellTruth(imagePath: "cells/j.png", value: "19.9", station: "508"),
                     CellTruth(imagePath: "cells/k.png", value: "23.8", station: "508"),
                     CellTruth(imagePath: "cells/l.png", value: "25.6", station: "508"),
                     CellTruth(imagePath: "cells/m.png", value: "18.8", station: "508")]
        let readings = [reading("28.7", .ok), reading("29.5", .review), reading("", .unreadable), reading("", .empty),
                        reading("3?.0", .review), reading("12.0", .ok), reading("14.2", .ok, checks: ""),
                        reading("33.1", .review, checks: ""), reading("19.9", .review, checks: "", broken: "midrange"),
                        reading("23.8", .ok, checks: "mean", broken: "midrange"), reading("25.6", .review, doubted: "derived"),
                        reading("18.8", .review, checks: "total midrange")]
        let report = CellEvaluation.score(truth: truth, readings: readings, reviewThreshold: 0.9)
        let fromResults = CellAdaptation.teachableCells(report.results)
        XCTAssertEqual(fromResults.map(\.imagePath), ["cells/a.png", "/abs/b.png", "cells/f,g.png", "cells/m.png"])
        XCTAssertEqual(fromResults.map(\.value), ["28.7", "29.5", "12.0", "18.8"])
        XCTAssertEqual(fromResults.map(\.station), ["508", "508", "508", "508"])

        // Readings, not the transcription, label the digits: 28.7 read 28.1 teaches 28.1.
        let misread = CellEvaluation.score(truth: [truth[0]], readings: [reading("28.1", .review)], reviewThreshold: 0.9)
        XCTAssertEqual(CellAdaptation.teachableCells(misread.results).map(\.value), ["28.1"])

        try FileManager.default.createDirectory(atPath: path("run"), withIntermediateDirectories: true)
        try CellEvaluation.readingsCSV(report).write(toFile: path("run/readings.csv"), atomically: true, encoding: .utf8)
        let fromCSV = try CellAdaptation.readingsAsTruth(csv: path("run/readings.csv"))
        XCTAssertEqual(fromCSV.map(\.imagePath), [path("run/cells/a.png"), "/abs/b.png", path("run/cells/f,g.png"), path("run/cells/m.png")])
        XCTAssertEqual(fromCSV.map(\.value), fromResults.map(\.value))

        try "image,value\na.png,1\n".write(toFile: path("truth.csv"), atomically: true, encoding: .utf8)
        let error = datasetError { _ = try CellAdaptation.readingsAsTruth(csv: self.path("truth.csv")) }
        XCTAssertEqual(error?.path, path("truth.csv"))
        XCTAssertTrue(error?.problem.contains("'reading'") ?? false, error?.description ?? "")
        try "image,reading,flag\na.png,1.0,ok\n".write(toFile: path("unchecked.csv"), atomically: true, encoding: .utf8)
        XCTAssertTrue(datasetError { _ = try CellAdaptation.readingsAsTruth(csv: self.path("unchecked.csv")) }?.problem
            .contains("'checks_held'") ?? false, "a readings file without the checks' columns is refused")
        try "image,reading,flag,checks_held,checks_broken\na.png,1.0,ok,total,\n".write(toFile: path("undoubted.csv"), atomically: true, encoding: .utf8)
        XCTAssertTrue(datasetError { _ = try CellAdaptation.readingsAsTruth(csv: self.path("undoubted.csv")) }?.problem
            .contains("'checks_doubted'") ?? false, "a readings file without the doubts' column is refused")
        try "image,reading,flag,checks_held,checks_broken,checks_doubted\na.png,1.0,ok,total,,,extra\n".write(toFile: path("short.csv"), atomically: true, encoding: .utf8)
        XCTAssertTrue(datasetError { _ = try CellAdaptation.readingsAsTruth(csv: self.path("short.csv")) }?.problem
            .hasPrefix("line 2") ?? false)
    }

    /// Why readings do not adapt a model: the checks bore none out, or too few digits; nil otherwise.
    func testAdaptationNeedsCheckedCellsAndEnoughDigits() {
        XCTAssertTrue(CellAdaptation.reasonNotToAdapt(teachableCells: 0, digits: 0)?.contains("bore out no cell") ?? false)
        let few = CellAdaptation.reasonNotToAdapt(teachableCells: 6, digits: CellAdaptation.minimumDigits - 1)
        XCTAssertTrue(few?.contains("fewer than \(CellAdaptation.minimumDigits)") ?? false, few ?? "nil")
        XCTAssertNil(CellAdaptation.reasonNotToAdapt(teachableCells: 7, digits: CellAdaptation.minimumDigits))
    }

    /// The model learns the labels it is given, also where they go against what it read: a network
    /// that reads a new hand at chance reads it after adaptation, the loss falls, and the same
    /// seed gives the same weights.
    func testAdaptationTeachesTheLabelsAndIsReproducible() throws {
        Threads.set(2)
        let config = ModelConfig(architecture: .resnet18, width: 0.0625, classes: 2)
        let hand = barsDataset(count: 64, seed: 11), unseen = barsDataset(count: 64, seed: 12)
        let start = ResNet(config: config, seed: 4)
        let before = Evaluator.evaluate(model: start, dataset: unseen).accuracy
        let adapted = ResNet(config: config, seed: 4)
        adapted.computesInputGradient = true
        var losses: [Float] = []
        let settings = CellAdaptation.Settings(steps: 48, batchSize: 16, learningRate: 3e-3, seed: 7)
        try CellAdaptation.adapt(adapted, on: hand, settings: settings) { _, loss in losses.append(loss) }
        XCTAssertEqual(losses.count, 48)
        XCTAssertTrue(adapted.computesInputGradient, "the model's input-gradient setting is restored")
        let after = Evaluator.evaluate(model: adapted, dataset: unseen).accuracy
        XCTAssertLessThan(before, 0.75, "the start reads the bars near chance")
        XCTAssertGreaterThanOrEqual(after, 0.9, "before \(before)")
        XCTAssertLessThan(losses.suffix(8).reduce(0, +), losses.prefix(8).reduce(0, +))

        // Labels swapped: what the hand means comes from the labels, not from the model's own reading.
        let swapped = DigitDataset(images: hand.images, labels: hand.labels.map { 1 - $0 }, origins: hand.origins)
        let taught = ResNet(config: config, seed: 4)
        try CellAdaptation.adapt(taught, on: swapped, settings: settings)
        XCTAssertLessThanOrEqual(Evaluator.evaluate(model: taught, dataset: unseen).accuracy, 0.1)

        let again = ResNet(config: config, seed: 4)
        try CellAdaptation.adapt(again, on: swapped, settings: settings)
        for ((name, a), (_, b)) in zip(taught.stateDict(), again.stateDict()) {
            XCTAssertEqual(a.data, b.data, "\(name) differs between two runs with one seed")
        }
    }

    /// Too few digits, or settings that cannot train, are refused before the model is touched.
    func testTooFewDigitsAreRefusedAndTheModelIsLeftAlone() throws {
        let model = ResNet(config: ModelConfig(architecture: .resnet18, width: 0.0625, classes: 2), seed: 4)
        let weights = model.stateDict().map(\.tensor.data)
        let few = barsDataset(count: CellAdaptation.minimumDigits - 1, seed: 1)
        XCTAssertThrowsError(try CellAdaptation.adapt(model, on: few, settings: .init())) { error in
            XCTAssertTrue("\(error)".contains("fewer than \(CellAdaptation.minimumDigits)"), "\(error)")
        }
        XCTAssertThrowsError(try CellAdaptation.adapt(model, on: barsDataset(count: 40, seed: 1), settings: .init(steps: 0)))
        XCTAssertEqual(model.stateDict().map(\.tensor.data), weights)
    }
}
