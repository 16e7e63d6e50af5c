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
        guard ["f32", "f16"].contains(dtype) else { throw ValidationError("--dtype must be f32 or f16") }
    }

    func run() throws {
        let file = try SafeTensors.read(path: model)
        var metadata = file.metadata
        metadata["logbook.converted_from"] = URL(fileURLWithPath: model).lastPathComponent
        if file.metadata[CRNN.configMetadataKey] != nil {
            try CRNN.load(path: model).save(to: out, dtype: dtype == "f16" ? .f16 : .f32, metadata: metadata)
        } else {
            try ResNet.load(path: model).save(to: out, dtype: dtype == "f16" ? .f16 : .f32, metadata: metadata)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        print("wrote \(out) (\(dtype), \(size / 1024) KiB)")
    }
}
