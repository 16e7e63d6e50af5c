import ArgumentParser
import Foundation
import NeuralNet

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite a model file, e.g. in float16 to ship it at half the size.")

    @Option(help: "Model file to read.") var model: String
    @Option(help: "File to write.") var out: String
    @Option(help: "Tensor type to store: f32 or f16.") var dtype: String = "f16"

    func validate() throws {
        _ = try SafeTensors.DType(option: dtype)
    }

    func run() throws {
        let stored = try SafeTensors.DType(option: dtype)
        let file = try SafeTensors.read(path: model)
        var metadata = file.metadata
        metadata["logbook.converted_from"] = URL(fileURLWithPath: model).lastPathComponent
        if file.metadata[CRNN.configMetadataKey] != nil {
            try CRNN.load(path: model).save(to: out, dtype: stored, metadata: metadata)
        } else {
            try ResNet.load(path: model).save(to: out, dtype: stored, metadata: metadata)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        print("wrote \(out) (\(dtype), \(size / 1024) KiB)")
    }
}

extension SafeTensors.DType {
    /// The `--dtype` of a command that writes a model file: f32 or f16.
    init(option name: String) throws {
        switch name {
        case "f32": self = .f32
        case "f16": self = .f16
        default: throw ValidationError("--dtype must be f32 or f16")
        }
    }
}
