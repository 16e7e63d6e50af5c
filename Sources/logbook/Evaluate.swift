import ArgumentParser
import Foundation
import NeuralNet
import Recognition

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accuracy of a model on labelled digits: overall, per class, and a confusion matrix (CSV and PNG).")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @Option(help: "Model file (.safetensors).") var model: String
    @Option(help: "Which part of the data: test, validation, train or all.") var subset: String = "test"
    @Option(help: "Folder for confusion.csv, confusion.png and, when the model comes from a training run, curves.png.")
    var out: String = "out/evaluate"

    func validate() throws {
        guard ["test", "validation", "train", "all"].contains(subset) else {
            throw ValidationError("--subset must be test, validation, train or all")
        }
    }

    func run() throws {
        compute.apply()
        let network = try ResNet.load(path: model)
        let splits = try data.load()
        let dataset: DigitDataset
        switch subset {
        case "validation": dataset = splits.validation
        case "train": dataset = splits.train
        case "all": dataset = splits.train + splits.validation + splits.test
        default: dataset = splits.test
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let report = Evaluator.evaluate(model: network, dataset: dataset)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(String(format: "%@ on %@ (%@ split, %d images): accuracy %.2f%% (%d wrong), %.0f images/s",
                     model, data.sources.joined(separator: "+"), subset, report.count, report.accuracy * 100,
                     report.count - Int((report.accuracy * Double(report.count)).rounded()), Double(report.count) / seconds))
        for (digit, accuracy) in report.perClassAccuracy.enumerated() {
            print(String(format: "  %d: %.2f%% of %d", digit, accuracy * 100, report.confusion[digit].reduce(0, +)))
        }
        try Evaluator.writeConfusion(report, to: out, title: "\(network.config.architecture.rawValue): \(subset)")
        let historyPath = URL(fileURLWithPath: model).deletingLastPathComponent().appendingPathComponent("history.json").path
        if let data = FileManager.default.contents(atPath: historyPath),
           let history = try? JSONDecoder().decode([EpochRecord].self, from: data) {
            try Evaluator.writeCurves(history, to: out + "/curves.png", title: network.config.architecture.rawValue)
        }
        print("wrote \(out)/confusion.csv and confusion.png")
    }
}
