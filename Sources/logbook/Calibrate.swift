import ArgumentParser
import Foundation
import Imaging
import NeuralNet
import Recognition

struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit a softmax temperature on held-out digits so that confidences match accuracy, and store it in the model file.",
        discussion: """
            Fits T minimising the negative log-likelihood of softmax(logits / T) on --subset (never \
            on the test split, which is only reported), prints NLL and expected calibration error \
            (15 bins) before and after, writes the model with the metadata key logbook.temperature \
            (in its float type) to --out or in place, and reliability.png into --report. \
            evaluate-cells and CellReader(modelPath:) apply the stored temperature.
            """)

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @Option(help: "Model file (.safetensors).") var model: String
    @Option(help: "Which part of the data to fit on: validation or train (test is never fitted on).")
    var subset: String = "validation"
    @Option(help: "File to write the calibrated model to (default: rewrite --model in place).") var out: String?
    @Option(help: "Folder for reliability.png.") var report: String = "out/calibrate"
    @Option(help: "Confidence bins for ECE and the reliability diagram.") var bins: Int = 15

    func validate() throws {
        guard ["validation", "train"].contains(subset) else {
            throw ValidationError("--subset must be validation or train (the test split is for reporting only)")
        }
        guard bins >= 1 && bins <= 100 else { throw ValidationError("--bins must be between 1 and 100") }
    }

    func run() throws {
        compute.apply()
        let network = try ResNet.load(path: model)
        let classes = network.config.classes
        let splits = try data.load()
        let fitSet = subset == "train" ? splits.train : splits.validation
        guard !fitSet.isEmpty else { throw ValidationError("the \(subset) split is empty") }
        if let stored = try Calibration.temperature(ofModelAt: model) {
            print(String(format: "%@ already carries T = %.4f; fitting afresh on raw logits", model, Double(stored)))
        }

        let fitLogits = Calibration.collectLogits(model: network, dataset: fitSet)
        let temperature = Calibration.fitTemperature(logits: fitLogits, labels: fitSet.labels, classes: classes)
        print(String(format: "fitted on %@ (%d images): T = %.4f", subset, fitSet.count, Double(temperature)))

        var panels: [(title: String, bins: [Calibration.ReliabilityBin])] = []
        func show(_ name: String, _ set: DigitDataset, logits: [Float]) {
            let before = Calibration.summary(logits: logits, labels: set.labels, classes: classes, temperature: 1, bins: bins)
            let after = Calibration.summary(logits: logits, labels: set.labels, classes: classes, temperature: temperature, bins: bins)
            print(String(format: "  %@ (%d, accuracy %.2f%%): NLL %.4f -> %.4f, ECE %.4f -> %.4f, mean confidence %.4f -> %.4f",
                         name, set.count, before.accuracy * 100, before.negativeLogLikelihood, after.negativeLogLikelihood,
                         before.expectedCalibrationError, after.expectedCalibrationError,
                         before.meanConfidence, after.meanConfidence))
            for (label, t) in [("T = 1", Float(1)), (String(format: "T = %.2f", Double(temperature)), temperature)] {
                let scored = Calibration.confidences(logits: logits, labels: set.labels, classes: classes, temperature: t)
                panels.append(("\(name), \(label)",
                               Calibration.reliability(confidences: scored.confidences, correct: scored.correct, bins: bins)))
            }
        }
        show(subset, fitSet, logits: fitLogits)
        if !splits.test.isEmpty {
            show("test (not fitted)", splits.test, logits: Calibration.collectLogits(model: network, dataset: splits.test))
        }

        let destination = out ?? model
        try Calibration.writeModel(from: model, to: destination, temperature: temperature)
        print("wrote \(destination) (\(try Calibration.storedFloatType(ofFileAt: destination).rawValue), \(Calibration.temperatureMetadataKey) = \(String(format: "%.6g", Double(temperature))))")

        try FileManager.default.createDirectory(atPath: report, withIntermediateDirectories: true)
        try writePNG(Calibration.renderReliability(panels: panels), to: report + "/reliability.png")
        print("wrote \(report)/reliability.png")
    }
}
