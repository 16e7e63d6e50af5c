import ArgumentParser
import Foundation
import NeuralNet

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time training steps and inference of both models on random 64x64 batches.",
        discussion: "Writes the same JSON shape as benchmarks/peers.py; benchmarks/compare.py prints the ratios.")

    @OptionGroup var compute: ComputeOptions
    @Option(help: "Images per batch.") var batch: Int = 64
    @Option(help: "Seconds spent timing each model's training steps.") var seconds: Double = 15
    @Option(help: "Width multiplier of the networks.") var width: Double = 1
    @Option(help: "Write the results here as JSON.") var json: String?
    @Option(parsing: .upToNextOption, help: "Models to time.") var models: [String] = ["resnet18", "resnet18-lstm"]
    @Flag(help: "Time only the training steps (for profiling).") var onlyTraining = false
    @Flag(help: "Time only inference (for profiling).") var onlyInference = false
    @Flag(help: "Use im2col + GEMM for every convolution (to compare with the Winograd path).") var noWinograd = false

    func validate() throws {
        if onlyTraining && onlyInference { throw ValidationError("--only-training and --only-inference exclude each other") }
    }

    func run() throws {
        compute.apply()
        Conv2D.winogradEnabled = !noWinograd
        var results: [String: ModelBenchmark] = [:]
        for name in models {
            guard let architecture = ModelConfig.Architecture(rawValue: name) else {
                throw ValidationError("unknown model '\(name)'; choose resnet18 or resnet18-lstm")
            }
            let config = ModelConfig(architecture: architecture, width: width)
            let result = ModelBenchmark.measure(config: config, batch: batch, seconds: seconds,
                                                training: !onlyInference, inference: !onlyTraining)
            let gflop = ResNet(config: config).forwardFlopsPerImage / 1e9
            print(String(format: "%@: train step %.3f s (%.0f GFLOP/s), inference %.0f images/s (%.0f GFLOP/s); %.3f GFLOP per image, %d parameters, %d threads",
                         name, result.trainStepSeconds, 3 * gflop * Double(batch) / result.trainStepSeconds,
                         result.inferImagesPerSecond, gflop * result.inferImagesPerSecond, gflop, result.parameters, Threads.count))
            print(String(format: "  processor time: %.3f s per training step, %.3f s per inference batch",
                         result.trainStepCPUSeconds, result.inferBatchCPUSeconds))
            // The process's peak so far: for the first model, its training peak.
            var usage = rusage()
            getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
            print(String(format: "  peak memory so far: %.0f MiB", Double(usage.ru_maxrss) / 1024))
            results[name.replacingOccurrences(of: "-", with: "_")] = result
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            struct Output: Encodable { var peer = "logbook"; var threads: Int; var batch: Int; var models: [String: ModelBenchmark] }
            try writeAtomically(encoder.encode(Output(threads: Threads.count, batch: batch, models: results)), to: json)
        }
    }
}
