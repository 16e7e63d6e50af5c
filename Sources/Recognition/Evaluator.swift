import Foundation
import Imaging
import NeuralNet

/// How a model does on a labelled digit set: the paper's Table 1 and Fig. 9 material.
public struct EvaluationReport: Sendable {
    public var count: Int
    public var accuracy: Double
    public var loss: Double
    /// confusion[truth][prediction]
    public var confusion: [[Int]]
    public var predictions: [Int]
    /// The winning class's softmax probability per image.
    public var confidences: [Float]

    public var perClassAccuracy: [Double] {
        confusion.enumerated().map { truth, row in
            let total = row.reduce(0, +)
            return total == 0 ? .nan : Double(row[truth]) / Double(total)
        }
    }
}

public enum Evaluator {
    /// Runs the model in evaluation mode over the whole set in batches.
    public static func evaluate(model: ResNet, dataset: DigitDataset, lossKind: TrainingSettings.LossKind = .crossEntropy,
                                batchSize: Int = 256) -> EvaluationReport {
        let classes = model.config.classes
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var predictions: [Int] = []
        var confidences: [Float] = []
        var lossSum = 0.0
        var start = 0
        while start < dataset.count {
            let indices = Array(start..<min(dataset.count, start + batchSize))
            let logits = model.forward(dataset.tensor(for: indices), training: false)
            let targets = indices.map { dataset.labels[$0] }
            let loss = lossKind == .crossEntropy ? crossEntropyLoss(logits: logits, targets: targets)
                                                 : softmaxMSELoss(logits: logits, targets: targets)
            lossSum += Double(loss.loss) * Double(indices.count)
            let probabilities = softmax(logits)
            for (row, predicted) in logits.argmaxRows().enumerated() {
                predictions.append(predicted)
                confidences.append(probabilities.data[row * classes + predicted])
                if (0..<classes).contains(targets[row]) { confusion[targets[row]][predicted] += 1 }
            }
            start += batchSize
        }
        let correct = (0..<classes).reduce(0) { $0 + confusion[$1][$1] }
        return EvaluationReport(count: dataset.count, accuracy: Double(correct) / Double(max(1, dataset.count)),
                                loss: lossSum / Double(max(1, dataset.count)), confusion: confusion,
                                predictions: predictions, confidences: confidences)
    }

    /// `confusion.csv` (rows: truth, columns: prediction) and `confusion.png`, a heat map.
    public static func writeConfusion(_ report: EvaluationReport, to folder: String, title: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let labels = (0..<report.confusion.count).map(String.init)
        var csv = "truth\\predicted," + labels.joined(separator: ",") + "\n"
        for (truth, row) in report.confusion.enumerated() {
            csv += "\(truth)," + row.map(String.init).joined(separator: ",") + "\n"
        }
        try writeAtomically(Data(csv.utf8), to: folder + "/confusion.csv")
        let image = renderHeatMap(matrix: report.confusion, rowLabels: labels, columnLabels: labels,
                                  title: title, xLabel: "predicted", yLabel: "true")
        try writePNG(image, to: folder + "/confusion.png")
    }

    /// Loss and accuracy per epoch, training against validation (the paper's Figs 8-9).
    public static func writeCurves(_ history: [EpochRecord], to path: String, title: String) throws {
        guard !history.isEmpty else { return }
        let accuracy = renderLinePlot(series: [
            PlotSeries(name: "train accuracy", points: history.map { (Double($0.epoch), $0.trainAccuracy) },
                       color: RGBColor(red: 31, green: 119, blue: 180)),
            PlotSeries(name: "validation accuracy", points: history.map { (Double($0.epoch), $0.validationAccuracy) },
                       color: RGBColor(red: 214, green: 39, blue: 40)),
        ], title: title + " - accuracy", xLabel: "epoch", yLabel: "accuracy", width: 800, height: 400)
        let loss = renderLinePlot(series: [
            PlotSeries(name: "train loss", points: history.map { (Double($0.epoch), $0.trainLoss) },
                       color: RGBColor(red: 31, green: 119, blue: 180)),
            PlotSeries(name: "validation loss", points: history.map { (Double($0.epoch), $0.validationLoss) },
                       color: RGBColor(red: 214, green: 39, blue: 40)),
        ], title: title + " - loss", xLabel: "epoch", yLabel: "loss", width: 800, height: 400)
        // Stack the two plots into one picture.
        var combined = RGBImage(width: 800, height: 800)
        combined.pixels.replaceSubrange(0..<accuracy.pixels.count, with: accuracy.pixels)
        combined.pixels.replaceSubrange(accuracy.pixels.count..<(accuracy.pixels.count + loss.pixels.count), with: loss.pixels)
        try writePNG(combined, to: path)
    }
}
