import Foundation
import XCTest
import Imaging
import NeuralNet
@testable import Recognition

final class EvaluatorTests: XCTestCase {
    private var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "logbook-eval-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func testConfusionMatrixCountsEveryImageAndWritesCSVAndPNG() throws {
        let model = ResNet(config: ModelConfig(architecture: .resnet18, width: 0.0625, classes: 2), seed: 1)
        let data = barsDataset(count: 20, seed: 9)
        let report = Evaluator.evaluate(model: model, dataset: data, batchSize: 8)
        XCTAssertEqual(report.count, 20)
        XCTAssertEqual(report.predictions.count, 20)
        XCTAssertEqual(report.confusion.map { $0.reduce(0, +) }, [10, 10])
        let correct = zip(report.predictions, data.labels).filter { $0 == $1 }.count
        XCTAssertEqual(report.accuracy, Double(correct) / 20, accuracy: 1e-12)
        XCTAssertTrue(report.confidences.allSatisfy { $0 >= 0.5 && $0 <= 1 }, "the winner of two classes has p >= 0.5")

        try Evaluator.writeConfusion(report, to: folder, title: "bars")
        let csv = try String(contentsOfFile: folder + "/confusion.csv", encoding: .utf8)
        let rows = csv.split(separator: "\n").map { $0.split(separator: ",") }
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(rows[1].dropFirst().map { Int($0)! }, report.confusion[0])
        let image = try loadGrayImage(at: folder + "/confusion.png")
        XCTAssertGreaterThan(image.width, 100)

        let history = (1...3).map { EpochRecord(epoch: $0, trainLoss: 1 / Double($0), trainAccuracy: 0.5 + 0.1 * Double($0),
                                               validationLoss: 1.2 / Double($0), validationAccuracy: 0.45 + 0.1 * Double($0),
                                               learningRate: 1e-3, seconds: 1, imagesPerSecond: 100) }
        try Evaluator.writeCurves(history, to: folder + "/curves.png", title: "bars")
        let curves = try loadGrayImage(at: folder + "/curves.png")
        XCTAssertEqual(curves.height, 800)
        XCTAssertLessThan(curves.pixels.min()!, 0.5, "the plot has ink")
    }

    func testDataSplitsFromAFolderAreDisjointAndStableForASeed() throws {
        // 10 images per class as dark-on-light PNGs, the way users supply their own digits.
        for digit in 0..<10 {
            try FileManager.default.createDirectory(atPath: "\(folder!)/\(digit)", withIntermediateDirectories: true)
            for k in 0..<10 {
                var image = GrayImage(width: 28, height: 28, fill: 1)
                for y in 6..<22 { for x in (4 + digit)..<(8 + digit + k % 3) { image[x, y] = 0 } }
                try writePNG(image, to: "\(folder!)/\(digit)/\(k).png")
            }
        }
        let a = try DataSplits.load(sources: [folder], splitSeed: 3)
        XCTAssertEqual([a.train.count, a.validation.count, a.test.count], [70, 20, 10])
        XCTAssertEqual(a.test.classCounts, [Int](repeating: 1, count: 10), "stratified by class")
        let b = try DataSplits.load(sources: [folder], splitSeed: 3)
        XCTAssertEqual(a.test.origins, b.test.origins)
        XCTAssertTrue(Set(a.train.origins).isDisjoint(with: a.test.origins))
        XCTAssertTrue(Set(a.validation.origins).isDisjoint(with: a.test.origins))
        let c = try DataSplits.load(sources: [folder], splitSeed: 4)
        XCTAssertNotEqual(a.test.origins, c.test.origins)
        XCTAssertThrowsError(try DataSplits.load(sources: [folder + "/missing"], splitSeed: 3)) { error in
            XCTAssertTrue("\(error)".contains("missing"), "\(error)")
        }
    }
}

final class StationHoldoutTests: XCTestCase {
    /// Leave-one-station-out: the held-out station's digits are the whole test part and appear
    /// nowhere else.
    func testHeldOutStationIsTheTestPartOnly() throws {
        let root = ShippedModelTests.repositoryRoot.appendingPathComponent("../shared/data/digits").standardized.path
        let truth = URL(fileURLWithPath: root).deletingLastPathComponent()
            .appendingPathComponent("archival/meteosaver-dev/truth.csv").path
        guard FileManager.default.fileExists(atPath: truth) else { throw XCTSkip("../shared is absent") }
        let splits = try DataSplits.load(sources: ["meteosaver"], splitSeed: 1, dataRoot: root, holdoutStation: "508")
        func stations(_ d: DigitDataset) -> Set<String> {
            Set(d.origins.map { String($0.split(separator: ":")[1].prefix(3)) })
        }
        XCTAssertEqual(stations(splits.test), ["508"])
        XCTAssertFalse(stations(splits.train).contains("508"))
        XCTAssertFalse(stations(splits.validation).contains("508"))
        XCTAssertEqual(stations(splits.train), ["203", "209", "501"])
        XCTAssertGreaterThan(splits.test.count, 300)
        XCTAssertThrowsError(try DataSplits.load(sources: ["meteosaver"], splitSeed: 1, dataRoot: root, holdoutStation: "999"))
    }
}
