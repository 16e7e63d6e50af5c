import ArgumentParser
import Foundation
import NeuralNet

struct Average: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Average the weights of digit models fine-tuned from one model with different seeds (a model soup).",
        discussion: """
            The members must be fine-tuned from the same model: averaging models trained from different random \
            starts gives a model that reads nothing. Calibrate the result (`logbook calibrate`) before use.
            """)

    @Option(name: .customLong("model"), help: "A member's model file; give two or more.") var models: [String]
    @Option(help: "File to write.") var out: String
    @Option(help: "Tensor type to store: f32 or f16.") var dtype: String = "f32"

    func validate() throws {
        guard models.count >= 2 else { throw ValidationError("give at least two --model files to average") }
        _ = try SafeTensors.DType(option: dtype)
    }

    func run() throws {
        let members = try models.map { try ResNet.load(path: $0) }
        let averaged = try ResNet.averaging(members, names: models)
        try averaged.save(to: out, dtype: try SafeTensors.DType(option: dtype),
                          metadata: ["logbook.averaged_from": models.joined(separator: ","),
                                     "logbook.members": "\(models.count)"])
        print("wrote \(out): the mean of \(models.count) models (\(models.joined(separator: ", ")))")
    }
}
