import Foundation
import XCTest
import NeuralNet
@testable import Recognition

/// The model in models/ loads as the pipeline will load it and still reads held-out digits.
final class ShippedModelTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    func testShippedModelReadsHeldOutDigits() throws {
        let modelPath = Self.repositoryRoot.appendingPathComponent("models/logbook-digits.safetensors").path
        let dataRoot = Self.repositoryRoot.appendingPathComponent("../shared/data/digits").standardized.path
        guard FileManager.default.fileExists(atPath: dataRoot + "/t10k-images-idx3-ubyte.gz") else {
            throw XCTSkip("../shared/data/digits is absent")
        }
        Threads.set(2)
        let model = try ResNet.load(path: modelPath)
        XCTAssertEqual(model.config.classes, 10)
        let splits = try DataSplits.load(sources: ["standard"], splitSeed: 2024, dataRoot: dataRoot)
        // Every fifth test image keeps the debug build quick.
        let sample = splits.test.subset(Array(stride(from: 0, to: splits.test.count, by: 5)))
        let report = Evaluator.evaluate(model: model, dataset: sample)
        XCTAssertGreaterThanOrEqual(report.accuracy, 0.985, "shipped model on \(sample.count) held-out digits")
    }
}
