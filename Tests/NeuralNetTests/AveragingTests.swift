import XCTest
@testable import NeuralNet

final class AveragingTests: XCTestCase {
    private let tiny = ModelConfig(architecture: .resnet18, blocks: [1, 1, 1, 1], width: 0.0625, inputSize: 32)

    func testTheAverageIsTheElementWiseMeanOfEveryTensor() throws {
        let models = [ResNet(config: tiny, seed: 1), ResNet(config: tiny, seed: 2), ResNet(config: tiny, seed: 3)]
        // Running statistics differ only once the models have trained; make them differ by hand.
        for (k, model) in models.enumerated() {
            for (name, parameter) in model.namedState() where name.hasSuffix("running_var") {
                parameter.value = Tensor(shape: parameter.value.shape,
                                         data: parameter.value.data.map { $0 + Float(k + 1) })
            }
        }
        let averaged = try ResNet.averaging(models)
        let states = models.map { Dictionary(uniqueKeysWithValues: $0.stateDict().map { ($0.name, $0.tensor) }) }
        var checked = 0
        for (name, tensor) in averaged.stateDict() {
            for i in tensor.data.indices {
                let mean = (states[0][name]!.data[i] + states[1][name]!.data[i] + states[2][name]!.data[i]) / 3
                XCTAssertEqual(tensor.data[i], mean, accuracy: 1e-6, "\(name)[\(i)]")
            }
            checked += tensor.count
        }
        XCTAssertEqual(checked, models[0].stateDict().reduce(0) { $0 + $1.tensor.count })
        // running_var: 1 + (1 + 2 + 3) / 3 = 3 from an initial variance of 1.
        let runningVar = averaged.stateDict().first { $0.name == "bn1.running_var" }!.tensor
        XCTAssertEqual(runningVar.data[0], 3, accuracy: 1e-6)
        XCTAssertNotEqual(averaged.stateDict()[0].tensor.data, models[0].stateDict()[0].tensor.data)
    }

    func testAModelAveragedWithItselfReadsTheSame() throws {
        let model = ResNet(config: tiny, seed: 5)
        var rng = RandomGenerator(seed: 9)
        let batch = Tensor(randomUniform: [4, 1, 32, 32], bound: 1, using: &rng)
        let averaged = try ResNet.averaging([model, model, model])
        let expected = model.forward(batch, training: false).data
        let read = averaged.forward(batch, training: false).data
        XCTAssertEqual(read.count, 4 * 10)
        for i in read.indices { XCTAssertEqual(read[i], expected[i], accuracy: 1e-5) }
    }

    func testModelsOfDifferentArchitecturesAreRefusedByName() {
        let wider = ModelConfig(architecture: .resnet18, blocks: [1, 1, 1, 1], width: 0.125, inputSize: 32)
        XCTAssertThrowsError(try ResNet.averaging([ResNet(config: tiny), ResNet(config: wider)],
                                                  names: ["a.safetensors", "b.safetensors"])) { error in
            XCTAssertTrue("\(error)".contains("b.safetensors"), "\(error)")
            XCTAssertTrue("\(error)".contains("architecture"), "\(error)")
        }
        XCTAssertThrowsError(try ResNet.averaging([]))
    }
}
