import Foundation
import Imaging
import NeuralNet
import XCTest
@testable import Recognition

final class CalibrationTests: RecognitionTestCase {
    /// Deterministic xorshift generator so the synthetic sets are the same on every run.
    private struct Generator {
        var state: UInt64
        mutating func next() -> Double {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Double(state >> 11) / Double(1 << 53)
        }
        mutating func normal() -> Double {
            let u = max(next(), 1e-12), v = next()
            return sqrt(-2 * log(u)) * cos(2 * .pi * v)
        }
    }

    func testFitRecoversAKnownTemperature() {
        let n = 4000, classes = 10
        var random = Generator(state: 0x9E3779B97F4A7C15)
        var logits: [Float] = [], labels: [Int] = []
        for _ in 0..<n {
            let trueLogits = (0..<classes).map { _ in 2 * random.normal() }
            let m = trueLogits.max()!
            let weights = trueLogits.map { exp($0 - m) }
            var u = random.next() * weights.reduce(0, +), label = classes - 1
            for (c, w) in weights.enumerated() {
                if u < w { label = c; break }
                u -= w
            }
            labels.append(label)
            logits += trueLogits.map { Float($0 * 3) }
        }
        let t = Calibration.fitTemperature(logits: logits, labels: labels, classes: classes)
        XCTAssertEqual(t, 3, accuracy: 0.3)
        let atFit = Calibration.negativeLogLikelihood(logits: logits, labels: labels, classes: classes, temperature: t)
        for other: Float in [1, 2, 4, 8] {
            XCTAssertLessThanOrEqual(atFit, Calibration.negativeLogLikelihood(logits: logits, labels: labels, classes: classes,
                                                                             temperature: other))
        }
        let before = Calibration.summary(logits: logits, labels: labels, classes: classes)
        let after = Calibration.summary(logits: logits, labels: labels, classes: classes, temperature: t)
        XCTAssertLessThan(after.expectedCalibrationError, before.expectedCalibrationError / 2)
        XCTAssertEqual(after.accuracy, before.accuracy, "temperature never changes the predicted class")
        XCTAssertEqual(Calibration.fitTemperature(logits: logits, labels: labels, classes: classes), t, "deterministic")
    }

    func testExpectedCalibrationError() {
        // Perfectly calibrated bins: confidence 0.75 with 3 of 4 right, 0.5 with 1 of 2 right.
        let confidences: [Float] = [0.75, 0.75, 0.75, 0.75, 0.5, 0.5]
        let correct = [true, true, true, false, true, false]
        XCTAssertEqual(Calibration.expectedCalibrationError(confidences: confidences, correct: correct), 0, accuracy: 1e-9)

        // Hand-made: bin [0.9, 1.0] holds 0.95 x 4 with 2 right (gap 0.45); bin [0.6, 0.7) holds 0.6 x 1 right (gap 0.4).
        let ece = Calibration.expectedCalibrationError(confidences: [0.95, 0.95, 0.95, 0.95, 0.6],
                                                       correct: [true, true, false, false, true], bins: 10)
        XCTAssertEqual(ece, 4.0 / 5 * 0.45 + 1.0 / 5 * 0.4, accuracy: 1e-6)

        let table = Calibration.reliability(confidences: [1.0, 0.0, 0.05], correct: [true, false, true], bins: 10)
        XCTAssertEqual(table.count, 10)
        XCTAssertEqual(table[9].count, 1, "confidence 1 goes in the last bin")
        XCTAssertEqual(table[0].count, 2)
        XCTAssertEqual(table[0].accuracy, 0.5)
        XCTAssertEqual(table[0].meanConfidence, 0.025, accuracy: 1e-6)
        XCTAssertTrue(table[5].meanConfidence.isNaN && table[5].count == 0)
    }

    func testTemperatureMetadataRoundTripKeepsFloat16() throws {
        let model = ResNet(config: ModelConfig(architecture: .resnet18, width: 0.0625, classes: 10), seed: 1)
        let plain = path("plain.safetensors"), calibrated = path("calibrated.safetensors")
        try model.save(to: plain, dtype: .f16, metadata: ["note": "kept"])
        XCTAssertNil(try Calibration.temperature(ofModelAt: plain))
        XCTAssertEqual(try Calibration.storedFloatType(ofFileAt: plain), .f16)

        try Calibration.writeModel(from: plain, to: calibrated, temperature: 1.6183)
        XCTAssertEqual(try Calibration.temperature(ofModelAt: calibrated)!, 1.6183, accuracy: 1e-5)
        XCTAssertEqual(try Calibration.storedFloatType(ofFileAt: calibrated), .f16)
        XCTAssertEqual(try SafeTensors.read(path: calibrated).metadata["note"], "kept")
        XCTAssertEqual(try ResNet.load(path: calibrated).stateDict().map(\.tensor),
                       try ResNet.load(path: plain).stateDict().map(\.tensor), "weights unchanged")

        try Calibration.writeModel(from: calibrated, temperature: 2.5)   // in place
        XCTAssertEqual(try Calibration.temperature(ofModelAt: calibrated), 2.5)
        XCTAssertEqual(try Calibration.storedFloatType(ofFileAt: calibrated), .f16)

        let float32 = path("f32.safetensors")
        try model.save(to: float32, dtype: .f32)
        try Calibration.writeModel(from: float32, temperature: 0.5)
        XCTAssertEqual(try Calibration.storedFloatType(ofFileAt: float32), .f32)
        XCTAssertNil(Calibration.temperature(metadata: [Calibration.temperatureMetadataKey: "-1"]))
    }

    func testCellReaderAppliesTheTemperature() throws {
        let model = ResNet(config: ModelConfig(architecture: .resnet18, width: 0.0625, classes: 10), seed: 3)
        let state = Dictionary(uniqueKeysWithValues: model.namedState())
        state["fc.weight"]!.value.fill(0)
        var bias = Tensor(zeros: [10])
        bias.data[4] = log(9 * 0.8 / 0.2)   // softmax probability 0.8 for digit 4
        state["fc.bias"]!.value = bias

        var canvas = GrayImage(width: 60, height: 60, fill: 1)
        for y in 12..<48 { for x in 22..<30 { canvas.pixels[y * 60 + x] = 0 } }   // a "1"
        let plain = CellReader(model: model).read(cells: [canvas])[0]
        let warm = CellReader(model: model, settings: CellReaderSettings(temperature: 2)).read(cells: [canvas])[0]
        XCTAssertEqual(plain.confidence, 0.8, accuracy: 1e-4)
        XCTAssertEqual(warm.digits.first?.digit, plain.digits.first?.digit)
        XCTAssertLessThan(warm.confidence, plain.confidence)
        let l = Float(log(9 * 0.8 / 0.2)) / 2
        XCTAssertEqual(warm.confidence, exp(l) / (exp(l) + 9), accuracy: 1e-4)

        // From a model file carrying a temperature.
        let file = path("warm.safetensors")
        try model.save(to: file, metadata: [Calibration.temperatureMetadataKey: "2"])
        let fromFile = try CellReader(modelPath: file)
        XCTAssertEqual(fromFile.settings.temperature, 2)
        XCTAssertEqual(fromFile.read(cells: [canvas])[0].confidence, warm.confidence, accuracy: 1e-4)
        try model.save(to: file)
        XCTAssertEqual(try CellReader(modelPath: file).settings.temperature, 1)
    }
}
